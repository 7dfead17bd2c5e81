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
    /// A domain registered with Route 53 Domains: id and name the domain's
    /// name, without the trailing dot.
    Route53Domain,
    /// An ACM Private CA certificate authority: id its ARN, name its common
    /// name.
    PrivateCertificateAuthority,
    /// An IAM server certificate: id its ARN, name its name.
    IamServerCertificate,
    /// One address serving TLS for one name and port: id
    /// `host:port@address`, name `host:port`.
    TlsEndpoint,
    /// An Amazon SES domain identity: id `<region>/<domain>`, name the
    /// domain.
    SesIdentity,
    /// A certificate seen in Certificate Transparency logs: id
    /// `<apex>/<serial>`, name its first name in that zone.
    LoggedCertificate,
    /// A source of Route 53 Resolver queries (an instance, a resource, a
    /// Resolver endpoint, or `vpc:<vpc id>`): id `<region>/<source>`, name
    /// the source.
    ResolverQuerySource,
    /// The deployment's license: id `license`, or `license/zones` and
    /// `license/certificates` for the estate's size against it.
    License,
    /// A suppression (`zonewarden.*` findings): id its id.
    Suppression,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 14] = [
        Self::AcmCertificate,
        Self::Route53HostedZone,
        Self::Route53RecordSet,
        Self::DnsName,
        Self::Route53HealthCheck,
        Self::Route53Domain,
        Self::PrivateCertificateAuthority,
        Self::IamServerCertificate,
        Self::TlsEndpoint,
        Self::SesIdentity,
        Self::LoggedCertificate,
        Self::ResolverQuerySource,
        Self::License,
        Self::Suppression,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AcmCertificate => "acm-certificate",
            Self::Route53HostedZone => "route53-hosted-zone",
            Self::Route53RecordSet => "route53-record-set",
            Self::DnsName => "dns-name",
            Self::Route53HealthCheck => "route53-health-check",
            Self::Route53Domain => "route53-domain",
            Self::PrivateCertificateAuthority => "acm-pca-certificate-authority",
            Self::IamServerCertificate => "iam-server-certificate",
            Self::TlsEndpoint => "tls-endpoint",
            Self::SesIdentity => "ses-identity",
            Self::LoggedCertificate => "logged-certificate",
            Self::ResolverQuerySource => "resolver-query-source",
            Self::License => "license",
            Self::Suppression => "suppression",
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
    /// A detection at its code's default severity.
    pub fn new(
        code: FindingCode,
        resource: Resource,
        region: Region,
        scope: &str,
        message: String,
        evidence: serde_json::Value,
    ) -> Self {
        Self {
            code,
            severity: code.default_severity(),
            resource,
            region,
            scope: scope.to_owned(),
            message,
            evidence,
        }
    }

    pub fn key(&self) -> FindingKey {
        FindingKey {
            resource_id: self.resource.id.clone(),
            code: self.code,
        }
    }
}

/// See `Finding::short_id`: 48 bits of FNV-1a (64) over `<code>#<resource
/// id>`. Not a secret, only a handle; a command given an id that two
/// findings share asks for the finding's code and resource instead.
pub fn short_id(key: &FindingKey) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key
        .code
        .id()
        .bytes()
        .chain([b'#'])
        .chain(key.resource_id.bytes())
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{:012x}", h >> 16)
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
    /// Detected, but covered by a suppression (`crate::triage`): kept and
    /// evaluated, left out of `OpenFindings`, the alarms and the routes.
    Suppressed,
    Resolved,
}

impl FindingState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Suppressed => "suppressed",
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
    /// The suppression covering it (state `suppressed`); a resolved
    /// finding keeps the one that covered it last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppression: Option<SuppressedBy>,
    /// Who is on it (open findings only; cleared by a severity change, a
    /// reopen, its end or the resolve).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged: Option<Acknowledgement>,
}

impl Finding {
    /// A finding seen for the first time at `now`, its message and evidence
    /// within `MAX_MESSAGE_CHARS` and `MAX_EVIDENCE_BYTES`.
    pub fn opened(d: Detection, now: DateTime<Utc>) -> Self {
        Self {
            code: d.code,
            severity: d.severity,
            resource: d.resource,
            region: d.region,
            scope: d.scope,
            message: truncated_message(d.message, MAX_MESSAGE_CHARS),
            evidence: capped_evidence(d.evidence, MAX_EVIDENCE_BYTES),
            first_seen: now,
            last_seen: now,
            state: FindingState::Open,
            resolved_at: None,
            suppression: None,
            acknowledged: None,
        }
    }

    /// Short, stable id for commands (`zonewarden findings ack ID`): 12 hex
    /// digits derived from its key.
    pub fn short_id(&self) -> String {
        short_id(&self.key())
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
    /// When the scan that last wrote the item started: every write sets it,
    /// a resolve and a refresh without a transition included. A scan that
    /// started before it must not write the item (its observation is older
    /// than the one stored).
    pub evaluated_at: DateTime<Utc>,
}

impl StoredFinding {
    /// An item written before `evaluated_at` was stored: its last write was
    /// either a detection (at `last_seen`) or a resolve (at `resolved_at`),
    /// so the later of the two is when it was last evaluated.
    pub fn without_evaluated_at(finding: Finding, version: u64) -> Self {
        let evaluated_at = finding
            .resolved_at
            .map_or(finding.last_seen, |r| r.max(finding.last_seen));
        Self {
            finding,
            version,
            evaluated_at,
        }
    }
}

/// A stored finding's message keeps at most this many characters (the
/// store's items, the CLI's output and the events all show it).
pub const MAX_MESSAGE_CHARS: usize = 2_000;
/// Evidence above this size (as JSON) loses its largest values to
/// truncation markers: a current finding, its history entry and its event
/// each carry it, and DynamoDB takes at most 400 KB per item and 4 MB per
/// transaction.
pub const MAX_EVIDENCE_BYTES: usize = 32 * 1024;
/// What a cut message ends with.
pub const TRUNCATED_SUFFIX: &str = "… (truncated)";

/// `message`, cut to `max_chars` characters plus `TRUNCATED_SUFFIX` when it
/// is longer.
pub fn truncated_message(message: String, max_chars: usize) -> String {
    match message.char_indices().nth(max_chars) {
        None => message,
        Some((end, _)) => {
            let mut cut = message;
            cut.truncate(end);
            cut.push_str(TRUNCATED_SUFFIX);
            cut
        }
    }
}

/// What stands in for a value that was too large to keep: how large it was
/// (as JSON), so that a reader knows something is missing and how much.
pub fn truncation_marker(original_bytes: usize) -> serde_json::Value {
    serde_json::json!({"truncated": true, "original_bytes": original_bytes})
}

/// `evidence` within `max_bytes` as JSON: the largest values of an object
/// are replaced by truncation markers, one at a time, until it fits (the
/// small ones, such as the host or serial, stay readable); anything else
/// too large, or an object that still does not fit, becomes one marker.
pub fn capped_evidence(evidence: serde_json::Value, max_bytes: usize) -> serde_json::Value {
    let size = |v: &serde_json::Value| v.to_string().len();
    let total = size(&evidence);
    if total <= max_bytes {
        return evidence;
    }
    let serde_json::Value::Object(mut map) = evidence else {
        return truncation_marker(total);
    };
    let mut sizes: Vec<(usize, String)> = map.iter().map(|(k, v)| (size(v), k.clone())).collect();
    sizes.sort_by(|a, b| b.cmp(a));
    let mut now = total;
    for (bytes, key) in sizes {
        if now <= max_bytes {
            break;
        }
        let marker = truncation_marker(bytes);
        now = now + size(&marker) - bytes.min(now);
        map.insert(key, marker);
    }
    let capped = serde_json::Value::Object(map);
    if size(&capped) <= max_bytes {
        capped
    } else {
        truncation_marker(total)
    }
}

/// The suppression a suppressed finding carries (stored with it, shown by
/// `zonewarden findings --include-suppressed`, sent with its events).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuppressedBy {
    pub id: String,
    pub reason: String,
    pub until: DateTime<Utc>,
    pub created_by: String,
}

/// Someone is on it (`zonewarden findings ack`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledgement {
    pub by: String,
    pub at: DateTime<Utc>,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
}

impl Acknowledgement {
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.until.is_none_or(|u| u > now)
    }
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

    fn detection(message: String, evidence: serde_json::Value) -> Detection {
        Detection {
            code: FindingCode::TlsHostnameMismatch,
            severity: Severity::High,
            resource: Resource {
                kind: ResourceKind::TlsEndpoint,
                id: "www.example.com:443@192.0.2.1".into(),
                name: "www.example.com:443".into(),
            },
            region: Region::global(),
            scope: "Z1".into(),
            message,
            evidence,
        }
    }

    /// A certificate with thousands of names: the finding keeps the small
    /// facts, marks what it dropped, and stays far below DynamoDB's 400 KB.
    #[test]
    fn huge_messages_and_evidence_are_capped_with_a_marker() {
        let names: Vec<String> = (0..20_000).map(|i| format!("n{i}.example.net")).collect();
        let f = Finding::opened(
            detection(
                format!("serves a certificate for {}", names.join(", ")),
                serde_json::json!({"serial": "ff01", "names": names, "host": "www.example.com"}),
            ),
            DateTime::<Utc>::from_timestamp(1_700_000_000, 0).expect("ts"),
        );
        assert_eq!(
            f.message.chars().count(),
            MAX_MESSAGE_CHARS + TRUNCATED_SUFFIX.chars().count()
        );
        assert!(f.message.ends_with(TRUNCATED_SUFFIX));
        assert!(f.evidence.to_string().len() <= MAX_EVIDENCE_BYTES);
        assert_eq!(f.evidence["names"]["truncated"], true);
        assert!(f.evidence["names"]["original_bytes"].as_u64() > Some(300_000));
        assert_eq!(f.evidence["serial"], "ff01", "small values stay");
        assert_eq!(f.evidence["host"], "www.example.com");
    }

    #[test]
    fn small_messages_and_evidence_are_kept_as_they_are() {
        let evidence = serde_json::json!({"names": ["a.example.com"], "days_left": 3});
        let f = Finding::opened(
            detection("short".into(), evidence.clone()),
            DateTime::<Utc>::from_timestamp(1_700_000_000, 0).expect("ts"),
        );
        assert_eq!(f.message, "short");
        assert_eq!(f.evidence, evidence);
        // Exactly at the limit: not cut, no marker.
        let at_limit = "é".repeat(MAX_MESSAGE_CHARS);
        assert_eq!(
            truncated_message(at_limit.clone(), MAX_MESSAGE_CHARS),
            at_limit
        );
    }

    #[test]
    fn evidence_that_is_not_an_object_or_has_huge_keys_becomes_one_marker() {
        let list = serde_json::json!(vec!["x".repeat(100); 1_000]);
        let capped = capped_evidence(list, 1_024);
        assert_eq!(capped["truncated"], true);
        let mut keys = serde_json::Map::new();
        for i in 0..100 {
            keys.insert(format!("{i}{}", "k".repeat(100)), serde_json::json!(1));
        }
        let capped = capped_evidence(serde_json::Value::Object(keys), 1_024);
        assert!(capped.to_string().len() <= 1_024, "{capped}");
        assert_eq!(capped["truncated"], true);
    }
}
