//! `zonewarden report --html FILE [--account ID] | --live`: reads the table
//! (or scans now) and writes the file `crate::html` renders.

use crate::args::{AwsArgs, ReportArgs};
use crate::exit::{CliError, EXIT_OK, EXIT_SCAN_FAILED, EXIT_USAGE, failed, usage};
use crate::live::live_scan;
use crate::session::partition_of;
use chrono::{DateTime, Utc};
use std::io::Write;
use zw_core::FindingState;
use zw_core::inventory::InventoryKind;
use zw_core::ports::{Clock, FindingStore};

/// `zonewarden report --html FILE [--account ID]`.
pub async fn report(aws: &AwsArgs, a: &ReportArgs) -> Result<u8, CliError> {
    let now = zw_aws::SystemClock.now();
    if a.live {
        return live_report(aws, a, now).await;
    }
    let app = crate::session::central_sdk(aws, &a.table).await?.0;
    let Some(store) = app.services.store.clone() else {
        return Ok(EXIT_USAGE);
    };
    let partition = partition_of(a.account.as_ref())?;
    let store = store.in_partition(partition.clone());
    let (client, table) = (store.client().clone(), store.table().to_owned());
    let current = match store.load_current().await {
        Ok(c) => c,
        Err(e) => return failed(e),
    };
    let mut data = crate::html::ReportData {
        whose: a.account.as_ref().map_or_else(
            || "this deployment".to_owned(),
            |id| format!("account {id}"),
        ),
        table: table.clone(),
        findings: current
            .findings
            .into_iter()
            .map(|s| s.finding)
            .filter(|f| f.state != FindingState::Resolved)
            .collect(),
        ..crate::html::ReportData::default()
    };
    let mut sorted = std::mem::take(&mut data.findings);
    sorted.sort_by(|x, y| {
        y.severity
            .cmp(&x.severity)
            .then(x.first_seen.cmp(&y.first_seen))
    });
    data.findings = sorted;
    let load = |kind| zw_aws::triage::load_estate(&client, &table, &partition, kind);
    let loaded = async {
        Ok::<_, zw_core::PortError>((
            load(InventoryKind::Certificates).await?,
            load(InventoryKind::Endpoints).await?,
            load(InventoryKind::Zones).await?,
            load(InventoryKind::HealthChecks).await?,
            zw_aws::triage::recent_scans(&client, &table, &partition, now, 7).await?,
        ))
    };
    match loaded.await {
        Ok((c, e, z, hc, scans)) => {
            (
                data.certificates,
                data.endpoints,
                data.zones,
                data.health_checks,
                data.scans,
            ) = (c, e, z, hc, scans);
        }
        Err(e) => return failed(e),
    }
    data.suppressions = current.triage.suppressions;
    write_report(&a.html, &data, now)
}

/// `report --live`: the report of a read-only scan now.
async fn live_report(aws: &AwsArgs, a: &ReportArgs, now: DateTime<Utc>) -> Result<u8, CliError> {
    let families: Vec<zw_app::FamilyKind> = if a.families.is_empty() {
        zw_app::FamilyKind::all()
    } else {
        a.families.clone()
    };
    let Some(scan) = live_scan(aws, &a.regions, &families).await? else {
        return Ok(EXIT_SCAN_FAILED);
    };
    let mut data = crate::html::ReportData {
        whose: "a live read-only scan".into(),
        table: "(none: --live, so no suppression, acknowledgement or scan history)".into(),
        findings: scan.findings.clone(),
        scans: serde_json::to_value(&scan.scan).into_iter().collect(),
        ..crate::html::ReportData::default()
    };
    for s in scan.inventory {
        let slot = match s.kind {
            InventoryKind::Certificates => &mut data.certificates,
            InventoryKind::Endpoints => &mut data.endpoints,
            InventoryKind::Zones => &mut data.zones,
            InventoryKind::HealthChecks => &mut data.health_checks,
        };
        slot.extend(s.entries);
    }
    write_report(&a.html, &data, now)
}

fn write_report(
    path: &std::path::Path,
    data: &crate::html::ReportData,
    now: DateTime<Utc>,
) -> Result<u8, CliError> {
    let html = crate::html::render(data, now);
    if let Err(e) = std::fs::write(path, html) {
        return Err(usage(format!("--html {}: {e}", path.display())));
    }
    let count = |state| data.findings.iter().filter(|f| f.state == state).count();
    writeln!(
        std::io::stdout().lock(),
        "Report written to {} ({} open, {} suppressed finding(s); {} certificate(s) and {} served certificate(s) in the inventory). It makes no network request when opened.",
        path.display(),
        count(FindingState::Open),
        count(FindingState::Suppressed),
        data.certificates.len(),
        data.endpoints.len()
    )?;
    Ok(EXIT_OK)
}
