//! Rules on what endpoints actually serve, and the coverage map between the
//! account's certificates and its names. Pure: handshake outcomes, ACM
//! certificates and zone record sets in, detections out.

use crate::catalogue::FindingCode;
use crate::families::certificates::config::RuleConfig;
use crate::families::certificates::rules::{days_left, graded, within_days};
use crate::families::endpoints::model::{
    ServedCertificate, TlsOutcome, TlsTarget, normalize_serial,
};
use crate::finding::{Detection, Resource, ResourceKind, Severity};
use crate::model::{
    Certificate, CertificateKind, CertificateStatus, HostedZone, RecordSet, Region,
};
use crate::org::AccountRef;
use chrono::{DateTime, Utc};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

/// Scope of the coverage map's findings (every zone and region at once).
pub const COVERAGE_SCOPE: &str = "global";

fn endpoint_resource(t: &TlsTarget) -> Resource {
    Resource {
        kind: ResourceKind::TlsEndpoint,
        id: t.id(),
        name: format!("{}:{}", t.host, t.address.port()),
    }
}

fn endpoint_detection(
    t: &TlsTarget,
    code: FindingCode,
    severity: Severity,
    message: String,
    mut evidence: serde_json::Value,
) -> Detection {
    if let Some(map) = evidence.as_object_mut() {
        map.insert("host".into(), json!(t.host));
        map.insert("address".into(), json!(t.address.ip().to_string()));
        map.insert("port".into(), json!(t.address.port()));
        map.insert("record".into(), json!(t.origin));
    }
    Detection {
        code,
        severity,
        resource: endpoint_resource(t),
        region: Region::global(),
        scope: t.origin.scope().to_owned(),
        message,
        evidence,
    }
}

/// `tls.endpoint-not-probed`: the targets whose address the probe may not
/// connect to (not on the internet), one info finding per hosted zone naming
/// each record and address (the first 50, and how many in all): a public
/// zone full of private addresses is one finding, not thousands.
/// `zone_names`: zone id -> zone name.
pub fn not_probed(
    skipped: &[(TlsTarget, String)],
    zone_names: &BTreeMap<String, String>,
) -> Vec<Detection> {
    let mut by_zone: BTreeMap<&str, Vec<&(TlsTarget, String)>> = BTreeMap::new();
    for s in skipped {
        by_zone.entry(s.0.origin.scope()).or_default().push(s);
    }
    by_zone
        .into_iter()
        .map(|(zone_id, targets)| {
            let (first, why) = targets[0];
            let zone_name = zone_names.get(zone_id).cloned().unwrap_or_else(|| zone_id.to_owned());
            let listed: Vec<serde_json::Value> = targets
                .iter()
                .map(|(t, reason)| {
                    json!({
                        "host": t.host,
                        "address": t.address.ip().to_string(),
                        "port": t.address.port(),
                        "record": t.origin,
                        "reason": reason,
                    })
                })
                .collect();
            let mut evidence = serde_json::Map::new();
            evidence.insert("count".into(), json!(listed.len()));
            crate::families::dns::rules::put_list(&mut evidence, "targets", listed, 50);
            Detection {
                code: FindingCode::TlsEndpointNotProbed,
                severity: FindingCode::TlsEndpointNotProbed.default_severity(),
                resource: Resource {
                    kind: ResourceKind::Route53HostedZone,
                    id: zone_id.to_owned(),
                    name: zone_name.clone(),
                },
                region: Region::global(),
                scope: zone_id.to_owned(),
                message: format!(
                    "{} address(es) that records of {zone_name} lead to were not probed (first: {} at {}: {why})",
                    targets.len(),
                    first.host,
                    first.address.ip()
                ),
                evidence: serde_json::Value::Object(evidence),
            }
        })
        .collect()
}

/// `tls.expiring`, `tls.expired`, `tls.hostname-mismatch`,
/// `tls.untrusted-chain`, `tls.handshake-failed`, `tls.not-acm-certificate`.
/// A handshake the probe itself could not finish (`ProbeLimit`) is no
/// finding: the family records it as a scan error.
pub fn endpoints(
    probed: &[(TlsTarget, TlsOutcome)],
    certificates: &[Certificate],
    cfg: &RuleConfig,
    now: DateTime<Utc>,
) -> Vec<Detection> {
    // Names (and ports) some address of which serves TLS: an address of the
    // same name that does not is a member that cannot take over. One the
    // probe could not read to the end did present a certificate.
    let serving: BTreeSet<(&str, u16)> = probed
        .iter()
        .filter(|(_, o)| matches!(o, TlsOutcome::Served(_) | TlsOutcome::ProbeLimit { .. }))
        .map(|(t, _)| (t.host.as_str(), t.address.port()))
        .collect();
    let by_arn: BTreeMap<&str, &Certificate> =
        certificates.iter().map(|c| (c.arn.as_str(), c)).collect();
    let mut out = Vec::new();
    for (t, outcome) in probed {
        match outcome {
            TlsOutcome::Served(s) => served(t, s, &by_arn, cfg, now, &mut out),
            TlsOutcome::Failed { stage, error } => out.push(endpoint_detection(
                t,
                FindingCode::TlsHandshakeFailed,
                FindingCode::TlsHandshakeFailed.default_severity(),
                format!(
                    "TLS handshake with {} at {} failed ({stage}): {error}",
                    t.host, t.address
                ),
                json!({"stage": stage, "error": error}),
            )),
            TlsOutcome::KeyTooSmall(k) => out.push(endpoint_detection(
                t,
                FindingCode::TlsHandshakeFailed,
                FindingCode::TlsHandshakeFailed.default_severity(),
                format!(
                    "{} at {} serves a certificate with a {}-bit {} key: too small, TLS clients require at least {} bits and refuse the handshake (subject {}, serial {})",
                    t.host, t.address, k.bits, k.algorithm, k.minimum_bits, k.subject, k.serial
                ),
                json!({
                    "stage": "key",
                    "error": k.error,
                    "key_type": format!("{} {}", k.algorithm, k.bits),
                    "key_bits": k.bits,
                    "minimum_bits": k.minimum_bits,
                    "subject": k.subject,
                    "serial": k.serial,
                }),
            )),
            // Our limit, not the endpoint's defect: a scan error (the family).
            TlsOutcome::ProbeLimit { .. } => {}
            TlsOutcome::NoService { reason } => {
                let sibling_serves = serving.contains(&(t.host.as_str(), t.address.port()));
                let member = t.origin.is_group_member() && sibling_serves;
                let expected = t
                    .attachment
                    .as_ref()
                    .is_some_and(|a| !a.certificate_arns.is_empty());
                if member || expected {
                    let why = if member {
                        "another address of the same name serves HTTPS, so users sent here by Route 53 fail"
                    } else {
                        "it fronts a resource with an ACM certificate attached"
                    };
                    out.push(endpoint_detection(
                        t,
                        FindingCode::TlsHandshakeFailed,
                        FindingCode::TlsHandshakeFailed.default_severity(),
                        format!(
                            "{} at {} does not accept HTTPS connections ({reason}); {why}",
                            t.host, t.address
                        ),
                        json!({"stage": "connect", "error": reason}),
                    ));
                }
            }
        }
    }
    out
}

fn served(
    t: &TlsTarget,
    s: &ServedCertificate,
    by_arn: &BTreeMap<&str, &Certificate>,
    cfg: &RuleConfig,
    now: DateTime<Utc>,
    out: &mut Vec<Detection>,
) {
    let cert_evidence = json!({
        "serial": s.serial,
        "issuer": s.issuer,
        "subject": s.subject,
        "not_after": s.not_after,
        "days_left": days_left(s.not_after, now),
        "key_type": s.key_type,
        "protocol": s.protocol,
    });
    if s.not_after <= now {
        out.push(endpoint_detection(
            t,
            FindingCode::TlsExpired,
            FindingCode::TlsExpired.default_severity(),
            format!(
                "{} at {} serves a certificate that expired on {} (serial {})",
                t.host,
                t.address,
                s.not_after.format("%Y-%m-%d"),
                s.serial
            ),
            cert_evidence.clone(),
        ));
    } else if within_days(s.not_after, now, cfg.expiry.medium) {
        out.push(endpoint_detection(
            t,
            FindingCode::TlsExpiring,
            graded(s.not_after, now, cfg),
            format!(
                "{} at {} serves a certificate that expires in {} days ({}, serial {})",
                t.host,
                t.address,
                days_left(s.not_after, now),
                s.not_after.format("%Y-%m-%d"),
                s.serial
            ),
            cert_evidence.clone(),
        ));
    }
    if !s.hostname_matches {
        let cn = s.common_name.as_deref().unwrap_or("none");
        // Clients match names against the subjectAltName only: without one
        // (or with no DNS name in it) the subject's CN covers nothing.
        let message = if !s.has_san {
            format!(
                "{} at {} serves a certificate with no subjectAltName (subject CN: {cn}): clients ignore the CN, so it covers no name",
                t.host, t.address
            )
        } else if s.names.is_empty() {
            format!(
                "{} at {} serves a certificate whose subjectAltName has no DNS name or IP address (subject CN: {cn}), so it covers no name",
                t.host, t.address
            )
        } else {
            format!(
                "{} at {} serves a certificate for {} that does not cover the name",
                t.host,
                t.address,
                s.names.join(", ")
            )
        };
        out.push(endpoint_detection(
            t,
            FindingCode::TlsHostnameMismatch,
            FindingCode::TlsHostnameMismatch.default_severity(),
            message,
            json!({
                "serial": s.serial,
                "names": s.names,
                "subject_alt_name": s.has_san,
                "common_name": s.common_name,
                "subject": s.subject,
            }),
        ));
    }
    if let Some(error) = &s.chain_error {
        out.push(endpoint_detection(
            t,
            FindingCode::TlsUntrustedChain,
            FindingCode::TlsUntrustedChain.default_severity(),
            format!(
                "{} at {} serves a chain that does not lead to a trusted root ({error}); issuer: {}",
                t.host, t.address, s.issuer
            ),
            json!({"serial": s.serial, "issuer": s.issuer, "error": error}),
        ));
    }
    if let Some(a) = &t.attachment {
        let attached: Vec<(&str, Option<String>)> = a
            .certificate_arns
            .iter()
            .map(|arn| {
                (
                    arn.as_str(),
                    by_arn
                        .get(arn.as_str())
                        .and_then(|c| c.serial.as_deref())
                        .map(normalize_serial),
                )
            })
            .collect();
        // Only when every attached certificate's serial is known (its
        // region is monitored): otherwise the served one may be among them.
        let all_known = !attached.is_empty() && attached.iter().all(|(_, s)| s.is_some());
        let served_serial = normalize_serial(&s.serial);
        if all_known
            && !attached
                .iter()
                .any(|(_, x)| x.as_deref() == Some(&served_serial))
        {
            out.push(endpoint_detection(
                t,
                FindingCode::TlsNotAcmCertificate,
                FindingCode::TlsNotAcmCertificate.default_severity(),
                format!(
                    "{} at {} serves serial {}, which is not the ACM certificate attached to {} {} ({})",
                    t.host,
                    t.address,
                    s.serial,
                    a.kind,
                    a.resource,
                    a.certificate_arns.join(", ")
                ),
                json!({
                    "resource": a.resource,
                    "resource_kind": a.kind,
                    "served_serial": s.serial,
                    "served_not_after": s.not_after,
                    "attached": attached
                        .iter()
                        .map(|(arn, serial)| json!({"arn": arn, "serial": serial}))
                        .collect::<Vec<_>>(),
                }),
            ));
        }
    }
}

/// Whether a certificate name (`*.example.com` or `www.example.com`)
/// covers a host name (both without trailing dots, any case).
pub fn name_covers(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(parent) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == parent),
        None => pattern == host,
    }
}

fn names(c: &Certificate) -> BTreeSet<String> {
    std::iter::once(&c.domain_name)
        .chain(&c.subject_alternative_names)
        .map(|n| n.trim_end_matches('.').to_ascii_lowercase())
        .collect()
}

/// `tls.name-not-covered`: names of the account's zones that serve HTTPS
/// and that no issued ACM certificate covers. `organization`: in
/// organization mode, the names of the issued certificates the other
/// accounts published (a DNS account's names are often served with a
/// workload account's certificate).
pub fn names_not_covered(
    probed: &[(TlsTarget, TlsOutcome)],
    certificates: &[Certificate],
    organization: Option<&[Vec<String>]>,
) -> Vec<Detection> {
    let issued: Vec<BTreeSet<String>> = certificates
        .iter()
        .filter(|c| c.status == CertificateStatus::Issued)
        .map(names)
        .chain(
            organization
                .unwrap_or_default()
                .iter()
                .map(|ns| ns.iter().map(|n| bare_name(n)).collect()),
        )
        .collect();
    let whose = if organization.is_some() {
        "of the organization's scanned accounts"
    } else {
        "of the account"
    };
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (t, outcome) in probed {
        let TlsOutcome::Served(s) = outcome else {
            continue;
        };
        if !matches!(
            t.origin,
            crate::families::endpoints::model::TargetOrigin::Record { .. }
        ) {
            continue;
        }
        if !seen.insert(t.host.clone()) {
            continue;
        }
        if issued
            .iter()
            .any(|ns| ns.iter().any(|n| name_covers(n, &t.host)))
        {
            continue;
        }
        out.push(Detection {
            code: FindingCode::TlsNameNotCovered,
            severity: FindingCode::TlsNameNotCovered.default_severity(),
            resource: Resource {
                kind: ResourceKind::DnsName,
                id: t.host.clone(),
                name: t.host.clone(),
            },
            region: Region::global(),
            scope: COVERAGE_SCOPE.to_owned(),
            message: format!(
                "{} serves HTTPS with a certificate from {} that no ACM certificate {whose} covers",
                t.host, s.issuer
            ),
            evidence: json!({"host": t.host, "issuer": s.issuer, "not_after": s.not_after}),
        });
    }
    out
}

fn bare_name(n: &str) -> String {
    n.trim_end_matches('.').to_ascii_lowercase()
}

/// A zone the coverage map looks certificate names up in.
#[derive(Debug, Clone, Copy)]
pub struct MapZone<'a> {
    pub zone: &'a HostedZone,
    /// None when it could not be read: names in it are not judged.
    pub records: Option<&'a [RecordSet]>,
    /// Another account's zone (organization mode): that account, and when
    /// its copy was listed (a copy older than the certificate is not
    /// judged by).
    pub published: Option<(&'a AccountRef, DateTime<Utc>)>,
}

/// What [`names_not_in_dns`] found, and the certificates it could not
/// judge (their findings stay as they are).
#[derive(Debug, Default)]
pub struct NotInDns {
    pub detections: Vec<Detection>,
    pub unjudged: BTreeSet<String>,
}

/// `cert.san-not-in-dns`: names of issued ACM certificates that fall in a
/// public zone (of the account, or in organization mode one another account
/// published) where no record set has them. Of several zones with the
/// longest covering name, a name is there when any of them has it.
pub fn names_not_in_dns(certificates: &[Certificate], zones: &[MapZone<'_>]) -> NotInDns {
    // (zone, its bare name, its record names and its delegation points
    // below the apex; None when it could not be read)
    type Read<'z> = (
        &'z MapZone<'z>,
        String,
        Option<(BTreeSet<String>, Vec<String>)>,
    );
    let public: Vec<Read<'_>> = zones
        .iter()
        .filter(|z| !z.zone.private)
        .map(|z| {
            (
                z,
                bare_name(&z.zone.name),
                z.records.map(|sets| {
                    let apex = bare_name(&z.zone.name);
                    (
                        sets.iter().map(|r| bare_name(&r.name)).collect(),
                        sets.iter()
                            .filter(|r| r.record_type == "NS")
                            .map(|r| bare_name(&r.name))
                            .filter(|cut| *cut != apex)
                            .collect(),
                    )
                }),
            )
        })
        .collect();
    let mut out = NotInDns::default();
    for c in certificates {
        if c.status != CertificateStatus::Issued || c.kind == CertificateKind::Imported {
            continue;
        }
        let needed_since = c.created_at.max(c.not_before);
        let mut missing = Vec::new();
        let mut unjudged = false;
        for name in names(c) {
            let base = name.strip_prefix("*.").unwrap_or(&name);
            let covering: Vec<&Read<'_>> = public
                .iter()
                .filter(|(_, zn, _)| base == zn || base.ends_with(&format!(".{zn}")))
                .collect();
            let Some(longest) = covering.iter().map(|(_, zn, _)| zn.len()).max() else {
                continue;
            };
            let mut judged = Vec::new();
            let mut found = false;
            let mut unread = false;
            for (z, _, records) in covering
                .into_iter()
                .filter(|(_, zn, _)| zn.len() == longest)
            {
                let current = z
                    .published
                    .is_none_or(|(_, listed)| Some(listed) >= needed_since);
                let Some((records, cuts)) = records.as_ref().filter(|_| current) else {
                    unread = true;
                    continue;
                };
                // Delegated to other servers: this zone cannot say.
                if cuts
                    .iter()
                    .any(|cut| base == cut || base.ends_with(&format!(".{cut}")))
                {
                    found = true;
                    break;
                }
                let exists = if name.starts_with("*.") {
                    records.iter().any(|r| {
                        !r.starts_with('_') && (r == base || r.ends_with(&format!(".{base}")))
                    })
                } else {
                    let parent = name.split_once('.').map(|(_, p)| p).unwrap_or_default();
                    records.contains(&name) || records.contains(&format!("*.{parent}"))
                };
                if exists {
                    found = true;
                    break;
                }
                let mut entry = json!({"name": name, "zone": z.zone.name, "zone_id": z.zone.id});
                if let Some((account, _)) = z.published {
                    entry["account_id"] = json!(account.id);
                    entry["account_name"] = json!(account.name);
                }
                judged.push(entry);
            }
            if found {
                continue;
            }
            if unread {
                unjudged = true;
            } else if let Some(first) = judged.into_iter().next() {
                missing.push(first);
            }
        }
        if unjudged {
            out.unjudged.insert(c.arn.clone());
            continue;
        }
        if !missing.is_empty() {
            let list: Vec<&str> = missing.iter().filter_map(|m| m["name"].as_str()).collect();
            let whose = if missing.iter().any(|m| m.get("account_id").is_some()) {
                "the zones it falls in"
            } else {
                "the account's zones"
            };
            out.detections.push(Detection {
                code: FindingCode::CertSanNotInDns,
                severity: FindingCode::CertSanNotInDns.default_severity(),
                resource: crate::families::certificates::rules::resource(c),
                region: c.region.clone(),
                scope: COVERAGE_SCOPE.to_owned(),
                message: format!(
                    "certificate {} covers {} that no record set of {whose} has",
                    c.domain_name,
                    list.join(", ")
                ),
                evidence: json!({"names": missing}),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::families::dns::model::RoutingPolicy;
    use crate::families::endpoints::model::{Attachment, TargetOrigin};
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0)
            .single()
            .expect("time")
    }

    fn target(host: &str, ip: &str, routing: RoutingPolicy) -> TlsTarget {
        TlsTarget {
            host: host.into(),
            address: format!("{ip}:443").parse().expect("addr"),
            origin: TargetOrigin::Record {
                zone_id: "Z1".into(),
                name: format!("{host}."),
                record_type: "A".into(),
                set_identifier: (!routing.is_simple()).then(|| "set".to_owned()),
                routing,
                failover: None,
                via: None,
            },
            attachment: None,
        }
    }

    #[test]
    fn addresses_not_probed_are_one_finding_per_zone_with_a_capped_list() {
        let mut skipped: Vec<(TlsTarget, String)> = (0..60)
            .map(|i| {
                (
                    target(
                        &format!("h{i}.example.com"),
                        &format!("10.0.0.{i}"),
                        RoutingPolicy::Simple,
                    ),
                    "a private (RFC 1918) address".to_owned(),
                )
            })
            .collect();
        let mut other = target("x.example.org", "127.0.0.1", RoutingPolicy::Simple);
        if let TargetOrigin::Record { zone_id, .. } = &mut other.origin {
            *zone_id = "Z2".into();
        }
        skipped.push((other, "a loopback address".into()));
        let names = BTreeMap::from([("Z1".to_owned(), "example.com.".to_owned())]);
        let out = not_probed(&skipped, &names);
        assert_eq!(out.len(), 2, "{out:#?}");
        let z1 = &out[0];
        assert_eq!(
            (z1.resource.id.as_str(), z1.resource.name.as_str()),
            ("Z1", "example.com.")
        );
        assert_eq!(z1.code, FindingCode::TlsEndpointNotProbed);
        assert_eq!(z1.severity, Severity::Info);
        assert_eq!(z1.evidence["count"], 60);
        assert_eq!(z1.evidence["targets"].as_array().map(Vec::len), Some(50));
        assert_eq!(z1.evidence["targets_truncated"], 10);
        assert!(
            z1.message.starts_with("60 address(es)") && z1.message.contains("10.0.0.0"),
            "{}",
            z1.message
        );
        // A zone whose name is unknown is named by its id.
        assert_eq!(out[1].resource.name, "Z2");
        assert!(not_probed(&[], &names).is_empty());
    }

    fn cert(days: i64) -> ServedCertificate {
        ServedCertificate {
            serial: "0a1b".into(),
            subject: "CN=www.example.com".into(),
            common_name: Some("www.example.com".into()),
            issuer: "CN=Test CA".into(),
            has_san: true,
            names: vec!["www.example.com".into()],
            not_before: now() - Duration::days(30),
            not_after: now() + Duration::days(days),
            key_type: "ECDSA P-256".into(),
            protocol: "TLSv1.3".into(),
            chain_error: None,
            hostname_matches: true,
        }
    }

    fn codes(d: &[Detection]) -> Vec<(String, &'static str, Severity)> {
        d.iter()
            .map(|d| (d.resource.id.clone(), d.code.id(), d.severity))
            .collect()
    }

    fn acm(arn: &str, serial: &str, names: &[&str], kind: CertificateKind) -> Certificate {
        Certificate {
            arn: arn.into(),
            region: Region::parse("us-east-1").expect("region"),
            domain_name: names[0].into(),
            subject_alternative_names: names.iter().map(|n| (*n).to_owned()).collect(),
            kind,
            status: CertificateStatus::Issued,
            key_algorithm: None,
            not_before: None,
            not_after: None,
            created_at: None,
            imported_at: None,
            failure_reason: None,
            revocation_reason: None,
            in_use_by: vec![],
            renewal_eligibility: None,
            renewal: None,
            domain_validations: vec![],
            serial: Some(serial.into()),
            issuer_ca_arn: None,
        }
    }

    #[test]
    fn expiry_grades_with_the_acm_thresholds_and_expired_is_critical() {
        let cfg = RuleConfig::default();
        let probed = vec![
            (
                target("ok.example.com", "192.0.2.1", RoutingPolicy::Simple),
                TlsOutcome::Served(cert(90)),
            ),
            (
                target("soon.example.com", "192.0.2.2", RoutingPolicy::Simple),
                TlsOutcome::Served(cert(20)),
            ),
            (
                target("sooner.example.com", "192.0.2.3", RoutingPolicy::Simple),
                TlsOutcome::Served(cert(3)),
            ),
            (
                target("gone.example.com", "192.0.2.4", RoutingPolicy::Simple),
                TlsOutcome::Served(cert(-1)),
            ),
        ];
        let d = endpoints(&probed, &[], &cfg, now());
        assert_eq!(
            codes(&d),
            vec![
                (
                    "soon.example.com:443@192.0.2.2".into(),
                    "tls.expiring",
                    Severity::Medium
                ),
                (
                    "sooner.example.com:443@192.0.2.3".into(),
                    "tls.expiring",
                    Severity::Critical
                ),
                (
                    "gone.example.com:443@192.0.2.4".into(),
                    "tls.expired",
                    Severity::Critical
                ),
            ]
        );
        assert_eq!(d[0].evidence["days_left"], 20);
        assert_eq!(d[0].scope, "Z1");
    }

    #[test]
    fn mismatch_untrusted_and_failed_handshakes() {
        let mut wrong = cert(90);
        wrong.hostname_matches = false;
        wrong.names = vec!["other.example.net".into()];
        let mut untrusted = cert(90);
        untrusted.chain_error = Some("invalid peer certificate: UnknownIssuer".into());
        let probed = vec![
            (
                target("a.example.com", "192.0.2.1", RoutingPolicy::Simple),
                TlsOutcome::Served(wrong),
            ),
            (
                target("b.example.com", "192.0.2.2", RoutingPolicy::Simple),
                TlsOutcome::Served(untrusted),
            ),
            (
                target("c.example.com", "192.0.2.3", RoutingPolicy::Simple),
                TlsOutcome::Failed {
                    stage: "handshake".into(),
                    error: "received fatal alert: HandshakeFailure".into(),
                },
            ),
        ];
        let d = endpoints(&probed, &[], &RuleConfig::default(), now());
        let ids: Vec<&str> = d.iter().map(|d| d.code.id()).collect();
        assert_eq!(
            ids,
            vec![
                "tls.hostname-mismatch",
                "tls.untrusted-chain",
                "tls.handshake-failed"
            ]
        );
        assert!(d[0].message.contains("other.example.net"));
        assert_eq!(
            d[2].evidence["error"],
            "received fatal alert: HandshakeFailure"
        );
    }

    #[test]
    fn a_certificate_without_subject_alt_name_says_so_and_shows_its_cn() {
        let mut no_san = cert(90);
        no_san.has_san = false;
        no_san.names = vec![];
        no_san.hostname_matches = false;
        no_san.common_name = Some("legacy.example.com".into());
        no_san.subject = "CN=legacy.example.com".into();
        let mut san_without_names = no_san.clone();
        san_without_names.has_san = true;
        let probed = vec![
            (
                target("legacy.example.com", "192.0.2.1", RoutingPolicy::Simple),
                TlsOutcome::Served(no_san),
            ),
            (
                target("mail.example.com", "192.0.2.2", RoutingPolicy::Simple),
                TlsOutcome::Served(san_without_names),
            ),
        ];
        let d = endpoints(&probed, &[], &RuleConfig::default(), now());
        assert_eq!(
            codes(&d).into_iter().map(|c| c.1).collect::<Vec<_>>(),
            vec!["tls.hostname-mismatch", "tls.hostname-mismatch"]
        );
        assert!(
            d[0].message
                .contains("no subjectAltName (subject CN: legacy.example.com)"),
            "{}",
            d[0].message
        );
        assert!(
            !d[0].message.contains("certificate for "),
            "{}",
            d[0].message
        );
        assert_eq!(d[0].evidence["subject_alt_name"], false);
        assert_eq!(d[0].evidence["common_name"], "legacy.example.com");
        assert!(
            d[1].message.contains(
                "subjectAltName has no DNS name or IP address (subject CN: legacy.example.com)"
            ),
            "{}",
            d[1].message
        );
        assert_eq!(d[1].evidence["subject_alt_name"], true);
    }

    #[test]
    fn a_key_too_small_says_so_with_its_size_and_a_probe_limit_is_no_finding() {
        let probed = vec![
            (
                target("weak.example.com", "192.0.2.1", RoutingPolicy::Simple),
                TlsOutcome::KeyTooSmall(crate::families::endpoints::model::WeakKey {
                    algorithm: "RSA".into(),
                    bits: 1024,
                    minimum_bits: 2048,
                    subject: "CN=weak.example.com".into(),
                    serial: "1f".into(),
                    error: "invalid peer certificate: BadSignature".into(),
                }),
            ),
            (
                target("many.example.com", "192.0.2.2", RoutingPolicy::Simple),
                TlsOutcome::ProbeLimit {
                    limit: "a handshake message over 64 KiB".into(),
                    error: "message buffer full".into(),
                },
            ),
        ];
        let d = endpoints(&probed, &[], &RuleConfig::default(), now());
        assert_eq!(
            codes(&d),
            vec![(
                "weak.example.com:443@192.0.2.1".into(),
                "tls.handshake-failed",
                Severity::High
            )]
        );
        assert!(
            d[0].message
                .contains("a 1024-bit RSA key: too small, TLS clients require at least 2048 bits"),
            "{}",
            d[0].message
        );
        assert!(!d[0].message.contains("BadSignature"), "{}", d[0].message);
        assert_eq!(d[0].evidence["key_bits"], 1024);
        assert_eq!(d[0].evidence["key_type"], "RSA 1024");
        assert_eq!(d[0].evidence["stage"], "key");
    }

    #[test]
    fn no_service_is_a_finding_only_for_a_member_whose_group_serves_or_an_attached_resource() {
        let refused = || TlsOutcome::NoService {
            reason: "connection refused".into(),
        };
        let mut attached = target("lb.example.com", "192.0.2.9", RoutingPolicy::Simple);
        attached.attachment = Some(Attachment {
            kind: "elb".into(),
            resource: "arn:lb".into(),
            dns_name: "lb-1.elb.amazonaws.com.".into(),
            certificate_arns: vec!["arn:cert".into()],
            iam_certificates: Vec::new(),
        });
        let probed = vec![
            (
                target("mail.example.com", "192.0.2.1", RoutingPolicy::Simple),
                refused(),
            ),
            (
                target("app.example.com", "192.0.2.2", RoutingPolicy::Failover),
                TlsOutcome::Served(cert(90)),
            ),
            (
                target("app.example.com", "192.0.2.3", RoutingPolicy::Failover),
                refused(),
            ),
            (
                target("solo.example.com", "192.0.2.4", RoutingPolicy::Weighted),
                refused(),
            ),
            (attached, refused()),
        ];
        let d = endpoints(&probed, &[], &RuleConfig::default(), now());
        assert_eq!(
            codes(&d).into_iter().map(|c| c.0).collect::<Vec<_>>(),
            vec![
                "app.example.com:443@192.0.2.3".to_owned(),
                "lb.example.com:443@192.0.2.9".to_owned()
            ]
        );
        assert!(d.iter().all(|d| d.code == FindingCode::TlsHandshakeFailed));
    }

    #[test]
    fn a_served_serial_that_is_not_the_attached_acm_certificate() {
        let mut t = target("lb.example.com", "192.0.2.9", RoutingPolicy::Simple);
        t.attachment = Some(Attachment {
            kind: "elb".into(),
            resource: "arn:lb".into(),
            dns_name: "lb-1.elb.amazonaws.com.".into(),
            certificate_arns: vec!["arn:new".into()],
            iam_certificates: Vec::new(),
        });
        let matching = acm(
            "arn:new",
            "0A:1B",
            &["lb.example.com"],
            CertificateKind::AmazonIssued,
        );
        let other = acm(
            "arn:new",
            "ff:00",
            &["lb.example.com"],
            CertificateKind::AmazonIssued,
        );
        let probed = vec![(t.clone(), TlsOutcome::Served(cert(90)))];
        assert!(endpoints(&probed, &[matching], &RuleConfig::default(), now()).is_empty());
        let d = endpoints(&probed, &[other], &RuleConfig::default(), now());
        assert_eq!(codes(&d)[0].1, "tls.not-acm-certificate");
        assert_eq!(d[0].evidence["attached"][0]["serial"], "ff00");
        // An attached certificate in a region that is not monitored: no claim.
        assert!(endpoints(&probed, &[], &RuleConfig::default(), now()).is_empty());
    }

    #[test]
    fn wildcards_cover_one_label() {
        assert!(name_covers("*.example.com", "www.Example.com."));
        assert!(!name_covers("*.example.com", "a.b.example.com"));
        assert!(!name_covers("*.example.com", "example.com"));
        assert!(name_covers("example.com.", "EXAMPLE.com"));
    }

    #[test]
    fn coverage_map_both_ways() {
        let probed = vec![
            (
                target("www.example.com", "192.0.2.1", RoutingPolicy::Simple),
                TlsOutcome::Served(cert(90)),
            ),
            (
                target("legacy.example.com", "192.0.2.2", RoutingPolicy::Simple),
                TlsOutcome::Served(cert(90)),
            ),
            (
                target("down.example.com", "192.0.2.3", RoutingPolicy::Simple),
                TlsOutcome::NoService {
                    reason: "refused".into(),
                },
            ),
        ];
        let certs = vec![
            acm(
                "arn:a",
                "01",
                &["*.example.com", "example.com"],
                CertificateKind::AmazonIssued,
            ),
            acm(
                "arn:b",
                "02",
                &["retired.example.com", "www.example.com"],
                CertificateKind::AmazonIssued,
            ),
            acm(
                "arn:c",
                "03",
                &["elsewhere.example.org"],
                CertificateKind::AmazonIssued,
            ),
            acm(
                "arn:d",
                "04",
                &["imported.example.com"],
                CertificateKind::Imported,
            ),
        ];
        // Only arn:a covers everything; drop it to see names not covered.
        assert!(names_not_covered(&probed, &certs, None).is_empty());
        let d = names_not_covered(&probed, &certs[1..], None);
        assert_eq!(
            codes(&d).into_iter().map(|c| c.0).collect::<Vec<_>>(),
            vec!["legacy.example.com".to_owned()]
        );

        let zone = HostedZone {
            id: "Z1".into(),
            name: "example.com.".into(),
            private: false,
            record_set_count: 3,
        };
        let sets = vec![
            RecordSet::simple("example.com", "A", &["192.0.2.1"]),
            RecordSet::simple("www.example.com", "A", &["192.0.2.1"]),
            RecordSet::simple(
                "_abc.retired.example.com",
                "CNAME",
                &["_x.acm-validations.aws."],
            ),
        ];
        let d = names_not_in_dns(
            &certs,
            &[MapZone {
                zone: &zone,
                records: Some(&sets),
                published: None,
            }],
        )
        .detections;
        assert_eq!(
            codes(&d).into_iter().map(|c| c.0).collect::<Vec<_>>(),
            vec!["arn:b".to_owned()]
        );
        assert_eq!(d[0].evidence["names"][0]["name"], "retired.example.com");
        assert_eq!(d[0].evidence["names"].as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn in_an_organization_the_map_looks_in_the_other_accounts_certificates_and_zones() {
        let probed = vec![(
            target("shop.example.com", "192.0.2.1", RoutingPolicy::Simple),
            TlsOutcome::Served(cert(90)),
        )];
        // The DNS account holds no certificate; a workload account's covers
        // the name it serves.
        let workload = vec!["shop.example.com".to_owned()];
        assert!(names_not_covered(&probed, &[], Some(std::slice::from_ref(&workload))).is_empty());
        let d = names_not_covered(&probed, &[], Some(&[]));
        assert!(
            d[0].message
                .contains("no ACM certificate of the organization's scanned accounts covers"),
            "{}",
            d[0].message
        );

        // The workload account holds no zone; its certificate's names are
        // looked up in the DNS account's published copy.
        let hub = AccountRef::new("222233334444", "dns-hub").expect("account");
        let zone = HostedZone {
            id: "ZHUB".into(),
            name: "example.com.".into(),
            private: false,
            record_set_count: 2,
        };
        let mut c = acm(
            "arn:w",
            "0a",
            &["shop.example.com", "gone.example.com"],
            CertificateKind::AmazonIssued,
        );
        c.not_before = Some(now() - chrono::Duration::days(30));
        let sets = vec![RecordSet::simple("shop.example.com", "A", &["192.0.2.1"])];
        let shared = |listed_days_ago: i64, records: Option<&[RecordSet]>| {
            names_not_in_dns(
                std::slice::from_ref(&c),
                &[MapZone {
                    zone: &zone,
                    records,
                    published: Some((&hub, now() - chrono::Duration::days(listed_days_ago))),
                }],
            )
        };
        // A name below a delegation to other servers is not this zone's to
        // judge; without the delegation it is missing.
        let below = acm(
            "arn:sub",
            "0b",
            &["app.sub.example.com"],
            CertificateKind::AmazonIssued,
        );
        let cut = vec![RecordSet::simple(
            "sub.example.com",
            "NS",
            &["ns1.other-provider.net."],
        )];
        let own = |records: &[RecordSet]| {
            names_not_in_dns(
                std::slice::from_ref(&below),
                &[MapZone {
                    zone: &zone,
                    records: Some(records),
                    published: None,
                }],
            )
            .detections
            .len()
        };
        assert_eq!((own(&cut), own(&sets)), (0, 1));
        let found = shared(0, Some(&sets));
        assert_eq!(found.detections.len(), 1);
        let d = &found.detections[0];
        assert_eq!(d.evidence["names"][0]["name"], "gone.example.com");
        assert_eq!(d.evidence["names"][0]["account_id"], "222233334444");
        assert!(d.message.contains("the zones it falls in"), "{}", d.message);
        // A copy older than the certificate, or none: not judged, held.
        for not_current in [shared(40, Some(&sets)), shared(0, None)] {
            assert!(not_current.detections.is_empty());
            assert_eq!(
                not_current.unjudged.into_iter().collect::<Vec<_>>(),
                ["arn:w"]
            );
        }
    }
}
