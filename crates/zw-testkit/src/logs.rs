//! CloudWatch Logs log groups and events in moto, and Route 53 and Route 53
//! Resolver query logging configurations, for the query-log family's tests
//! (`zw_aws::query_logs`). The Logs and Resolver calls go through the
//! adapters' own protocol code (`zw_aws::rpc`, JSON 1.1): zonewarden links
//! no CloudWatch Logs or Resolver SDK crate.
//!
//! Like AWS, moto 5.2.5 accepts events of the last 14 days up to 2 hours
//! ahead of its clock only (others are left out, reported in
//! `rejectedLogEventsInfo`), in time order within a request; Route 53 takes
//! a log group's ARN only as `DescribeLogGroups` gives it (ending in `:*`),
//! from us-east-1.

use crate::error::{Result, TestkitError};
use aws_config::SdkConfig;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use zw_aws::query_logs::{ENDPOINT, TARGET};
use zw_aws::usage::ApiCallCounter;

/// The most events of one `PutLogEvents` request.
const BATCH_EVENTS: usize = 10_000;
/// The most bytes of one request: the messages' UTF-8 plus 26 per event.
const BATCH_BYTES: usize = 1_048_576;
const EVENT_OVERHEAD: usize = 26;
/// The longest time span of one request.
const BATCH_SPAN_MS: i64 = 24 * 3_600 * 1_000;

/// One CloudWatch Logs call in `region`.
async fn call(sdk: &SdkConfig, region: &str, action: &'static str, body: Value) -> Result<Value> {
    call_service(sdk, region, &ENDPOINT, TARGET, action, body).await
}

/// One JSON 1.1 call of `service` in `region`. `CreateLogGroup` and
/// `CreateLogStream` answer with an empty body (AWS and moto alike), which
/// `zw_aws::rpc::json_response` refuses: an empty success is `{}` here.
async fn call_service(
    sdk: &SdkConfig,
    region: &str,
    service: &zw_aws::rpc::Endpoint,
    target: &'static str,
    action: &'static str,
    body: Value,
) -> Result<Value> {
    zw_aws::rpc::operation_builder(sdk, region, service, &ApiCallCounter::default(), action)
        .serializer(move |body: Value| {
            zw_aws::rpc::json_request(&format!("{target}.{action}"), &body)
        })
        .deserializer(|response| {
            if response.status().is_success()
                && response.body().bytes().is_some_and(<[u8]>::is_empty)
            {
                return Ok(json!({}));
            }
            zw_aws::rpc::json_response(response)
        })
        .build()
        .invoke(body)
        .await
        .map_err(|e| TestkitError::Aws {
            operation: action,
            detail: format!("{e:?}"),
        })
}

/// Creates the log group `name` in `region`.
pub async fn create_log_group(sdk: &SdkConfig, region: &str, name: &str) -> Result<()> {
    call(
        sdk,
        region,
        "CreateLogGroup",
        json!({ "logGroupName": name }),
    )
    .await?;
    Ok(())
}

/// Creates the stream `stream` of `group` and puts `events` (time,
/// message) into it, sorted by time, in requests of at most 10,000 events,
/// 1 MB and 24 hours. An event the service rejects (too old, too new) is
/// an error.
pub async fn put_events(
    sdk: &SdkConfig,
    region: &str,
    group: &str,
    stream: &str,
    events: &[(DateTime<Utc>, String)],
) -> Result<()> {
    call(
        sdk,
        region,
        "CreateLogStream",
        json!({ "logGroupName": group, "logStreamName": stream }),
    )
    .await?;
    let mut sorted: Vec<(i64, &str)> = events
        .iter()
        .map(|(t, m)| (t.timestamp_millis(), m.as_str()))
        .collect();
    sorted.sort_by_key(|(t, _)| *t);
    for batch in batches(&sorted) {
        let answer = call(
            sdk,
            region,
            "PutLogEvents",
            json!({
                "logGroupName": group,
                "logStreamName": stream,
                "logEvents": batch
                    .iter()
                    .map(|(t, m)| json!({ "timestamp": t, "message": m }))
                    .collect::<Vec<_>>(),
            }),
        )
        .await?;
        if let Some(rejected) = answer.get("rejectedLogEventsInfo") {
            return Err(TestkitError::Aws {
                operation: "PutLogEvents",
                detail: format!("events rejected: {rejected}"),
            });
        }
    }
    Ok(())
}

/// `events`, sorted by time, cut into `PutLogEvents` requests: at most
/// 10,000 events, 1 MB (messages plus 26 bytes each) and 24 hours each.
fn batches<'a>(events: &'a [(i64, &'a str)]) -> Vec<&'a [(i64, &'a str)]> {
    let mut out = Vec::new();
    let mut rest = events;
    while let Some(&(first, _)) = rest.first() {
        let mut bytes = 0;
        let mut n = 0;
        for &(t, m) in rest {
            let size = m.len() + EVENT_OVERHEAD;
            if n == BATCH_EVENTS || bytes + size > BATCH_BYTES || t - first >= BATCH_SPAN_MS {
                break;
            }
            bytes += size;
            n += 1;
        }
        // An event too large alone goes alone (and the service says why).
        let (batch, tail) = rest.split_at(n.max(1));
        out.push(batch);
        rest = tail;
    }
    out
}

/// The ARN of the log group `name` in `region` as `DescribeLogGroups`
/// gives it (its `arn`, ending in `:*`): the one Route 53 accepts.
pub async fn log_group_arn(sdk: &SdkConfig, region: &str, name: &str) -> Result<String> {
    let answer = call(
        sdk,
        region,
        "DescribeLogGroups",
        json!({ "logGroupNamePrefix": name }),
    )
    .await?;
    answer["logGroups"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|g| g["logGroupName"].as_str() == Some(name))
        .and_then(|g| g["arn"].as_str())
        .map(str::to_owned)
        .ok_or(TestkitError::MissingField {
            operation: "logs:DescribeLogGroups",
            field: "the log group's arn",
        })
}

/// Sends the queries of hosted zone `zone_id` to the log group of
/// `log_group_arn` (as [`log_group_arn`] gives it); the configuration's id.
pub async fn create_query_logging_config(
    sdk: &SdkConfig,
    zone_id: &str,
    log_group_arn: &str,
) -> Result<String> {
    let out = aws_sdk_route53::Client::new(sdk)
        .create_query_logging_config()
        .hosted_zone_id(zone_id)
        .cloud_watch_logs_log_group_arn(log_group_arn)
        .send()
        .await
        .map_err(TestkitError::aws("route53:CreateQueryLoggingConfig"))?;
    out.query_logging_config()
        .map(|c| c.id().to_owned())
        .ok_or(TestkitError::MissingField {
            operation: "route53:CreateQueryLoggingConfig",
            field: "QueryLoggingConfig.Id",
        })
}

/// Creates a Route 53 Resolver query logging configuration `name` in
/// `region` sending its queries to `destination_arn` (a log group's ARN as
/// [`log_group_arn`] gives it, or an S3 bucket's or a Firehose stream's);
/// the configuration's id. No VPC is associated: moto would want one in its
/// EC2, and the family reads the log group, not the associations.
pub async fn create_resolver_query_log_config(
    sdk: &SdkConfig,
    region: &str,
    name: &str,
    destination_arn: &str,
) -> Result<String> {
    // The API refuses a creator request id it has seen: one per call.
    static REQUESTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let request = REQUESTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let answer = call_service(
        sdk,
        region,
        &zw_aws::resolver::ENDPOINT,
        zw_aws::resolver::TARGET,
        "CreateResolverQueryLogConfig",
        json!({
            "Name": name,
            "DestinationArn": destination_arn,
            "CreatorRequestId": format!("zw-testkit-{}-{request}", std::process::id()),
        }),
    )
    .await?;
    answer["ResolverQueryLogConfig"]["Id"]
        .as_str()
        .map(str::to_owned)
        .ok_or(TestkitError::MissingField {
            operation: "route53resolver:CreateResolverQueryLogConfig",
            field: "ResolverQueryLogConfig.Id",
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_keep_to_the_request_limits() {
        let big = "x".repeat(100_000);
        let mut events: Vec<(i64, &str)> = (0..25_000).map(|i| (i, "m")).collect();
        let sizes: Vec<usize> = batches(&events).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [10_000, 10_000, 5_000]);
        // 10 events of 100,026 bytes fit in 1 MB, the 11th does not.
        events = (0..12).map(|i| (i, big.as_str())).collect();
        let sizes: Vec<usize> = batches(&events).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [10, 2]);
        // A day apart: two requests.
        events = vec![(0, "a"), (BATCH_SPAN_MS - 1, "b"), (BATCH_SPAN_MS, "c")];
        let sizes: Vec<usize> = batches(&events).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [2, 1]);
        assert!(batches(&[]).is_empty());
    }
}
