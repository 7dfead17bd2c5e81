//! Organization mode against moto, which keeps separate state per account
//! behind STS AssumeRole: an organization of member accounts with their own
//! estates, scanned through the same per-account handler the state
//! machine's Distributed Map calls.
//!
//! What moto does not do, and so what only a real organization exercises:
//! moto assumes any role in any account (the AccessDenied of a member whose
//! role is missing is produced by a fault-injecting proxy in front of STS,
//! so our real STS client parses STS's own error); it accepts but never runs
//! Step Functions and StackSets (the state machine's definition is checked
//! here against the steps' types instead: its paths, its Map item, its
//! retries); and it does not evaluate `aws:PrincipalOrgID` conditions.

use crate::support::{Env, TABLE, attr, config, items};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;
use zw_app::org::AccountAccess;
use zw_app::{App, FamilyKind, ScanOptions};
use zw_aws::org::{OrganizationLister, RoleAssumer};
use zw_aws::usage::ApiCallCounter;
use zw_core::org::{AccountJob, AccountList, AccountRef, Outcome, RunRequest};
use zw_core::ports::PortError;
use zw_core::{ScanLabel, Sinks};
use zw_lambda::org::{OrgAction, OrgDeps, OrgHandlerError};
use zw_testkit::fault_proxy::{FaultPlan, FaultProxy};

const CENTRAL: &str = "123456789012";
const ROLE: &str = "zonewarden-member";

fn no_faults() -> FaultPlan {
    FaultPlan {
        throttle: 0.0,
        server_error: 0.0,
        stall: 0.0,
        stall_for: Duration::ZERO,
        seed: 1,
    }
}

async fn create_account(org: &aws_sdk_organizations::Client, name: &str) -> String {
    let out = org
        .create_account()
        .account_name(name)
        .email(format!("{name}@example.com"))
        .send()
        .await
        .expect("CreateAccount");
    out.create_account_status()
        .and_then(|s| s.account_id())
        .expect("account id")
        .to_owned()
}

/// An organization in moto (the default account its management account)
/// with one member account per name; their ids in that order.
async fn organization(env: &Env, names: &[&str]) -> Vec<String> {
    let org = aws_sdk_organizations::Client::new(&env.sdk);
    org.create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .expect("CreateOrganization");
    let mut ids = Vec::new();
    for name in names {
        ids.push(create_account(&org, name).await);
    }
    ids
}

/// The member account's SDK, as the test itself (not through our code).
async fn member_sdk(env: &Env, account: &str) -> zw_aws::SdkConfig {
    let assumer = RoleAssumer::new(&env.sdk, ROLE, &ApiCallCounter::default());
    assumer
        .assume(&AccountRef::new(account, "").expect("id"), "seed")
        .await
        .expect("moto assumes any role")
}

async fn import(sdk: &zw_aws::SdkConfig, domain: &str, days: i64) -> String {
    zw_testkit::seed::import_certificate(
        &aws_sdk_acm::Client::new(sdk),
        domain,
        chrono::Duration::days(days),
    )
    .await
    .expect("import")
}

/// The way into accounts the test gives the scanner: the real STS client
/// (its requests through the denying proxy), and one account whose every
/// request then goes through a proxy that throttles each first attempt.
struct Access {
    sts: RoleAssumer,
    throttled: (String, String),
}

impl AccountAccess for Access {
    fn enter<'a>(
        &'a self,
        account: &'a AccountRef,
        session: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<zw_aws::SdkConfig, PortError>> {
        Box::pin(async move {
            let sdk = self.sts.assume(account, session).await?;
            Ok(if account.id == self.throttled.0 {
                sdk.to_builder().endpoint_url(&self.throttled.1).build()
            } else {
                sdk
            })
        })
    }
}

fn finding_resources(
    items: &[std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>],
) -> BTreeSet<String> {
    items
        .iter()
        .map(|i| attr(i, "resource_id").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_account_lands_in_its_own_partition_and_one_failing_hides_nothing() {
    let env = Env::new().await;
    let ids = organization(&env, &["workloads-prod", "networking", "sandbox-locked"]).await;
    let (prod, net, locked) = (ids[0].clone(), ids[1].clone(), ids[2].clone());

    // Different estates: what one account has, no other account's scan sees.
    let prod_arn = import(&member_sdk(&env, &prod).await, "shop.example.com", 3).await;
    let net_arn = import(&member_sdk(&env, &net).await, "vpn.example.net", 20).await;
    let locked_arn = import(&member_sdk(&env, &locked).await, "lab.example.org", 2).await;
    let central_arn = import(&env.sdk, "central.example.com", 4).await;

    let upstream = SocketAddr::from(([127, 0, 0, 1], env.moto.port()));
    let sts_proxy = FaultProxy::start_denying(upstream, no_faults(), vec![locked.clone()])
        .await
        .expect("proxy");
    let throttle_proxy = FaultProxy::start(
        upstream,
        FaultPlan {
            throttle: 1.0,
            ..no_faults()
        },
    )
    .await
    .expect("proxy");
    let central = env.sdk.to_builder().endpoint_url(sts_proxy.url()).build();
    let cfg = config(&[
        ("ZW_ORG_MEMBER_ROLE_NAME", ROLE),
        // The management account is not a member here.
        ("ZW_ORG_EXCLUDE_ACCOUNTS", CENTRAL),
    ]);
    let deps =
        OrgDeps::with_sdk(cfg, central.clone(), zw_aws::metrics::EmfSink::stdout()).expect("deps");

    // ListAccounts: the organization's accounts, less the excluded one.
    let lister = OrganizationLister::new(&central, &ApiCallCounter::default());
    let request = RunRequest {
        families: vec!["certificates".into()],
        accounts: vec![],
    };
    let run = zw_app::org::list_accounts(&deps.config, &lister, &request, "run-1".into())
        .await
        .expect("listed");
    let ids: BTreeSet<&str> = run.accounts.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(
        ids,
        BTreeSet::from([prod.as_str(), net.as_str(), locked.as_str()]),
        "{run:?}"
    );
    assert!(run.accounts.iter().any(|a| a.name == "networking"));
    assert_eq!(run.max_concurrency, 40);

    // The Map: one child per item.
    let access = Access {
        sts: RoleAssumer::new(&central, ROLE, &ApiCallCounter::default()),
        throttled: (net.clone(), throttle_proxy.url()),
    };
    let mut outcomes = std::collections::BTreeMap::new();
    for account in &run.accounts {
        let job = AccountJob {
            account: account.clone(),
            families: run.families.clone(),
            run_id: run.run_id.clone(),
        };
        let got = zw_lambda::org::scan_job(&deps, &access, &job, None, None).await;
        outcomes.insert(account.id.clone(), got);
    }

    // The locked account: a clear error of its own, and a failed child.
    match &outcomes[&locked] {
        Err(OrgHandlerError::AccountFailed { account, error }) => {
            assert_eq!(account, &locked);
            for part in [
                locked.as_str(),
                "AccessDenied",
                "arn:aws:iam::",
                ROLE,
                "member-role StackSet",
            ] {
                assert!(error.contains(part), "`{part}` not in: {error}");
            }
        }
        other => panic!("the locked account must fail: {other:?}"),
    }
    assert_eq!(
        sts_proxy
            .counts
            .denied
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    // The others: scanned, the throttled one too (each first attempt refused).
    for id in [&prod, &net] {
        let r = outcomes[id].as_ref().expect("scanned");
        assert_eq!(r.outcome, Outcome::Scanned, "{id}: {:?}", r.errors);
    }
    let [_, throttled, _, _] = throttle_proxy.counts.snapshot();
    assert!(
        throttled > 0,
        "the networking account was throttled: {throttled}"
    );

    // Findings under the right account, and nowhere else.
    let ddb = env.ddb();
    let prod_items = items(&ddb, &format!("ACCOUNT#{prod}#FINDING")).await;
    let net_items = items(&ddb, &format!("ACCOUNT#{net}#FINDING")).await;
    for (items, own, own_arn, name) in [
        (&prod_items, &prod, &prod_arn, "workloads-prod"),
        (&net_items, &net, &net_arn, "networking"),
    ] {
        let res = finding_resources(items);
        assert!(res.contains(own_arn), "{own}: {res:?}");
        for foreign in [&prod_arn, &net_arn, &locked_arn, &central_arn] {
            if foreign != own_arn {
                assert!(!res.contains(foreign), "{own} holds {foreign}: {res:?}");
            }
        }
        assert!(items.iter().all(|i| attr(i, "account_id") == own.as_str()));
        assert!(items.iter().all(|i| attr(i, "account_name") == name));
    }
    assert!(
        items(&ddb, &format!("ACCOUNT#{locked}#FINDING"))
            .await
            .is_empty()
    );
    assert!(
        items(&ddb, "FINDING").await.is_empty(),
        "nothing in the single-account partition"
    );
    // Scan records per account too.
    let day = zw_core::ports::Clock::now(&zw_aws::SystemClock).format("%Y-%m-%d");
    assert_eq!(
        items(&ddb, &format!("ACCOUNT#{prod}#SCAN#{day}"))
            .await
            .len(),
        1
    );

    // Summarize: the roll-up names the failed account and adds the others.
    let (summary, batch) = zw_app::org::summarize(&deps.config, &deps.registry, &run)
        .await
        .expect("summary");
    assert_eq!(
        (summary.accounts, summary.scanned, summary.failed),
        (3, 2, 1)
    );
    assert!(summary.failures[&locked].contains("AccessDenied"));
    assert_eq!(
        summary.stale,
        vec![locked.clone()],
        "never scanned successfully"
    );
    let expected_open: u64 = [&prod, &net]
        .iter()
        .map(|id| {
            outcomes[*id]
                .as_ref()
                .expect("scanned")
                .open_findings
                .values()
                .sum::<usize>() as u64
        })
        .sum();
    assert!(expected_open >= 2);
    assert_eq!(summary.open_findings.values().sum::<u64>(), expected_open);
    let value = |name: &str| {
        batch
            .data
            .iter()
            .find(|d| d.name == name && d.dimension.is_none())
            .map(|d| d.value)
    };
    assert_eq!(value(zw_core::org::ACCOUNTS_FAILED), Some(1.0));
    assert_eq!(value(zw_core::org::ACCOUNTS_SCANNED), Some(2.0));
    let statuses = items(&ddb, zw_aws::org::ACCOUNTS_PK).await;
    assert_eq!(statuses.len(), 3);
    assert!(
        statuses
            .iter()
            .any(|s| attr(s, "sk") == locked && attr(s, "outcome") == "failed")
    );

    // The real handler, as Lambda calls it: its STS client goes through the
    // denying proxy too, and the failed account is the Map's failed child.
    let event = |account: &str| {
        lambda_runtime::LambdaEvent::new(
            serde_json::json!({
                "account": {"id": account, "name": "x"},
                "families": ["certificates"],
                "run_id": "run-2",
            }),
            lambda_runtime::Context::default(),
        )
    };
    let denied = zw_lambda::org::scan_account(&deps, event(&locked))
        .await
        .expect_err("denied");
    assert_eq!(
        lambda_runtime::Diagnostic::from(denied).error_type,
        "AccountFailed"
    );
    let ok = zw_lambda::org::scan_account(&deps, event(&prod))
        .await
        .expect("prod via the handler");
    assert_eq!(ok.outcome, Outcome::Scanned);
    // A second scan of the same account opens nothing new.
    let again = items(&ddb, &format!("ACCOUNT#{prod}#FINDING")).await;
    assert_eq!(finding_resources(&again), finding_resources(&prod_items));
}

/// Switching a single-account deployment to organization mode: the table
/// written by the single-account code moves under the account's partition,
/// and the first organization-mode scan continues its findings (nothing
/// reopened) instead of starting over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_account_table_migrates_into_its_account_partition() {
    let env = Env::new().await;
    let arn = import(&env.sdk, "shop.example.com", 5).await;
    let _other = import(&env.sdk, "api.example.com", 12).await;
    let single = App::new(env.config.clone(), &env.sdk, &[FamilyKind::CERTIFICATES]).expect("app");
    let report = single
        .scan(
            Sinks {
                store: single.services.store.as_ref(),
                metrics: None::<&zw_aws::metrics::CloudWatchSink>,
                events: None,
            },
            ScanLabel {
                scan_id: "single-1".into(),
                trigger: "test".into(),
            },
            &ScanOptions::default(),
        )
        .await;
    assert!(report.scan.opened >= 2, "{:?}", report.scan);
    let ddb = env.ddb();
    let before = items(&ddb, "FINDING").await;
    assert_eq!(before.len(), report.scan.opened);
    // The license stays where it is: it is the deployment's, not an account's.
    ddb.put_item()
        .table_name(TABLE)
        .item(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S("LICENSE".into()),
        )
        .item(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S("CURRENT".into()),
        )
        .send()
        .await
        .expect("put");

    let me = AccountRef::new(CENTRAL, "central").expect("id");
    let partition = format!("ACCOUNT#{CENTRAL}#FINDING");
    let dry = zw_aws::org::migrate(&ddb, TABLE, &me, true, false)
        .await
        .expect("dry run");
    assert_eq!(
        dry.copied.get("FINDING").copied(),
        Some(before.len() as u64)
    );
    assert!(
        items(&ddb, &partition).await.is_empty(),
        "a dry run writes nothing"
    );

    let moved = zw_aws::org::migrate(&ddb, TABLE, &me, false, false)
        .await
        .expect("migrate");
    assert_eq!(
        moved.copied.get("FINDING").copied(),
        Some(before.len() as u64)
    );
    assert_eq!(moved.copied.get("SCAN").copied(), Some(1));
    let after = items(&ddb, &partition).await;
    assert_eq!(finding_resources(&after), finding_resources(&before));
    assert!(after.iter().all(|i| attr(i, "account_id") == CENTRAL));
    assert_eq!(
        items(&ddb, "FINDING").await.len(),
        before.len(),
        "originals kept"
    );
    let again = zw_aws::org::migrate(&ddb, TABLE, &me, false, false)
        .await
        .expect("again");
    assert!(again.copied.is_empty(), "{again:?}");
    assert!(again.already_there >= before.len() as u64);

    // The first organization-mode scan of this account continues them.
    let cfg = config(&[("ZW_ORG_MEMBER_ROLE_NAME", ROLE)]);
    let deps =
        OrgDeps::with_sdk(cfg, env.sdk.clone(), zw_aws::metrics::EmfSink::stdout()).expect("deps");
    let sts = RoleAssumer::new(&env.sdk, ROLE, &ApiCallCounter::default());
    let job = AccountJob {
        account: me.clone(),
        families: vec!["certificates".into()],
        run_id: "run-1".into(),
    };
    let scanner = zw_app::org::AccountScanner {
        config: &deps.config,
        central: &env.sdk,
        access: &sts,
        registry: Some(&deps.registry),
        notify: false,
        deadline: None,
        end: None,
        retire_unmonitored: true,
    };
    let (result, report) = scanner.scan_with_report(&job).await.expect("scan");
    let report = report.expect("scanned");
    assert_eq!(result.outcome, Outcome::Scanned, "{:?}", result.errors);
    assert_eq!(
        report.scan.opened, 0,
        "nothing reopened after the migration"
    );
    assert!(report.findings.iter().any(|f| f.resource.id == arn));

    let deleted = zw_aws::org::migrate(&ddb, TABLE, &me, false, true)
        .await
        .expect("delete source");
    assert!(deleted.deleted >= before.len() as u64);
    assert!(items(&ddb, "FINDING").await.is_empty());
    assert_eq!(items(&ddb, "LICENSE").await.len(), 1, "the license stays");
    assert_eq!(items(&ddb, &partition).await.len(), before.len());
}

fn template() -> serde_norway::Value {
    let path = format!("{}/../template.yaml", env!("CARGO_MANIFEST_DIR"));
    serde_norway::from_str(&std::fs::read_to_string(path).expect("template")).expect("YAML")
}

fn to_json(v: &serde_norway::Value) -> serde_json::Value {
    serde_json::to_value(v).expect("JSON")
}

/// A JSONPath of the subset the definition uses: `$`, `$.a.b`, `$$.Map.Item.Value`.
fn path<'a>(
    p: &str,
    input: &'a serde_json::Value,
    context: &'a serde_json::Value,
) -> &'a serde_json::Value {
    let (root, rest) = if let Some(r) = p.strip_prefix("$$") {
        (context, r)
    } else {
        (input, p.strip_prefix('$').expect("a path"))
    };
    rest.split('.')
        .filter(|s| !s.is_empty())
        .fold(root, |v, k| {
            v.get(k).unwrap_or_else(|| panic!("{p}: no `{k}`"))
        })
}

/// A Parameters/ItemSelector template applied, as Step Functions does:
/// `key.$` fields take the path's value, others are copied.
fn apply(
    template: &serde_json::Value,
    input: &serde_json::Value,
    context: &serde_json::Value,
) -> serde_json::Value {
    match template {
        serde_json::Value::Object(m) => serde_json::Value::Object(
            m.iter()
                .map(|(k, v)| match k.strip_suffix(".$") {
                    Some(k) => (
                        k.to_owned(),
                        path(v.as_str().expect("a path"), input, context).clone(),
                    ),
                    None => (k.clone(), apply(v, input, context)),
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The state machine's definition against the steps' own types: what each
/// step is given parses as what that step takes, and the Map is bounded,
/// tolerant and fed from `ListAccounts`'s output.
#[test]
fn the_state_machine_hands_each_step_what_it_takes() {
    let t = template();
    let sm = &t["Resources"]["OrganizationStateMachine"];
    assert_eq!(sm["Condition"].as_str(), Some("IsOrganization"));
    let def = to_json(&sm["Properties"]["Definition"]);
    let states = &def["States"];
    assert_eq!(def["StartAt"], "ListAccounts");

    // A schedule's input → ListAccounts' payload → a run request.
    let input: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!(
            "{}/../events/org-schedule-input.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("sample"),
    )
    .expect("JSON");
    let none = serde_json::json!({});
    let list = &states["ListAccounts"];
    let payload = apply(&list["Parameters"]["Payload"], &input, &none);
    let action: OrgAction = serde_json::from_value(payload).expect("list-accounts input");
    assert!(
        matches!(action, OrgAction::ListAccounts { ref request } if request.families == ["dns"])
    );
    assert_eq!(list["Next"], "ScanAccounts");

    // ListAccounts' output, as the function serializes it, under `run`.
    let run = AccountList {
        run_id: "r1".into(),
        families: vec!["dns".into()],
        accounts: vec![
            AccountRef::new("111122223333", "prod").expect("id"),
            AccountRef::new("444455556666", "net").expect("id"),
        ],
        max_concurrency: 40,
        tolerated_failure_percentage: 10,
        narrowed: false,
    };
    let lambda_result = serde_json::json!({"Payload": run, "StatusCode": 200});
    let state = apply(&list["ResultSelector"], &lambda_result, &none);

    let map = &states["ScanAccounts"];
    assert_eq!(map["Type"], "Map");
    assert_eq!(
        map["ItemProcessor"]["ProcessorConfig"]["Mode"],
        "DISTRIBUTED"
    );
    assert_eq!(
        path(
            map["MaxConcurrencyPath"].as_str().expect("path"),
            &state,
            &none
        ),
        40
    );
    assert_eq!(
        path(
            map["ToleratedFailurePercentagePath"]
                .as_str()
                .expect("path"),
            &state,
            &none
        ),
        10
    );
    let items = path(map["ItemsPath"].as_str().expect("path"), &state, &none)
        .as_array()
        .expect("items");
    assert_eq!(items.len(), 2);
    for item in items {
        let context = serde_json::json!({"Map": {"Item": {"Value": item}}});
        let job: AccountJob = serde_json::from_value(apply(&map["ItemSelector"], &state, &context))
            .expect("the Map item is the child's input");
        assert_eq!(job.run_id, "r1");
        assert_eq!(job.families, ["dns"]);
    }
    // The child: its own verdict on an account is not retried, Lambda's are;
    // what it hands back stays small (the Map keeps every child's output).
    let child = &map["ItemProcessor"]["States"]["ScanAccount"];
    let retried: Vec<String> = child["Retry"]
        .as_array()
        .expect("retry")
        .iter()
        .flat_map(|r| r["ErrorEquals"].as_array().cloned().unwrap_or_default())
        .filter_map(|e| e.as_str().map(str::to_owned))
        .collect();
    assert!(
        retried
            .iter()
            .any(|e| e == "Lambda.TooManyRequestsException")
    );
    assert!(
        !retried
            .iter()
            .any(|e| e == "AccountFailed" || e == "States.ALL")
    );
    let result = serde_json::json!({"Payload": zw_core::org::AccountResult {
        account: run.accounts[0].clone(),
        outcome: Outcome::Partial,
        scan_id: Some("s".into()),
        open_findings: Default::default(),
        errors: vec!["x".repeat(2000)],
    }});
    let kept = apply(&child["ResultSelector"], &result, &none);
    assert!(kept.to_string().len() < 100, "{kept}");
    // Too many failures still summarize.
    let catch = &map["Catch"][0];
    assert_eq!(catch["Next"], "Summarize");
    assert_eq!(map["Next"], "Summarize");

    let summarize = &states["Summarize"];
    let payload = apply(&summarize["Parameters"]["Payload"], &state, &none);
    let action: OrgAction = serde_json::from_value(payload).expect("summarize input");
    assert!(matches!(action, OrgAction::Summarize { run: ref r } if *r == run));

    // Every schedule and event rule starts a run with a valid request.
    for (name, event) in sm["Properties"]["Events"]
        .as_mapping()
        .expect("events")
        .iter()
    {
        let input = event["Properties"]["Input"].as_str().expect("input");
        let r: RunRequest = serde_json::from_str(input).unwrap_or_else(|e| panic!("{name:?}: {e}"));
        zw_app::org::families(&r.families).expect("known families");
    }
    for rule in [
        "OrganizationAcmEventsRule",
        "OrganizationHealthAcmEventsRule",
    ] {
        let target = &t["Resources"][rule]["Properties"]["Targets"][0];
        let template = target["InputTransformer"]["InputTemplate"]
            .as_str()
            .expect("template")
            .replace("<account>", "111122223333");
        let r: RunRequest =
            serde_json::from_str(&template).unwrap_or_else(|e| panic!("{rule}: {e}: {template}"));
        assert_eq!(r.accounts, ["111122223333"]);
    }
}

/// The member role: read-only, trusted only by the scanner role inside the
/// organization.
#[test]
fn the_member_role_only_reads_and_trusts_only_the_scanner_in_the_organization() {
    let file = format!(
        "{}/../infra/org/member-role.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let t: serde_norway::Value =
        serde_norway::from_str(&std::fs::read_to_string(file).expect("member role")).expect("YAML");
    let role = to_json(&t["Resources"]["MemberRole"]["Properties"]);
    let text = role.to_string();
    assert!(text.contains("aws:PrincipalOrgID"), "{text}");
    assert!(text.contains("aws:PrincipalArn"), "{text}");
    let mut actions = Vec::new();
    for policy in role["Policies"].as_array().expect("policies") {
        for st in policy["PolicyDocument"]["Statement"]
            .as_array()
            .expect("statements")
        {
            assert_eq!(st["Effect"], "Allow");
            match &st["Action"] {
                serde_json::Value::String(a) => actions.push(a.clone()),
                serde_json::Value::Array(a) => {
                    actions.extend(a.iter().filter_map(|x| x.as_str().map(str::to_owned)))
                }
                other => panic!("action {other}"),
            }
        }
    }
    assert!(actions.len() >= 8, "{actions:?}");
    for a in &actions {
        let verb = a.split(':').nth(1).unwrap_or_default();
        let verb = verb.to_ascii_lowercase();
        assert!(
            ["list", "describe", "get"]
                .iter()
                .any(|p| verb.starts_with(p)),
            "{a} is not read-only"
        );
    }
    for needed in [
        "acm:DescribeCertificate",
        "acm:ListCertificates",
        "route53:ListHostedZones",
        "route53:ListResourceRecordSets",
    ] {
        assert!(
            actions.iter().any(|a| a == needed),
            "{needed} missing: {actions:?}"
        );
    }
}

/// A loopback stand-in for AWS's ip-ranges.json (no internet here), so a
/// `scan all` has no error of its own and an account is `scanned`.
async fn ip_ranges() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let body = r#"{"syncToken":"1","createDate":"2026-12-01-00-00-00","prefixes":[{"ip_prefix":"3.5.140.0/22","region":"ap-northeast-2","service":"AMAZON"}],"ipv6_prefixes":[]}"#;
                let _ = s
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .await;
            });
        }
    });
    format!("http://{addr}/ip-ranges.json")
}

fn cli(args: &[&str], vars: &[(&str, String)]) -> std::process::Output {
    let mut cmd = std::process::Command::new(crate::cli::binary());
    cmd.env_clear()
        .args(args)
        .env("NO_COLOR", "1")
        .env("HOME", "/nonexistent")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        // Only the certificates matter here: no DNS servers to ask.
        .env("ZW_REGIONS", "eu-west-1");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().expect("runs")
}

/// `scan all --role-name --account ...` and `--organization` from the CLI,
/// then `findings --account` reading one account back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_scans_several_accounts_and_shows_one() {
    let env = Env::new().await;
    let ids = organization(&env, &["team-a", "team-b"]).await;
    let (a, b) = (ids[0].clone(), ids[1].clone());
    let a_arn = import(&member_sdk(&env, &a).await, "a.example.com", 3).await;
    let b_arn = import(&member_sdk(&env, &b).await, "b.example.com", 3).await;
    let mut vars: Vec<(&str, String)> = crate::cli::moto_env(&env.moto.endpoint);
    vars.push(("ZW_AWS_IP_RANGES_URL", ip_ranges().await));
    vars.push(("ZW_DNS_ROOT_HINTS", "127.0.0.1:9".into()));
    vars.push(("ZW_DNS_TIMEOUT_MS", "300".into()));

    let out = cli(
        &[
            "scan",
            "all",
            "--role-name",
            ROLE,
            "--account",
            &a,
            "--account",
            &b,
            "--table",
            TABLE,
            "--format",
            "json",
        ],
        &vars,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let results = v.as_array().expect("one result per account");
    assert_eq!(results.len(), 2);
    for (r, id, arn) in [(&results[0], &a, &a_arn), (&results[1], &b, &b_arn)] {
        assert_eq!(r["account"]["id"], id.as_str());
        assert_eq!(r["outcome"], "scanned", "{}", r["errors"]);
        let resources: Vec<&str> = r["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter_map(|f| f["resource"]["id"].as_str())
            .collect();
        assert!(resources.contains(&arn.as_str()), "{resources:?}");
        let other = if arn == &a_arn { &b_arn } else { &a_arn };
        assert!(!resources.contains(&other.as_str()));
    }

    let out = cli(
        &[
            "findings",
            "--account",
            &b,
            "--table",
            TABLE,
            "--format",
            "json",
        ],
        &vars,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["account"], b.as_str());
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["resource"]["id"].as_str())
        .collect();
    assert!(
        ids.contains(&b_arn.as_str()) && !ids.contains(&a_arn.as_str()),
        "{ids:?}"
    );
    let out = cli(&["findings", "--table", TABLE], &vars);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("No open findings for this deployment"),
        "the single-account partition is empty"
    );

    // The whole organization, read-only: the management account excluded.
    let mut org_vars = vars.clone();
    org_vars.push(("ZW_ORG_EXCLUDE_ACCOUNTS", CENTRAL.to_owned()));
    let out = cli(
        &[
            "scan",
            "all",
            "--role-name",
            ROLE,
            "--organization",
            "--no-write",
            "--format",
            "json",
        ],
        &org_vars,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let ids: BTreeSet<&str> = v
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["account"]["id"].as_str())
        .collect();
    assert_eq!(ids, BTreeSet::from([a.as_str(), b.as_str()]));

    // Bad input: one precise message, exit 2, nothing scanned.
    let out = cli(
        &["scan", "all", "--role-name", ROLE, "--account", "12345"],
        &vars,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--account"));
    let out = cli(&["scan", "all", "--role-name", ROLE, "--no-write"], &vars);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--organization"));
}

/// The organization parameters deploy exactly what the code accepts
/// (`Config::from_vars`): a value CloudFormation lets through must not fail
/// every invocation at init.
#[test]
fn organization_parameters_deploy_what_the_code_accepts() {
    let t = template();
    let pattern = |name: &str| {
        let p = t["Parameters"][name]["AllowedPattern"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} has an AllowedPattern"));
        regex_lite::Regex::new(p).expect("regex")
    };
    let accepts = |var: &str, value: &str| {
        zw_core::Config::from_vars([
            ("AWS_REGION".to_owned(), "eu-west-1".to_owned()),
            (var.to_owned(), value.to_owned()),
        ])
        .is_ok()
    };
    for (param, var, good, bad) in [
        (
            "OrganizationUnits",
            "ZW_ORG_UNITS",
            &["", "r-ab12", "ou-ab12-cdef3456,r-ab12"][..],
            &["engineering", "ou-ab12-cdef3456,", "OU-AB12-CDEF3456"][..],
        ),
        (
            "IncludeAccounts",
            "ZW_ORG_INCLUDE_ACCOUNTS",
            &["", "111122223333", "111122223333,444455556666"][..],
            &["1111-2222-3333", "111122223333,", "11112222333"][..],
        ),
        (
            "MemberRoleName",
            "ZW_ORG_MEMBER_ROLE_NAME",
            &["zonewarden-member", "OrganizationAccountAccessRole"][..],
            &["role/with/path", "has space", ""][..],
        ),
    ] {
        let re = pattern(param);
        for ok in good {
            assert!(re.is_match(ok), "{param}: {ok:?} should deploy");
            assert!(
                accepts(var, ok),
                "{var}: {ok:?} deploys but the code refuses it"
            );
        }
        for no in bad {
            assert!(
                !re.is_match(no),
                "{param}: {no:?} must be refused at deploy"
            );
        }
    }
    assert_eq!(
        t["Parameters"]["DeploymentMode"]["Default"].as_str(),
        Some("single"),
        "single-account deployments keep working unchanged"
    );
}

/// Many organizations keep every public zone in one DNS account and their
/// certificates in workload accounts. A workload account's validation CNAMEs
/// are then looked for in the zones the DNS account's own scan published in
/// the table: no false `cert.validation-record-missing` while the record is
/// there, a true one (naming the account that holds the zone) once it is
/// deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_records_in_the_dns_accounts_zones_count_for_the_workload_accounts() {
    use zw_testkit::seed;
    let env = Env::new().await;
    let ids = organization(&env, &["dns-hub", "workloads"]).await;
    let (hub, work) = (ids[0].clone(), ids[1].clone());
    let hub_r53 = aws_sdk_route53::Client::new(&member_sdk(&env, &hub).await);
    let work_acm = aws_sdk_acm::Client::new(&member_sdk(&env, &work).await);

    // The zone in the hub, the certificate in the workload account, its
    // validation CNAME written into the hub's zone.
    let zone = seed::create_zone(&hub_r53, "cross-account.example")
        .await
        .expect("zone");
    let arn = seed::request_dns_certificate(&work_acm, "app.cross-account.example", &[])
        .await
        .expect("requested");
    seed::wait_issued(&work_acm, &arn, seed::DEMO_ISSUE_TIMEOUT)
        .await
        .expect("issued");
    let records = seed::upsert_validation_records(&hub_r53, &zone, &work_acm, &arn)
        .await
        .expect("CNAME in the hub");

    let ranges = ip_ranges().await;
    let cfg = config(&[
        ("ZW_ORG_MEMBER_ROLE_NAME", ROLE),
        // No DNS servers to ask here: the hub's DNS scan still lists and
        // publishes its zones.
        ("ZW_DNS_ROOT_HINTS", "127.0.0.1:9"),
        ("ZW_DNS_TIMEOUT_MS", "300"),
        ("ZW_AWS_IP_RANGES_URL", ranges.as_str()),
    ]);
    let deps =
        OrgDeps::with_sdk(cfg, env.sdk.clone(), zw_aws::metrics::EmfSink::stdout()).expect("deps");
    let access = RoleAssumer::new(&env.sdk, ROLE, &ApiCallCounter::default());
    let scan = |account: &str, name: &str, family: &str, run: &str| {
        let job = AccountJob {
            account: AccountRef::new(account, name).expect("id"),
            families: vec![family.into()],
            run_id: run.into(),
        };
        let (deps, access) = (&deps, &access);
        async move {
            zw_lambda::org::scan_job(deps, access, &job, None, None)
                .await
                .expect("scanned")
        }
    };
    let ddb = env.ddb();
    let findings = |code: &'static str| {
        let ddb = &ddb;
        let work = &work;
        let arn = &arn;
        async move {
            items(ddb, &format!("ACCOUNT#{work}#FINDING"))
                .await
                .into_iter()
                .filter(|i| attr(i, "code") == code && attr(i, "resource_id") == arn.as_str())
                .collect::<Vec<_>>()
        }
    };

    // Before the hub has published anything: no zone is known for the
    // record (information), and nothing is called missing.
    let r = scan(&work, "workloads", "certificates", "run-1").await;
    assert_eq!(r.outcome, Outcome::Scanned, "{:?}", r.errors);
    let unknown = findings("cert.validation-zone-unknown").await;
    assert_eq!(unknown.len(), 1);
    assert!(
        attr(&unknown[0], "message").contains("organization's accounts published"),
        "{}",
        attr(&unknown[0], "message")
    );
    assert!(findings("cert.validation-record-missing").await.is_empty());

    // The hub's DNS scan publishes its zone; the workload account's next
    // scan finds the record there.
    scan(&hub, "dns-hub", "dns", "run-2").await;
    let published = items(&ddb, &format!("ACCOUNT#{hub}#ESTATE#zones")).await;
    assert!(!published.is_empty(), "the hub published its zones");
    let r = scan(&work, "workloads", "certificates", "run-3").await;
    assert_eq!(r.outcome, Outcome::Scanned, "{:?}", r.errors);
    assert!(
        findings("cert.validation-record-missing").await.is_empty(),
        "no false alarm while the CNAME is in the hub's zone"
    );
    let unknown = findings("cert.validation-zone-unknown").await;
    assert_eq!(
        attr(&unknown[0], "state"),
        "resolved",
        "the zone is known now"
    );

    // The CNAME deleted in the hub: once the hub's scan has seen it, the
    // workload account's certificate is told, with the zone's account.
    for r in &records {
        seed::delete_record(&hub_r53, &zone, &r.name, &r.record_type, &r.value)
            .await
            .expect("deleted");
    }
    scan(&hub, "dns-hub", "dns", "run-4").await;
    let r = scan(&work, "workloads", "certificates", "run-5").await;
    assert_eq!(r.outcome, Outcome::Scanned, "{:?}", r.errors);
    let missing = findings("cert.validation-record-missing").await;
    assert_eq!(missing.len(), 1);
    assert_eq!(attr(&missing[0], "state"), "open");
    let message = attr(&missing[0], "message");
    for part in [
        zone.as_str(),
        hub.as_str(),
        "dns-hub",
        "cross-account.example.",
    ] {
        assert!(message.contains(part), "`{part}` not in {message}");
    }
    let evidence: serde_json::Value =
        serde_json::from_str(attr(&missing[0], "evidence")).expect("evidence");
    assert_eq!(evidence["records"][0]["account_id"], hub.as_str());
}
