//! A private moto server per test binary (or per test).

use crate::error::{Result, TestkitError};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Environment variable that overrides the moto server executable
/// (default: `<repo>/.venv/bin/moto_server`, installed by `scripts/setup`).
pub const MOTO_SERVER_BIN_ENV: &str = "MOTO_SERVER_BIN";

/// Seconds after which moto turns a requested certificate ISSUED in servers
/// started by [`Moto::start`].
pub const ACM_VALIDATION_WAIT_SECS: u64 = 1;

const READY_TIMEOUT: Duration = Duration::from_secs(30);
const POLL_INTERVAL: Duration = Duration::from_millis(50);
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts at a free port: another process may grab the one we picked
/// between our probe and moto's bind.
const PORT_ATTEMPTS: usize = 3;

/// The repository root (the workspace directory holding `.venv` and `scripts`).
pub fn repo_root() -> PathBuf {
    let raw = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    std::fs::canonicalize(&raw).unwrap_or(raw)
}

/// A moto server owned by this process, listening on a loopback port of its
/// own; killed when dropped.
///
/// Requested ACM certificates become ISSUED after
/// [`ACM_VALIDATION_WAIT_SECS`] (1 s). moto's known limits (see
/// `/work/shared/TOOLCHAIN.md`): `InUseBy` is always empty and
/// `RenewalEligibility` always `INELIGIBLE`; importing an expired certificate
/// is rejected; DynamoDB TTL is never enforced.
///
/// The server's output goes to `<repo>/.zw/testkit/moto-PORT.log`; the file is
/// removed on drop unless the thread is panicking (a failing test), in which
/// case its path is printed to stderr.
#[derive(Debug)]
pub struct Moto {
    /// `http://127.0.0.1:PORT`, for `endpoint_url`.
    pub endpoint: String,
    addr: SocketAddr,
    child: Child,
    log_path: PathBuf,
}

impl Moto {
    /// Starts a fresh moto server on a free loopback port and waits (at most
    /// 30 s) until it answers `GET /moto-api/`.
    ///
    /// Blocking (about one second); fine to call from a `#[tokio::test]`.
    pub fn start() -> Result<Moto> {
        let bin = match std::env::var_os(MOTO_SERVER_BIN_ENV) {
            Some(path) if !path.is_empty() => PathBuf::from(path),
            _ => repo_root().join(".venv/bin/moto_server"),
        };
        Self::start_with(&bin)
    }

    /// [`Moto::start`] with an explicit moto server executable.
    pub fn start_with(bin: &Path) -> Result<Moto> {
        if !bin.is_file() {
            return Err(TestkitError::MotoNotFound {
                path: bin.to_path_buf(),
            });
        }
        let log_dir = repo_root().join(".zw/testkit");
        std::fs::create_dir_all(&log_dir).map_err(|source| TestkitError::Io {
            context: format!("creating {}", log_dir.display()),
            source,
        })?;

        let mut attempt = 0;
        loop {
            attempt += 1;
            match Self::start_on_free_port(bin, &log_dir) {
                Err(TestkitError::MotoExited { output, .. })
                    if attempt < PORT_ATTEMPTS && output.contains("Address already in use") =>
                {
                    continue;
                }
                other => return other,
            }
        }
    }

    fn start_on_free_port(bin: &Path, log_dir: &Path) -> Result<Moto> {
        let port = free_port()?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let log_path = log_dir.join(format!("moto-{port}.log"));
        let log = File::create(&log_path).map_err(|source| TestkitError::Io {
            context: format!("creating {}", log_path.display()),
            source,
        })?;
        let log_err = log.try_clone().map_err(|source| TestkitError::Io {
            context: format!("duplicating the handle of {}", log_path.display()),
            source,
        })?;
        let child = Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env(
                "MOTO_ACM_VALIDATION_WAIT",
                ACM_VALIDATION_WAIT_SECS.to_string(),
            )
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|source| TestkitError::MotoSpawn {
                path: bin.to_path_buf(),
                source,
            })?;
        // From here on, Drop kills the child on every early return.
        let mut moto = Moto {
            endpoint: format!("http://{addr}"),
            addr,
            child,
            log_path,
        };

        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = moto.child.try_wait() {
                return Err(TestkitError::MotoExited {
                    status: status.to_string(),
                    output: moto.output(),
                });
            }
            if matches!(http_request(addr, "GET", "/moto-api/"), Ok(200)) {
                return Ok(moto);
            }
            if started.elapsed() > READY_TIMEOUT {
                return Err(TestkitError::MotoTimeout {
                    endpoint: moto.endpoint.clone(),
                    waited_secs: READY_TIMEOUT.as_secs(),
                    output: moto.output(),
                });
            }
            pause(POLL_INTERVAL);
        }
    }

    /// Forgets every emulated resource (`POST /moto-api/reset`).
    pub fn reset(&self) -> Result<()> {
        match http_request(self.addr, "POST", "/moto-api/reset") {
            Ok(200) => Ok(()),
            Ok(status) => Err(TestkitError::MotoApi {
                request: "POST /moto-api/reset",
                endpoint: self.endpoint.clone(),
                detail: format!("HTTP status {status}"),
            }),
            Err(err) => Err(TestkitError::MotoApi {
                request: "POST /moto-api/reset",
                endpoint: self.endpoint.clone(),
                detail: err.to_string(),
            }),
        }
    }

    /// The loopback port moto listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Where the server's output goes.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// An `SdkConfig` for this server: its endpoint, static test credentials
    /// and `region`. Nothing is read from the process environment for these.
    pub async fn sdk_config(&self, region: &str) -> SdkConfig {
        sdk_config_for(&self.endpoint, region).await
    }

    /// The last 4 KiB of the server's output, for error messages.
    fn output(&self) -> String {
        let text = std::fs::read(&self.log_path)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default();
        let mut start = text.len().saturating_sub(4096);
        while !text.is_char_boundary(start) {
            start += 1;
        }
        text[start..].to_owned()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // The child may already be gone; nothing useful to do on error.
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "zw-testkit: moto output kept in {}",
                self.log_path.display()
            );
        } else {
            let _ = std::fs::remove_file(&self.log_path);
        }
    }
}

/// An `SdkConfig` for an emulator at `endpoint`: static credentials
/// (`testing`/`testing`, which moto maps to account 123456789012) and `region`.
pub async fn sdk_config_for(endpoint: &str, region: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_acm::config::Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "zw-testkit",
        ))
        .region(Region::new(region.to_owned()))
        .load()
        .await
}

/// `Moto::start` is synchronous on purpose (usable from plain `#[test]`s and
/// before any runtime exists); its readiness poll sleeps the thread for short
/// intervals, about a second in all.
#[expect(
    clippy::disallowed_methods,
    reason = "synchronous start-up poll of a child process, not async code"
)]
fn pause(interval: Duration) {
    std::thread::sleep(interval);
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).map_err(|source| TestkitError::Io {
        context: "binding 127.0.0.1:0 to find a free port".to_owned(),
        source,
    })?;
    let port = listener
        .local_addr()
        .map_err(|source| TestkitError::Io {
            context: "reading the address of a probe socket".to_owned(),
            source,
        })?
        .port();
    drop(listener);
    Ok(port)
}

/// One HTTP/1.0 request without a body; returns the status code.
fn http_request(addr: SocketAddr, method: &str, path: &str) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, HTTP_TIMEOUT)?;
    stream.set_read_timeout(Some(HTTP_TIMEOUT))?;
    stream.set_write_timeout(Some(HTTP_TIMEOUT))?;
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    stream.flush()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let head = String::from_utf8_lossy(&response[..response.len().min(64)]).into_owned();
    // "HTTP/1.0 200 OK"
    head.split_whitespace()
        .nth(1)
        .filter(|_| head.starts_with("HTTP/"))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("not an HTTP response: {head:?}"),
            )
        })
}
