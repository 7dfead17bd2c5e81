//! The application layer shared by the `zonewarden` CLI and the Lambda
//! functions: which families a scan runs, the adapters they need (built once,
//! and only for the families selected), and one call that runs them through
//! the spine. The CLI and each function differ only in how they are started,
//! where they publish metrics and how they print the report.

use serde::Serialize;
use std::fmt;
use zw_aws::{SdkConfig, Services, SystemClock};
use zw_core::families::certificates::CertificateFamily;
use zw_core::ports::{FindingStore, MetricSink};
use zw_core::scan::{self, ScanLabel, ScanReport, Sinks};
use zw_core::{Config, Family};

/// A check family, as named on the command line and in the scan record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FamilyKind {
    Certificates,
}

impl FamilyKind {
    pub const ALL: [FamilyKind; 1] = [Self::Certificates];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Certificates => zw_core::families::certificates::NAME,
        }
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
}

/// Everything a process needs to scan, built once (Lambda init, CLI start).
#[derive(Debug, Clone)]
pub struct App {
    pub config: std::sync::Arc<Config>,
    pub services: Services,
    pub clock: SystemClock,
    kinds: Vec<FamilyKind>,
}

impl App {
    /// Builds the adapters of `kinds` (and only those) from one `SdkConfig`.
    pub fn new(config: Config, sdk: &SdkConfig, kinds: &[FamilyKind]) -> Self {
        let services = Services::new(sdk, &config);
        Self {
            config: std::sync::Arc::new(config),
            services,
            clock: SystemClock,
            kinds: kinds.to_vec(),
        }
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
        let certificates = CertificateFamily {
            certificates: &self.services.acm,
            zones: &self.services.route53,
            regions: &cfg.common.regions,
            config: &cfg.certificates,
        };
        let mut families: Vec<&dyn Family> = Vec::new();
        for kind in &self.kinds {
            match kind {
                FamilyKind::Certificates => families.push(&certificates),
            }
        }
        scan::run(
            &families,
            sinks,
            &self.clock,
            Some(&self.services.calls),
            &cfg.common,
            label,
        )
        .await
    }
}
