//! The query-log family's settings: the log groups it may read (the same
//! patterns the function's IAM policy grants) and the thresholds of its
//! verdicts.

use super::judge::Thresholds;
use crate::settings::Vars;

/// Where the query logs may be read, and what counts as unusual.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryLogConfig {
    /// `ZW_QUERY_LOG_GROUPS`, default `/aws/route53/*`: the log groups of
    /// public hosted zones' query logs that may be read (names, one trailing
    /// `*` for a prefix). A zone logging elsewhere is reported as a scan
    /// error, not read: the function's role grants only these groups.
    pub groups: Vec<GroupPattern>,
    /// `ZW_RESOLVER_QUERY_LOG_GROUPS`, default empty (Resolver query logs
    /// off): the log groups of Route 53 Resolver query logging
    /// configurations that may be read, in every configured region.
    pub resolver_groups: Vec<GroupPattern>,
    pub thresholds: Thresholds,
    /// `ZW_QUERY_LOG_MAX_EVENTS`, default 200,000: the events one log
    /// group's window is read with `FilterLogEvents` at most; a busier
    /// window is counted by CloudWatch Logs Insights instead.
    pub max_events: u32,
}

impl Default for QueryLogConfig {
    fn default() -> Self {
        Self {
            groups: vec![GroupPattern("/aws/route53/*".to_owned())],
            resolver_groups: Vec::new(),
            thresholds: Thresholds::default(),
            max_events: 200_000,
        }
    }
}

/// A log group name, or a prefix ending in one `*` (as the IAM policy's
/// resource names them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupPattern(String);

impl GroupPattern {
    /// A pattern: 1 to 512 characters of a log group name (letters, digits,
    /// `_-./#`), with at most one `*`, at its end.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let body = raw.strip_suffix('*').unwrap_or(raw);
        if raw.is_empty() || raw.len() > 512 {
            return Err(format!("`{raw}` is not 1 to 512 characters"));
        }
        if let Some(bad) = body
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "_-./#".contains(*c)))
        {
            return Err(format!(
                "`{raw}` has `{bad}`: a log group name is letters, digits and `_-./#`, with one `*` at the end for a prefix"
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the log group `name` is one the pattern names.
    pub fn matches(&self, name: &str) -> bool {
        match self.0.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => name == self.0,
        }
    }
}

/// Whether any of the patterns names the log group.
pub fn allowed(patterns: &[GroupPattern], name: &str) -> bool {
    patterns.iter().any(|p| p.matches(name))
}

impl QueryLogConfig {
    pub(crate) fn parse(v: &mut Vars) -> Self {
        let mut c = Self::default();
        if let Some(groups) = patterns(v, "ZW_QUERY_LOG_GROUPS") {
            c.groups = groups;
        }
        c.resolver_groups = patterns(v, "ZW_RESOLVER_QUERY_LOG_GROUPS").unwrap_or_default();
        let t = &mut c.thresholds;
        t.spike_factor = factor(v, "ZW_QUERY_LOG_SPIKE_FACTOR", t.spike_factor);
        t.spike_floor_per_hour =
            u64::from(v.number("ZW_QUERY_LOG_SPIKE_FLOOR", 100, 1, 100_000_000));
        t.missing_name_min =
            u64::from(v.number("ZW_QUERY_LOG_MISSING_NAME_MIN", 50, 1, 100_000_000));
        // A source keeps at most NAME_LIMIT names: a minimum at or past it
        // could never fire.
        t.storm_names_min = u64::from(v.number(
            "ZW_QUERY_LOG_STORM_NAMES_MIN",
            100,
            1,
            u32::try_from(super::aggregate::NAME_LIMIT - 1).unwrap_or(u32::MAX),
        ));
        c.max_events = v.number("ZW_QUERY_LOG_MAX_EVENTS", c.max_events, 1_000, 5_000_000);
        c
    }

    /// Whether Resolver query logs are read at all.
    pub fn resolver_enabled(&self) -> bool {
        !self.resolver_groups.is_empty()
    }
}

fn patterns(v: &mut Vars, key: &'static str) -> Option<Vec<GroupPattern>> {
    let items = v.list(key)?;
    let mut out = Vec::new();
    for item in items {
        match GroupPattern::parse(&item) {
            Ok(p) => out.push(p),
            Err(why) => v.error(format!("{key}: {why}")),
        }
    }
    Some(out)
}

fn factor(v: &mut Vars, key: &'static str, default: f64) -> f64 {
    match v.get(key) {
        None => default,
        Some(raw) => match raw.parse::<f64>() {
            Ok(n) if (1.0..=1000.0).contains(&n) => n,
            _ => {
                v.error(format!(
                    "{key}: `{raw}` is not a factor from 1 to 1000 (default {default})"
                ));
                default
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(vars: &[(&str, &str)]) -> (QueryLogConfig, Vec<String>) {
        let mut v = Vars::new(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let c = QueryLogConfig::parse(&mut v);
        let errors = v.finish(&[]).err().unwrap_or_default();
        (c, errors)
    }

    #[test]
    fn defaults_read_route53_groups_and_no_resolver_logs() {
        let (c, errors) = parse(&[]);
        assert!(errors.is_empty(), "{errors:?}");
        assert!(allowed(&c.groups, "/aws/route53/example.com"));
        assert!(!allowed(&c.groups, "/aws/route53resolver/x"));
        assert!(!allowed(&c.groups, "queries"));
        assert!(!c.resolver_enabled());
        assert_eq!(c.thresholds, Thresholds::default());
    }

    #[test]
    fn patterns_and_thresholds_are_read_and_bad_ones_named() {
        let (c, errors) = parse(&[
            ("ZW_QUERY_LOG_GROUPS", "dns-queries, /aws/route53/*"),
            ("ZW_RESOLVER_QUERY_LOG_GROUPS", "/vpc/dns*"),
            ("ZW_QUERY_LOG_SPIKE_FACTOR", "2.5"),
            ("ZW_QUERY_LOG_MISSING_NAME_MIN", "10"),
        ]);
        assert!(errors.is_empty(), "{errors:?}");
        assert!(allowed(&c.groups, "dns-queries"));
        assert!(!allowed(&c.groups, "dns-queries-2"));
        assert!(allowed(&c.resolver_groups, "/vpc/dns-prod"));
        assert!((c.thresholds.spike_factor - 2.5).abs() < f64::EPSILON);
        assert_eq!(c.thresholds.missing_name_min, 10);

        let (_, errors) = parse(&[
            ("ZW_QUERY_LOG_GROUPS", "/aws/*/x"),
            ("ZW_QUERY_LOG_SPIKE_FACTOR", "0.5"),
            ("ZW_QUERY_LOG_STORM_NAMES_MIN", "10000"),
        ]);
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with("ZW_QUERY_LOG_GROUPS: `/aws/*/x` has `*`"))
        );
    }
}
