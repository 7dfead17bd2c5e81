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
use aws_config::{Region, SdkConfig};
use aws_sdk_route53domains::types::{ContactDetail, ContactType, CountryCode, Nameserver};

/// Registers an unlocked-looking problem domain and a well-kept one; returns
/// their names: `[problem, kept]`.
///
/// - the first (`zonewarden-demo.com`) does not renew automatically and
///   publishes its registrant contact;
/// - the second (`zonewarden-demo.net`) renews and hides its contacts.
///
/// Both keep moto's `awscdn` name servers until [`delegate_to_zone`].
pub async fn register_demo_domains(sdk: &SdkConfig) -> Result<[String; 2]> {
    let client = client(sdk);
    let contact = ContactDetail::builder()
        .first_name("Dana")
        .last_name("Operator")
        .contact_type(ContactType::Company)
        .organization_name("Demo Shop")
        .address_line1("1 Example Street")
        .city("Seattle")
        .state("WA")
        .country_code(CountryCode::Us)
        .zip_code("98101")
        .phone_number("+1.2065550100")
        .email("hostmaster@demo-shop.example")
        .build();
    let problem = "zonewarden-demo.com";
    let kept = "zonewarden-demo.net";
    for (name, renews) in [(problem, false), (kept, true)] {
        client
            .register_domain()
            .domain_name(name)
            .duration_in_years(2)
            .auto_renew(renews)
            .admin_contact(contact.clone())
            .registrant_contact(contact.clone())
            .tech_contact(contact.clone())
            .privacy_protect_admin_contact(true)
            .privacy_protect_registrant_contact(renews)
            .privacy_protect_tech_contact(true)
            .send()
            .await
            .map_err(TestkitError::aws("route53domains:RegisterDomain"))?;
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
    let mut update = client(sdk).update_domain_nameservers().domain_name(domain);
    for s in &servers {
        update = update.nameservers(Nameserver::builder().name(s).build().map_err(|e| {
            TestkitError::Build {
                what: "Nameserver",
                detail: e.to_string(),
            }
        })?);
    }
    update
        .send()
        .await
        .map_err(TestkitError::aws("route53domains:UpdateDomainNameservers"))?;
    Ok(servers)
}

fn client(sdk: &SdkConfig) -> aws_sdk_route53domains::Client {
    let conf = aws_sdk_route53domains::config::Builder::from(sdk)
        .region(Region::from_static("us-east-1"))
        .build();
    aws_sdk_route53domains::Client::from_conf(conf)
}
