//! Event -> scan -> summary.

use crate::deps::Deps;
use crate::event::{self, EventError};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::Serialize;
use std::collections::BTreeMap;
use zw_core::{Severity, Sinks, Sources};

/// What the invocation returns (visible in the console and to `cargo lambda invoke`).
#[derive(Debug, Serialize, PartialEq)]
pub struct Summary {
    pub scan_id: String,
    pub trigger: String,
    pub certificates: usize,
    pub open_findings: BTreeMap<Severity, usize>,
    pub opened: usize,
    pub resolved: usize,
    pub errors: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error(transparent)]
    Event(#[from] EventError),
    /// Nothing could be collected or the store could not be written. Failing
    /// the invocation lets Lambda retry and the Errors alarm fire.
    #[error("scan {scan_id} failed: {errors}")]
    ScanFailed { scan_id: String, errors: String },
}

impl From<HandlerError> for Diagnostic {
    fn from(e: HandlerError) -> Self {
        let error_type = match &e {
            HandlerError::Event(EventError::Malformed(_)) => "InvalidEvent",
            HandlerError::Event(EventError::Unsupported { .. }) => "UnsupportedEvent",
            HandlerError::ScanFailed { .. } => "ScanFailed",
        };
        Diagnostic {
            error_type: error_type.into(),
            error_message: e.to_string(),
        }
    }
}

pub async fn handle(
    deps: &Deps,
    event: LambdaEvent<serde_json::Value>,
) -> Result<Summary, HandlerError> {
    let trigger = event::parse(&event.payload)?;
    // The request id is unique per invocation and repeats on Lambda's own
    // retries, which is what a scan id should do.
    let scan_id = format!("lambda-{}", event.context.request_id);
    let report = zw_core::scan::scan_certificates(
        Sources {
            certificates: &deps.services.acm,
            zones: &deps.services.route53,
            usage: Some(&deps.services.calls),
        },
        Sinks {
            store: deps.services.store.as_ref(),
            metrics: Some(&deps.metrics),
        },
        &deps.clock,
        &deps.config,
        scan_id,
        trigger.label(),
    )
    .await;
    let errors: Vec<String> = report
        .scan
        .errors
        .iter()
        .map(|e| {
            format!(
                "{} {} in {} ({}): {}",
                e.service, e.operation, e.region, e.kind, e.message
            )
        })
        .collect();
    for e in &errors {
        tracing::error!(error = %e, "scan error");
    }
    if report.failed() {
        return Err(HandlerError::ScanFailed {
            scan_id: report.scan.scan_id,
            errors: errors.join("; "),
        });
    }
    tracing::info!(
        scan_id = %report.scan.scan_id,
        api_calls = ?report.scan.api_calls,
        certificates = report.scan.certificates,
        opened = report.scan.opened,
        resolved = report.scan.resolved,
        "scan finished"
    );
    Ok(Summary {
        scan_id: report.scan.scan_id,
        trigger: report.scan.trigger,
        certificates: report.scan.certificates,
        open_findings: report.scan.open_findings,
        opened: report.scan.opened,
        resolved: report.scan.resolved,
        errors,
    })
}
