//! The port: everything the service keeps, in domain terms.
//!
//! Every call that changes what a customer or the staff can do takes the
//! [`AuditEntry`] that records it and writes both in one transaction: an
//! action without its audit line cannot happen.

use crate::model::{
    AuditEntry, AuditPage, Customer, CustomerView, LastReport, LicenseKey, LogEntry, PendingSignIn,
    PortalToken, Session, Subscription,
};
use chrono::{DateTime, Utc};

/// Why the store could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("{what} not found")]
    NotFound { what: String },
    /// A condition of the write no longer held: another request changed the
    /// record first (a key revoked twice, a token re-issued twice).
    #[error("{what} changed meanwhile; reload and try again")]
    Conflict { what: String },
    /// The customer already holds the most active keys allowed.
    #[error("{what}")]
    LimitReached { what: String },
    #[error("DynamoDB {operation} was throttled; retry shortly")]
    Throttled { operation: &'static str },
    #[error("DynamoDB {operation} failed: {detail}")]
    Backend {
        operation: &'static str,
        detail: String,
    },
    #[error("stored item {key} is malformed: {detail}")]
    Corrupt { key: String, detail: String },
}

impl StoreError {
    /// Whether a retry may succeed (the caller answers 503, not 500).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Throttled { .. } | Self::Backend { .. })
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// The vendor's records. One adapter ([`crate::dynamo::DynamoStore`]).
#[async_trait::async_trait]
pub trait VendorStore: Send + Sync + std::fmt::Debug {
    /// Stores a new customer, the lookup of their portal token (by hash) and
    /// the audit line, together.
    async fn create_customer(
        &self,
        customer: &Customer,
        portal_token_hash: &str,
        audit: &AuditEntry,
    ) -> Result<()>;
    async fn customer(&self, customer_id: &str) -> Result<Option<Customer>>;
    async fn customers(&self) -> Result<Vec<Customer>>;
    /// Replaces a customer's subscription; `NotFound` for an unknown customer.
    async fn set_subscription(
        &self,
        customer_id: &str,
        subscription: &Subscription,
        audit: &AuditEntry,
    ) -> Result<()>;
    /// The customer a portal token (by hash) signs in as, according to the
    /// token's lookup item (the caller checks the customer's current token).
    async fn customer_for_portal_token(&self, token_hash: &str) -> Result<Option<String>>;
    /// Replaces the customer's portal token (`new_hash`) or revokes it
    /// (`None`), and ends every portal session issued before `at`. `Conflict`
    /// when the token is no longer `expected`.
    async fn replace_portal_token(
        &self,
        customer_id: &str,
        expected: &PortalToken,
        new_hash: Option<&str>,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<()>;

    /// Stores a new active key (its customer-side record and its lookup by
    /// hash) and counts it on the customer. `LimitReached` when the customer
    /// already has `max_active` active keys; `seen_active` is the count the
    /// caller read, used only for customers created before the count was kept.
    async fn issue_key(
        &self,
        key: &LicenseKey,
        max_active: u32,
        seen_active: u32,
        audit: &AuditEntry,
    ) -> Result<()>;
    async fn key_by_hash(&self, key_hash: &str) -> Result<Option<LicenseKey>>;
    /// Marks a customer's active key revoked (both records) and uncounts it.
    /// `NotFound` when the license is not this customer's; an already
    /// revoked key is answered as it is, unchanged and not audited again.
    async fn revoke_key(
        &self,
        customer_id: &str,
        license_id: &str,
        at: DateTime<Utc>,
        seen_active: u32,
        audit: &AuditEntry,
    ) -> Result<LicenseKey>;
    /// Replaces `old` by `new` in one transaction: the new key stored, the
    /// old one revoked, the active count unchanged. `Conflict` when `old` is
    /// no longer active.
    async fn rotate_key(
        &self,
        old: &LicenseKey,
        new: &LicenseKey,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<()>;
    /// A customer, their keys and the last report of each license: one query.
    async fn customer_view(&self, customer_id: &str) -> Result<Option<CustomerView>>;

    /// Overwrites the license's last report (when given) and appends a log line.
    async fn record_validation(&self, report: Option<&LastReport>, log: &LogEntry) -> Result<()>;
    /// The license's validation log, oldest first.
    async fn log_entries(&self, license_id: &str) -> Result<Vec<LogEntry>>;
    /// Takes one slot of `bucket`'s window; `false` when the window already
    /// holds `limit` (a conditional update: concurrent requests never pass
    /// the limit together). Buckets: a license (`RATE#<license>`), a source
    /// address for unknown keys or failed sign-ins (`SRC#<scope>#<address>`).
    async fn take_slot(
        &self,
        bucket: &str,
        window_start: i64,
        limit: u32,
        expires_at: i64,
    ) -> Result<bool>;
    /// Gives a slot back (a request that turned out not to count).
    async fn return_slot(&self, bucket: &str, window_start: i64) -> Result<()>;

    /// Stores a session, with the audit line of the sign-in that opened it.
    async fn put_session(
        &self,
        session_hash: &str,
        session: &Session,
        audit: &AuditEntry,
    ) -> Result<()>;
    async fn session(&self, session_hash: &str) -> Result<Option<Session>>;
    /// Deletes a session, with the audit line of the sign-out.
    async fn delete_session(&self, session_hash: &str, audit: &AuditEntry) -> Result<()>;

    /// A staff sign-in between its steps (kept minutes; TTL).
    async fn put_pending_sign_in(&self, hash: &str, pending: &PendingSignIn) -> Result<()>;
    async fn pending_sign_in(&self, hash: &str) -> Result<Option<PendingSignIn>>;
    async fn delete_pending_sign_in(&self, hash: &str) -> Result<()>;
    /// Staff sessions of this pool user issued before the answer are over
    /// (set by `zw-vendor staff disable`).
    async fn staff_sessions_not_before(&self, sub: &str) -> Result<Option<DateTime<Utc>>>;
    async fn end_staff_sessions(
        &self,
        sub: &str,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<()>;

    /// Appends an audit line on its own (failed sign-ins, the admin
    /// command's actions outside the table).
    async fn append_audit(&self, entry: &AuditEntry) -> Result<()>;
    /// The audit log, newest first: `limit` entries older than `before` (a
    /// cursor from a previous page).
    async fn audit_entries(&self, before: Option<&str>, limit: u32) -> Result<AuditPage>;
}
