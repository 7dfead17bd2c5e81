//! The DNS family's AWS adapters against moto: S3 `GetBucketLocation`, the
//! account's endpoints, `ip-ranges.json` from a local HTTP server, the SSM
//! expectations document and the chunked inventory cache.
//!
//! moto 5.2.5's limits met here:
//! - Elastic Beanstalk: `DescribeEnvironments` answers, but `CNAME` and
//!   `EndpointURL` are always empty strings: only "listed, nothing to add" can
//!   be checked here (the URL/host parsing is unit-tested in zw-aws).
//! - API Gateway v2: `CreateDomainName` does not fill
//!   `DomainNameConfigurations[].ApiGatewayDomainName`; the test passes one in
//!   (moto stores the configuration as given) to exercise our reading of it.
//! - Classic ELB DNS names always say `us-east-1`, whatever the region;
//!   network interfaces are not created for load balancers.
//! - S3 in moto knows no other accounts or regions' buckets: 403 (someone
//!   else's bucket) and 301 (another region) are unit-tested with
//!   aws-smithy-mocks in zw-aws.
//! - DynamoDB TTL is never enforced: we assert the `expires_at` we write.

use crate::support::{Env, REGIONS, TABLE, attr, items};
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use zw_aws::document::{FileDocument, SsmDocument};
use zw_aws::inventory::{DynamoInventoryCache, MAX_CHUNK_BYTES, inventory_pk};
use zw_aws::targets::{AwsTargetsAdapter, TargetsSettings};
use zw_aws::usage::ApiCallCounter;
use zw_core::Region;
use zw_core::families::dns::model::{DnssecStatus, ZoneInventory};
use zw_core::families::dns::ports::{AwsTargets, InventoryCache};
use zw_core::model::{HostedZone, RecordSet};
use zw_core::ports::ApiUsage;
use zw_core::ports::{DocumentSource, ErrorKind};

fn regions() -> Vec<Region> {
    REGIONS
        .iter()
        .map(|r| Region::parse(r).expect("region"))
        .collect()
}

fn adapter(env: &Env, ip_ranges_url: &str) -> (AwsTargetsAdapter, ApiCallCounter) {
    let calls = ApiCallCounter::default();
    let settings = TargetsSettings {
        ip_ranges_url: ip_ranges_url.to_owned(),
        ..TargetsSettings::default()
    };
    let adapter = AwsTargetsAdapter::new(&env.sdk, &calls, &settings).expect("adapter");
    (adapter, calls)
}

fn s3(env: &Env) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&env.sdk)
            .force_path_style(true)
            .build(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buckets_that_exist_and_buckets_that_do_not() {
    let env = Env::new().await;
    s3(&env)
        .create_bucket()
        .bucket("zw-live-assets")
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .expect("create bucket");
    let (targets, calls) = adapter(&env, "http://127.0.0.1:9/unused");
    assert_eq!(targets.bucket_exists("zw-live-assets").await, Ok(true));
    assert_eq!(
        targets.bucket_exists("zw-nobody-created-this").await,
        Ok(false),
        "404: the name is free for anyone to claim"
    );
    assert_eq!(
        calls.calls().get("s3:GetBucketLocation"),
        Some(&2),
        "{:?}",
        calls.calls()
    );
}

/// Everything the account serves that a record may point at, seeded in
/// eu-west-1 (plus nothing in us-east-1: an empty region lists fine).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_endpoints_list_every_kind() {
    let env = Env::new().await;
    let eu = moto_in(&env, "eu-west-1").await;

    let cf = aws_sdk_cloudfront::Client::new(&env.sdk);
    let dist = cf
        .create_distribution()
        .distribution_config(cloudfront_config())
        .send()
        .await
        .expect("create distribution");
    let dist_domain = dist
        .distribution()
        .map(|d| d.domain_name().to_owned())
        .expect("distribution");

    let ec2 = zw_testkit::moto_ec2::MotoEc2::new(&eu, "eu-west-1").expect("moto ec2");
    let eip: IpAddr = ec2.allocate_address().await.expect("allocate address");
    let vpc = ec2.create_vpc("10.0.0.0/16").await.expect("vpc");
    let mut subnets = Vec::new();
    for (cidr, az) in [("10.0.1.0/24", "eu-west-1a"), ("10.0.2.0/24", "eu-west-1b")] {
        subnets.push(ec2.create_subnet(&vpc, cidr, az).await.expect("subnet"));
    }
    let lb = aws_sdk_elasticloadbalancingv2::Client::new(&eu)
        .create_load_balancer()
        .name("web")
        .set_subnets(Some(subnets))
        .send()
        .await
        .expect("create load balancer");
    let lb_dns = lb
        .load_balancers()
        .first()
        .and_then(|l| l.dns_name())
        .expect("dns name")
        .to_owned();

    let agw = aws_sdk_apigateway::Client::new(&eu);
    let domain = agw
        .create_domain_name()
        .domain_name("api.example.com")
        .regional_certificate_arn("arn:aws:acm:eu-west-1:123456789012:certificate/x")
        .endpoint_configuration(
            aws_sdk_apigateway::types::EndpointConfiguration::builder()
                .types(aws_sdk_apigateway::types::EndpointType::Regional)
                .build(),
        )
        .send()
        .await
        .expect("v1 domain name");
    let regional = domain.regional_domain_name().expect("regional").to_owned();
    let rest = agw
        .create_rest_api()
        .name("orders")
        .send()
        .await
        .expect("rest api");
    let rest_id = rest.id().expect("id").to_owned();

    let agw2 = aws_sdk_apigatewayv2::Client::new(&eu);
    agw2.create_domain_name()
        .domain_name("v2.example.com")
        .domain_name_configurations(
            aws_sdk_apigatewayv2::types::DomainNameConfiguration::builder()
                .certificate_arn("arn:aws:acm:eu-west-1:123456789012:certificate/x")
                .endpoint_type(aws_sdk_apigatewayv2::types::EndpointType::Regional)
                // moto does not make one up; AWS does (see the module docs).
                .api_gateway_domain_name("d-v2abc.execute-api.eu-west-1.amazonaws.com")
                .build(),
        )
        .send()
        .await
        .expect("v2 domain name");
    let http_api = agw2
        .create_api()
        .name("http")
        .protocol_type(aws_sdk_apigatewayv2::types::ProtocolType::Http)
        .send()
        .await
        .expect("v2 api");
    let http_endpoint = http_api.api_endpoint().expect("endpoint").to_owned();

    let eb = aws_sdk_elasticbeanstalk::Client::new(&eu);
    eb.create_application()
        .application_name("shop")
        .send()
        .await
        .expect("beanstalk application");
    eb.create_environment()
        .application_name("shop")
        .environment_name("shop-web")
        .solution_stack_name("64bit Amazon Linux 2023 v4.0.0 running Python 3.11")
        .send()
        .await
        .expect("beanstalk environment");

    let (targets, calls) = adapter(&env, "http://127.0.0.1:9/unused");
    let (endpoints, errors) = targets.account_endpoints(&regions()).await;
    assert!(errors.is_empty(), "{errors:?}");

    let cloudfront = endpoints.cloudfront.expect("cloudfront listed");
    assert!(
        cloudfront.contains(&format!("{dist_domain}.")),
        "{cloudfront:?}"
    );
    assert!(
        cloudfront.contains(&"www.example.com.".to_owned()),
        "aliases too: {cloudfront:?}"
    );

    let lbs = endpoints.load_balancers.expect("load balancers listed");
    assert!(
        lbs.contains(&format!("{}.", lb_dns.to_lowercase())),
        "{lbs:?}"
    );

    let apis = endpoints.api_gateway.expect("api gateway listed");
    for want in [
        format!("{regional}."),
        format!("{rest_id}.execute-api.eu-west-1.amazonaws.com."),
        "d-v2abc.execute-api.eu-west-1.amazonaws.com.".to_owned(),
        format!(
            "{}.",
            http_endpoint.trim_start_matches("https://").to_lowercase()
        ),
    ] {
        assert!(apis.contains(&want), "{want} missing from {apis:?}");
    }
    if let Some(edge) = domain.distribution_domain_name() {
        assert!(apis.contains(&format!("{edge}.")), "{apis:?}");
    }

    // moto: the environment exists but has no CNAME or endpoint URL.
    assert_eq!(endpoints.beanstalk, Some(Vec::new()));

    let addresses = endpoints.addresses.expect("addresses listed");
    assert!(addresses.contains(&eip), "{addresses:?}");

    let counted = calls.calls();
    for op in [
        "DescribeAddresses",
        "DescribeNetworkInterfaces",
        "ListDistributions",
    ] {
        assert!(
            counted.keys().any(|k| k.ends_with(&format!(":{op}"))),
            "{op} not counted: {counted:?}"
        );
    }
}

/// One kind failing leaves the others listed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_kind_is_none_and_the_others_still_fill() {
    let env = Env::new().await;
    let (targets, _) = adapter(&env, "http://127.0.0.1:9/unused");
    // An unknown region: moto answers the regional services with errors
    // (or, for some, empty lists); CloudFront is global and still lists.
    let bogus = Region::parse("xx-nowhere-9").expect("shape is valid");
    let (endpoints, errors) = targets.account_endpoints(&[bogus]).await;
    assert!(
        endpoints.cloudfront.is_some(),
        "the global kind is unaffected"
    );
    let none = [
        endpoints.load_balancers.is_none(),
        endpoints.beanstalk.is_none(),
        endpoints.api_gateway.is_none(),
        endpoints.addresses.is_none(),
    ];
    assert_eq!(
        none.iter().filter(|n| **n).count() > 0,
        !errors.is_empty(),
        "every None has its error and every error its None: {errors:?}"
    );
    for e in &errors {
        assert!(
            e.message.contains("xx-nowhere-9"),
            "errors name the region: {e}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ip_ranges_from_a_local_server_are_cached_and_malformed_ones_refused() {
    let env = Env::new().await;
    let good = r#"{"syncToken":"1","createDate":"2026-11-20-10-00-00",
      "prefixes":[{"ip_prefix":"52.94.76.0/22","region":"us-west-2","service":"AMAZON","network_border_group":"us-west-2"}],
      "ipv6_prefixes":[{"ipv6_prefix":"2600:1f14::/35","region":"us-west-2","service":"EC2","network_border_group":"us-west-2"}]}"#;
    let (url, hits) = serve_http(good).await;
    let (targets, _) = adapter(&env, &url);
    let prefixes = targets.ip_ranges().await.expect("ip ranges");
    assert_eq!(prefixes.len(), 2);
    assert_eq!(prefixes[0].prefix, "52.94.76.0/22");
    assert_eq!(prefixes[1].service, "EC2");
    targets.clone().ip_ranges().await.expect("cached");
    assert_eq!(hits.load(Ordering::SeqCst), 1, "one download a day");

    let (url, _) =
        serve_http(r#"{"prefixes":[{"ip_prefix":"not-an-ip","region":"x","service":"y"}]}"#).await;
    let (targets, _) = adapter(&env, &url);
    let e = targets.ip_ranges().await.expect_err("malformed");
    assert_eq!(e.kind, ErrorKind::InvalidResponse, "{e}");
    assert!(e.message.contains("`not-an-ip`"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expectations_from_an_ssm_secure_string_and_from_a_file() {
    let env = Env::new().await;
    let ssm = aws_sdk_ssm::Client::new(&env.sdk);
    ssm.put_parameter()
        .name("/zonewarden/expectations")
        .value("zones:\n  example.com.: {}\n")
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .expect("put parameter");
    let calls = ApiCallCounter::default();
    let doc = SsmDocument::new(&env.sdk, "/zonewarden/expectations", &calls);
    assert_eq!(
        doc.fetch().await.expect("read").as_deref(),
        Some("zones:\n  example.com.: {}\n"),
        "decrypted"
    );
    let missing = SsmDocument::new(&env.sdk, "/zonewarden/nope", &calls)
        .fetch()
        .await
        .expect_err("missing");
    assert_eq!(missing.kind, ErrorKind::NotFound);
    assert!(missing.message.contains("/zonewarden/nope"), "{missing}");

    let e = FileDocument::new("/nonexistent/expectations.yaml")
        .fetch()
        .await
        .expect_err("no file");
    assert!(e.message.contains("/nonexistent/expectations.yaml"), "{e}");
}

fn inventory(zone_id: &str, count: usize, tag: &str) -> ZoneInventory {
    ZoneInventory {
        zone: HostedZone {
            id: zone_id.into(),
            name: "big.example.".into(),
            private: false,
            record_set_count: count as u64,
        },
        name_servers: vec!["ns-1.awsdns-01.com.".into(), "ns-2.awsdns-02.net.".into()],
        record_sets: (0..count)
            .map(|i| {
                RecordSet::simple(
                    &format!("host{i:05}.big.example"),
                    "TXT",
                    &[&format!("\"{tag} v=spf1 include:_spf.example.net ~all\"")],
                )
            })
            .collect(),
        dnssec: Some(DnssecStatus {
            serve_signature: "NOT_SIGNING".into(),
            ..DnssecStatus::default()
        }),
        listed_at: chrono::DateTime::from_timestamp(1_790_000_000 + count as i64, 0).expect("time"),
        compared_at: None,
        record_set_limit: Some(10_000),
    }
}

/// The size DynamoDB counts for an item: attribute names plus values.
fn item_size(item: &HashMap<String, AttributeValue>) -> usize {
    item.iter()
        .map(|(k, v)| {
            k.len()
                + match v {
                    AttributeValue::S(s) | AttributeValue::N(s) => s.len(),
                    _ => 64,
                }
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ten_thousand_record_inventory_round_trips_in_chunks_and_a_new_save_replaces_it() {
    let env = Env::new().await;
    let calls = ApiCallCounter::default();
    let cache = DynamoInventoryCache::new(&env.sdk, TABLE.to_owned(), &calls);
    assert_eq!(
        cache.load("ZBIG").await.expect("load"),
        None,
        "nothing cached yet"
    );

    let first = inventory("ZBIG", 10_000, "first");
    cache.save(&first).await.expect("save");
    let ddb = env.ddb();
    let stored = items(&ddb, &inventory_pk("ZBIG")).await;
    let chunks: Vec<_> = stored
        .iter()
        .filter(|i| attr(i, "sk").starts_with("CHUNK#"))
        .collect();
    assert!(chunks.len() > 1, "10,000 record sets need several chunks");
    for c in &chunks {
        let size = item_size(c);
        assert!(size < 400 * 1024, "item of {size} bytes");
        assert!(attr(c, "record_sets").len() <= MAX_CHUNK_BYTES);
        assert!(c.contains_key("expires_at"), "chunks carry a TTL");
    }
    assert_eq!(
        cache.load("ZBIG").await.expect("load"),
        Some(first.clone()),
        "read back whole and in order"
    );

    let second = inventory("ZBIG", 2_500, "second");
    cache.save(&second).await.expect("second save");
    assert_eq!(
        cache.load("ZBIG").await.expect("load"),
        Some(second.clone())
    );
    let stored = items(&ddb, &inventory_pk("ZBIG")).await;
    let generations: std::collections::BTreeSet<&str> = stored
        .iter()
        .filter(|i| attr(i, "sk").starts_with("CHUNK#"))
        .map(|i| attr(i, "generation"))
        .collect();
    assert_eq!(
        generations.len(),
        1,
        "the first generation's chunks were deleted"
    );

    // A chunk lost under a reader (deleted by a newer save, expired): not
    // cached, not an error.
    let victim = stored
        .iter()
        .find(|i| attr(i, "sk").starts_with("CHUNK#"))
        .expect("a chunk");
    ddb.delete_item()
        .table_name(TABLE)
        .key("pk", victim["pk"].clone())
        .key("sk", victim["sk"].clone())
        .send()
        .await
        .expect("delete chunk");
    assert_eq!(cache.load("ZBIG").await.expect("load"), None);
    assert!(
        calls.calls().contains_key("dynamodb:BatchWriteItem"),
        "{:?}",
        calls.calls()
    );
}

/// An SdkConfig for the same moto in another region.
async fn moto_in(env: &Env, region: &str) -> zw_aws::SdkConfig {
    env.moto.sdk_config(region).await
}

fn cloudfront_config() -> aws_sdk_cloudfront::types::DistributionConfig {
    use aws_sdk_cloudfront::types::{
        Aliases, CustomOriginConfig, DefaultCacheBehavior, DistributionConfig, Origin,
        OriginProtocolPolicy, Origins, ViewerProtocolPolicy,
    };
    DistributionConfig::builder()
        .caller_reference("zw-test")
        .aliases(
            Aliases::builder()
                .quantity(1)
                .items("www.example.com")
                .build()
                .expect("aliases"),
        )
        .origins(
            Origins::builder()
                .quantity(1)
                .items(
                    Origin::builder()
                        .id("origin")
                        .domain_name("origin.example.com")
                        .custom_origin_config(
                            CustomOriginConfig::builder()
                                .http_port(80)
                                .https_port(443)
                                .origin_protocol_policy(OriginProtocolPolicy::HttpsOnly)
                                .build()
                                .expect("custom origin"),
                        )
                        .build()
                        .expect("origin"),
                )
                .build()
                .expect("origins"),
        )
        .default_cache_behavior(
            DefaultCacheBehavior::builder()
                .target_origin_id("origin")
                .viewer_protocol_policy(ViewerProtocolPolicy::AllowAll)
                .build()
                .expect("behaviour"),
        )
        .comment("")
        .enabled(true)
        .build()
        .expect("distribution config")
}

/// A loopback HTTP server answering every request with `body`; counts them.
async fn serve_http(body: &'static str) -> (String, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!(
        "http://{}/ip-ranges.json",
        listener.local_addr().expect("addr")
    );
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let mut buf = vec![0u8; 4096];
            let mut seen = Vec::new();
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                match sock.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => seen.extend_from_slice(&buf[..n]),
                }
            }
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(reply.as_bytes()).await;
            let _ = sock.shutdown().await;
        }
    });
    (url, hits)
}

/// A clock the test moves.
struct MovingClock(std::sync::Mutex<chrono::DateTime<chrono::Utc>>);

impl zw_core::ports::Clock for MovingClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.lock().map(|t| *t).unwrap_or_default()
    }
}

/// The generations of a zone's stored chunks.
async fn chunk_generations(env: &Env, zone: &str) -> std::collections::BTreeSet<String> {
    items(&env.ddb(), &inventory_pk(zone))
        .await
        .iter()
        .filter(|i| attr(i, "sk").starts_with("CHUNK#"))
        .map(|i| attr(i, "generation").to_owned())
        .collect()
}

/// A zone that never changes is only touched, scan after scan; its chunks,
/// which expire a week after they were written, are written again once
/// they are three days old, so the copy never lapses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn touching_an_unchanged_zone_renews_its_chunks_before_they_expire() {
    let env = Env::new().await;
    let start = zw_core::ports::Clock::now(&zw_aws::SystemClock);
    let clock = Arc::new(MovingClock(std::sync::Mutex::new(start)));
    let cache = DynamoInventoryCache::new(&env.sdk, TABLE.to_owned(), &ApiCallCounter::default())
        .with_clock(clock.clone());
    let zone = inventory("ZSTILL", 50, "still");
    cache.save(&zone).await.expect("save");
    let first = chunk_generations(&env, "ZSTILL").await;
    assert_eq!(first.len(), 1);

    let set = |days: i64| {
        if let Ok(mut t) = clock.0.lock() {
            *t = start + chrono::Duration::days(days);
        }
    };
    set(2);
    cache.touch(&zone).await.expect("touch");
    assert_eq!(
        chunk_generations(&env, "ZSTILL").await,
        first,
        "a touch only"
    );

    set(3);
    cache.touch(&zone).await.expect("touch");
    let renewed = chunk_generations(&env, "ZSTILL").await;
    assert_eq!(renewed.len(), 1, "the old generation's chunks deleted");
    assert_ne!(renewed, first, "written again");
    let expires: Vec<i64> = items(&env.ddb(), &inventory_pk("ZSTILL"))
        .await
        .iter()
        .filter(|i| attr(i, "sk").starts_with("CHUNK#"))
        .filter_map(|i| i.get("expires_at").and_then(|v| v.as_n().ok()))
        .filter_map(|n| n.parse().ok())
        .collect();
    let due = (start + chrono::Duration::days(3) + zw_aws::inventory::CHUNK_TTL).timestamp();
    assert!(
        !expires.is_empty() && expires.iter().all(|e| *e == due),
        "{expires:?} vs {due}"
    );
    assert_eq!(cache.load("ZSTILL").await.expect("load"), Some(zone));
}
