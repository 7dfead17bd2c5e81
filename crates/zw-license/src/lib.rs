//! Licensing, the part both sides share: the signed license token, the one
//! request body that ever crosses from a customer's account to the vendor,
//! and how a cached license stands at a given time.
//!
//! No I/O here: the customer's license client (`zw-aws::license`) and the
//! vendor service (`infra/vendor-portal`) bring their own transports, and
//! every time-dependent decision takes `now` as a parameter.

pub mod check;
pub mod schema;
pub mod standing;
pub mod token;

pub use schema::{FleetCounts, SchemaError, ValidationRequest, ValidationResponse};
pub use standing::{Setup, evaluate};
pub use token::{
    Claims, KeyPair, LicenseError, Limits, PublicKey, SubscriptionStatus, VENDOR_PUBLIC_KEY,
};
pub use zw_core::license::Standing;

/// A license key as shown anywhere (CLI, logs, audit records, portal): only
/// its last four characters, so a screenshot or a log line never leaks it.
pub fn mask_key(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 8 {
        return "****".to_owned();
    }
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("****{tail}")
}

/// The prefix of every license key the vendor issues (`zwk_` and 32
/// base32 characters): a key of any other shape is refused before it is sent.
pub const KEY_PREFIX: &str = "zwk_";

/// Checks a license key's shape: `zwk_` then 32 characters of `A-Z2-7`.
pub fn check_key_format(key: &str) -> Result<(), SchemaError> {
    let body = key.strip_prefix(KEY_PREFIX).ok_or(SchemaError::KeyFormat)?;
    if body.len() == 32
        && body
            .bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
    {
        Ok(())
    } else {
        Err(SchemaError::KeyFormat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_masked_key_shows_its_last_four_characters_only() {
        assert_eq!(mask_key("zwk_ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), "****4567");
        assert_eq!(mask_key("short"), "****");
    }

    #[test]
    fn key_format_is_checked() {
        assert!(check_key_format("zwk_ABCDEFGHIJKLMNOPQRSTUVWXYZ234567").is_ok());
        assert!(check_key_format("zwk_abcdefghijklmnopqrstuvwxyz234567").is_err());
        assert!(check_key_format("zwk_ABC").is_err());
        assert!(check_key_format("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567abcd").is_err());
    }
}
