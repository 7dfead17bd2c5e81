//! zonewarden's domain: what is collected, the findings catalogue, the pure
//! rules that turn collections into findings, the ports adapters implement,
//! the check families and the scan spine that runs them (collect -> evaluate
//! -> reconcile -> sinks).
//!
//! This crate does no I/O and knows no AWS SDK; CI checks the latter with
//! `cargo tree -p zw-core`. Module dependencies point one way: severity,
//! model -> catalogue -> finding -> reconcile -> record -> metrics -> config,
//! ports -> family -> families, scan.

pub mod catalogue;
pub mod config;
pub mod error;
pub mod families;
pub mod family;
pub mod finding;
pub mod inventory;
pub mod license;
pub mod metrics;
pub mod model;
pub mod notify;
pub mod org;
pub mod outbound;
pub mod ports;
pub mod probe_scope;
pub mod reconcile;
pub mod record;
pub mod rules;
pub mod scan;
pub mod settings;
pub mod severity;
pub mod triage;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod scan_tests;

pub use catalogue::{Check, FindingCode};
pub use config::Config;
pub use error::{ErrorKind, PortError};
pub use family::{Family, FamilyOutcome};
pub use finding::{
    Detection, Finding, FindingKey, FindingState, Resource, ResourceKind, StoredFinding,
};
pub use metrics::Detail;
pub use model::Region;
pub use record::{ScanError, ScanRecord};
pub use scan::{ScanLabel, ScanReport, Sinks};
pub use severity::Severity;
