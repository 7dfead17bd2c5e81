//! The scan-endpoints Lambda function: wiring in `main.rs`, event -> use case in
//! `handler.rs`. A library too, so the integration tests drive the same
//! handler with the samples in `events/`.

pub mod event;
pub mod handler;
