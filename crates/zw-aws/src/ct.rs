//! The Certificate Transparency watch's adapters: the search endpoint
//! (`ZW_CT_SEARCH_URL`, one paced GET per apex), the certificates the
//! table's inventories know, and the watch's state per apex in the table
//! (`pk = CT`, `sk = <apex>`).

use crate::download::Downloader;
use crate::published::PublishedEstate;
use crate::table::Partition;
use crate::triage::{EstateScope, load_estate_scopes};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use std::sync::OnceLock;
use std::time::Duration;
use tokio::sync::Mutex;
use zw_core::families::ct::model::{KnownCertificates, WatchState};
use zw_core::families::ct::ports::{CtSearch, KnownSource, WatchStore};
use zw_core::families::ct::search::{self, SearchAnswer};
use zw_core::inventory::InventoryKind;
use zw_core::outbound::OutboundUrl;
use zw_core::ports::{Clock, ErrorKind, PortError};

const SERVICE: &str = "ct-search";
const OPERATION: &str = "GET";
const DOWNLOADER: Downloader = Downloader {
    service: SERVICE,
    operation: OPERATION,
    max_bytes: search::ANSWER_LIMIT,
};
/// Connect and read timeout of a search: crt.sh takes its time on a busy
/// domain.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Upper bound on one search.
const TOTAL_TIMEOUT: Duration = Duration::from_secs(90);

/// The search endpoint: `GET <url>?q=%<apex>&output=json&exclude=expired`
/// (crt.sh's query: every unexpired certificate with a name ending in the
/// apex; `search::within` then keeps those at or below it). One request at
/// a time, `interval` apart.
#[derive(Debug)]
pub struct CtSearchClient {
    url: OutboundUrl,
    interval: Duration,
    extra_roots: Option<Vec<u8>>,
    http: OnceLock<reqwest::Client>,
    /// When the last request was sent; held across a request.
    last: Mutex<Option<tokio::time::Instant>>,
}

impl CtSearchClient {
    /// `extra_roots_file`: `ZW_TLS_EXTRA_ROOTS`, read here once.
    pub fn new(
        url: &str,
        interval: Duration,
        extra_roots_file: Option<&str>,
    ) -> Result<Self, PortError> {
        let invalid = |message: String| {
            PortError::new(SERVICE, OPERATION, ErrorKind::InvalidRequest, message)
        };
        let url = OutboundUrl::endpoint(url)
            .map_err(|why| invalid(format!("ZW_CT_SEARCH_URL `{}` {why}", why.shown(url))))?;
        let extra_roots = extra_roots_file
            .map(|path| {
                std::fs::read(path).map_err(|e| {
                    invalid(format!("ZW_TLS_EXTRA_ROOTS `{path}` cannot be read: {e}"))
                })
            })
            .transpose()?;
        Ok(Self {
            url,
            interval,
            extra_roots,
            http: OnceLock::new(),
            last: Mutex::new(None),
        })
    }

    /// The request for `apex`: only the apex leaves the account.
    pub fn request_url(&self, apex: &str) -> url::Url {
        let mut url = self.url.as_url().clone();
        url.query_pairs_mut()
            .append_pair("q", &format!("%{apex}"))
            .append_pair("output", "json")
            .append_pair("exclude", "expired");
        url
    }

    fn client(&self) -> Result<&reqwest::Client, PortError> {
        if let Some(http) = self.http.get() {
            return Ok(http);
        }
        let http = DOWNLOADER.client(
            &self.url,
            READ_TIMEOUT,
            TOTAL_TIMEOUT,
            self.extra_roots.as_deref(),
        )?;
        Ok(self.http.get_or_init(|| http))
    }
}

impl CtSearch for CtSearchClient {
    async fn search(&self, apex: &str) -> Result<SearchAnswer, PortError> {
        let client = self.client()?;
        let url = self.request_url(apex);
        let body = {
            let mut last = self.last.lock().await;
            if let Some(at) = *last {
                tokio::time::sleep_until(at + self.interval).await;
            }
            *last = Some(tokio::time::Instant::now());
            DOWNLOADER.get(client, &url).await?
        };
        // Up to 32 MB of JSON: parsed off the async worker threads.
        let parsed = DOWNLOADER
            .off_thread("the CT search answer", move || search::parse(&body))
            .await?;
        parsed.map_err(|e| {
            PortError::new(
                SERVICE,
                OPERATION,
                ErrorKind::InvalidResponse,
                format!(
                    "the CT search answer for {apex} from {} is not usable: {e}",
                    self.url.as_str()
                ),
            )
        })
    }
}

/// The serials the table's inventories know, and how fresh they are.
/// `inventories[0]` is the account's own certificate inventory: without
/// it, nothing is known (`as_of` None). Each other inventory that was
/// written adds its serials and its latest write.
pub fn known_from(inventories: &[Vec<EstateScope>]) -> KnownCertificates {
    let mut known = KnownCertificates::default();
    if inventories.first().is_none_or(Vec::is_empty) {
        return known;
    }
    let mut as_of: Option<DateTime<Utc>> = None;
    for scopes in inventories.iter().filter(|s| !s.is_empty()) {
        let latest = scopes.iter().filter_map(|s| s.written_at).max();
        as_of = match (as_of, latest) {
            (Some(a), Some(l)) => Some(a.min(l)),
            (a, l) => a.or(l),
        };
        known.serials.extend(
            scopes
                .iter()
                .flat_map(|s| &s.entries)
                .filter_map(|e| e.details.get("serial"))
                .filter_map(serde_json::Value::as_str)
                .map(str::to_owned),
        );
    }
    known.as_of = as_of;
    known
}

/// The known certificates from the findings table: the account's own
/// certificate and endpoint inventories and, in organization mode, the
/// certificates the other accounts published.
#[derive(Debug, Clone)]
pub struct EstateCertificates {
    client: Client,
    table: String,
    partition: Partition,
    organization: Option<PublishedEstate>,
}

impl EstateCertificates {
    pub fn new(
        client: Client,
        table: String,
        partition: Partition,
        organization: Option<PublishedEstate>,
    ) -> Self {
        Self {
            client,
            table,
            partition,
            organization,
        }
    }
}

impl KnownSource for EstateCertificates {
    async fn known(&self) -> Result<KnownCertificates, PortError> {
        let own = |kind| load_estate_scopes(&self.client, &self.table, &self.partition, kind);
        let mut inventories = vec![
            own(InventoryKind::Certificates).await?,
            own(InventoryKind::Endpoints).await?,
        ];
        if let Some(org) = &self.organization {
            for (_, scopes) in org.published_scopes(InventoryKind::Certificates).await? {
                // An account that cannot be read fails the whole: its
                // certificates would otherwise read as unexpected. The
                // error names the account.
                inventories.push(scopes?);
            }
        }
        Ok(known_from(&inventories))
    }
}

const PK: &str = "CT";
/// A watch state not written for this long belongs to a zone gone.
const TTL_DAYS: i64 = 90;

/// The watch's state per apex: one item each.
#[derive(Debug, Clone)]
pub struct DynamoWatchStore {
    client: Client,
    table: String,
    partition: Partition,
}

impl DynamoWatchStore {
    pub fn new(client: Client, table: String, partition: Partition) -> Self {
        Self {
            client,
            table,
            partition,
        }
    }
}

fn unreadable(apex: &str, why: impl std::fmt::Display) -> PortError {
    PortError::new(
        "dynamodb",
        "GetItem",
        ErrorKind::InvalidResponse,
        format!("the CT watch state of {apex} is not readable: {why}"),
    )
}

impl WatchStore for DynamoWatchStore {
    async fn load(&self, apex: &str) -> Result<Option<WatchState>, PortError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(self.partition.pk(PK)))
            .key("sk", AttributeValue::S(apex.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| crate::error::classify("dynamodb", "GetItem", e))?;
        let Some(item) = out.item() else {
            return Ok(None);
        };
        let text = item
            .get("state")
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| unreadable(apex, "no `state`"))?;
        serde_json::from_str(text)
            .map(Some)
            .map_err(|e| unreadable(apex, e))
    }

    async fn save(&self, apex: &str, state: &WatchState) -> Result<(), PortError> {
        let now = crate::SystemClock.now();
        let json = serde_json::to_string(state).map_err(|e| {
            PortError::new(
                "dynamodb",
                "PutItem",
                ErrorKind::Other,
                format!("the CT watch state of {apex} cannot be written: {e}"),
            )
        })?;
        let mut item = std::collections::HashMap::from([
            ("pk".to_owned(), AttributeValue::S(PK.to_owned())),
            ("sk".to_owned(), AttributeValue::S(apex.to_owned())),
            ("item_type".to_owned(), AttributeValue::S("ct-watch".into())),
            ("state".to_owned(), AttributeValue::S(json)),
            ("written_at".to_owned(), AttributeValue::S(now.to_rfc3339())),
            (
                "expires_at".to_owned(),
                AttributeValue::N(
                    (now + chrono::Duration::days(TTL_DAYS))
                        .timestamp()
                        .to_string(),
                ),
            ),
        ]);
        self.partition.stamp(&mut item);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| crate::error::classify("dynamodb", "PutItem", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use zw_core::inventory::InventoryEntry;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 3, hour, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn scope(hour: u32, serials: &[&str]) -> EstateScope {
        EstateScope {
            scope: format!("s{hour}"),
            written_at: Some(at(hour)),
            entries: serials
                .iter()
                .map(|s| InventoryEntry {
                    id: (*s).to_owned(),
                    name: "example.com".into(),
                    region: "eu-west-1".into(),
                    not_after: None,
                    details: [("serial".to_owned(), serde_json::json!(s))].into(),
                    checked_at: at(hour),
                })
                .collect(),
        }
    }

    #[test]
    fn known_serials_are_as_fresh_as_the_oldest_inventory_latest_write() {
        // Certificates written at 9 and 11 (latest 11), endpoints at 10, an
        // endpoint scope of a zone deleted long ago at 1: it does not hold
        // the watch back, the endpoints' latest write (10) does.
        let known = known_from(&[
            vec![scope(9, &["a"]), scope(11, &["b"])],
            vec![scope(10, &["c"]), scope(1, &[])],
        ]);
        assert_eq!(
            known.serials.iter().map(String::as_str).collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
        assert_eq!(known.as_of, Some(at(10)));
        // Endpoints never scanned: the certificates alone.
        assert_eq!(
            known_from(&[vec![scope(9, &["a"])], vec![]]).as_of,
            Some(at(9))
        );
        // No certificate inventory: nothing is known.
        assert_eq!(
            known_from(&[vec![], vec![scope(10, &["c"])]]),
            KnownCertificates::default()
        );
    }

    #[test]
    fn only_the_apex_is_sent_and_the_url_is_built_not_pasted() {
        let client = CtSearchClient::new("https://crt.example/search?src=zw", Duration::ZERO, None)
            .expect("a valid URL");
        let url = client.request_url("example.com");
        assert_eq!(
            url.as_str(),
            "https://crt.example/search?src=zw&q=%25example.com&output=json&exclude=expired"
        );
        assert!(CtSearchClient::new("http://crt.example/", Duration::ZERO, None).is_err());
        assert!(
            CtSearchClient::new(
                "https://crt.example/",
                Duration::ZERO,
                Some("/nonexistent/roots.pem")
            )
            .is_err()
        );
    }
}
