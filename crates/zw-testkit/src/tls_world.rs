//! The endpoints and health families' world: a public hosted zone
//! `secure.test.` in moto whose names point at real TLS servers on loopback
//! (see [`crate::tls_lab`]), a load balancer with an HTTPS listener, Route 53
//! health checks and one alarm, and a lab DNS root that answers for the
//! names that are resolved (aliases). Which finding each part shows:
//!
//! | name / resource                 | what is there                                  | finding |
//! |---------------------------------|------------------------------------------------|---------|
//! | valid.secure.test               | trusted certificate, 200 days                  | none |
//! | expiring.secure.test            | trusted certificate, 5 days left               | tls.expiring (critical) |
//! | expired.secure.test             | expired 2 days ago                             | tls.expired |
//! | wrong.secure.test               | certificate for other.example.net              | tls.hostname-mismatch |
//! | untrusted.secure.test           | issued by a CA nobody trusts                   | tls.untrusted-chain |
//! | app.secure.test failover        | primary serves; the standby refuses handshakes | tls.handshake-failed (standby) |
//! | silent.secure.test              | accepts TCP, never answers                     | tls.handshake-failed (timeout) |
//! | garbage.secure.test             | answers bytes that are not TLS                 | tls.handshake-failed |
//! | lb.secure.test -> load balancer | serves another certificate than its listener's ACM one | tls.not-acm-certificate |
//! | legacy.old.secure.test          | served, no ACM certificate covers it           | tls.name-not-covered |
//! | ACM retired.secure.test         | no record of that name                         | cert.san-not-in-dns |
//! | pay.secure.test failover        | primary without a health check                 | health.failover-unprotected |
//! | health check `orphan`           | used by nothing                                | health.orphaned |
//! | health check `maintenance`      | disabled                                       | health.disabled, health.no-alarm |
//! | health check `forced-failover`  | inverted                                       | health.inverted, health.unhealthy (success inverted), health.no-alarm |
//! | health check `app-primary`      | alarmed in us-east-1                           | none (but see below) |
//!
//! moto's `GetHealthCheckStatus` always answers one made-up checker with
//! "Success": every enabled check shows `health.few-regions` here,
//! `health.unhealthy` shows only through inversion, and failing checkers and
//! `health.flapping` cannot be produced (unit tests cover them on fixed
//! observations).

use crate::certs::{GeneratedCert, TestCa};
use crate::error::{Result, TestkitError};
use crate::seed;
use crate::tls_lab::{self, Behaviour, TlsServer};
use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, HealthCheckConfig, HealthCheckType,
    ResourceRecord, ResourceRecordSet, ResourceRecordSetFailover, RrType, Tag, TagResourceType,
};
use chrono::{DateTime, Duration, Utc};
use std::net::{IpAddr, SocketAddr};
use zw_dns_lab::{AuthServer, LabZone, random_loopback_ip};

pub const ZONE: &str = "secure.test.";

/// The running world and the settings that point zonewarden at it.
#[derive(Debug)]
pub struct TlsWorld {
    pub servers: Vec<TlsServer>,
    pub dns: AuthServer,
    pub zone_id: String,
    /// The port every lab server listens on (`ZW_TLS_PORTS`).
    pub port: u16,
    /// The trusted test CA's PEM file (`ZW_TLS_EXTRA_ROOTS`).
    pub roots_file: std::path::PathBuf,
    pub serve_ip: IpAddr,
    pub refuse_ip: IpAddr,
    pub silent_ip: IpAddr,
    pub garbage_ip: IpAddr,
    pub load_balancer_dns: String,
    pub health_checks: Vec<(String, String)>,
}

impl TlsWorld {
    /// The settings, as `(name, value)` pairs.
    pub fn vars(&self) -> Vec<(String, String)> {
        vec![
            ("ZW_DNS_ROOT_HINTS".into(), self.dns.addr().to_string()),
            // The world's records point at loopback: the probes may go there
            // only because this says so.
            ("ZW_PROBE_ALLOW_CIDRS".into(), "127.0.0.0/8".into()),
            ("ZW_TLS_PORTS".into(), self.port.to_string()),
            (
                "ZW_TLS_EXTRA_ROOTS".into(),
                self.roots_file.display().to_string(),
            ),
            ("ZW_TLS_TIMEOUT_MS".into(), "1500".into()),
        ]
    }

    /// Shell `export` lines for the settings.
    pub fn exports(&self) -> String {
        self.vars()
            .iter()
            .map(|(k, v)| format!("export {k}='{v}'\n"))
            .collect()
    }

    pub fn health_check(&self, label: &str) -> Option<&str> {
        self.health_checks
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, id)| id.as_str())
    }
}

fn aws<E: std::error::Error>(op: &'static str) -> impl FnOnce(E) -> TestkitError {
    TestkitError::aws(op)
}

fn a_set(name: &str, ip: IpAddr) -> Result<ResourceRecordSet> {
    ResourceRecordSet::builder()
        .name(name)
        .r#type(RrType::A)
        .ttl(60)
        .resource_records(
            ResourceRecord::builder()
                .value(ip.to_string())
                .build()
                .map_err(TestkitError::build("record"))?,
        )
        .build()
        .map_err(TestkitError::build("record set"))
}

fn failover(
    name: &str,
    ip: IpAddr,
    role: ResourceRecordSetFailover,
    health_check: Option<&str>,
) -> Result<ResourceRecordSet> {
    ResourceRecordSet::builder()
        .name(name)
        .r#type(RrType::A)
        .ttl(60)
        .set_identifier(role.as_str().to_ascii_lowercase())
        .failover(role)
        .set_health_check_id(health_check.map(str::to_owned))
        .resource_records(
            ResourceRecord::builder()
                .value(ip.to_string())
                .build()
                .map_err(TestkitError::build("record"))?,
        )
        .build()
        .map_err(TestkitError::build("record set"))
}

async fn health_check(
    r53: &aws_sdk_route53::Client,
    label: &str,
    fqdn: &str,
    disabled: bool,
    inverted: bool,
) -> Result<String> {
    let config = HealthCheckConfig::builder()
        .r#type(HealthCheckType::Https)
        .fully_qualified_domain_name(fqdn)
        .port(443)
        .resource_path("/health")
        .disabled(disabled)
        .inverted(inverted)
        .build()
        .map_err(TestkitError::build("health check config"))?;
    let out = r53
        .create_health_check()
        .caller_reference(format!("zw-tls-world-{label}-{}", std::process::id()))
        .health_check_config(config)
        .send()
        .await
        .map_err(aws("route53:CreateHealthCheck"))?;
    let id = out
        .health_check()
        .map(|h| h.id().to_owned())
        .ok_or(TestkitError::MissingField {
            operation: "route53:CreateHealthCheck",
            field: "HealthCheck",
        })?;
    r53.change_tags_for_resource()
        .resource_type(TagResourceType::Healthcheck)
        .resource_id(&id)
        .add_tags(Tag::builder().key("Name").value(label).build())
        .send()
        .await
        .map_err(aws("route53:ChangeTagsForResource"))?;
    Ok(id)
}

/// A load balancer with an HTTPS listener carrying `certificate_arn`.
pub async fn load_balancer(sdk: &aws_config::SdkConfig, certificate_arn: &str) -> Result<String> {
    let ec2 = crate::moto_ec2::MotoEc2::new(sdk, "us-east-1")?;
    let vpc = ec2.create_vpc("10.9.0.0/16").await?;
    let mut subnets = Vec::new();
    for (cidr, az) in [("10.9.1.0/24", "us-east-1a"), ("10.9.2.0/24", "us-east-1b")] {
        subnets.push(ec2.create_subnet(&vpc, cidr, az).await?);
    }
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(sdk);
    let lb = elb
        .create_load_balancer()
        .name(format!("secure-{}", std::process::id() % 100_000))
        .set_subnets(Some(subnets))
        .send()
        .await
        .map_err(aws("elbv2:CreateLoadBalancer"))?;
    let lb = lb
        .load_balancers()
        .first()
        .ok_or(TestkitError::MissingField {
            operation: "elbv2:CreateLoadBalancer",
            field: "LoadBalancers",
        })?;
    let (arn, dns) = (
        lb.load_balancer_arn().unwrap_or_default().to_owned(),
        lb.dns_name().unwrap_or_default().to_owned(),
    );
    elb.create_listener()
        .load_balancer_arn(&arn)
        .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Https)
        .port(443)
        .certificates(
            aws_sdk_elasticloadbalancingv2::types::Certificate::builder()
                .certificate_arn(certificate_arn)
                .build(),
        )
        .default_actions(
            aws_sdk_elasticloadbalancingv2::types::Action::builder()
                .r#type(aws_sdk_elasticloadbalancingv2::types::ActionTypeEnum::FixedResponse)
                .fixed_response_config(
                    aws_sdk_elasticloadbalancingv2::types::FixedResponseActionConfig::builder()
                        .status_code("200")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .map_err(aws("elbv2:CreateListener"))?;
    Ok(dns)
}

/// Four distinct loopback addresses that can all listen on one port.
async fn servers(
    certs: Vec<(String, GeneratedCert, Option<String>)>,
) -> Result<(Vec<TlsServer>, u16, [IpAddr; 4])> {
    for _ in 0..10 {
        let ips = [
            random_loopback_ip(),
            random_loopback_ip(),
            random_loopback_ip(),
            random_loopback_ip(),
        ];
        let mut distinct = ips.to_vec();
        distinct.sort();
        distinct.dedup();
        if distinct.len() < 4 {
            continue;
        }
        let first =
            tls_lab::start(SocketAddr::new(ips[0], 0), Behaviour::Serve(certs.clone())).await?;
        let port = first.address.port();
        let mut all = vec![first];
        let mut ok = true;
        for (ip, b) in
            ips[1..]
                .iter()
                .zip([Behaviour::Refuse, Behaviour::Silent, Behaviour::Garbage])
        {
            match tls_lab::start(SocketAddr::new(*ip, port), b).await {
                Ok(s) => all.push(s),
                Err(_) => {
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            return Ok((all, port, ips));
        }
    }
    Err(TestkitError::Invalid(
        "TLS lab: no free port on four loopback addresses".into(),
    ))
}

/// Seeds the world into the emulator `sdk` points at (region us-east-1) and
/// starts its servers. `now` dates the certificates.
pub async fn tls_world(sdk: &aws_config::SdkConfig, now: DateTime<Utc>) -> Result<TlsWorld> {
    let trusted = TestCa::new("zonewarden test root", now)?;
    let rogue = TestCa::new("nobody trusts this CA", now)?;
    let good = |name: &str, days: i64| {
        trusted.leaf(
            name,
            &[],
            now - Duration::days(30),
            now + Duration::days(days),
        )
    };
    let chain = Some(trusted.pem());
    let mut certs: Vec<(String, GeneratedCert, Option<String>)> = Vec::new();
    for (name, days) in [
        ("valid.secure.test", 200),
        ("app.secure.test", 200),
        ("pay.secure.test", 200),
        ("legacy.old.secure.test", 200),
        ("lb.secure.test", 200),
        ("expiring.secure.test", 5),
    ] {
        certs.push((name.into(), good(name, days)?, chain.clone()));
    }
    certs.push((
        "expired.secure.test".into(),
        trusted.leaf(
            "expired.secure.test",
            &[],
            now - Duration::days(90),
            now - Duration::days(2),
        )?,
        chain.clone(),
    ));
    certs.push((
        "wrong.secure.test".into(),
        good("other.example.net", 200)?,
        chain.clone(),
    ));
    certs.push((
        "untrusted.secure.test".into(),
        rogue.leaf(
            "untrusted.secure.test",
            &[],
            now - Duration::days(30),
            now + Duration::days(200),
        )?,
        Some(rogue.pem()),
    ));
    let (servers, port, [serve, refuse, silent, garbage]) = servers(certs).await?;

    // ACM: a wildcard certificate attached to the load balancer (the lab
    // serves another one for lb.secure.test), and a requested one whose name
    // has no record.
    let acm = aws_sdk_acm::Client::new(sdk);
    let wildcard = trusted.leaf(
        "*.secure.test",
        &["secure.test"],
        now - Duration::days(1),
        now + Duration::days(300),
    )?;
    let wildcard_arn = seed::import_pem(&acm, &wildcard, chain.as_deref()).await?;
    let retired = seed::request_dns_certificate(&acm, "retired.secure.test", &[]).await?;
    seed::wait_issued(&acm, &retired, std::time::Duration::from_secs(30)).await?;
    let load_balancer_dns = load_balancer(sdk, &wildcard_arn).await?;

    let r53 = aws_sdk_route53::Client::new(sdk);
    let zone_id = seed::create_zone(&r53, ZONE).await?;
    let app_primary = health_check(&r53, "app-primary", "app.secure.test", false, false).await?;
    let orphan = health_check(&r53, "orphan", "old.secure.test", false, false).await?;
    let maintenance = health_check(&r53, "maintenance", "pay.secure.test", true, false).await?;
    let forced = health_check(&r53, "forced-failover", "app.secure.test", false, true).await?;
    let mut sets = vec![
        a_set("valid.secure.test.", serve)?,
        a_set("expiring.secure.test.", serve)?,
        a_set("expired.secure.test.", serve)?,
        a_set("wrong.secure.test.", serve)?,
        a_set("untrusted.secure.test.", serve)?,
        a_set("silent.secure.test.", silent)?,
        a_set("garbage.secure.test.", garbage)?,
        a_set("legacy.old.secure.test.", serve)?,
        failover(
            "app.secure.test.",
            serve,
            ResourceRecordSetFailover::Primary,
            Some(&app_primary),
        )?,
        failover(
            "app.secure.test.",
            refuse,
            ResourceRecordSetFailover::Secondary,
            Some(&forced),
        )?,
        failover(
            "pay.secure.test.",
            serve,
            ResourceRecordSetFailover::Primary,
            None,
        )?,
        failover(
            "pay.secure.test.",
            serve,
            ResourceRecordSetFailover::Secondary,
            Some(&maintenance),
        )?,
    ];
    sets.push(
        ResourceRecordSet::builder()
            .name("lb.secure.test.")
            .r#type(RrType::A)
            .alias_target(
                AliasTarget::builder()
                    .dns_name(format!("dualstack.{load_balancer_dns}"))
                    .hosted_zone_id("Z35SXDOTRQ7X7K")
                    .evaluate_target_health(true)
                    .build()
                    .map_err(TestkitError::build("alias"))?,
            )
            .build()
            .map_err(TestkitError::build("alias record set"))?,
    );
    let changes: Vec<Change> = sets
        .into_iter()
        .map(|s| {
            Change::builder()
                .action(ChangeAction::Upsert)
                .resource_record_set(s)
                .build()
                .map_err(TestkitError::build("change"))
        })
        .collect::<Result<_>>()?;
    r53.change_resource_record_sets()
        .hosted_zone_id(&zone_id)
        .change_batch(
            ChangeBatch::builder()
                .set_changes(Some(changes))
                .build()
                .map_err(TestkitError::build("batch"))?,
        )
        .send()
        .await
        .map_err(aws("route53:ChangeResourceRecordSets"))?;

    // The health check alarm lives in us-east-1, where the metric is.
    aws_sdk_cloudwatch::Client::new(sdk)
        .put_metric_alarm()
        .alarm_name("app-primary-down")
        .namespace("AWS/Route53")
        .metric_name("HealthCheckStatus")
        .dimensions(
            aws_sdk_cloudwatch::types::Dimension::builder()
                .name("HealthCheckId")
                .value(&app_primary)
                .build(),
        )
        .statistic(aws_sdk_cloudwatch::types::Statistic::Minimum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::LessThanThreshold)
        .send()
        .await
        .map_err(aws("cloudwatch:PutMetricAlarm"))?;

    // What resolution answers: the alias's name (asked through the zone's
    // servers in real life) and the load balancer's, from one lab root.
    let dns = AuthServer::start_on_port_53(vec![
        LabZone::new(".")
            .soa("a.root-servers.test.", "hostmaster.root-servers.test.", 1)
            .ns("@", "a.root-servers.test.")
            .record("lb.secure.test.", "A", &serve.to_string())
            .record(
                &format!("{}.", load_balancer_dns.trim_end_matches('.')),
                "A",
                &serve.to_string(),
            )
            .record(
                &format!("dualstack.{}.", load_balancer_dns.trim_end_matches('.')),
                "A",
                &serve.to_string(),
            ),
    ])
    .map_err(|e| TestkitError::Invalid(format!("lab DNS server: {e}")))?;

    let roots_file =
        std::env::temp_dir().join(format!("zw-tls-world-{}-{}.pem", std::process::id(), port));
    std::fs::write(&roots_file, trusted.pem())
        .map_err(|e| TestkitError::Invalid(format!("{}: {e}", roots_file.display())))?;

    Ok(TlsWorld {
        servers,
        dns,
        zone_id,
        port,
        roots_file,
        serve_ip: serve,
        refuse_ip: refuse,
        silent_ip: silent,
        garbage_ip: garbage,
        load_balancer_dns,
        health_checks: vec![
            ("app-primary".into(), app_primary),
            ("orphan".into(), orphan),
            ("maintenance".into(), maintenance),
            ("forced-failover".into(), forced),
        ],
    })
}
