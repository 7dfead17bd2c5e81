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
        .certificates(&Region::parse("eu-west-1").expect("r"))
        .await
        .expect("eu-west-1");
    assert!(eu.failed.is_empty(), "{:?}", eu.failed);
    let eu = eu.certificates;
    let us = services
        .acm
        .certificates(&Region::parse("us-east-1").expect("r"))
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
