//! Domain-level ports. Adapters (zw-aws) implement them with the AWS SDK, tests
//! with in-memory fakes. They speak our types only, never SDK types.

use crate::finding::{FindingKey, StoredFinding};
use crate::metrics::MetricBatch;
use crate::model::DnssecStatus;
use crate::model::{Certificate, HostedZone, RecordSet, Region};
use crate::notify::{FindingEvent, PendingEvent};
use crate::reconcile::Change;
use crate::record::ScanRecord;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use std::future::Future;

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
