//! Query counters for metrics, per server and in total.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub queries_sent: AtomicU64,
    pub answers: AtomicU64,
    pub timeouts: AtomicU64,
    pub malformed: AtomicU64,
    pub network_errors: AtomicU64,
    pub skipped: AtomicU64,
    pub unsupported: AtomicU64,
    pub truncated: AtomicU64,
    pub stray: AtomicU64,
}

impl Counters {
    pub fn snapshot(&self) -> QueryCounts {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        QueryCounts {
            queries_sent: get(&self.queries_sent),
            answers: get(&self.answers),
            timeouts: get(&self.timeouts),
            malformed: get(&self.malformed),
            network_errors: get(&self.network_errors),
            skipped: get(&self.skipped),
            unsupported: get(&self.unsupported),
            truncated: get(&self.truncated),
            stray: get(&self.stray),
        }
    }
}

/// What was sent and what came of it. A question counts once in `answers`,
/// `timeouts`, `malformed`, `network_errors`, `skipped` or `unsupported`;
/// `queries_sent`
/// counts every UDP datagram and TCP message (retries included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryCounts {
    pub queries_sent: u64,
    pub answers: u64,
    pub timeouts: u64,
    pub malformed: u64,
    pub network_errors: u64,
    pub skipped: u64,
    /// Questions the probe could not ask, or answers whose record data it
    /// could not read (its limitation, not the server's).
    pub unsupported: u64,
    /// Answers with the TC bit, asked again over TCP.
    pub truncated: u64,
    /// Datagrams that answered no waiting question (wrong ID or question).
    pub stray: u64,
}

impl QueryCounts {
    /// Questions that came to an end, whatever the outcome.
    pub fn questions(&self) -> u64 {
        self.answers
            + self.timeouts
            + self.malformed
            + self.network_errors
            + self.skipped
            + self.unsupported
    }
}

/// `Probe::stats()`: totals since the probe was made, and per server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProbeStats {
    pub total: QueryCounts,
    pub per_server: BTreeMap<SocketAddr, QueryCounts>,
}
