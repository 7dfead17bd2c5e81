//! The DynamoDB finding store. Schema: `docs/storage.md`.
//!
//! One table, three item families:
//!
//! | item            | pk                      | sk                                   | TTL (`expires_at`)       |
//! |-----------------|-------------------------|--------------------------------------|--------------------------|
//! | current finding | `FINDING`               | `<code>#<resource id>`               | only once resolved       |
//! | history entry   | `HISTORY#<yyyy-mm-dd>`  | `<at>#<code>#<resource id>#<what>`   | at + retention           |
//! | scan record     | `SCAN#<yyyy-mm-dd>`     | `<started_at>#<scan id>`             | started_at + retention   |
//! | outbox event    | `OUTBOX`                | `<at>#<event key>`                   | at + 30 days             |
//!
//! Every change of a current finding is a `Put` conditional on the version it
//! was planned from (`attribute_not_exists(pk)` for new ones) and on the
//! stored `last_evaluated` being no later than the writing scan's start (time
//! never runs backwards; items written before `last_evaluated` existed pass
//! on their version alone), sent together with its history entry in one
//! `TransactWriteItems` of up to 100 actions and `MAX_TRANSACT_BYTES`.
//! DynamoDB cancels a whole transaction when one condition fails; the
//! cancellation reasons say which, and the rest is sent again without them.
//! Each transaction carries a `ClientRequestToken` derived from the scan, the
//! group and its content, so that the SDK's retry of a transaction that was
//! applied (its answer lost) succeeds instead of failing its own conditions.

use crate::SystemClock;
use crate::usage::ApiCallCounter;
use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, Put, TransactWriteItem, WriteRequest,
};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use std::collections::HashMap;
use zw_core::finding::{Finding, FindingKey, FindingState, Resource, ResourceKind, StoredFinding};
use zw_core::notify::{self, FindingEvent, PendingEvent};
use zw_core::ports::{Clock, CommitOutcome, CurrentFindings, ErrorKind, FindingStore, PortError};
use zw_core::reconcile::{Change, Transition};
use zw_core::scan::ScanRecord;
use zw_core::{FindingCode, Severity};

/// DynamoDB's limit of actions in one transaction.
const MAX_TRANSACT_ACTIONS: usize = 100;
/// DynamoDB takes at most 4 MB of items in one transaction; a group is
/// closed below that, with room for what the estimate of `item_bytes`
/// leaves out.
const MAX_TRANSACT_BYTES: usize = 3_500_000;
pub const FINDING_PK: &str = "FINDING";
/// Finding events not sent yet (`zw_core::notify`).
pub const OUTBOX_PK: &str = "OUTBOX";
/// How long a scan's claim on an outbox event lasts: long enough for
/// PutEvents and its retries, short enough that a crashed scan's events go
/// out with the next one.
const OUTBOX_CLAIM: Duration = Duration::minutes(2);
/// An event EventBridge refused for a month is given up (TTL), so that a
/// permanently broken route cannot grow the outbox for ever.
const OUTBOX_DAYS: i64 = 30;

type Item = HashMap<String, AttributeValue>;

#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    retention_days: u32,
    /// How long scan records stay (`ZW_SCAN_RETENTION_DAYS`).
    scan_retention_days: u32,
    /// Whose findings: today's keys, or one member account's (organization mode).
    partition: crate::table::Partition,
    /// The suppressions document kept with the stack (`crate::triage`).
    suppressions: crate::document::Document,
}

impl DynamoStore {
    pub fn new(
        sdk: &SdkConfig,
        table: String,
        retention_days: u32,
        calls: &ApiCallCounter,
    ) -> Self {
        let conf = aws_sdk_dynamodb::config::Builder::from(sdk)
            .interceptor(calls.clone())
            .build();
        Self {
            client: Client::from_conf(conf),
            table,
            retention_days,
            scan_retention_days: retention_days,
            partition: crate::table::Partition::single(),
            suppressions: crate::document::Document::None(crate::document::NoDocument),
        }
    }

    /// The same store, keeping scan records `days` days (default: as long as
    /// the history).
    pub fn with_scan_retention(mut self, days: u32) -> Self {
        self.scan_retention_days = days;
        self
    }

    /// The same store, applying the suppressions of `document` besides the
    /// table's.
    pub fn with_suppressions(mut self, document: crate::document::Document) -> Self {
        self.suppressions = document;
        self
    }

    pub fn suppressions_document(&self) -> &crate::document::Document {
        &self.suppressions
    }

    /// The same store, keeping one member account's items under its own
    /// partition keys (organization mode).
    pub fn in_partition(mut self, partition: crate::table::Partition) -> Self {
        self.partition = partition;
        self
    }

    pub fn partition(&self) -> &crate::table::Partition {
        &self.partition
    }

    /// The table's client, for the other adapters that keep items in it
    /// (inventory cache, Route 53 budget): one DynamoDB client per process.
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}
fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}
fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}
/// `last_evaluated`: to the nanosecond, fixed width, so that the store's
/// condition compares it as text in time order.
fn ts_exact(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// An item's size as DynamoDB counts it (attribute names plus values),
/// for the strings and numbers this store writes; anything else is
/// over-estimated by its debug form.
pub fn item_bytes(item: &Item) -> usize {
    item.iter()
        .map(|(k, v)| {
            k.len()
                + match v {
                    AttributeValue::S(s) | AttributeValue::N(s) => s.len(),
                    other => format!("{other:?}").len(),
                }
        })
        .sum()
}

pub fn finding_sk(key: &FindingKey) -> String {
    format!("{}#{}", key.code.id(), key.resource_id)
}

/// The key in a finding item's `sk`, when its code is one this version knows.
pub fn parse_finding_sk(sk: &str) -> Option<FindingKey> {
    let (code, resource_id) = sk.split_once('#')?;
    Some(FindingKey {
        code: FindingCode::from_id(code)?,
        resource_id: resource_id.to_owned(),
    })
}

/// What a finding says, shared by current items and history entries.
fn described(f: &Finding) -> Item {
    HashMap::from([
        ("code".into(), s(f.code.id())),
        ("severity".into(), s(f.severity.as_str())),
        ("resource_kind".into(), s(f.resource.kind.as_str())),
        ("resource_id".into(), s(&f.resource.id)),
        ("resource_name".into(), s(&f.resource.name)),
        ("region".into(), s(f.region.as_str())),
        ("scope".into(), s(&f.scope)),
        ("message".into(), s(&f.message)),
        ("evidence".into(), s(f.evidence.to_string())),
    ])
}

/// The current-finding item for a change, planned by a scan that started
/// at `evaluated_at`.
pub fn finding_item(
    f: &Finding,
    version: u64,
    scan_id: &str,
    expires_at: Option<DateTime<Utc>>,
    evaluated_at: DateTime<Utc>,
) -> Item {
    let mut item = described(f);
    item.extend([
        ("pk".into(), s(FINDING_PK)),
        ("sk".into(), s(finding_sk(&f.key()))),
        ("item_type".into(), s("finding")),
        ("first_seen".into(), s(ts(f.first_seen))),
        ("last_seen".into(), s(ts(f.last_seen))),
        ("state".into(), s(f.state.as_str())),
        ("version".into(), n(version)),
        ("scan_id".into(), s(scan_id)),
        ("last_evaluated".into(), s(ts_exact(evaluated_at))),
    ]);
    if let Some(at) = f.resolved_at {
        item.insert("resolved_at".into(), s(ts(at)));
    }
    // JSON, as the CLI prints them; `suppression_id` beside it for people
    // reading the table.
    if let Some(by) = &f.suppression {
        item.insert("suppression_id".into(), s(&by.id));
        item.insert("suppression".into(), s(json_text(by)));
    }
    if let Some(ack) = &f.acknowledged {
        item.insert("acknowledged".into(), s(json_text(ack)));
    }
    if let Some(exp) = expires_at {
        item.insert("expires_at".into(), n(exp.timestamp()));
    }
    item
}

fn json_text(v: &impl serde::Serialize) -> String {
    // Our own plain structs: encoding them cannot fail.
    serde_json::to_string(v).unwrap_or_default()
}

fn outbox_item(e: &FindingEvent, at: DateTime<Utc>) -> Item {
    Item::from([
        ("pk".into(), s(OUTBOX_PK)),
        ("sk".into(), s(format!("{}#{}", ts(at), e.event_key))),
        ("item_type".into(), s("event")),
        ("detail_type".into(), s(e.detail_type)),
        ("detail".into(), s(e.detail.clone())),
        ("event_key".into(), s(e.event_key.clone())),
        ("at".into(), s(ts(at))),
        (
            "expires_at".into(),
            n((at + Duration::days(OUTBOX_DAYS)).timestamp()),
        ),
    ])
}

fn parse_outbox(item: &Item) -> Result<PendingEvent, String> {
    let get = |k: &str| {
        item.get(k)
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| format!("no `{k}`"))
    };
    let detail_type = match get("detail_type")?.as_str() {
        notify::OPENED => notify::OPENED,
        notify::CHANGED => notify::CHANGED,
        notify::RESOLVED => notify::RESOLVED,
        notify::SUPPRESSED => notify::SUPPRESSED,
        other => return Err(format!("detail type `{other}` unknown to this version")),
    };
    Ok(PendingEvent {
        id: get("sk")?.clone(),
        event: FindingEvent {
            detail_type,
            detail: get("detail")?.clone(),
            event_key: get("event_key")?.clone(),
        },
    })
}

fn history_item(c: &Change, t: Transition, scan_id: &str, retention_days: u32) -> Item {
    let f = &c.finding;
    let at = match t {
        Transition::Resolved => f.resolved_at.unwrap_or(f.last_seen),
        _ => f.last_seen,
    };
    let mut item = described(f);
    item.extend([
        ("pk".into(), s(format!("HISTORY#{}", at.format("%Y-%m-%d")))),
        (
            "sk".into(),
            s(format!(
                "{}#{}#{}#{}",
                ts(at),
                f.code.id(),
                f.resource.id,
                t.as_str()
            )),
        ),
        ("item_type".into(), s("history")),
        ("transition".into(), s(t.as_str())),
        ("at".into(), s(ts(at))),
        ("scan_id".into(), s(scan_id)),
        ("finding_version".into(), n(c.version)),
        (
            "expires_at".into(),
            n((at + Duration::days(i64::from(retention_days))).timestamp()),
        ),
    ]);
    if let Transition::SeverityChanged { from } = t {
        item.insert("previous_severity".into(), s(from.as_str()));
    }
    item
}

pub fn scan_item(scan: &ScanRecord, retention_days: u32) -> Result<Item, PortError> {
    let body = serde_json::to_string(scan).map_err(|e| {
        PortError::new(
            "dynamodb",
            "PutItem",
            ErrorKind::Other,
            format!("cannot encode scan record: {e}"),
        )
    })?;
    let mut item: Item = HashMap::from([
        (
            "pk".into(),
            s(format!("SCAN#{}", scan.started_at.format("%Y-%m-%d"))),
        ),
        (
            "sk".into(),
            s(format!("{}#{}", ts(scan.started_at), scan.scan_id)),
        ),
        ("item_type".into(), s("scan")),
        ("scan_id".into(), s(&scan.scan_id)),
        ("trigger".into(), s(&scan.trigger)),
        ("started_at".into(), s(ts(scan.started_at))),
        ("finished_at".into(), s(ts(scan.finished_at))),
        ("duration_ms".into(), n(scan.duration_ms)),
        ("families".into(), s(scan.families.join(","))),
        ("opened".into(), n(scan.opened)),
        ("resolved".into(), n(scan.resolved)),
        ("error_count".into(), n(scan.errors.len())),
        ("record".into(), s(body)),
        (
            "expires_at".into(),
            n((scan.started_at + Duration::days(i64::from(retention_days))).timestamp()),
        ),
    ]);
    for (sev, count) in &scan.open_findings {
        item.insert(format!("open_{}", sev.as_str()), n(count));
    }
    Ok(item)
}

/// Reads a current-finding item back. A malformed item is an error naming the
/// item and the attribute, never a panic or a silently skipped finding.
pub fn parse_finding(item: &Item) -> Result<StoredFinding, PortError> {
    let sk = item
        .get("sk")
        .and_then(|v| v.as_s().ok())
        .cloned()
        .unwrap_or_default();
    let bad = |attr: &str, why: &str| {
        PortError::new(
            "dynamodb",
            "Query",
            ErrorKind::InvalidResponse,
            format!("finding item pk=FINDING sk={sk}: attribute `{attr}` {why}"),
        )
    };
    let text = |attr: &str| -> Result<&str, PortError> {
        item.get(attr)
            .and_then(|v| v.as_s().ok())
            .map(String::as_str)
            .ok_or_else(|| bad(attr, "is missing or not a string"))
    };
    let time = |attr: &str| -> Result<DateTime<Utc>, PortError> {
        DateTime::parse_from_rfc3339(text(attr)?)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| bad(attr, "is not an RFC 3339 time"))
    };
    let code = FindingCode::from_id(text("code")?)
        .ok_or_else(|| bad("code", "is not a known finding code"))?;
    let severity: Severity = text("severity")?
        .parse()
        .map_err(|_| bad("severity", "is not a severity"))?;
    let state = match text("state")? {
        "open" => FindingState::Open,
        "suppressed" => FindingState::Suppressed,
        "resolved" => FindingState::Resolved,
        _ => return Err(bad("state", "is not open, suppressed or resolved")),
    };
    let suppression = match item.get("suppression") {
        None => None,
        Some(_) => Some(
            serde_json::from_str(text("suppression")?)
                .map_err(|e| bad("suppression", &format!("is not a suppression ({e})")))?,
        ),
    };
    let acknowledged = match item.get("acknowledged") {
        None => None,
        Some(_) => Some(
            serde_json::from_str(text("acknowledged")?)
                .map_err(|e| bad("acknowledged", &format!("is not an acknowledgement ({e})")))?,
        ),
    };
    let kind = ResourceKind::from_id(text("resource_kind")?)
        .ok_or_else(|| bad("resource_kind", "is not a known resource kind"))?;
    let version = item
        .get("version")
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| bad("version", "is missing or not a whole number"))?;
    let region = match text("region")? {
        "global" => zw_core::Region::global(),
        r => zw_core::Region::parse(r).map_err(|_| bad("region", "is not a region"))?,
    };
    let evidence =
        serde_json::from_str(text("evidence")?).map_err(|_| bad("evidence", "is not JSON"))?;
    let evaluated_at = if item.contains_key("last_evaluated") {
        Some(time("last_evaluated")?)
    } else {
        None
    };
    let stored = StoredFinding::without_evaluated_at(
        Finding {
            code,
            severity,
            resource: Resource {
                kind,
                id: text("resource_id")?.to_owned(),
                name: text("resource_name")?.to_owned(),
            },
            // Items written before scopes existed were scoped by region.
            scope: match item.get("scope").and_then(|v| v.as_s().ok()) {
                Some(scope) => scope.clone(),
                None => region.to_string(),
            },
            region,
            message: text("message")?.to_owned(),
            evidence,
            first_seen: time("first_seen")?,
            last_seen: time("last_seen")?,
            state,
            resolved_at: if item.contains_key("resolved_at") {
                Some(time("resolved_at")?)
            } else {
                None
            },
            suppression,
            acknowledged,
        },
        version,
    );
    // Items written before `last_evaluated` existed: when they were last
    // written, as far as their own times tell.
    Ok(match evaluated_at {
        Some(evaluated_at) => StoredFinding {
            evaluated_at,
            ..stored
        },
        None => stored,
    })
}

impl DynamoStore {
    fn error<E, R>(
        &self,
        operation: &'static str,
        e: aws_sdk_dynamodb::error::SdkError<E, R>,
    ) -> PortError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + 'static,
    {
        crate::error::table_error(&self.table, operation, e)
    }

    fn stamped(&self, mut item: Item) -> Item {
        self.partition.stamp(&mut item);
        item
    }

    /// The change's actions, each with the size of its item.
    fn actions(
        &self,
        scan_id: &str,
        c: &Change,
        announce: bool,
    ) -> Vec<(TransactWriteItem, usize)> {
        let item = self.stamped(finding_item(
            &c.finding,
            c.version,
            scan_id,
            c.expires_at,
            c.evaluated_at,
        ));
        let bytes = item_bytes(&item);
        let put = Put::builder().table_name(&self.table).set_item(Some(item));
        let put = match c.expected_version {
            None => put.condition_expression("attribute_not_exists(pk)"),
            // The stored item must be the version planned from, and judged
            // by a scan that started no later than this one (items older
            // than `last_evaluated` have only their version).
            Some(v) => put
                .condition_expression(
                    "version = :expected AND (attribute_not_exists(last_evaluated) OR last_evaluated <= :evaluated)",
                )
                .expression_attribute_values(":expected", n(v))
                .expression_attribute_values(":evaluated", s(ts_exact(c.evaluated_at))),
        };
        let mut out = Vec::with_capacity(3);
        if let Ok(put) = put.build() {
            out.push((TransactWriteItem::builder().put(put).build(), bytes));
        }
        if let Some(t) = c.transition {
            let item = self.stamped(history_item(c, t, scan_id, self.retention_days));
            let bytes = item_bytes(&item);
            let history = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                // Retried transactions must not write a second entry.
                .condition_expression("attribute_not_exists(pk)")
                .build();
            if let Ok(h) = history {
                out.push((TransactWriteItem::builder().put(h).build(), bytes));
            }
        }
        if announce && let Some(mut event) = notify::event_for(c, scan_id) {
            if let Some(a) = self.partition.account_ref() {
                notify::name_account(&mut event, &a.id, &a.name);
            }
            let item = self.stamped(outbox_item(&event, c.finding.last_seen));
            let bytes = item_bytes(&item);
            let outbox = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build();
            if let Ok(o) = outbox {
                out.push((TransactWriteItem::builder().put(o).build(), bytes));
            }
        }
        out
    }

    /// Sends one group of changes as a transaction; on cancellation, drops the
    /// changes whose condition failed and sends the rest again. Past `stop`,
    /// starts no further attempt.
    async fn commit_group(
        &self,
        scan_id: &str,
        group_index: usize,
        mut group: Vec<Prepared<'_>>,
        stop: Option<DateTime<Utc>>,
        outcome: &mut CommitOutcome,
    ) -> Result<(), PortError> {
        let mut transient_retries = 0;
        // Each attempt after a cancellation is a new request (the cancelled
        // one changed nothing): a new token.
        let mut round = 0u32;
        while !group.is_empty() {
            if round > 0 && past(stop) {
                return Err(out_of_time());
            }
            let mut owners = Vec::new();
            let mut items = Vec::new();
            for (i, p) in group.iter().enumerate() {
                for a in &p.actions {
                    owners.push(i);
                    items.push(a.clone());
                }
            }
            let token = request_token(scan_id, group_index, round, &group);
            round += 1;
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items))
                .client_request_token(token)
                .send()
                .await;
            match result {
                Ok(_) => {
                    outcome.applied += group.len();
                    return Ok(());
                }
                Err(err) => {
                    let reasons: Option<Vec<Option<String>>> = match err.as_service_error() {
                        Some(TransactWriteItemsError::TransactionCanceledException(tc)) => Some(
                            tc.cancellation_reasons()
                                .iter()
                                .map(|r| r.code().map(str::to_owned))
                                .collect(),
                        ),
                        _ => None,
                    };
                    let Some(reasons) = reasons else {
                        return Err(self.error("TransactWriteItems", err));
                    };
                    let failed: std::collections::BTreeSet<usize> = reasons
                        .iter()
                        .enumerate()
                        .filter(|(_, code)| code.as_deref() == Some("ConditionalCheckFailed"))
                        .filter_map(|(i, _)| owners.get(i).copied())
                        .collect();
                    if failed.is_empty() {
                        // Cancelled for another reason (TransactionConflict with a
                        // concurrent scan, throttling): back off and try again.
                        transient_retries += 1;
                        if transient_retries > 5 {
                            return Err(PortError::new(
                                "dynamodb",
                                "TransactWriteItems",
                                ErrorKind::Transient,
                                format!("transaction kept being cancelled: {:?}", err.code()),
                            ));
                        }
                        let jitter = rand::random_range(0..100u64);
                        tokio::time::sleep(std::time::Duration::from_millis(
                            100 * transient_retries + jitter,
                        ))
                        .await;
                        continue;
                    }
                    let mut keep = Vec::new();
                    for (i, p) in group.into_iter().enumerate() {
                        if failed.contains(&i) {
                            outcome.conflicts.push(p.change.key());
                        } else {
                            keep.push(p);
                        }
                    }
                    group = keep;
                }
            }
        }
        Ok(())
    }
}

/// One change with its actions, ready for a transaction.
struct Prepared<'a> {
    change: &'a Change,
    actions: Vec<TransactWriteItem>,
    bytes: usize,
}

/// Consecutive groups of `(actions, bytes)` entries, each within DynamoDB's
/// transaction limits (`MAX_TRANSACT_ACTIONS`, `MAX_TRANSACT_BYTES`); an
/// entry larger than a whole transaction goes alone.
fn transaction_groups(sizes: &[(usize, usize)]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut actions, mut bytes) = (0, 0, 0);
    for (i, &(a, b)) in sizes.iter().enumerate() {
        if i > start && (actions + a > MAX_TRANSACT_ACTIONS || bytes + b > MAX_TRANSACT_BYTES) {
            out.push(start..i);
            (start, actions, bytes) = (i, 0, 0);
        }
        actions += a;
        bytes += b;
    }
    if start < sizes.len() {
        out.push(start..sizes.len());
    }
    out
}

/// The `ClientRequestToken` of one attempt at one group (at most 36
/// characters): the same for the SDK's retries of that request, so that a
/// retry of a transaction that was applied succeeds instead of failing its
/// own conditions; different for any other scan, group, round or content
/// (DynamoDB refuses a token reused for other content within ten minutes).
/// `DefaultHasher::new()` has fixed keys, so the token is stable within a
/// build, which is all a retry needs.
fn request_token(scan_id: &str, group: usize, round: u32, changes: &[Prepared<'_>]) -> String {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let digest = |salt: &str| {
        let mut h = DefaultHasher::new();
        (salt, scan_id, group, round).hash(&mut h);
        for p in changes {
            format!("{:?}", p.change).hash(&mut h);
            p.actions.len().hash(&mut h);
        }
        h.finish()
    };
    format!("{:016x}{:016x}", digest("zw-1"), digest("zw-2"))
}

fn past(stop: Option<DateTime<Utc>>) -> bool {
    stop.is_some_and(|s| SystemClock.now() >= s)
}

fn out_of_time() -> PortError {
    PortError::new(
        "dynamodb",
        "TransactWriteItems",
        ErrorKind::Transient,
        "finding changes left unwritten: the invocation's end was near; the next scan writes them",
    )
}

impl DynamoStore {
    /// Claims an outbox event for `claimant` until `now + OUTBOX_CLAIM`,
    /// unless another scan's claim still runs. False: someone else sends it.
    async fn claim(&self, id: &str, claimant: &str, now: DateTime<Utc>) -> Result<bool, PortError> {
        let got = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(self.partition.pk(OUTBOX_PK)))
            .key("sk", s(id))
            .update_expression("SET claimed_by = :me, claimed_until = :until")
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(claimed_until) OR claimed_until < :now)",
            )
            .expression_attribute_values(":me", s(claimant))
            .expression_attribute_values(":until", n((now + OUTBOX_CLAIM).timestamp()))
            .expression_attribute_values(":now", n(now.timestamp()))
            .send()
            .await;
        match got {
            Ok(_) => Ok(true),
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(UpdateItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(false)
            }
            Err(e) => Err(self.error("UpdateItem", e)),
        }
    }
}

impl FindingStore for DynamoStore {
    async fn load_current(&self) -> Result<CurrentFindings, PortError> {
        let mut out = CurrentFindings::default();
        let items = crate::table::query_partition(
            &self.client,
            &self.table,
            &self.partition.pk(FINDING_PK),
        )
        .await?;
        for item in &items {
            match parse_finding(item) {
                Ok(f) => out.findings.push(f),
                Err(e) => {
                    let sk = item.get("sk").and_then(|v| v.as_s().ok());
                    let key = sk.and_then(|sk| parse_finding_sk(sk));
                    let at = sk.map_or("(no sk)", String::as_str);
                    out.unreadable.push((
                        key,
                        PortError::new(
                            "dynamodb",
                            "Query",
                            ErrorKind::Other,
                            format!(
                                "finding item `{at}` cannot be read by this version and is left as it is: {}",
                                e.message
                            ),
                        ),
                    ));
                }
            }
        }
        out.triage = match crate::triage::load_triage(self, SystemClock.now()).await {
            Ok(t) => t,
            Err(e) => {
                out.unreadable.push((None, e));
                zw_core::triage::Triage::unknown()
            }
        };
        Ok(out)
    }

    async fn save_inventory(
        &self,
        scopes: &[zw_core::inventory::ScopeInventory],
    ) -> Result<(), PortError> {
        let now = SystemClock.now();
        for scope in scopes {
            for item in crate::triage::estate_items(scope, &self.partition, now)? {
                self.client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .send()
                    .await
                    .map_err(|e| self.error("PutItem", e))?;
            }
        }
        Ok(())
    }

    async fn load(&self, keys: &[FindingKey]) -> Result<Vec<StoredFinding>, PortError> {
        let mut out = Vec::new();
        for k in keys {
            let got = self
                .client
                .get_item()
                .table_name(&self.table)
                .key("pk", s(self.partition.pk(FINDING_PK)))
                .key("sk", s(finding_sk(k)))
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| self.error("GetItem", e))?;
            if let Some(item) = got.item() {
                out.push(parse_finding(item)?);
            }
        }
        Ok(out)
    }

    async fn commit(
        &self,
        scan_id: &str,
        changes: &[Change],
        announce: bool,
        stop: Option<DateTime<Utc>>,
    ) -> Result<CommitOutcome, PortError> {
        let mut outcome = CommitOutcome::default();
        let prepared: Vec<Prepared<'_>> = changes
            .iter()
            .map(|c| {
                let sized = self.actions(scan_id, c, announce);
                Prepared {
                    change: c,
                    bytes: sized.iter().map(|(_, b)| b).sum(),
                    actions: sized.into_iter().map(|(a, _)| a).collect(),
                }
            })
            .collect();
        let sizes: Vec<(usize, usize)> = prepared
            .iter()
            .map(|p| (p.actions.len(), p.bytes))
            .collect();
        let mut prepared = prepared.into_iter();
        let mut groups = transaction_groups(&sizes)
            .into_iter()
            .map(|r| prepared.by_ref().take(r.len()).collect::<Vec<_>>())
            .collect::<Vec<_>>()
            .into_iter()
            .enumerate();
        while let Some((index, group)) = groups.next() {
            let keys: Vec<FindingKey> = group.iter().map(|p| p.change.key()).collect();
            let conflicts_before = outcome.conflicts.len();
            let result = if past(stop) {
                Err(out_of_time())
            } else {
                self.commit_group(scan_id, index, group, stop, &mut outcome)
                    .await
            };
            if let Err(e) = result {
                // Earlier groups are written: say exactly what was not.
                let lost: std::collections::BTreeSet<FindingKey> =
                    outcome.conflicts.drain(conflicts_before..).collect();
                outcome.conflicts.extend(lost.iter().cloned());
                outcome
                    .unwritten
                    .extend(keys.into_iter().filter(|k| !lost.contains(k)));
                outcome
                    .unwritten
                    .extend(groups.flat_map(|(_, g)| g).map(|p| p.change.key()));
                outcome.failed = Some(e);
                break;
            }
        }
        Ok(outcome)
    }

    async fn claim_events(
        &self,
        claimant: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<PendingEvent>, PortError> {
        let now = SystemClock.now();
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let query = self
                .client
                .query()
                .table_name(&self.table)
                .expression_attribute_values(":pk", s(self.partition.pk(OUTBOX_PK)))
                .consistent_read(true)
                // Read no more than the page needs (some may be claimed by
                // another scan: then the next read goes on from there).
                .limit(
                    i32::try_from(limit.saturating_sub(out.len()).clamp(1, 1_000)).unwrap_or(1_000),
                )
                .set_exclusive_start_key(start.take());
            let query = match after {
                Some(after) => query
                    .key_condition_expression("pk = :pk AND sk > :after")
                    .expression_attribute_values(":after", s(after)),
                None => query.key_condition_expression("pk = :pk"),
            };
            let page = query.send().await.map_err(|e| self.error("Query", e))?;
            for item in page.items() {
                let pending = match parse_outbox(item) {
                    Ok(p) => p,
                    // Written by a newer version: left for it to send.
                    Err(e) => {
                        tracing::warn!(error = %e, "outbox item skipped");
                        continue;
                    }
                };
                if self.claim(&pending.id, claimant, now).await? {
                    out.push(pending);
                    if out.len() >= limit {
                        return Ok(out);
                    }
                }
            }
            match page.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => return Ok(out),
            }
        }
    }

    async fn release_events(&self, ids: &[String], claimant: &str) -> Result<(), PortError> {
        for id in ids {
            let got = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", s(self.partition.pk(OUTBOX_PK)))
                .key("sk", s(id.clone()))
                .update_expression("REMOVE claimed_by, claimed_until")
                .condition_expression("claimed_by = :me")
                .expression_attribute_values(":me", s(claimant))
                .send()
                .await;
            match got {
                Ok(_) => {}
                // Not ours any more (expired and taken): nothing to give up.
                Err(e)
                    if matches!(
                        e.as_service_error(),
                        Some(UpdateItemError::ConditionalCheckFailedException(_))
                    ) => {}
                Err(e) => return Err(self.error("UpdateItem", e)),
            }
        }
        Ok(())
    }

    async fn events_sent(&self, ids: &[String]) -> Result<(), PortError> {
        let requests: Vec<WriteRequest> = ids
            .iter()
            .filter_map(|id| {
                let delete = DeleteRequest::builder()
                    .key("pk", s(self.partition.pk(OUTBOX_PK)))
                    .key("sk", s(id.clone()))
                    .build()
                    .ok()?;
                Some(WriteRequest::builder().delete_request(delete).build())
            })
            .collect();
        crate::table::batch_write(&self.client, &self.table, requests)
            .await
            .map_err(|e| PortError {
                message: format!(
                    "sent finding events could not be taken out of the outbox ({}); the next scan sends them again, with the same event_key",
                    e.message
                ),
                ..e
            })
    }

    async fn record_scan(&self, scan: &ScanRecord) -> Result<(), PortError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(
                self.stamped(scan_item(scan, self.scan_retention_days)?),
            ))
            .send()
            .await
            .map_err(|e| self.error("PutItem", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finding_keys_read_back_from_sk_when_the_code_is_known() {
        let key = FindingKey {
            code: FindingCode::CertExpiring,
            resource_id: "arn:aws:acm:eu-west-1:1:certificate/a#b".into(),
        };
        assert_eq!(parse_finding_sk(&finding_sk(&key)), Some(key));
        assert_eq!(parse_finding_sk("cert.from-the-future#arn"), None);
        assert_eq!(parse_finding_sk("no-separator"), None);
    }
    use zw_core::finding::Detection;

    fn finding() -> Finding {
        Finding::opened(
            Detection {
                code: FindingCode::CertValidationRecordMissing,
                severity: Severity::High,
                resource: Resource {
                    kind: ResourceKind::AcmCertificate,
                    id: "arn:aws:acm:eu-west-1:111122223333:certificate/abc".into(),
                    name: "api.example.com".into(),
                },
                region: zw_core::Region::parse("eu-west-1").expect("region"),
                scope: "eu-west-1".into(),
                message: "Validation CNAME missing".into(),
                evidence: serde_json::json!({"records": [{"record": "_x.api.example.com."}]}),
            },
            DateTime::from_timestamp(1_790_000_000, 123_000_000).expect("ts"),
        )
    }

    fn evaluated() -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_100, 123_456_789).expect("ts")
    }

    #[test]
    fn finding_items_round_trip() {
        let f = finding();
        let item = finding_item(&f, 7, "scan-1", None, evaluated());
        assert_eq!(
            item["sk"].as_s().expect("s"),
            "cert.validation-record-missing#arn:aws:acm:eu-west-1:111122223333:certificate/abc"
        );
        assert!(
            !item.contains_key("expires_at"),
            "open findings never expire"
        );
        let back = parse_finding(&item).expect("parses");
        assert_eq!(back.version, 7);
        assert_eq!(back.finding, f);
        assert_eq!(back.evaluated_at, evaluated(), "to the nanosecond");
    }

    /// Items written before `last_evaluated` existed read as evaluated when
    /// they were last written: at their resolve time, else their last
    /// sighting. And the text form sorts in time order (the store's
    /// condition compares it as text).
    #[test]
    fn items_without_last_evaluated_read_as_evaluated_at_their_last_write() {
        let mut f = finding();
        let mut item = finding_item(&f, 2, "s", None, evaluated());
        item.remove("last_evaluated");
        assert_eq!(
            parse_finding(&item).expect("parses").evaluated_at,
            f.last_seen
        );
        let resolved_at = f.last_seen + Duration::hours(3);
        f.state = FindingState::Resolved;
        f.resolved_at = Some(resolved_at);
        let mut item = finding_item(&f, 3, "s", None, evaluated());
        item.remove("last_evaluated");
        assert_eq!(
            parse_finding(&item).expect("parses").evaluated_at,
            resolved_at
        );
        let times = [
            DateTime::from_timestamp(1_790_000_000, 0).expect("ts"),
            DateTime::from_timestamp(1_790_000_000, 5).expect("ts"),
            DateTime::from_timestamp(1_790_000_000, 999_999_999).expect("ts"),
            DateTime::from_timestamp(1_790_000_001, 0).expect("ts"),
            DateTime::from_timestamp(4_000_000_000, 0).expect("ts"),
        ];
        for pair in times.windows(2) {
            assert!(ts_exact(pair[0]) < ts_exact(pair[1]), "{pair:?}");
        }
    }

    /// Groups close at 100 actions or at the byte budget, whichever comes
    /// first: thirty changes of 300 KB each never make one 4 MB transaction.
    #[test]
    fn transaction_groups_split_by_bytes_as_well_as_by_count() {
        let big = vec![(3, 300_000); 30];
        let groups = transaction_groups(&big);
        assert!(groups.len() >= 3, "{groups:?}");
        for g in &groups {
            let bytes: usize = big[g.clone()].iter().map(|(_, b)| b).sum();
            assert!(bytes <= MAX_TRANSACT_BYTES, "{g:?}: {bytes}");
        }
        assert_eq!(groups.iter().map(ExactSizeIterator::len).sum::<usize>(), 30);
        let small = vec![(3, 1_000); 70];
        let groups = transaction_groups(&small);
        assert_eq!(groups, vec![0..33, 33..66, 66..70], "by count");
        // One change larger than a transaction still goes, alone.
        let odd = vec![(1, 10), (3, MAX_TRANSACT_BYTES + 1), (1, 10)];
        assert_eq!(transaction_groups(&odd), vec![0..1, 1..2, 2..3]);
        assert!(transaction_groups(&[]).is_empty());
    }

    #[test]
    fn request_tokens_fit_and_differ_by_scan_group_round_and_content() {
        let a = Change {
            expected_version: Some(1),
            version: 2,
            finding: finding(),
            transition: None,
            expires_at: None,
            evaluated_at: evaluated(),
        };
        let mut b = a.clone();
        b.version = 3;
        fn prepared(c: &Change) -> Prepared<'_> {
            Prepared {
                change: c,
                actions: Vec::new(),
                bytes: 0,
            }
        }
        let (a, b) = (&a, &b);
        let scan = "lambda-8f0c2a51-0c0e-4b43-9c3e-1f2a3b4c5d6e";
        let token = request_token(scan, 0, 0, &[prepared(a)]);
        assert!(token.len() <= 36, "{token}");
        assert!(token.chars().all(|c| c.is_ascii_alphanumeric()), "{token}");
        assert_eq!(
            token,
            request_token(scan, 0, 0, &[prepared(a)]),
            "stable for a retry"
        );
        for other in [
            request_token("lambda-other", 0, 0, &[prepared(a)]),
            request_token(scan, 1, 0, &[prepared(a)]),
            request_token(scan, 0, 1, &[prepared(a)]),
            request_token(scan, 0, 0, &[prepared(b)]),
            request_token(scan, 0, 0, &[prepared(a), prepared(b)]),
        ] {
            assert_ne!(token, other);
        }
    }

    /// Items written by the certificate release have no `scope`: they were
    /// scoped by their region, and must still resolve when it is collected.
    #[test]
    fn items_without_a_scope_read_as_scoped_by_region() {
        let mut item = finding_item(&finding(), 3, "s", None, evaluated());
        item.remove("scope");
        let back = parse_finding(&item).expect("parses");
        assert_eq!(back.finding.scope, "eu-west-1");
    }

    #[test]
    fn a_malformed_item_names_the_attribute() {
        let mut item = finding_item(&finding(), 1, "s", None, evaluated());
        item.insert("version".into(), s("seven"));
        let e = parse_finding(&item).expect_err("bad version");
        assert!(e.message.contains("`version`"), "{e}");
        assert!(
            e.message.contains("sk=cert.validation-record-missing#"),
            "{e}"
        );
        let mut item = finding_item(&finding(), 1, "s", None, evaluated());
        item.insert("code".into(), s("cert.renamed"));
        assert!(
            parse_finding(&item)
                .expect_err("bad code")
                .message
                .contains("`code`")
        );
    }

    #[test]
    fn history_entries_expire_after_retention() {
        let f = finding();
        let change = Change {
            expected_version: None,
            version: 1,
            finding: f.clone(),
            transition: Some(Transition::Opened),
            expires_at: None,
            evaluated_at: f.last_seen,
        };
        let item = history_item(&change, Transition::Opened, "scan-1", 90);
        let exp: i64 = item["expires_at"].as_n().expect("n").parse().expect("int");
        assert_eq!(exp, (f.last_seen + Duration::days(90)).timestamp());
        assert!(item["pk"].as_s().expect("s").starts_with("HISTORY#"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Whatever a stored item holds (a newer version's, a hand edit, a
        /// truncated write), reading it answers a finding or an error that
        /// names what is wrong: never a panic.
        #[test]
        fn any_stored_item_reads_or_is_refused_with_a_reason(
            fields in proptest::collection::vec(
                (
                    proptest::sample::select(vec![
                        "pk", "sk", "code", "severity", "resource_kind", "resource_id",
                        "resource_name", "region", "scope", "message", "evidence",
                        "first_seen", "last_seen", "state", "resolved_at", "version",
                        "last_evaluated",
                        "detail_type", "detail", "event_key",
                    ]),
                    ".{0,40}",
                    proptest::bool::ANY,
                ),
                0..20,
            ),
        ) {
            let item: Item = fields
                .into_iter()
                .map(|(k, v, numeric)| {
                    let v = if numeric { AttributeValue::N(v) } else { AttributeValue::S(v) };
                    (k.to_owned(), v)
                })
                .collect();
            if let Err(e) = parse_finding(&item) {
                proptest::prop_assert!(!e.message.is_empty());
            }
            if let Err(e) = parse_outbox(&item) {
                proptest::prop_assert!(!e.is_empty());
            }
            if let Some(sk) = item.get("sk").and_then(|v| v.as_s().ok()) {
                let _ = parse_finding_sk(sk);
            }
        }
    }
}
