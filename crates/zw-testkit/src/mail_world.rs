//! The mail family's world, for its integration test and the demo: two
//! public hosted zones and an SES domain identity in moto, the internet's
//! answers from one authoritative server on loopback (an SPF include chain
//! past the lookup limit, DMARC at `p=none`, an MTA-STS policy missing an
//! MX host, a parked name anyone can spoof), the MTA-STS policy from an
//! HTTPS server on port 443 with its own CA. [`MailWorld::fix`] publishes
//! the corrected records.

use crate::certs::TestCa;
use crate::dns_world::{create_public_zone, rec, upsert};
use crate::error::{Result, TestkitError};
use crate::tls_lab::{self, Behaviour, TlsServer};
use chrono::{DateTime, Duration, Utc};
use std::net::{IpAddr, SocketAddr};
use zw_dns_lab::{AuthServer, LabZone};

/// The zone whose mail is broken.
pub const MAIL_ZONE: &str = "mail.test";
/// A web-only name without any mail record.
pub const PARKED_ZONE: &str = "parked.test";
/// The SES domain identity (eu-west-1), inside [`MAIL_ZONE`].
pub const SES_IDENTITY: &str = "news.mail.test";

/// The policy file served at `https://mta-sts.mail.test/.well-known/mta-sts.txt`:
/// it lists mx1 only, while the zone's MX also names mx2.
pub const POLICY: &str = "version: STSv1\nmode: enforce\nmx: mx1.mail.test\nmax_age: 86400\n";

/// The findings the broken world gives, (resource, code).
pub const EXPECTED: [(&str, &str); 5] = [
    (MAIL_ZONE, "mail.spf-too-many-lookups"),
    (MAIL_ZONE, "mail.dmarc-monitor-only"),
    (MAIL_ZONE, "mail.mta-sts-broken"),
    // mail.test's `p=none` applies to its subdomain too.
    (SES_IDENTITY, "mail.dmarc-monitor-only"),
    (PARKED_ZONE, "mail.spoofable-domain"),
];

/// The running world; its servers stop when dropped.
#[derive(Debug)]
pub struct MailWorld {
    pub dns: AuthServer,
    pub https: TlsServer,
    /// The test CA's certificate (PEM), for `ZW_TLS_EXTRA_ROOTS`.
    pub roots_file: std::path::PathBuf,
    /// The hosted zones' ids in moto: [`MAIL_ZONE`], [`PARKED_ZONE`].
    pub zone_ids: Vec<String>,
}

impl MailWorld {
    /// The settings that point zonewarden at this world.
    pub fn vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("ZW_DNS_ROOT_HINTS", self.dns.addr().to_string()),
            ("ZW_DNS_TIMEOUT_MS", "1000".into()),
            ("ZW_PROBE_ALLOW_CIDRS", "127.0.0.0/8".into()),
            ("ZW_TLS_EXTRA_ROOTS", self.roots_file.display().to_string()),
            ("ZW_TLS_TIMEOUT_MS", "5000".into()),
        ]
    }

    pub fn exports(&self) -> String {
        self.vars()
            .iter()
            .map(|(k, v)| format!("export {k}='{v}'\n"))
            .collect()
    }

    /// Publishes the corrected records: a new server (another loopback
    /// address: see `vars` for its root hints) replaces the old one.
    pub fn fix(&mut self) -> Result<()> {
        let https = self.https.address.ip();
        self.dns.shutdown();
        self.dns = AuthServer::start_on_port_53(vec![internet(https, true)]).map_err(lab)?;
        Ok(())
    }
}

fn lab(e: zw_dns_lab::LabError) -> TestkitError {
    TestkitError::Invalid(format!("mail world DNS: {e}"))
}

/// The internet of the world: one server authoritative for the root, so
/// every name is answered there.
pub fn internet(mta_sts: IpAddr, fixed: bool) -> LabZone {
    let mut zone = LabZone::new(".")
        .soa("a.root-servers.test.", "hostmaster.root-servers.test.", 1)
        .ns("@", "a.root-servers.test.")
        .record("mx1.mail.test.", "A", "192.0.2.25")
        .record("mx2.mail.test.", "A", "192.0.2.26")
        .record("_mta-sts.mail.test.", "TXT", "\"v=STSv1; id=20261204;\"")
        .record("mta-sts.mail.test.", "A", &mta_sts.to_string())
        .record(
            "_smtp._tls.mail.test.",
            "TXT",
            "\"v=TLSRPTv1; rua=mailto:tls@mail.test\"",
        )
        .record(
            "news.mail.test.",
            "TXT",
            "\"v=spf1 include:amazonses.test -all\"",
        )
        .record(
            "amazonses.test.",
            "TXT",
            "\"v=spf1 ip4:199.255.192.0/22 -all\"",
        )
        // The parked name exists (a web site), without mail.
        .record("parked.test.", "A", "192.0.2.80");
    // A vendor whose SPF includes ten more levels: 11 lookups from mail.test.
    for level in 1..=10 {
        zone = zone.record(
            &format!("l{level}.vendor.test."),
            "TXT",
            &format!("\"v=spf1 include:l{}.vendor.test -all\"", level + 1),
        );
    }
    zone = zone.record(
        "l11.vendor.test.",
        "TXT",
        "\"v=spf1 ip4:198.51.100.0/24 -all\"",
    );
    if fixed {
        zone.record("mail.test.", "MX", "10 mx1.mail.test.")
            .record(
                "mail.test.",
                "TXT",
                "\"v=spf1 include:l10.vendor.test -all\"",
            )
            .record(
                "_dmarc.mail.test.",
                "TXT",
                "\"v=DMARC1; p=reject; rua=mailto:d@mail.test\"",
            )
            .record("parked.test.", "TXT", "\"v=spf1 -all\"")
            .record("parked.test.", "MX", "0 .")
            .record("_dmarc.parked.test.", "TXT", "\"v=DMARC1; p=reject;\"")
    } else {
        zone.record("mail.test.", "MX", "10 mx1.mail.test.")
            .record("mail.test.", "MX", "20 mx2.mail.test.")
            .record(
                "mail.test.",
                "TXT",
                "\"v=spf1 include:l1.vendor.test -all\"",
            )
            .record(
                "_dmarc.mail.test.",
                "TXT",
                "\"v=DMARC1; p=none; rua=mailto:d@mail.test\"",
            )
    }
}

/// Seeds moto (the zones, their MX and SPF, the SES identity) and starts
/// the servers, in the broken state.
pub async fn mail_world(sdk: &aws_config::SdkConfig, now: DateTime<Utc>) -> Result<MailWorld> {
    let r53 = aws_sdk_route53::Client::new(sdk);
    let mut zone_ids = Vec::new();
    for name in [MAIL_ZONE, PARKED_ZONE] {
        let reference = format!("mail-world-{name}-{}", now.timestamp_millis());
        zone_ids.push(create_public_zone(&r53, name, reference).await?);
    }
    if let Some(mail) = zone_ids.first() {
        upsert(
            &r53,
            mail,
            &[
                rec(
                    "mail.test.",
                    "MX",
                    &["10 mx1.mail.test.", "20 mx2.mail.test."],
                ),
                rec(
                    "mail.test.",
                    "TXT",
                    &["\"v=spf1 include:l1.vendor.test -all\""],
                ),
            ],
        )
        .await?;
    }
    crate::ses::create_domain_identity(sdk, "eu-west-1", SES_IDENTITY).await?;

    let ca = TestCa::new("zonewarden mail world CA", now)?;
    let leaf = ca.leaf(
        "mta-sts.mail.test",
        &[],
        now - Duration::days(1),
        now + Duration::days(90),
    )?;
    // Port 443 (MTA-STS has no other), on a random loopback address.
    let mut https = None;
    let mut last = None;
    for _ in 0..32 {
        match tls_lab::start(
            SocketAddr::new(zw_dns_lab::random_loopback_ip(), 443),
            Behaviour::Http(
                vec![("mta-sts.mail.test".into(), leaf.clone(), None)],
                POLICY.into(),
            ),
        )
        .await
        {
            Ok(s) => {
                https = Some(s);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let https = match (https, last) {
        (Some(s), _) => s,
        (None, Some(e)) => return Err(e),
        (None, None) => return Err(TestkitError::Invalid("no HTTPS server".into())),
    };
    let roots_file = std::env::temp_dir().join(format!(
        "zw-mail-world-roots-{}-{}.pem",
        std::process::id(),
        https.address.ip()
    ));
    std::fs::write(&roots_file, ca.pem())
        .map_err(|e| TestkitError::Invalid(format!("{}: {e}", roots_file.display())))?;
    let dns =
        AuthServer::start_on_port_53(vec![internet(https.address.ip(), false)]).map_err(lab)?;
    Ok(MailWorld {
        dns,
        https,
        roots_file,
        zone_ids,
    })
}
