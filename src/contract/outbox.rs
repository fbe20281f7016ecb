//! The publish queue: one growing buffer of encoded frames that publishers append to and
//! the reactor takes whole.
//!
//! A publish encodes its frame straight into the shared buffer (under a lock held for that
//! copy only), and wakes the reactor only when the buffer goes from empty to non-empty. The
//! reactor swaps the buffer for an empty one of its own and routes the frames, so a burst
//! of publishes costs one wake-up and one hand-over, with no allocation per message: the two
//! buffers go back and forth between the threads.
//!
//! Invariants: the queue holds at most `frames_cap` frames and about `bytes_cap` bytes
//! (an empty queue admits any one publication, so a large batch cannot wedge it). A full
//! queue blocks publishers on a condition variable that the reactor signals after a take,
//! or makes them report would-block. After [`Outbox::close`] every publish fails at once.

use parking_lot::{Condvar, Mutex, MutexGuard};

/// Why a publication did not go into the queue.
#[derive(Debug)]
pub(crate) enum Refused<E> {
    Full,
    Closed,
    /// The frame writer failed; nothing was queued.
    Invalid(E),
}

struct State {
    buf: Vec<u8>,
    frames: usize,
    closed: bool,
    /// Publishers blocked until there is room.
    waiting: usize,
}

pub(crate) struct Outbox {
    state: Mutex<State>,
    room: Condvar,
    frames_cap: usize,
    bytes_cap: usize,
}

impl Outbox {
    pub(crate) fn new(frames_cap: usize, bytes_cap: usize) -> Outbox {
        Outbox {
            state: Mutex::new(State {
                buf: Vec::new(),
                frames: 0,
                closed: false,
                waiting: 0,
            }),
            room: Condvar::new(),
            frames_cap: frames_cap.max(1),
            bytes_cap: bytes_cap.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // parking_lot's lock is not poisoned by a panic elsewhere: the lock guards plain
        // data that every holder leaves consistent (a failed write is truncated away).
        self.state.lock()
    }

    fn has_room(&self, st: &State) -> bool {
        st.frames == 0 || (st.frames < self.frames_cap && st.buf.len() < self.bytes_cap)
    }

    /// Appends the frames `write` writes (it returns how many), waiting for room if `block`.
    /// Returns true if the queue was empty before, i.e. the reactor needs a wake-up.
    pub(crate) fn push<E>(
        &self,
        block: bool,
        write: impl FnOnce(&mut Vec<u8>) -> Result<usize, E>,
    ) -> Result<bool, Refused<E>> {
        let mut st = self.lock();
        loop {
            if st.closed {
                return Err(Refused::Closed);
            }
            if self.has_room(&st) {
                break;
            }
            if !block {
                return Err(Refused::Full);
            }
            st.waiting += 1;
            self.room.wait(&mut st);
            st.waiting -= 1;
        }
        let start = st.buf.len();
        match write(&mut st.buf) {
            Ok(0) => Ok(false),
            Ok(n) => {
                st.frames += n;
                Ok(start == 0)
            }
            Err(e) => {
                st.buf.truncate(start);
                Err(Refused::Invalid(e))
            }
        }
    }

    /// Swaps the queued frames into `into` (which must be empty); how many there were.
    /// Publishers waiting for room go on.
    pub(crate) fn take(&self, into: &mut Vec<u8>) -> usize {
        debug_assert!(into.is_empty());
        let mut st = self.lock();
        let frames = st.frames;
        if frames == 0 {
            return 0;
        }
        std::mem::swap(&mut st.buf, into);
        st.frames = 0;
        let waiting = st.waiting > 0;
        drop(st);
        if waiting {
            self.room.notify_all();
        }
        frames
    }

    /// Frames queued.
    pub(crate) fn len(&self) -> usize {
        self.lock().frames
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True while a publish would have to wait.
    pub(crate) fn is_full(&self) -> bool {
        let st = self.lock();
        !self.has_room(&st)
    }

    /// Frames the queue holds at most.
    pub(crate) fn capacity(&self) -> usize {
        self.frames_cap
    }

    /// Frames that fit before the queue is full.
    pub(crate) fn free_frames(&self) -> usize {
        let st = self.lock();
        if st.buf.len() >= self.bytes_cap && st.frames > 0 {
            return 0;
        }
        self.frames_cap.saturating_sub(st.frames)
    }

    /// Refuses every later publish and wakes the waiting ones; returns what was queued.
    pub(crate) fn close(&self) -> Vec<u8> {
        let mut st = self.lock();
        st.closed = true;
        st.frames = 0;
        let rest = std::mem::take(&mut st.buf);
        drop(st);
        self.room.notify_all();
        rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    fn frame(out: &mut Vec<u8>, byte: u8) -> Result<usize, ()> {
        out.push(byte);
        Ok(1)
    }

    #[test]
    fn wakes_once_per_burst_and_hands_over_everything() {
        let q = Outbox::new(4, 1024);
        assert!(q.push(true, |o| frame(o, 1)).unwrap());
        assert!(!q.push(true, |o| frame(o, 2)).unwrap());
        let mut got = Vec::new();
        assert_eq!(q.take(&mut got), 2);
        assert_eq!(got, [1, 2]);
        assert_eq!(q.take(&mut Vec::new()), 0);
        assert!(q.push(true, |o| frame(o, 3)).unwrap(), "empty again: wake");
    }

    #[test]
    fn a_failed_write_leaves_nothing() {
        let q = Outbox::new(4, 1024);
        let r = q.push(true, |o: &mut Vec<u8>| {
            o.extend_from_slice(b"half");
            Err::<usize, _>("bad")
        });
        assert!(matches!(r, Err(Refused::Invalid("bad"))));
        assert!(q.is_empty());
        assert_eq!(q.take(&mut Vec::new()), 0);
    }

    #[test]
    fn full_by_frames_or_bytes_but_an_empty_queue_takes_anything() {
        let q = Outbox::new(2, 8);
        q.push(true, |o| frame(o, 1)).unwrap();
        q.push(true, |o| frame(o, 2)).unwrap();
        assert!(q.is_full());
        assert!(matches!(q.push(false, |o| frame(o, 3)), Err(Refused::Full)));
        let mut got = Vec::new();
        q.take(&mut got);
        // Larger than the byte cap, but the queue is empty.
        q.push(false, |o: &mut Vec<u8>| {
            o.extend_from_slice(&[0; 100]);
            Ok::<_, ()>(1)
        })
        .unwrap();
        assert!(matches!(q.push(false, |o| frame(o, 3)), Err(Refused::Full)));
        assert_eq!(q.free_frames(), 0);
    }

    #[test]
    fn a_blocked_publisher_goes_on_after_a_take_or_a_close() {
        let q = Arc::new(Outbox::new(1, 1024));
        q.push(true, |o| frame(o, 1)).unwrap();
        let q2 = q.clone();
        let t = std::thread::spawn(move || q2.push(true, |o| frame(o, 2)).is_ok());
        std::thread::sleep(Duration::from_millis(50));
        let mut got = Vec::new();
        q.take(&mut got);
        assert!(t.join().unwrap());
        let q3 = q.clone();
        let t = std::thread::spawn(move || {
            matches!(q3.push(true, |o| frame(o, 3)), Err(Refused::Closed))
        });
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(q.close(), [2]);
        assert!(t.join().unwrap());
    }
}
