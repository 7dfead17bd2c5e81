//! `dns.zone-near-record-limit`: Route 53 refuses changes once a zone holds
//! its quota of record sets.

use super::{DnsOutcome, DnsRuleSettings, detection, zone_resource};
use crate::catalogue::{Check, FindingCode};
use crate::model::Region;
use crate::model::dns::ZoneFacts;
use serde_json::json;

/// The zone's record-set count: `ResourceRecordSetCount` or the listing,
/// whichever is larger (either may lag the other).
pub fn record_sets(zone: &ZoneFacts) -> u64 {
    let listed = u64::try_from(zone.inventory.record_sets.len()).unwrap_or(u64::MAX);
    zone.inventory.zone.record_set_count.max(listed)
}

pub(crate) fn evaluate(zone: &ZoneFacts, settings: &DnsRuleSettings, out: &mut DnsOutcome) {
    let hz = &zone.inventory.zone;
    out.cover(Check::DnsInventory, &hz.id);
    let count = record_sets(zone);
    let quota = settings.record_set_quota.max(1);
    // count / quota >= percent / 100, in integers.
    if count.saturating_mul(100) < quota.saturating_mul(settings.record_limit_percent) {
        return;
    }
    let percent_used = count.saturating_mul(100) / quota;
    out.detections.push(detection(
        FindingCode::DnsZoneNearRecordLimit,
        zone_resource(hz),
        Region::global(),
        &hz.id,
        format!(
            "Hosted zone {} ({}) holds {count} of its {quota} record sets ({percent_used}%): changes will fail at the quota",
            hz.name, hz.id
        ),
        json!({"record_sets": count, "quota": quota, "percent_used": percent_used}),
    ));
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use crate::model::RecordSet;

    #[test]
    fn fires_from_ninety_percent_of_the_quota() {
        // (ResourceRecordSetCount, listed sets, fires)
        let cases = [
            (0, 7, false),
            (8_999, 7, false),
            (9_000, 7, true),
            (10_000, 7, true),
            (0, 9_000, true),
        ];
        for (count, listed, fires) in cases {
            let mut z = zone_facts("Z1", "example.com.", vec![]);
            z.inventory.zone.record_set_count = count;
            z.inventory.record_sets =
                vec![RecordSet::simple("a.example.com.", "A", &["192.0.2.1"]); listed];
            let mut out = DnsOutcome::default();
            evaluate(&z, &DnsRuleSettings::default(), &mut out);
            assert_eq!(out.detections.len(), usize::from(fires), "{count}/{listed}");
            assert!(out.is_covered(Check::DnsInventory, "Z1"));
            if fires {
                let d = &out.detections[0];
                assert_eq!(d.code, FindingCode::DnsZoneNearRecordLimit);
                assert_eq!(d.evidence["quota"], 10_000);
            }
        }
    }

    #[test]
    fn a_raised_quota_is_honoured() {
        let mut z = zone_facts("Z1", "example.com.", vec![]);
        z.inventory.zone.record_set_count = 9_500;
        let settings = DnsRuleSettings {
            record_set_quota: 20_000,
            ..DnsRuleSettings::default()
        };
        let mut out = DnsOutcome::default();
        evaluate(&z, &settings, &mut out);
        assert!(out.detections.is_empty());
    }
}
