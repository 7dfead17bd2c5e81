//! The vendor's records, as the service sees them (never SDK types).

use chrono::{DateTime, Utc};
use zw_license::{FleetCounts, Limits, SubscriptionStatus};

/// A customer and their subscription (one per customer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    /// `cus_` and 20 hex digits.
    pub id: String,
    pub name: String,
    pub subscription: Subscription,
    pub created_at: DateTime<Utc>,
    /// The portal token the customer signs in with.
    pub portal_token: PortalToken,
    /// Portal sessions issued before this instant are over (set when the
    /// portal token is revoked or re-issued).
    pub sessions_not_before: Option<DateTime<Utc>>,
}

/// The state of a customer's portal token (only its SHA-256 is stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortalToken {
    /// Created before the current token was recorded on the customer: the
    /// token's lookup item alone decides, until the first re-issue.
    Unrecorded,
    /// The hash of the token that signs in today.
    Current(String),
    /// Revoked, none issued since: nobody signs in as this customer.
    Revoked,
}

/// What the customer pays for. Billing (Stripe, AWS Marketplace) will set
/// `status` and `renews_at` through the same store call the admin command uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub plan: String,
    pub limits: Limits,
    pub status: SubscriptionStatus,
    pub renews_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    Active,
    Revoked,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "revoked" => Some(Self::Revoked),
            _ => None,
        }
    }
}

/// A license key as stored: its SHA-256 and its last four characters,
/// never the key itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenseKey {
    /// `lic_` and 20 hex digits: the license's `sub`.
    pub license_id: String,
    pub customer_id: String,
    /// Lowercase hex SHA-256 of the full key.
    pub key_hash: String,
    pub last4: String,
    pub state: KeyState,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl LicenseKey {
    /// How the key is shown anywhere: `****ABCD`.
    pub fn masked(&self) -> String {
        format!("****{}", self.last4)
    }
}

/// The last thing one license's deployments reported (overwritten by each
/// validation): exactly what the customer sees in the portal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastReport {
    pub customer_id: String,
    pub license_id: String,
    pub at: DateTime<Utc>,
    pub product_version: String,
    /// `None` when the deployment has fleet visibility switched off.
    pub counts: Option<FleetCounts>,
}

/// How a validation of a known key ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A license was signed and returned.
    Licensed,
    /// The key is revoked: 403.
    Revoked,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Licensed => "licensed",
            Self::Revoked => "revoked_key",
        }
    }
}

/// One line of the validation log (kept 90 days, then removed by TTL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub customer_id: String,
    pub license_id: String,
    pub at: DateTime<Utc>,
    pub outcome: String,
    pub product_version: String,
    pub key_hint: String,
    /// Unix seconds; DynamoDB's TTL attribute `expires_at`.
    pub expires_at: i64,
}

/// A member of the vendor's staff, as the staff user pool (Amazon Cognito)
/// knows them: every staff action is attributed to one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffMember {
    /// The user's `sub` in the pool: stable for the life of the user.
    pub sub: String,
    /// The e-mail address they sign in with (what people read in the log).
    pub email: String,
}

/// Who a portal session belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Customer(String),
    Staff(StaffMember),
}

/// A signed-in portal session, stored under the hash of its cookie value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub principal: Principal,
    /// The token every POST form of this session must carry.
    pub csrf: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Where a staff sign-in stands between its steps (password, new password,
/// authenticator set-up, authenticator code). Stored for a few minutes under
/// the hash of a cookie; Cognito's own session string never reaches the
/// browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSignIn {
    /// The user name typed on the first step.
    pub username: String,
    /// Cognito's session for the next challenge response.
    pub cognito_session: String,
    pub step: StaffStep,
    /// The token the step's form must carry.
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
}

/// The challenge a staff sign-in waits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffStep {
    /// First sign-in with the temporary password: choose a new one.
    NewPassword,
    /// No authenticator yet: register one (its secret is shown once) and
    /// prove it with a code.
    MfaSetup,
    /// A code from the registered authenticator.
    MfaCode,
}

impl StaffStep {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NewPassword => "new_password",
            Self::MfaSetup => "mfa_setup",
            Self::MfaCode => "mfa_code",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "new_password" => Some(Self::NewPassword),
            "mfa_setup" => Some(Self::MfaSetup),
            "mfa_code" => Some(Self::MfaCode),
            _ => None,
        }
    }
}

/// Who did something, as the audit log names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A staff member signed in to the portal through the staff user pool.
    Staff(StaffMember),
    /// A customer signed in with their portal token.
    Customer(String),
    /// The `zw-vendor` admin command, named by the AWS identity that ran it
    /// (the ARN `sts:GetCallerIdentity` answers).
    Admin(String),
    /// A failed sign-in: what was typed as the user name (empty for a portal
    /// token), never a password or a token.
    Unidentified(String),
}

impl Actor {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Staff(_) => "staff",
            Self::Customer(_) => "customer",
            Self::Admin(_) => "admin",
            Self::Unidentified(_) => "unidentified",
        }
    }

    /// The person or identity, as shown in the portal.
    pub fn name(&self) -> &str {
        match self {
            Self::Staff(m) => &m.email,
            Self::Customer(id) | Self::Admin(id) | Self::Unidentified(id) => id,
        }
    }
}

/// What an audit entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    SignIn,
    SignInFailed,
    SignOut,
    CustomerCreated,
    KeyIssued,
    KeyRevoked,
    KeyRotated,
    PortalTokenRevoked,
    PortalTokenReissued,
    SubscriptionChanged,
    StaffAdded,
    StaffDisabled,
}

impl AuditAction {
    pub const ALL: [Self; 12] = [
        Self::SignIn,
        Self::SignInFailed,
        Self::SignOut,
        Self::CustomerCreated,
        Self::KeyIssued,
        Self::KeyRevoked,
        Self::KeyRotated,
        Self::PortalTokenRevoked,
        Self::PortalTokenReissued,
        Self::SubscriptionChanged,
        Self::StaffAdded,
        Self::StaffDisabled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::SignInFailed => "sign_in_failed",
            Self::SignOut => "sign_out",
            Self::CustomerCreated => "customer_created",
            Self::KeyIssued => "key_issued",
            Self::KeyRevoked => "key_revoked",
            Self::KeyRotated => "key_rotated",
            Self::PortalTokenRevoked => "portal_token_revoked",
            Self::PortalTokenReissued => "portal_token_reissued",
            Self::SubscriptionChanged => "subscription_changed",
            Self::StaffAdded => "staff_added",
            Self::StaffDisabled => "staff_disabled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// One line of the portal audit log (kept a year, then removed by TTL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub action: AuditAction,
    /// The customer the action concerned, if any.
    pub customer_id: Option<String>,
    /// What changed, in a few words (`****ABCD`, `status active -> past_due`,
    /// the reason a sign-in failed). Never a key, token or password.
    pub detail: String,
    /// The source address of the request (none for the admin command).
    pub source: Option<String>,
    /// Unix seconds; DynamoDB's TTL attribute `expires_at`.
    pub expires_at: i64,
}

/// One page of the audit log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Where the next (older) page starts, when there is one.
    pub next: Option<String>,
}

/// Everything the customer view shows, read in one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerView {
    pub customer: Customer,
    pub keys: Vec<LicenseKey>,
    pub reports: Vec<LastReport>,
}
