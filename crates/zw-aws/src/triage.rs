//! Suppressions, acknowledgements and the audit log in the findings table
//! (`zw_core::triage`). Schema: `docs/storage.md`.
//!
//! | item         | pk                 | sk                 | TTL (`expires_at`)          |
//! |--------------|--------------------|--------------------|-----------------------------|
//! | suppression  | `SUPPRESSION`      | `<id>`             | its end + 30 days           |
//! | audit entry  | `AUDIT#<yyyy-mm>`  | `<at>#<random>`    | at + `ZW_AUDIT_RETENTION_DAYS` |
//!
//! Suppressions are the deployment's, never a member account's: in
//! organization mode they stay unpartitioned and match accounts with their
//! `account` field. People change them (the CLI, with their own
//! credentials); the functions only read them. Every change a person makes
//! is one transaction with its audit entry: none happens without a trace.

use crate::document::Document;
use crate::error::table_error;
use crate::store::DynamoStore;
use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use chrono::{DateTime, Datelike, Duration, SecondsFormat, Utc};
use std::collections::HashMap;
use zw_core::finding::StoredFinding;
use zw_core::ports::{DocumentSource, ErrorKind, PortError};
use zw_core::triage::{Acknowledgement, AuditEntry, Suppression, Triage};

pub const SUPPRESSION_PK: &str = "SUPPRESSION";
/// Audit entries, one partition per month.
pub const AUDIT_PREFIX: &str = "AUDIT#";
/// An ended suppression stays readable this long (then TTL removes it;
/// the audit log keeps its story).
const ENDED_KEPT_DAYS: i64 = 30;

type Item = HashMap<String, AttributeValue>;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}
fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A new table suppression's id: `s-` and 8 random hex digits.
pub fn new_suppression_id() -> String {
    format!("s-{:08x}", rand::random::<u32>())
}

fn json_error(what: &str, e: serde_json::Error) -> PortError {
    PortError::new(
        "dynamodb",
        "PutItem",
        ErrorKind::Other,
        format!("cannot encode {what}: {e}"),
    )
}

pub fn suppression_item(x: &Suppression) -> Result<Item, PortError> {
    let record = serde_json::to_string(x).map_err(|e| json_error("the suppression", e))?;
    Ok(Item::from([
        ("pk".into(), s(SUPPRESSION_PK)),
        ("sk".into(), s(&x.id)),
        ("item_type".into(), s("suppression")),
        ("code".into(), s(&x.matcher.code)),
        ("reason".into(), s(&x.reason)),
        ("created_by".into(), s(&x.created_by)),
        ("until".into(), s(ts(x.until))),
        ("record".into(), s(record)),
        (
            "expires_at".into(),
            AttributeValue::N(
                (x.until + Duration::days(ENDED_KEPT_DAYS))
                    .timestamp()
                    .to_string(),
            ),
        ),
    ]))
}

pub fn parse_suppression(item: &Item) -> Result<Suppression, PortError> {
    let sk = item
        .get("sk")
        .and_then(|v| v.as_s().ok())
        .map_or("(no sk)", String::as_str);
    item.get("record")
        .and_then(|v| v.as_s().ok())
        .ok_or_else(|| "has no `record`".to_owned())
        .and_then(|r| serde_json::from_str(r).map_err(|e| format!("`record` is not a suppression ({e})")))
        .map_err(|why| {
            PortError::new(
                "dynamodb",
                "Query",
                ErrorKind::InvalidResponse,
                format!("suppression item pk={SUPPRESSION_PK} sk={sk} {why}; remove it with `zonewarden suppress remove {sk}` and add it again"),
            )
        })
}

fn audit_item(e: &AuditEntry, retention_days: u32) -> Result<Item, PortError> {
    let record = serde_json::to_string(e).map_err(|e| json_error("the audit entry", e))?;
    let mut item = Item::from([
        (
            "pk".into(),
            s(format!("{AUDIT_PREFIX}{}", e.at.format("%Y-%m"))),
        ),
        (
            "sk".into(),
            s(format!("{}#{:08x}", ts(e.at), rand::random::<u32>())),
        ),
        ("item_type".into(), s("audit")),
        ("at".into(), s(ts(e.at))),
        ("actor".into(), s(&e.actor)),
        ("action".into(), s(&e.action)),
        ("target".into(), s(&e.target)),
        ("record".into(), s(record)),
        (
            "expires_at".into(),
            AttributeValue::N(
                (e.at + Duration::days(i64::from(retention_days)))
                    .timestamp()
                    .to_string(),
            ),
        ),
    ]);
    item.retain(|_, v| !matches!(v, AttributeValue::S(t) if t.is_empty()));
    Ok(item)
}

/// A transaction item the SDK's builder refused (a missing required field:
/// our bug, reported as such).
fn unbuildable(e: aws_sdk_dynamodb::error::BuildError) -> PortError {
    PortError::new(
        "dynamodb",
        "TransactWriteItems",
        ErrorKind::Other,
        e.to_string(),
    )
}

fn put_new(table: &str, item: Item) -> Result<TransactWriteItem, PortError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(pk)")
        .build()
        .map_err(unbuildable)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// The suppressions a scan of `store` applies: the table's and the
/// document's. Err when either cannot be read (the scan then keeps every
/// finding's suppression state).
pub async fn load_triage(store: &DynamoStore, now: DateTime<Utc>) -> Result<Triage, PortError> {
    let items =
        crate::table::query_partition(store.client(), store.table(), SUPPRESSION_PK).await?;
    let mut suppressions = items
        .iter()
        .map(parse_suppression)
        .collect::<Result<Vec<_>, _>>()?;
    suppressions.extend(document_suppressions(store.suppressions_document(), now).await?);
    Ok(Triage {
        suppressions,
        account: store.partition().account_ref().map(|a| a.id.clone()),
        known: true,
        // Single mode judges every suppression; a member account's partition
        // the ones scoped to it (`zw_core::triage::usage_detections`).
        judge_usage: true,
    })
}

/// The suppressions of the document, or why it is refused (line and
/// column).
pub async fn document_suppressions(
    document: &Document,
    now: DateTime<Utc>,
) -> Result<Vec<Suppression>, PortError> {
    let Some(text) = document.fetch().await? else {
        return Ok(Vec::new());
    };
    let place = match document {
        Document::Parameter(p) => format!("SSM parameter {} (ZW_SUPPRESSIONS_PARAMETER)", p.name()),
        Document::File(f) => format!("file {} (ZW_SUPPRESSIONS_FILE)", f.path().display()),
        Document::None(_) => "document".to_owned(),
    };
    zw_core::triage::parse_file(&text, now).map_err(|e| {
        PortError::new(
            "suppressions",
            "parse",
            ErrorKind::InvalidRequest,
            format!(
                "the suppressions document in {place} is refused, {e}; fix it (docs/suppressions.md) — until then every finding keeps the suppression state it has"
            ),
        )
    })
}

/// Who is calling (`sts:GetCallerIdentity`): the identity a suppression,
/// an acknowledgement and an audit entry name.
pub async fn caller_identity(sdk: &SdkConfig) -> Result<String, PortError> {
    let client = aws_sdk_sts::Client::new(sdk);
    let out = client
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| crate::error::classify("sts", "GetCallerIdentity", e))?;
    out.arn().map(str::to_owned).ok_or_else(|| {
        PortError::new(
            "sts",
            "GetCallerIdentity",
            ErrorKind::InvalidResponse,
            "the answer names no ARN",
        )
    })
}

/// What people change in the table: suppressions, acknowledgements, and
/// the audit log of both.
#[derive(Debug, Clone)]
pub struct TableTriage {
    store: DynamoStore,
    audit_retention_days: u32,
}

impl TableTriage {
    pub fn new(store: DynamoStore, audit_retention_days: u32) -> Self {
        Self {
            store,
            audit_retention_days,
        }
    }

    fn table(&self) -> &str {
        self.store.table()
    }

    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), PortError> {
        self.store
            .client()
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                let mut err = table_error(self.table(), "TransactWriteItems", e);
                if err.message.contains("ConditionalCheckFailed") {
                    err.kind = ErrorKind::InvalidRequest;
                    err.message = format!(
                        "{} (it changed meanwhile: list it again and retry)",
                        err.message
                    );
                }
                err
            })
    }

    /// The table's suppressions (not the document's), ended ones included
    /// until TTL removes them.
    pub async fn list(&self) -> Result<Vec<Suppression>, PortError> {
        let items =
            crate::table::query_partition(self.store.client(), self.table(), SUPPRESSION_PK)
                .await?;
        items.iter().map(parse_suppression).collect()
    }

    /// Adds `x` (a new id), with its audit entry, in one transaction.
    pub async fn add(&self, x: &Suppression) -> Result<(), PortError> {
        let entry = AuditEntry {
            at: x.created_at,
            actor: x.created_by.clone(),
            action: "suppression-added".into(),
            target: x.id.clone(),
            before: None,
            after: serde_json::to_value(x).ok(),
        };
        self.transact(vec![
            put_new(self.table(), suppression_item(x)?)?,
            put_new(self.table(), audit_item(&entry, self.audit_retention_days)?)?,
        ])
        .await
    }

    /// Removes the table's suppression `id`, with its audit entry. None when
    /// there is no such suppression.
    pub async fn remove(
        &self,
        id: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Suppression>, PortError> {
        let Some(existing) = self.list().await?.into_iter().find(|x| x.id == id) else {
            return Ok(None);
        };
        let delete = Delete::builder()
            .table_name(self.table())
            .key("pk", s(SUPPRESSION_PK))
            .key("sk", s(id))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(unbuildable)?;
        let entry = AuditEntry {
            at: now,
            actor: actor.to_owned(),
            action: "suppression-removed".into(),
            target: id.to_owned(),
            before: serde_json::to_value(&existing).ok(),
            after: None,
        };
        self.transact(vec![
            TransactWriteItem::builder().delete(delete).build(),
            put_new(self.table(), audit_item(&entry, self.audit_retention_days)?)?,
        ])
        .await?;
        Ok(Some(existing))
    }

    /// Acknowledges a current finding of `store` (its partition), on the
    /// version it was read at, with its audit entry.
    pub async fn acknowledge(
        &self,
        store: &DynamoStore,
        finding: &StoredFinding,
        ack: Acknowledgement,
    ) -> Result<(), PortError> {
        let mut f = finding.finding.clone();
        let before = f.acknowledged.clone();
        f.acknowledged = Some(ack.clone());
        let version = finding.version + 1;
        let mut item =
            crate::store::finding_item(&f, version, "cli-ack", None, finding.evaluated_at);
        store.partition().stamp(&mut item);
        let put = Put::builder()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", AttributeValue::N(finding.version.to_string()))
            .build()
            .map_err(unbuildable)?;
        let entry = AuditEntry {
            at: ack.at,
            actor: ack.by.clone(),
            action: "finding-acknowledged".into(),
            target: format!("{} ({} {})", f.short_id(), f.code.id(), f.resource.id),
            before: before.and_then(|b| serde_json::to_value(b).ok()),
            after: serde_json::to_value(&ack).ok(),
        };
        self.transact(vec![
            TransactWriteItem::builder().put(put).build(),
            put_new(self.table(), audit_item(&entry, self.audit_retention_days)?)?,
        ])
        .await
    }

    /// Appends one entry to the audit log.
    pub async fn record(&self, entry: &AuditEntry) -> Result<(), PortError> {
        self.transact(vec![put_new(
            self.table(),
            audit_item(entry, self.audit_retention_days)?,
        )?])
        .await
    }

    /// The audit log from `since` to `now`, oldest first.
    pub async fn audit(
        &self,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<AuditEntry>, PortError> {
        let mut out = Vec::new();
        let mut month = since.date_naive().with_day(1).unwrap_or(since.date_naive());
        while month <= now.date_naive() {
            let pk = format!("{AUDIT_PREFIX}{}", month.format("%Y-%m"));
            for item in
                crate::table::query_partition(self.store.client(), self.table(), &pk).await?
            {
                let entry: AuditEntry = item
                    .get("record")
                    .and_then(|v| v.as_s().ok())
                    .and_then(|r| serde_json::from_str(r).ok())
                    .ok_or_else(|| {
                        PortError::new(
                            "dynamodb",
                            "Query",
                            ErrorKind::InvalidResponse,
                            format!("audit item in {pk} has no readable `record`"),
                        )
                    })?;
                if entry.at >= since {
                    out.push(entry);
                }
            }
            month = month
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(now.date_naive() + chrono::Days::new(1));
        }
        out.sort_by_key(|e| e.at);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zw_core::triage::{Matcher, Source};

    #[test]
    fn a_suppression_item_reads_back_as_written() {
        let x = Suppression {
            id: "s-0a1b2c3d".into(),
            matcher: Matcher {
                code: "health.*".into(),
                resource: Some("hc-*".into()),
                account: None,
                region: None,
                tag: None,
            },
            reason: "calculated children".into(),
            created_by: "arn:aws:iam::111122223333:user/alice".into(),
            created_at: "2026-12-03T10:00:00Z".parse().expect("t"),
            until: "2027-01-03T10:00:00Z".parse().expect("t"),
            source: Source::Table,
        };
        let item = suppression_item(&x).expect("item");
        assert_eq!(parse_suppression(&item).expect("parse"), x);
        assert_eq!(
            item["expires_at"],
            AttributeValue::N(
                ("2027-02-02T10:00:00Z".parse::<DateTime<Utc>>().expect("t"))
                    .timestamp()
                    .to_string()
            )
        );
        let mut broken = item.clone();
        broken.insert("record".into(), s("{"));
        let e = parse_suppression(&broken).expect_err("broken");
        assert!(e.message.contains("sk=s-0a1b2c3d"), "{e}");
    }
}

/// What each scan looked at (`zw_core::inventory`): one item per (kind,
/// scope) and part, `pk = ESTATE#<kind>`, `sk = <scope>#<part>`. A scope's
/// entries are split into parts below DynamoDB's 400 KB item limit; a
/// reader keeps, per scope, the parts of its latest write only.
pub const ESTATE_PREFIX: &str = "ESTATE#";
/// Entries of a scope not seen again for this long are dropped by TTL.
const ESTATE_KEPT_DAYS: i64 = 30;
/// A part's entries stay below this much JSON.
const ESTATE_PART_BYTES: usize = 300_000;

/// The items for one scope's entries, `now` being the write's time.
pub fn estate_items(
    scope: &zw_core::inventory::ScopeInventory,
    partition: &crate::table::Partition,
    now: DateTime<Utc>,
) -> Result<Vec<Item>, PortError> {
    let mut parts: Vec<Vec<&zw_core::inventory::InventoryEntry>> = vec![Vec::new()];
    let mut bytes = 0;
    for e in &scope.entries {
        let size = serde_json::to_string(e)
            .map_err(|e| json_error("an inventory entry", e))?
            .len();
        if bytes + size > ESTATE_PART_BYTES && parts.last().is_some_and(|p| !p.is_empty()) {
            parts.push(Vec::new());
            bytes = 0;
        }
        bytes += size;
        if let Some(p) = parts.last_mut() {
            p.push(e);
        }
    }
    let n = parts.len();
    parts
        .into_iter()
        .enumerate()
        .map(|(i, entries)| {
            let mut item = Item::from([
                (
                    "pk".into(),
                    s(format!("{ESTATE_PREFIX}{}", scope.kind.as_str())),
                ),
                ("sk".into(), s(format!("{}#{i}", scope.scope))),
                ("item_type".into(), s("estate")),
                ("scope".into(), s(&scope.scope)),
                ("written_at".into(), s(ts(now))),
                ("part".into(), AttributeValue::N(i.to_string())),
                ("parts".into(), AttributeValue::N(n.to_string())),
                (
                    "entries".into(),
                    s(serde_json::to_string(&entries)
                        .map_err(|e| json_error("inventory entries", e))?),
                ),
                (
                    "expires_at".into(),
                    AttributeValue::N(
                        (now + Duration::days(ESTATE_KEPT_DAYS))
                            .timestamp()
                            .to_string(),
                    ),
                ),
            ]);
            partition.stamp(&mut item);
            Ok(item)
        })
        .collect()
}

/// One scope's latest complete write of an inventory.
#[derive(Debug, Clone, PartialEq)]
pub struct EstateScope {
    pub scope: String,
    /// When it was written (None if the item's time is unreadable).
    pub written_at: Option<DateTime<Utc>>,
    pub entries: Vec<zw_core::inventory::InventoryEntry>,
}

/// The inventory of `kind` in `partition`: per scope, the entries of its
/// latest complete write.
pub async fn load_estate(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    partition: &crate::table::Partition,
    kind: zw_core::inventory::InventoryKind,
) -> Result<Vec<zw_core::inventory::InventoryEntry>, PortError> {
    Ok(load_estate_scopes(client, table, partition, kind)
        .await?
        .into_iter()
        .flat_map(|s| s.entries)
        .collect())
}

/// [`load_estate`], scope by scope, with when each was written.
pub async fn load_estate_scopes(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    partition: &crate::table::Partition,
    kind: zw_core::inventory::InventoryKind,
) -> Result<Vec<EstateScope>, PortError> {
    let pk = partition.pk(&format!("{ESTATE_PREFIX}{}", kind.as_str()));
    let items = crate::table::query_partition(client, table, &pk).await?;
    // scope -> (written_at, parts expected, entries of the parts read)
    type Written = (
        String,
        usize,
        usize,
        Vec<zw_core::inventory::InventoryEntry>,
    );
    let mut latest: std::collections::BTreeMap<String, Written> = std::collections::BTreeMap::new();
    for item in &items {
        let text = |k: &str| {
            item.get(k)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default()
        };
        let parts: usize = item
            .get("parts")
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse().ok())
            .unwrap_or(1);
        let entries: Vec<zw_core::inventory::InventoryEntry> =
            serde_json::from_str(&text("entries")).map_err(|e| {
                PortError::new(
                    "dynamodb",
                    "Query",
                    ErrorKind::InvalidResponse,
                    format!("inventory item {pk} {} is not readable: {e}", text("sk")),
                )
            })?;
        let written = text("written_at");
        let slot = latest
            .entry(text("scope"))
            .or_insert_with(|| (written.clone(), parts, 0, Vec::new()));
        if written > slot.0 {
            *slot = (written.clone(), parts, 0, Vec::new());
        }
        if written == slot.0 {
            slot.2 += 1;
            slot.3.extend(entries);
        }
    }
    Ok(latest
        .into_iter()
        // A write whose parts are not all there yet (or any more) is skipped.
        .filter(|(_, (_, parts, read, _))| read == parts)
        .map(|(scope, (written, _, _, entries))| EstateScope {
            scope,
            written_at: DateTime::parse_from_rfc3339(&written)
                .ok()
                .map(|t| t.with_timezone(&Utc)),
            entries,
        })
        .collect())
}

#[cfg(test)]
mod estate_tests {
    use super::*;
    use zw_core::inventory::{InventoryEntry, InventoryKind, ScopeInventory};

    #[test]
    fn a_large_scope_is_split_below_the_item_limit_and_every_entry_kept() {
        let now: DateTime<Utc> = "2026-12-03T10:00:00Z".parse().expect("t");
        let entries: Vec<InventoryEntry> = (0..3_000)
            .map(|i| InventoryEntry {
                id: format!("arn:aws:acm:eu-west-1:111122223333:certificate/{i:036}"),
                name: format!("n{i}.example.com"),
                region: "eu-west-1".into(),
                not_after: Some(now),
                details: std::collections::BTreeMap::from([(
                    "names".to_owned(),
                    serde_json::json!(vec![format!("n{i}.example.com"); 3]),
                )]),
                checked_at: now,
            })
            .collect();
        let scope = ScopeInventory {
            kind: InventoryKind::Certificates,
            scope: "eu-west-1".into(),
            entries: entries.clone(),
        };
        let items = estate_items(&scope, &crate::table::Partition::single(), now).expect("items");
        assert!(items.len() > 1, "split");
        let mut back = Vec::new();
        for item in &items {
            assert!(crate::store::item_bytes(item) < 400_000);
            assert_eq!(item["parts"], AttributeValue::N(items.len().to_string()));
            let part: Vec<InventoryEntry> =
                serde_json::from_str(item["entries"].as_s().expect("entries")).expect("json");
            back.extend(part);
        }
        assert_eq!(back, entries);
    }
}

/// The scan records of the last `days` days (newest first) in `partition`,
/// each as its JSON (`record`).
pub async fn recent_scans(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    partition: &crate::table::Partition,
    now: DateTime<Utc>,
    days: i64,
) -> Result<Vec<serde_json::Value>, PortError> {
    let mut out = Vec::new();
    for back in 0..days {
        let day = (now - Duration::days(back)).format("%Y-%m-%d");
        let pk = partition.pk(&format!("SCAN#{day}"));
        for item in crate::table::query_partition(client, table, &pk).await? {
            if let Some(record) = item
                .get("record")
                .and_then(|v| v.as_s().ok())
                .and_then(|r| serde_json::from_str::<serde_json::Value>(r).ok())
            {
                out.push(record);
            }
        }
    }
    out.sort_by(|a, b| {
        b["started_at"]
            .as_str()
            .unwrap_or_default()
            .cmp(a["started_at"].as_str().unwrap_or_default())
    });
    Ok(out)
}
