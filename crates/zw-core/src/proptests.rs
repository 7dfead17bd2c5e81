//! Parsers of outside input never panic, whatever they are given: they
//! answer with a value or an error that says what is wrong.

use crate::config::Config;
use crate::rules::dns::expectations;
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
