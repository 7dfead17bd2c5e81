//! The private CA family against moto's ACM Private CA: a CA waiting for
//! its certificate, one whose certificate ends in 10 days, a disabled one
//! and a healthy one (`zw_testkit::private_ca`); then the disabled one
//! restored resolves `pca.ca-disabled`. Every call the family makes is one
//! its roles allow. moto reports every CA in short-lived certificate mode,
//! which needs no revocation: `pca.no-revocation` is covered by the rule
//! tests only.

use crate::support::{Env, REGIONS, config, scan_once as scan};
use std::collections::BTreeSet;
use zw_app::{App, FamilyKind};
use zw_core::ports::ApiUsage;
use zw_core::{ScanReport, Severity};

fn open(report: &ScanReport) -> BTreeSet<(String, &'static str, Severity)> {
    report
        .findings
        .iter()
        .filter(|f| f.state == zw_core::finding::FindingState::Open)
        .map(|f| (f.resource.id.clone(), f.code.id(), f.severity))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_ca_state_is_found_and_turning_ocsp_on_resolves_one() {
    let env = Env::new().await;
    let now = zw_core::ports::Clock::now(&zw_aws::SystemClock);
    let region = REGIONS[0];
    let cas = zw_testkit::private_ca::seed(&env.sdk, region, now)
        .await
        .expect("CAs");
    let app = App::new(config(&[]), &env.sdk, &[FamilyKind::PRIVATE_CA]).expect("app");

    let first = scan(&app, "pca-1").await;
    let errors: Vec<String> = first.scan.errors.iter().map(ToString::to_string).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(first.scan.families, ["private-ca"]);
    assert_eq!(first.scan.counts["certificate_authorities"], 4);
    let expected: BTreeSet<(String, &str, Severity)> = [
        (
            cas.pending.clone(),
            "pca.ca-pending-certificate",
            Severity::Medium,
        ),
        (cas.expiring.clone(), "pca.ca-expiring", Severity::High),
        (cas.disabled.clone(), "pca.ca-disabled", Severity::Medium),
    ]
    .into_iter()
    .collect();
    assert_eq!(open(&first), expected);
    // The CA near its end made the family read the region's ACM
    // certificates (none of them issued by it here).
    let expiring = first
        .findings
        .iter()
        .find(|f| f.code.id() == "pca.ca-expiring")
        .expect("expiring");
    assert_eq!(expiring.evidence["issued_beyond"], serde_json::json!([]));
    assert_eq!(expiring.evidence["days_left"], 10);

    // Every call is one the certificate function's role and the member
    // role allow.
    let used: BTreeSet<String> = app
        .services
        .calls
        .calls()
        .into_keys()
        .filter(|k| !k.starts_with("dynamodb:"))
        .collect();
    assert!(
        used.contains("acm-pca:ListCertificateAuthorities"),
        "{used:?}"
    );
    for (file, role) in [
        ("template.yaml", "ScanCertificatesRole"),
        ("infra/org/member-role.yaml", "MemberRole"),
    ] {
        let allowed = crate::domains::role_actions(file, role);
        for call in &used {
            assert!(
                allowed.contains(call),
                "{file} {role} does not allow {call}"
            );
        }
    }

    zw_testkit::private_ca::set_status(&env.sdk, region, &cas.disabled, "ACTIVE")
        .await
        .expect("restored");
    let second = scan(&app, "pca-2").await;
    let mut still = expected.clone();
    still.remove(&(cas.disabled.clone(), "pca.ca-disabled", Severity::Medium));
    assert_eq!(open(&second), still);
    assert_eq!(second.scan.resolved, 1);
    assert!(!open(&second).iter().any(|(id, _, _)| *id == cas.healthy));
}
