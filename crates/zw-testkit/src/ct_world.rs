//! The Certificate Transparency watch's world, for its integration test, the
//! egress contract and the demo: a public hosted zone in moto, the
//! internet's answers (the zone's CAA) from an authoritative server on
//! loopback, and a stand-in of the crt.sh search, JSON over HTTPS on
//! loopback with a certificate of its own CA; [`CtWorld::log`] sets what it
//! answers.

use crate::certs::TestCa;
use crate::error::{Result, TestkitError};
use crate::tls_lab::{self, Behaviour, TlsServer};
use chrono::{DateTime, Duration, Utc};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use zw_dns_lab::{AuthServer, LabZone};

/// The watched zone.
pub const CT_ZONE: &str = "ct.test";
/// Its CAA: Amazon only.
pub const CAA: &str = "0 issue \"amazon.com\"";
/// An issuer the CAA does not allow.
pub const LETS_ENCRYPT: &str = "C=US, O=Let's Encrypt, CN=R11";

/// A certificate as the stand-in logs it.
#[derive(Debug, Clone)]
pub struct Logged {
    pub id: u64,
    pub issuer: &'static str,
    /// Hex, as crt.sh writes it.
    pub serial: &'static str,
    pub names: Vec<String>,
    pub logged_at: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
}

impl Logged {
    /// A certificate for `names` logged at `logged_at`, valid 90 days.
    pub fn new(id: u64, serial: &'static str, names: &[&str], logged_at: DateTime<Utc>) -> Self {
        Self {
            id,
            issuer: LETS_ENCRYPT,
            serial,
            names: names.iter().map(|n| (*n).to_owned()).collect(),
            logged_at,
            not_after: logged_at + Duration::days(90),
        }
    }

    /// Its entries in crt.sh's JSON format: a precertificate and the
    /// certificate, as the logs hold both.
    fn entries(&self) -> [serde_json::Value; 2] {
        let time = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string();
        let entry = |id: u64| {
            serde_json::json!({
                "issuer_ca_id": 295_815,
                "issuer_name": self.issuer,
                "common_name": self.names.first(),
                "name_value": self.names.join("\n"),
                "id": id,
                "entry_timestamp": time(self.logged_at),
                "not_before": time(self.logged_at),
                "not_after": time(self.not_after),
                "serial_number": self.serial,
                "result_count": 2,
            })
        };
        [entry(self.id), entry(self.id + 1)]
    }
}

/// The running world; its servers stop when dropped.
#[derive(Debug)]
pub struct CtWorld {
    pub dns: AuthServer,
    pub search: TlsServer,
    /// The stand-in's CA certificate (PEM), for `ZW_TLS_EXTRA_ROOTS`.
    pub roots_file: std::path::PathBuf,
    pub zone_id: String,
}

impl CtWorld {
    /// The search endpoint, as `ZW_CT_SEARCH_URL`.
    pub fn search_url(&self) -> String {
        format!("https://localhost:{}/search", self.search.address.port())
    }

    /// The settings that point zonewarden at this world, the watch on.
    pub fn vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("ZW_CT_SEARCH_URL", self.search_url()),
            ("ZW_CT_SEARCH_INTERVAL_SECONDS", "0".into()),
            ("ZW_DNS_ROOT_HINTS", self.dns.addr().to_string()),
            ("ZW_DNS_TIMEOUT_MS", "1000".into()),
            ("ZW_PROBE_ALLOW_CIDRS", "127.0.0.0/8".into()),
            ("ZW_TLS_EXTRA_ROOTS", self.roots_file.display().to_string()),
        ]
    }

    pub fn exports(&self) -> String {
        self.vars()
            .iter()
            .map(|(k, v)| format!("export {k}='{v}'\n"))
            .collect()
    }

    /// What the stand-in answers from now on, to every search.
    pub fn log(&self, certificates: &[Logged]) {
        let entries: Vec<serde_json::Value> =
            certificates.iter().flat_map(Logged::entries).collect();
        self.search
            .set_body(serde_json::Value::Array(entries).to_string());
    }
}

impl Drop for CtWorld {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.roots_file);
    }
}

fn lab(e: zw_dns_lab::LabError) -> TestkitError {
    TestkitError::Invalid(format!("CT world DNS: {e}"))
}

/// Seeds moto (the zone) and starts the servers; the stand-in answers an
/// empty list until [`CtWorld::log`].
pub async fn ct_world(sdk: &aws_config::SdkConfig, now: DateTime<Utc>) -> Result<CtWorld> {
    let r53 = aws_sdk_route53::Client::new(sdk);
    let reference = format!("ct-world-{}", now.timestamp_millis());
    let zone_id = crate::dns_world::create_public_zone(&r53, CT_ZONE, reference).await?;

    let ca = TestCa::new("zonewarden CT stand-in CA", now)?;
    let leaf = ca.leaf(
        "localhost",
        &[],
        now - Duration::days(1),
        now + Duration::days(90),
    )?;
    let search = tls_lab::start(
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
        Behaviour::Http(vec![("localhost".into(), leaf, None)], "[]".into()),
    )
    .await?;
    let roots_file = std::env::temp_dir().join(format!(
        "zw-ct-world-roots-{}-{}.pem",
        std::process::id(),
        search.address.port()
    ));
    std::fs::write(&roots_file, ca.pem())
        .map_err(|e| TestkitError::Invalid(format!("{}: {e}", roots_file.display())))?;
    let internet = LabZone::new(".")
        .soa("a.root-servers.test.", "hostmaster.root-servers.test.", 1)
        .ns("@", "a.root-servers.test.")
        .record("ct.test.", "CAA", CAA)
        .record("www.ct.test.", "A", "192.0.2.10");
    let dns = AuthServer::start_on_port_53(vec![internet]).map_err(lab)?;
    Ok(CtWorld {
        dns,
        search,
        roots_file,
        zone_id,
    })
}
