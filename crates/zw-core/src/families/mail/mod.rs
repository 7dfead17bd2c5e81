//! The mail family: SPF, DMARC, SES Easy DKIM, MTA-STS and TLS-RPT of every
//! public zone's apex and every name with MX (and every SES domain identity
//! inside those zones), as receivers see them: from the served answers,
//! with Route 53's configuration named beside them where it differs.
//!
//! collect (the zones' record sets, the SES identities of each region, then
//! per name its TXT, MX, DMARC, SPF includes, MTA-STS record and policy,
//! through the DNS family's resolver, cached per scan) -> pure rules
//! (`rules`, with the parsers `spf`, `dmarc`, `mta_sts`).

pub mod dmarc;
pub mod model;
pub mod mta_sts;
pub mod ports;
pub mod rules;
pub mod spf;

use self::model::{
    Configured, DkimRecord, DmarcLookup, FetchFailure, Lookup, MtaStsFacts, NameFacts, SesIdentity,
    ZoneRef,
};
use self::ports::{MailIdentities, PolicyFetcher};
use self::spf::{SpfAnswer, SpfResolver};
use crate::catalogue::Check;
use crate::error::{ErrorKind, PortError};
use crate::families::dns::model::Resolution;
use crate::families::dns::ports::{DnsProbe, InventoryCache};
use crate::family::{Family, FamilyOutcome};
use crate::model::rdata::{Escapes, Rdata};
use crate::model::{HostedZone, RecordSet, Region, normalize_dns_name};
use crate::ports::ZoneSource;
use crate::record::ScanError;
use chrono::{DateTime, Duration, Utc};
use futures::future::{BoxFuture, join_all};
use futures::{StreamExt, stream};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

pub const NAME: &str = "mail";

/// Names examined at once: each is a handful of sequential lookups.
const CONCURRENCY: usize = 4;

/// Where RFC 8461 puts the policy file.
pub const MTA_STS_PATH: &str = "/.well-known/mta-sts.txt";

pub struct MailFamily<'a, Z, I, P, S, F> {
    pub zones: &'a Z,
    /// The DNS family's inventory cache: the zones' record sets without
    /// listing them again when the copy is fresh.
    pub cache: Option<&'a I>,
    pub resolver: &'a P,
    pub identities: &'a S,
    pub policies: &'a F,
    /// The regions whose SES identities are read.
    pub regions: &'a [Region],
    pub inventory_max_age: Duration,
    pub retire_unmonitored: bool,
    /// Organization mode: the other accounts' SES identities are not seen
    /// here, so a name without MX may still send through one of them and
    /// is not judged spoofable.
    pub organization: bool,
}

impl<Z, I, P, S, F> std::fmt::Debug for MailFamily<'_, Z, I, P, S, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailFamily")
            .field("regions", &self.regions)
            .finish_non_exhaustive()
    }
}

impl<Z, I, P, S, F> Family for MailFamily<'_, Z, I, P, S, F>
where
    Z: ZoneSource,
    I: InventoryCache,
    P: DnsProbe,
    S: MailIdentities,
    F: PolicyFetcher,
{
    fn name(&self) -> &'static str {
        NAME
    }

    fn run(&self, now: DateTime<Utc>) -> BoxFuture<'_, FamilyOutcome> {
        Box::pin(self.scan(now))
    }
}

/// The resolver's answers for one scan, each (name, type) asked once: SPF
/// includes of the big providers are shared by many names.
pub struct ScanLookups<'a, P> {
    probe: &'a P,
    cache: Mutex<BTreeMap<(String, String), Lookup>>,
    asked: AtomicU64,
}

impl<P> ScanLookups<'_, P> {
    /// Resolutions made (not counting the cache's answers).
    pub fn asked(&self) -> u64 {
        self.asked.load(Ordering::Relaxed)
    }
}

impl<P> std::fmt::Debug for ScanLookups<'_, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanLookups")
            .field("asked", &self.asked())
            .finish_non_exhaustive()
    }
}

impl<'a, P: DnsProbe> ScanLookups<'a, P> {
    pub fn new(probe: &'a P) -> Self {
        Self {
            probe,
            cache: Mutex::new(BTreeMap::new()),
            asked: AtomicU64::new(0),
        }
    }

    /// TXT as text, other types in presentation format.
    pub async fn lookup(&self, name: &str, rtype: &str) -> Lookup {
        let key = (normalize_dns_name(name), rtype.to_ascii_uppercase());
        if let Some(hit) = self.cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return hit;
        }
        self.asked.fetch_add(1, Ordering::Relaxed);
        let lookup = match self.probe.resolve(&key.0, &key.1).await {
            Resolution::Answer { records, .. } => Lookup::Records(
                records
                    .iter()
                    .map(|r| {
                        if key.1 == "TXT" {
                            text(&r.data, Escapes::Decimal)
                        } else {
                            r.data.clone()
                        }
                    })
                    .collect(),
            ),
            Resolution::NoData { .. } => Lookup::NoData,
            Resolution::NxDomain { .. } => Lookup::NxDomain,
            Resolution::Failed { reason } => Lookup::Failed(reason),
        };
        if let Ok(mut c) = self.cache.lock() {
            c.insert(key, lookup.clone());
        }
        lookup
    }
}

impl<P: DnsProbe> SpfResolver for ScanLookups<'_, P> {
    async fn lookup(&self, name: &str, rtype: &str) -> SpfAnswer {
        ScanLookups::lookup(self, name, rtype).await.to_spf()
    }
}

/// A TXT value in presentation format as its text (character-strings
/// joined); the presentation itself if it does not parse.
pub fn text(presentation: &str, escapes: Escapes) -> String {
    match Rdata::parse("TXT", presentation, escapes) {
        Ok(Rdata::Text(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
        _ => presentation.to_owned(),
    }
}

/// A mail name before its lookups.
#[derive(Debug, Clone)]
struct Candidate {
    zone: ZoneRef,
    apex: bool,
    configured: Configured,
}

/// Route 53's simple values of one type at one name (Route 53's octal
/// escapes for TXT).
fn configured(sets: &[RecordSet], name: &str, rtype: &str) -> Option<Vec<String>> {
    let values: Vec<String> = sets
        .iter()
        .filter(|s| s.name == name && s.record_type == rtype && s.alias.is_none())
        .flat_map(|s| s.values.iter())
        .map(|v| {
            if rtype == "TXT" {
                text(v, Escapes::Octal)
            } else {
                v.to_ascii_lowercase()
            }
        })
        .collect();
    (!values.is_empty()).then_some(values)
}

/// The mail names of the public zones: every apex, every name with an MX
/// record set, every SES domain identity inside a zone. Of two zones of one
/// name the first counts (the served answers are the same).
fn candidates(
    zones: &[(HostedZone, Vec<RecordSet>)],
    identities: &[SesIdentity],
) -> BTreeMap<String, Candidate> {
    let mut out: BTreeMap<String, Candidate> = BTreeMap::new();
    let public: Vec<&(HostedZone, Vec<RecordSet>)> =
        zones.iter().filter(|(z, _)| !z.private).collect();
    let candidate = |zone: &HostedZone, sets: &[RecordSet], name: &str| Candidate {
        zone: ZoneRef {
            id: zone.id.clone(),
            name: normalize_dns_name(&zone.name),
        },
        apex: normalize_dns_name(&zone.name) == name,
        configured: Configured {
            txt: configured(sets, name, "TXT"),
            mx: configured(sets, name, "MX"),
            dmarc: configured(sets, &format!("_dmarc.{name}"), "TXT"),
        },
    };
    for (zone, sets) in &public {
        let apex = normalize_dns_name(&zone.name);
        let mut names = BTreeSet::from([apex]);
        names.extend(
            sets.iter()
                .filter(|s| s.record_type == "MX")
                .map(|s| normalize_dns_name(&s.name)),
        );
        for name in names {
            out.entry(name.clone())
                .or_insert_with(|| candidate(zone, sets, &name));
        }
    }
    for identity in identities {
        let name = normalize_dns_name(&identity.name);
        if out.contains_key(&name) {
            continue;
        }
        if let Some((zone, sets)) = covering(&public, &name) {
            out.insert(name.clone(), candidate(zone, sets, &name));
        }
    }
    out
}

/// The public zone with the longest name at or above `name` (the
/// certificate family's rule, `covering_zone`), with its record sets.
fn covering<'z>(
    public: &[&'z (HostedZone, Vec<RecordSet>)],
    name: &str,
) -> Option<&'z (HostedZone, Vec<RecordSet>)> {
    let zones: Vec<HostedZone> = public.iter().map(|(z, _)| z.clone()).collect();
    let zone = crate::families::certificates::validation::covering_zone(name, &zones)?;
    public.iter().find(|(z, _)| z.id == zone.id).copied()
}

/// `name` and its parents down to (not including) the top-level domain.
fn tree_walk(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = normalize_dns_name(name);
    while current.matches('.').count() >= 2 {
        out.push(current.clone());
        match current.split_once('.') {
            Some((_, parent)) => current = parent.to_owned(),
            None => break,
        }
    }
    out
}

fn dns_error(message: String) -> ScanError {
    ScanError::new(
        Region::global(),
        PortError::new("dns", "resolve", ErrorKind::Transient, message),
    )
}

impl<Z, I, P, S, F> MailFamily<'_, Z, I, P, S, F>
where
    Z: ZoneSource,
    I: InventoryCache,
    P: DnsProbe,
    S: MailIdentities,
    F: PolicyFetcher,
{
    async fn scan(&self, now: DateTime<Utc>) -> FamilyOutcome {
        let mut out = FamilyOutcome::default();
        let records = super::zone_records(
            self.zones,
            self.cache,
            self.inventory_max_age,
            now,
            &mut out.errors,
        )
        .await;
        let zones_complete = records.complete();
        let Some(zones) = records.zones else {
            return out;
        };

        let listed = join_all(
            self.regions
                .iter()
                .map(|r| async move { (r.clone(), self.identities.domain_identities(r).await) }),
        )
        .await;
        let mut identities = Vec::new();
        let mut ses_complete = true;
        for (region, result) in listed {
            match result {
                Ok(found) => identities.extend(found),
                Err(e) => {
                    ses_complete = false;
                    out.errors.push(ScanError::new(region, e));
                }
            }
        }

        let lookups = ScanLookups::new(self.resolver);
        let names = candidates(&zones, &identities);
        let with_identity: BTreeSet<String> = identities
            .iter()
            .map(|i| normalize_dns_name(&i.name))
            .collect();
        let facts: Vec<NameFacts> = stream::iter(names.clone())
            .map(|(name, c)| {
                let ses = with_identity.contains(&name);
                let lookups = &lookups;
                async move { self.facts(lookups, name, c, ses, now).await }
            })
            .buffered(CONCURRENCY)
            .collect()
            .await;
        // Whether every sender a name might have was seen: a name without
        // MX is judged spoofable only then.
        let senders_known = ses_complete && !self.organization;
        for f in &facts {
            evaluate(f, senders_known, &mut out);
        }

        let public: Vec<&(HostedZone, Vec<RecordSet>)> =
            zones.iter().filter(|(z, _)| !z.private).collect();
        for identity in &identities {
            self.identity(&lookups, identity, &public, &mut out).await;
        }

        out.counts.insert("mail_names".into(), facts.len() as u64);
        out.counts
            .insert("ses_identities".into(), identities.len() as u64);
        out.counts
            .insert("mail_dns_lookups".into(), lookups.asked());
        if self.retire_unmonitored && zones_complete && ses_complete {
            out.monitored = Some(
                names
                    .keys()
                    .map(|n| rules::bare(n).to_owned())
                    .chain(identities.iter().map(rules::identity_scope))
                    .collect(),
            );
        }
        out
    }

    /// Every lookup the rules read about one name.
    async fn facts(
        &self,
        lookups: &ScanLookups<'_, P>,
        name: String,
        c: Candidate,
        ses_identity: bool,
        now: DateTime<Utc>,
    ) -> NameFacts {
        let txt = lookups.lookup(&name, "TXT").await;
        let mx = lookups.lookup(&name, "MX").await;
        let mut facts = NameFacts {
            name,
            zone: c.zone,
            apex: c.apex,
            ses_identity,
            txt,
            mx,
            configured: c.configured,
            spf: None,
            dmarc: DmarcLookup::None,
            report_authorizations: BTreeMap::new(),
            mta_sts: None,
            mta_sts_failed: None,
        };
        if facts.txt == Lookup::NxDomain {
            // The name does not exist on the internet: nothing to judge.
            return facts;
        }
        if let Some(txt) = facts.txt.records() {
            let spfs: Vec<&String> = txt.iter().filter(|t| spf::is_spf(t)).collect();
            if let [one] = spfs.as_slice()
                && let Ok(record) = spf::parse(one)
            {
                facts.spf = Some(spf::evaluate(&facts.name, &record, lookups).await);
            }
        }
        facts.dmarc = dmarc_lookup(lookups, &facts.name).await;
        if let Some((at, _, Ok(applicable))) = rules::applicable(&facts) {
            for domain in rules::external_report_domains(&applicable.record, &at, &facts.zone.name)
            {
                let asked = format!("{}._report._dmarc.{domain}", rules::bare(&at));
                let answer = lookups.lookup(&asked, "TXT").await;
                facts.report_authorizations.insert(domain, answer);
            }
        }
        match lookups
            .lookup(&format!("_mta-sts.{}", facts.name), "TXT")
            .await
        {
            Lookup::Failed(why) => facts.mta_sts_failed = Some(why),
            Lookup::Records(records) if !records.is_empty() => {
                let valid = records
                    .iter()
                    .filter(|r| mta_sts::is_sts_record(r))
                    .collect::<Vec<_>>();
                let policy = match valid.as_slice() {
                    [one] if mta_sts::parse_sts_record(one).is_ok() => {
                        self.policy(lookups, &facts.name, now).await
                    }
                    _ => None,
                };
                let tls_rpt = lookups
                    .lookup(&format!("_smtp._tls.{}", facts.name), "TXT")
                    .await;
                facts.mta_sts = Some(MtaStsFacts {
                    records,
                    policy,
                    tls_rpt,
                });
            }
            _ => {}
        }
        facts
    }

    /// The MTA-STS policy of `name`: `mta-sts.<name>`'s first address
    /// (IPv4, else IPv6), checked against the probe scope, one GET.
    async fn policy(
        &self,
        lookups: &ScanLookups<'_, P>,
        name: &str,
        now: DateTime<Utc>,
    ) -> Option<Result<String, FetchFailure>> {
        let host = format!("mta-sts.{name}");
        let mut addresses = Vec::new();
        for rtype in ["A", "AAAA"] {
            match lookups.lookup(&host, rtype).await {
                Lookup::Records(r) => {
                    addresses.extend(r.iter().filter_map(|a| a.parse::<std::net::IpAddr>().ok()))
                }
                Lookup::Failed(why) => {
                    return Some(Err(FetchFailure::Probe(format!(
                        "resolving {}: {why}",
                        rules::bare(&host)
                    ))));
                }
                Lookup::NoData | Lookup::NxDomain => {}
            }
            if !addresses.is_empty() {
                break;
            }
        }
        let Some(ip) = addresses.first() else {
            return Some(Err(FetchFailure::Server(format!(
                "{} has no address",
                rules::bare(&host)
            ))));
        };
        let address = SocketAddr::new(*ip, 443);
        if let Err(why) = self.resolver.may_probe(address) {
            return Some(Err(FetchFailure::Probe(format!(
                "{} resolves to {ip}, which is not probed: {why}",
                rules::bare(&host)
            ))));
        }
        Some(
            self.policies
                .fetch(rules::bare(&host), address, MTA_STS_PATH, now)
                .await,
        )
    }

    /// One SES identity: its Easy DKIM CNAMEs as served.
    async fn identity(
        &self,
        lookups: &ScanLookups<'_, P>,
        identity: &SesIdentity,
        public: &[&(HostedZone, Vec<RecordSet>)],
        out: &mut FamilyOutcome,
    ) {
        let scope = rules::identity_scope(identity);
        let tokens = identity
            .dkim
            .as_ref()
            .filter(|d| d.signing_enabled && d.easy())
            .map(|d| d.tokens.clone())
            .unwrap_or_default();
        let domain = normalize_dns_name(&identity.name);
        let mut records = Vec::new();
        let mut failed = None;
        for token in tokens {
            let name = format!("{}._domainkey.{domain}", token.to_ascii_lowercase());
            let served = lookups.lookup(&name, "CNAME").await;
            if let Lookup::Failed(why) = &served {
                failed = Some(format!("DKIM CNAME {}: {why}", rules::bare(&name)));
            }
            let configured =
                covering(public, &name).and_then(|(_, sets)| configured(sets, &name, "CNAME"));
            records.push(DkimRecord {
                token,
                name,
                served,
                configured,
            });
        }
        let detections = rules::dkim(identity, &records);
        if let Some(why) = failed {
            out.errors.push(dns_error(why));
        } else {
            out.coverage.insert(Check::MailDkim, &scope);
        }
        out.detections.extend(detections);
    }
}

/// DMARC's tree walk: `_dmarc.<name>`, then each parent's, until a record
/// starting with `v=DMARC1` is found.
async fn dmarc_lookup<P: DnsProbe>(lookups: &ScanLookups<'_, P>, name: &str) -> DmarcLookup {
    for candidate in tree_walk(name) {
        match lookups.lookup(&format!("_dmarc.{candidate}"), "TXT").await {
            Lookup::Failed(reason) => return DmarcLookup::Failed { reason },
            Lookup::Records(records) if records.iter().any(|r| dmarc::is_dmarc(r)) => {
                return DmarcLookup::Found {
                    at: candidate,
                    records,
                };
            }
            _ => {}
        }
    }
    DmarcLookup::None
}

/// One name's verdicts into the outcome: each check covered only when
/// every lookup it reads answered.
fn evaluate(facts: &NameFacts, senders_known: bool, out: &mut FamilyOutcome) {
    let scope = rules::scope(facts);
    let name = rules::bare(&facts.name);
    if facts.txt == Lookup::NxDomain {
        for check in [
            Check::MailSpf,
            Check::MailDmarc,
            Check::MailSpoofing,
            Check::MailMtaSts,
        ] {
            out.coverage.insert(check, &scope);
        }
        return;
    }
    let Some(intended) = rules::mail_intended(facts) else {
        let why = facts
            .txt
            .failure()
            .or(facts.mx.failure())
            .unwrap_or_default();
        out.errors
            .push(dns_error(format!("TXT or MX of {name}: {why}")));
        return;
    };
    match rules::spf_complete(facts) {
        Ok(()) => out.coverage.insert(Check::MailSpf, &scope),
        Err(why) => out.errors.push(dns_error(why)),
    }
    out.detections.extend(rules::spf(facts, intended));

    if let DmarcLookup::Failed { reason } = &facts.dmarc {
        out.errors
            .push(dns_error(format!("DMARC of {name}: {reason}")));
    } else {
        let unanswered = facts
            .report_authorizations
            .iter()
            .find_map(|(d, l)| l.failure().map(|why| (d, why)));
        match unanswered {
            Some((domain, why)) => out.errors.push(dns_error(format!(
                "DMARC report authorisation of {domain} for {name}: {why}"
            ))),
            None => out.coverage.insert(Check::MailDmarc, &scope),
        }
        out.detections.extend(rules::dmarc(facts, intended));
        if intended {
            out.coverage.insert(Check::MailSpoofing, &scope);
        } else if senders_known {
            out.coverage.insert(Check::MailSpoofing, &scope);
            out.detections.extend(rules::spoofing(facts));
        }
    }

    match (&facts.mta_sts_failed, &facts.mta_sts) {
        (Some(why), _) => out
            .errors
            .push(dns_error(format!("_mta-sts of {name}: {why}"))),
        (None, None) => out.coverage.insert(Check::MailMtaSts, &scope),
        (None, Some(sts)) => match rules::mta_sts(facts, sts) {
            Ok(d) => {
                out.coverage.insert(Check::MailMtaSts, &scope);
                out.detections.extend(d);
            }
            Err(why) => out.errors.push(ScanError::new(
                Region::global(),
                PortError::new("https", "mta-sts-policy", ErrorKind::Unreachable, why),
            )),
        },
    }
}

#[cfg(test)]
mod tests;
