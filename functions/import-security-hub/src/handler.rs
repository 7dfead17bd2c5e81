//! One finding event -> one `BatchImportFindings`. A failed import fails the
//! invocation: Lambda retries it, then keeps it in the dead-letter queue.
//!
//! The event is not trusted on its own word: before acting, the finding it
//! names is read from our table, and the event is imported only when the
//! table agrees with it (same state, same severity while open, a version the
//! table has reached). A forged event (anyone allowed `events:PutEvents`
//! could try), or a stale one delivered after a newer change, is skipped:
//! Security Hub keeps what our table says.

use crate::asff::{self, Detail, Target};
use aws_sdk_dynamodb::types::AttributeValue;
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
    pub table: FindingTable,
}

/// Our findings table, read (one consistent `GetItem`) to check each event
/// against the state it claims.
#[derive(Debug, Clone)]
pub struct FindingTable {
    pub client: aws_sdk_dynamodb::Client,
    pub name: String,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Imported {
    pub id: String,
    pub record_state: String,
    /// Why nothing was imported: the table does not agree with the event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Event(String),
    #[error("Security Hub refused the finding: {0}")]
    Refused(String),
    #[error("BatchImportFindings failed: {0}")]
    Call(String),
    #[error("cannot read the finding from the table: {0}")]
    Table(String),
}

impl From<ImportError> for Diagnostic {
    fn from(e: ImportError) -> Self {
        let error_type = match &e {
            ImportError::Event(_) => "InvalidEvent",
            ImportError::Refused(_) => "FindingRefused",
            ImportError::Call(_) => "ImportFailed",
            ImportError::Table(_) => "TableReadFailed",
        };
        Diagnostic {
            error_type: error_type.into(),
            error_message: e.to_string(),
        }
    }
}

const ACCEPTED: &str =
    "zonewarden finding events (Zonewarden Finding Opened/Changed/Resolved/Suppressed)";

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
            zw_core::notify::SUPPRESSED,
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
    let product_arn = finding.product_arn().unwrap_or_default().to_owned();
    let record_state = finding
        .record_state()
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default();
    if let Some(why) = disagreement(&deps.table, &detail).await? {
        tracing::warn!(finding = %id, event_key = %detail.event_key, %why, "event skipped: our table does not agree with it");
        return Ok(Imported {
            id,
            record_state,
            skipped: Some(why),
        });
    }
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
    // The workflow of an existing finding is the customer's to set
    // (BatchUpdateFindings): suppressed with our reason, or NEW again.
    if let Some((status, note, by)) = asff::workflow_update(&detail) {
        let ids = aws_sdk_securityhub::types::AwsSecurityFindingIdentifier::builder()
            .id(&id)
            .product_arn(product_arn)
            .build();
        let out = deps
            .client
            .batch_update_findings()
            .finding_identifiers(ids)
            .workflow(
                aws_sdk_securityhub::types::WorkflowUpdate::builder()
                    .status(status.as_str().into())
                    .build(),
            )
            .note(
                aws_sdk_securityhub::types::NoteUpdate::builder()
                    .text(note)
                    .updated_by(by)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| {
                ImportError::Call(
                    zw_aws::error::classify("securityhub", "BatchUpdateFindings", e).to_string(),
                )
            })?;
        if let Some(f) = out.unprocessed_findings().first() {
            return Err(ImportError::Refused(format!(
                "workflow not updated: {}: {}",
                f.error_code().unwrap_or("?"),
                f.error_message().unwrap_or("?")
            )));
        }
    }
    tracing::info!(finding = %id, %record_state, event_key = %detail.event_key, "imported into Security Hub");
    Ok(Imported {
        id,
        record_state,
        skipped: None,
    })
}

/// Why the table does not back the event up, or None when it does.
async fn disagreement(
    table: &FindingTable,
    detail: &Detail,
) -> Result<Option<String>, ImportError> {
    let Some(version) = detail.version else {
        return Ok(Some("the event carries no finding version".into()));
    };
    // Single mode keeps findings under `FINDING`, organization mode under
    // the member account's partition (docs/storage.md).
    let pk = match &detail.account {
        Some(a) if !a.id.is_empty() && a.id.bytes().all(|b| b.is_ascii_digit()) => {
            format!("ACCOUNT#{}#FINDING", a.id)
        }
        Some(a) => {
            return Ok(Some(format!(
                "`{}` is not an account id",
                a.id.escape_debug()
            )));
        }
        None => "FINDING".to_owned(),
    };
    let sk = format!("{}#{}", detail.code, detail.resource.id);
    let got = table
        .client
        .get_item()
        .table_name(&table.name)
        .key("pk", AttributeValue::S(pk.clone()))
        .key("sk", AttributeValue::S(sk.clone()))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| {
            ImportError::Table(zw_aws::error::classify("dynamodb", "GetItem", e).to_string())
        })?;
    let Some(item) = got.item() else {
        return Ok(Some(format!(
            "no finding pk={pk} sk={sk} in table {}",
            table.name
        )));
    };
    let text = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).map(String::as_str);
    let stored_version = item
        .get("version")
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse::<u64>().ok());
    let stored_state = text("state").unwrap_or("?");
    let stored_severity = text("severity").unwrap_or("?");
    Ok(match stored_version {
        Some(v) if v < version => Some(format!(
            "the event claims version {version}; the table holds version {v}"
        )),
        None => Some("the table's finding has no version".into()),
        Some(v) if stored_state != detail.state => Some(format!(
            "the event says {}; the table says {stored_state} (version {v})",
            detail.state
        )),
        Some(v) if stored_state == "open" && stored_severity != detail.severity => Some(format!(
            "the event says severity {}; the table says {stored_severity} (version {v})",
            detail.severity
        )),
        Some(_) => None,
    })
}
