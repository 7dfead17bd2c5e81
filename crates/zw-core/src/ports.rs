//! Domain-level ports. Adapters (zw-aws) implement them with the AWS SDK, tests
//! with in-memory fakes. They speak our types only, never SDK types.

use crate::finding::{FindingKey, StoredFinding};
use crate::metrics::MetricBatch;
use crate::model::{Certificate, HostedZone, RecordSet, Region};
use crate::reconcile::Change;
use crate::scan::ScanRecord;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::fmt;
use std::future::Future;

/// Why a call to the outside failed, classified once by the adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The service asked us to slow down and retries ran out.
    Throttled,
    /// Timeouts, 5xx, connection resets: worth retrying later.
    Transient,
    /// The endpoint could not be reached at all (down, DNS, wrong URL).
    Unreachable,
    /// No usable credentials were found.
    NoCredentials,
    AccessDenied,
    NotFound,
    /// The request was refused as invalid (e.g. an unknown region).
    InvalidRequest,
    /// The answer could not be understood.
    InvalidResponse,
    Other,
}

impl ErrorKind {
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::Throttled | Self::Transient | Self::Unreachable)
    }

    /// A fixed, low-cardinality label for logs and metrics.
    pub fn as_label(self) -> &'static str {
        match self {
            Self::Throttled => "throttled",
            Self::Transient => "transient",
            Self::Unreachable => "unreachable",
            Self::NoCredentials => "no-credentials",
            Self::AccessDenied => "access-denied",
            Self::NotFound => "not-found",
            Self::InvalidRequest => "invalid-request",
            Self::InvalidResponse => "invalid-response",
            Self::Other => "other",
        }
    }

    /// What a human should do about it, appended to error messages.
    pub fn hint(self) -> &'static str {
        match self {
            Self::Throttled => {
                "the API kept throttling; lower ZW_ACM_RPS / ZW_ROUTE53_RPS or retry later"
            }
            Self::Transient => "a temporary AWS-side failure; the next scan retries",
            Self::Unreachable => "check network access, the region name and AWS_ENDPOINT_URL",
            Self::NoCredentials => {
                "configure credentials (AWS_PROFILE, aws sso login, or an instance/Lambda role)"
            }
            Self::AccessDenied => {
                "grant the permission named above (see docs/template.md for the policy)"
            }
            Self::NotFound => "check the name and region of the resource",
            Self::InvalidRequest => "check the region and parameters",
            Self::InvalidResponse => "unexpected answer from AWS; report it with the message above",
            Self::Other => "see the message above",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_label())
    }
}

/// A failed call through a port: which service and operation, classified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{service} {operation} failed ({kind}): {message}; {hint}", hint = kind.hint())]
pub struct PortError {
    pub service: &'static str,
    pub operation: &'static str,
    pub kind: ErrorKind,
    pub message: String,
}

impl PortError {
    pub fn new(
        service: &'static str,
        operation: &'static str,
        kind: ErrorKind,
        message: impl Into<String>,
    ) -> Self {
        Self {
            service,
            operation,
            kind,
            message: message.into(),
        }
    }

    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }
}

/// ACM, one region at a time.
pub trait CertificateSource: Send + Sync {
    /// Every certificate of the region, all statuses and key types, described.
    fn certificates(
        &self,
        region: &Region,
    ) -> impl Future<Output = Result<Vec<Certificate>, PortError>> + Send;
}

/// Route 53 (a global service).
pub trait ZoneSource: Send + Sync {
    fn hosted_zones(&self) -> impl Future<Output = Result<Vec<HostedZone>, PortError>> + Send;
    /// Every record set of one zone, fully paginated.
    fn record_sets(
        &self,
        zone_id: &str,
    ) -> impl Future<Output = Result<Vec<RecordSet>, PortError>> + Send;
}

/// What a commit did: which changes lost a race to another scan.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CommitOutcome {
    pub applied: usize,
    /// Keys whose condition failed: re-read and re-plan them.
    pub conflicts: Vec<FindingKey>,
}

/// Current findings, their history and scan records.
pub trait FindingStore: Send + Sync {
    /// Every current finding item (open and recently resolved).
    fn load_current(&self) -> impl Future<Output = Result<Vec<StoredFinding>, PortError>> + Send;
    fn load(
        &self,
        keys: &[FindingKey],
    ) -> impl Future<Output = Result<Vec<StoredFinding>, PortError>> + Send;
    /// Applies changes, each conditional on the version it was planned from.
    fn commit(
        &self,
        scan_id: &str,
        changes: &[Change],
    ) -> impl Future<Output = Result<CommitOutcome, PortError>> + Send;
    fn record_scan(&self, scan: &ScanRecord) -> impl Future<Output = Result<(), PortError>> + Send;
}

pub trait MetricSink: Send + Sync {
    fn publish(&self, batch: &MetricBatch) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// API requests sent so far, per `service:Operation` (retries included).
/// Cumulative; a scan records the difference between its start and end.
pub trait ApiUsage: Send + Sync {
    fn calls(&self) -> std::collections::BTreeMap<String, u64>;
}

/// The one place time comes from; rules get `now` as a parameter instead.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}
