//! Scan orchestration: collect -> evaluate -> reconcile -> sinks.
//!
//! Failures are recorded, never thrown: one region, zone or sink failing is a
//! `ScanError` in the record while everything else still lands, and findings of
//! a family/region that could not be collected are neither refreshed nor resolved.

use crate::catalogue::Check;
use crate::config::Config;
use crate::finding::{Detection, Finding, FindingKey, Severity, StoredFinding};
use crate::metrics::{MetricBatch, scan_metrics};
use crate::model::{Certificate, Region};
use crate::ports::{
    ApiUsage, CertificateSource, Clock, ErrorKind, FindingStore, MetricSink, PortError, ZoneSource,
};
use crate::reconcile::{self, Change, Coverage, Transition};
use crate::rules;
use chrono::{DateTime, Utc};
use futures::future::join_all;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// How many times a commit that lost races is re-read and re-planned.
const COMMIT_ATTEMPTS: usize = 4;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanError {
    /// A region, or `global` for Route 53, the store and metrics.
    pub region: Region,
    pub service: &'static str,
    pub operation: &'static str,
    pub kind: ErrorKind,
    pub message: String,
}

impl ScanError {
    fn new(region: Region, e: PortError) -> Self {
        Self {
            region,
            service: e.service,
            operation: e.operation,
            kind: e.kind,
            message: format!("{}; {}", e.message, e.kind.hint()),
        }
    }
}

/// One scan, as stored and as printed under `scan` in JSON output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanRecord {
    pub scan_id: String,
    /// What started it: `schedule`, `aws.acm: ACM Certificate Expired`, `cli`, ...
    pub trigger: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub duration_ms: u64,
    pub regions: Vec<Region>,
    pub certificates: usize,
    pub hosted_zones_checked: usize,
    /// Open findings after this scan, by severity.
    pub open_findings: BTreeMap<Severity, usize>,
    pub opened: usize,
    pub resolved: usize,
    /// Whether findings were written to the store.
    pub stored: bool,
    /// AWS API requests this scan sent, per `service:Operation`, retries
    /// included (empty when the adapters do not count).
    pub api_calls: BTreeMap<String, u64>,
    pub errors: Vec<ScanError>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanReport {
    pub scan: ScanRecord,
    /// Open findings, most severe first.
    pub findings: Vec<Finding>,
    #[serde(skip)]
    pub metrics: MetricBatch,
}

impl ScanReport {
    /// True when the scan could not do its job at all: no region collected, or
    /// the store could not be written. Partial failures are not failures here;
    /// they are in `scan.errors` and the `ScanErrors` metric.
    pub fn failed(&self) -> bool {
        let failed_regions: BTreeSet<&Region> = self
            .scan
            .errors
            .iter()
            .filter(|e| e.service == "acm")
            .map(|e| &e.region)
            .collect();
        failed_regions.len() == self.scan.regions.len()
            || self.scan.errors.iter().any(|e| e.service == "dynamodb")
    }

    pub fn worst_severity(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// Where a scan collects from.
pub struct Sources<'a, C, Z> {
    pub certificates: &'a C,
    pub zones: &'a Z,
    /// Counts the API calls the sources (and sinks) make, if available.
    pub usage: Option<&'a dyn ApiUsage>,
}

impl<C, Z> std::fmt::Debug for Sources<'_, C, Z> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sources")
    }
}

/// The sinks a scan writes to. `None` means read-only (`--no-write`).
#[derive(Debug)]
pub struct Sinks<'a, S, M> {
    pub store: Option<&'a S>,
    pub metrics: Option<&'a M>,
}

pub async fn scan_certificates<C, Z, S, M, K>(
    sources: Sources<'_, C, Z>,
    sinks: Sinks<'_, S, M>,
    clock: &K,
    cfg: &Config,
    scan_id: String,
    trigger: String,
) -> ScanReport
where
    C: CertificateSource,
    Z: ZoneSource,
    S: FindingStore,
    M: MetricSink,
    K: Clock,
{
    let started_at = clock.now();
    let calls_before = sources.usage.map(ApiUsage::calls).unwrap_or_default();
    let (certs_src, zones_src) = (sources.certificates, sources.zones);
    let mut errors = Vec::new();
    let mut coverage = Coverage::default();

    // Collect: every region at once; each region's failure stays its own.
    let results = join_all(cfg.regions.iter().map(|r| certs_src.certificates(r))).await;
    let mut certs: Vec<Certificate> = Vec::new();
    let mut collected_regions = Vec::new();
    for (region, result) in cfg.regions.iter().zip(results) {
        match result {
            Ok(list) => {
                coverage.insert(Check::Certificates, region.clone());
                collected_regions.push(region.clone());
                certs.extend(list);
            }
            Err(e) => errors.push(ScanError::new(region.clone(), e)),
        }
    }

    // Route 53, only when some certificate depends on a validation record.
    let mut zones_checked = 0;
    let mut validation = rules::validation::ValidationOutcome::default();
    let needs_dns = certs
        .iter()
        .any(|c| c.renewal_validation_records().next().is_some());
    let zones = if needs_dns {
        match zones_src.hosted_zones().await {
            Ok(z) => Some(z),
            Err(e) => {
                errors.push(ScanError::new(Region::global(), e));
                None
            }
        }
    } else {
        Some(Vec::new())
    };
    if let Some(zones) = &zones {
        let mut records = HashMap::new();
        // Sequential on purpose: the Route 53 budget is per account and tiny.
        for zone_id in rules::validation::zones_needed(&certs, zones) {
            match zones_src.record_sets(&zone_id).await {
                Ok(sets) => {
                    zones_checked += 1;
                    records.insert(zone_id, sets);
                }
                Err(e) => errors.push(ScanError::new(Region::global(), e)),
            }
        }
        validation = rules::validation::evaluate(&certs, zones, &records);
        for region in &collected_regions {
            if !validation.incomplete_regions.contains(region) {
                coverage.insert(Check::ValidationRecords, region.clone());
            }
        }
    }

    // Evaluate.
    let now = started_at;
    let mut detections = rules::certificates::evaluate(&certs, &cfg.rules, now);
    detections.append(&mut validation.detections);

    // Reconcile with the store.
    let (open, opened, resolved, stored) = match sinks.store {
        Some(store) => match persist(store, &scan_id, &detections, &coverage, now, cfg).await {
            Ok((open, opened, resolved)) => (open, opened, resolved, true),
            Err(e) => {
                errors.push(ScanError::new(Region::global(), e));
                (fresh(&detections, now), 0, 0, false)
            }
        },
        None => (fresh(&detections, now), 0, 0, false),
    };

    let mut open = open;
    open.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.code.cmp(&b.code))
            .then(a.resource.id.cmp(&b.resource.id))
    });
    let mut open_findings: BTreeMap<Severity, usize> =
        Severity::ALL_DESC.iter().map(|s| (*s, 0)).collect();
    for f in &open {
        *open_findings.entry(f.severity).or_default() += 1;
    }

    let finished_at = clock.now();
    let mut scan = ScanRecord {
        scan_id,
        trigger,
        started_at,
        finished_at,
        duration_ms: u64::try_from((finished_at - started_at).num_milliseconds()).unwrap_or(0),
        regions: cfg.regions.clone(),
        certificates: certs.len(),
        hosted_zones_checked: zones_checked,
        open_findings,
        opened,
        resolved,
        stored,
        api_calls: BTreeMap::new(),
        errors,
    };

    let metrics = scan_metrics(
        &cfg.metrics_namespace,
        &open,
        &certs,
        &scan,
        cfg.per_certificate_metrics,
        now,
    );
    if let Some(Err(e)) = match sinks.metrics {
        Some(sink) => Some(sink.publish(&metrics).await),
        None => None,
    } {
        scan.errors.push(ScanError::new(Region::global(), e));
    }
    if let Some(usage) = sources.usage {
        scan.api_calls = usage
            .calls()
            .into_iter()
            .filter_map(|(k, n)| {
                let delta = n - calls_before.get(&k).copied().unwrap_or(0);
                (delta > 0).then_some((k, delta))
            })
            .collect();
    }
    if let Some(Err(e)) = match sinks.store {
        Some(store) => Some(store.record_scan(&scan).await),
        None => None,
    } {
        scan.errors.push(ScanError::new(Region::global(), e));
    }
    ScanReport {
        scan,
        findings: open,
        metrics,
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

/// Plans, commits, and re-plans whatever lost a race to a concurrent scan.
async fn persist<S: FindingStore>(
    store: &S,
    scan_id: &str,
    detections: &[Detection],
    coverage: &Coverage,
    now: DateTime<Utc>,
    cfg: &Config,
) -> Result<(Vec<Finding>, usize, usize), PortError> {
    let previous = store.load_current().await?;
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

    for attempt in 1..=COMMIT_ATTEMPTS {
        if plan.is_empty() {
            break;
        }
        let outcome = store.commit(scan_id, &plan).await?;
        let lost: BTreeSet<&FindingKey> = outcome.conflicts.iter().collect();
        let (won, _): (Vec<Change>, Vec<Change>) =
            plan.drain(..).partition(|c| !lost.contains(&c.key()));
        applied.extend(won);
        if outcome.conflicts.is_empty() {
            break;
        }
        if attempt == COMMIT_ATTEMPTS {
            return Err(PortError::new(
                "dynamodb",
                "TransactWriteItems",
                ErrorKind::Transient,
                format!(
                    "{} finding(s) kept changing under concurrent scans",
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
    Ok((reconcile::open_after(&previous, &applied), opened, resolved))
}
