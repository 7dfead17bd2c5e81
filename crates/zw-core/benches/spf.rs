//! The SPF evaluator on a 10-level include tree: every level's record has
//! eight `ip4:` ranges, an `a` and an `include:` of the next level (20
//! lookups in all, past the limit), answered from memory, so what is timed
//! is zonewarden's own work (parsing every record, counting, building the
//! evidence tree), not the network. Also the parser alone on one record.
//!
//! `cargo bench -p zw-core --bench spf [-- ITERATIONS]`

#![allow(clippy::print_stdout, clippy::expect_used, clippy::unwrap_used)]

mod rss;
use rss::peak_rss_kib;

use std::collections::BTreeMap;
use std::time::Instant;
use zw_core::families::mail::spf::{self, SpfAnswer, SpfResolver};

const LEVELS: usize = 10;

struct Memory(BTreeMap<(String, String), SpfAnswer>);

impl SpfResolver for Memory {
    async fn lookup(&self, name: &str, rtype: &str) -> SpfAnswer {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        self.0
            .get(&(name, rtype.to_owned()))
            .cloned()
            .unwrap_or(SpfAnswer::Void)
    }
}

fn record(level: usize) -> String {
    let ranges: Vec<String> = (0..8)
        .map(|i| format!("ip4:198.51.{}.{}/32", level, i * 8))
        .collect();
    let next = if level < LEVELS {
        format!(" include:l{}.bench.test", level + 1)
    } else {
        String::new()
    };
    format!("v=spf1 {} a{next} -all", ranges.join(" "))
}

fn main() {
    let iterations: u32 = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let mut answers = BTreeMap::new();
    for level in 1..=LEVELS {
        let name = format!("l{level}.bench.test");
        answers.insert(
            (name.clone(), "TXT".to_owned()),
            SpfAnswer::Records(vec![record(level)]),
        );
        answers.insert(
            (name, "A".to_owned()),
            SpfAnswer::Records(vec!["192.0.2.1".into()]),
        );
    }
    let memory = Memory(answers);
    let root = spf::parse("v=spf1 include:l1.bench.test -all").expect("valid");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");

    let once = runtime.block_on(spf::evaluate("bench.test", &root, &memory));
    println!(
        "tree: {LEVELS} levels, {} lookups counted, {} void, incomplete: {:?}",
        once.lookups, once.void_lookups, once.incomplete
    );

    let started = Instant::now();
    let mut total = 0u64;
    for _ in 0..iterations {
        let e = runtime.block_on(spf::evaluate("bench.test", &root, &memory));
        total += u64::from(e.lookups);
    }
    let elapsed = started.elapsed();
    println!(
        "evaluate: {iterations} trees in {:.3} s: {:.1} µs per tree, {:.0} trees/s ({total} lookups)",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / f64::from(iterations),
        f64::from(iterations) / elapsed.as_secs_f64()
    );

    let text = record(1);
    let started = Instant::now();
    let parses = iterations * 10;
    for _ in 0..parses {
        std::hint::black_box(spf::parse(std::hint::black_box(&text)).expect("valid"));
    }
    let elapsed = started.elapsed();
    println!(
        "parse: {parses} records of {} bytes in {:.3} s: {:.2} µs each",
        text.len(),
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / f64::from(parses)
    );
    println!("peak RSS: {} KiB", peak_rss_kib());
}
