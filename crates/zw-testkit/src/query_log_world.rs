//! The DNS traffic family's world in moto: a public zone `traffic.example`
//! (`www`, `api`, `old`) logging its queries to `/aws/route53/traffic.example`
//! in us-east-1, a zone `quiet.example` without query logging, and a Route 53
//! Resolver query logging configuration in `resolver_region` writing to
//! `/vpc/dns-queries`. Then ([`log_a_day`]) `old` is deleted and a day of
//! generated lines arrives: steady answers, a typo asked all day, the
//! deleted record still asked for, a burst of SERVFAIL, unknown names each
//! asked once, and one workload asking 150 names that do not exist.
//!
//! What the family finds in that day, exactly: `querylog.likely-typo`
//! (`wwww`, 144 times), `querylog.deleted-record-queried` (`old`, 96),
//! `querylog.servfail` (30), `querylog.resolver-nxdomain-storm`
//! (`i-0noisy`, 150 names), and `querylog.logging-off` for the quiet zone.

use crate::dns_world::{self, rec};
use crate::error::{Result, TestkitError};
use crate::logs;
use aws_config::SdkConfig;
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};
use chrono::{DateTime, Duration, SecondsFormat, Utc};

pub const ZONE: &str = "traffic.example";
pub const QUIET: &str = "quiet.example";
pub const RESOLVER_GROUP: &str = "/vpc/dns-queries";
/// The client address of every public line (never to be stored).
pub const CLIENT: &str = "203.0.113.77";
/// The EDNS client subnet of every public line.
pub const SUBNET: &str = "198.51.100.0/24";
/// The source address of every Resolver record.
pub const SOURCE_ADDRESS: &str = "10.0.3.7";
const OLD_VALUE: &str = "192.0.2.12";

/// What [`setup`] made.
#[derive(Debug, Clone)]
pub struct QueryLogWorld {
    pub zone_id: String,
    pub quiet_id: String,
    pub group: String,
    pub resolver_region: String,
}

/// The zones, their records, the log groups and both logging configurations.
pub async fn setup(
    sdk: &SdkConfig,
    resolver_region: &str,
    reference: &str,
) -> Result<QueryLogWorld> {
    let r53 = aws_sdk_route53::Client::new(sdk);
    let zone_id = dns_world::create_public_zone(&r53, ZONE, format!("{reference}-traffic")).await?;
    let quiet_id = dns_world::create_public_zone(&r53, QUIET, format!("{reference}-quiet")).await?;
    dns_world::upsert(
        &r53,
        &zone_id,
        &[
            rec(&format!("www.{ZONE}"), "A", &["192.0.2.10"]),
            rec(&format!("api.{ZONE}"), "A", &["192.0.2.11"]),
            rec(&format!("old.{ZONE}"), "A", &[OLD_VALUE]),
        ],
    )
    .await?;
    let group = format!("/aws/route53/{ZONE}");
    logs::create_log_group(sdk, "us-east-1", &group).await?;
    let arn = logs::log_group_arn(sdk, "us-east-1", &group).await?;
    logs::create_query_logging_config(sdk, &zone_id, &arn).await?;
    logs::create_log_group(sdk, resolver_region, RESOLVER_GROUP).await?;
    let resolver_arn = logs::log_group_arn(sdk, resolver_region, RESOLVER_GROUP).await?;
    logs::create_resolver_query_log_config(sdk, resolver_region, "vpc-dns", &resolver_arn).await?;
    Ok(QueryLogWorld {
        zone_id,
        quiet_id,
        group,
        resolver_region: resolver_region.to_owned(),
    })
}

/// The world [`setup`] made, found by its zones' names (for a second
/// process, such as the demo's next step).
pub async fn find(sdk: &SdkConfig, resolver_region: &str) -> Result<QueryLogWorld> {
    let r53 = aws_sdk_route53::Client::new(sdk);
    let zones = r53
        .list_hosted_zones()
        .send()
        .await
        .map_err(TestkitError::aws("route53:ListHostedZones"))?;
    let id = |name: &str| {
        zones
            .hosted_zones()
            .iter()
            .find(|z| z.name().trim_end_matches('.') == name)
            .map(|z| z.id().trim_start_matches("/hostedzone/").to_owned())
            .ok_or_else(|| TestkitError::Invalid(format!("no hosted zone {name}: run setup first")))
    };
    Ok(QueryLogWorld {
        zone_id: id(ZONE)?,
        quiet_id: id(QUIET)?,
        group: format!("/aws/route53/{ZONE}"),
        resolver_region: resolver_region.to_owned(),
    })
}

/// Deletes `old` and puts a day of lines ending at `end` into both log
/// groups; returns how many events each group got.
pub async fn log_a_day(
    sdk: &SdkConfig,
    world: &QueryLogWorld,
    end: DateTime<Utc>,
) -> Result<(usize, usize)> {
    let r53 = aws_sdk_route53::Client::new(sdk);
    let set = ResourceRecordSet::builder()
        .name(format!("old.{ZONE}."))
        .r#type(RrType::A)
        .ttl(300)
        .resource_records(
            ResourceRecord::builder()
                .value(OLD_VALUE)
                .build()
                .map_err(TestkitError::build("route53 ResourceRecord"))?,
        )
        .build()
        .map_err(TestkitError::build("route53 ResourceRecordSet"))?;
    r53.change_resource_record_sets()
        .hosted_zone_id(&world.zone_id)
        .change_batch(
            ChangeBatch::builder()
                .changes(
                    Change::builder()
                        .action(ChangeAction::Delete)
                        .resource_record_set(set)
                        .build()
                        .map_err(TestkitError::build("route53 Change"))?,
                )
                .build()
                .map_err(TestkitError::build("route53 ChangeBatch"))?,
        )
        .send()
        .await
        .map_err(TestkitError::aws("route53:ChangeResourceRecordSets"))?;
    let public = public_day(&world.zone_id, end);
    logs::put_events(sdk, "us-east-1", &world.group, "edge", &public).await?;
    let resolver = resolver_day(&world.resolver_region, end);
    logs::put_events(
        sdk,
        &world.resolver_region,
        RESOLVER_GROUP,
        "resolver",
        &resolver,
    )
    .await?;
    Ok((public.len(), resolver.len()))
}

fn public_line(
    at: DateTime<Utc>,
    zone_id: &str,
    name: &str,
    rcode: &str,
    edge: &str,
) -> (DateTime<Utc>, String) {
    (
        at,
        format!(
            "1.0 {} {zone_id} {name} A {rcode} UDP {edge} {CLIENT} {SUBNET}",
            at.to_rfc3339_opts(SecondsFormat::Millis, true)
        ),
    )
}

/// A day of public query log lines ending at `end`: steady answers for
/// `www` (5 a minute), `wwww` (a typo) every 10 minutes, the deleted `old`
/// every 15 minutes, 30 SERVFAIL answers for `api` in five minutes, and a
/// different unknown name every half hour (each asked once: no finding).
/// From the day's second minute: a scan reading the day a minute later
/// than `end` reads the same lines.
pub fn public_day(zone_id: &str, end: DateTime<Utc>) -> Vec<(DateTime<Utc>, String)> {
    let start = end - Duration::hours(24);
    let mut lines = Vec::new();
    for minute in 1..24 * 60 {
        let t = start + Duration::minutes(minute);
        for i in 0..5 {
            let edge = if i % 2 == 0 { "FRA56-P1" } else { "IAD89-C2" };
            lines.push(public_line(
                t + Duration::seconds(i * 11),
                zone_id,
                &format!("www.{ZONE}"),
                "NOERROR",
                edge,
            ));
        }
        if minute % 10 == 3 {
            lines.push(public_line(
                t,
                zone_id,
                &format!("wwww.{ZONE}"),
                "NXDOMAIN",
                "LHR61-P4",
            ));
        }
        if minute % 15 == 7 {
            lines.push(public_line(
                t,
                zone_id,
                &format!("old.{ZONE}"),
                "NXDOMAIN",
                "FRA56-P1",
            ));
        }
        if minute % 30 == 11 {
            lines.push(public_line(
                t,
                zone_id,
                &format!("n{minute}.{ZONE}"),
                "NXDOMAIN",
                "IAD89-C2",
            ));
        }
    }
    let burst = start + Duration::hours(20);
    for i in 0..30 {
        lines.push(public_line(
            burst + Duration::seconds(i * 10),
            zone_id,
            &format!("api.{ZONE}"),
            "SERVFAIL",
            "FRA56-P1",
        ));
    }
    lines
}

fn resolver_record(
    region: &str,
    at: DateTime<Utc>,
    instance: &str,
    name: &str,
    rcode: &str,
) -> (DateTime<Utc>, String) {
    (
        at,
        format!(
            r#"{{"version":"1.100000","account_id":"123456789012","region":"{region}","vpc_id":"vpc-0a1b2c","query_timestamp":"{}","query_name":"{name}.","query_type":"A","query_class":"IN","rcode":"{rcode}","answers":[],"srcaddr":"{SOURCE_ADDRESS}","srcport":"40000","transport":"UDP","srcids":{{"instance":"{instance}"}}}}"#,
            at.to_rfc3339_opts(SecondsFormat::Secs, true)
        ),
    )
}

/// A day of Resolver query log records: one instance's steady answers (one
/// a minute), and another asking 150 different names that do not exist.
pub fn resolver_day(region: &str, end: DateTime<Utc>) -> Vec<(DateTime<Utc>, String)> {
    let start = end - Duration::hours(24);
    let mut records: Vec<_> = (1..24 * 60)
        .map(|m| {
            resolver_record(
                region,
                start + Duration::minutes(m),
                "i-0steady",
                "db.corp.internal",
                "NOERROR",
            )
        })
        .collect();
    let storm = start + Duration::hours(22);
    records.extend((0..150).map(|i| {
        resolver_record(
            region,
            storm + Duration::seconds(i * 20),
            "i-0noisy",
            &format!("x{i}.update.internal"),
            "NXDOMAIN",
        )
    }));
    records
}
