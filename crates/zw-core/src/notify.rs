//! Finding events: one EventBridge event per transition a commit applied
//! (opened, severity changed, resolved; never for a refresh), so that people
//! learn which finding changed where they already look. Schema:
//! `docs/events.md`; samples: `events/zonewarden-finding-*.json`.
//!
//! Delivery is at least once and never silent: each transition is written to
//! the table's outbox in the same transaction as the finding, and leaves it
//! only once EventBridge took the event. What cannot be sent stays there and
//! is sent by the next scan (a scan error says so). Consumers deduplicate on
//! `event_key`, which is stable per finding, transition and version.

use crate::finding::Finding;
use crate::reconcile::{Change, Transition};
use serde_json::{Value, json};

/// The `source` of every event.
pub const SOURCE: &str = "zonewarden";
/// EventBridge takes at most 256 KB per event (detail, detail-type, source
/// and the rest of the entry together); the detail is kept below this, which
/// leaves room for the entry's other fields.
pub const MAX_DETAIL_BYTES: usize = 250 * 1024;
/// A trimmed message keeps this many characters.
const MESSAGE_CHARS: usize = 2_000;

pub const OPENED: &str = "Zonewarden Finding Opened";
pub const CHANGED: &str = "Zonewarden Finding Changed";
pub const RESOLVED: &str = "Zonewarden Finding Resolved";

/// One event, ready for `PutEvents`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingEvent {
    pub detail_type: &'static str,
    /// The detail as JSON text (at most `MAX_DETAIL_BYTES`).
    pub detail: String,
    /// Finding key + transition + version: the same for every delivery of
    /// the same transition, different for any other.
    pub event_key: String,
}

/// An event waiting in the outbox, under its outbox id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEvent {
    pub id: String,
    pub event: FindingEvent,
}

fn detail_type(t: Transition) -> &'static str {
    match t {
        Transition::Opened | Transition::Reopened => OPENED,
        Transition::SeverityChanged { .. } => CHANGED,
        Transition::Resolved => RESOLVED,
    }
}

/// The event of a change, or None for a refresh (no transition).
pub fn event_for(change: &Change, scan_id: &str) -> Option<FindingEvent> {
    let t = change.transition?;
    let f = &change.finding;
    let event_key = format!(
        "{}#{}#{}#v{}",
        f.code.id(),
        f.resource.id,
        t.as_str(),
        change.version
    );
    let previous_severity = match t {
        Transition::SeverityChanged { from } => Some(from),
        _ => None,
    };
    let mut detail = detail_of(f);
    if let Value::Object(m) = &mut detail {
        m.insert("transition".into(), json!(t.as_str()));
        if let Some(from) = previous_severity {
            m.insert("previous_severity".into(), json!(from));
        }
        m.insert("version".into(), json!(change.version));
        m.insert("scan_id".into(), json!(scan_id));
        m.insert("event_key".into(), json!(event_key));
        m.insert(
            "docs".into(),
            json!(format!("docs/findings.md#{}", f.code.id().replace('.', ""))),
        );
    }
    Some(FindingEvent {
        detail_type: detail_type(t),
        detail: fit(detail),
        event_key,
    })
}

/// The finding as in the JSON output.
fn detail_of(f: &Finding) -> Value {
    serde_json::to_value(f).unwrap_or_else(|e| json!({"encoding_error": e.to_string()}))
}

/// The detail as text, within `MAX_DETAIL_BYTES`: oversized evidence is
/// replaced by a marker saying how large it was, then the message is cut,
/// then only the finding's identity is kept.
fn fit(detail: Value) -> String {
    let text = detail.to_string();
    if text.len() <= MAX_DETAIL_BYTES {
        return text;
    }
    let Value::Object(mut m) = detail else {
        return json!({"truncated": true, "original_bytes": text.len()}).to_string();
    };
    let evidence_bytes = m.get("evidence").map_or(0, |e| e.to_string().len());
    m.insert(
        "evidence".into(),
        json!({"truncated": true, "original_bytes": evidence_bytes, "see": "the finding in the findings table, or `zonewarden findings --format json`"}),
    );
    let text = Value::Object(m.clone()).to_string();
    if text.len() <= MAX_DETAIL_BYTES {
        return text;
    }
    if let Some(Value::String(msg)) = m.get_mut("message") {
        let mut cut: String = msg.chars().take(MESSAGE_CHARS).collect();
        cut.push_str("… (truncated)");
        *msg = cut;
    }
    let text = Value::Object(m.clone()).to_string();
    if text.len() <= MAX_DETAIL_BYTES {
        return text;
    }
    // Only the resource's own names can still be that large: keep the
    // identity a consumer needs, drop the rest.
    let keep = [
        "code",
        "severity",
        "region",
        "state",
        "transition",
        "version",
        "scan_id",
        "event_key",
        "docs",
    ];
    m.retain(|k, _| keep.contains(&k.as_str()));
    m.insert("truncated".into(), json!(true));
    let text = Value::Object(m).to_string();
    if text.len() <= MAX_DETAIL_BYTES {
        text
    } else {
        // An absurd resource id in the event key: still never above the limit.
        json!({"truncated": true, "original_bytes": text.len()}).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::FindingCode;
    use crate::finding::{FindingState, Resource, ResourceKind};
    use crate::model::Region;
    use crate::severity::Severity;
    use chrono::{TimeZone, Utc};

    fn change(transition: Option<Transition>, evidence: Value) -> Change {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 23, 10, 0, 0)
            .single()
            .expect("valid");
        Change {
            expected_version: Some(2),
            version: 3,
            finding: Finding {
                code: FindingCode::CertExpiring,
                severity: Severity::High,
                resource: Resource {
                    kind: ResourceKind::AcmCertificate,
                    id: "arn:aws:acm:eu-west-1:111122223333:certificate/abc".into(),
                    name: "shop.example.com".into(),
                },
                region: Region::parse("eu-west-1").expect("region"),
                scope: "eu-west-1".into(),
                message: "Certificate for shop.example.com expires in 12 days".into(),
                evidence,
                first_seen: at,
                last_seen: at,
                state: FindingState::Open,
                resolved_at: None,
            },
            transition,
            expires_at: None,
        }
    }

    #[test]
    fn each_transition_has_its_detail_type_and_a_stable_key() {
        let cases = [
            (Transition::Opened, OPENED, "opened"),
            (Transition::Reopened, OPENED, "reopened"),
            (
                Transition::SeverityChanged {
                    from: Severity::Medium,
                },
                CHANGED,
                "severity-changed",
            ),
            (Transition::Resolved, RESOLVED, "resolved"),
        ];
        for (t, detail_type, name) in cases {
            let e = event_for(&change(Some(t), json!({"days_left": 12})), "s-1").expect("event");
            assert_eq!(e.detail_type, detail_type);
            assert_eq!(
                e.event_key,
                format!(
                    "cert.expiring#arn:aws:acm:eu-west-1:111122223333:certificate/abc#{name}#v3"
                )
            );
            let d: Value = serde_json::from_str(&e.detail).expect("JSON");
            assert_eq!(d["transition"], name);
            assert_eq!(d["code"], "cert.expiring");
            assert_eq!(d["severity"], "high");
            assert_eq!(d["scan_id"], "s-1");
            assert_eq!(d["event_key"], e.event_key.as_str());
            assert_eq!(d["evidence"]["days_left"], 12);
            assert_eq!(d["resource"]["name"], "shop.example.com");
            assert_eq!(
                d["previous_severity"].as_str(),
                (name == "severity-changed").then_some("medium")
            );
            // The same change always gives the same event.
            assert_eq!(
                event_for(&change(Some(t), json!({"days_left": 12})), "s-1"),
                Some(e)
            );
        }
        assert!(
            event_for(&change(None, json!({})), "s-1").is_none(),
            "a refresh is silent"
        );
    }

    /// `events/zonewarden-finding-*.json` are what EventBridge delivers for
    /// these events (the envelope around our detail); a stale sample fails
    /// here: `ZW_BLESS=1 cargo test -p zw-core notify` rewrites them.
    #[test]
    fn the_sample_events_match_the_code() {
        let mut imported = change(
            Some(Transition::Opened),
            json!({"not_after": "2026-11-28T10:00:00Z", "days_left": 5, "type": "imported", "status": "ISSUED", "in_use_by": []}),
        );
        imported.version = 1;
        imported.expected_version = None;
        imported.finding.code = FindingCode::CertImportedExpiring;
        imported.finding.severity = Severity::Critical;
        imported.finding.message = "Imported certificate for shop.example.com expires in 5 days (2026-11-28); ACM never renews imported certificates".into();
        let mut changed = imported.clone();
        changed.version = 2;
        changed.transition = Some(Transition::SeverityChanged {
            from: Severity::High,
        });
        let mut resolved = imported.clone();
        resolved.version = 3;
        resolved.transition = Some(Transition::Resolved);
        resolved.finding.state = FindingState::Resolved;
        resolved.finding.resolved_at = Some(resolved.finding.last_seen);
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events");
        for (name, c, id) in [
            ("opened", imported, "0d1f6c4e-0000-4000-8000-000000000001"),
            ("changed", changed, "0d1f6c4e-0000-4000-8000-000000000002"),
            ("resolved", resolved, "0d1f6c4e-0000-4000-8000-000000000003"),
        ] {
            let e = event_for(&c, "lambda-8f0c2a51-0c0e-4b43-9c3e-1f2a3b4c5d6e").expect("event");
            let delivered = json!({
                "version": "0",
                "id": id,
                "detail-type": e.detail_type,
                "source": SOURCE,
                "account": "111122223333",
                "time": "2026-11-23T10:00:05Z",
                "region": "eu-west-1",
                "resources": [],
                "detail": serde_json::from_str::<Value>(&e.detail).expect("JSON"),
            });
            let text = serde_json::to_string_pretty(&delivered).expect("JSON") + "\n";
            let path = format!("{dir}/zonewarden-finding-{name}.json");
            if std::env::var_os("ZW_BLESS").is_some() {
                std::fs::write(&path, &text).expect("write sample");
            }
            let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                on_disk == text,
                "{path} is stale: run `ZW_BLESS=1 cargo test -p zw-core notify`"
            );
        }
    }

    #[test]
    fn oversized_evidence_is_replaced_by_a_marker_within_the_limit() {
        let huge = json!({"records": "x".repeat(400 * 1024)});
        let e = event_for(&change(Some(Transition::Opened), huge), "s").expect("event");
        assert!(e.detail.len() <= MAX_DETAIL_BYTES, "{}", e.detail.len());
        let d: Value = serde_json::from_str(&e.detail).expect("JSON");
        assert_eq!(d["evidence"]["truncated"], true);
        assert!(d["evidence"]["original_bytes"].as_u64() > Some(400 * 1024));
        assert_eq!(d["code"], "cert.expiring", "the identity stays");
        let mut long = change(Some(Transition::Opened), json!({}));
        long.finding.message = "m".repeat(300 * 1024);
        let e = event_for(&long, "s").expect("event");
        assert!(e.detail.len() <= MAX_DETAIL_BYTES);
        let d: Value = serde_json::from_str(&e.detail).expect("JSON");
        assert!(
            d["message"]
                .as_str()
                .is_some_and(|m| m.ends_with("(truncated)"))
        );
    }
}
