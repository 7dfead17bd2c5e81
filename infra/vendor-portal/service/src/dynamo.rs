//! The DynamoDB adapter: one table, string keys `pk` and `sk`, TTL on
//! `expires_at`.
//!
//! | item                         | pk                  | sk                    | notable attributes |
//! |------------------------------|---------------------|-----------------------|--------------------|
//! | customer and subscription    | `CUS#<customer>`    | `CUSTOMER`            | name, plan, zones, certificates, accounts, status, renews_at |
//! | a key, customer side         | `CUS#<customer>`    | `KEY#<license>`       | key_hash, last4, state, created_at, revoked_at |
//! | last report of a license     | `CUS#<customer>`    | `COUNTS#<license>`    | at, product_version, the counts (absent when not sent); overwritten |
//! | key lookup by hash           | `KEYHASH#<sha256>`  | `KEYHASH`             | customer_id, license_id, last4, state |
//! | portal token lookup          | `PORTAL#<sha256>`   | `PORTAL`              | customer_id |
//! | portal session               | `SESSION#<sha256>`  | `SESSION`             | principal, csrf, expires_at (TTL) |
//! | validation log line          | `LOG#<license>`     | `<RFC 3339 ms>#<rand>`| outcome, product_version, key_hint, expires_at (TTL, 90 days) |
//! | rate-limit window            | `RATE#<license>`    | `W#<window start>`    | n, expires_at (TTL, window end + 1 h) |
//!
//! The customer partition answers the whole portal page in one query; the
//! log and the rate counters have partitions of their own so that neither
//! grows it. Keys and tokens are found by the SHA-256 of their value: the
//! table never holds one in clear. The staff listing scans for `CUSTOMER`
//! items (fine for thousands of customers; a GSI on a `kind` attribute when
//! that stops being true).

use crate::model::{
    Customer, CustomerView, KeyState, LastReport, LicenseKey, LogEntry, Principal, Session,
    Subscription,
};
use crate::store::{Result, StoreError, VendorStore};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue as AV, BillingMode, KeySchemaElement, KeyType, Put,
    ScalarAttributeType, SseSpecification, TimeToLiveSpecification, TransactWriteItem, Update,
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
    matches!(
        err.code(),
        Some("ConditionalCheckFailedException" | "TransactionCanceledException")
    )
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

fn customer_pk(id: &str) -> String {
    format!("CUS#{id}")
}

fn customer_item(c: &Customer) -> Item {
    let sub = &c.subscription;
    HashMap::from([
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
    ])
}

fn customer_from(item: &Item) -> Result<Customer> {
    let status = get_s(item, "status")?;
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

fn log_item(l: &LogEntry, suffix: &str) -> Item {
    HashMap::from([
        ("pk".into(), s(format!("LOG#{}", l.license_id))),
        (
            "sk".into(),
            s(format!(
                "{}#{suffix}",
                l.at.format("%Y-%m-%dT%H:%M:%S%.3fZ")
            )),
        ),
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

#[async_trait::async_trait]
impl VendorStore for DynamoStore {
    async fn create_customer(&self, customer: &Customer, portal_token_hash: &str) -> Result<()> {
        let op = "TransactWriteItems";
        let put = |item: Item| -> Result<TransactWriteItem> {
            Ok(TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(item))
                        .condition_expression("attribute_not_exists(pk)")
                        .build()
                        .map_err(build_err(op))?,
                )
                .build())
        };
        let portal: Item = HashMap::from([
            ("pk".into(), s(format!("PORTAL#{portal_token_hash}"))),
            ("sk".into(), s("PORTAL")),
            ("customer_id".into(), s(&customer.id)),
        ]);
        self.client
            .transact_write_items()
            .transact_items(put(customer_item(customer))?)
            .transact_items(put(portal)?)
            .send()
            .await
            .map_err(|e| classify(op, e))?;
        Ok(())
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

    async fn set_subscription(&self, customer_id: &str, sub: &Subscription) -> Result<()> {
        let result = self
            .client
            .update_item()
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
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Err(StoreError::NotFound {
                what: format!("customer {customer_id}"),
            }),
            Err(e) => Err(classify("UpdateItem", e)),
        }
    }

    async fn customer_for_portal_token(&self, token_hash: &str) -> Result<Option<String>> {
        self.get(format!("PORTAL#{token_hash}"), "PORTAL")
            .await?
            .map(|i| get_s(&i, "customer_id"))
            .transpose()
    }

    async fn put_key(&self, key: &LicenseKey) -> Result<()> {
        let op = "TransactWriteItems";
        let (own, lookup) = key_items(key);
        let put = |item: Item, condition: &str| -> Result<TransactWriteItem> {
            Ok(TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(item))
                        .condition_expression(condition)
                        .build()
                        .map_err(build_err(op))?,
                )
                .build())
        };
        // The customer must exist: a condition on their item, checked in the same transaction.
        let customer_exists = TransactWriteItem::builder()
            .condition_check(
                aws_sdk_dynamodb::types::ConditionCheck::builder()
                    .table_name(&self.table)
                    .key("pk", s(customer_pk(&key.customer_id)))
                    .key("sk", s("CUSTOMER"))
                    .condition_expression("attribute_exists(pk)")
                    .build()
                    .map_err(build_err(op))?,
            )
            .build();
        let result = self
            .client
            .transact_write_items()
            .transact_items(customer_exists)
            .transact_items(put(own, "attribute_not_exists(pk)")?)
            .transact_items(put(lookup, "attribute_not_exists(pk)")?)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Err(StoreError::NotFound {
                what: format!("customer {}", key.customer_id),
            }),
            Err(e) => Err(classify(op, e)),
        }
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
    ) -> Result<LicenseKey> {
        let not_found = || StoreError::NotFound {
            what: format!("license {license_id} of customer {customer_id}"),
        };
        let item = self
            .get(customer_pk(customer_id), &format!("KEY#{license_id}"))
            .await?
            .ok_or_else(not_found)?;
        let mut key = key_from(&item)?;
        if key.state == KeyState::Revoked {
            return Ok(key);
        }
        let op = "TransactWriteItems";
        let update = |pk: String, sk: String| -> Result<TransactWriteItem> {
            Ok(TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name(&self.table)
                        .key("pk", s(pk))
                        .key("sk", s(sk))
                        .update_expression("SET #state = :revoked, revoked_at = :at")
                        .condition_expression("attribute_exists(pk)")
                        .expression_attribute_names("#state", "state")
                        .expression_attribute_values(":revoked", s(KeyState::Revoked.as_str()))
                        .expression_attribute_values(":at", n(at.timestamp()))
                        .build()
                        .map_err(build_err(op))?,
                )
                .build())
        };
        self.client
            .transact_write_items()
            .transact_items(update(
                customer_pk(customer_id),
                format!("KEY#{license_id}"),
            )?)
            .transact_items(update(
                format!("KEYHASH#{}", key.key_hash),
                "KEYHASH".into(),
            )?)
            .send()
            .await
            .map_err(|e| {
                if is_condition_failure(&e) {
                    not_found()
                } else {
                    classify(op, e)
                }
            })?;
        key.state = KeyState::Revoked;
        key.revoked_at = Some(at);
        Ok(key)
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
        // Two validations in the same millisecond get distinct sort keys.
        let suffix = crate::secrets::new_id("").map_err(|e| StoreError::Backend {
            operation: "PutItem",
            detail: e.to_string(),
        })?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(log_item(log, &suffix)))
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

    async fn count_request(
        &self,
        license_id: &str,
        window_start: i64,
        limit: u32,
        expires_at: i64,
    ) -> Result<bool> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(format!("RATE#{license_id}")))
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

    async fn put_session(&self, session_hash: &str, session: &Session) -> Result<()> {
        let principal = match &session.principal {
            Principal::Staff => "staff".to_owned(),
            Principal::Customer(id) => format!("customer:{id}"),
        };
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(format!("SESSION#{session_hash}")))
            .item("sk", s("SESSION"))
            .item("principal", s(principal))
            .item("csrf", s(&session.csrf))
            .item("expires_at", n(session.expires_at.timestamp()))
            .send()
            .await
            .map_err(|e| classify("PutItem", e))?;
        Ok(())
    }

    async fn session(&self, session_hash: &str) -> Result<Option<Session>> {
        let Some(item) = self
            .get(format!("SESSION#{session_hash}"), "SESSION")
            .await?
        else {
            return Ok(None);
        };
        let principal = get_s(&item, "principal")?;
        let principal = match principal.strip_prefix("customer:") {
            Some(id) => Principal::Customer(id.to_owned()),
            None if principal == "staff" => Principal::Staff,
            None => return Err(corrupt(&item, format!("principal {principal:?}"))),
        };
        Ok(Some(Session {
            principal,
            csrf: get_s(&item, "csrf")?,
            expires_at: get_time(&item, "expires_at")?,
        }))
    }

    async fn delete_session(&self, session_hash: &str) -> Result<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(format!("SESSION#{session_hash}")))
            .key("sk", s("SESSION"))
            .send()
            .await
            .map_err(|e| classify("DeleteItem", e))?;
        Ok(())
    }
}
