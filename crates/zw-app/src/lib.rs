//! The application layer shared by the `zonewarden` CLI and the Lambda
//! functions: which families a scan runs, the adapters they need (built once,
//! and only for the families selected), and one call that runs them through
//! the spine. The CLI and each function differ only in how they are started,
//! where they publish metrics and how they print the report.

pub mod license;
pub mod org;

use serde::Serialize;
use std::fmt;
use std::time::Duration;
use zw_aws::health::{DynamoHealthHistory, HealthAlarmReader};
use zw_aws::inventory::DynamoInventoryCache;
use zw_aws::targets::{AwsTargetsAdapter, TargetsSettings};
use zw_aws::{SdkConfig, Services, SystemClock};
use zw_core::PortError;
use zw_core::families::certificates::CertificateFamily;
use zw_core::families::dns::DnsFamily;
use zw_core::families::endpoints::EndpointsFamily;
use zw_core::families::health::HealthFamily;
use zw_core::ports::{FindingStore, MetricSink};
use zw_core::scan::{self, ScanLabel, ScanReport, Sinks};
use zw_core::{Config, Family};
use zw_dns::{Probe, ProbeSettings};
use zw_tls::{TlsProbe, TlsProbeSettings};

/// A check family, as named on the command line and in the scan record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FamilyKind {
    Certificates,
    Dns,
    Health,
    Endpoints,
}

impl FamilyKind {
    pub const ALL: [FamilyKind; 4] = [Self::Certificates, Self::Dns, Self::Health, Self::Endpoints];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Certificates => zw_core::families::certificates::NAME,
            Self::Dns => zw_core::families::dns::NAME,
            Self::Health => zw_core::families::health::NAME,
            Self::Endpoints => zw_core::families::endpoints::NAME,
        }
    }
}

/// Why an `App` could not be built: a setting that only shows itself when
/// its adapter is made (an unreadable extra-roots file, say).
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Port(#[from] PortError),
    #[error(transparent)]
    Tls(#[from] zw_tls::TlsProbeError),
    #[error("ZW_LICENSE_PUBLIC_KEY: {0}")]
    License(#[from] zw_license::LicenseError),
}

/// The DNS resolver settings every family that resolves names shares.
fn probe_settings(config: &Config) -> ProbeSettings {
    let dns = &config.dns;
    ProbeSettings {
        root_hints: dns.root_hints.clone(),
        nameserver_addresses: dns.nameserver_addresses.clone(),
        timeout: Duration::from_millis(u64::from(dns.timeout_ms)),
        qps_per_server: dns.qps_per_server,
        scope: dns.probe_scope.clone(),
        ..ProbeSettings::default()
    }
}

/// The health family's adapters.
#[derive(Debug, Clone)]
pub struct HealthAdapters {
    pub alarms: HealthAlarmReader,
    pub history: Option<DynamoHealthHistory>,
    pub cache: Option<DynamoInventoryCache>,
}

/// The endpoints family's adapters.
#[derive(Debug, Clone)]
pub struct EndpointsAdapters {
    pub attachments: AwsTargetsAdapter,
    pub cache: Option<DynamoInventoryCache>,
    pub tls: TlsProbe,
    pub resolver: ProbeSettings,
}

/// Where the DNS expectations document comes from.
pub type Expectations = zw_aws::document::Document;

/// The DNS family's adapters, built only when the family runs.
#[derive(Debug, Clone)]
pub struct DnsAdapters {
    pub targets: AwsTargetsAdapter,
    pub cache: Option<DynamoInventoryCache>,
    pub expectations: Expectations,
    pub probe: ProbeSettings,
}

impl DnsAdapters {
    fn new(
        config: &Config,
        sdk: &SdkConfig,
        central: &SdkConfig,
        services: &Services,
    ) -> Result<Self, PortError> {
        let dns = &config.dns;
        let targets = AwsTargetsAdapter::new(
            sdk,
            &services.calls,
            &TargetsSettings {
                ip_ranges_url: dns.ip_ranges_url.clone(),
                regions: config.common.regions.clone(),
                ..TargetsSettings::default()
            },
        )?;
        // The deployment's own parameter, in the central account.
        let expectations = Expectations::choose(
            central,
            dns.expectations_parameter.as_deref(),
            dns.expectations_file.as_deref(),
            &services.calls,
        );
        Ok(Self {
            targets,
            // The findings table's client: one DynamoDB client per process.
            cache: services.store.as_ref().map(|s| {
                DynamoInventoryCache::with_client(s.client().clone(), s.table().to_owned())
                    .in_partition(s.partition().clone())
            }),
            expectations,
            probe: probe_settings(config),
        })
    }
}

impl fmt::Display for FamilyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a trigger adds to a scan.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Hosted zones a change event named: their inventory is listed again.
    pub changed_zones: std::collections::BTreeSet<String>,
    /// Resolve open findings of regions, zones and certificates that are no
    /// longer monitored. The functions do, since their configuration is the
    /// stack's; the CLI does not, since a run narrowed with `--region` or
    /// `--zone` against the stack's table is not a new configuration.
    pub retire_unmonitored: bool,
    /// When collection must stop at the latest (the Lambda invocation's end,
    /// less time to store and report). `ZW_SCAN_DEADLINE_SECONDS` applies
    /// either way; the earlier one wins.
    pub deadline: Option<std::time::Instant>,
    /// When the invocation ends (the Lambda's own deadline): the shared
    /// tail (commit, scan record, metrics, events) bounds each step by it.
    /// None: no limit (the CLI).
    pub end: Option<std::time::SystemTime>,
}

/// A family whose collection stops at a deadline. Cut short, it reports an
/// error and nothing else: no coverage, so none of its findings is resolved
/// or changed, and the shared tail still stores, records and reports the
/// other families and the open findings already known.
struct Bounded<'a> {
    inner: &'a dyn Family,
    deadline: tokio::time::Instant,
}

impl Family for Bounded<'_> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn run(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> futures::future::BoxFuture<'_, zw_core::FamilyOutcome> {
        Box::pin(async move {
            match tokio::time::timeout_at(self.deadline, self.inner.run(now)).await {
                Ok(outcome) => outcome,
                Err(_) => zw_core::FamilyOutcome {
                    errors: vec![zw_core::ScanError::new(
                        zw_core::Region::global(),
                        PortError::new(
                            "zonewarden",
                            "deadline",
                            zw_core::ErrorKind::Transient,
                            format!(
                                "the {} scan was cut short at its deadline (ZW_SCAN_DEADLINE_SECONDS, or the Lambda timeout less time to store): nothing of it was changed; raise the function's timeout or narrow its regions or zones",
                                self.inner.name()
                            ),
                        ),
                    )],
                    ..zw_core::FamilyOutcome::default()
                },
            }
        })
    }
}

/// A family under the deployment's license (`zw_core::license::apply`):
/// what an invalid license does not cover pauses, the estate's size is
/// judged, and the lead family of the scan carries the standing's own
/// findings and metric.
struct Licensed<'a> {
    inner: &'a dyn Family,
    standing: &'a Result<zw_core::license::Standing, PortError>,
    lead: bool,
}

impl Family for Licensed<'_> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn run(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> futures::future::BoxFuture<'_, zw_core::FamilyOutcome> {
        Box::pin(async move {
            let mut out = self.inner.run(now).await;
            match self.standing {
                Ok(standing) => zw_core::license::apply(&mut out, standing, self.lead, now),
                // The cached license could not be read: every license
                // finding stays as it is (nothing covered), and it is said.
                Err(e) if self.lead => out.errors.push(zw_core::ScanError::new(
                    zw_core::Region::global(),
                    PortError::new(
                        e.service,
                        e.operation,
                        e.kind,
                        format!(
                            "the cached license could not be read, so the license was not judged this scan (nothing paused, license findings unchanged): {}",
                            e.message
                        ),
                    ),
                )),
                Err(_) => {}
            }
            out
        })
    }
}

/// When ACM describing stops: at 80% of the time to the family's deadline,
/// so that the validation zones (Route 53, paced at 2/s) are still read and
/// what was described is evaluated, not thrown away by the deadline.
fn describe_stop(started: std::time::Instant, deadline: std::time::Instant) -> std::time::Instant {
    started + deadline.saturating_duration_since(started).mul_f64(0.8)
}

/// Everything a process needs to scan, built once (Lambda init, CLI start).
#[derive(Debug, Clone)]
pub struct App {
    pub config: std::sync::Arc<Config>,
    pub services: Services,
    pub clock: SystemClock,
    pub dns: Option<DnsAdapters>,
    pub health: Option<HealthAdapters>,
    pub endpoints: Option<EndpointsAdapters>,
    pub license: license::LicenseAdapters,
    kinds: Vec<FamilyKind>,
}

impl App {
    /// Builds the adapters of `kinds` (and only those) from one `SdkConfig`.
    pub fn new(config: Config, sdk: &SdkConfig, kinds: &[FamilyKind]) -> Result<Self, AppError> {
        Self::build(config, sdk, sdk, kinds, zw_aws::table::Partition::single())
    }

    /// An app for one member account (organization mode): collectors on
    /// `member` (its assumed role, read-only), the findings table, the
    /// license and the expectations document on `central` (the
    /// deployment's own credentials), findings under the account's
    /// partition keys.
    pub fn for_account(
        config: Config,
        member: &SdkConfig,
        central: &SdkConfig,
        kinds: &[FamilyKind],
        account: zw_core::org::AccountRef,
    ) -> Result<Self, AppError> {
        Self::build(
            config,
            member,
            central,
            kinds,
            zw_aws::table::Partition::account(account),
        )
    }

    fn build(
        config: Config,
        sdk: &SdkConfig,
        central: &SdkConfig,
        kinds: &[FamilyKind],
        partition: zw_aws::table::Partition,
    ) -> Result<Self, AppError> {
        let services = Services::split(sdk, central, &config, partition);
        let dns = if kinds.contains(&FamilyKind::Dns) {
            Some(DnsAdapters::new(&config, sdk, central, &services)?)
        } else {
            None
        };
        // The findings table's client serves the caches too: one DynamoDB
        // client per process.
        let cache = || {
            services.store.as_ref().map(|s| {
                DynamoInventoryCache::with_client(s.client().clone(), s.table().to_owned())
                    .in_partition(s.partition().clone())
            })
        };
        let health = kinds.contains(&FamilyKind::Health).then(|| HealthAdapters {
            alarms: HealthAlarmReader::new(sdk, &services.calls),
            history: services.store.as_ref().map(|s| {
                DynamoHealthHistory::with_client(s.client().clone(), s.table().to_owned())
                    .in_partition(s.partition().clone())
            }),
            cache: cache(),
        });
        let endpoints = if kinds.contains(&FamilyKind::Endpoints) {
            let tls = &config.tls;
            Some(EndpointsAdapters {
                attachments: AwsTargetsAdapter::new(
                    sdk,
                    &services.calls,
                    &TargetsSettings {
                        ip_ranges_url: config.dns.ip_ranges_url.clone(),
                        regions: config.common.regions.clone(),
                        ..TargetsSettings::default()
                    },
                )?,
                cache: cache(),
                tls: TlsProbe::new(&TlsProbeSettings {
                    timeout: Duration::from_millis(u64::from(tls.timeout_ms)),
                    extra_roots_file: tls.extra_roots_file.clone(),
                    webpki_roots: true,
                })?,
                resolver: probe_settings(&config),
            })
        } else {
            None
        };
        let license = license::LicenseAdapters::new(&config.license, central, &services)?;
        Ok(Self {
            config: std::sync::Arc::new(config),
            services,
            clock: SystemClock,
            dns,
            health,
            endpoints,
            license,
            kinds: kinds.to_vec(),
        })
    }

    pub fn kinds(&self) -> &[FamilyKind] {
        &self.kinds
    }

    /// One scan of every selected family, then the shared tail.
    pub async fn scan<S, M>(
        &self,
        sinks: Sinks<'_, S, M>,
        label: ScanLabel,
        options: &ScanOptions,
    ) -> ScanReport
    where
        S: FindingStore,
        M: MetricSink,
    {
        let cfg = &*self.config;
        let started = std::time::Instant::now();
        let mut deadline =
            started + Duration::from_secs(u64::from(cfg.common.scan_deadline_seconds));
        if let Some(d) = options.deadline {
            deadline = deadline.min(d);
        }
        let certificates = CertificateFamily {
            certificates: &self.services.acm,
            zones: &self.services.route53,
            regions: &cfg.common.regions,
            config: &cfg.certificates,
            retire_unmonitored: options.retire_unmonitored,
            stop: Some(describe_stop(started, deadline)),
        };
        // One probe per scan: it caches the delegations it learns, and the
        // whole DNS phase gets one deadline.
        let probe = self.dns.as_ref().map(|d| {
            Probe::new(d.probe.clone())
                .with_budget(Duration::from_secs(u64::from(cfg.dns.deadline_seconds)))
        });
        let dns = match (&self.dns, &probe) {
            (Some(d), Some(probe)) => Some(DnsFamily {
                zones: &self.services.route53,
                cache: d.cache.as_ref(),
                probe,
                targets: &d.targets,
                certificates: &self.services.acm,
                expectations: &d.expectations,
                regions: &cfg.common.regions,
                config: &cfg.dns,
                changed_zones: &options.changed_zones,
                retire_unmonitored: options.retire_unmonitored,
            }),
            _ => None,
        };
        let max_age = chrono::Duration::minutes(i64::from(cfg.dns.inventory_max_age_minutes));
        let health = self.health.as_ref().map(|h| HealthFamily {
            checks: &self.services.route53,
            alarms: &h.alarms,
            history: h.history.as_ref(),
            zones: &self.services.route53,
            cache: h.cache.as_ref(),
            config: &cfg.health,
            inventory_max_age: max_age,
            retire_unmonitored: options.retire_unmonitored,
        });
        let resolver = self.endpoints.as_ref().map(|e| {
            Probe::new(e.resolver.clone())
                .with_budget(Duration::from_secs(u64::from(cfg.dns.deadline_seconds)))
        });
        let endpoints = match (&self.endpoints, &resolver) {
            (Some(e), Some(resolver)) => Some(EndpointsFamily {
                certificates: &self.services.acm,
                zones: &self.services.route53,
                cache: e.cache.as_ref(),
                attachments: &e.attachments,
                resolver,
                prober: &e.tls,
                regions: &cfg.common.regions,
                config: &cfg.tls,
                rules: &cfg.certificates.rules,
                inventory_max_age: max_age,
                retire_unmonitored: options.retire_unmonitored,
                stop: Some(describe_stop(started, deadline)),
            }),
            _ => None,
        };
        let mut families: Vec<&dyn Family> = Vec::new();
        for kind in &self.kinds {
            match kind {
                FamilyKind::Certificates => families.push(&certificates),
                FamilyKind::Dns => {
                    if let Some(d) = &dns {
                        families.push(d);
                    }
                }
                FamilyKind::Health => {
                    if let Some(h) = &health {
                        families.push(h);
                    }
                }
                FamilyKind::Endpoints => {
                    if let Some(e) = &endpoints {
                        families.push(e);
                    }
                }
            }
        }
        let bounded: Vec<Bounded<'_>> = families
            .iter()
            .map(|f| Bounded {
                inner: *f,
                deadline: tokio::time::Instant::from_std(deadline),
            })
            .collect();
        // The license is judged once, offline, before anything is collected.
        let standing = self.standing(zw_core::ports::Clock::now(&self.clock)).await;
        let licensed: Vec<Licensed<'_>> = bounded
            .iter()
            .enumerate()
            .map(|(i, b)| Licensed {
                inner: b,
                standing: &standing,
                lead: i == 0,
            })
            .collect();
        let families: Vec<&dyn Family> = licensed.iter().map(|b| b as &dyn Family).collect();
        scan::run(
            &families,
            sinks,
            &self.clock,
            Some(&self.services.calls),
            &cfg.common,
            label,
            options.end.map(chrono::DateTime::<chrono::Utc>::from),
        )
        .await
    }
}
