//! The watch on fixed facts (each code produced, and resolved by the fix
//! its catalogue entry names) and its collection on fakes (what a failure
//! leaves unjudged, what the state carries from one run to the next).

use super::model::KnownCertificates;
use super::search::{LoggedCertificate, SearchAnswer};
use super::*;
use crate::catalogue::FindingCode;
use crate::families::fakes::{Internet, NoCache, Zones};
use crate::families::test_now;
use chrono::Duration;
use std::sync::Mutex;

const LE: &str = "C=US, O=Let's Encrypt, CN=R11";
const AMAZON: &str = "C=US, O=Amazon, CN=Amazon RSA 2048 M02";

fn logged(serial: &str, issuer: &str, names: &[&str], days_ago: i64) -> LoggedCertificate {
    let now = test_now();
    LoggedCertificate {
        ids: vec![1],
        issuer: issuer.to_owned(),
        serial: serial.to_owned(),
        names: names.iter().map(|n| (*n).to_owned()).collect(),
        not_before: Some(now - Duration::days(days_ago)),
        not_after: Some(now + Duration::days(90 - days_ago)),
        logged_at: now - Duration::days(days_ago),
    }
}

fn known(serials: &[&str]) -> KnownCertificates {
    KnownCertificates {
        serials: serials.iter().map(|s| (*s).to_owned()).collect(),
        as_of: Some(test_now() - Duration::hours(1)),
    }
}

fn caa(records: &[&str]) -> Vec<String> {
    records.iter().map(|r| (*r).to_owned()).collect()
}

// ---- rules -----------------------------------------------------------------

#[test]
fn an_unknown_certificate_is_unexpected_and_each_fix_resolves_it() {
    let now = test_now();
    let c = logged("3a", LE, &["www.example.com"], 3);
    assert_eq!(
        rules::judge(&c, &known(&["ff"]), &[], now),
        Judgement::Unexpected
    );
    let d = rules::unexpected("example.com", &c);
    assert_eq!(d.code, FindingCode::CtUnexpectedCertificate);
    assert_eq!(d.resource.id, "example.com/3a");
    assert_eq!(d.resource.name, "www.example.com");
    assert_eq!(d.scope, "example.com");
    assert_eq!(d.evidence["issuer"], LE);
    assert!(d.message.contains("www.example.com"), "{}", d.message);

    // Imported into ACM or served: its serial is known.
    assert_eq!(
        rules::judge(&c, &known(&["3a"]), &[], now),
        Judgement::Known
    );
    // Its issuer declared expected, by CAA domain, organisation or CN.
    for expected in ["letsencrypt.org", "let's encrypt", "r11"] {
        assert_eq!(
            rules::judge(&c, &known(&[]), &[expected.to_owned()], now),
            Judgement::ExpectedIssuer,
            "{expected}"
        );
    }
    // Another CA's name is not a match, nor is a part of one.
    for other in ["digicert.com", "encrypt", "r1"] {
        assert_eq!(
            rules::judge(&c, &known(&[]), &[other.to_owned()], now),
            Judgement::Unexpected,
            "{other}"
        );
    }
    // Once expired it is nothing to act on.
    assert_eq!(
        rules::judge(&c, &known(&[]), &[], now + Duration::days(100)),
        Judgement::Expired
    );
}

#[test]
fn a_certificate_logged_after_the_inventories_were_written_waits_a_run() {
    let now = test_now();
    let fresh = logged("3a", AMAZON, &["www.example.com"], 0);
    assert_eq!(
        rules::judge(&fresh, &known(&[]), &[], now),
        Judgement::NotYetKnown
    );
    let none = KnownCertificates {
        as_of: None,
        ..known(&[])
    };
    let old = logged("3a", AMAZON, &["www.example.com"], 30);
    assert_eq!(rules::judge(&old, &none, &[], now), Judgement::NotYetKnown);
}

#[test]
fn a_caa_that_forbade_the_issuer_before_and_now_is_a_violation() {
    let c = logged("3a", LE, &["www.example.com"], 0);
    let amazon_only = caa(&["0 issue \"amazon.com\""]);
    let v = rules::caa_violation(
        &c,
        "www.example.com",
        "example.com",
        &amazon_only,
        Some(&amazon_only),
    )
    .expect("a violation");
    assert_eq!(v.tag, "issue");
    assert_eq!(v.allowed, ["amazon.com"]);
    let d = rules::violation("example.com", &v);
    assert_eq!(d.code, FindingCode::CtCaaViolation);
    assert_eq!(d.evidence["caa_at"], "example.com");
    assert_eq!(d.evidence["allowed"][0], "amazon.com");
    // Without history, the CAA now decides.
    assert!(
        rules::caa_violation(&c, "www.example.com", "example.com", &amazon_only, None).is_some()
    );

    // The fix: the CA added to the record set.
    let both = caa(&["0 issue \"amazon.com\"", "0 issue \"letsencrypt.org\""]);
    assert!(
        rules::caa_violation(&c, "www.example.com", "example.com", &both, Some(&both)).is_none()
    );
    // A CAA changed between the two searches proves nothing.
    assert!(
        rules::caa_violation(
            &c,
            "www.example.com",
            "example.com",
            &amazon_only,
            Some(&both)
        )
        .is_none()
    );
    // No CAA at all allows every CA.
    assert!(rules::caa_violation(&c, "www.example.com", "", &[], Some(&[])).is_none());
    // A CA not recognised from its name is never judged.
    let unknown = logged(
        "3b",
        "C=XX, O=Some Private CA, CN=Issuing 1",
        &["www.example.com"],
        0,
    );
    assert!(
        rules::caa_violation(
            &unknown,
            "www.example.com",
            "example.com",
            &amazon_only,
            None
        )
        .is_none()
    );
}

#[test]
fn a_wildcard_is_judged_by_issuewild() {
    let c = logged("3a", LE, &["*.example.com"], 0);
    let records = caa(&["0 issue \"letsencrypt.org\"", "0 issuewild \";\""]);
    let v = rules::caa_violation(&c, "*.example.com", "example.com", &records, None)
        .expect("issuewild forbids every CA");
    assert_eq!(v.tag, "issuewild");
    assert!(rules::caa_violation(&c, "www.example.com", "example.com", &records, None).is_none());
}

#[test]
fn watched_apexes_are_the_public_zones_less_those_below_another() {
    let zone = |id: &str, name: &str, private: bool| HostedZone {
        id: id.into(),
        name: name.into(),
        private,
        record_set_count: 2,
    };
    let zones = [
        zone("Z1", "Example.com.", false),
        zone("Z2", "dev.example.com.", false),
        zone("Z3", "notexample.com.", false),
        zone("Z4", "internal.example.org.", true),
    ];
    assert_eq!(apexes(&zones), ["example.com", "notexample.com"]);
}

// ---- the family on fakes ---------------------------------------------------

struct Search {
    answers: BTreeMap<String, Result<SearchAnswer, PortError>>,
    asked: Mutex<Vec<String>>,
}

impl Search {
    fn answering(apex: &str, certificates: Vec<LoggedCertificate>) -> Self {
        Self {
            answers: BTreeMap::from([(
                apex.to_owned(),
                Ok(SearchAnswer {
                    certificates,
                    skipped: 1,
                }),
            )]),
            asked: Mutex::new(Vec::new()),
        }
    }
    fn asked(&self) -> Vec<String> {
        self.asked.lock().map(|a| a.clone()).unwrap_or_default()
    }
}

impl CtSearch for Search {
    async fn search(&self, apex: &str) -> Result<SearchAnswer, PortError> {
        if let Ok(mut a) = self.asked.lock() {
            a.push(apex.to_owned());
        }
        self.answers.get(apex).cloned().unwrap_or_else(|| {
            Err(PortError::new(
                "ct-search",
                "GET",
                ErrorKind::Transient,
                format!("no answer for {apex}"),
            ))
        })
    }
}

struct Known(Result<KnownCertificates, PortError>);

impl KnownSource for Known {
    async fn known(&self) -> Result<KnownCertificates, PortError> {
        self.0.clone()
    }
}

#[derive(Default)]
struct Store(Mutex<BTreeMap<String, WatchState>>);

impl Store {
    fn get(&self, apex: &str) -> Option<WatchState> {
        self.0.lock().ok().and_then(|m| m.get(apex).cloned())
    }
}

impl WatchStore for Store {
    async fn load(&self, apex: &str) -> Result<Option<WatchState>, PortError> {
        Ok(self.get(apex))
    }
    async fn save(&self, apex: &str, state: &WatchState) -> Result<(), PortError> {
        if let Ok(mut m) = self.0.lock() {
            m.insert(apex.to_owned(), state.clone());
        }
        Ok(())
    }
}

fn zones() -> Zones {
    Zones(vec![(
        HostedZone {
            id: "Z1".into(),
            name: "example.com.".into(),
            private: false,
            record_set_count: 2,
        },
        Vec::new(),
    )])
}

fn family<'a>(
    zones: &'a Zones,
    internet: &'a Internet,
    search: &'a Search,
    known: &'a Known,
    store: &'a Store,
) -> CtFamily<'a, Zones, NoCache, Internet, Search, Known, Store> {
    CtFamily {
        zones,
        cache: None,
        inventory_max_age: Duration::minutes(60),
        resolver: internet,
        search,
        known,
        store,
        expected_issuers: &[],
        retire_unmonitored: true,
        stop: None,
    }
}

fn codes(out: &FamilyOutcome) -> Vec<(FindingCode, String)> {
    out.detections
        .iter()
        .map(|d| (d.code, d.resource.id.clone()))
        .collect()
}

#[tokio::test]
async fn the_first_search_finds_the_unexpected_and_keeps_the_caa_for_the_next() {
    let now = test_now();
    let (zones, store) = (zones(), Store::default());
    let internet = Internet::new(&[("example.com.", "CAA", &["0 issue \"amazon.com\""])]);
    let search = Search::answering(
        "example.com",
        vec![
            logged("a1", AMAZON, &["example.com", "www.example.com"], 10),
            logged("b2", LE, &["shop.example.com"], 5),
            // Answered because it ends like the apex: not ours to judge.
            logged("c3", LE, &["notexample.com"], 5),
        ],
    );
    let known = Known(Ok(known(&["a1"])));
    let out = family(&zones, &internet, &search, &known, &store)
        .run(now)
        .await;
    assert_eq!(search.asked(), ["example.com"]);
    // The first search judges nothing against the CAA: who knows what it
    // said when b2 was issued.
    assert_eq!(
        codes(&out),
        [(
            FindingCode::CtUnexpectedCertificate,
            "example.com/b2".into()
        )]
    );
    assert!(out.coverage.covers(Check::CtIssuance, "example.com"));
    assert!(out.coverage.covers(Check::CtCaa, "example.com"));
    assert_eq!(out.counts["ct_certificates"], 2);
    assert_eq!(out.counts["ct_entries_skipped"], 1);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let state = store.get("example.com").expect("saved");
    assert_eq!(state.searched_at, Some(now));
    assert_eq!(state.caa["example.com"], ["0 issue \"amazon.com\""]);
    assert_eq!(
        out.monitored,
        Some(BTreeSet::from(["example.com".to_owned()]))
    );
}

#[tokio::test]
async fn a_certificate_logged_against_the_caa_since_the_last_search_stays_until_it_expires() {
    let now = test_now();
    let (zones, store) = (zones(), Store::default());
    let amazon_only: &[&str] = &["0 issue \"amazon.com\""];
    store
        .save(
            "example.com",
            &WatchState {
                searched_at: Some(now - Duration::days(1)),
                caa: BTreeMap::from([("example.com".into(), caa(amazon_only))]),
                violations: Vec::new(),
            },
        )
        .await
        .expect("saved");
    let internet = Internet::new(&[("example.com.", "CAA", amazon_only)]);
    let rogue = LoggedCertificate {
        logged_at: now - Duration::hours(3),
        ..logged("d4", LE, &["login.example.com"], 0)
    };
    // Logged long before the last search: the CAA then is unknown.
    let older = logged("e5", LE, &["old.example.com"], 10);
    let search = Search::answering("example.com", vec![rogue, older]);
    let known = Known(Ok(known(&[])));
    let out = family(&zones, &internet, &search, &known, &store)
        .run(now)
        .await;
    assert_eq!(
        codes(&out),
        [
            (
                FindingCode::CtUnexpectedCertificate,
                "example.com/d4".into()
            ),
            (
                FindingCode::CtUnexpectedCertificate,
                "example.com/e5".into()
            ),
            (FindingCode::CtCaaViolation, "example.com/d4".into()),
        ]
    );
    // login.example.com has no CAA of its own: the apex's governs.
    let violation = &out.detections[2];
    assert_eq!(violation.evidence["caa_at"], "example.com");
    assert_eq!(violation.evidence["name"], "login.example.com");
    assert_eq!(internet.times_asked("login.example.com.", "CAA"), 1);
    assert_eq!(internet.times_asked("old.example.com.", "CAA"), 0);

    // The next day the certificate is outside the window; the kept
    // violation is still reported (the operator declared the issuer
    // expected meanwhile, which settles the other finding).
    let later = now + Duration::days(2);
    let expected = ["letsencrypt.org".to_owned()];
    let out = CtFamily {
        expected_issuers: &expected,
        ..family(&zones, &internet, &search, &known, &store)
    }
    .run(later)
    .await;
    assert_eq!(
        codes(&out),
        [(FindingCode::CtCaaViolation, "example.com/d4".into())]
    );
    assert!(out.coverage.covers(Check::CtIssuance, "example.com"));

    // Once it expired, nothing is left.
    let out = family(&zones, &internet, &search, &known, &store)
        .run(now + Duration::days(120))
        .await;
    assert!(out.detections.is_empty(), "{:?}", codes(&out));
    assert!(out.coverage.covers(Check::CtCaa, "example.com"));
    assert!(
        store
            .get("example.com")
            .expect("kept")
            .violations
            .is_empty()
    );
}

#[tokio::test]
async fn a_failed_search_or_caa_lookup_covers_nothing_it_could_not_see() {
    let now = test_now();
    let zones = zones();
    let internet = Internet::new(&[("example.com.", "CAA", &["FAIL"])]);
    let known = Known(Ok(known(&[])));

    let store = Store::default();
    let failing = Search {
        answers: BTreeMap::new(),
        asked: Mutex::new(Vec::new()),
    };
    let out = family(&zones, &internet, &failing, &known, &store)
        .run(now)
        .await;
    assert!(out.coverage.is_empty());
    assert_eq!(out.errors.len(), 1);
    assert!(store.get("example.com").is_none(), "nothing saved");

    let before = now - Duration::days(1);
    store
        .save(
            "example.com",
            &WatchState {
                searched_at: Some(before),
                ..WatchState::default()
            },
        )
        .await
        .expect("saved");
    let search = Search::answering("example.com", vec![logged("b2", LE, &["a.example.com"], 0)]);
    let out = family(&zones, &internet, &search, &known, &store)
        .run(now)
        .await;
    assert!(out.coverage.covers(Check::CtIssuance, "example.com"));
    assert!(!out.coverage.covers(Check::CtCaa, "example.com"));
    assert!(out.errors.iter().any(|e| e.message.contains("CAA")));
    // The window stays where it was, so the next run judges b2 again.
    assert_eq!(
        store.get("example.com").and_then(|s| s.searched_at),
        Some(before)
    );
}

#[tokio::test]
async fn without_a_certificate_inventory_nothing_is_judged_unexpected() {
    let now = test_now();
    let (zones, store) = (zones(), Store::default());
    let internet = Internet::new(&[]);
    let search = Search::answering("example.com", vec![logged("b2", LE, &["a.example.com"], 5)]);
    for known in [
        Known(Ok(KnownCertificates::default())),
        Known(Err(PortError::new(
            "dynamodb",
            "Query",
            ErrorKind::AccessDenied,
            "denied",
        ))),
    ] {
        let out = family(&zones, &internet, &search, &known, &store)
            .run(now)
            .await;
        assert!(out.detections.is_empty());
        assert!(!out.coverage.covers(Check::CtIssuance, "example.com"));
        assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
    }
}

#[tokio::test]
async fn past_the_deadline_no_apex_is_searched() {
    let (zones, store) = (zones(), Store::default());
    let internet = Internet::new(&[]);
    let search = Search::answering("example.com", Vec::new());
    let known = Known(Ok(known(&[])));
    let out = CtFamily {
        stop: Some(std::time::Instant::now()),
        ..family(&zones, &internet, &search, &known, &store)
    }
    .run(test_now())
    .await;
    assert!(search.asked().is_empty());
    assert!(out.coverage.is_empty());
    assert_eq!(out.counts["ct_apexes_deferred"], 1);
}

/// A subdomain delegated to name servers outside the account (another
/// account's zone, a vendor) holds certificates the account cannot know:
/// they are not judged. A subdomain delegated to one of the account's own
/// zones is.
#[tokio::test]
async fn names_delegated_away_from_the_account_are_not_judged() {
    let now = test_now();
    let zone = |id: &str, name: &str| HostedZone {
        id: id.into(),
        name: name.into(),
        private: false,
        record_set_count: 3,
    };
    let ns = |name: &str| RecordSet {
        name: name.into(),
        record_type: "NS".into(),
        values: vec!["ns-1.awsdns-01.org.".into()],
        ttl: Some(172_800),
        set_identifier: None,
        ..RecordSet::default()
    };
    let zones = Zones(vec![
        (
            zone("Z1", "example.com."),
            vec![
                ns("example.com."),
                ns("team.example.com."),
                ns("own.example.com."),
            ],
        ),
        (zone("Z2", "own.example.com."), vec![ns("own.example.com.")]),
    ]);
    assert_eq!(
        delegated_away(&zones.0),
        ["team.example.com"],
        "own.example.com is the account's own zone"
    );
    let store = Store::default();
    let internet = Internet::new(&[]);
    let search = Search::answering(
        "example.com",
        vec![
            logged("a1", LE, &["api.team.example.com"], 5),
            logged("b2", LE, &["www.own.example.com"], 5),
            // Partly delegated away: judged for the name that is ours.
            logged("c3", LE, &["x.team.example.com", "shop.example.com"], 5),
        ],
    );
    let known = Known(Ok(known(&[])));
    let out = family(&zones, &internet, &search, &known, &store)
        .run(now)
        .await;
    assert_eq!(
        codes(&out),
        [
            (
                FindingCode::CtUnexpectedCertificate,
                "example.com/b2".into()
            ),
            (
                FindingCode::CtUnexpectedCertificate,
                "example.com/c3".into()
            ),
        ]
    );
    assert_eq!(
        out.detections[1].evidence["names"],
        serde_json::json!(["shop.example.com"])
    );
}
