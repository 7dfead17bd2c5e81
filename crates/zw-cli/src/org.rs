//! Many accounts from the CLI: `scan all --role-name NAME --account ID... |
//! --organization`, `findings [--account ID]` and `table migrate`.

use crate::args::{AwsArgs, FindingsArgs, Format, MigrateArgs, OrgArgs, ScanArgs};
use crate::scan::{CliError, EXIT_FAIL_ON, EXIT_OK, EXIT_SCAN_FAILED, EXIT_USAGE};
use std::io::Write;
use zw_app::App;
use zw_app::org::{AccountScanner, OrgError};
use zw_aws::org::{AccountRegistry, OrganizationLister, RoleAssumer};
use zw_aws::table::Partition;
use zw_aws::usage::ApiCallCounter;
use zw_aws::{SdkConfig, with_timeouts};
use zw_core::org::{AccountRef, Outcome};
use zw_core::ports::{Clock, FindingStore};
use zw_core::{Config, FindingState};

fn usage(e: impl std::fmt::Display) -> CliError {
    CliError::Usage(e.to_string())
}

/// `scan all` in each account, at most `--concurrency` at once.
pub async fn scan_accounts(
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
    let families: Vec<String> = zw_app::FamilyKind::ALL
        .iter()
        .map(|k| k.as_str().to_owned())
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

/// Configuration and the table's adapters, for the commands that only read
/// or maintain the table.
async fn central(aws: &AwsArgs, table: &Option<String>) -> Result<App, CliError> {
    central_sdk(aws, table).await.map(|(app, _)| app)
}

/// `central`, with the SDK configuration it was built from (for STS).
pub(crate) async fn central_sdk(
    aws: &AwsArgs,
    table: &Option<String>,
) -> Result<(App, SdkConfig), CliError> {
    let (sdk, mut cfg) = crate::scan::load(aws, None).await?;
    if let Some(t) = table {
        cfg.common.table_name = Some(t.clone());
    }
    if cfg.common.table_name.is_none() {
        return Err(usage(
            "no findings table: pass --table NAME or set ZW_TABLE_NAME",
        ));
    }
    let sdk = with_timeouts(&sdk, &cfg.common.aws_timeouts);
    let app = App::new(cfg, &sdk, &[]).map_err(usage)?;
    Ok((app, sdk))
}

/// `zonewarden findings [--account ID]`.
pub async fn findings(aws: &AwsArgs, a: &FindingsArgs) -> Result<u8, CliError> {
    let app = central(aws, &a.table).await?;
    let Some(store) = app.services.store.clone() else {
        return Ok(EXIT_USAGE);
    };
    let store = match &a.account {
        Some(id) => store.in_partition(Partition::account(
            AccountRef::new(id.clone(), "").map_err(usage)?,
        )),
        None => store,
    };
    let current = match store.load_current().await {
        Ok(c) => c,
        Err(e) => {
            writeln!(std::io::stderr().lock(), "error: {e}")?;
            return Ok(EXIT_SCAN_FAILED);
        }
    };
    let min = a.min_severity.unwrap_or(zw_core::Severity::Info);
    let mut open: Vec<zw_core::Finding> = current
        .findings
        .into_iter()
        .map(|s| s.finding)
        .filter(|f| {
            (f.state == FindingState::Open
                || (a.include_suppressed && f.state == FindingState::Suppressed))
                && f.severity >= min
        })
        .collect();
    open.sort_by(|x, y| {
        y.severity
            .cmp(&x.severity)
            .then(x.first_seen.cmp(&y.first_seen))
            .then(x.key().cmp(&y.key()))
    });
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match a.format {
        Format::Json => {
            let listed: Vec<serde_json::Value> = open
                .iter()
                .map(|f| {
                    let mut v = serde_json::to_value(f).unwrap_or_default();
                    if let Some(m) = v.as_object_mut() {
                        m.insert("id".into(), f.short_id().into());
                    }
                    v
                })
                .collect();
            serde_json::to_writer_pretty(
                &mut out,
                &serde_json::json!({"account": a.account, "findings": listed}),
            )
            .map_err(std::io::Error::other)?;
            writeln!(out)?;
        }
        Format::Table => {
            let whose = a.account.as_ref().map_or_else(
                || "this deployment".to_owned(),
                |id| format!("account {id}"),
            );
            if open.is_empty() {
                writeln!(out, "No open findings for {whose}.")?;
            }
            for f in &open {
                writeln!(
                    out,
                    "{}  {:8}  {:32}  {:12}  {}  {}",
                    f.short_id(),
                    f.severity.as_str(),
                    f.code.id(),
                    f.region.as_str(),
                    f.resource.name,
                    f.message
                )?;
                if let Some(by) = &f.suppression {
                    writeln!(
                        out,
                        "              suppressed by {} until {} ({}): {}",
                        by.id,
                        by.until.format("%Y-%m-%d %H:%M UTC"),
                        by.created_by,
                        by.reason
                    )?;
                }
                if let Some(ack) = &f.acknowledged {
                    writeln!(
                        out,
                        "              acknowledged by {} on {}{}: {}",
                        ack.by,
                        ack.at.format("%Y-%m-%d"),
                        ack.until
                            .map(|u| format!(" until {}", u.format("%Y-%m-%d %H:%M UTC")))
                            .unwrap_or_default(),
                        ack.reason
                    )?;
                }
            }
            let suppressed = open
                .iter()
                .filter(|f| f.state == FindingState::Suppressed)
                .count();
            if !open.is_empty() {
                writeln!(
                    out,
                    "\n{} open finding(s){} for {whose}.",
                    open.len() - suppressed,
                    if a.include_suppressed {
                        format!(" and {suppressed} suppressed")
                    } else {
                        String::new()
                    }
                )?;
            }
        }
    }
    for (_, e) in &current.unreadable {
        writeln!(std::io::stderr().lock(), "warning: {e}")?;
    }
    Ok(EXIT_OK)
}

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
                crate::triage::audit_action(
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
