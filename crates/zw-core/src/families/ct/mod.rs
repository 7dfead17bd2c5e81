//! Groundwork of the Certificate Transparency watch: reading a crt.sh
//! compatible search answer (`search`) and judging an issuer against a
//! name's CAA records (`caa`). Pure and tested on their own; the family
//! that will search the logs for the zones' apexes (opt-in, off by default)
//! is not wired yet, so nothing calls them and nothing leaves the account.

pub mod caa;
pub mod search;
