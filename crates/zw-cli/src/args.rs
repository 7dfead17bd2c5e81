//! Command-line arguments. AWS flags behave like the AWS CLI's.

use clap::{Args, Parser, Subcommand, ValueEnum};
use zw_core::Severity;

#[derive(Debug, Parser)]
#[command(
    name = "zonewarden",
    version,
    about = "DNS and certificate monitoring for AWS, run from your own account",
    long_about = "Scans ACM certificates (and, later, Route 53 DNS and health checks) with the standard AWS credential chain. \
Use --no-write for a read-only look at an account before deploying."
)]
pub struct Cli {
    #[command(flatten)]
    pub aws: AwsArgs,
    /// More log output on stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct AwsArgs {
    /// Named profile from your AWS config files (like the AWS CLI's --profile).
    #[arg(long, global = true, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// Send every AWS call to this endpoint (e.g. a local moto server).
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scan once and print its findings.
    Scan {
        #[command(subcommand)]
        what: ScanTarget,
    },
}

#[derive(Debug, Subcommand)]
pub enum ScanTarget {
    /// ACM certificates: expiry, status, renewal eligibility and readiness.
    Certificates(ScanArgs),
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// ACM region to scan; repeat for several. Default: ZW_REGIONS, else your
    /// home region plus us-east-1 (CloudFront's).
    #[arg(long = "region", value_name = "REGION")]
    pub regions: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Read-only: write no findings, history or metrics.
    #[arg(long)]
    pub no_write: bool,
    /// DynamoDB table to keep findings in (default: ZW_TABLE_NAME).
    #[arg(long, value_name = "NAME")]
    pub table: Option<String>,
    /// Exit with status 3 when an open finding is at least this severe.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}
