//! Route 53 health checks (through the account-wide Route 53 pacing), the
//! CloudWatch alarms on them (us-east-1, where their metrics live) and our
//! own status history of them in the findings table.

use crate::error::classify;
use crate::route53::Route53Collector;
use crate::table::{Item, batch_write, query_partition};
use crate::usage::ApiCallCounter;
use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use aws_sdk_route53::types::TagResourceType;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use zw_core::families::health::model::{
    CheckerObservation, HealthAlarms, HealthCheck, StatusHistory,
};
use zw_core::families::health::ports::{HealthAlarmSource, HealthCheckSource, HealthHistoryStore};
use zw_core::ports::{ErrorKind, PortError};

/// `ListTagsForResources` takes at most 10 ids.
const TAGS_BATCH: usize = 10;

fn to_chrono(t: &aws_smithy_types::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

/// What a health check watches, for people.
fn target_of(c: &aws_sdk_route53::types::HealthCheckConfig) -> String {
    let kind = c.r#type().as_str();
    match kind {
        "CALCULATED" => format!("calculated of {}", c.child_health_checks().join(", ")),
        "CLOUDWATCH_METRIC" => "cloudwatch alarm".to_owned(),
        "RECOVERY_CONTROL" => c
            .routing_control_arn()
            .unwrap_or("routing control")
            .to_owned(),
        _ => {
            let scheme = if kind.starts_with("HTTPS") {
                "https"
            } else if kind.starts_with("HTTP") {
                "http"
            } else {
                "tcp"
            };
            let host = c
                .fully_qualified_domain_name()
                .or(c.ip_address())
                .unwrap_or("?");
            let port = c.port().map(|p| format!(":{p}")).unwrap_or_default();
            format!("{scheme}://{host}{port}{}", c.resource_path().unwrap_or(""))
        }
    }
}

impl HealthCheckSource for Route53Collector {
    async fn health_checks(&self) -> Result<Vec<HealthCheck>, PortError> {
        let mut checks = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            self.pace().await;
            let page = self
                .client
                .list_health_checks()
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| classify("route53", "ListHealthChecks", e))?;
            for h in page.health_checks() {
                let Some(c) = h.health_check_config() else {
                    continue;
                };
                checks.push(HealthCheck {
                    id: h.id().to_owned(),
                    kind: c.r#type().as_str().to_owned(),
                    target: target_of(c),
                    disabled: c.disabled().unwrap_or(false),
                    inverted: c.inverted().unwrap_or(false),
                    regions: c.regions().iter().map(|r| r.as_str().to_owned()).collect(),
                    children: c.child_health_checks().to_vec(),
                    health_threshold: c.health_threshold(),
                    tags: BTreeMap::new(),
                });
            }
            match (page.is_truncated(), page.next_marker()) {
                (true, Some(m)) => marker = Some(m.to_owned()),
                _ => break,
            }
        }
        for batch in checks.chunks_mut(TAGS_BATCH) {
            self.pace().await;
            let ids: Vec<String> = batch.iter().map(|c| c.id.clone()).collect();
            let out = self
                .client
                .list_tags_for_resources()
                .resource_type(TagResourceType::Healthcheck)
                .set_resource_ids(Some(ids))
                .send()
                .await
                .map_err(|e| classify("route53", "ListTagsForResources", e))?;
            for set in out.resource_tag_sets() {
                let Some(c) = batch
                    .iter_mut()
                    .find(|c| Some(c.id.as_str()) == set.resource_id())
                else {
                    continue;
                };
                for t in set.tags() {
                    if let (Some(k), Some(v)) = (t.key(), t.value()) {
                        c.tags.insert(k.to_owned(), v.to_owned());
                    }
                }
            }
        }
        Ok(checks)
    }

    async fn observations(&self, id: &str) -> Result<Vec<CheckerObservation>, PortError> {
        self.pace().await;
        let out = self
            .client
            .get_health_check_status()
            .health_check_id(id)
            .send()
            .await
            .map_err(|e| classify("route53", "GetHealthCheckStatus", e))?;
        Ok(out
            .health_check_observations()
            .iter()
            .map(|o| CheckerObservation {
                region: o.region().map(|r| r.as_str().to_owned()),
                ip: o.ip_address().map(str::to_owned),
                status: o
                    .status_report()
                    .and_then(|r| r.status())
                    .unwrap_or("")
                    .to_owned(),
                checked_at: o
                    .status_report()
                    .and_then(|r| r.checked_time())
                    .and_then(to_chrono),
            })
            .collect())
    }
}

/// CloudWatch alarms in us-east-1.
#[derive(Debug, Clone)]
pub struct HealthAlarmReader {
    client: aws_sdk_cloudwatch::Client,
}

impl HealthAlarmReader {
    pub fn new(sdk: &SdkConfig, calls: &ApiCallCounter) -> Self {
        let conf = aws_sdk_cloudwatch::config::Builder::from(sdk)
            // Route 53 publishes health check metrics in us-east-1 only.
            .region(aws_config::Region::from_static("us-east-1"))
            .interceptor(calls.clone())
            .build();
        Self {
            client: aws_sdk_cloudwatch::Client::from_conf(conf),
        }
    }
}

/// The health check a metric of an alarm watches, if it is one.
fn watched(metric: Option<&aws_sdk_cloudwatch::types::Metric>) -> Option<String> {
    let m = metric?;
    if m.namespace() != Some("AWS/Route53") || m.metric_name() != Some("HealthCheckStatus") {
        return None;
    }
    m.dimensions()
        .iter()
        .find(|d| d.name() == Some("HealthCheckId"))
        .and_then(|d| d.value())
        .map(str::to_owned)
}

impl HealthAlarmSource for HealthAlarmReader {
    async fn health_check_alarms(&self) -> Result<HealthAlarms, PortError> {
        let mut alarms = HealthAlarms::default();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .describe_alarms()
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| classify("cloudwatch", "DescribeAlarms", e))?;
            for a in page.metric_alarms() {
                let name = a.alarm_name().unwrap_or_default().to_owned();
                let direct = (a.namespace() == Some("AWS/Route53")
                    && a.metric_name() == Some("HealthCheckStatus"))
                .then(|| {
                    a.dimensions()
                        .iter()
                        .find(|d| d.name() == Some("HealthCheckId"))
                        .and_then(|d| d.value())
                        .map(str::to_owned)
                })
                .flatten();
                // Metric-math alarms name their metrics in `Metrics`.
                let in_math = a
                    .metrics()
                    .iter()
                    .filter_map(|q| watched(q.metric_stat().and_then(|s| s.metric())));
                for id in direct.into_iter().chain(in_math) {
                    alarms
                        .by_health_check
                        .entry(id)
                        .or_default()
                        .push(name.clone());
                }
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => break,
            }
        }
        Ok(alarms)
    }
}

/// Partition of the status history in the findings table.
pub const HISTORY_PK: &str = "HEALTH";
/// History items of deleted health checks expire after a week unseen.
const HISTORY_TTL_DAYS: i64 = 7;

/// Our history of health check status, one item per check.
#[derive(Debug, Clone)]
pub struct DynamoHealthHistory {
    client: aws_sdk_dynamodb::Client,
    table: String,
    partition: crate::table::Partition,
}

impl DynamoHealthHistory {
    pub fn with_client(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        Self {
            client,
            table,
            partition: crate::table::Partition::single(),
        }
    }

    pub fn in_partition(mut self, partition: crate::table::Partition) -> Self {
        self.partition = partition;
        self
    }
}

fn invalid(table: &str, message: String) -> PortError {
    PortError::new(
        "dynamodb",
        "Query",
        ErrorKind::InvalidResponse,
        format!("table {table}: {message}"),
    )
}

pub fn history_item(h: &StatusHistory) -> Item {
    let mut item = Item::new();
    item.insert("pk".into(), AttributeValue::S(HISTORY_PK.into()));
    item.insert("sk".into(), AttributeValue::S(h.health_check_id.clone()));
    if let Some(healthy) = h.healthy {
        item.insert("healthy".into(), AttributeValue::Bool(healthy));
    }
    item.insert(
        "transitions".into(),
        AttributeValue::L(
            h.transitions
                .iter()
                .map(|t| AttributeValue::S(t.to_rfc3339()))
                .collect(),
        ),
    );
    if let Some(at) = h.updated_at {
        item.insert("updated_at".into(), AttributeValue::S(at.to_rfc3339()));
        let ttl = at + chrono::Duration::days(HISTORY_TTL_DAYS);
        item.insert(
            "expires_at".into(),
            AttributeValue::N(ttl.timestamp().to_string()),
        );
    }
    item
}

pub fn parse_history(item: &Item) -> Result<StatusHistory, String> {
    let id = match item.get("sk") {
        Some(AttributeValue::S(s)) => s.clone(),
        _ => return Err("a HEALTH item has no sk".into()),
    };
    let time = |s: &str| {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| format!("HEALTH/{id}: `{s}` is not a time: {e}"))
    };
    let healthy = match item.get("healthy") {
        None => None,
        Some(AttributeValue::Bool(b)) => Some(*b),
        Some(_) => return Err(format!("HEALTH/{id}: `healthy` is not a boolean")),
    };
    let transitions = match item.get("transitions") {
        None => Vec::new(),
        Some(AttributeValue::L(l)) => l
            .iter()
            .map(|v| match v {
                AttributeValue::S(s) => time(s),
                _ => Err(format!("HEALTH/{id}: a transition is not a string")),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(format!("HEALTH/{id}: `transitions` is not a list")),
    };
    let updated_at = match item.get("updated_at") {
        Some(AttributeValue::S(s)) => Some(time(s)?),
        _ => None,
    };
    Ok(StatusHistory {
        health_check_id: id,
        healthy,
        transitions,
        updated_at,
    })
}

impl HealthHistoryStore for DynamoHealthHistory {
    async fn load_history(&self) -> Result<BTreeMap<String, StatusHistory>, PortError> {
        let items =
            query_partition(&self.client, &self.table, &self.partition.pk(HISTORY_PK)).await?;
        let mut out = BTreeMap::new();
        for item in &items {
            // One damaged item loses that check's history, not everyone's.
            match parse_history(item) {
                Ok(h) => {
                    out.insert(h.health_check_id.clone(), h);
                }
                Err(e) => {
                    tracing::warn!(table = %self.table, error = %invalid(&self.table, e), "unreadable health history item, starting it afresh")
                }
            }
        }
        Ok(out)
    }

    async fn save_history(&self, entries: &[StatusHistory]) -> Result<(), PortError> {
        let requests: Vec<WriteRequest> = entries
            .iter()
            .map(|h| {
                PutRequest::builder()
                    .set_item(Some({
                        let mut item = history_item(h);
                        self.partition.stamp(&mut item);
                        item
                    }))
                    .build()
                    .map(|p| WriteRequest::builder().put_request(p).build())
                    .map_err(|e| {
                        PortError::new(
                            "dynamodb",
                            "BatchWriteItem",
                            ErrorKind::Other,
                            format!("cannot build a health history item: {e}"),
                        )
                    })
            })
            .collect::<Result<_, _>>()?;
        batch_write(&self.client, &self.table, requests).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn history_items_round_trip_and_damage_is_named() {
        let at = Utc
            .with_ymd_and_hms(2026, 12, 1, 12, 0, 0)
            .single()
            .expect("time");
        let h = StatusHistory {
            health_check_id: "abc".into(),
            healthy: Some(false),
            transitions: vec![at - chrono::Duration::minutes(5), at],
            updated_at: Some(at),
        };
        let item = history_item(&h);
        assert_eq!(parse_history(&item), Ok(h));
        assert!(matches!(item.get("expires_at"), Some(AttributeValue::N(_))));
        let mut bad = item.clone();
        bad.insert(
            "transitions".into(),
            AttributeValue::L(vec![AttributeValue::S("yesterday".into())]),
        );
        let e = parse_history(&bad).expect_err("bad time");
        assert!(e.contains("HEALTH/abc") && e.contains("yesterday"), "{e}");
    }
}
