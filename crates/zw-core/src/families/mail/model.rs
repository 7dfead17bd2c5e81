//! What the mail family collects: each mail name's served answers (and
//! Route 53's configuration of them), the SES identities' DKIM.

use super::spf::{SpfAnswer, SpfEvaluation};
use crate::model::Region;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One DNS lookup's outcome, as receivers would see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "detail", rename_all = "kebab-case")]
pub enum Lookup {
    /// The records of the asked type: TXT as its character-strings joined,
    /// others in presentation format.
    Records(Vec<String>),
    /// The name exists without records of that type.
    NoData,
    NxDomain,
    /// No usable answer (timeouts, SERVFAIL): not evidence either way.
    Failed(String),
}

impl Lookup {
    /// The records, none for NODATA and NXDOMAIN; None when it failed.
    pub fn records(&self) -> Option<&[String]> {
        match self {
            Self::Records(r) => Some(r),
            Self::NoData | Self::NxDomain => Some(&[]),
            Self::Failed(_) => None,
        }
    }

    pub fn failure(&self) -> Option<&str> {
        match self {
            Self::Failed(why) => Some(why),
            _ => None,
        }
    }

    /// As SPF's evaluation counts it: NXDOMAIN and NODATA are both void.
    pub fn to_spf(&self) -> SpfAnswer {
        match self {
            Self::Records(r) if !r.is_empty() => SpfAnswer::Records(r.clone()),
            Self::Records(_) | Self::NoData | Self::NxDomain => SpfAnswer::Void,
            Self::Failed(why) => SpfAnswer::Failed(why.clone()),
        }
    }
}

/// The hosted zone a mail name belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneRef {
    pub id: String,
    /// Normalised.
    pub name: String,
}

/// Route 53's values at a name (None: the zone has no record set of that
/// type there), for findings to name both when they differ from the answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Configured {
    pub txt: Option<Vec<String>>,
    pub mx: Option<Vec<String>>,
    /// TXT at `_dmarc.<name>`.
    pub dmarc: Option<Vec<String>>,
}

/// Where the DMARC policy of a name was found (RFC 7489's lookup at the
/// name, then the parent names: DMARCbis's tree walk, which needs no public
/// suffix list and finds an organisational record wherever it is).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DmarcLookup {
    /// TXT records at `_dmarc.<at>` (at least one starts with `v=DMARC1`).
    Found {
        at: String,
        records: Vec<String>,
    },
    /// No DMARC record at the name or any parent below the top-level domain.
    None,
    Failed {
        reason: String,
    },
}

/// The MTA-STS side of a name whose `_mta-sts` TXT exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MtaStsFacts {
    /// The `_mta-sts.<name>` TXT records.
    pub records: Vec<String>,
    /// The policy file's fetch: None when it was not fetched (no valid
    /// record, or the probe could not try: see the scan's errors).
    pub policy: Option<Result<String, FetchFailure>>,
    /// TXT at `_smtp._tls.<name>`.
    pub tls_rpt: Lookup,
}

/// Why a policy fetch gave no policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "detail", rename_all = "kebab-case")]
pub enum FetchFailure {
    /// The server's doing: no connection, a certificate not valid for the
    /// host, a status other than 200, a body over the cap. Senders fail the
    /// same way.
    Server(String),
    /// Our limitation: never evidence against the server (a scan error).
    Probe(String),
}

/// One mail name and what the internet answers for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameFacts {
    /// Normalised, with the trailing dot.
    pub name: String,
    pub zone: ZoneRef,
    pub apex: bool,
    /// An SES domain identity of this name exists (in a scanned region).
    pub ses_identity: bool,
    /// TXT at the name.
    pub txt: Lookup,
    /// MX at the name.
    pub mx: Lookup,
    pub configured: Configured,
    /// The evaluation of the name's SPF record when there is exactly one
    /// that parses.
    pub spf: Option<SpfEvaluation>,
    pub dmarc: DmarcLookup,
    /// Report domains of the DMARC record outside the name's organisation ->
    /// TXT at `<policy domain>._report._dmarc.<report domain>`.
    pub report_authorizations: BTreeMap<String, Lookup>,
    /// None when `_mta-sts.<name>` has no TXT (MTA-STS not used).
    pub mta_sts: Option<MtaStsFacts>,
    /// The `_mta-sts` lookup failed: MTA-STS not judged.
    pub mta_sts_failed: Option<String>,
}

/// An SES domain identity with Easy DKIM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SesIdentity {
    /// Normalised, with the trailing dot.
    pub name: String,
    pub region: Region,
    pub dkim: Option<Dkim>,
}

/// `DkimAttributes` of an identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dkim {
    pub signing_enabled: bool,
    /// `PENDING`, `SUCCESS`, `FAILED`, `TEMPORARY_FAILURE`, `NOT_STARTED`.
    pub status: String,
    /// `AWS_SES` (or `AWS_SES_<REGION>`): Easy DKIM; `EXTERNAL`: BYODKIM,
    /// whose records the customer publishes as they choose.
    pub origin: String,
    /// Easy DKIM's three tokens: `<token>._domainkey.<domain>` must be a
    /// CNAME to `<token>.dkim.amazonses.com`.
    pub tokens: Vec<String>,
}

impl Dkim {
    pub fn easy(&self) -> bool {
        self.origin.starts_with("AWS_SES")
    }
}

/// One Easy DKIM token's CNAME as served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DkimRecord {
    pub token: String,
    /// `<token>._domainkey.<domain>.`
    pub name: String,
    /// The CNAME served there (its target), NODATA or NXDOMAIN.
    pub served: Lookup,
    /// Route 53's CNAME value at the name, when a zone of ours holds it.
    pub configured: Option<Vec<String>>,
}
