//! The probe against loopback lab servers: pipelining, iterative walks
//! (root -> TLD -> zone), and servers that misbehave.

#![expect(
    clippy::unwrap_used,
    reason = "the lab set-up helpers fail the test by panicking, like the tests"
)]

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use zw_core::families::dns::model::{
    DelegationOutcome, QueryFailure, Question, Resolution, ResponseCode,
};
use zw_core::families::dns::ports::DnsProbe;
use zw_core::probe_scope::ProbeScope;
use zw_dns::{Probe, ProbeSettings};
use zw_dns_lab::{
    ANSWER_ADDRESS, AuthServer, LabZone, Misbehaving, MisbehavingKind, random_loopback_ip,
};

const DS: &str = "12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF";

fn q(name: &str, rtype: &str) -> Question {
    Question {
        name: name.into(),
        rtype: rtype.into(),
    }
}

fn settings(roots: Vec<SocketAddr>, timeout_ms: u64) -> ProbeSettings {
    ProbeSettings {
        root_hints: roots,
        timeout: Duration::from_millis(timeout_ms),
        step_timeout: Duration::from_secs(20),
        // The world's glue is on loopback.
        scope: ProbeScope::parse("127.0.0.0/8").unwrap_or_else(|e| panic!("{e}")),
        ..ProbeSettings::default()
    }
}

/// root (.) -> test. -> example.test. on port 53 of random loopback
/// addresses (glue carries no port), plus hosting.test. which also serves
/// glueless.test. (its NS has no glue) and a lame delegation.
struct World {
    root: AuthServer,
    _tld: AuthServer,
    zone: AuthServer,
    hosting: AuthServer,
}

fn ip(server: &AuthServer) -> IpAddr {
    server.addr().ip()
}

fn world() -> World {
    let zone = AuthServer::start_on_port_53(vec![
        LabZone::new("example.test.")
            .soa("ns1.example.test.", "hostmaster.example.test.", 7)
            .ns("@", "ns1.example.test.")
            .record("www", "A", "192.0.2.10")
            .record("www", "AAAA", "2001:db8::10")
            .record("alias", "CNAME", "www")
            .record("chain1", "CNAME", "alias")
            .record("dangling", "CNAME", "nothere.example.test.")
            .record("out", "CNAME", "www.glueless.test.")
            .record("loop1", "CNAME", "loop2")
            .record("loop2", "CNAME", "loop1")
            .record("@", "MX", "10 Mail.example.test.")
            .record("@", "TXT", "\"v=spf1 -all\"")
            .record("@", "CAA", "0 issue \"amazon.com\"")
            .record("_sip._tcp", "SRV", "1 2 5060 sip.example.test."),
    ])
    .unwrap();
    let hosting_zone = |hosting_ip: IpAddr| {
        vec![
            LabZone::from_text(
                "hosting.test.",
                &format!(
                    "$TTL 600\n\
                     @  IN SOA ns hostmaster 1 7200 3600 1209600 300\n\
                     @  IN NS  ns\n\
                     ns IN A   {hosting_ip}\n"
                ),
            ),
            LabZone::new("glueless.test.")
                .ns("@", "ns.hosting.test.")
                .record("www", "A", "192.0.2.20"),
        ]
    };
    // The hosting server's zones name its own address: bind first, then
    // serve (the address is chosen before the zone text is made).
    let hosting = loop {
        let candidate = random_loopback_ip();
        if let Ok(server) =
            AuthServer::start(SocketAddr::new(candidate, 53), hosting_zone(candidate))
        {
            break server;
        }
    };
    let lame_ip = random_loopback_ip();
    let tld = AuthServer::start_on_port_53(vec![
        LabZone::new("test.")
            .ns("@", "a.nic.test.")
            .ns("example", "ns1.example.test.")
            .record("ns1.example", "A", &ip(&zone).to_string())
            .record("example", "DS", DS)
            .ns("hosting", "ns.hosting.test.")
            .record("ns.hosting", "A", &ip(&hosting).to_string())
            .ns("glueless", "ns.hosting.test.")
            .ns("lame", "ns.lame.test.")
            .record("ns.lame", "A", &lame_ip.to_string()),
    ])
    .unwrap();
    let root = AuthServer::start_on_port_53(vec![
        LabZone::new(".")
            .ns("@", "a.root-servers.test.")
            .ns("test.", "a.nic.test.")
            .record("a.nic.test.", "A", &ip(&tld).to_string()),
    ])
    .unwrap();
    World {
        root,
        _tld: tld,
        zone,
        hosting,
    }
}

fn probe(world: &World) -> Probe {
    Probe::new(settings(vec![world.root.addr()], 300))
}

#[tokio::test]
async fn delegation_found_at_the_parent_with_ds() {
    let w = world();
    let d = probe(&w).delegation("Example.Test").await;
    assert_eq!(d.zone, "example.test.");
    assert_eq!(d.parent, "test.");
    assert_eq!(d.parent_servers, vec!["a.nic.test.".to_owned()]);
    assert_eq!(
        d.outcome,
        DelegationOutcome::Delegated {
            name_servers: vec!["ns1.example.test.".into()]
        }
    );
    assert_eq!(d.ds_records, vec![DS.to_owned()]);
}

/// Glue and name-server addresses come from zone data: off the internet
/// (here loopback) they are not asked unless the scope allows them, and the
/// refusal is ours (`Unsupported`), never a failure of the server. The root
/// hints, named by the operator, are asked all the same.
#[tokio::test]
async fn glue_off_the_internet_is_not_asked_by_default() {
    let w = world();
    let p = Probe::new(ProbeSettings {
        scope: ProbeScope::default(),
        ..settings(vec![w.root.addr()], 300)
    });
    assert_eq!(
        p.may_probe(w.root.addr()),
        Ok(()),
        "an operator's root hint"
    );
    let why = p.may_probe(w.zone.addr()).expect_err("loopback glue");
    assert!(why.contains("loopback"), "{why}");
    let d = p.delegation("example.test.").await;
    assert!(
        !matches!(d.outcome, DelegationOutcome::Delegated { .. }),
        "{d:?}"
    );
    let stats = p.stats();
    assert_eq!(
        stats.per_server[&w.root.addr()].queries_sent,
        1,
        "the root was asked"
    );
    assert!(
        !stats.per_server.contains_key(&w.zone.addr()),
        "nothing sent to the refused address: {:?}",
        stats.per_server.keys()
    );
    let Resolution::Failed { reason } = p.resolve("www.example.test.", "A").await else {
        panic!("resolution through refused glue cannot succeed");
    };
    assert!(reason.contains("not asked"), "{reason}");
}

#[tokio::test]
async fn walks_start_at_the_closest_zone_already_known() {
    let w = world();
    let p = probe(&w);
    assert!(matches!(
        p.resolve("www.example.test.", "A").await,
        Resolution::Answer { .. }
    ));
    let root_queries = |p: &Probe| p.stats().per_server[&w.root.addr()].queries_sent;
    assert_eq!(root_queries(&p), 1);
    // Same zone, another name and a delegation below test.: no root query.
    assert!(matches!(
        p.resolve("alias.example.test.", "A").await,
        Resolution::Answer { .. }
    ));

    let d = p.delegation("example.test.").await;
    assert_eq!(d.parent, "test.");
    assert!(matches!(d.outcome, DelegationOutcome::Delegated { .. }));
    assert_eq!(root_queries(&p), 1);
    // Clones share what was learned.
    let _ = p.clone().resolve("www.glueless.test.", "A").await;
    assert_eq!(root_queries(&p), 1);
}

#[tokio::test]
async fn delegation_to_other_servers_without_glue() {
    let w = world();
    let d = probe(&w).delegation("glueless.test.").await;
    assert_eq!(d.parent, "test.");
    assert_eq!(
        d.outcome,
        DelegationOutcome::Delegated {
            name_servers: vec!["ns.hosting.test.".into()]
        }
    );
    assert!(d.ds_records.is_empty());
}

#[tokio::test]
async fn no_delegation_is_nxdomain_or_nodata_from_the_parent() {
    let w = world();
    let p = probe(&w);
    let d = p.delegation("missing.test.").await;
    assert_eq!(d.parent, "test.");
    assert_eq!(
        d.outcome,
        DelegationOutcome::NotDelegated {
            rcode: ResponseCode::NxDomain
        }
    );
    // www exists in example.test. but is no zone: NODATA from its parent.
    let d = p.delegation("www.example.test.").await;
    assert_eq!(d.parent, "example.test.");
    assert_eq!(
        d.outcome,
        DelegationOutcome::NotDelegated {
            rcode: ResponseCode::NoError
        }
    );
}

#[tokio::test]
async fn lame_parent_is_unknown_in_bounded_time() {
    let w = world();
    let p = probe(&w);
    let started = Instant::now();
    let d = p.delegation("sub.lame.test.").await;
    assert_eq!(d.parent, "lame.test.");
    let DelegationOutcome::Unknown { reason } = &d.outcome else {
        panic!("expected Unknown, got {:?}", d.outcome);
    };
    assert!(reason.contains("ns.lame.test."), "{reason}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn unreachable_root_is_unknown_within_the_timeouts() {
    let silent = Misbehaving::start(MisbehavingKind::Silent).unwrap();
    let p = Probe::new(settings(vec![silent.addr()], 200));
    let started = Instant::now();
    let d = p.delegation("example.test.").await;
    let DelegationOutcome::Unknown { reason } = &d.outcome else {
        panic!("expected Unknown, got {:?}", d.outcome);
    };
    assert!(reason.contains("timed out"), "{reason}");
    // One server, one retry: two timeouts, well under five.
    assert!(
        started.elapsed() < Duration::from_millis(1000),
        "{:?}",
        started.elapsed()
    );
    let r = p.resolve("www.example.test.", "A").await;
    assert!(matches!(r, Resolution::Failed { .. }), "{r:?}");
}

#[tokio::test]
async fn resolve_follows_cname_chains() {
    let w = world();
    let p = probe(&w);
    let Resolution::Answer {
        records,
        cname_chain,
    } = p.resolve("chain1.example.test.", "A").await
    else {
        panic!("expected an answer");
    };
    assert_eq!(
        cname_chain,
        vec!["alias.example.test.", "www.example.test."]
    );
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].name, "www.example.test.");
    assert_eq!(records[0].data, "192.0.2.10");
    // Across zones: the chain leaves example.test. for glueless.test.
    let r = p.resolve("out.example.test.", "A").await;
    let Resolution::Answer {
        records,
        cname_chain,
    } = r
    else {
        panic!("expected an answer, got {r:?}");
    };
    assert_eq!(cname_chain, vec!["www.glueless.test."]);
    assert_eq!(records[0].data, "192.0.2.20");
}

#[tokio::test]
async fn resolve_reports_nxdomain_nodata_and_loops() {
    let w = world();
    let p = probe(&w);
    assert_eq!(
        p.resolve("nothere.example.test.", "A").await,
        Resolution::NxDomain {
            cname_chain: vec![]
        }
    );
    assert_eq!(
        p.resolve("dangling.example.test.", "A").await,
        Resolution::NxDomain {
            cname_chain: vec!["nothere.example.test.".into()]
        }
    );
    assert_eq!(
        p.resolve("www.example.test.", "MX").await,
        Resolution::NoData {
            cname_chain: vec![]
        }
    );
    assert_eq!(
        p.resolve("nope.missing.test.", "A").await,
        Resolution::NxDomain {
            cname_chain: vec![]
        }
    );
    let r = p.resolve("loop1.example.test.", "A").await;
    let Resolution::Failed { reason } = r else {
        panic!("expected a failure, got {r:?}");
    };
    assert!(reason.contains("loop"), "{reason}");
    assert!(matches!(
        p.resolve("www.example.test.", "NOSUCHTYPE").await,
        Resolution::Failed { .. }
    ));
}

#[tokio::test]
async fn server_addresses_prefer_overrides_then_resolve() {
    let w = world();
    let p = probe(&w);
    assert_eq!(
        p.server_addresses("NS.Hosting.test").await.unwrap(),
        vec![SocketAddr::new(ip(&w.hosting), 53)]
    );
    // Glue at the parent is not an answer: the zone itself has no such name.
    let e = p.server_addresses("ns1.example.test.").await.unwrap_err();
    assert!(
        matches!(&e, QueryFailure::Network(m) if m.contains("NXDOMAIN")),
        "{e:?}"
    );
    assert!(p.server_addresses("ns.nowhere.test.").await.is_err());

    let mut s = settings(vec![w.root.addr()], 300);
    let pinned: SocketAddr = "127.0.0.1:5353".parse().unwrap();
    s.nameserver_addresses = BTreeMap::from([("ns1.example.test.".to_owned(), vec![pinned])]);
    let p = Probe::new(s);
    assert_eq!(
        p.server_addresses("ns1.example.test.").await.unwrap(),
        vec![pinned]
    );
}

#[tokio::test]
async fn ask_returns_presentation_format_in_question_order() {
    let w = world();
    let p = probe(&w);
    let questions = vec![
        q("example.test.", "MX"),
        q("example.test.", "TXT"),
        q("EXAMPLE.test", "CAA"),
        q("example.test.", "SOA"),
        q("_sip._tcp.example.test.", "SRV"),
        q("www.example.test.", "AAAA"),
        q("alias.example.test.", "CNAME"),
        q("nothere.example.test.", "A"),
        q("www.example.test.", "BOGUS"),
    ];
    let obs = p.ask(w.zone.addr(), &questions, true).await;
    assert_eq!(obs.len(), questions.len());
    let data = |i: usize| -> Vec<String> {
        let answer = obs[i].outcome.as_ref().unwrap();
        assert!(answer.authoritative);
        answer.answers.iter().map(|r| r.data.clone()).collect()
    };
    assert_eq!(data(0), vec!["10 mail.example.test."]);
    assert_eq!(data(1), vec!["\"v=spf1 -all\""]);
    assert_eq!(data(2), vec!["0 issue \"amazon.com\""]);
    assert_eq!(
        data(3),
        vec!["ns1.example.test. hostmaster.example.test. 7 7200 3600 1209600 300"]
    );
    assert_eq!(data(4), vec!["1 2 5060 sip.example.test."]);
    assert_eq!(data(5), vec!["2001:db8::10"]);
    assert_eq!(data(6), vec!["www.example.test."]);
    for (i, o) in obs.iter().enumerate() {
        assert_eq!(o.question, questions[i]);
        assert_eq!(o.server, w.zone.addr());
    }
    assert_eq!(
        obs[0].outcome.as_ref().unwrap().answers[0].name,
        "example.test."
    );
    assert!(obs[0].latency_us > 0);
    assert_eq!(
        obs[7].outcome.as_ref().unwrap().rcode,
        ResponseCode::NxDomain
    );
    // A type the probe cannot ask is its own limitation, not the server's.
    assert!(matches!(obs[8].outcome, Err(QueryFailure::Unsupported(_))));
    assert_eq!(obs[8].latency_us, 0);
    // A handful of questions needs one socket.
    assert_eq!(p.open_sockets(), 1);
    let stats = p.stats();
    assert_eq!(stats.per_server[&w.zone.addr()].queries_sent, 8);
    assert_eq!(stats.per_server[&w.zone.addr()].answers, 8);
}

/// Every type Route 53 serves, asked of a real server and read off the wire
/// into the canonical form the rules compare (regressions: SPF could not be
/// asked at all; HTTPS `alpn` came back with a trailing comma).
#[tokio::test]
async fn every_route53_type_is_asked_and_read_in_canonical_form() {
    let server = AuthServer::start(
        SocketAddr::new(zw_dns_lab::loopback(), 0),
        vec![
            LabZone::new("types.test.")
                .record("@", "SPF", "\"v=spf1 \" \"include:_spf.example.com -all\"")
                // UTF-8 as is: hickory's zone-file lexer misreads `\DDD`.
                .record("@", "TXT", "\"a \\\"quoted\\\" é\" \"second\"")
                .record("@", "CAA", "0 iodef \"mailto:security@example.com\"")
                .record(
                    "@",
                    "NAPTR",
                    "100 50 \"U\" \"E2U+sip\" \"!^.*$!sip:info@example.com!\" .",
                )
                .record("@", "HTTPS", "1 . alpn=h3,h2 ipv4hint=192.0.2.1")
                .record(
                    "_dns",
                    "SVCB",
                    // In key order: hickory serves SvcParams as written and
                    // fails on any other order (the canonical form's table
                    // tests cover other orders).
                    "1 doh.Example.com. mandatory=port,alpn alpn=h2 port=8443 ech=AAEC",
                )
                .record("host", "SSHFP", "4 2 ABCDEF0123")
                .record("_443._tcp", "TLSA", "3 1 1 0d6fce3320c8")
                .record("child", "DS", DS),
        ],
    )
    .unwrap();
    let p = Probe::new(settings(vec![], 1000));
    let asked = [
        (
            "types.test.",
            "SPF",
            "\"v=spf1 include:_spf.example.com -all\"",
        ),
        (
            "types.test.",
            "TXT",
            "\"a \\\"quoted\\\" \\195\\169second\"",
        ),
        (
            "types.test.",
            "CAA",
            "0 iodef \"mailto:security@example.com\"",
        ),
        (
            "types.test.",
            "NAPTR",
            "100 50 \"u\" \"E2U+sip\" \"!^.*$!sip:info@example.com!\" .",
        ),
        (
            "types.test.",
            "HTTPS",
            "1 . alpn=\"h3,h2\" ipv4hint=192.0.2.1",
        ),
        (
            "_dns.types.test.",
            "SVCB",
            "1 doh.example.com. mandatory=alpn,port alpn=\"h2\" port=8443 ech=AAEC",
        ),
        ("host.types.test.", "SSHFP", "4 2 ABCDEF0123"),
        ("_443._tcp.types.test.", "TLSA", "3 1 1 0D6FCE3320C8"),
        ("child.types.test.", "DS", DS),
    ];
    let questions: Vec<Question> = asked.iter().map(|(n, t, _)| q(n, t)).collect();
    let obs = p.ask(server.addr(), &questions, false).await;
    for ((name, rtype, want), o) in asked.iter().zip(&obs) {
        let answer = o
            .outcome
            .as_ref()
            .unwrap_or_else(|e| panic!("{name} {rtype}: {e:?}"));
        assert!(answer.authoritative, "{name} {rtype}");
        let data: Vec<(&str, &str)> = answer
            .answers
            .iter()
            .map(|r| (r.rtype.as_str(), r.data.as_str()))
            .collect();
        assert_eq!(data, vec![(*rtype, *want)], "{name} {rtype}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_questions_pipelined_to_one_server() {
    let mut zone = LabZone::new("bulk.test.");
    for i in 0..2_000 {
        zone = zone.record(&format!("h{i}"), "A", "192.0.2.1");
    }
    let server = AuthServer::start(SocketAddr::new(zw_dns_lab::loopback(), 0), vec![zone]).unwrap();
    let p = Probe::new(settings(vec![], 1500));
    let questions: Vec<Question> = (0..10_000)
        .map(|i| q(&format!("h{}.bulk.test.", i % 2_000), "A"))
        .collect();
    let started = Instant::now();
    let obs = p.ask(server.addr(), &questions, false).await;
    let elapsed = started.elapsed();
    let ok = obs.iter().filter(|o| o.outcome.is_ok()).count();
    assert_eq!(ok, 10_000, "{:?}", p.stats().total);
    // Debug build on 2 shared cores: generous; the release bench measures.
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
    assert_eq!(p.stats().total.queries_sent, 10_000);
    // A full window of questions spread over the configured sockets.
    assert_eq!(p.open_sockets(), 4);
}

#[tokio::test]
async fn rate_limit_spaces_queries() {
    let w = world();
    let mut s = settings(vec![w.root.addr()], 300);
    s.qps_per_server = 100;
    let p = Probe::new(s);
    let questions: Vec<Question> = (0..30).map(|_| q("www.example.test.", "A")).collect();
    let started = Instant::now();
    let obs = p.ask(w.zone.addr(), &questions, false).await;
    assert!(obs.iter().all(|o| o.outcome.is_ok()));
    // 30 queries at 100/s: at least ~290 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn phase_deadline_skips_what_comes_after_it() {
    let w = world();
    let p = probe(&w).with_deadline(std::time::Instant::now());
    let obs = p
        .ask(w.zone.addr(), &[q("www.example.test.", "A")], false)
        .await;
    assert_eq!(obs[0].outcome, Err(QueryFailure::Skipped));
    assert!(matches!(
        p.resolve("www.example.test.", "A").await,
        Resolution::Failed { .. }
    ));
    assert_eq!(
        p.server_addresses("ns1.example.test.").await,
        Err(QueryFailure::Skipped)
    );
    assert_eq!(p.stats().total.queries_sent, 0);
}

async fn ask_misbehaving(
    kind: MisbehavingKind,
    timeout_ms: u64,
) -> (
    Misbehaving,
    Probe,
    zw_core::families::dns::model::Observation,
    Duration,
) {
    let server = Misbehaving::start(kind).unwrap();
    let p = Probe::new(settings(vec![], timeout_ms));
    let started = Instant::now();
    let mut obs = p
        .ask(server.addr(), &[q("www.example.test.", "A")], false)
        .await;
    let elapsed = started.elapsed();
    (server, p, obs.remove(0), elapsed)
}

#[tokio::test]
async fn silent_server_times_out_after_one_retry() {
    let (server, p, obs, elapsed) = ask_misbehaving(MisbehavingKind::Silent, 200).await;
    assert_eq!(obs.outcome, Err(QueryFailure::Timeout));
    assert_eq!(obs.latency_us, 0);
    assert!(elapsed >= Duration::from_millis(380), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(1000), "{elapsed:?}");
    assert_eq!(server.queries_received(), 2);
    assert_eq!(p.stats().total.timeouts, 1);
}

#[tokio::test]
async fn wrong_id_is_ignored_and_times_out() {
    let (_server, p, obs, elapsed) = ask_misbehaving(MisbehavingKind::WrongId, 200).await;
    assert_eq!(obs.outcome, Err(QueryFailure::Timeout));
    assert!(elapsed < Duration::from_millis(1000), "{elapsed:?}");
    assert_eq!(p.stats().total.stray, 2);
}

/// Record data hickory cannot decode (here an ALPN id that is not UTF-8,
/// which RFC 9460 allows) is the probe's limitation, not a broken server.
#[tokio::test]
async fn record_data_the_probe_cannot_read_is_unsupported_not_malformed() {
    let (_server, p, obs, elapsed) = ask_misbehaving(MisbehavingKind::UnreadableData, 2000).await;
    match &obs.outcome {
        Err(QueryFailure::Unsupported(why)) => {
            assert!(why.contains("HTTPS record data"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    assert!(elapsed < Duration::from_millis(1500), "{elapsed:?}");
    assert_eq!(p.stats().total.unsupported, 1);
    assert_eq!(p.stats().total.malformed, 0);
}

#[tokio::test]
async fn garbage_and_pointer_loops_are_malformed() {
    for kind in [MisbehavingKind::Garbage, MisbehavingKind::PointerLoop] {
        let (_server, _p, obs, elapsed) = ask_misbehaving(kind, 2000).await;
        assert!(
            matches!(obs.outcome, Err(QueryFailure::Malformed(_))),
            "{kind:?}: {:?}",
            obs.outcome
        );
        // Failed on the first answer, not by waiting out the timeout.
        assert!(
            elapsed < Duration::from_millis(1500),
            "{kind:?}: {elapsed:?}"
        );
    }
}

#[tokio::test]
async fn truncated_answers_are_asked_again_over_tcp() {
    let (_server, p, obs, _) = ask_misbehaving(MisbehavingKind::Truncated, 500).await;
    let answer = obs.outcome.unwrap();
    assert_eq!(answer.answers[0].data, ANSWER_ADDRESS.to_string());
    assert!(obs.latency_us > 0);
    let stats = p.stats().total;
    assert_eq!((stats.truncated, stats.queries_sent), (1, 2));
}

#[tokio::test]
async fn tcp_that_never_answers_or_stalls_costs_its_timeout() {
    for kind in [MisbehavingKind::TcpSilent, MisbehavingKind::TcpStall] {
        let (server, _p, obs, elapsed) = ask_misbehaving(kind, 200).await;
        assert_eq!(obs.outcome, Err(QueryFailure::Timeout), "{kind:?}");
        assert!(
            elapsed >= Duration::from_millis(190),
            "{kind:?}: {elapsed:?}"
        );
        assert!(
            elapsed < Duration::from_millis(1000),
            "{kind:?}: {elapsed:?}"
        );
        assert_eq!(server.queries_received(), 2, "{kind:?}: one UDP, one TCP");
    }
}

#[tokio::test]
async fn refused_tcp_connection_is_a_network_failure() {
    let (_server, _p, obs, elapsed) = ask_misbehaving(MisbehavingKind::TcpRefused, 2000).await;
    assert!(
        matches!(&obs.outcome, Err(QueryFailure::Network(m)) if m.contains("TCP connect")),
        "{:?}",
        obs.outcome
    );
    assert!(elapsed < Duration::from_millis(1500), "{elapsed:?}");
}

#[tokio::test]
async fn closed_udp_port_fails_fast_as_network() {
    // Bind, note the port, close: ICMP port unreachable comes back.
    let addr = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let p = Probe::new(settings(vec![], 2000));
    let started = Instant::now();
    let obs = p.ask(addr, &[q("www.example.test.", "A")], false).await;
    assert!(
        matches!(obs[0].outcome, Err(QueryFailure::Network(_))),
        "{:?}",
        obs[0].outcome
    );
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn refused_and_non_authoritative_answers_are_observations() {
    let (_s, _p, obs, _) = ask_misbehaving(MisbehavingKind::Refused, 500).await;
    let answer = obs.outcome.unwrap();
    assert_eq!(answer.rcode, ResponseCode::Refused);
    assert!(answer.answers.is_empty());

    let (_s, _p, obs, _) = ask_misbehaving(MisbehavingKind::NotAuthoritative, 500).await;
    let answer = obs.outcome.unwrap();
    assert!(!answer.authoritative);
    assert_eq!(answer.answers.len(), 1);
}

#[tokio::test]
async fn walks_skip_refusing_and_non_authoritative_servers() {
    let w = world();
    let refused = Misbehaving::start(MisbehavingKind::Refused).unwrap();
    let not_auth = Misbehaving::start(MisbehavingKind::NotAuthoritative).unwrap();
    let p = Probe::new(settings(
        vec![refused.addr(), not_auth.addr(), w.root.addr()],
        300,
    ));
    let d = p.delegation("example.test.").await;
    assert_eq!(
        d.outcome,
        DelegationOutcome::Delegated {
            name_servers: vec!["ns1.example.test.".into()]
        }
    );
    assert!(refused.queries_received() >= 1);
    assert!(not_auth.queries_received() >= 1);
}
