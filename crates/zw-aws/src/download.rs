//! One GET of a document from a URL the operator configured (AWS's
//! `ip-ranges.json`, the CT search): the client refuses redirects and
//! proxies, speaks https only (plain http to loopback alone), and the body
//! is read up to a cap, whatever length the server announces.

use std::time::Duration;
use zw_core::outbound::OutboundUrl;
use zw_core::ports::{ErrorKind, PortError};

/// Who downloads, for the errors.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Downloader {
    pub service: &'static str,
    pub operation: &'static str,
    /// The most of a body that is read.
    pub max_bytes: usize,
}

impl Downloader {
    fn error(&self, kind: ErrorKind, message: String) -> PortError {
        PortError::new(self.service, self.operation, kind, message)
    }

    /// The client for `url`: `timeout` bounds connecting and each read,
    /// `total` the whole request; `extra_roots` (PEM) are trusted besides
    /// the platform's roots.
    pub fn client(
        &self,
        url: &OutboundUrl,
        timeout: Duration,
        total: Duration,
        extra_roots: Option<&[u8]>,
    ) -> Result<reqwest::Client, PortError> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(timeout)
            .read_timeout(timeout)
            .timeout(total.max(timeout))
            // The configured server answers itself; a redirect is an answer
            // to report, not an invitation to fetch from somewhere else.
            .redirect(reqwest::redirect::Policy::none())
            // A proxy variable left in the environment must not see (or
            // answer for) the request.
            .no_proxy()
            .https_only(!url.is_plain_http_to_loopback())
            .user_agent(concat!("zonewarden/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = extra_roots {
            let roots = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
                self.error(
                    ErrorKind::InvalidRequest,
                    format!("ZW_TLS_EXTRA_ROOTS is not a PEM bundle of certificates: {e}"),
                )
            })?;
            for root in roots {
                builder = builder.add_root_certificate(root);
            }
        }
        builder.build().map_err(|e| {
            self.error(
                ErrorKind::Other,
                format!("cannot build the HTTP client: {e}"),
            )
        })
    }

    /// The body of a 2xx answer to `GET url`, at most `max_bytes`.
    pub async fn get(
        &self,
        client: &reqwest::Client,
        url: &url::Url,
    ) -> Result<Vec<u8>, PortError> {
        let shown = url.as_str();
        let mut response = client
            .get(url.clone())
            .send()
            .await
            .map_err(|e| self.transport_error(shown, &e))?;
        let status = response.status();
        if !status.is_success() {
            let kind = match status.as_u16() {
                401 | 403 => ErrorKind::AccessDenied,
                404 => ErrorKind::NotFound,
                429 => ErrorKind::Throttled,
                500..=599 => ErrorKind::Transient,
                _ => ErrorKind::InvalidResponse,
            };
            let redirect = if status.is_redirection() {
                " (a redirect: not followed)"
            } else {
                ""
            };
            return Err(self.error(kind, format!("{shown} answered HTTP {status}{redirect}")));
        }
        let max = self.max_bytes;
        let too_large = || {
            self.error(
                ErrorKind::InvalidResponse,
                format!("{shown} answered more than {max} bytes; not read further"),
            )
        };
        if response.content_length().is_some_and(|n| n > max as u64) {
            return Err(too_large());
        }
        // Read chunk by chunk: a server that sends no length, or lies about
        // it, is stopped at the cap all the same.
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(shown, &e))?
        {
            if body.len() + chunk.len() > max {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// Runs `parse` (of a body of up to `max_bytes`) off the async worker
    /// threads; `what` names the document for the error.
    pub async fn off_thread<T: Send + 'static>(
        &self,
        what: &str,
        parse: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PortError> {
        tokio::task::spawn_blocking(parse).await.map_err(|e| {
            self.error(
                ErrorKind::Other,
                format!("reading {what} was interrupted: {e}"),
            )
        })
    }

    fn transport_error(&self, url: &str, e: &reqwest::Error) -> PortError {
        let kind = if e.is_timeout() {
            ErrorKind::Transient
        } else if e.is_connect() || e.is_request() {
            ErrorKind::Unreachable
        } else {
            ErrorKind::Transient
        };
        let mut text = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        self.error(kind, format!("{url}: {text}"))
    }
}
