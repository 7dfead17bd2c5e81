//! `zonewarden suppress add|list|remove`: each change written with its audit
//! entry. Bad input is refused before any call (exit 2).

use crate::args::{AwsArgs, Format, SuppressAddArgs, SuppressCommand, end};
use crate::exit::{CliError, EXIT_OK, EXIT_USAGE, failed, usage};
use chrono::{DateTime, Utc};
use std::io::Write;
use zw_aws::table::Partition;
use zw_aws::triage::{TableTriage, caller_identity, document_suppressions};
use zw_core::FindingState;
use zw_core::org::AccountRef;
use zw_core::ports::{Clock, FindingStore};
use zw_core::triage::{FILE_PREFIX, Matcher, Source, Suppression, Tag};

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
    let (app, sdk) = crate::session::central_sdk(aws, &a.table).await?;
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
    let app = crate::session::central_sdk(aws, table).await?.0;
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
    let (app, sdk) = crate::session::central_sdk(aws, table).await?;
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
