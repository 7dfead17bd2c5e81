//! Many questions to one server over a few UDP sockets.
//!
//! Each server gets `sockets_per_server` connected UDP sockets, each with one
//! receive task that matches answers to waiting questions by message ID and
//! question section (anything else is ignored as stray). Questions wait on a
//! oneshot channel with their own timeout; truncated answers are asked
//! again over TCP, one connection per question, under the same timeout. A
//! semaphore bounds the questions outstanding at the server and a pacing
//! clock bounds its query rate.
//!
//! Opening a socket or spawning a task per question would cost a syscall
//! pair and an allocation storm per question; with a few long-lived
//! sockets a batch of 10,000 questions is one send and one receive each.

use crate::stats::Counters;
use hickory_proto::op::{Edns, Header, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{DNSClass, Name, Record, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder};
use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{debug, trace};
use zw_core::families::dns::model::QueryFailure;

/// Settings of one server's client (a slice of `ProbeSettings`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientConfig {
    pub timeout: Duration,
    pub udp_retries: u32,
    pub qps: u32,
    pub max_in_flight: usize,
    pub sockets: usize,
    pub udp_payload: u16,
}

/// A parsed answer and how long its round trip took.
#[derive(Debug)]
pub(crate) struct Reply {
    pub message: Message,
    pub latency: Duration,
}

/// Receive buffer asked for each UDP socket.
const RECV_BUFFER: usize = 1 << 20;

type Delivery = Result<Message, QueryFailure>;

struct Waiter {
    /// Tells this registration from a later one that reuses the ID.
    seq: u64,
    name: Name,
    rtype: RecordType,
    tx: oneshot::Sender<Delivery>,
}

/// One connected UDP socket and the questions waiting on it, by ID.
struct Channel {
    socket: UdpSocket,
    pending: Mutex<HashMap<u16, Waiter>>,
    seq: AtomicU64,
    counters: Arc<Counters>,
    totals: Arc<Counters>,
}

impl Channel {
    fn count_stray(&self) {
        self.counters.stray.fetch_add(1, Ordering::Relaxed);
        self.totals.stray.fetch_add(1, Ordering::Relaxed);
    }

    fn pending(&self) -> MutexGuard<'_, HashMap<u16, Waiter>> {
        // A panic while holding the map cannot leave it inconsistent (single
        // inserts and removes), so a poisoned lock is still usable.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a question under a random unused ID.
    fn register(
        &self,
        name: &Name,
        rtype: RecordType,
    ) -> Option<(u16, u64, oneshot::Receiver<Delivery>)> {
        let (tx, rx) = oneshot::channel();
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let mut pending = self.pending();
        // Random IDs (not sequential) so that an off-path attacker has to
        // guess; with at most a few hundred outstanding a free one is found
        // in a try or two.
        for _ in 0..64 {
            let id: u16 = rand::random();
            if let std::collections::hash_map::Entry::Vacant(slot) = pending.entry(id) {
                slot.insert(Waiter {
                    seq,
                    name: name.clone(),
                    rtype,
                    tx,
                });
                return Some((id, seq, rx));
            }
        }
        None
    }

    fn unregister(&self, id: u16, seq: u64) {
        let mut pending = self.pending();
        if pending.get(&id).is_some_and(|w| w.seq == seq) {
            pending.remove(&id);
        }
    }

    /// Hands a datagram to the question it answers; anything that answers
    /// no waiting question is dropped.
    fn deliver(&self, bytes: &[u8]) {
        let Some(id) = bytes.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]])) else {
            self.count_stray();
            return;
        };
        if !self.pending().contains_key(&id) {
            self.count_stray();
            trace!(id, "answer for no waiting question");
            return;
        }
        // Parsed outside the lock: the other sockets' receivers and the
        // senders keep going meanwhile.
        let delivery = match Message::from_vec(bytes) {
            Ok(message) => Ok(message),
            Err(e) => Err(QueryFailure::Malformed(format!("unparsable answer: {e}"))),
        };
        let mut pending = self.pending();
        let Some(waiter) = pending.get(&id) else {
            return;
        };
        if let Ok(message) = &delivery
            && !answers(message, &waiter.name, waiter.rtype)
        {
            // Same ID, other question: a stray or spoofed packet. The real
            // answer may still come.
            drop(pending);
            self.count_stray();
            return;
        }
        let delivery = delivery.map_err(|failure| {
            unreadable_record_data(bytes, &waiter.name, waiter.rtype)
                .map_or(failure, QueryFailure::Unsupported)
        });
        if let Some(waiter) = pending.remove(&id) {
            // The waiter may have timed out just now; nothing to do then.
            let _ = waiter.tx.send(delivery);
        }
    }

    fn fail_all(&self, failure: &QueryFailure) {
        for (_, waiter) in self.pending().drain() {
            let _ = waiter.tx.send(Err(failure.clone()));
        }
    }
}

/// Whether `message` is a response to the question `name`/`rtype`.
pub(crate) fn answers(message: &Message, name: &Name, rtype: RecordType) -> bool {
    message.metadata.message_type == MessageType::Response
        && message.queries.len() == 1
        && message.queries.first().is_some_and(|q| {
            q.query_type() == rtype && q.query_class() == DNSClass::IN && q.name() == name
        })
}

/// Why hickory could not read `bytes`, when the only flaw is in some
/// record's data: a response to exactly `name`/`rtype` whose header, question
/// and every record's owner, type, class, TTL and length read fine. hickory
/// is stricter than the RFCs in places (CAA tags, NAPTR flags, UTF-8 ALPN
/// ids) and knows no newer formats, so such an answer is our limitation
/// (`QueryFailure::Unsupported`), not a broken server. None when anything
/// else is wrong (the answer is `Malformed`).
pub(crate) fn unreadable_record_data(
    bytes: &[u8],
    name: &Name,
    rtype: RecordType,
) -> Option<String> {
    let mut decoder = BinDecoder::new(bytes);
    let header = Header::read(&mut decoder).ok()?;
    if header.metadata.message_type != MessageType::Response || header.counts.queries != 1 {
        return None;
    }
    let query = Query::read(&mut decoder).ok()?;
    if query.query_type() != rtype || query.query_class() != DNSClass::IN || query.name() != name {
        return None;
    }
    let records = usize::from(header.counts.answers)
        + usize::from(header.counts.authorities)
        + usize::from(header.counts.additionals);
    let mut first = None;
    for _ in 0..records {
        let start = u16::try_from(decoder.index()).ok()?;
        let Err(e) = Record::read(&mut decoder) else {
            continue;
        };
        // Read the record's envelope again, and step over its data.
        let mut envelope = decoder.clone(start);
        Name::read(&mut envelope).ok()?;
        let code = envelope.read_u16().ok()?.unverified(/* any type */);
        envelope.read_u16().ok()?;
        envelope.read_u32().ok()?;
        let len = envelope.read_u16().ok()?.unverified(/* checked by read_slice */);
        envelope.read_slice(usize::from(len)).ok()?;
        first.get_or_insert_with(|| {
            format!(
                "the probe cannot read the {} record data of the answer: {e}",
                crate::format::record_type_name(RecordType::from(code))
            )
        });
        decoder = envelope;
    }
    first
}

/// Spaces queries to at most `qps` per second. Slots closer than a
/// millisecond are not slept for (tokio's timer resolution), which allows
/// bursts of one millisecond's worth.
struct Pacer {
    interval: Duration,
    next: Mutex<Instant>,
}

impl Pacer {
    fn new(qps: u32) -> Self {
        let interval = if qps == 0 {
            Duration::ZERO
        } else {
            Duration::from_secs(1) / qps
        };
        Self {
            interval,
            next: Mutex::new(Instant::now()),
        }
    }

    async fn wait(&self) {
        if self.interval.is_zero() {
            return;
        }
        let now = Instant::now();
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
            let slot = (*next).max(now);
            *next = slot + self.interval;
            slot
        };
        if slot > now + Duration::from_millis(1) {
            tokio::time::sleep_until(slot).await;
        }
    }
}

/// Outstanding questions per socket before another socket is opened.
const QUESTIONS_PER_SOCKET: usize = 64;

/// Everything needed to ask one server.
///
/// Sockets are opened as the load asks for them: a server asked a question
/// or two during a walk holds one socket (a scan touches hundreds of
/// servers, and Lambda allows 1,024 descriptors), a server asked thousands
/// of questions gets up to `config.sockets`.
pub(crate) struct ServerClient {
    server: SocketAddr,
    config: ClientConfig,
    channels: RwLock<Vec<Arc<Channel>>>,
    next_channel: AtomicUsize,
    in_flight: Semaphore,
    pacer: Pacer,
    counters: Arc<Counters>,
    totals: Arc<Counters>,
    receivers: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for ServerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerClient")
            .field("server", &self.server)
            .field("sockets", &self.sockets())
            .finish_non_exhaustive()
    }
}

impl Drop for ServerClient {
    fn drop(&mut self) {
        let receivers = self
            .receivers
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        for receiver in receivers.iter() {
            receiver.abort();
        }
    }
}

impl ServerClient {
    /// Opens the first socket (so that an unusable address fails here);
    /// must run inside a tokio runtime.
    pub fn connect(
        server: SocketAddr,
        config: ClientConfig,
        counters: Arc<Counters>,
        totals: Arc<Counters>,
    ) -> io::Result<Self> {
        let client = Self {
            server,
            config,
            channels: RwLock::new(Vec::new()),
            next_channel: AtomicUsize::new(0),
            in_flight: Semaphore::new(config.max_in_flight.max(1)),
            pacer: Pacer::new(config.qps),
            counters,
            totals,
            receivers: Mutex::new(Vec::new()),
        };
        {
            let mut channels = client
                .channels
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            client.open_channel(&mut channels)?;
        }
        Ok(client)
    }

    /// Sockets open now.
    pub fn sockets(&self) -> usize {
        self.channels
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Opens one more socket into `channels` (the write-locked list, so
    /// that two questions cannot both open "the one more").
    fn open_channel(&self, channels: &mut Vec<Arc<Channel>>) -> io::Result<Arc<Channel>> {
        let local: SocketAddr = if self.server.is_ipv4() {
            (Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let socket = std::net::UdpSocket::bind(local)?;
        // Connected: the kernel drops datagrams from other addresses and
        // reports ICMP port unreachable as ECONNREFUSED.
        socket.connect(self.server)?;
        socket.set_nonblocking(true)?;
        // Room for a full window of answers arriving at once (the default
        // 208 KiB holds ~150 small datagrams); the kernel caps it at
        // net.core.rmem_max, which is fine.
        let _ = socket2::SockRef::from(&socket).set_recv_buffer_size(RECV_BUFFER);
        let channel = Arc::new(Channel {
            socket: UdpSocket::from_std(socket)?,
            pending: Mutex::new(HashMap::new()),
            seq: AtomicU64::new(0),
            counters: self.counters.clone(),
            totals: self.totals.clone(),
        });
        let receiver = tokio::spawn(receive(channel.clone(), self.server));
        self.receivers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(receiver);
        channels.push(channel.clone());
        Ok(channel)
    }

    /// A socket for the next question, round robin over as many sockets as
    /// the questions outstanding call for.
    fn channel(&self) -> Result<Arc<Channel>, QueryFailure> {
        let outstanding = self
            .config
            .max_in_flight
            .max(1)
            .saturating_sub(self.in_flight.available_permits());
        let wanted = (outstanding / QUESTIONS_PER_SOCKET + 1).clamp(1, self.config.sockets.max(1));
        let turn = self.next_channel.fetch_add(1, Ordering::Relaxed);
        {
            let channels = self.channels.read().unwrap_or_else(PoisonError::into_inner);
            if channels.len() >= wanted
                && let Some(channel) = channels.get(turn % wanted)
            {
                return Ok(channel.clone());
            }
        }
        let mut channels = self
            .channels
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if channels.len() < wanted
            && let Err(e) = self.open_channel(&mut channels)
        {
            // Out of descriptors or the like: make do with what is open.
            debug!(server = %self.server, error = %e, "no extra socket");
        }
        let open = channels.len().max(1);
        channels
            .get(turn % open)
            .cloned()
            .ok_or_else(|| QueryFailure::Network(format!("no socket to {}", self.server)))
    }

    fn count(&self, pick: impl Fn(&Counters) -> &AtomicU64) {
        pick(&self.counters).fetch_add(1, Ordering::Relaxed);
        pick(&self.totals).fetch_add(1, Ordering::Relaxed);
    }

    /// Asks one question: UDP with retries on timeout, TCP when truncated.
    /// Nothing is sent after `deadline` (the phase's); such questions fail
    /// as `Skipped`.
    pub async fn query(
        &self,
        name: &Name,
        rtype: RecordType,
        dnssec_ok: bool,
        deadline: Option<Instant>,
    ) -> Result<Reply, QueryFailure> {
        let outcome = self.query_inner(name, rtype, dnssec_ok, deadline).await;
        match &outcome {
            Ok(_) => self.count(|c| &c.answers),
            Err(QueryFailure::Timeout) => self.count(|c| &c.timeouts),
            Err(QueryFailure::Malformed(_)) => self.count(|c| &c.malformed),
            Err(QueryFailure::Network(_)) => self.count(|c| &c.network_errors),
            Err(QueryFailure::Skipped) => self.count(|c| &c.skipped),
            Err(QueryFailure::Unsupported(_)) => self.count(|c| &c.unsupported),
        }
        outcome
    }

    async fn query_inner(
        &self,
        name: &Name,
        rtype: RecordType,
        dnssec_ok: bool,
        deadline: Option<Instant>,
    ) -> Result<Reply, QueryFailure> {
        let expired = || deadline.is_some_and(|d| Instant::now() >= d);
        if expired() {
            return Err(QueryFailure::Skipped);
        }
        let permit = match deadline {
            Some(d) => tokio::time::timeout_at(d, self.in_flight.acquire())
                .await
                .map_err(|_| QueryFailure::Skipped)?,
            None => self.in_flight.acquire().await,
        };
        // Closed only if the client is being dropped, which cannot happen
        // while `self` is borrowed here.
        let _permit = permit.map_err(|_| QueryFailure::Network("client closed".into()))?;
        self.pacer.wait().await;
        if expired() {
            return Err(QueryFailure::Skipped);
        }

        for attempt in 0..=self.config.udp_retries {
            if attempt > 0 && expired() {
                break;
            }
            let timeout = bounded(self.config.timeout, deadline);
            match self.udp_attempt(name, rtype, dnssec_ok, timeout).await {
                Ok(reply) if reply.message.metadata.truncation => {
                    self.count(|c| &c.truncated);
                    let timeout = bounded(self.config.timeout, deadline);
                    return self.tcp_attempt(name, rtype, dnssec_ok, timeout).await;
                }
                Ok(reply) => return Ok(reply),
                Err(QueryFailure::Timeout) => {
                    debug!(server = %self.server, %name, %rtype, attempt, "UDP timeout");
                }
                Err(other) => return Err(other),
            }
        }
        Err(QueryFailure::Timeout)
    }

    async fn udp_attempt(
        &self,
        name: &Name,
        rtype: RecordType,
        dnssec_ok: bool,
        timeout: Duration,
    ) -> Result<Reply, QueryFailure> {
        let channel = self.channel()?;
        let channel = channel.as_ref();
        let (id, seq, rx) = channel
            .register(name, rtype)
            .ok_or_else(|| QueryFailure::Network("no free message ID".into()))?;
        // Removes the registration however this future ends (answer,
        // timeout, or the caller dropping it).
        let _guard = Unregister { channel, id, seq };
        let bytes = encode(id, name, rtype, dnssec_ok, self.config.udp_payload)?;
        let started = Instant::now();
        self.count(|c| &c.queries_sent);
        channel
            .socket
            .send(&bytes)
            .await
            .map_err(|e| QueryFailure::Network(format!("sending to {}: {e}", self.server)))?;
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(Ok(message))) => Ok(Reply {
                message,
                latency: started.elapsed(),
            }),
            Ok(Ok(Err(failure))) => Err(failure),
            // The receive task is gone (client dropped): as good as no answer.
            Ok(Err(_)) | Err(_) => Err(QueryFailure::Timeout),
        }
    }

    /// One question over a fresh TCP connection, the whole exchange (connect,
    /// write, both reads) bounded by `timeout`, so a server that stalls
    /// mid-message costs its timeout and no more.
    async fn tcp_attempt(
        &self,
        name: &Name,
        rtype: RecordType,
        dnssec_ok: bool,
        timeout: Duration,
    ) -> Result<Reply, QueryFailure> {
        let id: u16 = rand::random();
        let bytes = encode(id, name, rtype, dnssec_ok, self.config.udp_payload)?;
        let len = u16::try_from(bytes.len())
            .map_err(|_| QueryFailure::Malformed("query too long".into()))?;
        let started = Instant::now();
        self.count(|c| &c.queries_sent);
        let server = self.server;
        let exchange = async move {
            let mut stream = TcpStream::connect(server)
                .await
                .map_err(|e| QueryFailure::Network(format!("TCP connect to {server}: {e}")))?;
            let mut framed = Vec::with_capacity(bytes.len() + 2);
            framed.extend_from_slice(&len.to_be_bytes());
            framed.extend_from_slice(&bytes);
            let net = |e: io::Error| QueryFailure::Network(format!("TCP to {server}: {e}"));
            stream.write_all(&framed).await.map_err(net)?;
            let mut prefix = [0u8; 2];
            stream.read_exact(&mut prefix).await.map_err(net)?;
            let mut body = vec![0u8; usize::from(u16::from_be_bytes(prefix))];
            stream.read_exact(&mut body).await.map_err(net)?;
            Ok::<_, QueryFailure>(body)
        };
        let body = tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| QueryFailure::Timeout)??;
        let message = Message::from_vec(&body).map_err(|e| {
            match unreadable_record_data(&body, name, rtype) {
                Some(why) if body.get(..2) == Some(&id.to_be_bytes()[..]) => {
                    QueryFailure::Unsupported(why)
                }
                _ => QueryFailure::Malformed(format!("unparsable TCP answer: {e}")),
            }
        })?;
        if message.metadata.id != id || !answers(&message, name, rtype) {
            return Err(QueryFailure::Malformed(
                "TCP answer does not match the question".into(),
            ));
        }
        Ok(Reply {
            message,
            latency: started.elapsed(),
        })
    }
}

/// The per-attempt timeout, shortened to what is left of the phase.
fn bounded(timeout: Duration, deadline: Option<Instant>) -> Duration {
    match deadline {
        Some(d) => timeout.min(d.saturating_duration_since(Instant::now())),
        None => timeout,
    }
}

struct Unregister<'a> {
    channel: &'a Channel,
    id: u16,
    seq: u64,
}

impl Drop for Unregister<'_> {
    fn drop(&mut self) {
        self.channel.unregister(self.id, self.seq);
    }
}

/// A non-recursive query (we ask authoritative servers) with EDNS0.
pub(crate) fn encode(
    id: u16,
    name: &Name,
    rtype: RecordType,
    dnssec_ok: bool,
    udp_payload: u16,
) -> Result<Vec<u8>, QueryFailure> {
    let mut message = Message::new(id, MessageType::Query, OpCode::Query);
    message.metadata.recursion_desired = false;
    message.add_query(Query::query(name.clone(), rtype));
    let mut edns = Edns::new();
    edns.set_max_payload(udp_payload);
    edns.set_dnssec_ok(dnssec_ok);
    message.set_edns(edns);
    message
        .to_vec()
        .map_err(|e| QueryFailure::Malformed(format!("cannot encode the question: {e}")))
}

async fn receive(channel: Arc<Channel>, server: SocketAddr) {
    // Large enough for any datagram, whatever payload size we advertised.
    let mut buf = vec![0u8; 65_535];
    loop {
        match channel.socket.recv(&mut buf).await {
            Ok(len) => channel.deliver(buf.get(..len).unwrap_or_default()),
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                // ICMP port unreachable: nobody listens there. Every question
                // waiting on this socket fails now instead of timing out.
                channel.fail_all(&QueryFailure::Network(format!("{server}: {e}")));
            }
            Err(e) => {
                debug!(%server, error = %e, "UDP receive failed");
                // Keep a persistent error from spinning a core.
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    }
}

/// Feeds raw bytes through the same path as a received datagram, for the
/// property tests: whatever the bytes, no panic.
#[cfg(test)]
pub(crate) fn deliver_for_test(bytes: &[u8]) -> Option<Result<Message, QueryFailure>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    runtime.block_on(async {
        let socket = UdpSocket::bind("127.0.0.1:0").await.ok()?;
        let channel = Channel {
            socket,
            pending: Mutex::new(HashMap::new()),
            seq: AtomicU64::new(0),
            counters: Arc::new(Counters::default()),
            totals: Arc::new(Counters::default()),
        };
        let name = Name::from_ascii("example.com.").ok()?;
        let (id, _, mut rx) = channel.register(&name, RecordType::A)?;
        // Make the bytes carry the waiting ID so they reach the parser.
        let mut bytes = bytes.to_vec();
        if bytes.len() >= 2 {
            bytes[..2].copy_from_slice(&id.to_be_bytes());
        }
        channel.deliver(&bytes);
        rx.try_recv().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_carry_edns_payload_and_the_do_bit_and_no_rd() {
        let name = Name::from_ascii("www.example.com.").unwrap();
        for dnssec_ok in [false, true] {
            let bytes = encode(0x1234, &name, RecordType::AAAA, dnssec_ok, 1232).unwrap();
            let message = Message::from_vec(&bytes).unwrap();
            assert_eq!(message.metadata.id, 0x1234);
            assert!(!message.metadata.recursion_desired);
            assert_eq!(message.queries[0].query_type(), RecordType::AAAA);
            let edns = message.edns.unwrap();
            assert_eq!(edns.max_payload(), 1232);
            assert_eq!(edns.flags().dnssec_ok, dnssec_ok);
        }
    }

    #[tokio::test]
    async fn answers_to_another_question_under_the_same_id_are_ignored() {
        let channel = Channel {
            socket: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
            pending: Mutex::new(HashMap::new()),
            seq: AtomicU64::new(0),
            counters: Arc::new(Counters::default()),
            totals: Arc::new(Counters::default()),
        };
        let asked = Name::from_ascii("asked.example.").unwrap();
        let other = Name::from_ascii("other.example.").unwrap();
        let (id, seq, mut rx) = channel.register(&asked, RecordType::A).unwrap();

        let reply = |name: &Name, rtype| {
            let mut m = Message::new(id, MessageType::Response, OpCode::Query);
            m.add_query(Query::query(name.clone(), rtype));
            m.to_vec().unwrap()
        };
        channel.deliver(&reply(&other, RecordType::A));
        channel.deliver(&reply(&asked, RecordType::AAAA));
        // A query (QR clear) echoing the question is no answer either.
        channel.deliver(&encode(id, &asked, RecordType::A, false, 1232).unwrap());
        assert!(rx.try_recv().is_err());
        assert_eq!(channel.counters.stray.load(Ordering::Relaxed), 3);

        // Case differs (0x20 style): still the same question.
        let upper = Name::from_ascii("ASKED.Example.").unwrap();
        channel.deliver(&reply(&upper, RecordType::A));
        assert!(rx.try_recv().unwrap().is_ok());
        assert!(channel.pending().is_empty());
        channel.unregister(id, seq);
    }

    #[tokio::test]
    async fn a_stale_guard_does_not_remove_a_newer_registration() {
        let channel = Channel {
            socket: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
            pending: Mutex::new(HashMap::new()),
            seq: AtomicU64::new(0),
            counters: Arc::new(Counters::default()),
            totals: Arc::new(Counters::default()),
        };
        let name = Name::from_ascii("a.example.").unwrap();
        let (id, seq, _rx) = channel.register(&name, RecordType::A).unwrap();
        channel.unregister(id, seq + 1);
        assert!(channel.pending().contains_key(&id));
        channel.unregister(id, seq);
        assert!(channel.pending().is_empty());
    }
}
