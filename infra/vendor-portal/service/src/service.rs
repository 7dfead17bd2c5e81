//! What the service does, without HTTP: validations, admin actions, portal
//! sign-in and key actions. Every function takes `now` from its caller (one
//! clock read per request at the edge), and every action a person takes is
//! written with its audit line (see [`crate::store`]).

use crate::config::RateLimit;
use crate::model::{
    Actor, AuditAction, AuditEntry, Customer, CustomerView, KeyState, LastReport, LicenseKey,
    LogEntry, Outcome, PendingSignIn, PortalToken, Principal, Session, StaffStep, Subscription,
};
use crate::secrets::{self, RandomError, hash_secret};
use crate::source::Source;
use crate::staff::{AuthStep, StaffAuthError, StaffDirectory};
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
/// How long a portal audit line is kept (DynamoDB TTL).
pub const AUDIT_RETENTION: Duration = Duration::days(365);
/// How long a customer's portal session lasts.
pub const SESSION_LIFETIME: Duration = Duration::hours(8);
/// How long a staff session lasts: short, because staff can change every
/// customer's keys and subscription.
pub const STAFF_SESSION_LIFETIME: Duration = Duration::hours(1);
/// How long a staff sign-in may wait between its steps (Cognito's own
/// session lasts 3 minutes; a little more here so its expiry is Cognito's).
pub const SIGN_IN_STEP_LIFETIME: Duration = Duration::minutes(5);
/// The fixed window of the per-source limits, in seconds.
pub const SOURCE_WINDOW_SECS: i64 = 60;
/// The longest user name sent to the pool or written to the audit log.
pub const MAX_USERNAME_CHARS: usize = 128;

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
        "too many unknown license keys from this address; retry after {retry_after_secs} s with the right key"
    )]
    SourceLimited { retry_after_secs: u64 },
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
            // One code for both limits: a client backs off the same way.
            Self::RateLimited { .. } | Self::SourceLimited { .. } => "rate_limited",
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
            Self::RateLimited { .. } | Self::SourceLimited { .. } => 429,
            Self::Unavailable => 503,
            Self::Internal => 500,
        }
    }

    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::RateLimited { retry_after_secs } | Self::SourceLimited { retry_after_secs } => {
                Some(*retry_after_secs)
            }
            _ => None,
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
    #[error("no customer {0} (see `zw-vendor customers list`)")]
    NoSuchCustomer(String),
    #[error("customer {0} has no key ending in {1:?}")]
    NoSuchKey(String, String),
    #[error("customer {0} has {1} keys ending in {2:?}; revoke by license id in the portal")]
    AmbiguousKey(String, usize, String),
    #[error("license {0} is revoked: a revoked key is never rotated (issue a new key instead)")]
    KeyRevoked(String),
    #[error(
        "customer {customer} already has {max} active keys, the most allowed; revoke one first"
    )]
    TooManyKeys { customer: String, max: u32 },
    #[error("the staff user pool could not be asked: {0}")]
    Staff(String),
}

/// A key as issued: the only time the full key exists outside its owner.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IssuedKey {
    pub customer_id: String,
    pub license_id: String,
    pub license_key: String,
    pub last4: String,
}

/// The limits the service enforces (from [`crate::Config`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Validations per key and window.
    pub rate_limit: RateLimit,
    /// Unknown keys per source address and minute.
    pub unknown_key_limit: u32,
    /// Failed sign-ins per source address and minute.
    pub sign_in_limit: u32,
    /// Active keys per customer.
    pub max_active_keys: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            rate_limit: RateLimit::default(),
            unknown_key_limit: crate::config::DEFAULT_UNKNOWN_KEY_LIMIT,
            sign_in_limit: crate::config::DEFAULT_SIGN_IN_LIMIT,
            max_active_keys: crate::config::DEFAULT_MAX_ACTIVE_KEYS,
        }
    }
}

/// The service: the store, the signing key, the staff pool and the settings.
#[derive(Debug)]
pub struct Vendor {
    pub store: Arc<dyn VendorStore>,
    pub signer: Arc<KeyPair>,
    pub clock: Arc<dyn crate::Clock>,
    /// The staff user pool; `None`: staff sign-in is switched off (local
    /// runs without a pool).
    pub staff: Option<Arc<dyn StaffDirectory>>,
    pub limits: Limits,
    /// Whether cookies carry `Secure` (everywhere but plain-http loopback).
    pub secure_cookies: bool,
    /// `zw-vendor serve --capture FILE`: every validation body, as received.
    pub capture: Option<std::path::PathBuf>,
}

/// A fixed-window slot taken for a source address.
#[derive(Debug, Clone)]
struct SourceSlot {
    bucket: String,
    window_start: i64,
}

/// How a sign-in attempt ended.
#[derive(Debug)]
pub enum SignIn {
    /// Signed in: the cookie value and the session.
    Done { cookie: String, session: Session },
    /// A staff sign-in needs another step: the cookie naming it, the step
    /// and, for an authenticator set-up, the secret to show (once).
    Next {
        cookie: String,
        pending: PendingSignIn,
        mfa_secret: Option<String>,
    },
    /// The same step again with a message (a new password the pool's policy
    /// refused, a code that is not 6 digits): nothing was used up.
    Again {
        pending: PendingSignIn,
        message: String,
    },
    /// Refused, with what to tell the person (never which part was wrong).
    Refused { message: &'static str },
    /// Too many failed sign-ins from this address.
    Limited { retry_after_secs: u64 },
}

/// What a staff sign-in step carries from its form.
#[derive(Debug, Default)]
pub struct StepInput {
    pub new_password: String,
    pub code: String,
}

const REFUSED_TOKEN: &str = "That token is not valid. Check it and try again.";
const REFUSED_PASSWORD: &str = "The e-mail address or password is not right, or the account is disabled or locked after too many attempts.";
const REFUSED_CODE: &str = "That code did not match. Sign in again (if you were setting up your authenticator, remove the entry you just added first).";
const REFUSED_EXPIRED: &str =
    "This sign-in took too long or was already used. Sign in again from the start.";
const REFUSED_NO_MFA: &str = "Staff sign-in requires an authenticator app, and the staff user pool did not ask for one. Ask an administrator to check the pool's MFA setting.";
const REFUSED_THROTTLED: &str = "Too many sign-in attempts right now. Wait a minute and try again.";
const REFUSED_UNSUPPORTED: &str = "The staff user pool asked for a sign-in step this portal does not support. Ask an administrator to check the pool's settings.";

/// An audit line.
pub fn audit(
    actor: Actor,
    action: AuditAction,
    customer_id: Option<&str>,
    detail: impl Into<String>,
    source: &Source,
    now: DateTime<Utc>,
) -> AuditEntry {
    AuditEntry {
        at: now,
        actor,
        action,
        customer_id: customer_id.map(str::to_owned),
        detail: detail.into(),
        source: source.address(),
        expires_at: (now + AUDIT_RETENTION).timestamp(),
    }
}

/// What was typed as a user name, fit for the pool and the audit log: at
/// most [`MAX_USERNAME_CHARS`] characters, no control characters.
fn clean_username(raw: &str) -> String {
    raw.trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_USERNAME_CHARS)
        .collect()
}

fn is_code(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

impl Vendor {
    /// `POST /v1/licenses/validate`: checks the body and the key, counts the
    /// request against the key's rate limit, and signs a license with the
    /// subscription as it stands. A cancelled or past-due subscription still
    /// gets a license (with that status): the customer side decides.
    ///
    /// Before the key is looked up, the request takes a slot of its source
    /// address's unknown-key window; a key that turns out to exist gives it
    /// back. Only unknown keys use the window up, and once it is full the
    /// address gets 429 without any lookup, whatever key it sends.
    pub async fn validate(
        &self,
        body: &[u8],
        source: &Source,
        now: DateTime<Utc>,
    ) -> Result<ValidationResponse, ApiError> {
        let request = ValidationRequest::parse(body)?;
        let slot = match self
            .take_source_slot("KEY", source, self.limits.unknown_key_limit, now)
            .await?
        {
            Ok(slot) => slot,
            Err(retry_after_secs) => return Err(ApiError::SourceLimited { retry_after_secs }),
        };
        let Some(key) = self
            .store
            .key_by_hash(&hash_secret(&request.license_key))
            .await?
        else {
            return Err(ApiError::UnknownKey);
        };
        self.give_back(&slot).await;

        let rate = self.limits.rate_limit;
        let window_start = now.timestamp() - now.timestamp().rem_euclid(rate.window_secs);
        let allowed = self
            .store
            .take_slot(
                &format!("RATE#{}", key.license_id),
                window_start,
                rate.requests,
                window_start + rate.window_secs + 3600,
            )
            .await?;
        if !allowed {
            let retry_after_secs = u64::try_from(window_start + rate.window_secs - now.timestamp())
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

    /// Takes a slot of the source's window in `scope`; `Err(retry after)`
    /// when the window is full.
    async fn take_source_slot(
        &self,
        scope: &str,
        source: &Source,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Result<SourceSlot, u64>, StoreError> {
        let window_start = now.timestamp() - now.timestamp().rem_euclid(SOURCE_WINDOW_SECS);
        let slot = SourceSlot {
            bucket: format!("SRC#{scope}#{}", source.bucket()),
            window_start,
        };
        let taken = self
            .store
            .take_slot(
                &slot.bucket,
                window_start,
                limit,
                window_start + SOURCE_WINDOW_SECS + 3600,
            )
            .await?;
        if taken {
            Ok(Ok(slot))
        } else {
            Ok(Err(u64::try_from(
                window_start + SOURCE_WINDOW_SECS - now.timestamp(),
            )
            .unwrap_or(1)
            .max(1)))
        }
    }

    /// Returns a slot; a failure only makes the limit stricter for the rest
    /// of the window, so it is logged, not raised.
    async fn give_back(&self, slot: &SourceSlot) {
        if let Err(e) = self
            .store
            .return_slot(&slot.bucket, slot.window_start)
            .await
        {
            tracing::warn!(error = %e, bucket = %slot.bucket, "returning a source slot");
        }
    }

    /// Opens a session for `principal`, with the audit line of the sign-in.
    async fn open_session(
        &self,
        principal: Principal,
        detail: &str,
        source: &Source,
        now: DateTime<Utc>,
    ) -> Result<SignIn, ActionError> {
        let (actor, customer, lifetime) = match &principal {
            Principal::Customer(id) => (
                Actor::Customer(id.clone()),
                Some(id.clone()),
                SESSION_LIFETIME,
            ),
            Principal::Staff(m) => (Actor::Staff(m.clone()), None, STAFF_SESSION_LIFETIME),
        };
        let cookie = secrets::new_token()?;
        let session = Session {
            principal,
            csrf: secrets::new_token()?,
            issued_at: now,
            expires_at: now + lifetime,
        };
        let entry = audit(
            actor,
            AuditAction::SignIn,
            customer.as_deref(),
            detail,
            source,
            now,
        );
        self.store
            .put_session(&hash_secret(&cookie), &session, &entry)
            .await?;
        Ok(SignIn::Done { cookie, session })
    }

    async fn sign_in_failed(
        &self,
        actor: Actor,
        detail: String,
        source: &Source,
        now: DateTime<Utc>,
    ) -> Result<(), ActionError> {
        let entry = audit(actor, AuditAction::SignInFailed, None, detail, source, now);
        self.store.append_audit(&entry).await?;
        Ok(())
    }

    /// Signs a customer in with their portal token.
    pub async fn sign_in_customer(
        &self,
        token: &str,
        source: &Source,
        now: DateTime<Utc>,
    ) -> Result<SignIn, ActionError> {
        let slot = match self
            .take_source_slot("SIGNIN", source, self.limits.sign_in_limit, now)
            .await?
        {
            Ok(slot) => slot,
            Err(retry_after_secs) => return Ok(SignIn::Limited { retry_after_secs }),
        };
        let token = token.trim();
        let customer = match self.customer_for_token(token).await? {
            Some(c) => c,
            None => {
                self.sign_in_failed(
                    Actor::Unidentified(String::new()),
                    "portal token not recognised".into(),
                    source,
                    now,
                )
                .await?;
                return Ok(SignIn::Refused {
                    message: REFUSED_TOKEN,
                });
            }
        };
        self.give_back(&slot).await;
        self.open_session(Principal::Customer(customer), "portal token", source, now)
            .await
    }

    /// The customer a portal token signs in as, if it is their current one.
    async fn customer_for_token(&self, token: &str) -> Result<Option<String>, StoreError> {
        if !token.starts_with(secrets::PORTAL_TOKEN_PREFIX) {
            return Ok(None);
        }
        let hash = hash_secret(token);
        let Some(id) = self.store.customer_for_portal_token(&hash).await? else {
            return Ok(None);
        };
        let Some(customer) = self.store.customer(&id).await? else {
            return Ok(None);
        };
        Ok(match customer.portal_token {
            PortalToken::Unrecorded => Some(id),
            PortalToken::Current(current) if secrets::same_secret(&current, &hash) => Some(id),
            PortalToken::Current(_) | PortalToken::Revoked => None,
        })
    }

    fn directory(&self) -> Option<&Arc<dyn StaffDirectory>> {
        self.staff.as_ref()
    }

    /// First step of a staff sign-in: e-mail address and password.
    pub async fn sign_in_staff(
        &self,
        username: &str,
        password: &str,
        source: &Source,
        now: DateTime<Utc>,
    ) -> Result<SignIn, ActionError> {
        let Some(directory) = self.directory().cloned() else {
            return Ok(SignIn::Refused {
                message: REFUSED_UNSUPPORTED,
            });
        };
        let slot = match self
            .take_source_slot("SIGNIN", source, self.limits.sign_in_limit, now)
            .await?
        {
            Ok(slot) => slot,
            Err(retry_after_secs) => return Ok(SignIn::Limited { retry_after_secs }),
        };
        let username = clean_username(username);
        if username.is_empty() || password.is_empty() {
            self.sign_in_failed(
                Actor::Unidentified(username),
                "empty e-mail address or password".into(),
                source,
                now,
            )
            .await?;
            return Ok(SignIn::Refused {
                message: REFUSED_PASSWORD,
            });
        }
        let step = directory.sign_in(&username, password).await;
        if step.is_ok() {
            // The password was right: not a failed sign-in for the limit.
            self.give_back(&slot).await;
        }
        self.after_step(directory.as_ref(), &username, None, step, source, now)
            .await
    }

    /// A later step of a staff sign-in, named by its cookie.
    pub async fn staff_step(
        &self,
        cookie: &str,
        csrf: &str,
        input: &StepInput,
        source: &Source,
        now: DateTime<Utc>,
    ) -> Result<Option<SignIn>, ActionError> {
        let Some(directory) = self.directory().cloned() else {
            return Ok(Some(SignIn::Refused {
                message: REFUSED_UNSUPPORTED,
            }));
        };
        if cookie.is_empty() {
            return Ok(Some(SignIn::Refused {
                message: REFUSED_EXPIRED,
            }));
        }
        let hash = hash_secret(cookie);
        let pending = match self.store.pending_sign_in(&hash).await? {
            Some(p) if p.expires_at > now => p,
            _ => {
                return Ok(Some(SignIn::Refused {
                    message: REFUSED_EXPIRED,
                }));
            }
        };
        // A form without this step's token: the caller answers 403.
        if csrf.is_empty() || !secrets::same_secret(csrf, &pending.csrf) {
            return Ok(None);
        }
        let username = pending.username.clone();
        let step = match pending.step {
            StaffStep::NewPassword => {
                if input.new_password.is_empty() {
                    return Ok(Some(SignIn::Again {
                        pending,
                        message: "Choose a new password.".into(),
                    }));
                }
                match directory
                    .new_password(&username, &pending.cognito_session, &input.new_password)
                    .await
                {
                    // The pool's own words on what the password lacks; the
                    // step stays open.
                    Err(StaffAuthError::WeakPassword(message)) => {
                        return Ok(Some(SignIn::Again { pending, message }));
                    }
                    other => other,
                }
            }
            StaffStep::MfaSetup | StaffStep::MfaCode => {
                let code = input.code.trim();
                if !is_code(code) {
                    return Ok(Some(SignIn::Again {
                        pending,
                        message: "Enter the 6-digit code your authenticator app shows.".into(),
                    }));
                }
                if pending.step == StaffStep::MfaSetup {
                    directory
                        .finish_mfa_setup(&username, &pending.cognito_session, code)
                        .await
                } else {
                    directory
                        .mfa_code(&username, &pending.cognito_session, code)
                        .await
                }
            }
        };
        // Each Cognito session answers once: this step is used up.
        self.store.delete_pending_sign_in(&hash).await?;
        self.after_step(
            directory.as_ref(),
            &username,
            Some(pending.step),
            step,
            source,
            now,
        )
        .await
        .map(Some)
    }

    /// What the pool's answer to a step means: the next step, a session, or
    /// a refusal (audited).
    async fn after_step(
        &self,
        directory: &dyn StaffDirectory,
        username: &str,
        from: Option<StaffStep>,
        step: Result<AuthStep, StaffAuthError>,
        source: &Source,
        now: DateTime<Utc>,
    ) -> Result<SignIn, ActionError> {
        let what = match from {
            None => "password",
            Some(StaffStep::NewPassword) => "new password",
            Some(StaffStep::MfaSetup) => "authenticator set-up",
            Some(StaffStep::MfaCode) => "authenticator code",
        };
        let failed = move |detail: String, message: &'static str| async move {
            self.sign_in_failed(
                Actor::Unidentified(username.to_owned()),
                detail,
                source,
                now,
            )
            .await?;
            Ok::<SignIn, ActionError>(SignIn::Refused { message })
        };
        let (session, next) = match step {
            Ok(AuthStep::SignedIn(member)) => {
                // Only a sign-in that passed an authenticator step opens a
                // session: a pool that stopped asking for MFA signs nobody in.
                if matches!(from, Some(StaffStep::MfaSetup | StaffStep::MfaCode)) {
                    let detail = if from == Some(StaffStep::MfaSetup) {
                        "password and a newly registered authenticator"
                    } else {
                        "password and authenticator code"
                    };
                    return self
                        .open_session(Principal::Staff(member), detail, source, now)
                        .await;
                }
                tracing::error!(user = %member.email, "the staff pool issued tokens without MFA; refused");
                return failed(
                    format!("{what} accepted but the pool asked for no MFA: refused"),
                    REFUSED_NO_MFA,
                )
                .await;
            }
            Ok(AuthStep::NewPassword { session }) => (session, StaffStep::NewPassword),
            Ok(AuthStep::MfaSetup { session }) => (session, StaffStep::MfaSetup),
            Ok(AuthStep::MfaCode { session }) => (session, StaffStep::MfaCode),
            Err(StaffAuthError::Refused(m)) => {
                let message = if from.is_none() {
                    REFUSED_PASSWORD
                } else {
                    REFUSED_EXPIRED
                };
                return failed(format!("{what} refused: {m}"), message).await;
            }
            Err(StaffAuthError::WrongCode(m)) => {
                return failed(format!("{what} refused: {m}"), REFUSED_CODE).await;
            }
            Err(StaffAuthError::WeakPassword(m)) => {
                return failed(format!("{what} refused: {m}"), REFUSED_PASSWORD).await;
            }
            Err(StaffAuthError::Throttled(m)) => {
                return failed(format!("{what}: Cognito throttled: {m}"), REFUSED_THROTTLED).await;
            }
            Err(StaffAuthError::UnexpectedChallenge(c)) => {
                return failed(
                    format!("{what}: unsupported challenge {c}"),
                    REFUSED_UNSUPPORTED,
                )
                .await;
            }
            Err(StaffAuthError::Unavailable(e)) => return Err(ActionError::Staff(e)),
        };
        let (session, mfa_secret) = if next == StaffStep::MfaSetup {
            match directory.begin_mfa_setup(&session).await {
                Ok(s) => (s.session, Some(s.secret)),
                Err(StaffAuthError::Unavailable(e)) => return Err(ActionError::Staff(e)),
                Err(e) => {
                    return failed(format!("authenticator set-up: {e}"), REFUSED_EXPIRED).await;
                }
            }
        } else {
            (session, None)
        };
        let cookie = secrets::new_token()?;
        let pending = PendingSignIn {
            username: username.to_owned(),
            cognito_session: session,
            step: next,
            csrf: secrets::new_token()?,
            expires_at: now + SIGN_IN_STEP_LIFETIME,
        };
        self.store
            .put_pending_sign_in(&hash_secret(&cookie), &pending)
            .await?;
        Ok(SignIn::Next {
            cookie,
            pending,
            mfa_secret,
        })
    }

    /// The session behind a cookie value, if it exists, has not expired
    /// (TTL deletion is lazy, so expiry is checked here too) and was not
    /// ended since: a customer's by a portal token revocation or re-issue, a
    /// staff member's by `zw-vendor staff disable`.
    pub async fn session(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Session>, StoreError> {
        if id.is_empty() {
            return Ok(None);
        }
        let Some(session) = self
            .store
            .session(&hash_secret(id))
            .await?
            .filter(|s| s.expires_at > now)
        else {
            return Ok(None);
        };
        let not_before = match &session.principal {
            Principal::Customer(id) => match self.store.customer(id).await? {
                Some(c) => c.sessions_not_before,
                None => return Ok(None),
            },
            Principal::Staff(m) => self.store.staff_sessions_not_before(&m.sub).await?,
        };
        // A session opened in the very millisecond of the revocation is
        // ended too: it may have been opened with what was revoked.
        Ok(match not_before {
            Some(t) if session.issued_at <= t => None,
            _ => Some(session),
        })
    }

    pub async fn sign_out(
        &self,
        id: &str,
        session: &Session,
        source: &Source,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (actor, customer) = actor_of(&session.principal);
        let entry = audit(
            actor,
            AuditAction::SignOut,
            customer.as_deref(),
            "",
            source,
            now,
        );
        self.store.delete_session(&hash_secret(id), &entry).await
    }
}

/// The actor behind a session, and the customer it concerns.
pub fn actor_of(principal: &Principal) -> (Actor, Option<String>) {
    match principal {
        Principal::Customer(id) => (Actor::Customer(id.clone()), Some(id.clone())),
        Principal::Staff(m) => (Actor::Staff(m.clone()), None),
    }
}

/// Creates a customer with their subscription; returns it and the portal
/// token (shown once; only its hash is kept).
pub async fn create_customer(
    store: &dyn VendorStore,
    name: &str,
    subscription: Subscription,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(Customer, String), ActionError> {
    let token = secrets::new_portal_token()?;
    let hash = hash_secret(&token);
    let customer = Customer {
        id: secrets::new_id("cus_")?,
        name: name.to_owned(),
        subscription,
        created_at: now,
        portal_token: PortalToken::Current(hash.clone()),
        sessions_not_before: None,
    };
    let entry = audit(
        actor,
        AuditAction::CustomerCreated,
        Some(&customer.id),
        format!(
            "{} ({}, {})",
            customer.name,
            customer.subscription.plan,
            customer.subscription.status.as_str()
        ),
        &Source::none(),
        now,
    );
    store.create_customer(&customer, &hash, &entry).await?;
    Ok((customer, token))
}

async fn view(store: &dyn VendorStore, customer_id: &str) -> Result<CustomerView, ActionError> {
    store
        .customer_view(customer_id)
        .await?
        .ok_or_else(|| ActionError::NoSuchCustomer(customer_id.to_owned()))
}

fn active_count(view: &CustomerView) -> u32 {
    u32::try_from(
        view.keys
            .iter()
            .filter(|k| k.state == KeyState::Active)
            .count(),
    )
    .unwrap_or(u32::MAX)
}

fn new_key(customer_id: &str, now: DateTime<Utc>) -> Result<(LicenseKey, String), RandomError> {
    let license_key = secrets::new_license_key()?;
    Ok((
        LicenseKey {
            license_id: secrets::new_id("lic_")?,
            customer_id: customer_id.to_owned(),
            key_hash: hash_secret(&license_key),
            last4: secrets::last4(&license_key),
            state: KeyState::Active,
            created_at: now,
            revoked_at: None,
        },
        license_key,
    ))
}

/// Issues a new key to a customer, refused when they already hold
/// `max_active` active keys.
pub async fn issue_key(
    store: &dyn VendorStore,
    customer_id: &str,
    max_active: u32,
    actor: Actor,
    source: &Source,
    now: DateTime<Utc>,
) -> Result<IssuedKey, ActionError> {
    let view = view(store, customer_id).await?;
    let active = active_count(&view);
    let too_many = || ActionError::TooManyKeys {
        customer: customer_id.to_owned(),
        max: max_active,
    };
    if active >= max_active {
        return Err(too_many());
    }
    let (key, license_key) = new_key(customer_id, now)?;
    let entry = audit(
        actor,
        AuditAction::KeyIssued,
        Some(customer_id),
        format!("{} ({})", key.masked(), key.license_id),
        source,
        now,
    );
    match store.issue_key(&key, max_active, active, &entry).await {
        Ok(()) => {}
        Err(StoreError::LimitReached { .. }) => return Err(too_many()),
        Err(e) => return Err(e.into()),
    }
    Ok(IssuedKey {
        customer_id: customer_id.to_owned(),
        license_id: key.license_id,
        last4: key.last4,
        license_key,
    })
}

/// Revokes one of the customer's keys.
pub async fn revoke_key(
    store: &dyn VendorStore,
    customer_id: &str,
    license_id: &str,
    actor: Actor,
    source: &Source,
    now: DateTime<Utc>,
) -> Result<LicenseKey, ActionError> {
    let view = view(store, customer_id).await?;
    let Some(key) = view.keys.iter().find(|k| k.license_id == license_id) else {
        return Err(StoreError::NotFound {
            what: format!("license {license_id} of customer {customer_id}"),
        }
        .into());
    };
    let entry = audit(
        actor,
        AuditAction::KeyRevoked,
        Some(customer_id),
        format!("{} ({license_id})", key.masked()),
        source,
        now,
    );
    Ok(store
        .revoke_key(customer_id, license_id, now, active_count(&view), &entry)
        .await?)
}

/// Revokes the customer's active key ending in `last4` (the admin command).
pub async fn revoke_by_last4(
    store: &dyn VendorStore,
    customer_id: &str,
    last4: &str,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<LicenseKey, ActionError> {
    let view = view(store, customer_id).await?;
    let mut matching: Vec<&LicenseKey> = view.keys.iter().filter(|k| k.last4 == last4).collect();
    if matching.len() > 1 {
        matching.retain(|k| k.state == KeyState::Active);
    }
    match matching.as_slice() {
        [] => Err(ActionError::NoSuchKey(
            customer_id.to_owned(),
            last4.to_owned(),
        )),
        [key] => {
            revoke_key(
                store,
                customer_id,
                &key.license_id,
                actor,
                &Source::none(),
                now,
            )
            .await
        }
        many => Err(ActionError::AmbiguousKey(
            customer_id.to_owned(),
            many.len(),
            last4.to_owned(),
        )),
    }
}

/// Replaces an active key: the new key stored and the old one revoked in one
/// transaction (never two keys, never none). A revoked key is refused: it
/// was taken out of service on purpose, and rotating it would hand out a
/// working key in its place.
pub async fn rotate_key(
    store: &dyn VendorStore,
    customer_id: &str,
    license_id: &str,
    actor: Actor,
    source: &Source,
    now: DateTime<Utc>,
) -> Result<IssuedKey, ActionError> {
    let view = view(store, customer_id).await?;
    let Some(old) = view.keys.iter().find(|k| k.license_id == license_id) else {
        return Err(StoreError::NotFound {
            what: format!("license {license_id} of customer {customer_id}"),
        }
        .into());
    };
    if old.state == KeyState::Revoked {
        return Err(ActionError::KeyRevoked(license_id.to_owned()));
    }
    let (key, license_key) = new_key(customer_id, now)?;
    let entry = audit(
        actor,
        AuditAction::KeyRotated,
        Some(customer_id),
        format!(
            "{} ({}) replaced by {} ({})",
            old.masked(),
            old.license_id,
            key.masked(),
            key.license_id
        ),
        source,
        now,
    );
    match store.rotate_key(old, &key, now, &entry).await {
        Ok(()) => {}
        // Revoked by another request meanwhile.
        Err(StoreError::Conflict { .. }) => {
            return Err(ActionError::KeyRevoked(license_id.to_owned()));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(IssuedKey {
        customer_id: customer_id.to_owned(),
        license_id: key.license_id,
        last4: key.last4,
        license_key,
    })
}

/// Issues a new portal token to a customer (shown once) and ends every
/// portal session of theirs; the old token stops working at once.
pub async fn reissue_portal_token(
    store: &dyn VendorStore,
    customer_id: &str,
    actor: Actor,
    source: &Source,
    now: DateTime<Utc>,
) -> Result<String, ActionError> {
    let customer = store
        .customer(customer_id)
        .await?
        .ok_or_else(|| ActionError::NoSuchCustomer(customer_id.to_owned()))?;
    let token = secrets::new_portal_token()?;
    let entry = audit(
        actor,
        AuditAction::PortalTokenReissued,
        Some(customer_id),
        "portal sessions ended",
        source,
        now,
    );
    store
        .replace_portal_token(
            customer_id,
            &customer.portal_token,
            Some(&hash_secret(&token)),
            now,
            &entry,
        )
        .await?;
    Ok(token)
}

/// Revokes a customer's portal token without a replacement and ends every
/// portal session of theirs.
pub async fn revoke_portal_token(
    store: &dyn VendorStore,
    customer_id: &str,
    actor: Actor,
    source: &Source,
    now: DateTime<Utc>,
) -> Result<(), ActionError> {
    let customer = store
        .customer(customer_id)
        .await?
        .ok_or_else(|| ActionError::NoSuchCustomer(customer_id.to_owned()))?;
    let entry = audit(
        actor,
        AuditAction::PortalTokenRevoked,
        Some(customer_id),
        "portal sessions ended",
        source,
        now,
    );
    store
        .replace_portal_token(customer_id, &customer.portal_token, None, now, &entry)
        .await?;
    Ok(())
}

/// What changes in a subscription; `None` keeps the current value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscriptionChange {
    pub status: Option<zw_license::SubscriptionStatus>,
    pub renews_at: Option<DateTime<Utc>>,
    pub plan: Option<String>,
    pub zones: Option<u32>,
    pub certificates: Option<u32>,
    pub accounts: Option<u32>,
}

/// Changes a subscription; the audit line lists each field that changed,
/// before and after.
pub async fn change_subscription(
    store: &dyn VendorStore,
    customer_id: &str,
    change: &SubscriptionChange,
    actor: Actor,
    source: &Source,
    now: DateTime<Utc>,
) -> Result<Customer, ActionError> {
    let mut customer = store
        .customer(customer_id)
        .await?
        .ok_or_else(|| ActionError::NoSuchCustomer(customer_id.to_owned()))?;
    let before = customer.subscription.clone();
    let s = &mut customer.subscription;
    if let Some(v) = change.status {
        s.status = v;
    }
    if let Some(v) = change.renews_at {
        s.renews_at = v;
    }
    if let Some(v) = &change.plan {
        s.plan.clone_from(v);
    }
    if let Some(v) = change.zones {
        s.limits.zones = v;
    }
    if let Some(v) = change.certificates {
        s.limits.certificates = v;
    }
    if let Some(v) = change.accounts {
        s.limits.accounts = v;
    }
    let entry = audit(
        actor,
        AuditAction::SubscriptionChanged,
        Some(customer_id),
        subscription_diff(&before, s),
        source,
        now,
    );
    store.set_subscription(customer_id, s, &entry).await?;
    Ok(customer)
}

/// `status active -> past_due; renews 2027-01-15 -> 2027-02-15`, or
/// `no change`.
pub fn subscription_diff(before: &Subscription, after: &Subscription) -> String {
    let mut parts = Vec::new();
    let mut field = |name: &str, a: String, b: String| {
        if a != b {
            parts.push(format!("{name} {a} -> {b}"));
        }
    };
    field(
        "status",
        before.status.as_str().into(),
        after.status.as_str().into(),
    );
    field(
        "renews",
        before.renews_at.format("%Y-%m-%d").to_string(),
        after.renews_at.format("%Y-%m-%d").to_string(),
    );
    field("plan", before.plan.clone(), after.plan.clone());
    field(
        "zones",
        before.limits.zones.to_string(),
        after.limits.zones.to_string(),
    );
    field(
        "certificates",
        before.limits.certificates.to_string(),
        after.limits.certificates.to_string(),
    );
    field(
        "accounts",
        before.limits.accounts.to_string(),
        after.limits.accounts.to_string(),
    );
    if parts.is_empty() {
        "no change".into()
    } else {
        parts.join("; ")
    }
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

/// Adds a staff member to the pool (the admin command).
#[cfg(feature = "staff")]
pub async fn add_staff(
    store: &dyn VendorStore,
    pool: &aws_sdk_cognitoidentityprovider::Client,
    pool_id: &str,
    email: &str,
    temporary_password: Option<&str>,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<crate::model::StaffMember, ActionError> {
    let sub = crate::staff::add_member(pool, pool_id, email, temporary_password)
        .await
        .map_err(|e| ActionError::Staff(e.to_string()))?;
    let entry = audit(
        actor,
        AuditAction::StaffAdded,
        None,
        format!("{email} ({sub})"),
        &Source::none(),
        now,
    );
    store.append_audit(&entry).await?;
    Ok(crate::model::StaffMember {
        sub,
        email: email.to_owned(),
    })
}

/// Disables a staff member in the pool and ends their portal sessions now
/// (the admin command).
#[cfg(feature = "staff")]
pub async fn disable_staff(
    store: &dyn VendorStore,
    pool: &aws_sdk_cognitoidentityprovider::Client,
    pool_id: &str,
    email: &str,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<crate::model::StaffMember, ActionError> {
    let sub = crate::staff::disable_member(pool, pool_id, email)
        .await
        .map_err(|e| ActionError::Staff(e.to_string()))?;
    let entry = audit(
        actor,
        AuditAction::StaffDisabled,
        None,
        format!("{email} ({sub}); portal sessions ended"),
        &Source::none(),
        now,
    );
    store.end_staff_sessions(&sub, now, &entry).await?;
    Ok(crate::model::StaffMember {
        sub,
        email: email.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use zw_license::SubscriptionStatus;

    #[test]
    fn user_names_are_bounded_and_printable() {
        assert_eq!(
            clean_username("  alice@vendor.example \n"),
            "alice@vendor.example"
        );
        assert_eq!(clean_username("a\u{0}b\u{1b}[31mc"), "ab[31mc");
        assert_eq!(
            clean_username(&"x".repeat(1000)).chars().count(),
            MAX_USERNAME_CHARS
        );
    }

    #[test]
    fn only_six_digits_are_a_code() {
        assert!(is_code("012345"));
        for bad in ["", "12345", "1234567", "12345a", "١٢٣٤٥٦"] {
            assert!(!is_code(bad), "{bad}");
        }
    }

    #[test]
    fn a_subscription_change_names_each_field_before_and_after() {
        let before = Subscription {
            plan: "team".into(),
            limits: zw_license::Limits {
                zones: 50,
                certificates: 500,
                accounts: 5,
            },
            status: SubscriptionStatus::Active,
            renews_at: Utc.with_ymd_and_hms(2027, 1, 15, 0, 0, 0).unwrap(),
        };
        let mut after = before.clone();
        assert_eq!(subscription_diff(&before, &after), "no change");
        after.status = SubscriptionStatus::PastDue;
        after.limits.zones = 60;
        assert_eq!(
            subscription_diff(&before, &after),
            "status active -> past_due; zones 50 -> 60"
        );
    }
}
