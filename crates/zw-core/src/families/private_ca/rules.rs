//! Private CA rules. Pure: the certificate authorities and, for a CA whose
//! end is near, the ACM certificates it issued come in; detections go out.
//! Scope of every finding: the CA's region.

use super::model::CertificateAuthority;
use crate::catalogue::FindingCode;
use crate::families::certificates::config::ExpiryThresholds;
use crate::finding::{Detection, Resource, ResourceKind};
use crate::model::Certificate;
use crate::severity::Severity;
use chrono::{DateTime, Utc};
use serde_json::json;

pub fn resource(ca: &CertificateAuthority) -> Resource {
    Resource {
        kind: ResourceKind::PrivateCertificateAuthority,
        id: ca.arn.clone(),
        name: ca.display_name(),
    }
}

fn detection(
    ca: &CertificateAuthority,
    code: FindingCode,
    severity: Severity,
    message: String,
    evidence: serde_json::Value,
) -> Detection {
    Detection {
        code,
        severity,
        resource: resource(ca),
        region: ca.region.clone(),
        scope: ca.region.to_string(),
        message,
        evidence,
    }
}

/// Whether the CA's own certificate ends within the medium threshold (or
/// has ended): then the certificates it issued are worth a look.
pub fn ending(ca: &CertificateAuthority, expiry: &ExpiryThresholds, now: DateTime<Utc>) -> bool {
    ca.status != "DELETED"
        && ca
            .not_after
            .is_some_and(|end| (end - now).num_days() <= i64::from(expiry.medium))
}

/// Every finding of one CA. `issued`: the ACM certificates of its region
/// (those it issued are picked by their CA ARN), when they were read.
pub fn evaluate(
    ca: &CertificateAuthority,
    expiry: &ExpiryThresholds,
    issued: Option<&[Certificate]>,
    now: DateTime<Utc>,
) -> Vec<Detection> {
    let mut out = Vec::new();
    let name = ca.display_name();
    match ca.status.as_str() {
        // Being created, or deleted and waiting out its restore period.
        "CREATING" | "DELETED" => return out,
        "DISABLED" => out.push(detection(
            ca,
            FindingCode::PcaCaDisabled,
            FindingCode::PcaCaDisabled.default_severity(),
            format!("The private CA {name} is disabled: it issues nothing and its certificates cannot renew."),
            json!({"status": ca.status, "type": ca.kind}),
        )),
        "PENDING_CERTIFICATE" => out.push(detection(
            ca,
            FindingCode::PcaCaPendingCertificate,
            FindingCode::PcaCaPendingCertificate.default_severity(),
            format!("The private CA {name} has no CA certificate installed yet: it cannot issue."),
            json!({"status": ca.status, "type": ca.kind}),
        )),
        _ => {}
    }
    if ca.status == "ACTIVE" && !ca.crl && !ca.ocsp && !ca.short_lived() {
        out.push(detection(
            ca,
            FindingCode::PcaNoRevocation,
            FindingCode::PcaNoRevocation.default_severity(),
            format!("The private CA {name} publishes no CRL and answers no OCSP: a certificate it revokes stays trusted."),
            json!({"crl": ca.crl, "ocsp": ca.ocsp, "usage_mode": ca.usage_mode}),
        ));
    }
    if let Some(end) = ca.not_after.filter(|_| ending(ca, expiry, now)) {
        let left = (end - now).num_days();
        let severity = if left <= i64::from(expiry.critical) {
            Severity::Critical
        } else if left <= i64::from(expiry.high) {
            Severity::High
        } else {
            Severity::Medium
        };
        // What it issued that ends after it: those stop validating with it.
        let beyond: Option<Vec<serde_json::Value>> = issued.map(|certs| {
            certs
                .iter()
                .filter(|c| c.issuer_ca_arn.as_deref() == Some(ca.arn.as_str()))
                .filter(|c| c.not_after.is_some_and(|n| n > end))
                .map(|c| json!({"arn": c.arn, "domain": c.domain_name, "not_after": c.not_after}))
                .collect()
        });
        let message = if left < 0 {
            format!(
                "The certificate of the private CA {name} ended {} days ago ({end}).",
                -left
            )
        } else {
            format!("The certificate of the private CA {name} ends in {left} days ({end}).")
        };
        let message = match &beyond {
            Some(b) if !b.is_empty() => format!(
                "{message} {} certificate(s) it issued end later and stop validating with it.",
                b.len()
            ),
            _ => message,
        };
        out.push(detection(
            ca,
            FindingCode::PcaCaExpiring,
            severity,
            message,
            json!({
                "not_after": end,
                "days_left": left,
                "type": ca.kind,
                // None: the region's certificates could not be read.
                "issued_beyond": beyond,
            }),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CertificateKind, CertificateStatus, Region};
    use chrono::Duration;

    use crate::families::test_now as now;

    const ARN: &str = "arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/1";

    /// A healthy CA: active, CRL on, ten years left.
    fn healthy() -> CertificateAuthority {
        CertificateAuthority {
            arn: ARN.into(),
            region: Region::parse("eu-west-1").expect("region"),
            status: "ACTIVE".into(),
            kind: "SUBORDINATE".into(),
            usage_mode: Some("GENERAL_PURPOSE".into()),
            common_name: Some("Internal Issuing CA".into()),
            not_after: Some(now() + Duration::days(3650)),
            crl: true,
            ocsp: false,
        }
    }

    fn issued(arn: &str, ca: &str, days: i64) -> Certificate {
        Certificate {
            arn: arn.into(),
            region: Region::parse("eu-west-1").expect("region"),
            domain_name: "api.internal.example".into(),
            subject_alternative_names: Vec::new(),
            kind: CertificateKind::Private,
            status: CertificateStatus::Issued,
            key_algorithm: None,
            not_before: None,
            not_after: Some(now() + Duration::days(days)),
            created_at: None,
            imported_at: None,
            failure_reason: None,
            revocation_reason: None,
            in_use_by: Vec::new(),
            renewal_eligibility: None,
            renewal: None,
            domain_validations: Vec::new(),
            serial: None,
            issuer_ca_arn: Some(ca.into()),
        }
    }

    fn codes(d: &[Detection]) -> Vec<(&'static str, Severity)> {
        d.iter().map(|d| (d.code.id(), d.severity)).collect()
    }

    #[test]
    fn a_healthy_ca_has_no_finding() {
        let t = ExpiryThresholds::default();
        assert!(evaluate(&healthy(), &t, None, now()).is_empty());
        let ocsp_only = CertificateAuthority {
            crl: false,
            ocsp: true,
            ..healthy()
        };
        assert!(evaluate(&ocsp_only, &t, None, now()).is_empty());
        let short = CertificateAuthority {
            crl: false,
            usage_mode: Some("SHORT_LIVED_CERTIFICATE".into()),
            ..healthy()
        };
        assert!(evaluate(&short, &t, None, now()).is_empty());
    }

    #[test]
    fn states_that_cannot_issue_are_flagged() {
        let t = ExpiryThresholds::default();
        for (status, want) in [
            ("DISABLED", Some("pca.ca-disabled")),
            ("PENDING_CERTIFICATE", Some("pca.ca-pending-certificate")),
            ("CREATING", None),
            ("DELETED", None),
        ] {
            let ca = CertificateAuthority {
                status: status.into(),
                ..healthy()
            };
            let got: Vec<&str> = evaluate(&ca, &t, None, now())
                .iter()
                .map(|d| d.code.id())
                .collect();
            assert_eq!(got, want.into_iter().collect::<Vec<_>>(), "{status}");
        }
    }

    #[test]
    fn no_revocation_is_flagged_on_an_active_general_purpose_ca() {
        let ca = CertificateAuthority {
            crl: false,
            ocsp: false,
            ..healthy()
        };
        let d = evaluate(&ca, &ExpiryThresholds::default(), None, now());
        assert_eq!(codes(&d), [("pca.no-revocation", Severity::Low)]);
    }

    /// Days left -> severity, with the ACM thresholds (30/14/7).
    #[test]
    fn the_ca_end_is_graded_like_acm_certificates() {
        let t = ExpiryThresholds::default();
        for (days, want) in [
            (31, None),
            (30, Some(Severity::Medium)),
            (14, Some(Severity::High)),
            (7, Some(Severity::Critical)),
            (-2, Some(Severity::Critical)),
        ] {
            let ca = CertificateAuthority {
                not_after: Some(now() + Duration::days(days) + Duration::hours(1)),
                ..healthy()
            };
            let got: Vec<Severity> = evaluate(&ca, &t, None, now())
                .iter()
                .map(|d| d.severity)
                .collect();
            assert_eq!(got, want.into_iter().collect::<Vec<_>>(), "{days}");
        }
    }

    #[test]
    fn certificates_it_issued_that_outlive_it_are_named() {
        let t = ExpiryThresholds::default();
        let ca = CertificateAuthority {
            not_after: Some(now() + Duration::days(20)),
            ..healthy()
        };
        let certs = [
            issued("arn:cert/late", ARN, 200),
            issued("arn:cert/early", ARN, 10),
            issued("arn:cert/other-ca", "arn:other", 200),
        ];
        let d = evaluate(&ca, &t, Some(&certs), now());
        assert_eq!(codes(&d), [("pca.ca-expiring", Severity::Medium)]);
        let beyond = &d[0].evidence["issued_beyond"];
        assert_eq!(beyond.as_array().map(Vec::len), Some(1), "{beyond}");
        assert_eq!(beyond[0]["arn"], "arn:cert/late");
        assert!(
            d[0].message.contains("1 certificate(s)"),
            "{}",
            d[0].message
        );
        // Not read: said as unknown, not as none.
        let d = evaluate(&ca, &t, None, now());
        assert!(d[0].evidence["issued_beyond"].is_null());
        assert!(ending(&ca, &t, now()));
        assert!(!ending(&healthy(), &t, now()));
    }
}
