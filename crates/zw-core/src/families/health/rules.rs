//! Route 53 health check rules. Pure: the checks, their checkers'
//! observations, our status history, the alarms and the zones' record sets
//! come in; detections go out.

use super::config::HealthConfig;
use crate::catalogue::FindingCode;
use crate::families::dns::model::FailoverRole;
use crate::families::dns::rules::record_resource;
use crate::families::health::model::{
    CheckerObservation, HealthAlarms, HealthCheck, StatusHistory, healthy_from,
};
use crate::finding::{Detection, Resource, ResourceKind};
use crate::model::{HostedZone, RecordSet, Region};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

/// Scope of the findings about health checks themselves (one listing).
pub const SCOPE: &str = "global";

/// Route 53 needs at least this many checker regions to be trusted.
pub const MIN_REGIONS: usize = 3;

pub fn resource(check: &HealthCheck) -> Resource {
    Resource {
        kind: ResourceKind::Route53HealthCheck,
        id: check.id.clone(),
        name: check.display_name(),
    }
}

fn detection(
    check: &HealthCheck,
    code: FindingCode,
    message: String,
    mut evidence: serde_json::Value,
) -> Detection {
    // The check's tags travel with its findings: suppressions match on them.
    if !check.tags.is_empty()
        && let Some(map) = evidence.as_object_mut()
    {
        map.insert("tags".into(), json!(check.tags));
    }
    Detection {
        code,
        severity: code.default_severity(),
        resource: resource(check),
        region: Region::global(),
        scope: SCOPE.to_owned(),
        message,
        evidence,
    }
}

/// Whether Route 53 considers each check healthy, as far as can be told:
/// checkers' observations, then calculated checks from their children.
/// Disabled checks are healthy; inversion flips the endpoint's result.
pub fn effective_health(
    checks: &[HealthCheck],
    observations: &BTreeMap<String, Vec<CheckerObservation>>,
) -> BTreeMap<String, bool> {
    let mut health = BTreeMap::new();
    for c in checks.iter().filter(|c| c.has_checkers()) {
        let raw = if c.disabled {
            Some(true)
        } else {
            observations.get(&c.id).and_then(|o| healthy_from(o))
        };
        if let Some(h) = raw {
            health.insert(c.id.clone(), h != (c.inverted && !c.disabled));
        }
    }
    for c in checks.iter().filter(|c| c.kind == "CALCULATED") {
        if c.disabled {
            health.insert(c.id.clone(), true);
            continue;
        }
        let known: Vec<bool> = c
            .children
            .iter()
            .filter_map(|id| health.get(id).copied())
            .collect();
        if known.len() != c.children.len() {
            continue;
        }
        let healthy_children = known.iter().filter(|h| **h).count();
        let threshold = usize::try_from(c.health_threshold.unwrap_or(1).max(0)).unwrap_or(0);
        health.insert(c.id.clone(), (healthy_children >= threshold) != c.inverted);
    }
    health
}

/// `health.unhealthy`, `health.disabled`, `health.inverted`,
/// `health.few-regions`.
pub fn status(
    checks: &[HealthCheck],
    observations: &BTreeMap<String, Vec<CheckerObservation>>,
) -> Vec<Detection> {
    let health = effective_health(checks, observations);
    let mut out = Vec::new();
    for c in checks {
        let seen = observations
            .get(&c.id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        if c.disabled {
            out.push(detection(
                c,
                FindingCode::HealthDisabled,
                format!(
                    "health check {} ({}) is disabled: Route 53 considers it healthy whatever the endpoint does",
                    c.id,
                    c.display_name()
                ),
                json!({"target": c.target, "type": c.kind}),
            ));
        }
        if c.inverted {
            out.push(detection(
                c,
                FindingCode::HealthInverted,
                format!(
                    "health check {} ({}) is inverted: it reports healthy when the endpoint fails",
                    c.id,
                    c.display_name()
                ),
                json!({"target": c.target, "type": c.kind}),
            ));
        }
        if health.get(&c.id) == Some(&false) {
            let failing: Vec<serde_json::Value> = seen
                .iter()
                .filter(|o| !o.is_success())
                .map(|o| json!({"region": o.region, "checker_ip": o.ip, "status": o.status}))
                .collect();
            let healthy_checkers = seen.iter().filter(|o| o.is_success()).count();
            let regions: BTreeSet<&str> = seen
                .iter()
                .filter(|o| !o.is_success())
                .filter_map(|o| o.region.as_deref())
                .collect();
            let reason = match seen.iter().find(|o| !o.is_success()) {
                Some(o) => o.status.clone(),
                None if c.inverted => {
                    "it is inverted and the endpoint succeeds, so Route 53 reports it unhealthy"
                        .to_owned()
                }
                None => "too few of its children are healthy".to_owned(),
            };
            out.push(detection(
                c,
                FindingCode::HealthUnhealthy,
                format!(
                    "health check {} ({}) is unhealthy: {} of {} checkers fail{}: {reason}",
                    c.id,
                    c.display_name(),
                    seen.len() - healthy_checkers,
                    seen.len(),
                    if regions.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " (in {})",
                            regions.into_iter().collect::<Vec<_>>().join(", ")
                        )
                    }
                ),
                json!({
                    "target": c.target,
                    "type": c.kind,
                    "failing_regions": failing,
                    "healthy_checkers": healthy_checkers,
                    "checkers": seen.len(),
                    "children": c.children,
                }),
            ));
        }
        if c.has_checkers() && !c.disabled {
            let observed: BTreeSet<&str> =
                seen.iter().filter_map(|o| o.region.as_deref()).collect();
            let configured_few = !c.regions.is_empty() && c.regions.len() < MIN_REGIONS;
            let observed_few = !seen.is_empty() && observed.len() < MIN_REGIONS;
            if configured_few || observed_few {
                out.push(detection(
                    c,
                    FindingCode::HealthFewRegions,
                    format!(
                        "health check {} ({}) is decided by fewer than {MIN_REGIONS} checker regions ({} configured, {} reporting)",
                        c.id,
                        c.display_name(),
                        if c.regions.is_empty() {
                            "all".to_owned()
                        } else {
                            c.regions.len().to_string()
                        },
                        observed.len()
                    ),
                    json!({"configured_regions": c.regions, "observed_regions": observed}),
                ));
            }
        }
    }
    out
}

/// `health.flapping`, from the history as updated by this scan.
pub fn flapping(
    checks: &[HealthCheck],
    history: &BTreeMap<String, StatusHistory>,
    cfg: &HealthConfig,
    now: DateTime<Utc>,
) -> Vec<Detection> {
    let window = Duration::minutes(i64::from(cfg.flap_window_minutes));
    let mut out = Vec::new();
    for c in checks {
        let Some(h) = history.get(&c.id) else {
            continue;
        };
        let n = h.transitions_within(now, window);
        if n >= cfg.flap_transitions as usize {
            let changed: Vec<&DateTime<Utc>> = h
                .transitions
                .iter()
                .filter(|t| now - **t <= window)
                .collect();
            out.push(detection(
                c,
                FindingCode::HealthFlapping,
                format!(
                    "health check {} ({}) changed status {n} times in the last {} minutes",
                    c.id,
                    c.display_name(),
                    cfg.flap_window_minutes
                ),
                json!({"transitions": n, "window_minutes": cfg.flap_window_minutes, "changed_at": changed}),
            ));
        }
    }
    out
}

/// `health.orphaned` and `health.no-alarm`: what refers to each check.
pub fn references(
    checks: &[HealthCheck],
    zones: &[(HostedZone, Vec<RecordSet>)],
    alarms: &HealthAlarms,
) -> Vec<Detection> {
    let mut used_by_records: BTreeSet<&str> = BTreeSet::new();
    for (_, sets) in zones {
        used_by_records.extend(sets.iter().filter_map(|r| r.health_check_id.as_deref()));
    }
    let mut parents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for c in checks {
        for child in &c.children {
            parents
                .entry(child.as_str())
                .or_default()
                .push(c.id.as_str());
        }
    }
    let alarmed = |id: &str| {
        alarms
            .by_health_check
            .get(id)
            .is_some_and(|a| !a.is_empty())
    };
    let mut out = Vec::new();
    for c in checks {
        let id = c.id.as_str();
        let in_records = used_by_records.contains(id);
        let my_parents = parents.get(id).cloned().unwrap_or_default();
        if !in_records && my_parents.is_empty() && !alarmed(id) {
            out.push(detection(
                c,
                FindingCode::HealthOrphaned,
                format!(
                    "health check {id} ({}) is used by no record set, calculated health check or alarm, and is billed every month",
                    c.display_name()
                ),
                json!({"target": c.target, "type": c.kind}),
            ));
            continue;
        }
        // A child whose calculated parent is alarmed is watched through it.
        let watched_through_parent = my_parents.iter().any(|p| alarmed(p));
        if !alarmed(id) && !watched_through_parent {
            out.push(detection(
                c,
                FindingCode::HealthNoAlarm,
                format!(
                    "no CloudWatch alarm in us-east-1 watches health check {id} ({}): a failover it causes goes unnoticed",
                    c.display_name()
                ),
                json!({"target": c.target, "type": c.kind, "used_by_records": in_records, "parents": my_parents}),
            ));
        }
    }
    out
}

/// `health.failover-unprotected`: a primary that can never fail over.
pub fn failover(zone: &HostedZone, sets: &[RecordSet]) -> Vec<Detection> {
    let mut out = Vec::new();
    for r in sets {
        if r.failover != Some(FailoverRole::Primary) || r.health_check_id.is_some() {
            continue;
        }
        if r.alias.as_ref().is_some_and(|a| a.evaluate_target_health) {
            continue;
        }
        let resource = record_resource(zone, &r.name, &r.record_type, r.set_identifier.as_deref());
        let what = if r.alias.is_some() {
            "an alias without EvaluateTargetHealth"
        } else {
            "no health check"
        };
        out.push(Detection {
            code: FindingCode::HealthFailoverUnprotected,
            severity: FindingCode::HealthFailoverUnprotected.default_severity(),
            resource,
            region: Region::global(),
            scope: zone.id.clone(),
            message: format!(
                "failover primary {} {} in {} has {what}: Route 53 never fails over to its secondary",
                r.name, r.record_type, zone.name
            ),
            evidence: json!({
                "name": r.name,
                "type": r.record_type,
                "set_identifier": r.set_identifier,
                "alias_target": r.alias.as_ref().map(|a| &a.dns_name),
            }),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::families::dns::model::{AliasTarget, RoutingPolicy};
    use chrono::TimeZone;

    fn check(id: &str) -> HealthCheck {
        HealthCheck {
            id: id.into(),
            kind: "HTTPS".into(),
            target: format!("https://{id}.example.com:443/"),
            ..HealthCheck::default()
        }
    }

    fn obs(region: &str, status: &str) -> CheckerObservation {
        CheckerObservation {
            region: Some(region.into()),
            ip: Some("192.0.2.1".into()),
            status: status.into(),
            checked_at: None,
        }
    }

    fn codes(d: &[Detection]) -> Vec<(&str, &'static str)> {
        d.iter()
            .map(|d| (d.resource.id.as_str(), d.code.id()))
            .collect()
    }

    /// A check's tags ride on its findings, so that a suppression can match
    /// `--tag`; a check without tags adds nothing.
    #[test]
    fn findings_carry_the_checks_tags() {
        let mut tagged = check("t");
        tagged.disabled = true;
        tagged.tags.insert("team".into(), "platform".into());
        let mut plain = check("p");
        plain.disabled = true;
        let d = status(&[tagged, plain], &BTreeMap::new());
        assert_eq!(d.len(), 2, "{d:?}");
        assert_eq!(d[0].evidence["tags"]["team"], "platform");
        assert!(d[1].evidence.get("tags").is_none());
    }

    const OK: &str = "Success: HTTP Status Code 200, OK";
    const FAIL: &str =
        "Failure: Connection timed out. The endpoint or the internet connection is down.";

    fn eight(failing: usize) -> Vec<CheckerObservation> {
        [
            "us-east-1",
            "us-west-1",
            "us-west-2",
            "eu-west-1",
            "ap-southeast-1",
            "ap-southeast-2",
            "ap-northeast-1",
            "sa-east-1",
        ]
        .iter()
        .enumerate()
        .map(|(i, r)| obs(r, if i < failing { FAIL } else { OK }))
        .collect()
    }

    #[test]
    fn unhealthy_when_at_most_18_percent_of_checkers_succeed_naming_the_failing_regions() {
        let checks = vec![check("a"), check("b")];
        let mut o = BTreeMap::new();
        o.insert("a".to_owned(), eight(7)); // 1 of 8 = 12.5% healthy
        o.insert("b".to_owned(), eight(6)); // 2 of 8 = 25% healthy
        let d = status(&checks, &o);
        assert_eq!(codes(&d), vec![("a", "health.unhealthy")]);
        assert!(
            d[0].message.contains("7 of 8 checkers fail"),
            "{}",
            d[0].message
        );
        assert!(d[0].message.contains("eu-west-1"), "{}", d[0].message);
        assert_eq!(
            d[0].evidence["failing_regions"].as_array().map(Vec::len),
            Some(7)
        );
        assert_eq!(d[0].evidence["failing_regions"][0]["status"], FAIL);
    }

    #[test]
    fn inversion_flips_and_disabling_silences_the_endpoints_result() {
        let mut inverted = check("inv");
        inverted.inverted = true;
        let mut disabled = check("off");
        disabled.disabled = true;
        let mut o = BTreeMap::new();
        o.insert("inv".to_owned(), eight(0)); // endpoint fine -> inverted unhealthy
        o.insert("off".to_owned(), eight(8));
        let d = status(&[inverted, disabled], &o);
        assert_eq!(
            codes(&d),
            vec![
                ("inv", "health.inverted"),
                ("inv", "health.unhealthy"),
                ("off", "health.disabled")
            ]
        );
        assert!(
            d[1].message.contains("inverted and the endpoint succeeds"),
            "{}",
            d[1].message
        );
    }

    #[test]
    fn calculated_checks_follow_their_children_and_threshold() {
        let mut calc = check("calc");
        calc.kind = "CALCULATED".into();
        calc.children = vec!["a".into(), "b".into()];
        calc.health_threshold = Some(2);
        let mut o = BTreeMap::new();
        o.insert("a".to_owned(), eight(0));
        o.insert("b".to_owned(), eight(8));
        let d = status(&[check("a"), check("b"), calc.clone()], &o);
        assert_eq!(
            codes(&d),
            vec![("b", "health.unhealthy"), ("calc", "health.unhealthy")]
        );
        calc.health_threshold = Some(1);
        let d = status(&[check("a"), check("b"), calc], &o);
        assert_eq!(codes(&d), vec![("b", "health.unhealthy")]);
    }

    #[test]
    fn few_regions_configured_or_reporting() {
        let mut two = check("two");
        two.regions = vec!["us-east-1".into(), "eu-west-1".into()];
        let mut o = BTreeMap::new();
        o.insert("two".to_owned(), eight(0));
        o.insert("one".to_owned(), vec![obs("us-east-1", OK)]);
        o.insert("all".to_owned(), eight(0));
        let d = status(&[two, check("one"), check("all")], &o);
        assert_eq!(
            codes(&d),
            vec![("two", "health.few-regions"), ("one", "health.few-regions")]
        );
    }

    #[test]
    fn flapping_counts_transitions_inside_the_window_only() {
        let now = Utc
            .with_ymd_and_hms(2026, 12, 1, 12, 0, 0)
            .single()
            .expect("time");
        let cfg = HealthConfig {
            flap_transitions: 3,
            flap_window_minutes: 60,
        };
        let mut h = StatusHistory::default();
        let keep = Duration::hours(24);
        // Healthy, then a change every 10 minutes: 3 changes in the hour.
        for (i, healthy) in [true, false, true, false].iter().enumerate() {
            h.observe(*healthy, now - Duration::minutes(30 - 10 * i as i64), keep);
        }
        let mut old = StatusHistory::default();
        for (i, healthy) in [true, false, true, false].iter().enumerate() {
            old.observe(*healthy, now - Duration::minutes(200 - 10 * i as i64), keep);
        }
        let history: BTreeMap<String, StatusHistory> = [("a".to_owned(), h), ("b".to_owned(), old)]
            .into_iter()
            .collect();
        let d = flapping(&[check("a"), check("b")], &history, &cfg, now);
        assert_eq!(codes(&d), vec![("a", "health.flapping")]);
        assert_eq!(d[0].evidence["transitions"], 3);
        let strict = HealthConfig {
            flap_transitions: 4,
            ..cfg
        };
        assert!(flapping(&[check("a")], &history, &strict, now).is_empty());
    }

    #[test]
    fn history_keeps_a_bounded_recent_log() {
        let now = Utc
            .with_ymd_and_hms(2026, 12, 1, 12, 0, 0)
            .single()
            .expect("time");
        let mut h = StatusHistory::default();
        assert!(
            !h.observe(true, now, Duration::hours(1)),
            "the first status is no transition"
        );
        for i in 0..500 {
            h.observe(i % 2 == 0, now + Duration::seconds(i), Duration::hours(1));
        }
        assert_eq!(
            h.transitions.len(),
            crate::families::health::model::MAX_TRANSITIONS
        );
        h.observe(false, now + Duration::hours(3), Duration::hours(1));
        assert!(h.transitions.is_empty(), "{:?}", h.transitions);
    }

    fn zone() -> HostedZone {
        HostedZone {
            id: "Z1".into(),
            name: "example.com.".into(),
            private: false,
            record_set_count: 4,
        }
    }

    #[test]
    fn orphans_and_missing_alarms() {
        let mut calc = check("calc");
        calc.kind = "CALCULATED".into();
        calc.children = vec!["child".into()];
        let mut www = RecordSet::simple("www.example.com", "A", &["192.0.2.1"]);
        www.health_check_id = Some("used".into());
        let alarms = HealthAlarms {
            by_health_check: [
                ("calc".to_owned(), vec!["calc-down".to_owned()]),
                ("alarmed".to_owned(), vec!["x".to_owned()]),
            ]
            .into_iter()
            .collect(),
        };
        let d = references(
            &[
                check("used"),
                check("orphan"),
                calc,
                check("child"),
                check("alarmed"),
            ],
            &[(zone(), vec![www])],
            &alarms,
        );
        assert_eq!(
            codes(&d),
            vec![("used", "health.no-alarm"), ("orphan", "health.orphaned")]
        );
    }

    #[test]
    fn failover_primary_without_health_check_or_target_health() {
        let z = zone();
        let mut guarded = RecordSet::simple("a.example.com", "A", &["192.0.2.1"]);
        guarded.routing = RoutingPolicy::Failover;
        guarded.failover = Some(FailoverRole::Primary);
        guarded.set_identifier = Some("primary".into());
        guarded.health_check_id = Some("hc".into());
        let mut bare = guarded.clone();
        bare.name = "b.example.com.".into();
        bare.health_check_id = None;
        let mut alias = bare.clone();
        alias.name = "c.example.com.".into();
        alias.values.clear();
        alias.alias = Some(AliasTarget {
            dns_name: "lb.elb.amazonaws.com.".into(),
            hosted_zone_id: "Z35".into(),
            evaluate_target_health: false,
        });
        let mut evaluated = alias.clone();
        evaluated.name = "d.example.com.".into();
        evaluated
            .alias
            .as_mut()
            .expect("alias")
            .evaluate_target_health = true;
        let mut secondary = bare.clone();
        secondary.name = "e.example.com.".into();
        secondary.failover = Some(FailoverRole::Secondary);
        let d = failover(&z, &[guarded, bare, alias, evaluated, secondary]);
        assert_eq!(
            codes(&d),
            vec![
                ("Z1/b.example.com./A/primary", "health.failover-unprotected"),
                ("Z1/c.example.com./A/primary", "health.failover-unprotected"),
            ]
        );
        assert!(d[1].message.contains("alias without EvaluateTargetHealth"));
        assert_eq!(d[0].scope, "Z1");
    }
}
