//! X.509 certificates with any validity window, generated with `rcgen`
//! (ECDSA P-256 keys, which ACM imports as `EC_prime256v1`).

use crate::error::{Result, TestkitError};
use chrono::{DateTime, Datelike, Utc};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use std::ops::{Add, Sub};
use std::time::Duration as StdDuration;

/// A certificate and its private key, both PEM (the key is PKCS#8).
#[derive(Debug, Clone)]
pub struct GeneratedCert {
    pub cert_pem: String,
    pub key_pem: String,
}

/// A leaf signed by a throwaway CA, plus that CA's certificate as the chain.
#[derive(Debug, Clone)]
pub struct CaSignedCert {
    pub leaf: GeneratedCert,
    /// The issuing CA's certificate (PEM): what ACM calls the certificate chain.
    pub chain_pem: String,
}

/// A self-signed server certificate for `domain` (subject CN and first SAN)
/// plus `sans`, valid from `not_before` to `not_after` (second precision).
///
/// Any window is accepted, past ones included: useful for TLS probes. ACM (and
/// moto) refuse to import a certificate that is already expired or not yet valid.
pub fn self_signed(
    domain: &str,
    sans: &[&str],
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
) -> Result<GeneratedCert> {
    let params = leaf_params(domain, sans, not_before, not_after)?;
    let key = KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    Ok(GeneratedCert {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// Like [`self_signed`], but issued by a freshly generated CA
/// ("zonewarden test CA") whose validity covers the leaf's; the CA certificate
/// is returned as the chain.
pub fn ca_signed(
    domain: &str,
    sans: &[&str],
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
) -> Result<CaSignedCert> {
    let mut ca_params = CertificateParams::default();
    ca_params.distinguished_name = rcgen::DistinguishedName::new();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "zonewarden test CA");
    ca_params
        .distinguished_name
        .push(DnType::OrganizationName, "zonewarden testkit");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    set_validity(
        &mut ca_params,
        not_before - chrono::Duration::days(1),
        not_after + chrono::Duration::days(365),
    )?;
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;

    let mut params = leaf_params(domain, sans, not_before, not_after)?;
    params.use_authority_key_identifier_extension = true;
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &ca)?;
    Ok(CaSignedCert {
        leaf: GeneratedCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        },
        chain_pem: ca.pem(),
    })
}

fn leaf_params(
    domain: &str,
    sans: &[&str],
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
) -> Result<CertificateParams> {
    if domain.is_empty() {
        return Err(TestkitError::Invalid("empty certificate domain".to_owned()));
    }
    let mut names = vec![domain.to_owned()];
    for san in sans {
        if !names.iter().any(|n| n == san) {
            names.push((*san).to_owned());
        }
    }
    let mut params = CertificateParams::new(names)?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, domain);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    set_validity(&mut params, not_before, not_after)?;
    Ok(params)
}

/// Sets `not_before`/`not_after` from chrono times. rcgen takes
/// `time::OffsetDateTime`, a crate this one does not depend on: the values are
/// built from rcgen's own `date_time_ymd` plus a `std::time::Duration`.
fn set_validity(
    params: &mut CertificateParams,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
) -> Result<()> {
    if not_before >= not_after {
        return Err(TestkitError::Invalid(format!(
            "certificate not_before {not_before} is not before not_after {not_after}"
        )));
    }
    params.not_before = from_epoch(rcgen::date_time_ymd(1970, 1, 1), not_before)?;
    params.not_after = from_epoch(rcgen::date_time_ymd(1970, 1, 1), not_after)?;
    Ok(())
}

/// `epoch` shifted by `at`'s Unix time, in whole seconds. Generic so that the
/// `time` type never has to be named.
fn from_epoch<T>(epoch: T, at: DateTime<Utc>) -> Result<T>
where
    T: Add<StdDuration, Output = T> + Sub<StdDuration, Output = T>,
{
    // X.509 GeneralizedTime has four-digit years; `time` panics beyond ±9999.
    if !(1..=9999).contains(&at.year()) {
        return Err(TestkitError::DateOutOfRange(at.to_rfc3339()));
    }
    let secs = at.timestamp();
    let offset = StdDuration::from_secs(secs.unsigned_abs());
    Ok(if secs >= 0 {
        epoch + offset
    } else {
        epoch - offset
    })
}

/// A self-signed CA certificate named `name`, valid from `not_before` to
/// `not_after` (a private CA's own certificate, to install in moto's ACM
/// Private CA).
pub fn ca_certificate(
    name: &str,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
) -> Result<GeneratedCert> {
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    set_validity(&mut params, not_before, not_after)?;
    let key = KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    Ok(GeneratedCert {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// A CA that issues several leaves (the TLS world's trusted and untrusted
/// issuers).
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

impl TestCa {
    /// A CA named `name`, valid from a year before `now` for ten years.
    pub fn new(name: &str, now: DateTime<Utc>) -> Result<Self> {
        let mut params = CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        set_validity(
            &mut params,
            now - chrono::Duration::days(365),
            now + chrono::Duration::days(3650),
        )?;
        Ok(Self {
            issuer: CertifiedIssuer::self_signed(params, KeyPair::generate()?)?,
        })
    }

    /// The CA certificate, PEM.
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A leaf for `domain` plus `sans`, issued by this CA.
    pub fn leaf(
        &self,
        domain: &str,
        sans: &[&str],
        not_before: DateTime<Utc>,
        not_after: DateTime<Utc>,
    ) -> Result<GeneratedCert> {
        let mut params = leaf_params(domain, sans, not_before, not_after)?;
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(GeneratedCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}
