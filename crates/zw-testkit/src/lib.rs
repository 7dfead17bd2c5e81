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
pub mod ct_world;
pub mod dns_world;
pub mod domains;
mod error;
pub mod fault_proxy;
pub mod iam;
pub mod ip_ranges;
pub mod logs;
pub mod mail_world;
mod moto;
pub mod moto_ec2;
pub mod moto_http;
pub mod private_ca;
pub mod query_log_world;
pub mod seed;
pub mod ses;
pub mod tls_lab;
pub mod tls_world;
pub mod world_cli;

use std::net::IpAddr;

/// The seeding tools refuse any endpoint but these, so that they can never
/// touch a real AWS account: `http(s)://HOST[:PORT][/...]` where HOST is `localhost` or a loopback IP.
pub fn is_loopback_url(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
    else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return false;
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        match v6.split_once(']') {
            Some((host, tail)) if tail.is_empty() || tail.starts_with(':') => host,
            _ => return false,
        }
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

pub use certs::{CaSignedCert, GeneratedCert};
pub use error::{Result, TestkitError};
pub use moto::{ACM_VALIDATION_WAIT_SECS, MOTO_SERVER_BIN_ENV, Moto, repo_root, sdk_config_for};
pub use seed::{DemoCertificate, DemoEstate, ValidationRecord};

#[cfg(test)]
mod tests {
    use super::is_loopback_url;

    #[test]
    fn only_loopback_endpoints_pass() {
        for ok in [
            "http://127.0.0.1:5055",
            "http://127.0.0.1:5055/",
            "http://localhost:5055",
            "https://LOCALHOST",
            "http://127.1.2.3:80/x",
            "http://[::1]:5055",
        ] {
            assert!(is_loopback_url(ok), "{ok}");
        }
        for bad in [
            "",
            "127.0.0.1:5055",
            "https://acm.eu-west-1.amazonaws.com",
            "http://127.0.0.1.evil.example:5055",
            "http://localhost.evil.example",
            "http://user@127.0.0.1:5055",
            "http://[::2]:5055",
            "http://10.0.0.1:5055",
            "ftp://127.0.0.1",
        ] {
            assert!(!is_loopback_url(bad), "{bad}");
        }
    }
}
