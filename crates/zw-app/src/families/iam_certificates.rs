//! The IAM server certificate family: IAM (global) and what serves its
//! certificates (the AWS targets adapter the endpoints family lists
//! attachments with).

use super::{Adapters, FamilyKind, Registration, ScanContext, Wiring, always, aws_targets};
use crate::AppError;
use zw_aws::iam::IamAdapter;
use zw_aws::targets::AwsTargetsAdapter;
use zw_core::Family;
use zw_core::families::iam_certificates::IamCertificatesFamily;

pub static REGISTRATION: Registration = Registration {
    kind: FamilyKind::IAM_CERTIFICATES,
    inventory: &[],
    enabled: always,
    prepare,
};

/// The IAM server certificate family's adapters.
#[derive(Debug)]
pub(crate) struct IamCertificatesAdapters {
    iam: IamAdapter,
    attachments: AwsTargetsAdapter,
}

fn prepare(w: &Wiring<'_>) -> Result<Adapters, AppError> {
    Ok(Adapters::IamCertificates(IamCertificatesAdapters {
        iam: IamAdapter::new(w.sdk, &w.services.calls),
        attachments: aws_targets(w)?,
    }))
}

pub(super) fn family<'a>(
    adapters: &'a IamCertificatesAdapters,
    scan: &'a ScanContext<'a>,
) -> Box<dyn Family + 'a> {
    Box::new(IamCertificatesFamily {
        certificates: &adapters.iam,
        attachments: &adapters.attachments,
        regions: &scan.config.common.regions,
        expiry: &scan.config.certificates.rules.expiry,
        retire_unmonitored: scan.options.retire_unmonitored,
    })
}
