//! `zonewarden export` and `zonewarden purge`: everything the product keeps
//! in its table, as JSON lines, and deleted. The table holds nothing but
//! zonewarden's items, so both read it with `Scan` (paged); nothing else
//! (no other table, no bucket) is read or touched. Format:
//! `docs/storage.md#export-and-purge`.

use crate::error::table_error;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, WriteRequest};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use zw_core::ports::PortError;

type Item = HashMap<String, AttributeValue>;

/// The export format's version (the `format` of every line).
pub const FORMAT: &str = "zonewarden-export/1";

/// Every kind of item, by its partition key (an account's partitions in
/// organization mode name the same kinds after `ACCOUNT#<id>#`).
pub const KINDS: [(&str, &str); 14] = [
    ("FINDING", "finding"),
    ("HISTORY#", "history"),
    ("SCAN#", "scan"),
    ("OUTBOX", "outbox"),
    ("SUPPRESSION", "suppression"),
    ("AUDIT#", "audit"),
    ("LICENSE#SENT", "license-sent"),
    ("LICENSE", "license"),
    ("INVENTORY#", "inventory"),
    ("HEALTH", "health-history"),
    ("RESUME#", "resume-cursor"),
    ("BUDGET#", "route53-budget"),
    ("ORG#", "organization"),
    ("ESTATE#", "estate"),
];

/// The kind of an item (`finding`, `history`, ...) and the member account
/// it belongs to, from its partition key; `other` for a key this version
/// does not know.
pub fn kind_of(pk: &str) -> (&'static str, Option<String>) {
    let (account, base) = match pk
        .strip_prefix(crate::table::ACCOUNT_PREFIX)
        .and_then(|rest| rest.split_once('#'))
    {
        Some((id, base)) => (Some(id.to_owned()), base),
        None => (None, pk),
    };
    let kind = KINDS
        .iter()
        .find(|(prefix, _)| {
            if prefix.ends_with('#') {
                base.starts_with(prefix)
            } else {
                base == *prefix
            }
        })
        .map_or("other", |(_, k)| *k);
    (kind, account)
}

/// One attribute value as plain JSON: strings, numbers (as numbers when
/// they fit), booleans, lists, maps; binary as base64.
pub fn plain(v: &AttributeValue) -> Value {
    match v {
        AttributeValue::S(s) => json!(s),
        AttributeValue::N(n) => n
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| n.parse::<f64>().map(Value::from))
            .unwrap_or_else(|_| json!(n)),
        AttributeValue::Bool(b) => json!(b),
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::L(l) => Value::Array(l.iter().map(plain).collect()),
        AttributeValue::M(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), plain(v))).collect())
        }
        AttributeValue::Ss(s) => json!(s),
        AttributeValue::Ns(n) => json!(n),
        AttributeValue::B(b) => json!(aws_smithy_types::base64::encode(b.as_ref())),
        AttributeValue::Bs(bs) => json!(
            bs.iter()
                .map(|b| aws_smithy_types::base64::encode(b.as_ref()))
                .collect::<Vec<_>>()
        ),
        _ => Value::Null,
    }
}

/// The item's latest time among its time attributes, when it has one.
fn latest_time(item: &Item) -> Option<DateTime<Utc>> {
    [
        "at",
        "last_seen",
        "started_at",
        "sent_at",
        "stored_at",
        "listed_at",
        "created_at",
        "resolved_at",
        "last_evaluated",
        "until",
    ]
    .iter()
    .filter_map(|k| item.get(*k).and_then(|v| v.as_s().ok()))
    .filter_map(|t| DateTime::parse_from_rfc3339(t).ok())
    .map(|t| t.with_timezone(&Utc))
    .max()
}

/// One line of the export.
pub fn line(item: &Item) -> Value {
    let pk = item
        .get("pk")
        .and_then(|v| v.as_s().ok())
        .map_or("", String::as_str);
    let (kind, account) = kind_of(pk);
    let attributes: Map<String, Value> = item
        .iter()
        .map(|(k, v)| (k.clone(), plain(v)))
        .collect::<BTreeMap<_, _>>()
        .into_iter()
        .collect();
    let mut out = json!({"format": FORMAT, "kind": kind, "item": attributes});
    if let Some(a) = account {
        out["account"] = json!(a);
    }
    out
}

/// What an export or purge went through, per kind.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub by_kind: BTreeMap<String, u64>,
    pub total: u64,
}

impl Counts {
    fn add(&mut self, kind: &str) {
        *self.by_kind.entry(kind.to_owned()).or_default() += 1;
        self.total += 1;
    }
}

/// Which items: of these kinds (all when empty), with a time on or after
/// `since` (items without a time are always included).
#[derive(Debug, Default, Clone)]
pub struct Selection {
    pub kinds: Vec<String>,
    pub since: Option<DateTime<Utc>>,
}

impl Selection {
    fn takes(&self, item: &Item) -> bool {
        let pk = item
            .get("pk")
            .and_then(|v| v.as_s().ok())
            .map_or("", String::as_str);
        let (kind, _) = kind_of(pk);
        (self.kinds.is_empty() || self.kinds.iter().any(|k| k == kind))
            && match (self.since, latest_time(item)) {
                (Some(since), Some(t)) => t >= since,
                _ => true,
            }
    }
}

/// Scans the whole table, a page at a time, handing each selected item to
/// `each`.
async fn scan_all(
    client: &Client,
    table: &str,
    keys_only: bool,
    mut each: impl FnMut(&Item) -> Result<(), PortError>,
) -> Result<(), PortError> {
    let mut start: Option<Item> = None;
    loop {
        let mut req = client
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start.take());
        if keys_only {
            req = req.projection_expression("pk, sk");
        }
        let page = req
            .send()
            .await
            .map_err(|e| table_error(table, "Scan", e))?;
        for item in page.items() {
            each(item)?;
        }
        match page.last_evaluated_key() {
            Some(k) if !k.is_empty() => start = Some(k.clone()),
            _ => return Ok(()),
        }
    }
}

/// Writes every selected item as one JSON line to `out`.
pub async fn export(
    client: &Client,
    table: &str,
    selection: &Selection,
    out: &mut dyn std::io::Write,
) -> Result<Counts, PortError> {
    let mut counts = Counts::default();
    scan_all(client, table, false, |item| {
        if !selection.takes(item) {
            return Ok(());
        }
        let l = line(item);
        counts.add(l["kind"].as_str().unwrap_or("other"));
        writeln!(out, "{l}").map_err(|e| {
            PortError::new(
                "file",
                "write",
                zw_core::ErrorKind::Other,
                format!("cannot write the export: {e}"),
            )
        })
    })
    .await?;
    Ok(counts)
}

/// Counts (with `delete`, deletes) every item of the table, 25 per
/// `BatchWriteItem`, retrying what DynamoDB leaves unprocessed. Stopped
/// halfway, it is simply run again: what is gone is not counted twice.
pub async fn purge(client: &Client, table: &str, delete: bool) -> Result<Counts, PortError> {
    let mut counts = Counts::default();
    let mut keys: Vec<Item> = Vec::new();
    scan_all(client, table, true, |item| {
        let pk = item
            .get("pk")
            .and_then(|v| v.as_s().ok())
            .map_or("", String::as_str);
        counts.add(kind_of(pk).0);
        keys.push(item.clone());
        Ok(())
    })
    .await?;
    if delete {
        for page in keys.chunks(500) {
            let requests: Vec<WriteRequest> = page
                .iter()
                .filter_map(|k| {
                    DeleteRequest::builder()
                        .set_key(Some(k.clone()))
                        .build()
                        .ok()
                        .map(|d| WriteRequest::builder().delete_request(d).build())
                })
                .collect();
            crate::table::batch_write(client, table, requests).await?;
        }
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_partition_names_its_kind_and_account() {
        for (pk, kind, account) in [
            ("FINDING", "finding", None),
            ("HISTORY#2026-12-03", "history", None),
            ("SCAN#2026-12-03", "scan", None),
            ("LICENSE", "license", None),
            ("LICENSE#SENT", "license-sent", None),
            ("AUDIT#2026-12", "audit", None),
            ("SUPPRESSION", "suppression", None),
            (
                "ACCOUNT#111122223333#FINDING",
                "finding",
                Some("111122223333"),
            ),
            (
                "ACCOUNT#111122223333#INVENTORY#Z1",
                "inventory",
                Some("111122223333"),
            ),
            ("ORG#ACCOUNTS", "organization", None),
            ("ESTATE#certificates", "estate", None),
            ("SOMETHING", "other", None),
        ] {
            assert_eq!(kind_of(pk), (kind, account.map(str::to_owned)), "{pk}");
        }
    }

    #[test]
    fn a_line_is_the_item_as_plain_json_with_its_kind() {
        let item = Item::from([
            ("pk".into(), AttributeValue::S("SCAN#2026-12-03".into())),
            ("sk".into(), AttributeValue::S("x".into())),
            ("opened".into(), AttributeValue::N("3".into())),
            ("ratio".into(), AttributeValue::N("0.5".into())),
            ("flag".into(), AttributeValue::Bool(true)),
        ]);
        let l = line(&item);
        assert_eq!(l["format"], FORMAT);
        assert_eq!(l["kind"], "scan");
        assert_eq!(l["item"]["opened"], 3);
        assert_eq!(l["item"]["ratio"], 0.5);
        assert_eq!(l["item"]["flag"], true);
        assert!(l.get("account").is_none());
    }

    #[test]
    fn since_keeps_recent_items_and_those_without_a_time() {
        let at = |t: &str| {
            Item::from([
                ("pk".into(), AttributeValue::S("AUDIT#2026-12".into())),
                ("at".into(), AttributeValue::S(t.into())),
            ])
        };
        let sel = Selection {
            kinds: vec!["audit".into()],
            since: Some("2026-12-01T00:00:00Z".parse().expect("t")),
        };
        assert!(sel.takes(&at("2026-12-02T00:00:00.000Z")));
        assert!(!sel.takes(&at("2026-11-30T00:00:00.000Z")));
        assert!(sel.takes(&Item::from([(
            "pk".into(),
            AttributeValue::S("AUDIT#2026-12".into())
        )])));
        assert!(!sel.takes(&Item::from([(
            "pk".into(),
            AttributeValue::S("FINDING".into())
        )])));
    }
}
