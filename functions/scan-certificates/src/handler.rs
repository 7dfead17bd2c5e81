//! Event -> scan of the certificate family -> summary.

use crate::event;
use lambda_runtime::LambdaEvent;
use std::collections::BTreeSet;
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
        BTreeSet::new(),
        zw_lambda::collection_deadline(&event),
    )
    .await
}
