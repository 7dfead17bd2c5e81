//! The DNS rules: what Route 53 is configured to serve (the inventory)
//! against what the internet sees (delegation, the zone's servers' answers,
//! target resolution, CAA, DNSSEC, the expectations document). Pure: the
//! collector gathers [`DnsFacts`], `now` is a parameter.
//!
//! Besides detections, [`evaluate`] says which (check, scope) pairs it
//! evaluated on complete data (`covered`): only those may refresh or resolve
//! stored findings, so that a server that timed out, or a CAA lookup that
//! failed, never resolves a finding it could not see. Scopes: the hosted zone
//! id for zone checks, the certificate ARN for a certificate's CAA, and
//! [`EXPECTATIONS_SCOPE`] for the expectations document.
//!
//! Private zones get only the inventory check (the record-set quota): their
//! servers answer only inside their VPCs, so nothing the probe asks from
//! outside says anything about them, and their names have no parent
//! delegation, no public CAA and no DNSSEC. (Expectations are about names,
//! not zones, and are checked whatever zone holds them.)

pub mod answers;
pub mod caa;
pub mod dangling;
pub mod delegation;
pub mod dnssec;
pub mod expectations;
pub mod quota;
pub mod rdata;

#[cfg(test)]
pub(crate) mod fixtures;

use crate::catalogue::{Check, FindingCode};
use crate::families::dns::model::{DnsAnswer, DnsFacts, Observation, ResponseCode, ZoneFacts};
use crate::finding::{Detection, Resource, ResourceKind};
use crate::model::{HostedZone, Region, normalize_dns_name};
use chrono::{DateTime, Utc};
use serde_json::Value;

pub use expectations::Expectations;

/// The scope of the expectations check's coverage and findings.
pub const EXPECTATIONS_SCOPE: &str = "expectations";

/// Tunables of the DNS rules.
#[derive(Debug, Clone, PartialEq)]
pub struct DnsRuleSettings {
    /// Signatures expiring within this window of `now` are reported.
    /// Default: 3 days.
    pub signature_warning: chrono::Duration,
    /// The record-set quota assumed for a zone whose own quota
    /// (`GetHostedZoneLimit`) could not be read. Default: 10,000, Route 53's
    /// default quota.
    pub record_set_quota: u64,
    /// Percent of the quota at which `dns.zone-near-record-limit` fires.
    /// Default: 90.
    pub record_limit_percent: u64,
    /// The parsed expectations document. `None`: not evaluated (no coverage,
    /// stored expectation findings stay as they are), which is what a caller
    /// passes when the document could not be read or parsed. A deployment
    /// without a document passes `Some(Expectations::default())`, which
    /// resolves any earlier expectation findings.
    pub expectations: Option<Expectations>,
    /// At most this many entries in any evidence list; the rest are counted
    /// in a `<list>_truncated` field. Default: 20.
    pub evidence_cap: usize,
}

impl Default for DnsRuleSettings {
    fn default() -> Self {
        Self {
            signature_warning: chrono::Duration::days(3),
            record_set_quota: 10_000,
            record_limit_percent: 90,
            expectations: None,
            evidence_cap: 20,
        }
    }
}

/// What the DNS rules found, and what they covered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DnsOutcome {
    pub detections: Vec<Detection>,
    /// (check, scope) pairs evaluated on complete data, sorted, no duplicates.
    pub covered: Vec<(Check, String)>,
    /// What could not be judged because of a limitation of ours (a record
    /// type the probe cannot ask or read, a Route 53 value the canonical
    /// form cannot read), one line per zone and type: the scan reports these
    /// as its own errors, never as findings against the servers.
    pub limitations: Vec<String>,
}

impl DnsOutcome {
    fn cover(&mut self, check: Check, scope: &str) {
        self.covered.push((check, scope.to_owned()));
    }

    /// Whether (check, scope) was covered.
    pub fn is_covered(&self, check: Check, scope: &str) -> bool {
        self.covered.iter().any(|(c, s)| *c == check && s == scope)
    }
}

/// Runs every DNS rule over `facts`.
pub fn evaluate(facts: &DnsFacts, now: DateTime<Utc>, settings: &DnsRuleSettings) -> DnsOutcome {
    let mut out = DnsOutcome::default();
    let sets = answers::SetIndex::new(&facts.zones);
    for zone in &facts.zones {
        quota::evaluate(zone, settings, &mut out);
        if zone.inventory.zone.private {
            continue;
        }
        delegation::evaluate(zone, &facts.zones, settings, &mut out);
        answers::evaluate(zone, &sets, settings, &mut out);
        dangling::evaluate(zone, facts, settings, &mut out);
        dnssec::evaluate(zone, now, settings, &mut out);
    }
    caa::evaluate(facts, settings, &mut out);
    if let Some(doc) = &settings.expectations {
        expectations::evaluate(doc, &facts.expectation_answers, settings, &mut out);
    }
    out.covered.sort();
    out.covered.dedup();
    out
}

/// The one place DNS detections are built.
pub(crate) fn detection(
    code: FindingCode,
    resource: Resource,
    region: Region,
    scope: &str,
    message: String,
    evidence: Value,
) -> Detection {
    Detection::new(code, resource, region, scope, message, evidence)
}

/// A hosted zone as a finding's resource: id `Z123`, name the zone's name.
pub fn zone_resource(zone: &HostedZone) -> Resource {
    Resource {
        kind: ResourceKind::Route53HostedZone,
        id: zone.id.clone(),
        name: zone.name.clone(),
    }
}

/// A record set as a finding's resource: id `Z123/www.example.com./A`, plus
/// `/<set identifier>` for one set of a routing policy; name
/// `www.example.com. A`.
pub fn record_resource(
    zone: &HostedZone,
    name: &str,
    rtype: &str,
    set_identifier: Option<&str>,
) -> Resource {
    let name = normalize_dns_name(name);
    let rtype = rtype.to_ascii_uppercase();
    let mut id = format!("{}/{name}/{rtype}", zone.id);
    if let Some(set) = set_identifier {
        id.push('/');
        id.push_str(set);
    }
    Resource {
        kind: ResourceKind::Route53RecordSet,
        id,
        name: format!("{name} {rtype}"),
    }
}

/// A name and type of the expectations document as a finding's resource: id
/// `expectation/www.example.com./A`.
pub fn expectation_resource(name: &str, rtype: &str) -> Resource {
    let name = normalize_dns_name(name);
    let rtype = rtype.to_ascii_uppercase();
    Resource {
        kind: ResourceKind::DnsName,
        id: format!("expectation/{name}/{rtype}"),
        name: format!("{name} {rtype}"),
    }
}

/// Puts `items` under `key`, at most `cap` of them, and the number left out
/// under `<key>_truncated` when any were.
pub(crate) fn put_list(
    evidence: &mut serde_json::Map<String, Value>,
    key: &str,
    mut items: Vec<Value>,
    cap: usize,
) {
    if items.len() > cap {
        let left_out = items.len() - cap;
        items.truncate(cap);
        evidence.insert(format!("{key}_truncated"), Value::from(left_out));
    }
    evidence.insert(key.to_owned(), Value::Array(items));
}

/// An answer that counts as the server speaking for the zone: authoritative,
/// NOERROR or NXDOMAIN.
pub(crate) fn authoritative_answer(obs: &Observation) -> Option<&DnsAnswer> {
    match &obs.outcome {
        Ok(a)
            if a.authoritative
                && matches!(a.rcode, ResponseCode::NoError | ResponseCode::NxDomain) =>
        {
            Some(a)
        }
        _ => None,
    }
}

/// Whether `name` is the zone's apex.
pub(crate) fn is_apex(zone: &ZoneFacts, name: &str) -> bool {
    normalize_dns_name(name) == normalize_dns_name(&zone.inventory.zone.name)
}

/// Whether `name` is `ancestor` or below it, on a label boundary.
pub(crate) fn is_at_or_below(name: &str, ancestor: &str) -> bool {
    let name = normalize_dns_name(name);
    let ancestor = normalize_dns_name(ancestor);
    name == ancestor || name.ends_with(&format!(".{ancestor}"))
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    #[test]
    fn resources_have_the_documented_ids() {
        let z = hosted_zone("Z123", "example.com.", false);
        assert_eq!(zone_resource(&z).id, "Z123");
        assert_eq!(zone_resource(&z).name, "example.com.");
        let r = record_resource(&z, "WWW.example.com", "a", None);
        assert_eq!(r.id, "Z123/www.example.com./A");
        assert_eq!(r.name, "www.example.com. A");
        assert_eq!(
            record_resource(&z, "www.example.com.", "A", Some("eu")).id,
            "Z123/www.example.com./A/eu"
        );
        assert_eq!(
            expectation_resource("www.example.com", "A").id,
            "expectation/www.example.com./A"
        );
        let kind = serde_json::to_value(ResourceKind::Route53RecordSet).expect("json");
        assert_eq!(kind, "route53-record-set");
        assert_eq!(
            serde_json::to_value(ResourceKind::Route53HostedZone).expect("json"),
            "route53-hosted-zone"
        );
        assert_eq!(
            serde_json::to_value(ResourceKind::DnsName).expect("json"),
            "dns-name"
        );
    }

    #[test]
    fn evidence_lists_are_capped_with_a_count() {
        let mut m = serde_json::Map::new();
        put_list(&mut m, "servers", (0..25).map(Value::from).collect(), 20);
        assert_eq!(m["servers"].as_array().map(Vec::len), Some(20));
        assert_eq!(m["servers_truncated"], 5);
        let mut m = serde_json::Map::new();
        put_list(&mut m, "servers", vec![Value::from(1)], 20);
        assert!(m.get("servers_truncated").is_none());
    }

    /// A healthy public zone: no detection, and every zone check covered.
    #[test]
    fn a_healthy_zone_is_quiet_and_fully_covered() {
        let facts = healthy_facts();
        let settings = DnsRuleSettings {
            expectations: Some(Expectations::default()),
            ..DnsRuleSettings::default()
        };
        let out = evaluate(&facts, now(), &settings);
        assert!(out.detections.is_empty(), "{:#?}", out.detections);
        for check in [
            Check::DnsInventory,
            Check::DnsDelegation,
            Check::DnsAnswers,
            Check::DnsDangling,
            Check::DnsCaa,
            Check::DnsDnssec,
            Check::DnsDnssecChain,
        ] {
            assert!(out.is_covered(check, "Z1"), "{check:?} not covered");
        }
        assert!(out.is_covered(Check::DnsCaa, CERT_ARN));
        assert!(out.is_covered(Check::DnsExpectations, EXPECTATIONS_SCOPE));
    }

    /// Private zones are never probed: only their quota is checked.
    #[test]
    fn private_zones_get_only_the_inventory_check() {
        let mut facts = healthy_facts();
        facts.zones[0].inventory.zone.private = true;
        facts.zones[0].servers.clear();
        facts.zones[0].delegation = None;
        let out = evaluate(&facts, now(), &DnsRuleSettings::default());
        assert!(out.detections.is_empty(), "{:#?}", out.detections);
        let zone_checks: Vec<Check> = out
            .covered
            .iter()
            .filter(|(_, s)| s == "Z1")
            .map(|(c, _)| *c)
            .collect();
        assert_eq!(zone_checks, vec![Check::DnsInventory]);
    }

    /// One scan where everything is broken reaches every DNS code through
    /// the entry point, each with its catalogue severity.
    #[test]
    fn every_dns_code_is_reachable_through_evaluate() {
        use crate::families::dns::model::*;
        let mut facts = healthy_facts();
        let ns3 = "ns-3.old-provider.net.";
        {
            let z = &mut facts.zones[0];
            z.inventory.zone.record_set_count = 9_999;
            z.inventory.dnssec = Some(DnssecStatus {
                serve_signature: "ACTION_NEEDED".into(),
                status_message: Some("KMS key disabled".into()),
                key_signing_keys: vec![],
            });
            if let Some(d) = z.delegation.as_mut() {
                d.outcome = DelegationOutcome::Delegated {
                    name_servers: vec![NS1.into(), ns3.into()],
                };
                d.ds_records = vec!["1 13 2 AA".into()];
            }
            let soa = |serial: u32| {
                rr(
                    "example.com.",
                    "SOA",
                    &format!("ns-1.awsdns-01.com. h. {serial} 7200 900 1209600 86400"),
                )
            };
            let sig = rr(
                "example.com.",
                "RRSIG",
                "SOA 13 2 900 20261124000000 20261101000000 1 example.com. c2ln",
            );
            for (i, server) in z.servers.iter_mut().enumerate() {
                for o in &mut server.observations {
                    let Ok(a) = o.outcome.as_mut() else { continue };
                    match (o.question.name.as_str(), o.question.rtype.as_str()) {
                        ("example.com.", "SOA") => {
                            a.answers = vec![soa(u32::try_from(i).unwrap_or(0) + 1), sig.clone()];
                        }
                        ("www.example.com.", "A") if i == 0 => {
                            a.answers = vec![rr("www.example.com.", "A", "192.0.2.99")];
                        }
                        ("example.com.", "MX") if i == 0 => a.rcode = ResponseCode::NxDomain,
                        ("example.com.", "TXT") if i == 1 => a.rcode = ResponseCode::Refused,
                        _ => {}
                    }
                }
            }
        }
        // A server of the first zone also resolves to a private address,
        // which was not asked.
        if let Some(server) = facts.zones.first_mut().and_then(|z| z.servers.first_mut()) {
            server
                .not_probed
                .push(crate::families::dns::model::NotProbed {
                    address: "10.0.0.53:53".parse().expect("address"),
                    reason: "10.0.0.53 is a private (RFC 1918) address".into(),
                });
        }
        let mut lone = zone_facts("Z9", "lonely.example.", vec![]);
        if let Some(d) = lone.delegation.as_mut() {
            d.outcome = DelegationOutcome::NotDelegated {
                rcode: ResponseCode::NxDomain,
            };
        }
        let mut stale = zone_facts("Z8", "stale.example.", vec![]);
        if let Some(d) = stale.delegation.as_mut() {
            d.outcome = DelegationOutcome::Delegated {
                name_servers: vec![ns3.into()],
            };
        }
        facts.zones.push(lone);
        facts.zones.push(stale);
        facts.cname_targets.insert(
            "blog.example.org.".into(),
            Resolution::NxDomain {
                cname_chain: vec![],
            },
        );
        facts.caa.insert(
            "example.com.".into(),
            CaaLookup::Found {
                at: "example.com.".into(),
                records: vec!["0 issue \";\"".into()],
            },
        );
        let settings = DnsRuleSettings {
            expectations: Some(
                expectations::parse("- name: gone.example.com\n  must_not_exist: true\n")
                    .expect("doc"),
            ),
            ..DnsRuleSettings::default()
        };
        facts.expectation_answers.insert(
            expectations::questions(settings.expectations.as_ref().expect("doc"))[0].clone(),
            Resolution::NoData {
                cname_chain: vec![],
            },
        );
        let out = evaluate(&facts, now(), &settings);
        let got: std::collections::BTreeSet<FindingCode> =
            out.detections.iter().map(|d| d.code).collect();
        let want: std::collections::BTreeSet<FindingCode> = FindingCode::ALL
            .into_iter()
            .filter(|c| c.id().starts_with("dns."))
            .collect();
        assert_eq!(got, want, "{:#?}", out.detections);
        for d in &out.detections {
            assert_eq!(d.severity, d.code.default_severity(), "{}", d.code);
        }
    }

    #[test]
    fn dns_findings_are_global_and_use_the_zone_resources() {
        let mut facts = healthy_facts();
        facts.zones[0].inventory.zone.record_set_count = 9_500;
        let out = evaluate(&facts, now(), &DnsRuleSettings::default());
        assert_eq!(out.detections.len(), 1, "{:#?}", out.detections);
        let d = &out.detections[0];
        assert_eq!(d.region, Region::global());
        assert_eq!(d.resource.kind, ResourceKind::Route53HostedZone);
        assert_eq!(d.severity, d.code.default_severity());
    }
}
