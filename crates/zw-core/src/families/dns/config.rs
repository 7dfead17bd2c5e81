//! The DNS family's settings.

use crate::model::normalize_dns_name;
use crate::outbound::OutboundUrl;
use crate::probe_scope::ProbeScope;
use crate::settings::Vars;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

/// The IANA root servers' IPv4 addresses (a.root-servers.net .. m.).
pub const IANA_ROOT_SERVERS: [&str; 13] = [
    "198.41.0.4",
    "170.247.170.2",
    "192.33.4.12",
    "199.7.91.13",
    "192.203.230.10",
    "192.5.5.241",
    "192.112.36.4",
    "198.97.190.53",
    "192.36.148.17",
    "192.58.128.30",
    "193.0.14.129",
    "199.7.83.42",
    "202.12.27.33",
];

/// AWS's published IP ranges.
pub const AWS_IP_RANGES_URL: &str = "https://ip-ranges.amazonaws.com/ip-ranges.json";

/// The DNS family's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct DnsConfig {
    /// `ZW_DNS_ROOT_HINTS`: `ip[:port]`, comma-separated. Default: the IANA
    /// root servers on port 53.
    pub root_hints: Vec<SocketAddr>,
    /// `ZW_DNS_NAMESERVER_ADDRESSES`: `name=ip[:port]`, comma-separated;
    /// addresses that take precedence over resolving a name server's name.
    pub nameserver_addresses: BTreeMap<String, Vec<SocketAddr>>,
    /// `ZW_DNS_TIMEOUT_MS`, default 1500: per query.
    pub timeout_ms: u32,
    /// `ZW_DNS_QPS_PER_SERVER`, default 20000: a 10,000-record zone is
    /// compared with each server in about half a second.
    pub qps_per_server: u32,
    /// `ZW_DNS_DEADLINE_SECONDS`, default 240: the whole DNS phase of a scan.
    pub deadline_seconds: u32,
    /// `ZW_DNS_INVENTORY_MAX_AGE_MINUTES`, default 60: a zone's record sets
    /// are listed again when the cached copy is older (or the zone's record
    /// count changed, or a change event named it).
    pub inventory_max_age_minutes: u32,
    /// `ZW_DNS_COMPARE_INTERVAL_MINUTES`, default 0 (every scan): every
    /// record set of a zone is asked of every server of the zone when the
    /// zone's last full comparison is older than this, or the zone changed.
    /// Scans in between ask each server the apex SOA and NS only (and still
    /// check delegation, dangling targets, CAA and DNSSEC). Route 53 bills
    /// the zone's owner for every query (docs/cost.md); the template sets 360.
    pub compare_interval_minutes: u32,
    /// `ZW_AWS_IP_RANGES_URL`, default AWS's `ip-ranges.json`: https (http
    /// only to a loopback address), no credentials, no fragment
    /// ([`crate::outbound`]); kept as the parser wrote it.
    pub ip_ranges_url: String,
    /// `ZW_DNS_EXPECTATIONS_PARAMETER`: SSM parameter holding the
    /// expectations document (Lambda).
    pub expectations_parameter: Option<String>,
    /// `ZW_DNS_EXPECTATIONS_FILE`: the same document from a file (CLI).
    pub expectations_file: Option<String>,
    /// `ZW_DNS_ZONES`: zone names or ids to scan (comma-separated); empty =
    /// every hosted zone.
    pub zones: Vec<String>,
    /// `ZW_PROBE_ALLOW_CIDRS`: comma-separated CIDRs beyond the internet
    /// the DNS and TLS probes may connect to when records lead there
    /// ([`crate::probe_scope`]); default none.
    pub probe_scope: ProbeScope,
}

impl Default for DnsConfig {
    fn default() -> Self {
        Self {
            root_hints: IANA_ROOT_SERVERS
                .iter()
                .filter_map(|ip| ip.parse::<IpAddr>().ok())
                .map(|ip| SocketAddr::new(ip, 53))
                .collect(),
            nameserver_addresses: BTreeMap::new(),
            timeout_ms: 1500,
            qps_per_server: 20_000,
            deadline_seconds: 240,
            inventory_max_age_minutes: 60,
            compare_interval_minutes: 0,
            ip_ranges_url: AWS_IP_RANGES_URL.to_owned(),
            expectations_parameter: None,
            expectations_file: None,
            zones: Vec::new(),
            probe_scope: ProbeScope::default(),
        }
    }
}

impl DnsConfig {
    pub(crate) fn parse(v: &mut Vars) -> Self {
        let mut c = Self::default();
        if let Some(raw) = v.get("ZW_PROBE_ALLOW_CIDRS") {
            match ProbeScope::parse(&raw) {
                Ok(scope) => c.probe_scope = scope,
                Err(e) => v.error(format!("ZW_PROBE_ALLOW_CIDRS: {e}")),
            }
        }
        if let Some(list) = v.list("ZW_DNS_ROOT_HINTS") {
            let mut hints = Vec::new();
            for item in list {
                match parse_server_address(&item) {
                    Ok(a) => hints.push(a),
                    Err(e) => v.error(format!("ZW_DNS_ROOT_HINTS: {e}")),
                }
            }
            c.root_hints = hints;
        }
        if let Some(list) = v.list("ZW_DNS_NAMESERVER_ADDRESSES") {
            for item in list {
                match item.split_once('=') {
                    Some((name, addr)) if !name.trim().is_empty() => {
                        match parse_server_address(addr) {
                            Ok(a) => c
                                .nameserver_addresses
                                .entry(normalize_dns_name(name))
                                .or_default()
                                .push(a),
                            Err(e) => v.error(format!("ZW_DNS_NAMESERVER_ADDRESSES: {e}")),
                        }
                    }
                    _ => v.error(format!(
                        "ZW_DNS_NAMESERVER_ADDRESSES: `{item}` is not name=ip[:port] (e.g. ns-2048.awsdns-64.com=127.0.0.31)"
                    )),
                }
            }
        }
        c.timeout_ms = v.number("ZW_DNS_TIMEOUT_MS", c.timeout_ms, 50, 30_000);
        c.qps_per_server = v.number("ZW_DNS_QPS_PER_SERVER", c.qps_per_server, 1, 1_000_000);
        c.deadline_seconds = v.number("ZW_DNS_DEADLINE_SECONDS", c.deadline_seconds, 1, 3600);
        c.inventory_max_age_minutes = v.number(
            "ZW_DNS_INVENTORY_MAX_AGE_MINUTES",
            c.inventory_max_age_minutes,
            0,
            10_080,
        );
        c.compare_interval_minutes = v.number(
            "ZW_DNS_COMPARE_INTERVAL_MINUTES",
            c.compare_interval_minutes,
            0,
            10_080,
        );
        if let Some(raw) = v.get("ZW_AWS_IP_RANGES_URL") {
            // The same rules as every URL zonewarden sends to; the adapter
            // parses it again with them when it builds its client.
            match OutboundUrl::endpoint(&raw) {
                Ok(url) => c.ip_ranges_url = url.as_str().to_owned(),
                Err(why) => v.error(format!("ZW_AWS_IP_RANGES_URL: `{}` {why}", why.shown(&raw))),
            }
        }
        c.expectations_parameter = v.get("ZW_DNS_EXPECTATIONS_PARAMETER");
        c.expectations_file = v.get("ZW_DNS_EXPECTATIONS_FILE");
        c.zones = v.list("ZW_DNS_ZONES").unwrap_or_default();
        c
    }
}

/// `ip[:port]` or `[ipv6]:port`; port 53 when none is given.
pub fn parse_server_address(raw: &str) -> Result<SocketAddr, String> {
    let raw = raw.trim();
    if let Ok(a) = raw.parse::<SocketAddr>() {
        return Ok(a);
    }
    if let Ok(ip) = raw.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
    }
    Err(format!(
        "`{raw}` is not an address (ip, ip:port, or [ipv6]:port)"
    ))
}
