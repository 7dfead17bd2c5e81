//! Configuration, read once into a typed struct. Every knob has the `ZW_`
//! prefix; standard AWS variables (`AWS_REGION`, `AWS_ENDPOINT_URL`, profiles)
//! keep their usual meaning and are read by the AWS SDK itself.
//!
//! In sections: common settings, then one per check family, each parsing its
//! own variables. Parsing takes the variables as a list rather than reading
//! the process environment, so it is pure; every bad value is reported at
//! once, and unknown `ZW_` names are refused (a misspelt knob silently ignored
//! is worse than an error).

use crate::metrics::Detail;
use crate::model::Region;
use crate::outbound::OutboundUrl;
use crate::settings::Vars;
// The families' own sections, named here too: `Config` holds one of each.
pub use crate::families::certificates::config::{CertificateConfig, ExpiryThresholds, RuleConfig};
pub use crate::families::ct::config::CtConfig;
pub use crate::families::dns::config::{
    AWS_IP_RANGES_URL, DnsConfig, IANA_ROOT_SERVERS, parse_server_address,
};
pub use crate::families::domains::config::DomainsConfig;
pub use crate::families::endpoints::config::{TlsConfig, parse_tls_target};
pub use crate::families::health::config::HealthConfig;
pub use crate::families::query_logs::config::QueryLogConfig;
use std::fmt;

/// Settings every family and the shared tail use.
#[derive(Debug, Clone, PartialEq)]
pub struct CommonConfig {
    /// `ZW_REGIONS` (comma-separated). Default: `AWS_REGION` plus us-east-1,
    /// where CloudFront's certificates live.
    pub regions: Vec<Region>,
    /// `ZW_TABLE_NAME`: the DynamoDB table. None means findings are not stored.
    pub table_name: Option<String>,
    /// `ZW_HISTORY_RETENTION_DAYS`, default 90: TTL of history, scan records and
    /// resolved findings.
    pub history_retention_days: u32,
    /// `ZW_METRICS_NAMESPACE`, default `Zonewarden`.
    pub metrics_namespace: String,
    /// `ZW_NOTIFY` (`on`/`off`, default `on`): finding events to EventBridge.
    /// Off is the maintenance switch: findings are kept, no event is sent,
    /// and transitions made meanwhile are never announced. The CLI sends
    /// events only with `--notify` (and this on).
    pub notify: bool,
    /// `ZW_EVENT_BUS_NAME`, default `default`: the bus finding events go to.
    pub event_bus_name: String,
    /// `ZW_NOTIFY_MIN_SEVERITY`, default `high`: what the daily digest lists
    /// (per-change routes filter with EventBridge rule patterns instead).
    pub notify_min_severity: crate::Severity,
    /// `ZW_STACK_NAME`, default `local`: the `Stack` dimension of every
    /// metric, so that a second stack or a CLI run never feeds (or silences)
    /// the alarms of another.
    pub stack_name: String,
    /// `ZW_METRICS_DETAIL`, `minimal` (default, at most 10 series) or `full`.
    pub metrics_detail: Detail,
    /// `ZW_ROUTE53_RPS`, default 2 requests/s. Route 53 allows 5/s per account,
    /// shared with the customer's own tooling.
    pub route53_rps: f64,
    /// How long any one AWS request may take (every adapter's client).
    pub aws_timeouts: AwsTimeouts,
    /// `ZW_SCAN_DEADLINE_SECONDS`, default 840: collection stops this long
    /// after a scan starts (in Lambda, earlier if the invocation ends
    /// sooner), so that what was collected is still stored and reported.
    pub scan_deadline_seconds: u32,
    /// `ZW_SUPPRESSIONS_PARAMETER`: SSM parameter holding the suppressions
    /// document (Lambda; `crate::triage::parse_file`).
    pub suppressions_parameter: Option<String>,
    /// `ZW_SUPPRESSIONS_FILE`: the same document from a file (CLI).
    pub suppressions_file: Option<String>,
    /// `ZW_AUDIT_RETENTION_DAYS`, default 365: how long the audit log keeps
    /// an entry.
    pub audit_retention_days: u32,
    /// `ZW_SCAN_RETENTION_DAYS`, default 90: how long scan records stay.
    pub scan_retention_days: u32,
}

/// Bounds on every AWS request, so that an endpoint that accepts a
/// connection and never answers costs seconds, not the whole scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AwsTimeouts {
    /// `ZW_AWS_CONNECT_TIMEOUT_MS`, default 3100 (the SDK's own default).
    pub connect_ms: u32,
    /// `ZW_AWS_ATTEMPT_TIMEOUT_MS`, default 20000: one attempt, sending the
    /// request to reading the whole response.
    pub attempt_ms: u32,
    /// `ZW_AWS_OPERATION_TIMEOUT_MS`, default 60000: one call, all its
    /// retries and back-off included.
    pub operation_ms: u32,
}

impl Default for AwsTimeouts {
    fn default() -> Self {
        Self {
            connect_ms: 3_100,
            attempt_ms: 20_000,
            operation_ms: 60_000,
        }
    }
}

/// Licensing: whether anything is ever sent to the vendor, and how the
/// cached license is judged. Every field empty = nothing leaves the account.
#[derive(Clone, PartialEq, Eq)]
pub struct LicenseConfig {
    /// `ZW_LICENSE_ENDPOINT`: the vendor's validation URL (https, no
    /// credentials, no fragment; http only to a loopback address, for tests:
    /// [`crate::outbound`]). None: no licensing traffic at all.
    pub endpoint: Option<OutboundUrl>,
    /// `ZW_LICENSE_KEY_PARAMETER`: the SSM SecureString parameter holding
    /// the key (the Lambda functions).
    pub key_parameter: Option<String>,
    /// `ZW_LICENSE_KEY`: the key itself (the CLI only). Never printed: Debug
    /// masks it.
    pub key: Option<String>,
    /// `ZW_FLEET_VISIBILITY` (`on`, the default, or `off`): whether the
    /// aggregate counts go with the key and version.
    pub fleet_visibility: bool,
    /// `ZW_LICENSE_GRACE_DAYS`, default 14: how long the cached license
    /// keeps working after the last successful validation.
    pub grace_days: u32,
    /// `ZW_LICENSE_PUBLIC_KEY`: the vendor's Ed25519 public key (base64url),
    /// for tests and self-hosted vendors; default the compiled-in key.
    pub public_key: Option<String>,
    /// `ZW_LICENSE_SENT_RETENTION_DAYS`, default 400: how long the record
    /// of each validation sent (`license sent`) is kept.
    pub sent_retention_days: u32,
}

impl Default for LicenseConfig {
    fn default() -> Self {
        Self {
            endpoint: None,
            key_parameter: None,
            key: None,
            fleet_visibility: true,
            grace_days: 14,
            public_key: None,
            sent_retention_days: 400,
        }
    }
}

impl fmt::Debug for LicenseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LicenseConfig")
            .field("endpoint", &self.endpoint)
            .field("key_parameter", &self.key_parameter)
            .field("key", &self.key.as_ref().map(|_| "****"))
            .field("fleet_visibility", &self.fleet_visibility)
            .field("grace_days", &self.grace_days)
            .field("public_key", &self.public_key)
            .field("sent_retention_days", &self.sent_retention_days)
            .finish()
    }
}

impl LicenseConfig {
    fn parse(v: &mut Vars) -> Self {
        let d = Self::default();
        let endpoint =
            v.get("ZW_LICENSE_ENDPOINT")
                .and_then(|raw| match OutboundUrl::endpoint(&raw) {
                    Ok(url) => Some(url),
                    Err(why) => {
                        v.error(format!("ZW_LICENSE_ENDPOINT: `{}` {why}", why.shown(&raw)));
                        None
                    }
                });
        let fleet_visibility = match v.get("ZW_FLEET_VISIBILITY").as_deref() {
            None | Some("on") => true,
            Some("off") => false,
            Some(other) => {
                v.error(format!(
                    "ZW_FLEET_VISIBILITY: `{other}` must be `on` (send aggregate counts with the key) or `off` (key and version only)"
                ));
                true
            }
        };
        let key = v.get("ZW_LICENSE_KEY");
        if key.is_some() && v.get("ZW_LICENSE_KEY_PARAMETER").is_some() {
            v.error("ZW_LICENSE_KEY and ZW_LICENSE_KEY_PARAMETER are both set: use the parameter in Lambda, the key only in the CLI".into());
        }
        Self {
            endpoint,
            key_parameter: v.get("ZW_LICENSE_KEY_PARAMETER"),
            key,
            fleet_visibility,
            grace_days: v.number("ZW_LICENSE_GRACE_DAYS", d.grace_days, 1, 90),
            public_key: v.get("ZW_LICENSE_PUBLIC_KEY"),
            sent_retention_days: v.number(
                "ZW_LICENSE_SENT_RETENTION_DAYS",
                d.sent_retention_days,
                30,
                3650,
            ),
        }
    }
}

/// Organization mode (`docs/organization.md`): how accounts are found and
/// entered. Unused in a single-account deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgConfig {
    /// `ZW_ORG_MEMBER_ROLE_NAME`: the read-only role in every member account.
    pub member_role_name: Option<String>,
    /// `ZW_ORG_UNITS`: OU or root ids whose accounts (nested OUs included)
    /// are scanned; empty: the whole organization.
    pub units: Vec<String>,
    /// `ZW_ORG_INCLUDE_ACCOUNTS`: only these accounts (empty: all selected).
    pub include: std::collections::BTreeSet<String>,
    /// `ZW_ORG_EXCLUDE_ACCOUNTS`: never these.
    pub exclude: std::collections::BTreeSet<String>,
    /// `ZW_ORG_MAX_CONCURRENCY`, default 40: accounts scanned at once.
    pub max_concurrency: u32,
    /// `ZW_ORG_TOLERATED_FAILURE_PERCENT`, default 10.
    pub tolerated_failure_percent: u32,
    /// `ZW_ORG_STALE_MINUTES`, default 60: an account whose last successful
    /// scan is older counts as not scanned.
    pub stale_minutes: u32,
}

impl Default for OrgConfig {
    fn default() -> Self {
        Self {
            member_role_name: None,
            units: Vec::new(),
            include: Default::default(),
            exclude: Default::default(),
            max_concurrency: 40,
            tolerated_failure_percent: 10,
            stale_minutes: 60,
        }
    }
}

impl OrgConfig {
    fn parse(v: &mut Vars) -> Self {
        let d = Self::default();
        let member_role_name = v.get("ZW_ORG_MEMBER_ROLE_NAME");
        if let Some(r) = &member_role_name
            && !check_role_name(r)
        {
            v.error(format!(
                "ZW_ORG_MEMBER_ROLE_NAME: `{r}` is not an IAM role name (1-64 of A-Z a-z 0-9 + = , . @ _ -)"
            ));
        }
        let units = v.list("ZW_ORG_UNITS").unwrap_or_default();
        for u in &units {
            if !(u.starts_with("ou-") || u.starts_with("r-"))
                || !u[2..]
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                v.error(format!(
                    "ZW_ORG_UNITS: `{u}` is not an organizational unit id (ou-xxxx-xxxxxxxx) or root id (r-xxxx)"
                ));
            }
        }
        let mut accounts = |key: &'static str| -> std::collections::BTreeSet<String> {
            let ids = v.list(key).unwrap_or_default();
            for id in &ids {
                if let Err(e) = crate::model::check_account_id(id) {
                    v.error(format!("{key}: {e}"));
                }
            }
            ids.into_iter().collect()
        };
        let include = accounts("ZW_ORG_INCLUDE_ACCOUNTS");
        let exclude = accounts("ZW_ORG_EXCLUDE_ACCOUNTS");
        Self {
            member_role_name,
            units,
            include,
            exclude,
            max_concurrency: v.number("ZW_ORG_MAX_CONCURRENCY", d.max_concurrency, 1, 1000),
            tolerated_failure_percent: v.number(
                "ZW_ORG_TOLERATED_FAILURE_PERCENT",
                d.tolerated_failure_percent,
                0,
                100,
            ),
            stale_minutes: v.number("ZW_ORG_STALE_MINUTES", d.stale_minutes, 15, 10080),
        }
    }
}

/// An IAM role name (not a path): what `arn:aws:iam::<id>:role/<name>` takes.
pub fn check_role_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub common: CommonConfig,
    pub certificates: CertificateConfig,
    pub dns: DnsConfig,
    pub health: HealthConfig,
    pub domains: DomainsConfig,
    pub tls: TlsConfig,
    pub ct: CtConfig,
    pub query_logs: QueryLogConfig,
    pub license: LicenseConfig,
    pub org: OrgConfig,
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

impl CommonConfig {
    fn parse(v: &mut Vars) -> Self {
        let regions = match v.list("ZW_REGIONS") {
            Some(list) => {
                let mut regions = Vec::new();
                for part in list {
                    match Region::parse(&part) {
                        Ok(r) if !regions.contains(&r) => regions.push(r),
                        Ok(_) => {}
                        Err(e) => v.error(format!("ZW_REGIONS: {e}")),
                    }
                }
                regions
            }
            None if v.has_error_for("ZW_REGIONS") => Vec::new(),
            None => {
                let home = v.get("AWS_REGION").or_else(|| v.get("AWS_DEFAULT_REGION"));
                match home.as_deref().map(Region::parse) {
                    Some(Ok(home)) => {
                        let cloudfront = Region(CLOUDFRONT_REGION.to_owned());
                        if home == cloudfront {
                            vec![home]
                        } else {
                            vec![home, cloudfront]
                        }
                    }
                    Some(Err(e)) => {
                        v.error(format!("AWS_REGION: {e}"));
                        Vec::new()
                    }
                    None => {
                        v.error(
                            "no region: set AWS_REGION (or pass --region / set ZW_REGIONS=eu-west-1,us-east-1)"
                                .to_owned(),
                        );
                        Vec::new()
                    }
                }
            }
        };
        let history_retention_days = v.number("ZW_HISTORY_RETENTION_DAYS", 90, 1, 3650);
        let route53_rps = v.rate("ZW_ROUTE53_RPS", 2.0, 5.0);
        let d = AwsTimeouts::default();
        let aws_timeouts = AwsTimeouts {
            connect_ms: v.number("ZW_AWS_CONNECT_TIMEOUT_MS", d.connect_ms, 100, 60_000),
            attempt_ms: v.number("ZW_AWS_ATTEMPT_TIMEOUT_MS", d.attempt_ms, 100, 300_000),
            operation_ms: v.number("ZW_AWS_OPERATION_TIMEOUT_MS", d.operation_ms, 100, 900_000),
        };
        if aws_timeouts.operation_ms < aws_timeouts.attempt_ms {
            v.error(format!(
                "ZW_AWS_OPERATION_TIMEOUT_MS: {} ms is shorter than one attempt (ZW_AWS_ATTEMPT_TIMEOUT_MS, {} ms); make it at least as long",
                aws_timeouts.operation_ms, aws_timeouts.attempt_ms
            ));
        }

        let metrics_namespace = v
            .get("ZW_METRICS_NAMESPACE")
            .unwrap_or_else(|| "Zonewarden".to_owned());
        if metrics_namespace.starts_with("AWS/") || metrics_namespace.len() > 255 {
            v.error(format!(
                "ZW_METRICS_NAMESPACE: `{metrics_namespace}` is reserved or too long"
            ));
        }
        let notify = match v.get("ZW_NOTIFY").as_deref() {
            None | Some("on") => true,
            Some("off") => false,
            Some(other) => {
                v.error(format!(
                    "ZW_NOTIFY: `{}` is not on or off (default on)",
                    other.escape_debug()
                ));
                true
            }
        };
        let notify_min_severity = match v.get("ZW_NOTIFY_MIN_SEVERITY") {
            None => crate::Severity::High,
            Some(raw) => raw.parse().unwrap_or_else(|_| {
                v.error(format!(
                    "ZW_NOTIFY_MIN_SEVERITY: `{}` is not critical, high, medium, low or info (default high)",
                    raw.escape_debug()
                ));
                crate::Severity::High
            }),
        };
        let event_bus_name = v
            .get("ZW_EVENT_BUS_NAME")
            .unwrap_or_else(|| "default".to_owned());
        // A bus name or ARN: 1-256 of EventBridge's characters.
        if event_bus_name.len() > 256
            || !event_bus_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/._-:".contains(c))
        {
            v.error(format!(
                "ZW_EVENT_BUS_NAME: `{}` is not an event bus name or ARN (default default)",
                event_bus_name.escape_debug()
            ));
        }
        let stack_name = v.get("ZW_STACK_NAME").unwrap_or_else(|| "local".to_owned());
        if stack_name.is_empty()
            || stack_name.len() > 255
            || stack_name.chars().any(char::is_control)
        {
            v.error(format!(
                "ZW_STACK_NAME: `{}` must be 1 to 255 printable characters (the stack's name; default local)",
                stack_name.escape_debug()
            ));
        }
        let metrics_detail = match v.get("ZW_METRICS_DETAIL").as_deref() {
            None | Some("minimal") => Detail::Minimal,
            Some("full") => Detail::Full,
            Some(other) => {
                v.error(format!(
                    "ZW_METRICS_DETAIL: `{other}` is not minimal or full (default minimal)"
                ));
                Detail::Minimal
            }
        };

        let table_name = v.get("ZW_TABLE_NAME");
        if let Some(t) = &table_name
            && let Err(e) = check_table_name(t)
        {
            v.error(format!("ZW_TABLE_NAME: {e}"));
        }
        Self {
            regions,
            table_name,
            history_retention_days,
            metrics_namespace,
            notify,
            notify_min_severity,
            event_bus_name,
            stack_name,
            metrics_detail,
            route53_rps,
            aws_timeouts,
            scan_deadline_seconds: v.number("ZW_SCAN_DEADLINE_SECONDS", 840, 10, 86_400),
            suppressions_parameter: v.get("ZW_SUPPRESSIONS_PARAMETER"),
            suppressions_file: v.get("ZW_SUPPRESSIONS_FILE"),
            audit_retention_days: v.number("ZW_AUDIT_RETENTION_DAYS", 365, 30, 3650),
            scan_retention_days: v.number("ZW_SCAN_RETENTION_DAYS", 90, 1, 3650),
        }
    }
}

/// DynamoDB's rule for table names, for `ZW_TABLE_NAME` and `--table`.
pub fn check_table_name(t: &str) -> Result<(), String> {
    let ok = (3..=255).contains(&t.len())
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{t}` is not a DynamoDB table name (3-255 of a-z A-Z 0-9 _ - .)"
        ))
    }
}

impl Config {
    /// Every `ZW_` setting `from_vars` reads: the only ones it accepts, as
    /// the sections' parsers read them (`crate::settings`), so a setting
    /// cannot be parsed and still be refused as unknown. The README's
    /// settings table is tested against this list, so a new setting cannot
    /// ship undocumented either.
    pub fn known_settings() -> impl Iterator<Item = &'static str> {
        let mut v = Vars::new(std::iter::empty::<(String, String)>());
        Self::parse(&mut v);
        v.read_keys().collect::<Vec<_>>().into_iter()
    }

    fn parse(v: &mut Vars) -> Self {
        Self {
            common: CommonConfig::parse(v),
            certificates: CertificateConfig::parse(v),
            dns: DnsConfig::parse(v),
            health: HealthConfig::parse(v),
            domains: DomainsConfig::parse(v),
            tls: TlsConfig::parse(v),
            ct: CtConfig::parse(v),
            query_logs: QueryLogConfig::parse(v),
            license: LicenseConfig::parse(v),
            org: OrgConfig::parse(v),
        }
    }

    /// Builds the configuration from environment-style variables.
    pub fn from_vars<I, K, V>(vars: I) -> Result<Self, ConfigErrors>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let mut v = Vars::new(vars);
        let config = Self::parse(&mut v);
        // ZW_BLESS only refreshes generated docs in tests.
        v.finish(&["ZW_BLESS"])
            .map(|()| config)
            .map_err(ConfigErrors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;

    fn cfg(vars: &[(&str, &str)]) -> Result<Config, ConfigErrors> {
        Config::from_vars(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn every_setting_is_read_whatever_the_others_hold() {
        // `known_settings` is what the parsers read from nothing; a name read
        // only when another one is set would be missing from it (and refused
        // as unknown): with every name set, the same names must be read.
        let known: std::collections::BTreeSet<&str> = Config::known_settings().collect();
        assert!(known.contains("ZW_TABLE_NAME") && known.contains("ZW_ORG_STALE_MINUTES"));
        for value in ["x", "1", "on", "a,b", "2030-01-01"] {
            let mut v = Vars::new(known.iter().map(|k| (k.to_string(), value.to_owned())));
            Config::parse(&mut v);
            let read: std::collections::BTreeSet<&str> = v.read_keys().collect();
            assert_eq!(read, known, "with every setting = {value}");
        }
    }

    #[test]
    fn defaults_are_home_region_plus_us_east_1() {
        let c = cfg(&[("AWS_REGION", "eu-west-1")]).expect("valid");
        let names: Vec<&str> = c.common.regions.iter().map(Region::as_str).collect();
        assert_eq!(names, ["eu-west-1", "us-east-1"]);
        assert_eq!(c.certificates.rules.expiry, ExpiryThresholds::default());
        assert_eq!(c.common.history_retention_days, 90);
        assert!(!c.certificates.per_certificate_metrics);
        assert_eq!(c.common.metrics_namespace, "Zonewarden");
        assert_eq!(c.common.route53_rps, 2.0);
        assert_eq!(c.common.table_name, None);
    }

    #[test]
    fn us_east_1_is_not_listed_twice() {
        let c = cfg(&[("AWS_REGION", "us-east-1")]).expect("valid");
        assert_eq!(c.common.regions.len(), 1);
    }

    #[test]
    fn explicit_regions_win_and_are_deduplicated() {
        let c = cfg(&[
            ("AWS_REGION", "eu-west-1"),
            ("ZW_REGIONS", "ap-south-1, ap-south-1,sa-east-1"),
        ])
        .expect("valid");
        let names: Vec<&str> = c.common.regions.iter().map(Region::as_str).collect();
        assert_eq!(names, ["ap-south-1", "sa-east-1"]);
    }

    #[test]
    fn every_bad_variable_is_reported_at_once() {
        let err = cfg(&[
            ("ZW_REGIONS", "eu-west-1,Mars-1"),
            ("ZW_EXPIRY_DAYS", "7,0,30"),
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
    fn aws_timeouts_default_parse_and_must_fit_each_other() {
        let c = cfg(&[("AWS_REGION", "eu-west-1")]).expect("valid");
        assert_eq!(c.common.aws_timeouts, AwsTimeouts::default());
        let c = cfg(&[
            ("AWS_REGION", "eu-west-1"),
            ("ZW_AWS_CONNECT_TIMEOUT_MS", "500"),
            ("ZW_AWS_ATTEMPT_TIMEOUT_MS", "1000"),
            ("ZW_AWS_OPERATION_TIMEOUT_MS", "4000"),
        ])
        .expect("valid");
        assert_eq!(
            c.common.aws_timeouts,
            AwsTimeouts {
                connect_ms: 500,
                attempt_ms: 1000,
                operation_ms: 4000
            }
        );
        let err = cfg(&[
            ("AWS_REGION", "eu-west-1"),
            ("ZW_AWS_CONNECT_TIMEOUT_MS", "0"),
            ("ZW_AWS_ATTEMPT_TIMEOUT_MS", "5000"),
            ("ZW_AWS_OPERATION_TIMEOUT_MS", "2000"),
        ])
        .expect_err("invalid");
        let text = err.to_string();
        assert!(text.contains("ZW_AWS_CONNECT_TIMEOUT_MS: `0`"), "{text}");
        assert!(
            text.contains("ZW_AWS_OPERATION_TIMEOUT_MS: 2000 ms is shorter than one attempt"),
            "{text}"
        );
        assert_eq!(err.0.len(), 2, "{text}");
    }

    #[test]
    fn no_region_at_all_says_how_to_fix() {
        let err = cfg(&[]).expect_err("no region");
        assert!(err.to_string().contains("set AWS_REGION"), "{err}");
    }

    #[test]
    fn notifications_default_on_and_refuse_anything_but_on_or_off() {
        let c = cfg(&[("AWS_REGION", "eu-west-1")]).expect("valid");
        assert!(c.common.notify);
        assert_eq!(c.common.event_bus_name, "default");
        let c = cfg(&[("AWS_REGION", "eu-west-1"), ("ZW_NOTIFY", "off")]).expect("valid");
        assert!(!c.common.notify);
        let e = cfg(&[("AWS_REGION", "eu-west-1"), ("ZW_NOTIFY", "yes")]).expect_err("bad");
        assert!(
            e.to_string().contains("ZW_NOTIFY: `yes` is not on or off"),
            "{e}"
        );
        let e = cfg(&[("AWS_REGION", "eu-west-1"), ("ZW_EVENT_BUS_NAME", "a b")]).expect_err("bad");
        assert!(e.to_string().contains("ZW_EVENT_BUS_NAME"), "{e}");
    }

    #[test]
    fn thresholds_parse() {
        let c = cfg(&[("AWS_REGION", "eu-west-1"), ("ZW_EXPIRY_DAYS", "45, 21,3")]).expect("valid");
        assert_eq!(
            c.certificates.rules.expiry,
            ExpiryThresholds {
                medium: 45,
                high: 21,
                critical: 3
            }
        );
        assert!(cfg(&[("AWS_REGION", "eu-west-1"), ("ZW_EXPIRY_DAYS", "30,14")]).is_err());
        // Any order: the template's `7,14,30` means the same as `30,14,7`.
        let c = cfg(&[("AWS_REGION", "eu-west-1"), ("ZW_EXPIRY_DAYS", "7,30,14")]).expect("valid");
        assert_eq!(
            c.certificates.rules.expiry,
            ExpiryThresholds {
                medium: 30,
                high: 14,
                critical: 7
            }
        );
        for bad in ["0,14,7", "30,14,7,3", "3651,14,7", "30,,7"] {
            let e = cfg(&[("AWS_REGION", "eu-west-1"), ("ZW_EXPIRY_DAYS", bad)])
                .expect_err(bad)
                .to_string();
            assert!(e.contains("from 1 to 3650"), "{bad}: {e}");
        }
    }

    #[test]
    fn an_empty_region_list_is_refused_not_scanned() {
        let err = cfg(&[("AWS_REGION", "eu-west-1"), ("ZW_REGIONS", " , ")]).expect_err("empty");
        assert!(
            err.to_string().contains("ZW_REGIONS: `,` lists nothing"),
            "{err}"
        );
        assert_eq!(err.0.len(), 1, "{err}");
    }

    #[test]
    fn dns_settings_parse_and_bad_ones_are_named() {
        let c = cfg(&[
            ("AWS_REGION", "eu-west-1"),
            ("ZW_DNS_ROOT_HINTS", "127.0.0.10:5300, 127.0.0.11"),
            (
                "ZW_DNS_NAMESERVER_ADDRESSES",
                "NS-1.awsdns-01.com=127.0.0.31:5301,ns-1.awsdns-01.com.=[::1]:5302",
            ),
            ("ZW_DNS_TIMEOUT_MS", "300"),
            ("ZW_METRICS_DETAIL", "full"),
        ])
        .expect("valid");
        assert_eq!(
            c.dns.root_hints,
            vec![
                "127.0.0.10:5300".parse::<SocketAddr>().expect("addr"),
                "127.0.0.11:53".parse().expect("addr")
            ]
        );
        assert_eq!(c.dns.nameserver_addresses["ns-1.awsdns-01.com."].len(), 2);
        assert_eq!(c.dns.timeout_ms, 300);
        assert_eq!(c.common.metrics_detail, Detail::Full);
        assert_eq!(
            cfg(&[("AWS_REGION", "eu-west-1")])
                .expect("ok")
                .dns
                .root_hints
                .len(),
            13
        );

        let err = cfg(&[
            ("AWS_REGION", "eu-west-1"),
            ("ZW_DNS_ROOT_HINTS", "a.root-servers.net"),
            ("ZW_DNS_NAMESERVER_ADDRESSES", "ns1.example.com"),
            ("ZW_DNS_TIMEOUT_MS", "0"),
            ("ZW_METRICS_DETAIL", "verbose"),
        ])
        .expect_err("invalid");
        let text = err.to_string();
        for needle in [
            "ZW_DNS_ROOT_HINTS: `a.root-servers.net`",
            "ZW_DNS_NAMESERVER_ADDRESSES: `ns1.example.com` is not name=ip[:port]",
            "ZW_DNS_TIMEOUT_MS: `0`",
            "ZW_METRICS_DETAIL: `verbose`",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
        }
        assert_eq!(err.0.len(), 4, "{text}");
    }

    #[test]
    fn health_and_tls_settings_parse_with_defaults() {
        let c = cfg(&[("AWS_REGION", "eu-west-1")]).expect("valid");
        assert_eq!(c.health, HealthConfig::default());
        assert_eq!(c.tls.ports, vec![443]);
        let c = cfg(&[
            ("AWS_REGION", "eu-west-1"),
            (
                "ZW_TLS_TARGETS",
                "www.Example.com., api.example.com:8443,[::1]:9443,10.0.0.1",
            ),
            ("ZW_TLS_PORTS", "443,8443,443"),
            ("ZW_TLS_TIMEOUT_MS", "2500"),
            ("ZW_TLS_CONCURRENCY", "8"),
            ("ZW_TLS_EXTRA_ROOTS", "/etc/private-ca.pem"),
            ("ZW_HEALTH_FLAP_TRANSITIONS", "3"),
            ("ZW_HEALTH_FLAP_WINDOW_MINUTES", "30"),
        ])
        .expect("valid");
        assert_eq!(
            c.tls.targets,
            vec![
                ("www.example.com".to_owned(), 443),
                ("api.example.com".to_owned(), 8443),
                ("::1".to_owned(), 9443),
                ("10.0.0.1".to_owned(), 443),
            ]
        );
        assert_eq!(c.tls.ports, vec![443, 8443]);
        assert_eq!((c.tls.timeout_ms, c.tls.concurrency), (2500, 8));
        assert_eq!(
            c.tls.extra_roots_file.as_deref(),
            Some("/etc/private-ca.pem")
        );
        assert_eq!(
            (c.health.flap_transitions, c.health.flap_window_minutes),
            (3, 30)
        );
    }

    #[test]
    fn malformed_health_and_tls_settings_are_refused_each_by_name() {
        let err = cfg(&[
            ("AWS_REGION", "eu-west-1"),
            ("ZW_TLS_TARGETS", "www.example.com:0,bad host"),
            ("ZW_TLS_PORTS", "https"),
            ("ZW_TLS_TIMEOUT_MS", "5"),
            ("ZW_TLS_CONCURRENCY", "0"),
            ("ZW_HEALTH_FLAP_TRANSITIONS", "1"),
            ("ZW_HEALTH_FLAP_WINDOW_MINUTES", "hour"),
            ("ZW_TLS_PORT", "443"),
        ])
        .expect_err("invalid");
        let text = err.to_string();
        for needle in [
            "ZW_TLS_TARGETS: `www.example.com:0` is not host[:port]",
            "ZW_TLS_TARGETS: `bad host` is not host[:port]",
            "ZW_TLS_PORTS: `https` is not a port",
            "ZW_TLS_TIMEOUT_MS: `5`",
            "ZW_TLS_CONCURRENCY: `0`",
            "ZW_HEALTH_FLAP_TRANSITIONS: `1`",
            "ZW_HEALTH_FLAP_WINDOW_MINUTES: `hour`",
            "ZW_TLS_PORT: unknown setting",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
        }
        assert_eq!(err.0.len(), 8, "{text}");
    }

    #[test]
    fn license_settings_default_to_sending_nothing_and_refuse_bad_values() {
        let c = Config::from_vars([("AWS_REGION", "eu-west-1")]).unwrap();
        assert_eq!(c.license, LicenseConfig::default());
        assert_eq!(c.org, OrgConfig::default());
        assert!(c.license.endpoint.is_none() && c.license.fleet_visibility);
        let c = Config::from_vars([
            ("AWS_REGION", "eu-west-1"),
            (
                "ZW_LICENSE_ENDPOINT",
                "https://license.example.com/v1/licenses/validate",
            ),
            ("ZW_LICENSE_KEY", "zwk_ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
            ("ZW_FLEET_VISIBILITY", "off"),
            ("ZW_LICENSE_GRACE_DAYS", "7"),
            ("ZW_LICENSE_SENT_RETENTION_DAYS", "730"),
            ("ZW_SCAN_RETENTION_DAYS", "30"),
            ("ZW_AUDIT_RETENTION_DAYS", "1000"),
        ])
        .unwrap();
        assert!(!c.license.fleet_visibility);
        assert_eq!(c.license.grace_days, 7);
        assert_eq!(
            (
                c.license.sent_retention_days,
                c.common.scan_retention_days,
                c.common.audit_retention_days
            ),
            (730, 30, 1000)
        );
        // The key never shows in Debug output.
        assert!(!format!("{:?}", c).contains("ABCDEFG"));
        let err = Config::from_vars([
            ("AWS_REGION", "eu-west-1"),
            ("ZW_LICENSE_ENDPOINT", "http://license.example.com/"),
            ("ZW_FLEET_VISIBILITY", "maybe"),
            ("ZW_LICENSE_GRACE_DAYS", "0"),
            ("ZW_AUDIT_RETENTION_DAYS", "7"),
        ])
        .unwrap_err()
        .to_string();
        for part in [
            "ZW_AUDIT_RETENTION_DAYS: `7`",
            "ZW_LICENSE_ENDPOINT: `http://license.example.com/` must be an https:// URL",
            "ZW_FLEET_VISIBILITY: `maybe`",
            "ZW_LICENSE_GRACE_DAYS: `0`",
        ] {
            assert!(err.contains(part), "{err}");
        }
        assert!(
            Config::from_vars([
                ("AWS_REGION", "eu-west-1"),
                (
                    "ZW_LICENSE_ENDPOINT",
                    "http://127.0.0.1:8080/v1/licenses/validate"
                )
            ])
            .is_ok()
        );
    }

    #[test]
    fn outbound_urls_are_parsed_not_sliced() {
        // Each of these passed the old prefix checks: the first two by
        // starting with `http://127.0.0.1`, the rest by starting with a scheme.
        for (key, raw, why) in [
            (
                "ZW_LICENSE_ENDPOINT",
                "http://127.0.0.1:80@evil.example/v1",
                "carries a user name or password",
            ),
            (
                "ZW_LICENSE_ENDPOINT",
                "http://127.0.0.1.evil.example/v1",
                "must be an https:// URL",
            ),
            (
                "ZW_LICENSE_ENDPOINT",
                "https://license.example.com/v1#frag",
                "has a fragment",
            ),
            (
                "ZW_AWS_IP_RANGES_URL",
                "http://ip-ranges.example.com/ip-ranges.json",
                "must be an https:// URL",
            ),
            (
                "ZW_AWS_IP_RANGES_URL",
                "https://user:hunter2@ip-ranges.amazonaws.com/ip-ranges.json",
                "carries a user name or password",
            ),
        ] {
            let err = Config::from_vars([("AWS_REGION", "eu-west-1"), (key, raw)])
                .expect_err(raw)
                .to_string();
            assert!(err.contains(key) && err.contains(why), "{raw}: {err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
        let c = Config::from_vars([
            ("AWS_REGION", "eu-west-1"),
            ("ZW_LICENSE_ENDPOINT", "https://License.Example.com:443/v1"),
            ("ZW_AWS_IP_RANGES_URL", "http://127.0.0.1:9/ip-ranges.json"),
        ])
        .expect("valid");
        assert_eq!(
            c.license.endpoint.as_ref().map(OutboundUrl::as_str),
            Some("https://license.example.com/v1")
        );
        assert_eq!(c.dns.ip_ranges_url, "http://127.0.0.1:9/ip-ranges.json");
    }

    #[test]
    fn organization_settings_parse_and_bad_ones_are_named() {
        let c = Config::from_vars([
            ("AWS_REGION", "eu-west-1"),
            ("ZW_ORG_MEMBER_ROLE_NAME", "zonewarden-member"),
            ("ZW_ORG_UNITS", "ou-ab12-cdef3456,r-ab12"),
            ("ZW_ORG_EXCLUDE_ACCOUNTS", "111122223333"),
            ("ZW_ORG_MAX_CONCURRENCY", "100"),
        ])
        .expect("valid");
        assert_eq!(c.org.member_role_name.as_deref(), Some("zonewarden-member"));
        assert_eq!(c.org.units.len(), 2);
        assert!(c.org.exclude.contains("111122223333"));
        assert_eq!((c.org.max_concurrency, c.org.stale_minutes), (100, 60));
        let e = Config::from_vars([
            ("AWS_REGION", "eu-west-1"),
            ("ZW_ORG_MEMBER_ROLE_NAME", "role/with/path"),
            ("ZW_ORG_UNITS", "engineering"),
            ("ZW_ORG_INCLUDE_ACCOUNTS", "1111-2222-3333"),
            ("ZW_ORG_TOLERATED_FAILURE_PERCENT", "101"),
        ])
        .expect_err("invalid")
        .to_string();
        for key in [
            "ZW_ORG_MEMBER_ROLE_NAME",
            "ZW_ORG_UNITS: `engineering`",
            "ZW_ORG_INCLUDE_ACCOUNTS: `1111-2222-3333`",
            "ZW_ORG_TOLERATED_FAILURE_PERCENT",
        ] {
            assert!(e.contains(key), "{key} not in {e}");
        }
    }
}
