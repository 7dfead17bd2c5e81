//! HTTP: the one Router for the API and the portal, served by Lambda
//! (`vendor-api`) and by `zw-vendor serve`.
//!
//! | route                          | what |
//! |--------------------------------|------|
//! | `POST /v1/licenses/validate`   | the license client's only call (JSON) |
//! | `GET /portal`                  | the signed-in customer's view, or the staff view |
//! | `GET/POST /portal/login`       | sign in with a portal token (customer) or the staff token |
//! | `POST /portal/logout`          | sign out |
//! | `POST /portal/keys/revoke`     | revoke one of the customer's keys |
//! | `POST /portal/keys/rotate`     | issue a replacement key (shown once) and revoke the old one |
//!
//! Sessions: an `HttpOnly; SameSite=Strict` cookie (plus `Secure`, except
//! when served over plain http on loopback) naming a session stored by its
//! hash. Every POST form carries a CSRF token: the session's for signed-in
//! forms, a pre-session cookie's for the sign-in form (double submit).

use crate::html;
use crate::model::{Principal, Session};
use crate::secrets::{self, same_secret};
use crate::service::{self, ActionError, ApiError, Vendor};
use crate::store::StoreError;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::io::Write as _;
use std::sync::Arc;
use zw_license::schema::MAX_REQUEST_BYTES;

const SESSION_COOKIE: &str = "zw_session";
const LOGIN_COOKIE: &str = "zw_login";
/// How much of a validation body is read at all: past the 4 KB limit so
/// that an oversized body is answered 413 with its size, not cut silently.
const READ_LIMIT: usize = 64 * 1024;

type AppState = Arc<Vendor>;

/// The service's Router.
pub fn router(vendor: Arc<Vendor>) -> Router {
    Router::new()
        .route("/v1/licenses/validate", post(validate))
        .route("/", get(|| async { redirect("/portal", Vec::new()) }))
        .route("/portal", get(portal))
        .route("/portal/login", get(login_form).post(login))
        .route("/portal/logout", post(logout))
        .route("/portal/keys/revoke", post(revoke))
        .route("/portal/keys/rotate", post(rotate))
        .fallback(not_found)
        .with_state(vendor)
}

fn api_error(e: &ApiError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(&e.body()).unwrap_or_default();
    let mut response = (
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response();
    if let ApiError::RateLimited { retry_after_secs } = e {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
    }
    response
}

async fn validate(State(v): State<AppState>, body: Body) -> Response {
    let now = v.clock.now();
    let bytes: Bytes = match axum::body::to_bytes(body, READ_LIMIT).await {
        Ok(b) => b,
        Err(_) => {
            return api_error(&ApiError::PayloadTooLarge(format!(
                "the body is over {READ_LIMIT} bytes; at most {MAX_REQUEST_BYTES} are accepted"
            )));
        }
    };
    if let Some(path) = &v.capture {
        capture(path, &bytes);
    }
    match v.validate(&bytes, now).await {
        Ok(answer) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            serde_json::to_vec(&answer).unwrap_or_default(),
        )
            .into_response(),
        Err(e) => {
            tracing::info!(error = e.code(), "validation refused");
            api_error(&e)
        }
    }
}

/// `zw-vendor serve --capture FILE`: one JSON line per body, exactly as
/// received. A small blocking append, local runs only (never in Lambda).
fn capture(path: &std::path::Path, body: &[u8]) {
    let line = serde_json::json!({ "body": String::from_utf8_lossy(body) });
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| writeln!(f, "{line}"));
    if let Err(e) = written {
        tracing::error!(error = %e, path = %path.display(), "capture");
    }
}

async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/v1/") {
        let body = serde_json::json!({"error": "not_found", "message": "no such endpoint; the API is POST /v1/licenses/validate"});
        (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response()
    } else {
        page(
            StatusCode::NOT_FOUND,
            html::message_page("Not found", "There is no page here.", true),
            Vec::new(),
        )
    }
}

// ---- portal ----

fn security_headers(headers: &mut HeaderMap) {
    let csp = format!(
        "default-src 'none'; style-src '{}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        html::style_hash()
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

fn with_cookies(mut response: Response, cookies: Vec<String>) -> Response {
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(&c) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    security_headers(response.headers_mut());
    response
}

fn page(status: StatusCode, body: String, cookies: Vec<String>) -> Response {
    let response = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response();
    with_cookies(response, cookies)
}

fn redirect(to: &'static str, cookies: Vec<String>) -> Response {
    let response = (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response();
    with_cookies(response, cookies)
}

fn set_cookie(v: &Vendor, name: &str, value: &str, path: &str, max_age: i64) -> String {
    cookie_header(v.secure_cookies, name, value, path, max_age)
}

fn cookie_header(secure: bool, name: &str, value: &str, path: &str, max_age: i64) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}")
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn unavailable(e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "portal");
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        html::message_page(
            "Temporarily unavailable",
            "The portal could not read its records. Try again in a minute.",
            true,
        ),
        Vec::new(),
    )
}

fn csrf_refused() -> Response {
    page(
        StatusCode::FORBIDDEN,
        html::message_page(
            "Form refused",
            "This form's security token is missing or out of date, so nothing was changed. Go back to the portal, reload the page and try again.",
            true,
        ),
        Vec::new(),
    )
}

/// The request's session, or a redirect to the sign-in page.
async fn session(v: &Vendor, headers: &HeaderMap, now: DateTime<Utc>) -> Result<Session, Response> {
    let id = cookie(headers, SESSION_COOKIE).unwrap_or_default();
    match v.session(&id, now).await {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err(redirect("/portal/login", Vec::new())),
        Err(e) => Err(unavailable(&e)),
    }
}

async fn portal(State(v): State<AppState>, headers: HeaderMap) -> Response {
    let now = v.clock.now();
    let s = match session(&v, &headers, now).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match &s.principal {
        Principal::Customer(id) => match v.store.customer_view(id).await {
            Ok(Some(view)) => page(
                StatusCode::OK,
                html::customer_page(&view, &s.csrf, None),
                Vec::new(),
            ),
            Ok(None) => page(
                StatusCode::NOT_FOUND,
                html::message_page("Not found", "This customer no longer exists.", false),
                Vec::new(),
            ),
            Err(e) => unavailable(&e),
        },
        Principal::Staff => match service::all_customers(v.store.as_ref()).await {
            Ok(views) => page(
                StatusCode::OK,
                html::staff_page(&views, &s.csrf),
                Vec::new(),
            ),
            Err(e) => unavailable(&e),
        },
    }
}

fn login_response(v: &Vendor, status: StatusCode, error: Option<&str>) -> Response {
    match secrets::new_token() {
        Ok(pre) => page(
            status,
            html::login_page(&pre, error),
            vec![set_cookie(v, LOGIN_COOKIE, &pre, "/portal/login", 1800)],
        ),
        Err(e) => unavailable(&e),
    }
}

async fn login_form(State(v): State<AppState>) -> Response {
    login_response(&v, StatusCode::OK, None)
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
}

async fn login(
    State(v): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let now = v.clock.now();
    let Ok(Form(form)) = form else {
        return login_response(
            &v,
            StatusCode::BAD_REQUEST,
            Some("The sign-in form was not understood; try again."),
        );
    };
    let pre = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if pre.is_empty() || !same_secret(&pre, &form.csrf) {
        return csrf_refused();
    }
    match v.sign_in(&form.token, now).await {
        Ok(Some((id, _))) => redirect(
            "/portal",
            vec![
                set_cookie(
                    &v,
                    SESSION_COOKIE,
                    &id,
                    "/",
                    service::SESSION_LIFETIME.num_seconds(),
                ),
                set_cookie(&v, LOGIN_COOKIE, "", "/portal/login", 0),
            ],
        ),
        Ok(None) => login_response(
            &v,
            StatusCode::UNAUTHORIZED,
            Some("That token is not valid. Check it and try again."),
        ),
        Err(e) => unavailable(&e),
    }
}

#[derive(Debug, Deserialize)]
struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    license_id: String,
}

/// The session and form of a signed-in POST, its CSRF token checked.
async fn signed_in_form(
    v: &Vendor,
    headers: &HeaderMap,
    form: Result<Form<ActionForm>, FormRejection>,
    now: DateTime<Utc>,
) -> Result<(Session, ActionForm), Response> {
    let s = session(v, headers, now).await?;
    let form = form.map(|Form(f)| f).unwrap_or(ActionForm {
        csrf: String::new(),
        license_id: String::new(),
    });
    if form.csrf.is_empty() || !same_secret(&form.csrf, &s.csrf) {
        return Err(csrf_refused());
    }
    Ok((s, form))
}

async fn logout(
    State(v): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    let now = v.clock.now();
    if let Err(r) = signed_in_form(&v, &headers, form, now).await {
        return r;
    }
    if let Err(e) = v
        .sign_out(&cookie(&headers, SESSION_COOKIE).unwrap_or_default())
        .await
    {
        return unavailable(&e);
    }
    redirect(
        "/portal/login",
        vec![set_cookie(&v, SESSION_COOKIE, "", "/", 0)],
    )
}

fn customer_only(s: &Session) -> Option<String> {
    match &s.principal {
        Principal::Customer(id) => Some(id.clone()),
        Principal::Staff => None,
    }
}

fn staff_refused() -> Response {
    page(
        StatusCode::FORBIDDEN,
        html::message_page(
            "Not from the staff view",
            "Keys are revoked by their customer here, or by staff with `zw-vendor key revoke`.",
            true,
        ),
        Vec::new(),
    )
}

fn action_failed(e: &ActionError) -> Response {
    match e {
        ActionError::Store(StoreError::NotFound { .. }) => page(
            StatusCode::NOT_FOUND,
            html::message_page("Not found", "That key is not one of yours.", true),
            Vec::new(),
        ),
        other => unavailable(other),
    }
}

async fn revoke(
    State(v): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    let now = v.clock.now();
    let (s, form) = match signed_in_form(&v, &headers, form, now).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(customer) = customer_only(&s) else {
        return staff_refused();
    };
    match v.store.revoke_key(&customer, &form.license_id, now).await {
        Ok(key) => {
            tracing::info!(customer = %customer, license = %key.license_id, "key revoked in the portal");
            redirect("/portal", Vec::new())
        }
        Err(e) => action_failed(&e.into()),
    }
}

async fn rotate(
    State(v): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    let now = v.clock.now();
    let (s, form) = match signed_in_form(&v, &headers, form, now).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(customer) = customer_only(&s) else {
        return staff_refused();
    };
    let old = match v.store.customer_view(&customer).await {
        Ok(Some(view)) => view
            .keys
            .into_iter()
            .find(|k| k.license_id == form.license_id),
        Ok(None) => None,
        Err(e) => return unavailable(&e),
    };
    let Some(old) = old else {
        return action_failed(&ActionError::Store(StoreError::NotFound {
            what: "license".into(),
        }));
    };
    match service::rotate_key(v.store.as_ref(), &customer, &old.license_id, now).await {
        Ok(issued) => {
            tracing::info!(customer = %customer, old = %old.license_id, new = %issued.license_id, "key rotated in the portal");
            page(
                StatusCode::OK,
                html::new_key_page(&issued, &old.masked(), &s.csrf),
                Vec::new(),
            )
        }
        Err(e) => action_failed(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; zw_session=abc; zw_login=x"),
        );
        assert_eq!(cookie(&h, "zw_session").as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "zw_login").as_deref(), Some("x"));
        assert_eq!(cookie(&h, "zw"), None);
    }

    #[test]
    fn session_cookies_are_http_only_strict_and_secure_unless_on_loopback_http() {
        let c = cookie_header(true, SESSION_COOKIE, "abc", "/", 60);
        assert_eq!(
            c,
            "zw_session=abc; Path=/; Max-Age=60; HttpOnly; SameSite=Strict; Secure"
        );
        let c = cookie_header(false, SESSION_COOKIE, "abc", "/", 60);
        assert!(c.ends_with("HttpOnly; SameSite=Strict"));
    }
}
