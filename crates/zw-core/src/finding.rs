//! Findings: what rules detect, and what the store remembers about them.

use crate::catalogue::FindingCode;
use crate::model::Region;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Ordered from least to most severe, so `max()` and `>=` read naturally.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Most severe first, the order tables and metrics list them in.
    pub const ALL_DESC: [Severity; 5] = [
        Self::Critical,
        Self::High,
        Self::Medium,
        Self::Low,
        Self::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL_DESC
            .into_iter()
            .find(|v| v.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| format!("`{s}` is not a severity (critical, high, medium, low, info)"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResourceKind {
    AcmCertificate,
    /// A Route 53 hosted zone: id `Z123`, name the zone's name.
    Route53HostedZone,
    /// A record set of a hosted zone: id `Z123/www.example.com./A[/set id]`.
    Route53RecordSet,
    /// A DNS name and type outside Route 53's view (an expectation).
    DnsName,
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
    fn severities_order_and_parse() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Low > Severity::Info);
        assert_eq!("HIGH".parse::<Severity>(), Ok(Severity::High));
        assert!("urgent".parse::<Severity>().is_err());
    }

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
