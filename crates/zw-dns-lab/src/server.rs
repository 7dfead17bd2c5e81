use crate::handler::LabHandler;
use crate::zone::LabZone;
use crate::{LabError, bind_pair};
use hickory_server::Server;
use hickory_server::zone_handler::Catalog;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// An authoritative server on loopback (UDP and TCP, same address and
/// port). Stops when dropped.
pub struct AuthServer {
    addr: SocketAddr,
    server: Option<Server<LabHandler>>,
}

impl std::fmt::Debug for AuthServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthServer")
            .field("addr", &self.addr)
            .finish()
    }
}

impl AuthServer {
    /// Serves `zones` on `bind` (port 0: a free port, see [`bind_pair`]).
    /// Must be called inside a tokio runtime, which then runs the server.
    pub fn start(bind: SocketAddr, zones: Vec<LabZone>) -> Result<Self, LabError> {
        let mut catalog = Catalog::new();
        let mut cuts = Vec::new();
        for zone in &zones {
            let (origin, handler, zone_cuts) = zone.handler()?;
            catalog.upsert(origin, vec![Arc::new(handler)]);
            cuts.extend(zone_cuts);
        }
        let (udp, tcp) = bind_pair(bind)?;
        let addr = udp
            .local_addr()
            .map_err(|source| LabError::Bind { addr: bind, source })?;
        // Bursts of thousands of pipelined questions: the default 208 KiB
        // drops after ~150 datagrams (the kernel caps at rmem_max).
        let _ = socket2::SockRef::from(&udp).set_recv_buffer_size(4 << 20);
        let _ = socket2::SockRef::from(&udp).set_send_buffer_size(4 << 20);
        let udp = tokio::net::UdpSocket::from_std(udp)
            .map_err(|source| LabError::Bind { addr, source })?;
        let tcp = tokio::net::TcpListener::from_std(tcp)
            .map_err(|source| LabError::Bind { addr, source })?;
        let mut server = Server::new(LabHandler { catalog, cuts });
        server.register_socket(udp);
        server.register_listener(tcp, Duration::from_secs(5), 64);
        Ok(Self {
            addr,
            server: Some(server),
        })
    }

    /// Serves `zones` on port 53 of a random address in 127/8 (needs
    /// root), so that glue records, which carry no port, reach it. Random
    /// addresses keep tests that run in parallel apart.
    pub fn start_on_port_53(zones: Vec<LabZone>) -> Result<Self, LabError> {
        let mut last = None;
        for _ in 0..32 {
            match Self::start(
                SocketAddr::new(crate::random_loopback_ip(), 53),
                zones.clone(),
            ) {
                Ok(server) => return Ok(server),
                Err(e @ LabError::Bind { .. }) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or(LabError::Bind {
            addr: SocketAddr::new(crate::loopback(), 53),
            source: std::io::Error::other("no attempt made"),
        }))
    }

    /// Where it listens (UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops serving now (dropping does the same).
    pub fn shutdown(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown_token().cancel();
            // Dropping the server aborts its socket tasks.
            drop(server);
        }
    }
}

impl Drop for AuthServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}
