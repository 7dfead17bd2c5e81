//! Seeds the zonewarden demo account into a local emulator.
//!
//! ```text
//! scripts/moto start && eval "$(scripts/moto env)"
//! cargo run -p zw-testkit --bin zw-demo-seed -- [--table NAME] [REGION...]
//! cargo run -p zw-testkit --bin zw-demo-seed -- --only domains|private-cas|iam-certificates|query-logs|query-log-day [REGION]
//! ```
//!
//! Talks to `AWS_ENDPOINT_URL` only, and refuses to run unless that is a
//! loopback URL: the demo must never touch a real account. Credentials are the
//! static `testing` pair whatever the environment holds. Regions default to
//! `eu-west-1 us-east-1`; the findings table (default `zonewarden-demo`) is
//! created in the first. Prints the labelled ARNs as JSON on stdout.

use anyhow::{Context, bail};
use std::io::Write;
use std::process::ExitCode;
use zw_testkit::is_loopback_url;

const USAGE: &str = "usage: zw-demo-seed [--table NAME] [REGION...]
       zw-demo-seed --only domains|private-cas|iam-certificates|query-logs|query-log-day [REGION]

Seeds the demo account (certificates, the demo-shop.example zone, the findings
table) into the emulator at AWS_ENDPOINT_URL, which must be a loopback URL
(scripts/moto start; eval \"$(scripts/moto env)\"). Regions default to
eu-west-1 us-east-1; the table (default zonewarden-demo) goes to the first.
--only seeds one family's resources instead, and prints what it made:
  domains           two domains in Route 53 Domains (moto creates their zones)
  private-cas       four ACM Private CAs in the first region (pending, ending
                    in 10 days, disabled, healthy)
  iam-certificates  three IAM server certificates (ending in 10 days and
                    served by a load balancer in us-east-1, expired, fresh)
  query-logs        the zones traffic.example (query logging to
                    /aws/route53/traffic.example) and quiet.example (none),
                    Resolver query logging in REGION to /vpc/dns-queries
  query-log-day     then: old.traffic.example deleted, a day of query log
                    lines in both log groups (zw_testkit::query_log_world)";

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("zw-demo-seed: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let mut table = "zonewarden-demo".to_owned();
    let mut regions: Vec<String> = Vec::new();
    let mut only: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => {
                eprintln!("{USAGE}");
                return Ok(());
            }
            "--only" => only = Some(args.next().context("--only needs what to seed")?),
            "--table" => table = args.next().context("--table needs a NAME")?,
            other if other.starts_with("--table=") => {
                table = other.trim_start_matches("--table=").to_owned();
            }
            other if other.starts_with('-') => bail!("unknown option {other}\n\n{USAGE}"),
            region => regions.push(region.to_owned()),
        }
    }
    if table.is_empty() {
        bail!("--table needs a non-empty NAME");
    }
    if regions.is_empty() {
        regions = vec!["eu-west-1".to_owned(), "us-east-1".to_owned()];
    }

    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    if endpoint.is_empty() {
        bail!(
            "AWS_ENDPOINT_URL is not set. zw-demo-seed only seeds a local emulator: \
             run scripts/moto start, then eval \"$(scripts/moto env)\""
        );
    }
    if !is_loopback_url(&endpoint) {
        bail!(
            "AWS_ENDPOINT_URL={endpoint} is not a loopback URL (http://127.0.0.1:PORT, \
             http://localhost:PORT, http://[::1]:PORT); refusing to seed: the demo must \
             never touch a real account"
        );
    }

    let region_refs: Vec<&str> = regions.iter().map(String::as_str).collect();
    let sdk = zw_testkit::sdk_config_for(&endpoint, region_refs[0]).await;
    let mut shown = std::io::stdout().lock();
    match only.as_deref() {
        None => {}
        Some("domains") => {
            let names = zw_testkit::domains::register_demo_domains(&sdk)
                .await
                .context("registering the demo domains")?;
            writeln!(shown, "{}", serde_json::json!({ "domains": names }))?;
            return Ok(());
        }
        Some("private-cas") => {
            let now = zw_core::ports::Clock::now(&zw_aws::SystemClock);
            let cas = zw_testkit::private_ca::seed(&sdk, region_refs[0], now)
                .await
                .context("creating the demo private CAs")?;
            let json = serde_json::json!({
                "pending": cas.pending,
                "expiring": cas.expiring,
                "disabled": cas.disabled,
                "healthy": cas.healthy,
            });
            writeln!(shown, "{json}")?;
            return Ok(());
        }
        Some("iam-certificates") => {
            let now = zw_core::ports::Clock::now(&zw_aws::SystemClock);
            let day = chrono::Duration::days(1);
            let iam = |name, domain, end| zw_testkit::iam::upload(&sdk, name, domain, end);
            // An hour more than 10 days: "ends in 10 days" while the demo runs.
            let ten_days = now + day * 10 + chrono::Duration::hours(1);
            let expiring = iam("legacy-www", "www.legacy-shop.example", ten_days)
                .await
                .context("uploading the demo IAM certificates")?;
            iam("old-api", "api.legacy-shop.example", now - day * 3).await?;
            iam("fresh", "fresh.legacy-shop.example", now + day * 365).await?;
            let east = zw_testkit::sdk_config_for(&endpoint, "us-east-1").await;
            let lb = zw_testkit::tls_world::load_balancer(&east, &expiring)
                .await
                .context("creating the load balancer that serves legacy-www")?;
            writeln!(
                shown,
                "{}",
                serde_json::json!({"served": expiring, "load_balancer": lb})
            )?;
            return Ok(());
        }
        Some("query-logs") => {
            let world = zw_testkit::query_log_world::setup(&sdk, region_refs[0], "demo")
                .await
                .context("creating the query-log world")?;
            writeln!(
                shown,
                "{}",
                serde_json::json!({"zone": world.zone_id, "quiet": world.quiet_id})
            )?;
            return Ok(());
        }
        Some("query-log-day") => {
            let now = zw_core::ports::Clock::now(&zw_aws::SystemClock);
            let end = zw_core::families::query_logs::window_end(now);
            let world = zw_testkit::query_log_world::find(&sdk, region_refs[0])
                .await
                .context("finding the query-log world (seed --only query-logs first)")?;
            let (public, resolver) = zw_testkit::query_log_world::log_a_day(&sdk, &world, end)
                .await
                .context("logging a day of queries")?;
            writeln!(
                shown,
                "{}",
                serde_json::json!({"public_lines": public, "resolver_records": resolver})
            )?;
            return Ok(());
        }
        Some(other) => {
            bail!(
                "--only {other}: seed domains, private-cas, iam-certificates, query-logs or query-log-day\n\n{USAGE}"
            )
        }
    }
    eprintln!(
        "zw-demo-seed: seeding {} in {} (waits for moto's MOTO_ACM_VALIDATION_WAIT)",
        endpoint,
        region_refs.join(", ")
    );
    let estate = zw_testkit::seed::seed_demo_estate(&sdk, &region_refs)
        .await
        .context("seeding the demo certificates and zone")?;

    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    zw_testkit::seed::create_table(&ddb, &table)
        .await
        .with_context(|| format!("creating table {table}"))?;

    let mut out = estate.to_json();
    out["table"] = serde_json::json!({"name": table, "region": region_refs[0]});
    out["endpoint"] = serde_json::Value::String(endpoint);
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, &out)?;
    writeln!(stdout)?;
    Ok(())
}
