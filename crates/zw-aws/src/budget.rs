//! One Route 53 request budget for the whole account, held in the findings
//! table, so that every function and invocation (and a CLI run against the
//! same table) shares it: Route 53 allows 5 requests/s per account, and two
//! scans each pacing themselves to 2/s would together send 4/s.
//!
//! A fixed window per wall-clock second (or per `ceil(1 / rps)` seconds below
//! one request a second): the item `BUDGET#<name>` / `<window start>` counts
//! the requests granted in that window with an atomic conditional ADD, and a
//! request that finds the window full waits for the next one. Items expire by
//! TTL two minutes later. Each granted request costs one small write.
//!
//! The table is a courtesy, not a dependency: if it cannot be written
//! (missing, throttled, no permission), the request goes ahead on the
//! process's own pacing and the failure is logged once per process.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::AttributeValue;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone)]
pub struct TableBudget {
    client: Client,
    table: String,
    name: &'static str,
    window_secs: u64,
    per_window: u64,
    warned: Arc<AtomicBool>,
    /// Each member account has its own Route 53 quota (organization mode).
    partition: crate::table::Partition,
}

/// (window length in seconds, requests per window) for `rps`.
pub fn window_for(rps: f64) -> (u64, u64) {
    if rps >= 1.0 {
        (1, rps.floor() as u64)
    } else {
        let window = (1.0 / rps.max(0.001)).ceil() as u64;
        (window, 1)
    }
}

pub fn budget_pk(name: &str) -> String {
    format!("BUDGET#{name}")
}

impl TableBudget {
    pub fn new(client: Client, table: String, name: &'static str, rps: f64) -> Self {
        let (window_secs, per_window) = window_for(rps);
        Self {
            client,
            table,
            name,
            window_secs,
            per_window,
            warned: Arc::new(AtomicBool::new(false)),
            partition: crate::table::Partition::single(),
        }
    }

    pub fn in_partition(mut self, partition: crate::table::Partition) -> Self {
        self.partition = partition;
        self
    }

    /// Waits until the account-wide window has room, and takes a slot.
    pub async fn acquire(&self) {
        loop {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            let window = now.as_secs() / self.window_secs * self.window_secs;
            let taken = self
                .client
                .update_item()
                .table_name(&self.table)
                .key(
                    "pk",
                    AttributeValue::S(self.partition.pk(&budget_pk(self.name))),
                )
                .key("sk", AttributeValue::S(window.to_string()))
                .update_expression("ADD granted :one SET expires_at = :expires")
                .condition_expression("attribute_not_exists(granted) OR granted < :max")
                .expression_attribute_values(":one", AttributeValue::N("1".into()))
                .expression_attribute_values(":max", AttributeValue::N(self.per_window.to_string()))
                .expression_attribute_values(
                    ":expires",
                    AttributeValue::N((window + 120).to_string()),
                )
                .send()
                .await;
            match taken {
                Ok(_) => return,
                Err(e) if e.code() == Some("ConditionalCheckFailedException") => {
                    // Full: wait for the next window, with a little jitter so
                    // that waiting processes do not all ask at once.
                    let next = Duration::from_secs(window + self.window_secs);
                    let wait = next.saturating_sub(now)
                        + Duration::from_millis(rand::random_range(0..150));
                    tokio::time::sleep(wait).await;
                }
                Err(e) => {
                    if !self.warned.swap(true, Ordering::Relaxed) {
                        tracing::warn!(
                            budget = self.name,
                            table = %self.table,
                            error = %crate::error::classify("dynamodb", "UpdateItem", e),
                            "the account-wide request budget cannot be used; pacing this process only"
                        );
                    }
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_hold_the_configured_rate() {
        assert_eq!(window_for(2.0), (1, 2));
        assert_eq!(window_for(5.0), (1, 5));
        assert_eq!(window_for(2.5), (1, 2));
        assert_eq!(window_for(0.5), (2, 1));
        assert_eq!(window_for(0.3), (4, 1));
    }
}
