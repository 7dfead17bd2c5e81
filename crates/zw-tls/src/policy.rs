//! The mail family's one HTTPS request: the MTA-STS policy file (RFC 8461
//! section 3.3), fetched with the probe's own TLS client. The certificate
//! must be valid for the host, as senders require; the request is one
//! HTTP/1.0 GET (so the answer is never chunked), no redirect is followed,
//! and the answer is read up to a cap.

use super::{TlsOutcome, TlsProbe};
use rustls::pki_types::ServerName;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use zw_core::families::mail::model::FetchFailure;
use zw_core::families::mail::ports::PolicyFetcher;

/// The largest policy file read (RFC 8461 section 3.3 lets senders stop
/// at 64 KiB).
pub const POLICY_LIMIT: usize = 64 * 1024;

/// Room for the status line and headers beyond the body's cap.
const HEADER_LIMIT: usize = 16 * 1024;

/// The body of an HTTP answer of status 200, or why there is none.
pub fn policy_body(answer: &[u8]) -> Result<String, String> {
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("the answer has no complete HTTP header")?;
    let head = String::from_utf8_lossy(answer.get(..split).unwrap_or_default());
    let body = answer.get(split + 4..).unwrap_or_default();
    let status = head.lines().next().unwrap_or_default();
    let mut parts = status.split_whitespace();
    let (Some(version), Some(code)) = (parts.next(), parts.next()) else {
        return Err(format!("`{status}` is not an HTTP status line"));
    };
    if !version.starts_with("HTTP/") {
        return Err(format!("`{status}` is not an HTTP status line"));
    }
    if code != "200" {
        // Redirects included: RFC 8461 forbids following them.
        return Err(format!("the server answered HTTP {code}"));
    }
    if body.len() > POLICY_LIMIT {
        return Err(format!(
            "the policy is larger than {} KiB",
            POLICY_LIMIT / 1024
        ));
    }
    String::from_utf8(body.to_vec()).map_err(|_| "the policy is not UTF-8 text".to_owned())
}

impl PolicyFetcher for TlsProbe {
    async fn fetch(
        &self,
        host: &str,
        address: SocketAddr,
        path: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<String, FetchFailure> {
        let server = |why: String| FetchFailure::Server(why);
        let server_name = ServerName::try_from(host.to_owned()).map_err(|e| {
            FetchFailure::Probe(format!("`{host}` cannot be sent as a server name: {e}"))
        })?;
        let deadline = tokio::time::Instant::now() + self.timeout;
        let tcp = tokio::time::timeout_at(deadline, TcpStream::connect(address))
            .await
            .map_err(|_| {
                server(format!(
                    "no TCP answer from {address} within {} ms",
                    self.timeout.as_millis()
                ))
            })?
            .map_err(|e| server(format!("no connection to {address}: {e}")))?;
        let _ = tcp.set_nodelay(true);
        let mut tls = match tokio::time::timeout_at(
            deadline,
            self.connector.connect(server_name.clone(), tcp),
        )
        .await
        {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                return Err(match super::handshake_failure(&e) {
                    TlsOutcome::ProbeLimit { limit, .. } => FetchFailure::Probe(format!(
                        "the TLS handshake needs {limit}: a limit of zonewarden's TLS client"
                    )),
                    _ => server(format!("the TLS handshake failed: {e}")),
                });
            }
            Err(_) => return Err(server("no TLS handshake in time".into())),
        };
        {
            let (_, conn) = tls.get_ref();
            let Some([leaf, intermediates @ ..]) = conn.peer_certificates() else {
                return Err(server(
                    "the handshake completed without a certificate".into(),
                ));
            };
            let served = self
                .inspect(leaf, intermediates, &server_name, String::new())
                .map_err(server)?;
            if let Some(e) = served.chain_error {
                return Err(server(format!("its certificate is not trusted: {e}")));
            }
            if !served.hostname_matches {
                return Err(server(format!("its certificate is not valid for {host}")));
            }
            if served.not_after < now || served.not_before > now {
                return Err(server(format!(
                    "its certificate is not valid now (valid {} to {})",
                    served.not_before, served.not_after
                )));
            }
        }
        let request = format!(
            "GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: zonewarden\r\nAccept: text/plain\r\nConnection: close\r\n\r\n"
        );
        let read = async {
            tls.write_all(request.as_bytes()).await?;
            tls.flush().await?;
            let mut answer = Vec::new();
            let mut limited = (&mut tls).take((POLICY_LIMIT + HEADER_LIMIT + 1) as u64);
            // A server that closes without TLS's close_notify still sent
            // what it sent: keep it.
            match limited.read_to_end(&mut answer).await {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {}
                Err(e) => return Err(e),
            }
            Ok::<_, std::io::Error>(answer)
        };
        let answer = tokio::time::timeout(self.timeout, read)
            .await
            .map_err(|_| {
                server(format!(
                    "no complete answer within {} ms",
                    self.timeout.as_millis()
                ))
            })?
            .map_err(|e| server(format!("reading the answer: {e}")))?;
        let _ = tokio::time::timeout(std::time::Duration::from_millis(200), tls.shutdown()).await;
        policy_body(&answer).map_err(server)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_200_answer_within_the_cap_is_a_policy() {
        let ok = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nversion: STSv1\r\n";
        assert_eq!(policy_body(ok).expect("a policy"), "version: STSv1\r\n");
        assert_eq!(
            policy_body(b"HTTP/1.1 301 Moved\r\nLocation: https://x/\r\n\r\n"),
            Err("the server answered HTTP 301".into())
        );
        assert!(policy_body(b"HTTP/1.1 200 OK\r\n").is_err());
        assert!(policy_body(b"SSH-2.0-OpenSSH\r\n\r\n").is_err());
        let mut big = b"HTTP/1.0 200 OK\r\n\r\n".to_vec();
        big.extend(std::iter::repeat_n(b'a', POLICY_LIMIT + 1));
        assert!(policy_body(&big).expect_err("too big").contains("64 KiB"));
        assert!(policy_body(b"HTTP/1.0 200 OK\r\n\r\n\xff\xfe").is_err());
    }
}
