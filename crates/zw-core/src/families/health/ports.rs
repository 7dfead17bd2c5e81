//! The health family's ports.

use super::model::{CheckerObservation, HealthAlarms, HealthCheck, StatusHistory};
use crate::error::PortError;
use std::future::Future;

/// Route 53 health checks (a global service, paced with the zones).
pub trait HealthCheckSource: Send + Sync {
    /// Every health check, fully paginated, with its tags.
    fn health_checks(&self) -> impl Future<Output = Result<Vec<HealthCheck>, PortError>> + Send;
    /// `GetHealthCheckStatus`: each checker's last observation.
    fn observations(
        &self,
        health_check_id: &str,
    ) -> impl Future<Output = Result<Vec<CheckerObservation>, PortError>> + Send;
}

/// CloudWatch alarms on Route 53 health checks, in us-east-1 (the only
/// region that has their metrics).
pub trait HealthAlarmSource: Send + Sync {
    fn health_check_alarms(&self) -> impl Future<Output = Result<HealthAlarms, PortError>> + Send;
}

/// Our own status history of health checks, kept between scans.
pub trait HealthHistoryStore: Send + Sync {
    fn load_history(
        &self,
    ) -> impl Future<Output = Result<std::collections::BTreeMap<String, StatusHistory>, PortError>> + Send;
    /// Writes these entries (each replaces its health check's).
    fn save_history(
        &self,
        entries: &[StatusHistory],
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}
