//! The vendor service end to end: the real Router over HTTP on loopback,
//! DynamoDB and the staff user pool (Cognito) in moto (a private server per
//! test, `zw_testkit::Moto`), a fixed clock so that rate-limit windows, TTLs
//! and sign-in step expiry land where asserted.
//!
//! What moto cannot show, and how these tests deal with it:
//! - DynamoDB never enforces TTL: the tests check the `expires_at` attribute
//!   (90 days for validations, a year for the audit log), not the deletion.
//! - Cognito TOTP: moto checks authenticator codes only with
//!   `MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP=true` (set here through a
//!   wrapper around `moto_server`), and then with one fixed secret for every
//!   user; the tests compute real RFC 6238 codes from the secret the pool
//!   hands out, against the wall clock (moto's), not the fixed clock.
//! - moto's `AdminInitiateAuth` ignores the pool's `MfaConfiguration`: it
//!   asks for a code only from users whose MFA preference is set (the portal
//!   sets it when the authenticator is registered). A confirmed user without
//!   an authenticator therefore gets tokens straight from the password in
//!   moto, where real Cognito would answer `MFA_SETUP`; the tests use that
//!   to show the portal's own refusal of any sign-in that skipped MFA.
//! - Not modelled by moto: Cognito's lockout after repeated wrong passwords,
//!   the password history, threat protection, token lifetimes from the app
//!   client settings, and the e-mailed invitation of `staff add` (the tests
//!   use a printed temporary password). API Gateway's route throttles and
//!   the CloudWatch alarms exist only in a deployment (see
//!   `tests/template.rs` for what the template promises).
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "helpers outside #[test] fns fail the test on the unexpected, like the tests do"
)]

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, TimeZone, Utc};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use zw_license::schema::ErrorBody;
use zw_license::{
    FleetCounts, KeyPair, Limits, PublicKey, SubscriptionStatus, ValidationRequest,
    ValidationResponse,
};
use zw_testkit::Moto;
use zw_vendor::model::{Actor, AuditAction, KeyState, Subscription};
use zw_vendor::secrets::hash_secret;
use zw_vendor::service::{self, ActionError, IssuedKey};
use zw_vendor::staff::CognitoStaff;
use zw_vendor::{Clock as _, DynamoStore, FixedClock, RateLimit, Source, Vendor, VendorStore};

const TABLE: &str = "zw-vendor-test";
const STAFF_EMAIL: &str = "alice@vendor.example";
const STAFF_PASSWORD: &str = "Correct-Horse-Battery-9";

fn admin() -> Actor {
    Actor::Admin("arn:aws:iam::123456789012:user/tests".into())
}

/// A `moto_server` that checks authenticator codes: the real one with
/// `MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP=true`, written once per test
/// binary (before any server of this process starts).
fn moto_with_totp() -> PathBuf {
    static WRAPPER: OnceLock<PathBuf> = OnceLock::new();
    WRAPPER
        .get_or_init(|| {
            use std::os::unix::fs::PermissionsExt;
            let real = zw_testkit::repo_root().join(".venv/bin/moto_server");
            let dir = zw_testkit::repo_root().join(".zw/testkit");
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join(format!("moto-totp-{}.sh", std::process::id()));
            let tmp = path.with_extension("tmp");
            std::fs::write(
                &tmp,
                format!(
                    "#!/bin/sh\nMOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP=true exec '{}' \"$@\"\n",
                    real.display()
                ),
            )
            .unwrap();
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).unwrap();
            std::fs::rename(&tmp, &path).unwrap();
            path
        })
        .clone()
}

struct World {
    _moto: Moto,
    base: String,
    store: Arc<DynamoStore>,
    clock: Arc<FixedClock>,
    public: PublicKey,
    http: reqwest::Client,
    sdk: aws_config::SdkConfig,
    pool_id: String,
    router: axum::Router,
}

fn start() -> DateTime<Utc> {
    // Five seconds into a minute: a rate-limit window has 55 s left.
    Utc.with_ymd_and_hms(2026, 12, 2, 10, 0, 5).unwrap()
}

fn limits(rate_limit: u32) -> zw_vendor::Limits {
    zw_vendor::Limits {
        rate_limit: RateLimit {
            requests: rate_limit,
            window_secs: 60,
        },
        ..zw_vendor::Limits::default()
    }
}

fn http_client(from: Option<IpAddr>) -> reqwest::Client {
    let mut b = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
    if let Some(ip) = from {
        b = b.local_address(ip);
    }
    b.build().unwrap()
}

async fn world(limits: zw_vendor::Limits) -> World {
    let moto = Moto::start_with(&moto_with_totp()).expect("moto (run scripts/setup)");
    let sdk = moto.sdk_config("eu-west-1").await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    zw_vendor::dynamo::create_table(&client, TABLE)
        .await
        .unwrap();
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&sdk);
    let (pool_id, client_id) = zw_vendor::staff::create_pool(&cognito, "staff")
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
        staff: Some(Arc::new(CognitoStaff::new(cognito, &pool_id, client_id))),
        limits,
        secure_cookies: false,
        capture: None,
    };
    let router = zw_vendor::web::router(Arc::new(vendor));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = router
        .clone()
        .into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    World {
        _moto: moto,
        base,
        store,
        clock,
        public,
        http: http_client(None),
        sdk,
        pool_id,
        router,
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
        let (c, token) = service::create_customer(
            self.store.as_ref(),
            name,
            subscription(status),
            admin(),
            start(),
        )
        .await
        .unwrap();
        let key = self.issue(&c.id).await.unwrap();
        (c.id, token, key)
    }

    async fn issue(&self, customer: &str) -> Result<IssuedKey, ActionError> {
        service::issue_key(
            self.store.as_ref(),
            customer,
            5,
            admin(),
            &Source::none(),
            self.clock.now(),
        )
        .await
    }

    async fn post_from(
        &self,
        http: &reqwest::Client,
        body: impl Into<Vec<u8>>,
    ) -> (u16, Option<String>, Vec<u8>) {
        let r = http
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

    async fn post(&self, body: impl Into<Vec<u8>>) -> (u16, Option<String>, Vec<u8>) {
        self.post_from(&self.http, body).await
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

    async fn audit(&self) -> Vec<zw_vendor::model::AuditEntry> {
        let mut all = self.store.audit_entries(None, 1000).await.unwrap().entries;
        all.reverse();
        all
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
    let w = world(limits(20)).await;
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
    let w = world(limits(100)).await;
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
    let second = w.issue(&customer).await.unwrap();
    service::revoke_by_last4(w.store.as_ref(), &customer, &second.last4, admin(), start())
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
    let w = world(limits(5)).await;
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

/// Unknown keys use up their source address's window; once it is full, the
/// address is refused before any key lookup: even a valid key gets 429 from
/// there, while other addresses, and the same address in the next window,
/// are served. Known keys give their slot back and never use the window up.
#[tokio::test]
async fn unknown_keys_are_limited_per_source_address_before_the_key_lookup() {
    let w = world(zw_vendor::Limits {
        unknown_key_limit: 3,
        ..limits(100)
    })
    .await;
    let (_, _, key) = w.customer("Acme", SubscriptionStatus::Active).await;
    let good = ValidationRequest::new(&key.license_key, "0.1.0", None)
        .to_body()
        .unwrap();
    let guess = || {
        ValidationRequest::new(
            &zw_vendor::secrets::new_license_key().unwrap(),
            "0.1.0",
            None,
        )
        .to_body()
        .unwrap()
    };

    // Known keys from one address, many more than the unknown-key limit.
    let honest = http_client(Some("127.0.0.3".parse().unwrap()));
    for i in 0..8 {
        assert_eq!(
            w.post_from(&honest, good.clone()).await.0,
            200,
            "known key {i}"
        );
    }

    let prober = http_client(Some("127.0.0.1".parse().unwrap()));
    for i in 0..3 {
        let (status, _, body) = w.post_from(&prober, guess()).await;
        assert_eq!(status, 401, "guess {i}: {}", String::from_utf8_lossy(&body));
    }
    let (status, retry, body) = w.post_from(&prober, guess()).await;
    assert_eq!(status, 429);
    assert_eq!(retry.as_deref(), Some("55"));
    let e: ErrorBody = serde_json::from_slice(&body).unwrap();
    assert_eq!(e.error, "rate_limited");
    assert!(e.message.contains("unknown license keys"), "{}", e.message);
    // Refused before the lookup: a valid key from that address too.
    assert_eq!(w.post_from(&prober, good.clone()).await.0, 429);
    // Nothing was logged for the valid key's refused request.
    assert_eq!(w.store.log_entries(&key.license_id).await.unwrap().len(), 8);

    // Another address is not affected.
    let neighbour = http_client(Some("127.0.0.2".parse().unwrap()));
    assert_eq!(w.post_from(&neighbour, good.clone()).await.0, 200);
    assert_eq!(w.post_from(&neighbour, guess()).await.0, 401);

    // The next window serves the address again.
    w.clock.advance(Duration::seconds(55));
    assert_eq!(w.post_from(&prober, good).await.0, 200);
}

/// In Lambda the address comes from API Gateway's request context (the TCP
/// peer API Gateway saw), through the same Router; a forged
/// `X-Forwarded-For` changes nothing.
#[tokio::test]
async fn behind_api_gateway_the_source_is_the_request_context_not_a_header() {
    use lambda_http::tower::ServiceExt as _;
    let w = world(zw_vendor::Limits {
        unknown_key_limit: 2,
        ..limits(100)
    })
    .await;
    let event = |source_ip: &str, forwarded_for: &str| {
        let body = ValidationRequest::new(
            &zw_vendor::secrets::new_license_key().unwrap(),
            "0.1.0",
            None,
        )
        .to_body()
        .unwrap();
        serde_json::json!({
            "version": "2.0",
            "routeKey": "POST /v1/licenses/validate",
            "rawPath": "/v1/licenses/validate",
            "rawQueryString": "",
            "headers": {
                "content-type": "application/json",
                "host": "abc123.execute-api.eu-west-1.amazonaws.com",
                "x-forwarded-for": forwarded_for,
            },
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "abc123",
                "domainName": "abc123.execute-api.eu-west-1.amazonaws.com",
                "domainPrefix": "abc123",
                "http": {
                    "method": "POST",
                    "path": "/v1/licenses/validate",
                    "protocol": "HTTP/1.1",
                    "sourceIp": source_ip,
                    "userAgent": "zonewarden/0.1.0"
                },
                "requestId": "req-1",
                "routeKey": "POST /v1/licenses/validate",
                "stage": "$default",
                "time": "02/Dec/2026:10:00:05 +0000",
                "timeEpoch": 1_796_205_605_000_i64
            },
            "body": String::from_utf8(body).unwrap(),
            "isBase64Encoded": false
        })
        .to_string()
    };
    let call = |json: String| {
        let router = w.router.clone();
        async move {
            let request = lambda_http::request::from_str(&json).unwrap();
            router.oneshot(request).await.unwrap().status().as_u16()
        }
    };
    // Each guess claims another address in X-Forwarded-For: ignored.
    assert_eq!(call(event("203.0.113.9", "198.51.100.1")).await, 401);
    assert_eq!(call(event("203.0.113.9", "198.51.100.2")).await, 401);
    assert_eq!(call(event("203.0.113.9", "198.51.100.3")).await, 429);
    assert_eq!(call(event("198.51.100.7", "203.0.113.9")).await, 401);
}

#[tokio::test]
async fn cancelled_and_past_due_subscriptions_still_get_a_license_carrying_that_status() {
    let w = world(limits(20)).await;
    let (customer, _, key) = w.customer("Acme", SubscriptionStatus::Active).await;
    for status in [
        SubscriptionStatus::Cancelled,
        SubscriptionStatus::PastDue,
        SubscriptionStatus::Trialing,
    ] {
        let change = service::SubscriptionChange {
            status: Some(status),
            ..Default::default()
        };
        service::change_subscription(
            w.store.as_ref(),
            &customer,
            &change,
            admin(),
            &Source::none(),
            start(),
        )
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

/// Rotation refuses a revoked key; a customer holds at most the configured
/// number of active keys, counted on the customer item (also for customers
/// created before the count was kept); a rotation at the cap still works.
#[tokio::test]
async fn rotation_refuses_a_revoked_key_and_active_keys_are_capped() {
    let w = world(limits(20)).await;
    let (customer, _, first) = w.customer("Acme", SubscriptionStatus::Active).await;
    let issue = |max: u32| {
        let store = w.store.clone();
        let customer = customer.clone();
        async move {
            service::issue_key(
                store.as_ref(),
                &customer,
                max,
                admin(),
                &Source::none(),
                start(),
            )
            .await
        }
    };
    let second = issue(3).await.unwrap();
    let third = issue(3).await.unwrap();
    let err = issue(3).await.unwrap_err();
    assert!(
        matches!(err, ActionError::TooManyKeys { max: 3, .. }),
        "{err}"
    );

    // At the cap, a rotation swaps one key for another.
    let rotated = service::rotate_key(
        w.store.as_ref(),
        &customer,
        &third.license_id,
        admin(),
        &Source::none(),
        start(),
    )
    .await
    .unwrap();
    assert_eq!(w.validate(&rotated.license_key, None).await.0, 200);
    assert_eq!(w.validate(&third.license_key, None).await.0, 403);
    assert!(matches!(
        issue(3).await.unwrap_err(),
        ActionError::TooManyKeys { .. }
    ));

    // A revoked key is never rotated: no working key takes its place.
    let err = service::rotate_key(
        w.store.as_ref(),
        &customer,
        &third.license_id,
        admin(),
        &Source::none(),
        start(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ActionError::KeyRevoked(_)), "{err}");
    let view = w.store.customer_view(&customer).await.unwrap().unwrap();
    assert_eq!(view.keys.len(), 4, "nothing was issued for the revoked key");

    // Revoking one makes room (twice: the second revocation is a no-op and
    // does not count the key out again).
    for _ in 0..2 {
        service::revoke_key(
            w.store.as_ref(),
            &customer,
            &second.license_id,
            admin(),
            &Source::none(),
            start(),
        )
        .await
        .unwrap();
    }
    issue(3).await.unwrap();
    assert!(matches!(
        issue(3).await.unwrap_err(),
        ActionError::TooManyKeys { .. }
    ));

    // A customer from before the count: the cap holds from the keys read.
    let raw = aws_sdk_dynamodb::Client::new(&w.sdk);
    raw.update_item()
        .table_name(TABLE)
        .key("pk", AttributeValue::S(format!("CUS#{customer}")))
        .key("sk", AttributeValue::S("CUSTOMER".into()))
        .update_expression("REMOVE active_keys")
        .send()
        .await
        .unwrap();
    assert!(matches!(
        issue(3).await.unwrap_err(),
        ActionError::TooManyKeys { .. }
    ));
    issue(4).await.unwrap();
    let item = raw
        .get_item()
        .table_name(TABLE)
        .key("pk", AttributeValue::S(format!("CUS#{customer}")))
        .key("sk", AttributeValue::S("CUSTOMER".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(item["active_keys"], AttributeValue::N("4".into()));
    assert!(matches!(
        issue(4).await.unwrap_err(),
        ActionError::TooManyKeys { .. }
    ));
    // The store holds the cap on its own, whatever a caller read: two
    // requests that both saw room cannot both pass it.
    let late = zw_vendor::model::LicenseKey {
        license_id: "lic_00000000000000000001".into(),
        customer_id: customer.clone(),
        key_hash: hash_secret("zwk_late"),
        last4: "LATE".into(),
        state: KeyState::Active,
        created_at: start(),
        revoked_at: None,
    };
    let entry = service::audit(
        admin(),
        AuditAction::KeyIssued,
        Some(&customer),
        "",
        &Source::none(),
        start(),
    );
    let err = w.store.issue_key(&late, 4, 0, &entry).await.unwrap_err();
    assert!(
        matches!(err, zw_vendor::StoreError::LimitReached { .. }),
        "{err}"
    );
    assert_eq!(w.validate(&first.license_key, None).await.0, 200);
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

fn cookie_pair(r: &reqwest::Response, name: &str) -> String {
    set_cookie(r, name)
        .unwrap_or_else(|| panic!("a {name} cookie"))
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html
        .find(start)
        .unwrap_or_else(|| panic!("{start} in {html}"))
        + start.len();
    let len = html[from..].find(end).unwrap();
    &html[from..from + len]
}

/// RFC 6238 (SHA-1, 6 digits, 30 s) for a base32 secret, at `unix` seconds.
fn totp(secret: &str, unix: u64) -> String {
    use aws_lc_rs::hmac;
    let mut spec = data_encoding::Specification::new();
    spec.symbols.push_str("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
    // Authenticator apps accept secrets whose last character carries unused
    // bits (moto's fixed secret is one).
    spec.check_trailing_bits = false;
    let base32 = spec.encoding().unwrap();
    let key_bytes = base32
        .decode(secret.trim_end_matches('=').to_ascii_uppercase().as_bytes())
        .unwrap();
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &key_bytes);
    let tag = hmac::sign(&key, &(unix / 30).to_be_bytes());
    let d = tag.as_ref();
    let offset = usize::from(d[19] & 0x0f);
    let n = u32::from_be_bytes([
        d[offset] & 0x7f,
        d[offset + 1],
        d[offset + 2],
        d[offset + 3],
    ]);
    format!("{:06}", n % 1_000_000)
}

/// A code moto (which checks against its own wall clock) will accept: if the
/// current 30 s step ends within 2 s, wait for the next one.
async fn current_code(secret: &str) -> String {
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    if now() % 30 >= 28 {
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    }
    totp(secret, now())
}

#[test]
fn totp_matches_the_rfc_6238_test_vector() {
    // RFC 6238 appendix B, SHA-1, T = 59: 94287082 (8 digits) -> 287082.
    let secret = data_encoding::BASE32_NOPAD.encode(b"12345678901234567890");
    assert_eq!(totp(&secret, 59), "287082");
    assert_eq!(totp(&secret, 1_111_111_109), "081804");
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
        self.form_from(&self.http, path, cookie, fields).await
    }

    async fn form_from(
        &self,
        http: &reqwest::Client,
        path: &str,
        cookie: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| {
                let encoded: String = v
                    .bytes()
                    .map(|b| match b {
                        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                            (b as char).to_string()
                        }
                        _ => format!("%{b:02X}"),
                    })
                    .collect();
                format!("{k}={encoded}")
            })
            .collect();
        http.post(format!("{}{path}", self.base))
            .header("cookie", cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.join("&"))
            .send()
            .await
            .unwrap()
    }

    /// Posts the customer sign-in form; the response.
    async fn token_sign_in_from(&self, http: &reqwest::Client, token: &str) -> reqwest::Response {
        let r = http
            .get(format!("{}/portal/login", self.base))
            .send()
            .await
            .unwrap();
        let pre = cookie_pair(&r, "zw_login");
        let csrf = form_csrf(&r.text().await.unwrap());
        self.form_from(
            http,
            "/portal/login",
            &pre,
            &[("csrf", &csrf), ("token", token)],
        )
        .await
    }

    /// Signs a customer in through the form; returns the session cookie pair.
    async fn sign_in(&self, token: &str) -> String {
        let r = self.token_sign_in_from(&self.http, token).await;
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

    /// Posts the staff sign-in form; the response (a step page, or a refusal).
    async fn staff_password(&self, email: &str, password: &str) -> reqwest::Response {
        let r = self.get("/portal/staff/login", "").await;
        assert_eq!(r.status().as_u16(), 200);
        let pre = cookie_pair(&r, "zw_staff_login");
        let csrf = form_csrf(&r.text().await.unwrap());
        self.form(
            "/portal/staff/login",
            &pre,
            &[("csrf", &csrf), ("email", email), ("password", password)],
        )
        .await
    }

    /// Posts a staff sign-in step; `step` is the previous step's response.
    async fn staff_step(
        &self,
        step: reqwest::Response,
        fields: &[(&str, &str)],
    ) -> (reqwest::Response, String) {
        let pending = cookie_pair(&step, "zw_staff_step");
        let html = step.text().await.unwrap();
        let csrf = form_csrf(&html);
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        (self.form("/portal/staff/step", &pending, &all).await, html)
    }

    /// A staff member's first sign-in: temporary password, new password,
    /// authenticator set-up. Returns the session cookie pair and the secret.
    async fn first_staff_sign_in(&self, email: &str, temporary: &str) -> (String, String) {
        let r = self.staff_password(email, temporary).await;
        assert_eq!(r.status().as_u16(), 200);
        let (r, html) = self
            .staff_step(
                r,
                &[
                    ("new_password", STAFF_PASSWORD),
                    ("confirm_password", STAFF_PASSWORD),
                ],
            )
            .await;
        assert!(html.contains("Choose your password"), "{html}");
        assert_eq!(r.status().as_u16(), 200);
        let pending = set_cookie(&r, "zw_staff_step").expect("the set-up step");
        let html = r.text().await.unwrap();
        assert!(html.contains("Set up your authenticator app"), "{html}");
        let secret = between(&html, r#"id="mfa-secret">"#, "<").to_owned();
        assert!(html.contains("otpauth://totp/"), "{html}");
        let code = current_code(&secret).await;
        let pending = pending.split(';').next().unwrap().to_owned();
        let r = self
            .form(
                "/portal/staff/step",
                &pending,
                &[("csrf", &form_csrf(&html)), ("code", &code)],
            )
            .await;
        assert_eq!(r.status().as_u16(), 303, "{}", r.text().await.unwrap());
        (cookie_pair(&r, "zw_session"), secret)
    }

    /// A later staff sign-in: password, then a code.
    async fn staff_sign_in(&self, email: &str, secret: &str) -> String {
        let r = self.staff_password(email, STAFF_PASSWORD).await;
        assert_eq!(r.status().as_u16(), 200);
        let code = current_code(secret).await;
        let (r, html) = self.staff_step(r, &[("code", &code)]).await;
        assert!(html.contains("Enter your authenticator code"), "{html}");
        assert_eq!(r.status().as_u16(), 303, "{}", r.text().await.unwrap());
        cookie_pair(&r, "zw_session")
    }

    async fn add_staff(&self, email: &str) -> String {
        let cognito = aws_sdk_cognitoidentityprovider::Client::new(&self.sdk);
        let temporary = zw_vendor::secrets::new_temporary_password().unwrap();
        service::add_staff(
            self.store.as_ref(),
            &cognito,
            &self.pool_id,
            email,
            Some(&temporary),
            admin(),
            start(),
        )
        .await
        .unwrap();
        temporary
    }
}

#[tokio::test]
async fn the_portal_shows_masked_keys_and_refuses_forms_without_their_csrf_token() {
    let w = world(limits(20)).await;
    let (customer, token, key) = w.customer("Acme <Corp>", SubscriptionStatus::Active).await;
    let (_, _, _) = w.customer("Beta", SubscriptionStatus::Trialing).await;
    assert_eq!(w.validate(&key.license_key, Some(counts(12))).await.0, 200);

    // Not signed in: to the sign-in page. A wrong token: 401.
    let r = w.get("/portal", "").await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/portal/login");
    let r = w.token_sign_in_from(&w.http, "zwp_WRONG").await;
    assert_eq!(r.status().as_u16(), 401);
    // A sign-in form without its pre-session token is refused.
    let r = w.get("/portal/login", "").await;
    let csrf = form_csrf(&r.text().await.unwrap());
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
    // Attributed to the customer, from the request's address.
    let audit = w.audit().await;
    let revoked = audit
        .iter()
        .find(|e| e.action == AuditAction::KeyRevoked)
        .unwrap();
    assert_eq!(revoked.actor, Actor::Customer(customer.clone()));
    assert_eq!(revoked.source.as_deref(), Some("127.0.0.1"));

    // A revoked key cannot be rotated from the portal either.
    let r = w
        .form(
            "/portal/keys/rotate",
            &session,
            &[("csrf", &csrf), ("license_id", &key.license_id)],
        )
        .await;
    assert_eq!(r.status().as_u16(), 409);
    assert_eq!(
        w.store
            .customer_view(&customer)
            .await
            .unwrap()
            .unwrap()
            .keys
            .len(),
        1
    );

    // Customers see neither the audit log nor another customer's page.
    assert_eq!(
        w.get("/portal/audit", &session).await.status().as_u16(),
        403
    );
    assert_eq!(
        w.get(&format!("/portal/customers/{customer}"), &session)
            .await
            .status()
            .as_u16(),
        403
    );

    // Sign out ends the session.
    let r = w.form("/portal/logout", &session, &[("csrf", &csrf)]).await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(w.get("/portal", &session).await.status().as_u16(), 303);
}

#[tokio::test]
async fn rotating_a_key_shows_the_new_one_once_and_revokes_the_old() {
    let w = world(limits(20)).await;
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

/// Staff sign in through the Cognito pool: a password and an authenticator
/// code every time, the authenticator registered at the first sign-in;
/// every attempt, good or bad, is in the audit log with the address.
#[tokio::test]
async fn staff_sign_in_takes_a_password_and_an_authenticator_and_every_attempt_is_audited() {
    let w = world(limits(20)).await;
    let temporary = w.add_staff(STAFF_EMAIL).await;

    // A wrong password: refused, audited under what was typed.
    let r = w.staff_password(STAFF_EMAIL, "Wrong-Password-123!").await;
    assert_eq!(r.status().as_u16(), 401);
    assert!(set_cookie(&r, "zw_session").is_none());
    // The old shared staff token signs nobody in, in either form.
    let r = w.token_sign_in_from(&w.http, "staff-token-for-tests").await;
    assert_eq!(r.status().as_u16(), 401);

    // First sign-in: the temporary password, a new password (the pool's
    // policy refuses a weak one, and two different entries are asked
    // again), then the authenticator.
    let r = w.staff_password(STAFF_EMAIL, &temporary).await;
    assert_eq!(r.status().as_u16(), 200);
    let pending = cookie_pair(&r, "zw_staff_step");
    let html = r.text().await.unwrap();
    assert!(html.contains("Choose your password"), "{html}");
    let csrf = form_csrf(&html);
    // Without the step's token: refused, and the step stays open.
    let r = w
        .form(
            "/portal/staff/step",
            &pending,
            &[("new_password", "x"), ("confirm_password", "x")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 403);
    let r = w
        .form(
            "/portal/staff/step",
            &pending,
            &[
                ("csrf", &csrf),
                ("new_password", "short"),
                ("confirm_password", "short"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 400);
    let r = w
        .form(
            "/portal/staff/step",
            &pending,
            &[
                ("csrf", &csrf),
                ("new_password", STAFF_PASSWORD),
                ("confirm_password", "Something-Else-123!"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 400);
    let r = w
        .form(
            "/portal/staff/step",
            &pending,
            &[
                ("csrf", &csrf),
                ("new_password", STAFF_PASSWORD),
                ("confirm_password", STAFF_PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let pending = cookie_pair(&r, "zw_staff_step");
    let html = r.text().await.unwrap();
    let secret = between(&html, r#"id="mfa-secret">"#, "<").to_owned();
    // The sign-in cannot be finished with something that is not a code.
    let csrf = form_csrf(&html);
    let r = w
        .form(
            "/portal/staff/step",
            &pending,
            &[("csrf", &csrf), ("code", "12345x")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 400);
    let code = current_code(&secret).await;
    let r = w
        .form(
            "/portal/staff/step",
            &pending,
            &[("csrf", &csrf), ("code", &code)],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303, "{}", r.text().await.unwrap());
    let session = cookie_pair(&r, "zw_session");
    let html = w.get("/portal", &session).await.text().await.unwrap();
    assert!(html.contains("All customers"), "{html}");
    assert!(
        html.contains(&format!("Signed in as {STAFF_EMAIL}")),
        "{html}"
    );
    // The step's cookie was used up: replaying it gets nowhere.
    let r = w
        .form(
            "/portal/staff/step",
            &pending,
            &[("csrf", &csrf), ("code", &code)],
        )
        .await;
    assert_eq!(r.status().as_u16(), 401);

    // Sign out, then the usual sign-in: password and code; a wrong code is
    // refused and audited, and the sign-in starts over.
    let csrf = form_csrf(&html);
    let r = w.form("/portal/logout", &session, &[("csrf", &csrf)]).await;
    assert_eq!(r.headers()["location"], "/portal/staff/login");
    assert_eq!(w.get("/portal", &session).await.status().as_u16(), 303);
    let r = w.staff_password(STAFF_EMAIL, STAFF_PASSWORD).await;
    let right = current_code(&secret).await;
    let wrong = if right == "000000" {
        "000001"
    } else {
        "000000"
    };
    let (r, html) = w.staff_step(r, &[("code", wrong)]).await;
    assert!(html.contains("Enter your authenticator code"), "{html}");
    assert_eq!(r.status().as_u16(), 401);
    assert!(set_cookie(&r, "zw_session").is_none());
    let session = w.staff_sign_in(STAFF_EMAIL, &secret).await;
    assert_eq!(w.get("/portal", &session).await.status().as_u16(), 200);

    // A step left longer than Cognito's session: start again.
    let r = w.staff_password(STAFF_EMAIL, STAFF_PASSWORD).await;
    w.clock.advance(Duration::minutes(6));
    let code = current_code(&secret).await;
    let (r, _) = w.staff_step(r, &[("code", &code)]).await;
    assert_eq!(r.status().as_u16(), 401);

    // The fixed clock gives every line the same time, so their order in the
    // log is arbitrary here: compare what was recorded, not the order.
    let audit = w.audit().await;
    let mut lines: Vec<(&str, &str)> = audit
        .iter()
        .map(|e| (e.action.as_str(), e.actor.name()))
        .collect();
    lines.sort_unstable();
    let mut expected = vec![
        ("staff_added", "arn:aws:iam::123456789012:user/tests"),
        ("sign_in_failed", STAFF_EMAIL),
        ("sign_in_failed", ""),
        ("sign_in", STAFF_EMAIL),
        ("sign_out", STAFF_EMAIL),
        ("sign_in_failed", STAFF_EMAIL),
        ("sign_in", STAFF_EMAIL),
    ];
    expected.sort_unstable();
    assert_eq!(lines, expected, "{audit:#?}");
    let signed_in = audit
        .iter()
        .find(|e| e.action == AuditAction::SignIn && e.detail.contains("newly registered"))
        .unwrap();
    let Actor::Staff(member) = &signed_in.actor else {
        panic!("{signed_in:?}")
    };
    assert!(!member.sub.is_empty());
    assert_eq!(signed_in.source.as_deref(), Some("127.0.0.1"));
    assert_eq!(
        signed_in.detail,
        "password and a newly registered authenticator"
    );
    for e in &audit {
        assert_eq!(e.expires_at, (e.at + Duration::days(365)).timestamp());
        assert!(!e.detail.contains(STAFF_PASSWORD) && !e.detail.contains(&temporary));
    }
    let failures: Vec<&str> = audit
        .iter()
        .filter(|e| e.action == AuditAction::SignInFailed)
        .map(|e| e.detail.as_str())
        .collect();
    assert!(
        failures
            .iter()
            .any(|d| d.starts_with("authenticator code refused")),
        "{failures:?}"
    );
    assert!(
        failures.iter().any(|d| d.starts_with("password refused")),
        "{failures:?}"
    );
    assert!(
        failures.contains(&"portal token not recognised"),
        "{failures:?}"
    );
}

/// A pool that stops asking for MFA signs nobody in: the portal opens a
/// staff session only after an authenticator step, whatever Cognito says.
/// (moto's admin flow skips MFA for a confirmed user without an
/// authenticator, as real Cognito would with MFA switched off.)
#[tokio::test]
async fn a_sign_in_that_skipped_the_authenticator_is_refused() {
    let w = world(limits(20)).await;
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&w.sdk);
    w.add_staff("bob@vendor.example").await;
    cognito
        .admin_set_user_password()
        .user_pool_id(&w.pool_id)
        .username("bob@vendor.example")
        .password(STAFF_PASSWORD)
        .permanent(true)
        .send()
        .await
        .unwrap();
    let r = w.staff_password("bob@vendor.example", STAFF_PASSWORD).await;
    assert_eq!(r.status().as_u16(), 401);
    assert!(set_cookie(&r, "zw_session").is_none());
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("requires an authenticator app")
    );
    let audit = w.audit().await;
    let failed: Vec<_> = audit
        .iter()
        .filter(|e| e.action == AuditAction::SignInFailed)
        .collect();
    assert_eq!(failed.len(), 1, "{audit:#?}");
    assert!(failed[0].detail.contains("asked for no MFA"), "{failed:?}");
    assert!(!audit.iter().any(|e| e.action == AuditAction::SignIn));
}

/// Failed sign-ins use up their address's window; past it, that address is
/// refused with 429 before any token or password is checked (so it learns
/// nothing, and writes nothing to the audit log), other addresses are not.
/// Good sign-ins give their slot back.
#[tokio::test]
async fn failed_sign_ins_are_limited_per_source_address() {
    let w = world(zw_vendor::Limits {
        sign_in_limit: 3,
        ..limits(20)
    })
    .await;
    let (_, token, _) = w.customer("Acme", SubscriptionStatus::Active).await;
    for _ in 0..5 {
        let r = w.token_sign_in_from(&w.http, &token).await;
        assert_eq!(r.status().as_u16(), 303);
    }
    for i in 0..3 {
        let r = w.token_sign_in_from(&w.http, "zwp_GUESS").await;
        assert_eq!(r.status().as_u16(), 401, "guess {i}");
    }
    let r = w.token_sign_in_from(&w.http, &token).await;
    assert_eq!(r.status().as_u16(), 429);
    assert_eq!(r.headers()["retry-after"], "55");
    let r = w.staff_password(STAFF_EMAIL, STAFF_PASSWORD).await;
    assert_eq!(r.status().as_u16(), 429, "staff sign-in shares the window");
    let neighbour = http_client(Some("127.0.0.2".parse().unwrap()));
    let r = w.token_sign_in_from(&neighbour, &token).await;
    assert_eq!(r.status().as_u16(), 303);
    let failures = w
        .audit()
        .await
        .into_iter()
        .filter(|e| e.action == AuditAction::SignInFailed)
        .count();
    assert_eq!(failures, 3);
    w.clock.advance(Duration::seconds(55));
    let r = w.token_sign_in_from(&w.http, &token).await;
    assert_eq!(r.status().as_u16(), 303);
}

/// What staff change in the portal is attributed to them by name in the
/// audit log they can read: subscription changes, key revocations,
/// rotations and issues, portal token re-issue (old token and the
/// customer's sessions end) and revocation.
#[tokio::test]
async fn staff_changes_are_attributed_to_the_person_and_visible_in_the_portal() {
    let w = world(limits(20)).await;
    let (customer, token, key) = w.customer("Acme", SubscriptionStatus::Active).await;
    let second = w.issue(&customer).await.unwrap();
    let customer_session = w.sign_in(&token).await;
    let temporary = w.add_staff(STAFF_EMAIL).await;
    let (staff, _) = w.first_staff_sign_in(STAFF_EMAIL, &temporary).await;

    let page = format!("/portal/customers/{customer}");
    let r = w.get(&page, &staff).await;
    assert_eq!(r.status().as_u16(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("2 of at most 5 keys active"), "{html}");
    let csrf = form_csrf(&html);
    let cid = customer.as_str();

    // The subscription: a bad form changes nothing; a good one is saved.
    let fields = |status: &'static str, zones: &'static str| {
        vec![
            ("customer_id", cid),
            ("status", status),
            ("renews_at", "2027-02-15"),
            ("plan", "team"),
            ("zones", zones),
            ("certificates", "500"),
            ("accounts", "5"),
        ]
    };
    let mut bad = vec![("csrf", csrf.as_str())];
    bad.extend(fields("free", "50"));
    let r = w.form("/portal/staff/subscription", &staff, &bad).await;
    assert_eq!(r.status().as_u16(), 400);
    let mut forged = vec![("csrf", "forged")];
    forged.extend(fields("cancelled", "50"));
    let r = w.form("/portal/staff/subscription", &staff, &forged).await;
    assert_eq!(r.status().as_u16(), 403);
    let mut good = vec![("csrf", csrf.as_str())];
    good.extend(fields("past_due", "60"));
    let r = w.form("/portal/staff/subscription", &staff, &good).await;
    assert_eq!(r.status().as_u16(), 303);
    let c = w.store.customer(&customer).await.unwrap().unwrap();
    assert_eq!(c.subscription.status, SubscriptionStatus::PastDue);
    assert_eq!(c.subscription.limits.zones, 60);

    // Keys: revoke one, rotate the other (shown once), issue one.
    let first_key = [
        ("csrf", csrf.as_str()),
        ("customer_id", cid),
        ("license_id", key.license_id.as_str()),
    ];
    let second_key = [
        ("csrf", csrf.as_str()),
        ("customer_id", cid),
        ("license_id", second.license_id.as_str()),
    ];
    let just_customer = [("csrf", csrf.as_str()), ("customer_id", cid)];
    let r = w
        .form("/portal/staff/keys/revoke", &staff, &first_key)
        .await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(w.validate(&key.license_key, None).await.0, 403);
    let r = w
        .form("/portal/staff/keys/rotate", &staff, &first_key)
        .await;
    assert_eq!(r.status().as_u16(), 409, "a revoked key is not rotated");
    let r = w
        .form("/portal/staff/keys/rotate", &staff, &second_key)
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let html = r.text().await.unwrap();
    let rotated = between(&html, r#"id="new-secret" readonly value=""#, "\"").to_owned();
    assert_eq!(w.validate(&rotated, None).await.0, 200);
    assert_eq!(w.validate(&second.license_key, None).await.0, 403);
    let r = w
        .form("/portal/staff/keys/issue", &staff, &just_customer)
        .await;
    assert_eq!(r.status().as_u16(), 200);

    // The portal token: re-issued (shown once); the old one and the
    // customer's session stop working, the new one signs in.
    assert_eq!(
        w.get("/portal", &customer_session).await.status().as_u16(),
        200
    );
    let r = w
        .form("/portal/staff/portal-token/reissue", &staff, &just_customer)
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let html = r.text().await.unwrap();
    let new_token = between(&html, r#"id="new-secret" readonly value=""#, "\"").to_owned();
    assert!(new_token.starts_with("zwp_"));
    assert_eq!(
        w.get("/portal", &customer_session).await.status().as_u16(),
        303
    );
    assert_eq!(
        w.token_sign_in_from(&w.http, &token)
            .await
            .status()
            .as_u16(),
        401
    );
    w.clock.advance(Duration::seconds(1));
    let new_session = w.sign_in(&new_token).await;
    assert_eq!(w.get("/portal", &new_session).await.status().as_u16(), 200);
    // Revoked without a replacement: nobody signs in as the customer.
    let r = w
        .form("/portal/staff/portal-token/revoke", &staff, &just_customer)
        .await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(w.get("/portal", &new_session).await.status().as_u16(), 303);
    assert_eq!(
        w.token_sign_in_from(&w.http, &new_token)
            .await
            .status()
            .as_u16(),
        401
    );
    let html = w.get(&page, &staff).await.text().await.unwrap();
    assert!(html.contains("Revoked: nobody can sign in"), "{html}");

    // All of it in the audit log, under the staff member's address, and on
    // the staff pages.
    let audit = w.audit().await;
    // (In any order: the fixed clock gives most lines the same time.)
    let mut by_staff: Vec<&str> = audit
        .iter()
        .filter(|e| matches!(&e.actor, Actor::Staff(m) if m.email == STAFF_EMAIL))
        .map(|e| e.action.as_str())
        .collect();
    by_staff.sort_unstable();
    assert_eq!(
        by_staff,
        [
            "key_issued",
            "key_revoked",
            "key_rotated",
            "portal_token_reissued",
            "portal_token_revoked",
            "sign_in",
            "subscription_changed",
        ]
    );
    let change = audit
        .iter()
        .find(|e| e.action == AuditAction::SubscriptionChanged)
        .unwrap();
    assert_eq!(
        change.detail,
        "status active -> past_due; renews 2027-01-15 -> 2027-02-15; zones 50 -> 60"
    );
    assert_eq!(change.customer_id.as_deref(), Some(customer.as_str()));
    assert_eq!(change.source.as_deref(), Some("127.0.0.1"));
    let html = w.get("/portal/audit", &staff).await.text().await.unwrap();
    assert!(html.contains("subscription_changed"), "{html}");
    assert!(html.contains("portal_token_reissued"));
    assert!(html.contains(STAFF_EMAIL));
    assert!(!html.contains(&new_token) && !html.contains(&rotated));
    let html = w.get("/portal", &staff).await.text().await.unwrap();
    assert!(html.contains("portal_token_revoked"), "{html}");
}

/// `zw-vendor staff disable`: the member is disabled in the pool and their
/// portal session ends at once, not when it would have expired.
#[tokio::test]
async fn disabling_a_staff_member_ends_their_sessions_now() {
    let w = world(limits(20)).await;
    let temporary = w.add_staff(STAFF_EMAIL).await;
    let (staff, _) = w.first_staff_sign_in(STAFF_EMAIL, &temporary).await;
    assert_eq!(w.get("/portal", &staff).await.status().as_u16(), 200);
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&w.sdk);
    service::disable_staff(
        w.store.as_ref(),
        &cognito,
        &w.pool_id,
        STAFF_EMAIL,
        admin(),
        w.clock.now(),
    )
    .await
    .unwrap();
    assert_eq!(w.get("/portal", &staff).await.status().as_u16(), 303);
    let r = w.staff_password(STAFF_EMAIL, STAFF_PASSWORD).await;
    assert_eq!(r.status().as_u16(), 401, "disabled in the pool");
    let audit = w.audit().await;
    assert!(
        audit.iter().any(|e| e.action == AuditAction::StaffDisabled
            && e.detail.contains(STAFF_EMAIL)
            && e.detail.ends_with("portal sessions ended")),
        "{audit:#?}"
    );
    assert!(
        audit.iter().any(|e| e.action == AuditAction::SignInFailed
            && e.detail.contains("User is disabled")),
        "{audit:#?}"
    );
}

/// The Lambda's configuration path: the signing key read from an SSM
/// SecureString parameter (moto), and no start without a staff pool.
#[tokio::test]
async fn secrets_are_read_from_ssm_and_the_lambda_needs_its_staff_pool() {
    let moto = Moto::start().expect("moto (run scripts/setup)");
    let sdk = moto.sdk_config("eu-west-1").await;
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    let signer = KeyPair::generate().unwrap();
    ssm.put_parameter()
        .name("/zw/signing-key")
        .value(signer.to_base64())
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    let vars = |extra: &[(&str, &str)]| {
        let mut v = vec![
            ("ZW_VENDOR_TABLE".to_owned(), TABLE.to_owned()),
            (
                "ZW_VENDOR_SIGNING_KEY_PARAMETER".to_owned(),
                "/zw/signing-key".to_owned(),
            ),
        ];
        v.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        zw_vendor::Config::from_vars(v).unwrap()
    };
    let options = |require_staff_pool| zw_vendor::setup::ServeOptions {
        secure_cookies: true,
        capture: None,
        clock: Arc::new(FixedClock::new(start())),
        require_staff_pool,
    };
    let config = vars(&[
        ("ZW_VENDOR_STAFF_USER_POOL_ID", "eu-west-1_abc"),
        ("ZW_VENDOR_STAFF_CLIENT_ID", "client"),
        ("ZW_VENDOR_MAX_ACTIVE_KEYS", "7"),
    ]);
    let vendor = zw_vendor::setup::vendor(&config, &sdk, options(true))
        .await
        .unwrap();
    assert_eq!(vendor.signer.public(), signer.public());
    assert!(vendor.staff.is_some());
    assert_eq!(vendor.limits.max_active_keys, 7);

    // The Lambda refuses to start without its staff pool; `serve` runs.
    let err = zw_vendor::setup::vendor(&vars(&[]), &sdk, options(true))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("ZW_VENDOR_STAFF_USER_POOL_ID"),
        "{err}"
    );
    let local = zw_vendor::setup::vendor(&vars(&[]), &sdk, options(false))
        .await
        .unwrap();
    assert!(local.staff.is_none());

    // A missing parameter fails set-up with its name.
    let config = zw_vendor::Config::from_vars([
        ("ZW_VENDOR_TABLE".to_owned(), TABLE.to_owned()),
        (
            "ZW_VENDOR_SIGNING_KEY_PARAMETER".to_owned(),
            "/zw/missing".to_owned(),
        ),
    ])
    .unwrap();
    let err = zw_vendor::setup::vendor(&config, &sdk, options(false))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("/zw/missing"), "{err}");
}
