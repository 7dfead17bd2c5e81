//! `dns.zone-near-record-limit`: Route 53 refuses changes once a zone holds
//! its quota of record sets.

use super::{DnsOutcome, DnsRuleSettings, detection, zone_resource};
use crate::catalogue::{Check, FindingCode};
use crate::families::dns::model::ZoneFacts;
use crate::model::Region;
use serde_json::json;

/// The zone's record-set count: `ResourceRecordSetCount` or the listing,
/// whichever is larger (either may lag the other).
pub fn record_sets(zone: &ZoneFacts) -> u64 {
    let listed = u64::try_from(zone.inventory.record_sets.len()).unwrap_or(u64::MAX);
    zone.inventory.zone.record_set_count.max(listed)
}

/// Whether a zone holding `record_sets` needs its own quota read: only when
/// it is at the rule's threshold of Route 53's default quota. Route 53 only
/// ever raises this quota, so a smaller zone cannot be near its own, and
/// `GetHostedZoneLimit` would be a call of the small Route 53 budget spent
/// for nothing.
pub fn limit_matters(record_sets: u64, settings: &DnsRuleSettings) -> bool {
    record_sets.saturating_mul(100)
        >= settings
            .record_set_quota
            .saturating_mul(settings.record_limit_percent)
}

/// The zone's quota of record sets and where it comes from: what
/// `GetHostedZoneLimit` said when the zone was last listed (`route53`), or
/// `settings.record_set_quota` (Route 53's default) when that could not be
/// read (`default`).
pub fn quota(zone: &ZoneFacts, settings: &DnsRuleSettings) -> (u64, &'static str) {
    match zone.inventory.record_set_limit {
        Some(limit) => (limit.max(1), "route53"),
        None => (settings.record_set_quota.max(1), "default"),
    }
}

pub(crate) fn evaluate(zone: &ZoneFacts, settings: &DnsRuleSettings, out: &mut DnsOutcome) {
    let hz = &zone.inventory.zone;
    out.cover(Check::DnsInventory, &hz.id);
    let count = record_sets(zone);
    let (quota, source) = quota(zone, settings);
    // count / quota >= percent / 100, in integers.
    if count.saturating_mul(100) < quota.saturating_mul(settings.record_limit_percent) {
        return;
    }
    let percent_used = count.saturating_mul(100) / quota;
    let assumed = if source == "default" {
        " (Route 53's default quota: the zone's own could not be read)"
    } else {
        ""
    };
    out.detections.push(detection(
        FindingCode::DnsZoneNearRecordLimit,
        zone_resource(hz),
        Region::global(),
        &hz.id,
        format!(
            "Hosted zone {} ({}) holds {count} of its {quota} record sets ({percent_used}%){assumed}: changes will fail at the quota",
            hz.name, hz.id
        ),
        json!({
            "record_sets": count,
            "quota": quota,
            "quota_source": source,
            "percent_used": percent_used,
        }),
    ));
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use crate::model::RecordSet;

    #[test]
    fn only_zones_at_the_default_threshold_need_their_quota_read() {
        let s = DnsRuleSettings::default();
        assert!(!limit_matters(0, &s));
        assert!(!limit_matters(8_999, &s));
        assert!(limit_matters(9_000, &s));
        assert!(limit_matters(25_000, &s));
    }

    #[test]
    fn fires_from_ninety_percent_of_the_zones_own_quota() {
        // (quota GetHostedZoneLimit read, ResourceRecordSetCount, listed
        // sets, fires)
        let cases = [
            (Some(10_000), 0, 7, false),
            (Some(10_000), 8_999, 7, false),
            (Some(10_000), 9_000, 7, true),
            (Some(10_000), 10_000, 7, true),
            (Some(10_000), 0, 9_000, true),
            // A raised quota read from Route 53 moves the threshold.
            (Some(20_000), 9_500, 7, false),
            (Some(20_000), 18_000, 7, true),
            // A lowered one too (the rule never assumes 10,000 when told).
            (Some(5_000), 4_600, 7, true),
        ];
        for (limit, count, listed, fires) in cases {
            let mut z = zone_facts("Z1", "example.com.", vec![]);
            z.inventory.record_set_limit = limit;
            z.inventory.zone.record_set_count = count;
            z.inventory.record_sets =
                vec![RecordSet::simple("a.example.com.", "A", &["192.0.2.1"]); listed];
            let mut out = DnsOutcome::default();
            evaluate(&z, &DnsRuleSettings::default(), &mut out);
            let label = format!("{limit:?} {count}/{listed}");
            assert_eq!(out.detections.len(), usize::from(fires), "{label}");
            assert!(out.is_covered(Check::DnsInventory, "Z1"));
            if fires {
                let d = &out.detections[0];
                assert_eq!(d.code, FindingCode::DnsZoneNearRecordLimit);
                assert_eq!(Some(d.evidence["quota"].as_u64().unwrap_or(0)), limit);
                assert_eq!(d.evidence["quota_source"], "route53", "{label}");
                assert!(!d.message.contains("default"), "{}", d.message);
            }
        }
    }

    /// moto answers 404 to `GetHostedZoneLimit`, and a cache written before
    /// the quota was read has none: Route 53's default applies, and the
    /// evidence and message say it was assumed.
    #[test]
    fn an_unread_quota_falls_back_to_the_default_and_says_so() {
        let mut z = zone_facts("Z1", "example.com.", vec![]);
        z.inventory.record_set_limit = None;
        z.inventory.zone.record_set_count = 9_500;
        let mut out = DnsOutcome::default();
        evaluate(&z, &DnsRuleSettings::default(), &mut out);
        let d = &out.detections[0];
        assert_eq!(d.evidence["quota"], 10_000);
        assert_eq!(d.evidence["quota_source"], "default");
        assert!(
            d.message.contains("Route 53's default quota"),
            "{}",
            d.message
        );
        // The setting is only the fallback: a zone whose quota was read
        // ignores it.
        let settings = DnsRuleSettings {
            record_set_quota: 20_000,
            ..DnsRuleSettings::default()
        };
        let mut out = DnsOutcome::default();
        evaluate(&z, &settings, &mut out);
        assert!(out.detections.is_empty());
        z.inventory.record_set_limit = Some(10_000);
        let mut out = DnsOutcome::default();
        evaluate(&z, &settings, &mut out);
        assert_eq!(out.detections[0].evidence["quota_source"], "route53");
    }
}
