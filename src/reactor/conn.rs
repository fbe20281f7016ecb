//! One connection as the reactor sees it: its stream (of any transport kind), its phase
//! (connecting, handshake, peered), its input and output buffers and its counters. Runs
//! only on the reactor thread.

use super::transport::Stream;
use crate::wire::handshake::{Handshake, Handshaker};
use crate::wire::{EndpointId, Filter};
use std::collections::VecDeque;
use std::io::{self, ErrorKind};
use std::net::SocketAddr;

/// The input buffer a connection's first read allocates, and what it grows from.
const INPUT_START: usize = 4 * 1024;
/// The most the input buffer holds while the data comes as frames that fit: it grows up to
/// this while reads fill it (large reads cost less per byte), and beyond it only for a
/// frame whose bytes have arrived and do not fit. A drained buffer larger than this is
/// freed at once.
const INPUT_STEADY: usize = 256 * 1024;
/// Written output is moved out of the buffer's front once this much has accumulated (and
/// it is at least half the buffer).
const COMPACT_AT: usize = 1 << 20;
/// Output capacity an idle connection may keep; more is freed by [`Conn::trim`].
const OUTPUT_KEEP: usize = 16 * 1024;

pub(super) enum Phase {
    /// The transport is still being set up (a non-blocking connect is in flight).
    Connecting,
    Handshake(Handshaker),
    /// An originator waiting for another handshake with the same peer to finish.
    Paused(Handshaker),
    Peered {
        remote: EndpointId,
        filter: Filter,
    },
}

/// What one fill brought.
pub(super) enum Fill {
    /// Bytes; `drained` if the stream then had nothing more (no need to ask again before
    /// the next readiness event).
    Data {
        drained: bool,
    },
    WouldBlock,
    Eof,
}

/// What went through one connection, for metrics.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Traffic {
    pub frames_in: u64,
    pub bytes_in: u64,
    pub frames_out: u64,
    pub bytes_out: u64,
}

pub(super) struct Conn {
    pub stream: Stream,
    pub addr: SocketAddr,
    /// We connected (and retry after a loss).
    pub outbound: bool,
    pub phase: Phase,
    input: Vec<u8>,
    in_pos: usize,
    in_end: usize,
    pub output: Vec<u8>,
    out_pos: usize,
    /// End offsets in `output` of the frames not yet written, to count queued messages.
    frame_ends: VecDeque<usize>,
    /// The advertised filter's generation this peer last heard of.
    pub filter_generation: u64,
    /// The BYE token of our unpeering, while we wait for its pong.
    pub bye: Option<[u8; 11]>,
    /// Set when the connection is closing, to why: only output is flushed, input is
    /// discarded.
    pub linger: Option<String>,
    /// The overflow policy made this peer drop messages instead of stalling publishers.
    pub dropping: bool,
    /// Messages for this peer dropped by the overflow policy, in all.
    pub dropped: u64,
    /// `dropped` when the current run of drops began (reported when it began and ends).
    pub drop_run: Option<u64>,
    pub in_dirty: bool,
    pub malformed_in_a_row: u32,
    /// Reading is held back until a full local subscriber (policy `Block`) has room.
    pub read_paused: bool,
    /// When the socket last took bytes (or the connection started).
    pub last_progress: std::time::Instant,
    pub traffic: Traffic,
    /// The last liveness check found the peer's host silent (see `Reactor::check_liveness`).
    pub silent: bool,
    /// Bytes past the written part that the stream may hold for a write it has not
    /// finished (TLS records encrypted but not sent): a retry must offer them unchanged.
    in_flight: usize,
    /// Bytes were read or written since the last [`Conn::trim`].
    busy: bool,
    /// The last fill found the input buffer too small for what the stream had.
    grow: bool,
}

impl Conn {
    pub fn new(
        stream: Stream,
        addr: SocketAddr,
        outbound: bool,
        phase: Phase,
        filter_generation: u64,
    ) -> Conn {
        Conn {
            stream,
            addr,
            outbound,
            phase,
            input: Vec::new(),
            in_pos: 0,
            in_end: 0,
            output: Vec::new(),
            out_pos: 0,
            frame_ends: VecDeque::new(),
            filter_generation,
            bye: None,
            linger: None,
            dropping: false,
            dropped: 0,
            drop_run: None,
            in_dirty: false,
            malformed_in_a_row: 0,
            read_paused: false,
            last_progress: std::time::Instant::now(),
            traffic: Traffic::default(),
            silent: false,
            in_flight: 0,
            busy: false,
            grow: false,
        }
    }

    pub fn send_handshake(&mut self, msg: &Handshake) {
        let start = self.output.len();
        if msg.encode_frame(&mut self.output).is_ok() {
            self.frame_written(start);
        }
    }

    /// Records that a frame was appended to `output` starting at `start`.
    pub fn frame_written(&mut self, start: usize) {
        if self.output.len() > start {
            self.frame_ends.push_back(self.output.len());
            self.traffic.frames_out += 1;
        }
    }

    /// Drops up to `n` of the oldest queued frames that no write can have begun; returns
    /// how many went.
    pub fn drop_oldest(&mut self, n: usize) -> usize {
        let keep_before = self.out_pos + self.in_flight;
        drop_oldest(&mut self.output, &mut self.frame_ends, keep_before, n)
    }

    /// The peer's id once peered.
    pub fn remote(&self) -> Option<EndpointId> {
        match &self.phase {
            Phase::Peered { remote, .. } => Some(*remote),
            _ => None,
        }
    }

    /// Frames queued but not yet fully written.
    pub fn queued_frames(&self) -> usize {
        self.frame_ends.len()
    }

    /// Bytes queued but not yet written.
    pub fn queued_bytes(&self) -> usize {
        self.output.len() - self.out_pos
    }

    pub fn output_empty(&self) -> bool {
        self.out_pos == self.output.len()
    }

    /// Reads from the stream into the input buffer until the stream has nothing more or the
    /// buffer is nearly full (a TLS stream hands over one record, 16 KiB, per read: this
    /// gathers them, so that frames are handled in large batches over TLS as over TCP).
    /// An end of stream or an error after some bytes is reported by the next call.
    ///
    /// The buffer starts at [`INPUT_START`] and grows with use: it doubles, up to
    /// [`INPUT_STEADY`], after a fill that stopped because it was nearly full (the stream had
    /// more), and beyond that when a read would find it more than three quarters full even
    /// after moving the unread bytes to its front (a frame larger than the buffer, arriving).
    /// So it grows with the bytes that arrived, never with what a length prefix announces:
    /// a large frame costs at most about three times its size, once its bytes are here.
    /// It keeps its length (zeroed once, when it grows); `in_end` marks the filled part, so
    /// a read costs no memset.
    pub fn fill(&mut self) -> io::Result<Fill> {
        self.make_room();
        let mut got = false;
        loop {
            if got && self.input.len() - self.in_end < self.input.len() / 4 {
                self.grow = self.input.len() < INPUT_STEADY;
                return Ok(Fill::Data { drained: false });
            }
            match self.stream.read(&mut self.input[self.in_end..]) {
                Ok(0) if got => return Ok(Fill::Data { drained: false }),
                Ok(0) => return Ok(Fill::Eof),
                Ok(n) => {
                    self.in_end += n;
                    self.traffic.bytes_in += n as u64;
                    self.busy = true;
                    got = true;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    return Ok(if got {
                        Fill::Data { drained: true }
                    } else {
                        Fill::WouldBlock
                    });
                }
                Err(_) if got => return Ok(Fill::Data { drained: false }),
                Err(e) => return Err(e),
            }
        }
    }

    /// Makes room for the next read: moves the unread bytes to the front when less than a
    /// quarter of the buffer is free, and doubles the buffer when the last fill asked for
    /// it or that is still not enough.
    fn make_room(&mut self) {
        let len = self.input.len();
        let cramped = |free: usize| free < (len / 4).max(1);
        if !self.grow && !cramped(len - self.in_end) {
            return;
        }
        if self.in_pos > 0 {
            self.input.copy_within(self.in_pos..self.in_end, 0);
            self.in_end -= self.in_pos;
            self.in_pos = 0;
        }
        if std::mem::take(&mut self.grow) || cramped(len - self.in_end) {
            self.input.resize((2 * len).max(INPUT_START), 0);
        }
    }

    /// Reads and throws away whatever is readable (a closing connection).
    pub fn discard_input(&mut self) {
        let mut sink = [0u8; 4096];
        while let Ok(n) = self.stream.read(&mut sink) {
            if n == 0 {
                break;
            }
        }
    }

    /// Buffered input not yet consumed.
    pub fn unread(&self) -> &[u8] {
        &self.input[self.in_pos..self.in_end]
    }

    pub fn unread_len(&self) -> usize {
        self.in_end - self.in_pos
    }

    /// Takes the input buffer out, with the start and end of its unread part, so that
    /// frames can be handled in place; [`Conn::restore_input`] puts it back.
    pub fn take_input(&mut self) -> (Vec<u8>, usize, usize) {
        let taken = (std::mem::take(&mut self.input), self.in_pos, self.in_end);
        self.in_pos = 0;
        self.in_end = 0;
        taken
    }

    /// Puts back the buffer that [`Conn::take_input`] took, consumed up to `pos`.
    pub fn restore_input(&mut self, input: Vec<u8>, pos: usize, end: usize) {
        self.input = input;
        self.in_pos = pos;
        self.in_end = end;
    }

    pub fn consume(&mut self, n: usize) {
        self.in_pos += n;
    }

    /// Rewinds to the buffer's start once everything was consumed, and gives back the memory
    /// of a buffer that grew for a large frame: freed once drained, or moved to a buffer of
    /// the steady size once what is left of it fits in half of that. Returns whether it gave
    /// memory back.
    pub fn compact_input(&mut self) -> bool {
        if self.in_pos == self.in_end {
            self.in_pos = 0;
            self.in_end = 0;
            if self.input.len() > INPUT_STEADY {
                self.input = Vec::new();
                return true;
            }
        } else if self.input.len() > INPUT_STEADY && self.unread_len() <= INPUT_STEADY / 2 {
            let mut smaller = vec![0; INPUT_STEADY];
            let n = self.unread_len();
            smaller[..n].copy_from_slice(self.unread());
            self.input = smaller;
            self.in_pos = 0;
            self.in_end = n;
            return true;
        }
        false
    }

    /// Called now and then (every second while some buffer is large): a connection that
    /// neither read nor wrote since the last call gives its buffers back (the input buffer
    /// once drained, output capacity beyond [`OUTPUT_KEEP`] once written). Returns whether
    /// it freed memory, and whether it still holds more than an idle connection does.
    pub fn trim(&mut self) -> (bool, bool) {
        let mut freed = false;
        if !std::mem::take(&mut self.busy) {
            if self.in_pos == self.in_end && !self.input.is_empty() {
                self.input = Vec::new();
                self.in_pos = 0;
                self.in_end = 0;
                freed = true;
            }
            if self.output_empty() && self.output.capacity() > OUTPUT_KEEP {
                self.output = Vec::new();
                self.frame_ends = VecDeque::new();
                freed = true;
            }
        }
        (freed, self.is_large())
    }

    /// Holds more buffer memory than an idle connection needs.
    pub fn is_large(&self) -> bool {
        self.input.len() > INPUT_START || self.output.capacity() > OUTPUT_KEEP
    }

    /// Writes buffered output until the socket would block.
    pub fn write_out(&mut self) -> io::Result<()> {
        while self.out_pos < self.output.len() {
            match self.stream.write(&self.output[self.out_pos..]) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.out_pos += n;
                    self.in_flight = 0;
                    self.busy = true;
                    self.traffic.bytes_out += n as u64;
                    self.last_progress = std::time::Instant::now();
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    let offered = self.output.len() - self.out_pos;
                    self.in_flight = self.stream.in_flight(offered);
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        while self
            .frame_ends
            .front()
            .is_some_and(|&end| end <= self.out_pos)
        {
            self.frame_ends.pop_front();
        }
        if self.out_pos == self.output.len() {
            self.output.clear();
            self.out_pos = 0;
        } else if self.out_pos >= COMPACT_AT && self.out_pos >= self.output.len() / 2 {
            // Moving what is left costs no more than what was written since: a large
            // output buffer is not moved once per MiB.
            let done = self.out_pos;
            self.output.drain(..done);
            self.frame_ends.iter_mut().for_each(|e| *e -= done);
            self.out_pos = 0;
        }
        Ok(())
    }
}

/// Hands the memory that closed connections and freed buffers left in the allocator back
/// to the system. glibc keeps freed memory below the top of its heaps (where a closed
/// connection's allocations sit between live ones) until asked; allocators that return it
/// by themselves need nothing.
pub(super) fn release_freed_memory() {
    // SAFETY: malloc_trim takes no pointers; it locks each arena while it gives that
    // arena's free pages back.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Drops up to `n` of the oldest frames of `output` (their ends in `frame_ends`) that start
/// at `keep_before` or later, and never the first (it may be partly written), so that no
/// byte a write in flight holds changes; returns how many went.
fn drop_oldest(
    output: &mut Vec<u8>,
    frame_ends: &mut VecDeque<usize>,
    keep_before: usize,
    n: usize,
) -> usize {
    // Frame i + 1 starts where frame i ends; the first is always kept.
    let kept = 1 + frame_ends
        .iter()
        .take(frame_ends.len().saturating_sub(1))
        .take_while(|&&end| end < keep_before)
        .count();
    let n = n.min(frame_ends.len().saturating_sub(kept));
    if n == 0 {
        return 0;
    }
    let (from, to) = (frame_ends[kept - 1], frame_ends[kept - 1 + n]);
    output.drain(from..to);
    frame_ends.drain(kept..kept + n);
    let gone = to - from;
    frame_ends.iter_mut().skip(kept).for_each(|e| *e -= gone);
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frames of `sizes` bytes, each filled with its index.
    fn queue(sizes: &[usize]) -> (Vec<u8>, VecDeque<usize>) {
        let (mut out, mut ends) = (Vec::new(), VecDeque::new());
        for (i, &n) in sizes.iter().enumerate() {
            out.extend(std::iter::repeat_n(i as u8, n));
            ends.push_back(out.len());
        }
        (out, ends)
    }

    #[test]
    fn dropping_keeps_the_frames_a_write_in_flight_may_hold() {
        // Four frames start before byte 350 (held by a write in flight), three after.
        let (mut out, mut ends) = queue(&[100, 100, 100, 1000, 50, 50, 50]);
        let dropped = drop_oldest(&mut out, &mut ends, 350, 2);
        assert_eq!(dropped, 2);
        // Frames 0-3 are kept; 4 and 5 went, 6 is left.
        let firsts: Vec<u8> = ends.iter().map(|&e| out[e - 1]).collect();
        assert_eq!(firsts, [0, 1, 2, 3, 6]);
        assert_eq!(*ends.back().unwrap(), out.len());
        assert_eq!(out.len(), 1300 + 50);
        // With nothing in flight only the first, perhaps partly written, frame stays.
        let (mut out, mut ends) = queue(&[100, 100, 100]);
        assert_eq!(drop_oldest(&mut out, &mut ends, 0, 5), 2);
        assert_eq!(out, vec![0u8; 100]);
        // Nothing may go when every frame is held.
        let (mut out, mut ends) = queue(&[100, 100]);
        assert_eq!(drop_oldest(&mut out, &mut ends, 1000, 5), 0);
        assert_eq!(out.len(), 200);
    }
}
