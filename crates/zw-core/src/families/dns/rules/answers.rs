//! The zone's own servers against Route 53: for every configured name and
//! type, does each server answer (authoritatively) what the record sets say?
//!
//! - Simple record sets: the canonical answer values must equal the set's.
//! - Weighted, latency, geolocation, geoproximity, failover, multivalue and
//!   CIDR sets: the server picks among the sets of the name and type, so the
//!   answer must be non-empty and inside their union.
//! - Aliases to records of the account's public zones: the target's values
//!   are expected (one alias level is followed; an alias to an alias to an
//!   alias is skipped). Aliases to AWS services (CloudFront, load balancers,
//!   S3...) are skipped: their addresses are AWS's to choose.
//! - SOA is compared by serial across servers only; NS below the apex and
//!   every name at or below a delegated subdomain are answered by referrals,
//!   not by this zone, and are left to the dangling check.
//!
//! Values are compared in their canonical form (`model::rdata`): Route 53's
//! as entered, the servers' as the probe read them off the wire. A Route 53
//! value that does not read as its type, and an answer the probe could not
//! ask for or read (`QueryFailure::Unsupported`), leave that name and type
//! unjudged and are reported as our limitation (`DnsOutcome::limitations`),
//! never as drift or as an unreachable server.
//!
//! A server's answer counts only when it is authoritative and NOERROR or
//! NXDOMAIN. Servers that time out on everything, have no address, refuse,
//! fail or answer without the AA bit are reported by
//! `dns.nameserver-unreachable`; isolated timeouts of a server that otherwise
//! answers are not (they flap), its unanswered questions just go unjudged.
//!
//! Coverage (`DnsAnswers` for the zone id) needs every compared name and type
//! to have been judged by at least one server: a finding about a record
//! nobody answered for must not be resolved.

use super::rdata::{canonical, canonical_route53, soa_serial};
use super::{
    DnsOutcome, DnsRuleSettings, authoritative_answer, detection, is_apex, is_at_or_below,
    put_list, record_resource, zone_resource,
};
use crate::catalogue::{Check, FindingCode};
use crate::families::dns::model::{
    Observation, QueryFailure, ResponseCode, ServerFacts, ZoneFacts,
};
use crate::model::rdata::RdataError;
use crate::model::{RecordSet, Region, normalize_dns_name, normalized_dns_name, upper_case_type};
use serde_json::{Value, json};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// (normalised name, upper-case type), borrowed from the inventory or the
/// answers where they already are in that form.
type Key<'a> = (Cow<'a, str>, Cow<'a, str>);

/// What a name and type must answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// Exactly these canonical values.
    Exact(BTreeSet<String>),
    /// A non-empty subset of these canonical values.
    OneOf(BTreeSet<String>),
}

impl Expected {
    fn values(&self) -> &BTreeSet<String> {
        match self {
            Self::Exact(v) | Self::OneOf(v) => v,
        }
    }

    fn accepts(&self, seen: &BTreeSet<String>) -> bool {
        match self {
            Self::Exact(v) => v == seen,
            Self::OneOf(v) => !seen.is_empty() && seen.is_subset(v),
        }
    }
}

/// The record sets sharing one name and type.
#[derive(Debug, Clone)]
pub struct Group<'a> {
    pub name: String,
    pub rtype: String,
    pub sets: Vec<&'a RecordSet>,
}

/// The names and types of `zone` that its servers are compared on, in order.
pub fn groups(zone: &ZoneFacts) -> Vec<Group<'_>> {
    let delegated: Vec<String> = zone
        .inventory
        .record_sets
        .iter()
        .filter(|s| s.record_type == "NS" && !is_apex(zone, &s.name))
        .map(|s| normalize_dns_name(&s.name))
        .collect();
    let mut by_key: BTreeMap<(String, String), Vec<&RecordSet>> = BTreeMap::new();
    for set in &zone.inventory.record_sets {
        let rtype = set.record_type.to_ascii_uppercase();
        // At and below a delegation the child zone answers, except for the
        // DS set at the cut itself, which is this zone's (RFC 4035 section
        // 2.4): its servers answer it authoritatively.
        let ds_at_cut = rtype == "DS" && delegated.contains(&normalize_dns_name(&set.name));
        if rtype == "SOA" || (!ds_at_cut && delegated.iter().any(|d| is_at_or_below(&set.name, d)))
        {
            continue;
        }
        by_key
            .entry((normalize_dns_name(&set.name), rtype))
            .or_default()
            .push(set);
    }
    by_key
        .into_iter()
        .map(|((name, rtype), sets)| Group { name, rtype, sets })
        .collect()
}

/// Every record set of the public zones by (normalised name, upper-case
/// type), with its zone id: built once per scan so that following aliases
/// costs a lookup, not a pass over every zone.
#[derive(Debug, Default)]
pub struct SetIndex<'a> {
    by_key: HashMap<Key<'a>, Vec<(&'a str, &'a RecordSet)>>,
}

impl<'a> SetIndex<'a> {
    pub fn new(zones: &'a [ZoneFacts]) -> Self {
        let mut by_key: HashMap<Key<'a>, Vec<(&'a str, &'a RecordSet)>> = HashMap::new();
        for z in zones.iter().filter(|z| !z.inventory.zone.private) {
            for set in &z.inventory.record_sets {
                by_key
                    .entry((
                        normalized_dns_name(&set.name),
                        upper_case_type(&set.record_type),
                    ))
                    .or_default()
                    .push((z.inventory.zone.id.as_str(), set));
            }
        }
        Self { by_key }
    }

    /// The record sets named `name` of type `rtype`: those of zone `zone_id`
    /// if it has any, else those of the first other zone that has some.
    fn target_sets(&self, name: &str, rtype: &str, zone_id: &str) -> Vec<&'a RecordSet> {
        let Some(all) = self
            .by_key
            .get(&(Cow::Borrowed(name), upper_case_type(rtype)))
        else {
            return vec![];
        };
        let own: Vec<&RecordSet> = all
            .iter()
            .filter(|(z, _)| *z == zone_id)
            .map(|(_, s)| *s)
            .collect();
        if !own.is_empty() {
            return own;
        }
        let Some((first, _)) = all.first() else {
            return vec![];
        };
        all.iter()
            .filter(|(z, _)| z == first)
            .map(|(_, s)| *s)
            .collect()
    }
}

/// Canonical values of `sets` and whether they form one simple set, following
/// aliases `depth` more levels; `Ok(None)` when some alias cannot be
/// followed, an error when one of Route 53's values does not read as its
/// type.
fn values_of(
    sets: &[&RecordSet],
    rtype: &str,
    zone_id: &str,
    index: &SetIndex<'_>,
    depth: u8,
) -> Result<Option<(BTreeSet<String>, bool)>, RdataError> {
    let mut values = BTreeSet::new();
    let mut exact = sets.len() == 1;
    for set in sets {
        exact &= set.routing.is_simple();
        match &set.alias {
            None => {
                for v in &set.values {
                    values.insert(canonical_route53(rtype, v)?);
                }
            }
            Some(alias) => {
                let Some(depth) = depth.checked_sub(1) else {
                    return Ok(None);
                };
                let target = normalize_dns_name(&alias.dns_name);
                let targets = index.target_sets(&target, rtype, zone_id);
                if targets.is_empty() {
                    return Ok(None);
                }
                let Some((v, e)) = values_of(&targets, rtype, zone_id, index, depth)? else {
                    return Ok(None);
                };
                values.extend(v);
                exact &= e;
            }
        }
    }
    Ok(Some((values, exact)))
}

/// What `group` must answer; `Ok(None)` when it cannot be known (an alias to
/// an AWS service or to a name outside the account's zones), an error when
/// one of Route 53's values does not read as its type.
pub fn expected(
    group: &Group<'_>,
    zone: &ZoneFacts,
    index: &SetIndex<'_>,
) -> Result<Option<Expected>, RdataError> {
    // The group's own sets are level 0; an alias among them may be followed
    // to its target and, if that is an alias too, once more.
    let found = values_of(&group.sets, &group.rtype, &zone.inventory.zone.id, index, 2)?;
    Ok(found.map(|(values, exact)| {
        if exact {
            Expected::Exact(values)
        } else {
            Expected::OneOf(values)
        }
    }))
}

/// Names and types left unjudged by our own limitations, by type: which
/// names, and the first reason (one scan error per zone and type, not one
/// per record and server).
#[derive(Debug, Default)]
struct Unjudged(BTreeMap<String, (BTreeSet<String>, String)>);

impl Unjudged {
    fn note(&mut self, group: &Group<'_>, reason: String) {
        let entry = self
            .0
            .entry(group.rtype.clone())
            .or_insert_with(|| (BTreeSet::new(), reason));
        entry.0.insert(group.name.clone());
    }

    fn report(self, zone: &ZoneFacts, out: &mut DnsOutcome) {
        let hz = &zone.inventory.zone;
        for (rtype, (names, first)) in self.0 {
            out.limitations.push(format!(
                "{} {rtype} record set(s) of {} ({}) were not compared, a limitation of zonewarden and not a fault of the name servers (first: {first})",
                names.len(),
                hz.name,
                hz.id
            ));
        }
    }
}

/// Why a server's answer to one question does not count, if it does not.
fn failure_reason(obs: &Observation) -> Option<String> {
    match &obs.outcome {
        // Ours, not the server's: reported as a limitation instead.
        Err(QueryFailure::Skipped | QueryFailure::Unsupported(_)) => None,
        Err(QueryFailure::Timeout) => Some("timed out".into()),
        Err(QueryFailure::Malformed(m)) => Some(format!("malformed answer: {m}")),
        Err(QueryFailure::Network(m)) => Some(format!("network error: {m}")),
        Ok(a) if !matches!(a.rcode, ResponseCode::NoError | ResponseCode::NxDomain) => {
            Some(format!("answered {}", a.rcode.as_str()))
        }
        Ok(a) if !a.authoritative => Some("answered without the AA bit (not authoritative)".into()),
        Ok(_) => None,
    }
}

fn is_timeout_like(obs: &Observation) -> bool {
    matches!(
        obs.outcome,
        Err(QueryFailure::Timeout | QueryFailure::Network(_))
    )
}

/// One server's verdict on one name and type.
enum Verdict {
    Match,
    Drift(BTreeSet<String>),
    Missing(&'static str),
}

fn judge(obs: &Observation, group: &Group<'_>, expected: &Expected) -> Option<Verdict> {
    let answer = authoritative_answer(obs)?;
    if answer.rcode == ResponseCode::NxDomain {
        return Some(Verdict::Missing("NXDOMAIN"));
    }
    let at_name = |rtype: &str| {
        answer
            .answers
            .iter()
            .filter(|r| {
                normalize_dns_name(&r.name) == group.name && r.rtype.eq_ignore_ascii_case(rtype)
            })
            .map(|r| canonical(rtype, &r.data))
            .collect::<BTreeSet<String>>()
    };
    let seen = at_name(&group.rtype);
    if seen.is_empty() {
        // A CNAME where another type is configured: the name is something else.
        let cname = at_name("CNAME");
        if group.rtype != "CNAME" && !cname.is_empty() {
            return Some(Verdict::Drift(
                cname.into_iter().map(|c| format!("CNAME {c}")).collect(),
            ));
        }
        return Some(Verdict::Missing("NODATA"));
    }
    Some(if expected.accepts(&seen) {
        Verdict::Match
    } else {
        Verdict::Drift(seen)
    })
}

/// A server's observations by (normalised name, upper-case type).
type ObsIndex<'s> = HashMap<Key<'s>, &'s Observation>;

fn index_observations(server: &ServerFacts) -> ObsIndex<'_> {
    let mut index = HashMap::with_capacity(server.observations.len());
    for o in &server.observations {
        // The first observation of a question wins, as a linear search would.
        index
            .entry((
                normalized_dns_name(&o.question.name),
                upper_case_type(&o.question.rtype),
            ))
            .or_insert(o);
    }
    index
}

fn find_obs<'s>(index: &ObsIndex<'s>, name: &str, rtype: &str) -> Option<&'s Observation> {
    index
        .get(&(Cow::Borrowed(name), upper_case_type(rtype)))
        .copied()
}

pub(crate) fn evaluate(
    zone: &ZoneFacts,
    index: &SetIndex<'_>,
    settings: &DnsRuleSettings,
    out: &mut DnsOutcome,
) {
    let hz = &zone.inventory.zone;
    let cap = settings.evidence_cap;
    let observed: Vec<(&ServerFacts, ObsIndex<'_>)> = zone
        .servers
        .iter()
        .map(|s| (s, index_observations(s)))
        .collect();
    let mut every_group_judged = true;
    let mut unjudged = Unjudged::default();

    for group in groups(zone) {
        let expected = match expected(&group, zone, index) {
            Ok(Some(expected)) => expected,
            Ok(None) => continue,
            Err(e) => {
                unjudged.note(&group, format!("{} in Route 53: {e}", group.name));
                every_group_judged = false;
                continue;
            }
        };
        let want: Vec<&String> = expected.values().iter().collect();
        let mut judged = false;
        let mut drift = Vec::new();
        let mut missing = Vec::new();
        for (server, observations) in &observed {
            let Some(obs) = find_obs(observations, &group.name, &group.rtype) else {
                continue;
            };
            if let Err(QueryFailure::Unsupported(why)) = &obs.outcome {
                unjudged.note(
                    &group,
                    format!("{} asked of {}: {why}", group.name, server.name),
                );
                continue;
            }
            let Some(verdict) = judge(obs, &group, &expected) else {
                continue;
            };
            judged = true;
            match verdict {
                Verdict::Match => {}
                Verdict::Drift(seen) => drift.push(json!({
                    "server": server.name,
                    "expected": want,
                    "seen": seen,
                })),
                Verdict::Missing(rcode) => missing.push(json!({
                    "server": server.name,
                    "rcode": rcode,
                })),
            }
        }
        every_group_judged &= judged;
        let set_identifier = match group.sets.as_slice() {
            [one] => one.set_identifier.as_deref(),
            _ => None,
        };
        let resource = record_resource(hz, &group.name, &group.rtype, set_identifier);
        for (code, servers, what) in [
            (
                FindingCode::DnsRecordDrift,
                drift,
                "answer other values than Route 53 has",
            ),
            (
                FindingCode::DnsRecordMissing,
                missing,
                "say it does not exist",
            ),
        ] {
            let Some(first) = servers.first() else {
                continue;
            };
            let message = format!(
                "{} {} in {} ({}): {} of {} server(s) {what} (first: {})",
                group.name,
                group.rtype,
                hz.name,
                hz.id,
                servers.len(),
                zone.servers.len(),
                first["server"].as_str().unwrap_or_default()
            );
            let mut evidence = serde_json::Map::new();
            evidence.insert("name".into(), json!(group.name));
            evidence.insert("type".into(), json!(group.rtype));
            evidence.insert("expected".into(), json!(want));
            evidence.insert(
                "rule".into(),
                json!(match expected {
                    Expected::Exact(_) => "exact",
                    Expected::OneOf(_) => "one-of",
                }),
            );
            put_list(&mut evidence, "servers", servers, cap);
            out.detections.push(detection(
                code,
                resource.clone(),
                Region::global(),
                &hz.id,
                message,
                Value::Object(evidence),
            ));
        }
    }

    unjudged.report(zone, out);
    soa_serials(zone, &observed, settings, out);
    let unreachable = unreachable_servers(zone);
    if let Some(first) = unreachable.first() {
        let message = format!(
            "{} of the {} name server(s) of {} ({}) do not answer for it (first: {}, {})",
            unreachable.len(),
            zone.servers.len(),
            hz.name,
            hz.id,
            first["server"].as_str().unwrap_or_default(),
            first["reason"].as_str().unwrap_or_default()
        );
        let mut evidence = serde_json::Map::new();
        put_list(&mut evidence, "servers", unreachable, cap);
        out.detections.push(detection(
            FindingCode::DnsNameserverUnreachable,
            zone_resource(hz),
            Region::global(),
            &hz.id,
            message,
            Value::Object(evidence),
        ));
    }

    not_probed(zone, out);

    let any_answered = zone.servers.iter().any(|s| {
        s.observations
            .iter()
            .any(|o| authoritative_answer(o).is_some())
    });
    if zone.compared && any_answered && every_group_judged {
        out.cover(Check::DnsAnswers, &hz.id);
    }
}

/// Name server addresses (of the zone, and of subdomains it delegates) the
/// probe did not ask because they are not on the internet: one info finding
/// per zone naming each server and address.
fn not_probed(zone: &ZoneFacts, out: &mut DnsOutcome) {
    let hz = &zone.inventory.zone;
    let skipped: Vec<Value> = zone
        .servers
        .iter()
        .chain(zone.sub_delegations.iter().flat_map(|d| d.servers.iter()))
        .flat_map(|s| {
            s.not_probed.iter().map(move |n| {
                json!({
                    "server": s.name,
                    "address": n.address.ip().to_string(),
                    "reason": n.reason,
                })
            })
        })
        .collect();
    let Some(first) = skipped.first() else {
        return;
    };
    let message = format!(
        "{} name server address(es) of {} ({}) were not asked because they are not on the internet (first: {} at {}); ZW_PROBE_ALLOW_CIDRS lists ranges that may be probed",
        skipped.len(),
        hz.name,
        hz.id,
        first["server"].as_str().unwrap_or_default(),
        first["address"].as_str().unwrap_or_default(),
    );
    let mut evidence = serde_json::Map::new();
    put_list(&mut evidence, "servers", skipped, 50);
    out.detections.push(detection(
        FindingCode::DnsNameserverNotProbed,
        zone_resource(hz),
        Region::global(),
        &hz.id,
        message,
        Value::Object(evidence),
    ));
}

/// Servers that gave no usable answer, with why.
fn unreachable_servers(zone: &ZoneFacts) -> Vec<Value> {
    let mut out = Vec::new();
    for server in &zone.servers {
        if let Err(failure) = &server.addresses {
            if *failure != QueryFailure::Skipped {
                out.push(json!({
                    "server": server.name,
                    "reason": format!("no address: {}", describe(failure)),
                    "failed": 0,
                    "asked": 0,
                }));
            }
            continue;
        }
        let asked: Vec<&Observation> = server
            .observations
            .iter()
            .filter(|o| {
                !matches!(
                    o.outcome,
                    Err(QueryFailure::Skipped | QueryFailure::Unsupported(_))
                )
            })
            .collect();
        if asked.is_empty() {
            continue;
        }
        let usable = asked
            .iter()
            .filter(|o| authoritative_answer(o).is_some())
            .count();
        // Refusals, SERVFAIL and non-authoritative answers are deterministic:
        // one is enough. Timeouts only count when nothing came back at all.
        let definite: Vec<String> = asked
            .iter()
            .filter(|o| !is_timeout_like(o))
            .filter_map(|o| failure_reason(o))
            .collect();
        let failed = asked.iter().filter(|o| failure_reason(o).is_some()).count();
        let reason = if let Some(r) = definite.first() {
            Some(r.clone())
        } else if usable == 0 {
            asked.iter().find_map(|o| failure_reason(o))
        } else {
            None
        };
        if let Some(reason) = reason {
            out.push(json!({
                "server": server.name,
                "reason": reason,
                "failed": failed,
                "asked": asked.len(),
            }));
        }
    }
    out
}

fn describe(failure: &QueryFailure) -> String {
    match failure {
        QueryFailure::Timeout => "timed out".into(),
        QueryFailure::Malformed(m) => format!("malformed answer: {m}"),
        QueryFailure::Network(m) => format!("network error: {m}"),
        QueryFailure::Skipped => "skipped".into(),
        QueryFailure::Unsupported(m) => format!("not supported by the probe: {m}"),
    }
}

fn soa_serials(
    zone: &ZoneFacts,
    observed: &[(&ServerFacts, ObsIndex<'_>)],
    settings: &DnsRuleSettings,
    out: &mut DnsOutcome,
) {
    let hz = &zone.inventory.zone;
    let apex = normalize_dns_name(&hz.name);
    let mut serials: Vec<(String, u32)> = Vec::new();
    for (server, observations) in observed {
        let Some(answer) = find_obs(observations, &apex, "SOA").and_then(authoritative_answer)
        else {
            continue;
        };
        if let Some(serial) = answer
            .answers
            .iter()
            .filter(|r| r.rtype.eq_ignore_ascii_case("SOA"))
            .find_map(|r| soa_serial(&r.data))
        {
            serials.push((server.name.clone(), serial));
        }
    }
    let distinct: BTreeSet<u32> = serials.iter().map(|(_, s)| *s).collect();
    if distinct.len() < 2 {
        return;
    }
    let message = format!(
        "The name servers of {} ({}) answer {} different SOA serials ({}): some of them serve another copy of the zone",
        hz.name,
        hz.id,
        distinct.len(),
        distinct
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut evidence = serde_json::Map::new();
    put_list(
        &mut evidence,
        "serials",
        serials
            .iter()
            .map(|(server, serial)| json!({"server": server, "serial": serial}))
            .collect(),
        settings.evidence_cap,
    );
    out.detections.push(detection(
        FindingCode::DnsSoaSerialMismatch,
        zone_resource(hz),
        Region::global(),
        &hz.id,
        message,
        Value::Object(evidence),
    ));
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use crate::families::dns::model::{AliasTarget, DnsAnswer, RoutingPolicy};

    /// Evaluates `zone`; aliases are followed within it and `others`.
    fn run(zone: &ZoneFacts, others: &[ZoneFacts]) -> DnsOutcome {
        let mut all = vec![zone.clone()];
        all.extend(
            others
                .iter()
                .filter(|z| z.inventory.zone.id != zone.inventory.zone.id)
                .cloned(),
        );
        let index = SetIndex::new(&all);
        let mut out = DnsOutcome::default();
        evaluate(zone, &index, &DnsRuleSettings::default(), &mut out);
        out
    }

    fn codes(out: &DnsOutcome) -> Vec<FindingCode> {
        out.detections.iter().map(|d| d.code).collect()
    }

    /// Replaces server `i`'s answer to (name, type).
    fn answer(
        zone: &mut ZoneFacts,
        i: usize,
        name: &str,
        rtype: &str,
        outcome: Result<DnsAnswer, QueryFailure>,
    ) {
        let server = &mut zone.servers[i];
        let a = addr(u8::try_from(i + 1).expect("small"));
        server.observations.retain(|o| {
            !(o.question.name == normalize_dns_name(name) && o.question.rtype == rtype)
        });
        server.observations.push(obs(a, name, rtype, outcome));
    }

    /// A name server reachable only at a private address is one info
    /// finding naming it (never `dns.nameserver-unreachable`); once it is
    /// asked and answers (the range allowed), the finding is gone and the
    /// zone's answers are judged, so the reconcile resolves it.
    #[test]
    fn name_servers_not_asked_are_reported_and_clear_when_asked() {
        let mut zone = healthy();
        zone.servers[1]
            .not_probed
            .push(crate::families::dns::model::NotProbed {
                address: "10.0.0.53:53".parse().expect("address"),
                reason: "10.0.0.53 is a private (RFC 1918) address".into(),
            });
        let out = run(&zone, &[]);
        assert_eq!(
            codes(&out),
            vec![FindingCode::DnsNameserverNotProbed],
            "{out:#?}"
        );
        let d = &out.detections[0];
        assert_eq!(d.severity, crate::severity::Severity::Info);
        assert_eq!(d.evidence["servers"][0]["address"], "10.0.0.53");
        assert!(d.message.contains(&zone.servers[1].name), "{}", d.message);

        let out = run(&healthy(), &[]);
        assert!(codes(&out).is_empty(), "{out:#?}");
        assert!(
            out.covered.contains(&(Check::DnsAnswers, "Z1".to_owned())),
            "{:?}",
            out.covered
        );
    }

    fn healthy() -> ZoneFacts {
        zone_facts("Z1", "example.com.", healthy_records())
    }

    #[test]
    fn between_comparisons_the_apex_is_checked_and_nothing_is_covered() {
        // Only the apex SOA and NS were asked; one server refuses them.
        let mut z = healthy();
        z.compared = false;
        for server in &mut z.servers {
            server.observations.retain(|o| {
                o.question.name == "example.com."
                    && ["SOA", "NS"].contains(&o.question.rtype.as_str())
            });
        }
        for o in &mut z.servers[1].observations {
            if let Ok(a) = o.outcome.as_mut() {
                a.rcode = ResponseCode::Refused;
            }
        }
        let out = run(&z, std::slice::from_ref(&z));
        assert_eq!(codes(&out), vec![FindingCode::DnsNameserverUnreachable]);
        assert!(
            !out.covered.contains(&(Check::DnsAnswers, "Z1".to_owned())),
            "a drift finding of a record not asked must not be resolved: {:?}",
            out.covered
        );
        // The same answers in a full comparison cover the zone.
        let mut full = healthy();
        full.servers[1].observations.clear();
        let out = run(&full, std::slice::from_ref(&full));
        assert!(out.covered.contains(&(Check::DnsAnswers, "Z1".to_owned())));
    }

    #[test]
    fn truthful_servers_are_quiet_and_cover_the_zone() {
        let z = healthy();
        let out = run(&z, std::slice::from_ref(&z));
        assert!(out.detections.is_empty(), "{:#?}", out.detections);
        assert!(out.is_covered(Check::DnsAnswers, "Z1"));
    }

    #[test]
    fn server_answers_map_to_codes() {
        let www = "www.example.com.";
        // (server 0's answer to www A, expected codes)
        let cases: Vec<(Result<DnsAnswer, QueryFailure>, Vec<FindingCode>)> = vec![
            // Same values in another order and notation: fine.
            (
                Ok(aa(
                    ResponseCode::NoError,
                    vec![rr(www, "A", "192.0.2.11"), rr(www, "A", "192.0.2.10")],
                )),
                vec![],
            ),
            (
                Ok(aa(ResponseCode::NoError, vec![rr(www, "A", "192.0.2.99")])),
                vec![FindingCode::DnsRecordDrift],
            ),
            // A subset is drift for a simple record set.
            (
                Ok(aa(ResponseCode::NoError, vec![rr(www, "A", "192.0.2.10")])),
                vec![FindingCode::DnsRecordDrift],
            ),
            // A CNAME where an A record is configured.
            (
                Ok(aa(
                    ResponseCode::NoError,
                    vec![rr(www, "CNAME", "elsewhere.example.net.")],
                )),
                vec![FindingCode::DnsRecordDrift],
            ),
            (
                Ok(aa(ResponseCode::NxDomain, vec![])),
                vec![FindingCode::DnsRecordMissing],
            ),
            (
                Ok(aa(ResponseCode::NoError, vec![])),
                vec![FindingCode::DnsRecordMissing],
            ),
            // Unusable answers are the server's problem, not the record's.
            (
                Ok(DnsAnswer {
                    authoritative: false,
                    ..aa(ResponseCode::NoError, vec![rr(www, "A", "192.0.2.99")])
                }),
                vec![FindingCode::DnsNameserverUnreachable],
            ),
            (
                Ok(aa(ResponseCode::Refused, vec![])),
                vec![FindingCode::DnsNameserverUnreachable],
            ),
            (
                Ok(aa(ResponseCode::ServFail, vec![])),
                vec![FindingCode::DnsNameserverUnreachable],
            ),
            // One timeout of a server that otherwise answers: not reported.
            (Err(QueryFailure::Timeout), vec![]),
        ];
        for (outcome, want) in cases {
            let label = format!("{outcome:?}");
            let mut z = healthy();
            answer(&mut z, 0, www, "A", outcome);
            let out = run(&z, std::slice::from_ref(&z));
            assert_eq!(codes(&out), want, "{label}");
            assert!(out.is_covered(Check::DnsAnswers, "Z1"), "{label}");
        }
    }

    #[test]
    fn drift_evidence_has_expected_and_seen_per_server_and_resolves_once_fixed() {
        let www = "www.example.com.";
        let mut z = healthy();
        for i in 0..2 {
            answer(
                &mut z,
                i,
                www,
                "A",
                Ok(aa(ResponseCode::NoError, vec![rr(www, "A", "192.0.2.99")])),
            );
        }
        let out = run(&z, std::slice::from_ref(&z));
        let d = &out.detections[0];
        assert_eq!(d.code, FindingCode::DnsRecordDrift);
        assert_eq!(d.resource.id, "Z1/www.example.com./A");
        assert_eq!(d.evidence["servers"].as_array().map(Vec::len), Some(2));
        assert_eq!(d.evidence["servers"][0]["server"], NS1);
        assert_eq!(d.evidence["servers"][0]["seen"][0], "192.0.2.99");
        assert_eq!(d.evidence["servers"][0]["expected"][0], "192.0.2.10");
        assert!(d.message.contains("2 of 2 server(s)"), "{}", d.message);
        // The servers answer the configured values again: quiet, and covered,
        // so the stored finding resolves.
        let z = healthy();
        let out = run(&z, std::slice::from_ref(&z));
        assert!(out.detections.is_empty());
        assert!(out.is_covered(Check::DnsAnswers, "Z1"));
    }

    #[test]
    fn txt_mx_and_ns_compare_canonically() {
        let mut z = healthy();
        answer(
            &mut z,
            0,
            "example.com.",
            "TXT",
            Ok(aa(
                ResponseCode::NoError,
                vec![rr("example.com.", "TXT", "\"v=spf1\" \" -all\"")],
            )),
        );
        answer(
            &mut z,
            0,
            "example.com.",
            "MX",
            Ok(aa(
                ResponseCode::NoError,
                vec![rr("example.com.", "MX", "10 MAIL.EXAMPLE.COM")],
            )),
        );
        answer(
            &mut z,
            1,
            "example.com.",
            "NS",
            Ok(aa(
                ResponseCode::NoError,
                vec![
                    rr("example.com.", "NS", "NS-2.awsdns-02.net"),
                    rr("example.com.", "NS", NS1),
                ],
            )),
        );
        let out = run(&z, std::slice::from_ref(&z));
        assert!(out.detections.is_empty(), "{:#?}", out.detections);
        answer(
            &mut z,
            0,
            "example.com.",
            "TXT",
            Ok(aa(
                ResponseCode::NoError,
                vec![rr("example.com.", "TXT", "\"V=SPF1 -all\"")],
            )),
        );
        assert_eq!(codes(&run(&z, &[])), vec![FindingCode::DnsRecordDrift]);
    }

    /// Regression: an SPF record set made every healthy server "unreachable"
    /// because the probe could not ask for type SPF. A question the probe
    /// cannot ask is our limitation: no finding, a limitation line, and the
    /// zone is not covered (nothing about the SPF set may be resolved).
    #[test]
    fn a_type_the_probe_cannot_ask_is_our_limitation_not_the_servers() {
        let spf = "example.com.";
        let mut records = healthy_records();
        records.push(RecordSet::simple(spf, "SPF", &["\"v=spf1 -all\""]));
        let mut z = zone_facts("Z1", "example.com.", records);
        for i in 0..2 {
            answer(
                &mut z,
                i,
                spf,
                "SPF",
                Err(QueryFailure::Unsupported(
                    "record type `SPF` cannot be asked".into(),
                )),
            );
        }
        let out = run(&z, &[]);
        assert!(out.detections.is_empty(), "{:#?}", out.detections);
        assert_eq!(out.limitations.len(), 1, "{:?}", out.limitations);
        let line = &out.limitations[0];
        assert!(
            line.starts_with("1 SPF record set(s) of example.com. (Z1)"),
            "{line}"
        );
        assert!(line.contains("cannot be asked"), "{line}");
        assert!(!out.is_covered(Check::DnsAnswers, "Z1"));
        // Once asked and answered, SPF is compared like TXT: the same value
        // split differently is no drift, another value is.
        answer(
            &mut z,
            0,
            spf,
            "SPF",
            Ok(aa(
                ResponseCode::NoError,
                vec![rr(spf, "SPF", "\"v=spf1\" \" -all\"")],
            )),
        );
        answer(
            &mut z,
            1,
            spf,
            "SPF",
            Ok(aa(
                ResponseCode::NoError,
                vec![rr(spf, "SPF", "\"v=spf1 -all\"")],
            )),
        );
        let out = run(&z, &[]);
        assert!(out.detections.is_empty(), "{:#?}", out.detections);
        assert!(out.limitations.is_empty());
        assert!(out.is_covered(Check::DnsAnswers, "Z1"));
        answer(
            &mut z,
            1,
            spf,
            "SPF",
            Ok(aa(
                ResponseCode::NoError,
                vec![rr(spf, "SPF", "\"v=spf1 ~all\"")],
            )),
        );
        assert_eq!(codes(&run(&z, &[])), vec![FindingCode::DnsRecordDrift]);
    }

    /// Regression: every HTTPS record with `alpn` drifted because the
    /// answer's text carried a trailing comma after the ALPN list.
    #[test]
    fn https_and_svcb_compare_in_canonical_form() {
        let name = "www.example.com.";
        let mut records = healthy_records();
        records.push(RecordSet::simple(
            name,
            "HTTPS",
            &["1 . alpn=\"h3,h2\" ipv4hint=192.0.2.10,192.0.2.11"],
        ));
        let mut z = zone_facts("Z1", "example.com.", records);
        // What the probe builds from the wire: params in key order, quoted list.
        for i in 0..2 {
            answer(
                &mut z,
                i,
                name,
                "HTTPS",
                Ok(aa(
                    ResponseCode::NoError,
                    vec![rr(
                        name,
                        "HTTPS",
                        "1 . alpn=\"h3,h2\" ipv4hint=192.0.2.10,192.0.2.11",
                    )],
                )),
            );
        }
        let out = run(&z, &[]);
        assert!(out.detections.is_empty(), "{:#?}", out.detections);
        answer(
            &mut z,
            0,
            name,
            "HTTPS",
            Ok(aa(
                ResponseCode::NoError,
                vec![rr(
                    name,
                    "HTTPS",
                    "1 . alpn=\"h2\" ipv4hint=192.0.2.10,192.0.2.11",
                )],
            )),
        );
        let out = run(&z, &[]);
        assert_eq!(codes(&out), vec![FindingCode::DnsRecordDrift]);
        let d = &out.detections[0];
        assert_eq!(
            d.evidence["servers"][0]["seen"][0],
            "1 . alpn=\"h2\" ipv4hint=192.0.2.10,192.0.2.11"
        );
        assert_eq!(
            d.evidence["expected"][0],
            "1 . alpn=\"h3,h2\" ipv4hint=192.0.2.10,192.0.2.11"
        );
    }

    #[test]
    fn a_route53_value_we_cannot_read_is_our_limitation() {
        let mut records = healthy_records();
        records.push(RecordSet::simple(
            "_25._tcp.mail.example.com.",
            "TLSA",
            &["3 1 1 NOT-HEX"],
        ));
        let z = zone_facts("Z1", "example.com.", records);
        let out = run(&z, &[]);
        assert!(out.detections.is_empty(), "{:#?}", out.detections);
        assert_eq!(out.limitations.len(), 1, "{:?}", out.limitations);
        assert!(
            out.limitations[0].contains("TLSA value `3 1 1 NOT-HEX` cannot be read"),
            "{}",
            out.limitations[0]
        );
        assert!(!out.is_covered(Check::DnsAnswers, "Z1"));
    }

    #[test]
    fn route53_octal_escapes_meet_the_servers_decimal_ones() {
        let mut records = healthy_records();
        records.retain(|r| r.record_type != "TXT");
        records.push(RecordSet::simple(
            "example.com.",
            "TXT",
            &["\"caf\\303\\251\"", "\"v=spf1 \" \"-all\""],
        ));
        let mut z = zone_facts("Z1", "example.com.", records);
        for i in 0..2 {
            answer(
                &mut z,
                i,
                "example.com.",
                "TXT",
                Ok(aa(
                    ResponseCode::NoError,
                    vec![
                        rr("example.com.", "TXT", "\"v=spf1 -all\""),
                        rr("example.com.", "TXT", "\"caf\\195\\169\""),
                    ],
                )),
            );
        }
        let out = run(&z, &[]);
        assert!(out.detections.is_empty(), "{:#?}", out.detections);
        assert!(out.is_covered(Check::DnsAnswers, "Z1"));
    }

    #[test]
    fn routing_policy_sets_accept_any_subset_of_their_union() {
        let name = "api.example.com.";
        let weighted = |id: &str, v: &str| RecordSet {
            set_identifier: Some(id.into()),
            routing: RoutingPolicy::Weighted,
            ..RecordSet::simple(name, "A", &[v])
        };
        let mut records = healthy_records();
        records.push(weighted("blue", "192.0.2.20"));
        records.push(weighted("green", "192.0.2.21"));
        let mut z = zone_facts("Z1", "example.com.", records);
        for (i, v) in [(0, "192.0.2.20"), (1, "192.0.2.21")] {
            answer(
                &mut z,
                i,
                name,
                "A",
                Ok(aa(ResponseCode::NoError, vec![rr(name, "A", v)])),
            );
        }
        assert!(run(&z, &[]).detections.is_empty());
        answer(
            &mut z,
            1,
            name,
            "A",
            Ok(aa(ResponseCode::NoError, vec![rr(name, "A", "192.0.2.22")])),
        );
        let out = run(&z, &[]);
        assert_eq!(codes(&out), vec![FindingCode::DnsRecordDrift]);
        // Several sets: one finding for the name and type, no set identifier.
        assert_eq!(out.detections[0].resource.id, "Z1/api.example.com./A");
        assert_eq!(out.detections[0].evidence["rule"], "one-of");
        // An empty answer is not a subset that counts.
        answer(&mut z, 1, name, "A", Ok(aa(ResponseCode::NoError, vec![])));
        assert_eq!(codes(&run(&z, &[])), vec![FindingCode::DnsRecordMissing]);
    }

    #[test]
    fn aliases_to_account_records_expect_the_targets_values() {
        let alias = |name: &str, target: &str| RecordSet {
            alias: Some(AliasTarget {
                dns_name: target.into(),
                hosted_zone_id: "Z1".into(),
                evaluate_target_health: false,
            }),
            ..RecordSet::simple(name, "A", &[])
        };
        let mut records = healthy_records();
        records.push(alias("example.com.", "www.example.com."));
        records.push(alias("old.example.com.", "example.com."));
        // Three levels: not followed.
        records.push(alias("older.example.com.", "old.example.com."));
        records.push(RecordSet {
            alias: Some(AliasTarget {
                dns_name: "d111.cloudfront.net.".into(),
                hosted_zone_id: "Z2FDTNDATAQYW2".into(),
                evaluate_target_health: false,
            }),
            ..RecordSet::simple("cdn.example.com.", "A", &[])
        });
        let mut z = zone_facts("Z1", "example.com.", records);
        let www = [rr("x.", "A", "192.0.2.10"), rr("x.", "A", "192.0.2.11")];
        for name in ["example.com.", "old.example.com.", "older.example.com."] {
            let records: Vec<_> = www.iter().map(|r| rr(name, "A", &r.data)).collect();
            for i in 0..2 {
                answer(
                    &mut z,
                    i,
                    name,
                    "A",
                    Ok(aa(ResponseCode::NoError, records.clone())),
                );
            }
        }
        // Whatever CloudFront answers is AWS's business.
        answer(
            &mut z,
            0,
            "cdn.example.com.",
            "A",
            Ok(aa(
                ResponseCode::NoError,
                vec![rr("cdn.example.com.", "A", "203.0.113.1")],
            )),
        );
        let out = run(&z, &[]);
        assert!(out.detections.is_empty(), "{:#?}", out.detections);
        answer(
            &mut z,
            0,
            "old.example.com.",
            "A",
            Ok(aa(
                ResponseCode::NoError,
                vec![rr("old.example.com.", "A", "192.0.2.10")],
            )),
        );
        answer(
            &mut z,
            0,
            "older.example.com.",
            "A",
            Ok(aa(
                ResponseCode::NoError,
                vec![rr("older.example.com.", "A", "192.0.2.10")],
            )),
        );
        let out = run(&z, &[]);
        assert_eq!(codes(&out), vec![FindingCode::DnsRecordDrift]);
        assert_eq!(out.detections[0].resource.id, "Z1/old.example.com./A");
    }

    #[test]
    fn aliases_follow_into_other_zones_of_the_account() {
        let mut records = healthy_records();
        records.push(RecordSet {
            alias: Some(AliasTarget {
                dns_name: "app.example.net.".into(),
                hosted_zone_id: "Z2".into(),
                evaluate_target_health: true,
            }),
            ..RecordSet::simple("app.example.com.", "A", &[])
        });
        let mut z = zone_facts("Z1", "example.com.", records);
        let other = zone_facts(
            "Z2",
            "example.net.",
            vec![RecordSet::simple(
                "app.example.net.",
                "A",
                &["198.51.100.5"],
            )],
        );
        let name = "app.example.com.";
        for i in 0..2 {
            answer(
                &mut z,
                i,
                name,
                "A",
                Ok(aa(
                    ResponseCode::NoError,
                    vec![rr(name, "A", "198.51.100.5")],
                )),
            );
        }
        assert!(run(&z, std::slice::from_ref(&other)).detections.is_empty());
        answer(
            &mut z,
            0,
            name,
            "A",
            Ok(aa(
                ResponseCode::NoError,
                vec![rr(name, "A", "198.51.100.6")],
            )),
        );
        let out = run(&z, std::slice::from_ref(&other));
        assert_eq!(codes(&out), vec![FindingCode::DnsRecordDrift]);
        assert_eq!(out.detections[0].evidence["expected"][0], "198.51.100.5");
        // The other zone unknown (private, or not listed): skipped, no claim.
        assert!(run(&z, &[]).detections.is_empty());
    }

    /// Route 53's default quota of record sets, four servers: evaluation
    /// stays linear (indexes, not scans per record).
    #[test]
    fn a_zone_at_the_record_quota_evaluates_quickly() {
        let mut records = healthy_records();
        records.extend((0..10_000).map(|i| {
            RecordSet::simple(
                &format!("host{i}.example.com."),
                "A",
                &[&format!("10.{}.{}.1", i / 250, i % 250)],
            )
        }));
        let mut z = zone_facts("Z1", "example.com.", records);
        let extra: Vec<ServerFacts> = z.servers.clone();
        z.servers.extend(extra.into_iter().map(|s| ServerFacts {
            name: format!("x{}", s.name),
            ..s
        }));
        let started = std::time::Instant::now();
        let out = run(&z, &[]);
        assert!(out.detections.is_empty());
        assert!(out.is_covered(Check::DnsAnswers, "Z1"));
        // Generous even for a debug build on a slow machine (it takes well
        // under a second); a search per record and server would be quadratic.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn unreachable_servers_are_listed_with_reasons() {
        let mut z = healthy();
        z.servers[1].addresses = Err(QueryFailure::Timeout);
        z.servers[1].observations.clear();
        let out = run(&z, std::slice::from_ref(&z));
        assert_eq!(codes(&out), vec![FindingCode::DnsNameserverUnreachable]);
        let d = &out.detections[0];
        assert_eq!(d.resource.id, "Z1");
        assert_eq!(d.evidence["servers"][0]["server"], NS2);
        assert_eq!(d.evidence["servers"][0]["reason"], "no address: timed out");
        // Server 0 still answered everything: the zone is covered.
        assert!(out.is_covered(Check::DnsAnswers, "Z1"));

        let mut z = healthy();
        for o in &mut z.servers[1].observations {
            o.outcome = Err(QueryFailure::Timeout);
        }
        let out = run(&z, &[]);
        assert_eq!(codes(&out), vec![FindingCode::DnsNameserverUnreachable]);
        assert_eq!(
            out.detections[0].evidence["servers"][0]["reason"],
            "timed out"
        );
    }

    #[test]
    fn a_zone_whose_servers_all_timed_out_is_not_covered() {
        let mut z = healthy();
        for server in &mut z.servers {
            for o in &mut server.observations {
                o.outcome = Err(QueryFailure::Timeout);
            }
        }
        let out = run(&z, &[]);
        assert!(!out.is_covered(Check::DnsAnswers, "Z1"));
        // No claim about any record.
        assert_eq!(codes(&out), vec![FindingCode::DnsNameserverUnreachable]);
    }

    #[test]
    fn a_record_no_server_answered_keeps_the_zone_uncovered() {
        let mut z = healthy();
        for i in 0..2 {
            answer(
                &mut z,
                i,
                "www.example.com.",
                "A",
                Err(QueryFailure::Skipped),
            );
        }
        let out = run(&z, &[]);
        assert!(out.detections.is_empty());
        assert!(!out.is_covered(Check::DnsAnswers, "Z1"));
    }

    #[test]
    fn soa_serials_must_agree() {
        let soa_answer = |serial: u32| {
            Ok(aa(
                ResponseCode::NoError,
                vec![rr(
                    "example.com.",
                    "SOA",
                    &format!(
                        "ns-1.awsdns-01.com. awsdns-hostmaster.amazon.com. {serial} 7200 900 1209600 86400"
                    ),
                )],
            ))
        };
        let mut z = healthy();
        answer(&mut z, 1, "example.com.", "SOA", soa_answer(2024));
        let out = run(&z, &[]);
        assert_eq!(codes(&out), vec![FindingCode::DnsSoaSerialMismatch]);
        assert_eq!(out.detections[0].evidence["serials"][1]["serial"], 2024);
        answer(&mut z, 1, "example.com.", "SOA", soa_answer(1));
        assert!(run(&z, &[]).detections.is_empty());
    }

    #[test]
    fn names_under_a_sub_delegation_are_not_compared() {
        let mut records = healthy_records();
        records.push(RecordSet::simple(
            "dev.example.com.",
            "NS",
            &["ns1.elsewhere.net."],
        ));
        records.push(RecordSet::simple(
            "ns.dev.example.com.",
            "A",
            &["192.0.2.53"],
        ));
        records.push(RecordSet::simple(
            "dev.example.com.",
            "DS",
            &["12345 13 2 ABCDEF"],
        ));
        let z = zone_facts("Z1", "example.com.", records);
        let names: Vec<String> = groups(&z)
            .iter()
            .map(|g| format!("{} {}", g.name, g.rtype))
            .collect();
        // The DS set at the cut is this zone's; nothing else there or below.
        assert!(
            !names
                .iter()
                .any(|n| n.contains("dev.example.com.") && n != "dev.example.com. DS"),
            "{names:?}"
        );
        assert!(
            names.contains(&"dev.example.com. DS".to_owned()),
            "{names:?}"
        );
        assert!(names.contains(&"example.com. NS".to_owned()));
        assert!(!names.iter().any(|n| n.ends_with("SOA")));
    }

    #[test]
    fn evidence_lists_are_capped() {
        let mut z = healthy();
        let template = z.servers[0].clone();
        z.servers = (0..30)
            .map(|i| ServerFacts {
                name: format!("ns{i}.example.net."),
                ..template.clone()
            })
            .collect();
        for i in 0..30 {
            answer(
                &mut z,
                i,
                "www.example.com.",
                "A",
                Ok(aa(ResponseCode::NxDomain, vec![])),
            );
        }
        let out = run(&z, &[]);
        let d = &out.detections[0];
        assert_eq!(d.evidence["servers"].as_array().map(Vec::len), Some(20));
        assert_eq!(d.evidence["servers_truncated"], 10);
    }
}
