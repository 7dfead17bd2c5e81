//! Staff sign-in: the port ([`StaffDirectory`]) and, with the `staff`
//! feature (on by default), its adapter on an Amazon Cognito user pool
//! ([`CognitoStaff`]). Local runs that never sign staff in (the demo) build
//! without it and skip the Cognito SDK.
//!
//! The portal runs Cognito's server-side flow itself, so nothing but our own
//! session cookie ever reaches the browser and every attempt passes through
//! the portal's audit log and per-source limit:
//!
//! ```text
//! password --AdminInitiateAuth(ADMIN_USER_PASSWORD_AUTH)--> NEW_PASSWORD_REQUIRED (first sign-in)
//!                                                       \-> MFA_SETUP            (no authenticator yet)
//!                                                       \-> SOFTWARE_TOKEN_MFA   (the usual case)
//! new password --AdminRespondToAuthChallenge--> MFA_SETUP
//! MFA_SETUP --AssociateSoftwareToken--> secret (shown once) --VerifySoftwareToken(code)
//!           --AdminRespondToAuthChallenge(MFA_SETUP)--> tokens
//! SOFTWARE_TOKEN_MFA --AdminRespondToAuthChallenge(code)--> tokens
//! tokens --GetUser--> the staff member (sub, email); the tokens are then dropped
//! ```
//!
//! The app client allows only `ALLOW_ADMIN_USER_PASSWORD_AUTH` (and refresh),
//! which needs IAM credentials: nobody can try passwords against the pool
//! with the client id alone, around the portal.

use crate::model::StaffMember;

/// Where a sign-in stands after a call to the pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthStep {
    /// First sign-in: a new password is needed.
    NewPassword { session: String },
    /// No authenticator registered yet.
    MfaSetup { session: String },
    /// A code from the registered authenticator is needed.
    MfaCode { session: String },
    /// The pool issued tokens for this member.
    SignedIn(StaffMember),
}

/// An authenticator being registered: its secret (base32, shown once) and
/// the session to verify it with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaSecret {
    pub secret: String,
    pub session: String,
}

/// Why the pool refused. The text is Cognito's own message (it never holds a
/// password or a code) and goes to the audit log, not to the browser.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaffAuthError {
    /// Wrong user name or password, a disabled user, Cognito's lockout after
    /// repeated failures, or an expired sign-in session.
    #[error("refused: {0}")]
    Refused(String),
    /// The authenticator code did not match.
    #[error("wrong code: {0}")]
    WrongCode(String),
    /// The new password does not meet the pool's policy (the message says why).
    #[error("{0}")]
    WeakPassword(String),
    /// Cognito throttled the call.
    #[error("throttled: {0}")]
    Throttled(String),
    /// A challenge this portal does not handle (e.g. SMS).
    #[error("unexpected challenge {0}")]
    UnexpectedChallenge(String),
    /// Anything else: the pool could not be asked.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// The staff user pool, in domain terms.
#[async_trait::async_trait]
pub trait StaffDirectory: Send + Sync + std::fmt::Debug {
    async fn sign_in(&self, username: &str, password: &str) -> Result<AuthStep, StaffAuthError>;
    async fn new_password(
        &self,
        username: &str,
        session: &str,
        new_password: &str,
    ) -> Result<AuthStep, StaffAuthError>;
    async fn begin_mfa_setup(&self, session: &str) -> Result<MfaSecret, StaffAuthError>;
    /// Verifies the first code of a new authenticator and finishes the sign-in.
    async fn finish_mfa_setup(
        &self,
        username: &str,
        session: &str,
        code: &str,
    ) -> Result<AuthStep, StaffAuthError>;
    async fn mfa_code(
        &self,
        username: &str,
        session: &str,
        code: &str,
    ) -> Result<AuthStep, StaffAuthError>;
}

/// The staff pool's settings, as `template.yaml` deploys them.
pub mod policy {
    /// Minimum password length.
    pub const MIN_PASSWORD_LENGTH: i32 = 14;
    /// Days a temporary password from `staff add` stays usable.
    pub const TEMPORARY_PASSWORD_DAYS: i32 = 3;
    /// Minutes a sign-in may take between its steps (Cognito's session).
    pub const AUTH_SESSION_MINUTES: i32 = 3;
    /// Minutes the (never used) access and ID tokens live.
    pub const TOKEN_MINUTES: i32 = 5;
    /// Minutes the (never used) refresh token lives: the shortest allowed.
    pub const REFRESH_TOKEN_MINUTES: i32 = 60;
}

#[cfg(feature = "staff")]
mod cognito;
#[cfg(feature = "staff")]
pub use cognito::*;
