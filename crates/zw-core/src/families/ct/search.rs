//! Reading crt.sh's JSON search answer (`?q=<name>&output=json`).
//!
//! The answer is an untrusted body from a third party: it is read into a
//! `serde_json::Value` first and each entry is then checked field by field,
//! so one malformed entry is skipped (and counted) instead of failing the
//! whole answer. A precertificate and its final certificate are logged as two
//! entries with the same issuer and serial; [`dedupe`] merges them so the
//! watch reports each certificate once.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Value};

/// One certificate logged in CT, as the search answered it (a
/// precertificate and its certificate are merged into one by `dedupe`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LoggedCertificate {
    /// crt.sh ids of the entries merged into this one, ascending.
    pub ids: Vec<u64>,
    /// The issuer's distinguished name, as crt.sh gave it (`issuer_name`).
    pub issuer: String,
    /// Lower-case hex, no separators, no leading zeros ("0" for zero).
    pub serial: String,
    /// DNS names: lower case, no trailing dot, deduplicated, sorted; entries
    /// that are not DNS names (e-mail addresses, IP addresses, empty) dropped.
    pub names: Vec<String>,
    /// Start of validity, when the entry had a readable one.
    pub not_before: Option<DateTime<Utc>>,
    /// End of validity, when the entry had a readable one.
    pub not_after: Option<DateTime<Utc>>,
    /// The earliest entry_timestamp of the merged entries.
    pub logged_at: DateTime<Utc>,
}

/// Why an answer could not be read at all (a scan error naming the search
/// endpoint).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    /// The body is larger than the limit; nothing was parsed.
    #[error("the answer is {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// The body's size in bytes.
        size: usize,
        /// The limit it exceeded.
        limit: usize,
    },
    /// The body is not JSON (or nests deeper than serde_json's limit).
    #[error("the answer is not JSON: {0}")]
    NotJson(String),
    /// The body is JSON but its top level is not an array.
    #[error("the answer is not a JSON array of certificates")]
    NotAnArray,
}

/// What was read: the certificates, and how many entries were skipped
/// because a field was missing or of the wrong type (the scan reports that
/// count; never a panic).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchAnswer {
    /// The certificates, deduplicated and sorted as by [`dedupe`].
    pub certificates: Vec<LoggedCertificate>,
    /// Entries skipped: not an object, or a required field missing, of the
    /// wrong type or unreadable.
    pub skipped: usize,
}

/// The largest answer read (crt.sh answers for a busy domain can reach tens
/// of MB; the caller caps the body at this size too).
pub const ANSWER_LIMIT: usize = 32 * 1024 * 1024;

/// The most hex digits a serial may have: RFC 5280 caps serials at 20
/// octets, and 64 digits leaves room for CAs that overshoot it without
/// letting an entry carry an arbitrarily long string as its key.
const SERIAL_MAX_DIGITS: usize = 64;

/// Parses an answer body. Entries are kept only if they have a numeric
/// `id`, string `issuer_name`, string `serial_number` (hex, optional colons,
/// 1..=64 hex digits), string `name_value` and a parseable
/// `entry_timestamp`; others count as skipped. not_before/not_after
/// optional (unparseable -> None). Merges precertificate and certificate
/// with `dedupe`.
pub fn parse(body: &[u8]) -> Result<SearchAnswer, SearchError> {
    parse_with_limit(body, ANSWER_LIMIT)
}

/// [`parse`] with the size limit as a parameter, so tests can exercise the
/// limit without allocating 32 MB.
fn parse_with_limit(body: &[u8], limit: usize) -> Result<SearchAnswer, SearchError> {
    // Checked before parsing: the point of the limit is to not spend memory
    // and time on an oversized body.
    if body.len() > limit {
        return Err(SearchError::TooLarge {
            size: body.len(),
            limit,
        });
    }
    // serde_json's recursion limit (128) turns deep nesting into an error
    // here rather than a stack overflow.
    let value: Value =
        serde_json::from_slice(body).map_err(|e| SearchError::NotJson(e.to_string()))?;
    let Value::Array(items) = value else {
        return Err(SearchError::NotAnArray);
    };
    let mut entries = Vec::with_capacity(items.len());
    let mut skipped = 0;
    for item in &items {
        match item.as_object().and_then(entry) {
            Some(certificate) => entries.push(certificate),
            None => skipped += 1,
        }
    }
    Ok(SearchAnswer {
        certificates: dedupe(entries),
        skipped,
    })
}

/// Reads one entry; None when a required field is missing or unreadable.
fn entry(object: &Map<String, Value>) -> Option<LoggedCertificate> {
    let id = object.get("id")?.as_u64()?;
    let issuer = object.get("issuer_name")?.as_str()?;
    let serial = serial(object.get("serial_number")?.as_str()?)?;
    let name_value = object.get("name_value")?.as_str()?;
    let logged_at = timestamp(object.get("entry_timestamp")?.as_str()?)?;
    // Validity is informative only: an entry without it is still a logged
    // certificate worth reporting.
    let optional_time = |key: &str| object.get(key).and_then(Value::as_str).and_then(timestamp);
    Some(LoggedCertificate {
        ids: vec![id],
        issuer: issuer.to_owned(),
        serial,
        names: names(name_value),
        not_before: optional_time("not_before"),
        not_after: optional_time("not_after"),
        logged_at,
    })
}

/// Normalises a serial to lower-case hex without separators or leading
/// zeros, so the precertificate and certificate entries compare equal
/// whichever way crt.sh (or a future change to it) formats them.
fn serial(text: &str) -> Option<String> {
    let digits: String = text.trim().chars().filter(|&c| c != ':').collect();
    if digits.is_empty()
        || digits.len() > SERIAL_MAX_DIGITS
        || !digits.chars().all(|c| c.is_ascii_hexdigit())
    {
        return None;
    }
    let trimmed = digits.trim_start_matches('0').to_ascii_lowercase();
    Some(if trimmed.is_empty() {
        "0".to_owned()
    } else {
        trimmed
    })
}

/// Reads a crt.sh timestamp: UTC without a zone, with or without fractional
/// seconds. An RFC 3339 form with a zone is accepted too, in case crt.sh
/// starts sending one.
fn timestamp(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(zoned) = DateTime::parse_from_rfc3339(text) {
        return Some(zoned.with_timezone(&Utc));
    }
    // `%.f` makes the fraction optional; crt.sh has used both `T` and a
    // space between date and time.
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|naive| naive.and_utc())
}

/// Splits `name_value` into normalised DNS names, dropping what is not one.
fn names(name_value: &str) -> Vec<String> {
    let set: BTreeSet<String> = name_value
        .split('\n')
        .filter_map(|raw| {
            let name = normalise(raw.trim());
            is_dns_name(&name).then_some(name)
        })
        .collect();
    set.into_iter().collect()
}

/// Lower case without one trailing dot: the form names are compared in.
fn normalise(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

/// Whether a normalised name is a DNS name a certificate can carry: LDH
/// labels (underscores tolerated, as some CAs logged them) of 1..=63
/// characters, at most 253 in all, an optional leading `*.` wildcard label,
/// and not an IP address. E-mail addresses fail on the `@`.
fn is_dns_name(name: &str) -> bool {
    if name.is_empty() || name.len() > 253 || name.parse::<IpAddr>().is_ok() {
        return false;
    }
    let base = name.strip_prefix("*.").unwrap_or(name);
    !base.is_empty()
        && base.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        })
}

/// Merges entries with the same (issuer, serial): ids united, names united,
/// logged_at the earliest; output sorted by (logged_at, serial).
pub fn dedupe(entries: Vec<LoggedCertificate>) -> Vec<LoggedCertificate> {
    let mut merged: BTreeMap<(String, String), LoggedCertificate> = BTreeMap::new();
    for entry in entries {
        let key = (entry.issuer.clone(), entry.serial.clone());
        match merged.get_mut(&key) {
            Some(existing) => {
                existing.ids.extend(entry.ids);
                existing.names.extend(entry.names);
                existing.logged_at = existing.logged_at.min(entry.logged_at);
                // The two entries carry the same validity; taking the minimum
                // keeps the merge independent of the entries' order should
                // they ever differ.
                existing.not_before = earliest(existing.not_before, entry.not_before);
                existing.not_after = earliest(existing.not_after, entry.not_after);
            }
            None => {
                merged.insert(key, entry);
            }
        }
    }
    let mut out: Vec<LoggedCertificate> = merged
        .into_values()
        .map(|mut certificate| {
            certificate.ids.sort_unstable();
            certificate.ids.dedup();
            certificate.names.sort_unstable();
            certificate.names.dedup();
            certificate
        })
        .collect();
    // Issuer and ids break ties so the order is fully deterministic.
    out.sort_by(|a, b| {
        (a.logged_at, &a.serial, &a.issuer, &a.ids).cmp(&(
            b.logged_at,
            &b.serial,
            &b.issuer,
            &b.ids,
        ))
    });
    out
}

/// The earlier of two optional times, or whichever is present.
fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Whether `name` (a certificate name, maybe `*.x`) is `apex` or below it
/// (label-wise: `notexample.com` is not below `example.com`). Both
/// normalised (lower case, no trailing dot).
///
/// A wildcard counts by its base: `*.example.com` is below `example.com`,
/// `*.com` is not (it covers `example.com` but is not a name of that zone).
/// An empty apex (the root) matches nothing: the watch never watches it.
pub fn within(name: &str, apex: &str) -> bool {
    let name = normalise(name.trim());
    let apex = normalise(apex.trim());
    let base = name.strip_prefix("*.").unwrap_or(&name);
    if apex.is_empty() || base.is_empty() {
        return false;
    }
    base == apex
        || base
            .strip_suffix(apex.as_str())
            // The part before the apex must be whole labels: `x.` but not
            // `x` (notexample.com) nor a bare `.` (an empty label).
            .and_then(|head| head.strip_suffix('.'))
            .is_some_and(|labels| !labels.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
            .single()
            .unwrap_or_default()
    }

    /// A golden answer in crt.sh's format: a precertificate/certificate pair
    /// of a Let's Encrypt certificate (serial with a leading zero in the
    /// precertificate entry, colons and upper case in the other), a wildcard
    /// DigiCert certificate whose name_value has an e-mail address, an IP and
    /// upper case, and timestamps with and without fractions.
    const GOLDEN: &str = r#"[
      {"issuer_ca_id":295810,"issuer_name":"C=US, O=Let's Encrypt, CN=R11","common_name":"example.com","name_value":"example.com\nwww.example.com","id":15263544581,"entry_timestamp":"2024-11-06T10:11:12.345","not_before":"2024-11-06T09:12:00","not_after":"2025-02-04T09:11:59","serial_number":"03ab5c0f1e2d4c5b6a798877665544332211","result_count":2},
      {"issuer_ca_id":295810,"issuer_name":"C=US, O=Let's Encrypt, CN=R11","common_name":"example.com","name_value":"www.example.com\nexample.com","id":15263544570,"entry_timestamp":"2024-11-06T10:11:10","not_before":"2024-11-06T09:12:00","not_after":"2025-02-04T09:11:59","serial_number":"00:03:AB:5C:0F:1E:2D:4C:5B:6A:79:88:77:66:55:44:33:22:11","result_count":2},
      {"issuer_ca_id":1,"issuer_name":"C=US, O=DigiCert Inc, CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1","common_name":"*.example.com","name_value":"*.EXAMPLE.com\nExample.COM.\nhostmaster@example.com\n192.0.2.1\n\nmail.example.com","id":9000000001,"entry_timestamp":"2024-01-02T03:04:05.678901","not_before":"2024-01-02T00:00:00","not_after":"2025-01-31T23:59:59","serial_number":"0a1b","result_count":1}
    ]"#;

    #[test]
    fn golden_answer() {
        let answer = parse(GOLDEN.as_bytes()).unwrap_or_default();
        assert_eq!(answer.skipped, 0);
        let digicert = LoggedCertificate {
            ids: vec![9_000_000_001],
            issuer: "C=US, O=DigiCert Inc, CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1".into(),
            serial: "a1b".into(),
            names: vec![
                "*.example.com".into(),
                "example.com".into(),
                "mail.example.com".into(),
            ],
            not_before: Some(at(2024, 1, 2, 0, 0, 0)),
            not_after: Some(at(2025, 1, 31, 23, 59, 59)),
            logged_at: at(2024, 1, 2, 3, 4, 5) + chrono::Duration::microseconds(678_901),
        };
        let lets_encrypt = LoggedCertificate {
            ids: vec![15_263_544_570, 15_263_544_581],
            issuer: "C=US, O=Let's Encrypt, CN=R11".into(),
            serial: "3ab5c0f1e2d4c5b6a798877665544332211".into(),
            names: vec!["example.com".into(), "www.example.com".into()],
            not_before: Some(at(2024, 11, 6, 9, 12, 0)),
            not_after: Some(at(2025, 2, 4, 9, 11, 59)),
            // The precertificate's (earlier, non-fractional) timestamp.
            logged_at: at(2024, 11, 6, 10, 11, 10),
        };
        assert_eq!(answer.certificates, vec![digicert, lets_encrypt]);
    }

    #[test]
    fn empty_array_is_an_empty_answer() {
        assert_eq!(parse(b"[]"), Ok(SearchAnswer::default()));
        assert_eq!(parse(b" [ ] \n"), Ok(SearchAnswer::default()));
    }

    #[test]
    fn serials_normalise() {
        assert_eq!(serial("00:0A:bC"), Some("abc".into()));
        assert_eq!(serial("0000"), Some("0".into()));
        assert_eq!(serial("0"), Some("0".into()));
        assert_eq!(serial(""), None);
        assert_eq!(serial(":::"), None);
        assert_eq!(serial("0x12"), None);
        assert_eq!(serial("12 34"), None);
        assert_eq!(serial(&"f".repeat(64)), Some("f".repeat(64)));
        assert_eq!(serial(&"f".repeat(65)), None);
    }

    #[test]
    fn timestamps() {
        assert_eq!(
            timestamp("2024-11-06T09:12:00"),
            Some(at(2024, 11, 6, 9, 12, 0))
        );
        assert_eq!(
            timestamp("2024-11-06T09:12:00.5"),
            Some(at(2024, 11, 6, 9, 12, 0) + chrono::Duration::milliseconds(500))
        );
        assert_eq!(
            timestamp("2024-11-06 09:12:00"),
            Some(at(2024, 11, 6, 9, 12, 0))
        );
        assert_eq!(
            timestamp("2024-11-06T10:12:00+01:00"),
            Some(at(2024, 11, 6, 9, 12, 0))
        );
        assert_eq!(timestamp("2024-11-06"), None);
        assert_eq!(timestamp("yesterday"), None);
        assert_eq!(timestamp("2024-13-06T09:12:00"), None);
    }

    #[test]
    fn names_keep_only_dns_names() {
        assert_eq!(
            names(
                "A.Example.com\n*.example.com\nuser@example.com\n::1\n10.0.0.1\n\n  \nexample.com.\nexample.com\nbad name.com\nfoo*.example.com\n*\n*.\n_dmarc.example.com\r"
            ),
            vec![
                "*.example.com",
                "_dmarc.example.com",
                "a.example.com",
                "example.com"
            ]
        );
        assert!(!is_dns_name(&format!("{}.com", "a".repeat(64))));
        assert!(is_dns_name(&format!("{}.com", "a".repeat(63))));
        assert!(!is_dns_name(&format!("{}com", "a.".repeat(127))));
        assert!(!is_dns_name("a..b"));
    }

    #[test]
    fn optional_validity() {
        let body = br#"[{"id":1,"issuer_name":"I","serial_number":"1","name_value":"a.example","entry_timestamp":"2024-01-01T00:00:00","not_before":17,"not_after":"soon"}]"#;
        let answer = parse(body).unwrap_or_default();
        assert_eq!(answer.skipped, 0);
        assert_eq!(answer.certificates.len(), 1);
        assert!(
            answer
                .certificates
                .iter()
                .all(|c| c.not_before.is_none() && c.not_after.is_none())
        );
    }

    #[test]
    fn not_json() {
        for body in [
            &b""[..],
            b"<html>502 Bad Gateway</html>",
            b"[{\"id\":1",
            b"\xff\xfe[]",
            b"[1,]",
        ] {
            assert!(
                matches!(parse(body), Err(SearchError::NotJson(_))),
                "{body:?}"
            );
        }
    }

    #[test]
    fn not_an_array() {
        for body in [&b"{\"id\":1}"[..], b"null", b"42", b"\"[]\"", b"true"] {
            assert_eq!(parse(body), Err(SearchError::NotAnArray), "{body:?}");
        }
    }

    #[test]
    fn array_of_non_objects_is_all_skipped() {
        assert_eq!(
            parse(b"[1, 2.5, \"x\", null, [], true]"),
            Ok(SearchAnswer {
                certificates: vec![],
                skipped: 6
            })
        );
    }

    #[test]
    fn wrong_types_are_skipped() {
        let good = r#"{"id":1,"issuer_name":"I","serial_number":"01","name_value":"a.example","entry_timestamp":"2024-01-01T00:00:00"}"#;
        let bad = [
            r#"{"id":"2","issuer_name":"I","serial_number":"02","name_value":"a.example","entry_timestamp":"2024-01-01T00:00:00"}"#,
            r#"{"id":3,"issuer_name":7,"serial_number":"03","name_value":"a.example","entry_timestamp":"2024-01-01T00:00:00"}"#,
            r#"{"id":-4,"issuer_name":"I","serial_number":"04","name_value":"a.example","entry_timestamp":"2024-01-01T00:00:00"}"#,
            r#"{"id":5.5,"issuer_name":"I","serial_number":"05","name_value":"a.example","entry_timestamp":"2024-01-01T00:00:00"}"#,
            r#"{"id":6,"issuer_name":"I","serial_number":6,"name_value":"a.example","entry_timestamp":"2024-01-01T00:00:00"}"#,
            r#"{"id":7,"issuer_name":"I","serial_number":"xyz","name_value":"a.example","entry_timestamp":"2024-01-01T00:00:00"}"#,
            r#"{"id":8,"issuer_name":"I","serial_number":"08","name_value":["a.example"],"entry_timestamp":"2024-01-01T00:00:00"}"#,
            r#"{"id":9,"issuer_name":"I","serial_number":"09","name_value":"a.example","entry_timestamp":"not a time"}"#,
            r#"{"id":10,"issuer_name":"I","serial_number":"0a","name_value":"a.example"}"#,
            r#"{"id":null,"issuer_name":"I","serial_number":"0b","name_value":"a.example","entry_timestamp":"2024-01-01T00:00:00"}"#,
            r#"{}"#,
        ];
        let body = format!("[{good},{}]", bad.join(","));
        let answer = parse(body.as_bytes()).unwrap_or_default();
        assert_eq!(answer.skipped, bad.len());
        assert_eq!(answer.certificates.len(), 1);
        assert_eq!(
            answer
                .certificates
                .first()
                .map(|c| (c.ids.clone(), c.serial.clone())),
            Some((vec![1], "1".to_owned()))
        );
    }

    #[test]
    fn deep_nesting_is_an_error() {
        let body = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
        assert!(matches!(
            parse(body.as_bytes()),
            Err(SearchError::NotJson(_))
        ));
        let objects = format!("{}{}", "{\"a\":".repeat(1000), "}".repeat(1000));
        assert!(matches!(
            parse(objects.as_bytes()),
            Err(SearchError::NotJson(_))
        ));
    }

    #[test]
    fn over_the_limit() {
        assert_eq!(
            parse_with_limit(b"[1,2,3]", 6),
            Err(SearchError::TooLarge { size: 7, limit: 6 })
        );
        // Checked before parsing: a non-JSON body over the limit is TooLarge.
        assert_eq!(
            parse_with_limit(b"garbage", 3),
            Err(SearchError::TooLarge { size: 7, limit: 3 })
        );
        assert_eq!(
            parse_with_limit(b"[1,2,3]", 7),
            Ok(SearchAnswer {
                certificates: vec![],
                skipped: 3
            })
        );
        assert_eq!(
            SearchError::TooLarge { size: 7, limit: 6 }.to_string(),
            "the answer is 7 bytes, over the 6-byte limit"
        );
    }

    #[test]
    fn huge_name_value() {
        let name_value: Vec<String> = (0..100_000).map(|i| format!("h{i}.example.com")).collect();
        let body = serde_json::json!([{
            "id": 1,
            "issuer_name": "C=US, O=Let's Encrypt, CN=R11",
            "serial_number": "01",
            "name_value": name_value.join("\n"),
            "entry_timestamp": "2024-01-01T00:00:00",
        }])
        .to_string();
        let answer = parse(body.as_bytes()).unwrap_or_default();
        assert_eq!(answer.skipped, 0);
        assert_eq!(
            answer.certificates.first().map(|c| c.names.len()),
            Some(100_000)
        );
    }

    #[test]
    fn dedupe_merges_and_sorts() {
        let cert = |id: u64, issuer: &str, serial: &str, names: &[&str], logged: DateTime<Utc>| {
            LoggedCertificate {
                ids: vec![id],
                issuer: issuer.into(),
                serial: serial.into(),
                names: names.iter().map(|n| (*n).to_owned()).collect(),
                not_before: None,
                not_after: None,
                logged_at: logged,
            }
        };
        let t1 = at(2024, 1, 1, 0, 0, 0);
        let t2 = at(2024, 1, 2, 0, 0, 0);
        let out = dedupe(vec![
            cert(5, "A", "1", &["b.x"], t2),
            cert(3, "A", "1", &["a.x", "b.x"], t2),
            cert(4, "B", "1", &["c.x"], t1),
            cert(2, "A", "2", &["d.x"], t2),
            cert(1, "A", "1", &["a.x"], t1),
        ]);
        let summary: Vec<_> = out
            .iter()
            .map(|c| {
                (
                    c.ids.clone(),
                    c.issuer.as_str(),
                    c.serial.as_str(),
                    c.names.clone(),
                    c.logged_at,
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                (
                    vec![1, 3, 5],
                    "A",
                    "1",
                    vec!["a.x".into(), "b.x".into()],
                    t1
                ),
                (vec![4], "B", "1", vec!["c.x".into()], t1),
                (vec![2], "A", "2", vec!["d.x".into()], t2),
            ]
        );
        assert!(dedupe(vec![]).is_empty());
    }

    #[test]
    fn within_is_label_wise() {
        assert!(within("example.com", "example.com"));
        assert!(within("www.example.com", "example.com"));
        assert!(within("a.b.example.com", "example.com"));
        assert!(within("*.example.com", "example.com"));
        assert!(within("*.a.example.com", "example.com"));
        assert!(within("WWW.Example.COM.", "example.com."));
        assert!(within("www.example.com", "EXAMPLE.COM"));
        assert!(!within("notexample.com", "example.com"));
        assert!(!within("example.com.evil", "example.com"));
        assert!(!within("example.com", "www.example.com"));
        assert!(!within("*.com", "example.com"));
        assert!(!within("com", "example.com"));
        assert!(!within("", "example.com"));
        assert!(!within("*.", "example.com"));
        assert!(!within("example.com", ""));
        assert!(!within(".example.com", "example.com"));
    }

    /// Arbitrary JSON, at most 6 levels deep, with the entry fields' names
    /// among the keys so that some objects come close to entries.
    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            ".{0,12}".prop_map(Value::String),
            "[0-9a-fA-F:]{0,8}".prop_map(Value::String),
            Just(Value::String("2024-11-06T10:11:12.345".into())),
        ];
        let key = prop_oneof![
            Just("id".to_owned()),
            Just("issuer_name".to_owned()),
            Just("serial_number".to_owned()),
            Just("name_value".to_owned()),
            Just("entry_timestamp".to_owned()),
            Just("not_before".to_owned()),
            Just("not_after".to_owned()),
            "[a-z_]{0,8}",
        ];
        leaf.prop_recursive(6, 64, 8, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                proptest::collection::btree_map(key.clone(), inner, 0..8)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// A valid entry: issuer index, serial value, id, an upper-case and
    /// leading-zero choice for the serial's spelling, and a timestamp.
    fn valid_entry() -> impl Strategy<Value = (usize, u16, u64, bool, u8, bool, u32)> {
        (
            0usize..3,
            0u16..6,
            any::<u64>(),
            any::<bool>(),
            0u8..3,
            any::<bool>(),
            0u32..100_000,
        )
    }

    const ISSUERS: [&str; 3] = [
        "C=US, O=Let's Encrypt, CN=R11",
        "C=US, O=DigiCert Inc, CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1",
        "C=US, O=Amazon, CN=Amazon RSA 2048 M02",
    ];

    proptest! {
        #![proptest_config(ProptestConfig {
            // No regression files: this crate's tree is shared.
            failure_persistence: None,
            ..ProptestConfig::with_cases(256)
        })]

        #[test]
        fn parse_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse(&bytes);
            let _ = parse_with_limit(&bytes, 16);
        }

        #[test]
        fn parse_never_panics_on_json(value in json_value()) {
            let alone = serde_json::to_vec(&value).unwrap_or_default();
            let _ = parse(&alone);
            let wrapped = serde_json::to_vec(&Value::Array(vec![value])).unwrap_or_default();
            let answer = parse(&wrapped);
            prop_assert!(answer.is_ok());
        }

        #[test]
        fn generated_entries_dedupe_exactly(entries in proptest::collection::vec(valid_entry(), 0..40)) {
            let mut expected = BTreeSet::new();
            let items: Vec<Value> = entries
                .iter()
                .map(|&(issuer, serial, id, upper, zeros, colons, seconds)| {
                    let issuer = ISSUERS.get(issuer).copied().unwrap_or_default();
                    expected.insert((issuer, serial));
                    let mut hex = format!("{}{serial:x}", "0".repeat(usize::from(zeros)));
                    if upper {
                        hex = hex.to_ascii_uppercase();
                    }
                    if colons {
                        hex = hex.chars().map(String::from).collect::<Vec<_>>().join(":");
                    }
                    let logged = at(2024, 1, 1, 0, 0, 0) + chrono::Duration::seconds(i64::from(seconds));
                    serde_json::json!({
                        "issuer_ca_id": 1,
                        "issuer_name": issuer,
                        "common_name": "example.com",
                        "name_value": "example.com\nWWW.example.com\n*.example.com",
                        "id": id,
                        "entry_timestamp": logged.format("%Y-%m-%dT%H:%M:%S%.3f").to_string(),
                        "not_before": "2024-01-01T00:00:00",
                        "not_after": "2024-04-01T00:00:00",
                        "serial_number": hex,
                        "result_count": entries.len(),
                    })
                })
                .collect();
            let body = serde_json::to_vec(&Value::Array(items)).unwrap_or_default();
            let answer = parse(&body);
            prop_assert!(answer.is_ok());
            let answer = answer.unwrap_or_default();
            prop_assert_eq!(answer.skipped, 0);
            prop_assert_eq!(answer.certificates.len(), expected.len());
            let sorted = answer.certificates.windows(2).all(|w| match w {
                [a, b] => (a.logged_at, &a.serial) <= (b.logged_at, &b.serial),
                _ => true,
            });
            prop_assert!(sorted);
            for certificate in &answer.certificates {
                prop_assert_eq!(
                    &certificate.names,
                    &vec!["*.example.com".to_owned(), "example.com".to_owned(), "www.example.com".to_owned()]
                );
            }
        }

        #[test]
        fn within_agrees_with_suffix(labels in proptest::collection::vec("[a-z]{1,3}", 1..4), prefix in "[a-z]{0,3}") {
            let apex = labels.join(".");
            let sub = format!("{prefix}.{apex}");
            prop_assert!(within(&apex, &apex));
            let wildcard = format!("*.{apex}");
            prop_assert!(within(&wildcard, &apex));
            prop_assert_eq!(within(&sub, &apex), !prefix.is_empty());
            let glued = format!("{prefix}x{apex}");
            prop_assert!(!within(&glued, &apex));
        }
    }
}
