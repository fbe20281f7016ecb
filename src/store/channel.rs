//! Broker's channel protocol (spec §7.3, §7.10): reliable, ordered delivery from one
//! [`Producer`] to any number of [`Consumer`]s over a link that may lose, duplicate or
//! reorder messages.
//!
//! Both are pure state machines, like the handshake's: the owner feeds them what arrived
//! ([`Producer::handle`], [`Consumer::handle`]), what the application produced
//! ([`Producer::produce`]) and the passing of time ([`Producer::tick`], [`Consumer::tick`],
//! once per tick interval, [`DEFAULT_TICK_INTERVAL`]), and each call returns, in order, the
//! messages to send and the events to act on. Nothing here knows about topics, entities or
//! sockets: a consumer is addressed by an owner-chosen handle `H` (the store uses
//! [`EntityId`](super::EntityId)) and events carry an owner-chosen payload `P` (the store
//! uses [`Command`](super::Command)). `P` is cloned for every send, so a large payload
//! belongs behind an `Rc`.
//!
//! Sequence numbers: the producer's counter starts at 1, so the first event is 2 and an
//! acknowledged value of 0 means "nothing yet". A consumer acknowledges `s` when it has
//! delivered every event up to `s`; it nacks the numbers it misses, and `nack [0]` asks for
//! the handshake (a new consumer's way of attaching).
//!
//! Where brook differs from Broker, always towards safety against a faulty peer:
//! - the out-of-order buffer keeps at most [`MAX_OUT_OF_ORDER`] events (the lowest
//!   numbers; the rest are nacked later) and a nack lists at most [`MAX_NACK_SEQS`]
//!   numbers, so a bogus sequence number cannot make a consumer allocate without bound;
//! - a producer answers a duplicated number in a nack once, and ignores acks from
//!   consumers it does not know (Broker's only effect for those is a no-op trim);
//! - a handshake counts events buffered before it as known, so a gap among them is nacked
//!   at once rather than after the next event or keepalive;
//! - a consumer reports [`ConsumerOutput::ProducerTimeout`] after
//!   `heartbeat_interval × connection_timeout_factor` ticks without a word from the
//!   producer (Broker's consumer never times out), and can reset itself on a lost event
//!   ([`LostPolicy::Reset`]) so that its owner can resynchronise.

use std::collections::VecDeque;
use std::time::Duration;

/// Broker's default tick (`broker.store.tick-interval`).
pub const DEFAULT_TICK_INTERVAL: Duration = Duration::from_millis(100);

/// The most events a consumer holds while it waits for a missing one.
pub const MAX_OUT_OF_ORDER: usize = 1 << 16;

/// The most sequence numbers one nack of a consumer lists.
pub const MAX_NACK_SEQS: usize = 1 << 12;

/// Timing of a channel, in ticks (spec §7.3). A consumer takes the heartbeat interval from
/// its producer's handshake instead of its own configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChannelConfig {
    /// Ticks between keepalives of an idle producer, and between a consumer's acks
    /// (`broker.store.heartbeat-interval`, 5). 0 turns heartbeats and timeouts off.
    pub heartbeat_interval: u16,
    /// Ticks without progress before a consumer nacks a gap, and between its handshake
    /// requests (`broker.store.nack-timeout`, 2).
    pub nack_timeout: u16,
    /// Heartbeat intervals of silence after which the other side counts as gone
    /// (`broker.store.connection-timeout`, 100).
    pub connection_timeout_factor: u16,
}

impl Default for ChannelConfig {
    fn default() -> ChannelConfig {
        ChannelConfig {
            heartbeat_interval: 5,
            nack_timeout: 2,
            connection_timeout_factor: 100,
        }
    }
}

/// A message from a producer to a consumer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProducerMsg<P> {
    /// Starts (or restarts) a consumer: events after `offset` are its to deliver.
    Handshake {
        offset: u64,
        heartbeat_interval: u16,
    },
    Event {
        seq: u64,
        content: P,
    },
    /// The producer is alive and its newest event is `seq`.
    Keepalive {
        seq: u64,
    },
    /// Event `seq` was asked for but is no longer buffered: it is lost.
    RetransmitFailed {
        seq: u64,
    },
}

/// A message from a consumer to its producer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ConsumerMsg {
    /// Every event up to `seq` was delivered.
    CumulativeAck { seq: u64 },
    /// These events are missing (ascending); `[0]` asks for the handshake.
    Nack { seqs: Vec<u64> },
}

impl ConsumerMsg {
    /// `nack [0]`: asks the producer for the handshake, and so to be added.
    pub fn handshake_request() -> ConsumerMsg {
        ConsumerMsg::Nack { seqs: vec![0] }
    }
}

/// Why a producer removed a consumer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// Nothing heard for `heartbeat_interval × connection_timeout_factor` ticks.
    Timeout,
    /// A nack whose numbers were not ascending (Broker's `invalid_message`).
    InvalidNack,
}

/// What a call on a [`Producer`] asks its owner to do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProducerOutput<H, P> {
    /// Send to every consumer (in the store: envelope receiver nil, on the topic).
    Broadcast(ProducerMsg<P>),
    /// Send to this consumer only.
    Send(H, ProducerMsg<P>),
    /// The consumer acknowledged its handshake for the first time.
    HandshakeCompleted(H),
    /// The consumer was removed from the channel.
    Dropped(H, DropReason),
}

/// A consumer as its producer sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path<H> {
    pub consumer: H,
    /// The producer's sequence number when the consumer was added: its handshake offset.
    pub offset: u64,
    /// The consumer's newest cumulative ack; 0 until it acknowledges the handshake.
    pub acked: u64,
    /// The tick of the last ack or nack from it.
    pub last_seen: u64,
}

/// The sending end of a channel: numbers events, keeps them until every consumer has
/// acknowledged them, retransmits on nack and keeps idle consumers informed.
#[derive(Clone, Debug)]
pub struct Producer<H, P> {
    config: ChannelConfig,
    repeat_handshakes: bool,
    seq: u64,
    tick: u64,
    last_broadcast: u64,
    /// Unacknowledged events, consecutive and ascending.
    buf: VecDeque<(u64, P)>,
    paths: Vec<Path<H>>,
}

impl<H: Clone + Eq, P: Clone> Producer<H, P> {
    /// A producer with no consumers, at sequence number 1 and tick 1.
    pub fn new(config: ChannelConfig) -> Producer<H, P> {
        Producer {
            config,
            repeat_handshakes: false,
            seq: 1,
            tick: 1,
            last_broadcast: 1,
            buf: VecDeque::new(),
            paths: Vec::new(),
        }
    }

    /// Makes every keepalive also resend the handshake to consumers that have not yet
    /// acknowledged it. A writer channel needs this: its consumer (the master) only learns
    /// of the channel from the handshake, so a lost attach_writer would otherwise stall it.
    pub fn with_repeated_handshakes(mut self) -> Producer<H, P> {
        self.repeat_handshakes = true;
        self
    }

    pub fn config(&self) -> &ChannelConfig {
        &self.config
    }

    /// The sequence number of the newest event (1 before the first).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The number the next produced event gets.
    pub fn next_seq(&self) -> u64 {
        self.seq + 1
    }

    /// Ticks so far, starting at 1.
    pub fn tick_count(&self) -> u64 {
        self.tick
    }

    pub fn paths(&self) -> &[Path<H>] {
        &self.paths
    }

    /// The sequence numbers still held for retransmission, ascending.
    pub fn buffered(&self) -> impl Iterator<Item = u64> + '_ {
        self.buf.iter().map(|(s, _)| *s)
    }

    /// True when every consumer has acknowledged every event.
    pub fn is_idle(&self) -> bool {
        self.paths.iter().all(|p| p.acked == self.seq)
    }

    /// True while some consumer has not acknowledged its handshake.
    pub fn has_pending_paths(&self) -> bool {
        self.paths.iter().any(|p| p.acked == 0)
    }

    /// Numbers `content` as the next event, keeps it and broadcasts it. Without consumers
    /// the event is dropped and no number is used, as in Broker.
    pub fn produce(&mut self, content: P) -> Vec<ProducerOutput<H, P>> {
        if self.paths.is_empty() {
            return Vec::new();
        }
        self.seq += 1;
        self.last_broadcast = self.tick;
        self.buf.push_back((self.seq, content.clone()));
        vec![ProducerOutput::Broadcast(ProducerMsg::Event {
            seq: self.seq,
            content,
        })]
    }

    /// Adds `consumer` at the current sequence number and sends it the handshake. Does
    /// nothing for a consumer already on the channel.
    pub fn add(&mut self, consumer: H) -> Vec<ProducerOutput<H, P>> {
        if self.find(&consumer).is_some() {
            return Vec::new();
        }
        self.paths.push(Path {
            consumer: consumer.clone(),
            offset: self.seq,
            acked: 0,
            last_seen: self.tick,
        });
        let hs = self.handshake(self.seq);
        vec![ProducerOutput::Send(consumer, hs)]
    }

    /// Removes `consumer` (e.g. its peer went away), freeing the events only it still
    /// needed. Returns whether it was on the channel.
    pub fn remove(&mut self, consumer: &H) -> bool {
        let Some(i) = self.find(consumer) else {
            return false;
        };
        self.paths.remove(i);
        self.trim();
        true
    }

    /// Handles an ack or nack from `from`.
    pub fn handle(&mut self, from: &H, msg: ConsumerMsg) -> Vec<ProducerOutput<H, P>> {
        let mut out = Vec::new();
        match msg {
            ConsumerMsg::CumulativeAck { seq } => self.on_ack(from, seq, &mut out),
            ConsumerMsg::Nack { seqs } => self.on_nack(from, &seqs, &mut out),
        }
        out
    }

    /// Advances time by one tick: a keepalive when nothing was broadcast for a heartbeat
    /// interval, and removal of consumers silent for too long.
    pub fn tick(&mut self) -> Vec<ProducerOutput<H, P>> {
        let mut out = Vec::new();
        self.tick += 1;
        let hb = self.config.heartbeat_interval;
        if hb == 0 {
            return out;
        }
        if self.tick == self.last_broadcast + u64::from(hb) {
            self.last_broadcast = self.tick;
            if self.repeat_handshakes {
                for p in self.paths.iter().filter(|p| p.acked == 0) {
                    let hs = self.handshake(p.offset);
                    out.push(ProducerOutput::Send(p.consumer.clone(), hs));
                }
            }
            let seq = self.seq;
            out.push(ProducerOutput::Broadcast(ProducerMsg::Keepalive { seq }));
        }
        let timeout = u64::from(hb) * u64::from(self.config.connection_timeout_factor);
        let now = self.tick;
        let before = self.paths.len();
        self.paths.retain(|p| {
            let alive = now - p.last_seen < timeout;
            if !alive {
                out.push(ProducerOutput::Dropped(
                    p.consumer.clone(),
                    DropReason::Timeout,
                ));
            }
            alive
        });
        if self.paths.len() != before {
            self.trim();
        }
        out
    }

    fn find(&self, consumer: &H) -> Option<usize> {
        self.paths.iter().position(|p| p.consumer == *consumer)
    }

    fn handshake(&self, offset: u64) -> ProducerMsg<P> {
        ProducerMsg::Handshake {
            offset,
            heartbeat_interval: self.config.heartbeat_interval,
        }
    }

    fn on_ack(&mut self, from: &H, seq: u64, out: &mut Vec<ProducerOutput<H, P>>) {
        let Some(i) = self.find(from) else {
            return;
        };
        let now = self.tick;
        let p = &mut self.paths[i];
        if seq < p.acked {
            // Overtaken by a newer ack.
            return;
        }
        p.last_seen = now;
        if seq == p.acked {
            return;
        }
        if p.acked == 0 {
            out.push(ProducerOutput::HandshakeCompleted(from.clone()));
        }
        p.acked = seq;
        self.trim();
    }

    fn on_nack(&mut self, from: &H, seqs: &[u64], out: &mut Vec<ProducerOutput<H, P>>) {
        let Some(&first) = seqs.first() else {
            return;
        };
        let Some(i) = self.find(from) else {
            if seqs == [0] {
                out.extend(self.add(from.clone()));
            }
            return;
        };
        self.paths[i].last_seen = self.tick;
        if !seqs.is_sorted() {
            self.paths.remove(i);
            self.trim();
            out.push(ProducerOutput::Dropped(
                from.clone(),
                DropReason::InvalidNack,
            ));
            return;
        }
        if first == 0 {
            let hs = self.handshake(self.paths[i].offset);
            out.push(ProducerOutput::Send(from.clone(), hs));
            return;
        }
        // Everything before the first missing event has arrived.
        self.on_ack(from, first - 1, out);
        let mut previous = None;
        for &seq in seqs {
            if previous == Some(seq) {
                continue;
            }
            previous = Some(seq);
            let msg = match self.event(seq) {
                Some(content) => ProducerMsg::Event {
                    seq,
                    content: content.clone(),
                },
                None => ProducerMsg::RetransmitFailed { seq },
            };
            out.push(ProducerOutput::Send(from.clone(), msg));
        }
    }

    fn event(&self, seq: u64) -> Option<&P> {
        let first = self.buf.front()?.0;
        let i = usize::try_from(seq.checked_sub(first)?).ok()?;
        self.buf.get(i).map(|(_, p)| p)
    }

    /// Drops the events every consumer has acknowledged; all of them without consumers.
    fn trim(&mut self) {
        let Some(acked) = self.paths.iter().map(|p| p.acked).min() else {
            self.buf.clear();
            return;
        };
        while self.buf.front().is_some_and(|(s, _)| *s <= acked) {
            self.buf.pop_front();
        }
    }
}

/// What to do when an event turns out to be lost (retransmit_failed for it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LostPolicy {
    /// Report it and go on with the next event (a master reading a writer channel).
    Skip,
    /// Report it, then forget everything and ask for a new handshake (a clone, whose state
    /// can no longer be trusted; its owner must reload the snapshot).
    Reset,
}

/// What a call on a [`Consumer`] asks its owner to do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsumerOutput<P> {
    /// Send this to the producer.
    Send(ConsumerMsg),
    /// Apply this event: it is the next in sequence.
    Deliver { seq: u64, content: P },
    /// Event `seq` is lost for good. Under [`LostPolicy::Reset`] the consumer has reset
    /// itself, and nothing further was delivered.
    Lost { seq: u64 },
    /// Nothing arrived from the producer for `heartbeat_interval × connection_timeout_factor`
    /// ticks. Reported once per silence; the consumer carries on.
    ProducerTimeout,
}

/// The receiving end of a channel: delivers each event once and in order, buffers those
/// that arrive early, acks what it has and nacks what it misses.
#[derive(Clone, Debug)]
pub struct Consumer<P> {
    config: ChannelConfig,
    lost_policy: LostPolicy,
    /// The number of the next event to deliver; 0 until the handshake.
    next_seq: u64,
    /// One past the highest number known to exist (or the highest buffered).
    last_seq: u64,
    /// Early events (`None`: known lost), ascending and unique, all above `next_seq`.
    buf: VecDeque<(u64, Option<P>)>,
    tick: u64,
    last_tick_seq: u64,
    idle_ticks: u64,
    heartbeat_interval: u16,
    last_seen: u64,
    timed_out: bool,
    /// Messages handled from the producer, of any kind.
    heard: u64,
}

impl<P> Consumer<P> {
    /// A consumer waiting for its handshake. A consumer that attaches by asking (a clone)
    /// sends [`ConsumerMsg::handshake_request`] at once; [`Consumer::tick`] repeats it.
    pub fn new(config: ChannelConfig) -> Consumer<P> {
        Consumer {
            config,
            lost_policy: LostPolicy::Skip,
            next_seq: 0,
            last_seq: 0,
            buf: VecDeque::new(),
            tick: 1,
            last_tick_seq: 0,
            idle_ticks: 0,
            heartbeat_interval: 0,
            last_seen: 1,
            timed_out: false,
            heard: 0,
        }
    }

    pub fn with_lost_policy(mut self, policy: LostPolicy) -> Consumer<P> {
        self.lost_policy = policy;
        self
    }

    /// True once a handshake was accepted.
    pub fn is_initialized(&self) -> bool {
        self.next_seq != 0
    }

    /// The number of the next event to deliver; 0 before the handshake.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The heartbeat interval from the handshake; 0 before it.
    pub fn heartbeat_interval(&self) -> u16 {
        self.heartbeat_interval
    }

    /// Ticks so far, starting at 1.
    pub fn tick_count(&self) -> u64 {
        self.tick
    }

    /// How many messages (of any kind) the producer has sent that this consumer handled:
    /// a change says the producer spoke since.
    pub fn heard(&self) -> u64 {
        self.heard
    }

    /// The numbers of early events held back, ascending.
    pub fn buffered(&self) -> impl Iterator<Item = u64> + '_ {
        self.buf.iter().map(|(s, _)| *s)
    }

    /// True when initialised with nothing missing and nothing held back.
    pub fn is_idle(&self) -> bool {
        self.is_initialized() && self.buf.is_empty() && self.next_seq == self.last_seq
    }

    /// Forgets the producer and everything received: the consumer waits for a handshake
    /// again and asks for one every nack timeout.
    pub fn reset(&mut self) {
        self.next_seq = 0;
        self.last_seq = 0;
        self.buf.clear();
        self.last_tick_seq = 0;
        self.idle_ticks = 0;
        self.heartbeat_interval = 0;
        self.timed_out = false;
    }

    /// Handles a message from the producer.
    pub fn handle(&mut self, msg: ProducerMsg<P>) -> Vec<ConsumerOutput<P>> {
        let mut out = Vec::new();
        self.last_seen = self.tick;
        self.timed_out = false;
        self.heard += 1;
        match msg {
            ProducerMsg::Handshake {
                offset,
                heartbeat_interval,
            } => {
                if self.is_initialized() {
                    return out;
                }
                self.next_seq = offset.saturating_add(1);
                self.heartbeat_interval = heartbeat_interval;
                while self.buf.front().is_some_and(|(s, _)| *s <= offset) {
                    self.buf.pop_front();
                }
                let highest = self.buf.back().map_or(0, |(s, _)| *s);
                self.last_seq = self.next_seq.max(highest);
                self.drain(&mut out);
                if self.is_initialized() {
                    out.push(self.ack());
                }
            }
            ProducerMsg::Event { seq, content } => {
                if seq == 0 {
                    return out;
                }
                if seq == self.next_seq {
                    out.push(ConsumerOutput::Deliver { seq, content });
                    self.bump();
                    self.drain(&mut out);
                } else if seq > self.next_seq {
                    self.last_seq = self.last_seq.max(seq);
                    self.hold(seq, Some(content));
                }
            }
            ProducerMsg::Keepalive { seq } => {
                if self.is_initialized() && seq > 0 {
                    self.last_seq = self.last_seq.max(seq.saturating_add(1));
                }
            }
            ProducerMsg::RetransmitFailed { seq } => {
                if !self.is_initialized() {
                    return out;
                }
                if seq == self.next_seq {
                    if self.lose(seq, &mut out) {
                        self.bump();
                        self.drain(&mut out);
                    }
                } else if seq > self.next_seq {
                    self.hold(seq, None);
                }
            }
        }
        out
    }

    /// Advances time by one tick: handshake requests while waiting, acks every heartbeat
    /// interval, nacks for gaps that did not fill within the nack timeout, and the
    /// producer timeout.
    pub fn tick(&mut self) -> Vec<ConsumerOutput<P>> {
        let mut out = Vec::new();
        self.tick += 1;
        let nack_timeout = u64::from(self.config.nack_timeout);
        if !self.is_initialized() {
            self.idle_ticks += 1;
            if self.idle_ticks >= nack_timeout {
                self.idle_ticks = 0;
                out.push(ConsumerOutput::Send(ConsumerMsg::handshake_request()));
            }
            return out;
        }
        let hb = u64::from(self.heartbeat_interval);
        let timeout = hb * u64::from(self.config.connection_timeout_factor);
        if hb > 0 && !self.timed_out && self.tick - self.last_seen >= timeout {
            self.timed_out = true;
            out.push(ConsumerOutput::ProducerTimeout);
        }
        // Acks go out on ticks 1 + k × heartbeat_interval, counted from creation.
        let ack_due = hb > 0 && (self.tick - 1).is_multiple_of(hb);
        let progressed = self.next_seq > self.last_tick_seq;
        self.last_tick_seq = self.next_seq;
        if progressed {
            self.idle_ticks = 0;
            if ack_due {
                out.push(self.ack());
            }
            return out;
        }
        self.idle_ticks += 1;
        if self.next_seq < self.last_seq && self.idle_ticks >= nack_timeout {
            self.idle_ticks = 0;
            out.push(ConsumerOutput::Send(ConsumerMsg::Nack {
                seqs: self.missing(),
            }));
            return out;
        }
        if ack_due {
            out.push(self.ack());
        }
        out
    }

    fn ack(&self) -> ConsumerOutput<P> {
        ConsumerOutput::Send(ConsumerMsg::CumulativeAck {
            seq: self.next_seq.saturating_sub(1),
        })
    }

    fn bump(&mut self) {
        self.next_seq = self.next_seq.saturating_add(1);
        self.last_seq = self.last_seq.max(self.next_seq);
    }

    /// Keeps an early event in order, ignoring duplicates; a retransmission fills in an
    /// entry known lost. When full, the highest number gives way.
    fn hold(&mut self, seq: u64, content: Option<P>) {
        let i = self.buf.partition_point(|(s, _)| *s < seq);
        match self.buf.get_mut(i) {
            Some((s, slot)) if *s == seq => {
                if slot.is_none() {
                    *slot = content;
                }
            }
            _ => {
                if i >= MAX_OUT_OF_ORDER {
                    return;
                }
                self.buf.insert(i, (seq, content));
                self.buf.truncate(MAX_OUT_OF_ORDER);
            }
        }
    }

    /// Delivers held events while they are next in sequence.
    fn drain(&mut self, out: &mut Vec<ConsumerOutput<P>>) {
        while self.buf.front().is_some_and(|(s, _)| *s == self.next_seq) {
            let Some((seq, content)) = self.buf.pop_front() else {
                break;
            };
            match content {
                Some(content) => out.push(ConsumerOutput::Deliver { seq, content }),
                None => {
                    if !self.lose(seq, out) {
                        return;
                    }
                }
            }
            self.bump();
        }
    }

    /// Reports a lost event; false when the policy reset the consumer.
    fn lose(&mut self, seq: u64, out: &mut Vec<ConsumerOutput<P>>) -> bool {
        out.push(ConsumerOutput::Lost { seq });
        if self.lost_policy == LostPolicy::Reset {
            self.reset();
            return false;
        }
        true
    }

    /// The numbers in `[next_seq, last_seq)` not held, ascending, at most
    /// [`MAX_NACK_SEQS`].
    fn missing(&self) -> Vec<u64> {
        let mut seqs = Vec::new();
        let mut held = self.buf.iter().map(|(s, _)| *s).peekable();
        let mut seq = self.next_seq;
        while seq < self.last_seq && seqs.len() < MAX_NACK_SEQS {
            while held.next_if(|&h| h < seq).is_some() {}
            if held.peek() == Some(&seq) {
                held.next();
            } else {
                seqs.push(seq);
            }
            seq += 1;
        }
        seqs
    }
}
