//! The certificate family's settings (and the expiry rules the endpoints
//! family shares).

use crate::settings::Vars;

/// Days-left thresholds for expiry findings. A certificate with at most
/// `medium` days left gets a medium finding, at most `high` a high one, at most
/// `critical` a critical one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiryThresholds {
    pub medium: u32,
    pub high: u32,
    pub critical: u32,
}

impl Default for ExpiryThresholds {
    fn default() -> Self {
        Self {
            medium: 30,
            high: 14,
            critical: 7,
        }
    }
}

/// The knobs of the certificate rules.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleConfig {
    /// `ZW_EXPIRY_DAYS`, default `30,14,7`.
    pub expiry: ExpiryThresholds,
    /// `ZW_IMPORTED_WARN_DAYS`, default 60: imported certificates never renew,
    /// so they are flagged earlier.
    pub imported_warn_days: u32,
    /// ACM starts managed renewal this many days before expiry (60, fixed by ACM).
    pub renewal_window_days: u32,
    /// `ZW_PENDING_VALIDATION_HOURS`, default 24.
    pub pending_validation_hours: u32,
}

impl Default for RuleConfig {
    fn default() -> Self {
        Self {
            expiry: ExpiryThresholds::default(),
            imported_warn_days: 60,
            renewal_window_days: 60,
            pending_validation_hours: 24,
        }
    }
}

pub(crate) fn parse_thresholds(raw: &str) -> Result<ExpiryThresholds, String> {
    let parts: Result<Vec<u32>, _> = raw.split(',').map(|p| p.trim().parse::<u32>()).collect();
    match parts {
        // The order they are written in does not matter (a template parameter
        // `7,14,30` must not deploy into a permanent init failure): the
        // largest is the medium threshold, the smallest the critical one.
        Ok(mut days) if days.len() == 3 && days.iter().all(|d| (1..=3650).contains(d)) => {
            days.sort_unstable_by(|a, b| b.cmp(a));
            Ok(ExpiryThresholds {
                medium: days[0],
                high: days[1],
                critical: days[2],
            })
        }
        _ => Err(format!(
            "`{raw}` must be three whole numbers of days from 1 to 3650, e.g. 30,14,7 (the largest is the medium threshold, the smallest the critical one)"
        )),
    }
}

/// The certificate family's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct CertificateConfig {
    pub rules: RuleConfig,
    /// `ZW_PER_CERTIFICATE_METRICS`, default false: a `DaysToExpiry` metric per
    /// certificate with an open finding (about $0.30 a month each).
    pub per_certificate_metrics: bool,
    /// `ZW_ACM_RPS`, default 8 requests/s per region. ACM allows about 10
    /// DescribeCertificate/s per region.
    pub acm_rps: f64,
    /// `ZW_ACM_CONCURRENCY`, default 4: DescribeCertificate calls in flight per region.
    pub acm_concurrency: usize,
}

impl CertificateConfig {
    pub(crate) fn parse(v: &mut Vars) -> Self {
        let mut rules = RuleConfig::default();
        if let Some(raw) = v.get("ZW_EXPIRY_DAYS") {
            match parse_thresholds(&raw) {
                Ok(t) => rules.expiry = t,
                Err(e) => v.error(format!("ZW_EXPIRY_DAYS: {e}")),
            }
        }
        rules.imported_warn_days = v.number("ZW_IMPORTED_WARN_DAYS", 60, 1, 3650);
        rules.pending_validation_hours = v.number("ZW_PENDING_VALIDATION_HOURS", 24, 1, 72);
        Self {
            rules,
            per_certificate_metrics: v.flag("ZW_PER_CERTIFICATE_METRICS", false),
            acm_rps: v.rate("ZW_ACM_RPS", 8.0, 10.0),
            acm_concurrency: v.number("ZW_ACM_CONCURRENCY", 4, 1, 32) as usize,
        }
    }
}
