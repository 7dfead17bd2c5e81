//! Configuration, read once into a typed struct. Every knob has the `ZW_`
//! prefix; standard AWS variables (`AWS_REGION`, `AWS_ENDPOINT_URL`, profiles)
//! keep their usual meaning and are read by the AWS SDK itself.
//!
//! Parsing takes the variables as a list rather than reading the process
//! environment, so it is pure and every bad variable is reported at once.

use crate::model::Region;
use std::collections::HashMap;
use std::fmt;

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

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `ZW_REGIONS` (comma-separated). Default: `AWS_REGION` plus us-east-1,
    /// where CloudFront's certificates live.
    pub regions: Vec<Region>,
    /// `ZW_TABLE_NAME`: the DynamoDB table. None means findings are not stored.
    pub table_name: Option<String>,
    pub rules: RuleConfig,
    /// `ZW_HISTORY_RETENTION_DAYS`, default 90: TTL of history, scan records and
    /// resolved findings.
    pub history_retention_days: u32,
    /// `ZW_PER_CERTIFICATE_METRICS`, default false: a `DaysToExpiry` metric per
    /// certificate with an open finding (about $0.30 a month each).
    pub per_certificate_metrics: bool,
    /// `ZW_METRICS_NAMESPACE`, default `Zonewarden`.
    pub metrics_namespace: String,
    /// `ZW_ROUTE53_RPS`, default 2 requests/s. Route 53 allows 5/s per account,
    /// shared with the customer's own tooling.
    pub route53_rps: f64,
    /// `ZW_ACM_RPS`, default 8 requests/s per region. ACM allows about 10
    /// DescribeCertificate/s per region.
    pub acm_rps: f64,
    /// `ZW_ACM_CONCURRENCY`, default 4: DescribeCertificate calls in flight per region.
    pub acm_concurrency: usize,
}

/// Every configuration problem found, one per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<String>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration:")?;
        for e in &self.0 {
            write!(f, "\n  - {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// The region that hosts CloudFront's certificates.
pub const CLOUDFRONT_REGION: &str = "us-east-1";

impl Config {
    /// Builds the configuration from environment-style variables. Unknown `ZW_`
    /// variables are refused too: a misspelt knob silently ignored is worse than
    /// an error.
    pub fn from_vars<I, K, V>(vars: I) -> Result<Self, ConfigErrors>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let vars: HashMap<String, String> = vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let mut errors = Vec::new();
        let get = |k: &str| vars.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());

        const KNOWN: [&str; 11] = [
            "ZW_REGIONS",
            "ZW_TABLE_NAME",
            "ZW_EXPIRY_DAYS",
            "ZW_IMPORTED_WARN_DAYS",
            "ZW_PENDING_VALIDATION_HOURS",
            "ZW_HISTORY_RETENTION_DAYS",
            "ZW_PER_CERTIFICATE_METRICS",
            "ZW_METRICS_NAMESPACE",
            "ZW_ROUTE53_RPS",
            "ZW_ACM_RPS",
            "ZW_ACM_CONCURRENCY",
        ];
        let mut unknown: Vec<&String> = vars
            .keys()
            .filter(|k| k.starts_with("ZW_") && !KNOWN.contains(&k.as_str()))
            // ZW_BLESS only refreshes generated docs in tests.
            .filter(|k| k.as_str() != "ZW_BLESS")
            .collect();
        unknown.sort();
        for k in unknown {
            errors.push(format!(
                "{k}: unknown setting (known: {})",
                KNOWN.join(", ")
            ));
        }

        let regions = match get("ZW_REGIONS") {
            Some(list) => {
                let mut regions = Vec::new();
                for part in list.split(',').filter(|p| !p.trim().is_empty()) {
                    match Region::parse(part) {
                        Ok(r) if !regions.contains(&r) => regions.push(r),
                        Ok(_) => {}
                        Err(e) => errors.push(format!("ZW_REGIONS: {e}")),
                    }
                }
                regions
            }
            None => {
                let home = get("AWS_REGION").or_else(|| get("AWS_DEFAULT_REGION"));
                match home.map(Region::parse) {
                    Some(Ok(home)) => {
                        let cloudfront = Region(CLOUDFRONT_REGION.to_owned());
                        if home == cloudfront {
                            vec![home]
                        } else {
                            vec![home, cloudfront]
                        }
                    }
                    Some(Err(e)) => {
                        errors.push(format!("AWS_REGION: {e}"));
                        Vec::new()
                    }
                    None => {
                        errors.push(
                            "no region: set AWS_REGION (or pass --region / set ZW_REGIONS=eu-west-1,us-east-1)"
                                .to_owned(),
                        );
                        Vec::new()
                    }
                }
            }
        };

        let mut rules = RuleConfig::default();
        if let Some(raw) = get("ZW_EXPIRY_DAYS") {
            match parse_thresholds(raw) {
                Ok(t) => rules.expiry = t,
                Err(e) => errors.push(format!("ZW_EXPIRY_DAYS: {e}")),
            }
        }
        let mut number = |key: &str, default: u32, min: u32, max: u32| -> u32 {
            match get(key) {
                None => default,
                Some(raw) => match raw.parse::<u32>() {
                    Ok(n) if (min..=max).contains(&n) => n,
                    _ => {
                        errors.push(format!(
                            "{key}: `{raw}` is not a whole number from {min} to {max} (default {default})"
                        ));
                        default
                    }
                },
            }
        };
        rules.imported_warn_days = number("ZW_IMPORTED_WARN_DAYS", 60, 1, 3650);
        rules.pending_validation_hours = number("ZW_PENDING_VALIDATION_HOURS", 24, 1, 72);
        let history_retention_days = number("ZW_HISTORY_RETENTION_DAYS", 90, 1, 3650);
        let acm_concurrency = number("ZW_ACM_CONCURRENCY", 4, 1, 32) as usize;

        let mut rate = |key: &str, default: f64, max: f64| -> f64 {
            match get(key) {
                None => default,
                Some(raw) => match raw.parse::<f64>() {
                    Ok(n) if n > 0.0 && n <= max => n,
                    _ => {
                        errors.push(format!(
                            "{key}: `{raw}` is not a request rate above 0 and at most {max} per second (default {default})"
                        ));
                        default
                    }
                },
            }
        };
        let route53_rps = rate("ZW_ROUTE53_RPS", 2.0, 5.0);
        let acm_rps = rate("ZW_ACM_RPS", 8.0, 10.0);

        let per_certificate_metrics = match get("ZW_PER_CERTIFICATE_METRICS") {
            None => false,
            Some(raw) => match raw.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                _ => {
                    errors.push(format!(
                        "ZW_PER_CERTIFICATE_METRICS: `{raw}` is not true or false"
                    ));
                    false
                }
            },
        };

        let metrics_namespace = get("ZW_METRICS_NAMESPACE")
            .unwrap_or("Zonewarden")
            .to_owned();
        if metrics_namespace.starts_with("AWS/") || metrics_namespace.len() > 255 {
            errors.push(format!(
                "ZW_METRICS_NAMESPACE: `{metrics_namespace}` is reserved or too long"
            ));
        }

        let table_name = get("ZW_TABLE_NAME").map(str::to_owned);
        if let Some(t) = &table_name {
            let ok = (3..=255).contains(&t.len())
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
            if !ok {
                errors.push(format!(
                    "ZW_TABLE_NAME: `{t}` is not a DynamoDB table name (3-255 of a-z A-Z 0-9 _ - .)"
                ));
            }
        }

        if errors.is_empty() {
            Ok(Self {
                regions,
                table_name,
                rules,
                history_retention_days,
                per_certificate_metrics,
                metrics_namespace,
                route53_rps,
                acm_rps,
                acm_concurrency,
            })
        } else {
            Err(ConfigErrors(errors))
        }
    }
}

fn parse_thresholds(raw: &str) -> Result<ExpiryThresholds, String> {
    let parts: Result<Vec<u32>, _> = raw.split(',').map(|p| p.trim().parse::<u32>()).collect();
    match parts.as_deref() {
        Ok([medium, high, critical]) if medium >= high && high >= critical && *medium <= 3650 => {
            Ok(ExpiryThresholds {
                medium: *medium,
                high: *high,
                critical: *critical,
            })
        }
        _ => Err(format!(
            "`{raw}` must be three whole numbers of days, medium,high,critical, each no larger than the one before (default 30,14,7)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(vars: &[(&str, &str)]) -> Result<Config, ConfigErrors> {
        Config::from_vars(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn defaults_are_home_region_plus_us_east_1() {
        let c = cfg(&[("AWS_REGION", "eu-west-1")]).expect("valid");
        let names: Vec<&str> = c.regions.iter().map(Region::as_str).collect();
        assert_eq!(names, ["eu-west-1", "us-east-1"]);
        assert_eq!(c.rules.expiry, ExpiryThresholds::default());
        assert_eq!(c.history_retention_days, 90);
        assert!(!c.per_certificate_metrics);
        assert_eq!(c.metrics_namespace, "Zonewarden");
        assert_eq!(c.route53_rps, 2.0);
        assert_eq!(c.table_name, None);
    }

    #[test]
    fn us_east_1_is_not_listed_twice() {
        let c = cfg(&[("AWS_REGION", "us-east-1")]).expect("valid");
        assert_eq!(c.regions.len(), 1);
    }

    #[test]
    fn explicit_regions_win_and_are_deduplicated() {
        let c = cfg(&[
            ("AWS_REGION", "eu-west-1"),
            ("ZW_REGIONS", "ap-south-1, ap-south-1,sa-east-1"),
        ])
        .expect("valid");
        let names: Vec<&str> = c.regions.iter().map(Region::as_str).collect();
        assert_eq!(names, ["ap-south-1", "sa-east-1"]);
    }

    #[test]
    fn every_bad_variable_is_reported_at_once() {
        let err = cfg(&[
            ("ZW_REGIONS", "eu-west-1,Mars-1"),
            ("ZW_EXPIRY_DAYS", "7,14,30"),
            ("ZW_HISTORY_RETENTION_DAYS", "forever"),
            ("ZW_ROUTE53_RPS", "50"),
            ("ZW_PER_CERTIFICATE_METRICS", "maybe"),
            ("ZW_TABEL_NAME", "x"),
        ])
        .expect_err("invalid");
        let text = err.to_string();
        for needle in [
            "ZW_REGIONS: `Mars-1`",
            "ZW_EXPIRY_DAYS",
            "ZW_HISTORY_RETENTION_DAYS: `forever`",
            "ZW_ROUTE53_RPS: `50`",
            "ZW_PER_CERTIFICATE_METRICS",
            "ZW_TABEL_NAME: unknown setting",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
        }
        assert_eq!(err.0.len(), 6, "{text}");
    }

    #[test]
    fn no_region_at_all_says_how_to_fix() {
        let err = cfg(&[]).expect_err("no region");
        assert!(err.to_string().contains("set AWS_REGION"), "{err}");
    }

    #[test]
    fn thresholds_parse() {
        let c = cfg(&[("AWS_REGION", "eu-west-1"), ("ZW_EXPIRY_DAYS", "45, 21,3")]).expect("valid");
        assert_eq!(
            c.rules.expiry,
            ExpiryThresholds {
                medium: 45,
                high: 21,
                critical: 3
            }
        );
        assert!(cfg(&[("AWS_REGION", "eu-west-1"), ("ZW_EXPIRY_DAYS", "30,14")]).is_err());
    }
}
