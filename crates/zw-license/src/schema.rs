//! The only body that ever leaves a customer's account for the vendor, and
//! the vendor's answer. `docs/licensing.md` documents both field by field.
//!
//! The request is a flat JSON object of a license key, the product version
//! and, unless fleet visibility is off, integer counts. Its type has no
//! other field and no field that could hold a name: every count is a `u64`,
//! so a hostname, ARN or finding cannot be put in by construction. The vendor
//! parses with [`ValidationRequest::parse`], which refuses anything else.

use serde::{Deserialize, Serialize};

/// The largest request body either side accepts.
pub const MAX_REQUEST_BYTES: usize = 4096;
/// The largest answer the license client reads (a license is about 600 bytes).
pub const MAX_RESPONSE_BYTES: usize = 16 * 1024;
/// The longest product version accepted (`0.1.0`, `1.12.3-rc.1`).
const MAX_VERSION_LEN: usize = 32;

/// Aggregate counts of one deployment: integers only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetCounts {
    pub hosted_zones: u64,
    pub record_sets: u64,
    pub certificates: u64,
    pub health_checks: u64,
    pub findings_critical: u64,
    pub findings_high: u64,
    pub findings_medium: u64,
    pub findings_low: u64,
    pub findings_info: u64,
}

/// `POST /v1/licenses/validate`'s body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidationRequest {
    pub license_key: String,
    pub product_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosted_zones: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_sets: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificates: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_checks: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub findings_critical: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub findings_high: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub findings_medium: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub findings_low: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub findings_info: Option<u64>,
}

/// Every field name the request may carry, in the documented order.
pub const REQUEST_FIELDS: [&str; 11] = [
    "license_key",
    "product_version",
    "hosted_zones",
    "record_sets",
    "certificates",
    "health_checks",
    "findings_critical",
    "findings_high",
    "findings_medium",
    "findings_low",
    "findings_info",
];

/// Why a body is not a validation request (or answer).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    #[error("the body is {0} bytes; at most {MAX_REQUEST_BYTES} are accepted")]
    TooLarge(usize),
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    #[error("the body must be a flat JSON object")]
    NotAnObject,
    #[error("field {0:?} is nested (an object or array); every field is a string or an integer")]
    Nested(String),
    #[error("unknown field {0:?}; the fields are: {fields}", fields = REQUEST_FIELDS.join(", "))]
    UnknownField(String),
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("the license key is not a zonewarden key (`zwk_` and 32 characters A-Z, 2-7)")]
    KeyFormat,
    #[error(
        "the product version must be 1 to {MAX_VERSION_LEN} characters of 0-9, a-z, '.', '-' or '+'"
    )]
    Version,
}

impl ValidationRequest {
    /// The body for `key` and `version`, with `counts` when fleet visibility is on.
    pub fn new(license_key: &str, product_version: &str, counts: Option<FleetCounts>) -> Self {
        let c = counts;
        Self {
            license_key: license_key.to_owned(),
            product_version: product_version.to_owned(),
            hosted_zones: c.map(|c| c.hosted_zones),
            record_sets: c.map(|c| c.record_sets),
            certificates: c.map(|c| c.certificates),
            health_checks: c.map(|c| c.health_checks),
            findings_critical: c.map(|c| c.findings_critical),
            findings_high: c.map(|c| c.findings_high),
            findings_medium: c.map(|c| c.findings_medium),
            findings_low: c.map(|c| c.findings_low),
            findings_info: c.map(|c| c.findings_info),
        }
    }

    /// The counts, when the body carries them all.
    pub fn counts(&self) -> Option<FleetCounts> {
        Some(FleetCounts {
            hosted_zones: self.hosted_zones?,
            record_sets: self.record_sets?,
            certificates: self.certificates?,
            health_checks: self.health_checks?,
            findings_critical: self.findings_critical?,
            findings_high: self.findings_high?,
            findings_medium: self.findings_medium?,
            findings_low: self.findings_low?,
            findings_info: self.findings_info?,
        })
    }

    /// The exact bytes sent.
    pub fn to_body(&self) -> Result<Vec<u8>, SchemaError> {
        let body = serde_json::to_vec(self).map_err(|e| SchemaError::Invalid(e.to_string()))?;
        if body.len() > MAX_REQUEST_BYTES {
            return Err(SchemaError::TooLarge(body.len()));
        }
        Ok(body)
    }

    /// The vendor's parser: size, flatness and field names are checked
    /// before anything is deserialized, so each refusal names its reason.
    pub fn parse(body: &[u8]) -> Result<Self, SchemaError> {
        if body.len() > MAX_REQUEST_BYTES {
            return Err(SchemaError::TooLarge(body.len()));
        }
        let value: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| SchemaError::NotJson(e.to_string()))?;
        let object = value.as_object().ok_or(SchemaError::NotAnObject)?;
        for (name, v) in object {
            if !REQUEST_FIELDS.contains(&name.as_str()) {
                return Err(SchemaError::UnknownField(truncate(name)));
            }
            if v.is_object() || v.is_array() {
                return Err(SchemaError::Nested(name.clone()));
            }
        }
        let request: Self =
            serde_json::from_value(value).map_err(|e| SchemaError::Invalid(e.to_string()))?;
        crate::check_key_format(&request.license_key)?;
        let v = &request.product_version;
        if v.is_empty()
            || v.len() > MAX_VERSION_LEN
            || !v
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase() || b"-.+".contains(&b))
        {
            return Err(SchemaError::Version);
        }
        Ok(request)
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}

/// The vendor's answer to a validation: a freshly signed license.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidationResponse {
    pub license: String,
}

impl ValidationResponse {
    pub fn parse(body: &[u8]) -> Result<Self, SchemaError> {
        if body.len() > MAX_RESPONSE_BYTES {
            return Err(SchemaError::TooLarge(body.len()));
        }
        serde_json::from_slice(body).map_err(|e| SchemaError::NotJson(e.to_string()))
    }
}

/// The vendor's refusal (any 4xx/5xx): `{"error": "...", "message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// A stable code: `invalid_body`, `unknown_key`, `revoked_key`, `rate_limited`, ...
    pub error: String,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "zwk_ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    #[test]
    fn a_body_with_counts_is_flat_and_round_trips() {
        let counts = FleetCounts {
            hosted_zones: 3,
            record_sets: 120,
            certificates: 7,
            health_checks: 4,
            findings_high: 2,
            ..FleetCounts::default()
        };
        let r = ValidationRequest::new(KEY, "0.1.0", Some(counts));
        let body = r.to_body().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), REQUEST_FIELDS.len());
        assert!(keys.iter().all(|k| REQUEST_FIELDS.contains(k)));
        assert_eq!(ValidationRequest::parse(&body).unwrap(), r);
        assert_eq!(r.counts(), Some(counts));
    }

    #[test]
    fn without_fleet_visibility_only_key_and_version_are_sent() {
        let body = ValidationRequest::new(KEY, "0.1.0", None)
            .to_body()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"license_key": KEY, "product_version": "0.1.0"})
        );
    }

    #[test]
    fn the_vendor_refuses_every_other_shape_with_its_reason() {
        let parse = |s: &str| ValidationRequest::parse(s.as_bytes());
        assert!(matches!(parse("[1]"), Err(SchemaError::NotAnObject)));
        assert!(matches!(parse("nope"), Err(SchemaError::NotJson(_))));
        assert_eq!(
            parse(&format!(
                r#"{{"license_key":"{KEY}","product_version":"0.1.0","hostname":"a"}}"#
            )),
            Err(SchemaError::UnknownField("hostname".into()))
        );
        assert_eq!(
            parse(&format!(
                r#"{{"license_key":"{KEY}","product_version":"0.1.0","hosted_zones":{{"a":1}}}}"#
            )),
            Err(SchemaError::Nested("hosted_zones".into()))
        );
        assert!(matches!(
            parse(&format!(
                r#"{{"license_key":"{KEY}","product_version":"0.1.0","hosted_zones":"www.example.com"}}"#
            )),
            Err(SchemaError::Invalid(_))
        ));
        assert_eq!(
            parse(r#"{"license_key":"zwk_short","product_version":"0.1.0"}"#),
            Err(SchemaError::KeyFormat)
        );
        assert_eq!(
            parse(&format!(
                r#"{{"license_key":"{KEY}","product_version":"<script>"}}"#
            )),
            Err(SchemaError::Version)
        );
        let big = format!(
            r#"{{"license_key":"{KEY}","product_version":"{}"}}"#,
            "1".repeat(5000)
        );
        assert!(matches!(parse(&big), Err(SchemaError::TooLarge(_))));
    }
}
