//! The DNS family end to end: hosted zones in moto (Route 53's view) against
//! real authoritative servers on loopback (the internet's view: a root, the
//! `test.` TLD and the zones' servers; see `zw_testkit::dns_world`), through
//! the application layer the CLI and scan-dns use.

use crate::support::{Env, config, items};
use std::collections::BTreeSet;
use zw_app::{App, FamilyKind, ScanOptions};
use zw_core::{FindingCode, ScanLabel, ScanReport, Sinks};
use zw_testkit::dns_world::{self, DnsWorld, rec};

fn app(env: &Env, world: &DnsWorld, expectations: Option<&str>) -> App {
    app_with(env, world, expectations, &[])
}

fn app_with(
    env: &Env,
    world: &DnsWorld,
    expectations: Option<&str>,
    extra: &[(&'static str, &'static str)],
) -> App {
    let mut vars = vec![
        ("ZW_DNS_ROOT_HINTS", world.root_hints.as_str()),
        (
            "ZW_DNS_NAMESERVER_ADDRESSES",
            world.nameserver_addresses.as_str(),
        ),
        ("ZW_DNS_TIMEOUT_MS", "300"),
        // The world's glue and name servers are on loopback.
        ("ZW_PROBE_ALLOW_CIDRS", "127.0.0.0/8"),
        // No internet here: ip-ranges.json cannot be read (a recorded error).
        ("ZW_AWS_IP_RANGES_URL", "http://127.0.0.1:9/ip-ranges.json"),
    ];
    if let Some(f) = expectations {
        vars.push(("ZW_DNS_EXPECTATIONS_FILE", f));
    }
    vars.extend_from_slice(extra);
    App::new(config(&vars), &env.sdk, &[FamilyKind::DNS]).expect("app")
}

async fn scan(app: &App, id: &str, changed: BTreeSet<String>) -> ScanReport {
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
        &ScanOptions {
            changed_zones: changed,
            retire_unmonitored: true,
            deadline: None,
            end: None,
            only: None,
            query_log_since: None,
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
    assert_eq!(r.scan.count("hosted_zones"), 4);
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
            world
                .zone_id(dns_world::DEMO_PARTIAL)
                .expect("z")
                .to_owned(),
            DnsDelegationPartial,
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

    // A hosted zone deleted from the account: its findings do not stay open
    // for ever, they resolve as no longer monitored.
    let orphan = world
        .zone_id(dns_world::DEMO_UNDELEGATED)
        .expect("orphan")
        .to_owned();
    assert!(has(&fixed, &orphan, DnsZoneNotDelegated));
    dns_world::delete_zone(&r53, &orphan)
        .await
        .expect("delete zone");
    let deleted = scan(&app, "dns-4", BTreeSet::new()).await;
    assert_eq!(
        deleted.scan.count("hosted_zones"),
        3,
        "{:?}",
        deleted.scan.counts
    );
    assert!(!deleted.findings.iter().any(|f| f.resource.id == orphan));
    let ddb = aws_sdk_dynamodb::Client::new(&env.sdk);
    let stored = items(&ddb, "FINDING").await;
    let retired: Vec<_> = stored
        .iter()
        .filter(|i| i.get("resource_id").and_then(|v| v.as_s().ok()) == Some(&orphan))
        .collect();
    assert!(!retired.is_empty(), "no stored finding of {orphan}");
    for item in retired {
        assert_eq!(
            item["state"].as_s().ok().map(String::as_str),
            Some("resolved")
        );
        let evidence = item["evidence"].as_s().expect("evidence");
        assert!(evidence.contains("no longer monitored"), "{evidence}");
    }
    drop(world);
}

/// The inventory head of a zone: (generation, listed_at, compared_at).
async fn head(env: &Env, zone_id: &str) -> (String, String, Option<String>) {
    let ddb = aws_sdk_dynamodb::Client::new(&env.sdk);
    let all = items(&ddb, &format!("INVENTORY#{zone_id}")).await;
    let head = all
        .iter()
        .find(|i| i.get("sk").and_then(|v| v.as_s().ok()).map(String::as_str) == Some("HEAD"))
        .unwrap_or_else(|| panic!("no inventory head for {zone_id}: {all:?}"));
    let text = |k: &str| head.get(k).and_then(|v| v.as_s().ok()).cloned();
    (
        text("generation").expect("generation"),
        text("listed_at").expect("listed_at"),
        text("compared_at"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comparisons_are_spaced_out_and_unchanged_listings_rewrite_only_the_head() {
    let env = Env::new().await;
    let world = dns_world::demo_world(&env.sdk).await.expect("world");
    // Every scan lists Route 53 again (maximum age 0); full comparisons at
    // most every 6 hours, as the template's default.
    let app = app_with(
        &env,
        &world,
        None,
        &[
            ("ZW_DNS_COMPARE_INTERVAL_MINUTES", "360"),
            ("ZW_DNS_INVENTORY_MAX_AGE_MINUTES", "0"),
        ],
    );
    let shop = world
        .zone_id(dns_world::DEMO_ZONE)
        .expect("shop")
        .to_owned();
    let drift = format!("{shop}/api.shop.test./A");

    let first = scan(&app, "cmp-1", BTreeSet::new()).await;
    assert!(!first.failed(), "{:?}", first.scan.errors);
    assert_eq!(
        first.scan.count("zones_compared"),
        4,
        "{:?}",
        first.scan.counts
    );
    assert!(has(&first, &drift, FindingCode::DnsRecordDrift));
    let (generation, listed_first, compared) = head(&env, &shop).await;
    assert!(compared.is_some(), "the comparison time is cached");

    // Within the interval: each server is asked the apex SOA and NS only,
    // nothing is resolved for lack of evidence, the apex checks still run.
    let second = scan(&app, "cmp-2", BTreeSet::new()).await;
    assert_eq!(
        second.scan.count("zones_compared"),
        0,
        "{:?}",
        second.scan.counts
    );
    assert_eq!(
        second.scan.count("zones_listed"),
        4,
        "{:?}",
        second.scan.counts
    );
    assert!(
        second.scan.count("dns_queries") < first.scan.count("dns_queries"),
        "{:?} vs {:?}",
        second.scan.counts,
        first.scan.counts
    );
    assert_eq!(second.scan.resolved, 0, "{:?}", second.scan);
    assert!(has(&second, &drift, FindingCode::DnsRecordDrift));
    assert!(has(&second, &shop, FindingCode::DnsSoaSerialMismatch));
    // The listing found the same record sets: same chunks, newer head.
    let (generation_after, listed_after, compared_after) = head(&env, &shop).await;
    assert_eq!(generation_after, generation, "chunks were rewritten");
    assert!(
        listed_after > listed_first,
        "{listed_after} <= {listed_first}"
    );
    assert_eq!(compared_after, compared);

    // A change event for the zone: compared again at once, and the fix
    // resolves the drift; the other zones wait for their interval.
    let r53 = aws_sdk_route53::Client::new(&env.sdk);
    dns_world::upsert(&r53, &shop, &[rec("api.shop.test.", "A", &["192.0.2.98"])])
        .await
        .expect("fix");
    let third = scan(&app, "cmp-3", BTreeSet::from([shop.clone()])).await;
    assert_eq!(
        third.scan.count("zones_compared"),
        1,
        "{:?}",
        third.scan.counts
    );
    assert!(!has(&third, &drift, FindingCode::DnsRecordDrift));
    let (generation_changed, _, _) = head(&env, &shop).await;
    assert_ne!(
        generation_changed, generation,
        "new record sets, new chunks"
    );
    drop(world);
}
