//! The scan spine: run one or several check families, then the shared tail
//! once (reconcile with coverage, store, scan record, metrics, report).
//!
//! Failures are recorded, never thrown: one region, zone, family or sink
//! failing is a `ScanError` in the record while everything else still lands,
//! and findings of a (check, scope) that was not collected are neither
//! refreshed nor resolved.

use crate::config::CommonConfig;
use crate::family::{Family, FamilyOutcome};
use crate::finding::{Detection, Finding, FindingKey, StoredFinding};
use crate::metrics::{MetricBatch, scan_metrics};
use crate::model::Region;
use crate::ports::{ApiUsage, Clock, ErrorKind, EventSink, FindingStore, MetricSink, PortError};
use crate::reconcile::{self, Change, Coverage, Transition};
pub use crate::record::{ScanError, ScanRecord};
use crate::severity::Severity;
use chrono::{DateTime, Utc};
use futures::future::join_all;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// How many times a commit that lost races is re-read and re-planned.
const COMMIT_ATTEMPTS: usize = 4;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanReport {
    pub scan: ScanRecord,
    /// Open findings of the families this scan ran, most severe first.
    pub findings: Vec<Finding>,
    #[serde(skip)]
    pub metrics: MetricBatch,
    /// True when no family collected anything and some reported errors, or
    /// findings could not be stored: the scan could not do its job.
    #[serde(skip)]
    pub could_not_run: bool,
}

impl ScanReport {
    /// True when the scan could not do its job at all. Partial failures are
    /// not failures here; they are in `scan.errors` and the `ScanErrors` metric.
    pub fn failed(&self) -> bool {
        self.could_not_run
    }

    pub fn worst_severity(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// The sinks a scan writes to. `None` means read-only (`--no-write`).
pub struct Sinks<'a, S, M> {
    pub store: Option<&'a S>,
    pub metrics: Option<&'a M>,
    /// Finding events (`ZW_NOTIFY`, the CLI's `--notify`); they need the
    /// store, whose outbox keeps what is not sent yet.
    pub events: Option<&'a dyn EventSink>,
}

impl<S, M> std::fmt::Debug for Sinks<'_, S, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sinks")
            .field("store", &self.store.is_some())
            .field("metrics", &self.metrics.is_some())
            .field("events", &self.events.is_some())
            .finish()
    }
}

/// Who and why: labels of one scan.
#[derive(Debug, Clone)]
pub struct ScanLabel {
    pub scan_id: String,
    /// What started it: `schedule`, `aws.acm: ...`, `cli`, ...
    pub trigger: String,
}

/// Runs `families` (concurrently: each paces its own services, and Route 53's
/// budget is one limiter shared by all) and then the shared tail.
pub async fn run<S, M, K>(
    families: &[&dyn Family],
    sinks: Sinks<'_, S, M>,
    clock: &K,
    usage: Option<&dyn ApiUsage>,
    cfg: &CommonConfig,
    label: ScanLabel,
) -> ScanReport
where
    S: FindingStore,
    M: MetricSink,
    K: Clock,
{
    let started_at = clock.now();
    let calls_before = usage.map(ApiUsage::calls).unwrap_or_default();
    let outcomes = join_all(families.iter().map(|f| f.run(started_at))).await;

    let mut coverage = Coverage::default();
    let mut detections = Vec::new();
    let mut counts = BTreeMap::new();
    let mut family_metrics = Vec::new();
    let mut errors = Vec::new();
    for (family, o) in families.iter().zip(outcomes) {
        let FamilyOutcome {
            coverage: c,
            detections: mut d,
            counts: n,
            metrics: mut m,
            errors: mut e,
            monitored,
        } = o;
        coverage.merge(c);
        if let Some(scopes) = monitored {
            coverage.set_monitored(family.name(), scopes);
        }
        detections.append(&mut d);
        counts.extend(n);
        family_metrics.append(&mut m);
        errors.append(&mut e);
    }
    let collected_nothing = coverage.is_empty() && !errors.is_empty();
    let names: Vec<&'static str> = families.iter().map(|f| f.name()).collect();
    let now = started_at;

    let announce = sinks.events.is_some();
    let (all_open, opened, resolved, stored, store_failed) = match sinks.store {
        Some(store) => match persist(
            store,
            &label.scan_id,
            &detections,
            &coverage,
            now,
            cfg,
            announce,
        )
        .await
        {
            Ok(p) => {
                errors.extend(
                    p.unreadable
                        .into_iter()
                        .map(|e| ScanError::new(Region::global(), e)),
                );
                match p.failure {
                    None => (p.open, p.opened, p.resolved, true, false),
                    Some(e) => {
                        errors.push(ScanError::new(Region::global(), e));
                        (p.open, p.opened, p.resolved, false, true)
                    }
                }
            }
            Err(e) => {
                errors.push(ScanError::new(Region::global(), e));
                (fresh(&detections, now), 0, 0, false, true)
            }
        },
        None => (fresh(&detections, now), 0, 0, false, false),
    };
    if let (Some(store), Some(events)) = (sinks.store, sinks.events) {
        let sent = send_events(store, events, &label.scan_id, &mut errors).await;
        counts.insert("events_sent".into(), sent.sent);
        if sent.pending > 0 {
            counts.insert("events_pending".into(), sent.pending);
        }
    }

    let mut open_findings: BTreeMap<Severity, usize> =
        Severity::ALL_DESC.iter().map(|s| (*s, 0)).collect();
    for f in &all_open {
        *open_findings.entry(f.severity).or_default() += 1;
    }
    // The report shows this scan's families; metrics count every family.
    let mut findings: Vec<Finding> = all_open
        .iter()
        // The license's findings are about every scan.
        .filter(|f| {
            names.contains(&f.code.check().family())
                || f.code.check() == crate::catalogue::Check::License
        })
        .cloned()
        .collect();
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.code.cmp(&b.code))
            .then(a.resource.id.cmp(&b.resource.id))
    });

    let finished_at = clock.now();
    let mut scan = ScanRecord {
        scan_id: label.scan_id,
        trigger: label.trigger,
        started_at,
        finished_at,
        duration_ms: u64::try_from((finished_at - started_at).num_milliseconds()).unwrap_or(0),
        families: names.iter().map(|n| (*n).to_owned()).collect(),
        regions: cfg.regions.clone(),
        counts,
        open_findings,
        opened,
        resolved,
        stored,
        api_calls: BTreeMap::new(),
        errors,
    };
    if let Some(usage) = usage {
        scan.api_calls = usage
            .calls()
            .into_iter()
            .filter_map(|(k, n)| {
                let delta = n - calls_before.get(&k).copied().unwrap_or(0);
                (delta > 0).then_some((k, delta))
            })
            .collect();
    }

    // The record first, so that a failed write is counted by `ScanErrors`;
    // then the metrics from the finished record; a failed publish is written
    // into the record again (one more put, only then).
    if let Some(store) = sinks.store
        && let Err(e) = store.record_scan(&scan).await
    {
        scan.errors.push(ScanError::new(Region::global(), e));
    }
    let metrics = scan_metrics(
        &cfg.metrics_namespace,
        &cfg.stack_name,
        cfg.metrics_detail,
        &all_open,
        &scan,
        &family_metrics,
    );
    if let Some(sink) = sinks.metrics
        && let Err(e) = sink.publish(&metrics).await
    {
        scan.errors.push(ScanError::new(Region::global(), e));
        if let Some(store) = sinks.store
            && let Err(e) = store.record_scan(&scan).await
        {
            scan.errors.push(ScanError::new(Region::global(), e));
        }
    }
    ScanReport {
        scan,
        findings,
        metrics,
        could_not_run: collected_nothing || store_failed,
    }
}

fn fresh(detections: &[Detection], now: DateTime<Utc>) -> Vec<Finding> {
    let mut by_key: BTreeMap<FindingKey, Finding> = BTreeMap::new();
    for d in detections {
        let f = Finding::opened(d.clone(), now);
        match by_key.get(&f.key()) {
            Some(existing) if existing.severity >= f.severity => {}
            _ => {
                by_key.insert(f.key(), f);
            }
        }
    }
    by_key.into_values().collect()
}

/// What a store step did.
struct Persisted {
    open: Vec<Finding>,
    opened: usize,
    resolved: usize,
    /// Stored items that could not be read: left alone, each a scan error.
    unreadable: Vec<PortError>,
    /// The commit stopped here; what it wrote before is in the counts.
    failure: Option<PortError>,
}

/// What the event step did.
struct Sent {
    sent: u64,
    /// Still in the outbox: the next scan sends them.
    pending: u64,
}

/// Sends every event in the outbox (this scan's transitions and any an
/// earlier scan could not send), then takes the sent ones out. One error per
/// step, not per event.
async fn send_events<S: FindingStore>(
    store: &S,
    sink: &dyn EventSink,
    scan_id: &str,
    errors: &mut Vec<ScanError>,
) -> Sent {
    let pending = match store.pending_events(scan_id).await {
        Ok(p) => p,
        Err(e) => {
            errors.push(ScanError::new(Region::global(), e));
            return Sent {
                sent: 0,
                pending: 0,
            };
        }
    };
    if pending.is_empty() {
        return Sent {
            sent: 0,
            pending: 0,
        };
    }
    let events: Vec<_> = pending.iter().map(|p| p.event.clone()).collect();
    let results = sink.send(&events).await;
    let mut sent_ids = Vec::new();
    let mut failed_ids = Vec::new();
    let mut first_error = None;
    for (p, r) in pending.iter().zip(results) {
        match r {
            Ok(()) => sent_ids.push(p.id.clone()),
            Err(e) => {
                failed_ids.push(p.id.clone());
                first_error.get_or_insert(e);
            }
        }
    }
    let failed = failed_ids.len() as u64;
    if !failed_ids.is_empty()
        && let Err(e) = store.release_events(&failed_ids, scan_id).await
    {
        // Their claims expire in a couple of minutes instead.
        errors.push(ScanError::new(Region::global(), e));
    }
    if let Some(e) = first_error {
        errors.push(ScanError::new(
            Region::global(),
            PortError {
                message: format!(
                    "{failed} of {} finding event(s) not sent ({}); they stay in the outbox and the next scan sends them",
                    pending.len(),
                    e.message
                ),
                ..e
            },
        ));
    }
    let sent = sent_ids.len() as u64;
    if let Err(e) = store.events_sent(&sent_ids).await {
        // Sent but still in the outbox: the next scan sends them again, with
        // the same `event_key` (consumers deduplicate on it).
        errors.push(ScanError::new(Region::global(), e));
    }
    Sent {
        sent,
        pending: failed,
    }
}

/// Plans, commits, and re-plans whatever lost a race to a concurrent scan.
async fn persist<S: FindingStore>(
    store: &S,
    scan_id: &str,
    detections: &[Detection],
    coverage: &Coverage,
    now: DateTime<Utc>,
    cfg: &CommonConfig,
    announce: bool,
) -> Result<Persisted, PortError> {
    let loaded = store.load_current().await?;
    let previous = loaded.findings;
    // An item this version cannot read is never written over: a detection
    // of the same finding waits until the item can be read again.
    let untouchable: BTreeSet<FindingKey> = loaded
        .unreadable
        .iter()
        .filter_map(|(key, _)| key.clone())
        .collect();
    let unreadable: Vec<PortError> = loaded.unreadable.into_iter().map(|(_, e)| e).collect();
    let detections: Vec<Detection> = detections
        .iter()
        .filter(|d| !untouchable.contains(&d.key()))
        .cloned()
        .collect();
    let detections = detections.as_slice();
    let mut plan = reconcile::plan(
        &previous,
        detections,
        coverage,
        now,
        cfg.history_retention_days,
    );
    let mut view: BTreeMap<FindingKey, StoredFinding> =
        previous.into_iter().map(|p| (p.finding.key(), p)).collect();
    let mut applied: Vec<Change> = Vec::new();
    let mut failure = None;

    for attempt in 1..=COMMIT_ATTEMPTS {
        if plan.is_empty() {
            break;
        }
        let outcome = store.commit(scan_id, &plan, announce).await?;
        let lost: BTreeSet<&FindingKey> =
            outcome.conflicts.iter().chain(&outcome.unwritten).collect();
        let (won, _): (Vec<Change>, Vec<Change>) =
            plan.drain(..).partition(|c| !lost.contains(&c.key()));
        applied.extend(won);
        if let Some(e) = outcome.failed {
            // Part of the plan is written: report that part, and the error.
            failure = Some(e);
            break;
        }
        if outcome.conflicts.is_empty() {
            break;
        }
        if attempt == COMMIT_ATTEMPTS {
            return Err(PortError::new(
                "store",
                "commit",
                ErrorKind::Transient,
                format!(
                    "{} finding(s) kept changing under concurrent scans; the next scan retries",
                    outcome.conflicts.len()
                ),
            ));
        }
        // Another scan wrote these first: take its version as the new truth.
        let reread = store.load(&outcome.conflicts).await?;
        for k in &outcome.conflicts {
            view.remove(k);
        }
        for s in &reread {
            view.insert(s.finding.key(), s.clone());
        }
        let keys: BTreeSet<&FindingKey> = outcome.conflicts.iter().collect();
        let subset: Vec<Detection> = detections
            .iter()
            .filter(|d| keys.contains(&d.key()))
            .cloned()
            .collect();
        plan = reconcile::plan(&reread, &subset, coverage, now, cfg.history_retention_days);
    }

    let previous: Vec<StoredFinding> = view.into_values().collect();
    let opened = applied
        .iter()
        .filter(|c| {
            matches!(
                c.transition,
                Some(Transition::Opened | Transition::Reopened)
            )
        })
        .count();
    let resolved = applied
        .iter()
        .filter(|c| c.transition == Some(Transition::Resolved))
        .count();
    Ok(Persisted {
        open: reconcile::open_after(&previous, &applied),
        opened,
        resolved,
        unreadable,
        failure,
    })
}
