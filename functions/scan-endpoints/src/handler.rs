//! Event (a schedule, or a manual run) -> one scan of the endpoints and IAM
//! server certificate families (or, on the mail schedule, of the mail
//! family) -> summary.

use crate::event;
use lambda_runtime::LambdaEvent;
use zw_lambda::{Deps, HandlerError, Summary};

pub async fn handle(
    deps: &Deps,
    event: LambdaEvent<serde_json::Value>,
) -> Result<Summary, HandlerError> {
    zw_lambda::selected_scan(
        deps,
        event,
        event::parse,
        event::Trigger::families,
        event::Trigger::label,
    )
    .await
}
