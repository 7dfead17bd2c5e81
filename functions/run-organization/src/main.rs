#![recursion_limit = "256"]
//! Lambda entry point: configuration and clients are built once at init;
//! each invocation lists a run's accounts or summarizes a run.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use zw_lambda::org::OrgDeps;

#[tokio::main]
async fn main() -> Result<(), Error> {
    zw_lambda::init_logging();
    let deps = OrgDeps::from_vars(std::env::vars()).await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let deps = deps.clone();
        async move { zw_lambda::org::run_organization(&deps, event).await }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use zw_lambda::org::OrgAction;

    fn sample(name: &str) -> serde_json::Value {
        let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).expect("sample event")).expect("JSON")
    }

    /// Both sample steps parse; the schedule's execution input is a run request.
    #[test]
    fn the_sample_steps_parse() {
        let list: OrgAction =
            serde_json::from_value(sample("org-list-accounts.json")).expect("list");
        assert!(
            matches!(list, OrgAction::ListAccounts { ref request } if request.families == ["dns"])
        );
        let sum: OrgAction =
            serde_json::from_value(sample("org-summarize.json")).expect("summarize");
        assert!(matches!(sum, OrgAction::Summarize { ref run } if !run.accounts.is_empty()));
        let input: zw_core::org::RunRequest =
            serde_json::from_value(sample("org-schedule-input.json")).expect("execution input");
        assert_eq!(input.families, ["dns"]);
    }
}
