//! Event (one, or an SQS batch of them) -> one scan of the certificate
//! and private CA families (or, on the domains schedule, of the domains
//! family) -> summary.

use crate::event;
use lambda_runtime::LambdaEvent;
use zw_lambda::{Deps, HandlerError, Summary};

/// What an invocation returns: a scan's summary, or the digest's.
#[derive(Debug, serde::Serialize)]
#[serde(untagged)]
pub enum Response {
    Scan(Summary),
    Digest(zw_lambda::DigestSummary),
}

/// The function's entry: the digest schedule sends the digest, everything
/// else scans.
pub async fn run(
    deps: &Deps,
    event: LambdaEvent<serde_json::Value>,
) -> Result<Response, HandlerError> {
    if matches!(event::parse(&event.payload), Ok(event::Trigger::Digest)) {
        return zw_lambda::digest(deps).await.map(Response::Digest);
    }
    handle(deps, event).await.map(Response::Scan)
}

pub async fn handle(
    deps: &Deps,
    event: LambdaEvent<serde_json::Value>,
) -> Result<Summary, HandlerError> {
    zw_lambda::selected_scan(
        deps,
        event,
        event::parse,
        event::Trigger::families,
        event::Trigger::label,
    )
    .await
}
