//! The scan-query-logs Lambda function: wiring in `main.rs`, event -> use
//! case in `handler.rs`. A library too, so tests drive the same handler
//! with the samples in `events/`.

pub mod handler;
