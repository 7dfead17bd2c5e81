//! The DNS family: Route 53's configuration of every hosted zone (the
//! inventory, cached between listings) against what DNS on the internet
//! answers: delegation from the parent, every record set asked of every
//! server of the zone, dangling targets, CAA, DNSSEC and the user's
//! expectations.
//!
//! collect (Route 53 through the account-wide budget, the cache, the DNS
//! probe, AWS target look-ups) -> `DnsFacts` -> pure rules (`rules`),
//! which also say which (check, zone) pairs were fully collected.

pub mod config;
pub mod model;
pub mod ports;
pub mod rules;

use self::config::DnsConfig;
use self::model::{
    CaaLookup, CertificateNames, DnsFacts, NotProbed, Question, Resolution, ServerFacts,
    SubDelegation, ZoneFacts, ZoneInventory,
};
use self::ports::{AwsTargets, DnsProbe, InventoryCache};
use crate::family::{Family, FamilyOutcome};
use crate::inventory::{InventoryEntry, InventoryKind, ScopeInventory};
use crate::metrics::{Metric, MetricDatum};
use crate::model::{HostedZone, Region, normalize_dns_name};
use crate::ports::{CertificateSource, DocumentSource, ErrorKind, PortError, ZoneSource};
use crate::record::ScanError;
use chrono::{DateTime, Duration, Utc};
use futures::StreamExt;
use futures::future::{BoxFuture, join_all};
use futures::stream;
use std::collections::{BTreeMap, BTreeSet};

pub const NAME: &str = "dns";

/// Record sets per `ListResourceRecordSets` page.
const PAGE: u64 = 300;
/// Names resolved at once (CAA climbs, dangling targets, expectations).
const RESOLVE_CONCURRENCY: usize = 16;
/// Zones probed at once; each zone's servers are asked concurrently.
const ZONE_CONCURRENCY: usize = 4;

pub struct DnsFamily<'a, Z, I, P, T, C, D> {
    pub zones: &'a Z,
    /// None: no table, so every scan lists every zone.
    pub cache: Option<&'a I>,
    pub probe: &'a P,
    pub targets: &'a T,
    pub certificates: &'a C,
    pub expectations: &'a D,
    pub regions: &'a [Region],
    pub config: &'a DnsConfig,
    /// Zones a change event named: listed again whatever the cache says.
    pub changed_zones: &'a BTreeSet<String>,
    /// Report every zone, certificate and the expectations as all that is
    /// monitored, when they could all be listed (`FamilyOutcome::monitored`).
    pub retire_unmonitored: bool,
}

impl<Z, I, P, T, C, D> std::fmt::Debug for DnsFamily<'_, Z, I, P, T, C, D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DnsFamily")
            .field("zones", &self.config.zones)
            .finish_non_exhaustive()
    }
}

impl<Z, I, P, T, C, D> Family for DnsFamily<'_, Z, I, P, T, C, D>
where
    Z: ZoneSource,
    I: InventoryCache,
    P: DnsProbe,
    T: AwsTargets,
    C: CertificateSource,
    D: DocumentSource,
{
    fn name(&self) -> &'static str {
        NAME
    }

    fn run(&self, now: DateTime<Utc>) -> BoxFuture<'_, FamilyOutcome> {
        Box::pin(async move {
            let mut c = Collected::default();
            self.collect(now, &mut c).await;
            let mut out = FamilyOutcome::default();
            let settings = rules::DnsRuleSettings {
                expectations: c.expectations.take(),
                ..rules::DnsRuleSettings::default()
            };
            let evaluated = rules::evaluate(&c.facts, now, &settings);
            for (check, scope) in evaluated.covered {
                out.coverage.insert(check, scope);
            }
            out.detections = evaluated.detections;
            out.counts = counts(&c);
            out.metrics = metrics(&c);
            out.errors = c.errors;
            // Our limitations are our errors, never findings about servers.
            out.errors
                .extend(evaluated.limitations.into_iter().map(|message| {
                    global(PortError::new(
                        "zonewarden",
                        "dns-compare",
                        ErrorKind::Other,
                        message,
                    ))
                }));
            out.monitored = c.monitored.filter(|_| self.retire_unmonitored);
            out.inventory = zone_inventory(&c.facts, now);
            out
        })
    }
}

/// What collection brought back, with its bookkeeping.
#[derive(Debug, Default)]
struct Collected {
    facts: DnsFacts,
    expectations: Option<rules::expectations::Expectations>,
    errors: Vec<ScanError>,
    /// Route 53 calls a listing would have cost but the cache saved.
    route53_calls_saved: u64,
    zones_listed: u64,
    zones_compared: u64,
    zones_quota_assumed: u64,
    /// Every scope the family monitors (zone ids, certificate ARNs, the
    /// expectations), while every listing behind it succeeded.
    monitored: Option<BTreeSet<String>>,
}

/// Each collected zone, for `zonewarden inventory zones`.
fn zone_inventory(facts: &DnsFacts, now: DateTime<Utc>) -> Vec<ScopeInventory> {
    facts
        .zones
        .iter()
        .map(|z| {
            let inv = &z.inventory;
            ScopeInventory {
                kind: InventoryKind::Zones,
                scope: inv.zone.id.clone(),
                entries: vec![InventoryEntry {
                    id: inv.zone.id.clone(),
                    name: inv.zone.name.clone(),
                    region: "global".to_owned(),
                    not_after: None,
                    details: BTreeMap::from([
                        ("private".to_owned(), serde_json::json!(inv.zone.private)),
                        (
                            "record_sets".to_owned(),
                            serde_json::json!(inv.record_sets.len()),
                        ),
                        (
                            "name_servers".to_owned(),
                            serde_json::json!(inv.name_servers),
                        ),
                        (
                            "dnssec".to_owned(),
                            serde_json::json!(
                                inv.dnssec.as_ref().map(|d| d.serve_signature.clone())
                            ),
                        ),
                        ("compared_at".to_owned(), serde_json::json!(inv.compared_at)),
                    ]),
                    checked_at: now,
                }],
            }
        })
        .collect()
}

/// What the inventory cache needs once a zone is probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CacheWrite {
    Nothing,
    /// New record sets: the whole inventory.
    Save,
    /// Same record sets: the head (listing and comparison times) only.
    Touch,
}

/// Some server of the zone answered something authoritatively.
fn any_authoritative(facts: &ZoneFacts) -> bool {
    facts.servers.iter().any(|s| {
        s.observations
            .iter()
            .any(|o| o.outcome.as_ref().is_ok_and(|a| a.authoritative))
    })
}

fn global(e: PortError) -> ScanError {
    ScanError::new(Region::global(), e)
}

impl<Z, I, P, T, C, D> DnsFamily<'_, Z, I, P, T, C, D>
where
    Z: ZoneSource,
    I: InventoryCache,
    P: DnsProbe,
    T: AwsTargets,
    C: CertificateSource,
    D: DocumentSource,
{
    async fn collect(&self, now: DateTime<Utc>, c: &mut Collected) {
        let zones = match self.zones.hosted_zones().await {
            Ok(z) => z,
            Err(e) => {
                c.errors.push(global(e));
                return;
            }
        };
        // Narrowed to some zones, the others are not "no longer monitored".
        if self.config.zones.is_empty() {
            let mut scopes: BTreeSet<String> = zones.iter().map(|z| z.id.clone()).collect();
            scopes.insert(rules::EXPECTATIONS_SCOPE.to_owned());
            c.monitored = Some(scopes);
        }
        let zones = self.selected(zones, c);

        // Inventory: sequential, since Route 53's budget is per account.
        let mut inventories = Vec::new();
        for zone in zones {
            if let Some(listed) = self.inventory(zone, now, c).await {
                inventories.push(listed);
            }
        }

        // The internet's view of each public zone, a few zones at a time.
        let probed: Vec<(ZoneFacts, CacheWrite)> = stream::iter(inventories)
            .map(|(inv, mut write)| async move {
                let compare = self.comparison_due(&inv, now);
                let mut facts = self.probe_zone(inv, compare).await;
                if facts.compared && any_authoritative(&facts) {
                    facts.inventory.compared_at = Some(now);
                    if write == CacheWrite::Nothing {
                        write = CacheWrite::Touch;
                    }
                }
                (facts, write)
            })
            .buffered(ZONE_CONCURRENCY)
            .collect()
            .await;
        // Written after probing, so that the comparison time goes with it.
        for (facts, write) in &probed {
            c.zones_compared += u64::from(facts.compared);
            let Some(cache) = self.cache else { continue };
            let written = match write {
                CacheWrite::Nothing => Ok(()),
                CacheWrite::Save => cache.save(&facts.inventory).await,
                CacheWrite::Touch => cache.touch(&facts.inventory).await,
            };
            if let Err(e) = written {
                c.errors.push(global(e));
            }
        }
        c.facts.zones = probed.into_iter().map(|(facts, _)| facts).collect();

        self.certificate_names(c).await;
        self.caa(c).await;
        self.dangling(c).await;
        self.expectations(c).await;
    }

    /// Zones named in `ZW_DNS_ZONES` / `--zone` (by name or id), or all.
    fn selected(&self, zones: Vec<HostedZone>, c: &mut Collected) -> Vec<HostedZone> {
        if self.config.zones.is_empty() {
            return zones;
        }
        let mut out = Vec::new();
        for wanted in &self.config.zones {
            let name = normalize_dns_name(wanted);
            let hits: Vec<&HostedZone> = zones
                .iter()
                .filter(|z| z.id == *wanted || z.name == name)
                .collect();
            if hits.is_empty() {
                c.errors.push(global(PortError::new(
                    "route53",
                    "ListHostedZones",
                    ErrorKind::NotFound,
                    format!("no hosted zone named or with id `{wanted}` in this account; check --zone / ZW_DNS_ZONES"),
                )));
            }
            for z in hits {
                if !out.contains(z) {
                    out.push(z.clone());
                }
            }
        }
        out
    }

    /// Whether every record set of the zone is asked this scan: always
    /// without a cache (nothing remembers the last comparison), else when
    /// the last one is older than `ZW_DNS_COMPARE_INTERVAL_MINUTES`.
    fn comparison_due(&self, inv: &ZoneInventory, now: DateTime<Utc>) -> bool {
        let interval = Duration::minutes(i64::from(self.config.compare_interval_minutes));
        self.cache.is_none() || inv.compared_at.is_none_or(|last| now - last >= interval)
    }

    /// The zone's inventory: from the cache when it is fresh and the zone's
    /// record count did not move, else listed again. With what the cache
    /// needs written once the zone is probed.
    async fn inventory(
        &self,
        zone: HostedZone,
        now: DateTime<Utc>,
        c: &mut Collected,
    ) -> Option<(ZoneInventory, CacheWrite)> {
        let max_age = Duration::minutes(i64::from(self.config.inventory_max_age_minutes));
        let changed = self.changed_zones.contains(&zone.id);
        let mut previous = None;
        if let Some(cache) = self.cache {
            match cache.load(&zone.id).await {
                Ok(Some(cached))
                    if !changed
                        && cached.zone.record_set_count == zone.record_set_count
                        && now - cached.listed_at < max_age =>
                {
                    // GetHostedZone + GetDNSSEC + the record pages (and
                    // GetHostedZoneLimit for a zone near the default quota).
                    let limit = u64::from(rules::quota::limit_matters(
                        zone.record_set_count,
                        &rules::DnsRuleSettings::default(),
                    ));
                    c.route53_calls_saved +=
                        2 + limit + zone.record_set_count.div_ceil(PAGE).max(1);
                    return Some((ZoneInventory { zone, ..cached }, CacheWrite::Nothing));
                }
                Ok(cached) => previous = cached,
                Err(e) => c.errors.push(global(e)),
            }
        }
        let record_sets = match self.zones.record_sets(&zone.id).await {
            Ok(r) => r,
            Err(e) => {
                c.errors.push(global(e));
                return None;
            }
        };
        let name_servers = if zone.private {
            Vec::new()
        } else {
            match self.zones.name_servers(&zone.id).await {
                Ok(n) => n,
                Err(e) => {
                    c.errors.push(global(e));
                    Vec::new()
                }
            }
        };
        let dnssec = if zone.private {
            None
        } else {
            match self.zones.dnssec(&zone.id).await {
                Ok(d) => Some(d),
                Err(e) => {
                    c.errors.push(global(e));
                    None
                }
            }
        };
        let held = zone
            .record_set_count
            .max(u64::try_from(record_sets.len()).unwrap_or(u64::MAX));
        let record_set_limit =
            if rules::quota::limit_matters(held, &rules::DnsRuleSettings::default()) {
                self.record_set_limit(&zone.id, c).await
            } else {
                None
            };
        c.zones_listed += 1;
        // A listing that found the same record sets rewrites the cache's head
        // only, and keeps the last comparison unless a change event named the
        // zone: most relistings find nothing new, and rewriting megabytes of
        // chunks each time was the cache's whole cost (docs/cost.md).
        let (write, compared_at) = match previous {
            Some(p) if p.record_sets == record_sets => {
                (CacheWrite::Touch, p.compared_at.filter(|_| !changed))
            }
            _ if self.cache.is_some() => (CacheWrite::Save, None),
            _ => (CacheWrite::Nothing, None),
        };
        Some((
            ZoneInventory {
                zone,
                name_servers,
                record_sets,
                dnssec,
                listed_at: now,
                compared_at,
                record_set_limit,
            },
            write,
        ))
    }

    /// The record-set quota of a zone near the default one, read with its
    /// listing (never on a scan that uses the cache: Route 53's budget is
    /// small). None when it cannot be read: the quota rule then assumes the
    /// default and says so, and the scan counts the zone
    /// (`zones_quota_assumed`). moto does not answer `GetHostedZoneLimit`
    /// (404): that is no scan error; any other failure is one.
    async fn record_set_limit(&self, zone_id: &str, c: &mut Collected) -> Option<u64> {
        let read = self.zones.record_set_limit(zone_id).await;
        if read.is_err() {
            c.zones_quota_assumed += 1;
        }
        match read {
            Ok(limit) => Some(limit),
            Err(e) if e.kind == ErrorKind::NotFound => None,
            Err(e) => {
                c.errors.push(global(e));
                None
            }
        }
    }

    /// Delegation, every server asked every configured name and type (or,
    /// between comparisons, the apex SOA and NS), and the servers of
    /// delegated subdomains. Private zones cannot be asked from outside
    /// their VPCs: inventory only.
    async fn probe_zone(&self, inventory: ZoneInventory, compare: bool) -> ZoneFacts {
        let dnssec_read = inventory.dnssec.is_some();
        if inventory.zone.private {
            return ZoneFacts {
                inventory,
                delegation: None,
                servers: Vec::new(),
                sub_delegations: Vec::new(),
                dnssec_read,
                compared: false,
            };
        }
        let apex = inventory.zone.name.clone();
        let mut server_names: Vec<String> = inventory.name_servers.clone();
        for rs in &inventory.record_sets {
            if rs.name == apex && rs.record_type == "NS" {
                for v in &rs.values {
                    let n = normalize_dns_name(v);
                    if !server_names.contains(&n) {
                        server_names.push(n);
                    }
                }
            }
        }
        let questions: Vec<Question> = inventory
            .record_sets
            .iter()
            .filter(|rs| !(rs.record_type == "NS" && rs.name != apex))
            .filter(|rs| {
                compare || (rs.name == apex && ["SOA", "NS"].contains(&rs.record_type.as_str()))
            })
            .map(|rs| Question {
                name: rs.name.clone(),
                rtype: rs.record_type.clone(),
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let dnssec_ok = inventory.dnssec.as_ref().is_some_and(|d| d.is_signing());

        let delegation = self.probe.delegation(&apex);
        let servers = join_all(
            server_names
                .iter()
                .map(|name| self.ask_server(name, &questions, dnssec_ok)),
        );
        let subs = join_all(
            inventory
                .record_sets
                .iter()
                .filter(|rs| rs.record_type == "NS" && rs.name != apex)
                .map(|rs| self.sub_delegation(rs.name.clone(), &rs.values)),
        );
        let (delegation, servers, sub_delegations) = futures::join!(delegation, servers, subs);
        ZoneFacts {
            inventory,
            delegation: Some(delegation),
            servers,
            sub_delegations,
            dnssec_read,
            compared: compare,
        }
    }

    async fn ask_server(&self, name: &str, questions: &[Question], dnssec_ok: bool) -> ServerFacts {
        let mut not_probed = Vec::new();
        let addresses = self.probe.server_addresses(name).await.map(|all| {
            all.into_iter()
                .filter(|a| match self.probe.may_probe(*a) {
                    Ok(()) => true,
                    Err(reason) => {
                        not_probed.push(NotProbed {
                            address: *a,
                            reason,
                        });
                        false
                    }
                })
                .collect::<Vec<_>>()
        });
        let observations = match addresses.as_ref().ok().and_then(|a| a.first()) {
            Some(addr) => self.probe.ask(*addr, questions, dnssec_ok).await,
            None => Vec::new(),
        };
        ServerFacts {
            name: name.to_owned(),
            addresses,
            observations,
            not_probed,
        }
    }

    async fn sub_delegation(&self, name: String, servers: &[String]) -> SubDelegation {
        let question = [Question {
            name: name.clone(),
            rtype: "SOA".into(),
        }];
        let servers = join_all(servers.iter().map(|s| {
            let s = normalize_dns_name(s);
            let q = &question;
            async move { self.ask_server(&s, q, false).await }
        }))
        .await;
        SubDelegation { name, servers }
    }

    /// Certificate names, for CAA. A region that cannot be read makes no CAA
    /// claim about its certificates (and resolves none).
    async fn certificate_names(&self, c: &mut Collected) {
        let results = join_all(
            self.regions
                .iter()
                // No stop of its own: the family's deadline bounds it.
                .map(|r| self.certificates.certificates(r, None)),
        )
        .await;
        // A region that cannot be read only loses its own certificates.
        let mut names = Vec::new();
        for (region, result) in self.regions.iter().zip(results) {
            match result {
                Ok(listed) => {
                    // Not described: no CAA claim about them this scan, but
                    // they exist, so they are still monitored.
                    for (arn, e) in listed.failed {
                        c.errors.push(ScanError::new(region.clone(), e));
                        if let Some(scopes) = c.monitored.as_mut() {
                            scopes.insert(arn);
                        }
                    }
                    if let Some(scopes) = c.monitored.as_mut() {
                        scopes.extend(listed.certificates.iter().map(|cert| cert.arn.clone()));
                        scopes.extend(listed.unvisited.iter().cloned());
                    }
                    names.extend(listed.certificates.into_iter().map(|cert| {
                        let mut all = vec![cert.domain_name.clone()];
                        for san in &cert.subject_alternative_names {
                            if !all.contains(san) {
                                all.push(san.clone());
                            }
                        }
                        CertificateNames {
                            arn: cert.arn,
                            region: cert.region,
                            domain_name: cert.domain_name,
                            names: all,
                        }
                    }));
                }
                Err(e) => {
                    c.errors.push(ScanError::new(region.clone(), e));
                    // A region that cannot be read may still hold certificates.
                    c.monitored = None;
                }
            }
        }
        c.facts.certificates = Some(names);
    }

    /// RFC 8659: the relevant CAA set is the first found climbing from the
    /// name towards the root.
    async fn caa(&self, c: &mut Collected) {
        let names = rules::caa::caa_names(&c.facts);
        let found: Vec<(String, CaaLookup)> = stream::iter(names)
            .map(|name| async move {
                let mut lookup = CaaLookup::None;
                for at in rules::caa::climb(&name) {
                    match self.probe.resolve(&at, "CAA").await {
                        Resolution::Answer { records, .. } => {
                            let caa: Vec<String> = records
                                .into_iter()
                                .filter(|r| r.rtype == "CAA")
                                .map(|r| r.data)
                                .collect();
                            if !caa.is_empty() {
                                lookup = CaaLookup::Found { at, records: caa };
                                break;
                            }
                        }
                        Resolution::NoData { .. } | Resolution::NxDomain { .. } => {}
                        Resolution::Failed { reason } => {
                            lookup = CaaLookup::Failed {
                                reason: format!("{at} CAA: {reason}"),
                            };
                            break;
                        }
                    }
                }
                (name, lookup)
            })
            .buffer_unordered(RESOLVE_CONCURRENCY)
            .collect()
            .await;
        c.facts.caa = found.into_iter().collect();
    }

    /// What dangling checks need: CNAME targets resolved, S3 buckets looked
    /// up, the account's endpoints and AWS's IP ranges.
    async fn dangling(&self, c: &mut Collected) {
        let targets = rules::dangling::cname_targets(&c.facts.zones);
        let resolved: Vec<(String, Resolution)> = stream::iter(targets)
            .map(|t| async move {
                let r = self.probe.resolve(&t, "A").await;
                (t, r)
            })
            .buffer_unordered(RESOLVE_CONCURRENCY)
            .collect()
            .await;
        c.facts.cname_targets = resolved.into_iter().collect();

        for b in rules::dangling::buckets_to_check(&c.facts.zones) {
            match self.targets.bucket_exists(&b).await {
                Ok(exists) => {
                    c.facts.buckets.insert(b, exists);
                }
                Err(e) => c.errors.push(global(e)),
            }
        }
        let (endpoints, errors) = self.targets.account_endpoints(self.regions).await;
        c.facts.endpoints = endpoints;
        c.errors.extend(errors.into_iter().map(global));
        match self.targets.ip_ranges().await {
            Ok(r) => c.facts.ip_ranges = Some(r),
            Err(e) => c.errors.push(global(e)),
        }
    }

    /// The user's expectations, answered by iterative resolution. A malformed
    /// document is a scan error naming the line; the rest of the scan goes on.
    async fn expectations(&self, c: &mut Collected) {
        let text = match self.expectations.fetch().await {
            Ok(Some(t)) => t,
            // No document: nothing is expected, so earlier expectation
            // findings resolve.
            Ok(None) => {
                c.expectations = Some(rules::expectations::Expectations::default());
                return;
            }
            Err(e) => {
                c.errors.push(global(e));
                return;
            }
        };
        let parsed = match rules::expectations::parse(&text) {
            Ok(p) => p,
            Err(e) => {
                c.errors.push(global(PortError::new(
                    "zonewarden",
                    "expectations",
                    ErrorKind::InvalidRequest,
                    format!("the DNS expectations document was refused: {e}"),
                )));
                return;
            }
        };
        let answers: Vec<(Question, Resolution)> =
            stream::iter(rules::expectations::questions(&parsed))
                .map(|q| async move {
                    let r = self.probe.resolve(&q.name, &q.rtype).await;
                    (q, r)
                })
                .buffer_unordered(RESOLVE_CONCURRENCY)
                .collect()
                .await;
        c.facts.expectation_answers = answers.into_iter().collect();
        c.expectations = Some(parsed);
    }
}

fn counts(c: &Collected) -> BTreeMap<String, u64> {
    let zones = &c.facts.zones;
    let queries: usize = zones
        .iter()
        .flat_map(|z| {
            z.servers
                .iter()
                .chain(z.sub_delegations.iter().flat_map(|s| s.servers.iter()))
        })
        .map(|s| s.observations.len())
        .sum();
    BTreeMap::from([
        ("hosted_zones".to_owned(), zones.len() as u64),
        (
            "record_sets".to_owned(),
            zones
                .iter()
                .map(|z| z.inventory.record_sets.len() as u64)
                .sum(),
        ),
        ("dns_queries".to_owned(), queries as u64),
        ("zones_listed".to_owned(), c.zones_listed),
        ("zones_compared".to_owned(), c.zones_compared),
        // Zones near the default quota listed this scan whose own quota
        // (`GetHostedZoneLimit`) could not be read: Route 53's default is
        // assumed for them.
        ("zones_quota_assumed".to_owned(), c.zones_quota_assumed),
        ("route53_calls_saved".to_owned(), c.route53_calls_saved),
    ])
}

fn metrics(c: &Collected) -> Vec<MetricDatum> {
    let n = counts(c);
    let get = |k: &str| n.get(k).copied().unwrap_or(0) as f64;
    let mut out = vec![
        Metric::HostedZonesMonitored.datum(get("hosted_zones")),
        Metric::RecordSetsMonitored.datum(get("record_sets")),
        Metric::DnsQueries.datum(get("dns_queries")),
        Metric::Route53CallsSaved.datum(get("route53_calls_saved")),
    ];
    // Median latency per server name: one series per server, full detail only.
    let mut by_server: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for z in &c.facts.zones {
        for s in &z.servers {
            let lat = by_server.entry(s.name.as_str()).or_default();
            lat.extend(
                s.observations
                    .iter()
                    .filter(|o| o.outcome.is_ok())
                    .map(|o| o.latency_us),
            );
        }
    }
    for (server, mut lat) in by_server {
        if lat.is_empty() {
            continue;
        }
        lat.sort_unstable();
        let median = lat[lat.len() / 2] as f64 / 1000.0;
        out.push(Metric::DnsLatencyMs.datum_by(server, median));
    }
    out
}
