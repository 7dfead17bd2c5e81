//! zonewarden's DNS probe.
//!
//! [`Probe`] implements `zw_core::families::dns::ports::DnsProbe`:
//! - `ask`: many questions to one server, pipelined over a few UDP sockets
//!   (answers matched by random ID and question), TCP after truncation,
//!   per-query timeout and one retry, a rate limit and a bound on what is
//!   outstanding per server.
//! - `delegation`, `resolve`, `server_addresses`: iterative walks from the
//!   root hints, every step bounded in time and queries.
//!
//! Answers come back in zw-core's model, record data in zone-file
//! presentation format ([`format`]). Configuration is [`ProbeSettings`],
//! with parsers for its text forms.

pub mod format;
mod pipeline;
mod probe;
mod settings;
mod stats;

pub use probe::Probe;
pub use settings::{
    ProbeSettings, parse_nameserver_addresses, parse_root_hints, parse_server_address,
};
pub use stats::{ProbeStats, QueryCounts};

#[cfg(test)]
mod proptests;
