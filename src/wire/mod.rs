//! Broker's peer protocol on the wire (spec §1-§4): framing, the handshake and Phase-3
//! envelopes. Bytes in, values out: nothing here touches a socket, a thread or a clock, so
//! the whole layer is tested against the golden captures alone.
//!
//! A connection runs three phases: version negotiation (hello, probe, version_select),
//! filter exchange (originator_syn, responder_syn_ack, originator_ack), then envelopes until
//! it closes. [`frame`] splits the byte stream into frames, [`handshake`] covers the first
//! two phases and [`envelope`] the third.
//!
//! Invariants:
//! - Decoders take untrusted input. They never panic, allocate no more than the input can
//!   justify, and say what was wrong: envelopes and filters with the offset, handshake
//!   messages with the drop_conn Broker would answer.
//! - Encoders append to a caller's buffer and, when they fail (a length the format cannot
//!   express), leave that buffer as it was: a half-written frame never reaches a peer.

pub mod envelope;
mod filter;
pub mod frame;
pub mod handshake;

/// Broker's error codes live with brook's error type; the wire layer writes and reads them.
pub use crate::error::ErrorCode;
pub use filter::Filter;

use crate::error::Error;
use std::fmt;
use std::str::FromStr;

/// The only version of Broker's protocol: what hello offers and version_select selects.
pub const PROTOCOL_VERSION: u8 = 1;

/// The magic number opening hello, probe, version_select and drop_conn bodies: "ZEEK".
pub const MAGIC: u32 = 0x5A45_454B;

/// The TTL brook writes on every envelope, as current Broker does. Nobody enforces it.
pub const DEFAULT_TTL: u16 = 16;

/// The topic of routing_update, ping and pong envelopes.
pub const TOPIC_CONTROL: &[u8] = b"<$>";

/// The 16-byte ID of an endpoint (a UUID), written raw on the wire.
///
/// `Ord` compares the bytes as `memcmp` does: the smaller ID is the originator of a
/// handshake. The all-zero ID is nil, "no endpoint" (e.g. the receiver of a broadcast).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EndpointId(pub [u8; 16]);

impl EndpointId {
    /// The nil ID.
    pub const fn nil() -> EndpointId {
        EndpointId([0; 16])
    }

    /// True for the nil ID.
    pub fn is_nil(&self) -> bool {
        self.0 == [0; 16]
    }

    /// A fresh RFC 4122 version-4 UUID, which Broker's text parser accepts (it rejects
    /// versions 0 and above 5). Entropy comes from `/dev/urandom`, or where that cannot be
    /// read, from std's randomly keyed hasher over the time, the process ID and a counter.
    pub fn random() -> EndpointId {
        let mut b = [0u8; 16];
        if !read_urandom(&mut b) {
            hashed_entropy(&mut b);
        }
        b[6] = (b[6] & 0x0F) | 0x40;
        b[8] = (b[8] & 0x3F) | 0x80;
        EndpointId(b)
    }
}

fn read_urandom(b: &mut [u8; 16]) -> bool {
    use std::io::Read;
    std::fs::File::open("/dev/urandom").is_ok_and(|mut f| f.read_exact(b).is_ok())
}

fn hashed_entropy(b: &mut [u8; 16]) {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    for half in b.chunks_exact_mut(8) {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(now);
        h.write_u32(std::process::id());
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        half.copy_from_slice(&h.finish().to_be_bytes());
    }
}

/// Lowercase `8-4-4-4-12` hex, as Broker prints IDs.
impl fmt::Display for EndpointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, byte) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for EndpointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EndpointId({self})")
    }
}

/// Reads the `8-4-4-4-12` form in upper or lower case. Unlike Broker, it accepts any
/// version nibble: an ID is only compared and echoed, never interpreted.
impl FromStr for EndpointId {
    type Err = Error;

    fn from_str(s: &str) -> Result<EndpointId, Error> {
        let bad = || Error::invalid(format!("not an endpoint ID (8-4-4-4-12 hex): {s:?}"));
        let text = s.as_bytes();
        if text.len() != 36 || [8, 13, 18, 23].iter().any(|&i| text[i] != b'-') {
            return Err(bad());
        }
        let mut digits = text.iter().filter(|&&c| c != b'-');
        let mut id = [0u8; 16];
        for byte in &mut id {
            let (Some(hi), Some(lo)) = (digits.next(), digits.next()) else {
                return Err(bad());
            };
            let nibble = |c: u8| (c as char).to_digit(16).ok_or_else(bad);
            *byte = ((nibble(*hi)? << 4) | nibble(*lo)?) as u8;
        }
        Ok(EndpointId(id))
    }
}

/// A bounds-checked cursor over untrusted bytes. Reads return `None` when the input ends
/// early; callers turn that into an error naming what they were reading.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(buf: &'a [u8]) -> Cursor<'a> {
        Cursor { buf, pos: 0 }
    }

    fn left(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.buf.get(self.pos..)?.get(..n)?;
        self.pos += n;
        Some(s)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let a = *self.buf.get(self.pos..)?.first_chunk::<N>()?;
        self.pos += N;
        Some(a)
    }

    fn u8(&mut self) -> Option<u8> {
        Some(self.array::<1>()?[0])
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.array()?))
    }

    fn id(&mut self) -> Option<EndpointId> {
        Some(EndpointId(self.array()?))
    }

    /// A varbyte length, read as Broker reads it: any number of bytes, low 32 bits kept.
    fn varbyte(&mut self) -> Option<usize> {
        let mut value: u32 = 0;
        let mut shift: u32 = 0;
        loop {
            let b = self.u8()?;
            if shift < 32 {
                value |= u32::from(b & 0x7F) << shift;
            }
            shift = shift.saturating_add(7);
            if b & 0x80 == 0 {
                return Some(value as usize);
            }
        }
    }

    /// A `str`: varbyte length, then that many bytes.
    fn str(&mut self) -> Option<&'a [u8]> {
        let n = self.varbyte()?;
        self.take(n)
    }
}
