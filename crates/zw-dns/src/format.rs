//! hickory's parsed messages into zw-core's model: names normalised, RDATA
//! in zone-file presentation format. hickory's `Display` is used where it
//! already prints the standard form; the rest is formatted here, because
//! other teams compare these strings with Route 53's (`rules::dns`).

use chrono::DateTime;
use hickory_proto::dnssec::rdata::{DNSSECRData, RRSIG};
use hickory_proto::op::{Message, ResponseCode as WireCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use std::fmt::Write as _;
use std::str::FromStr;
use zw_core::model::dns::{DnsAnswer, ResourceRecord, ResponseCode};
use zw_core::model::normalize_dns_name;

/// `A`, `CNAME`, ... or `TYPE65534` (RFC 3597) for types hickory does not know.
pub fn record_type_name(rtype: RecordType) -> String {
    match rtype {
        RecordType::Unknown(code) => format!("TYPE{code}"),
        other => other.to_string(),
    }
}

/// Parses `A`, `mx`, `TYPE65534`; None for anything else.
pub fn parse_record_type(text: &str) -> Option<RecordType> {
    let upper = text.trim().to_ascii_uppercase();
    if let Some(code) = upper.strip_prefix("TYPE") {
        return code.parse::<u16>().ok().map(RecordType::from);
    }
    match RecordType::from_str(&upper) {
        Ok(RecordType::Unknown(_)) | Err(_) => None,
        Ok(rtype) => Some(rtype),
    }
}

/// A name in ASCII (punycode kept as is), lower case, one trailing dot.
pub fn name_text(name: &Name) -> String {
    normalize_dns_name(&name.to_ascii())
}

pub fn response_code(code: WireCode) -> ResponseCode {
    match code {
        WireCode::NoError => ResponseCode::NoError,
        WireCode::NXDomain => ResponseCode::NxDomain,
        WireCode::ServFail => ResponseCode::ServFail,
        WireCode::Refused => ResponseCode::Refused,
        WireCode::NotImp => ResponseCode::NotImp,
        WireCode::FormErr => ResponseCode::FormErr,
        other => ResponseCode::Other(u16::from(other)),
    }
}

/// The whole message, sections in wire order (OPT is not a record here).
pub fn dns_answer(message: &Message) -> DnsAnswer {
    let convert = |records: &[Record]| -> Vec<ResourceRecord> {
        records
            .iter()
            .filter(|r| r.record_type() != RecordType::OPT)
            .map(resource_record)
            .collect()
    };
    DnsAnswer {
        rcode: response_code(message.metadata.response_code),
        authoritative: message.metadata.authoritative,
        answers: convert(&message.answers),
        authority: convert(&message.authorities),
        additional: convert(&message.additionals),
    }
}

pub fn resource_record(record: &Record) -> ResourceRecord {
    ResourceRecord {
        name: name_text(&record.name),
        rtype: record_type_name(record.record_type()),
        ttl: record.ttl,
        data: presentation(&record.data),
    }
}

/// RDATA in zone-file presentation format.
pub fn presentation(data: &RData) -> String {
    match data {
        RData::A(a) => a.0.to_string(),
        RData::AAAA(aaaa) => aaaa.0.to_string(),
        RData::CNAME(name) => name_text(&name.0),
        RData::NS(name) => name_text(&name.0),
        RData::PTR(name) => name_text(&name.0),
        RData::MX(mx) => format!("{} {}", mx.preference, name_text(&mx.exchange)),
        RData::SRV(srv) => format!(
            "{} {} {} {}",
            srv.priority,
            srv.weight,
            srv.port,
            name_text(&srv.target)
        ),
        RData::SOA(soa) => format!(
            "{} {} {} {} {} {} {}",
            name_text(&soa.mname),
            name_text(&soa.rname),
            soa.serial,
            soa.refresh,
            soa.retry,
            soa.expire,
            soa.minimum
        ),
        // hickory concatenates the strings unquoted: quote each one.
        RData::TXT(txt) => txt
            .txt_data
            .iter()
            .map(|s| quoted(s))
            .collect::<Vec<_>>()
            .join(" "),
        RData::CAA(caa) => format!("{} {} {}", caa.flags(), caa.tag, quoted(&caa.value)),
        RData::DNSSEC(DNSSECRData::RRSIG(rrsig)) => rrsig_text(rrsig),
        // hickory prints DS as `tag alg digesttype HEX` with numbers already.
        RData::DNSSEC(DNSSECRData::DS(ds)) => ds.to_string(),
        RData::Unknown { rdata, .. } => unknown(&rdata.anything),
        RData::NULL(null) => unknown(&null.anything),
        other => other.to_string(),
    }
}

/// RFC 3597 generic form: `\# 4 C0000201`.
fn unknown(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "\\# 0".to_owned();
    }
    format!(
        "\\# {} {}",
        bytes.len(),
        data_encoding::HEXUPPER.encode(bytes)
    )
}

/// A `<character-string>`, double-quoted, `"` and `\` escaped, bytes outside
/// printable ASCII as `\DDD`.
fn quoted(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    for &b in bytes {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\{b:03}");
            }
        }
    }
    out.push('"');
    out
}

/// `TYPE alg labels origttl EXPIRATION INCEPTION keytag signer. base64`,
/// times as `YYYYMMDDHHmmSS` (hickory prints them as seconds).
fn rrsig_text(rrsig: &RRSIG) -> String {
    let input = rrsig.input();
    format!(
        "{} {} {} {} {} {} {} {} {}",
        record_type_name(input.type_covered),
        u8::from(input.algorithm),
        input.num_labels,
        input.original_ttl,
        timestamp(input.sig_expiration.get()),
        timestamp(input.sig_inception.get()),
        input.key_tag,
        name_text(&input.signer_name),
        data_encoding::BASE64.encode(rrsig.sig())
    )
}

/// RFC 4034 section 3.2: seconds since the epoch as `YYYYMMDDHHmmSS`, UTC.
/// The wire value is 32 bits, so serial arithmetic beyond 2106 is ignored.
fn timestamp(seconds: u32) -> String {
    DateTime::from_timestamp(i64::from(seconds), 0)
        .map(|t| t.format("%Y%m%d%H%M%S").to_string())
        .unwrap_or_else(|| seconds.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::dnssec::rdata::DS;
    use hickory_proto::dnssec::rdata::sig::SigInput;
    use hickory_proto::dnssec::{Algorithm, DigestType};
    use hickory_proto::rr::SerialNumber;
    use hickory_proto::rr::rdata::{A, AAAA, CAA, CNAME, MX, NS, NULL, PTR, SOA, SRV, TXT};

    fn n(s: &str) -> Name {
        Name::from_str(s).unwrap()
    }

    #[test]
    fn presentation_formats_match_what_the_rules_compare() {
        let cases: Vec<(RData, &str)> = vec![
            (RData::A(A::new(192, 0, 2, 1)), "192.0.2.1"),
            (
                RData::AAAA(AAAA::from_str("2001:db8::1").unwrap()),
                "2001:db8::1",
            ),
            (
                RData::CNAME(CNAME(n("WWW.Example.COM"))),
                "www.example.com.",
            ),
            (
                RData::NS(NS(n("ns-1.AWSDNS-01.com."))),
                "ns-1.awsdns-01.com.",
            ),
            (RData::PTR(PTR(n("host.example.com."))), "host.example.com."),
            (
                RData::MX(MX::new(10, n("Mail.example.com."))),
                "10 mail.example.com.",
            ),
            (
                RData::TXT(TXT::new(vec!["v=spf1 -all".into()])),
                "\"v=spf1 -all\"",
            ),
            (
                RData::TXT(TXT::new(vec!["a b".into(), "say \"hi\"\\".into()])),
                "\"a b\" \"say \\\"hi\\\"\\\\\"",
            ),
            (
                RData::TXT(TXT::from_bytes(vec![b"tab\there"])),
                "\"tab\\009here\"",
            ),
            (
                RData::CAA(CAA::new_issue(false, Some(n("amazon.com")), vec![])),
                "0 issue \"amazon.com\"",
            ),
            (
                RData::SOA(SOA::new(
                    n("NS-1.awsdns-01.com."),
                    n("awsdns-hostmaster.amazon.com."),
                    1,
                    7200,
                    900,
                    1_209_600,
                    86_400,
                )),
                "ns-1.awsdns-01.com. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400",
            ),
            (
                RData::SRV(SRV::new(1, 2, 5060, n("Sip.example.com."))),
                "1 2 5060 sip.example.com.",
            ),
            (
                RData::DNSSEC(DNSSECRData::DS(DS::new(
                    12345,
                    Algorithm::ECDSAP256SHA256,
                    DigestType::SHA256,
                    vec![0xab, 0xcd, 0xef, 0x01],
                ))),
                "12345 13 2 ABCDEF01",
            ),
            (
                RData::Unknown {
                    code: RecordType::Unknown(65_534),
                    rdata: NULL::with(vec![0xc0, 0, 2, 1]),
                },
                "\\# 4 C0000201",
            ),
        ];
        for (data, want) in cases {
            assert_eq!(presentation(&data), want, "{data:?}");
        }
    }

    #[test]
    fn rrsig_times_are_calendar_timestamps() {
        let input = SigInput {
            type_covered: RecordType::A,
            algorithm: Algorithm::ECDSAP256SHA256,
            num_labels: 3,
            original_ttl: 300,
            // 2026-01-02T03:04:05Z and 2025-12-01T00:00:00Z
            sig_expiration: SerialNumber::new(1_767_323_045),
            sig_inception: SerialNumber::new(1_764_547_200),
            key_tag: 4242,
            signer_name: n("Example.com."),
        };
        let rrsig = RRSIG::from_sig(input, vec![1, 2, 3, 4]);
        assert_eq!(
            presentation(&RData::DNSSEC(DNSSECRData::RRSIG(rrsig))),
            "A 13 3 300 20260102030405 20251201000000 4242 example.com. AQIDBA=="
        );
    }

    #[test]
    fn record_types_round_trip_including_rfc3597() {
        assert_eq!(parse_record_type("mx"), Some(RecordType::MX));
        assert_eq!(
            parse_record_type("TYPE65534"),
            Some(RecordType::Unknown(65_534))
        );
        assert_eq!(record_type_name(RecordType::Unknown(65_534)), "TYPE65534");
        assert_eq!(record_type_name(RecordType::CAA), "CAA");
        assert_eq!(parse_record_type("BOGUS"), None);
        assert_eq!(parse_record_type("TYPEx"), None);
    }

    #[test]
    fn records_get_normalised_owner_names() {
        let record = Record::from_rdata(n("WWW.Example.com."), 60, RData::A(A::new(192, 0, 2, 7)));
        let rr = resource_record(&record);
        assert_eq!(rr.name, "www.example.com.");
        assert_eq!(rr.rtype, "A");
        assert_eq!(rr.ttl, 60);
        assert_eq!(rr.data, "192.0.2.7");
    }
}
