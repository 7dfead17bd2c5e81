//! The check families. Each collects into its own inventory through its
//! ports, evaluates it with pure rules and hands a `FamilyOutcome` to the
//! shared tail in `scan`.

pub mod certificates;
pub mod dns;
