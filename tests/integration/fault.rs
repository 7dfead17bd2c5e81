//! Faults on the wire: a scan through `zw_testkit::fault_proxy`, which
//! answers a share of AWS requests (ACM, Route 53, DynamoDB) with the
//! service's throttling error, a 503, or a stall longer than the attempt
//! timeout, ends with the same findings as a clean scan of the same estate:
//! none lost, none duplicated, no scan error. Each request is faulted on its
//! first attempt at most; the faults happen before moto sees the request.

use crate::support::{Env, TABLE, config, items};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;
use zw_app::{App, FamilyKind, ScanOptions};
use zw_core::ScanLabel;
use zw_core::scan::{ScanReport, Sinks};
use zw_testkit::fault_proxy::{FaultPlan, FaultProxy};

async fn scan(app: &App, id: &str) -> ScanReport {
    app.scan(
        Sinks {
            store: app.services.store.as_ref(),
            metrics: None::<&zw_aws::metrics::CloudWatchSink>,
            events: None,
        },
        ScanLabel {
            scan_id: id.into(),
            trigger: "test".into(),
        },
        &ScanOptions::default(),
    )
    .await
}

type Seen = BTreeSet<(String, String, String)>;

fn findings(report: &ScanReport) -> Seen {
    report
        .findings
        .iter()
        .map(|f| {
            (
                f.code.id().to_owned(),
                f.resource.id.clone(),
                f.severity.to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_through_throttling_errors_and_stalls_finds_what_a_clean_one_finds() {
    let (env, _estate) = Env::with_demo_estate().await;
    let clean_app =
        App::new(env.config.clone(), &env.sdk, &[FamilyKind::CERTIFICATES]).expect("app");
    let clean = scan(&clean_app, "clean").await;
    assert!(clean.scan.errors.is_empty(), "{:?}", clean.scan.errors);
    let expected = findings(&clean);
    assert!(expected.len() >= 5, "{expected:?}");

    // The same estate, a second table, every request through the proxy.
    let faulty_table = "zonewarden-faulty";
    zw_testkit::seed::create_table(&env.ddb(), faulty_table)
        .await
        .expect("table");
    let proxy = FaultProxy::start(
        SocketAddr::from(([127, 0, 0, 1], env.moto.port())),
        FaultPlan {
            throttle: 0.2,
            server_error: 0.1,
            stall: 0.08,
            stall_for: Duration::from_millis(1_500),
            seed: 2026,
        },
    )
    .await
    .expect("proxy");
    let cfg = config(&[
        ("ZW_TABLE_NAME", faulty_table),
        // A stall outlasts one attempt; the retry goes through.
        ("ZW_AWS_ATTEMPT_TIMEOUT_MS", "1000"),
        ("ZW_AWS_OPERATION_TIMEOUT_MS", "30000"),
    ]);
    let sdk = zw_aws::with_timeouts(
        &env.sdk.to_builder().endpoint_url(proxy.url()).build(),
        &cfg.common.aws_timeouts,
    );
    let app = App::new(cfg, &sdk, &[FamilyKind::CERTIFICATES]).expect("app");
    let started = std::time::Instant::now();
    let first = scan(&app, "faulty-1").await;
    let took = started.elapsed();
    let [forwarded, throttled, server_errors, stalled] = proxy.counts.snapshot();
    eprintln!(
        "fault proxy: {forwarded} forwarded, {throttled} throttled, {server_errors} 5xx, {stalled} stalled; scan {took:?}"
    );
    assert!(
        throttled > 0 && server_errors > 0 && stalled > 0,
        "every kind of fault happened"
    );
    assert!(
        first.scan.errors.is_empty(),
        "every fault was absorbed: {:?}",
        first.scan.errors
    );
    assert_eq!(
        findings(&first),
        expected,
        "the same findings as the clean scan"
    );
    assert_eq!(first.scan.opened, expected.len(), "each opened once");
    // What each table holds: the same number of current findings.
    let count = |table: &'static str| {
        let ddb = env.ddb();
        async move {
            ddb.query()
                .table_name(table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(
                    ":pk",
                    aws_sdk_dynamodb::types::AttributeValue::S("FINDING".into()),
                )
                .send()
                .await
                .expect("query")
                .count()
        }
    };
    assert_eq!(count(faulty_table).await, count(TABLE).await);
    assert_eq!(
        count(TABLE).await as usize,
        items(&env.ddb(), "FINDING").await.len()
    );

    // Again through the proxy: nothing new, nothing resolved, nothing doubled.
    let second = scan(&app, "faulty-2").await;
    assert!(second.scan.errors.is_empty(), "{:?}", second.scan.errors);
    assert_eq!((second.scan.opened, second.scan.resolved), (0, 0));
    assert_eq!(findings(&second), expected);
    let [_, throttled2, errors2, stalled2] = proxy.counts.snapshot();
    assert!(throttled2 + errors2 + stalled2 > throttled + server_errors + stalled);
}
