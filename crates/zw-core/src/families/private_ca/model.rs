//! What the private CA family collects: the account's ACM Private CA
//! certificate authorities in each configured region
//! (`ListCertificateAuthorities`).

use crate::model::Region;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One certificate authority as ACM Private CA describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateAuthority {
    pub arn: String,
    pub region: Region,
    /// `CREATING`, `PENDING_CERTIFICATE`, `ACTIVE`, `DELETED`, `DISABLED`,
    /// `EXPIRED`, `FAILED`.
    pub status: String,
    /// `ROOT` or `SUBORDINATE`.
    pub kind: String,
    /// `GENERAL_PURPOSE` or `SHORT_LIVED_CERTIFICATE`.
    pub usage_mode: Option<String>,
    /// The subject's common name, when configured.
    pub common_name: Option<String>,
    /// The CA's own certificate's end (none until one is installed).
    pub not_after: Option<DateTime<Utc>>,
    /// CRL distribution on.
    pub crl: bool,
    /// OCSP on.
    pub ocsp: bool,
}

impl CertificateAuthority {
    /// What people call it: its common name, else its ARN.
    pub fn display_name(&self) -> String {
        self.common_name.clone().unwrap_or_else(|| self.arn.clone())
    }

    /// Short-lived certificates (7 days at most) are not revoked: their CA
    /// needs no CRL or OCSP.
    pub fn short_lived(&self) -> bool {
        self.usage_mode.as_deref() == Some("SHORT_LIVED_CERTIFICATE")
    }
}
