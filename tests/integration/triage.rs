//! Day two through the `zonewarden` binary against moto: suppress, rescan,
//! acknowledge, remove, the audit log, and the suppressions document.

use crate::cli::{moto_env, refs, run};
use crate::support::{Env, TABLE, items};
use std::process::Output;

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(out)))
}

/// (code, state, suppression id) of every current finding of `code_prefix`.
async fn states(env: &Env, code_prefix: &str) -> Vec<(String, String, Option<String>)> {
    let mut out: Vec<_> = items(&env.ddb(), "FINDING")
        .await
        .iter()
        .filter(|i| i["code"].as_s().is_ok_and(|c| c.starts_with(code_prefix)))
        .map(|i| {
            (
                i["code"].as_s().cloned().unwrap_or_default(),
                i["state"].as_s().cloned().unwrap_or_default(),
                i.get("suppression_id").and_then(|v| v.as_s().ok()).cloned(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Every history transition written so far for `code_prefix`.
async fn transitions(env: &Env, code_prefix: &str) -> Vec<String> {
    let day = zw_core::ports::Clock::now(&zw_aws::SystemClock).format("%Y-%m-%d");
    let mut out: Vec<(String, String)> = items(&env.ddb(), &format!("HISTORY#{day}"))
        .await
        .iter()
        .filter(|i| i["code"].as_s().is_ok_and(|c| c.starts_with(code_prefix)))
        .map(|i| {
            (
                i["at"].as_s().cloned().unwrap_or_default(),
                i["transition"].as_s().cloned().unwrap_or_default(),
            )
        })
        .collect();
    out.sort();
    out.into_iter().map(|(_, t)| t).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suppress_rescan_acknowledge_remove_and_every_step_is_audited() {
    let (env, _estate) = Env::with_demo_estate().await;
    let vars = moto_env(&env.moto.endpoint);
    let vars = refs(&vars);
    let scan = || {
        run(
            &["scan", "certificates", "--table", TABLE, "--format", "json"],
            &vars,
        )
    };
    let first = json(&scan());
    let open_before = first["findings"].as_array().map_or(0, Vec::len);
    let imported = states(&env, "cert.imported-expiring").await;
    assert!(
        !imported.is_empty(),
        "the demo estate has imported certificates ending soon"
    );
    assert!(imported.iter().all(|(_, s, _)| s == "open"), "{imported:?}");

    // Bad input: exit 2, one message, nothing written.
    for (args, needle) in [
        (
            vec!["--code", "cert.imported-*", "--for", "30d"],
            "--reason",
        ),
        (
            vec!["--code", "cert.imported-*", "--reason", "r"],
            "--until",
        ),
        (
            vec!["--code", "cert.imported-*", "--reason", " ", "--for", "30d"],
            "reason is required",
        ),
        (
            vec![
                "--code",
                "cert.imported-*",
                "--reason",
                "r",
                "--for",
                "400d",
            ],
            "366",
        ),
        (
            vec!["--code", "cert.imprted-*", "--reason", "r", "--for", "30d"],
            "matches no finding code",
        ),
        (
            vec!["--code", "cert.*", "--reason", "r", "--until", "2020-01-01"],
            "not in the future",
        ),
    ] {
        let mut full = vec!["suppress", "add", "--table", TABLE];
        full.extend(args);
        let out = run(&full, &vars);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(needle),
            "{needle}: {}",
            text(&out)
        );
    }
    assert!(items(&env.ddb(), "SUPPRESSION").await.is_empty());

    let added = run(
        &[
            "suppress",
            "add",
            "--table",
            TABLE,
            "--code",
            "cert.imported-*",
            "--reason",
            "owned by the payments team (PAY-12)",
            "--for",
            "30d",
            "--format",
            "json",
        ],
        &vars,
    );
    assert_eq!(added.status.code(), Some(0), "{}", text(&added));
    let suppression = json(&added);
    let id = suppression["id"].as_str().expect("id").to_owned();
    assert!(id.starts_with("s-"), "{suppression}");
    assert!(
        suppression["created_by"]
            .as_str()
            .is_some_and(|a| a.starts_with("arn:aws:")),
        "the caller's identity: {suppression}"
    );

    // The next scan keeps them, suppressed, out of the open findings.
    let second = json(&scan());
    let after = states(&env, "cert.imported-expiring").await;
    assert!(
        after
            .iter()
            .all(|(_, s, by)| s == "suppressed" && by.as_deref() == Some(id.as_str())),
        "{after:?}"
    );
    assert_eq!(
        second["findings"].as_array().map_or(0, Vec::len),
        open_before - after.len(),
        "{}",
        second["findings"]
    );
    assert_eq!(second["scan"]["counts"]["suppressed"], after.len());
    assert!(
        transitions(&env, "cert.imported-expiring")
            .await
            .ends_with(&["suppressed".to_owned()])
    );
    let listed = json(&run(
        &["findings", "--table", TABLE, "--format", "json"],
        &vars,
    ));
    assert!(
        listed["findings"]
            .as_array()
            .expect("list")
            .iter()
            .all(|f| f["state"] == "open"),
        "{listed}"
    );
    let with = json(&run(
        &[
            "findings",
            "--table",
            TABLE,
            "--format",
            "json",
            "--include-suppressed",
        ],
        &vars,
    ));
    let shown: Vec<&serde_json::Value> = with["findings"]
        .as_array()
        .expect("list")
        .iter()
        .filter(|f| f["state"] == "suppressed")
        .collect();
    assert_eq!(shown.len(), after.len(), "{with}");
    assert_eq!(shown[0]["suppression"]["id"], id.as_str());
    assert_eq!(
        shown[0]["suppression"]["reason"],
        "owned by the payments team (PAY-12)"
    );
    let listed = json(&run(
        &["suppress", "list", "--table", TABLE, "--format", "json"],
        &vars,
    ));
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");

    // Acknowledge another open finding: it stays open, with who and why.
    let target = with["findings"]
        .as_array()
        .expect("list")
        .iter()
        .find(|f| f["state"] == "open")
        .expect("an open finding")
        .clone();
    let short = target["id"].as_str().expect("short id");
    let acked = run(
        &[
            "findings",
            "ack",
            short,
            "--reason",
            "renewal in progress (OPS-9)",
            "--for",
            "7d",
            "--table",
            TABLE,
        ],
        &vars,
    );
    assert_eq!(acked.status.code(), Some(0), "{}", text(&acked));
    let bad = run(
        &[
            "findings",
            "ack",
            "0000deadbeef",
            "--reason",
            "x",
            "--table",
            TABLE,
        ],
        &vars,
    );
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    let now = json(&run(
        &["findings", "--table", TABLE, "--format", "json"],
        &vars,
    ));
    let same = now["findings"]
        .as_array()
        .expect("list")
        .iter()
        .find(|f| f["id"] == short)
        .expect("still open");
    assert_eq!(
        same["acknowledged"]["reason"],
        "renewal in progress (OPS-9)"
    );
    // A rescan that changes nothing keeps the acknowledgement.
    scan();
    let kept = json(&run(
        &["findings", "--table", TABLE, "--format", "json"],
        &vars,
    ));
    assert!(
        kept["findings"]
            .as_array()
            .expect("list")
            .iter()
            .any(|f| f["id"] == short && f["acknowledged"].is_object()),
        "{kept}"
    );

    // Removed while the problem persists: open again, once.
    let removed = run(&["suppress", "remove", &id, "--table", TABLE], &vars);
    assert_eq!(removed.status.code(), Some(0), "{}", text(&removed));
    let missing = run(&["suppress", "remove", &id, "--table", TABLE], &vars);
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
    let third = json(&scan());
    assert_eq!(
        third["findings"].as_array().map_or(0, Vec::len),
        open_before,
        "{}",
        third["findings"]
    );
    assert!(
        states(&env, "cert.imported-expiring")
            .await
            .iter()
            .all(|(_, s, by)| s == "open" && by.is_none())
    );
    scan();
    let history = transitions(&env, "cert.imported-expiring").await;
    assert_eq!(
        history.iter().filter(|t| *t == "unsuppressed").count(),
        after.len(),
        "one each, none repeated: {history:?}"
    );

    // A table migration is a change too (a dry run is not).
    for args in [vec!["--dry-run"], vec![]] {
        let mut full = vec![
            "table",
            "migrate",
            "--account",
            "111122223333",
            "--table",
            TABLE,
        ];
        full.extend(args);
        let out = run(&full, &vars);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }

    // Every change a person made, with who.
    let audit = json(&run(
        &["audit", "--table", TABLE, "--format", "json"],
        &vars,
    ));
    let actions: Vec<&str> = audit
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        actions,
        [
            "suppression-added",
            "finding-acknowledged",
            "suppression-removed",
            "table-migrate"
        ],
        "{audit}"
    );
    assert!(audit.as_array().expect("entries").iter().all(|e| {
        e["actor"]
            .as_str()
            .is_some_and(|a| a.starts_with("arn:aws:"))
    }));
    assert_eq!(audit[2]["before"]["id"], id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suppressions_document_applies_and_a_bad_one_is_refused_with_its_line() {
    let (env, _estate) = Env::with_demo_estate().await;
    let file = std::env::temp_dir().join(format!("zw-suppressions-{}.yaml", std::process::id()));
    let until = (zw_core::ports::Clock::now(&zw_aws::SystemClock) + chrono::Duration::days(60))
        .format("%Y-%m-%d");
    std::fs::write(
        &file,
        format!(
            "- id: imported-certs\n  code: cert.imported-*\n  reason: owned by payments\n  owner: payments@example.com\n  until: {until}\n"
        ),
    )
    .expect("write");
    let mut vars = moto_env(&env.moto.endpoint);
    vars.push(("ZW_SUPPRESSIONS_FILE", file.display().to_string()));
    let vars = refs(&vars);
    let out = run(
        &["scan", "certificates", "--table", TABLE, "--format", "json"],
        &vars,
    );
    let report = json(&out);
    assert_eq!(
        report["scan"]["errors"],
        serde_json::json!([]),
        "{}",
        text(&out)
    );
    let got = states(&env, "cert.imported-expiring").await;
    assert!(!got.is_empty());
    assert!(
        got.iter()
            .all(|(_, s, by)| s == "suppressed" && by.as_deref() == Some("file:imported-certs")),
        "{got:?}"
    );
    let listed = json(&run(
        &["suppress", "list", "--table", TABLE, "--format", "json"],
        &vars,
    ));
    assert_eq!(listed[0]["source"], "file", "{listed}");
    let refused = run(
        &[
            "suppress",
            "remove",
            "file:imported-certs",
            "--table",
            TABLE,
        ],
        &vars,
    );
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));

    // A broken document: refused with its line, and nothing changes state.
    std::fs::write(
        &file,
        "- id: imported-certs\n  code: cert.imported-*\n  reasn: typo\n",
    )
    .expect("write");
    let listed = run(&["suppress", "list", "--table", TABLE], &vars);
    assert_eq!(listed.status.code(), Some(2), "{}", text(&listed));
    assert!(
        String::from_utf8_lossy(&listed.stderr).contains("line 3"),
        "{}",
        text(&listed)
    );
    let out = run(
        &["scan", "certificates", "--table", TABLE, "--format", "json"],
        &vars,
    );
    let report = json(&out);
    let errors = report["scan"]["errors"].to_string();
    assert!(
        errors.contains("suppressions document") && errors.contains("line 3"),
        "{errors}"
    );
    assert_eq!(
        states(&env, "cert.imported-expiring").await,
        got,
        "kept as they were"
    );
}

/// Export writes every item as one JSON line with its kind; purge without
/// --yes only counts (exit 2); with it, deletes everything but leaves the
/// table and one audit entry saying who purged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_writes_everything_and_purge_leaves_only_its_own_trace() {
    let (env, _estate) = Env::with_demo_estate().await;
    let vars = moto_env(&env.moto.endpoint);
    let vars = refs(&vars);
    let scan = run(&["scan", "certificates", "--table", TABLE], &vars);
    assert_eq!(scan.status.code(), Some(0), "{}", text(&scan));
    let added = run(
        &[
            "suppress",
            "add",
            "--table",
            TABLE,
            "--code",
            "cert.unused",
            "--reason",
            "spare",
            "--for",
            "7d",
        ],
        &vars,
    );
    assert_eq!(added.status.code(), Some(0), "{}", text(&added));
    let file = std::env::temp_dir().join(format!("zw-export-{}.jsonl", std::process::id()));
    let path = file.display().to_string();
    let export = |extra: &[&str]| {
        let mut args = vec!["export", "--table", TABLE, "--out", path.as_str()];
        args.extend(extra);
        let out = run(&args, &vars);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        std::fs::read_to_string(&file)
            .expect("export file")
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).expect("one JSON object per line")
            })
            .collect::<Vec<_>>()
    };
    let all = export(&[]);
    let kinds: std::collections::BTreeSet<&str> = all
        .iter()
        .map(|l| l["kind"].as_str().expect("kind"))
        .collect();
    for kind in ["finding", "history", "scan", "suppression", "audit"] {
        assert!(kinds.contains(kind), "{kind} missing from {kinds:?}");
    }
    assert!(all.iter().all(|l| l["format"] == "zonewarden-export/1"));
    let findings = all.iter().filter(|l| l["kind"] == "finding").count();
    assert_eq!(findings, items(&env.ddb(), "FINDING").await.len());
    let only = export(&["--kind", "audit"]);
    assert_eq!(only.len(), 1, "{only:?}");
    assert_eq!(only[0]["item"]["action"], "suppression-added");
    let bad = run(
        &[
            "export",
            "--table",
            TABLE,
            "--out",
            path.as_str(),
            "--kind",
            "everything",
        ],
        &vars,
    );
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));

    let dry = run(&["purge", "--all", "--table", TABLE], &vars);
    assert_eq!(dry.status.code(), Some(2), "{}", text(&dry));
    assert!(
        String::from_utf8_lossy(&dry.stdout)
            .contains(&format!("Would delete {} item(s)", all.len())),
        "{}",
        text(&dry)
    );
    assert_eq!(
        export(&[]).len(),
        all.len(),
        "nothing deleted without --yes"
    );
    let purged = run(&["purge", "--all", "--yes", "--table", TABLE], &vars);
    assert_eq!(purged.status.code(), Some(0), "{}", text(&purged));
    let left = export(&[]);
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["kind"], "audit");
    assert_eq!(left[0]["item"]["action"], "purge");
    assert!(
        left[0]["item"]["actor"]
            .as_str()
            .is_some_and(|a| a.starts_with("arn:aws:"))
    );
    // The table is still there: a scan writes into it again.
    let again = run(&["scan", "certificates", "--table", TABLE], &vars);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    let _ = std::fs::remove_file(&file);
}

/// The inventory the scans keep: every certificate with its end date, the
/// health checks, the expiry calendar soonest first; JSON, CSV and table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inventory_lists_what_the_scans_looked_at() {
    let (env, _estate) = Env::with_demo_estate().await;
    let vars = moto_env(&env.moto.endpoint);
    let vars = refs(&vars);
    let empty = run(&["inventory", "certificates", "--table", TABLE], &vars);
    assert_eq!(empty.status.code(), Some(0), "{}", text(&empty));
    assert!(
        String::from_utf8_lossy(&empty.stdout).contains("Nothing in the inventory"),
        "{}",
        text(&empty)
    );

    let scan = json(&run(
        &["scan", "certificates", "--table", TABLE, "--format", "json"],
        &vars,
    ));
    let certificates = scan["scan"]["counts"]["certificates"]
        .as_u64()
        .expect("count");
    // The report, live: built from a read-only scan, without the table.
    let html = std::env::temp_dir().join(format!("zw-live-report-{}.html", std::process::id()));
    let path = html.display().to_string();
    let live_report = run(
        &[
            "report",
            "--live",
            "--family",
            "certificates",
            "--html",
            path.as_str(),
        ],
        &vars,
    );
    assert_eq!(live_report.status.code(), Some(0), "{}", text(&live_report));
    let page = std::fs::read_to_string(&html).expect("report");
    assert!(page.contains("a live read-only scan"), "says what it is");
    for f in scan["findings"].as_array().expect("findings") {
        assert!(
            page.contains(f["code"].as_str().expect("code")),
            "{}",
            f["code"]
        );
    }
    let _ = std::fs::remove_file(&html);
    // Live: a read-only scan sees the same certificates and writes nothing.
    let estate = items(&env.ddb(), "ESTATE#certificates").await.len();
    let live = json(&run(
        &["inventory", "certificates", "--live", "--format", "json"],
        &vars,
    ));
    assert_eq!(
        live.as_array().map(Vec::len),
        Some(certificates as usize),
        "{live}"
    );
    assert_eq!(
        items(&env.ddb(), "ESTATE#certificates").await.len(),
        estate,
        "--live writes nothing"
    );
    let listed = json(&run(
        &[
            "inventory",
            "certificates",
            "--table",
            TABLE,
            "--format",
            "json",
        ],
        &vars,
    ));
    let listed = listed.as_array().expect("list");
    assert_eq!(listed.len() as u64, certificates, "{listed:?}");
    assert!(
        listed
            .iter()
            .all(|e| e["kind"] == "certificates" && e["details"]["status"].is_string())
    );
    assert!(
        listed.iter().any(|e| e["details"]["type"] == "IMPORTED"),
        "{listed:?}"
    );
    // Serials as served certificates carry them: hex, no leading zeros.
    assert!(
        listed.iter().any(|e| e["details"]["serial"]
            .as_str()
            .is_some_and(|s| !s.is_empty()
                && !s.starts_with('0')
                && s.chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()))),
        "{listed:?}"
    );

    let soon = json(&run(
        &[
            "inventory",
            "calendar",
            "--expiring-within",
            "30d",
            "--table",
            TABLE,
            "--format",
            "json",
        ],
        &vars,
    ));
    let days: Vec<i64> = soon
        .as_array()
        .expect("list")
        .iter()
        .map(|e| e["days_left"].as_i64().expect("days"))
        .collect();
    assert!(
        !days.is_empty(),
        "the demo estate has certificates ending soon"
    );
    assert!(
        days.windows(2).all(|w| w[0] <= w[1]),
        "soonest first: {days:?}"
    );
    assert!(days.iter().all(|d| *d <= 30), "{days:?}");
    assert!(days.len() < listed.len(), "the window leaves some out");

    let csv = run(
        &[
            "inventory",
            "certificates",
            "--table",
            TABLE,
            "--format",
            "csv",
        ],
        &vars,
    );
    let csv = String::from_utf8_lossy(&csv.stdout).into_owned();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "name,id,region,not_after,days_left,type,status,in_use_by,renewal_eligibility,checked_at"
        )
    );
    assert_eq!(lines.count() as u64, certificates);
    let table = run(&["inventory", "certificates", "--table", TABLE], &vars);
    assert!(
        String::from_utf8_lossy(&table.stdout).starts_with("NAME"),
        "{}",
        text(&table)
    );
    let bad = run(
        &[
            "inventory",
            "certificates",
            "--expiring-within",
            "soon",
            "--table",
            TABLE,
        ],
        &vars,
    );
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
}
