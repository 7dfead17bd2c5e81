//! The query-log family's adapters (`zw_core::families::query_logs`):
//! [`QueryLogAdapter`] is its `QueryLogSource` (where query logging is
//! configured, and each log group's window counted into the family's
//! aggregate), [`DynamoQueryLogStore`] its `QueryLogStore` (per log group
//! the end of the last window read, per hosted zone its history and names,
//! `pk = QUERYLOG`).
//!
//! - [`query_logging_configs`]: the account's Route 53 query logging
//!   configurations (`ListQueryLoggingConfigs`, every page, each paced
//!   through the Route 53 collector's account-wide budget), each naming a
//!   hosted zone and the CloudWatch Logs log group its queries go to.
//! - [`log_group_name`]: the region and name of a log group from its ARN.
//! - [`LogsReader`]: one time window of a log group's messages through
//!   CloudWatch Logs `FilterLogEvents`, or its counts through Logs Insights
//!   (`StartQuery`, `GetQueryResults`, `StopQuery`); JSON 1.1 sent through
//!   the SDK's runtime without the service crate (`crate::rpc`), paced to
//!   the API's default quota of 5 calls per second per account and region.
//! - Route 53 Resolver's configurations are listed by `crate::resolver`.
//!
//! Why `FilterLogEvents` first: it needs no polling, costs no per-byte
//! charge, and moto (our integration tests' AWS) implements it in full. A
//! window holding more events than the family's `max_events` is counted by
//! Logs Insights instead: aggregation queries whose rows enter the same
//! aggregate through its counted entry points. moto runs only `fields`,
//! `sort` and `limit` of the Insights language (no `parse`, `filter` or
//! `stats`), so that path is tested here on recorded answers.

use crate::error::classify;
use crate::limiter::RateLimiter;
use crate::resolver::{ResolverQueryLogConfig, ResolverReader};
use crate::route53::Route53Collector;
use crate::rpc;
use crate::table::{self, Item, Partition};
use crate::usage::ApiCallCounter;
use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;
use zw_core::families::query_logs::aggregate::{Aggregate, CountedName, CountedSource};
use zw_core::families::query_logs::model::{
    LogFormat, LogGroup, PublicLogging, QueryLogState, ReadStats, ResolverLogging, Sample,
    ZoneState,
};
use zw_core::families::query_logs::ports::{QueryLogSource, QueryLogStore};
use zw_core::model::Region;
use zw_core::ports::{Clock, ErrorKind, PortError};

const SERVICE: &str = "logs";
const FILTER: &str = "FilterLogEvents";

/// CloudWatch Logs' endpoints: `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`, the
/// global override or `logs.<region>.<partition suffix>`; SigV4 name `logs`.
pub const ENDPOINT: rpc::Endpoint = rpc::Endpoint {
    service_id: "CloudWatch Logs",
    env: "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS",
    prefix: "logs",
    signing_name: "logs",
};

/// `X-Amz-Target`'s prefix.
pub const TARGET: &str = "Logs_20140328";

/// Requests per second, this process: `FilterLogEvents`' default quota is
/// 5 transactions per second per account and region.
const RPS: f64 = 5.0;

/// The most events one `FilterLogEvents` page may hold (its `limit`).
const PAGE_LIMIT: usize = 10_000;

/// One Route 53 query logging configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryLoggingConfig {
    pub id: String,
    /// Without `/hostedzone/`.
    pub hosted_zone_id: String,
    /// As Route 53 has it (`arn:aws:logs:us-east-1:…:log-group:<name>:*`).
    pub log_group_arn: String,
}

/// The account's query logging configurations, every page (up to 100
/// each). Every page waits for a slot of `route53`'s pacing: Route 53's
/// quota of 5 requests per second is the account's, shared with every
/// family of ours and with the customer's own tooling.
pub async fn query_logging_configs(
    route53: &Route53Collector,
) -> Result<Vec<QueryLoggingConfig>, PortError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        route53.pace().await;
        let page = route53
            .client
            .list_query_logging_configs()
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| classify("route53", "ListQueryLoggingConfigs", e))?;
        out.extend(page.query_logging_configs().iter().map(|c| {
            QueryLoggingConfig {
                id: c.id().to_owned(),
                hosted_zone_id: c
                    .hosted_zone_id()
                    .trim_start_matches("/hostedzone/")
                    .to_owned(),
                log_group_arn: c.cloud_watch_logs_log_group_arn().to_owned(),
            }
        }));
        match page.next_token() {
            Some(t) if !t.is_empty() && token.as_deref() != Some(t) => token = Some(t.to_owned()),
            _ => break,
        }
    }
    Ok(out)
}

/// The region and name of a log group from its ARN,
/// `arn:<partition>:logs:<region>:<account>:log-group:<name>` with or
/// without the `:*` Route 53 and `DescribeLogGroups` add. None for any
/// other ARN or a malformed one. Names never contain `:`.
pub fn log_group_name(arn: &str) -> Option<(String, String)> {
    let fields: Vec<&str> = arn.split(':').collect();
    let (head, tail) = fields.split_at_checked(7)?;
    let [prefix, partition, service, region, account, kind, name] = head else {
        return None;
    };
    let valid = *prefix == "arn"
        && (*partition == "aws" || partition.starts_with("aws-"))
        && partition
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'-')
        && *service == "logs"
        && !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && *kind == "log-group"
        && !name.is_empty()
        && name.len() <= 512
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/.-_#".contains(&b))
        && matches!(tail, [] | ["*"]);
    valid.then(|| ((*region).to_owned(), (*name).to_owned()))
}

/// One window of a log group's messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Window {
    /// In the order the service gave them.
    pub messages: Vec<String>,
    /// More events may exist in the window than were read (`max_events`
    /// was reached while the service had more pages, or it repeated a page
    /// token).
    pub truncated: bool,
    /// `FilterLogEvents` calls made.
    pub calls: u64,
}

/// Reads log events through CloudWatch Logs `FilterLogEvents`.
#[derive(Clone)]
pub struct LogsReader {
    sdk: SdkConfig,
    calls: ApiCallCounter,
    limiter: RateLimiter,
}

impl std::fmt::Debug for LogsReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogsReader").finish_non_exhaustive()
    }
}

impl LogsReader {
    pub fn new(sdk: &SdkConfig, calls: &ApiCallCounter) -> Self {
        Self {
            sdk: sdk.clone(),
            calls: calls.clone(),
            limiter: RateLimiter::per_second(RPS),
        }
    }

    /// The messages of `log_group` in `region` whose time is in
    /// `from <= time < to`, at most `max_events` of them, following
    /// `nextToken` until the service has no more or `max_events` is reached.
    /// An empty window (`from >= to`) costs no call; `max_events == 0`
    /// reads nothing and says `truncated` (events may exist).
    pub async fn filter(
        &self,
        region: &str,
        log_group: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        max_events: usize,
    ) -> Result<Window, PortError> {
        let mut window = Window::default();
        if from >= to {
            return Ok(window);
        }
        if max_events == 0 {
            window.truncated = true;
            return Ok(window);
        }
        let (start, end) = (from.timestamp_millis(), to.timestamp_millis());
        let operation =
            rpc::json_operation(&self.sdk, region, &ENDPOINT, &self.calls, TARGET, FILTER);
        let mut token: Option<String> = None;
        loop {
            let remaining = max_events.saturating_sub(window.messages.len());
            // `endTime` is inclusive in the API: the last millisecond before `to`.
            let mut body = json!({
                "logGroupName": log_group,
                "startTime": start,
                "endTime": end - 1,
                "limit": remaining.min(PAGE_LIMIT),
            });
            if let Some(t) = &token {
                body["nextToken"] = json!(t);
            }
            self.limiter.acquire().await;
            window.calls += 1;
            let page = operation.invoke(body).await.map_err(|e| {
                let mut error = classify(SERVICE, FILTER, e);
                error.message = format!("{log_group} in {region}: {}", error.message);
                error
            })?;
            let events = page["events"].as_array().ok_or_else(|| {
                PortError::new(
                    SERVICE,
                    FILTER,
                    ErrorKind::InvalidResponse,
                    "the answer has no events",
                )
            })?;
            let mut full = false;
            for event in events {
                let Some(message) = event["message"].as_str() else {
                    continue;
                };
                // The service's window, checked again on our side.
                if event["timestamp"]
                    .as_i64()
                    .is_some_and(|t| t < start || t >= end)
                {
                    continue;
                }
                if window.messages.len() >= max_events {
                    // A page longer than the limit asked for.
                    full = true;
                    break;
                }
                window.messages.push(message.to_owned());
            }
            match page["nextToken"].as_str().filter(|t| !t.is_empty()) {
                None => {
                    window.truncated = full;
                    break;
                }
                Some(t)
                    if full
                        || window.messages.len() >= max_events
                        || token.as_deref() == Some(t) =>
                {
                    window.truncated = true;
                    break;
                }
                Some(t) => token = Some(t.to_owned()),
            }
        }
        Ok(window)
    }
}

// --- CloudWatch Logs Insights --------------------------------------------

const START: &str = "StartQuery";
const RESULTS: &str = "GetQueryResults";
const STOP: &str = "StopQuery";

/// The most rows a Logs Insights query returns (its `limit`, and each
/// query's own `limit`).
pub const INSIGHTS_ROWS: usize = 10_000;

/// The first wait before asking for a query's results, doubled after each
/// answer that is not final, up to `POLL_MAX`.
const POLL_FIRST: Duration = Duration::from_secs(1);
const POLL_MAX: Duration = Duration::from_secs(5);

/// How long a query may run before it is stopped and the window left to
/// the next run: a Lambda invocation reads several groups, and a query
/// still running after two minutes is one over a window far too busy to
/// wait for.
pub const INSIGHTS_TIMEOUT: Duration = Duration::from_secs(120);

/// The ten space-separated fields of a public query log line (format 1.0),
/// as `parse::public_query` reads them.
const PUBLIC_PARSE: &str = r#"parse @message "* * * * * * * * * *" as version, ts, zone, name, qtype, rcode, proto, edge, rip, ecs"#;

/// `from <= @timestamp < to`, in milliseconds. `StartQuery`'s own window is
/// in whole seconds, and inclusive of its end: without this filter a window
/// ending at 12:00:00.500 would take events up to 12:00:00.999, and the
/// next window would count them again.
fn window_filter(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    format!(
        "toMillis(@timestamp) >= {} and toMillis(@timestamp) < {}",
        from.timestamp_millis(),
        to.timestamp_millis()
    )
}

/// `StartQuery`'s `startTime` and `endTime` (epoch seconds) covering
/// `from <= t < to`: the second `from` is in, through the second `to` is in.
pub fn query_span(from: DateTime<Utc>, to: DateTime<Utc>) -> (i64, i64) {
    let end = to.timestamp() + i64::from(to.timestamp_subsec_nanos() > 0);
    (from.timestamp(), end)
}

/// Public query logs: the window's answers per zone and response code.
/// Lines of another format version are not counted (the line path counts
/// them malformed).
pub fn public_totals_query(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    format!(
        "{PUBLIC_PARSE}\n| filter version = \"1.0\" and {}\n| stats count(*) as n by zone, rcode\n| limit {INSIGHTS_ROWS}",
        window_filter(from, to)
    )
}

/// Public query logs: the NXDOMAIN and SERVFAIL answers per zone, name,
/// response code and edge location, with their first and last times; the
/// most asked first, at most `INSIGHTS_ROWS` of them.
pub fn public_names_query(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    format!(
        "{PUBLIC_PARSE}\n| filter version = \"1.0\" and {} and rcode in [\"NXDOMAIN\", \"SERVFAIL\"]\n| stats count(*) as n, min(@timestamp) as first, max(@timestamp) as last by zone, name, rcode, edge\n| sort n desc\n| limit {INSIGHTS_ROWS}",
        window_filter(from, to)
    )
}

/// Resolver query logs (JSON: Insights discovers the fields): the NXDOMAIN
/// answers per source and name, the most asked first. Only NXDOMAIN: the
/// storms are judged on NXDOMAIN answers and their distinct names alone,
/// so a source's `total` counted this way is its NXDOMAIN answers.
pub fn resolver_query(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    format!(
        "filter {} and rcode = \"NXDOMAIN\"\n| stats count(*) as n by srcids.instance, srcids.resource, srcids.resolver_endpoint, vpc_id, account_id, region, query_name, rcode\n| sort n desc\n| limit {INSIGHTS_ROWS}",
        window_filter(from, to)
    )
}

/// One row of a Logs Insights answer: field name -> value. A field whose
/// value is null (a `stats ... by` field absent from the events) is left
/// out.
pub type InsightsRow = BTreeMap<String, String>;

/// The rows of a complete `GetQueryResults` answer
/// (`results: [[{field, value}]]`).
pub fn insights_rows(answer: &Value) -> Result<Vec<InsightsRow>, String> {
    let rows = answer["results"]
        .as_array()
        .ok_or("the answer has no `results` list")?;
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            let cells = row
                .as_array()
                .ok_or_else(|| format!("row {i} is not a list of fields"))?;
            let mut out = InsightsRow::new();
            for cell in cells {
                let field = cell["field"]
                    .as_str()
                    .ok_or_else(|| format!("row {i} has a cell without a `field` name"))?;
                match &cell["value"] {
                    Value::Null => {}
                    Value::String(v) => {
                        out.insert(field.to_owned(), v.clone());
                    }
                    _ => return Err(format!("row {i}: `{field}` is not a string")),
                }
            }
            Ok(out)
        })
        .collect()
}

/// A required, non-empty field of row `i`.
fn cell<'a>(row: &'a InsightsRow, i: usize, field: &str) -> Result<&'a str, String> {
    row.get(field)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("row {i} has no `{field}`"))
}

fn count(row: &InsightsRow, i: usize, field: &str) -> Result<u64, String> {
    let text = cell(row, i, field)?;
    text.parse()
        .map_err(|_| format!("row {i}: `{field}` {text:?} is not a count"))
}

/// Logs Insights prints times as `2026-12-03 11:00:00.000`, in UTC.
fn insights_time(row: &InsightsRow, i: usize, field: &str) -> Result<DateTime<Utc>, String> {
    let text = cell(row, i, field)?;
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .map(|t| t.and_utc())
        .map_err(|_| format!("row {i}: `{field}` {text:?} is not a Logs Insights time"))
}

/// One row of [`public_totals_query`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneTotal {
    pub zone_id: String,
    pub rcode: String,
    pub count: u64,
}

pub fn zone_totals(rows: &[InsightsRow]) -> Result<Vec<ZoneTotal>, String> {
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            Ok(ZoneTotal {
                zone_id: cell(row, i, "zone")?.to_owned(),
                rcode: cell(row, i, "rcode")?.to_owned(),
                count: count(row, i, "n")?,
            })
        })
        .collect()
}

/// One row of [`public_names_query`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameTotal {
    pub zone_id: String,
    pub name: String,
    pub rcode: String,
    pub edge: String,
    pub count: u64,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
}

impl NameTotal {
    fn counted(&self) -> CountedName<'_> {
        CountedName {
            zone_id: &self.zone_id,
            name: &self.name,
            rcode: &self.rcode,
            edge: &self.edge,
            count: self.count,
            first: self.first,
            last: self.last,
        }
    }
}

pub fn name_totals(rows: &[InsightsRow]) -> Result<Vec<NameTotal>, String> {
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            Ok(NameTotal {
                zone_id: cell(row, i, "zone")?.to_owned(),
                name: cell(row, i, "name")?.to_owned(),
                rcode: cell(row, i, "rcode")?.to_owned(),
                edge: cell(row, i, "edge")?.to_owned(),
                count: count(row, i, "n")?,
                first: insights_time(row, i, "first")?,
                last: insights_time(row, i, "last")?,
            })
        })
        .collect()
}

/// One row of [`resolver_query`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceTotal {
    /// As [`source_name`] names it.
    pub source: String,
    pub vpc_id: String,
    pub account_id: String,
    pub region: String,
    pub name: String,
    pub rcode: String,
    pub count: u64,
}

impl SourceTotal {
    fn counted(&self) -> CountedSource<'_> {
        CountedSource {
            source: &self.source,
            vpc_id: &self.vpc_id,
            account_id: &self.account_id,
            region: &self.region,
            name: &self.name,
            rcode: &self.rcode,
            count: self.count,
        }
    }
}

/// Who asked, as `parse::resolver_query` names a source: the first
/// non-empty of the instance, the resource and the Resolver endpoint, else
/// `vpc:<vpc id>`.
pub fn source_name(
    instance: Option<&str>,
    resource: Option<&str>,
    endpoint: Option<&str>,
    vpc_id: &str,
) -> String {
    [instance, resource, endpoint]
        .into_iter()
        .flatten()
        .find(|id| !id.is_empty())
        .map_or_else(|| format!("vpc:{vpc_id}"), str::to_owned)
}

pub fn source_totals(rows: &[InsightsRow]) -> Result<Vec<SourceTotal>, String> {
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            let vpc_id = cell(row, i, "vpc_id")?;
            let id = |field: &str| row.get(field).map(String::as_str);
            Ok(SourceTotal {
                source: source_name(
                    id("srcids.instance"),
                    id("srcids.resource"),
                    id("srcids.resolver_endpoint"),
                    vpc_id,
                ),
                vpc_id: vpc_id.to_owned(),
                account_id: cell(row, i, "account_id")?.to_owned(),
                region: cell(row, i, "region")?.to_owned(),
                name: cell(row, i, "query_name")?.to_owned(),
                rcode: cell(row, i, "rcode")?.to_owned(),
                count: count(row, i, "n")?,
            })
        })
        .collect()
}

/// How a polled query ended, when it did not complete.
enum Unfinished {
    /// The service ended it (`Failed`, `Cancelled`, `Timeout`).
    Ended(PortError),
    /// We stopped waiting (our deadline, or a call that failed): the query
    /// may still be running, and costs until stopped.
    Abandoned(PortError),
}

impl LogsReader {
    /// One CloudWatch Logs call about `log_group`, paced; errors name the
    /// group and the region.
    async fn call(
        &self,
        region: &str,
        log_group: &str,
        action: &'static str,
        body: Value,
    ) -> Result<Value, PortError> {
        let operation =
            rpc::json_operation(&self.sdk, region, &ENDPOINT, &self.calls, TARGET, action);
        self.limiter.acquire().await;
        operation.invoke(body).await.map_err(|e| {
            let mut error = classify(SERVICE, action, e);
            error.message = format!("{log_group} in {region}: {}", error.message);
            error
        })
    }

    /// Runs `query` (Logs Insights) over `from <= time < to` of `log_group`
    /// in `region` and returns the rows of its complete answer. The query
    /// must filter `@timestamp` to the window itself ([`query_span`] is in
    /// whole seconds). Polls with a growing wait (1 s, up to 5 s); a query
    /// not complete after [`INSIGHTS_TIMEOUT`] is stopped (best effort) and
    /// is a `Transient` error.
    pub async fn insights(
        &self,
        region: &str,
        log_group: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        query: &str,
    ) -> Result<Vec<InsightsRow>, PortError> {
        let (start, end) = query_span(from, to);
        let body = json!({
            "logGroupName": log_group,
            "startTime": start,
            "endTime": end,
            "queryString": query,
            "limit": INSIGHTS_ROWS,
        });
        let started = self.call(region, log_group, START, body).await?;
        let id = started["queryId"]
            .as_str()
            .filter(|id| !id.is_empty())
            .ok_or_else(|| {
                PortError::new(
                    SERVICE,
                    START,
                    ErrorKind::InvalidResponse,
                    format!("{log_group} in {region}: the answer has no queryId"),
                )
            })?;
        let answer = match self.poll(region, log_group, id).await {
            Ok(answer) => answer,
            Err(Unfinished::Ended(e)) => return Err(e),
            Err(Unfinished::Abandoned(e)) => {
                // Best effort: a query left running costs until it ends by
                // itself; whether the stop worked changes nothing for us.
                let _ = self
                    .call(region, log_group, STOP, json!({ "queryId": id }))
                    .await;
                return Err(e);
            }
        };
        insights_rows(&answer).map_err(|why| {
            PortError::new(
                SERVICE,
                RESULTS,
                ErrorKind::InvalidResponse,
                format!("{log_group} in {region}: Logs Insights query {id}: {why}"),
            )
        })
    }

    /// `GetQueryResults` until the query is complete (its answer), ended
    /// otherwise, or [`INSIGHTS_TIMEOUT`] has passed.
    async fn poll(&self, region: &str, log_group: &str, id: &str) -> Result<Value, Unfinished> {
        let deadline = tokio::time::Instant::now() + INSIGHTS_TIMEOUT;
        let mut wait = POLL_FIRST;
        loop {
            // A query just started is never complete: wait first.
            tokio::time::sleep(wait).await;
            let answer = self
                .call(region, log_group, RESULTS, json!({ "queryId": id }))
                .await
                .map_err(Unfinished::Abandoned)?;
            match answer["status"].as_str() {
                Some("Complete") => return Ok(answer),
                Some(status @ ("Failed" | "Cancelled" | "Timeout")) => {
                    let kind = if status == "Timeout" {
                        ErrorKind::Transient
                    } else {
                        ErrorKind::Other
                    };
                    return Err(Unfinished::Ended(PortError::new(
                        SERVICE,
                        RESULTS,
                        kind,
                        format!("{log_group} in {region}: Logs Insights query {id} ended {status}"),
                    )));
                }
                // Scheduled, Running, Unknown: not yet.
                _ => {}
            }
            if tokio::time::Instant::now() >= deadline {
                // ErrorKind has no timeout of its own; a window too busy
                // for two minutes today may be read in the next run.
                return Err(Unfinished::Abandoned(PortError::new(
                    SERVICE,
                    RESULTS,
                    ErrorKind::Transient,
                    format!(
                        "{log_group} in {region}: Logs Insights query {id} did not complete within {} s; stopped, the window is read again by the next run",
                        INSIGHTS_TIMEOUT.as_secs()
                    ),
                )));
            }
            wait = (wait * 2).min(POLL_MAX);
        }
    }
}

// --- The family's source -------------------------------------------------

/// The query-log family's `QueryLogSource`: Route 53's and Route 53
/// Resolver's logging configurations, and CloudWatch Logs.
#[derive(Debug, Clone)]
pub struct QueryLogAdapter {
    route53: Route53Collector,
    logs: LogsReader,
    resolver: ResolverReader,
}

impl QueryLogAdapter {
    /// `route53`: the process's Route 53 collector (`Services::route53`),
    /// whose account-wide pacing (and shared table budget, when it has one)
    /// `ListQueryLoggingConfigs` waits for like every other Route 53 call of
    /// ours. CloudWatch Logs (`FilterLogEvents` and Logs Insights, 5 calls
    /// per second) and Route 53 Resolver (2 per second) are called through
    /// `sdk` in each log group's or configuration's region. Every call is
    /// counted in `calls`.
    pub fn new(sdk: &SdkConfig, route53: &Route53Collector, calls: &ApiCallCounter) -> Self {
        Self {
            route53: route53.clone(),
            logs: LogsReader::new(sdk, calls),
            resolver: ResolverReader::new(sdk, calls),
        }
    }

    /// Counts the window of `group` with Logs Insights; the events counted.
    async fn count_with_insights(
        &self,
        group: &LogGroup,
        format: LogFormat,
        aggregate: &mut Aggregate,
    ) -> Result<u64, PortError> {
        let (from, to) = aggregate.window();
        let run = |query: String| async move {
            self.logs
                .insights(&group.region, &group.name, from, to, &query)
                .await
        };
        let unreadable = |why: String| {
            PortError::new(
                SERVICE,
                RESULTS,
                ErrorKind::InvalidResponse,
                format!("{group}: Logs Insights rows zonewarden cannot read: {why}"),
            )
        };
        let mut events = 0u64;
        match format {
            LogFormat::Public => {
                // Both answers are read before either is counted: an error
                // leaves the aggregate as it was.
                let totals =
                    zone_totals(&run(public_totals_query(from, to)).await?).map_err(unreadable)?;
                let names =
                    name_totals(&run(public_names_query(from, to)).await?).map_err(unreadable)?;
                for t in &totals {
                    aggregate.add_counted_zone(&t.zone_id, &t.rcode, t.count);
                    events = events.saturating_add(t.count);
                }
                for n in &names {
                    aggregate.add_counted_name(&n.counted());
                }
            }
            LogFormat::Resolver => {
                let sources =
                    source_totals(&run(resolver_query(from, to)).await?).map_err(unreadable)?;
                for s in &sources {
                    aggregate.add_counted_source(&s.counted());
                    events = events.saturating_add(s.count);
                }
            }
        }
        Ok(events)
    }
}

/// A zone's logging configuration as the family reads it; an ARN that is
/// not a log group's is an error naming both (Route 53 accepts only log
/// group ARNs, so this is an answer we do not understand).
fn public_logging(config: QueryLoggingConfig) -> Result<PublicLogging, PortError> {
    let Some((region, name)) = log_group_name(&config.log_group_arn) else {
        return Err(PortError::new(
            "route53",
            "ListQueryLoggingConfigs",
            ErrorKind::InvalidResponse,
            format!(
                "the query logging configuration {} of hosted zone {} names `{}`, which is not a CloudWatch Logs log group ARN",
                config.id, config.hosted_zone_id, config.log_group_arn
            ),
        ));
    };
    Ok(PublicLogging {
        zone_id: config.hosted_zone_id,
        group: LogGroup { region, name },
    })
}

/// The Resolver configurations the family reads: `CREATED` ones whose
/// destination is a CloudWatch Logs log group. S3 buckets and Firehose
/// streams cannot be read through CloudWatch Logs and are left out; a
/// `logs` ARN that is not a log group's is an error naming it.
pub fn cloudwatch_destinations(
    configs: &[ResolverQueryLogConfig],
) -> Result<Vec<ResolverLogging>, PortError> {
    let mut out = Vec::new();
    for c in configs.iter().filter(|c| c.status == "CREATED") {
        if c.destination_arn.split(':').nth(2) != Some("logs") {
            continue;
        }
        let (region, name) = log_group_name(&c.destination_arn).ok_or_else(|| {
            PortError::new(
                "route53resolver",
                "ListResolverQueryLogConfigs",
                ErrorKind::InvalidResponse,
                format!(
                    "the Resolver query logging configuration {} names `{}`, which is not a CloudWatch Logs log group ARN",
                    c.id, c.destination_arn
                ),
            )
        })?;
        out.push(ResolverLogging {
            config_id: c.id.clone(),
            group: LogGroup { region, name },
        });
    }
    Ok(out)
}

impl QueryLogSource for QueryLogAdapter {
    async fn public_logging(&self) -> Result<Vec<PublicLogging>, PortError> {
        query_logging_configs(&self.route53)
            .await?
            .into_iter()
            .map(public_logging)
            .collect()
    }

    async fn resolver_logging(&self, region: &Region) -> Result<Vec<ResolverLogging>, PortError> {
        let configs = self.resolver.query_log_configs(region.as_str()).await?;
        cloudwatch_destinations(&configs)
    }

    async fn read(
        &self,
        group: &LogGroup,
        format: LogFormat,
        max_events: usize,
        aggregate: &mut Aggregate,
    ) -> Result<ReadStats, PortError> {
        let (from, to) = aggregate.window();
        let window = self
            .logs
            .filter(&group.region, &group.name, from, to, max_events)
            .await?;
        if !window.truncated {
            for message in &window.messages {
                match format {
                    LogFormat::Public => aggregate.add_public_line(message),
                    LogFormat::Resolver => aggregate.add_resolver_record(message),
                }
            }
            return Ok(ReadStats {
                events: u64::try_from(window.messages.len()).unwrap_or(u64::MAX),
                insights: false,
            });
        }
        // More events than `max_events`: counting the part read would make
        // every rate of the window wrong, so it is dropped and the whole
        // window counted server-side.
        drop(window);
        let events = self.count_with_insights(group, format, aggregate).await?;
        Ok(ReadStats {
            events,
            insights: true,
        })
    }
}

// --- The family's state ----------------------------------------------------

const PK: &str = "QUERYLOG";
const GROUP_PREFIX: &str = "GROUP#";
const ZONE_PREFIX: &str = "ZONE#";
/// A state not written for this long belongs to a log group or zone gone
/// (a zone's removed names are kept 30 days: nothing older is needed).
const TTL_DAYS: i64 = 30;

/// The query-log family's state in the findings table (`pk = QUERYLOG`,
/// under the account's prefix in organization mode): `sk = GROUP#<region>/<name>`
/// with `read_to`, `sk = ZONE#<zone id>` with `history` (JSON), `names`
/// (8 bytes big-endian per hash), `removed` (8-byte hash and 8-byte epoch
/// seconds each) and `names_at`. Times are RFC 3339 with milliseconds:
/// finer parts, and a removal time's fraction of a second, are not kept.
#[derive(Debug, Clone)]
pub struct DynamoQueryLogStore {
    client: Client,
    table: String,
    partition: Partition,
}

impl DynamoQueryLogStore {
    pub fn new(client: Client, table: String, partition: Partition) -> Self {
        Self {
            client,
            table,
            partition,
        }
    }

    async fn put(&self, mut item: Item) -> Result<(), PortError> {
        self.partition.stamp(&mut item);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| crate::error::table_error(&self.table, "PutItem", e))?;
        Ok(())
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The attributes every state item has: keys, type, when written, TTL.
fn item(sk: String, item_type: &str, now: DateTime<Utc>) -> Item {
    Item::from([
        ("pk".to_owned(), AttributeValue::S(PK.to_owned())),
        ("sk".to_owned(), AttributeValue::S(sk)),
        (
            "item_type".to_owned(),
            AttributeValue::S(item_type.to_owned()),
        ),
        ("written_at".to_owned(), AttributeValue::S(rfc3339(now))),
        (
            "expires_at".to_owned(),
            AttributeValue::N(
                (now + chrono::Duration::days(TTL_DAYS))
                    .timestamp()
                    .to_string(),
            ),
        ),
    ])
}

/// A log group's watermark (and whether its last window was busy), in its
/// partition-less form.
pub fn group_item(
    group: &LogGroup,
    read_to: DateTime<Utc>,
    busy: bool,
    now: DateTime<Utc>,
) -> Item {
    let mut out = item(
        format!("{GROUP_PREFIX}{}", group.key()),
        "querylog-group",
        now,
    );
    out.insert("read_to".to_owned(), AttributeValue::S(rfc3339(read_to)));
    if busy {
        out.insert("busy".to_owned(), AttributeValue::Bool(true));
    }
    out
}

/// A zone's state, in its partition-less form. Empty binary lists are left
/// out (read back as empty).
pub fn zone_item(zone_id: &str, state: &ZoneState, now: DateTime<Utc>) -> Result<Item, PortError> {
    let history = serde_json::to_string(&state.history).map_err(|e| {
        PortError::new(
            "dynamodb",
            "PutItem",
            ErrorKind::Other,
            format!("the query-log state of zone {zone_id} cannot be written: {e}"),
        )
    })?;
    let mut out = item(format!("{ZONE_PREFIX}{zone_id}"), "querylog-zone", now);
    out.insert("history".to_owned(), AttributeValue::S(history));
    if !state.names.is_empty() {
        out.insert(
            "names".to_owned(),
            AttributeValue::B(Blob::new(encode_names(&state.names))),
        );
    }
    if !state.removed.is_empty() {
        out.insert(
            "removed".to_owned(),
            AttributeValue::B(Blob::new(encode_removed(&state.removed))),
        );
    }
    if let Some(at) = state.names_at {
        out.insert("names_at".to_owned(), AttributeValue::S(rfc3339(at)));
    }
    Ok(out)
}

/// 8 bytes big-endian per hash.
pub fn encode_names(names: &[u64]) -> Vec<u8> {
    names.iter().flat_map(|h| h.to_be_bytes()).collect()
}

pub fn decode_names(bytes: &[u8]) -> Result<Vec<u64>, String> {
    if !bytes.len().is_multiple_of(8) {
        return Err(format!("{} bytes are not 8-byte hashes", bytes.len()));
    }
    bytes
        .chunks_exact(8)
        .map(|c| {
            <[u8; 8]>::try_from(c)
                .map(u64::from_be_bytes)
                .map_err(|e| e.to_string())
        })
        .collect()
}

/// Per removed name its hash, then the epoch second it was last seen, 8
/// bytes big-endian each.
pub fn encode_removed(removed: &[(u64, DateTime<Utc>)]) -> Vec<u8> {
    removed
        .iter()
        .flat_map(|(h, at)| {
            let mut entry = [0u8; 16];
            let (hash, time) = entry.split_at_mut(8);
            hash.copy_from_slice(&h.to_be_bytes());
            time.copy_from_slice(&at.timestamp().to_be_bytes());
            entry
        })
        .collect()
}

pub fn decode_removed(bytes: &[u8]) -> Result<Vec<(u64, DateTime<Utc>)>, String> {
    if !bytes.len().is_multiple_of(16) {
        return Err(format!(
            "{} bytes are not 16-byte entries (hash, time)",
            bytes.len()
        ));
    }
    bytes
        .chunks_exact(16)
        .map(|c| {
            let (hash, time) = c.split_at(8);
            let hash = <[u8; 8]>::try_from(hash).map_err(|e| e.to_string())?;
            let time = <[u8; 8]>::try_from(time).map_err(|e| e.to_string())?;
            let secs = i64::from_be_bytes(time);
            let at =
                DateTime::from_timestamp(secs, 0).ok_or_else(|| format!("{secs} is not a time"))?;
            Ok((u64::from_be_bytes(hash), at))
        })
        .collect()
}

/// The family's state from the items of its partition. An item of another
/// kind under `QUERYLOG` (a later version's) is left alone; one of ours
/// that cannot be read is an error naming it: judging without its history
/// or names would misjudge the zone.
pub fn state_of(items: &[Item]) -> Result<QueryLogState, PortError> {
    let mut state = QueryLogState::default();
    for item in items {
        let sk = item
            .get("sk")
            .and_then(|v| v.as_s().ok())
            .map(String::as_str)
            .unwrap_or_default();
        let unreadable = |why: String| {
            PortError::new(
                "dynamodb",
                "Query",
                ErrorKind::InvalidResponse,
                format!("the query-log state item `{sk}` is not readable: {why}"),
            )
        };
        if let Some(key) = sk.strip_prefix(GROUP_PREFIX) {
            let read_to = time_attr(item, "read_to")
                .and_then(|t| t.ok_or_else(|| "no `read_to`".to_owned()))
                .map_err(unreadable)?;
            state.read_to.insert(key.to_owned(), read_to);
            if item.get("busy").and_then(|v| v.as_bool().ok()) == Some(&true) {
                state.busy.insert(key.to_owned());
            }
        } else if let Some(zone_id) = sk.strip_prefix(ZONE_PREFIX) {
            let zone = zone_of(item).map_err(unreadable)?;
            state.zones.insert(zone_id.to_owned(), zone);
        }
    }
    Ok(state)
}

fn zone_of(item: &Item) -> Result<ZoneState, String> {
    let history = item
        .get("history")
        .and_then(|v| v.as_s().ok())
        .ok_or("no `history`")?;
    let history: Vec<Sample> =
        serde_json::from_str(history).map_err(|e| format!("`history`: {e}"))?;
    let binary = |name: &str| match item.get(name) {
        None => Ok(&[][..]),
        Some(AttributeValue::B(b)) => Ok(b.as_ref()),
        Some(_) => Err(format!("`{name}` is not binary")),
    };
    Ok(ZoneState {
        history,
        names: decode_names(binary("names")?).map_err(|e| format!("`names`: {e}"))?,
        removed: decode_removed(binary("removed")?).map_err(|e| format!("`removed`: {e}"))?,
        names_at: time_attr(item, "names_at")?,
    })
}

/// An optional RFC 3339 attribute.
fn time_attr(item: &Item, name: &str) -> Result<Option<DateTime<Utc>>, String> {
    match item.get(name) {
        None => Ok(None),
        Some(AttributeValue::S(text)) => DateTime::parse_from_rfc3339(text)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| format!("`{name}` {text:?} is not an RFC 3339 time")),
        Some(_) => Err(format!("`{name}` is not a string")),
    }
}

impl QueryLogStore for DynamoQueryLogStore {
    async fn load(&self) -> Result<QueryLogState, PortError> {
        let items =
            table::query_partition(&self.client, &self.table, &self.partition.pk(PK)).await?;
        state_of(&items)
    }

    async fn save_read_to(
        &self,
        group: &LogGroup,
        read_to: DateTime<Utc>,
        busy: bool,
    ) -> Result<(), PortError> {
        self.put(group_item(group, read_to, busy, crate::SystemClock.now()))
            .await
    }

    async fn save_zone(&self, zone_id: &str, state: &ZoneState) -> Result<(), PortError> {
        self.put(zone_item(zone_id, state, crate::SystemClock.now())?)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_http_client::test_util::infallible_client_fn;
    use aws_smithy_types::body::SdkBody;
    use std::sync::{Arc, Mutex};

    #[test]
    fn log_group_arns_give_region_and_name() {
        let ok = |arn: &str, region: &str, name: &str| {
            assert_eq!(
                log_group_name(arn),
                Some((region.to_owned(), name.to_owned())),
                "{arn}"
            );
        };
        ok(
            "arn:aws:logs:us-east-1:123456789012:log-group:/aws/route53/example.com:*",
            "us-east-1",
            "/aws/route53/example.com",
        );
        ok(
            "arn:aws:logs:us-east-1:123456789012:log-group:/aws/route53/example.com",
            "us-east-1",
            "/aws/route53/example.com",
        );
        ok(
            "arn:aws-cn:logs:cn-north-1:123456789012:log-group:a_b-c.d#e/F9:*",
            "cn-north-1",
            "a_b-c.d#e/F9",
        );
        ok(
            "arn:aws-us-gov:logs:us-gov-west-1:123456789012:log-group:queries",
            "us-gov-west-1",
            "queries",
        );
        for bad in [
            "",
            "arn",
            "not an arn",
            "arn:aws:logs:us-east-1:123456789012:log-group",
            "arn:aws:logs:us-east-1:123456789012:log-group:",
            "arn:aws:logs:us-east-1:123456789012:log-group::*",
            "arn:aws:logs:us-east-1:123456789012:log-group:name:",
            "arn:aws:logs:us-east-1:123456789012:log-group:name:x",
            "arn:aws:logs:us-east-1:123456789012:log-group:name:*:*",
            "arn:aws:logs:us-east-1:123456789012:log-group:na me",
            "arn:aws:logs:us-east-1:123456789012:log-stream:name",
            "arn:aws:logs:us-east-1:123456789012:log-group:g:log-stream:s",
            "arn:aws:s3:us-east-1:123456789012:log-group:name",
            "arn:aws:logs::123456789012:log-group:name",
            "arn:aws:logs:us-east-1:12345:log-group:name",
            "arn:aws:logs:us-east-1::log-group:name",
            "arn::logs:us-east-1:123456789012:log-group:name",
            "arn:gcp:logs:us-east-1:123456789012:log-group:name",
            "ARN:aws:logs:us-east-1:123456789012:log-group:name",
        ] {
            assert_eq!(log_group_name(bad), None, "{bad}");
        }
    }

    use crate::rpc::testing::sdk_with;

    /// An SDK configuration answering `FilterLogEvents` with `answers`.
    fn answering(answers: Vec<(u16, String)>) -> (SdkConfig, Arc<Mutex<Vec<Value>>>) {
        crate::rpc::testing::answering("logs", "Logs_20140328.FilterLogEvents", answers)
    }

    fn page(events: &[(i64, &str)], next: Option<&str>) -> (u16, String) {
        let events: Vec<Value> = events
            .iter()
            .map(|(t, m)| json!({"timestamp": t, "message": m, "logStreamName": "s", "eventId": "e"}))
            .collect();
        (
            200,
            json!({"events": events, "nextToken": next}).to_string(),
        )
    }

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(ms).expect("time")
    }

    #[tokio::test]
    async fn pages_are_followed_and_the_window_is_half_open() {
        let (sdk, sent) = answering(vec![
            page(&[(1_000, "a"), (1_500, "b")], Some("t1")),
            page(&[], Some("t2")),
            // An event at `to` is outside, whatever the service sent.
            page(&[(1_999, "c"), (2_000, "late")], None),
        ]);
        let reader = LogsReader::new(&sdk, &ApiCallCounter::default());
        let w = reader
            .filter(
                "eu-west-1",
                "/aws/route53/example.com",
                at(1_000),
                at(2_000),
                100,
            )
            .await
            .expect("window");
        assert_eq!(w.messages, ["a", "b", "c"]);
        assert!(!w.truncated);
        assert_eq!(w.calls, 3);
        let sent = sent.lock().unwrap();
        assert_eq!(
            sent[0],
            json!({"logGroupName": "/aws/route53/example.com", "startTime": 1_000, "endTime": 1_999, "limit": 100})
        );
        assert_eq!(sent[1]["nextToken"], "t1");
        assert_eq!(sent[1]["limit"], 98);
        assert_eq!(sent[2]["nextToken"], "t2");
    }

    #[tokio::test]
    async fn max_events_stops_the_reading_and_says_truncated() {
        let (sdk, sent) = answering(vec![
            page(&[(1, "a"), (2, "b")], Some("t1")),
            // More than the limit asked for: the extra event is dropped.
            page(&[(3, "c"), (4, "d")], Some("t2")),
        ]);
        let reader = LogsReader::new(&sdk, &ApiCallCounter::default());
        let w = reader
            .filter("eu-west-1", "g", at(0), at(10), 3)
            .await
            .expect("window");
        assert_eq!(w.messages, ["a", "b", "c"]);
        assert!(w.truncated);
        assert_eq!(w.calls, 2);
        assert_eq!(sent.lock().unwrap()[1]["limit"], 1);
        // Exactly max_events and no more pages: complete.
        let (sdk, _) = answering(vec![page(&[(1, "a"), (2, "b")], None)]);
        let w = LogsReader::new(&sdk, &ApiCallCounter::default())
            .filter("eu-west-1", "g", at(0), at(10), 2)
            .await
            .expect("window");
        assert_eq!((w.messages.len(), w.truncated), (2, false));
    }

    #[tokio::test]
    async fn empty_windows_cost_no_call() {
        let (sdk, sent) = answering(vec![]);
        let reader = LogsReader::new(&sdk, &ApiCallCounter::default());
        let w = reader
            .filter("eu-west-1", "g", at(5), at(5), 10)
            .await
            .expect("window");
        assert_eq!(w, Window::default());
        let w = reader
            .filter("eu-west-1", "g", at(0), at(5), 0)
            .await
            .expect("window");
        assert!(w.truncated && w.messages.is_empty() && w.calls == 0);
        assert!(sent.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn errors_are_classified() {
        for (code, kind) in [
            ("ResourceNotFoundException", ErrorKind::NotFound),
            ("AccessDeniedException", ErrorKind::AccessDenied),
            ("ThrottlingException", ErrorKind::Throttled),
            ("InvalidParameterException", ErrorKind::InvalidRequest),
        ] {
            let body = json!({"__type": format!("com.amazonaws.logs#{code}"), "message": "no"});
            let (sdk, _) = answering(vec![(400, body.to_string())]);
            let e = LogsReader::new(&sdk, &ApiCallCounter::default())
                .filter("eu-west-1", "/missing", at(0), at(10), 10)
                .await
                .expect_err(code);
            assert_eq!(e.kind, kind, "{code}: {e:?}");
            assert_eq!((e.service, e.operation), ("logs", "FilterLogEvents"));
            assert!(e.message.contains("/missing in eu-west-1"), "{e:?}");
        }
        let (sdk, _) = answering(vec![(200, json!({"nextToken": null}).to_string())]);
        let e = LogsReader::new(&sdk, &ApiCallCounter::default())
            .filter("eu-west-1", "g", at(0), at(10), 10)
            .await
            .expect_err("no events");
        assert_eq!(e.kind, ErrorKind::InvalidResponse);
    }

    #[tokio::test(start_paused = true)]
    async fn calls_are_paced_to_five_per_second() {
        let answers: Vec<(u16, String)> = (0..6i64)
            .map(|i| page(&[(i, "x")], (i < 5).then(|| format!("t{i}")).as_deref()))
            .collect();
        let (sdk, _) = answering(answers);
        let start = tokio::time::Instant::now();
        let w = LogsReader::new(&sdk, &ApiCallCounter::default())
            .filter("eu-west-1", "g", at(0), at(10), 100)
            .await
            .expect("window");
        assert_eq!(w.calls, 6);
        assert!(
            start.elapsed() >= std::time::Duration::from_millis(1_000),
            "{:?}",
            start.elapsed()
        );
    }

    // --- Logs Insights, the adapter, the state ---------------------------

    use std::collections::VecDeque;
    use zw_core::families::query_logs::parse;

    type Sent = Arc<Mutex<Vec<(String, Value)>>>;

    /// An SDK configuration answering each request with
    /// `answer(action, body)` (the action without the target's prefix);
    /// keeps the actions and bodies sent.
    fn scripted(
        answer: impl Fn(&str, &Value) -> (u16, String) + Send + Sync + 'static,
    ) -> (SdkConfig, Sent) {
        let sent: Sent = Arc::default();
        let seen = sent.clone();
        let http = infallible_client_fn(move |req: http::Request<SdkBody>| {
            let target = req
                .headers()
                .get("x-amz-target")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            let action = target
                .strip_prefix("Logs_20140328.")
                .unwrap_or(target)
                .to_owned();
            let body: Value =
                serde_json::from_slice(req.body().bytes().expect("body")).expect("json");
            let (status, text) = answer(&action, &body);
            seen.lock().unwrap().push((action, body));
            http::Response::builder()
                .status(status)
                .body(text)
                .expect("response")
        });
        (sdk_with(http), sent)
    }

    /// Answers in order, each for the action named; a request for another
    /// action, or one too many, fails the test.
    fn in_order(answers: Vec<(&'static str, Value)>) -> (SdkConfig, Sent) {
        let queue = Mutex::new(VecDeque::from(answers));
        scripted(move |action, _| {
            let (expected, answer) = queue
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or_else(|| panic!("unexpected {action}"));
            assert_eq!(action, expected);
            (200, answer.to_string())
        })
    }

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-03T11:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn hour() -> (DateTime<Utc>, DateTime<Utc>) {
        (t0(), t0() + chrono::Duration::hours(1))
    }

    /// One row of a `GetQueryResults` answer.
    fn row(cells: &[(&str, &str)]) -> Value {
        cells
            .iter()
            .map(|(f, v)| json!({"field": f, "value": v}))
            .collect()
    }

    fn complete(rows: Vec<Value>) -> Value {
        json!({"status": "Complete", "statistics": {"recordsMatched": 1.0}, "results": rows})
    }

    fn adapter(sdk: &SdkConfig) -> QueryLogAdapter {
        let calls = ApiCallCounter::default();
        QueryLogAdapter::new(sdk, &Route53Collector::new(sdk, 5.0, &calls), &calls)
    }

    fn group() -> LogGroup {
        LogGroup {
            region: "eu-west-1".into(),
            name: "/aws/route53/example.com".into(),
        }
    }

    /// A `FilterLogEvents` page holding `max_events` and more.
    fn busy_page() -> Value {
        json!({
            "events": [
                {"timestamp": t0().timestamp_millis(), "message": "1.0 2026-12-03T11:00:00.000Z Z9 a.example.com A NOERROR UDP FRA6 192.0.2.1 -"},
                {"timestamp": t0().timestamp_millis(), "message": "1.0 2026-12-03T11:00:00.000Z Z9 b.example.com A NOERROR UDP FRA6 192.0.2.1 -"},
            ],
            "nextToken": "more",
        })
    }

    #[test]
    fn insights_queries_filter_the_half_open_window_to_the_millisecond() {
        let from = t0() + chrono::Duration::milliseconds(250);
        let to = t0() + chrono::Duration::milliseconds(3_600_500);
        let window = format!(
            "toMillis(@timestamp) >= {} and toMillis(@timestamp) < {}",
            from.timestamp_millis(),
            to.timestamp_millis()
        );
        for query in [
            public_totals_query(from, to),
            public_names_query(from, to),
            resolver_query(from, to),
        ] {
            assert!(query.contains(&window), "{query}");
            assert!(query.ends_with("| limit 10000"), "{query}");
        }
        assert!(public_totals_query(from, to).starts_with(
            "parse @message \"* * * * * * * * * *\" as version, ts, zone, name, qtype, rcode, proto, edge, rip, ecs\n| filter version = \"1.0\" and "
        ));
        assert!(public_totals_query(from, to).contains("| stats count(*) as n by zone, rcode\n"));
        assert!(public_names_query(from, to).contains(
            "and rcode in [\"NXDOMAIN\", \"SERVFAIL\"]\n| stats count(*) as n, min(@timestamp) as first, max(@timestamp) as last by zone, name, rcode, edge\n| sort n desc"
        ));
        assert!(resolver_query(from, to).starts_with(&format!("filter {window} and rcode = \"NXDOMAIN\"\n| stats count(*) as n by srcids.instance, srcids.resource, srcids.resolver_endpoint, vpc_id, account_id, region, query_name, rcode\n")));
        // StartQuery's whole seconds cover the window: down from, up to.
        let s = t0().timestamp();
        assert_eq!(query_span(from, to), (s, s + 3_601));
        assert_eq!(query_span(hour().0, hour().1), (s, s + 3_600));
    }

    /// A `GetQueryResults` answer of the public names query, as the service
    /// gives it.
    const NAMES_FIXTURE: &str = r#"{
        "results": [
            [
                {"field": "zone", "value": "Z1"},
                {"field": "name", "value": "WWWW.example.com."},
                {"field": "rcode", "value": "NXDOMAIN"},
                {"field": "edge", "value": "FRA6"},
                {"field": "n", "value": "100"},
                {"field": "first", "value": "2026-12-03 11:00:00.000"},
                {"field": "last", "value": "2026-12-03 11:59:30.250"}
            ],
            [
                {"field": "zone", "value": "Z1"},
                {"field": "name", "value": "api.example.com"},
                {"field": "rcode", "value": "SERVFAIL"},
                {"field": "edge", "value": "IAD12"},
                {"field": "n", "value": "30"},
                {"field": "first", "value": "2026-12-03 11:10:00.000"},
                {"field": "last", "value": "2026-12-03 11:20:00.500"}
            ]
        ],
        "statistics": {"recordsMatched": 130.0, "recordsScanned": 5000.0, "bytesScanned": 1e6},
        "status": "Complete"
    }"#;

    #[test]
    fn insights_rows_are_read_field_by_field() {
        let answer: Value = serde_json::from_str(NAMES_FIXTURE).unwrap();
        let names = name_totals(&insights_rows(&answer).unwrap()).unwrap();
        assert_eq!(
            names,
            [
                NameTotal {
                    zone_id: "Z1".into(),
                    name: "WWWW.example.com.".into(),
                    rcode: "NXDOMAIN".into(),
                    edge: "FRA6".into(),
                    count: 100,
                    first: t0(),
                    last: t0() + chrono::Duration::milliseconds(3_570_250),
                },
                NameTotal {
                    zone_id: "Z1".into(),
                    name: "api.example.com".into(),
                    rcode: "SERVFAIL".into(),
                    edge: "IAD12".into(),
                    count: 30,
                    first: t0() + chrono::Duration::minutes(10),
                    last: t0() + chrono::Duration::milliseconds(1_200_500),
                },
            ]
        );
        let totals = json!({"status": "Complete", "results": [
            row(&[("zone", "Z1"), ("rcode", "NOERROR"), ("n", "1000")]),
        ]});
        assert_eq!(
            zone_totals(&insights_rows(&totals).unwrap()).unwrap(),
            [ZoneTotal {
                zone_id: "Z1".into(),
                rcode: "NOERROR".into(),
                count: 1000
            }]
        );
        assert_eq!(insights_rows(&complete(vec![])).unwrap(), []);
    }

    #[test]
    fn an_unreadable_row_is_an_error_not_a_row_skipped() {
        let totals = |cells: &[(&str, &str)]| {
            zone_totals(&insights_rows(&json!({"results": [row(&[("zone", "Z0"), ("rcode", "NOERROR"), ("n", "1")]), row(cells)]})).unwrap())
        };
        assert_eq!(
            totals(&[("rcode", "NOERROR"), ("n", "1")]),
            Err("row 1 has no `zone`".into())
        );
        assert_eq!(
            totals(&[("zone", ""), ("rcode", "NOERROR"), ("n", "1")]),
            Err("row 1 has no `zone`".into())
        );
        assert_eq!(
            totals(&[("zone", "Z1"), ("rcode", "NOERROR"), ("n", "1.5")]),
            Err("row 1: `n` \"1.5\" is not a count".into())
        );
        assert_eq!(
            totals(&[("zone", "Z1"), ("rcode", "NOERROR"), ("n", "-1")]),
            Err("row 1: `n` \"-1\" is not a count".into())
        );
        let mut answer: Value = serde_json::from_str(NAMES_FIXTURE).unwrap();
        answer["results"][1][5]["value"] = json!("2026-12-03T11:10:00Z");
        assert_eq!(
            name_totals(&insights_rows(&answer).unwrap()),
            Err("row 1: `first` \"2026-12-03T11:10:00Z\" is not a Logs Insights time".into())
        );
        assert_eq!(
            insights_rows(&json!({"status": "Complete"})),
            Err("the answer has no `results` list".into())
        );
        assert_eq!(
            insights_rows(&json!({"results": [{"field": "n"}]})),
            Err("row 0 is not a list of fields".into())
        );
        assert_eq!(
            insights_rows(&json!({"results": [[{"field": "n", "value": 3}]]})),
            Err("row 0: `n` is not a string".into())
        );
        assert_eq!(
            insights_rows(&json!({"results": [[{"value": "3"}]]})),
            Err("row 0 has a cell without a `field` name".into())
        );
        // A null value is a field the events did not have.
        let rows = insights_rows(&json!({"results": [[{"field": "srcids.instance", "value": null}, {"field": "n", "value": "2"}]]})).unwrap();
        assert_eq!(rows[0].len(), 1);
    }

    #[test]
    fn sources_are_named_as_the_record_parser_names_them() {
        let cases: [(&str, &str); 6] = [
            (
                r#","srcids":{"instance":"i-1","resource":"r-1","resolver_endpoint":"e-1"}"#,
                "i-1",
            ),
            (
                r#","srcids":{"resource":"r-1","resolver_endpoint":"e-1"}"#,
                "r-1",
            ),
            (r#","srcids":{"resolver_endpoint":"e-1"}"#, "e-1"),
            (r#","srcids":{"instance":"","resource":"r-1"}"#, "r-1"),
            (r#","srcids":{}"#, "vpc:vpc-1"),
            ("", "vpc:vpc-1"),
        ];
        for (srcids, want) in cases {
            let record = format!(
                r#"{{"version":"1.1","account_id":"111122223333","region":"eu-west-1","vpc_id":"vpc-1","query_timestamp":"2026-12-03T11:00:00Z","query_name":"a.internal.","query_type":"A","query_class":"IN","rcode":"NXDOMAIN","answers":[],"srcaddr":"10.0.0.1","srcport":"53","transport":"UDP"{srcids}}}"#
            );
            let parsed = parse::resolver_query(&record).expect(&record);
            let ids: Value = serde_json::from_str(&record).unwrap();
            let id = |k: &str| ids["srcids"][k].as_str();
            let named = source_name(
                id("instance"),
                id("resource"),
                id("resolver_endpoint"),
                "vpc-1",
            );
            assert_eq!(
                (parsed.source.as_str(), named.as_str()),
                (want, want),
                "{srcids}"
            );
        }
        let rows = insights_rows(&json!({"results": [
            row(&[("srcids.resource", "r-9"), ("vpc_id", "vpc-2"), ("account_id", "1"), ("region", "eu-west-1"), ("query_name", "x."), ("rcode", "NXDOMAIN"), ("n", "4")]),
        ]}))
        .unwrap();
        let sources = source_totals(&rows).unwrap();
        assert_eq!(sources[0].source, "r-9");
        assert_eq!(sources[0].count, 4);
        let rows =
            insights_rows(&json!({"results": [row(&[("vpc_id", "vpc-2"), ("n", "4")])]})).unwrap();
        assert_eq!(
            source_totals(&rows),
            Err("row 0 has no `account_id`".into())
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_busy_public_window_is_counted_by_logs_insights() {
        let (from, to) = hour();
        let (sdk, sent) = in_order(vec![
            ("FilterLogEvents", busy_page()),
            ("StartQuery", json!({"queryId": "q-totals"})),
            (
                "GetQueryResults",
                json!({"status": "Running", "results": []}),
            ),
            (
                "GetQueryResults",
                complete(vec![
                    row(&[("zone", "Z1"), ("rcode", "NOERROR"), ("n", "1000")]),
                    row(&[("zone", "Z1"), ("rcode", "NXDOMAIN"), ("n", "150")]),
                    row(&[("zone", "Z1"), ("rcode", "SERVFAIL"), ("n", "30")]),
                    row(&[("zone", "Z2"), ("rcode", "NXDOMAIN"), ("n", "5")]),
                ]),
            ),
            ("StartQuery", json!({"queryId": "q-names"})),
            (
                "GetQueryResults",
                serde_json::from_str(NAMES_FIXTURE).unwrap(),
            ),
        ]);
        let mut aggregate = Aggregate::new(from, to);
        let stats = adapter(&sdk)
            .read(&group(), LogFormat::Public, 2, &mut aggregate)
            .await
            .expect("counted");
        assert_eq!(
            stats,
            ReadStats {
                events: 1_185,
                insights: true
            }
        );
        // The lines read before the cap are not counted.
        assert!(!aggregate.zones.contains_key("Z9"));
        let z1 = &aggregate.zones["Z1"];
        assert_eq!((z1.total, z1.nxdomain, z1.servfail), (1_180, 150, 30));
        assert_eq!(z1.nxdomain_names["wwww.example.com"].count, 100);
        assert_eq!(z1.servfail_names["api.example.com"], 30);
        assert_eq!(
            z1.first_servfail,
            Some(t0() + chrono::Duration::minutes(10))
        );
        assert_eq!(aggregate.zones["Z2"].nxdomain, 5);

        let sent = sent.lock().unwrap();
        let starts: Vec<&Value> = sent
            .iter()
            .filter(|(a, _)| a == "StartQuery")
            .map(|(_, b)| b)
            .collect();
        assert_eq!(
            *starts[0],
            json!({
                "logGroupName": "/aws/route53/example.com",
                "startTime": t0().timestamp(),
                "endTime": to.timestamp(),
                "queryString": public_totals_query(from, to),
                "limit": 10_000,
            })
        );
        assert_eq!(
            starts[1]["queryString"],
            json!(public_names_query(from, to))
        );
        assert_eq!(sent[3].1, json!({"queryId": "q-totals"}));
        assert!(!sent.iter().any(|(a, _)| a == "StopQuery"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_busy_resolver_window_is_counted_per_source() {
        let (sdk, _) = in_order(vec![
            ("FilterLogEvents", busy_page()),
            ("StartQuery", json!({"queryId": "q"})),
            (
                "GetQueryResults",
                complete(vec![
                    row(&[
                        ("srcids.instance", "i-1"),
                        ("vpc_id", "vpc-1"),
                        ("account_id", "111122223333"),
                        ("region", "eu-west-1"),
                        ("query_name", "A.internal."),
                        ("rcode", "NXDOMAIN"),
                        ("n", "3"),
                    ]),
                    row(&[
                        ("srcids.instance", "i-1"),
                        ("vpc_id", "vpc-1"),
                        ("account_id", "111122223333"),
                        ("region", "eu-west-1"),
                        ("query_name", "b.internal."),
                        ("rcode", "NXDOMAIN"),
                        ("n", "1"),
                    ]),
                    row(&[
                        ("vpc_id", "vpc-2"),
                        ("account_id", "111122223333"),
                        ("region", "eu-west-1"),
                        ("query_name", "c.internal."),
                        ("rcode", "NXDOMAIN"),
                        ("n", "2"),
                    ]),
                ]),
            ),
        ]);
        let (from, to) = hour();
        let mut aggregate = Aggregate::new(from, to);
        let stats = adapter(&sdk)
            .read(&group(), LogFormat::Resolver, 1, &mut aggregate)
            .await
            .expect("counted");
        assert_eq!(
            stats,
            ReadStats {
                events: 6,
                insights: true
            }
        );
        let i1 = &aggregate.sources["i-1"];
        assert_eq!(i1.nxdomain, 4);
        assert_eq!(i1.distinct_names.len(), 2);
        assert!(i1.distinct_names.contains("a.internal"));
        assert_eq!(aggregate.sources["vpc:vpc-2"].nxdomain, 2);
    }

    #[tokio::test]
    async fn a_window_under_the_cap_is_counted_line_by_line() {
        let record = r#"{"version":"1.1","account_id":"1","region":"eu-west-1","vpc_id":"vpc-1","query_timestamp":"2026-12-03T11:00:01Z","query_name":"x.internal.","query_type":"A","query_class":"IN","rcode":"NXDOMAIN","answers":[],"srcaddr":"10.0.0.1","srcport":"53","transport":"UDP"}"#;
        let (sdk, sent) = in_order(vec![(
            "FilterLogEvents",
            json!({"events": [{"timestamp": t0().timestamp_millis() + 1_000, "message": record}]}),
        )]);
        let (from, to) = hour();
        let mut aggregate = Aggregate::new(from, to);
        let stats = adapter(&sdk)
            .read(&group(), LogFormat::Resolver, 10, &mut aggregate)
            .await
            .expect("read");
        assert_eq!(
            stats,
            ReadStats {
                events: 1,
                insights: false
            }
        );
        assert_eq!(aggregate.sources["vpc:vpc-1"].nxdomain, 1);
        assert_eq!(sent.lock().unwrap().len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_query_running_past_the_deadline_is_stopped() {
        let (sdk, sent) = scripted(|action, _| {
            let answer = match action {
                "FilterLogEvents" => busy_page(),
                "StartQuery" => json!({"queryId": "q-slow"}),
                "GetQueryResults" => json!({"status": "Running", "results": []}),
                "StopQuery" => json!({"success": true}),
                other => panic!("unexpected {other}"),
            };
            (200, answer.to_string())
        });
        let start = tokio::time::Instant::now();
        let (from, to) = hour();
        let e = adapter(&sdk)
            .read(
                &group(),
                LogFormat::Public,
                2,
                &mut Aggregate::new(from, to),
            )
            .await
            .expect_err("too slow");
        let waited = start.elapsed();
        assert!(
            waited >= INSIGHTS_TIMEOUT && waited < INSIGHTS_TIMEOUT + POLL_MAX * 2,
            "{waited:?}"
        );
        assert_eq!(e.kind, ErrorKind::Transient, "{e:?}");
        assert_eq!((e.service, e.operation), ("logs", "GetQueryResults"));
        assert!(
            e.message
                .starts_with("/aws/route53/example.com in eu-west-1: Logs Insights query q-slow did not complete within 120 s"),
            "{e:?}"
        );
        let sent = sent.lock().unwrap();
        assert_eq!(
            sent.last(),
            Some(&("StopQuery".to_owned(), json!({"queryId": "q-slow"})))
        );
        // Waits of 1, 2, 4, then 5 s: 26 polls in 120 s.
        let polls = sent.iter().filter(|(a, _)| a == "GetQueryResults").count();
        assert_eq!(polls, 26);
    }

    #[tokio::test(start_paused = true)]
    async fn a_query_the_service_ended_is_an_error_without_a_stop() {
        for (status, kind) in [
            ("Failed", ErrorKind::Other),
            ("Cancelled", ErrorKind::Other),
            ("Timeout", ErrorKind::Transient),
        ] {
            let (sdk, sent) = in_order(vec![
                ("FilterLogEvents", busy_page()),
                ("StartQuery", json!({"queryId": "q"})),
                ("GetQueryResults", json!({"status": status})),
            ]);
            let (from, to) = hour();
            let e = adapter(&sdk)
                .read(
                    &group(),
                    LogFormat::Public,
                    2,
                    &mut Aggregate::new(from, to),
                )
                .await
                .expect_err(status);
            assert_eq!(e.kind, kind, "{status}: {e:?}");
            assert!(
                e.message.contains(&format!(
                    "example.com in eu-west-1: Logs Insights query q ended {status}"
                )),
                "{e:?}"
            );
            assert_eq!(sent.lock().unwrap().len(), 3);
        }
        // Rows that cannot be read: an error naming the group.
        let (sdk, _) = in_order(vec![
            ("FilterLogEvents", busy_page()),
            ("StartQuery", json!({"queryId": "q"})),
            (
                "GetQueryResults",
                complete(vec![row(&[("zone", "Z1"), ("n", "x")])]),
            ),
        ]);
        let (from, to) = hour();
        let e = adapter(&sdk)
            .read(
                &group(),
                LogFormat::Public,
                2,
                &mut Aggregate::new(from, to),
            )
            .await
            .expect_err("unreadable rows");
        assert_eq!(e.kind, ErrorKind::InvalidResponse);
        assert!(
            e.message.contains("/aws/route53/example.com in eu-west-1")
                && e.message.contains("row 0 has no `rcode`"),
            "{e:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn insights_errors_are_classified_and_name_the_group() {
        let (sdk, _) = scripted(|action, _| match action {
            "FilterLogEvents" => (200, busy_page().to_string()),
            _ => (
                400,
                json!({"__type": "LimitExceededException", "message": "too many queries"})
                    .to_string(),
            ),
        });
        let (from, to) = hour();
        let e = adapter(&sdk)
            .read(
                &group(),
                LogFormat::Public,
                2,
                &mut Aggregate::new(from, to),
            )
            .await
            .expect_err("limit");
        assert_eq!(e.kind, ErrorKind::Throttled, "{e:?}");
        assert_eq!(e.operation, "StartQuery");
        assert!(
            e.message
                .starts_with("/aws/route53/example.com in eu-west-1: "),
            "{e:?}"
        );
    }

    fn resolver_config(id: &str, status: &str, destination: &str) -> ResolverQueryLogConfig {
        ResolverQueryLogConfig {
            id: id.into(),
            name: id.into(),
            status: status.into(),
            destination_arn: destination.into(),
        }
    }

    #[test]
    fn resolver_logging_keeps_created_log_group_destinations() {
        let configs = [
            resolver_config(
                "a",
                "CREATED",
                "arn:aws:logs:eu-west-1:111122223333:log-group:/vpc/dns:*",
            ),
            resolver_config(
                "b",
                "CREATED",
                "arn:aws:logs:eu-west-1:111122223333:log-group:/vpc/other",
            ),
            resolver_config("c", "CREATED", "arn:aws:s3:::dns-query-logs"),
            resolver_config(
                "d",
                "CREATED",
                "arn:aws:firehose:eu-west-1:111122223333:deliverystream/dns",
            ),
            resolver_config(
                "e",
                "CREATING",
                "arn:aws:logs:eu-west-1:111122223333:log-group:/vpc/new",
            ),
            resolver_config(
                "f",
                "FAILED",
                "arn:aws:logs:eu-west-1:111122223333:log-group:/vpc/failed",
            ),
        ];
        let kept = cloudwatch_destinations(&configs).unwrap();
        let group = |name: &str| LogGroup {
            region: "eu-west-1".into(),
            name: name.into(),
        };
        assert_eq!(
            kept,
            [
                ResolverLogging {
                    config_id: "a".into(),
                    group: group("/vpc/dns")
                },
                ResolverLogging {
                    config_id: "b".into(),
                    group: group("/vpc/other")
                },
            ]
        );
        let bad = [resolver_config(
            "x",
            "CREATED",
            "arn:aws:logs:eu-west-1:111122223333:log-group:a b",
        )];
        let e = cloudwatch_destinations(&bad).expect_err("not a log group");
        assert_eq!(e.kind, ErrorKind::InvalidResponse);
        assert!(
            e.message.contains(
                "configuration x names `arn:aws:logs:eu-west-1:111122223333:log-group:a b`"
            ),
            "{e:?}"
        );
    }

    #[test]
    fn a_zone_logging_to_an_unreadable_arn_is_an_error_naming_both() {
        let ok = public_logging(QueryLoggingConfig {
            id: "c1".into(),
            hosted_zone_id: "Z1".into(),
            log_group_arn: "arn:aws:logs:us-east-1:111122223333:log-group:/aws/route53/a.example:*"
                .into(),
        })
        .unwrap();
        assert_eq!(
            ok,
            PublicLogging {
                zone_id: "Z1".into(),
                group: LogGroup {
                    region: "us-east-1".into(),
                    name: "/aws/route53/a.example".into()
                }
            }
        );
        let e = public_logging(QueryLoggingConfig {
            id: "c2".into(),
            hosted_zone_id: "Z2".into(),
            log_group_arn: "arn:aws:s3:::bucket".into(),
        })
        .expect_err("not a log group");
        assert_eq!(e.kind, ErrorKind::InvalidResponse);
        assert!(
            e.message
                .contains("hosted zone Z2 names `arn:aws:s3:::bucket`"),
            "{e:?}"
        );
    }

    #[test]
    fn the_binary_lists_round_trip() {
        assert_eq!(
            encode_names(&[1, 0x0102_0304_0506_0708]),
            [0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8]
        );
        let names = vec![0, 1, 0xcbf2_9ce4_8422_2325, u64::MAX];
        assert_eq!(decode_names(&encode_names(&names)), Ok(names));
        assert_eq!(decode_names(&[]), Ok(vec![]));
        assert!(decode_names(&[0; 7]).is_err());
        let removed = vec![
            (u64::MAX, t0()),
            (7, DateTime::from_timestamp(0, 0).unwrap()),
            (8, DateTime::from_timestamp(-86_400, 0).unwrap()),
        ];
        let bytes = encode_removed(&removed);
        assert_eq!(bytes.len(), 48);
        assert_eq!(bytes[8..16], t0().timestamp().to_be_bytes());
        assert_eq!(decode_removed(&bytes), Ok(removed));
        assert!(decode_removed(&[0; 15]).is_err());
        let mut far = [0u8; 16];
        far[8..].copy_from_slice(&i64::MAX.to_be_bytes());
        assert!(decode_removed(&far).is_err());
    }

    fn zone_state() -> ZoneState {
        ZoneState {
            history: vec![
                Sample {
                    at: t0(),
                    per_hour: 12.5,
                },
                Sample {
                    at: t0() + chrono::Duration::hours(1),
                    per_hour: 0.0,
                },
            ],
            names: vec![3, 5, u64::MAX],
            removed: vec![(4, t0() - chrono::Duration::days(2))],
            names_at: Some(t0() + chrono::Duration::milliseconds(125)),
        }
    }

    #[test]
    fn the_state_round_trips_through_its_items() {
        let now = t0() + chrono::Duration::hours(2);
        let group = LogGroup {
            region: "us-east-1".into(),
            name: "/aws/route53/example.com".into(),
        };
        let zone = zone_item("Z1", &zone_state(), now).unwrap();
        let attr = |item: &Item, name: &str| item.get(name).cloned();
        assert_eq!(
            attr(&zone, "pk"),
            Some(AttributeValue::S("QUERYLOG".into()))
        );
        assert_eq!(attr(&zone, "sk"), Some(AttributeValue::S("ZONE#Z1".into())));
        assert_eq!(
            attr(&zone, "item_type"),
            Some(AttributeValue::S("querylog-zone".into()))
        );
        assert_eq!(
            attr(&zone, "expires_at"),
            Some(AttributeValue::N(
                (now.timestamp() + 30 * 86_400).to_string()
            ))
        );
        assert_eq!(
            attr(&zone, "names"),
            Some(AttributeValue::B(Blob::new(encode_names(&[
                3,
                5,
                u64::MAX
            ]))))
        );
        let read_to = group_item(&group, t0(), false, now);
        assert_eq!(
            attr(&read_to, "sk"),
            Some(AttributeValue::S(
                "GROUP#us-east-1//aws/route53/example.com".into()
            ))
        );
        assert_eq!(
            attr(&read_to, "read_to"),
            Some(AttributeValue::S("2026-12-03T11:00:00.000Z".into()))
        );
        let empty = zone_item("Z2", &ZoneState::default(), now).unwrap();
        assert!(!empty.contains_key("names") && !empty.contains_key("removed"));
        // An item of a later version is left alone.
        let mut other = group_item(&group, t0(), false, now);
        other.insert("sk".into(), AttributeValue::S("SOURCE#i-1".into()));

        let state = state_of(&[zone, read_to, empty, other]).unwrap();
        assert_eq!(state.zones.len(), 2);
        assert_eq!(state.zones["Z1"], zone_state());
        assert_eq!(state.zones["Z2"], ZoneState::default());
        assert_eq!(state.read_to, BTreeMap::from([(group.key(), t0())]));
        assert!(state.busy.is_empty());
        let busy = state_of(&[group_item(&group, t0(), true, now)]).unwrap();
        assert_eq!(busy.busy, std::collections::BTreeSet::from([group.key()]));
    }

    #[test]
    fn a_corrupt_state_item_is_an_error_naming_it() {
        let now = t0();
        let broken = |name: &str, value: Option<AttributeValue>| {
            let mut item = zone_item("Z1", &zone_state(), now).unwrap();
            match value {
                Some(v) => item.insert(name.into(), v),
                None => item.remove(name),
            };
            state_of(&[item]).expect_err(name)
        };
        let e = broken("names", Some(AttributeValue::B(Blob::new(vec![0; 9]))));
        assert_eq!((e.kind, e.operation), (ErrorKind::InvalidResponse, "Query"));
        assert!(
            e.message.starts_with(
                "the query-log state item `ZONE#Z1` is not readable: `names`: 9 bytes"
            ),
            "{e:?}"
        );
        assert!(broken("history", None).message.ends_with("no `history`"));
        assert!(
            broken("history", Some(AttributeValue::S("{".into())))
                .message
                .contains("`history`: ")
        );
        assert!(
            broken("removed", Some(AttributeValue::S("x".into())))
                .message
                .ends_with("`removed` is not binary")
        );
        assert!(
            broken("names_at", Some(AttributeValue::S("yesterday".into())))
                .message
                .contains("`names_at` \"yesterday\"")
        );
        let mut group = group_item(&group(), now, false, now);
        group.remove("read_to");
        let e = state_of(&[group]).expect_err("no read_to");
        assert!(
            e.message.contains(
                "`GROUP#eu-west-1//aws/route53/example.com` is not readable: no `read_to`"
            ),
            "{e:?}"
        );
    }
}
