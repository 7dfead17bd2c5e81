//! The registry of check families: one [`Registration`] per family says its
//! name, the inventories it fills and how to build it from the
//! configuration and the adapters. `FamilyKind`, `scan all`, the CLI's
//! `--family` values, the license wrapper's lead family and the
//! organization job's `families` all come from [`REGISTRY`], in its order.

pub mod certificates;
pub mod ct;
pub mod dns;
pub mod domains;
pub mod endpoints;
pub mod health;
pub mod iam_certificates;
pub mod mail;
pub mod private_ca;
pub mod query_logs;

use crate::{AppError, ScanOptions};
use serde::Serialize;
use std::fmt;
use std::sync::Arc;
use zw_aws::{SdkConfig, Services};
use zw_core::inventory::InventoryKind;
use zw_core::{Config, Family};

/// Every family, in the order `scan all` runs them.
pub static REGISTRY: &[&Registration] = &[
    &certificates::REGISTRATION,
    &dns::REGISTRATION,
    &health::REGISTRATION,
    &endpoints::REGISTRATION,
    &domains::REGISTRATION,
    &private_ca::REGISTRATION,
    &iam_certificates::REGISTRATION,
    &mail::REGISTRATION,
    &ct::REGISTRATION,
    &query_logs::REGISTRATION,
];

/// A check family, as named on the command line, in the scan record and in
/// an organization run's request: one of [`REGISTRY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FamilyKind(&'static str);

impl FamilyKind {
    pub const CERTIFICATES: Self = Self(zw_core::families::certificates::NAME);
    pub const DNS: Self = Self(zw_core::families::dns::NAME);
    pub const HEALTH: Self = Self(zw_core::families::health::NAME);
    pub const ENDPOINTS: Self = Self(zw_core::families::endpoints::NAME);
    pub const DOMAINS: Self = Self(zw_core::families::domains::NAME);
    pub const PRIVATE_CA: Self = Self(zw_core::families::private_ca::NAME);
    pub const IAM_CERTIFICATES: Self = Self(zw_core::families::iam_certificates::NAME);
    pub const MAIL: Self = Self(zw_core::families::mail::NAME);
    pub const CT: Self = Self(zw_core::families::ct::NAME);
    pub const QUERY_LOGS: Self = Self(zw_core::families::query_logs::NAME);

    /// Every family, in the registry's order.
    pub fn all() -> Vec<Self> {
        REGISTRY.iter().map(|r| r.kind).collect()
    }

    /// The family of that name.
    pub fn named(name: &str) -> Option<Self> {
        REGISTRY.iter().map(|r| r.kind).find(|k| k.0 == name)
    }

    /// The families' names, in the registry's order.
    pub fn names() -> Vec<&'static str> {
        REGISTRY.iter().map(|r| r.kind.0).collect()
    }

    /// The family that fills this inventory.
    pub fn filling(inventory: InventoryKind) -> Option<Self> {
        REGISTRY
            .iter()
            .find(|r| r.inventory.contains(&inventory))
            .map(|r| r.kind)
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }

    fn registration(self) -> Option<&'static Registration> {
        REGISTRY.iter().copied().find(|r| r.kind == self)
    }
}

impl fmt::Display for FamilyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Serialize for FamilyKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

/// One family in the registry.
pub struct Registration {
    pub kind: FamilyKind,
    /// The inventories (`zonewarden inventory`) its scans fill.
    pub inventory: &'static [InventoryKind],
    /// Whether the configuration turns it on; a family that is off is not
    /// prepared, so `scan all` and the schedules skip it.
    pub enabled: fn(&Config) -> bool,
    /// Builds its adapters, once per process (Lambda init, CLI start).
    pub(crate) prepare: fn(&Wiring<'_>) -> Result<Adapters, AppError>,
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("kind", &self.kind)
            .field("inventory", &self.inventory)
            .finish_non_exhaustive()
    }
}

/// What a family's adapters are built from.
pub(crate) struct Wiring<'a> {
    pub config: &'a Config,
    /// The account collected (a member's assumed role in organization mode).
    pub sdk: &'a SdkConfig,
    /// The deployment's own account: its table, its documents.
    pub central: &'a SdkConfig,
    pub services: &'a Services,
}

/// What one scan gives each family.
pub(crate) struct ScanContext<'a> {
    pub config: &'a Config,
    pub services: &'a Services,
    pub options: &'a ScanOptions,
    /// When describing (ACM) stops, so what was described is still
    /// evaluated before the family's deadline.
    pub describe_stop: std::time::Instant,
}

/// A family's adapters, built once. An enum, not a trait object: what turns
/// them into a `Family` ([`family`]) is then linked only into binaries that
/// scan (`App::scan`), not into those that only build an `App` (the license
/// and organization functions), whose size and init it would grow.
#[derive(Debug)]
pub(crate) enum Adapters {
    /// The organization's published zones, in organization mode.
    Certificates(Option<zw_aws::published::PublishedEstate>),
    Dns(dns::DnsAdapters),
    Health(health::HealthAdapters),
    Endpoints(endpoints::EndpointsAdapters),
    Domains(zw_aws::domains::DomainsAdapter),
    PrivateCa(zw_aws::private_ca::PrivateCaAdapter),
    IamCertificates(iam_certificates::IamCertificatesAdapters),
    Mail(mail::MailAdapters),
    Ct(ct::CtAdapters),
    QueryLogs(Box<query_logs::QueryLogAdapters>),
}

/// The `Family` of one scan, from its adapters.
pub(crate) fn family<'a>(
    adapters: &'a Adapters,
    scan: &'a ScanContext<'a>,
) -> Box<dyn Family + 'a> {
    match adapters {
        Adapters::Certificates(p) => certificates::family(p, scan),
        Adapters::Dns(a) => dns::family(a, scan),
        Adapters::Health(a) => health::family(a, scan),
        Adapters::Endpoints(a) => endpoints::family(a, scan),
        Adapters::Domains(a) => domains::family(a, scan),
        Adapters::PrivateCa(a) => private_ca::family(a, scan),
        Adapters::IamCertificates(a) => iam_certificates::family(a, scan),
        Adapters::Mail(a) => mail::family(a, scan),
        Adapters::Ct(a) => ct::family(a, scan),
        Adapters::QueryLogs(a) => query_logs::family(a, scan),
    }
}

/// A selected family and its adapters.
pub(crate) type Selected = (FamilyKind, Arc<Adapters>);

/// Builds the adapters of `kinds`, in that order (and only those the
/// configuration turns on).
pub(crate) fn prepare(
    kinds: &[FamilyKind],
    wiring: &Wiring<'_>,
) -> Result<Vec<Selected>, AppError> {
    kinds
        .iter()
        .filter_map(|k| k.registration())
        .filter(|r| (r.enabled)(wiring.config))
        .map(|r| Ok((r.kind, Arc::new((r.prepare)(wiring)?))))
        .collect()
}

/// `Registration::enabled` of the families every configuration runs.
pub(crate) fn always(_: &Config) -> bool {
    true
}

/// The DNS resolver settings every family that resolves names shares.
pub(crate) fn probe_settings(config: &Config) -> zw_dns::ProbeSettings {
    let dns = &config.dns;
    zw_dns::ProbeSettings {
        root_hints: dns.root_hints.clone(),
        nameserver_addresses: dns.nameserver_addresses.clone(),
        timeout: std::time::Duration::from_millis(u64::from(dns.timeout_ms)),
        qps_per_server: dns.qps_per_server,
        scope: dns.probe_scope.clone(),
        ..zw_dns::ProbeSettings::default()
    }
}

/// The adapter that lists the account's endpoints and AWS's address ranges
/// (the DNS family's dangling targets, the endpoints family's attachments):
/// the collected account, every configured region.
pub(crate) fn aws_targets(
    w: &Wiring<'_>,
) -> Result<zw_aws::targets::AwsTargetsAdapter, zw_core::PortError> {
    zw_aws::targets::AwsTargetsAdapter::new(
        w.sdk,
        &w.services.calls,
        &zw_aws::targets::TargetsSettings {
            ip_ranges_url: w.config.dns.ip_ranges_url.clone(),
            ..zw_aws::targets::TargetsSettings::default()
        },
    )
}

/// The inventory cache of the findings table (the DNS family's; the health
/// and endpoints families read it): the table's client, one DynamoDB
/// client per process.
pub(crate) fn inventory_cache(
    services: &Services,
) -> Option<zw_aws::inventory::DynamoInventoryCache> {
    services.store.as_ref().map(|s| {
        zw_aws::inventory::DynamoInventoryCache::with_client(
            s.client().clone(),
            s.table().to_owned(),
        )
        .in_partition(s.partition().clone())
    })
}

/// What the organization's other accounts published in the table, for a
/// member account's scan (organization mode); None in single mode.
pub(crate) fn published_estate(services: &Services) -> Option<zw_aws::published::PublishedEstate> {
    services.store.as_ref().and_then(|s| {
        s.partition().account_ref().map(|own| {
            zw_aws::published::PublishedEstate::new(
                s.client().clone(),
                s.table().to_owned(),
                own.clone(),
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_the_registry_in_its_order() {
        assert_eq!(
            FamilyKind::names(),
            [
                "certificates",
                "dns",
                "health",
                "endpoints",
                "domains",
                "private-ca",
                "iam-certificates",
                "mail",
                "ct",
                "query-logs"
            ]
        );
        for r in REGISTRY {
            assert_eq!(FamilyKind::named(r.kind.as_str()), Some(r.kind));
        }
        assert_eq!(FamilyKind::named("query_logs"), None);
        // Every inventory is filled by exactly one family.
        for kind in InventoryKind::ALL {
            let fillers = REGISTRY
                .iter()
                .filter(|r| r.inventory.contains(&kind))
                .count();
            assert_eq!(fillers, 1, "{kind:?}");
        }
    }
}
