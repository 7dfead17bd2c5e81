#![recursion_limit = "256"]
//! Lambda entry point: configuration and AWS clients are built once at init;
//! each invocation runs `handler::handle`.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use scan_certificates::handler;
use zw_app::FamilyKind;
use zw_lambda::Deps;

#[tokio::main]
async fn main() -> Result<(), Error> {
    zw_lambda::init_logging();
    // A bad configuration fails init with every problem listed, before any event.
    // The private CAs scan with the certificates; the domain registrations
    // ride along on a daily schedule of their own
    // (`event::Trigger::families`).
    let deps = Deps::from_vars(
        std::env::vars(),
        &[
            FamilyKind::CERTIFICATES,
            FamilyKind::PRIVATE_CA,
            FamilyKind::DOMAINS,
        ],
    )
    .await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let deps = deps.clone();
        async move { handler::run(&deps, event).await }
    }))
    .await
}
