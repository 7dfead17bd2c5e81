//! The certificate family's own port: what the organization's other
//! accounts published in the table (their public zones, and their
//! certificates' names). Many organizations keep every public zone in one
//! DNS account while certificates live in workload accounts: a workload
//! account's validation CNAMEs are then in a zone it does not hold, and the
//! DNS account's names are served with certificates it does not hold. The
//! endpoints family's coverage map reads it too.

use crate::error::PortError;
use crate::model::{HostedZone, RecordSet};
use crate::org::AccountRef;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

/// A hosted zone of another account, as that account's last DNS scan
/// published it (its inventory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedZone {
    pub account: AccountRef,
    pub zone: HostedZone,
}

/// What the organization's zone listing found: the public zones it could
/// read, and the accounts whose published zones could not be read (a name
/// they may cover is then not judged).
#[derive(Debug, Default)]
pub struct SharedZones {
    pub zones: Vec<SharedZone>,
    pub failed: Vec<(AccountRef, PortError)>,
}

/// A shared zone's record sets as its account's DNS scan last listed them
/// from Route 53, and when.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedRecords {
    pub record_sets: Vec<RecordSet>,
    pub listed_at: DateTime<Utc>,
}

/// An issued ACM certificate of another account, as that account's last
/// certificate scan published it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedCertificate {
    pub account: AccountRef,
    pub arn: String,
    /// Its domain name and subject alternative names.
    pub names: Vec<String>,
}

/// What the organization's certificate listing found, as [`SharedZones`].
#[derive(Debug, Default)]
pub struct SharedCertificates {
    pub certificates: Vec<SharedCertificate>,
    pub failed: Vec<(AccountRef, PortError)>,
}

/// What the other scanned accounts of the organization published
/// (organization mode only). Reads the table, never another account's
/// Route 53 or ACM: each account's own scans keep its copy current within
/// its own budgets.
pub trait OrganizationEstate: Send + Sync {
    /// Every public zone the other accounts published.
    fn zones(&self) -> BoxFuture<'_, Result<SharedZones, PortError>>;
    /// The zone's published record sets; None when the holding account has
    /// no readable copy (never scanned for DNS, or the copy expired).
    fn record_sets<'a>(
        &'a self,
        zone: &'a SharedZone,
    ) -> BoxFuture<'a, Result<Option<PublishedRecords>, PortError>>;
    /// The issued certificates the other accounts published.
    fn certificates(&self) -> BoxFuture<'_, Result<SharedCertificates, PortError>>;
}
