//! Finding events against moto: `PutEvents` on the default bus, a rule that
//! sends `source: zonewarden` to an SQS queue, the events read back from it.

use crate::support::{Env, items};
use std::collections::BTreeSet;
use zw_app::{App, FamilyKind, ScanOptions};
use zw_aws::events::EventBridgeSink;
use zw_core::ScanLabel;
use zw_core::notify;
use zw_core::ports::EventSink;
use zw_core::scan::{ScanReport, Sinks};
use zw_testkit::seed::{self, labels};

async fn scan(app: &App, events: &dyn EventSink, id: &str) -> ScanReport {
    app.scan(
        Sinks {
            store: app.services.store.as_ref(),
            metrics: None::<&zw_aws::metrics::CloudWatchSink>,
            events: Some(events),
        },
        ScanLabel {
            scan_id: id.into(),
            trigger: "test".into(),
        },
        &ScanOptions::default(),
    )
    .await
}

/// A queue that receives every zonewarden event of the default bus.
async fn subscribe(env: &Env) -> (aws_sdk_sqs::Client, String) {
    let sqs = aws_sdk_sqs::Client::new(&env.sdk);
    let url = sqs
        .create_queue()
        .queue_name("zonewarden-findings")
        .send()
        .await
        .expect("create_queue")
        .queue_url()
        .expect("url")
        .to_owned();
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("attributes")
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
        .expect("arn")
        .clone();
    let eb = aws_sdk_eventbridge::Client::new(&env.sdk);
    eb.put_rule()
        .name("zonewarden-findings")
        .event_pattern(r#"{"source": ["zonewarden"]}"#)
        .send()
        .await
        .expect("put_rule");
    eb.put_targets()
        .rule("zonewarden-findings")
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("queue")
                .arn(arn)
                .build()
                .expect("target"),
        )
        .send()
        .await
        .expect("put_targets");
    (sqs, url)
}

/// Every event waiting in the queue (bodies parsed), deleting as it reads.
async fn drain(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    loop {
        let got = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("receive");
        if got.messages().is_empty() {
            return out;
        }
        for m in got.messages() {
            out.push(serde_json::from_str(m.body().unwrap_or_default()).expect("JSON event"));
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .send()
                .await
                .expect("delete");
        }
    }
}

fn event_keys(events: &[serde_json::Value]) -> BTreeSet<String> {
    events
        .iter()
        .filter_map(|e| e["detail"]["event_key"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_transition_is_one_event_on_the_bus_and_a_fix_is_a_resolve() {
    let (env, estate) = Env::with_demo_estate().await;
    let (sqs, url) = subscribe(&env).await;
    let app = App::new(env.config.clone(), &env.sdk, &[FamilyKind::CERTIFICATES]).expect("app");
    let sink = app.services.events(&env.sdk, &app.config.common);

    let first = scan(&app, &sink, "ev-1").await;
    assert!(first.scan.errors.is_empty(), "{:?}", first.scan.errors);
    let opened = drain(&sqs, &url).await;
    assert_eq!(
        opened.len(),
        first.scan.opened,
        "one event per finding opened"
    );
    assert!(
        opened.len() >= 5,
        "the demo estate has problems: {}",
        opened.len()
    );
    assert_eq!(
        event_keys(&opened).len(),
        opened.len(),
        "event keys are unique"
    );
    for e in &opened {
        assert_eq!(e["source"], "zonewarden");
        assert_eq!(e["detail-type"], notify::OPENED);
        assert_eq!(e["detail"]["transition"], "opened");
        assert_eq!(e["detail"]["scan_id"], "ev-1");
        assert!(
            e["detail"]["code"]
                .as_str()
                .is_some_and(|c| c.contains('.')),
            "{e}"
        );
        assert!(e["detail"]["resource"]["id"].is_string(), "{e}");
    }
    assert!(
        items(&env.ddb(), "OUTBOX").await.is_empty(),
        "sent events leave the outbox"
    );

    // Nothing changed: nothing is said.
    let second = scan(&app, &sink, "ev-2").await;
    assert_eq!(second.scan.counts.get("events_sent"), Some(&0));
    assert!(drain(&sqs, &url).await.is_empty());

    // The deleted validation CNAME is restored: one resolve event.
    let r53 = aws_sdk_route53::Client::new(&env.sdk);
    let acm = aws_sdk_acm::Client::from_conf(
        aws_sdk_acm::config::Builder::from(&env.sdk)
            .region(aws_sdk_acm::config::Region::new("eu-west-1"))
            .build(),
    );
    let arn = estate
        .arn(labels::VALIDATION_RECORD_DELETED)
        .expect("arn")
        .to_owned();
    seed::upsert_validation_records(&r53, &estate.zone_id, &acm, &arn)
        .await
        .expect("restore");
    let third = scan(&app, &sink, "ev-3").await;
    assert_eq!(third.scan.resolved, 1);
    let resolved = drain(&sqs, &url).await;
    assert_eq!(resolved.len(), 1, "{resolved:?}");
    assert_eq!(resolved[0]["detail-type"], notify::RESOLVED);
    assert_eq!(
        resolved[0]["detail"]["code"],
        "cert.validation-record-missing"
    );
    assert_eq!(resolved[0]["detail"]["resource"]["id"], arn.as_str());
    assert_eq!(resolved[0]["detail"]["state"], "resolved");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_eventbridge_did_not_take_are_sent_by_the_next_scan_once() {
    let (env, _estate) = Env::with_demo_estate().await;
    let (sqs, url) = subscribe(&env).await;
    let app = App::new(env.config.clone(), &env.sdk, &[FamilyKind::CERTIFICATES]).expect("app");
    // EventBridge unreachable (nothing listens on port 9): every send fails.
    let down_sdk = env
        .sdk
        .to_builder()
        .endpoint_url("http://127.0.0.1:9")
        .build();
    let down = EventBridgeSink::new(&down_sdk, "default".into(), &app.services.calls);
    let first = scan(&app, &down, "down-1").await;
    assert!(first.scan.opened >= 5, "{:?}", first.scan);
    assert_eq!(
        first.scan.counts.get("events_pending"),
        Some(&(first.scan.opened as u64))
    );
    assert!(
        first
            .scan
            .errors
            .iter()
            .any(|e| e.operation == "PutEvents" && e.message.contains("next scan sends them")),
        "{:?}",
        first.scan.errors
    );
    assert_eq!(
        items(&env.ddb(), "OUTBOX").await.len(),
        first.scan.opened,
        "kept in the outbox"
    );
    assert!(drain(&sqs, &url).await.is_empty());

    // EventBridge is back: the next scan (no new transition) sends them all.
    let up = app.services.events(&env.sdk, &app.config.common);
    let second = scan(&app, &up, "up-2").await;
    assert_eq!(second.scan.opened, 0);
    assert!(second.scan.errors.is_empty(), "{:?}", second.scan.errors);
    let late = drain(&sqs, &url).await;
    assert_eq!(late.len(), first.scan.opened);
    assert!(late.iter().all(|e| e["detail"]["scan_id"] == "down-1"));
    let third = scan(&app, &up, "up-3").await;
    assert_eq!(third.scan.counts.get("events_sent"), Some(&0));
    assert!(drain(&sqs, &url).await.is_empty(), "none sent twice");
    assert!(items(&env.ddb(), "OUTBOX").await.is_empty());
}

fn sample(name: &str) -> serde_json::Value {
    let path = format!(
        "{}/../events/zonewarden-finding-{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).expect("sample")).expect("JSON")
}

/// Puts the finding the sample events name into the table as a scan would
/// have left it.
async fn store_finding(env: &Env, state: &str, version: u64) {
    use aws_sdk_dynamodb::types::AttributeValue::{N, S};
    let opened = sample("opened");
    let d = &opened["detail"];
    env.ddb()
        .put_item()
        .table_name(crate::support::TABLE)
        .item("pk", S("FINDING".into()))
        .item(
            "sk",
            S(format!(
                "{}#{}",
                d["code"].as_str().expect("code"),
                d["resource"]["id"].as_str().expect("id")
            )),
        )
        .item("state", S(state.into()))
        .item(
            "severity",
            S(d["severity"].as_str().expect("severity").into()),
        )
        .item("version", N(version.to_string()))
        .send()
        .await
        .expect("put finding");
}

/// The Security Hub route: the function imports the sample events into
/// moto's Security Hub (BatchImportFindings), and GetFindings shows the one
/// finding opened, then archived and resolved. Events the table does not
/// back up (forged, or stale) change nothing there.
#[test]
fn finding_events_become_security_hub_findings_and_resolve_there() {
    // A thread of its own with an 8 MiB stack: the Security Hub SDK's
    // `Resource` deserializer alone takes most of a test thread's 2 MiB in a
    // debug build.
    std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_stack_size(8 << 20)
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(security_hub_route())
        })
        .expect("thread")
        .join()
        .expect("the Security Hub route test");
}

async fn security_hub_route() {
    use import_security_hub::handler::{Deps, FindingTable, Imported, handle};
    use lambda_runtime::{Context, LambdaEvent};
    let env = Env::new().await;
    let hub = aws_sdk_securityhub::Client::new(&env.sdk);
    hub.enable_security_hub().send().await.expect("enable");
    let deps = Deps {
        client: hub.clone(),
        partition: "aws".into(),
        docs_base_url: Some("https://docs.example.com/zonewarden".into()),
        table: FindingTable {
            client: env.ddb(),
            name: crate::support::TABLE.into(),
        },
    };
    let import = |event: serde_json::Value| {
        let deps = &deps;
        async move {
            handle(deps, LambdaEvent::new(event, Context::default()))
                .await
                .expect("handled")
        }
    };
    // Skipped, and why contains `says`.
    let skipped = |got: &Imported, says: &str| {
        assert!(
            got.skipped.as_deref().is_some_and(|w| w.contains(says)),
            "{got:?}"
        );
    };
    // Security Hub's findings, as (record state, workflow status).
    let in_hub = || async {
        let got = hub.get_findings().send().await.expect("get_findings");
        got.findings()
            .iter()
            .map(|f| {
                (
                    f.record_state().map(|s| s.as_str().to_owned()),
                    f.workflow()
                        .and_then(|w| w.status())
                        .map(|s| s.as_str().to_owned()),
                )
            })
            .collect::<Vec<_>>()
    };
    let state = |record: &str| (Some(record.to_owned()), Some("NEW".to_owned()));
    let version = |name: &str| sample(name)["detail"]["version"].as_u64().expect("version");

    // Not in our table at all: nothing imported.
    skipped(&import(sample("opened")).await, "no finding");
    assert!(in_hub().await.is_empty());

    store_finding(&env, "open", version("opened")).await;
    let opened = import(sample("opened")).await;
    assert_eq!(
        (opened.record_state.as_str(), opened.skipped.as_deref()),
        ("ACTIVE", None)
    );
    let got = hub.get_findings().send().await.expect("get_findings");
    assert_eq!(got.findings().len(), 1, "{:?}", got.findings());
    let f = &got.findings()[0];
    assert_eq!(f.id(), Some(opened.id.as_str()));
    assert_eq!(
        f.severity().and_then(|s| s.label()).map(|l| l.as_str()),
        Some("CRITICAL")
    );
    assert_eq!(
        f.resources().first().and_then(|r| r.r#type()),
        Some("AwsCertificateManagerCertificate")
    );

    // A forged "Resolved" while the table says open, at an older and at the
    // same version; a severity the table does not hold: Security Hub's
    // finding stays as it was.
    skipped(&import(sample("resolved")).await, "claims version");
    store_finding(&env, "open", version("resolved")).await;
    skipped(&import(sample("resolved")).await, "table says open");
    let mut downgraded = sample("opened");
    downgraded["detail"]["severity"] = "low".into();
    skipped(&import(downgraded).await, "severity");
    assert_eq!(in_hub().await, vec![state("ACTIVE")], "unchanged");

    // The real resolve: the table says resolved.
    store_finding(&env, "resolved", version("resolved")).await;
    let resolved = import(sample("resolved")).await;
    assert_eq!(resolved.skipped, None);
    assert_eq!(resolved.id, opened.id, "the same finding, updated");
    assert_eq!(
        in_hub().await,
        vec![(Some("ARCHIVED".to_owned()), Some("RESOLVED".to_owned()))],
        "updated, not duplicated"
    );
    // The old "Opened" replayed (or delivered late) does not reopen it.
    skipped(&import(sample("opened")).await, "table says resolved");
    assert_eq!(in_hub().await[0].0.as_deref(), Some("ARCHIVED"));

    // Anything but a zonewarden finding event is refused, and nothing imported.
    let mut foreign = sample("opened");
    foreign["source"] = "aws.acm".into();
    let e = handle(&deps, LambdaEvent::new(foreign, Context::default()))
        .await
        .expect_err("refused");
    assert!(e.to_string().contains("zonewarden finding events"), "{e}");
}

/// A value at a JSONPath of the simple form EventBridge input paths use
/// (`$.detail.resource.name`).
fn at_path<'a>(event: &'a serde_json::Value, path: &str) -> &'a serde_json::Value {
    path.trim_start_matches("$.")
        .split('.')
        .fold(event, |v, k| &v[k])
}

/// What EventBridge makes of an input template with one quoted string per
/// line (the SNS text form): each line unquoted, `<name>` replaced.
fn render(template: &str, paths: &serde_norway::Mapping, event: &serde_json::Value) -> String {
    template
        .lines()
        .map(|line| {
            let mut text = line.trim().trim_matches('"').to_owned();
            for (k, v) in paths {
                let (Some(k), Some(path)) = (k.as_str(), v.as_str()) else {
                    continue;
                };
                let value = match at_path(event, path) {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                text = text.replace(&format!("<{k}>"), &value);
            }
            text
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The e-mail route's input transformer, rendered from the sample events as
/// EventBridge renders it: one readable message, what, where and how to fix.
#[test]
fn the_email_route_renders_one_readable_message_per_finding_event() {
    use serde_norway::Value;
    let path = format!("{}/../template.yaml", env!("CARGO_MANIFEST_DIR"));
    let template: Value =
        serde_norway::from_str(&std::fs::read_to_string(path).expect("template")).expect("YAML");
    let transformer = &template["Resources"]["FindingEventsEmailRule"]["Properties"]["Targets"][0]
        ["InputTransformer"];
    let paths = transformer["InputPathsMap"]
        .as_mapping()
        .expect("InputPathsMap")
        .clone();
    // !If [HasDocsBaseUrl, !Sub with the link, !Sub without]
    let Value::Tagged(branches) = &transformer["InputTemplate"] else {
        panic!(
            "InputTemplate is an !If: {:?}",
            transformer["InputTemplate"]
        );
    };
    let branch = |i: usize| -> String {
        match &branches.value[i] {
            Value::Tagged(sub) => sub.value.as_str().expect("!Sub text").to_owned(),
            other => panic!("not a !Sub: {other:?}"),
        }
    };
    let with_link = branch(1)
        .replace("${AWS::StackName}", "prod-zw")
        .replace("${DocsBaseUrl}", "https://docs.example.com/zonewarden");
    let opened = sample("opened");
    let text = render(&with_link, &paths, &opened);
    assert_eq!(
        text,
        "zonewarden (prod-zw): critical finding opened: cert.imported-expiring\n\
         Imported certificate for shop.example.com expires in 5 days (2026-11-28); ACM never renews imported certificates\n\
         Resource: shop.example.com (arn:aws:acm:eu-west-1:111122223333:certificate/abc) in eu-west-1, account 111122223333.\n\
         How to fix: https://docs.example.com/zonewarden/docs/findings.md#certimported-expiring"
    );
    let resolved = render(
        &branch(2).replace("${AWS::StackName}", "prod-zw"),
        &paths,
        &sample("resolved"),
    );
    assert!(
        resolved.starts_with(
            "zonewarden (prod-zw): critical finding resolved: cert.imported-expiring\n"
        ),
        "{resolved}"
    );
    assert!(
        resolved.ends_with(
            "How to fix: see docs/findings.md#certimported-expiring in zonewarden's documentation."
        ),
        "{resolved}"
    );
    assert!(
        !resolved.contains('<'),
        "every placeholder is filled: {resolved}"
    );
}

/// CloudFormation refuses a parameter value its AllowedPattern does not
/// match (whole value): a plain-http webhook cannot be deployed.
#[test]
fn the_template_refuses_a_webhook_that_is_not_https() {
    let path = format!("{}/../template.yaml", env!("CARGO_MANIFEST_DIR"));
    let template: serde_norway::Value =
        serde_norway::from_str(&std::fs::read_to_string(path).expect("template")).expect("YAML");
    let pattern = template["Parameters"]["WebhookUrl"]["AllowedPattern"]
        .as_str()
        .expect("AllowedPattern");
    let re = regex_lite::Regex::new(&format!("^(?:{pattern})$")).expect("regex");
    for ok in ["", "https://hooks.example.com/zonewarden?team=sre"] {
        assert!(re.is_match(ok), "{ok:?} should deploy");
    }
    for bad in [
        "http://hooks.example.com/zonewarden",
        "hooks.example.com",
        "https://hooks.example.com/a b",
        "ftp://x",
    ] {
        assert!(!re.is_match(bad), "{bad:?} must be refused");
    }
    // Every NotifyMinSeverity value has its list of severities, each at least it.
    let levels = template["Mappings"]["SeverityAtLeast"]
        .as_mapping()
        .expect("mapping");
    let order = ["critical", "high", "medium", "low", "info"];
    for (i, sev) in order.iter().enumerate() {
        let got: Vec<&str> = levels[*sev]["Levels"]
            .as_sequence()
            .expect("levels")
            .iter()
            .filter_map(serde_norway::Value::as_str)
            .collect();
        assert_eq!(got, order[..=i], "{sev}");
    }
}

/// The digest schedule's event: no scan, one event listing what is open at
/// ZW_NOTIFY_MIN_SEVERITY or above (the template routes it to e-mail).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_digest_lists_open_findings_in_one_event() {
    use lambda_runtime::{Context, LambdaEvent};
    use scan_certificates::handler::{Response, run};
    let (env, _estate) = Env::with_demo_estate().await;
    let (sqs, url) = subscribe(&env).await;
    let deps = zw_lambda::Deps::with_sdk(
        env.config.clone(),
        &env.sdk,
        &[FamilyKind::CERTIFICATES],
        zw_aws::metrics::EmfSink::to_writer(Box::new(std::io::sink())),
    )
    .expect("deps");
    let scanned = run(
        &deps,
        LambdaEvent::new(
            serde_json::json!({"source": "aws.events", "detail-type": "Scheduled Event"}),
            Context::default(),
        ),
    )
    .await
    .expect("scan");
    let Response::Scan(summary) = scanned else {
        panic!("a schedule scans");
    };
    let at_least_high = summary.open_findings[&zw_core::Severity::Critical]
        + summary.open_findings[&zw_core::Severity::High];
    drain(&sqs, &url).await;
    let path = format!("{}/../events/digest.json", env!("CARGO_MANIFEST_DIR"));
    let event: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("sample")).expect("JSON");
    let Response::Digest(d) = run(&deps, LambdaEvent::new(event, Context::default()))
        .await
        .expect("digest")
    else {
        panic!("the digest event sends a digest");
    };
    assert!(d.sent);
    assert_eq!(d.total, at_least_high as u64);
    let got = drain(&sqs, &url).await;
    assert_eq!(got.len(), 1, "one digest event: {got:?}");
    assert_eq!(got[0]["detail-type"], notify::DIGEST);
    assert_eq!(got[0]["detail"]["total"], at_least_high);
    assert_eq!(
        got[0]["detail"]["findings"].as_array().map(Vec::len),
        Some(at_least_high)
    );
    assert!(
        got[0]["detail"]["text"]
            .as_str()
            .is_some_and(|t| t.contains("cert.imported-expiring")),
        "{}",
        got[0]["detail"]
    );
    assert_eq!(scan_records(&env).await, 1, "the digest is not a scan");
}

async fn scan_records(env: &Env) -> usize {
    crate::support::all_items(&env.ddb())
        .await
        .iter()
        .filter(|i| {
            i.get("item_type")
                .and_then(|v| v.as_s().ok())
                .map(String::as_str)
                == Some("scan")
        })
        .count()
}

/// Two scans at once (a schedule and an event batch) commit each transition
/// once and send each event once: an outbox event is claimed before it is
/// sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_scans_at_once_send_each_event_once() {
    let (env, _estate) = Env::with_demo_estate().await;
    let (sqs, url) = subscribe(&env).await;
    let a = App::new(env.config.clone(), &env.sdk, &[FamilyKind::CERTIFICATES]).expect("app");
    let b = App::new(env.config.clone(), &env.sdk, &[FamilyKind::CERTIFICATES]).expect("app");
    let (sink_a, sink_b) = (
        a.services.events(&env.sdk, &a.config.common),
        b.services.events(&env.sdk, &b.config.common),
    );
    let (ra, rb) = tokio::join!(scan(&a, &sink_a, "twin-a"), scan(&b, &sink_b, "twin-b"));
    assert!(
        ra.scan.errors.is_empty() && rb.scan.errors.is_empty(),
        "{:?} {:?}",
        ra.scan.errors,
        rb.scan.errors
    );
    let opened = ra.scan.opened + rb.scan.opened;
    let sent = ra.scan.counts["events_sent"] + rb.scan.counts["events_sent"];
    let got = drain(&sqs, &url).await;
    // Every transition the two scans committed wrote one history entry.
    // Mostly they are the estate's openings; a certificate whose validation
    // completes between the two scans' reads is also a resolve (a real
    // transition, with its own event), which happens on a slow machine.
    let now = zw_core::ports::Clock::now(&zw_aws::SystemClock);
    let mut transitions = 0;
    for day in [now - chrono::Duration::days(1), now] {
        transitions += items(&env.ddb(), &format!("HISTORY#{}", day.format("%Y-%m-%d")))
            .await
            .len();
    }
    assert!(opened >= 5, "the estate has problems: {opened}");
    assert_eq!(
        got.len(),
        transitions,
        "one event per transition: {transitions} transitions ({opened} opened), {sent} sent"
    );
    assert_eq!(sent as usize, transitions);
    assert_eq!(event_keys(&got).len(), got.len(), "none sent twice");
    assert!(items(&env.ddb(), "OUTBOX").await.is_empty());
}

/// The claim itself, step by step on the real table: an event one scan
/// claimed is not handed to another until it is released or sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outbox_event_goes_to_one_claimant_at_a_time() {
    use zw_core::ports::FindingStore;
    let (env, _estate) = Env::with_demo_estate().await;
    let app = App::new(env.config.clone(), &env.sdk, &[FamilyKind::CERTIFICATES]).expect("app");
    // EventBridge unreachable: the events stay in the outbox, unclaimed.
    let down_sdk = env
        .sdk
        .to_builder()
        .endpoint_url("http://127.0.0.1:9")
        .build();
    let down = EventBridgeSink::new(&down_sdk, "default".into(), &app.services.calls);
    let first = scan(&app, &down, "claims-1").await;
    let store = app.services.store.as_ref().expect("store");
    let a = store.pending_events("scan-a").await.expect("claim a");
    assert_eq!(
        a.len(),
        first.scan.opened,
        "all of them, unclaimed after the failed send"
    );
    let b = store.pending_events("scan-b").await.expect("claim b");
    assert!(b.is_empty(), "claimed by scan-a: {b:?}");
    let ids: Vec<String> = a.iter().map(|p| p.id.clone()).collect();
    store
        .release_events(&ids[..1], "scan-b")
        .await
        .expect("not b's: no-op");
    assert!(store.pending_events("scan-b").await.expect("b").is_empty());
    store
        .release_events(&ids[..1], "scan-a")
        .await
        .expect("release");
    let b = store.pending_events("scan-b").await.expect("claim b");
    assert_eq!(b.len(), 1, "the released one");
    store.events_sent(&ids).await.expect("sent");
    assert!(store.pending_events("scan-c").await.expect("c").is_empty());
}
