//! The events that start a DNS scan, parsed once into a `Trigger`.

use serde::Deserialize;
use std::collections::BTreeSet;

/// The EventBridge envelope, reduced to what decides and labels a scan.
#[derive(Debug, Deserialize)]
struct Envelope {
    source: String,
    #[serde(rename = "detail-type")]
    detail_type: String,
    #[serde(default)]
    detail: serde_json::Value,
}

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

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventError {
    #[error(
        "the event is not an EventBridge event ({0}); expected an object with `source` and `detail-type`, like the samples in events/"
    )]
    Malformed(String),
    #[error(
        "events from `{event_source}` ({detail_type}) do not start a DNS scan; send aws.events (schedule), aws.route53 CloudTrail API calls or zonewarden (manual)"
    )]
    Unsupported {
        event_source: String,
        detail_type: String,
    },
}

/// `/hostedzone/Z123` or `Z123` -> `Z123`; anything else is not a zone id.
fn zone_id(raw: &str) -> Option<String> {
    let id = raw.trim().trim_start_matches("/hostedzone/");
    (!id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| id.to_owned())
}

pub fn parse(event: &serde_json::Value) -> Result<Trigger, EventError> {
    let env: Envelope = serde_json::from_value(event.clone()).map_err(|e| {
        // serde's message quotes the offending value; keep it short.
        let mut m = e.to_string();
        m.truncate(200);
        EventError::Malformed(m)
    })?;
    match env.source.as_str() {
        "aws.events" | "aws.scheduler" if env.detail_type == "Scheduled Event" => {
            Ok(Trigger::Schedule)
        }
        "aws.route53" if env.detail_type == "AWS API Call via CloudTrail" => {
            let d = &env.detail;
            let zone = [
                &d["requestParameters"]["hostedZoneId"],
                &d["requestParameters"]["id"],
                &d["responseElements"]["hostedZone"]["id"],
            ]
            .into_iter()
            .find_map(|v| v.as_str().and_then(zone_id));
            Ok(Trigger::Route53Change {
                event_name: d["eventName"]
                    .as_str()
                    .unwrap_or("unknown")
                    .chars()
                    .take(64)
                    .collect(),
                zone_id: zone,
            })
        }
        "zonewarden" => Ok(Trigger::Manual),
        _ => Err(EventError::Unsupported {
            event_source: env.source.chars().take(64).collect(),
            detail_type: env.detail_type.chars().take(64).collect(),
        }),
    }
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
