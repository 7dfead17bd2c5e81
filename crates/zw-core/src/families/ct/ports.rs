//! The watch's ports: the CT search, the certificates the deployment knows
//! and the state it keeps per apex. DNS (the CAA) is the DNS family's probe.

use super::model::{KnownCertificates, WatchState};
use super::search::SearchAnswer;
use crate::error::PortError;
use std::future::Future;

/// The crt.sh-compatible search endpoint (`ZW_CT_SEARCH_URL`).
pub trait CtSearch: Send + Sync {
    /// The unexpired certificates logged for `apex` and the names below it.
    /// Only the apex is sent; the adapter paces its requests.
    fn search(&self, apex: &str) -> impl Future<Output = Result<SearchAnswer, PortError>> + Send;
}

/// The certificates of the estate, from the inventories in the table.
pub trait KnownSource: Send + Sync {
    fn known(&self) -> impl Future<Output = Result<KnownCertificates, PortError>> + Send;
}

/// The watch's state per apex, in the table.
pub trait WatchStore: Send + Sync {
    fn load(
        &self,
        apex: &str,
    ) -> impl Future<Output = Result<Option<WatchState>, PortError>> + Send;
    fn save(
        &self,
        apex: &str,
        state: &WatchState,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}
