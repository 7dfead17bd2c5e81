//! Amazon SES v2 domain identities in moto, for the mail family's tests and
//! the demo. moto 5.2.5 answers `GetEmailIdentity` with `DkimAttributes`
//! of status `NOT_STARTED` and no tokens: the Easy DKIM CNAME rules cannot
//! be exercised against it (the rule tests cover them). moto does not
//! verify signatures: the request is a plain REST-JSON POST whose
//! Authorization header names the service and region.

use crate::error::{Result, TestkitError};

/// Creates the domain identity `domain` in `region`.
pub async fn create_domain_identity(
    sdk: &aws_config::SdkConfig,
    region: &str,
    domain: &str,
) -> Result<()> {
    let endpoint = sdk
        .endpoint_url()
        .ok_or_else(|| TestkitError::MotoApi {
            request: "sesv2:CreateEmailIdentity",
            endpoint: String::new(),
            detail: "the SDK configuration has no endpoint URL: seed moto only".into(),
        })?
        .trim_end_matches('/')
        .to_owned();
    let fail = |detail: String| TestkitError::MotoApi {
        request: "sesv2:CreateEmailIdentity",
        endpoint: endpoint.clone(),
        detail,
    };
    let response = reqwest::Client::new()
        .post(format!("{endpoint}/v2/email/identities"))
        .header("content-type", "application/json")
        .header(
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential=testing/20260101/{region}/ses/aws4_request, SignedHeaders=host, Signature=0"
            ),
        )
        .body(serde_json::json!({ "EmailIdentity": domain }).to_string())
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| fail(e.to_string()))?;
    if !status.is_success() {
        return Err(fail(format!("HTTP {status}: {text}")));
    }
    Ok(())
}
