//! `zonewarden scan certificates|dns|all`: one prepare path (configuration,
//! SDK, adapters, sinks), one scan through the spine, one report path (output,
//! errors, exit status) for every target.

use crate::args::{AwsArgs, DnsArgs, Format, ScanArgs, ScanTarget};
use crate::output;
use std::io::{IsTerminal, Write};
use zw_app::{App, FamilyKind, ScanOptions};
use zw_aws::{AwsOptions, load_sdk_config, with_timeouts};
use zw_core::ports::{Clock, EventSink};
use zw_core::{Config, ScanLabel, ScanReport, Sinks};

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

/// What a target selects, with its flags.
struct Request<'a> {
    kinds: Vec<FamilyKind>,
    common: &'a ScanArgs,
    dns: Option<&'a DnsArgs>,
    targets: &'a [(String, u16)],
}

fn request(target: &ScanTarget) -> Request<'_> {
    match target {
        ScanTarget::Certificates(a) => Request {
            kinds: vec![FamilyKind::Certificates],
            common: a,
            dns: None,
            targets: &[],
        },
        ScanTarget::Dns(a) => Request {
            kinds: vec![FamilyKind::Dns],
            common: &a.common,
            dns: Some(a),
            targets: &[],
        },
        ScanTarget::Health(a) => Request {
            kinds: vec![FamilyKind::Health],
            common: a,
            dns: None,
            targets: &[],
        },
        ScanTarget::Endpoints(a) => Request {
            kinds: vec![FamilyKind::Endpoints],
            common: &a.common,
            dns: None,
            targets: &a.targets,
        },
        ScanTarget::All(a) => Request {
            kinds: FamilyKind::ALL.to_vec(),
            common: &a.dns.common,
            dns: Some(&a.dns),
            targets: &[],
        },
    }
}

/// The SDK configuration and the `ZW_*` configuration, read as the Lambda
/// reads them: the region the profile or environment resolved counts as
/// AWS_REGION.
pub(crate) async fn load(
    aws: &AwsArgs,
    fallback_region: Option<String>,
) -> Result<(zw_aws::SdkConfig, Config), CliError> {
    let sdk = load_sdk_config(&AwsOptions {
        profile: aws.profile.clone(),
        fallback_region,
        endpoint_url: aws.endpoint_url.clone(),
    })
    .await;
    let mut vars: Vec<(String, String)> = std::env::vars().collect();
    if let Some(r) = sdk.region() {
        vars.push(("AWS_REGION".into(), r.to_string()));
    }
    let cfg = Config::from_vars(vars).map_err(|e| CliError::Usage(e.to_string()))?;
    Ok((sdk, cfg))
}

pub async fn scan(aws: &AwsArgs, target: &ScanTarget) -> Result<u8, CliError> {
    let req = request(target);
    let args = req.common;
    // Flags then override what the environment says.
    let (sdk, mut cfg) = load(aws, args.regions.first().map(ToString::to_string)).await?;
    if !args.regions.is_empty() {
        cfg.common.regions = args.regions.clone();
        cfg.common.regions.dedup();
    }
    if let Some(t) = &args.table {
        cfg.common.table_name = Some(t.clone());
    }
    if let Some(d) = req.dns {
        if !d.zones.is_empty() {
            cfg.dns.zones = d.zones.clone();
        }
        if let Some(f) = &d.expectations {
            cfg.dns.expectations_file = Some(f.display().to_string());
        }
    }
    for t in req.targets {
        if !cfg.tls.targets.contains(t) {
            cfg.tls.targets.push(t.clone());
        }
    }
    if !args.no_write && cfg.common.table_name.is_none() {
        return Err(CliError::Usage(
            "no findings table: pass --table NAME (or set ZW_TABLE_NAME) to store findings, or --no-write for a read-only scan"
                .into(),
        ));
    }
    if args.no_write {
        // Read-only means the table too: no inventory cache, no shared
        // Route 53 budget (this process paces itself), no findings.
        cfg.common.table_name = None;
    }

    let sdk = with_timeouts(&sdk, &cfg.common.aws_timeouts);
    if let ScanTarget::All(all) = target
        && let Some(role) = &all.org.role_name
    {
        return crate::org::scan_accounts(&sdk, cfg, args, &all.org, role).await;
    }
    let app = App::new(cfg, &sdk, &req.kinds).map_err(|e| CliError::Usage(e.to_string()))?;
    let cloudwatch = app.services.cloudwatch(&sdk);
    let events = (args.notify && app.config.common.notify)
        .then(|| app.services.events(&sdk, &app.config.common));
    let label = ScanLabel {
        scan_id: format!(
            "cli-{}-{}",
            app.clock.now().format("%Y%m%dT%H%M%SZ"),
            std::process::id()
        ),
        trigger: "cli".into(),
    };
    let sinks = if args.no_write {
        Sinks {
            store: None,
            metrics: None,
            events: None,
        }
    } else {
        Sinks {
            store: app.services.store.as_ref(),
            metrics: Some(&cloudwatch),
            events: events.as_ref().map(|e| e as &dyn EventSink),
        }
    };
    let report = app.scan(sinks, label, &ScanOptions::default()).await;
    respond(&report, args)
}

/// Prints the report and decides the exit status.
pub(crate) fn respond(report: &ScanReport, args: &ScanArgs) -> Result<u8, CliError> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        Format::Json => output::json(report, &mut out)?,
        Format::Table => {
            let tty = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
            output::table(report, &mut out, tty)?
        }
    }
    out.flush()?;

    let mut err = std::io::stderr().lock();
    output::errors(report, &mut err)?;
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
