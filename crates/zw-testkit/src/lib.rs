//! Test and demo support for zonewarden.
//!
//! - [`Moto`]: a private moto server (AWS emulator) per test binary, on a free
//!   loopback port, killed on drop. Needs `scripts/setup` to have installed
//!   `.venv/bin/moto_server` (or `MOTO_SERVER_BIN`).
//! - [`certs`]: X.509 certificates with any validity window (rcgen).
//! - [`seed`]: creating certificates, zones, records and the findings table
//!   through the real SDK clients, and the whole demo account
//!   ([`seed::seed_demo_estate`]).
//!
//! moto's limits that tests meet (details in [`seed`]): `InUseBy` is always
//! empty, `RenewalEligibility` always `INELIGIBLE`, requested certificates turn
//! ISSUED after a fixed wait whatever DNS says, every validation CNAME has the
//! same value, expired certificates cannot be imported, DynamoDB TTL is never
//! enforced.
//!
//! ```no_run
//! # async fn demo() -> Result<(), zw_testkit::TestkitError> {
//! let moto = zw_testkit::Moto::start()?;
//! let sdk = moto.sdk_config("eu-west-1").await;
//! let estate = zw_testkit::seed::seed_demo_estate(&sdk, &["eu-west-1", "us-east-1"]).await?;
//! assert!(estate.arn(zw_testkit::seed::labels::HEALTHY).is_some());
//! # Ok(()) }
//! ```

pub mod certs;
mod error;
mod moto;
pub mod seed;

pub use certs::{CaSignedCert, GeneratedCert};
pub use error::{Result, TestkitError};
pub use moto::{ACM_VALIDATION_WAIT_SECS, MOTO_SERVER_BIN_ENV, Moto, repo_root, sdk_config_for};
pub use seed::{DemoCertificate, DemoEstate, ValidationRecord};
