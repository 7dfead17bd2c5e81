//! Route 53 Resolver's query logging configurations
//! (`ListResolverQueryLogConfigs`), sent through the SDK's runtime without
//! the service crate (`crate::rpc`, JSON 1.1): one read call did not
//! justify a crate modelling the whole Resolver API.
//!
//! What the query-log family does with them (keep the CloudWatch Logs
//! destinations) is `crate::query_logs`' business; this module only lists.

use crate::error::classify;
use crate::limiter::RateLimiter;
use crate::rpc;
use crate::usage::ApiCallCounter;
use aws_config::SdkConfig;
use serde_json::{Value, json};
use zw_core::ports::{ErrorKind, PortError};

const SERVICE: &str = "route53resolver";
const LIST: &str = "ListResolverQueryLogConfigs";

/// Route 53 Resolver's endpoints: `AWS_ENDPOINT_URL_ROUTE53RESOLVER`, the
/// global override or `route53resolver.<region>.<partition suffix>`.
pub const ENDPOINT: rpc::Endpoint = rpc::Endpoint {
    service_id: "Route53Resolver",
    env: "AWS_ENDPOINT_URL_ROUTE53RESOLVER",
    prefix: "route53resolver",
    signing_name: "route53resolver",
};

/// `X-Amz-Target`'s prefix.
pub const TARGET: &str = "Route53Resolver";

/// Requests per second, this process. The Resolver API's quota is not one
/// the customer's tooling is likely to lean on, but a listing is a handful
/// of pages per region and run: pacing it costs nothing.
const RPS: f64 = 2.0;

/// The largest page the API gives (`MaxResults`).
const PAGE_SIZE: u32 = 100;

/// One Resolver query logging configuration, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolverQueryLogConfig {
    pub id: String,
    pub name: String,
    /// `CREATING`, `CREATED`, `DELETING` or `FAILED`.
    pub status: String,
    /// A CloudWatch Logs log group, an S3 bucket or a Firehose stream.
    pub destination_arn: String,
}

/// Lists Route 53 Resolver query logging configurations, region by region.
#[derive(Clone)]
pub struct ResolverReader {
    sdk: SdkConfig,
    calls: ApiCallCounter,
    limiter: RateLimiter,
}

impl std::fmt::Debug for ResolverReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResolverReader").finish_non_exhaustive()
    }
}

impl ResolverReader {
    /// Counts its calls in `calls`; paced to 2 calls per second.
    pub fn new(sdk: &SdkConfig, calls: &ApiCallCounter) -> Self {
        Self {
            sdk: sdk.clone(),
            calls: calls.clone(),
            limiter: RateLimiter::per_second(RPS),
        }
    }

    /// Every query logging configuration of `region` (the account's own and
    /// those shared with it), every page.
    pub async fn query_log_configs(
        &self,
        region: &str,
    ) -> Result<Vec<ResolverQueryLogConfig>, PortError> {
        let operation =
            rpc::json_operation(&self.sdk, region, &ENDPOINT, &self.calls, TARGET, LIST);
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut body = json!({ "MaxResults": PAGE_SIZE });
            if let Some(t) = &token {
                body["NextToken"] = json!(t);
            }
            self.limiter.acquire().await;
            let page = operation.invoke(body).await.map_err(|e| {
                let mut error = classify(SERVICE, LIST, e);
                error.message = format!("in {region}: {}", error.message);
                error
            })?;
            out.extend(page_configs(&page).map_err(|why| {
                PortError::new(
                    SERVICE,
                    LIST,
                    ErrorKind::InvalidResponse,
                    format!("in {region}: {why}"),
                )
            })?);
            match page["NextToken"].as_str().filter(|t| !t.is_empty()) {
                // A repeated token would loop for ever: what was read stands.
                Some(t) if token.as_deref() != Some(t) => token = Some(t.to_owned()),
                _ => break,
            }
        }
        Ok(out)
    }
}

/// The configurations of one `ListResolverQueryLogConfigs` page. A page
/// without the list has none; a configuration without its id, status or
/// destination is not one we can judge, and says so.
fn page_configs(page: &Value) -> Result<Vec<ResolverQueryLogConfig>, String> {
    let configs = match &page["ResolverQueryLogConfigs"] {
        Value::Null => return Ok(Vec::new()),
        Value::Array(configs) => configs,
        _ => return Err("`ResolverQueryLogConfigs` is not a list".to_owned()),
    };
    configs
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let field = |name: &str| {
                c[name]
                    .as_str()
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .ok_or_else(|| format!("query logging configuration {i} has no `{name}`"))
            };
            Ok(ResolverQueryLogConfig {
                id: field("Id")?,
                name: c["Name"].as_str().unwrap_or_default().to_owned(),
                status: field("Status")?,
                destination_arn: field("DestinationArn")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// An SDK configuration answering `ListResolverQueryLogConfigs` with
    /// `answers` in order; keeps the JSON bodies sent.
    fn answering(answers: Vec<(u16, String)>) -> (SdkConfig, Arc<Mutex<Vec<Value>>>) {
        crate::rpc::testing::answering(
            "route53resolver",
            "Route53Resolver.ListResolverQueryLogConfigs",
            answers,
        )
    }

    fn config(id: &str, status: &str, destination: &str) -> Value {
        json!({"Id": id, "Name": format!("n-{id}"), "Status": status, "DestinationArn": destination, "OwnerId": "111122223333"})
    }

    #[tokio::test]
    async fn every_page_is_listed() {
        let (sdk, sent) = answering(vec![
            (
                200,
                json!({"ResolverQueryLogConfigs": [config("a", "CREATED", "arn:x")], "NextToken": "t1"})
                    .to_string(),
            ),
            (
                200,
                json!({"ResolverQueryLogConfigs": [config("b", "FAILED", "arn:y")]}).to_string(),
            ),
        ]);
        let configs = ResolverReader::new(&sdk, &ApiCallCounter::default())
            .query_log_configs("eu-west-1")
            .await
            .expect("configs");
        assert_eq!(
            configs,
            [
                ResolverQueryLogConfig {
                    id: "a".into(),
                    name: "n-a".into(),
                    status: "CREATED".into(),
                    destination_arn: "arn:x".into(),
                },
                ResolverQueryLogConfig {
                    id: "b".into(),
                    name: "n-b".into(),
                    status: "FAILED".into(),
                    destination_arn: "arn:y".into(),
                },
            ]
        );
        let sent = sent.lock().unwrap();
        assert_eq!(sent[0], json!({"MaxResults": 100}));
        assert_eq!(sent[1], json!({"MaxResults": 100, "NextToken": "t1"}));
    }

    #[tokio::test]
    async fn a_repeated_token_ends_the_listing() {
        let page = json!({"ResolverQueryLogConfigs": [], "NextToken": "same"}).to_string();
        let (sdk, sent) = answering(vec![(200, page.clone()), (200, page)]);
        let configs = ResolverReader::new(&sdk, &ApiCallCounter::default())
            .query_log_configs("eu-west-1")
            .await
            .expect("configs");
        assert!(configs.is_empty());
        assert_eq!(sent.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn errors_are_classified_and_name_the_region() {
        let body = json!({"__type": "AccessDeniedException", "message": "no"}).to_string();
        let (sdk, _) = answering(vec![(400, body)]);
        let e = ResolverReader::new(&sdk, &ApiCallCounter::default())
            .query_log_configs("eu-west-1")
            .await
            .expect_err("denied");
        assert_eq!(e.kind, ErrorKind::AccessDenied, "{e:?}");
        assert_eq!(
            (e.service, e.operation),
            ("route53resolver", "ListResolverQueryLogConfigs")
        );
        assert!(e.message.starts_with("in eu-west-1: "), "{e:?}");
        let (sdk, _) = answering(vec![(
            200,
            json!({"ResolverQueryLogConfigs": [{"Id": "a", "Status": "CREATED"}]}).to_string(),
        )]);
        let e = ResolverReader::new(&sdk, &ApiCallCounter::default())
            .query_log_configs("eu-west-1")
            .await
            .expect_err("no destination");
        assert_eq!(e.kind, ErrorKind::InvalidResponse, "{e:?}");
        assert!(e.message.contains("`DestinationArn`"), "{e:?}");
    }

    #[test]
    fn pages_without_the_list_have_no_configurations() {
        assert_eq!(page_configs(&json!({})), Ok(Vec::new()));
        assert!(page_configs(&json!({"ResolverQueryLogConfigs": {}})).is_err());
    }
}
