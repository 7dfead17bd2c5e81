//! Serves the benchmark's generated zone (`bench.test.`, N record sets) on
//! 127.0.0.1:PORT for SECONDS, so that an outside load generator (dnsperf)
//! can measure the lab server's own capacity:
//!
//! ```text
//! cargo run --release -p zw-dns-lab --example lab-serve -- PORT SECONDS [record sets]
//! ```

use std::net::SocketAddr;
use std::time::Duration;
use zw_dns_lab::{AuthServer, bench_zone, loopback};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(5300);
    let seconds: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(30);
    let record_sets: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(10_000);
    let (zone, questions) = bench_zone(record_sets);
    // dnsperf's input: the same questions the client benchmark asks.
    if let Ok(path) = std::env::var("ZW_LAB_QUERY_FILE") {
        let lines: Vec<String> = questions.iter().map(|(n, t)| format!("{n} {t}")).collect();
        std::fs::write(path, lines.join("\n") + "\n")?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let _server = AuthServer::start(SocketAddr::new(loopback(), port), vec![zone])?;
        // Bounded: the server stops by itself.
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}
