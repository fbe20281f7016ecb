//! The reactor's side of the spool ([`crate::spool`]): which publications it takes, how
//! its records go out to the peers that want them, and when a record counts as delivered.
//!
//! With a spool, a data message published here on a spooled topic goes into the spool, not
//! to the peers ([`Reactor::spool_takes`]). Each turn, after the publications were routed,
//! every lane sends records from its cursor to the peers whose filters match each record's
//! topic ([`Reactor::spool_replay`]): while each such peer's send buffer is less than half
//! full, and up to a budget per turn. A record that no peer wants stops its lane until one
//! does. After the turn's writes, [`Replay`] tells how far each peer's socket took what was
//! queued for it, and the spool's head moves past the records every live peer they went to
//! has written ([`Reactor::spool_settle`]). If every peer a record went to is gone (or
//! dropped messages) before writing it, the lane is sent again from its head.
//!
//! A record counts as written to a peer once the connection's bytes written, less those
//! its socket still holds unacknowledged (`SIOCOUTQ`), reach the offset its frame ended at
//! in that connection's output when it was queued: output is first-in, first-out, so this
//! holds whatever else is queued around it. So a record is delivered once the peer's
//! kernel has it, and nothing the publisher's own kernel still held is lost if the
//! publisher dies (a kernel may reset an orphaned connection that the peer reads slowly).

use super::conn::Conn;
use super::{Reactor, router, status};
use crate::spool::{Next, Note, Position, SpoolPolicy};
use crate::wire::envelope::{self, Envelope, EnvelopeType};
use crate::wire::{EndpointId, ErrorCode};
use mio::Token;
use std::collections::VecDeque;
use std::time::Duration;

/// Records and bytes a lane sends per turn, so that sockets are served in between.
const TURN_RECORDS: usize = 4096;
const TURN_BYTES: usize = 4 << 20;
/// How soon a spool that cannot write tries again.
const RETRY: Duration = Duration::from_millis(100);
/// How soon the loop looks again at records sent and not yet acknowledged, when nothing
/// else wakes it: at first, and at most (doubling while nothing is acknowledged, for a
/// peer that stalls).
const SETTLE: Duration = Duration::from_millis(2);
const SETTLE_MAX: Duration = Duration::from_millis(128);
/// Records a lane may have sent and not yet seen delivered.
const IN_FLIGHT: usize = 1 << 16;

/// Why a lane stopped sending in the last turn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum Stop {
    /// Nothing left to send.
    #[default]
    Idle,
    /// The turn's budget ran out: more at once.
    Budget,
    /// No peer wants the next record.
    NoPeer,
    /// A peer the next record goes to has a full enough send buffer.
    NoRoom(Token),
    /// As many records are in flight as a lane may have.
    InFlight,
}

/// One peer of a batch: its connection, what its overflow policy had dropped when the
/// batch began (a drop since may have taken records of the batch), and where each record
/// of the batch ends in the bytes the connection writes.
#[derive(Debug)]
struct Target {
    token: Token,
    dropped: u64,
    ends: Vec<u64>,
}

/// Records sent in a row to the same peers.
#[derive(Debug)]
struct Batch {
    targets: Vec<Target>,
    /// The spool position after each record.
    after: Vec<Position>,
    /// Records known to be written.
    settled: usize,
}

#[derive(Default)]
struct LaneState {
    batches: VecDeque<Batch>,
    /// Records in the batches not yet settled.
    in_flight: usize,
    stop: Stop,
}

/// What is in flight from each lane of the spool. No sockets: it is told what was queued
/// where, and asks a closure how far each connection has written.
#[derive(Default)]
pub(super) struct Replay {
    lanes: Vec<LaneState>,
    /// A lane can send more right away.
    more: bool,
    /// Settles in a row that found nothing more delivered while records were in flight.
    stuck: u32,
    /// A frame restamped for this endpoint (records spooled by an earlier run).
    scratch: Vec<u8>,
}

/// How far a connection got: bytes written in all and messages dropped in all; `None` once
/// it is gone.
pub(super) type Progress = Option<(u64, u64)>;

impl Replay {
    fn lane(&mut self, lane: usize) -> &mut LaneState {
        if self.lanes.len() <= lane {
            self.lanes.resize_with(lane + 1, LaneState::default);
        }
        &mut self.lanes[lane]
    }

    /// A record of `lane` was queued for `targets` (connection, where the record ends in
    /// its output stream, messages it had dropped); `after` is the spool position after it.
    pub(super) fn sent(&mut self, lane: usize, targets: &[(Token, u64, u64)], after: Position) {
        let l = self.lane(lane);
        let same = l.batches.back().is_some_and(|b| {
            b.targets.len() == targets.len()
                && b.targets.iter().zip(targets).all(|(a, b)| a.token == b.0)
        });
        if !same {
            l.batches.push_back(Batch {
                targets: targets
                    .iter()
                    .map(|&(token, _, dropped)| Target {
                        token,
                        dropped,
                        ends: Vec::new(),
                    })
                    .collect(),
                after: Vec::new(),
                settled: 0,
            });
        }
        l.in_flight += 1;
        let b = l.batches.back_mut().expect("just made");
        for (t, &(_, end, _)) in b.targets.iter_mut().zip(targets) {
            t.ends.push(end);
        }
        b.after.push(after);
    }

    /// Records of `lane` sent and not yet known to be delivered.
    pub(super) fn in_flight(&self, lane: usize) -> usize {
        self.lanes.get(lane).map_or(0, |l| l.in_flight)
    }

    /// How far `lane` is delivered: the position after the last record that every live
    /// peer it went to has written, if that moved; and whether to send again from the
    /// head, because every peer of an unwritten record is gone.
    pub(super) fn settle(
        &mut self,
        lane: usize,
        progress: impl Fn(Token) -> Progress,
    ) -> (Option<Position>, bool) {
        let l = self.lane(lane);
        let mut done = None;
        while let Some(b) = l.batches.front_mut() {
            let mut written = usize::MAX;
            let mut live = false;
            for t in &b.targets {
                match progress(t.token) {
                    Some((out, dropped)) if dropped == t.dropped => {
                        live = true;
                        let rest = &t.ends[b.settled..];
                        written = written.min(b.settled + rest.partition_point(|&e| e <= out));
                    }
                    _ => {}
                }
            }
            if !live {
                l.batches.clear();
                l.in_flight = 0;
                return (done, true);
            }
            if written > b.settled {
                l.in_flight -= written - b.settled;
                b.settled = written;
                done = Some(b.after[written - 1]);
            }
            if b.settled < b.after.len() {
                break;
            }
            l.batches.pop_front();
        }
        (done, false)
    }

    /// Records queued for the connection `token` that it has not written (`written`: its
    /// bytes written so far). When it ends they are not lost: the spool sends them again.
    pub(super) fn unwritten_for(&self, token: Token, written: u64) -> u64 {
        let batches = self.lanes.iter().flat_map(|l| &l.batches);
        let targets = batches.flat_map(|b| {
            let settled = b.settled;
            b.targets.iter().map(move |t| (t, settled))
        });
        targets
            .filter(|(t, _)| t.token == token)
            .map(|(t, settled)| t.ends[settled..].iter().filter(|&&e| e > written).count() as u64)
            .sum()
    }

    /// True while nothing of `lane` is in flight.
    pub(super) fn idle(&self, lane: usize) -> bool {
        self.lanes.get(lane).is_none_or(|l| l.batches.is_empty())
    }

    pub(super) fn stop(&self, lane: usize) -> Stop {
        self.lanes.get(lane).map_or(Stop::Idle, |l| l.stop)
    }

    fn set_stop(&mut self, lane: usize, stop: Stop) {
        self.lane(lane).stop = stop;
    }
}

impl Reactor {
    /// Takes a publication into the spool if it is a data message for subscribers (not
    /// unicast) on a spooled topic; false if it is not the spool's. Hooked into routing.
    pub(super) fn spool_takes(&mut self, env: &Envelope<'_>, frame: &[u8]) -> bool {
        let Some(spool) = self.spool.as_mut() else {
            return false;
        };
        if env.kind != EnvelopeType::Data || !env.receiver.is_nil() {
            return false;
        }
        let Some(lane) = spool.lane_for(env.topic) else {
            return false;
        };
        spool.append(lane, env.topic, frame);
        true
    }

    /// True if `frame`, a publication, must wait: the spool would take it, but it is full
    /// and its policy is `block`. Hooked into intake.
    pub(super) fn spool_holds(&self, frame: &[u8]) -> bool {
        let Some(spool) = &self.spool else {
            return false;
        };
        if spool.policy() != SpoolPolicy::Block || !spool.is_full() {
            return false;
        }
        let Ok(env) = Envelope::parse(&frame[4..]) else {
            return false;
        };
        env.kind == EnvelopeType::Data
            && env.receiver.is_nil()
            && spool.lane_for(env.topic).is_some()
    }

    /// True if `token` is a connection that can take more from the spool.
    fn has_room(&self, token: Token) -> bool {
        self.conns
            .get(&token)
            .is_some_and(|c| has_room(c, self.cfg.peer_buffer_size))
    }

    /// Writes what the turn appended, and sends records from each lane's cursor to the
    /// peers that want them (before the turn's writes).
    pub(super) fn spool_replay(&mut self) {
        let Some(mut spool) = self.spool.take() else {
            return;
        };
        spool.flush();
        let mut targets = std::mem::take(&mut self.targets);
        let mut scratch = std::mem::take(&mut self.replay.scratch);
        let mut ends = Vec::new();
        for lane in 0..spool.lanes() {
            let (mut records, mut bytes) = (0, 0);
            let stop = loop {
                if !spool.has_unread(lane) {
                    break Stop::Idle;
                }
                if records == TURN_RECORDS || bytes >= TURN_BYTES {
                    break Stop::Budget;
                }
                if self.replay.in_flight(lane) >= IN_FLIGHT {
                    break Stop::InFlight;
                }
                let Next::Record { topic, frame, len } = spool.next(lane) else {
                    break Stop::Idle;
                };
                targets.clear();
                router::select(self.routes(), None, EndpointId::nil(), topic, &mut targets);
                // A connection that is closing takes nothing more.
                targets.retain(|t| self.conns.get(t).is_some_and(|c| c.linger.is_none()));
                if targets.is_empty() {
                    break Stop::NoPeer;
                }
                if let Some(&full) = targets.iter().find(|&&t| !self.has_room(t)) {
                    break Stop::NoRoom(full);
                }
                // Records an earlier run spooled carry its id: they leave with ours.
                let frame = if frame.get(4..20).is_some_and(|s| s != self.id.0) {
                    scratch.clear();
                    scratch.extend_from_slice(frame);
                    let _ = envelope::restamp(&mut scratch[4..], self.id, crate::wire::DEFAULT_TTL);
                    &scratch[..]
                } else {
                    frame
                };
                bytes += frame.len();
                ends.clear();
                for &t in &targets {
                    self.queue_frame(t, frame);
                    if let Some(c) = self.conns.get(&t) {
                        let end = c.traffic.bytes_out + c.queued_bytes() as u64;
                        ends.push((t, end, c.dropped));
                    }
                }
                spool.advance(lane, len);
                self.replay.sent(lane, &ends, spool.cursor(lane));
                self.replay.stuck = 0;
                records += 1;
            };
            self.replay.set_stop(lane, stop);
        }
        self.replay.scratch = scratch;
        self.targets = targets;
        self.spool = Some(spool);
        self.spool_report();
    }

    /// After the turn's writes: moves the heads past what the sockets took, sends lanes
    /// again whose peers were all lost, saves the heads, and notes whether a lane can send
    /// more at once.
    pub(super) fn spool_settle(&mut self) {
        let Some(spool) = self.spool.as_mut() else {
            return;
        };
        let conns = &self.conns;
        let progress = |t: Token| {
            conns.get(&t).map(|c| {
                let unacked = c.stream.unacked().unwrap_or(0) as u64;
                (c.traffic.bytes_out.saturating_sub(unacked), c.dropped)
            })
        };
        let mut more = false;
        let mut moved = false;
        for lane in 0..spool.lanes() {
            let (done, rewind) = self.replay.settle(lane, progress);
            moved |= done.is_some() || rewind;
            if let Some(pos) = done {
                spool.delivered(lane, pos);
            }
            if rewind {
                spool.rewind(lane);
            }
            more |= match self.replay.stop(lane) {
                Stop::Budget => true,
                // No writable event comes for a socket that took everything.
                Stop::NoRoom(t) => conns
                    .get(&t)
                    .is_none_or(|c| c.queued_frames() < (self.cfg.peer_buffer_size / 2).max(1)),
                // Records delivered make room for more in flight.
                Stop::InFlight => rewind || done.is_some(),
                Stop::NoPeer | Stop::Idle => rewind,
            };
        }
        spool.save();
        self.replay.more = more;
        self.replay.stuck = if moved {
            0
        } else {
            self.replay.stuck.saturating_add(1)
        };
        self.spool_report();
    }

    /// How soon the loop must turn for the spool: at once while a lane can send more, soon
    /// while it cannot write.
    pub(super) fn spool_timeout(&self) -> Option<Duration> {
        let spool = self.spool.as_ref()?;
        if self.replay.more {
            Some(Duration::ZERO)
        } else if (0..spool.lanes()).any(|l| !self.replay.idle(l)) {
            // Acknowledgements come without an event.
            Some((SETTLE * 2u32.pow(self.replay.stuck.min(6))).min(SETTLE_MAX))
        } else if spool.unflushed() {
            // Only a write that failed leaves records unwritten after a turn.
            Some(RETRY)
        } else {
            None
        }
    }

    /// True when the spool has nothing to do for a flush: everything written to its files,
    /// nothing in flight, and no record left that a peer wants now.
    pub(super) fn spool_idle(&self) -> bool {
        let Some(spool) = &self.spool else {
            return true;
        };
        !spool.unflushed()
            && (0..spool.lanes()).all(|l| {
                self.replay.idle(l) && (!spool.has_unread(l) || self.replay.stop(l) == Stop::NoPeer)
            })
    }

    /// Reports what the spool noted as error events.
    fn spool_report(&mut self) {
        let Some(spool) = self.spool.as_mut() else {
            return;
        };
        if !spool.has_notes() {
            return;
        }
        for note in spool.take_notes() {
            let (code, msg) = match note {
                Note::Dropped { records, why } => (
                    ErrorCode::Unspecified,
                    format!("spool: dropped {records} messages: {why}"),
                ),
                Note::Damaged(d) => (
                    ErrorCode::InvalidData,
                    format!(
                        "spool: skipped {} damaged bytes at offset {} of {} ({}); {} whole \
                         messages lost with them",
                        d.bytes,
                        d.offset,
                        d.path.display(),
                        d.why,
                        d.records
                    ),
                ),
                Note::Failed(why) => (ErrorCode::CannotWriteFile, format!("spool: {why}")),
                Note::Recovered => (ErrorCode::Unspecified, "spool: writing again".to_string()),
            };
            self.emit(status::error(code, None, None, msg));
        }
    }
}

/// True if a connection can take more from the spool: its send buffer is less than half
/// full, it is not dropping messages, and it is not closing.
fn has_room(c: &Conn, peer_buffer_size: usize) -> bool {
    c.queued_frames() < (peer_buffer_size / 2).max(1) && !c.dropping && c.linger.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn pos(seq: u64) -> Position {
        Position {
            segment: 1,
            offset: 32 + seq * 10,
            seq,
        }
    }

    #[test]
    fn a_record_is_delivered_once_every_live_peer_wrote_all_of_it() {
        let mut r = Replay::default();
        // Three records of 10 bytes to peers 1 and 2, whose outputs held 100 and 0 bytes.
        for i in 1..=3u64 {
            r.sent(
                0,
                &[(Token(1), 100 + 10 * i, 0), (Token(2), 10 * i, 0)],
                pos(i + 1),
            );
        }
        let mut out = HashMap::from([(Token(1), (115, 0)), (Token(2), (30, 0))]);
        let progress = |o: &HashMap<Token, (u64, u64)>| {
            let o = o.clone();
            move |t: Token| o.get(&t).copied()
        };
        // Peer 1 wrote record 1 and half of record 2.
        assert_eq!(r.settle(0, progress(&out)), (Some(pos(2)), false));
        assert_eq!(r.settle(0, progress(&out)), (None, false), "no news");
        out.insert(Token(1), (130, 0));
        assert_eq!(r.settle(0, progress(&out)), (Some(pos(4)), false));
        assert!(r.idle(0));
    }

    #[test]
    fn a_lost_peer_no_longer_holds_records_back_and_all_lost_sends_again() {
        let mut r = Replay::default();
        r.sent(0, &[(Token(1), 10, 0), (Token(2), 10, 0)], pos(2));
        r.sent(0, &[(Token(1), 20, 0), (Token(2), 20, 0)], pos(3));
        // Peer 2 is gone: peer 1 alone decides.
        let one = |t: Token| (t == Token(1)).then_some((20, 0));
        assert_eq!(r.settle(0, one), (Some(pos(3)), false));
        // A batch whose only peer is lost before writing: send again from the head.
        r.sent(0, &[(Token(3), 10, 0)], pos(4));
        r.sent(0, &[(Token(3), 20, 0)], pos(5));
        let partly = |t: Token| (t == Token(3)).then_some((10, 0));
        assert_eq!(r.settle(0, partly), (Some(pos(4)), false));
        assert_eq!(r.settle(0, |_| None), (None, true));
        assert!(r.idle(0));
    }

    #[test]
    fn what_a_connection_had_not_written_is_known_to_stay_in_the_spool() {
        let mut r = Replay::default();
        for i in 1..=4u64 {
            r.sent(
                0,
                &[(Token(1), 10 * i, 0), (Token(2), 10 * i, 0)],
                pos(i + 1),
            );
        }
        let p = |t: Token| Some(if t == Token(1) { (20, 0) } else { (40, 0) });
        assert_eq!(r.settle(0, p), (Some(pos(3)), false));
        assert_eq!(r.unwritten_for(Token(1), 20), 2);
        assert_eq!(r.unwritten_for(Token(2), 40), 0);
        assert_eq!(r.unwritten_for(Token(3), 0), 0);
    }

    #[test]
    fn a_peer_that_dropped_messages_counts_as_lost_for_its_records() {
        let mut r = Replay::default();
        r.sent(0, &[(Token(1), 10, 5)], pos(2));
        // Its overflow policy dropped since: the record may be gone with them.
        assert_eq!(r.settle(0, |_| Some((1000, 6))), (None, true));
    }

    #[test]
    fn records_to_other_peers_start_a_new_batch_and_settle_in_order() {
        let mut r = Replay::default();
        r.sent(0, &[(Token(1), 10, 0)], pos(2));
        r.sent(0, &[(Token(2), 10, 0)], pos(3));
        r.sent(0, &[(Token(1), 20, 0)], pos(4));
        // Peer 2 has written nothing: the records behind its one wait, though peer 1
        // wrote everything.
        let p = |t: Token| Some(if t == Token(1) { (20, 0) } else { (0, 0) });
        assert_eq!(r.settle(0, p), (Some(pos(2)), false));
        let p = |_: Token| Some((20, 0));
        assert_eq!(r.settle(0, p), (Some(pos(4)), false));
    }
}
