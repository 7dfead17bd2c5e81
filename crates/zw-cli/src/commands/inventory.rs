//! `zonewarden inventory certificates|zones|health-checks|endpoints|calendar`.

use crate::args::{AwsArgs, InventoryArgs, InventoryWhat, TabularFormat};
use crate::exit::{CliError, EXIT_OK, EXIT_SCAN_FAILED, EXIT_USAGE, failed, usage};
use crate::live::live_inventory;
use crate::session::partition_of;
use std::io::Write;
use zw_core::inventory::{InventoryEntry, InventoryKind};
use zw_core::ports::Clock;
use zw_core::triage::parse_for;

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
        let app = crate::session::central_sdk(aws, &a.table).await?.0;
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
