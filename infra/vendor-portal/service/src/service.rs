//! What the service does, without HTTP: validations, admin actions, portal
//! sign-in and key actions. Every function takes `now` from its caller (one
//! clock read per request at the edge).

use crate::config::RateLimit;
use crate::model::{
    Customer, CustomerView, KeyState, LastReport, LicenseKey, LogEntry, Outcome, Principal,
    Session, Subscription,
};
use crate::secrets::{self, RandomError, hash_secret};
use crate::store::{StoreError, VendorStore};
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;
use zw_license::schema::{ErrorBody, SchemaError};
use zw_license::token::ISSUER;
use zw_license::{Claims, KeyPair, ValidationRequest, ValidationResponse};

/// How long a signed license is valid: 30 days from the validation.
pub const LICENSE_VALIDITY: Duration = Duration::days(30);
/// How long a validation log line is kept (DynamoDB TTL).
pub const LOG_RETENTION: Duration = Duration::days(90);
/// How long a portal session lasts.
pub const SESSION_LIFETIME: Duration = Duration::hours(8);

/// Why a request was refused; each maps to one HTTP status and one stable
/// `error` code (see [`ApiError::code`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    InvalidBody(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("this license key is not known; check it, or ask your account team for a new one")]
    UnknownKey,
    #[error("this license key was revoked; use the key that replaced it (see the customer portal)")]
    RevokedKey,
    #[error("too many validations for this key; retry after {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error(
        "the licensing service is briefly unavailable; retry later (the cached license keeps working)"
    )]
    Unavailable,
    #[error("the licensing service failed; retry later (the cached license keeps working)")]
    Internal,
}

impl ApiError {
    /// The stable code customers' license clients and alarms key on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidBody(_) => "invalid_body",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::UnknownKey => "unknown_key",
            Self::RevokedKey => "revoked_key",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidBody(_) => 400,
            Self::PayloadTooLarge(_) => 413,
            Self::UnknownKey => 401,
            Self::RevokedKey => 403,
            Self::RateLimited { .. } => 429,
            Self::Unavailable => 503,
            Self::Internal => 500,
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: self.code().to_owned(),
            message: self.to_string(),
        }
    }
}

impl From<SchemaError> for ApiError {
    fn from(e: SchemaError) -> Self {
        match e {
            SchemaError::TooLarge(_) => Self::PayloadTooLarge(e.to_string()),
            other => Self::InvalidBody(other.to_string()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store");
        if e.is_retryable() {
            Self::Unavailable
        } else {
            Self::Internal
        }
    }
}

/// Why an admin or portal action failed.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Random(#[from] RandomError),
    #[error("customer {0} has no key ending in {1:?}")]
    NoSuchKey(String, String),
    #[error("customer {0} has {1} keys ending in {2:?}; revoke by license id in the portal")]
    AmbiguousKey(String, usize, String),
}

/// A key as issued: the only time the full key exists outside its owner.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IssuedKey {
    pub customer_id: String,
    pub license_id: String,
    pub license_key: String,
    pub last4: String,
}

/// The service: the store, the signing key and the settings.
#[derive(Debug)]
pub struct Vendor {
    pub store: Arc<dyn VendorStore>,
    pub signer: Arc<KeyPair>,
    pub clock: Arc<dyn crate::Clock>,
    pub rate_limit: RateLimit,
    /// SHA-256 of the staff token.
    pub staff_token_hash: String,
    /// Whether cookies carry `Secure` (everywhere but plain-http loopback).
    pub secure_cookies: bool,
    /// `zw-vendor serve --capture FILE`: every validation body, as received.
    pub capture: Option<std::path::PathBuf>,
}

impl Vendor {
    /// `POST /v1/licenses/validate`: checks the body and the key, counts the
    /// request against the key's rate limit, and signs a license with the
    /// subscription as it stands. A cancelled or past-due subscription still
    /// gets a license (with that status): the customer side decides.
    pub async fn validate(
        &self,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<ValidationResponse, ApiError> {
        let request = ValidationRequest::parse(body)?;
        let key = self
            .store
            .key_by_hash(&hash_secret(&request.license_key))
            .await?
            .ok_or(ApiError::UnknownKey)?;

        let window = self.rate_limit.window_secs;
        let window_start = now.timestamp() - now.timestamp().rem_euclid(window);
        let allowed = self
            .store
            .count_request(
                &key.license_id,
                window_start,
                self.rate_limit.requests,
                window_start + window + 3600,
            )
            .await?;
        if !allowed {
            let retry_after_secs = u64::try_from(window_start + window - now.timestamp())
                .unwrap_or(1)
                .max(1);
            return Err(ApiError::RateLimited { retry_after_secs });
        }

        let log = |outcome: Outcome| LogEntry {
            customer_id: key.customer_id.clone(),
            license_id: key.license_id.clone(),
            at: now,
            outcome: outcome.as_str().to_owned(),
            product_version: request.product_version.clone(),
            key_hint: key.last4.clone(),
            expires_at: (now + LOG_RETENTION).timestamp(),
        };
        if key.state == KeyState::Revoked {
            self.store
                .record_validation(None, &log(Outcome::Revoked))
                .await?;
            return Err(ApiError::RevokedKey);
        }
        let customer = self.store.customer(&key.customer_id).await?.ok_or_else(|| {
            tracing::error!(license = %key.license_id, customer = %key.customer_id, "key without customer");
            ApiError::Internal
        })?;
        let sub = &customer.subscription;
        let claims = Claims {
            iss: ISSUER.to_owned(),
            sub: key.license_id.clone(),
            customer: customer.id.clone(),
            plan: sub.plan.clone(),
            limits: sub.limits,
            status: sub.status,
            renews_at: sub.renews_at.timestamp(),
            key_hint: key.last4.clone(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: (now + LICENSE_VALIDITY).timestamp(),
        };
        let license = self.signer.sign(&claims).map_err(|e| {
            tracing::error!(error = %e, "signing");
            ApiError::Internal
        })?;
        let report = LastReport {
            customer_id: customer.id.clone(),
            license_id: key.license_id.clone(),
            at: now,
            product_version: request.product_version.clone(),
            counts: request.counts(),
        };
        self.store
            .record_validation(Some(&report), &log(Outcome::Licensed))
            .await?;
        tracing::info!(license = %key.license_id, customer = %customer.id, status = %sub.status, "licensed");
        Ok(ValidationResponse { license })
    }

    /// Signs in with a customer's portal token or the staff token.
    pub async fn sign_in(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(String, Session)>, ActionError> {
        let token = token.trim();
        let principal = if !token.is_empty() && hash_secret(token) == self.staff_token_hash {
            Principal::Staff
        } else if token.starts_with(secrets::PORTAL_TOKEN_PREFIX) {
            match self
                .store
                .customer_for_portal_token(&hash_secret(token))
                .await?
            {
                Some(id) => Principal::Customer(id),
                None => return Ok(None),
            }
        } else {
            return Ok(None);
        };
        let id = secrets::new_token()?;
        let session = Session {
            principal,
            csrf: secrets::new_token()?,
            expires_at: now + SESSION_LIFETIME,
        };
        self.store.put_session(&hash_secret(&id), &session).await?;
        Ok(Some((id, session)))
    }

    /// The session behind a cookie value, if it exists and has not expired
    /// (TTL deletion is lazy, so expiry is checked here too).
    pub async fn session(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Session>, StoreError> {
        if id.is_empty() {
            return Ok(None);
        }
        Ok(self
            .store
            .session(&hash_secret(id))
            .await?
            .filter(|s| s.expires_at > now))
    }

    pub async fn sign_out(&self, id: &str) -> Result<(), StoreError> {
        self.store.delete_session(&hash_secret(id)).await
    }
}

/// Creates a customer with their subscription; returns it and the portal
/// token (shown once; only its hash is kept).
pub async fn create_customer(
    store: &dyn VendorStore,
    name: &str,
    subscription: Subscription,
    now: DateTime<Utc>,
) -> Result<(Customer, String), ActionError> {
    let customer = Customer {
        id: secrets::new_id("cus_")?,
        name: name.to_owned(),
        subscription,
        created_at: now,
    };
    let token = secrets::new_portal_token()?;
    store
        .create_customer(&customer, &hash_secret(&token))
        .await?;
    Ok((customer, token))
}

/// Issues a new key to a customer.
pub async fn issue_key(
    store: &dyn VendorStore,
    customer_id: &str,
    now: DateTime<Utc>,
) -> Result<IssuedKey, ActionError> {
    let license_key = secrets::new_license_key()?;
    let key = LicenseKey {
        license_id: secrets::new_id("lic_")?,
        customer_id: customer_id.to_owned(),
        key_hash: hash_secret(&license_key),
        last4: secrets::last4(&license_key),
        state: KeyState::Active,
        created_at: now,
        revoked_at: None,
    };
    store.put_key(&key).await?;
    Ok(IssuedKey {
        customer_id: customer_id.to_owned(),
        license_id: key.license_id,
        last4: key.last4,
        license_key,
    })
}

/// Revokes the customer's active key ending in `last4`.
pub async fn revoke_by_last4(
    store: &dyn VendorStore,
    customer_id: &str,
    last4: &str,
    now: DateTime<Utc>,
) -> Result<LicenseKey, ActionError> {
    let view = store
        .customer_view(customer_id)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: format!("customer {customer_id}"),
        })?;
    let mut matching: Vec<&LicenseKey> = view.keys.iter().filter(|k| k.last4 == last4).collect();
    if matching.len() > 1 {
        matching.retain(|k| k.state == KeyState::Active);
    }
    match matching.as_slice() {
        [] => Err(ActionError::NoSuchKey(
            customer_id.to_owned(),
            last4.to_owned(),
        )),
        [key] => Ok(store.revoke_key(customer_id, &key.license_id, now).await?),
        many => Err(ActionError::AmbiguousKey(
            customer_id.to_owned(),
            many.len(),
            last4.to_owned(),
        )),
    }
}

/// Replaces a key: a new one is issued first, then the old one revoked, so
/// that a failure half-way leaves the customer with two keys, never none.
pub async fn rotate_key(
    store: &dyn VendorStore,
    customer_id: &str,
    license_id: &str,
    now: DateTime<Utc>,
) -> Result<IssuedKey, ActionError> {
    let view = store
        .customer_view(customer_id)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: format!("customer {customer_id}"),
        })?;
    if !view.keys.iter().any(|k| k.license_id == license_id) {
        return Err(StoreError::NotFound {
            what: format!("license {license_id} of customer {customer_id}"),
        }
        .into());
    }
    let issued = issue_key(store, customer_id, now).await?;
    store.revoke_key(customer_id, license_id, now).await?;
    Ok(issued)
}

/// The staff view: every customer with their keys and last reports.
pub async fn all_customers(store: &dyn VendorStore) -> Result<Vec<CustomerView>, StoreError> {
    let mut views = Vec::new();
    for c in store.customers().await? {
        if let Some(v) = store.customer_view(&c.id).await? {
            views.push(v);
        }
    }
    Ok(views)
}
