//! A read-only scan now, for `inventory --live` and `report --live`: no
//! table written, no event sent.

use crate::args::{AwsArgs, InventoryArgs};
use crate::exit::{CliError, usage};
use std::io::Write;
use zw_core::inventory::{InventoryEntry, InventoryKind};

/// A read-only scan of `families` now (nothing written: no table, no
/// metrics, no events), or None when it could not run (its errors are
/// printed either way).
pub async fn live_scan(
    aws: &AwsArgs,
    regions: &[zw_core::Region],
    families: &[zw_app::FamilyKind],
) -> Result<Option<zw_core::ScanReport>, CliError> {
    let (sdk, mut cfg) =
        crate::session::load(aws, regions.first().map(ToString::to_string)).await?;
    if !regions.is_empty() {
        cfg.common.regions = regions.to_vec();
        cfg.common.regions.dedup();
    }
    cfg.common.table_name = None;
    let sdk = zw_aws::with_timeouts(&sdk, &cfg.common.aws_timeouts);
    let app = zw_app::App::new(cfg, &sdk, families).map_err(usage)?;
    let label = zw_core::ScanLabel {
        scan_id: format!("cli-live-{}", std::process::id()),
        trigger: "cli".into(),
    };
    let sinks: zw_core::Sinks<'_, zw_aws::store::DynamoStore, zw_aws::metrics::CloudWatchSink> =
        zw_core::Sinks {
            store: None,
            metrics: None,
            events: None,
        };
    let report = app
        .scan(sinks, label, &zw_app::ScanOptions::default())
        .await;
    crate::output::errors(&report, &mut std::io::stderr().lock())?;
    if report.failed() {
        writeln!(
            std::io::stderr().lock(),
            "error: the scan could not run (see the errors above)"
        )?;
        return Ok(None);
    }
    Ok(Some(report))
}

/// `inventory --live`: what a read-only scan of the families that look at
/// `kinds` looked at.
pub async fn live_inventory(
    aws: &AwsArgs,
    a: &InventoryArgs,
    kinds: &[InventoryKind],
) -> Result<Option<Vec<(InventoryKind, InventoryEntry)>>, CliError> {
    let mut families: Vec<zw_app::FamilyKind> = Vec::new();
    for k in kinds {
        if let Some(f) = zw_app::FamilyKind::filling(*k)
            && !families.contains(&f)
        {
            families.push(f);
        }
    }
    let Some(report) = live_scan(aws, &a.regions, &families).await? else {
        return Ok(None);
    };
    Ok(Some(
        report
            .inventory
            .into_iter()
            .filter(|s| kinds.contains(&s.kind))
            .flat_map(|s| s.entries.into_iter().map(move |e| (s.kind, e)))
            .collect(),
    ))
}
