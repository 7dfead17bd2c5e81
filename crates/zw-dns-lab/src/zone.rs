use crate::LabError;
use crate::handler::Cut;
use hickory_proto::rr::rdata::NULL;
use hickory_proto::rr::{LowerName, Name, RData, Record, RecordSet, RecordType, RrKey};
use hickory_proto::serialize::txt::Parser;
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, ZoneType};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::str::FromStr;

/// One zone for an [`crate::AuthServer`], written as zone-file text.
///
/// Built either from whole zone-file text ([`LabZone::from_text`]) or line by
/// line ([`LabZone::new`] and the builder methods, which only append
/// zone-file lines). Owners are relative to the origin unless they end with
/// a dot; `@` is the apex. A zone without an SOA gets a default one.
///
/// hickory's zone-file parser knows no `SPF` type: SPF records given to
/// [`LabZone::record`] are read as TXT and served as type 99 with TXT's
/// wire format (RFC 7208 section 3.1), as other servers serve them.
#[derive(Debug, Clone)]
pub struct LabZone {
    origin: String,
    ttl: u32,
    text: String,
    has_soa: bool,
    /// SPF records, as TXT zone-file lines.
    spf: String,
}

/// SPF's type code.
const SPF: u16 = 99;

impl LabZone {
    /// An empty zone (`"."` for a root zone).
    pub fn new(origin: &str) -> Self {
        let mut origin = origin.trim().to_ascii_lowercase();
        if !origin.ends_with('.') {
            origin.push('.');
        }
        Self {
            origin,
            ttl: 300,
            text: String::new(),
            has_soa: false,
            spf: String::new(),
        }
    }

    /// A zone from zone-file text (`$TTL`, `@`, relative names all work).
    pub fn from_text(origin: &str, text: &str) -> Self {
        let mut zone = Self::new(origin);
        zone.has_soa = text
            .split_whitespace()
            .any(|token| token.eq_ignore_ascii_case("SOA"));
        zone.text = format!("{text}\n");
        zone
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// TTL of the records added after this call (default 300).
    pub fn ttl(mut self, ttl: u32) -> Self {
        self.ttl = ttl;
        self
    }

    /// The apex SOA (refresh, retry, expire and minimum are fixed).
    pub fn soa(mut self, mname: &str, rname: &str, serial: u32) -> Self {
        self.has_soa = true;
        self.record(
            "@",
            "SOA",
            &format!("{mname} {rname} {serial} 7200 3600 1209600 300"),
        )
    }

    /// An NS record: at the apex (`"@"`) the zone's own servers, below it a
    /// delegation.
    pub fn ns(self, owner: &str, target: &str) -> Self {
        self.record(owner, "NS", target)
    }

    /// Any record, RDATA in presentation format (`"10 mail"`, `"\"v=spf1 -all\""`).
    pub fn record(mut self, owner: &str, rtype: &str, data: &str) -> Self {
        // Writing to a String cannot fail.
        if rtype.eq_ignore_ascii_case("SPF") {
            let _ = writeln!(self.spf, "{owner} {} IN TXT {data}", self.ttl);
        } else {
            let _ = writeln!(self.text, "{owner} {} IN {rtype} {data}", self.ttl);
        }
        self
    }

    /// The zone-file text the server loads.
    pub fn text(&self) -> String {
        if self.has_soa {
            return self.text.clone();
        }
        let apex = if self.origin == "." {
            String::new()
        } else {
            self.origin.clone()
        };
        format!(
            "@ {} IN SOA ns.{apex} hostmaster.{apex} 1 7200 3600 1209600 300\n{}",
            self.ttl, self.text
        )
    }

    pub(crate) fn handler(&self) -> Result<(LowerName, InMemoryZoneHandler, Vec<Cut>), LabError> {
        let err = |message: String| LabError::Zone {
            origin: self.origin.clone(),
            message,
        };
        let origin = Name::from_str(&self.origin).map_err(|e| err(e.to_string()))?;
        let (origin, records) = Parser::new(self.text(), None, Some(origin.clone()))
            .parse()
            .map_err(|e| err(e.to_string()))?;
        let mut records: BTreeMap<RrKey, RecordSet> = records;
        if !self.spf.is_empty() {
            let (_, txt) = Parser::new(self.spf.clone(), None, Some(origin.clone()))
                .parse()
                .map_err(|e| err(format!("SPF: {e}")))?;
            for record in txt.values().flat_map(|set| set.records_without_rrsigs()) {
                let RData::TXT(strings) = &record.data else {
                    continue;
                };
                let mut wire = Vec::new();
                for s in strings.txt_data.iter() {
                    let len = u8::try_from(s.len())
                        .map_err(|_| err("SPF: a string over 255 bytes".to_owned()))?;
                    wire.push(len);
                    wire.extend_from_slice(s);
                }
                let spf = Record::from_rdata(
                    record.name.clone(),
                    record.ttl,
                    RData::Unknown {
                        code: RecordType::Unknown(SPF),
                        rdata: NULL::with(wire),
                    },
                );
                let key = RrKey::new(LowerName::new(&record.name), RecordType::Unknown(SPF));
                records
                    .entry(key)
                    .or_insert_with(|| {
                        RecordSet::new(record.name.clone(), RecordType::Unknown(SPF), 0)
                    })
                    .insert(spf, 0);
            }
        }
        let cuts = cuts(&origin, &records);
        let handler =
            InMemoryZoneHandler::new(origin.clone(), records, ZoneType::Primary, AxfrPolicy::Deny)
                .map_err(err)?;
        Ok((LowerName::new(&origin), handler, cuts))
    }
}

/// The zone's delegations (NS sets below the apex) and their glue.
fn cuts(origin: &Name, records: &BTreeMap<RrKey, RecordSet>) -> Vec<Cut> {
    let origin = LowerName::new(origin);
    records
        .iter()
        .filter(|(key, _)| key.record_type == RecordType::NS && key.name != origin)
        .map(|(key, set)| {
            let ns: Vec<Record> = set.records_without_rrsigs().cloned().collect();
            let glue = ns
                .iter()
                .filter_map(|r| match &r.data {
                    RData::NS(target) => Some(LowerName::new(&target.0)),
                    _ => None,
                })
                .flat_map(|target| {
                    [RecordType::A, RecordType::AAAA]
                        .into_iter()
                        .filter_map(move |t| records.get(&RrKey::new(target.clone(), t)))
                })
                .flat_map(|set| set.records_without_rrsigs().cloned())
                .collect();
            Cut {
                name: key.name.clone(),
                ns,
                glue,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_adds_a_default_soa_and_parses() {
        let zone = LabZone::new("example.test")
            .ns("@", "ns1.example.test.")
            .record("www", "A", "192.0.2.1")
            .record("@", "TXT", "\"v=spf1 -all\"")
            .record("@", "CAA", "0 issue \"amazon.com\"")
            .record("@", "MX", "10 mail")
            .record("_sip._tcp", "SRV", "1 2 5060 sip")
            .record("v6", "AAAA", "2001:db8::1")
            .record("alias", "CNAME", "www")
            .record("child", "DS", "12345 13 2 ABCDEF0123");
        assert_eq!(zone.origin(), "example.test.");
        assert!(zone.text().contains("SOA"));
        let (origin, _, cuts) = zone.handler().unwrap();
        assert!(cuts.is_empty());
        assert_eq!(origin.to_string(), "example.test.");
    }

    #[test]
    fn spf_records_are_read_as_txt_and_kept_apart() {
        let zone = LabZone::new("example.test")
            .record("@", "SPF", "\"v=spf1 \" \"-all\"")
            .record("@", "TXT", "\"v=spf1 -all\"");
        assert!(!zone.text().contains("SPF"), "{}", zone.text());
        assert!(zone.handler().is_ok());
        let long = format!("\"{}\"", "x".repeat(300));
        let bad = LabZone::new("bad.test").record("@", "SPF", &long);
        let Err(e) = bad.handler() else {
            panic!("a string over 255 bytes cannot be served")
        };
        assert!(e.to_string().contains("SPF"), "{e}");
    }

    #[test]
    fn delegations_carry_their_glue() {
        let zone = LabZone::new("test.")
            .ns("example", "ns1.example.test.")
            .record("ns1.example", "A", "127.0.0.9")
            .ns("other", "ns.elsewhere.net.");
        let (_, _, mut cuts) = zone.handler().unwrap();
        cuts.sort_by(|a, b| a.name.cmp(&b.name));
        assert_eq!(cuts.len(), 2);
        assert_eq!(cuts[0].name.to_string(), "example.test.");
        assert_eq!(cuts[0].glue.len(), 1);
        assert_eq!(cuts[1].name.to_string(), "other.test.");
        assert!(cuts[1].glue.is_empty());
    }

    #[test]
    fn bad_text_is_an_error_naming_the_zone() {
        let zone = LabZone::new("bad.test").record("www", "A", "not-an-address");
        let Err(e) = zone.handler() else {
            panic!("a bad address must not parse")
        };
        let e = e.to_string();
        assert!(e.contains("bad.test."), "{e}");
    }
}
