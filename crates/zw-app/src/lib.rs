//! The application layer shared by the `zonewarden` CLI and the Lambda
//! functions: which families a scan runs, the adapters they need (built once,
//! and only for the families selected), and one call that runs them through
//! the spine. The CLI and each function differ only in how they are started,
//! where they publish metrics and how they print the report.

pub mod families;
pub mod license;
pub mod org;

pub use families::{FamilyKind, REGISTRY, Registration};

use std::time::Duration;
use zw_aws::{SdkConfig, Services, SystemClock};
use zw_core::PortError;
use zw_core::ports::{FindingStore, MetricSink};
use zw_core::scan::{self, ScanLabel, ScanReport, Sinks};
use zw_core::{Config, Family};

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
    /// Only these of the app's families (a trigger that is about one of
    /// them, such as the daily domains schedule of the certificate
    /// function); None: all of them.
    pub only: Option<Vec<FamilyKind>>,
    /// `scan query-logs --since`: the query-log family reads this window
    /// back from now instead of the one since its last read (and keeps no
    /// state from it).
    pub query_log_since: Option<chrono::Duration>,
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
    pub license: license::LicenseAdapters,
    /// The selected families' adapters, in the order they run.
    families: Vec<families::Selected>,
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
        let families = families::prepare(
            kinds,
            &families::Wiring {
                config: &config,
                sdk,
                central,
                services: &services,
            },
        )?;
        let license = license::LicenseAdapters::new(&config.license, central, &services)?;
        Ok(Self {
            config: std::sync::Arc::new(config),
            services,
            clock: SystemClock,
            license,
            families,
        })
    }

    /// The selected families, in the order they run.
    pub fn kinds(&self) -> Vec<FamilyKind> {
        self.families.iter().map(|(k, _)| *k).collect()
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
        let context = families::ScanContext {
            config: cfg,
            services: &self.services,
            options,
            describe_stop: describe_stop(started, deadline),
        };
        let families: Vec<Box<dyn Family + '_>> = self
            .families
            .iter()
            .filter(|(kind, _)| options.only.as_ref().is_none_or(|only| only.contains(kind)))
            .map(|(_, adapters)| families::family(adapters, &context))
            .collect();
        let bounded: Vec<Bounded<'_>> = families
            .iter()
            .map(|f| Bounded {
                inner: f.as_ref(),
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
