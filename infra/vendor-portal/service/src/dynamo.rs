//! The DynamoDB adapter: one table, string keys `pk` and `sk`, TTL on
//! `expires_at`.
//!
//! | item                         | pk                       | sk                    | notable attributes |
//! |------------------------------|--------------------------|-----------------------|--------------------|
//! | customer and subscription    | `CUS#<customer>`         | `CUSTOMER`            | name, plan, zones, certificates, accounts, status, renews_at, portal_token (hash or `revoked`), sessions_not_before_ms, active_keys |
//! | a key, customer side         | `CUS#<customer>`         | `KEY#<license>`       | key_hash, last4, state, created_at, revoked_at |
//! | last report of a license     | `CUS#<customer>`         | `COUNTS#<license>`    | at, product_version, the counts (absent when not sent); overwritten |
//! | key lookup by hash           | `KEYHASH#<sha256>`       | `KEYHASH`             | customer_id, license_id, last4, state |
//! | portal token lookup          | `PORTAL#<sha256>`        | `PORTAL`              | customer_id |
//! | portal session               | `SESSION#<sha256>`       | `SESSION`             | principal, staff_sub, staff_email, csrf, issued_at_ms, expires_at (TTL) |
//! | staff sign-in between steps  | `SIGNIN#<sha256>`        | `SIGNIN`              | username, cognito_session, step, csrf, expires_at (TTL, 5 min) |
//! | a staff member's sessions    | `STAFF#<pool sub>`       | `STAFF`               | sessions_not_before_ms |
//! | validation log line          | `LOG#<license>`          | `<RFC 3339 ms>#<rand>`| outcome, product_version, key_hint, expires_at (TTL, 90 days) |
//! | portal audit log line        | `AUDIT`                  | `<RFC 3339 ms>#<rand>`| actor_kind, actor, actor_sub, action, customer_id, detail, source, expires_at (TTL, 1 year) |
//! | rate window of a key         | `RATE#<license>`         | `W#<window start>`    | n, expires_at (TTL, window end + 1 h) |
//! | rate window of a source      | `SRC#<scope>#<address>`  | `W#<window start>`    | n, expires_at (TTL, window end + 1 h) |
//!
//! The customer partition answers the whole portal page in one query; the
//! logs and the rate counters have partitions of their own so that neither
//! grows it. Keys and tokens are found by the SHA-256 of their value: the
//! table never holds one in clear. The staff listing scans for `CUSTOMER`
//! items (fine for thousands of customers; a GSI on a `kind` attribute when
//! that stops being true). The audit log is one partition read newest first:
//! its writes are bounded by the portal routes' throttle and the per-source
//! sign-in limit, far below a partition's capacity.
//!
//! Every change a person makes is one `TransactWriteItems` holding the
//! change and its audit line.

use crate::model::{
    Actor, AuditAction, AuditEntry, AuditPage, Customer, CustomerView, KeyState, LastReport,
    LicenseKey, LogEntry, PendingSignIn, PortalToken, Principal, Session, StaffMember, StaffStep,
    Subscription,
};
use crate::store::{Result, StoreError, VendorStore};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue as AV, BillingMode, ConditionCheck, Delete,
    KeySchemaElement, KeyType, Put, ScalarAttributeType, SseSpecification, TimeToLiveSpecification,
    TransactWriteItem, Update,
};
use chrono::{DateTime, TimeZone, Utc};
use std::collections::HashMap;
use zw_license::{FleetCounts, Limits, SubscriptionStatus};

type Item = HashMap<String, AV>;

/// The store on a DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    async fn get(&self, pk: String, sk: &str) -> Result<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AV::S(pk))
            .key("sk", AV::S(sk.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("GetItem", e))?;
        Ok(out.item)
    }

    async fn query_partition(&self, pk: String) -> Result<Vec<Item>> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", AV::S(pk.clone()))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| classify("Query", e))?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(items),
            }
        }
    }
}

/// Creates the table as the template does (on-demand, encrypted, TTL on
/// `expires_at`): for local runs against moto and for tests.
pub async fn create_table(client: &Client, table: &str) -> Result<()> {
    let attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(|e| StoreError::Backend {
                operation: "CreateTable",
                detail: e.to_string(),
            })
    };
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .map_err(|e| StoreError::Backend {
                operation: "CreateTable",
                detail: e.to_string(),
            })
    };
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk")?)
        .attribute_definitions(attr("sk")?)
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?)
        .sse_specification(SseSpecification::builder().enabled(true).build())
        .send()
        .await
        .map_err(|e| classify("CreateTable", e))?;
    let ttl = TimeToLiveSpecification::builder()
        .enabled(true)
        .attribute_name("expires_at")
        .build()
        .map_err(|e| StoreError::Backend {
            operation: "UpdateTimeToLive",
            detail: e.to_string(),
        })?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(ttl)
        .send()
        .await
        .map_err(|e| classify("UpdateTimeToLive", e))?;
    Ok(())
}

fn classify<E, R>(operation: &'static str, err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match err.code() {
        Some(
            "ProvisionedThroughputExceededException"
            | "ThrottlingException"
            | "RequestLimitExceeded",
        ) => StoreError::Throttled { operation },
        _ => StoreError::Backend {
            operation,
            detail: DisplayErrorContext(&err).to_string(),
        },
    }
}

fn is_condition_failure<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    matches!(err.code(), Some("ConditionalCheckFailedException"))
}

/// Whether a transaction was cancelled because one of its conditions failed
/// (as opposed to a conflict with another transaction or a throttle, which
/// a retry may get past). Without cancellation reasons, any cancellation
/// counts as a failed condition.
fn tx_condition_failed<R>(err: &SdkError<TransactWriteItemsError, R>) -> bool {
    match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(e)) => {
            let reasons = e.cancellation_reasons();
            reasons.is_empty()
                || reasons
                    .iter()
                    .any(|r| r.code() == Some("ConditionalCheckFailed"))
        }
        _ => false,
    }
}

fn s(v: impl Into<String>) -> AV {
    AV::S(v.into())
}

fn n(v: impl ToString) -> AV {
    AV::N(v.to_string())
}

fn key_of(item: &Item) -> String {
    let part = |k: &str| {
        item.get(k)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default()
    };
    format!("{}/{}", part("pk"), part("sk"))
}

fn corrupt(item: &Item, detail: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        key: key_of(item),
        detail: detail.into(),
    }
}

fn get_s(item: &Item, name: &str) -> Result<String> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .cloned()
        .ok_or_else(|| corrupt(item, format!("no string {name}")))
}

fn get_n<T: std::str::FromStr>(item: &Item, name: &str) -> Result<T> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| corrupt(item, format!("no number {name}")))
}

fn opt_n<T: std::str::FromStr>(item: &Item, name: &str) -> Option<T> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

fn get_time(item: &Item, name: &str) -> Result<DateTime<Utc>> {
    let secs: i64 = get_n(item, name)?;
    Utc.timestamp_opt(secs, 0)
        .single()
        .ok_or_else(|| corrupt(item, format!("{name} out of range")))
}

/// Times compared with sessions are kept to the millisecond, so that a
/// session opened in the same second as a revocation is not mistaken for
/// one before it (or after).
fn get_time_ms(item: &Item, name: &str) -> Result<DateTime<Utc>> {
    let ms: i64 = get_n(item, name)?;
    Utc.timestamp_millis_opt(ms)
        .single()
        .ok_or_else(|| corrupt(item, format!("{name} out of range")))
}

fn customer_pk(id: &str) -> String {
    format!("CUS#{id}")
}

/// The `portal_token` attribute: the token's hash, or this for a revoked
/// token (a hash is 64 hex digits, so the two never meet).
const PORTAL_TOKEN_REVOKED: &str = "revoked";

fn customer_item(c: &Customer) -> Item {
    let sub = &c.subscription;
    let mut item: Item = HashMap::from([
        ("pk".into(), s(customer_pk(&c.id))),
        ("sk".into(), s("CUSTOMER")),
        ("customer_id".into(), s(&c.id)),
        ("name".into(), s(&c.name)),
        ("plan".into(), s(&sub.plan)),
        ("zones".into(), n(sub.limits.zones)),
        ("certificates".into(), n(sub.limits.certificates)),
        ("accounts".into(), n(sub.limits.accounts)),
        ("status".into(), s(sub.status.as_str())),
        ("renews_at".into(), n(sub.renews_at.timestamp())),
        ("created_at".into(), n(c.created_at.timestamp())),
        ("active_keys".into(), n(0)),
    ]);
    match &c.portal_token {
        PortalToken::Unrecorded => {}
        PortalToken::Current(hash) => {
            item.insert("portal_token".into(), s(hash));
        }
        PortalToken::Revoked => {
            item.insert("portal_token".into(), s(PORTAL_TOKEN_REVOKED));
        }
    }
    if let Some(t) = c.sessions_not_before {
        item.insert("sessions_not_before_ms".into(), n(t.timestamp_millis()));
    }
    item
}

fn customer_from(item: &Item) -> Result<Customer> {
    let status = get_s(item, "status")?;
    let portal_token = match item.get("portal_token").and_then(|v| v.as_s().ok()) {
        None => PortalToken::Unrecorded,
        Some(v) if v == PORTAL_TOKEN_REVOKED => PortalToken::Revoked,
        Some(v) => PortalToken::Current(v.clone()),
    };
    Ok(Customer {
        id: get_s(item, "customer_id")?,
        name: get_s(item, "name")?,
        subscription: Subscription {
            plan: get_s(item, "plan")?,
            limits: Limits {
                zones: get_n(item, "zones")?,
                certificates: get_n(item, "certificates")?,
                accounts: get_n(item, "accounts")?,
            },
            status: SubscriptionStatus::parse(&status)
                .ok_or_else(|| corrupt(item, format!("status {status:?}")))?,
            renews_at: get_time(item, "renews_at")?,
        },
        created_at: get_time(item, "created_at")?,
        portal_token,
        sessions_not_before: opt_n::<i64>(item, "sessions_not_before_ms")
            .and_then(|t| Utc.timestamp_millis_opt(t).single()),
    })
}

fn key_items(k: &LicenseKey) -> (Item, Item) {
    let mut own: Item = HashMap::from([
        ("pk".into(), s(customer_pk(&k.customer_id))),
        ("sk".into(), s(format!("KEY#{}", k.license_id))),
        ("customer_id".into(), s(&k.customer_id)),
        ("license_id".into(), s(&k.license_id)),
        ("key_hash".into(), s(&k.key_hash)),
        ("last4".into(), s(&k.last4)),
        ("state".into(), s(k.state.as_str())),
        ("created_at".into(), n(k.created_at.timestamp())),
    ]);
    if let Some(at) = k.revoked_at {
        own.insert("revoked_at".into(), n(at.timestamp()));
    }
    let mut lookup = own.clone();
    lookup.insert("pk".into(), s(format!("KEYHASH#{}", k.key_hash)));
    lookup.insert("sk".into(), s("KEYHASH"));
    (own, lookup)
}

fn key_from(item: &Item) -> Result<LicenseKey> {
    let state = get_s(item, "state")?;
    Ok(LicenseKey {
        license_id: get_s(item, "license_id")?,
        customer_id: get_s(item, "customer_id")?,
        key_hash: get_s(item, "key_hash")?,
        last4: get_s(item, "last4")?,
        state: KeyState::parse(&state).ok_or_else(|| corrupt(item, format!("state {state:?}")))?,
        created_at: get_time(item, "created_at")?,
        revoked_at: opt_n::<i64>(item, "revoked_at").and_then(|t| Utc.timestamp_opt(t, 0).single()),
    })
}

const COUNT_FIELDS: [&str; 9] = [
    "hosted_zones",
    "record_sets",
    "certificates",
    "health_checks",
    "findings_critical",
    "findings_high",
    "findings_medium",
    "findings_low",
    "findings_info",
];

fn counts_values(c: &FleetCounts) -> [u64; 9] {
    [
        c.hosted_zones,
        c.record_sets,
        c.certificates,
        c.health_checks,
        c.findings_critical,
        c.findings_high,
        c.findings_medium,
        c.findings_low,
        c.findings_info,
    ]
}

fn report_item(r: &LastReport) -> Item {
    let mut item: Item = HashMap::from([
        ("pk".into(), s(customer_pk(&r.customer_id))),
        ("sk".into(), s(format!("COUNTS#{}", r.license_id))),
        ("customer_id".into(), s(&r.customer_id)),
        ("license_id".into(), s(&r.license_id)),
        ("at".into(), n(r.at.timestamp())),
        ("product_version".into(), s(&r.product_version)),
    ]);
    if let Some(c) = &r.counts {
        for (name, value) in COUNT_FIELDS.iter().zip(counts_values(c)) {
            // Prefixed so that a count never shares a name with the
            // subscription's limit attributes.
            item.insert(format!("count_{name}"), n(value));
        }
    }
    item
}

fn report_from(item: &Item) -> Result<LastReport> {
    let c = |name: &str| opt_n::<u64>(item, &format!("count_{name}"));
    let counts = (|| {
        Some(FleetCounts {
            hosted_zones: c("hosted_zones")?,
            record_sets: c("record_sets")?,
            certificates: c("certificates")?,
            health_checks: c("health_checks")?,
            findings_critical: c("findings_critical")?,
            findings_high: c("findings_high")?,
            findings_medium: c("findings_medium")?,
            findings_low: c("findings_low")?,
            findings_info: c("findings_info")?,
        })
    })();
    Ok(LastReport {
        customer_id: get_s(item, "customer_id")?,
        license_id: get_s(item, "license_id")?,
        at: get_time(item, "at")?,
        product_version: get_s(item, "product_version")?,
        counts,
    })
}

fn log_item(l: &LogEntry, sk: &str) -> Item {
    HashMap::from([
        ("pk".into(), s(format!("LOG#{}", l.license_id))),
        ("sk".into(), s(sk)),
        ("customer_id".into(), s(&l.customer_id)),
        ("license_id".into(), s(&l.license_id)),
        ("at".into(), n(l.at.timestamp())),
        ("outcome".into(), s(&l.outcome)),
        ("product_version".into(), s(&l.product_version)),
        ("key_hint".into(), s(&l.key_hint)),
        ("expires_at".into(), n(l.expires_at)),
    ])
}

fn log_from(item: &Item) -> Result<LogEntry> {
    Ok(LogEntry {
        customer_id: get_s(item, "customer_id")?,
        license_id: get_s(item, "license_id")?,
        at: get_time(item, "at")?,
        outcome: get_s(item, "outcome")?,
        product_version: get_s(item, "product_version")?,
        key_hint: get_s(item, "key_hint")?,
        expires_at: get_n(item, "expires_at")?,
    })
}

fn build_err(
    operation: &'static str,
) -> impl Fn(aws_sdk_dynamodb::error::BuildError) -> StoreError {
    move |e| StoreError::Backend {
        operation,
        detail: e.to_string(),
    }
}

/// Sort keys of the logs: millisecond time (so they sort) and a random
/// suffix (so two lines in the same millisecond both land).
fn timed_sk(at: DateTime<Utc>, operation: &'static str) -> Result<String> {
    let suffix = crate::secrets::new_id("").map_err(|e| StoreError::Backend {
        operation,
        detail: e.to_string(),
    })?;
    Ok(format!("{}#{suffix}", at.format("%Y-%m-%dT%H:%M:%S%.3fZ")))
}

/// Whether a cursor from the audit page is a sort key this adapter wrote
/// (anything else is ignored rather than passed to DynamoDB).
fn is_timed_sk(cursor: &str) -> bool {
    let Some((time, suffix)) = cursor.split_once('#') else {
        return false;
    };
    time.len() == 24
        && DateTime::parse_from_rfc3339(time).is_ok()
        && suffix.len() == 20
        && suffix
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

const AUDIT_PK: &str = "AUDIT";

fn audit_item(a: &AuditEntry) -> Result<Item> {
    let mut item: Item = HashMap::from([
        ("pk".into(), s(AUDIT_PK)),
        ("sk".into(), s(timed_sk(a.at, "PutItem")?)),
        ("at".into(), n(a.at.timestamp())),
        ("actor_kind".into(), s(a.actor.kind())),
        ("actor".into(), s(a.actor.name())),
        ("action".into(), s(a.action.as_str())),
        ("detail".into(), s(&a.detail)),
        ("expires_at".into(), n(a.expires_at)),
    ]);
    if let Actor::Staff(m) = &a.actor {
        item.insert("actor_sub".into(), s(&m.sub));
    }
    if let Some(c) = &a.customer_id {
        item.insert("customer_id".into(), s(c));
    }
    if let Some(src) = &a.source {
        item.insert("source".into(), s(src));
    }
    Ok(item)
}

fn audit_from(item: &Item) -> Result<AuditEntry> {
    let kind = get_s(item, "actor_kind")?;
    let name = get_s(item, "actor")?;
    let actor = match kind.as_str() {
        "staff" => Actor::Staff(StaffMember {
            sub: get_s(item, "actor_sub")?,
            email: name,
        }),
        "customer" => Actor::Customer(name),
        "admin" => Actor::Admin(name),
        "unidentified" => Actor::Unidentified(name),
        other => return Err(corrupt(item, format!("actor_kind {other:?}"))),
    };
    let action = get_s(item, "action")?;
    let opt_s = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
    Ok(AuditEntry {
        at: get_time(item, "at")?,
        actor,
        action: AuditAction::parse(&action)
            .ok_or_else(|| corrupt(item, format!("action {action:?}")))?,
        customer_id: opt_s("customer_id"),
        detail: get_s(item, "detail")?,
        source: opt_s("source"),
        expires_at: get_n(item, "expires_at")?,
    })
}

fn session_item(session_hash: &str, session: &Session) -> Item {
    let mut item: Item = HashMap::from([
        ("pk".into(), s(format!("SESSION#{session_hash}"))),
        ("sk".into(), s("SESSION")),
        ("csrf".into(), s(&session.csrf)),
        (
            "issued_at_ms".into(),
            n(session.issued_at.timestamp_millis()),
        ),
        ("expires_at".into(), n(session.expires_at.timestamp())),
    ]);
    match &session.principal {
        Principal::Staff(m) => {
            item.insert("principal".into(), s("staff"));
            item.insert("staff_sub".into(), s(&m.sub));
            item.insert("staff_email".into(), s(&m.email));
        }
        Principal::Customer(id) => {
            item.insert("principal".into(), s(format!("customer:{id}")));
        }
    }
    item
}

/// A session as stored; `None` for a staff session from before staff were
/// named (it was opened with the shared staff token that no longer exists).
fn session_from(item: &Item) -> Result<Option<Session>> {
    let principal = get_s(item, "principal")?;
    let principal = match principal.strip_prefix("customer:") {
        Some(id) => Principal::Customer(id.to_owned()),
        None if principal == "staff" => {
            match (
                item.get("staff_sub").and_then(|v| v.as_s().ok()),
                item.get("staff_email").and_then(|v| v.as_s().ok()),
            ) {
                (Some(sub), Some(email)) => Principal::Staff(StaffMember {
                    sub: sub.clone(),
                    email: email.clone(),
                }),
                _ => return Ok(None),
            }
        }
        None => return Err(corrupt(item, format!("principal {principal:?}"))),
    };
    let expires_at = get_time(item, "expires_at")?;
    Ok(Some(Session {
        principal,
        csrf: get_s(item, "csrf")?,
        // Sessions from before `issued_at_ms` was kept: as old as they can be.
        issued_at: get_time_ms(item, "issued_at_ms")
            .unwrap_or(expires_at - chrono::Duration::days(1)),
        expires_at,
    }))
}

const TX: &str = "TransactWriteItems";

impl DynamoStore {
    fn tx_put(&self, item: Item, condition: Option<&str>) -> Result<TransactWriteItem> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(condition.map(str::to_owned))
            .build()
            .map_err(build_err(TX))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    fn tx_audit(&self, entry: &AuditEntry) -> Result<TransactWriteItem> {
        self.tx_put(audit_item(entry)?, Some("attribute_not_exists(pk)"))
    }

    fn tx_delete(&self, pk: String, sk: &str) -> Result<TransactWriteItem> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .build()
            .map_err(build_err(TX))?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    fn tx_customer_exists(&self, customer_id: &str) -> Result<TransactWriteItem> {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .key("pk", s(customer_pk(customer_id)))
            .key("sk", s("CUSTOMER"))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(build_err(TX))?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// Marks one of a key's two records revoked, if it is still active.
    fn tx_revoke(&self, pk: String, sk: String, at: DateTime<Utc>) -> Result<TransactWriteItem> {
        let update = Update::builder()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .update_expression("SET #state = :revoked, revoked_at = :at")
            .condition_expression("#state = :active")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":revoked", s(KeyState::Revoked.as_str()))
            .expression_attribute_values(":active", s(KeyState::Active.as_str()))
            .expression_attribute_values(":at", n(at.timestamp()))
            .build()
            .map_err(build_err(TX))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Sends a transaction; `on_condition` names what a failed condition means.
    async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
        on_condition: impl FnOnce() -> StoreError,
    ) -> Result<()> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if tx_condition_failed(&e) => Err(on_condition()),
            Err(e) => Err(classify(TX, e)),
        }
    }
}

#[async_trait::async_trait]
impl VendorStore for DynamoStore {
    async fn create_customer(
        &self,
        customer: &Customer,
        portal_token_hash: &str,
        audit: &AuditEntry,
    ) -> Result<()> {
        let portal: Item = HashMap::from([
            ("pk".into(), s(format!("PORTAL#{portal_token_hash}"))),
            ("sk".into(), s("PORTAL")),
            ("customer_id".into(), s(&customer.id)),
        ]);
        let items = vec![
            self.tx_put(customer_item(customer), Some("attribute_not_exists(pk)"))?,
            self.tx_put(portal, Some("attribute_not_exists(pk)"))?,
            self.tx_audit(audit)?,
        ];
        self.transact(items, || StoreError::Conflict {
            what: format!("customer {}", customer.id),
        })
        .await
    }

    async fn customer(&self, customer_id: &str) -> Result<Option<Customer>> {
        self.get(customer_pk(customer_id), "CUSTOMER")
            .await?
            .map(|i| customer_from(&i))
            .transpose()
    }

    async fn customers(&self) -> Result<Vec<Customer>> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression("sk = :c")
                .expression_attribute_values(":c", s("CUSTOMER"))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| classify("Scan", e))?;
            for item in page.items.unwrap_or_default() {
                out.push(customer_from(&item)?);
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        Ok(out)
    }

    async fn set_subscription(
        &self,
        customer_id: &str,
        sub: &Subscription,
        audit: &AuditEntry,
    ) -> Result<()> {
        let update = Update::builder()
            .table_name(&self.table)
            .key("pk", s(customer_pk(customer_id)))
            .key("sk", s("CUSTOMER"))
            .update_expression(
                "SET #plan = :plan, #zones = :z, #certificates = :c, #accounts = :a, #status = :st, #renews_at = :r",
            )
            .condition_expression("attribute_exists(pk)")
            // Several of these are DynamoDB reserved words: alias them all.
            .expression_attribute_names("#plan", "plan")
            .expression_attribute_names("#zones", "zones")
            .expression_attribute_names("#certificates", "certificates")
            .expression_attribute_names("#accounts", "accounts")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#renews_at", "renews_at")
            .expression_attribute_values(":plan", s(&sub.plan))
            .expression_attribute_values(":z", n(sub.limits.zones))
            .expression_attribute_values(":c", n(sub.limits.certificates))
            .expression_attribute_values(":a", n(sub.limits.accounts))
            .expression_attribute_values(":st", s(sub.status.as_str()))
            .expression_attribute_values(":r", n(sub.renews_at.timestamp()))
            .build()
            .map_err(build_err(TX))?;
        let items = vec![
            TransactWriteItem::builder().update(update).build(),
            self.tx_audit(audit)?,
        ];
        self.transact(items, || StoreError::NotFound {
            what: format!("customer {customer_id}"),
        })
        .await
    }

    async fn customer_for_portal_token(&self, token_hash: &str) -> Result<Option<String>> {
        self.get(format!("PORTAL#{token_hash}"), "PORTAL")
            .await?
            .map(|i| get_s(&i, "customer_id"))
            .transpose()
    }

    async fn replace_portal_token(
        &self,
        customer_id: &str,
        expected: &PortalToken,
        new_hash: Option<&str>,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<()> {
        let mut update = Update::builder()
            .table_name(&self.table)
            .key("pk", s(customer_pk(customer_id)))
            .key("sk", s("CUSTOMER"))
            .update_expression("SET portal_token = :new, sessions_not_before_ms = :at")
            .expression_attribute_values(":new", s(new_hash.unwrap_or(PORTAL_TOKEN_REVOKED)))
            .expression_attribute_values(":at", n(at.timestamp_millis()));
        update = match expected {
            PortalToken::Unrecorded => update.condition_expression(
                "attribute_exists(pk) AND attribute_not_exists(portal_token)",
            ),
            PortalToken::Current(old) => update
                .condition_expression("portal_token = :old")
                .expression_attribute_values(":old", s(old)),
            PortalToken::Revoked => update
                .condition_expression("portal_token = :old")
                .expression_attribute_values(":old", s(PORTAL_TOKEN_REVOKED)),
        };
        let mut items = vec![
            TransactWriteItem::builder()
                .update(update.build().map_err(build_err(TX))?)
                .build(),
            self.tx_audit(audit)?,
        ];
        if let PortalToken::Current(old) = expected {
            items.push(self.tx_delete(format!("PORTAL#{old}"), "PORTAL")?);
        }
        if let Some(new) = new_hash {
            let lookup: Item = HashMap::from([
                ("pk".into(), s(format!("PORTAL#{new}"))),
                ("sk".into(), s("PORTAL")),
                ("customer_id".into(), s(customer_id)),
            ]);
            items.push(self.tx_put(lookup, Some("attribute_not_exists(pk)"))?);
        }
        self.transact(items, || StoreError::Conflict {
            what: format!("the portal token of customer {customer_id}"),
        })
        .await
    }

    async fn issue_key(
        &self,
        key: &LicenseKey,
        max_active: u32,
        seen_active: u32,
        audit: &AuditEntry,
    ) -> Result<()> {
        let (own, lookup) = key_items(key);
        // The count lives on the customer item, so the cap holds however
        // many requests issue keys at once. Customers from before the count
        // start from the number of active keys the caller read.
        let count = Update::builder()
            .table_name(&self.table)
            .key("pk", s(customer_pk(&key.customer_id)))
            .key("sk", s("CUSTOMER"))
            .update_expression("SET active_keys = if_not_exists(active_keys, :seen) + :one")
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(active_keys) OR active_keys < :max)",
            )
            .expression_attribute_values(":seen", n(seen_active))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(max_active))
            .build()
            .map_err(build_err(TX))?;
        let items = vec![
            TransactWriteItem::builder().update(count).build(),
            self.tx_put(own, Some("attribute_not_exists(pk)"))?,
            self.tx_put(lookup, Some("attribute_not_exists(pk)"))?,
            self.tx_audit(audit)?,
        ];
        self.transact(items, || StoreError::LimitReached {
            what: format!(
                "customer {} already has {max_active} active keys (the most allowed); revoke one first",
                key.customer_id
            ),
        })
        .await
    }

    async fn key_by_hash(&self, key_hash: &str) -> Result<Option<LicenseKey>> {
        self.get(format!("KEYHASH#{key_hash}"), "KEYHASH")
            .await?
            .map(|i| key_from(&i))
            .transpose()
    }

    async fn revoke_key(
        &self,
        customer_id: &str,
        license_id: &str,
        at: DateTime<Utc>,
        seen_active: u32,
        audit: &AuditEntry,
    ) -> Result<LicenseKey> {
        let not_found = || StoreError::NotFound {
            what: format!("license {license_id} of customer {customer_id}"),
        };
        let read = || async {
            self.get(customer_pk(customer_id), &format!("KEY#{license_id}"))
                .await?
                .ok_or_else(not_found)
                .and_then(|item| key_from(&item))
        };
        let mut key = read().await?;
        if key.state == KeyState::Revoked {
            return Ok(key);
        }
        let uncount = Update::builder()
            .table_name(&self.table)
            .key("pk", s(customer_pk(customer_id)))
            .key("sk", s("CUSTOMER"))
            .update_expression("SET active_keys = if_not_exists(active_keys, :seen) - :one")
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(active_keys) OR active_keys > :zero)",
            )
            .expression_attribute_values(":seen", n(seen_active))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":zero", n(0))
            .build()
            .map_err(build_err(TX))?;
        let items = vec![
            self.tx_revoke(customer_pk(customer_id), format!("KEY#{license_id}"), at)?,
            self.tx_revoke(format!("KEYHASH#{}", key.key_hash), "KEYHASH".into(), at)?,
            TransactWriteItem::builder().update(uncount).build(),
            self.tx_audit(audit)?,
        ];
        match self
            .transact(items, || StoreError::Conflict {
                what: format!("license {license_id}"),
            })
            .await
        {
            Ok(()) => {
                key.state = KeyState::Revoked;
                key.revoked_at = Some(at);
                Ok(key)
            }
            // Revoked by another request meanwhile: the outcome asked for.
            Err(StoreError::Conflict { .. }) => match read().await? {
                k if k.state == KeyState::Revoked => Ok(k),
                _ => Err(StoreError::Conflict {
                    what: format!("license {license_id}"),
                }),
            },
            Err(e) => Err(e),
        }
    }

    async fn rotate_key(
        &self,
        old: &LicenseKey,
        new: &LicenseKey,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<()> {
        let (own, lookup) = key_items(new);
        let items = vec![
            self.tx_customer_exists(&old.customer_id)?,
            self.tx_revoke(
                customer_pk(&old.customer_id),
                format!("KEY#{}", old.license_id),
                at,
            )?,
            self.tx_revoke(format!("KEYHASH#{}", old.key_hash), "KEYHASH".into(), at)?,
            self.tx_put(own, Some("attribute_not_exists(pk)"))?,
            self.tx_put(lookup, Some("attribute_not_exists(pk)"))?,
            self.tx_audit(audit)?,
        ];
        self.transact(items, || StoreError::Conflict {
            what: format!("license {} (no longer active)", old.license_id),
        })
        .await
    }

    async fn customer_view(&self, customer_id: &str) -> Result<Option<CustomerView>> {
        let items = self.query_partition(customer_pk(customer_id)).await?;
        let mut customer = None;
        let mut keys = Vec::new();
        let mut reports = Vec::new();
        for item in &items {
            let sk = get_s(item, "sk")?;
            if sk == "CUSTOMER" {
                customer = Some(customer_from(item)?);
            } else if sk.starts_with("KEY#") {
                keys.push(key_from(item)?);
            } else if sk.starts_with("COUNTS#") {
                reports.push(report_from(item)?);
            }
        }
        keys.sort_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then_with(|| a.license_id.cmp(&b.license_id))
        });
        Ok(customer.map(|customer| CustomerView {
            customer,
            keys,
            reports,
        }))
    }

    async fn record_validation(&self, report: Option<&LastReport>, log: &LogEntry) -> Result<()> {
        if let Some(r) = report {
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(report_item(r)))
                .send()
                .await
                .map_err(|e| classify("PutItem", e))?;
        }
        let sk = timed_sk(log.at, "PutItem")?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(log_item(log, &sk)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|e| classify("PutItem", e))?;
        Ok(())
    }

    async fn log_entries(&self, license_id: &str) -> Result<Vec<LogEntry>> {
        self.query_partition(format!("LOG#{license_id}"))
            .await?
            .iter()
            .map(log_from)
            .collect()
    }

    async fn take_slot(
        &self,
        bucket: &str,
        window_start: i64,
        limit: u32,
        expires_at: i64,
    ) -> Result<bool> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(bucket))
            .key("sk", s(format!("W#{window_start}")))
            .update_expression("SET expires_at = :exp ADD n :one")
            .condition_expression("attribute_not_exists(n) OR n < :limit")
            .expression_attribute_values(":exp", n(expires_at))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(limit))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(classify("UpdateItem", e)),
        }
    }

    async fn return_slot(&self, bucket: &str, window_start: i64) -> Result<()> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(bucket))
            .key("sk", s(format!("W#{window_start}")))
            .update_expression("ADD n :minus")
            .condition_expression("n > :zero")
            .expression_attribute_values(":minus", n(-1))
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        match result {
            // Nothing to give back (the window is gone): nothing to do.
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(classify("UpdateItem", e)),
        }
    }

    async fn put_session(
        &self,
        session_hash: &str,
        session: &Session,
        audit: &AuditEntry,
    ) -> Result<()> {
        let items = vec![
            self.tx_put(session_item(session_hash, session), None)?,
            self.tx_audit(audit)?,
        ];
        self.transact(items, || StoreError::Conflict {
            what: "session".into(),
        })
        .await
    }

    async fn session(&self, session_hash: &str) -> Result<Option<Session>> {
        match self
            .get(format!("SESSION#{session_hash}"), "SESSION")
            .await?
        {
            Some(item) => session_from(&item),
            None => Ok(None),
        }
    }

    async fn delete_session(&self, session_hash: &str, audit: &AuditEntry) -> Result<()> {
        let items = vec![
            self.tx_delete(format!("SESSION#{session_hash}"), "SESSION")?,
            self.tx_audit(audit)?,
        ];
        self.transact(items, || StoreError::Conflict {
            what: "session".into(),
        })
        .await
    }

    async fn put_pending_sign_in(&self, hash: &str, p: &PendingSignIn) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(format!("SIGNIN#{hash}")))
            .item("sk", s("SIGNIN"))
            .item("username", s(&p.username))
            .item("cognito_session", s(&p.cognito_session))
            .item("step", s(p.step.as_str()))
            .item("csrf", s(&p.csrf))
            .item("expires_at", n(p.expires_at.timestamp()))
            .send()
            .await
            .map_err(|e| classify("PutItem", e))?;
        Ok(())
    }

    async fn pending_sign_in(&self, hash: &str) -> Result<Option<PendingSignIn>> {
        let Some(item) = self.get(format!("SIGNIN#{hash}"), "SIGNIN").await? else {
            return Ok(None);
        };
        let step = get_s(&item, "step")?;
        Ok(Some(PendingSignIn {
            username: get_s(&item, "username")?,
            cognito_session: get_s(&item, "cognito_session")?,
            step: StaffStep::parse(&step)
                .ok_or_else(|| corrupt(&item, format!("step {step:?}")))?,
            csrf: get_s(&item, "csrf")?,
            expires_at: get_time(&item, "expires_at")?,
        }))
    }

    async fn delete_pending_sign_in(&self, hash: &str) -> Result<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(format!("SIGNIN#{hash}")))
            .key("sk", s("SIGNIN"))
            .send()
            .await
            .map_err(|e| classify("DeleteItem", e))?;
        Ok(())
    }

    async fn staff_sessions_not_before(&self, sub: &str) -> Result<Option<DateTime<Utc>>> {
        match self.get(format!("STAFF#{sub}"), "STAFF").await? {
            Some(item) => Ok(Some(get_time_ms(&item, "sessions_not_before_ms")?)),
            None => Ok(None),
        }
    }

    async fn end_staff_sessions(
        &self,
        sub: &str,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<()> {
        let item: Item = HashMap::from([
            ("pk".into(), s(format!("STAFF#{sub}"))),
            ("sk".into(), s("STAFF")),
            ("sessions_not_before_ms".into(), n(at.timestamp_millis())),
        ]);
        let items = vec![self.tx_put(item, None)?, self.tx_audit(audit)?];
        self.transact(items, || StoreError::Conflict {
            what: format!("staff member {sub}"),
        })
        .await
    }

    async fn append_audit(&self, entry: &AuditEntry) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(audit_item(entry)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|e| classify("PutItem", e))?;
        Ok(())
    }

    async fn audit_entries(&self, before: Option<&str>, limit: u32) -> Result<AuditPage> {
        let start = before
            .filter(|c| is_timed_sk(c))
            .map(|c| HashMap::from([("pk".to_owned(), s(AUDIT_PK)), ("sk".to_owned(), s(c))]));
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(AUDIT_PK))
            .scan_index_forward(false)
            .limit(i32::try_from(limit.clamp(1, 1000)).unwrap_or(100))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| classify("Query", e))?;
        let entries = out
            .items
            .unwrap_or_default()
            .iter()
            .map(audit_from)
            .collect::<Result<Vec<_>>>()?;
        let next = out
            .last_evaluated_key
            .and_then(|k| k.get("sk").and_then(|v| v.as_s().ok()).cloned());
        Ok(AuditPage { entries, next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_cursors_this_adapter_wrote_reach_dynamodb() {
        let t = Utc.with_ymd_and_hms(2026, 12, 2, 10, 0, 5).unwrap();
        let sk = timed_sk(t, "PutItem").unwrap();
        assert!(is_timed_sk(&sk), "{sk}");
        for bad in [
            "",
            "2026-12-02T10:00:05.000Z",
            "2026-12-02T10:00:05.000Z#XYZ",
            "2026-12-02T10:00:05.000Z#0123456789abcdef012G",
            "CUS#cus_1#0123456789abcdef0123",
        ] {
            assert!(!is_timed_sk(bad), "{bad}");
        }
    }

    #[test]
    fn a_staff_session_from_the_shared_token_era_is_no_session() {
        let item: Item = HashMap::from([
            ("pk".into(), s("SESSION#x")),
            ("sk".into(), s("SESSION")),
            ("principal".into(), s("staff")),
            ("csrf".into(), s("c")),
            ("expires_at".into(), n(2_000_000_000)),
        ]);
        assert_eq!(session_from(&item).unwrap(), None);
    }
}
