//! `zonewarden findings [--account ID] [--include-suppressed]` and
//! `findings ack ID`.

use crate::args::{AckArgs, AwsArgs, FindingsArgs, Format, end};
use crate::exit::{CliError, EXIT_OK, EXIT_SCAN_FAILED, EXIT_USAGE, failed, usage};
use crate::session::central;
use std::io::Write;
use zw_aws::table::Partition;
use zw_aws::triage::{TableTriage, caller_identity};
use zw_core::org::AccountRef;
use zw_core::ports::{Clock, FindingStore};
use zw_core::triage::Acknowledgement;
use zw_core::{FindingState, triage};

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

/// `zonewarden findings ack ID --reason TEXT [--until DATE | --for 7d]`.
pub async fn ack(aws: &AwsArgs, a: &AckArgs) -> Result<u8, CliError> {
    let now = zw_aws::SystemClock.now();
    if a.reason.trim().is_empty() {
        return Err(usage("--reason is empty: say why, and who is on it"));
    }
    let until = end(a.until.as_deref(), a.for_.as_deref(), now)?;
    if let Some(u) = until {
        triage::check_until(u, now).map_err(|e| usage(format!("the acknowledgement's {e}")))?;
    }
    let (app, sdk) = crate::session::central_sdk(aws, &a.table).await?;
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
        Err(e) => return failed(e),
    };
    let wanted = a.id.trim();
    let matching: Vec<_> = current
        .findings
        .iter()
        .filter(|f| {
            f.finding.short_id() == wanted
                || format!("{}#{}", f.finding.code.id(), f.finding.resource.id) == wanted
        })
        .collect();
    let found = match matching.as_slice() {
        [one] => *one,
        [] => {
            return Err(usage(format!(
                "no finding `{wanted}` (the id column of `zonewarden findings`)"
            )));
        }
        _ => {
            return Err(usage(format!(
                "`{wanted}` names {} findings: give `<code>#<resource id>` instead",
                matching.len()
            )));
        }
    };
    if found.finding.state != FindingState::Open {
        return Err(usage(format!(
            "finding {wanted} is {}: only open findings are acknowledged",
            found.finding.state.as_str()
        )));
    }
    let by = match caller_identity(&sdk).await {
        Ok(arn) => arn,
        Err(e) => {
            return failed(format!(
                "cannot tell who you are (sts:GetCallerIdentity): {e}"
            ));
        }
    };
    let ack = Acknowledgement {
        by,
        at: now,
        reason: a.reason.trim().to_owned(),
        until,
    };
    let tables = TableTriage::new(store.clone(), app.config.common.audit_retention_days);
    if let Err(e) = tables.acknowledge(&store, found, ack.clone()).await {
        return failed(e);
    }
    writeln!(
        std::io::stdout().lock(),
        "Acknowledged {} ({} on {}){}. It stays open, and leaves the digest until it changes{}.",
        wanted,
        found.finding.code.id(),
        found.finding.resource.name,
        until
            .map(|u| format!(" until {}", u.format("%Y-%m-%d %H:%M UTC")))
            .unwrap_or_default(),
        if until.is_some() {
            ", resolves or the acknowledgement ends"
        } else {
            " or resolves"
        }
    )?;
    Ok(EXIT_OK)
}
