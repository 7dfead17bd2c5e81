//! `license check`: the one exchange with the vendor, and its audit trail.
//!
//! One POST of one [`ValidationRequest`]; the answer is verified before it
//! replaces the cached license; every attempt, delivered or not, is written
//! to the customer's own table with what was sent (the key masked) and what
//! came of it. A failure of any kind keeps the cached license.

use crate::schema::{ErrorBody, FleetCounts, ValidationRequest, ValidationResponse};
use crate::standing::{Setup, evaluate};
use crate::token::PublicKey;
use crate::{check_key_format, mask_key};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::future::Future;
use zw_core::PortError;
use zw_core::license::Standing;

/// One attempt to validate, as the audit trail keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentRecord {
    pub sent_at: DateTime<Utc>,
    /// The exact JSON body sent, with the license key masked to its last
    /// four characters.
    pub body: String,
    /// Bytes on the wire (the unmasked body).
    pub bytes: usize,
    /// The HTTP status of the answer; None when none came.
    pub http_status: Option<u16>,
    /// What came of it, in words: `license stored (active)`, `refused by
    /// the vendor: ...`, `not delivered: ...`.
    pub result: String,
    /// The status of the license received, when one was stored.
    pub license_status: Option<String>,
}

/// Where the cached license and the audit trail live (the findings table).
pub trait LicenseStore: Send + Sync {
    fn cached_license(&self) -> impl Future<Output = Result<Option<String>, PortError>> + Send;
    fn store_license(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
    fn record_sent(
        &self,
        record: &SentRecord,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
    /// The newest `limit` records, newest first.
    fn sent(&self, limit: usize)
    -> impl Future<Output = Result<Vec<SentRecord>, PortError>> + Send;
}

/// An answer from the vendor: status and body, whatever they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorAnswer {
    pub status: u16,
    pub body: Vec<u8>,
}

/// The transport to the vendor (the license client). Err: nothing usable
/// came back (connect, TLS, timeout, an answer too large).
pub trait Vendor: Send + Sync {
    fn validate(&self, body: Vec<u8>) -> impl Future<Output = Result<VendorAnswer, String>> + Send;
}

/// Why a check did not store a new license. The cached one is kept in
/// every case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    #[error(
        "no license key: set ZW_LICENSE_KEY (CLI) or ZW_LICENSE_KEY_PARAMETER (the SSM SecureString parameter holding it)"
    )]
    NoKey,
    #[error("licensing is not configured (ZW_LICENSE_ENDPOINT is empty): nothing is sent")]
    NotConfigured,
    #[error(
        "the license key {0} is not a zonewarden key (`zwk_` and 32 characters A-Z, 2-7): check the parameter's value; nothing was sent"
    )]
    KeyFormat(String),
    #[error("the vendor could not be reached: {0}; the cached license is kept")]
    Unreachable(String),
    #[error(
        "the vendor refused the validation (HTTP {status}, {error}): {message}; the cached license is kept"
    )]
    Refused {
        status: u16,
        error: String,
        message: String,
    },
    #[error("the vendor's answer is not a valid license: {0}; the cached license is kept")]
    BadAnswer(String),
    #[error("{0}")]
    Store(PortError),
}

/// What a successful check stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub record: SentRecord,
    pub standing: Standing,
}

/// Sends one validation and stores its answer; every attempt is recorded.
#[allow(clippy::too_many_arguments)]
pub async fn check<S: LicenseStore, V: Vendor>(
    store: &S,
    vendor: &V,
    key: &str,
    version: &str,
    counts: Option<FleetCounts>,
    public_key: &PublicKey,
    grace_days: u32,
    now: DateTime<Utc>,
) -> Result<Checked, CheckError> {
    if check_key_format(key).is_err() {
        return Err(CheckError::KeyFormat(mask_key(key)));
    }
    let request = ValidationRequest::new(key, version, counts);
    let body = request
        .to_body()
        .map_err(|e| CheckError::BadAnswer(e.to_string()))?;
    let masked = ValidationRequest {
        license_key: mask_key(key),
        ..request
    };
    let mut record = SentRecord {
        sent_at: now,
        body: serde_json::to_string(&masked).unwrap_or_default(),
        bytes: body.len(),
        http_status: None,
        result: String::new(),
        license_status: None,
    };
    let outcome = exchange(vendor, body, key, public_key).await;
    let result = match outcome {
        Ok((status, token, license_status)) => {
            record.http_status = Some(status);
            record.license_status = Some(license_status.clone());
            match store.store_license(&token, now).await {
                Ok(()) => {
                    record.result = format!("license stored ({license_status})");
                    Ok(())
                }
                Err(e) => {
                    record.result = format!("license received but not stored: {e}");
                    Err(CheckError::Store(e))
                }
            }
        }
        Err((status, e)) => {
            record.http_status = status;
            record.result = match &e {
                CheckError::Unreachable(m) => format!("not delivered: {m}"),
                CheckError::Refused { error, message, .. } => {
                    format!("refused by the vendor: {error}: {message}")
                }
                other => format!("answer refused: {other}"),
            };
            Err(e)
        }
    };
    // The audit record is written whatever happened; failing to write it is
    // an error of its own, never hidden behind a success.
    store
        .record_sent(&record)
        .await
        .map_err(CheckError::Store)?;
    result?;
    let cached = store.cached_license().await.map_err(CheckError::Store)?;
    let standing = evaluate(
        &Setup {
            configured: true,
            cached: cached.as_deref(),
            public_key,
            grace_days,
        },
        now,
    );
    Ok(Checked { record, standing })
}

/// POST, then judge the answer: (status, token, license status) or why not.
async fn exchange<V: Vendor>(
    vendor: &V,
    body: Vec<u8>,
    key: &str,
    public_key: &PublicKey,
) -> Result<(u16, String, String), (Option<u16>, CheckError)> {
    let answer = vendor
        .validate(body)
        .await
        .map_err(|e| (None, CheckError::Unreachable(e)))?;
    let status = answer.status;
    if status != 200 {
        let (error, message) = match serde_json::from_slice::<ErrorBody>(&answer.body) {
            Ok(b) => (b.error, b.message.chars().take(300).collect()),
            Err(_) => (
                "unexpected_answer".to_owned(),
                format!(
                    "{} bytes that are not the vendor's error format",
                    answer.body.len()
                ),
            ),
        };
        let e = if status >= 500 {
            CheckError::Unreachable(format!("HTTP {status} ({error}: {message})"))
        } else {
            CheckError::Refused {
                status,
                error,
                message,
            }
        };
        return Err((Some(status), e));
    }
    let response = ValidationResponse::parse(&answer.body)
        .map_err(|e| (Some(status), CheckError::BadAnswer(e.to_string())))?;
    let claims = public_key
        .verify(&response.license)
        .map_err(|e| (Some(status), CheckError::BadAnswer(e.to_string())))?;
    let hint: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if claims.key_hint != hint {
        return Err((
            Some(status),
            CheckError::BadAnswer(format!(
                "it was issued for the key ending in {}, not this one",
                claims.key_hint
            )),
        ));
    }
    Ok((status, response.license, claims.status.as_str().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::{Claims, ISSUER, KeyPair, Limits, SubscriptionStatus};
    use std::sync::Mutex;

    const KEY: &str = "zwk_ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    #[derive(Default)]
    struct Memory {
        license: Mutex<Option<String>>,
        sent: Mutex<Vec<SentRecord>>,
    }

    impl LicenseStore for Memory {
        async fn cached_license(&self) -> Result<Option<String>, PortError> {
            Ok(self.license.lock().unwrap().clone())
        }
        async fn store_license(&self, token: &str, _now: DateTime<Utc>) -> Result<(), PortError> {
            *self.license.lock().unwrap() = Some(token.to_owned());
            Ok(())
        }
        async fn record_sent(&self, record: &SentRecord) -> Result<(), PortError> {
            self.sent.lock().unwrap().push(record.clone());
            Ok(())
        }
        async fn sent(&self, limit: usize) -> Result<Vec<SentRecord>, PortError> {
            Ok(self
                .sent
                .lock()
                .unwrap()
                .iter()
                .rev()
                .take(limit)
                .cloned()
                .collect())
        }
    }

    /// Answers with what it is given and keeps what it received.
    struct Scripted {
        answer: Result<VendorAnswer, String>,
        received: Mutex<Vec<Vec<u8>>>,
    }

    impl Vendor for Scripted {
        async fn validate(&self, body: Vec<u8>) -> Result<VendorAnswer, String> {
            self.received.lock().unwrap().push(body);
            self.answer.clone()
        }
    }

    fn now() -> DateTime<Utc> {
        "2026-12-02T12:00:00Z".parse().unwrap()
    }

    fn license(kp: &KeyPair, status: SubscriptionStatus, hint: &str) -> String {
        kp.sign(&Claims {
            iss: ISSUER.into(),
            sub: "lic_1".into(),
            customer: "cus_1".into(),
            plan: "team".into(),
            limits: Limits {
                zones: 10,
                certificates: 100,
                accounts: 1,
            },
            status,
            renews_at: now().timestamp() + 86_400 * 100,
            key_hint: hint.into(),
            iat: now().timestamp(),
            nbf: now().timestamp(),
            exp: now().timestamp() + 86_400 * 30,
        })
        .unwrap()
    }

    fn ok(token: &str) -> Result<VendorAnswer, String> {
        Ok(VendorAnswer {
            status: 200,
            body: serde_json::to_vec(&ValidationResponse {
                license: token.to_owned(),
            })
            .unwrap(),
        })
    }

    async fn run(
        store: &Memory,
        answer: Result<VendorAnswer, String>,
        kp: &KeyPair,
    ) -> (Result<Checked, CheckError>, Vec<Vec<u8>>) {
        let vendor = Scripted {
            answer,
            received: Mutex::new(Vec::new()),
        };
        let r = check(
            store,
            &vendor,
            KEY,
            "0.1.0",
            Some(FleetCounts::default()),
            kp.public(),
            14,
            now(),
        )
        .await;
        let received = vendor.received.lock().unwrap().clone();
        (r, received)
    }

    #[tokio::test]
    async fn a_valid_answer_is_stored_and_the_audit_record_masks_the_key() {
        let kp = KeyPair::generate().unwrap();
        let store = Memory::default();
        let token = license(&kp, SubscriptionStatus::Active, "4567");
        let (r, received) = run(&store, ok(&token), &kp).await;
        let checked = r.unwrap();
        assert!(matches!(checked.standing, Standing::Valid { .. }));
        assert_eq!(
            store.license.lock().unwrap().as_deref(),
            Some(token.as_str())
        );
        // What went on the wire carries the key; the audit record does not.
        assert_eq!(received.len(), 1);
        assert!(String::from_utf8_lossy(&received[0]).contains(KEY));
        let sent = store.sent.lock().unwrap().clone();
        assert_eq!(sent.len(), 1);
        assert!(!sent[0].body.contains(KEY));
        assert!(sent[0].body.contains("****4567"));
        assert_eq!(sent[0].bytes, received[0].len());
        assert_eq!(sent[0].result, "license stored (active)");
    }

    #[tokio::test]
    async fn failures_keep_the_cached_license_and_are_recorded() {
        let kp = KeyPair::generate().unwrap();
        let store = Memory::default();
        let good = license(&kp, SubscriptionStatus::Active, "4567");
        *store.license.lock().unwrap() = Some(good.clone());
        let forged = license(
            &KeyPair::generate().unwrap(),
            SubscriptionStatus::Active,
            "4567",
        );
        let other_key = license(&kp, SubscriptionStatus::Active, "9999");
        let cases: Vec<(Result<VendorAnswer, String>, &str)> = vec![
            (
                Err("connection refused".into()),
                "not delivered: connection refused",
            ),
            (
                Ok(VendorAnswer {
                    status: 503,
                    body: b"<html>busy</html>".to_vec(),
                }),
                "not delivered: HTTP 503",
            ),
            (
                Ok(VendorAnswer {
                    status: 403,
                    body: br#"{"error":"revoked_key","message":"this key was revoked"}"#.to_vec(),
                }),
                "refused by the vendor: revoked_key: this key was revoked",
            ),
            (
                Ok(VendorAnswer {
                    status: 200,
                    body: b"{\"license\": 1}".to_vec(),
                }),
                "answer refused",
            ),
            (
                Ok(VendorAnswer {
                    status: 200,
                    body: vec![b' '; 20_000],
                }),
                "answer refused",
            ),
            (ok(&forged), "signature"),
            (ok(&other_key), "key ending in 9999"),
        ];
        for (answer, expected) in cases {
            let (r, _) = run(&store, answer, &kp).await;
            assert!(r.is_err(), "{expected}");
            let last = store.sent.lock().unwrap().last().cloned().unwrap();
            assert!(
                last.result.contains(expected),
                "{} !~ {expected}",
                last.result
            );
            assert_eq!(
                store.license.lock().unwrap().as_deref(),
                Some(good.as_str()),
                "{expected}"
            );
        }
        assert_eq!(store.sent.lock().unwrap().len(), 7);
    }

    #[tokio::test]
    async fn a_malformed_key_is_never_sent() {
        let kp = KeyPair::generate().unwrap();
        let store = Memory::default();
        let vendor = Scripted {
            answer: Err("unused".into()),
            received: Mutex::new(Vec::new()),
        };
        let r = check(
            &store,
            &vendor,
            "secret-but-wrong",
            "0.1.0",
            None,
            kp.public(),
            14,
            now(),
        )
        .await;
        assert!(matches!(r, Err(CheckError::KeyFormat(_))));
        assert!(vendor.received.lock().unwrap().is_empty());
        assert!(!format!("{:?}", r).contains("secret-but-wrong"));
    }

    #[tokio::test]
    async fn a_cancelled_subscription_is_stored_and_judged_invalid() {
        let kp = KeyPair::generate().unwrap();
        let store = Memory::default();
        let token = license(&kp, SubscriptionStatus::Cancelled, "4567");
        let (r, _) = run(&store, ok(&token), &kp).await;
        let checked = r.unwrap();
        assert!(matches!(checked.standing, Standing::Invalid { .. }));
        assert_eq!(checked.record.license_status.as_deref(), Some("cancelled"));
    }
}
