//! Where a cut-short certificate scan stopped, per region: one small item in
//! the findings table (`pk = RESUME#certificates`, `sk = <region>`, TTL 7
//! days), so the next scan describes first what this one did not reach. A
//! region larger than one invocation is then covered in a few, instead of
//! its first certificates being described again and again.
//!
//! Resuming is an optimisation of the order only: a cursor that cannot be
//! read or written means starting from the first certificate, never a
//! wrong or lost finding (what is not described keeps its findings).

use crate::SystemClock;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use zw_core::Region;
use zw_core::ports::Clock;

const PK: &str = "RESUME#certificates";
/// A cursor older than a week describes an estate that has moved on.
const TTL_DAYS: i64 = 7;

#[derive(Debug, Clone)]
pub struct ResumeCursor {
    client: Client,
    table: String,
    partition: crate::table::Partition,
}

impl ResumeCursor {
    /// On a client the process already has (the findings store's).
    pub fn new(client: Client, table: String) -> Self {
        Self {
            client,
            table,
            partition: crate::table::Partition::single(),
        }
    }

    pub fn in_partition(mut self, partition: crate::table::Partition) -> Self {
        self.partition = partition;
        self
    }

    /// The last ARN the previous cut-short scan of `region` described.
    pub async fn load(&self, region: &Region) -> Option<String> {
        let got = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(self.partition.pk(PK)))
            .key("sk", AttributeValue::S(region.to_string()))
            .consistent_read(true)
            .send()
            .await;
        match got {
            Ok(out) => out
                .item()
                .and_then(|i| i.get("after"))
                .and_then(|v| v.as_s().ok())
                .cloned(),
            Err(e) => {
                tracing::warn!(%region, error = %crate::error::classify("dynamodb", "GetItem", e), "cannot read where the last scan stopped; describing from the first certificate");
                None
            }
        }
    }

    /// Remembers that this scan of `region` stopped after `after`.
    pub async fn save(&self, region: &Region, after: &str) {
        let now = SystemClock.now();
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(self.partition.pk(PK)))
            .item("sk", AttributeValue::S(region.to_string()))
            .item("item_type", AttributeValue::S("resume".into()))
            .item("after", AttributeValue::S(after.to_owned()))
            .item("at", AttributeValue::S(now.to_rfc3339()))
            .item(
                "expires_at",
                AttributeValue::N(
                    (now + chrono::Duration::days(TTL_DAYS))
                        .timestamp()
                        .to_string(),
                ),
            )
            .send()
            .await;
        if let Err(e) = put {
            tracing::warn!(%region, error = %crate::error::classify("dynamodb", "PutItem", e), "cannot remember where this scan stopped; the next one starts from the first certificate");
        }
    }
}

/// The describe order: sorted, starting after `after` and wrapping around,
/// so that what the last scan did not reach comes first.
pub fn resume_order(mut arns: Vec<String>, after: Option<&str>) -> Vec<String> {
    arns.sort();
    arns.dedup();
    if let Some(after) = after {
        let split = arns.partition_point(|a| a.as_str() <= after);
        arns.rotate_left(split);
    }
    arns
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arns(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_order_continues_after_the_cursor_and_wraps_around() {
        let all = arns(&["d", "a", "c", "b", "e"]);
        assert_eq!(
            resume_order(all.clone(), None),
            arns(&["a", "b", "c", "d", "e"])
        );
        assert_eq!(
            resume_order(all.clone(), Some("b")),
            arns(&["c", "d", "e", "a", "b"])
        );
        // The cursor's certificate was deleted since: the next one after it.
        assert_eq!(
            resume_order(all.clone(), Some("bb")),
            arns(&["c", "d", "e", "a", "b"])
        );
        assert_eq!(
            resume_order(all.clone(), Some("e")),
            arns(&["a", "b", "c", "d", "e"])
        );
        assert_eq!(
            resume_order(all, Some("0")),
            arns(&["a", "b", "c", "d", "e"])
        );
        assert!(resume_order(Vec::new(), Some("x")).is_empty());
    }
}
