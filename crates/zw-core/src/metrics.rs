//! Every metric zonewarden publishes: names, units and dimensions live here
//! and nowhere else. Computed purely from a finished scan (its record, the
//! store's view of open findings, and the families' own metrics); sinks (EMF
//! in Lambda, PutMetricData from the CLI) only encode and send the batch.
//!
//! Cardinality is cost: CloudWatch bills about $0.30 per series-month. The
//! default (`MetricsDetail=minimal`) is a fixed budget of at most
//! `MINIMAL_BUDGET` series for the whole product, whatever the estate size or
//! the number of families:
//!
//! | series                          | count |
//! |---------------------------------|-------|
//! | `OpenFindings` by `Severity`    | 5     |
//! | `ScanErrors`                    | 1     |
//! | `MinDaysToExpiry`               | 1     |
//! | `UnhealthyHealthChecks`         | 1     |
//! | `TlsEndpointsFailing`           | 1     |
//! | `LicenseInvalid`                | 1     |
//!
//! `full` adds per-code, per-region, per-family and per-server series; the
//! dashboard shows the same detail for free from the one structured log line
//! each scan writes (CloudWatch Logs Insights).

use crate::finding::Finding;
use crate::record::ScanRecord;
use crate::severity::Severity;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

pub const OPEN_FINDINGS: &str = "OpenFindings";
pub const OPEN_FINDINGS_BY_CODE: &str = "OpenFindingsByCode";
pub const SCAN_ERRORS: &str = "ScanErrors";
pub const SCAN_DURATION_MS: &str = "ScanDurationMs";
/// AWS API requests a scan sent, per service (`route53`, `acm`, ...).
pub const API_CALLS: &str = "ApiCalls";
// Certificates family.
pub const CERTIFICATES_MONITORED: &str = "CertificatesMonitored";
pub const MIN_DAYS_TO_EXPIRY: &str = "MinDaysToExpiry";
pub const DAYS_TO_EXPIRY: &str = "DaysToExpiry";
// DNS family.
pub const HOSTED_ZONES_MONITORED: &str = "HostedZonesMonitored";
pub const RECORD_SETS_MONITORED: &str = "RecordSetsMonitored";
pub const DNS_QUERIES: &str = "DnsQueries";
pub const DNS_LATENCY_MS: &str = "DnsLatencyMs";
pub const ROUTE53_CALLS_SAVED: &str = "Route53CallsSaved";

/// Whether a family metric is part of the default budget or only published
/// with `MetricsDetail=full` (CloudWatch bills every series).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Detail {
    Minimal,
    Full,
}

/// The most series the default detail level may ever publish.
pub const MINIMAL_BUDGET: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Unit {
    Count,
    Milliseconds,
    /// Days have no CloudWatch unit; the name says it.
    None,
}

impl Unit {
    /// The CloudWatch unit name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Count => "Count",
            Self::Milliseconds => "Milliseconds",
            Self::None => "None",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricDatum {
    pub name: &'static str,
    pub unit: Unit,
    /// At most one dimension per datum keeps every series cheap and searchable.
    pub dimension: Option<(&'static str, String)>,
    pub value: f64,
}

impl MetricDatum {
    pub fn new(
        name: &'static str,
        unit: Unit,
        dimension: Option<(&'static str, String)>,
        value: f64,
    ) -> Self {
        Self {
            name,
            unit,
            dimension,
            value,
        }
    }

    /// The series this datum belongs to (name and dimension).
    pub fn series(&self) -> (&'static str, Option<&(&'static str, String)>) {
        (self.name, self.dimension.as_ref())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricBatch {
    pub namespace: String,
    /// The `Stack` dimension every datum carries besides its own (if any):
    /// the alarms of one stack read only that stack's series.
    pub stack: String,
    pub timestamp: DateTime<Utc>,
    pub data: Vec<MetricDatum>,
}

/// The batch for a finished scan. `open` is every open finding as the store
/// sees it after this scan (all families), so `OpenFindings` never drops the
/// findings of a family or region this scan did not collect.
pub fn scan_metrics(
    namespace: &str,
    stack: &str,
    detail: Detail,
    open: &[Finding],
    scan: &ScanRecord,
    family_metrics: &[(Detail, MetricDatum)],
) -> MetricBatch {
    let mut data = Vec::new();
    // Every severity, zero included: a missing datum means "no scan ran".
    for sev in Severity::ALL_DESC {
        let n = open.iter().filter(|f| f.severity == sev).count();
        data.push(MetricDatum::new(
            OPEN_FINDINGS,
            Unit::Count,
            Some(("Severity", sev.to_string())),
            n as f64,
        ));
    }
    data.push(MetricDatum::new(
        SCAN_ERRORS,
        Unit::Count,
        None,
        scan.error_count() as f64,
    ));
    if detail == Detail::Full {
        let mut by_code: BTreeMap<&str, usize> = BTreeMap::new();
        for f in open {
            *by_code.entry(f.code.id()).or_default() += 1;
        }
        for (code, n) in by_code {
            data.push(MetricDatum::new(
                OPEN_FINDINGS_BY_CODE,
                Unit::Count,
                Some(("Code", code.to_owned())),
                n as f64,
            ));
        }
        data.push(MetricDatum::new(
            SCAN_DURATION_MS,
            Unit::Milliseconds,
            Some(("Family", scan.families.join("+"))),
            scan.duration_ms as f64,
        ));
        let mut by_service: BTreeMap<&str, u64> = BTreeMap::new();
        for (call, n) in &scan.api_calls {
            let service = call.split_once(':').map_or(call.as_str(), |(s, _)| s);
            *by_service.entry(service).or_default() += n;
        }
        for (service, n) in by_service {
            data.push(MetricDatum::new(
                API_CALLS,
                Unit::Count,
                Some(("Service", service.to_owned())),
                n as f64,
            ));
        }
    }
    data.extend(
        family_metrics
            .iter()
            .filter(|(d, _)| *d <= detail)
            .map(|(_, m)| m.clone()),
    );
    MetricBatch {
        namespace: namespace.to_owned(),
        stack: stack.to_owned(),
        timestamp: scan.finished_at,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Region;
    use std::collections::BTreeSet;

    fn record(errors: usize) -> ScanRecord {
        let at = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        ScanRecord {
            scan_id: "s".into(),
            trigger: "t".into(),
            started_at: at,
            finished_at: at,
            duration_ms: 5,
            families: vec!["certificates".into(), "dns".into()],
            regions: vec![Region::global()],
            counts: BTreeMap::new(),
            open_findings: BTreeMap::new(),
            opened: 0,
            resolved: 0,
            stored: true,
            api_calls: BTreeMap::new(),
            errors: (0..errors)
                .map(|_| crate::record::ScanError {
                    region: Region::global(),
                    service: "x",
                    operation: "y",
                    kind: crate::ports::ErrorKind::Other,
                    message: "m".into(),
                })
                .collect(),
            errors_dropped: 0,
        }
    }

    /// The default detail level stays within the budget whatever the
    /// families hand in at `Full` detail.
    #[test]
    fn minimal_detail_stays_within_the_budget() {
        let family: Vec<(Detail, MetricDatum)> = (0..50)
            .map(|i| {
                (
                    Detail::Full,
                    MetricDatum::new(
                        DNS_LATENCY_MS,
                        Unit::Milliseconds,
                        Some(("Server", format!("ns-{i}"))),
                        1.0,
                    ),
                )
            })
            .chain([(
                Detail::Minimal,
                MetricDatum::new(MIN_DAYS_TO_EXPIRY, Unit::None, None, 12.0),
            )])
            .collect();
        let batch = scan_metrics("Zw", "s", Detail::Minimal, &[], &record(2), &family);
        let series: BTreeSet<_> = batch.data.iter().map(MetricDatum::series).collect();
        assert!(series.len() <= MINIMAL_BUDGET, "{series:?}");
        assert_eq!(series.len(), 7);
        let errors = batch.data.iter().find(|d| d.name == SCAN_ERRORS);
        assert_eq!(errors.map(|d| d.value), Some(2.0));
        let mut calls = record(0);
        calls.api_calls = BTreeMap::from([
            ("route53:ListResourceRecordSets".to_owned(), 34),
            ("route53:ListHostedZones".to_owned(), 1),
            ("acm:ListCertificates".to_owned(), 2),
        ]);
        let full = scan_metrics("Zw", "s", Detail::Full, &[], &calls, &family);
        assert!(full.data.len() > 50);
        let route53 = full.data.iter().find(|d| {
            d.name == API_CALLS && d.dimension == Some(("Service", "route53".to_owned()))
        });
        assert_eq!(route53.map(|d| d.value), Some(35.0));
    }
}
