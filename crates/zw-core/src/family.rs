//! A check family: one module that collects into its own inventory and
//! evaluates it purely. What it hands the shared tail is a `FamilyOutcome`;
//! everything after evaluation (reconcile, store, metrics, scan record,
//! report) is written once, in `scan`.

use crate::finding::Detection;
use crate::metrics::MetricDatum;
use crate::reconcile::Coverage;
use crate::record::ScanError;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use std::collections::{BTreeMap, BTreeSet};

/// What one family's run produced.
#[derive(Debug, Default)]
pub struct FamilyOutcome {
    /// The (check, scope) pairs it collected completely: only they resolve.
    pub coverage: Coverage,
    pub detections: Vec<Detection>,
    /// For the scan record's `counts`.
    pub counts: BTreeMap<String, u64>,
    /// Its own metrics, whatever the detail level: the spine keeps those
    /// the catalogue gives the deployment's level.
    pub metrics: Vec<MetricDatum>,
    pub errors: Vec<ScanError>,
    /// Every scope the family monitors under the current configuration and
    /// account (regions, hosted zones, certificates...), when it could list
    /// them all; None when it could not (a listing failed, or the run was
    /// narrowed to some zones). Open findings of the family whose scope is
    /// not among them are resolved as no longer monitored, so a region taken
    /// out of the configuration or a deleted zone strands nothing.
    pub monitored: Option<BTreeSet<String>>,
    /// What it looked at, per completely collected scope
    /// (`crate::inventory`).
    pub inventory: Vec<crate::inventory::ScopeInventory>,
}

/// A family ready to run: its sources and settings are inside.
pub trait Family: Send + Sync {
    /// Stable name (`certificates`, `dns`): the scan record and metrics use it.
    fn name(&self) -> &'static str;
    /// Collects and evaluates at `now`. Failures are recorded in the outcome,
    /// never thrown: a failed region or zone is missing from the coverage.
    fn run(&self, now: DateTime<Utc>) -> BoxFuture<'_, FamilyOutcome>;
}
