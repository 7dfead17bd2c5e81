//! The domain registrations family: Route 53 Domains (us-east-1) and the
//! account's hosted zones.

use super::{Adapters, FamilyKind, Registration, ScanContext, Wiring, always};
use crate::AppError;
use zw_aws::domains::DomainsAdapter;
use zw_core::Family;
use zw_core::families::domains::DomainsFamily;

pub static REGISTRATION: Registration = Registration {
    kind: FamilyKind::DOMAINS,
    inventory: &[],
    enabled: always,
    prepare,
};

fn prepare(w: &Wiring<'_>) -> Result<Adapters, AppError> {
    Ok(Adapters::Domains(DomainsAdapter::new(
        w.sdk,
        &w.services.calls,
    )))
}

pub(super) fn family<'a>(
    adapters: &'a DomainsAdapter,
    scan: &'a ScanContext<'a>,
) -> Box<dyn Family + 'a> {
    Box::new(DomainsFamily {
        registrations: adapters,
        zones: &scan.services.route53,
        config: &scan.config.domains,
        retire_unmonitored: scan.options.retire_unmonitored,
    })
}
