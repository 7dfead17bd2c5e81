//! The IAM server certificate family against moto: a certificate ending in
//! 10 days served by a load balancer listener, an expired one nothing
//! serves, a fresh one; deleting the expired one resolves its finding. The
//! end dates come from the bodies (moto's metadata says 2012 for all).
//! Every call the family makes is one its roles allow.

use crate::support::{Env, config, scan_once as scan};
use std::collections::BTreeSet;
use zw_app::{App, FamilyKind};
use zw_core::ports::ApiUsage;
use zw_core::{ScanReport, Severity};

fn open(report: &ScanReport) -> BTreeSet<(String, &'static str, Severity)> {
    report
        .findings
        .iter()
        .filter(|f| f.state == zw_core::finding::FindingState::Open)
        .map(|f| (f.resource.name.clone(), f.code.id(), f.severity))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_are_judged_by_their_bodies_and_their_users() {
    let env = Env::new().await;
    let east = env.moto.sdk_config("us-east-1").await;
    let now = zw_core::ports::Clock::now(&zw_aws::SystemClock);
    let day = chrono::Duration::days(1);
    let expiring = zw_testkit::iam::upload(
        &env.sdk,
        "legacy-www",
        "www.legacy.test",
        now + day * 10 + chrono::Duration::hours(1),
    )
    .await
    .expect("upload");
    zw_testkit::iam::upload(&env.sdk, "old-api", "api.legacy.test", now - day * 3)
        .await
        .expect("upload");
    zw_testkit::iam::upload(&env.sdk, "fresh", "fresh.legacy.test", now + day * 365)
        .await
        .expect("upload");
    let lb = zw_testkit::tls_world::load_balancer(&east, &expiring)
        .await
        .expect("load balancer");
    // The endpoints family's dangling-target settings are not needed here.
    let app = App::new(
        config(&[("ZW_AWS_IP_RANGES_URL", "http://127.0.0.1:9/ip-ranges.json")]),
        &env.sdk,
        &[FamilyKind::IAM_CERTIFICATES],
    )
    .expect("app");

    let first = scan(&app, "iam-1").await;
    let errors: Vec<String> = first.scan.errors.iter().map(ToString::to_string).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(first.scan.counts["iam_server_certificates"], 3);
    let expected: BTreeSet<(String, &str, Severity)> = [
        (
            "legacy-www".to_owned(),
            "iam.server-certificate-expiring",
            Severity::High,
        ),
        // Nothing serves it: clean-up, not an outage.
        (
            "old-api".to_owned(),
            "iam.server-certificate-expired",
            Severity::Medium,
        ),
    ]
    .into_iter()
    .collect();
    assert_eq!(open(&first), expected);
    let served = first
        .findings
        .iter()
        .find(|f| f.resource.name == "legacy-www")
        .expect("expiring");
    assert_eq!(served.resource.id, expiring);
    assert_eq!(served.evidence["days_left"], 10);
    let users = served.evidence["in_use_by"].to_string();
    // The load balancer's name leads its DNS name (`secure-NNN-1.<region>...`).
    let label = lb.split('.').next().unwrap_or_default();
    let name = label.rsplit_once('-').map_or(label, |(n, _)| n).to_owned();
    assert!(
        users.contains(&format!("loadbalancer/app/{name}/")),
        "{users} should name the load balancer {name}"
    );

    let used: BTreeSet<String> = app
        .services
        .calls
        .calls()
        .into_keys()
        .filter(|k| !k.starts_with("dynamodb:"))
        .collect();
    assert!(used.contains("iam:GetServerCertificate"), "{used:?}");
    for (file, role) in [
        ("template.yaml", "ScanEndpointsRole"),
        ("infra/org/member-role.yaml", "MemberRole"),
    ] {
        let allowed = crate::domains::role_actions(file, role);
        for call in &used {
            // The SDK names services as IAM does not: ELB v2 is
            // `elasticloadbalancing:` for both versions, and API Gateway's
            // reads (v1 and v2) are all `apigateway:GET`.
            let action = if call.starts_with("apigateway") {
                "apigateway:GET".to_owned()
            } else {
                call.replace("elasticloadbalancingv2:", "elasticloadbalancing:")
            };
            assert!(
                allowed.contains(&action),
                "{file} {role} does not allow {action}"
            );
        }
    }

    zw_testkit::iam::delete(&env.sdk, "old-api")
        .await
        .expect("delete");
    let second = scan(&app, "iam-2").await;
    let mut still = expected.clone();
    still.remove(&(
        "old-api".to_owned(),
        "iam.server-certificate-expired",
        Severity::Medium,
    ));
    assert_eq!(open(&second), still);
    assert_eq!(second.scan.resolved, 1);
}
