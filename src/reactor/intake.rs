//! Publication intake and backpressure: the frames taken from the endpoint's publish queue
//! and not yet routed, and the stall clock of peers that stay full.
//!
//! Publications are taken from their queue (taken whole: one swap for every frame published
//! since the last take) only while no peer's buffer is full, so a slow peer makes
//! publishers wait instead of growing memory. A take that cannot be routed to the end is
//! held, and routing resumes from where it stopped. A peer that stays full past
//! `peer_stall_timeout` without taking a byte gets its overflow policy ([`stalled`]).

use crate::contract::outbox::Outbox;
use mio::Token;
use std::time::{Duration, Instant};

/// The largest publish buffer kept for reuse.
const SPARE_MAX: usize = 4 << 20;

#[derive(Default)]
pub(super) struct Intake {
    /// Publications taken from the queue (a buffer of one or more frames, and the offset
    /// of the first not yet routed) that wait for room in a full peer or local subscriber.
    held: Option<(Vec<u8>, usize)>,
    /// The empty buffer that the next take from the publish queue swaps in.
    spare: Vec<u8>,
    /// Publications are left in the queue or held (a peer was full, or the batch ended).
    pub pending: bool,
    /// Since when publications have waited for a full peer.
    stalled_since: Option<Instant>,
    /// Frames taken from the publish queue, in all.
    pub taken_frames: u64,
}

impl Intake {
    /// The held publications, taken out for routing (put back with [`Intake::hold`]).
    pub(super) fn take_held(&mut self) -> Option<(Vec<u8>, usize)> {
        self.held.take()
    }

    /// Holds `buf` from `off` on, to be routed later.
    pub(super) fn hold(&mut self, buf: Vec<u8>, off: usize) {
        self.held = Some((buf, off));
    }

    /// The first held frame, if any.
    pub(super) fn next_held(&self) -> Option<&[u8]> {
        self.held
            .as_ref()
            .and_then(|(buf, off)| next_frame(buf, *off))
    }

    /// A routed buffer comes back, to be the next take's spare unless a burst made it huge.
    pub(super) fn recycle(&mut self, mut done: Vec<u8>) {
        if done.capacity() <= SPARE_MAX {
            done.clear();
            self.spare = done;
        }
    }

    /// Takes everything queued into the held buffer; false if the queue was empty.
    pub(super) fn take(&mut self, outbox: &Outbox) -> bool {
        let mut buf = std::mem::take(&mut self.spare);
        let frames = outbox.take(&mut buf);
        if frames == 0 {
            self.spare = buf;
            return false;
        }
        self.taken_frames += frames as u64;
        self.held = Some((buf, 0));
        true
    }

    /// Everything queued so far was routed: the stall clock stops.
    pub(super) fn drained(&mut self) {
        self.pending = false;
        self.stalled_since = None;
    }

    /// Publishers wait for a full peer. True once they have waited `timeout` (the clock
    /// then starts again): the peers that made no progress get their overflow policy.
    pub(super) fn stall_expired(&mut self, now: Instant, timeout: Duration) -> bool {
        let since = *self.stalled_since.get_or_insert(now);
        if now.duration_since(since) < timeout {
            return false;
        }
        self.stalled_since = None;
        true
    }
}

/// A peer as the stall rule sees it.
pub(super) struct Backlog {
    pub queued_frames: usize,
    /// Its overflow policy already drops for it.
    pub dropping: bool,
    /// When it last took bytes.
    pub last_progress: Instant,
}

/// The peers that are full (`limit` frames queued), not yet dropping, and took no byte for
/// `stall`: those that stall the publishers.
pub(super) fn stalled(
    peers: impl Iterator<Item = (Token, Backlog)>,
    now: Instant,
    limit: usize,
    stall: Duration,
) -> Vec<Token> {
    peers
        .filter(|(_, b)| {
            b.queued_frames >= limit && !b.dropping && now.duration_since(b.last_progress) >= stall
        })
        .map(|(t, _)| t)
        .collect()
}

/// The complete frame (length prefix included) at `off` in a publication buffer.
pub(super) fn next_frame(buf: &[u8], off: usize) -> Option<&[u8]> {
    let len = buf.get(off..off + 4)?;
    let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
    buf.get(off..off + 4 + len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_full_peers_without_progress_stall_the_publishers() {
        let now = Instant::now();
        let long_ago = now - Duration::from_secs(20);
        let peers = [
            (Token(1), 2048, false, long_ago), // full and stuck
            (Token(2), 2048, false, now),      // full but reading
            (Token(3), 10, false, long_ago),   // not full
            (Token(4), 4096, true, long_ago),  // already dropping
        ];
        let backlog = peers.iter().map(|&(t, q, dropping, at)| {
            (
                t,
                Backlog {
                    queued_frames: q,
                    dropping,
                    last_progress: at,
                },
            )
        });
        assert_eq!(
            stalled(backlog, now, 2048, Duration::from_secs(10)),
            [Token(1)]
        );
    }

    #[test]
    fn the_stall_clock_runs_while_publishers_wait_and_stops_when_drained() {
        let mut i = Intake::default();
        let t0 = Instant::now();
        let timeout = Duration::from_secs(10);
        assert!(!i.stall_expired(t0, timeout), "the clock starts");
        assert!(!i.stall_expired(t0 + Duration::from_secs(9), timeout));
        assert!(i.stall_expired(t0 + Duration::from_secs(10), timeout));
        assert!(
            !i.stall_expired(t0 + Duration::from_secs(11), timeout),
            "restarted"
        );
        i.drained();
        assert!(
            !i.stall_expired(t0 + Duration::from_secs(30), timeout),
            "restarted"
        );
    }

    #[test]
    fn a_take_holds_every_queued_frame_and_counts_them() {
        let outbox = Outbox::new(16, 1 << 20);
        for payload in [&b"ab"[..], b"cde"] {
            outbox
                .push(false, |buf: &mut Vec<u8>| {
                    buf.extend_from_slice(&(payload.len() as u32).to_be_bytes());
                    buf.extend_from_slice(payload);
                    Ok::<usize, crate::error::Error>(1)
                })
                .ok()
                .unwrap();
        }
        let mut i = Intake::default();
        assert!(i.take(&outbox));
        assert_eq!(i.taken_frames, 2);
        assert_eq!(i.next_held(), Some(&[0, 0, 0, 2, b'a', b'b'][..]));
        let (buf, _) = i.take_held().unwrap();
        assert_eq!(
            next_frame(&buf, 6),
            Some(&[0, 0, 0, 3, b'c', b'd', b'e'][..])
        );
        assert_eq!(next_frame(&buf, 13), None);
        i.recycle(buf);
        assert!(!i.take(&outbox), "nothing more queued");
    }
}
