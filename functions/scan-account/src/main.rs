#![recursion_limit = "256"]
//! Lambda entry point: configuration and clients are built once at init;
//! each invocation scans the one account its Map item names.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use zw_lambda::org::OrgDeps;

#[tokio::main]
async fn main() -> Result<(), Error> {
    zw_lambda::init_logging();
    // A bad configuration fails init with every problem listed, before any event.
    let deps = OrgDeps::from_vars(std::env::vars()).await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let deps = deps.clone();
        async move { zw_lambda::org::scan_account(&deps, event).await }
    }))
    .await
}

#[cfg(test)]
mod tests {
    /// The sample Map item parses as the child's input.
    #[test]
    fn the_sample_map_item_is_a_job() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../events/org-scan-account.json"
        );
        let text = std::fs::read_to_string(path).expect("sample event");
        let job: zw_core::org::AccountJob = serde_json::from_str(&text).expect("a job");
        assert_eq!(job.account.id.len(), 12);
        assert!(!job.families.is_empty());
    }
}
