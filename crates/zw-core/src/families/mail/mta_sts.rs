//! MTA-STS (RFC 8461): the `_mta-sts` TXT record, the policy file served
//! at `https://mta-sts.<domain>/.well-known/mta-sts.txt`, and which MX hosts
//! a policy covers; plus the TLS-RPT record (RFC 8460) that reports on it.

use serde::{Deserialize, Serialize};

/// The longest `max_age` RFC 8461 3.2 allows: about one year, in seconds.
pub const MAX_AGE_LIMIT: u64 = 31_557_600;

/// RFC 8461 3.1's WSP: space and horizontal tab.
fn trim_wsp(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// Whether `text` starts with `version` followed by the end, a space, a tab
/// or `;`. Compared without regard to case, so that a miswritten version
/// is reported as an invalid record rather than as none.
fn starts_with_version(text: &str, version: &str) -> bool {
    text.get(..version.len())
        .is_some_and(|v| v.eq_ignore_ascii_case(version))
        && matches!(
            text.as_bytes().get(version.len()),
            None | Some(b' ' | b'\t' | b';')
        )
}

/// The `;`-separated fields after the version of a TXT record (RFC 8461
/// 3.1, RFC 8460 3): each `name=value`, the version checked exactly.
fn fields<'a>(txt: &'a str, version: &str) -> Result<Vec<(&'a str, &'a str)>, String> {
    let mut pieces = txt.split(';').map(trim_wsp);
    let first = pieces.next().unwrap_or_default();
    if first != version {
        return Err(if first.eq_ignore_ascii_case(version) {
            format!("`{first}` must be written exactly `{version}`")
        } else {
            format!("the record must start with `{version};`")
        });
    }
    pieces
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.split_once('=')
                .filter(|(n, v)| is_field_name(n) && !v.is_empty())
                .ok_or_else(|| {
                    format!("`{p}` is not a field: write name=value pairs separated by `;`")
                })
        })
        .collect()
}

/// RFC 8461 3.1: `(ALPHA / DIGIT) 0*31(ALPHA / DIGIT / "_" / "-" / ".")`.
fn is_field_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.len() <= 32
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// The `_mta-sts` TXT record: `v=STSv1; id=<1-32 alphanumerics>;` (extension fields allowed).
pub fn is_sts_record(txt: &str) -> bool {
    starts_with_version(txt, "v=STSv1")
}

/// The record's `id`, or why the record is invalid (one sentence).
pub fn parse_sts_record(txt: &str) -> Result<String, String> {
    let mut id = None;
    for (name, value) in fields(txt, "v=STSv1")? {
        if name != "id" {
            // Extension fields are allowed and ignored (RFC 8461 3.1).
            continue;
        }
        if id.is_some() {
            return Err("`id` appears more than once: keep one".into());
        }
        if value.len() > 32 || !value.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(format!(
                "`id={value}` is not a policy id: use 1 to 32 letters and digits, such as 20260101T000000"
            ));
        }
        id = Some(value.to_owned());
    }
    id.ok_or_else(|| {
        "the `id` field is missing: add id=<letters and digits>, changed with every policy update"
            .into()
    })
}

/// How sending servers apply a policy (RFC 8461 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    Enforce,
    Testing,
    None,
}

/// A parsed policy file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StsPolicy {
    pub mode: Mode,
    /// The `mx` patterns as written: host names, or `*.` and a domain.
    pub mx: Vec<String>,
    /// Seconds senders may cache the policy.
    pub max_age: u64,
}

/// The policy file (`version: STSv1`, `mode`, `mx` (repeatable), `max_age`), lines ending CRLF or LF; key/value per RFC 8461 3.2; unknown keys ignored; version must be STSv1 and present; mode required; max_age required, 0..=31557600; at least one mx unless mode none. Reason one sentence.
pub fn parse_policy(text: &str) -> Result<StsPolicy, String> {
    let mut version = None;
    let mut mode = None;
    let mut max_age = None;
    let mut mx = Vec::new();
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if trim_wsp(line).is_empty() {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(format!(
                "the line `{line}` is not a field: write `key: value`"
            ));
        };
        // Keys are case-sensitive (RFC 8461 3.2's %s strings) and start the
        // line; the value may be preceded and followed by whitespace.
        let value = trim_wsp(value);
        let once = |seen: bool| {
            if seen {
                Err(format!("`{key}` appears more than once: keep one"))
            } else {
                Ok(())
            }
        };
        match key {
            "version" => {
                once(version.is_some())?;
                if value != "STSv1" {
                    return Err(format!(
                        "`version: {value}` is not supported: write `version: STSv1`"
                    ));
                }
                version = Some(());
            }
            "mode" => {
                once(mode.is_some())?;
                mode = Some(match value {
                    "enforce" => Mode::Enforce,
                    "testing" => Mode::Testing,
                    "none" => Mode::None,
                    _ => {
                        return Err(format!(
                            "`mode: {value}` is not a mode: use enforce, testing or none (lowercase)"
                        ));
                    }
                });
            }
            "max_age" => {
                once(max_age.is_some())?;
                let seconds = value
                    .parse::<u64>()
                    .ok()
                    .filter(|s| value.len() <= 10 && value.bytes().all(|b| b.is_ascii_digit()) && *s <= MAX_AGE_LIMIT)
                    .ok_or_else(|| {
                        format!(
                            "`max_age: {value}` is not a valid lifetime: use a number of seconds from 0 to {MAX_AGE_LIMIT}"
                        )
                    })?;
                max_age = Some(seconds);
            }
            "mx" => {
                if !is_mx_pattern(value) {
                    return Err(format!(
                        "`mx: {value}` is not an MX pattern: use a host name, or `*.` and a domain"
                    ));
                }
                mx.push(value.to_owned());
            }
            // Unknown fields MUST be ignored (RFC 8461 3.2).
            _ => {}
        }
    }
    if version.is_none() {
        return Err("the `version: STSv1` line is missing".into());
    }
    let mode =
        mode.ok_or("the `mode` line is missing: add `mode: enforce`, `testing` or `none`")?;
    let max_age =
        max_age.ok_or("the `max_age` line is missing: add `max_age: 604800` (seconds)")?;
    if mx.is_empty() && mode != Mode::None {
        return Err("the policy names no `mx`: add an `mx:` line for every MX host".into());
    }
    Ok(StsPolicy { mode, mx, max_age })
}

/// A host name, optionally after `*.`: non-empty labels of letters, digits,
/// `-` and `_`, at least two.
fn is_mx_pattern(pattern: &str) -> bool {
    let name = pattern.strip_prefix("*.").unwrap_or(pattern);
    let name = name.strip_suffix('.').unwrap_or(name);
    name.len() <= 253
        && name.contains('.')
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// A name as compared: lowercase, no trailing dot.
fn normalize(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Whether `host` (an MX exchange, any case, trailing dot or not) matches a policy `mx` pattern: exact, or `*.example.net` matching exactly one leftmost label (RFC 8461 4.1).
pub fn mx_matches(pattern: &str, host: &str) -> bool {
    let pattern = normalize(pattern);
    let host = normalize(host);
    match pattern.strip_prefix("*.") {
        Some(parent) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == parent),
        None => !host.is_empty() && host == pattern,
    }
}

/// The MX hosts none of the policy's patterns match.
pub fn uncovered_mx<'a>(policy: &StsPolicy, hosts: &'a [String]) -> Vec<&'a String> {
    hosts
        .iter()
        .filter(|h| !policy.mx.iter().any(|p| mx_matches(p, h)))
        .collect()
}

/// `_smtp._tls` TXT: starts with v=TLSRPTv1 and has a rua with mailto: or https: URIs.
pub fn is_tls_rpt(txt: &str) -> bool {
    starts_with_version(txt, "v=TLSRPTv1") && parse_tls_rpt(txt).is_ok()
}

/// The `rua` URIs of a TLS-RPT record (RFC 8460 3), or why it is invalid.
pub fn parse_tls_rpt(txt: &str) -> Result<Vec<String>, String> {
    let mut rua = None;
    for (name, value) in fields(txt, "v=TLSRPTv1")? {
        if name != "rua" {
            continue;
        }
        if rua.is_some() {
            return Err("`rua` appears more than once: keep one".into());
        }
        let uris = value
            .split(',')
            .map(|u| {
                let u = trim_wsp(u);
                if is_report_uri(u) {
                    Ok(u.to_owned())
                } else {
                    Err(format!(
                        "`{u}` is not a report address: use mailto:tlsrpt@example.com or an https: URL"
                    ))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        rua = Some(uris);
    }
    rua.ok_or_else(|| {
        "the `rua` field is missing: add rua=mailto:<address> or rua=https://<url>".into()
    })
}

/// A `mailto:` address with a local part and a domain, or an `https:` URL
/// with a host.
fn is_report_uri(uri: &str) -> bool {
    let Ok(parsed) = url::Url::parse(uri) else {
        return false;
    };
    match parsed.scheme() {
        "mailto" => parsed
            .path()
            .rsplit_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.')),
        "https" => parsed.host_str().is_some_and(|h| !h.is_empty()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_txt_record_gives_its_id() {
        assert!(is_sts_record("v=STSv1; id=20160831085700Z;"));
        assert!(is_sts_record("v=STSv1;id=1"));
        assert!(!is_sts_record("v=STSv10; id=1"));
        assert!(!is_sts_record("v=spf1 -all"));
        assert_eq!(
            parse_sts_record("v=STSv1; id=20160831085700Z;").as_deref(),
            Ok("20160831085700Z")
        );
        assert_eq!(
            parse_sts_record("v=STSv1 ;\tid=abc ; ext=val").as_deref(),
            Ok("abc")
        );
        assert_eq!(
            parse_sts_record("v=STSv1;").unwrap_err(),
            "the `id` field is missing: add id=<letters and digits>, changed with every policy update"
        );
        assert!(
            parse_sts_record("v=STSv1; id=2016-08-31")
                .unwrap_err()
                .contains("`id=2016-08-31`")
        );
        assert!(parse_sts_record("v=STSv1; id=123456789012345678901234567890123").is_err());
        assert!(parse_sts_record("v=STSv1; id=123456789012345678901234567890AB").is_ok());
        assert!(
            parse_sts_record("v=STSv1; id=1; id=2")
                .unwrap_err()
                .contains("more than once")
        );
        assert!(
            parse_sts_record("v=stsv1; id=1")
                .unwrap_err()
                .contains("exactly `v=STSv1`")
        );
        assert!(
            parse_sts_record("v=STSv1; id")
                .unwrap_err()
                .contains("`id` is not a field")
        );
    }

    const POLICY_LF: &str = "version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmx: backupmx.example.com\nmax_age: 604800\n";

    #[test]
    fn policies_parse_with_lf_and_crlf() {
        let expected = StsPolicy {
            mode: Mode::Enforce,
            mx: vec![
                "mail.example.com".into(),
                "*.example.net".into(),
                "backupmx.example.com".into(),
            ],
            max_age: 604_800,
        };
        assert_eq!(parse_policy(POLICY_LF), Ok(expected.clone()));
        let crlf = POLICY_LF.replace('\n', "\r\n");
        assert_eq!(parse_policy(&crlf), Ok(expected.clone()));
        // No final line end, spaces after the colon, an unknown key.
        let loose = "version:STSv1\r\nmode:    enforce  \r\nfuture: thing\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800";
        assert_eq!(parse_policy(loose), Ok(expected));
        let none = parse_policy("version: STSv1\nmode: none\nmax_age: 0\n").unwrap();
        assert_eq!((none.mode, none.mx.len(), none.max_age), (Mode::None, 0, 0));
        let testing =
            parse_policy("version: STSv1\nmode: testing\nmx: mx.example.com\nmax_age: 31557600\n")
                .unwrap();
        assert_eq!(
            (testing.mode, testing.max_age),
            (Mode::Testing, MAX_AGE_LIMIT)
        );
    }

    #[test]
    fn invalid_policies_say_why() {
        let cases: &[(&str, &str)] = &[
            (
                "mode: enforce\nmx: mx.example.com\nmax_age: 86400\n",
                "the `version: STSv1` line is missing",
            ),
            (
                "version: STSv2\nmode: enforce\nmx: mx.example.com\nmax_age: 86400\n",
                "`version: STSv2` is not supported: write `version: STSv1`",
            ),
            (
                "version: STSv1\nmode: enforced\nmx: mx.example.com\nmax_age: 86400\n",
                "`mode: enforced` is not a mode: use enforce, testing or none (lowercase)",
            ),
            (
                "version: STSv1\nmode: Enforce\nmx: mx.example.com\nmax_age: 86400\n",
                "`mode: Enforce` is not a mode: use enforce, testing or none (lowercase)",
            ),
            (
                "version: STSv1\nmx: mx.example.com\nmax_age: 86400\n",
                "the `mode` line is missing: add `mode: enforce`, `testing` or `none`",
            ),
            (
                "version: STSv1\nmode: enforce\nmx: mx.example.com\n",
                "the `max_age` line is missing: add `max_age: 604800` (seconds)",
            ),
            (
                "version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 31557601\n",
                "`max_age: 31557601` is not a valid lifetime: use a number of seconds from 0 to 31557600",
            ),
            (
                "version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: -1\n",
                "`max_age: -1` is not a valid lifetime: use a number of seconds from 0 to 31557600",
            ),
            (
                "version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 1d\n",
                "`max_age: 1d` is not a valid lifetime: use a number of seconds from 0 to 31557600",
            ),
            (
                "version: STSv1\nmode: enforce\nmax_age: 86400\n",
                "the policy names no `mx`: add an `mx:` line for every MX host",
            ),
            (
                "version: STSv1\nmode: enforce\nmx: mx example com\nmax_age: 86400\n",
                "`mx: mx example com` is not an MX pattern: use a host name, or `*.` and a domain",
            ),
            (
                "version: STSv1\nmode: enforce\nmode: testing\nmx: mx.example.com\nmax_age: 86400\n",
                "`mode` appears more than once: keep one",
            ),
            (
                "version: STSv1\nmode enforce\n",
                "the line `mode enforce` is not a field: write `key: value`",
            ),
            (
                "<html>not found</html>",
                "the line `<html>not found</html>` is not a field: write `key: value`",
            ),
        ];
        for (text, reason) in cases {
            assert_eq!(
                parse_policy(text).as_ref(),
                Err(&(*reason).to_owned()),
                "{text:?}"
            );
        }
    }

    #[test]
    fn wildcards_match_exactly_one_label() {
        assert!(mx_matches("*.example.net", "mx1.example.net"));
        assert!(mx_matches("*.example.net", "MX1.Example.NET."));
        assert!(mx_matches("*.Example.net.", "mx1.example.net"));
        assert!(!mx_matches("*.example.net", "a.b.example.net"));
        assert!(!mx_matches("*.example.net", "example.net"));
        assert!(!mx_matches("*.example.net", ".example.net"));
        assert!(!mx_matches("*.example.net", "mx1.example.org"));
        assert!(mx_matches("mail.example.com", "mail.example.com."));
        assert!(mx_matches("Mail.Example.com", "mail.example.COM"));
        assert!(!mx_matches("mail.example.com", "mx.mail.example.com"));
        assert!(!mx_matches("mail.example.com", "example.com"));
    }

    #[test]
    fn uncovered_mx_lists_what_no_pattern_matches() {
        let policy = parse_policy(POLICY_LF).unwrap();
        let hosts: Vec<String> = [
            "mail.example.com.",
            "mx1.example.net",
            "a.b.example.net",
            "backupmx.example.com",
            "other.example.org.",
        ]
        .map(String::from)
        .to_vec();
        let uncovered: Vec<&str> = uncovered_mx(&policy, &hosts)
            .into_iter()
            .map(String::as_str)
            .collect();
        assert_eq!(uncovered, ["a.b.example.net", "other.example.org."]);
        assert!(uncovered_mx(&policy, &hosts[..2]).is_empty());
    }

    #[test]
    fn tls_rpt_records_need_a_report_address() {
        assert_eq!(
            parse_tls_rpt("v=TLSRPTv1; rua=mailto:reports@example.com"),
            Ok(vec!["mailto:reports@example.com".to_owned()])
        );
        assert_eq!(
            parse_tls_rpt(
                "v=TLSRPTv1;rua=mailto:a@example.com, https://reporting.example.net/v1/tlsrpt;"
            ),
            Ok(vec![
                "mailto:a@example.com".to_owned(),
                "https://reporting.example.net/v1/tlsrpt".to_owned()
            ])
        );
        assert!(is_tls_rpt("v=TLSRPTv1; rua=mailto:reports@example.com"));
        assert!(!is_tls_rpt("v=TLSRPTv1;"));
        assert!(!is_tls_rpt("v=TLSRPTv1; rua=http://example.com/r"));
        assert!(!is_tls_rpt("v=TLSRPTv1; rua=reports@example.com"));
        assert!(!is_tls_rpt("v=TLSRPTv10; rua=mailto:reports@example.com"));
        assert!(!is_tls_rpt("v=spf1 -all"));
        assert_eq!(
            parse_tls_rpt("v=TLSRPTv1; rua=ftp://example.com").unwrap_err(),
            "`ftp://example.com` is not a report address: use mailto:tlsrpt@example.com or an https: URL"
        );
        assert_eq!(
            parse_tls_rpt("v=TLSRPTv1").unwrap_err(),
            "the `rua` field is missing: add rua=mailto:<address> or rua=https://<url>"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            // No regression files: this crate's tree is shared.
            failure_persistence: None,
            ..ProptestConfig::with_cases(512)
        })]

        #[test]
        fn parsers_never_panic(text in "(.{0,30}(\r?\n)?){0,5}") {
            let _ = parse_policy(&text);
            let _ = parse_policy(&format!("version: STSv1\n{text}"));
            let _ = parse_sts_record(&text);
            let _ = parse_tls_rpt(&text);
            let _ = mx_matches(&text, &text);
        }

        #[test]
        fn generated_policies_parse(
            mode in prop_oneof![Just((Mode::Enforce, "enforce")), Just((Mode::Testing, "testing")), Just((Mode::None, "none"))],
            mx in proptest::collection::vec("(\\*\\.)?[a-z0-9-]{1,10}\\.[a-z]{2,6}", 1..4),
            max_age in 0..=MAX_AGE_LIMIT,
            crlf in any::<bool>(),
        ) {
            let end = if crlf { "\r\n" } else { "\n" };
            let mut lines = vec!["version: STSv1".to_owned(), format!("mode: {}", mode.1)];
            lines.extend(mx.iter().map(|m| format!("mx: {m}")));
            lines.push(format!("max_age: {max_age}"));
            let text = lines.join(end) + end;
            prop_assert_eq!(parse_policy(&text), Ok(StsPolicy { mode: mode.0, mx, max_age }));
        }
    }
}
