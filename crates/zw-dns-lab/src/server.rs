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
    server: Option<Server<Catalog>>,
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
        for zone in &zones {
            let (origin, handler) = zone.handler()?;
            catalog.upsert(origin, vec![Arc::new(handler)]);
        }
        let (udp, tcp) = bind_pair(bind)?;
        let addr = udp
            .local_addr()
            .map_err(|source| LabError::Bind { addr: bind, source })?;
        let udp = tokio::net::UdpSocket::from_std(udp)
            .map_err(|source| LabError::Bind { addr, source })?;
        let tcp = tokio::net::TcpListener::from_std(tcp)
            .map_err(|source| LabError::Bind { addr, source })?;
        let mut server = Server::new(catalog);
        server.register_socket(udp);
        server.register_listener(tcp, Duration::from_secs(5), 64);
        Ok(Self {
            addr,
            server: Some(server),
        })
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
