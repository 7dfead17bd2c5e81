//! The vendor side of zonewarden licensing.
//!
//! One axum [`web::router`] answers both the license client of every
//! customer deployment (`POST /v1/licenses/validate`) and the people: the
//! customer portal and the staff view (`/portal`). The same router runs in
//! Lambda behind API Gateway (`vendor-api`) and behind a local listener for
//! tests and the demo (`zw-vendor serve`).
//!
//! Layers, in the direction data flows:
//! - [`web`]: HTTP only (bodies, cookies, forms, status codes); renders with [`html`].
//! - [`service`]: what a validation and each admin or portal action does,
//!   with `now` read once per request from the [`clock::Clock`] at the edge.
//! - [`store::VendorStore`]: the port; [`dynamo::DynamoStore`] the one adapter
//!   (single-table design documented in [`dynamo`]).
//! - [`staff::StaffDirectory`]: the staff user pool; [`staff::CognitoStaff`]
//!   runs Amazon Cognito's server-side sign-in flow (MFA required).
//! - [`source::Source`]: a request's source address, for the per-source limits
//!   and the audit log.
//! - [`secrets`]: key, token and id generation and hashing; nothing secret
//!   is ever stored or logged in clear.

pub mod clock;
pub mod config;
pub mod dynamo;
pub mod html;
pub mod model;
pub mod secrets;
pub mod service;
pub mod setup;
pub mod source;
pub mod staff;
pub mod store;
pub mod web;

pub use clock::{Clock, FixedClock, SystemClock};
pub use config::{Config, ConfigError, RateLimit};
pub use dynamo::DynamoStore;
pub use service::{ApiError, Limits, Vendor};
pub use source::Source;
pub use store::{StoreError, VendorStore};
