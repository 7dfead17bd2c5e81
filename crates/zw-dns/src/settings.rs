//! The probe's configuration and the parsers for its text forms (the app's
//! config layer reads the environment and calls these).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;
use zw_core::model::normalize_dns_name;
use zw_core::probe_scope::ProbeScope;

/// The 13 IANA root servers (a.root-servers.net .. m), IPv4.
const IANA_ROOTS: [Ipv4Addr; 13] = [
    Ipv4Addr::new(198, 41, 0, 4),
    Ipv4Addr::new(170, 247, 170, 2),
    Ipv4Addr::new(192, 33, 4, 12),
    Ipv4Addr::new(199, 7, 91, 13),
    Ipv4Addr::new(192, 203, 230, 10),
    Ipv4Addr::new(192, 5, 5, 241),
    Ipv4Addr::new(192, 112, 36, 4),
    Ipv4Addr::new(198, 97, 190, 53),
    Ipv4Addr::new(192, 36, 148, 17),
    Ipv4Addr::new(192, 58, 128, 30),
    Ipv4Addr::new(193, 0, 14, 129),
    Ipv4Addr::new(199, 7, 83, 42),
    Ipv4Addr::new(202, 12, 27, 33),
];

/// How the probe talks to DNS servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeSettings {
    /// Where iterative walks start. Default: the 13 IANA root servers'
    /// IPv4 addresses, port 53.
    pub root_hints: Vec<SocketAddr>,
    /// Name server addresses that win over DNS (normalised name ->
    /// addresses), e.g. to point a zone's servers at a lab. Default: none.
    pub nameserver_addresses: BTreeMap<String, Vec<SocketAddr>>,
    /// How long one attempt of one query waits for its answer (UDP, and
    /// separately the TCP retry after a truncated answer). Default 1500 ms.
    pub timeout: Duration,
    /// UDP attempts after the first one times out. Default 1.
    pub udp_retries: u32,
    /// Queries per second sent to one server at most. Default 20,000.
    pub qps_per_server: u32,
    /// Questions outstanding at one server at most. Default 512.
    pub max_in_flight_per_server: usize,
    /// UDP sockets per server; answers are matched by ID per socket, so a
    /// few sockets spread the 16-bit ID space and the receive work.
    /// Default 4.
    pub sockets_per_server: usize,
    /// EDNS0 UDP payload size advertised. Default 1232 (the DNS flag day
    /// value: no IP fragmentation on common paths).
    pub udp_payload: u16,
    /// Upper bound for one `delegation`, `resolve` or `server_addresses`
    /// call, whatever the number of servers tried. Default 10 s.
    pub step_timeout: Duration,
    /// Servers of one zone tried before a walk gives up on it. Default 4.
    pub max_servers_per_zone: usize,
    /// Which addresses learned from DNS data (glue, name servers'
    /// addresses) may be asked beyond the internet. Root hints and
    /// `nameserver_addresses` are always asked. Default: none.
    pub scope: ProbeScope,
}

impl Default for ProbeSettings {
    fn default() -> Self {
        Self {
            root_hints: IANA_ROOTS
                .iter()
                .map(|ip| SocketAddr::new(IpAddr::V4(*ip), 53))
                .collect(),
            nameserver_addresses: BTreeMap::new(),
            timeout: Duration::from_millis(1500),
            udp_retries: 1,
            qps_per_server: 20_000,
            max_in_flight_per_server: 512,
            sockets_per_server: 4,
            udp_payload: 1232,
            step_timeout: Duration::from_secs(10),
            max_servers_per_zone: 4,
            scope: ProbeScope::default(),
        }
    }
}

/// `ip[:port]` (IPv6 with a port as `[::1]:5353`), port 53 when absent.
pub fn parse_server_address(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
    }
    let bracketed = text.strip_prefix('[').and_then(|t| t.strip_suffix(']'));
    if let Some(ip) = bracketed.and_then(|t| t.parse::<IpAddr>().ok()) {
        return Ok(SocketAddr::new(ip, 53));
    }
    Err(format!(
        "`{text}` is not an IP address or IP:port (IPv6 with a port is written [::1]:5353)"
    ))
}

/// `ip[:port],ip[:port],...` (at least one).
pub fn parse_root_hints(text: &str) -> Result<Vec<SocketAddr>, String> {
    if text.trim().is_empty() {
        return Err("no root server address given".to_owned());
    }
    text.split(',')
        .enumerate()
        .map(|(i, entry)| {
            if entry.trim().is_empty() {
                return Err(format!("entry {} is empty", i + 1));
            }
            parse_server_address(entry).map_err(|e| format!("entry {}: {e}", i + 1))
        })
        .collect()
}

/// `name=ip[:port],...`; a name may repeat to give several addresses.
/// Names are normalised. An empty text is an empty map.
pub fn parse_nameserver_addresses(text: &str) -> Result<BTreeMap<String, Vec<SocketAddr>>, String> {
    let mut map: BTreeMap<String, Vec<SocketAddr>> = BTreeMap::new();
    if text.trim().is_empty() {
        return Ok(map);
    }
    for (i, entry) in text.split(',').enumerate() {
        let n = i + 1;
        let entry = entry.trim();
        if entry.is_empty() {
            return Err(format!("entry {n} is empty"));
        }
        let Some((name, addr)) = entry.split_once('=') else {
            return Err(format!("entry {n} (`{entry}`): expected name=ip[:port]"));
        };
        let name = name.trim();
        if name.is_empty() || name.chars().any(char::is_whitespace) || name.contains("..") {
            return Err(format!(
                "entry {n} (`{entry}`): `{name}` is not a host name"
            ));
        }
        let addr = parse_server_address(addr).map_err(|e| format!("entry {n} (`{entry}`): {e}"))?;
        map.entry(normalize_dns_name(name)).or_default().push(addr);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_iana_roots_and_documented_limits() {
        let s = ProbeSettings::default();
        assert_eq!(s.root_hints.len(), 13);
        assert!(s.root_hints.contains(&"198.41.0.4:53".parse().unwrap()));
        assert!(s.root_hints.contains(&"202.12.27.33:53".parse().unwrap()));
        assert_eq!(s.timeout, Duration::from_millis(1500));
        assert!(s.nameserver_addresses.is_empty());
    }

    #[test]
    fn root_hints_parse_with_default_port_and_ipv6() {
        let hints = parse_root_hints("127.0.0.1, 127.0.0.2:5353,[::1]:5300,::1").unwrap();
        assert_eq!(
            hints,
            vec![
                "127.0.0.1:53".parse().unwrap(),
                "127.0.0.2:5353".parse().unwrap(),
                "[::1]:5300".parse().unwrap(),
                "[::1]:53".parse().unwrap(),
            ]
        );
    }

    #[test]
    fn root_hint_errors_name_the_entry() {
        assert_eq!(
            parse_root_hints("").unwrap_err(),
            "no root server address given"
        );
        let e = parse_root_hints("127.0.0.1,,127.0.0.2").unwrap_err();
        assert_eq!(e, "entry 2 is empty");
        let e = parse_root_hints("127.0.0.1,a.root-servers.net").unwrap_err();
        assert!(
            e.starts_with("entry 2: `a.root-servers.net` is not an IP"),
            "{e}"
        );
        let e = parse_root_hints("127.0.0.1:99999").unwrap_err();
        assert!(e.starts_with("entry 1:"), "{e}");
    }

    #[test]
    fn nameserver_addresses_normalise_and_accumulate() {
        let map = parse_nameserver_addresses(
            "NS1.Example.com=127.0.0.1:5300, ns1.example.com.=[::1],ns2.example.com=127.0.0.2",
        )
        .unwrap();
        assert_eq!(
            map["ns1.example.com."],
            vec![
                "127.0.0.1:5300".parse().unwrap(),
                "[::1]:53".parse().unwrap()
            ]
        );
        assert_eq!(
            map["ns2.example.com."],
            vec!["127.0.0.2:53".parse().unwrap()]
        );
        assert!(parse_nameserver_addresses("  ").unwrap().is_empty());
    }

    #[test]
    fn nameserver_address_errors_name_the_entry_and_reason() {
        let e = parse_nameserver_addresses("a.example=127.0.0.1,b.example").unwrap_err();
        assert_eq!(e, "entry 2 (`b.example`): expected name=ip[:port]");
        let e = parse_nameserver_addresses("=127.0.0.1").unwrap_err();
        assert!(e.contains("is not a host name"), "{e}");
        let e = parse_nameserver_addresses("a.example=localhost").unwrap_err();
        assert!(
            e.starts_with("entry 1 (`a.example=localhost`): `localhost` is not an IP"),
            "{e}"
        );
    }
}
