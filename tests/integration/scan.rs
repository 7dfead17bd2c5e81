//! Whole scans against moto: real collectors, the DynamoDB store, PutMetricData.

use crate::support::{Env, TABLE, all_items, attr, config, items};
use std::collections::BTreeSet;
use zw_app::{App, FamilyKind, ScanOptions};
use zw_core::scan::ScanReport;
use zw_core::{FindingCode, ScanLabel, Severity, Sinks};
use zw_testkit::seed::{self, labels};

/// The certificate family through the application layer, as the CLI runs it.
async fn scan(env: &Env, app: &App, id: &str) -> ScanReport {
    let cloudwatch = app.services.cloudwatch(&env.sdk);
    app.scan(
        Sinks {
            store: app.services.store.as_ref(),
            metrics: Some(&cloudwatch),
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

fn app(env: &Env, cfg: &zw_core::Config) -> App {
    App::new(cfg.clone(), &env.sdk, &[FamilyKind::Certificates]).expect("app")
}

fn codes_for(report: &ScanReport, arn: &str) -> BTreeSet<FindingCode> {
    report
        .findings
        .iter()
        .filter(|f| f.resource.id == arn)
        .map(|f| f.code)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_estate_shows_each_seeded_problem_and_lands_in_dynamodb() {
    let (env, estate) = Env::with_demo_estate().await;
    let services = app(&env, &env.config);
    let report = scan(&env, &services, "it-1").await;
    assert!(report.scan.errors.is_empty(), "{:?}", report.scan.errors);
    assert_eq!(
        report.scan.count("certificates"),
        estate.certificates.len() as u64
    );

    let arn = |l: &str| {
        estate
            .arn(l)
            .unwrap_or_else(|| panic!("label {l}"))
            .to_owned()
    };
    use FindingCode::*;
    assert_eq!(
        codes_for(&report, &arn(labels::IMPORTED_EXPIRING_5D)),
        BTreeSet::from([CertImportedExpiring, CertUnused])
    );
    assert_eq!(
        codes_for(&report, &arn(labels::IMPORTED_EXPIRING_20D)),
        BTreeSet::from([CertImportedExpiring, CertUnused])
    );
    assert!(
        codes_for(&report, &arn(labels::VALIDATION_RECORD_DELETED))
            .contains(&CertValidationRecordMissing)
    );
    assert!(codes_for(&report, &arn(labels::NO_HOSTED_ZONE)).contains(&CertValidationZoneUnknown));
    assert!(!codes_for(&report, &arn(labels::HEALTHY)).contains(&CertValidationRecordMissing));
    assert!(codes_for(&report, &arn(labels::HEALTHY)).contains(&CertValidationRecordShared));
    assert!(codes_for(&report, &arn(labels::CLOUDFRONT_WWW)).contains(&CertValidationRecordShared));
    // Severity grading survives the round trip through real adapters.
    let five = report
        .findings
        .iter()
        .find(|f| {
            f.resource.id == arn(labels::IMPORTED_EXPIRING_5D) && f.code == CertImportedExpiring
        })
        .expect("5-day finding");
    assert_eq!(five.severity, Severity::Critical);
    let missing = report
        .findings
        .iter()
        .find(|f| f.code == CertValidationRecordMissing)
        .expect("missing record");
    assert!(
        missing.message.contains(&estate.zone_id),
        "names the zone: {}",
        missing.message
    );

    // The scan counts its own API calls: one listing per region, one describe
    // per certificate, one Route 53 zone listing, one record listing per zone.
    let calls = &report.scan.api_calls;
    assert_eq!(calls.get("acm:ListCertificates"), Some(&2), "{calls:?}");
    assert_eq!(
        calls.get("acm:DescribeCertificate"),
        Some(&(estate.certificates.len() as u64)),
        "{calls:?}"
    );
    assert_eq!(calls.get("route53:ListHostedZones"), Some(&1), "{calls:?}");
    assert_eq!(
        calls.get("route53:ListResourceRecordSets"),
        Some(&report.scan.count("validation_zones_listed")),
        "{calls:?}"
    );

    // Privacy boundary: every request of the scan went to the AWS endpoint
    // (here moto) and nowhere else.
    let endpoints = services.services.calls.endpoints();
    assert_eq!(endpoints, BTreeSet::from([env.moto.endpoint.to_owned()]));

    // DynamoDB: one current item per finding, one "opened" history entry each, one scan record.
    let ddb = env.ddb();
    let current = items(&ddb, "FINDING").await;
    assert_eq!(current.len(), report.findings.len());
    assert!(
        current
            .iter()
            .all(|i| attr(i, "state") == "open" && !i.contains_key("expires_at"))
    );
    let all = all_items(&ddb).await;
    let history: Vec<_> = all
        .iter()
        .filter(|i| attr(i, "item_type") == "history")
        .collect();
    assert_eq!(history.len(), report.findings.len());
    assert!(
        history
            .iter()
            .all(|i| attr(i, "transition") == "opened" && i.contains_key("expires_at"))
    );
    let scans: Vec<_> = all
        .iter()
        .filter(|i| attr(i, "item_type") == "scan")
        .collect();
    assert_eq!(scans.len(), 1);
    assert_eq!(attr(scans[0], "scan_id"), "it-1");

    // PutMetricData reached CloudWatch (moto stores data points; it evaluates no alarms).
    let cw = aws_sdk_cloudwatch::Client::new(&env.sdk);
    let listed = cw
        .list_metrics()
        .namespace("Zonewarden")
        .send()
        .await
        .expect("list_metrics");
    let names: BTreeSet<String> = listed
        .metrics()
        .iter()
        .filter_map(|m| m.metric_name().map(str::to_owned))
        .collect();
    // The default detail level publishes the fixed minimal set only (the
    // metric budget: at most 10 series, whatever the estate).
    // (LicenseInvalid: 0 here, the free tier; its alarm reads it.)
    let expected: BTreeSet<String> = [
        "OpenFindings",
        "MinDaysToExpiry",
        "ScanErrors",
        "LicenseInvalid",
    ]
    .map(str::to_owned)
    .into();
    assert_eq!(names, expected);
    // Every series names its stack (`ZW_STACK_NAME`, `local` here): the
    // alarms of a deployed stack read only their own stack's series.
    for m in listed.metrics() {
        let stack = m
            .dimensions()
            .iter()
            .find(|d| d.name() == Some("Stack"))
            .and_then(|d| d.value());
        assert_eq!(stack, Some("local"), "{m:?}");
    }
    assert!(
        listed.metrics().len() <= zw_core::metrics::MINIMAL_BUDGET,
        "{:?}",
        listed.metrics()
    );
    let min = report
        .metrics
        .data
        .iter()
        .find(|d| d.name == "MinDaysToExpiry" && d.dimension.is_none())
        .expect("min");
    assert_eq!(
        min.value, 4.0,
        "the 5-day import has 4 whole days left once seeding took a moment"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rescans_alert_once_and_a_restored_record_resolves_its_finding() {
    let (env, estate) = Env::with_demo_estate().await;
    let services = app(&env, &env.config);
    let first = scan(&env, &services, "it-a").await;
    let second = scan(&env, &services, "it-b").await;
    assert_eq!(second.scan.opened, 0, "nothing new on an unchanged estate");
    assert_eq!(second.findings.len(), first.findings.len());

    // Restore the deleted validation CNAME.
    let r53 = aws_sdk_route53::Client::new(&env.sdk);
    let acm = aws_sdk_acm::Client::from_conf(
        aws_sdk_acm::config::Builder::from(&env.sdk)
            .region(aws_sdk_acm::config::Region::new("eu-west-1"))
            .build(),
    );
    let arn = estate
        .arn(labels::VALIDATION_RECORD_DELETED)
        .expect("arn")
        .to_owned();
    seed::upsert_validation_records(&r53, &estate.zone_id, &acm, &arn)
        .await
        .expect("restore");
    let third = scan(&env, &services, "it-c").await;
    assert_eq!(third.scan.resolved, 1);
    assert!(
        !third
            .findings
            .iter()
            .any(|f| f.code == FindingCode::CertValidationRecordMissing)
    );

    let ddb = env.ddb();
    let current = items(&ddb, "FINDING").await;
    let resolved: Vec<_> = current
        .iter()
        .filter(|i| attr(i, "state") == "resolved")
        .collect();
    assert_eq!(resolved.len(), 1);
    assert_eq!(attr(resolved[0], "code"), "cert.validation-record-missing");
    assert!(
        resolved[0].contains_key("expires_at"),
        "resolved findings expire by TTL"
    );
    assert!(resolved[0].contains_key("resolved_at"));
    let history = all_items(&ddb).await;
    let transitions: Vec<&str> = history
        .iter()
        .filter(|i| attr(i, "item_type") == "history")
        .map(|i| attr(i, "transition"))
        .collect();
    assert_eq!(
        transitions.iter().filter(|t| **t == "opened").count(),
        first.findings.len()
    );
    assert_eq!(transitions.iter().filter(|t| **t == "resolved").count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_scans_at_once_write_each_finding_and_transition_once() {
    let (env, _estate) = Env::with_demo_estate().await;
    let (a, b) = (app(&env, &env.config), app(&env, &env.config));
    let (ra, rb) = tokio::join!(scan(&env, &a, "race-a"), scan(&env, &b, "race-b"));
    assert!(
        ra.scan.errors.is_empty() && rb.scan.errors.is_empty(),
        "{:?} {:?}",
        ra.scan.errors,
        rb.scan.errors
    );
    let ddb = env.ddb();
    let current = items(&ddb, "FINDING").await;
    assert_eq!(current.len(), ra.findings.len());
    let opened = all_items(&ddb)
        .await
        .into_iter()
        .filter(|i| attr(i, "transition") == "opened")
        .count();
    assert_eq!(
        opened,
        ra.findings.len(),
        "each finding opened exactly once"
    );
    assert_eq!(ra.scan.opened + rb.scan.opened, ra.findings.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_table_is_a_recorded_error_and_findings_are_still_reported() {
    let (env, _estate) = Env::with_demo_estate().await;
    let mut cfg = config(&[]);
    cfg.common.table_name = Some(format!("{TABLE}-absent"));
    let app = app(&env, &cfg);
    let report = app
        .scan(
            Sinks {
                store: app.services.store.as_ref(),
                metrics: None::<&zw_aws::metrics::CloudWatchSink>,
                events: None,
            },
            ScanLabel {
                scan_id: "no-table".into(),
                trigger: "test".into(),
            },
            &ScanOptions::default(),
        )
        .await;
    assert!(report.failed());
    assert!(!report.findings.is_empty());
    let e = report
        .scan
        .errors
        .iter()
        .find(|e| e.service == "dynamodb")
        .expect("store error");
    assert!(e.message.contains("does not exist"), "{}", e.message);
}

/// After a rollback, the table may hold items a newer version wrote: an
/// unknown code, or a known finding with a severity this version lacks.
/// Each is a recorded error and stays exactly as it is; the scan goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_this_version_cannot_read_are_left_alone_and_block_nothing() {
    let (env, estate) = Env::with_demo_estate().await;
    let services = app(&env, &env.config);
    let first = scan(&env, &services, "it-r1").await;
    assert!(!first.failed(), "{:?}", first.scan.errors);
    let ddb = env.ddb();
    let current = items(&ddb, "FINDING").await;
    // A known finding this scan will detect again, rewritten by "a newer
    // version" with a severity this one does not know.
    let mut newer = current
        .iter()
        .find(|i| attr(i, "state") == "open")
        .expect("an open finding")
        .clone();
    let newer_sk = attr(&newer, "sk").to_owned();
    newer.insert(
        "severity".into(),
        aws_sdk_dynamodb::types::AttributeValue::S("urgent".into()),
    );
    let mut future = newer.clone();
    future.insert(
        "sk".into(),
        aws_sdk_dynamodb::types::AttributeValue::S("cert.quantum-unsafe#arn:aws:acm:x".into()),
    );
    future.insert(
        "code".into(),
        aws_sdk_dynamodb::types::AttributeValue::S("cert.quantum-unsafe".into()),
    );
    for item in [&newer, &future] {
        ddb.put_item()
            .table_name(TABLE)
            .set_item(Some(item.clone()))
            .send()
            .await
            .expect("put");
    }

    let second = scan(&env, &services, "it-r2").await;
    assert!(!second.failed(), "{:?}", second.scan.errors);
    assert!(second.scan.stored, "{:?}", second.scan);
    let unreadable: Vec<&String> = second
        .scan
        .errors
        .iter()
        .map(|e| &e.message)
        .filter(|m| m.contains("cannot be read by this version"))
        .collect();
    assert_eq!(unreadable.len(), 2, "{:?}", second.scan.errors);
    assert!(
        unreadable.iter().any(|m| m.contains(&newer_sk)),
        "{unreadable:?}"
    );
    // Everything else was written as before; the two items are untouched.
    assert_eq!(second.scan.opened, 0, "{:?}", second.scan);
    let after = items(&ddb, "FINDING").await;
    for item in [&newer, &future] {
        let sk = attr(item, "sk");
        let now = after
            .iter()
            .find(|i| attr(i, "sk") == sk)
            .expect("still there");
        assert_eq!(now, item, "{sk} was written over");
    }
    drop(estate);
}
