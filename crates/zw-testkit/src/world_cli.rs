//! What the `zw-*-world` binaries share: their arguments, the refusal of
//! any endpoint but a loopback emulator, the exports file, the bounded
//! serving time.

use anyhow::{Context, bail};
use std::io::Write;
use std::time::Duration;

/// `--seconds N` (default 600) and `--env FILE` (default: stdout).
#[derive(Debug)]
pub struct WorldArgs {
    pub seconds: u64,
    pub env_file: Option<String>,
}

impl WorldArgs {
    /// The process's arguments; `usage` names the binary's own.
    pub fn from_env(usage: &str) -> anyhow::Result<Self> {
        let mut args = std::env::args().skip(1);
        let mut out = Self {
            seconds: 600,
            env_file: None,
        };
        while let Some(a) = args.next() {
            let mut value = |what: &str| args.next().with_context(|| format!("{a} needs {what}"));
            match a.as_str() {
                "--seconds" => out.seconds = value("N")?.parse()?,
                "--env" => out.env_file = Some(value("FILE")?),
                other => bail!("unknown argument {other}\n{usage}"),
            }
        }
        Ok(out)
    }
}

/// The SDK configuration of the emulator at `AWS_ENDPOINT_URL`, which must
/// be on loopback.
pub async fn emulator() -> anyhow::Result<aws_config::SdkConfig> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    if !crate::is_loopback_url(&endpoint) {
        bail!("AWS_ENDPOINT_URL must be a loopback emulator URL (got `{endpoint}`)");
    }
    Ok(crate::sdk_config_for(&endpoint, "us-east-1").await)
}

/// Writes `exports` where the arguments say, serves for their time (the
/// caller's servers run meanwhile), then removes `roots_file`.
pub async fn publish_and_serve(
    args: &WorldArgs,
    exports: &str,
    roots_file: &std::path::Path,
) -> anyhow::Result<()> {
    match &args.env_file {
        Some(f) => std::fs::write(f, exports).with_context(|| format!("writing {f}"))?,
        None => {
            let mut out = std::io::stdout();
            out.write_all(exports.as_bytes())?;
            out.flush()?;
        }
    }
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    let _ = std::fs::remove_file(roots_file);
    Ok(())
}
