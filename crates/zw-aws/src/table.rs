//! Operations on the findings table that several adapters share (the store,
//! its outbox, the DNS inventory cache): a whole partition read, and batch
//! writes that retry what DynamoDB leaves unprocessed.

use crate::error::table_error;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, WriteRequest};
use std::collections::HashMap;
use std::time::Duration;
use zw_core::ports::{ErrorKind, PortError};

pub(crate) type Item = HashMap<String, AttributeValue>;

/// BatchWriteItem takes at most 25 requests.
const BATCH_SIZE: usize = 25;
/// Attempts per batch before what is left unprocessed is an error.
const BATCH_ATTEMPTS: u32 = 8;

/// Every item of partition `pk`, strongly consistent, all pages.
pub(crate) async fn query_partition(
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
pub(crate) async fn batch_write(
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
