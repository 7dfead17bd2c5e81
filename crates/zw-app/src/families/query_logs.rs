//! Route 53 query-log analytics: the logging configurations (Route 53 and,
//! when configured, Route 53 Resolver), CloudWatch Logs, the family's state
//! in the table, the DNS family's inventory cache for the zones' names.

use super::{Adapters, FamilyKind, Registration, ScanContext, Wiring, always, inventory_cache};
use crate::AppError;
use zw_aws::inventory::DynamoInventoryCache;
use zw_aws::query_logs::{DynamoQueryLogStore, QueryLogAdapter};
use zw_core::Family;
use zw_core::families::query_logs::QueryLogsFamily;

pub static REGISTRATION: Registration = Registration {
    kind: FamilyKind::QUERY_LOGS,
    inventory: &[],
    enabled: always,
    prepare,
};

/// The family's adapters. Without the findings table (`--no-write`) the
/// last hour (or `--since`) is judged without history and nothing is kept.
#[derive(Debug)]
pub(crate) struct QueryLogAdapters {
    source: QueryLogAdapter,
    store: Option<DynamoQueryLogStore>,
    cache: Option<DynamoInventoryCache>,
}

fn prepare(w: &Wiring<'_>) -> Result<Adapters, AppError> {
    Ok(Adapters::QueryLogs(Box::new(QueryLogAdapters {
        source: QueryLogAdapter::new(w.sdk, &w.services.route53, &w.services.calls),
        store: w.services.store.as_ref().map(|s| {
            DynamoQueryLogStore::new(
                s.client().clone(),
                s.table().to_owned(),
                s.partition().clone(),
            )
        }),
        cache: inventory_cache(w.services),
    })))
}

pub(super) fn family<'a>(
    adapters: &'a QueryLogAdapters,
    scan: &'a ScanContext<'a>,
) -> Box<dyn Family + 'a> {
    let cfg = scan.config;
    Box::new(QueryLogsFamily {
        zones: &scan.services.route53,
        cache: adapters.cache.as_ref(),
        inventory_max_age: chrono::Duration::minutes(i64::from(cfg.dns.inventory_max_age_minutes)),
        source: &adapters.source,
        store: adapters.store.as_ref(),
        config: &cfg.query_logs,
        regions: &cfg.common.regions,
        since: scan.options.query_log_since,
        retire_unmonitored: scan.options.retire_unmonitored,
    })
}
