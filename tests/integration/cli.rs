//! The `zonewarden` binary as a user runs it: flags, output, exit codes.
//! `scripts/test` builds it before the tests (`cargo build --bins`).

use crate::support::{Env, TABLE};
use std::path::PathBuf;
use std::process::{Command, Output};

pub(crate) fn binary() -> PathBuf {
    // target/<profile>/deps/integration-<hash> -> target/<profile>/zonewarden
    let exe = std::env::current_exe().expect("test binary path");
    let bin = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(|dir| dir.join("zonewarden"))
        .expect("target dir");
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo build --bins` (scripts/test does)",
        bin.display()
    );
    bin
}

/// Runs the CLI with a clean environment: only what the test passes.
pub(crate) fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(binary());
    cmd.env_clear()
        .args(args)
        .env("NO_COLOR", "1")
        .env("HOME", "/nonexistent")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("runs")
}

pub(crate) fn moto_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint.to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_REGION", "eu-west-1".into()),
    ]
}

pub(crate) fn refs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_json_scan_has_the_documented_shape_and_writes_nothing() {
    let (env, _estate) = Env::with_demo_estate().await;
    let vars = moto_env(&env.moto.endpoint);
    let out = run(
        &["scan", "certificates", "--no-write", "--format", "json"],
        &refs(&vars),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(
        v["scan"]["regions"],
        serde_json::json!(["eu-west-1", "us-east-1"])
    );
    assert_eq!(v["scan"]["stored"], false);
    let findings = v["findings"].as_array().expect("findings array");
    assert!(!findings.is_empty());
    for f in findings {
        for field in [
            "code",
            "severity",
            "resource",
            "region",
            "message",
            "evidence",
            "first_seen",
            "last_seen",
            "state",
        ] {
            assert!(f.get(field).is_some(), "finding lacks {field}: {f}");
        }
    }
    assert!(
        crate::support::all_items(&env.ddb()).await.is_empty(),
        "--no-write wrote to the table"
    );
    // With a table named, both families: still nothing written (no DNS
    // inventory cache, no Route 53 budget items, no findings). No internet
    // here: DNS goes to a closed loopback port, quickly.
    let mut offline = refs(&vars);
    offline.extend([
        ("ZW_DNS_ROOT_HINTS", "127.0.0.1:9"),
        ("ZW_DNS_TIMEOUT_MS", "300"),
        ("ZW_AWS_IP_RANGES_URL", "http://127.0.0.1:9/ip-ranges.json"),
    ]);
    let out = run(
        &[
            "scan",
            "all",
            "--no-write",
            "--table",
            TABLE,
            "--format",
            "json",
        ],
        &offline,
    );
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    // `scan all`: every registered family, in the registry's order, but the
    // opt-in CT watch, which is off without ZW_CT_SEARCH_URL.
    let on: Vec<&str> = zw_app::FamilyKind::names()
        .into_iter()
        .filter(|n| *n != "ct")
        .collect();
    assert_eq!(v["scan"]["families"], serde_json::json!(on));
    assert!(
        crate::support::all_items(&env.ddb()).await.is_empty(),
        "--no-write --table wrote to the table"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_on_trips_exit_3_and_table_output_is_readable() {
    let (env, _estate) = Env::with_demo_estate().await;
    let vars = moto_env(&env.moto.endpoint);
    let out = run(
        &[
            "scan",
            "certificates",
            "--table",
            TABLE,
            "--fail-on",
            "critical",
        ],
        &refs(&vars),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(3),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout
            .lines()
            .next()
            .is_some_and(|h| h.starts_with("SEVERITY  CODE")),
        "{stdout}"
    );
    assert!(stdout.contains("cert.imported-expiring"), "{stdout}");
    assert!(!stdout.contains('\x1b'), "no colour when not a terminal");
    assert!(
        !crate::support::items(&env.ddb(), "FINDING")
            .await
            .is_empty(),
        "stored"
    );
}

/// `--notify` sends the finding events of the run (one per finding opened);
/// without it the CLI sends none and queues none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_sends_the_runs_finding_events_and_is_off_by_default() {
    let (env, _estate) = Env::with_demo_estate().await;
    let vars = moto_env(&env.moto.endpoint);
    let json = |out: &Output| -> serde_json::Value {
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
    };
    let quiet = run(
        &["scan", "certificates", "--table", TABLE, "--format", "json"],
        &refs(&vars),
    );
    let quiet = json(&quiet);
    assert!(
        quiet["scan"]["opened"].as_u64() >= Some(5),
        "{}",
        quiet["scan"]
    );
    assert!(
        quiet["scan"]["counts"].get("events_sent").is_none(),
        "{}",
        quiet["scan"]
    );
    assert!(
        crate::support::items(&env.ddb(), "OUTBOX").await.is_empty(),
        "nothing queued"
    );

    // A second table: every finding opens again, and is announced.
    zw_testkit::seed::create_table(&env.ddb(), "zonewarden-notify")
        .await
        .expect("table");
    let loud = run(
        &[
            "scan",
            "certificates",
            "--table",
            "zonewarden-notify",
            "--format",
            "json",
            "--notify",
        ],
        &refs(&vars),
    );
    let loud = json(&loud);
    assert_eq!(
        loud["scan"]["counts"]["events_sent"], loud["scan"]["opened"],
        "{}",
        loud["scan"]
    );
    assert_eq!(loud["scan"]["errors"], serde_json::json!([]));

    let both = run(
        &["scan", "certificates", "--no-write", "--notify"],
        &refs(&vars),
    );
    assert_eq!(both.status.code(), Some(2), "--notify needs the table");
}

#[test]
fn bad_flags_and_configuration_exit_2_with_one_clear_message() {
    let out = run(
        &["scan", "certificates", "--region", "Mars-1", "--no-write"],
        &[("AWS_REGION", "eu-west-1")],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("`Mars-1` is not an AWS region name"), "{err}");
    let out = run(
        &["scan", "certificates", "--fail-on", "urgent"],
        &[("AWS_REGION", "eu-west-1")],
    );
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["scan", "certificates"], &[("AWS_REGION", "eu-west-1")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--no-write"),
        "tells how to fix"
    );
    let out = run(
        &["scan", "certificates", "--no-write"],
        &[("AWS_REGION", "eu-west-1"), ("ZW_EXPIRY_DAYS", "7,14,0")],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ZW_EXPIRY_DAYS"));
}

#[test]
fn endpoint_down_exits_1_naming_the_problem_once_for_all_regions() {
    let out = run(
        &["scan", "certificates", "--no-write"],
        &[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
            ("AWS_ACCESS_KEY_ID", "x"),
            ("AWS_SECRET_ACCESS_KEY", "y"),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("in eu-west-1, us-east-1: acm ListCertificates (unreachable)"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

/// A loopback endpoint that accepts connections and never says a word; the
/// connections are held open until the returned guard is dropped.
fn stalled_endpoint() -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let held = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = held.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            keep.lock().expect("lock").push(conn);
        }
    });
    (format!("http://{addr}"), held)
}

/// Runs a read-only certificate scan against `endpoint`; fails the test if
/// it has not ended after a minute (without bounds, it never would).
fn scan_bounded(endpoint: &str, settings: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(binary());
    cmd.env_clear()
        .args(["scan", "certificates", "--no-write"])
        .env("NO_COLOR", "1")
        .env("HOME", "/nonexistent")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "x")
        .env("AWS_SECRET_ACCESS_KEY", "y")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in settings {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("runs");
    let started = std::time::Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > std::time::Duration::from_secs(60) {
            child.kill().expect("kill");
            panic!("the scan hung on a stalled endpoint");
        }
        // A plain #[test] thread polling a child process: no runtime to block.
        #[allow(clippy::disallowed_methods)]
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().expect("output")
}

#[test]
fn a_stalled_endpoint_ends_the_scan_at_the_configured_timeouts() {
    let (endpoint, held) = stalled_endpoint();
    let out = scan_bounded(
        &endpoint,
        &[
            ("ZW_AWS_ATTEMPT_TIMEOUT_MS", "300"),
            ("ZW_AWS_OPERATION_TIMEOUT_MS", "1500"),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("acm ListCertificates"), "{err}");
    assert!(
        err.to_lowercase().contains("timeout") || err.contains("timed out"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        !held.lock().expect("lock").is_empty(),
        "the endpoint was reached"
    );
}

/// AWS calls allowed to wait far longer than the scan may: the scan's own
/// deadline ends collection, says so, and the report still comes out.
#[test]
fn the_scan_deadline_cuts_collection_short_and_still_reports() {
    let (endpoint, _held) = stalled_endpoint();
    let out = scan_bounded(
        &endpoint,
        &[
            ("ZW_AWS_ATTEMPT_TIMEOUT_MS", "300000"),
            ("ZW_AWS_OPERATION_TIMEOUT_MS", "900000"),
            ("ZW_SCAN_DEADLINE_SECONDS", "10"),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the certificates scan was cut short at its deadline"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn no_credentials_exits_1_and_says_how_to_configure_them() {
    let out = run(
        &["scan", "certificates", "--no-write"],
        &[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
            ("AWS_CONFIG_FILE", "/dev/null"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("(no-credentials)") && err.contains("configure credentials"),
        "{err}"
    );
}
