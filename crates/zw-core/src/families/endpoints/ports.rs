//! The endpoints family's ports.

use super::model::{Attachment, TlsOutcome};
use crate::error::PortError;
use crate::model::Region;
use std::future::Future;
use std::net::SocketAddr;

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
