//! Canonical record data: one text form per value, used on both sides before
//! comparing Route 53's configuration with what a server answered.
//!
//! Route 53 gives values as they were entered (`"v=spf1 -all"`,
//! `10 MAIL.example.com`, `2001:DB8:0:0::1`); hickory presents answers in zone
//! file format (TXT as double-quoted strings separated by spaces, names fully
//! qualified). DNS compares names case-insensitively, so names lose case and
//! get exactly one trailing dot; TXT contents are case-sensitive and keep it;
//! a TXT value's character-strings are joined, because Route 53 splits long
//! strings at 255 bytes wherever the user did not. Values that do not parse
//! for their type fall back to whitespace-normalised text, so that garbage
//! still compares equal to the same garbage and never panics.

use crate::model::normalize_dns_name;
use std::net::{Ipv4Addr, Ipv6Addr};

/// One token of presentation data: its bytes after unescaping, and whether
/// it was a quoted string.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    bytes: Vec<u8>,
    quoted: bool,
}

impl Token {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// Splits presentation data into tokens: whitespace separates, double quotes
/// group (a missing closing quote ends at the end of input), `\X` is X and
/// `\DDD` is the byte DDD (RFC 1035 §5.1).
fn tokens(data: &str) -> Vec<Token> {
    let bytes = data.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let quoted = bytes[i] == b'"';
        if quoted {
            i += 1;
        }
        let mut tok = Vec::new();
        while i < bytes.len() {
            let b = bytes[i];
            if quoted && b == b'"' {
                i += 1;
                break;
            }
            if !quoted && b.is_ascii_whitespace() {
                break;
            }
            if b == b'\\' && i + 1 < bytes.len() {
                let digits = &bytes[i + 1..bytes.len().min(i + 4)];
                if digits.len() == 3 && digits.iter().all(u8::is_ascii_digit) {
                    let n = digits
                        .iter()
                        .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
                    if let Ok(byte) = u8::try_from(n) {
                        tok.push(byte);
                        i += 4;
                        continue;
                    }
                }
                tok.push(bytes[i + 1]);
                i += 2;
                continue;
            }
            tok.push(b);
            i += 1;
        }
        out.push(Token { bytes: tok, quoted });
    }
    out
}

/// Quotes bytes as one presentation-format character-string.
fn quote(bytes: &[u8]) -> String {
    let mut s = String::from("\"");
    for &b in bytes {
        match b {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(char::from(b)),
            _ => s.push_str(&format!("\\{b:03}")),
        }
    }
    s.push('"');
    s
}

/// Whitespace-normalised text: the fallback for types and values we do not
/// parse.
fn squeeze(data: &str) -> String {
    data.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn name(token: &Token) -> String {
    normalize_dns_name(&token.text())
}

fn number<T: std::str::FromStr>(token: &Token) -> Option<T> {
    token.text().parse().ok()
}

/// The canonical form of one value of type `rtype` (case-insensitive type
/// name). Total: never fails, never panics.
pub fn canonical(rtype: &str, data: &str) -> String {
    let rtype = rtype.trim().to_ascii_uppercase();
    let toks = tokens(data);
    let parsed = match rtype.as_str() {
        "A" => data.trim().parse::<Ipv4Addr>().ok().map(|a| a.to_string()),
        "AAAA" => data.trim().parse::<Ipv6Addr>().ok().map(|a| a.to_string()),
        "CNAME" | "NS" | "PTR" | "DNAME" => match toks.as_slice() {
            [t] => Some(name(t)),
            _ => None,
        },
        "MX" => match toks.as_slice() {
            [pref, host] => number::<u16>(pref).map(|p| format!("{p} {}", name(host))),
            _ => None,
        },
        "SRV" => match toks.as_slice() {
            [prio, weight, port, target] => {
                match (
                    number::<u16>(prio),
                    number::<u16>(weight),
                    number::<u16>(port),
                ) {
                    (Some(a), Some(b), Some(c)) => Some(format!("{a} {b} {c} {}", name(target))),
                    _ => None,
                }
            }
            _ => None,
        },
        "TXT" | "SPF" => {
            let joined: Vec<u8> = toks.iter().flat_map(|t| t.bytes.iter().copied()).collect();
            Some(quote(&joined))
        }
        "CAA" => match toks.as_slice() {
            [flags, tag, value @ ..] => number::<u8>(flags).map(|f| {
                let tag = tag.text().to_ascii_lowercase();
                let value: Vec<u8> = value
                    .iter()
                    .map(|t| t.bytes.clone())
                    .collect::<Vec<_>>()
                    .join(&b' ');
                let value = if tag == "issue" || tag == "issuewild" {
                    caa_issuer_lowercased(&value)
                } else {
                    value
                };
                format!("{f} {tag} {}", quote(&value))
            }),
            _ => None,
        },
        "SOA" => match toks.as_slice() {
            [mname, rname, nums @ ..] if nums.len() == 5 => {
                let nums: Option<Vec<u32>> = nums.iter().map(number::<u32>).collect();
                nums.map(|n| {
                    format!(
                        "{} {} {} {} {} {} {}",
                        name(mname),
                        name(rname),
                        n[0],
                        n[1],
                        n[2],
                        n[3],
                        n[4]
                    )
                })
            }
            _ => None,
        },
        "DS" => match toks.as_slice() {
            [tag, alg, dtype, digest @ ..] if !digest.is_empty() => {
                match (number::<u16>(tag), number::<u8>(alg), number::<u8>(dtype)) {
                    (Some(t), Some(a), Some(d)) => {
                        let digest: String = digest
                            .iter()
                            .map(Token::text)
                            .collect::<String>()
                            .to_ascii_uppercase();
                        Some(format!("{t} {a} {d} {digest}"))
                    }
                    _ => None,
                }
            }
            _ => None,
        },
        _ => None,
    };
    parsed.unwrap_or_else(|| squeeze(data))
}

/// An `issue` value's issuer domain (before any `;`) is a domain name, so
/// case-insensitive; its parameters are left as they are.
fn caa_issuer_lowercased(value: &[u8]) -> Vec<u8> {
    let split = value.iter().position(|&b| b == b';').unwrap_or(value.len());
    let (domain, rest) = value.split_at(split);
    let mut out: Vec<u8> = domain.trim_ascii().to_ascii_lowercase();
    out.extend_from_slice(rest);
    out
}

/// A CAA value parsed for the rules: flags, lower-case tag, unescaped value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caa {
    pub flags: u8,
    pub tag: String,
    pub value: String,
}

/// Parses one CAA value (`0 issue "amazon.com"`); None when it does not
/// have the shape.
pub fn parse_caa(data: &str) -> Option<Caa> {
    let toks = tokens(data);
    let (flags, tag, value) = match toks.as_slice() {
        [flags, tag, value @ ..] => (number::<u8>(flags)?, tag, value),
        _ => return None,
    };
    Some(Caa {
        flags,
        tag: tag.text().to_ascii_lowercase(),
        value: value.iter().map(Token::text).collect::<Vec<_>>().join(" "),
    })
}

/// The serial of an SOA value, if it parses.
pub fn soa_serial(data: &str) -> Option<u32> {
    match tokens(data).as_slice() {
        [_, _, serial, ..] => number(serial),
        _ => None,
    }
}

/// Key tag and upper-case digest of a DS value (`12345 13 2 ABCDEF...`).
pub fn ds_key(data: &str) -> Option<(u16, String)> {
    match tokens(data).as_slice() {
        [tag, _alg, _dtype, digest @ ..] if !digest.is_empty() => Some((
            number(tag)?,
            digest
                .iter()
                .map(Token::text)
                .collect::<String>()
                .to_ascii_uppercase(),
        )),
        _ => None,
    }
}

/// The fields of an RRSIG value the rules need: the type covered, the key tag
/// and the expiration (`YYYYMMDDHHmmSS` UTC, or seconds since the epoch as
/// RFC 4034 §3.2 also allows).
pub fn rrsig(data: &str) -> Option<(String, u16, chrono::DateTime<chrono::Utc>)> {
    let toks = tokens(data);
    let [
        covered,
        _alg,
        _labels,
        _ttl,
        expiration,
        _inception,
        key_tag,
        ..,
    ] = toks.as_slice()
    else {
        return None;
    };
    let exp = expiration.text();
    let when = if exp.len() == 14 && exp.bytes().all(|b| b.is_ascii_digit()) {
        chrono::NaiveDateTime::parse_from_str(&exp, "%Y%m%d%H%M%S")
            .ok()?
            .and_utc()
    } else {
        chrono::DateTime::from_timestamp(exp.parse::<i64>().ok()?, 0)?
    };
    Some((covered.text().to_ascii_uppercase(), number(key_tag)?, when))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn route53_and_server_forms_compare_equal() {
        // (type, Route 53's form, the server's form)
        let equal = [
            ("A", "192.0.2.1", " 192.0.2.1"),
            ("AAAA", "2001:DB8:0:0::1", "2001:db8::1"),
            (
                "AAAA",
                "2001:0db8:0000:0000:0000:0000:0000:0001",
                "2001:db8::1",
            ),
            ("CNAME", "Target.Example.com", "target.example.com."),
            ("NS", "ns-1.awsdns-01.com", "NS-1.AWSDNS-01.COM."),
            ("MX", "10 MAIL.example.com", "10 mail.example.com."),
            ("MX", "010 mail.example.com.", "10 mail.example.com."),
            ("SRV", "1 2 443 Svc.Example.com", "1 2 443 svc.example.com."),
            ("TXT", "\"v=spf1 -all\"", "\"v=spf1 -all\""),
            ("TXT", "\"abc\" \"def\"", "\"abcdef\""),
            ("TXT", "\"say \\\"hi\\\"\"", "\"say \\034hi\\034\""),
            ("SPF", "\"v=spf1  -all\"", "\"v=spf1  -all\""),
            ("CAA", "0 issue \"Amazon.com\"", "0 issue \"amazon.com\""),
            ("CAA", "0 ISSUE \"amazon.com\"", "0 issue amazon.com"),
            (
                "SOA",
                "ns-1.awsdns-01.com. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400",
                "NS-1.awsdns-01.com awsdns-hostmaster.amazon.com 1 7200 900 1209600 86400",
            ),
            ("DS", "12345 13 2 abcdef 0123", "12345 13 2 ABCDEF0123"),
            ("HINFO", "\"a\"   \"b\"", "\"a\" \"b\""),
            ("a", "192.0.2.1", "192.0.2.1"),
        ];
        for (t, r53, server) in equal {
            assert_eq!(
                canonical(t, r53),
                canonical(t, server),
                "{t}: {r53} vs {server}"
            );
        }
    }

    #[test]
    fn differences_that_matter_stay_different() {
        let different = [
            ("A", "192.0.2.1", "192.0.2.2"),
            ("AAAA", "2001:db8::1", "2001:db8::2"),
            ("CNAME", "a.example.com.", "b.example.com."),
            ("MX", "10 mail.example.com.", "20 mail.example.com."),
            // TXT content is case-sensitive.
            ("TXT", "\"v=spf1 -all\"", "\"V=SPF1 -all\""),
            ("TXT", "\"abc\"", "\"abc \""),
            // CAA parameters keep their case, the tag decides meaning.
            (
                "CAA",
                "0 issue \"amazon.com\"",
                "0 issuewild \"amazon.com\"",
            ),
            ("CAA", "0 issue \"amazon.com\"", "128 issue \"amazon.com\""),
            ("DS", "12345 13 2 ABCDEF", "12346 13 2 ABCDEF"),
            // Unknown types are compared as text.
            ("HINFO", "\"a\" \"b\"", "\"A\" \"b\""),
        ];
        for (t, x, y) in different {
            assert_ne!(canonical(t, x), canonical(t, y), "{t}: {x} vs {y}");
        }
    }

    #[test]
    fn canonical_forms_are_readable() {
        assert_eq!(canonical("AAAA", "2001:DB8:0:0::1"), "2001:db8::1");
        assert_eq!(
            canonical("MX", "10 MAIL.example.com"),
            "10 mail.example.com."
        );
        assert_eq!(canonical("TXT", "\"a\" \"b\""), "\"ab\"");
        assert_eq!(canonical("TXT", "\"caf\\195\\169\""), "\"caf\\195\\169\"");
        assert_eq!(
            canonical("CAA", "0 issue \"Amazon.COM; Account=X\""),
            "0 issue \"amazon.com; Account=X\""
        );
        // Values that do not parse for their type fall back to squeezed text.
        assert_eq!(canonical("A", " not  an address "), "not an address");
        assert_eq!(canonical("MX", "mail.example.com."), "mail.example.com.");
    }

    #[test]
    fn helpers_read_caa_soa_ds_rrsig() {
        assert_eq!(
            parse_caa("0 issue \"amazon.com; x=y\""),
            Some(Caa {
                flags: 0,
                tag: "issue".into(),
                value: "amazon.com; x=y".into()
            })
        );
        assert_eq!(parse_caa("issue amazon.com"), None);
        assert_eq!(
            soa_serial("ns. host. 2024010101 7200 900 1209600 86400"),
            Some(2_024_010_101)
        );
        assert_eq!(soa_serial("ns."), None);
        assert_eq!(
            ds_key("12345 13 2 abcd EF01"),
            Some((12345, "ABCDEF01".into()))
        );
        assert_eq!(ds_key("x 13 2 ab"), None);
        let (covered, tag, exp) =
            rrsig("A 13 3 300 20261125120000 20261118120000 4242 example.com. c2lnbmF0dXJl")
                .expect("rrsig");
        assert_eq!((covered.as_str(), tag), ("A", 4242));
        assert_eq!(exp.to_rfc3339(), "2026-11-25T12:00:00+00:00");
        let (_, _, exp) =
            rrsig("SOA 13 2 900 1764072000 1763467200 4242 example.com. sig").expect("epoch");
        assert_eq!(exp.timestamp(), 1_764_072_000);
        assert_eq!(rrsig("A 13 3 300 tomorrow x 1 e. s"), None);
    }

    proptest! {
        #[test]
        fn canonical_never_panics(rtype in "(A|AAAA|CNAME|MX|SRV|TXT|CAA|SOA|DS|X)", data in any::<String>()) {
            let _ = canonical(&rtype, &data);
            let _ = parse_caa(&data);
            let _ = soa_serial(&data);
            let _ = ds_key(&data);
            let _ = rrsig(&data);
        }
    }
}
