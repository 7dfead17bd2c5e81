//! Turns one scan's detections into conditional changes to the current
//! findings. Pure: the store applies the plan, and a lost race is re-planned
//! from a fresh read rather than overwritten.
//!
//! ```text
//!  previous (store)      this scan             change        history
//!  ----------------      ---------             ------        -------
//!  none                  detected              put v1        opened
//!  open vN               detected              put vN+1      severity-changed (only if it changed)
//!  resolved vN           detected              put vN+1      reopened
//!  open vN               not detected,
//!                        family+region covered put vN+1      resolved (item gets a TTL)
//!  open vN               region not covered    nothing       -
//!  open vN               not detected, scope
//!                        no longer monitored   put vN+1      resolved (evidence says why)
//!  any, evaluated_at
//!  > now                 anything              nothing       -   (a scan that started later already judged it)
//! ```
//! Every put is conditional on the version it was planned from (or on the item
//! not existing), so two scans at once cannot both open a finding, and
//! "alerts once" holds: each transition is written exactly once.
//!
//! Time never runs backwards: every put records when its scan started
//! (`evaluated_at`, written as `last_evaluated`), a resolve and a refresh
//! included, and a scan that started before the stored `evaluated_at` leaves
//! the item alone. Without it, a scan that collected before a problem was
//! fixed but committed after a later scan resolved it would reopen the
//! finding (an Opened/Resolved pair on every route). `last_seen` alone is not
//! enough: a resolve does not move it. The version condition makes the
//! comparison safe under races (a write in between fails the put, and the
//! re-plan reads the newer `evaluated_at`); the store repeats it in the
//! write's condition.

use crate::catalogue::Check;
use crate::finding::{Detection, Finding, FindingKey, FindingState, Severity, StoredFinding};
use crate::triage::Triage;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The (check, scope) pairs whose collection succeeded in this scan: only
/// those may resolve findings. A scope is whatever unit a family collects by
/// (a region for certificates, a hosted zone id for DNS); see
/// `Detection::scope`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Coverage {
    covered: BTreeSet<(Check, String)>,
    /// Per family (`Check::family`): every scope it still monitors, when the
    /// family could list them all.
    monitored: BTreeMap<&'static str, BTreeSet<String>>,
    /// Resources that exist but could not be read this scan (a certificate
    /// ACM would not describe): their findings stay exactly as they are,
    /// whatever the coverage of their scope says.
    held: BTreeSet<String>,
}

impl Coverage {
    pub fn insert(&mut self, check: Check, scope: impl AsRef<str>) {
        self.covered.insert((check, scope.as_ref().to_owned()));
    }
    pub fn covers(&self, check: Check, scope: &str) -> bool {
        self.covered.contains(&(check, scope.to_owned()))
    }
    pub fn is_empty(&self) -> bool {
        self.covered.is_empty()
    }
    /// Adds everything another family covered.
    pub fn merge(&mut self, other: Coverage) {
        self.covered.extend(other.covered);
        for (family, scopes) in other.monitored {
            self.monitored.entry(family).or_default().extend(scopes);
        }
        self.held.extend(other.held);
    }
    /// Leaves the findings of `resource_id` as they are this scan.
    pub fn hold(&mut self, resource_id: impl AsRef<str>) {
        self.held.insert(resource_id.as_ref().to_owned());
    }
    /// Whether the findings of `resource_id` are left as they are this scan.
    pub fn is_held(&self, resource_id: &str) -> bool {
        self.held.contains(resource_id)
    }
    /// Every scope some check covered.
    pub fn scopes(&self) -> impl Iterator<Item = String> + '_ {
        self.covered.iter().map(|(_, s)| s.clone())
    }
    /// Takes back the coverage of the scopes `paused` names (the license's
    /// pause): their findings are neither resolved nor changed this scan.
    pub fn uncover_scopes(&mut self, paused: impl Fn(&str) -> bool) {
        self.covered.retain(|(_, s)| !paused(s));
    }
    /// `family` listed everything it monitors: these scopes.
    pub fn set_monitored(&mut self, family: &'static str, scopes: BTreeSet<String>) {
        self.monitored.insert(family, scopes);
    }
    /// The check's family listed what it monitors, and `scope` is not in it.
    pub fn no_longer_monitored(&self, check: Check, scope: &str) -> bool {
        self.monitored
            .get(check.family())
            .is_some_and(|scopes| !scopes.contains(scope))
    }
}

/// Why a finding resolved without the problem being seen fixed; kept in its
/// evidence (`resolution`).
pub const NO_LONGER_MONITORED: &str =
    "no longer monitored: its region, zone or certificate left the configuration or the account";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "transition", rename_all = "kebab-case")]
pub enum Transition {
    Opened,
    Reopened,
    Resolved,
    SeverityChanged {
        from: Severity,
    },
    /// Detected and covered by a suppression (first seen so, or newly
    /// covered): one `Zonewarden Finding Suppressed` event.
    Suppressed,
    /// A suppressed finding still detected after its suppression ended or
    /// was removed: the normal Opened event.
    Unsuppressed,
}

impl Transition {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Opened => "opened",
            Self::Reopened => "reopened",
            Self::Resolved => "resolved",
            Self::SeverityChanged { .. } => "severity-changed",
            Self::Suppressed => "suppressed",
            Self::Unsuppressed => "unsuppressed",
        }
    }
}

/// One conditional write of a current finding (plus its history entry).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// `None`: the item must not exist yet.
    pub expected_version: Option<u64>,
    pub version: u64,
    pub finding: Finding,
    pub transition: Option<Transition>,
    /// When the item may be deleted by TTL: set once it is resolved.
    pub expires_at: Option<DateTime<Utc>>,
    /// When the scan that planned it started (`StoredFinding::evaluated_at`
    /// once written).
    pub evaluated_at: DateTime<Utc>,
}

impl Change {
    pub fn key(&self) -> FindingKey {
        self.finding.key()
    }
}

/// `plan_with` when the suppressions are not known: every finding keeps
/// the suppression state it has.
pub fn plan(
    previous: &[StoredFinding],
    detections: &[Detection],
    coverage: &Coverage,
    now: DateTime<Utc>,
    retention_days: u32,
) -> Vec<Change> {
    plan_with(
        previous,
        detections,
        coverage,
        now,
        retention_days,
        &Triage::unknown(),
    )
}

/// The changes of one scan, with `triage`'s suppressions applied:
///
/// ```text
///  previous            detected, covered by a    change of state            event
///                      suppression?
///  none/resolved/open  yes                       -> suppressed              Suppressed
///  suppressed          yes                       stays (severity quietly)   -
///  suppressed          no (ended or removed)     -> open                    Opened (unsuppressed)
///  suppressed          not detected, covered     -> resolved                Resolved, with its suppression
/// ```
/// An acknowledgement carries over while the finding stays open at the same
/// severity and the acknowledgement has not ended.
pub fn plan_with(
    previous: &[StoredFinding],
    detections: &[Detection],
    coverage: &Coverage,
    now: DateTime<Utc>,
    retention_days: u32,
    triage: &Triage,
) -> Vec<Change> {
    let mut changes = plan_states(previous, detections, coverage, now, retention_days);
    let before: BTreeMap<FindingKey, &Finding> = previous
        .iter()
        .map(|p| (p.finding.key(), &p.finding))
        .collect();
    for c in &mut changes {
        let p = before.get(&c.key()).copied();
        if c.finding.state == FindingState::Resolved {
            c.finding.acknowledged = None;
            continue;
        }
        let was_suppressed = p.is_some_and(|p| p.state == FindingState::Suppressed);
        let suppression = if triage.known {
            triage
                .suppression_for(&c.finding, now)
                .map(crate::triage::Suppression::reference)
        } else if was_suppressed {
            p.and_then(|p| p.suppression.clone())
        } else {
            None
        };
        // An acknowledgement lasts while nothing about the finding changed.
        c.finding.acknowledged = p
            .filter(|p| p.state != FindingState::Resolved && c.transition.is_none())
            .and_then(|p| p.acknowledged.clone())
            .filter(|a| a.is_active(now));
        match suppression {
            Some(by) => {
                c.finding.state = FindingState::Suppressed;
                c.finding.suppression = Some(by);
                if !was_suppressed {
                    c.transition = Some(Transition::Suppressed);
                }
            }
            None if was_suppressed => {
                c.transition = Some(Transition::Unsuppressed);
                c.finding.acknowledged = None;
            }
            None => {}
        }
    }
    changes
}

fn plan_states(
    previous: &[StoredFinding],
    detections: &[Detection],
    coverage: &Coverage,
    now: DateTime<Utc>,
    retention_days: u32,
) -> Vec<Change> {
    let previous: BTreeMap<FindingKey, &StoredFinding> =
        previous.iter().map(|p| (p.finding.key(), p)).collect();
    // Should two detections share a key, the most severe speaks.
    let mut current: BTreeMap<FindingKey, &Detection> = BTreeMap::new();
    for d in detections {
        let slot = current.entry(d.key()).or_insert(d);
        if d.severity > slot.severity {
            *slot = d;
        }
    }

    let mut changes = Vec::new();
    for (key, d) in &current {
        let d = (*d).clone();
        match previous.get(key) {
            None => changes.push(Change {
                expected_version: None,
                version: 1,
                finding: Finding::opened(d, now),
                transition: Some(Transition::Opened),
                expires_at: None,
                evaluated_at: now,
            }),
            // A scan that started later already judged it (see the module docs).
            Some(p) if p.evaluated_at > now || p.finding.last_seen > now => {}
            Some(p) => {
                let reopened = p.finding.state == FindingState::Resolved;
                let transition = if reopened {
                    Some(Transition::Reopened)
                } else if p.finding.severity != d.severity {
                    Some(Transition::SeverityChanged {
                        from: p.finding.severity,
                    })
                } else {
                    None
                };
                let first_seen = if reopened { now } else { p.finding.first_seen };
                changes.push(Change {
                    expected_version: Some(p.version),
                    version: p.version + 1,
                    finding: Finding {
                        first_seen,
                        ..Finding::opened(d, now)
                    },
                    transition,
                    expires_at: None,
                    evaluated_at: now,
                });
            }
        }
    }
    for (key, p) in &previous {
        let f = &p.finding;
        let retired = coverage.no_longer_monitored(f.code.check(), &f.scope);
        if current.contains_key(key)
            || f.state == FindingState::Resolved
            || p.evaluated_at > now
            || f.last_seen > now
            || coverage.held.contains(&f.resource.id)
            || !(retired || coverage.covers(f.code.check(), &f.scope))
        {
            continue;
        }
        // Items written before evidence was capped keep it until they resolve.
        let mut evidence =
            crate::finding::capped_evidence(f.evidence.clone(), crate::finding::MAX_EVIDENCE_BYTES);
        if retired && let Some(map) = evidence.as_object_mut() {
            map.insert("resolution".into(), NO_LONGER_MONITORED.into());
        }
        changes.push(Change {
            expected_version: Some(p.version),
            version: p.version + 1,
            finding: Finding {
                state: FindingState::Resolved,
                resolved_at: Some(now),
                evidence,
                message: crate::finding::truncated_message(
                    f.message.clone(),
                    crate::finding::MAX_MESSAGE_CHARS,
                ),
                ..f.clone()
            },
            transition: Some(Transition::Resolved),
            expires_at: Some(now + Duration::days(i64::from(retention_days))),
            evaluated_at: now,
        });
    }
    changes
}

/// How many findings are suppressed once `changes` are applied over
/// `previous`.
pub fn suppressed_after(previous: &[StoredFinding], changes: &[Change]) -> usize {
    let mut all: BTreeMap<FindingKey, FindingState> = previous
        .iter()
        .map(|p| (p.finding.key(), p.finding.state))
        .collect();
    for c in changes {
        all.insert(c.key(), c.finding.state);
    }
    all.values()
        .filter(|s| **s == FindingState::Suppressed)
        .count()
}

/// The open findings once `changes` are applied over `previous`.
pub fn open_after(previous: &[StoredFinding], changes: &[Change]) -> Vec<Finding> {
    let mut all: BTreeMap<FindingKey, Finding> = previous
        .iter()
        .map(|p| (p.finding.key(), p.finding.clone()))
        .collect();
    for c in changes {
        all.insert(c.key(), c.finding.clone());
    }
    all.into_values()
        .filter(|f| f.state == FindingState::Open)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::FindingCode;
    use crate::finding::{Resource, ResourceKind};
    use crate::model::Region;
    use chrono::TimeZone;

    fn t(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, h, 0, 0)
            .single()
            .expect("valid")
    }
    fn region() -> Region {
        Region::parse("eu-west-1").expect("region")
    }
    fn det(arn: &str, code: FindingCode, sev: Severity) -> Detection {
        Detection {
            code,
            severity: sev,
            resource: Resource {
                kind: ResourceKind::AcmCertificate,
                id: arn.into(),
                name: "d".into(),
            },
            region: region(),
            scope: region().to_string(),
            message: "m".into(),
            evidence: serde_json::json!({}),
        }
    }
    fn stored(d: Detection, at: DateTime<Utc>, state: FindingState, version: u64) -> StoredFinding {
        let mut f = Finding::opened(d, at);
        f.state = state;
        StoredFinding {
            finding: f,
            version,
            evaluated_at: at,
        }
    }
    fn covered() -> Coverage {
        let mut c = Coverage::default();
        c.insert(Check::Certificates, region());
        c
    }

    #[test]
    fn new_detection_opens_with_existence_condition() {
        let ch = plan(
            &[],
            &[det("a", FindingCode::CertExpired, Severity::Critical)],
            &covered(),
            t(1),
            90,
        );
        assert_eq!(ch.len(), 1);
        assert_eq!(ch[0].expected_version, None);
        assert_eq!(ch[0].transition, Some(Transition::Opened));
        assert_eq!(ch[0].finding.first_seen, t(1));
    }

    #[test]
    fn seen_again_refreshes_without_a_transition_and_keeps_first_seen() {
        let d = det("a", FindingCode::CertExpiring, Severity::Medium);
        let prev = stored(d.clone(), t(1), FindingState::Open, 4);
        let ch = plan(&[prev], &[d], &covered(), t(2), 90);
        assert_eq!(ch.len(), 1);
        assert_eq!((ch[0].expected_version, ch[0].version), (Some(4), 5));
        assert_eq!(ch[0].transition, None);
        assert_eq!(
            (ch[0].finding.first_seen, ch[0].finding.last_seen),
            (t(1), t(2))
        );
    }

    #[test]
    fn severity_change_is_a_transition() {
        let prev = stored(
            det("a", FindingCode::CertExpiring, Severity::Medium),
            t(1),
            FindingState::Open,
            1,
        );
        let ch = plan(
            &[prev],
            &[det("a", FindingCode::CertExpiring, Severity::High)],
            &covered(),
            t(2),
            90,
        );
        assert_eq!(
            ch[0].transition,
            Some(Transition::SeverityChanged {
                from: Severity::Medium
            })
        );
        assert_eq!(ch[0].finding.severity, Severity::High);
    }

    #[test]
    fn gone_in_a_covered_region_resolves_with_ttl() {
        let prev = stored(
            det("a", FindingCode::CertExpiring, Severity::Medium),
            t(1),
            FindingState::Open,
            2,
        );
        let ch = plan(&[prev], &[], &covered(), t(2), 90);
        assert_eq!(ch.len(), 1);
        assert_eq!(ch[0].transition, Some(Transition::Resolved));
        assert_eq!(ch[0].finding.state, FindingState::Resolved);
        assert_eq!(ch[0].finding.resolved_at, Some(t(2)));
        assert_eq!(ch[0].expires_at, Some(t(2) + Duration::days(90)));
    }

    /// Every code in the catalogue resolves once a scan covered its family and
    /// region without detecting it, and no other coverage resolves it.
    #[test]
    fn every_code_resolves_exactly_when_its_family_was_covered() {
        for code in FindingCode::ALL {
            let prev = stored(
                det("a", code, code.default_severity()),
                t(1),
                FindingState::Open,
                1,
            );
            let mut own = Coverage::default();
            own.insert(code.check(), region());
            let ch = plan(std::slice::from_ref(&prev), &[], &own, t(2), 90);
            assert_eq!(ch.len(), 1, "{code}");
            assert_eq!(ch[0].transition, Some(Transition::Resolved), "{code}");
            let mut other = Coverage::default();
            for check in Check::ALL {
                if check != code.check() {
                    other.insert(check, region());
                }
            }
            other.insert(code.check(), Region::parse("ap-south-1").expect("region"));
            assert!(
                plan(&[prev], &[], &other, t(2), 90).is_empty(),
                "{code} resolved without coverage"
            );
        }
    }

    #[test]
    fn failed_region_or_family_resolves_nothing() {
        let prev = stored(
            det("a", FindingCode::CertExpiring, Severity::Medium),
            t(1),
            FindingState::Open,
            2,
        );
        assert!(
            plan(
                std::slice::from_ref(&prev),
                &[],
                &Coverage::default(),
                t(2),
                90
            )
            .is_empty()
        );
        // Certificates collected but Route 53 failed: validation findings stay.
        let v = stored(
            det(
                "a",
                FindingCode::CertValidationRecordMissing,
                Severity::High,
            ),
            t(1),
            FindingState::Open,
            2,
        );
        assert!(plan(&[v], &[], &covered(), t(2), 90).is_empty());
    }

    #[test]
    fn resolved_then_seen_again_reopens_with_new_first_seen() {
        let prev = stored(
            det("a", FindingCode::CertUnused, Severity::Info),
            t(1),
            FindingState::Resolved,
            3,
        );
        let ch = plan(
            &[prev],
            &[det("a", FindingCode::CertUnused, Severity::Info)],
            &covered(),
            t(5),
            90,
        );
        assert_eq!(ch[0].transition, Some(Transition::Reopened));
        assert_eq!(ch[0].finding.first_seen, t(5));
        assert_eq!(ch[0].finding.resolved_at, None);
        // Resolved and still absent: nothing to write.
        let prev = stored(
            det("b", FindingCode::CertUnused, Severity::Info),
            t(1),
            FindingState::Resolved,
            3,
        );
        assert!(plan(&[prev], &[], &covered(), t(5), 90).is_empty());
    }

    #[test]
    fn an_older_scan_never_overwrites_a_newer_one() {
        let prev = stored(
            det("a", FindingCode::CertExpiring, Severity::High),
            t(5),
            FindingState::Open,
            7,
        );
        assert!(
            plan(
                std::slice::from_ref(&prev),
                &[det("a", FindingCode::CertExpiring, Severity::Medium)],
                &covered(),
                t(4),
                90
            )
            .is_empty()
        );
        assert!(plan(&[prev], &[], &covered(), t(4), 90).is_empty());
    }

    /// The store after `changes` (what a commit leaves for the next reader).
    fn apply(previous: &[StoredFinding], changes: &[Change]) -> Vec<StoredFinding> {
        let mut all: BTreeMap<FindingKey, StoredFinding> = previous
            .iter()
            .map(|p| (p.finding.key(), p.clone()))
            .collect();
        for c in changes {
            all.insert(
                c.key(),
                StoredFinding {
                    finding: c.finding.clone(),
                    version: c.version,
                    evaluated_at: c.evaluated_at,
                },
            );
        }
        all.into_values().collect()
    }

    /// Two overlapping scans: A started at t(3), B at t(4), and B committed
    /// first. Whatever transition B wrote, A (whose observations are older)
    /// plans nothing over it, whether A saw the problem (at any severity) or
    /// not.
    #[test]
    fn an_earlier_scan_never_undoes_a_later_scans_transition() {
        let key = "a";
        let code = FindingCode::CertExpiring;
        let medium = det(key, code, Severity::Medium);
        let high = det(key, code, Severity::High);
        let open_t1 = stored(medium.clone(), t(1), FindingState::Open, 1);
        // Resolved by a scan at t(2): last_seen stays t(1).
        let resolved_t2 = apply(
            std::slice::from_ref(&open_t1),
            &plan(std::slice::from_ref(&open_t1), &[], &covered(), t(2), 90),
        );
        let cases: [(&str, Vec<StoredFinding>, Vec<Detection>, Transition); 4] = [
            ("open", vec![], vec![medium.clone()], Transition::Opened),
            (
                "resolve",
                vec![open_t1.clone()],
                vec![],
                Transition::Resolved,
            ),
            (
                "severity change",
                vec![open_t1.clone()],
                vec![high.clone()],
                Transition::SeverityChanged {
                    from: Severity::Medium,
                },
            ),
            (
                "reopen",
                resolved_t2,
                vec![medium.clone()],
                Transition::Reopened,
            ),
        ];
        for (name, before, b_saw, transition) in cases {
            let b = plan(&before, &b_saw, &covered(), t(4), 90);
            assert_eq!(b.len(), 1, "{name}: {b:?}");
            assert_eq!(b[0].transition, Some(transition), "{name}");
            assert_eq!(b[0].evaluated_at, t(4), "{name}");
            let after_b = apply(&before, &b);
            for a_saw in [vec![], vec![medium.clone()], vec![high.clone()]] {
                let a = plan(&after_b, &a_saw, &covered(), t(3), 90);
                assert!(a.is_empty(), "{name}: A saw {a_saw:?} and planned {a:?}");
            }
        }
    }

    /// The reported bug: B resolves, then A (which collected before the fix)
    /// commits. `last_seen` is older than A, so only `evaluated_at` stops A.
    #[test]
    fn an_earlier_scan_does_not_reopen_what_a_later_scan_resolved() {
        let prev = stored(
            det("a", FindingCode::CertExpiring, Severity::Medium),
            t(1),
            FindingState::Open,
            1,
        );
        let b = plan(std::slice::from_ref(&prev), &[], &covered(), t(4), 90);
        let after_b = apply(&[prev], &b);
        assert_eq!(after_b[0].finding.last_seen, t(1));
        let a = plan(
            &after_b,
            &[det("a", FindingCode::CertExpiring, Severity::Medium)],
            &covered(),
            t(3),
            90,
        );
        assert!(a.is_empty(), "{a:?}");
        // A scan after B reopens it as usual.
        let c = plan(
            &after_b,
            &[det("a", FindingCode::CertExpiring, Severity::Medium)],
            &covered(),
            t(5),
            90,
        );
        assert_eq!(c[0].transition, Some(Transition::Reopened));
    }

    /// Items written before `evaluated_at` existed are judged by their
    /// resolve time (or last sighting).
    #[test]
    fn items_without_evaluated_at_compare_by_their_resolve_time() {
        let mut f = Finding::opened(det("a", FindingCode::CertUnused, Severity::Info), t(1));
        f.state = FindingState::Resolved;
        f.resolved_at = Some(t(4));
        let legacy = StoredFinding::without_evaluated_at(f, 2);
        assert_eq!(legacy.evaluated_at, t(4));
        let seen = [det("a", FindingCode::CertUnused, Severity::Info)];
        assert!(plan(std::slice::from_ref(&legacy), &seen, &covered(), t(3), 90).is_empty());
        assert_eq!(
            plan(&[legacy], &seen, &covered(), t(5), 90)[0].transition,
            Some(Transition::Reopened)
        );
    }

    /// What a later scan did not judge (its region failed) is still the
    /// earlier scan's to write.
    #[test]
    fn an_earlier_scan_still_writes_what_no_later_scan_judged() {
        let prev = stored(
            det("a", FindingCode::CertExpiring, Severity::Medium),
            t(1),
            FindingState::Open,
            1,
        );
        let b = plan(
            std::slice::from_ref(&prev),
            &[],
            &Coverage::default(),
            t(4),
            90,
        );
        assert!(b.is_empty());
        let a = plan(&[prev], &[], &covered(), t(3), 90);
        assert_eq!(a[0].transition, Some(Transition::Resolved));
        assert_eq!(a[0].evaluated_at, t(3));
    }

    #[test]
    fn resolving_caps_evidence_written_before_the_cap() {
        let mut d = det("a", FindingCode::CertExpiring, Severity::Medium);
        d.evidence = serde_json::json!({"names": "n".repeat(200 * 1024), "host": "h"});
        let mut prev = stored(d, t(1), FindingState::Open, 1);
        // As an older version stored it: uncapped.
        prev.finding.evidence = serde_json::json!({"names": "n".repeat(200 * 1024), "host": "h"});
        prev.finding.message = "m".repeat(10_000);
        let ch = plan(&[prev], &[], &covered(), t(2), 90);
        let f = &ch[0].finding;
        assert!(f.evidence.to_string().len() <= crate::finding::MAX_EVIDENCE_BYTES);
        assert_eq!(f.evidence["names"]["truncated"], true);
        assert_eq!(f.evidence["host"], "h");
        assert!(f.message.ends_with(crate::finding::TRUNCATED_SUFFIX));
    }

    fn acked(sev: Severity, until: Option<DateTime<Utc>>) -> StoredFinding {
        let mut p = stored(
            det("a", FindingCode::CertExpiring, sev),
            t(1),
            FindingState::Open,
            3,
        );
        p.finding.acknowledged = Some(crate::triage::Acknowledgement {
            by: "arn:aws:iam::111122223333:user/bob".into(),
            at: t(1),
            reason: "renewing".into(),
            until,
        });
        p
    }

    /// An acknowledgement lasts while nothing changes; a severity change,
    /// its end and the resolve each clear it.
    #[test]
    fn an_acknowledgement_lasts_until_the_finding_changes_ends_or_resolves() {
        let same = [det("a", FindingCode::CertExpiring, Severity::Medium)];
        let refresh = plan(
            &[acked(Severity::Medium, None)],
            &same,
            &covered(),
            t(2),
            90,
        );
        assert_eq!(refresh[0].transition, None);
        assert!(refresh[0].finding.acknowledged.is_some());
        let worse = [det("a", FindingCode::CertExpiring, Severity::High)];
        let changed = plan(
            &[acked(Severity::Medium, None)],
            &worse,
            &covered(),
            t(2),
            90,
        );
        assert!(matches!(
            changed[0].transition,
            Some(Transition::SeverityChanged { .. })
        ));
        assert_eq!(changed[0].finding.acknowledged, None);
        let ended = plan(
            &[acked(Severity::Medium, Some(t(2)))],
            &same,
            &covered(),
            t(3),
            90,
        );
        assert_eq!(ended[0].finding.acknowledged, None);
        let gone = plan(&[acked(Severity::Medium, None)], &[], &covered(), t(2), 90);
        assert_eq!(gone[0].transition, Some(Transition::Resolved));
        assert_eq!(gone[0].finding.acknowledged, None);
    }

    #[test]
    fn open_after_merges_changes_over_previous() {
        let keep = stored(
            det("keep", FindingCode::CertExpiring, Severity::Medium),
            t(1),
            FindingState::Open,
            1,
        );
        let gone = stored(
            det("gone", FindingCode::CertUnused, Severity::Info),
            t(1),
            FindingState::Open,
            1,
        );
        let mut cov = Coverage::default();
        cov.insert(Check::Certificates, region());
        let ch = plan(
            std::slice::from_ref(&gone),
            &[det("new", FindingCode::CertExpired, Severity::Critical)],
            &cov,
            t(2),
            90,
        );
        let open: Vec<String> = open_after(&[keep, gone], &ch)
            .into_iter()
            .map(|f| f.resource.id)
            .collect();
        assert_eq!(open, ["keep", "new"]);
    }
}
