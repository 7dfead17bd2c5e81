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

// The tail's budget, counted back from the invocation's end (`run`'s `end`):
//
//   collection ... | commit ............ | record, metrics | events ...... | end
//                  ^ started         stop ^  (AFTER_COMMIT before the end)
//
// The commit starts no transaction past its stop and is cut off at the
// latest RECORD_RESERVE before the end, so that the scan record and the
// metrics (one call each) always get their turn. Events come last: they wait
// in the outbox, so whatever the end leaves unsent goes out with the next
// scan.
/// The commit starts no transaction later than this before the end.
const AFTER_COMMIT: chrono::Duration = chrono::Duration::seconds(10);
/// The commit is cut off at the latest this long before the end.
const RECORD_RESERVE: chrono::Duration = chrono::Duration::seconds(4);
/// Outbox events are claimed and sent this many at a time.
pub const EVENT_PAGE: usize = 100;
/// No page of events is started with less than this left.
const EVENT_PAGE_MIN: chrono::Duration = chrono::Duration::seconds(2);

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
    /// What the families looked at (`crate::inventory`): what a scan with
    /// the table stores, and what `zonewarden inventory --live` prints.
    #[serde(skip)]
    pub inventory: Vec<crate::inventory::ScopeInventory>,
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
/// budget is one limiter shared by all) and then the shared tail, each of
/// whose steps stops by `end` (the invocation's end; None: no limit).
pub async fn run<S, M, K>(
    families: &[&dyn Family],
    sinks: Sinks<'_, S, M>,
    clock: &K,
    usage: Option<&dyn ApiUsage>,
    cfg: &CommonConfig,
    label: ScanLabel,
    end: Option<DateTime<Utc>>,
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
    let mut inventory = Vec::new();
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
            inventory: mut inv,
        } = o;
        inventory.append(&mut inv);
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
    let mut suppressed: Option<usize> = None;
    let (all_open, opened, resolved, stored, store_failed) = match sinks.store {
        Some(store) => {
            let commit = persist(
                store,
                &label.scan_id,
                &detections,
                &coverage,
                now,
                cfg,
                Writing {
                    announce,
                    stop: end.map(|e| e - AFTER_COMMIT),
                },
            );
            let by = end.map(|e| e - RECORD_RESERVE);
            match within(clock, by, "store", "commit", commit).await {
                Ok(p) => {
                    suppressed = Some(p.suppressed);
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
            }
        }
        None => (fresh(&detections, now), 0, 0, false, false),
    };

    if let Some(store) = sinks.store
        && !inventory.is_empty()
    {
        let by = end.map(|e| e - RECORD_RESERVE);
        if let Err(e) = within(
            clock,
            by,
            "store",
            "inventory",
            store.save_inventory(&inventory),
        )
        .await
        {
            errors.push(ScanError::new(Region::global(), e));
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
                || matches!(
                    f.code.check(),
                    crate::catalogue::Check::License | crate::catalogue::Check::Suppressions
                )
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
        errors_dropped: 0,
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
    if let Some(n) = suppressed.filter(|n| *n > 0) {
        scan.counts.insert("suppressed".into(), n as u64);
    }
    scan.cap_errors();

    // The record first, so that a failed write is counted by `ScanErrors`;
    // then the metrics from the finished record; then the events, which can
    // wait in the outbox for the next scan. The record is written once more
    // only when something after the first write changed it.
    let first_record = scan.clone();
    if let Some(store) = sinks.store
        && let Err(e) = within(clock, end, "store", "record", store.record_scan(&scan)).await
    {
        scan.errors.push(ScanError::new(Region::global(), e));
    }
    let mut metrics = scan_metrics(
        &cfg.metrics_namespace,
        &cfg.stack_name,
        cfg.metrics_detail,
        &all_open,
        &scan,
        &family_metrics,
    );
    let mut published_errors = None;
    if let Some(sink) = sinks.metrics {
        match within(clock, end, "metrics", "publish", sink.publish(&metrics)).await {
            Ok(()) => published_errors = Some(scan.error_count()),
            Err(e) => scan.errors.push(ScanError::new(Region::global(), e)),
        }
    }
    let mut events_sent = None;
    if let (Some(store), Some(events)) = (sinks.store, sinks.events) {
        let sent = send_events(store, events, &scan.scan_id, clock, end, &mut scan.errors).await;
        if sent.sent > 0 {
            scan.counts.insert("events_sent".into(), sent.sent);
        }
        if sent.pending > 0 {
            scan.counts.insert("events_pending".into(), sent.pending);
        }
        events_sent = Some(sent.sent);
    }
    scan.cap_errors();
    if scan != first_record
        && let Some(store) = sinks.store
        && let Err(e) = within(clock, end, "store", "record", store.record_scan(&scan)).await
    {
        scan.errors.push(ScanError::new(Region::global(), e));
        scan.cap_errors();
    }
    // Errors after the metrics went out (the events' step): one more
    // `ScanErrors` datum, so that the alarm (the maximum per period) sees
    // them. Only then.
    set_scan_errors(&mut metrics, scan.error_count());
    if let (Some(sink), Some(published)) = (sinks.metrics, published_errors)
        && scan.error_count() > published
    {
        let again = MetricBatch {
            data: metrics
                .data
                .iter()
                .filter(|d| d.name == crate::metrics::SCAN_ERRORS)
                .cloned()
                .collect(),
            ..metrics.clone()
        };
        if let Err(e) = within(clock, end, "metrics", "publish", sink.publish(&again)).await {
            scan.errors.push(ScanError::new(Region::global(), e));
            scan.cap_errors();
        }
    }
    // The report always says how many events went out when events are on.
    if let Some(sent) = events_sent {
        scan.counts.entry("events_sent".into()).or_insert(sent);
    }
    ScanReport {
        scan,
        findings,
        metrics,
        could_not_run: collected_nothing || store_failed,
        inventory,
    }
}

/// The batch's `ScanErrors` datum, set to `n`.
fn set_scan_errors(batch: &mut MetricBatch, n: usize) {
    for d in &mut batch.data {
        if d.name == crate::metrics::SCAN_ERRORS {
            d.value = n as f64;
        }
    }
}

/// `step`, unless `by` comes first: then an error naming the step. Without
/// `by`, the step runs to its end.
async fn within<K: Clock, T>(
    clock: &K,
    by: Option<DateTime<Utc>>,
    service: &'static str,
    operation: &'static str,
    step: impl std::future::Future<Output = Result<T, PortError>>,
) -> Result<T, PortError> {
    let Some(by) = by else {
        return step.await;
    };
    let step = std::pin::pin!(step);
    match futures::future::select(step, clock.sleep_until(by)).await {
        futures::future::Either::Left((done, _)) => done,
        futures::future::Either::Right(((), _)) => Err(PortError::new(
            service,
            operation,
            ErrorKind::Transient,
            format!(
                "cut short at {}, to leave time before the invocation's end; the next scan does what is left (raise the function's timeout if this repeats)",
                by.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            ),
        )),
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
    /// How many findings are suppressed once the commit is applied.
    suppressed: usize,
    opened: usize,
    resolved: usize,
    /// Stored items that could not be read: left alone, each a scan error.
    unreadable: Vec<PortError>,
    /// The commit stopped here; what it wrote before is in the counts.
    failure: Option<PortError>,
}

/// How the commit writes: with the transitions' events into the outbox or
/// not, and no transaction started past `stop`.
#[derive(Debug, Clone, Copy)]
struct Writing {
    announce: bool,
    stop: Option<DateTime<Utc>>,
}

/// What the event step did.
struct Sent {
    sent: u64,
    /// Still in the outbox: the next scan sends them.
    pending: u64,
}

/// Sends the events in the outbox (this scan's transitions and any an
/// earlier scan could not send), `EVENT_PAGE` at a time: claim a page, send
/// it, take the sent ones out, give the failed ones back. Stops when the
/// outbox is done, when EventBridge refused a whole page (an outage: the
/// next scan tries again), or when too little time is left before `end`.
/// One error per step, not per event.
async fn send_events<S: FindingStore, K: Clock>(
    store: &S,
    sink: &dyn EventSink,
    scan_id: &str,
    clock: &K,
    end: Option<DateTime<Utc>>,
    errors: &mut Vec<ScanError>,
) -> Sent {
    let mut total = Sent {
        sent: 0,
        pending: 0,
    };
    let mut attempted = 0usize;
    let mut first_error: Option<PortError> = None;
    let mut after: Option<String> = None;
    loop {
        if let Some(end) = end
            && clock.now() + EVENT_PAGE_MIN > end
        {
            errors.push(ScanError::new(
                Region::global(),
                PortError::new(
                    "events",
                    "PutEvents",
                    ErrorKind::Transient,
                    "the invocation's end came before every finding event was sent; the rest stay in the outbox and the next scan sends them",
                ),
            ));
            break;
        }
        let claimed = within(
            clock,
            end,
            "dynamodb",
            "UpdateItem",
            store.claim_events(scan_id, after.as_deref(), EVENT_PAGE),
        )
        .await;
        let page = match claimed {
            Ok(p) => p,
            Err(e) => {
                errors.push(ScanError::new(Region::global(), e));
                break;
            }
        };
        if page.is_empty() {
            break;
        }
        after = page.last().map(|p| p.id.clone());
        let events: Vec<_> = page.iter().map(|p| p.event.clone()).collect();
        let results = match within(clock, end, "events", "PutEvents", async {
            Ok(sink.send(&events).await)
        })
        .await
        {
            Ok(r) => r,
            Err(e) => {
                // Some of the page may have gone out: its claims expire and
                // the next scan sends it (consumers deduplicate on event_key).
                errors.push(ScanError::new(Region::global(), e));
                break;
            }
        };
        attempted += page.len();
        let mut sent_ids = Vec::new();
        let mut failed_ids = Vec::new();
        for (p, r) in page.iter().zip(results) {
            match r {
                Ok(()) => sent_ids.push(p.id.clone()),
                Err(e) => {
                    failed_ids.push(p.id.clone());
                    first_error.get_or_insert(e);
                }
            }
        }
        total.pending += failed_ids.len() as u64;
        total.sent += sent_ids.len() as u64;
        if !failed_ids.is_empty()
            && let Err(e) = within(
                clock,
                end,
                "dynamodb",
                "UpdateItem",
                store.release_events(&failed_ids, scan_id),
            )
            .await
        {
            // Their claims expire in a couple of minutes instead.
            errors.push(ScanError::new(Region::global(), e));
        }
        if !sent_ids.is_empty()
            && let Err(e) = within(
                clock,
                end,
                "dynamodb",
                "BatchWriteItem",
                store.events_sent(&sent_ids),
            )
            .await
        {
            // Sent but still in the outbox: the next scan sends them again,
            // with the same `event_key` (consumers deduplicate on it).
            errors.push(ScanError::new(Region::global(), e));
        }
        if sent_ids.is_empty() || page.len() < EVENT_PAGE {
            break;
        }
    }
    if let Some(e) = first_error {
        errors.push(ScanError::new(
            Region::global(),
            PortError {
                message: format!(
                    "{} of {attempted} finding event(s) not sent ({}); they stay in the outbox and the next scan sends them",
                    total.pending, e.message
                ),
                ..e
            },
        ));
    }
    total
}

/// Plans, commits, and re-plans whatever lost a race to a concurrent scan.
async fn persist<S: FindingStore>(
    store: &S,
    scan_id: &str,
    detections: &[Detection],
    coverage: &Coverage,
    now: DateTime<Utc>,
    cfg: &CommonConfig,
    how: Writing,
) -> Result<Persisted, PortError> {
    let loaded = store.load_current().await?;
    let previous = loaded.findings;
    let triage = loaded.triage;
    // An item this version cannot read is never written over: a detection
    // of the same finding waits until the item can be read again.
    let untouchable: BTreeSet<FindingKey> = loaded
        .unreadable
        .iter()
        .filter_map(|(key, _)| key.clone())
        .collect();
    let unreadable: Vec<PortError> = loaded.unreadable.into_iter().map(|(_, e)| e).collect();
    let mut detections: Vec<Detection> = detections
        .iter()
        .filter(|d| !untouchable.contains(&d.key()))
        .cloned()
        .collect();
    let mut coverage = coverage.clone();
    if triage.known && triage.judge_usage {
        detections.extend(crate::triage::usage_detections(&triage, &previous, now));
        coverage.insert(crate::catalogue::Check::Suppressions, crate::triage::SCOPE);
    }
    let coverage = &coverage;
    let detections = detections.as_slice();
    let mut plan = reconcile::plan_with(
        &previous,
        detections,
        coverage,
        now,
        cfg.history_retention_days,
        &triage,
    );
    let mut view: BTreeMap<FindingKey, StoredFinding> =
        previous.into_iter().map(|p| (p.finding.key(), p)).collect();
    let mut applied: Vec<Change> = Vec::new();
    let mut failure = None;

    for attempt in 1..=COMMIT_ATTEMPTS {
        if plan.is_empty() {
            break;
        }
        let outcome = store.commit(scan_id, &plan, how.announce, how.stop).await?;
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
        plan = reconcile::plan_with(
            &reread,
            &subset,
            coverage,
            now,
            cfg.history_retention_days,
            &triage,
        );
    }

    let previous: Vec<StoredFinding> = view.into_values().collect();
    let opened = applied
        .iter()
        .filter(|c| {
            matches!(
                c.transition,
                Some(Transition::Opened | Transition::Reopened | Transition::Unsuppressed)
            )
        })
        .count();
    let resolved = applied
        .iter()
        .filter(|c| c.transition == Some(Transition::Resolved))
        .count();
    let suppressed = reconcile::suppressed_after(&previous, &applied);
    Ok(Persisted {
        open: reconcile::open_after(&previous, &applied),
        suppressed,
        opened,
        resolved,
        unreadable,
        failure,
    })
}
