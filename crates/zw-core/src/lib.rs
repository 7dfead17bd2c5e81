//! zonewarden's domain: what is collected, the findings catalogue, the pure
//! rules that turn collections into findings, the ports adapters implement,
//! and the scan orchestration that wires them (collect -> evaluate ->
//! reconcile -> sinks).
//!
//! This crate does no I/O and knows no AWS SDK; CI checks the latter with
//! `cargo tree -p zw-core`.

pub mod catalogue;
pub mod config;
pub mod finding;
pub mod metrics;
pub mod model;
pub mod ports;
pub mod reconcile;
pub mod rules;
pub mod scan;

#[cfg(test)]
mod scan_tests;

pub use catalogue::{Check, FindingCode};
pub use config::Config;
pub use finding::{
    Detection, Finding, FindingKey, FindingState, Resource, ResourceKind, Severity, StoredFinding,
};
pub use model::Region;
pub use ports::{ErrorKind, PortError};
pub use scan::{ScanError, ScanRecord, ScanReport, Sinks, Sources};
