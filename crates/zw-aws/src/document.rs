//! Where the user's DNS expectations document comes from: an SSM parameter
//! (Lambda) or a local file (CLI).

use crate::error::classify;
use crate::usage::ApiCallCounter;
use aws_config::SdkConfig;
use aws_sdk_ssm::operation::get_parameter::GetParameterError;
use std::path::{Path, PathBuf};
use zw_core::ports::{DocumentSource, ErrorKind, PortError};

/// One SSM parameter (String or SecureString, decrypted), read on every
/// `fetch`.
#[derive(Debug, Clone)]
pub struct SsmDocument {
    client: aws_sdk_ssm::Client,
    name: String,
}

impl SsmDocument {
    pub fn new(sdk: &SdkConfig, name: impl Into<String>, calls: &ApiCallCounter) -> Self {
        let conf = aws_sdk_ssm::config::Builder::from(sdk)
            .interceptor(calls.clone())
            .build();
        Self::from_client(aws_sdk_ssm::Client::from_conf(conf), name)
    }

    /// With a client built elsewhere (tests use a mocked one).
    pub fn from_client(client: aws_sdk_ssm::Client, name: impl Into<String>) -> Self {
        Self {
            client,
            name: name.into(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl DocumentSource for SsmDocument {
    async fn fetch(&self) -> Result<Option<String>, PortError> {
        let out = self
            .client
            .get_parameter()
            .name(&self.name)
            .with_decryption(true)
            .send()
            .await;
        match out {
            Ok(out) => match out.parameter().and_then(|p| p.value()) {
                Some(v) => Ok(Some(v.to_owned())),
                None => Err(PortError::new(
                    "ssm",
                    "GetParameter",
                    ErrorKind::InvalidResponse,
                    format!("parameter `{}` came back without a value", self.name),
                )),
            },
            Err(e) => {
                let not_found = matches!(
                    e.as_service_error(),
                    Some(GetParameterError::ParameterNotFound(_))
                );
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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ssm::operation::get_parameter::GetParameterOutput;
    use aws_sdk_ssm::types::Parameter;
    use aws_sdk_ssm::types::error::ParameterNotFound;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    #[tokio::test]
    async fn ssm_reads_the_decrypted_value() {
        let rule = mock!(aws_sdk_ssm::Client::get_parameter)
            .match_requests(|r| r.name() == Some("/zw/expect") && r.with_decryption() == Some(true))
            .then_output(|| {
                GetParameterOutput::builder()
                    .parameter(
                        Parameter::builder()
                            .name("/zw/expect")
                            .value("zones: []")
                            .build(),
                    )
                    .build()
            });
        let client = mock_client!(aws_sdk_ssm, RuleMode::Sequential, &[&rule]);
        let doc = SsmDocument::from_client(client, "/zw/expect");
        assert_eq!(doc.fetch().await.expect("ok").as_deref(), Some("zones: []"));
    }

    #[tokio::test]
    async fn a_missing_parameter_is_not_found_and_named() {
        let rule = mock!(aws_sdk_ssm::Client::get_parameter).then_error(|| {
            GetParameterError::ParameterNotFound(ParameterNotFound::builder().build())
        });
        let client = mock_client!(aws_sdk_ssm, RuleMode::Sequential, &[&rule]);
        let e = SsmDocument::from_client(client, "/zw/missing")
            .fetch()
            .await
            .expect_err("missing");
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert!(e.message.contains("`/zw/missing`"), "{e}");
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
