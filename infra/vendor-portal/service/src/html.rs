//! Server-rendered pages: no template engine, no script, no external asset.
//! Every value from the store or the request goes through [`escape`].
//!
//! Accessibility contract (checked by `scripts/portal-browser-test`):
//! `<html lang="en">`, one `<h1>` per page, a label for every visible input,
//! `<th scope>` on every table header, a skip link, visible focus rings and
//! text colours with a contrast ratio of at least 4.5:1 on their background.

use crate::model::{CustomerView, KeyState, LastReport};
use crate::service::IssuedKey;
use chrono::{DateTime, Utc};
use std::fmt::Write as _;

/// The one stylesheet, inlined; the Content-Security-Policy allows exactly
/// this text by its hash ([`style_hash`]).
pub const CSS: &str = "
:root{color-scheme:light}
body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1a1a1a;background:#fff}
header{background:#102a43;color:#fff;padding:.75rem 1.5rem;display:flex;justify-content:space-between;align-items:center;gap:1rem}
header .brand{font-weight:700;font-size:1.1rem}
main{max-width:72rem;margin:0 auto;padding:1rem 1.5rem 3rem}
h1{font-size:1.6rem;margin:1rem 0}
h2{font-size:1.25rem;margin:2rem 0 .5rem;border-bottom:2px solid #d9e2ec;padding-bottom:.25rem}
a{color:#0b4f8a}
.skip{position:absolute;left:-999px;top:0;background:#fff;color:#0b4f8a;padding:.5rem}
.skip:focus{left:.5rem}
:focus-visible{outline:3px solid #b45309;outline-offset:2px}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1.5rem;margin:0}
dl.facts dt{font-weight:600}
dl.facts dd{margin:0}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
caption{text-align:left;color:#3e4c59;padding:.25rem 0;caption-side:top}
th,td{border:1px solid #bcccdc;padding:.4rem .6rem;text-align:left;vertical-align:top}
th{background:#f0f4f8}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.date{white-space:nowrap}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace}
form.inline{display:inline}
button{font:inherit;padding:.3rem .8rem;border-radius:4px;border:1px solid #0b4f8a;background:#0b4f8a;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#0b4f8a}
button.danger{background:#a1141b;border-color:#a1141b}
label{display:block;font-weight:600;margin:.5rem 0 .25rem}
input[type=password],input[type=text]{font:inherit;padding:.4rem;border:1px solid #52606d;border-radius:4px;width:min(32rem,100%)}
.status{display:inline-block;padding:0 .5rem;border-radius:4px;border:1px solid currentColor;font-weight:600}
.status-active{color:#0a5c28;background:#e6f4ea}
.status-trialing{color:#0b4f8a;background:#e7f0fa}
.status-past_due{color:#7a4100;background:#fff4e5}
.status-cancelled,.status-revoked{color:#a1141b;background:#fdecea}
.notice{border:2px solid #b45309;background:#fffbeb;padding:.75rem 1rem;border-radius:4px}
.error{border:2px solid #a1141b;background:#fdecea;padding:.75rem 1rem;border-radius:4px}
.muted{color:#3e4c59}
";

/// `sha256-...` of [`CSS`], for the Content-Security-Policy.
pub fn style_hash() -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, CSS.as_bytes());
    format!("sha256-{}", data_encoding::BASE64.encode(d.as_ref()))
}

/// Escapes text for HTML content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn date(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The page frame. `signed_in` carries the CSRF token for the sign-out form.
fn page(title: &str, signed_in: Option<&str>, body: &str) -> String {
    let sign_out = signed_in.map_or_else(String::new, |csrf| {
        format!(
            r#"<form class="inline" method="post" action="/portal/logout"><input type="hidden" name="csrf" value="{}"><button type="submit" class="secondary">Sign out</button></form>"#,
            escape(csrf)
        )
    });
    format!(
        r##"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · zonewarden</title>
<style>{CSS}</style>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header><span class="brand">zonewarden licensing</span>{sign_out}</header>
<main id="main">
{body}
</main>
</body>
</html>
"##,
        title = escape(title),
    )
}

fn hidden(name: &str, value: &str) -> String {
    format!(
        r#"<input type="hidden" name="{}" value="{}">"#,
        escape(name),
        escape(value)
    )
}

fn status_badge(status: &str) -> String {
    format!(
        r#"<span class="status status-{0}">{0}</span>"#,
        escape(status)
    )
}

/// The sign-in page. `csrf` is the pre-session token (also in a cookie).
pub fn login_page(csrf: &str, error: Option<&str>) -> String {
    let error = error.map_or_else(String::new, |e| {
        format!(r#"<p class="error" role="alert">{}</p>"#, escape(e))
    });
    let body = format!(
        r#"<h1>Sign in to the license portal</h1>
{error}
<p>Use the portal token your account team sent you. Staff sign in with the staff token.</p>
<form method="post" action="/portal/login">
{csrf}
<label for="token">Portal token</label>
<input type="password" id="token" name="token" autocomplete="current-password" required>
<p><button type="submit">Sign in</button></p>
</form>"#,
        csrf = hidden("csrf", csrf)
    );
    page("Sign in", None, &body)
}

/// A short page for refusals and confirmations.
pub fn message_page(title: &str, message: &str, back: bool) -> String {
    let back = if back {
        r#"<p><a href="/portal">Back to the portal</a></p>"#
    } else {
        ""
    };
    page(
        title,
        None,
        &format!(
            r#"<h1>{}</h1><p class="error" role="alert">{}</p>{back}"#,
            escape(title),
            escape(message)
        ),
    )
}

fn counts_cells(r: Option<&LastReport>) -> String {
    match r {
        None => r#"<td colspan="7" class="muted">No validation yet</td>"#.to_owned(),
        Some(r) => match &r.counts {
            None => format!(
                r#"<td class="date">{}</td><td><code>{}</code></td><td colspan="5" class="muted">No counts sent (fleet visibility is off)</td>"#,
                time(r.at),
                escape(&r.product_version)
            ),
            Some(c) => format!(
                r#"<td class="date">{}</td><td><code>{}</code></td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td>{} critical, {} high, {} medium, {} low, {} info</td>"#,
                time(r.at),
                escape(&r.product_version),
                c.hosted_zones,
                c.record_sets,
                c.certificates,
                c.health_checks,
                c.findings_critical,
                c.findings_high,
                c.findings_medium,
                c.findings_low,
                c.findings_info,
            ),
        },
    }
}

/// The customer's own view.
pub fn customer_page(view: &CustomerView, csrf: &str, notice: Option<&str>) -> String {
    let c = &view.customer;
    let sub = &c.subscription;
    let mut keys = String::new();
    for k in &view.keys {
        let masked = escape(&k.masked());
        let actions = if k.state == KeyState::Active {
            let form = |action: &str, label: &str, class: &str| {
                format!(
                    r#"<form class="inline" method="post" action="/portal/keys/{action}">{}{}<button type="submit" class="{class}" aria-label="{label} key {masked}">{label}</button></form>"#,
                    hidden("csrf", csrf),
                    hidden("license_id", &k.license_id),
                )
            };
            format!(
                "{} {}",
                form("revoke", "Revoke", "danger"),
                form("rotate", "Rotate", "secondary")
            )
        } else {
            r#"<span class="muted">none</span>"#.to_owned()
        };
        let _ = write!(
            keys,
            r#"<tr data-license="{lic}"><td><code>{masked}</code></td><td>{state}</td><td class="date">{created}</td><td class="date">{revoked}</td><td>{actions}</td></tr>"#,
            lic = escape(&k.license_id),
            state = status_badge(k.state.as_str()),
            created = date(k.created_at),
            revoked = k.revoked_at.map(date).unwrap_or_default(),
        );
    }
    if view.keys.is_empty() {
        keys.push_str(
            r#"<tr><td colspan="5" class="muted">No keys yet: ask your account team.</td></tr>"#,
        );
    }
    let mut reports = String::new();
    for k in &view.keys {
        let r = view.reports.iter().find(|r| r.license_id == k.license_id);
        let _ = write!(
            reports,
            r#"<tr><th scope="row"><code>{}</code></th>{}</tr>"#,
            escape(&k.masked()),
            counts_cells(r)
        );
    }
    let notice = notice.map_or_else(String::new, |n| {
        format!(r#"<p class="notice" role="status">{}</p>"#, escape(n))
    });
    let body = format!(
        r#"<h1>{name}</h1>
{notice}
<p class="muted">Customer <code>{id}</code></p>
<section aria-labelledby="subscription">
<h2 id="subscription">Subscription</h2>
<dl class="facts">
<dt>Plan</dt><dd id="plan">{plan}</dd>
<dt>Status</dt><dd id="status">{status}</dd>
<dt>Renews</dt><dd id="renews">{renews}</dd>
<dt>Limits</dt><dd id="limits">{zones} hosted zones, {certs} certificates, {accounts} AWS accounts</dd>
</dl>
</section>
<section aria-labelledby="keys">
<h2 id="keys">License keys</h2>
<table id="key-table">
<caption>Only the last four characters of a key are ever shown; the full key was shown once, when it was issued.</caption>
<thead><tr><th scope="col">Key</th><th scope="col">Status</th><th scope="col">Issued</th><th scope="col">Revoked</th><th scope="col">Actions</th></tr></thead>
<tbody>{keys}</tbody>
</table>
</section>
<section aria-labelledby="reported">
<h2 id="reported">What your deployments reported</h2>
<p>For transparency: this is exactly what we hold from your deployments. Each validation sends the license key, the product version and, unless fleet visibility is off, these aggregate counts, nothing else. We keep only the last report per key; each validation overwrites it.</p>
<table id="report-table">
<caption>Last report per license key</caption>
<thead><tr><th scope="col">Key</th><th scope="col">Reported at</th><th scope="col">Product version</th><th scope="col">Hosted zones</th><th scope="col">Record sets</th><th scope="col">Certificates</th><th scope="col">Health checks</th><th scope="col">Open findings</th></tr></thead>
<tbody>{reports}</tbody>
</table>
</section>"#,
        name = escape(&c.name),
        id = escape(&c.id),
        plan = escape(&sub.plan),
        status = status_badge(sub.status.as_str()),
        renews = date(sub.renews_at),
        zones = sub.limits.zones,
        certs = sub.limits.certificates,
        accounts = sub.limits.accounts,
    );
    page(&c.name, Some(csrf), &body)
}

/// The page that shows a rotated key, once.
pub fn new_key_page(issued: &IssuedKey, revoked_masked: &str, csrf: &str) -> String {
    let body = format!(
        r#"<h1>Your new license key</h1>
<p class="notice" role="status">Copy this key now: it is shown only once. Key <code>{old}</code> is revoked; deployments still using it keep their cached license until it expires.</p>
<p><label for="new-key">New license key</label><input type="text" id="new-key" readonly value="{key}" size="40"></p>
<p><a href="/portal">Back to the portal</a></p>"#,
        old = escape(revoked_masked),
        key = escape(&issued.license_key),
    );
    page("New license key", Some(csrf), &body)
}

/// The vendor staff's view of every customer.
pub fn staff_page(views: &[CustomerView], csrf: &str) -> String {
    let mut rows = String::new();
    for v in views {
        let c = &v.customer;
        let sub = &c.subscription;
        let active = v
            .keys
            .iter()
            .filter(|k| k.state == KeyState::Active)
            .count();
        let last = v
            .reports
            .iter()
            .map(|r| r.at)
            .max()
            .map(time)
            .unwrap_or_else(|| "never".into());
        let _ = write!(
            rows,
            r#"<tr data-customer="{id}"><th scope="row">{name}</th><td><code>{id}</code></td><td>{plan}</td><td>{status}</td><td class="date">{renews}</td><td class="num">{z}</td><td class="num">{ce}</td><td class="num">{a}</td><td class="num">{active} of {total}</td><td>{last}</td></tr>"#,
            id = escape(&c.id),
            name = escape(&c.name),
            plan = escape(&sub.plan),
            status = status_badge(sub.status.as_str()),
            renews = date(sub.renews_at),
            z = sub.limits.zones,
            ce = sub.limits.certificates,
            a = sub.limits.accounts,
            total = v.keys.len(),
        );
    }
    if views.is_empty() {
        rows.push_str(r#"<tr><td colspan="10" class="muted">No customers yet.</td></tr>"#);
    }
    let body = format!(
        r#"<h1>All customers</h1>
<p class="muted">Staff view. Customers, subscriptions and keys are managed with the <code>zw-vendor</code> admin command.</p>
<table id="customer-table">
<caption>{n} customers</caption>
<thead><tr><th scope="col">Customer</th><th scope="col">Id</th><th scope="col">Plan</th><th scope="col">Status</th><th scope="col">Renews</th><th scope="col">Zones</th><th scope="col">Certificates</th><th scope="col">Accounts</th><th scope="col">Active keys</th><th scope="col">Last report</th></tr></thead>
<tbody>{rows}</tbody>
</table>"#,
        n = views.len(),
    );
    page("All customers", Some(csrf), &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Customer, LicenseKey, Subscription};
    use chrono::TimeZone;
    use zw_license::{FleetCounts, Limits, SubscriptionStatus};

    const FULL_KEY: &str = "zwk_ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    fn view(name: &str) -> CustomerView {
        let t = Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap();
        CustomerView {
            customer: Customer {
                id: "cus_1".into(),
                name: name.into(),
                subscription: Subscription {
                    plan: "team".into(),
                    limits: Limits {
                        zones: 50,
                        certificates: 500,
                        accounts: 5,
                    },
                    status: SubscriptionStatus::PastDue,
                    renews_at: Utc.with_ymd_and_hms(2027, 1, 15, 0, 0, 0).unwrap(),
                },
                created_at: t,
            },
            keys: vec![
                LicenseKey {
                    license_id: "lic_a".into(),
                    customer_id: "cus_1".into(),
                    key_hash: crate::secrets::hash_secret(FULL_KEY),
                    last4: "4567".into(),
                    state: KeyState::Active,
                    created_at: t,
                    revoked_at: None,
                },
                LicenseKey {
                    license_id: "lic_b".into(),
                    customer_id: "cus_1".into(),
                    key_hash: "00".into(),
                    last4: "WXYZ".into(),
                    state: KeyState::Revoked,
                    created_at: t,
                    revoked_at: Some(t),
                },
            ],
            reports: vec![LastReport {
                customer_id: "cus_1".into(),
                license_id: "lic_a".into(),
                at: t,
                product_version: "0.1.0".into(),
                counts: Some(FleetCounts {
                    hosted_zones: 12,
                    record_sets: 345,
                    certificates: 67,
                    ..FleetCounts::default()
                }),
            }],
        }
    }

    #[test]
    fn everything_from_the_store_is_escaped() {
        let html = customer_page(&view("<script>alert('x')</script> & Co"), "tok\"en", None);
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co"));
        assert!(html.contains(r#"value="tok&quot;en""#));
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn keys_are_masked_and_the_full_key_never_appears() {
        let html = customer_page(&view("Acme"), "csrf", None);
        assert!(html.contains("<code>****4567</code>"));
        assert!(html.contains("<code>****WXYZ</code>"));
        assert!(!html.contains(FULL_KEY));
        assert!(!html.contains("ABCDEFGH"));
        // Only the active key has buttons.
        assert_eq!(html.matches("/portal/keys/revoke").count(), 1);
        // The reported counts, exactly.
        assert!(
            html.contains(
                r#"<td class="num">12</td><td class="num">345</td><td class="num">67</td>"#
            )
        );
        assert!(html.contains("past_due") && html.contains("2027-01-15") && html.contains("team"));
    }

    #[test]
    fn pages_meet_the_accessibility_contract() {
        for html in [
            customer_page(&view("Acme"), "c", Some("done")),
            staff_page(&[view("Acme"), view("Beta")], "c"),
            login_page("c", Some("wrong token")),
            message_page("Refused", "no", true),
        ] {
            assert!(html.contains(r#"<html lang="en">"#));
            assert_eq!(html.matches("<h1>").count(), 1, "{html}");
            assert_eq!(html.matches("<th>").count(), 0, "every th has a scope");
            let visible_inputs =
                html.matches("<input").count() - html.matches(r#"type="hidden""#).count();
            assert_eq!(visible_inputs, html.matches("<label for=").count());
            assert!(!html.contains("<script"), "no script");
            assert!(
                !html.contains("http://") && !html.contains("https://"),
                "no external asset"
            );
        }
    }

    #[test]
    fn every_form_carries_the_csrf_token() {
        let html = customer_page(&view("Acme"), "the-token", None);
        let forms = html.matches("<form").count();
        assert_eq!(forms, 3, "sign out, revoke, rotate");
        assert_eq!(
            html.matches(r#"name="csrf" value="the-token""#).count(),
            forms
        );
        assert_eq!(style_hash().len(), "sha256-".len() + 44);
    }
}
