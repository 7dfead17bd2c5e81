//! What the health family collects: Route 53 health checks as configured,
//! what their checkers observe now, and our own history of their status
//! (Route 53 keeps none that can be read back).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One health check as `ListHealthChecks` describes it, with its tags.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthCheck {
    pub id: String,
    /// `HTTP`, `HTTPS`, `HTTP_STR_MATCH`, `HTTPS_STR_MATCH`, `TCP`,
    /// `CALCULATED`, `CLOUDWATCH_METRIC`, `RECOVERY_CONTROL`.
    pub kind: String,
    /// What it checks, for people: `https://www.example.com:443/health`,
    /// `tcp://192.0.2.1:25`, or the children of a calculated check.
    pub target: String,
    pub disabled: bool,
    pub inverted: bool,
    /// Checker regions it is configured with; empty means Route 53's
    /// default (all of them).
    pub regions: Vec<String>,
    /// Children of a calculated health check.
    pub children: Vec<String>,
    /// How many children must be healthy (calculated checks).
    pub health_threshold: Option<i32>,
    pub tags: BTreeMap<String, String>,
}

impl HealthCheck {
    /// Calculated and CloudWatch-metric checks have no checkers of their
    /// own: `GetHealthCheckStatus` does not apply to them.
    pub fn has_checkers(&self) -> bool {
        !matches!(
            self.kind.as_str(),
            "CALCULATED" | "CLOUDWATCH_METRIC" | "RECOVERY_CONTROL"
        )
    }

    /// The `Name` tag, else the target: what people call it.
    pub fn display_name(&self) -> String {
        self.tags
            .get("Name")
            .cloned()
            .unwrap_or_else(|| self.target.clone())
    }
}

/// One checker's last observation (`GetHealthCheckStatus`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckerObservation {
    /// The checker's region (`us-east-1`), when Route 53 says.
    pub region: Option<String>,
    pub ip: Option<String>,
    /// Route 53's text: `Success: HTTP Status Code 200, OK`,
    /// `Failure: Connection timed out...`.
    pub status: String,
    pub checked_at: Option<DateTime<Utc>>,
}

impl CheckerObservation {
    pub fn is_success(&self) -> bool {
        self.status.trim_start().starts_with("Success")
    }
}

/// Route 53 considers an endpoint healthy when more than this share of its
/// checkers report success.
pub const HEALTHY_SHARE: f64 = 0.18;

/// Whether Route 53 considers the check healthy from its observations:
/// None when there are none to judge from.
pub fn healthy_from(observations: &[CheckerObservation]) -> Option<bool> {
    if observations.is_empty() {
        return None;
    }
    let ok = observations.iter().filter(|o| o.is_success()).count();
    // Precision is no concern at these counts (at most a few dozen checkers).
    #[allow(clippy::cast_precision_loss)]
    let share = ok as f64 / observations.len() as f64;
    Some(share > HEALTHY_SHARE)
}

/// What zonewarden remembers of one health check between scans.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusHistory {
    pub health_check_id: String,
    /// The status seen by the last scan.
    pub healthy: Option<bool>,
    /// When the status changed, oldest first, within the kept window.
    pub transitions: Vec<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl StatusHistory {
    /// Records the status seen at `now`, keeping transitions younger than
    /// `keep`. Returns whether it changed.
    pub fn observe(&mut self, healthy: bool, now: DateTime<Utc>, keep: chrono::Duration) -> bool {
        let changed = self.healthy.is_some_and(|h| h != healthy);
        if changed {
            self.transitions.push(now);
        }
        self.healthy = Some(healthy);
        self.updated_at = Some(now);
        self.transitions.retain(|t| now - *t <= keep);
        // Bounded whatever the settings: flapping needs a count, not a log.
        let excess = self.transitions.len().saturating_sub(MAX_TRANSITIONS);
        self.transitions.drain(..excess);
        changed
    }

    /// Transitions within `window` before `now`.
    pub fn transitions_within(&self, now: DateTime<Utc>, window: chrono::Duration) -> usize {
        self.transitions
            .iter()
            .filter(|t| now - **t <= window)
            .count()
    }
}

/// The most transitions kept per health check.
pub const MAX_TRANSITIONS: usize = 200;

/// CloudWatch alarms that watch Route 53 health checks, from `DescribeAlarms`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthAlarms {
    /// Health check id -> alarm names, for alarms in us-east-1 on
    /// `AWS/Route53` `HealthCheckStatus`.
    pub by_health_check: BTreeMap<String, Vec<String>>,
}
