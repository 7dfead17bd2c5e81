//! The DNS traffic family end to end against moto: a public zone logging
//! its queries to `/aws/route53/<zone>` in us-east-1, filled with a day of
//! generated lines (steady answers, a typo asked all day, a record deleted
//! between two scans and still asked for, a burst of SERVFAIL, names below
//! every threshold), a Resolver query log in eu-west-1 with one workload
//! asking 150 names that do not exist; a second zone without logging. The
//! scan finds exactly those, and nothing of a client address reaches the
//! table.

use crate::support::{Env, all_items, config, open_findings as open};
use chrono::Duration;
use std::collections::BTreeSet;
use zw_app::{App, FamilyKind, ScanOptions};
use zw_core::families::query_logs::window_end;
use zw_testkit::query_log_world::{self, CLIENT, SOURCE_ADDRESS, SUBNET, ZONE};

async fn scan(app: &App, id: &str, since: Option<Duration>) -> zw_core::ScanReport {
    app.scan(
        zw_core::Sinks {
            store: app.services.store.as_ref(),
            metrics: None::<&zw_aws::metrics::CloudWatchSink>,
            events: None,
        },
        zw_core::ScanLabel {
            scan_id: id.into(),
            trigger: "test".into(),
        },
        &ScanOptions {
            retire_unmonitored: true,
            query_log_since: since,
            ..ScanOptions::default()
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_of_traffic_finds_the_typo_the_deleted_record_the_servfail_burst_and_the_storm() {
    let env = Env::new().await;
    let world = query_log_world::setup(&env.sdk, "eu-west-1", "it")
        .await
        .expect("world");
    let (zone_id, quiet_id) = (world.zone_id.clone(), world.quiet_id.clone());
    let app = App::new(
        config(&[("ZW_RESOLVER_QUERY_LOG_GROUPS", "/vpc/*")]),
        &env.sdk,
        &[FamilyKind::QUERY_LOGS],
    )
    .expect("app");

    // The first scan sees the zone's names (`old` among them) and no
    // traffic yet; the quiet zone has no query logging.
    let first = scan(&app, "ql-1", None).await;
    assert!(first.scan.errors.is_empty(), "{:?}", first.scan.errors);
    assert_eq!(first.scan.families, ["query-logs"]);
    assert_eq!(
        open(&first),
        BTreeSet::from([(quiet_id.clone(), "querylog.logging-off")])
    );

    // `old` is deleted; then the day of logs arrives.
    let end = window_end(zw_core::ports::Clock::now(&zw_aws::SystemClock));
    let (public, resolver) = query_log_world::log_a_day(&env.sdk, &world, end)
        .await
        .expect("a day of logs");

    let second = scan(&app, "ql-2", Some(Duration::hours(24))).await;
    assert!(second.scan.errors.is_empty(), "{:?}", second.scan.errors);
    assert_eq!(
        open(&second),
        BTreeSet::from([
            (quiet_id.clone(), "querylog.logging-off"),
            (zone_id.clone(), "querylog.servfail"),
            (format!("{zone_id}/wwww.{ZONE}"), "querylog.likely-typo"),
            (
                format!("{zone_id}/old.{ZONE}"),
                "querylog.deleted-record-queried"
            ),
            (
                "eu-west-1/i-0noisy".to_owned(),
                "querylog.resolver-nxdomain-storm"
            ),
        ])
    );
    let finding = |code: &str| {
        second
            .findings
            .iter()
            .find(|f| f.code.id() == code)
            .unwrap_or_else(|| panic!("{code}"))
    };
    assert_eq!(finding("querylog.servfail").evidence["count"], 30);
    assert_eq!(
        finding("querylog.likely-typo").evidence["meant"],
        format!("www.{ZONE}")
    );
    assert_eq!(finding("querylog.likely-typo").evidence["count"], 144);
    assert_eq!(
        finding("querylog.deleted-record-queried").evidence["count"],
        96
    );
    assert_eq!(
        finding("querylog.resolver-nxdomain-storm").evidence["distinct_names"],
        150
    );
    assert_eq!(
        second.scan.count("query_log_events"),
        (public + resolver) as u64
    );

    // No client address, resolver address or subnet reached the table.
    let items = format!("{:?}", all_items(&env.ddb()).await);
    for secret in [CLIENT, SUBNET, SOURCE_ADDRESS] {
        assert!(!items.contains(secret), "{secret} is in the table");
    }
}
