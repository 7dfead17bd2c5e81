//! The certificate family: ACM in each region, the validation records in
//! Route 53. Its sources are the shared collectors; it builds nothing.

use super::{Adapters, FamilyKind, Registration, ScanContext, Wiring};
use crate::AppError;
use zw_core::Family;
use zw_core::families::certificates::CertificateFamily;
use zw_core::inventory::InventoryKind;

pub static REGISTRATION: Registration = Registration {
    kind: FamilyKind::CERTIFICATES,
    inventory: &[InventoryKind::Certificates],
    prepare,
};

fn prepare(_: &Wiring<'_>) -> Result<Adapters, AppError> {
    Ok(Adapters::Certificates)
}

pub(super) fn family<'a>(scan: &'a ScanContext<'a>) -> Box<dyn Family + 'a> {
    Box::new(CertificateFamily {
        certificates: &scan.services.acm,
        zones: &scan.services.route53,
        regions: &scan.config.common.regions,
        config: &scan.config.certificates,
        retire_unmonitored: scan.options.retire_unmonitored,
        stop: Some(scan.describe_stop),
    })
}
