//! Licensing against moto: the cached license in the real table decides the
//! scan (free tier, valid, invalid with its pause), and the license function
//! answers CloudFormation. The exchange with the vendor service itself is in
//! `egress.rs`.

use crate::support::{Env, TABLE, attr, config, items};
use chrono::Duration;
use std::collections::{BTreeMap, BTreeSet};
use zw_app::{App, FamilyKind, ScanOptions};
use zw_aws::SystemClock;
use zw_aws::license::DynamoLicenseStore;
use zw_core::ports::Clock;
use zw_core::scan::ScanReport;
use zw_core::{FindingCode, ScanLabel, Sinks};
use zw_license::check::LicenseStore;
use zw_license::{Claims, KeyPair, Limits, SubscriptionStatus};

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

pub fn license(kp: &KeyPair, status: SubscriptionStatus, issued_days_ago: i64) -> String {
    let now = SystemClock.now();
    let issued = now - Duration::days(issued_days_ago);
    kp.sign(&Claims {
        iss: zw_license::token::ISSUER.into(),
        sub: "lic_test".into(),
        customer: "cus_test".into(),
        plan: "team".into(),
        limits: Limits {
            zones: 50,
            certificates: 500,
            accounts: 1,
        },
        status,
        renews_at: (now + Duration::days(200)).timestamp(),
        key_hint: "4567".into(),
        iat: issued.timestamp(),
        nbf: issued.timestamp(),
        exp: (issued + Duration::days(30)).timestamp(),
    })
    .expect("sign")
}

/// Last-seen of every open finding, by (code, resource).
async fn open_last_seen(env: &Env) -> BTreeMap<(String, String), String> {
    items(&env.ddb(), "FINDING")
        .await
        .iter()
        .filter(|i| attr(i, "state") == "open")
        .map(|i| {
            (
                (
                    attr(i, "code").to_owned(),
                    attr(i, "resource_id").to_owned(),
                ),
                attr(i, "last_seen").to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_license_pauses_checks_beyond_the_free_tier_and_keeps_every_finding() {
    let (env, estate) = Env::with_demo_estate().await;
    // Five more certificates (imported, expiring): 12 in all, beyond the
    // free tier's 10, each with findings.
    let acm = aws_sdk_acm::Client::new(&env.sdk);
    for i in 0..5 {
        zw_testkit::seed::import_certificate(
            &acm,
            &format!("extra-{i}.demo-shop.example"),
            Duration::days(3),
        )
        .await
        .expect("import");
    }
    let kp = KeyPair::generate().expect("keypair");
    let public = kp.public().to_base64url();
    let cfg = config(&[
        // Configured, but scans never call it: only the license function does.
        (
            "ZW_LICENSE_ENDPOINT",
            "http://127.0.0.1:9/v1/licenses/validate",
        ),
        ("ZW_LICENSE_PUBLIC_KEY", public.as_str()),
    ]);
    let app = App::new(cfg, &env.sdk, &[FamilyKind::CERTIFICATES]).expect("app");
    let store = DynamoLicenseStore::with_client(env.ddb(), TABLE.into());

    // Configured, never validated: invalid (and said so), paused beyond the free tier.
    let first = scan(&env, &app, "lic-1").await;
    let invalid: Vec<_> = first
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::LicenseInvalid)
        .collect();
    assert_eq!(invalid.len(), 1, "{:?}", first.findings);
    assert!(
        invalid[0]
            .message
            .contains("no license has been validated yet"),
        "{}",
        invalid[0].message
    );

    // A valid license: everything checked, the license finding resolved.
    store
        .store_license(
            &license(&kp, SubscriptionStatus::Active, 0),
            SystemClock.now(),
        )
        .await
        .expect("store");
    let valid = scan(&env, &app, "lic-2").await;
    assert!(valid.scan.errors.is_empty(), "{:?}", valid.scan.errors);
    assert!(
        !valid
            .findings
            .iter()
            .any(|f| f.code == FindingCode::LicenseInvalid)
    );
    assert_eq!(
        valid.scan.count("certificates"),
        estate.certificates.len() as u64 + 5
    );
    assert_eq!(valid.scan.count("license_paused_certificates"), 0);
    let certs_with_findings: BTreeSet<String> = valid
        .findings
        .iter()
        .filter(|f| f.resource.kind == zw_core::ResourceKind::AcmCertificate)
        .map(|f| f.resource.id.clone())
        .collect();
    assert!(certs_with_findings.len() > 10, "{certs_with_findings:?}");
    let before = open_last_seen(&env).await;

    // Cancelled: license.invalid, the metric, and the certificates beyond the
    // first ten paused: their findings stay exactly as they were.
    store
        .store_license(
            &license(&kp, SubscriptionStatus::Cancelled, 0),
            SystemClock.now(),
        )
        .await
        .expect("store");
    let cancelled = scan(&env, &app, "lic-3").await;
    let reason = cancelled
        .findings
        .iter()
        .find(|f| f.code == FindingCode::LicenseInvalid)
        .map(|f| f.message.clone())
        .expect("license.invalid");
    assert!(reason.contains("cancelled"), "{reason}");
    let paused = certs_with_findings.len() - 10;
    assert_eq!(
        cancelled.scan.count("license_paused_certificates"),
        paused as u64
    );
    let after = open_last_seen(&env).await;
    let sorted: Vec<&String> = certs_with_findings.iter().collect();
    for ((code, resource), seen) in &before {
        let now = after.get(&(code.clone(), resource.clone()));
        // Every finding is kept open: nothing resolved by the pause.
        assert!(now.is_some(), "{code} {resource} was resolved by the pause");
        if let Some(pos) = sorted.iter().position(|a| *a == resource) {
            if pos >= 10 {
                assert_eq!(now, Some(seen), "paused {resource} {code} changed");
            } else {
                assert_ne!(now, Some(seen), "checked {resource} {code} not refreshed");
            }
        }
    }
    let metric = cancelled
        .metrics
        .data
        .iter()
        .find(|d| d.name == zw_core::license::LICENSE_INVALID)
        .map(|d| d.value);
    assert_eq!(metric, Some(1.0));

    // Valid again: the pause lifts, license.invalid resolves.
    store
        .store_license(
            &license(&kp, SubscriptionStatus::Active, 0),
            SystemClock.now(),
        )
        .await
        .expect("store");
    let again = scan(&env, &app, "lic-4").await;
    assert!(
        !again
            .findings
            .iter()
            .any(|f| f.code == FindingCode::LicenseInvalid)
    );
    assert_eq!(again.scan.count("license_paused_certificates"), 0);
    assert!(again.scan.resolved >= 1, "{:?}", again.scan);

    // Vendor unreachable for 5 days: grace, said with the days left.
    store
        .store_license(
            &license(&kp, SubscriptionStatus::Active, 5),
            SystemClock.now(),
        )
        .await
        .expect("store");
    let grace = scan(&env, &app, "lic-5").await;
    let g = grace
        .findings
        .iter()
        .find(|f| f.code == FindingCode::LicenseGrace)
        .expect("license.grace");
    assert_eq!(g.evidence["days_left"], 9);
    // The vendor answers again: the grace finding resolves.
    store
        .store_license(
            &license(&kp, SubscriptionStatus::Active, 0),
            SystemClock.now(),
        )
        .await
        .expect("store");
    let back = scan(&env, &app, "lic-6").await;
    assert!(
        !back
            .findings
            .iter()
            .any(|f| f.code == FindingCode::LicenseGrace)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_licensing_the_free_tier_checks_everything_and_says_so() {
    let (env, estate) = Env::with_demo_estate().await;
    let acm = aws_sdk_acm::Client::new(&env.sdk);
    for i in 0..5 {
        zw_testkit::seed::import_certificate(
            &acm,
            &format!("more-{i}.demo-shop.example"),
            Duration::days(40),
        )
        .await
        .expect("import");
    }
    let app = App::new(env.config.clone(), &env.sdk, &[FamilyKind::CERTIFICATES]).expect("app");
    let report = scan(&env, &app, "free-1").await;
    assert!(report.scan.errors.is_empty(), "{:?}", report.scan.errors);
    assert_eq!(
        report.scan.count("certificates"),
        estate.certificates.len() as u64 + 5
    );
    assert_eq!(report.scan.count("license_paused_certificates"), 0);
    let free: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::LicenseFreeTierLimit)
        .collect();
    assert_eq!(free.len(), 1, "{:?}", report.findings);
    assert_eq!(free[0].resource.id, "license/certificates");
    assert_eq!(free[0].evidence["count"], 12);
    assert_eq!(free[0].evidence["limit"], 10);
    assert_eq!(free[0].severity, zw_core::Severity::Info);
    // Nothing was written about licensing but findings: no LICENSE items.
    assert!(items(&env.ddb(), "LICENSE#SENT").await.is_empty());
    assert!(items(&env.ddb(), "LICENSE").await.is_empty());

    // A valid license covering the estate: the free-tier finding resolves.
    let kp = KeyPair::generate().expect("keypair");
    let public = kp.public().to_base64url();
    let cfg = config(&[
        (
            "ZW_LICENSE_ENDPOINT",
            "http://127.0.0.1:9/v1/licenses/validate",
        ),
        ("ZW_LICENSE_PUBLIC_KEY", public.as_str()),
    ]);
    DynamoLicenseStore::with_client(env.ddb(), TABLE.into())
        .store_license(
            &license(&kp, SubscriptionStatus::Active, 0),
            SystemClock.now(),
        )
        .await
        .expect("store");
    let licensed = App::new(cfg, &env.sdk, &[FamilyKind::CERTIFICATES]).expect("app");
    let after = scan(&env, &licensed, "free-2").await;
    assert!(
        !after
            .findings
            .iter()
            .any(|f| f.code == FindingCode::LicenseFreeTierLimit)
    );
}

/// A stand-in for CloudFormation's presigned S3 URL: takes one PUT, keeps
/// its body, answers 200.
async fn one_put() -> (String, tokio::task::JoinHandle<(String, String)>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!(
        "http://{}/cfn-response?X-Amz-Signature=test",
        listener.local_addr().expect("addr")
    );
    let task = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.expect("accept");
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = sock.read(&mut chunk).await.expect("read");
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let length: usize = text[..end]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap_or(0))
                    })
                    .unwrap_or(0);
                if buf.len() >= end + 4 + length || n == 0 {
                    sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                        .await
                        .expect("write");
                    return (text[..end].to_owned(), text[end + 4..].to_owned());
                }
            }
            if n == 0 {
                return (text, String::new());
            }
        }
    });
    (url, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deploy_time_check_answers_cloudformation_even_when_the_vendor_is_down() {
    let env = Env::new().await;
    let kp = KeyPair::generate().expect("keypair");
    let public = kp.public().to_base64url();
    let cfg = config(&[
        // Nothing listens on port 9: the vendor is down.
        (
            "ZW_LICENSE_ENDPOINT",
            "http://127.0.0.1:9/v1/licenses/validate",
        ),
        ("ZW_LICENSE_KEY", "zwk_ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
        ("ZW_LICENSE_PUBLIC_KEY", public.as_str()),
    ]);
    let deps = zw_lambda::Deps::with_sdk(
        cfg,
        &env.sdk,
        &[],
        zw_aws::metrics::EmfSink::to_writer(Box::new(crate::support::SharedBuf::default())),
    )
    .expect("deps");
    let (url, put) = one_put().await;
    let path = format!(
        "{}/../events/license-deploy.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut event: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("sample")).expect("json");
    event["ResponseURL"] = serde_json::Value::String(url);
    let summary = license::handler::handle(
        &deps,
        lambda_runtime::LambdaEvent::new(event, lambda_runtime::Context::default()),
    )
    .await
    .expect("handled");
    assert!(!summary.validated, "{summary:?}");
    assert!(summary.attempted, "{summary:?}");
    assert!(
        summary.result.contains("could not be reached"),
        "{summary:?}"
    );
    let (head, body) = put.await.expect("put");
    assert!(
        head.starts_with("PUT /cfn-response?X-Amz-Signature=test"),
        "{head}"
    );
    let answer: serde_json::Value = serde_json::from_str(&body).expect("answer json");
    // A vendor outage never fails a deploy.
    assert_eq!(answer["Status"], "SUCCESS");
    assert_eq!(answer["LogicalResourceId"], "LicenseCheckAtDeploy");
    assert_eq!(answer["RequestId"], "11111111-1111-1111-1111-111111111111");
    assert_eq!(answer["Data"]["Standing"], "invalid");
    // The attempt is in the audit trail, key masked.
    let sent = items(&env.ddb(), "LICENSE#SENT").await;
    assert_eq!(sent.len(), 1);
    assert!(
        attr(&sent[0], "result").starts_with("not delivered"),
        "{}",
        attr(&sent[0], "result")
    );
    assert!(attr(&sent[0], "body").contains("****4567"));
    assert!(!attr(&sent[0], "body").contains("ABCDEFGHIJ"));

    // A scheduled run with an event of another kind is refused clearly.
    let refused = license::handler::handle(
        &deps,
        lambda_runtime::LambdaEvent::new(serde_json::json!({"source": "aws.acm", "detail-type": "ACM Certificate Approaching Expiration"}), lambda_runtime::Context::default()),
    )
    .await
    .expect_err("refused");
    assert!(
        refused
            .to_string()
            .contains("CloudFormation custom resource"),
        "{refused}"
    );
}

/// The sample deploy event with its ResponseURL on the loopback stand-in.
fn deploy_event(url: &str, request_type: &str) -> serde_json::Value {
    let path = format!(
        "{}/../events/license-deploy.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut event: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("sample")).expect("json");
    event["ResponseURL"] = serde_json::Value::String(url.to_owned());
    event["RequestType"] = serde_json::Value::String(request_type.to_owned());
    if request_type != "Create" {
        event["PhysicalResourceId"] = "zonewarden-license-check".into();
    }
    event
}

/// A license function whose init failed (here: a configuration the code
/// refuses) still answers every custom resource request, so no deploy or
/// delete waits for `ServiceTimeout`: SUCCESS with the error recorded on
/// Create and Update, SUCCESS on Delete. Other events fail as an init
/// failure would.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_license_function_whose_init_failed_still_answers_cloudformation() {
    let service = license::startup::Service::init([
        ("AWS_REGION".to_owned(), "eu-west-1".to_owned()),
        ("ZW_TABLE_NAME".to_owned(), TABLE.to_owned()),
        (
            "ZW_LICENSE_ENDPOINT".to_owned(),
            "ftp://license.example.com/validate".to_owned(),
        ),
    ])
    .await;
    assert!(
        matches!(&service, license::startup::Service::InitFailed(e) if e.contains("ZW_LICENSE_ENDPOINT")),
        "{service:?}"
    );
    for request_type in ["Create", "Update", "Delete"] {
        let (url, put) = one_put().await;
        let summary = service
            .handle(lambda_runtime::LambdaEvent::new(
                deploy_event(&url, request_type),
                lambda_runtime::Context::default(),
            ))
            .await
            .unwrap_or_else(|e| panic!("{request_type}: {e}"));
        assert!(!summary.validated && !summary.attempted, "{summary:?}");
        let (head, body) = put.await.expect("put");
        assert!(head.starts_with("PUT /cfn-response"), "{head}");
        let answer: serde_json::Value = serde_json::from_str(&body).expect("answer json");
        assert_eq!(answer["Status"], "SUCCESS", "{request_type}: {answer}");
        assert_eq!(answer["LogicalResourceId"], "LicenseCheckAtDeploy");
        assert_eq!(answer["RequestId"], "11111111-1111-1111-1111-111111111111");
        assert_eq!(answer["PhysicalResourceId"], "zonewarden-license-check");
        if request_type == "Delete" {
            assert_eq!(answer["Data"]["Standing"], "unchanged", "{answer}");
        } else {
            assert_eq!(answer["Data"]["Standing"], "unknown", "{answer}");
            let reason = answer["Reason"].as_str().unwrap_or_default();
            assert!(
                reason.contains("could not start") && reason.contains("ZW_LICENSE_ENDPOINT"),
                "{reason}"
            );
            assert!(
                answer["Data"]["Error"]
                    .as_str()
                    .is_some_and(|e| e.contains("ZW_LICENSE_ENDPOINT") && !e.contains('\n')),
                "{answer}"
            );
        }
    }
    // The daily schedule fails, naming the problem.
    let refused = service
        .handle(lambda_runtime::LambdaEvent::new(
            serde_json::json!({"source": "aws.events", "detail-type": "Scheduled Event"}),
            lambda_runtime::Context::default(),
        ))
        .await
        .expect_err("refused");
    assert!(
        refused.to_string().contains("could not start")
            && refused.to_string().contains("ZW_LICENSE_ENDPOINT"),
        "{refused}"
    );
    let diagnostic: lambda_runtime::Diagnostic = refused.into();
    assert_eq!(diagnostic.error_type, "InitFailed");
    // A request whose answer cannot go to CloudFormation is not answered.
    let foreign = service
        .handle(lambda_runtime::LambdaEvent::new(
            deploy_event("https://attacker.example/cfn", "Create"),
            lambda_runtime::Context::default(),
        ))
        .await
        .expect_err("not answered");
    assert!(foreign.to_string().contains("not answered"), "{foreign}");
}

/// A license key parameter that does not exist (deleted, or never created
/// in this region) is found only when the function validates: the deploy
/// is answered SUCCESS with what happened, nothing is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_license_key_parameter_does_not_hold_up_the_deploy() {
    let env = Env::new().await;
    let kp = KeyPair::generate().expect("keypair");
    let public = kp.public().to_base64url();
    let cfg = config(&[
        (
            "ZW_LICENSE_ENDPOINT",
            "http://127.0.0.1:9/v1/licenses/validate",
        ),
        ("ZW_LICENSE_KEY_PARAMETER", "/zonewarden/no-such-key"),
        ("ZW_LICENSE_PUBLIC_KEY", public.as_str()),
    ]);
    let deps = zw_lambda::Deps::with_sdk(
        cfg,
        &env.sdk,
        &[],
        zw_aws::metrics::EmfSink::to_writer(Box::new(crate::support::SharedBuf::default())),
    )
    .expect("deps");
    let service = license::startup::Service::Ready(Box::new(deps));
    let (url, put) = one_put().await;
    let summary = service
        .handle(lambda_runtime::LambdaEvent::new(
            deploy_event(&url, "Create"),
            lambda_runtime::Context::default(),
        ))
        .await
        .expect("handled");
    assert!(!summary.validated && !summary.attempted, "{summary:?}");
    assert!(
        summary.result.contains("/zonewarden/no-such-key"),
        "{summary:?}"
    );
    let (_, body) = put.await.expect("put");
    let answer: serde_json::Value = serde_json::from_str(&body).expect("answer json");
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    assert!(
        answer["Reason"]
            .as_str()
            .is_some_and(|r| r.contains("/zonewarden/no-such-key")),
        "{answer}"
    );
    // Nothing left the account.
    assert!(items(&env.ddb(), "LICENSE#SENT").await.is_empty());
}

/// The counts sent with a validation add up every member account's
/// partitions in organization mode (and the single-mode ones, empty there),
/// so the vendor sees the organization's totals, not the central account's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organization_license_counts_add_up_every_member_account() {
    use aws_sdk_dynamodb::types::AttributeValue::S;
    let env = Env::new().await;
    let ddb = env.ddb();
    let now = Clock::now(&SystemClock);
    let today = now.format("%Y-%m-%d").to_string();
    let yesterday = (now - chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let put = |pk: String, sk: &str, extra: Vec<(&str, String)>| {
        let mut req = ddb
            .put_item()
            .table_name(TABLE)
            .item("pk", S(pk))
            .item("sk", S(sk.into()));
        for (k, v) in extra {
            req = req.item(k, S(v));
        }
        req.send()
    };
    let record = |zones: u64, sets: u64, certs: u64, checks: u64| {
        vec![(
            "record",
            serde_json::json!({"counts": {"hosted_zones": zones, "record_sets": sets, "certificates": certs, "health_checks": checks}})
                .to_string(),
        )]
    };
    let finding = |state: &str, severity: &str| {
        vec![
            ("state", state.to_owned()),
            ("severity", severity.to_owned()),
        ]
    };
    for (pk, sk, extra) in [
        (format!("SCAN#{today}"), "t1#s", record(1, 10, 3, 0)),
        ("FINDING".into(), "cert.expired#a", finding("open", "high")),
        ("ORG#ACCOUNTS".into(), "111111111111", vec![]),
        ("ORG#ACCOUNTS".into(), "222222222222", vec![]),
        (
            format!("ACCOUNT#111111111111#SCAN#{today}"),
            "t2#s",
            record(2, 20, 5, 1),
        ),
        (
            format!("ACCOUNT#222222222222#SCAN#{yesterday}"),
            "t3#s",
            record(0, 0, 7, 2),
        ),
        (
            "ACCOUNT#111111111111#FINDING".into(),
            "cert.expired#b",
            finding("open", "critical"),
        ),
        (
            "ACCOUNT#111111111111#FINDING".into(),
            "cert.unused#c",
            finding("open", "info"),
        ),
        (
            "ACCOUNT#222222222222#FINDING".into(),
            "cert.expired#d",
            finding("resolved", "critical"),
        ),
        // An account that is not (any more) in the organization's list.
        (
            format!("ACCOUNT#333333333333#SCAN#{today}"),
            "t4#s",
            record(9, 9, 9, 9),
        ),
    ] {
        put(pk, sk, extra).await.expect("put");
    }
    let counts = DynamoLicenseStore::with_client(ddb.clone(), TABLE.into())
        .fleet_counts(now)
        .await
        .expect("counts");
    assert_eq!(
        (
            counts.hosted_zones,
            counts.record_sets,
            counts.certificates,
            counts.health_checks
        ),
        (3, 30, 15, 3),
        "{counts:?}"
    );
    assert_eq!(
        (
            counts.findings_critical,
            counts.findings_high,
            counts.findings_info
        ),
        (1, 1, 1),
        "{counts:?}"
    );
}
