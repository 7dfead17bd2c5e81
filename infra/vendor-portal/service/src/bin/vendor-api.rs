//! The vendor service in Lambda, behind an API Gateway HTTP API: the same
//! Router as `zw-vendor serve`. Configuration, clients and secrets are read
//! once at init; a bad configuration fails init with every problem listed.

use std::sync::Arc;
use zw_vendor::setup::{self, ServeOptions};
use zw_vendor::{Config, SystemClock};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = Config::from_vars(std::env::vars())?;
    let sdk = setup::load_sdk_config().await;
    let options = ServeOptions {
        secure_cookies: true,
        capture: None,
        clock: Arc::new(SystemClock),
        // Production staff sign-in is never switched off by a missing variable.
        require_staff_pool: true,
    };
    let vendor = setup::vendor(&config, &sdk, options).await?;
    lambda_http::run(zw_vendor::web::router(Arc::new(vendor))).await
}
