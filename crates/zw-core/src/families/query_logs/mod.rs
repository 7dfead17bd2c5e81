//! The query-log family's groundwork: pure parsing and aggregation of
//! Route 53 query logs, not wired to any adapter yet (nothing calls it).
//!
//! - `parse`: one line of a public hosted zone's DNS query log, or one
//!   Route 53 Resolver query log record (JSON), read field by field; the
//!   client addresses of Resolver records never leave the parser.
//! - `aggregate`: one time window of lines counted per zone (NXDOMAIN and
//!   SERVFAIL answers, per query name and edge location) and per source of
//!   Resolver queries, in memory bounded by the distinct names, not by the
//!   lines read.
//! - `typo`: the existing name an NXDOMAIN name most likely meant.

pub mod aggregate;
pub mod judge;
pub mod parse;
pub mod typo;
