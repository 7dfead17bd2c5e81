//! The Certificate Transparency watch's settings. Off unless
//! `ZW_CT_SEARCH_URL` is set: it is the one feature that sends the
//! customer's names (the public zones' apexes) to a third party.

use crate::outbound::OutboundUrl;
use crate::settings::Vars;

/// What the watch asks, and which issuers need no finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtConfig {
    /// `ZW_CT_SEARCH_URL`: a crt.sh-compatible JSON search endpoint
    /// (`https://crt.sh/`); None keeps the watch off.
    pub search_url: Option<String>,
    /// `ZW_CT_EXPECTED_ISSUERS`: issuers whose certificates for your names
    /// are expected, comma-separated; each is a CAA issuer domain
    /// (`letsencrypt.org`) or an issuer organisation or common name (`Let's
    /// Encrypt`, `R11`), compared without case.
    pub expected_issuers: Vec<String>,
    /// `ZW_CT_SEARCH_INTERVAL_SECONDS`, default 15: the pause between two
    /// searches (crt.sh answers about 5 a minute from one address).
    pub search_interval_seconds: u32,
}

impl Default for CtConfig {
    fn default() -> Self {
        Self {
            search_url: None,
            expected_issuers: Vec::new(),
            search_interval_seconds: 15,
        }
    }
}

impl CtConfig {
    pub(crate) fn parse(v: &mut Vars) -> Self {
        let mut c = Self::default();
        if let Some(raw) = v.get("ZW_CT_SEARCH_URL") {
            // The same rules as every URL zonewarden sends to (https; plain
            // http only to loopback); the adapter parses it again with them.
            match OutboundUrl::endpoint(&raw) {
                Ok(url) => c.search_url = Some(url.as_str().to_owned()),
                Err(why) => v.error(format!(
                    "ZW_CT_SEARCH_URL: `{}` {why} (a crt.sh-compatible search such as https://crt.sh/)",
                    why.shown(&raw)
                )),
            }
        }
        c.expected_issuers = v
            .list("ZW_CT_EXPECTED_ISSUERS")
            .unwrap_or_default()
            .into_iter()
            .map(|i| i.to_lowercase())
            .collect();
        c.search_interval_seconds = v.number(
            "ZW_CT_SEARCH_INTERVAL_SECONDS",
            c.search_interval_seconds,
            0,
            300,
        );
        c
    }

    /// Whether the watch runs at all.
    pub fn enabled(&self) -> bool {
        self.search_url.is_some()
    }
}
