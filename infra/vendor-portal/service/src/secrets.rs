//! Keys, tokens and ids: generated from the system's randomness (aws-lc-rs),
//! stored and compared only as SHA-256 digests.

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use data_encoding::{BASE32_NOPAD, BASE64URL_NOPAD, HEXLOWER};
use zw_license::KEY_PREFIX;

/// The prefix of a customer's portal token.
pub const PORTAL_TOKEN_PREFIX: &str = "zwp_";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the system's random number generator failed")]
pub struct RandomError;

fn random<const N: usize>() -> Result<[u8; N], RandomError> {
    let mut buf = [0u8; N];
    SystemRandom::new()
        .fill(&mut buf)
        .map_err(|_| RandomError)?;
    Ok(buf)
}

/// A new license key: `zwk_` and 32 base32 characters (20 random bytes).
pub fn new_license_key() -> Result<String, RandomError> {
    Ok(format!(
        "{KEY_PREFIX}{}",
        BASE32_NOPAD.encode(&random::<20>()?)
    ))
}

/// A new portal token: `zwp_` and 32 base32 characters.
pub fn new_portal_token() -> Result<String, RandomError> {
    Ok(format!(
        "{PORTAL_TOKEN_PREFIX}{}",
        BASE32_NOPAD.encode(&random::<20>()?)
    ))
}

/// An id such as `cus_0123456789abcdef0123`.
pub fn new_id(prefix: &str) -> Result<String, RandomError> {
    Ok(format!("{prefix}{}", HEXLOWER.encode(&random::<10>()?)))
}

/// A session id or CSRF token: 32 random bytes, base64url.
pub fn new_token() -> Result<String, RandomError> {
    Ok(BASE64URL_NOPAD.encode(&random::<32>()?))
}

/// A temporary staff password for `zw-vendor staff add`: 24 random base32
/// characters plus one of each class the pool's policy asks for.
pub fn new_temporary_password() -> Result<String, RandomError> {
    Ok(format!("Tmp-{}-a7!", BASE32_NOPAD.encode(&random::<15>()?)))
}

/// Lowercase hex SHA-256: how keys, portal tokens and sessions are stored.
pub fn hash_secret(secret: &str) -> String {
    HEXLOWER.encode(digest(&SHA256, secret.as_bytes()).as_ref())
}

/// Compares two secrets through their digests, so the time taken says
/// nothing about how much of a guess matched.
pub fn same_secret(a: &str, b: &str) -> bool {
    digest(&SHA256, a.as_bytes()).as_ref() == digest(&SHA256, b.as_bytes()).as_ref()
}

/// The last four characters (a key's display hint).
pub fn last4(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_the_shared_format_and_differ() {
        let a = new_license_key().unwrap();
        let b = new_license_key().unwrap();
        zw_license::check_key_format(&a).unwrap();
        assert_ne!(a, b);
        assert_eq!(last4(&a), &a[a.len() - 4..]);
        assert_eq!(hash_secret(&a).len(), 64);
        assert!(same_secret(&a, &a.clone()));
        assert!(!same_secret(&a, &b));
        assert!(new_id("cus_").unwrap().starts_with("cus_"));
        assert_eq!(new_portal_token().unwrap().len(), 36);
        let p = new_temporary_password().unwrap();
        assert!(p.len() >= 14, "{p}");
        for class in [
            char::is_ascii_uppercase,
            char::is_ascii_lowercase,
            char::is_ascii_digit,
            char::is_ascii_punctuation,
        ] {
            assert!(p.chars().any(|c| class(&c)), "{p}");
        }
    }
}
