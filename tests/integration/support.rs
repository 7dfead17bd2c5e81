//! Shared helpers: one moto per test, configuration, seeded estates.

use std::sync::{Arc, Mutex};
use zw_aws::Services;
use zw_core::Config;
use zw_testkit::Moto;
use zw_testkit::seed::{self, DemoEstate};

pub const TABLE: &str = "zonewarden-test";
pub const REGIONS: [&str; 2] = ["eu-west-1", "us-east-1"];

pub struct Env {
    pub moto: Moto,
    pub sdk: zw_aws::SdkConfig,
    pub config: Config,
}

impl Env {
    /// A fresh moto with the findings table created.
    pub async fn new() -> Env {
        let moto = Moto::start().unwrap_or_else(|e| panic!("{e}"));
        let sdk = moto.sdk_config(REGIONS[0]).await;
        seed::create_table(&aws_sdk_dynamodb::Client::new(&sdk), TABLE)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let config = config(&[]);
        Env { moto, sdk, config }
    }

    pub async fn with_demo_estate() -> (Env, DemoEstate) {
        let env = Env::new().await;
        let estate = seed::seed_demo_estate(&env.sdk, &REGIONS)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        (env, estate)
    }

    pub fn services(&self) -> Services {
        Services::new(&self.sdk, &self.config)
    }

    pub fn ddb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk)
    }
}

/// The test configuration: both regions, the table, fast pacing (moto has no
/// quotas; the pacing itself is unit-tested in zw-aws).
pub fn config(extra: &[(&str, &str)]) -> Config {
    let mut vars: Vec<(String, String)> = vec![
        ("ZW_REGIONS".into(), REGIONS.join(",")),
        ("ZW_TABLE_NAME".into(), TABLE.into()),
        ("ZW_ACM_RPS".into(), "10".into()),
        ("ZW_ROUTE53_RPS".into(), "5".into()),
    ];
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Config::from_vars(vars).unwrap_or_else(|e| panic!("{e}"))
}

/// Items of one partition of the table.
pub async fn items(
    ddb: &aws_sdk_dynamodb::Client,
    pk: &str,
) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let page = ddb
            .query()
            .table_name(TABLE)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(
                ":pk",
                aws_sdk_dynamodb::types::AttributeValue::S(pk.into()),
            )
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap_or_else(|e| panic!("query {pk}: {e:?}"));
        out.extend(page.items().iter().cloned());
        match page.last_evaluated_key() {
            Some(k) if !k.is_empty() => start = Some(k.clone()),
            _ => return out,
        }
    }
}

/// Every item of the table (scan; test only).
pub async fn all_items(
    ddb: &aws_sdk_dynamodb::Client,
) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    let page = ddb
        .scan()
        .table_name(TABLE)
        .send()
        .await
        .unwrap_or_else(|e| panic!("scan: {e:?}"));
    assert!(
        page.last_evaluated_key().is_none(),
        "test tables stay small"
    );
    page.items().to_vec()
}

pub fn attr<'a>(
    item: &'a std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
    name: &str,
) -> &'a str {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        .unwrap_or_default()
}

/// A writer the EMF sink can own while the test reads what it wrote.
#[derive(Clone, Default)]
pub struct SharedBuf(pub Arc<Mutex<Vec<u8>>>);

impl std::io::Write for SharedBuf {
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

impl SharedBuf {
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().map(|b| b.clone()).unwrap_or_default()).unwrap_or_default()
    }
}

/// One scan of `app` into its table, the way a scheduled run makes it
/// (every family of the app, unmonitored scopes retired), no metrics or
/// events.
pub async fn scan_once(app: &zw_app::App, id: &str) -> zw_core::ScanReport {
    app.scan(
        zw_core::Sinks {
            store: app.services.store.as_ref(),
            metrics: None::<&zw_aws::metrics::CloudWatchSink>,
            events: None,
        },
        zw_core::ScanLabel {
            scan_id: id.into(),
            trigger: "test".into(),
        },
        &zw_app::ScanOptions {
            changed_zones: std::collections::BTreeSet::new(),
            retire_unmonitored: true,
            deadline: None,
            end: None,
            only: None,
            query_log_since: None,
        },
    )
    .await
}

/// The open findings of a report, as (resource id, code).
pub fn open_findings(
    report: &zw_core::ScanReport,
) -> std::collections::BTreeSet<(String, &'static str)> {
    report
        .findings
        .iter()
        .map(|f| (f.resource.id.clone(), f.code.id()))
        .collect()
}
