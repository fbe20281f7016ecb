//! A bounded queue whose consumer side has a file descriptor that is readable exactly while
//! the queue holds items (level-triggered), for poll/epoll/select loops.
//!
//! Invariants: the producer (the reactor) never blocks: it only `try_send`s and applies an
//! [`OverflowPolicy`] when the queue is full. The fd is a pipe holding at most one byte:
//! written when the `raised` flag goes false → true, read when it goes true → false. The
//! consumer clears the flag only after seeing the queue empty, then re-checks, so a push
//! racing with a drain cannot leave items behind a silent fd.

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError, bounded};
use std::io::{PipeReader, PipeWriter, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What a full queue does with one more item: Broker's three overflow policies, plus
/// brook's `Block`, which pushes back instead of losing anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OverflowPolicy {
    /// Drop the item that does not fit.
    #[default]
    DropNewest,
    /// Drop the oldest queued item to make room.
    DropOldest,
    /// Close the queue: the consumer sees it disconnected once it has drained it.
    Disconnect,
    /// Keep the item out of the queue until there is room: the reactor stops taking
    /// messages for this consumer (reading from peers, taking local publications), so TCP
    /// and the publishers' queues push back all the way to the publishers. Nothing is lost.
    Block,
}

impl OverflowPolicy {
    /// `disconnect`, `drop_newest` or `drop_oldest`, as Broker names them.
    pub fn from_name(s: &str) -> Option<OverflowPolicy> {
        Some(match s {
            "disconnect" => OverflowPolicy::Disconnect,
            "drop_newest" => OverflowPolicy::DropNewest,
            "drop_oldest" => OverflowPolicy::DropOldest,
            "block" => OverflowPolicy::Block,
            _ => return None,
        })
    }
}

/// A pipe-backed flag: readable while raised.
///
/// The pipe costs two system calls per empty → non-empty → empty cycle, so it is only kept
/// in step with the queue once somebody asked for the fd (`enable`); blocking and polling
/// consumers never pay for it.
struct ReadyFd {
    reader: PipeReader,
    writer: PipeWriter,
    raised: AtomicBool,
    enabled: AtomicBool,
}

impl ReadyFd {
    fn new() -> std::io::Result<ReadyFd> {
        let (reader, writer) = std::io::pipe()?;
        Ok(ReadyFd {
            reader,
            writer,
            raised: AtomicBool::new(false),
            enabled: AtomicBool::new(false),
        })
    }

    fn raise(&self) {
        // Pairs with the fence in `Mailbox::fd`: either the producer sees the fd enabled, or
        // the consumer sees the item.
        std::sync::atomic::fence(Ordering::SeqCst);
        if self.enabled.load(Ordering::Acquire) && !self.raised.swap(true, Ordering::AcqRel) {
            // One byte in an empty pipe never blocks.
            let _ = (&self.writer).write(&[1]);
        }
    }

    fn clear(&self) {
        if self.raised.swap(false, Ordering::AcqRel) {
            // The raiser wrote (or is about to write) exactly one byte.
            let _ = (&self.reader).read(&mut [0u8; 1]);
        }
    }
}

/// Both ends of a bounded queue with a readiness fd. The reactor holds one `Arc` of it and
/// pushes; the consumer's handle holds another and pops.
pub(crate) struct Mailbox<T> {
    tx: Sender<T>,
    rx: Receiver<T>,
    fd: ReadyFd,
    policy: OverflowPolicy,
    dropped: AtomicU64,
    closed: AtomicBool,
    /// Set by the producer when it held back because the queue was full (policy `Block`);
    /// the consumer clears it and calls `on_room` once the queue is half empty.
    blocked: AtomicBool,
    on_room: Option<Box<dyn Fn() + Send + Sync>>,
    /// An item the consumer put back ([`Mailbox::put_back`]): it comes before the queue,
    /// counts in `len` and keeps the fd raised. `fronted` mirrors `front.is_some()` so the
    /// hot paths need no lock.
    front: Mutex<Option<T>>,
    fronted: AtomicBool,
}

/// What a push did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pushed {
    Queued,
    /// The queue was full and the policy dropped one item.
    Dropped,
    /// The queue was full (policy disconnect) or is closed: the consumer is gone or cut off.
    Closed,
}

impl<T> Mailbox<T> {
    pub(crate) fn new(capacity: usize, policy: OverflowPolicy) -> std::io::Result<Mailbox<T>> {
        let (tx, rx) = bounded(capacity.max(1));
        Ok(Mailbox {
            tx,
            rx,
            fd: ReadyFd::new()?,
            policy,
            dropped: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            blocked: AtomicBool::new(false),
            on_room: None,
            front: Mutex::new(None),
            fronted: AtomicBool::new(false),
        })
    }

    /// Calls `f` on the consumer's thread when a blocked producer may go on.
    pub(crate) fn with_room_notifier(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.on_room = Some(Box::new(f));
        self
    }

    /// Slots free for the producer: unlimited unless the policy is `Block` (the others
    /// make room as they push).
    pub(crate) fn free_slots(&self) -> usize {
        if self.policy != OverflowPolicy::Block {
            return usize::MAX;
        }
        let cap = self.rx.capacity().unwrap_or(usize::MAX);
        cap.saturating_sub(self.rx.len())
    }

    /// For policy `Block`: true (and remembered, so that the consumer wakes the producer)
    /// when the queue has no room for another item besides `staged` ones the producer
    /// holds for it.
    pub(crate) fn must_wait(&self, staged: usize) -> bool {
        if self.policy != OverflowPolicy::Block || self.is_closed() {
            return false;
        }
        let cap = self.rx.capacity().unwrap_or(usize::MAX);
        if self.rx.len() + staged < cap {
            return false;
        }
        self.blocked.store(true, Ordering::Release);
        // The consumer may have drained between the check and the flag: look again.
        if self.rx.len() + staged < cap {
            self.blocked.store(false, Ordering::Release);
            return false;
        }
        true
    }

    fn room_made(&self) {
        if self.blocked.load(Ordering::Acquire)
            && self.rx.len() <= self.rx.capacity().unwrap_or(1) / 2
            && self.blocked.swap(false, Ordering::AcqRel)
        {
            if let Some(f) = &self.on_room {
                f();
            }
        }
    }

    /// Pushes without blocking; a full queue applies the overflow policy.
    pub(crate) fn push(&self, item: T) -> Pushed {
        if self.closed.load(Ordering::Acquire) {
            return Pushed::Closed;
        }
        let result = self.enqueue(item);
        self.fd.raise();
        result
    }

    /// Pushes several items, raising the fd once: `Closed` if the queue is (or became)
    /// closed, else `Dropped` if the policy dropped any.
    pub(crate) fn push_many(&self, items: impl IntoIterator<Item = T>) -> Pushed {
        if self.closed.load(Ordering::Acquire) {
            return Pushed::Closed;
        }
        let mut result = Pushed::Queued;
        for item in items {
            match self.enqueue(item) {
                Pushed::Queued => {}
                Pushed::Dropped => result = Pushed::Dropped,
                Pushed::Closed => {
                    result = Pushed::Closed;
                    break;
                }
            }
        }
        self.fd.raise();
        result
    }

    fn enqueue(&self, item: T) -> Pushed {
        match self.tx.try_send(item) {
            Ok(()) => Pushed::Queued,
            Err(TrySendError::Full(item)) => match self.policy {
                OverflowPolicy::DropNewest => {
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                    Pushed::Dropped
                }
                OverflowPolicy::DropOldest => {
                    let _ = self.rx.try_recv();
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                    let _ = self.tx.try_send(item);
                    Pushed::Dropped
                }
                OverflowPolicy::Disconnect => {
                    self.close();
                    Pushed::Closed
                }
                // The reactor checks `must_wait` first; if it pushes anyway, count the loss.
                OverflowPolicy::Block => {
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                    Pushed::Dropped
                }
            },
            Err(TrySendError::Disconnected(_)) => Pushed::Closed,
        }
    }

    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.fd.raise();
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Items dropped by the overflow policy so far.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    pub(crate) fn len(&self) -> usize {
        self.rx.len() + usize::from(self.fronted.load(Ordering::Acquire))
    }

    fn is_empty(&self) -> bool {
        self.rx.is_empty() && !self.fronted.load(Ordering::Acquire)
    }

    /// Puts an item the consumer took back in front of the queue, to be taken first. The
    /// consumer's side only, one item at a time: if one is already back, `item` is returned.
    pub(crate) fn put_back(&self, item: T) -> Result<(), T> {
        let mut front = self.front.lock().unwrap_or_else(|e| e.into_inner());
        if front.is_some() {
            return Err(item);
        }
        *front = Some(item);
        self.fronted.store(true, Ordering::Release);
        drop(front);
        self.fd.raise();
        Ok(())
    }

    /// Calls `f` with the item put back, if any, leaving it there.
    pub(crate) fn with_front<R>(&self, f: impl FnOnce(Option<&T>) -> R) -> R {
        let front = self.front.lock().unwrap_or_else(|e| e.into_inner());
        f(front.as_ref())
    }

    /// The item put back, if any.
    fn take_front(&self) -> Option<T> {
        if !self.fronted.load(Ordering::Acquire) {
            return None;
        }
        let mut front = self.front.lock().unwrap_or_else(|e| e.into_inner());
        self.fronted.store(false, Ordering::Release);
        front.take()
    }

    /// The readiness fd. From the first call on, the pipe follows the queue.
    pub(crate) fn fd(&self) -> RawFd {
        let first = !self.fd.enabled.swap(true, Ordering::AcqRel);
        std::sync::atomic::fence(Ordering::SeqCst);
        if first && (!self.is_empty() || self.is_closed()) {
            // Items that arrived before the fd existed for the caller.
            self.fd.raise();
        }
        self.fd.reader.as_raw_fd()
    }

    /// Lowers the fd if nothing is left, re-checking so that no push is missed, and wakes a
    /// producer that waits for room.
    fn settle(&self) {
        self.room_made();
        if self.is_empty() && !self.is_closed() {
            self.fd.clear();
            if !self.is_empty() || self.is_closed() {
                self.fd.raise();
            }
        }
    }

    /// Takes one item, waiting up to `timeout` (`None`: forever). `Err(true)` means the
    /// queue is closed and drained, `Err(false)` a timeout.
    pub(crate) fn pop(&self, timeout: Option<Duration>) -> Result<T, bool> {
        let deadline = timeout.map(|t| Instant::now() + t);
        if let Some(item) = self.take_front() {
            self.settle();
            return Ok(item);
        }
        loop {
            if let Ok(item) = self.rx.try_recv() {
                self.settle();
                return Ok(item);
            }
            if self.is_closed() {
                return Err(true);
            }
            // Closing does not wake a blocked receiver (the reactor keeps its sender), so
            // wait in slices and look at the closed flag between them.
            let slice = Duration::from_millis(100);
            let wait = match deadline {
                Some(d) => d.saturating_duration_since(Instant::now()).min(slice),
                None => slice,
            };
            match self.rx.recv_timeout(wait) {
                Ok(item) => {
                    self.settle();
                    return Ok(item);
                }
                Err(RecvTimeoutError::Disconnected) => return Err(true),
                Err(RecvTimeoutError::Timeout) => {
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        return Err(false);
                    }
                }
            }
        }
    }

    /// Hands up to `max` waiting items to `f`, without waiting; an item `f` gives back is
    /// put back in front and ends the batch. Looks at the fd once, at the end.
    pub(crate) fn drain_while(&self, max: usize, mut f: impl FnMut(T) -> Result<(), T>) -> usize {
        let mut n = 0;
        while n < max {
            let Some(item) = self.take_front().or_else(|| self.rx.try_recv().ok()) else {
                break;
            };
            if let Err(back) = f(item) {
                // Taken just now, so the front slot is free.
                let _ = self.put_back(back);
                break;
            }
            n += 1;
        }
        self.settle();
        n
    }

    /// Takes up to `max` items without waiting.
    pub(crate) fn drain(&self, max: usize, out: &mut Vec<T>) -> usize {
        let mut n = 0;
        if max > 0
            && let Some(item) = self.take_front()
        {
            out.push(item);
            n += 1;
        }
        while n < max {
            match self.rx.try_recv() {
                Ok(item) => {
                    out.push(item);
                    n += 1;
                }
                Err(_) => break,
            }
        }
        self.settle();
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[repr(C)]
    struct PollFd {
        fd: i32,
        events: i16,
        revents: i16,
    }

    unsafe extern "C" {
        fn poll(fds: *mut PollFd, n: u64, timeout: i32) -> i32;
    }

    /// True if `fd` is readable right now.
    fn readable(fd: RawFd) -> bool {
        const POLLIN: i16 = 1;
        let mut p = PollFd {
            fd,
            events: POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, a zero timeout.
        unsafe { poll(&mut p, 1, 0) == 1 }
    }

    #[test]
    fn a_put_back_item_comes_first_counts_and_keeps_the_fd_raised() {
        let q: Mailbox<u32> = Mailbox::new(4, OverflowPolicy::Block).unwrap();
        let fd = q.fd();
        assert!(!readable(fd));
        q.push(1);
        q.push(2);
        assert_eq!(q.pop(None), Ok(1));
        assert_eq!(q.pop(None), Ok(2));
        assert!(!readable(fd));
        q.put_back(2).unwrap();
        assert_eq!(q.put_back(9), Err(9), "one at a time");
        assert_eq!(q.len(), 1);
        assert!(readable(fd));
        q.push(3);
        let mut out = Vec::new();
        assert_eq!(q.drain(10, &mut out), 2);
        assert_eq!(out, [2, 3]);
        assert_eq!(q.len(), 0);
        assert!(!readable(fd));
    }

    #[test]
    fn drain_while_stops_at_a_given_back_item_and_keeps_it_first() {
        let q: Mailbox<u32> = Mailbox::new(8, OverflowPolicy::Block).unwrap();
        let fd = q.fd();
        for i in 1..=5 {
            q.push(i);
        }
        let mut took = Vec::new();
        let n = q.drain_while(10, |i| {
            if i == 3 {
                return Err(i);
            }
            took.push(i);
            Ok(())
        });
        assert_eq!((n, took), (2, vec![1, 2]));
        assert!(readable(fd));
        assert_eq!(q.len(), 3);
        let mut rest = Vec::new();
        let n = q.drain_while(2, |i| {
            rest.push(i);
            Ok(())
        });
        assert_eq!(n, 2);
        assert_eq!(rest, [3, 4]);
        assert_eq!(q.pop(None), Ok(5));
        assert!(!readable(fd));
    }
}
