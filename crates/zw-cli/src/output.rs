//! Renders a scan report: a table for people, JSON for pipelines.
//!
//! JSON shape (documented in the README): `{"scan": {...}, "findings": [...]}`
//! where `scan` is the scan record and each finding follows the findings
//! contract (code, severity, resource, region, message, evidence, first_seen,
//! last_seen, state).

use std::io::{self, Write};
use zw_core::{ScanReport, Severity};

pub fn json(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report).map_err(io::Error::other)?;
    writeln!(out)
}

fn colour(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical => "\x1b[1;31m",
        Severity::High => "\x1b[31m",
        Severity::Medium => "\x1b[33m",
        Severity::Low => "\x1b[36m",
        Severity::Info => "\x1b[2m",
    }
}

/// Cuts to `max` characters on a character boundary, marking the cut.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut c: String = s.chars().take(max.saturating_sub(1)).collect();
        c.push('…');
        c
    }
}

pub fn table(report: &ScanReport, out: &mut dyn Write, tty: bool) -> io::Result<()> {
    let scan = &report.scan;
    let rows: Vec<[String; 5]> = report
        .findings
        .iter()
        .map(|f| {
            [
                f.severity.to_string(),
                f.code.to_string(),
                f.region.to_string(),
                clip(&f.resource.name, 40),
                f.message.clone(),
            ]
        })
        .collect();
    let header = ["SEVERITY", "CODE", "REGION", "RESOURCE", "MESSAGE"];
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r.iter()).take(4) {
            *w = (*w).max(cell.chars().count());
        }
    }
    if report.failed() {
        writeln!(
            out,
            "No results: the scan could not run (errors on stderr)."
        )?;
    } else if rows.is_empty() {
        writeln!(out, "No open findings.")?;
    } else {
        writeln!(
            out,
            "{:w0$}  {:w1$}  {:w2$}  {:w3$}  {}",
            header[0],
            header[1],
            header[2],
            header[3],
            header[4],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3]
        )?;
        for (r, f) in rows.iter().zip(&report.findings) {
            let sev = format!("{:w$}", r[0], w = widths[0]);
            let sev = if tty {
                format!("{}{sev}\x1b[0m", colour(f.severity))
            } else {
                sev
            };
            writeln!(
                out,
                "{sev}  {:w1$}  {:w2$}  {:w3$}  {}",
                r[1],
                r[2],
                r[3],
                r[4],
                w1 = widths[1],
                w2 = widths[2],
                w3 = widths[3]
            )?;
        }
    }
    let counts: Vec<String> = Severity::ALL_DESC
        .iter()
        .map(|s| format!("{} {}", scan.open_findings.get(s).copied().unwrap_or(0), s))
        .collect();
    let looked_at: Vec<String> = scan
        .counts
        .iter()
        .map(|(k, n)| format!("{n} {}", k.replace('_', " ")))
        .collect();
    writeln!(
        out,
        "\n{} scan ({}) in {} ms; open findings: {}{}",
        scan.families.join(" + "),
        looked_at.join(", "),
        scan.duration_ms,
        counts.join(", "),
        if scan.stored {
            format!(
                "; {} opened, {} resolved (stored)",
                scan.opened, scan.resolved
            )
        } else {
            " (not stored)".to_owned()
        }
    )?;
    if !scan.errors.is_empty() && !report.failed() {
        writeln!(
            out,
            "{} scan error(s): results are incomplete; findings in the failed parts were kept, not resolved.",
            scan.errors.len()
        )?;
    }
    Ok(())
}

/// Scan errors for stderr, one line per distinct failure: the same error in
/// every region is said once, naming the regions.
pub fn errors(report: &ScanReport, err: &mut dyn Write) -> io::Result<()> {
    let mut grouped: Vec<(String, Vec<String>)> = Vec::new();
    for e in &report.scan.errors {
        let what = format!("{} {} ({}): {}", e.service, e.operation, e.kind, e.message);
        match grouped.iter_mut().find(|(w, _)| *w == what) {
            Some((_, regions)) => regions.push(e.region.to_string()),
            None => grouped.push((what, vec![e.region.to_string()])),
        }
    }
    for (what, regions) in grouped {
        writeln!(err, "error: in {}: {what}", regions.join(", "))?;
    }
    Ok(())
}
