//! CAA (RFC 8659): may Amazon issue for a certificate's names, and for each
//! public zone's apex?
//!
//! The relevant record set of a name is the CAA set of the name or of its
//! closest parent that has one (the collector climbs; [`climb`] gives the
//! order). In it, `issue` records govern every name and `issuewild` records,
//! when present, govern wildcard names instead. When the governing tag has
//! records and none names one of Amazon's issuer domains, ACM cannot issue
//! or renew: `dns.caa-blocks-acm`. A record with the critical flag (128) and
//! a tag no CA knows forbids issuance by everyone.

use super::rdata::{Caa, parse_caa};
use super::{DnsOutcome, DnsRuleSettings, detection, put_list, zone_resource};
use crate::catalogue::{Check, FindingCode};
use crate::families::dns::model::{CaaLookup, CertificateNames, DnsFacts};
use crate::finding::{Resource, ResourceKind};
use crate::model::{Region, normalize_dns_name};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The issuer domains ACM accepts in CAA (any one of them suffices).
pub const AMAZON_ISSUERS: [&str; 4] = [
    "amazon.com",
    "amazontrust.com",
    "awstrust.com",
    "amazonaws.com",
];

/// Tags RFC 8659 and its extensions define; a critical record with another
/// tag forbids issuance.
const KNOWN_TAGS: [&str; 7] = [
    "issue",
    "issuewild",
    "iodef",
    "issuemail",
    "issuevmc",
    "contactemail",
    "contactphone",
];

/// The names whose CAA sets are consulted for `name`, in order: the name
/// (without a leading `*.`), then each parent up to but excluding the root.
pub fn climb(name: &str) -> Vec<String> {
    let name = normalize_dns_name(name);
    let mut rest = name.strip_prefix("*.").unwrap_or(&name);
    let mut out = Vec::new();
    while !rest.is_empty() && rest != "." {
        out.push(rest.to_owned());
        rest = match rest.split_once('.') {
            Some((_, parent)) => parent,
            None => "",
        };
    }
    out
}

/// The names the collector must look CAA up for: every certificate name
/// (without `*.`) and every public zone's apex, normalised.
pub fn caa_names(facts: &DnsFacts) -> BTreeSet<String> {
    let certs = facts
        .certificates
        .iter()
        .flatten()
        .flat_map(|c| &c.names)
        .map(|n| lookup_key(n));
    let apexes = facts
        .zones
        .iter()
        .filter(|z| !z.inventory.zone.private)
        .map(|z| normalize_dns_name(&z.inventory.zone.name));
    certs.chain(apexes).collect()
}

fn lookup_key(name: &str) -> String {
    let n = normalize_dns_name(name);
    n.strip_prefix("*.").map(str::to_owned).unwrap_or(n)
}

/// Why a CAA record set forbids Amazon for a name (`wildcard`: a `*.` name),
/// or None when Amazon may issue.
pub fn blocks_amazon(records: &[String], wildcard: bool) -> Option<String> {
    let parsed: Vec<Caa> = records.iter().filter_map(|r| parse_caa(r)).collect();
    if let Some(c) = parsed
        .iter()
        .find(|c| c.flags & 128 != 0 && !KNOWN_TAGS.contains(&c.tag.as_str()))
    {
        return Some(format!(
            "critical CAA tag `{}` that no CA understands forbids all issuance",
            c.tag
        ));
    }
    let with_tag = |tag: &str| -> Vec<&Caa> { parsed.iter().filter(|c| c.tag == tag).collect() };
    let (tag, governing) = match (wildcard, with_tag("issuewild")) {
        (true, wild) if !wild.is_empty() => ("issuewild", wild),
        _ => ("issue", with_tag("issue")),
    };
    if governing.is_empty() {
        return None;
    }
    let allowed = governing.iter().any(|c| {
        let domain = c.value.split(';').next().unwrap_or_default().trim();
        AMAZON_ISSUERS
            .iter()
            .any(|a| domain.eq_ignore_ascii_case(a))
    });
    (!allowed).then(|| {
        format!("`{tag}` records allow only other CAs (none of amazon.com, amazontrust.com, awstrust.com, amazonaws.com)")
    })
}

/// A certificate as a CAA finding's resource.
fn certificate_resource(cert: &CertificateNames) -> Resource {
    Resource {
        kind: ResourceKind::AcmCertificate,
        id: cert.arn.clone(),
        name: cert.domain_name.clone(),
    }
}

/// Checks `names`; returns the blocked names' evidence, or None when some
/// lookup is missing or failed (no complete picture).
fn check_names<'a>(
    facts: &DnsFacts,
    names: impl IntoIterator<Item = (&'a str, bool)>,
) -> (Vec<Value>, bool) {
    let mut blocked = Vec::new();
    let mut complete = true;
    for (name, wildcard) in names {
        match facts.caa.get(&lookup_key(name)) {
            None | Some(CaaLookup::Failed { .. }) => complete = false,
            Some(CaaLookup::None) => {}
            Some(CaaLookup::Found { at, records }) => {
                if let Some(reason) = blocks_amazon(records, wildcard) {
                    blocked.push(json!({
                        "name": name,
                        "caa_at": at,
                        "records": records,
                        "tag": if wildcard && reason.contains("issuewild") { "issuewild" } else { "issue" },
                        "reason": reason,
                    }));
                }
            }
        }
    }
    (blocked, complete)
}

pub(crate) fn evaluate(facts: &DnsFacts, settings: &DnsRuleSettings, out: &mut DnsOutcome) {
    for cert in facts.certificates.iter().flatten() {
        let names: Vec<(String, bool)> = cert
            .names
            .iter()
            .map(|n| (n.trim().to_owned(), n.trim().starts_with("*.")))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let (blocked, complete) = check_names(facts, names.iter().map(|(n, w)| (n.as_str(), *w)));
        if complete {
            out.cover(Check::DnsCaa, &cert.arn);
        }
        if let Some(first) = blocked.first() {
            let message = format!(
                "CAA at {} forbids Amazon from issuing for {} of certificate {}: its next renewal will fail with CAA_ERROR",
                first["caa_at"].as_str().unwrap_or_default(),
                first["name"].as_str().unwrap_or_default(),
                cert.domain_name
            );
            let mut evidence = serde_json::Map::new();
            put_list(&mut evidence, "names", blocked, settings.evidence_cap);
            out.detections.push(detection(
                FindingCode::DnsCaaBlocksAcm,
                certificate_resource(cert),
                cert.region.clone(),
                &cert.arn,
                message,
                Value::Object(evidence),
            ));
        }
    }
    for zone in facts.zones.iter().filter(|z| !z.inventory.zone.private) {
        let hz = &zone.inventory.zone;
        let apex = normalize_dns_name(&hz.name);
        let wildcard = format!("*.{apex}");
        let (blocked, complete) =
            check_names(facts, [(apex.as_str(), false), (wildcard.as_str(), true)]);
        if complete {
            out.cover(Check::DnsCaa, &hz.id);
        }
        if let Some(first) = blocked.first() {
            let message = format!(
                "CAA at {} forbids Amazon from issuing certificates for {}: ACM requests and renewals for names in hosted zone {} will fail",
                first["caa_at"].as_str().unwrap_or_default(),
                first["name"].as_str().unwrap_or_default(),
                hz.id
            );
            let mut evidence = serde_json::Map::new();
            put_list(&mut evidence, "names", blocked, settings.evidence_cap);
            out.detections.push(detection(
                FindingCode::DnsCaaBlocksAcm,
                zone_resource(hz),
                Region::global(),
                &hz.id,
                message,
                Value::Object(evidence),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;

    fn run(facts: &DnsFacts) -> DnsOutcome {
        let mut out = DnsOutcome::default();
        evaluate(facts, &DnsRuleSettings::default(), &mut out);
        out
    }

    #[test]
    fn climb_strips_the_wildcard_and_stops_before_the_root() {
        assert_eq!(
            climb("*.A.example.com"),
            vec!["a.example.com.", "example.com.", "com."]
        );
        assert_eq!(climb("example.com."), vec!["example.com.", "com."]);
        assert!(climb(".").is_empty());
        assert!(climb("").is_empty());
    }

    #[test]
    fn which_records_allow_amazon() {
        // (records, wildcard name, blocked)
        let cases: Vec<(Vec<&str>, bool, bool)> = vec![
            (vec![], false, false),
            (vec!["0 issue \"amazon.com\""], false, false),
            (vec!["0 issue \"AmazonTrust.com; x=y\""], false, false),
            (
                vec!["0 issue \"letsencrypt.org\"", "0 issue \"awstrust.com\""],
                false,
                false,
            ),
            (vec!["0 issue \"amazonaws.com\""], false, false),
            (vec!["0 issue \"letsencrypt.org\""], false, true),
            (vec!["0 issue \";\""], false, true),
            (vec!["0 issue \"amazon.com.evil.org\""], false, true),
            // Only iodef: no restriction.
            (vec!["0 iodef \"mailto:sec@example.com\""], false, false),
            // issuewild governs wildcards when present...
            (
                vec!["0 issue \"amazon.com\"", "0 issuewild \";\""],
                true,
                true,
            ),
            (
                vec!["0 issue \"amazon.com\"", "0 issuewild \";\""],
                false,
                false,
            ),
            (
                vec!["0 issue \"letsencrypt.org\"", "0 issuewild \"amazon.com\""],
                true,
                false,
            ),
            // ...and issue when it is not.
            (vec!["0 issue \"letsencrypt.org\""], true, true),
            // Unknown critical tag: nobody may issue.
            (vec!["0 issue \"amazon.com\"", "128 tbs \"x\""], false, true),
            (vec!["0 issue \"amazon.com\"", "0 tbs \"x\""], false, false),
        ];
        for (records, wildcard, blocked) in cases {
            let records: Vec<String> = records.iter().map(|r| (*r).to_owned()).collect();
            assert_eq!(
                blocks_amazon(&records, wildcard).is_some(),
                blocked,
                "{records:?} wildcard={wildcard}"
            );
        }
    }

    #[test]
    fn caa_names_lists_certificate_names_and_apexes() {
        let facts = healthy_facts();
        assert_eq!(
            caa_names(&facts),
            BTreeSet::from(["example.com.".to_owned()])
        );
    }

    #[test]
    fn blocking_caa_is_reported_on_the_certificate_and_the_zone() {
        let mut facts = healthy_facts();
        facts.caa.insert(
            "example.com.".into(),
            CaaLookup::Found {
                at: "example.com.".into(),
                records: vec!["0 issue \"letsencrypt.org\"".into()],
            },
        );
        let out = run(&facts);
        assert_eq!(out.detections.len(), 2, "{:#?}", out.detections);
        let cert = &out.detections[0];
        assert_eq!(cert.code, FindingCode::DnsCaaBlocksAcm);
        assert_eq!(cert.resource.id, CERT_ARN);
        assert_eq!(cert.resource.kind, ResourceKind::AcmCertificate);
        assert_eq!(cert.region.as_str(), "eu-west-1");
        assert_eq!(cert.evidence["names"].as_array().map(Vec::len), Some(2));
        assert_eq!(cert.evidence["names"][0]["caa_at"], "example.com.");
        let zone = &out.detections[1];
        assert_eq!(zone.resource.id, "Z1");
        assert_eq!(zone.region, Region::global());
        assert!(out.is_covered(Check::DnsCaa, CERT_ARN));
        assert!(out.is_covered(Check::DnsCaa, "Z1"));

        // Amazon allowed again: quiet, still covered.
        facts.caa.insert(
            "example.com.".into(),
            CaaLookup::Found {
                at: "com.".into(),
                records: vec![
                    "0 issue \"letsencrypt.org\"".into(),
                    "0 issue \"amazon.com\"".into(),
                ],
            },
        );
        let out = run(&facts);
        assert!(out.detections.is_empty());
        assert!(out.is_covered(Check::DnsCaa, CERT_ARN));
    }

    #[test]
    fn a_failed_lookup_does_not_cover_the_certificate() {
        let mut facts = healthy_facts();
        facts.caa.insert(
            "example.com.".into(),
            CaaLookup::Failed {
                reason: "SERVFAIL".into(),
            },
        );
        let out = run(&facts);
        assert!(out.detections.is_empty());
        assert!(!out.is_covered(Check::DnsCaa, CERT_ARN));
        assert!(!out.is_covered(Check::DnsCaa, "Z1"));
        // A name never looked up is no better.
        let mut facts = healthy_facts();
        facts.caa.clear();
        assert!(!run(&facts).is_covered(Check::DnsCaa, CERT_ARN));
        // No CAA anywhere: anyone may issue.
        facts.caa.insert("example.com.".into(), CaaLookup::None);
        let out = run(&facts);
        assert!(out.is_covered(Check::DnsCaa, CERT_ARN));
        assert!(out.detections.is_empty());
    }

    #[test]
    fn unlisted_certificates_are_not_judged() {
        let mut facts = healthy_facts();
        facts.certificates = None;
        let out = run(&facts);
        assert!(!out.covered.iter().any(|(_, s)| s == CERT_ARN));
    }
}
