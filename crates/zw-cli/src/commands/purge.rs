//! `zonewarden purge --all [--yes]`.

use crate::args::{AwsArgs, PurgeArgs};
use crate::exit::{CliError, EXIT_OK, EXIT_USAGE, failed};
use std::io::Write;
use zw_aws::triage::{TableTriage, caller_identity};
use zw_core::ports::Clock;
use zw_core::triage;

/// `zonewarden purge --all [--yes]`.
pub async fn purge(aws: &AwsArgs, a: &PurgeArgs) -> Result<u8, CliError> {
    let (app, sdk) = crate::session::central_sdk(aws, &a.table).await?;
    let Some(store) = app.services.store.clone() else {
        return Ok(EXIT_USAGE);
    };
    let actor = if a.yes {
        match caller_identity(&sdk).await {
            Ok(arn) => arn,
            Err(e) => {
                return failed(format!(
                    "cannot tell who you are (sts:GetCallerIdentity): {e}"
                ));
            }
        }
    } else {
        String::new()
    };
    let counts = match zw_aws::export::purge(store.client(), store.table(), a.yes).await {
        Ok(c) => c,
        Err(e) => {
            return failed(format!(
                "{e}; what was deleted stays deleted: run the purge again to finish"
            ));
        }
    };
    let kinds: Vec<String> = counts
        .by_kind
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    let kinds = if kinds.is_empty() {
        "none".into()
    } else {
        kinds.join(", ")
    };
    let mut out = std::io::stdout().lock();
    if !a.yes {
        writeln!(
            out,
            "Would delete {} item(s) from table {} ({kinds}); the table itself stays. Run again with --yes to delete them.",
            counts.total,
            store.table()
        )?;
        return Ok(EXIT_USAGE);
    }
    // The trace of the purge itself, written after it: the one entry left.
    let entry = triage::AuditEntry {
        at: zw_aws::SystemClock.now(),
        actor,
        action: "purge".into(),
        target: format!("table {}", store.table()),
        before: Some(serde_json::to_value(&counts).unwrap_or_default()),
        after: None,
    };
    let recorded = TableTriage::new(store.clone(), app.config.common.audit_retention_days)
        .record(&entry)
        .await;
    writeln!(
        out,
        "Deleted {} item(s) from table {} ({kinds}); the table itself stays.",
        counts.total,
        store.table()
    )?;
    if let Err(e) = recorded {
        writeln!(
            std::io::stderr().lock(),
            "warning: the purge's audit entry was not written: {e}"
        )?;
    }
    Ok(EXIT_OK)
}
