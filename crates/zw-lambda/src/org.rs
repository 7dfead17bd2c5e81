//! The organization state machine's Lambda steps (template.yaml,
//! `OrganizationStateMachine`): `run-organization` lists the accounts and
//! summarizes the run, `scan-account` is the Distributed Map's child.

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::Deserialize;
use std::sync::Arc;
use zw_app::org::{AccountScanner, OrgError};
use zw_aws::metrics::EmfSink;
use zw_aws::org::{AccountRegistry, OrganizationLister, RoleAssumer};
use zw_aws::usage::ApiCallCounter;
use zw_aws::{AwsOptions, SdkConfig, load_sdk_config, with_timeouts};
use zw_core::Config;
use zw_core::config::ConfigErrors;
use zw_core::org::{AccountJob, AccountList, AccountResult, OrgSummary, Outcome, RunRequest};
use zw_core::ports::{Clock, MetricSink};

/// What both steps need, built once at init.
#[derive(Debug, Clone)]
pub struct OrgDeps {
    pub config: Arc<Config>,
    /// The deployment's own credentials (the central account).
    pub sdk: SdkConfig,
    pub registry: AccountRegistry,
    /// STS and Organizations clients, built once at init like every other.
    pub assumer: RoleAssumer,
    pub lister: OrganizationLister,
    pub metrics: EmfSink,
}

impl OrgDeps {
    /// Reads `ZW_*` once; the table and the member role name are required.
    pub async fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigErrors> {
        let config = Config::from_vars(vars)?;
        let sdk = with_timeouts(
            &load_sdk_config(&AwsOptions::default()).await,
            &config.common.aws_timeouts,
        );
        Self::with_sdk(config, sdk, EmfSink::stdout())
    }

    pub fn with_sdk(
        config: Config,
        sdk: SdkConfig,
        metrics: EmfSink,
    ) -> Result<Self, ConfigErrors> {
        let mut missing = Vec::new();
        if config.common.table_name.is_none() {
            missing.push("ZW_TABLE_NAME: required in organization mode (the SAM template sets it to the findings table)".to_owned());
        }
        if config.org.member_role_name.is_none() {
            missing.push("ZW_ORG_MEMBER_ROLE_NAME: required in organization mode (the template's MemberRoleName)".to_owned());
        }
        let Some(table) = config.common.table_name.clone() else {
            return Err(ConfigErrors(missing));
        };
        if !missing.is_empty() {
            return Err(ConfigErrors(missing));
        }
        // One DynamoDB client: the store's, built the usual way.
        let calls = ApiCallCounter::default();
        let store = zw_aws::store::DynamoStore::new(
            &sdk,
            table.clone(),
            config.common.history_retention_days,
            &calls,
        );
        let role = config.org.member_role_name.clone().unwrap_or_default();
        Ok(Self {
            registry: AccountRegistry::with_client(store.client().clone(), table),
            assumer: RoleAssumer::new(&sdk, role, &calls),
            lister: OrganizationLister::new(&sdk, &calls),
            config: Arc::new(config),
            sdk,
            metrics,
        })
    }
}

/// Why a step failed. Each becomes the Lambda error type Step Functions
/// matches on: `InvalidInput` and `AccountFailed` are not retried by the
/// state machine; `Unavailable` is (Lambda retries, then the Map counts it).
#[derive(Debug, thiserror::Error)]
pub enum OrgHandlerError {
    #[error("{0}")]
    InvalidInput(String),
    /// The account could not be scanned; its status is recorded, so the
    /// roll-up names it. Failing the child lets the Map count it against
    /// the tolerated failures.
    #[error("account {account}: {error}")]
    AccountFailed { account: String, error: String },
    #[error("{0}")]
    Unavailable(String),
}

impl From<OrgHandlerError> for Diagnostic {
    fn from(e: OrgHandlerError) -> Self {
        let error_type = match &e {
            OrgHandlerError::InvalidInput(_) => "InvalidInput",
            OrgHandlerError::AccountFailed { .. } => "AccountFailed",
            OrgHandlerError::Unavailable(_) => "Unavailable",
        };
        Diagnostic {
            error_type: error_type.into(),
            error_message: e.to_string(),
        }
    }
}

impl From<OrgError> for OrgHandlerError {
    fn from(e: OrgError) -> Self {
        match e {
            OrgError::Request(m) => Self::InvalidInput(m),
            other => Self::Unavailable(other.to_string()),
        }
    }
}

/// `run-organization`'s input: which step.
#[derive(Debug, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case", deny_unknown_fields)]
pub enum OrgAction {
    ListAccounts {
        #[serde(default)]
        request: RunRequest,
    },
    Summarize {
        run: AccountList,
    },
}

/// What `run-organization` returns.
#[derive(Debug, serde::Serialize)]
#[serde(untagged)]
pub enum OrgOutput {
    Accounts(AccountList),
    Summary(OrgSummary),
}

fn parse<T: serde::de::DeserializeOwned>(
    payload: serde_json::Value,
    what: &str,
) -> Result<T, OrgHandlerError> {
    serde_json::from_value(payload).map_err(|e| {
        OrgHandlerError::InvalidInput(format!(
            "{what}: {e} (see events/org-*.json for the shapes the state machine sends)"
        ))
    })
}

/// `run-organization`: list the run's accounts, or summarize the run.
pub async fn run_organization(
    deps: &OrgDeps,
    event: LambdaEvent<serde_json::Value>,
) -> Result<OrgOutput, OrgHandlerError> {
    match parse::<OrgAction>(event.payload, "run-organization input")? {
        OrgAction::ListAccounts { request } => {
            let id: String = event.context.request_id.chars().take(8).collect();
            let run_id = zw_core::org::run_id(zw_aws::SystemClock.now(), &id);
            let list =
                zw_app::org::list_accounts(&deps.config, &deps.lister, &request, run_id).await?;
            tracing::info!(run_id = %list.run_id, accounts = list.accounts.len(), families = ?list.families, "organization run listed");
            Ok(OrgOutput::Accounts(list))
        }
        OrgAction::Summarize { run } => {
            let (summary, batch) =
                zw_app::org::summarize(&deps.config, &deps.registry, &run).await?;
            deps.metrics
                .publish(&batch)
                .await
                .map_err(|e| OrgHandlerError::Unavailable(e.to_string()))?;
            tracing::info!(
                run_id = %summary.run_id,
                accounts = summary.accounts,
                scanned = summary.scanned,
                failed = summary.failed,
                not_scanned = summary.not_scanned,
                "organization run summarized"
            );
            Ok(OrgOutput::Summary(summary))
        }
    }
}

/// `scan-account`: one Map item. The role comes from `ZW_ORG_MEMBER_ROLE_NAME`.
pub async fn scan_account(
    deps: &OrgDeps,
    event: LambdaEvent<serde_json::Value>,
) -> Result<AccountResult, OrgHandlerError> {
    let deadline = crate::collection_deadline(&event);
    let end = crate::invocation_end(&event);
    let job: AccountJob = parse(event.payload, "scan-account input")?;
    scan_job(deps, &deps.assumer, &job, deadline, end).await
}

/// The child's work with any way into accounts (the tests' denies some).
pub async fn scan_job(
    deps: &OrgDeps,
    access: &dyn zw_app::org::AccountAccess,
    job: &AccountJob,
    deadline: Option<std::time::Instant>,
    end: Option<std::time::SystemTime>,
) -> Result<AccountResult, OrgHandlerError> {
    let scanner = AccountScanner {
        config: &deps.config,
        central: &deps.sdk,
        access,
        registry: Some(&deps.registry),
        notify: true,
        deadline,
        end,
        retire_unmonitored: true,
    };
    let result = scanner.scan(job).await?;
    if result.outcome == Outcome::Failed {
        return Err(OrgHandlerError::AccountFailed {
            account: result.account.id.clone(),
            error: result.errors.join("; "),
        });
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_parse_and_unknown_ones_are_named() {
        let a: OrgAction = serde_json::from_value(serde_json::json!({
            "action": "list-accounts", "request": {"families": ["dns"]}
        }))
        .expect("list");
        assert!(matches!(a, OrgAction::ListAccounts { request } if request.families == ["dns"]));
        let a: OrgAction = serde_json::from_value(serde_json::json!({"action": "list-accounts"}))
            .expect("no request");
        assert!(matches!(a, OrgAction::ListAccounts { .. }));
        let e = parse::<OrgAction>(serde_json::json!({"action": "explode"}), "input")
            .expect_err("unknown");
        assert!(e.to_string().contains("explode"), "{e}");
        let d = Diagnostic::from(OrgHandlerError::AccountFailed {
            account: "111122223333".into(),
            error: "AccessDenied".into(),
        });
        assert_eq!(d.error_type, "AccountFailed");
    }
}
