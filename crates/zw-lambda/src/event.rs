//! The EventBridge envelope every function reads, and the errors for events a
//! function does not accept. Each function decides from the envelope which
//! events start its scan (its own `event.rs`).
//!
//! An invocation carries one EventBridge event (the schedule, a manual scan)
//! or an SQS batch of them: the template routes bursts of service events
//! (ACM sends one per certificate per day, Route 53 changes come in runs)
//! through a queue whose batching window turns them into one scan.

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
        self.source == "zonewarden" && !self.is_digest() && !self.is_domains() && !self.is_mail()
    }

    /// The mail schedule's constant input (the endpoints function scans
    /// the mail family once a day):
    /// `{"source": "zonewarden", "detail-type": "Mail Scan"}`.
    pub fn is_mail(&self) -> bool {
        self.source == "zonewarden" && self.detail_type == "Mail Scan"
    }

    /// The domains schedule's constant input (the certificate function
    /// scans the domain registrations once a day):
    /// `{"source": "zonewarden", "detail-type": "Domains Scan"}`.
    pub fn is_domains(&self) -> bool {
        self.source == "zonewarden" && self.detail_type == "Domains Scan"
    }

    /// The digest schedule's constant input:
    /// `{"source": "zonewarden", "detail-type": "Digest"}`.
    pub fn is_digest(&self) -> bool {
        self.source == "zonewarden" && self.detail_type == "Digest"
    }
}

/// The trigger of functions that only run periodically (health checks,
/// endpoints): the schedule, or a manual run. Their label.
pub fn periodic(event: &serde_json::Value) -> Result<String, EventError> {
    let env = Envelope::parse(event)?;
    if env.is_schedule() {
        Ok("schedule".into())
    } else if env.is_manual() {
        Ok("manual".into())
    } else {
        Err(env.unsupported("aws.events (schedule) or zonewarden (manual)"))
    }
}

/// The events of one invocation, each parsed by the function's own parser.
#[derive(Debug, PartialEq, Eq)]
pub struct Batch<T> {
    pub triggers: Vec<T>,
    /// SQS messages refused (malformed or not for this function): reported
    /// back as `batchItemFailures`, so SQS keeps them and, after its retries,
    /// moves them to the dead-letter queue for inspection. Nothing is lost.
    pub refused: Vec<ItemFailure>,
}

/// One refused SQS message, in the shape Lambda's partial batch response reads.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ItemFailure {
    #[serde(rename = "itemIdentifier")]
    pub item_identifier: String,
}

/// At most this many events a batch's trigger label names.
const LABELS_NAMED: usize = 3;

impl<T> Batch<T> {
    /// Parses the invocation's payload: an SQS batch (`Records` with
    /// `eventSource` `aws:sqs`, each body an EventBridge event) or one event.
    /// A batch with no acceptable event at all is an error (the invocation
    /// fails and every message stays queued), as is a lone bad event.
    pub fn parse(
        payload: &serde_json::Value,
        parse: impl Fn(&serde_json::Value) -> Result<T, EventError>,
    ) -> Result<Self, EventError> {
        let Some(records) = sqs_records(payload) else {
            return Ok(Self {
                triggers: vec![parse(payload)?],
                refused: Vec::new(),
            });
        };
        if records.is_empty() {
            return Err(EventError::Malformed("an SQS batch without records".into()));
        }
        let mut triggers = Vec::new();
        let mut refused = Vec::new();
        let mut first_error = None;
        for record in records {
            let id = record
                .get("messageId")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default();
            let parsed = match record.get("body").and_then(serde_json::Value::as_str) {
                Some(body) => serde_json::from_str::<serde_json::Value>(body)
                    .map_err(|e| EventError::Malformed(format!("SQS message body: {e}")))
                    .and_then(|event| parse(&event)),
                None => Err(EventError::Malformed("SQS message without a body".into())),
            };
            match parsed {
                Ok(t) => triggers.push(t),
                Err(e) => {
                    tracing::warn!(message_id = %short(id), error = %e, "SQS message refused");
                    refused.push(ItemFailure {
                        item_identifier: id.to_owned(),
                    });
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) if triggers.is_empty() => Err(e),
            _ => Ok(Self { triggers, refused }),
        }
    }

    /// One label for the scan: the event's, or a count with the first few.
    pub fn label(&self, label: impl Fn(&T) -> String) -> String {
        let mut labels: Vec<String> = Vec::new();
        for t in &self.triggers {
            let l = label(t);
            if !labels.contains(&l) {
                labels.push(l);
            }
        }
        if self.triggers.len() == 1 {
            return labels.swap_remove(0);
        }
        let more = labels.len().saturating_sub(LABELS_NAMED);
        labels.truncate(LABELS_NAMED);
        let mut text = format!("{} events: {}", self.triggers.len(), labels.join(", "));
        if more > 0 {
            text.push_str(&format!(" and {more} more kind(s)"));
        }
        text
    }
}

fn sqs_records(payload: &serde_json::Value) -> Option<&Vec<serde_json::Value>> {
    let records = payload.get("Records")?.as_array()?;
    records
        .iter()
        .all(|r| r.get("eventSource").and_then(serde_json::Value::as_str) == Some("aws:sqs"))
        .then_some(records)
}

/// An identifier from outside, bounded before it is logged.
fn short(s: &str) -> String {
    s.chars().take(80).collect()
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

    fn source_of(e: &serde_json::Value) -> Result<String, EventError> {
        let env = Envelope::parse(e)?;
        if env.source == "aws.ec2" {
            return Err(env.unsupported("anything but aws.ec2"));
        }
        Ok(env.source)
    }

    fn message(id: &str, body: &str) -> serde_json::Value {
        json!({"messageId": id, "eventSource": "aws:sqs", "body": body})
    }

    #[test]
    fn an_sqs_batch_is_one_scan_of_every_acceptable_event() {
        let ok =
            r#"{"source": "aws.acm", "detail-type": "ACM Certificate Approaching Expiration"}"#;
        let batch = Batch::parse(
            &json!({"Records": [
                message("m1", ok),
                message("m2", "{not json"),
                message("m3", ok),
                message("m4", r#"{"source": "aws.ec2", "detail-type": "x"}"#),
            ]}),
            source_of,
        )
        .expect("two acceptable events");
        assert_eq!(batch.triggers, ["aws.acm", "aws.acm"]);
        let refused: Vec<&str> = batch
            .refused
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(refused, ["m2", "m4"], "refused messages stay queued");
        assert_eq!(batch.label(Clone::clone), "2 events: aws.acm");
    }

    #[test]
    fn a_batch_with_nothing_acceptable_fails_and_a_lone_event_is_itself() {
        let e = Batch::parse(&json!({"Records": [message("m1", "[]")]}), source_of)
            .expect_err("nothing acceptable");
        assert!(matches!(e, EventError::Malformed(_)), "{e}");
        let e = Batch::parse(&json!({"Records": []}), source_of).expect_err("empty");
        assert!(e.to_string().contains("without records"), "{e}");
        let one = Batch::parse(
            &json!({"source": "aws.events", "detail-type": "Scheduled Event"}),
            source_of,
        )
        .expect("one event");
        assert_eq!(one.triggers, ["aws.events"]);
        assert!(one.refused.is_empty());
        assert_eq!(one.label(Clone::clone), "aws.events");
        // `Records` that are not SQS messages are not a batch.
        assert!(Batch::parse(&json!({"Records": [{"eventSource": "aws:s3"}]}), source_of).is_err());
    }

    #[test]
    fn a_long_batch_label_names_a_few_kinds() {
        let batch = Batch {
            triggers: (0..10).map(|i| format!("k{i}")).collect::<Vec<_>>(),
            refused: Vec::new(),
        };
        assert_eq!(
            batch.label(Clone::clone),
            "10 events: k0, k1, k2 and 7 more kind(s)"
        );
    }

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
