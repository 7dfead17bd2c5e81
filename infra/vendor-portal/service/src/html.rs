//! Server-rendered pages: no template engine, no script, no external asset.
//! Every value from the store or the request goes through [`escape`].
//!
//! Accessibility contract (checked by `scripts/portal-browser-test`):
//! `<html lang="en">`, one `<h1>` per page, a label for every visible input,
//! `<th scope>` on every table header, a skip link, visible focus rings and
//! text colours with a contrast ratio of at least 4.5:1 on their background.

use crate::model::{
    AuditEntry, AuditPage, CustomerView, KeyState, LastReport, LicenseKey, PortalToken,
    StaffMember, StaffStep,
};
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
input[type=password],input[type=text],input[type=email],input[type=number],input[type=date],select{font:inherit;padding:.4rem;border:1px solid #52606d;border-radius:4px;width:min(32rem,100%)}
fieldset{border:1px solid #bcccdc;border-radius:4px;margin:1rem 0;padding:.5rem 1rem 1rem}
legend{font-weight:600}
.secret{font-size:1.2rem;letter-spacing:.1em;word-break:break-all}
nav.staff a{margin-right:1rem}
#audit-table{font-size:.9rem}
#audit-table td{overflow-wrap:anywhere}
#audit-table .kind{display:block;font-size:.8rem}
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

/// The customer sign-in page. `csrf` is the pre-session token (also in a cookie).
pub fn login_page(csrf: &str, error: Option<&str>) -> String {
    let error = error.map_or_else(String::new, |e| {
        format!(r#"<p class="error" role="alert">{}</p>"#, escape(e))
    });
    let body = format!(
        r#"<h1>Sign in to the license portal</h1>
{error}
<p>Use the portal token your account team sent you.</p>
<form method="post" action="/portal/login">
{csrf}
<label for="token">Portal token</label>
<input type="password" id="token" name="token" autocomplete="current-password" required>
<p><button type="submit">Sign in</button></p>
</form>
<p class="muted">Vendor staff: <a href="/portal/staff/login">sign in with your staff account</a>.</p>"#,
        csrf = hidden("csrf", csrf)
    );
    page("Sign in", None, &body)
}

/// The staff sign-in page (first step: e-mail address and password).
pub fn staff_login_page(csrf: &str, error: Option<&str>) -> String {
    let error = error.map_or_else(String::new, |e| {
        format!(r#"<p class="error" role="alert">{}</p>"#, escape(e))
    });
    let body = format!(
        r#"<h1>Staff sign-in</h1>
{error}
<p>Your staff account, then a code from your authenticator app. Accounts are created by an administrator.</p>
<form method="post" action="/portal/staff/login">
{csrf}
<label for="email">E-mail address</label>
<input type="email" id="email" name="email" autocomplete="username" required>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<p><button type="submit">Continue</button></p>
</form>
<p class="muted"><a href="/portal/login">Customer sign-in</a></p>"#,
        csrf = hidden("csrf", csrf)
    );
    page("Staff sign-in", None, &body)
}

/// The `otpauth://` URI an authenticator app reads (RFC 6238 apps' common
/// "key URI"); typed or pasted, as the portal shows no images or scripts.
pub fn otpauth_uri(email: &str, secret: &str) -> String {
    let encode = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}",
        encode("zonewarden vendor"),
        encode(email),
        encode(secret),
        encode("zonewarden vendor")
    )
}

/// A later step of a staff sign-in.
pub fn staff_step_page(
    step: StaffStep,
    username: &str,
    csrf: &str,
    mfa_secret: Option<&str>,
    error: Option<&str>,
) -> String {
    let error = error.map_or_else(String::new, |e| {
        format!(r#"<p class="error" role="alert">{}</p>"#, escape(e))
    });
    let code_field = r#"<label for="code">6-digit code from your authenticator app</label>
<input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required>"#;
    let (title, fields) = match step {
        StaffStep::NewPassword => (
            "Choose your password",
            r#"<p>This is your first sign-in: replace the temporary password. At least 14 characters, with upper and lower case letters, a digit and a symbol.</p>
<label for="new_password">New password</label>
<input type="password" id="new_password" name="new_password" autocomplete="new-password" required>
<label for="confirm_password">New password again</label>
<input type="password" id="confirm_password" name="confirm_password" autocomplete="new-password" required>"#
                .to_owned(),
        ),
        StaffStep::MfaSetup => {
            let secret = mfa_secret.unwrap_or_default();
            (
                "Set up your authenticator app",
                format!(
                    r#"<p>Staff sign-in needs an authenticator app (TOTP). Add an account to it with this key, shown only now, then enter the code it shows.</p>
<p>Key: <code class="secret" id="mfa-secret">{}</code></p>
<p>Or the setup address, for apps that take one: <code id="mfa-uri">{}</code></p>
{code_field}"#,
                    escape(secret),
                    escape(&otpauth_uri(username, secret)),
                ),
            )
        }
        StaffStep::MfaCode => (
            "Enter your authenticator code",
            format!(r#"<p>Open your authenticator app and enter the code for the zonewarden vendor portal.</p>
{code_field}"#),
        ),
    };
    let body = format!(
        r#"<h1>{title}</h1>
{error}
<p class="muted">Signing in as {user}</p>
<form method="post" action="/portal/staff/step">
{csrf}
{fields}
<p><button type="submit">Continue</button></p>
</form>"#,
        title = escape(title),
        user = escape(username),
        csrf = hidden("csrf", csrf),
    );
    page(title, None, &body)
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

fn subscription_facts(view: &CustomerView) -> String {
    let sub = &view.customer.subscription;
    format!(
        r#"<dl class="facts">
<dt>Plan</dt><dd id="plan">{plan}</dd>
<dt>Status</dt><dd id="status">{status}</dd>
<dt>Renews</dt><dd id="renews">{renews}</dd>
<dt>Limits</dt><dd id="limits">{zones} hosted zones, {certs} certificates, {accounts} AWS accounts</dd>
</dl>"#,
        plan = escape(&sub.plan),
        status = status_badge(sub.status.as_str()),
        renews = date(sub.renews_at),
        zones = sub.limits.zones,
        certs = sub.limits.certificates,
        accounts = sub.limits.accounts,
    )
}

/// A POST form of one button; `fields` are its hidden inputs besides the token.
fn button_form(
    action: &str,
    csrf: &str,
    fields: &[(&str, &str)],
    label: &str,
    aria: &str,
    class: &str,
) -> String {
    let hidden_fields: String = fields.iter().map(|(k, v)| hidden(k, v)).collect();
    format!(
        r#"<form class="inline" method="post" action="{action}">{}{hidden_fields}<button type="submit" class="{class}" aria-label="{}">{}</button></form>"#,
        hidden("csrf", csrf),
        escape(aria),
        escape(label),
    )
}

/// The keys table; `actions` renders the last cell of an active key's row.
fn keys_table(view: &CustomerView, actions: impl Fn(&LicenseKey) -> String, empty: &str) -> String {
    let mut keys = String::new();
    for k in &view.keys {
        let cell = if k.state == KeyState::Active {
            actions(k)
        } else {
            r#"<span class="muted">none</span>"#.to_owned()
        };
        let _ = write!(
            keys,
            r#"<tr data-license="{lic}"><td><code>{masked}</code></td><td>{state}</td><td class="date">{created}</td><td class="date">{revoked}</td><td>{cell}</td></tr>"#,
            lic = escape(&k.license_id),
            masked = escape(&k.masked()),
            state = status_badge(k.state.as_str()),
            created = date(k.created_at),
            revoked = k.revoked_at.map(date).unwrap_or_default(),
        );
    }
    if view.keys.is_empty() {
        let _ = write!(
            keys,
            r#"<tr><td colspan="5" class="muted">{}</td></tr>"#,
            escape(empty)
        );
    }
    format!(
        r#"<table id="key-table">
<caption>Only the last four characters of a key are ever shown; the full key was shown once, when it was issued.</caption>
<thead><tr><th scope="col">Key</th><th scope="col">Status</th><th scope="col">Issued</th><th scope="col">Revoked</th><th scope="col">Actions</th></tr></thead>
<tbody>{keys}</tbody>
</table>"#
    )
}

fn reports_table(view: &CustomerView) -> String {
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
    format!(
        r#"<table id="report-table">
<caption>Last report per license key</caption>
<thead><tr><th scope="col">Key</th><th scope="col">Reported at</th><th scope="col">Product version</th><th scope="col">Hosted zones</th><th scope="col">Record sets</th><th scope="col">Certificates</th><th scope="col">Health checks</th><th scope="col">Open findings</th></tr></thead>
<tbody>{reports}</tbody>
</table>"#
    )
}

/// The customer's own view.
pub fn customer_page(view: &CustomerView, csrf: &str, notice: Option<&str>) -> String {
    let c = &view.customer;
    let actions = |k: &LicenseKey| {
        let masked = k.masked();
        let fields = [("license_id", k.license_id.as_str())];
        format!(
            "{} {}",
            button_form(
                "/portal/keys/revoke",
                csrf,
                &fields,
                "Revoke",
                &format!("Revoke key {masked}"),
                "danger"
            ),
            button_form(
                "/portal/keys/rotate",
                csrf,
                &fields,
                "Rotate",
                &format!("Rotate key {masked}"),
                "secondary"
            ),
        )
    };
    let notice = notice.map_or_else(String::new, |n| {
        format!(r#"<p class="notice" role="status">{}</p>"#, escape(n))
    });
    let body = format!(
        r#"<h1>{name}</h1>
{notice}
<p class="muted">Customer <code>{id}</code></p>
<section aria-labelledby="subscription">
<h2 id="subscription">Subscription</h2>
{facts}
</section>
<section aria-labelledby="keys">
<h2 id="keys">License keys</h2>
{keys}
</section>
<section aria-labelledby="reported">
<h2 id="reported">What your deployments reported</h2>
<p>For transparency: this is exactly what we hold from your deployments. Each validation sends the license key, the product version and, unless fleet visibility is off, these aggregate counts, nothing else. We keep only the last report per key; each validation overwrites it.</p>
{reports}
</section>"#,
        name = escape(&c.name),
        id = escape(&c.id),
        facts = subscription_facts(view),
        keys = keys_table(view, actions, "No keys yet: ask your account team."),
        reports = reports_table(view),
    );
    page(&c.name, Some(csrf), &body)
}

/// The page that shows a secret once: a rotated or issued key, a new
/// portal token. `back` is where the link returns to.
pub fn shown_once_page(
    title: &str,
    notice: &str,
    label: &str,
    value: &str,
    back: &str,
    csrf: &str,
) -> String {
    let body = format!(
        r#"<h1>{title}</h1>
<p class="notice" role="status">{notice}</p>
<p><label for="new-secret">{label}</label><input type="text" id="new-secret" readonly value="{value}" size="40"></p>
<p><a href="{back}">Back</a></p>"#,
        title = escape(title),
        notice = escape(notice),
        label = escape(label),
        value = escape(value),
        back = escape(back),
    );
    page(title, Some(csrf), &body)
}

/// The page that shows a rotated key, once.
pub fn new_key_page(issued: &IssuedKey, revoked_masked: &str, csrf: &str, back: &str) -> String {
    shown_once_page(
        "Your new license key",
        &format!(
            "Copy this key now: it is shown only once. Key {revoked_masked} is revoked; deployments still using it keep their cached license until it expires."
        ),
        "New license key",
        &issued.license_key,
        back,
        csrf,
    )
}

fn staff_nav(me: &StaffMember) -> String {
    format!(
        r#"<nav class="staff" aria-label="Staff"><a href="/portal">All customers</a><a href="/portal/audit">Audit log</a><span class="muted">Signed in as {}</span></nav>"#,
        escape(&me.email)
    )
}

/// The portal audit log as a table, newest first.
fn audit_table(entries: &[AuditEntry], caption: &str) -> String {
    let mut rows = String::new();
    for e in entries {
        let customer = e.customer_id.as_deref().map_or_else(String::new, |c| {
            format!(
                r#"<a href="/portal/customers/{0}"><code>{0}</code></a>"#,
                escape(c)
            )
        });
        let _ = write!(
            rows,
            r#"<tr><td class="date">{at}</td><td>{who}<span class="kind muted">{kind}</span></td><td><code>{action}</code></td><td>{customer}</td><td>{detail}</td><td><code>{source}</code></td></tr>"#,
            at = e.at.format("%Y-%m-%d %H:%M:%S"),
            kind = escape(e.actor.kind()),
            who = escape(e.actor.name()),
            action = escape(e.action.as_str()),
            detail = escape(&e.detail),
            source = escape(e.source.as_deref().unwrap_or("")),
        );
    }
    if entries.is_empty() {
        rows.push_str(r#"<tr><td colspan="6" class="muted">Nothing recorded yet.</td></tr>"#);
    }
    format!(
        r#"<table id="audit-table">
<caption>{caption}</caption>
<thead><tr><th scope="col">When (UTC)</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Customer</th><th scope="col">Detail</th><th scope="col">Source address</th></tr></thead>
<tbody>{rows}</tbody>
</table>"#,
        caption = escape(caption),
    )
}

/// The vendor staff's view of every customer, with the latest audit lines.
pub fn staff_page(
    views: &[CustomerView],
    recent: &[AuditEntry],
    me: &StaffMember,
    csrf: &str,
) -> String {
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
            r#"<tr data-customer="{id}"><th scope="row"><a href="/portal/customers/{id}">{name}</a></th><td><code>{id}</code></td><td>{plan}</td><td>{status}</td><td class="date">{renews}</td><td class="num">{z}</td><td class="num">{ce}</td><td class="num">{a}</td><td class="num">{active} of {total}</td><td>{last}</td></tr>"#,
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
        r#"{nav}
<h1>All customers</h1>
<p class="muted">Staff view. Open a customer to change their subscription, keys or portal token; every change is recorded in the audit log under your name.</p>
<table id="customer-table">
<caption>{n} customers</caption>
<thead><tr><th scope="col">Customer</th><th scope="col">Id</th><th scope="col">Plan</th><th scope="col">Status</th><th scope="col">Renews</th><th scope="col">Zones</th><th scope="col">Certificates</th><th scope="col">Accounts</th><th scope="col">Active keys</th><th scope="col">Last report</th></tr></thead>
<tbody>{rows}</tbody>
</table>
<section aria-labelledby="recent">
<h2 id="recent">Recent activity</h2>
{audit}
<p><a href="/portal/audit">The whole audit log</a></p>
</section>"#,
        nav = staff_nav(me),
        n = views.len(),
        audit = audit_table(recent, "The latest sign-ins and changes"),
    );
    page("All customers", Some(csrf), &body)
}

fn portal_token_state(t: &PortalToken) -> &'static str {
    match t {
        PortalToken::Current(_) => "A portal token is active.",
        PortalToken::Unrecorded => {
            "A portal token is active (issued before tokens could be re-issued)."
        }
        PortalToken::Revoked => {
            "Revoked: nobody can sign in as this customer until a new token is issued."
        }
    }
}

/// One customer, as staff see and change it.
pub fn staff_customer_page(
    view: &CustomerView,
    me: &StaffMember,
    max_active: u32,
    csrf: &str,
) -> String {
    let c = &view.customer;
    let sub = &c.subscription;
    let cid = c.id.as_str();
    let actions = |k: &LicenseKey| {
        let masked = k.masked();
        let fields = [("customer_id", cid), ("license_id", k.license_id.as_str())];
        format!(
            "{} {}",
            button_form(
                "/portal/staff/keys/revoke",
                csrf,
                &fields,
                "Revoke",
                &format!("Revoke key {masked}"),
                "danger"
            ),
            button_form(
                "/portal/staff/keys/rotate",
                csrf,
                &fields,
                "Rotate",
                &format!("Rotate key {masked}"),
                "secondary"
            ),
        )
    };
    let active = view
        .keys
        .iter()
        .filter(|k| k.state == KeyState::Active)
        .count();
    let statuses = ["active", "trialing", "past_due", "cancelled"]
        .iter()
        .map(|s| {
            let selected = if *s == sub.status.as_str() {
                " selected"
            } else {
                ""
            };
            format!(r#"<option value="{s}"{selected}>{s}</option>"#)
        })
        .collect::<String>();
    let id_field = [("customer_id", cid)];
    let body = format!(
        r#"{nav}
<h1>{name}</h1>
<p class="muted">Customer <code>{id}</code></p>
<section aria-labelledby="subscription">
<h2 id="subscription">Subscription</h2>
{facts}
<form method="post" action="/portal/staff/subscription">
{csrf_field}{id_hidden}
<fieldset><legend>Change the subscription</legend>
<label for="sub-status">Status</label>
<select id="sub-status" name="status">{statuses}</select>
<label for="sub-renews">Renews on</label>
<input type="date" id="sub-renews" name="renews_at" value="{renews}" required>
<label for="sub-plan">Plan</label>
<input type="text" id="sub-plan" name="plan" value="{plan}" maxlength="64" required>
<label for="sub-zones">Hosted zones</label>
<input type="number" id="sub-zones" name="zones" value="{zones}" min="0" required>
<label for="sub-certificates">Certificates</label>
<input type="number" id="sub-certificates" name="certificates" value="{certs}" min="0" required>
<label for="sub-accounts">AWS accounts</label>
<input type="number" id="sub-accounts" name="accounts" value="{accounts}" min="0" required>
<p><button type="submit">Save subscription</button></p>
</fieldset>
</form>
</section>
<section aria-labelledby="keys">
<h2 id="keys">License keys</h2>
<p id="key-count">{active} of at most {max_active} keys active.</p>
{keys}
<p>{issue}</p>
</section>
<section aria-labelledby="portal-access">
<h2 id="portal-access">Portal access</h2>
<p id="portal-token-state">{token_state}</p>
<p>{reissue} {revoke_token}</p>
<p class="muted">Either ends every portal session of this customer at once. A new token is shown once, to you: send it to the customer through their account channel.</p>
</section>
<section aria-labelledby="reported">
<h2 id="reported">What their deployments reported</h2>
{reports}
</section>"#,
        nav = staff_nav(me),
        name = escape(&c.name),
        id = escape(cid),
        facts = subscription_facts(view),
        csrf_field = hidden("csrf", csrf),
        id_hidden = hidden("customer_id", cid),
        renews = sub.renews_at.format("%Y-%m-%d"),
        plan = escape(&sub.plan),
        zones = sub.limits.zones,
        certs = sub.limits.certificates,
        accounts = sub.limits.accounts,
        keys = keys_table(view, actions, "No keys yet."),
        issue = button_form(
            "/portal/staff/keys/issue",
            csrf,
            &id_field,
            "Issue a new key",
            "Issue a new key",
            ""
        ),
        token_state = escape(portal_token_state(&c.portal_token)),
        reissue = button_form(
            "/portal/staff/portal-token/reissue",
            csrf,
            &id_field,
            "Issue a new portal token",
            "Issue a new portal token",
            "secondary"
        ),
        revoke_token = button_form(
            "/portal/staff/portal-token/revoke",
            csrf,
            &id_field,
            "Revoke the portal token",
            "Revoke the portal token",
            "danger"
        ),
        reports = reports_table(view),
    );
    page(&c.name, Some(csrf), &body)
}

/// The whole audit log, a page at a time.
pub fn audit_page(page_of: &AuditPage, me: &StaffMember, csrf: &str) -> String {
    let next = page_of.next.as_deref().map_or_else(String::new, |cursor| {
        format!(
            r#"<p><a href="/portal/audit?before={}">Older entries</a></p>"#,
            escape(&cursor.replace('#', "%23"))
        )
    });
    let body = format!(
        r#"{nav}
<h1>Audit log</h1>
<p class="muted">Every sign-in, failed sign-in, sign-out and change to a customer, key, portal token or staff account, newest first, with who did it and from which address. Entries are kept for one year.</p>
{table}
{next}"#,
        nav = staff_nav(me),
        table = audit_table(&page_of.entries, "Audit entries, newest first"),
    );
    page("Audit log", Some(csrf), &body)
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
                portal_token: PortalToken::Current("00".into()),
                sessions_not_before: None,
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

    fn me() -> StaffMember {
        StaffMember {
            sub: "0000-sub".into(),
            email: "alice@vendor.example".into(),
        }
    }

    fn audit_entries() -> Vec<AuditEntry> {
        let t = Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap();
        vec![AuditEntry {
            at: t,
            actor: crate::model::Actor::Unidentified("<b>mallory</b>".into()),
            action: crate::model::AuditAction::SignInFailed,
            customer_id: Some("cus_1".into()),
            detail: "password refused: <script>".into(),
            source: Some("203.0.113.9".into()),
            expires_at: 0,
        }]
    }

    fn every_page() -> Vec<String> {
        let page_of = AuditPage {
            entries: audit_entries(),
            next: Some("2026-12-01T10:00:00.000Z#0123456789abcdef0123".into()),
        };
        vec![
            customer_page(&view("Acme"), "c", Some("done")),
            staff_page(&[view("Acme"), view("Beta")], &audit_entries(), &me(), "c"),
            staff_customer_page(&view("Acme"), &me(), 5, "c"),
            audit_page(&page_of, &me(), "c"),
            login_page("c", Some("wrong token")),
            staff_login_page("c", Some("wrong password")),
            staff_step_page(
                StaffStep::NewPassword,
                "alice@vendor.example",
                "c",
                None,
                None,
            ),
            staff_step_page(
                StaffStep::MfaSetup,
                "alice@vendor.example",
                "c",
                Some("JBSWY3DPEHPK3PXP"),
                Some("Enter the 6-digit code"),
            ),
            staff_step_page(StaffStep::MfaCode, "alice@vendor.example", "c", None, None),
            shown_once_page(
                "New portal token",
                "Copy it",
                "Portal token",
                "zwp_X",
                "/portal",
                "c",
            ),
            message_page("Refused", "no", true),
        ]
    }

    #[test]
    fn pages_meet_the_accessibility_contract() {
        for html in every_page() {
            assert!(html.contains(r#"<html lang="en">"#));
            assert_eq!(html.matches("<h1>").count(), 1, "{html}");
            assert_eq!(html.matches("<th>").count(), 0, "every th has a scope");
            let visible_inputs = html.matches("<input").count() + html.matches("<select").count()
                - html.matches(r#"type="hidden""#).count();
            assert_eq!(
                visible_inputs,
                html.matches("<label for=").count(),
                "{html}"
            );
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
        // Sign out, subscription, revoke, rotate, issue, re-issue and revoke the token.
        let html = staff_customer_page(&view("Acme"), &me(), 5, "the-token");
        let forms = html.matches("<form").count();
        assert_eq!(forms, 7, "{html}");
        assert_eq!(
            html.matches(r#"name="csrf" value="the-token""#).count(),
            forms
        );
        assert_eq!(style_hash().len(), "sha256-".len() + 44);
    }

    #[test]
    fn the_audit_log_escapes_what_strangers_typed() {
        let html = staff_page(&[view("Acme")], &audit_entries(), &me(), "c");
        assert!(!html.contains("<b>mallory"), "{html}");
        assert!(html.contains("&lt;b&gt;mallory&lt;/b&gt;"));
        assert!(html.contains("password refused: &lt;script&gt;"));
        assert!(html.contains("203.0.113.9"));
        assert!(html.contains("Signed in as alice@vendor.example"));
    }

    #[test]
    fn the_authenticator_key_uri_is_encoded() {
        assert_eq!(
            otpauth_uri("alice+ops@vendor.example", "JBSWY3DPEHPK3PXP"),
            "otpauth://totp/zonewarden%20vendor:alice%2Bops%40vendor.example?secret=JBSWY3DPEHPK3PXP&issuer=zonewarden%20vendor"
        );
    }
}
