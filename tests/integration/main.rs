//! The one integration test binary: real SDK clients against a private moto
//! server per test (started on a free loopback port by `zw_testkit::Moto`),
//! the Lambda handler fed with `events/`, and the `zonewarden` binary.
//!
//! moto's limits met here, and what we test on our side instead:
//! - `InUseBy` is always empty and `RenewalEligibility` always INELIGIBLE, so
//!   every issued certificate is also `cert.unused`; in-use and eligible cases
//!   are covered by the rule tests in zw-core with an injected clock.
//! - A validation stuck for a day, failed renewals, revoked certificates and
//!   already-expired imports cannot be produced in moto: rule tests again.
//! - CloudWatch never evaluates alarms and never turns EMF log lines into
//!   metrics: we assert the EMF documents the handler prints and the data
//!   points `PutMetricData` stored, not alarm states.
//! - DynamoDB TTL is never enforced: we assert the `expires_at` we write.

#![expect(
    clippy::expect_used,
    reason = "helpers outside #[test] fns fail the test on the unexpected, like the tests do"
)]

mod cli;
mod collect;
mod ct;
mod dashboard;
mod dns;
mod dns_aws;
mod dns_corpus;
mod docs;
mod domains;
mod egress;
mod endpoints;
mod fault;
mod handler;
mod iam_certificates;
mod layout;
mod license;
mod mail;
mod notify;
mod organization;
mod private_ca;
mod query_log_traffic;
mod query_logs;
mod scan;
mod support;
mod template;
mod triage;
