//! Operations on the findings table that several adapters share (the store,
//! its outbox, the DNS inventory cache): a whole partition read, and batch
//! writes that retry what DynamoDB leaves unprocessed.

use crate::error::table_error;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, WriteRequest};
use std::collections::HashMap;
use std::time::Duration;
use zw_core::ports::{ErrorKind, PortError};

pub type Item = HashMap<String, AttributeValue>;

/// BatchWriteItem takes at most 25 requests.
const BATCH_SIZE: usize = 25;
/// Attempts per batch before what is left unprocessed is an error.
const BATCH_ATTEMPTS: u32 = 8;

/// Every item of partition `pk`, strongly consistent, all pages.
pub async fn query_partition(
    client: &Client,
    table: &str,
    pk: &str,
) -> Result<Vec<Item>, PortError> {
    let mut out = Vec::new();
    let mut start: Option<Item> = None;
    loop {
        let page = client
            .query()
            .table_name(table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()))
            .consistent_read(true)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(|e| table_error(table, "Query", e))?;
        out.extend(page.items().iter().cloned());
        match page.last_evaluated_key() {
            Some(k) if !k.is_empty() => start = Some(k.clone()),
            _ => return Ok(out),
        }
    }
}

/// Sends write requests 25 at a time, retrying what DynamoDB left
/// unprocessed with exponential backoff and jitter.
pub async fn batch_write(
    client: &Client,
    table: &str,
    requests: Vec<WriteRequest>,
) -> Result<(), PortError> {
    for batch in requests.chunks(BATCH_SIZE) {
        let mut pending = batch.to_vec();
        let mut attempt = 0;
        while !pending.is_empty() {
            if attempt > 0 {
                let base = 50u64 << attempt.min(6);
                let jitter = rand::random_range(0..base);
                tokio::time::sleep(Duration::from_millis(base + jitter)).await;
            }
            attempt += 1;
            let out = client
                .batch_write_item()
                .request_items(table, pending)
                .send()
                .await
                .map_err(|e| table_error(table, "BatchWriteItem", e))?;
            pending = out
                .unprocessed_items()
                .and_then(|u| u.get(table))
                .cloned()
                .unwrap_or_default();
            if !pending.is_empty() && attempt >= BATCH_ATTEMPTS {
                return Err(PortError::new(
                    "dynamodb",
                    "BatchWriteItem",
                    ErrorKind::Throttled,
                    format!(
                        "{} items still unprocessed after {attempt} attempts",
                        pending.len()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Whose items an adapter reads and writes. A single-account deployment
/// keeps today's keys (`FINDING`, `SCAN#<day>`, ...); in organization mode
/// every partition key of an account's items is prefixed with
/// `ACCOUNT#<id>#`, so no partition is shared by the whole organization,
/// and every item names its account (`account_id`, `account_name`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Partition {
    account: Option<std::sync::Arc<zw_core::org::AccountRef>>,
}

/// The prefix of every organization-mode account partition.
pub const ACCOUNT_PREFIX: &str = "ACCOUNT#";

impl Partition {
    /// Today's unprefixed keys.
    pub fn single() -> Self {
        Self::default()
    }

    pub fn account(account: zw_core::org::AccountRef) -> Self {
        Self {
            account: Some(std::sync::Arc::new(account)),
        }
    }

    pub fn account_ref(&self) -> Option<&zw_core::org::AccountRef> {
        self.account.as_deref()
    }

    /// The partition key of `base` (`FINDING`, `HISTORY#2026-12-02`, ...).
    pub fn pk(&self, base: &str) -> String {
        match &self.account {
            None => base.to_owned(),
            Some(a) => format!("{ACCOUNT_PREFIX}{}#{base}", a.id),
        }
    }

    /// Moves a built item into this partition: its `pk` prefixed, its
    /// account named.
    pub fn stamp(&self, item: &mut Item) {
        let Some(a) = &self.account else { return };
        if let Some(AttributeValue::S(pk)) = item.get_mut("pk") {
            *pk = format!("{ACCOUNT_PREFIX}{}#{pk}", a.id);
        }
        item.insert("account_id".into(), AttributeValue::S(a.id.clone()));
        item.insert("account_name".into(), AttributeValue::S(a.name.clone()));
    }
}
