//! A store's master: the authoritative copy in a [`Backend`], the output channel that
//! replicates every change to the clones, and one input channel per clone that writes.
//!
//! - A clone attaches with `nack [0]`; the master adds it to its [`Producer`] and answers
//!   with ack_clone carrying the offset and a snapshot (cached, and repeated as is, until
//!   the clone acknowledges it). The clone repeats its request every nack timeout until the
//!   snapshot is there; a large one takes longer to arrive, so the master repeats it only
//!   once the last copy had time to (at 10 MiB/s), or was lost with the clone's peering.
//! - Every change is applied to the backend, emitted as store events and produced on the
//!   output channel: writes from clones (delivered in order by their writer channels),
//!   local writes from the API, and expiries, checked every tick.
//! - Local reads are answered from the backend, local writes once applied (with the error
//!   when they fail), `AwaitIdle` once every clone has acknowledged every change, every
//!   writer channel is drained and the backend has made every change durable.
//! - A clone's write is acknowledged on its writer channel only once the backend has made
//!   it durable ([`Backend::durable`]): a master killed and restarted on the same SQLite
//!   file has every write a clone was told is done. (A local write is answered before the
//!   disk has it, as the SQLite backend writes behind; `AwaitIdle` waits for the disk.)
//!
//! Addressing is spec §7.4's. Where brook goes beyond Broker, compatibly on the wire:
//! - writer channels are acknowledged on the first tick after progress (Broker waits for
//!   the next heartbeat, up to 500 ms), so a clone's write completes sooner;
//!   [`MasterConfig::eager_acks`] turns this off;
//! - a clone's write that fails here is also reported as a [`StoreOutput::Status`] (Broker
//!   only logs it; the wire has no way to tell the clone);
//! - an ack_clone is cached only until its handshake completes, so a master answering a
//!   re-attaching clone still becomes idle (Broker keeps the second one for good).
//!
//! The master keeps a clone's channels when its peering is lost ([`StoreActor::peer_lost`]
//! only forgets that an ack_clone is on its way): like Broker's, they time out after `heartbeat_interval ×
//! connection_timeout_factor` ticks of silence, so a clone that comes back sooner resumes
//! where it was.

use super::actor::{Request, StoreActor, StoreOutput};
use super::backend::Backend;
use super::channel::{
    ChannelConfig, Consumer, ConsumerMsg, ConsumerOutput, Producer, ProducerMsg, ProducerOutput,
};
use super::command::{ChannelMsg, Command, EntityId, InternalCommand, clone_topic};
use super::ops::{self, StoreError, TimerChange};
use crate::data::{Data, Timestamp, bin};
use crate::wire::{EndpointId, ErrorCode};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// How a master runs its channels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MasterConfig {
    pub channel: ChannelConfig,
    /// Acknowledge a writer's events on the tick after they arrive rather than on the next
    /// heartbeat.
    pub eager_acks: bool,
}

impl Default for MasterConfig {
    fn default() -> MasterConfig {
        MasterConfig {
            channel: ChannelConfig::default(),
            eager_acks: true,
        }
    }
}

/// One clone's writer channel, as the master consumes it.
struct Writer {
    input: Consumer<Command>,
    /// The newest cumulative ack sent.
    acked: u64,
    /// Delivered writes whose changes the backend has not made durable yet: (sequence
    /// number, [`Backend::written`] after applying it), ascending.
    undurable: VecDeque<(u64, u64)>,
}

impl Writer {
    fn new(config: ChannelConfig) -> Writer {
        Writer {
            input: Consumer::new(config),
            acked: 0,
            undurable: VecDeque::new(),
        }
    }

    /// Records that write `seq` was delivered and applied, leaving `written` changes in
    /// a backend that has made `durable` of them durable.
    fn delivered(&mut self, seq: u64, written: u64, durable: u64) {
        if written > durable || !self.undurable.is_empty() {
            self.undurable.push_back((seq, written));
        }
    }

    /// The highest delivered sequence number whose write is durable, given a backend
    /// that has made `durable` changes durable: what may be acknowledged.
    fn durable_seq(&mut self, durable: u64) -> u64 {
        while self
            .undurable
            .front()
            .is_some_and(|&(_, written)| written <= durable)
        {
            self.undurable.pop_front();
        }
        match self.undurable.front() {
            Some(&(seq, _)) => seq - 1,
            None => self.input.next_seq().saturating_sub(1),
        }
    }
}

/// An ack_clone sent to a clone that has not acknowledged it yet.
struct OpenHandshake {
    cmd: InternalCommand,
    /// The output channel's tick when it was last sent, `None` once that copy is lost (the
    /// clone's peering ended).
    sent: Option<u64>,
    /// Ticks a copy may take to arrive: the clone's repeated requests are not answered
    /// sooner, so that a large snapshot still on its way is not queued again and again.
    transit: u64,
}

/// The rate [`OpenHandshake::transit`] assumes a snapshot to arrive at, at the least: a MiB
/// per tick (10 MiB/s). Small snapshots are repeated every nack timeout, as in Broker.
const SNAPSHOT_BYTES_PER_TICK: usize = 1 << 20;

/// A store's master (see the module doc).
pub struct Master {
    name: Vec<u8>,
    me: EntityId,
    clone_topic: Vec<u8>,
    config: MasterConfig,
    backend: Box<dyn Backend>,
    output: Producer<EntityId, Command>,
    writers: BTreeMap<EntityId, Writer>,
    /// The ack_clone sent to each clone whose handshake is not complete yet.
    open_handshakes: BTreeMap<EntityId, OpenHandshake>,
    /// Expiry times by key, and the same ordered by time.
    expiry_of: BTreeMap<Data, Timestamp>,
    timers: BTreeSet<(Timestamp, Data)>,
    /// Requests waiting for `AwaitIdle`.
    idle_waiters: Vec<u64>,
}

impl Master {
    /// A master for store `name`, with entity `me` (its endpoint and an object number
    /// unique there), serving what `backend` holds. The expiry times the backend kept are
    /// armed again.
    pub fn new(
        name: impl Into<Vec<u8>>,
        me: EntityId,
        backend: Box<dyn Backend>,
        config: MasterConfig,
    ) -> Result<Master, StoreError> {
        let name = name.into();
        let mut m = Master {
            clone_topic: clone_topic(&name),
            name,
            me,
            config,
            output: Producer::new(config.channel),
            writers: BTreeMap::new(),
            open_handshakes: BTreeMap::new(),
            expiry_of: BTreeMap::new(),
            timers: BTreeSet::new(),
            idle_waiters: Vec::new(),
            backend,
        };
        for (key, at) in m.backend.expiries()? {
            m.set_timer(key, at);
        }
        Ok(m)
    }

    /// The backend, e.g. to flush an SQLite file before shutdown.
    pub fn backend(&self) -> &dyn Backend {
        &*self.backend
    }

    /// The clones on the output channel (attached or attaching).
    pub fn clones(&self) -> impl Iterator<Item = EntityId> + '_ {
        self.output.paths().iter().map(|p| p.consumer)
    }

    /// The clones that have a writer channel.
    pub fn writers(&self) -> impl Iterator<Item = EntityId> + '_ {
        self.writers.keys().copied()
    }

    /// The expiry time of `key`, if it has one.
    pub fn expiry(&self, key: &Data) -> Option<Timestamp> {
        self.expiry_of.get(key).copied()
    }

    /// True when every clone has acknowledged every change, every writer is drained and
    /// the backend has made every change durable.
    pub fn is_idle(&self) -> bool {
        self.backend.durable() >= self.backend.written()
            && self.output.is_idle()
            && self.open_handshakes.is_empty()
            && self.writers.values().all(|w| w.input.is_idle())
    }

    fn set_timer(&mut self, key: Data, at: Timestamp) {
        if let Some(old) = self.expiry_of.insert(key.clone(), at) {
            self.timers.remove(&(old, key.clone()));
        }
        self.timers.insert((at, key));
    }

    fn remove_timer(&mut self, key: &Data) {
        if let Some(old) = self.expiry_of.remove(key) {
            self.timers.remove(&(old, key.clone()));
        }
    }

    fn command(&self, seq: u64, receiver: EntityId, content: Command) -> InternalCommand {
        InternalCommand {
            seq,
            sender: self.me,
            receiver,
            content,
        }
    }

    fn send(&self, out: &mut Vec<StoreOutput>, to: EndpointId, cmd: InternalCommand) {
        out.push(StoreOutput::Send {
            topic: self.clone_topic.clone(),
            to,
            cmd,
        });
    }

    fn status(&self, out: &mut Vec<StoreOutput>, code: ErrorCode, message: String) {
        let name = String::from_utf8_lossy(&self.name);
        out.push(StoreOutput::Status {
            code,
            message: format!("store {name}: {message}"),
        });
    }

    fn produce(&mut self, content: Command, out: &mut Vec<StoreOutput>) {
        let outs = self.output.produce(content);
        self.on_output(outs, out);
    }

    /// Carries out what the output channel asks for, addressed as spec §7.4 says.
    fn on_output(
        &mut self,
        outs: Vec<ProducerOutput<EntityId, Command>>,
        out: &mut Vec<StoreOutput>,
    ) {
        for o in outs {
            match o {
                ProducerOutput::Broadcast(msg) => {
                    if let Some((seq, content)) = msg.into_command() {
                        let cmd = self.command(seq, EntityId::nil(), content);
                        self.send(out, EndpointId::nil(), cmd);
                    }
                }
                ProducerOutput::Send(
                    to,
                    ProducerMsg::Handshake {
                        offset,
                        heartbeat_interval,
                    },
                ) => {
                    if let Some(cmd) = self.ack_clone(to, offset, heartbeat_interval, out) {
                        self.send(out, to.endpoint, cmd);
                    }
                }
                ProducerOutput::Send(to, msg @ ProducerMsg::Event { .. }) => {
                    if let Some((seq, content)) = msg.into_command() {
                        let cmd = self.command(seq, EntityId::nil(), content);
                        self.send(out, to.endpoint, cmd);
                    }
                }
                ProducerOutput::Send(to, msg) => {
                    if let Some((seq, content)) = msg.into_command() {
                        let cmd = self.command(seq, to, content);
                        self.send(out, to.endpoint, cmd);
                    }
                }
                ProducerOutput::HandshakeCompleted(c) => {
                    self.open_handshakes.remove(&c);
                }
                ProducerOutput::Dropped(c, reason) => {
                    // Broker drops the clone's writer channel with it (same entity).
                    self.open_handshakes.remove(&c);
                    self.writers.remove(&c);
                    self.status(
                        out,
                        ErrorCode::None,
                        format!("dropped clone {c} ({reason:?})"),
                    );
                }
            }
        }
    }

    /// The ack_clone for a clone: the cached one while its handshake is open (unless the
    /// copy sent last may still be on its way), else a new one with a snapshot (cached if
    /// the handshake is still to complete).
    fn ack_clone(
        &mut self,
        to: EntityId,
        offset: u64,
        heartbeat_interval: u16,
        out: &mut Vec<StoreOutput>,
    ) -> Option<InternalCommand> {
        let now = self.output.tick_count();
        if let Some(open) = self.open_handshakes.get_mut(&to) {
            if open.sent.is_some_and(|t| now < t + open.transit) {
                return None; // the clone asks again
            }
            open.sent = Some(now);
            return Some(open.cmd.clone());
        }
        let state = match self.backend.snapshot() {
            Ok(s) => s,
            Err(e) => {
                // The clone asks again every nack timeout.
                self.status(out, e.code(), format!("no snapshot for clone {to}: {e}"));
                return None;
            }
        };
        let bytes: usize = state
            .iter()
            .map(|(k, v)| bin::encoded_len(k).unwrap_or(0) + bin::encoded_len(v).unwrap_or(0))
            .sum();
        let nack_timeout = u64::from(self.config.channel.nack_timeout.max(1));
        let transit = nack_timeout.max((bytes / SNAPSHOT_BYTES_PER_TICK) as u64);
        let cmd = self.command(
            offset,
            to,
            Command::AckClone {
                offset,
                heartbeat_interval,
                state,
            },
        );
        let pending = self
            .output
            .paths()
            .iter()
            .any(|p| p.consumer == to && p.acked == 0);
        if pending {
            let open = OpenHandshake {
                cmd: cmd.clone(),
                sent: Some(now),
                transit,
            };
            self.open_handshakes.insert(to, open);
        }
        Some(cmd)
    }

    /// Applies a change, emits its events and produces its broadcasts. Returns
    /// put_unique's answer.
    fn apply(
        &mut self,
        now: Timestamp,
        cmd: Command,
        out: &mut Vec<StoreOutput>,
    ) -> Result<Option<bool>, StoreError> {
        let fallback = ops::put_unique_failure(&cmd, self.me);
        match ops::apply_at_master(&mut *self.backend, &self.name, now, self.me, cmd) {
            Ok(a) => {
                match a.timer {
                    TimerChange::None => {}
                    TimerChange::Set(k, at) => self.set_timer(k, at),
                    TimerChange::Remove(k) => self.remove_timer(&k),
                    TimerChange::RemoveAll => {
                        self.expiry_of.clear();
                        self.timers.clear();
                    }
                }
                out.extend(a.events.into_iter().map(StoreOutput::Event));
                for b in a.broadcast {
                    self.produce(b, out);
                }
                Ok(a.inserted)
            }
            Err(e) => {
                if let Some(f) = fallback {
                    self.produce(f, out);
                }
                Err(e)
            }
        }
    }

    /// Carries out what a writer channel asks for: acks and nacks back to the clone,
    /// delivered writes applied.
    fn on_input(
        &mut self,
        now: Timestamp,
        writer: EntityId,
        outs: Vec<ConsumerOutput<Command>>,
        out: &mut Vec<StoreOutput>,
    ) {
        for o in outs {
            match o {
                ConsumerOutput::Send(mut msg) => {
                    if let (Some(w), ConsumerMsg::CumulativeAck { seq }) =
                        (self.writers.get_mut(&writer), &mut msg)
                    {
                        // Never ahead of the disk.
                        *seq = (*seq).min(w.durable_seq(self.backend.durable()));
                        w.acked = w.acked.max(*seq);
                    }
                    let cmd = self.command(0, writer, msg.into_command());
                    self.send(out, writer.endpoint, cmd);
                }
                ConsumerOutput::Deliver { seq, content } => {
                    let what = content.name();
                    if let Err((code, message)) = self.apply(now, content, out) {
                        self.status(
                            out,
                            code,
                            format!("{what} from clone {writer} failed: {message}"),
                        );
                    }
                    let (written, durable) = (self.backend.written(), self.backend.durable());
                    if let Some(w) = self.writers.get_mut(&writer) {
                        w.delivered(seq, written, durable);
                    }
                }
                ConsumerOutput::Lost { seq } => self.status(
                    out,
                    ErrorCode::Unspecified,
                    format!("lost write {seq} from clone {writer}"),
                ),
                // A silent writer is dropped with its clone's output path.
                ConsumerOutput::ProducerTimeout => {}
            }
        }
    }

    fn expire(&mut self, now: Timestamp, out: &mut Vec<StoreOutput>) {
        while let Some((at, _)) = self.timers.first() {
            if now <= *at {
                break;
            }
            let Some((_, key)) = self.timers.pop_first() else {
                break;
            };
            self.expiry_of.remove(&key);
            match self.backend.erase(&key) {
                Ok(Some(_)) => {
                    out.push(StoreOutput::Event(ops::expire_event(
                        &self.name, &key, self.me,
                    )));
                    let publisher = self.me;
                    self.produce(Command::Expire { key, publisher }, out);
                }
                Ok(None) => {}
                Err(e) => self.status(out, e.code(), format!("cannot expire a key: {e}")),
            }
        }
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
}

impl StoreActor for Master {
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
        let sender = cmd.sender;
        let attach = matches!(cmd.content, Command::AttachWriter { .. });
        match cmd.into_channel_msg() {
            ChannelMsg::ToProducer(msg) => {
                let outs = self.output.handle(&sender, msg);
                self.on_output(outs, &mut out);
            }
            ChannelMsg::ToConsumer(msg) => {
                let known = self.writers.contains_key(&sender);
                if !known && attach {
                    self.writers
                        .insert(sender, Writer::new(self.config.channel));
                } else if !known || attach {
                    // Actions and heartbeats from strangers, repeated handshakes.
                    return out;
                }
                if let Some(w) = self.writers.get_mut(&sender) {
                    let outs = w.input.handle(msg);
                    self.on_input(now, sender, outs, &mut out);
                }
            }
        }
        self.answer_idle(&mut out);
        out
    }

    fn on_request(&mut self, now: Timestamp, req: Request) -> Vec<StoreOutput> {
        let mut out = Vec::new();
        let id = req.id;
        if req.op.is_await_idle() {
            self.idle_waiters.push(id);
            self.answer_idle(&mut out);
            return out;
        }
        let backend = &self.backend;
        let read = ops::read(
            &req.op,
            |k| backend.get(k).map_err(Into::into),
            || backend.keys().map_err(Into::into),
        );
        let result = match read {
            Some(r) => r,
            None => match ops::write_command(&req.op, self.me, req.who, req.id) {
                Some(cmd) => self
                    .apply(now, cmd, &mut out)
                    .map(|inserted| inserted.map_or(Data::None, Data::Boolean)),
                None => Ok(Data::None),
            },
        };
        out.push(StoreOutput::Reply { id, result });
        self.answer_idle(&mut out);
        out
    }

    fn tick(&mut self, now: Timestamp) -> Vec<StoreOutput> {
        let mut out = Vec::new();
        let outs = self.output.tick();
        self.on_output(outs, &mut out);
        let writers: Vec<EntityId> = self.writers.keys().copied().collect();
        for w in writers {
            let Some(writer) = self.writers.get_mut(&w) else {
                continue;
            };
            let outs = writer.input.tick();
            self.on_input(now, w, outs, &mut out);
            if self.config.eager_acks {
                self.ack_writer(w, &mut out);
            }
        }
        self.expire(now, &mut out);
        while let Some(e) = self.backend.take_failure() {
            self.status(&mut out, e.code(), e.message);
        }
        self.answer_idle(&mut out);
        out
    }

    fn peer_lost(&mut self, _now: Timestamp, peer: EndpointId) -> Vec<StoreOutput> {
        // An ack_clone on its way to that peer is lost: answer the clone's next request.
        for (c, open) in self.open_handshakes.iter_mut() {
            if c.endpoint == peer {
                open.sent = None;
            }
        }
        Vec::new()
    }

    fn durable(&mut self, now: Timestamp) -> Vec<StoreOutput> {
        let mut out = self.flush(now);
        self.answer_idle(&mut out);
        out
    }

    fn flush(&mut self, _now: Timestamp) -> Vec<StoreOutput> {
        let mut out = Vec::new();
        if self.config.eager_acks {
            let writers: Vec<EntityId> = self.writers.keys().copied().collect();
            for w in writers {
                self.ack_writer(w, &mut out);
            }
        }
        out
    }
}

impl Master {
    /// Acknowledges what writer `w` delivered since the last acknowledgement.
    fn ack_writer(&mut self, w: EntityId, out: &mut Vec<StoreOutput>) {
        let Some(writer) = self.writers.get_mut(&w) else {
            return;
        };
        if !writer.input.is_initialized() {
            return;
        }
        let seq = writer.durable_seq(self.backend.durable());
        if seq > writer.acked {
            writer.acked = seq;
            let cmd = self.command(0, w, Command::CumulativeAck { seq });
            self.send(out, w.endpoint, cmd);
        }
    }
}
