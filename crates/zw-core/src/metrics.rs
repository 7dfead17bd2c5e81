//! Every metric zonewarden publishes: names, units, dimensions and the
//! detail level of each live in the catalogue below (`Metric`) and nowhere
//! else. A datum can only be made from a catalogue entry, so the catalogue
//! is what the code publishes, and the dashboard and alarm tests read it.
//! Batches are computed purely from a finished scan (its record, the store's
//! view of open findings, and the families' own metrics); sinks (EMF in
//! Lambda, PutMetricData from the CLI) only encode and send them.
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

/// Whether a series is part of the default budget or only published with
/// `MetricsDetail=full` (CloudWatch bills every series).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Detail {
    Minimal,
    Full,
}

impl Detail {
    /// Every level, the default first.
    pub const ALL: [Detail; 2] = [Detail::Minimal, Detail::Full];
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

/// Who publishes a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publisher {
    /// Every scan of a single-account deployment or the CLI, at the
    /// deployment's `MetricsDetail`.
    Scan,
    /// The organization run's summary only (`run-organization`), whatever
    /// `MetricsDetail` says. The scan series it also publishes (the
    /// organization totals) are `org::rolled_up`.
    Organization,
}

/// How a series every scan publishes at `minimal` adds up over the accounts
/// of an organization (`org::rolled_up`): it travels with the series, so
/// the roll-up names no family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rollup {
    Sum,
    /// The soonest of the accounts' values (days to an expiry).
    Min,
    /// Any account's (a flag such as license invalid).
    Max,
}

/// What the catalogue says of one kind of series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub name: &'static str,
    pub unit: Unit,
    /// The one dimension it carries besides `Stack`, if any: at most one
    /// keeps every series cheap and searchable.
    pub dimension: Option<&'static str>,
    pub detail: Detail,
    pub publisher: Publisher,
    /// The template parameter that must turn it on, for a series published
    /// only on request (and then counted outside the budget).
    pub opt_in: Option<&'static str>,
    /// How the organization totals add it up over accounts (used for the
    /// series scans publish at `minimal`).
    pub rollup: Rollup,
}

const fn scan(
    name: &'static str,
    unit: Unit,
    dimension: Option<&'static str>,
    detail: Detail,
) -> Spec {
    Spec {
        name,
        unit,
        dimension,
        detail,
        publisher: Publisher::Scan,
        opt_in: None,
        rollup: Rollup::Sum,
    }
}

const fn organization(name: &'static str, unit: Unit) -> Spec {
    Spec {
        name,
        unit,
        dimension: None,
        detail: Detail::Minimal,
        publisher: Publisher::Organization,
        opt_in: None,
        rollup: Rollup::Sum,
    }
}

/// One list makes both the enum and `Metric::ALL`, so no entry can be
/// left out of the list the tests read.
macro_rules! catalogue {
    ($($(#[$doc:meta])* $variant:ident = $spec:expr;)*) => {
        /// Every kind of series zonewarden publishes (a name and its one
        /// optional dimension): the catalogue.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Metric {
            $($(#[$doc])* $variant,)*
        }

        impl Metric {
            pub const ALL: &'static [Metric] = &[$(Metric::$variant,)*];

            pub const fn spec(self) -> Spec {
                match self {
                    $(Metric::$variant => $spec,)*
                }
            }
        }
    };
}

catalogue! {
    /// Open findings of every family, by severity, zero included: a missing
    /// datum means "no scan ran" (the finding alarms rely on it).
    OpenFindings = scan("OpenFindings", Unit::Count, Some("Severity"), Detail::Minimal);
    /// Open findings by code (only codes with open findings).
    OpenFindingsByCode = scan("OpenFindingsByCode", Unit::Count, Some("Code"), Detail::Full);
    /// Errors of the scan (a region, zone or call that failed).
    ScanErrors = scan("ScanErrors", Unit::Count, None, Detail::Minimal);
    /// The scan's duration, by the families it ran (`certificates`, `dns`, ...).
    ScanDurationMs = scan("ScanDurationMs", Unit::Milliseconds, Some("Family"), Detail::Full);
    /// AWS API requests a scan sent, per service (`route53`, `acm`, ...).
    ApiCalls = scan("ApiCalls", Unit::Count, Some("Service"), Detail::Full);
    // Certificates family.
    CertificatesMonitored = scan("CertificatesMonitored", Unit::Count, None, Detail::Full);
    /// Days until the soonest expiry of any dated certificate.
    MinDaysToExpiry = Spec {
        rollup: Rollup::Min,
        ..scan("MinDaysToExpiry", Unit::None, None, Detail::Minimal)
    };
    /// The same per region.
    MinDaysToExpiryByRegion = scan("MinDaysToExpiry", Unit::None, Some("Region"), Detail::Full);
    /// Days to expiry of each certificate with an open finding, only with
    /// `PerCertificateMetrics=true` (then whatever the detail level).
    DaysToExpiry = Spec {
        opt_in: Some("PerCertificateMetrics"),
        ..scan("DaysToExpiry", Unit::None, Some("CertificateArn"), Detail::Minimal)
    };
    // DNS family.
    HostedZonesMonitored = scan("HostedZonesMonitored", Unit::Count, None, Detail::Full);
    RecordSetsMonitored = scan("RecordSetsMonitored", Unit::Count, None, Detail::Full);
    DnsQueries = scan("DnsQueries", Unit::Count, None, Detail::Full);
    Route53CallsSaved = scan("Route53CallsSaved", Unit::Count, None, Detail::Full);
    /// Median answer latency per name server.
    DnsLatencyMs = scan("DnsLatencyMs", Unit::Milliseconds, Some("Server"), Detail::Full);
    // Health checks family.
    /// A public hosted zone's NXDOMAIN answers per hour in the window its
    /// query log was read for (the query-log family, `full` only: one
    /// series per logged zone).
    QueryLogNxdomainPerHour = scan("QueryLogNxdomainPerHour", Unit::Count, Some("HostedZone"), Detail::Full);
    /// The same for SERVFAIL answers.
    QueryLogServfailPerHour = scan("QueryLogServfailPerHour", Unit::Count, Some("HostedZone"), Detail::Full);
    HealthChecksMonitored = scan("HealthChecksMonitored", Unit::Count, None, Detail::Full);
    /// Health checks Route 53 considers unhealthy now (the alarm
    /// `UnhealthyHealthChecks` reads it).
    UnhealthyHealthChecks = scan("UnhealthyHealthChecks", Unit::Count, None, Detail::Minimal);
    // Endpoints family.
    TlsEndpointsProbed = scan("TlsEndpointsProbed", Unit::Count, None, Detail::Full);
    /// Endpoints with a serious TLS finding now (the alarm
    /// `TlsEndpointsFailing` reads it).
    TlsEndpointsFailing = scan("TlsEndpointsFailing", Unit::Count, None, Detail::Minimal);
    MinServedDaysToExpiry = scan("MinServedDaysToExpiry", Unit::None, None, Detail::Full);
    /// `1` while the license is invalid, else `0` (the `LicenseInvalid`
    /// alarm reads it).
    LicenseInvalid = Spec {
        rollup: Rollup::Max,
        ..scan("LicenseInvalid", Unit::Count, None, Detail::Minimal)
    };
    // Organization mode: the run's summary.
    /// Accounts scanned by this run whose scan collected something.
    AccountsScanned = organization("AccountsScanned", Unit::Count);
    /// Accounts this run could not scan (role not assumable, nothing collected).
    AccountsFailed = organization("AccountsFailed", Unit::Count);
    /// Accounts of the run without a successful scan within `ZW_ORG_STALE_MINUTES`.
    AccountsNotScanned = organization("AccountsNotScanned", Unit::Count);
    /// Minutes since the oldest of the accounts' last successful scans.
    OldestSuccessfulScanAgeMinutes = organization("OldestSuccessfulScanAgeMinutes", Unit::None);
}

impl Metric {
    /// A datum of a series without a dimension (besides `Stack`).
    pub fn datum(self, value: f64) -> MetricDatum {
        debug_assert!(
            self.spec().dimension.is_none(),
            "{self:?} needs its dimension"
        );
        self.make(None, value)
    }

    /// A datum of a series with a dimension: the catalogue names it, the
    /// caller gives its value (`critical`, `eu-west-1`, ...).
    pub fn datum_by(self, dimension: impl Into<String>, value: f64) -> MetricDatum {
        debug_assert!(self.spec().dimension.is_some(), "{self:?} has no dimension");
        self.make(Some(dimension.into()), value)
    }

    fn make(self, dimension: Option<String>, value: f64) -> MetricDatum {
        let spec = self.spec();
        MetricDatum {
            metric: self,
            name: spec.name,
            unit: spec.unit,
            dimension: spec.dimension.zip(dimension),
            value,
        }
    }

    /// Whether a scan at `detail` publishes it without being asked
    /// (`opt_in`). The organization's series are `org::published`.
    pub fn published_by_scans_at(self, detail: Detail) -> bool {
        let spec = self.spec();
        spec.publisher == Publisher::Scan && spec.opt_in.is_none() && spec.detail <= detail
    }
}

pub const OPEN_FINDINGS: &str = Metric::OpenFindings.spec().name;
pub const OPEN_FINDINGS_BY_CODE: &str = Metric::OpenFindingsByCode.spec().name;
pub const SCAN_ERRORS: &str = Metric::ScanErrors.spec().name;
pub const SCAN_DURATION_MS: &str = Metric::ScanDurationMs.spec().name;
pub const API_CALLS: &str = Metric::ApiCalls.spec().name;
pub const CERTIFICATES_MONITORED: &str = Metric::CertificatesMonitored.spec().name;
pub const MIN_DAYS_TO_EXPIRY: &str = Metric::MinDaysToExpiry.spec().name;
pub const DAYS_TO_EXPIRY: &str = Metric::DaysToExpiry.spec().name;
pub const HOSTED_ZONES_MONITORED: &str = Metric::HostedZonesMonitored.spec().name;
pub const RECORD_SETS_MONITORED: &str = Metric::RecordSetsMonitored.spec().name;
pub const DNS_QUERIES: &str = Metric::DnsQueries.spec().name;
pub const DNS_LATENCY_MS: &str = Metric::DnsLatencyMs.spec().name;
pub const ROUTE53_CALLS_SAVED: &str = Metric::Route53CallsSaved.spec().name;

/// One value of one series. Made only from the catalogue
/// (`Metric::datum`, `Metric::datum_by`): name, unit and dimension name are
/// the catalogue's.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct MetricDatum {
    #[serde(skip)]
    pub metric: Metric,
    pub name: &'static str,
    pub unit: Unit,
    pub dimension: Option<(&'static str, String)>,
    pub value: f64,
}

impl MetricDatum {
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
/// findings of a family or region this scan did not collect. The families'
/// metrics are kept when their catalogue level is within `detail`.
pub fn scan_metrics(
    namespace: &str,
    stack: &str,
    detail: Detail,
    open: &[Finding],
    scan: &ScanRecord,
    family_metrics: &[MetricDatum],
) -> MetricBatch {
    let mut data = Vec::new();
    // Every severity, zero included: a missing datum means "no scan ran".
    for sev in Severity::ALL_DESC {
        let n = open.iter().filter(|f| f.severity == sev).count();
        data.push(Metric::OpenFindings.datum_by(sev.to_string(), n as f64));
    }
    data.push(Metric::ScanErrors.datum(scan.error_count() as f64));
    let mut by_code: BTreeMap<&str, usize> = BTreeMap::new();
    for f in open {
        *by_code.entry(f.code.id()).or_default() += 1;
    }
    for (code, n) in by_code {
        data.push(Metric::OpenFindingsByCode.datum_by(code, n as f64));
    }
    data.push(Metric::ScanDurationMs.datum_by(scan.families.join("+"), scan.duration_ms as f64));
    let mut by_service: BTreeMap<&str, u64> = BTreeMap::new();
    for (call, n) in &scan.api_calls {
        let service = call.split_once(':').map_or(call.as_str(), |(s, _)| s);
        *by_service.entry(service).or_default() += n;
    }
    for (service, n) in by_service {
        data.push(Metric::ApiCalls.datum_by(service, n as f64));
    }
    data.extend(family_metrics.iter().cloned());
    // One filter for the spine's series and the families' alike: the
    // catalogue decides what each level publishes.
    data.retain(|d| d.metric.spec().detail <= detail);
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
                    kind: crate::error::ErrorKind::Other,
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
        let family: Vec<MetricDatum> = (0..50)
            .map(|i| Metric::DnsLatencyMs.datum_by(format!("ns-{i}"), 1.0))
            .chain([Metric::MinDaysToExpiry.datum(12.0)])
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

    /// What each level publishes is the catalogue's word: a batch at each
    /// level holds exactly the series the catalogue gives that level, no
    /// more (the dashboard and alarm tests rely on it).
    #[test]
    fn each_level_publishes_what_the_catalogue_says() {
        let family: Vec<MetricDatum> = Metric::ALL
            .iter()
            .filter(|m| m.spec().publisher == Publisher::Scan)
            .map(|m| match m.spec().dimension {
                Some(_) => m.datum_by("x", 1.0),
                None => m.datum(1.0),
            })
            .collect();
        let mut calls = record(1);
        calls.api_calls = BTreeMap::from([("acm:ListCertificates".to_owned(), 2)]);
        for detail in Detail::ALL {
            let batch = scan_metrics("Zw", "s", detail, &[], &calls, &family);
            for d in &batch.data {
                let spec = d.metric.spec();
                assert!(spec.detail <= detail, "{d:?} at {detail:?}");
                assert_eq!(d.name, spec.name);
                assert_eq!(d.unit, spec.unit);
                assert_eq!(d.dimension.as_ref().map(|(k, _)| *k), spec.dimension);
            }
            let published: BTreeSet<Metric> = batch.data.iter().map(|d| d.metric).collect();
            let expected: BTreeSet<Metric> = Metric::ALL
                .iter()
                .copied()
                .filter(|m| m.published_by_scans_at(detail))
                .collect();
            // OpenFindingsByCode needs an open finding; the rest is there.
            let missing: Vec<_> = expected
                .difference(&published)
                .filter(|m| **m != Metric::OpenFindingsByCode)
                .collect();
            assert!(missing.is_empty(), "{detail:?}: {missing:?}");
        }
    }

    /// The catalogue's default level fits the budget: only series with a
    /// fixed set of dimension values (severities) may be `minimal`.
    #[test]
    fn the_minimal_catalogue_fits_the_budget() {
        let mut series = 0;
        for m in Metric::ALL {
            if !m.published_by_scans_at(Detail::Minimal) {
                continue;
            }
            series += match m.spec().dimension {
                None => 1,
                Some("Severity") => Severity::ALL_DESC.len(),
                Some(other) => panic!("{m:?}: a minimal series by {other} has no fixed count"),
            };
        }
        assert!(series <= MINIMAL_BUDGET, "{series} > {MINIMAL_BUDGET}");
        assert_eq!(series, 10, "the module docs' table counts 10");
    }

    #[test]
    fn names_and_dimensions_identify_one_entry() {
        let mut seen = BTreeSet::new();
        for m in Metric::ALL {
            let s = m.spec();
            assert!(seen.insert((s.name, s.dimension)), "{m:?} twice");
            assert!(
                s.name
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_uppercase())
                    && s.name.chars().all(|c| c.is_ascii_alphanumeric()),
                "{m:?}: PascalCase, the unit in the unit field"
            );
        }
    }
}
