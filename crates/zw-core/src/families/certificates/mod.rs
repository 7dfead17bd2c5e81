//! The certificate family: ACM in every configured region, plus the Route 53
//! zones that hold the validation CNAMEs their renewals depend on.
//!
//! collect (ACM per region, concurrently; Route 53 only for the zones that
//! cover a validation record) -> inventory -> coverage from what was
//! collected -> pure rules (`rules`, `validation`).

pub mod config;
pub mod rules;
pub mod validation;

use self::config::CertificateConfig;
use self::rules::days_left;
use self::validation::covering_zone;
use crate::catalogue::Check;
use crate::family::{Family, FamilyOutcome};
use crate::inventory::{InventoryEntry, InventoryKind, ScopeInventory};
use crate::metrics::{Metric, MetricDatum};
use crate::model::{Certificate, CertificateStatus, HostedZone, RecordSet, Region};
use crate::ports::{CertificateSource, ErrorKind, PortError, ZoneSource};
use crate::record::ScanError;
use chrono::{DateTime, Utc};
use futures::future::{BoxFuture, join_all};
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub const NAME: &str = "certificates";

/// What the family collected.
#[derive(Debug, Default)]
pub struct CertificateInventory {
    pub certificates: Vec<Certificate>,
    /// Regions whose certificates were listed (a certificate that could not
    /// be described is in `undescribed`, the rest of its region counts).
    pub collected_regions: Vec<Region>,
    /// Certificates listed but not described (failed, or not reached before
    /// the stop): their findings stay as they are.
    pub undescribed: BTreeSet<String>,
    /// None when the hosted zones could not be listed.
    pub zones: Option<Vec<HostedZone>>,
    /// Record sets of the zones that cover a validation record.
    pub records: HashMap<String, Vec<RecordSet>>,
    /// Zones whose record sets were needed but could not be listed.
    pub failed_zones: BTreeSet<String>,
    /// How many certificates were not reached before the stop.
    pub unvisited: u64,
}

pub struct CertificateFamily<'a, C, Z> {
    pub certificates: &'a C,
    pub zones: &'a Z,
    pub regions: &'a [Region],
    pub config: &'a CertificateConfig,
    /// Report the configured regions as all that is monitored (see
    /// `FamilyOutcome::monitored`).
    pub retire_unmonitored: bool,
    /// When describing must stop, leaving time to read the validation zones
    /// and to store: what is not reached by then is described first by the
    /// next scan.
    pub stop: Option<std::time::Instant>,
}

impl<C, Z> std::fmt::Debug for CertificateFamily<'_, C, Z> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateFamily")
            .field("regions", &self.regions)
            .finish_non_exhaustive()
    }
}

impl<C: CertificateSource, Z: ZoneSource> Family for CertificateFamily<'_, C, Z> {
    fn name(&self) -> &'static str {
        NAME
    }

    fn run(&self, now: DateTime<Utc>) -> BoxFuture<'_, FamilyOutcome> {
        Box::pin(async move {
            let mut errors = Vec::new();
            let inventory = self.collect(&mut errors).await;
            let mut outcome = evaluate(&inventory, self.config, now);
            outcome.errors = errors;
            // Certificate findings are scoped by region: the configured ones.
            if self.retire_unmonitored {
                outcome.monitored = Some(self.regions.iter().map(ToString::to_string).collect());
            }
            outcome
        })
    }
}

impl<C: CertificateSource, Z: ZoneSource> CertificateFamily<'_, C, Z> {
    async fn collect(&self, errors: &mut Vec<ScanError>) -> CertificateInventory {
        let mut inv = CertificateInventory::default();
        // Every region at once; each region's failure stays its own.
        let results = join_all(
            self.regions
                .iter()
                .map(|r| self.certificates.certificates(r, self.stop)),
        )
        .await;
        for (region, result) in self.regions.iter().zip(results) {
            match result {
                Ok(listed) => {
                    inv.collected_regions.push(region.clone());
                    let described = listed.certificates.len();
                    inv.certificates.extend(listed.certificates);
                    for (arn, e) in listed.failed {
                        errors.push(ScanError::new(region.clone(), e));
                        inv.undescribed.insert(arn);
                    }
                    if !listed.unvisited.is_empty() {
                        errors.push(ScanError::new(
                            region.clone(),
                            PortError::new(
                                "acm",
                                "DescribeCertificate",
                                ErrorKind::Transient,
                                format!(
                                    "cut short at the scan's deadline: {} of {} certificate(s) described; the other {} keep their findings and are described first by the next scan (raise the function's timeout to cover the region in one scan)",
                                    described,
                                    described + listed.unvisited.len(),
                                    listed.unvisited.len()
                                ),
                            ),
                        ));
                        inv.unvisited += listed.unvisited.len() as u64;
                        inv.undescribed.extend(listed.unvisited);
                    }
                }
                Err(e) => errors.push(ScanError::new(region.clone(), e)),
            }
        }

        // Route 53 only when some certificate's renewal depends on a record.
        let needs_dns = inv
            .certificates
            .iter()
            .any(|c| c.renewal_validation_records().next().is_some());
        if !needs_dns {
            inv.zones = Some(Vec::new());
            return inv;
        }
        let zones = match self.zones.hosted_zones().await {
            Ok(z) => z,
            Err(e) => {
                errors.push(ScanError::new(Region::global(), e));
                return inv;
            }
        };
        let needed: BTreeSet<String> = inv
            .certificates
            .iter()
            .flat_map(Certificate::renewal_validation_records)
            .filter_map(|r| covering_zone(&r.name, &zones))
            .map(|z| z.id.clone())
            .collect();
        // Sequential on purpose: the Route 53 budget is per account and tiny.
        for zone_id in needed {
            match self.zones.record_sets(&zone_id).await {
                Ok(sets) => {
                    inv.records.insert(zone_id, sets);
                }
                Err(e) => {
                    errors.push(ScanError::new(Region::global(), e));
                    inv.failed_zones.insert(zone_id);
                }
            }
        }
        inv.zones = Some(zones);
        inv
    }
}

/// Coverage from what was collected, then the pure rules, counts and metrics.
pub fn evaluate(
    inv: &CertificateInventory,
    cfg: &CertificateConfig,
    now: DateTime<Utc>,
) -> FamilyOutcome {
    let mut out = FamilyOutcome::default();
    for region in &inv.collected_regions {
        out.coverage.insert(Check::Certificates, region);
    }
    for arn in &inv.undescribed {
        out.coverage.hold(arn);
    }
    if let Some(zones) = &inv.zones {
        // A region's validation findings may resolve only when every zone its
        // certificates' records fall in was listed.
        let incomplete: BTreeSet<&Region> = inv
            .certificates
            .iter()
            .filter(|c| {
                c.renewal_validation_records().any(|r| {
                    covering_zone(&r.name, zones).is_some_and(|z| inv.failed_zones.contains(&z.id))
                })
            })
            .map(|c| &c.region)
            .collect();
        for region in &inv.collected_regions {
            if !incomplete.contains(region) {
                out.coverage.insert(Check::ValidationRecords, region);
            }
        }
        let mut validation = validation::evaluate(&inv.certificates, zones, &inv.records);
        out.detections.append(&mut validation.detections);
    }
    let mut lifecycle = rules::evaluate(&inv.certificates, &cfg.rules, now);
    out.detections.append(&mut lifecycle);

    out.counts
        .insert("certificates".into(), inv.certificates.len() as u64);
    out.counts
        .insert("validation_zones_listed".into(), inv.records.len() as u64);
    if inv.unvisited > 0 {
        out.counts
            .insert("certificates_not_reached".into(), inv.unvisited);
    }
    out.metrics = metrics(inv, cfg, &out, now);
    out.inventory = inventory(inv, now);
    out
}

/// The certificates of each collected region, for `zonewarden inventory`.
fn inventory(inv: &CertificateInventory, now: DateTime<Utc>) -> Vec<ScopeInventory> {
    inv.collected_regions
        .iter()
        .map(|region| ScopeInventory {
            kind: InventoryKind::Certificates,
            scope: region.to_string(),
            entries: inv
                .certificates
                .iter()
                .filter(|c| &c.region == region)
                .map(|c| InventoryEntry {
                    id: c.arn.clone(),
                    name: c.domain_name.clone(),
                    region: c.region.to_string(),
                    not_after: c.not_after,
                    details: BTreeMap::from([
                        ("type".to_owned(), serde_json::json!(c.kind)),
                        ("status".to_owned(), serde_json::json!(c.status.as_str())),
                        ("in_use_by".to_owned(), serde_json::json!(c.in_use_by)),
                        (
                            "renewal_eligibility".to_owned(),
                            serde_json::json!(c.renewal_eligibility),
                        ),
                        (
                            "names".to_owned(),
                            serde_json::json!(c.subject_alternative_names),
                        ),
                    ]),
                    checked_at: now,
                })
                .collect(),
        })
        .collect()
}

/// Certificates that have an end date worth tracking (issued, or past it, or
/// in a status newer than this version).
fn dated(certs: &[Certificate]) -> impl Iterator<Item = (&Certificate, DateTime<Utc>)> {
    certs.iter().filter_map(|c| {
        matches!(
            c.status,
            CertificateStatus::Issued
                | CertificateStatus::Expired
                | CertificateStatus::Inactive
                | CertificateStatus::Other(_)
        )
        .then_some(c.not_after?)
        .map(|na| (c, na))
    })
}

fn metrics(
    inv: &CertificateInventory,
    cfg: &CertificateConfig,
    out: &FamilyOutcome,
    now: DateTime<Utc>,
) -> Vec<MetricDatum> {
    let mut data = vec![Metric::CertificatesMonitored.datum(inv.certificates.len() as f64)];
    let mut min_by_region: BTreeMap<&Region, i64> = BTreeMap::new();
    for (c, not_after) in dated(&inv.certificates) {
        let d = days_left(not_after, now);
        min_by_region
            .entry(&c.region)
            .and_modify(|m| *m = (*m).min(d))
            .or_insert(d);
    }
    if let Some(min) = min_by_region.values().min() {
        data.push(Metric::MinDaysToExpiry.datum(*min as f64));
    }
    for (region, min) in &min_by_region {
        data.push(Metric::MinDaysToExpiryByRegion.datum_by(region.to_string(), *min as f64));
    }
    if cfg.per_certificate_metrics {
        // Opt-in and priced per series: published at every detail level
        // once the user asked for it (the catalogue's `opt_in`).
        let with_findings: BTreeSet<&str> = out
            .detections
            .iter()
            .map(|d| d.resource.id.as_str())
            .collect();
        for (c, not_after) in dated(&inv.certificates) {
            if with_findings.contains(c.arn.as_str()) {
                data.push(
                    Metric::DaysToExpiry.datum_by(c.arn.clone(), days_left(not_after, now) as f64),
                );
            }
        }
    }
    data
}
