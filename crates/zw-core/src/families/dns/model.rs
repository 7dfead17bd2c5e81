//! What the DNS family collects: Route 53's configuration of a zone (the
//! inventory), and what DNS servers on the internet actually answered (the
//! observations). Adapters (Route 53, the DNS probe) fill these; the DNS rules
//! compare them, purely.
//!
//! Record data is kept as text in zone-file presentation format on both sides;
//! the DNS rules canonicalise both before comparing, so that Route 53's
//! `"v=spf1 -all"` and a server's `"v=spf1 -all"` (or `MAIL.example.com` and
//! `mail.example.com.`) compare equal.

use crate::model::{HostedZone, RecordSet};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};

// Parts of a record set's or a zone's configuration, shared with every
// family that reads the zones: they live in the shared model.
pub use crate::model::{AliasTarget, DnssecStatus, FailoverRole, KeySigningKey, RoutingPolicy};

/// Everything Route 53 says about one zone: what the DNS rules compare the
/// internet's answers with. Cached in the table between listings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneInventory {
    pub zone: HostedZone,
    /// The zone's delegation set (`GetHostedZone`), normalised names. Empty
    /// for private zones.
    pub name_servers: Vec<String>,
    pub record_sets: Vec<RecordSet>,
    /// None when the zone is private or `GetDNSSEC` could not be read.
    pub dnssec: Option<DnssecStatus>,
    /// When the record sets were listed (the cache's age).
    pub listed_at: DateTime<Utc>,
    /// When every record set was last asked of every server; None: never,
    /// or the record sets changed since.
    #[serde(default)]
    pub compared_at: Option<DateTime<Utc>>,
    /// The zone's quota of record sets (`GetHostedZoneLimit`,
    /// `MAX_RRSETS_BY_ZONE`), read when the record sets are listed; None when
    /// it could not be read (the quota rule then assumes Route 53's default
    /// and its evidence says so).
    #[serde(default)]
    pub record_set_limit: Option<u64>,
}

/// A DNS response code, as far as the rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ResponseCode {
    NoError,
    NxDomain,
    ServFail,
    Refused,
    NotImp,
    FormErr,
    Other(u16),
}

impl ResponseCode {
    pub fn as_str(self) -> String {
        match self {
            Self::NoError => "NOERROR".into(),
            Self::NxDomain => "NXDOMAIN".into(),
            Self::ServFail => "SERVFAIL".into(),
            Self::Refused => "REFUSED".into(),
            Self::NotImp => "NOTIMP".into(),
            Self::FormErr => "FORMERR".into(),
            Self::Other(n) => format!("RCODE{n}"),
        }
    }
}

/// One resource record of an answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ResourceRecord {
    /// Normalised owner name.
    pub name: String,
    /// `A`, `CNAME`, `RRSIG`, ... (`TYPE65534` for unknown types).
    pub rtype: String,
    pub ttl: u32,
    /// RDATA in zone-file presentation format.
    pub data: String,
}

/// A question to one server.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Question {
    /// Normalised name.
    pub name: String,
    pub rtype: String,
}

/// A server's answer to one question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsAnswer {
    pub rcode: ResponseCode,
    /// The AA bit: the server claims to be authoritative for the name.
    pub authoritative: bool,
    pub answers: Vec<ResourceRecord>,
    pub authority: Vec<ResourceRecord>,
    pub additional: Vec<ResourceRecord>,
}

/// Why a question got no usable answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "detail", rename_all = "kebab-case")]
pub enum QueryFailure {
    /// No answer within the per-query deadline (UDP and, if tried, TCP).
    Timeout,
    /// The answer could not be parsed, or did not match the question.
    Malformed(String),
    /// Sending or receiving failed (connection refused, unreachable...).
    Network(String),
    /// The DNS phase's overall deadline passed before the question was sent.
    Skipped,
    /// Our limitation, not the server's: the probe cannot ask this record
    /// type, or cannot read the record data the server answered with. Never
    /// evidence against the server; the scan records it as its own error.
    Unsupported(String),
}

/// One question put to one server, and what came of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    pub question: Question,
    pub server: SocketAddr,
    pub outcome: Result<DnsAnswer, QueryFailure>,
    /// Round trip, microseconds (0 when nothing came back).
    pub latency_us: u64,
}

/// What the parent zone's servers say about a zone's delegation, found by
/// walking down from the root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delegation {
    /// The zone asked about (normalised).
    pub zone: String,
    /// The closest enclosing zone whose servers answered (e.g. `com.`).
    pub parent: String,
    /// The parent's servers that answered, by name where known.
    pub parent_servers: Vec<String>,
    pub outcome: DelegationOutcome,
    /// DS records the parent publishes for the zone, presentation format
    /// (`12345 13 2 ABCDEF...`); empty when none or not asked.
    pub ds_records: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DelegationOutcome {
    /// The parent delegates the zone to these servers (normalised NS names).
    Delegated { name_servers: Vec<String> },
    /// The parent answers authoritatively that there is no delegation
    /// (NXDOMAIN, or NODATA without a referral).
    NotDelegated { rcode: ResponseCode },
    /// The walk could not reach an answer (every server timed out, refused...).
    Unknown { reason: String },
}

/// What iterative resolution of a name found (used for dangling targets and
/// for CAA outside the account's zones).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Resolution {
    /// The records of the asked type at the end of any CNAME chain, and the
    /// chain itself (each CNAME's target), in order.
    Answer {
        records: Vec<ResourceRecord>,
        cname_chain: Vec<String>,
    },
    /// The name exists but has no record of that type.
    NoData { cname_chain: Vec<String> },
    /// The name (or a CNAME target in its chain) does not exist.
    NxDomain { cname_chain: Vec<String> },
    /// Resolution failed (timeouts, SERVFAIL, loops); not evidence either way.
    Failed { reason: String },
}

/// One prefix of AWS's published `ip-ranges.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsIpPrefix {
    /// `52.94.76.0/22` or `2600:1f14::/35`.
    pub prefix: String,
    pub region: String,
    pub service: String,
}

/// The account's own endpoints on AWS services, against which dangling
/// targets are checked. A `None` field could not be listed: the rules then
/// make no claim about targets of that kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountEndpoints {
    /// CloudFront distribution domain names (`d111.cloudfront.net.`) and
    /// their aliases (CNAMEs).
    pub cloudfront: Option<Vec<String>>,
    /// Load balancer DNS names (ELBv2 and classic), all configured regions.
    pub load_balancers: Option<Vec<String>>,
    /// Elastic Beanstalk environment CNAMEs and endpoint URLs.
    pub beanstalk: Option<Vec<String>>,
    /// API Gateway custom domain targets (regional and edge) and
    /// `execute-api` hosts of the account's APIs.
    pub api_gateway: Option<Vec<String>>,
    /// Elastic IPs and network interface addresses (public and private).
    pub addresses: Option<Vec<IpAddr>>,
}

/// One name server of a zone and what it answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerFacts {
    /// Normalised NS name (`ns-1.awsdns-01.com.`).
    pub name: String,
    /// Where it was asked; an error when its address could not be found.
    pub addresses: Result<Vec<SocketAddr>, QueryFailure>,
    /// Every question put to it (one address per server is asked).
    pub observations: Vec<Observation>,
    /// Its addresses the probe may not connect to (not on the internet,
    /// and not in `ZW_PROBE_ALLOW_CIDRS`): never asked, reported.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_probed: Vec<NotProbed>,
}

/// An address the probe did not connect to, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotProbed {
    pub address: SocketAddr,
    pub reason: String,
}

/// An NS record set below a zone's apex (a delegated subdomain) and what its
/// servers answered for the subdomain's SOA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubDelegation {
    /// The delegated name (normalised).
    pub name: String,
    pub servers: Vec<ServerFacts>,
}

/// Everything collected about one hosted zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneFacts {
    pub inventory: ZoneInventory,
    /// From the parent's servers; None for private zones, or when not walked.
    pub delegation: Option<Delegation>,
    /// The zone's servers (delegation set plus apex NS values), each asked
    /// every configured name and type of the zone (`compared`) or only the
    /// apex SOA and NS; empty for private zones.
    pub servers: Vec<ServerFacts>,
    /// Every record set was asked of every server (a full comparison). Off
    /// between comparisons (`ZW_DNS_COMPARE_INTERVAL_MINUTES`): the answers
    /// check then covers nothing, so its findings stay as they are.
    pub compared: bool,
    pub sub_delegations: Vec<SubDelegation>,
    /// Whether `GetDNSSEC` could be read (`inventory.dnssec` is then Some).
    pub dnssec_read: bool,
}

/// An ACM certificate's names, for the CAA check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateNames {
    pub arn: String,
    pub region: crate::model::Region,
    pub domain_name: String,
    /// Domain name and every SAN, as ACM lists them (`*.example.com`).
    pub names: Vec<String>,
}

/// The CAA record set that applies to a name (RFC 8659 climbing): the first
/// of the name and its parents that has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum CaaLookup {
    /// Found at `at` (the name or a parent): the records' presentation data
    /// (`0 issue "amazon.com"`).
    Found { at: String, records: Vec<String> },
    /// No CAA record at the name or any parent: any CA may issue.
    None,
    /// The climb could not finish (a lookup failed): not evidence either way.
    Failed { reason: String },
}

/// What a DNS scan collected, ready for the pure rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsFacts {
    pub zones: Vec<ZoneFacts>,
    /// None when certificates could not be listed (no CAA claims about them).
    pub certificates: Option<Vec<CertificateNames>>,
    /// CAA per name asked: certificate names (wildcards without `*.`) and
    /// zone apexes, normalised.
    pub caa: std::collections::BTreeMap<String, CaaLookup>,
    /// Iterative resolution of each CNAME target (type A) of the public zones.
    pub cname_targets: std::collections::BTreeMap<String, Resolution>,
    /// Bucket name -> exists, for records pointing at S3 website endpoints.
    pub buckets: std::collections::BTreeMap<String, bool>,
    pub endpoints: AccountEndpoints,
    /// None when `ip-ranges.json` could not be read.
    pub ip_ranges: Option<Vec<AwsIpPrefix>>,
    /// The expectations document's answers: what iterative resolution
    /// returned for each expected name and type.
    pub expectation_answers: std::collections::BTreeMap<Question, Resolution>,
}
