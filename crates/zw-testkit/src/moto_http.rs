//! Plain HTTP requests to moto for services whose SDK crate zonewarden does
//! not link (EC2, SES v2): moto does not verify signatures, so the
//! Authorization header only names the service and region it routes by.

use crate::error::{Result, TestkitError};

/// moto's endpoint from an SDK configuration pointing at it.
pub fn endpoint(sdk: &aws_config::SdkConfig, request: &'static str) -> Result<String> {
    Ok(sdk
        .endpoint_url()
        .ok_or_else(|| TestkitError::MotoApi {
            request,
            endpoint: String::new(),
            detail: "the SDK configuration has no endpoint URL: seed moto only".into(),
        })?
        .trim_end_matches('/')
        .to_owned())
}

/// One POST of `body` to `<endpoint><path>`, routed to `service` in
/// `region`; the answer's text, or the status and text as an error.
#[allow(clippy::too_many_arguments)]
pub async fn post(
    http: &reqwest::Client,
    endpoint: &str,
    service: &str,
    region: &str,
    path: &str,
    content_type: &str,
    body: String,
    request: &'static str,
) -> Result<String> {
    let fail = |detail: String| TestkitError::MotoApi {
        request,
        endpoint: endpoint.to_owned(),
        detail,
    };
    let response = http
        .post(format!("{endpoint}{path}"))
        .header("content-type", content_type)
        .header(
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential=testing/20260101/{region}/{service}/aws4_request, SignedHeaders=host, Signature=0"
            ),
        )
        .body(body)
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| fail(e.to_string()))?;
    if !status.is_success() {
        return Err(fail(format!("HTTP {status}: {text}")));
    }
    Ok(text)
}
