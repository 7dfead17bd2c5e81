//! Wiring, done once per process: the SDK configuration, the signing key
//! (in clear locally, from an SSM SecureString parameter in Lambda), the
//! staff user pool and the [`Vendor`].

use crate::clock::Clock;
use crate::config::{Config, SecretSource};
use crate::dynamo::DynamoStore;
use crate::service::{Limits, Vendor};
use crate::staff::StaffDirectory;
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
    #[error(
        "ZW_VENDOR_STAFF_USER_POOL_ID and ZW_VENDOR_STAFF_CLIENT_ID are required here: staff sign in through the Cognito user pool (the stack's outputs StaffUserPoolId and StaffClientId)"
    )]
    NoStaffPool,
    #[error(
        "a staff user pool is configured but this build has no staff sign-in: build zw-vendor with its default `staff` feature"
    )]
    StaffNotBuilt,
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
    /// Refuse to start without a staff user pool (the Lambda: production
    /// staff sign-in is never switched off by a missing variable).
    pub require_staff_pool: bool,
}

/// Builds the service: the DynamoDB store, the signing key and the staff pool.
pub async fn vendor(
    config: &Config,
    sdk: &SdkConfig,
    options: ServeOptions,
) -> Result<Vendor, SetupError> {
    let signing = config
        .signing_key
        .as_ref()
        .ok_or(SetupError::Missing("ZW_VENDOR_SIGNING_KEY"))?;
    let signer = KeyPair::from_base64(&resolve(sdk, signing).await?)?;
    let staff: Option<Arc<dyn StaffDirectory>> = match &config.staff_pool {
        #[cfg(feature = "staff")]
        Some(pool) => Some(Arc::new(crate::staff::CognitoStaff::new(
            aws_sdk_cognitoidentityprovider::Client::new(sdk),
            &pool.user_pool_id,
            &pool.client_id,
        ))),
        #[cfg(not(feature = "staff"))]
        Some(_) => return Err(SetupError::StaffNotBuilt),
        None if options.require_staff_pool => return Err(SetupError::NoStaffPool),
        None => {
            tracing::warn!("no staff user pool configured: staff cannot sign in to the portal");
            None
        }
    };
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), &config.table);
    Ok(Vendor {
        store: Arc::new(store),
        signer: Arc::new(signer),
        clock: options.clock,
        staff,
        limits: Limits {
            rate_limit: config.rate_limit,
            unknown_key_limit: config.unknown_key_limit,
            sign_in_limit: config.sign_in_limit,
            max_active_keys: config.max_active_keys,
        },
        secure_cookies: options.secure_cookies,
        capture: options.capture,
    })
}
