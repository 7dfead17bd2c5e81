//! Groundwork of the query-log family: the adapters it will read Route 53
//! query logs through. **Not called by any family yet**: nothing in the
//! families, functions, templates or CLI uses this module; the parsing and
//! aggregation it will feed live in `zw_core::families::query_logs`.
//!
//! - [`query_logging_configs`]: the account's Route 53 query logging
//!   configurations (`ListQueryLoggingConfigs`, every page), each naming a
//!   hosted zone and the CloudWatch Logs log group its queries go to.
//! - [`log_group_name`]: the region and name of a log group from its ARN.
//! - [`LogsReader`]: one time window of a log group's messages through
//!   CloudWatch Logs `FilterLogEvents` (JSON 1.1, sent through the SDK's
//!   runtime without the service crate: `crate::rpc`), paced to the API's
//!   default quota of 5 calls per second per account and region.
//!
//! Why `FilterLogEvents`: moto (our integration tests' AWS) implements it,
//! and it needs no polling. For high query volumes CloudWatch Logs Insights
//! (`StartQuery`/`GetQueryResults`, counting server-side) is the planned
//! path; moto supports only a sliver of its query language, so it could
//! not be tested end to end here.

use crate::error::classify;
use crate::limiter::RateLimiter;
use crate::rpc;
use crate::usage::ApiCallCounter;
use aws_config::SdkConfig;
use chrono::{DateTime, Utc};
use serde_json::json;
use zw_core::ports::{ErrorKind, PortError};

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

/// The account's query logging configurations, every page. Not paced: a
/// caller sharing Route 53's account quota paces its own calls (one page
/// holds up to 100 configurations).
pub async fn query_logging_configs(
    client: &aws_sdk_route53::Client,
) -> Result<Vec<QueryLoggingConfig>, PortError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_http_client::test_util::infallible_client_fn;
    use aws_smithy_types::body::SdkBody;
    use serde_json::Value;
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

    /// An SDK configuration whose HTTP client answers the requests it gets,
    /// in order, with `answers` (status, body); it keeps the JSON bodies sent.
    fn answering(answers: Vec<(u16, String)>) -> (SdkConfig, Arc<Mutex<Vec<Value>>>) {
        let sent = Arc::new(Mutex::new(Vec::new()));
        let seen = sent.clone();
        let http = infallible_client_fn(move |req: http::Request<SdkBody>| {
            assert_eq!(
                req.uri().to_string(),
                "https://logs.eu-west-1.amazonaws.com/"
            );
            assert_eq!(
                req.headers()
                    .get("x-amz-target")
                    .map(|v| v.to_str().unwrap()),
                Some("Logs_20140328.FilterLogEvents")
            );
            let auth = req.headers().get("authorization").expect("signed");
            assert!(
                auth.to_str()
                    .unwrap()
                    .contains("/eu-west-1/logs/aws4_request"),
                "{auth:?}"
            );
            let body: Value =
                serde_json::from_slice(req.body().bytes().expect("body")).expect("json");
            let mut seen = seen.lock().unwrap();
            seen.push(body);
            let (status, text) = answers
                .get(seen.len() - 1)
                .cloned()
                .unwrap_or((500, "{}".into()));
            http::Response::builder()
                .status(status)
                .body(text)
                .expect("response")
        });
        let sdk = SdkConfig::builder()
            .region(aws_config::Region::new("eu-west-1"))
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(
                    aws_credential_types::Credentials::new(
                        "AKIDTEST", "secret", None, None, "test",
                    ),
                ),
            )
            .retry_config(aws_smithy_types::retry::RetryConfig::disabled())
            .http_client(http)
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        (sdk, sent)
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
}
