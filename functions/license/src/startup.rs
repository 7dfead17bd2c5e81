//! Init that never leaves CloudFormation waiting.
//!
//! The function is also the deploy-time custom resource
//! (`LicenseCheckAtDeploy`). If init failed and the process exited, Lambda
//! would report an init error for every invocation and nobody would answer
//! CloudFormation's presigned URL: the stack would wait for the custom
//! resource's `ServiceTimeout`, then fail its create or update, and a
//! delete would fail the same way. So a failed init still starts the
//! runtime, with a handler that answers every custom resource request:
//!
//! - Create and Update: SUCCESS, with the init error in `Reason` and
//!   `Data.Error` and `Data.Standing` = `unknown`. Licensing never blocks a
//!   deploy (the handler's rule for a vendor outage applies to our own
//!   configuration too): the scans carry on with the cached license or the
//!   free tier and say so (`license.grace`, `license.invalid`), and the
//!   error is in the function's log. FAILED would roll back a monitoring
//!   stack over a licensing setting, and the rollback's own requests would
//!   reach this same function.
//! - Delete: SUCCESS. Nothing was created, so there is nothing to undo, and
//!   a stack must never be kept from being deleted.
//!
//! Any other event (the daily schedule, a manual run) fails with
//! `InitFailed` and the configuration error, as a failed init would.

use crate::handler::{self, LicenseSummary};
use lambda_runtime::LambdaEvent;
use zw_lambda::{Deps, HandlerError};

/// What init produced: the function's dependencies, or why there are none.
#[derive(Debug, Clone)]
pub enum Service {
    Ready(Box<Deps>),
    /// The configuration error, one line per problem.
    InitFailed(String),
}

impl Service {
    /// Reads the configuration and builds the clients once (no scan family:
    /// this function reads the table, the key from SSM and talks to the
    /// vendor). A bad configuration is logged and kept, not fatal.
    pub async fn init(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        match Deps::from_vars(vars, &[]).await {
            Ok(deps) => Self::Ready(Box::new(deps)),
            Err(e) => {
                tracing::error!(error = %e, "init failed: the function answers CloudFormation's requests and refuses every other event");
                Self::InitFailed(e.to_string())
            }
        }
    }

    pub async fn handle(
        &self,
        event: LambdaEvent<serde_json::Value>,
    ) -> Result<LicenseSummary, HandlerError> {
        match self {
            Self::Ready(deps) => handler::handle(deps, event).await,
            Self::InitFailed(error) => answer_without_deps(error, event).await,
        }
    }
}

/// The handler of a function whose init failed (module docs).
async fn answer_without_deps(
    init_error: &str,
    event: LambdaEvent<serde_json::Value>,
) -> Result<LicenseSummary, HandlerError> {
    // One line, for the answer's Reason and Data.Error (GetAtt-able).
    let error = init_error
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let payload = event.payload;
    if payload.get("RequestType").is_none() {
        return Err(HandlerError::Event {
            error_type: "InitFailed",
            message: format!("the license function could not start: {error}"),
        });
    }
    let (request, url) = handler::custom_resource(payload)?;
    let summary = if request.request_type == "Delete" {
        LicenseSummary::stack_deleted()
    } else {
        LicenseSummary {
            trigger: format!("cloudformation: {}", request.request_type),
            validated: false,
            result: format!(
                "the license function could not start, nothing was validated (scans go on with the cached license or the free tier): {error}"
            ),
            standing: "unknown".into(),
            attempted: false,
        }
    };
    let data = serde_json::json!({
        "Standing": summary.standing,
        "Error": error.chars().take(500).collect::<String>(),
    });
    handler::answer_success(request, &url, &summary, data).await?;
    tracing::warn!(
        "zonewarden_license={}",
        serde_json::to_string(&summary).unwrap_or_default()
    );
    Ok(summary)
}
