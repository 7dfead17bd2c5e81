//! Certificate lifecycle rules: expiry, renewal, status. Pure: `now` is a
//! parameter and the only input is what `DescribeCertificate` said.

use super::config::RuleConfig;
use crate::catalogue::FindingCode;
use crate::finding::{Detection, Resource, ResourceKind, Severity};
use crate::model::{
    Certificate, CertificateKind, CertificateStatus, RenewalEligibility, RenewalStatus,
};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

const SECONDS_PER_DAY: i64 = 86_400;

/// Whole days left until `not_after`, rounded down: 29 days 23 hours is 29,
/// one second after expiry is -1. Used for thresholds, messages and metrics.
pub fn days_left(not_after: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (not_after - now).num_seconds().div_euclid(SECONDS_PER_DAY)
}

/// True when at most `days` days are left (exactly `days` days left counts).
pub(crate) fn within_days(not_after: DateTime<Utc>, now: DateTime<Utc>, days: u32) -> bool {
    not_after - now <= Duration::days(i64::from(days))
}

pub fn resource(cert: &Certificate) -> Resource {
    Resource {
        kind: ResourceKind::AcmCertificate,
        id: cert.arn.clone(),
        name: cert.domain_name.clone(),
    }
}

pub fn evaluate(certs: &[Certificate], cfg: &RuleConfig, now: DateTime<Utc>) -> Vec<Detection> {
    let mut out = Vec::new();
    for cert in certs {
        expiry(cert, cfg, now, &mut out);
        renewal(cert, cfg, now, &mut out);
        status(cert, cfg, now, &mut out);
    }
    out
}

fn detection(
    cert: &Certificate,
    code: FindingCode,
    severity: Severity,
    message: String,
    evidence: serde_json::Value,
) -> Detection {
    Detection {
        code,
        severity,
        resource: resource(cert),
        region: cert.region.clone(),
        scope: cert.region.to_string(),
        message,
        evidence,
    }
}

pub(crate) fn graded(not_after: DateTime<Utc>, now: DateTime<Utc>, cfg: &RuleConfig) -> Severity {
    if within_days(not_after, now, cfg.expiry.critical) {
        Severity::Critical
    } else if within_days(not_after, now, cfg.expiry.high) {
        Severity::High
    } else {
        Severity::Medium
    }
}

fn expiry(cert: &Certificate, cfg: &RuleConfig, now: DateTime<Utc>, out: &mut Vec<Detection>) {
    // A status newer than this version (`Other`) is checked like an issued
    // certificate: an end date is an end date, whatever AWS calls the state.
    if !matches!(
        cert.status,
        CertificateStatus::Issued
            | CertificateStatus::Expired
            | CertificateStatus::Inactive
            | CertificateStatus::Other(_)
    ) {
        return;
    }
    let Some(not_after) = cert.not_after else {
        return;
    };
    let days = days_left(not_after, now);
    let evidence = json!({
        "not_after": not_after,
        "days_left": days,
        "type": cert.kind,
        "status": cert.status.as_str(),
        "in_use_by": cert.in_use_by,
    });
    if not_after <= now || cert.status == CertificateStatus::Expired {
        out.push(detection(
            cert,
            FindingCode::CertExpired,
            Severity::Critical,
            format!(
                "Certificate for {} expired {} ({} days ago)",
                cert.domain_name,
                not_after.format("%Y-%m-%d %H:%M UTC"),
                -days
            ),
            evidence,
        ));
        return;
    }
    match cert.kind {
        CertificateKind::Imported if within_days(not_after, now, cfg.imported_warn_days) => {
            out.push(detection(
                cert,
                FindingCode::CertImportedExpiring,
                graded(not_after, now, cfg),
                format!(
                    "Imported certificate for {} expires in {days} days ({}); ACM never renews imported certificates",
                    cert.domain_name,
                    not_after.format("%Y-%m-%d")
                ),
                evidence,
            ));
        }
        CertificateKind::AmazonIssued | CertificateKind::Private
            if within_days(not_after, now, cfg.expiry.medium) =>
        {
            out.push(detection(
                cert,
                FindingCode::CertExpiring,
                graded(not_after, now, cfg),
                format!(
                    "Certificate for {} expires in {days} days ({}) and has not been renewed",
                    cert.domain_name,
                    not_after.format("%Y-%m-%d")
                ),
                evidence,
            ));
        }
        _ => {}
    }
}

fn renewal(cert: &Certificate, cfg: &RuleConfig, now: DateTime<Utc>, out: &mut Vec<Detection>) {
    if cert.kind != CertificateKind::AmazonIssued || cert.status != CertificateStatus::Issued {
        return;
    }
    let Some(not_after) = cert.not_after else {
        return;
    };
    if not_after <= now {
        return;
    }
    let days = days_left(not_after, now);
    if cert.renewal_eligibility == Some(RenewalEligibility::Ineligible)
        && within_days(not_after, now, cfg.renewal_window_days)
    {
        out.push(detection(
            cert,
            FindingCode::CertRenewalIneligible,
            FindingCode::CertRenewalIneligible.default_severity(),
            format!(
                "Certificate for {} is inside ACM's renewal window ({days} days left) but not eligible for renewal; it will expire",
                cert.domain_name
            ),
            json!({
                "renewal_eligibility": "INELIGIBLE",
                "days_left": days,
                "not_after": not_after,
                "in_use_by": cert.in_use_by,
            }),
        ));
    }
    if let Some(summary) = &cert.renewal {
        let stuck_since = summary.updated_at.filter(|at| {
            summary.status == RenewalStatus::PendingValidation
                && now - *at > Duration::hours(i64::from(cfg.pending_validation_hours))
        });
        if summary.status == RenewalStatus::Failed || stuck_since.is_some() {
            let reason = summary.reason.as_deref().unwrap_or("not given");
            out.push(detection(
                cert,
                FindingCode::CertRenewalFailed,
                FindingCode::CertRenewalFailed.default_severity(),
                if summary.status == RenewalStatus::Failed {
                    format!(
                        "Managed renewal of {} failed (reason: {reason}); {days} days left",
                        cert.domain_name
                    )
                } else {
                    format!(
                        "Managed renewal of {} has waited for validation for over {} hours (reason: {reason}); {days} days left",
                        cert.domain_name, cfg.pending_validation_hours
                    )
                },
                json!({
                    "renewal_status": summary.status.as_str(),
                    "renewal_status_reason": summary.reason,
                    "renewal_updated_at": summary.updated_at,
                    "days_left": days,
                }),
            ));
        }
    }
}

fn status(cert: &Certificate, cfg: &RuleConfig, now: DateTime<Utc>, out: &mut Vec<Detection>) {
    match &cert.status {
        CertificateStatus::PendingValidation => {
            let waited = cert.created_at.map(|at| now - at);
            if waited.is_some_and(|w| w > Duration::hours(i64::from(cfg.pending_validation_hours)))
            {
                let hours = waited.map(|w| w.num_hours()).unwrap_or_default();
                out.push(detection(
                    cert,
                    FindingCode::CertPendingValidation,
                    FindingCode::CertPendingValidation.default_severity(),
                    format!(
                        "Certificate for {} has been pending validation for {hours} hours; ACM gives up at 72",
                        cert.domain_name
                    ),
                    json!({"created_at": cert.created_at, "hours_pending": hours}),
                ));
            }
        }
        CertificateStatus::ValidationTimedOut => out.push(detection(
            cert,
            FindingCode::CertValidationTimedOut,
            FindingCode::CertValidationTimedOut.default_severity(),
            format!(
                "Certificate request for {} timed out waiting for domain validation",
                cert.domain_name
            ),
            json!({"created_at": cert.created_at}),
        )),
        CertificateStatus::Failed => out.push(detection(
            cert,
            FindingCode::CertFailed,
            FindingCode::CertFailed.default_severity(),
            format!(
                "Certificate request for {} failed (reason: {})",
                cert.domain_name,
                cert.failure_reason.as_deref().unwrap_or("not given")
            ),
            json!({"failure_reason": cert.failure_reason}),
        )),
        CertificateStatus::Revoked => out.push(detection(
            cert,
            FindingCode::CertRevoked,
            if cert.in_use_by.is_empty() {
                Severity::Medium
            } else {
                Severity::Critical
            },
            format!(
                "Certificate for {} was revoked (reason: {}){}",
                cert.domain_name,
                cert.revocation_reason.as_deref().unwrap_or("not given"),
                if cert.in_use_by.is_empty() {
                    String::new()
                } else {
                    format!(" and is still used by {} resource(s)", cert.in_use_by.len())
                }
            ),
            json!({"revocation_reason": cert.revocation_reason, "in_use_by": cert.in_use_by}),
        )),
        CertificateStatus::Issued
            if cert.in_use_by.is_empty() && cert.not_after.is_some_and(|na| na > now) =>
        {
            out.push(detection(
                cert,
                FindingCode::CertUnused,
                FindingCode::CertUnused.default_severity(),
                format!(
                    "Certificate for {} is issued but not in use",
                    cert.domain_name
                ),
                json!({"type": cert.kind, "not_after": cert.not_after}),
            ))
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Region, RenewalSummary};
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0)
            .single()
            .expect("valid")
    }

    fn cert(
        kind: CertificateKind,
        status: CertificateStatus,
        not_after: DateTime<Utc>,
    ) -> Certificate {
        Certificate {
            arn: "arn:aws:acm:eu-west-1:111122223333:certificate/abc".into(),
            region: Region::parse("eu-west-1").expect("region"),
            domain_name: "shop.example.com".into(),
            subject_alternative_names: vec!["shop.example.com".into()],
            kind,
            status,
            key_algorithm: Some("RSA_2048".into()),
            not_before: Some(not_after - Duration::days(395)),
            not_after: Some(not_after),
            created_at: Some(not_after - Duration::days(396)),
            imported_at: None,
            failure_reason: None,
            revocation_reason: None,
            in_use_by: vec![
                "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/x/y".into(),
            ],
            renewal_eligibility: Some(RenewalEligibility::Eligible),
            renewal: None,
            domain_validations: vec![],
            serial: None,
            issuer_ca_arn: None,
        }
    }

    fn codes(d: &[Detection]) -> Vec<(FindingCode, Severity)> {
        d.iter().map(|d| (d.code, d.severity)).collect()
    }

    fn run(c: Certificate) -> Vec<(FindingCode, Severity)> {
        codes(&evaluate(&[c], &RuleConfig::default(), now()))
    }

    #[test]
    fn a_status_newer_than_this_version_is_still_checked_for_expiry() {
        let c = cert(
            CertificateKind::AmazonIssued,
            CertificateStatus::Other("QUARANTINED".into()),
            now() + Duration::days(3),
        );
        let found = evaluate(&[c], &RuleConfig::default(), now());
        assert_eq!(
            codes(&found),
            [(FindingCode::CertExpiring, Severity::Critical)]
        );
        assert_eq!(found[0].evidence["status"], "QUARANTINED");
    }

    #[test]
    fn days_left_rounds_down_including_after_expiry() {
        assert_eq!(days_left(now() + Duration::days(30), now()), 30);
        assert_eq!(
            days_left(now() + Duration::days(30) - Duration::seconds(1), now()),
            29
        );
        assert_eq!(days_left(now() - Duration::seconds(1), now()), -1);
        assert_eq!(days_left(now(), now()), 0);
    }

    /// Table of (days-and-seconds left, expected finding) for Amazon-issued.
    #[test]
    fn amazon_issued_expiry_boundaries() {
        use CertificateKind::AmazonIssued as A;
        use CertificateStatus::Issued as I;
        let d = Duration::days;
        let s = Duration::seconds;
        let table: Vec<(Duration, Vec<(FindingCode, Severity)>)> = vec![
            (d(31), vec![]),
            (d(30) + s(1), vec![]),
            (d(30), vec![(FindingCode::CertExpiring, Severity::Medium)]),
            (d(15), vec![(FindingCode::CertExpiring, Severity::Medium)]),
            (d(14), vec![(FindingCode::CertExpiring, Severity::High)]),
            (
                d(7) + s(1),
                vec![(FindingCode::CertExpiring, Severity::High)],
            ),
            (d(7), vec![(FindingCode::CertExpiring, Severity::Critical)]),
            (s(1), vec![(FindingCode::CertExpiring, Severity::Critical)]),
            (s(0), vec![(FindingCode::CertExpired, Severity::Critical)]),
            (s(-1), vec![(FindingCode::CertExpired, Severity::Critical)]),
            (
                d(-400),
                vec![(FindingCode::CertExpired, Severity::Critical)],
            ),
        ];
        for (left, expected) in table {
            assert_eq!(run(cert(A, I, now() + left)), expected, "left = {left}");
        }
    }

    #[test]
    fn expired_keeps_alerting_when_acm_says_expired() {
        let c = cert(
            CertificateKind::AmazonIssued,
            CertificateStatus::Expired,
            now() - Duration::days(3),
        );
        assert_eq!(run(c), vec![(FindingCode::CertExpired, Severity::Critical)]);
    }

    #[test]
    fn imported_certificates_warn_from_sixty_days() {
        let imp = |left| {
            cert(
                CertificateKind::Imported,
                CertificateStatus::Issued,
                now() + left,
            )
        };
        assert_eq!(run(imp(Duration::days(61))), vec![]);
        assert_eq!(
            run(imp(Duration::days(60))),
            vec![(FindingCode::CertImportedExpiring, Severity::Medium)]
        );
        assert_eq!(
            run(imp(Duration::days(20))),
            vec![(FindingCode::CertImportedExpiring, Severity::Medium)]
        );
        assert_eq!(
            run(imp(Duration::days(14))),
            vec![(FindingCode::CertImportedExpiring, Severity::High)]
        );
        assert_eq!(
            run(imp(Duration::days(5))),
            vec![(FindingCode::CertImportedExpiring, Severity::Critical)]
        );
        // Imported certificates never get the managed-renewal code.
        assert!(
            !run(imp(Duration::days(20)))
                .iter()
                .any(|(c, _)| *c == FindingCode::CertExpiring)
        );
    }

    /// Thresholds are instants, not calendar dates: a `not_after` given in
    /// another offset is the same instant and grades the same.
    #[test]
    fn time_zones_do_not_shift_the_boundary() {
        let tokyo = chrono::FixedOffset::east_opt(9 * 3600).expect("offset");
        let exactly_30_days = (now() + Duration::days(30)).with_timezone(&tokyo);
        let c = cert(
            CertificateKind::AmazonIssued,
            CertificateStatus::Issued,
            exactly_30_days.with_timezone(&Utc),
        );
        assert_eq!(run(c), vec![(FindingCode::CertExpiring, Severity::Medium)]);
        let la = chrono::FixedOffset::west_opt(8 * 3600).expect("offset");
        let just_over = (now() + Duration::days(30) + Duration::seconds(1)).with_timezone(&la);
        let c = cert(
            CertificateKind::AmazonIssued,
            CertificateStatus::Issued,
            just_over.with_timezone(&Utc),
        );
        assert_eq!(run(c), vec![]);
    }

    #[test]
    fn custom_thresholds_are_honoured() {
        let cfg = RuleConfig {
            expiry: crate::families::certificates::config::ExpiryThresholds {
                medium: 45,
                high: 20,
                critical: 2,
            },
            ..RuleConfig::default()
        };
        let c = cert(
            CertificateKind::AmazonIssued,
            CertificateStatus::Issued,
            now() + Duration::days(40),
        );
        assert_eq!(
            codes(&evaluate(std::slice::from_ref(&c), &cfg, now())),
            vec![(FindingCode::CertExpiring, Severity::Medium)]
        );
        let c = cert(
            CertificateKind::AmazonIssued,
            CertificateStatus::Issued,
            now() + Duration::days(3),
        );
        assert_eq!(
            codes(&evaluate(&[c], &cfg, now())),
            vec![(FindingCode::CertExpiring, Severity::High)]
        );
    }

    #[test]
    fn renewal_ineligible_only_inside_the_renewal_window() {
        let mut c = cert(
            CertificateKind::AmazonIssued,
            CertificateStatus::Issued,
            now() + Duration::days(61),
        );
        c.renewal_eligibility = Some(RenewalEligibility::Ineligible);
        assert_eq!(run(c.clone()), vec![]);
        c.not_after = Some(now() + Duration::days(60));
        assert_eq!(
            run(c.clone()),
            vec![(FindingCode::CertRenewalIneligible, Severity::High)]
        );
        c.renewal_eligibility = Some(RenewalEligibility::Eligible);
        assert_eq!(run(c), vec![]);
    }

    #[test]
    fn renewal_failed_carries_the_reason() {
        let mut c = cert(
            CertificateKind::AmazonIssued,
            CertificateStatus::Issued,
            now() + Duration::days(50),
        );
        c.renewal = Some(RenewalSummary {
            status: RenewalStatus::Failed,
            reason: Some("CAA_ERROR".into()),
            updated_at: Some(now() - Duration::hours(1)),
        });
        let d = evaluate(&[c], &RuleConfig::default(), now());
        assert_eq!(
            codes(&d),
            vec![(FindingCode::CertRenewalFailed, Severity::High)]
        );
        assert_eq!(d[0].evidence["renewal_status_reason"], "CAA_ERROR");
        assert!(d[0].message.contains("CAA_ERROR"));
    }

    #[test]
    fn renewal_pending_validation_is_stuck_only_after_24_hours() {
        let mut c = cert(
            CertificateKind::AmazonIssued,
            CertificateStatus::Issued,
            now() + Duration::days(50),
        );
        let pending = |hours| RenewalSummary {
            status: RenewalStatus::PendingValidation,
            reason: None,
            updated_at: Some(now() - Duration::hours(hours)),
        };
        c.renewal = Some(pending(24));
        assert_eq!(run(c.clone()), vec![]);
        c.renewal = Some(RenewalSummary {
            updated_at: Some(now() - Duration::hours(24) - Duration::seconds(1)),
            ..pending(0)
        });
        assert_eq!(
            run(c.clone()),
            vec![(FindingCode::CertRenewalFailed, Severity::High)]
        );
        c.renewal = Some(RenewalSummary {
            status: RenewalStatus::PendingAutoRenewal,
            ..pending(100)
        });
        assert_eq!(run(c), vec![]);
    }

    #[test]
    fn pending_validation_stuck_for_a_day() {
        let mut c = cert(
            CertificateKind::AmazonIssued,
            CertificateStatus::PendingValidation,
            now(),
        );
        c.not_after = None;
        c.created_at = Some(now() - Duration::hours(23));
        assert_eq!(run(c.clone()), vec![]);
        c.created_at = Some(now() - Duration::hours(25));
        assert_eq!(
            run(c),
            vec![(FindingCode::CertPendingValidation, Severity::Medium)]
        );
    }

    #[test]
    fn terminal_statuses() {
        let mut c = cert(
            CertificateKind::AmazonIssued,
            CertificateStatus::ValidationTimedOut,
            now(),
        );
        c.not_after = None;
        assert_eq!(
            run(c.clone()),
            vec![(FindingCode::CertValidationTimedOut, Severity::Medium)]
        );
        c.status = CertificateStatus::Failed;
        c.failure_reason = Some("CAA_ERROR".into());
        let d = evaluate(&[c.clone()], &RuleConfig::default(), now());
        assert_eq!(codes(&d), vec![(FindingCode::CertFailed, Severity::Medium)]);
        assert_eq!(d[0].evidence["failure_reason"], "CAA_ERROR");
        c.status = CertificateStatus::Revoked;
        assert_eq!(
            run(c.clone()),
            vec![(FindingCode::CertRevoked, Severity::Critical)]
        );
        c.in_use_by.clear();
        assert_eq!(run(c), vec![(FindingCode::CertRevoked, Severity::Medium)]);
    }

    #[test]
    fn unused_issued_certificate_is_info() {
        let mut c = cert(
            CertificateKind::AmazonIssued,
            CertificateStatus::Issued,
            now() + Duration::days(300),
        );
        c.in_use_by.clear();
        assert_eq!(
            run(c.clone()),
            vec![(FindingCode::CertUnused, Severity::Info)]
        );
        // An expired unused certificate is reported as expired, not as unused.
        c.not_after = Some(now() - Duration::days(1));
        assert_eq!(run(c), vec![(FindingCode::CertExpired, Severity::Critical)]);
    }

    #[test]
    fn healthy_certificate_has_no_findings() {
        let c = cert(
            CertificateKind::AmazonIssued,
            CertificateStatus::Issued,
            now() + Duration::days(200),
        );
        assert_eq!(run(c), vec![]);
    }
}
