//! The license: a JWT signed by the vendor with Ed25519 (`alg: EdDSA`).
//!
//! `jsonwebtoken` checks the signature and the algorithm; the times are
//! checked by [`crate::standing`] against the `now` it is given, so that
//! tests and scans decide with the same clock as everything else.

use chrono::{DateTime, TimeZone, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The vendor's production public key (raw Ed25519, base64url without
/// padding), compiled in. Its private half never was in this repository: the
/// vendor keeps it in an SSM SecureString (`infra/vendor-portal`). Tests and
/// self-hosted vendors override it with `ZW_LICENSE_PUBLIC_KEY`.
pub const VENDOR_PUBLIC_KEY: &str = "iaGpbdjTi3XOa3eHYT6lhzT-f68YVKVSrx6G_bTz4Qg";

/// Who signs licenses (`iss`): a token from anyone else is refused.
pub const ISSUER: &str = "zonewarden-vendor";

/// What a subscription is doing, as the vendor's billing sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionStatus {
    Active,
    Trialing,
    PastDue,
    Cancelled,
}

impl SubscriptionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Trialing => "trialing",
            Self::PastDue => "past_due",
            Self::Cancelled => "cancelled",
        }
    }

    /// Whether the subscription entitles its holder to scan beyond the free tier.
    pub fn in_good_standing(self) -> bool {
        matches!(self, Self::Active | Self::Trialing)
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "trialing" => Some(Self::Trialing),
            "past_due" => Some(Self::PastDue),
            "cancelled" => Some(Self::Cancelled),
            _ => None,
        }
    }
}

impl fmt::Display for SubscriptionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a plan allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub zones: u32,
    pub certificates: u32,
    pub accounts: u32,
}

/// The license's claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    pub iss: String,
    /// The license id (`lic_...`).
    pub sub: String,
    /// The customer's id at the vendor.
    pub customer: String,
    pub plan: String,
    pub limits: Limits,
    pub status: SubscriptionStatus,
    /// When the subscription renews (or ends), seconds since the epoch.
    pub renews_at: i64,
    /// The last four characters of the key the license was issued for.
    pub key_hint: String,
    /// Issued at: the time of the validation that produced this license.
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

impl Claims {
    pub fn issued_at(&self) -> DateTime<Utc> {
        seconds(self.iat)
    }
    pub fn not_before(&self) -> DateTime<Utc> {
        seconds(self.nbf)
    }
    pub fn expires_at(&self) -> DateTime<Utc> {
        seconds(self.exp)
    }
    pub fn renews_at(&self) -> DateTime<Utc> {
        seconds(self.renews_at)
    }
}

fn seconds(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(s, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Why a token is not a license.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LicenseError {
    #[error(
        "the license signature does not verify against the vendor's public key (a tampered license, or one signed by someone else)"
    )]
    BadSignature,
    #[error("the license is not a well-formed EdDSA JWT: {0}")]
    Malformed(String),
    #[error(
        "the license is signed with {0}, not EdDSA: only the vendor's Ed25519 signature is accepted"
    )]
    WrongAlgorithm(String),
    #[error("the license was issued by {0:?}, not {ISSUER:?}")]
    WrongIssuer(String),
    #[error("the public key is not 32 bytes of base64url (ZW_LICENSE_PUBLIC_KEY): {0}")]
    BadPublicKey(String),
    #[error("the signing key is not an Ed25519 PKCS#8 key: {0}")]
    BadSigningKey(String),
    #[error(
        "the vendor public key compiled into this build is not a valid Ed25519 key ({0}): no license can be verified; this build is broken (set ZW_LICENSE_PUBLIC_KEY to the vendor's key, or install a release build)"
    )]
    CompiledInKey(String),
}

/// The vendor's public key, raw Ed25519.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey([u8; 32]);

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_base64url())
    }
}

impl PublicKey {
    /// From base64url (no padding), as `ZW_LICENSE_PUBLIC_KEY` and
    /// [`VENDOR_PUBLIC_KEY`] hold it.
    pub fn from_base64url(s: &str) -> Result<Self, LicenseError> {
        let bytes = data_encoding::BASE64URL_NOPAD
            .decode(s.trim().as_bytes())
            .map_err(|e| LicenseError::BadPublicKey(e.to_string()))?;
        let raw: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| LicenseError::BadPublicKey(format!("{} bytes", b.len())))?;
        Ok(Self(raw))
    }

    /// The compiled-in vendor key. A test checks that the constant parses;
    /// should a build ever carry a broken one, this says so (never a
    /// stand-in key that would verify nothing or, worse, something).
    pub fn vendor() -> Result<Self, LicenseError> {
        Self::compiled_in(VENDOR_PUBLIC_KEY)
    }

    fn compiled_in(constant: &str) -> Result<Self, LicenseError> {
        Self::from_base64url(constant).map_err(|e| match e {
            LicenseError::BadPublicKey(why) => LicenseError::CompiledInKey(why),
            other => other,
        })
    }

    pub fn to_base64url(&self) -> String {
        data_encoding::BASE64URL_NOPAD.encode(&self.0)
    }

    /// Checks the signature, the algorithm and the issuer; returns the claims
    /// without judging their times (see [`crate::standing::evaluate`]).
    pub fn verify(&self, token: &str) -> Result<Claims, LicenseError> {
        let mut validation = Validation::new(Algorithm::EdDSA);
        // Times are judged by `standing` with the scan's clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.required_spec_claims.clear();
        let key = DecodingKey::from_ed_der(&self.0);
        let data =
            jsonwebtoken::decode::<Claims>(token.trim(), &key, &validation).map_err(|e| {
                use jsonwebtoken::errors::ErrorKind as K;
                match e.kind() {
                    K::InvalidSignature => LicenseError::BadSignature,
                    // The header names an algorithm jsonwebtoken knows but
                    // the validation does not allow (HS256, RS256, ...); an
                    // unknown one (`none`) is a malformed header instead.
                    K::InvalidAlgorithm => LicenseError::WrongAlgorithm(
                        jsonwebtoken::decode_header(token.trim())
                            .map(|h| format!("{:?}", h.alg))
                            .unwrap_or_else(|_| "an unknown algorithm".into()),
                    ),
                    _ => LicenseError::Malformed(e.to_string()),
                }
            })?;
        if data.claims.iss != ISSUER {
            return Err(LicenseError::WrongIssuer(data.claims.iss));
        }
        Ok(data.claims)
    }
}

/// An Ed25519 signing key (the vendor's, or a test's).
pub struct KeyPair {
    pkcs8: Vec<u8>,
    public: PublicKey,
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the private half.
        f.debug_struct("KeyPair")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl KeyPair {
    /// A fresh key pair from the system's randomness.
    pub fn generate() -> Result<Self, LicenseError> {
        use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
        let doc = Ed25519KeyPair::generate_pkcs8(&aws_lc_rs::rand::SystemRandom::new())
            .map_err(|e| LicenseError::BadSigningKey(e.to_string()))?;
        Self::from_pkcs8(doc.as_ref())
            .map_err(|e| match e {
                LicenseError::BadSigningKey(m) => LicenseError::BadSigningKey(m),
                other => other,
            })
            .and_then(|kp| {
                // The public half aws-lc-rs derives must be the one we parsed.
                let check = Ed25519KeyPair::from_pkcs8(doc.as_ref())
                    .map_err(|e| LicenseError::BadSigningKey(e.to_string()))?;
                if check.public_key().as_ref() == kp.public.0 {
                    Ok(kp)
                } else {
                    Err(LicenseError::BadSigningKey("public key mismatch".into()))
                }
            })
    }

    /// From a PKCS#8 v1 or v2 document (DER).
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, LicenseError> {
        use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
            .map_err(|e| LicenseError::BadSigningKey(e.to_string()))?;
        let raw: [u8; 32] = pair
            .public_key()
            .as_ref()
            .try_into()
            .map_err(|_| LicenseError::BadSigningKey("public key is not 32 bytes".into()))?;
        Ok(Self {
            pkcs8: der.to_vec(),
            public: PublicKey(raw),
        })
    }

    /// From base64 (standard alphabet) of the PKCS#8 document: how the
    /// vendor's secret and the test fixtures store it.
    pub fn from_base64(s: &str) -> Result<Self, LicenseError> {
        let der = data_encoding::BASE64
            .decode(s.trim().as_bytes())
            .map_err(|e| LicenseError::BadSigningKey(e.to_string()))?;
        Self::from_pkcs8(&der)
    }

    pub fn to_base64(&self) -> String {
        data_encoding::BASE64.encode(&self.pkcs8)
    }

    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// Signs `claims` as an EdDSA JWT.
    pub fn sign(&self, claims: &Claims) -> Result<String, LicenseError> {
        let key = EncodingKey::from_ed_der(&self.pkcs8);
        jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), claims, &key)
            .map_err(|e| LicenseError::BadSigningKey(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn claims() -> Claims {
        Claims {
            iss: ISSUER.into(),
            sub: "lic_1".into(),
            customer: "cus_1".into(),
            plan: "team".into(),
            limits: Limits {
                zones: 50,
                certificates: 500,
                accounts: 5,
            },
            status: SubscriptionStatus::Active,
            renews_at: 1_800_000_000,
            key_hint: "4567".into(),
            iat: 1_790_000_000,
            nbf: 1_790_000_000,
            exp: 1_792_592_000,
        }
    }

    #[test]
    fn a_signed_license_verifies_and_round_trips() {
        let kp = KeyPair::generate().unwrap();
        let token = kp.sign(&claims()).unwrap();
        assert_eq!(kp.public().verify(&token).unwrap(), claims());
        // The key survives its storage form.
        let again = KeyPair::from_base64(&kp.to_base64()).unwrap();
        assert_eq!(again.public(), kp.public());
        let pk = PublicKey::from_base64url(&kp.public().to_base64url()).unwrap();
        assert_eq!(pk.verify(&token).unwrap().sub, "lic_1");
    }

    #[test]
    fn a_tampered_license_or_another_signer_is_refused() {
        let kp = KeyPair::generate().unwrap();
        let token = kp.sign(&claims()).unwrap();
        // Change the payload (plan) and keep the signature.
        let parts: Vec<&str> = token.split('.').collect();
        let mut payload: serde_json::Value = serde_json::from_slice(
            &data_encoding::BASE64URL_NOPAD
                .decode(parts[1].as_bytes())
                .unwrap(),
        )
        .unwrap();
        payload["limits"]["zones"] = serde_json::json!(100_000);
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            data_encoding::BASE64URL_NOPAD.encode(payload.to_string().as_bytes()),
            parts[2]
        );
        assert_eq!(kp.public().verify(&forged), Err(LicenseError::BadSignature));
        let other = KeyPair::generate().unwrap();
        assert_eq!(
            other.public().verify(&token),
            Err(LicenseError::BadSignature)
        );
        assert!(matches!(
            kp.public().verify("not a jwt"),
            Err(LicenseError::Malformed(_))
        ));
        let mut c = claims();
        c.iss = "someone-else".into();
        assert!(matches!(
            kp.public().verify(&kp.sign(&c).unwrap()),
            Err(LicenseError::WrongIssuer(_))
        ));
    }

    #[test]
    fn the_compiled_in_vendor_key_parses() {
        assert_eq!(
            PublicKey::from_base64url(VENDOR_PUBLIC_KEY)
                .unwrap()
                .to_base64url(),
            VENDOR_PUBLIC_KEY
        );
        assert_eq!(
            PublicKey::vendor().unwrap().to_base64url(),
            VENDOR_PUBLIC_KEY
        );
        assert!(PublicKey::from_base64url("abc").is_err());
    }

    #[test]
    fn a_broken_compiled_in_key_is_an_error_not_a_stand_in_key() {
        // 31 bytes, not base64url, empty: each a typed error that names the
        // build, never a zero key.
        for broken in [
            data_encoding::BASE64URL_NOPAD.encode(&[7u8; 31]),
            "not a key!".to_owned(),
            String::new(),
        ] {
            let e = PublicKey::compiled_in(&broken).expect_err(&broken);
            assert!(matches!(e, LicenseError::CompiledInKey(_)), "{e:?}");
            assert!(e.to_string().contains("compiled into this build"), "{e}");
        }
    }

    fn b64(bytes: &[u8]) -> String {
        data_encoding::BASE64URL_NOPAD.encode(bytes)
    }

    /// `header.payload` of a token with this header and the test claims.
    fn signing_input(header: serde_json::Value) -> String {
        format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(serde_json::to_string(&claims()).unwrap().as_bytes())
        )
    }

    #[test]
    fn alg_none_is_refused() {
        let kp = KeyPair::generate().unwrap();
        for alg in ["none", "None", "NONE"] {
            let input = signing_input(serde_json::json!({"alg": alg, "typ": "JWT"}));
            for token in [format!("{input}."), input.clone()] {
                assert!(
                    matches!(kp.public().verify(&token), Err(LicenseError::Malformed(_))),
                    "{token}: {:?}",
                    kp.public().verify(&token)
                );
            }
        }
        // The right algorithm with no signature is no better.
        let input = signing_input(serde_json::json!({"alg": "EdDSA", "typ": "JWT"}));
        assert_eq!(
            kp.public().verify(&format!("{input}.")),
            Err(LicenseError::BadSignature)
        );
    }

    #[test]
    fn hs256_with_the_public_key_as_the_hmac_secret_is_refused() {
        // The classic confusion: the public key is public, so anyone can
        // compute an HMAC with it; a verifier that let the header pick the
        // algorithm would accept these.
        let kp = KeyPair::generate().unwrap();
        let raw = kp.public().0;
        let text = kp.public().to_base64url();
        for secret in [raw.as_slice(), text.as_bytes()] {
            let token = jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &claims(),
                &EncodingKey::from_secret(secret).unwrap(),
            )
            .unwrap();
            // The control: the token is a valid HS256 token for that secret.
            let mut hs = Validation::new(Algorithm::HS256);
            hs.required_spec_claims.clear();
            hs.validate_exp = false;
            assert!(
                jsonwebtoken::decode::<Claims>(
                    &token,
                    &DecodingKey::from_secret(secret).unwrap(),
                    &hs
                )
                .is_ok()
            );
            assert_eq!(
                kp.public().verify(&token),
                Err(LicenseError::WrongAlgorithm("HS256".into()))
            );
        }
    }

    #[test]
    fn rs256_signed_by_anyone_is_refused_even_with_its_key_embedded() {
        use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
        let rsa = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        // The signer's key rides along in the header (`jwk`), as in the
        // embedded-key attack: a verifier that trusted it would accept.
        let jwk = serde_json::json!({
            "kty": "RSA",
            "n": b64(rsa.public_key().modulus().big_endian_without_leading_zero()),
            "e": b64(rsa.public_key().exponent().big_endian_without_leading_zero()),
        });
        let input = signing_input(serde_json::json!({"alg": "RS256", "typ": "JWT", "jwk": jwk}));
        let mut signature = vec![0u8; rsa.public_modulus_len()];
        rsa.sign(
            &RSA_PKCS1_SHA256,
            &aws_lc_rs::rand::SystemRandom::new(),
            input.as_bytes(),
            &mut signature,
        )
        .unwrap();
        let token = format!("{input}.{}", b64(&signature));
        // The control: a real RS256 token, verified with the key it carries.
        let mut rs = Validation::new(Algorithm::RS256);
        rs.required_spec_claims.clear();
        rs.validate_exp = false;
        let embedded = jsonwebtoken::decode_header(&token).unwrap().jwk.unwrap();
        assert!(
            jsonwebtoken::decode::<Claims>(&token, &DecodingKey::from_jwk(&embedded).unwrap(), &rs)
                .is_ok()
        );
        let kp = KeyPair::generate().unwrap();
        assert_eq!(
            kp.public().verify(&token),
            Err(LicenseError::WrongAlgorithm("RS256".into()))
        );
    }

    #[test]
    fn an_eddsa_license_carrying_its_own_key_is_still_checked_against_ours() {
        let vendor = KeyPair::generate().unwrap();
        let attacker = KeyPair::generate().unwrap();
        let mut header = Header::new(Algorithm::EdDSA);
        header.jwk = Some(
            serde_json::from_value(serde_json::json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "x": attacker.public().to_base64url(),
            }))
            .unwrap(),
        );
        let token = jsonwebtoken::encode(
            &header,
            &claims(),
            &EncodingKey::from_ed_der(&attacker.pkcs8),
        )
        .unwrap();
        assert_eq!(attacker.public().verify(&token).unwrap(), claims());
        assert_eq!(
            vendor.public().verify(&token),
            Err(LicenseError::BadSignature)
        );
    }
}
