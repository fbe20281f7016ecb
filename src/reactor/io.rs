//! The reactor's side of its connections: readiness events, reading and writing, stepping
//! the Broker handshake, and carrying out what each Phase-3 frame asks for
//! ([`super::session::inbound`]).

use super::conn::{Fill, Phase};
use super::peers::Close;
use super::scrape::{self, Progress, Scrape};
use super::session::{self, Inbound};
use super::timers::Timer;
use super::{Reactor, status};
use crate::contract::OverflowPolicy;
use crate::contract::StatusCode;
use crate::contract::command::Service;
use crate::wire::frame::{FrameReader, HANDSHAKE_MAX_PAYLOAD};
use crate::wire::handshake::{Failure, Handshaker, Peering, Role, Status, Step};
use crate::wire::{EndpointId, ErrorCode};
use mio::Token;
use std::time::Duration;

/// How soon a listener whose accept failed tries again.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

impl Reactor {
    pub(super) fn accept(&mut self, token: Token) {
        loop {
            let t = self.token();
            let Some((l, service)) = self.listeners.get(&token) else {
                return;
            };
            let service = *service;
            let security = match service {
                Service::Peering => &self.security,
                Service::Metrics => &self.plain,
            };
            let accepted = l.accept(security, self.poll.registry(), t);
            if accepted.is_ok() && self.accept_failing.remove(&token).is_some() {
                let msg = "accepting connections again";
                self.emit(status::error(ErrorCode::Unspecified, None, None, msg));
            }
            match accepted {
                Ok(Some((mut stream, addr))) => {
                    if self.shutting_down.is_some() {
                        stream.deregister(self.poll.registry());
                        continue;
                    }
                    if service == Service::Metrics {
                        self.scrapes.insert(t, Scrape::new(stream));
                        self.timers.after(scrape::DEADLINE, Timer::Scrape(t));
                        continue;
                    }
                    let generation = self.advertised.generation();
                    let c = super::Conn::new(stream, addr, false, Phase::Connecting, generation);
                    self.conns.insert(t, c);
                    self.timers
                        .after(self.cfg.handshake_timeout, Timer::Handshake(t));
                    // Plain TCP is set up already; TLS starts its handshake.
                    self.conn_event(t, false, false);
                }
                Ok(None) => return,
                Err(e) => {
                    // The pending connections stay queued, and no new readiness event will
                    // come for them: look again soon (reported once per run of failures).
                    if !self.accept_failing.contains_key(&token) {
                        let msg = format!("accept failed: {e}; trying again every 100 ms");
                        self.emit(status::error(ErrorCode::Unspecified, None, None, msg));
                    }
                    let scheduled = self.accept_failing.entry(token).or_insert(false);
                    if !*scheduled {
                        *scheduled = true;
                        self.timers.after(ACCEPT_RETRY, Timer::Accept(token));
                    }
                    return;
                }
            }
        }
    }

    /// A metrics connection is readable or writable.
    pub(super) fn scrape_ready(&mut self, token: Token) {
        let Some(s) = self.scrapes.get_mut(&token) else {
            return;
        };
        let mut progress = s.on_ready();
        if progress == Progress::Request {
            let request = s.request().to_vec();
            let answer = scrape::answer(&request, || self.metrics().to_prometheus());
            if let Some(s) = self.scrapes.get_mut(&token) {
                progress = s.respond(answer);
            }
        }
        if progress == Progress::Done {
            self.end_scrape(token);
        }
    }

    pub(super) fn end_scrape(&mut self, token: Token) {
        if let Some(mut s) = self.scrapes.remove(&token) {
            s.stream.deregister(self.poll.registry());
        }
    }

    pub(super) fn conn_event(&mut self, token: Token, readable: bool, writable: bool) {
        let Some(c) = self.conns.get_mut(&token) else {
            return;
        };
        if matches!(c.phase, Phase::Connecting) {
            match c.stream.establish() {
                None => return, // not yet
                Some(Err(e)) => {
                    let (addr, outbound) = (c.addr, c.outbound);
                    if outbound {
                        self.drop_conn(token);
                        let why = format!("cannot connect to {addr}: {e}");
                        self.attempt_failed(addr, &why);
                    } else {
                        let why = format!("connection from {addr} failed: {e}");
                        self.close(token, Close::Failed(ErrorCode::PeerInvalid, why));
                    }
                    return;
                }
                Some(Ok(())) => {
                    let role = if c.outbound {
                        Role::Connecting
                    } else {
                        Role::Accepting
                    };
                    let hs = Handshaker::new(self.id, self.advertised.filter().clone(), role);
                    c.filter_generation = self.advertised.generation();
                    c.send_handshake(&hs.greeting());
                    c.phase = Phase::Handshake(hs);
                    self.dirty.push(token);
                }
            }
        }
        if writable {
            self.write_conn(token);
        }
        if readable || writable {
            self.read(token);
        }
    }

    pub(super) fn read(&mut self, token: Token) {
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
                let why = "too much input while paused".into();
                self.close(token, Close::Failed(ErrorCode::InvalidMessage, why));
                return;
            }
            let filled = c.fill();
            let large = c.is_large();
            self.watch_buffers(large);
            match filled {
                Ok(Fill::Data { drained }) => {
                    self.process_input(token);
                    if drained {
                        return;
                    }
                }
                Ok(Fill::WouldBlock) => return,
                Ok(Fill::Eof) => {
                    let hint = self.refused_plain_hint(token);
                    self.process_input(token);
                    let why = format!("connection closed by peer{hint}");
                    self.close(token, Close::Lost(why));
                    return;
                }
                Err(e) => {
                    let hint = self.refused_plain_hint(token);
                    self.close(token, Close::Lost(format!("read failed: {e}{hint}")));
                    return;
                }
            }
        }
    }

    /// Words for a plain-TCP connection of ours that the peer ended before saying anything:
    /// what a TLS peer does with one.
    fn refused_plain_hint(&self, token: Token) -> &'static str {
        use super::transport::Kind;
        match self.conns.get(&token) {
            Some(c) if c.outbound && c.traffic.bytes_in == 0 => match c.stream.kind() {
                Kind::Tcp => {
                    " before the handshake (a peer that expects TLS does this: disable_ssl \
                     must be set on both sides or neither)"
                }
                Kind::Tls => {
                    " right after TLS was set up (a TLS peer that refuses this endpoint's \
                     credentials does this: does it require a certificate?)"
                }
            },
            _ => "",
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
            let max = self.cfg.max_frame_size.min(HANDSHAKE_MAX_PAYLOAD);
            let reader = FrameReader::handshake().with_max_payload(max);
            match reader.next_frame(c.unread()) {
                Err(e) => {
                    let tls = super::transport::looks_like_tls(c.unread());
                    let why = if tls {
                        format!(
                            "the peer speaks TLS, this endpoint plain TCP: disable_ssl must be \
                             set on both sides or neither ({e})"
                        )
                    } else {
                        format!("framing violation: {e}")
                    };
                    let code = if tls {
                        ErrorCode::PeerUnavailable
                    } else {
                        ErrorCode::InvalidMessage
                    };
                    self.close(token, Close::Failed(code, why));
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
                    c.traffic.frames_in += 1;
                    let Phase::Handshake(h) = &mut c.phase else {
                        unreachable!("checked above")
                    };
                    let step = h.on_frame(&scratch);
                    self.apply_step(token, step);
                }
            }
        }
        if self
            .conns
            .get_mut(&token)
            .is_some_and(|c| c.compact_input())
        {
            self.released_memory();
        }
        self.scratch = scratch;
        // Hand each chunk's messages over at once, so that subscribers work beside the
        // reading.
        self.delivery.hand_over();
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
            // Empty frames before a frame are skipped, as Broker ignores them (spec §1.3).
            let (len, skipped) = match reader.next_frame(&input[pos..end]) {
                Err(e) => {
                    violation = Some(e);
                    break;
                }
                Ok((None, skipped)) => {
                    pos += skipped;
                    break;
                }
                Ok((Some(payload), consumed)) => (payload.len(), consumed - 4 - payload.len()),
            };
            pos += skipped;
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
            match self.conns.get_mut(&token) {
                Some(c) if c.linger.is_none() && c.remote().is_some() => c.traffic.frames_in += 1,
                _ => break,
            }
        }
        if let Some(c) = self.conns.get_mut(&token) {
            c.restore_input(input, pos, end);
        }
        if let Some(e) = violation {
            let why = format!("framing violation: {e}");
            self.close(token, Close::Failed(ErrorCode::InvalidMessage, why));
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
                let status = self
                    .peers
                    .claim(remote, token, self.shutting_down.is_some());
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
                    self.peers.pause(remote, token);
                }
                c.phase = Phase::Paused(h);
            }
            Status::Done(p) => self.established(token, p),
            Status::Redundant { .. } => self.close(token, Close::Redundant),
            Status::DroppedAsRedundant { remote } => {
                if self.peers.holder(remote).is_some_and(|t| t != token) {
                    self.close(token, Close::Redundant);
                } else {
                    let why = "redundant connection".into();
                    self.close(token, Close::Failed(ErrorCode::RedundantConnection, why));
                }
            }
            Status::Failed(Failure { code, description }) => {
                self.close(token, Close::Failed(code, description))
            }
            Status::ToSelf => self.close(token, Close::ToSelf),
        }
    }

    /// The handshake on `token` is done: the connection is peered.
    fn established(&mut self, token: Token, p: Peering) {
        let remote = p.remote;
        let generation = self.advertised.generation();
        let Some(c) = self.conns.get_mut(&token) else {
            return;
        };
        let (addr, outbound, stale) = (c.addr, c.outbound, c.filter_generation != generation);
        c.phase = Phase::Peered {
            remote,
            filter: p.filter,
        };
        let paused = self
            .peers
            .established(remote, token, outbound.then_some(addr));
        if stale {
            self.send_routing_update(token, remote);
        }
        // As in Broker, discovery names the endpoint, not an address.
        let found = "found a new peer in the network";
        self.emit(status::status(
            StatusCode::EndpointDiscovered,
            Some(remote),
            None,
            found,
        ));
        let done = "handshake successful";
        self.emit(status::status(
            StatusCode::PeerAdded,
            Some(remote),
            Some(addr),
            done,
        ));
        for t in paused {
            let step = match self.conns.get_mut(&t).map(|c| &mut c.phase) {
                Some(Phase::Paused(h)) => h.drop_redundant(),
                _ => continue,
            };
            self.apply_step(t, step);
        }
        // A new peer may unblock nothing, but one may have been waiting on buffer room.
        self.intake.pending = true;
    }

    /// One Phase-3 frame (`frame` is the whole frame, length prefix included; the buffer
    /// may be rewritten for forwarding). Returns false, having done nothing, when the frame
    /// must wait for a full local subscriber.
    fn phase3_frame(&mut self, token: Token, frame: &mut [u8]) -> bool {
        let Some(from) = self.conns.get(&token).and_then(|c| c.remote()) else {
            return true;
        };
        let forwarding = !self.cfg.disable_forwarding;
        match session::inbound(frame, self.id, from, forwarding) {
            Inbound::Malformed(why) => self.malformed(token, from, &why),
            Inbound::Data {
                topic,
                payload,
                receiver,
                local,
                may_wait,
                forward,
            } => {
                if may_wait && self.delivery.must_wait(&frame[topic.0..topic.1]) {
                    return false;
                }
                // Forwarded first: restamping touches only the envelope's header, not the
                // topic and payload staged for local delivery below.
                if forward && !self.forward(token, from, receiver, topic, frame, true) {
                    return false;
                }
                self.counters.processed.data += 1;
                if let Some(c) = self.conns.get_mut(&token) {
                    c.malformed_in_a_row = 0;
                }
                if local {
                    self.delivery
                        .stage(&frame[topic.0..topic.1], &frame[payload.0..payload.1]);
                }
            }
            Inbound::Command {
                topic,
                cmd,
                receiver,
                forward,
            } => {
                self.counters.processed.command += 1;
                if let Some(cmd) = cmd {
                    let t = frame[topic.0..topic.1].to_vec();
                    self.stores.command(from, &t, cmd, &mut self.effects);
                    self.apply_store_effects();
                }
                if forward {
                    self.forward(token, from, receiver, topic, frame, false);
                }
            }
            Inbound::Filter(filter) => {
                self.counters.processed.routing_update += 1;
                if let Some(Phase::Peered { filter: f, .. }) =
                    self.conns.get_mut(&token).map(|c| &mut c.phase)
                {
                    *f = filter;
                }
            }
            Inbound::Ignore => {}
            Inbound::Ping(pong) => {
                self.counters.processed.ping += 1;
                self.queue_frame(token, &pong);
            }
            Inbound::Pong(payload) => {
                self.counters.processed.pong += 1;
                let bye = self.conns.get(&token).and_then(|c| c.bye);
                if bye.is_some_and(|b| b[..] == frame[payload.0..payload.1]) {
                    self.close(token, Close::Removed);
                }
            }
        }
        true
    }

    /// Forwards a frame from peer `from` (received on `source`) to the other peers whose
    /// filters match its topic, or to `receiver`. With `may_wait`, under the `Block` peer
    /// policy, nothing is sent and false returned while a peer it goes to holds twice its
    /// buffer limit: the caller then pauses the source's reads, as publications wait for a
    /// full peer, so a slow peer slows the senders down instead of losing messages. The
    /// targets are selected once for both.
    fn forward(
        &mut self,
        source: Token,
        from: EndpointId,
        receiver: EndpointId,
        topic: session::Range,
        frame: &mut [u8],
        may_wait: bool,
    ) -> bool {
        let mut targets = std::mem::take(&mut self.targets);
        super::router::select(
            self.routes(),
            Some((source, from)),
            receiver,
            &frame[topic.0..topic.1],
            &mut targets,
        );
        let limit = 2 * self.cfg.peer_buffer_size;
        let wait = may_wait
            && self.cfg.peer_overflow_policy == OverflowPolicy::Block
            && targets.iter().any(|t| {
                self.conns
                    .get(t)
                    .is_some_and(|c| c.queued_frames() >= limit)
            });
        if !wait
            && !targets.is_empty()
            && crate::wire::envelope::restamp(&mut frame[4..], self.id, crate::wire::DEFAULT_TTL)
                .is_ok()
        {
            for &t in &targets {
                self.queue_frame(t, frame);
            }
        }
        targets.clear();
        self.targets = targets;
        !wait
    }

    /// A malformed message inside a well-formed frame: dropped and reported; a run of them
    /// ends the peering.
    fn malformed(&mut self, token: Token, from: EndpointId, why: &str) {
        let limit = self.cfg.max_malformed_in_a_row;
        let Some(c) = self.conns.get_mut(&token) else {
            return;
        };
        c.malformed_in_a_row += 1;
        let (run, addr) = (c.malformed_in_a_row, c.addr);
        let msg = format!("dropped a malformed message: {why}");
        self.emit(status::error(
            ErrorCode::InvalidMessage,
            Some(from),
            Some(addr),
            msg,
        ));
        if run >= limit {
            let why = format!("{run} malformed messages in a row");
            self.close(token, Close::Failed(ErrorCode::InvalidMessage, why));
        }
    }

    /// Writes a connection's queued output until its socket would block.
    pub(super) fn write_conn(&mut self, token: Token) {
        let period = self.liveness_period();
        let Some(c) = self.conns.get_mut(&token) else {
            return;
        };
        c.in_dirty = false;
        if let Err(e) = c.write_out() {
            let hint = self.refused_plain_hint(token);
            self.close(token, Close::Lost(format!("write failed: {e}{hint}")));
            return;
        }
        if !self.liveness_armed && !self.cfg.peer_timeout.is_zero() {
            self.liveness_armed = true;
            self.timers.after(period, Timer::Liveness);
        }
        if c.is_large() {
            self.watch_buffers(true);
        }
        let Some(c) = self.conns.get_mut(&token) else {
            return;
        };
        if c.linger.is_some() && c.output_empty() {
            self.drop_conn(token);
        } else if c.queued_frames() < self.cfg.peer_buffer_size / 2 {
            c.dropping = false;
            if let Some(start) = c.drop_run.take() {
                let (n, id, addr) = (c.dropped - start, c.remote(), c.addr);
                let who = id.map_or_else(|| addr.to_string(), |id| format!("{id} at {addr}"));
                let msg =
                    format!("peer {who} is keeping up again; {n} messages for it were dropped");
                self.emit(status::error(ErrorCode::Unspecified, id, Some(addr), msg));
            }
        }
    }

    fn liveness_period(&self) -> Duration {
        (self.cfg.peer_timeout / 10).clamp(Duration::from_millis(100), Duration::from_secs(1))
    }

    /// Dead-peer detection for connections that have sent something: TCP keepalive only
    /// probes idle connections, so while data (or a window probe) waits for the peer's
    /// acknowledgement the reactor asks the kernel how long the peer's host has been silent.
    /// Silent for `peer_timeout` at two checks in a row ends the connection (a live peer
    /// that does not read still acknowledges the kernel's window probes). Checks go on once
    /// a period while anything is unacknowledged.
    pub(super) fn check_liveness(&mut self) {
        self.liveness_armed = false;
        let limit = self.cfg.peer_timeout;
        if limit.is_zero() {
            return;
        }
        let mut dead = Vec::new();
        let mut watching = false;
        for (&t, c) in self.conns.iter_mut() {
            if c.linger.is_some() || matches!(c.phase, Phase::Connecting) {
                continue;
            }
            let Some(acks) = c.stream.acks() else {
                continue;
            };
            if !acks.awaited && c.output_empty() {
                c.silent = false;
                continue;
            }
            watching = true;
            let silent = acks.awaited && acks.since_last >= limit;
            if silent && c.silent {
                dead.push((t, acks.since_last));
            }
            c.silent = silent;
        }
        for (t, since) in dead {
            let why = format!(
                "the peer's host stopped answering: no acknowledgement for {} s",
                since.as_secs()
            );
            self.close(t, Close::Lost(why));
        }
        if watching {
            self.liveness_armed = true;
            self.timers.after(self.liveness_period(), Timer::Liveness);
        }
    }

    pub(super) fn write_dirty(&mut self) {
        while let Some(t) = self.dirty.pop() {
            self.write_conn(t);
        }
    }

    /// Ends a connection: status events, peering and retry bookkeeping, and then either an
    /// immediate close or, when a drop_conn or similar is still queued, a short linger to
    /// write it.
    pub(super) fn close(&mut self, token: Token, why: Close) {
        let Some(c) = self.conns.get_mut(&token) else {
            return;
        };
        if c.linger.is_some() {
            return;
        }
        let (addr, outbound) = (c.addr, c.outbound);
        let (remote, _) = Self::peer_status(c);
        let was_peered = c.remote().is_some();
        c.linger = Some(match &why {
            Close::Lost(m) | Close::Failed(_, m) => m.clone(),
            Close::Removed if self.shutting_down.is_some() => "the endpoint shut down".into(),
            Close::Removed => "unpeered".into(),
            Close::Redundant => "a redundant connection".into(),
            Close::ToSelf => "a connection to this endpoint itself".into(),
            Close::Shutdown => "the endpoint shut down".into(),
        });
        let flush_first = !c.output_empty() && !matches!(why, Close::Lost(_));
        if let Some(r) = remote {
            let (lost, orphans) = self.peers.forget(token, r);
            if lost {
                self.stores.peer_lost(r, &mut self.effects);
                self.apply_store_effects();
            }
            for t in orphans {
                let why = "the other handshake failed".into();
                self.close(
                    t,
                    Close::Failed(ErrorCode::PeerDisconnectDuringHandshake, why),
                );
            }
        }
        for ev in status::closing(&why, was_peered, outbound, remote, addr) {
            self.emit(ev);
        }
        if outbound {
            let shutting_down = self.shutting_down.is_some();
            let retry = self
                .peers
                .closed(addr, token, &why, remote, was_peered, shutting_down);
            if let Some(after) = retry {
                self.timers.after(after, Timer::Retry(addr));
            }
        }
        if flush_first && self.shutting_down.is_none() {
            self.dirty.push(token);
            self.timers
                .after(Duration::from_secs(1), Timer::Linger(token));
        } else {
            if flush_first {
                // Best effort during shutdown: one write, then close.
                if let Some(c) = self.conns.get_mut(&token) {
                    let _ = c.write_out();
                }
            }
            self.drop_conn(token);
        }
    }

    /// Deregisters and drops a connection's stream. What was still queued for a peer is
    /// lost: it is counted and reported.
    pub(super) fn drop_conn(&mut self, token: Token) {
        let Some(mut c) = self.conns.remove(&token) else {
            return;
        };
        c.stream.close(self.poll.registry());
        self.released_memory();
        let mut discarded = c.queued_frames() as u64;
        if c.bye.is_some() && discarded > 0 {
            discarded -= 1; // our BYE ping, queued after the messages, is not one of them
        }
        // What the spool sent it stays in the spool, to be sent again.
        discarded -= self
            .replay
            .unwritten_for(token, c.traffic.bytes_out)
            .min(discarded);
        if discarded > 0 && c.remote().is_some() {
            self.counters.discarded += discarded;
            let (remote, addr) = (c.remote(), c.addr);
            let who = remote.map_or_else(|| addr.to_string(), |id| format!("{id} at {addr}"));
            let cause = c.linger.as_deref().unwrap_or("the connection ended");
            let msg =
                format!("{discarded} messages queued for peer {who} were discarded ({cause})");
            self.emit(status::error(
                ErrorCode::Unspecified,
                remote,
                Some(addr),
                msg,
            ));
        }
    }
}
