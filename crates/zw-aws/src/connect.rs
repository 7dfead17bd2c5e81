//! Builds the one `SdkConfig` of the process and the clients derived from it.
//! Standard AWS settings (`AWS_PROFILE`, `AWS_REGION`, `AWS_ENDPOINT_URL`,
//! credential chain) keep their usual meaning; the CLI's `--profile`,
//! `--region` and `--endpoint-url` override them the way the AWS CLI does.

use crate::acm::AcmCollector;
use crate::budget::TableBudget;
use crate::events::EventBridgeSink;
use crate::metrics::CloudWatchSink;
use crate::resume::ResumeCursor;
use crate::route53::Route53Collector;
use crate::store::DynamoStore;
use crate::usage::ApiCallCounter;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use std::time::Duration;
use zw_core::Config;
use zw_core::config::AwsTimeouts;

/// Overrides of the standard AWS settings, from CLI flags.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    pub profile: Option<String>,
    /// Used as the home region (DynamoDB, CloudWatch) only when neither the
    /// environment nor the profile names one.
    pub fallback_region: Option<String>,
    pub endpoint_url: Option<String>,
}

/// Loads the SDK configuration once. Retries: the SDK's standard mode, which
/// backs off exponentially with full jitter on throttling and transient errors.
pub async fn load_sdk_config(opts: &AwsOptions) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(
        RetryConfig::standard()
            .with_max_attempts(6)
            .with_initial_backoff(Duration::from_millis(200))
            .with_max_backoff(Duration::from_secs(10)),
    );
    if let Some(p) = &opts.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = &opts.fallback_region {
        let mut chain = aws_config::default_provider::region::DefaultRegionChain::builder();
        if let Some(p) = &opts.profile {
            chain = chain.profile_name(p);
        }
        loader = loader.region(
            aws_config::meta::region::RegionProviderChain::first_try(chain.build())
                .or_else(aws_config::Region::new(r.clone())),
        );
    }
    if let Some(e) = &opts.endpoint_url {
        loader = loader.endpoint_url(e);
    }
    // Set before loading: the loader builds clients of its own (the
    // credential providers' STS and SSO clients) with it.
    loader
        .http_client(SharedHttpClient::new(RootsOnFirstRequest(
            sdk_https_client(),
        )))
        .load()
        .await
}

/// The client aws-config would build by default (aws-smithy-runtime's
/// `default_https_client`): rustls with aws-lc, the connector settings and
/// sleep of each client, and a proxy from the environment (`HTTPS_PROXY`,
/// `NO_PROXY`), as the SDK's current behavior version does.
fn sdk_https_client() -> SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    use aws_smithy_http_client::{Builder, ConnectorBuilder};
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector =
            ConnectorBuilder::default().tls_provider(Provider::Rustls(CryptoMode::AwsLc));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

/// The SDK's own HTTPS client, unchanged but for one thing: the platform's
/// root certificates are loaded on the first request, not when each client
/// is built. The smithy client loads them in `validate_base_client_config`
/// (every file of `/etc/ssl/certs`: 5-8 ms of each cold start, most of the
/// functions' init); a function's first AWS call pays it once instead, and
/// the roots stay cached for the process (the SDK keeps them in a static).
#[derive(Debug)]
struct RootsOnFirstRequest(SharedHttpClient);

impl HttpClient for RootsOnFirstRequest {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn validate_final_config(
        &self,
        components: &RuntimeComponents,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.validate_final_config(components, cfg)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// The SDK configuration with `timeouts` on every request of every client
/// built from it. Applied after loading, because the CLI reads the settings
/// only once the SDK has resolved the region.
pub fn with_timeouts(sdk: &SdkConfig, timeouts: &AwsTimeouts) -> SdkConfig {
    let ms = |n: u32| Duration::from_millis(u64::from(n));
    sdk.to_builder()
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(ms(timeouts.connect_ms))
                .operation_attempt_timeout(ms(timeouts.attempt_ms))
                .operation_timeout(ms(timeouts.operation_ms))
                .build(),
        )
        .build()
}

/// The adapters every family and the shared tail use, built once per process
/// (Lambda init or CLI start) from one `SdkConfig`. Cheap to clone: SDK
/// clients are handles. Family-specific adapters (the DNS probe, AWS target
/// look-ups) are built beside it only by what runs that family.
#[derive(Debug, Clone)]
pub struct Services {
    /// Counts every request the clients below send.
    pub calls: ApiCallCounter,
    pub acm: AcmCollector,
    /// One account-wide Route 53 budget for every family of the process.
    pub route53: Route53Collector,
    pub store: Option<DynamoStore>,
}

impl Services {
    pub fn new(sdk: &SdkConfig, cfg: &Config) -> Self {
        Self::split(sdk, sdk, cfg, crate::table::Partition::single())
    }

    /// Collectors on `collect` (a member account's assumed role, in
    /// organization mode), the findings table on `table` (the central
    /// account's own credentials) under `partition`.
    pub fn split(
        collect: &SdkConfig,
        table: &SdkConfig,
        cfg: &Config,
        partition: crate::table::Partition,
    ) -> Self {
        let sdk = collect;
        let calls = ApiCallCounter::default();
        let (common, certs) = (&cfg.common, &cfg.certificates);
        let store = common.table_name.as_ref().map(|t| {
            DynamoStore::new(table, t.clone(), common.history_retention_days, &calls)
                .in_partition(partition.clone())
                .with_scan_retention(common.scan_retention_days)
                .with_suppressions(crate::document::Document::choose(
                    table,
                    common.suppressions_parameter.as_deref(),
                    common.suppressions_file.as_deref(),
                    &calls,
                ))
        });
        let mut route53 = Route53Collector::new(sdk, common.route53_rps, &calls);
        if let Some(store) = &store {
            route53 = route53.with_shared_budget(
                TableBudget::new(
                    store.client().clone(),
                    store.table().to_owned(),
                    "route53",
                    common.route53_rps,
                )
                .in_partition(partition.clone()),
            );
        }
        let mut acm = AcmCollector::new(
            sdk,
            &common.regions,
            certs.acm_rps,
            certs.acm_concurrency,
            &calls,
        );
        if let Some(store) = &store {
            acm = acm.with_resume(
                ResumeCursor::new(store.client().clone(), store.table().to_owned())
                    .in_partition(partition),
            );
        }
        Self {
            acm,
            route53,
            store,
            calls,
        }
    }

    /// The finding events' sink (EventBridge `PutEvents`).
    pub fn events(&self, sdk: &SdkConfig, cfg: &zw_core::config::CommonConfig) -> EventBridgeSink {
        EventBridgeSink::new(sdk, cfg.event_bus_name.clone(), &self.calls)
    }

    /// The PutMetricData sink (the CLI's; functions publish EMF instead).
    pub fn cloudwatch(&self, sdk: &SdkConfig) -> CloudWatchSink {
        CloudWatchSink::new(sdk, &self.calls)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_http_client::test_util::infallible_client_fn;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// An HTTP client that counts what the SDK asks of it.
    #[derive(Debug, Clone, Default)]
    struct Counting {
        validated: Arc<AtomicUsize>,
        connectors: Arc<AtomicUsize>,
    }

    impl HttpClient for Counting {
        fn http_connector(
            &self,
            settings: &HttpConnectorSettings,
            components: &RuntimeComponents,
        ) -> SharedHttpConnector {
            self.connectors.fetch_add(1, Ordering::SeqCst);
            infallible_client_fn(|_| {
                http::Response::builder()
                    .status(200)
                    .body("{}")
                    .expect("response")
            })
            .http_connector(settings, components)
        }

        fn validate_base_client_config(
            &self,
            _: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder,
            _: &ConfigBag,
        ) -> Result<(), BoxError> {
            // Where the SDK's own client loads the platform's roots.
            self.validated.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    #[tokio::test]
    async fn clients_are_built_without_loading_roots_and_the_first_request_connects() {
        let inner = Counting::default();
        let sdk = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(aws_config::Region::new("eu-west-1"))
            .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(
                aws_sdk_dynamodb::config::Credentials::for_tests(),
            ))
            .http_client(SharedHttpClient::new(RootsOnFirstRequest(
                SharedHttpClient::new(inner.clone()),
            )))
            .build();
        let ddb = aws_sdk_dynamodb::Client::new(&sdk);
        let _also = aws_sdk_dynamodb::Client::new(&sdk);
        assert_eq!(
            inner.validated.load(Ordering::SeqCst),
            0,
            "nothing loaded at build"
        );
        assert_eq!(inner.connectors.load(Ordering::SeqCst), 0);
        ddb.list_tables().send().await.expect("answered");
        assert!(
            inner.connectors.load(Ordering::SeqCst) >= 1,
            "the request connected"
        );
        assert_eq!(inner.validated.load(Ordering::SeqCst), 0);

        // The control: the same client unwrapped is validated (roots loaded)
        // as soon as an SDK client is built.
        let bare = Counting::default();
        let sdk = sdk
            .to_builder()
            .http_client(SharedHttpClient::new(bare.clone()))
            .build();
        let _ = aws_sdk_dynamodb::Client::new(&sdk);
        assert!(bare.validated.load(Ordering::SeqCst) >= 1);
    }
}
