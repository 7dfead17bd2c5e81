//! Counts the AWS API requests the adapters send (retries included), per
//! service and operation, so every scan can say what it cost in API calls:
//! Route 53's 5 requests/s are shared with the rest of the account.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use zw_core::ports::ApiUsage;

/// Shared by every client of the process; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct ApiCallCounter {
    calls: Arc<Mutex<BTreeMap<String, u64>>>,
    endpoints: Arc<Mutex<BTreeSet<String>>>,
}

impl ApiCallCounter {
    /// Every `scheme://host:port` a request was sent to: what the privacy
    /// test checks (AWS endpoints only, nothing else).
    pub fn endpoints(&self) -> BTreeSet<String> {
        self.endpoints.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

impl Intercept for ApiCallCounter {
    fn name(&self) -> &'static str {
        "ApiCallCounter"
    }

    /// Runs once per attempt that goes on the wire, so retries count too.
    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(meta) = cfg.load::<Metadata>() {
            let service: String = meta
                .service()
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            let key = format!("{}:{}", service.to_ascii_lowercase(), meta.name());
            if let Ok(mut calls) = self.calls.lock() {
                *calls.entry(key).or_default() += 1;
            }
        }
        let uri = context.request().uri();
        let endpoint = match uri.split_once("://") {
            Some((scheme, rest)) => {
                format!("{scheme}://{}", rest.split('/').next().unwrap_or_default())
            }
            None => uri.to_owned(),
        };
        if let Ok(mut endpoints) = self.endpoints.lock() {
            endpoints.insert(endpoint);
        }
        Ok(())
    }
}

impl ApiUsage for ApiCallCounter {
    fn calls(&self) -> BTreeMap<String, u64> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
}
