//! A received message as a subscriber takes it: topic and bin-v1 payload in a buffer that
//! the messages of one hand-over share.

use crate::data::zeek::Event;
use crate::data::{Data, bin};
use crate::error::Result;
use std::sync::Arc;

/// A message taken from a [`Subscriber`]: its topic and the bin-v1 bytes of its value.
/// Decoding happens on the subscriber's thread, when asked.
///
/// The messages the reactor hands over together share one buffer (one allocation per
/// batch, not per message); a message keeps only its batch alive.
#[derive(Clone, Debug)]
pub struct Message {
    bytes: Arc<Vec<u8>>,
    topic: (u32, u32),
    payload: (u32, u32),
}

impl PartialEq for Message {
    fn eq(&self, other: &Message) -> bool {
        self.topic() == other.topic() && self.payload() == other.payload()
    }
}

impl Eq for Message {}

impl Message {
    /// A message whose topic and payload are `bytes[topic.0..topic.1]` and
    /// `bytes[payload.0..payload.1]` (ranges the caller checked).
    pub(crate) fn new(bytes: Arc<Vec<u8>>, topic: (u32, u32), payload: (u32, u32)) -> Self {
        Message {
            bytes,
            topic,
            payload,
        }
    }

    /// The topic it was published on.
    pub fn topic(&self) -> &[u8] {
        &self.bytes[self.topic.0 as usize..self.topic.1 as usize]
    }

    /// The bin-v1 encoding of the value.
    pub fn payload(&self) -> &[u8] {
        &self.bytes[self.payload.0 as usize..self.payload.1 as usize]
    }

    /// The value.
    pub fn data(&self) -> Result<Data> {
        bin::decode(self.payload())
    }

    /// The value as a Zeek event.
    pub fn event(&self) -> Result<Event> {
        Event::from_bytes(self.payload())
    }
}
