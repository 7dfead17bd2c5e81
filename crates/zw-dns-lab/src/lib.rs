//! Loopback DNS for tests, the demo and benchmarks.
//!
//! - [`AuthServer`]: an in-process authoritative server (hickory-server's
//!   `Catalog`) answering UDP and TCP on one loopback address and port, for
//!   any number of [`LabZone`]s. Delegations are plain NS records plus glue,
//!   so a lab "root" can delegate `test.` to a lab TLD server that delegates
//!   `example.test.` to a third one.
//! - [`Misbehaving`]: servers that break the protocol in one specific way
//!   each, for the probe's robustness tests.
//! - [`bind_pair`]: a UDP socket and a TCP listener on the same free port,
//!   because tests run in parallel and must not collide.
//!
//! Everything stops when its handle is dropped.

mod bench;
mod handler;
mod misbehaving;
mod net;
mod server;
mod zone;

pub use bench::bench_zone;
pub use misbehaving::{ANSWER_ADDRESS, Misbehaving, MisbehavingKind};
pub use net::{bind_pair, loopback, random_loopback_ip};
pub use server::AuthServer;
pub use zone::LabZone;

/// Why a lab server could not start.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("binding {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("zone {origin}: {message}")]
    Zone { origin: String, message: String },
}
