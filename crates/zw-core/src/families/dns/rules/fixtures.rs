//! Test builders shared by the DNS rule tests: a healthy public zone whose
//! servers answer exactly what Route 53 holds, and small constructors to
//! break it in one place per test.

use crate::families::dns::model::*;
use crate::model::{HostedZone, RecordSet, Region};
use chrono::{DateTime, TimeZone, Utc};
use std::net::SocketAddr;

pub const CERT_ARN: &str = "arn:aws:acm:eu-west-1:111122223333:certificate/c1";
pub const NS1: &str = "ns-1.awsdns-01.com.";
pub const NS2: &str = "ns-2.awsdns-02.net.";

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0)
        .single()
        .expect("fixed clock")
}

pub fn hosted_zone(id: &str, name: &str, private: bool) -> HostedZone {
    HostedZone {
        id: id.into(),
        name: name.into(),
        private,
        record_set_count: 0,
    }
}

pub fn addr(last: u8) -> SocketAddr {
    SocketAddr::from(([192, 0, 2, last], 53))
}

pub fn rr(name: &str, rtype: &str, data: &str) -> ResourceRecord {
    ResourceRecord {
        name: crate::model::normalize_dns_name(name),
        rtype: rtype.into(),
        ttl: 300,
        data: data.into(),
    }
}

/// An authoritative answer.
pub fn aa(rcode: ResponseCode, answers: Vec<ResourceRecord>) -> DnsAnswer {
    DnsAnswer {
        rcode,
        authoritative: true,
        answers,
        authority: vec![],
        additional: vec![],
    }
}

pub fn obs(
    server: SocketAddr,
    name: &str,
    rtype: &str,
    outcome: Result<DnsAnswer, QueryFailure>,
) -> Observation {
    Observation {
        question: Question {
            name: crate::model::normalize_dns_name(name),
            rtype: rtype.into(),
        },
        server,
        outcome,
        latency_us: 1000,
    }
}

/// A server that answers every simple record set of `inv` with its values.
pub fn truthful_server(name: &str, last: u8, inv: &ZoneInventory) -> ServerFacts {
    let a = addr(last);
    let observations = inv
        .record_sets
        .iter()
        .filter(|s| s.alias.is_none())
        .map(|s| {
            let records = s
                .values
                .iter()
                .map(|v| rr(&s.name, &s.record_type, v))
                .collect();
            obs(
                a,
                &s.name,
                &s.record_type,
                Ok(aa(ResponseCode::NoError, records)),
            )
        })
        .collect();
    ServerFacts {
        name: name.into(),
        addresses: Ok(vec![a]),
        observations,
        not_probed: Vec::new(),
    }
}

pub fn soa() -> RecordSet {
    RecordSet::simple(
        "example.com.",
        "SOA",
        &["ns-1.awsdns-01.com. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"],
    )
}

pub fn inventory(zone: HostedZone, record_sets: Vec<RecordSet>) -> ZoneInventory {
    ZoneInventory {
        zone,
        name_servers: vec![NS1.into(), NS2.into()],
        record_sets,
        dnssec: Some(DnssecStatus {
            serve_signature: "NOT_SIGNING".into(),
            status_message: None,
            key_signing_keys: vec![],
        }),
        listed_at: now(),
        compared_at: None,
        record_set_limit: Some(10_000),
    }
}

pub fn delegated(zone: &str, servers: &[&str]) -> Delegation {
    Delegation {
        zone: zone.into(),
        parent: "com.".into(),
        parent_servers: vec!["a.gtld-servers.net.".into()],
        outcome: DelegationOutcome::Delegated {
            name_servers: servers.iter().map(|s| (*s).to_owned()).collect(),
        },
        ds_records: vec![],
    }
}

/// A zone whose two servers answer every record set truthfully.
pub fn zone_facts(id: &str, name: &str, record_sets: Vec<RecordSet>) -> ZoneFacts {
    let inv = inventory(hosted_zone(id, name, false), record_sets);
    ZoneFacts {
        servers: vec![truthful_server(NS1, 1, &inv), truthful_server(NS2, 2, &inv)],
        delegation: Some(delegated(name, &[NS1, NS2])),
        inventory: inv,
        sub_delegations: vec![],
        dnssec_read: true,
        compared: true,
    }
}

pub fn healthy_records() -> Vec<RecordSet> {
    vec![
        soa(),
        RecordSet::simple("example.com.", "NS", &[NS1, NS2]),
        RecordSet::simple("example.com.", "TXT", &["\"v=spf1 -all\""]),
        RecordSet::simple("example.com.", "MX", &["10 mail.example.com."]),
        RecordSet::simple("example.com.", "CAA", &["0 issue \"amazon.com\""]),
        RecordSet::simple("www.example.com.", "A", &["192.0.2.10", "192.0.2.11"]),
        RecordSet::simple("blog.example.com.", "CNAME", &["blog.example.org."]),
    ]
}

pub fn healthy_facts() -> DnsFacts {
    let mut facts = DnsFacts {
        zones: vec![zone_facts("Z1", "example.com.", healthy_records())],
        certificates: Some(vec![CertificateNames {
            arn: CERT_ARN.into(),
            region: Region::parse("eu-west-1").expect("region"),
            domain_name: "example.com".into(),
            names: vec!["example.com".into(), "*.example.com".into()],
        }]),
        endpoints: AccountEndpoints {
            cloudfront: Some(vec![]),
            load_balancers: Some(vec![]),
            beanstalk: Some(vec![]),
            api_gateway: Some(vec![]),
            addresses: Some(vec![]),
        },
        ip_ranges: Some(vec![]),
        ..DnsFacts::default()
    };
    facts.caa.insert(
        "example.com.".into(),
        CaaLookup::Found {
            at: "example.com.".into(),
            records: vec!["0 issue \"amazon.com\"".into()],
        },
    );
    facts.cname_targets.insert(
        "blog.example.org.".into(),
        Resolution::Answer {
            records: vec![rr("blog.example.org.", "A", "198.51.100.7")],
            cname_chain: vec![],
        },
    );
    facts
}
