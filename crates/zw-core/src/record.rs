//! What a scan leaves behind: the scan record (stored, printed under `scan` in
//! JSON output, logged once per scan) and its errors. Family-neutral: each
//! family adds its counts under its own keys.

use crate::error::{ErrorKind, PortError};
use crate::model::Region;
use crate::severity::Severity;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanError {
    /// A region, or `global` for Route 53, DNS, the store and metrics.
    pub region: Region,
    pub service: &'static str,
    pub operation: &'static str,
    pub kind: ErrorKind,
    pub message: String,
}

impl ScanError {
    pub fn new(region: Region, e: PortError) -> Self {
        Self {
            region,
            service: e.service,
            operation: e.operation,
            kind: e.kind,
            message: e.message,
        }
    }
}

/// One line: `service Operation in region (kind): message`, as logs, the
/// functions' summaries and the organization's account results say it.
impl std::fmt::Display for ScanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} in {} ({}): {}",
            self.service, self.operation, self.region, self.kind, self.message
        )
    }
}

/// One scan, as stored and as printed under `scan` in JSON output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanRecord {
    pub scan_id: String,
    /// What started it: `schedule`, `aws.acm: ACM Certificate Expired`, `cli`, ...
    pub trigger: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub duration_ms: u64,
    /// The check families this scan ran (`certificates`, `dns`).
    pub families: Vec<String>,
    /// The configured regions (certificate families scan each).
    pub regions: Vec<Region>,
    /// What the families looked at, under their own keys
    /// (`certificates`, `hosted_zones`, `record_sets`, `dns_queries`, ...).
    pub counts: BTreeMap<String, u64>,
    /// Open findings after this scan (every family, as the store sees them),
    /// by severity.
    pub open_findings: BTreeMap<Severity, usize>,
    /// Transitions this scan committed.
    pub opened: usize,
    pub resolved: usize,
    /// Whether this scan's findings were written to the store.
    pub stored: bool,
    /// AWS API requests this scan sent, per `service:Operation`, retries
    /// included (empty when the adapters do not count).
    pub api_calls: BTreeMap<String, u64>,
    /// At most `MAX_RECORDED_ERRORS`, each message at most
    /// `MAX_ERROR_MESSAGE_CHARS` characters (see `cap_errors`).
    pub errors: Vec<ScanError>,
    /// Errors beyond `MAX_RECORDED_ERRORS`: counted, not kept.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub errors_dropped: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The scan record keeps this many errors (the first ones); the rest are
/// counted in `errors_dropped`. A scan of a thousand zones that all fail
/// would otherwise write a record larger than one DynamoDB item.
pub const MAX_RECORDED_ERRORS: usize = 100;
/// A recorded error's message keeps this many characters.
pub const MAX_ERROR_MESSAGE_CHARS: usize = 1_000;

impl ScanRecord {
    pub fn count(&self, key: &str) -> u64 {
        self.counts.get(key).copied().unwrap_or(0)
    }

    /// Every error of the scan, the dropped ones included (the `ScanErrors`
    /// metric).
    pub fn error_count(&self) -> usize {
        self.errors.len() + self.errors_dropped
    }

    /// Keeps the first `MAX_RECORDED_ERRORS` errors, each message cut to
    /// `MAX_ERROR_MESSAGE_CHARS`, and counts the rest in `errors_dropped`.
    pub fn cap_errors(&mut self) {
        if self.errors.len() > MAX_RECORDED_ERRORS {
            self.errors_dropped += self.errors.len() - MAX_RECORDED_ERRORS;
            self.errors.truncate(MAX_RECORDED_ERRORS);
        }
        for e in &mut self.errors {
            e.message = crate::finding::truncated_message(
                std::mem::take(&mut e.message),
                MAX_ERROR_MESSAGE_CHARS,
            );
        }
    }
}
