use super::*;
use proptest::prelude::*;

fn route53(rtype: &str, value: &str) -> String {
    canonical_text(rtype, value, Escapes::Octal)
        .unwrap_or_else(|e| panic!("Route 53 {rtype} `{value}`: {e}"))
}

fn zone_file(rtype: &str, value: &str) -> String {
    canonical_text(rtype, value, Escapes::Decimal)
        .unwrap_or_else(|e| panic!("zone file {rtype} `{value}`: {e}"))
}

/// 300 bytes of TXT, as Route 53 splits it (255 + 45) and as another tool
/// might (100 + 200).
fn long_txt() -> (String, String, String) {
    let text: String = (0..300)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let r53 = format!("\"{}\" \"{}\"", &text[..255], &text[255..]);
    let other = format!("\"{}\" \"{}\"", &text[..100], &text[100..]);
    (text, r53, other)
}

/// (type, Route 53's value with its octal escapes, zone-file text with
/// decimal escapes, the canonical text both become).
#[test]
fn route53_values_and_zone_file_text_meet_in_one_canonical_text() {
    let (text, r53_long, other_long) = long_txt();
    let long_canonical = format!("\"{text}\"");
    let cases: Vec<(&str, &str, &str, &str)> = vec![
        ("A", "192.0.2.1", "192.0.2.1", "192.0.2.1"),
        ("A", "192.000.002.001", " 192.0.2.1 ", "192.0.2.1"),
        (
            "AAAA",
            "2001:0DB8:85a3:0:0:8A2E:0370:7334",
            "2001:db8:85a3::8a2e:370:7334",
            "2001:db8:85a3::8a2e:370:7334",
        ),
        (
            "CNAME",
            "Target.Example.com",
            "target.example.com.",
            "target.example.com.",
        ),
        (
            "NS",
            "ns-1.awsdns-01.org",
            "NS-1.AWSDNS-01.ORG.",
            "ns-1.awsdns-01.org.",
        ),
        (
            "PTR",
            "host.example.com",
            "HOST.example.com.",
            "host.example.com.",
        ),
        // Octal \052 is `*`; decimal \042 is `*` too.
        (
            "CNAME",
            "\\052.example.com",
            "\\042.example.com.",
            "*.example.com.",
        ),
        (
            "MX",
            "10 MAIL.example.com",
            "010 mail.example.com.",
            "10 mail.example.com.",
        ),
        (
            "SRV",
            "1 10 5269 XMPP-server.example.com",
            "1 10 5269 xmpp-server.example.com.",
            "1 10 5269 xmpp-server.example.com.",
        ),
        (
            "SOA",
            "ns-2048.awsdns-64.net hostmaster.awsdns.com 1 7200 900 1209600 86400",
            "NS-2048.awsdns-64.net. hostmaster.awsdns.com. 1 7200 900 1209600 86400",
            "ns-2048.awsdns-64.net. hostmaster.awsdns.com. 1 7200 900 1209600 86400",
        ),
        (
            "TXT",
            "\"v=spf1 -all\"",
            "\"v=spf1 -all\"",
            "\"v=spf1 -all\"",
        ),
        // Several strings are joined: where the split falls does not matter.
        (
            "TXT",
            "\"v=spf1 \" \"-all\"",
            "\"v=spf1 -all\"",
            "\"v=spf1 -all\"",
        ),
        (
            "TXT",
            r53_long.as_str(),
            other_long.as_str(),
            long_canonical.as_str(),
        ),
        // Route 53 escapes in octal, zone files in decimal.
        (
            "TXT",
            "\"ex\\344mple\"",
            "\"ex\\228mple\"",
            "\"ex\\228mple\"",
        ),
        (
            "TXT",
            "\"say \\\"hi\\\"\"",
            "\"say \\034hi\\034\"",
            "\"say \\\"hi\\\"\"",
        ),
        (
            "TXT",
            "\"back\\\\slash\"",
            "\"back\\092slash\"",
            "\"back\\\\slash\"",
        ),
        (
            "TXT",
            "\"tab\\011here\"",
            "\"tab\\009here\"",
            "\"tab\\009here\"",
        ),
        ("TXT", "\"\"", "\"\"", "\"\""),
        (
            "SPF",
            "\"v=spf1 include:_spf.example.com ~all\"",
            "\"v=spf1 include:\" \"_spf.example.com ~all\"",
            "\"v=spf1 include:_spf.example.com ~all\"",
        ),
        (
            "CAA",
            "0 issue \"amazon.com\"",
            "0 issue amazon.com",
            "0 issue \"amazon.com\"",
        ),
        (
            "CAA",
            "0 ISSUE \"Amazon.COM\"",
            "0 issue \"amazon.com\"",
            "0 issue \"amazon.com\"",
        ),
        (
            "CAA",
            "0 issue \"letsencrypt.org;  validationmethods = dns-01 ; accounturi=https://acme/Acc/1\"",
            "0 issue \"LetsEncrypt.org; validationmethods=dns-01; accounturi=https://acme/Acc/1\"",
            "0 issue \"letsencrypt.org; validationmethods=dns-01; accounturi=https://acme/Acc/1\"",
        ),
        (
            "CAA",
            "0 issuewild \";\"",
            "0 issuewild \";\"",
            "0 issuewild \";\"",
        ),
        (
            "CAA",
            "0 iodef \"mailto:security@example.com\"",
            "0 IODEF \"mailto:security@example.com\"",
            "0 iodef \"mailto:security@example.com\"",
        ),
        (
            "CAA",
            "128 tbs \"Unknown\"",
            "128 tbs Unknown",
            "128 tbs \"Unknown\"",
        ),
        (
            "DS",
            "60485 13 2 d4b7d520e7bb5f0f67674a0cceb1e3e0614b93c4f9e99b8383f6a1e4469da50a",
            "60485 13 2 D4B7D520E7BB5F0F67674A0CCEB1E3E0 614B93C4F9E99B8383F6A1E4469DA50A",
            "60485 13 2 D4B7D520E7BB5F0F67674A0CCEB1E3E0614B93C4F9E99B8383F6A1E4469DA50A",
        ),
        (
            "SSHFP",
            "4 2 123456789abcdef67890123456789abcdef67890123456789abcdef123456789",
            "4 2 123456789ABCDEF67890123456789ABCDEF67890123456789ABCDEF123456789",
            "4 2 123456789ABCDEF67890123456789ABCDEF67890123456789ABCDEF123456789",
        ),
        (
            "TLSA",
            "3 1 1 0d6fce3320c8f1c5c48d5c7e5e7bd1b0d9d8b0c2fbac7a1e9b28bcdb8b5d2f9e",
            "DANE-EE SPKI SHA2-256 0D6FCE3320C8F1C5C48D5C7E5E7BD1B0D9D8B0C2FBAC7A1E9B28BCDB8B5D2F9E",
            "3 1 1 0D6FCE3320C8F1C5C48D5C7E5E7BD1B0D9D8B0C2FBAC7A1E9B28BCDB8B5D2F9E",
        ),
        (
            "NAPTR",
            "100 50 \"U\" \"E2U+sip\" \"!^.*$!sip:info@example.com!\" .",
            "100 50 \"u\" \"E2U+sip\" \"!^.*$!sip:info@example.com!\" .",
            "100 50 \"u\" \"E2U+sip\" \"!^.*$!sip:info@example.com!\" .",
        ),
        (
            "NAPTR",
            "10 100 \"S\" \"SIP+D2U\" \"\" _sip._udp.Example.com",
            "10 100 s SIP+D2U \"\" _sip._udp.example.com.",
            "10 100 \"s\" \"SIP+D2U\" \"\" _sip._udp.example.com.",
        ),
        // The trailing comma of the bug report is gone, the list is kept.
        (
            "HTTPS",
            "1 . alpn=\"h3,h2\" ipv4hint=192.0.2.1,192.0.2.2",
            "1 . ipv4hint=\"192.0.2.1,192.0.2.2\" alpn=h3,h2",
            "1 . alpn=\"h3,h2\" ipv4hint=192.0.2.1,192.0.2.2",
        ),
        (
            "HTTPS",
            "0 Service.Example.com",
            "0 service.example.com.",
            "0 service.example.com.",
        ),
        (
            "HTTPS",
            "1 . alpn=h2 ipv6hint=2001:DB8:0:0::1 no-default-alpn",
            "1 . key2 key1=\"h2\" ipv6hint=\"2001:db8::1\"",
            "1 . alpn=\"h2\" no-default-alpn ipv6hint=2001:db8::1",
        ),
        (
            "SVCB",
            "1 svc.example.com mandatory=port,alpn alpn=\"h2\" port=8443 ech=\"AAj+DQAEAQIDBA==\"",
            "1 svc.example.com. port=\"8443\" ech=AAj+DQAEAQIDBA mandatory=alpn,port key1=h2",
            "1 svc.example.com. mandatory=alpn,port alpn=\"h2\" port=8443 ech=AAj+DQAEAQIDBA==",
        ),
        (
            "SVCB",
            "2 doh.example.net alpn=h2 dohpath=/dns-query{?dns} key65280=\"private\"",
            "2 doh.example.net. key7=\"/dns-query{?dns}\" key65280=private alpn=\"h2\"",
            "2 doh.example.net. alpn=\"h2\" dohpath=\"/dns-query{?dns}\" key65280=\"private\"",
        ),
        // An ALPN id with a comma (RFC 9460 appendix A.1's double escape).
        (
            "SVCB",
            "1 . alpn=\"f\\\\\\\\oo\\\\,bar,h2\"",
            "1 . alpn=f\\\\\\092oo\\092,bar,h2",
            "1 . alpn=\"f\\\\\\\\oo\\\\,bar,h2\"",
        ),
    ];
    for (rtype, r53, zone, want) in cases {
        assert_eq!(route53(rtype, r53), want, "Route 53 {rtype} `{r53}`");
        assert_eq!(zone_file(rtype, zone), want, "zone file {rtype} `{zone}`");
        // The canonical text reads back as itself.
        assert_eq!(
            zone_file(rtype, want),
            want,
            "{rtype} `{want}` is a fixed point"
        );
    }
}

#[test]
fn differences_that_matter_stay_different() {
    let cases: Vec<(&str, &str, &str)> = vec![
        ("A", "192.0.2.1", "192.0.2.2"),
        ("AAAA", "2001:db8::1", "2001:db8::2"),
        ("CNAME", "a.example.com", "b.example.com"),
        ("MX", "10 mail.example.com", "20 mail.example.com"),
        ("SRV", "1 10 5269 x.example.com", "1 10 5270 x.example.com"),
        // TXT content is case-sensitive, and so is its whitespace.
        ("TXT", "\"v=spf1 -all\"", "\"V=SPF1 -all\""),
        ("TXT", "\"abc\"", "\"abc \""),
        ("SPF", "\"v=spf1 -all\"", "\"v=spf1 ~all\""),
        (
            "CAA",
            "0 issue \"amazon.com\"",
            "0 issuewild \"amazon.com\"",
        ),
        ("CAA", "0 issue \"amazon.com\"", "128 issue \"amazon.com\""),
        (
            "CAA",
            "0 issue \"amazon.com; account=A\"",
            "0 issue \"amazon.com; account=a\"",
        ),
        (
            "CAA",
            "0 iodef \"mailto:a@example.com\"",
            "0 iodef \"mailto:A@example.com\"",
        ),
        ("DS", "12345 13 2 ABCDEF", "12346 13 2 ABCDEF"),
        ("DS", "12345 13 2 ABCDEF", "12345 13 2 ABCDEE"),
        ("SSHFP", "1 1 ABCDEF", "1 2 ABCDEF"),
        ("TLSA", "3 1 1 ABCDEF", "3 0 1 ABCDEF"),
        (
            "NAPTR",
            "100 50 \"u\" \"E2U+sip\" \"!x!y!\" .",
            "100 50 \"u\" \"E2U+SIP\" \"!x!y!\" .",
        ),
        (
            "NAPTR",
            "100 50 \"u\" \"E2U+sip\" \"!x!y!\" .",
            "100 50 \"u\" \"E2U+sip\" \"!x!Y!\" .",
        ),
        // ALPN order is the server's preference: kept.
        ("HTTPS", "1 . alpn=h3,h2", "1 . alpn=h2,h3"),
        ("HTTPS", "1 . alpn=h3,h2", "1 . alpn=h3,h2 port=443"),
        ("SVCB", "1 . port=443", "1 . port=8443"),
        ("SVCB", "1 a.example.", "1 b.example."),
        (
            "SVCB",
            "1 . ech=AAj+DQAEAQIDBA==",
            "1 . ech=AAj+DQAEAQIDBQ==",
        ),
    ];
    for (rtype, x, y) in cases {
        assert_ne!(
            zone_file(rtype, x),
            zone_file(rtype, y),
            "{rtype}: {x} vs {y}"
        );
    }
}

#[test]
fn values_that_are_not_of_their_type_are_errors_naming_why() {
    let cases = [
        ("A", "not-an-address", "not an IPv4 address"),
        ("A", "192.0.2.1 192.0.2.2", "one IPv4 address"),
        ("AAAA", "192.0.2.1", "not an IPv6 address"),
        ("CNAME", "a..example.com", "is not a domain name"),
        ("MX", "mail.example.com", "preference and mail server"),
        ("MX", "99999 mail.example.com", "not a number in range"),
        ("SOA", "ns. host. 1 2 3", "seven fields"),
        ("CAA", "0 issue", "flags, tag and value"),
        ("CAA", "0 is-sue \"x\"", "letters and digits"),
        ("DS", "1 13 2 XYZ1", "not hexadecimal"),
        ("DS", "1 13 2 ABC", "even number"),
        ("TLSA", "DANE-XX 1 1 AB", "not a number"),
        (
            "NAPTR",
            "1 2 \"u\" \"E2U+sip\" \"!x!y!\"",
            "replacement expected",
        ),
        ("HTTPS", "1", "priority and target"),
        ("HTTPS", "1 . colour=blue", "not a SvcParamKey"),
        ("HTTPS", "1 . alpn=h2 alpn=h3", "appears twice"),
        ("HTTPS", "1 . port=http", "port number"),
        ("HTTPS", "1 . no-default-alpn=yes", "takes no value"),
        ("HTTPS", "1 . mandatory=alpn,alpn", "distinct keys"),
        ("HTTPS", "1 . ipv4hint=2001:db8::1", "IPv4 addresses"),
        ("HTTPS", "1 . ech=!!!", "base64"),
        ("TXT", "\"\\999\"", "bad escape"),
    ];
    for (rtype, value, why) in cases {
        let e = canonical_text(rtype, value, Escapes::Decimal).expect_err(value);
        let text = e.to_string();
        assert!(text.contains(why), "{rtype} `{value}`: {text}");
        assert!(text.contains(rtype), "{text}");
    }
    assert_eq!(
        canonical_text("HINFO", "\"a\" \"b\"", Escapes::Decimal),
        Err(RdataError::UnknownType("HINFO".into()))
    );
}

#[test]
fn every_route53_type_is_read() {
    let samples = [
        ("A", "192.0.2.1"),
        ("AAAA", "2001:db8::1"),
        ("CAA", "0 issue \"amazon.com\""),
        ("CNAME", "www.example.com"),
        ("DS", "1 13 2 AB"),
        ("HTTPS", "1 ."),
        ("MX", "10 mail.example.com"),
        ("NAPTR", "1 1 \"u\" \"E2U+sip\" \"!x!y!\" ."),
        ("NS", "ns.example.com"),
        ("PTR", "host.example.com"),
        ("SOA", "ns. host. 1 2 3 4 5"),
        ("SPF", "\"v=spf1 -all\""),
        ("SRV", "1 2 3 t.example.com"),
        ("SSHFP", "1 1 AB"),
        ("SVCB", "0 svc.example.com"),
        ("TLSA", "3 1 1 AB"),
        ("TXT", "\"x\""),
    ];
    let covered: Vec<&str> = samples.iter().map(|(t, _)| *t).collect();
    assert_eq!(covered, ROUTE53_TYPES);
    for (rtype, value) in samples {
        assert!(
            Rdata::parse(&rtype.to_ascii_lowercase(), value, Escapes::Octal).is_ok(),
            "{rtype}"
        );
    }
}

#[test]
fn wire_values_display_like_their_presentation() {
    // What the DNS probe builds from a decoded answer, field by field.
    let svcb = Rdata::Svcb(Svcb {
        priority: 1,
        target: DomainName::root(),
        params: BTreeMap::from([
            (1, b"\x02h3\x02h2".to_vec()),
            (4, vec![192, 0, 2, 1]),
            (3, vec![0x20, 0xfb]),
        ]),
    });
    assert_eq!(
        svcb.to_string(),
        "1 . alpn=\"h3,h2\" port=8443 ipv4hint=192.0.2.1"
    );
    assert_eq!(
        svcb.to_string(),
        route53("HTTPS", "1 . port=8443 alpn=h3,h2 ipv4hint=192.0.2.1")
    );
    // Malformed wire values of known keys stay visible and unequal.
    let odd = Rdata::Svcb(Svcb {
        priority: 1,
        target: DomainName::root(),
        params: BTreeMap::from([(3, vec![1, 2, 3]), (1, vec![5, b'h'])]),
    });
    assert_eq!(
        odd.to_string(),
        "1 . key1=\"\\005h\" key3=\"\\001\\002\\003\""
    );
    let name = DomainName::from_labels([&b"WWW"[..], b"ex.ample", b"com"]);
    assert_eq!(name.to_string(), "www.ex\\.ample.com.");
    assert_eq!(
        Rdata::Name(name).to_string(),
        zone_file("CNAME", "WWW.ex\\.ample.com")
    );
    assert_eq!(
        Rdata::Text(b"caf\xc3\xa9 \"x\"".to_vec()).to_string(),
        "\"caf\\195\\169 \\\"x\\\"\""
    );
}

proptest! {
    #[test]
    fn parsing_never_panics_and_canonical_text_is_a_fixed_point(
        rtype in "(A|AAAA|CNAME|MX|SRV|TXT|SPF|CAA|SOA|DS|SSHFP|TLSA|NAPTR|SVCB|HTTPS|X)",
        data in any::<String>(),
        octal in any::<bool>(),
    ) {
        let escapes = if octal { Escapes::Octal } else { Escapes::Decimal };
        if let Ok(text) = canonical_text(&rtype, &data, escapes) {
            prop_assert_eq!(canonical_text(&rtype, &text, Escapes::Decimal), Ok(text.clone()));
        }
    }

    #[test]
    fn txt_strings_join_wherever_they_split(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
        cut in 0usize..600,
    ) {
        let cut = cut.min(bytes.len());
        let whole = Rdata::Text(bytes.clone()).to_string();
        let split = format!(
            "{} {}",
            Rdata::Text(bytes[..cut].to_vec()),
            Rdata::Text(bytes[cut..].to_vec())
        );
        prop_assert_eq!(zone_file("TXT", &split), whole);
    }
}
