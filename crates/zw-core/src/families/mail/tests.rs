//! The mail family's collection on fakes: which names are examined, what a
//! failure leaves unjudged, the per-scan cache of lookups.

use super::*;
use crate::families::fakes::{Internet, NoCache, Zones};
use crate::families::mail::model::Dkim;
use crate::finding::Detection;

/// SES: one identity in eu-west-1; us-east-1 denies the listing when asked to.
struct Ses {
    deny_us_east_1: bool,
}

impl MailIdentities for Ses {
    async fn domain_identities(&self, region: &Region) -> Result<Vec<SesIdentity>, PortError> {
        if region.as_str() == "us-east-1" {
            return if self.deny_us_east_1 {
                Err(PortError::new(
                    "sesv2",
                    "ListEmailIdentities",
                    ErrorKind::AccessDenied,
                    "denied",
                ))
            } else {
                Ok(Vec::new())
            };
        }
        Ok(vec![SesIdentity {
            name: "news.shop.example.".into(),
            region: region.clone(),
            dkim: Some(Dkim {
                signing_enabled: true,
                status: "PENDING".into(),
                origin: "AWS_SES".into(),
                tokens: vec!["t1".into(), "t2".into(), "t3".into()],
            }),
        }])
    }
}

struct Policies;
impl PolicyFetcher for Policies {
    async fn fetch(
        &self,
        host: &str,
        _address: SocketAddr,
        path: &str,
        _now: DateTime<Utc>,
    ) -> Result<String, FetchFailure> {
        assert_eq!((host, path), ("mta-sts.shop.example", MTA_STS_PATH));
        Ok("version: STSv1\nmode: enforce\nmx: mx1.shop.example\nmax_age: 86400\n".into())
    }
}

fn zone(id: &str, name: &str, private: bool) -> HostedZone {
    HostedZone {
        id: id.into(),
        name: name.into(),
        private,
        record_set_count: 3,
    }
}

fn set(name: &str, rtype: &str, values: &[&str]) -> RecordSet {
    RecordSet {
        name: name.into(),
        record_type: rtype.into(),
        values: values.iter().map(|v| (*v).to_owned()).collect(),
        ttl: Some(300),
        ..RecordSet::default()
    }
}

fn estate() -> Zones {
    Zones(vec![
        (
            zone("ZSHOP", "shop.example.", false),
            vec![
                set(
                    "shop.example.",
                    "MX",
                    &["10 mx1.shop.example.", "20 mx2.shop.example."],
                ),
                set(
                    "shop.example.",
                    "TXT",
                    &["\"v=spf1 include:_spf.vendor.example -all\""],
                ),
                set("eu.shop.example.", "MX", &["10 mx1.shop.example."]),
                set("_dmarc.shop.example.", "TXT", &["\"v=DMARC1; p=reject\""]),
            ],
        ),
        (zone("ZPARK", "parked.example.", false), Vec::new()),
        (
            zone("ZPRIV", "internal.example.", true),
            vec![set("internal.example.", "MX", &["10 mx.internal.example."])],
        ),
    ])
}

fn internet(dmarc_of_eu: &[&str]) -> Internet {
    let shop_spf: &[&str] = &["v=spf1 include:_spf.vendor.example -all"];
    let vendor: &[&str] = &["v=spf1 ip4:192.0.2.0/24 -all"];
    Internet::new(&[
        ("shop.example.", "TXT", shop_spf),
        (
            "shop.example.",
            "MX",
            &["10 mx1.shop.example.", "20 mx2.shop.example."],
        ),
        ("_dmarc.shop.example.", "TXT", &["v=DMARC1; p=reject"]),
        ("_spf.vendor.example.", "TXT", vendor),
        ("eu.shop.example.", "TXT", shop_spf),
        ("eu.shop.example.", "MX", &["10 mx1.shop.example."]),
        ("_dmarc.eu.shop.example.", "TXT", dmarc_of_eu),
        ("_mta-sts.shop.example.", "TXT", &["v=STSv1; id=1;"]),
        ("mta-sts.shop.example.", "A", &["192.0.2.80"]),
        (
            "_smtp._tls.shop.example.",
            "TXT",
            &["v=TLSRPTv1; rua=mailto:t@shop.example"],
        ),
        (
            "news.shop.example.",
            "TXT",
            &["v=spf1 include:amazonses.com -all"],
        ),
        (
            "amazonses.com.",
            "TXT",
            &["v=spf1 ip4:199.255.192.0/22 -all"],
        ),
        (
            "t1._domainkey.news.shop.example.",
            "CNAME",
            &["t1.dkim.amazonses.com."],
        ),
        (
            "t2._domainkey.news.shop.example.",
            "CNAME",
            &["t2.dkim.amazonses.com."],
        ),
        // The parked apex exists (its SOA and NS), answers no TXT or MX.
        ("parked.example.", "SOA", &["ns. h. 1 2 3 4 5"]),
    ])
}

fn found(detections: &[Detection]) -> Vec<(String, &'static str)> {
    let mut f: Vec<(String, &'static str)> = detections
        .iter()
        .map(|d| (d.resource.id.clone(), d.code.id()))
        .collect();
    f.sort();
    f
}

fn regions() -> Vec<Region> {
    ["eu-west-1", "us-east-1"]
        .iter()
        .map(|r| Region::parse(r).expect("region"))
        .collect()
}

async fn run(internet: &Internet, ses: &Ses) -> FamilyOutcome {
    run_in(internet, ses, false).await
}

async fn run_in(internet: &Internet, ses: &Ses, organization: bool) -> FamilyOutcome {
    let zones = estate();
    let regions = regions();
    MailFamily {
        zones: &zones,
        cache: Some(&NoCache),
        resolver: internet,
        identities: ses,
        policies: &Policies,
        regions: &regions,
        inventory_max_age: Duration::minutes(60),
        retire_unmonitored: true,
        organization,
    }
    .run(crate::families::test_now())
    .await
}

#[tokio::test]
async fn apexes_mx_names_and_ses_identities_are_examined_and_judged() {
    let net = internet(&[]);
    let out = run(
        &net,
        &Ses {
            deny_us_east_1: false,
        },
    )
    .await;
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(
        found(&out.detections),
        [
            // Its policy lists mx1 only.
            ("shop.example".to_owned(), "mail.mta-sts-broken"),
            ("parked.example".to_owned(), "mail.spoofable-domain"),
            (
                "eu-west-1/news.shop.example".to_owned(),
                "mail.dkim-ses-missing"
            ),
        ]
        .into_iter()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
    );
    // eu.shop.example's DMARC comes from shop.example (tree walk): no
    // dmarc-missing; the private zone's MX name is not examined.
    assert_eq!(out.counts["mail_names"], 4);
    assert_eq!(net.times_asked("internal.example.", "TXT"), 0);
    // Two names include the same vendor: asked once this scan.
    assert_eq!(net.times_asked("_spf.vendor.example.", "TXT"), 1);
    for scope in ["shop.example", "eu.shop.example", "parked.example"] {
        for check in [
            Check::MailSpf,
            Check::MailDmarc,
            Check::MailSpoofing,
            Check::MailMtaSts,
        ] {
            assert!(out.coverage.covers(check, scope), "{check:?} {scope}");
        }
    }
    assert!(
        out.coverage
            .covers(Check::MailDkim, "eu-west-1/news.shop.example")
    );
    let monitored = out.monitored.expect("everything listed");
    assert!(
        monitored.contains("eu-west-1/news.shop.example") && monitored.contains("parked.example")
    );
}

#[tokio::test]
async fn a_failed_lookup_or_listing_leaves_what_it_hid_unjudged() {
    // DMARC of eu.shop.example times out; SES in us-east-1 cannot be listed.
    let net = internet(&["FAIL"]);
    let out = run(
        &net,
        &Ses {
            deny_us_east_1: true,
        },
    )
    .await;
    assert!(!out.coverage.covers(Check::MailDmarc, "eu.shop.example"));
    assert!(out.coverage.covers(Check::MailSpf, "eu.shop.example"));
    // Without every SES identity, a name without mail may be an SES sender.
    assert!(!out.coverage.covers(Check::MailSpoofing, "parked.example"));
    assert!(
        !found(&out.detections)
            .iter()
            .any(|(_, c)| *c == "mail.spoofable-domain" || *c == "mail.dmarc-missing")
    );
    assert!(out.monitored.is_none());
    let errors: Vec<&str> = out.errors.iter().map(|e| e.message.as_str()).collect();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("DMARC of eu.shop.example: timeout")),
        "{errors:?}"
    );
    assert!(errors.iter().any(|e| e.contains("denied")), "{errors:?}");
}

#[test]
fn the_dmarc_tree_walk_stops_above_the_top_level_domain() {
    assert_eq!(
        tree_walk("a.b.example.com."),
        ["a.b.example.com.", "b.example.com.", "example.com."]
    );
    assert_eq!(tree_walk("com."), Vec::<String>::new());
}

/// In organization mode another account's SES identity may send as a name
/// without MX: such a name is not judged spoofable there.
#[tokio::test]
async fn names_without_mail_are_not_judged_in_organization_mode() {
    let net = internet(&[]);
    let out = run_in(
        &net,
        &Ses {
            deny_us_east_1: false,
        },
        true,
    )
    .await;
    assert!(!out.coverage.covers(Check::MailSpoofing, "parked.example"));
    assert!(
        !found(&out.detections)
            .iter()
            .any(|(_, c)| *c == "mail.spoofable-domain")
    );
    // The names with mail are judged as in single mode.
    assert!(out.coverage.covers(Check::MailSpoofing, "shop.example"));
    assert!(out.coverage.covers(Check::MailMtaSts, "shop.example"));
}
