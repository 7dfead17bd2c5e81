//! The health family: Route 53 health checks, what their checkers see, our
//! own history of their status (for flapping), and what refers to them
//! (record sets, calculated checks, alarms in us-east-1).
//!
//! collect (health checks and tags, each check's observations, the history,
//! the alarms, every zone's record sets) -> pure rules (`rules`) ->
//! the history written back.

pub mod config;
pub mod model;
pub mod ports;
pub mod rules;

use self::config::HealthConfig;
use self::model::{CheckerObservation, StatusHistory};
use self::ports::{HealthAlarmSource, HealthCheckSource, HealthHistoryStore};
use crate::catalogue::Check;
use crate::families::dns::ports::InventoryCache;
use crate::families::zone_records;
use crate::family::{Family, FamilyOutcome};
use crate::inventory::{InventoryEntry, InventoryKind, ScopeInventory};
use crate::metrics::Metric;
use crate::model::Region;
use crate::ports::ZoneSource;
use crate::record::ScanError;
use chrono::{DateTime, Duration, Utc};
use futures::future::BoxFuture;
use futures::{StreamExt, stream};
use std::collections::{BTreeMap, BTreeSet};

pub const NAME: &str = "health";

/// Health checks checked for status in flight at once (each call is paced
/// by the Route 53 budget in the adapter anyway).
const STATUS_CONCURRENCY: usize = 4;

// Metrics of this family (the catalogue, `metrics::Metric`, has them).
pub const HEALTH_CHECKS_MONITORED: &str = Metric::HealthChecksMonitored.spec().name;
/// Health checks Route 53 considers unhealthy now (part of the default
/// metric budget: the alarm `UnhealthyHealthChecks` reads it).
pub const UNHEALTHY_HEALTH_CHECKS: &str = Metric::UnhealthyHealthChecks.spec().name;

pub struct HealthFamily<'a, H, A, S, Z, I> {
    pub checks: &'a H,
    pub alarms: &'a A,
    /// None without a table (a CLI run): flapping is not evaluated.
    pub history: Option<&'a S>,
    pub zones: &'a Z,
    pub cache: Option<&'a I>,
    pub config: &'a HealthConfig,
    /// How old the DNS family's cached record sets may be.
    pub inventory_max_age: Duration,
    pub retire_unmonitored: bool,
}

impl<H, A, S, Z, I> std::fmt::Debug for HealthFamily<'_, H, A, S, Z, I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealthFamily")
            .field("config", self.config)
            .finish_non_exhaustive()
    }
}

fn global(e: crate::ports::PortError) -> ScanError {
    ScanError::new(Region::global(), e)
}

impl<H, A, S, Z, I> Family for HealthFamily<'_, H, A, S, Z, I>
where
    H: HealthCheckSource,
    A: HealthAlarmSource,
    S: HealthHistoryStore,
    Z: ZoneSource,
    I: InventoryCache,
{
    fn name(&self) -> &'static str {
        NAME
    }

    fn run(&self, now: DateTime<Utc>) -> BoxFuture<'_, FamilyOutcome> {
        Box::pin(self.scan(now))
    }
}

impl<H, A, S, Z, I> HealthFamily<'_, H, A, S, Z, I>
where
    H: HealthCheckSource,
    A: HealthAlarmSource,
    S: HealthHistoryStore,
    Z: ZoneSource,
    I: InventoryCache,
{
    async fn scan(&self, now: DateTime<Utc>) -> FamilyOutcome {
        let mut out = FamilyOutcome::default();
        let checks = match self.checks.health_checks().await {
            Ok(c) => c,
            Err(e) => {
                out.errors.push(global(e));
                return out;
            }
        };

        // Each check's observations; one failing leaves its findings alone.
        // Collected first: a borrowing iterator inside the stream makes the
        // future not `Send` for every lifetime (rustc's higher-ranked check).
        let ids: Vec<String> = checks
            .iter()
            .filter(|c| c.has_checkers() && !c.disabled)
            .map(|c| c.id.clone())
            .collect();
        let asked: Vec<(String, Result<Vec<CheckerObservation>, _>)> = stream::iter(ids)
            .map(|id| async move {
                let r = self.checks.observations(&id).await;
                (id, r)
            })
            .buffered(STATUS_CONCURRENCY)
            .collect()
            .await;
        let mut observations = BTreeMap::new();
        for (id, r) in asked {
            match r {
                Ok(o) => {
                    observations.insert(id, o);
                }
                Err(e) => {
                    out.coverage.hold(&id);
                    out.errors.push(global(e));
                }
            }
        }
        out.coverage.insert(Check::HealthStatus, rules::SCOPE);
        out.detections.extend(rules::status(&checks, &observations));

        // Our history: the status of each check as of this scan.
        let health = rules::effective_health(&checks, &observations);
        if let Some(store) = self.history {
            self.flapping(store, &checks, &health, now, &mut out).await;
        }

        // What refers to each check.
        let records = zone_records(
            self.zones,
            self.cache,
            self.inventory_max_age,
            now,
            &mut out.errors,
        )
        .await;
        let alarms = match self.alarms.health_check_alarms().await {
            Ok(a) => Some(a),
            Err(e) => {
                out.errors.push(global(e));
                None
            }
        };
        if let Some(zones) = &records.zones {
            for (zone, sets) in zones {
                out.coverage.insert(Check::HealthFailover, &zone.id);
                out.detections.extend(rules::failover(zone, sets));
            }
            if let (Some(alarms), true) = (&alarms, records.complete()) {
                out.coverage.insert(Check::HealthReferences, rules::SCOPE);
                out.detections
                    .extend(rules::references(&checks, zones, alarms));
            }
            if self.retire_unmonitored {
                let mut scopes: BTreeSet<String> =
                    zones.iter().map(|(z, _)| z.id.clone()).collect();
                scopes.insert(rules::SCOPE.to_owned());
                out.monitored = Some(scopes);
            }
        }

        out.inventory.push(ScopeInventory {
            kind: InventoryKind::HealthChecks,
            scope: rules::SCOPE.to_owned(),
            entries: checks
                .iter()
                .map(|c| {
                    let status = if c.disabled {
                        "disabled"
                    } else {
                        match health.get(&c.id) {
                            Some(true) => "healthy",
                            Some(false) => "unhealthy",
                            None => "unknown",
                        }
                    };
                    // None: the alarms could not be read this scan.
                    let alarmed = alarms.as_ref().map(|a| {
                        a.by_health_check
                            .get(&c.id)
                            .is_some_and(|names| !names.is_empty())
                    });
                    InventoryEntry {
                        id: c.id.clone(),
                        name: c.display_name(),
                        region: "global".to_owned(),
                        not_after: None,
                        details: BTreeMap::from([
                            ("type".to_owned(), serde_json::json!(c.kind)),
                            ("target".to_owned(), serde_json::json!(c.target)),
                            ("status".to_owned(), serde_json::json!(status)),
                            ("alarmed".to_owned(), serde_json::json!(alarmed)),
                        ]),
                        checked_at: now,
                    }
                })
                .collect(),
        });
        let unhealthy = health.values().filter(|h| !**h).count();
        out.counts
            .insert("health_checks".into(), checks.len() as u64);
        out.counts
            .insert("health_checks_unhealthy".into(), unhealthy as u64);
        out.counts
            .insert("zones_from_cache".into(), records.from_cache);
        out.metrics
            .push(Metric::UnhealthyHealthChecks.datum(unhealthy as f64));
        out.metrics
            .push(Metric::HealthChecksMonitored.datum(checks.len() as f64));
        out
    }

    /// Updates the status history with this scan's view and evaluates
    /// flapping on it. Only changed entries are written: a scan every five
    /// minutes must not rewrite every check's item each time.
    async fn flapping(
        &self,
        store: &S,
        checks: &[crate::families::health::model::HealthCheck],
        health: &BTreeMap<String, bool>,
        now: DateTime<Utc>,
        out: &mut FamilyOutcome,
    ) {
        let mut history = match store.load_history().await {
            Ok(h) => h,
            Err(e) => {
                out.errors.push(global(e));
                return;
            }
        };
        let window = Duration::minutes(i64::from(self.config.flap_window_minutes));
        let mut changed = Vec::new();
        for (id, healthy) in health {
            let entry = history.entry(id.clone()).or_insert_with(|| StatusHistory {
                health_check_id: id.clone(),
                ..StatusHistory::default()
            });
            let before = entry.clone();
            entry.observe(*healthy, now, window);
            // The last-seen status and the kept transitions are what count;
            // `updated_at` alone is no reason to write.
            if before.healthy != entry.healthy || before.transitions != entry.transitions {
                changed.push(entry.clone());
            }
        }
        if let Err(e) = store.save_history(&changed).await {
            out.errors.push(global(e));
            return;
        }
        out.counts
            .insert("health_history_written".into(), changed.len() as u64);
        out.coverage.insert(Check::HealthHistory, rules::SCOPE);
        out.detections
            .extend(rules::flapping(checks, &history, self.config, now));
    }
}
