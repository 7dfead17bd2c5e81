//! The DNS family: Route 53's configuration against what the internet's
//! servers answer, with the AWS targets of records and the expectations
//! document.

use super::{
    Adapters, FamilyKind, Registration, ScanContext, Wiring, always, aws_targets, inventory_cache,
    probe_settings,
};
use crate::AppError;
use futures::future::BoxFuture;
use std::time::Duration;
use zw_aws::document::Document;
use zw_aws::inventory::DynamoInventoryCache;
use zw_aws::targets::AwsTargetsAdapter;
use zw_core::families::dns::DnsFamily;
use zw_core::inventory::InventoryKind;
use zw_core::{Family, FamilyOutcome};
use zw_dns::{Probe, ProbeSettings};

pub static REGISTRATION: Registration = Registration {
    kind: FamilyKind::DNS,
    inventory: &[InventoryKind::Zones],
    enabled: always,
    prepare,
};

/// The DNS family's adapters.
#[derive(Debug)]
pub(crate) struct DnsAdapters {
    targets: AwsTargetsAdapter,
    cache: Option<DynamoInventoryCache>,
    expectations: Document,
    probe: ProbeSettings,
}

fn prepare(w: &Wiring<'_>) -> Result<Adapters, AppError> {
    let dns = &w.config.dns;
    let targets = aws_targets(w)?;
    // The deployment's own parameter, in the central account.
    let expectations = Document::choose(
        w.central,
        dns.expectations_parameter.as_deref(),
        dns.expectations_file.as_deref(),
        &w.services.calls,
    );
    Ok(Adapters::Dns(DnsAdapters {
        targets,
        cache: inventory_cache(w.services),
        expectations,
        probe: probe_settings(w.config),
    }))
}

pub(super) fn family<'a>(
    adapters: &'a DnsAdapters,
    scan: &'a ScanContext<'a>,
) -> Box<dyn Family + 'a> {
    // One probe per scan: it caches the delegations it learns, and the
    // whole DNS phase gets one deadline.
    let probe = Probe::new(adapters.probe.clone()).with_budget(Duration::from_secs(u64::from(
        scan.config.dns.deadline_seconds,
    )));
    Box::new(DnsRun {
        adapters,
        scan,
        probe,
    })
}

/// A DNS scan: the family borrows the probe this scan owns.
struct DnsRun<'a> {
    adapters: &'a DnsAdapters,
    scan: &'a ScanContext<'a>,
    probe: Probe,
}

impl Family for DnsRun<'_> {
    fn name(&self) -> &'static str {
        zw_core::families::dns::NAME
    }

    fn run(&self, now: chrono::DateTime<chrono::Utc>) -> BoxFuture<'_, FamilyOutcome> {
        Box::pin(async move {
            let (a, scan) = (self.adapters, self.scan);
            DnsFamily {
                zones: &scan.services.route53,
                cache: a.cache.as_ref(),
                probe: &self.probe,
                targets: &a.targets,
                certificates: &scan.services.acm,
                expectations: &a.expectations,
                regions: &scan.config.common.regions,
                config: &scan.config.dns,
                changed_zones: &scan.options.changed_zones,
                retire_unmonitored: scan.options.retire_unmonitored,
            }
            .run(now)
            .await
        })
    }
}
