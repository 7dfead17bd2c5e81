//! The import-security-hub Lambda function: zonewarden's finding events
//! (routed here by an EventBridge rule on `source: zonewarden`) become AWS
//! Security Hub findings, beside GuardDuty's and Config's. Wiring in
//! `main.rs`, the mapping in `asff.rs`, event -> import in `handler.rs`.

pub mod asff;
pub mod handler;
