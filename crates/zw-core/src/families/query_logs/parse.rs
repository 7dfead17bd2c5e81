//! One line of a Route 53 query log, read field by field.
//!
//! - A public hosted zone's DNS query log (CloudWatch Logs, one event per
//!   query): ten fields separated by one space, format version `1.0`:
//!   `1.0 2017-12-13T08:16:02.130Z Z123412341234 example.com A NOERROR UDP
//!   FRA6 192.168.1.1 -` (version, query time, hosted zone id, query name,
//!   query type, response code, layer-4 protocol, Route 53 edge location,
//!   resolver address, EDNS client subnet or `-`).
//! - A Route 53 Resolver query log record: one JSON object per query, of
//!   which only the fields zonewarden keeps are read. The client's address
//!   (`srcaddr`) and port are never read: client addresses do not leave
//!   this parser.
//!
//! Nothing here panics, whatever the input; a line that cannot be read is a
//! `LineError` saying which field and why, with the offending text clipped
//! to `CLIP` characters.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use std::net::IpAddr;

/// The fields of a public DNS query log line.
pub const PUBLIC_FIELDS: usize = 10;

/// The longest piece of a line an error repeats, in characters.
pub const CLIP: usize = 64;

/// The public log's fields, in their order, as errors name them.
const PUBLIC_FIELD_NAMES: [&str; PUBLIC_FIELDS] = [
    "log format version",
    "query timestamp",
    "hosted zone id",
    "query name",
    "query type",
    "response code",
    "protocol",
    "edge location",
    "resolver address",
    "EDNS client subnet",
];

/// Where a Resolver record says who asked, in order of preference.
const SOURCE_IDS: [(&str, &str); 3] = [
    ("instance", "srcids.instance"),
    ("resource", "srcids.resource"),
    ("resolver_endpoint", "srcids.resolver_endpoint"),
];

/// Why a line could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("expected {PUBLIC_FIELDS} fields separated by single spaces, found {found}")]
    Fields { found: usize },
    #[error(
        "log format version {0:?} is not one zonewarden reads (public logs: 1.0; Resolver logs: 1.x)"
    )]
    Version(String),
    #[error("query timestamp {0:?} is not an RFC 3339 time")]
    Timestamp(String),
    #[error("resolver address {0:?} is not an IPv4 or IPv6 address")]
    Address(String),
    #[error("field `{0}` is empty")]
    Empty(&'static str),
    #[error("not a JSON object: {0}")]
    Json(String),
    #[error("field `{field}`: {why}")]
    Field { field: &'static str, why: String },
}

/// One query of a public hosted zone's DNS query log. Borrows the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicQuery<'a> {
    pub timestamp: DateTime<Utc>,
    pub zone_id: &'a str,
    /// lower case, without a trailing dot (the root is "")
    pub name: String,
    pub qtype: &'a str,
    pub rcode: &'a str,
    /// `UDP` or `TCP`.
    pub protocol: &'a str,
    /// The Route 53 edge location that answered (`FRA6`, `IAD12`).
    pub edge: &'a str,
    // The resolver's address and the EDNS client subnet are checked but not
    // kept: either can be a client's address (a resolver run by the client
    // itself, the subnet the client's address is in), and no client address
    // leaves this parser.
}

/// One query of a Route 53 Resolver query log. Holds no client address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolverQuery {
    pub timestamp: DateTime<Utc>,
    pub account_id: String,
    pub region: String,
    pub vpc_id: String,
    /// lower case, without a trailing dot (the root is "")
    pub name: String,
    pub qtype: String,
    pub rcode: String,
    /// Who asked: srcids.instance, else srcids.resource, else srcids.resolver_endpoint, else "vpc:<vpc_id>".
    pub source: String,
}

/// Reads one line of a public hosted zone's DNS query log (format 1.0). A
/// trailing `\n` or `\r\n` is ignored; any other space, tab or missing
/// field is an error.
pub fn public_query(line: &str) -> Result<PublicQuery<'_>, LineError> {
    let line = line.trim_end_matches(['\r', '\n']);
    let mut fields = [""; PUBLIC_FIELDS];
    let mut found = 0;
    if !line.is_empty() {
        for (slot, field) in line.split(' ').enumerate() {
            if let Some(f) = fields.get_mut(slot) {
                *f = field;
            }
            found = slot + 1;
        }
    }
    if found != PUBLIC_FIELDS {
        return Err(LineError::Fields { found });
    }
    if let Some((_, name)) = fields
        .iter()
        .zip(PUBLIC_FIELD_NAMES)
        .find(|(f, _)| f.is_empty())
    {
        return Err(LineError::Empty(name));
    }
    let [
        version,
        timestamp,
        zone_id,
        name,
        qtype,
        rcode,
        protocol,
        edge,
        resolver,
        subnet,
    ] = fields;
    if version != "1.0" {
        return Err(LineError::Version(clip(version)));
    }
    let timestamp = time(timestamp)?;
    token(zone_id, "hosted zone id")?;
    token(qtype, "query type")?;
    token(rcode, "response code")?;
    if !matches!(protocol, "UDP" | "TCP") {
        return Err(LineError::Field {
            field: "protocol",
            why: format!("{:?} is neither UDP nor TCP", clip(protocol)),
        });
    }
    token(edge, "edge location")?;
    resolver
        .parse::<IpAddr>()
        .map_err(|_| LineError::Address(clip(resolver)))?;
    match subnet {
        "-" => {}
        s if s.parse::<ipnet::IpNet>().is_ok() => {}
        s => {
            return Err(LineError::Field {
                field: "EDNS client subnet",
                why: format!("{:?} is neither `-` nor an address/prefix", clip(s)),
            });
        }
    };
    Ok(PublicQuery {
        timestamp,
        zone_id,
        name: normalise_name(name),
        qtype,
        rcode,
        protocol,
        edge,
    })
}

/// Reads one Route 53 Resolver query log record (one JSON object, format
/// 1.x). Reads `version`, `query_timestamp`, `account_id`, `region`,
/// `vpc_id`, `query_name`, `query_type`, `rcode` (strings, all required,
/// none empty) and `srcids` (an object, optional); every other field is
/// left unread, `srcaddr` and `srcport` included.
pub fn resolver_query(json: &str) -> Result<ResolverQuery, LineError> {
    let value: Value = serde_json::from_str(json).map_err(|e| LineError::Json(e.to_string()))?;
    let record = match value {
        Value::Object(record) => record,
        other => return Err(LineError::Json(format!("the record is {}", kind(&other)))),
    };
    let version = string(&record, "version")?;
    if version.split('.').next() != Some("1") {
        return Err(LineError::Version(clip(version)));
    }
    let timestamp = time(string(&record, "query_timestamp")?)?;
    let account_id = string(&record, "account_id")?;
    let region = string(&record, "region")?;
    let vpc_id = string(&record, "vpc_id")?;
    let name = string(&record, "query_name")?;
    let qtype = string(&record, "query_type")?;
    token(qtype, "query_type")?;
    let rcode = string(&record, "rcode")?;
    token(rcode, "rcode")?;
    let source = match source_id(&record)? {
        Some(id) => id.to_owned(),
        None => format!("vpc:{vpc_id}"),
    };
    Ok(ResolverQuery {
        timestamp,
        account_id: account_id.to_owned(),
        region: region.to_owned(),
        vpc_id: vpc_id.to_owned(),
        name: normalise_name(name),
        qtype: qtype.to_owned(),
        rcode: rcode.to_owned(),
        source,
    })
}

/// A query name as the aggregates key it: ASCII lower case (DNS names
/// compare so; escapes such as `\052` are kept as written) and without its
/// trailing dot, unless that dot is escaped (`a\.`). The root is "".
pub fn normalise_name(name: &str) -> String {
    let mut name = name.to_ascii_lowercase();
    let keep = match name.strip_suffix('.') {
        Some(rest) if !ends_in_escape(rest) => Some(rest.len()),
        _ => None,
    };
    if let Some(len) = keep {
        name.truncate(len);
    }
    name
}

/// Whether the text ends in an odd number of backslashes, which escape
/// whatever follows.
pub(crate) fn ends_in_escape(text: &str) -> bool {
    text.bytes().rev().take_while(|&b| b == b'\\').count() % 2 == 1
}

fn time(text: &str) -> Result<DateTime<Utc>, LineError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| LineError::Timestamp(clip(text)))
}

/// Zone ids, types, codes and edge locations are ASCII letters, digits and
/// hyphens (`IAD12`, `SFO5-C1`, `TYPE65534`).
fn token(text: &str, field: &'static str) -> Result<(), LineError> {
    if text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        Ok(())
    } else {
        Err(LineError::Field {
            field,
            why: format!("{:?} is not ASCII letters, digits and hyphens", clip(text)),
        })
    }
}

/// A required, non-empty string field of a Resolver record.
fn string<'a>(record: &'a Map<String, Value>, field: &'static str) -> Result<&'a str, LineError> {
    match record.get(field) {
        None => Err(LineError::Field {
            field,
            why: "missing".into(),
        }),
        Some(Value::String(s)) if s.is_empty() => Err(LineError::Empty(field)),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(LineError::Field {
            field,
            why: format!("expected a string, found {}", kind(other)),
        }),
    }
}

/// The first non-empty id of `srcids` (instance, resource, resolver
/// endpoint); None when the record has no `srcids` or no id in it.
fn source_id(record: &Map<String, Value>) -> Result<Option<&str>, LineError> {
    let ids = match record.get("srcids") {
        None => return Ok(None),
        Some(Value::Object(ids)) => ids,
        Some(other) => {
            return Err(LineError::Field {
                field: "srcids",
                why: format!("expected an object, found {}", kind(other)),
            });
        }
    };
    for (key, field) in SOURCE_IDS {
        match ids.get(key) {
            None => {}
            Some(Value::String(s)) if s.is_empty() => {}
            Some(Value::String(s)) => return Ok(Some(s)),
            Some(other) => {
                return Err(LineError::Field {
                    field,
                    why: format!("expected a string, found {}", kind(other)),
                });
            }
        }
    }
    Ok(None)
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// At most `CLIP` characters of a piece of a line, for an error.
fn clip(text: &str) -> String {
    match text.char_indices().nth(CLIP) {
        Some((end, _)) => format!("{}...", text.get(..end).unwrap_or_default()),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, ms: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
            .single()
            .expect("valid")
            + chrono::Duration::milliseconds(ms)
    }

    // The documented example lines, and variations on them.
    #[test]
    fn golden_public_lines() {
        let cases: Vec<(&str, PublicQuery<'static>)> = vec![
            (
                "1.0 2017-12-13T08:16:02.130Z Z123412341234 example.com A NOERROR UDP FRA6 192.168.1.1 -",
                PublicQuery {
                    timestamp: at(2017, 12, 13, 8, 16, 2, 130),
                    zone_id: "Z123412341234",
                    name: "example.com".into(),
                    qtype: "A",
                    rcode: "NOERROR",
                    protocol: "UDP",
                    edge: "FRA6",
                },
            ),
            (
                "1.0 2017-12-13T08:15:50.235Z Z123412341234 example.com AAAA NOERROR TCP IAD12 192.168.3.1 192.168.222.0/24",
                PublicQuery {
                    timestamp: at(2017, 12, 13, 8, 15, 50, 235),
                    zone_id: "Z123412341234",
                    name: "example.com".into(),
                    qtype: "AAAA",
                    rcode: "NOERROR",
                    protocol: "TCP",
                    edge: "IAD12",
                },
            ),
            (
                "1.0 2017-12-13T08:16:05.744Z Z123412341234 example.com. ANY NOERROR UDP FRA6 2001:db8::1234 2001:db8:abcd::/48",
                PublicQuery {
                    timestamp: at(2017, 12, 13, 8, 16, 5, 744),
                    zone_id: "Z123412341234",
                    name: "example.com".into(),
                    qtype: "ANY",
                    rcode: "NOERROR",
                    protocol: "UDP",
                    edge: "FRA6",
                },
            ),
            (
                "1.0 2017-12-13T08:15:50.342Z Z123412341234 Bad.Example.COM A NXDOMAIN UDP IAD12 192.168.3.1 192.168.111.0/24\n",
                PublicQuery {
                    timestamp: at(2017, 12, 13, 8, 15, 50, 342),
                    zone_id: "Z123412341234",
                    name: "bad.example.com".into(),
                    qtype: "A",
                    rcode: "NXDOMAIN",
                    protocol: "UDP",
                    edge: "IAD12",
                },
            ),
            (
                "1.0 2026-12-03T11:59:59.999Z Z0123456789ABCDEFGHIJ \\052.Shop.example.org. TXT SERVFAIL TCP NRT57-C1 2001:db8::53 -\r\n",
                PublicQuery {
                    timestamp: at(2026, 12, 3, 11, 59, 59, 999),
                    zone_id: "Z0123456789ABCDEFGHIJ",
                    name: "\\052.shop.example.org".into(),
                    qtype: "TXT",
                    rcode: "SERVFAIL",
                    protocol: "TCP",
                    edge: "NRT57-C1",
                },
            ),
            (
                "1.0 2026-12-03T00:00:00.000Z Z1 . NS NOERROR UDP LHR50 203.0.113.7 203.0.113.0/24",
                PublicQuery {
                    timestamp: at(2026, 12, 3, 0, 0, 0, 0),
                    zone_id: "Z1",
                    name: String::new(),
                    qtype: "NS",
                    rcode: "NOERROR",
                    protocol: "UDP",
                    edge: "LHR50",
                },
            ),
        ];
        for (line, want) in cases {
            assert_eq!(public_query(line), Ok(want), "{line}");
        }
    }

    #[test]
    fn public_errors_name_the_field() {
        let ok = "1.0 2017-12-13T08:16:02.130Z Z1 example.com A NOERROR UDP FRA6 192.168.1.1 -";
        assert!(public_query(ok).is_ok());
        let cases: Vec<(String, LineError)> = vec![
            (String::new(), LineError::Fields { found: 0 }),
            (ok.replace(" -", ""), LineError::Fields { found: 9 }),
            (format!("{ok} extra"), LineError::Fields { found: 11 }),
            (
                ok.replacen("1.0", "2.0", 1),
                LineError::Version("2.0".into()),
            ),
            (
                ok.replace("2017-12-13T08:16:02.130Z", "2017-12-13 08:16:02"),
                LineError::Fields { found: 11 },
            ),
            (
                ok.replace("2017-12-13T08:16:02.130Z", "2017-13-13T08:16:02.130Z"),
                LineError::Timestamp("2017-13-13T08:16:02.130Z".into()),
            ),
            (
                ok.replace("192.168.1.1", "192.168.1.256"),
                LineError::Address("192.168.1.256".into()),
            ),
            (
                ok.replace(" example.com A", "  A"),
                LineError::Empty("query name"),
            ),
            (
                ok.replace("UDP", "SCTP"),
                LineError::Field {
                    field: "protocol",
                    why: "\"SCTP\" is neither UDP nor TCP".into(),
                },
            ),
            (
                ok.replace(" A ", " A_B "),
                LineError::Field {
                    field: "query type",
                    why: "\"A_B\" is not ASCII letters, digits and hyphens".into(),
                },
            ),
            (
                ok.replace("Z1", "Z/1"),
                LineError::Field {
                    field: "hosted zone id",
                    why: "\"Z/1\" is not ASCII letters, digits and hyphens".into(),
                },
            ),
            (
                ok.replace(" -", " 198.51.100.0/33"),
                LineError::Field {
                    field: "EDNS client subnet",
                    why: "\"198.51.100.0/33\" is neither `-` nor an address/prefix".into(),
                },
            ),
        ];
        for (line, want) in cases {
            assert_eq!(public_query(&line), Err(want), "{line}");
        }
    }

    #[test]
    fn errors_clip_what_they_repeat() {
        let long = "9".repeat(10_000);
        let line = format!("1.0 {long} Z1 a A NOERROR UDP FRA6 192.0.2.1 -");
        let Err(LineError::Timestamp(shown)) = public_query(&line) else {
            panic!("a timestamp error");
        };
        assert_eq!(shown, format!("{}...", "9".repeat(CLIP)));
        assert_eq!(clip("é".repeat(CLIP).as_str()), "é".repeat(CLIP));
        assert_eq!(
            LineError::Timestamp("x".into()).to_string(),
            "query timestamp \"x\" is not an RFC 3339 time"
        );
        assert_eq!(
            LineError::Fields { found: 3 }.to_string(),
            "expected 10 fields separated by single spaces, found 3"
        );
    }

    #[test]
    fn names_lose_one_unescaped_trailing_dot() {
        assert_eq!(normalise_name("WWW.Example.COM."), "www.example.com");
        assert_eq!(normalise_name("www.example.com"), "www.example.com");
        assert_eq!(normalise_name("."), "");
        assert_eq!(normalise_name("a\\."), "a\\.");
        assert_eq!(normalise_name("a\\\\."), "a\\\\");
        assert_eq!(normalise_name("\\052.A.b."), "\\052.a.b");
    }

    const RESOLVER_DOC_EXAMPLE: &str = r#"{
        "srcaddr": "4.5.64.102",
        "vpc_id": "vpc-7example",
        "answers": [{"Rdata": "203.0.113.9", "Type": "PTR", "Class": "IN"}],
        "firewall_rule_group_id": "rslvr-frg-01234567890abcdef",
        "firewall_rule_action": "BLOCK",
        "query_name": "15.3.4.32.in-addr.arpa.",
        "firewall_domain_list_id": "rslvr-fdl-01234567890abcdef",
        "query_class": "IN",
        "srcids": {"instance": "i-0d15cd0d3example"},
        "rcode": "NOERROR",
        "query_type": "PTR",
        "transport": "UDP",
        "version": "1.100000",
        "account_id": "111122223333",
        "srcport": "56067",
        "query_timestamp": "2021-02-04T17:51:55Z",
        "region": "us-east-1"
    }"#;

    fn resolver_record(srcids: &str, name: &str, rcode: &str) -> String {
        format!(
            r#"{{"version":"1.1","account_id":"111122223333","region":"eu-west-1","vpc_id":"vpc-0abc","query_timestamp":"2021-06-07T17:29:43Z","query_name":"{name}","query_type":"AAAA","query_class":"IN","rcode":"{rcode}","answers":[],"srcaddr":"10.0.0.12","srcport":"40000","transport":"TCP"{srcids}}}"#
        )
    }

    #[test]
    fn golden_resolver_records() {
        assert_eq!(
            resolver_query(RESOLVER_DOC_EXAMPLE),
            Ok(ResolverQuery {
                timestamp: at(2021, 2, 4, 17, 51, 55, 0),
                account_id: "111122223333".into(),
                region: "us-east-1".into(),
                vpc_id: "vpc-7example".into(),
                name: "15.3.4.32.in-addr.arpa".into(),
                qtype: "PTR".into(),
                rcode: "NOERROR".into(),
                source: "i-0d15cd0d3example".into(),
            })
        );
        let cases = [
            (r#","srcids":{"instance":"i-1","resource":"r-1"}"#, "i-1"),
            (
                r#","srcids":{"resource":"r-1","resolver_endpoint":"rslvr-in-1"}"#,
                "r-1",
            ),
            (
                r#","srcids":{"resolver_endpoint":"rslvr-in-1"}"#,
                "rslvr-in-1",
            ),
            (
                r#","srcids":{"instance":"","resolver_endpoint":"rslvr-in-1"}"#,
                "rslvr-in-1",
            ),
            (r#","srcids":{}"#, "vpc:vpc-0abc"),
            ("", "vpc:vpc-0abc"),
        ];
        for (srcids, source) in cases {
            let got = resolver_query(&resolver_record(
                srcids,
                "Api.Example.internal.",
                "NXDOMAIN",
            ))
            .expect(srcids);
            assert_eq!(got.source, source, "{srcids}");
            assert_eq!(got.name, "api.example.internal");
            assert_eq!(got.rcode, "NXDOMAIN");
            assert_eq!(got.qtype, "AAAA");
            assert_eq!(got.timestamp, at(2021, 6, 7, 17, 29, 43, 0));
        }
    }

    #[test]
    fn resolver_records_keep_no_client_address() {
        let record = resolver_record(r#","srcids":{"instance":"i-1"}"#, "a.example.", "NOERROR");
        let kept = format!("{:?}", resolver_query(&record).expect("valid"));
        assert!(!kept.contains("10.0.0.12"), "{kept}");
        assert!(!kept.contains("40000"), "{kept}");
        let doc = format!("{:?}", resolver_query(RESOLVER_DOC_EXAMPLE).expect("valid"));
        assert!(!doc.contains("4.5.64.102"), "{doc}");
        // Not even a malformed srcaddr is looked at.
        let odd = record.replace(r#""srcaddr":"10.0.0.12""#, r#""srcaddr":[1,{"x":null}]"#);
        assert!(resolver_query(&odd).is_ok());
    }

    #[test]
    fn resolver_errors_name_the_field() {
        let ok = resolver_record("", "a.example.", "NOERROR");
        assert!(resolver_query(&ok).is_ok());
        let field = |field: &'static str, why: &str| LineError::Field {
            field,
            why: why.into(),
        };
        let cases: Vec<(String, LineError)> = vec![
            (
                "[1,2]".into(),
                LineError::Json("the record is an array".into()),
            ),
            (
                "\"x\"".into(),
                LineError::Json("the record is a string".into()),
            ),
            (
                ok.replace(r#""vpc_id":"vpc-0abc","#, ""),
                field("vpc_id", "missing"),
            ),
            (
                ok.replace(
                    r#""account_id":"111122223333""#,
                    r#""account_id":111122223333"#,
                ),
                field("account_id", "expected a string, found a number"),
            ),
            (
                ok.replace(r#""region":"eu-west-1""#, r#""region":null"#),
                field("region", "expected a string, found null"),
            ),
            (
                ok.replace(r#""query_name":"a.example.""#, r#""query_name":"""#),
                LineError::Empty("query_name"),
            ),
            (
                ok.replace(r#""version":"1.1""#, r#""version":"2.0""#),
                LineError::Version("2.0".into()),
            ),
            (
                ok.replace("2021-06-07T17:29:43Z", "2017-03-16T19:20:177Z"),
                LineError::Timestamp("2017-03-16T19:20:177Z".into()),
            ),
            (
                ok.replace(r#""query_type":"AAAA""#, r#""query_type":"A A""#),
                field(
                    "query_type",
                    "\"A A\" is not ASCII letters, digits and hyphens",
                ),
            ),
            (
                ok.replace(r#""rcode":"NOERROR""#, r#""rcode":["NOERROR"]"#),
                field("rcode", "expected a string, found an array"),
            ),
            (
                resolver_record(r#","srcids":"i-1""#, "a.", "NOERROR"),
                field("srcids", "expected an object, found a string"),
            ),
            (
                resolver_record(r#","srcids":{"instance":true}"#, "a.", "NOERROR"),
                field("srcids.instance", "expected a string, found a boolean"),
            ),
            (
                resolver_record(r#","srcids":{"resource":{}}"#, "a.", "NOERROR"),
                field("srcids.resource", "expected a string, found an object"),
            ),
        ];
        for (json, want) in cases {
            assert_eq!(resolver_query(&json), Err(want), "{json}");
        }
        let Err(LineError::Json(why)) = resolver_query(r#"{"version": "1.1""#) else {
            panic!("a JSON error");
        };
        assert!(why.contains("EOF"), "{why}");
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(matches!(resolver_query(&deep), Err(LineError::Json(_))));
    }

    fn name_strategy() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(".".to_owned()),
            "([a-zA-Z0-9_*-]{1,12}|\\\\[0-3][0-7][0-7])(\\.[a-zA-Z0-9-]{1,12}){0,4}",
        ]
    }

    fn json_strategy() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            ".{0,20}".prop_map(Value::String),
            (0usize..200_000).prop_map(|n| Value::String("x".repeat(n))),
            "(1\\.[0-9]|2\\.0|2021-06-07T17:29:43Z|[a-z.]{1,10}|NXDOMAIN)".prop_map(Value::String),
        ];
        let key = "(version|account_id|region|vpc_id|query_timestamp|query_name|query_type|rcode|srcids|instance|resource|resolver_endpoint|srcaddr|[a-z]{1,5})";
        leaf.prop_recursive(6, 64, 10, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..10).prop_map(Value::Array),
                proptest::collection::btree_map(key, inner, 0..14)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            // No regression files: this crate's tree is shared.
            failure_persistence: None,
            ..ProptestConfig::with_cases(512)
        })]

        #[test]
        fn public_never_panics(line in ".{0,300}", spaces in "( |[^ ]{0,12}){0,14}") {
            let _ = public_query(&line);
            let _ = public_query(&spaces);
            let _ = public_query(&format!("1.0 {spaces}"));
        }

        #[test]
        fn public_lines_round_trip(
            millis in 0i64..4_102_444_800_000,
            zone_id in "Z[A-Z0-9]{1,31}",
            name in name_strategy(),
            trailing_dot in any::<bool>(),
            qtype in "(A|AAAA|CNAME|MX|TXT|NS|SOA|ANY|TYPE[0-9]{1,5})",
            rcode in "(NOERROR|NXDOMAIN|SERVFAIL|REFUSED|FORMERR)",
            tcp in any::<bool>(),
            edge in "[A-Z]{3}[0-9]{1,2}(-[A-Z][0-9])?",
            resolver in any::<IpAddr>(),
            subnet in proptest::option::of(
                (any::<Ipv4Addr>(), 0u8..=32).prop_map(|(a, p)| format!("{a}/{p}"))
            ),
        ) {
            let timestamp = DateTime::from_timestamp_millis(millis).expect("in range");
            let protocol = if tcp { "TCP" } else { "UDP" };
            let written = if name == "." || !trailing_dot { name.clone() } else { format!("{name}.") };
            let line = format!(
                "1.0 {} {zone_id} {written} {qtype} {rcode} {protocol} {edge} {resolver} {}",
                timestamp.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
                subnet.as_deref().unwrap_or("-"),
            );
            let want = PublicQuery {
                timestamp,
                zone_id: &zone_id,
                name: name.trim_end_matches('.').to_ascii_lowercase(),
                qtype: &qtype,
                rcode: &rcode,
                protocol,
                edge: &edge,
            };
            prop_assert_eq!(public_query(&line), Ok(want));
        }

        #[test]
        fn resolver_never_panics(value in json_strategy(), text in ".{0,200}") {
            let _ = resolver_query(&value.to_string());
            let _ = resolver_query(&text);
            let _ = resolver_query(&format!("{{\"version\":{text}}}"));
        }
    }
}
