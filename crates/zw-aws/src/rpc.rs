//! AWS operations sent through the SDK's own runtime without their
//! generated service crate (`ec2`, `ssm`, `route53domains`).
//!
//! Why: a service crate models every operation of its service. For EC2
//! (about 750 operations) and SSM (about 150, 100 MB of release rlib) that
//! was the largest share of zonewarden's build, for two and one read calls.
//! What the service crates would give us still comes from the SDK: the
//! orchestrator of `aws-smithy-runtime` with the `SdkConfig`'s HTTP client,
//! credentials and identity cache, the SigV4 signer of `aws-runtime`, the
//! standard retry strategy with AWS's throttling codes, the timeouts, and the
//! same call-counting interceptor as every other client. Each module writes
//! only its request body and reads only the fields it needs from the answer.

use crate::usage::ApiCallCounter;
use aws_runtime::auth::SigV4OperationSigningConfig;
use aws_runtime::auth::sigv4::{SCHEME_ID as SIGV4, SigV4AuthScheme};
use aws_runtime::retries::classifiers::AwsErrorCodeClassifier;
use aws_smithy_runtime::client::identity::IdentityCache;
use aws_smithy_runtime::client::orchestrator::operation::{Operation, OperationBuilder};
use aws_smithy_runtime::client::retries::classifiers::{
    HttpStatusCodeClassifier, TransientErrorClassifier,
};
use aws_smithy_runtime_api::client::auth::AuthSchemeOptionResolverParams;
use aws_smithy_runtime_api::client::auth::static_resolver::StaticAuthSchemeOptionResolver;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder;
use aws_smithy_runtime_api::client::runtime_plugin::StaticRuntimePlugin;
use aws_smithy_types::config_bag::{FrozenLayer, Layer};
use aws_smithy_types::error::ErrorMetadata;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::retry::RetryConfig;
use aws_types::SdkConfig;
use aws_types::SigningName;
use aws_types::region::{Region as AwsRegion, SigningRegion};
use aws_types::service_config::ServiceConfigKey;

/// A service's error answer: its code and message (classified above this
/// layer by `crate::error::classify`, like every SDK error).
#[derive(Debug)]
pub struct AwsError {
    meta: ErrorMetadata,
}

impl AwsError {
    pub fn new(code: &str, message: &str) -> Self {
        Self {
            meta: ErrorMetadata::builder().code(code).message(message).build(),
        }
    }
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}",
            self.meta.code().unwrap_or("Unknown"),
            self.meta.message().unwrap_or_default()
        )
    }
}

impl std::error::Error for AwsError {}

impl ProvideErrorMetadata for AwsError {
    fn meta(&self) -> &ErrorMetadata {
        &self.meta
    }
}

/// How a service's endpoint is found, as the SDK's generated client finds it.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    /// The service id of the `AWS_ENDPOINT_URL_<ID>` convention and of the
    /// profile's `services` section (`EC2`, `SSM`).
    pub service_id: &'static str,
    pub env: &'static str,
    /// The host's first label (`ec2` → `ec2.eu-west-1.amazonaws.com`).
    pub prefix: &'static str,
    /// SigV4's service name.
    pub signing_name: &'static str,
}

/// A service-specific override, the global one (`AWS_ENDPOINT_URL`), or the
/// regional endpoint of the region's partition (FIPS and dual-stack as
/// configured).
pub fn endpoint(sdk: &SdkConfig, service: &Endpoint, region: &str) -> String {
    if let Some(url) = endpoint_override(sdk, service) {
        return url;
    }
    let host = if sdk.use_fips().unwrap_or(false) {
        format!("{}-fips", service.prefix)
    } else {
        service.prefix.to_owned()
    };
    let dual = sdk.use_dual_stack().unwrap_or(false);
    let suffix = match (region.starts_with("cn-"), dual) {
        (true, true) => "api.amazonwebservices.com.cn",
        (true, false) => "amazonaws.com.cn",
        (false, true) => "api.aws",
        (false, false) => "amazonaws.com",
    };
    format!("https://{host}.{region}.{suffix}")
}

/// An operation of `service` in `region`, signed and retried as the SDK's
/// own clients are; the caller adds its serializer and deserializer.
pub fn operation_builder(
    sdk: &SdkConfig,
    region: &str,
    service: &Endpoint,
    calls: &ApiCallCounter,
    action: &'static str,
) -> OperationBuilder {
    operation_builder_at(
        sdk,
        region,
        &endpoint(sdk, service, region),
        service,
        calls,
        action,
    )
}

/// The configured override of `service`'s endpoint (its own, then the
/// global one), if any.
pub fn endpoint_override(sdk: &SdkConfig, service: &Endpoint) -> Option<String> {
    sdk.service_config()
        .and_then(|c| {
            c.load_config(
                ServiceConfigKey::builder()
                    .service_id(service.service_id)
                    .profile("endpoint_url")
                    .env(service.env)
                    .build()
                    .ok()?,
            )
        })
        .or_else(|| sdk.endpoint_url().map(str::to_owned))
}

/// As [`operation_builder`], sent to `url` and signed for `region` (a
/// global service such as IAM has one endpoint per partition).
pub fn operation_builder_at(
    sdk: &SdkConfig,
    region: &str,
    url: &str,
    service: &Endpoint,
    calls: &ApiCallCounter,
    action: &'static str,
) -> OperationBuilder {
    let mut layer = Layer::new("zonewarden-rpc");
    layer.store_put(AuthSchemeOptionResolverParams::new(()));
    layer.store_put(SigV4OperationSigningConfig {
        region: Some(SigningRegion::from(AwsRegion::new(region.to_owned()))),
        name: Some(SigningName::from_static(service.signing_name)),
        ..SigV4OperationSigningConfig::default()
    });
    let mut components = RuntimeComponentsBuilder::new("zonewarden-rpc")
        .with_auth_scheme(SigV4AuthScheme::new())
        .with_auth_scheme_option_resolver(Some(StaticAuthSchemeOptionResolver::new(vec![SIGV4])))
        .with_identity_cache(Some(
            sdk.identity_cache()
                .unwrap_or_else(|| IdentityCache::lazy().build()),
        ));
    if let Some(credentials) = sdk.credentials_provider() {
        components = components.with_identity_resolver(SIGV4, credentials);
    }
    let mut builder = Operation::builder()
        .service_name(service.signing_name)
        .operation_name(action)
        .endpoint_url(url)
        .standard_retry(
            &sdk.retry_config()
                .cloned()
                .unwrap_or_else(RetryConfig::standard),
        )
        .retry_classifier(AwsErrorCodeClassifier::<AwsError>::new())
        .retry_classifier(TransientErrorClassifier::<AwsError>::new())
        .retry_classifier(HttpStatusCodeClassifier::default())
        .interceptor(calls.clone())
        .runtime_plugin(
            StaticRuntimePlugin::new()
                .with_config(FrozenLayer::from(layer))
                .with_runtime_components(components),
        );
    if let Some(timeouts) = sdk.timeout_config() {
        builder = builder.timeout_config(timeouts.clone());
    }
    if let Some(http) = sdk.http_client() {
        builder = builder.http_client(http);
    }
    if let Some(sleep) = sdk.sleep_impl() {
        builder = builder.sleep_impl(sleep);
    }
    if let Some(time) = sdk.time_source() {
        builder = builder.time_source(time);
    }
    if let Some(version) = sdk.behavior_version() {
        builder = builder.behavior_version(version);
    }
    builder
}

/// An operation of a JSON 1.1 service (SSM, Route 53 Domains, ACM PCA): the
/// request's JSON in, the answer's JSON out.
pub type JsonOperation = aws_smithy_runtime::client::orchestrator::operation::Operation<
    serde_json::Value,
    serde_json::Value,
    AwsError,
>;

/// `action` of a JSON 1.1 service whose `X-Amz-Target` is
/// `<target_prefix>.<action>`, in `region`.
pub fn json_operation(
    sdk: &SdkConfig,
    region: &str,
    service: &Endpoint,
    calls: &ApiCallCounter,
    target_prefix: &'static str,
    action: &'static str,
) -> JsonOperation {
    operation_builder(sdk, region, service, calls, action)
        .serializer(move |body: serde_json::Value| {
            json_request(&format!("{target_prefix}.{action}"), &body)
        })
        .deserializer(json_response)
        .build()
}

/// The JSON 1.1 protocol: one POST naming the operation in `X-Amz-Target`.
pub fn json_request(
    target: &str,
    body: &serde_json::Value,
) -> Result<
    aws_smithy_runtime_api::client::orchestrator::HttpRequest,
    aws_smithy_runtime_api::box_error::BoxError,
> {
    let body = body.to_string();
    let request = http::Request::builder()
        .method("POST")
        .uri("/")
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", target)
        .header("content-length", body.len().to_string())
        .body(aws_smithy_types::body::SdkBody::from(body))?;
    Ok(aws_smithy_runtime_api::client::orchestrator::HttpRequest::try_from(request)?)
}

/// A JSON 1.1 answer: its JSON, or the error answer's code (`__type` or the
/// `x-amzn-errortype` header, e.g. `ParameterNotFound`) and message.
pub fn json_response(
    response: &aws_smithy_runtime_api::client::orchestrator::HttpResponse,
) -> Result<
    serde_json::Value,
    aws_smithy_runtime_api::client::orchestrator::OrchestratorError<AwsError>,
> {
    use aws_smithy_runtime_api::client::orchestrator::OrchestratorError;
    let body = response.body().bytes().unwrap_or_default();
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or(serde_json::Value::Null);
    if !response.status().is_success() {
        let code = response
            .headers()
            .get("x-amzn-errortype")
            .map(str::to_owned)
            .or_else(|| json["__type"].as_str().map(str::to_owned))
            .unwrap_or_else(|| format!("HTTP {}", response.status().as_u16()));
        // `aws.protocols#awsJson1_1`: the code may carry a namespace before
        // `#` and details after `:`.
        let code = code.rsplit('#').next().unwrap_or_default();
        let code = code.split(':').next().unwrap_or_default();
        let message = json["message"]
            .as_str()
            .or_else(|| json["Message"].as_str())
            .unwrap_or_default();
        return Err(OrchestratorError::operation(AwsError::new(code, message)));
    }
    if json.is_null() {
        return Err(OrchestratorError::other(
            "the service answered with something that is not JSON",
        ));
    }
    Ok(json)
}

/// What the JSON 1.1 adapters' unit tests share: an SDK configuration whose
/// HTTP client answers from a list.
#[cfg(test)]
pub(crate) mod testing {
    use aws_smithy_http_client::test_util::infallible_client_fn;
    use aws_smithy_types::body::SdkBody;
    use aws_types::SdkConfig;
    use serde_json::Value;
    use std::sync::{Arc, Mutex};

    /// An SDK configuration sending its requests to `http`, without retries.
    pub(crate) fn sdk_with(
        http: aws_smithy_runtime_api::client::http::SharedHttpClient,
    ) -> SdkConfig {
        SdkConfig::builder()
            .region(aws_config::Region::new("eu-west-1"))
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(
                    aws_credential_types::Credentials::new(
                        "AKIDTEST", "secret", None, None, "test",
                    ),
                ),
            )
            .retry_config(aws_smithy_types::retry::RetryConfig::disabled())
            .http_client(http)
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build()
    }

    /// An SDK configuration whose HTTP client answers the requests it gets
    /// (one JSON 1.1 operation, `target`, of `service` in eu-west-1), in
    /// order, with `answers` (status, body); it keeps the JSON bodies sent.
    pub(crate) fn answering(
        service: &'static str,
        target: &'static str,
        answers: Vec<(u16, String)>,
    ) -> (SdkConfig, Arc<Mutex<Vec<Value>>>) {
        let sent = Arc::new(Mutex::new(Vec::new()));
        let seen = sent.clone();
        let http = infallible_client_fn(move |req: http::Request<SdkBody>| {
            assert_eq!(
                req.uri().to_string(),
                format!("https://{service}.eu-west-1.amazonaws.com/")
            );
            assert_eq!(
                req.headers()
                    .get("x-amz-target")
                    .map(|v| v.to_str().unwrap()),
                Some(target)
            );
            let auth = req.headers().get("authorization").expect("signed");
            assert!(
                auth.to_str()
                    .unwrap()
                    .contains(&format!("/eu-west-1/{service}/aws4_request")),
                "{auth:?}"
            );
            let body: Value =
                serde_json::from_slice(req.body().bytes().expect("body")).expect("json");
            let mut seen = seen.lock().unwrap();
            seen.push(body);
            let (status, text) = answers
                .get(seen.len() - 1)
                .cloned()
                .unwrap_or((500, "{}".into()));
            http::Response::builder()
                .status(status)
                .body(text)
                .expect("response")
        });
        (sdk_with(http), sent)
    }
}
