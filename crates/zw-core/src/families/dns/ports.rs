//! The DNS family's ports: its inventory cache, the DNS probe (the
//! endpoints family resolves through it too) and the AWS targets of records.

use super::model::{
    AccountEndpoints, AwsIpPrefix, Delegation, Observation, QueryFailure, Question, Resolution,
    ZoneInventory,
};
use crate::error::PortError;
use crate::model::Region;
use std::future::Future;
use std::net::SocketAddr;

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
