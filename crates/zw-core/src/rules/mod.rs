//! Pure rules, one module per check family, each with table-driven tests beside it.

pub mod certificates;
pub mod dns;
pub mod health;
pub mod tls;
pub mod validation;
