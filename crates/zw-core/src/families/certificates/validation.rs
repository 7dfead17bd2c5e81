//! Renewal readiness of DNS-validated certificates: are the validation CNAMEs
//! ACM will look for at the next renewal still in Route 53, with the right value?

use crate::catalogue::FindingCode;
use crate::families::certificates::rules::resource;
use crate::finding::Detection;
use crate::model::{Certificate, HostedZone, RecordSet, Region, delegated_at, normalize_dns_name};
use crate::org::AccountRef;
use chrono::{DateTime, Utc};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The public hosted zones that are authoritative for `name`: those with the
/// longest zone name that is `name` itself or a parent of it on a label
/// boundary. Several when zones of one name exist (Route 53 allows it, and
/// in an organization one account may keep an old copy of a zone another
/// account serves): any of them may be the delegated one. Private zones are
/// ignored: ACM validates through public DNS.
pub fn covering_zones<'z>(name: &str, zones: &'z [HostedZone]) -> Vec<&'z HostedZone> {
    let name = normalize_dns_name(name);
    let covering: Vec<(&HostedZone, usize)> = zones
        .iter()
        .filter(|z| !z.private)
        .filter_map(|z| {
            let zone = normalize_dns_name(&z.name);
            (name == zone || name.ends_with(&format!(".{zone}"))).then_some((z, zone.len()))
        })
        .collect();
    let longest = covering.iter().map(|(_, len)| *len).max();
    covering
        .into_iter()
        .filter(|(_, len)| Some(*len) == longest)
        .map(|(z, _)| z)
        .collect()
}

/// The first of [`covering_zones`].
pub fn covering_zone<'z>(name: &str, zones: &'z [HostedZone]) -> Option<&'z HostedZone> {
    covering_zones(name, zones).into_iter().next()
}

/// The zones whose records the rule needs: one listing each, however many
/// certificates point into them.
pub fn zones_needed(certs: &[Certificate], zones: &[HostedZone]) -> BTreeSet<String> {
    certs
        .iter()
        .flat_map(Certificate::renewal_validation_records)
        .flat_map(|r| covering_zones(&r.name, zones))
        .map(|z| z.id.clone())
        .collect()
}

/// A zone another account of the organization holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub account: AccountRef,
    /// When its record sets were listed from Route 53 (None until read).
    pub listed_at: Option<DateTime<Utc>>,
}

/// The zones the rule looks in, and what is known of each.
#[derive(Debug, Default)]
pub struct ZoneView {
    /// The account's own zones, then those the organization published.
    pub zones: Vec<HostedZone>,
    /// Record sets by zone id; a needed zone missing here could not be read.
    pub records: HashMap<String, Vec<RecordSet>>,
    /// The zones other accounts hold, by zone id (organization mode).
    pub published: HashMap<String, Published>,
    /// The organization's published zones were looked in.
    pub organization: bool,
    /// Some account's published zones could not be read: a name found in no
    /// zone, or missing from the zone found, may be in one of them.
    pub partial: bool,
}

impl ZoneView {
    /// The account's own zones only (single-account mode).
    pub fn own(zones: Vec<HostedZone>, records: HashMap<String, Vec<RecordSet>>) -> Self {
        Self {
            zones,
            records,
            ..Self::default()
        }
    }
}

/// What the rule found, and the regions it could not evaluate fully because a
/// zone's records could not be listed (their old findings must stay as they are).
#[derive(Debug, Default)]
pub struct ValidationOutcome {
    pub detections: Vec<Detection>,
    pub incomplete_regions: BTreeSet<Region>,
}

/// How one validation record stands in the zones that cover it.
enum Standing {
    Present,
    /// Judged missing or different in every covering zone: the first one's evidence.
    Missing(serde_json::Value),
    /// No zone covers it, or the zone that does delegates the name to other
    /// servers (at the name given).
    Uncovered(Option<String>),
    /// Some covering zone could not be read, or its copy predates the
    /// certificate: not judged this time.
    Unknown,
}

fn standing(cert: &Certificate, name: &str, expected: &str, view: &ZoneView) -> Standing {
    let candidates = covering_zones(name, &view.zones);
    if candidates.is_empty() {
        return if view.partial {
            Standing::Unknown
        } else {
            Standing::Uncovered(None)
        };
    }
    // A copy another account listed before this certificate was requested or
    // last issued may not hold a record added for it since.
    let needed_since = cert.created_at.max(cert.not_before);
    let mut judged = Vec::new();
    let mut unread = false;
    let mut delegated = None;
    for zone in &candidates {
        let Some(sets) = view.records.get(&zone.id) else {
            unread = true;
            continue;
        };
        if let Some(cut) = delegated_at(name, zone, sets) {
            delegated = Some(normalize_dns_name(cut));
            continue;
        }
        let holder = view.published.get(&zone.id);
        if let Some(p) = holder
            && p.listed_at.is_some_and(|at| Some(at) < needed_since)
        {
            unread = true;
            continue;
        }
        let actual: Vec<String> = sets
            .iter()
            .filter(|s| normalize_dns_name(&s.name) == name && s.record_type == "CNAME")
            .flat_map(|s| s.values.iter().map(|v| normalize_dns_name(v)))
            .collect();
        if actual.len() == 1 && actual[0] == expected {
            return Standing::Present;
        }
        let mut entry = json!({
            "record": name,
            "type": "CNAME",
            "expected": expected,
            "actual": actual,
            "zone_id": zone.id,
            "zone_name": zone.name,
        });
        if let Some(p) = holder {
            entry["account_id"] = json!(p.account.id);
            entry["account_name"] = json!(p.account.name);
            entry["listed_at"] = json!(p.listed_at);
        }
        judged.push(entry);
    }
    if unread || view.partial {
        return Standing::Unknown;
    }
    if judged.is_empty() {
        return Standing::Uncovered(delegated);
    }
    let mut first = judged.swap_remove(0);
    if candidates.len() > 1 {
        first["zones_of_that_name"] = json!(candidates.iter().map(|z| &z.id).collect::<Vec<_>>());
    }
    Standing::Missing(first)
}

/// Where a zone of the evidence is, for people: `example.com. (Z123)`, and
/// the account holding it when it is another one.
fn zone_label(entry: &serde_json::Value) -> String {
    let text = |k: &str| entry[k].as_str().unwrap_or_default().to_owned();
    let mut label = format!("hosted zone {} ({})", text("zone_name"), text("zone_id"));
    if entry.get("account_id").is_some() {
        label.push_str(&format!(
            " of account {} ({})",
            text("account_name"),
            text("account_id")
        ));
    }
    label
}

/// `view.records` maps a zone id to its record sets; a needed zone missing
/// from it is one whose listing failed.
pub fn evaluate(certs: &[Certificate], view: &ZoneView) -> ValidationOutcome {
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
            match standing(cert, &name, &normalize_dns_name(&r.value), view) {
                Standing::Present => {}
                Standing::Missing(entry) => missing.push(entry),
                Standing::Uncovered(None) => unknown.push(json!({"record": name})),
                Standing::Uncovered(Some(cut)) => {
                    unknown.push(json!({"record": name, "delegated_at": cut}));
                }
                Standing::Unknown => complete = false,
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
                    "Validation CNAME {} {what} {}{more}: the next renewal of {} will fail",
                    first["record"].as_str().unwrap_or_default(),
                    zone_label(first),
                    cert.domain_name
                ),
                evidence: json!({"records": missing}),
            });
        }
        if !unknown.is_empty() {
            let where_ = if view.organization {
                "in this account or among the zones the organization's accounts published"
            } else {
                "in this account"
            };
            outcome.detections.push(Detection {
                code: FindingCode::CertValidationZoneUnknown,
                severity: FindingCode::CertValidationZoneUnknown.default_severity(),
                resource: resource(cert),
                region: cert.region.clone(),
                scope: cert.region.to_string(),
                message: format!(
                    "No public hosted zone {where_} covers the validation CNAME {} of {}",
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

    fn eval(
        certs: &[Certificate],
        zones: &[HostedZone],
        records: &HashMap<String, Vec<RecordSet>>,
    ) -> ValidationOutcome {
        evaluate(certs, &ZoneView::own(zones.to_vec(), records.clone()))
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
        let out = eval(&[c], &zones(), &recs);
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
        let out = eval(&[c], &zones(), &recs);
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
        let out = eval(&[c], &zones(), &recs);
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
        let out = eval(&[c], &zones(), &HashMap::new());
        assert_eq!(out.detections.len(), 1);
        assert_eq!(
            (out.detections[0].code, out.detections[0].severity),
            (FindingCode::CertValidationZoneUnknown, Severity::Info)
        );
    }

    #[test]
    fn zone_that_could_not_be_listed_marks_the_region_incomplete() {
        let c = cert("arn:1", &[("_x.example.com.", "_y.acm-validations.aws.")]);
        let out = eval(&[c], &zones(), &HashMap::new());
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
        let out = eval(&[a, b, c], &zones(), &recs);
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
        let out = eval(&[c.clone(), imported.clone()], &zones(), &HashMap::new());
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

    // ---- the organization's zones (organization mode) ----

    fn hub() -> AccountRef {
        AccountRef::new("222233334444", "dns-hub").expect("account")
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("time")
    }

    /// The workload account holds no zone; `example.com.` is the hub's, its
    /// copy listed at `listed_at`.
    fn org_view(records: Vec<RecordSet>, listed_at: &str) -> ZoneView {
        ZoneView {
            zones: vec![zone("ZHUB", "example.com.", false)],
            records: HashMap::from([("ZHUB".to_string(), records)]),
            published: HashMap::from([(
                "ZHUB".to_string(),
                Published {
                    account: hub(),
                    listed_at: Some(at(listed_at)),
                },
            )]),
            organization: true,
            partial: false,
        }
    }

    fn issued_at(mut c: Certificate, when: &str) -> Certificate {
        c.created_at = Some(at(when));
        c.not_before = Some(at(when));
        c
    }

    #[test]
    fn a_record_in_another_accounts_zone_counts_and_its_loss_names_that_account() {
        let c = issued_at(
            cert(
                "arn:1",
                &[("_x.shop.example.com.", "_y.acm-validations.aws.")],
            ),
            "2026-11-01T00:00:00Z",
        );
        let present = org_view(
            vec![cname("_x.shop.example.com.", "_y.acm-validations.aws.")],
            "2026-12-03T06:00:00Z",
        );
        let out = evaluate(std::slice::from_ref(&c), &present);
        assert!(out.detections.is_empty(), "{:?}", out.detections);
        assert!(out.incomplete_regions.is_empty());

        let deleted = org_view(vec![], "2026-12-03T06:00:00Z");
        let out = evaluate(&[c], &deleted);
        assert_eq!(out.detections.len(), 1);
        let d = &out.detections[0];
        assert_eq!(d.code, FindingCode::CertValidationRecordMissing);
        assert!(
            d.message
                .contains("hosted zone example.com. (ZHUB) of account dns-hub (222233334444)"),
            "{}",
            d.message
        );
        let r = &d.evidence["records"][0];
        assert_eq!(
            (&r["account_id"], &r["listed_at"]),
            (&json!("222233334444"), &json!(at("2026-12-03T06:00:00Z")))
        );
    }

    #[test]
    fn a_copy_listed_before_the_certificate_was_issued_is_not_judged() {
        let c = issued_at(
            cert(
                "arn:1",
                &[("_x.shop.example.com.", "_y.acm-validations.aws.")],
            ),
            "2026-12-03T08:00:00Z",
        );
        let out = evaluate(&[c], &org_view(vec![], "2026-12-03T06:00:00Z"));
        assert!(out.detections.is_empty(), "{:?}", out.detections);
        assert_eq!(out.incomplete_regions.len(), 1);
    }

    #[test]
    fn an_unreadable_account_leaves_unfound_and_missing_records_unjudged() {
        let missing = cert(
            "arn:1",
            &[("_x.shop.example.com.", "_y.acm-validations.aws.")],
        );
        let uncovered = cert("arn:2", &[("_x.elsewhere.org.", "_y.acm-validations.aws.")]);
        let mut view = org_view(vec![], "2026-12-03T06:00:00Z");
        view.partial = true;
        let out = evaluate(&[missing.clone(), uncovered.clone()], &view);
        assert!(out.detections.is_empty(), "{:?}", out.detections);
        assert_eq!(out.incomplete_regions.len(), 1);
        // Read in full, the same names are judged.
        view.partial = false;
        let out = evaluate(&[missing, uncovered], &view);
        let codes: Vec<FindingCode> = out.detections.iter().map(|d| d.code).collect();
        assert_eq!(
            codes,
            [
                FindingCode::CertValidationRecordMissing,
                FindingCode::CertValidationZoneUnknown
            ]
        );
        assert!(
            out.detections[1]
                .message
                .contains("among the zones the organization's accounts published"),
            "{}",
            out.detections[1].message
        );
    }

    #[test]
    fn of_two_zones_with_one_name_the_one_holding_the_record_counts() {
        let c = cert(
            "arn:1",
            &[("_x.shop.example.com.", "_y.acm-validations.aws.")],
        );
        // The workload account keeps an old, undelegated copy of the zone.
        let mut view = org_view(
            vec![cname("_x.shop.example.com.", "_y.acm-validations.aws.")],
            "2026-12-03T06:00:00Z",
        );
        view.zones.insert(0, zone("ZOLD", "example.com.", false));
        view.records.insert("ZOLD".into(), vec![]);
        let out = evaluate(std::slice::from_ref(&c), &view);
        assert!(out.detections.is_empty(), "{:?}", out.detections);
        // Missing from both: one finding, naming both zones.
        view.records.insert("ZHUB".into(), vec![]);
        let out = evaluate(&[c], &view);
        assert_eq!(out.detections.len(), 1);
        assert_eq!(
            out.detections[0].evidence["records"][0]["zones_of_that_name"],
            json!(["ZOLD", "ZHUB"])
        );
        assert_eq!(
            covering_zones("_x.shop.example.com.", &view.zones).len(),
            2,
            "both are needed"
        );
    }

    #[test]
    fn a_name_the_zone_delegates_elsewhere_is_not_judged_missing_from_it() {
        // sub.example.com is hosted by another provider: the parent zone has
        // its NS records, not its validation CNAME.
        let c = cert(
            "arn:1",
            &[("_x.sub.example.com.", "_y.acm-validations.aws.")],
        );
        let recs = HashMap::from([(
            "ZPARENT".to_string(),
            vec![RecordSet::simple(
                "sub.example.com.",
                "NS",
                &["ns1.other-provider.net."],
            )],
        )]);
        let out = eval(&[c], &zones(), &recs);
        assert_eq!(out.detections.len(), 1, "{:?}", out.detections);
        assert_eq!(
            out.detections[0].code,
            FindingCode::CertValidationZoneUnknown
        );
        assert_eq!(
            out.detections[0].evidence["records"][0]["delegated_at"],
            "sub.example.com."
        );
    }
}
