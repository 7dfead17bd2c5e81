//! Triage: what people decided about findings.
//!
//! A **suppression** is accepted risk: it matches findings by code (a glob),
//! resource, account, region and tag, and carries a reason, an owner and an
//! end date (at most `MAX_DAYS` away). A suppressed finding is still
//! evaluated and stored (state `suppressed`, with the suppression's id) but
//! is left out of `OpenFindings`, the alarms and the routes. Suppressions come
//! from the table (`zonewarden suppress add`) and from a YAML document kept
//! with the stack (an SSM parameter), merged.
//!
//! An **acknowledgement** says someone is on it: the finding stays open and
//! counted, but drops out of the digest until it changes (a severity change
//! or a reopen clears it), the acknowledgement ends, or it resolves.
//!
//! Pure: the store reads suppressions, the reconcile step applies them
//! (`reconcile::plan_with`), and `usage_detections` reports the ones that
//! matched nothing for `UNUSED_DAYS` or end within `ENDING_DAYS`.

use crate::catalogue::{Check, FindingCode};
use crate::finding::{Detection, Finding, Resource, ResourceKind, StoredFinding};
use crate::model::Region;
// Stored on the finding itself; named here too, where they are decided.
pub use crate::finding::{Acknowledgement, SuppressedBy};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A suppression ends at most this many days after it is created.
pub const MAX_DAYS: i64 = 366;
/// A suppression that matched no finding for this long is reported.
pub const UNUSED_DAYS: i64 = 30;
/// A suppression that ends within this many days is reported.
pub const ENDING_DAYS: i64 = 7;
/// Scope of the findings about suppressions themselves.
pub const SCOPE: &str = "suppressions";
/// The id prefix of suppressions read from the YAML document.
pub const FILE_PREFIX: &str = "file:";

/// `*` (any run of characters, none included) and `?` (exactly one) match;
/// everything else matches itself. Case-sensitive, like the codes and ARNs.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    // Where the last `*` was, and the text position it is trying to cover up to.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && p[pi] == t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            // Let the last `*` swallow one more character and try again.
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// A resource tag a suppression requires (`key=value`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

impl Tag {
    /// `key=value`, both non-empty.
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => Ok(Self {
                key: k.trim().to_owned(),
                value: v.trim().to_owned(),
            }),
            _ => Err(format!(
                "tag `{raw}` is not `KEY=VALUE` (for example `team=platform`)"
            )),
        }
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.key, self.value)
    }
}

/// Which findings a suppression covers: every given field must match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Matcher {
    /// Glob over the finding code (`health.*`, `dns.dangling-target`).
    pub code: String,
    /// Glob over the resource's id (ARN, record set id) or its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The member account (organization mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// A tag of the resource, where zonewarden reads its tags (Route 53
    /// health checks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<Tag>,
}

impl Matcher {
    /// Refuses what cannot match as meant: a code glob matching no finding
    /// code (a typo), a malformed account or region, empty globs.
    pub fn validate(&self) -> Result<(), String> {
        let code = self.code.trim();
        if code.is_empty() {
            return Err("the code is empty (give a code or a glob, e.g. `health.*`)".into());
        }
        if !FindingCode::ALL
            .iter()
            .any(|c| !is_about_suppressions(*c) && glob_matches(code, c.id()))
        {
            return Err(format!(
                "code `{code}` matches no finding code (see docs/findings.md; globs use `*` and `?`, e.g. `health.*`)"
            ));
        }
        if let Some(r) = &self.resource
            && r.trim().is_empty()
        {
            return Err("the resource is empty (give an id, a name or a glob)".into());
        }
        if let Some(a) = &self.account {
            crate::model::check_account_id(a)?;
        }
        if let Some(r) = &self.region
            && r != "global"
        {
            Region::parse(r)?;
        }
        Ok(())
    }

    /// Whether `f`, a finding of `account` (None: a single-account
    /// deployment, where an account-scoped suppression matches nothing),
    /// is covered.
    pub fn matches(&self, f: &Finding, account: Option<&str>) -> bool {
        if is_about_suppressions(f.code) || !glob_matches(&self.code, f.code.id()) {
            return false;
        }
        if let Some(r) = &self.resource
            && !glob_matches(r, &f.resource.id)
            && !glob_matches(r, &f.resource.name)
        {
            return false;
        }
        if let Some(a) = &self.account
            && account != Some(a.as_str())
        {
            return false;
        }
        if let Some(r) = &self.region
            && r != f.region.as_str()
        {
            return false;
        }
        if let Some(t) = &self.tag {
            let tagged = f
                .evidence
                .get("tags")
                .and_then(|tags| tags.get(&t.key))
                .and_then(|v| v.as_str())
                == Some(t.value.as_str());
            if !tagged {
                return false;
            }
        }
        true
    }
}

/// The findings about suppressions are never suppressed: nothing is hidden
/// without a trace.
fn is_about_suppressions(code: FindingCode) -> bool {
    code.check() == Check::Suppressions
}

/// Where a suppression is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The findings table (`zonewarden suppress add`).
    Table,
    /// The YAML document deployed with the stack.
    File,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    pub id: String,
    #[serde(flatten)]
    pub matcher: Matcher,
    pub reason: String,
    /// Who created it: the caller's IAM identity (table), the `owner` (file).
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub source: Source,
}

impl Suppression {
    /// Refuses a suppression without a reason, without a future end date or
    /// ending more than `MAX_DAYS` after `now`, or with a matcher that
    /// cannot match as meant.
    pub fn validate(&self, now: DateTime<Utc>) -> Result<(), String> {
        if self.reason.trim().is_empty() {
            return Err("a reason is required (why is this accepted?)".into());
        }
        check_until(self.until, now)?;
        self.matcher.validate()
    }

    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.until > now
    }

    /// What a finding it covers carries.
    pub fn reference(&self) -> SuppressedBy {
        SuppressedBy {
            id: self.id.clone(),
            reason: self.reason.clone(),
            until: self.until,
            created_by: self.created_by.clone(),
        }
    }
}

/// An end date in the future and at most `MAX_DAYS` from `now`.
pub fn check_until(until: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), String> {
    if until <= now {
        return Err(format!(
            "the end date {} is not in the future",
            until.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    if until > now + Duration::days(MAX_DAYS) {
        return Err(format!(
            "the end date {} is more than {MAX_DAYS} days away; a suppression must be reviewed at least yearly",
            until.format("%Y-%m-%d")
        ));
    }
    Ok(())
}

/// `--until`: a date (`2027-03-31`, the suppression lasts through that day,
/// UTC) or an RFC 3339 time.
pub fn parse_until(raw: &str) -> Result<DateTime<Utc>, String> {
    let raw = raw.trim();
    if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return d
            .succ_opt()
            .and_then(|next| next.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc())
            .ok_or_else(|| format!("`{raw}` is out of range"));
    }
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            format!(
                "`{raw}` is not a date (`2027-03-31`) or an RFC 3339 time (`2027-03-31T12:00:00Z`)"
            )
        })
}

/// `--for`: `30d`, `2w` or `12h`.
pub fn parse_for(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let bad = || format!("`{raw}` is not a duration (e.g. `30d`, `2w`, `12h`)");
    let split = raw.len().checked_sub(1).ok_or_else(bad)?;
    let (n, unit) = raw.split_at(split);
    let n: i64 = n.parse().map_err(|_| bad())?;
    if n <= 0 {
        return Err(bad());
    }
    match unit {
        "d" => Ok(Duration::days(n)),
        "w" => Ok(Duration::weeks(n)),
        "h" => Ok(Duration::hours(n)),
        _ => Err(bad()),
    }
}

/// One change a person made through zonewarden, kept in the audit log
/// (`zonewarden audit`): who, when, what, and the item before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// The caller's IAM identity (an ARN), or the function's role.
    pub actor: String,
    /// `suppression-added`, `suppression-removed`, `finding-acknowledged`,
    /// `purge`, `settings-changed`, `table-migrate`, `license-check`.
    pub action: String,
    /// What it was done to: a suppression id, a finding id, the table.
    pub target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<serde_json::Value>,
}

/// The suppressions a scan applies, as the store read them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Triage {
    pub suppressions: Vec<Suppression>,
    /// Whose findings (organization mode: the member account), for
    /// account-scoped suppressions.
    pub account: Option<String>,
    /// False when the suppressions could not be read: every finding keeps
    /// the suppression state it has (none is lifted, none newly applied),
    /// so that a failed read never sends an Opened for each of them.
    pub known: bool,
    /// Whether this scan reports unused and ending suppressions (the
    /// deployment's own partition; not once per member account).
    pub judge_usage: bool,
}

impl Default for Triage {
    fn default() -> Self {
        Self {
            suppressions: Vec::new(),
            account: None,
            known: true,
            judge_usage: false,
        }
    }
}

impl Triage {
    /// Nothing could be read: keep every finding's suppression as it is.
    pub fn unknown() -> Self {
        Self {
            known: false,
            ..Self::default()
        }
    }

    /// The active suppression covering `f` at `now` (the one ending last
    /// when several do, then the smallest id: the choice is stable).
    pub fn suppression_for(&self, f: &Finding, now: DateTime<Utc>) -> Option<&Suppression> {
        self.suppressions
            .iter()
            .filter(|s| s.is_active(now) && s.matcher.matches(f, self.account.as_deref()))
            .max_by(|a, b| a.until.cmp(&b.until).then(b.id.cmp(&a.id)))
    }
}

/// The findings about the suppressions themselves: one that matched no
/// finding for `UNUSED_DAYS` (info) and one ending within `ENDING_DAYS`
/// (low). A suppression was last used when a finding it covered was last
/// seen (stored findings keep the id of their suppression, resolved ones
/// too until their retention ends).
pub fn usage_detections(
    triage: &Triage,
    stored: &[StoredFinding],
    now: DateTime<Utc>,
) -> Vec<Detection> {
    let mut last_used: BTreeMap<&str, DateTime<Utc>> = BTreeMap::new();
    for s in stored {
        if let Some(by) = &s.finding.suppression {
            let seen = last_used
                .entry(by.id.as_str())
                .or_insert(s.finding.last_seen);
            *seen = (*seen).max(s.finding.last_seen);
        }
    }
    let mut out = Vec::new();
    // In a member account's partition (organization mode), only the
    // suppressions scoped to that account are judged there: an unscoped
    // one would be judged once per account, against part of its matches.
    let judged_here = |s: &&Suppression| match &triage.account {
        Some(id) => s.matcher.account.as_deref() == Some(id.as_str()),
        None => true,
    };
    for s in triage
        .suppressions
        .iter()
        .filter(|s| s.is_active(now))
        .filter(judged_here)
    {
        let resource = Resource {
            kind: ResourceKind::Suppression,
            id: s.id.clone(),
            name: format!("suppression {} ({})", s.id, s.matcher.code),
        };
        let evidence = serde_json::json!({
            "suppression": s,
            "last_matched": last_used.get(s.id.as_str()),
        });
        let since = last_used
            .get(s.id.as_str())
            .copied()
            .unwrap_or(s.created_at)
            .max(s.created_at);
        if now - since >= Duration::days(UNUSED_DAYS) {
            out.push(Detection {
                code: FindingCode::SuppressionUnused,
                severity: FindingCode::SuppressionUnused.default_severity(),
                resource: resource.clone(),
                region: Region::global(),
                scope: SCOPE.into(),
                message: format!(
                    "Suppression {} ({}) has matched no finding since {}: remove it (`zonewarden suppress remove {}`{}) so that it cannot hide a new problem.",
                    s.id,
                    s.reason,
                    since.format("%Y-%m-%d"),
                    s.id,
                    if s.source == Source::File { ", or delete it from the suppressions document" } else { "" }
                ),
                evidence: evidence.clone(),
            });
        }
        if s.until - now <= Duration::days(ENDING_DAYS) {
            out.push(Detection {
                code: FindingCode::SuppressionEnding,
                severity: FindingCode::SuppressionEnding.default_severity(),
                resource,
                region: Region::global(),
                scope: SCOPE.into(),
                message: format!(
                    "Suppression {} ({}) ends {}: the findings it covers open again then, unless it is renewed.",
                    s.id,
                    s.reason,
                    s.until.format("%Y-%m-%d %H:%M UTC")
                ),
                evidence,
            });
        }
    }
    out
}

/// Why a suppressions document was refused: the line (and column, where
/// the YAML parser knows it) and the reason, as for the expectations.
pub type FileError = crate::document::DocumentError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    id: String,
    code: String,
    resource: Option<String>,
    account: Option<String>,
    region: Option<String>,
    tag: Option<String>,
    reason: String,
    owner: String,
    /// A date (`2027-03-31`) or an RFC 3339 time.
    until: String,
    /// When it was agreed (default: the end date minus `MAX_DAYS`, so that
    /// the unused check starts counting at once).
    created: Option<String>,
}

/// Parses the suppressions document (YAML, a list of entries): every entry
/// needs `id`, `code`, `reason`, `owner` and `until`; ids are unique. An
/// empty document (or only comments) suppresses nothing. Errors name the
/// line (and column, where the YAML parser knows it).
pub fn parse_file(text: &str, now: DateTime<Utc>) -> Result<Vec<Suppression>, FileError> {
    let meaningful = text
        .lines()
        .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#') && l.trim() != "---");
    if !meaningful {
        return Ok(Vec::new());
    }
    let entries: Vec<RawEntry> = serde_norway::from_str(text).map_err(|e| {
        let loc = e.location();
        let message = e.to_string();
        FileError {
            line: loc.as_ref().map(|l| l.line()),
            column: loc.as_ref().map(|l| l.column()),
            reason: if message.starts_with("invalid type") && message.contains("sequence") {
                format!("{message} (the document is a list of entries, each `- id: ...`)")
            } else {
                message
            },
        }
    })?;
    let lines = crate::document::entry_lines(text, false);
    let trusted = lines.len() == entries.len();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = Vec::new();
    for (i, raw) in entries.into_iter().enumerate() {
        let at = |reason: String| FileError {
            line: lines.get(i).copied().filter(|_| trusted),
            column: None,
            reason: format!("entry {} (`{}`): {reason}", i + 1, raw.id),
        };
        if raw.id.trim().is_empty()
            || !raw
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(at(
                "`id` must be letters, digits, `-`, `_` or `.` (it names the suppression in findings)".into(),
            ));
        }
        if let Some(first) = seen.insert(raw.id.clone(), i + 1) {
            return Err(at(format!("the id is already used by entry {first}")));
        }
        if raw.owner.trim().is_empty() {
            return Err(at("`owner` is empty (who answers for it?)".into()));
        }
        let until = parse_until(&raw.until).map_err(at)?;
        let created_at = match &raw.created {
            Some(c) => parse_until(c).map(|t| t - Duration::days(1)).map_err(at)?,
            None => until - Duration::days(MAX_DAYS),
        };
        let tag = raw.tag.as_deref().map(Tag::parse).transpose().map_err(at)?;
        let s = Suppression {
            id: format!("{FILE_PREFIX}{}", raw.id),
            matcher: Matcher {
                code: raw.code.trim().to_owned(),
                resource: raw.resource,
                account: raw.account,
                region: raw.region,
                tag,
            },
            reason: raw.reason,
            created_by: raw.owner,
            created_at,
            until,
            source: Source::File,
        };
        // An entry past its end is kept out, not refused: the document
        // outlives its entries, and the findings open again as they should.
        if s.is_active(now) {
            s.validate(now).map_err(at)?;
        } else {
            s.matcher.validate().map_err(at)?;
        }
        out.push(s);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Finding, FindingState};
    use crate::severity::Severity;

    fn now() -> DateTime<Utc> {
        "2026-12-03T10:00:00Z".parse().expect("time")
    }

    fn finding(code: FindingCode, id: &str, name: &str, region: &str) -> Finding {
        Finding::opened(
            Detection {
                code,
                severity: Severity::Low,
                resource: Resource {
                    kind: ResourceKind::Route53HealthCheck,
                    id: id.into(),
                    name: name.into(),
                },
                region: if region == "global" {
                    Region::global()
                } else {
                    Region::parse(region).expect("region")
                },
                scope: "global".into(),
                message: "m".into(),
                evidence: serde_json::json!({"tags": {"team": "platform"}}),
            },
            now(),
        )
    }

    fn matcher(code: &str) -> Matcher {
        Matcher {
            code: code.into(),
            resource: None,
            account: None,
            region: None,
            tag: None,
        }
    }

    #[test]
    fn globs_match_stars_and_question_marks_only() {
        for (p, t, want) in [
            ("health.*", "health.no-alarm", true),
            ("health.*", "healthy.no-alarm", false),
            ("*", "", true),
            ("", "", true),
            ("", "x", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("*.example.com", "www.example.com", true),
            ("*.example.com", "example.com", false),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
            ("dns.record-[a]", "dns.record-a", false),
            ("*x*", "yyxyy", true),
        ] {
            assert_eq!(glob_matches(p, t), want, "{p} ~ {t}");
        }
    }

    #[test]
    fn every_given_field_must_match() {
        let f = finding(FindingCode::HealthNoAlarm, "hc-1", "api check", "global");
        assert!(matcher("health.*").matches(&f, None));
        assert!(!matcher("cert.*").matches(&f, None));
        let by_name = Matcher {
            resource: Some("api *".into()),
            ..matcher("health.no-alarm")
        };
        assert!(by_name.matches(&f, None));
        let other = Matcher {
            resource: Some("hc-2".into()),
            ..matcher("*")
        };
        assert!(!other.matches(&f, None));
        let account = Matcher {
            account: Some("111122223333".into()),
            ..matcher("*")
        };
        assert!(account.matches(&f, Some("111122223333")));
        assert!(!account.matches(&f, Some("444455556666")));
        assert!(!account.matches(&f, None), "single mode has no account");
        let region = Matcher {
            region: Some("eu-west-1".into()),
            ..matcher("*")
        };
        assert!(!region.matches(&f, None));
        let tagged = Matcher {
            tag: Some(Tag::parse("team=platform").expect("tag")),
            ..matcher("*")
        };
        assert!(tagged.matches(&f, None));
        let other_tag = Matcher {
            tag: Some(Tag::parse("team=web").expect("tag")),
            ..matcher("*")
        };
        assert!(!other_tag.matches(&f, None));
    }

    #[test]
    fn findings_about_suppressions_are_never_suppressed() {
        let mut f = finding(FindingCode::SuppressionUnused, "s-1", "s", "global");
        f.state = FindingState::Open;
        assert!(!matcher("*").matches(&f, None));
        assert!(matcher("zonewarden.*").validate().is_err());
    }

    #[test]
    fn bad_matchers_and_suppressions_are_refused_with_the_reason() {
        assert!(
            matcher("helth.*")
                .validate()
                .unwrap_err()
                .contains("matches no finding code")
        );
        assert!(matcher(" ").validate().is_err());
        let bad_account = Matcher {
            account: Some("1234".into()),
            ..matcher("*")
        };
        assert!(bad_account.validate().unwrap_err().contains("account id"));
        let s = Suppression {
            id: "s-1".into(),
            matcher: matcher("health.*"),
            reason: " ".into(),
            created_by: "arn:aws:iam::111122223333:user/a".into(),
            created_at: now(),
            until: now() + Duration::days(30),
            source: Source::Table,
        };
        assert!(s.validate(now()).unwrap_err().contains("reason"));
        let too_long = Suppression {
            reason: "ok".into(),
            until: now() + Duration::days(MAX_DAYS + 1),
            ..s.clone()
        };
        assert!(too_long.validate(now()).unwrap_err().contains("366"));
        let past = Suppression {
            reason: "ok".into(),
            until: now(),
            ..s.clone()
        };
        assert!(past.validate(now()).unwrap_err().contains("future"));
        let fine = Suppression {
            reason: "ok".into(),
            until: now() + Duration::days(MAX_DAYS),
            ..s
        };
        assert_eq!(fine.validate(now()), Ok(()));
    }

    #[test]
    fn until_and_for_parse_the_documented_forms() {
        assert_eq!(
            parse_until("2027-03-31").expect("date"),
            "2027-04-01T00:00:00Z".parse::<DateTime<Utc>>().expect("t")
        );
        assert_eq!(
            parse_until("2027-03-31T12:00:00+02:00").expect("time"),
            "2027-03-31T10:00:00Z".parse::<DateTime<Utc>>().expect("t")
        );
        assert!(parse_until("31/03/2027").is_err());
        assert_eq!(parse_for("30d"), Ok(Duration::days(30)));
        assert_eq!(parse_for("2w"), Ok(Duration::weeks(2)));
        assert_eq!(parse_for("12h"), Ok(Duration::hours(12)));
        for bad in ["", "d", "0d", "-3d", "30", "30y", "3.5d"] {
            assert!(parse_for(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_suppression_ending_last_wins_and_ended_ones_match_nothing() {
        let s = |id: &str, days: i64| Suppression {
            id: id.into(),
            matcher: matcher("health.*"),
            reason: "r".into(),
            created_by: "me".into(),
            created_at: now() - Duration::days(1),
            until: now() + Duration::days(days),
            source: Source::Table,
        };
        let t = Triage {
            suppressions: vec![s("s-a", 10), s("s-b", 20), s("s-c", -1)],
            ..Triage::default()
        };
        let f = finding(FindingCode::HealthNoAlarm, "hc-1", "n", "global");
        assert_eq!(
            t.suppression_for(&f, now()).map(|s| s.id.as_str()),
            Some("s-b")
        );
        assert_eq!(t.suppression_for(&f, now() + Duration::days(21)), None);
    }

    fn stored(f: Finding) -> StoredFinding {
        StoredFinding {
            finding: f,
            version: 1,
            evaluated_at: now(),
        }
    }

    #[test]
    fn unused_and_ending_suppressions_are_reported() {
        let base = Suppression {
            id: "s-old".into(),
            matcher: matcher("health.*"),
            reason: "r".into(),
            created_by: "me".into(),
            created_at: now() - Duration::days(40),
            until: now() + Duration::days(100),
            source: Source::Table,
        };
        let used = Suppression {
            id: "s-used".into(),
            ..base.clone()
        };
        let young = Suppression {
            id: "s-young".into(),
            created_at: now() - Duration::days(3),
            ..base.clone()
        };
        let ending = Suppression {
            id: "s-ending".into(),
            created_at: now() - Duration::days(3),
            until: now() + Duration::days(ENDING_DAYS),
            ..base.clone()
        };
        let t = Triage {
            suppressions: vec![base, used, young, ending],
            judge_usage: true,
            ..Triage::default()
        };
        let mut covered = finding(FindingCode::HealthNoAlarm, "hc-1", "n", "global");
        covered.suppression = Some(t.suppressions[1].reference());
        covered.last_seen = now() - Duration::days(2);
        let found = usage_detections(&t, &[stored(covered)], now());
        let got: Vec<(FindingCode, &str)> = found
            .iter()
            .map(|d| (d.code, d.resource.id.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (FindingCode::SuppressionUnused, "s-old"),
                (FindingCode::SuppressionEnding, "s-ending"),
            ]
        );
        assert_eq!(found[0].severity, Severity::Info);
        assert_eq!(found[1].severity, Severity::Low);
        assert!(
            found[0]
                .message
                .contains("zonewarden suppress remove s-old")
        );
    }

    #[test]
    fn a_member_account_judges_only_the_suppressions_scoped_to_it() {
        let old = |id: &str, account: Option<&str>| Suppression {
            id: id.into(),
            matcher: Matcher {
                account: account.map(str::to_owned),
                ..matcher("health.*")
            },
            reason: "r".into(),
            created_by: "me".into(),
            created_at: now() - Duration::days(40),
            until: now() + Duration::days(100),
            source: Source::Table,
        };
        let t = Triage {
            suppressions: vec![
                old("s-all", None),
                old("s-mine", Some("111122223333")),
                old("s-theirs", Some("444455556666")),
            ],
            account: Some("111122223333".into()),
            judge_usage: true,
            ..Triage::default()
        };
        let ids: Vec<String> = usage_detections(&t, &[], now())
            .into_iter()
            .map(|d| d.resource.id)
            .collect();
        assert_eq!(ids, ["s-mine"]);
    }

    #[test]
    fn the_file_is_parsed_with_every_field() {
        let text = "\
# accepted risks, reviewed quarterly
- id: staging-dangling
  code: dns.dangling-target
  resource: \"Z123/old.staging.example.com./CNAME\"
  region: global
  reason: Being retired (OPS-1234)
  owner: platform-team@example.com
  until: 2027-03-31
- id: calc-children
  code: health.no-alarm
  tag: role=calculated-child
  account: \"111122223333\"
  reason: Children of a calculated check alarm through their parent
  owner: sre@example.com
  until: 2027-01-15T00:00:00Z
  created: 2026-10-01
";
        let got = parse_file(text, now()).expect("parses");
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].id, "file:staging-dangling");
        assert_eq!(got[0].source, Source::File);
        assert_eq!(got[0].created_by, "platform-team@example.com");
        assert_eq!(
            got[1].matcher.tag,
            Some(Tag::parse("role=calculated-child").expect("t"))
        );
        assert_eq!(
            got[1].created_at,
            "2026-10-01T00:00:00Z".parse::<DateTime<Utc>>().expect("t")
        );
        assert_eq!(parse_file("# nothing yet\n---\n", now()), Ok(Vec::new()));
    }

    #[test]
    fn bad_files_are_refused_with_line_and_column() {
        let cases = [
            // (document, line, column, text in the reason)
            (
                "- id: a\n  code: health.*\n  reason: r\n  owner: o\n",
                Some(1),
                "until",
            ),
            (
                "- id: a\n  code: health.*\n  reasons: r\n",
                Some(3),
                "reasons",
            ),
            ("id: a\n", Some(1), "list of entries"),
            (
                "- id: a\n  code: helth.*\n  reason: r\n  owner: o\n  until: 2027-01-01\n",
                Some(1),
                "matches no finding code",
            ),
            (
                "- id: a\n  code: health.*\n  reason: r\n  owner: o\n  until: 2027-01-01\n- id: a\n  code: cert.*\n  reason: r\n  owner: o\n  until: 2027-01-01\n",
                Some(6),
                "already used by entry 1",
            ),
            (
                "- id: a\n  code: health.*\n  reason: r\n  owner: o\n  until: 2030-01-01\n",
                Some(1),
                "366 days",
            ),
            (
                "- id: a\n  code: health.*\n  reason: r\n  owner: o\n  until: next week\n",
                Some(1),
                "is not a date",
            ),
        ];
        for (text, line, needle) in cases {
            let e = parse_file(text, now()).expect_err(text);
            assert_eq!(e.line, line, "{text}: {e}");
            assert!(e.to_string().contains(needle), "{text}: {e}");
        }
        let e = parse_file("- id: a\n  code: [\n", now()).expect_err("syntax");
        assert!(e.line.is_some() && e.column.is_some(), "{e:?}");
    }

    #[test]
    fn ended_file_entries_are_kept_but_match_nothing() {
        let text = "- id: old\n  code: health.*\n  reason: r\n  owner: o\n  until: 2026-01-01\n";
        let got = parse_file(text, now()).expect("an ended entry is not an error");
        assert!(!got[0].is_active(now()));
    }
}
