//! Which addresses the DNS and TLS probes may connect to.
//!
//! Addresses learned from data (record values, alias and CNAME targets, glue,
//! the addresses of delegated name servers) come from zone contents anyone
//! with write access to a zone can set. Connecting wherever they point would
//! let a record aim the probe at the Lambda's own network: the instance
//! metadata service (169.254.169.254), a VPC's private services, loopback.
//! So an address that is not globally routable is not connected to unless
//! the operator lists its range (`ZW_PROBE_ALLOW_CIDRS`); a skipped target
//! is reported, never silently dropped. Addresses the operator names in
//! settings (root hints, name-server addresses, TLS targets) are used as
//! given: the operator chose them.

use ipnet::IpNet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The ranges beyond the internet that may be probed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProbeScope {
    allow: Vec<IpNet>,
}

/// Why an address is not probed: the special-purpose range it is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffInternet {
    pub class: &'static str,
}

impl fmt::Display for OffInternet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a {} address, not on the internet (ZW_PROBE_ALLOW_CIDRS, the ProbeAllowCidrs parameter, lists ranges that may be probed)",
            self.class
        )
    }
}

impl ProbeScope {
    pub fn new(allow: Vec<IpNet>) -> Self {
        Self { allow }
    }

    /// `ZW_PROBE_ALLOW_CIDRS`: comma-separated CIDRs (`10.0.0.0/8,
    /// fd00::/8`); empty for none. The error names the first bad entry.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut allow = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let net: IpNet = entry.parse().map_err(|_| {
                format!(
                    "`{}` is not a CIDR range (address/prefix, e.g. 10.0.0.0/8 or fd00::/8)",
                    entry.escape_debug()
                )
            })?;
            if net.trunc() != net {
                return Err(format!(
                    "`{entry}` has host bits set: did you mean {}?",
                    net.trunc()
                ));
            }
            allow.push(net);
        }
        Ok(Self { allow })
    }

    pub fn allowed(&self) -> &[IpNet] {
        &self.allow
    }

    /// Ok when the probe may connect to `ip`: a globally routable address,
    /// or one in a listed range.
    pub fn check(&self, ip: IpAddr) -> Result<(), OffInternet> {
        match special_purpose(ip) {
            Some(class) if !self.allow.iter().any(|n| n.contains(&ip)) => {
                Err(OffInternet { class })
            }
            _ => Ok(()),
        }
    }
}

/// The special-purpose range `ip` is in, when it is not a globally routable
/// unicast address (RFC 6890's registries, the ranges that matter here).
pub fn special_purpose(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => special_v4(v4),
        IpAddr::V6(v6) => special_v6(v6),
    }
}

fn special_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    Some(match (a, b) {
        (0, _) => "\"this network\" (0.0.0.0/8)",
        (127, _) => "loopback",
        (10, _) | (192, 168) => "private (RFC 1918)",
        (172, 16..=31) => "private (RFC 1918)",
        (169, 254) => "link-local (incl. the instance metadata service)",
        (100, 64..=127) => "shared carrier-grade NAT (100.64.0.0/10)",
        (224..=239, _) => "multicast",
        (240..=255, _) => "reserved (240.0.0.0/4, broadcast)",
        _ => return None,
    })
}

fn special_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        // The IPv4 address it stands for decides.
        return special_v4(v4);
    }
    let first = ip.segments()[0];
    Some(if ip.is_unspecified() {
        "unspecified"
    } else if ip.is_loopback() {
        "loopback"
    } else if first & 0xffc0 == 0xfe80 {
        "link-local"
    } else if first & 0xfe00 == 0xfc00 {
        "unique local (private)"
    } else if first & 0xffc0 == 0xfec0 {
        "site-local (deprecated, private)"
    } else if first & 0xff00 == 0xff00 {
        "multicast"
    } else {
        return None;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("address")
    }

    #[test]
    fn addresses_off_the_internet_are_refused_by_default() {
        let scope = ProbeScope::default();
        for off in [
            "0.0.0.0",
            "127.0.0.1",
            "127.255.0.9",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "224.0.0.251",
            "239.255.255.250",
            "255.255.255.255",
            "::",
            "::1",
            "fe80::1",
            "fd00:ec2::254",
            "fc00::1",
            "fec0::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            let e = scope.check(ip(off)).expect_err(off);
            assert!(e.to_string().contains("ZW_PROBE_ALLOW_CIDRS"), "{e}");
        }
        for on in [
            "1.1.1.1",
            "8.8.8.8",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "169.253.0.1",
            "192.169.0.1",
            "205.251.192.1",
            "2600:9000:5300::1",
            "2001:4860:4860::8888",
            "::ffff:8.8.8.8",
        ] {
            assert_eq!(scope.check(ip(on)), Ok(()), "{on}");
        }
        assert!(
            scope
                .check(ip("169.254.169.254"))
                .expect_err("metadata")
                .to_string()
                .contains("metadata")
        );
    }

    #[test]
    fn listed_ranges_may_be_probed_and_nothing_else() {
        let scope = ProbeScope::parse(" 127.0.0.0/8, fd00::/8 ,10.0.0.0/16").expect("valid");
        assert_eq!(scope.allowed().len(), 3);
        for ok in ["127.0.0.1", "127.9.9.9", "fd00:ec2::254", "10.0.255.1"] {
            assert_eq!(scope.check(ip(ok)), Ok(()), "{ok}");
        }
        for off in ["10.1.0.1", "169.254.169.254", "::1", "192.168.0.1"] {
            assert!(scope.check(ip(off)).is_err(), "{off}");
        }
        assert_eq!(ProbeScope::parse(""), Ok(ProbeScope::default()));
        assert_eq!(ProbeScope::parse(" , "), Ok(ProbeScope::default()));
    }

    #[test]
    fn malformed_ranges_are_refused_with_the_entry_named() {
        for (bad, says) in [
            ("10.0.0.0", "not a CIDR"),
            ("10.0.0.0/33", "not a CIDR"),
            ("localhost/8", "not a CIDR"),
            ("10.0.0.1/8", "did you mean 10.0.0.0/8"),
            ("127.0.0.0/8,nope", "`nope`"),
        ] {
            let e = ProbeScope::parse(bad).expect_err(bad);
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
