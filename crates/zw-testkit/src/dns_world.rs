//! A small "internet" for the DNS family: hosted zones in moto (Route 53's
//! view) and real authoritative servers on loopback (what DNS answers): a
//! root, the `test.` TLD, and the zones' own servers. Used by the demo, the
//! integration tests and the DNS benchmark.
//!
//! moto gives every zone the same four name-server names; the settings this
//! returns (`ZW_DNS_ROOT_HINTS`, `ZW_DNS_NAMESERVER_ADDRESSES`) send those
//! names to the lab servers instead of the real Route 53.

use crate::error::{Result, TestkitError};
use crate::seed;
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};
use std::net::SocketAddr;
use zw_dns_lab::{AuthServer, LabZone, random_loopback_ip};

/// What the demo estate's DNS looks like, and which finding each part shows.
pub const DEMO_ZONE: &str = "shop.test.";
pub const DEMO_MISDELEGATED: &str = "elsewhere.test.";
pub const DEMO_UNDELEGATED: &str = "orphan.test.";
pub const DEMO_PARTIAL: &str = "partial.test.";
/// The certificate name the CAA record of the demo zone forbids Amazon to issue.
pub const DEMO_CAA_NAME: &str = "www.shop.test";
/// An expectations document the demo zone fails (`www` is expected elsewhere).
pub const DEMO_EXPECTATIONS: &str = "# DNS expectations (YAML)\n\
- name: www.shop.test\n  type: A\n  equals: [192.0.2.50]\n\
- name: api.shop.test\n  type: A\n  contains: [192.0.2.98]\n";

/// The running lab and the settings that point zonewarden at it.
#[derive(Debug)]
pub struct DnsWorld {
    pub servers: Vec<AuthServer>,
    /// `ZW_DNS_ROOT_HINTS`.
    pub root_hints: String,
    /// `ZW_DNS_NAMESERVER_ADDRESSES`.
    pub nameserver_addresses: String,
    /// Zone name -> hosted zone id in moto.
    pub zones: Vec<(String, String)>,
    /// The ACM certificate whose name a CAA record forbids (demo world).
    pub certificate_arn: Option<String>,
}

impl DnsWorld {
    pub fn zone_id(&self, name: &str) -> Option<&str> {
        self.zones
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, id)| id.as_str())
    }

    /// Shell `export` lines for the settings.
    pub fn exports(&self) -> String {
        format!(
            // The world lives on loopback: the probes may go there only
            // because ZW_PROBE_ALLOW_CIDRS says so.
            "export ZW_DNS_ROOT_HINTS='{}'\nexport ZW_DNS_NAMESERVER_ADDRESSES='{}'\nexport ZW_PROBE_ALLOW_CIDRS=127.0.0.0/8\n",
            self.root_hints, self.nameserver_addresses
        )
    }
}

/// One record set to write: name, type, values, and an optional weight with
/// its set identifier.
#[derive(Debug, Clone)]
pub struct Rec<'a> {
    pub name: String,
    pub rtype: &'a str,
    pub values: Vec<String>,
    pub weighted: Option<(&'a str, i64)>,
}

pub fn rec<'a>(name: &str, rtype: &'a str, values: &[&str]) -> Rec<'a> {
    Rec {
        name: name.to_owned(),
        rtype,
        values: values.iter().map(|v| (*v).to_owned()).collect(),
        weighted: None,
    }
}

/// Deletes a hosted zone the way a user must: its record sets (but SOA and
/// the apex NS) first.
/// Creates a public hosted zone; its id without `/hostedzone/`.
pub async fn create_public_zone(
    r53: &aws_sdk_route53::Client,
    name: &str,
    caller_reference: String,
) -> Result<String> {
    let zone = r53
        .create_hosted_zone()
        .name(name)
        .caller_reference(caller_reference)
        .send()
        .await
        .map_err(TestkitError::aws("route53:CreateHostedZone"))?;
    zone.hosted_zone()
        .map(|z| z.id().trim_start_matches("/hostedzone/").to_owned())
        .ok_or(TestkitError::MissingField {
            operation: "route53:CreateHostedZone",
            field: "HostedZone.Id",
        })
}

pub async fn delete_zone(r53: &aws_sdk_route53::Client, zone_id: &str) -> Result<()> {
    let sets = r53
        .list_resource_record_sets()
        .hosted_zone_id(zone_id)
        .send()
        .await
        .map_err(TestkitError::aws("route53:ListResourceRecordSets"))?;
    let mut changes = Vec::new();
    for set in sets
        .resource_record_sets()
        .iter()
        .filter(|s| !matches!(s.r#type(), RrType::Soa | RrType::Ns))
    {
        changes.push(
            Change::builder()
                .action(ChangeAction::Delete)
                .resource_record_set(set.clone())
                .build()
                .map_err(TestkitError::build("route53 Change"))?,
        );
    }
    if !changes.is_empty() {
        r53.change_resource_record_sets()
            .hosted_zone_id(zone_id)
            .change_batch(
                ChangeBatch::builder()
                    .set_changes(Some(changes))
                    .build()
                    .map_err(TestkitError::build("route53 ChangeBatch"))?,
            )
            .send()
            .await
            .map_err(TestkitError::aws("route53:ChangeResourceRecordSets"))?;
    }
    r53.delete_hosted_zone()
        .id(zone_id)
        .send()
        .await
        .map_err(TestkitError::aws("route53:DeleteHostedZone"))?;
    Ok(())
}

/// Upserts record sets, up to 500 per `ChangeResourceRecordSets` call.
pub async fn upsert(r53: &aws_sdk_route53::Client, zone_id: &str, recs: &[Rec<'_>]) -> Result<()> {
    for chunk in recs.chunks(500) {
        let mut changes = Vec::new();
        for r in chunk {
            let mut set = ResourceRecordSet::builder()
                .name(&r.name)
                .r#type(RrType::from(r.rtype))
                .ttl(300);
            for v in &r.values {
                set = set.resource_records(
                    ResourceRecord::builder()
                        .value(v)
                        .build()
                        .map_err(TestkitError::build("route53 ResourceRecord"))?,
                );
            }
            if let Some((id, weight)) = r.weighted {
                set = set.set_identifier(id).weight(weight);
            }
            changes.push(
                Change::builder()
                    .action(ChangeAction::Upsert)
                    .resource_record_set(
                        set.build()
                            .map_err(TestkitError::build("route53 ResourceRecordSet"))?,
                    )
                    .build()
                    .map_err(TestkitError::build("route53 Change"))?,
            );
        }
        r53.change_resource_record_sets()
            .hosted_zone_id(zone_id)
            .change_batch(
                ChangeBatch::builder()
                    .set_changes(Some(changes))
                    .build()
                    .map_err(TestkitError::build("route53 ChangeBatch"))?,
            )
            .send()
            .await
            .map_err(TestkitError::aws("route53:ChangeResourceRecordSets"))?;
    }
    Ok(())
}

/// The names moto gave the zone's delegation set, normalised.
pub async fn name_servers(r53: &aws_sdk_route53::Client, zone_id: &str) -> Result<Vec<String>> {
    let out = r53
        .get_hosted_zone()
        .id(zone_id)
        .send()
        .await
        .map_err(TestkitError::aws("route53:GetHostedZone"))?;
    Ok(out
        .delegation_set()
        .map(|d| {
            d.name_servers()
                .iter()
                .map(|n| format!("{}.", n.trim_end_matches('.').to_ascii_lowercase()))
                .collect()
        })
        .unwrap_or_default())
}

fn lab(e: zw_dns_lab::LabError) -> TestkitError {
    TestkitError::Invalid(format!("lab DNS server: {e}"))
}

/// The zone as the lab serves it: SOA with `serial`, NS, then the records.
fn served(origin: &str, ns: &[String], serial: u32, records: &[(&str, &str, &str)]) -> LabZone {
    let mut z = LabZone::new(origin).soa(&ns[0], &format!("hostmaster.{origin}"), serial);
    for n in ns {
        z = z.ns("@", n);
    }
    for (owner, t, data) in records {
        z = z.record(owner, t, data);
    }
    z
}

/// Root and `test.` servers delegating `delegations` (zone -> NS names).
fn parents(delegations: &[(&str, Vec<String>)]) -> Result<(AuthServer, AuthServer)> {
    let mut tld = LabZone::new("test.")
        .soa("a.nic.test.", "hostmaster.nic.test.", 1)
        .ns("@", "a.nic.test.");
    for (zone, ns) in delegations {
        let label = zone.trim_end_matches(".test.");
        for n in ns {
            tld = tld.ns(label, n);
        }
    }
    let tld = AuthServer::start_on_port_53(vec![tld]).map_err(lab)?;
    let root = AuthServer::start_on_port_53(vec![
        LabZone::new(".")
            .soa("a.root-servers.test.", "hostmaster.root-servers.test.", 1)
            .ns("@", "a.root-servers.test.")
            .ns("test.", "a.nic.test.")
            .record("a.nic.test.", "A", &tld.addr().ip().to_string()),
    ])
    .map_err(lab)?;
    Ok((root, tld))
}

/// The demo estate's DNS. Route 53 (moto) says one thing, the servers another:
///
/// | name                       | Route 53                          | servers                         | finding |
/// |----------------------------|-----------------------------------|---------------------------------|---------|
/// | shop.test. SOA             | -                                 | serial 1 on two servers, 2 on one | dns.soa-serial-mismatch |
/// | 4th name server            | in the delegation set             | nothing listens                 | dns.nameserver-unreachable |
/// | api.shop.test. A           | 192.0.2.99                        | 192.0.2.98                      | dns.record-drift |
/// | mail.shop.test. MX         | 10 mx.shop.test.                  | absent                          | dns.record-missing |
/// | old.shop.test. CNAME       | nothere.shop.test.                | NXDOMAIN target                 | dns.dangling-target |
/// | assets.shop.test. CNAME    | S3 website endpoint               | bucket does not exist           | dns.dangling-target |
/// | shop.test. CAA             | 0 issue "letsencrypt.org"         | same                            | dns.caa-blocks-acm (zone, and the imported certificate www.shop.test) |
/// | w.shop.test. A (weighted)  | 192.0.2.21 / 192.0.2.22           | 192.0.2.21                      | none: answers from the union |
/// | www.shop.test. A           | 192.0.2.10                        | 192.0.2.10 (expected .50)       | dns.expectation-failed (with DEMO_EXPECTATIONS) |
/// | elsewhere.test.            | its own delegation set            | parent delegates to other names | dns.delegation-mismatch |
/// | orphan.test.               | a hosted zone                     | parent has no delegation        | dns.zone-not-delegated |
/// | partial.test.              | its own delegation set            | parent lists one of them and another server | dns.delegation-partial |
pub async fn demo_world(sdk: &aws_config::SdkConfig) -> Result<DnsWorld> {
    let r53 = aws_sdk_route53::Client::new(sdk);
    let certificate_arn = seed::import_certificate(
        &aws_sdk_acm::Client::new(sdk),
        DEMO_CAA_NAME,
        chrono::Duration::days(200),
    )
    .await?;
    let shop = seed::create_zone(&r53, DEMO_ZONE).await?;
    let elsewhere = seed::create_zone(&r53, DEMO_MISDELEGATED).await?;
    let orphan = seed::create_zone(&r53, DEMO_UNDELEGATED).await?;
    let partial = seed::create_zone(&r53, DEMO_PARTIAL).await?;
    let s3_target = "assets.shop.test.s3-website-us-east-1.amazonaws.com";
    let mut recs = vec![
        rec("www.shop.test.", "A", &["192.0.2.10"]),
        rec("api.shop.test.", "A", &["192.0.2.99"]),
        rec("mail.shop.test.", "MX", &["10 mx.shop.test."]),
        rec("old.shop.test.", "CNAME", &["nothere.shop.test."]),
        rec("assets.shop.test.", "CNAME", &[s3_target]),
        rec("shop.test.", "CAA", &["0 issue \"letsencrypt.org\""]),
    ];
    for (id, ip) in [("blue", "192.0.2.21"), ("green", "192.0.2.22")] {
        let mut r = rec("w.shop.test.", "A", &[ip]);
        r.weighted = Some((id, 50));
        recs.push(r);
    }
    upsert(&r53, &shop, &recs).await?;
    upsert(
        &r53,
        &elsewhere,
        &[rec("www.elsewhere.test.", "A", &["192.0.2.30"])],
    )
    .await?;
    upsert(
        &r53,
        &orphan,
        &[rec("www.orphan.test.", "A", &["192.0.2.40"])],
    )
    .await?;
    upsert(
        &r53,
        &partial,
        &[rec("www.partial.test.", "A", &["192.0.2.60"])],
    )
    .await?;

    let ns = name_servers(&r53, &shop).await?;
    if ns.len() < 3 {
        return Err(TestkitError::Invalid(format!(
            "moto gave {} name servers; the demo needs at least 3",
            ns.len()
        )));
    }
    let shop_records = |serial| {
        served(
            DEMO_ZONE,
            &ns,
            serial,
            &[
                ("www", "A", "192.0.2.10"),
                ("api", "A", "192.0.2.98"),
                ("old", "CNAME", "nothere.shop.test."),
                ("assets", "CNAME", &format!("{s3_target}.")),
                ("@", "CAA", "0 issue \"letsencrypt.org\""),
                ("w", "A", "192.0.2.21"),
            ],
        )
    };
    let others = |origin: &str, owner_ip: &str| served(origin, &ns, 1, &[("www", "A", owner_ip)]);
    let first = AuthServer::start_on_port_53(vec![
        shop_records(1),
        others(DEMO_MISDELEGATED, "192.0.2.30"),
        others(DEMO_UNDELEGATED, "192.0.2.40"),
        others(DEMO_PARTIAL, "192.0.2.60"),
    ])
    .map_err(lab)?;
    let second = AuthServer::start_on_port_53(vec![
        shop_records(2),
        others(DEMO_MISDELEGATED, "192.0.2.30"),
        others(DEMO_UNDELEGATED, "192.0.2.40"),
        others(DEMO_PARTIAL, "192.0.2.60"),
    ])
    .map_err(lab)?;
    // elsewhere.test. is delegated to servers that are not its Route 53 ones;
    // orphan.test. is not delegated at all.
    let other = vec![
        "ns1.other-dns.test.".to_owned(),
        "ns2.other-dns.test.".to_owned(),
    ];
    // partial.test.'s parent keeps one of its Route 53 servers beside a
    // server of another provider (a migration left half done).
    let half = vec![ns[0].clone(), other[0].clone()];
    let (root, tld) = parents(&[
        (DEMO_ZONE, ns.clone()),
        (DEMO_MISDELEGATED, other),
        (DEMO_PARTIAL, half),
    ])?;
    // Nothing listens on the last server's address: it is unreachable.
    let silent = SocketAddr::new(random_loopback_ip(), 53);
    let mut addresses = Vec::new();
    for (i, n) in ns.iter().enumerate() {
        let a = match i {
            0 | 1 => first.addr(),
            i if i + 1 == ns.len() => silent,
            _ => second.addr(),
        };
        addresses.push(format!("{n}={a}"));
    }
    Ok(DnsWorld {
        root_hints: root.addr().to_string(),
        nameserver_addresses: addresses.join(","),
        servers: vec![root, tld, first, second],
        zones: vec![
            (DEMO_ZONE.into(), shop),
            (DEMO_MISDELEGATED.into(), elsewhere),
            (DEMO_UNDELEGATED.into(), orphan),
            (DEMO_PARTIAL.into(), partial),
        ],
        certificate_arn: Some(certificate_arn),
    })
}

/// The benchmark's world: one zone `bench.test.` of `record_sets` A/TXT/MX
/// record sets in moto, served by `servers` lab servers; `drifted` of them
/// answer another address on every server.
pub async fn bench_world(
    sdk: &aws_config::SdkConfig,
    record_sets: usize,
    servers: usize,
    drifted: usize,
) -> Result<DnsWorld> {
    let r53 = aws_sdk_route53::Client::new(sdk);
    let zone = seed::create_zone(&r53, "bench.test.").await?;
    let mut recs = Vec::with_capacity(record_sets);
    let mut served_recs: Vec<(String, &str, String)> = Vec::with_capacity(record_sets);
    for i in 0..record_sets {
        let name = format!("h{i}.bench.test.");
        let (t, v, seen) = match i % 3 {
            0 => {
                let v = format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255);
                let seen = if i / 3 < drifted {
                    format!("10.255.{}.{}", (i >> 8) & 255, i & 255)
                } else {
                    v.clone()
                };
                ("A", v, seen)
            }
            1 => {
                let v = format!("\"bench {i}\"");
                ("TXT", v.clone(), v)
            }
            _ => {
                let v = format!("10 mx{i}.bench.test.");
                ("MX", v.clone(), v)
            }
        };
        recs.push(rec(&name, t, &[&v]));
        served_recs.push((name, t, seen));
    }
    upsert(&r53, &zone, &recs).await?;
    let ns = name_servers(&r53, &zone).await?;
    let records: Vec<(&str, &str, &str)> = served_recs
        .iter()
        .map(|(n, t, v)| (n.as_str(), *t, v.as_str()))
        .collect();
    let mut lab_servers = Vec::new();
    for _ in 0..servers.max(1) {
        lab_servers.push(
            AuthServer::start_on_port_53(vec![served("bench.test.", &ns, 1, &records)])
                .map_err(lab)?,
        );
    }
    let (root, tld) = parents(&[("bench.test.", ns.clone())])?;
    let addresses: Vec<String> = ns
        .iter()
        .enumerate()
        .map(|(i, n)| format!("{n}={}", lab_servers[i % lab_servers.len()].addr()))
        .collect();
    let mut all = vec![root, tld];
    let root_hints = all[0].addr().to_string();
    all.extend(lab_servers);
    Ok(DnsWorld {
        root_hints,
        nameserver_addresses: addresses.join(","),
        servers: all,
        zones: vec![("bench.test.".into(), zone)],
        certificate_arn: None,
    })
}
