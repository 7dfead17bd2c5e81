//! What the query-log family reads and keeps: the log groups queries go
//! to, and per hosted zone its NXDOMAIN history and the names it had.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A CloudWatch Logs log group.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LogGroup {
    pub region: String,
    pub name: String,
}

impl LogGroup {
    /// `<region>/<name>`: how the state and the counts name it.
    pub fn key(&self) -> String {
        format!("{}/{}", self.region, self.name)
    }
}

impl std::fmt::Display for LogGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} in {}", self.name, self.region)
    }
}

/// Which of the two documented formats a log group holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Public hosted zones' query logs (space-separated, version 1.0).
    Public,
    /// Route 53 Resolver query logs (one JSON object per event).
    Resolver,
}

/// A public hosted zone's query logging configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicLogging {
    /// Without `/hostedzone/`.
    pub zone_id: String,
    pub group: LogGroup,
}

/// A Route 53 Resolver query logging configuration whose destination is a
/// CloudWatch Logs log group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolverLogging {
    pub config_id: String,
    pub group: LogGroup,
}

/// How one log group's window was counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadStats {
    /// Log events counted (by our parsers, or by Logs Insights).
    pub events: u64,
    /// Counted by CloudWatch Logs Insights (the window held more events
    /// than `ZW_QUERY_LOG_MAX_EVENTS`).
    pub insights: bool,
}

/// One earlier window's NXDOMAIN rate of a zone.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// The window's end.
    pub at: DateTime<Utc>,
    pub per_hour: f64,
}

/// The most record names a zone's memory keeps (8 bytes each, so the state
/// item stays well inside DynamoDB's 400 KB): past it, names removed from
/// the zone are not remembered, and their queries are judged as missing
/// names or typos instead.
pub const NAMES_KEPT: usize = 35_000;

/// What the family keeps per hosted zone between runs.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ZoneState {
    /// The NXDOMAIN rate of the zone's earlier windows, oldest first (at
    /// most seven days of them).
    pub history: Vec<Sample>,
    /// The stable hashes (`name_hash`) of the zone's record names at the
    /// last run, sorted; at most `NAMES_KEPT`.
    pub names: Vec<u64>,
    /// Names no longer in the zone: their hash and the last run that saw
    /// them, for `judge::Thresholds::deleted_within`.
    pub removed: Vec<(u64, DateTime<Utc>)>,
    /// When `names` was last written; None until the zone's names were seen once.
    pub names_at: Option<DateTime<Utc>>,
}

/// Everything the family keeps: per log group the end of the last window
/// read, per zone its state.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueryLogState {
    /// `LogGroup::key` -> the end of the last window counted.
    pub read_to: std::collections::BTreeMap<String, DateTime<Utc>>,
    /// `LogGroup::key`s whose last window held more events than
    /// `ZW_QUERY_LOG_MAX_EVENTS`: their next window goes to Logs Insights
    /// without a `FilterLogEvents` read that would stop at the limit.
    pub busy: std::collections::BTreeSet<String>,
    pub zones: std::collections::BTreeMap<String, ZoneState>,
}

/// A stable 64-bit hash of a normalised name (FNV-1a): the same across
/// versions and machines, as the state outlives both. A collision can only
/// hide a removal (the removed name's hash is still among the names) or,
/// with odds of one in 2^64 per name, call a never-existing name removed.
pub fn name_hash(name: &str) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    name.bytes()
        .fold(OFFSET, |h, b| (h ^ u64::from(b)).wrapping_mul(PRIME))
}

impl ZoneState {
    /// The zone's record names seen at `now`: names the previous run had
    /// and this one lacks are remembered as removed at the previous run's
    /// time (the last time they were seen); names back in the zone are
    /// forgotten as removed; removals older than `keep` are dropped.
    pub fn remember_names(&mut self, names: &[String], now: DateTime<Utc>, keep: chrono::Duration) {
        let mut hashes: Vec<u64> = names.iter().map(|n| name_hash(n)).collect();
        hashes.sort_unstable();
        hashes.dedup();
        hashes.truncate(NAMES_KEPT);
        if let Some(seen) = self.names_at {
            for old in &self.names {
                if hashes.binary_search(old).is_err() && !self.removed.iter().any(|(h, _)| h == old)
                {
                    self.removed.push((*old, seen));
                }
            }
        }
        self.removed
            .retain(|(h, at)| hashes.binary_search(h).is_err() && now - *at <= keep);
        self.removed.sort_unstable();
        self.names = hashes;
        self.names_at = Some(now);
    }

    /// When `name` was last seen in the zone, if it was removed since.
    pub fn removed_at(&self, name: &str) -> Option<DateTime<Utc>> {
        let h = name_hash(name);
        self.removed
            .iter()
            .find(|(r, _)| *r == h)
            .map(|(_, at)| *at)
    }

    /// Adds this window's rate, keeping seven days of windows.
    pub fn push_sample(&mut self, sample: Sample) {
        self.history.push(sample);
        let cut = sample.at - chrono::Duration::days(7);
        self.history.retain(|s| s.at > cut);
        let extra = self
            .history
            .len()
            .saturating_sub(super::judge::BASELINE_WINDOWS);
        self.history.drain(..extra);
    }

    /// The rates of the history, oldest first (what `judge::baseline` reads).
    pub fn rates(&self) -> Vec<f64> {
        self.history.iter().map(|s| s.per_hour).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::families::query_logs::test_lines::t0;
    use chrono::Duration;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_name_gone_is_remembered_with_the_last_time_it_was_seen() {
        let mut z = ZoneState::default();
        let keep = Duration::days(30);
        z.remember_names(&names(&["www.example.com", "old.example.com"]), t0(), keep);
        assert!(z.removed.is_empty(), "the first sight removes nothing");
        let later = t0() + Duration::hours(1);
        z.remember_names(&names(&["www.example.com"]), later, keep);
        assert_eq!(z.removed_at("old.example.com"), Some(t0()));
        assert_eq!(z.removed_at("www.example.com"), None);
        assert_eq!(z.removed_at("never.example.com"), None);
        // Seen again: no longer removed.
        z.remember_names(&names(&["www.example.com", "old.example.com"]), later, keep);
        assert_eq!(z.removed_at("old.example.com"), None);
        // Removed, then forgotten after `keep`.
        z.remember_names(
            &names(&["www.example.com"]),
            later + Duration::hours(1),
            keep,
        );
        assert_eq!(z.removed_at("old.example.com"), Some(later));
        z.remember_names(
            &names(&["www.example.com"]),
            later + Duration::days(31),
            keep,
        );
        assert_eq!(z.removed_at("old.example.com"), None);
    }

    #[test]
    fn the_history_keeps_seven_days_of_windows() {
        let mut z = ZoneState::default();
        for h in 0..200 {
            z.push_sample(Sample {
                at: t0() + Duration::hours(h),
                per_hour: h as f64,
            });
        }
        assert_eq!(z.history.len(), 168);
        assert_eq!(z.rates().last().copied(), Some(199.0));
        // A gap of more than a week forgets everything before it.
        z.push_sample(Sample {
            at: t0() + Duration::days(30),
            per_hour: 1.0,
        });
        assert_eq!(z.history.len(), 1);
    }

    #[test]
    fn the_name_hash_is_fnv1a() {
        // FNV-1a 64 of "" and "a" (the published test vectors).
        assert_eq!(name_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(name_hash("a"), 0xaf63_dc4c_8601_ec8c);
    }
}
