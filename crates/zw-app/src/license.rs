//! Licensing for the CLI and the functions alike: the standing every scan
//! starts with, and the `license check | status | sent` use cases.

use crate::App;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::time::Duration;
use zw_aws::SdkConfig;
use zw_aws::document::SsmDocument;
use zw_aws::license::{DynamoLicenseStore, HttpVendor};
use zw_core::PortError;
use zw_core::config::LicenseConfig;
use zw_core::license::Standing;
use zw_core::ports::DocumentSource;
use zw_license::check::{CheckError, Checked, LicenseStore, SentRecord};
use zw_license::{Claims, LicenseError, PublicKey};

/// How long one validation may take, connect to last byte.
const VENDOR_TIMEOUT: Duration = Duration::from_secs(10);

/// The product version sent with the key.
pub const PRODUCT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Licensing's adapters, built once with the rest of the `App`.
#[derive(Debug, Clone)]
pub struct LicenseAdapters {
    /// What licenses are verified with: `ZW_LICENSE_PUBLIC_KEY`, else the
    /// compiled-in vendor key. A bad `ZW_LICENSE_PUBLIC_KEY` fails the
    /// configuration like any bad setting; a broken compiled-in key (a
    /// broken build, which a test rules out) is kept as its error, so that
    /// every scan reports `license.invalid` with the reason and the free
    /// tier keeps working, and `license check` sends nothing.
    pub public_key: Result<PublicKey, LicenseError>,
    /// None without a table: no cached license, no audit trail.
    pub store: Option<DynamoLicenseStore>,
    /// The SSM parameter holding the key (Lambda).
    pub key_parameter: Option<SsmDocument>,
}

impl LicenseAdapters {
    pub(crate) fn new(
        cfg: &LicenseConfig,
        sdk: &SdkConfig,
        services: &zw_aws::Services,
    ) -> Result<Self, LicenseError> {
        let public_key = match &cfg.public_key {
            Some(k) => Ok(PublicKey::from_base64url(k)?),
            None => PublicKey::vendor(),
        };
        Ok(Self {
            public_key,
            store: services.store.as_ref().map(|s| {
                DynamoLicenseStore::with_client(s.client().clone(), s.table().to_owned())
                    .keeping_sent(cfg.sent_retention_days)
            }),
            key_parameter: cfg
                .key_parameter
                .as_ref()
                .map(|p| SsmDocument::new(sdk, p.clone(), &services.calls)),
        })
    }
}

/// Why a license command could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum LicenseCommandError {
    #[error(
        "the license commands need the findings table (the cached license and the audit trail live there): pass --table or set ZW_TABLE_NAME"
    )]
    NoTable,
    #[error(transparent)]
    Check(#[from] CheckError),
    #[error("{0}; nothing was sent")]
    Key(LicenseError),
    #[error(transparent)]
    Port(#[from] PortError),
}

/// `zonewarden license status`.
#[derive(Debug, Clone, Serialize)]
pub struct LicenseStatus {
    /// Whether `ZW_LICENSE_ENDPOINT` is set.
    pub configured: bool,
    pub fleet_visibility: bool,
    pub grace_days: u32,
    pub standing: Standing,
    /// The cached license's claims, when it verifies (the key's last four
    /// characters only).
    pub license: Option<Claims>,
    /// The newest attempt to validate.
    pub last_sent: Option<SentRecord>,
}

impl App {
    /// How the license stands at `now`, from the cached license. Err when
    /// the cache cannot be read: the scan then leaves every license finding
    /// as it is and says why.
    pub async fn standing(&self, now: DateTime<Utc>) -> Result<Standing, PortError> {
        let cfg = &self.config.license;
        let cached = match &self.license.store {
            Some(store) => store.cached_license().await?,
            None => None,
        };
        let public_key = match &self.license.public_key {
            Ok(k) => k,
            Err(why) => {
                return Ok(zw_license::standing::unverifiable(
                    cfg.endpoint.is_some(),
                    cached.is_some(),
                    why,
                ));
            }
        };
        Ok(zw_license::evaluate(
            &zw_license::Setup {
                configured: cfg.endpoint.is_some(),
                cached: cached.as_deref(),
                public_key,
                grace_days: cfg.grace_days,
            },
            now,
        ))
    }

    async fn license_key(&self) -> Result<String, LicenseCommandError> {
        if let Some(k) = &self.config.license.key {
            return Ok(k.clone());
        }
        match &self.license.key_parameter {
            Some(p) => match p.fetch().await? {
                Some(k) => Ok(k.trim().to_owned()),
                None => Err(CheckError::NoKey.into()),
            },
            None => Err(CheckError::NoKey.into()),
        }
    }

    /// `license check`: validate now. Sends nothing unless an endpoint is
    /// configured and a well-formed key is found.
    pub async fn license_check(&self, now: DateTime<Utc>) -> Result<Checked, LicenseCommandError> {
        let cfg = &self.config.license;
        let Some(endpoint) = &cfg.endpoint else {
            return Err(CheckError::NotConfigured.into());
        };
        // No answer could be verified: send nothing.
        let public_key = self
            .license
            .public_key
            .as_ref()
            .map_err(|why| LicenseCommandError::Key(why.clone()))?;
        let store = self
            .license
            .store
            .as_ref()
            .ok_or(LicenseCommandError::NoTable)?;
        let key = self.license_key().await?;
        let counts = if cfg.fleet_visibility {
            Some(store.fleet_counts(now).await?)
        } else {
            None
        };
        let vendor = HttpVendor::new(endpoint, VENDOR_TIMEOUT)?;
        Ok(zw_license::check::check(
            store,
            &vendor,
            &key,
            PRODUCT_VERSION,
            counts,
            public_key,
            cfg.grace_days,
            now,
        )
        .await?)
    }

    /// `license status`.
    pub async fn license_status(
        &self,
        now: DateTime<Utc>,
    ) -> Result<LicenseStatus, LicenseCommandError> {
        let cfg = &self.config.license;
        let store = self.license.store.as_ref();
        let cached = match store {
            Some(s) => s.cached_license().await?,
            None => None,
        };
        let last_sent = match store {
            Some(s) => s.sent(1).await?.into_iter().next(),
            None => None,
        };
        Ok(LicenseStatus {
            configured: cfg.endpoint.is_some(),
            fleet_visibility: cfg.fleet_visibility,
            grace_days: cfg.grace_days,
            standing: self.standing(now).await?,
            license: cached.and_then(|t| {
                self.license
                    .public_key
                    .as_ref()
                    .ok()
                    .and_then(|k| k.verify(&t).ok())
            }),
            last_sent,
        })
    }

    /// `license sent`: the newest `limit` attempts, newest first.
    pub async fn license_sent(&self, limit: usize) -> Result<Vec<SentRecord>, LicenseCommandError> {
        let store = self
            .license
            .store
            .as_ref()
            .ok_or(LicenseCommandError::NoTable)?;
        Ok(store.sent(limit).await?)
    }
}
