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

use anyhow::{Context, bail};
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;
use zw_core::ports::Clock;
use zw_testkit::{is_loopback_url, mail_world};

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
    let mut args = std::env::args().skip(1);
    let (mut seconds, mut env_file) = (600u64, None::<String>);
    while let Some(a) = args.next() {
        let mut value = |what: &str| args.next().with_context(|| format!("{a} needs {what}"));
        match a.as_str() {
            "--seconds" => seconds = value("N")?.parse()?,
            "--env" => env_file = Some(value("FILE")?),
            other => bail!("unknown argument {other}\n{USAGE}"),
        }
    }
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    if !is_loopback_url(&endpoint) {
        bail!("AWS_ENDPOINT_URL must be a loopback emulator URL (got `{endpoint}`)");
    }
    let sdk = zw_testkit::sdk_config_for(&endpoint, "us-east-1").await;
    let world = mail_world::mail_world(&sdk, zw_aws::SystemClock.now()).await?;
    let exports = world.exports();
    match &env_file {
        Some(f) => std::fs::write(f, &exports).with_context(|| format!("writing {f}"))?,
        None => {
            let mut out = std::io::stdout();
            out.write_all(exports.as_bytes())?;
            out.flush()?;
        }
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let _ = std::fs::remove_file(&world.roots_file);
    Ok(())
}
