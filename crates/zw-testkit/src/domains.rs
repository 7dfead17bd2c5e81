//! Domain registrations in moto's Route 53 Domains, for the domains family's
//! tests and the demo.
//!
//! moto 5.2.5 registers a domain for whole years (at least 2), creates a
//! public hosted zone of its name, gives it `awscdn` name servers (not the
//! zone's delegation set), reports `TransferLock: true` and the status
//! `SUCCEEDED` rather than EPP statuses, and does not implement
//! `GetContactReachabilityStatus` (it answers 500). So of the family's
//! codes, moto can produce `domain.auto-renew-off`, `domain.privacy-off` and
//! `domain.nameservers-mismatch`; the others are covered by the rule tests
//! on fixed observations.

use crate::error::{Result, TestkitError};
use aws_config::SdkConfig;
use serde_json::{Value, json};
use zw_aws::domains::{ENDPOINT, REGION, TARGET};
use zw_aws::usage::ApiCallCounter;

/// One Route 53 Domains call (the adapter's own protocol code, `zw_aws::rpc`).
async fn call(sdk: &SdkConfig, action: &'static str, body: Value) -> Result<Value> {
    zw_aws::rpc::json_operation(
        sdk,
        REGION,
        &ENDPOINT,
        &ApiCallCounter::default(),
        TARGET,
        action,
    )
    .invoke(body)
    .await
    .map_err(|e| TestkitError::Aws {
        operation: action,
        detail: format!("{e:?}"),
    })
}

/// Registers an unlocked-looking problem domain and a well-kept one; returns
/// their names: `[problem, kept]`.
///
/// - the first (`zonewarden-demo.com`) does not renew automatically and
///   publishes its registrant contact;
/// - the second (`zonewarden-demo.net`) renews and hides its contacts.
///
/// Both keep moto's `awscdn` name servers until [`delegate_to_zone`].
pub async fn register_demo_domains(sdk: &SdkConfig) -> Result<[String; 2]> {
    let contact = json!({
        "FirstName": "Dana",
        "LastName": "Operator",
        "ContactType": "COMPANY",
        "OrganizationName": "Demo Shop",
        "AddressLine1": "1 Example Street",
        "City": "Seattle",
        "State": "WA",
        "CountryCode": "US",
        "ZipCode": "98101",
        "PhoneNumber": "+1.2065550100",
        "Email": "hostmaster@demo-shop.example"
    });
    let problem = "zonewarden-demo.com";
    let kept = "zonewarden-demo.net";
    for (name, renews) in [(problem, false), (kept, true)] {
        call(
            sdk,
            "RegisterDomain",
            json!({
                "DomainName": name,
                "DurationInYears": 2,
                "AutoRenew": renews,
                "AdminContact": contact,
                "RegistrantContact": contact,
                "TechContact": contact,
                "PrivacyProtectAdminContact": true,
                "PrivacyProtectRegistrantContact": renews,
                "PrivacyProtectTechContact": true
            }),
        )
        .await?;
    }
    Ok([problem.to_owned(), kept.to_owned()])
}

/// Points the registered `domain` at the delegation set of the hosted zone
/// moto created for it.
pub async fn delegate_to_zone(sdk: &SdkConfig, domain: &str) -> Result<Vec<String>> {
    let r53 = aws_sdk_route53::Client::new(sdk);
    let zones = r53
        .list_hosted_zones()
        .send()
        .await
        .map_err(TestkitError::aws("route53:ListHostedZones"))?;
    let bare = |n: &str| n.trim_end_matches('.').to_ascii_lowercase();
    let zone = zones
        .hosted_zones()
        .iter()
        .find(|z| bare(z.name()) == bare(domain))
        .ok_or(TestkitError::MissingField {
            operation: "route53:ListHostedZones",
            field: "the domain's hosted zone",
        })?;
    let got = r53
        .get_hosted_zone()
        .id(zone.id())
        .send()
        .await
        .map_err(TestkitError::aws("route53:GetHostedZone"))?;
    let servers: Vec<String> = got
        .delegation_set()
        .map(|d| d.name_servers().to_vec())
        .unwrap_or_default();
    call(
        sdk,
        "UpdateDomainNameservers",
        json!({
            "DomainName": domain,
            "Nameservers": servers.iter().map(|s| json!({ "Name": s })).collect::<Vec<_>>(),
        }),
    )
    .await?;
    Ok(servers)
}
