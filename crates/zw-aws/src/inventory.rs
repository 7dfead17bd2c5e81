//! The DNS inventory cache in the findings table (schema: `docs/storage.md`,
//! "Inventory cache").
//!
//! A zone's inventory can be far larger than DynamoDB's 400 KB item limit (a
//! 10,000-record zone is a few MB of JSON), so it is stored in chunks, and a
//! head item says which generation of chunks is current:
//!
//! | item  | pk                     | sk                       | TTL (`expires_at`) |
//! |-------|------------------------|--------------------------|--------------------|
//! | head  | `INVENTORY#<zone id>`  | `HEAD`                   | none               |
//! | chunk | `INVENTORY#<zone id>`  | `CHUNK#<generation>#<n>` | written + 7 days   |
//!
//! ```text
//!  save (generation G2, head currently at G1)       load
//!  1. BatchWriteItem chunks G2#0..G2#k              GetItem HEAD -> G1 (still)
//!  2. PutItem HEAD -> G2, if generation = G1        GetItem HEAD -> G2 (from here on)
//!  3. delete chunks G1#* (best effort; TTL backs    Query CHUNK#G2# ...
//!     it up)
//! ```
//!
//! Readers switch from G1 to G2 at step 2 in one conditional write, so they
//! never see half of each. A reader that read head G1 just before step 3 may
//! find G1's chunks gone: an inconsistent generation is "not cached"
//! (`Ok(None)`), and the caller lists the zone again. Generations are unique
//! per save (time + random), so two scans saving at once never overwrite each
//! other's chunks; the head's condition makes one of them win, and the loser
//! deletes its own chunks (or, when it listed later, retries on top).

use crate::clock::SystemClock;
use crate::usage::ApiCallCounter;
use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, PutRequest, WriteRequest};
use chrono::{DateTime, SecondsFormat, Utc};
use std::collections::HashMap;
use std::sync::Arc;
use zw_core::families::dns::model::{DnssecStatus, ZoneInventory};
use zw_core::families::dns::ports::InventoryCache;
use zw_core::model::HostedZone;
use zw_core::model::RecordSet;
use zw_core::ports::{Clock, ErrorKind, PortError};

/// Largest JSON payload of one chunk. DynamoDB's item limit is 400 KB
/// (names and values together); the keys and other attributes are small.
pub const MAX_CHUNK_BYTES: usize = 300 * 1024;
/// Chunks expire this long after they were written, as a backstop for
/// generations whose clean-up failed (and for caches nobody refreshes).
pub const CHUNK_TTL: chrono::Duration = chrono::Duration::days(7);
/// Head writes tried when another scan keeps saving the same zone.
const HEAD_ATTEMPTS: u32 = 3;

type Item = HashMap<String, AttributeValue>;

#[derive(Clone)]
pub struct DynamoInventoryCache {
    client: Client,
    table: String,
    clock: Arc<dyn Clock>,
    partition: crate::table::Partition,
}

impl std::fmt::Debug for DynamoInventoryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamoInventoryCache")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

impl DynamoInventoryCache {
    pub fn new(sdk: &SdkConfig, table: String, calls: &ApiCallCounter) -> Self {
        let conf = aws_sdk_dynamodb::config::Builder::from(sdk)
            .interceptor(calls.clone())
            .build();
        Self::with_client(Client::from_conf(conf), table)
    }

    /// On a client the process already has (the findings store's).
    pub fn with_client(client: Client, table: String) -> Self {
        Self {
            client,
            table,
            clock: Arc::new(SystemClock),
            partition: crate::table::Partition::single(),
        }
    }

    /// The same cache, for one member account's zones (organization mode).
    pub fn in_partition(mut self, partition: crate::table::Partition) -> Self {
        self.partition = partition;
        self
    }

    fn stamped(&self, mut item: Item) -> Item {
        self.partition.stamp(&mut item);
        item
    }

    /// The clock `expires_at` and generations are computed from (tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}

pub fn inventory_pk(zone_id: &str) -> String {
    format!("INVENTORY#{zone_id}")
}

pub const HEAD_SK: &str = "HEAD";

/// `CHUNK#<generation>#<n>`, `n` zero-padded so that sort order is chunk order.
pub fn chunk_sk(generation: &str, index: usize) -> String {
    format!("CHUNK#{generation}#{index:05}")
}

fn chunk_prefix(generation: &str) -> String {
    format!("CHUNK#{generation}#")
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}
fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// Splits record sets into JSON arrays of at most `max_bytes` each (a record
/// set larger than that on its own gets a chunk of its own; Route 53 limits a
/// record set to about 32 KB, so this does not happen in practice).
pub fn chunk_record_sets(sets: &[RecordSet], max_bytes: usize) -> Result<Vec<String>, PortError> {
    let mut chunks = Vec::new();
    let mut current = String::from("[");
    for rs in sets {
        let json = serde_json::to_string(rs).map_err(|e| encode_error("record set", &e))?;
        // +2: the comma and the closing bracket.
        if current.len() > 1 && current.len() + json.len() + 2 > max_bytes {
            current.push(']');
            chunks.push(std::mem::replace(&mut current, String::from("[")));
        }
        if current.len() > 1 {
            current.push(',');
        }
        current.push_str(&json);
    }
    if current.len() > 1 || chunks.is_empty() {
        current.push(']');
        chunks.push(current);
    }
    Ok(chunks)
}

fn encode_error(what: &str, e: &serde_json::Error) -> PortError {
    PortError::new(
        "dynamodb",
        "BatchWriteItem",
        ErrorKind::Other,
        format!("cannot encode the inventory's {what}: {e}"),
    )
}

/// The head item, read back.
#[derive(Debug, Clone, PartialEq)]
struct Head {
    generation: String,
    chunks: usize,
    record_sets: usize,
    listed_at: DateTime<Utc>,
    zone: HostedZone,
    name_servers: Vec<String>,
    dnssec: Option<DnssecStatus>,
    compared_at: Option<DateTime<Utc>>,
    record_set_limit: Option<u64>,
}

fn head_item(inv: &ZoneInventory, generation: &str, chunks: usize) -> Result<Item, PortError> {
    let zone = serde_json::to_string(&inv.zone).map_err(|e| encode_error("zone", &e))?;
    let name_servers =
        serde_json::to_string(&inv.name_servers).map_err(|e| encode_error("name servers", &e))?;
    let dnssec = serde_json::to_string(&inv.dnssec).map_err(|e| encode_error("DNSSEC", &e))?;
    let mut item = HashMap::from([
        ("pk".into(), s(inventory_pk(&inv.zone.id))),
        ("sk".into(), s(HEAD_SK)),
        ("item_type".into(), s("inventory-head")),
        ("zone_id".into(), s(&inv.zone.id)),
        ("generation".into(), s(generation)),
        ("chunks".into(), n(chunks)),
        ("record_sets".into(), n(inv.record_sets.len())),
        (
            "listed_at".into(),
            s(inv.listed_at.to_rfc3339_opts(SecondsFormat::Millis, true)),
        ),
        ("zone".into(), s(zone)),
        ("name_servers".into(), s(name_servers)),
        ("dnssec".into(), s(dnssec)),
    ]);
    if let Some(at) = inv.compared_at {
        item.insert(
            "compared_at".into(),
            s(at.to_rfc3339_opts(SecondsFormat::Millis, true)),
        );
    }
    if let Some(limit) = inv.record_set_limit {
        item.insert("record_set_limit".into(), n(limit));
    }
    Ok(item)
}

/// Reads a head item; the reason it cannot be used otherwise.
fn parse_head(item: &Item) -> Result<Head, String> {
    let text = |attr: &str| -> Result<&str, String> {
        item.get(attr)
            .and_then(|v| v.as_s().ok())
            .map(String::as_str)
            .ok_or_else(|| format!("attribute `{attr}` is missing or not a string"))
    };
    let num = |attr: &str| -> Result<usize, String> {
        item.get(attr)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("attribute `{attr}` is missing or not a whole number"))
    };
    let json_err =
        |attr: &'static str| move |e: serde_json::Error| format!("attribute `{attr}`: {e}");
    Ok(Head {
        generation: text("generation")?.to_owned(),
        chunks: num("chunks")?,
        record_sets: num("record_sets")?,
        listed_at: DateTime::parse_from_rfc3339(text("listed_at")?)
            .map_err(|e| format!("attribute `listed_at`: {e}"))?
            .with_timezone(&Utc),
        zone: serde_json::from_str(text("zone")?).map_err(json_err("zone"))?,
        name_servers: serde_json::from_str(text("name_servers")?)
            .map_err(json_err("name_servers"))?,
        dnssec: serde_json::from_str(text("dnssec")?).map_err(json_err("dnssec"))?,
        // Absent in heads written before comparisons were spaced out.
        compared_at: match item.get("compared_at") {
            None => None,
            Some(_) => Some(
                DateTime::parse_from_rfc3339(text("compared_at")?)
                    .map_err(|e| format!("attribute `compared_at`: {e}"))?
                    .with_timezone(&Utc),
            ),
        },
        // Absent in heads written before the zone's quota was read.
        record_set_limit: match item.get("record_set_limit") {
            None => None,
            Some(_) => Some(num("record_set_limit")? as u64),
        },
    })
}

/// A unique, roughly time-ordered generation id: `<epoch ms>-<random>`.
/// When a generation's chunks were written (the milliseconds it starts
/// with); None for a generation not written by [`new_generation`].
fn generation_written(generation: &str) -> Option<DateTime<Utc>> {
    let millis = generation.split('-').next()?.parse::<i64>().ok()?;
    DateTime::from_timestamp_millis(millis)
}

/// A touch rewrites the whole inventory once its chunks are this old: the
/// head is refreshed at every scan but the chunks expire `CHUNK_TTL` after
/// they were written, so a zone that never changed would otherwise lose its
/// copy once a week (and the families that read it, a scan error).
pub const CHUNK_RENEWAL: chrono::Duration = chrono::Duration::days(3);

fn new_generation(now: DateTime<Utc>) -> String {
    format!(
        "{:013}-{:08x}",
        now.timestamp_millis().max(0),
        rand::random::<u32>()
    )
}

impl DynamoInventoryCache {
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

    async fn read_head(&self, zone_id: &str) -> Result<Option<Item>, PortError> {
        let got = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(self.partition.pk(&inventory_pk(zone_id))))
            .key("sk", s(HEAD_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.error("GetItem", e))?;
        Ok(got.item().cloned())
    }

    async fn batch_write(&self, requests: Vec<WriteRequest>) -> Result<(), PortError> {
        crate::table::batch_write(&self.client, &self.table, requests).await
    }

    /// Deletes a generation's chunks (found by key prefix, so a generation
    /// whose head is unreadable or gone is cleaned up too). Failures are
    /// logged, not returned: the chunks' TTL removes them anyway.
    async fn delete_chunks(&self, zone_id: &str, generation: &str) {
        if let Err(e) = self.try_delete_chunks(zone_id, generation).await {
            tracing::warn!(
                zone = zone_id,
                generation,
                error = %e,
                "could not delete an old inventory generation; its TTL will"
            );
        }
    }

    async fn try_delete_chunks(&self, zone_id: &str, generation: &str) -> Result<(), PortError> {
        let pk = self.partition.pk(&inventory_pk(zone_id));
        let mut keys = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(&pk))
                .expression_attribute_values(":prefix", s(chunk_prefix(generation)))
                .projection_expression("pk, sk")
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| self.error("Query", e))?;
            keys.extend(page.items().iter().cloned());
            match page.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => break,
            }
        }
        let requests = keys
            .into_iter()
            .filter_map(|key| DeleteRequest::builder().set_key(Some(key)).build().ok())
            .map(|d| WriteRequest::builder().delete_request(d).build())
            .collect();
        self.batch_write(requests).await
    }

    /// Makes `generation` current: a put of the head conditional on the
    /// generation it replaces.
    async fn switch_head(
        &self,
        inv: &ZoneInventory,
        generation: &str,
        chunks: usize,
        mut previous: Option<String>,
    ) -> Result<Switch, PortError> {
        let item = self.stamped(head_item(inv, generation, chunks)?);
        for _ in 0..HEAD_ATTEMPTS {
            // `attribute_not_exists(generation)` holds for no head at all
            // and for a head too broken to have one.
            let req = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item.clone()));
            let req = match &previous {
                None => req.condition_expression("attribute_not_exists(generation)"),
                Some(g) => req
                    .condition_expression("generation = :previous")
                    .expression_attribute_values(":previous", s(g)),
            };
            match req.send().await {
                Ok(_) => return Ok(Switch::Replaced(previous)),
                Err(e) if e.code() == Some("ConditionalCheckFailedException") => {
                    // Another scan saved this zone meanwhile: the newer
                    // listing wins, a tie goes to the one already current.
                    let current = self.read_head(&inv.zone.id).await?;
                    if let Some(Ok(c)) = current.as_ref().map(parse_head)
                        && c.listed_at >= inv.listed_at
                    {
                        return Ok(Switch::Superseded);
                    }
                    previous = current.as_ref().and_then(raw_generation);
                }
                Err(e) => return Err(self.error("PutItem", e)),
            }
        }
        Err(PortError::new(
            "dynamodb",
            "PutItem",
            ErrorKind::Transient,
            format!(
                "the inventory of zone {} kept being replaced by other scans",
                inv.zone.id
            ),
        ))
    }
}

/// What became of a save's head write.
#[derive(Debug)]
enum Switch {
    /// Ours is current; it replaced this generation (None: there was none).
    Replaced(Option<String>),
    /// Another scan saved a listing at least as new meanwhile: ours is
    /// dropped.
    Superseded,
}

/// The `generation` of a head item, however broken the rest of it is.
fn raw_generation(item: &Item) -> Option<String> {
    item.get("generation").and_then(|v| v.as_s().ok()).cloned()
}

impl InventoryCache for DynamoInventoryCache {
    async fn load(&self, zone_id: &str) -> Result<Option<ZoneInventory>, PortError> {
        let Some(item) = self.read_head(zone_id).await? else {
            return Ok(None);
        };
        let head = match parse_head(&item) {
            Ok(h) => h,
            Err(why) => {
                tracing::warn!(zone = zone_id, why, "unreadable inventory head; not cached");
                return Ok(None);
            }
        };
        let pk = self.partition.pk(&inventory_pk(zone_id));
        let mut chunks: Vec<(usize, String)> = Vec::with_capacity(head.chunks);
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(&pk))
                .expression_attribute_values(":prefix", s(chunk_prefix(&head.generation)))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| self.error("Query", e))?;
            for it in page.items() {
                let index = it
                    .get("index")
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse::<usize>().ok());
                let body = it.get("record_sets").and_then(|v| v.as_s().ok());
                match (index, body) {
                    (Some(i), Some(b)) => chunks.push((i, b.clone())),
                    _ => {
                        tracing::warn!(zone = zone_id, "malformed inventory chunk; not cached");
                        return Ok(None);
                    }
                }
            }
            match page.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => break,
            }
        }
        chunks.sort_by_key(|(i, _)| *i);
        let complete = chunks.len() == head.chunks
            && chunks
                .iter()
                .enumerate()
                .all(|(want, (got, _))| want == *got);
        if !complete {
            tracing::warn!(
                zone = zone_id,
                generation = head.generation,
                expected = head.chunks,
                found = chunks.len(),
                "inventory chunks missing (replaced or expired meanwhile); not cached"
            );
            return Ok(None);
        }
        let mut record_sets = Vec::with_capacity(head.record_sets);
        for (i, body) in &chunks {
            match serde_json::from_str::<Vec<RecordSet>>(body) {
                Ok(sets) => record_sets.extend(sets),
                Err(e) => {
                    tracing::warn!(zone = zone_id, chunk = i, error = %e, "undecodable inventory chunk; not cached");
                    return Ok(None);
                }
            }
        }
        if record_sets.len() != head.record_sets {
            tracing::warn!(
                zone = zone_id,
                expected = head.record_sets,
                found = record_sets.len(),
                "inventory record count does not match its head; not cached"
            );
            return Ok(None);
        }
        Ok(Some(ZoneInventory {
            zone: head.zone,
            name_servers: head.name_servers,
            record_sets,
            dnssec: head.dnssec,
            listed_at: head.listed_at,
            compared_at: head.compared_at,
            record_set_limit: head.record_set_limit,
        }))
    }

    async fn touch(&self, inventory: &ZoneInventory) -> Result<(), PortError> {
        let zone_id = &inventory.zone.id;
        let current = self.read_head(zone_id).await?;
        let head = match current.as_ref().map(parse_head) {
            Some(Ok(h)) if h.record_sets == inventory.record_sets.len() => h,
            // Nothing (usable) cached: the whole inventory it is.
            _ => return self.save(inventory).await,
        };
        let renew = generation_written(&head.generation)
            .is_none_or(|written| self.clock.now() - written >= CHUNK_RENEWAL);
        if renew {
            // Chunks half-way to their expiry: written again, with a new TTL.
            return self.save(inventory).await;
        }
        let item = self.stamped(head_item(inventory, &head.generation, head.chunks)?);
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("generation = :current")
            .expression_attribute_values(":current", s(&head.generation))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            // Another scan saved other record sets meanwhile: its head stays.
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => {
                tracing::info!(
                    zone = zone_id.as_str(),
                    "another scan replaced this zone's inventory; its head stays"
                );
                Ok(())
            }
            Err(e) => Err(self.error("PutItem", e)),
        }
    }

    async fn save(&self, inventory: &ZoneInventory) -> Result<(), PortError> {
        let zone_id = &inventory.zone.id;
        let now = self.clock.now();
        let generation = new_generation(now);
        let expires_at = (now + CHUNK_TTL).timestamp();
        let previous = self
            .read_head(zone_id)
            .await?
            .as_ref()
            .and_then(raw_generation);
        let bodies = chunk_record_sets(&inventory.record_sets, MAX_CHUNK_BYTES)?;
        let chunks = bodies.len();
        let pk = inventory_pk(zone_id);
        let mut requests = Vec::with_capacity(chunks);
        for (i, body) in bodies.into_iter().enumerate() {
            let put = PutRequest::builder()
                .set_item(Some(self.stamped(HashMap::from([
                    ("pk".into(), s(&pk)),
                    ("sk".into(), s(chunk_sk(&generation, i))),
                    ("item_type".into(), s("inventory-chunk")),
                    ("generation".into(), s(&generation)),
                    ("index".into(), n(i)),
                    ("record_sets".into(), s(body)),
                    ("expires_at".into(), n(expires_at)),
                ]))))
                .build()
                .map_err(|e| {
                    PortError::new(
                        "dynamodb",
                        "BatchWriteItem",
                        ErrorKind::Other,
                        format!("cannot build an inventory chunk item: {e}"),
                    )
                })?;
            requests.push(WriteRequest::builder().put_request(put).build());
        }
        if let Err(e) = self.batch_write(requests).await {
            self.delete_chunks(zone_id, &generation).await;
            return Err(e);
        }
        match self
            .switch_head(inventory, &generation, chunks, previous)
            .await
        {
            Ok(Switch::Replaced(replaced)) => {
                if let Some(old) = replaced {
                    self.delete_chunks(zone_id, &old).await;
                }
                Ok(())
            }
            Ok(Switch::Superseded) => {
                tracing::info!(
                    zone = zone_id.as_str(),
                    "another scan saved a newer inventory of this zone; ours is dropped"
                );
                self.delete_chunks(zone_id, &generation).await;
                Ok(())
            }
            Err(e) => {
                self.delete_chunks(zone_id, &generation).await;
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sets(count: usize) -> Vec<RecordSet> {
        (0..count)
            .map(|i| {
                RecordSet::simple(
                    &format!("host-{i}.example.com"),
                    "TXT",
                    &["\"v=spf1 include:_spf.example.com -all\""],
                )
            })
            .collect()
    }

    #[test]
    fn a_generation_says_when_it_was_written() {
        let at = DateTime::from_timestamp_millis(1_764_000_000_123).expect("a time");
        assert_eq!(generation_written(&new_generation(at)), Some(at));
        assert_eq!(generation_written("not-a-generation"), None);
        assert!(CHUNK_RENEWAL < CHUNK_TTL, "renewed before they expire");
    }

    #[test]
    fn chunks_stay_under_the_limit_and_keep_every_record_in_order() {
        let all = sets(10_000);
        let chunks = chunk_record_sets(&all, MAX_CHUNK_BYTES).expect("chunks");
        assert!(
            chunks.len() > 1,
            "a 10,000-record zone needs several chunks"
        );
        let mut back = Vec::new();
        for c in &chunks {
            assert!(c.len() <= MAX_CHUNK_BYTES, "{}", c.len());
            back.extend(serde_json::from_str::<Vec<RecordSet>>(c).expect("json"));
        }
        assert_eq!(back, all);
    }

    #[test]
    fn an_empty_zone_is_one_empty_chunk() {
        assert_eq!(chunk_record_sets(&[], 100).expect("chunks"), vec!["[]"]);
    }

    #[test]
    fn chunk_keys_sort_in_chunk_order() {
        assert!(chunk_sk("g", 9) < chunk_sk("g", 10));
        assert!(chunk_sk("g", 10).starts_with(&chunk_prefix("g")));
    }

    #[test]
    fn head_items_round_trip() {
        let inv = ZoneInventory {
            zone: HostedZone {
                id: "Z1".into(),
                name: "example.com.".into(),
                private: false,
                record_set_count: 3,
            },
            name_servers: vec!["ns-1.awsdns-01.com.".into()],
            record_sets: sets(3),
            dnssec: Some(DnssecStatus {
                serve_signature: "SIGNING".into(),
                ..DnssecStatus::default()
            }),
            listed_at: DateTime::from_timestamp(1_790_000_000, 0).expect("ts"),
            compared_at: None,
            record_set_limit: None,
        };
        let head = parse_head(&head_item(&inv, "g1", 2).expect("item")).expect("parses");
        assert_eq!(head.compared_at, None);
        assert_eq!(head.record_set_limit, None);
        let limited = ZoneInventory {
            record_set_limit: Some(25_000),
            ..inv.clone()
        };
        let back = parse_head(&head_item(&limited, "g1", 2).expect("item")).expect("parses");
        assert_eq!(back.record_set_limit, Some(25_000));
        let compared = ZoneInventory {
            compared_at: DateTime::from_timestamp(1_790_000_600, 0),
            ..inv.clone()
        };
        let back = parse_head(&head_item(&compared, "g1", 2).expect("item")).expect("parses");
        assert_eq!(back.compared_at, compared.compared_at);
        assert_eq!(head.generation, "g1");
        assert_eq!((head.chunks, head.record_sets), (2, 3));
        assert_eq!(head.zone, inv.zone);
        assert_eq!(head.dnssec, inv.dnssec);
        assert_eq!(head.listed_at, inv.listed_at);
    }
}
