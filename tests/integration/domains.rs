//! The domains family against moto's Route 53 Domains: what moto can
//! produce (`domain.auto-renew-off`, `domain.privacy-off`,
//! `domain.nameservers-mismatch` and its resolution), that every call it
//! makes is one its roles allow, and that moto's missing
//! `GetContactReachabilityStatus` is a scan error that leaves the contact
//! findings alone. See `zw_testkit::domains` for what moto cannot produce;
//! the rule tests in zw-core cover those codes on fixed observations.

use crate::support::{Env, config, scan_once as scan};
use std::collections::BTreeSet;
use zw_app::{App, FamilyKind};
use zw_core::ScanReport;
use zw_core::ports::ApiUsage;

fn open(report: &ScanReport) -> BTreeSet<(String, &'static str)> {
    report
        .findings
        .iter()
        .filter(|f| f.state == zw_core::finding::FindingState::Open)
        .map(|f| (f.resource.id.clone(), f.code.id()))
        .collect()
}

/// Every action a role of a CloudFormation template names (its statements
/// are all `Allow`: the template tests check that).
pub(crate) fn role_actions(file: &str, role: &str) -> BTreeSet<String> {
    let path = format!("{}/../{file}", env!("CARGO_MANIFEST_DIR"));
    let t: serde_norway::Value =
        serde_norway::from_str(&std::fs::read_to_string(path).expect(file)).expect("YAML");
    let mut out = Vec::new();
    crate::template::actions_in(&t["Resources"][role], &mut out);
    assert!(!out.is_empty(), "{file}: no role {role}");
    out.into_iter().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_are_judged_and_a_fixed_delegation_resolves() {
    let env = Env::new().await;
    let [problem, kept] = zw_testkit::domains::register_demo_domains(&env.sdk)
        .await
        .expect("domains");
    let app = App::new(config(&[]), &env.sdk, &[FamilyKind::DOMAINS]).expect("app");

    let first = scan(&app, "domains-1").await;
    assert_eq!(first.scan.families, ["domains"]);
    assert_eq!(first.scan.counts["domains"], 2);
    assert_eq!(first.scan.counts["domain_zones"], 2);
    let expected: BTreeSet<(String, &str)> = [
        (problem.clone(), "domain.auto-renew-off"),
        (problem.clone(), "domain.privacy-off"),
        // moto's `awscdn` servers are not the zone's delegation set.
        (problem.clone(), "domain.nameservers-mismatch"),
        (kept.clone(), "domain.nameservers-mismatch"),
    ]
    .into_iter()
    .collect();
    assert_eq!(open(&first), expected);
    // moto answers GetContactReachabilityStatus with a 500: one scan error
    // per domain, our limitation here, never a finding.
    let errors: Vec<String> = first.scan.errors.iter().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(
        errors
            .iter()
            .all(|e| e.contains("GetContactReachabilityStatus")),
        "{errors:#?}"
    );
    let mismatch = first
        .findings
        .iter()
        .find(|f| f.resource.id == kept && f.code.id() == "domain.nameservers-mismatch")
        .expect("mismatch");
    assert!(
        mismatch.evidence["registrar_name_servers"]
            .to_string()
            .contains("awscdn"),
        "{}",
        mismatch.evidence
    );

    // Every call the family made is one its roles allow: the certificate
    // function's (single mode) and the member role (organization mode).
    let calls = app.services.calls.calls();
    let used: BTreeSet<String> = calls
        .keys()
        .filter(|k| !k.starts_with("dynamodb:"))
        .map(|k| {
            let (service, op) = k.split_once(':').expect("service:Operation");
            format!("{service}:{op}")
        })
        .collect();
    assert!(used.contains("route53domains:GetDomainDetail"), "{used:?}");
    assert!(used.contains("route53:GetHostedZone"), "{used:?}");
    for (file, role) in [
        ("template.yaml", "ScanCertificatesRole"),
        ("infra/org/member-role.yaml", "MemberRole"),
    ] {
        let allowed = role_actions(file, role);
        for call in &used {
            assert!(
                allowed.contains(call),
                "{file} {role} does not allow {call}"
            );
        }
    }

    // The kept domain delegated to its zone: that finding resolves, the
    // other domain's stay.
    zw_testkit::domains::delegate_to_zone(&env.sdk, &kept)
        .await
        .expect("delegate");
    let second = scan(&app, "domains-2").await;
    let mut still = expected.clone();
    still.remove(&(kept.clone(), "domain.nameservers-mismatch"));
    assert_eq!(open(&second), still);
    assert_eq!(second.scan.resolved, 1, "{:?}", second.scan);
}
