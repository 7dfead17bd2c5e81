//! Event (one, or an SQS batch of them) -> one scan of the DNS family ->
//! summary. A batch's change events name every zone they changed.

use crate::event;
use lambda_runtime::LambdaEvent;
use zw_lambda::event::Batch;
use zw_lambda::{Deps, HandlerError, Summary};

pub async fn handle(
    deps: &Deps,
    event: LambdaEvent<serde_json::Value>,
) -> Result<Summary, HandlerError> {
    let batch = Batch::parse(&event.payload, event::parse)?;
    let changed_zones = batch
        .triggers
        .iter()
        .flat_map(event::Trigger::changed_zones)
        .collect();
    let mut summary = zw_lambda::scan(
        deps,
        zw_lambda::scan_id(&event),
        batch.label(event::Trigger::label),
        changed_zones,
        zw_lambda::collection_deadline(&event),
        zw_lambda::invocation_end(&event),
        None,
    )
    .await?;
    summary.batch_item_failures = batch.refused;
    Ok(summary)
}
