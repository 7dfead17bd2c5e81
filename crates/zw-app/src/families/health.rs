//! The Route 53 health check family: its alarms in us-east-1, our status
//! history in the table, the DNS family's inventory cache.

use super::{Adapters, FamilyKind, Registration, ScanContext, Wiring, always, inventory_cache};
use crate::AppError;
use zw_aws::health::{DynamoHealthHistory, HealthAlarmReader};
use zw_aws::inventory::DynamoInventoryCache;
use zw_core::Family;
use zw_core::families::health::HealthFamily;
use zw_core::inventory::InventoryKind;

pub static REGISTRATION: Registration = Registration {
    kind: FamilyKind::HEALTH,
    inventory: &[InventoryKind::HealthChecks],
    enabled: always,
    prepare,
};

/// The health family's adapters.
#[derive(Debug)]
pub(crate) struct HealthAdapters {
    alarms: HealthAlarmReader,
    history: Option<DynamoHealthHistory>,
    cache: Option<DynamoInventoryCache>,
}

fn prepare(w: &Wiring<'_>) -> Result<Adapters, AppError> {
    Ok(Adapters::Health(HealthAdapters {
        alarms: HealthAlarmReader::new(w.sdk, &w.services.calls),
        history: w.services.store.as_ref().map(|s| {
            DynamoHealthHistory::with_client(s.client().clone(), s.table().to_owned())
                .in_partition(s.partition().clone())
        }),
        cache: inventory_cache(w.services),
    }))
}

pub(super) fn family<'a>(
    adapters: &'a HealthAdapters,
    scan: &'a ScanContext<'a>,
) -> Box<dyn Family + 'a> {
    let cfg = scan.config;
    Box::new(HealthFamily {
        checks: &scan.services.route53,
        alarms: &adapters.alarms,
        history: adapters.history.as_ref(),
        zones: &scan.services.route53,
        cache: adapters.cache.as_ref(),
        config: &cfg.health,
        inventory_max_age: chrono::Duration::minutes(i64::from(cfg.dns.inventory_max_age_minutes)),
        retire_unmonitored: scan.options.retire_unmonitored,
    })
}
