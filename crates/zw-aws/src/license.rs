//! Licensing's adapters: the cached license and the audit trail in the
//! findings table, the fleet counts read from it, and the license client —
//! the only code in zonewarden that talks to the vendor.
//!
//! | item           | pk             | sk                       | TTL (`expires_at`) |
//! |----------------|----------------|--------------------------|--------------------|
//! | cached license | `LICENSE`      | `CURRENT`                | none               |
//! | what was sent  | `LICENSE#SENT` | `<sent_at>#<random>`     | sent_at + ZW_LICENSE_SENT_RETENTION_DAYS (400) |

use crate::error::table_error;
use crate::table::Item;
use crate::table::Partition;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use zw_core::Severity;
use zw_core::outbound::OutboundUrl;
use zw_core::ports::{ErrorKind, PortError};
use zw_license::FleetCounts;
use zw_license::check::{LicenseStore, SentRecord, Vendor, VendorAnswer};

pub const LICENSE_PK: &str = "LICENSE";
pub const SENT_PK: &str = "LICENSE#SENT";
/// A year of "what we sent", and a month more.
/// How long a `LICENSE#SENT` record is kept by default
/// (`ZW_LICENSE_SENT_RETENTION_DAYS`).
const SENT_DAYS: u32 = 400;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}
fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The cached license, the audit trail and the fleet counts, in the
/// findings table.
#[derive(Debug, Clone)]
pub struct DynamoLicenseStore {
    client: Client,
    table: String,
    sent_days: u32,
}

impl DynamoLicenseStore {
    pub fn with_client(client: Client, table: String) -> Self {
        Self {
            client,
            table,
            sent_days: SENT_DAYS,
        }
    }

    /// The same store, keeping each record of what was sent `days` days.
    pub fn keeping_sent(mut self, days: u32) -> Self {
        self.sent_days = days;
        self
    }

    fn malformed(&self, what: String) -> PortError {
        PortError::new("dynamodb", "Query", ErrorKind::InvalidResponse, what)
    }

    /// The aggregate counts of the estate, from what this deployment's own
    /// scans recorded (the newest scan record of each family in the last
    /// two days) and its open findings. Integers only; nothing else is read.
    /// In organization mode every member account's partitions are added
    /// (the accounts listed in `ORG#ACCOUNTS`), so the totals are the
    /// organization's; in single mode that partition is empty.
    pub async fn fleet_counts(&self, now: DateTime<Utc>) -> Result<FleetCounts, PortError> {
        let mut total = self.partition_counts(&Partition::single(), now).await?;
        let accounts =
            crate::table::query_partition(&self.client, &self.table, crate::org::ACCOUNTS_PK)
                .await?;
        for item in &accounts {
            let Some(id) = attr(item, "sk") else { continue };
            let account = zw_core::org::AccountRef {
                id: id.to_owned(),
                name: id.to_owned(),
            };
            let counts = self
                .partition_counts(&Partition::account(account), now)
                .await?;
            add(&mut total, &counts);
        }
        Ok(total)
    }

    /// The counts of one set of partitions (single mode's, or one member
    /// account's).
    async fn partition_counts(
        &self,
        partition: &Partition,
        now: DateTime<Utc>,
    ) -> Result<FleetCounts, PortError> {
        let mut counts = FleetCounts::default();
        let mut seen = [false; 4];
        for day in [now, now - Duration::days(1)] {
            let pk = partition.pk(&format!("SCAN#{}", day.format("%Y-%m-%d")));
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(pk))
                .scan_index_forward(false)
                .limit(200)
                .send()
                .await
                .map_err(|e| table_error(&self.table, "Query", e))?;
            for item in page.items() {
                let Some(record) = item.get("record").and_then(|v| v.as_s().ok()) else {
                    continue;
                };
                let Ok(record) = serde_json::from_str::<serde_json::Value>(record) else {
                    continue;
                };
                let get = |k: &str| record["counts"][k].as_u64();
                let fields: [(&str, &mut u64); 4] = [
                    ("hosted_zones", &mut counts.hosted_zones),
                    ("record_sets", &mut counts.record_sets),
                    ("certificates", &mut counts.certificates),
                    ("health_checks", &mut counts.health_checks),
                ];
                for (i, (key, slot)) in fields.into_iter().enumerate() {
                    if !seen[i]
                        && let Some(v) = get(key)
                    {
                        *slot = v;
                        seen[i] = true;
                    }
                }
            }
        }
        let findings = crate::table::query_partition(
            &self.client,
            &self.table,
            &partition.pk(crate::store::FINDING_PK),
        )
        .await?;
        for item in &findings {
            if item
                .get("state")
                .and_then(|v| v.as_s().ok())
                .map(String::as_str)
                != Some("open")
            {
                continue;
            }
            let severity = item
                .get("severity")
                .and_then(|v| v.as_s().ok())
                .and_then(|v| v.parse::<Severity>().ok());
            let slot = match severity {
                Some(Severity::Critical) => &mut counts.findings_critical,
                Some(Severity::High) => &mut counts.findings_high,
                Some(Severity::Medium) => &mut counts.findings_medium,
                Some(Severity::Low) => &mut counts.findings_low,
                Some(Severity::Info) => &mut counts.findings_info,
                None => continue,
            };
            *slot += 1;
        }
        Ok(counts)
    }
}

fn add(total: &mut FleetCounts, c: &FleetCounts) {
    total.hosted_zones += c.hosted_zones;
    total.record_sets += c.record_sets;
    total.certificates += c.certificates;
    total.health_checks += c.health_checks;
    total.findings_critical += c.findings_critical;
    total.findings_high += c.findings_high;
    total.findings_medium += c.findings_medium;
    total.findings_low += c.findings_low;
    total.findings_info += c.findings_info;
}

fn attr<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

impl LicenseStore for DynamoLicenseStore {
    async fn cached_license(&self) -> Result<Option<String>, PortError> {
        let got = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(LICENSE_PK))
            .key("sk", s("CURRENT"))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| table_error(&self.table, "GetItem", e))?;
        Ok(got.item().and_then(|i| attr(i, "token")).map(str::to_owned))
    }

    async fn store_license(&self, token: &str, now: DateTime<Utc>) -> Result<(), PortError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(LICENSE_PK))
            .item("sk", s("CURRENT"))
            .item("item_type", s("license"))
            .item("token", s(token))
            .item("stored_at", s(ts(now)))
            .send()
            .await
            .map_err(|e| table_error(&self.table, "PutItem", e))?;
        Ok(())
    }

    async fn record_sent(&self, r: &SentRecord) -> Result<(), PortError> {
        let suffix: u32 = rand::random();
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(SENT_PK))
            .item("sk", s(format!("{}#{suffix:08x}", ts(r.sent_at))))
            .item("item_type", s("license-sent"))
            .item("sent_at", s(ts(r.sent_at)))
            .item("body", s(&r.body))
            .item("bytes", AttributeValue::N(r.bytes.to_string()))
            .item("result", s(&r.result))
            .item(
                "expires_at",
                AttributeValue::N(
                    (r.sent_at + Duration::days(i64::from(self.sent_days)))
                        .timestamp()
                        .to_string(),
                ),
            );
        if let Some(status) = r.http_status {
            put = put.item("http_status", AttributeValue::N(status.to_string()));
        }
        if let Some(ls) = &r.license_status {
            put = put.item("license_status", s(ls));
        }
        put.send()
            .await
            .map_err(|e| table_error(&self.table, "PutItem", e))?;
        Ok(())
    }

    async fn sent(&self, limit: usize) -> Result<Vec<SentRecord>, PortError> {
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(SENT_PK))
            .scan_index_forward(false)
            .limit(i32::try_from(limit.clamp(1, 1000)).unwrap_or(1000))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| table_error(&self.table, "Query", e))?;
        page.items()
            .iter()
            .map(|item| {
                let sk = attr(item, "sk").unwrap_or("(no sk)");
                let bad = |what: &str| {
                    self.malformed(format!(
                        "license audit item `{sk}` has no readable `{what}`; it is left as it is"
                    ))
                };
                let number = |name: &str| {
                    item.get(name)
                        .and_then(|v| v.as_n().ok())
                        .and_then(|v| v.parse::<u64>().ok())
                };
                Ok(SentRecord {
                    sent_at: attr(item, "sent_at")
                        .and_then(|v| DateTime::parse_from_rfc3339(v).ok())
                        .map(|t| t.with_timezone(&Utc))
                        .ok_or_else(|| bad("sent_at"))?,
                    body: attr(item, "body").ok_or_else(|| bad("body"))?.to_owned(),
                    bytes: number("bytes")
                        .and_then(|b| usize::try_from(b).ok())
                        .ok_or_else(|| bad("bytes"))?,
                    http_status: number("http_status").and_then(|v| u16::try_from(v).ok()),
                    result: attr(item, "result")
                        .ok_or_else(|| bad("result"))?
                        .to_owned(),
                    license_status: attr(item, "license_status").map(str::to_owned),
                })
            })
            .collect::<Result<Vec<_>, PortError>>()
    }
}

/// The license client: one HTTPS POST to the vendor's validation endpoint.
/// No redirects are followed (the body goes to the configured URL or
/// nowhere), no proxy from the environment is used, and the answer is read
/// up to `zw_license::schema::MAX_RESPONSE_BYTES` only.
#[derive(Debug, Clone)]
pub struct HttpVendor {
    client: reqwest::Client,
    endpoint: reqwest::Url,
}

impl HttpVendor {
    /// `endpoint` passed [`OutboundUrl::endpoint`] (the configuration did
    /// that); the client itself refuses plain http too, unless the URL is
    /// the loopback exception, so a URL that reached here some other way
    /// still cannot send the key in clear text.
    pub fn new(endpoint: &OutboundUrl, timeout: std::time::Duration) -> Result<Self, PortError> {
        Self::build(
            endpoint.as_url().clone(),
            endpoint.is_plain_http_to_loopback(),
            timeout,
            reqwest::Client::builder(),
        )
    }

    fn build(
        endpoint: reqwest::Url,
        allow_plain_http: bool,
        timeout: std::time::Duration,
        builder: reqwest::ClientBuilder,
    ) -> Result<Self, PortError> {
        let client = builder
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .https_only(!allow_plain_http)
            .user_agent(concat!("zonewarden/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                PortError::new(
                    "license",
                    "client",
                    ErrorKind::Other,
                    format!("cannot build the license client: {e}"),
                )
            })?;
        Ok(Self { client, endpoint })
    }
}

/// The error and its causes, one line (reqwest hides the TLS or connect
/// reason in the source chain).
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

impl Vendor for HttpVendor {
    async fn validate(&self, body: Vec<u8>) -> Result<VendorAnswer, String> {
        let mut response = self
            .client
            .post(self.endpoint.clone())
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    format!("timed out ({})", chain(&e))
                } else {
                    chain(&e)
                }
            })?;
        let status = response.status().as_u16();
        let mut out = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| chain(&e))? {
            out.extend_from_slice(&chunk);
            if out.len() > zw_license::schema::MAX_RESPONSE_BYTES {
                return Err(format!(
                    "the answer is larger than {} bytes; not read further",
                    zw_license::schema::MAX_RESPONSE_BYTES
                ));
            }
        }
        Ok(VendorAnswer { status, body: out })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A one-connection server on loopback that reads the request and then
    /// does `answer` with the socket.
    async fn server(answer: &'static [u8], silent: bool) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 8192];
            let _ = sock.read(&mut buf).await;
            if silent {
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            } else {
                let _ = sock.write_all(answer).await;
            }
        });
        addr.to_string()
    }

    async fn post(url: &str) -> Result<VendorAnswer, String> {
        let url = OutboundUrl::endpoint(url).unwrap();
        HttpVendor::new(&url, std::time::Duration::from_millis(500))
            .unwrap()
            .validate(b"{}".to_vec())
            .await
    }

    #[tokio::test]
    async fn a_vendor_that_never_answers_times_out() {
        let addr = server(b"", true).await;
        let err = post(&format!("http://{addr}/v1/licenses/validate"))
            .await
            .unwrap_err();
        assert!(err.contains("timed out"), "{err}");
    }

    #[tokio::test]
    async fn a_vendor_that_is_not_tls_on_https_is_an_error_not_an_answer() {
        let addr = server(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}", false).await;
        let err = post(&format!("https://{addr}/v1/licenses/validate"))
            .await
            .unwrap_err();
        assert!(!err.is_empty());
    }

    #[tokio::test]
    async fn an_oversized_answer_is_not_read_past_the_limit() {
        static BIG: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| {
            let body = vec![b'x'; 20_000];
            let mut r =
                format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len()).into_bytes();
            r.extend(body);
            r
        });
        let addr = server(BIG.as_slice(), false).await;
        let err = post(&format!("http://{addr}/v1/licenses/validate"))
            .await
            .unwrap_err();
        assert!(err.contains("larger than"), "{err}");
    }

    #[tokio::test]
    async fn a_redirect_is_not_followed() {
        let addr = server(
            b"HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:9/elsewhere\r\ncontent-length: 0\r\n\r\n",
            false,
        )
        .await;
        let answer = post(&format!("http://{addr}/v1/licenses/validate"))
            .await
            .unwrap();
        assert_eq!(answer.status, 302);
    }

    /// A loopback listener that counts the connections it accepts and
    /// answers each request with HTTP 200 and `{}`.
    async fn counting_listener() -> (
        std::net::SocketAddr,
        std::sync::Arc<std::sync::atomic::AtomicUsize>,
    ) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = std::sync::Arc::clone(&hits);
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut buf = [0u8; 8192];
                let _ = sock.read(&mut buf).await;
                let _ = sock
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
                    )
                    .await;
            }
        });
        (addr, hits)
    }

    #[tokio::test]
    async fn plain_http_is_refused_except_to_loopback() {
        let (addr, hits) = counting_listener().await;
        let count = || hits.load(std::sync::atomic::Ordering::SeqCst);
        // A name that is not loopback, resolved (for this client only) to
        // the listener: a plain-http request that got through would land
        // there and be counted, where a refusal of any other kind (a name
        // that does not resolve, say) would not tell the two apart.
        let url: reqwest::Url = format!(
            "http://license.example.com:{}/v1/licenses/validate",
            addr.port()
        )
        .parse()
        .unwrap();
        let client = |allow_plain_http: bool| {
            HttpVendor::build(
                url.clone(),
                allow_plain_http,
                std::time::Duration::from_secs(2),
                reqwest::Client::builder().resolve("license.example.com", addr),
            )
            .unwrap()
        };
        let err = client(false).validate(b"{}".to_vec()).await.unwrap_err();
        assert!(err.contains("scheme is not allowed"), "{err}");
        assert_eq!(count(), 0, "the refused request reached the listener");
        // The control: allowed plain http, the same request does arrive.
        assert_eq!(
            client(true).validate(b"{}".to_vec()).await.unwrap().status,
            200
        );
        assert_eq!(count(), 1);
        // `new` allows plain http to the loopback exception only, and a
        // non-loopback http URL never becomes an `OutboundUrl` at all.
        let local = format!("http://127.0.0.1:{}/v1/licenses/validate", addr.port());
        assert_eq!(post(&local).await.unwrap().status, 200);
        assert_eq!(count(), 2);
        assert!(OutboundUrl::endpoint(url.as_str()).is_err());
    }
}
