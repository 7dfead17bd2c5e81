//! What the collectors bring back, in our own words. Adapters convert SDK
//! types into these once; everything after collection sees only these.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

pub mod rdata;

/// An AWS region name such as `eu-west-1`, validated for shape only: whether
/// the region exists (or is enabled for the account) is for AWS to say.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Region(pub(crate) String);

impl Region {
    /// Parses a region name. Accepts `us-east-1`, `eu-central-2`, `us-gov-west-1`,
    /// `cn-north-1`; refuses upper case, blanks and stray characters so that a typo
    /// in configuration is reported before any call is made.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim();
        let parts: Vec<&str> = name.split('-').collect();
        let shape_ok = parts.len() >= 3
            && parts.iter().all(|p| !p.is_empty())
            && parts[0].len() == 2
            && parts[0].bytes().all(|b| b.is_ascii_lowercase())
            && parts[1..parts.len() - 1]
                .iter()
                .all(|p| p.bytes().all(|b| b.is_ascii_lowercase()))
            && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit());
        if shape_ok {
            Ok(Self(name.to_owned()))
        } else {
            Err(format!(
                "`{raw}` is not an AWS region name (expected something like `eu-west-1`)"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The pseudo-region of global services (Route 53) in findings and errors.
    pub fn global() -> Self {
        Self("global".to_owned())
    }
}

impl AsRef<str> for Region {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who issued the certificate, which decides whether ACM can ever renew it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CertificateKind {
    AmazonIssued,
    Imported,
    Private,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CertificateStatus {
    PendingValidation,
    Issued,
    Inactive,
    Expired,
    ValidationTimedOut,
    Revoked,
    Failed,
    /// A status this version does not know yet; kept verbatim in evidence.
    Other(String),
}

impl CertificateStatus {
    pub fn as_str(&self) -> &str {
        match self {
            Self::PendingValidation => "PENDING_VALIDATION",
            Self::Issued => "ISSUED",
            Self::Inactive => "INACTIVE",
            Self::Expired => "EXPIRED",
            Self::ValidationTimedOut => "VALIDATION_TIMED_OUT",
            Self::Revoked => "REVOKED",
            Self::Failed => "FAILED",
            Self::Other(s) => s,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RenewalEligibility {
    Eligible,
    Ineligible,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RenewalStatus {
    PendingAutoRenewal,
    PendingValidation,
    Success,
    Failed,
    Other(String),
}

impl RenewalStatus {
    pub fn as_str(&self) -> &str {
        match self {
            Self::PendingAutoRenewal => "PENDING_AUTO_RENEWAL",
            Self::PendingValidation => "PENDING_VALIDATION",
            Self::Success => "SUCCESS",
            Self::Failed => "FAILED",
            Self::Other(s) => s,
        }
    }
}

/// ACM's `RenewalSummary`: present once managed renewal has started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenewalSummary {
    pub status: RenewalStatus,
    /// `RenewalStatusReason`, e.g. `CAA_ERROR`, `NO_AVAILABLE_CONTACTS`.
    pub reason: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ValidationMethod {
    Dns,
    Email,
    Http,
}

/// The CNAME ACM asks for to prove control of a domain, and keeps asking for at
/// every renewal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ValidationRecord {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainValidation {
    pub domain: String,
    pub method: Option<ValidationMethod>,
    pub record: Option<ValidationRecord>,
}

/// One ACM certificate as `DescribeCertificate` reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Certificate {
    pub arn: String,
    pub region: Region,
    pub domain_name: String,
    pub subject_alternative_names: Vec<String>,
    pub kind: CertificateKind,
    pub status: CertificateStatus,
    pub key_algorithm: Option<String>,
    pub not_before: Option<DateTime<Utc>>,
    pub not_after: Option<DateTime<Utc>>,
    pub created_at: Option<DateTime<Utc>>,
    pub imported_at: Option<DateTime<Utc>>,
    pub failure_reason: Option<String>,
    pub revocation_reason: Option<String>,
    pub in_use_by: Vec<String>,
    pub renewal_eligibility: Option<RenewalEligibility>,
    pub renewal: Option<RenewalSummary>,
    pub domain_validations: Vec<DomainValidation>,
    /// `Serial` as ACM writes it (`0a:1b:...`), to compare with what an
    /// endpoint serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// The ACM Private CA that issued a private certificate
    /// (`CertificateAuthorityArn`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_ca_arn: Option<String>,
}

impl Certificate {
    /// DNS validation records the next renewal depends on. Only certificates ACM
    /// can renew (Amazon-issued, issued or still validating) depend on them.
    pub fn renewal_validation_records(&self) -> impl Iterator<Item = &ValidationRecord> {
        let relevant = self.kind == CertificateKind::AmazonIssued
            && matches!(
                self.status,
                CertificateStatus::Issued | CertificateStatus::PendingValidation
            );
        self.domain_validations
            .iter()
            .filter(move |_| relevant)
            .filter(|dv| dv.method == Some(ValidationMethod::Dns))
            .filter_map(|dv| dv.record.as_ref())
    }
}

/// A Route 53 hosted zone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostedZone {
    /// Bare id, without the `/hostedzone/` prefix.
    pub id: String,
    /// Fully qualified, lower case, with the trailing dot.
    pub name: String,
    pub private: bool,
    /// `ResourceRecordSetCount` as `ListHostedZones` reports it: the cheap
    /// signal that a zone changed (Route 53's SOA serial does not move).
    #[serde(default)]
    pub record_set_count: u64,
}

/// One record set of a zone as Route 53 configures it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordSet {
    /// Fully qualified, lower case, with the trailing dot.
    pub name: String,
    pub record_type: String,
    /// Values in Route 53's presentation format (`10 mail.example.com.`,
    /// `"v=spf1 -all"`, `0 issue "amazon.com"`); empty for alias records.
    pub values: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<i64>,
    /// `SetIdentifier` of weighted, latency, geolocation, failover,
    /// multivalue and CIDR sets; None for simple records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_identifier: Option<String>,
    #[serde(default)]
    pub routing: RoutingPolicy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<AliasTarget>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_id: Option<String>,
    /// `PRIMARY` or `SECONDARY` of a failover set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover: Option<FailoverRole>,
}

impl RecordSet {
    /// A simple (non-alias, no routing policy) record set.
    pub fn simple(name: &str, record_type: &str, values: &[&str]) -> Self {
        Self {
            name: normalize_dns_name(name),
            record_type: record_type.to_owned(),
            values: values.iter().map(|v| (*v).to_owned()).collect(),
            ..Self::default()
        }
    }
}

/// Lower-cases a DNS name and gives it exactly one trailing dot, so that
/// `_x.Example.com` and `_x.example.com.` compare equal. Route 53 also escapes
/// `*` as `\052` in names it returns; that is undone too.
pub fn normalize_dns_name(name: &str) -> String {
    let mut n = name.trim().to_ascii_lowercase().replace("\\052", "*");
    while n.ends_with('.') {
        n.pop();
    }
    n.push('.');
    n
}

/// Where `zone` delegates `name` away: the name of an NS record set below the
/// zone's apex that is `name` itself or one of its parents. Records at and
/// beneath it are served by the delegated servers, not by this zone's records
/// (a subdomain hosted by another provider, say), so this zone cannot say
/// whether they exist.
pub fn delegated_at<'s>(name: &str, zone: &HostedZone, sets: &'s [RecordSet]) -> Option<&'s str> {
    let name = normalize_dns_name(name);
    let apex = normalize_dns_name(&zone.name);
    sets.iter()
        .filter(|s| s.record_type == "NS")
        .map(|s| s.name.as_str())
        .find(|cut| {
            let cut = normalize_dns_name(cut);
            cut != apex && (name == cut || name.ends_with(&format!(".{cut}")))
        })
}

/// `normalize_dns_name` without a copy when `name` already is normalised,
/// as names from Route 53 and the probe nearly always are: indexes over a
/// whole zone's answers key on these.
pub fn normalized_dns_name(name: &str) -> std::borrow::Cow<'_, str> {
    let already = name.ends_with('.')
        && (name == "." || !name.ends_with(".."))
        && !name.contains("\\052")
        && name.trim() == name
        && !name.bytes().any(|b| b.is_ascii_uppercase());
    if already {
        std::borrow::Cow::Borrowed(name)
    } else {
        std::borrow::Cow::Owned(normalize_dns_name(name))
    }
}

/// An upper-case record type, borrowed when it already is one.
pub fn upper_case_type(rtype: &str) -> std::borrow::Cow<'_, str> {
    if rtype.bytes().any(|b| b.is_ascii_lowercase()) {
        std::borrow::Cow::Owned(rtype.to_ascii_uppercase())
    } else {
        std::borrow::Cow::Borrowed(rtype)
    }
}

/// How Route 53 chooses among the record sets that share a name and type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoutingPolicy {
    #[default]
    Simple,
    Weighted,
    Latency,
    Geolocation,
    Geoproximity,
    Failover,
    Multivalue,
    Cidr,
}

impl RoutingPolicy {
    /// Sets under every policy but `Simple` are one of several for their name
    /// and type: a server answers from their union, not from each one.
    pub fn is_simple(self) -> bool {
        self == Self::Simple
    }
}

/// Which side of a failover pair a record set is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum FailoverRole {
    Primary,
    Secondary,
}

/// Route 53's `AliasTarget`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AliasTarget {
    /// Normalised (lower case, one trailing dot); Route 53 may prefix
    /// `dualstack.` for load balancers.
    pub dns_name: String,
    /// The hosted zone id of the target (a zone of the account for aliases to
    /// records, or a service's fixed zone id, e.g. `Z2FDTNDATAQYW2` for
    /// CloudFront).
    pub hosted_zone_id: String,
    pub evaluate_target_health: bool,
}

/// `GetDNSSEC` for one zone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnssecStatus {
    /// `SIGNING`, `NOT_SIGNING`, `DELETING`, `ACTION_NEEDED`, `INTERNAL_FAILURE`.
    pub serve_signature: String,
    pub status_message: Option<String>,
    pub key_signing_keys: Vec<KeySigningKey>,
}

impl DnssecStatus {
    pub fn is_signing(&self) -> bool {
        self.serve_signature == "SIGNING"
    }
}

/// One key-signing key of a zone, as `GetDNSSEC` lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySigningKey {
    pub name: String,
    /// `ACTIVE`, `INACTIVE`, `ACTION_NEEDED`, `INTERNAL_FAILURE`, `DELETING`.
    pub status: String,
    pub status_message: Option<String>,
    pub kms_arn: Option<String>,
    pub key_tag: Option<u16>,
    /// The DS record the parent should publish, presentation format
    /// (`12345 13 2 ABCDEF...`).
    pub ds_record: Option<String>,
}

/// A 12-digit AWS account id, or why not.
pub fn check_account_id(id: &str) -> Result<(), String> {
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!(
            "`{id}` is not an AWS account id (12 digits, e.g. 111122223333)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalized_names_borrow_only_what_is_already_normal() {
        for name in [
            "Example.com",
            "example.com",
            "example.com..",
            " example.com. ",
            "\\052.example.com.",
            "A.example.com.",
            "",
            "..",
        ] {
            let cow = normalized_dns_name(name);
            assert_eq!(cow, normalize_dns_name(name), "{name:?}");
            assert!(
                matches!(cow, std::borrow::Cow::Owned(_)),
                "{name:?} must be copied"
            );
        }
        for name in ["example.com.", ".", "*.example.com.", "_x.b-c.example."] {
            let cow = normalized_dns_name(name);
            assert_eq!(cow, normalize_dns_name(name), "{name:?}");
            assert!(
                matches!(cow, std::borrow::Cow::Borrowed(_)),
                "{name:?} needs no copy"
            );
        }
        assert!(matches!(
            upper_case_type("TXT"),
            std::borrow::Cow::Borrowed("TXT")
        ));
        assert_eq!(upper_case_type("txt"), "TXT");
    }

    #[test]
    fn region_accepts_real_shapes_and_refuses_typos() {
        for ok in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "cn-north-1",
            "ap-southeast-5",
        ] {
            assert!(Region::parse(ok).is_ok(), "{ok} should parse");
        }
        for bad in [
            "",
            "US-EAST-1",
            "us-east",
            "useast1",
            "us-east-1a",
            "us east 1",
            "eu--1",
        ] {
            assert!(Region::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn dns_names_normalise_case_dots_and_route53_escapes() {
        assert_eq!(normalize_dns_name("_X.Example.COM"), "_x.example.com.");
        assert_eq!(normalize_dns_name("a.example.com.."), "a.example.com.");
        assert_eq!(normalize_dns_name("\\052.example.com."), "*.example.com.");
    }
}
