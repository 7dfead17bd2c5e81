//! ACM collector: `ListCertificates` (every status, every key type) and one
//! `DescribeCertificate` per certificate, paced and bounded per region, until
//! the scan's stop; a cut-short region continues where it stopped next time
//! (`resume`).

use crate::error::classify;
use crate::limiter::RateLimiter;
use crate::resume::{ResumeCursor, resume_order};
use crate::usage::ApiCallCounter;
use aws_config::SdkConfig;
use aws_sdk_acm::Client;
use aws_sdk_acm::types::{self as acm, CertificateDetail};
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use std::collections::HashMap;
use zw_core::Region;
use zw_core::model::{
    Certificate, CertificateKind, CertificateStatus, DomainValidation, RenewalEligibility,
    RenewalStatus, RenewalSummary, ValidationMethod, ValidationRecord,
};
use zw_core::ports::{CertificateSource, ErrorKind, PortError, RegionCertificates};

#[derive(Debug, Clone)]
struct RegionClient {
    client: Client,
    limiter: RateLimiter,
}

#[derive(Debug, Clone)]
pub struct AcmCollector {
    regions: HashMap<Region, RegionClient>,
    concurrency: usize,
    resume: Option<ResumeCursor>,
}

impl AcmCollector {
    /// One client and one request budget per region (ACM quotas are regional).
    pub fn new(
        sdk: &SdkConfig,
        regions: &[Region],
        rps: f64,
        concurrency: usize,
        calls: &ApiCallCounter,
    ) -> Self {
        let regions = regions
            .iter()
            .map(|r| {
                let conf = aws_sdk_acm::config::Builder::from(sdk)
                    .region(aws_config::Region::new(r.as_str().to_owned()))
                    .interceptor(calls.clone())
                    .build();
                (
                    r.clone(),
                    RegionClient {
                        client: Client::from_conf(conf),
                        limiter: RateLimiter::per_second(rps),
                    },
                )
            })
            .collect();
        Self {
            regions,
            concurrency: concurrency.max(1),
            resume: None,
        }
    }

    /// Remembers where a cut-short region stopped (in the findings table).
    pub fn with_resume(mut self, cursor: ResumeCursor) -> Self {
        self.resume = Some(cursor);
        self
    }
}

impl CertificateSource for AcmCollector {
    async fn certificates(
        &self,
        region: &Region,
        stop: Option<std::time::Instant>,
    ) -> Result<RegionCertificates, PortError> {
        let Some(rc) = self.regions.get(region) else {
            return Err(PortError::new(
                "acm",
                "ListCertificates",
                ErrorKind::InvalidRequest,
                format!("region {region} was not configured for this collector"),
            ));
        };
        let arns = list_arns(rc).await?;
        let after = match &self.resume {
            Some(cursor) if !arns.is_empty() => cursor.load(region).await,
            _ => None,
        };
        let order = resume_order(arns, after.as_deref());
        // Describe with bounded concurrency (the limiter paces the rate), in
        // order, so that what was described at the stop is a prefix of it.
        let mut results = stream::iter(order.iter().cloned())
            .map(|arn| async move {
                let got = describe(rc, region, arn.clone()).await;
                (arn, got)
            })
            .buffered(self.concurrency);
        let stop = stop.map(tokio::time::Instant::from_std);
        let mut described = Vec::with_capacity(order.len());
        loop {
            let next = match stop {
                Some(at) => match tokio::time::timeout_at(at, results.next()).await {
                    Ok(next) => next,
                    Err(_) => break,
                },
                None => results.next().await,
            };
            match next {
                Some(one) => described.push(one),
                None => break,
            }
        }
        let unvisited = order[described.len()..].to_vec();
        if !unvisited.is_empty()
            && let (Some(cursor), Some((last, _))) = (&self.resume, described.last())
        {
            cursor.save(region, last).await;
        }
        let mut out = gather(described)?;
        out.unvisited = unvisited;
        Ok(out)
    }
}

/// A region's describe results: each failure stays its own certificate's,
/// unless every certificate failed (then the region failed: an access or
/// service problem, reported once, not once per certificate).
pub fn gather(
    described: Vec<(String, Result<Option<Certificate>, PortError>)>,
) -> Result<RegionCertificates, PortError> {
    let total = described.len();
    let mut out = RegionCertificates::default();
    for (arn, got) in described {
        match got {
            Ok(Some(c)) => out.certificates.push(c),
            // Deleted between listing and describing.
            Ok(None) => {}
            Err(e) => out.failed.push((arn, e)),
        }
    }
    if total > 0 && out.failed.len() == total {
        let (arn, first) = out.failed.swap_remove(0);
        return Err(PortError {
            message: format!(
                "{} (and every other of the region's {total} certificate(s); first: {arn})",
                first.message
            ),
            ..first
        });
    }
    out.certificates.sort_by(|a, b| a.arn.cmp(&b.arn));
    out.failed.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Every key type the SDK knows. ListCertificates returns only RSA_1024 and
/// RSA_2048 certificates unless asked for other key types by name, so a key
/// type AWS adds later is listed once the SDK (a dependency bump) knows it.
fn key_types() -> Vec<acm::KeyAlgorithm> {
    acm::KeyAlgorithm::values()
        .iter()
        .map(|v| acm::KeyAlgorithm::from(*v))
        .collect()
}

async fn list_arns(rc: &RegionClient) -> Result<Vec<String>, PortError> {
    // No status filter: a status filter names only the statuses this SDK
    // knows, and would hide a certificate in a status AWS adds later.
    let includes = acm::Filters::builder()
        .set_key_types(Some(key_types()))
        .build();
    let mut arns = Vec::new();
    let mut token: Option<String> = None;
    loop {
        rc.limiter.acquire().await;
        let page = rc
            .client
            .list_certificates()
            .includes(includes.clone())
            .max_items(1000)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| classify("acm", "ListCertificates", e))?;
        arns.extend(
            page.certificate_summary_list()
                .iter()
                .filter_map(|s| s.certificate_arn().map(str::to_owned)),
        );
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => break,
        }
    }
    arns.sort();
    arns.dedup();
    Ok(arns)
}

/// `None` when the certificate was deleted between listing and describing.
async fn describe(
    rc: &RegionClient,
    region: &Region,
    arn: String,
) -> Result<Option<Certificate>, PortError> {
    rc.limiter.acquire().await;
    match rc
        .client
        .describe_certificate()
        .certificate_arn(&arn)
        .send()
        .await
    {
        Ok(out) => match out.certificate() {
            Some(detail) => convert(detail, region).map(Some),
            None => Err(PortError::new(
                "acm",
                "DescribeCertificate",
                ErrorKind::InvalidResponse,
                format!("no certificate detail returned for {arn}"),
            )),
        },
        Err(e) => {
            let e = classify("acm", "DescribeCertificate", e);
            if e.kind == ErrorKind::NotFound {
                tracing::info!(certificate = %arn, "certificate disappeared during the scan");
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

fn time(t: Option<&aws_smithy_types::DateTime>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
}

/// Converts ACM's answer into our model. Only the ARN is required; everything
/// else ACM may omit is optional in the model too.
pub fn convert(d: &CertificateDetail, region: &Region) -> Result<Certificate, PortError> {
    let arn = d.certificate_arn().ok_or_else(|| {
        PortError::new(
            "acm",
            "DescribeCertificate",
            ErrorKind::InvalidResponse,
            "certificate detail without CertificateArn",
        )
    })?;
    let kind = match d.r#type() {
        Some(acm::CertificateType::Imported) => CertificateKind::Imported,
        Some(acm::CertificateType::Private) => CertificateKind::Private,
        _ => CertificateKind::AmazonIssued,
    };
    let status = match d.status() {
        Some(acm::CertificateStatus::PendingValidation) => CertificateStatus::PendingValidation,
        Some(acm::CertificateStatus::Issued) => CertificateStatus::Issued,
        Some(acm::CertificateStatus::Inactive) => CertificateStatus::Inactive,
        Some(acm::CertificateStatus::Expired) => CertificateStatus::Expired,
        Some(acm::CertificateStatus::ValidationTimedOut) => CertificateStatus::ValidationTimedOut,
        Some(acm::CertificateStatus::Revoked) => CertificateStatus::Revoked,
        Some(acm::CertificateStatus::Failed) => CertificateStatus::Failed,
        Some(other) => CertificateStatus::Other(other.as_str().to_owned()),
        None => CertificateStatus::Other("UNKNOWN".to_owned()),
    };
    let renewal = d.renewal_summary().map(|r| RenewalSummary {
        status: match r.renewal_status() {
            acm::RenewalStatus::PendingAutoRenewal => RenewalStatus::PendingAutoRenewal,
            acm::RenewalStatus::PendingValidation => RenewalStatus::PendingValidation,
            acm::RenewalStatus::Success => RenewalStatus::Success,
            acm::RenewalStatus::Failed => RenewalStatus::Failed,
            other => RenewalStatus::Other(other.as_str().to_owned()),
        },
        reason: r.renewal_status_reason().map(|r| r.as_str().to_owned()),
        updated_at: time(Some(r.updated_at())),
    });
    let domain_validations = d
        .domain_validation_options()
        .iter()
        .map(|dv| DomainValidation {
            domain: dv.domain_name().to_owned(),
            method: match dv.validation_method() {
                Some(acm::ValidationMethod::Dns) => Some(ValidationMethod::Dns),
                Some(acm::ValidationMethod::Email) => Some(ValidationMethod::Email),
                Some(acm::ValidationMethod::Http) => Some(ValidationMethod::Http),
                // ACM omits the method on some imported/legacy certificates;
                // a CNAME resource record can only mean DNS validation.
                _ if dv.resource_record().is_some() => Some(ValidationMethod::Dns),
                _ => None,
            },
            record: dv.resource_record().map(|rr| ValidationRecord {
                name: rr.name().to_owned(),
                value: rr.value().to_owned(),
            }),
        })
        .collect();
    Ok(Certificate {
        arn: arn.to_owned(),
        region: region.clone(),
        domain_name: d.domain_name().unwrap_or_default().to_owned(),
        subject_alternative_names: d.subject_alternative_names().to_vec(),
        kind,
        status,
        key_algorithm: d.key_algorithm().map(|k| k.as_str().to_owned()),
        not_before: time(d.not_before()),
        not_after: time(d.not_after()),
        created_at: time(d.created_at()),
        imported_at: time(d.imported_at()),
        failure_reason: d.failure_reason().map(|f| f.as_str().to_owned()),
        revocation_reason: d.revocation_reason().map(|r| r.as_str().to_owned()),
        in_use_by: d.in_use_by().to_vec(),
        renewal_eligibility: match d.renewal_eligibility() {
            Some(acm::RenewalEligibility::Eligible) => Some(RenewalEligibility::Eligible),
            Some(acm::RenewalEligibility::Ineligible) => Some(RenewalEligibility::Ineligible),
            _ => None,
        },
        renewal,
        domain_validations,
        serial: d.serial().map(str::to_owned),
        issuer_ca_arn: d.certificate_authority_arn().map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_acm::operation::describe_certificate::DescribeCertificateOutput;
    use aws_sdk_acm::operation::list_certificates::ListCertificatesOutput;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    /// A status and a key type this SDK does not know (AWS added them
    /// later) are listed, described and kept as they are, never skipped.
    #[tokio::test]
    async fn statuses_and_key_types_newer_than_the_sdk_are_still_listed() {
        let arn = "arn:aws:acm:eu-west-1:111122223333:certificate/future";
        let list = mock!(aws_sdk_acm::Client::list_certificates)
            .match_requests(|r| {
                r.certificate_statuses().is_empty()
                    && r.includes().map(|i| i.key_types().len())
                        == Some(acm::KeyAlgorithm::values().len())
            })
            .then_output(move || {
                ListCertificatesOutput::builder()
                    .certificate_summary_list(
                        acm::CertificateSummary::builder()
                            .certificate_arn(arn)
                            .build(),
                    )
                    .build()
            });
        let describe = mock!(aws_sdk_acm::Client::describe_certificate)
            .match_requests(move |r| r.certificate_arn() == Some(arn))
            .then_output(move || {
                DescribeCertificateOutput::builder()
                    .certificate(
                        CertificateDetail::builder()
                            .certificate_arn(arn)
                            .domain_name("future.example.com")
                            .status(acm::CertificateStatus::from("QUARANTINED"))
                            .key_algorithm(acm::KeyAlgorithm::from("ML_DSA_65"))
                            .build(),
                    )
                    .build()
            });
        let client = mock_client!(aws_sdk_acm, RuleMode::Sequential, &[&list, &describe]);
        let region = Region::parse("eu-west-1").expect("region");
        let collector = AcmCollector {
            regions: HashMap::from([(
                region.clone(),
                RegionClient {
                    client,
                    limiter: RateLimiter::per_second(100.0),
                },
            )]),
            concurrency: 1,
            resume: None,
        };
        let got = collector.certificates(&region, None).await.expect("listed");
        assert_eq!(got.certificates.len(), 1, "{got:?}");
        let c = &got.certificates[0];
        assert_eq!(c.status, CertificateStatus::Other("QUARANTINED".into()));
        assert_eq!(c.key_algorithm.as_deref(), Some("ML_DSA_65"));
    }

    fn failure(arn: &str) -> PortError {
        PortError::new(
            "acm",
            "DescribeCertificate",
            ErrorKind::Throttled,
            format!("{arn}: rate exceeded"),
        )
    }

    fn certificate(arn: &str) -> Certificate {
        let detail = CertificateDetail::builder().certificate_arn(arn).build();
        convert(&detail, &Region::parse("eu-west-1").expect("region")).expect("converts")
    }

    #[test]
    fn one_undescribable_certificate_is_its_own_error_not_the_regions() {
        let got = gather(vec![
            ("b".into(), Ok(Some(certificate("b")))),
            ("a".into(), Err(failure("a"))),
            ("gone".into(), Ok(None)),
        ])
        .expect("the region counts");
        assert_eq!(got.certificates.len(), 1);
        assert_eq!(got.failed.len(), 1);
        assert_eq!(got.failed[0].0, "a");
    }

    #[test]
    fn every_certificate_failing_is_the_region_failing_once() {
        let e = gather(vec![
            ("a".into(), Err(failure("a"))),
            ("b".into(), Err(failure("b"))),
        ])
        .expect_err("the region failed");
        assert_eq!(e.kind, ErrorKind::Throttled);
        assert!(
            e.message.contains("every other of the region's 2"),
            "{}",
            e.message
        );
        assert!(gather(Vec::new()).expect("empty").certificates.is_empty());
    }

    #[test]
    fn converts_a_dns_validated_certificate() {
        let detail = CertificateDetail::builder()
            .certificate_arn("arn:aws:acm:eu-west-1:111122223333:certificate/1")
            .domain_name("example.com")
            .r#type(acm::CertificateType::AmazonIssued)
            .status(acm::CertificateStatus::Issued)
            .not_after(aws_smithy_types::DateTime::from_secs(1_800_000_000))
            .renewal_eligibility(acm::RenewalEligibility::Ineligible)
            .domain_validation_options(
                acm::DomainValidation::builder()
                    .domain_name("example.com")
                    .validation_method(acm::ValidationMethod::Dns)
                    .resource_record(
                        acm::ResourceRecord::builder()
                            .name("_x.example.com.")
                            .r#type(acm::RecordType::Cname)
                            .value("_y.acm-validations.aws.")
                            .build()
                            .expect("record"),
                    )
                    .build()
                    .expect("dv"),
            )
            .build();
        let region = Region::parse("eu-west-1").expect("region");
        let c = convert(&detail, &region).expect("converts");
        assert_eq!(c.kind, CertificateKind::AmazonIssued);
        assert_eq!(c.status, CertificateStatus::Issued);
        assert_eq!(c.not_after.map(|t| t.timestamp()), Some(1_800_000_000));
        assert_eq!(c.renewal_eligibility, Some(RenewalEligibility::Ineligible));
        assert_eq!(c.renewal_validation_records().count(), 1);
    }

    #[test]
    fn a_detail_without_arn_is_an_invalid_response_not_a_panic() {
        let region = Region::parse("eu-west-1").expect("region");
        let e = convert(&CertificateDetail::builder().build(), &region).expect_err("no arn");
        assert_eq!(e.kind, ErrorKind::InvalidResponse);
    }
}
