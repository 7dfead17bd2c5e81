//! The vendor service end to end: the real Router over HTTP on loopback,
//! DynamoDB in moto (a private server per test, `zw_testkit::Moto`), a
//! fixed clock so that rate-limit windows and TTLs land where asserted.
//!
//! What moto cannot show: DynamoDB never enforces TTL there, so the tests
//! check the `expires_at` attribute, not the deletion.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "helpers outside #[test] fns fail the test on the unexpected, like the tests do"
)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use std::sync::Arc;
use zw_license::schema::ErrorBody;
use zw_license::{
    FleetCounts, KeyPair, Limits, PublicKey, SubscriptionStatus, ValidationRequest,
    ValidationResponse,
};
use zw_testkit::Moto;
use zw_vendor::model::{KeyState, Subscription};
use zw_vendor::secrets::hash_secret;
use zw_vendor::service::{self, IssuedKey};
use zw_vendor::{DynamoStore, FixedClock, RateLimit, Vendor, VendorStore};

const STAFF_TOKEN: &str = "staff-token-for-tests";
const TABLE: &str = "zw-vendor-test";

struct World {
    _moto: Moto,
    base: String,
    store: Arc<DynamoStore>,
    clock: Arc<FixedClock>,
    public: PublicKey,
    http: reqwest::Client,
}

fn start() -> DateTime<Utc> {
    // Five seconds into a minute: a rate-limit window has 55 s left.
    Utc.with_ymd_and_hms(2026, 12, 2, 10, 0, 5).unwrap()
}

async fn world(rate_limit: u32) -> World {
    let moto = Moto::start().expect("moto (run scripts/setup)");
    let sdk = moto.sdk_config("eu-west-1").await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    zw_vendor::dynamo::create_table(&client, TABLE)
        .await
        .unwrap();
    let store = Arc::new(DynamoStore::new(client, TABLE));
    let signer = KeyPair::generate().unwrap();
    let public = PublicKey::from_base64url(&signer.public().to_base64url()).unwrap();
    let clock = Arc::new(FixedClock::new(start()));
    let vendor = Vendor {
        store: store.clone(),
        signer: Arc::new(signer),
        clock: clock.clone(),
        rate_limit: RateLimit {
            requests: rate_limit,
            window_secs: 60,
        },
        staff_token_hash: hash_secret(STAFF_TOKEN),
        secure_cookies: false,
        capture: None,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, zw_vendor::web::router(Arc::new(vendor)))
            .await
            .unwrap();
    });
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    World {
        _moto: moto,
        base,
        store,
        clock,
        public,
        http,
    }
}

fn subscription(status: SubscriptionStatus) -> Subscription {
    Subscription {
        plan: "team".into(),
        limits: Limits {
            zones: 50,
            certificates: 500,
            accounts: 5,
        },
        status,
        renews_at: Utc.with_ymd_and_hms(2027, 1, 15, 0, 0, 0).unwrap(),
    }
}

impl World {
    async fn customer(
        &self,
        name: &str,
        status: SubscriptionStatus,
    ) -> (String, String, IssuedKey) {
        let (c, token) =
            service::create_customer(self.store.as_ref(), name, subscription(status), start())
                .await
                .unwrap();
        let key = service::issue_key(self.store.as_ref(), &c.id, start())
            .await
            .unwrap();
        (c.id, token, key)
    }

    async fn post(&self, body: impl Into<Vec<u8>>) -> (u16, Option<String>, Vec<u8>) {
        let r = self
            .http
            .post(format!("{}/v1/licenses/validate", self.base))
            .header("content-type", "application/json")
            .body(body.into())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let retry = r
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        (status, retry, r.bytes().await.unwrap().to_vec())
    }

    async fn validate(&self, key: &str, counts: Option<FleetCounts>) -> (u16, Vec<u8>) {
        let body = ValidationRequest::new(key, "0.1.0", counts)
            .to_body()
            .unwrap();
        let (status, _, body) = self.post(body).await;
        (status, body)
    }

    async fn refusal(&self, body: impl Into<Vec<u8>>) -> (u16, ErrorBody) {
        let (status, _, body) = self.post(body).await;
        let parsed: ErrorBody = serde_json::from_slice(&body).unwrap_or_else(|e| {
            panic!(
                "not an error body ({e}): {}",
                String::from_utf8_lossy(&body)
            )
        });
        (status, parsed)
    }
}

fn counts(zones: u64) -> FleetCounts {
    FleetCounts {
        hosted_zones: zones,
        record_sets: 340,
        certificates: 27,
        health_checks: 4,
        findings_high: 2,
        findings_low: 5,
        ..FleetCounts::default()
    }
}

#[tokio::test]
async fn a_valid_key_gets_a_signed_license_and_only_the_last_counts_are_kept() {
    let w = world(20).await;
    let (customer, _, key) = w.customer("Acme", SubscriptionStatus::Active).await;

    let (status, body) = w.validate(&key.license_key, Some(counts(12))).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let license = ValidationResponse::parse(&body).unwrap().license;
    let claims = w.public.verify(&license).unwrap();
    assert_eq!(claims.sub, key.license_id);
    assert_eq!(claims.customer, customer);
    assert_eq!(claims.plan, "team");
    assert_eq!(
        claims.limits,
        subscription(SubscriptionStatus::Active).limits
    );
    assert_eq!(claims.status, SubscriptionStatus::Active);
    assert_eq!(claims.key_hint, key.last4);
    assert_eq!(claims.iat, start().timestamp());
    assert_eq!(claims.nbf, start().timestamp());
    assert_eq!(claims.exp, (start() + Duration::days(30)).timestamp());
    assert_eq!(
        claims.renews_at,
        Utc.with_ymd_and_hms(2027, 1, 15, 0, 0, 0)
            .unwrap()
            .timestamp()
    );

    // A second report overwrites the first: one report per license, the latest.
    w.clock.advance(Duration::hours(6));
    let (status, _) = w.validate(&key.license_key, Some(counts(13))).await;
    assert_eq!(status, 200);
    let view = w.store.customer_view(&customer).await.unwrap().unwrap();
    assert_eq!(view.reports.len(), 1);
    assert_eq!(view.reports[0].counts, Some(counts(13)));
    assert_eq!(view.reports[0].at, start() + Duration::hours(6));

    // Fleet visibility switched off: the stored counts go too.
    let (status, _) = w.validate(&key.license_key, None).await;
    assert_eq!(status, 200);
    let view = w.store.customer_view(&customer).await.unwrap().unwrap();
    assert_eq!(view.reports.len(), 1);
    assert_eq!(view.reports[0].counts, None);

    // Every validation is logged, each line expiring 90 days after it.
    let log = w.store.log_entries(&key.license_id).await.unwrap();
    assert_eq!(log.len(), 3);
    for entry in &log {
        assert_eq!(entry.outcome, "licensed");
        assert_eq!(entry.key_hint, key.last4);
        assert_eq!(
            entry.expires_at,
            (entry.at + Duration::days(90)).timestamp()
        );
    }
}

#[tokio::test]
async fn bad_bodies_and_bad_keys_are_refused_with_their_reason_and_nothing_is_lost() {
    let w = world(100).await;
    let (customer, _, key) = w.customer("Acme", SubscriptionStatus::Active).await;
    let k = &key.license_key;
    assert_eq!(w.validate(k, Some(counts(7))).await.0, 200);

    let (status, e) = w
        .refusal(format!(
            r#"{{"license_key":"{k}","product_version":"{}"}}"#,
            "1".repeat(5000)
        ))
        .await;
    assert_eq!(
        (status, e.error.as_str()),
        (413, "payload_too_large"),
        "{}",
        e.message
    );
    let (status, e) = w.refusal(vec![b'x'; 200_000]).await;
    assert_eq!(
        (status, e.error.as_str()),
        (413, "payload_too_large"),
        "{}",
        e.message
    );

    let (status, e) = w.refusal(format!(r#"["{k}"]"#)).await;
    assert_eq!((status, e.error.as_str()), (400, "invalid_body"));
    assert!(e.message.contains("flat JSON object"), "{}", e.message);

    let (status, e) = w.refusal("not json").await;
    assert_eq!((status, e.error.as_str()), (400, "invalid_body"));

    let (status, e) = w
        .refusal(format!(r#"{{"license_key":"{k}","product_version":"0.1.0","hosted_zones":{{"example.com":1}}}}"#))
        .await;
    assert_eq!((status, e.error.as_str()), (400, "invalid_body"));
    assert!(
        e.message.contains("\"hosted_zones\" is nested"),
        "{}",
        e.message
    );

    let (status, e) = w
        .refusal(format!(
            r#"{{"license_key":"{k}","product_version":"0.1.0","hostnames":"www.example.com"}}"#
        ))
        .await;
    assert_eq!((status, e.error.as_str()), (400, "invalid_body"));
    assert!(
        e.message.contains("unknown field \"hostnames\""),
        "{}",
        e.message
    );

    let (status, e) = w
        .refusal(r#"{"license_key":"zwk_nope","product_version":"0.1.0"}"#)
        .await;
    assert_eq!((status, e.error.as_str()), (400, "invalid_body"));

    let stranger = zw_vendor::secrets::new_license_key().unwrap();
    let (status, e) = w
        .refusal(
            ValidationRequest::new(&stranger, "0.1.0", None)
                .to_body()
                .unwrap(),
        )
        .await;
    assert_eq!((status, e.error.as_str()), (401, "unknown_key"));

    // A revoked key: 403, and the refusal is logged.
    let second = service::issue_key(w.store.as_ref(), &customer, start())
        .await
        .unwrap();
    service::revoke_by_last4(w.store.as_ref(), &customer, &second.last4, start())
        .await
        .unwrap();
    let (status, e) = w
        .refusal(
            ValidationRequest::new(&second.license_key, "0.1.0", Some(counts(99)))
                .to_body()
                .unwrap(),
        )
        .await;
    assert_eq!((status, e.error.as_str()), (403, "revoked_key"));
    let log = w.store.log_entries(&second.license_id).await.unwrap();
    assert_eq!(
        log.iter().map(|l| l.outcome.as_str()).collect::<Vec<_>>(),
        ["revoked_key"]
    );

    // Nothing lost: the good key's last report is the one before the refusals,
    // the revoked key reported nothing, and the good key still validates.
    let view = w.store.customer_view(&customer).await.unwrap().unwrap();
    assert_eq!(view.reports.len(), 1);
    assert_eq!(view.reports[0].license_id, key.license_id);
    assert_eq!(view.reports[0].counts, Some(counts(7)));
    assert_eq!(w.validate(k, Some(counts(8))).await.0, 200);
}

#[tokio::test]
async fn a_flood_from_one_key_gets_429_with_retry_after_and_other_keys_do_not_notice() {
    let w = world(5).await;
    let (_, _, key) = w.customer("Acme", SubscriptionStatus::Active).await;
    let (_, _, other) = w.customer("Beta", SubscriptionStatus::Active).await;
    let body = ValidationRequest::new(&key.license_key, "0.1.0", None)
        .to_body()
        .unwrap();
    for i in 0..5 {
        assert_eq!(w.post(body.clone()).await.0, 200, "request {i}");
    }
    let (status, retry, raw) = w.post(body.clone()).await;
    assert_eq!(status, 429);
    // The clock stands 5 s into the minute.
    assert_eq!(retry.as_deref(), Some("55"));
    let e: ErrorBody = serde_json::from_slice(&raw).unwrap();
    assert_eq!(e.error, "rate_limited");
    assert_eq!(w.validate(&other.license_key, None).await.0, 200);

    w.clock.advance(Duration::seconds(55));
    assert_eq!(w.post(body).await.0, 200, "a new window");
}

#[tokio::test]
async fn cancelled_and_past_due_subscriptions_still_get_a_license_carrying_that_status() {
    let w = world(20).await;
    let (customer, _, key) = w.customer("Acme", SubscriptionStatus::Active).await;
    for status in [
        SubscriptionStatus::Cancelled,
        SubscriptionStatus::PastDue,
        SubscriptionStatus::Trialing,
    ] {
        w.store
            .set_subscription(&customer, &subscription(status))
            .await
            .unwrap();
        let (code, body) = w.validate(&key.license_key, None).await;
        assert_eq!(code, 200);
        let claims = w
            .public
            .verify(&ValidationResponse::parse(&body).unwrap().license)
            .unwrap();
        assert_eq!(claims.status, status);
    }
}

// ---- the portal over HTTP ----

fn form_csrf(html: &str) -> String {
    let start =
        html.find(r#"name="csrf" value=""#).expect("a csrf field") + r#"name="csrf" value=""#.len();
    html[start..].split('"').next().unwrap().to_owned()
}

fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with(&format!("{name}=")))
}

impl World {
    async fn get(&self, path: &str, cookie: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap()
    }

    async fn form(&self, path: &str, cookie: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k}={}",
                    v.replace('+', "%2B")
                        .replace('=', "%3D")
                        .replace('/', "%2F")
                )
            })
            .collect();
        self.http
            .post(format!("{}{path}", self.base))
            .header("cookie", cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.join("&"))
            .send()
            .await
            .unwrap()
    }

    /// Signs in through the form; returns the session cookie pair.
    async fn sign_in(&self, token: &str) -> String {
        let r = self.get("/portal/login", "").await;
        let pre = set_cookie(&r, "zw_login").unwrap();
        let pre = pre.split(';').next().unwrap().to_owned();
        let csrf = form_csrf(&r.text().await.unwrap());
        let r = self
            .form("/portal/login", &pre, &[("csrf", &csrf), ("token", token)])
            .await;
        assert_eq!(r.status().as_u16(), 303);
        let session = set_cookie(&r, "zw_session").expect("a session cookie");
        assert!(
            session.contains("HttpOnly") && session.contains("SameSite=Strict"),
            "{session}"
        );
        assert!(
            !session.contains("Secure"),
            "plain http on loopback: no Secure flag"
        );
        session.split(';').next().unwrap().to_owned()
    }
}

#[tokio::test]
async fn the_portal_shows_masked_keys_and_refuses_forms_without_their_csrf_token() {
    let w = world(20).await;
    let (customer, token, key) = w.customer("Acme <Corp>", SubscriptionStatus::Active).await;
    let (_, _, _) = w.customer("Beta", SubscriptionStatus::Trialing).await;
    assert_eq!(w.validate(&key.license_key, Some(counts(12))).await.0, 200);

    // Not signed in: to the sign-in page. A wrong token: 401.
    let r = w.get("/portal", "").await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/portal/login");
    let r = w.get("/portal/login", "").await;
    let pre = set_cookie(&r, "zw_login")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = form_csrf(&r.text().await.unwrap());
    let r = w
        .form(
            "/portal/login",
            &pre,
            &[("csrf", &csrf), ("token", "zwp_WRONG")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 401);
    // A sign-in form without its pre-session token is refused.
    let r = w
        .form("/portal/login", "", &[("csrf", &csrf), ("token", &token)])
        .await;
    assert_eq!(r.status().as_u16(), 403);

    let session = w.sign_in(&token).await;
    let r = w.get("/portal", &session).await;
    assert_eq!(r.status().as_u16(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let html = r.text().await.unwrap();
    assert!(html.contains("Acme &lt;Corp&gt;"));
    assert!(html.contains(&format!("****{}", key.last4)));
    assert!(
        !html.contains(&key.license_key),
        "the full key never appears"
    );
    assert!(
        html.contains(r#"<td class="num">12</td><td class="num">340</td><td class="num">27</td>"#)
    );
    let csrf = form_csrf(&html);

    // Revoke without the CSRF token, or with another: refused, nothing changed.
    for fields in [
        vec![("license_id", key.license_id.as_str())],
        vec![("csrf", "forged"), ("license_id", &key.license_id)],
    ] {
        let r = w.form("/portal/keys/revoke", &session, &fields).await;
        assert_eq!(r.status().as_u16(), 403);
    }
    assert_eq!(w.validate(&key.license_key, None).await.0, 200);

    // Another customer's license id: not found, nothing changed.
    let r = w
        .form(
            "/portal/keys/revoke",
            &session,
            &[("csrf", &csrf), ("license_id", "lic_00000000000000000000")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 404);

    // With it: revoked, and the key is refused from then on.
    let r = w
        .form(
            "/portal/keys/revoke",
            &session,
            &[("csrf", &csrf), ("license_id", &key.license_id)],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let view = w.store.customer_view(&customer).await.unwrap().unwrap();
    assert_eq!(view.keys[0].state, KeyState::Revoked);
    assert_eq!(w.validate(&key.license_key, None).await.0, 403);

    // Staff see every customer, and cannot revoke from the staff view.
    let staff = w.sign_in(STAFF_TOKEN).await;
    let html = w.get("/portal", &staff).await.text().await.unwrap();
    assert!(
        html.contains("Acme &lt;Corp&gt;") && html.contains("Beta"),
        "{html}"
    );
    assert!(html.contains("2 customers"));
    let staff_csrf = form_csrf(&html);
    let r = w
        .form(
            "/portal/keys/revoke",
            &staff,
            &[("csrf", &staff_csrf), ("license_id", &key.license_id)],
        )
        .await;
    assert_eq!(r.status().as_u16(), 403);

    // Sign out ends the session.
    let r = w.form("/portal/logout", &session, &[("csrf", &csrf)]).await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(w.get("/portal", &session).await.status().as_u16(), 303);
}

#[tokio::test]
async fn rotating_a_key_shows_the_new_one_once_and_revokes_the_old() {
    let w = world(20).await;
    let (customer, token, key) = w.customer("Acme", SubscriptionStatus::Active).await;
    let session = w.sign_in(&token).await;
    let csrf = form_csrf(&w.get("/portal", &session).await.text().await.unwrap());
    let r = w
        .form(
            "/portal/keys/rotate",
            &session,
            &[("csrf", &csrf), ("license_id", &key.license_id)],
        )
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let html = r.text().await.unwrap();
    let view = w.store.customer_view(&customer).await.unwrap().unwrap();
    assert_eq!(view.keys.len(), 2);
    let new = view
        .keys
        .iter()
        .find(|k| k.license_id != key.license_id)
        .unwrap();
    let start = html.find("value=\"zwk_").unwrap() + "value=\"".len();
    let new_key = &html[start..start + 36];
    assert_eq!(hash_secret(new_key), new.key_hash);
    assert_eq!(w.validate(new_key, None).await.0, 200);
    assert_eq!(w.validate(&key.license_key, None).await.0, 403);
    // Afterwards the portal shows it masked only.
    let html = w.get("/portal", &session).await.text().await.unwrap();
    assert!(!html.contains(new_key));
}

/// The Lambda's configuration path: the signing key and the staff token read
/// from SSM SecureString parameters (moto), the Router then signing with that key.
#[tokio::test]
async fn secrets_are_read_from_ssm_securestring_parameters() {
    let moto = Moto::start().expect("moto (run scripts/setup)");
    let sdk = moto.sdk_config("eu-west-1").await;
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    let signer = KeyPair::generate().unwrap();
    for (name, value) in [
        ("/zw/signing-key", signer.to_base64()),
        ("/zw/staff-token", STAFF_TOKEN.to_owned()),
    ] {
        ssm.put_parameter()
            .name(name)
            .value(value)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .send()
            .await
            .unwrap();
    }
    let config = zw_vendor::Config::from_vars([
        ("ZW_VENDOR_TABLE".to_owned(), TABLE.to_owned()),
        (
            "ZW_VENDOR_SIGNING_KEY_PARAMETER".to_owned(),
            "/zw/signing-key".to_owned(),
        ),
        (
            "ZW_VENDOR_STAFF_TOKEN_PARAMETER".to_owned(),
            "/zw/staff-token".to_owned(),
        ),
    ])
    .unwrap();
    let options = zw_vendor::setup::ServeOptions {
        secure_cookies: true,
        capture: None,
        clock: Arc::new(FixedClock::new(start())),
    };
    let vendor = zw_vendor::setup::vendor(&config, &sdk, options)
        .await
        .unwrap();
    assert_eq!(vendor.signer.public(), signer.public());
    assert_eq!(vendor.staff_token_hash, hash_secret(STAFF_TOKEN));

    // A missing parameter fails set-up with its name.
    let config = zw_vendor::Config::from_vars([
        ("ZW_VENDOR_TABLE".to_owned(), TABLE.to_owned()),
        (
            "ZW_VENDOR_SIGNING_KEY_PARAMETER".to_owned(),
            "/zw/missing".to_owned(),
        ),
        ("ZW_VENDOR_STAFF_TOKEN".to_owned(), STAFF_TOKEN.to_owned()),
    ])
    .unwrap();
    let options = zw_vendor::setup::ServeOptions {
        secure_cookies: true,
        capture: None,
        clock: Arc::new(FixedClock::new(start())),
    };
    let err = zw_vendor::setup::vendor(&config, &sdk, options)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("/zw/missing"), "{err}");
}
