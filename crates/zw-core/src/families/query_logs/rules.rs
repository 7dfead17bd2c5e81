//! The query-log family's findings: one per verdict of a window
//! (`judge`), and one per public zone without query logging.
//!
//! Traffic findings describe the window read: the next window without the
//! same condition resolves them (the zone's traffic check covers the zone
//! each time its window is read completely).

use super::judge::Verdict;
use crate::catalogue::FindingCode;
use crate::finding::{Detection, Resource, ResourceKind};
use crate::model::{HostedZone, Region};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

/// The window a verdict was judged over, as the evidence gives it.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Window {
    fn json(self) -> Value {
        json!({"from": stamp(self.from), "to": stamp(self.to)})
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn zone_resource(zone: &HostedZone) -> Resource {
    Resource {
        kind: ResourceKind::Route53HostedZone,
        id: zone.id.clone(),
        name: bare(&zone.name),
    }
}

fn bare(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// `querylog.logging-off` for a public zone without a query logging
/// configuration.
pub fn logging_off(zone: &HostedZone) -> Detection {
    let name = bare(&zone.name);
    Detection::new(
        FindingCode::QuerylogLoggingOff,
        zone_resource(zone),
        Region::global(),
        &zone.id,
        format!(
            "The public hosted zone {name} has no query logging: what clients ask it (SERVFAIL, names that do not exist) cannot be watched."
        ),
        json!({"zone": name}),
    )
}

fn counted(names: &[(String, u64)]) -> Value {
    Value::Array(
        names
            .iter()
            .map(|(name, count)| json!({"name": name, "count": count}))
            .collect(),
    )
}

/// Rates are shown to one decimal; the evidence keeps them as numbers.
fn rounded(rate: f64) -> f64 {
    (rate * 10.0).round() / 10.0
}

/// The finding of one zone verdict (None for a Resolver storm, which has
/// no zone: `storm`).
pub fn zone_finding(zone: &HostedZone, verdict: &Verdict, window: Window) -> Option<Detection> {
    let zone_name = bare(&zone.name);
    let name_resource = |name: &str| Resource {
        kind: ResourceKind::DnsName,
        id: format!("{}/{name}", zone.id),
        name: name.to_owned(),
    };
    let d = match verdict {
        Verdict::Servfail {
            count,
            per_hour,
            first,
            last,
            names,
            ..
        } => Detection::new(
            FindingCode::QuerylogServfail,
            zone_resource(zone),
            Region::global(),
            &zone.id,
            format!(
                "{zone_name} answered SERVFAIL {count} times ({:.1} per hour) between {} and {}{}.",
                per_hour,
                first.format("%Y-%m-%d %H:%M UTC"),
                last.format("%H:%M UTC"),
                names
                    .first()
                    .map(|(n, c)| format!(", most for {n} ({c})"))
                    .unwrap_or_default()
            ),
            json!({
                "count": count,
                "per_hour": rounded(*per_hour),
                "first": stamp(*first),
                "last": stamp(*last),
                "names": counted(names),
                "window": window.json(),
            }),
        ),
        Verdict::NxdomainSpike {
            per_hour,
            baseline,
            factor,
            names,
            ..
        } => Detection::new(
            FindingCode::QuerylogNxdomainSpike,
            zone_resource(zone),
            Region::global(),
            &zone.id,
            format!(
                "{zone_name} answered NXDOMAIN {:.1} times per hour, {:.1} times its median of the last 7 days ({:.1} per hour){}.",
                per_hour,
                factor,
                baseline,
                names
                    .first()
                    .map(|(n, c)| format!("; most for {n} ({c})"))
                    .unwrap_or_default()
            ),
            json!({
                "per_hour": rounded(*per_hour),
                "baseline": rounded(*baseline),
                "factor": rounded(*factor),
                "names": counted(names),
                "window": window.json(),
            }),
        ),
        Verdict::MissingName {
            name, count, edges, ..
        } => Detection::new(
            FindingCode::QuerylogMissingName,
            name_resource(name),
            Region::global(),
            &zone.id,
            format!(
                "{name} was asked {count} times and does not exist in {zone_name}{}.",
                edges
                    .first()
                    .map(|(e, _)| format!(" (most through the {e} edge location)"))
                    .unwrap_or_default()
            ),
            json!({
                "name": name,
                "count": count,
                "edges": Value::Array(edges.iter().map(|(e, c)| json!({"edge": e, "count": c})).collect()),
                "window": window.json(),
            }),
        ),
        Verdict::LikelyTypo {
            name,
            meant,
            distance,
            count,
            ..
        } => Detection::new(
            FindingCode::QuerylogLikelyTypo,
            name_resource(name),
            Region::global(),
            &zone.id,
            format!(
                "{name} was asked {count} times and does not exist in {zone_name}: probably a typo of {meant}."
            ),
            json!({
                "name": name,
                "meant": meant,
                "distance": distance,
                "count": count,
                "window": window.json(),
            }),
        ),
        Verdict::DeletedRecordQueried {
            name,
            removed_at,
            count,
            ..
        } => Detection::new(
            FindingCode::QuerylogDeletedRecordQueried,
            name_resource(name),
            Region::global(),
            &zone.id,
            format!(
                "{name} was asked {count} times after it was removed from {zone_name} (last seen there {}).",
                removed_at.format("%Y-%m-%d %H:%M UTC")
            ),
            json!({
                "name": name,
                "removed_at": stamp(*removed_at),
                "count": count,
                "window": window.json(),
            }),
        ),
        Verdict::ResolverStorm { .. } => return None,
    };
    Some(d)
}

/// The scope of the Resolver query logs of one region.
pub fn resolver_scope(region: &str) -> String {
    format!("resolver/{region}")
}

/// `querylog.resolver-nxdomain-storm` for a storm verdict, in the region
/// whose logs were read (None for a zone verdict).
pub fn storm(verdict: &Verdict, read_in: &Region, window: Window) -> Option<Detection> {
    let Verdict::ResolverStorm {
        source,
        vpc_id,
        account_id,
        region,
        nxdomain,
        distinct_names,
    } = verdict
    else {
        return None;
    };
    Some(Detection::new(
        FindingCode::QuerylogResolverNxdomainStorm,
        Resource {
            kind: ResourceKind::ResolverQuerySource,
            id: format!("{}/{source}", read_in.as_str()),
            name: source.clone(),
        },
        read_in.clone(),
        &resolver_scope(read_in.as_str()),
        format!(
            "{source} (VPC {vpc_id}) was answered NXDOMAIN for {distinct_names} distinct names ({nxdomain} answers) by the Route 53 Resolver."
        ),
        json!({
            "source": source,
            "vpc_id": vpc_id,
            "account_id": account_id,
            "region": region,
            "nxdomain": nxdomain,
            "distinct_names": distinct_names,
            "window": window.json(),
        }),
    ))
}
