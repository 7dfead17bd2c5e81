//! Event (a schedule, or a manual run) -> one scan of the endpoints and IAM
//! server certificate families (or, on the mail schedule, of the mail
//! family) -> summary.

use crate::event;
use lambda_runtime::LambdaEvent;
use std::collections::BTreeSet;
use zw_lambda::event::Batch;
use zw_lambda::{Deps, HandlerError, Summary};

pub async fn handle(
    deps: &Deps,
    event: LambdaEvent<serde_json::Value>,
) -> Result<Summary, HandlerError> {
    let batch = Batch::parse(&event.payload, event::parse)?;
    let mut only: Vec<zw_app::FamilyKind> = batch
        .triggers
        .iter()
        .flat_map(event::Trigger::families)
        .copied()
        .collect();
    only.sort();
    only.dedup();
    let mut summary = zw_lambda::scan(
        deps,
        zw_lambda::scan_id(&event),
        batch.label(event::Trigger::label),
        BTreeSet::new(),
        zw_lambda::collection_deadline(&event),
        zw_lambda::invocation_end(&event),
        Some(only),
    )
    .await?;
    summary.batch_item_failures = batch.refused;
    Ok(summary)
}
