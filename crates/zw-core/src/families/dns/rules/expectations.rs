//! The expectations document: what the internet must see for names that
//! matter, whoever hosts them.
//!
//! The document is a list (YAML, or JSON when it starts with `[`) of entries:
//!
//! ```yaml
//! # Exactly these values (in any order).
//! - name: www.example.com
//!   type: A                 # optional, default A
//!   equals: [192.0.2.10, 192.0.2.11]
//! # At least these values (others may be present).
//! - name: example.com
//!   type: TXT
//!   contains: ["v=spf1 include:amazonses.com -all"]
//! # The name must not exist at all (NXDOMAIN)...
//! - name: old.example.com
//!   must_not_exist: true
//! # ...or, with a type, must have no record of that type.
//! - name: example.com
//!   type: CNAME
//!   must_not_exist: true
//! ```
//!
//! Keys: `name` (required), `type` (default `A`), and exactly one of
//! `equals` (non-empty list), `contains` (non-empty list) or
//! `must_not_exist: true`. Values are compared canonically (see
//! [`super::rdata`]); a TXT value is the text itself, or presentation format
//! (`"part one" "part two"`) when it starts with a double quote. A name and
//! type may appear once. Errors give the line (and column) and the reason.

use super::rdata::canonical;
use super::{
    DnsOutcome, DnsRuleSettings, EXPECTATIONS_SCOPE, detection, expectation_resource, put_list,
};
use crate::catalogue::{Check, FindingCode};
use crate::families::dns::model::{Question, Resolution};
use crate::model::{Region, normalize_dns_name};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

const KEYS: &str = "name, type, equals, contains, must_not_exist";

/// A parsed, validated expectations document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expectations {
    pub entries: Vec<Expectation>,
}

/// One expectation about a name and type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    /// Normalised name.
    pub name: String,
    /// Upper-case type (`A` when the document gave none).
    pub rtype: String,
    pub rule: Rule,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// Exactly these values (as written in the document).
    Equals(Vec<String>),
    /// At least these values.
    Contains(Vec<String>),
    /// `typed`: no record of the type (NODATA or NXDOMAIN); otherwise the
    /// name must not exist at all (NXDOMAIN).
    MustNotExist { typed: bool },
}

impl Rule {
    fn as_str(&self) -> &'static str {
        match self {
            Self::Equals(_) => "equals",
            Self::Contains(_) => "contains",
            Self::MustNotExist { .. } => "must_not_exist",
        }
    }
}

/// Why a document was refused (`crate::document`).
pub type ExpectationsError = crate::document::DocumentError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    name: String,
    #[serde(rename = "type")]
    rtype: Option<String>,
    equals: Option<Vec<String>>,
    contains: Option<Vec<String>>,
    must_not_exist: Option<bool>,
}

impl RawEntry {
    /// Checks what the parser cannot: one rule, a usable name and type.
    fn validate(self) -> Result<Expectation, String> {
        let raw = self;
        let name = raw.name.trim();
        if name.is_empty() || name.chars().any(char::is_whitespace) {
            return Err(format!("`{}` is not a DNS name", raw.name));
        }
        let typed = raw.rtype.is_some();
        let rtype = raw
            .rtype
            .as_deref()
            .unwrap_or("A")
            .trim()
            .to_ascii_uppercase();
        if rtype.is_empty()
            || rtype.len() > 10
            || !rtype.bytes().all(|b| b.is_ascii_alphanumeric())
            || !rtype.as_bytes()[0].is_ascii_alphabetic()
        {
            return Err(format!(
                "`{rtype}` is not a record type (expected A, AAAA, CNAME, TXT, ...)"
            ));
        }
        let rule = match (raw.equals, raw.contains, raw.must_not_exist) {
            (Some(v), None, None) if v.is_empty() => {
                return Err("`equals` needs at least one value (use `must_not_exist: true` for a name that must not exist)".into());
            }
            (None, Some(v), None) if v.is_empty() => {
                return Err("`contains` needs at least one value".into());
            }
            (Some(v), None, None) => Rule::Equals(v),
            (None, Some(v), None) => Rule::Contains(v),
            (None, None, Some(true)) => Rule::MustNotExist { typed },
            (None, None, Some(false)) => {
                return Err("`must_not_exist: false` expects nothing: remove the entry or give `equals` or `contains`".into());
            }
            (None, None, None) => {
                return Err(format!(
                    "`{name}` needs one of `equals`, `contains` or `must_not_exist`"
                ));
            }
            _ => {
                return Err(format!(
                    "`{name}` gives more than one of `equals`, `contains` and `must_not_exist`; give exactly one"
                ));
            }
        };
        Ok(Expectation {
            name: normalize_dns_name(name),
            rtype,
            rule,
        })
    }
}

/// Rewrites serde's wording into the document's.
fn reword(message: &str) -> String {
    // serde_norway appends " at line L column C"; the position is reported
    // separately.
    let message = match message.find(" at line ") {
        Some(i) => &message[..i],
        None => message,
    };
    // ...and prefixes the path of the failing value (`.[1]: `).
    let message = match message.split_once(": ") {
        Some((path, rest)) if path.starts_with('.') && !path.contains(' ') => rest,
        _ => message,
    };
    if let Some((field, _)) = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once('`'))
    {
        return format!("`{field}` is not a known key (expected {KEYS})");
    }
    if let Some((field, _)) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
    {
        return format!("`{field}` is required");
    }
    if message.contains("expected a sequence") && message.starts_with("invalid type") {
        return format!("{message} (the document is a list of entries, each `- name: ...`)");
    }
    message.to_owned()
}

/// Parses a document: JSON when it starts with `[` or `{`, YAML otherwise.
/// An empty document (or only comments) expects nothing.
pub fn parse(text: &str) -> Result<Expectations, ExpectationsError> {
    let trimmed = text.trim_start();
    let json = trimmed.starts_with('[') || trimmed.starts_with('{');
    let entries: Vec<RawEntry> = if json {
        serde_json::from_str(text).map_err(|e| ExpectationsError {
            line: Some(e.line()),
            column: Some(e.column()),
            reason: reword(&e.to_string()),
        })?
    } else {
        let meaningful = text
            .lines()
            .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#') && l.trim() != "---");
        if !meaningful {
            return Ok(Expectations::default());
        }
        serde_norway::from_str(text).map_err(|e| {
            let loc = e.location();
            ExpectationsError {
                line: loc.as_ref().map(|l| l.line()),
                column: loc.as_ref().map(|l| l.column()),
                reason: reword(&e.to_string()),
            }
        })?
    };
    let lines = crate::document::entry_lines(text, json);
    let entries_len = entries.len();
    let at = |i: usize, reason: String| ExpectationsError {
        // Only trusted when the scan found exactly one start per entry.
        line: lines.get(i).copied().filter(|_| lines.len() == entries_len),
        column: None,
        reason,
    };
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut out = Vec::new();
    for (i, raw) in entries.into_iter().enumerate() {
        let e = raw
            .validate()
            .map_err(|reason| at(i, format!("entry {}: {reason}", i + 1)))?;
        if let Some(first) = seen.insert((e.name.clone(), e.rtype.clone()), i + 1) {
            return Err(at(
                i,
                format!(
                    "entry {}: `{} {}` is already expected by entry {first}; merge them",
                    i + 1,
                    e.name,
                    e.rtype
                ),
            ));
        }
        out.push(e);
    }
    Ok(Expectations { entries: out })
}

/// The questions the collector must resolve for `doc`.
pub fn questions(doc: &Expectations) -> Vec<Question> {
    doc.entries
        .iter()
        .map(|e| Question {
            name: e.name.clone(),
            rtype: e.rtype.clone(),
        })
        .collect()
}

/// A document value in canonical form: TXT values are the text itself unless
/// written in presentation format.
fn canonical_expected(rtype: &str, value: &str) -> String {
    if matches!(rtype, "TXT" | "SPF") && !value.trim_start().starts_with('"') {
        let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
        canonical(rtype, &format!("\"{escaped}\""))
    } else {
        canonical(rtype, value)
    }
}

pub(crate) fn evaluate(
    doc: &Expectations,
    answers: &BTreeMap<Question, Resolution>,
    settings: &DnsRuleSettings,
    out: &mut DnsOutcome,
) {
    let mut complete = true;
    for e in &doc.entries {
        let q = Question {
            name: e.name.clone(),
            rtype: e.rtype.clone(),
        };
        let (seen, result): (BTreeSet<String>, &str) = match answers.get(&q) {
            None | Some(Resolution::Failed { .. }) => {
                complete = false;
                continue;
            }
            Some(Resolution::NxDomain { .. }) => (BTreeSet::new(), "NXDOMAIN"),
            Some(Resolution::NoData { .. }) => (BTreeSet::new(), "NODATA"),
            Some(Resolution::Answer {
                records,
                cname_chain,
            }) => {
                let mut seen: BTreeSet<String> = records
                    .iter()
                    .filter(|r| r.rtype.eq_ignore_ascii_case(&e.rtype))
                    .map(|r| canonical(&e.rtype, &r.data))
                    .collect();
                if seen.is_empty() && e.rtype == "CNAME" {
                    seen.extend(cname_chain.first().map(|c| canonical("CNAME", c)));
                }
                (seen, "answer")
            }
        };
        let expected: BTreeSet<String> = match &e.rule {
            Rule::Equals(v) | Rule::Contains(v) => {
                v.iter().map(|x| canonical_expected(&e.rtype, x)).collect()
            }
            Rule::MustNotExist { .. } => BTreeSet::new(),
        };
        let ok = match &e.rule {
            Rule::Equals(_) => seen == expected,
            Rule::Contains(_) => expected.is_subset(&seen),
            Rule::MustNotExist { typed: false } => result == "NXDOMAIN",
            Rule::MustNotExist { typed: true } => seen.is_empty(),
        };
        if ok {
            continue;
        }
        let what = match (&e.rule, result) {
            (Rule::MustNotExist { typed: false }, _) => "exists".to_owned(),
            (Rule::MustNotExist { typed: true }, _) => format!("has {} record(s)", seen.len()),
            (_, "answer") => format!(
                "answers {}",
                seen.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
            (_, r) => format!("answers {r}"),
        };
        let message = format!(
            "{} {} {what}, but the expectations document says `{}`",
            e.name,
            e.rtype,
            e.rule.as_str()
        );
        let mut evidence = serde_json::Map::new();
        evidence.insert("name".into(), json!(e.name));
        evidence.insert("type".into(), json!(e.rtype));
        evidence.insert("rule".into(), json!(e.rule.as_str()));
        evidence.insert("result".into(), json!(result));
        put_list(
            &mut evidence,
            "expected",
            expected.into_iter().map(Value::from).collect(),
            settings.evidence_cap,
        );
        put_list(
            &mut evidence,
            "seen",
            seen.into_iter().map(Value::from).collect(),
            settings.evidence_cap,
        );
        out.detections.push(detection(
            FindingCode::DnsExpectationFailed,
            expectation_resource(&e.name, &e.rtype),
            Region::global(),
            EXPECTATIONS_SCOPE,
            message,
            Value::Object(evidence),
        ));
    }
    if complete {
        out.cover(Check::DnsExpectations, EXPECTATIONS_SCOPE);
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::rr;
    use super::*;
    use proptest::prelude::*;

    const DOC: &str = "\
# What the internet must see.
- name: www.example.com
  equals: [192.0.2.10, 192.0.2.11]
- name: example.com
  type: txt
  contains: [\"v=spf1 -all\"]
- name: old.example.com
  must_not_exist: true
- name: example.com
  type: CNAME
  must_not_exist: true
";

    #[test]
    fn parses_the_documented_shape_in_yaml_and_json() {
        let doc = parse(DOC).expect("yaml");
        assert_eq!(doc.entries.len(), 4);
        assert_eq!(doc.entries[0].rtype, "A");
        assert_eq!(doc.entries[0].name, "www.example.com.");
        assert_eq!(doc.entries[1].rtype, "TXT");
        assert_eq!(doc.entries[2].rule, Rule::MustNotExist { typed: false });
        assert_eq!(doc.entries[3].rule, Rule::MustNotExist { typed: true });
        let json = r#"[{"name": "www.example.com", "equals": ["192.0.2.10", "192.0.2.11"]},
                       {"name": "example.com", "type": "TXT", "contains": ["v=spf1 -all"]},
                       {"name": "old.example.com", "must_not_exist": true},
                       {"name": "example.com", "type": "CNAME", "must_not_exist": true}]"#;
        assert_eq!(parse(json).expect("json"), doc);
        assert_eq!(
            questions(&doc)[1],
            Question {
                name: "example.com.".into(),
                rtype: "TXT".into()
            }
        );
        assert_eq!(parse("").expect("empty"), Expectations::default());
        assert_eq!(
            parse("# nothing yet\n").expect("comments"),
            Expectations::default()
        );
        assert_eq!(parse("[]").expect("empty json"), Expectations::default());
    }

    #[test]
    fn errors_say_where_and_why() {
        // (document, line, reason fragment)
        let cases = [
            (
                "- name: a.example.com\n  equals: [192.0.2.1]\n- name: b.example.com\n  equls: [192.0.2.2]\n",
                Some(4),
                "`equls` is not a known key (expected name, type, equals, contains, must_not_exist)",
            ),
            (
                "- type: A\n  equals: [192.0.2.1]\n",
                Some(1),
                "`name` is required",
            ),
            (
                "- name: a.example.com\n  equals: [192.0.2.1]\n  contains: [192.0.2.2]\n",
                Some(1),
                "entry 1: `a.example.com` gives more than one of",
            ),
            (
                "# header\n- name: x.example.com\n  must_not_exist: true\n\n- name: a.example.com\n",
                Some(5),
                "entry 2: `a.example.com` needs one of",
            ),
            (
                "- name: a.example.com\n  equals: []\n",
                Some(1),
                "at least one value",
            ),
            (
                "- name: a.example.com\n  must_not_exist: false\n",
                Some(1),
                "expects nothing",
            ),
            (
                "- name: a.example.com\n  type: 'A B'\n  equals: [x]\n",
                Some(1),
                "not a record type",
            ),
            ("- name: [\n", Some(1), "expected a string"),
            ("name: a.example.com\n", Some(1), "list of entries"),
            (
                "[{\"name\": \"a.example.com\",\n  \"equls\": [\"x\"]}]",
                Some(2),
                "`equls` is not a known key",
            ),
            (
                "[{\"name\": \"a.example.com\", \"must_not_exist\": true},\n {\"name\": \"b.ex{ample\\\"[.com\"}]",
                Some(2),
                "entry 2: `b.ex{ample\"[.com` needs one of",
            ),
            (
                "- name: a.example.com\n  must_not_exist: true\n- name: A.example.com.\n  must_not_exist: true\n",
                Some(3),
                "entry 2: `a.example.com. A` is already expected by entry 1",
            ),
        ];
        for (text, line, reason) in cases {
            let err = parse(text).expect_err(text);
            assert!(err.reason.contains(reason), "{text:?}: {err}");
            assert_eq!(err.line, line, "{text:?}: {err}");
        }
        let err = parse(cases[0].0).expect_err("unknown key");
        assert_eq!(
            err.to_string(),
            "line 4, column 3: `equls` is not a known key (expected name, type, equals, contains, must_not_exist)"
        );
    }

    fn answer(rtype: &str, data: &[&str]) -> Resolution {
        Resolution::Answer {
            records: data.iter().map(|d| rr("x.", rtype, d)).collect(),
            cname_chain: vec![],
        }
    }

    fn run(doc: &Expectations, answers: &[(&str, &str, Resolution)]) -> DnsOutcome {
        let answers = answers
            .iter()
            .map(|(n, t, r)| {
                (
                    Question {
                        name: normalize_dns_name(n),
                        rtype: (*t).to_owned(),
                    },
                    r.clone(),
                )
            })
            .collect();
        let mut out = DnsOutcome::default();
        evaluate(doc, &answers, &DnsRuleSettings::default(), &mut out);
        out
    }

    #[test]
    fn rules_judge_answers() {
        let doc = parse(DOC).expect("doc");
        let good = vec![
            (
                "www.example.com",
                "A",
                answer("A", &["192.0.2.11", "192.0.2.10"]),
            ),
            (
                "example.com",
                "TXT",
                answer(
                    "TXT",
                    &["\"v=spf1 -all\"", "\"google-site-verification=x\""],
                ),
            ),
            (
                "old.example.com",
                "A",
                Resolution::NxDomain {
                    cname_chain: vec![],
                },
            ),
            (
                "example.com",
                "CNAME",
                Resolution::NoData {
                    cname_chain: vec![],
                },
            ),
        ];
        let out = run(&doc, &good);
        assert!(out.detections.is_empty(), "{:#?}", out.detections);
        assert!(out.is_covered(Check::DnsExpectations, EXPECTATIONS_SCOPE));

        // Each entry broken in turn.
        let broken = [
            (0, answer("A", &["192.0.2.10"]), "answer"),
            (
                0,
                Resolution::NxDomain {
                    cname_chain: vec![],
                },
                "NXDOMAIN",
            ),
            (1, answer("TXT", &["\"v=spf1 ~all\""]), "answer"),
            (
                2,
                Resolution::NoData {
                    cname_chain: vec![],
                },
                "NODATA",
            ),
            (3, answer("CNAME", &["elsewhere.example.net."]), "answer"),
        ];
        for (i, resolution, result) in broken {
            let mut answers = good.clone();
            answers[i].2 = resolution;
            let out = run(&doc, &answers);
            assert_eq!(out.detections.len(), 1, "entry {i}");
            let d = &out.detections[0];
            assert_eq!(d.code, FindingCode::DnsExpectationFailed);
            assert_eq!(d.evidence["result"], result);
            assert_eq!(
                d.resource.id,
                format!(
                    "expectation/{}/{}",
                    doc.entries[i].name, doc.entries[i].rtype
                )
            );
            assert!(out.is_covered(Check::DnsExpectations, EXPECTATIONS_SCOPE));
        }
    }

    #[test]
    fn failed_resolution_leaves_expectations_uncovered() {
        let doc = parse(DOC).expect("doc");
        let out = run(
            &doc,
            &[(
                "www.example.com",
                "A",
                Resolution::Failed {
                    reason: "timeout".into(),
                },
            )],
        );
        assert!(out.detections.is_empty());
        assert!(!out.is_covered(Check::DnsExpectations, EXPECTATIONS_SCOPE));
    }

    #[test]
    fn drift_evidence_shows_expected_and_seen() {
        let doc = parse("- name: www.example.com\n  equals: ['2001:DB8::1']\n  type: AAAA\n")
            .expect("doc");
        let out = run(
            &doc,
            &[("www.example.com", "AAAA", answer("AAAA", &["2001:db8::2"]))],
        );
        let d = &out.detections[0];
        assert_eq!(d.evidence["expected"][0], "2001:db8::1");
        assert_eq!(d.evidence["seen"][0], "2001:db8::2");
        let out = run(
            &doc,
            &[("www.example.com", "AAAA", answer("AAAA", &["2001:0db8::1"]))],
        );
        assert!(out.detections.is_empty());
    }

    proptest! {
        #[test]
        fn parse_never_panics(text in any::<String>()) {
            let _ = parse(&text);
        }

        #[test]
        fn parse_never_panics_on_near_documents(
            key in "(name|type|equals|contains|must_not_exist|equls)",
            value in "[ -~]{0,20}",
            json in any::<bool>(),
        ) {
            let text = if json {
                format!("[{{\"name\": \"a.example.com\", \"{key}\": {value}}}]")
            } else {
                format!("- name: a.example.com\n  {key}: {value}\n")
            };
            let _ = parse(&text);
        }
    }
}
