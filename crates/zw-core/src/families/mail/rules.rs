//! The mail rules. Pure: each mail name's served answers (with Route 53's
//! configuration of them) and the SES identities' DKIM records come in;
//! detections go out. Every verdict is drawn from what the name servers
//! answer, which is what receivers see; a failed lookup is never evidence.

use super::dmarc::{self, DmarcRecord, Policy};
use super::model::{
    DkimRecord, DmarcLookup, FetchFailure, Lookup, MtaStsFacts, NameFacts, SesIdentity,
};
use super::mta_sts::{self, Mode};
use super::spf::{self, LOOKUP_LIMIT, Qualifier, SpfRecord, VOID_LOOKUP_LIMIT};
use crate::catalogue::FindingCode;
use crate::finding::{Detection, Resource, ResourceKind};
use crate::model::Region;
use crate::severity::Severity;
use serde_json::{Value, json};

/// A name as findings show it: without the trailing dot.
pub fn bare(name: &str) -> &str {
    name.trim_end_matches('.')
}

/// The scope of a mail name's findings: the name.
pub fn scope(facts: &NameFacts) -> String {
    bare(&facts.name).to_owned()
}

fn detection(
    facts: &NameFacts,
    code: FindingCode,
    severity: Severity,
    message: String,
    evidence: Value,
) -> Detection {
    Detection {
        code,
        severity,
        resource: Resource {
            kind: ResourceKind::DnsName,
            id: bare(&facts.name).to_owned(),
            name: bare(&facts.name).to_owned(),
        },
        region: Region::global(),
        scope: scope(facts),
        message,
        evidence,
    }
}

/// The SPF records among TXT strings.
fn spf_records(txt: &[String]) -> Vec<&String> {
    txt.iter().filter(|t| spf::is_spf(t)).collect()
}

/// Route 53's SPF values at the name when they differ from the served ones
/// (compared as sets of joined strings): the finding then names both.
fn configured_spf(facts: &NameFacts, served: &[&String]) -> Option<Vec<String>> {
    let configured = facts.configured.txt.as_ref()?;
    let mut configured: Vec<String> = spf_records(configured).into_iter().cloned().collect();
    let mut served: Vec<String> = served.iter().map(|s| (*s).clone()).collect();
    configured.sort();
    served.sort();
    (configured != served).then_some(configured)
}

/// " Route 53's configuration of <zone> has ... ." when it differs.
fn differs_note(facts: &NameFacts, configured: Option<&Vec<String>>) -> String {
    match configured {
        None => String::new(),
        Some(c) if c.is_empty() => format!(
            " Route 53's configuration of zone {} has no SPF record there: the servers answer something else than the zone holds.",
            bare(&facts.zone.name)
        ),
        Some(c) => format!(
            " Route 53's configuration of zone {} differs: it holds {}.",
            bare(&facts.zone.name),
            c.iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Whether the name sends or receives mail: MX other than a null MX, an SES
/// identity, or an SPF record authorising some sender. None when a lookup
/// it needs failed.
pub fn mail_intended(facts: &NameFacts) -> Option<bool> {
    let mx = facts.mx.records()?;
    let txt = facts.txt.records()?;
    if mx.iter().any(|m| !is_null_mx(m)) || facts.ses_identity {
        return Some(true);
    }
    let senders = spf_records(txt)
        .iter()
        .filter_map(|r| spf::parse(r).ok())
        .any(|r| r.authorizes_senders());
    Some(senders)
}

/// RFC 7505's null MX: preference 0, exchange the root.
pub fn is_null_mx(mx: &str) -> bool {
    let mut parts = mx.split_whitespace();
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(p), Some("."), None) if p.parse::<u16>().is_ok()
    )
}

/// The exchange hosts of served MX records (null MX left out), normalised
/// without the trailing dot.
pub fn mx_hosts(mx: &[String]) -> Vec<String> {
    mx.iter()
        .filter(|m| !is_null_mx(m))
        .filter_map(|m| m.split_whitespace().nth(1))
        .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
        .collect()
}

/// `mail.spf-*`. Call only when the TXT lookup succeeded.
pub fn spf(facts: &NameFacts, intended: bool) -> Vec<Detection> {
    let mut out = Vec::new();
    let Some(txt) = facts.txt.records() else {
        return out;
    };
    let name = bare(&facts.name);
    let records = spf_records(txt);
    let configured = configured_spf(facts, &records);
    let served: Vec<&str> = records.iter().map(|s| s.as_str()).collect();
    match records.as_slice() {
        [] => {
            if intended {
                out.push(detection(
                    facts,
                    FindingCode::MailSpfMissing,
                    FindingCode::MailSpfMissing.default_severity(),
                    format!(
                        "{name} sends or receives mail but publishes no SPF record.{}",
                        differs_note(facts, configured.as_ref())
                    ),
                    json!({"served": txt, "configured": configured}),
                ));
            }
        }
        [one] => match spf::parse(one) {
            Err(e) => out.push(detection(
                facts,
                FindingCode::MailSpfInvalid,
                FindingCode::MailSpfInvalid.default_severity(),
                format!(
                    "The SPF record of {name} is not valid: {e}.{}",
                    differs_note(facts, configured.as_ref())
                ),
                json!({"record": one, "errors": [e.to_string()], "served": served, "configured": configured}),
            )),
            Ok(record) => out.extend(spf_record(facts, one, &record)),
        },
        _ => out.push(detection(
            facts,
            FindingCode::MailSpfMultiple,
            FindingCode::MailSpfMultiple.default_severity(),
            format!(
                "{name} publishes {} SPF records; receivers ignore them all.{}",
                records.len(),
                differs_note(facts, configured.as_ref())
            ),
            json!({"served": served, "configured": configured}),
        )),
    }
    out
}

/// The findings of one parsed SPF record and its evaluation.
fn spf_record(facts: &NameFacts, text: &str, record: &SpfRecord) -> Vec<Detection> {
    let mut out = Vec::new();
    let name = bare(&facts.name);
    if let Some(q @ (Qualifier::Pass | Qualifier::Neutral)) = record.all() {
        let (all, severity) = if q == Qualifier::Pass {
            ("+all", Severity::High)
        } else {
            ("?all", Severity::Medium)
        };
        out.push(detection(
            facts,
            FindingCode::MailSpfPermissive,
            severity,
            format!("The SPF record of {name} ends in `{all}`: any server may send as {name}."),
            json!({"record": text, "all": all}),
        ));
    }
    let Some(eval) = &facts.spf else {
        return out;
    };
    if !eval.permanent_errors.is_empty() {
        out.push(detection(
            facts,
            FindingCode::MailSpfInvalid,
            FindingCode::MailSpfInvalid.default_severity(),
            format!(
                "The SPF record of {name} gives receivers a permanent error: {}.",
                eval.permanent_errors.join("; ")
            ),
            json!({"record": text, "errors": eval.permanent_errors, "tree": eval.tree}),
        ));
    }
    if eval.lookups > LOOKUP_LIMIT {
        out.push(detection(
            facts,
            FindingCode::MailSpfTooManyLookups,
            FindingCode::MailSpfTooManyLookups.default_severity(),
            format!(
                "The SPF record of {name} needs {}{} DNS lookups; receivers stop at {}.",
                if eval.incomplete.is_some() {
                    "at least "
                } else {
                    ""
                },
                eval.lookups,
                LOOKUP_LIMIT
            ),
            json!({"record": text, "lookups": eval.lookups, "tree": eval.tree}),
        ));
    }
    if eval.void_lookups > VOID_LOOKUP_LIMIT {
        out.push(detection(
            facts,
            FindingCode::MailSpfVoidLookups,
            FindingCode::MailSpfVoidLookups.default_severity(),
            format!(
                "The SPF record of {name} makes {} lookups that find nothing ({}); receivers may fail it beyond {}.",
                eval.void_lookups,
                eval.void_names.join(", "),
                VOID_LOOKUP_LIMIT
            ),
            json!({"record": text, "void_lookups": eval.void_lookups, "names": eval.void_names}),
        ));
    }
    out
}

/// Whether SPF's verdicts for the name are complete: its TXT answered and,
/// for a record, its evaluation reached every target. An incomplete
/// evaluation keeps the name's open SPF findings as they are.
pub fn spf_complete(facts: &NameFacts) -> Result<(), String> {
    if let Some(why) = facts.txt.failure() {
        return Err(format!("TXT at {}: {why}", bare(&facts.name)));
    }
    match facts.spf.as_ref().and_then(|e| e.incomplete.as_ref()) {
        Some(why) => Err(format!("SPF of {}: {why}", bare(&facts.name))),
        None => Ok(()),
    }
}

/// The applicable DMARC record: parsed, with the policy in effect for the
/// name (`sp` applies below the record's domain).
#[derive(Debug)]
pub struct Applicable {
    pub at: String,
    pub text: String,
    pub record: DmarcRecord,
    pub policy: Policy,
}

/// The DMARC record in effect, or the reason it is invalid (records as
/// served at `at`). None when no DMARC record was found or the lookup failed.
pub fn applicable(facts: &NameFacts) -> Option<(String, Vec<String>, Result<Applicable, String>)> {
    let DmarcLookup::Found { at, records } = &facts.dmarc else {
        return None;
    };
    let dmarcs: Vec<&String> = records.iter().filter(|r| dmarc::is_dmarc(r)).collect();
    let result = match dmarcs.as_slice() {
        [one] => dmarc::parse(one)
            .map_err(|e| e.to_string())
            .map(|record| Applicable {
                policy: if crate::model::normalize_dns_name(at) == facts.name {
                    record.policy
                } else {
                    record.for_subdomains()
                },
                at: at.clone(),
                text: (*one).clone(),
                record,
            }),
        many => Err(format!(
            "{} DMARC records at _dmarc.{}: receivers ignore them all",
            many.len(),
            bare(at)
        )),
    };
    Some((at.clone(), records.clone(), result))
}

/// `mail.dmarc-*`. Call only when the DMARC lookup succeeded.
pub fn dmarc(facts: &NameFacts, intended: bool) -> Vec<Detection> {
    let mut out = Vec::new();
    let name = bare(&facts.name);
    let Some((at, records, result)) = applicable(facts) else {
        if intended && facts.dmarc == DmarcLookup::None {
            out.push(detection(
                facts,
                FindingCode::MailDmarcMissing,
                FindingCode::MailDmarcMissing.default_severity(),
                format!(
                    "{name} sends or receives mail but no DMARC policy applies to it (no `v=DMARC1` record at _dmarc.{name} or a parent name).{}",
                    match &facts.configured.dmarc {
                        Some(c) if c.iter().any(|r| dmarc::is_dmarc(r)) => format!(
                            " Route 53's configuration of zone {} has one at _dmarc.{name}, which the servers do not answer.",
                            bare(&facts.zone.name)
                        ),
                        _ => String::new(),
                    }
                ),
                json!({"looked_at": format!("_dmarc.{name}"), "configured": facts.configured.dmarc}),
            ));
        }
        return out;
    };
    let applicable = match result {
        Ok(a) => a,
        Err(error) => {
            out.push(detection(
                facts,
                FindingCode::MailDmarcInvalid,
                FindingCode::MailDmarcInvalid.default_severity(),
                format!(
                    "The DMARC record that applies to {name} (at _dmarc.{}) is not valid: {error}.",
                    bare(&at)
                ),
                json!({"at": bare(&at), "records": records, "error": error}),
            ));
            return out;
        }
    };
    if applicable.record.policy_defaulted {
        out.push(detection(
            facts,
            FindingCode::MailDmarcInvalid,
            FindingCode::MailDmarcInvalid.default_severity(),
            format!(
                "The DMARC record that applies to {name} (at _dmarc.{}) has no valid policy (`p`); receivers treat it as `p=none`.",
                bare(&at)
            ),
            json!({"at": bare(&at), "records": records, "error": "the required tag p is missing or invalid"}),
        ));
    } else if intended && applicable.policy == Policy::None {
        out.push(detection(
            facts,
            FindingCode::MailDmarcMonitorOnly,
            FindingCode::MailDmarcMonitorOnly.default_severity(),
            format!(
                "The DMARC policy for {name} is `none` (at _dmarc.{}): failing mail is reported, not refused.",
                bare(&at)
            ),
            json!({"at": bare(&at), "policy": applicable.policy, "record": applicable.text}),
        ));
    }
    for (domain, lookup) in &facts.report_authorizations {
        let authorized = match lookup.records() {
            None => continue,
            Some(txt) => txt.iter().any(|t| dmarc::is_dmarc(t)),
        };
        if !authorized {
            let looked_at = format!("{}._report._dmarc.{}", bare(&applicable.at), domain);
            out.push(detection(
                facts,
                FindingCode::MailDmarcReportUnauthorized,
                FindingCode::MailDmarcReportUnauthorized.default_severity(),
                format!(
                    "The DMARC record for {name} sends reports to {domain}, which does not accept them ({looked_at} has no `v=DMARC1` record)."
                ),
                json!({"report_domain": domain, "looked_at": looked_at}),
            ));
        }
    }
    out
}

/// Report domains of a DMARC record that need an authorisation record:
/// those outside the policy domain's family (neither is a subdomain of the
/// other, nor of the zone's apex).
pub fn external_report_domains(record: &DmarcRecord, at: &str, zone: &str) -> Vec<String> {
    let related = |a: &str, b: &str| a == b || a.ends_with(&format!(".{b}"));
    let at = bare(at).to_ascii_lowercase();
    let zone = bare(zone).to_ascii_lowercase();
    let mut out: Vec<String> = record
        .rua
        .iter()
        .chain(&record.ruf)
        .filter_map(|u| u.domain.clone())
        .filter(|d| !(related(d, &at) || related(&at, d) || related(d, &zone) || related(&zone, d)))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// `mail.spoofable-domain`, for a name without mail. Call only when the
/// TXT, MX and DMARC lookups succeeded.
pub fn spoofing(facts: &NameFacts) -> Vec<Detection> {
    let (Some(txt), Some(mx)) = (facts.txt.records(), facts.mx.records()) else {
        return Vec::new();
    };
    let records = spf_records(txt);
    let spf_denies =
        matches!(records.as_slice(), [one] if spf::parse(one).is_ok_and(|r| r.denies_all()));
    let dmarc_rejects = matches!(
        applicable(facts),
        Some((_, _, Ok(a))) if a.policy == Policy::Reject && a.record.pct == 100
    );
    let null_mx = !mx.is_empty() && mx.iter().all(|m| is_null_mx(m));
    if spf_denies && dmarc_rejects {
        return Vec::new();
    }
    let name = bare(&facts.name);
    // A reject policy stops the forgeries of every receiver that applies
    // DMARC; what is left (SPF for the others) is worth less alarm.
    let (severity, how) = if dmarc_rejects {
        (
            Severity::Low,
            "receivers that do not apply DMARC have nothing that says mail from it is forged",
        )
    } else {
        (
            FindingCode::MailSpoofableDomain.default_severity(),
            "anyone can send as it",
        )
    };
    let mut lacking = Vec::new();
    if !spf_denies {
        lacking.push("SPF `v=spf1 -all`");
    }
    if !dmarc_rejects {
        lacking.push("DMARC `p=reject`");
    }
    if !null_mx {
        lacking.push("null MX `0 .`");
    }
    vec![detection(
        facts,
        FindingCode::MailSpoofableDomain,
        severity,
        format!(
            "{name} has no mail, yet {how}: it lacks {}.",
            lacking.join(", ")
        ),
        json!({"lacking": lacking, "served": {"txt": txt, "mx": mx, "dmarc": facts.dmarc}}),
    )]
}

/// `mail.mta-sts-broken` and `mail.tls-rpt-missing`, for a name whose
/// `_mta-sts` TXT exists. Err when the probe could not judge the policy.
pub fn mta_sts(facts: &NameFacts, sts: &MtaStsFacts) -> Result<Vec<Detection>, String> {
    let mut out = Vec::new();
    let name = bare(&facts.name);
    let records: Vec<&String> = sts
        .records
        .iter()
        .filter(|r| mta_sts::is_sts_record(r))
        .collect();
    if records.is_empty() {
        // A TXT at `_mta-sts` that is not MTA-STS: the name does not use it.
        return Ok(out);
    }
    let broken = |problem: String, mode: Option<Mode>, uncovered: Vec<String>| {
        let severity = if mode == Some(Mode::Testing) {
            Severity::Medium
        } else {
            Severity::High
        };
        detection(
            facts,
            FindingCode::MailMtaStsBroken,
            severity,
            format!("MTA-STS of {name} cannot be used: {problem}."),
            json!({"problem": problem, "mode": mode, "uncovered_mx": uncovered}),
        )
    };
    let record_problem = match records.as_slice() {
        [one] => mta_sts::parse_sts_record(one).err(),
        many => Some(format!(
            "_mta-sts.{name} has {} MTA-STS records (RFC 8461 wants exactly one)",
            many.len()
        )),
    };
    if let Some(problem) = record_problem {
        out.push(broken(
            format!("the `_mta-sts` record is not valid: {problem}"),
            None,
            Vec::new(),
        ));
    } else {
        match &sts.policy {
            None => return Err(format!("the MTA-STS policy of {name} was not fetched")),
            Some(Err(FetchFailure::Probe(why))) => {
                return Err(format!("the MTA-STS policy of {name}: {why}"));
            }
            Some(Err(FetchFailure::Server(why))) => out.push(broken(
                format!("the policy https://mta-sts.{name}/.well-known/mta-sts.txt cannot be fetched: {why}"),
                None,
                Vec::new(),
            )),
            Some(Ok(text)) => match mta_sts::parse_policy(text) {
                Err(why) => out.push(broken(
                    format!("the policy file is not valid: {why}"),
                    None,
                    Vec::new(),
                )),
                Ok(policy) if policy.mode != Mode::None => {
                    let hosts = facts
                        .mx
                        .records()
                        .map(mx_hosts)
                        .unwrap_or_default();
                    let uncovered: Vec<String> = mta_sts::uncovered_mx(&policy, &hosts)
                        .into_iter()
                        .cloned()
                        .collect();
                    if !uncovered.is_empty() {
                        out.push(broken(
                            format!(
                                "the policy's `mx` patterns do not match {}",
                                uncovered.join(", ")
                            ),
                            Some(policy.mode),
                            uncovered,
                        ));
                    }
                }
                Ok(_) => {}
            },
        }
    }
    if let Some(txt) = sts.tls_rpt.records()
        && !txt.iter().any(|t| mta_sts::is_tls_rpt(t))
    {
        out.push(detection(
            facts,
            FindingCode::MailTlsRptMissing,
            FindingCode::MailTlsRptMissing.default_severity(),
            format!("{name} uses MTA-STS but publishes no TLS-RPT record at _smtp._tls.{name}."),
            json!({"served": txt}),
        ));
    }
    Ok(out)
}

/// The scope of an SES identity's findings: `<region>/<domain>`.
pub fn identity_scope(identity: &SesIdentity) -> String {
    format!("{}/{}", identity.region, bare(&identity.name))
}

fn identity_detection(
    identity: &SesIdentity,
    code: FindingCode,
    message: String,
    evidence: Value,
) -> Detection {
    Detection {
        code,
        severity: code.default_severity(),
        resource: Resource {
            kind: ResourceKind::SesIdentity,
            id: identity_scope(identity),
            name: bare(&identity.name).to_owned(),
        },
        region: identity.region.clone(),
        scope: identity_scope(identity),
        message,
        evidence,
    }
}

/// Whether a served DKIM CNAME target is SES's for the token:
/// `<token>.dkim.amazonses.com.` or a regional `<token>.dkim.<...>.amazonses.com.`.
pub fn is_ses_dkim_target(token: &str, target: &str) -> bool {
    let target = crate::model::normalize_dns_name(target);
    let token = token.to_ascii_lowercase();
    target
        .strip_prefix(&format!("{token}.dkim."))
        .is_some_and(|rest| rest == "amazonses.com." || rest.ends_with(".amazonses.com."))
}

/// `mail.dkim-ses-*` of one identity. `records` are the served CNAMEs of
/// its tokens (none failed: the caller holds the identity otherwise).
pub fn dkim(identity: &SesIdentity, records: &[DkimRecord]) -> Vec<Detection> {
    let mut out = Vec::new();
    let Some(dkim) = identity
        .dkim
        .as_ref()
        .filter(|d| d.signing_enabled && d.easy())
    else {
        return out;
    };
    let name = bare(&identity.name);
    if dkim.status == "FAILED" {
        out.push(identity_detection(
            identity,
            FindingCode::MailDkimSesFailed,
            format!(
                "SES in {} reports DKIM of {name} as FAILED: it does not sign the domain's mail.",
                identity.region
            ),
            json!({"status": dkim.status, "origin": dkim.origin, "signing_enabled": dkim.signing_enabled}),
        ));
    }
    let wrong: Vec<Value> = records
        .iter()
        .filter_map(|r| {
            let served = match &r.served {
                Lookup::Records(t) if t.iter().any(|t| is_ses_dkim_target(&r.token, t)) => {
                    return None;
                }
                Lookup::Records(t) => json!(t),
                Lookup::NoData => json!("no CNAME"),
                Lookup::NxDomain => json!("NXDOMAIN"),
                Lookup::Failed(_) => return None,
            };
            Some(json!({
                "name": bare(&r.name),
                "expected": format!("{}.dkim.amazonses.com", r.token),
                "served": served,
                "configured": r.configured,
            }))
        })
        .collect();
    if !wrong.is_empty() {
        let names: Vec<&str> = wrong.iter().filter_map(|w| w["name"].as_str()).collect();
        out.push(identity_detection(
            identity,
            FindingCode::MailDkimSesMissing,
            format!(
                "{} of the 3 Easy DKIM CNAMEs of SES identity {name} ({}) are missing or point elsewhere: {}.",
                wrong.len(),
                identity.region,
                names.join(", ")
            ),
            json!({"records": wrong, "status": dkim.status}),
        ));
    }
    out
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
