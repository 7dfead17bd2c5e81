//! Throughput of the pipeline against in-process lab servers.
//!
//! Starts N lab servers (default 4) serving one generated zone of 10,000
//! record sets (A, AAAA, CNAME, TXT, MX), asks every server every record
//! set at once, and prints one JSON line: questions, wall time, queries/s,
//! peak RSS, outcomes. Run it in release mode:
//!
//! ```text
//! cargo run --release -p zw-dns --example zw-dns-bench -- [servers] [record sets]
//! ```
//!
//! The servers run in the same process and on the same two cores as the
//! client, so the figure is a floor for the client alone.

use std::io::Write as _;
use std::net::SocketAddr;
use std::time::Instant;
use zw_core::families::dns::model::{QueryFailure, Question};
use zw_core::families::dns::ports::DnsProbe;
use zw_dns::{Probe, ProbeSettings};
use zw_dns_lab::{AuthServer, LabZone, bench_zone, loopback};

fn zone(record_sets: usize) -> (LabZone, Vec<Question>) {
    let (zone, questions) = bench_zone(record_sets);
    let questions = questions
        .into_iter()
        .map(|(name, rtype)| Question {
            name,
            rtype: rtype.to_owned(),
        })
        .collect();
    (zone, questions)
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time of the whole process so far (user + system), milliseconds:
/// on a shared 2-core machine the wall time alone hides contention.
fn cpu_ms() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields of the line, in clock ticks (100 per second).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks * 10)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let servers: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(4);
    let record_sets: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(10_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let report = runtime.block_on(async move {
        let (zone, questions) = zone(record_sets);
        // ZW_BENCH_SERVERS=ip:port,... asks servers in other processes
        // (e.g. the lab-serve example) to measure the client's own CPU.
        let mut lab = Vec::new();
        let addrs: Vec<SocketAddr> = match std::env::var("ZW_BENCH_SERVERS") {
            Ok(list) => list.split(',').map(str::parse).collect::<Result<_, _>>()?,
            Err(_) => {
                for _ in 0..servers {
                    lab.push(AuthServer::start(
                        SocketAddr::new(loopback(), 0),
                        vec![zone.clone()],
                    )?);
                }
                lab.iter().map(AuthServer::addr).collect()
            }
        };
        let servers = addrs.len();
        let probe = Probe::new(ProbeSettings {
            root_hints: Vec::new(),
            // The servers under test are named on the command line.
            scope: zw_core::probe_scope::ProbeScope::parse("0.0.0.0/0,::/0")
                .unwrap_or_else(|e| panic!("{e}")),
            ..ProbeSettings::default()
        });
        // Warm-up: sockets opened, zone caches touched.
        for addr in &addrs {
            probe
                .ask(*addr, &questions[..10.min(questions.len())], false)
                .await;
        }
        let before = probe.stats().total;
        let cpu_before = cpu_ms();
        let started = Instant::now();
        let tasks: Vec<_> = addrs
            .iter()
            .map(|&addr| {
                let probe = probe.clone();
                let questions = questions.clone();
                tokio::spawn(async move { probe.ask(addr, &questions, false).await })
            })
            .collect();
        let mut answers = 0u64;
        let mut timeouts = 0u64;
        let mut other_failures = 0u64;
        for task in tasks {
            for obs in task.await? {
                match obs.outcome {
                    Ok(_) => answers += 1,
                    Err(QueryFailure::Timeout) => timeouts += 1,
                    Err(_) => other_failures += 1,
                }
            }
        }
        let wall = started.elapsed();
        let cpu = cpu_ms()
            .zip(cpu_before)
            .map(|(after, before)| after - before);
        let after = probe.stats().total;
        drop(lab);
        let asked = (servers * questions.len()) as u64;
        Ok::<_, Box<dyn std::error::Error>>(serde_json::json!({
            "servers": servers,
            "questions": asked,
            "wall_ms": wall.as_secs_f64() * 1000.0,
            "queries_per_s": (asked as f64 / wall.as_secs_f64()).round(),
            "queries_sent": after.queries_sent - before.queries_sent,
            "answers": answers,
            "timeouts": timeouts,
            "other_failures": other_failures,
            "truncated_tcp": after.truncated - before.truncated,
            "cpu_ms": cpu,
            "peak_rss_kib": peak_rss_kib(),
        }))
    })?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{report}")?;
    Ok(())
}
