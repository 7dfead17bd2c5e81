//! Event -> scan of the DNS family -> summary.

use crate::event::{self, EventError};
use lambda_runtime::LambdaEvent;
use zw_lambda::{Deps, HandlerError, Summary};

impl From<EventError> for HandlerError {
    fn from(e: EventError) -> Self {
        let error_type = match &e {
            EventError::Malformed(_) => "InvalidEvent",
            EventError::Unsupported { .. } => "UnsupportedEvent",
        };
        HandlerError::Event {
            error_type,
            message: e.to_string(),
        }
    }
}

pub async fn handle(
    deps: &Deps,
    event: LambdaEvent<serde_json::Value>,
) -> Result<Summary, HandlerError> {
    let trigger = event::parse(&event.payload)?;
    zw_lambda::scan(
        deps,
        zw_lambda::scan_id(&event),
        trigger.label(),
        trigger.changed_zones(),
    )
    .await
}
