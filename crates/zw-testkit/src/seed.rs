//! Seeding an emulated account through the real SDK clients.
//!
//! Everything here is written for moto (see [`crate::Moto`]) and documents
//! where moto differs from AWS:
//!
//! - `InUseBy` is always empty, so every certificate is also `cert.unused`.
//! - `RenewalEligibility` is always `INELIGIBLE`, so an Amazon-issued
//!   certificate within 60 days of expiry would also be
//!   `cert.renewal-ineligible`. None is: moto issues requested certificates
//!   for one year.
//! - A requested certificate becomes ISSUED `MOTO_ACM_VALIDATION_WAIT`
//!   seconds after the request whether or not its validation records exist.
//!   Its `DomainValidationOptions` carry a `ResourceRecord` at once, even while
//!   PENDING_VALIDATION (AWS adds it after a few seconds).
//! - moto's validation CNAME is `_d930b28be6c5927595552b219965053e.<domain>.`
//!   with the value `_c9edd76ee4a0e2a74388032f3861cc50.ykybfrwcxw.acm-validations.aws.`
//!   for every domain, certificate, region and account. So two certificates
//!   for the same name share one record (as in AWS, where the CNAME is derived
//!   from the domain and the account), and records of different names differ
//!   only in the name. A `*.example.com` SAN validates with the record of
//!   `example.com`, as in AWS.
//! - Importing an already expired (or not yet valid) certificate is rejected.

use crate::certs;
use crate::error::{Result, TestkitError};
use aws_config::{Region, SdkConfig};
use aws_sdk_acm::types::{CertificateDetail, CertificateStatus, ValidationMethod};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TableStatus,
    TimeToLiveSpecification, TimeToLiveStatus,
};
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};
use aws_smithy_types::Blob;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use zw_core::ports::Clock;

/// How long [`seed_demo_estate`] waits for requested certificates to be
/// ISSUED. Enough for moto's default `MOTO_ACM_VALIDATION_WAIT` of 60 s;
/// `scripts/moto` uses 2 s and [`crate::Moto`] 1 s.
pub const DEMO_ISSUE_TIMEOUT: Duration = Duration::from_secs(90);

const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// TTL of the validation CNAMEs [`upsert_validation_records`] writes.
pub const VALIDATION_RECORD_TTL: i64 = 300;

/// One DNS validation record ACM asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationRecord {
    /// The certificate name (domain or SAN) the record validates.
    pub domain: String,
    /// Record name, as ACM gives it (fully qualified, trailing dot).
    pub name: String,
    /// Always `CNAME` for ACM.
    pub record_type: String,
    pub value: String,
}

// ---------------------------------------------------------------------------
// ACM
// ---------------------------------------------------------------------------

/// Imports a fresh self-signed certificate for `domain`, valid from one day
/// ago until now + `not_after_in`. Returns its ARN.
///
/// `not_after_in` must be positive: moto (like ACM) rejects importing an
/// expired certificate, so "expired" has to be produced with one that expires
/// soon, or be tested on our side.
pub async fn import_certificate(
    acm: &aws_sdk_acm::Client,
    domain: &str,
    not_after_in: chrono::Duration,
) -> Result<String> {
    if not_after_in <= chrono::Duration::zero() {
        return Err(TestkitError::Invalid(format!(
            "import_certificate({domain}): not_after_in must be positive; \
             moto rejects importing an expired certificate"
        )));
    }
    let now = zw_aws::SystemClock.now();
    let cert = certs::self_signed(
        domain,
        &[],
        now - chrono::Duration::days(1),
        now + not_after_in,
    )?;
    import_pem(acm, &cert, None).await
}

/// Imports a generated certificate (with an optional chain PEM). Returns its ARN.
pub async fn import_pem(
    acm: &aws_sdk_acm::Client,
    cert: &certs::GeneratedCert,
    chain_pem: Option<&str>,
) -> Result<String> {
    let out = acm
        .import_certificate()
        .certificate(Blob::new(cert.cert_pem.as_bytes()))
        .private_key(Blob::new(cert.key_pem.as_bytes()))
        .set_certificate_chain(chain_pem.map(|c| Blob::new(c.as_bytes())))
        .send()
        .await
        .map_err(TestkitError::aws("acm:ImportCertificate"))?;
    out.certificate_arn()
        .map(str::to_owned)
        .ok_or(TestkitError::MissingField {
            operation: "acm:ImportCertificate",
            field: "CertificateArn",
        })
}

/// Requests an Amazon-issued certificate for `domain` plus `sans`, validated
/// by DNS. Returns its ARN; it is PENDING_VALIDATION until moto's validation
/// wait has passed (see [`wait_issued`]).
pub async fn request_dns_certificate(
    acm: &aws_sdk_acm::Client,
    domain: &str,
    sans: &[&str],
) -> Result<String> {
    let mut names = vec![domain.to_owned()];
    names.extend(sans.iter().map(|s| (*s).to_owned()));
    let out = acm
        .request_certificate()
        .domain_name(domain)
        .set_subject_alternative_names(Some(names))
        .validation_method(ValidationMethod::Dns)
        .send()
        .await
        .map_err(TestkitError::aws("acm:RequestCertificate"))?;
    out.certificate_arn()
        .map(str::to_owned)
        .ok_or(TestkitError::MissingField {
            operation: "acm:RequestCertificate",
            field: "CertificateArn",
        })
}

/// `DescribeCertificate`.
pub async fn describe_certificate(
    acm: &aws_sdk_acm::Client,
    arn: &str,
) -> Result<CertificateDetail> {
    acm.describe_certificate()
        .certificate_arn(arn)
        .send()
        .await
        .map_err(TestkitError::aws("acm:DescribeCertificate"))?
        .certificate
        .ok_or(TestkitError::MissingField {
            operation: "acm:DescribeCertificate",
            field: "Certificate",
        })
}

/// Polls `DescribeCertificate` until the certificate is ISSUED and every
/// domain validation option has its `ResourceRecord`; returns the last
/// description. Fails after `timeout`.
pub async fn wait_issued(
    acm: &aws_sdk_acm::Client,
    arn: &str,
    timeout: Duration,
) -> Result<CertificateDetail> {
    let started = Instant::now();
    loop {
        let detail = describe_certificate(acm, arn).await?;
        let issued = detail.status() == Some(&CertificateStatus::Issued);
        let dvos = detail.domain_validation_options();
        let records_ready = !dvos.is_empty() && dvos.iter().all(|d| d.resource_record().is_some());
        if issued && records_ready {
            return Ok(detail);
        }
        if started.elapsed() >= timeout {
            return Err(TestkitError::NotIssued {
                arn: arn.to_owned(),
                waited_secs: timeout.as_secs(),
                status: match detail.status() {
                    Some(s) if !records_ready => {
                        format!("{}, validation records not ready", s.as_str())
                    }
                    Some(s) => s.as_str().to_owned(),
                    None => "none".to_owned(),
                },
            });
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// The DNS validation records of a certificate, one per distinct record name
/// (a name and its wildcard share one), sorted by name.
pub async fn validation_records(
    acm: &aws_sdk_acm::Client,
    arn: &str,
) -> Result<Vec<ValidationRecord>> {
    let detail = describe_certificate(acm, arn).await?;
    Ok(validation_records_of(&detail))
}

/// [`validation_records`] from a description already at hand.
pub fn validation_records_of(detail: &CertificateDetail) -> Vec<ValidationRecord> {
    let mut records: Vec<ValidationRecord> = detail
        .domain_validation_options()
        .iter()
        .filter_map(|d| {
            d.resource_record().map(|rr| ValidationRecord {
                domain: d.domain_name().to_owned(),
                name: rr.name().to_owned(),
                record_type: rr.r#type().as_str().to_owned(),
                value: rr.value().to_owned(),
            })
        })
        .collect();
    records.sort_by(|a, b| a.name.cmp(&b.name).then(a.domain.cmp(&b.domain)));
    records.dedup_by(|a, b| same_dns_name(&a.name, &b.name) && a.record_type == b.record_type);
    records
}

// ---------------------------------------------------------------------------
// Route 53
// ---------------------------------------------------------------------------

/// Creates a public hosted zone `name`; returns its bare id (no `/hostedzone/`).
/// Route 53 allows several zones with one name: see [`find_zone`] to reuse one.
pub async fn create_zone(r53: &aws_sdk_route53::Client, name: &str) -> Result<String> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let reference = format!(
        "zw-testkit-{}-{}-{}-{}",
        name.trim_end_matches('.'),
        std::process::id(),
        zw_aws::SystemClock
            .now()
            .timestamp_nanos_opt()
            .unwrap_or_default(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let out = r53
        .create_hosted_zone()
        .name(name)
        .caller_reference(reference)
        .send()
        .await
        .map_err(TestkitError::aws("route53:CreateHostedZone"))?;
    let zone = out.hosted_zone.ok_or(TestkitError::MissingField {
        operation: "route53:CreateHostedZone",
        field: "HostedZone",
    })?;
    Ok(bare_zone_id(zone.id()).to_owned())
}

/// The bare id of the first hosted zone named `name`, if any.
pub async fn find_zone(r53: &aws_sdk_route53::Client, name: &str) -> Result<Option<String>> {
    let out = r53
        .list_hosted_zones_by_name()
        .dns_name(name)
        .max_items(1)
        .send()
        .await
        .map_err(TestkitError::aws("route53:ListHostedZonesByName"))?;
    Ok(out
        .hosted_zones()
        .iter()
        .find(|z| same_dns_name(z.name(), name))
        .map(|z| bare_zone_id(z.id()).to_owned()))
}

/// Every record set of a zone (pages by hand: the SDK has no paginator for
/// `ListResourceRecordSets`).
pub async fn list_records(
    r53: &aws_sdk_route53::Client,
    zone_id: &str,
) -> Result<Vec<ResourceRecordSet>> {
    let mut all = Vec::new();
    let mut next: Option<(String, RrType, Option<String>)> = None;
    loop {
        let mut req = r53.list_resource_record_sets().hosted_zone_id(zone_id);
        if let Some((name, rr_type, identifier)) = next.take() {
            req = req
                .start_record_name(name)
                .start_record_type(rr_type)
                .set_start_record_identifier(identifier);
        }
        let out = req
            .send()
            .await
            .map_err(TestkitError::aws("route53:ListResourceRecordSets"))?;
        all.extend(out.resource_record_sets().iter().cloned());
        if !out.is_truncated() {
            return Ok(all);
        }
        match (out.next_record_name(), out.next_record_type()) {
            (Some(name), Some(rr_type)) => {
                next = Some((
                    name.to_owned(),
                    rr_type.clone(),
                    out.next_record_identifier().map(str::to_owned),
                ));
            }
            _ => return Ok(all),
        }
    }
}

/// UPSERTs every validation CNAME of certificate `arn` into zone `zone_id`
/// (TTL [`VALIDATION_RECORD_TTL`]), in one change batch. Returns the records.
pub async fn upsert_validation_records(
    r53: &aws_sdk_route53::Client,
    zone_id: &str,
    acm: &aws_sdk_acm::Client,
    arn: &str,
) -> Result<Vec<ValidationRecord>> {
    let records = validation_records(acm, arn).await?;
    if records.is_empty() {
        return Err(TestkitError::Invalid(format!(
            "certificate {arn} has no DNS validation records (imported, or not DNS-validated?)"
        )));
    }
    let mut changes = Vec::with_capacity(records.len());
    for r in &records {
        changes.push(change(
            ChangeAction::Upsert,
            &r.name,
            RrType::from(r.record_type.as_str()),
            VALIDATION_RECORD_TTL,
            &r.value,
        )?);
    }
    let batch = ChangeBatch::builder()
        .set_changes(Some(changes))
        .comment(format!("zw-testkit: validation records of {arn}"))
        .build()
        .map_err(TestkitError::build("route53 ChangeBatch"))?;
    r53.change_resource_record_sets()
        .hosted_zone_id(zone_id)
        .change_batch(batch)
        .send()
        .await
        .map_err(TestkitError::aws("route53:ChangeResourceRecordSets"))?;
    Ok(records)
}

/// Deletes the record set `name`/`record_type` from the zone. Route 53 deletes
/// a set only when given all of it, so the set is looked up first (for its TTL
/// and values); it must exist and contain `value`.
pub async fn delete_record(
    r53: &aws_sdk_route53::Client,
    zone_id: &str,
    name: &str,
    record_type: &str,
    value: &str,
) -> Result<()> {
    let rr_type = RrType::from(record_type);
    let out = r53
        .list_resource_record_sets()
        .hosted_zone_id(zone_id)
        .start_record_name(name)
        .start_record_type(rr_type.clone())
        .max_items(1)
        .send()
        .await
        .map_err(TestkitError::aws("route53:ListResourceRecordSets"))?;
    let set = out
        .resource_record_sets()
        .iter()
        .find(|s| same_dns_name(s.name(), name) && *s.r#type() == rr_type)
        .ok_or_else(|| {
            TestkitError::Invalid(format!("no {record_type} record {name} in zone {zone_id}"))
        })?;
    if !set.resource_records().iter().any(|r| r.value() == value) {
        return Err(TestkitError::Invalid(format!(
            "{record_type} record {name} in zone {zone_id} has no value {value}"
        )));
    }
    let batch = ChangeBatch::builder()
        .changes(
            Change::builder()
                .action(ChangeAction::Delete)
                .resource_record_set(set.clone())
                .build()
                .map_err(TestkitError::build("route53 Change"))?,
        )
        .build()
        .map_err(TestkitError::build("route53 ChangeBatch"))?;
    r53.change_resource_record_sets()
        .hosted_zone_id(zone_id)
        .change_batch(batch)
        .send()
        .await
        .map_err(TestkitError::aws("route53:ChangeResourceRecordSets"))?;
    Ok(())
}

fn change(
    action: ChangeAction,
    name: &str,
    rr_type: RrType,
    ttl: i64,
    value: &str,
) -> Result<Change> {
    let set = ResourceRecordSet::builder()
        .name(name)
        .r#type(rr_type)
        .ttl(ttl)
        .resource_records(
            ResourceRecord::builder()
                .value(value)
                .build()
                .map_err(TestkitError::build("route53 ResourceRecord"))?,
        )
        .build()
        .map_err(TestkitError::build("route53 ResourceRecordSet"))?;
    Change::builder()
        .action(action)
        .resource_record_set(set)
        .build()
        .map_err(TestkitError::build("route53 Change"))
}

/// `/hostedzone/Z123` -> `Z123`.
pub fn bare_zone_id(id: &str) -> &str {
    id.strip_prefix("/hostedzone/").unwrap_or(id)
}

/// DNS names equal up to case and a trailing dot.
pub fn same_dns_name(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

// ---------------------------------------------------------------------------
// DynamoDB
// ---------------------------------------------------------------------------

/// Creates the findings table as `template.yaml` does: `pk` (S, HASH) +
/// `sk` (S, RANGE), PAY_PER_REQUEST, TTL on `expires_at`. An existing table
/// (or TTL) is left as it is. (moto never enforces TTL.)
pub async fn create_table(ddb: &aws_sdk_dynamodb::Client, name: &str) -> Result<()> {
    let created = ddb
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("pk")?)
        .attribute_definitions(attribute("sk")?)
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?)
        .send()
        .await;
    if let Err(err) = created {
        let exists = err
            .as_service_error()
            .is_some_and(|e| e.is_resource_in_use_exception());
        if !exists {
            return Err(TestkitError::aws("dynamodb:CreateTable")(err));
        }
    }

    // moto creates tables ACTIVE; AWS takes a few seconds.
    let started = Instant::now();
    loop {
        let status = ddb
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(TestkitError::aws("dynamodb:DescribeTable"))?
            .table
            .and_then(|t| t.table_status);
        if status == Some(TableStatus::Active) {
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            return Err(TestkitError::Invalid(format!(
                "table {name} not ACTIVE after 60 s (status {status:?})"
            )));
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }

    let ttl = ddb
        .describe_time_to_live()
        .table_name(name)
        .send()
        .await
        .map_err(TestkitError::aws("dynamodb:DescribeTimeToLive"))?;
    let already = ttl
        .time_to_live_description()
        .and_then(|d| d.time_to_live_status())
        .is_some_and(|s| matches!(s, TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling));
    if !already {
        ddb.update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name("expires_at")
                    .enabled(true)
                    .build()
                    .map_err(TestkitError::build("dynamodb TimeToLiveSpecification"))?,
            )
            .send()
            .await
            .map_err(TestkitError::aws("dynamodb:UpdateTimeToLive"))?;
    }
    Ok(())
}

fn attribute(name: &str) -> Result<AttributeDefinition> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(TestkitError::build("dynamodb AttributeDefinition"))
}

fn key(name: &str, key_type: KeyType) -> Result<KeySchemaElement> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .map_err(TestkitError::build("dynamodb KeySchemaElement"))
}

// ---------------------------------------------------------------------------
// The demo account
// ---------------------------------------------------------------------------

/// Labels of the demo certificates, and what a scan should make of each.
///
/// Besides the codes named here, every certificate is `cert.unused`
/// (moto's `InUseBy` is always empty). No certificate is
/// `cert.renewal-ineligible` although moto says INELIGIBLE for all: the
/// requested ones are valid for a year and the imported ones never renew
/// (`cert.imported-expiring` instead).
pub mod labels {
    /// (a) first region: `www.demo-shop.example`, DNS-validated, record in
    /// zone `demo-shop.example`. Healthy. Its record is the one
    /// [`CLOUDFRONT_WWW`] relies on too (`cert.validation-record-shared`).
    pub const HEALTHY: &str = "healthy";
    /// (b) first region: imported `legacy.demo-shop.example`, expires in 5 days:
    /// `cert.imported-expiring` (critical; imported certificates never get
    /// `cert.expiring`, which is about managed renewal).
    pub const IMPORTED_EXPIRING_5D: &str = "imported-expiring-5d";
    /// (c) first region: imported `partner.demo-shop.example`, expires in 20 days:
    /// `cert.imported-expiring` (medium: inside the 60-day imported window).
    pub const IMPORTED_EXPIRING_20D: &str = "imported-expiring-20d";
    /// (d) first region: `api.demo-shop.example`, DNS-validated; its validation
    /// CNAME was deleted after issue: `cert.validation-record-missing`.
    pub const VALIDATION_RECORD_DELETED: &str = "validation-record-deleted";
    /// (e) first region: `blog.unrelated-domain.example`, DNS-validated, no
    /// hosted zone for it: `cert.validation-zone-unknown`.
    pub const NO_HOSTED_ZONE: &str = "no-hosted-zone";
    /// (f) second region (us-east-1 by default, CloudFront's):
    /// `cdn.demo-shop.example`, DNS-validated, record present. Healthy.
    pub const CLOUDFRONT_CDN: &str = "cloudfront-cdn";
    /// (g) second region: another `www.demo-shop.example`. moto gives it the
    /// same validation CNAME as [`HEALTHY`] (as AWS would: same name, same
    /// account), so one record serves both: `cert.validation-record-shared`
    /// on both, where the scan sees both regions.
    pub const CLOUDFRONT_WWW: &str = "cloudfront-www";
}

/// One certificate of the demo account.
#[derive(Debug, Clone)]
pub struct DemoCertificate {
    /// One of [`labels`].
    pub label: &'static str,
    pub region: String,
    pub domain: String,
    pub arn: String,
    /// `IMPORTED` or `AMAZON_ISSUED`.
    pub kind: &'static str,
}

/// What [`seed_demo_estate`] created.
#[derive(Debug, Clone)]
pub struct DemoEstate {
    /// `demo-shop.example`.
    pub zone_name: String,
    /// Bare hosted zone id of `demo-shop.example`.
    pub zone_id: String,
    pub certificates: Vec<DemoCertificate>,
    /// Validation records written and then deleted (those of [`labels::VALIDATION_RECORD_DELETED`]).
    pub deleted_records: Vec<ValidationRecord>,
}

impl DemoEstate {
    /// The certificate with this label.
    pub fn get(&self, label: &str) -> Option<&DemoCertificate> {
        self.certificates.iter().find(|c| c.label == label)
    }

    /// The ARN of the certificate with this label.
    pub fn arn(&self, label: &str) -> Option<&str> {
        self.get(label).map(|c| c.arn.as_str())
    }

    /// `{"zone": {...}, "certificates": [{label, region, domain, arn, kind}], "deleted_records": [...]}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "zone": {"name": self.zone_name, "id": self.zone_id},
            "certificates": self.certificates.iter().map(|c| serde_json::json!({
                "label": c.label,
                "region": c.region,
                "domain": c.domain,
                "arn": c.arn,
                "kind": c.kind,
            })).collect::<Vec<_>>(),
            "deleted_records": self.deleted_records.iter().map(|r| serde_json::json!({
                "domain": r.domain,
                "name": r.name,
                "type": r.record_type,
                "value": r.value,
            })).collect::<Vec<_>>(),
        })
    }
}

/// The demo zone.
pub const DEMO_ZONE: &str = "demo-shop.example";

/// Seeds the demo account (see [`labels`]) through clients built from `sdk`
/// (its endpoint and credentials; the region is set per client). Certificates
/// (a)-(e) go to `regions[0]`, (f) and (g) to `regions[1]` if given (normally
/// us-east-1); further regions get nothing. The zone `demo-shop.example` is
/// reused if it exists; certificates are always new, so seeding twice
/// duplicates them (reset moto in between).
///
/// Takes about `MOTO_ACM_VALIDATION_WAIT` seconds: requested certificates must
/// be ISSUED (and carry their records) before the records are written. Waits
/// at most [`DEMO_ISSUE_TIMEOUT`].
pub async fn seed_demo_estate(sdk: &SdkConfig, regions: &[&str]) -> Result<DemoEstate> {
    let Some(first) = regions.first() else {
        return Err(TestkitError::Invalid(
            "seed_demo_estate needs at least one region".to_owned(),
        ));
    };
    let second = regions.get(1);
    let acm1 = acm_client(sdk, first);
    let acm2 = second.map(|r| acm_client(sdk, r));
    let r53 = aws_sdk_route53::Client::new(sdk);

    let mut certificates = Vec::new();
    let mut add = |label, region: &str, domain: &str, arn: String, kind| {
        certificates.push(DemoCertificate {
            label,
            region: region.to_owned(),
            domain: domain.to_owned(),
            arn,
            kind,
        });
    };

    // Request first, so that moto's validation wait runs for all at once.
    let www = request_dns_certificate(&acm1, "www.demo-shop.example", &[]).await?;
    let api = request_dns_certificate(&acm1, "api.demo-shop.example", &[]).await?;
    let blog = request_dns_certificate(&acm1, "blog.unrelated-domain.example", &[]).await?;
    let mut second_region = None;
    if let (Some(region), Some(acm2)) = (second, acm2.as_ref()) {
        let cdn = request_dns_certificate(acm2, "cdn.demo-shop.example", &[]).await?;
        let www2 = request_dns_certificate(acm2, "www.demo-shop.example", &[]).await?;
        second_region = Some((*region, acm2, cdn, www2));
    }

    let legacy =
        import_certificate(&acm1, "legacy.demo-shop.example", chrono::Duration::days(5)).await?;
    let partner = import_certificate(
        &acm1,
        "partner.demo-shop.example",
        chrono::Duration::days(20),
    )
    .await?;

    let zone_id = match find_zone(&r53, DEMO_ZONE).await? {
        Some(id) => id,
        None => create_zone(&r53, DEMO_ZONE).await?,
    };

    for arn in [&www, &api, &blog] {
        wait_issued(&acm1, arn, DEMO_ISSUE_TIMEOUT).await?;
    }
    upsert_validation_records(&r53, &zone_id, &acm1, &www).await?;
    let api_records = upsert_validation_records(&r53, &zone_id, &acm1, &api).await?;
    for r in &api_records {
        delete_record(&r53, &zone_id, &r.name, &r.record_type, &r.value).await?;
    }
    // (e): no zone covers unrelated-domain.example, so nothing to write.

    add(
        labels::HEALTHY,
        first,
        "www.demo-shop.example",
        www,
        "AMAZON_ISSUED",
    );
    add(
        labels::IMPORTED_EXPIRING_5D,
        first,
        "legacy.demo-shop.example",
        legacy,
        "IMPORTED",
    );
    add(
        labels::IMPORTED_EXPIRING_20D,
        first,
        "partner.demo-shop.example",
        partner,
        "IMPORTED",
    );
    add(
        labels::VALIDATION_RECORD_DELETED,
        first,
        "api.demo-shop.example",
        api,
        "AMAZON_ISSUED",
    );
    add(
        labels::NO_HOSTED_ZONE,
        first,
        "blog.unrelated-domain.example",
        blog,
        "AMAZON_ISSUED",
    );

    if let Some((region, acm2, cdn, www2)) = second_region {
        for arn in [&cdn, &www2] {
            wait_issued(acm2, arn, DEMO_ISSUE_TIMEOUT).await?;
        }
        upsert_validation_records(&r53, &zone_id, acm2, &cdn).await?;
        // Same record as (a) under moto: this UPSERT changes nothing then.
        upsert_validation_records(&r53, &zone_id, acm2, &www2).await?;
        add(
            labels::CLOUDFRONT_CDN,
            region,
            "cdn.demo-shop.example",
            cdn,
            "AMAZON_ISSUED",
        );
        add(
            labels::CLOUDFRONT_WWW,
            region,
            "www.demo-shop.example",
            www2,
            "AMAZON_ISSUED",
        );
    }

    Ok(DemoEstate {
        zone_name: DEMO_ZONE.to_owned(),
        zone_id,
        certificates,
        deleted_records: api_records,
    })
}

fn acm_client(sdk: &SdkConfig, region: &str) -> aws_sdk_acm::Client {
    let conf = aws_sdk_acm::config::Builder::from(sdk)
        .region(Region::new(region.to_owned()))
        .build();
    aws_sdk_acm::Client::from_conf(conf)
}
