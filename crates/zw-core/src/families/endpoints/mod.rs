//! The endpoints family: what the account's names actually serve. Every
//! public name that points at something able to serve HTTPS (A records,
//! aliases to CloudFront, load balancers and API Gateway, CNAMEs), every
//! member of failover, weighted, latency and multivalue groups (standbys
//! included: a standby that cannot serve is found before the failover), and
//! the configured extra targets get one TLS handshake per address and port.
//!
//! collect (zones' record sets, ACM certificates of every region, the
//! resources ACM certificates are attached to) -> plan the targets ->
//! resolve the names that need it (the DNS family's resolver: names of the
//! account's zones are answered by the zone's own servers) -> handshakes,
//! bounded in number and time -> pure rules (`rules`).

pub mod config;
pub mod model;
pub mod ports;
pub mod rules;

use self::config::TlsConfig;
use self::model::{Attachment, CONFIGURED_SCOPE, TargetOrigin, TlsOutcome, TlsTarget};
use self::ports::{AttachmentSource, TlsProber};
use crate::FindingCode;
use crate::catalogue::Check;
use crate::families::certificates::config::RuleConfig;
use crate::families::certificates::ports::{OrganizationEstate, PublishedRecords, SharedZone};
use crate::families::certificates::rules::days_left;
use crate::families::certificates::validation::covering_zones;
use crate::families::dns::model::{Resolution, RoutingPolicy};
use crate::families::dns::ports::{DnsProbe, InventoryCache};
use crate::families::zone_records;
use crate::family::{Family, FamilyOutcome};
use crate::finding::Severity;
use crate::inventory::{InventoryEntry, InventoryKind, ScopeInventory};
use crate::metrics::Metric;
use crate::model::{Certificate, HostedZone, RecordSet, Region};
use crate::ports::{CertificateSource, ErrorKind, PortError, ZoneSource};
use crate::record::ScanError;
use chrono::{DateTime, Duration, Utc};
use futures::future::{BoxFuture, join_all};
use futures::{StreamExt, stream};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};

pub const NAME: &str = "endpoints";

pub const TLS_ENDPOINTS_PROBED: &str = Metric::TlsEndpointsProbed.spec().name;
/// Endpoints with a serious TLS finding now (part of the default metric
/// budget: the alarm `TlsEndpointsFailing` reads it).
pub const TLS_ENDPOINTS_FAILING: &str = Metric::TlsEndpointsFailing.spec().name;
pub const MIN_SERVED_DAYS_TO_EXPIRY: &str = Metric::MinServedDaysToExpiry.spec().name;

pub struct EndpointsFamily<'a, C, Z, I, A, P, T> {
    pub certificates: &'a C,
    pub zones: &'a Z,
    /// What the organization's other accounts published (organization
    /// mode): the coverage map looks in their zones and certificates too.
    pub organization: Option<&'a dyn OrganizationEstate>,
    pub cache: Option<&'a I>,
    pub attachments: &'a A,
    pub resolver: &'a P,
    pub prober: &'a T,
    pub regions: &'a [Region],
    pub config: &'a TlsConfig,
    pub rules: &'a RuleConfig,
    pub inventory_max_age: Duration,
    pub retire_unmonitored: bool,
    pub stop: Option<std::time::Instant>,
}

impl<C, Z, I, A, P, T> std::fmt::Debug for EndpointsFamily<'_, C, Z, I, A, P, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndpointsFamily")
            .field("config", self.config)
            .finish_non_exhaustive()
    }
}

impl<C, Z, I, A, P, T> Family for EndpointsFamily<'_, C, Z, I, A, P, T>
where
    C: CertificateSource,
    Z: ZoneSource,
    I: InventoryCache,
    A: AttachmentSource,
    P: DnsProbe,
    T: TlsProber,
{
    fn name(&self) -> &'static str {
        NAME
    }

    fn run(&self, now: DateTime<Utc>) -> BoxFuture<'_, FamilyOutcome> {
        Box::pin(self.scan(now))
    }
}

/// Where a planned target's addresses come from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Addresses {
    Literal(Vec<IpAddr>),
    /// Resolve this name's A records.
    Resolve(String),
}

#[derive(Debug, Clone)]
struct Planned {
    host: String,
    origin: TargetOrigin,
    attachment: Option<Attachment>,
    addresses: Addresses,
    ports: Vec<u16>,
}

fn global(e: crate::ports::PortError) -> ScanError {
    ScanError::new(Region::global(), e)
}

/// A name a browser could ask for: no wildcard, no service label
/// (`_acme-challenge`, validation records, SRV owners).
fn probe_worthy(name: &str) -> bool {
    !name.starts_with("*.") && !name.split('.').any(|l| l.starts_with('_'))
}

fn bare(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// The alias or CNAME target as attachments name it (`dualstack.` is how
/// Route 53 spells load balancer aliases).
fn attachment_key(name: &str) -> String {
    let n = bare(name);
    n.strip_prefix("dualstack.").map(str::to_owned).unwrap_or(n)
}

/// The targets of one zone's record sets (IPv4 only: Lambda has no IPv6
/// egress outside a dual-stack VPC, so AAAA records are not probed).
fn plan_zone(
    zone: &HostedZone,
    sets: &[RecordSet],
    attachments: &BTreeMap<String, Attachment>,
    ports: &[u16],
) -> Vec<Planned> {
    let mut out = Vec::new();
    for r in sets {
        if !probe_worthy(&r.name) || !matches!(r.record_type.as_str(), "A" | "CNAME") {
            continue;
        }
        let simple = r.routing == RoutingPolicy::Simple;
        // A group member's addresses are its own: resolving the name would
        // only give whichever member Route 53 picks now.
        let (addresses, via) = match (&r.alias, r.record_type.as_str()) {
            (Some(a), _) if simple => {
                (Addresses::Resolve(r.name.clone()), Some(a.dns_name.clone()))
            }
            (Some(a), _) => (
                Addresses::Resolve(a.dns_name.clone()),
                Some(a.dns_name.clone()),
            ),
            (None, "CNAME") => {
                let target = r.values.first().cloned().unwrap_or_default();
                if simple {
                    (Addresses::Resolve(r.name.clone()), Some(target))
                } else {
                    (Addresses::Resolve(target.clone()), Some(target))
                }
            }
            (None, _) => (
                Addresses::Literal(
                    r.values
                        .iter()
                        .filter_map(|v| v.trim().parse().ok())
                        .collect(),
                ),
                None,
            ),
        };
        let attachment = via
            .as_deref()
            .and_then(|v| attachments.get(&attachment_key(v)))
            .cloned();
        out.push(Planned {
            host: bare(&r.name),
            origin: TargetOrigin::Record {
                zone_id: zone.id.clone(),
                name: r.name.clone(),
                record_type: r.record_type.clone(),
                set_identifier: r.set_identifier.clone(),
                routing: r.routing,
                failover: r.failover,
                via,
            },
            attachment,
            addresses,
            ports: ports.to_vec(),
        });
    }
    out
}

/// Handshakes the probe itself could not finish (a limit of its TLS
/// library, not a defect of the endpoint): one scan error each, and the
/// endpoint's findings (and, when no address of the name was read, the
/// name's coverage finding) are kept as they are, neither refreshed nor
/// resolved.
fn probe_limits(probed: &[(TlsTarget, TlsOutcome)], out: &mut FamilyOutcome) {
    let served: BTreeSet<&str> = probed
        .iter()
        .filter(|(_, o)| matches!(o, TlsOutcome::Served(_)))
        .map(|(t, _)| t.host.as_str())
        .collect();
    for (t, o) in probed {
        let TlsOutcome::ProbeLimit { limit, error } = o else {
            continue;
        };
        out.errors.push(global(PortError::new(
            "tls",
            "handshake",
            ErrorKind::Other,
            format!(
                "{} at {}: the certificate could not be inspected because the server sent {limit} ({error}); \
                 a limit of zonewarden's TLS probe, not a fault of the endpoint: its findings are kept as they were",
                t.host, t.address
            ),
        )));
        out.coverage.hold(t.id());
        if !served.contains(t.host.as_str()) {
            out.coverage.hold(&t.host);
        }
    }
}

/// What the coverage map needs of the organization's other accounts.
#[derive(Debug, Default)]
struct OrganizationMap {
    /// The names of their issued certificates, one list per certificate.
    names: Vec<Vec<String>>,
    /// Their public zones a name of this account's certificates falls in
    /// (the longest covering name, wherever it is), each with its copy (None
    /// when it is not current: that name is not judged).
    zones: Vec<(SharedZone, Option<PublishedRecords>)>,
}

/// None when some account's published estate could not be read (recorded).
async fn organization_map(
    org: &dyn OrganizationEstate,
    certificates: &[Certificate],
    own: &[(HostedZone, Vec<RecordSet>)],
    now: DateTime<Utc>,
    errors: &mut Vec<ScanError>,
) -> Option<OrganizationMap> {
    let (shared_certificates, shared_zones) = futures::join!(org.certificates(), org.zones());
    let mut complete = true;
    let mut read = |failed: Vec<(crate::org::AccountRef, PortError)>| {
        for (_, e) in failed {
            complete = false;
            errors.push(global(e));
        }
    };
    let (names, zones) = match (shared_certificates, shared_zones) {
        (Ok(c), Ok(z)) => {
            read(c.failed);
            read(z.failed);
            (c.certificates, z.zones)
        }
        (c, z) => {
            for e in [c.err(), z.err()].into_iter().flatten() {
                errors.push(global(e));
            }
            return None;
        }
    };
    if !complete {
        return None;
    }
    let own_ids: BTreeSet<&str> = own.iter().map(|(z, _)| z.id.as_str()).collect();
    let zones: Vec<SharedZone> = zones
        .into_iter()
        .filter(|z| !z.zone.private && !own_ids.contains(z.zone.id.as_str()))
        .collect();
    // Only the shared zones some certificate name falls in are read.
    let all: Vec<HostedZone> = own
        .iter()
        .map(|(z, _)| z.clone())
        .chain(zones.iter().map(|z| z.zone.clone()))
        .collect();
    let needed: BTreeSet<String> = certificates
        .iter()
        .filter(|c| c.status == crate::model::CertificateStatus::Issued)
        .flat_map(|c| std::iter::once(&c.domain_name).chain(&c.subject_alternative_names))
        .map(|n| n.trim_start_matches("*.").to_owned())
        .flat_map(|n| {
            covering_zones(&n, &all)
                .into_iter()
                .map(|z| z.id.clone())
                .collect::<Vec<_>>()
        })
        .collect();
    let mut map = OrganizationMap {
        names: names.into_iter().map(|c| c.names).collect(),
        zones: Vec::new(),
    };
    for zone in zones.into_iter().filter(|z| needed.contains(&z.zone.id)) {
        let copy = match crate::families::certificates::current_copy(org, &zone, now).await {
            Ok(c) => Some(c),
            Err(e) => {
                errors.push(global(e));
                None
            }
        };
        map.zones.push((zone, copy));
    }
    Some(map)
}

fn failing(d: &crate::Detection) -> bool {
    match d.code {
        FindingCode::TlsExpired
        | FindingCode::TlsHandshakeFailed
        | FindingCode::TlsHostnameMismatch
        | FindingCode::TlsUntrustedChain
        | FindingCode::TlsNotAcmCertificate => true,
        FindingCode::TlsExpiring => d.severity >= Severity::High,
        _ => false,
    }
}

impl<C, Z, I, A, P, T> EndpointsFamily<'_, C, Z, I, A, P, T>
where
    C: CertificateSource,
    Z: ZoneSource,
    I: InventoryCache,
    A: AttachmentSource,
    P: DnsProbe,
    T: TlsProber,
{
    async fn scan(&self, now: DateTime<Utc>) -> FamilyOutcome {
        let mut out = FamilyOutcome::default();
        let records = zone_records(
            self.zones,
            self.cache,
            self.inventory_max_age,
            now,
            &mut out.errors,
        )
        .await;
        let (certificates, all_certificates) = self.certificates(&mut out.errors).await;
        let (attachments, attachment_errors) = self.attachments.attachments(self.regions).await;
        let attachments_complete = attachment_errors.is_empty();
        out.errors.extend(attachment_errors.into_iter().map(global));
        let by_name: BTreeMap<String, Attachment> = attachments
            .into_iter()
            .map(|a| (attachment_key(&a.dns_name), a))
            .collect();

        let mut plan = Vec::new();
        if let Some(zones) = &records.zones {
            for (zone, sets) in zones.iter().filter(|(z, _)| !z.private) {
                plan.extend(plan_zone(zone, sets, &by_name, &self.config.ports));
            }
        }
        for (host, port) in &self.config.targets {
            plan.push(Planned {
                host: host.clone(),
                origin: TargetOrigin::Configured,
                attachment: None,
                addresses: match host.parse::<IpAddr>() {
                    Ok(ip) => Addresses::Literal(vec![ip]),
                    Err(_) => Addresses::Resolve(host.clone()),
                },
                ports: vec![*port],
            });
        }

        let (targets, skipped, unresolved) = self.resolve(plan).await;
        let probed: Vec<(TlsTarget, TlsOutcome)> = {
            let mut p: Vec<(TlsTarget, TlsOutcome)> = stream::iter(targets)
                .map(|t| async move {
                    let o = self.prober.handshake(&t.host, t.address).await;
                    (t, o)
                })
                .buffer_unordered(self.config.concurrency.max(1) as usize)
                .collect()
                .await;
            p.sort_by_key(|(t, _)| t.id());
            p
        };

        probe_limits(&probed, &mut out);
        let endpoint_findings = rules::endpoints(&probed, &certificates, self.rules, now);
        let failing_endpoints: BTreeSet<&str> = endpoint_findings
            .iter()
            .filter(|d| failing(d))
            .map(|d| d.resource.id.as_str())
            .collect();
        let failing_count = failing_endpoints.len();
        out.detections.extend(endpoint_findings);
        let zone_names: BTreeMap<String, String> = records
            .zones
            .iter()
            .flatten()
            .map(|(z, _)| (z.id.clone(), z.name.clone()))
            .collect();
        out.detections
            .extend(rules::not_probed(&skipped, &zone_names));
        if attachments_complete {
            if let Some(zones) = &records.zones {
                for (zone, _) in zones
                    .iter()
                    .filter(|(z, _)| !records.failed.contains(&z.id))
                {
                    out.coverage.insert(Check::TlsEndpoints, &zone.id);
                }
            }
            out.coverage.insert(Check::TlsEndpoints, CONFIGURED_SCOPE);
        }
        if let (Some(zones), true, true) = (&records.zones, records.complete(), all_certificates) {
            let organization = match self.organization {
                None => Some(None),
                Some(org) => organization_map(org, &certificates, zones, now, &mut out.errors)
                    .await
                    .map(Some),
            };
            // None: an account's published estate could not be read, and a
            // name may be covered (or held) there: no claim either way.
            if let Some(organization) = organization {
                out.coverage
                    .insert(Check::TlsCoverage, rules::COVERAGE_SCOPE);
                out.detections.extend(rules::names_not_covered(
                    &probed,
                    &certificates,
                    organization.as_ref().map(|o| o.names.as_slice()),
                ));
                let mut map: Vec<rules::MapZone<'_>> = zones
                    .iter()
                    .map(|(zone, sets)| rules::MapZone {
                        zone,
                        records: Some(sets.as_slice()),
                        published: None,
                    })
                    .collect();
                if let Some(o) = &organization {
                    map.extend(o.zones.iter().map(|(shared, copy)| rules::MapZone {
                        zone: &shared.zone,
                        records: copy.as_ref().map(|c| c.record_sets.as_slice()),
                        published: Some((
                            &shared.account,
                            copy.as_ref().map_or(now, |c| c.listed_at),
                        )),
                    }));
                }
                let not_in_dns = rules::names_not_in_dns(&certificates, &map);
                for arn in &not_in_dns.unjudged {
                    out.coverage.hold(arn);
                }
                out.detections.extend(not_in_dns.detections);
            }
        }
        if self.retire_unmonitored
            && let Some(zones) = &records.zones
        {
            let mut scopes: BTreeSet<String> = zones.iter().map(|(z, _)| z.id.clone()).collect();
            scopes.insert(CONFIGURED_SCOPE.to_owned());
            scopes.insert(rules::COVERAGE_SCOPE.to_owned());
            out.monitored = Some(scopes);
        }

        // One scope for every endpoint: written only when every zone was
        // read (a partial list would drop the others' entries).
        if records.complete() {
            out.inventory.push(ScopeInventory {
                kind: InventoryKind::Endpoints,
                scope: "endpoints".to_owned(),
                entries: probed
                    .iter()
                    .map(|(t, o)| {
                        let (served, issuer, serial, outcome) = match o {
                            TlsOutcome::Served(c) => (
                                Some(c.not_after),
                                Some(c.issuer.clone()),
                                Some(c.serial.clone()),
                                "served".to_owned(),
                            ),
                            TlsOutcome::NoService { .. } => {
                                (None, None, None, "no-service".to_owned())
                            }
                            TlsOutcome::Failed { stage, .. } => {
                                (None, None, None, format!("failed ({stage})"))
                            }
                            TlsOutcome::KeyTooSmall(_) => {
                                (None, None, None, "key-too-small".to_owned())
                            }
                            TlsOutcome::ProbeLimit { .. } => {
                                (None, None, None, "probe-limit".to_owned())
                            }
                        };
                        InventoryEntry {
                            id: t.id(),
                            name: format!("{}:{}", t.host, t.address.port()),
                            region: "global".to_owned(),
                            not_after: served,
                            details: BTreeMap::from([
                                (
                                    "address".to_owned(),
                                    serde_json::json!(t.address.ip().to_string()),
                                ),
                                ("port".to_owned(), serde_json::json!(t.address.port())),
                                ("issuer".to_owned(), serde_json::json!(issuer)),
                                ("serial".to_owned(), serde_json::json!(serial)),
                                ("outcome".to_owned(), serde_json::json!(outcome)),
                            ]),
                            checked_at: now,
                        }
                    })
                    .collect(),
            });
        }
        let count = |f: fn(&TlsOutcome) -> bool| probed.iter().filter(|(_, o)| f(o)).count() as u64;
        out.counts.insert("tls_targets".into(), probed.len() as u64);
        out.counts.insert(
            "tls_served".into(),
            count(|o| matches!(o, TlsOutcome::Served(_))),
        );
        out.counts.insert(
            "tls_no_service".into(),
            count(|o| matches!(o, TlsOutcome::NoService { .. })),
        );
        out.counts.insert(
            "tls_failed".into(),
            count(|o| matches!(o, TlsOutcome::Failed { .. } | TlsOutcome::KeyTooSmall(_))),
        );
        out.counts.insert(
            "tls_probe_limit".into(),
            count(|o| matches!(o, TlsOutcome::ProbeLimit { .. })),
        );
        out.counts.insert("tls_names_unresolved".into(), unresolved);
        out.counts
            .insert("tls_not_probed".into(), skipped.len() as u64);
        out.metrics
            .push(Metric::TlsEndpointsFailing.datum(failing_count as f64));
        out.metrics
            .push(Metric::TlsEndpointsProbed.datum(probed.len() as f64));
        let min_days = probed
            .iter()
            .filter_map(|(_, o)| match o {
                TlsOutcome::Served(s) => Some(days_left(s.not_after, now)),
                _ => None,
            })
            .min();
        if let Some(days) = min_days {
            out.metrics
                .push(Metric::MinServedDaysToExpiry.datum(days as f64));
        }
        out
    }

    /// ACM certificates of every configured region (for serials and the
    /// coverage map), and whether every region was read whole.
    async fn certificates(&self, errors: &mut Vec<ScanError>) -> (Vec<Certificate>, bool) {
        let results = join_all(
            self.regions
                .iter()
                .map(|r| self.certificates.certificates(r, self.stop)),
        )
        .await;
        let mut all = true;
        let mut certs = Vec::new();
        for (region, r) in self.regions.iter().zip(results) {
            match r {
                Ok(listed) => {
                    all &= listed.failed.is_empty() && listed.unvisited.is_empty();
                    for (_, e) in listed.failed {
                        errors.push(ScanError::new(region.clone(), e));
                    }
                    certs.extend(listed.certificates);
                }
                Err(e) => {
                    all = false;
                    errors.push(ScanError::new(region.clone(), e));
                }
            }
        }
        (certs, all)
    }

    /// Addresses of every planned target; each distinct name resolved once.
    /// Returns the targets, the targets the probe may not connect to (an
    /// address off the internet learned from a record; configured targets
    /// are probed as given) with why, and how many names did not resolve.
    async fn resolve(&self, plan: Vec<Planned>) -> (Vec<TlsTarget>, Vec<(TlsTarget, String)>, u64) {
        let names: BTreeSet<String> = plan
            .iter()
            .filter_map(|p| match &p.addresses {
                Addresses::Resolve(n) => Some(n.clone()),
                Addresses::Literal(_) => None,
            })
            .collect();
        let resolved: BTreeMap<String, Vec<IpAddr>> = stream::iter(names)
            .map(|name| async move {
                let ips = match self.resolver.resolve(&name, "A").await {
                    Resolution::Answer { records, .. } => records
                        .iter()
                        .filter(|r| r.rtype == "A")
                        .filter_map(|r| r.data.trim().parse().ok())
                        .collect(),
                    _ => Vec::new(),
                };
                (name, ips)
            })
            .buffer_unordered(self.config.concurrency.max(1) as usize)
            .collect()
            .await;
        let mut unresolved = 0;
        let mut seen = BTreeSet::new();
        let mut targets = Vec::new();
        let mut skipped = Vec::new();
        for p in plan {
            let ips = match &p.addresses {
                Addresses::Literal(ips) => ips.clone(),
                Addresses::Resolve(n) => resolved.get(n).cloned().unwrap_or_default(),
            };
            if ips.is_empty() {
                unresolved += 1;
                continue;
            }
            for ip in ips {
                for port in &p.ports {
                    let address = SocketAddr::new(ip, *port);
                    if seen.insert((p.host.clone(), address)) {
                        let target = TlsTarget {
                            host: p.host.clone(),
                            address,
                            origin: p.origin.clone(),
                            attachment: p.attachment.clone(),
                        };
                        let allowed = match &p.origin {
                            TargetOrigin::Configured => Ok(()),
                            TargetOrigin::Record { .. } => self.resolver.may_probe(address),
                        };
                        match allowed {
                            Ok(()) => targets.push(target),
                            Err(why) => skipped.push((target, why)),
                        }
                    }
                }
            }
        }
        (targets, skipped, unresolved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::families::dns::model::{AliasTarget, FailoverRole};

    fn zone() -> HostedZone {
        HostedZone {
            id: "Z1".into(),
            name: "example.com.".into(),
            private: false,
            record_set_count: 0,
        }
    }

    #[test]
    fn a_probe_limit_is_a_scan_error_and_keeps_the_endpoints_findings() {
        let target = |host: &str, ip: &str| TlsTarget {
            host: host.into(),
            address: format!("{ip}:443").parse().expect("addr"),
            origin: TargetOrigin::Configured,
            attachment: None,
        };
        let limit = || TlsOutcome::ProbeLimit {
            limit: "a handshake message over 64 KiB".into(),
            error: "message buffer full".into(),
        };
        let probed = vec![
            (target("many.example.com", "192.0.2.1"), limit()),
            (target("mixed.example.com", "192.0.2.2"), limit()),
            (
                target("mixed.example.com", "192.0.2.3"),
                TlsOutcome::Served(crate::families::endpoints::model::ServedCertificate {
                    serial: "1".into(),
                    subject: "CN=mixed.example.com".into(),
                    common_name: Some("mixed.example.com".into()),
                    issuer: "CN=CA".into(),
                    has_san: true,
                    names: vec!["mixed.example.com".into()],
                    not_before: DateTime::<Utc>::UNIX_EPOCH,
                    not_after: DateTime::<Utc>::UNIX_EPOCH,
                    key_type: "EC P-256".into(),
                    protocol: "TLSv1.3".into(),
                    chain_error: None,
                    hostname_matches: true,
                }),
            ),
            (
                target("ok.example.com", "192.0.2.4"),
                TlsOutcome::Failed {
                    stage: "handshake".into(),
                    error: "alert".into(),
                },
            ),
        ];
        let mut out = FamilyOutcome::default();
        probe_limits(&probed, &mut out);
        assert_eq!(out.errors.len(), 2, "{:?}", out.errors);
        let e = &out.errors[0];
        assert_eq!((e.service, e.operation), ("tls", "handshake"));
        assert!(
            e.message.contains("many.example.com at 192.0.2.1:443")
                && e.message
                    .contains("a limit of zonewarden's TLS probe, not a fault of the endpoint"),
            "{}",
            e.message
        );
        assert!(out.coverage.is_held("many.example.com:443@192.0.2.1"));
        assert!(out.coverage.is_held("many.example.com"));
        assert!(out.coverage.is_held("mixed.example.com:443@192.0.2.2"));
        // Another address of the name was read: its coverage finding is judged.
        assert!(!out.coverage.is_held("mixed.example.com"));
        assert!(!out.coverage.is_held("mixed.example.com:443@192.0.2.3"));
        assert!(!out.coverage.is_held("ok.example.com:443@192.0.2.4"));
    }

    #[test]
    fn plans_standbys_by_their_own_addresses_and_skips_what_browsers_never_ask() {
        let mut primary = RecordSet::simple("app.example.com", "A", &["192.0.2.1"]);
        primary.routing = RoutingPolicy::Failover;
        primary.failover = Some(FailoverRole::Primary);
        let mut standby = RecordSet::simple("app.example.com", "A", &[]);
        standby.routing = RoutingPolicy::Failover;
        standby.failover = Some(FailoverRole::Secondary);
        standby.alias = Some(AliasTarget {
            dns_name: "dualstack.lb-1.eu-west-1.elb.amazonaws.com.".into(),
            hosted_zone_id: "Z32".into(),
            evaluate_target_health: true,
        });
        let mut cdn = RecordSet::simple("www.example.com", "A", &[]);
        cdn.alias = Some(AliasTarget {
            dns_name: "d111.cloudfront.net.".into(),
            hosted_zone_id: "Z2FDTNDATAQYW2".into(),
            evaluate_target_health: false,
        });
        let sets = vec![
            primary,
            standby,
            cdn,
            RecordSet::simple(
                "_abc.www.example.com",
                "CNAME",
                &["_x.acm-validations.aws."],
            ),
            RecordSet::simple("*.example.com", "A", &["192.0.2.9"]),
            RecordSet::simple("example.com", "MX", &["10 mail.example.com."]),
            RecordSet::simple("v6.example.com", "AAAA", &["2001:db8::1"]),
        ];
        let lb = Attachment {
            kind: "elb".into(),
            resource: "arn:lb".into(),
            dns_name: "lb-1.eu-west-1.elb.amazonaws.com.".into(),
            certificate_arns: vec!["arn:c".into()],
            iam_certificates: Vec::new(),
        };
        let attachments: BTreeMap<String, Attachment> =
            [(attachment_key(&lb.dns_name), lb)].into_iter().collect();
        let plan = plan_zone(&zone(), &sets, &attachments, &[443, 8443]);
        let summary: Vec<(String, Addresses, bool)> = plan
            .iter()
            .map(|p| (p.host.clone(), p.addresses.clone(), p.attachment.is_some()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (
                    "app.example.com".into(),
                    Addresses::Literal(vec!["192.0.2.1".parse().expect("ip")]),
                    false
                ),
                (
                    "app.example.com".into(),
                    Addresses::Resolve("dualstack.lb-1.eu-west-1.elb.amazonaws.com.".into()),
                    true
                ),
                (
                    "www.example.com".into(),
                    Addresses::Resolve("www.example.com.".into()),
                    false
                ),
            ]
        );
        assert_eq!(plan[0].ports, vec![443, 8443]);
    }
}
