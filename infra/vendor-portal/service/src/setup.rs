//! Wiring, done once per process: the SDK configuration, the secrets (in
//! clear locally, from SSM SecureString parameters in Lambda) and the
//! [`Vendor`].

use crate::clock::Clock;
use crate::config::{Config, SecretSource};
use crate::dynamo::DynamoStore;
use crate::secrets::hash_secret;
use crate::service::Vendor;
use aws_config::{BehaviorVersion, SdkConfig};
use std::path::PathBuf;
use std::sync::Arc;
use zw_license::KeyPair;

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(
        "{0} is required to serve: set it (local) or its _PARAMETER variable (an SSM SecureString name)"
    )]
    Missing(&'static str),
    #[error("reading SSM parameter {name}: {detail}")]
    Parameter { name: String, detail: String },
    #[error(
        "the signing key is not a base64 PKCS#8 Ed25519 key (make one with `zw-vendor keygen`): {0}"
    )]
    SigningKey(#[from] zw_license::LicenseError),
}

/// The SDK configuration from the usual sources (`AWS_REGION`,
/// `AWS_ENDPOINT_URL` for moto, credentials chain): loaded once.
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

async fn resolve(sdk: &SdkConfig, source: &SecretSource) -> Result<String, SetupError> {
    match source {
        SecretSource::Value(v) => Ok(v.clone()),
        SecretSource::Parameter(name) => {
            let out = aws_sdk_ssm::Client::new(sdk)
                .get_parameter()
                .name(name)
                .with_decryption(true)
                .send()
                .await
                .map_err(|e| SetupError::Parameter {
                    name: name.clone(),
                    detail: aws_sdk_ssm::error::DisplayErrorContext(&e).to_string(),
                })?;
            out.parameter
                .and_then(|p| p.value)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| SetupError::Parameter {
                    name: name.clone(),
                    detail: "it has no value".into(),
                })
        }
    }
}

/// What differs between the Lambda and the local listener.
#[derive(Debug)]
pub struct ServeOptions {
    /// `Secure` on cookies: false only for plain http on loopback.
    pub secure_cookies: bool,
    pub capture: Option<PathBuf>,
    pub clock: Arc<dyn Clock>,
}

/// Builds the service: the DynamoDB store, the signing key and the staff token.
pub async fn vendor(
    config: &Config,
    sdk: &SdkConfig,
    options: ServeOptions,
) -> Result<Vendor, SetupError> {
    let signing = config
        .signing_key
        .as_ref()
        .ok_or(SetupError::Missing("ZW_VENDOR_SIGNING_KEY"))?;
    let staff = config
        .staff_token
        .as_ref()
        .ok_or(SetupError::Missing("ZW_VENDOR_STAFF_TOKEN"))?;
    let signer = KeyPair::from_base64(&resolve(sdk, signing).await?)?;
    let staff_token = resolve(sdk, staff).await?;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), &config.table);
    Ok(Vendor {
        store: Arc::new(store),
        signer: Arc::new(signer),
        clock: options.clock,
        rate_limit: config.rate_limit,
        staff_token_hash: hash_secret(&staff_token),
        secure_cookies: options.secure_cookies,
        capture: options.capture,
    })
}
