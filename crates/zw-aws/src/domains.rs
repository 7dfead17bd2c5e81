//! Route 53 Domains: the account's domain registrations. The API exists in
//! us-east-1 only, whatever the deployment's region; calls are spaced by
//! their own limiter (Route 53 Domains has its own quota, not Route 53's).
//!
//! Three read calls, sent through the SDK's runtime without the Route 53
//! Domains service crate (`crate::rpc`): its JSON 1.1 protocol is a POST of
//! a small JSON object, and the fields read here are a handful.

use crate::error::classify;
use crate::limiter::RateLimiter;
use crate::rpc::{self, JsonOperation};
use crate::usage::ApiCallCounter;
use aws_config::SdkConfig;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use zw_core::families::domains::model::{ContactPrivacy, Domain, Reachability};
use zw_core::families::domains::ports::DomainRegistrations;
use zw_core::model::normalize_dns_name;
use zw_core::ports::{ErrorKind, PortError};

const SERVICE: &str = "route53domains";

/// The only region of the API.
pub const REGION: &str = "us-east-1";

/// Route 53 Domains' endpoints: `AWS_ENDPOINT_URL_ROUTE_53_DOMAINS`, the
/// global override or `route53domains.us-east-1.amazonaws.com`.
pub const ENDPOINT: rpc::Endpoint = rpc::Endpoint {
    service_id: "Route 53 Domains",
    env: "AWS_ENDPOINT_URL_ROUTE_53_DOMAINS",
    prefix: "route53domains",
    signing_name: "route53domains",
};

/// `X-Amz-Target`'s prefix.
pub const TARGET: &str = "Route53Domains_v20140515";

/// Requests per second, this process: well inside the service's quota, and
/// a daily scan of even a thousand domains takes minutes.
const RPS: f64 = 2.0;

#[derive(Clone)]
pub struct DomainsAdapter {
    list_domains: JsonOperation,
    get_domain_detail: JsonOperation,
    get_contact_reachability_status: JsonOperation,
    limiter: RateLimiter,
}

impl std::fmt::Debug for DomainsAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DomainsAdapter").finish_non_exhaustive()
    }
}

impl DomainsAdapter {
    pub fn new(sdk: &SdkConfig, calls: &ApiCallCounter) -> Self {
        let op = |action| rpc::json_operation(sdk, REGION, &ENDPOINT, calls, TARGET, action);
        Self {
            list_domains: op("ListDomains"),
            get_domain_detail: op("GetDomainDetail"),
            get_contact_reachability_status: op("GetContactReachabilityStatus"),
            limiter: RateLimiter::per_second(RPS),
        }
    }

    async fn call(
        &self,
        operation: &JsonOperation,
        name: &'static str,
        body: Value,
    ) -> Result<Value, PortError> {
        self.limiter.acquire().await;
        operation
            .invoke(body)
            .await
            .map_err(|e| classify(SERVICE, name, e))
    }
}

/// Epoch seconds (the JSON protocol's timestamps), fractional or not.
fn timestamp(v: &Value) -> Option<DateTime<Utc>> {
    let secs = v.as_f64()?;
    // Dates a registry gives fit easily; the cast only drops sub-nanoseconds.
    #[allow(clippy::cast_possible_truncation)]
    DateTime::from_timestamp_millis((secs * 1000.0).round() as i64)
}

fn invalid(operation: &'static str, what: &str) -> PortError {
    PortError::new(
        SERVICE,
        operation,
        ErrorKind::InvalidResponse,
        format!("the answer has no {what}"),
    )
}

/// The API takes names without the trailing dot.
fn api_name(name: &str) -> &str {
    name.trim_end_matches('.')
}

/// `GetDomainDetail`'s answer, as the model has it.
fn domain_from(name: &str, d: &Value) -> Domain {
    Domain {
        name: normalize_dns_name(d["DomainName"].as_str().unwrap_or(name)),
        expires: timestamp(&d["ExpirationDate"]),
        auto_renew: d["AutoRenew"].as_bool(),
        // `ListDomains` says it; the detail has the statuses.
        transfer_lock: None,
        statuses: d["StatusList"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        name_servers: d["Nameservers"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|n| n["Name"].as_str().map(normalize_dns_name))
                    .collect()
            })
            .unwrap_or_default(),
        privacy: ContactPrivacy {
            registrant: d["RegistrantPrivacy"].as_bool(),
            admin: d["AdminPrivacy"].as_bool(),
            tech: d["TechPrivacy"].as_bool(),
        },
    }
}

impl DomainRegistrations for DomainsAdapter {
    async fn domain_names(&self) -> Result<Vec<(String, Option<bool>)>, PortError> {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let body = match &marker {
                Some(m) => json!({ "Marker": m }),
                None => json!({}),
            };
            let page = self.call(&self.list_domains, "ListDomains", body).await?;
            let domains = page["Domains"]
                .as_array()
                .ok_or_else(|| invalid("ListDomains", "Domains"))?;
            for d in domains {
                if let Some(name) = d["DomainName"].as_str() {
                    out.push((normalize_dns_name(name), d["TransferLock"].as_bool()));
                }
            }
            match page["NextPageMarker"].as_str() {
                Some(m) if !m.is_empty() && marker.as_deref() != Some(m) => {
                    marker = Some(m.to_owned());
                }
                _ => break,
            }
        }
        Ok(out)
    }

    async fn domain(&self, name: &str) -> Result<Domain, PortError> {
        let d = self
            .call(
                &self.get_domain_detail,
                "GetDomainDetail",
                json!({ "DomainName": api_name(name) }),
            )
            .await?;
        Ok(domain_from(name, &d))
    }

    async fn reachability(&self, name: &str) -> Result<Reachability, PortError> {
        let r = self
            .call(
                &self.get_contact_reachability_status,
                "GetContactReachabilityStatus",
                json!({ "domainName": api_name(name) }),
            )
            .await?;
        let status = r["status"]
            .as_str()
            .ok_or_else(|| invalid("GetContactReachabilityStatus", "status"))?;
        Ok(Reachability::from_api(status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The detail's fields as AWS documents them (`GetDomainDetail`'s
    /// response syntax): timestamps in epoch seconds, name servers with glue.
    #[test]
    fn a_detail_answer_becomes_the_model() {
        let answer = json!({
            "DomainName": "Example.COM",
            "AutoRenew": false,
            "ExpirationDate": 1_767_225_600.5,
            "StatusList": ["clientTransferProhibited", "clientDeleteProhibited"],
            "Nameservers": [{"Name": "NS-1.awsdns-01.org", "GlueIps": []}, {"Name": "ns-2.awsdns-02.net."}],
            "RegistrantPrivacy": false,
            "AdminPrivacy": true
        });
        let d = domain_from("example.com.", &answer);
        assert_eq!(d.name, "example.com.");
        assert_eq!(d.auto_renew, Some(false));
        assert_eq!(
            d.expires.map(|e| e.to_rfc3339()),
            Some("2026-01-01T00:00:00.500+00:00".to_owned())
        );
        assert_eq!(d.locked(), Some(true));
        assert_eq!(
            d.name_servers,
            ["ns-1.awsdns-01.org.", "ns-2.awsdns-02.net."]
        );
        assert_eq!(d.privacy.registrant, Some(false));
        assert_eq!(d.privacy.tech, None);
        // An empty answer is an empty registration, not a panic.
        let empty = domain_from("x.org.", &json!({}));
        assert_eq!(empty.name, "x.org.");
        assert_eq!(empty.expires, None);
    }
}
