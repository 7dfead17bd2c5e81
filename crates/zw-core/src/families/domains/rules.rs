//! Domain registration rules. Pure: the registrations, their contacts'
//! verification and the account's public zones' delegation sets come in;
//! detections go out. Scope of every finding: the domain's name.

use super::config::DomainsConfig;
use super::model::{Domain, Reachability};
use crate::catalogue::FindingCode;
use crate::finding::{Detection, Resource, ResourceKind};
use crate::model::Region;
use crate::severity::Severity;
use chrono::{DateTime, Utc};
use serde_json::json;
use std::collections::BTreeSet;

/// TLDs whose registry policy forbids privacy protection (the usTLD's).
const NO_PRIVACY_TLDS: &[&str] = &["us"];

/// The domain's name as findings show it: without the trailing dot.
pub fn bare(name: &str) -> &str {
    name.trim_end_matches('.')
}

pub fn resource(domain: &Domain) -> Resource {
    Resource {
        kind: ResourceKind::Route53Domain,
        id: bare(&domain.name).to_owned(),
        name: bare(&domain.name).to_owned(),
    }
}

/// The scope of a domain's findings.
pub fn scope(domain: &Domain) -> String {
    bare(&domain.name).to_owned()
}

fn detection(
    domain: &Domain,
    code: FindingCode,
    severity: Severity,
    message: String,
    evidence: serde_json::Value,
) -> Detection {
    Detection {
        code,
        severity,
        resource: resource(domain),
        region: Region::global(),
        scope: scope(domain),
        message,
        evidence,
    }
}

/// Whole days from `now` to `end` (negative once it passed), rounded down.
fn days_left(end: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (end - now).num_days()
}

/// The registration itself: expiry, automatic renewal, transfer lock,
/// privacy.
pub fn registration(domain: &Domain, cfg: &DomainsConfig, now: DateTime<Utc>) -> Vec<Detection> {
    let mut out = Vec::new();
    let name = bare(&domain.name);
    if let Some(expires) = domain.expires {
        let left = days_left(expires, now);
        let auto = domain.auto_renew == Some(true);
        // Route 53 renews an auto-renewing domain before the high threshold
        // (30 days by default); until then its end date is no news.
        let window = if auto {
            cfg.expiry.high
        } else {
            cfg.expiry.medium
        };
        if left <= i64::from(window) {
            let severity = if left <= i64::from(cfg.expiry.critical) {
                Severity::Critical
            } else if left <= i64::from(cfg.expiry.high) {
                Severity::High
            } else {
                Severity::Medium
            };
            let message = if left < 0 {
                format!(
                    "The registration of {name} ended {} days ago ({expires}).",
                    -left
                )
            } else if auto {
                format!(
                    "The registration of {name} ends in {left} days ({expires}) and has not renewed automatically yet."
                )
            } else {
                format!(
                    "The registration of {name} ends in {left} days ({expires}); automatic renewal is off."
                )
            };
            out.push(detection(
                domain,
                FindingCode::DomainExpiring,
                severity,
                message,
                json!({"expires": expires, "days_left": left, "auto_renew": domain.auto_renew}),
            ));
        }
    }
    if domain.auto_renew == Some(false) {
        out.push(detection(
            domain,
            FindingCode::DomainAutoRenewOff,
            FindingCode::DomainAutoRenewOff.default_severity(),
            format!("Automatic renewal is off for {name}."),
            json!({
                "expires": domain.expires,
                "days_left": domain.expires.map(|e| days_left(e, now)),
            }),
        ));
    }
    if domain.locked() == Some(false) && !cfg.unlockable_tlds.contains(domain.tld()) {
        out.push(detection(
            domain,
            FindingCode::DomainTransferLockOff,
            FindingCode::DomainTransferLockOff.default_severity(),
            format!("{name} is not locked against transfer (no clientTransferProhibited)."),
            json!({"statuses": domain.statuses, "tld": domain.tld()}),
        ));
    }
    let exposed = domain.privacy.exposed();
    if !exposed.is_empty() && !NO_PRIVACY_TLDS.contains(&domain.tld()) {
        out.push(detection(
            domain,
            FindingCode::DomainPrivacyOff,
            FindingCode::DomainPrivacyOff.default_severity(),
            format!(
                "WHOIS shows the {} contact details of {name}.",
                exposed.join(", ")
            ),
            json!({"contacts": exposed}),
        ));
    }
    out
}

/// The registrant contact's verification.
pub fn contact(domain: &Domain, reachability: &Reachability) -> Vec<Detection> {
    let name = bare(&domain.name);
    let (severity, message) = match reachability {
        Reachability::Pending => (
            Severity::High,
            format!(
                "The registrant contact of {name} is not verified yet: unverified after 15 days, the domain is suspended."
            ),
        ),
        Reachability::Expired => (
            Severity::Critical,
            format!(
                "The registrant contact of {name} was not verified within 15 days: the registry suspends the domain."
            ),
        ),
        Reachability::Done | Reachability::Other(_) => return Vec::new(),
    };
    vec![detection(
        domain,
        FindingCode::DomainContactUnverified,
        severity,
        message,
        json!({"status": reachability.as_str()}),
    )]
}

/// One public hosted zone of the domain's name, with its delegation set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneDelegation {
    pub zone_id: String,
    /// Normalised names.
    pub name_servers: Vec<String>,
}

fn name_set(names: &[String]) -> BTreeSet<String> {
    names
        .iter()
        .map(|n| n.trim().trim_end_matches('.').to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect()
}

/// The registrar's name servers against the account's public zones of the
/// domain's name: a finding when they match none of them. No zone of that
/// name, or a registration that lists no name servers: nothing to compare.
pub fn delegation(domain: &Domain, zones: &[ZoneDelegation]) -> Vec<Detection> {
    let registrar = name_set(&domain.name_servers);
    if zones.is_empty() || registrar.is_empty() {
        return Vec::new();
    }
    if zones.iter().any(|z| name_set(&z.name_servers) == registrar) {
        return Vec::new();
    }
    let name = bare(&domain.name);
    let ids: Vec<&str> = zones.iter().map(|z| z.zone_id.as_str()).collect();
    vec![detection(
        domain,
        FindingCode::DomainNameserversMismatch,
        FindingCode::DomainNameserversMismatch.default_severity(),
        format!(
            "The registrar delegates {name} to {}, not to the name servers of its hosted zone {}.",
            registrar.iter().cloned().collect::<Vec<_>>().join(", "),
            ids.join(", ")
        ),
        json!({
            "registrar_name_servers": registrar,
            "zones": zones
                .iter()
                .map(|z| json!({"zone_id": z.zone_id, "name_servers": name_set(&z.name_servers)}))
                .collect::<Vec<_>>(),
        }),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::families::domains::model::ContactPrivacy;
    use chrono::Duration;

    use crate::families::test_now as now;

    /// A healthy registration: renews itself, locked, private, a year left.
    fn healthy() -> Domain {
        Domain {
            name: "example.com.".into(),
            expires: Some(now() + Duration::days(365)),
            auto_renew: Some(true),
            transfer_lock: Some(true),
            statuses: vec!["clientTransferProhibited".into()],
            name_servers: vec!["ns-1.awsdns-01.org.".into(), "ns-2.awsdns-02.net.".into()],
            privacy: ContactPrivacy {
                registrant: Some(true),
                admin: Some(true),
                tech: Some(true),
            },
        }
    }

    fn codes(d: &[Detection]) -> Vec<(&'static str, Severity)> {
        d.iter().map(|d| (d.code.id(), d.severity)).collect()
    }

    #[test]
    fn a_healthy_registration_has_no_finding() {
        let cfg = DomainsConfig::default();
        assert!(registration(&healthy(), &cfg, now()).is_empty());
        assert!(contact(&healthy(), &Reachability::Done).is_empty());
        let zone = ZoneDelegation {
            zone_id: "Z1".into(),
            // Another case, no trailing dot, another order: the same set.
            name_servers: vec!["NS-2.awsdns-02.net".into(), "ns-1.awsdns-01.org.".into()],
        };
        assert!(delegation(&healthy(), &[zone]).is_empty());
    }

    /// Days left -> what `domain.expiring` says, auto-renew on and off.
    #[test]
    fn expiry_is_graded_and_waits_for_auto_renewal() {
        let cfg = DomainsConfig::default();
        let table: &[(i64, bool, Option<Severity>)] = &[
            (365, false, None),
            (61, false, None),
            (60, false, Some(Severity::Medium)),
            (31, false, Some(Severity::Medium)),
            (30, false, Some(Severity::High)),
            (15, false, Some(Severity::High)),
            (14, false, Some(Severity::Critical)),
            (-3, false, Some(Severity::Critical)),
            // Auto-renewing: quiet until the high threshold.
            (60, true, None),
            (31, true, None),
            (30, true, Some(Severity::High)),
            (10, true, Some(Severity::Critical)),
        ];
        for &(days, auto, want) in table {
            let d = Domain {
                // Half a day more: whole days left are `days`.
                expires: Some(now() + Duration::days(days) + Duration::hours(12)),
                auto_renew: Some(auto),
                ..healthy()
            };
            let got: Vec<Severity> = registration(&d, &cfg, now())
                .into_iter()
                .filter(|x| x.code == FindingCode::DomainExpiring)
                .map(|x| x.severity)
                .collect();
            assert_eq!(
                got,
                want.into_iter().collect::<Vec<_>>(),
                "{days} days, auto {auto}"
            );
        }
    }

    #[test]
    fn the_thresholds_are_settings() {
        let mut cfg = DomainsConfig::default();
        cfg.expiry.medium = 90;
        let d = Domain {
            expires: Some(now() + Duration::days(80)),
            auto_renew: Some(false),
            ..healthy()
        };
        assert!(
            codes(&registration(&d, &cfg, now())).contains(&("domain.expiring", Severity::Medium))
        );
        assert!(
            !codes(&registration(&d, &DomainsConfig::default(), now()))
                .iter()
                .any(|(c, _)| *c == "domain.expiring")
        );
    }

    #[test]
    fn auto_renew_off_is_flagged_and_resolves_when_on() {
        let cfg = DomainsConfig::default();
        let off = Domain {
            auto_renew: Some(false),
            ..healthy()
        };
        assert_eq!(
            codes(&registration(&off, &cfg, now())),
            [("domain.auto-renew-off", Severity::Medium)]
        );
        // Unknown is not off.
        let unknown = Domain {
            auto_renew: None,
            ..healthy()
        };
        assert!(registration(&unknown, &cfg, now()).is_empty());
    }

    #[test]
    fn an_unlocked_domain_is_flagged_unless_its_tld_has_no_lock() {
        let cfg = DomainsConfig::default();
        let unlocked = Domain {
            transfer_lock: Some(false),
            statuses: vec!["ok".into()],
            ..healthy()
        };
        let d = registration(&unlocked, &cfg, now());
        assert_eq!(codes(&d), [("domain.transfer-lock-off", Severity::Medium)]);
        assert_eq!(d[0].evidence["tld"], "com");
        // .de offers no lock through Route 53: never flagged there.
        let de = Domain {
            name: "example.de.".into(),
            ..unlocked.clone()
        };
        assert!(registration(&de, &cfg, now()).is_empty());
        // The setting replaces the list.
        let mut only_com = cfg.clone();
        only_com.unlockable_tlds = ["com".to_owned()].into();
        assert!(registration(&unlocked, &only_com, now()).is_empty());
        assert_eq!(registration(&de, &only_com, now()).len(), 1);
        // Locked through its status alone (no TransferLock said).
        let by_status = Domain {
            transfer_lock: None,
            ..healthy()
        };
        assert!(registration(&by_status, &cfg, now()).is_empty());
    }

    #[test]
    fn public_contacts_are_an_info_finding_except_for_us() {
        let cfg = DomainsConfig::default();
        let public = Domain {
            privacy: ContactPrivacy {
                registrant: Some(false),
                admin: Some(true),
                tech: Some(false),
            },
            ..healthy()
        };
        let d = registration(&public, &cfg, now());
        assert_eq!(codes(&d), [("domain.privacy-off", Severity::Info)]);
        assert_eq!(d[0].evidence["contacts"], json!(["registrant", "tech"]));
        let us = Domain {
            name: "example.us.".into(),
            ..public
        };
        assert!(registration(&us, &cfg, now()).is_empty());
    }

    #[test]
    fn an_unverified_contact_is_high_then_critical() {
        let d = healthy();
        assert_eq!(
            codes(&contact(&d, &Reachability::Pending)),
            [("domain.contact-unverified", Severity::High)]
        );
        assert_eq!(
            codes(&contact(&d, &Reachability::Expired)),
            [("domain.contact-unverified", Severity::Critical)]
        );
        assert!(contact(&d, &Reachability::Other("NEW".into())).is_empty());
    }

    #[test]
    fn name_servers_matching_no_zone_are_flagged() {
        let d = Domain {
            name_servers: vec!["ns1.other-dns.example.".into()],
            ..healthy()
        };
        let zones = [
            ZoneDelegation {
                zone_id: "Z1".into(),
                name_servers: vec!["ns-1.awsdns-01.org.".into(), "ns-2.awsdns-02.net.".into()],
            },
            ZoneDelegation {
                zone_id: "Z2".into(),
                name_servers: vec!["ns-3.awsdns-03.com.".into()],
            },
        ];
        let f = delegation(&d, &zones);
        assert_eq!(
            codes(&f),
            [("domain.nameservers-mismatch", Severity::Medium)]
        );
        assert_eq!(
            f[0].evidence["registrar_name_servers"],
            json!(["ns1.other-dns.example"])
        );
        assert_eq!(f[0].evidence["zones"][1]["zone_id"], "Z2");
        // Matching any one of the zones of that name is right.
        assert!(delegation(&healthy(), &zones).is_empty());
        // A subset is not the delegation set.
        let partial = Domain {
            name_servers: vec!["ns-1.awsdns-01.org.".into()],
            ..healthy()
        };
        assert_eq!(delegation(&partial, &zones).len(), 1);
        // No zone of that name in the account, or no name servers: nothing said.
        assert!(delegation(&d, &[]).is_empty());
        let none = Domain {
            name_servers: Vec::new(),
            ..healthy()
        };
        assert!(delegation(&none, &zones).is_empty());
    }
}
