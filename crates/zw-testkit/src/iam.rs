//! IAM server certificates in moto, for the IAM certificate family's tests
//! and the demo. moto keeps the body it is given (its metadata's
//! `Expiration` is a fixed 2012 date, which is why the family reads the
//! body), and a load balancer listener can name the certificate's ARN.

use crate::certs::self_signed;
use crate::error::{Result, TestkitError};
use aws_config::SdkConfig;
use chrono::{DateTime, Duration, Utc};
use zw_aws::usage::ApiCallCounter;

async fn call(
    sdk: &SdkConfig,
    action: &'static str,
    params: Vec<(&'static str, String)>,
) -> Result<zw_aws::iam::Answer> {
    zw_aws::iam::operation(sdk, &ApiCallCounter::default(), action)
        .invoke(params)
        .await
        .map_err(|e| TestkitError::Aws {
            operation: action,
            detail: format!("{e:?}"),
        })
}

/// Uploads a self-signed certificate for `domain` ending at `not_after`
/// under `name`; returns its ARN.
pub async fn upload(
    sdk: &SdkConfig,
    name: &str,
    domain: &str,
    not_after: DateTime<Utc>,
) -> Result<String> {
    let cert = self_signed(domain, &[], not_after - Duration::days(400), not_after)?;
    let answer = call(
        sdk,
        "UploadServerCertificate",
        vec![
            ("ServerCertificateName", name.to_owned()),
            ("CertificateBody", cert.cert_pem),
            ("PrivateKey", cert.key_pem),
        ],
    )
    .await?;
    answer
        .fields
        .get("Arn")
        .cloned()
        .ok_or(TestkitError::MissingField {
            operation: "iam:UploadServerCertificate",
            field: "Arn",
        })
}

/// Deletes the certificate `name`.
pub async fn delete(sdk: &SdkConfig, name: &str) -> Result<()> {
    call(
        sdk,
        "DeleteServerCertificate",
        vec![("ServerCertificateName", name.to_owned())],
    )
    .await?;
    Ok(())
}
