//! The domains family's ports.

use super::model::{Domain, Reachability};
use crate::error::PortError;
use std::future::Future;

/// Route 53 Domains (us-east-1 only), the registrar of the account's domains.
pub trait DomainRegistrations: Send + Sync {
    /// The names of every domain registered in the account (`ListDomains`,
    /// fully paginated), normalised, with `ListDomains`' transfer lock.
    fn domain_names(
        &self,
    ) -> impl Future<Output = Result<Vec<(String, Option<bool>)>, PortError>> + Send;
    /// One domain's registration (`GetDomainDetail`).
    fn domain(&self, name: &str) -> impl Future<Output = Result<Domain, PortError>> + Send;
    /// The registrant contact's verification (`GetContactReachabilityStatus`).
    fn reachability(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Reachability, PortError>> + Send;
}
