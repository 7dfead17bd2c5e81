//! Renewal readiness of DNS-validated certificates: are the validation CNAMEs
//! ACM will look for at the next renewal still in Route 53, with the right value?

use crate::catalogue::FindingCode;
use crate::families::certificates::rules::resource;
use crate::finding::Detection;
use crate::model::{Certificate, HostedZone, RecordSet, Region, normalize_dns_name};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The public hosted zone that is authoritative for `name`: the longest zone
/// name that is `name` itself or a parent of it on a label boundary. Private
/// zones are ignored: ACM validates through public DNS.
pub fn covering_zone<'z>(name: &str, zones: &'z [HostedZone]) -> Option<&'z HostedZone> {
    let name = normalize_dns_name(name);
    zones
        .iter()
        .filter(|z| !z.private)
        .filter(|z| {
            let zone = normalize_dns_name(&z.name);
            name == zone || name.ends_with(&format!(".{zone}"))
        })
        .max_by_key(|z| z.name.len())
}

/// The zones whose records the rule needs: one listing each, however many
/// certificates point into them.
pub fn zones_needed(certs: &[Certificate], zones: &[HostedZone]) -> BTreeSet<String> {
    certs
        .iter()
        .flat_map(Certificate::renewal_validation_records)
        .filter_map(|r| covering_zone(&r.name, zones))
        .map(|z| z.id.clone())
        .collect()
}

/// What the rule found, and the regions it could not evaluate fully because a
/// zone's records could not be listed (their old findings must stay as they are).
#[derive(Debug, Default)]
pub struct ValidationOutcome {
    pub detections: Vec<Detection>,
    pub incomplete_regions: BTreeSet<Region>,
}

/// `records` maps a zone id to its record sets; a needed zone missing from it
/// is one whose listing failed.
pub fn evaluate(
    certs: &[Certificate],
    zones: &[HostedZone],
    records: &HashMap<String, Vec<RecordSet>>,
) -> ValidationOutcome {
    let mut outcome = ValidationOutcome::default();
    // record name -> certificates relying on it, for the sharing check.
    let mut users: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for cert in certs {
        for r in cert.renewal_validation_records() {
            users
                .entry(normalize_dns_name(&r.name))
                .or_default()
                .insert(cert.arn.as_str());
        }
    }

    for cert in certs {
        let mut missing = Vec::new();
        let mut unknown = Vec::new();
        let mut complete = true;
        let mut seen = BTreeSet::new();
        for r in cert.renewal_validation_records() {
            let name = normalize_dns_name(&r.name);
            // A wildcard and its apex share one record; check it once.
            if !seen.insert(name.clone()) {
                continue;
            }
            let expected = normalize_dns_name(&r.value);
            let Some(zone) = covering_zone(&name, zones) else {
                unknown.push(json!({"record": name}));
                continue;
            };
            let Some(sets) = records.get(&zone.id) else {
                complete = false;
                continue;
            };
            let actual: Vec<String> = sets
                .iter()
                .filter(|s| normalize_dns_name(&s.name) == name && s.record_type == "CNAME")
                .flat_map(|s| s.values.iter().map(|v| normalize_dns_name(v)))
                .collect();
            if actual.first() != Some(&expected) || actual.len() != 1 {
                missing.push(json!({
                    "record": name,
                    "type": "CNAME",
                    "expected": expected,
                    "actual": actual,
                    "zone_id": zone.id,
                    "zone_name": zone.name,
                }));
            }
        }
        if !complete {
            outcome.incomplete_regions.insert(cert.region.clone());
        }
        if !missing.is_empty() {
            let first = &missing[0];
            let what = if first["actual"].as_array().is_some_and(|a| a.is_empty()) {
                "is missing from"
            } else {
                "has a different value in"
            };
            let more = if missing.len() > 1 {
                format!(" (and {} more)", missing.len() - 1)
            } else {
                String::new()
            };
            outcome.detections.push(Detection {
                code: FindingCode::CertValidationRecordMissing,
                severity: FindingCode::CertValidationRecordMissing.default_severity(),
                resource: resource(cert),
                region: cert.region.clone(),
                scope: cert.region.to_string(),
                message: format!(
                    "Validation CNAME {} {what} hosted zone {} ({}){more}: the next renewal of {} will fail",
                    first["record"].as_str().unwrap_or_default(),
                    first["zone_name"].as_str().unwrap_or_default(),
                    first["zone_id"].as_str().unwrap_or_default(),
                    cert.domain_name
                ),
                evidence: json!({"records": missing}),
            });
        }
        if !unknown.is_empty() {
            outcome.detections.push(Detection {
                code: FindingCode::CertValidationZoneUnknown,
                severity: FindingCode::CertValidationZoneUnknown.default_severity(),
                resource: resource(cert),
                region: cert.region.clone(),
                scope: cert.region.to_string(),
                message: format!(
                    "No public hosted zone in this account covers the validation CNAME {} of {}",
                    unknown[0]["record"].as_str().unwrap_or_default(),
                    cert.domain_name
                ),
                evidence: json!({"records": unknown}),
            });
        }
        let shared: Vec<serde_json::Value> = seen
            .iter()
            .filter_map(|name| {
                let others: Vec<&str> = users
                    .get(name)?
                    .iter()
                    .copied()
                    .filter(|a| *a != cert.arn)
                    .collect();
                (!others.is_empty()).then(|| json!({"record": name, "also_used_by": others}))
            })
            .collect();
        if !shared.is_empty() {
            let n = shared[0]["also_used_by"].as_array().map_or(0, Vec::len);
            outcome.detections.push(Detection {
                code: FindingCode::CertValidationRecordShared,
                severity: FindingCode::CertValidationRecordShared.default_severity(),
                resource: resource(cert),
                region: cert.region.clone(),
                scope: cert.region.to_string(),
                message: format!(
                    "Validation CNAME {} of {} is also relied on by {n} other certificate(s); do not delete it with either",
                    shared[0]["record"].as_str().unwrap_or_default(),
                    cert.domain_name
                ),
                evidence: json!({"records": shared}),
            });
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;
    use crate::model::{
        CertificateKind, CertificateStatus, DomainValidation, ValidationMethod, ValidationRecord,
    };

    fn zone(id: &str, name: &str, private: bool) -> HostedZone {
        HostedZone {
            id: id.into(),
            name: name.into(),
            private,
            record_set_count: 0,
        }
    }

    fn cname(name: &str, value: &str) -> RecordSet {
        RecordSet::simple(name, "CNAME", &[value])
    }

    fn cert(arn: &str, records: &[(&str, &str)]) -> Certificate {
        Certificate {
            arn: arn.into(),
            region: Region::parse("eu-west-1").expect("region"),
            domain_name: "example.com".into(),
            subject_alternative_names: vec![],
            kind: CertificateKind::AmazonIssued,
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
            domain_validations: records
                .iter()
                .map(|(n, v)| DomainValidation {
                    domain: n.trim_start_matches("_x.").into(),
                    method: Some(ValidationMethod::Dns),
                    record: Some(ValidationRecord {
                        name: (*n).into(),
                        value: (*v).into(),
                    }),
                })
                .collect(),
            serial: None,
            issuer_ca_arn: None,
        }
    }

    fn zones() -> Vec<HostedZone> {
        vec![
            zone("ZPARENT", "example.com.", false),
            zone("ZCHILD", "dev.example.com.", false),
            zone("ZPRIV", "internal.example.com.", true),
        ]
    }

    #[test]
    fn longest_public_zone_wins_on_label_boundaries() {
        let z = zones();
        assert_eq!(
            covering_zone("_x.a.dev.example.com.", &z).map(|z| z.id.as_str()),
            Some("ZCHILD")
        );
        assert_eq!(
            covering_zone("_x.shop.example.com", &z).map(|z| z.id.as_str()),
            Some("ZPARENT")
        );
        // Private zones never answer for ACM.
        assert_eq!(
            covering_zone("_x.internal.example.com.", &z).map(|z| z.id.as_str()),
            Some("ZPARENT")
        );
        // "badexample.com" is not under "example.com".
        assert_eq!(covering_zone("_x.badexample.com.", &z), None);
    }

    #[test]
    fn present_record_with_right_value_is_fine_case_and_dots_ignored() {
        let c = cert("arn:1", &[("_x.example.com.", "_y.acm-validations.aws.")]);
        let recs = HashMap::from([(
            "ZPARENT".to_string(),
            vec![cname("_X.Example.com.", "_y.ACM-validations.aws")],
        )]);
        let out = evaluate(&[c], &zones(), &recs);
        assert!(out.detections.is_empty(), "{:?}", out.detections);
        assert!(out.incomplete_regions.is_empty());
    }

    #[test]
    fn missing_record_names_record_and_zone() {
        let c = cert(
            "arn:1",
            &[("_x.shop.example.com.", "_y.acm-validations.aws.")],
        );
        let recs = HashMap::from([(
            "ZPARENT".to_string(),
            vec![cname("_other.example.com.", "z.")],
        )]);
        let out = evaluate(&[c], &zones(), &recs);
        assert_eq!(out.detections.len(), 1);
        let d = &out.detections[0];
        assert_eq!(
            (d.code, d.severity),
            (FindingCode::CertValidationRecordMissing, Severity::High)
        );
        assert!(d.message.contains("_x.shop.example.com."), "{}", d.message);
        assert!(
            d.message.contains("example.com. (ZPARENT)"),
            "{}",
            d.message
        );
        assert_eq!(
            d.evidence["records"][0]["expected"],
            "_y.acm-validations.aws."
        );
    }

    #[test]
    fn wrong_value_counts_as_missing() {
        let c = cert("arn:1", &[("_x.example.com.", "_y.acm-validations.aws.")]);
        let recs = HashMap::from([(
            "ZPARENT".to_string(),
            vec![cname("_x.example.com.", "_stale.acm-validations.aws.")],
        )]);
        let out = evaluate(&[c], &zones(), &recs);
        assert_eq!(out.detections.len(), 1);
        assert!(out.detections[0].message.contains("different value"));
        assert_eq!(
            out.detections[0].evidence["records"][0]["actual"][0],
            "_stale.acm-validations.aws."
        );
    }

    #[test]
    fn no_covering_zone_is_info() {
        let c = cert("arn:1", &[("_x.elsewhere.org.", "_y.acm-validations.aws.")]);
        let out = evaluate(&[c], &zones(), &HashMap::new());
        assert_eq!(out.detections.len(), 1);
        assert_eq!(
            (out.detections[0].code, out.detections[0].severity),
            (FindingCode::CertValidationZoneUnknown, Severity::Info)
        );
    }

    #[test]
    fn zone_that_could_not_be_listed_marks_the_region_incomplete() {
        let c = cert("arn:1", &[("_x.example.com.", "_y.acm-validations.aws.")]);
        let out = evaluate(&[c], &zones(), &HashMap::new());
        assert!(out.detections.is_empty());
        assert_eq!(out.incomplete_regions.len(), 1);
    }

    #[test]
    fn shared_record_is_reported_on_each_certificate() {
        let a = cert("arn:a", &[("_x.example.com.", "_y.acm-validations.aws.")]);
        let b = cert("arn:b", &[("_x.example.com.", "_y.acm-validations.aws.")]);
        let c = cert(
            "arn:c",
            &[("_x.dev.example.com.", "_z.acm-validations.aws.")],
        );
        let recs = HashMap::from([
            (
                "ZPARENT".to_string(),
                vec![cname("_x.example.com.", "_y.acm-validations.aws.")],
            ),
            (
                "ZCHILD".to_string(),
                vec![cname("_x.dev.example.com.", "_z.acm-validations.aws.")],
            ),
        ]);
        let out = evaluate(&[a, b, c], &zones(), &recs);
        let shared: Vec<&str> = out
            .detections
            .iter()
            .filter(|d| d.code == FindingCode::CertValidationRecordShared)
            .map(|d| d.resource.id.as_str())
            .collect();
        assert_eq!(shared, ["arn:a", "arn:b"]);
        assert_eq!(
            out.detections[0].evidence["records"][0]["also_used_by"][0],
            "arn:b"
        );
    }

    #[test]
    fn certificates_acm_cannot_renew_are_not_checked() {
        let mut c = cert("arn:1", &[("_x.example.com.", "_y.acm-validations.aws.")]);
        c.status = CertificateStatus::Expired;
        let mut imported = cert("arn:2", &[("_x.example.com.", "_y.acm-validations.aws.")]);
        imported.kind = CertificateKind::Imported;
        let out = evaluate(&[c.clone(), imported.clone()], &zones(), &HashMap::new());
        assert!(out.detections.is_empty());
        assert!(zones_needed(&[c, imported], &zones()).is_empty());
    }

    #[test]
    fn zones_needed_lists_each_zone_once() {
        let a = cert(
            "arn:a",
            &[("_x.example.com.", "v."), ("_y.shop.example.com.", "w.")],
        );
        let b = cert("arn:b", &[("_x.dev.example.com.", "v.")]);
        let needed: Vec<String> = zones_needed(&[a, b], &zones()).into_iter().collect();
        assert_eq!(needed, ["ZCHILD", "ZPARENT"]);
    }
}
