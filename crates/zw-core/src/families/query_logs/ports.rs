//! The query-log family's ports: where query logging is configured, the
//! log groups' windows, and the state it keeps in the table.

use super::aggregate::Aggregate;
use super::model::{
    LogFormat, LogGroup, PublicLogging, QueryLogState, ReadStats, ResolverLogging, ZoneState,
};
use crate::error::PortError;
use crate::model::Region;
use chrono::{DateTime, Utc};
use std::future::Future;

/// Route 53's and Route 53 Resolver's query logging, and CloudWatch Logs.
pub trait QueryLogSource: Send + Sync {
    /// Every public hosted zone query logging configuration of the account
    /// (`ListQueryLoggingConfigs`).
    fn public_logging(&self) -> impl Future<Output = Result<Vec<PublicLogging>, PortError>> + Send;

    /// The Resolver query logging configurations of `region` whose
    /// destination is a CloudWatch Logs log group.
    fn resolver_logging(
        &self,
        region: &Region,
    ) -> impl Future<Output = Result<Vec<ResolverLogging>, PortError>> + Send;

    /// Counts the events of `group` in `aggregate`'s window into it: each
    /// message through the aggregate's own parser (`add_public_line`,
    /// `add_resolver_record`), or, when the window holds more than
    /// `max_events`, the counts of a Logs Insights query through its
    /// counted entry points. On an error the aggregate is to be dropped.
    fn read(
        &self,
        group: &LogGroup,
        format: LogFormat,
        max_events: usize,
        aggregate: &mut Aggregate,
    ) -> impl Future<Output = Result<ReadStats, PortError>> + Send;
}

/// The family's state in the findings table.
pub trait QueryLogStore: Send + Sync {
    /// Every log group's watermark and every zone's state.
    fn load(&self) -> impl Future<Output = Result<QueryLogState, PortError>> + Send;

    /// The end of the window just counted for `group`, and whether it held
    /// more events than the limit (`QueryLogState::busy`).
    fn save_read_to(
        &self,
        group: &LogGroup,
        read_to: DateTime<Utc>,
        busy: bool,
    ) -> impl Future<Output = Result<(), PortError>> + Send;

    fn save_zone(
        &self,
        zone_id: &str,
        state: &ZoneState,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}
