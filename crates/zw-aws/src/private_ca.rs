//! ACM Private CA: the account's certificate authorities in each region,
//! through the SDK's runtime without the service crate (`crate::rpc`): one
//! JSON 1.1 read call, `ListCertificateAuthorities`, which answers each CA
//! in full.

use crate::error::classify;
use crate::rpc;
use crate::usage::ApiCallCounter;
use aws_config::SdkConfig;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use zw_core::families::private_ca::model::CertificateAuthority;
use zw_core::families::private_ca::ports::CertificateAuthoritySource;
use zw_core::model::Region;
use zw_core::ports::{ErrorKind, PortError};

const SERVICE: &str = "acm-pca";
const OPERATION: &str = "ListCertificateAuthorities";

/// ACM Private CA's endpoints: `AWS_ENDPOINT_URL_ACM_PCA`, the global
/// override or `acm-pca.<region>.<partition suffix>`.
pub const ENDPOINT: rpc::Endpoint = rpc::Endpoint {
    service_id: "ACM PCA",
    env: "AWS_ENDPOINT_URL_ACM_PCA",
    prefix: "acm-pca",
    signing_name: "acm-pca",
};

/// `X-Amz-Target`'s prefix.
pub const TARGET: &str = "ACMPrivateCA";

#[derive(Clone)]
pub struct PrivateCaAdapter {
    sdk: SdkConfig,
    calls: ApiCallCounter,
}

impl std::fmt::Debug for PrivateCaAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateCaAdapter").finish_non_exhaustive()
    }
}

impl PrivateCaAdapter {
    pub fn new(sdk: &SdkConfig, calls: &ApiCallCounter) -> Self {
        Self {
            sdk: sdk.clone(),
            calls: calls.clone(),
        }
    }
}

fn timestamp(v: &Value) -> Option<DateTime<Utc>> {
    let secs = v.as_f64()?;
    // Dates a CA carries fit easily; the cast only drops sub-milliseconds.
    #[allow(clippy::cast_possible_truncation)]
    DateTime::from_timestamp_millis((secs * 1000.0).round() as i64)
}

/// One CA of the answer, as the model has it; None without an ARN.
fn authority(region: &Region, ca: &Value) -> Option<CertificateAuthority> {
    let revocation = &ca["RevocationConfiguration"];
    Some(CertificateAuthority {
        arn: ca["Arn"].as_str()?.to_owned(),
        region: region.clone(),
        status: ca["Status"].as_str().unwrap_or_default().to_owned(),
        kind: ca["Type"].as_str().unwrap_or_default().to_owned(),
        usage_mode: ca["UsageMode"].as_str().map(str::to_owned),
        common_name: ca["CertificateAuthorityConfiguration"]["Subject"]["CommonName"]
            .as_str()
            .map(str::to_owned),
        not_after: timestamp(&ca["NotAfter"]),
        crl: revocation["CrlConfiguration"]["Enabled"]
            .as_bool()
            .unwrap_or(false),
        ocsp: revocation["OcspConfiguration"]["Enabled"]
            .as_bool()
            .unwrap_or(false),
    })
}

impl CertificateAuthoritySource for PrivateCaAdapter {
    async fn authorities(&self, region: &Region) -> Result<Vec<CertificateAuthority>, PortError> {
        // Built per call: most deployments have no CA, and init stays small.
        let list = rpc::json_operation(
            &self.sdk,
            region.as_str(),
            &ENDPOINT,
            &self.calls,
            TARGET,
            OPERATION,
        );
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let body = match &token {
                Some(t) => json!({ "NextToken": t }),
                None => json!({}),
            };
            let page = list
                .invoke(body)
                .await
                .map_err(|e| classify(SERVICE, OPERATION, e))?;
            let cas = page["CertificateAuthorities"].as_array().ok_or_else(|| {
                PortError::new(
                    SERVICE,
                    OPERATION,
                    ErrorKind::InvalidResponse,
                    "the answer has no CertificateAuthorities",
                )
            })?;
            out.extend(cas.iter().filter_map(|ca| authority(region, ca)));
            match page["NextToken"].as_str() {
                Some(t) if !t.is_empty() && token.as_deref() != Some(t) => {
                    token = Some(t.to_owned())
                }
                _ => break,
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fields as AWS documents `CertificateAuthority`.
    #[test]
    fn an_answer_becomes_the_model() {
        let region = Region::parse("eu-west-1").expect("region");
        let ca = authority(
            &region,
            &json!({
                "Arn": "arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/1",
                "Status": "ACTIVE",
                "Type": "ROOT",
                "UsageMode": "GENERAL_PURPOSE",
                "NotAfter": 1_767_225_600,
                "CertificateAuthorityConfiguration": {"Subject": {"CommonName": "Root CA"}},
                "RevocationConfiguration": {"CrlConfiguration": {"Enabled": false}, "OcspConfiguration": {"Enabled": true}}
            }),
        )
        .expect("a CA");
        assert_eq!(ca.display_name(), "Root CA");
        assert_eq!(ca.kind, "ROOT");
        assert!(!ca.crl && ca.ocsp);
        assert_eq!(
            ca.not_after.map(|t| t.to_rfc3339()),
            Some("2026-01-01T00:00:00+00:00".to_owned())
        );
        // No revocation configuration: both off. No ARN: not a CA.
        let bare = authority(
            &region,
            &json!({"Arn": "arn:x", "Status": "PENDING_CERTIFICATE"}),
        )
        .expect("a CA");
        assert!(!bare.crl && !bare.ocsp && bare.not_after.is_none());
        assert!(authority(&region, &json!({"Status": "ACTIVE"})).is_none());
    }
}
