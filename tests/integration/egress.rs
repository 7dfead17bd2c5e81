//! The egress contract (docs/licensing.md): what the vendor receives from a
//! deployment is exactly the documented body, never a name of the estate;
//! with fleet visibility off only key and version; with no endpoint, nothing
//! at all. The vendor is the real service (`zw-vendor serve`, its DynamoDB in
//! the same moto), capturing every body it receives; the customer side is the
//! real `zonewarden` binary.

use crate::cli::{binary, moto_env};
use crate::support::{Env, TABLE, attr, items};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use zw_license::KeyPair;
use zw_license::schema::{REQUEST_FIELDS, ValidationRequest};

const VENDOR_TABLE: &str = "zw-vendor-egress";

fn vendor_binary() -> PathBuf {
    let bin = binary().with_file_name("zw-vendor");
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo build --bins`",
        bin.display()
    );
    bin
}

/// The vendor's environment: its own settings and moto.
fn vendor_env(moto: &str, kp: &KeyPair) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = moto_env(moto)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    v.push(("ZW_VENDOR_TABLE".into(), VENDOR_TABLE.into()));
    v.push(("ZW_VENDOR_SIGNING_KEY".into(), kp.to_base64()));
    v
}

fn vendor(args: &[&str], env: &[(String, String)]) -> serde_json::Value {
    let out = Command::new(vendor_binary())
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .args(args)
        .output()
        .expect("zw-vendor runs");
    assert!(
        out.status.success(),
        "zw-vendor {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("zw-vendor prints JSON")
}

struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn serve(env: &[(String, String)], dir: &Path) -> (Served, String) {
    let ready = dir.join("ready");
    let child = Command::new(vendor_binary())
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .args(["serve", "--addr", "127.0.0.1:0", "--capture"])
        .arg(dir.join("capture.jsonl"))
        .arg("--ready-file")
        .arg(&ready)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("zw-vendor serve");
    let served = Served(child);
    for _ in 0..300 {
        if let Ok(addr) = std::fs::read_to_string(&ready)
            && !addr.trim().is_empty()
        {
            return (served, addr.trim().to_owned());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("zw-vendor serve did not become ready");
}

fn captured(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("capture.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("capture line");
            v["body"].as_str().expect("body string").to_owned()
        })
        .collect()
}

/// The customer's `zonewarden`, clean environment: moto, the table, local
/// DNS roots and no AWS address ranges download, plus `extra`.
fn zonewarden(args: &[&str], moto: &str, extra: &[(&str, &str)], strace: Option<&Path>) -> Output {
    let mut cmd = match strace {
        Some(log) => {
            let mut c = Command::new("strace");
            c.args(["-f", "-qq", "-e", "trace=connect", "-o"])
                .arg(log)
                .arg(binary());
            c
        }
        None => Command::new(binary()),
    };
    cmd.env_clear()
        .args(args)
        .env("NO_COLOR", "1")
        .env("HOME", "/nonexistent")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("ZW_TABLE_NAME", TABLE)
        .env("ZW_REGIONS", "eu-west-1,us-east-1")
        .env("ZW_DNS_ROOT_HINTS", "127.0.0.1:9")
        .env("ZW_DNS_TIMEOUT_MS", "100")
        .env("ZW_TLS_TIMEOUT_MS", "300")
        .env("ZW_AWS_IP_RANGES_URL", "http://127.0.0.1:9/ip-ranges.json");
    for (k, v) in moto_env(moto) {
        cmd.env(k, v);
    }
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd.output().expect("zonewarden runs")
}

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The words of a finding's message or evidence that name something of the
/// estate (a domain, an ARN, an address, an id), as opposed to prose: a
/// token with a `.`, `:` or `/` in it, or digits and a `-` (UUIDs, dates).
fn names_in(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| c.is_whitespace() || "\"'`,;()[]{}<>=".contains(c))
        .map(|t| t.trim_end_matches(['.', ':']))
        .filter(|t| {
            t.len() >= 4
                && (t.contains(['.', ':', '/'])
                    || (t.contains('-') && t.contains(|c: char| c.is_ascii_digit())))
        })
        .map(str::to_owned)
}

/// Every string of a JSON value (a finding's evidence).
fn json_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|v| json_strings(v, out)),
        serde_json::Value::Object(o) => o.values().for_each(|v| json_strings(v, out)),
        _ => {}
    }
}

/// Every string of the estate that must never reach the vendor: resources,
/// names, codes and regions of every finding, its message and the names in
/// its message and evidence, the zone and its records' values, every
/// certificate's ARN and domain, the account id. The second set is what
/// came from the messages and evidence alone (so the test can show it
/// searched them).
async fn estate_strings(
    env: &Env,
    estate: &zw_testkit::seed::DemoEstate,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut out = BTreeSet::new();
    let mut from_messages = BTreeSet::new();
    for item in items(&env.ddb(), "FINDING").await {
        // The license's own findings are about zonewarden, not the estate
        // (their resource is `license`, a word the body's key carries).
        if attr(&item, "code").starts_with("license.") {
            continue;
        }
        for a in ["resource_id", "resource_name", "code", "scope"] {
            out.insert(attr(&item, a).to_owned());
        }
        let message = attr(&item, "message");
        from_messages.insert(message.to_owned());
        from_messages.extend(names_in(message));
        let mut evidence = Vec::new();
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(attr(&item, "evidence")) {
            json_strings(&v, &mut evidence);
        }
        for e in &evidence {
            from_messages.extend(names_in(e));
        }
    }
    from_messages.retain(|s| s.len() >= 4);
    out.extend(from_messages.iter().cloned());
    out.insert(estate.zone_name.trim_end_matches('.').to_owned());
    out.insert(estate.zone_id.clone());
    for c in &estate.certificates {
        out.insert(c.arn.clone());
        out.insert(c.domain.clone());
        if let Some(account) = c.arn.split(':').nth(4) {
            out.insert(account.to_owned());
        }
    }
    let r53 = aws_sdk_route53::Client::new(&env.sdk);
    for r in zw_testkit::seed::list_records(&r53, &estate.zone_id)
        .await
        .expect("records")
    {
        out.insert(r.name().trim_end_matches('.').to_owned());
        for v in r.resource_records() {
            out.insert(v.value().trim_end_matches('.').to_owned());
        }
    }
    out.retain(|s| s.len() >= 4);
    (out, from_messages)
}

fn assert_contract(
    body: &str,
    key: &str,
    forbidden: &BTreeSet<String>,
) -> serde_json::Map<String, serde_json::Value> {
    // The vendor's own strict parser takes it.
    let parsed =
        ValidationRequest::parse(body.as_bytes()).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(parsed.license_key, key);
    assert_eq!(parsed.product_version, env!("CARGO_PKG_VERSION"));
    assert!(body.len() <= 4096);
    let v: serde_json::Value = serde_json::from_str(body).expect("json");
    let object = v.as_object().expect("an object").clone();
    for (k, value) in &object {
        assert!(
            REQUEST_FIELDS.contains(&k.as_str()),
            "undocumented field {k}"
        );
        if !matches!(k.as_str(), "license_key" | "product_version") {
            assert!(value.is_u64(), "{k} is not an integer: {value}");
        }
    }
    for s in forbidden {
        assert!(
            !body.contains(s.as_str()),
            "the body sent to the vendor contains `{s}`: {body}"
        );
    }
    object
}

/// Every `connect()` to an internet address in an strace log, as `ip:port`.
fn connections(log: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(log).expect("strace log");
    let mut out = BTreeSet::new();
    for line in text.lines() {
        if !line.contains("connect(") || line.contains("AF_UNIX") {
            continue;
        }
        let port = line
            .split("htons(")
            .nth(1)
            .and_then(|r| r.split(')').next())
            .unwrap_or("?");
        let addr = line
            .split("inet_addr(\"")
            .nth(1)
            .or_else(|| line.split("inet_pton(AF_INET6, \"").nth(1))
            .and_then(|r| r.split('"').next())
            .unwrap_or("?");
        out.insert(format!("{addr}:{port}"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vendor_receives_the_documented_body_and_nothing_of_the_estate() {
    let (env, estate) = Env::with_demo_estate().await;
    let dir = std::env::temp_dir().join(format!("zw-egress-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let kp = KeyPair::generate().expect("keypair");
    let public = kp.public().to_base64url();
    let venv = vendor_env(&env.moto.endpoint, &kp);
    vendor(&["table", "create"], &venv);
    let customer = vendor(
        &[
            "customer",
            "create",
            "--name",
            "Egress Test Ltd",
            "--plan",
            "team",
            "--zones",
            "50",
            "--certificates",
            "500",
            "--accounts",
            "1",
            "--status",
            "active",
            "--renews-at",
            "2027-06-01",
        ],
        &venv,
    );
    let customer_id = customer["customer_id"]
        .as_str()
        .expect("customer_id")
        .to_owned();
    let issued = vendor(&["key", "issue", "--customer", &customer_id], &venv);
    let key = issued["license_key"]
        .as_str()
        .expect("license_key")
        .to_owned();
    let (_served, addr) = serve(&venv, &dir).await;
    let endpoint = format!("http://{addr}/v1/licenses/validate");
    let licensed = [
        ("ZW_LICENSE_ENDPOINT", endpoint.as_str()),
        ("ZW_LICENSE_KEY", key.as_str()),
        ("ZW_LICENSE_PUBLIC_KEY", public.as_str()),
    ];
    let moto = env.moto.endpoint.as_str();

    // Full scans of the estate first, so that there is something to count
    // (and to leak): every family, findings stored. Licensing is configured,
    // and still no scan connects to the vendor: the license function or
    // `license check` is the only caller.
    let vendor_port = addr.rsplit(':').next().expect("vendor port").to_owned();
    let log = dir.join("strace.log");
    ok(
        &zonewarden(&["scan", "all"], moto, &licensed, Some(&log)),
        "scan all",
    );
    assert!(captured(&dir).is_empty(), "a scan talked to the vendor");
    let seen = connections(&log);
    assert!(
        !seen.iter().any(|c| c.ends_with(&format!(":{vendor_port}"))),
        "scan all connected to the vendor ({addr}): {seen:?}"
    );
    let (forbidden, from_messages) = estate_strings(&env, &estate).await;
    assert!(forbidden.len() > 20, "{forbidden:?}");
    // The messages were searched, and they name the estate (domains, ARNs).
    assert!(
        from_messages
            .iter()
            .any(|m| m.contains(estate.zone_name.trim_end_matches('.'))),
        "{from_messages:?}"
    );

    // Fleet visibility on: key, version and the nine counts.
    let out = ok(
        &zonewarden(&["license", "check"], moto, &licensed, None),
        "license check",
    );
    assert!(out.contains("license stored (active)"), "{out}");
    let bodies = captured(&dir);
    assert_eq!(bodies.len(), 1);
    let object = assert_contract(&bodies[0], &key, &forbidden);
    assert_eq!(object.len(), REQUEST_FIELDS.len(), "{object:?}");
    assert_eq!(object["certificates"], estate.certificates.len() as u64);
    assert!(object["hosted_zones"].as_u64() >= Some(1), "{object:?}");

    // The audit trail shows exactly that body, the key masked.
    let sent = ok(
        &zonewarden(
            &["license", "sent", "--format", "json"],
            moto,
            &licensed,
            None,
        ),
        "sent",
    );
    let sent: serde_json::Value = serde_json::from_str(&sent).expect("json");
    let audit_body = sent[0]["body"].as_str().expect("body");
    assert!(
        !audit_body.contains(&key) && !sent.to_string().contains(&key),
        "{sent}"
    );
    let masked: serde_json::Value = serde_json::from_str(audit_body).expect("audit body json");
    let mut expected: serde_json::Value = serde_json::from_str(&bodies[0]).expect("json");
    expected["license_key"] = serde_json::json!(zw_license::mask_key(&key));
    assert_eq!(masked, expected);
    assert_eq!(sent[0]["bytes"], bodies[0].len());
    let status = ok(
        &zonewarden(&["license", "status"], moto, &licensed, None),
        "status",
    );
    assert!(status.contains("standing: valid, plan team"), "{status}");

    // Fleet visibility off: key and version, nothing else.
    let mut off = licensed.to_vec();
    off.push(("ZW_FLEET_VISIBILITY", "off"));
    ok(
        &zonewarden(&["license", "check"], moto, &off, None),
        "license check, fleet off",
    );
    let bodies = captured(&dir);
    assert_eq!(bodies.len(), 2);
    let object = assert_contract(&bodies[1], &key, &forbidden);
    assert_eq!(
        object.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        BTreeSet::from(["license_key", "product_version"])
    );

    // No endpoint: not one request leaves. Every connection of a scan of
    // every family goes to the AWS endpoint (moto) or to the local
    // addresses the settings name for DNS (root hints) and ip-ranges.json,
    // both 127.0.0.1:9 here; the license commands' to moto only.
    let moto_port = moto
        .rsplit(':')
        .next()
        .expect("port")
        .trim_end_matches('/')
        .to_owned();
    let moto_addr = format!("127.0.0.1:{moto_port}");
    let local_settings = "127.0.0.1:9".to_owned();
    for args in [
        vec!["scan", "all"],
        vec!["license", "status"],
        vec!["license", "sent"],
    ] {
        let _ = std::fs::remove_file(&log);
        let out = zonewarden(&args, moto, &[], Some(&log));
        ok(&out, &format!("{args:?} without licensing"));
        let seen = connections(&log);
        assert!(seen.contains(&moto_addr), "{args:?}: {seen:?}");
        let allowed = if args[0] == "scan" {
            BTreeSet::from([moto_addr.clone(), local_settings.clone()])
        } else {
            BTreeSet::from([moto_addr.clone()])
        };
        assert!(seen.is_subset(&allowed), "{args:?}: {seen:?}");
        // `scan all` ran every registered family (the summary line names
        // them: `certificates + dns + ... scan (...)`).
        if args[0] == "scan" {
            let text = String::from_utf8_lossy(&out.stdout);
            let ran: Vec<&str> = text
                .lines()
                .find_map(|l| l.split_once(" scan (").map(|(f, _)| f))
                .unwrap_or_else(|| panic!("no scan summary in: {text}"))
                .split(" + ")
                .collect();
            // Every family but the CT watch, off without its setting (the
            // CT test below runs it).
            for family in zw_app::FamilyKind::all() {
                let on = family != zw_app::FamilyKind::CT;
                assert_eq!(ran.contains(&family.as_str()), on, "{family:?}: {text}");
            }
        }
    }
    let _ = std::fs::remove_file(&log);
    let out = zonewarden(&["license", "check"], moto, &[], Some(&log));
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("ZW_LICENSE_ENDPOINT is empty"));
    assert!(
        connections(&log)
            .iter()
            .all(|c| c.ends_with(&format!(":{moto_port}"))),
        "{:?}",
        connections(&log)
    );
    assert_eq!(
        captured(&dir).len(),
        2,
        "the vendor received a request without an endpoint configured"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The Certificate Transparency search (docs/licensing.md): off by default,
/// a scan of every family sends it nothing; on, it receives one request per
/// public zone, each carrying that zone's apex and nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ct_search_receives_only_apex_names_and_nothing_when_off() {
    let (env, _estate) = Env::with_demo_estate().await;
    let now = zw_core::ports::Clock::now(&zw_aws::SystemClock);
    let world = zw_testkit::ct_world::ct_world(&env.sdk, now)
        .await
        .expect("CT world");
    let moto = env.moto.endpoint.as_str();
    let roots = world.roots_file.display().to_string();
    let trusted = [("ZW_TLS_EXTRA_ROOTS", roots.as_str())];

    // Off: every family scans, the stand-in hears nothing.
    let _ = zonewarden(&["scan", "all", "--no-write"], moto, &trusted, None);
    let _ = zonewarden(&["scan", "all"], moto, &trusted, None);
    assert!(
        world.search.requests().is_empty(),
        "{:?}",
        world.search.requests()
    );
    // `scan ct` says what is missing instead of doing anything.
    let off = zonewarden(&["scan", "ct"], moto, &trusted, None);
    assert_eq!(off.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&off.stderr).contains("ZW_CT_SEARCH_URL"));
    assert!(world.search.requests().is_empty());

    // On: one search per public zone apex, nothing else in it.
    let url = world.search_url();
    let mut on = trusted.to_vec();
    on.push(("ZW_CT_SEARCH_URL", url.as_str()));
    on.push(("ZW_CT_SEARCH_INTERVAL_SECONDS", "0"));
    // A read-only scan of every family leaves the watch out, and says so.
    let read_only = zonewarden(&["scan", "all", "--no-write"], moto, &on, None);
    assert!(
        String::from_utf8_lossy(&read_only.stderr).contains("CT watch is not run with --no-write"),
        "{}",
        String::from_utf8_lossy(&read_only.stderr)
    );
    assert!(world.search.requests().is_empty());
    let _ = zonewarden(&["scan", "ct"], moto, &on, None);
    let zones = aws_sdk_route53::Client::new(&env.sdk)
        .list_hosted_zones()
        .send()
        .await
        .expect("zones");
    let expected: BTreeSet<String> = zones
        .hosted_zones()
        .iter()
        .filter(|z| !z.config().is_some_and(|c| c.private_zone()))
        .map(|z| {
            format!(
                "/search?q=%25{}&output=json&exclude=expired",
                z.name().trim_end_matches('.').to_ascii_lowercase()
            )
        })
        .collect();
    assert!(expected.len() >= 2, "{expected:?}");
    let received = world.search.requests();
    assert_eq!(received.len(), expected.len(), "{received:?}");
    assert_eq!(received.into_iter().collect::<BTreeSet<_>>(), expected);
}
