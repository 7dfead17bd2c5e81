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
