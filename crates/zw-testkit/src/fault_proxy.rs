//! A fault-injecting HTTP/1.1 proxy on loopback, in front of moto: it
//! answers a share of AWS requests with the service's own throttling error,
//! a 5xx, or a stall (the connection is held without an answer, then
//! dropped), and forwards the rest. Each distinct request (method, path,
//! `X-Amz-Target` and body) is faulted on its first attempt at most, so the
//! SDK's retry always gets through: a scan through it must end with the same
//! findings as a clean one.
//!
//! One request per connection (`Connection: close` both ways) keeps the
//! framing trivial: the SDK opens a new connection per attempt.
//!
//! With `dynamodb_limits`, it also refuses what DynamoDB refuses and moto
//! does not: a `TransactWriteItems` whose items add up to more than 4 MB.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Shares of requests answered with each fault, from 0 to 1 (their sum at
/// most 1), and how long a stall holds the connection.
#[derive(Debug, Clone, Copy)]
pub struct FaultPlan {
    pub throttle: f64,
    pub server_error: f64,
    pub stall: f64,
    pub stall_for: Duration,
    /// Shifts which requests fault.
    pub seed: u64,
}

/// What the proxy did, by kind.
#[derive(Debug, Default)]
pub struct FaultCounts {
    pub forwarded: AtomicU64,
    pub throttled: AtomicU64,
    pub server_errors: AtomicU64,
    pub stalled: AtomicU64,
    /// AssumeRole requests refused (`start_denying`).
    pub denied: AtomicU64,
    /// Transactions refused for their size (`dynamodb_limits`).
    pub too_large: AtomicU64,
}

impl FaultCounts {
    pub fn snapshot(&self) -> [u64; 4] {
        [
            self.forwarded.load(Ordering::SeqCst),
            self.throttled.load(Ordering::SeqCst),
            self.server_errors.load(Ordering::SeqCst),
            self.stalled.load(Ordering::SeqCst),
        ]
    }
}

/// The running proxy; stops when dropped.
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    pub counts: Arc<FaultCounts>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// Listens on 127.0.0.1 (a free port) and forwards to `upstream`
    /// (moto's `host:port`).
    pub async fn start(upstream: SocketAddr, plan: FaultPlan) -> std::io::Result<Self> {
        Self::start_denying(upstream, plan, Vec::new()).await
    }

    /// Like `start`, and answers STS `AssumeRole` of a role in any of
    /// `denied_accounts` with STS's own AccessDenied (moto assumes any role
    /// in any account: this is a member account whose role is missing or
    /// does not trust us).
    pub async fn start_denying(
        upstream: SocketAddr,
        plan: FaultPlan,
        denied_accounts: Vec<String>,
    ) -> std::io::Result<Self> {
        Self::start_inner(upstream, plan, denied_accounts, false).await
    }

    /// No faults; every request forwarded, except a `TransactWriteItems`
    /// DynamoDB would refuse for its size (moto takes any size), which gets
    /// DynamoDB's own `ValidationException`.
    pub async fn dynamodb_limits(upstream: SocketAddr) -> std::io::Result<Self> {
        let plan = FaultPlan {
            throttle: 0.0,
            server_error: 0.0,
            stall: 0.0,
            stall_for: Duration::ZERO,
            seed: 0,
        };
        Self::start_inner(upstream, plan, Vec::new(), true).await
    }

    async fn start_inner(
        upstream: SocketAddr,
        plan: FaultPlan,
        denied_accounts: Vec<String>,
        limits: bool,
    ) -> std::io::Result<Self> {
        let denied = Arc::new(denied_accounts);
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let counts = Arc::new(FaultCounts::default());
        let seen = Arc::new(Mutex::new(HashSet::new()));
        let c = counts.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (c, seen, denied) = (c.clone(), seen.clone(), denied.clone());
                tokio::spawn(async move {
                    // A broken client connection only ends that request.
                    let _ = serve(client, upstream, plan, &c, &seen, &denied, limits).await;
                });
            }
        });
        Ok(Self { addr, counts, task })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

enum Fault {
    Throttle,
    ServerError,
    Stall,
}

/// The request's identity and, on its first attempt only, its fault. The
/// n-th new request gets the point `seed + n * (golden ratio)` (mod 1): a
/// low-discrepancy sequence, so even a short scan sees each kind of fault
/// in its share, whatever its requests' contents.
fn decide(key: u64, plan: &FaultPlan, seen: &Mutex<HashSet<u64>>) -> Option<Fault> {
    let n = {
        let Ok(mut s) = seen.lock() else {
            return None;
        };
        if !s.insert(key) {
            return None;
        }
        s.len() as u64
    };
    const GOLDEN: f64 = 0.618_033_988_749_895;
    let x = ((plan.seed as f64) * GOLDEN + (n as f64) * GOLDEN).fract();
    if x < plan.throttle {
        Some(Fault::Throttle)
    } else if x < plan.throttle + plan.server_error {
        Some(Fault::ServerError)
    } else if x < plan.throttle + plan.server_error + plan.stall {
        Some(Fault::Stall)
    } else {
        None
    }
}

struct Request {
    head: String,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then_some(v.trim())
        })
    }

    fn key(&self) -> u64 {
        let mut h = DefaultHasher::new();
        self.head.lines().next().hash(&mut h);
        self.header("x-amz-target").hash(&mut h);
        self.body.hash(&mut h);
        h.finish()
    }
}

async fn read_request(s: &mut TcpStream) -> std::io::Result<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut req = Request {
        head,
        body: buf[head_end..].to_vec(),
    };
    let len: usize = req
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while req.body.len() < len {
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        req.body.extend_from_slice(&chunk[..n]);
    }
    Ok(req)
}

/// The service's throttling answer, in its protocol.
fn throttling(req: &Request) -> (u16, &'static str, String) {
    match req.header("x-amz-target") {
        Some(t) if t.starts_with("DynamoDB_") => (
            400,
            "application/x-amz-json-1.0",
            r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate exceeded"}"#.into(),
        ),
        Some(_) => (
            400,
            "application/x-amz-json-1.1",
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.into(),
        ),
        // Route 53 (restXml) and the query protocols.
        None => (
            400,
            "text/xml",
            "<?xml version=\"1.0\"?>\n<ErrorResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>".into(),
        ),
    }
}

fn response(status: u16, reason: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nx-amzn-RequestId: fault-proxy\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The denied account an STS AssumeRole request names, if any.
fn denied_assume_role<'a>(req: &Request, denied: &'a [String]) -> Option<&'a String> {
    let body = String::from_utf8_lossy(&req.body);
    if !body.contains("Action=AssumeRole") {
        return None;
    }
    // The role ARN arrives form-encoded: arn%3Aaws%3Aiam%3A%3A<id>%3Arole...
    denied
        .iter()
        .find(|id| body.contains(&format!("%3A%3A{id}%3A")) || body.contains(&format!("::{id}:")))
}

/// DynamoDB's limit on the items of one transaction.
const MAX_TRANSACTION_BYTES: usize = 4 * 1024 * 1024;

/// The size DynamoDB counts for a JSON-protocol attribute value: strings and
/// numbers by their length, anything else by its JSON text (close enough
/// for a limit check).
fn value_bytes(v: &serde_json::Value) -> usize {
    match v.as_object().and_then(|m| m.iter().next()) {
        Some((t, serde_json::Value::String(s))) if t == "S" || t == "N" => s.len(),
        _ => v.to_string().len(),
    }
}

/// The items of a `TransactWriteItems` request, added up as DynamoDB does
/// (attribute names and values); None for any other request.
fn transaction_bytes(req: &Request) -> Option<usize> {
    if req.header("x-amz-target") != Some("DynamoDB_20120810.TransactWriteItems") {
        return None;
    }
    let body: serde_json::Value = serde_json::from_slice(&req.body).ok()?;
    let total = body["TransactItems"]
        .as_array()?
        .iter()
        .filter_map(|action| {
            action
                .as_object()?
                .values()
                .next()?
                .get("Item")?
                .as_object()
        })
        .flat_map(|item| item.iter())
        .map(|(name, value)| name.len() + value_bytes(value))
        .sum();
    Some(total)
}

async fn serve(
    mut client: TcpStream,
    upstream: SocketAddr,
    plan: FaultPlan,
    counts: &FaultCounts,
    seen: &Mutex<HashSet<u64>>,
    denied: &[String],
    limits: bool,
) -> std::io::Result<()> {
    let req = read_request(&mut client).await?;
    if limits && transaction_bytes(&req).is_some_and(|n| n > MAX_TRANSACTION_BYTES) {
        counts.too_large.fetch_add(1, Ordering::SeqCst);
        client
            .write_all(&response(
                400,
                "Bad Request",
                "application/x-amz-json-1.0",
                r#"{"__type":"com.amazon.coral.validate#ValidationException","message":"Transaction request cannot be larger than 4 MB"}"#,
            ))
            .await?;
        return client.shutdown().await;
    }
    if let Some(id) = denied_assume_role(&req, denied) {
        counts.denied.fetch_add(1, Ordering::SeqCst);
        let body = format!(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:sts::123456789012:assumed-role/zonewarden-org-scanner/test is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::{id}:role/zonewarden-member</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>"
        );
        client
            .write_all(&response(403, "Forbidden", "text/xml", &body))
            .await?;
        return client.shutdown().await;
    }
    match decide(req.key(), &plan, seen) {
        Some(Fault::Throttle) => {
            counts.throttled.fetch_add(1, Ordering::SeqCst);
            let (status, ct, body) = throttling(&req);
            client
                .write_all(&response(status, "Bad Request", ct, &body))
                .await?;
        }
        Some(Fault::ServerError) => {
            counts.server_errors.fetch_add(1, Ordering::SeqCst);
            client
                .write_all(&response(
                    503,
                    "Service Unavailable",
                    "application/json",
                    r#"{"__type":"ServiceUnavailable","message":"try again"}"#,
                ))
                .await?;
        }
        Some(Fault::Stall) => {
            counts.stalled.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(plan.stall_for).await;
            // Dropped without an answer.
        }
        None => {
            counts.forwarded.fetch_add(1, Ordering::SeqCst);
            let mut up = TcpStream::connect(upstream).await?;
            // One request per connection: ask moto to close after answering.
            let head: String = req
                .head
                .lines()
                .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
                .filter(|l| !l.is_empty())
                .map(|l| format!("{l}\r\n"))
                .collect();
            up.write_all(head.as_bytes()).await?;
            up.write_all(b"Connection: close\r\n\r\n").await?;
            up.write_all(&req.body).await?;
            let mut answer = Vec::new();
            up.read_to_end(&mut answer).await?;
            client.write_all(&answer).await?;
        }
    }
    client.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_request_faults_on_its_first_attempt_at_most() {
        let plan = FaultPlan {
            throttle: 0.5,
            server_error: 0.3,
            stall: 0.2,
            stall_for: Duration::ZERO,
            seed: 7,
        };
        let seen = Mutex::new(HashSet::new());
        // Every share is 1 in all: each first attempt faults, no retry does.
        for key in 0..100 {
            assert!(decide(key, &plan, &seen).is_some());
            assert!(decide(key, &plan, &seen).is_none(), "retry of {key}");
        }
        let none = FaultPlan {
            throttle: 0.0,
            server_error: 0.0,
            stall: 0.0,
            ..plan
        };
        assert!((100..200).all(|k| decide(k, &none, &seen).is_none()));
    }

    #[test]
    fn a_short_scan_sees_every_kind_of_fault_in_its_share() {
        let plan = FaultPlan {
            throttle: 0.2,
            server_error: 0.1,
            stall: 0.08,
            stall_for: Duration::ZERO,
            seed: 2026,
        };
        let seen = Mutex::new(HashSet::new());
        let mut kinds = [0; 4];
        for key in 0..25 {
            let i = match decide(key, &plan, &seen) {
                None => 0,
                Some(Fault::Throttle) => 1,
                Some(Fault::ServerError) => 2,
                Some(Fault::Stall) => 3,
            };
            kinds[i] += 1;
        }
        // 25 requests: 5 throttled, 2-3 server errors, 2 stalls, give or take one.
        assert!((4..=6).contains(&kinds[1]), "{kinds:?}");
        assert!((2..=3).contains(&kinds[2]), "{kinds:?}");
        assert!((1..=3).contains(&kinds[3]), "{kinds:?}");
    }
}
