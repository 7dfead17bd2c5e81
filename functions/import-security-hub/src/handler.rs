//! One finding event -> one `BatchImportFindings`. A failed import fails the
//! invocation: Lambda retries it, then keeps it in the dead-letter queue.

use crate::asff::{self, Detail, Target};
use aws_sdk_securityhub::Client;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::Serialize;
use zw_lambda::event::Envelope;

/// Built once at init.
#[derive(Debug, Clone)]
pub struct Deps {
    pub client: Client,
    pub partition: String,
    pub docs_base_url: Option<String>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Imported {
    pub id: String,
    pub record_state: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Event(String),
    #[error("Security Hub refused the finding: {0}")]
    Refused(String),
    #[error("BatchImportFindings failed: {0}")]
    Call(String),
}

impl From<ImportError> for Diagnostic {
    fn from(e: ImportError) -> Self {
        let error_type = match &e {
            ImportError::Event(_) => "InvalidEvent",
            ImportError::Refused(_) => "FindingRefused",
            ImportError::Call(_) => "ImportFailed",
        };
        Diagnostic {
            error_type: error_type.into(),
            error_message: e.to_string(),
        }
    }
}

const ACCEPTED: &str = "zonewarden finding events (Zonewarden Finding Opened/Changed/Resolved)";

pub async fn handle(
    deps: &Deps,
    event: LambdaEvent<serde_json::Value>,
) -> Result<Imported, ImportError> {
    let env = Envelope::parse(&event.payload).map_err(|e| ImportError::Event(e.to_string()))?;
    if env.source != zw_core::notify::SOURCE
        || ![
            zw_core::notify::OPENED,
            zw_core::notify::CHANGED,
            zw_core::notify::RESOLVED,
        ]
        .contains(&env.detail_type.as_str())
    {
        return Err(ImportError::Event(env.unsupported(ACCEPTED).to_string()));
    }
    let detail: Detail = serde_json::from_value(env.detail.clone()).map_err(|e| {
        ImportError::Event(format!(
            "the event's detail is not a zonewarden finding: {}",
            e.to_string().chars().take(200).collect::<String>()
        ))
    })?;
    let text = |k: &str| {
        event.payload[k]
            .as_str()
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| ImportError::Event(format!("the event has no `{k}`")))
    };
    let target = Target {
        account: text("account")?,
        region: text("region")?,
        partition: deps.partition.clone(),
        docs_base_url: deps.docs_base_url.clone(),
    };
    let finding = asff::finding(&detail, &target).map_err(|e| ImportError::Event(e.to_string()))?;
    let id = finding.id().unwrap_or_default().to_owned();
    let record_state = finding
        .record_state()
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default();
    let out = deps
        .client
        .batch_import_findings()
        .findings(finding)
        .send()
        .await
        .map_err(|e| {
            ImportError::Call(
                zw_aws::error::classify("securityhub", "BatchImportFindings", e).to_string(),
            )
        })?;
    if out.failed_count().unwrap_or(0) > 0 {
        let why = out
            .failed_findings()
            .iter()
            .map(|f| {
                format!(
                    "{}: {}",
                    f.error_code().unwrap_or("?"),
                    f.error_message().unwrap_or("?")
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        return Err(ImportError::Refused(why));
    }
    tracing::info!(finding = %id, %record_state, event_key = %detail.event_key, "imported into Security Hub");
    Ok(Imported { id, record_state })
}
