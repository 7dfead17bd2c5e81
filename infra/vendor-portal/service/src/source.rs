//! The source address of a request, and how the per-source limits group
//! addresses.
//!
//! Behind API Gateway the address is the one API Gateway saw (the request
//! context's `sourceIp`, from the TCP connection: a client cannot choose it);
//! behind `zw-vendor serve` it is the peer of the connection. Headers such
//! as `X-Forwarded-For` are never read: anyone can write them.

use std::net::{IpAddr, Ipv6Addr};

/// Where a request came from; `None` when the transport did not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Source(pub Option<IpAddr>);

impl Source {
    /// No address (the admin command).
    pub fn none() -> Self {
        Self(None)
    }

    /// The address as the audit log records it.
    pub fn address(&self) -> Option<String> {
        self.0.map(|ip| ip.to_string())
    }

    /// The group a per-source limit counts: an IPv4 address on its own, an
    /// IPv6 address by its /64 (one subscriber usually holds a whole /64,
    /// so counting single IPv6 addresses would limit nobody).
    pub fn bucket(&self) -> String {
        match self.0 {
            None => "unknown".into(),
            Some(IpAddr::V4(v4)) => v4.to_string(),
            Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => {
                    let s = v6.segments();
                    let prefix = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                    format!("{prefix}/64")
                }
            },
        }
    }

    /// From the text API Gateway puts in `requestContext.http.sourceIp`.
    pub fn parse(text: &str) -> Self {
        Self(text.trim().parse().ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_addresses_count_by_their_64_and_ipv4_alone() {
        let a = Source::parse("2001:db8:1:2:aaaa::1");
        let b = Source::parse("2001:db8:1:2:bbbb::2");
        let c = Source::parse("2001:db8:1:3::1");
        assert_eq!(a.bucket(), "2001:db8:1:2::/64");
        assert_eq!(a.bucket(), b.bucket());
        assert_ne!(a.bucket(), c.bucket());
        assert_eq!(a.address().as_deref(), Some("2001:db8:1:2:aaaa::1"));
        assert_eq!(Source::parse("203.0.113.9").bucket(), "203.0.113.9");
        assert_eq!(Source::parse("::ffff:203.0.113.9").bucket(), "203.0.113.9");
        assert_ne!(
            Source::parse("203.0.113.9").bucket(),
            Source::parse("203.0.113.10").bucket()
        );
        assert_eq!(Source::parse("not an address"), Source::none());
        assert_eq!(Source::none().bucket(), "unknown");
    }
}
