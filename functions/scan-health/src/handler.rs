//! Event (a schedule, or a manual run) -> one scan of the health family -> summary.

use lambda_runtime::LambdaEvent;
use zw_lambda::event::{Batch, periodic};
use zw_lambda::{Deps, HandlerError, Summary};

pub async fn handle(
    deps: &Deps,
    event: LambdaEvent<serde_json::Value>,
) -> Result<Summary, HandlerError> {
    let batch = Batch::parse(&event.payload, periodic)?;
    let mut summary = zw_lambda::scan(
        deps,
        zw_lambda::scan_id(&event),
        batch.label(|t| t.clone()),
        Default::default(),
        zw_lambda::collection_deadline(&event),
    )
    .await?;
    summary.batch_item_failures = batch.refused;
    Ok(summary)
}
