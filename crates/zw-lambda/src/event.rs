//! The EventBridge envelope every function reads, and the errors for events a
//! function does not accept. Each function decides from the envelope which
//! events start its scan (its own `event.rs`).

use crate::HandlerError;
use serde::Deserialize;

/// The EventBridge envelope, reduced to what decides and labels a scan.
#[derive(Debug, Deserialize)]
pub struct Envelope {
    pub source: String,
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    #[serde(default)]
    pub detail: serde_json::Value,
}

impl Envelope {
    pub fn parse(event: &serde_json::Value) -> Result<Self, EventError> {
        serde_json::from_value(event.clone()).map_err(|e| {
            // serde quotes the offending value: keep the message short, an
            // event's content must not be echoed at length into the logs.
            let mut m = e.to_string();
            if m.len() > 200 {
                let cut = (0..=200)
                    .rev()
                    .find(|i| m.is_char_boundary(*i))
                    .unwrap_or(0);
                m.truncate(cut);
                m.push('…');
            }
            EventError::Malformed(m)
        })
    }

    /// The event a function does not accept; `accepted` says what it takes.
    pub fn unsupported(&self, accepted: &'static str) -> EventError {
        EventError::Unsupported {
            event_source: self.source.chars().take(64).collect(),
            detail_type: self.detail_type.chars().take(64).collect(),
            accepted,
        }
    }

    /// The schedule's event (EventBridge rule or Scheduler).
    pub fn is_schedule(&self) -> bool {
        matches!(self.source.as_str(), "aws.events" | "aws.scheduler")
            && self.detail_type == "Scheduled Event"
    }

    /// A scan invoked by hand: `{"source": "zonewarden", "detail-type": "Manual Scan"}`.
    pub fn is_manual(&self) -> bool {
        self.source == "zonewarden"
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventError {
    #[error(
        "the event is not an EventBridge event ({0}); expected an object with `source` and `detail-type`, like the samples in events/"
    )]
    Malformed(String),
    #[error("events from `{event_source}` ({detail_type}) do not start this scan; send {accepted}")]
    Unsupported {
        event_source: String,
        detail_type: String,
        accepted: &'static str,
    },
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_malformed_event_is_named_briefly_and_classified() {
        let huge = "é".repeat(5_000);
        let e = Envelope::parse(&json!({"source": 1, "detail-type": huge})).expect_err("bad");
        assert!(matches!(e, EventError::Malformed(_)));
        assert!(e.to_string().len() < 400, "{e}");
        let h = HandlerError::from(e);
        assert!(matches!(
            h,
            HandlerError::Event {
                error_type: "InvalidEvent",
                ..
            }
        ));
    }

    #[test]
    fn an_unsupported_event_says_what_is_accepted() {
        let env = Envelope::parse(&json!({"source": "aws.ec2", "detail-type": "x"})).expect("ok");
        assert!(!env.is_schedule() && !env.is_manual());
        let e = env.unsupported("aws.events (schedule)");
        assert!(e.to_string().contains("send aws.events (schedule)"), "{e}");
        let h = HandlerError::from(e);
        assert!(matches!(
            h,
            HandlerError::Event {
                error_type: "UnsupportedEvent",
                ..
            }
        ));
        let s =
            Envelope::parse(&json!({"source": "aws.scheduler", "detail-type": "Scheduled Event"}))
                .expect("ok");
        assert!(s.is_schedule());
    }
}
