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
    /// Route 53's configuration of one hosted zone (scope: the zone id).
    DnsInventory,
    /// The parent zone's delegation of one hosted zone (scope: the zone id).
    DnsDelegation,
    /// The zone's name servers' answers to its configured names and types
    /// (scope: the zone id).
    DnsAnswers,
    /// Targets of the zone's records: resolution, the account's endpoints,
    /// buckets, AWS address ranges, subdomain delegations (scope: the zone id).
    DnsDangling,
    /// CAA lookups for a certificate's names (scope: the certificate ARN) or a
    /// zone apex (scope: the zone id).
    DnsCaa,
    /// `GetDNSSEC` of one zone (scope: the zone id).
    DnsDnssec,
    /// What the internet sees of a zone's DNSSEC chain: the parent's DS
    /// records and the servers' signatures (scope: the zone id).
    DnsDnssecChain,
    /// The expectations document's answers (scope: `expectations`).
    DnsExpectations,
    /// `ListHealthChecks` and `GetHealthCheckStatus` (scope: `global`).
    HealthStatus,
    /// Our own status history of each health check, kept in the table
    /// (scope: `global`).
    HealthHistory,
    /// What refers to each health check: record sets of every zone,
    /// calculated health checks, CloudWatch alarms in us-east-1 (scope:
    /// `global`).
    HealthReferences,
    /// Failover record sets of one zone and their health checks (scope: the
    /// zone id).
    HealthFailover,
    /// `GetDomainDetail` of one registered domain (scope: the domain's name).
    DomainRegistration,
    /// `GetContactReachabilityStatus` of one registered domain (scope: the
    /// domain's name).
    DomainContact,
    /// A registered domain's name servers against the delegation sets of
    /// the account's public hosted zones of that name (scope: the domain's
    /// name).
    DomainDelegation,
    /// `ListCertificateAuthorities` of ACM Private CA in one region (scope:
    /// the region).
    PrivateCa,
    /// `ListServerCertificates` and `GetServerCertificate` of IAM, with what
    /// serves them (scope: `global`).
    IamServerCertificates,
    /// SPF of one mail name, followed through its includes over the real DNS (scope: the name).
    MailSpf,
    /// The DMARC policy that applies to one mail name (scope: the name).
    MailDmarc,
    /// A name without mail against spoofing: its MX, SPF and DMARC (scope: the name).
    MailSpoofing,
    /// `ListEmailIdentities`/`GetEmailIdentity` of Amazon SES v2 and each Easy DKIM CNAME of one domain identity (scope: `<region>/<domain>`).
    MailDkim,
    /// MTA-STS of one mail name: its record, policy file and TLS-RPT (scope: the name).
    MailMtaSts,
    /// The certificates Certificate Transparency logged for one public zone
    /// apex and its names, against the estate's own (scope: the apex).
    CtIssuance,
    /// The CAA in force against the issuers of the certificates logged since
    /// the last search (scope: the apex).
    CtCaa,
    /// `ListQueryLoggingConfigs` of Route 53 against the public hosted zones
    /// (scope: the zone id).
    QueryLogging,
    /// One window of a public hosted zone's query log, judged against its
    /// inventory and history (scope: the zone id).
    QueryLogTraffic,
    /// One window of the Route 53 Resolver query logs of one region (scope:
    /// `resolver/<region>`).
    ResolverQueryLogs,
    /// TLS handshakes with the endpoints a zone's records point at (scope:
    /// the zone id), or with the configured extra targets (scope:
    /// `tls-targets`).
    TlsEndpoints,
    /// Every certificate's names against every zone's names (scope: `global`).
    TlsCoverage,
    /// The deployment's license, judged at the start of every scan (scope:
    /// `license`), and the estate's size against it (scopes
    /// `license/zones`, `license/certificates`).
    License,
    /// The suppressions against the findings they cover (scope:
    /// `suppressions`), judged by every scan of the deployment's own
    /// findings.
    Suppressions,
}

impl Check {
    pub const ALL: [Check; 33] = [
        Self::Certificates,
        Self::ValidationRecords,
        Self::DnsInventory,
        Self::DnsDelegation,
        Self::DnsAnswers,
        Self::DnsDangling,
        Self::DnsCaa,
        Self::DnsDnssec,
        Self::DnsDnssecChain,
        Self::DnsExpectations,
        Self::HealthStatus,
        Self::HealthHistory,
        Self::HealthReferences,
        Self::HealthFailover,
        Self::DomainRegistration,
        Self::DomainContact,
        Self::DomainDelegation,
        Self::PrivateCa,
        Self::IamServerCertificates,
        Self::MailSpf,
        Self::MailDmarc,
        Self::MailSpoofing,
        Self::MailDkim,
        Self::MailMtaSts,
        Self::CtIssuance,
        Self::CtCaa,
        Self::QueryLogging,
        Self::QueryLogTraffic,
        Self::ResolverQueryLogs,
        Self::TlsEndpoints,
        Self::TlsCoverage,
        Self::License,
        Self::Suppressions,
    ];

    /// The check family that evaluates it (its `Family::name`).
    pub fn family(self) -> &'static str {
        match self {
            Self::Certificates | Self::ValidationRecords => "certificates",
            Self::DnsInventory
            | Self::DnsDelegation
            | Self::DnsAnswers
            | Self::DnsDangling
            | Self::DnsCaa
            | Self::DnsDnssec
            | Self::DnsDnssecChain
            | Self::DnsExpectations => "dns",
            Self::HealthStatus
            | Self::HealthHistory
            | Self::HealthReferences
            | Self::HealthFailover => "health",
            Self::DomainRegistration | Self::DomainContact | Self::DomainDelegation => "domains",
            Self::PrivateCa => "private-ca",
            Self::IamServerCertificates => "iam-certificates",
            Self::MailSpf
            | Self::MailDmarc
            | Self::MailSpoofing
            | Self::MailDkim
            | Self::MailMtaSts => "mail",
            Self::CtIssuance | Self::CtCaa => "ct",
            Self::QueryLogging | Self::QueryLogTraffic | Self::ResolverQueryLogs => "query-logs",
            Self::TlsEndpoints | Self::TlsCoverage => "endpoints",
            Self::License => "license",
            Self::Suppressions => "zonewarden",
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
    DnsDelegationMismatch,
    DnsDelegationPartial,
    DnsZoneNotDelegated,
    DnsNameserverUnreachable,
    DnsNameserverNotProbed,
    DnsRecordDrift,
    DnsRecordMissing,
    DnsSoaSerialMismatch,
    DnsDanglingTarget,
    DnsCaaBlocksAcm,
    DnsDnssecActionNeeded,
    DnsDnssecDsMismatch,
    DnsDnssecSignatureExpiring,
    DnsExpectationFailed,
    DnsZoneNearRecordLimit,
    HealthUnhealthy,
    HealthFlapping,
    HealthOrphaned,
    HealthDisabled,
    HealthInverted,
    HealthFailoverUnprotected,
    HealthNoAlarm,
    HealthFewRegions,
    DomainExpiring,
    DomainAutoRenewOff,
    DomainTransferLockOff,
    DomainContactUnverified,
    DomainNameserversMismatch,
    DomainPrivacyOff,
    PcaCaExpiring,
    PcaCaDisabled,
    PcaCaPendingCertificate,
    PcaNoRevocation,
    IamServerCertificateExpiring,
    IamServerCertificateExpired,
    MailSpfMissing,
    MailSpfMultiple,
    MailSpfInvalid,
    MailSpfTooManyLookups,
    MailSpfPermissive,
    MailSpfVoidLookups,
    MailDmarcMissing,
    MailDmarcInvalid,
    MailDmarcMonitorOnly,
    MailDmarcReportUnauthorized,
    MailDkimSesMissing,
    MailDkimSesFailed,
    MailMtaStsBroken,
    MailTlsRptMissing,
    MailSpoofableDomain,
    CtUnexpectedCertificate,
    CtCaaViolation,
    QuerylogLoggingOff,
    QuerylogServfail,
    QuerylogNxdomainSpike,
    QuerylogMissingName,
    QuerylogLikelyTypo,
    QuerylogDeletedRecordQueried,
    QuerylogResolverNxdomainStorm,
    TlsExpiring,
    TlsExpired,
    TlsHostnameMismatch,
    TlsUntrustedChain,
    TlsHandshakeFailed,
    TlsEndpointNotProbed,
    TlsNotAcmCertificate,
    TlsNameNotCovered,
    CertSanNotInDns,
    LicenseInvalid,
    LicenseGrace,
    LicenseFreeTierLimit,
    LicenseLimitExceeded,
    SuppressionUnused,
    SuppressionEnding,
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
    pub const ALL: [FindingCode; 87] = [
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
        Self::DnsDelegationMismatch,
        Self::DnsDelegationPartial,
        Self::DnsZoneNotDelegated,
        Self::DnsNameserverUnreachable,
        Self::DnsNameserverNotProbed,
        Self::DnsRecordDrift,
        Self::DnsRecordMissing,
        Self::DnsSoaSerialMismatch,
        Self::DnsDanglingTarget,
        Self::DnsCaaBlocksAcm,
        Self::DnsDnssecActionNeeded,
        Self::DnsDnssecDsMismatch,
        Self::DnsDnssecSignatureExpiring,
        Self::DnsExpectationFailed,
        Self::DnsZoneNearRecordLimit,
        Self::HealthUnhealthy,
        Self::HealthFlapping,
        Self::HealthOrphaned,
        Self::HealthDisabled,
        Self::HealthInverted,
        Self::HealthFailoverUnprotected,
        Self::HealthNoAlarm,
        Self::HealthFewRegions,
        Self::DomainExpiring,
        Self::DomainAutoRenewOff,
        Self::DomainTransferLockOff,
        Self::DomainContactUnverified,
        Self::DomainNameserversMismatch,
        Self::DomainPrivacyOff,
        Self::PcaCaExpiring,
        Self::PcaCaDisabled,
        Self::PcaCaPendingCertificate,
        Self::PcaNoRevocation,
        Self::IamServerCertificateExpiring,
        Self::IamServerCertificateExpired,
        Self::MailSpfMissing,
        Self::MailSpfMultiple,
        Self::MailSpfInvalid,
        Self::MailSpfTooManyLookups,
        Self::MailSpfPermissive,
        Self::MailSpfVoidLookups,
        Self::MailDmarcMissing,
        Self::MailDmarcInvalid,
        Self::MailDmarcMonitorOnly,
        Self::MailDmarcReportUnauthorized,
        Self::MailDkimSesMissing,
        Self::MailDkimSesFailed,
        Self::MailMtaStsBroken,
        Self::MailTlsRptMissing,
        Self::MailSpoofableDomain,
        Self::CtUnexpectedCertificate,
        Self::CtCaaViolation,
        Self::QuerylogLoggingOff,
        Self::QuerylogServfail,
        Self::QuerylogNxdomainSpike,
        Self::QuerylogMissingName,
        Self::QuerylogLikelyTypo,
        Self::QuerylogDeletedRecordQueried,
        Self::QuerylogResolverNxdomainStorm,
        Self::TlsExpiring,
        Self::TlsExpired,
        Self::TlsHostnameMismatch,
        Self::TlsUntrustedChain,
        Self::TlsHandshakeFailed,
        Self::TlsEndpointNotProbed,
        Self::TlsNotAcmCertificate,
        Self::TlsNameNotCovered,
        Self::CertSanNotInDns,
        Self::LicenseInvalid,
        Self::LicenseGrace,
        Self::LicenseFreeTierLimit,
        Self::LicenseLimitExceeded,
        Self::SuppressionUnused,
        Self::SuppressionEnding,
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
            Self::DnsDelegationMismatch => "dns.delegation-mismatch",
            Self::DnsDelegationPartial => "dns.delegation-partial",
            Self::DnsZoneNotDelegated => "dns.zone-not-delegated",
            Self::DnsNameserverUnreachable => "dns.nameserver-unreachable",
            Self::DnsNameserverNotProbed => "dns.nameserver-not-probed",
            Self::DnsRecordDrift => "dns.record-drift",
            Self::DnsRecordMissing => "dns.record-missing",
            Self::DnsSoaSerialMismatch => "dns.soa-serial-mismatch",
            Self::DnsDanglingTarget => "dns.dangling-target",
            Self::DnsCaaBlocksAcm => "dns.caa-blocks-acm",
            Self::DnsDnssecActionNeeded => "dns.dnssec-action-needed",
            Self::DnsDnssecDsMismatch => "dns.dnssec-ds-mismatch",
            Self::DnsDnssecSignatureExpiring => "dns.dnssec-signature-expiring",
            Self::DnsExpectationFailed => "dns.expectation-failed",
            Self::DnsZoneNearRecordLimit => "dns.zone-near-record-limit",
            Self::HealthUnhealthy => "health.unhealthy",
            Self::HealthFlapping => "health.flapping",
            Self::HealthOrphaned => "health.orphaned",
            Self::HealthDisabled => "health.disabled",
            Self::HealthInverted => "health.inverted",
            Self::HealthFailoverUnprotected => "health.failover-unprotected",
            Self::HealthNoAlarm => "health.no-alarm",
            Self::HealthFewRegions => "health.few-regions",
            Self::DomainExpiring => "domain.expiring",
            Self::DomainAutoRenewOff => "domain.auto-renew-off",
            Self::DomainTransferLockOff => "domain.transfer-lock-off",
            Self::DomainContactUnverified => "domain.contact-unverified",
            Self::DomainNameserversMismatch => "domain.nameservers-mismatch",
            Self::DomainPrivacyOff => "domain.privacy-off",
            Self::PcaCaExpiring => "pca.ca-expiring",
            Self::PcaCaDisabled => "pca.ca-disabled",
            Self::PcaCaPendingCertificate => "pca.ca-pending-certificate",
            Self::PcaNoRevocation => "pca.no-revocation",
            Self::IamServerCertificateExpiring => "iam.server-certificate-expiring",
            Self::IamServerCertificateExpired => "iam.server-certificate-expired",
            Self::MailSpfMissing => "mail.spf-missing",
            Self::MailSpfMultiple => "mail.spf-multiple",
            Self::MailSpfInvalid => "mail.spf-invalid",
            Self::MailSpfTooManyLookups => "mail.spf-too-many-lookups",
            Self::MailSpfPermissive => "mail.spf-permissive",
            Self::MailSpfVoidLookups => "mail.spf-void-lookups",
            Self::MailDmarcMissing => "mail.dmarc-missing",
            Self::MailDmarcInvalid => "mail.dmarc-invalid",
            Self::MailDmarcMonitorOnly => "mail.dmarc-monitor-only",
            Self::MailDmarcReportUnauthorized => "mail.dmarc-report-unauthorized",
            Self::MailDkimSesMissing => "mail.dkim-ses-missing",
            Self::MailDkimSesFailed => "mail.dkim-ses-failed",
            Self::MailMtaStsBroken => "mail.mta-sts-broken",
            Self::MailTlsRptMissing => "mail.tls-rpt-missing",
            Self::MailSpoofableDomain => "mail.spoofable-domain",
            Self::CtUnexpectedCertificate => "ct.unexpected-certificate",
            Self::CtCaaViolation => "ct.caa-violation",
            Self::QuerylogLoggingOff => "querylog.logging-off",
            Self::QuerylogServfail => "querylog.servfail",
            Self::QuerylogNxdomainSpike => "querylog.nxdomain-spike",
            Self::QuerylogMissingName => "querylog.missing-name",
            Self::QuerylogLikelyTypo => "querylog.likely-typo",
            Self::QuerylogDeletedRecordQueried => "querylog.deleted-record-queried",
            Self::QuerylogResolverNxdomainStorm => "querylog.resolver-nxdomain-storm",
            Self::TlsExpiring => "tls.expiring",
            Self::TlsExpired => "tls.expired",
            Self::TlsHostnameMismatch => "tls.hostname-mismatch",
            Self::TlsUntrustedChain => "tls.untrusted-chain",
            Self::TlsHandshakeFailed => "tls.handshake-failed",
            Self::TlsEndpointNotProbed => "tls.endpoint-not-probed",
            Self::TlsNotAcmCertificate => "tls.not-acm-certificate",
            Self::TlsNameNotCovered => "tls.name-not-covered",
            Self::CertSanNotInDns => "cert.san-not-in-dns",
            Self::LicenseInvalid => "license.invalid",
            Self::LicenseGrace => "license.grace",
            Self::LicenseFreeTierLimit => "license.free-tier-limit",
            Self::LicenseLimitExceeded => "license.limit-exceeded",
            Self::SuppressionUnused => "zonewarden.suppression-unused",
            Self::SuppressionEnding => "zonewarden.suppression-ending",
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
            Self::DnsZoneNearRecordLimit => Check::DnsInventory,
            Self::DnsDelegationMismatch
            | Self::DnsDelegationPartial
            | Self::DnsZoneNotDelegated => Check::DnsDelegation,
            Self::DnsNameserverUnreachable
            | Self::DnsNameserverNotProbed
            | Self::DnsRecordDrift
            | Self::DnsRecordMissing
            | Self::DnsSoaSerialMismatch => Check::DnsAnswers,
            Self::DnsDanglingTarget => Check::DnsDangling,
            Self::DnsCaaBlocksAcm => Check::DnsCaa,
            Self::DnsDnssecActionNeeded => Check::DnsDnssec,
            Self::DnsDnssecDsMismatch | Self::DnsDnssecSignatureExpiring => Check::DnsDnssecChain,
            Self::DnsExpectationFailed => Check::DnsExpectations,
            Self::HealthUnhealthy
            | Self::HealthDisabled
            | Self::HealthInverted
            | Self::HealthFewRegions => Check::HealthStatus,
            Self::HealthFlapping => Check::HealthHistory,
            Self::HealthOrphaned | Self::HealthNoAlarm => Check::HealthReferences,
            Self::HealthFailoverUnprotected => Check::HealthFailover,
            Self::DomainExpiring
            | Self::DomainAutoRenewOff
            | Self::DomainTransferLockOff
            | Self::DomainPrivacyOff => Check::DomainRegistration,
            Self::DomainContactUnverified => Check::DomainContact,
            Self::DomainNameserversMismatch => Check::DomainDelegation,
            Self::PcaCaExpiring
            | Self::PcaCaDisabled
            | Self::PcaCaPendingCertificate
            | Self::PcaNoRevocation => Check::PrivateCa,
            Self::IamServerCertificateExpiring | Self::IamServerCertificateExpired => {
                Check::IamServerCertificates
            }
            Self::MailSpfMissing => Check::MailSpf,
            Self::MailSpfMultiple => Check::MailSpf,
            Self::MailSpfInvalid => Check::MailSpf,
            Self::MailSpfTooManyLookups => Check::MailSpf,
            Self::MailSpfPermissive => Check::MailSpf,
            Self::MailSpfVoidLookups => Check::MailSpf,
            Self::MailDmarcMissing => Check::MailDmarc,
            Self::MailDmarcInvalid => Check::MailDmarc,
            Self::MailDmarcMonitorOnly => Check::MailDmarc,
            Self::MailDmarcReportUnauthorized => Check::MailDmarc,
            Self::MailDkimSesMissing => Check::MailDkim,
            Self::MailDkimSesFailed => Check::MailDkim,
            Self::MailMtaStsBroken => Check::MailMtaSts,
            Self::MailTlsRptMissing => Check::MailMtaSts,
            Self::MailSpoofableDomain => Check::MailSpoofing,
            Self::CtUnexpectedCertificate => Check::CtIssuance,
            Self::CtCaaViolation => Check::CtCaa,
            Self::QuerylogLoggingOff => Check::QueryLogging,
            Self::QuerylogServfail
            | Self::QuerylogNxdomainSpike
            | Self::QuerylogMissingName
            | Self::QuerylogLikelyTypo
            | Self::QuerylogDeletedRecordQueried => Check::QueryLogTraffic,
            Self::QuerylogResolverNxdomainStorm => Check::ResolverQueryLogs,
            Self::TlsExpiring
            | Self::TlsExpired
            | Self::TlsHostnameMismatch
            | Self::TlsUntrustedChain
            | Self::TlsHandshakeFailed
            | Self::TlsEndpointNotProbed
            | Self::TlsNotAcmCertificate => Check::TlsEndpoints,
            Self::TlsNameNotCovered | Self::CertSanNotInDns => Check::TlsCoverage,
            Self::LicenseInvalid
            | Self::LicenseGrace
            | Self::LicenseFreeTierLimit
            | Self::LicenseLimitExceeded => Check::License,
            Self::SuppressionUnused | Self::SuppressionEnding => Check::Suppressions,
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
            Self::DnsDnssecDsMismatch => Severity::Critical,
            Self::DnsDelegationMismatch
            | Self::DnsZoneNotDelegated
            | Self::DnsNameserverUnreachable
            | Self::DnsRecordDrift
            | Self::DnsRecordMissing
            | Self::DnsDanglingTarget
            | Self::DnsCaaBlocksAcm
            | Self::DnsDnssecActionNeeded
            | Self::DnsDnssecSignatureExpiring => Severity::High,
            Self::DnsDelegationPartial
            | Self::DnsSoaSerialMismatch
            | Self::DnsExpectationFailed
            | Self::DnsZoneNearRecordLimit => Severity::Medium,
            Self::TlsExpired => Severity::Critical,
            Self::HealthUnhealthy
            | Self::HealthFailoverUnprotected
            | Self::TlsHostnameMismatch
            | Self::TlsUntrustedChain
            | Self::TlsHandshakeFailed
            | Self::TlsNotAcmCertificate => Severity::High,
            Self::HealthFlapping
            | Self::HealthDisabled
            | Self::HealthInverted
            | Self::TlsExpiring
            | Self::CertSanNotInDns => Severity::Medium,
            Self::HealthOrphaned | Self::HealthNoAlarm | Self::HealthFewRegions => Severity::Low,
            Self::TlsNameNotCovered
            | Self::LicenseFreeTierLimit
            | Self::DnsNameserverNotProbed
            | Self::TlsEndpointNotProbed => Severity::Info,
            Self::LicenseInvalid => Severity::High,
            Self::LicenseGrace | Self::LicenseLimitExceeded | Self::SuppressionEnding => {
                Severity::Low
            }
            Self::SuppressionUnused => Severity::Info,
            Self::DomainExpiring | Self::DomainContactUnverified => Severity::High,
            Self::DomainAutoRenewOff
            | Self::DomainTransferLockOff
            | Self::DomainNameserversMismatch => Severity::Medium,
            Self::DomainPrivacyOff => Severity::Info,
            Self::PcaCaExpiring => Severity::High,
            Self::PcaCaDisabled | Self::PcaCaPendingCertificate => Severity::Medium,
            Self::PcaNoRevocation => Severity::Low,
            Self::IamServerCertificateExpiring => Severity::Medium,
            Self::IamServerCertificateExpired => Severity::Critical,
            Self::MailSpfMissing => Severity::Medium,
            Self::MailSpfMultiple => Severity::High,
            Self::MailSpfInvalid => Severity::High,
            Self::MailSpfTooManyLookups => Severity::High,
            Self::MailSpfPermissive => Severity::High,
            Self::MailSpfVoidLookups => Severity::Medium,
            Self::MailDmarcMissing => Severity::Medium,
            Self::MailDmarcInvalid => Severity::High,
            Self::MailDmarcMonitorOnly => Severity::Low,
            Self::MailDmarcReportUnauthorized => Severity::Low,
            Self::MailDkimSesMissing => Severity::High,
            Self::MailDkimSesFailed => Severity::High,
            Self::MailMtaStsBroken => Severity::High,
            Self::MailTlsRptMissing => Severity::Info,
            Self::MailSpoofableDomain => Severity::Medium,
            Self::CtUnexpectedCertificate => Severity::Medium,
            Self::CtCaaViolation => Severity::High,
            Self::QuerylogLoggingOff => Severity::Info,
            Self::QuerylogServfail => Severity::High,
            Self::QuerylogNxdomainSpike => Severity::Medium,
            Self::QuerylogMissingName => Severity::Low,
            Self::QuerylogLikelyTypo => Severity::Low,
            Self::QuerylogDeletedRecordQueried => Severity::Medium,
            Self::QuerylogResolverNxdomainStorm => Severity::Medium,
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
                meaning: "A DNS-validated certificate's validation CNAME (from `DomainValidationOptions[].ResourceRecord`) is absent from the Route 53 hosted zone that covers its name, or points somewhere else. The evidence names each record, the expected value, what the zone holds and the zone. In organization mode the zone may be another account's, as that account's last DNS scan listed it: the evidence then adds `account_id`, `account_name` and `listed_at`.",
                why: "ACM re-validates control of every name at each renewal using these CNAMEs. Without them the next renewal fails and the certificate expires.",
                fix: "Recreate the CNAME exactly as shown in the evidence (ACM console: *Create records in Route 53*), and keep it for as long as the certificate exists.",
            },
            Self::CertValidationZoneUnknown => CodeDoc {
                title: "No hosted zone of this account covers a validation record",
                meaning: "A DNS-validated certificate's validation CNAME falls in no public Route 53 hosted zone of this account (in organization mode: nor in those the other scanned accounts published), or the zone that covers it delegates that part of the name to other servers (NS records below its apex: evidence `delegated_at`), so zonewarden cannot check it (the domain's DNS may be hosted outside Route 53 or in an account that is not scanned).",
                why: "Renewal depends on a record nobody here is watching.",
                fix: "If the zone lives in another account, scan that account too (organization mode, with its DNS schedule); if DNS is hosted outside Route 53, make sure the CNAME stays there. No action is needed if this is known.",
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

            Self::DnsDelegationMismatch => CodeDoc {
                title: "Parent zone delegates to other name servers",
                meaning: "The parent zone (e.g. `com.`) delegates this public hosted zone to name servers none of which are in the zone's Route 53 delegation set. Evidence: `delegated_by_parent` (the parent's NS set), `delegation_set` (Route 53's four servers), `apex_ns` (the zone's own NS record), `parent` and `parent_servers` (who answered), and `live_zone_id` when another hosted zone of the account with the same name is the one delegated to.",
                why: "Nobody on the internet asks Route 53 for this zone: every change made to it has no effect, and the names answer from whatever the parent points at (an old DNS provider, or a deleted hosted zone whose servers an attacker could claim).",
                fix: "If this zone should be live, set the domain's name servers at the registrar (Route 53 Domains: *Edit name servers*) to the four servers in `delegation_set`. If `live_zone_id` is present, this zone is a leftover duplicate: move any records you need to the live zone and delete this one.",
            },
            Self::DnsDelegationPartial => CodeDoc {
                title: "Delegation only partly matches the zone's name servers",
                meaning: "The parent's NS set for this zone and the zone's Route 53 delegation set overlap but are not equal, or they are equal but the zone's apex NS record lists other servers. Evidence: `delegated_by_parent`, `delegation_set`, `apex_ns`, `missing_at_parent` (delegation-set servers the parent does not list), `unknown_at_parent` (parent servers outside the delegation set), `apex_ns_differs`.",
                why: "Resolvers pick among the listed servers: the ones outside the delegation set do not serve this zone (answers become intermittent, or come from a stale copy), and a lame Route 53 server could be claimed by someone else's hosted zone.",
                fix: "Make the registrar's name servers, the delegation set and the apex NS record the same four servers: update the name servers at the registrar to `delegation_set`, and set the apex NS record back to the delegation set.",
            },
            Self::DnsZoneNotDelegated => CodeDoc {
                title: "Public zone is not delegated by its parent",
                meaning: "The parent zone answers authoritatively that this public hosted zone's name has no delegation (NXDOMAIN, or no NS records). Evidence: `parent`, `parent_servers`, `rcode`, `delegation_set`.",
                why: "No resolver on the internet reaches this zone: its records are invisible (a registration that lapsed, a domain never pointed at Route 53, or a zone created for a future migration). If the domain lapsed, someone else can register it.",
                fix: "If the zone is meant to be public, check the domain's registration and set its name servers at the registrar to `delegation_set`. If it was never meant to serve (a placeholder or test zone), delete it or make it private; suppress the finding if neither applies.",
            },
            Self::DnsNameserverUnreachable => CodeDoc {
                title: "A name server of the zone does not answer for it",
                meaning: "A server of the zone (from the delegation set or the apex NS record) gave no usable answer: its address could not be found, it timed out on every question, or it answered REFUSED, SERVFAIL or without the authoritative (AA) bit. Evidence: `servers`, each with `server` and `reason`, plus `failed` and `asked` question counts. Isolated timeouts of a server that otherwise answers are not reported, and neither is a question zonewarden's probe cannot ask or an answer it cannot read (a scan error instead).",
                why: "Resolvers that pick this server get failures or slow retries; a server that refuses or answers non-authoritatively usually means the apex NS record or the registrar points at a server that does not host the zone (a lame delegation).",
                fix: "Compare `server` with the zone's delegation set: remove servers that are not in it from the apex NS record and the registrar. For Route 53 servers that time out, check connectivity from where zonewarden runs before suspecting Route 53.",
            },
            Self::DnsNameserverNotProbed => CodeDoc {
                title: "A name server address of the zone is not on the internet: not asked",
                meaning: "A name server of the zone (or of a subdomain it delegates) resolves to an address that is not globally routable: loopback, private (RFC 1918, IPv6 unique local), link-local (including the instance metadata service, 169.254.169.254), carrier-grade NAT, multicast or reserved. zonewarden does not send queries there unless the range is listed in `ZW_PROBE_ALLOW_CIDRS` (the `ProbeAllowCidrs` parameter), so that a record cannot turn the probe on the network it runs in. Evidence: `servers`, each with `server` (the NS name), `address` and `reason`. Addresses you name yourself (`ZW_DNS_ROOT_HINTS`, `ZW_DNS_NAMESERVER_ADDRESSES`) are always asked.",
                why: "Resolvers on the internet cannot reach that address either: a public zone whose NS record leads to a private address is broken for everyone outside your network, or the record is a leftover of an internal setup.",
                fix: "Point the NS record (and its glue) at public addresses. If the servers are internal on purpose and zonewarden runs where it can reach them, list their range in `ProbeAllowCidrs`.",
            },
            Self::DnsRecordDrift => CodeDoc {
                title: "Name servers answer other values than Route 53 has",
                meaning: "For a configured name and type, an authoritative server of the zone answered values that differ from the record set in Route 53 (after bringing both sides to one canonical form per record type: case of names, hex digits and CAA tags, trailing dots, escapes and quoting, TXT and SPF string splitting, SvcParams order, IPv6 notation). A value zonewarden cannot read is not compared (a scan error instead). For weighted, latency, geolocation, failover, multivalue and CIDR sets, any answered value outside the union of the sets is drift; for aliases to records of the account, the target's values are expected. Evidence: `name`, `type`, `expected`, and `servers` with `server`, `expected` and `seen` for each server that differed.",
                why: "What users get is not what is configured: a server outside the delegation set still serves an old copy, a change has not propagated, or the name is answered by another zone (a delegated subdomain or a duplicate zone).",
                fix: "Look at which `server` differs: if it is not in the zone's delegation set, fix the apex NS record or the registrar (see `dns.delegation-partial`). If every server differs, check for a more specific zone or a sub-delegation answering the name.",
            },
            Self::DnsRecordMissing => CodeDoc {
                title: "Name servers say a configured record does not exist",
                meaning: "For a name and type configured in Route 53, an authoritative server of the zone answered NXDOMAIN (the name does not exist) or NOERROR without a record of that type (NODATA). Evidence: `name`, `type`, `expected`, and `servers` with `server` and `rcode`.",
                why: "Clients of that name fail to resolve it, although Route 53's console shows the record.",
                fix: "Check whether the answering `server` is in the zone's delegation set; if it is not, the delegation is the problem (`dns.delegation-mismatch`). If it is, check for a sub-delegation or a more specific hosted zone covering the name.",
            },
            Self::DnsSoaSerialMismatch => CodeDoc {
                title: "Name servers of one zone answer different SOA serials",
                meaning: "The zone's servers that answered its SOA question did not agree on the serial. Route 53 keeps one serial on all four of its servers, so a difference means some servers are not Route 53's copy of this zone. Evidence: `serials`, each with `server` and `serial`.",
                why: "Servers with another serial serve another copy of the zone (an old provider, a secondary that stopped transferring): answers depend on which server a resolver picks.",
                fix: "Remove the servers with the odd serial from the apex NS record and the registrar, so that only the delegation set serves the zone.",
            },
            Self::DnsDanglingTarget => CodeDoc {
                title: "Record points at something that no longer exists (takeover risk)",
                meaning: "A record of a public zone points at a target that is gone: a CNAME whose target does not resolve (NXDOMAIN), an S3 website or bucket endpoint whose bucket does not exist, a CloudFront, Elastic Beanstalk, load balancer or API Gateway name that is not among this account's endpoints, an A/AAAA address inside AWS's EC2 ranges that is not an address of this account, or a delegated subdomain whose servers do not serve it. Evidence: `targets`, each with `target`, `kind`, `reason` and `exploitable`.",
                why: "Whoever creates the missing resource gets your name: a bucket or Beanstalk environment with that name, a distribution with that alternate domain name, the released IP address, a hosted zone on the lame servers, or the expired target domain. They can then serve content, phish, set cookies for the parent domain and get certificates for the name.",
                fix: "Delete the record, or recreate the resource it should point at in this account. If the target belongs to another account you control, suppress the finding for this resource.",
            },
            Self::DnsCaaBlocksAcm => CodeDoc {
                title: "CAA records forbid Amazon from issuing the certificate",
                meaning: "The CAA record set that applies to a certificate's name (the name's own, or the closest parent's) or to a zone apex has `issue` records (`issuewild` for wildcard names, when present) and none allows `amazon.com`, `amazontrust.com`, `awstrust.com` or `amazonaws.com`. Evidence: `names`, each with `name`, `caa_at` (where the records were found), `records` and `tag`.",
                why: "ACM checks CAA before every issuance and renewal: the renewal will fail with `CAA_ERROR` and the certificate will expire.",
                fix: "Add `0 issue \"amazon.com\"` (and `0 issuewild \"amazon.com\"` for wildcard names) to the CAA record set at `caa_at`, next to the other CAs you use.",
            },
            Self::DnsDnssecActionNeeded => CodeDoc {
                title: "DNSSEC signing needs action",
                meaning: "Route 53's `GetDNSSEC` reports the zone's signing status or one of its key-signing keys as `ACTION_NEEDED` or `INTERNAL_FAILURE` (typically the KMS key was disabled, deleted, or its policy no longer lets Route 53 use it). Evidence: `serve_signature`, `status_message`, and `keys` with `name`, `status`, `status_message`, `kms_arn`.",
                why: "Route 53 cannot sign with that key: signatures stop being refreshed and expire, and validating resolvers then fail every name of the zone (SERVFAIL).",
                fix: "Re-enable the KMS key in us-east-1 (or restore its key policy for `dnssec-route53.amazonaws.com`), then activate the key-signing key again. Follow the status message in the evidence.",
            },
            Self::DnsDnssecDsMismatch => CodeDoc {
                title: "Parent's DS record matches no active signing key",
                meaning: "The parent zone publishes DS records for this zone, and none matches (by key tag and digest) the DS record of an ACTIVE key-signing key in Route 53 (or the zone no longer signs). Evidence: `parent_ds`, `active_ksks` with their `ds_record`, `serve_signature`.",
                why: "Validating resolvers (a large share of internet users, including Google and Cloudflare public DNS) cannot build a chain of trust and answer SERVFAIL for every name in the zone: an outage.",
                fix: "Publish the DS record of the active key-signing key (Route 53 console: *View information to create DS record*) at the registrar or parent zone, and remove the stale DS. If signing was disabled on purpose, remove the DS at the parent first and wait for its TTL.",
            },
            Self::DnsDnssecSignatureExpiring => CodeDoc {
                title: "DNSSEC signatures expire within 3 days",
                meaning: "RRSIG records served by the zone's name servers expire within 3 days of the scan (or have expired). Route 53 refreshes its signatures long before that, so they are not being refreshed. Evidence: `signatures`, each with `server`, `name`, `type_covered`, `key_tag`, `expires`.",
                why: "Once a signature expires, validating resolvers answer SERVFAIL for the names it covers.",
                fix: "Check `dns.dnssec-action-needed` and the KMS key behind the zone's key-signing key. If the signatures come from servers outside the delegation set, remove those servers from the delegation.",
            },
            Self::DnsExpectationFailed => CodeDoc {
                title: "DNS answer differs from the expectations document",
                meaning: "Iterative resolution of a name from the expectations document does not satisfy its rule: `equals` (exactly these values), `contains` (at least these values) or `must_not_exist`. Evidence: `name`, `type`, `rule`, `expected`, `seen` and `result` (`answer`, `NODATA` or `NXDOMAIN`).",
                why: "The document states what the internet must see for names that matter (mail, verification records, names hosted outside Route 53); this one does not hold.",
                fix: "Correct the record where the name is hosted, or update the expectations document if the expectation is out of date.",
            },
            Self::DnsZoneNearRecordLimit => CodeDoc {
                title: "Hosted zone is near Route 53's record-set quota",
                meaning: "The zone holds at least 90% of the record sets Route 53 allows in it: the zone's own quota as `GetHostedZoneLimit` reports it (read when a zone holding at least 90% of Route 53's default of 10,000 is listed; Route 53 only raises this quota, so smaller zones cannot be near theirs), or the default when it cannot be read. Evidence: `record_sets`, `quota`, `quota_source` (`route53`, or `default` when the quota is assumed), `percent_used`.",
                why: "At the quota, `ChangeResourceRecordSets` fails: deployments that add records (certificate validation, new services) break.",
                fix: "Remove unused records, split the zone (delegate a subdomain to its own zone), or request a higher quota through Service Quotas (`Records per hosted zone`).",
            },
            Self::HealthUnhealthy => CodeDoc {
                title: "Route 53 health check reports unhealthy",
                meaning: "Route 53 considers the endpoint unhealthy: 18% or fewer of the health checkers that observed it report success (`GetHealthCheckStatus`), or, for a calculated health check, fewer children are healthy than its threshold. Evidence: `failing_regions`, each with `region`, `checker_ip` and `status` (the reason the checker reports, e.g. `Failure: Connection timed out`), `healthy_checkers`, `checkers`, `target`.",
                why: "Every record set that uses the health check stops being answered (or fails over): users are sent elsewhere, or get no answer at all when every set of the name is unhealthy.",
                fix: "Read `status` of the failing regions: a timeout from every region means the endpoint or its security group; failures from some regions only point at routing or a firewall that allows only some of Route 53's checker ranges (allow the `ROUTE53_HEALTHCHECKS` ranges of ip-ranges.json).",
            },
            Self::HealthFlapping => CodeDoc {
                title: "Route 53 health check is flapping",
                meaning: "The health check changed between healthy and unhealthy at least `ZW_HEALTH_FLAP_TRANSITIONS` times (default 4) within `ZW_HEALTH_FLAP_WINDOW_MINUTES` (default 60), as seen by zonewarden's own scans (kept in the table; Route 53 keeps no history). Evidence: `transitions`, `window_minutes`, `changed_at`.",
                why: "A flapping check moves traffic back and forth (failover, weighted sets): users see intermittent errors and caches keep stale answers, while an alarm that needs several periods of failure never fires.",
                fix: "Find why the endpoint answers intermittently (overload, a slow dependency, a timeout close to the check's), or make the check less sensitive (`FailureThreshold`, a longer `RequestInterval`, a cheaper path).",
            },
            Self::HealthOrphaned => CodeDoc {
                title: "Health check is used by nothing",
                meaning: "No record set of any hosted zone of the account refers to the health check, no calculated health check has it as a child, and no CloudWatch alarm watches its `HealthCheckStatus` metric. Evidence: `target`, `type`.",
                why: "Route 53 bills every health check every month (more for HTTPS, string matching and fast intervals) whether or not anything uses it, and an orphaned check is often the leftover of a failover that no longer exists.",
                fix: "Delete it (`aws route53 delete-health-check --health-check-id ...`), or attach it to the record set or alarm it was made for.",
            },
            Self::HealthDisabled => CodeDoc {
                title: "Health check is disabled",
                meaning: "The health check has `Disabled` = true. Route 53 then considers it healthy, whatever the endpoint does (unless it is also inverted).",
                why: "Failover and weighted routing that rely on it keep sending traffic to an endpoint nobody checks: a disabled check is an outage waiting to be noticed by users.",
                fix: "Enable it again once the maintenance it was disabled for is over (`aws route53 update-health-check --no-disabled`), or delete it and its use.",
            },
            Self::HealthInverted => CodeDoc {
                title: "Health check is inverted",
                meaning: "The health check has `Inverted` = true: Route 53 reports healthy when the endpoint fails and unhealthy when it works.",
                why: "Inversion is a temporary trick (forcing a failover) that is easy to forget: left in place, a recovered endpoint keeps its traffic away and a broken one receives it.",
                fix: "Turn inversion off (`aws route53 update-health-check --no-inverted`) unless the evidence of why it is inverted is documented; suppress the finding then.",
            },
            Self::HealthFailoverUnprotected => CodeDoc {
                title: "Failover primary has no health check",
                meaning: "A failover record set with `Failover` = `PRIMARY` has no health check, or is an alias without `EvaluateTargetHealth`. Evidence: `name`, `type`, `set_identifier`, `alias_target`.",
                why: "Route 53 fails over only when the primary is unhealthy: without a health check the primary is always considered healthy, so the secondary is never used, however down the primary is.",
                fix: "Associate a health check with the primary record set, or (for an alias to a load balancer, CloudFront or another record) set `EvaluateTargetHealth` to true.",
            },
            Self::HealthNoAlarm => CodeDoc {
                title: "No CloudWatch alarm on the health check",
                meaning: "No CloudWatch alarm in us-east-1 watches the health check's `HealthCheckStatus` metric (namespace `AWS/Route53`, dimension `HealthCheckId`). Route 53 publishes health check metrics in us-east-1 only, so alarms created in other regions never see data. Evidence: `target`, `type`.",
                why: "Route 53 fails over silently: without an alarm nobody learns that the primary is down until the secondary fails too.",
                fix: "Create an alarm in us-east-1 on `AWS/Route53` `HealthCheckStatus` < 1 for the `HealthCheckId`, notifying your on-call topic (the Route 53 console's *Create alarm* does this). Checks that only feed a calculated check can be suppressed.",
            },
            Self::HealthFewRegions => CodeDoc {
                title: "Health check is observed from fewer than 3 regions",
                meaning: "The health check is configured with fewer than 3 checker regions, or fewer than 3 regions report observations for it. Evidence: `configured_regions`, `observed_regions`.",
                why: "Route 53 decides health from the share of checkers that succeed: with one or two regions a network problem near a checker region, not the endpoint, decides where traffic goes.",
                fix: "Use Route 53's default checker regions (all of them) or at least 3 regions near your users (`Regions` of the health check).",
            },
            Self::DomainExpiring => CodeDoc {
                title: "Domain registration ends soon",
                meaning: "A domain registered with Route 53 Domains ends within the domain expiry thresholds (`ZW_DOMAIN_EXPIRY_DAYS`, default 60/30/14 days for medium/high/critical), or has ended. With automatic renewal on, it is flagged only inside the high threshold: Route 53 renews such domains before then, so one still this close has not renewed. Evidence: `expires`, `days_left`, `auto_renew`.",
                why: "When a registration ends, the registry stops delegating the domain: every name under it, web, mail and the certificates' validation, stops resolving. After the grace period the name can be lost to someone else.",
                fix: "Renew it (Route 53 console, *Registered domains*, *Renew*, or `aws route53domains renew-domain`) and turn automatic renewal on; if it did not renew by itself, check the account's payment method and the registrant contact's e-mail.",
            },
            Self::DomainAutoRenewOff => CodeDoc {
                title: "Domain does not renew automatically",
                meaning: "Automatic renewal is off for a domain registered with Route 53 Domains. Evidence: `expires`, `days_left`.",
                why: "Its renewal then depends on someone acting on an e-mail before the end date; forgotten domains are how outages and takeovers start.",
                fix: "`aws route53domains enable-domain-auto-renew --region us-east-1 --domain-name NAME`, or suppress this finding for a domain you mean to let go.",
            },
            Self::DomainTransferLockOff => CodeDoc {
                title: "Domain is not locked against transfer",
                meaning: "The domain's EPP statuses lack `clientTransferProhibited`, for a top-level domain whose registry offers the lock (`ZW_DOMAIN_UNLOCKABLE_TLDS` lists those that do not). Evidence: `statuses`, `tld`.",
                why: "An unlocked domain can be transferred away with its authorization code alone: a leaked code or a phished contact is enough to lose it.",
                fix: "`aws route53domains enable-domain-transfer-lock --region us-east-1 --domain-name NAME` (turn it off only while you transfer the domain on purpose).",
            },
            Self::DomainContactUnverified => CodeDoc {
                title: "Registrant contact is not verified",
                meaning: "Route 53 Domains reports the registrant contact's verification as pending (high) or expired (critical, `GetContactReachabilityStatus`). After a registration, or a change of the registrant's name or e-mail, ICANN requires the registrant to confirm the e-mail within 15 days. Evidence: `status`.",
                why: "If it is not confirmed in time, the registry suspends the domain: it stops resolving until the contact is verified.",
                fix: "Click the link in the verification e-mail sent to the registrant contact, or send it again (`aws route53domains resend-contact-reachability-email --region us-east-1 --domain-name NAME`); correct the address first if nobody reads it.",
            },
            Self::DomainNameserversMismatch => CodeDoc {
                title: "Domain's name servers are not its hosted zone's",
                meaning: "A domain registered with Route 53 Domains delegates to name servers that are not the delegation set of any public hosted zone of the same name in this account. Compared as sets of lower-case names without the trailing dot. Evidence: `registrar_name_servers`, `zones` (each zone's id and name servers).",
                why: "The world then resolves the domain with other servers: changes to the hosted zone have no effect, and if those servers stop answering (a deleted zone, an old provider) the domain goes dark.",
                fix: "Set the domain's name servers to the hosted zone's four (`aws route53domains update-domain-nameservers`), or, if the domain is meant to be served elsewhere, delete the unused hosted zone or suppress this finding for the domain.",
            },
            Self::DomainPrivacyOff => CodeDoc {
                title: "Domain contact details are public",
                meaning: "Privacy protection is off for one or more contacts of a registered domain, so WHOIS shows their name, address and e-mail (`.us` forbids privacy and is never flagged). Evidence: `contacts`.",
                why: "Public contact details feed spam and social engineering against whoever manages the domain.",
                fix: "`aws route53domains update-domain-contact-privacy --region us-east-1 --domain-name NAME --registrant-privacy --admin-privacy --tech-privacy`, or suppress this finding where publishing them is policy.",
            },
            Self::PcaCaExpiring => CodeDoc {
                title: "Private CA certificate ends soon",
                meaning: "The certificate of an ACM Private CA (root or subordinate) ends within the ACM expiry thresholds (`ZW_EXPIRY_DAYS`, default 30/14/7 days for medium/high/critical), or has ended. ACM Private CA never renews a CA's own certificate. Evidence: `not_after`, `days_left`, `type`, `issued_beyond` (the ACM certificates of the region it issued that end after it; null when they could not be read).",
                why: "When the CA certificate ends, every certificate it issued stops validating at once, whatever their own dates say, and the CA issues nothing more: internal TLS, mutual TLS and code signing that chain to it fail together.",
                fix: "Install a new CA certificate before the end: for a subordinate CA, have its parent issue one and import it (`aws acm-pca import-certificate-authority-certificate`); for a root, issue a new self-signed one and distribute it to the trust stores first. Then re-issue the certificates listed in `issued_beyond`.",
            },
            Self::PcaCaDisabled => CodeDoc {
                title: "Private CA is disabled",
                meaning: "An ACM Private CA is in the `DISABLED` state. Evidence: `status`, `type`.",
                why: "A disabled CA issues no certificate: ACM private certificates it issued cannot renew, and anything that requests certificates from it fails. A disabled CA is still billed monthly.",
                fix: "Restore it (`aws acm-pca update-certificate-authority --status ACTIVE`) if it is still used; otherwise delete it (it stays restorable for the restore period you choose) and suppress the finding meanwhile.",
            },
            Self::PcaCaPendingCertificate => CodeDoc {
                title: "Private CA has no CA certificate",
                meaning: "An ACM Private CA is in `PENDING_CERTIFICATE`: it was created, but no CA certificate was installed. Evidence: `status`, `type`.",
                why: "It cannot issue anything, yet it is billed monthly like an active CA; usually an unfinished set-up or a forgotten experiment.",
                fix: "Install its certificate (`aws acm-pca get-certificate-authority-csr`, sign it by the parent or self-sign a root, `import-certificate-authority-certificate`), or delete the CA.",
            },
            Self::PcaNoRevocation => CodeDoc {
                title: "Private CA publishes no revocation",
                meaning: "An active general-purpose ACM Private CA has neither a CRL nor OCSP enabled (`RevocationConfiguration`). CAs in short-lived certificate mode are not flagged: their certificates end within days instead. Evidence: `crl`, `ocsp`, `usage_mode`.",
                why: "A certificate revoked at such a CA (a leaked key, a decommissioned host) is still accepted by every client until it expires.",
                fix: "Enable OCSP, or a CRL in an S3 bucket the clients can reach (`aws acm-pca update-certificate-authority --revocation-configuration ...`).",
            },
            Self::IamServerCertificateExpiring => CodeDoc {
                title: "IAM server certificate expires soon",
                meaning: "A certificate uploaded to IAM (`aws iam upload-server-certificate`, used by CloudFront and load balancers before ACM, and still where ACM is not available) ends within the ACM expiry thresholds (`ZW_EXPIRY_DAYS`, default 30/14/7 days for medium/high/critical). The end date is read from the certificate body itself. Evidence: `not_after`, `days_left`, `subject`, `path`, `in_use_by` (the CloudFront distributions and load balancers that serve it; null when they could not all be listed).",
                why: "Nothing renews an IAM server certificate: when it ends, every distribution and listener in `in_use_by` fails TLS.",
                fix: "Move the listeners and distributions to an ACM certificate, which renews itself; or upload a new certificate to IAM, switch each user in `in_use_by` to it, then delete the old one.",
            },
            Self::IamServerCertificateExpired => CodeDoc {
                title: "IAM server certificate has expired",
                meaning: "A certificate uploaded to IAM has ended (read from its body). Critical while a CloudFront distribution or load balancer still serves it, high when that could not be listed, medium when nothing serves it. Evidence: `not_after`, `days_left`, `subject`, `path`, `in_use_by`.",
                why: "Anything still serving it fails TLS handshakes now; an unused one is clutter that someone may attach by mistake.",
                fix: "Attach a valid certificate (ACM, or a new IAM one) to each user in `in_use_by`, then delete the expired certificate (`aws iam delete-server-certificate`), which resolves this finding.",
            },
            Self::MailSpfMissing => CodeDoc {
                title: "Mail name has no SPF record",
                meaning: "A name that sends or receives mail (it has MX records other than a null MX, or an Amazon SES identity, in a scanned region) has no TXT record starting with `v=spf1`, as its name servers answer it. Names of mail are every public zone's apex and every name with MX records; names without mail are judged by `mail.spoofable-domain` instead. Evidence: `served` (the TXT records answered) and, when Route 53's configuration of the zone differs, `configured`.",
                why: "Without SPF, receivers cannot tell your servers from anyone else's: mail from the name is more often sent to spam, and others can send as it unchecked.",
                fix: "Add a TXT record at the name listing the services that send its mail, e.g. `\"v=spf1 include:amazonses.com -all\"` for Amazon SES (with a custom MAIL FROM domain) plus the `include:` of every other sender.",
            },
            Self::MailSpfMultiple => CodeDoc {
                title: "Name publishes several SPF records",
                meaning: "More than one TXT record at the name starts with `v=spf1`. RFC 7208 (section 4.5) makes that a permanent error: receivers ignore all of them. Evidence: `served`, and `configured` when Route 53's configuration differs.",
                why: "Every message from the name fails SPF, as if it had none; under DMARC that can mean rejection.",
                fix: "Merge them into one record: one `v=spf1`, every mechanism of both, one `all` at the end; delete the other TXT value in the record set.",
            },
            Self::MailSpfInvalid => CodeDoc {
                title: "SPF record is not valid",
                meaning: "The name's SPF record breaks RFC 7208: a syntax error or an unknown mechanism (`ipv4:`, `include` without a domain, a second `redirect`), or, followed through its `include:` and `redirect=` targets, a target with no SPF record or with several, a loop, an `mx` with more than 10 exchanges. Evidence: `record`, `errors` (each names the term or the domain), `served`, `configured` when it differs.",
                why: "Receivers return a permanent error for the name's SPF: every message fails SPF.",
                fix: "Correct the term named in `errors`; for a target without SPF, remove its `include:` or ask that vendor for the right one.",
            },
            Self::MailSpfTooManyLookups => CodeDoc {
                title: "SPF needs more than 10 DNS lookups",
                meaning: "Counting every `include`, `a`, `mx`, `ptr`, `exists` and `redirect` of the record and, recursively, of every record it includes, as served by the real DNS, gives more than 10 (RFC 7208 section 4.6.4). Evidence: `lookups`, `tree` (each domain's record, its own lookups and its subtree's total).",
                why: "Receivers stop at the 11th lookup with a permanent error: mail from the name fails SPF everywhere, usually after a vendor added an `include` to its own record.",
                fix: "Remove `include:`s of services that no longer send for you, replace `a` and `mx` with the `ip4:`/`ip6:` ranges they stand for, or move senders to subdomains with their own SPF; the `tree` shows where the lookups come from.",
            },
            Self::MailSpfPermissive => CodeDoc {
                title: "SPF lets any server send",
                meaning: "The name's SPF record ends in `+all` (high: every server on the internet passes) or `?all` (medium: every server is neutral, which receivers treat as no SPF). Evidence: `record`, `all`.",
                why: "Anyone can send mail as the name and pass (or not fail) SPF.",
                fix: "End the record in `-all` (or `~all` while you confirm the list of senders is complete).",
            },
            Self::MailSpfVoidLookups => CodeDoc {
                title: "SPF makes too many void lookups",
                meaning: "More than two of the record's DNS lookups (through its includes) answer NXDOMAIN or no records. RFC 7208 section 4.6.4 lets receivers fail SPF with a permanent error beyond two. Evidence: `void_lookups`, `names`.",
                why: "Some receivers fail the name's SPF; the void names are usually vendors or hosts that no longer exist.",
                fix: "Remove the mechanisms naming the domains in `names`.",
            },
            Self::MailDmarcMissing => CodeDoc {
                title: "Mail name has no DMARC policy",
                meaning: "A name that sends or receives mail has no DMARC record: no TXT starting with `v=DMARC1` at `_dmarc.<name>` nor at `_dmarc` of any parent name below the top-level domain (the tree walk of DMARCbis, which finds an organisational policy without a public suffix list). Evidence: `looked_at`.",
                why: "Without DMARC, receivers apply no policy to mail failing SPF and DKIM, and you get no reports of who sends as you.",
                fix: "Publish `_dmarc.<domain>` TXT `\"v=DMARC1; p=none; rua=mailto:dmarc@<domain>\"`, read the reports, then move to `p=quarantine` and `p=reject`.",
            },
            Self::MailDmarcInvalid => CodeDoc {
                title: "DMARC record is not valid",
                meaning: "The DMARC record that applies to the name breaks RFC 7489: `v=DMARC1` not first, a missing or unknown policy (`p`), a bad `pct`, `sp`, `adkim`, `aspf`, `fo`, `ri`, a report URI that is not one, a tag given twice, or several DMARC records at one name. Evidence: `at`, `records`, `error`.",
                why: "Receivers ignore an invalid record (several records: all of them): the name has no DMARC policy in effect, whatever it says.",
                fix: "Correct the tag named in `error`, or keep one record at the name.",
            },
            Self::MailDmarcMonitorOnly => CodeDoc {
                title: "DMARC policy only monitors",
                meaning: "The DMARC policy in effect for a mail name is `p=none` (for a name below the record's domain, `sp`, else `p`): receivers report failures but deliver them. Evidence: `at`, `policy`, `record`.",
                why: "`p=none` is a first step; left there, mail spoofing the name is delivered like genuine mail.",
                fix: "Once the reports show every legitimate sender passing SPF or DKIM aligned, move to `p=quarantine`, then `p=reject`.",
            },
            Self::MailDmarcReportUnauthorized => CodeDoc {
                title: "DMARC reports go to a domain that does not accept them",
                meaning: "The DMARC record sends aggregate or failure reports (`rua`, `ruf`) to an address in another domain, and that domain publishes no `<policy domain>._report._dmarc.<report domain>` TXT record starting with `v=DMARC1` (RFC 7489 section 7.1). Domains in the same hosted-zone family (one a subdomain of the other) need none. Evidence: `report_domain`, `looked_at`.",
                why: "Receivers drop reports to an unauthorised domain: you lose the view of who sends as you.",
                fix: "Have the report domain publish the authorisation record (report vendors do this when you sign up), or send reports to an address in your own domain.",
            },
            Self::MailDkimSesMissing => CodeDoc {
                title: "SES DKIM records missing or wrong",
                meaning: "An Amazon SES domain identity signs with Easy DKIM, but one or more of its three `<token>._domainkey.<domain>` names does not answer a CNAME to `<token>.dkim.amazonses.com` (regional variants `<token>.dkim.<region>.amazonses.com` count): NXDOMAIN, no CNAME, or another target. Evidence: `records` (each name, expected target, what is served and, where a zone of ours holds the name, Route 53's value).",
                why: "Receivers cannot verify SES's signatures: DKIM fails, DMARC then rests on SPF alone, and SES marks the identity as failed after 72 hours and stops sending with it.",
                fix: "Recreate the CNAMEs listed in `records` in the zone (the SES console's *Publish DNS records* shows them), or delete the identity if the domain no longer sends through SES.",
            },
            Self::MailDkimSesFailed => CodeDoc {
                title: "SES reports DKIM failed",
                meaning: "SES reports the DKIM status of a domain identity as `FAILED`: it could not find the DKIM records for 72 hours. Evidence: `status`, `origin`, `signing_enabled`.",
                why: "SES does not sign the domain's mail; DMARC then depends on SPF alone, and SES may stop sending for the identity.",
                fix: "Publish the records (see `mail.dkim-ses-missing`), then restart verification in the SES console or with `aws sesv2 put-email-identity-dkim-attributes`.",
            },
            Self::MailMtaStsBroken => CodeDoc {
                title: "MTA-STS policy cannot be used",
                meaning: "The name publishes an `_mta-sts` TXT record (RFC 8461), but the record is invalid, `mta-sts.<name>` does not resolve, the policy at `https://mta-sts.<name>/.well-known/mta-sts.txt` cannot be fetched (no connection, a certificate not valid for the host, not status 200, over 64 KiB), is not a valid policy, or its `mx` patterns do not match every MX host the name serves. High in `enforce` mode, medium in `testing`. Evidence: `problem`, `mode`, `uncovered_mx`.",
                why: "In `enforce` mode, senders that honour MTA-STS refuse to deliver to MX hosts the policy does not list, and keep the last policy they fetched while the new one cannot be read: mail is delayed or bounced.",
                fix: "Serve the policy file over HTTPS with a valid certificate, list every MX host in it (`mx: *.example.net` covers one label), and change the `id` of the `_mta-sts` record after each change of the policy.",
            },
            Self::MailTlsRptMissing => CodeDoc {
                title: "MTA-STS without TLS reporting",
                meaning: "The name uses MTA-STS but publishes no TLS-RPT record (`_smtp._tls.<name>` TXT `v=TLSRPTv1; rua=...`, RFC 8460). Evidence: `served`.",
                why: "Without reports you learn of TLS delivery failures to your MX hosts only when someone complains.",
                fix: "Publish `_smtp._tls.<name>` TXT `\"v=TLSRPTv1; rua=mailto:tls-reports@<name>\"`.",
            },
            Self::MailSpoofableDomain => CodeDoc {
                title: "Name without mail can be spoofed",
                meaning: "A name meant to have no mail (the public zone's apex with no MX or only a null MX, no SES identity, no SPF mechanism authorising a sender) lacks `v=spf1 -all` or a DMARC policy of `p=reject` (at 100%) that applies to it: medium without the reject policy, low when only SPF is missing (receivers that apply DMARC already refuse forgeries). A missing null MX (`0 .`, RFC 7505) is listed too, but never reported alone. Only judged when every SES identity of the configured regions (`ZW_REGIONS`) was read, and not in organization mode, where another account's SES identity may send as the name. Evidence: `lacking`, `served`.",
                why: "Parked and web-only domains are favourite senders for phishing: receivers have nothing that says the mail is forged.",
                fix: "Publish TXT `\"v=spf1 -all\"` at the name, `_dmarc.<name>` TXT `\"v=DMARC1; p=reject;\"` and MX `0 .`.",
            },
            Self::CtUnexpectedCertificate => CodeDoc {
                title: "Unexpected certificate in Certificate Transparency",
                meaning: "A certificate that Certificate Transparency logged for a public zone's apex or a name below it, still valid, is none of the estate's own: not an ACM certificate of a scanned account in the configured regions (`ZW_REGIONS`; matched by serial), not served by an endpoint zonewarden probes, and not from an issuer in `ZW_CT_EXPECTED_ISSUERS`. Certificates that AWS services obtain in their own accounts for your names (Amplify Hosting, App Runner and Cognito custom domains, for example) are not in your ACM: they are recognised when an endpoint zonewarden probes serves them; otherwise declare `amazon.com` expected. Names in a subdomain that a zone delegates to name servers outside the account's hosted zones (another account's or a vendor's zone) are not judged: their certificates are their owner's. Only with the CT watch on (`ZW_CT_SEARCH_URL`). A certificate logged after the certificate and endpoint inventories were last written is judged at the next run, so a certificate ACM has just issued or renewed is not reported. Evidence: `serial`, `issuer`, `names`, `not_before`, `not_after`, `logged_at`, `log_entries` (the search's entry ids).",
                why: "Someone obtained a certificate for your name: a forgotten vendor or team, or an attacker who controls a DNS record, an HTTP path or a mailbox a CA accepted as proof. With it they can impersonate the name to anyone who resolves to them.",
                fix: "Find who requested it (the issuer and names in the evidence). If it is legitimate, add its issuer to `ZW_CT_EXPECTED_ISSUERS`, import it into ACM, or serve it where zonewarden probes it; the finding resolves at the next run. If not, ask the CA to revoke it, find how the CA's validation was passed, and restrict issuance with CAA. It resolves by itself when the certificate expires.",
            },
            Self::CtCaaViolation => CodeDoc {
                title: "Certificate issued against the CAA",
                meaning: "A certificate logged since the watch's previous search (with a day's overlap for the search engine's indexing delay) was issued by a CA that the name's CAA (RFC 8659, the first record set up the tree; `issuewild` for a wildcard) did not allow, both at the previous search and now: a CAA changed in between proves nothing and is not reported. CAs are recognised from the issuer's name; one zonewarden does not recognise is not judged. Stays open until the certificate expires. Evidence: the certificate's (see `ct.unexpected-certificate`), `name`, `caa_at`, `tag`, `allowed`, `records`.",
                why: "CAs must check CAA before issuing: either the CA ignored it (report it to the CA and to the CA/Browser Forum's problem reporting) or your CAA does not list a CA you use.",
                fix: "If the certificate is yours, add the CA's issuer domain to the CAA record set (`0 issue \"<ca>\"`) and acknowledge the finding. If not, ask the CA to revoke it and report the mis-issuance to the CA.",
            },
            Self::QuerylogLoggingOff => CodeDoc {
                title: "Public hosted zone without query logging",
                meaning: "A public hosted zone has no Route 53 query logging configuration, so zonewarden cannot see what the world asks it (SERVFAIL answers, NXDOMAIN spikes, names asked that do not exist). Evidence: `zone`.",
                why: "Without query logs, a typo in a published name, a record deleted while clients still use it, or a broken answer upstream is found by your users, not by you.",
                fix: "Create a CloudWatch Logs log group in us-east-1 named `/aws/route53/<zone name>` (or one matching `ZW_QUERY_LOG_GROUPS`), allow Route 53 to write to it (`aws logs put-resource-policy`), and run `aws route53 create-query-logging-config --hosted-zone-id <id> --cloud-watch-logs-log-group-arn <arn>`. Cost: CloudWatch Logs ingestion (about $0.50 per GB, a log line is about 120 bytes: about $1.80 a month for 1 million queries a day) and storage (set a retention on the group). Or acknowledge the finding for zones you do not want logged.",
            },
            Self::QuerylogServfail => CodeDoc {
                title: "SERVFAIL answers for a hosted zone",
                meaning: "The zone's query log shows SERVFAIL answers in the window read (names of the zone only). Route 53 answers SERVFAIL when it cannot answer authoritatively: for example an alias to a target it cannot resolve, or a DNSSEC signing problem. Resolves at the first window without any. Evidence: `count`, `per_hour`, `first`, `last`, `names` (the top names with their counts), `window`.",
                why: "Every SERVFAIL is a client that got no answer: resolvers retry, then give up, and the name is down for them.",
                fix: "Look at the names in the evidence: check their alias targets exist, that the zone's DNSSEC signing (KSK, KMS key) is healthy (`dns.dnssec-*` findings), and the zone's other open findings for the change that caused it.",
            },
            Self::QuerylogNxdomainSpike => CodeDoc {
                title: "NXDOMAIN answers far above the zone's normal",
                meaning: "The zone's NXDOMAIN answers per hour in the window read are above its own baseline (the median of its windows of the last 7 days, needing at least 24 of them, so a new zone is never judged) by `ZW_QUERY_LOG_SPIKE_FACTOR` (default 3) and above `ZW_QUERY_LOG_SPIKE_FLOOR` (default 100 per hour). Resolves at the first window back below. Evidence: `per_hour`, `baseline`, `factor`, `names` (the top names), `window`.",
                why: "A sudden rise in names that do not exist follows a record deleted or renamed while clients still use it, a broken deployment publishing wrong names, or a random-subdomain flood.",
                fix: "Read the top names: restore or re-create a record clients still need, fix the client or configuration that asks the wrong name, or, for a random-subdomain flood, nothing is wrong with the zone (Route 53 absorbs it) but acknowledge the finding.",
            },
            Self::QuerylogMissingName => CodeDoc {
                title: "Name asked often that does not exist",
                meaning: "A name of the zone was answered NXDOMAIN more than `ZW_QUERY_LOG_MISSING_NAME_MIN` times (default 50) in the window read, and it is neither a likely typo of an existing name nor a record removed in the last 30 days. Only names under the zone's apex, never the apex itself, and never an underscored name (`_dmarc`, `_mta-sts`, `_acme-challenge`, SRV names: protocols ask them to find optional records, and NXDOMAIN is the normal answer where the option is not used); a name that exists now is never reported; at most the 200 most asked names of a zone are judged per window (this code, `querylog.likely-typo` and `querylog.deleted-record-queried` together). Resolves at the first window without as many. Evidence: `name`, `count`, `edges` (the top edge locations, never client addresses), `window`.",
                why: "Something depends on a name you do not publish: a client configured wrongly, documentation pointing at the wrong host, or a record that was never created.",
                fix: "Create the record if the name should exist; otherwise find who asks (the edge locations tell where) and correct them, or acknowledge the finding.",
            },
            Self::QuerylogLikelyTypo => CodeDoc {
                title: "Name asked often is a likely typo",
                meaning: "A name answered NXDOMAIN more than `ZW_QUERY_LOG_MISSING_NAME_MIN` times (default 50) in the window read is within edit distance 1 or 2 of a record name of the zone (`wwww.example.com` for `www.example.com`), and was not a record in the last 30 days. Evidence: `name`, `meant`, `distance`, `count`, `window`.",
                why: "Users or a configuration mistype a name that exists: they get no answer, and a domain squatter could not serve them here, but a wildcard you add later would.",
                fix: "Correct the link, configuration or documentation that has the typo, or publish the typo as a CNAME to the name meant if people type it.",
            },
            Self::QuerylogDeletedRecordQueried => CodeDoc {
                title: "Deleted record still asked for",
                meaning: "A name answered NXDOMAIN more than `ZW_QUERY_LOG_MISSING_NAME_MIN` times (default 50) in the window read was a record name of the zone within the last 30 days (zonewarden remembers the zone's names between its runs; zones of more than 35,000 names are remembered in part). Evidence: `name`, `removed_at` (the last run that saw it), `count`, `window`.",
                why: "Clients still use a name that was removed: the removal broke them, or they were missed when a service moved.",
                fix: "Restore the record if the removal was a mistake; otherwise move the clients that still ask (the count shows how many) to the new name, then acknowledge the finding.",
            },
            Self::QuerylogResolverNxdomainStorm => CodeDoc {
                title: "Workload asking many names that do not exist",
                meaning: "One source of Route 53 Resolver queries (an EC2 instance, a resource or a Resolver endpoint, else the VPC) was answered NXDOMAIN for more than `ZW_QUERY_LOG_STORM_NAMES_MIN` distinct names (default 100) in the window read. Only with Resolver query logs read (`ZW_RESOLVER_QUERY_LOG_GROUPS`). Evidence: `source`, `vpc_id`, `account_id`, `region`, `nxdomain`, `distinct_names`, `window`.",
                why: "A workload asking many names that do not exist is misconfigured (a search list, a wrong service name), scanning, or using DNS to move data out (tunnelling, generated domains of malware).",
                fix: "Find the workload by the source id, and check its resolver configuration and what it runs; if it is expected (a crawler, a security scanner), acknowledge the finding.",
            },
            Self::TlsExpiring => CodeDoc {
                title: "Served certificate expires soon",
                meaning: "The certificate an endpoint presents in a TLS handshake ends within the expiry thresholds of ACM certificates (`ZW_EXPIRY_DAYS`, default 30/14/7 days for medium/high/critical). This is what clients actually receive, whatever ACM holds. Evidence: `host`, `port`, `address`, `serial`, `issuer`, `not_after`, `days_left`, `record` (the record set that points here).",
                why: "When it expires, clients of this endpoint fail TLS. If ACM shows a renewed certificate while this finding is open, the renewal was not deployed here.",
                fix: "Deploy the renewed certificate where the endpoint terminates TLS (see `tls.not-acm-certificate`), or renew it at its CA if it is not an ACM certificate.",
            },
            Self::TlsExpired => CodeDoc {
                title: "Served certificate has expired",
                meaning: "An endpoint presents a certificate whose `notAfter` is in the past. Evidence as for `tls.expiring`.",
                why: "Browsers and API clients refuse the connection now: an outage for everyone who reaches this address.",
                fix: "Install a valid certificate on the endpoint now; for AWS load balancers, CloudFront and API Gateway, attach a current ACM certificate.",
            },
            Self::TlsHostnameMismatch => CodeDoc {
                title: "Served certificate does not cover the name",
                meaning: "The certificate presented for the name (sent as SNI) has no subject alternative name that matches it, or no subjectAltName at all (clients ignore the subject's CN; the message then shows the CN). Evidence: `host`, `address`, `serial`, `names` (the certificate's DNS and IP SANs), `subject_alt_name` (whether it has the extension), `common_name`.",
                why: "Clients reject the connection (`NET::ERR_CERT_COMMON_NAME_INVALID`); often the wrong certificate is the default of a listener that lacks one for this name.",
                fix: "Attach a certificate that covers the name to the listener, distribution or custom domain (an SNI certificate of an ALB listener, CloudFront's alternate domain names), or correct the record if it points at the wrong endpoint.",
            },
            Self::TlsUntrustedChain => CodeDoc {
                title: "Served certificate chain is not trusted",
                meaning: "The chain the endpoint presents does not lead to a trusted root (the Mozilla root program as shipped in `webpki-roots`, plus `ZW_TLS_EXTRA_ROOTS`): self-signed, a private CA, a missing intermediate or a bad signature. Evidence: `host`, `address`, `issuer`, `error`.",
                why: "Browsers and most clients refuse it; a missing intermediate works in some browsers (which cache intermediates) and fails in others and in every API client.",
                fix: "Serve the full chain (leaf and intermediates) from a public CA, or add your private CA with `ZW_TLS_EXTRA_ROOTS` if only internal clients use the endpoint.",
            },
            Self::TlsHandshakeFailed => CodeDoc {
                title: "TLS handshake failed",
                meaning: "The endpoint accepted a TCP connection on a configured port but the TLS handshake did not complete: a TLS alert, an answer that is not TLS, no answer within `ZW_TLS_TIMEOUT_MS`, or a certificate whose key is too small for TLS clients (an RSA key under 2048 bits; `stage` is `key`, with `key_type`, `key_bits`, `minimum_bits`). For a member of a failover, weighted, latency or multivalue group (a standby, say) whose group serves HTTPS elsewhere, and for targets with an HTTPS listener, a refused or timed-out connection counts too. Evidence: `host`, `address`, `port`, `stage`, `error`, `record`. A handshake that fails only at a limit of zonewarden's own probe (a handshake message over the 64 KiB its TLS library reads, as a certificate with thousands of names makes, or an RSA key over 8192 bits) is not this finding: it is a scan error, and the endpoint's findings are kept as they were.",
                why: "Clients sent to this address fail. For a standby, the failover will move users to an endpoint that cannot serve them: found now, not during the incident.",
                fix: "Check the listener, certificate and security group of the endpoint at `address`; for a standby, test it the way users will reach it after failover. A key too small: reissue the certificate with an RSA key of at least 2048 bits or an ECDSA key.",
            },
            Self::TlsEndpointNotProbed => CodeDoc {
                title: "Records of the zone lead to addresses not on the internet: not probed",
                meaning: "A record of a public zone (an A value, or the address an alias or CNAME target resolves to) leads to an address that is not globally routable: loopback, private (RFC 1918, IPv6 unique local), link-local (including the instance metadata service, 169.254.169.254), carrier-grade NAT, multicast or reserved. zonewarden does not connect there unless the range is listed in `ZW_PROBE_ALLOW_CIDRS` (the `ProbeAllowCidrs` parameter). One finding per hosted zone. Evidence: `count`, and `targets` (the first 50), each with `host`, `address`, `port`, `record` and `reason`. Targets you name yourself (`ZW_TLS_TARGETS`) are always probed.",
                why: "A public name that resolves to a private address serves nobody on the internet and leaks your internal addressing; it is often a record left over from an internal service, or a name meant for a private hosted zone.",
                fix: "Move the record to a private hosted zone, or point it at the public endpoint. If the address is meant to be probed from where zonewarden runs, list its range in `ProbeAllowCidrs`.",
            },
            Self::TlsNotAcmCertificate => CodeDoc {
                title: "Endpoint serves another certificate than ACM's attached one",
                meaning: "The serial of the certificate served for an alias to a CloudFront distribution, load balancer or API Gateway custom domain is not the serial of any ACM certificate attached to that resource. Evidence: `host`, `resource`, `served_serial`, `attached` (each ACM certificate ARN with its serial).",
                why: "ACM renewed (or you re-imported) a certificate that is not what clients get: the old one is still deployed somewhere in front (a CDN, a proxy, a stale listener), or the listener carries the wrong certificate. It will expire although ACM looks fine.",
                fix: "Find what terminates TLS for the name (another CDN, a proxy, a listener rule) and deploy the ACM certificate there, or attach the right certificate to the listener.",
            },
            Self::TlsNameNotCovered => CodeDoc {
                title: "HTTPS name covered by no ACM certificate",
                meaning: "A name of the account's public zones serves HTTPS, but no issued ACM certificate of the account (in the configured regions; in organization mode, nor of the other scanned accounts) covers it: it is served with a certificate from outside ACM. Evidence: `host`, `issuer`, `not_after`.",
                why: "Certificates outside ACM are renewed by hand or by tooling zonewarden cannot see: their expiry is only watched through the handshake (`tls.expiring`).",
                fix: "Nothing is wrong by itself. Move the name to an ACM certificate if the endpoint can use one, or make sure whoever renews it is known; suppress the finding otherwise.",
            },
            Self::CertSanNotInDns => CodeDoc {
                title: "Certificate name no longer exists in the account's DNS",
                meaning: "A name of an issued ACM certificate falls inside a public hosted zone of the account (in organization mode, or of another scanned account, as its last DNS scan listed it), but that zone has no record set at that name (for a wildcard `*.x`, none at or below `x`) and does not delegate it to other servers. Evidence: `names`, each with `name` and `zone` (and `account_id`, `account_name` for another account's zone).",
                why: "ACM validates every name again at renewal; a name that went away is often a site that was retired while its certificate stayed attached, or a renewal about to fail on a name nobody serves.",
                fix: "Request a certificate without the retired names and replace this one, or recreate the record if the name is still meant to serve.",
            },
            Self::LicenseInvalid => CodeDoc {
                title: "License not valid",
                meaning: "The license cached in the table does not entitle this deployment any more: the subscription is cancelled or past due, the license expired, the vendor has not confirmed it for longer than the grace period (`ZW_LICENSE_GRACE_DAYS`, default 14 days), its signature does not verify, or licensing is configured but no license was ever validated. Evidence: `reason`, `license_id`, `status`, `validated_at`. The `LicenseInvalid` metric is 1 and its alarm fires.",
                why: "Scanning goes on and every finding is kept, but the checks beyond the free tier (1 hosted zone, 10 certificates) pause: their findings stay as they were, neither updated nor resolved, until the license is valid again. Nothing of yours is touched or deleted.",
                fix: "Run `zonewarden license status` for the reason and `zonewarden license check` to validate now; renew or reactivate the subscription in the vendor portal, or check that the license function reaches `ZW_LICENSE_ENDPOINT` (its log and `zonewarden license sent`).",
            },
            Self::LicenseGrace => CodeDoc {
                title: "License vendor unreachable: grace period",
                meaning: "The last successful validation of the license is more than two days old (the license function validates daily), so the cached license is running on its grace period. Evidence: `validated_at`, `grace_until`, `days_left`.",
                why: "Nothing changes until `grace_until`; after it the license is invalid and checks beyond the free tier pause.",
                fix: "Look at the license function's log and `zonewarden license sent` for the error (network egress from the function, a proxy, the vendor's status); `zonewarden license check` retries now.",
            },
            Self::LicenseFreeTierLimit => CodeDoc {
                title: "Estate beyond the free tier",
                meaning: "No license is configured (or the license is not valid) and the account has more hosted zones or certificates than the free tier covers (1 hosted zone, 10 certificates). Evidence: `dimension`, `count`, `limit`, `paused` (how many of them are paused: 0 without licensing configured, where everything is still checked), `standing`.",
                why: "Without a license everything is still checked and this is information only. With an invalid license the checks beyond the free tier pause until it is valid again.",
                fix: "Nothing is broken. Configure a license (`ZW_LICENSE_ENDPOINT`, the key in SSM) to monitor the whole estate under a plan, or suppress this finding.",
            },
            Self::LicenseLimitExceeded => CodeDoc {
                title: "Estate beyond the plan's limits",
                meaning: "The account has more hosted zones or certificates than the license's plan covers. Evidence: `dimension`, `count`, `limit`.",
                why: "Everything is still checked; the vendor sees the aggregate counts (unless fleet visibility is off) and may ask you to change plans.",
                fix: "Upgrade the plan in the vendor portal, or narrow what this deployment monitors (`ZW_REGIONS`, `ZW_DNS_ZONES`).",
            },
            Self::SuppressionUnused => CodeDoc {
                title: "Suppression matches nothing",
                meaning: "A suppression (from `zonewarden suppress add` or the suppressions document) has covered no finding for 30 days: since it was created, or since a finding it covered was last seen. Evidence: `suppression` (its matcher, reason, owner and end), `last_matched`. In organization mode each member account's scan judges the suppressions scoped to that account (`--account`); suppressions without an account are judged in single-account mode only.",
                why: "A suppression nobody needs any more is a blind spot waiting for a new problem that happens to match it.",
                fix: "Remove it: `zonewarden suppress remove ID`, or delete its entry from the suppressions document and update the parameter. If it is meant for a problem that comes and goes, keep it; this finding resolves the next time it covers one.",
            },
            Self::SuppressionEnding => CodeDoc {
                title: "Suppression ends within 7 days",
                meaning: "A suppression ends within 7 days. When it ends, the findings it covers become open again (one `Zonewarden Finding Opened` event each, with `transition` `unsuppressed`) and count in `OpenFindings` and the alarms. Evidence: `suppression`, `last_matched`.",
                why: "Suppressions end on purpose, so that accepted risk is reviewed; this is the reminder before the review.",
                fix: "Fix what it covers, or, if the risk is still accepted, add a new suppression with a new end date (`zonewarden suppress add ... --for 90d`) and remove the old one; in the document, move its `until`.",
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
             `suppressed`, `resolved`). A suppressed finding carries its suppression (`id`, `reason`,\n\
             `until`, `created_by`); see \"Living with findings\" in the README.\n\n\
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

    /// The variants an enum declares in this file, in order.
    fn declared(enum_name: &str) -> Vec<String> {
        let source = include_str!("catalogue.rs");
        let start = source
            .find(&format!("pub enum {enum_name} {{"))
            .expect("the enum is declared here");
        let body = &source[start..];
        let body = &body[body.find('{').expect("a body") + 1..body.find("\n}").expect("an end")];
        body.lines()
            .map(str::trim)
            .filter(|l| !l.starts_with("//") && !l.starts_with('#') && !l.is_empty())
            .map(|l| l.trim_end_matches(',').to_owned())
            .collect()
    }

    /// `ALL` is written by hand; a variant left out of it would compile, and
    /// its stored findings would then be unreadable (`from_id` looks in ALL).
    #[test]
    fn every_variant_is_in_all() {
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v
        };
        let codes: Vec<String> = FindingCode::ALL.iter().map(|c| format!("{c:?}")).collect();
        assert_eq!(
            sorted(codes),
            sorted(declared("FindingCode")),
            "FindingCode::ALL"
        );
        let checks: Vec<String> = Check::ALL.iter().map(|c| format!("{c:?}")).collect();
        assert_eq!(sorted(checks), sorted(declared("Check")), "Check::ALL");
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
