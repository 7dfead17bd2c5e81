//! What the endpoints family collects: the addresses that serve (or should
//! serve) HTTPS for the account's names, what a TLS handshake with each
//! showed, and which ACM certificates are attached to the AWS resources
//! aliases point at.

use crate::model::{FailoverRole, RoutingPolicy};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// Where a probe target came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "kebab-case")]
pub enum TargetOrigin {
    /// A record set of a hosted zone.
    Record {
        zone_id: String,
        name: String,
        #[serde(rename = "type")]
        record_type: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        set_identifier: Option<String>,
        routing: RoutingPolicy,
        #[serde(skip_serializing_if = "Option::is_none")]
        failover: Option<FailoverRole>,
        /// The alias target or CNAME value resolved for the addresses.
        #[serde(skip_serializing_if = "Option::is_none")]
        via: Option<String>,
    },
    /// `ZW_TLS_TARGETS`.
    Configured,
}

impl TargetOrigin {
    /// The finding scope of targets from here.
    pub fn scope(&self) -> &str {
        match self {
            Self::Record { zone_id, .. } => zone_id,
            Self::Configured => CONFIGURED_SCOPE,
        }
    }

    /// One of several sets of its name (failover, weighted, latency...):
    /// users reach it only when Route 53 picks it.
    pub fn is_group_member(&self) -> bool {
        matches!(self, Self::Record { routing, .. } if !routing.is_simple())
    }
}

/// The scope of findings about `ZW_TLS_TARGETS`.
pub const CONFIGURED_SCOPE: &str = "tls-targets";

/// One handshake to make: the name sent as SNI, at one address and port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsTarget {
    /// Without the trailing dot, lower case.
    pub host: String,
    pub address: SocketAddr,
    pub origin: TargetOrigin,
    /// The AWS resource an alias or CNAME points at, when it is one of the
    /// account's, with the ACM certificates attached to it.
    pub attachment: Option<Attachment>,
}

impl TlsTarget {
    /// `host:port@address`, the finding resource id.
    pub fn id(&self) -> String {
        format!(
            "{}:{}@{}",
            self.host,
            self.address.port(),
            self.address.ip()
        )
    }
}

/// An AWS resource that terminates TLS with ACM certificates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// `cloudfront`, `elb` or `apigateway`.
    pub kind: String,
    /// Its ARN or id.
    pub resource: String,
    /// The DNS name aliases point at (normalised, no `dualstack.`).
    pub dns_name: String,
    /// ACM certificate ARNs attached (a listener's default and SNI ones).
    pub certificate_arns: Vec<String>,
    /// IAM server certificates attached: ARNs (load balancer listeners) or
    /// ids (CloudFront's `IAMCertificateId`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub iam_certificates: Vec<String>,
}

/// What a handshake showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum TlsOutcome {
    /// The handshake completed (whether or not we trust what was served).
    Served(ServedCertificate),
    /// Nothing accepted the TCP connection (refused, unreachable, or no
    /// answer to it within the timeout): no HTTPS service at this address.
    NoService { reason: String },
    /// TCP was accepted and TLS did not complete: an alert, bytes that are
    /// not TLS, a certificate that cannot be parsed, or silence.
    Failed { stage: String, error: String },
    /// The handshake failed because the served certificate's key is too
    /// small for TLS clients (an RSA key under 2048 bits): its signature is
    /// refused, so the connection fails for them as it did for the probe.
    KeyTooSmall(WeakKey),
    /// The handshake could not be completed because of a limit of the probe
    /// itself, not of the endpoint (a handshake message larger than the
    /// 64 KiB the TLS library accepts: a certificate with thousands of
    /// names, which browsers accept). Never a finding: a scan error, and
    /// the endpoint's findings are kept as they are.
    ProbeLimit { limit: String, error: String },
}

/// A served key that TLS clients refuse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeakKey {
    /// `RSA`.
    pub algorithm: String,
    pub bits: u32,
    /// The smallest size clients accept for this algorithm.
    pub minimum_bits: u32,
    /// The leaf's subject and serial (as in [`ServedCertificate`]).
    pub subject: String,
    pub serial: String,
    /// What the TLS library said.
    pub error: String,
}

/// The leaf certificate an endpoint served, and what we made of its chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServedCertificate {
    /// Lower-case hex without separators or leading zeros.
    pub serial: String,
    pub subject: String,
    /// The subject's common name, when it has one.
    pub common_name: Option<String>,
    pub issuer: String,
    /// Whether the certificate has a subjectAltName extension at all:
    /// clients match the name against it only (never the subject's CN).
    pub has_san: bool,
    /// The DNS names and IP addresses of the subjectAltName.
    pub names: Vec<String>,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    /// `ECDSA P-256`, `RSA 2048`, `Ed25519`...
    pub key_type: String,
    /// `TLSv1.3`, `TLSv1.2`.
    pub protocol: String,
    /// None when the chain leads to a trusted root; else why not.
    pub chain_error: Option<String>,
    pub hostname_matches: bool,
}

/// Serials compare as numbers: ACM writes `0a:1b:...`, parsers write hex.
pub fn normalize_serial(raw: &str) -> String {
    let hex: String = raw
        .chars()
        .filter(char::is_ascii_hexdigit)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let trimmed = hex.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".to_owned()
    } else {
        trimmed.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_compare_whatever_their_spelling() {
        assert_eq!(normalize_serial("0a:1B:00"), "a1b00");
        assert_eq!(normalize_serial("0A1b00"), "a1b00");
        assert_eq!(normalize_serial("00:00"), "0");
    }
}
