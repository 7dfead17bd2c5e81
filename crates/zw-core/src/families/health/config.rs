//! The health family's settings.

use crate::settings::Vars;

/// The health family's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthConfig {
    /// `ZW_HEALTH_FLAP_TRANSITIONS`, default 4: status changes within the
    /// window that make a health check flapping.
    pub flap_transitions: u32,
    /// `ZW_HEALTH_FLAP_WINDOW_MINUTES`, default 60.
    pub flap_window_minutes: u32,
}

impl Default for HealthConfig {
    fn default() -> Self {
        Self {
            flap_transitions: 4,
            flap_window_minutes: 60,
        }
    }
}

impl HealthConfig {
    pub(crate) fn parse(v: &mut Vars) -> Self {
        let d = Self::default();
        Self {
            flap_transitions: v.number("ZW_HEALTH_FLAP_TRANSITIONS", d.flap_transitions, 2, 1000),
            flap_window_minutes: v.number(
                "ZW_HEALTH_FLAP_WINDOW_MINUTES",
                d.flap_window_minutes,
                5,
                10_080,
            ),
        }
    }
}
