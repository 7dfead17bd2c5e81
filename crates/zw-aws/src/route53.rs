//! Route 53 collector. Route 53 allows 5 requests/s per account, shared with
//! the customer's own tooling, so every call goes through one account-wide
//! limiter (default 2/s) and pages are walked by hand (the SDK has no
//! paginator for `ListResourceRecordSets`).

use crate::error::classify;
use crate::limiter::RateLimiter;
use crate::usage::ApiCallCounter;
use aws_config::SdkConfig;
use aws_sdk_route53::Client;
use aws_sdk_route53::types::RrType;
use zw_core::model::{HostedZone, RecordSet, normalize_dns_name};
use zw_core::ports::{PortError, ZoneSource};

#[derive(Debug, Clone)]
pub struct Route53Collector {
    client: Client,
    limiter: RateLimiter,
}

impl Route53Collector {
    pub fn new(sdk: &SdkConfig, rps: f64, calls: &ApiCallCounter) -> Self {
        let conf = aws_sdk_route53::config::Builder::from(sdk)
            .interceptor(calls.clone())
            .build();
        Self {
            client: Client::from_conf(conf),
            limiter: RateLimiter::per_second(rps),
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
            self.limiter.acquire().await;
            let page = self
                .client
                .list_hosted_zones()
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| classify("route53", "ListHostedZones", e))?;
            zones.extend(page.hosted_zones().iter().map(|z| HostedZone {
                id: bare_zone_id(z.id()),
                name: normalize_dns_name(z.name()),
                private: z.config().is_some_and(|c| c.private_zone()),
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
            self.limiter.acquire().await;
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
            sets.extend(page.resource_record_sets().iter().map(|rs| {
                RecordSet {
                    name: normalize_dns_name(rs.name()),
                    record_type: rs.r#type().as_str().to_owned(),
                    values: rs
                        .resource_records()
                        .iter()
                        .map(|r| r.value().to_owned())
                        .collect(),
                }
            }));
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_ids_lose_their_prefix() {
        assert_eq!(bare_zone_id("/hostedzone/Z1D633PJN98FT9"), "Z1D633PJN98FT9");
        assert_eq!(bare_zone_id("Z1D633PJN98FT9"), "Z1D633PJN98FT9");
    }
}
