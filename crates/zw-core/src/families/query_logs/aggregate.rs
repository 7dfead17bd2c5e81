//! One time window of query log lines, counted: per hosted zone (public DNS
//! query logs: answers, NXDOMAIN and SERVFAIL, per query name and edge
//! location) and per source of Resolver queries (NXDOMAIN answers and the
//! distinct names they were for).
//!
//! Memory is bounded by the distinct names kept, not by the lines read:
//! each zone keeps at most `NAME_LIMIT` NXDOMAIN names and as many SERVFAIL
//! names, each source at most `NAME_LIMIT` names; past the limit an answer
//! still counts in the totals. No client address is kept: public lines are
//! counted per edge location, Resolver records per source id.

use super::parse::{self, LineError};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The most names a zone keeps per response code, and a source keeps.
pub const NAME_LIMIT: usize = 10_000;

/// The most malformed lines' errors kept as samples.
pub const SAMPLE_LIMIT: usize = 5;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameCount {
    pub count: u64,
    /// per edge location (public logs) — never client addresses
    pub edges: BTreeMap<String, u64>,
}

impl NameCount {
    fn add(&mut self, edge: &str, n: u64) {
        self.count = self.count.saturating_add(n);
        let e = self.edges.entry(edge.to_owned()).or_default();
        *e = e.saturating_add(n);
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ZoneWindow {
    /// Answers of the window, whatever their response code.
    pub total: u64,
    pub nxdomain: u64,
    pub servfail: u64,
    /// The earliest and latest SERVFAIL answers' times (lines need not come
    /// in order).
    pub first_servfail: Option<DateTime<Utc>>,
    pub last_servfail: Option<DateTime<Utc>>,
    /// NXDOMAIN answers per query name (bounded: see NAME_LIMIT)
    pub nxdomain_names: HashMap<String, NameCount>,
    /// SERVFAIL answers per query name (bounded: see NAME_LIMIT)
    pub servfail_names: HashMap<String, u64>,
    /// names dropped because the per-zone name limit was reached (their answers still count in the totals)
    ///
    /// Counted once per answer that found its map full: the names dropped
    /// are not remembered, so a name dropped twice counts twice.
    pub names_dropped: u64,
}

/// The queries of one Resolver source (an instance, a resource, a Resolver
/// endpoint, or a VPC when the record names none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceWindow {
    /// Queries of the window, whatever their response code.
    pub total: u64,
    pub nxdomain: u64,
    /// The distinct names this source was answered NXDOMAIN for (capped at
    /// NAME_LIMIT: names past it are not kept, their answers still count).
    pub distinct_names: HashSet<String>,
    /// As the source's first query in the window gave them.
    pub vpc_id: String,
    pub account_id: String,
    pub region: String,
}

/// One row of a Logs Insights count of a public query log.
#[derive(Debug, Clone, Copy)]
pub struct CountedName<'a> {
    pub zone_id: &'a str,
    /// As logged (normalised here, as lines are).
    pub name: &'a str,
    pub rcode: &'a str,
    pub edge: &'a str,
    pub count: u64,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
}

/// One row of a Logs Insights count of a Resolver query log.
#[derive(Debug, Clone, Copy)]
pub struct CountedSource<'a> {
    /// As `parse::resolver_query` names sources: the first id of `srcids`
    /// (`instance`, then `resource`, then `resolver_endpoint`), else
    /// `vpc:<vpc id>`.
    pub source: &'a str,
    pub vpc_id: &'a str,
    pub account_id: &'a str,
    pub region: &'a str,
    pub name: &'a str,
    pub rcode: &'a str,
    pub count: u64,
}

/// One window's counts. Build it with `Aggregate::new`: the default has
/// the empty window (the epoch to the epoch), in which no line counts.
#[derive(Debug, Default)]
pub struct Aggregate {
    pub zones: HashMap<String /* zone id */, ZoneWindow>,
    pub sources: HashMap<String /* source */, SourceWindow>,
    pub malformed: u64,
    /// the first few malformed lines' errors, for the scan error (at most 5)
    pub samples: Vec<String>,
    /// The earliest and latest times of the lines counted (inside the window).
    pub window_start: Option<DateTime<Utc>>,
    pub window_end: Option<DateTime<Utc>>,
    /// Well-formed lines whose time is outside the window: not counted.
    pub outside: u64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

impl Aggregate {
    /// Counts the lines of `from <= time < to`.
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        Self {
            from,
            to,
            ..Self::default()
        }
    }

    /// The half-open window the aggregate counts: `from <= time < to`.
    pub fn window(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        (self.from, self.to)
    }

    /// Reads one line of a public hosted zone's DNS query log and counts it
    /// (or counts it malformed, or outside the window).
    pub fn add_public_line(&mut self, line: &str) {
        let query = match parse::public_query(line) {
            Ok(q) => q,
            Err(e) => return self.malformed("public query log line", &e),
        };
        if !self.inside(query.timestamp) {
            return;
        }
        let zone = match self.zones.get_mut(query.zone_id) {
            Some(zone) => zone,
            None => self.zones.entry(query.zone_id.to_owned()).or_default(),
        };
        zone.total += 1;
        if query.rcode.eq_ignore_ascii_case("NXDOMAIN") {
            zone.nxdomain += 1;
            let full = zone.nxdomain_names.len() >= NAME_LIMIT;
            let count = match zone.nxdomain_names.get_mut(&query.name) {
                Some(count) => Some(count),
                None if full => None,
                None => Some(zone.nxdomain_names.entry(query.name).or_default()),
            };
            match count {
                Some(count) => {
                    count.count += 1;
                    match count.edges.get_mut(query.edge) {
                        Some(n) => *n += 1,
                        None => {
                            count.edges.insert(query.edge.to_owned(), 1);
                        }
                    }
                }
                None => zone.names_dropped += 1,
            }
        } else if query.rcode.eq_ignore_ascii_case("SERVFAIL") {
            zone.servfail += 1;
            let t = query.timestamp;
            zone.first_servfail = Some(zone.first_servfail.map_or(t, |f| f.min(t)));
            zone.last_servfail = Some(zone.last_servfail.map_or(t, |l| l.max(t)));
            let full = zone.servfail_names.len() >= NAME_LIMIT;
            match zone.servfail_names.get_mut(&query.name) {
                Some(n) => *n += 1,
                None if full => zone.names_dropped += 1,
                None => {
                    zone.servfail_names.insert(query.name, 1);
                }
            }
        }
    }

    /// Reads one Route 53 Resolver query log record (JSON) and counts it
    /// under its source (or counts it malformed, or outside the window).
    pub fn add_resolver_record(&mut self, json: &str) {
        let query = match parse::resolver_query(json) {
            Ok(q) => q,
            Err(e) => return self.malformed("Resolver query log record", &e),
        };
        if !self.inside(query.timestamp) {
            return;
        }
        let source = match self.sources.get_mut(&query.source) {
            Some(source) => source,
            None => self.sources.entry(query.source).or_insert(SourceWindow {
                vpc_id: query.vpc_id,
                account_id: query.account_id,
                region: query.region,
                ..SourceWindow::default()
            }),
        };
        source.total += 1;
        if query.rcode.eq_ignore_ascii_case("NXDOMAIN") {
            source.nxdomain += 1;
            if source.distinct_names.len() < NAME_LIMIT {
                source.distinct_names.insert(query.name);
            }
        }
    }

    /// Counts one zone's answers of the window as CloudWatch Logs Insights
    /// counted them (`stats count(*) by zone, rcode`): the totals only; the
    /// names come through `add_counted_name`.
    pub fn add_counted_zone(&mut self, zone_id: &str, rcode: &str, count: u64) {
        let zone = self.zones.entry(zone_id.to_owned()).or_default();
        zone.total = zone.total.saturating_add(count);
        if rcode.eq_ignore_ascii_case("NXDOMAIN") {
            zone.nxdomain = zone.nxdomain.saturating_add(count);
        } else if rcode.eq_ignore_ascii_case("SERVFAIL") {
            zone.servfail = zone.servfail.saturating_add(count);
        }
    }

    /// Counts the NXDOMAIN or SERVFAIL answers of one name at one edge
    /// location as Logs Insights counted them (`stats count(*), min(@timestamp),
    /// max(@timestamp) by zone, name, rcode, edge`), within the same name
    /// limit as the lines; the zone's totals come from `add_counted_zone`.
    /// Times outside the window are clamped into it (Insights was asked for
    /// the window only). Other response codes are ignored.
    pub fn add_counted_name(&mut self, row: &CountedName<'_>) {
        let (first, last) = (row.first.max(self.from), row.last.min(self.to));
        let name = parse::normalise_name(row.name);
        let zone = self.zones.entry(row.zone_id.to_owned()).or_default();
        if row.rcode.eq_ignore_ascii_case("NXDOMAIN") {
            let full = zone.nxdomain_names.len() >= NAME_LIMIT;
            match zone.nxdomain_names.get_mut(&name) {
                Some(count) => count.add(row.edge, row.count),
                None if full => zone.names_dropped += 1,
                None => zone
                    .nxdomain_names
                    .entry(name)
                    .or_default()
                    .add(row.edge, row.count),
            }
        } else if row.rcode.eq_ignore_ascii_case("SERVFAIL") {
            zone.first_servfail = Some(zone.first_servfail.map_or(first, |f| f.min(first)));
            zone.last_servfail = Some(zone.last_servfail.map_or(last, |l| l.max(last)));
            let full = zone.servfail_names.len() >= NAME_LIMIT;
            match zone.servfail_names.get_mut(&name) {
                Some(n) => *n = n.saturating_add(row.count),
                None if full => zone.names_dropped += 1,
                None => {
                    zone.servfail_names.insert(name, row.count);
                }
            }
        } else {
            return;
        }
        self.window_start = Some(self.window_start.map_or(first, |s| s.min(first)));
        self.window_end = Some(self.window_end.map_or(last, |e| e.max(last)));
    }

    /// Counts one Resolver source's answers for one name as Logs Insights
    /// counted them (`stats count(*) by <source fields>, query_name, rcode`).
    pub fn add_counted_source(&mut self, row: &CountedSource<'_>) {
        let source = self
            .sources
            .entry(row.source.to_owned())
            .or_insert_with(|| SourceWindow {
                vpc_id: row.vpc_id.to_owned(),
                account_id: row.account_id.to_owned(),
                region: row.region.to_owned(),
                ..SourceWindow::default()
            });
        source.total = source.total.saturating_add(row.count);
        if row.rcode.eq_ignore_ascii_case("NXDOMAIN") {
            source.nxdomain = source.nxdomain.saturating_add(row.count);
            if source.distinct_names.len() < NAME_LIMIT {
                source
                    .distinct_names
                    .insert(parse::normalise_name(row.name));
            }
        }
    }

    /// The zone's `n` names with most NXDOMAIN answers, count descending then name ascending.
    pub fn top_nxdomain(&self, zone_id: &str, n: usize) -> Vec<(&str, &NameCount)> {
        let Some(zone) = self.zones.get(zone_id) else {
            return Vec::new();
        };
        let mut names: Vec<(&str, &NameCount)> = zone
            .nxdomain_names
            .iter()
            .map(|(name, count)| (name.as_str(), count))
            .collect();
        names.sort_unstable_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(b.0)));
        names.truncate(n);
        names
    }

    /// The `n` edge locations with most NXDOMAIN answers for a name, count descending then name.
    pub fn top_edges(count: &NameCount, n: usize) -> Vec<(&str, u64)> {
        let mut edges: Vec<(&str, u64)> = count
            .edges
            .iter()
            .map(|(edge, n)| (edge.as_str(), *n))
            .collect();
        edges.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        edges.truncate(n);
        edges
    }

    /// Whether a well-formed line's time is in the window; widens the
    /// window seen when it is, counts it outside when not.
    fn inside(&mut self, t: DateTime<Utc>) -> bool {
        if t < self.from || t >= self.to {
            self.outside += 1;
            return false;
        }
        self.window_start = Some(self.window_start.map_or(t, |s| s.min(t)));
        self.window_end = Some(self.window_end.map_or(t, |e| e.max(t)));
        true
    }

    fn malformed(&mut self, what: &str, error: &LineError) {
        self.malformed += 1;
        if self.samples.len() < SAMPLE_LIMIT {
            self.samples.push(format!("{what}: {error}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    use crate::families::query_logs::test_lines::{hour, line, t0};

    fn record(seconds: i64, srcids: &str, vpc: &str, name: &str, rcode: &str) -> String {
        let t = t0() + Duration::seconds(seconds);
        format!(
            r#"{{"version":"1.1","account_id":"111122223333","region":"eu-west-1","vpc_id":"{vpc}","query_timestamp":"{}","query_name":"{name}","query_type":"A","query_class":"IN","rcode":"{rcode}","answers":[],"srcaddr":"10.1.2.3","srcport":"5353","transport":"UDP"{srcids}}}"#,
            t.format("%Y-%m-%dT%H:%M:%SZ")
        )
    }

    #[test]
    fn totals_per_zone() {
        let mut agg = hour();
        agg.add_public_line(&line(1, "Z1", "www.example.com", "NOERROR", "FRA6"));
        agg.add_public_line(&line(2, "Z1", "wwww.example.com", "NXDOMAIN", "FRA6"));
        agg.add_public_line(&line(3, "Z1", "WWWW.example.com.", "NXDOMAIN", "IAD12"));
        agg.add_public_line(&line(4, "Z1", "api.example.com", "SERVFAIL", "FRA6"));
        agg.add_public_line(&line(5, "Z2", "x.example.org", "NXDOMAIN", "LHR3"));
        agg.add_public_line(&line(6, "Z2", "x.example.org", "REFUSED", "LHR3"));
        assert_eq!(agg.zones.len(), 2);
        let z1 = &agg.zones["Z1"];
        assert_eq!((z1.total, z1.nxdomain, z1.servfail), (4, 2, 1));
        assert_eq!(z1.nxdomain_names.len(), 1);
        let wwww = &z1.nxdomain_names["wwww.example.com"];
        assert_eq!(wwww.count, 2);
        assert_eq!(
            wwww.edges,
            BTreeMap::from([("FRA6".to_owned(), 1), ("IAD12".to_owned(), 1)])
        );
        assert_eq!(
            z1.servfail_names,
            HashMap::from([("api.example.com".to_owned(), 1)])
        );
        assert_eq!(z1.names_dropped, 0);
        let z2 = &agg.zones["Z2"];
        assert_eq!((z2.total, z2.nxdomain, z2.servfail), (2, 1, 0));
        assert_eq!(z2.first_servfail, None);
        assert_eq!(agg.window_start, Some(t0() + Duration::seconds(1)));
        assert_eq!(agg.window_end, Some(t0() + Duration::seconds(6)));
        assert_eq!((agg.malformed, agg.outside), (0, 0));
        assert!(agg.sources.is_empty());
    }

    #[test]
    fn servfail_first_and_last_whatever_the_order() {
        let mut agg = hour();
        for s in [600, 60, 3000, 1200] {
            agg.add_public_line(&line(s, "Z1", "api.example.com", "SERVFAIL", "FRA6"));
        }
        agg.add_public_line(&line(5, "Z1", "api.example.com", "NOERROR", "FRA6"));
        agg.add_public_line(&line(3500, "Z1", "gone.example.com", "NXDOMAIN", "FRA6"));
        let z = &agg.zones["Z1"];
        assert_eq!(z.servfail, 4);
        assert_eq!(z.first_servfail, Some(t0() + Duration::seconds(60)));
        assert_eq!(z.last_servfail, Some(t0() + Duration::seconds(3000)));
        assert_eq!(z.servfail_names["api.example.com"], 4);
        assert_eq!(agg.window_start, Some(t0() + Duration::seconds(5)));
        assert_eq!(agg.window_end, Some(t0() + Duration::seconds(3500)));
    }

    #[test]
    fn names_past_the_limit_are_dropped_but_counted() {
        let mut agg = hour();
        for i in 0..NAME_LIMIT + 3 {
            agg.add_public_line(&line(
                1,
                "Z1",
                &format!("n{i}.example.com"),
                "NXDOMAIN",
                "FRA6",
            ));
        }
        // A name kept before the limit still counts by name.
        agg.add_public_line(&line(2, "Z1", "n0.example.com", "NXDOMAIN", "FRA6"));
        for i in 0..NAME_LIMIT + 2 {
            agg.add_public_line(&line(
                1,
                "Z1",
                &format!("s{i}.example.com"),
                "SERVFAIL",
                "FRA6",
            ));
        }
        agg.add_public_line(&line(2, "Z1", "s1.example.com", "SERVFAIL", "FRA6"));
        let z = &agg.zones["Z1"];
        assert_eq!(z.nxdomain_names.len(), NAME_LIMIT);
        assert_eq!(z.servfail_names.len(), NAME_LIMIT);
        assert_eq!(z.names_dropped, 3 + 2);
        assert_eq!(z.nxdomain, NAME_LIMIT as u64 + 4);
        assert_eq!(z.servfail, NAME_LIMIT as u64 + 3);
        assert_eq!(z.total, 2 * NAME_LIMIT as u64 + 7);
        assert_eq!(z.nxdomain_names["n0.example.com"].count, 2);
        assert_eq!(z.servfail_names["s1.example.com"], 2);
        assert!(
            !z.nxdomain_names
                .contains_key(&format!("n{NAME_LIMIT}.example.com"))
        );
    }

    #[test]
    fn top_names_and_edges_by_count_then_name() {
        let mut agg = hour();
        let answers = [
            ("b.example.com", "FRA6"),
            ("b.example.com", "IAD12"),
            ("a.example.com", "IAD12"),
            ("a.example.com", "FRA6"),
            ("c.example.com", "FRA6"),
            ("c.example.com", "FRA6"),
            ("c.example.com", "AMS1"),
            ("c.example.com", "IAD12"),
            ("c.example.com", "IAD12"),
            ("d.example.com", "NRT4"),
        ];
        for (name, edge) in answers {
            agg.add_public_line(&line(10, "Z1", name, "NXDOMAIN", edge));
        }
        let top: Vec<(&str, u64)> = agg
            .top_nxdomain("Z1", 3)
            .into_iter()
            .map(|(name, c)| (name, c.count))
            .collect();
        assert_eq!(
            top,
            [
                ("c.example.com", 5),
                ("a.example.com", 2),
                ("b.example.com", 2)
            ]
        );
        assert_eq!(agg.top_nxdomain("Z1", 10).len(), 4);
        assert_eq!(agg.top_nxdomain("Z1", 0).len(), 0);
        assert!(agg.top_nxdomain("Z9", 3).is_empty());
        let c = &agg.zones["Z1"].nxdomain_names["c.example.com"];
        assert_eq!(Aggregate::top_edges(c, 2), [("FRA6", 2), ("IAD12", 2)]);
        assert_eq!(
            Aggregate::top_edges(c, 5),
            [("FRA6", 2), ("IAD12", 2), ("AMS1", 1)]
        );
    }

    #[test]
    fn only_the_half_open_window_counts() {
        let mut agg = hour();
        agg.add_public_line(&line(-1, "Z1", "a.example.com", "NXDOMAIN", "FRA6"));
        agg.add_public_line(&line(0, "Z1", "a.example.com", "NXDOMAIN", "FRA6"));
        agg.add_public_line(&line(3599, "Z1", "a.example.com", "SERVFAIL", "FRA6"));
        agg.add_public_line(&line(3600, "Z1", "a.example.com", "SERVFAIL", "FRA6"));
        agg.add_resolver_record(&record(3600, "", "vpc-1", "a.internal.", "NXDOMAIN"));
        agg.add_resolver_record(&record(-3600, "", "vpc-1", "a.internal.", "NXDOMAIN"));
        agg.add_resolver_record(&record(0, "", "vpc-1", "a.internal.", "NOERROR"));
        assert_eq!(agg.outside, 4);
        let z = &agg.zones["Z1"];
        assert_eq!((z.total, z.nxdomain, z.servfail), (2, 1, 1));
        assert_eq!(z.last_servfail, Some(t0() + Duration::seconds(3599)));
        assert_eq!(agg.sources["vpc:vpc-1"].total, 1);
        assert_eq!(agg.sources["vpc:vpc-1"].nxdomain, 0);
        assert_eq!(agg.window_start, Some(t0()));
        assert_eq!(agg.window_end, Some(t0() + Duration::seconds(3599)));
        assert_eq!(agg.window(), (t0(), t0() + Duration::hours(1)));
        // The default window is empty.
        let mut none = Aggregate::default();
        none.add_public_line(&line(0, "Z1", "a.example.com", "NXDOMAIN", "FRA6"));
        assert_eq!((none.outside, none.zones.len()), (1, 0));
    }

    #[test]
    fn resolver_sources_keyed_as_specified() {
        let mut agg = hour();
        let instance = r#","srcids":{"instance":"i-0abc","resource":"r-1"}"#;
        agg.add_resolver_record(&record(1, instance, "vpc-1", "db.internal.", "NXDOMAIN"));
        agg.add_resolver_record(&record(2, instance, "vpc-1", "DB.internal.", "NXDOMAIN"));
        agg.add_resolver_record(&record(3, instance, "vpc-1", "cache.internal.", "NXDOMAIN"));
        agg.add_resolver_record(&record(4, instance, "vpc-1", "ok.internal.", "NOERROR"));
        agg.add_resolver_record(&record(
            5,
            r#","srcids":{"resource":"r-1"}"#,
            "vpc-1",
            "x.",
            "NXDOMAIN",
        ));
        agg.add_resolver_record(&record(
            6,
            r#","srcids":{"resolver_endpoint":"rslvr-in-1"}"#,
            "vpc-2",
            "corp.example.",
            "SERVFAIL",
        ));
        agg.add_resolver_record(&record(7, "", "vpc-3", "y.", "NXDOMAIN"));
        let mut keys: Vec<&str> = agg.sources.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["i-0abc", "r-1", "rslvr-in-1", "vpc:vpc-3"]);
        let i = &agg.sources["i-0abc"];
        assert_eq!((i.total, i.nxdomain), (4, 3));
        assert_eq!(
            i.distinct_names,
            HashSet::from(["db.internal".to_owned(), "cache.internal".to_owned()])
        );
        assert_eq!(
            (i.vpc_id.as_str(), i.account_id.as_str(), i.region.as_str()),
            ("vpc-1", "111122223333", "eu-west-1")
        );
        assert_eq!(agg.sources["rslvr-in-1"].vpc_id, "vpc-2");
        assert_eq!(agg.sources["rslvr-in-1"].nxdomain, 0);
        assert_eq!(agg.sources["vpc:vpc-3"].nxdomain, 1);
        assert!(agg.zones.is_empty());
        assert!(!format!("{agg:?}").contains("10.1.2.3"));
    }

    #[test]
    fn source_names_are_capped() {
        let mut agg = hour();
        for i in 0..NAME_LIMIT + 5 {
            agg.add_resolver_record(&record(
                1,
                "",
                "vpc-1",
                &format!("n{i}.internal."),
                "NXDOMAIN",
            ));
        }
        let s = &agg.sources["vpc:vpc-1"];
        assert_eq!(s.distinct_names.len(), NAME_LIMIT);
        assert_eq!(s.nxdomain, NAME_LIMIT as u64 + 5);
    }

    #[test]
    fn malformed_lines_are_counted_with_five_samples() {
        let mut agg = hour();
        agg.add_public_line("");
        agg.add_public_line("2.0 a b c d e f g h i");
        agg.add_resolver_record("{");
        agg.add_resolver_record("[]");
        for _ in 0..10 {
            agg.add_public_line("garbage");
        }
        agg.add_public_line(&line(1, "Z1", "a.example.com", "NOERROR", "FRA6"));
        assert_eq!(agg.malformed, 14);
        assert_eq!(agg.samples.len(), 5);
        assert_eq!(
            agg.samples[0],
            "public query log line: expected 10 fields separated by single spaces, found 0"
        );
        assert_eq!(
            agg.samples[1],
            "public query log line: log format version \"2.0\" is not one zonewarden reads (public logs: 1.0; Resolver logs: 1.x)"
        );
        assert!(
            agg.samples[2].starts_with("Resolver query log record: not a JSON object: EOF"),
            "{}",
            agg.samples[2]
        );
        assert_eq!(
            agg.samples[3],
            "Resolver query log record: not a JSON object: the record is an array"
        );
        assert_eq!(agg.zones["Z1"].total, 1);
        assert_eq!(agg.outside, 0);
    }
}
