//! Command-line arguments. AWS flags behave like the AWS CLI's. Flags are
//! validated as flags (clap names the flag in its error); environment
//! variables are validated by the configuration, under their own names.

use crate::exit::{CliError, usage};
use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};
use zw_core::triage::{parse_for, parse_until};
use zw_core::{Region, Severity};

#[derive(Debug, Parser)]
#[command(
    name = "zonewarden",
    version,
    about = "DNS and certificate monitoring for AWS, run from your own account",
    long_about = "Scans ACM certificates and Route 53 DNS with the standard AWS credential chain. \
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
    #[arg(long, global = true, value_name = "URL", value_parser = parse_endpoint)]
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scan once and print its findings.
    Scan {
        #[command(subcommand)]
        what: ScanTarget,
    },
    /// The license: validate it now, show its standing, or show exactly
    /// what was sent to the vendor and when.
    License {
        #[command(subcommand)]
        what: LicenseCommand,
    },
    /// The findings the table holds now (open ones, most severe first), for
    /// this account or, in organization mode, for one member account.
    Findings(FindingsArgs),
    /// Accepted risk: suppress findings by code, resource, account, region
    /// or tag, each suppression with a reason, an owner and an end date.
    Suppress {
        #[command(subcommand)]
        what: SuppressCommand,
    },
    /// Who changed what through zonewarden, and when (suppressions,
    /// acknowledgements), oldest first.
    Audit(AuditArgs),
    /// What the scans looked at: certificates, zones, health checks, served
    /// endpoints, or the expiry calendar of everything with an end date.
    Inventory(InventoryArgs),
    /// One self-contained HTML file: are we OK, open findings with how to
    /// fix, suppressed and acknowledged ones, the expiry timeline, zones,
    /// health checks and the last scans. Makes no request when opened.
    Report(ReportArgs),
    /// Everything zonewarden keeps in its table, one JSON object per line
    /// (findings with history, scans, inventory, suppressions, audit log,
    /// license items, outbox).
    Export(ExportArgs),
    /// Delete every item zonewarden wrote to its table (never the table
    /// itself). Without --yes, only counts what it would delete.
    Purge(PurgeArgs),
    /// Maintenance of the findings table.
    Table {
        #[command(subcommand)]
        what: TableCommand,
    },
}

/// Flags of `zonewarden findings`.
#[derive(Debug, Args)]
pub struct FindingsArgs {
    /// A member account's findings (organization mode); default: the
    /// single-account deployment's own.
    #[arg(long, value_name = "ID", value_parser = parse_account)]
    pub account: Option<String>,
    /// The findings table (default: ZW_TABLE_NAME).
    #[arg(long, value_name = "NAME", value_parser = parse_table)]
    pub table: Option<String>,
    /// Only findings at least this severe.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub min_severity: Option<Severity>,
    /// Also list suppressed findings, each with its suppression's id,
    /// reason and end.
    #[arg(long)]
    pub include_suppressed: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(subcommand)]
    pub action: Option<FindingsAction>,
}

#[derive(Debug, Subcommand)]
pub enum FindingsAction {
    /// Someone is on it: the finding stays open and counted, but leaves the
    /// daily digest until it changes (severity, reopen), the
    /// acknowledgement ends, or it resolves.
    Ack(AckArgs),
}

/// Flags of `zonewarden findings ack`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("end").multiple(false))]
pub struct AckArgs {
    /// The finding's id (the `id` column of `zonewarden findings`).
    pub id: String,
    /// Why, and who is on it.
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// When the acknowledgement ends: a date (through that day, UTC) or an
    /// RFC 3339 time. Default: until the finding changes or resolves.
    #[arg(long, value_name = "DATE", group = "end")]
    pub until: Option<String>,
    /// When the acknowledgement ends, from now: `7d`, `2w`, `12h`.
    #[arg(long = "for", value_name = "DURATION", group = "end")]
    pub for_: Option<String>,
    /// A member account's finding (organization mode).
    #[arg(long, value_name = "ID", value_parser = parse_account)]
    pub account: Option<String>,
    /// The findings table (default: ZW_TABLE_NAME).
    #[arg(long, value_name = "NAME", value_parser = parse_table)]
    pub table: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum SuppressCommand {
    /// Suppress the findings that match (every given flag must match).
    Add(SuppressAddArgs),
    /// Every suppression: the table's and the suppressions document's.
    List(SuppressListArgs),
    /// Remove a suppression of the table (the document's are removed from
    /// the document).
    Remove(SuppressRemoveArgs),
}

/// Flags of `zonewarden suppress add`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("end").required(true).multiple(false))]
pub struct SuppressAddArgs {
    /// Finding code or glob (`dns.dangling-target`, `health.*`).
    #[arg(long, value_name = "GLOB")]
    pub code: String,
    /// Resource id (ARN, record set id, health check id) or name, or a glob.
    #[arg(long, value_name = "ID|GLOB")]
    pub resource: Option<String>,
    /// Only this member account's findings (organization mode).
    #[arg(long, value_name = "ID", value_parser = parse_account)]
    pub account: Option<String>,
    /// Only findings of this region (`global` for Route 53's).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Only resources with this tag (Route 53 health checks).
    #[arg(long, value_name = "KEY=VALUE")]
    pub tag: Option<String>,
    /// Why the risk is accepted (required).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// The end date: through that day (UTC), or an RFC 3339 time; at most
    /// 366 days away.
    #[arg(long, value_name = "DATE", group = "end")]
    pub until: Option<String>,
    /// The end, from now: `30d`, `2w`, `12h`.
    #[arg(long = "for", value_name = "DURATION", group = "end")]
    pub for_: Option<String>,
    /// The findings table (default: ZW_TABLE_NAME).
    #[arg(long, value_name = "NAME", value_parser = parse_table)]
    pub table: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Flags of `zonewarden suppress list`.
#[derive(Debug, Args)]
pub struct SuppressListArgs {
    /// The findings table (default: ZW_TABLE_NAME).
    #[arg(long, value_name = "NAME", value_parser = parse_table)]
    pub table: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Flags of `zonewarden suppress remove`.
#[derive(Debug, Args)]
pub struct SuppressRemoveArgs {
    /// The suppression's id (`s-...`).
    pub id: String,
    /// The findings table (default: ZW_TABLE_NAME).
    #[arg(long, value_name = "NAME", value_parser = parse_table)]
    pub table: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InventoryWhat {
    Certificates,
    Zones,
    HealthChecks,
    Endpoints,
    /// Everything with an end date (certificates and served certificates),
    /// soonest first, with days left.
    Calendar,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TabularFormat {
    Table,
    Json,
    Csv,
}

/// Flags of `zonewarden inventory`.
#[derive(Debug, Args)]
pub struct InventoryArgs {
    #[arg(value_enum)]
    pub what: InventoryWhat,
    /// Only what ends within this long (`90d`, `12w`), or has ended.
    #[arg(long, value_name = "DURATION")]
    pub expiring_within: Option<String>,
    /// Build it now with a read-only scan of the families it needs (your
    /// credentials, nothing written) instead of reading the table.
    #[arg(long, conflicts_with_all = ["account", "table"])]
    pub live: bool,
    /// With --live: regions to scan (repeatable; default ZW_REGIONS, else
    /// your home region plus us-east-1).
    #[arg(long = "region", value_name = "REGION", value_parser = parse_region, requires = "live")]
    pub regions: Vec<Region>,
    /// A member account's inventory (organization mode).
    #[arg(long, value_name = "ID", value_parser = parse_account)]
    pub account: Option<String>,
    /// The findings table (default: ZW_TABLE_NAME).
    #[arg(long, value_name = "NAME", value_parser = parse_table)]
    pub table: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TabularFormat::Table)]
    pub format: TabularFormat,
}

/// Flags of `zonewarden report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The HTML file to write.
    #[arg(long, value_name = "FILE")]
    pub html: std::path::PathBuf,
    /// A member account's report (organization mode).
    #[arg(long, value_name = "ID", value_parser = parse_account)]
    pub account: Option<String>,
    /// The findings table (default: ZW_TABLE_NAME).
    #[arg(long, value_name = "NAME", value_parser = parse_table)]
    pub table: Option<String>,
    /// Build it from a read-only scan now (your credentials, nothing
    /// written) instead of the table: no suppression, acknowledgement or
    /// scan history then.
    #[arg(long, conflicts_with_all = ["account", "table"])]
    pub live: bool,
    /// With --live: the families to scan (repeatable; default all).
    #[arg(long = "family", value_name = "FAMILY", value_parser = family(), requires = "live")]
    pub families: Vec<zw_app::FamilyKind>,
    /// With --live: regions to scan (repeatable).
    #[arg(long = "region", value_name = "REGION", value_parser = parse_region, requires = "live")]
    pub regions: Vec<Region>,
}

/// A family of the registry (`zw_app::REGISTRY`), by name.
fn family() -> clap::builder::ValueParser {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(zw_app::FamilyKind::names())
        .try_map(|name| {
            zw_app::FamilyKind::named(&name).ok_or_else(|| format!("`{name}` is not a family"))
        })
        .into()
}

/// Flags of `zonewarden export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The file to write (JSON lines); `-` for standard output.
    #[arg(long, value_name = "FILE")]
    pub out: std::path::PathBuf,
    /// Only items with a time on or after this: a date, an RFC 3339 time or
    /// a duration back from now (`30d`). Items without a time are kept.
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only this kind of item (`finding`, `history`, `scan`, `inventory`,
    /// `suppression`, `audit`, `license`, `license-sent`, `outbox`, ...);
    /// repeat for several.
    #[arg(long = "kind", value_name = "KIND")]
    pub kinds: Vec<String>,
    /// The findings table (default: ZW_TABLE_NAME).
    #[arg(long, value_name = "NAME", value_parser = parse_table)]
    pub table: Option<String>,
}

/// Flags of `zonewarden purge`.
#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// Every item: the only purge there is (say so).
    #[arg(long, required = true)]
    pub all: bool,
    /// Delete. Without it, the counts of what would be deleted, and exit 2.
    #[arg(long)]
    pub yes: bool,
    /// The findings table (default: ZW_TABLE_NAME).
    #[arg(long, value_name = "NAME", value_parser = parse_table)]
    pub table: Option<String>,
}

/// Flags of `zonewarden audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// From when: a date, an RFC 3339 time, or a duration back from now
    /// (`30d`). Default: 30 days.
    #[arg(long, value_name = "WHEN", default_value = "30d")]
    pub since: String,
    /// The findings table (default: ZW_TABLE_NAME).
    #[arg(long, value_name = "NAME", value_parser = parse_table)]
    pub table: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
pub enum TableCommand {
    /// Before switching a single-account deployment to organization mode:
    /// copy its findings, history, scan records and inventory under the
    /// account's partition keys (the license stays). Safe to run again.
    Migrate(MigrateArgs),
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The account the existing items belong to (the deployment's own).
    #[arg(long, value_name = "ID", value_parser = parse_account)]
    pub account: String,
    /// Its name, as Organizations lists it (default: the id).
    #[arg(long, value_name = "NAME", default_value = "")]
    pub account_name: String,
    /// The findings table (default: ZW_TABLE_NAME).
    #[arg(long, value_name = "NAME", value_parser = parse_table)]
    pub table: Option<String>,
    /// Count what would move; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Delete the unpartitioned originals once every copy is written.
    #[arg(long, conflicts_with = "dry_run")]
    pub delete_source: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
pub enum LicenseCommand {
    /// Validate now: send the key, the version and (unless
    /// ZW_FLEET_VISIBILITY=off) the aggregate counts; store the answer and
    /// the audit record; print the standing.
    Check(LicenseArgs),
    /// How the cached license stands now (offline: nothing is sent).
    Status(LicenseArgs),
    /// What was sent to the vendor and when, newest first (the key masked).
    Sent(SentArgs),
}

impl LicenseCommand {
    pub fn args(&self) -> &LicenseArgs {
        match self {
            Self::Check(a) | Self::Status(a) => a,
            Self::Sent(a) => &a.common,
        }
    }
}

/// Flags of the license commands.
#[derive(Debug, Args)]
pub struct LicenseArgs {
    /// The findings table, where the license and the audit trail live
    /// (default: ZW_TABLE_NAME).
    #[arg(long, value_name = "NAME", value_parser = parse_table)]
    pub table: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct SentArgs {
    #[command(flatten)]
    pub common: LicenseArgs,
    /// How many records, newest first.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(usize))]
    pub limit: usize,
}

#[derive(Debug, Subcommand)]
pub enum ScanTarget {
    /// ACM certificates: expiry, status, renewal eligibility and readiness.
    Certificates(ScanArgs),
    /// Route 53 DNS: delegation, authoritative answers vs configuration,
    /// dangling records, CAA, DNSSEC, expectations, quotas.
    Dns(DnsArgs),
    /// Route 53 health checks: unhealthy, flapping, orphaned, disabled or
    /// inverted, unprotected failover primaries, missing alarms.
    Health(ScanArgs),
    /// The certificates endpoints actually serve: one TLS handshake per
    /// address of every HTTPS name, standbys included.
    Endpoints(EndpointsArgs),
    /// Domains registered with Route 53 Domains: expiry, automatic renewal,
    /// transfer lock, contact verification, privacy, name servers.
    Domains(ScanArgs),
    /// ACM Private CA certificate authorities: their certificate's end,
    /// disabled or pending CAs, no revocation.
    PrivateCa(ScanArgs),
    /// IAM server certificates: their end, read from the certificate body,
    /// and the CloudFront distributions and load balancers that serve them.
    IamCertificates(ScanArgs),
    /// Mail authentication of every public zone's apex and every name with
    /// MX, as receivers see it: SPF, DMARC, SES Easy DKIM, MTA-STS, TLS
    /// reporting, names without mail that can be spoofed.
    Mail(ScanArgs),
    /// Certificate Transparency (opt-in: needs ZW_CT_SEARCH_URL): the
    /// certificates logged for every public zone's apex and the names below
    /// it that are not the estate's own, and those issued against the CAA.
    /// Sends the apexes to the search endpoint; needs the findings table.
    Ct(ScanArgs),
    /// Route 53 query logs (public hosted zones' and, when
    /// ZW_RESOLVER_QUERY_LOG_GROUPS names them, Route 53 Resolver's) in
    /// CloudWatch Logs: zones without query logging, SERVFAIL answers,
    /// NXDOMAIN spikes, names asked that do not exist (typos, deleted
    /// records), workloads asking many names that do not exist. Reads the
    /// window since the last run (the first: the last hour).
    QueryLogs(QueryLogsArgs),
    /// Every family in one scan record; with --role-name, in each of
    /// several accounts.
    All(AllArgs),
}

/// Flags of `scan all`.
#[derive(Debug, Args)]
pub struct AllArgs {
    #[command(flatten)]
    pub dns: DnsArgs,
    #[command(flatten)]
    pub org: OrgArgs,
}

/// Scanning other accounts through a role in each.
#[derive(Debug, Args)]
pub struct OrgArgs {
    /// The role to assume in each account with your credentials: one that
    /// trusts you, e.g. OrganizationAccountAccessRole from the management
    /// account (the deployed zonewarden-member role trusts only the central
    /// scanner role). The scan only reads.
    #[arg(long, value_name = "NAME", value_parser = parse_role_name)]
    pub role_name: Option<String>,
    /// An account to scan through --role-name; repeat for several.
    #[arg(long = "account", value_name = "ID", value_parser = parse_account, requires = "role_name")]
    pub accounts: Vec<String>,
    /// Every active account of the organization (narrowed by ZW_ORG_UNITS,
    /// ZW_ORG_INCLUDE_ACCOUNTS, ZW_ORG_EXCLUDE_ACCOUNTS); needs
    /// Organizations read access (management or delegated administrator).
    #[arg(long, conflicts_with = "accounts", requires = "role_name")]
    pub organization: bool,
    /// Accounts scanned at once (each keeps its own Route 53 budget).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
}

/// Flags of the query-log scan.
#[derive(Debug, Args)]
pub struct QueryLogsArgs {
    #[command(flatten)]
    pub common: ScanArgs,
    /// Read this window back from now (`30m`, `1h`, at most `24h`) instead
    /// of the one since the last run; it moves nothing the next run reads
    /// from, and adds nothing to the zones' NXDOMAIN history.
    #[arg(long, value_name = "DURATION", value_parser = parse_window)]
    pub since: Option<chrono::Duration>,
}

/// A query-log window: minutes (`30m`), hours (`1h`) or days (`1d`), at
/// most the longest window a run reads.
fn parse_window(s: &str) -> Result<chrono::Duration, String> {
    let raw = s.trim();
    let window = match raw.strip_suffix('m') {
        Some(n) => match n.parse::<i64>() {
            Ok(n) if n > 0 => chrono::Duration::minutes(n),
            _ => return Err(format!("`{raw}` is not a duration (e.g. `30m`, `1h`)")),
        },
        None => parse_for(raw)?,
    };
    let max = zw_core::families::query_logs::MAX_WINDOW;
    if window > max {
        return Err(format!(
            "`{raw}` is longer than the {} hours a query-log window may be",
            max.num_hours()
        ));
    }
    Ok(window)
}

/// Flags of the endpoints scan.
#[derive(Debug, Args)]
pub struct EndpointsArgs {
    #[command(flatten)]
    pub common: ScanArgs,
    /// Extra target `host[:port]` to probe; repeat for several (added to
    /// ZW_TLS_TARGETS).
    #[arg(long = "target", value_name = "HOST[:PORT]", value_parser = parse_target)]
    pub targets: Vec<(String, u16)>,
}

fn parse_target(s: &str) -> Result<(String, u16), String> {
    zw_core::config::parse_tls_target(s)
}

/// Flags every scan shares.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// ACM region to scan; repeat for several. Default: ZW_REGIONS, else your
    /// home region plus us-east-1 (CloudFront's).
    #[arg(long = "region", value_name = "REGION", value_parser = parse_region)]
    pub regions: Vec<Region>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Read-only: write no findings, history or metrics.
    #[arg(long)]
    pub no_write: bool,
    /// DynamoDB table to keep findings in (default: ZW_TABLE_NAME).
    #[arg(long, value_name = "NAME", value_parser = parse_table)]
    pub table: Option<String>,
    /// Send an EventBridge event per finding opened, changed or resolved (as
    /// the functions do; needs the table, whose outbox keeps what is not
    /// sent yet). Off unless given, and ZW_NOTIFY=off overrides it.
    #[arg(long, conflicts_with = "no_write")]
    pub notify: bool,
    /// Exit with status 3 when an open finding is at least this severe.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,
}

/// Flags of scans that include DNS.
#[derive(Debug, Args)]
pub struct DnsArgs {
    #[command(flatten)]
    pub common: ScanArgs,
    /// Hosted zone to check, by name or id; repeat for several. Default:
    /// ZW_DNS_ZONES, else every hosted zone.
    #[arg(long = "zone", value_name = "NAME-OR-ID")]
    pub zones: Vec<String>,
    /// Expectations document (JSON or YAML); default ZW_DNS_EXPECTATIONS_FILE.
    #[arg(long, value_name = "FILE")]
    pub expectations: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

fn parse_region(s: &str) -> Result<Region, String> {
    Region::parse(s)
}

fn parse_account(s: &str) -> Result<String, String> {
    zw_core::model::check_account_id(s).map(|()| s.to_owned())
}

fn parse_role_name(s: &str) -> Result<String, String> {
    if zw_core::config::check_role_name(s) {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "`{s}` is not an IAM role name (1-64 of A-Z a-z 0-9 + = , . @ _ -, no path)"
        ))
    }
}

fn parse_table(s: &str) -> Result<String, String> {
    zw_core::config::check_table_name(s).map(|()| s.to_owned())
}

/// An endpoint must be an absolute http(s) URL with a host: the SDK would
/// otherwise fail every call later with a less helpful message.
fn parse_endpoint(s: &str) -> Result<String, String> {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    match rest {
        Some(r) if !r.is_empty() && !r.starts_with('/') && !r.contains(char::is_whitespace) => {
            Ok(s.to_owned())
        }
        _ => Err(format!(
            "`{s}` is not an http(s) URL with a host (e.g. http://127.0.0.1:5000)"
        )),
    }
}

/// `--until` or `--for` (clap keeps them exclusive), from `now`.
pub fn end(
    until: Option<&str>,
    for_: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, CliError> {
    match (until, for_) {
        (Some(u), _) => parse_until(u)
            .map(Some)
            .map_err(|e| usage(format!("--until: {e}"))),
        (None, Some(f)) => parse_for(f)
            .map(|d| Some(now + d))
            .map_err(|e| usage(format!("--for: {e}"))),
        (None, None) => Ok(None),
    }
}

/// `--since`: a duration back from `now`, a date (from its start) or an
/// RFC 3339 time.
pub fn since(raw: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, CliError> {
    parse_for(raw)
        .map(|d| now - d)
        .or_else(|_| {
            if raw.trim().len() == 10 {
                parse_until(raw).map(|t| t - chrono::Duration::days(1))
            } else {
                parse_until(raw)
            }
        })
        .map_err(|_| {
            usage(format!(
                "--since: `{raw}` is not a duration back from now (`30d`), a date (`2026-11-01`) or an RFC 3339 time"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scan targets are written per family (each has its own flags):
    /// a family in the registry without its `scan <family>` subcommand
    /// fails here, not in a user's hands.
    #[test]
    fn every_registered_family_has_a_scan_subcommand() {
        use clap::CommandFactory;
        let cli = Cli::command();
        let scan = cli.find_subcommand("scan").expect("scan subcommand");
        let mut targets: Vec<&str> = scan.get_subcommands().map(|c| c.get_name()).collect();
        targets.sort_unstable();
        for family in zw_app::FamilyKind::names() {
            assert!(
                targets.contains(&family),
                "no `zonewarden scan {family}` (scan targets: {targets:?})"
            );
        }
        assert!(targets.contains(&"all"), "{targets:?}");
        assert_eq!(
            targets.len(),
            zw_app::FamilyKind::names().len() + 1,
            "{targets:?}"
        );
    }

    #[test]
    fn endpoints_must_be_urls() {
        assert!(parse_endpoint("http://127.0.0.1:5000").is_ok());
        assert!(parse_endpoint("https://r53.example.com").is_ok());
        for bad in ["not-a-url", "http://", "ftp://x", "http:///x", "http://a b"] {
            assert!(parse_endpoint(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_bad_region_flag_is_reported_as_the_flag() {
        let err = Cli::try_parse_from(["zonewarden", "scan", "certificates", "--region", "Mars-1"])
            .expect_err("bad region");
        let text = err.to_string();
        assert!(text.contains("--region"), "{text}");
        assert!(!text.contains("ZW_REGIONS"), "{text}");
    }
}
