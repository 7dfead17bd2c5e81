//! Amazon SES v2 domain identities in moto, for the mail family's tests and
//! the demo. moto 5.2.5 answers `GetEmailIdentity` with `DkimAttributes`
//! of status `NOT_STARTED` and no tokens: the Easy DKIM CNAME rules cannot
//! be exercised against it (the rule tests cover them). moto does not
//! verify signatures: the request is a plain REST-JSON POST whose
//! Authorization header names the service and region.

use crate::error::Result;

/// Creates the domain identity `domain` in `region`.
pub async fn create_domain_identity(
    sdk: &aws_config::SdkConfig,
    region: &str,
    domain: &str,
) -> Result<()> {
    let endpoint = crate::moto_http::endpoint(sdk, "sesv2:CreateEmailIdentity")?;
    crate::moto_http::post(
        &reqwest::Client::new(),
        &endpoint,
        "ses",
        region,
        "/v2/email/identities",
        "application/json",
        serde_json::json!({ "EmailIdentity": domain }).to_string(),
        "sesv2:CreateEmailIdentity",
    )
    .await?;
    Ok(())
}
