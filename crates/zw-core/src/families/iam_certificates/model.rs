//! What the IAM server certificate family collects: the account's IAM
//! server certificates (`ListServerCertificates`), each one's end read from
//! its certificate body (`GetServerCertificate`), and what terminates TLS
//! with them (CloudFront distributions, load balancer listeners).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One IAM server certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerCertificate {
    pub name: String,
    /// `ServerCertificateId` (what CloudFront's `IAMCertificateId` names).
    pub id: String,
    pub arn: String,
    pub path: String,
    /// The certificate body's `notAfter` (IAM's own `Expiration` is not
    /// relied on).
    pub not_after: DateTime<Utc>,
    /// The body's subject, for people.
    pub subject: String,
}

/// What the account's certificates could be read as.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerCertificates {
    pub certificates: Vec<ServerCertificate>,
    /// Listed but not read (the body could not be fetched or parsed), by
    /// ARN: their findings stay as they are.
    pub failed: Vec<(String, crate::error::PortError)>,
}
