//! The probe: `ask` through the pipeline, and iterative walks from the root
//! (`delegation`, `resolve`, `server_addresses`).

use crate::format::{dns_answer, parse_record_type};
use crate::pipeline::{ClientConfig, ServerClient};
use crate::settings::ProbeSettings;
use crate::stats::{Counters, ProbeStats};
use futures::StreamExt;
use hickory_proto::rr::{Name, RecordType};
use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::time::Instant;
use tracing::debug;
use zw_core::families::dns::model::{
    Delegation, DelegationOutcome, DnsAnswer, Observation, QueryFailure, Question, Resolution,
    ResourceRecord, ResponseCode,
};
use zw_core::families::dns::ports::DnsProbe;
use zw_core::model::normalize_dns_name;

/// Referrals followed in one walk before giving up (the deepest real
/// delegation chains are far shorter).
const MAX_REFERRALS: usize = 24;
/// CNAMEs followed by `resolve`.
const MAX_CNAMES: usize = 8;
/// Nesting of "resolve a glue-less name server's address while walking".
const MAX_NESTING: u8 = 4;
/// Zone cuts remembered per probe; past this the memory starts over.
const MAX_CACHED_ZONES: usize = 10_000;
/// Queries one public call may send, across nesting: a backstop against
/// delegation loops that the depth limit alone would let grow.
const QUERY_BUDGET: u32 = 200;

/// The DNS probe. Cheap to clone (the sockets and counters are shared);
/// clones made with [`Probe::with_deadline`] share them too.
#[derive(Debug, Clone)]
pub struct Probe {
    inner: Arc<Inner>,
    /// The phase's deadline: nothing is sent after it.
    deadline: Option<Instant>,
}

#[derive(Debug)]
struct Inner {
    settings: ProbeSettings,
    /// Zone cuts learned from referrals (zone -> its servers), so that
    /// walks start at the closest known zone instead of the root. Lives as
    /// long as the probe: make one probe per scan.
    referrals: Mutex<HashMap<String, ZoneServers>>,
    clients: Mutex<HashMap<SocketAddr, Arc<ServerClient>>>,
    per_server: Mutex<HashMap<SocketAddr, Arc<Counters>>>,
    totals: Arc<Counters>,
}

/// Why a walk failed; becomes `Unknown`/`Failed` reasons or a
/// `QueryFailure`.
#[derive(Debug, Clone, thiserror::Error)]
enum WalkError {
    #[error("{0}")]
    Failure(String, QueryFailure),
    #[error("{0}")]
    Other(String),
    #[error("the DNS phase's deadline passed")]
    Skipped,
}

impl WalkError {
    fn into_failure(self) -> QueryFailure {
        match self {
            Self::Failure(_, failure) => failure,
            Self::Other(reason) => QueryFailure::Network(reason),
            Self::Skipped => QueryFailure::Skipped,
        }
    }
}

/// One server of a zone: a name (or, for root hints, the address as text)
/// and its addresses when known (glue, overrides, hints).
#[derive(Debug, Clone)]
struct ZoneServer {
    label: String,
    addrs: Option<Vec<SocketAddr>>,
}

#[derive(Debug, Clone)]
struct ZoneServers {
    zone: String,
    servers: Vec<ZoneServer>,
}

/// The state of one public call: its query budget.
struct Walk {
    budget: AtomicU32,
}

impl Walk {
    fn new() -> Self {
        Self {
            budget: AtomicU32::new(QUERY_BUDGET),
        }
    }

    fn spend(&self) -> Result<(), WalkError> {
        self.budget
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| b.checked_sub(1))
            .map(|_| ())
            .map_err(|_| WalkError::Other(format!("gave up after {QUERY_BUDGET} queries")))
    }
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Whether `name` is `zone` or below it (both normalised).
fn is_subdomain(name: &str, zone: &str) -> bool {
    zone == "." || name == zone || name.ends_with(&format!(".{zone}"))
}

/// The referral in `answer`, if it points below `zone` and toward `qname`:
/// the child zone and its servers (glue from the additional section, for
/// names inside `zone` only, so a server cannot inject addresses for
/// names it has no authority over).
fn referral(
    answer: &DnsAnswer,
    zone: &str,
    qname: &str,
    overrides: &std::collections::BTreeMap<String, Vec<SocketAddr>>,
) -> Option<ZoneServers> {
    if answer.rcode != ResponseCode::NoError {
        return None;
    }
    let ns: Vec<&ResourceRecord> = answer
        .authority
        .iter()
        .filter(|r| r.rtype == "NS")
        .collect();
    let child = ns.first()?.name.clone();
    if child == zone || !is_subdomain(&child, zone) || !is_subdomain(qname, &child) {
        return None;
    }
    let mut servers: Vec<ZoneServer> = ns
        .iter()
        .filter(|r| r.name == child)
        .map(|r| {
            let name = normalize_dns_name(&r.data);
            let addrs = overrides.get(&name).cloned().or_else(|| {
                let glue: Vec<SocketAddr> = answer
                    .additional
                    .iter()
                    .filter(|g| g.name == name && (g.rtype == "A" || g.rtype == "AAAA"))
                    .filter(|_| is_subdomain(&name, zone))
                    .filter_map(|g| g.data.parse::<IpAddr>().ok())
                    .map(|ip| SocketAddr::new(ip, 53))
                    .collect();
                (!glue.is_empty()).then_some(glue)
            });
            ZoneServer { label: name, addrs }
        })
        .collect();
    // Servers with known addresses first: no extra walk to reach them.
    servers.sort_by_key(|s| s.addrs.is_none());
    Some(ZoneServers {
        zone: child,
        servers,
    })
}

/// The parent's answer is usable for a walk: a referral or authoritative.
fn authoritative_or_referral(answer: &DnsAnswer) -> bool {
    matches!(answer.rcode, ResponseCode::NoError | ResponseCode::NxDomain)
        && (answer.authoritative || answer.authority.iter().any(|r| r.rtype == "NS"))
}

impl Probe {
    pub fn new(settings: ProbeSettings) -> Self {
        Self {
            inner: Arc::new(Inner {
                settings,
                referrals: Mutex::new(HashMap::new()),
                clients: Mutex::new(HashMap::new()),
                per_server: Mutex::new(HashMap::new()),
                totals: Arc::new(Counters::default()),
            }),
            deadline: None,
        }
    }

    pub fn settings(&self) -> &ProbeSettings {
        &self.inner.settings
    }

    /// A clone whose questions after `deadline` come back `Skipped` (and
    /// whose walks end as `Unknown`/`Failed`): the DNS phase's budget.
    pub fn with_deadline(&self, deadline: std::time::Instant) -> Self {
        Self {
            inner: self.inner.clone(),
            deadline: Some(Instant::from_std(deadline)),
        }
    }

    /// Counters since the probe was made (clones share them).
    pub fn stats(&self) -> ProbeStats {
        let per_server = self
            .inner
            .per_server
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(addr, c)| (*addr, c.snapshot()))
            .collect();
        ProbeStats {
            total: self.inner.totals.snapshot(),
            per_server,
        }
    }

    /// UDP sockets open across all servers (they grow with the load on a
    /// server, up to `sockets_per_server`, and live as long as the probe).
    pub fn open_sockets(&self) -> usize {
        self.inner
            .clients
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .map(|c| c.sockets())
            .sum()
    }

    /// Ok when `server` may be asked: the operator named it (root hints,
    /// name-server overrides), or it is on the internet, or in the scope's
    /// allowed ranges. Glue and resolved name-server addresses come from
    /// zone data anyone with a zone can write.
    pub fn may_ask(&self, server: SocketAddr) -> Result<(), String> {
        let s = &self.inner.settings;
        if s.root_hints.contains(&server)
            || s.nameserver_addresses.values().any(|a| a.contains(&server))
        {
            return Ok(());
        }
        s.scope
            .check(server.ip())
            .map_err(|e| format!("{} is {e}", server.ip()))
    }

    /// The server's client, made on first use and kept for the probe's life.
    /// A server the probe may not ask is our refusal, never the server's
    /// fault (`Unsupported`).
    fn client(&self, server: SocketAddr) -> Result<Arc<ServerClient>, QueryFailure> {
        self.may_ask(server)
            .map_err(|why| QueryFailure::Unsupported(format!("not asked: {why}")))?;
        let mut clients = self
            .inner
            .clients
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(client) = clients.get(&server) {
            return Ok(client.clone());
        }
        let s = &self.inner.settings;
        let config = ClientConfig {
            timeout: s.timeout,
            udp_retries: s.udp_retries,
            qps: s.qps_per_server,
            max_in_flight: s.max_in_flight_per_server,
            sockets: s.sockets_per_server,
            udp_payload: s.udp_payload,
        };
        let counters = self
            .inner
            .per_server
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(server)
            .or_default()
            .clone();
        let client = ServerClient::connect(server, config, counters, self.inner.totals.clone())
            .map_err(|e| QueryFailure::Network(format!("opening sockets to {server}: {e}")))?;
        let client = Arc::new(client);
        clients.insert(server, client.clone());
        Ok(client)
    }

    /// One question to one server, as a `DnsAnswer`.
    async fn query(
        &self,
        server: SocketAddr,
        name: &str,
        rtype: &str,
        dnssec_ok: bool,
    ) -> (Result<DnsAnswer, QueryFailure>, u64) {
        let Some(rtype) = parse_record_type(rtype) else {
            // Ours to fix, not the server's fault: never reported against it.
            return (
                Err(QueryFailure::Unsupported(format!(
                    "the probe cannot ask for record type `{rtype}`"
                ))),
                0,
            );
        };
        let name = match Name::from_ascii(normalize_dns_name(name)) {
            Ok(name) => name,
            Err(e) => {
                return (
                    Err(QueryFailure::Malformed(format!("bad name `{name}`: {e}"))),
                    0,
                );
            }
        };
        self.query_name(server, &name, rtype, dnssec_ok).await
    }

    async fn query_name(
        &self,
        server: SocketAddr,
        name: &Name,
        rtype: RecordType,
        dnssec_ok: bool,
    ) -> (Result<DnsAnswer, QueryFailure>, u64) {
        let client = match self.client(server) {
            Ok(client) => client,
            Err(failure) => return (Err(failure), 0),
        };
        match client.query(name, rtype, dnssec_ok, self.deadline).await {
            Ok(reply) => {
                let latency = u64::try_from(reply.latency.as_micros()).unwrap_or(u64::MAX);
                (Ok(dns_answer(&reply.message)), latency)
            }
            Err(failure) => (Err(failure), 0),
        }
    }

    fn expired(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    fn root(&self) -> ZoneServers {
        ZoneServers {
            zone: ".".to_owned(),
            servers: self
                .inner
                .settings
                .root_hints
                .iter()
                .map(|addr| ZoneServer {
                    label: addr.to_string(),
                    addrs: Some(vec![*addr]),
                })
                .collect(),
        }
    }

    /// Where a walk toward `name` starts: the servers of the closest
    /// remembered zone that is `name` or above it (only strictly above it
    /// when `strict`), else the root hints.
    fn start_for(&self, name: &str, strict: bool) -> ZoneServers {
        let cache = self
            .inner
            .referrals
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut at = name;
        if strict {
            at = parent_of(at);
        }
        while at != "." {
            if let Some(zs) = cache.get(at) {
                return zs.clone();
            }
            at = parent_of(at);
        }
        drop(cache);
        self.root()
    }

    fn remember(&self, zs: &ZoneServers) {
        let mut cache = self
            .inner
            .referrals
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= MAX_CACHED_ZONES {
            cache.clear();
        }
        cache.insert(zs.zone.clone(), zs.clone());
    }

    /// Runs a whole call under the step timeout.
    async fn bounded<T>(
        &self,
        what: &str,
        work: impl Future<Output = Result<T, WalkError>>,
    ) -> Result<T, WalkError> {
        if self.expired() {
            return Err(WalkError::Skipped);
        }
        let limit = self.inner.settings.step_timeout;
        match tokio::time::timeout(limit, work).await {
            Ok(result) => result,
            Err(_) => Err(WalkError::Failure(
                format!("{what} took longer than {} ms", limit.as_millis()),
                QueryFailure::Timeout,
            )),
        }
    }

    /// Asks the servers of `zs` in turn until one gives an answer `accept`
    /// takes; returns it and the label of the server that gave it.
    async fn query_zone(
        &self,
        walk: &Walk,
        zs: &ZoneServers,
        qname: &str,
        rtype: &str,
        depth: u8,
        accept: fn(&DnsAnswer) -> bool,
    ) -> Result<(DnsAnswer, String), WalkError> {
        let mut last = WalkError::Other(format!("no server of {} to ask", zs.zone));
        let mut tried = 0;
        for server in &zs.servers {
            if tried >= self.inner.settings.max_servers_per_zone {
                break;
            }
            let addrs = match &server.addrs {
                Some(addrs) => addrs.clone(),
                None => match self.addresses_of(walk, &server.label, depth + 1).await {
                    Ok(addrs) => addrs,
                    Err(WalkError::Skipped) => return Err(WalkError::Skipped),
                    Err(e) => {
                        last = e;
                        tried += 1;
                        continue;
                    }
                },
            };
            // Two addresses of one server at most; other servers next.
            for addr in addrs.into_iter().take(2) {
                if tried >= self.inner.settings.max_servers_per_zone {
                    break;
                }
                tried += 1;
                walk.spend()?;
                match self.query(addr, qname, rtype, false).await.0 {
                    Ok(answer) if accept(&answer) => return Ok((answer, server.label.clone())),
                    Ok(answer) => {
                        last = WalkError::Other(format!(
                            "{} ({addr}) for {}: {} without authority or referral for {qname} {rtype}",
                            server.label,
                            zs.zone,
                            answer.rcode.as_str()
                        ));
                    }
                    Err(QueryFailure::Skipped) => return Err(WalkError::Skipped),
                    Err(failure) => {
                        last = WalkError::Failure(
                            format!(
                                "{} ({addr}) for {}: {}",
                                server.label,
                                zs.zone,
                                describe(&failure)
                            ),
                            failure,
                        );
                    }
                }
            }
        }
        debug!(zone = %zs.zone, %qname, %rtype, error = %last, "no usable answer from the zone's servers");
        Err(last)
    }

    /// From the root down to the zone that answers `qname` authoritatively;
    /// returns that answer.
    async fn iterate(
        &self,
        walk: &Walk,
        qname: &str,
        rtype: &str,
        depth: u8,
    ) -> Result<DnsAnswer, WalkError> {
        let mut zs = self.start_for(qname, false);
        for _ in 0..MAX_REFERRALS {
            let (answer, _) = self
                .query_zone(walk, &zs, qname, rtype, depth, authoritative_or_referral)
                .await?;
            match referral(
                &answer,
                &zs.zone,
                qname,
                &self.inner.settings.nameserver_addresses,
            ) {
                Some(next) => {
                    self.remember(&next);
                    zs = next;
                }
                None if answer.authoritative => return Ok(answer),
                None => {
                    return Err(WalkError::Other(format!(
                        "a server of {} answered {qname} {rtype} with a referral that leads nowhere",
                        zs.zone
                    )));
                }
            }
        }
        Err(WalkError::Other(format!(
            "more than {MAX_REFERRALS} referrals for {qname}"
        )))
    }

    /// A name server's addresses: overrides, else A (and AAAA when there
    /// is no A) resolved iteratively, port 53.
    fn addresses_of<'a>(
        &'a self,
        walk: &'a Walk,
        ns_name: &'a str,
        depth: u8,
    ) -> BoxFuture<'a, Result<Vec<SocketAddr>, WalkError>> {
        Box::pin(async move {
            let name = normalize_dns_name(ns_name);
            if let Some(addrs) = self.inner.settings.nameserver_addresses.get(&name) {
                return Ok(addrs.clone());
            }
            if depth > MAX_NESTING {
                return Err(WalkError::Other(format!(
                    "name server names nest deeper than {MAX_NESTING} levels at {name}"
                )));
            }
            let mut addrs = Vec::new();
            let mut last = None;
            for rtype in ["A", "AAAA"] {
                match self.resolve_in(walk, &name, rtype, depth).await {
                    Ok(Resolution::Answer { records, .. }) => addrs.extend(
                        records
                            .iter()
                            .filter_map(|r| r.data.parse::<IpAddr>().ok())
                            .map(|ip| SocketAddr::new(ip, 53)),
                    ),
                    Ok(Resolution::NxDomain { .. }) => {
                        last = Some(WalkError::Other(format!(
                            "{name} does not exist (NXDOMAIN)"
                        )));
                        break;
                    }
                    Ok(_) => {
                        last.get_or_insert_with(|| {
                            WalkError::Other(format!("{name} has no A or AAAA record"))
                        });
                    }
                    Err(WalkError::Skipped) => return Err(WalkError::Skipped),
                    Err(e) => last = Some(e),
                }
                if !addrs.is_empty() {
                    break;
                }
            }
            if addrs.is_empty() {
                return Err(last.unwrap_or_else(|| {
                    WalkError::Other(format!("{name} has no A or AAAA record"))
                }));
            }
            Ok(addrs)
        })
    }

    /// `resolve` within a walk (shares its budget and nesting).
    async fn resolve_in(
        &self,
        walk: &Walk,
        name: &str,
        rtype: &str,
        depth: u8,
    ) -> Result<Resolution, WalkError> {
        let mut chain: Vec<String> = Vec::new();
        let mut seen = BTreeSet::from([normalize_dns_name(name)]);
        let mut current = normalize_dns_name(name);
        let rtype = rtype.trim().to_ascii_uppercase();
        loop {
            let answer = self.iterate(walk, &current, &rtype, depth).await?;
            // Follow the chain as far as this answer goes.
            let mut at = current.clone();
            loop {
                let records: Vec<ResourceRecord> = answer
                    .answers
                    .iter()
                    .filter(|r| r.name == at && r.rtype == rtype)
                    .cloned()
                    .collect();
                if !records.is_empty() {
                    return Ok(Resolution::Answer {
                        records,
                        cname_chain: chain,
                    });
                }
                let Some(cname) = answer
                    .answers
                    .iter()
                    .find(|r| r.name == at && r.rtype == "CNAME")
                else {
                    break;
                };
                let target = normalize_dns_name(&cname.data);
                if !seen.insert(target.clone()) {
                    return Err(WalkError::Other(format!("CNAME loop at {target}")));
                }
                chain.push(target.clone());
                if chain.len() > MAX_CNAMES {
                    return Err(WalkError::Other(format!(
                        "CNAME chain longer than {MAX_CNAMES} from {name}"
                    )));
                }
                at = target;
            }
            match answer.rcode {
                ResponseCode::NxDomain => return Ok(Resolution::NxDomain { cname_chain: chain }),
                // The chain left this server's data: ask again for its end.
                ResponseCode::NoError if at != current => current = at,
                ResponseCode::NoError => return Ok(Resolution::NoData { cname_chain: chain }),
                other => {
                    return Err(WalkError::Other(format!(
                        "{current} {rtype}: {}",
                        other.as_str()
                    )));
                }
            }
        }
    }

    async fn delegation_in(&self, walk: &Walk, zone: &str) -> Result<Delegation, WalkError> {
        // The parent's servers are wanted: start strictly above the zone.
        let mut zs = self.start_for(zone, true);
        for _ in 0..MAX_REFERRALS {
            let (answer, server) = match self
                .query_zone(walk, &zs, zone, "NS", 0, authoritative_or_referral)
                .await
            {
                Ok(found) => found,
                Err(WalkError::Skipped) => return Err(WalkError::Skipped),
                Err(e) => {
                    return Ok(Delegation {
                        zone: zone.to_owned(),
                        parent: zs.zone,
                        parent_servers: Vec::new(),
                        outcome: DelegationOutcome::Unknown {
                            reason: e.to_string(),
                        },
                        ds_records: Vec::new(),
                    });
                }
            };
            let overrides = &self.inner.settings.nameserver_addresses;
            let outcome = match referral(&answer, &zs.zone, zone, overrides) {
                Some(next) if next.zone == zone => DelegationOutcome::Delegated {
                    name_servers: sorted(next.servers.iter().map(|s| s.label.clone())),
                },
                Some(next) => {
                    self.remember(&next);
                    zs = next;
                    continue;
                }
                None => {
                    // A server of the parent that also serves the child
                    // answers from the child, with the NS in the answer.
                    let ns = sorted(
                        answer
                            .answers
                            .iter()
                            .filter(|r| r.rtype == "NS" && r.name == zone)
                            .map(|r| normalize_dns_name(&r.data)),
                    );
                    if !ns.is_empty() {
                        DelegationOutcome::Delegated { name_servers: ns }
                    } else if answer.authoritative {
                        DelegationOutcome::NotDelegated {
                            rcode: answer.rcode,
                        }
                    } else {
                        DelegationOutcome::Unknown {
                            reason: format!("{server} answered without authority or referral"),
                        }
                    }
                }
            };
            let ds_records = self.ds_records(walk, &zs, zone).await;
            return Ok(Delegation {
                zone: zone.to_owned(),
                parent: zs.zone,
                parent_servers: vec![server],
                outcome,
                ds_records,
            });
        }
        Err(WalkError::Other(format!(
            "more than {MAX_REFERRALS} referrals toward {zone}"
        )))
    }

    /// The DS set the parent's servers publish for `zone` (empty when none
    /// or when they could not be asked; the NS answer already says which).
    async fn ds_records(&self, walk: &Walk, parent: &ZoneServers, zone: &str) -> Vec<String> {
        match self
            .query_zone(walk, parent, zone, "DS", 0, authoritative_or_referral)
            .await
        {
            Ok((answer, _)) => sorted(
                answer
                    .answers
                    .iter()
                    .filter(|r| r.rtype == "DS" && r.name == zone)
                    .map(|r| r.data.clone()),
            ),
            Err(e) => {
                debug!(%zone, error = %e, "DS not read");
                Vec::new()
            }
        }
    }
}

impl Probe {
    async fn observe(
        &self,
        server: SocketAddr,
        question: &Question,
        dnssec_ok: bool,
    ) -> Observation {
        let (outcome, latency_us) = self
            .query(server, &question.name, &question.rtype, dnssec_ok)
            .await;
        let outcome = outcome.map(kept_of_answer);
        Observation {
            question: question.clone(),
            server,
            outcome,
            latency_us,
        }
    }
}

/// What an observation keeps of an answer (see `DnsProbe::ask`): the
/// answer section and the authority section's RRSIGs, with no spare capacity.
fn kept_of_answer(mut answer: DnsAnswer) -> DnsAnswer {
    answer.answers.shrink_to_fit();
    answer.authority = std::mem::take(&mut answer.authority)
        .into_iter()
        .filter(|r| r.rtype == "RRSIG")
        .collect();
    answer.authority.shrink_to_fit();
    answer.additional = Vec::new();
    answer
}

/// `b.c.` for `a.b.c.`; the root for a top-level name and for the root.
fn parent_of(name: &str) -> &str {
    match name.split_once('.') {
        Some((_, rest)) if !rest.is_empty() => rest,
        _ => ".",
    }
}

fn sorted(items: impl Iterator<Item = String>) -> Vec<String> {
    let set: BTreeSet<String> = items.collect();
    set.into_iter().collect()
}

fn describe(failure: &QueryFailure) -> String {
    match failure {
        QueryFailure::Timeout => "timed out".to_owned(),
        QueryFailure::Malformed(m) => format!("malformed answer: {m}"),
        QueryFailure::Network(m) => m.clone(),
        QueryFailure::Skipped => "skipped".to_owned(),
        QueryFailure::Unsupported(m) => format!("not supported by the probe: {m}"),
    }
}

impl DnsProbe for Probe {
    async fn delegation(&self, zone: &str) -> Delegation {
        let zone = normalize_dns_name(zone);
        if zone == "." {
            return Delegation {
                zone: zone.clone(),
                parent: zone,
                parent_servers: Vec::new(),
                outcome: DelegationOutcome::Unknown {
                    reason: "the root zone has no parent".into(),
                },
                ds_records: Vec::new(),
            };
        }
        let walk = Walk::new();
        match self
            .bounded("the delegation walk", self.delegation_in(&walk, &zone))
            .await
        {
            Ok(delegation) => delegation,
            Err(e) => Delegation {
                zone,
                parent: String::new(),
                parent_servers: Vec::new(),
                outcome: DelegationOutcome::Unknown {
                    reason: e.to_string(),
                },
                ds_records: Vec::new(),
            },
        }
    }

    async fn server_addresses(&self, ns_name: &str) -> Result<Vec<SocketAddr>, QueryFailure> {
        let walk = Walk::new();
        self.bounded(
            "resolving the name server",
            self.addresses_of(&walk, ns_name, 0),
        )
        .await
        .map_err(WalkError::into_failure)
    }

    async fn ask(
        &self,
        server: SocketAddr,
        questions: &[Question],
        dnssec_ok: bool,
    ) -> Vec<Observation> {
        let in_flight = self.inner.settings.max_in_flight_per_server.max(1);
        // Futures are made as the window moves, not up front: an unstarted
        // query is over a kilobyte, and 40,000 of them were most of the
        // scan's peak memory (massif, benches/dns-10k.sh).
        // By index: a closure over `&Question` trips rustc's higher-ranked
        // `Send` check on this trait's future.
        let lazy = (0..questions.len()).map(|i| self.observe(server, &questions[i], dnssec_ok));
        let mut observations = Vec::with_capacity(questions.len());
        futures::stream::iter(lazy)
            // Keeps the order of the questions; the client's semaphore bounds
            // what is outstanding at the server across concurrent asks.
            .buffered(in_flight)
            .for_each(|o| {
                observations.push(o);
                std::future::ready(())
            })
            .await;
        observations
    }

    fn may_probe(&self, address: SocketAddr) -> Result<(), String> {
        self.may_ask(address)
    }

    async fn resolve(&self, name: &str, rtype: &str) -> Resolution {
        if parse_record_type(rtype).is_none() {
            return Resolution::Failed {
                reason: format!("unknown record type `{rtype}`"),
            };
        }
        let walk = Walk::new();
        match self
            .bounded("resolution", self.resolve_in(&walk, name, rtype, 0))
            .await
        {
            Ok(resolution) => resolution,
            Err(e) => Resolution::Failed {
                reason: e.to_string(),
            },
        }
    }
}

/// For callers that want a plain duration budget.
impl Probe {
    pub fn with_budget(&self, budget: Duration) -> Self {
        self.with_deadline(std::time::Instant::now() + budget)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_is_cheap_to_clone_and_shareable() {
        fn shareable<T: Clone + Send + Sync + 'static>() {}
        shareable::<Probe>();
        let a = Probe::new(ProbeSettings::default());
        let b = a.clone();
        assert!(Arc::ptr_eq(&a.inner, &b.inner));
    }

    #[test]
    fn observations_keep_answers_and_signatures_only() {
        let rr = |rtype: &str, data: &str| ResourceRecord {
            name: "www.example.com.".into(),
            rtype: rtype.into(),
            ttl: 300,
            data: data.into(),
        };
        let answer = DnsAnswer {
            rcode: ResponseCode::NoError,
            authoritative: true,
            answers: vec![rr("A", "192.0.2.1"), rr("RRSIG", "A 13 3 300 ...")],
            authority: vec![
                rr("NS", "ns-1.awsdns-01.org."),
                rr("RRSIG", "NS 13 2 172800 ..."),
                rr(
                    "SOA",
                    "ns-1.awsdns-01.org. hostmaster. 1 7200 900 1209600 86400",
                ),
            ],
            additional: vec![rr("A", "198.51.100.1")],
        };
        let kept = kept_of_answer(answer.clone());
        assert_eq!(kept.answers, answer.answers);
        assert_eq!(kept.authority, vec![rr("RRSIG", "NS 13 2 172800 ...")]);
        assert!(kept.additional.is_empty());
        assert_eq!(
            (kept.rcode, kept.authoritative),
            (ResponseCode::NoError, true)
        );
    }

    #[test]
    fn parents_step_up_one_label() {
        assert_eq!(parent_of("a.example.com."), "example.com.");
        assert_eq!(parent_of("com."), ".");
        assert_eq!(parent_of("."), ".");
    }

    #[test]
    fn subdomains_are_label_wise() {
        assert!(is_subdomain("a.example.com.", "example.com."));
        assert!(is_subdomain("example.com.", "example.com."));
        assert!(is_subdomain("example.com.", "."));
        assert!(!is_subdomain("badexample.com.", "example.com."));
        assert!(!is_subdomain("com.", "example.com."));
    }

    fn rr(name: &str, rtype: &str, data: &str) -> ResourceRecord {
        ResourceRecord {
            name: name.into(),
            rtype: rtype.into(),
            ttl: 300,
            data: data.into(),
        }
    }

    #[test]
    fn referrals_must_lead_down_toward_the_name_and_glue_must_be_in_bailiwick() {
        let answer = DnsAnswer {
            rcode: ResponseCode::NoError,
            authoritative: false,
            answers: vec![],
            authority: vec![
                rr("example.com.", "NS", "ns1.example.com."),
                rr("example.com.", "NS", "ns.other.net."),
            ],
            additional: vec![
                rr("ns1.example.com.", "A", "192.0.2.53"),
                rr("ns.other.net.", "A", "192.0.2.66"),
            ],
        };
        let overrides = std::collections::BTreeMap::new();
        let next = referral(&answer, "com.", "www.example.com.", &overrides).unwrap();
        assert_eq!(next.zone, "example.com.");
        assert_eq!(next.servers[0].label, "ns1.example.com.");
        assert_eq!(
            next.servers[0].addrs,
            Some(vec!["192.0.2.53:53".parse().unwrap()])
        );
        // net. glue from a com. server is not trusted.
        assert_eq!(next.servers[1].label, "ns.other.net.");
        assert_eq!(next.servers[1].addrs, None);
        // Sideways or upward: no referral (a lame server).
        assert!(referral(&answer, "com.", "www.example.org.", &overrides).is_none());
        assert!(referral(&answer, "example.com.", "www.example.com.", &overrides).is_none());
    }
}
