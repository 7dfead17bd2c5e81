//! AWS adapters for zonewarden's ports: ACM and Route 53 collectors, the
//! DynamoDB finding store and DNS inventory cache, CloudWatch metric sinks
//! (EMF and PutMetricData), the account's DNS targets (S3, CloudFront, load
//! balancers, Beanstalk, API Gateway, EC2 addresses, `ip-ranges.json`), the
//! expectations document (SSM or a file), and the rate limiting that keeps us
//! inside shared account quotas.
//!
//! Adapters do paging, conversion and error classification once; they never
//! decide severity (that is `zw-core`'s rules).

pub mod acm;
pub mod budget;
pub mod clock;
pub mod connect;
pub mod ct;
pub mod document;
pub mod domains;
pub(crate) mod download;
pub mod ec2;
pub mod error;
pub mod events;
pub mod export;
pub mod health;
pub mod iam;
pub mod inventory;
pub mod ip_ranges;
pub mod license;
pub mod limiter;
pub mod metrics;
pub mod org;
pub mod private_ca;
pub mod published;
pub mod query_logs;
pub mod resolver;
pub mod resume;
pub mod route53;
pub mod rpc;
pub mod ses;
pub mod store;
pub mod table;
pub mod targets;
pub mod triage;
pub mod usage;

pub use aws_config::SdkConfig;
pub use clock::SystemClock;
pub use connect::{AwsOptions, Services, load_sdk_config, with_timeouts};
