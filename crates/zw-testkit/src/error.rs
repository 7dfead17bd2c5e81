//! The testkit's one error type.

use std::path::PathBuf;

/// Everything that can go wrong while starting moto, generating certificates or
/// seeding an emulated account. Messages say what to do where there is
/// something to do.
#[derive(thiserror::Error, Debug)]
pub enum TestkitError {
    /// The moto server executable does not exist.
    #[error("moto_server not found at {}: run scripts/setup (or set MOTO_SERVER_BIN)", path.display())]
    MotoNotFound { path: PathBuf },

    /// The moto server could not be spawned.
    #[error("could not start {}: {source}", path.display())]
    MotoSpawn {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The moto server exited before it answered.
    #[error("moto_server exited during start-up ({status}); its output:\n{output}")]
    MotoExited { status: String, output: String },

    /// The moto server did not answer in time.
    #[error(
        "moto_server on {endpoint} did not answer GET /moto-api/ within {waited_secs} s; its output:\n{output}"
    )]
    MotoTimeout {
        endpoint: String,
        waited_secs: u64,
        output: String,
    },

    /// A raw HTTP request to moto's management API failed.
    #[error("{request} on {endpoint} failed: {detail}")]
    MotoApi {
        request: &'static str,
        endpoint: String,
        detail: String,
    },

    /// Local file or socket trouble outside the cases above.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    /// rcgen refused to build a certificate.
    #[error("certificate generation failed: {0}")]
    Certificate(#[from] rcgen::Error),

    /// A date outside what X.509 (and the `time` crate) can express.
    #[error("date {0} is out of range for a certificate")]
    DateOutOfRange(String),

    /// An AWS API call (against moto) failed. `detail` is the full error chain.
    #[error("{operation} failed: {detail}")]
    Aws {
        operation: &'static str,
        detail: String,
    },

    /// An SDK request or model type could not be built.
    #[error("building {what} failed: {detail}")]
    Build { what: &'static str, detail: String },

    /// A response lacked a field the testkit needs.
    #[error("{operation} response has no {field}")]
    MissingField {
        operation: &'static str,
        field: &'static str,
    },

    /// A certificate did not reach the expected state in time.
    #[error(
        "certificate {arn} not ISSUED with validation records after {waited_secs} s (last status: {status})"
    )]
    NotIssued {
        arn: String,
        waited_secs: u64,
        status: String,
    },

    /// The caller asked for something the testkit cannot do.
    #[error("invalid input: {0}")]
    Invalid(String),
}

impl TestkitError {
    /// Wraps an SDK error (or any error) with its whole source chain, so that
    /// moto's message is not lost behind "service error".
    pub(crate) fn aws<E>(operation: &'static str) -> impl FnOnce(E) -> TestkitError
    where
        E: std::error::Error,
    {
        move |err| TestkitError::Aws {
            operation,
            detail: aws_smithy_types::error::display::DisplayErrorContext(&err).to_string(),
        }
    }

    /// Wraps an SDK builder error.
    pub(crate) fn build<E>(what: &'static str) -> impl FnOnce(E) -> TestkitError
    where
        E: std::fmt::Display,
    {
        move |err| TestkitError::Build {
            what,
            detail: err.to_string(),
        }
    }
}

/// The testkit's result type.
pub type Result<T, E = TestkitError> = std::result::Result<T, E>;
