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

/// The service's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// `ZW_VENDOR_TABLE`: the DynamoDB table (required).
    pub table: String,
    /// `ZW_VENDOR_SIGNING_KEY` (base64 PKCS#8 Ed25519) or
    /// `ZW_VENDOR_SIGNING_KEY_PARAMETER` (SSM SecureString name). Needed to
    /// serve, not by the admin commands.
    pub signing_key: Option<SecretSource>,
    /// `ZW_VENDOR_STAFF_TOKEN` or `ZW_VENDOR_STAFF_TOKEN_PARAMETER`: the
    /// token the vendor's staff sign in to the portal with.
    pub staff_token: Option<SecretSource>,
    /// `ZW_VENDOR_RATE_LIMIT`: validations per key per minute (default 20).
    pub rate_limit: RateLimit,
}

/// Every problem with the environment at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad configuration:\n  - {}", .problems.join("\n  - "))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

const KNOWN: [&str; 6] = [
    "ZW_VENDOR_TABLE",
    "ZW_VENDOR_SIGNING_KEY",
    "ZW_VENDOR_SIGNING_KEY_PARAMETER",
    "ZW_VENDOR_STAFF_TOKEN",
    "ZW_VENDOR_STAFF_TOKEN_PARAMETER",
    "ZW_VENDOR_RATE_LIMIT",
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
            if !KNOWN.contains(&name.as_str()) {
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
        let mut secret = |value: &str, parameter: &str| match (get(value), get(parameter)) {
            (Some(_), Some(_)) => {
                problems.push(format!("set {value} or {parameter}, not both"));
                None
            }
            (Some(v), None) => Some(SecretSource::Value(v)),
            (None, Some(p)) => Some(SecretSource::Parameter(p)),
            (None, None) => None,
        };
        let signing_key = secret("ZW_VENDOR_SIGNING_KEY", "ZW_VENDOR_SIGNING_KEY_PARAMETER");
        let staff_token = secret("ZW_VENDOR_STAFF_TOKEN", "ZW_VENDOR_STAFF_TOKEN_PARAMETER");
        let mut rate_limit = RateLimit::default();
        if let Some(v) = get("ZW_VENDOR_RATE_LIMIT") {
            match v.parse::<u32>() {
                Ok(n) if (1..=10_000).contains(&n) => rate_limit.requests = n,
                _ => problems.push(format!(
                    "ZW_VENDOR_RATE_LIMIT={v:?} is not a number of validations per key and minute from 1 to 10000"
                )),
            }
        }
        if problems.is_empty() {
            Ok(Self {
                table,
                signing_key,
                staff_token,
                rate_limit,
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
            ("ZW_VENDOR_TABEL", "typo"),
            ("HOME", "/root"),
        ]))
        .unwrap_err();
        assert_eq!(err.problems.len(), 4, "{err}");
    }

    #[test]
    fn secrets_come_in_clear_or_from_a_parameter() {
        let c = Config::from_vars(vars(&[
            ("ZW_VENDOR_TABLE", "t"),
            ("ZW_VENDOR_SIGNING_KEY_PARAMETER", "/zw/signing"),
            ("ZW_VENDOR_STAFF_TOKEN", "s3cret"),
        ]))
        .unwrap();
        assert_eq!(
            c.signing_key,
            Some(SecretSource::Parameter("/zw/signing".into()))
        );
        assert_eq!(c.staff_token, Some(SecretSource::Value("s3cret".into())));
        assert_eq!(c.rate_limit, RateLimit::default());
        assert!(!format!("{c:?}").contains("s3cret"));
    }
}
