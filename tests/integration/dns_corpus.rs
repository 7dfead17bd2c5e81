//! Every record type Route 53 accepts, end to end: the same data in Route 53
//! (moto, values in Route 53's documented formats) and on a real
//! authoritative server on loopback (a lab server, zone-file text written
//! the way other tools write it: other case, other TXT splits, other SvcParam
//! order, decimal escapes), compared by a DNS scan. No drift; then one value
//! changed per type in Route 53, and exactly those drifts.
//!
//! moto 5.2.5 accepts all 17 types and returns their values as written, so
//! every type is covered here (the canonical form's table tests in zw-core,
//! `model::rdata`, cover the variations a lab server cannot serve). Two
//! limits of the lab server, hickory's zone-file reader: it misreads `\DDD`
//! escapes (the TXT with a non-ASCII byte is served from raw UTF-8), and it
//! serves SvcParams in the order written (the zone text keeps key order;
//! other orders are covered by the table tests). `GetHostedZoneLimit` is
//! asked only for a zone near the default quota (not this one); moto answers
//! it 404, which the adapter reports as `NotFound` (the quota rule then
//! assumes the default and says so: unit-tested in zw-core).
//!
//! NS and SOA are compared too (apex NS as a set, SOA by serial across the
//! servers) but not changed here: another NS set changes which servers are
//! asked, and Route 53 owns the SOA; their drift is covered by the rule tests.

use crate::support::{Env, config};
use std::collections::BTreeSet;
use zw_app::{App, FamilyKind, ScanOptions};
use zw_core::ports::{ApiUsage, ZoneSource};
use zw_core::{FindingCode, ScanLabel, ScanReport, Sinks};
use zw_dns_lab::{AuthServer, LabZone, loopback};
use zw_testkit::dns_world::{self, Rec, rec};

const ZONE: &str = "corpus.test.";

/// One record set: Route 53's values, the lab server's zone-file data, and
/// Route 53's values after the change that must show as drift (None: not
/// changed, see the module docs).
struct Entry {
    name: &'static str,
    rtype: &'static str,
    route53: Vec<String>,
    served: Vec<String>,
    changed: Option<Vec<String>>,
}

fn entry(
    name: &'static str,
    rtype: &'static str,
    route53: &[&str],
    served: &[&str],
    changed: Option<&[&str]>,
) -> Entry {
    let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    Entry {
        name,
        rtype,
        route53: owned(route53),
        served: owned(served),
        changed: changed.map(owned),
    }
}

const SSHFP_SHA1: &str = "dc7d2c1b6f6b8b7c3e0f0a1b2c3d4e5f60718293";
const SHA256: &str = "0d6fce3320c8f1c5c48d5c7e5e7bd1b0d9d8b0c2fbac7a1e9b28bcdb8b5d2f9e";
const DS_DIGEST: &str = "d4b7d520e7bb5f0f67674a0cceb1e3e0614b93c4f9e99b8383f6a1e4469da50a";

/// The corpus, from the RFCs' examples and Route 53's documented value
/// formats. The child delegation (NS) and the target's A are context for
/// the DS and CNAME entries.
fn corpus() -> Vec<Entry> {
    let long: String = (0..300)
        .map(|i| char::from(b'a' + u8::try_from(i % 26).expect("small")))
        .collect();
    let txt_route53 = [
        // DKIM-like value in two strings, as Route 53's console shows it.
        "\"v=DKIM1; k=rsa; \" \"p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC\"".to_owned(),
        // 300 bytes split at 255, as Route 53 requires.
        format!("\"{}\" \"{}\"", &long[..255], &long[255..]),
        // Route 53's octal escapes: \303\251 is UTF-8 e-acute.
        "\"caf\\303\\251 \\\"quoted\\\" back\\\\slash\"".to_owned(),
    ];
    let txt_served = [
        "\"v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC\"".to_owned(),
        // The same 300 bytes split elsewhere.
        format!("\"{}\" \"{}\"", &long[..100], &long[100..]),
        "\"café \\\"quoted\\\" back\\\\slash\"".to_owned(),
    ];
    let sshfp_sha256 = SHA256.to_ascii_uppercase();
    vec![
        entry(
            "a.corpus.test.",
            "A",
            &["192.0.2.1", "192.0.2.2"],
            &["192.0.2.2", "192.0.2.1"],
            Some(&["192.0.2.1", "192.0.2.3"]),
        ),
        entry(
            "aaaa.corpus.test.",
            "AAAA",
            &["2001:0DB8:0000:0000:0000:0000:0000:0001"],
            &["2001:db8::1"],
            Some(&["2001:db8::2"]),
        ),
        entry(
            "corpus.test.",
            "CAA",
            &[
                "0 issue \"amazon.com\"",
                "0 issuewild \"Amazon.com; account=12345\"",
                "0 iodef \"mailto:security@corpus.test\"",
                "128 tbs \"Unknown\"",
            ],
            &[
                "0 issue amazon.com",
                "0 ISSUEWILD \"amazon.com; account=12345\"",
                "0 iodef \"mailto:security@corpus.test\"",
                "128 tbs \"Unknown\"",
            ],
            Some(&[
                "0 issue \"letsencrypt.org\"",
                "0 issuewild \"Amazon.com; account=12345\"",
                "0 iodef \"mailto:security@corpus.test\"",
                "128 tbs \"Unknown\"",
            ]),
        ),
        entry(
            "cname.corpus.test.",
            "CNAME",
            &["Target.Corpus.test"],
            &["target.corpus.test."],
            Some(&["other.corpus.test"]),
        ),
        entry(
            "target.corpus.test.",
            "A",
            &["192.0.2.9"],
            &["192.0.2.9"],
            None,
        ),
        entry(
            "child.corpus.test.",
            "NS",
            &["ns.child.corpus.test"],
            &["ns.child.corpus.test."],
            None,
        ),
        entry(
            "child.corpus.test.",
            "DS",
            &[&format!("60485 13 2 {DS_DIGEST}")],
            &[&format!("60485 13 2 {}", DS_DIGEST.to_ascii_uppercase())],
            Some(&[&format!("60485 13 2 {}00", &DS_DIGEST[..62])]),
        ),
        entry(
            "corpus.test.",
            "HTTPS",
            &["1 . ipv6hint=2001:DB8::1 alpn=\"h3,h2\" ipv4hint=192.0.2.1,192.0.2.2"],
            &["1 . alpn=h3,h2 ipv4hint=\"192.0.2.1,192.0.2.2\" ipv6hint=2001:db8::1"],
            Some(&["1 . alpn=\"h2\" ipv4hint=192.0.2.1,192.0.2.2 ipv6hint=2001:db8::1"]),
        ),
        entry(
            "corpus.test.",
            "MX",
            &["10 Mail.corpus.test", "20 mail2.corpus.test."],
            &["10 mail.corpus.test.", "20 MAIL2.corpus.test."],
            Some(&["10 mail.corpus.test", "30 mail2.corpus.test"]),
        ),
        entry(
            "corpus.test.",
            "NAPTR",
            &[
                "100 50 \"U\" \"E2U+sip\" \"!^.*$!sip:info@corpus.test!\" .",
                "10 100 \"S\" \"SIP+D2U\" \"\" _sip._udp.corpus.test",
            ],
            &[
                "100 50 \"u\" \"E2U+sip\" \"!^.*$!sip:info@corpus.test!\" .",
                "10 100 \"s\" \"SIP+D2U\" \"\" _sip._udp.corpus.test.",
            ],
            Some(&[
                "100 50 \"U\" \"E2U+sip\" \"!^.*$!sip:help@corpus.test!\" .",
                "10 100 \"S\" \"SIP+D2U\" \"\" _sip._udp.corpus.test",
            ]),
        ),
        entry(
            "ptr.corpus.test.",
            "PTR",
            &["Host.corpus.test"],
            &["host.corpus.test."],
            Some(&["host2.corpus.test"]),
        ),
        entry(
            "corpus.test.",
            "SPF",
            &["\"v=spf1 ip4:192.0.2.0/24 \" \"include:_spf.corpus.test -all\""],
            &["\"v=spf1 ip4:192.0.2.0/24 include:_spf.corpus.test -all\""],
            Some(&["\"v=spf1 ip4:192.0.2.0/24 include:_spf.corpus.test ~all\""]),
        ),
        entry(
            "_sip._tcp.corpus.test.",
            "SRV",
            &["1 10 5060 SIP.corpus.test", "2 20 5060 sip2.corpus.test."],
            &["1 10 5060 sip.corpus.test.", "2 20 5060 sip2.corpus.test."],
            Some(&["1 10 5061 sip.corpus.test", "2 20 5060 sip2.corpus.test"]),
        ),
        entry(
            "host.corpus.test.",
            "SSHFP",
            &[&format!("1 1 {SSHFP_SHA1}"), &format!("4 2 {SHA256}")],
            &[
                &format!("1 1 {}", SSHFP_SHA1.to_ascii_uppercase()),
                &format!("4 2 {sshfp_sha256}"),
            ],
            Some(&[&format!("1 1 {SSHFP_SHA1}"), &format!("4 1 {SSHFP_SHA1}")]),
        ),
        entry(
            "_dns.corpus.test.",
            "SVCB",
            &["1 doh.corpus.test mandatory=port,alpn alpn=h2 port=8443 ech=\"AAEC\""],
            &["1 DOH.corpus.test. mandatory=alpn,port alpn=\"h2\" port=\"8443\" ech=AAEC"],
            Some(&["1 doh.corpus.test mandatory=port,alpn alpn=h2 port=443 ech=\"AAEC\""]),
        ),
        entry(
            "_443._tcp.www.corpus.test.",
            "TLSA",
            &[&format!("3 1 1 {SHA256}")],
            &[&format!("3 1 1 {}", SHA256.to_ascii_uppercase())],
            Some(&[&format!("3 0 1 {SHA256}")]),
        ),
        Entry {
            name: "txt.corpus.test.",
            rtype: "TXT",
            route53: txt_route53.to_vec(),
            served: txt_served.to_vec(),
            changed: Some(txt_route53[..2].to_vec()),
        },
    ]
}

fn records<'a>(entries: &'a [Entry], values: impl Fn(&'a Entry) -> &'a [String]) -> Vec<Rec<'a>> {
    entries
        .iter()
        .map(|e| {
            let v: Vec<&str> = values(e).iter().map(String::as_str).collect();
            rec(e.name, e.rtype, &v)
        })
        .collect()
}

async fn scan(app: &App, id: &str, changed: BTreeSet<String>) -> ScanReport {
    app.scan(
        Sinks {
            store: app.services.store.as_ref(),
            metrics: None::<&zw_aws::metrics::CloudWatchSink>,
            events: None,
        },
        ScanLabel {
            scan_id: id.into(),
            trigger: "test".into(),
        },
        &ScanOptions {
            changed_zones: changed,
            retire_unmonitored: true,
            deadline: None,
            end: None,
            only: None,
            query_log_since: None,
        },
    )
    .await
}

/// What the corpus scans say about the servers' answers.
fn answer_findings(report: &ScanReport) -> BTreeSet<(String, FindingCode)> {
    use FindingCode::*;
    report
        .findings
        .iter()
        .filter(|f| {
            matches!(
                f.code,
                DnsRecordDrift | DnsRecordMissing | DnsNameserverUnreachable | DnsSoaSerialMismatch
            )
        })
        .map(|f| (f.resource.id.clone(), f.code))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route53_type_compares_clean_and_each_changed_value_drifts() {
    let env = Env::new().await;
    let r53 = aws_sdk_route53::Client::new(&env.sdk);
    let zone_id = zw_testkit::seed::create_zone(&r53, ZONE)
        .await
        .expect("zone");
    let entries = corpus();
    let types: BTreeSet<&str> = entries.iter().map(|e| e.rtype).collect();
    // Every type Route 53 accepts but the two the zone already has.
    assert_eq!(
        types.len() + 1,
        zw_core::model::rdata::ROUTE53_TYPES.len(),
        "{types:?} (SOA comes with the zone)"
    );
    // moto takes every type: a refusal fails here.
    dns_world::upsert(&r53, &zone_id, &records(&entries, |e| &e.route53))
        .await
        .expect("moto accepts every Route 53 type");
    let ns = dns_world::name_servers(&r53, &zone_id)
        .await
        .expect("name servers");

    let mut served = LabZone::new(ZONE).soa(&ns[0], "hostmaster.corpus.test.", 1);
    for n in &ns {
        served = served.ns("@", n);
    }
    for e in &entries {
        for v in &e.served {
            served = served.record(e.name, e.rtype, v);
        }
    }
    let child = LabZone::new("child.corpus.test.")
        .ns("@", "ns.child.corpus.test.")
        .record("@", "A", "192.0.2.50");
    let server = AuthServer::start(std::net::SocketAddr::new(loopback(), 0), vec![served])
        .expect("corpus server");
    let child_server = AuthServer::start(std::net::SocketAddr::new(loopback(), 0), vec![child])
        .expect("child server");
    let mut addresses: Vec<String> = ns
        .iter()
        .map(|n| format!("{n}={}", server.addr()))
        .collect();
    addresses.push(format!("ns.child.corpus.test.={}", child_server.addr()));
    let addresses = addresses.join(",");
    let vars = [
        // No parents on loopback: nothing is resolved from the root (no
        // delegation, CAA or target claims), which this test does not need.
        ("ZW_DNS_ROOT_HINTS", "127.0.0.1:9"),
        ("ZW_DNS_NAMESERVER_ADDRESSES", addresses.as_str()),
        ("ZW_DNS_TIMEOUT_MS", "300"),
        ("ZW_AWS_IP_RANGES_URL", "http://127.0.0.1:9/ip-ranges.json"),
    ];
    let app = App::new(config(&vars), &env.sdk, &[FamilyKind::DNS]).expect("app");

    let first = scan(&app, "corpus-1", BTreeSet::new()).await;
    assert!(!first.failed(), "{:?}", first.scan.errors);
    assert_eq!(
        answer_findings(&first),
        BTreeSet::new(),
        "the same data in Route 53 and on the server: {:#?}",
        first.findings
    );
    let ours: Vec<String> = first
        .scan
        .errors
        .iter()
        .map(ToString::to_string)
        .filter(|e| e.contains("dns-compare") || e.contains("GetHostedZoneLimit"))
        .collect();
    assert!(ours.is_empty(), "{ours:?}");
    // A zone this small cannot be near its quota: no GetHostedZoneLimit
    // call spent of Route 53's budget.
    assert!(
        !first
            .scan
            .api_calls
            .contains_key("route53:GetHostedZoneLimit"),
        "{:?}",
        first.scan.api_calls
    );
    assert_eq!(first.scan.count("zones_quota_assumed"), 0);
    // Where it is asked, moto answers 404: NotFound, which the family takes
    // as "assume the default" rather than a scan error.
    let calls = zw_aws::usage::ApiCallCounter::default();
    let collector = zw_aws::route53::Route53Collector::new(&env.sdk, 5.0, &calls);
    let e = collector
        .record_set_limit(&zone_id)
        .await
        .expect_err("moto does not answer GetHostedZoneLimit");
    assert_eq!(e.kind, zw_core::ErrorKind::NotFound, "{e}");
    assert_eq!(calls.calls().get("route53:GetHostedZoneLimit"), Some(&1));

    // One value changed per type in Route 53.
    let changed: Vec<&Entry> = entries.iter().filter(|e| e.changed.is_some()).collect();
    let recs: Vec<Rec<'_>> = changed
        .iter()
        .map(|e| {
            let v: Vec<&str> = e.changed.iter().flatten().map(String::as_str).collect();
            rec(e.name, e.rtype, &v)
        })
        .collect();
    dns_world::upsert(&r53, &zone_id, &recs)
        .await
        .expect("change");
    let second = scan(&app, "corpus-2", BTreeSet::from([zone_id.clone()])).await;
    let want: BTreeSet<(String, FindingCode)> = changed
        .iter()
        .map(|e| {
            (
                format!("{zone_id}/{}/{}", e.name, e.rtype),
                FindingCode::DnsRecordDrift,
            )
        })
        .collect();
    assert_eq!(want.len(), 15, "one change per type but NS and SOA");
    assert_eq!(answer_findings(&second), want, "{:#?}", second.findings);
    drop((server, child_server));
}
