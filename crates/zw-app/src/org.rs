//! Organization mode's use cases, shared by the functions (the state
//! machine's steps) and the CLI (`scan all --organization`): list the
//! accounts a run takes, scan one account through its member role, and
//! roll the accounts up.

use crate::{App, AppError, FamilyKind, ScanOptions};
use futures::future::BoxFuture;
use std::collections::BTreeSet;
use zw_aws::SdkConfig;
use zw_aws::events::EventBridgeSink;
use zw_aws::metrics::EmfSink;
use zw_aws::org::{AccountRegistry, OrganizationLister, RoleAssumer};
use zw_core::org::{
    self, AccountJob, AccountList, AccountRef, AccountResult, AccountStatus, OrgSummary, Outcome,
    RunRequest,
};
use zw_core::ports::{Clock, EventSink, PortError};
use zw_core::{Config, ScanLabel, Sinks};

/// How a process enters a member account. The deployment's is
/// `RoleAssumer` (STS); tests put their own in front of it (moto does
/// not check that a role exists, so AccessDenied is produced here).
pub trait AccountAccess: Send + Sync {
    fn enter<'a>(
        &'a self,
        account: &'a AccountRef,
        session: &'a str,
    ) -> BoxFuture<'a, Result<SdkConfig, PortError>>;
}

impl AccountAccess for RoleAssumer {
    fn enter<'a>(
        &'a self,
        account: &'a AccountRef,
        session: &'a str,
    ) -> BoxFuture<'a, Result<SdkConfig, PortError>> {
        Box::pin(self.assume(account, session))
    }
}

/// The families a request names (all when it names none), or which name
/// is unknown.
pub fn families(names: &[String]) -> Result<Vec<FamilyKind>, String> {
    if names.is_empty() {
        return Ok(FamilyKind::all());
    }
    let mut out = Vec::new();
    for n in names {
        let kind = FamilyKind::named(n).ok_or_else(|| {
            format!(
                "family `{n}` unknown (known: {})",
                FamilyKind::names().join(", ")
            )
        })?;
        if !out.contains(&kind) {
            out.push(kind);
        }
    }
    Ok(out)
}

/// Why an organization step could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum OrgError {
    #[error("invalid request: {0}")]
    Request(String),
    #[error("{0}")]
    Port(#[from] PortError),
    #[error("{0}")]
    App(#[from] AppError),
    #[error(
        "no findings table (ZW_TABLE_NAME): organization mode keeps every account's findings and status in it"
    )]
    NoTable,
}

/// The run's accounts and settings (the state machine's `ListAccounts`).
pub async fn list_accounts(
    config: &Config,
    lister: &OrganizationLister,
    request: &RunRequest,
    run_id: String,
) -> Result<AccountList, OrgError> {
    let kinds = families(&request.families).map_err(OrgError::Request)?;
    for id in &request.accounts {
        zw_core::model::check_account_id(id).map_err(OrgError::Request)?;
    }
    let listed = lister.accounts(&config.org.units).await?;
    let accounts = match org::select_accounts(
        listed.clone(),
        &config.org.include,
        &config.org.exclude,
        &request.accounts,
    ) {
        Ok(a) => a,
        // An event from an account out of scope (the central account's own
        // ACM events, say) is no reason to fail a run and page someone:
        // the accounts in scope that it names are scanned, the rest said.
        Err(why) => {
            tracing::warn!(%why, "accounts out of scope skipped");
            let in_scope =
                org::select_accounts(listed, &config.org.include, &config.org.exclude, &[])
                    .map_err(OrgError::Request)?;
            in_scope
                .into_iter()
                .filter(|a| request.accounts.contains(&a.id))
                .collect()
        }
    };
    Ok(AccountList {
        run_id,
        families: kinds.iter().map(|k| k.as_str().to_owned()).collect(),
        accounts,
        max_concurrency: config.org.max_concurrency,
        tolerated_failure_percentage: config.org.tolerated_failure_percent,
        narrowed: !request.accounts.is_empty(),
    })
}

/// What one account's scan needs besides the job: the deployment's own
/// configuration and credentials, the way into accounts, and where status
/// and events go.
pub struct AccountScanner<'a> {
    pub config: &'a Config,
    pub central: &'a SdkConfig,
    pub access: &'a dyn AccountAccess,
    pub registry: Option<&'a AccountRegistry>,
    /// Finding events (`ZW_NOTIFY`); each names its member account.
    pub notify: bool,
    /// When collection must stop (the Lambda invocation's end, less the
    /// time to store and report).
    pub deadline: Option<std::time::Instant>,
    /// When the invocation ends: the tail's steps stop by it.
    pub end: Option<std::time::SystemTime>,
    /// Resolve findings of what the account no longer has (the functions
    /// do; a CLI run narrowed by flags does not).
    pub retire_unmonitored: bool,
}

impl std::fmt::Debug for AccountScanner<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountScanner")
            .field("registry", &self.registry.is_some())
            .field("notify", &self.notify)
            .finish_non_exhaustive()
    }
}

impl AccountScanner<'_> {
    /// Scans one account: enter it, run the job's families with its own
    /// Route 53 budget, write its findings under its partition, record its
    /// status for the roll-up. Never an `Err` for the account's own
    /// trouble: that is the result's `Failed` outcome and error, recorded.
    pub async fn scan(&self, job: &AccountJob) -> Result<AccountResult, OrgError> {
        Ok(self.scan_with_report(job).await?.0)
    }

    /// `scan`, with the account's scan report when a scan ran (the CLI
    /// prints its findings).
    pub async fn scan_with_report(
        &self,
        job: &AccountJob,
    ) -> Result<(AccountResult, Option<zw_core::ScanReport>), OrgError> {
        let kinds = families(&job.families).map_err(OrgError::Request)?;
        let clock = zw_aws::SystemClock;
        let at = clock.now();
        let member = match self.access.enter(&job.account, &job.run_id).await {
            Ok(sdk) => sdk,
            Err(e) => {
                let error = e.to_string();
                self.record(&AccountStatus::of_scan(
                    &job.account,
                    &job.run_id,
                    at,
                    Outcome::Failed,
                    Some(error.clone()),
                    None,
                ))
                .await?;
                return Ok((
                    AccountResult {
                        account: job.account.clone(),
                        outcome: Outcome::Failed,
                        scan_id: None,
                        open_findings: Default::default(),
                        errors: vec![error],
                    },
                    None,
                ));
            }
        };
        let app = App::for_account(
            self.config.clone(),
            &member,
            self.central,
            &kinds,
            job.account.clone(),
        )?;
        let events: Option<EventBridgeSink> = (self.notify && app.config.common.notify)
            .then(|| app.services.events(self.central, &app.config.common));
        let scan_id = format!("{}-{}", job.run_id, job.account.id);
        let report = app
            .scan(
                Sinks {
                    store: app.services.store.as_ref(),
                    // The organization's metrics are the roll-up's: an
                    // account's own series would multiply cost by accounts.
                    metrics: None::<&EmfSink>,
                    events: events.as_ref().map(|e| e as &dyn EventSink),
                },
                ScanLabel {
                    scan_id: scan_id.clone(),
                    trigger: format!("organization run {}", job.run_id),
                },
                &ScanOptions {
                    changed_zones: BTreeSet::new(),
                    retire_unmonitored: self.retire_unmonitored,
                    deadline: self.deadline,
                    end: self.end,
                    only: None,
                    query_log_since: None,
                },
            )
            .await;
        let errors: Vec<String> = report.scan.errors.iter().map(|e| e.to_string()).collect();
        let outcome = if report.failed() {
            Outcome::Failed
        } else if errors.is_empty() {
            Outcome::Scanned
        } else {
            Outcome::Partial
        };
        let error = (outcome == Outcome::Failed).then(|| errors.join("; "));
        self.record(&AccountStatus::of_scan(
            &job.account,
            &job.run_id,
            at,
            outcome,
            error,
            (outcome != Outcome::Failed).then_some(&report.metrics),
        ))
        .await?;
        tracing::info!(
            account = %job.account.id,
            outcome = ?outcome,
            scan_id = %scan_id,
            errors = errors.len(),
            "account scanned"
        );
        Ok((
            AccountResult {
                account: job.account.clone(),
                outcome,
                scan_id: Some(scan_id),
                open_findings: report.scan.open_findings.clone(),
                errors,
            },
            Some(report),
        ))
    }

    async fn record(&self, status: &AccountStatus) -> Result<(), OrgError> {
        if let Some(r) = self.registry {
            r.record(status).await?;
        }
        Ok(())
    }
}

/// The run's roll-up (the state machine's `Summarize`): every account's
/// latest status read back, summarized, kept, and its metrics returned for
/// the caller's sink.
pub async fn summarize(
    config: &Config,
    registry: &AccountRegistry,
    run: &AccountList,
) -> Result<(OrgSummary, zw_core::metrics::MetricBatch), OrgError> {
    let now = zw_aws::SystemClock.now();
    let statuses = registry.statuses().await?;
    let stale = chrono::Duration::minutes(i64::from(config.org.stale_minutes));
    let summary = org::summarize(run, &statuses, now, stale);
    let common = &config.common;
    let batch = org::rollup_metrics(
        &common.metrics_namespace,
        &common.stack_name,
        run,
        &statuses,
        now,
        stale,
    );
    // Accounts a full run no longer lists have left the selection: their
    // status goes, so the roll-up stops counting them (their findings stay
    // in their partition, unscanned).
    let (_, departed) = org::considered(run, &statuses);
    for id in &departed {
        registry.forget(id).await?;
        tracing::info!(account = %id, "account no longer selected: dropped from the roll-up");
    }
    registry
        .record_run(&summary, now, common.history_retention_days)
        .await?;
    Ok((summary, batch))
}

/// Scans `accounts` with at most `concurrency` at once (the CLI's
/// `scan all --organization`; the state machine's Map does this in AWS).
/// Results in the accounts' order; one account's failure is its result.
pub async fn scan_accounts(
    scanner: &AccountScanner<'_>,
    accounts: &[AccountRef],
    families: &[String],
    run_id: &str,
    concurrency: usize,
) -> Vec<Result<(AccountResult, Option<zw_core::ScanReport>), OrgError>> {
    use futures::StreamExt;
    futures::stream::iter(accounts.iter().map(|a| {
        let job = AccountJob {
            account: a.clone(),
            families: families.to_vec(),
            run_id: run_id.to_owned(),
        };
        async move { scanner.scan_with_report(&job).await }
    }))
    .buffered(concurrency.max(1))
    .collect()
    .await
}
