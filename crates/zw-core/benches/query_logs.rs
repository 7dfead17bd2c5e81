//! The query-log aggregation on one hour of made-up logs: 1,000,000 public
//! DNS query log lines over 5 hosted zones and 20,000 distinct names (5%
//! NXDOMAIN, 0.5% SERVFAIL, 0.5% outside the window, 20 edge locations),
//! then 200,000 Resolver query log records (JSON) from 500 sources, each fed
//! to `zw_core::families::query_logs::aggregate::Aggregate`. The lines come
//! from a fixed-seed LCG, 10,000 at a time; only the feeding is timed, and
//! the peak RSS shows that memory follows the distinct names, not the lines.
//!
//! Then the window is judged (`judge::zone_verdicts`) against each zone's
//! 3,600 existing names, every NXDOMAIN name through the typo search.
//!
//! `cargo bench -p zw-core --bench query_logs [-- PUBLIC_LINES]` (the
//! Resolver records are a fifth of that).

#![allow(clippy::print_stdout, clippy::expect_used, clippy::unwrap_used)]

mod rss;
use rss::peak_rss_kib;

use chrono::{DateTime, Duration, TimeZone, Utc};
use std::fmt::Write;
use std::time::Instant;
use zw_core::families::query_logs::aggregate::Aggregate;
use zw_core::families::query_logs::judge::{Thresholds, ZoneKnowledge, zone_verdicts};

const BATCH: usize = 10_000;
const ZONES: [&str; 5] = [
    "Z0123456789ABCDEFGHIJ",
    "Z1123456789ABCDEFGHIJ",
    "Z2123456789ABCDEFGHIJ",
    "Z3123456789ABCDEFGHIJ",
    "Z4123456789ABCDEFGHIJ",
];
/// Names answered per zone; a tenth of them do not exist.
const NAMES_PER_ZONE: u64 = 4_000;
const MISSING_PER_ZONE: u64 = 400;
const EDGES: [&str; 20] = [
    "FRA6", "IAD12", "LHR50", "NRT57", "SFO5", "AMS1", "CDG3", "DFW3", "SIN2", "SYD1", "GRU1",
    "BOM2", "ICN54", "ARN1", "MAD50", "MXP64", "YUL62", "JNB1", "HKG62", "DUB2",
];
const QTYPES: [&str; 5] = ["A", "AAAA", "HTTPS", "TXT", "MX"];
const SOURCES: u64 = 500;

/// Knuth's MMIX LCG: deterministic, no dependency.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len() as u64) as usize]
    }
}

/// A time in the hour from `start`, one in 200 an hour before it.
fn time(rng: &mut Lcg, start: DateTime<Utc>) -> DateTime<Utc> {
    let t = start + Duration::milliseconds(rng.below(3_600_000) as i64);
    if rng.below(200) == 0 {
        t - Duration::hours(1)
    } else {
        t
    }
}

/// (rcode, name index): 5% NXDOMAIN on the missing names, 0.5% SERVFAIL.
fn answer(rng: &mut Lcg) -> (&'static str, u64) {
    match rng.below(1000) {
        0..50 => (
            "NXDOMAIN",
            NAMES_PER_ZONE - MISSING_PER_ZONE + rng.below(MISSING_PER_ZONE),
        ),
        50..55 => ("SERVFAIL", rng.below(NAMES_PER_ZONE - MISSING_PER_ZONE)),
        _ => ("NOERROR", rng.below(NAMES_PER_ZONE - MISSING_PER_ZONE)),
    }
}

fn public_line(rng: &mut Lcg, start: DateTime<Utc>, out: &mut String) {
    out.clear();
    let t = time(rng, start);
    let zone = rng.below(ZONES.len() as u64);
    let (rcode, name) = answer(rng);
    let qtype = rng.pick(&QTYPES);
    let protocol = if rng.below(20) == 0 { "TCP" } else { "UDP" };
    let edge = rng.pick(&EDGES);
    let _ = write!(
        out,
        "1.0 {} {} host{name}.zone{zone}.example.com {qtype} {rcode} {protocol} {edge} ",
        t.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
        ZONES[zone as usize],
    );
    let _ = if rng.below(4) == 0 {
        write!(out, "2001:db8:{:x}::53", rng.below(65_536))
    } else {
        write!(out, "198.51.{}.{}", rng.below(256), rng.below(256))
    };
    let _ = if rng.below(3) == 0 {
        write!(out, " 203.0.{}.0/24", rng.below(256))
    } else {
        write!(out, " -")
    };
}

fn resolver_record(rng: &mut Lcg, start: DateTime<Utc>, out: &mut String) {
    out.clear();
    let t = time(rng, start);
    let source = rng.below(SOURCES);
    let srcids = match source {
        0..400 => format!(r#","srcids":{{"instance":"i-{source:017x}"}}"#),
        400..450 => format!(
            r#","srcids":{{"resource":"arn:aws:lambda:eu-west-1:111122223333:function:f{source}"}}"#
        ),
        450..460 => format!(r#","srcids":{{"resolver_endpoint":"rslvr-in-{source:017x}"}}"#),
        _ => String::new(),
    };
    let (rcode, name) = answer(rng);
    let _ = write!(
        out,
        r#"{{"version":"1.100000","account_id":"111122223333","region":"eu-west-1","vpc_id":"vpc-{:017x}","query_timestamp":"{}","query_name":"svc{name}.internal.example.","query_type":"{}","query_class":"IN","rcode":"{rcode}","answers":[{{"Rdata":"10.0.0.1","Type":"A","Class":"IN"}}],"srcaddr":"10.0.{}.{}","srcport":"{}","transport":"UDP"{srcids}}}"#,
        source % 40,
        t.format("%Y-%m-%dT%H:%M:%SZ"),
        rng.pick(&QTYPES),
        rng.below(256),
        rng.below(256),
        1024 + rng.below(60_000),
    );
}

/// Feeds `total` generated lines to `add`, `BATCH` at a time; returns the
/// seconds spent in `add` and the bytes fed.
fn feed(
    total: usize,
    rng: &mut Lcg,
    start: DateTime<Utc>,
    make: fn(&mut Lcg, DateTime<Utc>, &mut String),
    mut add: impl FnMut(&str),
) -> (f64, usize) {
    let mut batch = vec![String::new(); BATCH];
    let mut timed = 0.0;
    let mut bytes = 0;
    let mut left = total;
    while left > 0 {
        let n = left.min(BATCH);
        for line in &mut batch[..n] {
            make(rng, start, line);
            bytes += line.len();
        }
        let started = Instant::now();
        for line in &batch[..n] {
            add(std::hint::black_box(line));
        }
        timed += started.elapsed().as_secs_f64();
        left -= n;
    }
    (timed, bytes)
}

fn main() {
    let lines: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let records = lines / 5;
    let start = Utc
        .with_ymd_and_hms(2026, 12, 3, 11, 0, 0)
        .single()
        .expect("valid");
    let mut rng = Lcg(0x5eed);
    println!("peak RSS before: {} KiB", peak_rss_kib());

    let mut public = Aggregate::new(start, start + Duration::hours(1));
    let (secs, bytes) = feed(lines, &mut rng, start, public_line, |l| {
        public.add_public_line(l);
    });
    let kept: usize = public.zones.values().map(|z| z.nxdomain_names.len()).sum();
    let nxdomain: u64 = public.zones.values().map(|z| z.nxdomain).sum();
    let servfail: u64 = public.zones.values().map(|z| z.servfail).sum();
    println!(
        "public: {lines} lines ({:.1} MB) in {secs:.3} s: {:.0} lines/s, {:.2} µs per line; {} zones, {nxdomain} NXDOMAIN over {kept} names, {servfail} SERVFAIL, {} outside, {} malformed",
        bytes as f64 / 1e6,
        lines as f64 / secs,
        secs * 1e6 / lines as f64,
        public.zones.len(),
        public.outside,
        public.malformed,
    );
    let top = public.top_nxdomain(ZONES[0], 1);
    if let Some((name, count)) = top.first() {
        println!(
            "  top NXDOMAIN name of {}: {name} ({} answers, top edge {:?})",
            ZONES[0],
            count.count,
            Aggregate::top_edges(count, 1)
        );
    }
    println!("peak RSS after public: {} KiB", peak_rss_kib());

    // Judging the window: each zone against its 3,600 existing names, with
    // every NXDOMAIN name judged (a per-name minimum of 0: the typo search
    // runs for all 400 missing names of each zone, the worst case).
    let thresholds = Thresholds {
        missing_name_min: 0,
        ..Thresholds::default()
    };
    let history = vec![10.0; 168];
    let started = Instant::now();
    let mut verdicts = 0;
    for (z, zone_id) in ZONES.iter().enumerate() {
        let mut names: Vec<String> = (0..NAMES_PER_ZONE - MISSING_PER_ZONE)
            .map(|n| format!("host{n}.zone{z}.example.com"))
            .collect();
        names.sort();
        let zone_name = format!("zone{z}.example.com");
        let knowledge = ZoneKnowledge {
            zone_id,
            zone_name: &zone_name,
            names: &names,
            removed: &[],
            history: &history,
        };
        verdicts += zone_verdicts(&public, &knowledge, &thresholds).len();
    }
    println!(
        "judged: {} zones of {} names in {:.3} s, {verdicts} verdicts",
        ZONES.len(),
        NAMES_PER_ZONE - MISSING_PER_ZONE,
        started.elapsed().as_secs_f64()
    );

    let mut resolver = Aggregate::new(start, start + Duration::hours(1));
    let (secs, bytes) = feed(records, &mut rng, start, resolver_record, |l| {
        resolver.add_resolver_record(l);
    });
    let names: usize = resolver
        .sources
        .values()
        .map(|s| s.distinct_names.len())
        .sum();
    println!(
        "resolver: {records} records ({:.1} MB) in {secs:.3} s: {:.0} records/s, {:.2} µs per record; {} sources, {names} source/name pairs, {} outside, {} malformed",
        bytes as f64 / 1e6,
        records as f64 / secs,
        secs * 1e6 / records as f64,
        resolver.sources.len(),
        resolver.outside,
        resolver.malformed,
    );
    println!("peak RSS: {} KiB", peak_rss_kib());
}
