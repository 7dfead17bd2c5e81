//! The testkit against a real (private) moto server: the demo estate is what
//! its documentation says. Needs `scripts/setup` (moto_server in .venv).

use std::error::Error;
use zw_core::ports::Clock;
use zw_testkit::Moto;
use zw_testkit::seed::{self, labels};

type TestResult = Result<(), Box<dyn Error>>;

#[tokio::test]
async fn demo_estate_is_seeded_as_documented() -> TestResult {
    let moto = Moto::start()?;
    let sdk = moto.sdk_config("eu-west-1").await;
    let estate = seed::seed_demo_estate(&sdk, &["eu-west-1", "us-east-1"]).await?;
    assert_eq!(estate.certificates.len(), 7);

    // (d): the validation CNAME of api.demo-shop.example is gone, the others are there.
    let r53 = aws_sdk_route53::Client::new(&sdk);
    let records = seed::list_records(&r53, &estate.zone_id).await?;
    let names: Vec<&str> = records.iter().map(|r| r.name()).collect();
    assert!(!estate.deleted_records.is_empty());
    for deleted in &estate.deleted_records {
        assert!(
            !names.iter().any(|n| seed::same_dns_name(n, &deleted.name)),
            "{} should have been deleted; zone has {names:?}",
            deleted.name
        );
    }
    for live in ["www.demo-shop.example", "cdn.demo-shop.example"] {
        assert!(
            names
                .iter()
                .any(|n| n.ends_with(&format!(".{live}.")) && n.starts_with('_')),
            "validation record of {live} missing; zone has {names:?}"
        );
    }

    // (a) and (g): moto derives one CNAME for one name, whatever the region.
    let acm_eu = aws_sdk_acm::Client::new(&sdk);
    let acm_us = aws_sdk_acm::Client::from_conf(
        aws_sdk_acm::config::Builder::from(&sdk)
            .region(aws_config::Region::new("us-east-1"))
            .build(),
    );
    let www_eu =
        seed::validation_records(&acm_eu, estate.arn(labels::HEALTHY).ok_or("no (a)")?).await?;
    let www_us =
        seed::validation_records(&acm_us, estate.arn(labels::CLOUDFRONT_WWW).ok_or("no (g)")?)
            .await?;
    assert_eq!(www_eu, www_us);

    // (b): the imported certificate expires in 5 days.
    let legacy = seed::describe_certificate(
        &acm_eu,
        estate.arn(labels::IMPORTED_EXPIRING_5D).ok_or("no (b)")?,
    )
    .await?;
    let not_after = legacy.not_after().ok_or("no NotAfter")?.secs();
    let days = (not_after - zw_aws::SystemClock.now().timestamp()) as f64 / 86_400.0;
    assert!((4.0..=6.0).contains(&days), "NotAfter is {days} days away");
    assert_eq!(legacy.r#type().map(|t| t.as_str()), Some("IMPORTED"));

    // The findings table exists with TTL, and creating it again is fine.
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    seed::create_table(&ddb, "zw-smoke").await?;
    seed::create_table(&ddb, "zw-smoke").await?;
    let ttl = ddb
        .describe_time_to_live()
        .table_name("zw-smoke")
        .send()
        .await?;
    assert_eq!(
        ttl.time_to_live_description()
            .and_then(|d| d.attribute_name()),
        Some("expires_at")
    );

    // reset forgets everything.
    moto.reset()?;
    let after = acm_eu.list_certificates().send().await?;
    assert!(after.certificate_summary_list().is_empty());
    Ok(())
}

#[test]
fn missing_moto_binary_says_run_setup() {
    let missing = std::path::Path::new("/nowhere/moto_server");
    match Moto::start_with(missing) {
        Err(err) => {
            let text = err.to_string();
            assert!(
                text.contains("moto_server not found at /nowhere/moto_server: run scripts/setup"),
                "{text}"
            );
        }
        Ok(moto) => panic!("started a moto that does not exist at {}", moto.endpoint),
    }
}

#[test]
fn certificates_have_the_requested_window() -> TestResult {
    let now = zw_aws::SystemClock.now();
    let past = now - chrono::Duration::days(30);
    let cert = zw_testkit::certs::self_signed(
        "expired.example",
        &["www.expired.example"],
        past - chrono::Duration::days(60),
        past,
    )?;
    assert!(cert.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(cert.key_pem.contains("PRIVATE KEY"));
    let signed =
        zw_testkit::certs::ca_signed("leaf.example", &[], now, now + chrono::Duration::days(1))?;
    assert!(signed.chain_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(zw_testkit::certs::self_signed("x.example", &[], now, now).is_err());
    Ok(())
}
