//! Findings: what rules detect, and what the store remembers about them.

use crate::catalogue::FindingCode;
use crate::model::Region;
pub use crate::severity::Severity;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResourceKind {
    AcmCertificate,
    /// A Route 53 hosted zone: id `Z123`, name the zone's name.
    Route53HostedZone,
    /// A record set of a hosted zone: id `Z123/www.example.com./A[/set id]`.
    Route53RecordSet,
    /// A DNS name and type outside Route 53's view (an expectation), or a
    /// name of the account's zones as a whole.
    DnsName,
    /// A Route 53 health check: id its id, name its `Name` tag or target.
    Route53HealthCheck,
    /// One address serving TLS for one name and port: id
    /// `host:port@address`, name `host:port`.
    TlsEndpoint,
    /// The deployment's license: id `license`, or `license/zones` and
    /// `license/certificates` for the estate's size against it.
    License,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 7] = [
        Self::AcmCertificate,
        Self::Route53HostedZone,
        Self::Route53RecordSet,
        Self::DnsName,
        Self::Route53HealthCheck,
        Self::TlsEndpoint,
        Self::License,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AcmCertificate => "acm-certificate",
            Self::Route53HostedZone => "route53-hosted-zone",
            Self::Route53RecordSet => "route53-record-set",
            Self::DnsName => "dns-name",
            Self::Route53HealthCheck => "route53-health-check",
            Self::TlsEndpoint => "tls-endpoint",
            Self::License => "license",
        }
    }

    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == id)
    }
}

/// What a finding is about: `id` is the stable identity (an ARN), `name` what a
/// human recognises (the certificate's domain).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Resource {
    pub kind: ResourceKind,
    pub id: String,
    pub name: String,
}

/// What a rule reports: a finding before it has a history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detection {
    pub code: FindingCode,
    pub severity: Severity,
    pub resource: Resource,
    pub region: Region,
    /// The unit of collection the finding belongs to (a region for
    /// certificates, a hosted zone id for DNS): a scan resolves the finding
    /// only when it collected this scope for the code's check.
    pub scope: String,
    pub message: String,
    pub evidence: serde_json::Value,
}

impl Detection {
    pub fn key(&self) -> FindingKey {
        FindingKey {
            resource_id: self.resource.id.clone(),
            code: self.code,
        }
    }
}

/// At most one current finding exists per (resource, code).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FindingKey {
    pub resource_id: String,
    pub code: FindingCode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingState {
    Open,
    Resolved,
}

impl FindingState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Resolved => "resolved",
        }
    }
}

/// The finding contract of `shared/README.md`: what the CLI prints, what the
/// store keeps as the current item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub code: FindingCode,
    pub severity: Severity,
    pub resource: Resource,
    pub region: Region,
    /// See `Detection::scope`.
    pub scope: String,
    pub message: String,
    pub evidence: serde_json::Value,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub state: FindingState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<DateTime<Utc>>,
}

impl Finding {
    /// A finding seen for the first time at `now`.
    pub fn opened(d: Detection, now: DateTime<Utc>) -> Self {
        Self {
            code: d.code,
            severity: d.severity,
            resource: d.resource,
            region: d.region,
            scope: d.scope,
            message: d.message,
            evidence: d.evidence,
            first_seen: now,
            last_seen: now,
            state: FindingState::Open,
            resolved_at: None,
        }
    }

    pub fn key(&self) -> FindingKey {
        FindingKey {
            resource_id: self.resource.id.clone(),
            code: self.code,
        }
    }
}

/// A current finding as stored, with the optimistic-concurrency version the
/// next conditional write must match.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFinding {
    pub finding: Finding,
    pub version: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finding_json_uses_the_documented_field_names() {
        let f = Finding::opened(
            Detection {
                code: FindingCode::CertExpired,
                severity: Severity::Critical,
                resource: Resource {
                    kind: ResourceKind::AcmCertificate,
                    id: "arn:aws:acm:eu-west-1:111122223333:certificate/x".into(),
                    name: "example.com".into(),
                },
                region: Region::parse("eu-west-1").expect("region"),
                scope: "eu-west-1".into(),
                message: "m".into(),
                evidence: serde_json::json!({"days_left": -1}),
            },
            DateTime::<Utc>::from_timestamp(1_700_000_000, 0).expect("ts"),
        );
        let v = serde_json::to_value(&f).expect("json");
        for field in [
            "code",
            "severity",
            "resource",
            "region",
            "message",
            "evidence",
            "first_seen",
            "last_seen",
            "state",
        ] {
            assert!(v.get(field).is_some(), "missing {field}");
        }
        assert_eq!(v["code"], "cert.expired");
        assert_eq!(v["state"], "open");
        assert_eq!(v["resource"]["kind"], "acm-certificate");
        let back: Finding = serde_json::from_value(v).expect("round trip");
        assert_eq!(back, f);
    }
}
