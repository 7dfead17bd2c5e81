//! The domains family: the account's domain registrations at Route 53
//! Domains (expiry, automatic renewal, transfer lock, contact verification,
//! privacy) and their name servers against the account's hosted zones.
//!
//! collect (the domains, each one's detail and contact verification, the
//! public zones of their names and those zones' delegation sets) -> pure
//! rules (`rules`).

pub mod config;
pub mod model;
pub mod ports;
pub mod rules;

use self::config::DomainsConfig;
use self::model::Domain;
use self::ports::DomainRegistrations;
use self::rules::ZoneDelegation;
use crate::catalogue::Check;
use crate::error::PortError;
use crate::family::{Family, FamilyOutcome};
use crate::model::{Region, normalize_dns_name};
use crate::ports::ZoneSource;
use crate::record::ScanError;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use futures::{StreamExt, stream};
use std::collections::{BTreeMap, BTreeSet};

pub const NAME: &str = "domains";

/// Domains asked about at once (the adapter paces its calls anyway).
const CONCURRENCY: usize = 2;

pub struct DomainsFamily<'a, D, Z> {
    pub registrations: &'a D,
    pub zones: &'a Z,
    pub config: &'a DomainsConfig,
    pub retire_unmonitored: bool,
}

impl<D, Z> std::fmt::Debug for DomainsFamily<'_, D, Z> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DomainsFamily")
            .field("config", self.config)
            .finish_non_exhaustive()
    }
}

/// A scan error about one domain: its name leads the message.
fn about(name: &str, mut e: PortError) -> ScanError {
    e.message = format!("{}: {}", rules::bare(name), e.message);
    ScanError::new(Region::global(), e)
}

impl<D, Z> Family for DomainsFamily<'_, D, Z>
where
    D: DomainRegistrations,
    Z: ZoneSource,
{
    fn name(&self) -> &'static str {
        NAME
    }

    fn run(&self, now: DateTime<Utc>) -> BoxFuture<'_, FamilyOutcome> {
        Box::pin(self.scan(now))
    }
}

/// What was learnt of one listed domain.
struct Asked {
    name: String,
    listed_lock: Option<bool>,
    detail: Result<Domain, PortError>,
    reachability: Result<model::Reachability, PortError>,
}

impl<D, Z> DomainsFamily<'_, D, Z>
where
    D: DomainRegistrations,
    Z: ZoneSource,
{
    async fn scan(&self, now: DateTime<Utc>) -> FamilyOutcome {
        let mut out = FamilyOutcome::default();
        let listed = match self.registrations.domain_names().await {
            Ok(l) => l,
            Err(e) => {
                out.errors.push(ScanError::new(Region::global(), e));
                return out;
            }
        };
        let asked: Vec<Asked> = stream::iter(listed.clone())
            .map(|(name, listed_lock)| async move {
                let detail = self.registrations.domain(&name).await;
                let reachability = self.registrations.reachability(&name).await;
                Asked {
                    name,
                    listed_lock,
                    detail,
                    reachability,
                }
            })
            .buffered(CONCURRENCY)
            .collect()
            .await;

        let mut read = Vec::new();
        for a in asked {
            let mut domain = match a.detail {
                Ok(d) => d,
                Err(e) => {
                    // Its findings stay exactly as they are.
                    out.coverage.hold(rules::bare(&a.name));
                    out.errors.push(about(&a.name, e));
                    continue;
                }
            };
            if domain.transfer_lock.is_none() {
                domain.transfer_lock = a.listed_lock;
            }
            let scope = rules::scope(&domain);
            out.coverage.insert(Check::DomainRegistration, &scope);
            out.detections
                .extend(rules::registration(&domain, self.config, now));
            match a.reachability {
                Ok(r) => {
                    out.coverage.insert(Check::DomainContact, &scope);
                    out.detections.extend(rules::contact(&domain, &r));
                }
                Err(e) => out.errors.push(about(&a.name, e)),
            }
            read.push(domain);
        }

        if !read.is_empty() {
            self.delegations(&read, &mut out).await;
        }

        let expiring = out
            .detections
            .iter()
            .filter(|d| d.code == crate::catalogue::FindingCode::DomainExpiring)
            .count();
        out.counts.insert("domains".into(), listed.len() as u64);
        out.counts
            .insert("domains_expiring".into(), expiring as u64);
        if self.retire_unmonitored {
            out.monitored = Some(
                listed
                    .iter()
                    .map(|(n, _)| rules::bare(n).to_owned())
                    .collect(),
            );
        }
        out
    }

    /// Each read domain's name servers against the delegation sets of the
    /// account's public zones of its name.
    async fn delegations(&self, read: &[Domain], out: &mut FamilyOutcome) {
        let zones = match self.zones.hosted_zones().await {
            Ok(z) => z,
            Err(e) => {
                out.errors.push(ScanError::new(Region::global(), e));
                return;
            }
        };
        let names: BTreeSet<String> = read.iter().map(|d| normalize_dns_name(&d.name)).collect();
        let mut by_name: BTreeMap<String, Vec<ZoneDelegation>> = BTreeMap::new();
        let mut failed: BTreeSet<String> = BTreeSet::new();
        for zone in zones
            .iter()
            .filter(|z| !z.private && names.contains(&normalize_dns_name(&z.name)))
        {
            let name = normalize_dns_name(&zone.name);
            match self.zones.name_servers(&zone.id).await {
                Ok(ns) => by_name.entry(name).or_default().push(ZoneDelegation {
                    zone_id: zone.id.clone(),
                    name_servers: ns,
                }),
                Err(e) => {
                    out.errors.push(about(&name, e));
                    failed.insert(name);
                }
            }
        }
        for domain in read {
            let name = normalize_dns_name(&domain.name);
            if failed.contains(&name) {
                continue;
            }
            out.coverage
                .insert(Check::DomainDelegation, rules::scope(domain));
            let zones = by_name.get(&name).map(Vec::as_slice).unwrap_or_default();
            out.detections.extend(rules::delegation(domain, zones));
        }
        out.counts.insert(
            "domain_zones".into(),
            by_name.values().map(|v| v.len() as u64).sum(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::model::{ContactPrivacy, Reachability};
    use super::*;
    use crate::catalogue::FindingCode;
    use crate::error::ErrorKind;
    use crate::model::{DnssecStatus, HostedZone, RecordSet};
    use chrono::Duration;

    use crate::families::test_now as now;

    const NS: [&str; 2] = ["ns-1.awsdns-01.org.", "ns-2.awsdns-02.net."];

    fn denied(op: &'static str) -> PortError {
        PortError::new("route53domains", op, ErrorKind::AccessDenied, "denied")
    }

    /// `broken.com` cannot be described; `quiet.com`'s contact cannot be
    /// asked about; `ok.com` and `late.com` answer everything.
    struct Registrar;
    impl DomainRegistrations for Registrar {
        async fn domain_names(&self) -> Result<Vec<(String, Option<bool>)>, PortError> {
            Ok(["ok.com.", "late.com.", "broken.com.", "quiet.com."]
                .into_iter()
                .map(|n| (n.to_owned(), Some(n != "late.com.")))
                .collect())
        }
        async fn domain(&self, name: &str) -> Result<Domain, PortError> {
            if name == "broken.com." {
                return Err(denied("GetDomainDetail"));
            }
            let late = name == "late.com.";
            Ok(Domain {
                name: name.to_owned(),
                expires: Some(now() + Duration::days(if late { 20 } else { 400 })),
                auto_renew: Some(!late),
                transfer_lock: None,
                statuses: Vec::new(),
                name_servers: if late {
                    vec!["ns1.elsewhere.example.".into()]
                } else {
                    NS.iter().map(|s| (*s).to_owned()).collect()
                },
                privacy: ContactPrivacy::default(),
            })
        }
        async fn reachability(&self, name: &str) -> Result<Reachability, PortError> {
            match name {
                "quiet.com." => Err(denied("GetContactReachabilityStatus")),
                "late.com." => Ok(Reachability::Pending),
                _ => Ok(Reachability::Done),
            }
        }
    }

    struct Zones;
    impl ZoneSource for Zones {
        async fn hosted_zones(&self) -> Result<Vec<HostedZone>, PortError> {
            let zone = |id: &str, name: &str, private| HostedZone {
                id: id.into(),
                name: name.into(),
                private,
                record_set_count: 2,
            };
            Ok(vec![
                zone("ZOK", "ok.com.", false),
                zone("ZLATE", "late.com.", false),
                // A private zone of the same name is no delegation.
                zone("ZPRIV", "late.com.", true),
            ])
        }
        async fn record_sets(&self, _zone_id: &str) -> Result<Vec<RecordSet>, PortError> {
            Ok(Vec::new())
        }
        async fn name_servers(&self, zone_id: &str) -> Result<Vec<String>, PortError> {
            assert_ne!(zone_id, "ZPRIV", "private zones are not asked");
            Ok(NS.iter().map(|s| (*s).to_owned()).collect())
        }
        async fn dnssec(&self, _zone_id: &str) -> Result<DnssecStatus, PortError> {
            Ok(DnssecStatus::default())
        }
        async fn record_set_limit(&self, _zone_id: &str) -> Result<u64, PortError> {
            Ok(10_000)
        }
    }

    /// What failed leaves its findings alone; the rest is covered and judged.
    #[tokio::test]
    async fn a_failure_covers_nothing_of_what_it_hid() {
        let cfg = DomainsConfig::default();
        let family = DomainsFamily {
            registrations: &Registrar,
            zones: &Zones,
            config: &cfg,
            retire_unmonitored: true,
        };
        let out = family.run(now()).await;
        let mut found: Vec<(String, &str)> = out
            .detections
            .iter()
            .map(|d| (d.resource.id.clone(), d.code.id()))
            .collect();
        found.sort();
        assert_eq!(
            found,
            [
                ("late.com".to_owned(), "domain.auto-renew-off"),
                ("late.com".to_owned(), "domain.contact-unverified"),
                ("late.com".to_owned(), "domain.expiring"),
                ("late.com".to_owned(), "domain.nameservers-mismatch"),
                ("late.com".to_owned(), "domain.transfer-lock-off"),
            ]
        );
        assert!(out.coverage.is_held("broken.com"));
        assert!(!out.coverage.covers(Check::DomainRegistration, "broken.com"));
        assert!(out.coverage.covers(Check::DomainRegistration, "quiet.com"));
        assert!(!out.coverage.covers(Check::DomainContact, "quiet.com"));
        assert!(out.coverage.covers(Check::DomainContact, "ok.com"));
        // No zone of its name: compared with nothing, so covered and quiet.
        assert!(out.coverage.covers(Check::DomainDelegation, "quiet.com"));
        let errors: Vec<String> = out.errors.iter().map(|e| e.message.clone()).collect();
        assert_eq!(errors, ["broken.com: denied", "quiet.com: denied"]);
        assert_eq!(out.counts["domains"], 4);
        assert_eq!(out.counts["domain_zones"], 2);
        assert_eq!(
            out.monitored
                .expect("listed")
                .into_iter()
                .collect::<Vec<_>>(),
            ["broken.com", "late.com", "ok.com", "quiet.com"]
        );
        assert!(
            out.detections
                .iter()
                .any(|d| d.code == FindingCode::DomainExpiring
                    && d.severity == crate::severity::Severity::High)
        );
    }
}
