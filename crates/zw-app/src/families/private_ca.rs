//! The ACM Private CA family: its CAs in each configured region, and ACM
//! (the shared collector) for the certificates a CA near its end issued.

use super::{Adapters, FamilyKind, Registration, ScanContext, Wiring, always};
use crate::AppError;
use zw_aws::private_ca::PrivateCaAdapter;
use zw_core::Family;
use zw_core::families::private_ca::PrivateCaFamily;

pub static REGISTRATION: Registration = Registration {
    kind: FamilyKind::PRIVATE_CA,
    inventory: &[],
    enabled: always,
    prepare,
};

fn prepare(w: &Wiring<'_>) -> Result<Adapters, AppError> {
    Ok(Adapters::PrivateCa(PrivateCaAdapter::new(
        w.sdk,
        &w.services.calls,
    )))
}

pub(super) fn family<'a>(
    adapters: &'a PrivateCaAdapter,
    scan: &'a ScanContext<'a>,
) -> Box<dyn Family + 'a> {
    Box::new(PrivateCaFamily {
        authorities: adapters,
        certificates: &scan.services.acm,
        regions: &scan.config.common.regions,
        expiry: &scan.config.certificates.rules.expiry,
        retire_unmonitored: scan.options.retire_unmonitored,
    })
}
