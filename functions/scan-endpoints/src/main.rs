#![recursion_limit = "256"]
//! Lambda entry point: configuration and adapters are built once at init;
//! each invocation runs `handler::handle`.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use scan_endpoints::handler;
use zw_app::FamilyKind;
use zw_lambda::Deps;

#[tokio::main]
async fn main() -> Result<(), Error> {
    zw_lambda::init_logging();
    // A bad configuration fails init with every problem listed, before any event.
    // IAM server certificates scan here: what serves them is the listing
    // of load balancers and distributions this function already links. The
    // mail family too (its own schedule): it resolves names and fetches
    // MTA-STS policies with the resolver and TLS client linked here. The
    // CT watch (when ZW_CT_SEARCH_URL is set) on the same daily schedule:
    // its one HTTPS search per apex and CAA lookups need nothing more.
    let deps = Deps::from_vars(
        std::env::vars(),
        &[
            FamilyKind::ENDPOINTS,
            FamilyKind::IAM_CERTIFICATES,
            FamilyKind::MAIL,
            FamilyKind::CT,
        ],
    )
    .await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let deps = deps.clone();
        async move { handler::handle(&deps, event).await }
    }))
    .await
}
