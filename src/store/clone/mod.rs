//! A clone of a store: a replica of the master's data, kept current by the master's
//! output channel, and a writer channel that carries the clone's writes to the master.
//!
//! Attaching (spec §7.5): the clone asks with `nack [0]` (with its first call, then every
//! nack timeout), takes the first ack_clone addressed to it as its snapshot (replacing the
//! replica and emitting store events for the differences), then opens its writer channel
//! with attach_writer. Writes are never applied locally: they go to the master, and their
//! effect shows when the master's broadcast comes back.
//!
//! Answers:
//! - Reads come from the replica. Before the first snapshot they wait, at most
//!   [`CloneConfig::max_get_delay`], then fail with `stale_data` (Broker's behaviour).
//! - A write is answered once the master has acknowledged it on the writer channel and
//!   this clone has applied every broadcast the master sent before that acknowledgement:
//!   read-your-writes. Broker's protocol has no error reply, so the clone infers the
//!   outcome: the master broadcasts the result of each of this clone's writes, in order and
//!   labelled with this clone as publisher, so a write whose result is missing from that
//!   sequence failed. For add and subtract the clone recomputes the result from the value
//!   the master had (its replica just before the broadcast) and so also tells which error
//!   it was (`type_clash`, `no_such_key`, `invalid_data`); for put and clear a missing
//!   result is a `backend_failure`; an erase without a broadcast found no key and
//!   succeeded. A failure is answered to the request and reported as a status. This holds
//!   with any master that behaves as spec §7.7 says, Broker's included.
//! - put_unique is answered by the master's put_unique_result, `AwaitIdle` once no write
//!   is unanswered and the writer channel is acknowledged.
//!
//! Beyond Broker (issue 4 §4; Broker 1.x's `stale_interval`, `mutation_buffer_interval`
//! and `resync_interval`):
//! - The master counts as lost when its peering ends ([`StoreActor::peer_lost`]), when it
//!   has been silent for `heartbeat_interval × connection_timeout_factor` ticks, or when
//!   the writer channel times out. The clone keeps its channels and replica, reports a
//!   status, keeps answering reads from the replica for [`CloneConfig::stale_interval`],
//!   and after that answers them with `stale_data` (the error, rather than possibly wrong
//!   values with a warning). Writes issued meanwhile wait, at most
//!   [`CloneConfig::mutation_buffer_interval`], then fail with `no_such_master`. Writes
//!   already sent wait as long, counted from the loss: then those the master acknowledged
//!   succeed and the others fail with `request_timeout` (they may or may not have been
//!   applied), so that every write is answered in bounded time. They stay on the writer
//!   channel, answered: a master that comes back on it still applies each of them once,
//!   and their broadcasts are not mistaken for those of later writes.
//! - While it has no master the clone sends `nack [0]` every
//!   [`CloneConfig::resync_interval`]. The same master addressing this clone again (the
//!   repeated handshake, or the writer channel's acks, which come every heartbeat; not its
//!   broadcasts, which a master that dropped this clone still sends) resumes both channels
//!   where they were, with no data lost. A different master, or the same one that has
//!   forgotten this clone (its ack_clone has a new offset), is a resync: the replica is
//!   replaced by the new snapshot, a new writer channel opens, writes the old master never
//!   acknowledged fail with `request_timeout` (they may or may not have been applied), and
//!   waiting writes go to the new master.
//! - A clone whose master skips events it can no longer retransmit (retransmit_failed)
//!   goes on ([`LostPolicy::Skip`]): that only happens after a re-handshake on a path the
//!   master kept, and then the lost events are a prefix of those the snapshot already
//!   includes (the master only discards what this clone acknowledged before it asked
//!   again), while the rest replay onto the snapshot idempotently, because every action a
//!   master broadcasts sets or removes a value absolutely. Resetting instead, as Broker's
//!   clone does, can never recover: the master keeps the path and re-sends the same
//!   handshake (spec §7.12).
//! - A gap that stays unfilled for [`STALL_NACK_ROUNDS`] nack rounds means the master no
//!   longer knows this clone (it ignores nacks from strangers); the clone then asks for a
//!   new handshake.

mod writes;
use writes::{OwnEvent, Pending, Stalled, no_master};

use super::actor::{Op, Request, StoreActor, StoreOutput, TICK};
use super::channel::{
    ChannelConfig, Consumer, ConsumerOutput, DropReason, LostPolicy, Producer, ProducerMsg,
    ProducerOutput,
};
use super::command::{ChannelMsg, Command, CommandClass, EntityId, InternalCommand, master_topic};
use super::ops::{self, StoreError};
use crate::data::{Data, DataType, Timespan, Timestamp};
use crate::wire::{EndpointId, ErrorCode};
use std::clone::Clone as _;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

/// Nack rounds without progress on a gap after which the clone asks for a new handshake.
pub const STALL_NACK_ROUNDS: u64 = 10;

/// How a clone behaves when it has no master.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CloneConfig {
    pub channel: ChannelConfig,
    /// How long reads wait for the first snapshot before failing with `stale_data`
    /// (Broker's `broker.store.max-get-delay`, 5 s).
    pub max_get_delay: Duration,
    /// How long after losing its master the clone still answers reads from its replica;
    /// after that they fail with `stale_data` until the master is back. `None`: always
    /// answer. Zeek's default for Broker 1.x clones, 5 minutes.
    pub stale_interval: Option<Duration>,
    /// How long a write issued while the clone has no master waits for one before failing
    /// with `no_such_master`; zero fails at once. Writes in flight when the master went
    /// away wait as long from then, and fail with `request_timeout` unless the master
    /// acknowledged them. Zeek's default for Broker 1.x clones, 2 minutes.
    pub mutation_buffer_interval: Duration,
    /// How often a clone without a master asks for one (`nack [0]`); the nack timeout, 200
    /// ms, by default.
    pub resync_interval: Duration,
}

impl Default for CloneConfig {
    fn default() -> CloneConfig {
        let channel = ChannelConfig::default();
        CloneConfig {
            channel,
            max_get_delay: Duration::from_secs(5),
            stale_interval: Some(Duration::from_secs(300)),
            mutation_buffer_interval: Duration::from_secs(120),
            resync_interval: TICK * u32::from(channel.nack_timeout),
        }
    }
}

fn after(t: Timestamp, d: Duration) -> Timestamp {
    Timestamp(t.0.saturating_add(Timespan::from(d).0))
}

/// A clone of a store (see the module doc).
pub struct Clone {
    name: Vec<u8>,
    me: EntityId,
    master_topic: Vec<u8>,
    config: CloneConfig,
    replica: BTreeMap<Data, Data>,
    input: Consumer<Command>,
    master: Option<EntityId>,
    /// The offset of the handshake the input channel was started with.
    offset: u64,
    writer: Option<Producer<EntityId, Command>>,
    has_snapshot: bool,
    /// When the master was lost; `None` while it is there (or before the first snapshot).
    detached_since: Option<Timestamp>,
    stale_reported: bool,
    last_resync: Timestamp,
    started: bool,
    /// Reads waiting for the first snapshot, with their deadlines.
    waiting_reads: Vec<(Request, Timestamp)>,
    stalled: VecDeque<Stalled>,
    writes: VecDeque<Pending>,
    own_events: VecDeque<OwnEvent>,
    /// put_unique requests waiting for their result: (who, request id).
    unique: BTreeSet<(EntityId, u64)>,
    idle_waiters: Vec<u64>,
    stall_ticks: u64,
    stall_seq: u64,
    /// Why the master counts as lost, noticed inside a channel's outputs.
    pending_loss: Option<String>,
}

impl Clone {
    /// A clone of store `name` with entity `me` (its endpoint and an object number unique
    /// there; the same entity serves its input and writer channels). It asks for its master
    /// with the outputs of its first call.
    pub fn new(name: impl Into<Vec<u8>>, me: EntityId, config: CloneConfig) -> Clone {
        let name = name.into();
        Clone {
            master_topic: master_topic(&name),
            name,
            me,
            config,
            replica: BTreeMap::new(),
            input: Clone::consumer(config),
            master: None,
            offset: 0,
            writer: None,
            has_snapshot: false,
            detached_since: None,
            stale_reported: false,
            last_resync: Timestamp::default(),
            started: false,
            waiting_reads: Vec::new(),
            stalled: VecDeque::new(),
            writes: VecDeque::new(),
            own_events: VecDeque::new(),
            unique: BTreeSet::new(),
            idle_waiters: Vec::new(),
            stall_ticks: 0,
            stall_seq: 0,
            pending_loss: None,
        }
    }

    fn consumer(config: CloneConfig) -> Consumer<Command> {
        Consumer::new(config.channel).with_lost_policy(LostPolicy::Skip)
    }

    /// The replica.
    pub fn replica(&self) -> &BTreeMap<Data, Data> {
        &self.replica
    }

    /// The master's entity, once one answered.
    pub fn master(&self) -> Option<EntityId> {
        self.master
    }

    /// True once a snapshot arrived and while the master is there.
    pub fn is_attached(&self) -> bool {
        self.has_snapshot && self.detached_since.is_none()
    }

    /// True when no write is unanswered and the writer channel is acknowledged.
    pub fn is_idle(&self) -> bool {
        self.stalled.is_empty()
            && self.writes.iter().all(|p| p.answered)
            && self.writer.as_ref().is_none_or(|w| w.is_idle())
    }

    fn status(&self, out: &mut Vec<StoreOutput>, code: ErrorCode, message: String) {
        let name = String::from_utf8_lossy(&self.name);
        out.push(StoreOutput::Status {
            code,
            message: format!("store {name}: {message}"),
        });
    }

    fn send(
        &self,
        out: &mut Vec<StoreOutput>,
        to: EndpointId,
        seq: u64,
        rcv: EntityId,
        c: Command,
    ) {
        out.push(StoreOutput::Send {
            topic: self.master_topic.clone(),
            to,
            cmd: InternalCommand {
                seq,
                sender: self.me,
                receiver: rcv,
                content: c,
            },
        });
    }

    fn master_or_nil(&self) -> EntityId {
        self.master.unwrap_or_default()
    }

    fn ask_for_handshake(&self, out: &mut Vec<StoreOutput>) {
        let m = self.master_or_nil();
        self.send(
            out,
            EndpointId::nil(),
            0,
            m,
            Command::Nack { seqs: vec![0] },
        );
    }

    fn start(&mut self, now: Timestamp, out: &mut Vec<StoreOutput>) {
        if !self.started {
            self.started = true;
            self.last_resync = now;
            self.ask_for_handshake(out);
        }
    }

    /// The highest sequence number the input channel has received.
    fn input_highest(&self) -> u64 {
        let delivered = self.input.next_seq().saturating_sub(1);
        delivered.max(self.input.buffered().last().unwrap_or(0))
    }

    // ---- the input channel ----

    fn on_input(&mut self, outs: Vec<ConsumerOutput<Command>>, out: &mut Vec<StoreOutput>) {
        for o in outs {
            match o {
                ConsumerOutput::Send(msg) => {
                    let m = self.master_or_nil();
                    let to = if self.input.is_initialized() {
                        m.endpoint
                    } else {
                        EndpointId::nil()
                    };
                    self.send(out, to, 0, m, msg.into_command());
                }
                ConsumerOutput::Deliver { content, .. } => self.deliver(content, out),
                ConsumerOutput::Lost { seq } => self.status(
                    out,
                    ErrorCode::None,
                    format!("event {seq} is no longer at the master; the snapshot covers it"),
                ),
                ConsumerOutput::ProducerTimeout => {
                    let why = "the master has been silent too long".to_string();
                    self.pending_loss = Some(why);
                }
            }
        }
    }

    /// Applies one of the master's broadcasts.
    fn deliver(&mut self, cmd: Command, out: &mut Vec<StoreOutput>) {
        if let Command::PutUniqueResult {
            inserted,
            who,
            req_id,
            ..
        } = cmd
        {
            if self.unique.remove(&(who, req_id)) {
                out.push(StoreOutput::Reply {
                    id: req_id,
                    result: Ok(Data::Boolean(inserted)),
                });
            }
            // Also for one answered already: resolving it takes its put's broadcast.
            if let Some(p) = self.writes.iter_mut().find(|p| {
                matches!(&p.cmd, Command::PutUnique { who: w, req_id: r, .. }
                    if *w == who && *r == req_id)
            }) {
                p.inserted = Some(inserted);
            }
            return;
        }
        let own = match &cmd {
            Command::Put { publisher, .. }
            | Command::Erase { publisher, .. }
            | Command::Clear { publisher } => *publisher == self.me,
            _ => false,
        };
        if own && !self.writes.is_empty() {
            let before = match &cmd {
                Command::Put { key, .. } => self.replica.get(key).cloned(),
                _ => None,
            };
            self.own_events.push_back(OwnEvent {
                cmd: cmd.clone(),
                before,
            });
        }
        let events = ops::apply_at_clone(&mut self.replica, &self.name, &cmd);
        out.extend(events.into_iter().map(StoreOutput::Event));
    }

    // ---- the writer channel ----

    fn on_writer(
        &mut self,
        outs: Vec<ProducerOutput<EntityId, Command>>,
        out: &mut Vec<StoreOutput>,
    ) {
        let m = self.master_or_nil();
        for o in outs {
            match o {
                ProducerOutput::Broadcast(ProducerMsg::Keepalive { seq }) => self.send(
                    out,
                    EndpointId::nil(),
                    0,
                    EntityId::nil(),
                    Command::Keepalive { seq },
                ),
                ProducerOutput::Broadcast(msg) | ProducerOutput::Send(_, msg) => match msg {
                    ProducerMsg::Handshake {
                        offset,
                        heartbeat_interval,
                    } => self.send(
                        out,
                        EndpointId::nil(),
                        0,
                        m,
                        Command::AttachWriter {
                            offset,
                            heartbeat_interval,
                        },
                    ),
                    msg => {
                        if let Some((seq, content)) = msg.into_command() {
                            self.send(out, EndpointId::nil(), seq, m, content);
                        }
                    }
                },
                ProducerOutput::HandshakeCompleted(_) => {}
                ProducerOutput::Dropped(_, reason) => {
                    let why = match reason {
                        DropReason::Timeout => "the master stopped acknowledging writes",
                        DropReason::InvalidNack => "the master sent an invalid nack",
                    };
                    // The path is added again when the master is back.
                    self.pending_loss = Some(why.to_string());
                }
            }
        }
    }

    /// Hands a write to the writer channel, or keeps it until there is one.
    fn lose_master(&mut self, now: Timestamp, why: &str, out: &mut Vec<StoreOutput>) {
        if self.detached_since.is_some() || !self.has_snapshot {
            return;
        }
        self.detached_since = Some(now);
        self.stale_reported = false;
        self.last_resync = now;
        self.status(
            out,
            ErrorCode::NoSuchMaster,
            format!("lost the master ({why}); serving the replica, buffering writes"),
        );
        self.ask_for_handshake(out);
    }

    fn master_back(&mut self, now: Timestamp, out: &mut Vec<StoreOutput>) {
        if self.detached_since.take().is_some() {
            self.status(out, ErrorCode::None, "the master is back".to_string());
            // The wait for missing broadcasts starts again: its keepalives are to come.
            let heard = self.input.heard();
            for p in self.writes.iter_mut().filter(|p| p.acked) {
                p.acked_heard = heard;
            }
            self.open_writer(out);
            self.flush_stalled(now, out);
        }
    }

    /// Opens the writer channel, or adds the master to it again after it dropped the
    /// master (a timeout). In the second case the numbering goes on, so a master that kept
    /// its end of the channel carries on with it, and one that dropped it starts a new one
    /// from the new handshake.
    fn open_writer(&mut self, out: &mut Vec<StoreOutput>) {
        let Some(m) = self.master else {
            return;
        };
        let w = self
            .writer
            .get_or_insert_with(|| Producer::new(self.config.channel).with_repeated_handshakes());
        if !w.paths().is_empty() {
            return;
        }
        let outs = w.add(m);
        self.on_writer(outs, out);
    }

    /// Takes an ack_clone addressed to this clone, if it starts (or restarts) the input
    /// channel: the first one; one from another master while this clone has none; one
    /// with a new offset from the current master (it re-added this clone); any one while
    /// the input waits for a handshake.
    fn on_ack_clone(
        &mut self,
        now: Timestamp,
        sender: EntityId,
        offset: u64,
        heartbeat_interval: u16,
        state: Vec<(Data, Data)>,
        out: &mut Vec<StoreOutput>,
    ) {
        let same_master = self.master == Some(sender);
        let accept = !self.input.is_initialized()
            || (same_master && offset != self.offset)
            || (!same_master && self.detached_since.is_some());
        if !accept {
            if same_master {
                self.master_back(now, out);
            }
            return;
        }
        let resync = self.has_snapshot;
        let new_master = !same_master;
        if resync && (new_master || offset != self.offset) {
            // The old writer channel is gone with the old path.
            self.abandon_writes(out);
            self.writer = None;
        }
        self.master = Some(sender);
        self.offset = offset;
        self.input = Clone::consumer(self.config);
        self.stall_ticks = 0;
        let events = ops::replace_replica(&mut self.replica, &self.name, state, sender);
        out.extend(events.into_iter().map(StoreOutput::Event));
        let first = !self.has_snapshot;
        self.has_snapshot = true;
        let outs = self.input.handle(ProducerMsg::Handshake {
            offset,
            heartbeat_interval,
        });
        self.on_input(outs, out);
        self.open_writer(out);
        if resync {
            self.status(
                out,
                ErrorCode::None,
                format!("resynchronized from master {sender}"),
            );
        }
        self.detached_since = None;
        self.flush_stalled(now, out);
        if first {
            for (req, _) in std::mem::take(&mut self.waiting_reads) {
                let result = self.read(&req.op);
                out.push(StoreOutput::Reply { id: req.id, result });
            }
        }
    }

    /// Answers the writes of a writer channel that is gone.
    fn is_stale(&self, now: Timestamp) -> bool {
        match (self.detached_since, self.config.stale_interval) {
            (Some(since), Some(d)) => now >= after(since, d),
            _ => false,
        }
    }

    fn read(&self, op: &Op) -> Result<Data, StoreError> {
        let r = ops::read(
            op,
            |k| Ok(self.replica.get(k).cloned()),
            || Ok(self.replica.keys().cloned().collect()),
        );
        r.unwrap_or(Ok(Data::None))
    }

    fn answer_idle(&mut self, out: &mut Vec<StoreOutput>) {
        if !self.idle_waiters.is_empty() && self.is_idle() {
            for id in self.idle_waiters.drain(..) {
                out.push(StoreOutput::Reply {
                    id,
                    result: Ok(Data::None),
                });
            }
        }
    }

    fn finish(&mut self, now: Timestamp, out: &mut Vec<StoreOutput>) {
        if let Some(why) = self.pending_loss.take() {
            self.lose_master(now, &why, out);
        }
        self.expire_writes(now, out);
        self.resolve(out);
        self.answer_idle(out);
    }
}

impl StoreActor for Clone {
    fn name(&self) -> &[u8] {
        &self.name
    }

    fn entity(&self) -> EntityId {
        self.me
    }

    fn on_command(
        &mut self,
        now: Timestamp,
        _from: EndpointId,
        cmd: InternalCommand,
    ) -> Vec<StoreOutput> {
        let mut out = Vec::new();
        self.start(now, &mut out);
        let from_master = self.master == Some(cmd.sender);
        let for_me = cmd.receiver == self.me;
        let class = cmd.content.class();
        if self.input.is_initialized() && !from_master {
            // Only a new master's ack_clone may come from elsewhere.
            if !(for_me && matches!(cmd.content, Command::AckClone { .. })) {
                return out;
            }
        }
        if from_master && for_me && !matches!(cmd.content, Command::AckClone { .. }) {
            // The master is there and knows this clone: it addresses it (acks for the
            // writer channel come every heartbeat). Its broadcasts would not tell: a master
            // that dropped this clone still sends them. Its ack_clone is judged on its own.
            self.master_back(now, &mut out);
        }
        let sender = cmd.sender;
        match class {
            CommandClass::Action => {
                if let ChannelMsg::ToConsumer(msg) = cmd.into_channel_msg() {
                    let outs = self.input.handle(msg);
                    self.on_input(outs, &mut out);
                }
            }
            CommandClass::ProducerControl => match cmd.content {
                Command::AckClone {
                    offset,
                    heartbeat_interval,
                    state,
                } if for_me => {
                    self.on_ack_clone(now, sender, offset, heartbeat_interval, state, &mut out);
                }
                // Broker's clone ignores the master's keepalive (receiver nil); this one
                // uses it to notice lost trailing events.
                Command::Keepalive { seq } if from_master && (for_me || cmd.receiver.is_nil()) => {
                    let outs = self.input.handle(ProducerMsg::Keepalive { seq });
                    self.on_input(outs, &mut out);
                }
                Command::RetransmitFailed { seq } if from_master && for_me => {
                    let outs = self.input.handle(ProducerMsg::RetransmitFailed { seq });
                    self.on_input(outs, &mut out);
                }
                _ => {}
            },
            CommandClass::ConsumerControl => {
                if for_me
                    && from_master
                    && let ChannelMsg::ToProducer(msg) = cmd.into_channel_msg()
                    && let Some(w) = self.writer.as_mut()
                {
                    let outs = w.handle(&sender, msg);
                    self.on_writer(outs, &mut out);
                    self.on_writer_ack();
                }
            }
        }
        self.finish(now, &mut out);
        out
    }

    fn on_request(&mut self, now: Timestamp, req: Request) -> Vec<StoreOutput> {
        let mut out = Vec::new();
        self.start(now, &mut out);
        if req.op.is_await_idle() {
            self.idle_waiters.push(req.id);
        } else if let Some(cmd) = ops::write_command(&req.op, self.me, req.who, req.id) {
            if let Command::PutUnique { who, req_id, .. } = &cmd {
                self.unique.insert((*who, *req_id));
            }
            self.write(now, req.id, cmd, &mut out);
        } else if !self.has_snapshot {
            let deadline = after(now, self.config.max_get_delay);
            self.waiting_reads.push((req, deadline));
        } else if self.is_stale(now) {
            out.push(StoreOutput::Reply {
                id: req.id,
                result: Err(stale()),
            });
        } else {
            let result = self.read(&req.op);
            out.push(StoreOutput::Reply { id: req.id, result });
        }
        self.finish(now, &mut out);
        out
    }

    fn tick(&mut self, now: Timestamp) -> Vec<StoreOutput> {
        let mut out = Vec::new();
        self.start(now, &mut out);
        let outs = self.input.tick();
        self.on_input(outs, &mut out);
        if let Some(w) = self.writer.as_mut() {
            let outs = w.tick();
            self.on_writer(outs, &mut out);
        }
        // A gap the master does not fill: it no longer knows this clone.
        let nack_timeout = u64::from(self.config.channel.nack_timeout.max(1));
        // (Not while the master is lost: then nobody answers, and the channel is to resume
        // as it was.)
        if self.detached_since.is_none() && self.input.is_initialized() && !self.input.is_idle() {
            if self.input.next_seq() == self.stall_seq {
                self.stall_ticks += 1;
            } else {
                self.stall_seq = self.input.next_seq();
                self.stall_ticks = 0;
            }
            if self.stall_ticks >= STALL_NACK_ROUNDS * nack_timeout {
                self.stall_ticks = 0;
                self.input.reset();
                self.status(
                    &mut out,
                    ErrorCode::None,
                    "the master ignores this clone's nacks; asking for a new snapshot".into(),
                );
                self.ask_for_handshake(&mut out);
            }
        } else {
            self.stall_ticks = 0;
        }
        if self.detached_since.is_some()
            && now >= after(self.last_resync, self.config.resync_interval)
        {
            self.last_resync = now;
            self.ask_for_handshake(&mut out);
        }
        if self.is_stale(now) && !self.stale_reported {
            self.stale_reported = true;
            self.status(
                &mut out,
                ErrorCode::StaleData,
                "the master has been gone for the stale interval; reads fail with stale_data"
                    .into(),
            );
        }
        // Waits that ran out.
        let (expired, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.waiting_reads)
            .into_iter()
            .partition(|(_, deadline)| now >= *deadline);
        self.waiting_reads = waiting;
        for (req, _) in expired {
            out.push(StoreOutput::Reply {
                id: req.id,
                result: Err(stale()),
            });
        }
        while self.stalled.front().is_some_and(|s| now >= s.deadline) {
            if let Some(s) = self.stalled.pop_front() {
                self.fail_write(s.id, &s.cmd, no_master(), &mut out);
            }
        }
        self.finish(now, &mut out);
        out
    }

    fn peer_lost(&mut self, now: Timestamp, peer: EndpointId) -> Vec<StoreOutput> {
        let mut out = Vec::new();
        if self.master.is_some_and(|m| m.endpoint == peer) {
            self.lose_master(now, "its peering ended", &mut out);
        }
        self.finish(now, &mut out);
        out
    }
}

fn stale() -> StoreError {
    (
        ErrorCode::StaleData,
        "the clone has no current data from its master".to_string(),
    )
}
