//! The endpoints family: the certificates HTTPS names really serve, one
//! bounded TLS handshake per address.

use super::{
    Adapters, FamilyKind, Registration, ScanContext, Wiring, always, aws_targets, inventory_cache,
    probe_settings, published_estate,
};
use crate::AppError;
use futures::future::BoxFuture;
use std::time::Duration;
use zw_aws::inventory::DynamoInventoryCache;
use zw_aws::targets::AwsTargetsAdapter;
use zw_core::families::endpoints::EndpointsFamily;
use zw_core::inventory::InventoryKind;
use zw_core::{Family, FamilyOutcome};
use zw_dns::{Probe, ProbeSettings};
use zw_tls::{TlsProbe, TlsProbeSettings};

pub static REGISTRATION: Registration = Registration {
    kind: FamilyKind::ENDPOINTS,
    inventory: &[InventoryKind::Endpoints],
    enabled: always,
    prepare,
};

/// The endpoints family's adapters.
#[derive(Debug)]
pub(crate) struct EndpointsAdapters {
    attachments: AwsTargetsAdapter,
    cache: Option<DynamoInventoryCache>,
    tls: TlsProbe,
    resolver: ProbeSettings,
    /// The organization's published estate, in organization mode.
    published: Option<zw_aws::published::PublishedEstate>,
}

fn prepare(w: &Wiring<'_>) -> Result<Adapters, AppError> {
    let tls = &w.config.tls;
    Ok(Adapters::Endpoints(EndpointsAdapters {
        attachments: aws_targets(w)?,
        cache: inventory_cache(w.services),
        tls: TlsProbe::new(&TlsProbeSettings {
            timeout: Duration::from_millis(u64::from(tls.timeout_ms)),
            extra_roots_file: tls.extra_roots_file.clone(),
            webpki_roots: true,
        })?,
        resolver: probe_settings(w.config),
        published: published_estate(w.services),
    }))
}

pub(super) fn family<'a>(
    adapters: &'a EndpointsAdapters,
    scan: &'a ScanContext<'a>,
) -> Box<dyn Family + 'a> {
    let resolver = Probe::new(adapters.resolver.clone()).with_budget(Duration::from_secs(
        u64::from(scan.config.dns.deadline_seconds),
    ));
    Box::new(EndpointsRun {
        adapters,
        scan,
        resolver,
    })
}

/// An endpoints scan: the family borrows the resolver this scan owns.
struct EndpointsRun<'a> {
    adapters: &'a EndpointsAdapters,
    scan: &'a ScanContext<'a>,
    resolver: Probe,
}

impl Family for EndpointsRun<'_> {
    fn name(&self) -> &'static str {
        zw_core::families::endpoints::NAME
    }

    fn run(&self, now: chrono::DateTime<chrono::Utc>) -> BoxFuture<'_, FamilyOutcome> {
        Box::pin(async move {
            let (a, scan) = (self.adapters, self.scan);
            let cfg = scan.config;
            EndpointsFamily {
                certificates: &scan.services.acm,
                zones: &scan.services.route53,
                organization: a
                    .published
                    .as_ref()
                    .map(|p| p as &dyn zw_core::families::certificates::ports::OrganizationEstate),
                cache: a.cache.as_ref(),
                attachments: &a.attachments,
                resolver: &self.resolver,
                prober: &a.tls,
                regions: &cfg.common.regions,
                config: &cfg.tls,
                rules: &cfg.certificates.rules,
                inventory_max_age: chrono::Duration::minutes(i64::from(
                    cfg.dns.inventory_max_age_minutes,
                )),
                retire_unmonitored: scan.options.retire_unmonitored,
                stop: Some(scan.describe_stop),
            }
            .run(now)
            .await
        })
    }
}
