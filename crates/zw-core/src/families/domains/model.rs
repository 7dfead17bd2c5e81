//! What the domains family collects: the account's domain registrations at
//! Route 53 Domains (`ListDomains`, `GetDomainDetail`) and the registrant
//! contact's verification (`GetContactReachabilityStatus`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The EPP status that locks a domain against transfer
/// (`EnableDomainTransferLock` sets it).
pub const TRANSFER_LOCK_STATUS: &str = "clientTransferProhibited";

/// One registered domain as `GetDomainDetail` describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Domain {
    /// Normalised: lower case, with the trailing dot.
    pub name: String,
    pub expires: Option<DateTime<Utc>>,
    pub auto_renew: Option<bool>,
    /// `ListDomains`' `TransferLock`, when it says.
    pub transfer_lock: Option<bool>,
    /// EPP status codes (`StatusList`), as the registry reports them.
    pub statuses: Vec<String>,
    /// The name servers the registry delegates to, normalised.
    pub name_servers: Vec<String>,
    pub privacy: ContactPrivacy,
}

impl Domain {
    /// Whether the domain is locked against transfer: `ListDomains` says so,
    /// or its statuses hold `clientTransferProhibited`. None when neither
    /// tells.
    pub fn locked(&self) -> Option<bool> {
        let by_status = self
            .statuses
            .iter()
            .any(|s| s.eq_ignore_ascii_case(TRANSFER_LOCK_STATUS));
        match self.transfer_lock {
            Some(l) => Some(l || by_status),
            None if by_status => Some(true),
            None => None,
        }
    }

    /// The top-level domain, without dots (`com`, `uk` for `example.co.uk.`).
    pub fn tld(&self) -> &str {
        self.name
            .trim_end_matches('.')
            .rsplit('.')
            .next()
            .unwrap_or_default()
    }
}

/// Whether WHOIS hides each contact (`*Privacy`). None when not said.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactPrivacy {
    pub registrant: Option<bool>,
    pub admin: Option<bool>,
    pub tech: Option<bool>,
}

impl ContactPrivacy {
    /// The contacts WHOIS shows, by name.
    pub fn exposed(&self) -> Vec<&'static str> {
        [
            ("registrant", self.registrant),
            ("admin", self.admin),
            ("tech", self.tech),
        ]
        .into_iter()
        .filter(|(_, p)| *p == Some(false))
        .map(|(n, _)| n)
        .collect()
    }
}

/// The registrant contact's verification (`GetContactReachabilityStatus`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reachability {
    /// Verified (or no verification was needed).
    Done,
    /// The verification e-mail is not answered yet.
    Pending,
    /// The 15 days passed unanswered: the registry suspends the domain.
    Expired,
    /// A value this version does not know.
    Other(String),
}

impl Reachability {
    pub fn from_api(status: &str) -> Self {
        match status {
            "DONE" => Self::Done,
            "PENDING" => Self::Pending,
            "EXPIRED" => Self::Expired,
            other => Self::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Done => "DONE",
            Self::Pending => "PENDING",
            Self::Expired => "EXPIRED",
            Self::Other(s) => s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_is_read_from_the_listing_or_the_statuses() {
        let mut d = Domain {
            name: "example.co.uk.".into(),
            ..Domain::default()
        };
        assert_eq!(d.locked(), None);
        assert_eq!(d.tld(), "uk");
        d.statuses = vec!["clienttransferprohibited".into()];
        assert_eq!(d.locked(), Some(true));
        d.statuses.clear();
        d.transfer_lock = Some(false);
        assert_eq!(d.locked(), Some(false));
        d.transfer_lock = Some(true);
        assert_eq!(d.locked(), Some(true));
    }

    #[test]
    fn exposed_contacts_are_those_said_public() {
        let p = ContactPrivacy {
            registrant: Some(false),
            admin: None,
            tech: Some(true),
        };
        assert_eq!(p.exposed(), ["registrant"]);
        assert_eq!(Reachability::from_api("PENDING"), Reachability::Pending);
        assert_eq!(Reachability::from_api("NEW").as_str(), "NEW");
    }
}
