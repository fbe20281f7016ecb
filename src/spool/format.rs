//! The spool's bytes on disk: segment files of records, and the head file that says where
//! delivery stands. Pure functions over byte slices; the files themselves are in `lane.rs`.
//!
//! A segment file is a 32-byte header and then records, back to back:
//!
//! ```text
//! segment header   bincode(fixint, LE) { magic "BROOKSPL", version u32, number u64, first_seq u64 }
//!                  then crc32 of those 28 bytes (u32 LE)
//! record           bincode(fixint, LE) { len u32, crc u32 }            8 bytes
//!                  bincode(standard) { seq u64, topic &[u8], frame &[u8] }   `len` bytes, crc32 `crc`
//! ```
//!
//! `frame` is the Broker frame exactly as published (length prefix, envelope, bin-v1
//! payload) and `topic` its topic, kept beside it so that replay needs no envelope parse.
//! Records in a segment have consecutive sequence numbers from the header's `first_seq`.
//!
//! A record is good only if its length fits what is left of the file, its checksum
//! matches, it decodes, and its sequence number is the one expected. The first record that
//! is not good ends what can be read of its segment: after a crash that is a torn tail (a
//! write the process did not finish), and it is skipped, never delivered.
//!
//! The head file holds two slots of 64 bytes, written in turn, each
//! bincode(fixint, LE) { generation u64, segment u64, offset u64, seq u64 } and its crc32:
//! the position of the first record not yet delivered. The valid slot with the higher
//! generation wins, so a torn slot write falls back to the one before (an older head can
//! only deliver records again, never skip one).

use bincode::config::{self, Config};
use bincode::{BorrowDecode, Decode, Encode};

/// What the segment files begin with.
pub(super) const MAGIC: [u8; 8] = *b"BROOKSPL";
/// The format's version; a segment of another version is not read.
pub(super) const VERSION: u32 = 1;
/// Bytes of a segment header, checksum included.
pub(super) const SEGMENT_HEADER: usize = 32;
/// Bytes of a record's length and checksum.
pub(super) const RECORD_HEADER: usize = 8;
/// The longest record body: a Broker frame is at most 2^32 bytes, and a spool record of
/// more than 2 GiB is a damaged length, not a record.
pub(super) const MAX_BODY: usize = 1 << 31;
/// Bytes of a head file slot.
pub(super) const HEAD_SLOT: usize = 64;

fn fixed() -> impl Config {
    config::standard()
        .with_fixed_int_encoding()
        .with_little_endian()
}

fn body_config() -> impl Config {
    config::standard().with_limit::<MAX_BODY>()
}

#[derive(Encode, Decode, Debug, PartialEq, Eq)]
struct SegmentHead {
    magic: [u8; 8],
    version: u32,
    number: u64,
    first_seq: u64,
}

#[derive(Encode, Decode)]
struct RecordHead {
    len: u32,
    crc: u32,
}

#[derive(Encode, BorrowDecode)]
struct Body<'a> {
    seq: u64,
    topic: &'a [u8],
    frame: &'a [u8],
}

#[derive(Encode, Decode, Debug, Clone, Copy, PartialEq, Eq)]
struct HeadSlot {
    generation: u64,
    segment: u64,
    offset: u64,
    seq: u64,
}

/// The header of segment `number` whose first record is `first_seq`.
pub(super) fn segment_header(number: u64, first_seq: u64) -> [u8; SEGMENT_HEADER] {
    let head = SegmentHead {
        magic: MAGIC,
        version: VERSION,
        number,
        first_seq,
    };
    let mut out = [0u8; SEGMENT_HEADER];
    let n = bincode::encode_into_slice(&head, &mut out, fixed()).expect("28 bytes fit");
    let crc = crc32fast::hash(&out[..n]);
    out[n..n + 4].copy_from_slice(&crc.to_le_bytes());
    out
}

/// A segment header's number and first sequence number; `None` if it is not one of ours
/// (short, another magic or version, a bad checksum).
pub(super) fn parse_segment_header(bytes: &[u8]) -> Option<(u64, u64)> {
    let bytes = bytes.get(..SEGMENT_HEADER)?;
    let (head, n): (SegmentHead, usize) = bincode::decode_from_slice(bytes, fixed()).ok()?;
    let crc = u32::from_le_bytes(bytes[n..n + 4].try_into().ok()?);
    (crc == crc32fast::hash(&bytes[..n]) && head.magic == MAGIC && head.version == VERSION)
        .then_some((head.number, head.first_seq))
}

/// Appends one record to `out`; its length on disk.
pub(super) fn write_record(out: &mut Vec<u8>, seq: u64, topic: &[u8], frame: &[u8]) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0; RECORD_HEADER]);
    let body = Body { seq, topic, frame };
    bincode::encode_into_std_write(&body, out, body_config()).expect("a Vec takes any write");
    let len = out.len() - start - RECORD_HEADER;
    let head = RecordHead {
        len: len as u32,
        crc: crc32fast::hash(&out[start + RECORD_HEADER..]),
    };
    bincode::encode_into_slice(&head, &mut out[start..start + RECORD_HEADER], fixed())
        .expect("8 bytes fit");
    out.len() - start
}

/// The bytes a record of `topic` and `frame` takes on disk (for size checks before it is
/// written): the exact length, as [`write_record`] would make it.
pub(super) fn record_len(seq: u64, topic: &[u8], frame: &[u8]) -> usize {
    let mut size = bincode::enc::write::SizeWriter::default();
    let body = Body { seq, topic, frame };
    let _ = bincode::encode_into_writer(&body, &mut size, body_config());
    RECORD_HEADER + size.bytes_written
}

/// A good record read from a segment.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Record<'a> {
    pub topic: &'a [u8],
    pub frame: &'a [u8],
    /// Its length on disk.
    pub len: usize,
}

/// What lies at the start of some bytes of a segment.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Read<'a> {
    Record(Record<'a>),
    /// The bytes end inside the record (or its header), whose length on disk is given when
    /// known: read more, or, at the end of the file, a torn tail.
    Short(Option<usize>),
    /// Not a good record: why.
    Bad(&'static str),
}

/// Reads the record at the start of `bytes`, which must have sequence number `seq`.
pub(super) fn read_record(bytes: &[u8], seq: u64) -> Read<'_> {
    let Some(head) = bytes.get(..RECORD_HEADER) else {
        return Read::Short(None);
    };
    let Ok((head, _)) = bincode::decode_from_slice::<RecordHead, _>(head, fixed()) else {
        return Read::Bad("unreadable record header");
    };
    let len = head.len as usize;
    if len == 0 || len > MAX_BODY {
        return Read::Bad("impossible record length");
    }
    let Some(body) = bytes.get(RECORD_HEADER..RECORD_HEADER + len) else {
        return Read::Short(Some(RECORD_HEADER + len));
    };
    if crc32fast::hash(body) != head.crc {
        return Read::Bad("checksum mismatch");
    }
    let Ok((rec, used)) = bincode::borrow_decode_from_slice::<Body, _>(body, body_config()) else {
        return Read::Bad("undecodable record");
    };
    if used != len {
        return Read::Bad("record length mismatch");
    }
    if rec.seq != seq {
        return Read::Bad("out-of-sequence record");
    }
    Read::Record(Record {
        topic: rec.topic,
        frame: rec.frame,
        len: RECORD_HEADER + len,
    })
}

/// Where the good records of a whole segment (header included) end, and how many there
/// are: the first record that is not good ends them.
pub(super) fn scan(segment: &[u8], first_seq: u64) -> (usize, u64) {
    let (mut off, mut n) = (SEGMENT_HEADER.min(segment.len()), 0);
    while let Read::Record(r) = read_record(&segment[off..], first_seq + n) {
        off += r.len;
        n += 1;
    }
    (off, n)
}

/// A delivery position: the next record to deliver is record `seq`, at `offset` in
/// segment `segment`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct Position {
    pub segment: u64,
    pub offset: u64,
    pub seq: u64,
}

/// A head file slot holding `pos`, the `generation`th write.
pub(super) fn head_slot(generation: u64, pos: Position) -> [u8; HEAD_SLOT] {
    let slot = HeadSlot {
        generation,
        segment: pos.segment,
        offset: pos.offset,
        seq: pos.seq,
    };
    let mut out = [0u8; HEAD_SLOT];
    let n = bincode::encode_into_slice(slot, &mut out, fixed()).expect("32 bytes fit");
    let crc = crc32fast::hash(&out[..n]);
    out[n..n + 4].copy_from_slice(&crc.to_le_bytes());
    out
}

/// The newest valid slot of a head file's bytes: its generation and position.
pub(super) fn read_head(bytes: &[u8]) -> Option<(u64, Position)> {
    bytes
        .chunks(HEAD_SLOT)
        .filter_map(|slot| {
            let (s, n): (HeadSlot, usize) = bincode::decode_from_slice(slot, fixed()).ok()?;
            let crc = u32::from_le_bytes(slot.get(n..n + 4)?.try_into().ok()?);
            (crc == crc32fast::hash(&slot[..n])).then_some(s)
        })
        .max_by_key(|s| s.generation)
        .map(|s| {
            let pos = Position {
                segment: s.segment,
                offset: s.offset,
                seq: s.seq,
            };
            (s.generation, pos)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(records: &[(&[u8], &[u8])], first_seq: u64) -> Vec<u8> {
        let mut seg = segment_header(7, first_seq).to_vec();
        for (i, (topic, frame)) in records.iter().enumerate() {
            let n = write_record(&mut seg, first_seq + i as u64, topic, frame);
            assert_eq!(n, record_len(first_seq + i as u64, topic, frame));
        }
        seg
    }

    #[test]
    fn records_round_trip_in_order_with_their_topics() {
        let seg = segment(&[(b"/logs/a", b"frame one"), (b"/logs/b", b"")], 10);
        assert_eq!(parse_segment_header(&seg), Some((7, 10)));
        let mut off = SEGMENT_HEADER;
        let Read::Record(r) = read_record(&seg[off..], 10) else {
            panic!("a good record")
        };
        assert_eq!((r.topic, r.frame), (&b"/logs/a"[..], &b"frame one"[..]));
        off += r.len;
        let Read::Record(r) = read_record(&seg[off..], 11) else {
            panic!("a good record")
        };
        assert_eq!((r.topic, r.frame), (&b"/logs/b"[..], &b""[..]));
        off += r.len;
        assert_eq!(off, seg.len());
        assert_eq!(read_record(&seg[off..], 12), Read::Short(None));
        assert_eq!(scan(&seg, 10), (seg.len(), 2));
    }

    #[test]
    fn a_torn_tail_is_short_and_ends_the_good_records() {
        let seg = segment(&[(b"/t", b"aaaa"), (b"/t", b"bbbbbbbb")], 1);
        let first = SEGMENT_HEADER + record_len(1, b"/t", b"aaaa");
        for cut in first + 1..seg.len() {
            let torn = &seg[..cut];
            assert!(
                matches!(read_record(&torn[first..], 2), Read::Short(_)),
                "cut at {cut}"
            );
            assert_eq!(scan(torn, 1), (first, 1), "cut at {cut}");
        }
    }

    #[test]
    fn corruption_anywhere_in_a_record_is_detected() {
        let seg = segment(&[(b"/topic", b"some frame bytes")], 5);
        for i in SEGMENT_HEADER..seg.len() {
            let mut bad = seg.clone();
            bad[i] ^= 0x20;
            let r = read_record(&bad[SEGMENT_HEADER..], 5);
            assert!(!matches!(r, Read::Record(_)), "byte {i} flipped: {r:?}");
            assert_eq!(scan(&bad, 5).1, 0);
        }
        // A good record in the wrong place.
        assert_eq!(
            read_record(&seg[SEGMENT_HEADER..], 6),
            Read::Bad("out-of-sequence record")
        );
        // Zeros (a hole in a file) are not a record.
        assert!(matches!(read_record(&[0; 64], 1), Read::Bad(_)));
    }

    #[test]
    fn segment_headers_are_checked() {
        let mut h = segment_header(3, 99).to_vec();
        assert_eq!(parse_segment_header(&h), Some((3, 99)));
        assert_eq!(parse_segment_header(&h[..31]), None);
        h[20] ^= 1;
        assert_eq!(parse_segment_header(&h), None);
        let mut other = segment_header(3, 99);
        other[0] = b'X';
        assert_eq!(parse_segment_header(&other), None);
    }

    #[test]
    fn the_newest_valid_head_slot_wins() {
        let a = Position {
            segment: 1,
            offset: 32,
            seq: 1,
        };
        let b = Position {
            segment: 2,
            offset: 100,
            seq: 40,
        };
        let mut file = head_slot(4, a).to_vec();
        file.extend_from_slice(&head_slot(5, b));
        assert_eq!(read_head(&file), Some((5, b)));
        // The newer slot torn: the older one stands.
        file[HEAD_SLOT + 10] ^= 0xff;
        assert_eq!(read_head(&file), Some((4, a)));
        assert_eq!(read_head(&[]), None);
        assert_eq!(read_head(&[0; 2 * HEAD_SLOT]), None, "zeros are no slot");
    }
}
