//! `zonewarden table migrate --account ID`.

use crate::args::{AwsArgs, Format, MigrateArgs};
use crate::exit::{CliError, EXIT_OK, EXIT_SCAN_FAILED, EXIT_USAGE, usage};
use crate::session::central_sdk;
use std::io::Write;
use zw_core::org::AccountRef;

/// `zonewarden table migrate --account ID`.
pub async fn migrate(aws: &AwsArgs, a: &MigrateArgs) -> Result<u8, CliError> {
    let (app, sdk) = central_sdk(aws, &a.table).await?;
    let Some(store) = app.services.store.as_ref() else {
        return Ok(EXIT_USAGE);
    };
    let account = AccountRef::new(a.account.clone(), a.account_name.clone()).map_err(usage)?;
    match zw_aws::org::migrate(
        store.client(),
        store.table(),
        &account,
        a.dry_run,
        a.delete_source,
    )
    .await
    {
        Ok(m) => {
            if !a.dry_run {
                crate::session::audit_action(
                    &app,
                    &sdk,
                    "table-migrate",
                    format!("account {}", account.id),
                    serde_json::to_value(&m).ok(),
                )
                .await?;
            }
            let mut out = std::io::stdout().lock();
            match a.format {
                Format::Json => {
                    serde_json::to_writer_pretty(&mut out, &m).map_err(std::io::Error::other)?;
                    writeln!(out)?;
                }
                Format::Table => {
                    let copied: u64 = m.copied.values().sum();
                    let kinds: Vec<String> =
                        m.copied.iter().map(|(k, n)| format!("{n} {k}")).collect();
                    writeln!(
                        out,
                        "{} {copied} item(s) into account {}'s partition ({}); {} already there; {} original(s) deleted.",
                        if a.dry_run { "Would copy" } else { "Copied" },
                        account.id,
                        if kinds.is_empty() {
                            "none".into()
                        } else {
                            kinds.join(", ")
                        },
                        m.already_there,
                        m.deleted
                    )?;
                }
            }
            Ok(EXIT_OK)
        }
        Err(e) => {
            writeln!(
                std::io::stderr().lock(),
                "error: migration stopped: {e} (what was copied stays; run it again to finish)"
            )?;
            Ok(EXIT_SCAN_FAILED)
        }
    }
}
