//! The license Lambda function: wiring in `main.rs`, event -> use case in
//! `handler.rs`, and what runs when init failed in `startup.rs`. A library
//! too, so the integration tests drive the same handler with the samples in
//! `events/`.

pub mod handler;
pub mod startup;
