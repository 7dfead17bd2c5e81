//! The certificate family: ACM in each region, the validation records in
//! Route 53. Its sources are the shared collectors; in organization mode it
//! also reads the zones the other accounts published in the table.

use super::{Adapters, FamilyKind, Registration, ScanContext, Wiring, always};
use crate::AppError;
use zw_aws::published::PublishedEstate;
use zw_core::Family;
use zw_core::families::certificates::CertificateFamily;
use zw_core::families::certificates::ports::OrganizationEstate;
use zw_core::inventory::InventoryKind;

pub static REGISTRATION: Registration = Registration {
    kind: FamilyKind::CERTIFICATES,
    inventory: &[InventoryKind::Certificates],
    enabled: always,
    prepare,
};

fn prepare(w: &Wiring<'_>) -> Result<Adapters, AppError> {
    // A member account's validation records may be in a zone another
    // account holds (one DNS account for the organization).
    Ok(Adapters::Certificates(super::published_estate(w.services)))
}

pub(super) fn family<'a>(
    published: &'a Option<PublishedEstate>,
    scan: &'a ScanContext<'a>,
) -> Box<dyn Family + 'a> {
    Box::new(CertificateFamily {
        certificates: &scan.services.acm,
        zones: &scan.services.route53,
        organization: published.as_ref().map(|p| p as &dyn OrganizationEstate),
        regions: &scan.config.common.regions,
        config: &scan.config.certificates,
        retire_unmonitored: scan.options.retire_unmonitored,
        stop: Some(scan.describe_stop),
    })
}
