//! The endpoints family's settings.

use crate::settings::Vars;
use std::net::{IpAddr, SocketAddr};

/// The endpoints family's settings: which handshakes, how many at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// `ZW_TLS_TARGETS`: extra `host[:port]` targets, comma-separated (port
    /// 443 when none is given).
    pub targets: Vec<(String, u16)>,
    /// `ZW_TLS_EXTRA_ROOTS`: a PEM file of additional trust anchors.
    pub extra_roots_file: Option<String>,
    /// `ZW_TLS_PORTS`, default `443`: the ports names are probed on.
    pub ports: Vec<u16>,
    /// `ZW_TLS_TIMEOUT_MS`, default 5000: connect plus handshake, per target.
    pub timeout_ms: u32,
    /// `ZW_TLS_CONCURRENCY`, default 32: handshakes in flight.
    pub concurrency: u32,
}

impl Default for TlsConfig {
    fn default() -> Self {
        Self {
            targets: Vec::new(),
            extra_roots_file: None,
            ports: vec![443],
            timeout_ms: 5000,
            concurrency: 32,
        }
    }
}

impl TlsConfig {
    pub(crate) fn parse(v: &mut Vars) -> Self {
        let mut c = Self::default();
        if let Some(list) = v.list("ZW_TLS_TARGETS") {
            for item in list {
                match parse_tls_target(&item) {
                    Ok(t) => c.targets.push(t),
                    Err(e) => v.error(format!("ZW_TLS_TARGETS: {e}")),
                }
            }
        }
        c.extra_roots_file = v.get("ZW_TLS_EXTRA_ROOTS");
        if let Some(list) = v.list("ZW_TLS_PORTS") {
            let mut ports = Vec::new();
            for item in list {
                match item.parse::<u16>() {
                    Ok(p) if p > 0 => {
                        if !ports.contains(&p) {
                            ports.push(p);
                        }
                    }
                    _ => v.error(format!(
                        "ZW_TLS_PORTS: `{item}` is not a port from 1 to 65535 (default 443)"
                    )),
                }
            }
            if !ports.is_empty() {
                c.ports = ports;
            }
        }
        c.timeout_ms = v.number("ZW_TLS_TIMEOUT_MS", c.timeout_ms, 100, 60_000);
        c.concurrency = v.number("ZW_TLS_CONCURRENCY", c.concurrency, 1, 512);
        c
    }
}

/// `host[:port]` or `[ipv6]:port`; port 443 when none is given.
pub fn parse_tls_target(raw: &str) -> Result<(String, u16), String> {
    let raw = raw.trim();
    let bad = || {
        format!(
            "`{raw}` is not host[:port] (e.g. www.example.com, api.example.com:8443, [2001:db8::1]:443)"
        )
    };
    if let Ok(a) = raw.parse::<SocketAddr>() {
        return Ok((a.ip().to_string(), a.port()));
    }
    if let Ok(ip) = raw.parse::<IpAddr>() {
        return Ok((ip.to_string(), 443));
    }
    let (host, port) = match raw.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(bad)?),
        None => (raw, 443),
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let valid = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if valid { Ok((host, port)) } else { Err(bad()) }
}
