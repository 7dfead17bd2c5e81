//! AWS's published IP ranges (`ip-ranges.json`), downloaded over HTTP(S) and
//! kept in memory for a day: AWS updates the file a few times a week, and a
//! scan every few minutes must not download 2 MB each time.
//!
//! The cache is shared by every clone of an [`IpRanges`] and keyed by URL.
//! Its age is measured with a monotonic [`Instant`] from an injectable source,
//! so a test can move time on without sleeping.
//!
//! The download goes to the configured URL and nowhere else: the URL passes
//! [`OutboundUrl::endpoint`] (https; http only to loopback), redirects are
//! not followed, no proxy is taken from the environment (`HTTPS_PROXY` and
//! friends), and at most [`MAX_BYTES`] are read.

use crate::download::Downloader;
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use zw_core::families::dns::model::AwsIpPrefix;
use zw_core::outbound::OutboundUrl;
use zw_core::ports::{ErrorKind, PortError};

/// Where AWS publishes its ranges.
pub const DEFAULT_IP_RANGES_URL: &str = "https://ip-ranges.amazonaws.com/ip-ranges.json";
/// How long a downloaded document is reused: 24 hours.
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// Connect and read timeout of the download: 10 seconds.
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// Upper bound on the whole download, whatever the read timeout: 60 seconds.
const TOTAL_TIMEOUT: Duration = Duration::from_secs(60);
/// The most of `ip-ranges.json` that is read: 16 MiB, several times the
/// published file (a few MB), and a bound on what a wrong or hostile server
/// can make a 128 MB Lambda function hold.
pub const MAX_BYTES: usize = 16 * 1024 * 1024;

const SERVICE: &str = "ip-ranges";
const OPERATION: &str = "GET";
const DOWNLOADER: Downloader = Downloader {
    service: SERVICE,
    operation: OPERATION,
    max_bytes: MAX_BYTES,
};

type InstantSource = Arc<dyn Fn() -> Instant + Send + Sync>;

#[derive(Debug, Clone)]
struct Cached {
    fetched_at: Instant,
    prefixes: Arc<Vec<AwsIpPrefix>>,
}

/// Downloads and caches `ip-ranges.json`. Cheap to clone; clones share the
/// cache and the HTTP client.
#[derive(Clone)]
pub struct IpRanges {
    url: OutboundUrl,
    ttl: Duration,
    timeout: Duration,
    /// Built on the first download, not in `new`: building it loads the
    /// system's root certificates (milliseconds of init time), and most
    /// invocations never download because no record points into AWS.
    http: Arc<OnceLock<reqwest::Client>>,
    /// Held across a download, so concurrent callers wait for one download
    /// instead of starting their own.
    cache: Arc<Mutex<HashMap<String, Cached>>>,
    now: InstantSource,
}

impl fmt::Debug for IpRanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IpRanges")
            .field("url", &self.url)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl IpRanges {
    /// `url` must be `https://` (AWS), or `http://` to a loopback address
    /// (a local test server); anything else is an `InvalidRequest`.
    /// `timeout` bounds connecting and each read; `ttl` is the cache's life.
    pub fn new(
        url: impl Into<String>,
        timeout: Duration,
        ttl: Duration,
    ) -> Result<Self, PortError> {
        let raw = url.into();
        let url = OutboundUrl::endpoint(&raw).map_err(|why| {
            PortError::new(
                SERVICE,
                OPERATION,
                ErrorKind::InvalidRequest,
                format!("the ip-ranges.json URL `{}` {why}", why.shown(&raw)),
            )
        })?;
        Ok(Self {
            url,
            ttl,
            timeout,
            http: Arc::default(),
            cache: Arc::default(),
            now: Arc::new(Instant::now),
        })
    }

    /// Replaces the clock the cache's age is measured with (tests).
    pub fn with_instant_source(
        mut self,
        now: impl Fn() -> Instant + Send + Sync + 'static,
    ) -> Self {
        self.now = Arc::new(now);
        self
    }

    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// The prefixes, from the cache while it is younger than the TTL, else
    /// downloaded again. A failed download leaves the old copy in place but
    /// returns the error: a day-old copy is the most the port promises.
    pub async fn prefixes(&self) -> Result<Arc<Vec<AwsIpPrefix>>, PortError> {
        let mut cache = self.cache.lock().await;
        let now = (self.now)();
        if let Some(c) = cache.get(self.url.as_str())
            && now.saturating_duration_since(c.fetched_at) < self.ttl
        {
            return Ok(Arc::clone(&c.prefixes));
        }
        let body = self.download().await?;
        // A couple of MB of JSON: parse off the async worker threads.
        let prefixes = DOWNLOADER
            .off_thread("ip-ranges.json", move || parse_ip_ranges(&body))
            .await??;
        let prefixes = Arc::new(prefixes);
        cache.insert(
            self.url.as_str().to_owned(),
            Cached {
                fetched_at: now,
                prefixes: Arc::clone(&prefixes),
            },
        );
        Ok(prefixes)
    }

    fn client(&self) -> Result<&reqwest::Client, PortError> {
        if let Some(http) = self.http.get() {
            return Ok(http);
        }
        let http = DOWNLOADER.client(&self.url, self.timeout, TOTAL_TIMEOUT, None)?;
        // A concurrent first call may have won the race; either client will do.
        Ok(self.http.get_or_init(|| http))
    }

    async fn download(&self) -> Result<Vec<u8>, PortError> {
        DOWNLOADER.get(self.client()?, self.url.as_url()).await
    }
}

#[derive(Deserialize)]
struct Document {
    prefixes: Vec<V4Prefix>,
    /// Older copies of the file had no IPv6 section.
    #[serde(default)]
    ipv6_prefixes: Vec<V6Prefix>,
}

#[derive(Deserialize)]
struct V4Prefix {
    ip_prefix: String,
    region: String,
    service: String,
}

#[derive(Deserialize)]
struct V6Prefix {
    ipv6_prefix: String,
    region: String,
    service: String,
}

/// Parses `ip-ranges.json`: `prefixes[]` (`ip_prefix`) and `ipv6_prefixes[]`
/// (`ipv6_prefix`), each with `region` and `service`. Every prefix must be an
/// address of its family with a valid length; anything else is an
/// `InvalidResponse` naming what was wrong.
pub fn parse_ip_ranges(body: &[u8]) -> Result<Vec<AwsIpPrefix>, PortError> {
    let bad = |why: String| {
        PortError::new(
            SERVICE,
            OPERATION,
            ErrorKind::InvalidResponse,
            format!("ip-ranges.json is not usable: {why}"),
        )
    };
    let doc: Document = serde_json::from_slice(body).map_err(|e| {
        bad(format!(
            "expected a JSON object with `prefixes` and `ipv6_prefixes`: {e}"
        ))
    })?;
    let mut out = Vec::with_capacity(doc.prefixes.len() + doc.ipv6_prefixes.len());
    for p in doc.prefixes {
        check_prefix(&p.ip_prefix, false).map_err(|why| bad(format!("prefixes[]: {why}")))?;
        out.push(AwsIpPrefix {
            prefix: p.ip_prefix,
            region: p.region,
            service: p.service,
        });
    }
    for p in doc.ipv6_prefixes {
        check_prefix(&p.ipv6_prefix, true).map_err(|why| bad(format!("ipv6_prefixes[]: {why}")))?;
        out.push(AwsIpPrefix {
            prefix: p.ipv6_prefix,
            region: p.region,
            service: p.service,
        });
    }
    if out.is_empty() {
        return Err(bad("it lists no prefixes at all".into()));
    }
    Ok(out)
}

fn check_prefix(prefix: &str, v6: bool) -> Result<(), String> {
    let bad = || format!("`{prefix}` is not an IPv{} prefix", if v6 { 6 } else { 4 });
    let (addr, len) = prefix.split_once('/').ok_or_else(bad)?;
    let addr: IpAddr = addr.parse().map_err(|_| bad())?;
    let len: u8 = len.parse().map_err(|_| bad())?;
    let ok = match addr {
        IpAddr::V4(_) => !v6 && len <= 32,
        IpAddr::V6(_) => v6 && len <= 128,
    };
    if ok { Ok(()) } else { Err(bad()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{
      "syncToken": "1700000000",
      "createDate": "2026-11-20-10-00-00",
      "prefixes": [
        {"ip_prefix": "3.5.140.0/22", "region": "ap-northeast-2", "service": "AMAZON", "network_border_group": "ap-northeast-2"},
        {"ip_prefix": "52.94.76.0/22", "region": "us-west-2", "service": "S3", "network_border_group": "us-west-2"}
      ],
      "ipv6_prefixes": [
        {"ipv6_prefix": "2600:1f14::/35", "region": "us-west-2", "service": "EC2", "network_border_group": "us-west-2"}
      ]
    }"#;

    #[test]
    fn parses_both_families() {
        let p = parse_ip_ranges(SAMPLE.as_bytes()).expect("parses");
        assert_eq!(p.len(), 3);
        assert_eq!(
            p[1],
            AwsIpPrefix {
                prefix: "52.94.76.0/22".into(),
                region: "us-west-2".into(),
                service: "S3".into()
            }
        );
        assert_eq!(p[2].prefix, "2600:1f14::/35");
    }

    #[test]
    fn malformed_documents_are_invalid_responses_that_say_why() {
        let cases = [
            ("<html>oops</html>", "expected a JSON object"),
            (r#"{"ipv6_prefixes": []}"#, "prefixes"),
            (
                r#"{"prefixes": [{"ip_prefix": "3.5.140.0/33", "region": "x", "service": "S3"}]}"#,
                "`3.5.140.0/33` is not an IPv4 prefix",
            ),
            (
                r#"{"prefixes": [], "ipv6_prefixes": [{"ipv6_prefix": "3.5.140.0/22", "region": "x", "service": "S3"}]}"#,
                "not an IPv6 prefix",
            ),
            (r#"{"prefixes": [], "ipv6_prefixes": []}"#, "no prefixes"),
        ];
        for (doc, needle) in cases {
            let e = parse_ip_ranges(doc.as_bytes()).expect_err(doc);
            assert_eq!(e.kind, ErrorKind::InvalidResponse, "{doc}");
            assert!(e.message.contains(needle), "{doc}: {e}");
        }
    }

    /// A one-route HTTP/1.1 server on 127.0.0.1 answering every request with
    /// `status` and `body`; counts the requests.
    async fn serve(
        status: &'static str,
        body: &'static str,
    ) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!(
            "http://{}/ip-ranges.json",
            listener.local_addr().expect("addr")
        );
        let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = Arc::clone(&hits);
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut buf = vec![0u8; 4096];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let reply = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(reply.as_bytes()).await;
                let _ = sock.shutdown().await;
            }
        });
        (url, hits)
    }

    #[tokio::test]
    async fn downloads_once_a_day_and_clones_share_the_cache() {
        let (url, hits) = serve("200 OK", SAMPLE).await;
        let start = Instant::now();
        let offset = Arc::new(std::sync::Mutex::new(Duration::ZERO));
        let clock = Arc::clone(&offset);
        let ranges = IpRanges::new(&url, DEFAULT_HTTP_TIMEOUT, DEFAULT_TTL)
            .expect("client")
            .with_instant_source(move || start + *clock.lock().expect("lock"));
        let count = || hits.load(std::sync::atomic::Ordering::SeqCst);

        assert_eq!(ranges.prefixes().await.expect("first").len(), 3);
        assert_eq!(ranges.clone().prefixes().await.expect("cached").len(), 3);
        assert_eq!(count(), 1, "the clone used the cache");

        *offset.lock().expect("lock") = Duration::from_secs(23 * 3600);
        ranges.prefixes().await.expect("still cached");
        assert_eq!(count(), 1);

        *offset.lock().expect("lock") = Duration::from_secs(24 * 3600 + 1);
        ranges.prefixes().await.expect("refreshed");
        assert_eq!(count(), 2, "a day-old copy is downloaded again");
    }

    #[tokio::test]
    async fn http_failures_are_classified() {
        let (url, _) = serve("404 Not Found", "nope").await;
        let e = IpRanges::new(&url, DEFAULT_HTTP_TIMEOUT, DEFAULT_TTL)
            .expect("client")
            .prefixes()
            .await
            .expect_err("404");
        assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
        assert!(e.message.contains(&url), "{e}");

        let (url, _) = serve("200 OK", "{\"prefixes\": 5}").await;
        let e = IpRanges::new(&url, DEFAULT_HTTP_TIMEOUT, DEFAULT_TTL)
            .expect("client")
            .prefixes()
            .await
            .expect_err("malformed");
        assert_eq!(e.kind, ErrorKind::InvalidResponse, "{e}");

        // Nothing listens on a port just released.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("probe")
            .port();
        let e = IpRanges::new(
            format!("http://127.0.0.1:{port}/ip-ranges.json"),
            DEFAULT_HTTP_TIMEOUT,
            DEFAULT_TTL,
        )
        .expect("client")
        .prefixes()
        .await
        .expect_err("refused");
        assert_eq!(e.kind, ErrorKind::Unreachable, "{e}");
    }

    /// A one-shot-per-connection server on 127.0.0.1 writing `reply` (status
    /// line, headers and body) to every request, then closing; counts the
    /// connections.
    async fn serve_raw(
        reply: Vec<u8>,
    ) -> (std::net::SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = Arc::clone(&hits);
        let reply = Arc::new(reply);
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let reply = Arc::clone(&reply);
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let _ = sock.read(&mut buf).await;
                    let _ = sock.write_all(&reply).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        (addr, hits)
    }

    #[tokio::test]
    async fn a_redirect_is_reported_not_followed() {
        let body = SAMPLE.as_bytes();
        let mut ok = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        ok.extend_from_slice(body);
        let (elsewhere, elsewhere_hits) = serve_raw(ok).await;
        let (first, _) = serve_raw(
            format!(
                "HTTP/1.1 302 Found\r\nLocation: http://{elsewhere}/ip-ranges.json\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            .into_bytes(),
        )
        .await;
        let e = IpRanges::new(
            format!("http://{first}/ip-ranges.json"),
            DEFAULT_HTTP_TIMEOUT,
            DEFAULT_TTL,
        )
        .expect("client")
        .prefixes()
        .await
        .expect_err("a redirect is not a document");
        assert_eq!(e.kind, ErrorKind::InvalidResponse, "{e}");
        assert!(
            e.message.contains("302") && e.message.contains("not followed"),
            "{e}"
        );
        assert_eq!(
            elsewhere_hits.load(std::sync::atomic::Ordering::SeqCst),
            0,
            "the redirect was followed"
        );
    }

    #[tokio::test]
    async fn an_oversized_document_is_not_read_past_the_cap() {
        // Announced: refused on the header, before the body.
        let (announced, _) = serve_raw(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                MAX_BYTES + 1
            )
            .into_bytes(),
        )
        .await;
        // Unannounced (no length, the body runs to the close): refused once
        // the cap is crossed.
        let mut unannounced = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
        unannounced.resize(unannounced.len() + MAX_BYTES + 1, b' ');
        let (unannounced, _) = serve_raw(unannounced).await;
        for addr in [announced, unannounced] {
            let e = IpRanges::new(
                format!("http://{addr}/ip-ranges.json"),
                DEFAULT_HTTP_TIMEOUT,
                DEFAULT_TTL,
            )
            .expect("client")
            .prefixes()
            .await
            .expect_err("too large");
            assert_eq!(e.kind, ErrorKind::InvalidResponse, "{e}");
            assert!(e.message.contains("more than"), "{e}");
        }
    }

    #[test]
    fn urls_outside_the_rules_are_refused_before_any_request() {
        for (raw, needle) in [
            ("http://ip-ranges.amazonaws.com/ip-ranges.json", "https://"),
            (
                "http://127.0.0.1:80@evil.example/ip-ranges.json",
                "user name",
            ),
            (
                "https://ip-ranges.amazonaws.com/ip-ranges.json#x",
                "fragment",
            ),
        ] {
            let e = IpRanges::new(raw, DEFAULT_HTTP_TIMEOUT, DEFAULT_TTL).expect_err(raw);
            assert_eq!(e.kind, ErrorKind::InvalidRequest, "{raw}");
            assert!(e.message.contains(needle), "{raw}: {e}");
        }
    }

    /// Set by [`proxy_variables_in_the_environment_are_not_used`] for the
    /// child process it runs.
    const CHILD_URL: &str = "ZW_TEST_IP_RANGES_CHILD_URL";

    /// Proxy variables are process-wide: the download runs in a child
    /// process of this test binary (the ignored test below), with
    /// `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY` pointing at a listener here.
    /// The child also sends one request with a default client, which does
    /// take the proxy from the environment: exactly one connection shows
    /// the variables were seen and that only the control used them.
    #[tokio::test]
    async fn proxy_variables_in_the_environment_are_not_used() {
        let (proxy, proxy_hits) =
            serve_raw(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n".to_vec()).await;
        let proxy_url = format!("http://{proxy}");
        let exe = std::env::current_exe().expect("test binary");
        let mut child = std::process::Command::new(exe);
        child
            .args([
                "ip_ranges::tests::child_downloads_with_proxy_variables_set",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env_remove("NO_PROXY")
            .env_remove("no_proxy")
            .env("HTTP_PROXY", &proxy_url)
            .env("http_proxy", &proxy_url)
            .env("HTTPS_PROXY", &proxy_url)
            .env("https_proxy", &proxy_url)
            .env("ALL_PROXY", &proxy_url)
            // `.invalid` never resolves (RFC 6761): without a proxy the
            // download fails at DNS, here, without leaving the machine.
            .env(CHILD_URL, "https://ip-ranges.invalid/ip-ranges.json");
        // Blocking wait off the runtime, which keeps serving the proxy.
        let out = tokio::task::spawn_blocking(move || child.output())
            .await
            .expect("join")
            .expect("child runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "child: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            proxy_hits.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "only the control request may go through the proxy"
        );
    }

    #[tokio::test]
    #[ignore = "run in a child process by proxy_variables_in_the_environment_are_not_used"]
    async fn child_downloads_with_proxy_variables_set() {
        let url = std::env::var(CHILD_URL).expect("run by the parent test");
        // Fails either way (no such name; the proxy refuses tunnels): the
        // parent tells the two apart by the proxy's connection count.
        IpRanges::new(url.as_str(), Duration::from_secs(5), DEFAULT_TTL)
            .expect("client")
            .prefixes()
            .await
            .expect_err("ip-ranges.invalid does not resolve");
        // The control: a client with reqwest's defaults goes to the proxy,
        // which refuses the tunnel.
        reqwest::Client::new()
            .get(url.as_str())
            .send()
            .await
            .expect_err("the proxy refuses");
    }
}
