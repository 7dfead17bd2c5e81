//! The events that start a scan of this function, parsed once into a
//! `Trigger`: the endpoints schedule or a manual run scan the endpoints and
//! the IAM server certificates; the mail schedule scans the mail family and,
//! when `ZW_CT_SEARCH_URL` is set, the Certificate Transparency watch.

use zw_lambda::event::Envelope;
pub use zw_lambda::event::EventError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// The EventBridge schedule (`EndpointsScheduleExpression`).
    Schedule,
    /// Invoked by hand: `{"source": "zonewarden", "detail-type": "Manual Scan"}`.
    Manual,
    /// The mail schedule (`MailScheduleExpression`):
    /// `{"source": "zonewarden", "detail-type": "Mail Scan"}`.
    Mail,
}

impl Trigger {
    pub fn label(&self) -> String {
        match self {
            Self::Schedule => "schedule".into(),
            Self::Manual => "manual".into(),
            Self::Mail => "mail schedule".into(),
        }
    }

    /// The families this trigger scans.
    pub fn families(&self) -> &'static [zw_app::FamilyKind] {
        match self {
            // The CT watch is prepared only when configured: off, the
            // mail family runs alone.
            Self::Mail => &[zw_app::FamilyKind::MAIL, zw_app::FamilyKind::CT],
            Self::Schedule | Self::Manual => &[
                zw_app::FamilyKind::ENDPOINTS,
                zw_app::FamilyKind::IAM_CERTIFICATES,
            ],
        }
    }
}

/// What this function accepts, for the error of anything else.
const ACCEPTED: &str = "aws.events (schedule) or zonewarden (manual, mail scan)";

pub fn parse(event: &serde_json::Value) -> Result<Trigger, EventError> {
    let env = Envelope::parse(event)?;
    if env.is_schedule() {
        Ok(Trigger::Schedule)
    } else if env.is_mail() {
        Ok(Trigger::Mail)
    } else if env.is_manual() {
        Ok(Trigger::Manual)
    } else {
        Err(env.unsupported(ACCEPTED))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The samples this function takes parse into the trigger their name
    /// says; the certificate function's are refused.
    #[test]
    fn its_sample_events_parse() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events");
        let read = |name: &str| -> serde_json::Value {
            let text = std::fs::read_to_string(format!("{dir}/{name}.json")).expect("readable");
            serde_json::from_str(&text).expect("valid JSON")
        };
        let one = |name: &str| {
            zw_lambda::event::Batch::parse(&read(name), parse)
                .map(|b| b.triggers)
                .unwrap_or_else(|e| panic!("{name}: {e}"))
        };
        assert_eq!(one("schedule"), [Trigger::Schedule]);
        assert_eq!(one("manual"), [Trigger::Manual]);
        assert_eq!(one("mail-schedule"), [Trigger::Mail]);
        assert_eq!(
            Trigger::Mail.families(),
            [zw_app::FamilyKind::MAIL, zw_app::FamilyKind::CT],
            "the mail schedule scans the mail family and the CT watch"
        );
        for refused in ["domains-schedule", "digest", "acm-approaching-expiration"] {
            assert!(parse(&read(refused)).is_err(), "{refused}");
        }
    }
}
