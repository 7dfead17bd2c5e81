//! Every metric zonewarden publishes: names, units and dimensions live here
//! and nowhere else. Computed purely from a scan's results; sinks (EMF in
//! Lambda, PutMetricData from the CLI) only encode and send the batch.
//!
//! Cardinality is cost (CloudWatch bills per metric): five severity series, one
//! series per code that has open findings, one per scanned region, a handful of
//! scalars, and per-certificate series only when switched on.

use crate::finding::{Finding, Severity};
use crate::model::{Certificate, CertificateStatus, Region};
use crate::rules::certificates::days_left;
use crate::scan::ScanRecord;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

pub const OPEN_FINDINGS: &str = "OpenFindings";
pub const OPEN_FINDINGS_BY_CODE: &str = "OpenFindingsByCode";
pub const CERTIFICATES_MONITORED: &str = "CertificatesMonitored";
pub const MIN_DAYS_TO_EXPIRY: &str = "MinDaysToExpiry";
pub const SCAN_ERRORS: &str = "ScanErrors";
pub const SCAN_DURATION_MS: &str = "ScanDurationMs";
pub const DAYS_TO_EXPIRY: &str = "DaysToExpiry";

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

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricBatch {
    pub namespace: String,
    pub timestamp: DateTime<Utc>,
    pub data: Vec<MetricDatum>,
}

fn datum(
    name: &'static str,
    unit: Unit,
    dimension: Option<(&'static str, String)>,
    value: f64,
) -> MetricDatum {
    MetricDatum {
        name,
        unit,
        dimension,
        value,
    }
}

/// Certificates that have an end date worth tracking (issued, or past it).
fn dated(certs: &[Certificate]) -> impl Iterator<Item = (&Certificate, DateTime<Utc>)> {
    certs.iter().filter_map(|c| {
        matches!(
            c.status,
            CertificateStatus::Issued | CertificateStatus::Expired | CertificateStatus::Inactive
        )
        .then_some(c.not_after?)
        .map(|na| (c, na))
    })
}

pub fn scan_metrics(
    namespace: &str,
    open: &[Finding],
    certs: &[Certificate],
    scan: &ScanRecord,
    per_certificate: bool,
    now: DateTime<Utc>,
) -> MetricBatch {
    let mut data = Vec::new();
    // Every severity, zero included: the alarms treat a missing datum as broken.
    for sev in Severity::ALL_DESC {
        let n = open.iter().filter(|f| f.severity == sev).count();
        data.push(datum(
            OPEN_FINDINGS,
            Unit::Count,
            Some(("Severity", sev.to_string())),
            n as f64,
        ));
    }
    let mut by_code: BTreeMap<&str, usize> = BTreeMap::new();
    for f in open {
        *by_code.entry(f.code.id()).or_default() += 1;
    }
    for (code, n) in by_code {
        data.push(datum(
            OPEN_FINDINGS_BY_CODE,
            Unit::Count,
            Some(("Code", code.to_owned())),
            n as f64,
        ));
    }
    data.push(datum(
        CERTIFICATES_MONITORED,
        Unit::Count,
        None,
        certs.len() as f64,
    ));

    let mut min_by_region: BTreeMap<&Region, i64> = BTreeMap::new();
    for (c, not_after) in dated(certs) {
        let d = days_left(not_after, now);
        min_by_region
            .entry(&c.region)
            .and_modify(|m| *m = (*m).min(d))
            .or_insert(d);
    }
    if let Some(min) = min_by_region.values().min() {
        data.push(datum(MIN_DAYS_TO_EXPIRY, Unit::None, None, *min as f64));
    }
    for (region, min) in &min_by_region {
        data.push(datum(
            MIN_DAYS_TO_EXPIRY,
            Unit::None,
            Some(("Region", region.to_string())),
            *min as f64,
        ));
    }
    data.push(datum(
        SCAN_ERRORS,
        Unit::Count,
        None,
        scan.errors.len() as f64,
    ));
    data.push(datum(
        SCAN_DURATION_MS,
        Unit::Milliseconds,
        None,
        scan.duration_ms as f64,
    ));

    if per_certificate {
        let with_findings: BTreeSet<&str> = open.iter().map(|f| f.resource.id.as_str()).collect();
        for (c, not_after) in dated(certs) {
            if with_findings.contains(c.arn.as_str()) {
                data.push(datum(
                    DAYS_TO_EXPIRY,
                    Unit::None,
                    Some(("CertificateArn", c.arn.clone())),
                    days_left(not_after, now) as f64,
                ));
            }
        }
    }
    MetricBatch {
        namespace: namespace.to_owned(),
        timestamp: now,
        data,
    }
}
