//! The query-log family's groundwork adapters (`zw_aws::query_logs`,
//! not wired into any family yet) against moto: a hosted zone whose public
//! query log lines sit in a CloudWatch Logs log group, its query logging
//! configuration listed by Route 53, one hour of lines read back through
//! `FilterLogEvents` and counted by the family's aggregate.
//!
//! With 2,000 events a `FilterLogEvents` page (up to 10,000 events) holds
//! them all, so moto never hands out a `nextToken` here except when
//! `max_events` cuts the reading short; following tokens over several
//! pages is covered by the adapter's unit tests.

use crate::support::Env;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use zw_aws::query_logs::{self, LogsReader};
use zw_aws::usage::ApiCallCounter;
use zw_core::families::query_logs::aggregate::Aggregate;
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
    let configs = query_logs::query_logging_configs(&r53)
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

    // A log group that does not exist.
    let missing = reader
        .filter(REGION, "/aws/route53/missing.example", start, hour, 10)
        .await
        .expect_err("no such group");
    assert_eq!(missing.kind, ErrorKind::NotFound, "{missing:?}");
}
