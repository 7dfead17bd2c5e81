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
    App::new(cfg.clone(), &env.sdk, &[FamilyKind::CERTIFICATES]).expect("app")
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

/// A family whose outcome is fixed (`detected` findings of one certificate
/// region, which it covers), released only once `gate` opens: a scan that
/// collected before a fix but is slow to commit.
struct Observed {
    detected: Vec<zw_core::Detection>,
    gate: Option<std::sync::Arc<tokio::sync::Notify>>,
}

impl zw_core::Family for Observed {
    fn name(&self) -> &'static str {
        "certificates"
    }
    fn run(
        &self,
        _now: chrono::DateTime<chrono::Utc>,
    ) -> futures::future::BoxFuture<'_, zw_core::FamilyOutcome> {
        Box::pin(async move {
            if let Some(gate) = &self.gate {
                gate.notified().await;
            }
            let mut coverage = zw_core::reconcile::Coverage::default();
            coverage.insert(zw_core::Check::Certificates, "eu-west-1");
            zw_core::FamilyOutcome {
                coverage,
                detections: self.detected.clone(),
                ..zw_core::FamilyOutcome::default()
            }
        })
    }
}

fn expiring(id: &str) -> zw_core::Detection {
    zw_core::Detection {
        code: FindingCode::CertExpiring,
        severity: Severity::High,
        resource: zw_core::Resource {
            kind: zw_core::ResourceKind::AcmCertificate,
            id: format!("arn:aws:acm:eu-west-1:111122223333:certificate/{id}"),
            name: format!("{id}.example.com"),
        },
        region: zw_core::Region::parse("eu-west-1").expect("region"),
        scope: "eu-west-1".into(),
        message: format!("Certificate for {id}.example.com expires in 10 days"),
        evidence: serde_json::json!({"days_left": 10}),
    }
}

struct At(chrono::DateTime<chrono::Utc>);
impl zw_core::ports::Clock for At {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.0
    }
}

/// EventBridge as a list.
#[derive(Default)]
struct Sent(std::sync::Mutex<Vec<zw_core::notify::FindingEvent>>);
impl zw_core::ports::EventSink for Sent {
    fn send<'a>(
        &'a self,
        events: &'a [zw_core::notify::FindingEvent],
    ) -> futures::future::BoxFuture<'a, Vec<Result<(), zw_core::PortError>>> {
        Box::pin(async move {
            self.0.lock().expect("lock").extend(events.iter().cloned());
            events.iter().map(|_| Ok(())).collect()
        })
    }
}

/// The DynamoDB store, but its commit waits for `gate` and `loaded` is told
/// once it has read the current findings: a scan that planned before a
/// later scan committed.
struct Held<'a> {
    inner: &'a zw_aws::store::DynamoStore,
    loaded: std::sync::Arc<tokio::sync::Notify>,
    gate: std::sync::Arc<tokio::sync::Notify>,
}

impl zw_core::ports::FindingStore for Held<'_> {
    async fn load_current(&self) -> Result<zw_core::ports::CurrentFindings, zw_core::PortError> {
        let got = self.inner.load_current().await;
        self.loaded.notify_one();
        got
    }
    async fn load(
        &self,
        keys: &[zw_core::FindingKey],
    ) -> Result<Vec<zw_core::StoredFinding>, zw_core::PortError> {
        self.inner.load(keys).await
    }
    async fn commit(
        &self,
        scan_id: &str,
        changes: &[zw_core::reconcile::Change],
        announce: bool,
        stop: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<zw_core::ports::CommitOutcome, zw_core::PortError> {
        self.gate.notified().await;
        self.inner.commit(scan_id, changes, announce, stop).await
    }
    async fn record_scan(&self, scan: &zw_core::ScanRecord) -> Result<(), zw_core::PortError> {
        self.inner.record_scan(scan).await
    }
    async fn claim_events(
        &self,
        claimant: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<zw_core::notify::PendingEvent>, zw_core::PortError> {
        self.inner.claim_events(claimant, after, limit).await
    }
    async fn events_sent(&self, ids: &[String]) -> Result<(), zw_core::PortError> {
        self.inner.events_sent(ids).await
    }
    async fn release_events(
        &self,
        ids: &[String],
        claimant: &str,
    ) -> Result<(), zw_core::PortError> {
        self.inner.release_events(ids, claimant).await
    }
}

async fn observe<S: zw_core::ports::FindingStore>(
    store: &S,
    events: &Sent,
    family: &Observed,
    at: chrono::DateTime<chrono::Utc>,
    id: &str,
) -> ScanReport {
    zw_core::scan::run(
        &[family],
        Sinks {
            store: Some(store),
            metrics: None::<&zw_aws::metrics::CloudWatchSink>,
            events: Some(events),
        },
        &At(at),
        None,
        &config(&[]).common,
        ScanLabel {
            scan_id: id.into(),
            trigger: "test".into(),
        },
        None,
    )
    .await
}

/// Two overlapping scans against DynamoDB (moto): B starts after A and
/// resolves a fixed problem; A, which collected before the fix, commits
/// after B. Nothing is reopened and no Opened/Resolved pair goes out,
/// whether A read the table after B's commit (it sees B's newer judgement)
/// or before it (its conditional write fails, and the re-read says so).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_earlier_scan_committing_late_reopens_nothing_a_later_scan_resolved() {
    use std::sync::Arc;
    use tokio::sync::Notify;
    let env = Env::new().await;
    let store = zw_aws::store::DynamoStore::new(
        &env.sdk,
        TABLE.into(),
        90,
        &zw_aws::usage::ApiCallCounter::default(),
    );
    let events = Sent::default();
    let t0 = chrono::DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z")
        .expect("time")
        .with_timezone(&chrono::Utc);
    let seen = |ids: &[&str]| ids.iter().map(|id| expiring(id)).collect::<Vec<_>>();
    let first = observe(
        &store,
        &events,
        &Observed {
            detected: seen(&["late-read", "early-read"]),
            gate: None,
        },
        t0,
        "s0",
    )
    .await;
    assert_eq!(first.scan.opened, 2, "{:?}", first.scan);

    // A reads the table after B committed.
    let gate = Arc::new(Notify::new());
    let a_family = Observed {
        detected: seen(&["late-read", "early-read"]),
        gate: Some(gate.clone()),
    };
    let b_family = Observed {
        detected: seen(&["early-read"]),
        gate: None,
    };
    let a = observe(
        &store,
        &events,
        &a_family,
        t0 + chrono::Duration::minutes(60),
        "a1",
    );
    let b = async {
        let r = observe(
            &store,
            &events,
            &b_family,
            t0 + chrono::Duration::minutes(61),
            "b1",
        )
        .await;
        gate.notify_one();
        r
    };
    let (ra, rb) = tokio::join!(a, b);
    assert_eq!(rb.scan.resolved, 1, "{:?}", rb.scan);
    assert_eq!((ra.scan.opened, ra.scan.resolved), (0, 0), "{:?}", ra.scan);
    assert!(ra.scan.errors.is_empty(), "{:?}", ra.scan.errors);

    // A reads the table before B commits, and commits after it.
    let loaded = Arc::new(Notify::new());
    let gate = Arc::new(Notify::new());
    let held = Held {
        inner: &store,
        loaded: loaded.clone(),
        gate: gate.clone(),
    };
    let a_family = Observed {
        detected: seen(&["early-read"]),
        gate: None,
    };
    let b_family = Observed {
        detected: Vec::new(),
        gate: None,
    };
    let a = observe(
        &held,
        &events,
        &a_family,
        t0 + chrono::Duration::minutes(120),
        "a2",
    );
    let b = async {
        loaded.notified().await;
        let r = observe(
            &store,
            &events,
            &b_family,
            t0 + chrono::Duration::minutes(121),
            "b2",
        )
        .await;
        gate.notify_one();
        r
    };
    let (ra, rb) = tokio::join!(a, b);
    assert_eq!(rb.scan.resolved, 1, "{:?}", rb.scan);
    assert_eq!((ra.scan.opened, ra.scan.resolved), (0, 0), "{:?}", ra.scan);
    assert!(ra.scan.errors.is_empty(), "{:?}", ra.scan.errors);

    // Both findings stay resolved; each opened once and resolved once, in
    // the table's history and on the bus.
    let ddb = env.ddb();
    let current = items(&ddb, "FINDING").await;
    assert_eq!(current.len(), 2);
    for item in &current {
        assert_eq!(attr(item, "state"), "resolved", "{item:?}");
        assert!(item.contains_key("last_evaluated"), "{item:?}");
    }
    let transitions: Vec<(String, String)> = all_items(&ddb)
        .await
        .iter()
        .filter(|i| attr(i, "item_type") == "history")
        .map(|i| {
            (
                attr(i, "resource_name").to_owned(),
                attr(i, "transition").to_owned(),
            )
        })
        .collect();
    for name in ["late-read.example.com", "early-read.example.com"] {
        let mut of: Vec<&str> = transitions
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, t)| t.as_str())
            .collect();
        of.sort_unstable();
        assert_eq!(of, ["opened", "resolved"], "{name}: {transitions:?}");
    }
    let sent = events.0.lock().expect("lock");
    let kinds: Vec<&str> = sent.iter().map(|e| e.detail_type).collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == zw_core::notify::OPENED)
            .count(),
        2,
        "{kinds:?}"
    );
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == zw_core::notify::RESOLVED)
            .count(),
        2,
        "{kinds:?}"
    );
}

/// A certificate with thousands of names, served for 40 names of a zone
/// (none of which it covers): each of the 40 `tls.hostname-mismatch`
/// findings would carry every name twice (message and evidence) into its
/// item, its history entry and its transaction. DynamoDB refuses items over
/// 400 KB and transactions over 4 MB (moto refuses only the first: the
/// fault proxy adds the second, with DynamoDB's own error). Capped findings
/// and transactions split by size let every write land: the findings, their
/// history, the scan record, and the next scan's refresh.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_with_thousands_of_names_behind_many_records_writes_everything() {
    use aws_sdk_route53::types::{
        Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
    };
    let env = Env::new().await;
    let now = zw_core::ports::Clock::now(&zw_aws::SystemClock);
    let names: Vec<String> = (0..2_000)
        .map(|i| format!("n{i:04}.names.example.net"))
        .collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    // A trusted issuer: no `tls.untrusted-chain` beside each mismatch, so
    // that by count alone 25 mismatches would share one transaction.
    let ca = zw_testkit::certs::TestCa::new("zonewarden bulk test root", now).expect("CA");
    let roots = std::env::temp_dir().join(format!("zw-bulk-roots-{}.pem", std::process::id()));
    std::fs::write(&roots, ca.pem()).expect("roots file");
    let cert = ca
        .leaf(
            "bulk.names.example.net",
            &refs,
            now - chrono::Duration::days(1),
            now + chrono::Duration::days(200),
        )
        .expect("certificate");
    let hosts: Vec<String> = (0..40).map(|i| format!("h{i:02}.bulk.test")).collect();
    let server = zw_testkit::tls_lab::start(
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        zw_testkit::tls_lab::Behaviour::Serve(
            hosts
                .iter()
                .map(|h| (h.clone(), cert.clone(), Some(ca.pem())))
                .collect(),
        ),
    )
    .await
    .expect("TLS server");
    let r53 = aws_sdk_route53::Client::new(&env.sdk);
    let zone = zw_testkit::seed::create_zone(&r53, "bulk.test.")
        .await
        .expect("zone");
    let changes: Vec<Change> = hosts
        .iter()
        .map(|h| {
            let set = ResourceRecordSet::builder()
                .name(format!("{h}."))
                .r#type(RrType::A)
                .ttl(60)
                .resource_records(
                    ResourceRecord::builder()
                        .value("127.0.0.1")
                        .build()
                        .expect("rr"),
                )
                .build()
                .expect("set");
            Change::builder()
                .action(ChangeAction::Upsert)
                .resource_record_set(set)
                .build()
                .expect("change")
        })
        .collect();
    r53.change_resource_record_sets()
        .hosted_zone_id(&zone)
        .change_batch(
            ChangeBatch::builder()
                .set_changes(Some(changes))
                .build()
                .expect("batch"),
        )
        .send()
        .await
        .expect("records");

    let proxy = zw_testkit::fault_proxy::FaultProxy::dynamodb_limits(std::net::SocketAddr::from((
        [127, 0, 0, 1],
        env.moto.port(),
    )))
    .await
    .expect("proxy");
    let port = server.address.port().to_string();
    let roots_path = roots.display().to_string();
    let cfg = config(&[
        ("ZW_TLS_PORTS", &port),
        ("ZW_TLS_TIMEOUT_MS", "5000"),
        ("ZW_TLS_EXTRA_ROOTS", &roots_path),
        // The records lead to the loopback server.
        ("ZW_PROBE_ALLOW_CIDRS", "127.0.0.0/8"),
    ]);
    let sdk = env.sdk.to_builder().endpoint_url(proxy.url()).build();
    let app = App::new(cfg, &sdk, &[FamilyKind::ENDPOINTS]).expect("app");
    let run = |id: &'static str| {
        let app = &app;
        async move {
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
    };
    let first = run("bulk-1").await;
    assert!(first.scan.errors.is_empty(), "{:?}", first.scan.errors);
    assert!(first.scan.stored, "{:?}", first.scan);
    let mismatches: Vec<&zw_core::Finding> = first
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::TlsHostnameMismatch)
        .collect();
    let codes: Vec<&str> = first.findings.iter().map(|f| f.code.id()).collect();
    assert_eq!(mismatches.len(), hosts.len(), "{codes:?}");
    for f in &mismatches {
        assert!(
            f.message.ends_with(zw_core::finding::TRUNCATED_SUFFIX),
            "{}",
            f.message.len()
        );
        assert_eq!(f.evidence["names"]["truncated"], true, "{}", f.evidence);
        assert!(f.evidence["names"]["original_bytes"].as_u64() > Some(40_000));
        assert_eq!(
            f.evidence["host"],
            f.resource.name.split(':').next().unwrap_or_default()
        );
    }

    let ddb = env.ddb();
    let current = items(&ddb, "FINDING").await;
    assert_eq!(current.len(), first.findings.len(), "every finding landed");
    let all = all_items(&ddb).await;
    let history = all
        .iter()
        .filter(|i| attr(i, "item_type") == "history")
        .count();
    assert_eq!(history, first.scan.opened, "every history entry landed");
    assert!(
        all.iter()
            .any(|i| attr(i, "scan_id") == "bulk-1" && attr(i, "item_type") == "scan")
    );
    for item in &all {
        let bytes = zw_aws::store::item_bytes(item);
        assert!(bytes < 64 * 1024, "{} is {bytes} bytes", attr(item, "sk"));
    }

    // The next scan refreshes all of it, as one would expect of any scan.
    let second = run("bulk-2").await;
    assert!(second.scan.errors.is_empty(), "{:?}", second.scan.errors);
    assert!(second.scan.stored);
    assert_eq!(second.scan.opened, 0);
    assert_eq!(
        proxy
            .counts
            .too_large
            .load(std::sync::atomic::Ordering::SeqCst),
        0,
        "no transaction was over DynamoDB's limit"
    );
    drop(server);
    let _ = std::fs::remove_file(&roots);
}

/// The outbox is claimed a page at a time against DynamoDB: each page
/// starts after the last id of the one before, a claimed event is no other
/// scan's, and the pages together are the whole outbox, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_claims_page_through_dynamodb_after_the_last_id() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use zw_core::ports::FindingStore;
    let env = Env::new().await;
    let ddb = env.ddb();
    for i in 0..130 {
        let sk = format!("2026-11-23T10:00:00.000Z#k{i:03}");
        ddb.put_item()
            .table_name(TABLE)
            .item("pk", AttributeValue::S("OUTBOX".into()))
            .item("sk", AttributeValue::S(sk.clone()))
            .item("item_type", AttributeValue::S("event".into()))
            .item(
                "detail_type",
                AttributeValue::S(zw_core::notify::OPENED.into()),
            )
            .item("detail", AttributeValue::S("{}".into()))
            .item("event_key", AttributeValue::S(sk))
            .item("at", AttributeValue::S("2026-11-23T10:00:00.000Z".into()))
            .send()
            .await
            .expect("put");
    }
    let store = zw_aws::store::DynamoStore::new(
        &env.sdk,
        TABLE.into(),
        90,
        &zw_aws::usage::ApiCallCounter::default(),
    );
    let first = store
        .claim_events("scan-a", None, 100)
        .await
        .expect("page 1");
    assert_eq!(first.len(), 100);
    let last = first.last().map(|p| p.id.clone()).expect("last");
    assert_eq!(last, "2026-11-23T10:00:00.000Z#k099");
    let second = store
        .claim_events("scan-a", Some(&last), 100)
        .await
        .expect("page 2");
    assert_eq!(second.len(), 30);
    assert_eq!(second[0].id, "2026-11-23T10:00:00.000Z#k100");
    // Claimed by scan-a: nothing for another scan until the claims expire.
    assert!(
        store
            .claim_events("scan-b", None, 100)
            .await
            .expect("b")
            .is_empty()
    );
}
