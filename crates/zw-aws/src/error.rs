//! Classifies SDK errors into `PortError` once, so nothing above this layer
//! looks at SDK error types or error-code strings.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use zw_core::ports::{ErrorKind, PortError};

/// Error codes the AWS services use for "slow down".
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "PriorRequestNotComplete",
    "ProvisionedThroughputExceededException",
    "RequestThrottled",
    "LimitExceededException",
];

const ACCESS_DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
];

const NOT_FOUND: &[&str] = &["ResourceNotFoundException", "NoSuchHostedZone", "NotFound"];

pub fn classify<E, R>(
    service: &'static str,
    operation: &'static str,
    err: SdkError<E, R>,
) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + 'static,
{
    let text = chain(&err);
    let kind = match &err {
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or_default();
            if THROTTLING.contains(&code) {
                ErrorKind::Throttled
            } else if ACCESS_DENIED.contains(&code) {
                ErrorKind::AccessDenied
            } else if NOT_FOUND.contains(&code) {
                ErrorKind::NotFound
            } else if code.contains("Validation") || code.starts_with("Invalid") {
                ErrorKind::InvalidRequest
            } else if text.contains("status code: 5")
                // The runtime-built operations (`crate::rpc`) name an
                // answer without an error code by its status.
                || code.starts_with("HTTP 5")
                || code.contains("InternalFailure")
                || code.contains("ServiceUnavailable")
            {
                ErrorKind::Transient
            } else {
                ErrorKind::Other
            }
        }
        SdkError::TimeoutError(_) => ErrorKind::Transient,
        SdkError::DispatchFailure(d) if d.is_io() || d.is_timeout() => ErrorKind::Unreachable,
        SdkError::ResponseError(_) => ErrorKind::InvalidResponse,
        _ if is_credentials_problem(&text) => ErrorKind::NoCredentials,
        SdkError::DispatchFailure(_) => ErrorKind::Unreachable,
        _ => ErrorKind::Other,
    };
    let kind = if kind != ErrorKind::NoCredentials && is_credentials_problem(&text) {
        ErrorKind::NoCredentials
    } else {
        kind
    };
    // A service error's context carries the whole raw response; its code and
    // message are what a person needs.
    let detail = match &err {
        SdkError::ServiceError(se) => format!(
            "{}: {}",
            se.err().code().unwrap_or("UnknownError"),
            se.err().message().unwrap_or("no message")
        ),
        _ => text,
    };
    let message = match kind {
        ErrorKind::AccessDenied => format!("not allowed to call {service}:{operation}: {detail}"),
        _ => detail,
    };
    PortError::new(
        service,
        operation,
        kind,
        format!("{message}; {}", hint(kind)),
    )
}

/// Classifies a DynamoDB error on `table`; a missing table gets a message
/// that says so and how to fix it. The findings store and the inventory cache
/// share the table, and so this message.
pub fn table_error<E, R>(table: &str, operation: &'static str, err: SdkError<E, R>) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + 'static,
{
    let mut e = classify("dynamodb", operation, err);
    if e.kind == ErrorKind::NotFound {
        e.message = format!(
            "table `{table}` does not exist in this account and region ({}); deploy the stack, or pass --table / set ZW_TABLE_NAME",
            e.message
        );
    }
    e
}

/// What a person should do about an error of this kind, appended to its
/// message. Here, at the edge, because it names settings and files.
pub fn hint(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Throttled => {
            "the API kept throttling; lower ZW_ACM_RPS / ZW_ROUTE53_RPS or retry later"
        }
        ErrorKind::Transient => "a temporary AWS-side failure; the next scan retries",
        ErrorKind::Unreachable => "check network access, the region name and AWS_ENDPOINT_URL",
        ErrorKind::NoCredentials => {
            "configure credentials (AWS_PROFILE, aws sso login, or an instance/Lambda role)"
        }
        ErrorKind::AccessDenied => {
            "grant the permission named above (see docs/template.md for the policy)"
        }
        ErrorKind::NotFound => "check the name and region of the resource",
        ErrorKind::InvalidRequest => "check the region and parameters",
        ErrorKind::InvalidResponse => {
            "unexpected answer from AWS; report it with the message above"
        }
        ErrorKind::Other => "see the message above",
    }
}

/// The error and its sources, joined: "dispatch failure: io error: tcp
/// connect error: Connection refused". Unlike `DisplayErrorContext` it leaves
/// out the Debug dump of the raw response.
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = vec![err.to_string()];
    let mut source = err.source();
    while let Some(e) = source {
        let text = e.to_string();
        if parts.last().is_none_or(|last| !last.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}

fn is_credentials_problem(text: &str) -> bool {
    text.contains("no credentials")
        || text.contains("failed to load credentials")
        || text.contains("the credential provider was not enabled")
        || text.contains("an error occurred while loading credentials")
        || text.contains("CredentialsNotLoaded")
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::error::ErrorMetadata;
    use aws_smithy_types::body::SdkBody;

    #[derive(Debug)]
    struct Svc(ErrorMetadata);
    impl std::fmt::Display for Svc {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{}", self.0.message().unwrap_or("svc"))
        }
    }
    impl std::error::Error for Svc {}
    impl ProvideErrorMetadata for Svc {
        fn meta(&self) -> &ErrorMetadata {
            &self.0
        }
    }

    fn service_error(code: &str) -> SdkError<Svc, aws_smithy_runtime_api::http::Response> {
        let raw = aws_smithy_runtime_api::http::Response::new(
            aws_smithy_runtime_api::http::StatusCode::try_from(400).expect("status"),
            SdkBody::empty(),
        );
        SdkError::service_error(
            Svc(ErrorMetadata::builder().code(code).message("m").build()),
            raw,
        )
    }

    #[test]
    fn service_codes_map_to_kinds() {
        let table = [
            ("ThrottlingException", ErrorKind::Throttled),
            ("Throttling", ErrorKind::Throttled),
            ("PriorRequestNotComplete", ErrorKind::Throttled),
            ("AccessDeniedException", ErrorKind::AccessDenied),
            ("UnrecognizedClientException", ErrorKind::AccessDenied),
            ("ResourceNotFoundException", ErrorKind::NotFound),
            ("ValidationException", ErrorKind::InvalidRequest),
            ("SomethingNew", ErrorKind::Other),
            // A runtime-built operation's answer without a code (moto's
            // HTML 500 for an operation it lacks).
            ("HTTP 500", ErrorKind::Transient),
            ("HTTP 404", ErrorKind::Other),
        ];
        for (code, kind) in table {
            let e = classify("acm", "ListCertificates", service_error(code));
            assert_eq!(e.kind, kind, "{code}");
            assert_eq!((e.service, e.operation), ("acm", "ListCertificates"));
        }
        let denied = classify(
            "acm",
            "DescribeCertificate",
            service_error("AccessDeniedException"),
        );
        assert!(
            denied
                .to_string()
                .contains("not allowed to call acm:DescribeCertificate"),
            "{denied}"
        );
        // The hint is added here, at the edge, where settings have names.
        assert!(
            denied.message.ends_with(hint(ErrorKind::AccessDenied)),
            "{denied}"
        );
        assert!(classify("acm", "X", service_error("Throttling")).is_retryable());
    }
}
