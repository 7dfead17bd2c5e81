//! Everything the handler needs, built once at init and cloned per invocation.

use std::sync::Arc;
use zw_aws::metrics::EmfSink;
use zw_aws::{AwsOptions, Services, SystemClock, load_sdk_config};
use zw_core::Config;
use zw_core::config::ConfigErrors;

#[derive(Debug, Clone)]
pub struct Deps {
    pub config: Arc<Config>,
    pub services: Services,
    pub metrics: EmfSink,
    pub clock: SystemClock,
}

impl Deps {
    /// Reads `ZW_*` once. In Lambda the table is required: a function that
    /// cannot remember findings would alert on every run.
    pub async fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigErrors> {
        let config = Config::from_vars(vars)?;
        if config.table_name.is_none() {
            return Err(ConfigErrors(vec![
                "ZW_TABLE_NAME: required in Lambda (the SAM template sets it to the findings table)".into(),
            ]));
        }
        let sdk = load_sdk_config(&AwsOptions::default()).await;
        Ok(Self::with_sdk(config, &sdk, EmfSink::stdout()))
    }

    pub fn with_sdk(config: Config, sdk: &zw_aws::SdkConfig, metrics: EmfSink) -> Self {
        let services = Services::new(sdk, &config);
        Self {
            config: Arc::new(config),
            services,
            metrics,
            clock: SystemClock,
        }
    }
}
