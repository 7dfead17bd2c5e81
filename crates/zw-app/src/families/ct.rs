//! The Certificate Transparency watch: the search endpoint over HTTPS, the
//! table's inventories and the watch's state, the CAA through the DNS
//! resolver. Registered always, prepared only when `ZW_CT_SEARCH_URL` is
//! set: off, it sends nothing anywhere.

use super::{
    Adapters, FamilyKind, Registration, ScanContext, Wiring, inventory_cache, probe_settings,
    published_estate,
};
use crate::AppError;
use futures::future::BoxFuture;
use std::time::Duration;
use zw_aws::ct::{CtSearchClient, DynamoWatchStore, EstateCertificates};
use zw_aws::inventory::DynamoInventoryCache;
use zw_core::families::ct::CtFamily;
use zw_core::{Family, FamilyOutcome};
use zw_dns::{Probe, ProbeSettings};

pub static REGISTRATION: Registration = Registration {
    kind: FamilyKind::CT,
    inventory: &[],
    enabled: |config| config.ct.enabled(),
    prepare,
};

/// Why `scan ct` does nothing without its setting.
pub const OFF: &str = "the CT watch is off: set ZW_CT_SEARCH_URL (the CtSearchUrl parameter) to a crt.sh-compatible search, such as https://crt.sh/";

/// The watch's adapters. Without the findings table there is no state and
/// no inventory to know the estate's certificates by: the family then
/// reports that as its error instead of judging.
#[derive(Debug)]
pub(crate) struct CtAdapters {
    search: CtSearchClient,
    table: Option<(EstateCertificates, DynamoWatchStore)>,
    /// The DNS family's inventory cache: the zones' delegations.
    cache: Option<DynamoInventoryCache>,
    resolver: ProbeSettings,
}

fn prepare(w: &Wiring<'_>) -> Result<Adapters, AppError> {
    let ct = &w.config.ct;
    let url = ct.search_url.as_deref().ok_or_else(|| {
        zw_core::PortError::new("zonewarden", "ct", zw_core::ErrorKind::InvalidRequest, OFF)
    })?;
    let search = CtSearchClient::new(
        url,
        Duration::from_secs(u64::from(ct.search_interval_seconds)),
        w.config.tls.extra_roots_file.as_deref(),
    )?;
    let table = w.services.store.as_ref().map(|s| {
        (
            EstateCertificates::new(
                s.client().clone(),
                s.table().to_owned(),
                s.partition().clone(),
                published_estate(w.services),
            ),
            DynamoWatchStore::new(
                s.client().clone(),
                s.table().to_owned(),
                s.partition().clone(),
            ),
        )
    });
    Ok(Adapters::Ct(CtAdapters {
        search,
        table,
        cache: inventory_cache(w.services),
        resolver: probe_settings(w.config),
    }))
}

pub(super) fn family<'a>(
    adapters: &'a CtAdapters,
    scan: &'a ScanContext<'a>,
) -> Box<dyn Family + 'a> {
    let resolver = Probe::new(adapters.resolver.clone()).with_budget(Duration::from_secs(
        u64::from(scan.config.dns.deadline_seconds),
    ));
    Box::new(CtRun {
        adapters,
        scan,
        resolver,
    })
}

/// A watch run: the family borrows the resolver this scan owns.
struct CtRun<'a> {
    adapters: &'a CtAdapters,
    scan: &'a ScanContext<'a>,
    resolver: Probe,
}

impl Family for CtRun<'_> {
    fn name(&self) -> &'static str {
        zw_core::families::ct::NAME
    }

    fn run(&self, now: chrono::DateTime<chrono::Utc>) -> BoxFuture<'_, FamilyOutcome> {
        Box::pin(async move {
            let (a, scan) = (self.adapters, self.scan);
            let Some((known, store)) = &a.table else {
                let mut out = FamilyOutcome::default();
                out.errors.push(zw_core::ScanError::new(
                    zw_core::Region::global(),
                    zw_core::PortError::new(
                        "zonewarden",
                        "ct",
                        zw_core::ErrorKind::InvalidRequest,
                        "the CT watch keeps its state in the findings table: set ZW_TABLE_NAME (or --table)",
                    ),
                ));
                return out;
            };
            CtFamily {
                zones: &scan.services.route53,
                cache: a.cache.as_ref(),
                inventory_max_age: chrono::Duration::minutes(i64::from(
                    scan.config.dns.inventory_max_age_minutes,
                )),
                resolver: &self.resolver,
                search: &a.search,
                known,
                store,
                expected_issuers: &scan.config.ct.expected_issuers,
                retire_unmonitored: scan.options.retire_unmonitored,
                stop: Some(scan.describe_stop),
            }
            .run(now)
            .await
        })
    }
}
