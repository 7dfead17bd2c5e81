//! The Certificate Transparency watch end to end (`zw_testkit::ct_world`):
//! a zone in moto, its CAA from an authoritative server on loopback, the
//! search from a stand-in answering crt.sh's JSON over HTTPS on loopback
//! with a certificate of its own CA; the watch's state in the moto table
//! carried from one scan to the next.

use crate::support::{Env, config, open_findings as open, scan_once as scan};
use chrono::Duration;
use std::collections::BTreeSet;
use zw_app::{App, FamilyKind};
use zw_testkit::ct_world::{self, CT_ZONE, CtWorld, Logged};

fn app(env: &Env, world: &CtWorld, extra: &[(&str, &str)], kinds: &[FamilyKind]) -> App {
    let vars = world.vars();
    let mut vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    vars.extend_from_slice(extra);
    App::new(config(&vars), &env.sdk, kinds).expect("app")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unexpected_certificates_and_one_issued_against_the_caa_are_found_and_resolve() {
    let env = Env::new().await;
    let clock = || zw_core::ports::Clock::now(&zw_aws::SystemClock);
    let world = ct_world::ct_world(&env.sdk, clock())
        .await
        .expect("CT world");

    // Without a certificate inventory the watch judges nothing: its error
    // says to run the certificates scan first.
    let first = scan(&app(&env, &world, &[], &[FamilyKind::CT]), "ct-0").await;
    assert_eq!(open(&first), BTreeSet::new());
    assert!(
        first
            .scan
            .errors
            .iter()
            .any(|e| e.message.contains("certificates scan")),
        "{:?}",
        first.scan.errors
    );
    // The certificates scan writes the (empty) inventory.
    let certificates = scan(
        &app(&env, &world, &[], &[FamilyKind::CERTIFICATES]),
        "certs",
    )
    .await;
    assert!(
        certificates.scan.errors.is_empty(),
        "{:?}",
        certificates.scan.errors
    );

    let vendor = Logged::new(
        1000,
        "0abc",
        &["ct.test", "www.ct.test"],
        clock() - Duration::days(10),
    );
    // Answered because it ends like the apex, not below it.
    let neighbour = Logged::new(2000, "0def", &["notct.test"], clock() - Duration::days(5));
    world.log(&[vendor.clone(), neighbour.clone()]);
    let watch = app(&env, &world, &[], &[FamilyKind::CT]);
    let second = scan(&watch, "ct-1").await;
    assert!(second.scan.errors.is_empty(), "{:?}", second.scan.errors);
    assert_eq!(second.scan.families, ["ct"]);
    assert_eq!(
        open(&second),
        BTreeSet::from([(format!("{CT_ZONE}/abc"), "ct.unexpected-certificate")])
    );
    // The precertificate and the certificate count once.
    assert_eq!(second.scan.count("ct_certificates"), 1);
    // Only the apex left the account.
    assert_eq!(
        world.search.requests().last().map(String::as_str),
        Some("/search?q=%25ct.test&output=json&exclude=expired")
    );

    // A certificate logged since that search, by a CA the CAA does not
    // allow: a violation. It is too new to be judged unexpected (the
    // certificate inventory was written before it was logged).
    let rogue = Logged::new(3000, "0fed", &["login.ct.test"], clock());
    world.log(&[vendor.clone(), neighbour, rogue]);
    let third = scan(&watch, "ct-2").await;
    assert!(third.scan.errors.is_empty(), "{:?}", third.scan.errors);
    assert_eq!(
        open(&third),
        BTreeSet::from([
            (format!("{CT_ZONE}/abc"), "ct.unexpected-certificate"),
            (format!("{CT_ZONE}/fed"), "ct.caa-violation"),
        ])
    );
    assert_eq!(third.scan.count("ct_not_yet_known"), 1);
    let violation = third
        .findings
        .iter()
        .find(|f| f.code.id() == "ct.caa-violation")
        .expect("the violation");
    assert_eq!(violation.evidence["caa_at"], CT_ZONE);
    assert_eq!(
        violation.evidence["allowed"],
        serde_json::json!(["amazon.com"])
    );

    // The operator declares the vendor's CA expected: the unexpected
    // certificate resolves; the violation stays until its certificate ends.
    let fixed = app(
        &env,
        &world,
        &[("ZW_CT_EXPECTED_ISSUERS", "letsencrypt.org")],
        &[FamilyKind::CT],
    );
    let fourth = scan(&fixed, "ct-3").await;
    assert!(fourth.scan.errors.is_empty(), "{:?}", fourth.scan.errors);
    assert_eq!(
        open(&fourth),
        BTreeSet::from([(format!("{CT_ZONE}/fed"), "ct.caa-violation")])
    );
}

/// Off by default: no setting, no family (the egress contract test runs
/// the scans and checks that the stand-in receives nothing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_search_url_the_watch_is_not_even_prepared() {
    let env = Env::new().await;
    let now = zw_core::ports::Clock::now(&zw_aws::SystemClock);
    let world = ct_world::ct_world(&env.sdk, now).await.expect("CT world");
    let vars: Vec<(&str, String)> = world
        .vars()
        .into_iter()
        .filter(|(k, _)| *k != "ZW_CT_SEARCH_URL")
        .collect();
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = App::new(config(&vars), &env.sdk, &FamilyKind::all()).expect("app");
    assert!(!app.kinds().contains(&FamilyKind::CT), "{:?}", app.kinds());
    assert!(app.kinds().contains(&FamilyKind::MAIL));
    assert!(world.search.requests().is_empty());
}
