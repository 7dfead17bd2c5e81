//! The family on fakes: each code produced from a window of lines and
//! resolved by the next clean window; what a failure leaves unjudged; what
//! the state carries from one run to the next.

use super::model::{PublicLogging, ReadStats, ResolverLogging};
use super::test_lines::{line, t0};
use super::*;
use crate::catalogue::FindingCode;
use crate::families::fakes::{NoCache, Zones};
use crate::families::test_now;
use std::sync::Mutex;

const ZONE: &str = "Z1";

fn group() -> LogGroup {
    LogGroup {
        region: "us-east-1".into(),
        name: "/aws/route53/example.com".into(),
    }
}

fn zone(names: &[&str]) -> (HostedZone, Vec<RecordSet>) {
    (
        HostedZone {
            id: ZONE.into(),
            name: "example.com.".into(),
            private: false,
            record_set_count: names.len() as u64,
        },
        names
            .iter()
            .map(|n| RecordSet::simple(&format!("{n}."), "A", &["192.0.2.1"]))
            .collect(),
    )
}

type Read = (String, DateTime<Utc>, DateTime<Utc>);

/// CloudWatch Logs and Route 53's logging configurations, as a table.
#[derive(Default)]
struct Logs {
    public: Vec<PublicLogging>,
    resolver: Vec<ResolverLogging>,
    lines: Mutex<BTreeMap<String, Vec<String>>>,
    fail: Option<String>,
    /// Each read: the group and its window.
    reads: Mutex<Vec<Read>>,
    /// The event limit each read was given.
    limits: Mutex<Vec<usize>>,
}

impl Logs {
    fn logging(group: &LogGroup) -> Self {
        Self {
            public: vec![PublicLogging {
                zone_id: ZONE.into(),
                group: group.clone(),
            }],
            ..Self::default()
        }
    }

    fn put(&self, group: &LogGroup, lines: Vec<String>) {
        self.lines.lock().expect("lock").insert(group.key(), lines);
    }
}

impl QueryLogSource for Logs {
    async fn public_logging(&self) -> Result<Vec<PublicLogging>, PortError> {
        Ok(self.public.clone())
    }
    async fn resolver_logging(&self, _region: &Region) -> Result<Vec<ResolverLogging>, PortError> {
        Ok(self.resolver.clone())
    }
    async fn read(
        &self,
        group: &LogGroup,
        format: LogFormat,
        max_events: usize,
        aggregate: &mut Aggregate,
    ) -> Result<ReadStats, PortError> {
        self.limits.lock().expect("lock").push(max_events);
        let (from, to) = aggregate.window();
        self.reads
            .lock()
            .expect("lock")
            .push((group.key(), from, to));
        if self.fail.as_deref() == Some(group.key().as_str()) {
            return Err(PortError::new(
                "logs",
                "FilterLogEvents",
                ErrorKind::Throttled,
                "slow down",
            ));
        }
        let lines = self
            .lines
            .lock()
            .expect("lock")
            .get(&group.key())
            .cloned()
            .unwrap_or_default();
        for l in &lines {
            match format {
                LogFormat::Public => aggregate.add_public_line(l),
                LogFormat::Resolver => aggregate.add_resolver_record(l),
            }
        }
        // Past the limit the adapter counts with Logs Insights: the same
        // counts, said so.
        Ok(ReadStats {
            events: lines.len() as u64,
            insights: lines.len() > max_events,
        })
    }
}

#[derive(Default)]
struct Store(Mutex<QueryLogState>);

impl QueryLogStore for Store {
    async fn load(&self) -> Result<QueryLogState, PortError> {
        Ok(self.0.lock().expect("lock").clone())
    }
    async fn save_read_to(
        &self,
        group: &LogGroup,
        read_to: DateTime<Utc>,
        busy: bool,
    ) -> Result<(), PortError> {
        let mut state = self.0.lock().expect("lock");
        state.read_to.insert(group.key(), read_to);
        if busy {
            state.busy.insert(group.key());
        } else {
            state.busy.remove(&group.key());
        }
        Ok(())
    }
    async fn save_zone(&self, zone_id: &str, state: &ZoneState) -> Result<(), PortError> {
        self.0
            .lock()
            .expect("lock")
            .zones
            .insert(zone_id.to_owned(), state.clone());
        Ok(())
    }
}

fn run(
    zones: &Zones,
    logs: &Logs,
    store: Option<&Store>,
    config: &QueryLogConfig,
    now: DateTime<Utc>,
) -> FamilyOutcome {
    let regions = [Region::parse("eu-west-1").expect("region")];
    let family = QueryLogsFamily {
        zones,
        cache: None::<&NoCache>,
        inventory_max_age: Duration::minutes(30),
        source: logs,
        store,
        config,
        regions: &regions,
        since: None,
        retire_unmonitored: true,
    };
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
        .block_on(family.run(now))
}

fn codes(out: &FamilyOutcome) -> Vec<(FindingCode, String)> {
    let mut c: Vec<_> = out
        .detections
        .iter()
        .map(|d| (d.code, d.resource.name.clone()))
        .collect();
    c.sort();
    c
}

/// `n` lines of `name` answered `rcode`, one every 10 seconds from t0.
fn lines(n: i64, name: &str, rcode: &str) -> Vec<String> {
    (0..n)
        .map(|i| line(i * 10 % 3000, ZONE, name, rcode, "FRA6"))
        .collect()
}

/// A store whose zone has a day of quiet history (10 NXDOMAIN per hour)
/// and remembers `old.example.com` as a name of the zone an hour ago.
fn seasoned(names: &[&str]) -> Store {
    let mut z = ZoneState::default();
    let keep = Duration::days(30);
    let mut with_old: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    with_old.push("old.example.com".into());
    z.remember_names(&with_old, test_now() - Duration::hours(2), keep);
    for h in 0..30 {
        z.push_sample(Sample {
            at: test_now() - Duration::hours(31 - h),
            per_hour: 10.0,
        });
    }
    let store = Store::default();
    store.0.lock().expect("lock").zones.insert(ZONE.into(), z);
    store
}

#[test]
fn each_traffic_code_is_found_in_a_window_and_resolved_by_a_clean_one() {
    let names = ["example.com", "www.example.com", "api.example.com"];
    let zones = Zones(vec![zone(&names)]);
    let logs = Logs::logging(&group());
    let mut window = lines(300, "www.example.com", "NOERROR");
    window.extend(lines(60, "wwww.example.com", "NXDOMAIN"));
    window.extend(lines(70, "old.example.com", "NXDOMAIN"));
    window.extend(lines(80, "nothere.example.com", "NXDOMAIN"));
    window.extend(lines(5, "api.example.com", "SERVFAIL"));
    // Below the per-name minimum, and a name outside the zone.
    window.extend(lines(20, "rare.example.com", "NXDOMAIN"));
    window.extend(lines(90, "example.org", "NXDOMAIN"));
    logs.put(&group(), window);
    let store = seasoned(&names);
    let config = QueryLogConfig::default();

    let out = run(&zones, &logs, Some(&store), &config, test_now());
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(
        codes(&out),
        vec![
            (FindingCode::QuerylogServfail, "example.com".into()),
            (FindingCode::QuerylogNxdomainSpike, "example.com".into()),
            (
                FindingCode::QuerylogMissingName,
                "nothere.example.com".into()
            ),
            (FindingCode::QuerylogLikelyTypo, "wwww.example.com".into()),
            (
                FindingCode::QuerylogDeletedRecordQueried,
                "old.example.com".into()
            ),
        ]
    );
    let typo = out
        .detections
        .iter()
        .find(|d| d.code == FindingCode::QuerylogLikelyTypo)
        .expect("typo");
    assert_eq!(typo.evidence["meant"], "www.example.com");
    assert_eq!(typo.resource.id, "Z1/wwww.example.com");
    let deleted = out
        .detections
        .iter()
        .find(|d| d.code == FindingCode::QuerylogDeletedRecordQueried)
        .expect("deleted");
    assert_eq!(deleted.evidence["removed_at"], "2026-12-03T10:00:00Z");
    let missing = out
        .detections
        .iter()
        .find(|d| d.code == FindingCode::QuerylogMissingName)
        .expect("missing");
    assert_eq!(missing.evidence["edges"][0]["edge"], "FRA6");
    assert!(
        !missing.evidence.to_string().contains("192.0.2.53"),
        "no client address"
    );
    assert!(out.coverage.covers(Check::QueryLogTraffic, ZONE));
    assert!(out.coverage.covers(Check::QueryLogging, ZONE));
    assert_eq!(out.counts["query_log_events"], 625);

    // The state moved: the window read, and this window's rate added.
    let kept = store.0.lock().expect("lock").clone();
    assert_eq!(kept.read_to[&group().key()], window_end(test_now()));
    assert_eq!(kept.zones[ZONE].history.len(), 31);

    // The next hour is clean: every traffic finding resolves.
    logs.put(
        &group(),
        lines(300, "www.example.com", "NOERROR")
            .iter()
            .map(|l| l.replace("T11:", "T12:"))
            .collect(),
    );
    let out = run(
        &zones,
        &logs,
        Some(&store),
        &config,
        test_now() + Duration::hours(1),
    );
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert!(out.detections.is_empty(), "{:?}", codes(&out));
    assert!(out.coverage.covers(Check::QueryLogTraffic, ZONE));
    let reads = logs.reads.lock().expect("lock").clone();
    assert_eq!(
        reads[1].1,
        window_end(test_now()),
        "the second window starts where the first ended"
    );
}

#[test]
fn a_zone_without_logging_is_reported_until_logging_is_on() {
    let zones = Zones(vec![zone(&["example.com"])]);
    let off = Logs::default();
    let config = QueryLogConfig::default();
    let out = run(&zones, &off, Some(&Store::default()), &config, test_now());
    assert_eq!(
        codes(&out),
        vec![(FindingCode::QuerylogLoggingOff, "example.com".into())]
    );
    assert!(out.coverage.covers(Check::QueryLogging, ZONE));

    let on = Logs::logging(&group());
    let out = run(&zones, &on, Some(&Store::default()), &config, test_now());
    assert!(codes(&out).is_empty(), "{:?}", codes(&out));
    assert!(out.coverage.covers(Check::QueryLogging, ZONE));
}

#[test]
fn a_group_not_granted_or_not_read_judges_nothing_and_keeps_its_watermark() {
    let zones = Zones(vec![zone(&["example.com", "www.example.com"])]);
    let elsewhere = LogGroup {
        region: "us-east-1".into(),
        name: "dns-queries".into(),
    };
    let logs = Logs::logging(&elsewhere);
    logs.put(&elsewhere, lines(80, "nothere.example.com", "NXDOMAIN"));
    let config = QueryLogConfig::default();
    let store = Store::default();
    let out = run(&zones, &logs, Some(&store), &config, test_now());
    assert!(out.detections.is_empty());
    assert!(!out.coverage.covers(Check::QueryLogTraffic, ZONE));
    assert!(
        out.errors[0].to_string().contains("ZW_QUERY_LOG_GROUPS"),
        "{}",
        out.errors[0]
    );
    assert!(
        logs.reads.lock().expect("lock").is_empty(),
        "a group not granted is not read"
    );

    let logs = Logs {
        fail: Some(group().key()),
        ..Logs::logging(&group())
    };
    let out = run(&zones, &logs, Some(&store), &config, test_now());
    assert_eq!(out.errors.len(), 1);
    assert!(!out.coverage.covers(Check::QueryLogTraffic, ZONE));
    assert!(store.0.lock().expect("lock").read_to.is_empty());
}

#[test]
fn a_resolver_storm_is_found_and_resolved() {
    let zones = Zones(vec![]);
    let resolver = LogGroup {
        region: "eu-west-1".into(),
        name: "/vpc/dns".into(),
    };
    let record = |i: i64, name: &str| {
        let t = t0() + Duration::seconds(i);
        format!(
            r#"{{"version":"1.100000","account_id":"111122223333","region":"eu-west-1","vpc_id":"vpc-1","query_timestamp":"{}","query_name":"{name}.","query_type":"A","query_class":"IN","rcode":"NXDOMAIN","answers":[],"srcaddr":"10.0.0.9","srcport":"5353","transport":"UDP","srcids":{{"instance":"i-0abc"}}}}"#,
            t.format("%Y-%m-%dT%H:%M:%SZ")
        )
    };
    let logs = Logs {
        resolver: vec![ResolverLogging {
            config_id: "rqlc-1".into(),
            group: resolver.clone(),
        }],
        ..Logs::default()
    };
    logs.put(
        &resolver,
        (0..150)
            .map(|i| record(i, &format!("n{i}.corp.internal")))
            .collect(),
    );
    let mut config = QueryLogConfig::default();
    let store = Store::default();
    // Off by default: not even looked for.
    let out = run(&zones, &logs, Some(&store), &config, test_now());
    assert!(out.detections.is_empty() && logs.reads.lock().expect("lock").is_empty());

    config.resolver_groups = vec![config::GroupPattern::parse("/vpc/*").expect("pattern")];
    let out = run(&zones, &logs, Some(&store), &config, test_now());
    assert_eq!(
        codes(&out),
        vec![(FindingCode::QuerylogResolverNxdomainStorm, "i-0abc".into())]
    );
    assert_eq!(out.detections[0].resource.id, "eu-west-1/i-0abc");
    assert_eq!(out.detections[0].evidence["distinct_names"], 150);
    assert!(!out.detections[0].evidence.to_string().contains("10.0.0.9"));
    assert!(
        out.coverage
            .covers(Check::ResolverQueryLogs, "resolver/eu-west-1")
    );

    logs.put(
        &resolver,
        (0..50)
            .map(|i| record(i, &format!("n{i}.corp.internal")).replace("T11:", "T12:"))
            .collect(),
    );
    let out = run(
        &zones,
        &logs,
        Some(&store),
        &config,
        test_now() + Duration::hours(1),
    );
    assert!(out.detections.is_empty());
    assert!(
        out.coverage
            .covers(Check::ResolverQueryLogs, "resolver/eu-west-1")
    );
}

#[test]
fn windows_start_at_the_last_read_and_never_exceed_a_day() {
    let zones = Zones(vec![zone(&["example.com"])]);
    let logs = Logs::logging(&group());
    let config = QueryLogConfig::default();
    let store = Store::default();
    let end = window_end(test_now());
    assert_eq!(end, test_now() - Duration::minutes(10));
    run(&zones, &logs, Some(&store), &config, test_now());
    run(
        &zones,
        &logs,
        Some(&store),
        &config,
        test_now() + Duration::days(3),
    );
    let reads = logs.reads.lock().expect("lock").clone();
    assert_eq!((reads[0].1, reads[0].2), (end - FIRST_WINDOW, end));
    let later = window_end(test_now() + Duration::days(3));
    assert_eq!((reads[1].1, reads[1].2), (later - MAX_WINDOW, later));

    // --since reads its own window and moves nothing.
    let family = QueryLogsFamily {
        zones: &zones,
        cache: None::<&NoCache>,
        inventory_max_age: Duration::minutes(30),
        source: &logs,
        store: Some(&store),
        config: &config,
        regions: &[],
        since: Some(Duration::hours(6)),
        retire_unmonitored: false,
    };
    let before = store.0.lock().expect("lock").clone();
    let now = test_now() + Duration::days(3) + Duration::hours(2);
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
        .block_on(family.run(now));
    let reads = logs.reads.lock().expect("lock").clone();
    assert_eq!(reads[2].1, window_end(now) - Duration::hours(6));
    let after = store.0.lock().expect("lock").clone();
    assert_eq!(before.read_to, after.read_to);
    assert_eq!(before.zones[ZONE].history, after.zones[ZONE].history);
}

#[test]
fn a_busy_group_goes_to_logs_insights_at_once_until_it_is_quiet_again() {
    let zones = Zones(vec![zone(&["example.com", "www.example.com"])]);
    let logs = Logs::logging(&group());
    let config = QueryLogConfig {
        max_events: 1_000,
        ..QueryLogConfig::default()
    };
    let store = Store::default();
    logs.put(&group(), lines(1_500, "www.example.com", "NOERROR"));
    run(&zones, &logs, Some(&store), &config, test_now());
    assert!(store.0.lock().expect("lock").busy.contains(&group().key()));
    // The next window holds 500: read through Logs Insights at once (a
    // limit of 0), then no longer busy.
    let next = |l: &String| l.replace("T11:", "T12:");
    logs.put(
        &group(),
        lines(500, "www.example.com", "NOERROR")
            .iter()
            .map(next)
            .collect(),
    );
    let out = run(
        &zones,
        &logs,
        Some(&store),
        &config,
        test_now() + Duration::hours(1),
    );
    assert_eq!(out.counts["query_log_insights_queries"], 1);
    assert!(store.0.lock().expect("lock").busy.is_empty());
    run(
        &zones,
        &logs,
        Some(&store),
        &config,
        test_now() + Duration::hours(2),
    );
    assert_eq!(*logs.limits.lock().expect("lock"), [1_000, 0, 1_000]);
}
