//! Configuration from the environment (prefix `ZW_VENDOR_`), every bad
//! variable reported at once. Standard AWS variables (`AWS_REGION`,
//! `AWS_ENDPOINT_URL` for moto, profiles) keep their usual meaning and are
//! read by the SDK, not here.

use std::collections::BTreeMap;

/// Requests per key and window on `POST /v1/licenses/validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per key in one window. Default 20.
    pub requests: u32,
    /// The fixed window, in seconds. 60 (not configurable: the counters'
    /// sort keys are window starts).
    pub window_secs: i64,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            requests: DEFAULT_RATE_LIMIT,
            window_secs: 60,
        }
    }
}

/// Validations per key and minute. A deployment validates a few times a day
/// (and at each cold start); 20 a minute lets a customer start a dozen
/// deployments with one key at once, and stops a loop or a leaked key
/// hammering the table.
pub const DEFAULT_RATE_LIMIT: u32 = 20;

/// A secret given either in clear (local runs, tests) or as the name of an
/// SSM SecureString parameter (Lambda).
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    Value(String),
    Parameter(String),
}

impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // Never the value.
            Self::Value(_) => f.write_str("Value(<redacted>)"),
            Self::Parameter(p) => write!(f, "Parameter({p:?})"),
        }
    }
}

/// Default for [`Config::unknown_key_limit`]: unknown license keys from one
/// source address per minute. A deployment with a mistyped key retries a few
/// times a day; ten a minute stops anyone trying keys at scale.
pub const DEFAULT_UNKNOWN_KEY_LIMIT: u32 = 10;
/// Default for [`Config::sign_in_limit`]: failed portal sign-ins from one
/// source address per minute.
pub const DEFAULT_SIGN_IN_LIMIT: u32 = 10;
/// Default for [`Config::max_active_keys`].
pub const DEFAULT_MAX_ACTIVE_KEYS: u32 = 5;

/// The staff user pool (Amazon Cognito) the portal signs staff in through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffPool {
    /// `ZW_VENDOR_STAFF_USER_POOL_ID`, e.g. `eu-west-1_AbCdEf123`.
    pub user_pool_id: String,
    /// `ZW_VENDOR_STAFF_CLIENT_ID`: the pool's app client (no secret).
    pub client_id: String,
}

/// The service's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// `ZW_VENDOR_TABLE`: the DynamoDB table (required).
    pub table: String,
    /// `ZW_VENDOR_SIGNING_KEY` (base64 PKCS#8 Ed25519) or
    /// `ZW_VENDOR_SIGNING_KEY_PARAMETER` (SSM SecureString name). Needed to
    /// serve, not by the admin commands.
    pub signing_key: Option<SecretSource>,
    /// `ZW_VENDOR_STAFF_USER_POOL_ID` and `ZW_VENDOR_STAFF_CLIENT_ID`: both
    /// or neither. Without them staff cannot sign in to the portal (the
    /// Lambda refuses to start without them; `zw-vendor serve` runs without).
    pub staff_pool: Option<StaffPool>,
    /// `ZW_VENDOR_RATE_LIMIT`: validations per key per minute (default 20).
    pub rate_limit: RateLimit,
    /// `ZW_VENDOR_UNKNOWN_KEY_LIMIT`: unknown keys per source address per
    /// minute (default 10); past it, validations from that address are
    /// refused with 429 before any key lookup.
    pub unknown_key_limit: u32,
    /// `ZW_VENDOR_SIGN_IN_LIMIT`: failed portal sign-ins per source address
    /// per minute (default 10); past it, sign-ins from that address are
    /// refused with 429 before the token or the password is checked.
    pub sign_in_limit: u32,
    /// `ZW_VENDOR_MAX_ACTIVE_KEYS`: active license keys per customer
    /// (default 5, 1 to 100).
    pub max_active_keys: u32,
}

/// Every problem with the environment at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad configuration:\n  - {}", .problems.join("\n  - "))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

const KNOWN: [&str; 9] = [
    "ZW_VENDOR_TABLE",
    "ZW_VENDOR_SIGNING_KEY",
    "ZW_VENDOR_SIGNING_KEY_PARAMETER",
    "ZW_VENDOR_STAFF_USER_POOL_ID",
    "ZW_VENDOR_STAFF_CLIENT_ID",
    "ZW_VENDOR_RATE_LIMIT",
    "ZW_VENDOR_UNKNOWN_KEY_LIMIT",
    "ZW_VENDOR_SIGN_IN_LIMIT",
    "ZW_VENDOR_MAX_ACTIVE_KEYS",
];

/// Settings that existed once and are refused with what replaced them.
const GONE: [(&str, &str); 2] = [
    (
        "ZW_VENDOR_STAFF_TOKEN",
        "the shared staff token is gone: staff sign in through the Cognito user pool (ZW_VENDOR_STAFF_USER_POOL_ID, ZW_VENDOR_STAFF_CLIENT_ID; `zw-vendor staff add`)",
    ),
    (
        "ZW_VENDOR_STAFF_TOKEN_PARAMETER",
        "the shared staff token is gone: staff sign in through the Cognito user pool (ZW_VENDOR_STAFF_USER_POOL_ID, ZW_VENDOR_STAFF_CLIENT_ID; `zw-vendor staff add`)",
    ),
];

impl Config {
    /// From `(name, value)` pairs, e.g. `std::env::vars()`. Unknown
    /// `ZW_VENDOR_` names are refused (a typo would otherwise be silent).
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let vars: BTreeMap<String, String> = vars
            .into_iter()
            .filter(|(k, _)| k.starts_with("ZW_VENDOR_"))
            .collect();
        let mut problems = Vec::new();
        for name in vars.keys() {
            if let Some((_, why)) = GONE.iter().find(|(gone, _)| gone == name) {
                problems.push(format!("{name}: {why}"));
            } else if !KNOWN.contains(&name.as_str()) {
                problems.push(format!(
                    "unknown variable {name} (known: {})",
                    KNOWN.join(", ")
                ));
            }
        }
        let get = |name: &str| {
            vars.get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let table = get("ZW_VENDOR_TABLE").unwrap_or_else(|| {
            problems.push("ZW_VENDOR_TABLE is not set: name the DynamoDB table (the stack's output VendorTable)".into());
            String::new()
        });
        let signing_key = match (
            get("ZW_VENDOR_SIGNING_KEY"),
            get("ZW_VENDOR_SIGNING_KEY_PARAMETER"),
        ) {
            (Some(_), Some(_)) => {
                problems.push(
                    "set ZW_VENDOR_SIGNING_KEY or ZW_VENDOR_SIGNING_KEY_PARAMETER, not both".into(),
                );
                None
            }
            (Some(v), None) => Some(SecretSource::Value(v)),
            (None, Some(p)) => Some(SecretSource::Parameter(p)),
            (None, None) => None,
        };
        let staff_pool = match (
            get("ZW_VENDOR_STAFF_USER_POOL_ID"),
            get("ZW_VENDOR_STAFF_CLIENT_ID"),
        ) {
            (Some(user_pool_id), Some(client_id)) => Some(StaffPool {
                user_pool_id,
                client_id,
            }),
            (None, None) => None,
            _ => {
                problems.push("set both ZW_VENDOR_STAFF_USER_POOL_ID and ZW_VENDOR_STAFF_CLIENT_ID (the stack's outputs StaffUserPoolId and StaffClientId), or neither".into());
                None
            }
        };
        let mut number = |name: &str, default: u32, max: u32, what: &str| match get(name) {
            None => default,
            Some(v) => match v.parse::<u32>() {
                Ok(n) if (1..=max).contains(&n) => n,
                _ => {
                    problems.push(format!(
                        "{name}={v:?} is not a number of {what} from 1 to {max}"
                    ));
                    default
                }
            },
        };
        let rate_limit = RateLimit {
            requests: number(
                "ZW_VENDOR_RATE_LIMIT",
                DEFAULT_RATE_LIMIT,
                10_000,
                "validations per key and minute",
            ),
            ..RateLimit::default()
        };
        let unknown_key_limit = number(
            "ZW_VENDOR_UNKNOWN_KEY_LIMIT",
            DEFAULT_UNKNOWN_KEY_LIMIT,
            10_000,
            "unknown keys per source address and minute",
        );
        let sign_in_limit = number(
            "ZW_VENDOR_SIGN_IN_LIMIT",
            DEFAULT_SIGN_IN_LIMIT,
            10_000,
            "failed sign-ins per source address and minute",
        );
        let max_active_keys = number(
            "ZW_VENDOR_MAX_ACTIVE_KEYS",
            DEFAULT_MAX_ACTIVE_KEYS,
            100,
            "active keys per customer",
        );
        if problems.is_empty() {
            Ok(Self {
                table,
                signing_key,
                staff_pool,
                rate_limit,
                unknown_key_limit,
                sign_in_limit,
                max_active_keys,
            })
        } else {
            Err(ConfigError { problems })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let err = Config::from_vars(vars(&[
            ("ZW_VENDOR_SIGNING_KEY", "a"),
            ("ZW_VENDOR_SIGNING_KEY_PARAMETER", "/p"),
            ("ZW_VENDOR_RATE_LIMIT", "lots"),
            ("ZW_VENDOR_MAX_ACTIVE_KEYS", "101"),
            ("ZW_VENDOR_UNKNOWN_KEY_LIMIT", "0"),
            ("ZW_VENDOR_STAFF_USER_POOL_ID", "eu-west-1_abc"),
            ("ZW_VENDOR_TABEL", "typo"),
            ("HOME", "/root"),
        ]))
        .unwrap_err();
        // No table, both signing keys, the rate, the cap, the unknown-key
        // limit, a pool without its client, the typo.
        assert_eq!(err.problems.len(), 7, "{err}");
    }

    #[test]
    fn the_shared_staff_token_is_refused_with_what_replaced_it() {
        for name in ["ZW_VENDOR_STAFF_TOKEN", "ZW_VENDOR_STAFF_TOKEN_PARAMETER"] {
            let err =
                Config::from_vars(vars(&[("ZW_VENDOR_TABLE", "t"), (name, "s3cret")])).unwrap_err();
            assert_eq!(err.problems.len(), 1, "{err}");
            assert!(
                err.problems[0].contains("ZW_VENDOR_STAFF_USER_POOL_ID"),
                "{err}"
            );
            assert!(!err.to_string().contains("s3cret"));
        }
    }

    #[test]
    fn settings_and_their_defaults() {
        let c = Config::from_vars(vars(&[
            ("ZW_VENDOR_TABLE", "t"),
            ("ZW_VENDOR_SIGNING_KEY_PARAMETER", "/zw/signing"),
        ]))
        .unwrap();
        assert_eq!(
            c.signing_key,
            Some(SecretSource::Parameter("/zw/signing".into()))
        );
        assert_eq!(c.staff_pool, None);
        assert_eq!(c.rate_limit, RateLimit::default());
        assert_eq!(c.unknown_key_limit, DEFAULT_UNKNOWN_KEY_LIMIT);
        assert_eq!(c.sign_in_limit, DEFAULT_SIGN_IN_LIMIT);
        assert_eq!(c.max_active_keys, 5);

        let c = Config::from_vars(vars(&[
            ("ZW_VENDOR_TABLE", "t"),
            ("ZW_VENDOR_SIGNING_KEY", "s3cret"),
            ("ZW_VENDOR_STAFF_USER_POOL_ID", "eu-west-1_abc"),
            ("ZW_VENDOR_STAFF_CLIENT_ID", "client"),
            ("ZW_VENDOR_MAX_ACTIVE_KEYS", "2"),
            ("ZW_VENDOR_UNKNOWN_KEY_LIMIT", "3"),
            ("ZW_VENDOR_SIGN_IN_LIMIT", "4"),
        ]))
        .unwrap();
        assert_eq!(
            c.staff_pool,
            Some(StaffPool {
                user_pool_id: "eu-west-1_abc".into(),
                client_id: "client".into()
            })
        );
        assert_eq!(
            (c.max_active_keys, c.unknown_key_limit, c.sign_in_limit),
            (2, 3, 4)
        );
        assert!(!format!("{c:?}").contains("s3cret"));
    }
}
