//! The check families. Each collects into its own inventory through its
//! ports, evaluates it with pure rules and hands a `FamilyOutcome` to the
//! shared tail in `scan`.

pub mod certificates;
pub mod ct;
pub mod dns;
pub mod domains;
pub mod endpoints;
#[cfg(test)]
pub(crate) mod fakes;
pub mod health;
pub mod iam_certificates;
pub mod mail;
pub mod private_ca;
pub mod query_logs;

use crate::model::{HostedZone, RecordSet, Region};
use crate::ports::ZoneSource;
use crate::record::ScanError;
use chrono::{DateTime, Duration, Utc};
use dns::ports::InventoryCache;
use std::collections::BTreeSet;

/// The fixed "now" of the families' rule tests: 2026-12-03 12:00 UTC.
#[cfg(test)]
pub(crate) fn test_now() -> DateTime<Utc> {
    use chrono::TimeZone;
    Utc.with_ymd_and_hms(2026, 12, 3, 12, 0, 0)
        .single()
        .expect("valid")
}

/// Every zone's record sets, as the health and endpoints families read them.
#[derive(Debug, Default)]
pub struct ZoneRecords {
    /// None when the hosted zones could not be listed.
    pub zones: Option<Vec<(HostedZone, Vec<RecordSet>)>>,
    /// Zones whose record sets could not be read.
    pub failed: BTreeSet<String>,
    /// Route 53 calls the DNS family's cache saved.
    pub from_cache: u64,
}

impl ZoneRecords {
    /// Every zone was listed and read.
    pub fn complete(&self) -> bool {
        self.zones.is_some() && self.failed.is_empty()
    }
}

/// Every zone's record sets: from the DNS family's inventory cache when the
/// copy is younger than `max_age` and the zone's record count did not move
/// (a 5-minute health scan must not list every zone again), else listed
/// from Route 53. Read only: the DNS family owns the cache.
pub async fn zone_records<Z, I>(
    zones: &Z,
    cache: Option<&I>,
    max_age: Duration,
    now: DateTime<Utc>,
    errors: &mut Vec<ScanError>,
) -> ZoneRecords
where
    Z: ZoneSource,
    I: InventoryCache,
{
    let mut out = ZoneRecords::default();
    let listed = match zones.hosted_zones().await {
        Ok(z) => z,
        Err(e) => {
            errors.push(ScanError::new(Region::global(), e));
            return out;
        }
    };
    let mut read = Vec::new();
    for zone in listed {
        if let Some(cache) = cache {
            match cache.load(&zone.id).await {
                Ok(Some(cached))
                    if cached.zone.record_set_count == zone.record_set_count
                        && now - cached.listed_at < max_age =>
                {
                    out.from_cache += 1;
                    read.push((zone, cached.record_sets));
                    continue;
                }
                Ok(_) => {}
                Err(e) => errors.push(ScanError::new(Region::global(), e)),
            }
        }
        match zones.record_sets(&zone.id).await {
            Ok(sets) => read.push((zone, sets)),
            Err(e) => {
                out.failed.insert(zone.id.clone());
                errors.push(ScanError::new(Region::global(), e));
            }
        }
    }
    out.zones = Some(read);
    out
}
