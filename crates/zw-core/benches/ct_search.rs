//! The CT watch's reading of a search answer: a crt.sh-format JSON array of
//! 20,000 entries (10,000 certificates, each as precertificate and
//! certificate, names under one apex), parsed, checked field by field and
//! merged (`zw_core::families::ct::search::parse`). A busy domain's answer
//! is of that order; the parse is capped at `ANSWER_LIMIT` (32 MB).
//!
//! `cargo bench -p zw-core --bench ct_search [-- CERTIFICATES]`

#![allow(clippy::print_stdout, clippy::expect_used, clippy::unwrap_used)]

mod rss;
use rss::peak_rss_kib;

use std::fmt::Write;
use std::time::Instant;
use zw_core::families::ct::search;

/// The answer: each certificate twice (precertificate and certificate),
/// three names each, one in fifty with a hundred names.
fn answer(certificates: usize) -> String {
    let mut out = String::from("[");
    for i in 0..certificates {
        let names = if i % 50 == 0 {
            (0..100)
                .map(|n| format!("host{n}.s{i}.example.com"))
                .collect::<Vec<_>>()
                .join("\\n")
        } else {
            format!("s{i}.example.com\\nwww.s{i}.example.com\\n*.s{i}.example.com")
        };
        for copy in 0..2 {
            if i + copy > 0 {
                out.push(',');
            }
            let _ = write!(
                out,
                r#"{{"issuer_ca_id":295815,"issuer_name":"C=US, O=Let's Encrypt, CN=R11","common_name":"s{i}.example.com","name_value":"{names}","id":{},"entry_timestamp":"2026-11-{:02}T10:{:02}:00.123","not_before":"2026-11-01T09:00:00","not_after":"2027-01-30T09:00:00","serial_number":"0{:038x}","result_count":2}}"#,
                i * 2 + copy,
                1 + i % 28,
                i % 60,
                i as u128 * 7919 + 1,
            );
        }
    }
    out.push(']');
    out
}

fn main() {
    let certificates: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let body = answer(certificates);
    println!(
        "answer: {certificates} certificates, {} entries, {:.1} MB; peak RSS before parsing: {} KiB",
        certificates * 2,
        body.len() as f64 / 1e6,
        peak_rss_kib()
    );
    for run in 1..=3 {
        let started = Instant::now();
        let parsed = search::parse(body.as_bytes()).expect("a valid answer");
        let took = started.elapsed().as_secs_f64();
        assert_eq!(parsed.certificates.len(), certificates);
        assert_eq!(parsed.skipped, 0);
        println!(
            "run {run}: {:.1} ms, {:.0} MB/s, {:.0} entries/s; peak RSS {} KiB",
            took * 1e3,
            body.len() as f64 / 1e6 / took,
            (certificates * 2) as f64 / took,
            peak_rss_kib()
        );
    }
}
