//! What commands share before and after their own work: the SDK and `ZW_*`
//! configuration read as the Lambda reads them, the table's adapters, the
//! partition of `--account`, and the audit entry of a change.

use crate::args::AwsArgs;
use crate::exit::{CliError, usage};
use std::io::Write;
use zw_app::App;
use zw_aws::table::Partition;
use zw_aws::triage::{TableTriage, caller_identity};
use zw_aws::{AwsOptions, SdkConfig, load_sdk_config, with_timeouts};
use zw_core::org::AccountRef;
use zw_core::ports::Clock;
use zw_core::{Config, triage};

/// The SDK configuration and the `ZW_*` configuration, read as the Lambda
/// reads them: the region the profile or environment resolved counts as
/// AWS_REGION.
pub async fn load(
    aws: &AwsArgs,
    fallback_region: Option<String>,
) -> Result<(zw_aws::SdkConfig, Config), CliError> {
    let sdk = load_sdk_config(&AwsOptions {
        profile: aws.profile.clone(),
        fallback_region,
        endpoint_url: aws.endpoint_url.clone(),
    })
    .await;
    let mut vars: Vec<(String, String)> = std::env::vars().collect();
    if let Some(r) = sdk.region() {
        vars.push(("AWS_REGION".into(), r.to_string()));
    }
    let cfg = Config::from_vars(vars).map_err(|e| CliError::Usage(e.to_string()))?;
    Ok((sdk, cfg))
}

/// Configuration and the table's adapters, for the commands that only read
/// or maintain the table.
pub async fn central(aws: &AwsArgs, table: &Option<String>) -> Result<App, CliError> {
    central_sdk(aws, table).await.map(|(app, _)| app)
}

/// `central`, with the SDK configuration it was built from (for STS).
pub async fn central_sdk(
    aws: &AwsArgs,
    table: &Option<String>,
) -> Result<(App, SdkConfig), CliError> {
    let (sdk, mut cfg) = crate::session::load(aws, None).await?;
    if let Some(t) = table {
        cfg.common.table_name = Some(t.clone());
    }
    if cfg.common.table_name.is_none() {
        return Err(usage(
            "no findings table: pass --table NAME or set ZW_TABLE_NAME",
        ));
    }
    let sdk = with_timeouts(&sdk, &cfg.common.aws_timeouts);
    let app = App::new(cfg, &sdk, &[]).map_err(usage)?;
    Ok((app, sdk))
}

/// `--account ID`: that member account's partition; none: the deployment's.
pub fn partition_of(account: Option<&String>) -> Result<Partition, CliError> {
    match account {
        Some(id) => Ok(Partition::account(
            AccountRef::new(id.clone(), "").map_err(usage)?,
        )),
        None => Ok(Partition::single()),
    }
}

/// Appends one entry for a command a person ran (`license-check`,
/// `table-migrate`) to the audit log, as that person. A failure is a
/// warning: the command itself is done.
pub async fn audit_action(
    app: &zw_app::App,
    sdk: &zw_aws::SdkConfig,
    action: &str,
    target: String,
    after: Option<serde_json::Value>,
) -> Result<(), CliError> {
    let Some(store) = app.services.store.clone() else {
        return Ok(());
    };
    let written = async {
        let actor = caller_identity(sdk).await?;
        let entry = triage::AuditEntry {
            at: zw_aws::SystemClock.now(),
            actor,
            action: action.to_owned(),
            target,
            before: None,
            after,
        };
        TableTriage::new(store, app.config.common.audit_retention_days)
            .record(&entry)
            .await
    };
    if let Err(e) = written.await {
        writeln!(
            std::io::stderr().lock(),
            "warning: the audit entry ({action}) was not written: {e}"
        )?;
    }
    Ok(())
}
