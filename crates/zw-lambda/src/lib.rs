//! What every zonewarden function shares: `Deps` (configuration and adapters
//! built once at init, only for the function's families), the scan of one
//! invocation with its one structured log line, the summary it returns and
//! the errors it reports to Lambda. A function adds only its own event
//! parsing (which events it accepts, and what they say changed).

pub mod event;
pub mod org;

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use zw_app::{App, FamilyKind, ScanOptions};
use zw_aws::events::EventBridgeSink;
use zw_aws::metrics::EmfSink;
use zw_aws::{AwsOptions, SdkConfig, load_sdk_config, with_timeouts};
use zw_core::config::ConfigErrors;
use zw_core::ports::EventSink;
use zw_core::{Config, ScanLabel, Severity, Sinks};

/// Everything the handler needs, built once at init and cloned per invocation.
#[derive(Debug, Clone)]
pub struct Deps {
    pub app: App,
    pub metrics: EmfSink,
    /// Finding events, unless `ZW_NOTIFY=off`.
    pub events: Option<EventBridgeSink>,
}

impl Deps {
    /// Reads `ZW_*` once. In Lambda the table is required: a function that
    /// cannot remember findings would alert on every run.
    pub async fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
        kinds: &[FamilyKind],
    ) -> Result<Self, ConfigErrors> {
        let config = Config::from_vars(vars)?;
        if config.common.table_name.is_none() {
            return Err(ConfigErrors(vec![
                "ZW_TABLE_NAME: required in Lambda (the SAM template sets it to the findings table)".into(),
            ]));
        }
        let sdk = with_timeouts(
            &load_sdk_config(&AwsOptions::default()).await,
            &config.common.aws_timeouts,
        );
        Self::with_sdk(config, &sdk, kinds, EmfSink::stdout())
            .map_err(|e| ConfigErrors(vec![e.to_string()]))
    }

    pub fn with_sdk(
        config: Config,
        sdk: &SdkConfig,
        kinds: &[FamilyKind],
        metrics: EmfSink,
    ) -> Result<Self, zw_app::AppError> {
        let app = App::new(config, sdk, kinds)?;
        let events = app
            .config
            .common
            .notify
            .then(|| app.services.events(sdk, &app.config.common));
        Ok(Self {
            app,
            metrics,
            events,
        })
    }
}

/// What the invocation returns (visible in the console and to `cargo lambda invoke`).
#[derive(Debug, Serialize, PartialEq)]
pub struct Summary {
    pub scan_id: String,
    pub trigger: String,
    pub families: Vec<String>,
    pub counts: BTreeMap<String, u64>,
    pub open_findings: BTreeMap<Severity, usize>,
    pub opened: usize,
    pub resolved: usize,
    pub errors: Vec<String>,
    /// SQS messages of the batch this function refused (Lambda's partial
    /// batch response): they stay queued, then go to the dead-letter queue.
    #[serde(rename = "batchItemFailures", skip_serializing_if = "Vec::is_empty")]
    pub batch_item_failures: Vec<event::ItemFailure>,
}

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The event is not one this function accepts; `error_type` says which way.
    #[error("{message}")]
    Event {
        error_type: &'static str,
        message: String,
    },
    /// Nothing could be collected or the store could not be written. Failing
    /// the invocation lets Lambda retry and the Errors alarm fire.
    #[error("scan {scan_id} failed: {errors}")]
    ScanFailed { scan_id: String, errors: String },
    /// The digest could not be read from the store or sent.
    #[error("digest failed: {0}")]
    DigestFailed(String),
}

impl From<HandlerError> for Diagnostic {
    fn from(e: HandlerError) -> Self {
        let error_type = match &e {
            HandlerError::Event { error_type, .. } => error_type,
            HandlerError::ScanFailed { .. } => "ScanFailed",
            HandlerError::DigestFailed(_) => "DigestFailed",
        };
        Diagnostic {
            error_type: (*error_type).into(),
            error_message: e.to_string(),
        }
    }
}

/// Logging for the functions: one line per event without ANSI colour codes
/// (CloudWatch stores them verbatim, and the dashboard's Logs Insights
/// queries parse `zonewarden_scan=` out of the text), or JSON lines when the
/// function's `LoggingConfig.LogFormat` is JSON. Level from
/// `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`, default info.
pub fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let fmt = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .without_time()
        .with_target(false);
    if json {
        fmt.json().init();
    } else {
        fmt.init();
    }
}

/// Time kept back from the invocation's end to store, record and report what
/// was collected.
pub const TAIL_RESERVE: std::time::Duration = std::time::Duration::from_secs(30);

/// When collection must stop for this invocation: its deadline less
/// `TAIL_RESERVE` (but never in the past). None without a deadline.
pub fn collection_deadline<T>(event: &LambdaEvent<T>) -> Option<std::time::Instant> {
    let end = std::time::UNIX_EPOCH + std::time::Duration::from_millis(event.context.deadline);
    let left = end.duration_since(std::time::SystemTime::now()).ok()?;
    Some(std::time::Instant::now() + left.saturating_sub(TAIL_RESERVE).max(left / 2))
}

/// When the invocation ends, less a second for the runtime to hand back the
/// answer: the scan's tail (commit, record, metrics, events) bounds each of
/// its steps by it. None without a deadline (or one already past).
pub fn invocation_end<T>(event: &LambdaEvent<T>) -> Option<std::time::SystemTime> {
    let end = std::time::UNIX_EPOCH + std::time::Duration::from_millis(event.context.deadline);
    end.duration_since(std::time::SystemTime::now()).ok()?;
    end.checked_sub(std::time::Duration::from_secs(1))
}

/// The scan id of an invocation: the request id is unique per invocation and
/// repeats on Lambda's own retries, which is what a scan id should do.
pub fn scan_id<T>(event: &LambdaEvent<T>) -> String {
    format!("lambda-{}", event.context.request_id)
}

/// What a digest invocation returns.
#[derive(Debug, Serialize, PartialEq)]
pub struct DigestSummary {
    pub event_key: String,
    /// Open findings at `min_severity` or above.
    pub total: u64,
    pub min_severity: Severity,
    /// False when `ZW_NOTIFY=off` (the maintenance switch): nothing sent.
    pub sent: bool,
}

/// The daily digest: every open finding at `ZW_NOTIFY_MIN_SEVERITY` or
/// above, as one event on the bus (the template routes it to e-mail).
pub async fn digest(deps: &Deps) -> Result<DigestSummary, HandlerError> {
    use zw_core::ports::{Clock, FindingStore};
    let cfg = &deps.app.config.common;
    let store =
        deps.app.services.store.as_ref().ok_or_else(|| {
            HandlerError::DigestFailed("no findings table (ZW_TABLE_NAME)".into())
        })?;
    let current = store
        .load_current()
        .await
        .map_err(|e| HandlerError::DigestFailed(e.to_string()))?;
    let open: Vec<zw_core::Finding> = current
        .findings
        .into_iter()
        .map(|s| s.finding)
        .filter(|f| f.state == zw_core::FindingState::Open)
        .collect();
    let day = deps.app.clock.now().format("%Y-%m-%d").to_string();
    let total = open
        .iter()
        .filter(|f| f.severity >= cfg.notify_min_severity && f.acknowledged.is_none())
        .count() as u64;
    let event = zw_core::notify::digest(&open, cfg.notify_min_severity, &cfg.stack_name, &day);
    let sent = match &deps.events {
        Some(sink) => {
            let results = sink.send(std::slice::from_ref(&event)).await;
            if let Some(Err(e)) = results.into_iter().next() {
                return Err(HandlerError::DigestFailed(e.to_string()));
            }
            true
        }
        None => false,
    };
    tracing::info!(event_key = %event.event_key, total, sent, "digest");
    Ok(DigestSummary {
        event_key: event.event_key,
        total,
        min_severity: cfg.notify_min_severity,
        sent,
    })
}

/// Runs the function's families (`only` some of them, when given) once and
/// logs the scan as one JSON line (`zonewarden_scan`), which the
/// dashboard's Logs Insights widgets read.
pub async fn scan(
    deps: &Deps,
    scan_id: String,
    trigger: String,
    changed_zones: BTreeSet<String>,
    deadline: Option<std::time::Instant>,
    end: Option<std::time::SystemTime>,
    only: Option<Vec<FamilyKind>>,
) -> Result<Summary, HandlerError> {
    let report = deps
        .app
        .scan(
            Sinks {
                store: deps.app.services.store.as_ref(),
                metrics: Some(&deps.metrics),
                events: deps.events.as_ref().map(|e| e as &dyn EventSink),
            },
            ScanLabel { scan_id, trigger },
            &ScanOptions {
                changed_zones,
                retire_unmonitored: true,
                deadline,
                end,
                only,
                query_log_since: None,
            },
        )
        .await;
    let errors: Vec<String> = report.scan.errors.iter().map(|e| e.to_string()).collect();
    for e in &errors {
        tracing::error!(error = %e, "scan error");
    }
    match serde_json::to_string(&report.scan) {
        Ok(line) => tracing::info!(zonewarden_scan = %line, "scan finished"),
        Err(e) => tracing::error!(error = %e, "cannot encode the scan record"),
    }
    if report.failed() {
        return Err(HandlerError::ScanFailed {
            scan_id: report.scan.scan_id,
            errors: errors.join("; "),
        });
    }
    Ok(Summary {
        scan_id: report.scan.scan_id,
        trigger: report.scan.trigger,
        families: report.scan.families,
        counts: report.scan.counts,
        open_findings: report.scan.open_findings,
        opened: report.scan.opened,
        resolved: report.scan.resolved,
        errors,
        batch_item_failures: Vec::new(),
    })
}

/// One scan of the families an invocation's triggers select (a function
/// that runs several families on different schedules): each event parsed by
/// `parse`, its families from `families`, the batch's label from `label`.
pub async fn selected_scan<T>(
    deps: &Deps,
    event: LambdaEvent<serde_json::Value>,
    parse: impl Fn(&serde_json::Value) -> Result<T, event::EventError>,
    families: impl Fn(&T) -> &'static [FamilyKind],
    label: impl Fn(&T) -> String,
) -> Result<Summary, HandlerError> {
    let batch = event::Batch::parse(&event.payload, parse)?;
    let mut only: Vec<FamilyKind> = batch.triggers.iter().flat_map(&families).copied().collect();
    only.sort();
    only.dedup();
    let mut summary = scan(
        deps,
        scan_id(&event),
        batch.label(label),
        BTreeSet::new(),
        collection_deadline(&event),
        invocation_end(&event),
        Some(only),
    )
    .await?;
    summary.batch_item_failures = batch.refused;
    Ok(summary)
}

/// The whole handler of the functions that only run periodically (health
/// checks, endpoints): a schedule or a manual run (one, or an SQS batch of
/// them) -> one scan of the function's families -> summary.
pub async fn periodic_scan(
    deps: &Deps,
    event: LambdaEvent<serde_json::Value>,
) -> Result<Summary, HandlerError> {
    let batch = event::Batch::parse(&event.payload, event::periodic)?;
    let mut summary = scan(
        deps,
        scan_id(&event),
        batch.label(Clone::clone),
        BTreeSet::new(),
        collection_deadline(&event),
        invocation_end(&event),
        None,
    )
    .await?;
    summary.batch_item_failures = batch.refused;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

    fn event_ending_in(left: Duration) -> LambdaEvent<()> {
        let mut context = lambda_runtime::Context::default();
        let end = SystemTime::now() + left;
        context.deadline = u64::try_from(
            end.duration_since(UNIX_EPOCH)
                .expect("after 1970")
                .as_millis(),
        )
        .expect("fits");
        LambdaEvent::new((), context)
    }

    /// The tail is bounded by the invocation's own end (a second before
    /// it), not by the collection deadline; no deadline means no bound.
    #[test]
    fn the_tail_ends_a_second_before_the_invocation() {
        let end = invocation_end(&event_ending_in(Duration::from_secs(300))).expect("some");
        let left = end.duration_since(SystemTime::now()).expect("ahead");
        assert!(
            left > Duration::from_secs(297) && left <= Duration::from_secs(299),
            "{left:?}"
        );
        let mut none = event_ending_in(Duration::ZERO);
        none.context.deadline = 0;
        assert_eq!(invocation_end(&none), None);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Whatever arrives, the envelope parses or is refused briefly.
        #[test]
        fn any_event_parses_or_is_refused_briefly(
            source in proptest::option::of(".{0,300}"),
            detail_type in proptest::option::of(".{0,300}"),
            detail in ".{0,300}",
            junk in ".{0,300}",
        ) {
            let mut event = serde_json::Map::new();
            if let Some(s) = source {
                event.insert("source".into(), s.into());
            }
            if let Some(d) = detail_type {
                event.insert("detail-type".into(), d.into());
            }
            event.insert("detail".into(), serde_json::Value::String(detail));
            event.insert(junk.clone(), serde_json::Value::String(junk));
            if let Err(e) = event::Envelope::parse(&serde_json::Value::Object(event)) {
                proptest::prop_assert!(e.to_string().chars().count() < 600, "{e}");
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// An SQS batch of anything: every record is a trigger or refused by
        /// its message id, and a batch with nothing acceptable is an error.
        #[test]
        fn any_sqs_batch_is_split_into_triggers_and_refused_messages(
            bodies in proptest::collection::vec(
                proptest::prop_oneof![
                    ".{0,80}",
                    proptest::sample::select(vec![
                        r#"{"source": "aws.acm", "detail-type": "ACM Certificate Expired"}"#.to_owned(),
                        r#"{"source": "aws.events", "detail-type": "Scheduled Event"}"#.to_owned(),
                        r#"{"source": 1}"#.to_owned(),
                    ]),
                ],
                0..12,
            ),
        ) {
            let records: Vec<serde_json::Value> = bodies
                .iter()
                .enumerate()
                .map(|(i, b)| serde_json::json!({"messageId": format!("m{i}"), "eventSource": "aws:sqs", "body": b}))
                .collect();
            let n = records.len();
            match event::Batch::parse(&serde_json::json!({"Records": records}), |e| {
                event::Envelope::parse(e).map(|env| env.source)
            }) {
                Ok(batch) => proptest::prop_assert_eq!(batch.triggers.len() + batch.refused.len(), n),
                Err(e) => proptest::prop_assert!(e.to_string().chars().count() < 600, "{e}"),
            }
        }
    }

    #[test]
    fn collection_stops_in_time_to_store_and_report() {
        let now = Instant::now();
        let d = collection_deadline(&event_ending_in(Duration::from_secs(300))).expect("some");
        let left = d - now;
        // 300 s less the 30 s reserve (a second of slack for the clock).
        assert!(left <= Duration::from_secs(270), "{left:?}");
        assert!(left >= Duration::from_secs(268), "{left:?}");
        // A short invocation keeps at least half of its time for collection.
        let d = collection_deadline(&event_ending_in(Duration::from_secs(40))).expect("some");
        assert!(d - now >= Duration::from_secs(19), "{:?}", d - now);
        // An invocation already past its end collects nothing more.
        let past = collection_deadline(&event_ending_in(Duration::ZERO));
        assert!(past.is_none_or(|d| d <= Instant::now()), "{past:?}");
    }
}
