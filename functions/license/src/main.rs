//! Lambda entry point: configuration and adapters are built once at init;
//! each invocation runs `handler::handle`.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use license::handler;
use zw_lambda::Deps;

#[tokio::main]
async fn main() -> Result<(), Error> {
    zw_lambda::init_logging();
    // No scan family: this function reads the table, reads the key from SSM
    // and talks to the vendor; a bad configuration fails init.
    let deps = Deps::from_vars(std::env::vars(), &[]).await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let deps = deps.clone();
        async move { handler::handle(&deps, event).await }
    }))
    .await
}
