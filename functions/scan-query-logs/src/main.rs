#![recursion_limit = "256"]
//! Lambda entry point: configuration and adapters are built once at init;
//! each invocation runs `handler::handle`.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use scan_query_logs::handler;
use zw_app::FamilyKind;
use zw_lambda::Deps;

#[tokio::main]
async fn main() -> Result<(), Error> {
    zw_lambda::init_logging();
    // A bad configuration fails init with every problem listed, before any event.
    let deps = Deps::from_vars(std::env::vars(), &[FamilyKind::QUERY_LOGS]).await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let deps = deps.clone();
        async move { handler::handle(&deps, event).await }
    }))
    .await
}
