//! `zonewarden report --html FILE`: one self-contained HTML file from the
//! table. No script, no external asset, a Content-Security-Policy that
//! forbids every request, readable printed. Pure rendering here
//! (`render`); reading the table is in `commands::report`.

use chrono::{DateTime, Duration, Utc};
use std::fmt::Write as _;
use zw_core::inventory::InventoryEntry;
use zw_core::triage::Suppression;
use zw_core::{Finding, FindingState, Severity};

/// Everything the report shows.
#[derive(Debug, Default)]
pub struct ReportData {
    /// `this deployment` or `account 222222222222`.
    pub whose: String,
    pub table: String,
    /// Open and suppressed findings.
    pub findings: Vec<Finding>,
    pub certificates: Vec<InventoryEntry>,
    pub endpoints: Vec<InventoryEntry>,
    pub zones: Vec<InventoryEntry>,
    pub health_checks: Vec<InventoryEntry>,
    pub suppressions: Vec<Suppression>,
    /// Scan records as stored (JSON), newest first.
    pub scans: Vec<serde_json::Value>,
}

/// How far ahead the expiry timeline looks.
pub const TIMELINE_DAYS: i64 = 180;
/// Scans listed.
const SCANS_SHOWN: usize = 20;

/// The Content-Security-Policy of the file: nothing may be fetched.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

const STYLE: &str = "
body { font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; color: #1a1a1a; background: #fff; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 2px solid #ccc; padding-bottom: .2rem; }
.meta { color: #4a4a4a; }
.verdict { font-size: 1.2rem; font-weight: 600; padding: .8rem 1rem; border-radius: 4px; }
.ok { background: #e3f1e4; color: #14451a; } .notok { background: #fbe4e4; color: #6e0b0b; }
table { border-collapse: collapse; width: 100%; margin: .6rem 0 1rem; }
th, td { text-align: left; vertical-align: top; padding: .35rem .5rem; border-bottom: 1px solid #ddd; }
th { background: #f0f0f0; }
.sev { display: inline-block; min-width: 4.5rem; text-align: center; color: #fff; border-radius: 3px; padding: 0 .3rem; font-weight: 600; }
.critical { background: #8b0000; } .high { background: #a13d00; } .medium { background: #6e5300; } .low { background: #1f5582; } .info { background: #4d4d4d; }
.fix { color: #333; font-size: .92em; }
code { font-size: .92em; }
svg text { fill: currentColor; font-size: 11px; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } tr { break-inside: avoid; } }
";

/// The whole file.
pub fn render(d: &ReportData, now: DateTime<Utc>) -> String {
    let mut h = String::new();
    let open: Vec<&Finding> = d
        .findings
        .iter()
        .filter(|f| f.state == FindingState::Open)
        .collect();
    let suppressed: Vec<&Finding> = d
        .findings
        .iter()
        .filter(|f| f.state == FindingState::Suppressed)
        .collect();
    let count = |s: Severity| open.iter().filter(|f| f.severity == s).count();
    let serious = count(Severity::Critical) + count(Severity::High);
    let dated: Vec<&InventoryEntry> = zw_core::inventory::expiring(
        d.certificates.iter().chain(&d.endpoints),
        now,
        Some(Duration::days(TIMELINE_DAYS)),
    );
    let within_30 = dated
        .iter()
        .filter(|e| e.not_after.is_some_and(|na| na <= now + Duration::days(30)))
        .count();
    let last_scan = d.scans.first();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<title>zonewarden report: {whose}, {date}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n\
<h1>zonewarden report: {whose}</h1>\n\
<p class=\"meta\">Generated {at} UTC from table <code>{table}</code>. This file makes no network request and holds no script.</p>\n",
        whose = esc(&d.whose),
        date = day(now),
        at = now.format("%Y-%m-%d %H:%M"),
        table = esc(&d.table),
    );

    // Summary.
    let _ = write!(
        h,
        "<section aria-labelledby=\"summary\">\n<h2 id=\"summary\">Are we OK?</h2>\n"
    );
    if serious == 0 {
        let _ = writeln!(
            h,
            "<p class=\"verdict ok\">OK: no critical or high finding is open.</p>"
        );
    } else {
        let _ = writeln!(
            h,
            "<p class=\"verdict notok\">Not OK: {} critical and {} high finding(s) open.</p>",
            count(Severity::Critical),
            count(Severity::High)
        );
    }
    let _ = write!(
        h,
        "<table>\n<caption>Open findings by severity, and what is quiet</caption>\n<thead><tr>"
    );
    for s in Severity::ALL_DESC {
        let _ = write!(h, "<th scope=\"col\">{s}</th>");
    }
    let _ = write!(
        h,
        "<th scope=\"col\">suppressed</th><th scope=\"col\">acknowledged</th></tr></thead>\n<tbody><tr>"
    );
    for s in Severity::ALL_DESC {
        let _ = write!(h, "<td>{}</td>", count(s));
    }
    let acked = open.iter().filter(|f| f.acknowledged.is_some()).count();
    let _ = writeln!(
        h,
        "<td>{}</td><td>{acked}</td></tr></tbody>\n</table>",
        suppressed.len()
    );
    let _ = writeln!(
        h,
        "<p>{within_30} certificate(s) or served certificate(s) end within 30 days. {}</p>\n</section>",
        match last_scan {
            Some(s) => format!(
                "Last scan: {} ({}), {} error(s).",
                esc(s["started_at"].as_str().unwrap_or("?")),
                esc(&families(s)),
                s["errors"].as_array().map_or(0, Vec::len)
            ),
            None => "No scan record in the last 7 days.".to_owned(),
        }
    );

    // Open findings.
    let _ = write!(
        h,
        "<section aria-labelledby=\"open\">\n<h2 id=\"open\">Open findings</h2>\n"
    );
    if open.is_empty() {
        let _ = writeln!(h, "<p>None.</p>");
    }
    for s in Severity::ALL_DESC {
        let of: Vec<&&Finding> = open.iter().filter(|f| f.severity == s).collect();
        if of.is_empty() {
            continue;
        }
        let _ = write!(
            h,
            "<h3>{s} ({})</h3>\n<table>\n<thead><tr><th scope=\"col\">code</th><th scope=\"col\">resource</th><th scope=\"col\">region</th><th scope=\"col\">since</th><th scope=\"col\">what, and how to fix</th></tr></thead>\n<tbody>\n",
            of.len()
        );
        for f in of {
            let ack = f
                .acknowledged
                .as_ref()
                .map(|a| {
                    format!(
                        "<br><strong>Acknowledged</strong> by {} on {}: {}",
                        esc(&a.by),
                        day(a.at),
                        esc(&a.reason)
                    )
                })
                .unwrap_or_default();
            let _ = writeln!(
                h,
                "<tr><td><span class=\"sev {sev}\">{sev}</span> <code>{code}</code></td><td>{name}<br><code>{id}</code></td><td>{region}</td><td>{since}</td><td>{msg}<br><span class=\"fix\">How to fix: {fix}</span>{ack}</td></tr>",
                sev = f.severity,
                code = f.code.id(),
                name = esc(&f.resource.name),
                id = esc(&f.resource.id),
                region = esc(f.region.as_str()),
                since = day(f.first_seen),
                msg = esc(&f.message),
                fix = esc(f.code.doc().fix),
            );
        }
        let _ = writeln!(h, "</tbody>\n</table>");
    }
    let _ = writeln!(h, "</section>");

    // Suppressed.
    let _ = write!(
        h,
        "<section aria-labelledby=\"suppressed\">\n<h2 id=\"suppressed\">Suppressed findings and suppressions</h2>\n"
    );
    if suppressed.is_empty() {
        let _ = writeln!(h, "<p>No finding is suppressed.</p>");
    } else {
        let _ = write!(
            h,
            "<table>\n<thead><tr><th scope=\"col\">finding</th><th scope=\"col\">resource</th><th scope=\"col\">suppression</th><th scope=\"col\">reason</th><th scope=\"col\">owner</th><th scope=\"col\">ends</th></tr></thead>\n<tbody>\n"
        );
        for f in &suppressed {
            if let Some(by) = &f.suppression {
                let _ = writeln!(
                    h,
                    "<tr><td><span class=\"sev {sev}\">{sev}</span> <code>{code}</code></td><td>{name}</td><td><code>{id}</code></td><td>{reason}</td><td>{owner}</td><td>{until}</td></tr>",
                    sev = f.severity,
                    code = f.code.id(),
                    name = esc(&f.resource.name),
                    id = esc(&by.id),
                    reason = esc(&by.reason),
                    owner = esc(&by.created_by),
                    until = day(by.until),
                );
            }
        }
        let _ = writeln!(h, "</tbody>\n</table>");
    }
    if !d.suppressions.is_empty() {
        let _ = write!(
            h,
            "<table>\n<caption>Every suppression</caption>\n<thead><tr><th scope=\"col\">id</th><th scope=\"col\">matches</th><th scope=\"col\">reason</th><th scope=\"col\">owner</th><th scope=\"col\">ends</th></tr></thead>\n<tbody>\n"
        );
        for s in &d.suppressions {
            let m = &s.matcher;
            let mut what = vec![format!("code {}", m.code)];
            what.extend(m.resource.as_ref().map(|r| format!("resource {r}")));
            what.extend(m.account.as_ref().map(|r| format!("account {r}")));
            what.extend(m.region.as_ref().map(|r| format!("region {r}")));
            what.extend(m.tag.as_ref().map(|t| format!("tag {t}")));
            let _ = writeln!(
                h,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td></tr>",
                esc(&s.id),
                esc(&what.join(", ")),
                esc(&s.reason),
                esc(&s.created_by),
                day(s.until),
                if s.is_active(now) { "" } else { " (ended)" }
            );
        }
        let _ = writeln!(h, "</tbody>\n</table>");
    }
    let _ = writeln!(h, "</section>");

    // Expiry timeline.
    let _ = write!(
        h,
        "<section aria-labelledby=\"expiry\">\n<h2 id=\"expiry\">Certificates ending in the next {TIMELINE_DAYS} days</h2>\n"
    );
    let _ = writeln!(h, "{}", timeline(&dated, now));
    if !dated.is_empty() {
        let _ = write!(
            h,
            "<table>\n<thead><tr><th scope=\"col\">ends</th><th scope=\"col\">days left</th><th scope=\"col\">name</th><th scope=\"col\">what</th><th scope=\"col\">region</th></tr></thead>\n<tbody>\n"
        );
        for e in &dated {
            let what = if e.details.contains_key("issuer") {
                format!(
                    "served at {} (issuer {})",
                    e.details
                        .get("address")
                        .and_then(|v| v.as_str())
                        .unwrap_or("?"),
                    e.details
                        .get("issuer")
                        .and_then(|v| v.as_str())
                        .unwrap_or("?")
                )
            } else {
                format!(
                    "ACM {}",
                    e.details
                        .get("type")
                        .and_then(|v| v.as_str())
                        .unwrap_or("certificate")
                )
            };
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                e.not_after.map(day).unwrap_or_default(),
                e.days_left(now).unwrap_or_default(),
                esc(&e.name),
                esc(&what),
                esc(&e.region)
            );
        }
        let _ = writeln!(h, "</tbody>\n</table>");
    }
    let _ = writeln!(h, "</section>");

    // Zones and health checks.
    let _ = write!(
        h,
        "<section aria-labelledby=\"estate\">\n<h2 id=\"estate\">Zones and health checks</h2>\n"
    );
    inventory_table(
        &mut h,
        "Hosted zones",
        &d.zones,
        &["record_sets", "dnssec", "compared_at"],
    );
    inventory_table(
        &mut h,
        "Health checks",
        &d.health_checks,
        &["type", "target", "status", "alarmed"],
    );
    let _ = writeln!(h, "</section>");

    // Scans.
    let _ = write!(
        h,
        "<section aria-labelledby=\"scans\">\n<h2 id=\"scans\">Last scans and their errors</h2>\n"
    );
    if d.scans.is_empty() {
        let _ = writeln!(h, "<p>No scan record in the last 7 days.</p>");
    } else {
        let _ = write!(
            h,
            "<table>\n<thead><tr><th scope=\"col\">started</th><th scope=\"col\">trigger</th><th scope=\"col\">families</th><th scope=\"col\">opened</th><th scope=\"col\">resolved</th><th scope=\"col\">errors</th></tr></thead>\n<tbody>\n"
        );
        for s in d.scans.iter().take(SCANS_SHOWN) {
            let errors = s["errors"].as_array().cloned().unwrap_or_default();
            let first = errors
                .first()
                .map(|e| format!(": {}", e["message"].as_str().unwrap_or_default()))
                .unwrap_or_default();
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td></tr>",
                esc(s["started_at"].as_str().unwrap_or("?")),
                esc(s["trigger"].as_str().unwrap_or("?")),
                esc(&families(s)),
                s["opened"],
                s["resolved"],
                errors.len(),
                esc(&first.chars().take(300).collect::<String>())
            );
        }
        let _ = writeln!(h, "</tbody>\n</table>");
    }
    let _ = writeln!(h, "</section>\n</main>\n</body>\n</html>");
    h
}

fn families(scan: &serde_json::Value) -> String {
    scan["families"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter_map(|x| x.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

fn inventory_table(h: &mut String, caption: &str, rows: &[InventoryEntry], columns: &[&str]) {
    if rows.is_empty() {
        let _ = writeln!(h, "<p>{caption}: none in the inventory yet.</p>");
        return;
    }
    let _ = write!(
        h,
        "<table>\n<caption>{caption}</caption>\n<thead><tr><th scope=\"col\">name</th><th scope=\"col\">id</th>"
    );
    for c in columns {
        let _ = write!(h, "<th scope=\"col\">{}</th>", c.replace('_', " "));
    }
    let _ = write!(h, "<th scope=\"col\">checked</th></tr></thead>\n<tbody>\n");
    for e in rows {
        let _ = write!(
            h,
            "<tr><td>{}</td><td><code>{}</code></td>",
            esc(&e.name),
            esc(&e.id)
        );
        for c in columns {
            let v = match e.details.get(*c) {
                None | Some(serde_json::Value::Null) => "-".to_owned(),
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            };
            let _ = write!(h, "<td>{}</td>", esc(&v));
        }
        let _ = writeln!(h, "<td>{}</td></tr>", e.checked_at.format("%Y-%m-%d %H:%M"));
    }
    let _ = writeln!(h, "</tbody>\n</table>");
}

/// The next `TIMELINE_DAYS` days as an inline SVG: an axis with a tick every
/// 30 days and one marker per end date (red when past or within 14 days).
fn timeline(dated: &[&InventoryEntry], now: DateTime<Utc>) -> String {
    let (width, left, right) = (900.0_f64, 20.0_f64, 20.0_f64);
    let row = 16.0;
    let top = 30.0;
    let height = top + row * dated.len().max(1) as f64 + 10.0;
    let x = |days: f64| {
        left + (width - left - right) * days.clamp(0.0, TIMELINE_DAYS as f64) / TIMELINE_DAYS as f64
    };
    let mut s = format!(
        "<svg role=\"img\" aria-labelledby=\"tl-title tl-desc\" viewBox=\"0 0 {width} {height}\" width=\"100%\" xmlns=\"http://www.w3.org/2000/svg\">\n\
<title id=\"tl-title\">Expiry timeline, {} to {}</title>\n\
<desc id=\"tl-desc\">{} end date(s) in the next {TIMELINE_DAYS} days or already past; the table below lists them.</desc>\n",
        day(now),
        day(now + Duration::days(TIMELINE_DAYS)),
        dated.len()
    );
    let _ = writeln!(
        s,
        "<line x1=\"{left}\" y1=\"{top}\" x2=\"{}\" y2=\"{top}\" stroke=\"#555\" stroke-width=\"1\"/>",
        width - right
    );
    for d in (0..=TIMELINE_DAYS).step_by(30) {
        let tx = x(d as f64);
        let _ = writeln!(
            s,
            "<line x1=\"{tx}\" y1=\"{}\" x2=\"{tx}\" y2=\"{}\" stroke=\"#555\"/><text x=\"{tx}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            top - 4.0,
            top + 4.0,
            top - 8.0,
            if d == 0 {
                "today".to_owned()
            } else {
                format!("+{d} d")
            }
        );
    }
    for (i, e) in dated.iter().enumerate() {
        let days = e.days_left(now).unwrap_or_default();
        let cx = x(days as f64);
        let cy = top + row * (i as f64 + 1.0);
        let colour = if days <= 14 { "#8b0000" } else { "#1f5582" };
        let label = format!("{} ({} d)", e.name, days);
        let anchor = if cx > width * 0.6 { "end" } else { "start" };
        let lx = if anchor == "end" { cx - 8.0 } else { cx + 8.0 };
        let _ = writeln!(
            s,
            "<circle cx=\"{cx:.1}\" cy=\"{cy}\" r=\"5\" fill=\"{colour}\"><title>{}</title></circle><text x=\"{lx:.1}\" y=\"{}\" text-anchor=\"{anchor}\">{}</text>",
            esc(&label),
            cy + 4.0,
            esc(&label)
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use zw_core::{Detection, Region, Resource, ResourceKind};

    fn now() -> DateTime<Utc> {
        "2026-12-03T10:00:00Z".parse().expect("t")
    }

    fn finding(code: zw_core::FindingCode, name: &str) -> Finding {
        Finding::opened(
            Detection {
                code,
                severity: code.default_severity(),
                resource: Resource {
                    kind: ResourceKind::AcmCertificate,
                    id: format!("arn:aws:acm:eu-west-1:111122223333:certificate/{name}"),
                    name: name.into(),
                },
                region: Region::parse("eu-west-1").expect("region"),
                scope: "eu-west-1".into(),
                message: format!("<b>{name}</b> & co"),
                evidence: serde_json::json!({}),
            },
            now(),
        )
    }

    fn cert(name: &str, days: i64) -> InventoryEntry {
        InventoryEntry {
            id: name.into(),
            name: name.into(),
            region: "eu-west-1".into(),
            not_after: Some(now() + Duration::days(days)),
            details: BTreeMap::from([("type".to_owned(), serde_json::json!("IMPORTED"))]),
            checked_at: now(),
        }
    }

    #[test]
    fn the_report_escapes_text_forbids_requests_and_says_whether_we_are_ok() {
        let mut quiet = finding(zw_core::FindingCode::CertImportedExpiring, "legacy.example");
        quiet.state = FindingState::Suppressed;
        quiet.suppression = Some(zw_core::triage::SuppressedBy {
            id: "s-1".into(),
            reason: "payments renews it".into(),
            until: now() + Duration::days(20),
            created_by: "arn:aws:iam::111122223333:user/alice".into(),
        });
        let data = ReportData {
            whose: "this deployment".into(),
            table: "zw".into(),
            findings: vec![
                finding(zw_core::FindingCode::CertExpired, "shop.example"),
                quiet,
            ],
            certificates: vec![
                cert("soon.example", 5),
                cert("later.example", 100),
                cert("far.example", 400),
            ],
            ..ReportData::default()
        };
        let html = render(&data, now());
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
        assert!(html.contains(CSP));
        assert!(!html.contains("<script"));
        assert!(!html.contains("<b>shop.example</b>"), "escaped");
        assert!(html.contains("&lt;b&gt;shop.example&lt;/b&gt; &amp; co"));
        assert!(html.contains("Not OK: 1 critical and 0 high"));
        assert!(html.contains("payments renews it"));
        assert_eq!(
            html.matches("<circle").count(),
            2,
            "far.example is beyond 180 days"
        );
        assert_eq!(html.matches("<h1>").count(), 1);
        let ok = render(&ReportData::default(), now());
        assert!(ok.contains("OK: no critical or high finding is open."));
        assert!(ok.contains("No scan record"));
    }
}
