//! The IAM server certificate family's ports.

use super::model::ServerCertificates;
use crate::error::PortError;
use std::future::Future;

/// IAM (a global service).
pub trait ServerCertificateSource: Send + Sync {
    /// Every server certificate, each with its body's end. Err only when
    /// the listing itself fails.
    fn server_certificates(
        &self,
    ) -> impl Future<Output = Result<ServerCertificates, PortError>> + Send;
}
