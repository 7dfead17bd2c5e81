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
