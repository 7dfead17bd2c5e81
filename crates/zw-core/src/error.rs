//! Why a call to the outside failed: the one error type every port answers
//! with. A leaf module: the scan record, metrics and ports all use it, and
//! it uses nothing of the crate.

use serde::Serialize;
use std::fmt;

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
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_label())
    }
}

/// A failed call through a port: which service and operation, classified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
/// `message` is complete as the adapter wrote it, including what a person
/// should do about it (adapters know their settings; the core does not).
#[error("{service} {operation} failed ({kind}): {message}")]
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
