//! The estate, not only its problems: what each scan looked at, kept
//! compactly so that `zonewarden inventory` and the report can show every
//! certificate, zone, health check and served certificate with its end
//! date and when it was last checked.
//!
//! Each family hands the spine the entries of the scopes it collected
//! completely (a region of certificates, a hosted zone, the health checks,
//! a zone's endpoints); the store replaces that scope's entries as a whole.
//! A scope that failed keeps its previous entries (and their `checked_at`
//! says how old they are).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InventoryKind {
    Certificates,
    Zones,
    HealthChecks,
    Endpoints,
}

impl InventoryKind {
    pub const ALL: [InventoryKind; 4] = [
        Self::Certificates,
        Self::Zones,
        Self::HealthChecks,
        Self::Endpoints,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Certificates => "certificates",
            Self::Zones => "zones",
            Self::HealthChecks => "health-checks",
            Self::Endpoints => "endpoints",
        }
    }

    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == id)
    }

    /// The columns of `details`, in the order the CLI prints them.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Self::Certificates => &["type", "status", "in_use_by", "renewal_eligibility"],
            Self::Zones => &[
                "private",
                "record_sets",
                "name_servers",
                "dnssec",
                "compared_at",
            ],
            Self::HealthChecks => &["type", "target", "status", "alarmed"],
            Self::Endpoints => &["address", "port", "issuer", "outcome"],
        }
    }
}

/// One thing a scan looked at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InventoryEntry {
    /// ARN, zone id, health check id, `host:port@address`.
    pub id: String,
    /// What people call it: the certificate's domain, the zone's name, the
    /// health check's `Name` tag or target, `host:port`.
    pub name: String,
    /// `global` for Route 53.
    pub region: String,
    /// Its end date, where it has one (certificates, served certificates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<DateTime<Utc>>,
    /// The kind's own facts (`InventoryKind::columns`).
    pub details: BTreeMap<String, serde_json::Value>,
    pub checked_at: DateTime<Utc>,
}

impl InventoryEntry {
    /// Whole days from `now` to its end (negative once past), if it has one.
    pub fn days_left(&self, now: DateTime<Utc>) -> Option<i64> {
        self.not_after.map(|na| (na - now).num_days())
    }
}

/// The entries of one completely collected scope: they replace what the
/// store holds for (kind, scope).
#[derive(Debug, Clone, PartialEq)]
pub struct ScopeInventory {
    pub kind: InventoryKind,
    pub scope: String,
    pub entries: Vec<InventoryEntry>,
}

/// The expiry calendar: every entry with an end date on or before
/// `now + within` (all of them when None), soonest first.
pub fn expiring<'a>(
    entries: impl IntoIterator<Item = &'a InventoryEntry>,
    now: DateTime<Utc>,
    within: Option<chrono::Duration>,
) -> Vec<&'a InventoryEntry> {
    let mut out: Vec<&InventoryEntry> = entries
        .into_iter()
        .filter(|e| match (e.not_after, within) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(na), Some(w)) => na <= now + w,
        })
        .collect();
    out.sort_by(|a, b| a.not_after.cmp(&b.not_after).then(a.id.cmp(&b.id)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, days: Option<i64>) -> InventoryEntry {
        let now: DateTime<Utc> = "2026-12-03T00:00:00Z".parse().expect("t");
        InventoryEntry {
            id: id.into(),
            name: id.into(),
            region: "eu-west-1".into(),
            not_after: days.map(|d| now + chrono::Duration::days(d)),
            details: BTreeMap::new(),
            checked_at: now,
        }
    }

    #[test]
    fn the_calendar_is_soonest_first_within_the_window_and_skips_undated() {
        let now: DateTime<Utc> = "2026-12-03T00:00:00Z".parse().expect("t");
        let all = [
            entry("late", Some(200)),
            entry("past", Some(-3)),
            entry("soon", Some(10)),
            entry("none", None),
        ];
        let ids = |v: Vec<&InventoryEntry>| v.into_iter().map(|e| e.id.clone()).collect::<Vec<_>>();
        assert_eq!(
            ids(expiring(&all, now, Some(chrono::Duration::days(90)))),
            ["past", "soon"]
        );
        assert_eq!(ids(expiring(&all, now, None)), ["past", "soon", "late"]);
        assert_eq!(all[1].days_left(now), Some(-3));
        assert_eq!(
            InventoryKind::from_id("health-checks"),
            Some(InventoryKind::HealthChecks)
        );
    }
}
