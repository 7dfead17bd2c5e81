//! ACM Private CA certificate authorities in moto, for the private CA
//! family's tests and the demo. moto 5.2.5 creates a CA in
//! `PENDING_CERTIFICATE`, makes it `ACTIVE` with the `NotAfter` of whatever
//! CA certificate is imported, and keeps the status it is given; but it
//! reports every CA in `SHORT_LIVED_CERTIFICATE` usage mode, whatever it was
//! created with, and such a CA needs no revocation: `pca.no-revocation`
//! cannot be produced here (the rule tests cover it).

use crate::certs::ca_certificate;
use crate::error::{Result, TestkitError};
use aws_config::SdkConfig;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use zw_aws::private_ca::{ENDPOINT, TARGET};
use zw_aws::usage::ApiCallCounter;

async fn call(sdk: &SdkConfig, region: &str, action: &'static str, body: Value) -> Result<Value> {
    zw_aws::rpc::json_operation(
        sdk,
        region,
        &ENDPOINT,
        &ApiCallCounter::default(),
        TARGET,
        action,
    )
    .invoke(body)
    .await
    .map_err(|e| TestkitError::Aws {
        operation: action,
        detail: format!("{e:?}"),
    })
}

/// The CAs [`seed`] creates, by ARN.
#[derive(Debug, Clone)]
pub struct PrivateCas {
    /// Created, no CA certificate: `pca.ca-pending-certificate`.
    pub pending: String,
    /// Its certificate ends in 10 days: `pca.ca-expiring` (high).
    pub expiring: String,
    /// Disabled, OCSP on: `pca.ca-disabled`.
    pub disabled: String,
    /// Active for ten years, OCSP on: nothing to say.
    pub healthy: String,
}

async fn create(sdk: &SdkConfig, region: &str, name: &str, ocsp: bool) -> Result<String> {
    let mut body = json!({
        "CertificateAuthorityType": "ROOT",
        "CertificateAuthorityConfiguration": {
            "KeyAlgorithm": "EC_prime256v1",
            "SigningAlgorithm": "SHA256WITHECDSA",
            "Subject": {"CommonName": name}
        }
    });
    if ocsp {
        body["RevocationConfiguration"] = json!({"OcspConfiguration": {"Enabled": true}});
    }
    let out = call(sdk, region, "CreateCertificateAuthority", body).await?;
    out["CertificateAuthorityArn"]
        .as_str()
        .map(str::to_owned)
        .ok_or(TestkitError::MissingField {
            operation: "acm-pca:CreateCertificateAuthority",
            field: "CertificateAuthorityArn",
        })
}

async fn install(
    sdk: &SdkConfig,
    region: &str,
    arn: &str,
    name: &str,
    not_after: DateTime<Utc>,
) -> Result<()> {
    let cert = ca_certificate(name, not_after - Duration::days(365), not_after)?;
    call(
        sdk,
        region,
        "ImportCertificateAuthorityCertificate",
        json!({
            "CertificateAuthorityArn": arn,
            "Certificate": aws_smithy_types::base64::encode(cert.cert_pem.as_bytes()),
        }),
    )
    .await?;
    Ok(())
}

/// Four CAs in `region`, one per state the family judges.
pub async fn seed(sdk: &SdkConfig, region: &str, now: DateTime<Utc>) -> Result<PrivateCas> {
    let pending = create(sdk, region, "Pending Issuing CA", false).await?;
    let expiring = create(sdk, region, "Expiring Root CA", false).await?;
    install(
        sdk,
        region,
        &expiring,
        "Expiring Root CA",
        now + Duration::days(10) + Duration::hours(1),
    )
    .await?;
    let disabled = create(sdk, region, "Retired Root CA", true).await?;
    install(
        sdk,
        region,
        &disabled,
        "Retired Root CA",
        now + Duration::days(3650),
    )
    .await?;
    set_status(sdk, region, &disabled, "DISABLED").await?;
    let healthy = create(sdk, region, "Internal Root CA", true).await?;
    install(
        sdk,
        region,
        &healthy,
        "Internal Root CA",
        now + Duration::days(3650),
    )
    .await?;
    Ok(PrivateCas {
        pending,
        expiring,
        disabled,
        healthy,
    })
}

/// Sets the CA `arn`'s status (`ACTIVE`, `DISABLED`).
pub async fn set_status(sdk: &SdkConfig, region: &str, arn: &str, status: &str) -> Result<()> {
    call(
        sdk,
        region,
        "UpdateCertificateAuthority",
        json!({"CertificateAuthorityArn": arn, "Status": status}),
    )
    .await?;
    Ok(())
}
