//! Collectors against moto: paging and conversion.

use crate::support::Env;
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};
use zw_core::Region;
use zw_core::ports::{CertificateSource, ZoneSource};
use zw_testkit::seed;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_listing_pages_past_route53s_page_size() {
    let env = Env::new().await;
    let r53 = aws_sdk_route53::Client::new(&env.sdk);
    let zone = seed::create_zone(&r53, "paging.example")
        .await
        .expect("zone");
    let changes: Vec<Change> = (0..420)
        .map(|i| {
            Change::builder()
                .action(ChangeAction::Create)
                .resource_record_set(
                    ResourceRecordSet::builder()
                        .name(format!("host{i:03}.paging.example."))
                        .r#type(RrType::Cname)
                        .ttl(60)
                        .resource_records(
                            ResourceRecord::builder()
                                .value(format!("t{i}.example.net."))
                                .build()
                                .expect("rr"),
                        )
                        .build()
                        .expect("rrset"),
                )
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
        .expect("create records");
    let services = env.services();
    let zones = services.route53.hosted_zones().await.expect("zones");
    assert!(
        zones
            .iter()
            .any(|z| z.id == zone && z.name == "paging.example.")
    );
    let sets = services.route53.record_sets(&zone).await.expect("records");
    let cnames = sets.iter().filter(|s| s.record_type == "CNAME").count();
    assert_eq!(
        cnames, 420,
        "every page was read (Route 53 pages hold at most 300)"
    );
    assert!(
        sets.iter()
            .any(|s| s.name == "host419.paging.example." && s.values == ["t419.example.net."])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_are_collected_per_region_with_every_key_type() {
    let (env, estate) = Env::with_demo_estate().await;
    let services = env.services();
    let eu = services
        .acm
        .certificates(&Region::parse("eu-west-1").expect("r"), None)
        .await
        .expect("eu-west-1");
    assert!(eu.failed.is_empty(), "{:?}", eu.failed);
    let eu = eu.certificates;
    let us = services
        .acm
        .certificates(&Region::parse("us-east-1").expect("r"), None)
        .await
        .expect("us-east-1");
    assert!(us.failed.is_empty(), "{:?}", us.failed);
    let us = us.certificates;
    let expected_eu = estate
        .certificates
        .iter()
        .filter(|c| c.region == "eu-west-1")
        .count();
    let expected_us = estate
        .certificates
        .iter()
        .filter(|c| c.region == "us-east-1")
        .count();
    assert_eq!((eu.len(), us.len()), (expected_eu, expected_us));
    assert!(eu.iter().all(|c| c.region.as_str() == "eu-west-1"));
    let deleted = estate
        .arn(seed::labels::VALIDATION_RECORD_DELETED)
        .expect("arn");
    let c = eu.iter().find(|c| c.arn == deleted).expect("collected");
    assert!(
        c.renewal_validation_records().count() >= 1,
        "DNS validation records converted: {c:?}"
    );
    assert!(c.not_after.is_some());
}

/// Three processes (three sets of adapters, as three concurrent invocations
/// have) list the same zone at once, each allowed 2 requests/s. With the
/// budget in the table they share 2/s and take about three times as long as
/// the same three pacing only themselves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_scans_share_one_route53_budget() {
    use zw_core::ports::ApiUsage;
    let env = Env::new().await;
    let r53 = aws_sdk_route53::Client::new(&env.sdk);
    let zone = seed::create_zone(&r53, "budget.example")
        .await
        .expect("zone");
    let names: Vec<String> = (0..650)
        .map(|i| format!("h{i:03}.budget.example."))
        .collect();
    let values: Vec<String> = (0..650).map(|i| format!("\"{i}\"")).collect();
    let recs: Vec<_> = names
        .iter()
        .zip(&values)
        .map(|(n, v)| zw_testkit::dns_world::rec(n, "TXT", &[v.as_str()]))
        .collect();
    zw_testkit::dns_world::upsert(&r53, &zone, &recs)
        .await
        .expect("create records");

    // Three processes at 2/s each, listing at once: `shared` with the table
    // (as the functions are), and a control without one.
    let list_all = |cfg: zw_core::Config| {
        let zone = zone.clone();
        let sdk = env.sdk.clone();
        async move {
            let processes: Vec<zw_aws::Services> =
                (0..3).map(|_| zw_aws::Services::new(&sdk, &cfg)).collect();
            let started = std::time::Instant::now();
            let listings = futures::future::join_all(processes.iter().map(|s| async {
                s.route53.hosted_zones().await.expect("zones");
                s.route53.record_sets(&zone).await.expect("records").len()
            }))
            .await;
            assert!(listings.iter().all(|n| *n >= 650), "{listings:?}");
            let sent: u64 = processes
                .iter()
                .flat_map(|s| s.calls.calls())
                .filter(|(k, _)| k.starts_with("route53:"))
                .map(|(_, n)| n)
                .sum();
            (started.elapsed(), sent)
        }
    };
    let alone = crate::support::config(&[("ZW_ROUTE53_RPS", "2"), ("ZW_TABLE_NAME", "")]);
    assert!(alone.common.table_name.is_none());
    let (took_alone, sent_alone) = list_all(alone).await;
    let (took_shared, sent) = list_all(crate::support::config(&[("ZW_ROUTE53_RPS", "2")])).await;
    // 3 x (1 ListHostedZones + 3 pages of ListResourceRecordSets).
    assert_eq!((sent, sent_alone), (12, 12));
    // Each pacing only itself: about 1.5 s (4 requests at 2/s each). Sharing
    // 2/s: 12 requests need 6 one-second windows, so over 4 s.
    assert!(
        took_alone < std::time::Duration::from_secs(3),
        "{took_alone:?}"
    );
    assert!(
        took_shared >= took_alone + std::time::Duration::from_secs(2),
        "shared {took_shared:?} vs alone {took_alone:?}"
    );
    // moto applies a conditional ADD without a lock, so under truly
    // concurrent requests a window can record (and grant) more than the
    // budget; DynamoDB's conditional update is atomic. The exact per-window
    // arithmetic is checked without concurrency in the next test.
    let windows = crate::support::items(&env.ddb(), "BUDGET#route53").await;
    assert!(windows.len() >= 3, "{windows:?}");
}

/// The budget's own arithmetic, without moto's concurrency gap: one process
/// taking 5 slots at 2 per second gets them in 3 windows, counted exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_route53_budget_grants_at_most_its_rate_per_window() {
    let env = Env::new().await;
    let budget = zw_aws::budget::TableBudget::new(
        env.ddb(),
        crate::support::TABLE.to_owned(),
        "route53",
        2.0,
    );
    let started = std::time::Instant::now();
    for _ in 0..5 {
        budget.acquire().await;
    }
    let took = started.elapsed();
    let windows = crate::support::items(&env.ddb(), "BUDGET#route53").await;
    let granted: Vec<u64> = windows
        .iter()
        .map(|w| w["granted"].as_n().expect("count").parse().expect("number"))
        .collect();
    assert_eq!(granted.iter().sum::<u64>(), 5, "{granted:?}");
    assert!(granted.iter().all(|n| *n <= 2), "{granted:?}");
    assert!(granted.len() >= 3, "{granted:?}");
    // The fifth slot is in the third window: more than one second later.
    assert!(took >= std::time::Duration::from_secs(1), "{took:?}");
}

/// A region too large for one invocation: each scan describes until its stop
/// and the next one continues where it stopped (the cursor in the table), so
/// a few scans cover every certificate instead of the same first ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_short_region_continues_where_it_stopped() {
    let env = Env::new().await;
    let acm = aws_sdk_acm::Client::new(&env.sdk);
    let mut all = std::collections::BTreeSet::new();
    for i in 0..10 {
        let arn = seed::import_certificate(
            &acm,
            &format!("host{i}.resume.example"),
            chrono::Duration::days(200),
        )
        .await
        .expect("import");
        all.insert(arn);
    }
    // 5 describes a second, one at a time: about 7 fit in 1.5 s.
    let config = crate::support::config(&[("ZW_ACM_RPS", "5"), ("ZW_ACM_CONCURRENCY", "1")]);
    let services = zw_aws::Services::new(&env.sdk, &config);
    let region = Region::parse("eu-west-1").expect("r");
    let mut seen = std::collections::BTreeSet::new();
    let mut scans = 0;
    while seen != all {
        scans += 1;
        assert!(
            scans <= 10,
            "no progress: {} of 10 after 10 scans",
            seen.len()
        );
        let stop = std::time::Instant::now() + std::time::Duration::from_millis(1500);
        let got = services
            .acm
            .certificates(&region, Some(stop))
            .await
            .expect("the region counts");
        assert!(got.failed.is_empty(), "{:?}", got.failed);
        assert_eq!(
            got.certificates.len() + got.unvisited.len(),
            all.len(),
            "every listed certificate is described or named as not reached"
        );
        if scans == 1 {
            assert!(
                !got.unvisited.is_empty(),
                "the first scan is cut short at its stop"
            );
        }
        let before = seen.len();
        seen.extend(got.certificates.into_iter().map(|c| c.arn));
        assert!(
            seen.len() > before || seen == all,
            "scan {scans} described only certificates an earlier scan had"
        );
    }
    let cursor = crate::support::all_items(&env.ddb())
        .await
        .into_iter()
        .find(|i| {
            i.get("pk").and_then(|v| v.as_s().ok()).map(String::as_str)
                == Some("RESUME#certificates")
        })
        .expect("where the scan stopped is in the table");
    assert_eq!(
        cursor
            .get("sk")
            .and_then(|v| v.as_s().ok())
            .map(String::as_str),
        Some("eu-west-1")
    );
    assert!(cursor.contains_key("expires_at"), "the cursor expires");
    // Without a stop the region is described whole, from the cursor on.
    let whole = services
        .acm
        .certificates(&region, None)
        .await
        .expect("whole");
    assert_eq!(whole.certificates.len(), all.len());
    assert!(whole.unvisited.is_empty());
}

/// The two EC2 reads go through the SDK's runtime (signing, retries,
/// endpoint, call counting) without aws-sdk-ec2: against moto they list
/// every Elastic IP and every interface address of their own region only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ec2_reads_list_elastic_ips_and_interface_addresses_per_region() {
    use zw_core::ports::ApiUsage;
    let env = Env::new().await;
    let eu = zw_testkit::moto_ec2::MotoEc2::new(&env.sdk, "eu-west-1").expect("moto ec2");
    let eip_a = eu.allocate_address().await.expect("eip");
    let eip_b = eu.allocate_address().await.expect("eip");
    let vpc = eu.create_vpc("10.7.0.0/16").await.expect("vpc");
    let subnet = eu
        .create_subnet(&vpc, "10.7.1.0/24", "eu-west-1a")
        .await
        .expect("subnet");
    let eni = eu
        .call("CreateNetworkInterface", &[("SubnetId", subnet.as_str())])
        .await
        .expect("eni");
    let eni_ip: std::net::IpAddr = eni
        .split("<privateIpAddress>")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the interface's address")
        .parse()
        .expect("an address");

    let calls = zw_aws::usage::ApiCallCounter::default();
    let reader = zw_aws::ec2::Ec2Reader::new(&env.sdk, "eu-west-1", &calls);
    let eips = reader
        .describe_addresses()
        .await
        .expect("DescribeAddresses");
    assert!(eips.contains(&eip_a) && eips.contains(&eip_b), "{eips:?}");
    let enis = reader
        .describe_network_interfaces()
        .await
        .expect("DescribeNetworkInterfaces");
    assert!(enis.contains(&eni_ip), "{eni_ip} not in {enis:?}");
    assert_eq!(calls.calls().get("ec2:DescribeAddresses"), Some(&1));
    assert!(calls.calls().contains_key("ec2:DescribeNetworkInterfaces"));

    let us = zw_aws::ec2::Ec2Reader::new(&env.sdk, "us-east-1", &calls);
    let other = us.describe_addresses().await.expect("DescribeAddresses");
    assert!(
        !other.contains(&eip_a) && !other.contains(&eip_b),
        "another region's addresses: {other:?}"
    );
}
