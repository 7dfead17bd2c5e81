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

/// Who a portal session belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Customer(String),
    Staff,
}

/// A signed-in portal session, stored under the hash of its cookie value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub principal: Principal,
    /// The token every POST form of this session must carry.
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
}

/// Everything the customer view shows, read in one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerView {
    pub customer: Customer,
    pub keys: Vec<LicenseKey>,
    pub reports: Vec<LastReport>,
}
