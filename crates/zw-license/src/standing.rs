//! How a cached license stands at `now`: the one decision every scan makes
//! before it starts, offline.

use crate::token::{Claims, LicenseError, PublicKey};
use chrono::{DateTime, Duration, Utc};
use zw_core::license::{Allowance, LicenseSummary, Standing};

/// How far the license's `nbf` may be ahead of our clock: minutes of skew
/// between the vendor and the customer are normal; days are not.
pub const CLOCK_SKEW: Duration = Duration::minutes(10);
/// The license function validates daily; a license older than this means
/// the vendor has not answered (grace period).
pub const REVALIDATE_AFTER: Duration = Duration::days(2);

/// What a scan knows about licensing when it starts.
#[derive(Debug, Clone, Copy)]
pub struct Setup<'a> {
    /// `ZW_LICENSE_ENDPOINT` is set (licensing configured).
    pub configured: bool,
    /// The license token cached in the table, if any.
    pub cached: Option<&'a str>,
    pub public_key: &'a PublicKey,
    pub grace_days: u32,
}

pub fn summary(claims: &Claims) -> LicenseSummary {
    LicenseSummary {
        license_id: claims.sub.clone(),
        plan: claims.plan.clone(),
        status: claims.status.as_str().to_owned(),
        allowance: Allowance {
            zones: u64::from(claims.limits.zones),
            certificates: u64::from(claims.limits.certificates),
        },
        validated_at: claims.issued_at(),
        expires_at: claims.expires_at(),
        renews_at: claims.renews_at(),
    }
}

/// Judges the cached license at `now`. The time of the last successful
/// validation is the license's own signed `iat`, not anything the table
/// says, so the grace period cannot be stretched by editing an item.
pub fn evaluate(setup: &Setup<'_>, now: DateTime<Utc>) -> Standing {
    let Some(token) = setup.cached else {
        return if setup.configured {
            Standing::Invalid {
                reason: "licensing is configured (ZW_LICENSE_ENDPOINT) but no license has been validated yet: run `zonewarden license check`, or wait for the license function".into(),
                license: None,
            }
        } else {
            Standing::Unlicensed
        };
    };
    let claims = match setup.public_key.verify(token) {
        Ok(c) => c,
        Err(e) => {
            return Standing::Invalid {
                reason: format!("the cached license is refused: {e}"),
                license: None,
            };
        }
    };
    let license = summary(&claims);
    let invalid = |reason: String| Standing::Invalid {
        reason,
        license: Some(license.clone()),
    };
    if claims.not_before() > now + CLOCK_SKEW || claims.issued_at() > now + CLOCK_SKEW {
        return invalid(format!(
            "the license is not valid before {} and this machine's clock says {}: check the clock (NTP)",
            claims.not_before().format("%Y-%m-%d %H:%M UTC"),
            now.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    if !claims.status.in_good_standing() {
        return invalid(format!(
            "the subscription is {} (license {})",
            claims.status, claims.sub
        ));
    }
    if claims.expires_at() + CLOCK_SKEW < now {
        return invalid(format!(
            "the license expired at {}",
            claims.expires_at().format("%Y-%m-%d %H:%M UTC")
        ));
    }
    let grace_until = claims.issued_at() + Duration::days(i64::from(setup.grace_days));
    if grace_until < now {
        return invalid(format!(
            "the vendor has not confirmed the license since {} and the {}-day grace period ended at {}",
            claims.issued_at().format("%Y-%m-%d %H:%M UTC"),
            setup.grace_days,
            grace_until.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    if now - claims.issued_at() > REVALIDATE_AFTER {
        return Standing::Grace {
            license,
            grace_until,
        };
    }
    Standing::Valid { license }
}

/// How the license stands when no license can be verified at all: the
/// verifying key itself is unusable (a build whose compiled-in vendor key
/// does not parse, [`crate::LicenseError::CompiledInKey`]). Nothing
/// configured and nothing cached: the free tier, as without licensing.
/// Otherwise invalid, with the key's error as the reason, so that it shows
/// as `license.invalid` (metric and alarm) instead of a license that
/// silently verifies nothing.
pub fn unverifiable(configured: bool, cached: bool, why: &LicenseError) -> Standing {
    if !configured && !cached {
        return Standing::Unlicensed;
    }
    Standing::Invalid {
        reason: why.to_string(),
        license: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::{ISSUER, KeyPair, Limits, SubscriptionStatus};

    fn now() -> DateTime<Utc> {
        "2026-12-02T12:00:00Z".parse().unwrap()
    }

    fn claims(issued: DateTime<Utc>, status: SubscriptionStatus) -> Claims {
        Claims {
            iss: ISSUER.into(),
            sub: "lic_1".into(),
            customer: "cus_1".into(),
            plan: "team".into(),
            limits: Limits {
                zones: 50,
                certificates: 500,
                accounts: 1,
            },
            status,
            renews_at: (now() + Duration::days(200)).timestamp(),
            key_hint: "4567".into(),
            iat: issued.timestamp(),
            nbf: issued.timestamp(),
            exp: (issued + Duration::days(30)).timestamp(),
        }
    }

    fn judge(kp: &KeyPair, c: &Claims, at: DateTime<Utc>) -> Standing {
        let token = kp.sign(c).unwrap();
        evaluate(
            &Setup {
                configured: true,
                cached: Some(&token),
                public_key: kp.public(),
                grace_days: 14,
            },
            at,
        )
    }

    #[test]
    fn nothing_configured_is_the_free_tier_and_configured_without_a_license_is_invalid() {
        let kp = KeyPair::generate().unwrap();
        let mut setup = Setup {
            configured: false,
            cached: None,
            public_key: kp.public(),
            grace_days: 14,
        };
        assert_eq!(evaluate(&setup, now()), Standing::Unlicensed);
        setup.configured = true;
        assert!(matches!(
            evaluate(&setup, now()),
            Standing::Invalid { license: None, .. }
        ));
    }

    #[test]
    fn a_fresh_license_is_valid_and_a_stale_one_runs_on_grace_until_it_ends() {
        let kp = KeyPair::generate().unwrap();
        let c = claims(now() - Duration::hours(3), SubscriptionStatus::Active);
        assert!(matches!(judge(&kp, &c, now()), Standing::Valid { .. }));
        let c = claims(now() - Duration::days(5), SubscriptionStatus::Trialing);
        match judge(&kp, &c, now()) {
            Standing::Grace { grace_until, .. } => {
                assert_eq!(grace_until, now() - Duration::days(5) + Duration::days(14));
            }
            other => panic!("{other:?}"),
        }
        let c = claims(now() - Duration::days(15), SubscriptionStatus::Active);
        match judge(&kp, &c, now()) {
            Standing::Invalid { reason, license } => {
                assert!(reason.contains("grace period ended"), "{reason}");
                assert_eq!(license.unwrap().license_id, "lic_1");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn cancelled_or_past_due_is_invalid_with_its_status() {
        let kp = KeyPair::generate().unwrap();
        for status in [SubscriptionStatus::Cancelled, SubscriptionStatus::PastDue] {
            let c = claims(now() - Duration::hours(1), status);
            match judge(&kp, &c, now()) {
                Standing::Invalid { reason, .. } => {
                    assert!(reason.contains(status.as_str()), "{reason}")
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn minutes_of_clock_skew_are_tolerated_days_are_not() {
        let kp = KeyPair::generate().unwrap();
        // Issued 5 minutes "in the future" of our clock: fine.
        let c = claims(now() + Duration::minutes(5), SubscriptionStatus::Active);
        assert!(matches!(judge(&kp, &c, now()), Standing::Valid { .. }));
        // Our clock 3 days behind the vendor's: refused, saying why.
        let c = claims(now() + Duration::days(3), SubscriptionStatus::Active);
        match judge(&kp, &c, now()) {
            Standing::Invalid { reason, .. } => assert!(reason.contains("clock"), "{reason}"),
            other => panic!("{other:?}"),
        }
        // Our clock days ahead: the license looks expired.
        let c = claims(now() - Duration::days(40), SubscriptionStatus::Active);
        assert!(matches!(judge(&kp, &c, now()), Standing::Invalid { .. }));
    }

    #[test]
    fn an_unusable_verifying_key_is_invalid_unless_licensing_was_never_used() {
        let why = LicenseError::CompiledInKey("31 bytes".into());
        assert_eq!(unverifiable(false, false, &why), Standing::Unlicensed);
        for (configured, cached) in [(true, false), (false, true), (true, true)] {
            match unverifiable(configured, cached, &why) {
                Standing::Invalid { reason, license } => {
                    assert!(reason.contains("compiled into this build"), "{reason}");
                    assert!(license.is_none());
                }
                other => panic!("{configured} {cached}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_tampered_cached_license_is_invalid_not_a_crash() {
        let kp = KeyPair::generate().unwrap();
        let setup = Setup {
            configured: true,
            cached: Some("eyJhbGciOiJFZERTQSJ9.eyJ4IjoxfQ.AAAA"),
            public_key: kp.public(),
            grace_days: 14,
        };
        match evaluate(&setup, now()) {
            Standing::Invalid { reason, license } => {
                assert!(reason.contains("refused"), "{reason}");
                assert!(license.is_none());
            }
            other => panic!("{other:?}"),
        }
    }
}
