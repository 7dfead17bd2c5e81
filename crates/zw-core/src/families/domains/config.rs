//! The domains family's settings.

use crate::families::certificates::config::{ExpiryThresholds, parse_thresholds};
use crate::settings::Vars;
use std::collections::BTreeSet;

/// Top-level domains whose registries offer no transfer lock through Route
/// 53 Domains (AWS's list of TLDs says "Supports locking: No" for them): a
/// domain there is never flagged for an unlocked transfer.
pub const DEFAULT_UNLOCKABLE_TLDS: &[&str] = &[
    "ch", "cz", "de", "es", "eu", "fi", "it", "jp", "li", "nl", "ru", "se", "uk",
];

/// The domains family's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainsConfig {
    /// `ZW_DOMAIN_EXPIRY_DAYS`, default `60,30,14`: days left before a
    /// registration ends for a medium, high and critical `domain.expiring`.
    pub expiry: ExpiryThresholds,
    /// `ZW_DOMAIN_UNLOCKABLE_TLDS`: TLDs (without dots) that cannot be
    /// locked against transfer; default [`DEFAULT_UNLOCKABLE_TLDS`].
    pub unlockable_tlds: BTreeSet<String>,
}

impl Default for DomainsConfig {
    fn default() -> Self {
        Self {
            expiry: ExpiryThresholds {
                medium: 60,
                high: 30,
                critical: 14,
            },
            unlockable_tlds: DEFAULT_UNLOCKABLE_TLDS
                .iter()
                .map(|t| (*t).to_owned())
                .collect(),
        }
    }
}

impl DomainsConfig {
    pub(crate) fn parse(v: &mut Vars) -> Self {
        let mut c = Self::default();
        if let Some(raw) = v.get("ZW_DOMAIN_EXPIRY_DAYS") {
            match parse_thresholds(&raw) {
                Ok(t) => c.expiry = t,
                Err(e) => v.error(format!("ZW_DOMAIN_EXPIRY_DAYS: {e}")),
            }
        }
        if let Some(tlds) = v.list("ZW_DOMAIN_UNLOCKABLE_TLDS") {
            let mut set = BTreeSet::new();
            for t in tlds {
                let t = t.trim_matches('.').to_ascii_lowercase();
                if t.is_empty()
                    || t.contains('.')
                    || !t.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
                {
                    v.error(format!(
                        "ZW_DOMAIN_UNLOCKABLE_TLDS: `{t}` is not a top-level domain; write them without dots, comma-separated, e.g. de,ch,uk"
                    ));
                    continue;
                }
                set.insert(t);
            }
            c.unlockable_tlds = set;
        }
        c
    }
}
