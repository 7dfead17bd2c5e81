//! What the watch knows: the certificates the deployment recognises as its
//! own, and what it keeps per apex between runs.

use super::search::LoggedCertificate;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The certificates the deployment knows to be its own: the serials of the
/// ACM certificates it scanned and of the certificates its endpoints serve
/// (in organization mode, those the other accounts published too).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownCertificates {
    /// Lower-case hex, no separators, no leading zeros (as `search` writes
    /// a logged certificate's serial).
    pub serials: BTreeSet<String>,
    /// The oldest of the inventories read: a certificate logged after it may
    /// be one of ours that no scan has seen yet, so it is judged at the next
    /// run. None when no certificate inventory has been written yet (then
    /// nothing is judged: the certificates scan has not run).
    pub as_of: Option<DateTime<Utc>>,
}

/// A CAA violation found in an earlier run, kept until the certificate
/// expires: the search window moves on, the finding must not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub certificate: LoggedCertificate,
    /// The name whose CAA forbade the issuer.
    pub name: String,
    /// Where that CAA record set is (the name or a parent).
    pub caa_at: String,
    /// `issue` or `issuewild`.
    pub tag: String,
    /// The issuer domains the records allowed.
    pub allowed: Vec<String>,
    /// The records, as served when the violation was found.
    pub records: Vec<String>,
}

/// What the table keeps for one apex between runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchState {
    /// The last search that answered: certificates logged since then are
    /// judged against the CAA (the watermark).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub searched_at: Option<DateTime<Utc>>,
    /// The relevant CAA record set of each name looked up at that search
    /// (name -> records; empty when none applied): the CAA in force then.
    #[serde(default)]
    pub caa: BTreeMap<String, Vec<String>>,
    /// CAA violations found, until their certificates expire.
    #[serde(default)]
    pub violations: Vec<Violation>,
}

/// The CAA that governs a name (RFC 8659 section 3): the first non-empty
/// CAA record set climbing from the name towards the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelevantCaa {
    /// Found at `at` (the name or a parent).
    Records { at: String, records: Vec<String> },
    /// No CAA anywhere up the tree: every CA may issue.
    None,
}
