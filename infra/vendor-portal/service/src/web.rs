//! HTTP: the one Router for the API and the portal, served by Lambda
//! (`vendor-api`) and by `zw-vendor serve`.
//!
//! | route                                   | who      | what |
//! |-----------------------------------------|----------|------|
//! | `POST /v1/licenses/validate`            | clients  | the license client's only call (JSON) |
//! | `GET /portal`                           | both     | the signed-in customer's view, or the staff view |
//! | `GET/POST /portal/login`                | customer | sign in with a portal token |
//! | `GET/POST /portal/staff/login`          | staff    | sign in: e-mail address and password (Cognito) |
//! | `POST /portal/staff/step`               | staff    | the next sign-in step: new password, authenticator set-up or code |
//! | `POST /portal/logout`                   | both     | sign out |
//! | `POST /portal/keys/revoke`, `.../rotate`| customer | revoke or rotate one of their keys |
//! | `GET /portal/customers/{id}`            | staff    | one customer, with the forms that change it |
//! | `GET /portal/audit?before=`             | staff    | the audit log, newest first |
//! | `POST /portal/staff/keys/{issue,revoke,rotate}` | staff | a customer's keys |
//! | `POST /portal/staff/portal-token/{reissue,revoke}` | staff | a customer's portal token |
//! | `POST /portal/staff/subscription`       | staff    | a customer's subscription |
//!
//! Sessions: an `HttpOnly; SameSite=Strict` cookie (plus `Secure`, except
//! when served over plain http on loopback) naming a session stored by its
//! hash. Every POST form carries a CSRF token: the session's for signed-in
//! forms, a pre-session cookie's for the sign-in forms (double submit), the
//! pending sign-in's for the staff sign-in steps.

use crate::html;
use crate::model::{Actor, Principal, Session, StaffMember};
use crate::secrets::{self, same_secret};
use crate::service::{self, ActionError, ApiError, SignIn, StepInput, SubscriptionChange, Vendor};
use crate::source::Source;
use crate::store::StoreError;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, Form, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use zw_license::SubscriptionStatus;
use zw_license::schema::MAX_REQUEST_BYTES;

const SESSION_COOKIE: &str = "zw_session";
const LOGIN_COOKIE: &str = "zw_login";
const STAFF_LOGIN_COOKIE: &str = "zw_staff_login";
const STAFF_STEP_COOKIE: &str = "zw_staff_step";
/// How much of a validation body is read at all: past the 4 KB limit so
/// that an oversized body is answered 413 with its size, not cut silently.
const READ_LIMIT: usize = 64 * 1024;
/// Audit lines on the staff page, and per page of the audit log.
const RECENT_AUDIT: u32 = 20;
const AUDIT_PAGE: u32 = 100;

type AppState = Arc<Vendor>;

/// The service's Router. Locally, serve it with
/// `into_make_service_with_connect_info::<SocketAddr>()` so that requests
/// carry their source address.
pub fn router(vendor: Arc<Vendor>) -> Router {
    Router::new()
        .route("/v1/licenses/validate", post(validate))
        .route("/", get(|| async { redirect("/portal", Vec::new()) }))
        .route("/portal", get(portal))
        .route("/portal/login", get(login_form).post(login))
        .route(
            "/portal/staff/login",
            get(staff_login_form).post(staff_login),
        )
        .route("/portal/staff/step", post(staff_step))
        .route("/portal/logout", post(logout))
        .route("/portal/keys/revoke", post(revoke))
        .route("/portal/keys/rotate", post(rotate))
        .route("/portal/customers/{id}", get(staff_customer))
        .route("/portal/audit", get(audit_log))
        .route("/portal/staff/keys/issue", post(staff_issue_key))
        .route("/portal/staff/keys/revoke", post(staff_revoke_key))
        .route("/portal/staff/keys/rotate", post(staff_rotate_key))
        .route(
            "/portal/staff/portal-token/reissue",
            post(staff_reissue_token),
        )
        .route(
            "/portal/staff/portal-token/revoke",
            post(staff_revoke_token),
        )
        .route("/portal/staff/subscription", post(staff_subscription))
        .fallback(not_found)
        .with_state(vendor)
}

/// The source address: API Gateway's request context in Lambda, the
/// connection's peer behind `zw-vendor serve`; never a header.
impl<S: Send + Sync> FromRequestParts<S> for Source {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        if let Some(context) = parts
            .extensions
            .get::<lambda_http::request::RequestContext>()
        {
            return Ok(lambda_source(context));
        }
        Ok(Source(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

#[allow(
    unreachable_patterns,
    reason = "other request contexts exist only with other lambda_http features"
)]
fn lambda_source(context: &lambda_http::request::RequestContext) -> Source {
    match context {
        lambda_http::request::RequestContext::ApiGatewayV2(c) => c
            .http
            .source_ip
            .as_deref()
            .map(Source::parse)
            .unwrap_or_default(),
        _ => Source::none(),
    }
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
    if let Some(secs) = e.retry_after_secs() {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

async fn validate(State(v): State<AppState>, source: Source, body: Body) -> Response {
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
    match v.validate(&bytes, &source, now).await {
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

// ---- portal plumbing ----

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

fn redirect(to: &str, cookies: Vec<String>) -> Response {
    let location = HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/portal"));
    let response = (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
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

fn limited(retry_after_secs: u64) -> Response {
    let mut response = page(
        StatusCode::TOO_MANY_REQUESTS,
        html::message_page(
            "Too many attempts",
            &format!(
                "Too many failed sign-ins from your address. Try again in {retry_after_secs} seconds."
            ),
            false,
        ),
        Vec::new(),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    response
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

fn staff_member(s: &Session) -> Option<&StaffMember> {
    match &s.principal {
        Principal::Staff(m) => Some(m),
        Principal::Customer(_) => None,
    }
}

fn staff_only() -> Response {
    page(
        StatusCode::FORBIDDEN,
        html::message_page("Staff only", "This page is for the vendor's staff.", true),
        Vec::new(),
    )
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
        Principal::Staff(me) => {
            let views = match service::all_customers(v.store.as_ref()).await {
                Ok(views) => views,
                Err(e) => return unavailable(&e),
            };
            match v.store.audit_entries(None, RECENT_AUDIT).await {
                Ok(recent) => page(
                    StatusCode::OK,
                    html::staff_page(&views, &recent.entries, me, &s.csrf),
                    Vec::new(),
                ),
                Err(e) => unavailable(&e),
            }
        }
    }
}

// ---- sign-in ----

/// Which sign-in form: its page, its path and its pre-session cookie.
#[derive(Debug, Clone, Copy)]
enum LoginForm {
    Customer,
    Staff,
}

impl LoginForm {
    fn path(self) -> &'static str {
        match self {
            Self::Customer => "/portal/login",
            Self::Staff => "/portal/staff/login",
        }
    }

    fn cookie(self) -> &'static str {
        match self {
            Self::Customer => LOGIN_COOKIE,
            Self::Staff => STAFF_LOGIN_COOKIE,
        }
    }
}

fn login_response(
    v: &Vendor,
    form: LoginForm,
    status: StatusCode,
    error: Option<&str>,
    mut cookies: Vec<String>,
) -> Response {
    match secrets::new_token() {
        Ok(pre) => {
            let body = match form {
                LoginForm::Customer => html::login_page(&pre, error),
                LoginForm::Staff => html::staff_login_page(&pre, error),
            };
            cookies.push(set_cookie(v, form.cookie(), &pre, form.path(), 1800));
            page(status, body, cookies)
        }
        Err(e) => unavailable(&e),
    }
}

async fn login_form(State(v): State<AppState>) -> Response {
    login_response(&v, LoginForm::Customer, StatusCode::OK, None, Vec::new())
}

async fn staff_login_form(State(v): State<AppState>) -> Response {
    if v.staff.is_none() {
        return page(
            StatusCode::SERVICE_UNAVAILABLE,
            html::message_page(
                "Staff sign-in is off",
                "This server has no staff user pool configured (ZW_VENDOR_STAFF_USER_POOL_ID, ZW_VENDOR_STAFF_CLIENT_ID).",
                false,
            ),
            Vec::new(),
        );
    }
    login_response(&v, LoginForm::Staff, StatusCode::OK, None, Vec::new())
}

/// The sign-in form's double-submit token matches its pre-session cookie.
fn login_csrf_ok(headers: &HeaderMap, form: LoginForm, csrf: &str) -> bool {
    let pre = cookie(headers, form.cookie()).unwrap_or_default();
    !pre.is_empty() && same_secret(&pre, csrf)
}

/// What a sign-in ended in, as a response.
fn sign_in_response(v: &Vendor, form: LoginForm, outcome: SignIn) -> Response {
    match outcome {
        SignIn::Done { cookie, session } => {
            let lifetime = match session.principal {
                Principal::Customer(_) => service::SESSION_LIFETIME,
                Principal::Staff(_) => service::STAFF_SESSION_LIFETIME,
            };
            redirect(
                "/portal",
                vec![
                    set_cookie(v, SESSION_COOKIE, &cookie, "/", lifetime.num_seconds()),
                    set_cookie(v, form.cookie(), "", form.path(), 0),
                    set_cookie(v, STAFF_STEP_COOKIE, "", "/portal/staff", 0),
                ],
            )
        }
        SignIn::Next {
            cookie,
            pending,
            mfa_secret,
        } => page(
            StatusCode::OK,
            html::staff_step_page(
                pending.step,
                &pending.username,
                &pending.csrf,
                mfa_secret.as_deref(),
                None,
            ),
            vec![set_cookie(
                v,
                STAFF_STEP_COOKIE,
                &cookie,
                "/portal/staff",
                service::SIGN_IN_STEP_LIFETIME.num_seconds(),
            )],
        ),
        SignIn::Again { pending, message } => page(
            StatusCode::BAD_REQUEST,
            html::staff_step_page(
                pending.step,
                &pending.username,
                &pending.csrf,
                None,
                Some(&message),
            ),
            Vec::new(),
        ),
        SignIn::Refused { message } => login_response(
            v,
            form,
            StatusCode::UNAUTHORIZED,
            Some(message),
            vec![set_cookie(v, STAFF_STEP_COOKIE, "", "/portal/staff", 0)],
        ),
        SignIn::Limited { retry_after_secs } => limited(retry_after_secs),
    }
}

#[derive(Debug, Deserialize)]
struct TokenLogin {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
}

async fn login(
    State(v): State<AppState>,
    source: Source,
    headers: HeaderMap,
    form: Result<Form<TokenLogin>, FormRejection>,
) -> Response {
    let now = v.clock.now();
    let Ok(Form(form)) = form else {
        return login_response(
            &v,
            LoginForm::Customer,
            StatusCode::BAD_REQUEST,
            Some("The sign-in form was not understood; try again."),
            Vec::new(),
        );
    };
    if !login_csrf_ok(&headers, LoginForm::Customer, &form.csrf) {
        return csrf_refused();
    }
    match v.sign_in_customer(&form.token, &source, now).await {
        Ok(outcome) => sign_in_response(&v, LoginForm::Customer, outcome),
        Err(e) => unavailable(&e),
    }
}

#[derive(Debug, Deserialize)]
struct StaffLogin {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

async fn staff_login(
    State(v): State<AppState>,
    source: Source,
    headers: HeaderMap,
    form: Result<Form<StaffLogin>, FormRejection>,
) -> Response {
    let now = v.clock.now();
    let Ok(Form(form)) = form else {
        return login_response(
            &v,
            LoginForm::Staff,
            StatusCode::BAD_REQUEST,
            Some("The sign-in form was not understood; try again."),
            Vec::new(),
        );
    };
    if !login_csrf_ok(&headers, LoginForm::Staff, &form.csrf) {
        return csrf_refused();
    }
    match v
        .sign_in_staff(&form.email, &form.password, &source, now)
        .await
    {
        Ok(outcome) => sign_in_response(&v, LoginForm::Staff, outcome),
        Err(e) => unavailable(&e),
    }
}

#[derive(Debug, Deserialize)]
struct StepForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
    #[serde(default)]
    code: String,
}

async fn staff_step(
    State(v): State<AppState>,
    source: Source,
    headers: HeaderMap,
    form: Result<Form<StepForm>, FormRejection>,
) -> Response {
    let now = v.clock.now();
    let form = form.map(|Form(f)| f).unwrap_or(StepForm {
        csrf: String::new(),
        new_password: String::new(),
        confirm_password: String::new(),
        code: String::new(),
    });
    let pending_cookie = cookie(&headers, STAFF_STEP_COOKIE).unwrap_or_default();
    let input = StepInput {
        // Two different entries are treated as none: the page asks again.
        new_password: if form.new_password == form.confirm_password {
            form.new_password
        } else {
            String::new()
        },
        code: form.code,
    };
    match v
        .staff_step(&pending_cookie, &form.csrf, &input, &source, now)
        .await
    {
        Ok(Some(outcome)) => sign_in_response(&v, LoginForm::Staff, outcome),
        Ok(None) => csrf_refused(),
        Err(e) => unavailable(&e),
    }
}

#[derive(Debug, Default, Deserialize)]
struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    license_id: String,
    #[serde(default)]
    customer_id: String,
}

/// The session and form of a signed-in POST, its CSRF token checked.
async fn signed_in_form<F: Default + HasCsrf>(
    v: &Vendor,
    headers: &HeaderMap,
    form: Result<Form<F>, FormRejection>,
    now: DateTime<Utc>,
) -> Result<(Session, F), Response> {
    let s = session(v, headers, now).await?;
    let form = form.map(|Form(f)| f).unwrap_or_default();
    if form.csrf().is_empty() || !same_secret(form.csrf(), &s.csrf) {
        return Err(csrf_refused());
    }
    Ok((s, form))
}

trait HasCsrf {
    fn csrf(&self) -> &str;
}

impl HasCsrf for ActionForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn logout(
    State(v): State<AppState>,
    source: Source,
    headers: HeaderMap,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    let now = v.clock.now();
    let s = match signed_in_form(&v, &headers, form, now).await {
        Ok((s, _)) => s,
        Err(r) => return r,
    };
    let id = cookie(&headers, SESSION_COOKIE).unwrap_or_default();
    if let Err(e) = v.sign_out(&id, &s, &source, now).await {
        return unavailable(&e);
    }
    let to = match s.principal {
        Principal::Customer(_) => "/portal/login",
        Principal::Staff(_) => "/portal/staff/login",
    };
    redirect(to, vec![set_cookie(&v, SESSION_COOKIE, "", "/", 0)])
}

fn customer_only(s: &Session) -> Option<String> {
    match &s.principal {
        Principal::Customer(id) => Some(id.clone()),
        Principal::Staff(_) => None,
    }
}

fn staff_refused() -> Response {
    page(
        StatusCode::FORBIDDEN,
        html::message_page(
            "Not from here",
            "Staff change a customer's keys from that customer's page.",
            true,
        ),
        Vec::new(),
    )
}

fn action_failed(e: &ActionError) -> Response {
    let (status, title, message) = match e {
        ActionError::Store(StoreError::NotFound { .. }) | ActionError::NoSuchCustomer(_) => (
            StatusCode::NOT_FOUND,
            "Not found",
            "That key or customer does not exist here.".to_owned(),
        ),
        ActionError::KeyRevoked(_) => (
            StatusCode::CONFLICT,
            "Key revoked",
            "This key is revoked and cannot be rotated. Issue a new key instead.".to_owned(),
        ),
        ActionError::TooManyKeys { max, .. } => (
            StatusCode::CONFLICT,
            "Too many keys",
            format!(
                "This customer already has {max} active keys, the most allowed. Revoke one first."
            ),
        ),
        ActionError::Store(StoreError::Conflict { .. }) => (
            StatusCode::CONFLICT,
            "Changed meanwhile",
            "Someone changed this at the same time. Reload the page and try again.".to_owned(),
        ),
        other => return unavailable(other),
    };
    page(
        status,
        html::message_page(title, &message, true),
        Vec::new(),
    )
}

async fn revoke(
    State(v): State<AppState>,
    source: Source,
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
    match service::revoke_key(
        v.store.as_ref(),
        &customer,
        &form.license_id,
        Actor::Customer(customer.clone()),
        &source,
        now,
    )
    .await
    {
        Ok(key) => {
            tracing::info!(customer = %customer, license = %key.license_id, "key revoked in the portal");
            redirect("/portal", Vec::new())
        }
        Err(e) => action_failed(&e),
    }
}

async fn rotate(
    State(v): State<AppState>,
    source: Source,
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
    rotated(
        &v,
        &s,
        &customer,
        &form.license_id,
        Actor::Customer(customer.clone()),
        &source,
        now,
        "/portal",
    )
    .await
}

#[expect(
    clippy::too_many_arguments,
    reason = "the one place both portals' rotations render; a struct would only rename them"
)]
async fn rotated(
    v: &Vendor,
    s: &Session,
    customer: &str,
    license_id: &str,
    actor: Actor,
    source: &Source,
    now: DateTime<Utc>,
    back: &str,
) -> Response {
    let old = match v.store.customer_view(customer).await {
        Ok(Some(view)) => view.keys.into_iter().find(|k| k.license_id == license_id),
        Ok(None) => None,
        Err(e) => return unavailable(&e),
    };
    let Some(old) = old else {
        return action_failed(&ActionError::Store(StoreError::NotFound {
            what: "license".into(),
        }));
    };
    match service::rotate_key(
        v.store.as_ref(),
        customer,
        &old.license_id,
        actor,
        source,
        now,
    )
    .await
    {
        Ok(issued) => {
            tracing::info!(customer = %customer, old = %old.license_id, new = %issued.license_id, "key rotated in the portal");
            page(
                StatusCode::OK,
                html::new_key_page(&issued, &old.masked(), &s.csrf, back),
                Vec::new(),
            )
        }
        Err(e) => action_failed(&e),
    }
}

// ---- staff ----

/// A staff member's POST: the session, its member and the form.
async fn staff_form<F: Default + HasCsrf>(
    v: &Vendor,
    headers: &HeaderMap,
    form: Result<Form<F>, FormRejection>,
    now: DateTime<Utc>,
) -> Result<(Session, StaffMember, F), Response> {
    let (s, form) = signed_in_form(v, headers, form, now).await?;
    let me = staff_member(&s).ok_or_else(staff_only)?.clone();
    Ok((s, me, form))
}

fn customer_page_path(id: &str) -> String {
    // Ids are `cus_` and hex; anything else would not be found anyway.
    let id: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    format!("/portal/customers/{id}")
}

async fn staff_customer(
    State(v): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let now = v.clock.now();
    let s = match session(&v, &headers, now).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Some(me) = staff_member(&s) else {
        return staff_only();
    };
    match v.store.customer_view(&id).await {
        Ok(Some(view)) => page(
            StatusCode::OK,
            html::staff_customer_page(&view, me, v.limits.max_active_keys, &s.csrf),
            Vec::new(),
        ),
        Ok(None) => action_failed(&ActionError::NoSuchCustomer(id)),
        Err(e) => unavailable(&e),
    }
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    before: Option<String>,
}

async fn audit_log(
    State(v): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<AuditQuery>,
) -> Response {
    let now = v.clock.now();
    let s = match session(&v, &headers, now).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Some(me) = staff_member(&s) else {
        return staff_only();
    };
    match v
        .store
        .audit_entries(query.before.as_deref(), AUDIT_PAGE)
        .await
    {
        Ok(entries) => page(
            StatusCode::OK,
            html::audit_page(&entries, me, &s.csrf),
            Vec::new(),
        ),
        Err(e) => unavailable(&e),
    }
}

async fn staff_issue_key(
    State(v): State<AppState>,
    source: Source,
    headers: HeaderMap,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    let now = v.clock.now();
    let (s, me, form) = match staff_form(&v, &headers, form, now).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match service::issue_key(
        v.store.as_ref(),
        &form.customer_id,
        v.limits.max_active_keys,
        Actor::Staff(me),
        &source,
        now,
    )
    .await
    {
        Ok(issued) => page(
            StatusCode::OK,
            html::shown_once_page(
                "New license key",
                "Copy this key now: it is shown only once. Send it to the customer through their account channel.",
                "New license key",
                &issued.license_key,
                &customer_page_path(&form.customer_id),
                &s.csrf,
            ),
            Vec::new(),
        ),
        Err(e) => action_failed(&e),
    }
}

async fn staff_revoke_key(
    State(v): State<AppState>,
    source: Source,
    headers: HeaderMap,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    let now = v.clock.now();
    let (_, me, form) = match staff_form(&v, &headers, form, now).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match service::revoke_key(
        v.store.as_ref(),
        &form.customer_id,
        &form.license_id,
        Actor::Staff(me),
        &source,
        now,
    )
    .await
    {
        Ok(_) => redirect(&customer_page_path(&form.customer_id), Vec::new()),
        Err(e) => action_failed(&e),
    }
}

async fn staff_rotate_key(
    State(v): State<AppState>,
    source: Source,
    headers: HeaderMap,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    let now = v.clock.now();
    let (s, me, form) = match staff_form(&v, &headers, form, now).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    rotated(
        &v,
        &s,
        &form.customer_id,
        &form.license_id,
        Actor::Staff(me),
        &source,
        now,
        &customer_page_path(&form.customer_id),
    )
    .await
}

async fn staff_reissue_token(
    State(v): State<AppState>,
    source: Source,
    headers: HeaderMap,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    let now = v.clock.now();
    let (s, me, form) = match staff_form(&v, &headers, form, now).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match service::reissue_portal_token(
        v.store.as_ref(),
        &form.customer_id,
        Actor::Staff(me),
        &source,
        now,
    )
    .await
    {
        Ok(token) => page(
            StatusCode::OK,
            html::shown_once_page(
                "New portal token",
                "Copy this token now: it is shown only once. The old token no longer signs in, and the customer's portal sessions have ended.",
                "New portal token",
                &token,
                &customer_page_path(&form.customer_id),
                &s.csrf,
            ),
            Vec::new(),
        ),
        Err(e) => action_failed(&e),
    }
}

async fn staff_revoke_token(
    State(v): State<AppState>,
    source: Source,
    headers: HeaderMap,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    let now = v.clock.now();
    let (_, me, form) = match staff_form(&v, &headers, form, now).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match service::revoke_portal_token(
        v.store.as_ref(),
        &form.customer_id,
        Actor::Staff(me),
        &source,
        now,
    )
    .await
    {
        Ok(()) => redirect(&customer_page_path(&form.customer_id), Vec::new()),
        Err(e) => action_failed(&e),
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
struct SubscriptionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    customer_id: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    renews_at: String,
    #[serde(default)]
    plan: String,
    #[serde(default)]
    zones: String,
    #[serde(default)]
    certificates: String,
    #[serde(default)]
    accounts: String,
}

impl HasCsrf for SubscriptionForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

impl SubscriptionForm {
    /// The change the form asks for, or what is wrong with it.
    fn change(&self) -> Result<SubscriptionChange, String> {
        let status = SubscriptionStatus::parse(self.status.trim())
            .ok_or("Choose a status: active, trialing, past_due or cancelled.")?;
        let renews_at = NaiveDate::parse_from_str(self.renews_at.trim(), "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc())
            .ok_or("Give the renewal date as a date (2027-01-15).")?;
        let plan = self.plan.trim();
        if plan.is_empty() || plan.chars().count() > 64 || plan.chars().any(char::is_control) {
            return Err("Give the plan a name of 1 to 64 characters.".into());
        }
        let number = |v: &str, what: &str| {
            v.trim()
                .parse::<u32>()
                .map_err(|_| format!("Give the {what} as a whole number."))
        };
        Ok(SubscriptionChange {
            status: Some(status),
            renews_at: Some(renews_at),
            plan: Some(plan.to_owned()),
            zones: Some(number(&self.zones, "hosted zones")?),
            certificates: Some(number(&self.certificates, "certificates")?),
            accounts: Some(number(&self.accounts, "AWS accounts")?),
        })
    }
}

async fn staff_subscription(
    State(v): State<AppState>,
    source: Source,
    headers: HeaderMap,
    form: Result<Form<SubscriptionForm>, FormRejection>,
) -> Response {
    let now = v.clock.now();
    let (_, me, form) = match staff_form(&v, &headers, form, now).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let change = match form.change() {
        Ok(c) => c,
        Err(message) => {
            return page(
                StatusCode::BAD_REQUEST,
                html::message_page("Nothing changed", &message, true),
                Vec::new(),
            );
        }
    };
    match service::change_subscription(
        v.store.as_ref(),
        &form.customer_id,
        &change,
        Actor::Staff(me),
        &source,
        now,
    )
    .await
    {
        Ok(_) => redirect(&customer_page_path(&form.customer_id), Vec::new()),
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

    #[test]
    fn a_subscription_form_is_checked_before_anything_changes() {
        let good = SubscriptionForm {
            status: "past_due".into(),
            renews_at: "2027-02-15".into(),
            plan: "team".into(),
            zones: "60".into(),
            certificates: "500".into(),
            accounts: "5".into(),
            ..SubscriptionForm::default()
        };
        let c = good.change().unwrap();
        assert_eq!(c.status, Some(SubscriptionStatus::PastDue));
        assert_eq!(c.zones, Some(60));
        for bad in [
            SubscriptionForm {
                status: "free".into(),
                ..good.clone()
            },
            SubscriptionForm {
                renews_at: "soon".into(),
                ..good.clone()
            },
            SubscriptionForm {
                plan: String::new(),
                ..good.clone()
            },
            SubscriptionForm {
                zones: "-1".into(),
                ..good.clone()
            },
        ] {
            assert!(bad.change().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn customer_page_paths_carry_only_id_characters() {
        assert_eq!(customer_page_path("cus_0a1b"), "/portal/customers/cus_0a1b");
        assert_eq!(
            customer_page_path("cus_1/../../evil?x"),
            "/portal/customers/cus_1evilx"
        );
    }
}
