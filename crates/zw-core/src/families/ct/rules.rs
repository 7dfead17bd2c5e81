//! The watch's pure rules: whether a logged certificate is one the estate
//! knows, and whether the CAA in force allowed its issuer.

use super::caa::{self, CaaVerdict};
use super::model::{KnownCertificates, Violation};
use super::search::{LoggedCertificate, within};
use crate::catalogue::FindingCode;
use crate::finding::{Detection, Resource, ResourceKind};
use crate::model::Region;
use chrono::{DateTime, Utc};
use serde_json::json;

/// Names listed in a finding's evidence at most.
const EVIDENCE_NAMES: usize = 20;

/// What the watch makes of one logged certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judgement {
    /// Its serial is one of the estate's certificates.
    Known,
    /// Its issuer is one the operator declared expected.
    ExpectedIssuer,
    /// Logged after the estate's inventories were last written: it may be
    /// ours and not seen yet; judged at the next run.
    NotYetKnown,
    /// No longer valid at the scan's time.
    Expired,
    Unexpected,
}

/// Whether the issuer (a DN as crt.sh writes it) is one of `expected`
/// (lower case): a CAA issuer domain of the CA, or its organisation or
/// common name, compared whole and without case.
pub fn issuer_expected(issuer: &str, expected: &[String]) -> bool {
    if expected.is_empty() {
        return false;
    }
    let domains = caa::issuer_domains(issuer).unwrap_or_default();
    let attributes = caa::attributes(issuer);
    expected.iter().any(|e| {
        domains.iter().any(|d| d.eq_ignore_ascii_case(e))
            || attributes
                .iter()
                .filter(|(k, _)| k == "O" || k == "CN")
                .any(|(_, v)| v.to_lowercase() == *e)
    })
}

/// Judges a logged certificate against the estate at `now`.
pub fn judge(
    certificate: &LoggedCertificate,
    known: &KnownCertificates,
    expected: &[String],
    now: DateTime<Utc>,
) -> Judgement {
    if certificate.not_after.is_some_and(|end| end <= now) {
        Judgement::Expired
    } else if known.serials.contains(&certificate.serial) {
        Judgement::Known
    } else if issuer_expected(&certificate.issuer, expected) {
        Judgement::ExpectedIssuer
    } else if known
        .as_of
        .is_none_or(|as_of| certificate.logged_at >= as_of)
    {
        Judgement::NotYetKnown
    } else {
        Judgement::Unexpected
    }
}

/// The certificate's names at or below `apex` (the search answers names
/// that merely end like it too: `notexample.com`).
pub fn names_within<'a>(certificate: &'a LoggedCertificate, apex: &str) -> Vec<&'a str> {
    certificate
        .names
        .iter()
        .map(String::as_str)
        .filter(|n| within(n, apex))
        .collect()
}

/// The resource of a logged certificate, per apex (a certificate for two
/// zones is a finding in each).
fn resource(apex: &str, certificate: &LoggedCertificate) -> Resource {
    let first = names_within(certificate, apex)
        .first()
        .map(|n| (*n).to_owned())
        .unwrap_or_else(|| apex.to_owned());
    Resource {
        kind: ResourceKind::LoggedCertificate,
        id: format!("{apex}/{}", certificate.serial),
        name: first,
    }
}

fn evidence(apex: &str, certificate: &LoggedCertificate) -> serde_json::Value {
    let names = names_within(certificate, apex);
    json!({
        "serial": certificate.serial,
        "issuer": certificate.issuer,
        "names": names.iter().take(EVIDENCE_NAMES).collect::<Vec<_>>(),
        "names_total": names.len(),
        "not_before": certificate.not_before,
        "not_after": certificate.not_after,
        "logged_at": certificate.logged_at,
        "log_entries": certificate.ids,
    })
}

fn described(apex: &str, certificate: &LoggedCertificate) -> String {
    let names = names_within(certificate, apex);
    let first = names.first().copied().unwrap_or(apex);
    let more = match names.len() {
        0 | 1 => String::new(),
        n => format!(" and {} more name{}", n - 1, if n == 2 { "" } else { "s" }),
    };
    format!(
        "a certificate for {first}{more} issued by {} (serial {}), logged on {}",
        certificate.issuer,
        certificate.serial,
        certificate.logged_at.format("%Y-%m-%d %H:%M UTC")
    )
}

/// `ct.unexpected-certificate` for an `Unexpected` certificate.
pub fn unexpected(apex: &str, certificate: &LoggedCertificate) -> Detection {
    let code = FindingCode::CtUnexpectedCertificate;
    Detection {
        code,
        severity: code.default_severity(),
        resource: resource(apex, certificate),
        region: Region::global(),
        scope: apex.to_owned(),
        message: format!(
            "Certificate Transparency shows {}: it is not an ACM certificate of a scanned account, no probed endpoint serves it, and its issuer is not in ZW_CT_EXPECTED_ISSUERS.",
            described(apex, certificate)
        ),
        evidence: evidence(apex, certificate),
    }
}

/// The violation, if the CAA in force forbade the certificate's issuer for
/// `name`: `current` is the relevant record set now (found at `caa_at`),
/// `previous` the one seen at the last search when there is one. Both must
/// forbid it, since the certificate was issued somewhen between the two:
/// a CAA changed in the meantime proves nothing. An issuer not recognised
/// (`caa::issuer_domains`) is never judged.
pub fn caa_violation(
    certificate: &LoggedCertificate,
    name: &str,
    caa_at: &str,
    current: &[String],
    previous: Option<&[String]>,
) -> Option<Violation> {
    let domains = caa::issuer_domains(&certificate.issuer)?;
    let wildcard = name.starts_with("*.");
    let CaaVerdict::Forbidden { tag, allowed } = caa::verdict(current, wildcard, domains) else {
        return None;
    };
    if previous.is_some_and(|p| caa::verdict(p, wildcard, domains) == CaaVerdict::Allowed) {
        return None;
    }
    Some(Violation {
        certificate: certificate.clone(),
        name: name.to_owned(),
        caa_at: caa_at.to_owned(),
        tag: tag.to_owned(),
        allowed,
        records: current.to_vec(),
    })
}

/// `ct.caa-violation` for a violation still valid.
pub fn violation(apex: &str, v: &Violation) -> Detection {
    let code = FindingCode::CtCaaViolation;
    let allowed = if v.allowed.is_empty() {
        "no CA".to_owned()
    } else {
        v.allowed.join(", ")
    };
    let mut evidence = evidence(apex, &v.certificate);
    if let Some(map) = evidence.as_object_mut() {
        map.insert("name".into(), json!(v.name));
        map.insert("caa_at".into(), json!(v.caa_at));
        map.insert("tag".into(), json!(v.tag));
        map.insert("allowed".into(), json!(v.allowed));
        map.insert("records".into(), json!(v.records));
    }
    Detection {
        code,
        severity: code.default_severity(),
        resource: resource(apex, &v.certificate),
        region: Region::global(),
        scope: apex.to_owned(),
        message: format!(
            "Certificate Transparency shows {}, but the CAA at {} (`{}` allows {allowed}) does not allow that CA to issue for {}.",
            described(apex, &v.certificate),
            v.caa_at,
            v.tag,
            v.name
        ),
        evidence,
    }
}
