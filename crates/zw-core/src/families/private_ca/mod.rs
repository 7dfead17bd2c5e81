//! The private CA family: the account's ACM Private CA certificate
//! authorities in each configured region: their own certificate's end (and
//! the ACM certificates they issued that end later), disabled or pending
//! CAs, revocation switched off.
//!
//! collect (the CAs of each region; for a region with a CA near its end,
//! that region's ACM certificates) -> pure rules (`rules`).

pub mod model;
pub mod ports;
pub mod rules;

use self::ports::CertificateAuthoritySource;
use crate::catalogue::Check;
use crate::families::certificates::config::ExpiryThresholds;
use crate::family::{Family, FamilyOutcome};
use crate::model::Region;
use crate::ports::CertificateSource;
use crate::record::ScanError;
use chrono::{DateTime, Utc};
use futures::future::{BoxFuture, join_all};

pub const NAME: &str = "private-ca";

pub struct PrivateCaFamily<'a, P, C> {
    pub authorities: &'a P,
    /// ACM, read only in a region where a CA nears its end.
    pub certificates: &'a C,
    pub regions: &'a [Region],
    /// The ACM certificates' thresholds (`ZW_EXPIRY_DAYS`).
    pub expiry: &'a ExpiryThresholds,
    pub retire_unmonitored: bool,
}

impl<P, C> std::fmt::Debug for PrivateCaFamily<'_, P, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateCaFamily")
            .field("regions", &self.regions)
            .finish_non_exhaustive()
    }
}

impl<P, C> Family for PrivateCaFamily<'_, P, C>
where
    P: CertificateAuthoritySource,
    C: CertificateSource,
{
    fn name(&self) -> &'static str {
        NAME
    }

    fn run(&self, now: DateTime<Utc>) -> BoxFuture<'_, FamilyOutcome> {
        Box::pin(self.scan(now))
    }
}

impl<P, C> PrivateCaFamily<'_, P, C>
where
    P: CertificateAuthoritySource,
    C: CertificateSource,
{
    async fn scan(&self, now: DateTime<Utc>) -> FamilyOutcome {
        let mut out = FamilyOutcome::default();
        let listed = join_all(
            self.regions
                .iter()
                .map(|r| async move { (r, self.authorities.authorities(r).await) }),
        )
        .await;
        let mut count = 0u64;
        for (region, result) in listed {
            let cas = match result {
                Ok(c) => c,
                Err(e) => {
                    out.errors.push(ScanError::new(region.clone(), e));
                    continue;
                }
            };
            // A CA near its end: which of the region's certificates did it
            // issue that end later? Read only then (ACM describes each).
            let issued = if cas.iter().any(|ca| rules::ending(ca, self.expiry, now)) {
                match self.certificates.certificates(region, None).await {
                    Ok(c) => {
                        for (arn, e) in c.failed {
                            let mut e = e;
                            e.message = format!("{arn}: {}", e.message);
                            out.errors.push(ScanError::new(region.clone(), e));
                        }
                        Some(c.certificates)
                    }
                    Err(e) => {
                        out.errors.push(ScanError::new(region.clone(), e));
                        None
                    }
                }
            } else {
                None
            };
            out.coverage.insert(Check::PrivateCa, region.as_str());
            for ca in &cas {
                out.detections
                    .extend(rules::evaluate(ca, self.expiry, issued.as_deref(), now));
            }
            count += cas.len() as u64;
        }
        out.counts.insert("certificate_authorities".into(), count);
        if self.retire_unmonitored {
            out.monitored = Some(self.regions.iter().map(ToString::to_string).collect());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::model::CertificateAuthority;
    use super::*;
    use crate::error::{ErrorKind, PortError};
    use crate::model::{Certificate, CertificateKind, CertificateStatus};
    use crate::ports::RegionCertificates;
    use chrono::Duration;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use crate::families::test_now as now;

    fn region(r: &str) -> Region {
        Region::parse(r).expect("region")
    }

    /// eu-west-1 holds a CA ending in 20 days; us-east-1 cannot be read;
    /// ap-south-1 holds a healthy CA.
    struct Cas;
    impl CertificateAuthoritySource for Cas {
        async fn authorities(&self, r: &Region) -> Result<Vec<CertificateAuthority>, PortError> {
            let ca = |arn: &str, days| CertificateAuthority {
                arn: arn.into(),
                region: r.clone(),
                status: "ACTIVE".into(),
                kind: "ROOT".into(),
                usage_mode: Some("GENERAL_PURPOSE".into()),
                common_name: None,
                not_after: Some(now() + Duration::days(days)),
                crl: true,
                ocsp: true,
            };
            match r.as_str() {
                "eu-west-1" => Ok(vec![ca("arn:ca/ending", 20)]),
                "us-east-1" => Err(PortError::new(
                    "acm-pca",
                    "ListCertificateAuthorities",
                    ErrorKind::AccessDenied,
                    "denied",
                )),
                _ => Ok(vec![ca("arn:ca/fine", 3000)]),
            }
        }
    }

    /// Counts the regions whose ACM certificates were read.
    #[derive(Default)]
    struct Acm(AtomicUsize);
    impl CertificateSource for Acm {
        async fn certificates(
            &self,
            r: &Region,
            _stop: Option<std::time::Instant>,
        ) -> Result<RegionCertificates, PortError> {
            assert_eq!(
                r.as_str(),
                "eu-west-1",
                "only the region of the CA near its end"
            );
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(RegionCertificates {
                certificates: vec![Certificate {
                    arn: "arn:cert/outlives".into(),
                    region: r.clone(),
                    domain_name: "api.internal".into(),
                    subject_alternative_names: Vec::new(),
                    kind: CertificateKind::Private,
                    status: CertificateStatus::Issued,
                    key_algorithm: None,
                    not_before: None,
                    not_after: Some(now() + Duration::days(300)),
                    created_at: None,
                    imported_at: None,
                    failure_reason: None,
                    revocation_reason: None,
                    in_use_by: Vec::new(),
                    renewal_eligibility: None,
                    renewal: None,
                    domain_validations: Vec::new(),
                    serial: None,
                    issuer_ca_arn: Some("arn:ca/ending".into()),
                }],
                ..RegionCertificates::default()
            })
        }
    }

    #[tokio::test]
    async fn a_region_that_fails_is_not_covered_and_acm_is_read_only_where_needed() {
        let regions = [
            region("eu-west-1"),
            region("us-east-1"),
            region("ap-south-1"),
        ];
        let expiry = ExpiryThresholds::default();
        let acm = Acm::default();
        let family = PrivateCaFamily {
            authorities: &Cas,
            certificates: &acm,
            regions: &regions,
            expiry: &expiry,
            retire_unmonitored: true,
        };
        let out = family.run(now()).await;
        assert_eq!(acm.0.load(Ordering::SeqCst), 1);
        assert!(out.coverage.covers(Check::PrivateCa, "eu-west-1"));
        assert!(out.coverage.covers(Check::PrivateCa, "ap-south-1"));
        assert!(!out.coverage.covers(Check::PrivateCa, "us-east-1"));
        assert_eq!(out.errors.len(), 1);
        assert_eq!(out.counts["certificate_authorities"], 2);
        assert_eq!(out.detections.len(), 1);
        let d = &out.detections[0];
        assert_eq!(d.code.id(), "pca.ca-expiring");
        assert_eq!(d.evidence["issued_beyond"][0]["arn"], "arn:cert/outlives");
        assert_eq!(out.monitored.map(|m| m.len()), Some(3));
    }
}
