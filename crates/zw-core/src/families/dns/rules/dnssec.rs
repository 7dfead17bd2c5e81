//! DNSSEC: is Route 53 able to sign, does the parent's DS match an active
//! key, and are the signatures the servers hand out fresh?
//!
//! - `dns.dnssec-action-needed` from `GetDNSSEC` alone (`DnsDnssec`, covered
//!   when it was read).
//! - `dns.dnssec-ds-mismatch` and `dns.dnssec-signature-expiring` from what
//!   the internet sees (`DnsDnssecChain`, covered when `GetDNSSEC` was read,
//!   the parent's delegation is known, and, for a signing zone, at least one
//!   server answered authoritatively).

use super::rdata::{ds_key, rrsig};
use super::{
    DnsOutcome, DnsRuleSettings, authoritative_answer, detection, put_list, zone_resource,
};
use crate::catalogue::{Check, FindingCode};
use crate::families::dns::model::{DelegationOutcome, ZoneFacts};
use crate::model::Region;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

const BAD: [&str; 2] = ["ACTION_NEEDED", "INTERNAL_FAILURE"];

pub(crate) fn evaluate(
    zone: &ZoneFacts,
    now: DateTime<Utc>,
    settings: &DnsRuleSettings,
    out: &mut DnsOutcome,
) {
    let hz = &zone.inventory.zone;
    let status = match (&zone.inventory.dnssec, zone.dnssec_read) {
        (Some(status), true) => status,
        _ => return,
    };
    out.cover(Check::DnsDnssec, &hz.id);

    // Action needed.
    let bad_keys: Vec<Value> = status
        .key_signing_keys
        .iter()
        .filter(|k| BAD.contains(&k.status.as_str()))
        .map(|k| {
            json!({
                "name": k.name,
                "status": k.status,
                "status_message": k.status_message,
                "kms_arn": k.kms_arn,
            })
        })
        .collect();
    if BAD.contains(&status.serve_signature.as_str()) || !bad_keys.is_empty() {
        let what = match bad_keys.first() {
            Some(k) => format!(
                "key-signing key {} is {}",
                k["name"].as_str().unwrap_or_default(),
                k["status"].as_str().unwrap_or_default()
            ),
            None => format!("signing is {}", status.serve_signature),
        };
        let mut evidence = serde_json::Map::new();
        evidence.insert("serve_signature".into(), json!(status.serve_signature));
        evidence.insert("status_message".into(), json!(status.status_message));
        put_list(&mut evidence, "keys", bad_keys, settings.evidence_cap);
        out.detections.push(detection(
            FindingCode::DnsDnssecActionNeeded,
            zone_resource(hz),
            Region::global(),
            &hz.id,
            format!(
                "DNSSEC of {} ({}) needs action: {what}{}",
                hz.name,
                hz.id,
                status
                    .status_message
                    .as_deref()
                    .map(|m| format!(" ({m})"))
                    .unwrap_or_default()
            ),
            Value::Object(evidence),
        ));
    }

    // The chain as the internet sees it.
    let Some(delegation) = &zone.delegation else {
        return;
    };
    if matches!(delegation.outcome, DelegationOutcome::Unknown { .. }) {
        return;
    }
    let signing = status.is_signing();
    let any_answered = zone.servers.iter().any(|s| {
        s.observations
            .iter()
            .any(|o| authoritative_answer(o).is_some())
    });
    if signing && !any_answered {
        return;
    }
    out.cover(Check::DnsDnssecChain, &hz.id);

    let active: Vec<&crate::families::dns::model::KeySigningKey> = status
        .key_signing_keys
        .iter()
        .filter(|k| k.status == "ACTIVE")
        .collect();
    let parent_ds: Vec<(u16, String)> = delegation
        .ds_records
        .iter()
        .filter_map(|d| ds_key(d))
        .collect();
    if matches!(delegation.outcome, DelegationOutcome::Delegated { .. })
        && !delegation.ds_records.is_empty()
    {
        let active_ds: Vec<(u16, String)> = active
            .iter()
            .filter_map(|k| k.ds_record.as_deref().and_then(ds_key))
            .collect();
        let matched = parent_ds.iter().any(|p| active_ds.contains(p));
        if !matched {
            out.detections.push(detection(
                FindingCode::DnsDnssecDsMismatch,
                zone_resource(hz),
                Region::global(),
                &hz.id,
                format!(
                    "The parent {} publishes DS records for {} that match no active key-signing key of hosted zone {}{}: validating resolvers fail every name of the zone",
                    delegation.parent,
                    hz.name,
                    hz.id,
                    if signing { "" } else { " (the zone is not signing)" }
                ),
                json!({
                    "parent": delegation.parent,
                    "parent_ds": delegation.ds_records,
                    "serve_signature": status.serve_signature,
                    "active_ksks": active
                        .iter()
                        .map(|k| json!({"name": k.name, "key_tag": k.key_tag, "ds_record": k.ds_record}))
                        .collect::<Vec<_>>(),
                }),
            ));
        }
    }

    // Signatures handed out by the zone's servers.
    let horizon = now + settings.signature_warning;
    let mut expiring: Vec<(DateTime<Utc>, Value)> = Vec::new();
    for server in &zone.servers {
        for obs in &server.observations {
            let Some(answer) = authoritative_answer(obs) else {
                continue;
            };
            for rec in answer
                .answers
                .iter()
                .chain(&answer.authority)
                .filter(|r| r.rtype.eq_ignore_ascii_case("RRSIG"))
            {
                let Some((covered, key_tag, expires)) = rrsig(&rec.data) else {
                    continue;
                };
                if expires <= horizon {
                    expiring.push((
                        expires,
                        json!({
                            "server": server.name,
                            "name": rec.name,
                            "type_covered": covered,
                            "key_tag": key_tag,
                            "expires": expires.to_rfc3339(),
                        }),
                    ));
                }
            }
        }
    }
    expiring.sort_by_key(|a| a.0);
    if let Some((soonest, first)) = expiring.first() {
        let hours = (*soonest - now).num_hours();
        let when = if hours < 0 {
            format!("expired {} hour(s) ago", -hours)
        } else {
            format!("expires in {hours} hour(s)")
        };
        let message = format!(
            "A DNSSEC signature of {} {} served for {} ({}) {when}: signatures are not being refreshed",
            first["name"].as_str().unwrap_or_default(),
            first["type_covered"].as_str().unwrap_or_default(),
            hz.name,
            hz.id
        );
        let mut evidence = serde_json::Map::new();
        put_list(
            &mut evidence,
            "signatures",
            expiring.into_iter().map(|(_, v)| v).collect(),
            settings.evidence_cap,
        );
        out.detections.push(detection(
            FindingCode::DnsDnssecSignatureExpiring,
            zone_resource(hz),
            Region::global(),
            &hz.id,
            message,
            Value::Object(evidence),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use crate::families::dns::model::{DnssecStatus, KeySigningKey, ResponseCode};

    const DS: &str = "4242 13 2 ABCDEF0123456789";

    fn ksk(status: &str) -> KeySigningKey {
        KeySigningKey {
            name: "ksk1".into(),
            status: status.into(),
            status_message: None,
            kms_arn: Some("arn:aws:kms:us-east-1:111122223333:key/k".into()),
            key_tag: Some(4242),
            ds_record: Some(DS.into()),
        }
    }

    /// A signing zone, its parent publishing the matching DS, and servers
    /// whose signatures expire in 10 days.
    fn signing_zone() -> ZoneFacts {
        let mut z = zone_facts("Z1", "example.com.", healthy_records());
        z.inventory.dnssec = Some(DnssecStatus {
            serve_signature: "SIGNING".into(),
            status_message: None,
            key_signing_keys: vec![ksk("ACTIVE")],
        });
        if let Some(d) = z.delegation.as_mut() {
            d.ds_records = vec![DS.to_lowercase()];
        }
        set_signature_expiry(&mut z, "20261203120000");
        z
    }

    fn set_signature_expiry(z: &mut ZoneFacts, expiration: &str) {
        for server in &mut z.servers {
            for o in &mut server.observations {
                if let Ok(a) = o.outcome.as_mut() {
                    a.answers.retain(|r| r.rtype != "RRSIG");
                    a.answers.push(rr(
                        &o.question.name,
                        "RRSIG",
                        &format!(
                            "{} 13 2 300 {expiration} 20261101000000 4242 example.com. c2ln",
                            o.question.rtype
                        ),
                    ));
                }
            }
        }
    }

    fn run(z: &ZoneFacts) -> DnsOutcome {
        let mut out = DnsOutcome::default();
        evaluate(z, now(), &DnsRuleSettings::default(), &mut out);
        out
    }

    fn codes(out: &DnsOutcome) -> Vec<FindingCode> {
        out.detections.iter().map(|d| d.code).collect()
    }

    #[test]
    fn a_healthy_signing_zone_is_quiet_and_covered() {
        let out = run(&signing_zone());
        assert!(out.detections.is_empty(), "{:#?}", out.detections);
        assert!(out.is_covered(Check::DnsDnssec, "Z1"));
        assert!(out.is_covered(Check::DnsDnssecChain, "Z1"));
    }

    #[test]
    fn action_needed_statuses() {
        // (serve signature, KSK status, reported)
        let cases = [
            ("SIGNING", "ACTIVE", false),
            ("SIGNING", "INACTIVE", false),
            ("ACTION_NEEDED", "ACTIVE", true),
            ("INTERNAL_FAILURE", "ACTIVE", true),
            ("SIGNING", "ACTION_NEEDED", true),
            ("SIGNING", "INTERNAL_FAILURE", true),
        ];
        for (serve, key, reported) in cases {
            let mut z = signing_zone();
            z.inventory.dnssec = Some(DnssecStatus {
                serve_signature: serve.into(),
                status_message: Some("KMS key is disabled".into()),
                key_signing_keys: vec![KeySigningKey {
                    status_message: Some("The KMS key is disabled".into()),
                    ..ksk(key)
                }],
            });
            let out = run(&z);
            let got = codes(&out).contains(&FindingCode::DnsDnssecActionNeeded);
            assert_eq!(got, reported, "{serve}/{key}");
            if reported {
                let d = &out.detections[0];
                assert!(d.message.contains("KMS key is disabled"), "{}", d.message);
                assert_eq!(d.evidence["serve_signature"], serve);
            }
        }
    }

    #[test]
    fn parent_ds_must_match_an_active_key() {
        let mut z = signing_zone();
        if let Some(d) = z.delegation.as_mut() {
            d.ds_records = vec!["1111 13 2 FFFF".into()];
        }
        let out = run(&z);
        assert_eq!(codes(&out), vec![FindingCode::DnsDnssecDsMismatch]);
        assert_eq!(
            out.detections[0].severity,
            crate::finding::Severity::Critical
        );
        assert_eq!(out.detections[0].evidence["parent_ds"][0], "1111 13 2 FFFF");
        // The matching key exists but is not active.
        let mut z = signing_zone();
        z.inventory.dnssec = Some(DnssecStatus {
            serve_signature: "NOT_SIGNING".into(),
            status_message: None,
            key_signing_keys: vec![ksk("INACTIVE")],
        });
        assert_eq!(codes(&run(&z)), vec![FindingCode::DnsDnssecDsMismatch]);
        // No DS at the parent: nothing to mismatch.
        if let Some(d) = z.delegation.as_mut() {
            d.ds_records.clear();
        }
        assert!(run(&z).detections.is_empty());
    }

    #[test]
    fn unknown_delegation_does_not_cover_the_chain() {
        let mut z = signing_zone();
        if let Some(d) = z.delegation.as_mut() {
            d.outcome = DelegationOutcome::Unknown {
                reason: "timeouts".into(),
            };
            d.ds_records = vec!["1111 13 2 FFFF".into()];
        }
        let out = run(&z);
        assert!(out.detections.is_empty());
        assert!(out.is_covered(Check::DnsDnssec, "Z1"));
        assert!(!out.is_covered(Check::DnsDnssecChain, "Z1"));
        // GetDNSSEC unreadable: nothing covered at all.
        let mut z = signing_zone();
        z.dnssec_read = false;
        assert_eq!(run(&z), DnsOutcome::default());
    }

    #[test]
    fn signatures_expiring_within_three_days() {
        // (expiration, reported)
        let cases = [
            ("20261203120000", false),
            ("20261126130000", false),
            ("20261126120000", true),
            ("20261124000000", true),
            ("20261120000000", true),
            // Seconds since the epoch (2026-11-24T00:00:00Z).
            ("1795478400", true),
        ];
        for (expiration, reported) in cases {
            let mut z = signing_zone();
            set_signature_expiry(&mut z, expiration);
            let out = run(&z);
            assert_eq!(
                codes(&out).contains(&FindingCode::DnsDnssecSignatureExpiring),
                reported,
                "{expiration}"
            );
            if reported {
                let d = &out.detections[0];
                assert!(d.evidence["signatures"][0]["expires"].is_string());
                // Every signature of both servers (7 names and types each).
                assert_eq!(d.evidence["signatures"].as_array().map(Vec::len), Some(14));
            }
        }
    }

    #[test]
    fn a_signing_zone_whose_servers_all_failed_does_not_cover_the_chain() {
        let mut z = signing_zone();
        for s in &mut z.servers {
            for o in &mut s.observations {
                if let Ok(a) = o.outcome.as_mut() {
                    a.rcode = ResponseCode::Refused;
                }
            }
        }
        assert!(!run(&z).is_covered(Check::DnsDnssecChain, "Z1"));
    }
}
