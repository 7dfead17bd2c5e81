//! The port: everything the service keeps, in domain terms.

use crate::model::{
    Customer, CustomerView, LastReport, LicenseKey, LogEntry, Session, Subscription,
};
use chrono::{DateTime, Utc};

/// Why the store could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("{what} not found")]
    NotFound { what: String },
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
    /// Stores a new customer and the hash of their portal token, together.
    async fn create_customer(&self, customer: &Customer, portal_token_hash: &str) -> Result<()>;
    async fn customer(&self, customer_id: &str) -> Result<Option<Customer>>;
    async fn customers(&self) -> Result<Vec<Customer>>;
    /// Replaces a customer's subscription; `NotFound` for an unknown customer.
    async fn set_subscription(&self, customer_id: &str, subscription: &Subscription) -> Result<()>;
    /// The customer a portal token (by hash) signs in as.
    async fn customer_for_portal_token(&self, token_hash: &str) -> Result<Option<String>>;

    /// Stores a new key (its customer-side record and its lookup by hash, together).
    async fn put_key(&self, key: &LicenseKey) -> Result<()>;
    async fn key_by_hash(&self, key_hash: &str) -> Result<Option<LicenseKey>>;
    /// Marks a customer's key revoked (both records); `NotFound` when the
    /// license is not this customer's.
    async fn revoke_key(
        &self,
        customer_id: &str,
        license_id: &str,
        at: DateTime<Utc>,
    ) -> Result<LicenseKey>;
    /// A customer, their keys and the last report of each license: one query.
    async fn customer_view(&self, customer_id: &str) -> Result<Option<CustomerView>>;

    /// Overwrites the license's last report (when given) and appends a log line.
    async fn record_validation(&self, report: Option<&LastReport>, log: &LogEntry) -> Result<()>;
    /// The license's validation log, oldest first.
    async fn log_entries(&self, license_id: &str) -> Result<Vec<LogEntry>>;
    /// Counts one request in the license's window; `false` when the window
    /// already holds `limit` (a conditional update: concurrent requests
    /// never pass the limit together).
    async fn count_request(
        &self,
        license_id: &str,
        window_start: i64,
        limit: u32,
        expires_at: i64,
    ) -> Result<bool>;

    async fn put_session(&self, session_hash: &str, session: &Session) -> Result<()>;
    async fn session(&self, session_hash: &str) -> Result<Option<Session>>;
    async fn delete_session(&self, session_hash: &str) -> Result<()>;
}
