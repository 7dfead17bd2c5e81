//! The Certificate Transparency watch (opt-in, off unless
//! `ZW_CT_SEARCH_URL` is set): once a day, per public zone apex, the
//! certificates CT logged for the apex and the names below it, against the
//! certificates the estate knows (ACM, served endpoints, in organization
//! mode the other accounts' published ones), the issuers the operator
//! expects, and the CAA in force.
//!
//! collect (the zones, the known serials from the table's inventories, per
//! apex its state, the search answer, the CAA of the names of certificates
//! logged since the last search) -> pure rules (`rules`, with `search` and
//! `caa`) -> the new state.

pub mod caa;
pub mod config;
pub mod model;
pub mod ports;
pub mod rules;
pub mod search;

#[cfg(test)]
mod tests;

use self::model::{KnownCertificates, Violation, WatchState};
use self::ports::{CtSearch, KnownSource, WatchStore};
use self::rules::Judgement;
use crate::catalogue::Check;
use crate::error::{ErrorKind, PortError};
use crate::families::dns::ports::{DnsProbe, InventoryCache};
use crate::families::dns::rules::caa::climb;
use crate::families::mail::ScanLookups;
use crate::families::mail::model::Lookup;
use crate::family::{Family, FamilyOutcome};
use crate::model::{HostedZone, RecordSet, Region, normalize_dns_name};
use crate::ports::ZoneSource;
use crate::record::ScanError;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use std::collections::{BTreeMap, BTreeSet};

pub const NAME: &str = "ct";

/// Names of one certificate whose CAA is looked up at most: a certificate
/// with hundreds of names says as much about its issuer with twenty.
const CAA_NAMES_PER_CERTIFICATE: usize = 20;

/// How far before the last search certificates are judged against the CAA
/// again: a search engine indexes a log entry some time after its
/// timestamp, so an entry stamped just before a search may only be answered
/// by the next. Judging one twice is harmless (violations are kept once).
const INDEXING_OVERLAP: chrono::Duration = chrono::Duration::days(1);

pub struct CtFamily<'a, Z, I, P, S, K, W> {
    pub zones: &'a Z,
    /// The DNS family's inventory cache: the zones' record sets (their
    /// delegations) without listing them again when the copy is fresh.
    pub cache: Option<&'a I>,
    pub inventory_max_age: chrono::Duration,
    pub resolver: &'a P,
    pub search: &'a S,
    pub known: &'a K,
    pub store: &'a W,
    /// `ZW_CT_EXPECTED_ISSUERS`, lower case.
    pub expected_issuers: &'a [String],
    pub retire_unmonitored: bool,
    /// When searching must stop (the invocation's deadline): the apexes not
    /// searched keep their findings and go first next time.
    pub stop: Option<std::time::Instant>,
}

impl<Z, I, P, S, K, W> std::fmt::Debug for CtFamily<'_, Z, I, P, S, K, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CtFamily")
            .field("expected_issuers", &self.expected_issuers)
            .finish_non_exhaustive()
    }
}

impl<Z, I, P, S, K, W> Family for CtFamily<'_, Z, I, P, S, K, W>
where
    Z: ZoneSource,
    I: InventoryCache,
    P: DnsProbe,
    S: CtSearch,
    K: KnownSource,
    W: WatchStore,
{
    fn name(&self) -> &'static str {
        NAME
    }

    fn run(&self, now: DateTime<Utc>) -> BoxFuture<'_, FamilyOutcome> {
        Box::pin(self.scan(now))
    }
}

/// The apexes watched: every public zone's name (bare, lower case), less
/// those below another watched apex, whose certificates that apex's search
/// already answers.
pub fn apexes(zones: &[HostedZone]) -> Vec<String> {
    let names: BTreeSet<String> = zones
        .iter()
        .filter(|z| !z.private)
        .map(|z| normalize_dns_name(&z.name).trim_end_matches('.').to_owned())
        .filter(|n| !n.is_empty())
        .collect();
    names
        .iter()
        .filter(|n| {
            !names
                .iter()
                .any(|other| other != *n && search::within(n, other))
        })
        .cloned()
        .collect()
}

impl<Z, I, P, S, K, W> CtFamily<'_, Z, I, P, S, K, W>
where
    Z: ZoneSource,
    I: InventoryCache,
    P: DnsProbe,
    S: CtSearch,
    K: KnownSource,
    W: WatchStore,
{
    async fn scan(&self, now: DateTime<Utc>) -> FamilyOutcome {
        let mut out = FamilyOutcome::default();
        let records = super::zone_records(
            self.zones,
            self.cache,
            self.inventory_max_age,
            now,
            &mut out.errors,
        )
        .await;
        let Some(zones) = &records.zones else {
            return out;
        };
        let listed: Vec<HostedZone> = zones.iter().map(|(z, _)| z.clone()).collect();
        let apexes = apexes(&listed);
        let delegated = delegated_away(zones);
        let known = match self.known.known().await {
            Ok(k) if k.as_of.is_some() => Some(k),
            Ok(_) => {
                out.errors.push(ScanError::new(
                    Region::global(),
                    PortError::new(
                        "zonewarden",
                        "ct",
                        ErrorKind::NotFound,
                        "no certificate inventory in the table yet: the CT watch judges no certificate as unexpected until the certificates scan has run (`zonewarden scan certificates`)",
                    ),
                ));
                None
            }
            Err(e) => {
                out.errors.push(ScanError::new(Region::global(), e));
                None
            }
        };

        // The states first: the apexes searched longest ago go first, so a
        // run stopped by its deadline leaves the freshest ones for later.
        let mut watched = Vec::new();
        for apex in &apexes {
            match self.store.load(apex).await {
                Ok(state) => watched.push((apex.clone(), state.unwrap_or_default())),
                Err(e) => out.errors.push(ScanError::new(Region::global(), e)),
            }
        }
        watched.sort_by(|a, b| (a.1.searched_at, &a.0).cmp(&(b.1.searched_at, &b.0)));

        let lookups = ScanLookups::new(self.resolver);
        let mut tally = Tally::default();
        for (apex, state) in watched {
            if self.stop.is_some_and(|s| std::time::Instant::now() >= s) {
                tally.deferred += 1;
                continue;
            }
            // A zone whose record sets could not be read has unknown
            // delegations: it waits for the next run (its error is recorded).
            if listed
                .iter()
                .any(|z| records.failed.contains(&z.id) && bare(&z.name) == apex)
            {
                continue;
            }
            let watched = Watched {
                apex: &apex,
                delegated: &delegated,
            };
            self.apex(
                watched,
                state,
                known.as_ref(),
                &lookups,
                now,
                &mut tally,
                &mut out,
            )
            .await;
        }

        for (key, value) in [
            ("ct_apexes", apexes.len()),
            ("ct_apexes_deferred", tally.deferred),
            ("ct_certificates", tally.certificates),
            ("ct_entries_skipped", tally.skipped),
            ("ct_not_yet_known", tally.not_yet_known),
        ] {
            out.counts.insert(key.into(), value as u64);
        }
        out.counts.insert("ct_dns_lookups".into(), lookups.asked());
        if self.retire_unmonitored {
            out.monitored = Some(apexes.into_iter().collect());
        }
        out
    }

    /// One apex: search, judge, look up the CAA of what is new, save.
    #[allow(clippy::too_many_arguments)]
    async fn apex(
        &self,
        watched: Watched<'_>,
        state: WatchState,
        known: Option<&KnownCertificates>,
        lookups: &ScanLookups<'_, P>,
        now: DateTime<Utc>,
        tally: &mut Tally,
        out: &mut FamilyOutcome,
    ) {
        let apex = watched.apex;
        let answer = match self.search.search(apex).await {
            Ok(a) => a,
            Err(e) => {
                out.errors.push(ScanError::new(Region::global(), e));
                return;
            }
        };
        tally.skipped += answer.skipped;
        // Names delegated to zones outside the account are their owners'
        // business: a certificate only for such names is not judged, and
        // its names there are not looked up.
        let certificates: Vec<_> = answer
            .certificates
            .into_iter()
            .map(|mut c| {
                c.names.retain(|n| !watched.is_delegated_away(n));
                c
            })
            .filter(|c| !rules::names_within(c, apex).is_empty())
            .filter(|c| c.not_after.is_none_or(|end| end > now))
            .collect();
        tally.certificates += certificates.len();

        if let Some(known) = known {
            for c in &certificates {
                match rules::judge(c, known, self.expected_issuers, now) {
                    Judgement::Unexpected => out.detections.push(rules::unexpected(apex, c)),
                    Judgement::NotYetKnown => tally.not_yet_known += 1,
                    Judgement::Known | Judgement::ExpectedIssuer | Judgement::Expired => {}
                }
            }
            out.coverage.insert(Check::CtIssuance, apex);
        }

        // The CAA: always the apex's (so the next run has its history),
        // and the names of the certificates logged since the last search.
        // The first search of an apex judges nothing against the CAA: what
        // was in force when older certificates were issued is unknown.
        let new: Vec<_> = match state.searched_at {
            Some(since) => certificates
                .iter()
                .filter(|c| c.logged_at > since - INDEXING_OVERLAP)
                .collect(),
            None => Vec::new(),
        };
        let mut names: BTreeSet<String> = BTreeSet::from([apex.to_owned()]);
        for c in &new {
            names.extend(
                rules::names_within(c, apex)
                    .into_iter()
                    .take(CAA_NAMES_PER_CERTIFICATE)
                    .map(str::to_owned),
            );
        }
        let mut caa: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
        let mut caa_complete = true;
        for name in &names {
            match relevant_caa(lookups, name).await {
                Ok(found) => {
                    caa.insert(name.clone(), found);
                }
                Err(why) => {
                    caa_complete = false;
                    out.errors.push(ScanError::new(
                        Region::global(),
                        PortError::new(
                            "dns",
                            "CAA",
                            ErrorKind::Transient,
                            format!("the CAA of {name} could not be resolved: {why}"),
                        ),
                    ));
                }
            }
        }

        let mut violations: Vec<Violation> = state
            .violations
            .into_iter()
            .filter(|v| v.certificate.not_after.is_none_or(|end| end > now))
            .collect();
        for c in &new {
            for name in rules::names_within(c, apex)
                .into_iter()
                .take(CAA_NAMES_PER_CERTIFICATE)
            {
                let Some((at, records)) = caa.get(name) else {
                    continue;
                };
                let previous = state.caa.get(name).map(Vec::as_slice);
                if let Some(v) = rules::caa_violation(c, name, at, records, previous) {
                    let seen = violations.iter().any(|old| {
                        old.certificate.serial == v.certificate.serial
                            && old.certificate.issuer == v.certificate.issuer
                    });
                    if !seen {
                        violations.push(v);
                    }
                    // One violation per certificate: its first forbidden name.
                    break;
                }
            }
        }
        out.detections
            .extend(violations.iter().map(|v| rules::violation(apex, v)));
        if caa_complete {
            out.coverage.insert(Check::CtCaa, apex);
        }

        let next = WatchState {
            // A search whose CAA lookups failed moves the watermark only if
            // every new certificate was judged; otherwise the window stays.
            searched_at: if caa_complete {
                Some(now)
            } else {
                state.searched_at
            },
            caa: if caa_complete {
                caa.into_iter().map(|(name, (_, r))| (name, r)).collect()
            } else {
                state.caa
            },
            violations,
        };
        if let Err(e) = self.store.save(apex, &next).await {
            out.errors.push(ScanError::new(Region::global(), e));
        }
    }
}

/// One apex being watched, with the subtrees delegated away from the
/// account's zones.
#[derive(Debug, Clone, Copy)]
struct Watched<'a> {
    apex: &'a str,
    delegated: &'a [String],
}

impl Watched<'_> {
    fn is_delegated_away(&self, name: &str) -> bool {
        self.delegated.iter().any(|d| search::within(name, d))
    }
}

/// The names (bare, lower case) that the account's public zones delegate
/// to name servers of zones the account does not host: NS record sets below
/// a zone's apex, less those of the account's own hosted zones.
pub fn delegated_away(zones: &[(HostedZone, Vec<RecordSet>)]) -> Vec<String> {
    let hosted: BTreeSet<String> = zones.iter().map(|(z, _)| bare(&z.name)).collect();
    let mut out: Vec<String> = zones
        .iter()
        .filter(|(z, _)| !z.private)
        .flat_map(|(z, sets)| {
            let apex = bare(&z.name);
            sets.iter()
                .filter(|r| r.record_type.eq_ignore_ascii_case("NS"))
                .map(|r| bare(&r.name))
                .filter(|n| *n != apex)
                .collect::<Vec<_>>()
        })
        .filter(|n| !hosted.contains(n))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// A zone or record name bare: lower case, no trailing dot.
fn bare(name: &str) -> String {
    normalize_dns_name(name).trim_end_matches('.').to_owned()
}

#[derive(Debug, Default)]
struct Tally {
    deferred: usize,
    certificates: usize,
    skipped: usize,
    not_yet_known: usize,
}

/// The relevant CAA record set of `name` (RFC 8659 section 3): where it was
/// found and its records; ("", []) when no name up the tree has one. Err
/// when a lookup failed (not evidence either way).
async fn relevant_caa<P: DnsProbe>(
    lookups: &ScanLookups<'_, P>,
    name: &str,
) -> Result<(String, Vec<String>), String> {
    for candidate in climb(name) {
        match lookups.lookup(&candidate, "CAA").await {
            Lookup::Records(records) if !records.is_empty() => {
                return Ok((candidate.trim_end_matches('.').to_owned(), records));
            }
            Lookup::Records(_) | Lookup::NoData | Lookup::NxDomain => {}
            Lookup::Failed(why) => return Err(format!("{candidate}: {why}")),
        }
    }
    Ok((String::new(), Vec::new()))
}
