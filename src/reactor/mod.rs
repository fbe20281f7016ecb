//! The reactor: the one thread per endpoint that owns every connection, every peer's state,
//! the subscription tables, the stores and the timers.
//!
//! The state is split by what it is about, each part a module of its own that does no I/O
//! and returns its effects as values, so that it is tested without sockets:
//!
//! - [`transport`]: the only module that names sockets (listeners and streams, by kind);
//! - [`conn`]: one connection's buffers, phase and counters;
//! - [`peers`]: outgoing peerings and retries, claims of remotes by handshakes;
//! - [`session`]: what one Phase-3 frame from a peer means;
//! - [`router`]: the advertised filter and the one rule that picks a message's peers;
//! - [`delivery`]: the local subscribers and the messages staged for them;
//! - [`intake`]: publications taken from the publish queue, backpressure and stalls;
//! - [`stores`]: the attached store masters and clones;
//! - [`status`]: status and error events; [`timers`]; [`spin`] (busy polling);
//! - [`scrape`]: the metrics listener's HTTP connections;
//! - [`spooling`]: what goes through the spool, and when a spooled record is delivered;
//! - [`snapshot`]: the counters' snapshot.
//!
//! This file holds the loop and the commands; `io.rs` the readiness of connections, what
//! their frames cause and their closing; `outbound.rs` what goes out to the peers.
//!
//! Invariants:
//! - Runs only on its own thread and never blocks: sockets are non-blocking, channels are
//!   read with `try_recv`, subscriber queues are written without waiting (their overflow
//!   policy applies), and the poll timeout is the nearest timer.
//! - mio is edge-triggered: every readiness event reads or writes until `WouldBlock`.
//! - Output is batched: frames are appended to a peer's buffer and written once per turn,
//!   so one `write` carries many frames.
//! - Backpressure: publications are only taken from their queue while no peer's buffer is
//!   full, so a slow peer makes publishers wait instead of growing memory (`intake.rs`).
//! - Received frames are handled where they lie in the connection's input buffer; data
//!   messages for local subscribers are staged and handed over at the end of each read.
//! - A panic is caught by the thread's entry point; dropping the reactor closes every
//!   subscriber queue and the command channels, so API calls return `Closed`, never hang.

mod conn;
mod delivery;
mod intake;
mod io;
mod outbound;
mod peers;
mod router;
mod scrape;
mod session;
mod snapshot;
mod spin;
mod spooling;
mod status;
mod stores;
mod timers;
mod transport;

use crate::contract::command::{Command, Service};
use crate::contract::room::RoomFd;
use crate::contract::shared::Shared;
use crate::contract::{Config, PeerInfo, PeerStatus, Processed, StatusEvent};
use crate::error::{Error, ErrorKind, Result};
use crate::wire::envelope::{self, Envelope};
use crate::wire::{EndpointId, ErrorCode};
use conn::{Conn, Phase};
use crossbeam_channel::{Receiver, Sender, unbounded};
use delivery::Delivery;
use intake::Intake;
use mio::{Events, Poll, Token, Waker};
use peers::{Close, Next, Peers};
use router::Advertised;
use status::StatusSubs;
use std::collections::HashMap;
use std::io::ErrorKind as IoKind;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use stores::{Effect, Stores};
use timers::{Timer, Timers};
use transport::{Kind, Listener, Security, Stream};

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

/// Commands taken per turn, so that sockets are served in between.
const BATCH: usize = 4096;

/// Takes from the publish queue per turn (each takes everything queued), so that the
/// output is written in between.
const TAKES: usize = 4;

/// How often connections with large buffers are looked at: one that neither read nor
/// wrote for that long gives them back (`Conn::trim`).
const TRIM_EVERY: Duration = Duration::from_secs(1);

/// Starts the reactor thread of a new endpoint.
/// The thread's result is what [`Reactor::run`] returns: the messages its shutdown could
/// not deliver (0 if it panicked; the panic is in `Shared::fatal`).
pub(crate) fn start(config: Config, id: EndpointId) -> Result<(Arc<Shared>, JoinHandle<u64>)> {
    let poll = Poll::new()?;
    let waker = Waker::new(poll.registry(), WAKER)?;
    let (cmd_tx, cmd_rx) = unbounded();
    let room = RoomFd::new()?;
    let security = Security::new(&config)?;
    // Opened here, on the caller's thread: finding where an earlier run stopped reads a
    // segment.
    let spool = crate::spool::Spool::open(&config.spool)?.map(Box::new);
    let shared = Arc::new(Shared::new(config, id, cmd_tx, waker, room));
    let theirs = shared.clone();
    let thread = std::thread::Builder::new()
        .name(format!("brook-{id}"))
        .spawn(move || {
            let mut reactor = Reactor::new(poll, theirs.clone(), cmd_rx, security, spool);
            match catch_unwind(AssertUnwindSafe(|| reactor.run())) {
                Ok(undelivered) => undelivered,
                Err(panic) => {
                    let text = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "panic".into());
                    if let Ok(mut slot) = theirs.fatal.lock() {
                        *slot = Some(text);
                    }
                    0
                }
            }
        })?;
    Ok((shared, thread))
}

/// The reactor's own counters (the parts keep theirs).
#[derive(Default)]
struct Counters {
    turns: u64,
    wakeups: u64,
    processed: Processed,
    /// Messages queued for peerings that ended before they were written.
    discarded: u64,
}

pub(crate) struct Reactor {
    poll: Poll,
    shared: Arc<Shared>,
    id: EndpointId,
    cfg: Config,
    commands: Receiver<Command>,
    /// TLS or plain TCP for peerings, and plain TCP for the metrics listener.
    security: Security,
    plain: Security,
    listeners: TokenMap<(Listener, Service)>,
    conns: TokenMap<Conn>,
    /// Connections of the metrics listener.
    scrapes: TokenMap<scrape::Scrape>,
    /// Listeners whose accepts fail, and whether a retry is scheduled (edge-triggered
    /// readiness would not tell them when to look again).
    accept_failing: TokenMap<bool>,
    /// A `Timer::Liveness` is pending.
    liveness_armed: bool,
    next_token: usize,
    peers: Peers,
    advertised: Advertised,
    delivery: Delivery,
    intake: Intake,
    stores: Stores,
    status: StatusSubs,
    timers: Timers,
    /// Connections with output to write at the end of the turn.
    dirty: Vec<Token>,
    /// Callers waiting until everything published has been written.
    sent_waiters: Vec<Sender<Result<()>>>,
    shutting_down: Option<Instant>,
    /// `counters.discarded` when the shutdown began: what the shutdown discards is the rest.
    discarded_before_shutdown: u64,
    bye_counter: u64,
    scratch: Vec<u8>,
    /// Connections whose reading waits for room in a full local subscriber.
    paused_reads: Vec<Token>,
    /// Reused list of the peers a message goes to.
    targets: Vec<Token>,
    /// Reused list of what the stores asked for.
    effects: Vec<Effect>,
    spin: spin::Spin,
    counters: Counters,
    /// The durable spool, if configured, and what is in flight from it.
    spool: Option<Box<crate::spool::Spool>>,
    replay: spooling::Replay,
    /// A [`Timer::Trim`] is due.
    trim_scheduled: bool,
    /// Connections closed or buffers were freed since the last [`Timer::Trim`].
    released: bool,
}

impl Reactor {
    fn new(
        poll: Poll,
        shared: Arc<Shared>,
        commands: Receiver<Command>,
        security: Security,
        spool: Option<Box<crate::spool::Spool>>,
    ) -> Reactor {
        let busy_poll = shared.config.busy_poll;
        let status = StatusSubs::new(
            shared.config.console_verbosity,
            format!("brook[{}]", shared.id),
        );
        Reactor {
            poll,
            security,
            plain: Security::plain(),
            id: shared.id,
            cfg: shared.config.clone(),
            stores: Stores::new(shared.id),
            shared,
            commands,
            listeners: TokenMap::default(),
            conns: TokenMap::default(),
            scrapes: TokenMap::default(),
            accept_failing: TokenMap::default(),
            liveness_armed: false,
            next_token: 1,
            peers: Peers::default(),
            advertised: Advertised::default(),
            delivery: Delivery::default(),
            intake: Intake::default(),
            status,
            timers: Timers::default(),
            dirty: Vec::new(),
            sent_waiters: Vec::new(),
            shutting_down: None,
            discarded_before_shutdown: 0,
            bye_counter: 0,
            scratch: Vec::new(),
            paused_reads: Vec::new(),
            targets: Vec::new(),
            effects: Vec::new(),
            spin: spin::Spin::new(busy_poll),
            counters: Counters::default(),
            spool,
            replay: spooling::Replay::default(),
            trim_scheduled: false,
            released: false,
        }
    }

    fn token(&mut self) -> Token {
        self.next_token += 1;
        Token(self.next_token)
    }

    /// Runs until the endpoint shuts down; returns how many messages queued for peers the
    /// shutdown could not deliver.
    fn run(&mut self) -> u64 {
        let mut events = Events::with_capacity(1024);
        loop {
            let now = Instant::now();
            let mut timeout = self.timers.timeout(now);
            let full = self.intake.pending && self.peers_full();
            if self.intake.pending && !full && !self.held_waits() {
                timeout = Some(Duration::ZERO);
            }
            if full {
                // Look again soon to apply the stall timeout.
                let soon = Duration::from_millis(100);
                timeout = Some(timeout.map_or(soon, |t| t.min(soon)));
            }
            if let Some(soon) = self.spool_timeout() {
                timeout = Some(timeout.map_or(soon, |t| t.min(soon)));
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
            self.counters.turns += 1;
            if !events.is_empty() {
                self.spin.work(Instant::now());
            }
            for ev in events.iter() {
                match ev.token() {
                    WAKER => self.counters.wakeups += 1,
                    t if self.listeners.contains_key(&t) => self.accept(t),
                    t if self.scrapes.contains_key(&t) => self.scrape_ready(t),
                    t => self.conn_event(t, ev.is_readable(), ev.is_writable()),
                }
            }
            self.take_commands();
            self.resume_paused_reads();
            self.take_publications();
            self.fire_timers();
            self.stores.end_turn(&mut self.effects);
            self.apply_store_effects();
            self.delivery.hand_over();
            self.spool_replay();
            self.write_dirty();
            self.spool_settle();
            self.answer_sent_waiters();
            if let Some(deadline) = self.shutting_down {
                if self.conns.is_empty() || Instant::now() >= deadline {
                    let tokens: Vec<Token> = self.conns.keys().copied().collect();
                    for t in tokens {
                        self.close(t, Close::Shutdown);
                    }
                    return self.counters.discarded - self.discarded_before_shutdown;
                }
            }
        }
    }

    fn emit(&mut self, ev: StatusEvent) {
        self.status.emit(ev);
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
            Command::Listen {
                addr,
                service,
                reply,
            } => {
                let _ = reply.send(self.listen(addr, service));
            }
            Command::Peer { addr, retry, reply } => self.peer(addr, retry, reply),
            Command::Unpeer { addr, reply } => {
                let _ = reply.send(self.unpeer(addr));
            }
            Command::Peers { reply } => {
                let _ = reply.send(self.peer_infos());
            }
            Command::PeerSubscriptions { reply } => {
                let mut all = crate::wire::Filter::new();
                for (_, r) in self.routes() {
                    for t in r.filter.topics() {
                        all.add(t);
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
                self.advertise(&topics);
                self.delivery.subscribe(id, topics, mailbox);
                let _ = reply.send(());
            }
            Command::AddTopic { id, topic, reply } => {
                self.delivery.add_topic(id, &topic);
                self.advertise(&[topic]);
                let _ = reply.send(());
            }
            Command::RemoveTopic { id, topic, reply } => {
                self.delivery.remove_topic(id, &topic);
                let _ = reply.send(());
            }
            Command::Unsubscribe { id } => {
                self.delivery.unsubscribe(id);
                self.status.remove(id);
            }
            Command::StatusSubscribe {
                id,
                errors,
                mailbox,
                reply,
            } => {
                self.status.add(id, errors, mailbox);
                let _ = reply.send(());
            }
            Command::Forward { topics } => self.advertise(&topics),
            Command::AwaitSent { reply } => self.sent_waiters.push(reply),
            Command::Metrics { reply } => {
                let _ = reply.send(self.metrics());
            }
            Command::AttachStore {
                actor,
                listen,
                master,
                reply,
            } => {
                let conns = &self.conns;
                let elsewhere = |topic: &[u8]| {
                    conns.values().any(|c| match &c.phase {
                        Phase::Peered { filter, .. } => filter.matches(topic),
                        _ => false,
                    })
                };
                let attached =
                    self.stores
                        .attach(actor, listen.clone(), master, elsewhere, &mut self.effects);
                if attached.is_ok() {
                    self.advertise(std::slice::from_ref(&listen));
                    if self.stores.len() == 1 {
                        self.timers
                            .after(crate::store::actor::TICK, Timer::StoreTick);
                    }
                }
                let _ = reply.send(attached);
                self.apply_store_effects();
            }
            Command::StoreRequest { store, req, reply } => {
                self.stores.request(store, req, reply, &mut self.effects);
                self.apply_store_effects();
            }
            Command::StoreDurable { store } => {
                self.stores.durable(store, &mut self.effects);
                self.apply_store_effects();
            }
            Command::DetachStore { store } => self.stores.detach(store),
            Command::Shutdown => self.begin_shutdown(),
        }
    }

    /// Adds topics to the advertised filter and tells every peer when it grew.
    fn advertise(&mut self, topics: &[Vec<u8>]) {
        if !self.advertised.add(topics) {
            return;
        }
        let peers: Vec<(EndpointId, Token)> = self.peers.peered().collect();
        for (remote, token) in peers {
            self.send_routing_update(token, remote);
        }
    }

    fn send_routing_update(&mut self, token: Token, remote: EndpointId) {
        let (id, generation) = (self.id, self.advertised.generation());
        if let Some(c) = self.conns.get_mut(&token) {
            let start = c.output.len();
            let filter = self.advertised.filter();
            if envelope::write_routing_update(&mut c.output, id, remote, filter).is_ok() {
                c.frame_written(start);
            }
            c.filter_generation = generation;
            self.dirty.push(token);
        }
    }

    fn listen(&mut self, addr: SocketAddr, service: Service) -> Result<u16> {
        let token = self.token();
        let (what, kind) = match service {
            Service::Peering => ("", self.security.kind()),
            Service::Metrics => (" for metrics", Kind::Tcp),
        };
        let backlog = self.cfg.listen_backlog;
        let l = Listener::bind(kind, addr, backlog, self.poll.registry(), token).map_err(|e| {
            Error::new(ErrorKind::Io, format!("cannot listen{what} on {addr}: {e}"))
        })?;
        let port = l.local_port()?;
        self.listeners.insert(token, (l, service));
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
        let conns = &self.conns;
        let peered_as = |t: Token| conns.get(&t).and_then(Conn::remote);
        if self.peers.request(addr, retry, reply, peered_as) == Next::Connect {
            self.connect(addr);
        }
    }

    fn connect(&mut self, addr: SocketAddr) {
        let token = self.token();
        match Stream::connect(&self.security, addr, self.poll.registry(), token) {
            Ok(stream) => {
                let generation = self.advertised.generation();
                let c = Conn::new(stream, addr, true, Phase::Connecting, generation);
                self.conns.insert(token, c);
                self.peers.connecting(addr, token);
                self.timers
                    .after(self.cfg.handshake_timeout, Timer::Handshake(token));
            }
            Err(e) => self.attempt_failed(addr, &format!("cannot connect to {addr}: {e}")),
        }
    }

    /// An outgoing attempt failed before or during the handshake: report, answer blocked
    /// callers, and retry if asked to.
    fn attempt_failed(&mut self, addr: SocketAddr, why: &str) {
        self.emit(status::error(
            ErrorCode::PeerUnavailable,
            None,
            Some(addr),
            why,
        ));
        if let Some(after) = self
            .peers
            .attempt_failed(addr, why, self.shutting_down.is_some())
        {
            self.timers.after(after, Timer::Retry(addr));
        }
    }

    fn unpeer(&mut self, addr: SocketAddr) -> Result<()> {
        let token = self.peers.unpeer(addr).or_else(|| {
            self.conns
                .iter()
                .find(|(_, c)| c.addr == addr && matches!(c.phase, Phase::Peered { .. }))
                .map(|(t, _)| *t)
        });
        let not_peered = || Error::invalid(format!("not peered with {addr}"));
        match token.and_then(|t| self.conns.get(&t).map(|c| (t, c.remote()))) {
            Some((t, Some(_))) => {
                self.send_bye(t);
                Ok(())
            }
            Some((t, None)) => {
                self.close(t, Close::Removed);
                Ok(())
            }
            None => Err(not_peered()),
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
        let Some(remote) = c.remote() else {
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
        self.timers
            .after(self.cfg.unpeer_timeout, Timer::Bye(token));
    }

    fn peer_status(c: &Conn) -> (Option<EndpointId>, PeerStatus) {
        match &c.phase {
            Phase::Peered { remote, .. } => (Some(*remote), PeerStatus::Peered),
            Phase::Handshake(h) | Phase::Paused(h) => (h.remote(), PeerStatus::Connecting),
            Phase::Connecting => (None, PeerStatus::Connecting),
        }
    }

    fn peer_infos(&self) -> Vec<PeerInfo> {
        let live = self.conns.values().filter(|c| c.linger.is_none());
        let mut out: Vec<PeerInfo> = live
            .map(|c| {
                let (id, status) = Self::peer_status(c);
                PeerInfo {
                    id,
                    address: c.addr,
                    outbound: c.outbound,
                    status,
                    dropped: c.dropped,
                }
            })
            .collect();
        out.extend(self.peers.reconnecting().map(|address| PeerInfo {
            id: None,
            address,
            outbound: true,
            status: PeerStatus::Reconnecting,
            dropped: 0,
        }));
        out
    }

    fn begin_shutdown(&mut self) {
        if self.shutting_down.is_some() {
            return;
        }
        self.shutting_down = Some(Instant::now() + self.cfg.unpeer_timeout);
        self.discarded_before_shutdown = self.counters.discarded;
        // Deliver what publishers already queued (local subscribers may drop now).
        let mut pending: Vec<(Vec<u8>, usize)> = self.intake.take_held().into_iter().collect();
        if self.intake.take(&self.shared.outbox) {
            pending.extend(self.intake.take_held());
        }
        for (buf, mut off) in pending {
            while let Some(frame) = intake::next_frame(&buf, off) {
                off += frame.len();
                self.route_local(frame);
            }
        }
        self.intake.drained();
        for (_, (mut l, _)) in self.listeners.drain() {
            l.deregister(self.poll.registry());
        }
        for (_, mut s) in self.scrapes.drain() {
            s.stream.deregister(self.poll.registry());
        }
        self.peers.clear(None);
        let tokens: Vec<Token> = self.conns.keys().copied().collect();
        for t in tokens {
            match self.conns.get(&t).map(|c| c.remote().is_some()) {
                Some(true) => self.send_bye(t),
                Some(false) => self.close(t, Close::Shutdown),
                None => {}
            }
        }
    }

    // ---- stores ----

    /// Carries out what the stores asked for.
    fn apply_store_effects(&mut self) {
        while !self.effects.is_empty() {
            for effect in std::mem::take(&mut self.effects) {
                match effect {
                    Effect::Route(frame) => self.route_local(&frame),
                    Effect::Deliver(frame) => {
                        if let Ok(env) = Envelope::parse(&frame[4..]) {
                            self.delivery.stage(env.topic, env.payload);
                        }
                    }
                    Effect::Error(code, msg) => self.emit(status::error(code, None, None, msg)),
                }
            }
        }
    }

    // ---- timers ----

    fn fire_timers(&mut self) {
        let now = Instant::now();
        while let Some(t) = self.timers.pop_due(now) {
            match t {
                Timer::Retry(addr) => {
                    if self.peers.retry_wanted(addr) && self.shutting_down.is_none() {
                        self.connect(addr);
                    }
                }
                Timer::Handshake(token) => {
                    let pending = self.conns.get(&token).is_some_and(|c| c.remote().is_none());
                    if pending {
                        let why =
                            Close::Failed(ErrorCode::PeerTimeout, "handshake timed out".into());
                        self.close(token, why);
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
                Timer::Scrape(token) => self.end_scrape(token),
                Timer::Accept(token) => {
                    if let Some(scheduled) = self.accept_failing.get_mut(&token) {
                        *scheduled = false;
                        self.accept(token);
                    }
                }
                Timer::Liveness => self.check_liveness(),
                Timer::Trim => {
                    self.trim_scheduled = false;
                    let (mut freed, mut large) = (std::mem::take(&mut self.released), false);
                    for c in self.conns.values_mut() {
                        let (f, l) = c.trim();
                        freed |= f;
                        large |= l;
                    }
                    if freed {
                        conn::release_freed_memory();
                    }
                    self.watch_buffers(large);
                }
                Timer::StoreTick => {
                    if !self.stores.is_empty() {
                        self.stores.tick(&mut self.effects);
                        self.apply_store_effects();
                        self.timers
                            .after(crate::store::actor::TICK, Timer::StoreTick);
                    }
                }
            }
        }
    }

    /// Memory went back to the allocator (a connection closed, a large buffer was freed):
    /// the next [`Timer::Trim`] hands it on to the system.
    fn released_memory(&mut self) {
        self.released = true;
        self.watch_buffers(true);
    }

    /// Schedules a look at the connections' buffers if one of them is `large`.
    fn watch_buffers(&mut self, large: bool) {
        if large && !self.trim_scheduled {
            self.trim_scheduled = true;
            self.timers.after(TRIM_EVERY, Timer::Trim);
        }
    }

    fn answer_sent_waiters(&mut self) {
        if self.sent_waiters.is_empty() {
            return;
        }
        let idle = self.shared.outbox.is_empty()
            && !self.intake.pending
            && self.conns.values().all(|c| c.output_empty())
            && self.spool_idle();
        if idle {
            for w in self.sent_waiters.drain(..) {
                let _ = w.send(Ok(()));
            }
        }
    }
}

impl Drop for Reactor {
    fn drop(&mut self) {
        self.stores.shut_down();
        // Publishers waiting on their fd or blocked in a publish must wake up and learn that
        // the endpoint is gone.
        self.shared.outbox.close();
        self.shared.room.mark_room();
        self.delivery.close_all();
        self.status.close_all();
        self.peers.clear(Some("the endpoint shut down"));
        for w in self.sent_waiters.drain(..) {
            let _ = w.send(Err(Error::new(ErrorKind::Closed, "the endpoint shut down")));
        }
    }
}
