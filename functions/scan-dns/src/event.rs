//! The events that start a DNS scan, parsed once into a `Trigger`.

use std::collections::BTreeSet;
use zw_lambda::event::Envelope;
pub use zw_lambda::event::EventError;

/// Why this scan runs. Every trigger checks every zone; a change event also
/// makes the zone it names list its record sets again, whatever the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    Schedule,
    /// A Route 53 API call recorded by CloudTrail (us-east-1 only).
    Route53Change {
        event_name: String,
        zone_id: Option<String>,
    },
    Manual,
}

impl Trigger {
    pub fn label(&self) -> String {
        match self {
            Self::Schedule => "schedule".into(),
            Self::Route53Change { event_name, .. } => format!("aws.route53: {event_name}"),
            Self::Manual => "manual".into(),
        }
    }

    pub fn changed_zones(&self) -> BTreeSet<String> {
        match self {
            Self::Route53Change {
                zone_id: Some(z), ..
            } => BTreeSet::from([z.clone()]),
            _ => BTreeSet::new(),
        }
    }
}

/// What this function accepts, for the error of anything else.
const ACCEPTED: &str =
    "aws.events (schedule), aws.route53 CloudTrail API calls or zonewarden (manual)";

/// `/hostedzone/Z123` or `Z123` -> `Z123`; anything else is not a zone id.
fn zone_id(raw: &str) -> Option<String> {
    let id = raw.trim().trim_start_matches("/hostedzone/");
    (!id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| id.to_owned())
}

pub fn parse(event: &serde_json::Value) -> Result<Trigger, EventError> {
    let env = Envelope::parse(event)?;
    if env.is_schedule() {
        return Ok(Trigger::Schedule);
    }
    if env.is_manual() {
        return Ok(Trigger::Manual);
    }
    if env.source == "aws.route53" && env.detail_type == "AWS API Call via CloudTrail" {
        let d = &env.detail;
        let zone = [
            &d["requestParameters"]["hostedZoneId"],
            &d["requestParameters"]["id"],
            &d["responseElements"]["hostedZone"]["id"],
        ]
        .into_iter()
        .find_map(|v| v.as_str().and_then(zone_id));
        return Ok(Trigger::Route53Change {
            event_name: d["eventName"]
                .as_str()
                .unwrap_or("unknown")
                .chars()
                .take(64)
                .collect(),
            zone_id: zone,
        });
    }
    Err(env.unsupported(ACCEPTED))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Every DNS sample in events/ (`dns-*.json`) parses into the trigger its
    /// name says; the shared schedule and manual samples are accepted too.
    #[test]
    fn every_dns_sample_event_parses() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events");
        let mut seen = 0;
        for name in ["schedule.json", "manual.json", "dns-route53-change.json"] {
            let text = std::fs::read_to_string(format!("{dir}/{name}")).expect("readable");
            let value: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
            let t = parse(&value).unwrap_or_else(|e| panic!("{name}: {e}"));
            if name.starts_with("dns-route53") {
                assert_eq!(
                    t.changed_zones(),
                    BTreeSet::from(["Z0123456789ABCDEFGHIJ".to_owned()])
                );
                assert_eq!(t.label(), "aws.route53: ChangeResourceRecordSets");
            }
            seen += 1;
        }
        assert_eq!(seen, 3);
        // The event queue's batch: one scan re-lists every zone it names.
        let text = std::fs::read_to_string(format!("{dir}/dns-sqs-route53-changes.json"))
            .expect("readable");
        let value: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        let batch = zw_lambda::event::Batch::parse(&value, parse).expect("a batch");
        assert!(batch.refused.is_empty(), "{batch:?}");
        let zones: BTreeSet<String> = batch
            .triggers
            .iter()
            .flat_map(Trigger::changed_zones)
            .collect();
        assert_eq!(
            zones,
            BTreeSet::from([
                "Z0123456789ABCDEFGHIJ".to_owned(),
                "Z9876543210ZYXWVUTSRQ".to_owned()
            ])
        );
        assert_eq!(
            batch.label(Trigger::label),
            "2 events: aws.route53: ChangeResourceRecordSets"
        );
    }

    #[test]
    fn foreign_and_malformed_events_are_refused_briefly() {
        assert!(matches!(
            parse(&json!({"source": "aws.acm", "detail-type": "ACM Certificate Expired"})),
            Err(EventError::Unsupported { .. })
        ));
        let huge = "x".repeat(10_000);
        let e = parse(&json!({"source": 5, "detail-type": huge})).expect_err("malformed");
        assert!(e.to_string().len() < 400, "{e}");
        let t = parse(&json!({"source": "aws.route53", "detail-type": "AWS API Call via CloudTrail",
            "detail": {"eventName": "CreateHostedZone", "responseElements": {"hostedZone": {"id": "/hostedzone/ZNEW1"}}}}))
        .expect("create");
        assert_eq!(t.changed_zones(), BTreeSet::from(["ZNEW1".to_owned()]));
        let t = parse(&json!({"source": "aws.route53", "detail-type": "AWS API Call via CloudTrail",
            "detail": {"eventName": "ChangeResourceRecordSets", "requestParameters": {"hostedZoneId": "../../etc"}}}))
        .expect("odd id");
        assert!(t.changed_zones().is_empty());
    }
}
