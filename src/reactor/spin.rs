//! When the reactor busy-polls (`Config::busy_poll`): for at most the configured window
//! after it did some work, and only while that pays.
//!
//! Each piece of work opens an episode. A spinning episode is a hit if new work turns up
//! within the window, a miss if the window runs out first. Hits raise a small score and
//! misses lower it; the reactor spins only while the score is above zero, and otherwise
//! tries once every [`PROBE`] episodes to see whether spinning has started to pay. So a
//! request/response exchange (work always follows within a round trip) keeps the reactor
//! awake and skips the cost of waking it, while sparse or one-way traffic soon stops it
//! spinning and costs a probe's window now and then.

use std::time::{Duration, Instant};

/// The most hits the score remembers.
const MAX_SCORE: u8 = 4;
/// Episodes between tries while spinning does not pay.
const PROBE: u32 = 16;

pub(super) struct Spin {
    window: Duration,
    last_work: Instant,
    /// An episode is open: work was done and its window has not been decided yet.
    open: bool,
    /// This episode spins.
    spinning: bool,
    score: u8,
    /// Episodes not spun since the last probe.
    skipped: u32,
    /// Spinning episodes that found work in time, and those that did not.
    pub hits: u64,
    pub misses: u64,
}

impl Spin {
    pub(super) fn new(window: Duration) -> Spin {
        Spin {
            window,
            last_work: Instant::now(),
            open: false,
            spinning: false,
            score: 1,
            skipped: 0,
            hits: 0,
            misses: 0,
        }
    }

    /// The reactor found work at `now`.
    pub(super) fn work(&mut self, now: Instant) {
        if self.spinning {
            self.score = (self.score + 1).min(MAX_SCORE);
            self.hits += 1;
        }
        self.spinning = false;
        self.open = !self.window.is_zero();
        self.last_work = now;
    }

    /// Whether to look for work without sleeping now.
    pub(super) fn should_spin(&mut self, now: Instant) -> bool {
        if !self.open {
            return false;
        }
        if now.duration_since(self.last_work) >= self.window {
            if self.spinning {
                self.score = self.score.saturating_sub(1);
                self.misses += 1;
            }
            self.open = false;
            self.spinning = false;
            return false;
        }
        if self.spinning {
            return true;
        }
        // A new episode: spin if it has been paying, or to probe now and then.
        self.skipped += 1;
        if self.score > 0 || self.skipped >= PROBE {
            self.skipped = 0;
            self.spinning = true;
            return true;
        }
        self.open = false;
        false
    }

    /// The score, for tests.
    #[cfg(test)]
    fn score(&self) -> u8 {
        self.score
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: Duration = Duration::from_micros(50);

    fn us(t0: Instant, n: u64) -> Instant {
        t0 + Duration::from_micros(n)
    }

    #[test]
    fn off_without_a_window() {
        let mut s = Spin::new(Duration::ZERO);
        let t0 = Instant::now();
        s.work(t0);
        assert!(!s.should_spin(t0));
    }

    #[test]
    fn keeps_spinning_while_work_comes_within_the_window() {
        let mut s = Spin::new(W);
        let t0 = Instant::now();
        for i in 0..100 {
            s.work(us(t0, i * 30));
            assert!(s.should_spin(us(t0, i * 30 + 10)), "episode {i}");
            assert!(s.should_spin(us(t0, i * 30 + 20)));
        }
        assert_eq!(s.score(), MAX_SCORE);
    }

    #[test]
    fn stops_when_spinning_does_not_pay_and_probes_now_and_then() {
        let mut s = Spin::new(W);
        let t0 = Instant::now();
        let mut spun = 0;
        for i in 0..(10 * PROBE as u64) {
            // Work every millisecond: every window runs out.
            let t = us(t0, i * 1000);
            s.work(t);
            if s.should_spin(us(t0, i * 1000 + 1)) {
                spun += 1;
                assert!(s.should_spin(us(t0, i * 1000 + 20)));
                assert!(!s.should_spin(us(t0, i * 1000 + 60)), "the window ends");
            }
        }
        // The first episode, then one probe in PROBE.
        assert!(spun <= 1 + 10, "spun {spun} times");
        assert!(spun >= 10);
        // When work comes quickly again, a probe finds it and spinning resumes.
        let base = 10 * PROBE as u64 * 1000;
        let mut resumed = false;
        for i in 0..(2 * PROBE as u64) {
            let t = us(t0, base + i * 30);
            s.work(t);
            if s.should_spin(us(t0, base + i * 30 + 5)) && i > PROBE as u64 {
                resumed = true;
            }
        }
        assert!(resumed);
    }
}
