//! Dangling targets: records of a public zone that point at something that
//! no longer exists, which whoever recreates it can take over.
//!
//! | record | gone when | data needed |
//! |---|---|---|
//! | CNAME | target resolves NXDOMAIN | `cname_targets[target]` |
//! | CNAME / alias to an S3 website endpoint | the bucket does not exist | `buckets[bucket]` |
//! | CNAME to an S3 bucket endpoint (`<bucket>.s3.<region>.amazonaws.com`) | the bucket does not exist | `buckets[bucket]` |
//! | CNAME / alias to CloudFront | not a distribution (nor an API Gateway edge target) of the account | `endpoints.cloudfront` (+ `api_gateway`) |
//! | CNAME / alias to Elastic Beanstalk | not an environment of the account | `endpoints.beanstalk` |
//! | CNAME / alias to a load balancer | not a load balancer of the account | `endpoints.load_balancers` |
//! | CNAME / alias to API Gateway | not an API or domain target of the account | `endpoints.api_gateway` |
//! | A / AAAA | inside AWS's EC2 ranges, not an address of the account | `ip_ranges`, `endpoints.addresses` |
//! | NS below the apex | no server answers authoritatively, at least one is lame | the servers' SOA answers |
//!
//! Coverage is conservative: `DnsDangling` for a zone is covered only when
//! every sub-check that applies to every record had its data.

use super::{
    DnsOutcome, DnsRuleSettings, authoritative_answer, detection, put_list, record_resource,
};
use crate::catalogue::{Check, FindingCode};
use crate::families::dns::model::{
    AccountEndpoints, DnsFacts, Resolution, ResponseCode, SubDelegation, ZoneFacts,
};
use crate::finding::Resource;
use crate::model::{RecordSet, Region, normalize_dns_name};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::net::IpAddr;

/// AWS service prefixes whose addresses a customer can hold (Elastic IPs,
/// instance and load balancer addresses). `AMAZON` is the superset of every
/// service; an address that is also in a prefix of any other service
/// (CloudFront, S3, Route 53, Global Accelerator...) is AWS's own and never
/// reported.
const CUSTOMER_SERVICES: [&str; 2] = ["EC2", "AMAZON"];

/// What kind of AWS endpoint a target name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    S3Website,
    /// A bucket's REST endpoint (`<bucket>.s3.<region>.amazonaws.com`).
    S3Bucket,
    CloudFront,
    Beanstalk,
    LoadBalancer,
    ApiGateway,
}

impl TargetKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::S3Website => "s3-website",
            Self::S3Bucket => "s3-bucket",
            Self::CloudFront => "cloudfront",
            Self::Beanstalk => "elastic-beanstalk",
            Self::LoadBalancer => "load-balancer",
            Self::ApiGateway => "api-gateway",
        }
    }

    fn exploitable(self) -> &'static str {
        match self {
            Self::S3Website | Self::S3Bucket => {
                "bucket names are global: anyone can create a bucket with this name and serve content under your name"
            }
            Self::CloudFront => {
                "any AWS account can attach this name to its own distribution as an alternate domain name"
            }
            Self::Beanstalk => {
                "environment CNAME prefixes are first come, first served: anyone can create an environment with this name"
            }
            Self::LoadBalancer => {
                "load balancer names carry a random suffix, so a takeover is unlikely, but the name is broken"
            }
            Self::ApiGateway => {
                "the name points at an API or domain that is gone; a recreated custom domain in another account may claim it"
            }
        }
    }
}

/// Classifies a target name (normalised) as an AWS endpoint.
pub fn classify(target: &str) -> Option<TargetKind> {
    let t = normalize_dns_name(target);
    let t = t.strip_prefix("dualstack.").unwrap_or(&t);
    if t.ends_with(".cloudfront.net.") {
        Some(TargetKind::CloudFront)
    } else if t.ends_with(".elasticbeanstalk.com.") {
        Some(TargetKind::Beanstalk)
    } else if t.ends_with(".elb.amazonaws.com.") {
        Some(TargetKind::LoadBalancer)
    } else if t.contains(".execute-api.") && t.ends_with(".amazonaws.com.") {
        Some(TargetKind::ApiGateway)
    } else if s3_website_host(t).is_some() {
        Some(TargetKind::S3Website)
    } else if s3_rest_bucket(t).is_some() {
        Some(TargetKind::S3Bucket)
    } else {
        None
    }
}

/// For `s3-website-<region>.amazonaws.com.` or `s3-website.<region>...`,
/// with an optional `<bucket>.` in front: the bucket part ("" when none).
fn s3_website_host(target: &str) -> Option<&str> {
    let t = target.strip_suffix(".amazonaws.com.")?;
    let (bucket, endpoint) = match t.rfind("s3-website") {
        Some(0) => ("", t),
        Some(i) if t[..i].ends_with('.') => (&t[..i - 1], &t[i..]),
        _ => return None,
    };
    let region = endpoint
        .strip_prefix("s3-website-")
        .or_else(|| endpoint.strip_prefix("s3-website."))?;
    (!region.is_empty() && !region.contains('.')).then_some(bucket)
}

/// For a virtual-hosted bucket endpoint (`<bucket>.s3.amazonaws.com.`,
/// `<bucket>.s3.<region>.amazonaws.com.`, `<bucket>.s3-<region>...`,
/// `<bucket>.s3.dualstack.<region>...`): the bucket. Bucket names may hold
/// dots, so the last `s3` label decides.
fn s3_rest_bucket(target: &str) -> Option<String> {
    let t = target.strip_suffix(".amazonaws.com.")?;
    let labels: Vec<&str> = t.split('.').collect();
    let is_region = |l: &str| {
        let parts: Vec<&str> = l.split('-').collect();
        parts.len() >= 2
            && parts.iter().all(|p| !p.is_empty())
            && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
    };
    let j = labels
        .iter()
        .rposition(|l| *l == "s3" || l.strip_prefix("s3-").is_some_and(&is_region))?;
    let rest_ok = labels[j + 1..]
        .iter()
        .all(|l| *l == "dualstack" || is_region(l));
    (j > 0 && rest_ok).then(|| labels[..j].join("."))
}

/// The bucket an S3 website target serves: `<bucket>.s3-website-...` names it;
/// an alias to the bare endpoint serves the bucket named like the record.
pub fn s3_bucket_for(record_name: &str, target: &str) -> Option<String> {
    let target = normalize_dns_name(target);
    let Some(bucket) = s3_website_host(&target) else {
        return s3_rest_bucket(&target);
    };
    if bucket.is_empty() {
        let name = normalize_dns_name(record_name);
        Some(name.trim_end_matches('.').to_owned())
    } else {
        Some(bucket.to_owned())
    }
}

/// CNAME targets of the public zones, for the collector to resolve.
pub fn cname_targets(zones: &[ZoneFacts]) -> BTreeSet<String> {
    zones
        .iter()
        .filter(|z| !z.inventory.zone.private)
        .flat_map(|z| &z.inventory.record_sets)
        .filter(|s| s.record_type == "CNAME" && s.alias.is_none())
        .flat_map(|s| s.values.iter().map(|v| normalize_dns_name(v)))
        .collect()
}

/// Buckets behind S3 website targets of the public zones, for the collector
/// to check.
pub fn buckets_to_check(zones: &[ZoneFacts]) -> BTreeSet<String> {
    zones
        .iter()
        .filter(|z| !z.inventory.zone.private)
        .flat_map(|z| &z.inventory.record_sets)
        .flat_map(|s| targets(s).into_iter().map(move |t| (s, t)))
        .filter_map(|(s, t)| s3_bucket_for(&s.name, &t))
        .collect()
}

/// The names a record set points at: CNAME values and alias targets.
fn targets(set: &RecordSet) -> Vec<String> {
    match &set.alias {
        Some(alias) => vec![normalize_dns_name(&alias.dns_name)],
        None if set.record_type == "CNAME" => {
            set.values.iter().map(|v| normalize_dns_name(v)).collect()
        }
        None => vec![],
    }
}

/// A parsed prefix of `ip-ranges.json`.
#[derive(Debug, Clone, Copy)]
struct Prefix {
    net: IpAddr,
    len: u32,
    customer: bool,
}

impl Prefix {
    fn parse(prefix: &str, service: &str) -> Option<Self> {
        let (net, len) = prefix.trim().split_once('/')?;
        let (net, len) = (net.parse::<IpAddr>().ok()?, len.parse::<u32>().ok()?);
        let max = if net.is_ipv4() { 32 } else { 128 };
        (len <= max).then_some(Self {
            net,
            len,
            customer: CUSTOMER_SERVICES.contains(&service),
        })
    }

    fn contains(self, addr: IpAddr) -> bool {
        match (self.net, addr) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - self.len).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - self.len).unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// Whether `addr` is inside `prefix` (`a.b.c.d/n` or `x::/n`).
pub fn prefix_contains(prefix: &str, addr: IpAddr) -> bool {
    Prefix::parse(prefix, "").is_some_and(|p| p.contains(addr))
}

/// Whether an address is one a customer could have held and released: in a
/// customer-holdable prefix and in no prefix of another service.
fn in_customer_range(addr: IpAddr, prefixes: &[Prefix]) -> bool {
    let mut customer = false;
    for p in prefixes.iter().filter(|p| p.contains(addr)) {
        if !p.customer {
            return false;
        }
        customer = true;
    }
    customer
}

/// The account's endpoint names, normalised once; None where not listed.
type Names = Option<BTreeSet<String>>;

fn names(list: Option<&Vec<String>>) -> Names {
    list.map(|l| l.iter().map(|n| normalize_dns_name(n)).collect())
}

/// Accumulates one zone's findings and completeness.
struct Scan<'f> {
    facts: &'f DnsFacts,
    cloudfront: Names,
    load_balancers: Names,
    beanstalk: Names,
    api_gateway: Names,
    prefixes: Option<Vec<Prefix>>,
    complete: bool,
}

impl<'f> Scan<'f> {
    fn new(facts: &'f DnsFacts) -> Self {
        let ep: &AccountEndpoints = &facts.endpoints;
        Self {
            facts,
            cloudfront: names(ep.cloudfront.as_ref()),
            load_balancers: names(ep.load_balancers.as_ref()),
            beanstalk: names(ep.beanstalk.as_ref()),
            api_gateway: names(ep.api_gateway.as_ref()),
            prefixes: facts.ip_ranges.as_ref().map(|r| {
                r.iter()
                    .filter_map(|p| Prefix::parse(&p.prefix, &p.service))
                    .collect()
            }),
            complete: true,
        }
    }

    /// Whether `target` is listed; None when the list could not be collected.
    fn listed(list: &Names, target: &str) -> Option<bool> {
        list.as_ref().map(|l| l.contains(target))
    }

    fn endpoint_gone(&mut self, kind: TargetKind, target: &str) -> bool {
        let bare = target.strip_prefix("dualstack.").unwrap_or(target);
        let found = match kind {
            TargetKind::CloudFront => {
                // API Gateway edge-optimised domains are CloudFront names too.
                match (
                    Self::listed(&self.cloudfront, bare),
                    Self::listed(&self.api_gateway, bare),
                ) {
                    (Some(true), _) | (_, Some(true)) => Some(true),
                    (Some(false), Some(false)) => Some(false),
                    _ => None,
                }
            }
            TargetKind::Beanstalk => Self::listed(&self.beanstalk, bare),
            TargetKind::LoadBalancer => Self::listed(&self.load_balancers, bare),
            TargetKind::ApiGateway => Self::listed(&self.api_gateway, bare),
            TargetKind::S3Website | TargetKind::S3Bucket => None,
        };
        match found {
            Some(found) => !found,
            None => {
                self.complete = false;
                false
            }
        }
    }

    fn check_set(&mut self, set: &RecordSet) -> Vec<Value> {
        let mut gone = Vec::new();
        for target in targets(set) {
            if set.alias.is_none() {
                match self.facts.cname_targets.get(&target) {
                    Some(Resolution::NxDomain { cname_chain }) => gone.push(json!({
                        "target": target,
                        "kind": "cname",
                        "reason": "the target does not exist (NXDOMAIN)",
                        "cname_chain": cname_chain,
                        "exploitable": "whoever registers or creates the target name controls what this name serves",
                    })),
                    Some(Resolution::Answer { .. } | Resolution::NoData { .. }) => {}
                    Some(Resolution::Failed { .. }) | None => self.complete = false,
                }
            }
            let Some(kind) = classify(&target) else {
                continue;
            };
            if matches!(kind, TargetKind::S3Website | TargetKind::S3Bucket) {
                let Some(bucket) = s3_bucket_for(&set.name, &target) else {
                    continue;
                };
                match self.facts.buckets.get(&bucket) {
                    Some(false) => gone.push(json!({
                        "target": target,
                        "kind": kind.as_str(),
                        "bucket": bucket,
                        "reason": format!("bucket `{bucket}` does not exist"),
                        "exploitable": kind.exploitable(),
                    })),
                    Some(true) => {}
                    None => self.complete = false,
                }
            } else if self.endpoint_gone(kind, &target) {
                gone.push(json!({
                    "target": target,
                    "kind": kind.as_str(),
                    "reason": format!("not a {} endpoint of this account", kind.as_str()),
                    "exploitable": kind.exploitable(),
                }));
            }
        }
        if set.alias.is_none() && matches!(set.record_type.as_str(), "A" | "AAAA") {
            gone.extend(self.released_addresses(set));
        }
        gone
    }

    fn released_addresses(&mut self, set: &RecordSet) -> Vec<Value> {
        let Some(prefixes) = &self.prefixes else {
            if !set.values.is_empty() {
                self.complete = false;
            }
            return vec![];
        };
        let mut out = Vec::new();
        for value in &set.values {
            let Ok(addr) = value.trim().parse::<IpAddr>() else {
                continue;
            };
            if !in_customer_range(addr, prefixes) {
                continue;
            }
            match &self.facts.endpoints.addresses {
                None => self.complete = false,
                Some(ours) if ours.contains(&addr) => {}
                Some(_) => out.push(json!({
                    "target": addr.to_string(),
                    "kind": "aws-address",
                    "reason": "inside AWS's EC2 address ranges but not an Elastic IP or interface address of this account",
                    "exploitable": "a released address goes back to AWS's pool and can be allocated to another customer, who then receives this name's traffic",
                })),
            }
        }
        out
    }

    /// A delegated subdomain: lame servers (answering, but not for it).
    fn check_sub_delegation(&mut self, sub: &SubDelegation) -> Vec<Value> {
        let name = normalize_dns_name(&sub.name);
        let mut lame = Vec::new();
        let mut serving = 0;
        for server in &sub.servers {
            let answers: Vec<_> = server
                .observations
                .iter()
                .filter(|o| normalize_dns_name(&o.question.name) == name)
                .collect();
            if answers
                .iter()
                .filter_map(|o| authoritative_answer(o))
                .any(|a| a.rcode == ResponseCode::NoError)
            {
                serving += 1;
                continue;
            }
            let definite = answers.iter().find_map(|o| match &o.outcome {
                Ok(a) if !a.authoritative => Some("answered without the AA bit".to_owned()),
                Ok(a) if a.rcode != ResponseCode::NoError => {
                    Some(format!("answered {}", a.rcode.as_str()))
                }
                _ => None,
            });
            match definite {
                Some(reason) => lame.push(json!({"server": server.name, "reason": reason})),
                // Timeouts, no address, not asked: not evidence either way.
                None => self.complete = false,
            }
        }
        if sub.servers.is_empty() {
            self.complete = false;
        }
        if lame.is_empty() {
            return vec![];
        }
        vec![json!({
            "target": name,
            "kind": "ns-delegation",
            "reason": format!(
                "{} of {} delegated server(s) do not serve the subdomain ({} do)",
                lame.len(),
                sub.servers.len(),
                serving
            ),
            "servers": lame,
            "exploitable": "resolvers that pick a lame server can be answered by whoever creates the subdomain's zone on it (for Route 53 servers: a hosted zone of the same name in any account that lands on that server)",
        })]
    }
}

pub(crate) fn evaluate(
    zone: &ZoneFacts,
    facts: &DnsFacts,
    settings: &DnsRuleSettings,
    out: &mut DnsOutcome,
) {
    let hz = &zone.inventory.zone;
    let mut scan = Scan::new(facts);
    let report = |resource: Resource, gone: Vec<Value>, out: &mut DnsOutcome| {
        let Some(first) = gone.first() else {
            return;
        };
        let message = format!(
            "{} points at {}: {}; whoever creates that can take the name over",
            resource.name,
            first["target"].as_str().unwrap_or_default(),
            first["reason"].as_str().unwrap_or_default()
        );
        let mut evidence = serde_json::Map::new();
        put_list(&mut evidence, "targets", gone, settings.evidence_cap);
        out.detections.push(detection(
            FindingCode::DnsDanglingTarget,
            resource,
            Region::global(),
            &hz.id,
            message,
            Value::Object(evidence),
        ));
    };
    for set in &zone.inventory.record_sets {
        let gone = scan.check_set(set);
        report(
            record_resource(
                hz,
                &set.name,
                &set.record_type,
                set.set_identifier.as_deref(),
            ),
            gone,
            out,
        );
    }
    for sub in &zone.sub_delegations {
        let gone = scan.check_sub_delegation(sub);
        report(record_resource(hz, &sub.name, "NS", None), gone, out);
    }
    if scan.complete {
        out.cover(Check::DnsDangling, &hz.id);
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use crate::families::dns::model::{
        AliasTarget, AwsIpPrefix, DnsAnswer, QueryFailure, ServerFacts,
    };

    fn run(facts: &DnsFacts) -> DnsOutcome {
        let mut out = DnsOutcome::default();
        evaluate(
            &facts.zones[0],
            facts,
            &DnsRuleSettings::default(),
            &mut out,
        );
        out
    }

    fn with_record(set: RecordSet) -> DnsFacts {
        let mut facts = healthy_facts();
        facts.zones[0].inventory.record_sets.push(set);
        facts
    }

    fn alias(name: &str, target: &str) -> RecordSet {
        RecordSet {
            alias: Some(AliasTarget {
                dns_name: target.into(),
                hosted_zone_id: "ZSERVICE".into(),
                evaluate_target_health: false,
            }),
            ..RecordSet::simple(name, "A", &[])
        }
    }

    #[test]
    fn classifies_aws_targets_and_finds_buckets() {
        let cases = [
            ("d111abcdef8.cloudfront.net.", Some(TargetKind::CloudFront)),
            (
                "app.eu-west-1.elasticbeanstalk.com",
                Some(TargetKind::Beanstalk),
            ),
            (
                "dualstack.my-lb-1234.eu-west-1.elb.amazonaws.com.",
                Some(TargetKind::LoadBalancer),
            ),
            (
                "abc123.execute-api.eu-west-1.amazonaws.com.",
                Some(TargetKind::ApiGateway),
            ),
            (
                "d-abc123.execute-api.eu-west-1.amazonaws.com.",
                Some(TargetKind::ApiGateway),
            ),
            (
                "www.example.com.s3-website-eu-west-1.amazonaws.com.",
                Some(TargetKind::S3Website),
            ),
            (
                "assets.s3-website.eu-central-1.amazonaws.com.",
                Some(TargetKind::S3Website),
            ),
            (
                "s3-website-us-east-1.amazonaws.com.",
                Some(TargetKind::S3Website),
            ),
            ("s3.amazonaws.com.", None),
            ("assets.s3.amazonaws.com.", Some(TargetKind::S3Bucket)),
            (
                "my.assets.s3.eu-west-1.amazonaws.com.",
                Some(TargetKind::S3Bucket),
            ),
            (
                "assets.s3-eu-west-1.amazonaws.com.",
                Some(TargetKind::S3Bucket),
            ),
            (
                "assets.s3.dualstack.eu-west-1.amazonaws.com.",
                Some(TargetKind::S3Bucket),
            ),
            (
                "ap-111122223333.s3-accesspoint.eu-west-1.amazonaws.com.",
                None,
            ),
            ("ec2-1-2-3-4.eu-west-1.compute.amazonaws.com.", None),
            ("example.org.", None),
            ("mys3-website-x.amazonaws.com.", None),
        ];
        for (target, kind) in cases {
            assert_eq!(classify(target), kind, "{target}");
        }
        let buckets = [
            (
                "www.example.com.",
                "www.example.com.s3-website-eu-west-1.amazonaws.com.",
                Some("www.example.com"),
            ),
            (
                "x.example.com.",
                "assets.s3-website.eu-central-1.amazonaws.com",
                Some("assets"),
            ),
            (
                "static.example.com.",
                "s3-website-us-east-1.amazonaws.com.",
                Some("static.example.com"),
            ),
            (
                "static.example.com.",
                "s3-website.us-east-1.amazonaws.com.",
                Some("static.example.com"),
            ),
            ("x.example.com.", "d111.cloudfront.net.", None),
            (
                "x.example.com.",
                "my.assets.s3.eu-west-1.amazonaws.com.",
                Some("my.assets"),
            ),
            ("x.example.com.", "assets.s3.amazonaws.com", Some("assets")),
        ];
        for (name, target, bucket) in buckets {
            assert_eq!(
                s3_bucket_for(name, target).as_deref(),
                bucket,
                "{name} -> {target}"
            );
        }
    }

    #[test]
    fn cidr_containment() {
        let cases = [
            ("52.94.76.0/22", "52.94.79.255", true),
            ("52.94.76.0/22", "52.94.80.0", false),
            ("0.0.0.0/0", "8.8.8.8", true),
            ("192.0.2.1/32", "192.0.2.1", true),
            ("2600:1f14::/35", "2600:1f14:1fff::1", true),
            ("2600:1f14::/35", "2600:1f14:2000::1", false),
            ("2600:1f14::/35", "52.94.76.1", false),
            ("garbage", "52.94.76.1", false),
            ("52.94.76.0/40", "52.94.76.1", false),
        ];
        for (prefix, addr, inside) in cases {
            let addr: IpAddr = addr.parse().expect("addr");
            assert_eq!(prefix_contains(prefix, addr), inside, "{prefix} {addr}");
        }
    }

    #[test]
    fn healthy_zone_is_clean_and_covered() {
        let facts = healthy_facts();
        let out = run(&facts);
        assert!(out.detections.is_empty(), "{:#?}", out.detections);
        assert!(out.is_covered(Check::DnsDangling, "Z1"));
        assert_eq!(
            cname_targets(&facts.zones),
            BTreeSet::from(["blog.example.org.".to_owned()])
        );
    }

    #[test]
    fn nxdomain_cname_is_dangling_until_the_target_exists() {
        let mut facts = healthy_facts();
        facts.cname_targets.insert(
            "blog.example.org.".into(),
            Resolution::NxDomain {
                cname_chain: vec![],
            },
        );
        let out = run(&facts);
        assert_eq!(out.detections.len(), 1);
        let d = &out.detections[0];
        assert_eq!(d.code, FindingCode::DnsDanglingTarget);
        assert_eq!(d.resource.id, "Z1/blog.example.com./CNAME");
        assert_eq!(d.evidence["targets"][0]["kind"], "cname");
        assert!(d.evidence["targets"][0]["exploitable"].is_string());
        assert!(out.is_covered(Check::DnsDangling, "Z1"));
        // Resolution failed: no claim, not covered.
        facts.cname_targets.insert(
            "blog.example.org.".into(),
            Resolution::Failed {
                reason: "SERVFAIL".into(),
            },
        );
        let out = run(&facts);
        assert!(out.detections.is_empty());
        assert!(!out.is_covered(Check::DnsDangling, "Z1"));
    }

    #[test]
    fn s3_website_targets_need_their_bucket() {
        let mut facts = with_record(alias(
            "static.example.com.",
            "s3-website-eu-west-1.amazonaws.com.",
        ));
        facts.buckets.insert("static.example.com".into(), false);
        let out = run(&facts);
        assert_eq!(out.detections.len(), 1, "{:#?}", out.detections);
        assert_eq!(
            out.detections[0].evidence["targets"][0]["bucket"],
            "static.example.com"
        );
        assert_eq!(
            buckets_to_check(&facts.zones),
            BTreeSet::from(["static.example.com".to_owned()])
        );
        facts.buckets.insert("static.example.com".into(), true);
        assert!(run(&facts).detections.is_empty());
        facts.buckets.clear();
        let out = run(&facts);
        assert!(out.detections.is_empty());
        assert!(!out.is_covered(Check::DnsDangling, "Z1"));
    }

    #[test]
    fn service_endpoints_must_be_the_accounts() {
        // (record, endpoints that make it fine)
        let cloudfront = alias("cdn.example.com.", "d111.cloudfront.net.");
        let lb = alias(
            "app.example.com.",
            "dualstack.my-lb-1.eu-west-1.elb.amazonaws.com.",
        );
        let eb = RecordSet::simple(
            "eb.example.com.",
            "CNAME",
            &["myapp.eu-west-1.elasticbeanstalk.com."],
        );
        let api = alias(
            "api.example.com.",
            "d-abc.execute-api.eu-west-1.amazonaws.com.",
        );
        for set in [cloudfront, lb, eb, api] {
            let target = targets(&set)[0].clone();
            let mut facts = with_record(set.clone());
            facts.cname_targets.insert(
                target.clone(),
                Resolution::Answer {
                    records: vec![],
                    cname_chain: vec![],
                },
            );
            let out = run(&facts);
            assert_eq!(out.detections.len(), 1, "{target}");
            assert!(out.is_covered(Check::DnsDangling, "Z1"));
            let bare = target
                .strip_prefix("dualstack.")
                .unwrap_or(&target)
                .to_owned();
            let ep = &mut facts.endpoints;
            match classify(&target) {
                Some(TargetKind::CloudFront) => ep.cloudfront = Some(vec![bare]),
                Some(TargetKind::LoadBalancer) => ep.load_balancers = Some(vec![bare]),
                Some(TargetKind::Beanstalk) => ep.beanstalk = Some(vec![bare]),
                Some(TargetKind::ApiGateway) => ep.api_gateway = Some(vec![bare]),
                other => panic!("{other:?}"),
            }
            assert!(run(&facts).detections.is_empty(), "{target}");
        }
    }

    #[test]
    fn unknown_endpoint_lists_make_no_claim() {
        let mut facts = with_record(alias("cdn.example.com.", "d111.cloudfront.net."));
        facts.endpoints.cloudfront = None;
        let out = run(&facts);
        assert!(out.detections.is_empty());
        assert!(!out.is_covered(Check::DnsDangling, "Z1"));
        // An API Gateway edge target is a CloudFront name listed by API Gateway.
        facts.endpoints.api_gateway = Some(vec!["d111.cloudfront.net.".into()]);
        let out = run(&facts);
        assert!(out.detections.is_empty());
        assert!(out.is_covered(Check::DnsDangling, "Z1"));
    }

    #[test]
    fn released_aws_addresses_are_dangling() {
        let mut facts = with_record(RecordSet::simple(
            "old.example.com.",
            "A",
            &["52.94.76.10", "198.51.100.1", "13.32.0.1"],
        ));
        let prefix = |p: &str, s: &str| AwsIpPrefix {
            prefix: p.into(),
            region: "eu-west-1".into(),
            service: s.into(),
        };
        facts.ip_ranges = Some(vec![
            prefix("52.94.76.0/22", "AMAZON"),
            prefix("52.94.76.0/22", "EC2"),
            // CloudFront's addresses are in AMAZON too, but never a customer's.
            prefix("13.32.0.0/15", "AMAZON"),
            prefix("13.32.0.0/15", "CLOUDFRONT"),
        ]);
        let out = run(&facts);
        assert_eq!(out.detections.len(), 1, "{:#?}", out.detections);
        let targets = out.detections[0].evidence["targets"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(targets.len(), 1);
        assert_eq!(targets[0]["target"], "52.94.76.10");
        facts.endpoints.addresses = Some(vec!["52.94.76.10".parse().expect("ip")]);
        assert!(run(&facts).detections.is_empty());
        facts.endpoints.addresses = None;
        assert!(!run(&facts).is_covered(Check::DnsDangling, "Z1"));
    }

    #[test]
    fn lame_sub_delegations_are_dangling() {
        let sub = |outcome: Result<DnsAnswer, QueryFailure>| SubDelegation {
            name: "dev.example.com.".into(),
            servers: vec![ServerFacts {
                name: "ns-9.awsdns-09.org.".into(),
                addresses: Ok(vec![addr(9)]),
                observations: vec![obs(addr(9), "dev.example.com.", "SOA", outcome)],
                not_probed: Vec::new(),
            }],
        };
        // (the delegated server's answer, dangling, covered)
        let cases = [
            (Ok(aa(ResponseCode::Refused, vec![])), true, true),
            (
                Ok(DnsAnswer {
                    authoritative: false,
                    ..aa(ResponseCode::NoError, vec![])
                }),
                true,
                true,
            ),
            (
                Ok(aa(
                    ResponseCode::NoError,
                    vec![rr("dev.example.com.", "SOA", "ns. h. 1 2 3 4 5")],
                )),
                false,
                true,
            ),
            (Err(QueryFailure::Timeout), false, false),
        ];
        for (outcome, dangling, covered) in cases {
            let label = format!("{outcome:?}");
            let mut facts = healthy_facts();
            facts.zones[0].sub_delegations = vec![sub(outcome)];
            let out = run(&facts);
            assert_eq!(!out.detections.is_empty(), dangling, "{label}");
            assert_eq!(out.is_covered(Check::DnsDangling, "Z1"), covered, "{label}");
            if dangling {
                assert_eq!(out.detections[0].resource.id, "Z1/dev.example.com./NS");
                assert_eq!(
                    out.detections[0].evidence["targets"][0]["kind"],
                    "ns-delegation"
                );
            }
        }
    }
}
