//! `zonewarden suppress add|list|remove`, `findings ack`, `audit`, `export`
//! and `purge`: what people decide about findings and the data zonewarden
//! keeps, each change written with its audit entry. Bad input is refused
//! before any call (exit 2).

use crate::args::{
    AckArgs, AuditArgs, AwsArgs, ExportArgs, Format, InventoryArgs, InventoryWhat, PurgeArgs,
    ReportArgs, SuppressAddArgs, SuppressCommand, TabularFormat,
};
use crate::scan::{CliError, EXIT_OK, EXIT_SCAN_FAILED, EXIT_USAGE};
use chrono::{DateTime, Utc};
use std::io::Write;
use zw_aws::table::Partition;
use zw_aws::triage::{TableTriage, caller_identity, document_suppressions};
use zw_core::FindingState;
use zw_core::inventory::{InventoryEntry, InventoryKind};
use zw_core::org::AccountRef;
use zw_core::ports::{Clock, FindingStore};
use zw_core::triage::{
    self, Acknowledgement, FILE_PREFIX, Matcher, Source, Suppression, Tag, parse_for, parse_until,
};

fn usage(e: impl std::fmt::Display) -> CliError {
    CliError::Usage(e.to_string())
}

/// `--account ID`: that member account's partition; none: the deployment's.
fn partition_of(account: Option<&String>) -> Result<Partition, CliError> {
    match account {
        Some(id) => Ok(Partition::account(
            AccountRef::new(id.clone(), "").map_err(usage)?,
        )),
        None => Ok(Partition::single()),
    }
}

fn failed(e: impl std::fmt::Display) -> Result<u8, CliError> {
    writeln!(std::io::stderr().lock(), "error: {e}")?;
    Ok(EXIT_SCAN_FAILED)
}

/// `--until` or `--for` (clap keeps them exclusive), from `now`.
fn end(
    until: Option<&str>,
    for_: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, CliError> {
    match (until, for_) {
        (Some(u), _) => parse_until(u)
            .map(Some)
            .map_err(|e| usage(format!("--until: {e}"))),
        (None, Some(f)) => parse_for(f)
            .map(|d| Some(now + d))
            .map_err(|e| usage(format!("--for: {e}"))),
        (None, None) => Ok(None),
    }
}

pub async fn suppress(aws: &AwsArgs, what: &SuppressCommand) -> Result<u8, CliError> {
    match what {
        SuppressCommand::Add(a) => add(aws, a).await,
        SuppressCommand::List(a) => list(aws, &a.table, a.format).await,
        SuppressCommand::Remove(a) => remove(aws, &a.table, &a.id).await,
    }
}

/// The suppression `a` describes, checked, with a placeholder owner.
fn requested(a: &SuppressAddArgs, now: DateTime<Utc>) -> Result<Suppression, CliError> {
    let until = end(a.until.as_deref(), a.for_.as_deref(), now)?
        .ok_or_else(|| usage("an end date is required: --until DATE or --for 30d"))?;
    let tag = a
        .tag
        .as_deref()
        .map(Tag::parse)
        .transpose()
        .map_err(|e| usage(format!("--tag: {e}")))?;
    let s = Suppression {
        id: zw_aws::triage::new_suppression_id(),
        matcher: Matcher {
            code: a.code.trim().to_owned(),
            resource: a.resource.clone(),
            account: a.account.clone(),
            region: a.region.clone(),
            tag,
        },
        reason: a.reason.trim().to_owned(),
        created_by: String::new(),
        created_at: now,
        until,
        source: Source::Table,
    };
    s.validate(now).map_err(usage)?;
    Ok(s)
}

async fn add(aws: &AwsArgs, a: &SuppressAddArgs) -> Result<u8, CliError> {
    let now = zw_aws::SystemClock.now();
    let mut s = requested(a, now)?;
    let (app, sdk) = crate::org::central_sdk(aws, &a.table).await?;
    let Some(store) = app.services.store.clone() else {
        return Ok(EXIT_USAGE);
    };
    s.created_by = match caller_identity(&sdk).await {
        Ok(arn) => arn,
        Err(e) => {
            return failed(format!(
                "cannot tell who you are (sts:GetCallerIdentity): {e}"
            ));
        }
    };
    let tables = TableTriage::new(store.clone(), app.config.common.audit_retention_days);
    if let Err(e) = tables.add(&s).await {
        return failed(e);
    }
    // What it covers now, in the partition it names.
    let store = match &s.matcher.account {
        Some(id) => store.in_partition(Partition::account(
            AccountRef::new(id.clone(), "").map_err(usage)?,
        )),
        None => store,
    };
    let covered = match store.load_current().await {
        Ok(c) => c
            .findings
            .iter()
            .filter(|f| f.finding.state != FindingState::Resolved)
            .filter(|f| s.matcher.matches(&f.finding, s.matcher.account.as_deref()))
            .count(),
        Err(_) => 0,
    };
    let mut out = std::io::stdout().lock();
    match a.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &s).map_err(std::io::Error::other)?;
            writeln!(out)?;
        }
        Format::Table => writeln!(
            out,
            "Added suppression {} until {} (by {}). It covers {covered} current finding(s); each becomes suppressed at the next scan of its family.",
            s.id,
            s.until.format("%Y-%m-%d %H:%M UTC"),
            s.created_by
        )?,
    }
    Ok(EXIT_OK)
}

async fn list(aws: &AwsArgs, table: &Option<String>, format: Format) -> Result<u8, CliError> {
    let now = zw_aws::SystemClock.now();
    let app = crate::org::central_sdk(aws, table).await?.0;
    let Some(store) = app.services.store.clone() else {
        return Ok(EXIT_USAGE);
    };
    let mut all = match TableTriage::new(store.clone(), app.config.common.audit_retention_days)
        .list()
        .await
    {
        Ok(l) => l,
        Err(e) => return failed(e),
    };
    match document_suppressions(store.suppressions_document(), now).await {
        Ok(file) => all.extend(file),
        Err(e) => return Err(usage(e)),
    }
    all.sort_by(|a, b| a.until.cmp(&b.until).then(a.id.cmp(&b.id)));
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &all).map_err(std::io::Error::other)?;
            writeln!(out)?;
        }
        Format::Table => {
            if all.is_empty() {
                writeln!(out, "No suppressions.")?;
            }
            for s in &all {
                let m = &s.matcher;
                let mut scope = vec![format!("code {}", m.code)];
                scope.extend(m.resource.as_ref().map(|r| format!("resource {r}")));
                scope.extend(m.account.as_ref().map(|r| format!("account {r}")));
                scope.extend(m.region.as_ref().map(|r| format!("region {r}")));
                scope.extend(m.tag.as_ref().map(|t| format!("tag {t}")));
                writeln!(
                    out,
                    "{:20}  {:5}  until {}{}  {}  by {}: {}",
                    s.id,
                    match s.source {
                        Source::Table => "table",
                        Source::File => "file",
                    },
                    s.until.format("%Y-%m-%d %H:%M UTC"),
                    if s.is_active(now) { "" } else { " (ended)" },
                    scope.join(", "),
                    s.created_by,
                    s.reason
                )?;
            }
        }
    }
    Ok(EXIT_OK)
}

async fn remove(aws: &AwsArgs, table: &Option<String>, id: &str) -> Result<u8, CliError> {
    if let Some(name) = id.strip_prefix(FILE_PREFIX) {
        return Err(usage(format!(
            "{id} comes from the suppressions document: delete the entry `id: {name}` there and update the parameter"
        )));
    }
    let (app, sdk) = crate::org::central_sdk(aws, table).await?;
    let Some(store) = app.services.store.clone() else {
        return Ok(EXIT_USAGE);
    };
    let actor = match caller_identity(&sdk).await {
        Ok(arn) => arn,
        Err(e) => {
            return failed(format!(
                "cannot tell who you are (sts:GetCallerIdentity): {e}"
            ));
        }
    };
    let now = zw_aws::SystemClock.now();
    match TableTriage::new(store, app.config.common.audit_retention_days)
        .remove(id, &actor, now)
        .await
    {
        Ok(Some(s)) => {
            writeln!(
                std::io::stdout().lock(),
                "Removed suppression {} ({}). The findings it covered open again at the next scan of their family if the problem persists.",
                s.id,
                s.reason
            )?;
            Ok(EXIT_OK)
        }
        Ok(None) => Err(usage(format!(
            "no suppression `{id}` in the table (see `zonewarden suppress list`)"
        ))),
        Err(e) => failed(e),
    }
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
    let (app, sdk) = crate::org::central_sdk(aws, &a.table).await?;
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

/// `--since`: a duration back from `now`, a date (from its start) or an
/// RFC 3339 time.
fn since(raw: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, CliError> {
    parse_for(raw)
        .map(|d| now - d)
        .or_else(|_| {
            if raw.trim().len() == 10 {
                parse_until(raw).map(|t| t - chrono::Duration::days(1))
            } else {
                parse_until(raw)
            }
        })
        .map_err(|_| {
            usage(format!(
                "--since: `{raw}` is not a duration back from now (`30d`), a date (`2026-11-01`) or an RFC 3339 time"
            ))
        })
}

/// `zonewarden export --out FILE [--since WHEN] [--kind K]...`.
pub async fn export(aws: &AwsArgs, a: &ExportArgs) -> Result<u8, CliError> {
    let now = zw_aws::SystemClock.now();
    let selection = zw_aws::export::Selection {
        kinds: a.kinds.clone(),
        since: a.since.as_deref().map(|s| since(s, now)).transpose()?,
    };
    let known: Vec<&str> = zw_aws::export::KINDS.iter().map(|(_, k)| *k).collect();
    if let Some(bad) = a.kinds.iter().find(|k| !known.contains(&k.as_str())) {
        return Err(usage(format!(
            "--kind: `{bad}` is not a kind ({})",
            known.join(", ")
        )));
    }
    let app = crate::org::central_sdk(aws, &a.table).await?.0;
    let Some(store) = app.services.store.clone() else {
        return Ok(EXIT_USAGE);
    };
    let to_stdout = a.out.as_os_str() == "-";
    let mut sink: Box<dyn Write> = if to_stdout {
        Box::new(std::io::stdout().lock())
    } else {
        match std::fs::File::create(&a.out) {
            Ok(f) => Box::new(std::io::BufWriter::new(f)),
            Err(e) => return Err(usage(format!("--out {}: {e}", a.out.display()))),
        }
    };
    let counts =
        match zw_aws::export::export(store.client(), store.table(), &selection, &mut *sink).await {
            Ok(c) => c,
            Err(e) => return failed(format!("{e} (the file holds what was read before)")),
        };
    sink.flush()?;
    drop(sink);
    let kinds: Vec<String> = counts
        .by_kind
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    writeln!(
        std::io::stderr().lock(),
        "Exported {} item(s){} ({}) in format {}.",
        counts.total,
        if to_stdout {
            String::new()
        } else {
            format!(" to {}", a.out.display())
        },
        if kinds.is_empty() {
            "none".into()
        } else {
            kinds.join(", ")
        },
        zw_aws::export::FORMAT
    )?;
    Ok(EXIT_OK)
}

/// `zonewarden purge --all [--yes]`.
pub async fn purge(aws: &AwsArgs, a: &PurgeArgs) -> Result<u8, CliError> {
    let (app, sdk) = crate::org::central_sdk(aws, &a.table).await?;
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

/// `zonewarden audit [--since WHEN] [--format json]`.
pub async fn audit(aws: &AwsArgs, a: &AuditArgs) -> Result<u8, CliError> {
    let now = zw_aws::SystemClock.now();
    let since = since(&a.since, now)?;
    let app = crate::org::central_sdk(aws, &a.table).await?.0;
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

/// A cell of the table and CSV outputs: text as it is, lists joined by
/// spaces, absent as `-`.
fn cell(v: Option<&serde_json::Value>) -> String {
    match v {
        None | Some(serde_json::Value::Null) => "-".into(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Array(a)) if a.is_empty() => "-".into(),
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .map(|x| cell(Some(x)))
            .collect::<Vec<_>>()
            .join(" "),
        Some(other) => other.to_string(),
    }
}

/// One CSV field, quoted when it needs to be (RFC 4180).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// `zonewarden inventory certificates|zones|health-checks|endpoints|calendar`.
pub async fn inventory(aws: &AwsArgs, a: &InventoryArgs) -> Result<u8, CliError> {
    let now = zw_aws::SystemClock.now();
    let within = a
        .expiring_within
        .as_deref()
        .map(parse_for)
        .transpose()
        .map_err(|e| usage(format!("--expiring-within: {e}")))?;
    let kinds: Vec<InventoryKind> = match a.what {
        InventoryWhat::Certificates => vec![InventoryKind::Certificates],
        InventoryWhat::Zones => vec![InventoryKind::Zones],
        InventoryWhat::HealthChecks => vec![InventoryKind::HealthChecks],
        InventoryWhat::Endpoints => vec![InventoryKind::Endpoints],
        InventoryWhat::Calendar => vec![InventoryKind::Certificates, InventoryKind::Endpoints],
    };
    let mut rows: Vec<(InventoryKind, InventoryEntry)> = Vec::new();
    if a.live {
        match live_inventory(aws, a, &kinds).await? {
            Some(entries) => rows = entries,
            None => return Ok(EXIT_SCAN_FAILED),
        }
    } else {
        let app = crate::org::central_sdk(aws, &a.table).await?.0;
        let Some(store) = app.services.store.clone() else {
            return Ok(EXIT_USAGE);
        };
        let partition = partition_of(a.account.as_ref())?;
        for kind in &kinds {
            match zw_aws::triage::load_estate(store.client(), store.table(), &partition, *kind)
                .await
            {
                Ok(entries) => rows.extend(entries.into_iter().map(|e| (*kind, e))),
                Err(e) => return failed(e),
            }
        }
    }
    let calendar = a.what == InventoryWhat::Calendar || within.is_some();
    if calendar {
        let keep: Vec<&InventoryEntry> =
            zw_core::inventory::expiring(rows.iter().map(|(_, e)| e), now, within);
        let ids: std::collections::BTreeSet<(String, String)> = keep
            .iter()
            .map(|e| (e.id.clone(), e.region.clone()))
            .collect();
        rows.retain(|(_, e)| ids.contains(&(e.id.clone(), e.region.clone())));
        rows.sort_by(|x, y| x.1.not_after.cmp(&y.1.not_after).then(x.1.id.cmp(&y.1.id)));
    } else {
        rows.sort_by(|x, y| x.1.region.cmp(&y.1.region).then(x.1.name.cmp(&y.1.name)));
    }
    let columns: Vec<&str> = if a.what == InventoryWhat::Calendar {
        vec!["kind"]
    } else {
        kinds[0].columns().to_vec()
    };
    let mut out = std::io::stdout().lock();
    match a.format {
        TabularFormat::Json => {
            let list: Vec<serde_json::Value> = rows
                .iter()
                .map(|(k, e)| {
                    let mut v = serde_json::to_value(e).unwrap_or_default();
                    if let Some(m) = v.as_object_mut() {
                        m.insert("kind".into(), k.as_str().into());
                        m.insert("days_left".into(), e.days_left(now).into());
                    }
                    v
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &list).map_err(std::io::Error::other)?;
            writeln!(out)?;
        }
        TabularFormat::Csv | TabularFormat::Table => {
            let mut header = vec!["name", "id", "region", "not_after", "days_left"];
            header.extend(&columns);
            header.push("checked_at");
            let lines: Vec<Vec<String>> = rows
                .iter()
                .map(|(k, e)| {
                    let mut l = vec![
                        e.name.clone(),
                        e.id.clone(),
                        e.region.clone(),
                        e.not_after
                            .map_or("-".into(), |t| t.format("%Y-%m-%d").to_string()),
                        e.days_left(now).map_or("-".into(), |d| d.to_string()),
                    ];
                    for c in &columns {
                        l.push(if *c == "kind" {
                            k.as_str().to_owned()
                        } else {
                            cell(e.details.get(*c))
                        });
                    }
                    l.push(e.checked_at.format("%Y-%m-%d %H:%M").to_string());
                    l
                })
                .collect();
            if a.format == TabularFormat::Csv {
                writeln!(out, "{}", header.join(","))?;
                for l in &lines {
                    writeln!(
                        out,
                        "{}",
                        l.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",")
                    )?;
                }
            } else if lines.is_empty() {
                writeln!(
                    out,
                    "Nothing in the inventory{}: it fills as scans run with the table (zonewarden scan ... --table, or the functions).",
                    if calendar { " ends in that window" } else { "" }
                )?;
            } else {
                let width: Vec<usize> = (0..header.len())
                    .map(|i| {
                        lines
                            .iter()
                            .map(|l| l[i].chars().count().min(60))
                            .chain([header[i].len()])
                            .max()
                            .unwrap_or(0)
                    })
                    .collect();
                let render = |cells: Vec<String>| {
                    cells
                        .iter()
                        .zip(&width)
                        .map(|(c, w)| {
                            let c: String = c.chars().take(60).collect();
                            format!("{c:w$}")
                        })
                        .collect::<Vec<_>>()
                        .join("  ")
                        .trim_end()
                        .to_owned()
                };
                writeln!(
                    out,
                    "{}",
                    render(header.iter().map(|h| h.to_uppercase()).collect())
                )?;
                for l in lines {
                    writeln!(out, "{}", render(l))?;
                }
            }
        }
    }
    Ok(EXIT_OK)
}

/// `zonewarden report --html FILE [--account ID]`.
pub async fn report(aws: &AwsArgs, a: &ReportArgs) -> Result<u8, CliError> {
    let now = zw_aws::SystemClock.now();
    if a.live {
        return live_report(aws, a, now).await;
    }
    let app = crate::org::central_sdk(aws, &a.table).await?.0;
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
    let mut data = crate::report::ReportData {
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
        ..crate::report::ReportData::default()
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

/// A read-only scan of `families` now (nothing written: no table, no
/// metrics, no events), or None when it could not run (its errors are
/// printed either way).
async fn live_scan(
    aws: &AwsArgs,
    regions: &[zw_core::Region],
    families: &[zw_app::FamilyKind],
) -> Result<Option<zw_core::ScanReport>, CliError> {
    let (sdk, mut cfg) = crate::scan::load(aws, regions.first().map(ToString::to_string)).await?;
    if !regions.is_empty() {
        cfg.common.regions = regions.to_vec();
        cfg.common.regions.dedup();
    }
    cfg.common.table_name = None;
    let sdk = zw_aws::with_timeouts(&sdk, &cfg.common.aws_timeouts);
    let app = zw_app::App::new(cfg, &sdk, families).map_err(usage)?;
    let label = zw_core::ScanLabel {
        scan_id: format!("cli-live-{}", std::process::id()),
        trigger: "cli".into(),
    };
    let sinks: zw_core::Sinks<'_, zw_aws::store::DynamoStore, zw_aws::metrics::CloudWatchSink> =
        zw_core::Sinks {
            store: None,
            metrics: None,
            events: None,
        };
    let report = app
        .scan(sinks, label, &zw_app::ScanOptions::default())
        .await;
    crate::output::errors(&report, &mut std::io::stderr().lock())?;
    if report.failed() {
        writeln!(
            std::io::stderr().lock(),
            "error: the scan could not run (see the errors above)"
        )?;
        return Ok(None);
    }
    Ok(Some(report))
}

/// `inventory --live`: what a read-only scan of the families that look at
/// `kinds` looked at.
async fn live_inventory(
    aws: &AwsArgs,
    a: &InventoryArgs,
    kinds: &[InventoryKind],
) -> Result<Option<Vec<(InventoryKind, InventoryEntry)>>, CliError> {
    let families: Vec<zw_app::FamilyKind> = kinds
        .iter()
        .map(|k| match k {
            InventoryKind::Certificates => zw_app::FamilyKind::Certificates,
            InventoryKind::Zones => zw_app::FamilyKind::Dns,
            InventoryKind::HealthChecks => zw_app::FamilyKind::Health,
            InventoryKind::Endpoints => zw_app::FamilyKind::Endpoints,
        })
        .collect();
    let Some(report) = live_scan(aws, &a.regions, &families).await? else {
        return Ok(None);
    };
    Ok(Some(
        report
            .inventory
            .into_iter()
            .filter(|s| kinds.contains(&s.kind))
            .flat_map(|s| s.entries.into_iter().map(move |e| (s.kind, e)))
            .collect(),
    ))
}

/// Appends one entry for a command a person ran (`license-check`,
/// `table-migrate`) to the audit log, as that person. A failure is a
/// warning: the command itself is done.
pub(crate) async fn audit_action(
    app: &zw_app::App,
    sdk: &zw_aws::SdkConfig,
    action: &str,
    target: String,
    after: Option<serde_json::Value>,
) -> Result<(), CliError> {
    let Some(store) = app.services.store.clone() else {
        return Ok(());
    };
    let written = async {
        let actor = caller_identity(sdk).await?;
        let entry = triage::AuditEntry {
            at: zw_aws::SystemClock.now(),
            actor,
            action: action.to_owned(),
            target,
            before: None,
            after,
        };
        TableTriage::new(store, app.config.common.audit_retention_days)
            .record(&entry)
            .await
    };
    if let Err(e) = written.await {
        writeln!(
            std::io::stderr().lock(),
            "warning: the audit entry ({action}) was not written: {e}"
        )?;
    }
    Ok(())
}

/// `report --live`: the report of a read-only scan now.
async fn live_report(aws: &AwsArgs, a: &ReportArgs, now: DateTime<Utc>) -> Result<u8, CliError> {
    use crate::args::LiveFamily;
    let families: Vec<zw_app::FamilyKind> = if a.families.is_empty() {
        zw_app::FamilyKind::ALL.to_vec()
    } else {
        a.families
            .iter()
            .map(|f| match f {
                LiveFamily::Certificates => zw_app::FamilyKind::Certificates,
                LiveFamily::Dns => zw_app::FamilyKind::Dns,
                LiveFamily::Health => zw_app::FamilyKind::Health,
                LiveFamily::Endpoints => zw_app::FamilyKind::Endpoints,
            })
            .collect()
    };
    let Some(scan) = live_scan(aws, &a.regions, &families).await? else {
        return Ok(EXIT_SCAN_FAILED);
    };
    let mut data = crate::report::ReportData {
        whose: "a live read-only scan".into(),
        table: "(none: --live, so no suppression, acknowledgement or scan history)".into(),
        findings: scan.findings.clone(),
        scans: serde_json::to_value(&scan.scan).into_iter().collect(),
        ..crate::report::ReportData::default()
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
    data: &crate::report::ReportData,
    now: DateTime<Utc>,
) -> Result<u8, CliError> {
    let html = crate::report::render(data, now);
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
