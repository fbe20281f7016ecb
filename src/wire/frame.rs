//! Framing (spec §1.3): every message, in the handshake and in Phase 3, is a `u32`
//! big-endian payload length followed by the payload.
//!
//! [`FrameReader`] splits frames off the front of a buffer that the caller fills from its
//! socket, without copying and without ever reading past a frame: when the handshake ends,
//! whatever follows its last frame in the buffer is already Phase 3. [`append_frame`]
//! builds a frame in place at the end of an output buffer.

use crate::error::{Error, ErrorKind, Result};
use std::fmt;

/// The size of the length prefix.
pub const PREFIX_LEN: usize = 4;

/// The largest payload Broker's Phase-3 framing accepts (2^31 - 5 bytes, `INT32_MAX - 4`:
/// CAF's length-prefix framing aborts a connection on a longer one); [`append_frame`]
/// refuses to write more.
pub const MAX_WIRE_PAYLOAD: usize = i32::MAX as usize - 4;

/// The payload limit of a new Phase-3 [`FrameReader`]: Broker's, [`MAX_WIRE_PAYLOAD`].
/// Lower it with [`FrameReader::with_max_payload`] (an endpoint's `max_frame_size`).
pub const DEFAULT_MAX_PAYLOAD: usize = MAX_WIRE_PAYLOAD;

/// The payload limit of a new handshake [`FrameReader`]. Broker's handshake reader has no
/// limit; brook caps it (spec §1.4), so that a connection that has not said who it is cannot
/// make an endpoint buffer more than this. Handshake messages are small: the largest
/// carries a filter, a list of topics.
pub const HANDSHAKE_MAX_PAYLOAD: usize = 16 << 20;

/// Why a byte stream cannot be split into frames. Either way the connection is beyond
/// repair: close it (during the handshake, without drop_conn, as Broker does).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// A frame of length 0 during the handshake.
    Empty,
    /// A frame whose announced payload exceeds the reader's limit.
    TooLong { len: usize, max: usize },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Empty => f.write_str("frame of length 0 during the handshake"),
            FrameError::TooLong { len, max } => {
                write!(f, "frame of {len} bytes exceeds the limit of {max}")
            }
        }
    }
}

impl std::error::Error for FrameError {}

impl From<FrameError> for Error {
    fn from(e: FrameError) -> Error {
        Error::decode(e.to_string())
    }
}

/// Splits a byte stream into frame payloads, with the rules of one protocol phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameReader {
    max_payload: usize,
    skip_empty: bool,
}

impl FrameReader {
    /// The handshake's rules: a frame of length 0 is an error ([`FrameError::Empty`]); at
    /// most [`HANDSHAKE_MAX_PAYLOAD`].
    pub const fn handshake() -> FrameReader {
        FrameReader {
            max_payload: HANDSHAKE_MAX_PAYLOAD,
            skip_empty: false,
        }
    }

    /// Phase 3's rules: frames of length 0 are skipped, as Broker ignores them; at most
    /// [`DEFAULT_MAX_PAYLOAD`].
    pub const fn phase3() -> FrameReader {
        FrameReader {
            max_payload: DEFAULT_MAX_PAYLOAD,
            skip_empty: true,
        }
    }

    /// The same rules with another payload limit.
    pub const fn with_max_payload(self, max_payload: usize) -> FrameReader {
        FrameReader {
            max_payload,
            ..self
        }
    }

    /// The largest payload this reader accepts.
    pub const fn max_payload(&self) -> usize {
        self.max_payload
    }

    /// Splits the next frame off the front of `buf`. Returns its payload, if `buf` holds a
    /// complete frame, and the number of bytes to drop from the front of `buf`: the frame
    /// plus any empty frames skipped before it. Those are counted even when no complete
    /// frame follows, so that a run of empty frames is scanned only once.
    ///
    /// An oversize length is reported as soon as its prefix arrives, before the payload.
    ///
    /// ```
    /// use brook::wire::frame::FrameReader;
    /// let buf = [0, 0, 0, 0, 0, 0, 0, 2, b'h', b'i', 0, 0];
    /// let reader = FrameReader::phase3();
    /// assert_eq!(reader.next_frame(&buf), Ok((Some(&b"hi"[..]), 10)));
    /// assert_eq!(reader.next_frame(&buf[10..]), Ok((None, 0)));
    /// assert!(FrameReader::handshake().next_frame(&buf).is_err());
    /// ```
    pub fn next_frame<'a>(&self, buf: &'a [u8]) -> Result<(Option<&'a [u8]>, usize), FrameError> {
        let mut skipped = 0;
        loop {
            let rest = &buf[skipped..];
            let Some(prefix) = rest.first_chunk::<PREFIX_LEN>() else {
                return Ok((None, skipped));
            };
            let len = u32::from_be_bytes(*prefix) as usize;
            if len == 0 {
                if !self.skip_empty {
                    return Err(FrameError::Empty);
                }
                skipped += PREFIX_LEN;
                continue;
            }
            if len > self.max_payload {
                return Err(FrameError::TooLong {
                    len,
                    max: self.max_payload,
                });
            }
            return Ok(match rest.get(PREFIX_LEN..PREFIX_LEN + len) {
                Some(payload) => (Some(payload), skipped + PREFIX_LEN + len),
                None => (None, skipped),
            });
        }
    }
}

/// Appends one frame to `out`: reserves the length prefix, lets `body` append the payload
/// right behind it, then writes the length. No payload is built elsewhere and copied.
///
/// When `body` fails, or the payload is empty (Broker's peers must never see one) or longer
/// than [`MAX_WIRE_PAYLOAD`], `out` is truncated back to where it was and the error
/// returned.
pub fn append_frame(
    out: &mut Vec<u8>,
    body: impl FnOnce(&mut Vec<u8>) -> Result<()>,
) -> Result<()> {
    let start = out.len();
    out.extend_from_slice(&[0; PREFIX_LEN]);
    let result = body(out).and_then(|()| match out.len().checked_sub(start + PREFIX_LEN) {
        Some(len @ 1..=MAX_WIRE_PAYLOAD) => {
            out[start..start + PREFIX_LEN].copy_from_slice(&(len as u32).to_be_bytes());
            Ok(())
        }
        Some(0) => Err(Error::new(ErrorKind::Encode, "empty frame payload")),
        Some(len) => Err(Error::new(
            ErrorKind::Encode,
            format!("frame payload of {len} bytes exceeds Broker's limit of {MAX_WIRE_PAYLOAD}"),
        )),
        None => Err(Error::new(
            ErrorKind::Encode,
            "frame body shrank the buffer",
        )),
    });
    if result.is_err() {
        out.truncate(start);
    }
    result
}
