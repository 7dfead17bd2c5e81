//! Route 53 collector. Route 53 allows 5 requests/s per account, shared with
//! the customer's own tooling, so every call goes through one account-wide
//! limiter (default 2/s) and pages are walked by hand (the SDK has no
//! paginator for `ListResourceRecordSets`). The calls made per zone listing
//! (record pages, `GetHostedZone`, `GetDNSSEC`, `GetHostedZoneLimit`) are
//! made only when the family lists the zone again, not on every scan.

use crate::budget::TableBudget;
use crate::error::classify;
use crate::limiter::RateLimiter;
use crate::usage::ApiCallCounter;
use aws_config::SdkConfig;
use aws_sdk_route53::Client;
use aws_sdk_route53::types::{HostedZoneLimitType, ResourceRecordSet, RrType};
use zw_core::families::dns::model::{
    AliasTarget, DnssecStatus, FailoverRole, KeySigningKey, RoutingPolicy,
};
use zw_core::model::{HostedZone, RecordSet, normalize_dns_name};
use zw_core::ports::{ErrorKind, PortError, ZoneSource};

#[derive(Debug, Clone)]
pub struct Route53Collector {
    pub(crate) client: Client,
    limiter: RateLimiter,
    /// The account-wide budget in the findings table, when there is one.
    shared: Option<TableBudget>,
}

impl Route53Collector {
    pub fn new(sdk: &SdkConfig, rps: f64, calls: &ApiCallCounter) -> Self {
        let conf = aws_sdk_route53::config::Builder::from(sdk)
            .interceptor(calls.clone())
            .build();
        Self {
            client: Client::from_conf(conf),
            limiter: RateLimiter::per_second(rps),
            shared: None,
        }
    }

    /// Shares the budget with every other process using `table` (see
    /// `budget`): the `rps` then holds for all of them together.
    pub fn with_shared_budget(mut self, budget: TableBudget) -> Self {
        self.shared = Some(budget);
        self
    }

    /// This process's even spacing, then a slot of the account's budget.
    pub(crate) async fn pace(&self) {
        self.limiter.acquire().await;
        if let Some(shared) = &self.shared {
            shared.acquire().await;
        }
    }
}

/// `/hostedzone/Z123` -> `Z123` (the SDK strips it on input, not on output).
fn bare_zone_id(id: &str) -> String {
    id.trim_start_matches("/hostedzone/").to_owned()
}

impl ZoneSource for Route53Collector {
    async fn hosted_zones(&self) -> Result<Vec<HostedZone>, PortError> {
        let mut zones = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            self.pace().await;
            let page = self
                .client
                .list_hosted_zones()
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| classify("route53", "ListHostedZones", e))?;
            zones.extend(page.hosted_zones().iter().map(|z| {
                HostedZone {
                    id: bare_zone_id(z.id()),
                    name: normalize_dns_name(z.name()),
                    private: z.config().is_some_and(|c| c.private_zone()),
                    record_set_count: z
                        .resource_record_set_count()
                        .and_then(|n| u64::try_from(n).ok())
                        .unwrap_or(0),
                }
            }));
            match (page.is_truncated(), page.next_marker()) {
                (true, Some(m)) => marker = Some(m.to_owned()),
                _ => break,
            }
        }
        Ok(zones)
    }

    async fn record_sets(&self, zone_id: &str) -> Result<Vec<RecordSet>, PortError> {
        let mut sets = Vec::new();
        let mut next: Option<(String, RrType, Option<String>)> = None;
        loop {
            self.pace().await;
            let mut req = self
                .client
                .list_resource_record_sets()
                .hosted_zone_id(zone_id);
            if let Some((name, rtype, ident)) = next.take() {
                req = req
                    .start_record_name(name)
                    .start_record_type(rtype)
                    .set_start_record_identifier(ident);
            }
            let page = req
                .send()
                .await
                .map_err(|e| classify("route53", "ListResourceRecordSets", e))?;
            sets.extend(page.resource_record_sets().iter().map(record_set));
            match (
                page.is_truncated(),
                page.next_record_name(),
                page.next_record_type(),
            ) {
                (true, Some(name), Some(rtype)) => {
                    next = Some((
                        name.to_owned(),
                        rtype.clone(),
                        page.next_record_identifier().map(str::to_owned),
                    ))
                }
                _ => break,
            }
        }
        Ok(sets)
    }

    async fn name_servers(&self, zone_id: &str) -> Result<Vec<String>, PortError> {
        self.pace().await;
        let out = self
            .client
            .get_hosted_zone()
            .id(zone_id)
            .send()
            .await
            .map_err(|e| classify("route53", "GetHostedZone", e))?;
        Ok(out
            .delegation_set()
            .map(|d| {
                d.name_servers()
                    .iter()
                    .map(|n| normalize_dns_name(n))
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn dnssec(&self, zone_id: &str) -> Result<DnssecStatus, PortError> {
        self.pace().await;
        let out = self
            .client
            .get_dnssec()
            .hosted_zone_id(zone_id)
            .send()
            .await
            .map_err(|e| classify("route53", "GetDNSSEC", e))?;
        Ok(DnssecStatus {
            serve_signature: out
                .status()
                .and_then(|s| s.serve_signature())
                .unwrap_or("NOT_SIGNING")
                .to_owned(),
            status_message: out
                .status()
                .and_then(|s| s.status_message())
                .map(str::to_owned),
            key_signing_keys: out
                .key_signing_keys()
                .iter()
                .map(|k| KeySigningKey {
                    name: k.name().unwrap_or_default().to_owned(),
                    status: k.status().unwrap_or_default().to_owned(),
                    status_message: k.status_message().map(str::to_owned),
                    kms_arn: k.kms_arn().map(str::to_owned),
                    key_tag: u16::try_from(k.key_tag()).ok(),
                    ds_record: k.ds_record().map(str::to_owned),
                })
                .collect(),
        })
    }

    async fn record_set_limit(&self, zone_id: &str) -> Result<u64, PortError> {
        self.pace().await;
        let out = self
            .client
            .get_hosted_zone_limit()
            .hosted_zone_id(zone_id)
            .r#type(HostedZoneLimitType::MaxRrsetsByZone)
            .send()
            .await
            .map_err(|e| {
                // A 404 without an error code is a service that does not
                // implement the call (moto); say so in terms callers know.
                let status = e.raw_response().map(|r| r.status().as_u16());
                let mut error = classify("route53", "GetHostedZoneLimit", e);
                if status == Some(404) {
                    error.kind = ErrorKind::NotFound;
                }
                error
            })?;
        max_rrsets(out.limit())
    }
}

/// The `MAX_RRSETS_BY_ZONE` value of a `GetHostedZoneLimit` answer.
fn max_rrsets(limit: Option<&aws_sdk_route53::types::HostedZoneLimit>) -> Result<u64, PortError> {
    limit
        .filter(|l| *l.r#type() == HostedZoneLimitType::MaxRrsetsByZone)
        .and_then(|l| u64::try_from(l.value()).ok())
        .filter(|v| *v > 0)
        .ok_or_else(|| {
            PortError::new(
                "route53",
                "GetHostedZoneLimit",
                ErrorKind::InvalidResponse,
                "the answer has no positive MAX_RRSETS_BY_ZONE limit",
            )
        })
}

/// One SDK record set in our words: routing policy read from whichever of its
/// fields Route 53 set.
fn record_set(rs: &ResourceRecordSet) -> RecordSet {
    let routing = if rs.weight().is_some() {
        RoutingPolicy::Weighted
    } else if rs.region().is_some() {
        RoutingPolicy::Latency
    } else if rs.geo_location().is_some() {
        RoutingPolicy::Geolocation
    } else if rs.geo_proximity_location().is_some() {
        RoutingPolicy::Geoproximity
    } else if rs.failover().is_some() {
        RoutingPolicy::Failover
    } else if rs.multi_value_answer().unwrap_or(false) {
        RoutingPolicy::Multivalue
    } else if rs.cidr_routing_config().is_some() {
        RoutingPolicy::Cidr
    } else {
        RoutingPolicy::Simple
    };
    RecordSet {
        name: normalize_dns_name(rs.name()),
        record_type: rs.r#type().as_str().to_owned(),
        values: rs
            .resource_records()
            .iter()
            .map(|r| r.value().to_owned())
            .collect(),
        ttl: rs.ttl(),
        set_identifier: rs.set_identifier().map(str::to_owned),
        routing,
        alias: rs.alias_target().map(|a| AliasTarget {
            dns_name: normalize_dns_name(a.dns_name()),
            hosted_zone_id: a.hosted_zone_id().to_owned(),
            evaluate_target_health: a.evaluate_target_health(),
        }),
        health_check_id: rs.health_check_id().map(str::to_owned),
        failover: rs.failover().and_then(|f| match f.as_str() {
            "PRIMARY" => Some(FailoverRole::Primary),
            "SECONDARY" => Some(FailoverRole::Secondary),
            _ => None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zone_quota_is_the_max_rrsets_limit() {
        use aws_sdk_route53::types::HostedZoneLimit;
        let limit = |t: HostedZoneLimitType, v: i64| {
            HostedZoneLimit::builder()
                .r#type(t)
                .value(v)
                .build()
                .expect("limit")
        };
        assert_eq!(
            max_rrsets(Some(&limit(HostedZoneLimitType::MaxRrsetsByZone, 25_000))),
            Ok(25_000)
        );
        for bad in [
            Some(limit(HostedZoneLimitType::MaxVpcsAssociatedByZone, 300)),
            Some(limit(HostedZoneLimitType::MaxRrsetsByZone, 0)),
            None,
        ] {
            let e = max_rrsets(bad.as_ref()).expect_err("no usable limit");
            assert_eq!(e.kind, ErrorKind::InvalidResponse);
            assert_eq!(e.operation, "GetHostedZoneLimit");
        }
    }

    #[test]
    fn zone_ids_lose_their_prefix() {
        assert_eq!(bare_zone_id("/hostedzone/Z1D633PJN98FT9"), "Z1D633PJN98FT9");
        assert_eq!(bare_zone_id("Z1D633PJN98FT9"), "Z1D633PJN98FT9");
    }
}
