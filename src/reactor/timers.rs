//! The reactor's timers: one heap of deadlines; the poll timeout is the nearest one.

use mio::Token;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Timer {
    /// Try an outgoing peering again.
    Retry(SocketAddr),
    /// The connection's handshake must be done by now.
    Handshake(Token),
    /// Our BYE went unanswered.
    Bye(Token),
    /// A closing connection had its chance to flush.
    Linger(Token),
    /// A metrics scrape must be answered by now.
    Scrape(Token),
    /// A listener whose accept failed (out of file descriptors, say) tries again.
    Accept(Token),
    /// The store clock: every attached store ticks.
    StoreTick,
    /// Connections that sent something are checked for a dead peer (`peer_timeout`).
    Liveness,
    /// Connections that went idle give back their large buffers.
    Trim,
}

#[derive(Default)]
pub(super) struct Timers {
    heap: BinaryHeap<Reverse<(Instant, Timer)>>,
}

impl Timers {
    pub(super) fn after(&mut self, delay: Duration, timer: Timer) {
        self.heap.push(Reverse((Instant::now() + delay, timer)));
    }

    /// How long until the nearest deadline, if any.
    pub(super) fn timeout(&self, now: Instant) -> Option<Duration> {
        self.heap
            .peek()
            .map(|Reverse((at, _))| at.saturating_duration_since(now))
    }

    /// The next timer due at `now`, taken off the heap.
    pub(super) fn pop_due(&mut self, now: Instant) -> Option<Timer> {
        match self.heap.peek() {
            Some(Reverse((at, _))) if *at <= now => self.heap.pop().map(|Reverse((_, t))| t),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_come_due_in_deadline_order() {
        let mut t = Timers::default();
        t.after(Duration::from_secs(60), Timer::StoreTick);
        t.after(Duration::ZERO, Timer::Bye(Token(7)));
        t.after(Duration::ZERO, Timer::Handshake(Token(3)));
        let now = Instant::now();
        let mut due = vec![t.pop_due(now).unwrap(), t.pop_due(now).unwrap()];
        due.sort();
        assert_eq!(due, [Timer::Handshake(Token(3)), Timer::Bye(Token(7))]);
        assert_eq!(t.pop_due(now), None, "the store tick is a minute away");
        assert!(t.timeout(now).unwrap() > Duration::from_secs(59));
    }
}
