//! The subscription filter a node advertises to its peers (spec §2.4).

use super::Cursor;
use crate::data::bin::put_varbyte;
use crate::error::{Error, Result};

/// A set of topic prefixes: a topic matches when one of them is a byte prefix of it.
///
/// Invariant: the prefixes are sorted bytewise and none is a prefix of another, which is
/// Broker's normalisation. Two things follow: a filter encodes exactly as Broker encodes
/// the same subscriptions, and matching is one binary search (the only candidate prefix
/// of a topic is the greatest entry not above it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Filter {
    topics: Vec<Vec<u8>>,
}

impl Filter {
    /// Decoding rejects filters with more topics than this. Broker has no limit, but real
    /// filters hold tens of topics, and the limit bounds what an unauthenticated peer can
    /// make us allocate (a one-byte topic would cost some 40 bytes of memory).
    pub const MAX_TOPICS: usize = 1 << 16;

    /// The empty filter: matches nothing.
    pub fn new() -> Filter {
        Filter::default()
    }

    /// Adds a prefix as Broker does: nothing changes when an entry equals `topic` or is a
    /// prefix of it; otherwise entries that `topic` is a prefix of are replaced by it.
    /// Returns whether the filter changed, i.e. whether peers need a routing_update.
    pub fn add(&mut self, topic: impl AsRef<[u8]>) -> bool {
        let topic = topic.as_ref();
        if self.matches(topic) {
            return false;
        }
        // Entries that start with `topic` sort right after it, so they form one run.
        let at = self.topics.partition_point(|e| e.as_slice() < topic);
        let covered = self.topics[at..]
            .iter()
            .take_while(|e| e.starts_with(topic))
            .count();
        self.topics
            .splice(at..at + covered, std::iter::once(topic.to_vec()));
        true
    }

    /// True when some prefix of the filter is a prefix of `topic`.
    pub fn matches(&self, topic: &[u8]) -> bool {
        let at = self.topics.partition_point(|e| e.as_slice() <= topic);
        at > 0 && topic.starts_with(&self.topics[at - 1])
    }

    /// The prefixes, sorted.
    pub fn topics(&self) -> &[Vec<u8>] {
        &self.topics
    }

    /// The number of prefixes.
    pub fn len(&self) -> usize {
        self.topics.len()
    }

    /// True for the filter that matches nothing.
    pub fn is_empty(&self) -> bool {
        self.topics.is_empty()
    }

    /// Appends the wire form, `varbyte(n)` and n × `str`. Fails only for a topic of 4 GiB
    /// or more; `out` is then unchanged.
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        let result = (|| {
            put_varbyte(out, self.topics.len())?;
            for t in &self.topics {
                put_varbyte(out, t.len())?;
                out.extend_from_slice(t);
            }
            Ok(())
        })();
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    /// Decodes a filter that fills `buf` exactly (a routing_update payload), normalising
    /// it: peers need not send it normalised.
    pub fn decode(buf: &[u8]) -> Result<Filter> {
        let (filter, used) = Filter::decode_prefix(buf)?;
        if used != buf.len() {
            return Err(Error::decode(format!(
                "filter: {} trailing bytes at offset {used}",
                buf.len() - used
            )));
        }
        Ok(filter)
    }

    /// Like [`Filter::decode`], but reads from the start of `buf` and returns the number of
    /// bytes used: handshake bodies may carry trailing bytes, which Broker ignores.
    pub fn decode_prefix(buf: &[u8]) -> Result<(Filter, usize)> {
        let mut r = Cursor::new(buf);
        let truncated = |at: usize| Error::decode(format!("filter: truncated at offset {at}"));
        let n = r.varbyte().ok_or_else(|| truncated(0))?;
        // Each topic needs at least its length byte, so `n` cannot exceed what is left.
        if n > r.left() || n > Filter::MAX_TOPICS {
            return Err(Error::decode(format!(
                "filter: claims {n} topics but has {} bytes (and brook's limit is {})",
                r.left(),
                Filter::MAX_TOPICS
            )));
        }
        let mut topics = Vec::with_capacity(n);
        for _ in 0..n {
            let at = r.pos;
            topics.push(r.str().ok_or_else(|| truncated(at))?);
        }
        Ok((topics.into_iter().collect(), r.pos))
    }
}

/// Builds a normalised filter from any prefixes in O(n log n): sort, then keep each entry
/// only if the last kept one is not a prefix of it (a prefix sorts before, and everything
/// between it and an extension of it also starts with it).
impl<T: AsRef<[u8]>> FromIterator<T> for Filter {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Filter {
        let owned: Vec<T> = iter.into_iter().collect();
        let mut all: Vec<&[u8]> = owned.iter().map(AsRef::as_ref).collect();
        all.sort_unstable();
        let mut topics: Vec<Vec<u8>> = Vec::with_capacity(all.len());
        for t in all {
            if !topics.last().is_some_and(|last| t.starts_with(last)) {
                topics.push(t.to_vec());
            }
        }
        Filter { topics }
    }
}
