//! One module per command of `zonewarden` (`args::Command`); what they share
//! is in `session`, `live`, `output`, `html` and `exit`.

pub mod audit;
pub mod export;
pub mod findings;
pub mod inventory;
pub mod license;
pub mod purge;
pub mod report;
pub mod scan;
pub mod suppress;
pub mod table;
