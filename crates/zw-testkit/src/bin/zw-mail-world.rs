//! Seeds the mail family's world (`mail.test.`, `parked.test.`, an SES
//! identity) into the local emulator and serves its DNS and MTA-STS policy
//! on loopback, for the demo.
//!
//! ```text
//! zw-mail-world [--seconds N] [--env FILE]
//! ```
//!
//! Writes the `export ZW_...` lines that point zonewarden at the lab to FILE
//! (default: stdout), then serves for N seconds (default 600) and exits.
//! Talks only to an emulator at a loopback AWS_ENDPOINT_URL.

use std::process::ExitCode;
use zw_core::ports::Clock;
use zw_testkit::mail_world;
use zw_testkit::world_cli::{self, WorldArgs};

const USAGE: &str = "usage: zw-mail-world [--seconds N] [--env FILE]";

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("zw-mail-world: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let args = WorldArgs::from_env(USAGE)?;
    let sdk = world_cli::emulator().await?;
    let world = mail_world::mail_world(&sdk, zw_aws::SystemClock.now()).await?;
    world_cli::publish_and_serve(&args, &world.exports(), &world.roots_file).await
}
