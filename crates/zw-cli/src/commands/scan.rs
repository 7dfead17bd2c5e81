//! `zonewarden scan certificates|dns|health|endpoints|domains|private-ca|iam-certificates|mail|ct|query-logs|all`: one prepare path
//! (configuration, SDK, adapters, sinks), one scan through the spine, one
//! report path (output, errors, exit status) for every target; `scan all
//! --role-name NAME --account ID... | --organization` runs it in each account.

use crate::args::{AwsArgs, DnsArgs, Format, OrgArgs, ScanArgs, ScanTarget};
use crate::exit::{CliError, EXIT_FAIL_ON, EXIT_OK, EXIT_SCAN_FAILED, usage};
use crate::output;
use crate::session::load;
use std::io::{IsTerminal, Write};
use zw_app::org::{AccountScanner, OrgError};
use zw_app::{App, FamilyKind, ScanOptions};
use zw_aws::org::{AccountRegistry, OrganizationLister, RoleAssumer};
use zw_aws::usage::ApiCallCounter;
use zw_aws::{SdkConfig, with_timeouts};
use zw_core::org::{AccountRef, Outcome};
use zw_core::ports::{Clock, EventSink};
use zw_core::{Config, ScanLabel, ScanReport, Sinks};

/// What a target selects, with its flags.
struct Request<'a> {
    kinds: Vec<FamilyKind>,
    /// `scan query-logs --since`.
    since: Option<chrono::Duration>,
    common: &'a ScanArgs,
    dns: Option<&'a DnsArgs>,
    targets: &'a [(String, u16)],
}

fn request(target: &ScanTarget) -> Request<'_> {
    match target {
        ScanTarget::Certificates(a) => Request {
            kinds: vec![FamilyKind::CERTIFICATES],
            since: None,
            common: a,
            dns: None,
            targets: &[],
        },
        ScanTarget::Dns(a) => Request {
            kinds: vec![FamilyKind::DNS],
            since: None,
            common: &a.common,
            dns: Some(a),
            targets: &[],
        },
        ScanTarget::Health(a) => Request {
            kinds: vec![FamilyKind::HEALTH],
            since: None,
            common: a,
            dns: None,
            targets: &[],
        },
        ScanTarget::Endpoints(a) => Request {
            kinds: vec![FamilyKind::ENDPOINTS],
            since: None,
            common: &a.common,
            dns: None,
            targets: &a.targets,
        },
        ScanTarget::Domains(a) => Request {
            kinds: vec![FamilyKind::DOMAINS],
            since: None,
            common: a,
            dns: None,
            targets: &[],
        },
        ScanTarget::PrivateCa(a) => Request {
            kinds: vec![FamilyKind::PRIVATE_CA],
            since: None,
            common: a,
            dns: None,
            targets: &[],
        },
        ScanTarget::IamCertificates(a) => Request {
            kinds: vec![FamilyKind::IAM_CERTIFICATES],
            since: None,
            common: a,
            dns: None,
            targets: &[],
        },
        ScanTarget::Mail(a) => Request {
            kinds: vec![FamilyKind::MAIL],
            since: None,
            common: a,
            dns: None,
            targets: &[],
        },
        ScanTarget::Ct(a) => Request {
            kinds: vec![FamilyKind::CT],
            since: None,
            common: a,
            dns: None,
            targets: &[],
        },
        ScanTarget::QueryLogs(a) => Request {
            kinds: vec![FamilyKind::QUERY_LOGS],
            since: a.since,
            common: &a.common,
            dns: None,
            targets: &[],
        },
        ScanTarget::All(a) => Request {
            kinds: FamilyKind::all(),
            since: None,
            common: &a.dns.common,
            dns: Some(&a.dns),
            targets: &[],
        },
    }
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
    let mut kinds = req.kinds.clone();
    if kinds.contains(&FamilyKind::CT) {
        if kinds.len() == 1 && !cfg.ct.enabled() {
            return Err(CliError::Usage(zw_app::families::ct::OFF.into()));
        }
        if args.no_write {
            // The watch moves its window in the table: a read-only run
            // cannot, so it is not one of the families run.
            if kinds.len() == 1 {
                return Err(CliError::Usage(
                    "the CT watch keeps its state and reads the certificate inventory in the findings table: run `scan ct` without --no-write".into(),
                ));
            }
            if cfg.ct.enabled() {
                writeln!(
                    std::io::stderr().lock(),
                    "note: the CT watch is not run with --no-write: it keeps its state in the findings table"
                )?;
            }
            kinds.retain(|k| *k != FamilyKind::CT);
        }
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
        return organization(&sdk, cfg, args, &all.org, role).await;
    }
    let app = App::new(cfg, &sdk, &kinds).map_err(|e| CliError::Usage(e.to_string()))?;
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
    let options = ScanOptions {
        query_log_since: req.since,
        ..ScanOptions::default()
    };
    let report = app.scan(sinks, label, &options).await;
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

/// `scan all` in each account, at most `--concurrency` at once.
async fn organization(
    sdk: &SdkConfig,
    cfg: Config,
    args: &ScanArgs,
    org: &OrgArgs,
    role: &str,
) -> Result<u8, CliError> {
    let calls = ApiCallCounter::default();
    let accounts: Vec<AccountRef> = if org.organization {
        let listed = match OrganizationLister::new(sdk, &calls)
            .accounts(&cfg.org.units)
            .await
        {
            Ok(l) => l,
            Err(e) => {
                writeln!(
                    std::io::stderr().lock(),
                    "error: cannot list the organization's accounts: {e}"
                )?;
                return Ok(EXIT_SCAN_FAILED);
            }
        };
        zw_core::org::select_accounts(listed, &cfg.org.include, &cfg.org.exclude, &[])
            .map_err(usage)?
    } else if org.accounts.is_empty() {
        return Err(usage(
            "--role-name needs the accounts to scan: --account ID (repeat for several) or --organization",
        ));
    } else {
        org.accounts
            .iter()
            .map(|id| AccountRef::new(id.clone(), "").map_err(usage))
            .collect::<Result<_, _>>()?
    };
    let central = App::new(cfg.clone(), sdk, &[]).map_err(usage)?;
    let registry = central
        .services
        .store
        .as_ref()
        .map(|s| AccountRegistry::with_client(s.client().clone(), s.table().to_owned()));
    let assumer = RoleAssumer::new(sdk, role, &calls);
    let scanner = AccountScanner {
        config: &cfg,
        central: sdk,
        access: &assumer,
        registry: registry.as_ref(),
        notify: args.notify,
        deadline: None,
        end: None,
        retire_unmonitored: false,
    };
    let run_id = format!(
        "cli-{}-{}",
        central.clock.now().format("%Y%m%dT%H%M%SZ"),
        std::process::id()
    );
    let families: Vec<String> = zw_app::FamilyKind::names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let results = zw_app::org::scan_accounts(
        &scanner,
        &accounts,
        &families,
        &run_id,
        usize::from(org.concurrency),
    )
    .await;

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut err = std::io::stderr().lock();
    let mut failed = false;
    let mut worst = None;
    let mut json = Vec::new();
    for (account, r) in accounts.iter().zip(results) {
        let (result, report) = match r {
            Ok(r) => r,
            // Not the account's trouble: ours (the table, a bad request).
            Err(e @ (OrgError::Port(_) | OrgError::App(_) | OrgError::NoTable)) => {
                writeln!(err, "error: account {}: {e}", account.id)?;
                failed = true;
                continue;
            }
            Err(e @ OrgError::Request(_)) => return Err(usage(e)),
        };
        failed |= result.outcome == Outcome::Failed;
        if let Some(w) = report.as_ref().and_then(|r| r.worst_severity()) {
            worst = worst.max(Some(w));
        }
        match args.format {
            Format::Json => json.push(serde_json::json!({
                "account": result.account,
                "outcome": result.outcome,
                "errors": result.errors,
                "scan": report.as_ref().map(|r| &r.scan),
                "findings": report.as_ref().map(|r| &r.findings),
            })),
            Format::Table => {
                writeln!(
                    out,
                    "== account {} ({}): {:?} ==",
                    account.id, result.account.name, result.outcome
                )?;
                match &report {
                    Some(r) => crate::output::table(r, &mut out, false)?,
                    None => writeln!(out, "not scanned: {}", result.errors.join("; "))?,
                }
                writeln!(out)?;
            }
        }
        for e in &result.errors {
            writeln!(err, "error: account {}: {e}", account.id)?;
        }
    }
    if args.format == Format::Json {
        serde_json::to_writer_pretty(&mut out, &json).map_err(std::io::Error::other)?;
        writeln!(out)?;
    }
    out.flush()?;
    if failed {
        writeln!(
            err,
            "error: some accounts could not be scanned (above); the others' results are complete"
        )?;
        return Ok(EXIT_SCAN_FAILED);
    }
    if let (Some(threshold), Some(w)) = (args.fail_on, worst)
        && w >= threshold
    {
        writeln!(
            err,
            "failing: an open finding is {w} (--fail-on {threshold})"
        )?;
        return Ok(EXIT_FAIL_ON);
    }
    Ok(EXIT_OK)
}
