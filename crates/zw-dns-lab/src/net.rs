use crate::LabError;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, UdpSocket};

/// `127.0.0.1`.
pub fn loopback() -> IpAddr {
    IpAddr::V4(Ipv4Addr::LOCALHOST)
}

/// A random address in 127.0.0.0/8 other than 127.0.0.x (where other
/// services of the machine tend to live).
pub fn random_loopback_ip() -> IpAddr {
    let [b, c, d]: [u8; 3] = rand::random();
    IpAddr::V4(Ipv4Addr::new(127, b.max(1), c, d.clamp(1, 254)))
}

/// Binds a UDP socket and a TCP listener to the same port on `addr`'s IP.
///
/// With port 0 the kernel picks a free UDP port, and the TCP listener then
/// takes the same number; another test may hold that TCP port already, so
/// the pair is retried a few times. A fixed port is tried once.
pub fn bind_pair(addr: SocketAddr) -> Result<(UdpSocket, TcpListener), LabError> {
    let attempts = if addr.port() == 0 { 64 } else { 1 };
    let mut last = None;
    for _ in 0..attempts {
        let udp = UdpSocket::bind(addr).map_err(|source| LabError::Bind { addr, source })?;
        let bound = udp
            .local_addr()
            .map_err(|source| LabError::Bind { addr, source })?;
        match TcpListener::bind(bound) {
            Ok(tcp) => {
                udp.set_nonblocking(true)
                    .map_err(|source| LabError::Bind { addr, source })?;
                tcp.set_nonblocking(true)
                    .map_err(|source| LabError::Bind { addr, source })?;
                return Ok((udp, tcp));
            }
            Err(source) => {
                last = Some(LabError::Bind {
                    addr: bound,
                    source,
                })
            }
        }
    }
    Err(last.unwrap_or(LabError::Bind {
        addr,
        source: std::io::Error::other("no attempt made"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_share_one_port_and_do_not_collide() {
        let a = bind_pair(SocketAddr::new(loopback(), 0)).unwrap();
        let b = bind_pair(SocketAddr::new(loopback(), 0)).unwrap();
        let (ua, ta) = (a.0.local_addr().unwrap(), a.1.local_addr().unwrap());
        assert_eq!(ua, ta);
        assert_ne!(ua, b.0.local_addr().unwrap());
        // The taken port cannot be bound again.
        assert!(bind_pair(ua).is_err());
    }
}
