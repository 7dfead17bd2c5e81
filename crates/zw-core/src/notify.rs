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
use crate::severity::Severity;
use serde_json::{Value, json};

/// The `source` of every event.
pub const SOURCE: &str = "zonewarden";
/// EventBridge takes at most 256 KB per event (detail, detail-type, source
/// and the rest of the entry together); the detail is kept below this, which
/// leaves room for the entry's other fields.
pub const MAX_DETAIL_BYTES: usize = 250 * 1024;
/// A trimmed message keeps this many characters.
const MESSAGE_CHARS: usize = crate::finding::MAX_MESSAGE_CHARS;

pub const OPENED: &str = "Zonewarden Finding Opened";
pub const CHANGED: &str = "Zonewarden Finding Changed";
pub const RESOLVED: &str = "Zonewarden Finding Resolved";
/// A finding became covered by a suppression (`crate::triage`). Its other
/// events stay quiet while it is; a Resolved of a suppressed finding
/// carries `suppression` in its detail, which the routes leave out.
pub const SUPPRESSED: &str = "Zonewarden Finding Suppressed";
/// The daily digest: every open finding at or above a severity, in one event.
pub const DIGEST: &str = "Zonewarden Findings Digest";
/// A digest lists at most this many findings (most severe first); the rest
/// are counted.
const DIGEST_MAX_LISTED: usize = 200;

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
        Transition::Opened | Transition::Reopened | Transition::Unsuppressed => OPENED,
        Transition::SeverityChanged { .. } => CHANGED,
        Transition::Resolved => RESOLVED,
        Transition::Suppressed => SUPPRESSED,
    }
}

/// The event of a change, or None for a refresh (no transition).
pub fn event_for(change: &Change, scan_id: &str) -> Option<FindingEvent> {
    let t = change.transition?;
    let f = &change.finding;
    // A suppressed finding's severity changes quietly (the history keeps it).
    if f.state == crate::finding::FindingState::Suppressed && t != Transition::Suppressed {
        return None;
    }
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

/// Names the member account a finding event is about (organization mode:
/// EventBridge's own `account` is the central one that sent it).
pub fn name_account(event: &mut FindingEvent, id: &str, name: &str) {
    // The same finding can exist in two accounts (a shared TLS target, say):
    // the key names the account, so consumers deduplicating on it keep both.
    event.event_key = format!("{id}#{}", event.event_key);
    if let Ok(Value::Object(mut m)) = serde_json::from_str::<Value>(&event.detail) {
        m.insert("account".into(), json!({"id": id, "name": name}));
        m.insert("event_key".into(), json!(event.event_key));
        event.detail = fit(Value::Object(m));
    }
}

/// One event listing every open finding at `min` or above (most severe and
/// oldest first), with counts per severity and a plain-text rendering for
/// e-mail. Sent even when nothing is open: silence would look like a dead
/// scanner.
pub fn digest(open: &[Finding], min: Severity, stack: &str, day: &str) -> FindingEvent {
    // Acknowledged findings are quiet until they change or the
    // acknowledgement ends; suppressed ones are not open.
    let mut listed: Vec<&Finding> = open
        .iter()
        .filter(|f| f.severity >= min && f.acknowledged.is_none())
        .filter(|f| f.state == crate::finding::FindingState::Open)
        .collect();
    listed.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.first_seen.cmp(&b.first_seen))
            .then(a.code.cmp(&b.code))
    });
    let mut counts = serde_json::Map::new();
    for sev in Severity::ALL_DESC.iter().filter(|s| **s >= min) {
        let n = listed.iter().filter(|f| f.severity == *sev).count();
        counts.insert(sev.to_string(), json!(n));
    }
    let total = listed.len();
    let mut lines = vec![format!(
        "zonewarden ({stack}) daily digest {day}: {total} open finding(s) at {min} or above"
    )];
    let mut rows = Vec::new();
    let mut bytes = 0;
    for f in listed.iter().take(DIGEST_MAX_LISTED) {
        let line = format!(
            "{:8} {} {} ({}) since {}: {}",
            f.severity.to_string(),
            f.code.id(),
            f.resource.name,
            f.region,
            f.first_seen.format("%Y-%m-%d"),
            f.message
        );
        // Keep the whole event well inside EventBridge's 256 KB.
        bytes += 2 * line.len() + 512;
        if bytes > MAX_DETAIL_BYTES / 2 {
            break;
        }
        rows.push(json!({
            "severity": f.severity,
            "code": f.code,
            "resource": f.resource,
            "region": f.region,
            "first_seen": f.first_seen,
            "message": f.message,
        }));
        lines.push(line);
    }
    let omitted = total - rows.len();
    if omitted > 0 {
        lines.push(format!(
            "... and {omitted} more (zonewarden findings, or the findings table)"
        ));
    }
    let event_key = format!("digest#{stack}#{day}#{}", min.as_str());
    let detail = json!({
        "stack": stack,
        "day": day,
        "min_severity": min,
        "open": counts,
        "total": total,
        "findings": rows,
        "omitted": omitted,
        "text": lines.join("\n"),
        "event_key": event_key,
    });
    FindingEvent {
        detail_type: DIGEST,
        detail: fit(detail),
        event_key,
    }
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
    let mut marker = crate::finding::truncation_marker(evidence_bytes);
    if let Value::Object(marker) = &mut marker {
        marker.insert(
            "see".into(),
            json!("the finding in the findings table, or `zonewarden findings --format json`"),
        );
    }
    m.insert("evidence".into(), marker);
    let text = Value::Object(m.clone()).to_string();
    if text.len() <= MAX_DETAIL_BYTES {
        return text;
    }
    if let Some(Value::String(msg)) = m.get_mut("message") {
        *msg = crate::finding::truncated_message(std::mem::take(msg), MESSAGE_CHARS);
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
                suppression: None,
                acknowledged: None,
            },
            transition,
            expires_at: None,
            evaluated_at: at,
        }
    }

    #[test]
    fn a_member_accounts_event_names_the_account() {
        let mut e = event_for(&change(Some(Transition::Opened), json!({})), "s-1").expect("event");
        name_account(&mut e, "111122223333", "prod");
        let d: Value = serde_json::from_str(&e.detail).expect("JSON");
        assert_eq!(d["account"], json!({"id": "111122223333", "name": "prod"}));
        assert_eq!(d["scan_id"], "s-1", "the rest of the detail is kept");
        assert!(e.event_key.starts_with("111122223333#"), "{}", e.event_key);
        assert_eq!(d["event_key"], e.event_key.as_str());
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
        let mut suppressed = imported.clone();
        suppressed.version = 2;
        suppressed.transition = Some(Transition::Suppressed);
        suppressed.finding.state = FindingState::Suppressed;
        suppressed.finding.suppression = Some(crate::triage::SuppressedBy {
            id: "s-5e1f0c2a".into(),
            reason: "Owned by the payments team; replaced in PAY-1234".into(),
            until: "2027-01-31T00:00:00Z".parse().expect("time"),
            created_by: "arn:aws:iam::111122223333:user/alice".into(),
        });
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events");
        for (name, c, id) in [
            ("opened", imported, "0d1f6c4e-0000-4000-8000-000000000001"),
            ("changed", changed, "0d1f6c4e-0000-4000-8000-000000000002"),
            ("resolved", resolved, "0d1f6c4e-0000-4000-8000-000000000003"),
            (
                "suppressed",
                suppressed,
                "0d1f6c4e-0000-4000-8000-000000000004",
            ),
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
            // Compared as JSON, not text: key order depends on serde_json's
            // features, which differ between a crate's and the workspace's build.
            let on_disk: Value = std::fs::read_to_string(&path)
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_default();
            assert!(
                on_disk == delivered,
                "{path} is stale: run `ZW_BLESS=1 cargo test -p zw-core notify`"
            );
        }
    }

    #[test]
    fn a_digest_lists_open_findings_at_or_above_the_severity_most_severe_first() {
        let mut findings = Vec::new();
        for (sev, id) in [
            (Severity::Medium, "m"),
            (Severity::Critical, "c"),
            (Severity::High, "h"),
        ] {
            let mut f = change(None, json!({})).finding;
            f.severity = sev;
            f.resource.id = id.into();
            f.resource.name = format!("{id}.example.com");
            findings.push(f);
        }
        let e = digest(&findings, Severity::High, "prod-zw", "2026-11-24");
        assert_eq!(e.detail_type, DIGEST);
        assert_eq!(e.event_key, "digest#prod-zw#2026-11-24#high");
        let d: Value = serde_json::from_str(&e.detail).expect("JSON");
        assert_eq!(d["total"], 2);
        assert_eq!(d["open"], json!({"critical": 1, "high": 1}));
        let names: Vec<&str> = d["findings"]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|f| f["resource"]["name"].as_str())
            .collect();
        assert_eq!(names, ["c.example.com", "h.example.com"]);
        let text = d["text"].as_str().expect("text");
        assert!(text.starts_with("zonewarden (prod-zw) daily digest 2026-11-24: 2 open finding(s) at high or above\ncritical cert.expiring c.example.com"), "{text}");
        // Nothing open is still a digest (silence would look like a dead scanner).
        let none = digest(&[], Severity::High, "prod-zw", "2026-11-24");
        let d: Value = serde_json::from_str(&none.detail).expect("JSON");
        assert_eq!(d["total"], 0);
        // A large estate is cut with a count, within the size limit.
        let many: Vec<Finding> = (0..5_000)
            .map(|i| {
                let mut f = change(None, json!({})).finding;
                f.resource.id = format!("r{i}");
                f.message = "x".repeat(300);
                f
            })
            .collect();
        let big = digest(&many, Severity::High, "prod-zw", "2026-11-24");
        assert!(big.detail.len() <= MAX_DETAIL_BYTES);
        let d: Value = serde_json::from_str(&big.detail).expect("JSON");
        assert!(d["omitted"].as_u64() > Some(4_000), "{}", d["omitted"]);
        assert!(
            d["text"]
                .as_str()
                .is_some_and(|t| t.contains("more (zonewarden findings"))
        );
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
