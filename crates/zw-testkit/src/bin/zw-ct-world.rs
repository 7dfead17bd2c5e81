//! Seeds the Certificate Transparency watch's world (`ct.test.`, CAA for
//! Amazon only) into the local emulator and serves its DNS and a crt.sh
//! stand-in on loopback, for the demo. The stand-in logs two Let's Encrypt
//! certificates: one of a vendor ten days ago, one an hour ago.
//!
//! ```text
//! zw-ct-world [--seconds N] [--env FILE]
//! ```
//!
//! Writes the `export ZW_...` lines that point zonewarden at the lab to FILE
//! (default: stdout), then serves for N seconds (default 600) and exits.
//! Talks only to an emulator at a loopback AWS_ENDPOINT_URL.

use chrono::Duration;
use std::process::ExitCode;
use zw_core::ports::Clock;
use zw_testkit::ct_world::{self, Logged};
use zw_testkit::world_cli::{self, WorldArgs};

const USAGE: &str = "usage: zw-ct-world [--seconds N] [--env FILE]";

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("zw-ct-world: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let args = WorldArgs::from_env(USAGE)?;
    let sdk = world_cli::emulator().await?;
    let now = zw_aws::SystemClock.now();
    let world = ct_world::ct_world(&sdk, now).await?;
    world.log(&[
        Logged::new(
            1000,
            "0abc",
            &["ct.test", "www.ct.test"],
            now - Duration::days(10),
        ),
        Logged::new(3000, "0fed", &["login.ct.test"], now - Duration::hours(1)),
    ]);
    world_cli::publish_and_serve(&args, &world.exports(), &world.roots_file).await
}
