//! Orchestration tests with in-memory fakes that keep real semantics: the
//! store honours conditional writes the way DynamoDB does, and yields between
//! calls so that two scans really interleave.

use crate::config::Config;
use crate::families::certificates::CertificateFamily;
use crate::families::dns::model::DnssecStatus;
use crate::finding::{FindingKey, FindingState, ResourceKind, StoredFinding};
use crate::metrics::{self, MetricBatch};
use crate::model::{
    Certificate, CertificateKind, CertificateStatus, DomainValidation, HostedZone, RecordSet,
    Region, RenewalEligibility, ValidationMethod, ValidationRecord,
};
use crate::notify::{self, FindingEvent, PendingEvent};
use crate::ports::{
    CertificateSource, Clock, CommitOutcome, CurrentFindings, ErrorKind, EventSink, FindingStore,
    MetricSink, PortError, RegionCertificates, ZoneSource,
};
use crate::reconcile::{Change, Transition};
use crate::record::ScanRecord;
use crate::scan::{self, ScanLabel, ScanReport, Sinks};
use crate::{FindingCode, Severity};
use chrono::{DateTime, Duration, TimeZone, Utc};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// Gives other futures a turn, so concurrent scans interleave at every call.
async fn yield_now() {
    tokio::task::yield_now().await;
}

struct FixedClock(Mutex<DateTime<Utc>>);
impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("lock")
    }
}
fn clock(at: DateTime<Utc>) -> FixedClock {
    FixedClock(Mutex::new(at))
}

#[derive(Default)]
struct FakeAcm(HashMap<String, Result<Vec<Certificate>, PortError>>);
impl CertificateSource for FakeAcm {
    async fn certificates(
        &self,
        region: &Region,
        _stop: Option<std::time::Instant>,
    ) -> Result<RegionCertificates, PortError> {
        yield_now().await;
        let listed = self
            .0
            .get(region.as_str())
            .cloned()
            .unwrap_or_else(|| Ok(Vec::new()))?;
        // A certificate whose name starts with `undescribable` is listed but
        // fails to describe; one starting with `unreached` is listed but not
        // reached before the stop.
        let (unvisited, listed): (Vec<Certificate>, Vec<Certificate>) = listed
            .into_iter()
            .partition(|c| c.domain_name.starts_with("unreached"));
        let (failed, certificates): (Vec<Certificate>, Vec<Certificate>) = listed
            .into_iter()
            .partition(|c| c.domain_name.starts_with("undescribable"));
        Ok(RegionCertificates {
            certificates,
            unvisited: unvisited.into_iter().map(|c| c.arn).collect(),
            failed: failed
                .into_iter()
                .map(|c| {
                    let e = PortError::new(
                        "acm",
                        "DescribeCertificate",
                        ErrorKind::Transient,
                        format!("{}: still throttled after retries", c.arn),
                    );
                    (c.arn, e)
                })
                .collect(),
        })
    }
}

#[derive(Default)]
struct FakeRoute53 {
    zones: Vec<HostedZone>,
    records: HashMap<String, Result<Vec<RecordSet>, PortError>>,
    fail_zones: bool,
}
impl ZoneSource for FakeRoute53 {
    async fn hosted_zones(&self) -> Result<Vec<HostedZone>, PortError> {
        yield_now().await;
        if self.fail_zones {
            return Err(PortError::new(
                "route53",
                "ListHostedZones",
                ErrorKind::AccessDenied,
                "denied",
            ));
        }
        Ok(self.zones.clone())
    }
    async fn record_sets(&self, zone_id: &str) -> Result<Vec<RecordSet>, PortError> {
        yield_now().await;
        self.records
            .get(zone_id)
            .cloned()
            .unwrap_or_else(|| Ok(Vec::new()))
    }
    async fn name_servers(&self, _zone_id: &str) -> Result<Vec<String>, PortError> {
        Ok(vec!["ns-1.awsdns-01.com.".into()])
    }
    async fn dnssec(&self, _zone_id: &str) -> Result<DnssecStatus, PortError> {
        Ok(DnssecStatus::default())
    }
    async fn record_set_limit(&self, _zone_id: &str) -> Result<u64, PortError> {
        Ok(10_000)
    }
}

/// A clock tests move: `advance` by hand, or `step` on every reading (time
/// that passes while a scan works). `sleep_until` wakes once it reads past
/// its time.
#[derive(Clone)]
struct TestClock {
    now: std::sync::Arc<Mutex<DateTime<Utc>>>,
    step: Duration,
}
impl TestClock {
    fn at(t: DateTime<Utc>) -> Self {
        Self {
            now: std::sync::Arc::new(Mutex::new(t)),
            step: Duration::zero(),
        }
    }
    fn advance(&self, by: Duration) {
        *self.now.lock().expect("lock") += by;
    }
}
impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        let mut now = self.now.lock().expect("lock");
        let t = *now;
        *now += self.step;
        t
    }
    fn sleep_until(&self, at: DateTime<Utc>) -> futures::future::BoxFuture<'static, ()> {
        let clock = self.clone();
        Box::pin(async move {
            while clock.now() < at {
                yield_now().await;
            }
        })
    }
}

#[derive(Default)]
struct MemoryStore {
    items: Mutex<BTreeMap<FindingKey, StoredFinding>>,
    history: Mutex<Vec<(FindingKey, &'static str)>>,
    scans: Mutex<Vec<ScanRecord>>,
    fail_load: bool,
    /// Commits stop with an error once this many changes were written.
    fail_after: Option<usize>,
    outbox: Mutex<BTreeMap<String, FindingEvent>>,
    /// Time that passes: a second per change written and per page of
    /// events claimed.
    clock: Option<TestClock>,
    /// Commits never finish (a store that hangs).
    hang_commit: bool,
    /// Each claim: (after, limit, how many were claimed).
    claims: Mutex<Vec<(Option<String>, usize, usize)>>,
    /// The suppressions `load_current` returns.
    triage: Mutex<crate::triage::Triage>,
}
impl MemoryStore {
    fn tick(&self) {
        if let Some(c) = &self.clock {
            c.advance(Duration::seconds(1));
        }
    }
    fn past(&self, stop: Option<DateTime<Utc>>) -> bool {
        match (&self.clock, stop) {
            (Some(c), Some(stop)) => *c.now.lock().expect("lock") >= stop,
            _ => false,
        }
    }
}
impl FindingStore for MemoryStore {
    async fn load_current(&self) -> Result<CurrentFindings, PortError> {
        yield_now().await;
        if self.fail_load {
            return Err(PortError::new(
                "dynamodb",
                "Query",
                ErrorKind::Unreachable,
                "connection refused",
            ));
        }
        Ok(CurrentFindings {
            findings: self.items.lock().expect("lock").values().cloned().collect(),
            unreadable: Vec::new(),
            triage: self.triage.lock().expect("lock").clone(),
        })
    }
    async fn load(&self, keys: &[FindingKey]) -> Result<Vec<StoredFinding>, PortError> {
        yield_now().await;
        let items = self.items.lock().expect("lock");
        Ok(keys.iter().filter_map(|k| items.get(k).cloned()).collect())
    }
    async fn commit(
        &self,
        scan_id: &str,
        changes: &[Change],
        announce: bool,
        stop: Option<DateTime<Utc>>,
    ) -> Result<CommitOutcome, PortError> {
        yield_now().await;
        if self.hang_commit {
            futures::future::pending::<()>().await;
        }
        let mut items = self.items.lock().expect("lock");
        let mut out = CommitOutcome::default();
        for (i, c) in changes.iter().enumerate() {
            if self.past(stop) {
                out.unwritten = changes[i..].iter().map(Change::key).collect();
                out.failed = Some(PortError::new(
                    "dynamodb",
                    "TransactWriteItems",
                    ErrorKind::Transient,
                    "the invocation's end was near",
                ));
                break;
            }
            if self.fail_after.is_some_and(|n| out.applied >= n) {
                out.unwritten = changes[i..].iter().map(Change::key).collect();
                out.failed = Some(PortError::new(
                    "dynamodb",
                    "TransactWriteItems",
                    ErrorKind::Throttled,
                    "throughput exceeded",
                ));
                break;
            }
            // DynamoDB's condition: the version planned from, judged by a
            // scan that started no later than this one.
            let current = items.get(&c.key());
            if current.map(|s| s.version) != c.expected_version
                || current.is_some_and(|s| s.evaluated_at > c.evaluated_at)
            {
                out.conflicts.push(c.key());
                continue;
            }
            items.insert(
                c.key(),
                StoredFinding {
                    finding: c.finding.clone(),
                    version: c.version,
                    evaluated_at: c.evaluated_at,
                },
            );
            self.tick();
            if let Some(t) = c.transition {
                self.history
                    .lock()
                    .expect("lock")
                    .push((c.key(), t.as_str()));
            }
            if announce && let Some(e) = notify::event_for(c, scan_id) {
                self.outbox
                    .lock()
                    .expect("lock")
                    .insert(e.event_key.clone(), e);
            }
            out.applied += 1;
        }
        Ok(out)
    }
    async fn record_scan(&self, scan: &ScanRecord) -> Result<(), PortError> {
        self.scans.lock().expect("lock").push(scan.clone());
        Ok(())
    }
    async fn claim_events(
        &self,
        _claimant: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<PendingEvent>, PortError> {
        // One scan at a time here: claims are the DynamoDB store's (moto test).
        let page: Vec<PendingEvent> = self
            .outbox
            .lock()
            .expect("lock")
            .iter()
            .filter(|(id, _)| after.is_none_or(|a| id.as_str() > a))
            .take(limit)
            .map(|(id, event)| PendingEvent {
                id: id.clone(),
                event: event.clone(),
            })
            .collect();
        self.claims
            .lock()
            .expect("lock")
            .push((after.map(str::to_owned), limit, page.len()));
        self.tick();
        Ok(page)
    }
    async fn release_events(&self, _ids: &[String], _claimant: &str) -> Result<(), PortError> {
        Ok(())
    }
    async fn events_sent(&self, ids: &[String]) -> Result<(), PortError> {
        let mut outbox = self.outbox.lock().expect("lock");
        for id in ids {
            outbox.remove(id);
        }
        Ok(())
    }
}

/// EventBridge as a list; `fail` makes every send fail (an outage).
#[derive(Default)]
struct RecordingEvents {
    sent: Mutex<Vec<FindingEvent>>,
    fail: std::sync::atomic::AtomicBool,
}
impl EventSink for RecordingEvents {
    fn send<'a>(
        &'a self,
        events: &'a [FindingEvent],
    ) -> futures::future::BoxFuture<'a, Vec<Result<(), PortError>>> {
        Box::pin(async move {
            if self.fail.load(std::sync::atomic::Ordering::SeqCst) {
                return events
                    .iter()
                    .map(|_| {
                        Err(PortError::new(
                            "events",
                            "PutEvents",
                            ErrorKind::Throttled,
                            "rate exceeded",
                        ))
                    })
                    .collect();
            }
            self.sent
                .lock()
                .expect("lock")
                .extend(events.iter().cloned());
            events.iter().map(|_| Ok(())).collect()
        })
    }
}

#[derive(Default)]
struct RecordingSink(Mutex<Vec<MetricBatch>>);
impl MetricSink for RecordingSink {
    async fn publish(&self, batch: &MetricBatch) -> Result<(), PortError> {
        self.0.lock().expect("lock").push(batch.clone());
        Ok(())
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0)
        .single()
        .expect("valid")
}

fn config() -> Config {
    Config::from_vars([
        ("ZW_REGIONS", "eu-west-1,us-east-1"),
        ("ZW_TABLE_NAME", "zw-findings"),
        ("ZW_METRICS_DETAIL", "full"),
    ])
    .expect("valid")
}

fn cert(region: &str, id: &str, kind: CertificateKind, days: i64) -> Certificate {
    Certificate {
        arn: format!("arn:aws:acm:{region}:111122223333:certificate/{id}"),
        region: Region::parse(region).expect("region"),
        domain_name: format!("{id}.example.com"),
        subject_alternative_names: vec![],
        kind,
        status: CertificateStatus::Issued,
        key_algorithm: None,
        not_before: None,
        not_after: Some(t0() + Duration::days(days)),
        created_at: None,
        imported_at: None,
        failure_reason: None,
        revocation_reason: None,
        in_use_by: vec!["arn:aws:cloudfront::111122223333:distribution/E1".into()],
        renewal_eligibility: Some(RenewalEligibility::Eligible),
        renewal: None,
        domain_validations: vec![],
        serial: None,
        issuer_ca_arn: None,
    }
}

fn dns_cert(region: &str, id: &str, record: &str) -> Certificate {
    let mut c = cert(region, id, CertificateKind::AmazonIssued, 200);
    c.domain_validations = vec![DomainValidation {
        domain: format!("{id}.example.com"),
        method: Some(ValidationMethod::Dns),
        record: Some(ValidationRecord {
            name: record.into(),
            value: format!("{id}.acm-validations.aws."),
        }),
    }];
    c
}

fn estate() -> (FakeAcm, FakeRoute53) {
    let acm = FakeAcm(HashMap::from([
        (
            "eu-west-1".to_string(),
            Ok(vec![
                cert("eu-west-1", "soon", CertificateKind::Imported, 5),
                dns_cert("eu-west-1", "dns", "_a.dns.example.com."),
                cert("eu-west-1", "fine", CertificateKind::AmazonIssued, 300),
            ]),
        ),
        (
            "us-east-1".to_string(),
            Ok(vec![cert(
                "us-east-1",
                "cf",
                CertificateKind::AmazonIssued,
                10,
            )]),
        ),
    ]));
    let r53 = FakeRoute53 {
        zones: vec![HostedZone {
            id: "Z1".into(),
            name: "example.com.".into(),
            private: false,
            record_set_count: 3,
        }],
        records: HashMap::new(),
        fail_zones: false,
    };
    (acm, r53)
}

async fn run(
    acm: &FakeAcm,
    r53: &FakeRoute53,
    store: &MemoryStore,
    at: DateTime<Utc>,
    id: &str,
) -> ScanReport {
    let sink = RecordingSink::default();
    certificate_scan(
        acm,
        r53,
        Sinks {
            store: Some(store),
            metrics: Some(&sink),
            events: None,
        },
        at,
        &config(),
        id,
        "test",
    )
    .await
}

async fn run_notifying(
    acm: &FakeAcm,
    r53: &FakeRoute53,
    store: &MemoryStore,
    events: &RecordingEvents,
    at: DateTime<Utc>,
    id: &str,
) -> ScanReport {
    certificate_scan(
        acm,
        r53,
        Sinks {
            store: Some(store),
            metrics: None,
            events: Some(events),
        },
        at,
        &config(),
        id,
        "test",
    )
    .await
}

#[tokio::test]
async fn one_event_per_transition_none_for_a_rescan_and_an_outage_loses_none() {
    let (mut acm, r53) = estate();
    let store = MemoryStore::default();
    let events = RecordingEvents::default();
    let first = run_notifying(&acm, &r53, &store, &events, t0(), "n1").await;
    assert!(first.scan.errors.is_empty(), "{:?}", first.scan.errors);
    let opened: Vec<FindingEvent> = events.sent.lock().expect("lock").clone();
    assert_eq!(opened.len(), first.scan.opened, "{opened:?}");
    assert!(opened.len() >= 2, "the estate has problems: {opened:?}");
    assert!(opened.iter().all(|e| e.detail_type == notify::OPENED));
    assert_eq!(
        first.scan.counts.get("events_sent"),
        Some(&(opened.len() as u64))
    );

    // Nothing changed: nothing to say.
    let again = run_notifying(&acm, &r53, &store, &events, t0() + Duration::hours(1), "n2").await;
    assert_eq!(again.scan.counts.get("events_sent"), Some(&0));
    assert_eq!(events.sent.lock().expect("lock").len(), opened.len());

    // `soon` is fixed while EventBridge is down: the resolve waits in the
    // outbox, the scan says so, and the next scan sends it once.
    let soon = "arn:aws:acm:eu-west-1:111122223333:certificate/soon";
    if let Some(Ok(certs)) = acm.0.get_mut("eu-west-1") {
        certs.retain(|c| c.arn != soon);
    }
    events.fail.store(true, std::sync::atomic::Ordering::SeqCst);
    let down = run_notifying(&acm, &r53, &store, &events, t0() + Duration::hours(2), "n3").await;
    assert!(down.scan.resolved >= 1, "{:?}", down.scan);
    assert_eq!(
        down.scan.counts.get("events_pending"),
        Some(&(down.scan.resolved as u64))
    );
    assert!(
        down.scan
            .errors
            .iter()
            .any(|e| e.message.contains("next scan sends them")),
        "{:?}",
        down.scan.errors
    );
    events
        .fail
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let up = run_notifying(&acm, &r53, &store, &events, t0() + Duration::hours(3), "n4").await;
    assert!(up.scan.errors.is_empty(), "{:?}", up.scan.errors);
    let sent = events.sent.lock().expect("lock").clone();
    let resolves: Vec<&FindingEvent> = sent
        .iter()
        .filter(|e| e.detail_type == notify::RESOLVED)
        .collect();
    assert_eq!(resolves.len(), down.scan.resolved, "{sent:?}");
    assert!(resolves.iter().all(|e| e.event_key.contains(soon)));
    let keys: std::collections::BTreeSet<&str> =
        sent.iter().map(|e| e.event_key.as_str()).collect();
    assert_eq!(keys.len(), sent.len(), "none sent twice");
    assert!(store.outbox.lock().expect("lock").is_empty());
}

/// The certificate family through the spine, as the CLI and functions run it.
async fn certificate_scan(
    acm: &FakeAcm,
    r53: &FakeRoute53,
    sinks: Sinks<'_, MemoryStore, RecordingSink>,
    at: DateTime<Utc>,
    cfg: &Config,
    id: &str,
    trigger: &str,
) -> ScanReport {
    let family = CertificateFamily {
        certificates: acm,
        zones: r53,
        organization: None,
        regions: &cfg.common.regions,
        config: &cfg.certificates,
        retire_unmonitored: true,
        stop: None,
    };
    scan::run(
        &[&family],
        sinks,
        &clock(at),
        None,
        &cfg.common,
        ScanLabel {
            scan_id: id.into(),
            trigger: trigger.into(),
        },
        None,
    )
    .await
}

/// A scan with no store and no metric sink, as `--no-write` runs it.
async fn read_only(acm: &FakeAcm, r53: &FakeRoute53, cfg: &Config) -> ScanReport {
    certificate_scan(
        acm,
        r53,
        Sinks {
            store: None,
            metrics: None,
            events: None,
        },
        t0(),
        cfg,
        "read-only",
        "cli",
    )
    .await
}

fn codes(r: &ScanReport) -> Vec<(String, FindingCode, Severity)> {
    r.findings
        .iter()
        .map(|f| (f.resource.name.clone(), f.code, f.severity))
        .collect()
}

#[tokio::test]
async fn a_scan_finds_each_problem_across_regions() {
    let (acm, r53) = estate();
    let store = MemoryStore::default();
    let r = run(&acm, &r53, &store, t0(), "s1").await;
    assert_eq!(
        codes(&r),
        vec![
            (
                "soon.example.com".to_string(),
                FindingCode::CertImportedExpiring,
                Severity::Critical
            ),
            (
                "cf.example.com".to_string(),
                FindingCode::CertExpiring,
                Severity::High
            ),
            (
                "dns.example.com".to_string(),
                FindingCode::CertValidationRecordMissing,
                Severity::High
            ),
        ]
    );
    assert_eq!(r.scan.count("certificates"), 4);
    assert_eq!(r.scan.families, ["certificates"]);
    assert_eq!(r.scan.opened, 3);
    assert!(r.scan.errors.is_empty());
    assert!(r.scan.stored);
    assert_eq!(store.items.lock().expect("lock").len(), 3);
    assert_eq!(store.scans.lock().expect("lock").len(), 1);
    assert!(!r.failed());
}

#[tokio::test]
async fn a_fixed_problem_is_resolved_and_alerts_once() {
    let (mut acm, mut r53) = estate();
    let store = MemoryStore::default();
    run(&acm, &r53, &store, t0(), "s1").await;
    let again = run(&acm, &r53, &store, t0() + Duration::hours(1), "s2").await;
    assert_eq!(again.scan.opened, 0, "no new alert for the same problems");
    // Fix: record restored, imported cert re-imported far out.
    r53.records.insert(
        "Z1".into(),
        Ok(vec![RecordSet::simple(
            "_a.dns.example.com.",
            "CNAME",
            &["dns.acm-validations.aws."],
        )]),
    );
    acm.0.insert(
        "eu-west-1".into(),
        Ok(vec![
            cert("eu-west-1", "soon", CertificateKind::Imported, 365),
            dns_cert("eu-west-1", "dns", "_a.dns.example.com."),
        ]),
    );
    let fixed = run(&acm, &r53, &store, t0() + Duration::hours(2), "s3").await;
    assert_eq!(fixed.scan.resolved, 2);
    assert_eq!(
        codes(&fixed).len(),
        1,
        "only the us-east-1 finding stays open"
    );
    let items = store.items.lock().expect("lock");
    let resolved: Vec<_> = items
        .values()
        .filter(|s| s.finding.state == FindingState::Resolved)
        .collect();
    assert_eq!(resolved.len(), 2);
    let history = store.history.lock().expect("lock");
    let opened = history.iter().filter(|(_, t)| *t == "opened").count();
    let closed = history.iter().filter(|(_, t)| *t == "resolved").count();
    assert_eq!((opened, closed), (3, 2));
}

#[tokio::test]
async fn a_failing_region_is_recorded_and_hides_nothing_else() {
    let (mut acm, r53) = estate();
    let store = MemoryStore::default();
    run(&acm, &r53, &store, t0(), "s1").await;
    acm.0.insert(
        "us-east-1".into(),
        Err(PortError::new(
            "acm",
            "ListCertificates",
            ErrorKind::AccessDenied,
            "not authorized",
        )),
    );
    let r = run(&acm, &r53, &store, t0() + Duration::hours(1), "s2").await;
    assert_eq!(r.scan.errors.len(), 1);
    assert_eq!(r.scan.errors[0].region.as_str(), "us-east-1");
    // The adapter's message (with its hint) is kept as it was written.
    assert_eq!(r.scan.errors[0].message, "not authorized");
    // eu-west-1 results landed; the us-east-1 finding was neither lost nor resolved.
    assert_eq!(r.scan.resolved, 0);
    assert_eq!(codes(&r).len(), 3);
    assert!(
        !r.failed(),
        "one region of two failing is partial, not failed"
    );
    assert!(
        r.metrics
            .data
            .iter()
            .any(|d| d.name == metrics::SCAN_ERRORS && d.value == 1.0)
    );
}

#[tokio::test]
async fn route53_failure_keeps_validation_findings_open() {
    let (acm, mut r53) = estate();
    let store = MemoryStore::default();
    run(&acm, &r53, &store, t0(), "s1").await;
    r53.fail_zones = true;
    let r = run(&acm, &r53, &store, t0() + Duration::hours(1), "s2").await;
    assert_eq!(r.scan.resolved, 0);
    assert!(
        codes(&r)
            .iter()
            .any(|(_, c, _)| *c == FindingCode::CertValidationRecordMissing)
    );
    assert_eq!(r.scan.errors[0].service, "route53");
}

#[tokio::test]
async fn two_scans_at_once_produce_no_duplicate_findings_or_alerts() {
    let (acm, r53) = estate();
    let store = MemoryStore::default();
    let (a, b) = tokio::join!(
        run(&acm, &r53, &store, t0(), "a"),
        run(&acm, &r53, &store, t0(), "b"),
    );
    assert_eq!(store.items.lock().expect("lock").len(), 3);
    let history = store.history.lock().expect("lock");
    let opened = history.iter().filter(|(_, t)| *t == "opened").count();
    assert_eq!(opened, 3, "each finding opened exactly once: {history:?}");
    assert_eq!(a.scan.opened + b.scan.opened, 3);
    assert_eq!(codes(&a), codes(&b));
}

#[tokio::test]
async fn store_down_still_reports_findings_and_fails_the_scan() {
    let (acm, r53) = estate();
    let store = MemoryStore {
        fail_load: true,
        ..Default::default()
    };
    let r = run(&acm, &r53, &store, t0(), "s1").await;
    assert_eq!(codes(&r).len(), 3);
    assert!(!r.scan.stored);
    assert!(r.failed());
    assert!(r.scan.errors.iter().any(|e| e.service == "dynamodb"));
}

#[tokio::test]
async fn read_only_scan_writes_nothing() {
    let (acm, r53) = estate();
    let r = read_only(&acm, &r53, &config()).await;
    assert_eq!(codes(&r).len(), 3);
    assert!(!r.scan.stored);
    assert!(!r.failed());
}

#[tokio::test]
async fn metrics_cover_every_severity_and_only_open_codes() {
    let (acm, r53) = estate();
    let store = MemoryStore::default();
    let r = run(&acm, &r53, &store, t0(), "s1").await;
    let by = |name: &str, dim: Option<&str>| -> Vec<f64> {
        r.metrics
            .data
            .iter()
            .filter(|d| d.name == name && d.dimension.as_ref().map(|(_, v)| v.as_str()) == dim)
            .map(|d| d.value)
            .collect()
    };
    assert_eq!(by(metrics::OPEN_FINDINGS, Some("critical")), [1.0]);
    assert_eq!(by(metrics::OPEN_FINDINGS, Some("high")), [2.0]);
    assert_eq!(by(metrics::OPEN_FINDINGS, Some("info")), [0.0]);
    assert_eq!(
        by(metrics::OPEN_FINDINGS_BY_CODE, Some("cert.expiring")),
        [1.0]
    );
    assert_eq!(
        by(metrics::OPEN_FINDINGS_BY_CODE, Some("cert.unused")),
        Vec::<f64>::new()
    );
    assert_eq!(by(metrics::CERTIFICATES_MONITORED, None), [4.0]);
    assert_eq!(by(metrics::MIN_DAYS_TO_EXPIRY, None), [5.0]);
    assert_eq!(by(metrics::MIN_DAYS_TO_EXPIRY, Some("us-east-1")), [10.0]);
    assert_eq!(by(metrics::MIN_DAYS_TO_EXPIRY, Some("eu-west-1")), [5.0]);
    assert!(
        r.metrics
            .data
            .iter()
            .all(|d| d.name != metrics::DAYS_TO_EXPIRY),
        "per-certificate metrics are opt-in"
    );
}

#[tokio::test]
async fn severity_change_is_recorded_in_history() {
    let (mut acm, r53) = estate();
    let store = MemoryStore::default();
    run(&acm, &r53, &store, t0(), "s1").await;
    acm.0.insert(
        "us-east-1".into(),
        Ok(vec![cert(
            "us-east-1",
            "cf",
            CertificateKind::AmazonIssued,
            3,
        )]),
    );
    run(&acm, &r53, &store, t0() + Duration::hours(1), "s2").await;
    let history = store.history.lock().expect("lock");
    assert!(history.iter().any(|(k, t)| {
        *t == Transition::SeverityChanged {
            from: Severity::High,
        }
        .as_str()
            && k.code == FindingCode::CertExpiring
    }));
}

#[tokio::test]
async fn per_certificate_metrics_cover_only_certificates_with_open_findings() {
    let (acm, r53) = estate();
    let mut cfg = config();
    cfg.certificates.per_certificate_metrics = true;
    let r = read_only(&acm, &r53, &cfg).await;
    let mut per_cert: Vec<(String, f64)> = r
        .metrics
        .data
        .iter()
        .filter(|d| d.name == metrics::DAYS_TO_EXPIRY)
        .map(|d| {
            (
                d.dimension
                    .as_ref()
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default(),
                d.value,
            )
        })
        .collect();
    per_cert.sort_by(|a, b| a.0.cmp(&b.0));
    // "fine" (300 days, no finding) gets no series; the three with findings do.
    assert_eq!(
        per_cert,
        vec![
            (
                "arn:aws:acm:eu-west-1:111122223333:certificate/dns".to_string(),
                200.0
            ),
            (
                "arn:aws:acm:eu-west-1:111122223333:certificate/soon".to_string(),
                5.0
            ),
            (
                "arn:aws:acm:us-east-1:111122223333:certificate/cf".to_string(),
                10.0
            ),
        ]
    );
}

/// The scan as the functions run it (`retire`) or as the CLI does.
async fn scan_regions(
    acm: &FakeAcm,
    r53: &FakeRoute53,
    store: &MemoryStore,
    regions: &str,
    retire: bool,
    at: DateTime<Utc>,
) -> ScanReport {
    let cfg = Config::from_vars([("ZW_REGIONS", regions), ("ZW_TABLE_NAME", "zw-findings")])
        .expect("valid");
    let family = CertificateFamily {
        certificates: acm,
        zones: r53,
        organization: None,
        regions: &cfg.common.regions,
        config: &cfg.certificates,
        retire_unmonitored: retire,
        stop: None,
    };
    scan::run(
        &[&family],
        Sinks {
            store: Some(store),
            metrics: None::<&RecordingSink>,
            events: None,
        },
        &clock(at),
        None,
        &cfg.common,
        ScanLabel {
            scan_id: format!("{regions}-{retire}"),
            trigger: "test".into(),
        },
        None,
    )
    .await
}

#[tokio::test]
async fn findings_of_a_region_taken_out_of_the_configuration_resolve_as_no_longer_monitored() {
    let (acm, r53) = estate();
    let store = MemoryStore::default();
    let both = scan_regions(&acm, &r53, &store, "eu-west-1,us-east-1", true, t0()).await;
    let cf = "arn:aws:acm:us-east-1:111122223333:certificate/cf";
    assert!(
        both.findings.iter().any(|f| f.resource.id == cf),
        "{:?}",
        codes(&both)
    );
    // A CLI run narrowed to one region is not a new configuration.
    let narrowed = scan_regions(
        &acm,
        &r53,
        &store,
        "eu-west-1",
        false,
        t0() + Duration::hours(1),
    )
    .await;
    assert_eq!(narrowed.scan.resolved, 0, "{:?}", narrowed.scan);
    // The stack's configuration drops us-east-1: its findings resolve, saying why.
    let dropped = scan_regions(
        &acm,
        &r53,
        &store,
        "eu-west-1",
        true,
        t0() + Duration::hours(2),
    )
    .await;
    assert!(dropped.scan.resolved >= 1, "{:?}", dropped.scan);
    assert!(!dropped.findings.iter().any(|f| f.resource.id == cf));
    let items = store.items.lock().expect("lock");
    let gone: Vec<&StoredFinding> = items
        .values()
        .filter(|s| s.finding.resource.id == cf)
        .collect();
    assert!(!gone.is_empty());
    for s in gone {
        assert_eq!(s.finding.state, FindingState::Resolved);
        assert_eq!(
            s.finding.evidence["resolution"],
            crate::reconcile::NO_LONGER_MONITORED
        );
    }
    // eu-west-1's findings are untouched by the retirement.
    assert!(
        items
            .values()
            .any(|s| s.finding.region.as_str() == "eu-west-1"
                && s.finding.state == FindingState::Open)
    );
}

#[tokio::test]
async fn a_certificate_that_cannot_be_described_keeps_its_findings_and_fails_nothing_else() {
    let (mut acm, r53) = estate();
    let store = MemoryStore::default();
    let first = run(&acm, &r53, &store, t0(), "d1").await;
    let soon = "arn:aws:acm:eu-west-1:111122223333:certificate/soon";
    let of_soon = |r: &ScanReport| -> Vec<(FindingCode, Severity, String)> {
        r.findings
            .iter()
            .filter(|f| f.resource.id == soon)
            .map(|f| (f.code, f.severity, f.message.clone()))
            .collect()
    };
    let before = of_soon(&first);
    assert!(!before.is_empty(), "{:?}", codes(&first));
    // ACM stops describing `soon` (throttled after retries); the region's
    // other certificates are described as before.
    if let Some(Ok(certs)) = acm.0.get_mut("eu-west-1") {
        for c in certs.iter_mut().filter(|c| c.arn == soon) {
            c.domain_name = "undescribable.example.com".into();
        }
    }
    let second = run(&acm, &r53, &store, t0() + Duration::hours(1), "d2").await;
    assert!(!second.failed(), "{:?}", second.scan.errors);
    assert_eq!(
        second.scan.resolved, 0,
        "nothing resolved for lack of evidence"
    );
    let errors: Vec<_> = second
        .scan
        .errors
        .iter()
        .filter(|e| e.operation == "DescribeCertificate")
        .collect();
    assert_eq!(errors.len(), 1, "{:?}", second.scan.errors);
    assert!(errors[0].message.contains(soon));
    assert_eq!(of_soon(&second), before, "its findings stay as they were");
    // The region still counts: a fixed problem of another certificate of
    // eu-west-1 would resolve (its coverage is intact).
    assert!(
        second
            .findings
            .iter()
            .any(|f| f.region.as_str() == "eu-west-1" && f.resource.id != soon)
    );
}

#[tokio::test]
async fn certificates_not_reached_before_the_stop_keep_their_findings_and_are_named() {
    let (mut acm, r53) = estate();
    let store = MemoryStore::default();
    let first = run(&acm, &r53, &store, t0(), "c1").await;
    let soon = "arn:aws:acm:eu-west-1:111122223333:certificate/soon";
    let of_soon = |r: &ScanReport| -> Vec<(FindingCode, Severity)> {
        r.findings
            .iter()
            .filter(|f| f.resource.id == soon)
            .map(|f| (f.code, f.severity))
            .collect()
    };
    let before = of_soon(&first);
    assert!(!before.is_empty(), "{:?}", codes(&first));
    // The scan's stop comes before `soon` is described (an estate larger
    // than one invocation).
    if let Some(Ok(certs)) = acm.0.get_mut("eu-west-1") {
        for c in certs.iter_mut().filter(|c| c.arn == soon) {
            c.domain_name = "unreached.example.com".into();
        }
    }
    let second = run(&acm, &r53, &store, t0() + Duration::hours(1), "c2").await;
    assert!(!second.failed(), "{:?}", second.scan.errors);
    assert_eq!(second.scan.resolved, 0, "{:?}", second.scan);
    assert_eq!(of_soon(&second), before, "its findings stay as they were");
    assert_eq!(second.scan.counts.get("certificates_not_reached"), Some(&1));
    let cut: Vec<_> = second
        .scan
        .errors
        .iter()
        .filter(|e| e.message.contains("cut short"))
        .collect();
    assert_eq!(cut.len(), 1, "the record says so: {:?}", second.scan.errors);
    assert_eq!(cut[0].region.as_str(), "eu-west-1");
}

#[tokio::test]
async fn a_commit_that_stops_halfway_reports_what_it_wrote() {
    let (acm, r53) = estate();
    let store = MemoryStore {
        fail_after: Some(2),
        ..MemoryStore::default()
    };
    let detected = codes(&run(&acm, &r53, &MemoryStore::default(), t0(), "all").await).len();
    let r = run(&acm, &r53, &store, t0(), "half").await;
    assert!(
        detected > 2,
        "the estate has more than two problems: {detected}"
    );
    // Two findings were written: the record says so, not "nothing".
    assert_eq!(r.scan.opened, 2, "{:?}", r.scan);
    assert!(!r.scan.stored);
    assert!(r.failed(), "a store that failed fails the scan");
    assert!(
        r.scan
            .errors
            .iter()
            .any(|e| e.operation == "TransactWriteItems"),
        "{:?}",
        r.scan.errors
    );
    // Open findings are the store's: what is written, not all detections.
    let open: usize = r.scan.open_findings.values().sum();
    assert_eq!(open, store.items.lock().expect("lock").len());
    // The next scan writes the rest, once.
    let store_ok = MemoryStore {
        items: Mutex::new(store.items.lock().expect("lock").clone()),
        ..MemoryStore::default()
    };
    let rest = run(&acm, &r53, &store_ok, t0() + Duration::hours(1), "rest").await;
    assert_eq!(rest.scan.opened, detected - 2, "{:?}", rest.scan);
}

/// A family whose outcome is fixed: `detections` in eu-west-1 (covered),
/// and `errors` scan errors.
struct StaticFamily {
    detections: Vec<crate::finding::Detection>,
    errors: usize,
}
impl crate::family::Family for StaticFamily {
    fn name(&self) -> &'static str {
        "certificates"
    }
    fn run(&self, _now: DateTime<Utc>) -> futures::future::BoxFuture<'_, crate::FamilyOutcome> {
        Box::pin(async move {
            let mut coverage = crate::reconcile::Coverage::default();
            coverage.insert(crate::Check::Certificates, "eu-west-1");
            crate::FamilyOutcome {
                coverage,
                detections: self.detections.clone(),
                errors: (0..self.errors)
                    .map(|i| {
                        crate::ScanError::new(
                            Region::parse("eu-west-1").expect("region"),
                            PortError::new(
                                "acm",
                                "DescribeCertificate",
                                ErrorKind::Throttled,
                                format!("certificate {i}: {}", "still throttled ".repeat(200)),
                            ),
                        )
                    })
                    .collect(),
                ..crate::FamilyOutcome::default()
            }
        })
    }
}

fn expiring(n: usize) -> StaticFamily {
    let detections = (0..n)
        .map(|i| crate::finding::Detection {
            code: FindingCode::CertExpiring,
            severity: Severity::High,
            resource: crate::finding::Resource {
                kind: crate::finding::ResourceKind::AcmCertificate,
                id: format!("arn:aws:acm:eu-west-1:111122223333:certificate/{i:03}"),
                name: format!("c{i}.example.com"),
            },
            region: Region::parse("eu-west-1").expect("region"),
            scope: "eu-west-1".into(),
            message: "expires soon".into(),
            evidence: serde_json::json!({}),
        })
        .collect();
    StaticFamily {
        detections,
        errors: 0,
    }
}

/// The shared tail under an invocation that ends at `end`.
async fn tail_scan(
    family: &StaticFamily,
    sinks: Sinks<'_, MemoryStore, RecordingSink>,
    clock: &TestClock,
    id: &str,
    end: Option<DateTime<Utc>>,
) -> ScanReport {
    scan::run(
        &[family],
        sinks,
        clock,
        None,
        &config().common,
        ScanLabel {
            scan_id: id.into(),
            trigger: "test".into(),
        },
        end,
    )
    .await
}

/// EventBridge that notes, at each send, how many scan records and metric
/// batches had been written by then.
struct OrderCheckingEvents<'a> {
    store: &'a MemoryStore,
    metrics: &'a RecordingSink,
    seen: Mutex<Vec<(usize, usize)>>,
}
impl EventSink for OrderCheckingEvents<'_> {
    fn send<'a>(
        &'a self,
        events: &'a [FindingEvent],
    ) -> futures::future::BoxFuture<'a, Vec<Result<(), PortError>>> {
        Box::pin(async move {
            self.seen.lock().expect("lock").push((
                self.store.scans.lock().expect("lock").len(),
                self.metrics.0.lock().expect("lock").len(),
            ));
            events.iter().map(|_| Ok(())).collect()
        })
    }
}

/// Events can wait in the outbox; the scan record and the metrics cannot:
/// they are written first.
#[tokio::test]
async fn the_record_and_metrics_are_written_before_events_are_sent() {
    let store = MemoryStore::default();
    let metrics = RecordingSink::default();
    let events = OrderCheckingEvents {
        store: &store,
        metrics: &metrics,
        seen: Mutex::new(Vec::new()),
    };
    let r = tail_scan(
        &expiring(3),
        Sinks {
            store: Some(&store),
            metrics: Some(&metrics),
            events: Some(&events),
        },
        &TestClock::at(t0()),
        "order",
        None,
    )
    .await;
    assert!(r.scan.errors.is_empty(), "{:?}", r.scan.errors);
    assert_eq!(r.scan.counts.get("events_sent"), Some(&3));
    let seen = events.seen.lock().expect("lock").clone();
    assert!(!seen.is_empty());
    assert!(
        seen.iter()
            .all(|(records, batches)| *records >= 1 && *batches >= 1),
        "events went out before the record or metrics: {seen:?}"
    );
    // The record is written again with what the events step added.
    let scans = store.scans.lock().expect("lock");
    assert_eq!(scans.last().map(|s| s.count("events_sent")), Some(3));
}

fn seed_outbox(store: &MemoryStore, n: usize) {
    let mut outbox = store.outbox.lock().expect("lock");
    for i in 0..n {
        let key = format!("2026-11-23T09:00:00.000Z#k{i:04}");
        outbox.insert(
            key.clone(),
            FindingEvent {
                detail_type: notify::OPENED,
                detail: "{}".into(),
                event_key: key,
            },
        );
    }
}

#[tokio::test]
async fn outbox_events_are_claimed_a_page_at_a_time() {
    let store = MemoryStore::default();
    seed_outbox(&store, 250);
    let events = RecordingEvents::default();
    let r = tail_scan(
        &expiring(0),
        Sinks {
            store: Some(&store),
            metrics: None,
            events: Some(&events),
        },
        &TestClock::at(t0()),
        "pages",
        None,
    )
    .await;
    assert!(r.scan.errors.is_empty(), "{:?}", r.scan.errors);
    assert_eq!(r.scan.counts.get("events_sent"), Some(&250));
    let claims = store.claims.lock().expect("lock").clone();
    let sizes: Vec<(usize, usize)> = claims.iter().map(|(_, l, n)| (*l, *n)).collect();
    assert_eq!(sizes, [(100, 100), (100, 100), (100, 50)], "{claims:?}");
    // Each page starts after the last id of the one before.
    assert_eq!(claims[0].0, None);
    assert_eq!(
        claims[1].0.as_deref(),
        Some("2026-11-23T09:00:00.000Z#k0099")
    );
    assert_eq!(
        claims[2].0.as_deref(),
        Some("2026-11-23T09:00:00.000Z#k0199")
    );
    assert!(store.outbox.lock().expect("lock").is_empty());
    assert_eq!(events.sent.lock().expect("lock").len(), 250);
}

/// A second passes per page claimed: the invocation's end leaves time for
/// three pages; the rest stay in the outbox, the record says so, and the
/// next scan sends them, none twice.
#[tokio::test]
async fn events_the_end_leaves_unsent_wait_for_the_next_scan() {
    let clock = TestClock::at(t0());
    let store = MemoryStore {
        clock: Some(clock.clone()),
        ..MemoryStore::default()
    };
    seed_outbox(&store, 450);
    let events = RecordingEvents::default();
    let metrics = RecordingSink::default();
    let end = t0() + Duration::milliseconds(4_500);
    let cut = tail_scan(
        &expiring(0),
        Sinks {
            store: Some(&store),
            metrics: Some(&metrics),
            events: Some(&events),
        },
        &clock,
        "cut",
        Some(end),
    )
    .await;
    assert_eq!(cut.scan.counts.get("events_sent"), Some(&300));
    assert!(
        cut.scan
            .errors
            .iter()
            .any(|e| e.message.contains("the next scan sends them")),
        "{:?}",
        cut.scan.errors
    );
    assert_eq!(store.outbox.lock().expect("lock").len(), 150);
    assert_eq!(
        store.scans.lock().expect("lock").len(),
        2,
        "written, then updated"
    );
    // The alarm sees the error: ScanErrors published again with it.
    let errors: Vec<f64> = metrics
        .0
        .lock()
        .expect("lock")
        .iter()
        .flat_map(|b| b.data.iter())
        .filter(|d| d.name == metrics::SCAN_ERRORS)
        .map(|d| d.value)
        .collect();
    assert_eq!(errors, [0.0, 1.0]);

    let next = tail_scan(
        &expiring(0),
        Sinks {
            store: Some(&store),
            metrics: None,
            events: Some(&events),
        },
        &clock,
        "next",
        None,
    )
    .await;
    assert_eq!(next.scan.counts.get("events_sent"), Some(&150));
    let sent = events.sent.lock().expect("lock");
    let keys: std::collections::BTreeSet<&str> =
        sent.iter().map(|e| e.event_key.as_str()).collect();
    assert_eq!((sent.len(), keys.len()), (450, 450), "each sent once");
}

/// A second passes per change written: the commit stops starting writes
/// ten seconds before the end, and the record and metrics still land.
#[tokio::test]
async fn a_commit_stopped_by_the_end_still_writes_the_record_and_metrics() {
    let clock = TestClock::at(t0());
    let store = MemoryStore {
        clock: Some(clock.clone()),
        ..MemoryStore::default()
    };
    let metrics = RecordingSink::default();
    let family = expiring(10);
    let r = tail_scan(
        &family,
        Sinks {
            store: Some(&store),
            metrics: Some(&metrics),
            events: None,
        },
        &clock,
        "stopped",
        Some(t0() + Duration::seconds(13)),
    )
    .await;
    assert_eq!(r.scan.opened, 3, "{:?}", r.scan);
    assert_eq!(store.items.lock().expect("lock").len(), 3);
    assert!(r.failed(), "an unfinished commit fails the scan");
    assert!(
        r.scan
            .errors
            .iter()
            .any(|e| e.operation == "TransactWriteItems"),
        "{:?}",
        r.scan.errors
    );
    assert_eq!(store.scans.lock().expect("lock").len(), 1);
    assert_eq!(metrics.0.lock().expect("lock").len(), 1);
    // The next scan writes the rest.
    clock.advance(Duration::hours(1));
    let rest = tail_scan(
        &family,
        Sinks {
            store: Some(&store),
            metrics: None,
            events: None,
        },
        &clock,
        "rest",
        None,
    )
    .await;
    assert_eq!(rest.scan.opened, 7, "{:?}", rest.scan);
}

/// A store that never answers: the commit is cut off before the end and
/// the record and metrics still get their turn.
#[tokio::test]
async fn a_hung_commit_is_cut_off_and_the_record_still_gets_its_turn() {
    let clock = TestClock {
        step: Duration::milliseconds(100),
        ..TestClock::at(t0())
    };
    let store = MemoryStore {
        hang_commit: true,
        ..MemoryStore::default()
    };
    let metrics = RecordingSink::default();
    let r = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        tail_scan(
            &expiring(2),
            Sinks {
                store: Some(&store),
                metrics: Some(&metrics),
                events: None,
            },
            &clock,
            "hung",
            Some(t0() + Duration::seconds(30)),
        ),
    )
    .await
    .expect("the scan ends although its store hangs");
    assert!(r.failed());
    let cut: Vec<_> = r
        .scan
        .errors
        .iter()
        .filter(|e| e.operation == "commit" && e.message.contains("cut short"))
        .collect();
    assert_eq!(cut.len(), 1, "{:?}", r.scan.errors);
    assert_eq!(store.scans.lock().expect("lock").len(), 1);
    assert_eq!(metrics.0.lock().expect("lock").len(), 1);
    assert_eq!(codes(&r).len(), 2, "the report still shows the detections");
}

/// A scan of a thousand failing zones must not write a record larger than
/// an item: the first hundred errors are kept, the rest counted, and the
/// metric counts them all.
#[tokio::test]
async fn the_scan_record_keeps_a_hundred_errors_and_counts_the_rest() {
    let store = MemoryStore::default();
    let metrics = RecordingSink::default();
    let family = StaticFamily {
        detections: Vec::new(),
        errors: 250,
    };
    let r = tail_scan(
        &family,
        Sinks {
            store: Some(&store),
            metrics: Some(&metrics),
            events: None,
        },
        &TestClock::at(t0()),
        "errors",
        None,
    )
    .await;
    assert_eq!(r.scan.errors.len(), crate::record::MAX_RECORDED_ERRORS);
    assert_eq!(r.scan.errors_dropped, 150);
    assert_eq!(r.scan.error_count(), 250);
    assert!(r.scan.errors.iter().all(|e| e.message.chars().count()
        <= crate::record::MAX_ERROR_MESSAGE_CHARS
            + crate::finding::TRUNCATED_SUFFIX.chars().count()));
    let stored = store.scans.lock().expect("lock");
    assert_eq!(stored[0].errors.len(), 100);
    let json = serde_json::to_value(&stored[0]).expect("json");
    assert_eq!(json["errors_dropped"], 150);
    let published = metrics.0.lock().expect("lock");
    let errors = published[0]
        .data
        .iter()
        .find(|d| d.name == metrics::SCAN_ERRORS)
        .map(|d| d.value);
    assert_eq!(errors, Some(250.0));
}

fn suppression(
    id: &str,
    code: &str,
    resource: &str,
    until: DateTime<Utc>,
) -> crate::triage::Suppression {
    crate::triage::Suppression {
        id: id.into(),
        matcher: crate::triage::Matcher {
            code: code.into(),
            resource: Some(resource.into()),
            account: None,
            region: None,
            tag: None,
        },
        reason: "accepted: retired next quarter".into(),
        created_by: "arn:aws:iam::111122223333:user/alice".into(),
        created_at: t0() - Duration::days(1),
        until,
        source: crate::triage::Source::Table,
    }
}

fn stored_state(
    store: &MemoryStore,
    resource: &str,
) -> Vec<(FindingCode, FindingState, Option<String>)> {
    store
        .items
        .lock()
        .expect("lock")
        .values()
        .filter(|s| s.finding.resource.id == resource)
        .map(|s| {
            (
                s.finding.code,
                s.finding.state,
                s.finding.suppression.as_ref().map(|b| b.id.clone()),
            )
        })
        .collect()
}

/// Suppress, rescan, end the suppression: the finding is kept and judged
/// throughout, leaves the open findings and their metric while suppressed,
/// and says so once each way (Suppressed, then one Opened).
#[tokio::test]
async fn a_suppressed_finding_is_kept_quiet_and_opens_once_when_the_suppression_ends() {
    let (acm, r53) = estate();
    let store = MemoryStore::default();
    let events = RecordingEvents::default();
    let soon = "arn:aws:acm:eu-west-1:111122223333:certificate/soon";
    let first = run_notifying(&acm, &r53, &store, &events, t0(), "s1").await;
    let open_before = first.findings.len();
    assert!(first.findings.iter().any(|f| f.resource.id == soon));
    let sent_before = events.sent.lock().expect("lock").len();

    let until = t0() + Duration::hours(3);
    *store.triage.lock().expect("lock") = crate::triage::Triage {
        suppressions: vec![suppression("s-1", "cert.*", soon, until)],
        ..crate::triage::Triage::default()
    };
    let suppressed =
        run_notifying(&acm, &r53, &store, &events, t0() + Duration::hours(1), "s2").await;
    assert!(
        suppressed.scan.errors.is_empty(),
        "{:?}",
        suppressed.scan.errors
    );
    assert!(suppressed.findings.iter().all(|f| f.resource.id != soon));
    let n = stored_state(&store, soon).len();
    assert!(n >= 1);
    assert_eq!(suppressed.findings.len(), open_before - n);
    assert!(
        stored_state(&store, soon)
            .iter()
            .all(|(_, st, by)| *st == FindingState::Suppressed && by.as_deref() == Some("s-1"))
    );
    assert_eq!(suppressed.scan.counts.get("suppressed"), Some(&(n as u64)));
    let open_metric: f64 = suppressed
        .metrics
        .data
        .iter()
        .filter(|d| d.name == crate::metrics::OPEN_FINDINGS)
        .map(|d| d.value)
        .sum();
    assert_eq!(open_metric as usize, suppressed.findings.len());
    let sent: Vec<FindingEvent> = events.sent.lock().expect("lock")[sent_before..].to_vec();
    assert_eq!(sent.len(), n, "{sent:?}");
    assert!(sent.iter().all(|e| e.detail_type == notify::SUPPRESSED));
    assert!(sent.iter().all(|e| e.detail.contains("\"s-1\"")));

    // Still suppressed: nothing more to say.
    let quiet = run_notifying(&acm, &r53, &store, &events, t0() + Duration::hours(2), "s3").await;
    assert_eq!(quiet.scan.counts.get("events_sent"), Some(&0));

    // The suppression ends while the problem persists: one Opened each.
    let after = run_notifying(
        &acm,
        &r53,
        &store,
        &events,
        until + Duration::hours(1),
        "s4",
    )
    .await;
    assert!(after.findings.iter().any(|f| f.resource.id == soon));
    let sent: Vec<FindingEvent> = events.sent.lock().expect("lock")[sent_before + n..].to_vec();
    let opened: Vec<&FindingEvent> = sent.iter().filter(|e| e.event_key.contains(soon)).collect();
    assert_eq!(opened.len(), n, "{sent:?}");
    assert!(
        opened.iter().all(|e| e.detail_type == notify::OPENED
            && e.detail.contains("\"transition\":\"unsuppressed\""))
    );
    assert!(
        stored_state(&store, soon)
            .iter()
            .all(|(_, st, by)| *st == FindingState::Open && by.is_none())
    );
    let again = run_notifying(
        &acm,
        &r53,
        &store,
        &events,
        until + Duration::hours(2),
        "s5",
    )
    .await;
    assert_eq!(again.scan.counts.get("events_sent"), Some(&0));
}

/// Suppressions that cannot be read change no finding's suppression: no
/// Opened storm because the table or the document failed.
#[tokio::test]
async fn unreadable_suppressions_leave_every_suppressed_finding_as_it_is() {
    let (acm, r53) = estate();
    let store = MemoryStore::default();
    let events = RecordingEvents::default();
    let soon = "arn:aws:acm:eu-west-1:111122223333:certificate/soon";
    *store.triage.lock().expect("lock") = crate::triage::Triage {
        suppressions: vec![suppression(
            "s-1",
            "cert.*",
            soon,
            t0() + Duration::days(10),
        )],
        ..crate::triage::Triage::default()
    };
    run_notifying(&acm, &r53, &store, &events, t0(), "u1").await;
    let before = stored_state(&store, soon);
    assert!(
        before
            .iter()
            .all(|(_, st, _)| *st == FindingState::Suppressed)
    );
    let sent_before = events.sent.lock().expect("lock").len();
    *store.triage.lock().expect("lock") = crate::triage::Triage::unknown();
    let r = run_notifying(&acm, &r53, &store, &events, t0() + Duration::hours(1), "u2").await;
    assert_eq!(stored_state(&store, soon), before);
    assert!(r.findings.iter().all(|f| f.resource.id != soon));
    assert_eq!(events.sent.lock().expect("lock").len(), sent_before);
}

/// Unused and ending suppressions are findings of the deployment's own
/// partition, never suppressed themselves, and resolve once fixed.
#[tokio::test]
async fn unused_suppressions_are_reported_and_resolve_when_removed() {
    let (acm, r53) = estate();
    let store = MemoryStore::default();
    let mut unused = suppression(
        "s-typo",
        "cert.*",
        "arn:nothing",
        t0() + Duration::days(100),
    );
    unused.created_at = t0() - Duration::days(31);
    *store.triage.lock().expect("lock") = crate::triage::Triage {
        suppressions: vec![unused],
        judge_usage: true,
        ..crate::triage::Triage::default()
    };
    let r = run(&acm, &r53, &store, t0(), "w1").await;
    let about: Vec<(FindingCode, &str)> = r
        .findings
        .iter()
        .filter(|f| f.resource.kind == ResourceKind::Suppression)
        .map(|f| (f.code, f.resource.id.as_str()))
        .collect();
    assert_eq!(about, [(FindingCode::SuppressionUnused, "s-typo")]);
    *store.triage.lock().expect("lock") = crate::triage::Triage {
        judge_usage: true,
        ..crate::triage::Triage::default()
    };
    let r = run(&acm, &r53, &store, t0() + Duration::hours(1), "w2").await;
    assert!(
        r.findings
            .iter()
            .all(|f| f.resource.kind != ResourceKind::Suppression)
    );
    assert_eq!(
        stored_state(&store, "s-typo"),
        [(FindingCode::SuppressionUnused, FindingState::Resolved, None)]
    );
}

/// A suppression about to end is a low finding; renewed (a later end), the
/// finding resolves at the next scan.
#[tokio::test]
async fn an_ending_suppression_is_reported_and_resolves_once_renewed() {
    let (acm, r53) = estate();
    let store = MemoryStore::default();
    let soon = "arn:aws:acm:eu-west-1:111122223333:certificate/soon";
    let ending = suppression("s-end", "cert.*", soon, t0() + Duration::days(3));
    *store.triage.lock().expect("lock") = crate::triage::Triage {
        suppressions: vec![ending.clone()],
        judge_usage: true,
        ..crate::triage::Triage::default()
    };
    let r = run(&acm, &r53, &store, t0(), "e1").await;
    let about: Vec<(FindingCode, Severity)> = r
        .findings
        .iter()
        .filter(|f| f.resource.id == "s-end")
        .map(|f| (f.code, f.severity))
        .collect();
    assert_eq!(about, [(FindingCode::SuppressionEnding, Severity::Low)]);
    *store.triage.lock().expect("lock") = crate::triage::Triage {
        suppressions: vec![crate::triage::Suppression {
            until: t0() + Duration::days(60),
            ..ending
        }],
        judge_usage: true,
        ..crate::triage::Triage::default()
    };
    let r = run(&acm, &r53, &store, t0() + Duration::hours(1), "e2").await;
    assert!(r.findings.iter().all(|f| f.resource.id != "s-end"));
    assert_eq!(
        stored_state(&store, "s-end"),
        [(FindingCode::SuppressionEnding, FindingState::Resolved, None)]
    );
}

/// The zones other accounts published, as the table holds them: a copy per
/// zone id, `None` for a zone without one.
struct FakeOrganization {
    zones: Vec<crate::families::certificates::ports::SharedZone>,
    unreadable: Vec<crate::org::AccountRef>,
    copies: HashMap<String, Option<crate::families::certificates::ports::PublishedRecords>>,
}

impl crate::families::certificates::ports::OrganizationEstate for FakeOrganization {
    fn zones(
        &self,
    ) -> futures::future::BoxFuture<
        '_,
        Result<crate::families::certificates::ports::SharedZones, PortError>,
    > {
        Box::pin(async move {
            Ok(crate::families::certificates::ports::SharedZones {
                zones: self.zones.clone(),
                failed: self
                    .unreadable
                    .iter()
                    .map(|a| {
                        let e = PortError::new(
                            "dynamodb",
                            "Query",
                            ErrorKind::Transient,
                            format!("zones of account {}: timed out", a.id),
                        );
                        (a.clone(), e)
                    })
                    .collect(),
            })
        })
    }

    fn record_sets<'a>(
        &'a self,
        zone: &'a crate::families::certificates::ports::SharedZone,
    ) -> futures::future::BoxFuture<
        'a,
        Result<Option<crate::families::certificates::ports::PublishedRecords>, PortError>,
    > {
        Box::pin(async move { Ok(self.copies.get(&zone.zone.id).cloned().flatten()) })
    }

    fn certificates(
        &self,
    ) -> futures::future::BoxFuture<
        '_,
        Result<crate::families::certificates::ports::SharedCertificates, PortError>,
    > {
        Box::pin(async { Ok(Default::default()) })
    }
}

#[tokio::test]
async fn validation_records_are_looked_up_in_the_zones_the_organization_published() {
    use crate::catalogue::Check;
    use crate::families::certificates::ports::{PublishedRecords, SharedZone};
    use crate::family::Family;

    let hub = crate::org::AccountRef::new("222233334444", "dns-hub").expect("account");
    // The workload account holds example.com; the certificate's record is in
    // the hub's hub.example.org.
    let mut c = dns_cert("eu-west-1", "app", "_a.app.hub.example.org.");
    c.not_before = Some(t0() - Duration::days(30));
    let acm = FakeAcm(HashMap::from([("eu-west-1".to_string(), Ok(vec![c]))]));
    let (_, r53) = estate();
    let cfg = Config::from_vars([
        ("ZW_REGIONS", "eu-west-1"),
        ("ZW_TABLE_NAME", "zw-findings"),
    ])
    .expect("valid");
    let copy = |values: &[&str], age: Duration| {
        Some(PublishedRecords {
            record_sets: values
                .iter()
                .map(|v| RecordSet::simple("_a.app.hub.example.org.", "CNAME", &[*v]))
                .collect(),
            listed_at: t0() - age,
        })
    };
    let organization = |copy: Option<PublishedRecords>, unreadable: bool| FakeOrganization {
        zones: vec![SharedZone {
            account: hub.clone(),
            zone: HostedZone {
                id: "ZHUB".into(),
                name: "hub.example.org.".into(),
                private: false,
                record_set_count: 2,
            },
        }],
        unreadable: if unreadable {
            vec![crate::org::AccountRef::new("555566667777", "other").expect("account")]
        } else {
            vec![]
        },
        copies: HashMap::from([("ZHUB".to_string(), copy)]),
    };
    let run = |org: FakeOrganization| {
        let (acm, r53, cfg) = (&acm, &r53, &cfg);
        async move {
            let family = CertificateFamily {
                certificates: acm,
                zones: r53,
                organization: Some(&org),
                regions: &cfg.common.regions,
                config: &cfg.certificates,
                retire_unmonitored: true,
                stop: None,
            };
            family.run(t0()).await
        }
    };
    let missing = |out: &crate::family::FamilyOutcome| {
        out.detections
            .iter()
            .filter(|d| d.code == FindingCode::CertValidationRecordMissing)
            .map(|d| d.message.clone())
            .collect::<Vec<_>>()
    };

    // Present in the hub's copy: nothing, judged (covered), read from the table.
    let out = run(organization(
        copy(&["app.acm-validations.aws."], Duration::hours(2)),
        false,
    ))
    .await;
    assert!(out.detections.is_empty(), "{:?}", out.detections);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert!(out.coverage.covers(Check::ValidationRecords, "eu-west-1"));
    assert_eq!(out.counts["validation_zones_published"], 1);
    assert_eq!(out.counts["validation_zones_listed"], 0);

    // Deleted in the hub: missing, and the holder named.
    let out = run(organization(copy(&[], Duration::hours(2)), false)).await;
    let found = missing(&out);
    assert_eq!(found.len(), 1, "{:?}", out.detections);
    assert!(
        found[0].contains("hub.example.org. (ZHUB) of account dns-hub (222233334444)"),
        "{}",
        found[0]
    );

    // A copy the hub stopped refreshing, or none at all: an error naming the
    // zone and its account, no judgement, the old findings kept.
    for (stale, why) in [
        (copy(&[], Duration::days(8)), "more than 7 days ago"),
        (None, "no copy of its record sets"),
    ] {
        let out = run(organization(stale, false)).await;
        assert!(missing(&out).is_empty(), "{:?}", out.detections);
        assert!(!out.coverage.covers(Check::ValidationRecords, "eu-west-1"));
        assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
        let message = &out.errors[0].message;
        for part in ["hub.example.org.", "ZHUB", "222233334444", why] {
            assert!(message.contains(part), "`{part}` not in {message}");
        }
    }

    // An account whose zones could not be read may hold a closer zone: the
    // record is not judged missing, and the failure is recorded.
    let out = run(organization(copy(&[], Duration::hours(2)), true)).await;
    assert!(missing(&out).is_empty(), "{:?}", out.detections);
    assert!(!out.coverage.covers(Check::ValidationRecords, "eu-west-1"));
    assert!(out.errors[0].message.contains("555566667777"));
}
