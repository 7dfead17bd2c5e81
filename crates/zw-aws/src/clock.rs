//! The one home of wall-clock reads (see `clippy.toml`).

use chrono::{DateTime, Utc};
use zw_core::ports::Clock;

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[expect(clippy::disallowed_methods, reason = "this is the clock's one home")]
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
