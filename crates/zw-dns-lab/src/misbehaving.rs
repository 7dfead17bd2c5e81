use crate::{LabError, bind_pair, loopback};
use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::{
    RData, Record, RecordType,
    rdata::{A, NULL},
};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::{JoinHandle, JoinSet};

/// The address every well-formed answer of a misbehaving server carries for
/// an `A` question.
pub const ANSWER_ADDRESS: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

/// How a [`Misbehaving`] server breaks the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MisbehavingKind {
    /// Never answers over UDP; over TCP accepts and never answers.
    Silent,
    /// Answers with a message ID that never matches the question's.
    WrongId,
    /// Echoes the ID, then a header promising records that never come.
    Garbage,
    /// UDP answers are truncated (TC), TCP answers properly.
    Truncated,
    /// UDP answers are truncated, TCP accepts and never answers.
    TcpSilent,
    /// UDP answers are truncated, TCP sends a length prefix and part of the
    /// message, then stalls with the connection open.
    TcpStall,
    /// UDP answers are truncated, nothing listens on TCP.
    TcpRefused,
    /// The answer's owner name is a compression pointer to itself.
    PointerLoop,
    /// Answers REFUSED.
    Refused,
    /// A well-formed answer without the AA bit.
    NotAuthoritative,
    /// An authoritative answer holding one HTTPS record whose ALPN id is not
    /// UTF-8: valid per RFC 9460 (an ALPN id is any octets), but record data
    /// hickory refuses to decode.
    UnreadableData,
}

/// A server that misbehaves in one way (see [`MisbehavingKind`]), on a free
/// loopback port, UDP and TCP. Stops when dropped.
#[derive(Debug)]
pub struct Misbehaving {
    addr: SocketAddr,
    received: Arc<AtomicU64>,
    tasks: Vec<JoinHandle<()>>,
}

impl Misbehaving {
    /// Must be called inside a tokio runtime.
    pub fn start(kind: MisbehavingKind) -> Result<Self, LabError> {
        let (udp, tcp) = bind_pair(SocketAddr::new(loopback(), 0))?;
        let addr = udp.local_addr().map_err(|source| LabError::Bind {
            addr: SocketAddr::new(loopback(), 0),
            source,
        })?;
        let udp = UdpSocket::from_std(udp).map_err(|source| LabError::Bind { addr, source })?;
        let received = Arc::new(AtomicU64::new(0));
        let mut tasks = vec![tokio::spawn(serve_udp(udp, kind, received.clone()))];
        if kind == MisbehavingKind::TcpRefused {
            // Closing the listener makes connections to the port refused.
            drop(tcp);
        } else {
            let tcp =
                TcpListener::from_std(tcp).map_err(|source| LabError::Bind { addr, source })?;
            tasks.push(tokio::spawn(serve_tcp(tcp, kind, received.clone())));
        }
        Ok(Self {
            addr,
            received,
            tasks,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queries received so far (UDP and TCP).
    pub fn queries_received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }
}

impl Drop for Misbehaving {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

async fn serve_udp(socket: UdpSocket, kind: MisbehavingKind, received: Arc<AtomicU64>) {
    let mut buf = vec![0u8; 65_535];
    loop {
        let Ok((len, peer)) = socket.recv_from(&mut buf).await else {
            continue;
        };
        received.fetch_add(1, Ordering::Relaxed);
        let Some(reply) = udp_reply(kind, &buf[..len]) else {
            continue;
        };
        let _ = socket.send_to(&reply, peer).await;
    }
}

fn udp_reply(kind: MisbehavingKind, query: &[u8]) -> Option<Vec<u8>> {
    use MisbehavingKind as K;
    let request = Message::from_vec(query).ok()?;
    match kind {
        K::Silent => None,
        K::WrongId => {
            let mut reply = answer(&request, true);
            reply.metadata.id = request.metadata.id ^ 0x5a5a;
            reply.to_vec().ok()
        }
        K::Garbage => {
            let id = request.metadata.id.to_be_bytes();
            // QR, one question, five answers promised, then seven stray bytes.
            let mut bytes = vec![id[0], id[1], 0x84, 0x00, 0, 1, 0, 5, 0, 0, 0, 0];
            bytes.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef, 0x07, 0x3f, 0x00]);
            Some(bytes)
        }
        K::Truncated | K::TcpSilent | K::TcpStall | K::TcpRefused => {
            let mut reply = answer(&request, true);
            reply.answers.clear();
            reply.metadata.truncation = true;
            reply.to_vec().ok()
        }
        K::PointerLoop => pointer_loop(&request),
        K::Refused => {
            let mut reply =
                Message::error_msg(request.metadata.id, OpCode::Query, ResponseCode::Refused);
            reply.queries = request.queries.clone();
            reply.to_vec().ok()
        }
        K::NotAuthoritative => answer(&request, false).to_vec().ok(),
        K::UnreadableData => unreadable_data(&request).to_vec().ok(),
    }
}

/// See [`MisbehavingKind::UnreadableData`].
fn unreadable_data(request: &Message) -> Message {
    let mut reply = Message::new(request.metadata.id, MessageType::Response, OpCode::Query);
    reply.metadata.authoritative = true;
    reply.queries = request.queries.clone();
    // Priority 1, target ".", alpn (key 1) of one 1-byte id 0xff.
    let https = vec![0, 1, 0, 0, 1, 0, 2, 1, 0xff];
    for query in &request.queries {
        reply.add_answer(Record::from_rdata(
            query.name().clone(),
            300,
            RData::Unknown {
                code: RecordType::HTTPS,
                rdata: NULL::with(https.clone()),
            },
        ));
    }
    reply
}

/// A response whose single answer record's owner is a compression pointer
/// to its own offset.
fn pointer_loop(request: &Message) -> Option<Vec<u8>> {
    let mut reply = Message::response(request.metadata.id, OpCode::Query);
    reply.queries = request.queries.clone();
    let mut bytes = reply.to_vec().ok()?;
    let offset = u16::try_from(bytes.len()).ok()?;
    // ANCOUNT = 1
    bytes[6] = 0;
    bytes[7] = 1;
    let pointer = 0xc000 | offset;
    bytes.extend_from_slice(&pointer.to_be_bytes());
    // TYPE A, CLASS IN, TTL 300, RDLENGTH 4, RDATA
    bytes.extend_from_slice(&[0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 192, 0, 2, 1]);
    Some(bytes)
}

/// A well-formed answer: `A` questions get [`ANSWER_ADDRESS`], others none.
fn answer(request: &Message, authoritative: bool) -> Message {
    let mut reply = Message::new(request.metadata.id, MessageType::Response, OpCode::Query);
    reply.metadata.authoritative = authoritative;
    reply.queries = request.queries.clone();
    for query in &request.queries {
        if query.query_type() == RecordType::A {
            reply.add_answer(Record::from_rdata(
                query.name().clone(),
                300,
                RData::A(A(ANSWER_ADDRESS)),
            ));
        }
    }
    reply
}

async fn serve_tcp(listener: TcpListener, kind: MisbehavingKind, received: Arc<AtomicU64>) {
    // Owned here, so that aborting this task (on drop) also ends the
    // silent and stalling connections, which never end by themselves.
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        while connections.try_join_next().is_some() {}
        connections.spawn(serve_tcp_connection(stream, kind, received.clone()));
    }
}

async fn serve_tcp_connection(
    mut stream: TcpStream,
    kind: MisbehavingKind,
    received: Arc<AtomicU64>,
) {
    use MisbehavingKind as K;
    loop {
        let mut len = [0u8; 2];
        if stream.read_exact(&mut len).await.is_err() {
            return;
        }
        let mut query = vec![0u8; usize::from(u16::from_be_bytes(len))];
        if stream.read_exact(&mut query).await.is_err() {
            return;
        }
        received.fetch_add(1, Ordering::Relaxed);
        let Ok(request) = Message::from_vec(&query) else {
            return;
        };
        let reply = match kind {
            K::Silent | K::TcpSilent => continue,
            K::TcpStall => {
                let Ok(bytes) = answer(&request, true).to_vec() else {
                    return;
                };
                let half = bytes.len() / 2;
                let mut partial = u16::try_from(bytes.len())
                    .unwrap_or(u16::MAX)
                    .to_be_bytes()
                    .to_vec();
                partial.extend_from_slice(&bytes[..half]);
                let _ = stream.write_all(&partial).await;
                // Hold the connection open, never finishing the message.
                std::future::pending::<()>().await;
                return;
            }
            K::Refused | K::Garbage | K::PointerLoop | K::WrongId | K::UnreadableData => {
                udp_reply(kind, &query)
            }
            K::Truncated | K::TcpRefused | K::NotAuthoritative => {
                answer(&request, kind != K::NotAuthoritative).to_vec().ok()
            }
        };
        let Some(reply) = reply else { return };
        let Ok(len) = u16::try_from(reply.len()) else {
            return;
        };
        let mut framed = len.to_be_bytes().to_vec();
        framed.extend_from_slice(&reply);
        if stream.write_all(&framed).await.is_err() {
            return;
        }
    }
}
