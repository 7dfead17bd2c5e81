//! The query-log family's adapters (`zw_aws::query_logs`) against moto: a
//! hosted zone whose public query log lines sit in a CloudWatch Logs log
//! group, its query logging configuration listed by Route 53, one hour of
//! lines read back through `FilterLogEvents` and counted by the family's
//! aggregate; Route 53 Resolver configurations (a log group kept, an S3
//! bucket left out); the family's state through DynamoDB.
//!
//! With 2,000 events a `FilterLogEvents` page (up to 10,000 events) holds
//! them all, so moto never hands out a `nextToken` here except when
//! `max_events` cuts the reading short; following tokens over several
//! pages is covered by the adapter's unit tests.
//!
//! Logs Insights: moto (5.2.5) accepts `StartQuery` and answers
//! `GetQueryResults` at once, but runs only `fields`, `sort` and `limit`:
//! the family's queries (`parse`, `filter`, `stats`) come back as one row
//! per event holding nothing but `@ptr`. The test below pins that the path
//! is taken and that such rows are refused, not counted as nothing; the
//! counting itself is tested on recorded answers in zw-aws.

use crate::support::{Env, TABLE, items};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use zw_aws::query_logs::{self, DynamoQueryLogStore, LogsReader, QueryLogAdapter};
use zw_aws::table::Partition;
use zw_aws::usage::ApiCallCounter;
use zw_core::families::query_logs::aggregate::Aggregate;
use zw_core::families::query_logs::model::{
    LogFormat, LogGroup, PublicLogging, ReadStats, ResolverLogging, Sample, ZoneState,
};
use zw_core::families::query_logs::ports::{QueryLogSource, QueryLogStore};
use zw_core::model::Region;
use zw_core::org::AccountRef;
use zw_core::ports::ErrorKind;
use zw_testkit::{dns_world, logs};

const REGION: &str = "us-east-1";
const ZONE: &str = "querylog.example.com";
const LINES: i64 = 2_000;

/// Line `i` of the log: 3.6 s apart, so that lines 0..1000 are the first
/// hour; every 97th is an NXDOMAIN answer.
fn line(zone_id: &str, start: DateTime<Utc>, i: i64) -> (DateTime<Utc>, String) {
    let at = start + Duration::milliseconds(i * 3_600);
    let (name, rcode) = if i % 97 == 0 {
        (format!("typo{}.{ZONE}", i % 5), "NXDOMAIN")
    } else {
        (format!("host{}.{ZONE}", i % 50), "NOERROR")
    };
    let edge = if i % 2 == 0 { "FRA6" } else { "IAD12" };
    let message = format!(
        "1.0 {} {zone_id} {name} A {rcode} UDP {edge} 192.0.2.1 -",
        at.to_rfc3339_opts(SecondsFormat::Millis, true)
    );
    (at, message)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zones_query_log_is_found_through_its_config_and_read_back_by_the_hour() {
    let env = Env::new().await;
    let r53 = aws_sdk_route53::Client::new(&env.sdk);
    let zone_id = dns_world::create_public_zone(&r53, ZONE, "query-logs".into())
        .await
        .expect("zone");
    let group = format!("/aws/route53/{ZONE}");
    logs::create_log_group(&env.sdk, REGION, &group)
        .await
        .expect("log group");

    // Two whole hours ending at least an hour ago: CloudWatch Logs (and
    // moto) take events of the last 14 days only.
    let now = zw_core::ports::Clock::now(&zw_aws::SystemClock);
    let start = DateTime::from_timestamp(now.timestamp() / 3_600 * 3_600, 0).expect("hour")
        - Duration::hours(3);
    let hour = start + Duration::hours(1);
    let lines: Vec<(DateTime<Utc>, String)> =
        (0..LINES).map(|i| line(&zone_id, start, i)).collect();
    logs::put_events(&env.sdk, REGION, &group, "FRA6-edge", &lines)
        .await
        .expect("events");
    let arn = logs::log_group_arn(&env.sdk, REGION, &group)
        .await
        .expect("arn");
    let config_id = logs::create_query_logging_config(&env.sdk, &zone_id, &arn)
        .await
        .expect("query logging config");

    // The configuration names the zone and its log group.
    let services = env.services();
    let configs = query_logs::query_logging_configs(&services.route53)
        .await
        .expect("configs");
    assert_eq!(
        configs,
        [query_logs::QueryLoggingConfig {
            id: config_id,
            hosted_zone_id: zone_id.clone(),
            log_group_arn: arn.clone(),
        }]
    );
    assert!(arn.ends_with(":*"), "{arn}");
    let (region, name) =
        query_logs::log_group_name(&configs[0].log_group_arn).expect("a log group ARN");
    assert_eq!((region.as_str(), name.as_str()), (REGION, group.as_str()));

    // The first hour, exactly: line 1000 is at `hour` and belongs to the next.
    let reader = LogsReader::new(&env.sdk, &ApiCallCounter::default());
    let first = reader
        .filter(&region, &name, start, hour, 10_000)
        .await
        .expect("first hour");
    let expected: Vec<&str> = lines
        .iter()
        .filter(|(t, _)| *t < hour)
        .map(|(_, m)| m.as_str())
        .collect();
    assert_eq!(expected.len(), 1_000);
    assert_eq!(first.messages, expected);
    assert!(!first.truncated);
    assert_eq!(first.calls, 1);

    // Fewer events allowed than the window holds: exactly that many.
    let cut = reader
        .filter(&region, &name, start, start + Duration::hours(2), 600)
        .await
        .expect("cut short");
    assert!(cut.truncated);
    assert_eq!(cut.messages.len(), 600);
    assert_eq!(cut.messages, expected[..600]);

    // The family's aggregate counts the hour's NXDOMAIN answers: lines
    // 0, 97, …, 970.
    let mut aggregate = Aggregate::new(start, hour);
    for message in &first.messages {
        aggregate.add_public_line(message);
    }
    assert_eq!(
        (aggregate.malformed, aggregate.outside),
        (0, 0),
        "{:?}",
        aggregate.samples
    );
    let counted = &aggregate.zones[&zone_id];
    assert_eq!(counted.total, 1_000);
    assert_eq!(counted.nxdomain, 11);

    // The family's source: the zone's logging, and the hour counted from
    // its lines (under the cap).
    let source = QueryLogAdapter::new(&env.sdk, &services.route53, &services.calls);
    let log_group = LogGroup {
        region: REGION.into(),
        name: group.clone(),
    };
    assert_eq!(
        source.public_logging().await.expect("public logging"),
        [PublicLogging {
            zone_id: zone_id.clone(),
            group: log_group.clone(),
        }]
    );
    let mut through_port = Aggregate::new(start, hour);
    let stats = source
        .read(&log_group, LogFormat::Public, 1_000, &mut through_port)
        .await
        .expect("read");
    assert_eq!(
        stats,
        ReadStats {
            events: 1_000,
            insights: false
        }
    );
    assert_eq!(through_port.zones[&zone_id], aggregate.zones[&zone_id]);
    assert_eq!(through_port.malformed, 0);

    // A log group that does not exist.
    let missing = reader
        .filter(REGION, "/aws/route53/missing.example", start, hour, 10)
        .await
        .expect_err("no such group");
    assert_eq!(missing.kind, ErrorKind::NotFound, "{missing:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolver_logging_keeps_the_log_group_destinations_of_its_region() {
    let env = Env::new().await;
    let region = "eu-west-1";
    let group = "/vpc/dns-queries";
    logs::create_log_group(&env.sdk, region, group)
        .await
        .expect("log group");
    let arn = logs::log_group_arn(&env.sdk, region, group)
        .await
        .expect("arn");
    let kept = logs::create_resolver_query_log_config(&env.sdk, region, "to-logs", &arn)
        .await
        .expect("config to CloudWatch Logs");
    // The ARN without its `:*` is a log group's too.
    let bare = arn.trim_end_matches(":*");
    let also = logs::create_resolver_query_log_config(&env.sdk, region, "to-logs-bare", bare)
        .await
        .expect("config to CloudWatch Logs, bare ARN");
    logs::create_resolver_query_log_config(&env.sdk, region, "to-s3", "arn:aws:s3:::dns-archive")
        .await
        .expect("config to S3");
    logs::create_resolver_query_log_config(
        &env.sdk,
        "us-east-1",
        "elsewhere",
        &arn.replace(region, "us-east-1"),
    )
    .await
    .expect("config in another region");

    let services = env.services();
    let source = QueryLogAdapter::new(&env.sdk, &services.route53, &services.calls);
    let mut found = source
        .resolver_logging(&Region::parse(region).expect("region"))
        .await
        .expect("resolver logging");
    found.sort_by(|a, b| a.config_id.cmp(&b.config_id));
    let mut expected = vec![
        ResolverLogging {
            config_id: kept,
            group: LogGroup {
                region: region.into(),
                name: group.into(),
            },
        },
        ResolverLogging {
            config_id: also,
            group: LogGroup {
                region: region.into(),
                name: group.into(),
            },
        },
    ];
    expected.sort_by(|a, b| a.config_id.cmp(&b.config_id));
    assert_eq!(found, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_over_the_cap_goes_to_logs_insights_which_moto_cannot_run() {
    let env = Env::new().await;
    let group = "/aws/route53/busy.example";
    logs::create_log_group(&env.sdk, REGION, group)
        .await
        .expect("log group");
    let now = zw_core::ports::Clock::now(&zw_aws::SystemClock);
    let start = DateTime::from_timestamp(now.timestamp() / 3_600 * 3_600, 0).expect("hour")
        - Duration::hours(2);
    let lines: Vec<(DateTime<Utc>, String)> = (0..20).map(|i| line("Z1", start, i)).collect();
    logs::put_events(&env.sdk, REGION, group, "edge", &lines)
        .await
        .expect("events");
    let services = env.services();
    let source = QueryLogAdapter::new(&env.sdk, &services.route53, &services.calls);
    let log_group = LogGroup {
        region: REGION.into(),
        name: group.into(),
    };
    let mut aggregate = Aggregate::new(start, start + Duration::hours(1));
    let e = source
        .read(&log_group, LogFormat::Public, 10, &mut aggregate)
        .await
        .expect_err("moto returns rows without the query's fields");
    assert_eq!(e.kind, ErrorKind::InvalidResponse, "{e:?}");
    assert!(
        e.message
            .contains("/aws/route53/busy.example in us-east-1: Logs Insights rows zonewarden cannot read: row 0 has no `zone`"),
        "{e:?}"
    );
}

fn zone_state(at: DateTime<Utc>) -> ZoneState {
    ZoneState {
        history: vec![
            Sample { at, per_hour: 3.25 },
            Sample {
                at: at + Duration::hours(1),
                per_hour: 0.0,
            },
        ],
        names: vec![1, 0xcbf2_9ce4_8422_2325, u64::MAX],
        removed: vec![(2, at - Duration::days(3))],
        names_at: Some(at + Duration::milliseconds(250)),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_family_state_round_trips_through_dynamodb_in_its_partition() {
    let env = Env::new().await;
    let at = DateTime::parse_from_rfc3339("2026-12-03T11:00:00Z")
        .expect("time")
        .with_timezone(&Utc);
    let group = LogGroup {
        region: REGION.into(),
        name: "/aws/route53/example.com".into(),
    };
    let account = Partition::account(AccountRef::new("111122223333", "prod").expect("account"));
    for (partition, pk) in [
        (Partition::single(), "QUERYLOG"),
        (account, "ACCOUNT#111122223333#QUERYLOG"),
    ] {
        let store = DynamoQueryLogStore::new(env.ddb(), TABLE.into(), partition);
        let empty = store.load().await.expect("empty load");
        assert!(empty.read_to.is_empty() && empty.zones.is_empty());
        store
            .save_read_to(&group, at, false)
            .await
            .expect("read_to");
        // A later window replaces the earlier.
        store
            .save_read_to(&group, at + Duration::hours(1), true)
            .await
            .expect("read_to again");
        store.save_zone("Z1", &zone_state(at)).await.expect("zone");
        store
            .save_zone("Z2", &ZoneState::default())
            .await
            .expect("empty zone");
        let state = store.load().await.expect("load");
        assert_eq!(state.busy, std::collections::BTreeSet::from([group.key()]));
        assert_eq!(
            state.read_to.into_iter().collect::<Vec<_>>(),
            [(group.key(), at + Duration::hours(1))]
        );
        assert_eq!(state.zones.len(), 2);
        assert_eq!(state.zones["Z1"], zone_state(at));
        assert_eq!(state.zones["Z2"], ZoneState::default());

        let stored = items(&env.ddb(), pk).await;
        assert_eq!(stored.len(), 3, "{pk}");
        for item in &stored {
            let ttl: i64 = item["expires_at"].as_n().expect("ttl").parse().expect("n");
            let written = DateTime::parse_from_rfc3339(item["written_at"].as_s().expect("written"))
                .expect("written_at");
            assert_eq!(ttl, written.timestamp() + 30 * 86_400);
        }
    }
}
