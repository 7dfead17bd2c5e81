//! `zonewarden audit [--since WHEN]`: the audit log, newest first.

use crate::args::{AuditArgs, AwsArgs, Format, since};
use crate::exit::{CliError, EXIT_OK, EXIT_USAGE, failed};
use std::io::Write;
use zw_aws::triage::TableTriage;
use zw_core::ports::Clock;

/// `zonewarden audit [--since WHEN] [--format json]`.
pub async fn audit(aws: &AwsArgs, a: &AuditArgs) -> Result<u8, CliError> {
    let now = zw_aws::SystemClock.now();
    let since = since(&a.since, now)?;
    let app = crate::session::central_sdk(aws, &a.table).await?.0;
    let Some(store) = app.services.store.clone() else {
        return Ok(EXIT_USAGE);
    };
    let entries = match TableTriage::new(store, app.config.common.audit_retention_days)
        .audit(since, now)
        .await
    {
        Ok(e) => e,
        Err(e) => return failed(e),
    };
    let mut out = std::io::stdout().lock();
    match a.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &entries).map_err(std::io::Error::other)?;
            writeln!(out)?;
        }
        Format::Table => {
            if entries.is_empty() {
                writeln!(
                    out,
                    "No audit entries since {}.",
                    since.format("%Y-%m-%d %H:%M UTC")
                )?;
            }
            for e in &entries {
                writeln!(
                    out,
                    "{}  {:22}  {}  by {}",
                    e.at.format("%Y-%m-%d %H:%M:%S UTC"),
                    e.action,
                    e.target,
                    e.actor
                )?;
            }
        }
    }
    Ok(EXIT_OK)
}
