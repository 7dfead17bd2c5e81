//! The private CA family's ports.

use super::model::CertificateAuthority;
use crate::error::PortError;
use crate::model::Region;
use std::future::Future;

/// ACM Private CA, one region at a time.
pub trait CertificateAuthoritySource: Send + Sync {
    /// Every certificate authority of the region, fully paginated.
    fn authorities(
        &self,
        region: &Region,
    ) -> impl Future<Output = Result<Vec<CertificateAuthority>, PortError>> + Send;
}
