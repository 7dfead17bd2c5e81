//! The health and endpoints families end to end: health checks, a load
//! balancer and a hosted zone in moto, real rustls servers on loopback with
//! certificates generated here (valid, expiring, expired, wrong host,
//! untrusted root, another serial than the listener's ACM certificate, a
//! standby that refuses the handshake, one that accepts TCP and never
//! answers, one that answers garbage), and a lab DNS root for what must be
//! resolved (see `zw_testkit::tls_world`).
//!
//! moto fakes `GetHealthCheckStatus`: one made-up checker that always
//! reports success. So every enabled check shows `health.few-regions` here,
//! `health.unhealthy` appears only through inversion (success inverted), and
//! failing checkers and `health.flapping` cannot be produced: the rule tests
//! in zw-core cover them on fixed observations. What this test does check of
//! the history is that it is written.

use crate::support::{Env, config, items, scan_once as scan};
use std::collections::BTreeSet;
use zw_app::{App, FamilyKind};
use zw_core::{FindingCode, ScanReport, Severity};
use zw_testkit::tls_world::{self, TlsWorld};

fn app(env: &Env, world: &TlsWorld, kinds: &[FamilyKind]) -> App {
    let vars = world.vars();
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    App::new(config(&vars), &env.sdk, kinds).expect("app")
}

fn found(report: &ScanReport) -> BTreeSet<(String, &'static str)> {
    report
        .findings
        .iter()
        .map(|f| (f.resource.id.clone(), f.code.id()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_health_and_tls_problem_of_the_world_is_found() {
    let env = Env::new().await;
    let east = env.moto.sdk_config("us-east-1").await;
    let now = zw_core::ports::Clock::now(&zw_aws::SystemClock);
    let world = tls_world::tls_world(&east, now).await.expect("world");
    let app = app(&env, &world, &[FamilyKind::HEALTH, FamilyKind::ENDPOINTS]);
    let started = std::time::Instant::now();
    let report = scan(&app, "tls-1").await;
    let took = started.elapsed();
    let errors: Vec<String> = report
        .scan
        .errors
        .iter()
        .map(|e| format!("{e:?}"))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(report.scan.families, vec!["health", "endpoints"]);
    // The inventory keeps each served certificate's serial.
    let estate = items(&env.ddb(), "ESTATE#endpoints").await;
    let entries: Vec<serde_json::Value> = estate
        .iter()
        .filter_map(|i| {
            crate::support::attr(i, "entries")
                .parse::<serde_json::Value>()
                .ok()
        })
        .flat_map(|v| v.as_array().cloned().unwrap_or_default())
        .collect();
    let served: Vec<&serde_json::Value> = entries
        .iter()
        .filter(|e| e["details"]["outcome"] == "served")
        .collect();
    assert!(!served.is_empty(), "{entries:?}");
    assert!(
        served.iter().all(|e| e["details"]["serial"]
            .as_str()
            .is_some_and(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit()))),
        "{served:?}"
    );

    let port = world.port;
    let at = |name: &str, ip: std::net::IpAddr| format!("{name}:{port}@{ip}");
    let (serve, zone) = (world.serve_ip, world.zone_id.clone());
    let hc = |label: &str| world.health_check(label).expect("health check").to_owned();
    let retired = report
        .findings
        .iter()
        .find(|f| f.code == FindingCode::CertSanNotInDns)
        .map(|f| f.resource.id.clone())
        .expect("cert.san-not-in-dns");
    let expected: BTreeSet<(String, &'static str)> = [
        (at("expiring.secure.test", serve), "tls.expiring"),
        (at("expired.secure.test", serve), "tls.expired"),
        (at("wrong.secure.test", serve), "tls.hostname-mismatch"),
        (at("untrusted.secure.test", serve), "tls.untrusted-chain"),
        (
            at("app.secure.test", world.refuse_ip),
            "tls.handshake-failed",
        ),
        (
            at("silent.secure.test", world.silent_ip),
            "tls.handshake-failed",
        ),
        (
            at("garbage.secure.test", world.garbage_ip),
            "tls.handshake-failed",
        ),
        (at("lb.secure.test", serve), "tls.not-acm-certificate"),
        ("legacy.old.secure.test".to_owned(), "tls.name-not-covered"),
        (retired.clone(), "cert.san-not-in-dns"),
        (
            format!("{zone}/pay.secure.test./A/primary"),
            "health.failover-unprotected",
        ),
        (hc("orphan"), "health.orphaned"),
        (hc("maintenance"), "health.disabled"),
        (hc("maintenance"), "health.no-alarm"),
        (hc("forced-failover"), "health.inverted"),
        // Inverted, and moto's checker says success: Route 53 calls it
        // unhealthy, which is exactly what inversion left in place does.
        (hc("forced-failover"), "health.unhealthy"),
        (hc("forced-failover"), "health.no-alarm"),
        // moto's single made-up checker (see the module docs).
        (hc("app-primary"), "health.few-regions"),
        (hc("orphan"), "health.few-regions"),
        (hc("forced-failover"), "health.few-regions"),
    ]
    .into_iter()
    .collect();
    let got = found(&report);
    let missing: Vec<_> = expected.difference(&got).collect();
    let extra: Vec<_> = got.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:#?}\nunexpected {extra:#?}"
    );

    let finding = |id: &str, code: FindingCode| {
        report
            .findings
            .iter()
            .find(|f| f.resource.id == id && f.code == code)
            .expect("finding")
    };
    let expiring = finding(&at("expiring.secure.test", serve), FindingCode::TlsExpiring);
    assert_eq!(expiring.severity, Severity::Critical);
    assert_eq!(expiring.evidence["days_left"], 4, "{}", expiring.evidence);
    let silent = finding(
        &at("silent.secure.test", world.silent_ip),
        FindingCode::TlsHandshakeFailed,
    );
    assert!(
        silent.message.contains("no TLS handshake within 1500 ms"),
        "{}",
        silent.message
    );
    let garbage = finding(
        &at("garbage.secure.test", world.garbage_ip),
        FindingCode::TlsHandshakeFailed,
    );
    assert!(
        garbage.message.contains("corrupt") || garbage.message.contains("InvalidContentType"),
        "{}",
        garbage.message
    );
    let standby = finding(
        &at("app.secure.test", world.refuse_ip),
        FindingCode::TlsHandshakeFailed,
    );
    assert!(standby.message.contains("alert"), "{}", standby.message);
    assert_eq!(
        standby.evidence["record"]["failover"], "SECONDARY",
        "{}",
        standby.evidence
    );
    let lb = finding(
        &at("lb.secure.test", serve),
        FindingCode::TlsNotAcmCertificate,
    );
    assert_eq!(lb.evidence["resource_kind"], "elb", "{}", lb.evidence);
    assert_ne!(
        lb.evidence["served_serial"],
        lb.evidence["attached"][0]["serial"]
    );
    let untrusted = finding(
        &at("untrusted.secure.test", serve),
        FindingCode::TlsUntrustedChain,
    );
    assert!(
        untrusted.message.contains("nobody trusts this CA"),
        "{}",
        untrusted.message
    );
    // No stalled scan: the silent endpoint costs one timeout, not the scan.
    assert!(took < std::time::Duration::from_secs(60), "{took:?}");
    assert_eq!(
        report.scan.counts.get("tls_no_service"),
        Some(&0),
        "{:?}",
        report.scan.counts
    );

    // The status history was written: one item per check (a disabled one
    // counts as healthy, as Route 53 counts it), the inverted one unhealthy.
    let history = items(&env.ddb(), "HEALTH").await;
    assert_eq!(history.len(), 4, "{history:?}");
    let unhealthy: Vec<_> = history
        .iter()
        .filter(|i| i.get("healthy") == Some(&aws_sdk_dynamodb::types::AttributeValue::Bool(false)))
        .filter_map(|i| i.get("sk"))
        .collect();
    assert_eq!(
        unhealthy,
        vec![&aws_sdk_dynamodb::types::AttributeValue::S(hc(
            "forced-failover"
        ))]
    );

    // A fixed standby resolves its finding: the secondary now points at the
    // serving address.
    let r53 = aws_sdk_route53::Client::new(&east);
    let fixed = aws_sdk_route53::types::ResourceRecordSet::builder()
        .name("app.secure.test.")
        .r#type(aws_sdk_route53::types::RrType::A)
        .ttl(60)
        .set_identifier("secondary")
        .failover(aws_sdk_route53::types::ResourceRecordSetFailover::Secondary)
        .health_check_id(hc("forced-failover"))
        .resource_records(
            aws_sdk_route53::types::ResourceRecord::builder()
                .value(serve.to_string())
                .build()
                .expect("record"),
        )
        .build()
        .expect("set");
    r53.change_resource_record_sets()
        .hosted_zone_id(&zone)
        .change_batch(
            aws_sdk_route53::types::ChangeBatch::builder()
                .changes(
                    aws_sdk_route53::types::Change::builder()
                        .action(aws_sdk_route53::types::ChangeAction::Upsert)
                        .resource_record_set(fixed)
                        .build()
                        .expect("change"),
                )
                .build()
                .expect("batch"),
        )
        .send()
        .await
        .expect("upsert");

    // `scan all`: every family in one scan record.
    let all = app_all(&env, &world);
    let report = scan(&all, "tls-2").await;
    // Every family but the CT watch, off without ZW_CT_SEARCH_URL.
    let on: Vec<&str> = zw_app::FamilyKind::names()
        .into_iter()
        .filter(|n| *n != "ct")
        .collect();
    assert_eq!(report.scan.families, on);
    let got = found(&report);
    assert!(
        !got.contains(&(
            at("app.secure.test", world.refuse_ip),
            "tls.handshake-failed"
        )),
        "{got:#?}"
    );
    for prefix in ["cert.", "dns.", "health.", "tls."] {
        assert!(
            got.iter().any(|(_, c)| c.starts_with(prefix)),
            "no {prefix} finding in {got:#?}"
        );
    }
    assert!(got.contains(&(at("expired.secure.test", serve), "tls.expired")));
}

/// Without `ZW_PROBE_ALLOW_CIDRS` the world's records lead only to
/// loopback: nothing is connected to, and each target is an info finding
/// naming the record and the address, not a failure of the endpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_leading_off_the_internet_are_reported_not_probed() {
    let env = Env::new().await;
    let east = env.moto.sdk_config("us-east-1").await;
    let now = zw_core::ports::Clock::now(&zw_aws::SystemClock);
    let world = tls_world::tls_world(&east, now).await.expect("world");
    let vars: Vec<(String, String)> = world
        .vars()
        .into_iter()
        .filter(|(k, _)| k != "ZW_PROBE_ALLOW_CIDRS")
        .collect();
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let refused = App::new(config(&vars), &env.sdk, &[FamilyKind::ENDPOINTS]).expect("app");
    let report = scan(&refused, "scope-1").await;
    assert_eq!(
        report.scan.counts.get("tls_targets"),
        Some(&0),
        "{:?}",
        report.scan.counts
    );
    assert!(
        report
            .scan
            .counts
            .get("tls_not_probed")
            .is_some_and(|n| *n > 0),
        "{:?}",
        report.scan.counts
    );
    let not_probed: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.code == zw_core::catalogue::FindingCode::TlsEndpointNotProbed)
        .collect();
    assert!(!not_probed.is_empty(), "{:#?}", report.findings);
    // One per zone, naming each record and address.
    let zones: BTreeSet<&str> = not_probed.iter().map(|f| f.resource.id.as_str()).collect();
    assert_eq!(zones.len(), not_probed.len(), "one finding per zone");
    let mut listed = 0;
    for f in &not_probed {
        assert_eq!(f.severity, zw_core::severity::Severity::Info);
        assert!(
            f.message.contains("127.") && f.message.contains("loopback"),
            "{}",
            f.message
        );
        let targets = f.evidence["targets"].as_array().expect("targets");
        assert_eq!(
            f.evidence["count"].as_u64(),
            Some(targets.len() as u64),
            "{}",
            f.evidence
        );
        for t in targets {
            assert!(
                t["record"]["name"].is_string() && t["address"].is_string(),
                "{t}"
            );
        }
        listed += targets.len() as u64;
    }
    assert_eq!(report.scan.counts.get("tls_not_probed"), Some(&listed));

    // The operator allows the range: the next scan probes the addresses and
    // resolves every not-probed finding.
    let allowed = app(&env, &world, &[FamilyKind::ENDPOINTS]);
    let second = scan(&allowed, "scope-2").await;
    assert_eq!(second.scan.counts.get("tls_not_probed"), Some(&0));
    assert!(
        second
            .scan
            .counts
            .get("tls_targets")
            .is_some_and(|n| *n > 0)
    );
    assert!(
        !second
            .findings
            .iter()
            .any(|f| f.code == zw_core::catalogue::FindingCode::TlsEndpointNotProbed),
        "{:#?}",
        second.findings
    );
    assert!(
        second.scan.resolved >= not_probed.len(),
        "{:?}",
        second.scan
    );
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.code.id().starts_with("tls.endpoint-not-probed")
                || !f.code.id().starts_with("tls.")),
        "no endpoint is blamed for our refusal: {:#?}",
        report.findings
    );
}

fn app_all(env: &Env, world: &TlsWorld) -> App {
    let mut vars = world.vars();
    vars.push(("ZW_DNS_TIMEOUT_MS".into(), "300".into()));
    vars.push((
        "ZW_AWS_IP_RANGES_URL".into(),
        "http://127.0.0.1:9/ip-ranges.json".into(),
    ));
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    App::new(config(&vars), &env.sdk, &FamilyKind::all()).expect("app")
}

/// Extra roots that are not certificates are refused at start, by name.
#[test]
fn an_unreadable_extra_roots_file_is_refused_at_start() {
    let path = std::env::temp_dir().join(format!("zw-bad-roots-{}.pem", std::process::id()));
    std::fs::write(&path, "not a certificate\n").expect("write");
    let e = zw_tls::TlsProbe::new(&zw_tls::TlsProbeSettings {
        extra_roots_file: Some(path.display().to_string()),
        ..zw_tls::TlsProbeSettings::default()
    })
    .expect_err("refused");
    let text = e.to_string();
    assert!(
        text.starts_with("ZW_TLS_EXTRA_ROOTS:") && text.contains("holds no certificate"),
        "{text}"
    );
    let _ = std::fs::remove_file(path);
}

/// A leaf with 10,000 names is valid and browsers accept it, but its
/// handshake message (about 250 KB) is beyond the 64 KiB rustls reads: a
/// limit of our probe, so a scan error and never `tls.handshake-failed`; the
/// endpoint's findings from before are kept as they were, not resolved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_too_large_for_the_probe_is_a_scan_error_and_keeps_the_findings() {
    use std::net::SocketAddr;
    use zw_testkit::tls_lab::{self, Behaviour};
    const HOST: &str = "big.limits.test";

    let env = Env::new().await;
    let now = zw_core::ports::Clock::now(&zw_aws::SystemClock);
    let ip = zw_dns_lab::random_loopback_ip();
    let dns = zw_dns_lab::AuthServer::start_on_port_53(vec![
        zw_dns_lab::LabZone::new(".")
            .soa("a.root-servers.test.", "hostmaster.root-servers.test.", 1)
            .ns("@", "a.root-servers.test.")
            .record(&format!("{HOST}."), "A", &ip.to_string()),
    ])
    .expect("lab DNS");
    let serving = |cert| Behaviour::Serve(vec![(HOST.to_owned(), cert, None)]);

    // Scan 1: a small self-signed certificate with 5 days left.
    let small = zw_testkit::certs::self_signed(
        HOST,
        &[],
        now - chrono::Duration::days(1),
        now + chrono::Duration::days(5),
    )
    .expect("certificate");
    let server = tls_lab::start(SocketAddr::new(ip, 0), serving(small))
        .await
        .expect("server");
    let address = server.address;
    let dns_addr = dns.addr().to_string();
    let target = format!("{HOST}:{}", address.port());
    let vars = [
        ("ZW_DNS_ROOT_HINTS", dns_addr.as_str()),
        ("ZW_TLS_TARGETS", target.as_str()),
        ("ZW_TLS_TIMEOUT_MS", "5000"),
    ];
    let app = App::new(config(&vars), &env.sdk, &[FamilyKind::ENDPOINTS]).expect("app");
    let id = format!("{HOST}:{}@{ip}", address.port());
    let first = scan(&app, "limit-1").await;
    assert!(first.scan.errors.is_empty(), "{:?}", first.scan.errors);
    let before = found(&first);
    for code in ["tls.expiring", "tls.untrusted-chain"] {
        assert!(before.contains(&(id.clone(), code)), "{before:#?}");
    }

    // Scan 2: the same address now serves a certificate with 10,000 names.
    drop(server);
    let names: Vec<String> = (0..10_000)
        .map(|i| format!("host-{i:05}.limits.test"))
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let big = zw_testkit::certs::self_signed(
        HOST,
        &names,
        now - chrono::Duration::days(1),
        now + chrono::Duration::days(200),
    )
    .expect("certificate with 10,000 names");
    // The old listener closes once its task is cancelled: retry the bind.
    let mut server = None;
    for _ in 0..100 {
        match tls_lab::start(address, serving(big.clone())).await {
            Ok(s) => {
                server = Some(s);
                break;
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    }
    let _server = server.expect("the same address serves the large certificate");
    let second = scan(&app, "limit-2").await;
    let after = found(&second);
    assert!(
        !after
            .iter()
            .any(|(_, code)| *code == "tls.handshake-failed"),
        "{after:#?}"
    );
    assert_eq!(second.scan.errors.len(), 1, "{:?}", second.scan.errors);
    let error = &second.scan.errors[0];
    assert_eq!((error.service, error.operation), ("tls", "handshake"));
    assert!(
        error.message.contains("64 KiB")
            && error
                .message
                .contains("a limit of zonewarden's TLS probe, not a fault of the endpoint"),
        "{}",
        error.message
    );
    assert_eq!(second.scan.counts.get("tls_probe_limit"), Some(&1));
    // Not inspected, so neither refreshed nor resolved.
    assert_eq!(before, after);
}
