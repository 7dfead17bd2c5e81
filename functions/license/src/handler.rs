//! Event -> one license validation -> summary.
//!
//! Two triggers: the daily schedule (or a manual run), and CloudFormation's
//! custom resource at deploy. A failed validation never fails the deploy
//! (the custom resource answers SUCCESS with what happened): a vendor outage
//! must not block a customer's stack; the cached license and its grace
//! period carry on, and `license.grace` tells the scans.

use lambda_runtime::LambdaEvent;
use serde::{Deserialize, Serialize};
use zw_core::outbound::{OutboundUrl, UrlError};
use zw_core::ports::Clock;
use zw_core::triage::AuditEntry;
use zw_lambda::event::{Envelope, EventError};
use zw_lambda::{Deps, HandlerError};

/// What the invocation returns (and logs as one line).
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct LicenseSummary {
    pub trigger: String,
    /// True when a fresh license was received and stored.
    pub validated: bool,
    /// What came of it (`license stored (active)`, `not delivered: ...`,
    /// `licensing is not configured ...`).
    pub result: String,
    /// `unlicensed`, `valid`, `grace` or `invalid`, after this validation.
    pub standing: String,
    /// Whether a request to the vendor was attempted (false: nothing left
    /// the account). What exactly was sent is in `zonewarden license sent`.
    pub attempted: bool,
}

/// CloudFormation's custom resource request, reduced to what the answer needs.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomResourceRequest {
    pub request_type: String,
    #[serde(rename = "ResponseURL")]
    pub response_url: String,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    #[serde(default)]
    pub physical_resource_id: Option<String>,
    /// The settings the template gives the resource (and, on Update, the
    /// ones before): what the audit log records of a deploy.
    #[serde(default)]
    pub resource_properties: Option<serde_json::Value>,
    #[serde(default)]
    pub old_resource_properties: Option<serde_json::Value>,
}

impl CustomResourceRequest {
    /// The deploy's audit entry: the licensing settings before and after
    /// (the service token left out), or None when a deploy changed none.
    pub(crate) fn settings_change(&self, at: chrono::DateTime<chrono::Utc>) -> Option<AuditEntry> {
        let settings = |v: &Option<serde_json::Value>| {
            v.clone().map(|mut v| {
                if let Some(m) = v.as_object_mut() {
                    m.remove("ServiceToken");
                }
                v
            })
        };
        let (before, after) = match self.request_type.as_str() {
            "Create" => (None, settings(&self.resource_properties)),
            "Update" => (
                settings(&self.old_resource_properties),
                settings(&self.resource_properties),
            ),
            _ => (settings(&self.resource_properties), None),
        };
        (before != after).then(|| AuditEntry {
            at,
            actor: format!("cloudformation: {}", self.stack_id),
            action: "settings-changed".into(),
            target: format!("{} ({})", self.logical_resource_id, self.request_type),
            before,
            after,
        })
    }
}

/// The custom resource's physical id, given on Create (later requests
/// carry it back).
pub const PHYSICAL_RESOURCE_ID: &str = "zonewarden-license-check";

/// The answer CloudFormation waits for, PUT to the request's presigned URL.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomResourceResponse {
    pub status: &'static str,
    pub reason: String,
    pub physical_resource_id: String,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    pub data: serde_json::Value,
}

/// The presigned URL CloudFormation gives must be its own S3 response
/// bucket ([`OutboundUrl::cloudformation_response`]): the answer (which
/// carries nothing but the standing) never goes anywhere else.
pub(crate) fn check_response_url(url: &str) -> Result<OutboundUrl, String> {
    OutboundUrl::cloudformation_response(url).map_err(|why| {
        format!(
            "the custom resource's ResponseURL {why}; not answered{}",
            if why == UrlError::UserInfo {
                ""
            } else {
                " (CloudFormation only ever sends a presigned S3 URL: this event did not come from CloudFormation)"
            }
        )
    })
}

/// A CloudFormation custom-resource request, read whole: the request, and
/// its ResponseURL checked ([`check_response_url`]).
pub(crate) fn custom_resource(
    payload: serde_json::Value,
) -> Result<(CustomResourceRequest, OutboundUrl), HandlerError> {
    let request: CustomResourceRequest =
        serde_json::from_value(payload).map_err(|e| EventError::Malformed(e.to_string()))?;
    let url = check_response_url(&request.response_url).map_err(|m| HandlerError::Event {
        error_type: "InvalidEvent",
        message: m,
    })?;
    Ok((request, url))
}

impl LicenseSummary {
    /// The stack is being deleted: nothing is validated or sent.
    pub(crate) fn stack_deleted() -> Self {
        Self {
            trigger: "cloudformation: Delete".into(),
            validated: false,
            result: "stack deleted: nothing sent".into(),
            standing: "unchanged".into(),
            attempted: false,
        }
    }
}

/// Answers the request SUCCESS (a license problem never blocks a deploy),
/// the summary's result as the reason, `data` as what `GetAtt` can read.
pub(crate) async fn answer_success(
    request: CustomResourceRequest,
    url: &OutboundUrl,
    summary: &LicenseSummary,
    data: serde_json::Value,
) -> Result<(), HandlerError> {
    let response = CustomResourceResponse {
        status: "SUCCESS",
        reason: summary.result.chars().take(200).collect(),
        physical_resource_id: request
            .physical_resource_id
            .unwrap_or_else(|| PHYSICAL_RESOURCE_ID.into()),
        stack_id: request.stack_id,
        request_id: request.request_id,
        logical_resource_id: request.logical_resource_id,
        data,
    };
    answer_cloudformation(url, &response).await
}

async fn validate(deps: &Deps, trigger: String) -> LicenseSummary {
    let app = &deps.app;
    let now = app.clock.now();
    match app.license_check(now).await {
        Ok(checked) => LicenseSummary {
            trigger,
            validated: true,
            result: checked.record.result,
            standing: checked.standing.name().to_owned(),
            attempted: true,
        },
        Err(e) => {
            // What was attempted is in the audit trail (`license sent`);
            // the standing is the cached license's.
            let standing = app
                .standing(now)
                .await
                .map(|s| s.name().to_owned())
                .unwrap_or_else(|_| "unknown".into());
            use zw_license::check::CheckError as C;
            let attempted = matches!(
                &e,
                zw_app::license::LicenseCommandError::Check(
                    C::Unreachable(_) | C::Refused { .. } | C::BadAnswer(_)
                )
            );
            tracing::warn!(error = %e, "license validation did not store a new license");
            LicenseSummary {
                trigger,
                validated: false,
                result: e.to_string(),
                standing,
                attempted,
            }
        }
    }
}

pub async fn handle(
    deps: &Deps,
    event: LambdaEvent<serde_json::Value>,
) -> Result<LicenseSummary, HandlerError> {
    let payload = event.payload;
    if payload.get("RequestType").is_some() {
        let (request, url) = custom_resource(payload)?;
        record_settings(deps, &request).await;
        let summary = if request.request_type == "Delete" {
            LicenseSummary::stack_deleted()
        } else {
            validate(deps, format!("cloudformation: {}", request.request_type)).await
        };
        let data = serde_json::json!({ "Standing": summary.standing });
        answer_success(request, &url, &summary, data).await?;
        return Ok(summary);
    }
    let env = Envelope::parse(&payload)?;
    let trigger = if env.is_schedule() {
        "schedule".to_owned()
    } else if env.is_manual() {
        "manual".to_owned()
    } else {
        return Err(env
            .unsupported("aws.events (schedule), zonewarden (manual) or a CloudFormation custom resource request")
            .into());
    };
    let summary = validate(deps, trigger).await;
    tracing::info!(
        "zonewarden_license={}",
        serde_json::to_string(&summary).unwrap_or_default()
    );
    Ok(summary)
}

/// Appends the deploy's settings change to the audit log. A failure is
/// logged, never a failed deploy.
async fn record_settings(deps: &Deps, request: &CustomResourceRequest) {
    let app = &deps.app;
    let (Some(entry), Some(store)) = (
        request.settings_change(app.clock.now()),
        app.services.store.clone(),
    ) else {
        return;
    };
    let days = app.config.common.audit_retention_days;
    if let Err(e) = zw_aws::triage::TableTriage::new(store, days)
        .record(&entry)
        .await
    {
        tracing::warn!(error = %e, "the deploy's settings change was not written to the audit log");
    }
}

/// PUT the answer to CloudFormation's presigned URL (an empty content type:
/// the URL was signed without one). Retried a few times: a stack waits an
/// hour for an answer that never comes.
pub(crate) async fn answer_cloudformation(
    url: &OutboundUrl,
    response: &CustomResourceResponse,
) -> Result<(), HandlerError> {
    let body = serde_json::to_vec(response).unwrap_or_default();
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .https_only(!url.is_plain_http_to_loopback())
        .build()
        .map_err(|e| HandlerError::Event {
            error_type: "CustomResourceAnswerFailed",
            message: format!("cannot build the HTTP client: {e}"),
        })?;
    let mut last = String::new();
    for attempt in 0..3u64 {
        if attempt > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(500 * attempt)).await;
        }
        match client
            .put(url.as_url().clone())
            .header("content-type", "")
            .body(body.clone())
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) => last = format!("HTTP {}", r.status()),
            Err(e) => last = e.to_string(),
        }
    }
    Err(HandlerError::Event {
        error_type: "CustomResourceAnswerFailed",
        message: format!("CloudFormation's ResponseURL did not take the answer: {last}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deploy_that_changes_licensing_settings_is_one_audit_entry() {
        let request = |kind: &str, old: Option<serde_json::Value>| CustomResourceRequest {
            request_type: kind.into(),
            response_url: String::new(),
            stack_id: "arn:aws:cloudformation:eu-west-1:111122223333:stack/zw/1".into(),
            request_id: "r".into(),
            logical_resource_id: "LicenseCheck".into(),
            physical_resource_id: None,
            resource_properties: Some(
                serde_json::json!({"ServiceToken": "arn:x", "Version": "0.2.0", "FleetVisibility": "off"}),
            ),
            old_resource_properties: old,
        };
        let at = "2026-12-03T10:00:00Z".parse().expect("t");
        let created = request("Create", None)
            .settings_change(at)
            .expect("an entry");
        assert_eq!(created.action, "settings-changed");
        assert_eq!(
            created.after,
            Some(serde_json::json!({"Version": "0.2.0", "FleetVisibility": "off"}))
        );
        assert!(created.actor.contains("stack/zw"));
        let updated = request(
            "Update",
            Some(serde_json::json!({"ServiceToken": "arn:x", "Version": "0.2.0", "FleetVisibility": "on"})),
        )
        .settings_change(at)
        .expect("an entry");
        assert_eq!(updated.before.expect("before")["FleetVisibility"], "on");
        let same = request(
            "Update",
            Some(
                serde_json::json!({"ServiceToken": "arn:y", "Version": "0.2.0", "FleetVisibility": "off"}),
            ),
        );
        assert!(same.settings_change(at).is_none(), "only the token moved");
    }

    #[test]
    fn the_answer_goes_to_amazon_s3_or_the_tests_loopback_only() {
        assert!(check_response_url("https://cloudformation-custom-resource-response-euwest1.s3-eu-west-1.amazonaws.com/arn%3Aaws?X=1").is_ok());
        assert!(check_response_url("http://127.0.0.1:9999/cfn").is_ok());
        // Each of these passed the old check, which sliced the text.
        for (raw, why) in [
            ("https://attacker.example#.amazonaws.com/", "has a fragment"),
            (
                // A backslash ends the host for the parser (and for
                // browsers and HTTP clients), not for a split on '/'.
                "https://attacker.example\\.amazonaws.com/",
                "is not an S3 URL of CloudFormation",
            ),
            (
                "http://127.0.0.1:80@evil.example/",
                "carries a user name or password",
            ),
            (
                "https://attacker-bucket.s3.amazonaws.com/x",
                "is not an S3 URL of CloudFormation",
            ),
        ] {
            let e = check_response_url(raw).expect_err(raw);
            assert!(e.contains(why) && e.contains("not answered"), "{raw}: {e}");
        }
        assert!(check_response_url("https://evil.example.com/amazonaws.com").is_err());
        assert!(check_response_url("http://s3.amazonaws.com/x").is_err());
    }

    #[test]
    fn the_sample_deploy_event_parses() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../events/license-deploy.json"
        ))
        .unwrap();
        let r: CustomResourceRequest = serde_json::from_str(&text).unwrap();
        assert_eq!(r.request_type, "Create");
        assert!(check_response_url(&r.response_url).is_ok());
    }
}
