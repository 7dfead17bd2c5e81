//! How the license a deployment holds shapes a scan, purely.
//!
//! zonewarden never stops scanning and never deletes a finding because of
//! its license. What the license changes:
//! - No license at all: the free tier. Everything is still scanned and
//!   checked; when the estate is larger than the free tier, a
//!   `license.free-tier-limit` info finding says so.
//! - A valid license (or one within its grace period while the vendor cannot
//!   be reached): everything is checked; an estate beyond the plan's limits
//!   gets `license.limit-exceeded`; a grace period gets `license.grace`.
//! - An invalid license (grace over, subscription cancelled or past due, bad
//!   signature...): `license.invalid` (high, metric and alarm), and the checks
//!   beyond the free tier pause: the findings of zones and certificates beyond
//!   it stay exactly as they were (not resolved, not changed) until the
//!   license is valid again. Reversible, and it touches nothing of the
//!   customer's.

use crate::catalogue::{Check, FindingCode};
use crate::family::FamilyOutcome;
use crate::finding::{Detection, Resource, ResourceKind};
use crate::metrics::{Metric, MetricDatum};
use crate::model::Region;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeSet;

/// The scope of the license's own findings (`license.invalid`, `license.grace`).
pub const SCOPE: &str = "license";
/// `1` while the license is invalid, else `0`: one series of the default
/// metric budget; the `LicenseInvalid` alarm reads it.
pub const LICENSE_INVALID: &str = Metric::LicenseInvalid.spec().name;

/// What a plan (or the free tier) covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Allowance {
    pub zones: u64,
    pub certificates: u64,
}

/// The free tier: one hosted zone and ten certificates.
pub const FREE_TIER: Allowance = Allowance {
    zones: 1,
    certificates: 10,
};

/// The parts of a verified license a scan and its findings need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LicenseSummary {
    pub license_id: String,
    pub plan: String,
    /// `active`, `trialing`, `past_due`, `cancelled`.
    pub status: String,
    pub allowance: Allowance,
    /// When the license was issued: the vendor's last successful validation.
    pub validated_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub renews_at: DateTime<Utc>,
}

/// How the deployment's license stands at the start of a scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "standing", rename_all = "snake_case")]
pub enum Standing {
    /// No licensing configured and no license cached: the free tier.
    Unlicensed,
    Valid {
        license: LicenseSummary,
    },
    /// The vendor has not answered since `license.validated_at`; the cached
    /// license keeps working until `grace_until`.
    Grace {
        license: LicenseSummary,
        grace_until: DateTime<Utc>,
    },
    Invalid {
        reason: String,
        license: Option<LicenseSummary>,
    },
}

impl Standing {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Unlicensed => "unlicensed",
            Self::Valid { .. } => "valid",
            Self::Grace { .. } => "grace",
            Self::Invalid { .. } => "invalid",
        }
    }

    /// What the deployment is entitled to check.
    pub fn allowance(&self) -> Allowance {
        match self {
            Self::Valid { license } | Self::Grace { license, .. } => license.allowance,
            Self::Unlicensed | Self::Invalid { .. } => FREE_TIER,
        }
    }

    /// The allowance beyond which checks pause: only for an invalid license.
    pub fn enforced(&self) -> Option<Allowance> {
        matches!(self, Self::Invalid { .. }).then_some(FREE_TIER)
    }
}

/// What [`restrict`] paused in one family's outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Paused {
    pub zones: BTreeSet<String>,
    pub certificates: BTreeSet<String>,
}

/// A Route 53 hosted zone id (`Z0123ABC...`; moto's are 22 characters of
/// the same alphabet). Region names, `global`, `tls-targets` and ARNs are
/// not: they have lower-case letters, `-` or `:`.
fn is_zone_id(scope: &str) -> bool {
    !scope.is_empty()
        && scope
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// The hosted zone a detection belongs to, if any.
fn zone_of(d: &Detection) -> Option<&str> {
    match d.resource.kind {
        ResourceKind::Route53HostedZone => Some(d.resource.id.as_str()),
        ResourceKind::Route53RecordSet => d.resource.id.split('/').next(),
        _ => is_zone_id(&d.scope).then_some(d.scope.as_str()),
    }
}

/// Pauses the checks of one family's outcome beyond `allowance`: the first
/// zones (by id) and certificates (by ARN) it saw keep their results; for the
/// others, detections are dropped, their zone scopes are no longer covered
/// and their resources are held, so that their findings stay exactly as they
/// were. The same order in every family keeps the same zones checked.
pub fn restrict(out: &mut FamilyOutcome, allowance: Allowance) -> Paused {
    let mut zones: BTreeSet<String> = out.coverage.scopes().filter(|s| is_zone_id(s)).collect();
    zones.extend(out.detections.iter().filter_map(zone_of).map(str::to_owned));
    let certificates: BTreeSet<String> = out
        .detections
        .iter()
        .filter(|d| d.resource.kind == ResourceKind::AcmCertificate)
        .map(|d| d.resource.id.clone())
        .collect();
    let keep = |set: &BTreeSet<String>, n: u64| -> BTreeSet<String> {
        set.iter()
            .skip(usize::try_from(n).unwrap_or(usize::MAX))
            .cloned()
            .collect()
    };
    let paused = Paused {
        zones: keep(&zones, allowance.zones),
        certificates: keep(&certificates, allowance.certificates),
    };
    if paused.zones.is_empty() && paused.certificates.is_empty() {
        return paused;
    }
    out.coverage.uncover_scopes(|s| paused.zones.contains(s));
    let mut held = BTreeSet::new();
    out.detections.retain(|d| {
        let zone_paused = zone_of(d).is_some_and(|z| paused.zones.contains(z));
        let cert_paused = d.resource.kind == ResourceKind::AcmCertificate
            && paused.certificates.contains(&d.resource.id);
        if zone_paused || cert_paused {
            held.insert(d.resource.id.clone());
        }
        !(zone_paused || cert_paused)
    });
    for id in held {
        out.coverage.hold(id);
    }
    paused
}

fn license_resource(id: &str, name: &str) -> Resource {
    Resource {
        kind: ResourceKind::License,
        id: id.to_owned(),
        name: name.to_owned(),
    }
}

fn detection(
    code: FindingCode,
    resource: Resource,
    scope: &str,
    message: String,
    evidence: serde_json::Value,
) -> Detection {
    Detection {
        code,
        severity: code.default_severity(),
        resource,
        region: Region::global(),
        scope: scope.to_owned(),
        message,
        evidence,
    }
}

/// The license's own findings and its metric, once per scan: what the
/// standing is, whatever the estate.
pub fn standing_findings(standing: &Standing, now: DateTime<Utc>) -> (Vec<Detection>, MetricDatum) {
    let resource = license_resource("license", "zonewarden license");
    let mut out = Vec::new();
    match standing {
        Standing::Invalid { reason, license } => out.push(detection(
            FindingCode::LicenseInvalid,
            resource,
            SCOPE,
            format!(
                "The zonewarden license is not valid: {reason}. Scanning goes on; checks beyond the free tier ({} zone, {} certificates) are paused and their findings kept as they were.",
                FREE_TIER.zones, FREE_TIER.certificates
            ),
            json!({
                "reason": reason,
                "license_id": license.as_ref().map(|l| l.license_id.clone()),
                "status": license.as_ref().map(|l| l.status.clone()),
                "validated_at": license.as_ref().map(|l| l.validated_at),
                "free_tier": FREE_TIER,
            }),
        )),
        Standing::Grace {
            license,
            grace_until,
        } => {
            // Whole days left, rounded up: "4 more days" until the last one ends.
            let days_left = ((*grace_until - now).num_seconds().max(0) + 86_399) / 86_400;
            out.push(detection(
                FindingCode::LicenseGrace,
                resource,
                SCOPE,
                format!(
                    "The license vendor has not confirmed the license since {}; the cached license keeps working for {days_left} more day(s), until {}.",
                    license.validated_at.format("%Y-%m-%d %H:%M UTC"),
                    grace_until.format("%Y-%m-%d %H:%M UTC")
                ),
                json!({
                    "license_id": license.license_id,
                    "validated_at": license.validated_at,
                    "grace_until": grace_until,
                    "days_left": days_left,
                }),
            ));
        }
        Standing::Unlicensed | Standing::Valid { .. } => {}
    }
    let invalid = matches!(standing, Standing::Invalid { .. });
    let metric = Metric::LicenseInvalid.datum(if invalid { 1.0 } else { 0.0 });
    (out, metric)
}

/// What the license counts in an estate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Zones,
    Certificates,
}

impl Dimension {
    /// The family count (`ScanRecord::counts`) that measures it.
    pub fn count_key(self) -> &'static str {
        match self {
            Self::Zones => "hosted_zones",
            Self::Certificates => "certificates",
        }
    }
    /// Its findings' scope and resource id: each dimension is judged by the
    /// family that counts it, so a certificates-only scan never resolves the
    /// zones' finding.
    pub fn scope(self) -> &'static str {
        match self {
            Self::Zones => "license/zones",
            Self::Certificates => "license/certificates",
        }
    }
    fn noun(self) -> &'static str {
        match self {
            Self::Zones => "hosted zones",
            Self::Certificates => "certificates",
        }
    }
    fn limit(self, a: Allowance) -> u64 {
        match self {
            Self::Zones => a.zones,
            Self::Certificates => a.certificates,
        }
    }
}

/// The finding for one counted dimension of the estate, if its count is
/// beyond what the standing allows; `paused` is how many of them
/// [`restrict`] paused in this family.
pub fn limit_finding(
    standing: &Standing,
    dimension: Dimension,
    count: u64,
    paused: usize,
) -> Option<Detection> {
    let allowance = standing.allowance();
    let limit = dimension.limit(allowance);
    if count <= limit {
        return None;
    }
    let noun = dimension.noun();
    let resource = license_resource(dimension.scope(), &format!("zonewarden license: {noun}"));
    let evidence = json!({
        "dimension": noun,
        "count": count,
        "limit": limit,
        "paused": paused,
        "standing": standing.name(),
    });
    let (code, message) = match standing {
        Standing::Valid { license } | Standing::Grace { license, .. } => (
            FindingCode::LicenseLimitExceeded,
            format!(
                "The account has {count} {noun}; plan {} covers {limit}. Everything is still checked: upgrade the plan or narrow what is monitored.",
                license.plan
            ),
        ),
        Standing::Unlicensed => (
            FindingCode::LicenseFreeTierLimit,
            format!(
                "The account has {count} {noun}; the free tier covers {limit}. Everything is still checked; a license keeps it that way."
            ),
        ),
        Standing::Invalid { .. } => (
            FindingCode::LicenseFreeTierLimit,
            format!(
                "The account has {count} {noun}; without a valid license the free tier covers {limit}, and the checks of {paused} more are paused here (their findings kept as they were) until the license is valid again."
            ),
        ),
    };
    Some(detection(
        code,
        resource,
        dimension.scope(),
        message,
        evidence,
    ))
}

/// Applies the license to one family's outcome: pauses what an invalid
/// license does not cover, adds the findings of the dimensions the family
/// counted and, for the scan's `lead` family only, the standing's own
/// findings and metric (once per scan).
pub fn apply(out: &mut FamilyOutcome, standing: &Standing, lead: bool, now: DateTime<Utc>) {
    // A family that collected nothing (a failed account, region or
    // deadline) judges nothing either: the license's findings stay as they
    // are, and the scan can still say that it could not run.
    if out.coverage.is_empty() {
        return;
    }
    let paused = standing
        .enforced()
        .map(|a| restrict(out, a))
        .unwrap_or_default();
    for dimension in [Dimension::Zones, Dimension::Certificates] {
        let Some(&count) = out.counts.get(dimension.count_key()) else {
            continue;
        };
        let n = match dimension {
            Dimension::Zones => paused.zones.len(),
            Dimension::Certificates => paused.certificates.len(),
        };
        out.detections
            .extend(limit_finding(standing, dimension, count, n));
        out.coverage.insert(Check::License, dimension.scope());
    }
    if !paused.zones.is_empty() || !paused.certificates.is_empty() {
        out.counts
            .insert("license_paused_zones".into(), paused.zones.len() as u64);
        out.counts.insert(
            "license_paused_certificates".into(),
            paused.certificates.len() as u64,
        );
    }
    if lead {
        let (findings, metric) = standing_findings(standing, now);
        out.detections.extend(findings);
        out.metrics.push(metric);
        out.coverage.insert(Check::License, SCOPE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Severity;

    fn now() -> DateTime<Utc> {
        "2026-12-02T00:00:00Z".parse().unwrap()
    }

    fn summary() -> LicenseSummary {
        LicenseSummary {
            license_id: "lic_1".into(),
            plan: "team".into(),
            status: "active".into(),
            allowance: Allowance {
                zones: 3,
                certificates: 20,
            },
            validated_at: now(),
            expires_at: now() + chrono::Duration::days(30),
            renews_at: now() + chrono::Duration::days(300),
        }
    }

    fn det(code: FindingCode, kind: ResourceKind, id: &str, scope: &str) -> Detection {
        Detection {
            code,
            severity: Severity::High,
            resource: Resource {
                kind,
                id: id.into(),
                name: id.into(),
            },
            region: Region::global(),
            scope: scope.into(),
            message: String::new(),
            evidence: json!({}),
        }
    }

    fn outcome() -> FamilyOutcome {
        let mut out = FamilyOutcome::default();
        for z in ["ZAAA", "ZBBB", "ZCCC"] {
            out.coverage.insert(Check::DnsInventory, z);
        }
        out.coverage.insert(Check::Certificates, "eu-west-1");
        out.detections = vec![
            det(
                FindingCode::DnsDelegationMismatch,
                ResourceKind::Route53RecordSet,
                "ZAAA/a.example./CNAME",
                "ZAAA",
            ),
            det(
                FindingCode::DnsDelegationMismatch,
                ResourceKind::Route53RecordSet,
                "ZCCC/c.example./CNAME",
                "ZCCC",
            ),
            det(
                FindingCode::TlsExpired,
                ResourceKind::TlsEndpoint,
                "b.example:443@192.0.2.1",
                "ZBBB",
            ),
        ];
        for i in 0..12 {
            out.detections.push(det(
                FindingCode::CertExpiring,
                ResourceKind::AcmCertificate,
                &format!("arn:aws:acm:eu-west-1:1:certificate/{i:02}"),
                "eu-west-1",
            ));
        }
        out.counts.insert("hosted_zones".into(), 3);
        out.counts.insert("certificates".into(), 12);
        out
    }

    #[test]
    fn an_invalid_license_pauses_what_is_beyond_the_free_tier_and_holds_its_findings() {
        let mut out = outcome();
        let paused = restrict(&mut out, FREE_TIER);
        assert_eq!(
            paused.zones,
            BTreeSet::from(["ZBBB".to_owned(), "ZCCC".to_owned()])
        );
        assert_eq!(paused.certificates.len(), 2);
        // ZAAA keeps its coverage and finding; ZBBB and ZCCC lose both.
        assert!(out.coverage.covers(Check::DnsInventory, "ZAAA"));
        assert!(!out.coverage.covers(Check::DnsInventory, "ZBBB"));
        assert!(!out.coverage.covers(Check::DnsInventory, "ZCCC"));
        assert!(out.coverage.covers(Check::Certificates, "eu-west-1"));
        let ids: BTreeSet<&str> = out
            .detections
            .iter()
            .map(|d| d.resource.id.as_str())
            .collect();
        assert!(ids.contains("ZAAA/a.example./CNAME"));
        assert!(!ids.contains("ZCCC/c.example./CNAME"));
        assert!(!ids.contains("b.example:443@192.0.2.1"));
        assert_eq!(out.detections.len(), 1 + 10);
        // The paused certificates are held: their findings stay as they were.
        assert!(
            out.coverage
                .is_held("arn:aws:acm:eu-west-1:1:certificate/11")
        );
        assert!(
            !out.coverage
                .is_held("arn:aws:acm:eu-west-1:1:certificate/00")
        );
    }

    #[test]
    fn unlicensed_is_checked_in_full_with_an_info_finding_beyond_the_free_tier() {
        let mut out = outcome();
        apply(&mut out, &Standing::Unlicensed, true, now());
        let codes: Vec<(FindingCode, &str)> = out
            .detections
            .iter()
            .filter(|d| d.resource.kind == ResourceKind::License)
            .map(|d| (d.code, d.resource.id.as_str()))
            .collect();
        assert_eq!(
            codes,
            vec![
                (FindingCode::LicenseFreeTierLimit, "license/zones"),
                (FindingCode::LicenseFreeTierLimit, "license/certificates"),
            ]
        );
        // Nothing paused: all 15 detections are still there.
        assert_eq!(out.detections.len(), 15 + 2);
        assert!(out.coverage.covers(Check::License, SCOPE));
        assert_eq!(out.metrics.last().map(|m| m.value), Some(0.0));
    }

    #[test]
    fn a_valid_license_beyond_its_plan_is_told_not_paused() {
        let mut out = outcome();
        let standing = Standing::Valid { license: summary() };
        apply(&mut out, &standing, false, now());
        let license: Vec<_> = out
            .detections
            .iter()
            .filter(|d| d.resource.kind == ResourceKind::License)
            .collect();
        // 3 zones fit the plan, 12 certificates fit 20: nothing to say.
        assert!(license.is_empty(), "{license:?}");
        // Not the lead: no standing finding, no metric, no standing coverage.
        assert!(out.metrics.is_empty());
        assert!(!out.coverage.covers(Check::License, SCOPE));
        assert!(out.coverage.covers(Check::License, "license/zones"));
        let mut small = summary();
        small.allowance.certificates = 5;
        let mut out = outcome();
        apply(&mut out, &Standing::Valid { license: small }, true, now());
        let d = out
            .detections
            .iter()
            .find(|d| d.code == FindingCode::LicenseLimitExceeded)
            .unwrap();
        assert_eq!(d.evidence["count"], 12);
        assert_eq!(d.evidence["limit"], 5);
        assert_eq!(out.detections.len(), 15 + 1);
    }

    #[test]
    fn an_invalid_license_is_a_high_finding_a_metric_and_a_pause() {
        let mut out = outcome();
        let standing = Standing::Invalid {
            reason: "the subscription is cancelled".into(),
            license: Some(summary()),
        };
        apply(&mut out, &standing, true, now());
        let invalid = out
            .detections
            .iter()
            .find(|d| d.code == FindingCode::LicenseInvalid)
            .unwrap();
        assert_eq!(invalid.severity, Severity::High);
        assert!(invalid.message.contains("cancelled"));
        assert_eq!(out.metrics.last().map(|m| m.value), Some(1.0));
        let zones = out
            .detections
            .iter()
            .find(|d| d.resource.id == "license/zones")
            .unwrap();
        assert_eq!(zones.evidence["paused"], 2);
        assert_eq!(out.counts.get("license_paused_zones"), Some(&2));
    }

    #[test]
    fn a_family_that_collected_nothing_judges_nothing() {
        let mut out = FamilyOutcome::default();
        out.counts.insert("certificates".into(), 50);
        let standing = Standing::Invalid {
            reason: "cancelled".into(),
            license: None,
        };
        apply(&mut out, &standing, true, now());
        assert!(out.coverage.is_empty());
        assert!(out.detections.is_empty());
        assert!(out.metrics.is_empty());
    }

    #[test]
    fn grace_says_how_long_is_left() {
        let standing = Standing::Grace {
            license: summary(),
            grace_until: now() + chrono::Duration::days(4),
        };
        let (found, metric) = standing_findings(&standing, now());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, FindingCode::LicenseGrace);
        assert_eq!(found[0].evidence["days_left"], 4);
        assert_eq!(metric.value, 0.0);
    }

    #[test]
    fn zone_ids_are_told_from_other_scopes() {
        assert!(is_zone_id("Z0123456789ABC"));
        assert!(is_zone_id("TOOW1R9JGU6HJ6O0ABCDEF"));
        for s in [
            "eu-west-1",
            "global",
            "tls-targets",
            "arn:aws:acm:x",
            "expectations",
            "",
        ] {
            assert!(!is_zone_id(s), "{s}");
        }
    }
}
