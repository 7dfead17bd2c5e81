//! The mail family end to end (`zw_testkit::mail_world`): hosted zones and
//! an SES domain identity in moto, the internet's answers from an
//! authoritative server on loopback (an SPF include chain past the lookup
//! limit, DMARC, MTA-STS), the MTA-STS policy from an HTTPS server on
//! loopback with its own CA, through the application layer `scan-endpoints`
//! and the CLI use.
//!
//! moto's SES identities carry no DKIM tokens: `mail.dkim-ses-*` are
//! covered by the rule tests only; here the identity is read and its name
//! examined.

use crate::support::{Env, config, open_findings as open, scan_once as scan};
use std::collections::BTreeSet;
use zw_app::{App, FamilyKind};
use zw_testkit::mail_world::{self, MailWorld};

fn mail_app(env: &Env, world: &MailWorld) -> App {
    let vars = world.vars();
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    App::new(config(&vars), &env.sdk, &[FamilyKind::MAIL]).expect("app")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spf_over_the_limit_dmarc_mta_sts_and_a_spoofable_name_are_found_and_fixes_resolve_them() {
    let env = Env::new().await;
    let now = zw_core::ports::Clock::now(&zw_aws::SystemClock);
    let mut world = mail_world::mail_world(&env.sdk, now)
        .await
        .expect("mail world");

    // Scan 1: the broken estate.
    let first = scan(&mail_app(&env, &world), "mail-1").await;
    assert!(first.scan.errors.is_empty(), "{:?}", first.scan.errors);
    assert_eq!(first.scan.families, ["mail"]);
    // Both apexes and the SES identity's name.
    assert_eq!(first.scan.count("mail_names"), 3, "{:?}", first.scan.counts);
    assert_eq!(first.scan.count("ses_identities"), 1);
    let expected: BTreeSet<(String, &str)> = mail_world::EXPECTED
        .iter()
        .map(|(r, c)| ((*r).to_owned(), *c))
        .collect();
    assert_eq!(open(&first), expected);
    let find = |code: &str| {
        first
            .findings
            .iter()
            .find(|f| f.code.id() == code)
            .unwrap_or_else(|| panic!("{code}"))
    };
    let too_many = find("mail.spf-too-many-lookups");
    assert_eq!(too_many.evidence["lookups"], 11);
    assert_eq!(too_many.evidence["tree"]["total"], 11);
    assert_eq!(
        find("mail.mta-sts-broken").evidence["uncovered_mx"],
        serde_json::json!(["mx2.mail.test"])
    );

    // Scan 2: the records corrected; every finding resolves.
    world.fix().expect("fixed records");
    let second = scan(&mail_app(&env, &world), "mail-2").await;
    assert!(second.scan.errors.is_empty(), "{:?}", second.scan.errors);
    assert_eq!(open(&second), BTreeSet::new());
    let _ = std::fs::remove_file(&world.roots_file);
}
