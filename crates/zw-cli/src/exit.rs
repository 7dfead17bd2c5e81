//! Exit statuses and the one error a command returns: a leaf every command
//! and helper uses, so none of them needs another command for its status.

use std::io::Write;

/// Exit statuses, as documented in the README.
pub const EXIT_OK: u8 = 0;

pub const EXIT_SCAN_FAILED: u8 = 1;

pub const EXIT_USAGE: u8 = 2;

pub const EXIT_FAIL_ON: u8 = 3;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad flags or configuration: nothing was called.
    #[error("{0}")]
    Usage(String),
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
}

/// Bad flags or configuration, as a usage error (exit 2).
pub fn usage(e: impl std::fmt::Display) -> CliError {
    CliError::Usage(e.to_string())
}

/// An operation failed after the input was accepted: said on stderr, exit 1.
pub fn failed(e: impl std::fmt::Display) -> Result<u8, CliError> {
    writeln!(std::io::stderr().lock(), "error: {e}")?;
    Ok(EXIT_SCAN_FAILED)
}
