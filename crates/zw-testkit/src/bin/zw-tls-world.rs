//! Seeds the endpoints and health families' world (`secure.test.`, a load
//! balancer, health checks) into the local emulator and serves its TLS
//! endpoints and lab DNS on loopback, for the demo.
//!
//! ```text
//! zw-tls-world [--seconds N] [--env FILE]
//! ```
//!
//! Writes the `export ZW_...` lines that point zonewarden at the lab to FILE
//! (default: stdout), then serves for N seconds (default 600) and exits.
//! Talks only to an emulator at a loopback AWS_ENDPOINT_URL.

use std::process::ExitCode;
use zw_core::ports::Clock;
use zw_testkit::tls_world;
use zw_testkit::world_cli::{self, WorldArgs};

const USAGE: &str = "usage: zw-tls-world [--seconds N] [--env FILE]";

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("zw-tls-world: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let args = WorldArgs::from_env(USAGE)?;
    let sdk = world_cli::emulator().await?;
    let world = tls_world::tls_world(&sdk, zw_aws::SystemClock.now()).await?;
    world_cli::publish_and_serve(&args, &world.exports(), &world.roots_file).await
}
