//! Where the user's DNS expectations document comes from: an SSM parameter
//! (Lambda) or a local file (CLI).

use crate::error::classify;
use crate::rpc;
use crate::usage::ApiCallCounter;
use aws_config::SdkConfig;
use std::path::{Path, PathBuf};
use zw_core::ports::{DocumentSource, ErrorKind, PortError};

/// SSM's endpoints: `AWS_ENDPOINT_URL_SSM`, the global override or
/// `ssm.<region>.<partition suffix>`.
const SSM: rpc::Endpoint = rpc::Endpoint {
    service_id: "SSM",
    env: "AWS_ENDPOINT_URL_SSM",
    prefix: "ssm",
    signing_name: "ssm",
};

/// One SSM parameter (String or SecureString, decrypted), read on every
/// `fetch`. `GetParameter` is the only SSM call zonewarden makes, so it goes
/// through the SDK's runtime without the SSM service crate (`crate::rpc`).
#[derive(Clone)]
pub struct SsmDocument {
    get_parameter: rpc::JsonOperation,
    name: String,
}

impl std::fmt::Debug for SsmDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsmDocument")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl SsmDocument {
    /// The parameter `name` in the SDK configuration's region.
    pub fn new(sdk: &SdkConfig, name: impl Into<String>, calls: &ApiCallCounter) -> Self {
        let region = sdk
            .region()
            .map(|r| r.as_ref().to_owned())
            .unwrap_or_default();
        Self {
            get_parameter: rpc::json_operation(
                sdk,
                &region,
                &SSM,
                calls,
                "AmazonSSM",
                "GetParameter",
            ),
            name: name.into(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl DocumentSource for SsmDocument {
    async fn fetch(&self) -> Result<Option<String>, PortError> {
        let request = serde_json::json!({ "Name": self.name, "WithDecryption": true });
        let value = self
            .get_parameter
            .invoke(request)
            .await
            .map(|json| json["Parameter"]["Value"].as_str().map(str::to_owned));
        match value {
            Ok(Some(v)) => Ok(Some(v)),
            Ok(None) => Err(PortError::new(
                "ssm",
                "GetParameter",
                ErrorKind::InvalidResponse,
                format!("parameter `{}` came back without a value", self.name),
            )),
            Err(e) => {
                use aws_smithy_types::error::metadata::ProvideErrorMetadata;
                let not_found = e
                    .as_service_error()
                    .is_some_and(|s| s.code() == Some("ParameterNotFound"));
                let mut err = classify("ssm", "GetParameter", e);
                if not_found {
                    err.kind = ErrorKind::NotFound;
                    err.message = format!(
                        "SSM parameter `{}` does not exist in this account and region; create it or fix the parameter name ({})",
                        self.name, err.message
                    );
                } else {
                    err.message = format!("parameter `{}`: {}", self.name, err.message);
                }
                Err(err)
            }
        }
    }
}

/// A local file, read on every `fetch`.
#[derive(Debug, Clone)]
pub struct FileDocument {
    path: PathBuf,
}

impl FileDocument {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl DocumentSource for FileDocument {
    async fn fetch(&self) -> Result<Option<String>, PortError> {
        tokio::fs::read_to_string(&self.path)
            .await
            .map(Some)
            .map_err(|e| {
                let kind = match e.kind() {
                    std::io::ErrorKind::NotFound => ErrorKind::NotFound,
                    std::io::ErrorKind::PermissionDenied => ErrorKind::AccessDenied,
                    std::io::ErrorKind::InvalidData => ErrorKind::InvalidRequest,
                    _ => ErrorKind::Other,
                };
                let why = match kind {
                    ErrorKind::NotFound => "does not exist".to_owned(),
                    ErrorKind::InvalidRequest => "is not UTF-8 text".to_owned(),
                    _ => e.to_string(),
                };
                PortError::new(
                    "file",
                    "read",
                    kind,
                    format!("{} {why}", self.path.display()),
                )
            })
    }
}

/// No document configured: `fetch` answers `None`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoDocument;

impl DocumentSource for NoDocument {
    async fn fetch(&self) -> Result<Option<String>, PortError> {
        Ok(None)
    }
}

/// A document the user keeps outside the code (the DNS expectations, the
/// suppressions): an SSM parameter (Lambda), a file (CLI), or none.
#[derive(Debug, Clone)]
pub enum Document {
    None(NoDocument),
    Parameter(SsmDocument),
    File(FileDocument),
}

impl Document {
    /// The parameter when one is named, else the file, else none. The
    /// parameter is read with `sdk` (the deployment's own account).
    pub fn choose(
        sdk: &SdkConfig,
        parameter: Option<&str>,
        file: Option<&str>,
        calls: &ApiCallCounter,
    ) -> Self {
        match (parameter, file) {
            (Some(p), _) => Self::Parameter(SsmDocument::new(sdk, p, calls)),
            (None, Some(f)) => Self::File(FileDocument::new(f)),
            (None, None) => Self::None(NoDocument),
        }
    }
}

impl DocumentSource for Document {
    async fn fetch(&self) -> Result<Option<String>, PortError> {
        match self {
            Self::None(d) => d.fetch().await,
            Self::Parameter(d) => d.fetch().await,
            Self::File(d) => d.fetch().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_http_client::test_util::infallible_client_fn;
    use aws_smithy_types::body::SdkBody;

    /// An SDK configuration whose HTTP client answers every request with
    /// `status` and `body`, after checking what was sent.
    fn answering(status: u16, body: &'static str) -> SdkConfig {
        let http = infallible_client_fn(move |req: http::Request<SdkBody>| {
            assert_eq!(req.method(), "POST");
            assert_eq!(
                req.uri().to_string(),
                "https://ssm.eu-west-1.amazonaws.com/",
                "the regional endpoint"
            );
            assert_eq!(
                req.headers()
                    .get("x-amz-target")
                    .map(|v| v.to_str().unwrap()),
                Some("AmazonSSM.GetParameter")
            );
            let auth = req.headers().get("authorization").expect("signed");
            assert!(
                auth.to_str()
                    .unwrap()
                    .contains("/eu-west-1/ssm/aws4_request"),
                "{auth:?}"
            );
            let sent: serde_json::Value =
                serde_json::from_slice(req.body().bytes().expect("body")).expect("json");
            assert_eq!(sent["WithDecryption"], serde_json::json!(true));
            http::Response::builder()
                .status(status)
                .body(body)
                .expect("response")
        });
        SdkConfig::builder()
            .region(aws_config::Region::new("eu-west-1"))
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(
                    aws_credential_types::Credentials::new(
                        "AKIDTEST", "secret", None, None, "test",
                    ),
                ),
            )
            .http_client(http)
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build()
    }

    #[tokio::test]
    async fn ssm_reads_the_decrypted_value() {
        let sdk = answering(
            200,
            r#"{"Parameter":{"Name":"/zw/expect","Type":"SecureString","Value":"zones: []","Version":1}}"#,
        );
        let doc = SsmDocument::new(&sdk, "/zw/expect", &ApiCallCounter::default());
        assert_eq!(doc.fetch().await.expect("ok").as_deref(), Some("zones: []"));
    }

    #[tokio::test]
    async fn a_missing_parameter_is_not_found_and_named() {
        let sdk = answering(
            400,
            r#"{"__type":"com.amazonaws.ssm#ParameterNotFound","message":"Parameter /zw/missing not found."}"#,
        );
        let e = SsmDocument::new(&sdk, "/zw/missing", &ApiCallCounter::default())
            .fetch()
            .await
            .expect_err("missing");
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert!(e.message.contains("`/zw/missing`"), "{e}");
    }

    #[tokio::test]
    async fn access_denied_is_classified_and_an_answer_without_value_is_refused() {
        let sdk = answering(
            400,
            r#"{"__type":"AccessDeniedException","message":"User is not authorized to perform: ssm:GetParameter"}"#,
        );
        let e = SsmDocument::new(&sdk, "/zw/x", &ApiCallCounter::default())
            .fetch()
            .await
            .expect_err("denied");
        assert_eq!(e.kind, ErrorKind::AccessDenied, "{e}");
        let sdk = answering(200, r#"{"Parameter":{"Name":"/zw/x"}}"#);
        let e = SsmDocument::new(&sdk, "/zw/x", &ApiCallCounter::default())
            .fetch()
            .await
            .expect_err("no value");
        assert_eq!(e.kind, ErrorKind::InvalidResponse, "{e}");
    }

    #[tokio::test]
    async fn a_missing_file_names_its_path() {
        let e = FileDocument::new("/nonexistent/zw/expectations.yaml")
            .fetch()
            .await
            .expect_err("missing");
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert!(
            e.message
                .contains("/nonexistent/zw/expectations.yaml does not exist"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn files_and_no_document() {
        let path = std::env::temp_dir().join(format!("zw-doc-{}.yaml", std::process::id()));
        tokio::fs::write(&path, "zones: []\n").await.expect("write");
        let got = FileDocument::new(&path).fetch().await;
        let _ = tokio::fs::remove_file(&path).await;
        assert_eq!(got.expect("read").as_deref(), Some("zones: []\n"));
        assert_eq!(NoDocument.fetch().await.expect("ok"), None);
    }
}
