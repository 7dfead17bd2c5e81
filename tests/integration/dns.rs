//! The DNS family end to end: hosted zones in moto (Route 53's view) against
//! real authoritative servers on loopback (the internet's view: a root, the
//! `test.` TLD and the zones' servers; see `zw_testkit::dns_world`), through
//! the application layer the CLI and scan-dns use.

use crate::support::{Env, config};
use std::collections::BTreeSet;
use zw_app::{App, FamilyKind, ScanOptions};
use zw_core::{FindingCode, ScanLabel, ScanReport, Sinks};
use zw_testkit::dns_world::{self, DnsWorld, rec};

fn app(env: &Env, world: &DnsWorld, expectations: Option<&str>) -> App {
    let mut vars = vec![
        ("ZW_DNS_ROOT_HINTS", world.root_hints.as_str()),
        (
            "ZW_DNS_NAMESERVER_ADDRESSES",
            world.nameserver_addresses.as_str(),
        ),
        ("ZW_DNS_TIMEOUT_MS", "300"),
        // No internet here: ip-ranges.json cannot be read (a recorded error).
        ("ZW_AWS_IP_RANGES_URL", "http://127.0.0.1:9/ip-ranges.json"),
    ];
    if let Some(f) = expectations {
        vars.push(("ZW_DNS_EXPECTATIONS_FILE", f));
    }
    App::new(config(&vars), &env.sdk, &[FamilyKind::Dns]).expect("app")
}

async fn scan(app: &App, id: &str, changed: BTreeSet<String>) -> ScanReport {
    app.scan(
        Sinks {
            store: app.services.store.as_ref(),
            metrics: None::<&zw_aws::metrics::CloudWatchSink>,
        },
        ScanLabel {
            scan_id: id.into(),
            trigger: "test".into(),
        },
        &ScanOptions {
            changed_zones: changed,
        },
    )
    .await
}

fn has(report: &ScanReport, resource: &str, code: FindingCode) -> bool {
    report
        .findings
        .iter()
        .any(|f| f.resource.id == resource && f.code == code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_seeded_dns_problem_is_found_and_a_fix_resolves_it() {
    let env = Env::new().await;
    let world = dns_world::demo_world(&env.sdk).await.expect("world");
    let cert = world.certificate_arn.clone().expect("certificate");
    let dir = std::env::temp_dir().join(format!("zw-dns-it-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let doc = dir.join("expectations.yaml");
    std::fs::write(&doc, dns_world::DEMO_EXPECTATIONS).expect("doc");
    let app = app(&env, &world, doc.to_str());
    let shop = world
        .zone_id(dns_world::DEMO_ZONE)
        .expect("shop")
        .to_owned();
    let rs = |name: &str, t: &str| format!("{shop}/{name}/{t}");

    let r = scan(&app, "dns-1", BTreeSet::new()).await;
    assert!(!r.failed(), "{:?}", r.scan.errors);
    assert_eq!(r.scan.families, ["dns"]);
    assert_eq!(r.scan.count("hosted_zones"), 3);
    assert!(r.scan.count("dns_queries") > 20, "{:?}", r.scan.counts);
    let all: BTreeSet<(String, FindingCode)> = r
        .findings
        .iter()
        .map(|f| (f.resource.id.clone(), f.code))
        .collect();
    use FindingCode::*;
    for (resource, code) in [
        (rs("api.shop.test.", "A"), DnsRecordDrift),
        (rs("mail.shop.test.", "MX"), DnsRecordMissing),
        (rs("old.shop.test.", "CNAME"), DnsDanglingTarget),
        (rs("assets.shop.test.", "CNAME"), DnsDanglingTarget),
        (shop.clone(), DnsSoaSerialMismatch),
        (shop.clone(), DnsNameserverUnreachable),
        (shop.clone(), DnsCaaBlocksAcm),
        (cert.clone(), DnsCaaBlocksAcm),
        (
            world
                .zone_id(dns_world::DEMO_MISDELEGATED)
                .expect("z")
                .to_owned(),
            DnsDelegationMismatch,
        ),
        (
            world
                .zone_id(dns_world::DEMO_UNDELEGATED)
                .expect("z")
                .to_owned(),
            DnsZoneNotDelegated,
        ),
        (
            "expectation/www.shop.test./A".to_owned(),
            DnsExpectationFailed,
        ),
    ] {
        assert!(
            all.contains(&(resource.clone(), code)),
            "no {code} on {resource}: {all:#?}"
        );
    }
    // What answers as configured raises nothing: the simple record, and the
    // weighted set whose servers answer from the union of its values.
    for clean in ["www.shop.test.", "w.shop.test."] {
        assert!(
            !all.iter()
                .any(|(id, c)| id.contains(clean) && *c != DnsExpectationFailed),
            "{clean}: {all:#?}"
        );
    }
    assert!(!has(&r, &shop, DnsDelegationMismatch), "{all:#?}");
    assert!(!has(
        &r,
        "expectation/api.shop.test./A",
        DnsExpectationFailed
    ));

    // A rescan with nothing changed opens nothing new.
    let again = scan(&app, "dns-2", BTreeSet::new()).await;
    assert_eq!(again.scan.opened, 0, "{:?}", again.scan);
    assert!(
        again.scan.count("route53_calls_saved") > 0,
        "{:?}",
        again.scan.counts
    );

    // The fix: Route 53 now says what the server answers. A change event
    // names the zone, so the next scan lists it again and resolves the drift.
    let r53 = aws_sdk_route53::Client::new(&env.sdk);
    dns_world::upsert(&r53, &shop, &[rec("api.shop.test.", "A", &["192.0.2.98"])])
        .await
        .expect("fix");
    let fixed = scan(&app, "dns-3", BTreeSet::from([shop.clone()])).await;
    assert!(fixed.scan.resolved >= 1, "{:?}", fixed.scan);
    assert!(!has(&fixed, &rs("api.shop.test.", "A"), DnsRecordDrift));
    assert!(has(&fixed, &rs("mail.shop.test.", "MX"), DnsRecordMissing));
    drop(world);
}
