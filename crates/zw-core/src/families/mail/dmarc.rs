//! DMARC policy records (RFC 7489 section 6.3 and 6.4): the tag-value
//! list at `_dmarc.<name>`, parsed strictly enough to say what receivers
//! would refuse, leniently where receivers are (unknown tags, whitespace, a
//! trailing `;`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The policy a domain asks receivers to apply to mail failing DMARC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    None,
    Quarantine,
    Reject,
}

impl Policy {
    fn parse(value: &str) -> Option<Self> {
        match value.to_ascii_lowercase().as_str() {
            "none" => Some(Self::None),
            "quarantine" => Some(Self::Quarantine),
            "reject" => Some(Self::Reject),
            _ => None,
        }
    }
}

/// One reporting address of `rua` or `ruf`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportUri {
    /// The URI as written, without its `!size` limit.
    pub uri: String,
    /// lowercased domain of a mailto: address, no trailing dot
    pub domain: Option<String>,
}

/// A valid DMARC record: what receivers act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DmarcRecord {
    pub policy: Policy,
    pub subdomain_policy: Option<Policy>,
    /// The percentage of failing mail the policy applies to; default 100.
    pub pct: u8,
    pub rua: Vec<ReportUri>,
    pub ruf: Vec<ReportUri>,
    /// Set when `p` is missing or invalid but a valid `rua` makes receivers apply `none` (RFC 7489 6.6.3).
    pub policy_defaulted: bool,
}

impl DmarcRecord {
    /// the policy applying to a subdomain of the record's domain: sp, else p
    pub fn for_subdomains(&self) -> Policy {
        self.subdomain_policy.unwrap_or(self.policy)
    }
}

/// Why a DMARC record is invalid: one sentence naming the tag and what is
/// expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{reason}")]
pub struct DmarcError {
    pub reason: String,
}

impl DmarcError {
    fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}

/// RFC 7489 6.4's WSP: space and horizontal tab.
fn trim_wsp(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// Whether a TXT string at _dmarc.<name> is meant as DMARC: begins with `v` `=` `DMARC1` (spaces around `=` allowed; RFC 7489 says receivers discard records that do not start with v=DMARC1).
///
/// `DMARC1` is compared without regard to case so that a lowercase
/// `v=dmarc1` is reported as an invalid record rather than as none.
pub fn is_dmarc(txt: &str) -> bool {
    let Some(rest) = txt.strip_prefix(['v', 'V']) else {
        return false;
    };
    let Some(rest) = trim_wsp(rest).strip_prefix('=') else {
        return false;
    };
    let rest = rest.trim_start_matches([' ', '\t']);
    rest.get(..6)
        .is_some_and(|v| v.eq_ignore_ascii_case("DMARC1"))
        && matches!(rest.as_bytes().get(6), None | Some(b' ' | b'\t' | b';'))
}

/// Parses a record for which `is_dmarc` holds.
pub fn parse(txt: &str) -> Result<DmarcRecord, DmarcError> {
    let mut pieces = txt.split(';').map(trim_wsp);
    let version = pieces.next().unwrap_or_default();
    match version
        .split_once('=')
        .map(|(t, v)| (trim_wsp(t), trim_wsp(v)))
    {
        Some(("v" | "V", "DMARC1")) => {}
        Some(("v" | "V", other)) if other.eq_ignore_ascii_case("DMARC1") => {
            return Err(DmarcError::new(format!(
                "`v={other}` must be written `v=DMARC1`, in capitals"
            )));
        }
        Some(("v" | "V", other))
            if other
                .get(..6)
                .is_some_and(|v| v.eq_ignore_ascii_case("DMARC1")) =>
        {
            return Err(DmarcError::new(format!(
                "`v={other}` runs into the next tag: end `v=DMARC1` with `;`"
            )));
        }
        _ => {
            return Err(DmarcError::new("a DMARC record must start with `v=DMARC1`"));
        }
    }

    let mut seen = BTreeSet::from(["v".to_owned()]);
    let mut policy: Result<Policy, String> =
        Err("`p` is missing: add p=none, p=quarantine or p=reject".into());
    let mut record = DmarcRecord {
        policy: Policy::None,
        subdomain_policy: None,
        pct: 100,
        rua: Vec::new(),
        ruf: Vec::new(),
        policy_defaulted: false,
    };
    for piece in pieces.filter(|p| !p.is_empty()) {
        let Some((tag, value)) = piece.split_once('=') else {
            return Err(DmarcError::new(format!(
                "`{piece}` is not a tag: write tag=value pairs separated by `;`"
            )));
        };
        let tag = trim_wsp(tag).to_ascii_lowercase();
        let value = trim_wsp(value);
        if !seen.insert(tag.clone()) {
            return Err(DmarcError::new(format!(
                "`{tag}` appears more than once: keep one"
            )));
        }
        match tag.as_str() {
            "p" => {
                policy = Policy::parse(value).ok_or_else(|| {
                    format!("`p={value}` is not a policy: use none, quarantine or reject")
                });
            }
            "sp" => {
                record.subdomain_policy = Some(Policy::parse(value).ok_or_else(|| {
                    DmarcError::new(format!(
                        "`sp={value}` is not a policy: use none, quarantine or reject"
                    ))
                })?);
            }
            "pct" => {
                record.pct = value
                    .parse::<u8>()
                    .ok()
                    .filter(|p| *p <= 100)
                    .ok_or_else(|| {
                        DmarcError::new(format!(
                            "`pct={value}` is not a percentage: use an integer from 0 to 100"
                        ))
                    })?;
            }
            "adkim" | "aspf" | "fo" | "rf" | "ri" => check_option(&tag, value)?,
            "rua" => record.rua = report_uris("rua", value)?,
            "ruf" => record.ruf = report_uris("ruf", value)?,
            // RFC 7489 6.3: unknown tags MUST be ignored.
            _ => {}
        }
    }
    match policy {
        Ok(p) => record.policy = p,
        // RFC 7489 6.6.3: without a valid `p`, a valid `rua` makes
        // receivers act as if `p=none` had been published.
        Err(_) if !record.rua.is_empty() => record.policy_defaulted = true,
        Err(why) => return Err(DmarcError::new(why)),
    }
    Ok(record)
}

/// The tags receivers only check the syntax of: alignment modes and
/// failure-reporting options (RFC 7489 6.3).
fn check_option(tag: &str, value: &str) -> Result<(), DmarcError> {
    let expected = match tag {
        "adkim" | "aspf" if !matches!(value, "r" | "s" | "R" | "S") => {
            "is not an alignment mode: use r (relaxed) or s (strict)"
        }
        "fo" if !value
            .split(':')
            .all(|o| matches!(trim_wsp(o), "0" | "1" | "d" | "s" | "D" | "S")) =>
        {
            "is not a failure reporting option: use 0, 1, d or s, separated by `:`"
        }
        "rf" if !value.split(':').all(|f| {
            let f = trim_wsp(f);
            f.eq_ignore_ascii_case("afrf") || f.eq_ignore_ascii_case("iodef")
        }) =>
        {
            "is not a report format: use afrf"
        }
        "ri" if value.parse::<u32>().is_err() => {
            "is not a reporting interval: use a number of seconds, such as 86400"
        }
        _ => return Ok(()),
    };
    Err(DmarcError::new(format!("`{tag}={value}` {expected}")))
}

/// The URIs of `rua` or `ruf` (RFC 7489 6.2, 6.4): comma-separated, each
/// with an optional `!size` limit.
fn report_uris(tag: &str, value: &str) -> Result<Vec<ReportUri>, DmarcError> {
    if value.is_empty() {
        return Err(DmarcError::new(format!(
            "`{tag}` is empty: give at least one address, as in {tag}=mailto:dmarc@example.com"
        )));
    }
    value
        .split(',')
        .map(|entry| report_uri(tag, trim_wsp(entry)))
        .collect()
}

fn report_uri(tag: &str, entry: &str) -> Result<ReportUri, DmarcError> {
    let uri = match entry.rsplit_once('!') {
        Some((uri, size)) => {
            let digits = size.trim_end_matches(['k', 'm', 'g', 't', 'K', 'M', 'G', 'T']);
            let unit_len = size.len().saturating_sub(digits.len());
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || unit_len > 1 {
                return Err(DmarcError::new(format!(
                    "`{tag}` entry `{entry}` has an invalid size limit: write it as `!10m` (digits and one of k, m, g, t)"
                )));
            }
            uri
        }
        None => entry,
    };
    let invalid = |what: &str| {
        DmarcError::new(format!(
            "`{tag}` entry `{entry}` {what}: write a URI such as mailto:dmarc@example.com"
        ))
    };
    if uri.is_empty() {
        return Err(invalid("is empty"));
    }
    let parsed = url::Url::parse(uri).map_err(|_| invalid("is not a URI"))?;
    let domain = if parsed.scheme() == "mailto" {
        // The address, without any `?subject=` header fields.
        let address = parsed.path().split('?').next().unwrap_or_default();
        let (local, host) = address
            .rsplit_once('@')
            .ok_or_else(|| invalid("is not a mail address"))?;
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let plausible = !host.is_empty()
            && host.split('.').all(|l| {
                !l.is_empty()
                    && l.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b >= 0x80)
            });
        if local.is_empty() || !plausible {
            return Err(invalid(
                "is not a mail address with a local part and a domain",
            ));
        }
        Some(host)
    } else {
        None
    };
    Ok(ReportUri {
        uri: uri.to_owned(),
        domain,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A corpus entry's expected verdict.
    #[derive(Debug, Clone, Copy)]
    enum Expected {
        Valid {
            p: Policy,
            sp: Option<Policy>,
            pct: u8,
            /// The `rua` then `ruf` mailto: domains, `-` for other URIs.
            report_domains: &'static [&'static str],
            defaulted: bool,
        },
        /// Invalid, the reason containing this.
        Invalid(&'static str),
    }

    const fn ok(
        p: Policy,
        sp: Option<Policy>,
        pct: u8,
        report_domains: &'static [&'static str],
    ) -> Expected {
        Expected::Valid {
            p,
            sp,
            pct,
            report_domains,
            defaulted: false,
        }
    }

    use Policy::{None as PNone, Quarantine, Reject};

    /// RFC 7489 appendix B's examples, providers' and generators' usual
    /// records, and the mistakes seen in the wild.
    const CORPUS: &[(&str, Expected)] = &[
        // RFC 7489 B.2.
        (
            "v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com",
            ok(PNone, None, 100, &["example.com"]),
        ),
        (
            "v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com; ruf=mailto:auth-reports@thirdparty.example.net",
            ok(PNone, None, 100, &["example.com", "thirdparty.example.net"]),
        ),
        (
            "v=DMARC1; p=quarantine; rua=mailto:dmarc-feedback@example.com,mailto:tld-test@thirdparty.example.net!10m; pct=25",
            ok(
                Quarantine,
                None,
                25,
                &["example.com", "thirdparty.example.net"],
            ),
        ),
        (
            "v=DMARC1; p=reject; sp=none; adkim=s; aspf=s; rua=mailto:dmarc@example.com",
            ok(Reject, Some(PNone), 100, &["example.com"]),
        ),
        // Usual records.
        ("v=DMARC1; p=reject", ok(Reject, None, 100, &[])),
        ("v=DMARC1; p=reject;", ok(Reject, None, 100, &[])),
        (
            "v=DMARC1;p=quarantine;pct=50",
            ok(Quarantine, None, 50, &[]),
        ),
        (
            "v = DMARC1 ; p = reject ; sp = quarantine ;",
            ok(Reject, Some(Quarantine), 100, &[]),
        ),
        (
            "V=DMARC1; P=REJECT; SP=Reject",
            ok(Reject, Some(Reject), 100, &[]),
        ),
        (
            "v=DMARC1; p=none; rua=mailto:re+abc123@dmarc.postmarkapp.com; aspf=r;",
            ok(PNone, None, 100, &["dmarc.postmarkapp.com"]),
        ),
        (
            "v=DMARC1; p=quarantine; rua=mailto:a@rua.agari.com; ruf=mailto:a@ruf.agari.com; fo=1",
            ok(Quarantine, None, 100, &["rua.agari.com", "ruf.agari.com"]),
        ),
        (
            "v=DMARC1; p=reject; rua=mailto:Reports@Example.COM.; fo=0:1:d:s; rf=afrf; ri=86400",
            ok(Reject, None, 100, &["example.com"]),
        ),
        (
            "v=DMARC1; p=none; rua=https://dmarc.example.net/report, mailto:x@example.org!50k",
            ok(PNone, None, 100, &["-", "example.org"]),
        ),
        ("v=DMARC1; p=reject; pct=0", ok(Reject, None, 0, &[])),
        (
            "v=DMARC1; p=none; np=reject; psd=n; t=y",
            ok(PNone, None, 100, &[]),
        ),
        ("v=DMARC1\t;\tp=quarantine", ok(Quarantine, None, 100, &[])),
        // No valid `p` but a valid `rua`: `none` applies (RFC 7489 6.6.3).
        (
            "v=DMARC1; rua=mailto:dmarc@example.com",
            Expected::Valid {
                p: PNone,
                sp: None,
                pct: 100,
                report_domains: &["example.com"],
                defaulted: true,
            },
        ),
        (
            "v=DMARC1; p=monitor; rua=mailto:dmarc@example.com",
            Expected::Valid {
                p: PNone,
                sp: None,
                pct: 100,
                report_domains: &["example.com"],
                defaulted: true,
            },
        ),
        // Invalid.
        (
            "v=DMARC1; p=monitor",
            Expected::Invalid("`p=monitor` is not a policy: use none, quarantine or reject"),
        ),
        ("v=DMARC1", Expected::Invalid("`p` is missing")),
        ("v=DMARC1; sp=reject", Expected::Invalid("`p` is missing")),
        (
            "p=reject; v=DMARC1",
            Expected::Invalid("must start with `v=DMARC1`"),
        ),
        ("v=dmarc1; p=reject", Expected::Invalid("in capitals")),
        (
            "v=DMARC1 p=reject",
            Expected::Invalid("end `v=DMARC1` with `;`"),
        ),
        (
            "v=DMARC1; p=reject; p=none",
            Expected::Invalid("`p` appears more than once"),
        ),
        (
            "v=DMARC1; p=reject; v=DMARC1",
            Expected::Invalid("`v` appears more than once"),
        ),
        (
            "v=DMARC1; p=reject; sp=block",
            Expected::Invalid("`sp=block` is not a policy"),
        ),
        (
            "v=DMARC1; p=reject; pct=150",
            Expected::Invalid("`pct=150` is not a percentage"),
        ),
        (
            "v=DMARC1; p=reject; pct=50%",
            Expected::Invalid("`pct=50%` is not a percentage"),
        ),
        (
            "v=DMARC1; p=reject; adkim=strict",
            Expected::Invalid("`adkim=strict` is not an alignment mode"),
        ),
        ("v=DMARC1; p=reject; fo=2", Expected::Invalid("`fo=2`")),
        (
            "v=DMARC1; p=reject; rf=json",
            Expected::Invalid("`rf=json`"),
        ),
        (
            "v=DMARC1; p=reject; ri=daily",
            Expected::Invalid("`ri=daily`"),
        ),
        (
            "v=DMARC1; p=none; rua=dmarc@example.com",
            Expected::Invalid("`rua` entry `dmarc@example.com` is not a URI"),
        ),
        (
            "v=DMARC1; p=none; rua=mailto:example.com",
            Expected::Invalid("is not a mail address"),
        ),
        (
            "v=DMARC1; p=none; rua=mailto:@example.com",
            Expected::Invalid("local part and a domain"),
        ),
        (
            "v=DMARC1; p=none; ruf=mailto:a@example.com!10x",
            Expected::Invalid("size limit"),
        ),
        (
            "v=DMARC1; p=none; rua=",
            Expected::Invalid("`rua` is empty"),
        ),
        (
            "v=DMARC1; p=reject; rua=mailto:a@example.com;; junk",
            Expected::Invalid("`junk` is not a tag"),
        ),
        // An invalid `rua` gives no default policy.
        (
            "v=DMARC1; p=monitor; rua=reports",
            Expected::Invalid("`rua` entry `reports` is not a URI"),
        ),
    ];

    #[test]
    fn the_corpus_parses_as_expected() {
        for (text, expected) in CORPUS {
            assert!(
                is_dmarc(text) || text.starts_with("p="),
                "is_dmarc of {text:?}"
            );
            match (parse(text), expected) {
                (
                    Ok(record),
                    Expected::Valid {
                        p,
                        sp,
                        pct,
                        report_domains,
                        defaulted,
                    },
                ) => {
                    assert_eq!(record.policy, *p, "p of {text:?}");
                    assert_eq!(record.subdomain_policy, *sp, "sp of {text:?}");
                    assert_eq!(
                        record.for_subdomains(),
                        sp.unwrap_or(*p),
                        "for_subdomains of {text:?}"
                    );
                    assert_eq!(record.pct, *pct, "pct of {text:?}");
                    assert_eq!(
                        record.policy_defaulted, *defaulted,
                        "policy_defaulted of {text:?}"
                    );
                    let domains: Vec<&str> = record
                        .rua
                        .iter()
                        .chain(&record.ruf)
                        .map(|u| u.domain.as_deref().unwrap_or("-"))
                        .collect();
                    assert_eq!(domains, *report_domains, "report domains of {text:?}");
                }
                (Err(e), Expected::Invalid(reason)) => {
                    assert!(e.reason.contains(reason), "reason of {text:?}: {e}");
                    assert!(!e.reason.ends_with('.'), "reason of {text:?}: {e}");
                }
                (got, expected) => panic!("{text:?}: expected {expected:?}, got {got:?}"),
            }
        }
        assert!(CORPUS.len() >= 20);
    }

    #[test]
    fn report_uris_keep_the_uri_without_its_size() {
        let record =
            parse("v=DMARC1; p=none; rua=mailto:a@Example.com!10m, https://r.example.net/x")
                .unwrap();
        assert_eq!(
            record.rua,
            [
                ReportUri {
                    uri: "mailto:a@Example.com".into(),
                    domain: Some("example.com".into())
                },
                ReportUri {
                    uri: "https://r.example.net/x".into(),
                    domain: None
                },
            ]
        );
    }

    #[test]
    fn is_dmarc_wants_the_version_first() {
        assert!(is_dmarc("v=DMARC1; p=none"));
        assert!(is_dmarc("v = DMARC1;p=none"));
        assert!(is_dmarc("v=DMARC1"));
        assert!(is_dmarc("v=dmarc1; p=none"));
        assert!(!is_dmarc("v=DMARC10; p=none"));
        assert!(!is_dmarc("p=none; v=DMARC1"));
        assert!(!is_dmarc(" v=DMARC1; p=none"));
        assert!(!is_dmarc("v=spf1 -all"));
        assert!(!is_dmarc("v=DMARé"));
    }

    #[test]
    fn errors_name_the_tag_and_the_fix() {
        assert_eq!(
            parse("v=DMARC1; p=monitor").unwrap_err().to_string(),
            "`p=monitor` is not a policy: use none, quarantine or reject"
        );
        assert_eq!(
            parse("v=DMARC1; p=reject; pct=101")
                .unwrap_err()
                .to_string(),
            "`pct=101` is not a percentage: use an integer from 0 to 100"
        );
    }

    fn policy() -> impl Strategy<Value = (Policy, &'static str)> {
        prop_oneof![
            Just((Policy::None, "none")),
            Just((Policy::Quarantine, "Quarantine")),
            Just((Policy::Reject, "reject")),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            // No regression files: this crate's tree is shared.
            failure_persistence: None,
            ..ProptestConfig::with_cases(512)
        })]

        #[test]
        fn parse_never_panics(text in ".{0,80}") {
            let _ = parse(&text);
            let _ = is_dmarc(&text);
            let _ = parse(&format!("v=DMARC1; {text}"));
        }

        #[test]
        fn generated_records_parse(
            p in policy(),
            sp in proptest::option::of(policy()),
            pct in proptest::option::of(0u8..=100),
            rua in proptest::collection::vec(("[a-z0-9.+-]{1,8}", "[a-z0-9-]{1,8}\\.[a-z]{2,5}", proptest::option::of("[0-9]{1,3}[kmgt]?")), 0..3),
            extra in proptest::collection::vec(("x[a-z]{0,4}", "[a-z0-9]{0,6}"), 0..2),
            sep in prop_oneof![Just(";"), Just("; "), Just(" ; "), Just(";\t")],
            trailing in any::<bool>(),
        ) {
            let mut tags = vec!["v=DMARC1".to_owned(), format!("p={}", p.1)];
            tags.extend(sp.map(|(_, s)| format!("sp={s}")));
            tags.extend(pct.map(|n| format!("pct={n}")));
            if !rua.is_empty() {
                let uris: Vec<String> = rua
                    .iter()
                    .map(|(l, d, size)| format!("mailto:{l}@{d}{}", size.as_ref().map(|s| format!("!{s}")).unwrap_or_default()))
                    .collect();
                tags.push(format!("rua={}", uris.join(",")));
            }
            let mut names = BTreeSet::new();
            for (name, value) in &extra {
                if names.insert(name.clone()) {
                    tags.push(format!("{name}={value}"));
                }
            }
            let text = format!("{}{}", tags.join(sep), if trailing { sep } else { "" });
            prop_assert!(is_dmarc(&text), "{}", text);
            let record = parse(&text);
            prop_assert!(record.is_ok(), "{} -> {:?}", text, record);
            if let Ok(record) = record {
                prop_assert_eq!(record.policy, p.0);
                prop_assert_eq!(record.subdomain_policy, sp.map(|s| s.0));
                prop_assert_eq!(record.pct, pct.unwrap_or(100));
                let domains: Vec<Option<String>> = record.rua.iter().map(|u| u.domain.clone()).collect();
                let expected: Vec<Option<String>> = rua.iter().map(|(_, d, _)| Some(d.clone())).collect();
                prop_assert_eq!(domains, expected);
                prop_assert!(!record.policy_defaulted);
            }
        }
    }
}
