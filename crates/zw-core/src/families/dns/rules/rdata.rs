//! The DNS rules' view of record data: canonical text for comparing
//! (built by `model::rdata`, the one place that knows each type's form) and
//! the few fields single rules read (a CAA property, an SOA serial, a DS key,
//! an RRSIG's expiry).
//!
//! Two dialects meet here: Route 53's values (`\DDD` escapes in octal, as
//! entered) and presentation text in RFC 1035 form (the probe's answers,
//! which it builds from wire data, and the expectations document).

use crate::model::rdata::{Escapes, Rdata, RdataError};

/// Whitespace-normalised text: how values of types `model::rdata` does not
/// read are compared.
fn squeeze(data: &str) -> String {
    data.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The canonical form of one value of type `rtype` (any case) in RFC 1035
/// presentation text. Total: a value that does not read as its type (or of
/// a type not read at all) falls back to whitespace-normalised text, which
/// still compares equal to the same text and never panics.
pub fn canonical(rtype: &str, data: &str) -> String {
    match Rdata::parse(rtype, data, Escapes::Decimal) {
        Ok(rdata) => rdata.to_string(),
        Err(_) => squeeze(data),
    }
}

/// The canonical form of one of Route 53's values of type `rtype`. An error
/// when the value does not read as its type: it is then not compared (a
/// value Route 53 accepted and we cannot read is our limitation, not a
/// difference on the servers). Types `model::rdata` does not read are
/// compared as whitespace-normalised text.
pub fn canonical_route53(rtype: &str, value: &str) -> Result<String, RdataError> {
    match Rdata::parse(rtype, value, Escapes::Octal) {
        Ok(rdata) => Ok(rdata.to_string()),
        Err(RdataError::UnknownType(_)) => Ok(squeeze(value)),
        Err(e) => Err(e),
    }
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
    match Rdata::parse("CAA", data, Escapes::Decimal).ok()? {
        Rdata::Caa { flags, tag, value } => Some(Caa {
            flags,
            tag: String::from_utf8_lossy(&tag).to_ascii_lowercase(),
            value: String::from_utf8_lossy(&value).into_owned(),
        }),
        _ => None,
    }
}

/// The serial of an SOA value, if it parses.
pub fn soa_serial(data: &str) -> Option<u32> {
    match Rdata::parse("SOA", data, Escapes::Decimal).ok()? {
        Rdata::Soa { serial, .. } => Some(serial),
        _ => None,
    }
}

/// Key tag and upper-case digest of a DS value (`12345 13 2 ABCDEF...`).
pub fn ds_key(data: &str) -> Option<(u16, String)> {
    match Rdata::parse("DS", data, Escapes::Decimal).ok()? {
        Rdata::Ds {
            key_tag, digest, ..
        } => Some((key_tag, data_encoding::HEXUPPER.encode(&digest))),
        _ => None,
    }
}

/// The fields of an RRSIG value the rules need: the type covered, the key tag
/// and the expiration (`YYYYMMDDHHmmSS` UTC, or seconds since the epoch as
/// RFC 4034 §3.2 also allows).
pub fn rrsig(data: &str) -> Option<(String, u16, chrono::DateTime<chrono::Utc>)> {
    let toks: Vec<&str> = data.split_whitespace().collect();
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
    let exp = *expiration;
    let when = if exp.len() == 14 && exp.bytes().all(|b| b.is_ascii_digit()) {
        chrono::NaiveDateTime::parse_from_str(exp, "%Y%m%d%H%M%S")
            .ok()?
            .and_utc()
    } else {
        chrono::DateTime::from_timestamp(exp.parse::<i64>().ok()?, 0)?
    };
    Some((covered.to_ascii_uppercase(), key_tag.parse().ok()?, when))
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
                canonical_route53(t, r53).as_deref(),
                Ok(canonical(t, server).as_str()),
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
    fn route53_values_that_do_not_read_are_errors_not_text() {
        // Octal, as Route 53 writes it: \344 is a-umlaut in Latin-1.
        assert_eq!(
            canonical_route53("TXT", "\"ex\\344mple\"").as_deref(),
            Ok("\"ex\\228mple\"")
        );
        let e = canonical_route53("MX", "mail.example.com").expect_err("no preference");
        assert!(e.to_string().contains("MX value `mail.example.com`"), "{e}");
        // Types the canonical form does not know compare as text.
        assert_eq!(
            canonical_route53("HINFO", " \"a\"  \"b\" ").as_deref(),
            Ok("\"a\" \"b\"")
        );
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
