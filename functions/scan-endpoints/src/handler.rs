//! Event (a schedule, or a manual run) -> one scan of the endpoints family -> summary.

use lambda_runtime::LambdaEvent;
use zw_lambda::{Deps, HandlerError, Summary};

pub async fn handle(
    deps: &Deps,
    event: LambdaEvent<serde_json::Value>,
) -> Result<Summary, HandlerError> {
    zw_lambda::periodic_scan(deps, event).await
}
