//! Delegation: do the parent zone's NS records, the zone's Route 53
//! delegation set and the zone's own apex NS record name the same servers?
//!
//! | parent's NS set vs delegation set | apex NS vs delegation set | code |
//! |---|---|---|
//! | equal | equal | none |
//! | equal | differs | `dns.delegation-partial` |
//! | overlap | any | `dns.delegation-partial` |
//! | disjoint | any | `dns.delegation-mismatch` |
//! | not delegated | any | `dns.zone-not-delegated` |
//! | unknown (walk failed) | any | not evaluated, not covered |

use super::{DnsOutcome, DnsRuleSettings, detection, is_apex, zone_resource};
use crate::catalogue::{Check, FindingCode};
use crate::families::dns::model::{DelegationOutcome, ZoneFacts};
use crate::model::{Region, normalize_dns_name};
use serde_json::json;
use std::collections::BTreeSet;

fn names<'a>(list: impl IntoIterator<Item = &'a String>) -> BTreeSet<String> {
    list.into_iter().map(|n| normalize_dns_name(n)).collect()
}

/// The zone's apex NS record values.
pub fn apex_ns(zone: &ZoneFacts) -> BTreeSet<String> {
    names(
        zone.inventory
            .record_sets
            .iter()
            .filter(|s| s.record_type == "NS" && is_apex(zone, &s.name))
            .flat_map(|s| &s.values),
    )
}

pub(crate) fn evaluate(
    zone: &ZoneFacts,
    all: &[ZoneFacts],
    _settings: &DnsRuleSettings,
    out: &mut DnsOutcome,
) {
    let hz = &zone.inventory.zone;
    let Some(delegation) = &zone.delegation else {
        return;
    };
    let delegation_set = names(&zone.inventory.name_servers);
    if delegation_set.is_empty() {
        // GetHostedZone gave no delegation set: nothing to compare with.
        return;
    }
    let apex = apex_ns(zone);
    let resource = zone_resource(hz);
    match &delegation.outcome {
        DelegationOutcome::Unknown { .. } => {}
        DelegationOutcome::NotDelegated { rcode } => {
            out.cover(Check::DnsDelegation, &hz.id);
            out.detections.push(detection(
                FindingCode::DnsZoneNotDelegated,
                resource,
                Region::global(),
                &hz.id,
                format!(
                    "{} ({}) is not delegated by its parent {} ({}): nobody on the internet can resolve its records. If the zone is meant to be public, set the domain's name servers to its delegation set; if it never was, delete it or make it private",
                    hz.name,
                    hz.id,
                    delegation.parent,
                    rcode.as_str()
                ),
                json!({
                    "parent": delegation.parent,
                    "parent_servers": delegation.parent_servers,
                    "rcode": rcode.as_str(),
                    "delegation_set": delegation_set,
                }),
            ));
        }
        DelegationOutcome::Delegated { name_servers } => {
            out.cover(Check::DnsDelegation, &hz.id);
            let parent = names(name_servers);
            let apex_differs = !apex.is_empty() && apex != delegation_set;
            if parent == delegation_set && !apex_differs {
                return;
            }
            let disjoint = parent.is_disjoint(&delegation_set);
            // Another hosted zone of the account with the same name that the
            // parent does delegate to: this one is a leftover duplicate.
            let live_zone_id = all
                .iter()
                .filter(|z| z.inventory.zone.id != hz.id)
                .filter(|z| {
                    normalize_dns_name(&z.inventory.zone.name) == normalize_dns_name(&hz.name)
                })
                .find(|z| names(&z.inventory.name_servers) == parent)
                .map(|z| z.inventory.zone.id.clone());
            let evidence = json!({
                "parent": delegation.parent,
                "parent_servers": delegation.parent_servers,
                "delegated_by_parent": parent,
                "delegation_set": delegation_set,
                "apex_ns": apex,
                "apex_ns_differs": apex_differs,
                "missing_at_parent": delegation_set.difference(&parent).collect::<Vec<_>>(),
                "unknown_at_parent": parent.difference(&delegation_set).collect::<Vec<_>>(),
                "live_zone_id": live_zone_id,
            });
            let (code, message) = if disjoint {
                let tail = match &live_zone_id {
                    Some(live) => format!(
                        "; hosted zone {live} with the same name is the one delegated, so this one is a leftover duplicate"
                    ),
                    None => String::new(),
                };
                (
                    FindingCode::DnsDelegationMismatch,
                    format!(
                        "The parent {} delegates {} to servers none of which are in hosted zone {}'s delegation set: changes to this zone have no effect{tail}",
                        delegation.parent, hz.name, hz.id
                    ),
                )
            } else if parent != delegation_set {
                (
                    FindingCode::DnsDelegationPartial,
                    format!(
                        "The parent {} delegates {} to {} server(s), only {} of which are in hosted zone {}'s delegation set",
                        delegation.parent,
                        hz.name,
                        parent.len(),
                        parent.intersection(&delegation_set).count(),
                        hz.id
                    ),
                )
            } else {
                (
                    FindingCode::DnsDelegationPartial,
                    format!(
                        "The apex NS record of {} ({}) lists other servers than its delegation set, which the parent delegates to",
                        hz.name, hz.id
                    ),
                )
            };
            out.detections.push(detection(
                code,
                resource,
                Region::global(),
                &hz.id,
                message,
                evidence,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use crate::families::dns::model::ResponseCode;
    use crate::model::RecordSet;

    const OTHER1: &str = "ns1.old-provider.net.";
    const OTHER2: &str = "ns2.old-provider.net.";

    fn run(zone: &ZoneFacts, all: &[ZoneFacts]) -> DnsOutcome {
        let mut out = DnsOutcome::default();
        evaluate(zone, all, &DnsRuleSettings::default(), &mut out);
        out
    }

    fn with_outcome(outcome: DelegationOutcome, apex: &[&str]) -> ZoneFacts {
        let mut z = zone_facts(
            "Z1",
            "example.com.",
            vec![soa(), RecordSet::simple("example.com.", "NS", apex)],
        );
        if let Some(d) = z.delegation.as_mut() {
            d.outcome = outcome;
        }
        z
    }

    fn delegated_to(servers: &[&str]) -> DelegationOutcome {
        DelegationOutcome::Delegated {
            name_servers: servers.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn outcomes_map_to_codes() {
        // (parent's outcome, apex NS values, expected code, covered)
        let cases: Vec<(DelegationOutcome, Vec<&str>, Option<FindingCode>, bool)> = vec![
            (delegated_to(&[NS1, NS2]), vec![NS1, NS2], None, true),
            // Case and trailing dots do not matter.
            (
                delegated_to(&["NS-1.awsdns-01.com", "ns-2.awsdns-02.NET"]),
                vec![NS1, NS2],
                None,
                true,
            ),
            (
                delegated_to(&[OTHER1, OTHER2]),
                vec![NS1, NS2],
                Some(FindingCode::DnsDelegationMismatch),
                true,
            ),
            (
                delegated_to(&[NS1, OTHER2]),
                vec![NS1, NS2],
                Some(FindingCode::DnsDelegationPartial),
                true,
            ),
            (
                delegated_to(&[NS1, NS2]),
                vec![NS1, OTHER1],
                Some(FindingCode::DnsDelegationPartial),
                true,
            ),
            (
                DelegationOutcome::NotDelegated {
                    rcode: ResponseCode::NxDomain,
                },
                vec![NS1, NS2],
                Some(FindingCode::DnsZoneNotDelegated),
                true,
            ),
            (
                DelegationOutcome::Unknown {
                    reason: "every parent server timed out".into(),
                },
                vec![NS1, NS2],
                None,
                false,
            ),
        ];
        for (outcome, apex, code, covered) in cases {
            let label = format!("{outcome:?} / {apex:?}");
            let z = with_outcome(outcome, &apex);
            let out = run(&z, std::slice::from_ref(&z));
            assert_eq!(
                out.detections.iter().map(|d| d.code).collect::<Vec<_>>(),
                code.into_iter().collect::<Vec<_>>(),
                "{label}"
            );
            assert_eq!(
                out.is_covered(Check::DnsDelegation, "Z1"),
                covered,
                "{label}"
            );
        }
    }

    #[test]
    fn mismatch_evidence_names_both_sides_and_the_live_duplicate() {
        let z = with_outcome(delegated_to(&[OTHER1, OTHER2]), &[NS1, NS2]);
        let mut live = zone_facts("Z2", "example.com.", vec![]);
        live.inventory.name_servers = vec![OTHER1.into(), OTHER2.into()];
        let out = run(&z, &[z.clone(), live]);
        let d = &out.detections[0];
        assert_eq!(d.code, FindingCode::DnsDelegationMismatch);
        assert_eq!(d.evidence["live_zone_id"], "Z2");
        assert_eq!(d.evidence["delegated_by_parent"][0], OTHER1);
        assert_eq!(
            d.evidence["missing_at_parent"].as_array().map(Vec::len),
            Some(2)
        );
        assert!(d.message.contains("leftover duplicate"), "{}", d.message);
    }

    #[test]
    fn partial_evidence_says_when_the_apex_ns_differs() {
        let z = with_outcome(delegated_to(&[NS1, NS2]), &[NS1, OTHER1]);
        let out = run(&z, std::slice::from_ref(&z));
        assert_eq!(out.detections[0].evidence["apex_ns_differs"], true);
    }

    #[test]
    fn not_delegated_message_allows_for_zones_never_meant_to_be_public() {
        let z = with_outcome(
            DelegationOutcome::NotDelegated {
                rcode: ResponseCode::NxDomain,
            },
            &[NS1, NS2],
        );
        let out = run(&z, std::slice::from_ref(&z));
        let d = &out.detections[0];
        assert_eq!(d.severity, crate::finding::Severity::High);
        assert!(d.message.contains("make it private"));
        assert_eq!(d.evidence["rcode"], "NXDOMAIN");
    }

    #[test]
    fn no_walk_no_claim() {
        let mut z = with_outcome(delegated_to(&[NS1, NS2]), &[NS1, NS2]);
        z.delegation = None;
        assert_eq!(run(&z, &[]), DnsOutcome::default());
        let mut z = with_outcome(delegated_to(&[OTHER1]), &[NS1, NS2]);
        z.inventory.name_servers.clear();
        assert_eq!(run(&z, &[]), DnsOutcome::default());
    }
}
