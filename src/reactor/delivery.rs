//! Local delivery: the endpoint's own subscribers, their filters, and the messages staged
//! for them during a turn.
//!
//! Messages are staged per subscriber, topic and payload back to back in one buffer, and
//! handed over together ([`Delivery::hand_over`]), all sharing that buffer: one allocation and
//! one wake-up per batch, not per message. A subscriber with policy `Block` counts its
//! staged messages against its room, so the reactor can hold back input instead of
//! overfilling it ([`Delivery::must_wait`]).

use crate::contract::Message;
use crate::contract::queue::{Mailbox, Pushed};
use crate::wire::Filter;
use std::sync::Arc;

/// Staged bytes past which a subscriber's messages are handed over at once.
const STAGE_FLUSH_BYTES: usize = 1 << 20;

struct LocalSub {
    id: u64,
    topics: Vec<Vec<u8>>,
    filter: Filter,
    mailbox: Arc<Mailbox<Message>>,
    /// Messages staged during this turn: their topics and payloads back to back, and each
    /// one's ranges in that buffer.
    staged_bytes: Vec<u8>,
    staged: Vec<((u32, u32), (u32, u32))>,
    /// A lower bound of the free slots in the mailbox for staged messages: looked up again
    /// only when the staged messages reach it.
    room: usize,
    /// Messages handed to the mailbox (those its overflow policy dropped included).
    delivered: u64,
}

impl LocalSub {
    /// True if one more message would overfill a mailbox with policy `Block`.
    fn must_wait(&mut self) -> bool {
        if self.staged.len() < self.room {
            return false;
        }
        self.room = self.mailbox.free_slots();
        self.staged.len() >= self.room && self.mailbox.must_wait(self.staged.len())
    }

    /// Stages a message; false if the subscriber is gone.
    fn stage(&mut self, topic: &[u8], payload: &[u8]) -> bool {
        let b = &mut self.staged_bytes;
        let t = b.len();
        b.extend_from_slice(topic);
        let p = b.len();
        b.extend_from_slice(payload);
        // Below STAGE_FLUSH_BYTES before this message, plus one frame of at most 2 GiB
        // (MAX_WIRE_PAYLOAD): the ranges fit in u32.
        let range = |a: usize, z: usize| (a as u32, z as u32);
        self.staged.push((range(t, p), range(p, b.len())));
        if b.len() >= STAGE_FLUSH_BYTES {
            return self.hand_over();
        }
        true
    }

    /// Hands the staged messages over, all sharing one buffer; false if the subscriber is
    /// gone.
    fn hand_over(&mut self) -> bool {
        if self.staged.is_empty() {
            return !self.mailbox.is_closed();
        }
        let keep = self.staged_bytes.len().min(64 * 1024);
        let bytes = Arc::new(std::mem::replace(
            &mut self.staged_bytes,
            Vec::with_capacity(keep),
        ));
        self.room = self.room.saturating_sub(self.staged.len());
        self.delivered += self.staged.len() as u64;
        let msgs = self
            .staged
            .drain(..)
            .map(|(t, p)| Message::new(bytes.clone(), t, p));
        self.mailbox.push_many(msgs) != Pushed::Closed
    }
}

/// One subscriber's counters.
pub(super) struct SubscriberCounts {
    pub id: u64,
    pub topics: Vec<Vec<u8>>,
    pub queued: usize,
    pub delivered: u64,
    pub dropped: u64,
}

#[derive(Default)]
pub(super) struct Delivery {
    subs: Vec<LocalSub>,
    /// The indices in `subs` of the subscribers that match `matched_topic`, while
    /// `matched_valid` (cleared whenever `subs` changes).
    matched: Vec<usize>,
    matched_topic: Vec<u8>,
    matched_valid: bool,
    /// Some subscriber has staged messages.
    staged: bool,
}

impl Delivery {
    pub(super) fn subscribe(
        &mut self,
        id: u64,
        topics: Vec<Vec<u8>>,
        mailbox: Arc<Mailbox<Message>>,
    ) {
        let filter: Filter = topics.iter().collect();
        self.subs.push(LocalSub {
            id,
            topics,
            filter,
            mailbox,
            staged_bytes: Vec::new(),
            staged: Vec::new(),
            room: 0,
            delivered: 0,
        });
        self.matched_valid = false;
    }

    pub(super) fn add_topic(&mut self, id: u64, topic: &[u8]) {
        if let Some(s) = self.subs.iter_mut().find(|s| s.id == id) {
            s.filter.add(topic);
            s.topics.push(topic.to_vec());
        }
        self.matched_valid = false;
    }

    pub(super) fn remove_topic(&mut self, id: u64, topic: &[u8]) {
        if let Some(s) = self.subs.iter_mut().find(|s| s.id == id) {
            s.topics.retain(|t| t != topic);
            s.filter = s.topics.iter().collect();
        }
        self.matched_valid = false;
    }

    pub(super) fn unsubscribe(&mut self, id: u64) {
        self.subs.retain(|s| s.id != id);
        self.matched_valid = false;
    }

    /// Sets `matched` to the subscribers whose filters match `topic` (remembered for the
    /// next message on the same topic until the subscriptions change).
    fn match_topic(&mut self, topic: &[u8]) {
        if self.matched_valid && self.matched_topic == topic {
            return;
        }
        self.matched.clear();
        self.matched.extend(
            self.subs
                .iter()
                .enumerate()
                .filter(|(_, s)| s.filter.matches(topic))
                .map(|(i, _)| i),
        );
        self.matched_topic.clear();
        self.matched_topic.extend_from_slice(topic);
        self.matched_valid = true;
    }

    /// True if a message on `topic` would overfill a subscriber with policy `Block`.
    pub(super) fn must_wait(&mut self, topic: &[u8]) -> bool {
        self.match_topic(topic);
        let subs = &mut self.subs;
        self.matched.iter().any(|&i| subs[i].must_wait())
    }

    /// Stages a message for the subscribers whose filters match; [`Delivery::hand_over`] hands
    /// it over.
    pub(super) fn stage(&mut self, topic: &[u8], payload: &[u8]) {
        self.match_topic(topic);
        let mut gone = false;
        for &i in &self.matched {
            gone |= !self.subs[i].stage(topic, payload);
        }
        self.staged = true;
        if gone {
            self.hand_over();
        }
    }

    /// Hands staged messages to their subscribers, and forgets subscribers that are gone.
    pub(super) fn hand_over(&mut self) {
        if std::mem::take(&mut self.staged) {
            let before = self.subs.len();
            self.subs.retain_mut(LocalSub::hand_over);
            if self.subs.len() != before {
                self.matched_valid = false;
            }
        }
    }

    pub(super) fn counts(&self) -> Vec<SubscriberCounts> {
        self.subs
            .iter()
            .map(|s| SubscriberCounts {
                id: s.id,
                topics: s.topics.clone(),
                queued: s.mailbox.len(),
                delivered: s.delivered,
                dropped: s.mailbox.dropped(),
            })
            .collect()
    }

    pub(super) fn close_all(&mut self) {
        for s in self.subs.drain(..) {
            s.mailbox.close();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::OverflowPolicy;

    fn mailbox(n: usize, policy: OverflowPolicy) -> Arc<Mailbox<Message>> {
        Arc::new(Mailbox::new(n, policy).unwrap())
    }

    #[test]
    fn staged_messages_reach_the_matching_subscribers_at_the_flush() {
        let mut d = Delivery::default();
        let (a, b) = (
            mailbox(8, OverflowPolicy::Block),
            mailbox(8, OverflowPolicy::Block),
        );
        d.subscribe(1, vec![b"/a".to_vec()], a.clone());
        d.subscribe(2, vec![b"/b".to_vec()], b.clone());
        d.stage(b"/a/x", b"one");
        d.stage(b"/a/y", b"two");
        assert_eq!(a.len(), 0, "nothing before the flush");
        d.hand_over();
        assert_eq!((a.len(), b.len()), (2, 0));
        let m = a.pop(None).unwrap();
        assert_eq!((m.topic(), m.payload()), (&b"/a/x"[..], &b"one"[..]));
        d.add_topic(2, b"/a");
        d.stage(b"/a/z", b"three");
        d.hand_over();
        assert_eq!((a.len(), b.len()), (2, 1));
        let counts = d.counts();
        assert_eq!((counts[0].delivered, counts[1].delivered), (3, 1));
        d.remove_topic(2, b"/a");
        d.stage(b"/a/z", b"four");
        d.hand_over();
        assert_eq!(b.len(), 1);
    }

    #[test]
    fn a_full_blocking_subscriber_makes_messages_wait() {
        let mut d = Delivery::default();
        let a = mailbox(2, OverflowPolicy::Block);
        d.subscribe(1, vec![b"/a".to_vec()], a.clone());
        assert!(!d.must_wait(b"/a"));
        d.stage(b"/a", b"1");
        d.stage(b"/a", b"2");
        assert!(d.must_wait(b"/a"), "two staged fill a mailbox of two");
        assert!(!d.must_wait(b"/b"), "nobody else is full");
        d.hand_over();
        assert!(d.must_wait(b"/a"));
        a.pop(None).unwrap();
        assert!(!d.must_wait(b"/a"));
    }

    #[test]
    fn a_subscriber_whose_mailbox_closed_is_forgotten() {
        let mut d = Delivery::default();
        let a = mailbox(2, OverflowPolicy::DropNewest);
        d.subscribe(1, vec![b"/a".to_vec()], a.clone());
        a.close();
        d.stage(b"/a", b"1");
        d.hand_over();
        assert!(d.counts().is_empty());
    }
}
