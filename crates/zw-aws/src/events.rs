//! Finding events to EventBridge: `PutEvents` on the account's own bus
//! (`ZW_EVENT_BUS_NAME`, default `default`), at most 10 entries and 256 KB a
//! call; entries EventBridge refuses (throttling, internal failure) are sent
//! again a few times with jittered backoff, then reported per event so that
//! they stay in the outbox for the next scan.

use crate::error::classify;
use crate::usage::ApiCallCounter;
use aws_config::SdkConfig;
use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use futures::future::BoxFuture;
use zw_core::notify::{FindingEvent, SOURCE};
use zw_core::ports::{ErrorKind, EventSink, PortError};

/// PutEvents takes at most 10 entries...
const MAX_ENTRIES: usize = 10;
/// ...of at most 256 KB together.
const MAX_BATCH_BYTES: usize = 256 * 1024;
/// Sends of one event in one scan (the first and the retries).
const ATTEMPTS: u32 = 3;

#[derive(Debug, Clone)]
pub struct EventBridgeSink {
    client: Client,
    bus: String,
}

impl EventBridgeSink {
    pub fn new(sdk: &SdkConfig, bus: String, calls: &ApiCallCounter) -> Self {
        let conf = aws_sdk_eventbridge::config::Builder::from(sdk)
            .interceptor(calls.clone())
            .build();
        Self {
            client: Client::from_conf(conf),
            bus,
        }
    }

    async fn put(&self, events: &[&FindingEvent]) -> Vec<Result<(), PortError>> {
        let entries: Vec<PutEventsRequestEntry> = events
            .iter()
            .map(|e| {
                PutEventsRequestEntry::builder()
                    .source(SOURCE)
                    .detail_type(e.detail_type)
                    .detail(&e.detail)
                    .event_bus_name(&self.bus)
                    .build()
            })
            .collect();
        match self
            .client
            .put_events()
            .set_entries(Some(entries))
            .send()
            .await
        {
            Ok(out) => {
                let answered = out.entries();
                (0..events.len())
                    .map(|i| match answered.get(i) {
                        Some(entry) => match entry.error_code() {
                            None => Ok(()),
                            Some(code) => Err(PortError::new(
                                "events",
                                "PutEvents",
                                entry_kind(code),
                                format!(
                                    "{code}: {}",
                                    entry.error_message().unwrap_or("no message")
                                ),
                            )),
                        },
                        None => Err(PortError::new(
                            "events",
                            "PutEvents",
                            ErrorKind::InvalidResponse,
                            "EventBridge answered fewer entries than were sent",
                        )),
                    })
                    .collect()
            }
            Err(e) => {
                let e = classify("events", "PutEvents", e);
                events.iter().map(|_| Err(e.clone())).collect()
            }
        }
    }
}

/// What an entry's error code means for sending it again.
fn entry_kind(code: &str) -> ErrorKind {
    match code {
        "ThrottlingException" => ErrorKind::Throttled,
        "InternalFailure" | "InternalException" | "ServiceUnavailable" => ErrorKind::Transient,
        "AccessDeniedException" | "NotAuthorized" => ErrorKind::AccessDenied,
        _ => ErrorKind::InvalidRequest,
    }
}

/// The size EventBridge counts for an entry (source, detail type, detail).
fn entry_bytes(e: &FindingEvent) -> usize {
    SOURCE.len() + e.detail_type.len() + e.detail.len()
}

/// Groups of indices that fit one call each.
fn batches(events: &[&FindingEvent]) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut bytes = 0;
    for (i, e) in events.iter().enumerate() {
        let size = entry_bytes(e);
        match out.last_mut() {
            Some(b) if b.len() < MAX_ENTRIES && bytes + size <= MAX_BATCH_BYTES => {
                b.push(i);
                bytes += size;
            }
            _ => {
                out.push(vec![i]);
                bytes = size;
            }
        }
    }
    out
}

impl EventSink for EventBridgeSink {
    fn send<'a>(&'a self, events: &'a [FindingEvent]) -> BoxFuture<'a, Vec<Result<(), PortError>>> {
        Box::pin(async move {
            let mut results: Vec<Result<(), PortError>> = events
                .iter()
                .map(|_| {
                    Err(PortError::new(
                        "events",
                        "PutEvents",
                        ErrorKind::Transient,
                        "not sent",
                    ))
                })
                .collect();
            for attempt in 1..=ATTEMPTS {
                let todo: Vec<usize> = results
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.as_ref().is_err_and(|e| e.is_retryable()))
                    .map(|(i, _)| i)
                    .collect();
                if todo.is_empty() {
                    break;
                }
                if attempt > 1 {
                    let jitter = rand::random_range(0..200u64);
                    tokio::time::sleep(std::time::Duration::from_millis(
                        200 * u64::from(attempt) + jitter,
                    ))
                    .await;
                }
                let refs: Vec<&FindingEvent> = todo.iter().map(|i| &events[*i]).collect();
                for batch in batches(&refs) {
                    let group: Vec<&FindingEvent> = batch.iter().map(|i| refs[*i]).collect();
                    let answers = self.put(&group).await;
                    for (b, answer) in batch.iter().zip(answers) {
                        results[todo[*b]] = answer;
                    }
                }
            }
            results
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(bytes: usize) -> FindingEvent {
        FindingEvent {
            detail_type: zw_core::notify::OPENED,
            detail: "x".repeat(bytes),
            event_key: "k".into(),
        }
    }

    #[test]
    fn batches_hold_ten_entries_and_256_kb_at_most() {
        let small: Vec<FindingEvent> = (0..23).map(|_| event(100)).collect();
        let refs: Vec<&FindingEvent> = small.iter().collect();
        let sizes: Vec<usize> = batches(&refs).iter().map(Vec::len).collect();
        assert_eq!(sizes, [10, 10, 3]);
        let big: Vec<FindingEvent> = (0..5).map(|_| event(100 * 1024)).collect();
        let refs: Vec<&FindingEvent> = big.iter().collect();
        let got = batches(&refs);
        assert_eq!(got, [vec![0, 1], vec![2, 3], vec![4]]);
        for b in &got {
            let bytes: usize = b.iter().map(|i| entry_bytes(refs[*i])).sum();
            assert!(bytes <= MAX_BATCH_BYTES);
        }
    }

    /// EventBridge takes two of three entries, throttles the third; the
    /// retry sends only the third. A malformed entry is not retried.
    #[tokio::test]
    async fn refused_entries_are_sent_again_alone_and_bad_ones_reported() {
        use aws_sdk_eventbridge::operation::put_events::PutEventsOutput;
        use aws_sdk_eventbridge::types::PutEventsResultEntry;
        use aws_smithy_mocks::{RuleMode, mock, mock_client};
        let first = mock!(aws_sdk_eventbridge::Client::put_events)
            .match_requests(|r| r.entries().len() == 4)
            .then_output(|| {
                PutEventsOutput::builder()
                    .failed_entry_count(2)
                    .entries(PutEventsResultEntry::builder().event_id("1").build())
                    .entries(
                        PutEventsResultEntry::builder()
                            .error_code("ThrottlingException")
                            .error_message("Rate exceeded")
                            .build(),
                    )
                    .entries(PutEventsResultEntry::builder().event_id("3").build())
                    .entries(
                        PutEventsResultEntry::builder()
                            .error_code("MalformedDetail")
                            .error_message("Detail is malformed")
                            .build(),
                    )
                    .build()
            });
        let retry = mock!(aws_sdk_eventbridge::Client::put_events)
            .match_requests(|r| {
                r.entries().len() == 1
                    && r.entries()[0].detail() == Some("2")
                    && r.entries()[0].source() == Some(SOURCE)
            })
            .then_output(|| {
                PutEventsOutput::builder()
                    .failed_entry_count(0)
                    .entries(PutEventsResultEntry::builder().event_id("2").build())
                    .build()
            });
        let client = mock_client!(aws_sdk_eventbridge, RuleMode::Sequential, &[&first, &retry]);
        let sink = EventBridgeSink {
            client,
            bus: "default".into(),
        };
        let events: Vec<FindingEvent> = (1..=4)
            .map(|i| FindingEvent {
                detail_type: zw_core::notify::OPENED,
                detail: i.to_string(),
                event_key: format!("k{i}"),
            })
            .collect();
        let results = sink.send(&events).await;
        assert!(
            results[0].is_ok() && results[1].is_ok() && results[2].is_ok(),
            "{results:?}"
        );
        let bad = results[3].as_ref().expect_err("malformed");
        assert_eq!(bad.kind, ErrorKind::InvalidRequest);
        assert!(bad.message.contains("MalformedDetail"), "{bad}");
    }

    #[test]
    fn throttling_and_internal_failures_are_retryable_the_rest_not() {
        assert!(ErrorKind::is_retryable(entry_kind("ThrottlingException")));
        assert!(ErrorKind::is_retryable(entry_kind("InternalFailure")));
        assert!(!ErrorKind::is_retryable(entry_kind("MalformedDetail")));
    }
}
