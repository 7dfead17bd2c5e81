//! Event -> scan of the DNS family -> summary.

use crate::event;
use lambda_runtime::LambdaEvent;
use zw_lambda::{Deps, HandlerError, Summary};

pub async fn handle(
    deps: &Deps,
    event: LambdaEvent<serde_json::Value>,
) -> Result<Summary, HandlerError> {
    let trigger = event::parse(&event.payload)?;
    zw_lambda::scan(
        deps,
        zw_lambda::scan_id(&event),
        trigger.label(),
        trigger.changed_zones(),
        zw_lambda::collection_deadline(&event),
    )
    .await
}
