//! The DNS family end to end: a hosted zone in moto (Route 53's view) against
//! real authoritative servers on loopback (the internet's view: a root, a
//! TLD, and the zone's server), through the application layer the CLI and
//! scan-dns use.

use crate::support::{Env, config};
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};
use std::collections::BTreeSet;
use zw_app::{App, FamilyKind, ScanOptions};
use zw_core::{FindingCode, ScanLabel, Sinks};
use zw_dns_lab::{AuthServer, LabZone};

async fn upsert(r53: &aws_sdk_route53::Client, zone: &str, name: &str, rtype: RrType, value: &str) {
    let set = ResourceRecordSet::builder()
        .name(name)
        .r#type(rtype)
        .ttl(300)
        .resource_records(ResourceRecord::builder().value(value).build().expect("rr"))
        .build()
        .expect("set");
    r53.change_resource_record_sets()
        .hosted_zone_id(zone)
        .change_batch(
            ChangeBatch::builder()
                .changes(
                    Change::builder()
                        .action(ChangeAction::Upsert)
                        .resource_record_set(set)
                        .build()
                        .expect("change"),
                )
                .build()
                .expect("batch"),
        )
        .send()
        .await
        .expect("upsert");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zone_is_compared_with_what_its_servers_answer() {
    let env = Env::new().await;
    let r53 = aws_sdk_route53::Client::new(&env.sdk);
    let zone_id = zw_testkit::seed::create_zone(&r53, "example.test.")
        .await
        .expect("zone");
    upsert(&r53, &zone_id, "www.example.test.", RrType::A, "192.0.2.10").await;
    upsert(&r53, &zone_id, "api.example.test.", RrType::A, "192.0.2.99").await;
    upsert(
        &r53,
        &zone_id,
        "old.example.test.",
        RrType::Cname,
        "nothere.example.test.",
    )
    .await;
    let name_servers: Vec<String> = r53
        .get_hosted_zone()
        .id(&zone_id)
        .send()
        .await
        .expect("zone")
        .delegation_set()
        .map(|d| d.name_servers().to_vec())
        .unwrap_or_default();
    assert!(!name_servers.is_empty(), "moto gives a delegation set");

    // The internet: the zone's server answers api with another address
    // (drift) and has no `nothere` (the CNAME dangles).
    let mut zone =
        LabZone::new("example.test.").soa(&name_servers[0], "hostmaster.example.test.", 1);
    for ns in &name_servers {
        zone = zone.ns("@", &format!("{}.", ns.trim_end_matches('.')));
    }
    let zone = zone
        .record("www", "A", "192.0.2.10")
        .record("api", "A", "192.0.2.98")
        .record("old", "CNAME", "nothere.example.test.");
    let server = AuthServer::start_on_port_53(vec![zone]).expect("zone server");
    let mut tld = LabZone::new("test.").ns("@", "a.nic.test.");
    for ns in &name_servers {
        tld = tld.ns("example", &format!("{}.", ns.trim_end_matches('.')));
    }
    let tld = AuthServer::start_on_port_53(vec![tld]).expect("tld");
    let root = AuthServer::start_on_port_53(vec![
        LabZone::new(".")
            .ns("@", "a.root-servers.test.")
            .ns("test.", "a.nic.test.")
            .record("a.nic.test.", "A", &tld.addr().ip().to_string()),
    ])
    .expect("root");
    let overrides: Vec<String> = name_servers
        .iter()
        .map(|ns| format!("{ns}={}", server.addr()))
        .collect();
    let cfg = config(&[
        ("ZW_DNS_ROOT_HINTS", &root.addr().to_string()),
        ("ZW_DNS_NAMESERVER_ADDRESSES", &overrides.join(",")),
        ("ZW_DNS_TIMEOUT_MS", "400"),
        // No internet here: ip-ranges.json cannot be read (a recorded error).
        ("ZW_AWS_IP_RANGES_URL", "http://127.0.0.1:9/ip-ranges.json"),
    ]);
    let app = App::new(cfg, &env.sdk, &[FamilyKind::Dns]).expect("app");
    let scan = |id: &str| {
        app.scan(
            Sinks {
                store: app.services.store.as_ref(),
                metrics: None::<&zw_aws::metrics::CloudWatchSink>,
            },
            ScanLabel {
                scan_id: id.into(),
                trigger: "test".into(),
            },
            &ScanOptions::default(),
        )
    };
    let report = scan("dns-1").await;
    assert!(!report.failed(), "{:?}", report.scan.errors);
    assert_eq!(report.scan.families, ["dns"]);
    assert_eq!(report.scan.count("hosted_zones"), 1);
    assert!(
        report.scan.count("dns_queries") > 0,
        "{:?}",
        report.scan.counts
    );
    let found: BTreeSet<(String, FindingCode)> = report
        .findings
        .iter()
        .map(|f| (f.resource.id.clone(), f.code))
        .collect();
    assert!(
        found.contains(&(
            format!("{zone_id}/api.example.test./A"),
            FindingCode::DnsRecordDrift
        )),
        "{found:?}"
    );
    assert!(
        found.contains(&(
            format!("{zone_id}/old.example.test./CNAME"),
            FindingCode::DnsDanglingTarget
        )),
        "{found:?}"
    );
    assert!(
        !found.iter().any(|(id, _)| id.contains("www.example.test.")),
        "www answers as configured: {found:?}"
    );
    assert!(
        !found.iter().any(|(_, c)| matches!(
            c,
            FindingCode::DnsDelegationMismatch | FindingCode::DnsZoneNotDelegated
        )),
        "the parent delegates to the zone's servers: {found:?}"
    );

    // The fix: Route 53 now says what the server answers. The zone changed,
    // so a change event makes the next scan list it again and resolve.
    upsert(&r53, &zone_id, "api.example.test.", RrType::A, "192.0.2.98").await;
    let fixed = app
        .scan(
            Sinks {
                store: app.services.store.as_ref(),
                metrics: None::<&zw_aws::metrics::CloudWatchSink>,
            },
            ScanLabel {
                scan_id: "dns-2".into(),
                trigger: "test".into(),
            },
            &ScanOptions {
                changed_zones: BTreeSet::from([zone_id.clone()]),
            },
        )
        .await;
    assert!(fixed.scan.resolved >= 1, "{:?}", fixed.scan);
    assert!(
        !fixed
            .findings
            .iter()
            .any(|f| f.code == FindingCode::DnsRecordDrift),
        "{:?}",
        fixed.findings
    );
}
