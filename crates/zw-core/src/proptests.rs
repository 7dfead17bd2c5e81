//! Parsers of outside input never panic, whatever they are given: they
//! answer with a value or an error that says what is wrong.

use crate::config::Config;
use crate::families::dns::rules::expectations;
use proptest::prelude::*;

/// Every setting the configuration reads, plus one it does not know.
const KEYS: [&str; 17] = [
    "ZW_REGIONS",
    "ZW_NOTIFY_MIN_SEVERITY",
    "ZW_NOTIFY",
    "ZW_EVENT_BUS_NAME",
    "ZW_TABLE_NAME",
    "ZW_EXPIRY_DAYS",
    "ZW_HISTORY_RETENTION_DAYS",
    "ZW_ROUTE53_RPS",
    "ZW_METRICS_DETAIL",
    "ZW_AWS_OPERATION_TIMEOUT_MS",
    "ZW_SCAN_DEADLINE_SECONDS",
    "ZW_DNS_ROOT_HINTS",
    "ZW_DNS_NAMESERVER_ADDRESSES",
    "ZW_DNS_TIMEOUT_MS",
    "ZW_DNS_COMPARE_INTERVAL_MINUTES",
    "ZW_DNS_ZONES",
    "ZW_NOT_A_SETTING",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_settings_parse_or_are_refused_with_a_message(
        values in proptest::collection::vec((0..KEYS.len(), ".{0,40}"), 0..8),
    ) {
        let mut vars = vec![("AWS_REGION".to_owned(), "eu-west-1".to_owned())];
        vars.extend(values.into_iter().map(|(k, v)| (KEYS[k].to_owned(), v)));
        match Config::from_vars(vars) {
            Ok(c) => prop_assert!(!c.common.regions.is_empty()),
            Err(e) => {
                prop_assert!(!e.0.is_empty());
                for message in &e.0 {
                    prop_assert!(message.starts_with("ZW_") || message.starts_with("AWS_"), "{message}");
                }
            }
        }
    }

    #[test]
    fn any_expectations_text_parses_or_says_where_it_is_wrong(text in "(?s).{0,300}") {
        if let Err(e) = expectations::parse(&text) {
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn expectation_shaped_yaml_never_panics(
        name in "[a-zA-Z0-9.*_-]{0,30}",
        rtype in "[A-Za-z0-9]{0,6}",
        verb in prop::sample::select(vec!["equals", "contains", "absent", "equal", ""]),
        value in ".{0,20}",
    ) {
        let text = format!("- name: {name}\n  type: {rtype}\n  {verb}: [{value}]\n");
        let _ = expectations::parse(&text);
    }
}

fn now() -> chrono::DateTime<chrono::Utc> {
    "2026-12-03T10:00:00Z".parse().expect("time")
}

proptest! {
    /// A glob is a pattern over the text itself: the text matches itself,
    /// `*` matches everything, and any part of it replaced by `*` (or a
    /// character by `?`) still matches.
    #[test]
    fn globs_match_what_they_were_cut_from(
        text in "[a-z0-9.:/#-]{0,40}",
        a in 0usize..41,
        b in 0usize..41,
    ) {
        use crate::triage::glob_matches;
        prop_assert!(glob_matches(&text, &text));
        prop_assert!(glob_matches("*", &text));
        let (lo, hi) = (a.min(b).min(text.len()), a.max(b).min(text.len()));
        let starred = format!("{}*{}", &text[..lo], &text[hi..]);
        prop_assert!(glob_matches(&starred, &text), "{} ~ {}", starred, text);
        if lo < text.len() {
            let mut q = text.clone();
            q.replace_range(lo..lo + 1, "?");
            prop_assert!(glob_matches(&q, &text));
            // One character more than the text: never a match without `*`.
            let longer = format!("{q}x");
            prop_assert!(!glob_matches(&longer, &text));
        }
    }

    /// The suppressions document parser answers every input with a list or
    /// an error (never a panic), and every list it accepts is valid.
    #[test]
    fn the_suppressions_parser_never_panics(text in "\\PC{0,300}") {
        if let Ok(list) = crate::triage::parse_file(&text, now()) {
            for s in list.iter().filter(|s| s.is_active(now())) {
                prop_assert!(s.validate(now()).is_ok());
            }
        }
    }

    /// Well-formed documents with arbitrary values: accepted exactly when
    /// every value is acceptable, refused with the line of the entry
    /// otherwise.
    #[test]
    fn suppressions_documents_are_accepted_or_refused_with_a_line(
        reason in "[a-zA-Z ]{0,12}",
        days in -5i64..400,
        code in prop::sample::select(vec!["health.*", "cert.expiring", "nope.*", "*"]),
    ) {
        let until = (now() + chrono::Duration::days(days)).format("%Y-%m-%d");
        let doc = format!(
            "- id: first\n  code: cert.*\n  reason: fine\n  owner: o\n  until: 2027-01-01\n- id: second\n  code: \"{code}\"\n  reason: \"{reason}\"\n  owner: o\n  until: {until}\n"
        );
        let ok_values = !reason.trim().is_empty() && code != "nope.*" && days <= 365;
        match crate::triage::parse_file(&doc, now()) {
            Ok(list) => {
                prop_assert!(ok_values || days < 0, "accepted: {}", doc);
                prop_assert_eq!(list.len(), 2);
            }
            Err(e) => {
                prop_assert!(!ok_values, "refused: {} {}", e, doc);
                prop_assert_eq!(e.line, Some(6), "{}", e);
            }
        }
    }
}
