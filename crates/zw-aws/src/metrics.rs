//! Metric sinks. In Lambda: CloudWatch Embedded Metric Format, JSON lines on
//! stdout that CloudWatch Logs turns into metrics (no API call, no IAM
//! permission). From the CLI: batched `PutMetricData`.

use crate::error::classify;
use crate::usage::ApiCallCounter;
use aws_config::SdkConfig;
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum as CwDatum, StandardUnit};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use zw_core::metrics::{MetricBatch, Unit};
use zw_core::ports::{ErrorKind, MetricSink, PortError};

/// EMF allows at most 100 metrics per document.
const EMF_MAX_METRICS: usize = 100;
/// PutMetricData accepts up to 1000 data points per request.
const PUT_MAX_DATA: usize = 1000;
/// The dimension that keeps each stack's (and the CLI's) series apart.
pub const STACK: &str = "Stack";

/// Renders a batch as EMF documents: one per dimension value (EMF carries a
/// dimension's value as a top-level key, so `Severity=critical` and
/// `Severity=high` cannot share a document), at most 100 metrics each.
/// Every document carries the batch's `Stack` dimension first.
pub fn emf_documents(batch: &MetricBatch) -> Vec<Value> {
    let mut groups: BTreeMap<Option<(&str, &str)>, Vec<&zw_core::metrics::MetricDatum>> =
        BTreeMap::new();
    for d in &batch.data {
        groups
            .entry(d.dimension.as_ref().map(|(k, v)| (*k, v.as_str())))
            .or_default()
            .push(d);
    }
    let mut docs = Vec::new();
    for (dim, data) in groups {
        for chunk in data.chunks(EMF_MAX_METRICS) {
            let mut doc = Map::new();
            let metrics: Vec<Value> = chunk
                .iter()
                .map(|d| json!({"Name": d.name, "Unit": d.unit.as_str()}))
                .collect();
            let dimensions: Vec<Vec<&str>> = match dim {
                Some((k, _)) => vec![vec![STACK, k]],
                None => vec![vec![STACK]],
            };
            doc.insert(
                "_aws".into(),
                json!({
                    "Timestamp": batch.timestamp.timestamp_millis(),
                    "CloudWatchMetrics": [{
                        "Namespace": batch.namespace,
                        "Dimensions": dimensions,
                        "Metrics": metrics,
                    }],
                }),
            );
            doc.insert(STACK.into(), Value::String(batch.stack.clone()));
            if let Some((k, v)) = dim {
                doc.insert(k.into(), Value::String(v.to_owned()));
            }
            for d in chunk {
                doc.insert(d.name.into(), json!(d.value));
            }
            docs.push(Value::Object(doc));
        }
    }
    docs
}

/// Writes EMF lines to a writer (stdout in Lambda; a buffer in tests).
#[derive(Clone)]
pub struct EmfSink {
    out: Arc<Mutex<Box<dyn Write + Send>>>,
}

impl std::fmt::Debug for EmfSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EmfSink")
    }
}

impl EmfSink {
    pub fn stdout() -> Self {
        Self::to_writer(Box::new(std::io::stdout()))
    }

    pub fn to_writer(out: Box<dyn Write + Send>) -> Self {
        Self {
            out: Arc::new(Mutex::new(out)),
        }
    }
}

impl MetricSink for EmfSink {
    async fn publish(&self, batch: &MetricBatch) -> Result<(), PortError> {
        // A few short lines: written in one go under the lock so that log lines
        // from other tasks never interleave inside a document.
        let mut text = String::new();
        for doc in emf_documents(batch) {
            text.push_str(&doc.to_string());
            text.push('\n');
        }
        let io = |e: std::io::Error| PortError::new("logs", "EMF", ErrorKind::Other, e.to_string());
        let mut out = self.out.lock().map_err(|_| {
            PortError::new("logs", "EMF", ErrorKind::Other, "metrics writer poisoned")
        })?;
        out.write_all(text.as_bytes()).map_err(io)?;
        out.flush().map_err(io)
    }
}

#[derive(Debug, Clone)]
pub struct CloudWatchSink {
    client: Client,
}

impl CloudWatchSink {
    pub fn new(sdk: &SdkConfig, calls: &ApiCallCounter) -> Self {
        let conf = aws_sdk_cloudwatch::config::Builder::from(sdk)
            .interceptor(calls.clone())
            .build();
        Self {
            client: Client::from_conf(conf),
        }
    }
}

fn unit(u: Unit) -> StandardUnit {
    match u {
        Unit::Count => StandardUnit::Count,
        Unit::Milliseconds => StandardUnit::Milliseconds,
        Unit::None => StandardUnit::None,
    }
}

impl MetricSink for CloudWatchSink {
    async fn publish(&self, batch: &MetricBatch) -> Result<(), PortError> {
        let ts = aws_smithy_types::DateTime::from_millis(batch.timestamp.timestamp_millis());
        let data: Vec<CwDatum> =
            batch
                .data
                .iter()
                .map(|d| {
                    CwDatum::builder()
                        .metric_name(d.name)
                        .unit(unit(d.unit))
                        .value(d.value)
                        .timestamp(ts)
                        .set_dimensions(Some(
                            std::iter::once(
                                Dimension::builder()
                                    .name(STACK)
                                    .value(batch.stack.clone())
                                    .build(),
                            )
                            .chain(d.dimension.as_ref().map(|(k, v)| {
                                Dimension::builder().name(*k).value(v.clone()).build()
                            }))
                            .collect(),
                        ))
                        .build()
                })
                .collect();
        for chunk in data.chunks(PUT_MAX_DATA) {
            self.client
                .put_metric_data()
                .namespace(&batch.namespace)
                .set_metric_data(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| classify("cloudwatch", "PutMetricData", e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zw_core::metrics::Metric;

    fn batch() -> MetricBatch {
        MetricBatch {
            namespace: "Zonewarden".into(),
            stack: "prod-zw".into(),
            timestamp: chrono::DateTime::from_timestamp(1_790_000_000, 0).expect("ts"),
            data: vec![
                Metric::OpenFindings.datum_by("critical", 2.0),
                Metric::OpenFindings.datum_by("high", 0.0),
                Metric::CertificatesMonitored.datum(7.0),
                Metric::ScanErrors.datum(1.0),
            ],
        }
    }

    #[test]
    fn one_document_per_dimension_value_with_values_at_top_level() {
        let docs = emf_documents(&batch());
        assert_eq!(docs.len(), 3);
        let scalar = docs
            .iter()
            .find(|d| d.get("Severity").is_none())
            .expect("scalar doc");
        assert_eq!(scalar["CertificatesMonitored"], 7.0);
        assert_eq!(
            scalar["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "Zonewarden"
        );
        assert_eq!(
            scalar["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Stack"]])
        );
        // Every document names its stack: another stack's alarms never read it.
        assert!(docs.iter().all(|d| d["Stack"] == "prod-zw"), "{docs:?}");
        assert_eq!(scalar["_aws"]["Timestamp"], 1_790_000_000_000i64);
        let crit = docs
            .iter()
            .find(|d| d["Severity"] == "critical")
            .expect("critical doc");
        assert_eq!(crit["OpenFindings"], 2.0);
        assert_eq!(
            crit["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Stack", "Severity"]])
        );
        assert_eq!(
            crit["_aws"]["CloudWatchMetrics"][0]["Metrics"][0],
            json!({"Name": "OpenFindings", "Unit": "Count"})
        );
    }

    #[test]
    fn large_batches_split_at_one_hundred_metrics() {
        let mut b = batch();
        b.data = (0..250)
            .map(|i| {
                let m = if i % 2 == 0 {
                    Metric::CertificatesMonitored
                } else {
                    Metric::ScanErrors
                };
                m.datum(i as f64)
            })
            .collect();
        let docs = emf_documents(&b);
        assert_eq!(docs.len(), 3);
        for d in &docs {
            assert!(
                d["_aws"]["CloudWatchMetrics"][0]["Metrics"]
                    .as_array()
                    .map_or(0, Vec::len)
                    <= 100
            );
        }
    }

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?
                .extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn the_sink_writes_one_json_line_per_document() {
        let buf = Buf::default();
        let sink = EmfSink::to_writer(Box::new(buf.clone()));
        sink.publish(&batch()).await.expect("publish");
        let text = String::from_utf8(buf.0.lock().expect("lock").clone()).expect("utf8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        for l in lines {
            let v: Value = serde_json::from_str(l).expect("each line is JSON");
            assert!(v.get("_aws").is_some());
        }
    }
}
