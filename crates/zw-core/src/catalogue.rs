//! The findings catalogue. Every code users can see is a variant here, and the
//! exhaustive matches below give it an id, a default severity, a title and the
//! text of `docs/findings.md`: a code without documentation does not compile.
//!
//! Codes are a public contract (users build alarms and suppressions on them):
//! never rename one, only add.

use crate::severity::Severity;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Which check family (and so which collection) evaluates a code. A finding is
/// only resolved by a scan whose collection for its family and region succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// ACM `ListCertificates` / `DescribeCertificate` in one region.
    Certificates,
    /// The above plus Route 53 zone and record listings.
    ValidationRecords,
}

impl Check {
    /// The check family that evaluates it (its `Family::name`).
    pub fn family(self) -> &'static str {
        match self {
            Self::Certificates | Self::ValidationRecords => "certificates",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FindingCode {
    CertExpiring,
    CertExpired,
    CertImportedExpiring,
    CertRenewalIneligible,
    CertRenewalFailed,
    CertValidationRecordMissing,
    CertValidationZoneUnknown,
    CertValidationRecordShared,
    CertPendingValidation,
    CertValidationTimedOut,
    CertFailed,
    CertRevoked,
    CertUnused,
}

/// Catalogue text for one code.
#[derive(Debug, Clone, Copy)]
pub struct CodeDoc {
    pub title: &'static str,
    pub meaning: &'static str,
    pub why: &'static str,
    pub fix: &'static str,
}

impl FindingCode {
    pub const ALL: [FindingCode; 13] = [
        Self::CertExpiring,
        Self::CertExpired,
        Self::CertImportedExpiring,
        Self::CertRenewalIneligible,
        Self::CertRenewalFailed,
        Self::CertValidationRecordMissing,
        Self::CertValidationZoneUnknown,
        Self::CertValidationRecordShared,
        Self::CertPendingValidation,
        Self::CertValidationTimedOut,
        Self::CertFailed,
        Self::CertRevoked,
        Self::CertUnused,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Self::CertExpiring => "cert.expiring",
            Self::CertExpired => "cert.expired",
            Self::CertImportedExpiring => "cert.imported-expiring",
            Self::CertRenewalIneligible => "cert.renewal-ineligible",
            Self::CertRenewalFailed => "cert.renewal-failed",
            Self::CertValidationRecordMissing => "cert.validation-record-missing",
            Self::CertValidationZoneUnknown => "cert.validation-zone-unknown",
            Self::CertValidationRecordShared => "cert.validation-record-shared",
            Self::CertPendingValidation => "cert.pending-validation",
            Self::CertValidationTimedOut => "cert.validation-timed-out",
            Self::CertFailed => "cert.failed",
            Self::CertRevoked => "cert.revoked",
            Self::CertUnused => "cert.unused",
        }
    }

    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.id() == id)
    }

    pub fn check(self) -> Check {
        match self {
            Self::CertValidationRecordMissing
            | Self::CertValidationZoneUnknown
            | Self::CertValidationRecordShared => Check::ValidationRecords,
            Self::CertExpiring
            | Self::CertExpired
            | Self::CertImportedExpiring
            | Self::CertRenewalIneligible
            | Self::CertRenewalFailed
            | Self::CertPendingValidation
            | Self::CertValidationTimedOut
            | Self::CertFailed
            | Self::CertRevoked
            | Self::CertUnused => Check::Certificates,
        }
    }

    /// The severity a finding gets unless its rule grades it (expiry codes
    /// escalate as the end date approaches; see the rule).
    pub fn default_severity(self) -> Severity {
        match self {
            Self::CertExpired => Severity::Critical,
            Self::CertRevoked => Severity::Critical,
            Self::CertExpiring => Severity::Medium,
            Self::CertImportedExpiring => Severity::Medium,
            Self::CertRenewalIneligible => Severity::High,
            Self::CertRenewalFailed => Severity::High,
            Self::CertValidationRecordMissing => Severity::High,
            Self::CertPendingValidation => Severity::Medium,
            Self::CertValidationTimedOut => Severity::Medium,
            Self::CertFailed => Severity::Medium,
            Self::CertValidationRecordShared => Severity::Low,
            Self::CertValidationZoneUnknown => Severity::Info,
            Self::CertUnused => Severity::Info,
        }
    }

    pub fn doc(self) -> CodeDoc {
        match self {
            Self::CertExpiring => CodeDoc {
                title: "Certificate expires soon",
                meaning: "An ACM-issued or private certificate ends within the expiry thresholds (defaults: 30 days medium, 14 high, 7 critical; `ZW_EXPIRY_DAYS`). ACM starts managed renewal 60 days before the end date, so a certificate this close to the end has not renewed.",
                why: "When it expires, every client of the load balancer, CloudFront distribution or API that serves it gets a TLS error: an outage.",
                fix: "Look for a companion finding that says why renewal has not happened (`cert.renewal-ineligible`, `cert.renewal-failed`, `cert.validation-record-missing`) and fix that. If the certificate is no longer needed, delete it.",
            },
            Self::CertExpired => CodeDoc {
                title: "Certificate has expired",
                meaning: "The certificate's `NotAfter` is in the past (or ACM reports `EXPIRED`). This finding stays open, and `MinDaysToExpiry` keeps reporting a negative number, for as long as the certificate exists; ACM's own `DaysToExpiry` metric stops being emitted at expiry, so alarms on it go quiet exactly now.",
                why: "Anything still serving it is failing TLS handshakes now.",
                fix: "Request or import a replacement, attach it where the old one is used (see `in_use_by` in the evidence), then delete the expired certificate, which resolves this finding.",
            },
            Self::CertImportedExpiring => CodeDoc {
                title: "Imported certificate expires soon",
                meaning: "An imported certificate ends within `ZW_IMPORTED_WARN_DAYS` (default 60) days; severity rises to high and critical at the expiry thresholds. ACM never renews imported certificates.",
                why: "Nothing in AWS will replace it: someone must obtain a new certificate from the issuing CA and re-import it before the end date.",
                fix: "Obtain a new certificate from the CA and re-import it into the same ARN (`aws acm import-certificate --certificate-arn ...`) so that every user of the ARN picks it up; or move to an ACM-issued certificate, which renews itself.",
            },
            Self::CertRenewalIneligible => CodeDoc {
                title: "Certificate is not eligible for managed renewal",
                meaning: "An Amazon-issued certificate inside the 60-day renewal window has `RenewalEligibility` = `INELIGIBLE`. ACM only renews certificates that are associated with another AWS service.",
                why: "ACM will let it expire. If something outside AWS's view depends on it (or it is about to be attached), it will break at expiry.",
                fix: "Associate it with the resource that should use it (ALB listener, CloudFront, API Gateway), which makes it eligible; or delete it if it is truly unused.",
            },
            Self::CertRenewalFailed => CodeDoc {
                title: "Managed renewal failed or is stuck",
                meaning: "ACM's `RenewalSummary` reports `FAILED`, or `PENDING_VALIDATION` for longer than `ZW_PENDING_VALIDATION_HOURS` (default 24). The evidence carries `RenewalStatusReason` (for example `CAA_ERROR`, `DOMAIN_VALIDATION_DENIED`).",
                why: "The certificate will expire unless the cause is fixed before the end date.",
                fix: "Read the reason in the evidence. `CAA_ERROR`: add a CAA record allowing `amazon.com` (or `amazontrust.com`, `awstrust.com`, `amazonaws.com`). Validation reasons: restore the validation CNAMEs (see `cert.validation-record-missing`). Then wait for ACM's next retry or re-request.",
            },
            Self::CertValidationRecordMissing => CodeDoc {
                title: "DNS validation record missing or wrong",
                meaning: "A DNS-validated certificate's validation CNAME (from `DomainValidationOptions[].ResourceRecord`) is absent from the Route 53 hosted zone that covers its name, or points somewhere else. The evidence names each record, the expected value, what the zone holds and the zone.",
                why: "ACM re-validates control of every name at each renewal using these CNAMEs. Without them the next renewal fails and the certificate expires.",
                fix: "Recreate the CNAME exactly as shown in the evidence (ACM console: *Create records in Route 53*), and keep it for as long as the certificate exists.",
            },
            Self::CertValidationZoneUnknown => CodeDoc {
                title: "No hosted zone of this account covers a validation record",
                meaning: "A DNS-validated certificate's validation CNAME falls in no public Route 53 hosted zone of this account, so zonewarden cannot check it (the domain's DNS may be hosted elsewhere or in another account).",
                why: "Renewal depends on a record nobody here is watching.",
                fix: "If the zone lives in another account, deploy zonewarden there too; if DNS is hosted outside Route 53, make sure the CNAME stays there. No action is needed if this is known.",
            },
            Self::CertValidationRecordShared => CodeDoc {
                title: "Validation record is shared with other certificates",
                meaning: "The same validation CNAME is relied on by several certificates (ACM derives it from the domain and the account, so certificates covering the same name share it). The evidence lists the other certificates.",
                why: "Deleting the record while cleaning up one certificate silently breaks the renewal of the others.",
                fix: "Nothing to fix now; remember it when deleting certificates or records. Delete the record only once no certificate in the evidence needs it.",
            },
            Self::CertPendingValidation => CodeDoc {
                title: "Certificate stuck in pending validation",
                meaning: "A requested certificate has been `PENDING_VALIDATION` for longer than `ZW_PENDING_VALIDATION_HOURS` (default 24).",
                why: "ACM gives up after 72 hours (`VALIDATION_TIMED_OUT`); whatever waits for the certificate (a deployment, a new domain) is blocked.",
                fix: "Create the validation CNAMEs shown in the ACM console (or answer the validation e-mail), and check CAA records allow Amazon.",
            },
            Self::CertValidationTimedOut => CodeDoc {
                title: "Certificate validation timed out",
                meaning: "ACM stopped waiting for domain validation (`VALIDATION_TIMED_OUT`); the certificate will never be issued.",
                why: "Whoever requested it does not have a certificate, and this dead request clutters the account.",
                fix: "Delete it and request a new certificate once validation records are in place.",
            },
            Self::CertFailed => CodeDoc {
                title: "Certificate request failed",
                meaning: "ACM reports `FAILED`; the evidence has `FailureReason` (for example `CAA_ERROR`, `ADDITIONAL_VERIFICATION_REQUIRED`, `DOMAIN_NOT_ALLOWED`).",
                why: "The certificate will never be issued.",
                fix: "Fix the reason given, delete the failed certificate and request a new one.",
            },
            Self::CertRevoked => CodeDoc {
                title: "Certificate has been revoked",
                meaning: "ACM reports `REVOKED`; the evidence has the revocation reason. Severity is critical while the certificate is in use, medium when nothing uses it.",
                why: "Clients that check revocation reject it.",
                fix: "Replace it wherever it is used (`in_use_by`), then delete it.",
            },
            Self::CertUnused => CodeDoc {
                title: "Issued certificate is not in use",
                meaning: "An issued certificate has no `InUseBy` association.",
                why: "ACM does not renew Amazon-issued certificates that are not in use, so it will expire; unused certificates also widen what an attacker can attach.",
                fix: "Attach it to what should use it, or delete it.",
            },
        }
    }

    /// Renders the catalogue as `docs/findings.md`. A test keeps the file in step.
    pub fn render_markdown() -> String {
        let mut out = String::from(
            "# Findings catalogue\n\n\
             <!-- Generated from crates/zw-core/src/catalogue.rs: edit there, then run\n\
             `ZW_BLESS=1 cargo test -p zw-core catalogue` to refresh this file. -->\n\n\
             Every problem zonewarden reports is a finding with a stable code. Codes are never renamed:\n\
             build alarms and suppressions on them. Each finding carries the code, a severity\n\
             (`critical`, `high`, `medium`, `low`, `info`), the resource (ARN and domain), a region, a\n\
             message, the evidence that triggered it, `first_seen`, `last_seen` and a state (`open`,\n\
             `resolved`).\n\n\
             | code | default severity | title |\n|---|---|---|\n",
        );
        for code in Self::ALL {
            out.push_str(&format!(
                "| [`{}`](#{}) | {} | {} |\n",
                code.id(),
                code.id().replace('.', ""),
                code.default_severity(),
                code.doc().title
            ));
        }
        for code in Self::ALL {
            let doc = code.doc();
            out.push_str(&format!(
                "\n## `{}`\n\n**{}** — default severity `{}`.\n\n- **What it means:** {}\n- **Why it matters:** {}\n- **How to fix:** {}\n",
                code.id(),
                doc.title,
                code.default_severity(),
                doc.meaning,
                doc.why,
                doc.fix
            ));
        }
        out
    }
}

impl fmt::Display for FindingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for FindingCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

impl<'de> Deserialize<'de> for FindingCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let id = String::deserialize(d)?;
        Self::from_id(&id)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown finding code `{id}`")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_shaped_area_dot_kebab() {
        let mut seen = std::collections::HashSet::new();
        for code in FindingCode::ALL {
            let id = code.id();
            assert!(seen.insert(id), "duplicate id {id}");
            let (area, name) = id.split_once('.').expect("area.name");
            assert!(area.chars().all(|c| c.is_ascii_lowercase()), "{id}");
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{id}"
            );
            assert_eq!(FindingCode::from_id(id), Some(code));
        }
    }

    /// docs/findings.md is generated from this module; a stale file fails here.
    #[test]
    fn catalogue_doc_matches_the_code() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/findings.md");
        let rendered = FindingCode::render_markdown();
        if std::env::var_os("ZW_BLESS").is_some() {
            std::fs::write(path, &rendered).expect("write docs/findings.md");
        }
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            on_disk == rendered,
            "docs/findings.md is stale: run `ZW_BLESS=1 cargo test -p zw-core catalogue`"
        );
    }
}
