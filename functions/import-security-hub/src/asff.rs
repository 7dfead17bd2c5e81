//! A zonewarden finding event -> an AWS Security Finding Format finding.
//!
//! Field by field (ASFF 2018-10-08, as `BatchImportFindings` takes it):
//! `Id` is stable per finding (`zonewarden/<code>/<resource id>`), so every
//! transition updates the same Security Hub finding; `ProductArn` is the
//! account's own default product (no marketplace integration is needed);
//! `GeneratorId` the finding code; `Severity.Label` our severity;
//! `Resources[0]` the certificate, hosted zone or record; the remediation
//! text points at the code's entry in `docs/findings.md`. A resolve sets
//! `RecordState` ARCHIVED and `Workflow.Status` RESOLVED.

use aws_sdk_securityhub::types::{
    AwsSecurityFinding, Recommendation, RecordState, Remediation, Resource, Severity,
    SeverityLabel, Workflow, WorkflowStatus,
};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::HashMap;

/// What the import reads of an event's detail (`docs/events.md`).
#[derive(Debug, Clone, Deserialize)]
pub struct Detail {
    pub code: String,
    pub severity: String,
    pub resource: DetailResource,
    pub region: String,
    pub message: String,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub state: String,
    #[serde(default)]
    pub resolved_at: Option<DateTime<Utc>>,
    pub transition: String,
    pub event_key: String,
    /// The finding's version in our table after this change.
    #[serde(default)]
    pub version: Option<u64>,
    #[serde(default)]
    pub docs: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
    /// The member account (organization mode); the event's own `account`
    /// is the central deployment's.
    #[serde(default)]
    pub account: Option<DetailAccount>,
    /// The suppression covering it (`Zonewarden Finding Suppressed`, and
    /// the resolve of a suppressed finding).
    #[serde(default)]
    pub suppression: Option<DetailSuppression>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DetailSuppression {
    pub id: String,
    pub reason: String,
    pub until: DateTime<Utc>,
    pub created_by: String,
}

/// What a transition asks of the finding's workflow in Security Hub, which
/// `BatchImportFindings` sets only when it creates a finding: the rest is a
/// customer's `BatchUpdateFindings`. (status, note, who)
pub fn workflow_update(d: &Detail) -> Option<(WorkflowStatus, String, String)> {
    match (d.state.as_str(), d.transition.as_str(), &d.suppression) {
        ("suppressed", "suppressed", Some(s)) => Some((
            WorkflowStatus::Suppressed,
            clip(
                &format!(
                    "zonewarden suppression {} until {}: {}",
                    s.id,
                    iso(s.until),
                    s.reason
                ),
                512,
            ),
            clip(&s.created_by, 512),
        )),
        ("open", "unsuppressed", _) => Some((
            WorkflowStatus::New,
            "zonewarden: the suppression ended or was removed and the problem persists".into(),
            "zonewarden".into(),
        )),
        _ => None,
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct DetailAccount {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DetailResource {
    pub kind: String,
    pub id: String,
    pub name: String,
}

/// Where the finding is reported.
#[derive(Debug, Clone)]
pub struct Target {
    pub account: String,
    pub region: String,
    pub partition: String,
    /// Base URL the `docs` path is appended to for `Remediation.Recommendation.Url`
    /// (`ZW_DOCS_BASE_URL`); without it the text names the path.
    pub docs_base_url: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AsffError {
    #[error("severity `{0}` is not one of critical, high, medium, low, info")]
    Severity(String),
}

fn label(severity: &str) -> Result<SeverityLabel, AsffError> {
    Ok(match severity {
        "critical" => SeverityLabel::Critical,
        "high" => SeverityLabel::High,
        "medium" => SeverityLabel::Medium,
        "low" => SeverityLabel::Low,
        "info" => SeverityLabel::Informational,
        other => return Err(AsffError::Severity(other.chars().take(32).collect())),
    })
}

/// ASFF resource types for ours; anything else is `Other`.
fn resource_type(kind: &str) -> &'static str {
    match kind {
        "acm-certificate" => "AwsCertificateManagerCertificate",
        "route53-hosted-zone" => "AwsRoute53HostedZone",
        _ => "Other",
    }
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut c: String = s.chars().take(max - 1).collect();
        c.push('…');
        c
    }
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub fn finding(d: &Detail, to: &Target) -> Result<AwsSecurityFinding, AsffError> {
    let resolved = d.state == "resolved" || d.transition == "resolved";
    let docs = d.docs.clone().unwrap_or_else(|| "docs/findings.md".into());
    let mut recommendation = Recommendation::builder().text(clip(
        &format!("See {docs} for what {} means and how to fix it.", d.code),
        512,
    ));
    if let Some(base) = &to.docs_base_url {
        recommendation = recommendation.url(format!("{}/{docs}", base.trim_end_matches('/')));
    }
    // A member account's finding is imported by the central account, whose
    // default product may only import its own account's findings: the
    // member is named in the Id (unique across accounts) and the product
    // fields, and AwsAccountId stays the importer's.
    let id = match &d.account {
        Some(a) => format!("zonewarden/{}/{}/{}", a.id, d.code, d.resource.id),
        None => format!("zonewarden/{}/{}", d.code, d.resource.id),
    };
    let mut fields = HashMap::from([
        ("zonewarden/code".to_owned(), d.code.clone()),
        ("zonewarden/event_key".to_owned(), clip(&d.event_key, 1024)),
        (
            "zonewarden/resource_name".to_owned(),
            clip(&d.resource.name, 1024),
        ),
        (
            "zonewarden/scope".to_owned(),
            d.scope.clone().unwrap_or_default(),
        ),
    ]);
    if let Some(a) = &d.account {
        fields.insert("zonewarden/account_id".to_owned(), a.id.clone());
        fields.insert("zonewarden/account_name".to_owned(), clip(&a.name, 1024));
    }
    let updated = if resolved {
        d.resolved_at.unwrap_or(d.last_seen)
    } else {
        d.last_seen
    };
    Ok(AwsSecurityFinding::builder()
        .schema_version("2018-10-08")
        .id(clip(&id, 512))
        .product_arn(format!(
            "arn:{}:securityhub:{}:{}:product/{}/default",
            to.partition, to.region, to.account, to.account
        ))
        .generator_id(format!("zonewarden/{}", d.code))
        .aws_account_id(&to.account)
        .types("Software and Configuration Checks/AWS Security Best Practices")
        .created_at(iso(d.first_seen))
        .first_observed_at(iso(d.first_seen))
        .last_observed_at(iso(d.last_seen))
        .updated_at(iso(updated))
        .severity(
            Severity::builder()
                .label(label(&d.severity)?)
                .original(&d.severity)
                .build(),
        )
        .title(clip(&format!("{}: {}", d.code, d.resource.name), 256))
        .description(clip(&d.message, 1024))
        .remediation(
            Remediation::builder()
                .recommendation(recommendation.build())
                .build(),
        )
        .resources(
            Resource::builder()
                .r#type(resource_type(&d.resource.kind))
                .id(clip(&d.resource.id, 512))
                .partition(aws_sdk_securityhub::types::Partition::from(
                    to.partition.as_str(),
                ))
                .region(&d.region)
                .build(),
        )
        .set_product_fields(Some(fields))
        .record_state(if resolved {
            RecordState::Archived
        } else {
            RecordState::Active
        })
        .workflow(
            Workflow::builder()
                .status(if resolved {
                    WorkflowStatus::Resolved
                } else if d.state == "suppressed" {
                    WorkflowStatus::Suppressed
                } else {
                    WorkflowStatus::New
                })
                .build(),
        )
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> (serde_json::Value, Detail) {
        let path = format!(
            "{}/../../events/zonewarden-finding-{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let event: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("sample")).expect("JSON");
        let detail = serde_json::from_value(event["detail"].clone()).expect("detail");
        (event, detail)
    }

    #[test]
    fn a_member_accounts_finding_names_the_member() {
        let (_, mut d) = sample("opened");
        let single = finding(&d, &target()).expect("finding");
        d.account = Some(DetailAccount {
            id: "444455556666".into(),
            name: "workloads-prod".into(),
        });
        let member = finding(&d, &target()).expect("finding");
        assert_ne!(member.id(), single.id(), "unique across accounts");
        assert!(member.id().unwrap_or_default().contains("444455556666"));
        let fields = member.product_fields().expect("fields");
        assert_eq!(fields["zonewarden/account_id"], "444455556666");
        assert_eq!(fields["zonewarden/account_name"], "workloads-prod");
        assert_eq!(
            member.aws_account_id(),
            Some("111122223333"),
            "the importer's"
        );
    }

    fn target() -> Target {
        Target {
            account: "111122223333".into(),
            region: "eu-west-1".into(),
            partition: "aws".into(),
            docs_base_url: Some("https://example.com/zonewarden/".into()),
        }
    }

    /// The ASFF fields Security Hub requires (`BatchImportFindings`), and
    /// our mapping of each, from the sample events.
    #[test]
    fn an_opened_finding_carries_every_required_asff_field() {
        let (_, d) = sample("opened");
        let f = finding(&d, &target()).expect("asff");
        assert_eq!(f.schema_version(), Some("2018-10-08"));
        assert_eq!(
            f.id(),
            Some(
                "zonewarden/cert.imported-expiring/arn:aws:acm:eu-west-1:111122223333:certificate/abc"
            )
        );
        assert_eq!(
            f.product_arn(),
            Some("arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default")
        );
        assert_eq!(f.generator_id(), Some("zonewarden/cert.imported-expiring"));
        assert_eq!(f.aws_account_id(), Some("111122223333"));
        assert_eq!(f.created_at(), Some("2026-11-23T10:00:00.000Z"));
        assert!(f.updated_at().is_some() && f.title().is_some() && f.description().is_some());
        assert_eq!(f.types().len(), 1);
        assert_eq!(
            f.severity().and_then(|s| s.label()),
            Some(&SeverityLabel::Critical)
        );
        let r = &f.resources()[0];
        assert_eq!(r.r#type(), Some("AwsCertificateManagerCertificate"));
        assert_eq!(
            r.id(),
            Some("arn:aws:acm:eu-west-1:111122223333:certificate/abc")
        );
        assert_eq!(f.record_state(), Some(&RecordState::Active));
        assert_eq!(
            f.remediation()
                .and_then(|r| r.recommendation())
                .and_then(|r| r.url()),
            Some("https://example.com/zonewarden/docs/findings.md#certimported-expiring")
        );
        assert_eq!(
            f.product_fields()
                .and_then(|p| p.get("zonewarden/code"))
                .map(String::as_str),
            Some("cert.imported-expiring")
        );
    }

    #[test]
    fn a_resolve_archives_the_finding_and_marks_it_resolved() {
        let (_, d) = sample("resolved");
        let f = finding(&d, &target()).expect("asff");
        assert_eq!(f.record_state(), Some(&RecordState::Archived));
        assert_eq!(
            f.workflow().and_then(|w| w.status()),
            Some(&WorkflowStatus::Resolved)
        );
        let (_, opened) = sample("opened");
        assert_eq!(
            finding(&opened, &target()).expect("asff").id(),
            f.id(),
            "the same Security Hub finding, updated"
        );
    }

    #[test]
    fn a_suppressed_finding_is_suppressed_in_security_hub_with_its_reason() {
        let (_, d) = sample("suppressed");
        let f = finding(&d, &target()).expect("asff");
        assert_eq!(f.record_state(), Some(&RecordState::Active));
        assert_eq!(
            f.workflow().and_then(|w| w.status()),
            Some(&WorkflowStatus::Suppressed)
        );
        let (status, note, by) = workflow_update(&d).expect("an update");
        assert_eq!(status, WorkflowStatus::Suppressed);
        assert!(
            note.contains("s-5e1f0c2a") && note.contains("PAY-1234"),
            "{note}"
        );
        assert_eq!(by, "arn:aws:iam::111122223333:user/alice");
        let (_, mut opened) = sample("opened");
        assert!(
            workflow_update(&opened).is_none(),
            "a new finding starts NEW"
        );
        opened.transition = "unsuppressed".into();
        assert_eq!(
            workflow_update(&opened).map(|u| u.0),
            Some(WorkflowStatus::New)
        );
    }

    #[test]
    fn an_unknown_severity_is_refused_not_guessed() {
        let (_, mut d) = sample("changed");
        d.severity = "apocalyptic".into();
        assert_eq!(
            finding(&d, &target()).expect_err("refused"),
            AsffError::Severity("apocalyptic".into())
        );
    }
}
