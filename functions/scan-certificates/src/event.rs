//! The events that start a scan, parsed once into a `Trigger`.

use zw_lambda::event::Envelope;
pub use zw_lambda::event::EventError;

/// Why this scan runs. Every certificate trigger scans every configured
/// region (the ACM certificates and the private CAs): an ACM event for one
/// certificate is a good moment to re-check them all, and a full scan keeps
/// resolution and metrics consistent. The domains schedule scans the domain
/// registrations instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// The EventBridge schedule.
    Schedule,
    /// An ACM event (approaching expiration, expired, renewal action required...).
    Acm { detail_type: String },
    /// An AWS Health event about ACM.
    Health { event_type: String },
    /// Invoked by hand: `{"source": "zonewarden", "detail-type": "Manual Scan"}`.
    Manual,
    /// The daily digest (`DigestSchedule`): no scan, one digest event.
    Digest,
    /// The domains schedule (`DomainsScheduleExpression`): the domain
    /// registrations, not the certificates.
    Domains,
}

impl Trigger {
    pub fn label(&self) -> String {
        match self {
            Self::Schedule => "schedule".into(),
            Self::Acm { detail_type } => format!("aws.acm: {detail_type}"),
            Self::Health { event_type } => format!("aws.health: {event_type}"),
            Self::Manual => "manual".into(),
            Self::Digest => "digest".into(),
            Self::Domains => "domains schedule".into(),
        }
    }

    /// The families this trigger scans: the domain registrations, or the
    /// certificates with the private CAs that issue some of them.
    pub fn families(&self) -> &'static [zw_app::FamilyKind] {
        match self {
            Self::Domains => &[zw_app::FamilyKind::DOMAINS],
            _ => &[
                zw_app::FamilyKind::CERTIFICATES,
                zw_app::FamilyKind::PRIVATE_CA,
            ],
        }
    }
}

/// What this function accepts, for the error of anything else.
const ACCEPTED: &str = "aws.events (schedule), aws.acm, aws.health (service ACM) or zonewarden (manual, digest, domains scan)";

pub fn parse(event: &serde_json::Value) -> Result<Trigger, EventError> {
    let env = Envelope::parse(event)?;
    if env.is_schedule() {
        return Ok(Trigger::Schedule);
    }
    if env.is_digest() {
        return Ok(Trigger::Digest);
    }
    if env.is_domains() {
        return Ok(Trigger::Domains);
    }
    if env.is_manual() {
        return Ok(Trigger::Manual);
    }
    match env.source.as_str() {
        "aws.acm" => Ok(Trigger::Acm {
            detail_type: env.detail_type,
        }),
        "aws.health" if env.detail.get("service").and_then(|s| s.as_str()) == Some("ACM") => {
            Ok(Trigger::Health {
                event_type: env
                    .detail
                    .get("eventTypeCode")
                    .and_then(|s| s.as_str())
                    .unwrap_or("unknown")
                    .chars()
                    .take(64)
                    .collect(),
            })
        }
        _ => Err(env.unsupported(ACCEPTED)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Every sample in events/ parses into the trigger its name says.
    #[test]
    fn every_sample_event_parses() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).expect("events/ exists") {
            let path = entry.expect("entry").path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_owned();
            // The DNS function's own samples are tested there; the finding
            // events are what zonewarden emits, not what starts it (tested in
            // zw-core's notify module); the license function's CloudFormation
            // request is tested there; the organization state machine's
            // steps are tested by scan-account and run-organization; the
            // mail schedule's input by scan-endpoints.
            if name.starts_with("dns-")
                || name.starts_with("zonewarden-")
                || name.starts_with("license-")
                || name.starts_with("org-")
                || name.starts_with("mail-")
            {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("readable");
            let value: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
            // What the handler does: one event, or an SQS batch of them.
            let parsed = zw_lambda::event::Batch::parse(&value, parse);
            if name.starts_with("invalid-") {
                assert!(parsed.is_err(), "{name} should be refused");
            } else {
                let batch = parsed.unwrap_or_else(|e| panic!("{name}: {e}"));
                assert!(batch.refused.is_empty(), "{name}: {batch:?}");
                let expected_prefix = name.split('-').next().unwrap_or_default();
                let label = batch.label(Trigger::label);
                let one = |want: &Trigger| batch.triggers == [want.clone()];
                let matches = match expected_prefix {
                    "schedule" => one(&Trigger::Schedule),
                    "acm" => batch.triggers.len() == 1 && label.starts_with("aws.acm"),
                    "health" => batch.triggers.len() == 1 && label.starts_with("aws.health"),
                    "manual" => one(&Trigger::Manual),
                    "digest" => one(&Trigger::Digest),
                    "domains" => one(&Trigger::Domains),
                    // The event queue's batch: ACM events coalesced into one scan.
                    "sqs" => {
                        batch.triggers.len() == 2
                            && label.starts_with("2 events: aws.acm: ACM Certificate")
                    }
                    _ => false,
                };
                assert!(matches, "{name} parsed as {label}");
            }
            seen += 1;
        }
        assert!(seen >= 6, "expected the samples in events/, found {seen}");
    }

    #[test]
    fn malformed_and_foreign_events_are_refused_with_a_hint() {
        let e = parse(&json!([1, 2])).expect_err("array");
        assert!(e.to_string().contains("events/"), "{e}");
        let e = parse(
            &json!({"source": "aws.ec2", "detail-type": "EC2 Instance State-change Notification"}),
        )
        .expect_err("ec2");
        assert!(matches!(e, EventError::Unsupported { .. }));
        let e = parse(&json!({"source": "aws.health", "detail-type": "AWS Health Event", "detail": {"service": "EC2"}})).expect_err("health ec2");
        assert!(e.to_string().contains("aws.health"), "{e}");
    }
}
