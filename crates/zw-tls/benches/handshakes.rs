//! The endpoints family's probe against 1,000 TLS endpoints on loopback:
//! handshakes per second, wall time and peak RSS of the probing process,
//! next to the lab server's own capacity measured in the same run (plain
//! rustls clients, no inspection). The server runs in a child process (this
//! binary again), so the RSS is the probe's alone.
//!
//! `cargo bench -p zw-tls --bench handshakes [-- ENDPOINTS CONCURRENCY]`

#![allow(clippy::print_stdout, clippy::expect_used, clippy::unwrap_used)]

use futures::{StreamExt, stream};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use zw_core::families::endpoints::model::TlsOutcome;
use zw_core::families::endpoints::ports::TlsProber;
use zw_tls::{TlsProbe, TlsProbeSettings};

const SERVE: &str = "ZW_BENCH_TLS_SERVE";

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("e{i}.bench.test")).collect()
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// A CA and one wildcard leaf for every bench name (rcgen's default
/// validity, 1975 to 4096).
fn certificates() -> (
    String,
    Vec<rustls::pki_types::CertificateDer<'static>>,
    rustls::pki_types::PrivateKeyDer<'static>,
) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca = CertificateParams::default();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "zonewarden bench CA");
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().expect("ca key")).expect("ca");
    let key = KeyPair::generate().expect("leaf key");
    let leaf = CertificateParams::new(vec!["*.bench.test".to_owned()])
        .expect("params")
        .signed_by(&key, &ca)
        .expect("leaf");
    let chain = vec![leaf.der().clone(), ca.der().clone()];
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
    (ca.pem(), chain, key)
}

/// Child: serves `*.bench.test` until stdin closes, then prints how many
/// handshakes it completed.
fn serve(ca_file: &str) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let (ca_pem, chain, key) = certificates();
        std::fs::write(ca_file, ca_pem).expect("write ca");
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("server certificate");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        println!("{}", listener.local_addr().expect("addr").port());
        std::io::stdout().flush().expect("flush");
        let count = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counter = count.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                let counter = counter.clone();
                tokio::spawn(async move {
                    if let Ok(mut tls) = acceptor.accept(stream).await {
                        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let _ = tokio::io::AsyncWriteExt::shutdown(&mut tls).await;
                    }
                });
            }
        });
        let _ = tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
        })
        .await;
        println!("{}", count.load(std::sync::atomic::Ordering::Relaxed));
    });
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let concurrency: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(32);
    let ca_file = std::env::temp_dir().join(format!("zw-bench-ca-{}.pem", std::process::id()));
    if let Ok(file) = std::env::var(SERVE) {
        serve(&file);
        return;
    }
    let mut child = Command::new(std::env::current_exe().expect("exe"))
        .arg(n.to_string())
        .env(SERVE, &ca_file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("server process");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("port");
    let port: u16 = line.trim().parse().expect("port number");
    let address = SocketAddr::from(([127, 0, 0, 1], port));

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let baseline_rss = peak_rss_kib();
    let (probe_secs, served) = rt.block_on(async {
        let probe = TlsProbe::new(&TlsProbeSettings {
            timeout: Duration::from_secs(10),
            extra_roots_file: Some(ca_file.display().to_string()),
            webpki_roots: true,
        })
        .expect("probe");
        // Warm-up (connection setup paths, allocator), not counted.
        let _ = probe.handshake("e0.bench.test", address).await;
        let started = Instant::now();
        let outcomes: Vec<TlsOutcome> = stream::iter(names(n))
            .map(|name| {
                let probe = probe.clone();
                async move { probe.handshake(&name, address).await }
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        let secs = started.elapsed().as_secs_f64();
        let served = outcomes
            .iter()
            .filter(|o| matches!(o, TlsOutcome::Served(s) if s.chain_error.is_none() && s.hostname_matches))
            .count();
        (secs, served)
    });
    let probe_rss = peak_rss_kib();

    // The server's own capacity: plain rustls clients, the standard
    // verifier, no inspection of what is served.
    let server_secs = rt.block_on(async {
        let mut roots = rustls::RootCertStore::empty();
        let pem = std::fs::read(&ca_file).expect("ca");
        use rustls::pki_types::pem::PemObject;
        for c in rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
            roots.add(c.expect("ca pem")).expect("root");
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let started = Instant::now();
        let ok: usize = stream::iter(names(n))
            .map(|name| {
                let connector = connector.clone();
                async move {
                    let tcp = tokio::net::TcpStream::connect(address).await.ok()?;
                    let sni = rustls::pki_types::ServerName::try_from(name).ok()?;
                    connector.connect(sni, tcp).await.ok().map(|_| 1)
                }
            })
            .buffer_unordered(concurrency)
            .filter_map(|x| async move { x })
            .collect::<Vec<usize>>()
            .await
            .len();
        assert_eq!(ok, n, "the lab server refused some plain handshakes");
        started.elapsed().as_secs_f64()
    });

    drop(child.stdin.take());
    line.clear();
    out.read_line(&mut line).expect("server count");
    let _ = child.wait();
    let _ = std::fs::remove_file(&ca_file);
    let server_handshakes: u64 = line.trim().parse().unwrap_or(0);

    let rate = n as f64 / probe_secs;
    let server_rate = n as f64 / server_secs;
    println!("endpoints: {n}, concurrency: {concurrency}");
    println!(
        "probe: {probe_secs:.3} s wall, {rate:.0} handshakes/s, {served}/{n} served, trusted and matching"
    );
    println!(
        "probe process peak RSS: {:.1} MiB (before probing: {:.1} MiB)",
        probe_rss as f64 / 1024.0,
        baseline_rss as f64 / 1024.0
    );
    println!(
        "lab server alone (plain rustls clients): {server_secs:.3} s, {server_rate:.0} handshakes/s"
    );
    println!("server completed {server_handshakes} handshakes in all (probe + warm-up + plain)");
    assert_eq!(served, n, "every endpoint must be served and trusted");
}
