//! zonewarden's domain: what is collected, the findings catalogue, the pure
//! rules that turn collections into findings, the ports adapters implement,
//! the check families and the scan spine that runs them (collect -> evaluate
//! -> reconcile -> sinks).
//!
//! This crate does no I/O and knows no AWS SDK; CI checks the latter with
//! `cargo tree -p zw-core`. The shared tail is flat and knows no family;
//! each family is one folder under `families/` (its config section, model,
//! ports, rules and their tests). Module dependencies point one way
//! (`tests/integration/layout.rs` fails on a cycle): leaves (severity,
//! model, error, settings, document) -> catalogue -> finding -> triage ->
//! reconcile -> record -> metrics -> ports -> family -> families -> config,
//! scan.

pub mod catalogue;
pub mod config;
pub mod document;
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
