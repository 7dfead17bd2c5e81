//! One window's counts judged: what the `Aggregate` of a window says about
//! a hosted zone (SERVFAIL answers, an NXDOMAIN spike, names asked that do
//! not exist) and about the sources of Resolver queries (NXDOMAIN storms),
//! given what the product knows of the zone (its names now, its names
//! removed, its earlier windows' NXDOMAIN rates).
//!
//! Verdicts are plain values; `rules` turns them into findings. Pure: the time a verdict is judged at is the end of the
//! aggregate's window, never the clock.
//!
//! A name counts for a zone only when it is the zone's name or ends with
//! `.` and the zone's name (an escaped dot, `a\.example.com`, does not
//! separate labels). The NXDOMAIN and SERVFAIL answers of names outside the
//! zone are left out of the zone's counts and never judged; the apex
//! answered NXDOMAIN (impossible in a hosted zone) is left out the same way.
//! No rate, baseline or factor in a verdict is NaN or infinite.

use super::aggregate::{Aggregate, NameCount, ZoneWindow};
use super::parse::ends_in_escape;
use super::parse::normalise_name;
use super::typo::likely_meant;
use chrono::{DateTime, Duration, Utc};

/// The most earlier windows the baseline reads: seven days of hourly windows.
pub const BASELINE_WINDOWS: usize = 7 * 24;

/// The fewest earlier windows a baseline needs: one day of hourly windows.
pub const BASELINE_MIN: usize = 24;

/// The most names of one zone judged in one window (the most asked first):
/// each is compared with every name of the zone for a likely typo, and a
/// window with more names over the minimum than this is a spike, whose
/// finding lists the top names.
pub const NAMES_JUDGED: usize = 200;

/// The shortest window a rate is computed over, in hours (one minute).
pub const MIN_HOURS: f64 = 1.0 / 60.0;

/// Thresholds (`config::QueryLogConfig` reads them from the `ZW_QUERY_LOG_*`
/// settings).
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    /// NXDOMAIN spike: this window's NXDOMAIN rate (per hour) above
    /// `spike_factor` x the baseline median (default 3.0)...
    pub spike_factor: f64,
    /// ...and above this absolute floor of NXDOMAIN answers per hour
    /// (default 100).
    pub spike_floor_per_hour: u64,
    /// A name answered NXDOMAIN more than this many times in the window is
    /// reported (default 50).
    pub missing_name_min: u64,
    /// One Resolver source asking more than this many distinct NXDOMAIN
    /// names in a window (default 100). A source keeps at most
    /// `aggregate::NAME_LIMIT` names, so a minimum at or past it never fires.
    pub storm_names_min: u64,
    /// How long a deleted record still explains NXDOMAIN queries (default
    /// 30 days), counted back from the end of the window.
    pub deleted_within: Duration,
    /// Top names listed in evidence (default 10).
    pub top_names: usize,
    /// Top edge locations listed in evidence (default 5).
    pub top_edges: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            spike_factor: 3.0,
            spike_floor_per_hour: 100,
            missing_name_min: 50,
            storm_names_min: 100,
            deleted_within: Duration::days(30),
            top_names: 10,
            top_edges: 5,
        }
    }
}

/// What the product knows about one hosted zone (from its inventory and
/// history).
#[derive(Debug, Clone, Copy)]
pub struct ZoneKnowledge<'a> {
    pub zone_id: &'a str,
    /// Lower case, no trailing dot.
    pub zone_name: &'a str,
    /// Record names in the zone now (lower case, no trailing dot), sorted.
    pub names: &'a [String],
    /// Names removed from the zone, with when they were last seen in its
    /// inventory.
    pub removed: &'a [(String, DateTime<Utc>)],
    /// NXDOMAIN per hour of earlier windows (the baseline history, newest
    /// last; at most 7 days of windows are used).
    pub history: &'a [f64],
}

/// What one window says, before it becomes a finding.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// SERVFAIL answers for the zone this window: count, rate per hour,
    /// first/last, top names (name, count).
    Servfail {
        zone_id: String,
        count: u64,
        per_hour: f64,
        first: DateTime<Utc>,
        last: DateTime<Utc>,
        names: Vec<(String, u64)>,
    },
    /// NXDOMAIN rate above baseline x factor and above the floor.
    /// `baseline` is the median of the zone's history: a zone without 24
    /// windows of history is never judged, so a new zone cannot spike.
    NxdomainSpike {
        zone_id: String,
        per_hour: f64,
        baseline: f64,
        factor: f64,
        names: Vec<(String, u64)>,
    },
    /// A name answered NXDOMAIN more than `missing_name_min` times that is
    /// neither a likely typo nor a recently deleted record: count and top
    /// edge locations (never client addresses).
    MissingName {
        zone_id: String,
        name: String,
        count: u64,
        edges: Vec<(String, u64)>,
    },
    /// An NXDOMAIN name within edit distance 1-2 of an existing name
    /// (`typo::likely_meant`), asked more than `missing_name_min` times.
    LikelyTypo {
        zone_id: String,
        name: String,
        meant: String,
        distance: usize,
        count: u64,
    },
    /// An NXDOMAIN name that was a record of the zone within
    /// `deleted_within`, asked more than `missing_name_min` times.
    DeletedRecordQueried {
        zone_id: String,
        name: String,
        removed_at: DateTime<Utc>,
        count: u64,
    },
    /// A Resolver source asking more than `storm_names_min` distinct
    /// NXDOMAIN names.
    ResolverStorm {
        source: String,
        vpc_id: String,
        account_id: String,
        region: String,
        nxdomain: u64,
        distinct_names: usize,
    },
}

/// The window's verdicts for one zone (those of `knowledge.zone_id` in
/// `aggregate`), in a deterministic order: servfail, spike, then per name
/// (sorted by count desc, name asc) one of deleted/typo/missing (deleted
/// wins over typo, typo over missing).
///
/// A name the zone has now is not judged, whatever it was answered: it was
/// added after the queries, or the inventory is behind.
pub fn zone_verdicts(
    aggregate: &Aggregate,
    knowledge: &ZoneKnowledge<'_>,
    t: &Thresholds,
) -> Vec<Verdict> {
    let Some(zone) = aggregate.zones.get(knowledge.zone_id) else {
        return Vec::new();
    };
    let apex = normalise_name(knowledge.zone_name);
    let hours = window_hours(aggregate);
    let mut verdicts = Vec::new();
    if let Some(verdict) = servfail(knowledge.zone_id, zone, &apex, hours, t) {
        verdicts.push(verdict);
    }
    let names = nxdomain_names(zone, &apex);
    let named: u64 = names
        .iter()
        .fold(0u64, |sum, (_, count)| sum.saturating_add(count.count));
    let named_all: u64 = zone
        .nxdomain_names
        .values()
        .fold(0u64, |sum, count| sum.saturating_add(count.count));
    // Names past the name limit cannot be told apart: they stay counted.
    let nxdomain = zone
        .nxdomain
        .saturating_sub(named_all.saturating_sub(named));
    if let Some(verdict) = spike(knowledge, nxdomain, hours, &names, t) {
        verdicts.push(verdict);
    }
    let (_, now) = aggregate.window();
    let judged = names
        .into_iter()
        // Underscored names (RFC 8552: `_dmarc`, `_mta-sts`, `_smtp._tls`,
        // `_acme-challenge`, SRV discovery) are asked by protocols probing
        // for optional records: NXDOMAIN is the normal answer where the
        // option is not used (the mail family judges the mail ones).
        .filter(|(name, _)| !name.split('.').any(|label| label.starts_with('_')))
        .filter(|(name, count)| {
            count.count > t.missing_name_min
                && knowledge
                    .names
                    .binary_search_by(|n| n.as_str().cmp(name))
                    .is_err()
        })
        .take(NAMES_JUDGED);
    for (name, count) in judged {
        verdicts.push(name_verdict(knowledge, name, count, now, t));
    }
    verdicts
}

/// Resolver storms, sorted by source.
pub fn storms(aggregate: &Aggregate, t: &Thresholds) -> Vec<Verdict> {
    let mut sources: Vec<_> = aggregate
        .sources
        .iter()
        .filter(|(_, s)| {
            u64::try_from(s.distinct_names.len()).unwrap_or(u64::MAX) > t.storm_names_min
        })
        .collect();
    sources.sort_unstable_by(|a, b| a.0.cmp(b.0));
    sources
        .into_iter()
        .map(|(source, s)| Verdict::ResolverStorm {
            source: source.clone(),
            vpc_id: s.vpc_id.clone(),
            account_id: s.account_id.clone(),
            region: s.region.clone(),
            nxdomain: s.nxdomain,
            distinct_names: s.distinct_names.len(),
        })
        .collect()
}

/// Median of the newest `7 * 24` values of `history` (hourly windows); None
/// with fewer than 24 values. A value that is NaN, infinite or negative (no
/// rate is) is not a value: it is left out, and does not count toward the 24.
pub fn baseline(history: &[f64]) -> Option<f64> {
    let oldest = history.len().saturating_sub(BASELINE_WINDOWS);
    let mut values: Vec<f64> = history
        .iter()
        .skip(oldest)
        .copied()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .collect();
    if values.len() < BASELINE_MIN {
        return None;
    }
    values.sort_unstable_by(f64::total_cmp);
    let mid = values.len() / 2;
    let upper = values.get(mid).copied()?;
    if values.len() % 2 == 1 {
        return Some(upper);
    }
    let lower = values.get(mid.checked_sub(1)?).copied()?;
    // Halves first: the sum of two large values could overflow.
    Some(lower / 2.0 + upper / 2.0)
}

/// The window's length in hours from the aggregate's window (at least 1/60
/// hour), to turn counts into rates.
pub fn window_hours(aggregate: &Aggregate) -> f64 {
    let (from, to) = aggregate.window();
    let millis = to.signed_duration_since(from).num_milliseconds();
    (millis as f64 / 3_600_000.0).max(MIN_HOURS)
}

/// A count per hour; finite, as `hours` is at least `MIN_HOURS`.
fn rate(count: u64, hours: f64) -> f64 {
    count as f64 / hours.max(MIN_HOURS)
}

/// Whether a name (as the aggregates key it) is the zone's apex or a name
/// under it.
fn in_zone(name: &str, apex: &str) -> bool {
    if name == apex {
        return true;
    }
    match name
        .strip_suffix(apex)
        .and_then(|rest| rest.strip_suffix('.'))
    {
        Some(label) => !label.is_empty() && !ends_in_escape(label),
        None => false,
    }
}

/// Whether the text ends in an odd number of backslashes, which escape
/// whatever follows.
/// The zone's NXDOMAIN names under its apex, count descending then name.
fn nxdomain_names<'a>(zone: &'a ZoneWindow, apex: &str) -> Vec<(&'a str, &'a NameCount)> {
    let mut names: Vec<(&str, &NameCount)> = zone
        .nxdomain_names
        .iter()
        .map(|(name, count)| (name.as_str(), count))
        .filter(|(name, _)| *name != apex && in_zone(name, apex))
        .collect();
    names.sort_unstable_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(b.0)));
    names
}

fn servfail(
    zone_id: &str,
    zone: &ZoneWindow,
    apex: &str,
    hours: f64,
    t: &Thresholds,
) -> Option<Verdict> {
    let mut names: Vec<(&str, u64)> = Vec::new();
    let mut outside = 0u64;
    for (name, &n) in &zone.servfail_names {
        if in_zone(name, apex) {
            names.push((name, n));
        } else {
            outside = outside.saturating_add(n);
        }
    }
    let count = zone.servfail.saturating_sub(outside);
    if count == 0 {
        return None;
    }
    let (first, last) = (zone.first_servfail?, zone.last_servfail?);
    names.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    Some(Verdict::Servfail {
        zone_id: zone_id.to_owned(),
        count,
        per_hour: rate(count, hours),
        first,
        last,
        names: names
            .into_iter()
            .take(t.top_names)
            .map(|(name, n)| (name.to_owned(), n))
            .collect(),
    })
}

fn spike(
    knowledge: &ZoneKnowledge<'_>,
    nxdomain: u64,
    hours: f64,
    names: &[(&str, &NameCount)],
    t: &Thresholds,
) -> Option<Verdict> {
    let baseline = baseline(knowledge.history)?;
    let bar = t.spike_factor * baseline;
    let per_hour = rate(nxdomain, hours);
    // A factor that is NaN or infinite makes the bar so (the baseline is
    // finite, and not negative): no spike.
    let above = bar.is_finite() && per_hour > bar && per_hour > t.spike_floor_per_hour as f64;
    if !above {
        return None;
    }
    Some(Verdict::NxdomainSpike {
        zone_id: knowledge.zone_id.to_owned(),
        per_hour,
        baseline,
        factor: t.spike_factor,
        names: names
            .iter()
            .take(t.top_names)
            .map(|(name, count)| ((*name).to_owned(), count.count))
            .collect(),
    })
}

/// One name over the minimum: deleted, else typo, else missing.
fn name_verdict(
    knowledge: &ZoneKnowledge<'_>,
    name: &str,
    count: &NameCount,
    now: DateTime<Utc>,
    t: &Thresholds,
) -> Verdict {
    let removed_at = knowledge
        .removed
        .iter()
        .filter(|(removed, at)| {
            removed == name && now.signed_duration_since(*at) <= t.deleted_within
        })
        .map(|(_, at)| *at)
        .max();
    if let Some(removed_at) = removed_at {
        return Verdict::DeletedRecordQueried {
            zone_id: knowledge.zone_id.to_owned(),
            name: name.to_owned(),
            removed_at,
            count: count.count,
        };
    }
    if let Some((meant, distance)) = likely_meant(name, knowledge.names) {
        return Verdict::LikelyTypo {
            zone_id: knowledge.zone_id.to_owned(),
            name: name.to_owned(),
            meant: meant.to_owned(),
            distance,
            count: count.count,
        };
    }
    Verdict::MissingName {
        zone_id: knowledge.zone_id.to_owned(),
        name: name.to_owned(),
        count: count.count,
        edges: Aggregate::top_edges(count, t.top_edges)
            .into_iter()
            .map(|(edge, n)| (edge.to_owned(), n))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const Z: &str = "Z0123456789ABC";

    const NONE: [Verdict; 0] = [];

    use crate::families::query_logs::test_lines::{hour, line, t0};

    /// `n` answers for a name of zone Z, spread over the hour, at FRA6.
    fn feed(agg: &mut Aggregate, name: &str, rcode: &str, n: u64) {
        for i in 0..n {
            let seconds = i64::try_from(i % 3600).expect("small");
            agg.add_public_line(&line(seconds, Z, name, rcode, "FRA6"));
        }
    }

    /// A Route 53 Resolver query log record `seconds` after t0.
    fn record(seconds: i64, instance: &str, vpc: &str, name: &str, rcode: &str) -> String {
        let t = t0() + Duration::seconds(seconds);
        let srcids = if instance.is_empty() {
            String::new()
        } else {
            format!(r#","srcids":{{"instance":"{instance}"}}"#)
        };
        format!(
            r#"{{"version":"1.1","account_id":"111122223333","region":"eu-west-1","vpc_id":"{vpc}","query_timestamp":"{}","query_name":"{name}","query_type":"A","query_class":"IN","rcode":"{rcode}","answers":[],"srcaddr":"10.1.2.3","srcport":"5353","transport":"UDP"{srcids}}}"#,
            t.format("%Y-%m-%dT%H:%M:%SZ")
        )
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn knowledge<'a>(
        names: &'a [String],
        removed: &'a [(String, DateTime<Utc>)],
        history: &'a [f64],
    ) -> ZoneKnowledge<'a> {
        ZoneKnowledge {
            zone_id: Z,
            zone_name: "example.com",
            names,
            removed,
            history,
        }
    }

    fn existing() -> Vec<String> {
        names(&["api.example.com", "example.com", "www.example.com"])
    }

    fn judge(agg: &Aggregate, k: &ZoneKnowledge<'_>) -> Vec<Verdict> {
        zone_verdicts(agg, k, &Thresholds::default())
    }

    fn owned(list: &[(&str, u64)]) -> Vec<(String, u64)> {
        list.iter().map(|(s, n)| ((*s).to_owned(), *n)).collect()
    }

    fn missing(name: &str, count: u64) -> Verdict {
        Verdict::MissingName {
            zone_id: Z.to_owned(),
            name: name.to_owned(),
            count,
            edges: owned(&[("FRA6", count)]),
        }
    }

    #[test]
    fn at_most_the_most_asked_names_are_judged_per_window() {
        let mut agg = hour();
        // 250 missing names over the minimum; n0 the most asked.
        for i in 0..250u64 {
            feed(&mut agg, &format!("n{i}.example.com"), "NXDOMAIN", 300 - i);
        }
        let verdicts = judge(&agg, &knowledge(&existing(), &[], &[]));
        assert_eq!(verdicts.len(), NAMES_JUDGED);
        assert_eq!(verdicts.first(), Some(&missing("n0.example.com", 300)));
        assert_eq!(
            verdicts.last(),
            Some(&missing(
                &format!("n{}.example.com", NAMES_JUDGED - 1),
                300 - NAMES_JUDGED as u64 + 1
            ))
        );
    }

    #[test]
    fn underscored_names_probed_for_optional_records_are_not_judged() {
        let mut agg = hour();
        for name in [
            "_dmarc.example.com",
            "_smtp._tls.example.com",
            "s1._domainkey.example.com",
            "autoconfig.example.com",
        ] {
            feed(&mut agg, name, "NXDOMAIN", 80);
        }
        let verdicts = judge(&agg, &knowledge(&existing(), &[], &[]));
        assert_eq!(verdicts, vec![missing("autoconfig.example.com", 80)]);
    }

    #[test]
    fn default_thresholds_as_documented() {
        let t = Thresholds::default();
        assert_eq!(t.spike_factor, 3.0);
        assert_eq!(t.spike_floor_per_hour, 100);
        assert_eq!(t.missing_name_min, 50);
        assert_eq!(t.storm_names_min, 100);
        assert_eq!(t.deleted_within, Duration::days(30));
        assert_eq!((t.top_names, t.top_edges), (10, 5));
    }

    #[test]
    fn window_hours_from_the_window_at_least_a_minute() {
        assert_eq!(window_hours(&hour()), 1.0);
        let ninety = Aggregate::new(t0(), t0() + Duration::minutes(90));
        assert_eq!(window_hours(&ninety), 1.5);
        let day = Aggregate::new(t0(), t0() + Duration::days(1));
        assert_eq!(window_hours(&day), 24.0);
        let short = Aggregate::new(t0(), t0() + Duration::seconds(30));
        assert_eq!(window_hours(&short), 1.0 / 60.0);
        let backwards = Aggregate::new(t0(), t0() - Duration::hours(2));
        assert_eq!(window_hours(&backwards), 1.0 / 60.0);
        assert_eq!(window_hours(&Aggregate::default()), 1.0 / 60.0);
    }

    #[test]
    fn baseline_is_the_median_for_odd_and_even_counts() {
        // 25 values, out of order: the 13th of 1..=25.
        let odd: Vec<f64> = (1..=25).rev().map(f64::from).collect();
        assert_eq!(baseline(&odd), Some(13.0));
        // 24 values: between the 12th and the 13th.
        let even: Vec<f64> = (1..=24).map(|v| f64::from(v) * 2.0).collect();
        assert_eq!(baseline(&even), Some(25.0));
        let mut lopsided = vec![0.0; 12];
        lopsided.extend([7.0; 12]);
        assert_eq!(baseline(&lopsided), Some(3.5));
        // Two halves, not a sum that overflows.
        assert_eq!(baseline(&[f64::MAX; 24]), Some(f64::MAX));
    }

    #[test]
    fn baseline_needs_24_values_of_the_newest_week() {
        assert_eq!(baseline(&[]), None);
        assert_eq!(baseline(&[5.0; 23]), None);
        assert_eq!(baseline(&[5.0; 24]), Some(5.0));
        // Older than the newest 168 windows: not read.
        let mut history = vec![1000.0; 200];
        history.extend([1.0; 168]);
        assert_eq!(baseline(&history), Some(1.0));
        // 23 values inside the week, more before it: still too few.
        let mut history = vec![1000.0; 200];
        history.extend([f64::NAN; 145]);
        history.extend([2.0; 23]);
        assert_eq!(baseline(&history), None);
        // What no rate can be is not a value.
        let mut history = vec![4.0; 23];
        history.extend([f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0]);
        assert_eq!(baseline(&history), None);
        history.push(4.0);
        assert_eq!(baseline(&history), Some(4.0));
    }

    #[test]
    fn servfail_with_its_rate_times_and_names() {
        let mut agg = hour();
        for s in [600, 60, 3000] {
            agg.add_public_line(&line(s, Z, "api.example.com", "SERVFAIL", "FRA6"));
        }
        agg.add_public_line(&line(1200, Z, "WWW.example.com.", "SERVFAIL", "IAD12"));
        agg.add_public_line(&line(1300, Z, "example.com", "SERVFAIL", "IAD12"));
        // Not the zone's: neither counted nor listed.
        agg.add_public_line(&line(1500, Z, "api.notexample.com", "SERVFAIL", "FRA6"));
        agg.add_public_line(&line(5, Z, "www.example.com", "NOERROR", "FRA6"));
        let want = Verdict::Servfail {
            zone_id: Z.to_owned(),
            count: 5,
            per_hour: 5.0,
            first: t0() + Duration::seconds(60),
            last: t0() + Duration::seconds(3000),
            names: owned(&[
                ("api.example.com", 3),
                ("example.com", 1),
                ("www.example.com", 1),
            ]),
        };
        let known = existing();
        assert_eq!(judge(&agg, &knowledge(&known, &[], &[])), [want]);
        let two = Thresholds {
            top_names: 2,
            ..Thresholds::default()
        };
        let verdicts = zone_verdicts(&agg, &knowledge(&known, &[], &[]), &two);
        let [Verdict::Servfail { names, .. }] = verdicts.as_slice() else {
            panic!("one servfail: {verdicts:?}");
        };
        assert_eq!(names.len(), 2);
    }

    #[test]
    fn no_servfail_no_servfail_verdict() {
        let mut agg = hour();
        feed(&mut agg, "www.example.com", "NOERROR", 500);
        feed(&mut agg, "other.example.org", "SERVFAIL", 3);
        let known = existing();
        assert_eq!(judge(&agg, &knowledge(&known, &[], &[])), NONE);
        // A zone the window has no line for.
        let mut agg = hour();
        agg.add_public_line(&line(1, "Z2", "api.example.com", "SERVFAIL", "FRA6"));
        assert_eq!(judge(&agg, &knowledge(&known, &[], &[])), NONE);
    }

    /// `n` NXDOMAIN answers this hour over names of 40 answers at most
    /// (none past the name minimum), judged against `history`.
    fn spiking(n: u64, history: &[f64]) -> Vec<Verdict> {
        let mut agg = hour();
        let mut left = n;
        let mut i = 0;
        while left > 0 {
            let k = left.min(40);
            feed(&mut agg, &format!("host-{i}.example.com"), "NXDOMAIN", k);
            left -= k;
            i += 1;
        }
        let known = existing();
        judge(&agg, &knowledge(&known, &[], history))
    }

    #[test]
    fn spike_above_the_floor() {
        let history = [10.0; 24];
        let want = Verdict::NxdomainSpike {
            zone_id: Z.to_owned(),
            per_hour: 101.0,
            baseline: 10.0,
            factor: 3.0,
            names: owned(&[
                ("host-0.example.com", 40),
                ("host-1.example.com", 40),
                ("host-2.example.com", 21),
            ]),
        };
        assert_eq!(spiking(101, &history), [want]);
        // 30 > 3 x 10 but not above the floor.
        assert_eq!(spiking(100, &history), NONE);
    }

    #[test]
    fn spike_above_the_baseline_times_the_factor() {
        let history = [50.0; 30];
        let verdicts = spiking(151, &history);
        assert!(
            matches!(
                verdicts.as_slice(),
                [Verdict::NxdomainSpike { per_hour, baseline, .. }]
                    if *per_hour == 151.0 && *baseline == 50.0
            ),
            "{verdicts:?}"
        );
        assert_eq!(spiking(150, &history), NONE);
    }

    #[test]
    fn no_baseline_no_spike() {
        assert_eq!(spiking(1000, &[10.0; 23]), NONE);
        assert_eq!(spiking(1000, &[]), NONE);
        assert_eq!(spiking(1000, &[10.0; 24]).len(), 1);
    }

    #[test]
    fn spike_names_are_the_top_names() {
        let mut agg = hour();
        for (i, name) in ["d", "c", "b", "a"].iter().enumerate() {
            let n = if i == 0 { 30 } else { 25 };
            feed(&mut agg, &format!("{name}-host.example.com"), "NXDOMAIN", n);
        }
        let known = existing();
        let t = Thresholds {
            top_names: 3,
            ..Thresholds::default()
        };
        let verdicts = zone_verdicts(&agg, &knowledge(&known, &[], &[0.0; 24]), &t);
        let [Verdict::NxdomainSpike { names, .. }] = verdicts.as_slice() else {
            panic!("one spike: {verdicts:?}");
        };
        assert_eq!(
            *names,
            owned(&[
                ("d-host.example.com", 30),
                ("a-host.example.com", 25),
                ("b-host.example.com", 25),
            ])
        );
    }

    #[test]
    fn missing_name_past_the_minimum() {
        let mut agg = hour();
        for i in 0..51 {
            let edge = match i % 3 {
                0 => "FRA6",
                1 => "IAD12",
                _ => "NRT57-C1",
            };
            agg.add_public_line(&line(i, Z, "gone.example.com", "NXDOMAIN", edge));
        }
        agg.add_public_line(&line(7, Z, "gone.example.com", "NXDOMAIN", "AMS1"));
        feed(&mut agg, "lost.example.com", "NXDOMAIN", 50);
        let known = existing();
        let t = Thresholds {
            top_edges: 3,
            ..Thresholds::default()
        };
        let want = Verdict::MissingName {
            zone_id: Z.to_owned(),
            name: "gone.example.com".to_owned(),
            count: 52,
            edges: owned(&[("FRA6", 17), ("IAD12", 17), ("NRT57-C1", 17)]),
        };
        assert_eq!(
            zone_verdicts(&agg, &knowledge(&known, &[], &[]), &t),
            [want]
        );
        assert!(!format!("{agg:?}").contains("192.0.2.1"));
    }

    #[test]
    fn one_below_the_minimum_is_no_verdict() {
        let mut agg = hour();
        feed(&mut agg, "gone.example.com", "NXDOMAIN", 50);
        feed(&mut agg, "wwww.example.com", "NXDOMAIN", 50);
        feed(&mut agg, "old.example.com", "NXDOMAIN", 50);
        let known = existing();
        let removed = [("old.example.com".to_owned(), t0())];
        assert_eq!(judge(&agg, &knowledge(&known, &removed, &[])), NONE);
    }

    #[test]
    fn a_typo_of_an_existing_name_is_a_typo() {
        let mut agg = hour();
        feed(&mut agg, "wwww.example.com", "NXDOMAIN", 51);
        feed(&mut agg, "apl.example.com", "NXDOMAIN", 60);
        let known = existing();
        assert_eq!(
            judge(&agg, &knowledge(&known, &[], &[])),
            [
                Verdict::LikelyTypo {
                    zone_id: Z.to_owned(),
                    name: "apl.example.com".to_owned(),
                    meant: "api.example.com".to_owned(),
                    distance: 1,
                    count: 60,
                },
                Verdict::LikelyTypo {
                    zone_id: Z.to_owned(),
                    name: "wwww.example.com".to_owned(),
                    meant: "www.example.com".to_owned(),
                    distance: 1,
                    count: 51,
                },
            ]
        );
        // Without the name it meant, a plain missing name.
        let known = names(&["example.com"]);
        assert_eq!(
            judge(&agg, &knowledge(&known, &[], &[])),
            [
                missing("apl.example.com", 60),
                missing("wwww.example.com", 51)
            ]
        );
    }

    #[test]
    fn deleted_within_30_days_of_the_window_end() {
        let end = t0() + Duration::hours(1);
        let mut agg = hour();
        feed(&mut agg, "old.example.com", "NXDOMAIN", 51);
        let known = existing();
        let removed = [
            ("old.example.com".to_owned(), end - Duration::days(40)),
            ("old.example.com".to_owned(), end - Duration::days(30)),
            ("other.example.com".to_owned(), end),
        ];
        let want = Verdict::DeletedRecordQueried {
            zone_id: Z.to_owned(),
            name: "old.example.com".to_owned(),
            removed_at: end - Duration::days(30),
            count: 51,
        };
        assert_eq!(judge(&agg, &knowledge(&known, &removed, &[])), [want]);
        // A second older: a plain missing name.
        let removed = [(
            "old.example.com".to_owned(),
            end - Duration::days(30) - Duration::seconds(1),
        )];
        assert_eq!(
            judge(&agg, &knowledge(&known, &removed, &[])),
            [missing("old.example.com", 51)]
        );
    }

    #[test]
    fn deleted_wins_over_typo() {
        let mut agg = hour();
        feed(&mut agg, "api2.example.com", "NXDOMAIN", 51);
        let known = existing();
        let removed = [("api2.example.com".to_owned(), t0())];
        assert_eq!(
            judge(&agg, &knowledge(&known, &removed, &[])),
            [Verdict::DeletedRecordQueried {
                zone_id: Z.to_owned(),
                name: "api2.example.com".to_owned(),
                removed_at: t0(),
                count: 51,
            }]
        );
        assert!(matches!(
            judge(&agg, &knowledge(&known, &[], &[])).as_slice(),
            [Verdict::LikelyTypo { meant, .. }] if meant == "api.example.com"
        ));
    }

    #[test]
    fn names_outside_the_zone_are_never_judged() {
        let mut agg = hour();
        for name in [
            "notexample.com",
            "www.notexample.com",
            "example.com.evil",
            "wwww.example.co",
            "foo\\.example.com",
            // The apex answered NXDOMAIN: impossible, skipped.
            "example.com",
        ] {
            feed(&mut agg, name, "NXDOMAIN", 300);
        }
        feed(&mut agg, "gone.example.com", "NXDOMAIN", 20);
        let known = existing();
        // 1,800 NXDOMAIN answers, but 20 of them the zone's: no spike.
        assert_eq!(agg.zones[Z].nxdomain, 1820);
        assert_eq!(judge(&agg, &knowledge(&known, &[], &[1.0; 24])), NONE);
        // The zone's own names still are.
        feed(&mut agg, "gone.example.com", "NXDOMAIN", 100);
        feed(&mut agg, "x\\\\.example.com", "NXDOMAIN", 51);
        let verdicts = judge(&agg, &knowledge(&known, &[], &[1.0; 24]));
        assert_eq!(
            verdicts,
            [
                Verdict::NxdomainSpike {
                    zone_id: Z.to_owned(),
                    per_hour: 171.0,
                    baseline: 1.0,
                    factor: 3.0,
                    names: owned(&[("gone.example.com", 120), ("x\\\\.example.com", 51)]),
                },
                missing("gone.example.com", 120),
                missing("x\\\\.example.com", 51),
            ]
        );
        // The zone's name as written elsewhere: upper case, trailing dot.
        let mut k = knowledge(&known, &[], &[1.0; 24]);
        k.zone_name = "Example.COM.";
        assert_eq!(judge(&agg, &k), verdicts);
    }

    #[test]
    fn a_name_the_zone_has_now_is_not_judged() {
        let mut agg = hour();
        feed(&mut agg, "www.example.com", "NXDOMAIN", 200);
        let known = existing();
        let removed = [("www.example.com".to_owned(), t0())];
        assert_eq!(judge(&agg, &knowledge(&known, &removed, &[])), NONE);
    }

    #[test]
    fn verdicts_in_order() {
        let mut agg = hour();
        feed(&mut agg, "api.example.com", "SERVFAIL", 2);
        feed(&mut agg, "bravo.example.com", "NXDOMAIN", 52);
        feed(&mut agg, "wwww.example.com", "NXDOMAIN", 55);
        feed(&mut agg, "alpha.example.com", "NXDOMAIN", 52);
        feed(&mut agg, "old.example.com", "NXDOMAIN", 60);
        feed(&mut agg, "gone.example.com", "NXDOMAIN", 70);
        feed(&mut agg, "quiet.example.com", "NXDOMAIN", 3);
        let known = existing();
        let removed = [("old.example.com".to_owned(), t0())];
        let verdicts = judge(&agg, &knowledge(&known, &removed, &[10.0; 24]));
        let want = [
            Verdict::Servfail {
                zone_id: Z.to_owned(),
                count: 2,
                per_hour: 2.0,
                first: t0(),
                last: t0() + Duration::seconds(1),
                names: owned(&[("api.example.com", 2)]),
            },
            Verdict::NxdomainSpike {
                zone_id: Z.to_owned(),
                per_hour: 292.0,
                baseline: 10.0,
                factor: 3.0,
                names: owned(&[
                    ("gone.example.com", 70),
                    ("old.example.com", 60),
                    ("wwww.example.com", 55),
                    ("alpha.example.com", 52),
                    ("bravo.example.com", 52),
                    ("quiet.example.com", 3),
                ]),
            },
            missing("gone.example.com", 70),
            Verdict::DeletedRecordQueried {
                zone_id: Z.to_owned(),
                name: "old.example.com".to_owned(),
                removed_at: t0(),
                count: 60,
            },
            Verdict::LikelyTypo {
                zone_id: Z.to_owned(),
                name: "wwww.example.com".to_owned(),
                meant: "www.example.com".to_owned(),
                distance: 1,
                count: 55,
            },
            missing("alpha.example.com", 52),
            missing("bravo.example.com", 52),
        ];
        assert_eq!(verdicts, want);
    }

    #[test]
    fn no_nan_or_infinity_in_a_short_window() {
        let mut agg = Aggregate::new(t0(), t0() + Duration::seconds(30));
        feed(&mut agg, "gone.example.com", "NXDOMAIN", 30);
        feed(&mut agg, "api.example.com", "SERVFAIL", 30);
        let known = existing();
        let k = knowledge(&known, &[], &[0.0; 24]);
        let verdicts = judge(&agg, &k);
        // 30 answers in (at least) a minute: 1,800 an hour.
        let [
            Verdict::Servfail { per_hour: s, .. },
            Verdict::NxdomainSpike {
                per_hour: n,
                baseline: b,
                factor: f,
                ..
            },
        ] = verdicts.as_slice()
        else {
            panic!("servfail and spike: {verdicts:?}");
        };
        assert_eq!((*s, *n, *b, *f), (1800.0, 1800.0, 0.0, 3.0));
        // A factor or a bar that is not a number: no spike.
        for history in [[0.0; 24], [1.0; 24]] {
            for factor in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                let t = Thresholds {
                    spike_factor: factor,
                    ..Thresholds::default()
                };
                let verdicts = zone_verdicts(&agg, &knowledge(&known, &[], &history), &t);
                assert!(
                    matches!(verdicts.as_slice(), [Verdict::Servfail { .. }]),
                    "{factor} x {}: {verdicts:?}",
                    history[0]
                );
            }
        }
        let huge = [f64::MAX; 24];
        let verdicts = judge(&agg, &knowledge(&known, &[], &huge));
        assert!(
            matches!(verdicts.as_slice(), [Verdict::Servfail { .. }]),
            "{verdicts:?}"
        );
    }

    #[test]
    fn resolver_storms_sorted_by_source() {
        let mut agg = hour();
        for i in 0..101 {
            let name = format!("n{i}.internal.");
            agg.add_resolver_record(&record(i, "i-0bbb", "vpc-2", &name, "NXDOMAIN"));
            agg.add_resolver_record(&record(i, "i-0aaa", "vpc-1", &name, "NXDOMAIN"));
        }
        agg.add_resolver_record(&record(1, "i-0aaa", "vpc-1", "n0.internal.", "NXDOMAIN"));
        agg.add_resolver_record(&record(1, "i-0aaa", "vpc-1", "ok.internal.", "NOERROR"));
        // 100 distinct names, asked twice: not a storm.
        for i in 0..200 {
            let name = format!("m{}.internal.", i % 100);
            agg.add_resolver_record(&record(i, "", "vpc-3", &name, "NXDOMAIN"));
        }
        // Answered, not NXDOMAIN: not a storm.
        for i in 0..300 {
            let name = format!("ok{i}.internal.");
            agg.add_resolver_record(&record(i, "i-0ccc", "vpc-3", &name, "NOERROR"));
        }
        let storm = |source: &str, vpc: &str, nxdomain| Verdict::ResolverStorm {
            source: source.to_owned(),
            vpc_id: vpc.to_owned(),
            account_id: "111122223333".to_owned(),
            region: "eu-west-1".to_owned(),
            nxdomain,
            distinct_names: 101,
        };
        let got = storms(&agg, &Thresholds::default());
        assert_eq!(
            got,
            [storm("i-0aaa", "vpc-1", 102), storm("i-0bbb", "vpc-2", 101)]
        );
        assert!(!format!("{got:?}").contains("10.1.2.3"));
        let t = Thresholds {
            storm_names_min: 101,
            ..Thresholds::default()
        };
        assert_eq!(storms(&agg, &t), NONE);
        assert_eq!(storms(&hour(), &Thresholds::default()), NONE);
    }
}
