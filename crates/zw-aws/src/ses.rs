//! Amazon SES (API v2): the domain identities of each region and their
//! DKIM attributes, through the SDK's runtime without the service crate
//! (`crate::rpc`): two read calls of its REST-JSON protocol whose answers
//! are small JSON objects. `ListEmailIdentities` is the current model's
//! `POST /v2/email/list-identities` (botocore's SES v2 model; the older
//! `GET /v2/email/identities` is what moto 5.2.5 no longer routes either).

use crate::error::classify;
use crate::limiter::RateLimiter;
use crate::rpc::{self, AwsError};
use crate::usage::ApiCallCounter;
use aws_config::SdkConfig;
use aws_smithy_runtime::client::orchestrator::operation::Operation;
use serde_json::Value;
use zw_core::families::mail::model::{Dkim, SesIdentity};
use zw_core::families::mail::ports::MailIdentities;
use zw_core::model::{Region, normalize_dns_name};
use zw_core::ports::{ErrorKind, PortError};

const SERVICE: &str = "sesv2";
const LIST: &str = "ListEmailIdentities";
const GET: &str = "GetEmailIdentity";

/// SES v2's endpoints: `AWS_ENDPOINT_URL_SESV2`, the global override or
/// `email.<region>.<partition suffix>`; SigV4 name `ses`.
pub const ENDPOINT: rpc::Endpoint = rpc::Endpoint {
    service_id: "SESv2",
    env: "AWS_ENDPOINT_URL_SESV2",
    prefix: "email",
    signing_name: "ses",
};

/// Requests per second, this process: SES's read APIs allow about one per
/// second per account sustained; a daily scan of a hundred identities
/// takes a minute.
const RPS: f64 = 1.0;

/// A request of the REST-JSON protocol: the path and, for a POST, its JSON
/// body in; the answer's JSON out.
type RestOperation = Operation<(String, Option<Value>), Value, AwsError>;

#[derive(Clone)]
pub struct SesAdapter {
    sdk: SdkConfig,
    calls: ApiCallCounter,
    limiter: RateLimiter,
}

impl std::fmt::Debug for SesAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SesAdapter").finish_non_exhaustive()
    }
}

impl SesAdapter {
    pub fn new(sdk: &SdkConfig, calls: &ApiCallCounter) -> Self {
        Self {
            sdk: sdk.clone(),
            calls: calls.clone(),
            limiter: RateLimiter::per_second(RPS),
        }
    }

    fn operation(&self, region: &Region, action: &'static str) -> RestOperation {
        rpc::operation_builder(&self.sdk, region.as_str(), &ENDPOINT, &self.calls, action)
            .serializer(|(path, body): (String, Option<Value>)| {
                let request = match body {
                    Some(body) => {
                        let body = body.to_string();
                        http::Request::builder()
                            .method("POST")
                            .uri(path)
                            .header("content-type", "application/json")
                            .header("content-length", body.len().to_string())
                            .body(aws_smithy_types::body::SdkBody::from(body))?
                    }
                    None => http::Request::builder()
                        .method("GET")
                        .uri(path)
                        .body(aws_smithy_types::body::SdkBody::empty())?,
                };
                Ok(aws_smithy_runtime_api::client::orchestrator::HttpRequest::try_from(request)?)
            })
            .deserializer(rpc::json_response)
            .build()
    }

    async fn call(
        &self,
        operation: &RestOperation,
        action: &'static str,
        path: String,
        body: Option<Value>,
    ) -> Result<Value, PortError> {
        self.limiter.acquire().await;
        operation
            .invoke((path, body))
            .await
            .map_err(|e| classify(SERVICE, action, e))
    }
}

/// `GetEmailIdentity`'s path for `name`, the name percent-encoded as one
/// path segment (by the `url` crate: a name is never spliced into a path).
fn identity_path(name: &str) -> Option<String> {
    let mut url = url::Url::parse("https://email.invalid/v2/email/identities").ok()?;
    url.path_segments_mut().ok()?.push(name);
    Some(url.path().to_owned())
}

/// The domain identities of one `ListEmailIdentities` page.
fn domains(page: &Value) -> Result<Vec<String>, PortError> {
    let identities = page["EmailIdentities"].as_array().ok_or_else(|| {
        PortError::new(
            SERVICE,
            LIST,
            ErrorKind::InvalidResponse,
            "the answer has no EmailIdentities",
        )
    })?;
    Ok(identities
        .iter()
        .filter(|i| i["IdentityType"].as_str() == Some("DOMAIN"))
        .filter_map(|i| i["IdentityName"].as_str().map(str::to_owned))
        .collect())
}

/// `GetEmailIdentity`'s DKIM attributes, as the model has them.
fn dkim(answer: &Value) -> Option<Dkim> {
    let d = answer.get("DkimAttributes")?;
    Some(Dkim {
        signing_enabled: d["SigningEnabled"].as_bool().unwrap_or(false),
        status: d["Status"].as_str().unwrap_or_default().to_owned(),
        origin: d["SigningAttributesOrigin"]
            .as_str()
            .unwrap_or("AWS_SES")
            .to_owned(),
        tokens: d["Tokens"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
    })
}

impl MailIdentities for SesAdapter {
    async fn domain_identities(&self, region: &Region) -> Result<Vec<SesIdentity>, PortError> {
        // Built per call: two small operations, most regions have none.
        let list = self.operation(region, LIST);
        let get = self.operation(region, GET);
        let mut names = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let body = match &token {
                Some(t) => serde_json::json!({"PageSize": 1000, "NextToken": t}),
                None => serde_json::json!({"PageSize": 1000}),
            };
            let page = self
                .call(&list, LIST, "/v2/email/list-identities".into(), Some(body))
                .await?;
            names.extend(domains(&page)?);
            match page["NextToken"].as_str() {
                Some(t) if !t.is_empty() && token.as_deref() != Some(t) => {
                    token = Some(t.to_owned());
                }
                _ => break,
            }
        }
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let answer = self
                .call(
                    &get,
                    GET,
                    identity_path(&name).ok_or_else(|| {
                        PortError::new(
                            SERVICE,
                            GET,
                            ErrorKind::InvalidRequest,
                            format!("{name}: cannot be written as a request path"),
                        )
                    })?,
                    None,
                )
                .await
                .map_err(|mut e| {
                    e.message = format!("{name}: {}", e.message);
                    e
                })?;
            out.push(SesIdentity {
                name: normalize_dns_name(&name),
                region: region.clone(),
                dkim: dkim(&answer),
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The fields as the SES v2 API reference documents them.
    #[test]
    fn answers_become_the_model() {
        let page = json!({"EmailIdentities": [
            {"IdentityType": "DOMAIN", "IdentityName": "example.com", "SendingEnabled": true},
            {"IdentityType": "EMAIL_ADDRESS", "IdentityName": "ops@example.com"},
            {"IdentityType": "MANAGED_DOMAIN", "IdentityName": "mail.example.net"}
        ]});
        assert_eq!(domains(&page).expect("a page"), ["example.com"]);
        assert!(domains(&json!({})).is_err());
        let d = dkim(&json!({"DkimAttributes": {
            "SigningEnabled": true, "Status": "SUCCESS",
            "Tokens": ["a1", "b2", "c3"], "SigningAttributesOrigin": "AWS_SES"
        }}))
        .expect("dkim");
        assert!(d.easy() && d.signing_enabled);
        assert_eq!(d.tokens, ["a1", "b2", "c3"]);
        let byo = dkim(&json!({"DkimAttributes": {"SigningEnabled": true, "Status": "SUCCESS", "SigningAttributesOrigin": "EXTERNAL"}}))
            .expect("dkim");
        assert!(!byo.easy());
        assert!(dkim(&json!({})).is_none());
        assert_eq!(
            identity_path("example.com").as_deref(),
            Some("/v2/email/identities/example.com")
        );
        assert_eq!(
            identity_path("a b/ü").as_deref(),
            Some("/v2/email/identities/a%20b%2F%C3%BC")
        );
    }
}
