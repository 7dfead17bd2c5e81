//! Event (the hourly schedule, or a manual run) -> one scan of the
//! query-logs family -> summary. Each run reads the query logs written since
//! the previous one (the family keeps its read marks in the table).

use lambda_runtime::LambdaEvent;
use zw_lambda::{Deps, HandlerError, Summary};

pub async fn handle(
    deps: &Deps,
    event: LambdaEvent<serde_json::Value>,
) -> Result<Summary, HandlerError> {
    zw_lambda::periodic_scan(deps, event).await
}

#[cfg(test)]
mod tests {
    /// What starts this function: the schedule's event and a manual run
    /// (`events/schedule.json`, `events/manual.json`), each one scan.
    #[test]
    fn the_schedule_and_a_manual_run_are_accepted() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events");
        for name in ["schedule.json", "manual.json"] {
            let text = std::fs::read_to_string(format!("{dir}/{name}"))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let value: serde_json::Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            let batch = zw_lambda::event::Batch::parse(&value, zw_lambda::event::periodic)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(batch.refused.is_empty(), "{name}: {batch:?}");
            assert_eq!(batch.triggers.len(), 1, "{name}: {batch:?}");
        }
    }
}
