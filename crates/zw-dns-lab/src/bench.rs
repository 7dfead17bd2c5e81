//! The benchmark's generated zone, shared by the client benchmark and the
//! `lab-serve` example (so that dnsperf asks the same questions).

use crate::LabZone;

const TYPES: [&str; 5] = ["A", "AAAA", "CNAME", "TXT", "MX"];

/// `bench.test.` with `record_sets` record sets `h0`, `h1`, ... cycling
/// through A, AAAA, CNAME, TXT and MX, and the question (name, type) that
/// finds each one.
pub fn bench_zone(record_sets: usize) -> (LabZone, Vec<(String, &'static str)>) {
    let mut zone = LabZone::new("bench.test.").ns("@", "ns.bench.test.");
    let mut questions = Vec::with_capacity(record_sets);
    for i in 0..record_sets {
        let owner = format!("h{i}");
        let rtype = TYPES[i % TYPES.len()];
        let data = match rtype {
            "A" => format!("192.0.2.{}", i % 250 + 1),
            "AAAA" => format!("2001:db8::{:x}", i + 1),
            "CNAME" => format!("h{}.bench.test.", i.saturating_sub(1)),
            "TXT" => format!("\"record {i}\" \"v=spf1 -all\""),
            _ => format!("{} mail{}.bench.test.", i % 50, i % 7),
        };
        zone = zone.record(&owner, rtype, &data);
        questions.push((format!("{owner}.bench.test."), rtype));
    }
    (zone, questions)
}
