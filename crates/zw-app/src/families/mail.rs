//! The mail family: SES identities (each configured region), the zones'
//! record sets (the DNS family's cache) and the internet's answers through
//! the DNS resolver; the MTA-STS policy through the TLS probe's client.

use super::{
    Adapters, FamilyKind, Registration, ScanContext, Wiring, always, inventory_cache,
    probe_settings, published_estate,
};
use crate::AppError;
use futures::future::BoxFuture;
use std::time::Duration;
use zw_aws::inventory::DynamoInventoryCache;
use zw_aws::ses::SesAdapter;
use zw_core::families::mail::MailFamily;
use zw_core::{Family, FamilyOutcome};
use zw_dns::{Probe, ProbeSettings};
use zw_tls::{TlsProbe, TlsProbeSettings};

pub static REGISTRATION: Registration = Registration {
    kind: FamilyKind::MAIL,
    inventory: &[],
    enabled: always,
    prepare,
};

/// The mail family's adapters.
#[derive(Debug)]
pub(crate) struct MailAdapters {
    ses: SesAdapter,
    cache: Option<DynamoInventoryCache>,
    tls: TlsProbe,
    resolver: ProbeSettings,
    /// Organization mode (the table's partition is an account).
    organization: bool,
}

fn prepare(w: &Wiring<'_>) -> Result<Adapters, AppError> {
    let tls = &w.config.tls;
    Ok(Adapters::Mail(MailAdapters {
        ses: SesAdapter::new(w.sdk, &w.services.calls),
        cache: inventory_cache(w.services),
        tls: TlsProbe::new(&TlsProbeSettings {
            timeout: Duration::from_millis(u64::from(tls.timeout_ms)),
            extra_roots_file: tls.extra_roots_file.clone(),
            webpki_roots: true,
        })?,
        resolver: probe_settings(w.config),
        organization: published_estate(w.services).is_some(),
    }))
}

pub(super) fn family<'a>(
    adapters: &'a MailAdapters,
    scan: &'a ScanContext<'a>,
) -> Box<dyn Family + 'a> {
    let resolver = Probe::new(adapters.resolver.clone()).with_budget(Duration::from_secs(
        u64::from(scan.config.dns.deadline_seconds),
    ));
    Box::new(MailRun {
        adapters,
        scan,
        resolver,
    })
}

/// A mail scan: the family borrows the resolver this scan owns.
struct MailRun<'a> {
    adapters: &'a MailAdapters,
    scan: &'a ScanContext<'a>,
    resolver: Probe,
}

impl Family for MailRun<'_> {
    fn name(&self) -> &'static str {
        zw_core::families::mail::NAME
    }

    fn run(&self, now: chrono::DateTime<chrono::Utc>) -> BoxFuture<'_, FamilyOutcome> {
        Box::pin(async move {
            let (a, scan) = (self.adapters, self.scan);
            let cfg = scan.config;
            MailFamily {
                zones: &scan.services.route53,
                cache: a.cache.as_ref(),
                resolver: &self.resolver,
                identities: &a.ses,
                policies: &a.tls,
                regions: &cfg.common.regions,
                inventory_max_age: chrono::Duration::minutes(i64::from(
                    cfg.dns.inventory_max_age_minutes,
                )),
                retire_unmonitored: scan.options.retire_unmonitored,
                organization: a.organization,
            }
            .run(now)
            .await
        })
    }
}
