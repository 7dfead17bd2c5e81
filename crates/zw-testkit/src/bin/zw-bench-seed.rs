//! Seeds a large certificate estate into a local emulator, for the
//! performance baseline (`benches/scan-500.sh`, `docs/performance.md`).
//!
//! ```text
//! MOTO_ACM_VALIDATION_WAIT=1 scripts/moto start 5060 && eval "$(scripts/moto env 5060)"
//! zw-bench-seed --per-region 250 [--table NAME] [--zones N] [--filler-records N] \
//!     [--concurrency N] [REGION...]
//! ```
//!
//! Like `zw-demo-seed`, it talks to `AWS_ENDPOINT_URL` only and refuses to run
//! unless that is a loopback URL; credentials are the static `testing` pair.
//! Regions default to `eu-west-1 us-east-1`; the findings table (default
//! `zonewarden-bench`) is created in the first.
//!
//! The estate, per region, for `--per-region N` (deterministic, no randomness):
//!
//! - 60 % imported self-signed certificates, expiring in 5, 20, 45, 90, 150,
//!   200, 270, 330, 365 or 700 days (round robin: 3 in 10 within 60 days).
//! - 40 % requested DNS-validated certificates spread round robin over the
//!   hosted zones `bench-0.example` .. `bench-{Z-1}.example` (every fourth with
//!   a `*.` SAN too); their validation CNAMEs are UPSERTed in batches per zone.
//!   Of these, one in eleven (spread over the zones) has its record deleted
//!   again afterwards (`cert.validation-record-missing`) and one in twenty is under
//!   `unzoned-bench.example`, for which no zone exists
//!   (`cert.validation-zone-unknown`).
//! - The first zone also gets `--filler-records` A records (default 600), so
//!   that reading it takes several `ListResourceRecordSets` pages (300 each),
//!   as a large production zone would.
//!
//! Zones are created once and shared by all regions (Route 53 is global).
//! Seeding runs `--concurrency` requests at a time (default 8): moto is one
//! Python process, a few concurrent requests keep it busy without piling up.
//! Requested certificates become ISSUED after moto's
//! `MOTO_ACM_VALIDATION_WAIT`; start moto with 1 s to keep seeding quick.
//!
//! Prints a JSON summary on stdout. moto's quirks (every certificate is also
//! `cert.unused`, every validation CNAME has the same value) are described in
//! `zw_testkit::seed`.

use anyhow::{Context, bail};
use aws_config::{Region, SdkConfig};
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};
use std::collections::BTreeMap;
use std::future::Future;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use zw_testkit::ValidationRecord;
use zw_testkit::is_loopback_url;
use zw_testkit::seed;

const USAGE: &str = "usage: zw-bench-seed --per-region N [--table NAME] [--zones N] \
[--filler-records N] [--concurrency N] [REGION...]

Seeds N certificates per region (60% imported with spread expiry, 40% requested
and DNS-validated across --zones hosted zones, default 10), the findings table
(default zonewarden-bench, in the first region) into the emulator at
AWS_ENDPOINT_URL, which must be a loopback URL. Regions default to eu-west-1
us-east-1. Start moto with MOTO_ACM_VALIDATION_WAIT=1 to keep it quick.";

/// Days to expiry of imported certificates, used round robin.
const IMPORTED_EXPIRY_DAYS: [i64; 10] = [5, 20, 45, 90, 150, 200, 270, 330, 365, 700];
/// Domain without a hosted zone (one requested certificate in twenty).
const UNZONED_DOMAIN: &str = "unzoned-bench.example";
/// How long to wait for requested certificates to be ISSUED.
const ISSUE_TIMEOUT: Duration = Duration::from_secs(180);
/// Changes per ChangeResourceRecordSets batch (Route 53 allows 1000).
const CHANGES_PER_BATCH: usize = 100;

#[derive(Debug)]
struct Options {
    per_region: usize,
    table: String,
    zones: usize,
    filler_records: usize,
    concurrency: usize,
    regions: Vec<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("zw-bench-seed: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args() -> anyhow::Result<Option<Options>> {
    let mut per_region: Option<usize> = None;
    let mut opts = Options {
        per_region: 0,
        table: "zonewarden-bench".to_owned(),
        zones: 10,
        filler_records: 600,
        concurrency: 8,
        regions: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> anyhow::Result<String> {
            match inline.clone() {
                Some(v) => Ok(v),
                None => args.next().with_context(|| format!("{name} needs a value")),
            }
        };
        let number = |name: &str, v: String| -> anyhow::Result<usize> {
            v.parse::<usize>()
                .with_context(|| format!("{name}: not a number: {v}"))
        };
        match flag.as_str() {
            "-h" | "--help" => {
                eprintln!("{USAGE}");
                return Ok(None);
            }
            "--per-region" => per_region = Some(number("--per-region", value("--per-region")?)?),
            "--table" => opts.table = value("--table")?,
            "--zones" => opts.zones = number("--zones", value("--zones")?)?,
            "--filler-records" => {
                opts.filler_records = number("--filler-records", value("--filler-records")?)?;
            }
            "--concurrency" => {
                opts.concurrency = number("--concurrency", value("--concurrency")?)?;
            }
            other if other.starts_with('-') => bail!("unknown option {other}\n\n{USAGE}"),
            region => opts.regions.push(region.to_owned()),
        }
    }
    opts.per_region = per_region.with_context(|| format!("--per-region is required\n\n{USAGE}"))?;
    if opts.table.is_empty() {
        bail!("--table needs a non-empty NAME");
    }
    if opts.zones == 0 {
        bail!("--zones must be at least 1");
    }
    opts.concurrency = opts.concurrency.max(1);
    if opts.regions.is_empty() {
        opts.regions = vec!["eu-west-1".to_owned(), "us-east-1".to_owned()];
    }
    Ok(Some(opts))
}

/// Runs `make(i)` for every `i` in `0..n`, at most `limit` at a time, and
/// returns the results in order of `i`.
async fn bounded<T, F, Fut>(n: usize, limit: &Arc<Semaphore>, make: F) -> anyhow::Result<Vec<T>>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: Future<Output = anyhow::Result<T>> + Send + 'static,
{
    let mut set = JoinSet::new();
    for i in 0..n {
        let permit_source = Arc::clone(limit);
        let fut = make(i);
        set.spawn(async move {
            let _permit = permit_source.acquire_owned().await?;
            Ok::<_, anyhow::Error>((i, fut.await?))
        });
    }
    let mut out: Vec<Option<T>> = (0..n).map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        let (i, value) = joined.context("seeding task panicked")??;
        if let Some(slot) = out.get_mut(i) {
            *slot = Some(value);
        }
    }
    out.into_iter()
        .map(|v| v.context("seeding task lost its result"))
        .collect()
}

fn acm_client(sdk: &SdkConfig, region: &str) -> aws_sdk_acm::Client {
    let conf = aws_sdk_acm::config::Builder::from(sdk)
        .region(Region::new(region.to_owned()))
        .build();
    aws_sdk_acm::Client::from_conf(conf)
}

/// One requested certificate to be.
#[derive(Debug, Clone)]
struct Requested {
    domain: String,
    /// Index into the zones, or None for [`UNZONED_DOMAIN`].
    zone: Option<usize>,
    wildcard: bool,
    delete_record: bool,
}

fn plan_requested(region: &str, count: usize, zones: usize) -> Vec<Requested> {
    (0..count)
        .map(|i| {
            let zone = if i % 20 == 19 { None } else { Some(i % zones) };
            let parent = match zone {
                Some(z) => zone_name(z),
                None => UNZONED_DOMAIN.to_owned(),
            };
            Requested {
                domain: format!("app-{i}.{region}.{parent}"),
                zone,
                wildcard: i % 4 == 3,
                // 11 is coprime with the default 10 zones: deletions spread over them.
                delete_record: zone.is_some() && i % 11 == 7,
            }
        })
        .collect()
}

fn zone_name(k: usize) -> String {
    format!("bench-{k}.example")
}

fn rr_set(name: &str, rr_type: RrType, ttl: i64, value: &str) -> anyhow::Result<ResourceRecordSet> {
    Ok(ResourceRecordSet::builder()
        .name(name)
        .r#type(rr_type)
        .ttl(ttl)
        .resource_records(ResourceRecord::builder().value(value).build()?)
        .build()?)
}

/// Sends `changes` to a zone in batches of [`CHANGES_PER_BATCH`]. Returns the
/// number of ChangeResourceRecordSets calls.
/// One change per validation record, all with the same action.
fn record_changes(
    action: ChangeAction,
    records: &[ValidationRecord],
) -> anyhow::Result<Vec<Change>> {
    records
        .iter()
        .map(|r| {
            Ok(Change::builder()
                .action(action.clone())
                .resource_record_set(rr_set(
                    &r.name,
                    RrType::from(r.record_type.as_str()),
                    seed::VALIDATION_RECORD_TTL,
                    &r.value,
                )?)
                .build()?)
        })
        .collect()
}

async fn change_in_batches(
    r53: &aws_sdk_route53::Client,
    zone_id: &str,
    changes: Vec<Change>,
    comment: &str,
) -> anyhow::Result<usize> {
    let mut calls = 0;
    for chunk in changes.chunks(CHANGES_PER_BATCH) {
        let batch = ChangeBatch::builder()
            .set_changes(Some(chunk.to_vec()))
            .comment(comment)
            .build()?;
        r53.change_resource_record_sets()
            .hosted_zone_id(zone_id)
            .change_batch(batch)
            .send()
            .await
            .with_context(|| {
                format!("route53:ChangeResourceRecordSets on {zone_id} ({comment})")
            })?;
        calls += 1;
    }
    Ok(calls)
}

async fn run() -> anyhow::Result<()> {
    let Some(opts) = parse_args()? else {
        return Ok(());
    };
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    if endpoint.is_empty() {
        bail!(
            "AWS_ENDPOINT_URL is not set. zw-bench-seed only seeds a local emulator: \
             MOTO_ACM_VALIDATION_WAIT=1 scripts/moto start 5060, then eval \"$(scripts/moto env 5060)\""
        );
    }
    if !is_loopback_url(&endpoint) {
        bail!(
            "AWS_ENDPOINT_URL={endpoint} is not a loopback URL (http://127.0.0.1:PORT, \
             http://localhost:PORT, http://[::1]:PORT); refusing to seed: the benchmark \
             estate must never be written to a real account"
        );
    }

    let started = Instant::now();
    let first_region = opts.regions.first().context("no region")?.clone();
    let sdk = zw_testkit::sdk_config_for(&endpoint, &first_region).await;
    let r53 = aws_sdk_route53::Client::new(&sdk);
    let limit = Arc::new(Semaphore::new(opts.concurrency));
    let imported_per_region = opts.per_region * 6 / 10;
    let requested_per_region = opts.per_region - imported_per_region;
    eprintln!(
        "zw-bench-seed: {} per region ({imported_per_region} imported, {requested_per_region} \
         requested) in {} at {endpoint}, {} zones, concurrency {}",
        opts.per_region,
        opts.regions.join(", "),
        opts.zones,
        opts.concurrency
    );

    // Zones (global), then the filler records of the first zone.
    let zone_ids: Vec<String> = {
        let r53 = r53.clone();
        bounded(opts.zones, &limit, move |k| {
            let r53 = r53.clone();
            async move {
                let name = zone_name(k);
                let id = match seed::find_zone(&r53, &name).await? {
                    Some(id) => id,
                    None => seed::create_zone(&r53, &name).await?,
                };
                Ok(id)
            }
        })
        .await
        .context("creating hosted zones")?
    };
    let mut route53_change_calls = 0;
    if opts.filler_records > 0
        && let Some(first_zone) = zone_ids.first()
    {
        let zone = zone_name(0);
        let mut changes = Vec::with_capacity(opts.filler_records);
        for i in 0..opts.filler_records {
            let value = format!("192.0.2.{}", 1 + i % 254);
            changes.push(
                Change::builder()
                    .action(ChangeAction::Upsert)
                    .resource_record_set(rr_set(
                        &format!("host-{i:04}.{zone}."),
                        RrType::A,
                        300,
                        &value,
                    )?)
                    .build()?,
            );
        }
        route53_change_calls +=
            change_in_batches(&r53, first_zone, changes, "zw-bench-seed: filler records").await?;
    }

    // Request every certificate first, so that moto's validation wait runs
    // for all of them at once; import while it runs.
    let mut per_region_requested: Vec<(String, aws_sdk_acm::Client, Vec<Requested>, Vec<String>)> =
        Vec::new();
    for region in &opts.regions {
        let acm = acm_client(&sdk, region);
        let plan = plan_requested(region, requested_per_region, opts.zones);
        let arns = {
            let plan = plan.clone();
            let acm = acm.clone();
            bounded(plan.len(), &limit, move |i| {
                let acm = acm.clone();
                let r = plan.get(i).cloned();
                async move {
                    let r = r.context("plan index")?;
                    let wildcard = format!("*.{}", r.domain);
                    let sans: Vec<&str> = if r.wildcard {
                        vec![wildcard.as_str()]
                    } else {
                        vec![]
                    };
                    Ok(seed::request_dns_certificate(&acm, &r.domain, &sans).await?)
                }
            })
            .await
            .with_context(|| format!("requesting certificates in {region}"))?
        };
        per_region_requested.push((region.clone(), acm, plan, arns));
    }
    let requested_at = Instant::now();

    let mut imported_expiring_60d = 0;
    for region in &opts.regions {
        let acm = acm_client(&sdk, region);
        let region_name = region.clone();
        bounded(imported_per_region, &limit, move |i| {
            let acm = acm.clone();
            let days = IMPORTED_EXPIRY_DAYS[i % IMPORTED_EXPIRY_DAYS.len()];
            let domain = format!("legacy-{i}.{region_name}.imported-bench.example");
            async move {
                Ok(seed::import_certificate(&acm, &domain, chrono::Duration::days(days)).await?)
            }
        })
        .await
        .with_context(|| format!("importing certificates in {region}"))?;
        imported_expiring_60d += (0..imported_per_region)
            .filter(|i| IMPORTED_EXPIRY_DAYS[i % IMPORTED_EXPIRY_DAYS.len()] <= 60)
            .count();
    }

    // Wait for ISSUED, collect the validation records per zone.
    let mut upserts: BTreeMap<usize, Vec<ValidationRecord>> = BTreeMap::new();
    let mut deletes: BTreeMap<usize, Vec<ValidationRecord>> = BTreeMap::new();
    let mut unzoned = 0;
    for (region, acm, plan, arns) in &per_region_requested {
        let details = {
            let acm = acm.clone();
            let arns = arns.clone();
            bounded(arns.len(), &limit, move |i| {
                let acm = acm.clone();
                let arn = arns.get(i).cloned();
                async move {
                    let arn = arn.context("arn index")?;
                    Ok(seed::wait_issued(&acm, &arn, ISSUE_TIMEOUT).await?)
                }
            })
            .await
            .with_context(|| format!("waiting for requested certificates in {region}"))?
        };
        for (r, detail) in plan.iter().zip(&details) {
            let Some(zone) = r.zone else {
                unzoned += 1;
                continue;
            };
            let records = seed::validation_records_of(detail);
            if r.delete_record {
                deletes.entry(zone).or_default().extend(records.clone());
            }
            upserts.entry(zone).or_default().extend(records);
        }
    }
    let issue_wait = requested_at.elapsed();

    let mut upserted = 0;
    let mut deleted = 0;
    for (zone, records) in &upserts {
        let zone_id = zone_ids.get(*zone).context("zone index")?;
        let changes = record_changes(ChangeAction::Upsert, records)?;
        upserted += changes.len();
        route53_change_calls +=
            change_in_batches(&r53, zone_id, changes, "zw-bench-seed: validation records").await?;
    }
    for (zone, records) in &deletes {
        let zone_id = zone_ids.get(*zone).context("zone index")?;
        let changes = record_changes(ChangeAction::Delete, records)?;
        deleted += changes.len();
        route53_change_calls += change_in_batches(
            &r53,
            zone_id,
            changes,
            "zw-bench-seed: delete validation records",
        )
        .await?;
    }

    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    seed::create_table(&ddb, &opts.table)
        .await
        .with_context(|| format!("creating table {}", opts.table))?;

    let regions = opts.regions.len();
    let summary = serde_json::json!({
        "endpoint": endpoint,
        "regions": opts.regions,
        "per_region": opts.per_region,
        "certificates": opts.per_region * regions,
        "imported": imported_per_region * regions,
        "imported_expiring_within_60_days": imported_expiring_60d,
        "requested": requested_per_region * regions,
        "requested_without_zone": unzoned,
        "validation_records_upserted": upserted,
        "validation_records_deleted": deleted,
        "zones": zone_ids.iter().enumerate().map(|(k, id)| serde_json::json!({
            "name": zone_name(k), "id": id,
        })).collect::<Vec<_>>(),
        "filler_records_in_first_zone": opts.filler_records,
        "route53_change_calls": route53_change_calls,
        "table": {"name": opts.table, "region": first_region},
        "issue_wait_seconds": issue_wait.as_secs_f64(),
        "elapsed_seconds": started.elapsed().as_secs_f64(),
    });
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, &summary)?;
    writeln!(stdout)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::plan_requested;

    #[test]
    fn the_requested_mix_has_zoneless_and_deleted_records() {
        let plan = plan_requested("eu-west-1", 100, 10);
        assert_eq!(plan.iter().filter(|r| r.zone.is_none()).count(), 5);
        let deleted: Vec<_> = plan.iter().filter(|r| r.delete_record).collect();
        assert_eq!(deleted.len(), 9);
        let zones: std::collections::BTreeSet<_> = deleted.iter().filter_map(|r| r.zone).collect();
        assert_eq!(zones.len(), 9, "deleted records spread over the zones");
        assert_eq!(plan.iter().filter(|r| r.wildcard).count(), 25);
    }
}
