//! A stand-in for AWS's `ip-ranges.json` on loopback, for the demo and the
//! worlds that play "the internet" (no internet here): a small document in
//! the published format served over plain HTTP, so a DNS scan reads AWS's
//! ranges the way it does in AWS instead of recording a scan error.
//!
//! The prefixes are a few of AWS's (EC2 in the demo's regions and one other
//! service); none of them holds an address the worlds' records use, so the
//! stand-in adds no finding of its own.

use crate::error::{Result, TestkitError};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The path the document is served at.
pub const PATH: &str = "/ip-ranges.json";

/// The document served, in the format of the published file.
pub const DOCUMENT: &str = r#"{
  "syncToken": "1764547200",
  "createDate": "2026-12-01-00-00-00",
  "prefixes": [
    {"ip_prefix": "52.208.0.0/13", "region": "eu-west-1", "service": "AMAZON", "network_border_group": "eu-west-1"},
    {"ip_prefix": "52.208.0.0/13", "region": "eu-west-1", "service": "EC2", "network_border_group": "eu-west-1"},
    {"ip_prefix": "3.80.0.0/12", "region": "us-east-1", "service": "AMAZON", "network_border_group": "us-east-1"},
    {"ip_prefix": "3.80.0.0/12", "region": "us-east-1", "service": "EC2", "network_border_group": "us-east-1"},
    {"ip_prefix": "3.5.140.0/22", "region": "ap-northeast-2", "service": "AMAZON", "network_border_group": "ap-northeast-2"}
  ],
  "ipv6_prefixes": [
    {"ipv6_prefix": "2a05:d018::/36", "region": "eu-west-1", "service": "EC2", "network_border_group": "eu-west-1"}
  ]
}
"#;

/// The running stand-in; stops when dropped.
#[derive(Debug)]
pub struct IpRangesServer {
    pub address: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl IpRangesServer {
    /// `http://127.0.0.1:PORT/ip-ranges.json` (`ZW_AWS_IP_RANGES_URL`).
    pub fn url(&self) -> String {
        format!("http://{}{PATH}", self.address)
    }

    /// The shell `export` line for the setting.
    pub fn export(&self) -> String {
        format!("export ZW_AWS_IP_RANGES_URL='{}'\n", self.url())
    }
}

impl Drop for IpRangesServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One answer: the document for `GET /ip-ranges.json`, 404 for anything
/// else. The request head is read up to its blank line (bounded), then the
/// connection is closed.
async fn answer(mut stream: tokio::net::TcpStream) {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let first = head.split(|b| *b == b'\r').next().unwrap_or_default();
    let found = first.starts_with(b"GET ")
        && first
            .split(|b| *b == b' ')
            .nth(1)
            .is_some_and(|p| p == PATH.as_bytes());
    let (status, body) = if found {
        ("200 OK", DOCUMENT)
    } else {
        ("404 Not Found", "")
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Serves the stand-in on 127.0.0.1 (a free port).
pub async fn serve() -> Result<IpRangesServer> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| TestkitError::Invalid(format!("ip-ranges stand-in: bind: {e}")))?;
    let address = listener
        .local_addr()
        .map_err(|e| TestkitError::Invalid(format!("ip-ranges stand-in: address: {e}")))?;
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(answer(stream));
        }
    });
    Ok(IpRangesServer { address, task })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use zw_aws::ip_ranges::IpRanges;
    use zw_core::ports::ErrorKind;

    #[test]
    fn the_adapter_reads_the_stand_in_and_nothing_else_is_served() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let server = serve().await.expect("serve");
            let client = |url: String| {
                IpRanges::new(url, Duration::from_secs(5), Duration::from_secs(60)).expect("client")
            };
            let prefixes = client(server.url()).prefixes().await.expect("prefixes");
            assert_eq!(prefixes.len(), 6, "{prefixes:?}");
            assert!(
                prefixes
                    .iter()
                    .any(|p| p.prefix == "52.208.0.0/13" && p.service == "EC2")
            );
            let e = client(format!("http://{}/other.json", server.address))
                .prefixes()
                .await
                .expect_err("only the document's path is served");
            assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
            assert!(
                server
                    .export()
                    .starts_with("export ZW_AWS_IP_RANGES_URL='http://127.0.0.1:")
            );
        });
    }
}
