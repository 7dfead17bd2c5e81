//! The Lambda handler driven with every sample in `events/` against moto.
//! (The same binary runs through the real runtime API with `cargo lambda` in
//! scripts/test; moto does not turn the EMF lines into metrics, so we assert
//! the lines themselves.)

use crate::support::{Env, SharedBuf};
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use scan_certificates::handler::handle;
use zw_app::FamilyKind;
use zw_aws::metrics::EmfSink;
use zw_lambda::{Deps, HandlerError};

fn event(name: &str) -> serde_json::Value {
    let path = format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn ctx(id: &str) -> Context {
    let mut c = Context::default();
    c.request_id = id.into();
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sample_event_runs_a_scan_and_prints_emf() {
    let (env, _estate) = Env::with_demo_estate().await;
    let buf = SharedBuf::default();
    let deps = Deps::with_sdk(
        env.config.clone(),
        &env.sdk,
        &[FamilyKind::CERTIFICATES],
        EmfSink::to_writer(Box::new(buf.clone())),
    )
    .expect("deps");
    let samples = [
        "schedule.json",
        "acm-approaching-expiration.json",
        "acm-renewal-action-required.json",
        "health-acm.json",
        "manual.json",
        // Two ACM events from the event queue: one scan for both.
        "sqs-acm-events.json",
    ];
    for (i, name) in samples.iter().enumerate() {
        let summary = handle(
            &deps,
            LambdaEvent::new(event(name), ctx(&format!("req-{i}"))),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(summary.counts["certificates"] >= 5, "{name}: {summary:?}");
        assert!(summary.errors.is_empty(), "{name}: {summary:?}");
        assert_eq!(summary.scan_id, format!("lambda-req-{i}"));
        if name.starts_with("sqs-") {
            assert!(
                summary.trigger.starts_with("2 events: aws.acm"),
                "{summary:?}"
            );
            assert!(summary.batch_item_failures.is_empty(), "{summary:?}");
        }
        // Only the first scan opens findings; later triggers find them open.
        assert_eq!(summary.opened > 0, i == 0, "{name}: {summary:?}");
    }
    let text = buf.text();
    let docs: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("EMF line is JSON"))
        .collect();
    let critical: Vec<&serde_json::Value> = docs
        .iter()
        .filter(|d| d["Severity"] == "critical")
        .collect();
    assert_eq!(
        critical.len(),
        samples.len(),
        "one OpenFindings/critical datum per scan"
    );
    assert!(
        critical
            .iter()
            .all(|d| d["OpenFindings"].as_f64() >= Some(1.0))
    );
    assert!(
        docs.iter()
            .all(|d| d["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Zonewarden")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_event_is_refused_with_a_typed_diagnostic() {
    let env = Env::new().await;
    let deps = Deps::with_sdk(
        env.config.clone(),
        &env.sdk,
        &[FamilyKind::CERTIFICATES],
        EmfSink::to_writer(Box::new(SharedBuf::default())),
    )
    .expect("deps");
    let err = handle(
        &deps,
        LambdaEvent::new(event("invalid-not-eventbridge.json"), ctx("bad")),
    )
    .await
    .expect_err("refused");
    let diag = Diagnostic::from(err);
    assert_eq!(diag.error_type, "InvalidEvent");
    assert!(
        diag.error_message.contains("events/"),
        "{}",
        diag.error_message
    );
    let none = crate::support::all_items(&env.ddb()).await;
    assert!(none.is_empty(), "a refused event writes nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_that_cannot_reach_the_store_fails_the_invocation() {
    let env = Env::new().await;
    let mut cfg = env.config.clone();
    cfg.common.table_name = Some("zonewarden-absent".into());
    let deps = Deps::with_sdk(
        cfg,
        &env.sdk,
        &[FamilyKind::CERTIFICATES],
        EmfSink::to_writer(Box::new(SharedBuf::default())),
    )
    .expect("deps");
    let err = handle(
        &deps,
        LambdaEvent::new(event("schedule.json"), ctx("nostore")),
    )
    .await
    .expect_err("fails");
    assert!(matches!(err, HandlerError::ScanFailed { .. }));
    assert_eq!(Diagnostic::from(err).error_type, "ScanFailed");
}

#[tokio::test]
async fn lambda_init_refuses_a_bad_configuration_listing_every_problem() {
    let err = Deps::from_vars(
        [
            ("AWS_REGION".to_string(), "eu-west-1".to_string()),
            ("ZW_EXPIRY_DAYS".to_string(), "soon".to_string()),
        ],
        &[FamilyKind::CERTIFICATES],
    )
    .await
    .expect_err("invalid");
    assert!(err.to_string().contains("ZW_EXPIRY_DAYS"), "{err}");
    let err = Deps::from_vars(
        [("AWS_REGION".to_string(), "eu-west-1".to_string())],
        &[FamilyKind::CERTIFICATES],
    )
    .await
    .expect_err("no table");
    assert!(err.to_string().contains("ZW_TABLE_NAME"), "{err}");
}
