//! Lambda entry point: the Security Hub and table clients are built once at init; each
//! invocation runs `handler::handle` on one finding event.

use import_security_hub::handler::{self, Deps, FindingTable};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use zw_aws::{AwsOptions, load_sdk_config, with_timeouts};

#[tokio::main]
async fn main() -> Result<(), Error> {
    zw_lambda::init_logging();
    let sdk = with_timeouts(
        &load_sdk_config(&AwsOptions::default()).await,
        &zw_core::config::AwsTimeouts::default(),
    );
    // The table the events are checked against: without it nothing could
    // tell a forged event from ours, so init fails.
    let table = std::env::var("ZW_TABLE_NAME")
        .ok()
        .filter(|t| !t.is_empty())
        .ok_or("ZW_TABLE_NAME is not set: the findings table events are checked against (the template sets it)")?;
    let deps = Deps {
        table: FindingTable {
            client: aws_sdk_dynamodb::Client::new(&sdk),
            name: table,
        },
        client: aws_sdk_securityhub::Client::new(&sdk),
        // aws, aws-cn or aws-us-gov: the template passes ${AWS::Partition}.
        partition: std::env::var("ZW_PARTITION").unwrap_or_else(|_| "aws".into()),
        docs_base_url: std::env::var("ZW_DOCS_BASE_URL")
            .ok()
            .filter(|u| !u.is_empty()),
    };
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let deps = deps.clone();
        async move { handler::handle(&deps, event).await }
    }))
    .await
}
