//! AWS adapters for zonewarden's ports: ACM and Route 53 collectors, the
//! DynamoDB finding store, CloudWatch metric sinks (EMF and PutMetricData),
//! and the rate limiting that keeps us inside shared account quotas.
//!
//! Adapters do paging, conversion and error classification once; they never
//! decide severity (that is `zw-core`'s rules).

pub mod acm;
pub mod clock;
pub mod connect;
pub mod error;
pub mod limiter;
pub mod metrics;
pub mod route53;
pub mod store;
pub mod usage;

pub use aws_config::SdkConfig;
pub use clock::SystemClock;
pub use connect::{AwsOptions, Services, load_sdk_config};
