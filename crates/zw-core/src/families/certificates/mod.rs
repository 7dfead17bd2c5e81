//! The certificate family: ACM in every configured region, plus the Route 53
//! zones that hold the validation CNAMEs their renewals depend on.
//!
//! collect (ACM per region, concurrently; Route 53 only for the zones that
//! cover a validation record) -> inventory -> coverage from what was
//! collected -> pure rules (`rules`, `validation`).

pub mod config;
pub mod ports;
pub mod rules;
pub mod validation;

use self::config::CertificateConfig;
use self::ports::{OrganizationEstate, SharedZone};
use self::rules::days_left;
use self::validation::{Published, ZoneView, covering_zones};
use crate::catalogue::Check;
use crate::family::{Family, FamilyOutcome};
use crate::inventory::{InventoryEntry, InventoryKind, ScopeInventory};
use crate::metrics::{Metric, MetricDatum};
use crate::model::{Certificate, CertificateStatus, Region};
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
    /// The zones the validation records are looked up in (the account's
    /// own, then those the organization's other accounts published) and the
    /// record sets of those that cover one; None when the account's hosted
    /// zones could not be listed.
    pub dns: Option<ZoneView>,
    /// How many certificates were not reached before the stop.
    pub unvisited: u64,
}

pub struct CertificateFamily<'a, C, Z> {
    pub certificates: &'a C,
    pub zones: &'a Z,
    /// The zones the organization's other accounts published (organization
    /// mode): validation records are looked for there too.
    pub organization: Option<&'a dyn OrganizationEstate>,
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
            let inventory = self.collect(now, &mut errors).await;
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
    async fn collect(
        &self,
        now: DateTime<Utc>,
        errors: &mut Vec<ScanError>,
    ) -> CertificateInventory {
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
            inv.dns = Some(ZoneView::default());
            return inv;
        }
        let mut view = match self.zones.hosted_zones().await {
            Ok(z) => ZoneView::own(z, HashMap::new()),
            Err(e) => {
                errors.push(ScanError::new(Region::global(), e));
                return inv;
            }
        };
        let mut shared: HashMap<String, SharedZone> = HashMap::new();
        if let Some(org) = self.organization {
            view.organization = true;
            match org.zones().await {
                Ok(listed) => {
                    for (_, e) in listed.failed {
                        view.partial = true;
                        errors.push(ScanError::new(Region::global(), e));
                    }
                    for z in listed.zones {
                        if z.zone.private || view.zones.iter().any(|own| own.id == z.zone.id) {
                            continue;
                        }
                        view.zones.push(z.zone.clone());
                        view.published.insert(
                            z.zone.id.clone(),
                            Published {
                                account: z.account.clone(),
                                listed_at: None,
                            },
                        );
                        shared.insert(z.zone.id.clone(), z);
                    }
                }
                Err(e) => {
                    view.partial = true;
                    errors.push(ScanError::new(Region::global(), e));
                }
            }
        }
        let needed: BTreeSet<String> = inv
            .certificates
            .iter()
            .flat_map(Certificate::renewal_validation_records)
            .flat_map(|r| covering_zones(&r.name, &view.zones))
            .map(|z| z.id.clone())
            .collect();
        // Sequential on purpose: the Route 53 budget is per account and tiny.
        for zone_id in needed {
            let listed = match (shared.get(&zone_id), self.organization) {
                (Some(z), Some(org)) => current_copy(org, z, now).await.map(|p| {
                    if let Some(entry) = view.published.get_mut(&zone_id) {
                        entry.listed_at = Some(p.listed_at);
                    }
                    p.record_sets
                }),
                _ => self.zones.record_sets(&zone_id).await,
            };
            // A zone not read stays out of `records`: the rule does not
            // judge the records it covers.
            match listed {
                Ok(sets) => {
                    view.records.insert(zone_id, sets);
                }
                Err(e) => errors.push(ScanError::new(Region::global(), e)),
            }
        }
        inv.dns = Some(view);
        inv
    }
}

/// Another account's zone as its DNS scan last published it, if that copy is
/// current enough to judge by: no copy, or one its account's DNS scans
/// stopped refreshing, is an error that says so, not evidence.
pub async fn current_copy(
    org: &dyn OrganizationEstate,
    zone: &SharedZone,
    now: DateTime<Utc>,
) -> Result<ports::PublishedRecords, PortError> {
    let what = |why: String| {
        PortError::new(
            "dynamodb",
            "Query",
            ErrorKind::NotFound,
            format!(
                "hosted zone {} ({}) of account {} ({}): {why}; names and records in it are not checked until that account's DNS scan publishes the zone again",
                zone.zone.name, zone.zone.id, zone.account.name, zone.account.id
            ),
        )
    };
    match org.record_sets(zone).await? {
        None => Err(what(
            "no copy of its record sets in the table (that account has no DNS scan, or its copy expired)".into(),
        )),
        Some(p) if now - p.listed_at > PUBLISHED_MAX_AGE => Err(what(format!(
            "its record sets were last listed at {}, more than {} days ago",
            p.listed_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            PUBLISHED_MAX_AGE.num_days()
        ))),
        Some(p) => Ok(p),
    }
}

/// The oldest copy of another account's zone the validation rule judges by
/// (the inventory cache's chunks expire after as long).
pub const PUBLISHED_MAX_AGE: chrono::Duration = chrono::Duration::days(7);

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
    if let Some(view) = &inv.dns {
        // A region's validation findings may resolve only when every zone its
        // certificates' records fall in was read (and current enough).
        let mut validation = validation::evaluate(&inv.certificates, view);
        for region in &inv.collected_regions {
            if !validation.incomplete_regions.contains(region) {
                out.coverage.insert(Check::ValidationRecords, region);
            }
        }
        out.detections.append(&mut validation.detections);
    }
    let (published, listed) = inv.dns.as_ref().map_or((0, 0), |v| {
        let published = v
            .records
            .keys()
            .filter(|id| v.published.contains_key(*id))
            .count();
        (published, v.records.len() - published)
    });
    let mut lifecycle = rules::evaluate(&inv.certificates, &cfg.rules, now);
    out.detections.append(&mut lifecycle);

    out.counts
        .insert("certificates".into(), inv.certificates.len() as u64);
    out.counts
        .insert("validation_zones_listed".into(), listed as u64);
    if published > 0 {
        // Read from the table, not from Route 53.
        out.counts
            .insert("validation_zones_published".into(), published as u64);
    }
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
                        // Normalised as served certificates' are, so that a
                        // certificate seen elsewhere (an endpoint, a log) is
                        // recognised by its serial.
                        (
                            "serial".to_owned(),
                            serde_json::json!(
                                c.serial
                                    .as_deref()
                                    .map(crate::families::endpoints::model::normalize_serial)
                            ),
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
