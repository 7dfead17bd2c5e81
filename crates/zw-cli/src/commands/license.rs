//! `zonewarden license check | status | sent`.

use crate::args::{AwsArgs, Format, LicenseCommand};
use crate::exit::{CliError, EXIT_OK, EXIT_SCAN_FAILED};
use std::io::Write;
use zw_app::App;
use zw_app::license::LicenseCommandError;
use zw_aws::with_timeouts;
use zw_core::license::Standing;
use zw_core::ports::Clock;
use zw_license::check::SentRecord;

pub async fn license(aws: &AwsArgs, command: &LicenseCommand) -> Result<u8, CliError> {
    let args = command.args();
    let (sdk, mut cfg) = crate::session::load(aws, None).await?;
    if let Some(t) = &args.table {
        cfg.common.table_name = Some(t.clone());
    }
    let sdk = with_timeouts(&sdk, &cfg.common.aws_timeouts);
    // No family is built: the license commands read the table and, for
    // `check`, talk to the vendor; nothing else.
    let app = App::new(cfg, &sdk, &[]).map_err(|e| CliError::Usage(e.to_string()))?;
    let now = app.clock.now();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let failed = |e: LicenseCommandError| -> Result<u8, CliError> {
        let mut err = std::io::stderr().lock();
        writeln!(err, "error: {e}")?;
        Ok(match e {
            LicenseCommandError::NoTable
            | LicenseCommandError::Check(zw_license::check::CheckError::NotConfigured)
            | LicenseCommandError::Check(zw_license::check::CheckError::NoKey) => {
                crate::exit::EXIT_USAGE
            }
            _ => EXIT_SCAN_FAILED,
        })
    };
    match command {
        LicenseCommand::Check(_) => match checked_and_audited(&app, &sdk, now).await? {
            Ok(checked) => {
                match args.format {
                    Format::Json => {
                        let v = serde_json::json!({
                            "sent": checked.record,
                            "standing": checked.standing,
                        });
                        writeln!(
                            out,
                            "{}",
                            serde_json::to_string_pretty(&v).unwrap_or_default()
                        )?;
                    }
                    Format::Table => {
                        writeln!(out, "validated: {}", checked.record.result)?;
                        writeln!(
                            out,
                            "sent ({} bytes): {}",
                            checked.record.bytes, checked.record.body
                        )?;
                        write_standing(&mut out, &checked.standing)?;
                    }
                }
                Ok(EXIT_OK)
            }
            Err(e) => failed(e),
        },
        LicenseCommand::Status(_) => match app.license_status(now).await {
            Ok(status) => {
                match args.format {
                    Format::Json => writeln!(
                        out,
                        "{}",
                        serde_json::to_string_pretty(&status).unwrap_or_default()
                    )?,
                    Format::Table => {
                        writeln!(
                            out,
                            "licensing: {}",
                            if status.configured {
                                "configured (ZW_LICENSE_ENDPOINT)"
                            } else {
                                "not configured: nothing is ever sent (free tier)"
                            }
                        )?;
                        writeln!(
                            out,
                            "fleet visibility: {}",
                            if status.fleet_visibility { "on" } else { "off" }
                        )?;
                        write_standing(&mut out, &status.standing)?;
                        if let Some(c) = &status.license {
                            writeln!(
                                out,
                                "license: {} for customer {}, key ****{}, renews {}",
                                c.sub,
                                c.customer,
                                c.key_hint,
                                c.renews_at().format("%Y-%m-%d")
                            )?;
                        }
                        match &status.last_sent {
                            Some(r) => writeln!(
                                out,
                                "last validation attempt: {} {}",
                                r.sent_at.format("%Y-%m-%d %H:%M:%S UTC"),
                                r.result
                            )?,
                            None => writeln!(out, "last validation attempt: none")?,
                        }
                    }
                }
                Ok(EXIT_OK)
            }
            Err(e) => failed(e),
        },
        LicenseCommand::Sent(a) => match app.license_sent(a.limit).await {
            Ok(records) => {
                match args.format {
                    Format::Json => writeln!(
                        out,
                        "{}",
                        serde_json::to_string_pretty(&records).unwrap_or_default()
                    )?,
                    Format::Table => write_sent(&mut out, &records)?,
                }
                Ok(EXIT_OK)
            }
            Err(e) => failed(e),
        },
    }
}

fn write_standing(out: &mut dyn Write, standing: &Standing) -> std::io::Result<()> {
    match standing {
        Standing::Unlicensed => writeln!(
            out,
            "standing: unlicensed (free tier: 1 hosted zone, 10 certificates; everything is still checked)"
        ),
        Standing::Valid { license } => writeln!(
            out,
            "standing: valid, plan {} ({}), {} zones / {} certificates, validated {}, expires {}",
            license.plan,
            license.status,
            license.allowance.zones,
            license.allowance.certificates,
            license.validated_at.format("%Y-%m-%d %H:%M UTC"),
            license.expires_at.format("%Y-%m-%d")
        ),
        Standing::Grace {
            license,
            grace_until,
        } => writeln!(
            out,
            "standing: grace period (vendor not reached since {}), working until {}",
            license.validated_at.format("%Y-%m-%d %H:%M UTC"),
            grace_until.format("%Y-%m-%d %H:%M UTC")
        ),
        Standing::Invalid { reason, .. } => writeln!(
            out,
            "standing: INVALID: {reason} (checks beyond the free tier pause; findings are kept)"
        ),
    }
}

fn write_sent(out: &mut dyn Write, records: &[SentRecord]) -> std::io::Result<()> {
    if records.is_empty() {
        return writeln!(
            out,
            "nothing has been sent to the vendor from this deployment"
        );
    }
    for r in records {
        writeln!(
            out,
            "{}  HTTP {}  {}",
            r.sent_at.format("%Y-%m-%d %H:%M:%S UTC"),
            r.http_status
                .map_or_else(|| "---".to_owned(), |s| s.to_string()),
            r.result
        )?;
        writeln!(out, "    sent {} bytes: {}", r.bytes, r.body)?;
    }
    Ok(())
}

/// `license check`, and its entry in the audit log (who forced a
/// validation, and what came of it).
async fn checked_and_audited(
    app: &App,
    sdk: &zw_aws::SdkConfig,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Result<zw_license::check::Checked, LicenseCommandError>, CliError> {
    let checked = app.license_check(now).await;
    // Nothing configured or no table: nothing was attempted, nothing to log.
    if let Err(
        LicenseCommandError::NoTable
        | LicenseCommandError::Check(
            zw_license::check::CheckError::NotConfigured | zw_license::check::CheckError::NoKey,
        ),
    ) = &checked
    {
        return Ok(checked);
    }
    let result = match &checked {
        Ok(c) => c.record.result.clone(),
        Err(e) => e.to_string(),
    };
    crate::session::audit_action(
        app,
        sdk,
        "license-check",
        "license".into(),
        Some(serde_json::json!({ "result": result })),
    )
    .await?;
    Ok(checked)
}
