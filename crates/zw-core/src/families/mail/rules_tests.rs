//! The mail rules on fixed facts: each code produced, and resolved by the
//! fix its catalogue entry names.

use super::*;
use crate::families::mail::model::{Configured, Dkim, ZoneRef};
use crate::families::mail::spf::{SpfEvaluation, SpfNode};
use std::collections::BTreeMap;

const NAME: &str = "example.com.";

fn records(values: &[&str]) -> Lookup {
    Lookup::Records(values.iter().map(|v| (*v).to_owned()).collect())
}

/// A name that receives mail, with a sound SPF and DMARC policy.
fn healthy() -> NameFacts {
    NameFacts {
        name: NAME.into(),
        zone: ZoneRef {
            id: "Z1".into(),
            name: NAME.into(),
        },
        apex: true,
        ses_identity: false,
        txt: records(&[
            "v=spf1 include:amazonses.com -all",
            "google-site-verification=abc",
        ]),
        mx: records(&["10 inbound-smtp.eu-west-1.amazonaws.com."]),
        configured: Configured::default(),
        spf: Some(evaluation(1, 0)),
        dmarc: DmarcLookup::Found {
            at: NAME.into(),
            records: vec!["v=DMARC1; p=reject; rua=mailto:dmarc@example.com".into()],
        },
        report_authorizations: BTreeMap::new(),
        mta_sts: None,
        mta_sts_failed: None,
    }
}

/// A name without mail, locked down as RFC 7505 and M3AAWG advise.
fn parked() -> NameFacts {
    NameFacts {
        txt: records(&["v=spf1 -all"]),
        mx: records(&["0 ."]),
        spf: Some(evaluation(0, 0)),
        ..healthy()
    }
}

fn evaluation(lookups: u32, void: u32) -> SpfEvaluation {
    SpfEvaluation {
        tree: SpfNode {
            domain: "example.com".into(),
            record: Some("v=spf1 include:amazonses.com -all".into()),
            lookups,
            total: lookups,
            children: Vec::new(),
            note: None,
        },
        lookups,
        void_lookups: void,
        void_names: (0..void).map(|i| format!("gone{i}.example.net")).collect(),
        permanent_errors: Vec::new(),
        incomplete: None,
    }
}

fn codes(detections: &[Detection]) -> Vec<&'static str> {
    let mut c: Vec<&'static str> = detections.iter().map(|d| d.code.id()).collect();
    c.sort_unstable();
    c
}

fn all(facts: &NameFacts) -> Vec<Detection> {
    let intended = mail_intended(facts).expect("lookups answered");
    let mut out = spf(facts, intended);
    out.extend(dmarc(facts, intended));
    if !intended {
        out.extend(spoofing(facts));
    }
    if let Some(sts) = &facts.mta_sts {
        out.extend(mta_sts(facts, sts).expect("judged"));
    }
    out
}

#[test]
fn a_healthy_mail_name_has_no_finding() {
    assert_eq!(codes(&all(&healthy())), Vec::<&str>::new());
    assert_eq!(codes(&all(&parked())), Vec::<&str>::new());
}

#[test]
fn spf_missing_on_a_mail_name_and_resolved_by_publishing_one() {
    let mut f = healthy();
    f.txt = records(&["google-site-verification=abc"]);
    f.spf = None;
    f.configured.txt = Some(vec!["v=spf1 include:amazonses.com -all".into()]);
    let found = spf(&f, mail_intended(&f).expect("answered"));
    assert_eq!(codes(&found), ["mail.spf-missing"]);
    // Route 53 holds a record the servers do not answer: both are named.
    assert!(
        found[0]
            .message
            .contains("Route 53's configuration of zone example.com differs")
            && found[0]
                .message
                .contains("v=spf1 include:amazonses.com -all"),
        "{}",
        found[0].message
    );
    assert_eq!(
        found[0].evidence["configured"][0],
        "v=spf1 include:amazonses.com -all"
    );
    // A name without mail is not told to publish SPF (spoofing judges it).
    let mut quiet = f.clone();
    quiet.mx = Lookup::NoData;
    assert_eq!(mail_intended(&quiet), Some(false));
    assert!(spf(&quiet, false).is_empty());
    // An SES identity sends mail.
    quiet.ses_identity = true;
    assert_eq!(mail_intended(&quiet), Some(true));
    assert!(codes(&spf(&healthy(), true)).is_empty());
}

#[test]
fn two_spf_records_are_reported_and_one_resolves_it() {
    let mut f = healthy();
    f.txt = records(&[
        "v=spf1 include:amazonses.com -all",
        "v=spf1 include:_spf.google.com ~all",
    ]);
    assert_eq!(codes(&spf(&f, true)), ["mail.spf-multiple"]);
    f.txt = records(&["v=spf1 include:amazonses.com include:_spf.google.com -all"]);
    assert!(spf(&f, true).is_empty());
}

#[test]
fn an_invalid_record_or_a_broken_include_is_invalid() {
    let mut f = healthy();
    f.txt = records(&["v=spf1 ipv4:192.0.2.1 -all"]);
    f.spf = None;
    let found = spf(&f, true);
    assert_eq!(codes(&found), ["mail.spf-invalid"]);
    assert!(
        found[0].message.contains("ipv4:192.0.2.1"),
        "{}",
        found[0].message
    );
    // Valid syntax, but an include without SPF: a permanent error too.
    let mut f = healthy();
    let mut eval = evaluation(1, 0);
    eval.permanent_errors = vec!["gone.example.net has no SPF record".into()];
    f.spf = Some(eval);
    assert_eq!(codes(&spf(&f, true)), ["mail.spf-invalid"]);
    assert!(spf(&healthy(), true).is_empty());
}

#[test]
fn more_than_ten_lookups_is_reported_ten_is_not() {
    let mut f = healthy();
    f.spf = Some(evaluation(11, 0));
    let found = spf(&f, true);
    assert_eq!(codes(&found), ["mail.spf-too-many-lookups"]);
    assert_eq!(found[0].evidence["lookups"], 11);
    assert_eq!(found[0].evidence["tree"]["total"], 11);
    f.spf = Some(evaluation(10, 0));
    assert!(spf(&f, true).is_empty());
    // An incomplete count above the limit is still above it.
    let mut eval = evaluation(12, 0);
    eval.incomplete = Some("timeout".into());
    f.spf = Some(eval);
    let found = spf(&f, true);
    assert!(
        found[0].message.contains("at least 12"),
        "{}",
        found[0].message
    );
    assert!(spf_complete(&f).is_err());
}

#[test]
fn permissive_all_by_its_qualifier() {
    let mut f = healthy();
    f.txt = records(&["v=spf1 include:amazonses.com +all"]);
    let found = spf(&f, true);
    assert_eq!(codes(&found), ["mail.spf-permissive"]);
    assert_eq!(found[0].severity, Severity::High);
    f.txt = records(&["v=spf1 include:amazonses.com ?all"]);
    let found = spf(&f, true);
    assert_eq!(found[0].severity, Severity::Medium);
    f.txt = records(&["v=spf1 include:amazonses.com ~all"]);
    assert!(spf(&f, true).is_empty());
}

#[test]
fn more_than_two_void_lookups_is_reported() {
    let mut f = healthy();
    f.spf = Some(evaluation(3, 3));
    let found = spf(&f, true);
    assert_eq!(codes(&found), ["mail.spf-void-lookups"]);
    assert_eq!(found[0].evidence["names"].as_array().map(Vec::len), Some(3));
    f.spf = Some(evaluation(3, 2));
    assert!(spf(&f, true).is_empty());
}

#[test]
fn dmarc_missing_and_found_at_a_parent() {
    let mut f = healthy();
    f.dmarc = DmarcLookup::None;
    assert_eq!(codes(&dmarc(&f, true)), ["mail.dmarc-missing"]);
    // Route 53 holds one the servers do not answer: the message says so.
    f.configured.dmarc = Some(vec!["v=DMARC1; p=reject".into()]);
    let found = dmarc(&f, true);
    assert!(
        found[0]
            .message
            .contains("Route 53's configuration of zone example.com has one"),
        "{}",
        found[0].message
    );
    // The organisational record at a parent applies (its `sp`).
    f.name = "mail.example.com.".into();
    f.dmarc = DmarcLookup::Found {
        at: NAME.into(),
        records: vec!["v=DMARC1; p=reject; sp=none".into()],
    };
    assert_eq!(codes(&dmarc(&f, true)), ["mail.dmarc-monitor-only"]);
    f.dmarc = DmarcLookup::Found {
        at: NAME.into(),
        records: vec!["v=DMARC1; p=reject".into()],
    };
    assert!(dmarc(&f, true).is_empty());
}

#[test]
fn invalid_dmarc_records() {
    let mut f = healthy();
    for bad in [
        vec!["v=DMARC1; p=monitor"],
        vec!["v=DMARC1; p=reject", "v=DMARC1; p=none"],
        vec!["v=DMARC1; p=reject; pct=150"],
    ] {
        f.dmarc = DmarcLookup::Found {
            at: NAME.into(),
            records: bad.iter().map(|s| (*s).to_owned()).collect(),
        };
        let found = dmarc(&f, true);
        assert_eq!(codes(&found), ["mail.dmarc-invalid"], "{bad:?}");
    }
    // No `p` but a report address: receivers apply none; still reported.
    f.dmarc = DmarcLookup::Found {
        at: NAME.into(),
        records: vec!["v=DMARC1; rua=mailto:d@example.com".into()],
    };
    assert_eq!(codes(&dmarc(&f, true)), ["mail.dmarc-invalid"]);
    assert!(dmarc(&healthy(), true).is_empty());
}

#[test]
fn monitor_only_policy_is_low_and_reject_resolves_it() {
    let mut f = healthy();
    f.dmarc = DmarcLookup::Found {
        at: NAME.into(),
        records: vec!["v=DMARC1; p=none; rua=mailto:dmarc@example.com".into()],
    };
    let found = dmarc(&f, true);
    assert_eq!(codes(&found), ["mail.dmarc-monitor-only"]);
    assert_eq!(found[0].severity, Severity::Low);
    assert!(dmarc(&healthy(), true).is_empty());
}

#[test]
fn reports_to_another_domain_need_its_authorisation() {
    let record = dmarc::parse(
        "v=DMARC1; p=reject; rua=mailto:a@example.com,mailto:x@reports.vendor.net; ruf=mailto:f@mail.example.com",
    )
    .expect("valid");
    assert_eq!(
        external_report_domains(&record, NAME, NAME),
        ["reports.vendor.net"]
    );
    let mut f = healthy();
    f.report_authorizations
        .insert("reports.vendor.net".into(), Lookup::NxDomain);
    let found = dmarc(&f, true);
    assert_eq!(codes(&found), ["mail.dmarc-report-unauthorized"]);
    assert_eq!(
        found[0].evidence["looked_at"],
        "example.com._report._dmarc.reports.vendor.net"
    );
    f.report_authorizations
        .insert("reports.vendor.net".into(), records(&["v=DMARC1"]));
    assert!(dmarc(&f, true).is_empty());
    // Not answered: no claim.
    f.report_authorizations.insert(
        "reports.vendor.net".into(),
        Lookup::Failed("timeout".into()),
    );
    assert!(dmarc(&f, true).is_empty());
}

#[test]
fn a_name_without_mail_must_refuse_it() {
    let mut f = parked();
    f.txt = Lookup::NoData;
    f.mx = Lookup::NoData;
    f.spf = None;
    f.dmarc = DmarcLookup::None;
    assert_eq!(mail_intended(&f), Some(false));
    let found = spoofing(&f);
    assert_eq!(codes(&found), ["mail.spoofable-domain"]);
    assert_eq!(
        found[0].evidence["lacking"],
        serde_json::json!(["SPF `v=spf1 -all`", "DMARC `p=reject`", "null MX `0 .`"])
    );
    assert_eq!(found[0].severity, Severity::Medium);
    // DMARC rejects but SPF does not: low, for receivers without DMARC.
    let mut f = parked();
    f.txt = Lookup::NoData;
    let found = spoofing(&f);
    assert_eq!(codes(&found), ["mail.spoofable-domain"]);
    assert_eq!(found[0].severity, Severity::Low);
    // SPF and DMARC refuse: not spoofable, with or without a null MX.
    let mut f = parked();
    assert!(spoofing(&f).is_empty());
    f.mx = Lookup::NoData;
    assert!(spoofing(&f).is_empty());
    // A quarantine policy is not a refusal.
    f.dmarc = DmarcLookup::Found {
        at: NAME.into(),
        records: vec!["v=DMARC1; p=quarantine".into()],
    };
    assert_eq!(codes(&spoofing(&f)), ["mail.spoofable-domain"]);
}

fn with_sts(policy: Option<Result<String, FetchFailure>>, tls_rpt: Lookup) -> NameFacts {
    let mut f = healthy();
    f.mx = records(&["10 mx1.mail.example.net.", "20 mx2.mail.example.net."]);
    f.mta_sts = Some(MtaStsFacts {
        records: vec!["v=STSv1; id=20261201T000000;".into()],
        policy,
        tls_rpt,
    });
    f
}

const POLICY: &str =
    "version: STSv1\r\nmode: enforce\r\nmx: *.mail.example.net\r\nmax_age: 604800\r\n";
const TLS_RPT: &str = "v=TLSRPTv1; rua=mailto:tls@example.com";

#[test]
fn mta_sts_policy_that_misses_an_mx_is_broken() {
    let ok = with_sts(Some(Ok(POLICY.into())), records(&[TLS_RPT]));
    let sts = ok.mta_sts.clone().expect("sts");
    assert!(mta_sts(&ok, &sts).expect("judged").is_empty());

    let narrow = POLICY.replace("*.mail.example.net", "mx1.mail.example.net");
    let f = with_sts(Some(Ok(narrow.clone())), records(&[TLS_RPT]));
    let found = mta_sts(&f, f.mta_sts.as_ref().expect("sts")).expect("judged");
    assert_eq!(codes(&found), ["mail.mta-sts-broken"]);
    assert_eq!(found[0].severity, Severity::High);
    assert_eq!(
        found[0].evidence["uncovered_mx"],
        serde_json::json!(["mx2.mail.example.net"])
    );
    // In testing mode senders only report: medium.
    let f = with_sts(
        Some(Ok(narrow.replace("enforce", "testing"))),
        records(&[TLS_RPT]),
    );
    let found = mta_sts(&f, f.mta_sts.as_ref().expect("sts")).expect("judged");
    assert_eq!(found[0].severity, Severity::Medium);
}

#[test]
fn an_unfetchable_or_invalid_policy_is_broken_and_our_limit_is_not() {
    for policy in [
        Err(FetchFailure::Server("HTTP 404".into())),
        Ok("version: STSv1\nmode: sometimes\n".into()),
    ] {
        let f = with_sts(Some(policy), records(&[TLS_RPT]));
        let found = mta_sts(&f, f.mta_sts.as_ref().expect("sts")).expect("judged");
        assert_eq!(codes(&found), ["mail.mta-sts-broken"]);
    }
    let f = with_sts(
        Some(Err(FetchFailure::Probe("not probed: 10.0.0.1".into()))),
        records(&[TLS_RPT]),
    );
    assert!(mta_sts(&f, f.mta_sts.as_ref().expect("sts")).is_err());
    // A broken record: the policy is not even fetched.
    let mut f = with_sts(None, records(&[TLS_RPT]));
    if let Some(s) = f.mta_sts.as_mut() {
        s.records = vec!["v=STSv1; id=not_valid!;".into()];
    }
    let found = mta_sts(&f, f.mta_sts.as_ref().expect("sts")).expect("judged");
    assert_eq!(codes(&found), ["mail.mta-sts-broken"]);
}

#[test]
fn tls_rpt_missing_beside_mta_sts_is_info() {
    let f = with_sts(Some(Ok(POLICY.into())), Lookup::NxDomain);
    let found = mta_sts(&f, f.mta_sts.as_ref().expect("sts")).expect("judged");
    assert_eq!(codes(&found), ["mail.tls-rpt-missing"]);
    assert_eq!(found[0].severity, Severity::Info);
    let f = with_sts(Some(Ok(POLICY.into())), Lookup::Failed("timeout".into()));
    assert!(
        mta_sts(&f, f.mta_sts.as_ref().expect("sts"))
            .expect("judged")
            .is_empty()
    );
}

fn identity(status: &str, origin: &str) -> SesIdentity {
    SesIdentity {
        name: "example.com.".into(),
        region: Region::parse("eu-west-1").expect("region"),
        dkim: Some(Dkim {
            signing_enabled: true,
            status: status.into(),
            origin: origin.into(),
            tokens: vec!["tok1".into(), "tok2".into(), "tok3".into()],
        }),
    }
}

fn dkim_records(served: [Lookup; 3]) -> Vec<DkimRecord> {
    ["tok1", "tok2", "tok3"]
        .iter()
        .zip(served)
        .map(|(t, served)| DkimRecord {
            token: (*t).into(),
            name: format!("{t}._domainkey.example.com."),
            served,
            configured: None,
        })
        .collect()
}

#[test]
fn ses_dkim_cnames_missing_or_wrong_and_restored() {
    let id = identity("PENDING", "AWS_SES");
    let found = dkim(
        &id,
        &dkim_records([
            records(&["tok1.dkim.amazonses.com."]),
            Lookup::NxDomain,
            records(&["tok3.dkim.example.org."]),
        ]),
    );
    assert_eq!(codes(&found), ["mail.dkim-ses-missing"]);
    assert_eq!(found[0].resource.id, "eu-west-1/example.com");
    assert_eq!(
        found[0].evidence["records"].as_array().map(Vec::len),
        Some(2)
    );
    let restored = dkim(
        &id,
        &dkim_records([
            records(&["tok1.dkim.amazonses.com."]),
            records(&["TOK2.dkim.amazonses.com."]),
            // A regional Easy DKIM target counts.
            records(&["tok3.dkim.af-south-1.amazonses.com."]),
        ]),
    );
    assert!(restored.is_empty(), "{restored:?}");
    // BYODKIM's records are the customer's own choice: not judged.
    assert!(
        dkim(
            &identity("SUCCESS", "EXTERNAL"),
            &dkim_records([Lookup::NxDomain, Lookup::NxDomain, Lookup::NxDomain])
        )
        .is_empty()
    );
}

#[test]
fn ses_reporting_dkim_failed() {
    let ok = [
        records(&["tok1.dkim.amazonses.com."]),
        records(&["tok2.dkim.amazonses.com."]),
        records(&["tok3.dkim.amazonses.com."]),
    ];
    let found = dkim(&identity("FAILED", "AWS_SES"), &dkim_records(ok.clone()));
    assert_eq!(codes(&found), ["mail.dkim-ses-failed"]);
    assert!(dkim(&identity("SUCCESS", "AWS_SES"), &dkim_records(ok)).is_empty());
}

#[test]
fn null_mx_and_mx_hosts() {
    assert!(is_null_mx("0 ."));
    assert!(!is_null_mx("10 mx.example.com."));
    assert_eq!(
        mx_hosts(&["0 .".into(), "10 MX.Example.com.".into()]),
        ["mx.example.com"]
    );
}
