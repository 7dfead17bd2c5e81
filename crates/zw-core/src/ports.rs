//! Domain-level ports. Adapters (zw-aws) implement them with the AWS SDK, tests
//! with in-memory fakes. They speak our types only, never SDK types.

use crate::finding::{FindingKey, StoredFinding};
use crate::metrics::MetricBatch;
use crate::model::dns::{
    AccountEndpoints, AwsIpPrefix, Delegation, DnssecStatus, Observation, QueryFailure, Question,
    Resolution, ZoneInventory,
};
use crate::model::health::{CheckerObservation, HealthAlarms, HealthCheck, StatusHistory};
use crate::model::tls::{Attachment, TlsOutcome};
use crate::model::{Certificate, HostedZone, RecordSet, Region};
use crate::notify::{FindingEvent, PendingEvent};
use crate::reconcile::Change;
use crate::record::ScanRecord;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use std::future::Future;
use std::net::SocketAddr;

// The tail's error type lives in the leaf `error` module (record and metrics
// use it without depending on the ports); adapters name it from here too.
pub use crate::error::{ErrorKind, PortError};

/// ACM, one region at a time.
/// One region's certificates.
#[derive(Debug, Default, Clone)]
pub struct RegionCertificates {
    /// Every certificate listed and described.
    pub certificates: Vec<Certificate>,
    /// Listed but not described (after retries), by ARN, with why: one
    /// certificate failing is its own error, and its findings stay as they
    /// are; the region's other certificates count.
    pub failed: Vec<(String, PortError)>,
    /// Listed but not reached before `stop`: their findings stay as they
    /// are, and the next scan describes them first (it continues where this
    /// one stopped), so a region too large for one invocation is still
    /// covered in a few.
    pub unvisited: Vec<String>,
}

pub trait CertificateSource: Send + Sync {
    /// Every certificate of the region, all statuses and key types,
    /// described, until `stop` (then the rest are `unvisited`). Err only
    /// when the region itself cannot be read (listing failed, or not one
    /// certificate could be described).
    fn certificates(
        &self,
        region: &Region,
        stop: Option<std::time::Instant>,
    ) -> impl Future<Output = Result<RegionCertificates, PortError>> + Send;
}

/// Route 53 (a global service).
pub trait ZoneSource: Send + Sync {
    /// Every hosted zone, with its `ResourceRecordSetCount`.
    fn hosted_zones(&self) -> impl Future<Output = Result<Vec<HostedZone>, PortError>> + Send;
    /// Every record set of one zone, fully paginated (across name, type and
    /// set identifier), alias and routing-policy sets included.
    fn record_sets(
        &self,
        zone_id: &str,
    ) -> impl Future<Output = Result<Vec<RecordSet>, PortError>> + Send;
    /// The zone's delegation set (`GetHostedZone`), normalised names.
    fn name_servers(
        &self,
        zone_id: &str,
    ) -> impl Future<Output = Result<Vec<String>, PortError>> + Send;
    /// `GetDNSSEC` of a public zone.
    fn dnssec(&self, zone_id: &str)
    -> impl Future<Output = Result<DnssecStatus, PortError>> + Send;
    /// The zone's quota of record sets (`GetHostedZoneLimit`,
    /// `MAX_RRSETS_BY_ZONE`). `NotFound` where the service does not answer
    /// it (moto).
    fn record_set_limit(
        &self,
        zone_id: &str,
    ) -> impl Future<Output = Result<u64, PortError>> + Send;
}

/// The DNS inventory kept between scans, so that record sets are listed again
/// only when a zone changed or the copy is old (Route 53 has no cheap "what
/// changed" call).
pub trait InventoryCache: Send + Sync {
    fn load(
        &self,
        zone_id: &str,
    ) -> impl Future<Output = Result<Option<ZoneInventory>, PortError>> + Send;
    /// Replaces the zone's cached inventory as a whole (a reader never sees
    /// half of an old and half of a new listing).
    fn save(&self, inventory: &ZoneInventory)
    -> impl Future<Output = Result<(), PortError>> + Send;
    /// The cached record sets are still the zone's: rewrites only what is
    /// kept beside them (`listed_at`, `compared_at`, the zone, its name
    /// servers and DNSSEC status), one small write instead of the whole
    /// inventory again. Saves the whole inventory when nothing usable is
    /// cached.
    fn touch(
        &self,
        inventory: &ZoneInventory,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// Real DNS: iterative resolution from the root, and questions to named
/// servers. Every call is bounded in time; failures are part of the answer
/// (they are evidence for the rules), never a panic or a hang.
pub trait DnsProbe: Send + Sync {
    /// Walks down from the root to the closest enclosing zone of `zone` and
    /// asks its servers for the delegation (NS, and DS) of `zone`.
    fn delegation(&self, zone: &str) -> impl Future<Output = Delegation> + Send;
    /// Addresses of a name server: the configured overrides first, else
    /// iterative resolution of its A and AAAA records.
    fn server_addresses(
        &self,
        ns_name: &str,
    ) -> impl Future<Output = Result<Vec<SocketAddr>, QueryFailure>> + Send;
    /// Asks one server every question (pipelined), one observation per
    /// question in the same order. `dnssec_ok` sets the DO bit so that RRSIGs
    /// come back. Of each answer, only the answer section and the signatures
    /// of the authority section are kept (referral NS and glue are dropped):
    /// a whole zone's answers are held at once, and nothing reads the rest.
    fn ask(
        &self,
        server: SocketAddr,
        questions: &[Question],
        dnssec_ok: bool,
    ) -> impl Future<Output = Vec<Observation>> + Send;
    /// Resolves `name`/`rtype` iteratively from the root, following CNAMEs.
    fn resolve(&self, name: &str, rtype: &str) -> impl Future<Output = Resolution> + Send;
    /// Whether a probe may connect to `address` learned from DNS data
    /// (record values, glue, name servers' addresses): Err(why) when it is
    /// not on the internet and not in `ZW_PROBE_ALLOW_CIDRS`
    /// ([`crate::probe_scope`]). Addresses the operator configured for the
    /// resolver itself pass.
    fn may_probe(&self, address: SocketAddr) -> Result<(), String>;
}

/// Route 53 health checks (a global service, paced with the zones).
pub trait HealthCheckSource: Send + Sync {
    /// Every health check, fully paginated, with its tags.
    fn health_checks(&self) -> impl Future<Output = Result<Vec<HealthCheck>, PortError>> + Send;
    /// `GetHealthCheckStatus`: each checker's last observation.
    fn observations(
        &self,
        health_check_id: &str,
    ) -> impl Future<Output = Result<Vec<CheckerObservation>, PortError>> + Send;
}

/// CloudWatch alarms on Route 53 health checks, in us-east-1 (the only
/// region that has their metrics).
pub trait HealthAlarmSource: Send + Sync {
    fn health_check_alarms(&self) -> impl Future<Output = Result<HealthAlarms, PortError>> + Send;
}

/// Our own status history of health checks, kept between scans.
pub trait HealthHistoryStore: Send + Sync {
    fn load_history(
        &self,
    ) -> impl Future<Output = Result<std::collections::BTreeMap<String, StatusHistory>, PortError>> + Send;
    /// Writes these entries (each replaces its health check's).
    fn save_history(
        &self,
        entries: &[StatusHistory],
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// One TLS handshake, bounded in time; its failures are the answer.
pub trait TlsProber: Send + Sync {
    fn handshake(&self, host: &str, address: SocketAddr)
    -> impl Future<Output = TlsOutcome> + Send;
}

/// The account's resources that terminate TLS with ACM certificates
/// (CloudFront distributions, load balancer listeners, API Gateway custom
/// domains). Each kind is listed independently; the errors of those that
/// could not be listed come back beside what could.
pub trait AttachmentSource: Send + Sync {
    fn attachments(
        &self,
        regions: &[Region],
    ) -> impl Future<Output = (Vec<Attachment>, Vec<PortError>)> + Send;
}

/// The AWS resources DNS records may point at, to tell a live target from a
/// dangling one (subdomain takeover).
pub trait AwsTargets: Send + Sync {
    /// Whether an S3 bucket of this name exists anywhere (`GetBucketLocation`:
    /// 404 means it does not; 403 means someone else's bucket exists).
    fn bucket_exists(&self, bucket: &str) -> impl Future<Output = Result<bool, PortError>> + Send;
    /// The account's endpoints, each kind listed independently: a kind that
    /// could not be listed is `None` in the result and its error is returned.
    fn account_endpoints(
        &self,
        regions: &[Region],
    ) -> impl Future<Output = (AccountEndpoints, Vec<PortError>)> + Send;
    /// AWS's published IP ranges (`ip-ranges.json`), cached by the adapter
    /// for a day.
    fn ip_ranges(&self) -> impl Future<Output = Result<Vec<AwsIpPrefix>, PortError>> + Send;
}

/// A text document the user keeps outside the code (the DNS expectations): an
/// SSM parameter in Lambda, a file for the CLI.
pub trait DocumentSource: Send + Sync {
    /// The document, or None when none is configured.
    fn fetch(&self) -> impl Future<Output = Result<Option<String>, PortError>> + Send;
}

/// What a commit did: which changes lost a race to another scan.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CommitOutcome {
    pub applied: usize,
    /// Keys whose condition failed: re-read and re-plan them.
    pub conflicts: Vec<FindingKey>,
    /// The commit stopped at this error: `unwritten` were not written,
    /// everything else (but `conflicts`) was.
    pub failed: Option<PortError>,
    pub unwritten: Vec<FindingKey>,
}

/// Current findings, their history and scan records.
/// What `FindingStore::load_current` read.
#[derive(Debug, Default)]
pub struct CurrentFindings {
    pub findings: Vec<StoredFinding>,
    /// Items this version cannot read (written by a newer version after a
    /// rollback, or damaged by hand), with their key when that much could be
    /// read. A scan records each as an error and leaves it exactly as it is.
    pub unreadable: Vec<(Option<FindingKey>, PortError)>,
    /// The suppressions to apply. When they could not be read, `known` is
    /// false (every finding keeps its suppression state) and the reason is
    /// in `unreadable`, without a key.
    pub triage: crate::triage::Triage,
}

pub trait FindingStore: Send + Sync {
    /// Every current finding item (open and recently resolved). One item
    /// that cannot be read is reported in `unreadable`, not as a failure of
    /// the whole load.
    fn load_current(&self) -> impl Future<Output = Result<CurrentFindings, PortError>> + Send;
    fn load(
        &self,
        keys: &[FindingKey],
    ) -> impl Future<Output = Result<Vec<StoredFinding>, PortError>> + Send;
    /// Applies changes, each conditional on the version it was planned from.
    /// With `announce`, each transition's event goes into the outbox in the
    /// same write as the finding (none is lost between the two). Past
    /// `stop`, no further write is started: what is left is `unwritten`,
    /// with `failed` saying why.
    fn commit(
        &self,
        scan_id: &str,
        changes: &[Change],
        announce: bool,
        stop: Option<DateTime<Utc>>,
    ) -> impl Future<Output = Result<CommitOutcome, PortError>> + Send;
    fn record_scan(&self, scan: &ScanRecord) -> impl Future<Output = Result<(), PortError>> + Send;
    /// Replaces the inventory of each given scope (`crate::inventory`).
    /// Stores that keep none accept and drop it.
    fn save_inventory(
        &self,
        scopes: &[crate::inventory::ScopeInventory],
    ) -> impl Future<Output = Result<(), PortError>> + Send {
        let _ = scopes;
        async { Ok(()) }
    }
    /// Up to `limit` events of the outbox that `claimant` (a scan id) could
    /// claim, oldest first, starting after the outbox id `after` (the last
    /// id of the previous page). A claim lasts a couple of minutes: two
    /// scans at once never send the same event, and one that died leaves
    /// its claims to expire for the next scan.
    fn claim_events(
        &self,
        claimant: &str,
        after: Option<&str>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<PendingEvent>, PortError>> + Send;
    /// Every event of the outbox that `claimant` could claim, oldest first.
    fn pending_events(
        &self,
        claimant: &str,
    ) -> impl Future<Output = Result<Vec<PendingEvent>, PortError>> + Send {
        self.claim_events(claimant, None, usize::MAX)
    }
    /// Takes sent events out of the outbox.
    fn events_sent(&self, ids: &[String]) -> impl Future<Output = Result<(), PortError>> + Send;
    /// Gives up `claimant`'s claims on events it could not send, so that the
    /// next scan sends them at once rather than after the claim expires.
    fn release_events(
        &self,
        ids: &[String],
        claimant: &str,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// Where finding events go (EventBridge). Object-safe: the scan holds it as
/// an optional `&dyn`.
pub trait EventSink: Send + Sync {
    /// Sends `events`; one result per event, in order. A failed event is
    /// sent again by the next scan.
    fn send<'a>(&'a self, events: &'a [FindingEvent]) -> BoxFuture<'a, Vec<Result<(), PortError>>>;
}

pub trait MetricSink: Send + Sync {
    fn publish(&self, batch: &MetricBatch) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// API requests sent so far, per `service:Operation` (retries included).
/// Cumulative; a scan records the difference between its start and end.
pub trait ApiUsage: Send + Sync {
    fn calls(&self) -> std::collections::BTreeMap<String, u64>;
}

/// The one place time comes from; rules get `now` as a parameter instead.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
    /// Resolves once the wall clock reaches `at`: how the scan's tail bounds
    /// each of its steps by the invocation's end. The default never
    /// resolves, for clocks that only tell the time (no step is cut short).
    fn sleep_until(&self, at: DateTime<Utc>) -> BoxFuture<'static, ()> {
        let _ = at;
        Box::pin(futures::future::pending())
    }
}
