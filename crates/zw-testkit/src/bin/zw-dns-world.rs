//! Seeds hosted zones into the local emulator and serves "the internet's"
//! answers for them from authoritative DNS servers on loopback, for the demo
//! and the DNS benchmark.
//!
//! ```text
//! zw-dns-world demo  [--seconds N] [--env FILE]
//! zw-dns-world bench [--seconds N] [--env FILE] [--records N] [--servers N] [--drifted N]
//! ```
//!
//! Writes the `export ZW_DNS_...` lines that point zonewarden at the lab, and
//! `ZW_AWS_IP_RANGES_URL` at a loopback stand-in for AWS's `ip-ranges.json`
//! (this world is the internet), to FILE (default: stdout), then serves for
//! N seconds (default 600) and exits:
//! bounded, so a forgotten demo never keeps servers running. Talks only to an
//! emulator at a loopback AWS_ENDPOINT_URL.

use anyhow::{Context, bail};
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;
use zw_testkit::is_loopback_url;
use zw_testkit::{dns_world, ip_ranges};

const USAGE: &str = "usage: zw-dns-world demo|bench [--seconds N] [--env FILE] [--records N] [--servers N] [--drifted N]";

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("zw-dns-world: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().context(USAGE)?;
    let (mut seconds, mut env_file) = (600u64, None::<String>);
    let (mut records, mut servers, mut drifted) = (10_000usize, 4usize, 5usize);
    while let Some(a) = args.next() {
        let mut value = |what: &str| args.next().with_context(|| format!("{a} needs {what}"));
        match a.as_str() {
            "--seconds" => seconds = value("N")?.parse()?,
            "--env" => env_file = Some(value("FILE")?),
            "--records" => records = value("N")?.parse()?,
            "--servers" => servers = value("N")?.parse()?,
            "--drifted" => drifted = value("N")?.parse()?,
            other => bail!("unknown argument {other}\n{USAGE}"),
        }
    }
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    if !is_loopback_url(&endpoint) {
        bail!("AWS_ENDPOINT_URL must be a loopback emulator URL (got `{endpoint}`)");
    }
    let sdk = zw_testkit::sdk_config_for(&endpoint, "us-east-1").await;
    let world = match mode.as_str() {
        "demo" => dns_world::demo_world(&sdk).await?,
        "bench" => dns_world::bench_world(&sdk, records, servers, drifted).await?,
        _ => bail!("{USAGE}"),
    };
    let ip_ranges = ip_ranges::serve().await?;
    let exports = format!("{}{}", world.exports(), ip_ranges.export());
    match env_file {
        Some(path) => std::fs::write(&path, exports).with_context(|| format!("writing {path}"))?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(exports.as_bytes())?;
            out.flush()?;
        }
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    drop(world);
    drop(ip_ranges);
    Ok(())
}
