//! Organization mode: one deployment scans every account of an AWS
//! Organization. A Step Functions Distributed Map runs one child per account;
//! this module holds what is pure about it: the contract between the state
//! machine's steps (list → scan each account → summarize), which accounts a
//! run takes, and the roll-up of the accounts' last scans into the
//! organization's metrics (a fixed number of series whatever the number of
//! accounts).
//!
//! The JSON shapes here are the state machine's contract (template.yaml,
//! `OrganizationStateMachine`): change them together, and the contract tests
//! in `tests/integration/organization.rs` read the definition itself.

use crate::metrics::{self, Metric, MetricBatch, Rollup};
use crate::model::check_account_id;
use crate::severity::Severity;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Accounts scanned by this run whose scan collected something.
pub const ACCOUNTS_SCANNED: &str = Metric::AccountsScanned.spec().name;
/// Accounts this run could not scan (role not assumable, nothing collected).
pub const ACCOUNTS_FAILED: &str = Metric::AccountsFailed.spec().name;
/// Accounts of the run without a successful scan within `ZW_ORG_STALE_MINUTES`.
pub const ACCOUNTS_NOT_SCANNED: &str = Metric::AccountsNotScanned.spec().name;
/// Minutes since the oldest of the accounts' last successful scans.
pub const OLDEST_SUCCESSFUL_SCAN_AGE_MINUTES: &str =
    Metric::OldestSuccessfulScanAgeMinutes.spec().name;

/// The organization roll-up's series: the minimal ones as organization
/// totals, plus the four account series. Fixed, whatever the number of
/// accounts: cardinality is cost.
pub const ORG_BUDGET: usize = metrics::MINIMAL_BUDGET + 4;

/// The minimal series an account's scan leaves in its status, and how each
/// rolls up (`metrics::Rollup`, declared with the series): every series a
/// scan publishes at `minimal`, so a new one cannot be left out of the
/// organization's dashboard and alarms.
pub fn rolled_up() -> impl Iterator<Item = (Metric, Rollup)> {
    Metric::ALL
        .iter()
        .copied()
        .filter(|m| m.published_by_scans_at(metrics::Detail::Minimal))
        .map(|m| (m, m.spec().rollup))
}

/// Every series an organization deployment publishes (the run summary's,
/// whatever `MetricsDetail`): its own account series and the roll-up.
/// Member accounts' scans publish none.
pub fn published() -> impl Iterator<Item = Metric> {
    Metric::ALL
        .iter()
        .copied()
        .filter(|m| m.spec().publisher == metrics::Publisher::Organization)
        .chain(rolled_up().map(|(m, _)| m))
}

/// One member account.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountRef {
    /// The 12-digit account id.
    pub id: String,
    /// Its name in Organizations (the id again when unknown).
    pub name: String,
}

impl AccountRef {
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Result<Self, String> {
        let id = id.into();
        check_account_id(&id)?;
        let name = name.into();
        Ok(Self {
            name: if name.is_empty() { id.clone() } else { name },
            id,
        })
    }
}

/// What starts a run: the execution's input, from a schedule, an event rule
/// or by hand (`aws stepfunctions start-execution --input ...`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// The families to run in every account (`certificates`, `dns`,
    /// `health`, `endpoints`); none given means all.
    #[serde(default)]
    pub families: Vec<String>,
    /// Only these accounts (an event names its account); none given means
    /// every account the organization lists and the settings select.
    #[serde(default)]
    pub accounts: Vec<String>,
}

/// `ListAccounts`'s output: the Map's items and settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountList {
    pub run_id: String,
    pub families: Vec<String>,
    pub accounts: Vec<AccountRef>,
    pub max_concurrency: u32,
    pub tolerated_failure_percentage: u32,
    /// The request named its accounts (an event's run): the rest of the
    /// organization was not listed, and is not gone.
    #[serde(default)]
    pub narrowed: bool,
}

/// One Map item after its `ItemSelector`: the child's input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountJob {
    pub account: AccountRef,
    pub families: Vec<String>,
    pub run_id: String,
}

/// How an account's scan went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every family collected and everything was stored.
    Scanned,
    /// Stored, with some errors (a region or zone failed, say).
    Partial,
    /// Nothing could be scanned: the role could not be assumed, or no
    /// family collected anything, or nothing could be stored.
    Failed,
}

impl Outcome {
    pub fn succeeded(self) -> bool {
        !matches!(self, Self::Failed)
    }
}

/// What the child returns to the Map (and the CLI prints per account).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountResult {
    pub account: AccountRef,
    pub outcome: Outcome,
    /// Absent when no scan started (the role could not be assumed).
    #[serde(default)]
    pub scan_id: Option<String>,
    #[serde(default)]
    pub open_findings: BTreeMap<Severity, usize>,
    #[serde(default)]
    pub errors: Vec<String>,
}

/// An account's latest scan, kept in the table (`ORG#ACCOUNTS`) for the
/// roll-up. Metrics are merged series by series, so a DNS-only run does
/// not forget the certificates' `MinDaysToExpiry`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountStatus {
    pub account: AccountRef,
    pub run_id: String,
    pub attempted_at: DateTime<Utc>,
    pub outcome: Outcome,
    pub last_success_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
    /// `(metric name, dimension value or "")` → value, minimal series only.
    pub metrics: BTreeMap<(String, String), f64>,
}

impl AccountStatus {
    /// The status an account's scan leaves: its outcome and the minimal
    /// series of its metric batch (the ones `rolled_up` names).
    pub fn of_scan(
        account: &AccountRef,
        run_id: &str,
        at: DateTime<Utc>,
        outcome: Outcome,
        error: Option<String>,
        batch: Option<&MetricBatch>,
    ) -> Self {
        let metrics = batch
            .map(|b| {
                b.data
                    .iter()
                    // By catalogue entry, so `MinDaysToExpiry{Region}` (a
                    // `full` series of the same name) never gets here.
                    .filter(|d| rolled_up().any(|(m, _)| m == d.metric))
                    .map(|d| {
                        let dim = d
                            .dimension
                            .as_ref()
                            .map_or(String::new(), |(_, v)| v.clone());
                        ((d.name.to_owned(), dim), d.value)
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self {
            account: account.clone(),
            run_id: run_id.to_owned(),
            attempted_at: at,
            outcome,
            last_success_at: outcome.succeeded().then_some(at),
            error,
            metrics,
        }
    }
}

/// The accounts a run takes: the organization's active accounts, narrowed
/// to the units' (done by the lister), then to `include` when it is not
/// empty, less `exclude`, then to what the request names. Sorted by id.
/// An account the request names that the organization does not list is
/// an error, not silently skipped.
pub fn select_accounts(
    listed: Vec<AccountRef>,
    include: &BTreeSet<String>,
    exclude: &BTreeSet<String>,
    requested: &[String],
) -> Result<Vec<AccountRef>, String> {
    let mut out: Vec<AccountRef> = listed
        .into_iter()
        .filter(|a| include.is_empty() || include.contains(&a.id))
        .filter(|a| !exclude.contains(&a.id))
        .collect();
    out.sort();
    out.dedup_by(|a, b| a.id == b.id);
    if requested.is_empty() {
        return Ok(out);
    }
    let unknown: Vec<&String> = requested
        .iter()
        .filter(|id| !out.iter().any(|a| &a.id == *id))
        .collect();
    if !unknown.is_empty() {
        return Err(format!(
            "account(s) {} are not among the organization's selected active accounts (ZW_ORG_UNITS, ZW_ORG_INCLUDE_ACCOUNTS, ZW_ORG_EXCLUDE_ACCOUNTS)",
            unknown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    out.retain(|a| requested.contains(&a.id));
    Ok(out)
}

/// One run's result, as the state machine's output and the run record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgSummary {
    pub run_id: String,
    pub families: Vec<String>,
    pub accounts: usize,
    pub scanned: usize,
    pub failed: usize,
    pub not_scanned: usize,
    /// Minutes since the oldest last successful scan among the run's
    /// accounts (those ever scanned).
    pub oldest_successful_scan_age_minutes: Option<i64>,
    /// Open findings over every account of the run, by severity (each
    /// account as its last successful scan left them).
    pub open_findings: BTreeMap<Severity, u64>,
    /// Failed accounts with their error.
    pub failures: BTreeMap<String, String>,
    /// Accounts of the run the Map never reached (no status of this run).
    pub not_reached: Vec<String>,
    /// Accounts without a successful scan within the stale window.
    pub stale: Vec<String>,
}

/// Rolls the run's accounts up. `statuses` are every account's latest
/// status (other accounts' are ignored); an account without a status of
/// this run was not reached by the Map (aborted, or beyond the tolerated
/// failures).
pub fn summarize(
    run: &AccountList,
    statuses: &[AccountStatus],
    now: DateTime<Utc>,
    stale_after: Duration,
) -> OrgSummary {
    let by_id: BTreeMap<&str, &AccountStatus> = statuses
        .iter()
        .map(|s| (s.account.id.as_str(), s))
        .collect();
    let mut s = OrgSummary {
        run_id: run.run_id.clone(),
        families: run.families.clone(),
        accounts: run.accounts.len(),
        scanned: 0,
        failed: 0,
        not_scanned: 0,
        oldest_successful_scan_age_minutes: None,
        open_findings: Severity::ALL_DESC.iter().map(|s| (*s, 0)).collect(),
        failures: BTreeMap::new(),
        not_reached: Vec::new(),
        stale: Vec::new(),
    };
    for a in &run.accounts {
        let status = by_id.get(a.id.as_str()).copied();
        match status {
            Some(st) if st.run_id == run.run_id => {
                if st.outcome.succeeded() {
                    s.scanned += 1;
                } else {
                    s.failed += 1;
                    s.failures.insert(
                        a.id.clone(),
                        st.error.clone().unwrap_or_else(|| "failed".into()),
                    );
                }
            }
            _ => s.not_reached.push(a.id.clone()),
        }
        let last_success = status.and_then(|st| st.last_success_at);
        match last_success {
            Some(at) => {
                let age = (now - at).num_minutes().max(0);
                s.oldest_successful_scan_age_minutes = Some(
                    s.oldest_successful_scan_age_minutes
                        .map_or(age, |o| o.max(age)),
                );
                if now - at > stale_after {
                    s.stale.push(a.id.clone());
                }
            }
            None => s.stale.push(a.id.clone()),
        }
        if let Some(st) = status {
            for sev in Severity::ALL_DESC {
                let key = (metrics::OPEN_FINDINGS.to_owned(), sev.to_string());
                if let Some(v) = st.metrics.get(&key) {
                    *s.open_findings.entry(sev).or_default() += *v as u64;
                }
            }
        }
    }
    s.not_scanned = s.stale.len();
    s
}

/// The accounts the organization's state is made of after `run`: the
/// run's accounts and, when the run was narrowed to a few (an event's), every
/// other account with a status too. After a full run, a status of an account
/// the organization no longer lists (closed, moved out of the units,
/// excluded) is `departed`: no longer counted, and its item can go.
pub fn considered(
    run: &AccountList,
    statuses: &[AccountStatus],
) -> (BTreeSet<String>, Vec<String>) {
    let mut ids: BTreeSet<String> = run.accounts.iter().map(|a| a.id.clone()).collect();
    let mut departed = Vec::new();
    for st in statuses {
        if run.narrowed {
            ids.insert(st.account.id.clone());
        } else if !ids.contains(&st.account.id) {
            departed.push(st.account.id.clone());
        }
    }
    (ids, departed)
}

/// The organization's metric batch, from every considered account's latest
/// status (whichever run left it), so that a run narrowed to one account
/// does not make the organization's alarms forget the others: the four
/// account series and the minimal series rolled up. At most `ORG_BUDGET`
/// series, whatever the number of accounts.
pub fn rollup_metrics(
    namespace: &str,
    stack: &str,
    run: &AccountList,
    statuses: &[AccountStatus],
    now: DateTime<Utc>,
    stale_after: Duration,
) -> MetricBatch {
    let (ids, _) = considered(run, statuses);
    let by_id: BTreeMap<&str, &AccountStatus> = statuses
        .iter()
        .map(|s| (s.account.id.as_str(), s))
        .collect();
    let (mut scanned, mut failed, mut not_scanned) = (0usize, 0usize, 0usize);
    let mut oldest: Option<i64> = None;
    let mut rolled: BTreeMap<(Metric, String), f64> = BTreeMap::new();
    for id in &ids {
        let Some(st) = by_id.get(id.as_str()) else {
            // Listed, never attempted.
            not_scanned += 1;
            continue;
        };
        if st.outcome.succeeded() {
            scanned += 1;
        } else {
            failed += 1;
        }
        match st.last_success_at {
            Some(at) => {
                let age = (now - at).num_minutes().max(0);
                oldest = Some(oldest.map_or(age, |o| o.max(age)));
                if now - at > stale_after {
                    not_scanned += 1;
                }
            }
            None => not_scanned += 1,
        }
        for ((name, dim), value) in &st.metrics {
            // A status keeps names: among the rolled-up series a name is one
            // entry.
            let Some((metric, how)) = rolled_up().find(|(m, _)| m.spec().name == name.as_str())
            else {
                continue;
            };
            match rolled.entry((metric, dim.clone())) {
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(*value);
                }
                std::collections::btree_map::Entry::Occupied(mut o) => {
                    let cur = o.get_mut();
                    *cur = match how {
                        Rollup::Sum => *cur + value,
                        Rollup::Min => cur.min(*value),
                        Rollup::Max => cur.max(*value),
                    };
                }
            }
        }
    }
    let mut data = vec![
        Metric::AccountsScanned.datum(scanned as f64),
        Metric::AccountsFailed.datum(failed as f64),
        Metric::AccountsNotScanned.datum(not_scanned as f64),
    ];
    if let Some(age) = oldest {
        data.push(Metric::OldestSuccessfulScanAgeMinutes.datum(age as f64));
    }
    // Every severity, zero included, as a single account's scan does.
    for sev in Severity::ALL_DESC {
        let v = rolled
            .remove(&(Metric::OpenFindings, sev.to_string()))
            .unwrap_or(0.0);
        data.push(Metric::OpenFindings.datum_by(sev.to_string(), v));
    }
    for ((metric, dim), value) in rolled {
        // OpenFindings is by Severity only (above); anything else of that
        // name would be a series outside the budget. A stored dimension on
        // a series without one is dropped for the same reason.
        if metric == Metric::OpenFindings {
            continue;
        }
        let datum = match (metric.spec().dimension, dim.is_empty()) {
            (None, _) => metric.datum(value),
            (Some(_), false) => metric.datum_by(dim, value),
            (Some(_), true) => continue,
        };
        data.push(datum);
    }
    MetricBatch {
        namespace: namespace.to_owned(),
        stack: stack.to_owned(),
        timestamp: now,
        data,
    }
}

/// A run id: the execution's start, sortable, plus a short random suffix
/// from the caller (the execution name in Step Functions).
pub fn run_id(now: DateTime<Utc>, suffix: &str) -> String {
    format!("{}-{suffix}", now.format("%Y%m%dT%H%M%SZ"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 2, h, m, 0)
            .single()
            .expect("time")
    }

    fn acct(n: u8) -> AccountRef {
        AccountRef::new(format!("{:012}", u64::from(n) * 111), format!("a{n}")).expect("id")
    }

    fn batch(open_high: f64, min_days: Option<f64>) -> MetricBatch {
        let mut data = vec![
            Metric::OpenFindings.datum_by("high", open_high),
            Metric::ScanErrors.datum(0.0),
            // `full` series never reach the roll-up.
            Metric::OpenFindingsByCode.datum_by("cert.expiring", 3.0),
            Metric::MinDaysToExpiryByRegion.datum_by("eu-west-1", 1.0),
        ];
        if let Some(d) = min_days {
            data.push(Metric::MinDaysToExpiry.datum(d));
        }
        MetricBatch {
            namespace: "zw".into(),
            stack: "s".into(),
            timestamp: t(0, 0),
            data,
        }
    }

    fn run(accounts: &[AccountRef]) -> AccountList {
        AccountList {
            run_id: "r2".into(),
            families: vec!["dns".into()],
            accounts: accounts.to_vec(),
            max_concurrency: 40,
            tolerated_failure_percentage: 10,
            narrowed: false,
        }
    }

    #[test]
    fn account_ids_are_twelve_digits() {
        assert!(AccountRef::new("111122223333", "").is_ok());
        assert_eq!(
            AccountRef::new("111122223333", "").expect("ok").name,
            "111122223333"
        );
        for bad in [
            "",
            "11112222333",
            "1111222233334",
            "11112222333a",
            " 11112222333",
        ] {
            let e = AccountRef::new(bad, "x").expect_err(bad);
            assert!(e.contains("12 digits"), "{e}");
        }
    }

    #[test]
    fn selection_includes_excludes_and_refuses_unknown_requests() {
        let listed = vec![acct(3), acct(1), acct(2), acct(1)];
        let none = BTreeSet::new();
        let all = select_accounts(listed.clone(), &none, &none, &[]).expect("ok");
        assert_eq!(all, vec![acct(1), acct(2), acct(3)]);
        let inc: BTreeSet<String> = [acct(1).id, acct(2).id].into();
        let exc: BTreeSet<String> = [acct(2).id].into();
        assert_eq!(
            select_accounts(listed.clone(), &inc, &exc, &[]).expect("ok"),
            vec![acct(1)]
        );
        assert_eq!(
            select_accounts(listed.clone(), &none, &none, &[acct(3).id]).expect("ok"),
            vec![acct(3)]
        );
        let e = select_accounts(listed, &none, &exc, &[acct(2).id]).expect_err("excluded");
        assert!(
            e.contains(&acct(2).id) && e.contains("ZW_ORG_EXCLUDE_ACCOUNTS"),
            "{e}"
        );
    }

    #[test]
    fn the_summary_counts_scanned_failed_unreached_and_stale_accounts() {
        let (a, b, c, d) = (acct(1), acct(2), acct(3), acct(4));
        let statuses = vec![
            AccountStatus::of_scan(
                &a,
                "r2",
                t(10, 0),
                Outcome::Scanned,
                None,
                Some(&batch(2.0, Some(20.0))),
            ),
            AccountStatus::of_scan(
                &b,
                "r2",
                t(10, 1),
                Outcome::Partial,
                None,
                Some(&batch(1.0, Some(5.0))),
            ),
            // Failed this run; its last success was a run 3 hours ago.
            AccountStatus {
                last_success_at: Some(t(7, 0)),
                ..AccountStatus::of_scan(
                    &c,
                    "r2",
                    t(10, 2),
                    Outcome::Failed,
                    Some("AccessDenied: role".into()),
                    None,
                )
            },
            // d has a status of an older run only: not reached this time.
            AccountStatus::of_scan(
                &d,
                "r1",
                t(9, 45),
                Outcome::Scanned,
                None,
                Some(&batch(4.0, None)),
            ),
        ];
        let run = run(&[a.clone(), b.clone(), c.clone(), d.clone()]);
        let s = summarize(&run, &statuses, t(10, 5), Duration::minutes(60));
        assert_eq!((s.accounts, s.scanned, s.failed), (4, 2, 1));
        assert_eq!(s.not_reached, vec![d.id.clone()]);
        assert_eq!(s.stale, vec![c.id.clone()]);
        assert_eq!(s.not_scanned, 1);
        assert_eq!(s.failures[&c.id], "AccessDenied: role");
        assert_eq!(s.oldest_successful_scan_age_minutes, Some(185));
        // The failed account adds nothing (no metrics kept); d's last scan does.
        assert_eq!(s.open_findings[&Severity::High], 7);

        let m = rollup_metrics("zw", "s", &run, &statuses, t(10, 5), Duration::minutes(60));
        let get = |name: &str, dim: Option<&str>| {
            m.data
                .iter()
                .find(|d| d.name == name && d.dimension.as_ref().map(|(_, v)| v.as_str()) == dim)
                .map(|d| d.value)
        };
        // The organization's state: d's last scan (another run) succeeded.
        assert_eq!(get(ACCOUNTS_SCANNED, None), Some(3.0));
        assert_eq!(get(ACCOUNTS_FAILED, None), Some(1.0));
        assert_eq!(get(ACCOUNTS_NOT_SCANNED, None), Some(1.0));
        assert_eq!(get(OLDEST_SUCCESSFUL_SCAN_AGE_MINUTES, None), Some(185.0));
        assert_eq!(get(metrics::OPEN_FINDINGS, Some("high")), Some(7.0));
        assert_eq!(get(metrics::OPEN_FINDINGS, Some("critical")), Some(0.0));
        assert_eq!(get(metrics::MIN_DAYS_TO_EXPIRY, None), Some(5.0));
        assert_eq!(get(metrics::SCAN_ERRORS, None), Some(0.0));
        assert!(get(metrics::OPEN_FINDINGS_BY_CODE, Some("cert.expiring")).is_none());

        // A run narrowed to one account (an event's) still publishes the
        // whole organization: the alarms do not flap with the runs.
        let narrowed = AccountList {
            accounts: vec![a.clone()],
            narrowed: true,
            ..run.clone()
        };
        let n = rollup_metrics(
            "zw",
            "s",
            &narrowed,
            &statuses,
            t(10, 5),
            Duration::minutes(60),
        );
        assert_eq!(n.data, m.data);
        // A full run that no longer lists d: d has departed.
        let without_d = AccountList {
            accounts: vec![a.clone(), b.clone(), c.clone()],
            ..run.clone()
        };
        let (ids, departed) = considered(&without_d, &statuses);
        assert_eq!(departed, vec![d.id.clone()]);
        assert!(!ids.contains(&d.id));
        let w = rollup_metrics(
            "zw",
            "s",
            &without_d,
            &statuses,
            t(10, 5),
            Duration::minutes(60),
        );
        let high = w
            .data
            .iter()
            .find(|x| {
                x.name == metrics::OPEN_FINDINGS
                    && x.dimension.as_ref().is_some_and(|(_, v)| v == "high")
            })
            .map(|x| x.value);
        assert_eq!(
            high,
            Some(3.0),
            "d's findings are no longer the organization's"
        );
    }

    #[test]
    fn the_rollup_stays_within_its_budget_for_any_number_of_accounts() {
        let accounts: Vec<AccountRef> = (0..1000u32)
            .map(|i| AccountRef::new(format!("{:012}", 100_000 + i), "").expect("id"))
            .collect();
        let statuses: Vec<AccountStatus> = accounts
            .iter()
            .map(|a| {
                let mut b = batch(1.0, Some(30.0));
                for sev in Severity::ALL_DESC {
                    b.data
                        .push(Metric::OpenFindings.datum_by(sev.to_string(), 1.0));
                }
                for (m, _) in rolled_up() {
                    b.data.push(match m.spec().dimension {
                        Some(_) => m.datum_by("x", 1.0),
                        None => m.datum(1.0),
                    });
                }
                AccountStatus::of_scan(a, "r2", t(10, 0), Outcome::Scanned, None, Some(&b))
            })
            .collect();
        let run = run(&accounts);
        let s = summarize(&run, &statuses, t(10, 5), Duration::minutes(60));
        let m = rollup_metrics("zw", "s", &run, &statuses, t(10, 5), Duration::minutes(60));
        let series: BTreeSet<_> = m.data.iter().map(|d| d.series()).collect();
        assert_eq!(series.len(), m.data.len(), "one datum per series");
        assert!(
            series.len() <= ORG_BUDGET,
            "{} > {ORG_BUDGET}: {series:?}",
            series.len()
        );
        assert_eq!(s.scanned, 1000);
    }

    /// The organization totals are every series a scan publishes at the
    /// default level: a new minimal series cannot be left out of the
    /// organization's dashboard and alarms.
    #[test]
    fn every_minimal_scan_series_is_rolled_up() {
        let minimal: BTreeSet<Metric> = Metric::ALL
            .iter()
            .copied()
            .filter(|m| m.published_by_scans_at(metrics::Detail::Minimal))
            .collect();
        let rolled: BTreeSet<Metric> = rolled_up().map(|(m, _)| m).collect();
        assert_eq!(rolled, minimal);
        assert_eq!(published().count(), rolled_up().count() + 4);
        // Each adds up as it means: the soonest expiry, any invalid license.
        let how = |metric| rolled_up().find(|(m, _)| *m == metric).map(|(_, h)| h);
        assert_eq!(how(Metric::MinDaysToExpiry), Some(Rollup::Min));
        assert_eq!(how(Metric::LicenseInvalid), Some(Rollup::Max));
        assert_eq!(how(Metric::OpenFindings), Some(Rollup::Sum));
    }

    #[test]
    fn the_contract_types_refuse_what_they_do_not_know() {
        let e = serde_json::from_str::<RunRequest>(r#"{"families":["dns"],"acounts":["1"]}"#)
            .expect_err("typo");
        assert!(e.to_string().contains("acounts"), "{e}");
        let r: RunRequest = serde_json::from_str("{}").expect("empty is every family");
        assert!(r.families.is_empty() && r.accounts.is_empty());
        let job = AccountJob {
            account: acct(1),
            families: vec!["dns".into()],
            run_id: "r".into(),
        };
        let back: AccountJob =
            serde_json::from_str(&serde_json::to_string(&job).expect("json")).expect("parse");
        assert_eq!(back, job);
    }
}
