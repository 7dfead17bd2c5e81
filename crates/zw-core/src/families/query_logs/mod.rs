//! Route 53 query-log analytics: what the world asks the account's public
//! hosted zones (their query logs in CloudWatch Logs, us-east-1) and what
//! the account's VPCs ask the Route 53 Resolver (its query logs, when
//! `ZW_RESOLVER_QUERY_LOG_GROUPS` names them), judged against what the
//! product knows of each zone: its names now, the names it had, its own
//! NXDOMAIN history.
//!
//! collect (the zones and their record names, the logging configurations,
//! per log group the window since its last read counted into an
//! `Aggregate`) -> pure verdicts (`judge`) -> findings (`rules`) -> the new
//! state (per group the end of the window read, per zone its history and
//! names).
//!
//! - `parse`: one line of a public hosted zone's DNS query log, or one
//!   Route 53 Resolver query log record (JSON), read field by field; the
//!   client addresses of Resolver records never leave the parser.
//! - `aggregate`: one time window counted per zone (NXDOMAIN and SERVFAIL
//!   answers, per query name and edge location) and per source of Resolver
//!   queries, in memory bounded by the distinct names, not by the lines
//!   read; CloudWatch Logs Insights' counts enter it the same way.
//! - `typo`: the existing name an NXDOMAIN name most likely meant.
//! - `judge`: a window's verdicts; `rules`: their findings.

pub mod aggregate;
pub mod config;
pub mod judge;
pub mod model;
pub mod parse;
pub mod ports;
pub mod rules;
pub mod typo;

#[cfg(test)]
mod tests;

use self::aggregate::Aggregate;
use self::config::{QueryLogConfig, allowed};
use self::judge::{ZoneKnowledge, storms, window_hours, zone_verdicts};
use self::model::{LogFormat, LogGroup, QueryLogState, Sample, ZoneState};
use self::ports::{QueryLogSource, QueryLogStore};
use self::rules::Window;
use crate::catalogue::Check;
use crate::error::{ErrorKind, PortError};
use crate::families::dns::ports::InventoryCache;
use crate::family::{Family, FamilyOutcome};
use crate::metrics::Metric;
use crate::model::{HostedZone, RecordSet, Region};
use crate::ports::ZoneSource;
use crate::record::ScanError;
use chrono::{DateTime, Duration, DurationRound, Utc};
use futures::future::BoxFuture;
use std::collections::{BTreeMap, BTreeSet};

pub const NAME: &str = "query-logs";

/// Route 53 delivers query logs to CloudWatch Logs within minutes of the
/// query: a window ends this long before the run, so that lines arriving
/// late are counted by the next window instead of falling between two.
pub const DELIVERY_LAG: Duration = Duration::minutes(10);

/// The window of a log group read for the first time (and without a table).
pub const FIRST_WINDOW: Duration = Duration::hours(1);

/// The longest window one run reads: after a pause of days the older
/// events are skipped (and counted in `query_log_minutes_skipped`) rather
/// than read in one invocation.
pub const MAX_WINDOW: Duration = Duration::hours(24);

pub struct QueryLogsFamily<'a, Z, I, S, W> {
    pub zones: &'a Z,
    /// The DNS family's inventory cache: the zones' record names without
    /// listing them again when the copy is fresh.
    pub cache: Option<&'a I>,
    pub inventory_max_age: Duration,
    pub source: &'a S,
    /// The state in the table; None (`--no-write`, no table): the window is
    /// `since` or the last hour, judged without history (no spike, no
    /// deleted record), and nothing is kept.
    pub store: Option<&'a W>,
    pub config: &'a QueryLogConfig,
    /// `ZW_REGIONS`: where Resolver query logging is looked for.
    pub regions: &'a [Region],
    /// `scan query-logs --since`: this window instead of the one since the
    /// last read, which then neither moves nor adds to the history.
    pub since: Option<Duration>,
    pub retire_unmonitored: bool,
}

impl<Z, I, S, W> std::fmt::Debug for QueryLogsFamily<'_, Z, I, S, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryLogsFamily")
            .field("since", &self.since)
            .finish_non_exhaustive()
    }
}

impl<Z, I, S, W> Family for QueryLogsFamily<'_, Z, I, S, W>
where
    Z: ZoneSource,
    I: InventoryCache,
    S: QueryLogSource,
    W: QueryLogStore,
{
    fn name(&self) -> &'static str {
        NAME
    }

    fn run(&self, now: DateTime<Utc>) -> BoxFuture<'_, FamilyOutcome> {
        Box::pin(self.scan(now))
    }
}

/// A zone's record names as the aggregates key query names: lower case,
/// without the trailing dot, sorted and unique.
pub fn record_names(sets: &[RecordSet]) -> Vec<String> {
    let names: BTreeSet<String> = sets
        .iter()
        .map(|s| parse::normalise_name(&s.name))
        .collect();
    names.into_iter().collect()
}

/// What one run counted, for the scan record.
#[derive(Debug, Default)]
struct Tally {
    groups: u64,
    events: u64,
    insights: u64,
    malformed: u64,
    skipped_minutes: u64,
}

impl<Z, I, S, W> QueryLogsFamily<'_, Z, I, S, W>
where
    Z: ZoneSource,
    I: InventoryCache,
    S: QueryLogSource,
    W: QueryLogStore,
{
    async fn scan(&self, now: DateTime<Utc>) -> FamilyOutcome {
        let mut out = FamilyOutcome::default();
        let mut tally = Tally::default();
        let records = super::zone_records(
            self.zones,
            self.cache,
            self.inventory_max_age,
            now,
            &mut out.errors,
        )
        .await;
        let Some(zones) = &records.zones else {
            return out;
        };
        let public: Vec<&(HostedZone, Vec<RecordSet>)> =
            zones.iter().filter(|(z, _)| !z.private).collect();
        let mut monitored: BTreeSet<String> = public.iter().map(|(z, _)| z.id.clone()).collect();

        let mut state = match self.store {
            Some(store) => match store.load().await {
                Ok(s) => Some(s),
                Err(e) => {
                    // Without the watermarks and histories a window would
                    // be read twice or judged without its baseline: the
                    // traffic waits for the next run.
                    out.errors.push(ScanError::new(Region::global(), e));
                    None
                }
            },
            None => None,
        };
        let state_ok = self.store.is_none() || state.is_some();
        let end = window_end(now);

        match self.source.public_logging().await {
            Ok(configs) => {
                let logged: BTreeMap<&str, &LogGroup> = configs
                    .iter()
                    .map(|c| (c.zone_id.as_str(), &c.group))
                    .collect();
                let mut groups: BTreeMap<&LogGroup, Vec<&(HostedZone, Vec<RecordSet>)>> =
                    BTreeMap::new();
                for entry in &public {
                    let zone = &entry.0;
                    out.coverage.insert(Check::QueryLogging, &zone.id);
                    match logged.get(zone.id.as_str()) {
                        Some(group) => groups.entry(*group).or_default().push(*entry),
                        None => {
                            out.detections.push(rules::logging_off(zone));
                            // No logs, no traffic to judge: its traffic
                            // findings resolve.
                            out.coverage.insert(Check::QueryLogTraffic, &zone.id);
                        }
                    }
                }
                out.counts
                    .insert("query_log_zones_logged".into(), logged.len() as u64);
                if state_ok {
                    for (group, zones) in groups {
                        self.public_group(
                            group, &zones, end, &mut state, now, &mut tally, &mut out,
                        )
                        .await;
                    }
                }
            }
            Err(e) => out.errors.push(ScanError::new(Region::global(), e)),
        }

        if self.config.resolver_enabled() && state_ok {
            for region in self.regions {
                monitored.insert(rules::resolver_scope(region.as_str()));
                self.resolver_region(region, end, &mut state, &mut tally, &mut out)
                    .await;
            }
        }

        for (key, value) in [
            ("query_log_zones", public.len() as u64),
            ("query_log_groups_read", tally.groups),
            ("query_log_events", tally.events),
            ("query_log_insights_queries", tally.insights),
            ("query_log_malformed_lines", tally.malformed),
            ("query_log_minutes_skipped", tally.skipped_minutes),
        ] {
            out.counts.insert(key.into(), value);
        }
        if self.retire_unmonitored && records.complete() {
            out.monitored = Some(monitored);
        }
        out
    }

    /// The window of one log group: since its last read (or `since`, or the
    /// first hour), at most `MAX_WINDOW`, ending at `end`. None when nothing
    /// new can be read yet.
    fn window(
        &self,
        group: &LogGroup,
        end: DateTime<Utc>,
        state: Option<&QueryLogState>,
        tally: &mut Tally,
    ) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let from = match (self.since, state.and_then(|s| s.read_to.get(&group.key()))) {
            (Some(since), _) => end - since,
            (None, Some(read_to)) => *read_to,
            (None, None) => end - FIRST_WINDOW,
        };
        let from = if end - from > MAX_WINDOW {
            let skipped = (end - MAX_WINDOW - from).num_minutes();
            tally.skipped_minutes += u64::try_from(skipped).unwrap_or(0);
            end - MAX_WINDOW
        } else {
            from
        };
        (from < end).then_some((from, end))
    }

    /// Reads one group's window into a fresh aggregate; a failed read is a
    /// scan error and nothing of it is judged.
    /// A group busy at its last window is counted by Logs Insights at once
    /// (a limit of 0 events); it returns to `FilterLogEvents` when a window
    /// holds no more than the limit. The aggregate, and whether the window
    /// was busy.
    async fn read(
        &self,
        group: &LogGroup,
        format: LogFormat,
        (from, to): (DateTime<Utc>, DateTime<Utc>),
        state: Option<&QueryLogState>,
        tally: &mut Tally,
        out: &mut FamilyOutcome,
    ) -> Option<(Aggregate, bool)> {
        let mut aggregate = Aggregate::new(from, to);
        let limit = u64::from(self.config.max_events);
        let max = if state.is_some_and(|s| s.busy.contains(&group.key())) {
            0
        } else {
            usize::try_from(limit).unwrap_or(usize::MAX)
        };
        match self.source.read(group, format, max, &mut aggregate).await {
            Ok(stats) => {
                let busy = stats.insights && stats.events > limit;
                tally.groups += 1;
                tally.events += stats.events;
                tally.insights += u64::from(stats.insights);
                tally.malformed += aggregate.malformed;
                if aggregate.malformed > 0 {
                    out.errors.push(ScanError::new(
                        Region::global(),
                        PortError::new(
                            "zonewarden",
                            "query-logs",
                            ErrorKind::InvalidResponse,
                            format!(
                                "{} lines of {group} are not query log lines and were not counted (first: {})",
                                aggregate.malformed,
                                aggregate.samples.join("; ")
                            ),
                        ),
                    ));
                }
                Some((aggregate, busy))
            }
            Err(e) => {
                out.errors.push(ScanError::new(Region::global(), e));
                None
            }
        }
    }

    /// One log group of public hosted zones: read, judge each zone logging
    /// to it, keep the new state.
    #[allow(clippy::too_many_arguments)]
    async fn public_group(
        &self,
        group: &LogGroup,
        zones: &[&(HostedZone, Vec<RecordSet>)],
        end: DateTime<Utc>,
        state: &mut Option<QueryLogState>,
        now: DateTime<Utc>,
        tally: &mut Tally,
        out: &mut FamilyOutcome,
    ) {
        // The zones' names are remembered whatever the read gives, so a
        // removal is known when its queries come.
        let mut zone_states: Vec<ZoneState> = zones
            .iter()
            .map(|(zone, sets)| {
                let mut z = state
                    .as_ref()
                    .and_then(|s| s.zones.get(&zone.id).cloned())
                    .unwrap_or_default();
                z.remember_names(
                    &record_names(sets),
                    now,
                    self.config.thresholds.deleted_within,
                );
                z
            })
            .collect();

        let judged = if allowed(&self.config.groups, &group.name) {
            match self.window(group, end, state.as_ref(), tally) {
                Some(window) => {
                    self.read(group, LogFormat::Public, window, state.as_ref(), tally, out)
                        .await
                }
                None => None,
            }
        } else {
            let zones: Vec<&str> = zones.iter().map(|(z, _)| z.name.as_str()).collect();
            out.errors.push(ScanError::new(
                Region::global(),
                PortError::new(
                    "zonewarden",
                    "query-logs",
                    ErrorKind::AccessDenied,
                    format!(
                        "{} log to {group}, which ZW_QUERY_LOG_GROUPS (the QueryLogGroups parameter) does not name: add it there (the function may read only those groups) to judge their traffic",
                        zones.join(", ")
                    ),
                ),
            ));
            None
        };

        if let Some((aggregate, _)) = &judged {
            let (from, to) = aggregate.window();
            let window = Window { from, to };
            let hours = window_hours(aggregate);
            for ((zone, sets), zone_state) in zones.iter().zip(zone_states.iter_mut()) {
                let names = record_names(sets);
                let bare_zone = parse::normalise_name(&zone.name);
                let removed: Vec<(String, DateTime<Utc>)> = aggregate
                    .zones
                    .get(&zone.id)
                    .map(|w| {
                        w.nxdomain_names
                            .keys()
                            .filter_map(|n| zone_state.removed_at(n).map(|at| (n.clone(), at)))
                            .collect()
                    })
                    .unwrap_or_default();
                let history = if self.store.is_some() {
                    zone_state.rates()
                } else {
                    Vec::new()
                };
                let knowledge = ZoneKnowledge {
                    zone_id: &zone.id,
                    zone_name: &bare_zone,
                    names: &names,
                    removed: &removed,
                    history: &history,
                };
                for verdict in zone_verdicts(aggregate, &knowledge, &self.config.thresholds) {
                    if let Some(d) = rules::zone_finding(zone, &verdict, window) {
                        out.detections.push(d);
                    }
                }
                out.coverage.insert(Check::QueryLogTraffic, &zone.id);
                let counted = aggregate.zones.get(&zone.id);
                let nxdomain = counted.map_or(0, |w| w.nxdomain);
                let servfail = counted.map_or(0, |w| w.servfail);
                let per_hour = nxdomain as f64 / hours;
                out.metrics
                    .push(Metric::QueryLogNxdomainPerHour.datum_by(zone.id.clone(), per_hour));
                out.metrics.push(
                    Metric::QueryLogServfailPerHour
                        .datum_by(zone.id.clone(), servfail as f64 / hours),
                );
                if self.since.is_none() {
                    zone_state.push_sample(Sample { at: to, per_hour });
                }
            }
        }

        let Some(store) = self.store else {
            return;
        };
        for ((zone, _), zone_state) in zones.iter().zip(&zone_states) {
            if let Err(e) = store.save_zone(&zone.id, zone_state).await {
                out.errors.push(ScanError::new(Region::global(), e));
            }
            if let Some(s) = state.as_mut() {
                s.zones.insert(zone.id.clone(), zone_state.clone());
            }
        }
        if let (Some((aggregate, busy)), None) = (&judged, self.since) {
            let (_, to) = aggregate.window();
            if let Err(e) = store.save_read_to(group, to, *busy).await {
                out.errors.push(ScanError::new(Region::global(), e));
            }
        }
    }

    /// One region's Resolver query logs: storms per source.
    async fn resolver_region(
        &self,
        region: &Region,
        end: DateTime<Utc>,
        state: &mut Option<QueryLogState>,
        tally: &mut Tally,
        out: &mut FamilyOutcome,
    ) {
        let configs = match self.source.resolver_logging(region).await {
            Ok(c) => c,
            Err(e) => {
                out.errors.push(ScanError::new(region.clone(), e));
                return;
            }
        };
        let groups: BTreeSet<&LogGroup> = configs.iter().map(|c| &c.group).collect();
        let mut complete = true;
        let mut found: BTreeMap<String, crate::finding::Detection> = BTreeMap::new();
        for group in groups {
            if !allowed(&self.config.resolver_groups, &group.name) {
                complete = false;
                out.errors.push(ScanError::new(
                    region.clone(),
                    PortError::new(
                        "zonewarden",
                        "query-logs",
                        ErrorKind::AccessDenied,
                        format!(
                            "Resolver query logs go to {group}, which ZW_RESOLVER_QUERY_LOG_GROUPS (the ResolverQueryLogGroups parameter) does not name: add it there to judge them"
                        ),
                    ),
                ));
                continue;
            }
            let Some(window) = self.window(group, end, state.as_ref(), tally) else {
                continue;
            };
            let Some((aggregate, busy)) = self
                .read(
                    group,
                    LogFormat::Resolver,
                    window,
                    state.as_ref(),
                    tally,
                    out,
                )
                .await
            else {
                complete = false;
                continue;
            };
            let (from, to) = aggregate.window();
            for verdict in storms(&aggregate, &self.config.thresholds) {
                if let Some(d) = rules::storm(&verdict, region, Window { from, to }) {
                    // A source logged to two groups is reported once, with
                    // its larger count.
                    let keep = found.get(&d.resource.id).is_none_or(|old| {
                        old.evidence["distinct_names"].as_u64()
                            < d.evidence["distinct_names"].as_u64()
                    });
                    if keep {
                        found.insert(d.resource.id.clone(), d);
                    }
                }
            }
            if let (Some(store), None) = (self.store, self.since)
                && let Err(e) = store.save_read_to(group, to, busy).await
            {
                out.errors.push(ScanError::new(region.clone(), e));
            }
        }
        out.detections.extend(found.into_values());
        if complete {
            out.coverage.insert(
                Check::ResolverQueryLogs,
                rules::resolver_scope(region.as_str()),
            );
        }
    }
}

/// Where this run's windows end: `DELIVERY_LAG` before `now`, on the minute.
pub fn window_end(now: DateTime<Utc>) -> DateTime<Utc> {
    let end = now - DELIVERY_LAG;
    end.duration_trunc(Duration::minutes(1)).unwrap_or(end)
}

/// What the modules' tests share: a window and lines in the documented
/// public query log format.
#[cfg(test)]
pub(crate) mod test_lines {
    use super::aggregate::Aggregate;
    use chrono::{DateTime, Duration, TimeZone, Utc};

    /// The start of the tests' window: 2026-12-03 11:00 UTC.
    pub(crate) fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 3, 11, 0, 0)
            .single()
            .expect("valid")
    }

    /// The window of the tests: 11:00 to 12:00.
    pub(crate) fn hour() -> Aggregate {
        Aggregate::new(t0(), t0() + Duration::hours(1))
    }

    /// A public DNS query log line `seconds` after t0 (with an EDNS client
    /// subnet, which the parser checks and drops).
    pub(crate) fn line(seconds: i64, zone: &str, name: &str, rcode: &str, edge: &str) -> String {
        let t = t0() + Duration::seconds(seconds);
        format!(
            "1.0 {} {zone} {name} A {rcode} UDP {edge} 192.0.2.53 198.51.100.0/24",
            t.format("%Y-%m-%dT%H:%M:%S%.3fZ")
        )
    }
}
