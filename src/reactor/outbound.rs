//! What leaves through the peers' send buffers: publications taken from the publish queue
//! and routed (local subscribers and peers), backpressure and stalls, the per-peer buffer
//! limit and its overflow policy.

use super::conn::Phase;
use super::intake;
use super::peers::Close;
use super::router::{self, Route, Source};
use super::{Reactor, TAKES, status};
use crate::contract::OverflowPolicy;
use crate::wire::envelope::{Envelope, EnvelopeType};
use crate::wire::{EndpointId, ErrorCode};
use mio::Token;
use std::time::Instant;

impl Reactor {
    /// The peered connections as routing sees them.
    pub(super) fn routes(&self) -> impl Iterator<Item = (Token, Route<'_>)> {
        self.conns.iter().filter_map(|(t, c)| match &c.phase {
            Phase::Peered { remote, filter } => Some((
                *t,
                Route {
                    remote: *remote,
                    filter,
                    leaving: c.bye.is_some(),
                },
            )),
            _ => None,
        })
    }

    pub(super) fn peers_full(&self) -> bool {
        let limit = self.cfg.peer_buffer_size;
        self.conns
            .values()
            .any(|c| c.queued_frames() >= limit && !c.dropping && c.linger.is_none())
    }

    /// True while the next held-back publication still finds a full local subscriber.
    pub(super) fn held_waits(&mut self) -> bool {
        let Some(frame) = self.intake.next_held() else {
            return false;
        };
        if self.spool_holds(frame) {
            return true;
        }
        let Some(topic) = self.frame_waits_for(frame) else {
            return false;
        };
        self.delivery.must_wait(&topic)
    }

    /// The topic of a local publication that must reach local subscribers (it is for this
    /// endpoint itself; the others never reach them).
    pub(super) fn frame_waits_for(&self, frame: &[u8]) -> Option<Vec<u8>> {
        let env = Envelope::parse(&frame[4..]).ok()?;
        (env.receiver == self.id && env.kind == EnvelopeType::Data).then(|| env.topic.to_vec())
    }

    pub(super) fn resume_paused_reads(&mut self) {
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
    pub(super) fn take_publications(&mut self) {
        let mut takes = 0;
        loop {
            if let Some((buf, off)) = self.intake.take_held() {
                match self.route_batch(buf, off) {
                    Ok(done) => self.intake.recycle(done),
                    Err((buf, off)) => {
                        self.intake.hold(buf, off);
                        self.intake.pending = true;
                        if self.peers_full() {
                            self.stall_check();
                        }
                        // What was taken before the hold may have made room.
                        self.note_room();
                        return;
                    }
                }
            }
            if takes == TAKES {
                self.intake.pending = true;
                self.note_room();
                return;
            }
            if !self.intake.take(&self.shared.outbox) {
                break;
            }
            takes += 1;
        }
        self.intake.drained();
        self.note_room();
    }

    /// Publishers that found the queue full learn through their fd that it has room again.
    pub(super) fn note_room(&self) {
        if self.shared.room.is_marked_full() && !self.shared.outbox.is_full() {
            self.shared.room.mark_room();
        }
    }

    /// Routes the frames of `buf` from `off` on. Gives the buffer back when done, or what is
    /// left when a peer or a blocking subscriber is full.
    pub(super) fn route_batch(
        &mut self,
        buf: Vec<u8>,
        mut off: usize,
    ) -> Result<Vec<u8>, (Vec<u8>, usize)> {
        while let Some(frame) = intake::next_frame(&buf, off) {
            let blocked = self.peers_full()
                || self
                    .frame_waits_for(frame)
                    .is_some_and(|topic| self.delivery.must_wait(&topic))
                || self.spool_holds(frame);
            if blocked {
                return Err((buf, off));
            }
            off += frame.len();
            self.route_local(frame);
        }
        Ok(buf)
    }

    /// Publishers have waited for a full peer: after `peer_stall_timeout`, the peers that
    /// made no progress get their overflow policy.
    pub(super) fn stall_check(&mut self) {
        if self.cfg.peer_overflow_policy == OverflowPolicy::Block {
            return; // publishers wait for as long as the peer is alive
        }
        let now = Instant::now();
        if !self.intake.stall_expired(now, self.cfg.peer_stall_timeout) {
            return;
        }
        let backlog = self.conns.iter().map(|(t, c)| {
            let b = intake::Backlog {
                queued_frames: c.queued_frames(),
                dropping: c.dropping,
                last_progress: c.last_progress,
            };
            (*t, b)
        });
        let limit = self.cfg.peer_buffer_size;
        for t in intake::stalled(backlog, now, limit, self.cfg.peer_stall_timeout) {
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

    /// Routes a frame published on this endpoint: local subscribers (only if addressed to
    /// this endpoint itself, as in Broker, spec §4.7), then peers.
    pub(super) fn route_local(&mut self, frame: &[u8]) {
        let Ok(env) = Envelope::parse(&frame[4..]) else {
            return;
        };
        if env.receiver == self.id && env.kind == EnvelopeType::Data {
            self.delivery.stage(env.topic, env.payload);
        }
        if self.spool.is_some() && self.spool_takes(&env, frame) {
            return;
        }
        self.send_to_peers(None, env.receiver, env.topic, frame);
    }

    /// Queues `frame` for the peers that a message on `topic` for `receiver` from `source`
    /// goes to.
    pub(super) fn send_to_peers(
        &mut self,
        source: Source,
        receiver: EndpointId,
        topic: &[u8],
        frame: &[u8],
    ) {
        let mut targets = std::mem::take(&mut self.targets);
        router::select(self.routes(), source, receiver, topic, &mut targets);
        for &t in &targets {
            self.queue_frame(t, frame);
        }
        targets.clear();
        self.targets = targets;
    }

    /// Appends a complete frame to a peer's output, honouring its buffer limit.
    pub(super) fn queue_frame(&mut self, token: Token, frame: &[u8]) {
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
                // Publications and forwarded messages wait before they get here (intake,
                // `forward_must_wait`); what still comes is control traffic (pongs, routing
                // updates, store messages, BYE), small and never dropped.
                OverflowPolicy::Block => {}
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
                OverflowPolicy::Disconnect | OverflowPolicy::DropNewest => {
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
    /// reported on the status subscribers (the run's end and count when it keeps up again).
    pub(super) fn dropped_for(&mut self, token: Token, n: u64) {
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
        let msg = format!("peer {who} is not keeping up: dropping messages for it ({policy})");
        self.emit(status::error(ErrorCode::Unspecified, id, Some(addr), msg));
    }
}
