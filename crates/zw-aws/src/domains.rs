//! Route 53 Domains: the account's domain registrations. The API exists in
//! us-east-1 only, whatever the deployment's region; calls are spaced by
//! their own limiter (Route 53 Domains has its own quota, not Route 53's).

use crate::error::classify;
use crate::limiter::RateLimiter;
use crate::usage::ApiCallCounter;
use aws_config::SdkConfig;
use aws_sdk_route53domains::Client;
use chrono::{DateTime, Utc};
use zw_core::families::domains::model::{ContactPrivacy, Domain, Reachability};
use zw_core::families::domains::ports::DomainRegistrations;
use zw_core::model::normalize_dns_name;
use zw_core::ports::PortError;

const SERVICE: &str = "route53domains";

/// Requests per second, this process: well inside the service's quota, and
/// a daily scan of even a thousand domains takes minutes.
const RPS: f64 = 2.0;

#[derive(Debug, Clone)]
pub struct DomainsAdapter {
    client: Client,
    limiter: RateLimiter,
}

impl DomainsAdapter {
    pub fn new(sdk: &SdkConfig, calls: &ApiCallCounter) -> Self {
        let conf = aws_sdk_route53domains::config::Builder::from(sdk)
            .region(aws_config::Region::from_static("us-east-1"))
            .interceptor(calls.clone())
            .build();
        Self {
            client: Client::from_conf(conf),
            limiter: RateLimiter::per_second(RPS),
        }
    }
}

fn to_chrono(t: &aws_smithy_types::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

/// The domain's name as the API wants it: without the trailing dot.
fn api_name(name: &str) -> &str {
    name.trim_end_matches('.')
}

impl DomainRegistrations for DomainsAdapter {
    async fn domain_names(&self) -> Result<Vec<(String, Option<bool>)>, PortError> {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            self.limiter.acquire().await;
            let page = self
                .client
                .list_domains()
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| classify(SERVICE, "ListDomains", e))?;
            for d in page.domains() {
                if let Some(name) = d.domain_name() {
                    out.push((normalize_dns_name(name), d.transfer_lock()));
                }
            }
            match page.next_page_marker() {
                Some(m) if !m.is_empty() => marker = Some(m.to_owned()),
                _ => break,
            }
        }
        Ok(out)
    }

    async fn domain(&self, name: &str) -> Result<Domain, PortError> {
        self.limiter.acquire().await;
        let d = self
            .client
            .get_domain_detail()
            .domain_name(api_name(name))
            .send()
            .await
            .map_err(|e| classify(SERVICE, "GetDomainDetail", e))?;
        Ok(Domain {
            name: normalize_dns_name(d.domain_name().unwrap_or(name)),
            expires: d.expiration_date().and_then(to_chrono),
            auto_renew: d.auto_renew(),
            // `ListDomains` says it; the detail has the statuses.
            transfer_lock: None,
            statuses: d.status_list().to_vec(),
            name_servers: d
                .nameservers()
                .iter()
                .map(|n| normalize_dns_name(n.name()))
                .collect(),
            privacy: ContactPrivacy {
                registrant: d.registrant_privacy(),
                admin: d.admin_privacy(),
                tech: d.tech_privacy(),
            },
        })
    }

    async fn reachability(&self, name: &str) -> Result<Reachability, PortError> {
        self.limiter.acquire().await;
        let r = self
            .client
            .get_contact_reachability_status()
            .domain_name(api_name(name))
            .send()
            .await
            .map_err(|e| classify(SERVICE, "GetContactReachabilityStatus", e))?;
        Ok(r.status().map_or(Reachability::Other(String::new()), |s| {
            Reachability::from_api(s.as_str())
        }))
    }
}
