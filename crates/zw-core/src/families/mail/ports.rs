//! The mail family's ports: SES identities and the MTA-STS policy fetch.
//! DNS is the DNS family's probe (`DnsProbe::resolve`).

use super::model::{FetchFailure, SesIdentity};
use crate::error::PortError;
use crate::model::Region;
use chrono::{DateTime, Utc};
use std::future::Future;
use std::net::SocketAddr;

/// Amazon SES (API v2), one region at a time: its domain identities.
pub trait MailIdentities: Send + Sync {
    /// Every domain identity of the region (`ListEmailIdentities`, fully
    /// paginated) with its DKIM attributes (`GetEmailIdentity`); e-mail
    /// address identities are left out.
    fn domain_identities(
        &self,
        region: &Region,
    ) -> impl Future<Output = Result<Vec<SesIdentity>, PortError>> + Send;
}

/// One HTTPS GET of a small policy document.
pub trait PolicyFetcher: Send + Sync {
    /// `GET https://<host><path>` from `address`, the certificate verified
    /// for `host` and valid at `now`, no redirect followed, the body capped:
    /// the body of a 200 answer as text. The address was checked by the
    /// caller (`DnsProbe::may_probe`).
    fn fetch(
        &self,
        host: &str,
        address: SocketAddr,
        path: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<String, FetchFailure>> + Send;
}
