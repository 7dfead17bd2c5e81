//! IAM server certificate rules. Pure: the certificates and, when they
//! could be listed, what terminates TLS with them come in; detections go
//! out. Scope of every finding: `global`.

use super::model::ServerCertificate;
use crate::catalogue::FindingCode;
use crate::families::certificates::config::ExpiryThresholds;
use crate::finding::{Detection, Resource, ResourceKind};
use crate::model::Region;
use crate::severity::Severity;
use chrono::{DateTime, Utc};
use serde_json::json;

/// Scope of the findings (one listing, IAM is global).
pub const SCOPE: &str = "global";

pub fn resource(cert: &ServerCertificate) -> Resource {
    Resource {
        kind: ResourceKind::IamServerCertificate,
        id: cert.arn.clone(),
        name: cert.name.clone(),
    }
}

/// One certificate's finding, if any. `in_use_by`: the resources that serve
/// it, None when they could not all be listed.
pub fn evaluate(
    cert: &ServerCertificate,
    expiry: &ExpiryThresholds,
    in_use_by: Option<&[String]>,
    now: DateTime<Utc>,
) -> Option<Detection> {
    let left = (cert.not_after - now).num_days();
    let ended = cert.not_after <= now;
    if !ended && left > i64::from(expiry.medium) {
        return None;
    }
    let name = &cert.name;
    let used = match in_use_by {
        Some([]) => {
            " It is not attached to any CloudFront distribution or load balancer.".to_owned()
        }
        Some(users) => format!(" Served by {}.", users.join(", ")),
        None => String::new(),
    };
    let (code, severity, message) = if ended {
        // Expired and still served is an outage; expired and unused is
        // clean-up; unknown use is treated as possibly served.
        let severity = match in_use_by {
            Some([]) => Severity::Medium,
            Some(_) => Severity::Critical,
            None => Severity::High,
        };
        (
            FindingCode::IamServerCertificateExpired,
            severity,
            format!(
                "The IAM server certificate {name} ended on {}.{used}",
                cert.not_after
            ),
        )
    } else {
        let severity = if left <= i64::from(expiry.critical) {
            Severity::Critical
        } else if left <= i64::from(expiry.high) {
            Severity::High
        } else {
            Severity::Medium
        };
        (
            FindingCode::IamServerCertificateExpiring,
            severity,
            format!(
                "The IAM server certificate {name} ends in {left} days ({}); IAM never renews it.{used}",
                cert.not_after
            ),
        )
    };
    Some(Detection {
        code,
        severity,
        resource: resource(cert),
        region: Region::global(),
        scope: SCOPE.to_owned(),
        message,
        evidence: json!({
            "not_after": cert.not_after,
            "days_left": left,
            "subject": cert.subject,
            "path": cert.path,
            // None: what serves it could not be listed completely.
            "in_use_by": in_use_by,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    use crate::families::test_now as now;

    fn cert(days: i64) -> ServerCertificate {
        ServerCertificate {
            name: "legacy-www".into(),
            id: "ASCAEXAMPLE".into(),
            arn: "arn:aws:iam::111122223333:server-certificate/legacy-www".into(),
            path: "/".into(),
            not_after: now() + Duration::days(days) + Duration::hours(1),
            subject: "CN=www.example.com".into(),
        }
    }

    /// Days left -> code and severity, with the ACM thresholds (30/14/7).
    #[test]
    fn the_end_is_graded_like_acm_certificates() {
        let t = ExpiryThresholds::default();
        let users = ["cloudfront E1".to_owned()];
        for (days, want) in [
            (365, None),
            (31, None),
            (
                30,
                Some(("iam.server-certificate-expiring", Severity::Medium)),
            ),
            (
                14,
                Some(("iam.server-certificate-expiring", Severity::High)),
            ),
            (
                7,
                Some(("iam.server-certificate-expiring", Severity::Critical)),
            ),
            (
                -3,
                Some(("iam.server-certificate-expired", Severity::Critical)),
            ),
        ] {
            let got =
                evaluate(&cert(days), &t, Some(&users), now()).map(|d| (d.code.id(), d.severity));
            assert_eq!(got, want, "{days}");
        }
    }

    #[test]
    fn an_expired_certificate_is_as_grave_as_its_use() {
        let t = ExpiryThresholds::default();
        let expired = cert(-10);
        let unused = evaluate(&expired, &t, Some(&[]), now()).expect("finding");
        assert_eq!(unused.severity, Severity::Medium);
        assert!(
            unused.message.contains("not attached"),
            "{}",
            unused.message
        );
        assert_eq!(unused.evidence["in_use_by"], json!([]));
        let unknown = evaluate(&expired, &t, None, now()).expect("finding");
        assert_eq!(unknown.severity, Severity::High);
        assert!(unknown.evidence["in_use_by"].is_null());
        let served =
            evaluate(&expired, &t, Some(&["elb legacy".to_owned()]), now()).expect("finding");
        assert_eq!(served.severity, Severity::Critical);
        assert!(
            served.message.contains("Served by elb legacy"),
            "{}",
            served.message
        );
        assert_eq!(served.resource.id, expired.arn);
    }
}
