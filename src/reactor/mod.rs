//! The reactor: the one thread per endpoint that owns every socket, every peer's state, the
//! subscription tables and the timers.
//!
//! Invariants:
//! - Runs only on its own thread and never blocks: sockets are non-blocking, channels are
//!   read with `try_recv`, subscriber queues are written with `try_send` (their overflow
//!   policy applies), and the poll timeout is the nearest timer.
//! - mio is edge-triggered: every readiness event reads or writes until `WouldBlock`.
//! - Output is batched: frames are appended to a peer's buffer and written once per turn,
//!   so one `write` carries many frames.
//! - Backpressure: publications are only taken from their queue (the endpoint's outbox,
//!   taken whole: one swap for every frame published since the last take) while no peer's
//!   buffer is full, so a slow peer makes publishers wait instead of growing memory. A peer
//!   that stays full past `peer_stall_timeout` gets its overflow policy.
//! - Received frames are handled where they lie in the connection's input buffer. Data
//!   messages for local subscribers are staged per subscriber and handed over at the end
//!   of each read (or turn), all of them sharing one buffer; a subscriber with policy
//!   `Block` counts its staged messages against its room.
//! - With `Config::busy_poll`, the loop polls without sleeping for up to that long after
//!   work, while that keeps finding work in time (`spin.rs`).
//! - A panic is caught by the thread's entry point; dropping the reactor closes every
//!   subscriber queue and the command channels, so API calls return `Closed`, never hang.

mod conn;
mod spin;

use crate::contract::command::{Command, ReplyTo, StoreResponse};
use crate::contract::queue::{Mailbox, Pushed};
use crate::contract::room::RoomFd;
use crate::contract::shared::Shared;
use crate::contract::{
    Config, Message, OverflowPolicy, PeerInfo, PeerStatus, StatusCode, StatusEvent, StatusKind,
    push_status,
};
use crate::data::{Timestamp, bin};
use crate::error::{Error, ErrorKind, Result};
use crate::store::actor::{Request as StoreReq, StoreActor, StoreOutput, TICK};
use crate::store::{InternalCommand, master_topic};
use crate::wire::envelope::{self, Envelope, EnvelopeType};
use crate::wire::frame::FrameReader;
use crate::wire::handshake::{Failure, Handshaker, Peering, RemoteStatus, Role, Status, Step};
use crate::wire::{EndpointId, ErrorCode, Filter};
use conn::{Conn, Fill, Phase};
use crossbeam_channel::{Receiver, Sender, unbounded};
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io::ErrorKind as IoKind;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const WAKER: Token = Token(0);

/// Tokens are small counters: a multiplicative hash is enough and much cheaper than SipHash
/// on the per-frame path.
#[derive(Default)]
struct TokenHasher(u64);

impl std::hash::Hasher for TokenHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type TokenMap<V> = HashMap<Token, V, std::hash::BuildHasherDefault<TokenHasher>>;
/// Commands and publications taken per turn, so that sockets are served in between.
const BATCH: usize = 4096;

/// Takes from the publish queue per turn (each takes everything queued), so that the
/// output is written in between.
const TAKES: usize = 4;

/// The largest publish buffer kept for reuse.
const SPARE_MAX: usize = 4 << 20;

/// Starts the reactor thread of a new endpoint.
pub(crate) fn start(config: Config, id: EndpointId) -> Result<(Arc<Shared>, JoinHandle<()>)> {
    let poll = Poll::new()?;
    let waker = Waker::new(poll.registry(), WAKER)?;
    let (cmd_tx, cmd_rx) = unbounded();
    let room = RoomFd::new()?;
    let shared = Arc::new(Shared::new(config, id, cmd_tx, waker, room));
    let theirs = shared.clone();
    let thread = std::thread::Builder::new()
        .name(format!("brook-{id}"))
        .spawn(move || {
            let mut reactor = Reactor::new(poll, theirs.clone(), cmd_rx);
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| reactor.run())) {
                let text = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic".into());
                if let Ok(mut slot) = theirs.fatal.lock() {
                    *slot = Some(text);
                }
            }
        })?;
    Ok((shared, thread))
}

/// An outgoing peering that this endpoint maintains (and retries).
struct Request {
    retry: Duration,
    /// Callers of the blocking `peer`, answered by the first attempt's outcome.
    waiters: Vec<Sender<Result<EndpointId>>>,
    conn: Option<Token>,
}

struct LocalSub {
    id: u64,
    topics: Vec<Vec<u8>>,
    filter: Filter,
    mailbox: Arc<Mailbox<Message>>,
    /// Messages for it staged during this turn: their topics and payloads back to back,
    /// and each one's ranges in that buffer. [`LocalSub::flush`] hands them over.
    staged_bytes: Vec<u8>,
    staged: Vec<((u32, u32), (u32, u32))>,
    /// A lower bound of the free slots in the mailbox for staged messages: looked up again
    /// only when the staged messages reach it.
    room: usize,
}

/// Staged bytes past which a subscriber's messages are handed over at once.
const STAGE_FLUSH_BYTES: usize = 1 << 20;

impl LocalSub {
    fn new(id: u64, topics: Vec<Vec<u8>>, filter: Filter, mailbox: Arc<Mailbox<Message>>) -> Self {
        LocalSub {
            id,
            topics,
            filter,
            mailbox,
            staged_bytes: Vec::new(),
            staged: Vec::new(),
            room: 0,
        }
    }

    /// True if one more message would overfill a mailbox with policy `Block`.
    fn must_wait(&mut self) -> bool {
        if self.staged.len() < self.room {
            return false;
        }
        self.room = self.mailbox.free_slots();
        self.staged.len() >= self.room && self.mailbox.must_wait(self.staged.len())
    }

    /// Stages a message; false if the subscriber is gone.
    fn stage(&mut self, topic: &[u8], payload: &[u8]) -> bool {
        let b = &mut self.staged_bytes;
        let t = b.len();
        b.extend_from_slice(topic);
        let p = b.len();
        b.extend_from_slice(payload);
        // Below STAGE_FLUSH_BYTES before this message, plus one frame of at most 2 GiB
        // (MAX_WIRE_PAYLOAD): the ranges fit in u32.
        let range = |a: usize, z: usize| (a as u32, z as u32);
        self.staged.push((range(t, p), range(p, b.len())));
        if b.len() >= STAGE_FLUSH_BYTES {
            return self.flush();
        }
        true
    }

    /// Hands the staged messages over, all sharing one buffer; false if the subscriber is
    /// gone.
    fn flush(&mut self) -> bool {
        if self.staged.is_empty() {
            return !self.mailbox.is_closed();
        }
        let keep = self.staged_bytes.len().min(64 * 1024);
        let bytes = Arc::new(std::mem::replace(
            &mut self.staged_bytes,
            Vec::with_capacity(keep),
        ));
        self.room = self.room.saturating_sub(self.staged.len());
        let msgs = self
            .staged
            .drain(..)
            .map(|(t, p)| Message::new(bytes.clone(), t, p));
        self.mailbox.push_many(msgs) != Pushed::Closed
    }
}

/// An attached store master or clone, and the API callers waiting for its answers.
struct StoreSlot {
    id: u64,
    actor: Box<dyn StoreActor>,
    listen: Vec<u8>,
    waiting: HashMap<u64, ReplyTo>,
    /// Received commands this turn.
    busy: bool,
}

struct StatusSub {
    id: u64,
    errors: bool,
    mailbox: Arc<Mailbox<StatusEvent>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    Retry(SocketAddr),
    Handshake(Token),
    Bye(Token),
    Linger(Token),
    /// The store clock: every attached store ticks.
    StoreTick,
}

/// Why a connection ends, which decides the status event and whether to retry.
#[derive(Debug)]
enum Close {
    /// The peer went away or the connection broke.
    Lost(String),
    /// We unpeered (BYE done or timed out).
    Removed,
    /// Handshake failure or protocol violation.
    Failed(ErrorCode, String),
    /// A duplicate of another connection with the same peer: no event, no retry.
    Redundant,
    /// The endpoint is shutting down.
    Shutdown,
}

pub(crate) struct Reactor {
    poll: Poll,
    shared: Arc<Shared>,
    id: EndpointId,
    cfg: Config,
    commands: Receiver<Command>,
    listeners: TokenMap<TcpListener>,
    conns: TokenMap<Conn>,
    next_token: usize,
    /// Peered remotes and their connection.
    peered: HashMap<EndpointId, Token>,
    /// Remotes claimed by a connection still in its handshake.
    claims: HashMap<EndpointId, Token>,
    /// Originator connections paused behind another handshake with the same remote.
    paused: HashMap<EndpointId, Vec<Token>>,
    requests: HashMap<SocketAddr, Request>,
    subs: Vec<LocalSub>,
    status_subs: Vec<StatusSub>,
    /// What this endpoint advertises: local subscriptions and forwarded topics. Only grows.
    filter: Filter,
    filter_generation: u64,
    timers: BinaryHeap<Reverse<(Instant, Timer)>>,
    /// Connections with output to write at the end of the turn.
    dirty: Vec<Token>,
    flush_waiters: Vec<Sender<Result<()>>>,
    shutting_down: Option<Instant>,
    bye_counter: u64,
    /// Publications left in the queue because a peer was full (or the batch ended).
    publications_pending: bool,
    /// Since when publications have waited for a full peer.
    stalled_since: Option<Instant>,
    scratch: Vec<u8>,
    /// Connections whose reading waits for room in a full local subscriber.
    paused_reads: Vec<Token>,
    /// Publications taken from the queue (a buffer of one or more frames, and the offset
    /// of the first not yet routed) that wait for room in a full peer or local subscriber.
    held: Option<(Vec<u8>, usize)>,
    /// The empty buffer that the next take from the publish queue swaps in.
    spare: Vec<u8>,
    /// Reused list of the peers a message goes to.
    targets: Vec<Token>,
    /// Some local subscriber has staged messages.
    staged_deliveries: bool,
    /// Whether to busy-poll (`Config::busy_poll`).
    spin: spin::Spin,
    /// The indices in `subs` of the subscribers that match `matched_topic`, while
    /// `matched_valid` (cleared whenever `subs` changes).
    matched: Vec<usize>,
    matched_topic: Vec<u8>,
    matched_valid: bool,
    stores: Vec<StoreSlot>,
    next_store: u64,
    /// The answer queues of store proxies that made requests.
    proxies: Vec<std::sync::Weak<Mailbox<StoreResponse>>>,
}

impl Reactor {
    fn new(poll: Poll, shared: Arc<Shared>, commands: Receiver<Command>) -> Reactor {
        let busy_poll = shared.config.busy_poll;
        Reactor {
            poll,
            id: shared.id,
            cfg: shared.config.clone(),
            shared,
            commands,
            listeners: TokenMap::default(),
            conns: TokenMap::default(),
            next_token: 1,
            peered: HashMap::new(),
            claims: HashMap::new(),
            paused: HashMap::new(),
            requests: HashMap::new(),
            subs: Vec::new(),
            status_subs: Vec::new(),
            filter: Filter::new(),
            filter_generation: 0,
            timers: BinaryHeap::new(),
            dirty: Vec::new(),
            flush_waiters: Vec::new(),
            shutting_down: None,
            bye_counter: 0,
            publications_pending: false,
            stalled_since: None,
            scratch: Vec::new(),
            paused_reads: Vec::new(),
            held: None,
            spare: Vec::new(),
            targets: Vec::new(),
            staged_deliveries: false,
            spin: spin::Spin::new(busy_poll),
            matched: Vec::new(),
            matched_topic: Vec::new(),
            matched_valid: false,
            stores: Vec::new(),
            next_store: 0,
            proxies: Vec::new(),
        }
    }

    fn token(&mut self) -> Token {
        self.next_token += 1;
        Token(self.next_token)
    }

    fn timer(&mut self, after: Duration, t: Timer) {
        self.timers.push(Reverse((Instant::now() + after, t)));
    }

    fn run(&mut self) {
        let mut events = Events::with_capacity(1024);
        loop {
            let now = Instant::now();
            let mut timeout = self
                .timers
                .peek()
                .map(|Reverse((at, _))| at.saturating_duration_since(now));
            if self.publications_pending && !self.peers_full() && !self.held_waits() {
                timeout = Some(Duration::ZERO);
            }
            if self.publications_pending && self.peers_full() {
                // Look again soon to apply the stall timeout.
                timeout = Some(timeout.map_or(Duration::from_millis(100), |t| {
                    t.min(Duration::from_millis(100))
                }));
            }
            if timeout != Some(Duration::ZERO) && self.spin.should_spin(now) {
                timeout = Some(Duration::ZERO);
                std::thread::yield_now();
            }
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == IoKind::Interrupted {
                    continue;
                }
                panic!("poll failed: {e}");
            }
            if !events.is_empty() {
                self.spin.work(Instant::now());
            }
            for ev in events.iter() {
                match ev.token() {
                    WAKER => {}
                    t if self.listeners.contains_key(&t) => self.accept(t),
                    t => self.conn_event(t, ev.is_readable(), ev.is_writable()),
                }
            }
            self.take_commands();
            self.resume_paused_reads();
            self.take_publications();
            self.fire_timers();
            self.flush_stores();
            self.flush_deliveries();
            self.flush_dirty();
            self.answer_flush_waiters();
            if let Some(deadline) = self.shutting_down {
                if self.conns.is_empty() || Instant::now() >= deadline {
                    let tokens: Vec<Token> = self.conns.keys().copied().collect();
                    for t in tokens {
                        self.close(t, Close::Shutdown);
                    }
                    return;
                }
            }
        }
    }

    // ---- status events ----

    fn emit(
        &mut self,
        kind: StatusKind,
        endpoint: Option<EndpointId>,
        addr: Option<SocketAddr>,
        msg: &str,
    ) {
        let ev = StatusEvent {
            kind,
            endpoint,
            address: addr,
            message: msg.to_string(),
        };
        self.status_subs.retain(|s| {
            if matches!(kind, StatusKind::Error(_)) && !s.errors {
                return true;
            }
            push_status(&s.mailbox, ev.clone())
        });
    }

    fn status(
        &mut self,
        code: StatusCode,
        id: Option<EndpointId>,
        addr: Option<SocketAddr>,
        msg: &str,
    ) {
        self.emit(StatusKind::Status(code), id, addr, msg);
    }

    fn error(
        &mut self,
        code: ErrorCode,
        id: Option<EndpointId>,
        addr: Option<SocketAddr>,
        msg: &str,
    ) {
        self.emit(StatusKind::Error(code), id, addr, msg);
    }

    // ---- commands ----

    fn take_commands(&mut self) {
        for _ in 0..BATCH {
            let Ok(cmd) = self.commands.try_recv() else {
                return;
            };
            self.command(cmd);
        }
    }

    fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Listen { addr, reply } => {
                let _ = reply.send(self.listen(addr));
            }
            Command::Peer { addr, retry, reply } => self.peer(addr, retry, reply),
            Command::Unpeer { addr, reply } => {
                let _ = reply.send(self.unpeer(addr));
            }
            Command::Peers { reply } => {
                let _ = reply.send(self.peer_infos());
            }
            Command::PeerSubscriptions { reply } => {
                let mut all = Filter::new();
                for c in self.conns.values() {
                    if let Phase::Peered { filter, .. } = &c.phase {
                        for t in filter.topics() {
                            all.add(t);
                        }
                    }
                }
                let _ = reply.send(all.topics().to_vec());
            }
            Command::Subscribe {
                id,
                topics,
                mailbox,
                reply,
            } => {
                let filter: Filter = topics.iter().collect();
                self.advertise(&topics);
                self.subs.push(LocalSub::new(id, topics, filter, mailbox));
                self.matched_valid = false;
                let _ = reply.send(());
            }
            Command::AddTopic { id, topic, reply } => {
                if let Some(s) = self.subs.iter_mut().find(|s| s.id == id) {
                    s.filter.add(&topic);
                    s.topics.push(topic.clone());
                }
                self.matched_valid = false;
                self.advertise(&[topic]);
                let _ = reply.send(());
            }
            Command::RemoveTopic { id, topic, reply } => {
                if let Some(s) = self.subs.iter_mut().find(|s| s.id == id) {
                    s.topics.retain(|t| *t != topic);
                    s.filter = s.topics.iter().collect();
                }
                self.matched_valid = false;
                let _ = reply.send(());
            }
            Command::Unsubscribe { id } => {
                self.subs.retain(|s| s.id != id);
                self.matched_valid = false;
                self.status_subs.retain(|s| s.id != id);
            }
            Command::StatusSubscribe {
                id,
                errors,
                mailbox,
                reply,
            } => {
                self.status_subs.push(StatusSub {
                    id,
                    errors,
                    mailbox,
                });
                let _ = reply.send(());
            }
            Command::Forward { topics } => self.advertise(&topics),
            Command::Flush { reply } => self.flush_waiters.push(reply),
            Command::AttachStore {
                actor,
                listen,
                master,
                reply,
            } => {
                let _ = reply.send(self.attach_store(actor, listen, master));
            }
            Command::StoreRequest { store, req, reply } => self.store_request(store, req, reply),
            Command::DetachStore { store } => {
                if let Some(slot) = self.stores.iter().position(|s| s.id == store) {
                    let slot = self.stores.remove(slot);
                    for (id, w) in slot.waiting {
                        w.answer(
                            id,
                            Err(Error::new(ErrorKind::Closed, "the store was detached")),
                        );
                    }
                }
            }
            Command::Shutdown => self.begin_shutdown(),
        }
    }

    /// Adds topics to the advertised filter and tells every peer when it grew. Node-local
    /// topics (`<$>/local/...`) are never advertised.
    fn advertise(&mut self, topics: &[Vec<u8>]) {
        let mut grew = false;
        for t in topics {
            if !t.starts_with(b"<$>/local/") {
                grew |= self.filter.add(t);
            }
        }
        if !grew {
            return;
        }
        self.filter_generation += 1;
        let peers: Vec<(Token, EndpointId)> = self.peered.iter().map(|(r, t)| (*t, *r)).collect();
        for (token, remote) in peers {
            self.send_routing_update(token, remote);
        }
    }

    fn send_routing_update(&mut self, token: Token, remote: EndpointId) {
        let (id, filter, generation) = (self.id, self.filter.clone(), self.filter_generation);
        if let Some(c) = self.conns.get_mut(&token) {
            let start = c.output.len();
            if envelope::write_routing_update(&mut c.output, id, remote, &filter).is_ok() {
                c.frame_written(start);
            }
            c.filter_generation = generation;
            self.dirty.push(token);
        }
    }

    fn listen(&mut self, addr: SocketAddr) -> Result<u16> {
        let mut l = TcpListener::bind(addr)
            .map_err(|e| Error::new(ErrorKind::Io, format!("cannot listen on {addr}: {e}")))?;
        let port = l.local_addr()?.port();
        let token = self.token();
        self.poll
            .registry()
            .register(&mut l, token, Interest::READABLE)?;
        self.listeners.insert(token, l);
        Ok(port)
    }

    fn peer(
        &mut self,
        addr: SocketAddr,
        retry: Duration,
        reply: Option<Sender<Result<EndpointId>>>,
    ) {
        if self.shutting_down.is_some() {
            if let Some(r) = reply {
                let _ = r.send(Err(Error::new(
                    ErrorKind::Closed,
                    "the endpoint is shutting down",
                )));
            }
            return;
        }
        if let Some(req) = self.requests.get_mut(&addr) {
            // Already peering (or trying): answer now if peered, else with the attempt.
            req.retry = retry;
            let peered = req
                .conn
                .and_then(|t| self.conns.get(&t))
                .and_then(|c| match c.phase {
                    Phase::Peered { remote, .. } => Some(remote),
                    _ => None,
                });
            if let Some(r) = reply {
                match peered {
                    Some(remote) => {
                        let _ = r.send(Ok(remote));
                    }
                    None => req.waiters.push(r),
                }
            }
            if req.conn.is_none() {
                self.connect(addr);
            }
            return;
        }
        self.requests.insert(
            addr,
            Request {
                retry,
                waiters: reply.into_iter().collect(),
                conn: None,
            },
        );
        self.connect(addr);
    }

    fn connect(&mut self, addr: SocketAddr) {
        let result = TcpStream::connect(addr).and_then(|mut s| {
            let token = self.token();
            self.poll.registry().register(
                &mut s,
                token,
                Interest::READABLE | Interest::WRITABLE,
            )?;
            Ok((s, token))
        });
        match result {
            Ok((stream, token)) => {
                let c = Conn::new(
                    stream,
                    addr,
                    true,
                    Phase::Connecting,
                    self.filter_generation,
                );
                self.conns.insert(token, c);
                if let Some(req) = self.requests.get_mut(&addr) {
                    req.conn = Some(token);
                }
                self.timer(self.cfg.handshake_timeout, Timer::Handshake(token));
            }
            Err(e) => self.attempt_failed(addr, &format!("cannot connect to {addr}: {e}")),
        }
    }

    /// An outgoing attempt failed before or during the handshake: report, answer blocked
    /// callers, and retry if asked to.
    fn attempt_failed(&mut self, addr: SocketAddr, why: &str) {
        self.error(ErrorCode::PeerUnavailable, None, Some(addr), why);
        self.attempt_failed_quiet(addr, why);
    }

    fn unpeer(&mut self, addr: SocketAddr) -> Result<()> {
        let from_request = self.requests.remove(&addr).and_then(|r| {
            for w in r.waiters {
                let _ = w.send(Err(Error::new(ErrorKind::PeerUnavailable, "unpeered")));
            }
            r.conn
        });
        let token = from_request.or_else(|| {
            self.conns
                .iter()
                .find(|(_, c)| c.addr == addr && matches!(c.phase, Phase::Peered { .. }))
                .map(|(t, _)| *t)
        });
        let Some(token) = token else {
            return Err(Error::invalid(format!("not peered with {addr}")));
        };
        match self.conns.get(&token).map(|c| &c.phase) {
            Some(Phase::Peered { .. }) => {
                self.send_bye(token);
                Ok(())
            }
            Some(_) => {
                self.close(token, Close::Removed);
                Ok(())
            }
            None => Err(Error::invalid(format!("not peered with {addr}"))),
        }
    }

    /// Starts a graceful unpeering (spec §8.2): a ping with a BYE token, answered by a
    /// pong, then close; or close after `unpeer_timeout`.
    fn send_bye(&mut self, token: Token) {
        self.bye_counter += 1;
        let mut token_bytes = [0u8; 11];
        token_bytes[..3].copy_from_slice(b"BYE");
        token_bytes[3..].copy_from_slice(&self.bye_counter.to_le_bytes());
        let id = self.id;
        let Some(c) = self.conns.get_mut(&token) else {
            return;
        };
        let Phase::Peered { remote, .. } = c.phase else {
            return;
        };
        c.outbound = false; // no reconnect after our own unpeer
        let start = c.output.len();
        if Envelope::ping(id, remote, &token_bytes)
            .write_frame(&mut c.output)
            .is_ok()
        {
            c.frame_written(start);
        }
        c.bye = Some(token_bytes);
        self.dirty.push(token);
        self.timer(self.cfg.unpeer_timeout, Timer::Bye(token));
    }

    fn peer_infos(&self) -> Vec<PeerInfo> {
        let mut out: Vec<PeerInfo> = self
            .conns
            .values()
            .filter(|c| c.linger.is_none())
            .map(|c| {
                let (id, status) = match &c.phase {
                    Phase::Peered { remote, .. } => (Some(*remote), PeerStatus::Peered),
                    Phase::Handshake(h) | Phase::Paused(h) => (h.remote(), PeerStatus::Connecting),
                    Phase::Connecting => (None, PeerStatus::Connecting),
                };
                PeerInfo {
                    id,
                    address: c.addr,
                    outbound: c.outbound,
                    status,
                    dropped: c.dropped,
                }
            })
            .collect();
        for (addr, r) in &self.requests {
            if r.conn.is_none() {
                out.push(PeerInfo {
                    id: None,
                    address: *addr,
                    outbound: true,
                    status: PeerStatus::Reconnecting,
                    dropped: 0,
                });
            }
        }
        out
    }

    fn begin_shutdown(&mut self) {
        if self.shutting_down.is_some() {
            return;
        }
        self.shutting_down = Some(Instant::now() + self.cfg.unpeer_timeout);
        // Deliver what publishers already queued (local subscribers may drop now).
        let mut pending: Vec<(Vec<u8>, usize)> = self.held.take().into_iter().collect();
        let mut queued = Vec::new();
        if self.shared.outbox.take(&mut queued) {
            pending.push((queued, 0));
        }
        for (buf, mut off) in pending {
            while let Some(frame) = next_frame(&buf, off) {
                off += frame.len();
                self.route_local(frame);
            }
        }
        self.publications_pending = false;
        for (_, mut l) in self.listeners.drain() {
            let _ = self.poll.registry().deregister(&mut l);
        }
        self.requests.clear();
        let tokens: Vec<Token> = self.conns.keys().copied().collect();
        for t in tokens {
            match self
                .conns
                .get(&t)
                .map(|c| matches!(c.phase, Phase::Peered { .. }))
            {
                Some(true) => self.send_bye(t),
                Some(false) => self.close(t, Close::Shutdown),
                None => {}
            }
        }
    }

    // ---- publications ----

    fn peers_full(&self) -> bool {
        let limit = self.cfg.peer_buffer_size;
        self.conns
            .values()
            .any(|c| c.queued_frames() >= limit && !c.dropping && c.linger.is_none())
    }

    /// True while the next held-back publication still finds a full local subscriber.
    fn held_waits(&mut self) -> bool {
        let Some((buf, off)) = self.held.take() else {
            return false;
        };
        let wait = next_frame(&buf, off).is_some_and(|frame| self.frame_must_wait(frame));
        self.held = Some((buf, off));
        wait
    }

    /// A local publication waits only if it is for this endpoint itself (the others never
    /// reach local subscribers).
    fn frame_must_wait(&mut self, frame: &[u8]) -> bool {
        Envelope::parse(&frame[4..])
            .is_ok_and(|env| env.receiver == self.id && self.local_must_wait(&env))
    }

    /// True if delivering `env` locally would overfill a subscriber with policy `Block`.
    fn local_must_wait(&mut self, env: &Envelope) -> bool {
        if env.kind != EnvelopeType::Data || !(env.receiver.is_nil() || env.receiver == self.id) {
            return false;
        }
        self.match_subs(env.topic);
        let subs = &mut self.subs;
        self.matched.iter().any(|&i| subs[i].must_wait())
    }

    /// Sets `matched` to the local subscribers whose filters match `topic` (remembered for
    /// the next message on the same topic until the subscriptions change).
    fn match_subs(&mut self, topic: &[u8]) {
        if self.matched_valid && self.matched_topic == topic {
            return;
        }
        self.matched.clear();
        self.matched.extend(
            self.subs
                .iter()
                .enumerate()
                .filter(|(_, s)| s.filter.matches(topic))
                .map(|(i, _)| i),
        );
        self.matched_topic.clear();
        self.matched_topic.extend_from_slice(topic);
        self.matched_valid = true;
    }

    fn resume_paused_reads(&mut self) {
        if self.paused_reads.is_empty() {
            return;
        }
        for t in std::mem::take(&mut self.paused_reads) {
            if let Some(c) = self.conns.get_mut(&t) {
                c.read_paused = false;
                self.read(t);
            }
        }
    }

    /// Takes publications from their queue and routes them, as long as no peer's buffer
    /// and no blocking local subscriber is full.
    fn take_publications(&mut self) {
        let mut n = 0;
        loop {
            if let Some((buf, off)) = self.held.take() {
                match self.route_batch(buf, off) {
                    Ok(mut done) => {
                        // Keep it as the next spare unless a burst made it huge.
                        if done.capacity() <= SPARE_MAX {
                            done.clear();
                            self.spare = done;
                        }
                    }
                    Err(rest) => {
                        self.held = Some(rest);
                        self.publications_pending = true;
                        if self.peers_full() {
                            self.stall_check();
                        }
                        // What was taken before the hold may have made room.
                        self.note_room();
                        return;
                    }
                }
            }
            if n == TAKES {
                self.publications_pending = true;
                self.note_room();
                return;
            }
            let mut buf = std::mem::take(&mut self.spare);
            if !self.shared.outbox.take(&mut buf) {
                self.spare = buf;
                break;
            }
            self.held = Some((buf, 0));
            n += 1;
        }
        self.publications_pending = false;
        self.stalled_since = None;
        self.note_room();
    }

    /// Publishers that found the queue full learn through their fd that it has room again.
    fn note_room(&self) {
        if self.shared.room.is_marked_full() && !self.shared.outbox.is_full() {
            self.shared.room.mark_room();
        }
    }

    /// Routes the frames of `buf` from `off` on. Gives the buffer back when done, or what is
    /// left when a peer or a blocking subscriber is full.
    fn route_batch(&mut self, buf: Vec<u8>, mut off: usize) -> Result<Vec<u8>, (Vec<u8>, usize)> {
        while let Some(frame) = next_frame(&buf, off) {
            if self.peers_full() || self.frame_must_wait(frame) {
                return Err((buf, off));
            }
            off += frame.len();
            self.route_local(frame);
        }
        Ok(buf)
    }

    /// Publishers have waited for a full peer: after `peer_stall_timeout`, that peer gets its
    /// overflow policy.
    fn stall_check(&mut self) {
        let now = Instant::now();
        let since = *self.stalled_since.get_or_insert(now);
        if now.duration_since(since) < self.cfg.peer_stall_timeout {
            return;
        }
        self.stalled_since = None;
        let limit = self.cfg.peer_buffer_size;
        let stall = self.cfg.peer_stall_timeout;
        let full: Vec<Token> = self
            .conns
            .iter()
            .filter(|(_, c)| {
                c.queued_frames() >= limit
                    && !c.dropping
                    && now.duration_since(c.last_progress) >= stall
            })
            .map(|(t, _)| *t)
            .collect();
        for t in full {
            match self.cfg.peer_overflow_policy {
                OverflowPolicy::Disconnect => {
                    self.close(t, Close::Lost("send buffer overflow".into()))
                }
                _ => {
                    if let Some(c) = self.conns.get_mut(&t) {
                        c.dropping = true;
                    }
                }
            }
        }
    }

    /// Routes a frame published on this endpoint: local subscribers, then peers.
    fn route_local(&mut self, frame: &[u8]) {
        let Ok(env) = Envelope::parse(&frame[4..]) else {
            return;
        };
        let (receiver, topic) = (env.receiver, env.topic);
        // As in Broker (spec §4.7), an endpoint's own publications do not reach its own
        // subscribers, unless addressed to itself.
        if receiver == self.id {
            self.deliver_local(&env);
        }
        let mut targets = std::mem::take(&mut self.targets);
        targets.extend(
            self.conns
                .iter()
                .filter(|(_, c)| match &c.phase {
                    Phase::Peered { remote, filter } => {
                        c.bye.is_none()
                            && if receiver.is_nil() {
                                filter.matches(topic)
                            } else {
                                *remote == receiver
                            }
                    }
                    _ => false,
                })
                .map(|(t, _)| *t),
        );
        for &t in &targets {
            self.queue_frame(t, frame);
        }
        targets.clear();
        self.targets = targets;
    }

    /// Appends a complete frame to a peer's output, honouring its buffer limit.
    fn queue_frame(&mut self, token: Token, frame: &[u8]) {
        let limit = self.cfg.peer_buffer_size;
        let policy = self.cfg.peer_overflow_policy;
        let Some(c) = self.conns.get_mut(&token) else {
            return;
        };
        let queued = c.queued_frames();
        if queued >= limit && (c.dropping || queued >= 2 * limit) {
            // Forwarded traffic is not throttled at its source; past twice the limit the
            // policy applies at once.
            match policy {
                OverflowPolicy::Disconnect if !c.dropping => {
                    self.close(token, Close::Lost("send buffer overflow".into()));
                    return;
                }
                OverflowPolicy::DropOldest => {
                    // An eighth of the buffer at a time, so that the output is moved once
                    // per many messages, not once per message.
                    let n = c.drop_oldest((limit / 8).max(1));
                    if n == 0 {
                        self.dropped_for(token, 1);
                        return;
                    }
                    self.dropped_for(token, n as u64);
                }
                _ => {
                    self.dropped_for(token, 1);
                    return;
                }
            }
        }
        let Some(c) = self.conns.get_mut(&token) else {
            return;
        };
        let start = c.output.len();
        c.output.extend_from_slice(frame);
        c.frame_written(start);
        if !c.in_dirty {
            c.in_dirty = true;
            self.dirty.push(token);
        }
    }

    /// Counts messages the overflow policy dropped for a peer; the first of a run is
    /// reported on the status subscribers (the run's end and count in `flush`).
    fn dropped_for(&mut self, token: Token, n: u64) {
        let Some(c) = self.conns.get_mut(&token) else {
            return;
        };
        c.dropped += n;
        if c.drop_run.is_some() {
            return;
        }
        c.drop_run = Some(c.dropped - n);
        let (id, addr) = (c.remote(), c.addr);
        let policy = match self.cfg.peer_overflow_policy {
            OverflowPolicy::DropOldest => "drop_oldest",
            _ => "drop_newest",
        };
        let who = id.map_or_else(|| addr.to_string(), |id| format!("{id} at {addr}"));
        self.error(
            ErrorCode::Unspecified,
            id,
            Some(addr),
            &format!("peer {who} is not keeping up: dropping messages for it ({policy})"),
        );
    }

    /// Stages a data message for the local subscribers whose filters match; the end of the
    /// batch ([`Reactor::flush_deliveries`]) hands them over.
    fn deliver_local(&mut self, env: &Envelope) {
        if env.kind != EnvelopeType::Data {
            return;
        }
        self.match_subs(env.topic);
        let mut gone = false;
        for &i in &self.matched {
            if !self.subs[i].stage(env.topic, env.payload) {
                gone = true;
            }
        }
        self.staged_deliveries = true;
        if gone {
            self.flush_deliveries();
        }
    }

    /// Hands staged messages to their subscribers, and forgets subscribers that are gone.
    fn flush_deliveries(&mut self) {
        if std::mem::take(&mut self.staged_deliveries) {
            let before = self.subs.len();
            self.subs.retain_mut(LocalSub::flush);
            if self.subs.len() != before {
                self.matched_valid = false;
            }
        }
    }

    // ---- stores ----

    fn attach_store(
        &mut self,
        actor: Box<dyn StoreActor>,
        listen: Vec<u8>,
        master: bool,
    ) -> Result<u64> {
        let name = actor.name().to_vec();
        let shown = String::from_utf8_lossy(&name).into_owned();
        if self
            .stores
            .iter()
            .any(|s| s.actor.name() == name.as_slice())
        {
            let what = if master { "master" } else { "clone" };
            return Err(Error::new(
                ErrorKind::Store(ErrorCode::MasterExists),
                format!("store {shown} already has a master or clone here; cannot attach a {what}"),
            ));
        }
        if master {
            // Broker refuses a second master anywhere among the direct peers.
            let topic = master_topic(&name);
            let elsewhere = self.conns.values().any(|c| match &c.phase {
                Phase::Peered { filter, .. } => filter.matches(&topic),
                _ => false,
            });
            if elsewhere {
                return Err(Error::new(
                    ErrorKind::Store(ErrorCode::MasterExists),
                    format!("a peer already has a master for store {shown}"),
                ));
            }
        }
        self.next_store += 1;
        let id = self.next_store;
        self.advertise(std::slice::from_ref(&listen));
        if self.stores.is_empty() {
            self.timer(TICK, Timer::StoreTick);
        }
        self.stores.push(StoreSlot {
            id,
            actor,
            listen,
            waiting: HashMap::new(),
            busy: false,
        });
        // A clone starts attaching at once.
        let i = self.stores.len() - 1;
        let out = self.stores[i].actor.tick(Timestamp::now());
        self.store_outputs(i, out);
        Ok(id)
    }

    fn store_request(&mut self, store: u64, req: StoreReq, reply: ReplyTo) {
        if let ReplyTo::Proxy(mailbox) = &reply {
            // Remembered so that shutdown can close it (its receiver then sees the end).
            let weak = Arc::downgrade(mailbox);
            if !self.proxies.iter().any(|p| p.ptr_eq(&weak)) {
                self.proxies.retain(|p| p.strong_count() > 0);
                self.proxies.push(weak);
            }
        }
        let Some(i) = self.stores.iter().position(|s| s.id == store) else {
            reply.answer(
                req.id,
                Err(Error::new(ErrorKind::Closed, "the store is detached")),
            );
            return;
        };
        self.stores[i].waiting.insert(req.id, reply);
        let out = self.stores[i].actor.on_request(Timestamp::now(), req);
        self.store_outputs(i, out);
    }

    /// Hands a command envelope to the stores listening on its topic.
    fn store_command(&mut self, from: EndpointId, topic: &[u8], cmd: InternalCommand) {
        let now = Timestamp::now();
        for i in 0..self.stores.len() {
            if self.stores[i].listen == topic {
                let out = self.stores[i].actor.on_command(now, from, cmd.clone());
                self.stores[i].busy = true;
                self.store_outputs(i, out);
            }
        }
    }

    /// End of a turn: stores that received commands answer the burst.
    fn flush_stores(&mut self) {
        let now = Timestamp::now();
        for i in 0..self.stores.len() {
            if std::mem::take(&mut self.stores[i].busy) {
                let out = self.stores[i].actor.flush(now);
                self.store_outputs(i, out);
            }
        }
    }

    /// Carries out what a store asked for.
    fn store_outputs(&mut self, i: usize, outputs: Vec<StoreOutput>) {
        for out in outputs {
            match out {
                StoreOutput::Send { topic, to, cmd } => {
                    let mut payload = Vec::with_capacity(96);
                    if cmd.encode_into(&mut payload).is_err() {
                        continue;
                    }
                    let mut frame = Vec::with_capacity(payload.len() + 48 + topic.len());
                    let env = Envelope {
                        sender: self.id,
                        receiver: to,
                        kind: EnvelopeType::Command,
                        ttl: crate::wire::DEFAULT_TTL,
                        topic: &topic,
                        payload: &payload,
                    };
                    if env.write_frame(&mut frame).is_ok() {
                        self.route_local(&frame);
                    }
                }
                StoreOutput::Reply { id, result } => {
                    if let Some(w) = self.stores[i].waiting.remove(&id) {
                        w.answer(
                            id,
                            result.map_err(|(code, msg)| Error::new(ErrorKind::Store(code), msg)),
                        );
                    }
                }
                StoreOutput::Event(data) => {
                    let mut topic = b"<$>/local/data/store-events/".to_vec();
                    topic.extend_from_slice(self.stores[i].actor.name());
                    let mut frame = Vec::with_capacity(128);
                    if envelope::write_data(&mut frame, self.id, self.id, &topic, &data).is_ok() {
                        if let Ok(env) = Envelope::parse(&frame[4..]) {
                            self.deliver_local(&env);
                        }
                    }
                }
                StoreOutput::Status { code, message } => {
                    let name = String::from_utf8_lossy(self.stores[i].actor.name()).into_owned();
                    self.error(code, None, None, &format!("store {name}: {message}"));
                }
            }
        }
    }

    // ---- timers ----

    fn fire_timers(&mut self) {
        let now = Instant::now();
        while let Some(Reverse((at, t))) = self.timers.peek().copied() {
            if at > now {
                return;
            }
            self.timers.pop();
            match t {
                Timer::Retry(addr) => {
                    let waiting = self.requests.get(&addr).is_some_and(|r| r.conn.is_none());
                    if waiting && self.shutting_down.is_none() {
                        self.connect(addr);
                    }
                }
                Timer::Handshake(token) => {
                    let pending = self
                        .conns
                        .get(&token)
                        .is_some_and(|c| !matches!(c.phase, Phase::Peered { .. }));
                    if pending {
                        self.close(
                            token,
                            Close::Failed(ErrorCode::PeerTimeout, "handshake timed out".into()),
                        );
                    }
                }
                Timer::Bye(token) => {
                    if self.conns.contains_key(&token) {
                        self.close(token, Close::Removed);
                    }
                }
                Timer::Linger(token) => {
                    if self.conns.get(&token).is_some_and(|c| c.linger.is_some()) {
                        self.drop_conn(token);
                    }
                }
                Timer::StoreTick => {
                    if !self.stores.is_empty() {
                        let now = Timestamp::now();
                        for i in 0..self.stores.len() {
                            let out = self.stores[i].actor.tick(now);
                            self.store_outputs(i, out);
                        }
                        self.timer(TICK, Timer::StoreTick);
                    }
                }
            }
        }
    }

    // ---- sockets ----

    fn accept(&mut self, token: Token) {
        loop {
            let Some(l) = self.listeners.get(&token) else {
                return;
            };
            match l.accept() {
                Ok((mut stream, addr)) => {
                    if self.shutting_down.is_some() {
                        continue;
                    }
                    let t = self.token();
                    if self
                        .poll
                        .registry()
                        .register(&mut stream, t, Interest::READABLE | Interest::WRITABLE)
                        .is_err()
                    {
                        continue;
                    }
                    let _ = stream.set_nodelay(true);
                    let hs = Handshaker::new(self.id, self.filter.clone(), Role::Accepting);
                    let greeting = hs.greeting();
                    let mut c = Conn::new(
                        stream,
                        addr,
                        false,
                        Phase::Handshake(hs),
                        self.filter_generation,
                    );
                    c.send_handshake(&greeting);
                    self.conns.insert(t, c);
                    self.dirty.push(t);
                    self.timer(self.cfg.handshake_timeout, Timer::Handshake(t));
                }
                Err(e) if e.kind() == IoKind::WouldBlock => return,
                Err(e) if e.kind() == IoKind::Interrupted => {}
                Err(e) => {
                    self.error(
                        ErrorCode::Unspecified,
                        None,
                        None,
                        &format!("accept failed: {e}"),
                    );
                    return;
                }
            }
        }
    }

    fn conn_event(&mut self, token: Token, readable: bool, writable: bool) {
        let Some(c) = self.conns.get_mut(&token) else {
            return;
        };
        if matches!(c.phase, Phase::Connecting) {
            match c.connect_result() {
                None => return, // not yet
                Some(Err(e)) => {
                    let addr = c.addr;
                    self.drop_conn(token);
                    self.attempt_failed(addr, &format!("cannot connect to {addr}: {e}"));
                    return;
                }
                Some(Ok(())) => {
                    let _ = c.stream.set_nodelay(true);
                    let hs = Handshaker::new(self.id, self.filter.clone(), Role::Connecting);
                    c.filter_generation = self.filter_generation;
                    c.send_handshake(&hs.greeting());
                    c.phase = Phase::Handshake(hs);
                    self.dirty.push(token);
                }
            }
        }
        if writable {
            self.flush(token);
        }
        if readable || writable {
            self.read(token);
        }
    }

    fn read(&mut self, token: Token) {
        loop {
            let Some(c) = self.conns.get_mut(&token) else {
                return;
            };
            if c.linger.is_some() {
                c.discard_input();
                return;
            }
            if matches!(c.phase, Phase::Connecting) || c.read_paused {
                return;
            }
            if c.unread_len() > 0 {
                // Input held back while paused (or a partial frame): handle it first.
                self.process_input(token);
                match self.conns.get_mut(&token) {
                    Some(c) if !c.read_paused => {}
                    _ => return,
                }
            }
            let Some(c) = self.conns.get_mut(&token) else {
                return;
            };
            if c.unread_len() > self.cfg.max_frame_size + 8 {
                // Only a paused connection keeps unread input: it may not hoard it.
                self.close(
                    token,
                    Close::Failed(
                        ErrorCode::InvalidMessage,
                        "too much input while paused".into(),
                    ),
                );
                return;
            }
            match c.fill() {
                Ok(Fill::Data) => self.process_input(token),
                Ok(Fill::WouldBlock) => return,
                Ok(Fill::Eof) => {
                    self.process_input(token);
                    self.close(token, Close::Lost("connection closed by peer".into()));
                    return;
                }
                Err(e) => {
                    self.close(token, Close::Lost(format!("read failed: {e}")));
                    return;
                }
            }
        }
    }

    /// Splits and handles every complete frame in a connection's input.
    fn process_input(&mut self, token: Token) {
        let mut scratch = std::mem::take(&mut self.scratch);
        while let Some(c) = self.conns.get_mut(&token) {
            if c.linger.is_some()
                || c.read_paused
                || matches!(c.phase, Phase::Paused(_) | Phase::Connecting)
            {
                break;
            }
            if !matches!(c.phase, Phase::Handshake(_)) {
                self.process_frames(token);
                break;
            }
            let reader = FrameReader::handshake().with_max_payload(self.cfg.max_frame_size);
            match reader.next_frame(c.unread()) {
                Err(e) => {
                    self.close(
                        token,
                        Close::Failed(ErrorCode::InvalidMessage, format!("framing violation: {e}")),
                    );
                    break;
                }
                Ok((None, consumed)) => {
                    c.consume(consumed);
                    break;
                }
                Ok((Some(payload), consumed)) => {
                    scratch.clear();
                    scratch.extend_from_slice(payload);
                    c.consume(consumed);
                    let step = match &mut c.phase {
                        Phase::Handshake(h) => h.on_frame(&scratch),
                        _ => unreachable!("checked above"),
                    };
                    self.apply_step(token, step);
                }
            }
        }
        if let Some(c) = self.conns.get_mut(&token) {
            c.compact_input();
        }
        self.scratch = scratch;
        // Hand each chunk's messages over at once, so that subscribers work beside the
        // reading.
        self.flush_deliveries();
    }

    /// Handles the complete frames of a peered connection's input where they lie (the
    /// buffer is taken out of the connection meanwhile), until one must wait for a full
    /// local subscriber or the connection changes state.
    fn process_frames(&mut self, token: Token) {
        let Some(c) = self.conns.get_mut(&token) else {
            return;
        };
        let (mut input, mut pos, end) = c.take_input();
        let reader = FrameReader::phase3().with_max_payload(self.cfg.max_frame_size);
        let mut violation = None;
        loop {
            let len = match reader.next_frame(&input[pos..end]) {
                Err(e) => {
                    violation = Some(e);
                    break;
                }
                Ok((None, _)) => break,
                Ok((Some(payload), _)) => payload.len(),
            };
            let frame = &mut input[pos..pos + 4 + len];
            if !self.phase3_frame(token, frame) {
                // A full local subscriber: keep the frame, stop reading.
                if let Some(c) = self.conns.get_mut(&token) {
                    c.read_paused = true;
                    self.paused_reads.push(token);
                }
                break;
            }
            pos += 4 + len;
            match self.conns.get(&token) {
                Some(c) if c.linger.is_none() && matches!(c.phase, Phase::Peered { .. }) => {}
                _ => break,
            }
        }
        if let Some(c) = self.conns.get_mut(&token) {
            c.restore_input(input, pos, end);
        }
        if let Some(e) = violation {
            self.close(
                token,
                Close::Failed(ErrorCode::InvalidMessage, format!("framing violation: {e}")),
            );
        }
    }

    fn remote_status(&self, remote: EndpointId, token: Token) -> RemoteStatus {
        if self.shutting_down.is_some() {
            RemoteStatus::ShuttingDown
        } else if self.peered.contains_key(&remote) {
            RemoteStatus::Peered
        } else if self.claims.get(&remote).is_some_and(|t| *t != token) {
            RemoteStatus::Handshaking
        } else {
            RemoteStatus::Free
        }
    }

    fn apply_step(&mut self, token: Token, step: Step) {
        let Some(c) = self.conns.get_mut(&token) else {
            return;
        };
        for msg in &step.send {
            c.send_handshake(msg);
        }
        if !step.send.is_empty() {
            self.dirty.push(token);
        }
        match step.status {
            Status::Continue => {}
            Status::Claim { remote, .. } => {
                let status = self.remote_status(remote, token);
                if status == RemoteStatus::Free {
                    self.claims.insert(remote, token);
                }
                let next = match self.conns.get_mut(&token).map(|c| &mut c.phase) {
                    Some(Phase::Handshake(h)) => h.claim(status),
                    _ => return,
                };
                self.apply_step(token, next);
            }
            Status::Paused => {
                let c = self.conns.get_mut(&token).expect("present");
                let Phase::Handshake(h) = std::mem::replace(&mut c.phase, Phase::Connecting) else {
                    return;
                };
                if let Some(remote) = h.remote() {
                    self.paused.entry(remote).or_default().push(token);
                }
                c.phase = Phase::Paused(h);
            }
            Status::Done(p) => self.peered(token, p),
            Status::Redundant { .. } => self.close(token, Close::Redundant),
            Status::DroppedAsRedundant { remote } => {
                let other = self.peered.get(&remote).or(self.claims.get(&remote));
                if other.is_some_and(|t| *t != token) {
                    self.close(token, Close::Redundant);
                } else {
                    self.close(
                        token,
                        Close::Failed(
                            ErrorCode::RedundantConnection,
                            "redundant connection".into(),
                        ),
                    );
                }
            }
            Status::Failed(Failure { code, description }) => {
                self.close(token, Close::Failed(code, description))
            }
        }
    }

    fn peered(&mut self, token: Token, p: Peering) {
        let remote = p.remote;
        self.claims.remove(&remote);
        self.peered.insert(remote, token);
        let generation = self.filter_generation;
        let Some(c) = self.conns.get_mut(&token) else {
            return;
        };
        let (addr, outbound, stale) = (c.addr, c.outbound, c.filter_generation != generation);
        c.phase = Phase::Peered {
            remote,
            filter: p.filter,
        };
        if stale {
            self.send_routing_update(token, remote);
        }
        // As in Broker, discovery names the endpoint, not an address.
        self.status(
            StatusCode::EndpointDiscovered,
            Some(remote),
            None,
            "found a new peer in the network",
        );
        self.status(
            StatusCode::PeerAdded,
            Some(remote),
            Some(addr),
            "handshake successful",
        );
        if outbound {
            if let Some(req) = self.requests.get_mut(&addr) {
                for w in req.waiters.drain(..) {
                    let _ = w.send(Ok(remote));
                }
            }
        }
        for t in self.paused.remove(&remote).unwrap_or_default() {
            let step = match self.conns.get_mut(&t).map(|c| &mut c.phase) {
                Some(Phase::Paused(h)) => h.drop_redundant(),
                _ => continue,
            };
            self.apply_step(t, step);
        }
        // A new peer may unblock nothing, but one may have been waiting on buffer room.
        self.publications_pending = true;
    }

    /// One Phase-3 frame (`frame` is the whole frame, length prefix included; the buffer
    /// may be rewritten for forwarding).
    /// Returns false, having done nothing, when the frame must wait for a full local
    /// subscriber.
    fn phase3_frame(&mut self, token: Token, frame: &mut [u8]) -> bool {
        let Some(c) = self.conns.get_mut(&token) else {
            return true;
        };
        let Phase::Peered { remote: from, .. } = c.phase else {
            return true;
        };
        let env = match Envelope::parse(&frame[4..]) {
            Ok(env) => env,
            Err(e) => {
                self.malformed(token, from, &e.message);
                return true;
            }
        };
        let (kind, sender, receiver) = (env.kind, env.sender, env.receiver);
        // The topic's place in the frame: length prefix, header, topic.
        let base = 4 + envelope::HEADER_LEN;
        let topic = (base, base + env.topic.len());
        match kind {
            EnvelopeType::Data => {
                if let Err(e) = bin::validate(env.payload) {
                    self.malformed(token, from, &e.message);
                    return true;
                }
                let locally_originated = sender.is_nil() || sender == self.id;
                if !locally_originated && self.local_must_wait(&env) {
                    return false;
                }
                if let Some(c) = self.conns.get_mut(&token) {
                    c.malformed_in_a_row = 0;
                }
                if receiver == self.id || (!locally_originated && receiver.is_nil()) {
                    self.deliver_local(&env);
                }
                if !self.cfg.disable_forwarding && receiver != self.id {
                    self.forward(token, from, receiver, topic, frame);
                }
            }
            EnvelopeType::Command => {
                if receiver.is_nil() || receiver == self.id {
                    match InternalCommand::decode(env.payload) {
                        Ok(cmd) => {
                            let topic = env.topic.to_vec();
                            self.store_command(from, &topic, cmd);
                        }
                        Err(e) => {
                            self.malformed(token, from, &e.message);
                            return true;
                        }
                    }
                }
                if !self.cfg.disable_forwarding && receiver != self.id {
                    self.forward(token, from, receiver, topic, frame);
                }
            }
            EnvelopeType::RoutingUpdate => match Filter::decode(env.payload) {
                Ok(filter) if sender == from => {
                    if let Some(Phase::Peered { filter: f, .. }) =
                        self.conns.get_mut(&token).map(|c| &mut c.phase)
                    {
                        *f = filter;
                    }
                }
                Ok(_) => {}
                Err(e) => self.malformed(token, from, &e.message),
            },
            EnvelopeType::Ping => {
                if sender != self.id && !sender.is_nil() {
                    let mut out = Vec::with_capacity(64);
                    if env.pong(self.id).write_frame(&mut out).is_ok() {
                        self.queue_frame(token, &out);
                    }
                }
            }
            EnvelopeType::Pong => {
                let done = self
                    .conns
                    .get(&token)
                    .and_then(|c| c.bye)
                    .is_some_and(|b| b[..] == *env.payload);
                if done {
                    self.close(token, Close::Removed);
                }
            }
        }
        true
    }

    /// Forwards a frame from peer `from` (received on `source`) to the other peers whose
    /// filters match `topic`, or to `receiver`.
    fn forward(
        &mut self,
        source: Token,
        from: EndpointId,
        receiver: EndpointId,
        topic_range: (usize, usize),
        frame: &mut [u8],
    ) {
        let mut targets = std::mem::take(&mut self.targets);
        let topic = &frame[topic_range.0..topic_range.1];
        targets.extend(
            self.conns
                .iter()
                .filter(|(t, c)| {
                    **t != source
                        && match &c.phase {
                            Phase::Peered { remote, filter } => {
                                *remote != from
                                    && c.bye.is_none()
                                    && if receiver.is_nil() {
                                        filter.matches(topic)
                                    } else {
                                        *remote == receiver
                                    }
                            }
                            _ => false,
                        }
                })
                .map(|(t, _)| *t),
        );
        if !targets.is_empty()
            && envelope::restamp(&mut frame[4..], self.id, crate::wire::DEFAULT_TTL).is_ok()
        {
            for &t in &targets {
                self.queue_frame(t, frame);
            }
        }
        targets.clear();
        self.targets = targets;
    }

    /// A malformed message inside a well-formed frame: dropped and reported; a run of them
    /// ends the peering.
    fn malformed(&mut self, token: Token, from: EndpointId, why: &str) {
        let limit = self.cfg.max_malformed_in_a_row;
        let Some(c) = self.conns.get_mut(&token) else {
            return;
        };
        c.malformed_in_a_row += 1;
        let run = c.malformed_in_a_row;
        let addr = c.addr;
        self.error(
            ErrorCode::InvalidMessage,
            Some(from),
            Some(addr),
            &format!("dropped a malformed message: {why}"),
        );
        if run >= limit {
            self.close(
                token,
                Close::Failed(
                    ErrorCode::InvalidMessage,
                    format!("{run} malformed messages in a row"),
                ),
            );
        }
    }

    fn flush(&mut self, token: Token) {
        let Some(c) = self.conns.get_mut(&token) else {
            return;
        };
        c.in_dirty = false;
        match c.write_out() {
            Ok(()) => {
                if c.linger.is_some() && c.output_empty() {
                    self.drop_conn(token);
                } else if c.queued_frames() < self.cfg.peer_buffer_size / 2 {
                    c.dropping = false;
                    if let Some(start) = c.drop_run.take() {
                        let (n, id, addr) = (c.dropped - start, c.remote(), c.addr);
                        let who =
                            id.map_or_else(|| addr.to_string(), |id| format!("{id} at {addr}"));
                        self.error(
                            ErrorCode::Unspecified,
                            id,
                            Some(addr),
                            &format!(
                                "peer {who} is keeping up again; {n} messages for it were dropped"
                            ),
                        );
                    }
                }
            }
            Err(e) => self.close(token, Close::Lost(format!("write failed: {e}"))),
        }
    }

    fn flush_dirty(&mut self) {
        while let Some(t) = self.dirty.pop() {
            self.flush(t);
        }
    }

    fn answer_flush_waiters(&mut self) {
        if self.flush_waiters.is_empty() {
            return;
        }
        let idle = self.shared.outbox.is_empty()
            && !self.publications_pending
            && self.conns.values().all(|c| c.output_empty());
        if idle {
            for w in self.flush_waiters.drain(..) {
                let _ = w.send(Ok(()));
            }
        }
    }

    /// Ends a connection: status events, retry bookkeeping, and then either an immediate
    /// close or, when a drop_conn or similar is still queued, a short linger to flush it.
    fn close(&mut self, token: Token, why: Close) {
        let Some(c) = self.conns.get_mut(&token) else {
            return;
        };
        if c.linger.is_some() {
            return;
        }
        let addr = c.addr;
        let outbound = c.outbound;
        let remote = match &c.phase {
            Phase::Peered { remote, .. } => Some(*remote),
            Phase::Handshake(h) | Phase::Paused(h) => h.remote(),
            Phase::Connecting => None,
        };
        let was_peered = matches!(c.phase, Phase::Peered { .. });
        c.linger = Some(());
        let flush_first = !c.output_empty() && !matches!(why, Close::Lost(_));
        if let Some(r) = remote {
            if self.peered.get(&r) == Some(&token) {
                self.peered.remove(&r);
                let now = Timestamp::now();
                for i in 0..self.stores.len() {
                    let out = self.stores[i].actor.peer_lost(now, r);
                    self.store_outputs(i, out);
                }
            }
            if self.claims.get(&r) == Some(&token) {
                self.claims.remove(&r);
                // Connections paused behind this handshake will not hear from it again.
                for t in self.paused.remove(&r).unwrap_or_default() {
                    self.close(
                        t,
                        Close::Failed(
                            ErrorCode::PeerDisconnectDuringHandshake,
                            "the other handshake failed".into(),
                        ),
                    );
                }
            }
            if let Some(list) = self.paused.get_mut(&r) {
                list.retain(|t| *t != token);
            }
        }
        match &why {
            // Broker's texts, whatever the cause.
            Close::Lost(_) if was_peered => {
                self.status(
                    StatusCode::PeerLost,
                    remote,
                    Some(addr),
                    "lost connection to remote peer",
                );
                self.status(
                    StatusCode::EndpointUnreachable,
                    remote,
                    None,
                    "lost the last path",
                );
            }
            Close::Removed | Close::Shutdown if was_peered => {
                self.status(
                    StatusCode::PeerRemoved,
                    remote,
                    Some(addr),
                    "removed connection to remote peer",
                );
                self.status(
                    StatusCode::EndpointUnreachable,
                    remote,
                    None,
                    "lost the last path",
                );
            }
            Close::Failed(code, msg) => {
                let (code, msg) = (*code, msg.clone());
                self.error(code, remote, Some(addr), &msg);
                if was_peered {
                    self.status(
                        StatusCode::PeerLost,
                        remote,
                        Some(addr),
                        "lost connection to remote peer",
                    );
                }
            }
            Close::Lost(msg) if !outbound => {
                let msg = msg.clone();
                self.error(
                    ErrorCode::PeerDisconnectDuringHandshake,
                    remote,
                    Some(addr),
                    &msg,
                );
            }
            _ => {}
        }
        // Outgoing peerings: answer blocked callers and retry.
        if outbound
            && self
                .requests
                .get(&addr)
                .is_some_and(|r| r.conn == Some(token))
        {
            match why {
                Close::Redundant => {
                    let req = self.requests.get_mut(&addr).expect("checked");
                    req.conn = None;
                    for w in req.waiters.drain(..) {
                        match remote {
                            Some(r) => {
                                let _ = w.send(Ok(r));
                            }
                            None => {
                                let _ = w.send(Err(Error::new(
                                    ErrorKind::PeerUnavailable,
                                    "redundant connection",
                                )));
                            }
                        }
                    }
                    self.requests.remove(&addr);
                }
                Close::Lost(_) if was_peered => {
                    let req = self.requests.get_mut(&addr).expect("checked");
                    req.conn = None;
                    if req.retry.is_zero() || self.shutting_down.is_some() {
                        self.requests.remove(&addr);
                    } else {
                        // Reconnect at once after losing an established peering.
                        self.timer(Duration::ZERO, Timer::Retry(addr));
                    }
                }
                Close::Removed | Close::Shutdown => {
                    self.requests.remove(&addr);
                }
                Close::Failed(_, ref msg) | Close::Lost(ref msg) => {
                    let msg = msg.clone();
                    self.attempt_failed_quiet(addr, &msg);
                }
            }
        }
        if flush_first && self.shutting_down.is_none() {
            self.dirty.push(token);
            self.timer(Duration::from_secs(1), Timer::Linger(token));
        } else if flush_first {
            // Best effort during shutdown: one write, then close.
            if let Some(c) = self.conns.get_mut(&token) {
                let _ = c.write_out();
            }
            self.drop_conn(token);
        } else {
            self.drop_conn(token);
        }
    }

    /// Like [`Reactor::attempt_failed`], after the error event was already emitted.
    fn attempt_failed_quiet(&mut self, addr: SocketAddr, why: &str) {
        let Some(req) = self.requests.get_mut(&addr) else {
            return;
        };
        req.conn = None;
        for w in req.waiters.drain(..) {
            let _ = w.send(Err(Error::new(ErrorKind::PeerUnavailable, why)));
        }
        if req.retry.is_zero() || self.shutting_down.is_some() {
            self.requests.remove(&addr);
        } else {
            let retry = req.retry;
            self.timer(retry, Timer::Retry(addr));
        }
    }

    /// Deregisters and drops a connection's socket.
    fn drop_conn(&mut self, token: Token) {
        if let Some(mut c) = self.conns.remove(&token) {
            let _ = self.poll.registry().deregister(&mut c.stream);
        }
    }
}

/// The complete frame (length prefix included) at `off` in a publication buffer.
fn next_frame(buf: &[u8], off: usize) -> Option<&[u8]> {
    let len = buf.get(off..off + 4)?;
    let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
    buf.get(off..off + 4 + len)
}

impl Drop for Reactor {
    fn drop(&mut self) {
        for slot in self.stores.drain(..) {
            for (id, w) in slot.waiting {
                w.answer(
                    id,
                    Err(Error::new(ErrorKind::Closed, "the endpoint shut down")),
                );
            }
        }
        for p in self.proxies.drain(..) {
            if let Some(mailbox) = p.upgrade() {
                mailbox.close();
            }
        }
        // Publishers waiting on their fd or blocked in a publish must wake up and learn that
        // the endpoint is gone.
        self.shared.outbox.close();
        self.shared.room.mark_room();
        for s in &self.subs {
            s.mailbox.close();
        }
        for s in &self.status_subs {
            s.mailbox.close();
        }
        for (_, req) in self.requests.drain() {
            for w in req.waiters {
                let _ = w.send(Err(Error::new(ErrorKind::Closed, "the endpoint shut down")));
            }
        }
        for w in self.flush_waiters.drain(..) {
            let _ = w.send(Err(Error::new(ErrorKind::Closed, "the endpoint shut down")));
        }
    }
}
