//! The query-log family's groundwork: pure parsing and aggregation of
//! Route 53 query logs, not wired to any adapter yet (nothing calls it).
//!
//! - `parse`: one line of a public hosted zone's DNS query log, or one
//!   Route 53 Resolver query log record (JSON), read field by field; the
//!   client addresses of Resolver records never leave the parser.
//! - `aggregate`: one time window of lines counted per zone (NXDOMAIN and
//!   SERVFAIL answers, per query name and edge location) and per source of
//!   Resolver queries, in memory bounded by the distinct names, not by the
//!   lines read.
//! - `typo`: the existing name an NXDOMAIN name most likely meant.

pub mod aggregate;
pub mod judge;
pub mod parse;
pub mod typo;

/// What the modules' tests share: a window and lines in the documented
/// public query log format.
#[cfg(test)]
pub(crate) mod test_lines {
    use super::aggregate::Aggregate;
    use chrono::{DateTime, Duration, TimeZone, Utc};

    /// The start of the tests' window: 2026-12-03 11:00 UTC.
    pub(crate) fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 3, 11, 0, 0)
            .single()
            .expect("valid")
    }

    /// The window of the tests: 11:00 to 12:00.
    pub(crate) fn hour() -> Aggregate {
        Aggregate::new(t0(), t0() + Duration::hours(1))
    }

    /// A public DNS query log line `seconds` after t0 (with an EDNS client
    /// subnet, which the parser checks and drops).
    pub(crate) fn line(seconds: i64, zone: &str, name: &str, rcode: &str, edge: &str) -> String {
        let t = t0() + Duration::seconds(seconds);
        format!(
            "1.0 {} {zone} {name} A {rcode} UDP {edge} 192.0.2.53 198.51.100.0/24",
            t.format("%Y-%m-%dT%H:%M:%S%.3fZ")
        )
    }
}
