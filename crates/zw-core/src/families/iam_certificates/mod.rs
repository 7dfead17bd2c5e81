//! The IAM server certificate family: certificates uploaded to IAM (for
//! CloudFront, classic and application load balancers), which nothing
//! renews: their end read from the certificate body, and what serves them.
//!
//! collect (the certificates and their bodies; only if there are any, the
//! account's CloudFront distributions and load balancers) -> pure rules.

pub mod model;
pub mod ports;
pub mod rules;

use self::ports::ServerCertificateSource;
use crate::catalogue::Check;
use crate::families::certificates::config::ExpiryThresholds;
use crate::families::endpoints::ports::AttachmentSource;
use crate::family::{Family, FamilyOutcome};
use crate::model::Region;
use crate::record::ScanError;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use std::collections::{BTreeMap, BTreeSet};

pub const NAME: &str = "iam-certificates";

pub struct IamCertificatesFamily<'a, S, A> {
    pub certificates: &'a S,
    /// What terminates TLS in the account (the endpoints family's listing).
    pub attachments: &'a A,
    pub regions: &'a [Region],
    /// The ACM certificates' thresholds (`ZW_EXPIRY_DAYS`).
    pub expiry: &'a ExpiryThresholds,
    pub retire_unmonitored: bool,
}

impl<S, A> std::fmt::Debug for IamCertificatesFamily<'_, S, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IamCertificatesFamily")
            .finish_non_exhaustive()
    }
}

impl<S, A> Family for IamCertificatesFamily<'_, S, A>
where
    S: ServerCertificateSource,
    A: AttachmentSource,
{
    fn name(&self) -> &'static str {
        NAME
    }

    fn run(&self, now: DateTime<Utc>) -> BoxFuture<'_, FamilyOutcome> {
        Box::pin(self.scan(now))
    }
}

impl<S, A> IamCertificatesFamily<'_, S, A>
where
    S: ServerCertificateSource,
    A: AttachmentSource,
{
    async fn scan(&self, now: DateTime<Utc>) -> FamilyOutcome {
        let mut out = FamilyOutcome::default();
        let read = match self.certificates.server_certificates().await {
            Ok(r) => r,
            Err(e) => {
                out.errors.push(ScanError::new(Region::global(), e));
                return out;
            }
        };
        for (arn, mut e) in read.failed {
            out.coverage.hold(&arn);
            e.message = format!("{arn}: {}", e.message);
            out.errors.push(ScanError::new(Region::global(), e));
        }
        // Who serves each certificate, by its ARN or id (CloudFront names
        // the id). Asked only when there is a certificate to ask about.
        let users: Option<BTreeMap<String, BTreeSet<String>>> = if read.certificates.is_empty() {
            Some(BTreeMap::new())
        } else {
            let (attachments, errors) = self.attachments.attachments(self.regions).await;
            let complete = errors.is_empty();
            for e in errors {
                out.errors.push(ScanError::new(Region::global(), e));
            }
            complete.then(|| {
                let mut by: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
                for a in attachments {
                    for c in &a.iam_certificates {
                        by.entry(c.clone())
                            .or_default()
                            .insert(format!("{} {}", a.kind, a.resource));
                    }
                }
                by
            })
        };
        out.coverage
            .insert(Check::IamServerCertificates, rules::SCOPE);
        for cert in &read.certificates {
            let in_use: Option<Vec<String>> = users.as_ref().map(|by| {
                let mut u: BTreeSet<String> = BTreeSet::new();
                for key in [&cert.arn, &cert.id] {
                    if let Some(s) = by.get(key) {
                        u.extend(s.iter().cloned());
                    }
                }
                u.into_iter().collect()
            });
            out.detections
                .extend(rules::evaluate(cert, self.expiry, in_use.as_deref(), now));
        }
        out.counts.insert(
            "iam_server_certificates".into(),
            read.certificates.len() as u64,
        );
        if self.retire_unmonitored {
            out.monitored = Some(BTreeSet::from([rules::SCOPE.to_owned()]));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::model::{ServerCertificate, ServerCertificates};
    use super::*;
    use crate::error::{ErrorKind, PortError};
    use crate::families::endpoints::model::Attachment;
    use crate::severity::Severity;
    use chrono::Duration;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use crate::families::test_now as now;

    fn cert(name: &str, days: i64) -> ServerCertificate {
        ServerCertificate {
            name: name.into(),
            id: format!("ASCA{name}"),
            arn: format!("arn:aws:iam::111122223333:server-certificate/{name}"),
            path: "/".into(),
            not_after: now() + Duration::days(days),
            subject: format!("CN={name}"),
        }
    }

    struct Iam(Vec<ServerCertificate>);
    impl ServerCertificateSource for Iam {
        async fn server_certificates(&self) -> Result<ServerCertificates, PortError> {
            Ok(ServerCertificates {
                certificates: self.0.clone(),
                failed: vec![(
                    "arn:unreadable".into(),
                    PortError::new(
                        "iam",
                        "GetServerCertificate",
                        ErrorKind::InvalidResponse,
                        "bad PEM",
                    ),
                )],
            })
        }
    }

    /// CloudFront serves `cdn` by its id; the load balancer listing fails
    /// when `partial`. Counts how often it is asked.
    #[derive(Default)]
    struct Users {
        partial: bool,
        asked: AtomicUsize,
    }
    impl AttachmentSource for Users {
        async fn attachments(&self, _regions: &[Region]) -> (Vec<Attachment>, Vec<PortError>) {
            self.asked.fetch_add(1, Ordering::SeqCst);
            let cdn = Attachment {
                kind: "cloudfront".into(),
                resource: "arn:cloudfront:E1".into(),
                dns_name: "d1.cloudfront.net.".into(),
                certificate_arns: Vec::new(),
                iam_certificates: vec!["ASCAcdn".into()],
            };
            let errors = if self.partial {
                vec![PortError::new(
                    "elb",
                    "DescribeLoadBalancers",
                    ErrorKind::AccessDenied,
                    "denied",
                )]
            } else {
                Vec::new()
            };
            (vec![cdn], errors)
        }
    }

    async fn run(certs: Vec<ServerCertificate>, users: &Users) -> FamilyOutcome {
        let expiry = ExpiryThresholds::default();
        let iam = Iam(certs);
        let family = IamCertificatesFamily {
            certificates: &iam,
            attachments: users,
            regions: &[],
            expiry: &expiry,
            retire_unmonitored: true,
        };
        family.run(now()).await
    }

    fn found(out: &FamilyOutcome) -> Vec<(String, &'static str, Severity)> {
        let mut v: Vec<_> = out
            .detections
            .iter()
            .map(|d| (d.resource.name.clone(), d.code.id(), d.severity))
            .collect();
        v.sort();
        v
    }

    #[tokio::test]
    async fn what_serves_a_certificate_decides_how_grave_its_end_is() {
        let users = Users::default();
        let out = run(
            vec![cert("cdn", -1), cert("spare", -1), cert("fresh", 400)],
            &users,
        )
        .await;
        assert_eq!(
            found(&out),
            [
                (
                    "cdn".to_owned(),
                    "iam.server-certificate-expired",
                    Severity::Critical
                ),
                (
                    "spare".to_owned(),
                    "iam.server-certificate-expired",
                    Severity::Medium
                ),
            ]
        );
        // The unreadable one keeps its findings; the rest is covered.
        assert!(out.coverage.is_held("arn:unreadable"));
        assert!(out.coverage.covers(Check::IamServerCertificates, "global"));
        assert_eq!(out.errors.len(), 1);

        // A listing that failed: use unknown, never "not attached".
        let partial = Users {
            partial: true,
            ..Users::default()
        };
        let out = run(vec![cert("spare", -1)], &partial).await;
        assert_eq!(
            found(&out),
            [(
                "spare".to_owned(),
                "iam.server-certificate-expired",
                Severity::High
            )]
        );
        assert_eq!(out.errors.len(), 2);
    }

    #[tokio::test]
    async fn without_certificates_nothing_else_is_listed() {
        let users = Users::default();
        let out = run(Vec::new(), &users).await;
        assert_eq!(users.asked.load(Ordering::SeqCst), 0);
        assert!(out.detections.is_empty());
        assert_eq!(out.counts["iam_server_certificates"], 0);
    }
}
