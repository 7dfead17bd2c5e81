//! Real TLS servers on loopback for the endpoints family's tests, demo and
//! benchmark (rustls, certificates from [`crate::certs`]): one that serves a
//! certificate per SNI name, one that refuses every handshake with an alert,
//! one that accepts TCP and never answers, one that answers garbage.

use crate::certs::GeneratedCert;
use crate::error::{Result, TestkitError};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert, ServerConfig};
use rustls::sign::CertifiedKey;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

/// What a lab server does with each connection.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// Completes the handshake with the certificate (and chain) of the SNI
    /// name, then closes. Unknown names get a handshake alert.
    Serve(Vec<(String, GeneratedCert, Option<String>)>),
    /// Refuses every handshake (a TLS alert: no certificate for any name).
    Refuse,
    /// Accepts the TCP connection and never says a word.
    Silent,
    /// Answers with bytes that are not TLS.
    Garbage,
    /// Completes the handshake as `Serve`, reads the request's head and
    /// answers `HTTP/1.0 200 OK` with this body (an MTA-STS policy file).
    Http(Vec<(String, GeneratedCert, Option<String>)>, String),
}

/// A running lab server; stops when dropped.
#[derive(Debug)]
pub struct TlsServer {
    pub address: SocketAddr,
    handshakes: Arc<AtomicU64>,
    /// `Http`: the request targets received (`/path?query`), in order.
    requests: Arc<Mutex<Vec<String>>>,
    /// `Http`: the body answered, replaceable while the server runs.
    body: Arc<Mutex<String>>,
    task: tokio::task::JoinHandle<()>,
}

impl TlsServer {
    /// Handshakes completed so far.
    pub fn handshakes(&self) -> u64 {
        self.handshakes.load(Ordering::Relaxed)
    }

    /// `Http`: the request targets received so far (`/path?query`).
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// `Http`: answers `body` from now on.
    pub fn set_body(&self, body: impl Into<String>) {
        if let Ok(mut b) = self.body.lock() {
            *b = body.into();
        }
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Debug)]
struct BySni(HashMap<String, Arc<CertifiedKey>>);

impl ResolvesServerCert for BySni {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        hello
            .server_name()
            .and_then(|n| self.0.get(&n.to_ascii_lowercase()))
            .cloned()
    }
}

fn invalid(what: &str, e: impl std::fmt::Display) -> TestkitError {
    TestkitError::Invalid(format!("TLS lab: {what}: {e}"))
}

/// A rustls key for a generated certificate and its optional chain.
pub fn certified_key(cert: &GeneratedCert, chain_pem: Option<&str>) -> Result<Arc<CertifiedKey>> {
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let mut chain = vec![
        CertificateDer::from_pem_slice(cert.cert_pem.as_bytes()).map_err(|e| invalid("leaf", e))?,
    ];
    if let Some(pem) = chain_pem {
        chain
            .push(CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|e| invalid("chain", e))?);
    }
    let key =
        PrivateKeyDer::from_pem_slice(cert.key_pem.as_bytes()).map_err(|e| invalid("key", e))?;
    let signing = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| invalid("key", e))?;
    Ok(Arc::new(CertifiedKey::new(chain, signing)))
}

fn server_config(names: &[(String, GeneratedCert, Option<String>)]) -> Result<Arc<ServerConfig>> {
    let mut map = HashMap::new();
    for (name, cert, chain) in names {
        map.insert(
            name.to_ascii_lowercase(),
            certified_key(cert, chain.as_deref())?,
        );
    }
    let config = ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| invalid("config", e))?
    .with_no_client_auth()
    .with_cert_resolver(Arc::new(BySni(map)));
    Ok(Arc::new(config))
}

/// Reads a request's head (up to its blank line, at most 8 KiB), records
/// its target and answers 200 with the current body.
async fn answer<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    stream: &mut S,
    body: &Mutex<String>,
    requests: &Mutex<Vec<String>>,
) {
    use tokio::io::AsyncReadExt;
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 8192 {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(buf.get(..n).unwrap_or_default()),
        }
    }
    let head = String::from_utf8_lossy(&head);
    if let (Some(target), Ok(mut r)) = (
        head.lines()
            .next()
            .and_then(|l| l.split_whitespace().nth(1)),
        requests.lock(),
    ) {
        r.push(target.to_owned());
    }
    let body = body.lock().map(|b| b.clone()).unwrap_or_default();
    let response = format!(
        "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
}

/// Starts a server on `address` (port 0 picks one).
pub async fn start(address: SocketAddr, behaviour: Behaviour) -> Result<TlsServer> {
    let listener = TcpListener::bind(address)
        .await
        .map_err(|e| invalid(&format!("bind {address}"), e))?;
    let address = listener.local_addr().map_err(|e| invalid("address", e))?;
    let handshakes = Arc::new(AtomicU64::new(0));
    let acceptor = match &behaviour {
        Behaviour::Serve(names) | Behaviour::Http(names, _) => {
            Some(tokio_rustls::TlsAcceptor::from(server_config(names)?))
        }
        Behaviour::Refuse => Some(tokio_rustls::TlsAcceptor::from(server_config(&[])?)),
        Behaviour::Silent | Behaviour::Garbage => None,
    };
    let garbage = matches!(behaviour, Behaviour::Garbage);
    let http = matches!(behaviour, Behaviour::Http(..));
    let body = Arc::new(Mutex::new(match &behaviour {
        Behaviour::Http(_, body) => body.clone(),
        _ => String::new(),
    }));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let (served_body, served_requests) = (body.clone(), requests.clone());
    let count = handshakes.clone();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            match &acceptor {
                Some(acceptor) => {
                    let acceptor = acceptor.clone();
                    let count = count.clone();
                    let (body, requests) = (served_body.clone(), served_requests.clone());
                    tokio::spawn(async move {
                        if let Ok(mut tls) = acceptor.accept(stream).await {
                            count.fetch_add(1, Ordering::Relaxed);
                            if http {
                                answer(&mut tls, &body, &requests).await;
                            }
                            let _ = tls.shutdown().await;
                        }
                    });
                }
                None if garbage => {
                    tokio::spawn(async move {
                        let _ = stream
                            .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                            .await;
                        let _ = stream.shutdown().await;
                    });
                }
                // Silent: keep the socket open, read nothing, say nothing.
                None => held.push(stream),
            }
        }
    });
    Ok(TlsServer {
        address,
        handshakes,
        requests,
        body,
        task,
    })
}
