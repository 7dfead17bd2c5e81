//! hickory's parsed messages into zw-core's model: names normalised, record
//! data in zone-file presentation format.
//!
//! Record data of every type Route 53 serves is built field by field from the
//! decoded wire data into `zw_core::model::rdata::Rdata`, whose canonical text
//! is what the DNS rules compare with Route 53's values: hickory's `Display`
//! is not used for them (it printed a trailing comma after an SVCB `alpn`
//! list, and its forms are not the canonical ones). Other types (RRSIG,
//! DNSKEY, ...) keep a presentation form of their own.

use chrono::DateTime;
use hickory_proto::dnssec::rdata::{DNSSECRData, RRSIG};
use hickory_proto::op::{Message, ResponseCode as WireCode};
use hickory_proto::rr::rdata::svcb::{SVCB, SvcParamValue};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use std::collections::BTreeMap;
use std::str::FromStr;
use zw_core::families::dns::model::{DnsAnswer, ResourceRecord, ResponseCode};
use zw_core::model::normalize_dns_name;
use zw_core::model::rdata::{DomainName, Rdata, Svcb};

/// SPF's type code (RFC 7208 section 3.1). hickory has no name for it, so it
/// is asked and read as an unknown type whose data is TXT's.
const SPF: u16 = 99;

/// `A`, `CNAME`, `SPF`, ... or `TYPE65534` (RFC 3597) for types hickory does
/// not know.
pub fn record_type_name(rtype: RecordType) -> String {
    match rtype {
        RecordType::Unknown(SPF) => "SPF".to_owned(),
        RecordType::Unknown(code) => format!("TYPE{code}"),
        other => other.to_string(),
    }
}

/// Parses `A`, `mx`, `SPF`, `TYPE65534`; None for anything else.
pub fn parse_record_type(text: &str) -> Option<RecordType> {
    let upper = text.trim().to_ascii_uppercase();
    if upper == "SPF" {
        return Some(RecordType::Unknown(SPF));
    }
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

/// RDATA in zone-file presentation format: the canonical text for the types
/// Route 53 serves.
pub fn presentation(data: &RData) -> String {
    if let Some(rdata) = rdata(data) {
        return rdata.to_string();
    }
    match data {
        RData::DNSSEC(DNSSECRData::RRSIG(rrsig)) => rrsig_text(rrsig),
        RData::Unknown { rdata, .. } => unknown(&rdata.anything),
        RData::NULL(null) => unknown(&null.anything),
        other => other.to_string(),
    }
}

/// The record data of a type Route 53 serves, from the decoded wire data;
/// None for other types (and for SPF data that is not character-strings).
pub fn rdata(data: &RData) -> Option<Rdata> {
    Some(match data {
        RData::A(a) => Rdata::A(a.0),
        RData::AAAA(aaaa) => Rdata::Aaaa(aaaa.0),
        RData::CNAME(name) => Rdata::Name(domain(&name.0)),
        RData::NS(name) => Rdata::Name(domain(&name.0)),
        RData::PTR(name) => Rdata::Name(domain(&name.0)),
        RData::MX(mx) => Rdata::Mx {
            preference: mx.preference,
            exchange: domain(&mx.exchange),
        },
        RData::SRV(srv) => Rdata::Srv {
            priority: srv.priority,
            weight: srv.weight,
            port: srv.port,
            target: domain(&srv.target),
        },
        RData::SOA(soa) => Rdata::Soa {
            mname: domain(&soa.mname),
            rname: domain(&soa.rname),
            serial: soa.serial,
            // hickory keeps these as i32; the wire carries 32 unsigned bits.
            refresh: wire_u32(soa.refresh),
            retry: wire_u32(soa.retry),
            expire: wire_u32(soa.expire),
            minimum: soa.minimum,
        },
        RData::TXT(txt) => Rdata::Text(txt.txt_data.concat()),
        RData::Unknown {
            code: RecordType::Unknown(SPF),
            rdata,
        } => Rdata::Text(character_strings(&rdata.anything)?),
        RData::CAA(caa) => Rdata::Caa {
            flags: caa.flags(),
            tag: caa.tag.as_bytes().to_vec(),
            value: caa.value.clone(),
        },
        RData::DNSSEC(DNSSECRData::DS(ds)) => Rdata::Ds {
            key_tag: ds.key_tag(),
            algorithm: u8::from(ds.algorithm()),
            digest_type: u8::from(ds.digest_type()),
            digest: ds.digest().to_vec(),
        },
        RData::SSHFP(sshfp) => Rdata::Sshfp {
            algorithm: u8::from(sshfp.algorithm),
            fingerprint_type: u8::from(sshfp.fingerprint_type),
            fingerprint: sshfp.fingerprint.clone(),
        },
        RData::TLSA(tlsa) => Rdata::Tlsa {
            usage: u8::from(tlsa.cert_usage),
            selector: u8::from(tlsa.selector),
            matching: u8::from(tlsa.matching),
            data: tlsa.cert_data.clone(),
        },
        RData::NAPTR(naptr) => Rdata::Naptr {
            order: naptr.order,
            preference: naptr.preference,
            flags: naptr.flags.to_vec(),
            services: naptr.services.to_vec(),
            regexp: naptr.regexp.to_vec(),
            replacement: domain(&naptr.replacement),
        },
        RData::SVCB(svcb) => Rdata::Svcb(service_binding(svcb)),
        RData::HTTPS(https) => Rdata::Svcb(service_binding(&https.0)),
        _ => return None,
    })
}

fn wire_u32(n: i32) -> u32 {
    u32::from_be_bytes(n.to_be_bytes())
}

fn domain(name: &Name) -> DomainName {
    DomainName::from_labels(name.iter())
}

/// `<len><bytes>...` exactly filling `bytes` (TXT's wire format), joined.
fn character_strings(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len);
        let chunk = tail.get(..len)?;
        out.extend_from_slice(chunk);
        rest = tail.get(len..)?;
    }
    Some(out)
}

/// SvcParams back in wire format, by key: the canonical form sorts and
/// prints them itself.
fn service_binding(svcb: &SVCB) -> Svcb {
    let params: BTreeMap<u16, Vec<u8>> = svcb
        .svc_params
        .iter()
        .map(|(key, value)| {
            let wire = match value {
                SvcParamValue::Mandatory(keys) => keys
                    .0
                    .iter()
                    .flat_map(|k| u16::from(*k).to_be_bytes())
                    .collect(),
                SvcParamValue::Alpn(ids) => {
                    let mut wire = Vec::new();
                    for id in &ids.0 {
                        // hickory read each id from one length octet.
                        wire.push(u8::try_from(id.len()).unwrap_or(u8::MAX));
                        wire.extend_from_slice(id.as_bytes());
                    }
                    wire
                }
                SvcParamValue::NoDefaultAlpn => Vec::new(),
                SvcParamValue::Port(port) => port.to_be_bytes().to_vec(),
                SvcParamValue::Ipv4Hint(hint) => hint.0.iter().flat_map(|a| a.0.octets()).collect(),
                SvcParamValue::EchConfigList(ech) => ech.0.clone(),
                SvcParamValue::Ipv6Hint(hint) => hint.0.iter().flat_map(|a| a.0.octets()).collect(),
                SvcParamValue::Unknown(bytes) => bytes.0.clone(),
            };
            (u16::from(*key), wire)
        })
        .collect();
    Svcb {
        priority: svcb.svc_priority,
        target: domain(&svcb.target_name),
        params,
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
    use hickory_proto::rr::rdata::naptr::NAPTR;
    use hickory_proto::rr::rdata::sshfp::{Algorithm as SshfpAlgorithm, FingerprintType};
    use hickory_proto::rr::rdata::svcb::{
        Alpn, EchConfigList, IpHint, Mandatory, SvcParamKey, Unknown,
    };
    use hickory_proto::rr::rdata::tlsa::{CertUsage, Matching, Selector};
    use hickory_proto::rr::rdata::{
        A, AAAA, CAA, CNAME, HTTPS, MX, NS, NULL, PTR, SOA, SRV, SSHFP, TLSA, TXT,
    };

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
            // Several strings are one value: where they split does not matter.
            (
                RData::TXT(TXT::new(vec!["a b".into(), "say \"hi\"\\".into()])),
                "\"a bsay \\\"hi\\\"\\\\\"",
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

    fn svcb(params: Vec<(SvcParamKey, SvcParamValue)>) -> SVCB {
        SVCB::new(1, Name::root(), params)
    }

    /// Every type Route 53 serves that the first test does not cover, built
    /// as hickory decodes it off the wire.
    #[test]
    fn every_route53_type_reads_into_the_canonical_form() {
        let spf_wire = b"\x07v=spf1 \x04-all".to_vec();
        let cases: Vec<(RData, &str)> = vec![
            (
                RData::Unknown {
                    code: RecordType::Unknown(99),
                    rdata: NULL::with(spf_wire),
                },
                "\"v=spf1 -all\"",
            ),
            (
                RData::CAA(CAA::new_iodef(
                    false,
                    "mailto:security@example.com".parse().unwrap(),
                )),
                "0 iodef \"mailto:security@example.com\"",
            ),
            (
                RData::SSHFP(SSHFP::new(
                    SshfpAlgorithm::Ed25519,
                    FingerprintType::SHA256,
                    vec![0xab, 0xcd],
                )),
                "4 2 ABCD",
            ),
            (
                RData::TLSA(TLSA::new(
                    CertUsage::from(3),
                    Selector::from(1),
                    Matching::from(1),
                    vec![0x0d, 0x6f],
                )),
                "3 1 1 0D6F",
            ),
            (
                RData::NAPTR(NAPTR::new(
                    100,
                    50,
                    b"U".to_vec().into_boxed_slice(),
                    b"E2U+sip".to_vec().into_boxed_slice(),
                    b"!^.*$!sip:info@example.com!".to_vec().into_boxed_slice(),
                    Name::root(),
                )),
                "100 50 \"u\" \"E2U+sip\" \"!^.*$!sip:info@example.com!\" .",
            ),
            // Regression: hickory's text had `alpn=h3,h2,` (a trailing comma).
            (
                RData::HTTPS(HTTPS(svcb(vec![
                    (
                        SvcParamKey::Alpn,
                        SvcParamValue::Alpn(Alpn(vec!["h3".into(), "h2".into()])),
                    ),
                    (
                        SvcParamKey::Ipv4Hint,
                        SvcParamValue::Ipv4Hint(IpHint(vec![A::new(192, 0, 2, 1)])),
                    ),
                ]))),
                "1 . alpn=\"h3,h2\" ipv4hint=192.0.2.1",
            ),
            (
                RData::SVCB(SVCB::new(
                    1,
                    n("Svc.Example.com."),
                    vec![
                        (
                            SvcParamKey::Mandatory,
                            SvcParamValue::Mandatory(Mandatory(vec![
                                SvcParamKey::Alpn,
                                SvcParamKey::Port,
                            ])),
                        ),
                        (
                            SvcParamKey::Alpn,
                            SvcParamValue::Alpn(Alpn(vec!["h2".into()])),
                        ),
                        (SvcParamKey::Port, SvcParamValue::Port(8443)),
                        (
                            SvcParamKey::EchConfigList,
                            SvcParamValue::EchConfigList(EchConfigList(vec![0, 1, 2])),
                        ),
                        (
                            SvcParamKey::Ipv6Hint,
                            SvcParamValue::Ipv6Hint(IpHint(vec![
                                AAAA::from_str("2001:db8::1").unwrap(),
                            ])),
                        ),
                        (
                            SvcParamKey::Unknown(7),
                            SvcParamValue::Unknown(Unknown(b"/q{?dns}".to_vec())),
                        ),
                    ],
                )),
                "1 svc.example.com. mandatory=alpn,port alpn=\"h2\" port=8443 ech=AAEC ipv6hint=2001:db8::1 dohpath=\"/q{?dns}\"",
            ),
        ];
        for (data, want) in cases {
            assert_eq!(presentation(&data), want, "{data:?}");
        }
    }

    #[test]
    fn spf_data_that_is_not_character_strings_stays_visible() {
        let bad = RData::Unknown {
            code: RecordType::Unknown(99),
            rdata: NULL::with(vec![9, b'x']),
        };
        assert_eq!(rdata(&bad), None);
        assert_eq!(presentation(&bad), "\\# 2 0978");
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
        assert_eq!(parse_record_type("spf"), Some(RecordType::Unknown(99)));
        assert_eq!(record_type_name(RecordType::Unknown(99)), "SPF");
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
