//! `zonewarden scan certificates`.

use crate::args::{AwsArgs, Format, ScanArgs};
use crate::output;
use std::io::{IsTerminal, Write};
use zw_aws::{AwsOptions, Services, SystemClock, load_sdk_config};
use zw_core::ports::Clock;
use zw_core::{Config, Sinks, Sources};

/// Exit statuses, as documented in the README.
pub const EXIT_OK: u8 = 0;
pub const EXIT_SCAN_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_FAIL_ON: u8 = 3;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad flags or configuration: nothing was called.
    #[error("{0}")]
    Usage(String),
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
}

pub async fn certificates(aws: &AwsArgs, args: &ScanArgs) -> Result<u8, CliError> {
    // Flags override the environment, which is otherwise read as the Lambda reads it.
    let mut vars: Vec<(String, String)> = std::env::vars().collect();
    if !args.regions.is_empty() {
        vars.push(("ZW_REGIONS".into(), args.regions.join(",")));
    }
    if let Some(t) = &args.table {
        vars.push(("ZW_TABLE_NAME".into(), t.clone()));
    }
    let sdk = load_sdk_config(&AwsOptions {
        profile: aws.profile.clone(),
        fallback_region: args.regions.first().cloned(),
        endpoint_url: aws.endpoint_url.clone(),
    })
    .await;
    // The region the profile or environment resolved counts as AWS_REGION.
    if let Some(r) = sdk.region() {
        vars.push(("AWS_REGION".into(), r.to_string()));
    }
    let cfg = Config::from_vars(vars).map_err(|e| CliError::Usage(e.to_string()))?;
    if !args.no_write && cfg.table_name.is_none() {
        return Err(CliError::Usage(
            "no findings table: pass --table NAME (or set ZW_TABLE_NAME) to store findings, or --no-write for a read-only scan"
                .into(),
        ));
    }

    let services = Services::new(&sdk, &cfg);
    let clock = SystemClock;
    let scan_id = format!(
        "cli-{}-{}",
        clock.now().format("%Y%m%dT%H%M%SZ"),
        std::process::id()
    );
    let sinks = if args.no_write {
        Sinks {
            store: None,
            metrics: None,
        }
    } else {
        Sinks {
            store: services.store.as_ref(),
            metrics: Some(&services.cloudwatch),
        }
    };
    let report = zw_core::scan::scan_certificates(
        Sources {
            certificates: &services.acm,
            zones: &services.route53,
            usage: Some(&services.calls),
        },
        sinks,
        &clock,
        &cfg,
        scan_id,
        "cli".into(),
    )
    .await;

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        Format::Json => output::json(&report, &mut out)?,
        Format::Table => {
            let tty = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
            output::table(&report, &mut out, tty)?
        }
    }
    out.flush()?;

    let mut err = std::io::stderr().lock();
    output::errors(&report, &mut err)?;
    if report.failed() {
        writeln!(
            err,
            "error: the scan could not run; nothing was resolved or lost (see the errors above)"
        )?;
        return Ok(EXIT_SCAN_FAILED);
    }
    if let (Some(threshold), Some(worst)) = (args.fail_on, report.worst_severity())
        && worst >= threshold
    {
        writeln!(
            err,
            "failing: an open finding is {worst} (--fail-on {threshold})"
        )?;
        return Ok(EXIT_FAIL_ON);
    }
    Ok(EXIT_OK)
}
