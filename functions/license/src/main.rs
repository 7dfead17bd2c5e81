//! Lambda entry point: configuration and adapters are built once at init;
//! each invocation runs `handler::handle`. A bad configuration does not end
//! the process: the runtime still starts and answers CloudFormation's
//! custom resource requests (`startup`), so a deploy never waits on it.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use license::startup::Service;

#[tokio::main]
async fn main() -> Result<(), Error> {
    zw_lambda::init_logging();
    let service = Service::init(std::env::vars()).await;
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let service = service.clone();
        async move { service.handle(event).await }
    }))
    .await
}
