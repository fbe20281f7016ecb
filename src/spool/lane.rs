//! One lane of the spool: a first-in, first-out queue of records in the segment files of
//! one directory, with a head (the first record not yet delivered, kept in the `head`
//! file) and a read cursor (the next record to send), which runs ahead of the head by the
//! records sent and not yet written to a socket.
//!
//! Appends go to a buffer that [`Lane::flush`] writes to the last segment with one
//! `pwrite` at the offset where the good bytes end, so a failed or partial write is simply
//! written again and never leaves a hole. Reads are `pread`s of at most [`CHUNK`] bytes
//! (or one record). A segment whose records are all delivered is deleted. Segments from
//! an earlier run are never written again: a new run appends to a segment of its own.

use super::format::{self, Position, Read, SEGMENT_HEADER};
use super::sync::Syncer;
use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The most one read asks for (a longer record is read whole).
pub(super) const CHUNK: usize = 256 * 1024;

struct Segment {
    number: u64,
    first_seq: u64,
    /// Bytes in the file.
    len: u64,
    /// Where its good records end, once a damaged record was found in it.
    good_end: Option<u64>,
}

impl Segment {
    fn start(&self) -> Position {
        Position {
            segment: self.number,
            offset: SEGMENT_HEADER as u64,
            seq: self.first_seq,
        }
    }
}

/// A damaged part of a segment, skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Damage {
    pub path: PathBuf,
    pub offset: u64,
    /// Bytes skipped, from `offset` to the end of the file.
    pub bytes: u64,
    /// Whole records lost with them (known from the next segment's first record; 0 for a
    /// torn tail, whose last record was never complete).
    pub records: u64,
    pub why: &'static str,
}

/// What the cursor finds.
pub(super) enum Peek<'a> {
    Record {
        topic: &'a [u8],
        frame: &'a [u8],
        /// Its bytes on disk, for [`Lane::advance`].
        len: usize,
    },
    /// Nothing more to read now.
    Empty,
}

/// The read side's buffer: bytes `off..off + chunk.len()` of segment `segment`.
#[derive(Default)]
struct Reader {
    segment: u64,
    off: u64,
    chunk: Vec<u8>,
    /// A handle on a sealed segment being read (the active one is read through its own).
    file: Option<(u64, File)>,
}

pub(super) struct Lane {
    dir: PathBuf,
    /// The topic prefix whose publications it takes; `None` for a lane found on disk that
    /// the configuration no longer names (it is delivered, and takes nothing new).
    pub prefix: Option<Vec<u8>>,
    /// Oldest first; the last is the one appended to.
    segments: VecDeque<Segment>,
    active: Arc<File>,
    buf: Vec<u8>,
    /// Records in `buf`.
    buf_records: u64,
    next_seq: u64,
    segment_size: u64,
    /// Bytes in the segment files.
    disk: u64,
    head: Position,
    saved_head: Option<Position>,
    head_file: Arc<File>,
    head_generation: u64,
    cursor: Position,
    reader: Reader,
    sync: Option<Syncer>,
}

fn segment_path(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("{number:020}.seg"))
}

impl Lane {
    /// Opens the lane in `dir` (made if missing): its segments, its head, and a new
    /// segment to append to. Damaged segment headers are set aside (renamed `.damaged`)
    /// and reported in `damage`.
    pub(super) fn open(
        dir: PathBuf,
        prefix: Option<Vec<u8>>,
        segment_size: u64,
        sync: Option<Syncer>,
        damage: &mut Vec<Damage>,
    ) -> io::Result<Lane> {
        std::fs::create_dir_all(&dir)?;
        let mut segments = Vec::new();
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            let Some(number) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".seg"))
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            let file = File::open(&path)?;
            let len = file.metadata()?.len();
            let mut header = [0u8; SEGMENT_HEADER];
            let read = file.read_at(&mut header, 0).unwrap_or(0);
            match format::parse_segment_header(&header[..read]) {
                Some((n, first_seq)) if n == number => segments.push(Segment {
                    number,
                    first_seq,
                    len,
                    good_end: None,
                }),
                _ => {
                    let mut aside = path.clone().into_os_string();
                    aside.push(".damaged");
                    std::fs::rename(&path, &aside)?;
                    damage.push(Damage {
                        path,
                        offset: 0,
                        bytes: len,
                        records: 0,
                        why: "no valid segment header",
                    });
                }
            }
        }
        segments.sort_by_key(|s| s.number);
        let head_path = dir.join("head");
        let head_file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&head_path)?;
        let mut slots = vec![0u8; 2 * format::HEAD_SLOT];
        let n = read_full_at(&head_file, &mut slots, 0)?;
        let saved = format::read_head(&slots[..n]);
        let head_generation = saved.map_or(0, |(g, _)| g);
        // Segments wholly before the head are delivered.
        let mut head = saved.map(|(_, p)| p);
        if let Some(h) = head {
            for s in segments.iter().filter(|s| s.number < h.segment) {
                std::fs::remove_file(segment_path(&dir, s.number))?;
            }
            segments.retain(|s| s.number >= h.segment);
        }
        // A head that names no segment, or no place in one, starts at the oldest: records
        // may then be delivered again, never skipped.
        let valid = |h: &Position, s: &Segment| {
            h.segment == s.number && h.offset >= SEGMENT_HEADER as u64 && h.offset <= s.len
        };
        if head.is_some_and(|h| segments.first().is_some_and(|s| !valid(&h, s))) {
            head = None;
        }
        // The last segment's good records tell the next sequence number.
        let next_seq = match segments.last() {
            Some(last) => {
                let mut bytes = Vec::new();
                let mut f = File::open(segment_path(&dir, last.number))?;
                io::Read::read_to_end(&mut f, &mut bytes)?;
                last.first_seq + format::scan(&bytes, last.first_seq).1
            }
            None => head.map_or(1, |h| h.seq.max(1)),
        };
        let head = head
            .or_else(|| segments.first().map(Segment::start))
            .unwrap_or(Position {
                segment: 0,
                offset: SEGMENT_HEADER as u64,
                seq: next_seq,
            });
        let number = segments.last().map_or(head.segment, |s| s.number) + 1;
        let disk = segments.iter().map(|s| s.len).sum();
        let active = Arc::new(create_segment(&dir, number, next_seq)?);
        let mut lane = Lane {
            dir,
            prefix,
            segments: segments.into(),
            active,
            buf: Vec::new(),
            buf_records: 0,
            next_seq,
            segment_size,
            disk,
            head,
            saved_head: saved.map(|(_, p)| p),
            head_file: Arc::new(head_file),
            head_generation,
            cursor: head,
            reader: Reader::default(),
            sync,
        };
        lane.segments.push_back(Segment {
            number,
            first_seq: next_seq,
            len: SEGMENT_HEADER as u64,
            good_end: None,
        });
        lane.disk += SEGMENT_HEADER as u64;
        if lane.index(lane.head.segment).is_none() {
            // Nothing of an earlier run is left.
            lane.head = lane.segments[0].start();
            lane.cursor = lane.head;
        }
        lane.sync_dir();
        Ok(lane)
    }

    fn sync_dir(&self) {
        if let Some(s) = &self.sync {
            if let Ok(d) = File::open(&self.dir) {
                s.request(&Arc::new(d));
            }
        }
    }

    /// The directory it lives in.
    pub(super) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Queues a record for the next flush.
    pub(super) fn append(&mut self, topic: &[u8], frame: &[u8]) {
        format::write_record(&mut self.buf, self.next_seq, topic, frame);
        self.next_seq += 1;
        self.buf_records += 1;
    }

    /// Bytes on disk and waiting to be written.
    pub(super) fn bytes(&self) -> u64 {
        self.disk + self.buf.len() as u64
    }

    /// Records not yet delivered (sent ones not yet written to a socket included).
    pub(super) fn pending(&self) -> u64 {
        self.next_seq - self.head.seq
    }

    /// True while records wait to be written to the file.
    pub(super) fn unflushed(&self) -> bool {
        !self.buf.is_empty()
    }

    /// True while records are appended that the cursor has not reached.
    pub(super) fn has_unread(&self) -> bool {
        self.cursor.seq < self.next_seq
    }

    /// Writes the appended records to the file, and starts a new segment once this one is
    /// `segment_size` long. On an error nothing is lost: the same bytes are written at
    /// the same place by the next flush.
    pub(super) fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let last = self
            .segments
            .back_mut()
            .expect("a lane has its active segment");
        self.active.write_all_at(&self.buf, last.len)?;
        last.len += self.buf.len() as u64;
        self.disk += self.buf.len() as u64;
        self.buf.clear();
        self.buf_records = 0;
        if let Some(s) = &self.sync {
            s.request(&self.active);
        }
        if last.len >= self.segment_size {
            self.rotate()?;
        }
        Ok(())
    }

    /// Seals the active segment and starts the next, which the buffered records go to.
    fn rotate(&mut self) -> io::Result<()> {
        let number = self.segments.back().map_or(1, |s| s.number + 1);
        let first_seq = self.next_seq - self.buf_records;
        let file = create_segment(&self.dir, number, first_seq)?;
        self.active = Arc::new(file);
        self.segments.push_back(Segment {
            number,
            first_seq,
            len: SEGMENT_HEADER as u64,
            good_end: None,
        });
        self.disk += SEGMENT_HEADER as u64;
        self.sync_dir();
        Ok(())
    }

    fn index(&self, number: u64) -> Option<usize> {
        self.segments
            .binary_search_by_key(&number, |s| s.number)
            .ok()
    }

    /// The record at the cursor, read from the file as needed (the cursor stays; see
    /// [`Lane::advance`]). Only flushed records are read. A damaged record ends what can
    /// be read of its segment: the cursor goes on with the next, and `damage` says what
    /// was skipped.
    pub(super) fn peek(&mut self, damage: &mut Vec<Damage>) -> io::Result<Peek<'_>> {
        let (topic, frame, len) = loop {
            let Some(i) = self.index(self.cursor.segment) else {
                // Its segment went (drop_oldest): go on from the oldest left.
                self.cursor = self.segments[0].start();
                continue;
            };
            let last = i + 1 == self.segments.len();
            let seg = &self.segments[i];
            let readable = seg.good_end.unwrap_or(seg.len);
            if self.cursor.offset >= readable {
                if last {
                    return Ok(Peek::Empty);
                }
                let next = &self.segments[i + 1];
                if next.first_seq != self.cursor.seq && seg.good_end.is_none() {
                    // A clean end, yet records are missing: say so.
                    let (from, to) = (self.cursor.seq, next.first_seq);
                    let d = self.damaged(i, "records missing at the end of the segment");
                    damage.push(Damage {
                        records: to.saturating_sub(from),
                        bytes: 0,
                        ..d
                    });
                    continue;
                }
                self.cursor = next.start();
                continue;
            }
            let (number, off) = (seg.number, self.cursor.offset);
            let r = &self.reader;
            let have = if r.segment == number && off >= r.off {
                let rel = (off - r.off) as usize;
                (rel <= r.chunk.len()).then_some(rel)
            } else {
                None
            };
            let Some(rel) = have else {
                self.fill(i, off, format::RECORD_HEADER)?;
                continue;
            };
            match format::read_record(&self.reader.chunk[rel..], self.cursor.seq) {
                Read::Record(r) => {
                    let base = self.reader.chunk.as_ptr() as usize;
                    let t = r.topic.as_ptr() as usize - base;
                    let f = r.frame.as_ptr() as usize - base;
                    break ((t, r.topic.len()), (f, r.frame.len()), r.len);
                }
                Read::Short(need) => {
                    let end = self.reader.off + self.reader.chunk.len() as u64;
                    if end < readable {
                        let need = need.unwrap_or(format::RECORD_HEADER);
                        self.fill(i, off, need)?;
                        continue;
                    }
                    damage.push(self.damaged(i, "torn record at the end of the file"));
                }
                Read::Bad(why) => damage.push(self.damaged(i, why)),
            }
        };
        let chunk = &self.reader.chunk;
        Ok(Peek::Record {
            topic: &chunk[topic.0..topic.0 + topic.1],
            frame: &chunk[frame.0..frame.0 + frame.1],
            len,
        })
    }

    /// Reads segment `i` from `off`: at least `need` bytes if the file has them, and up to
    /// [`CHUNK`].
    fn fill(&mut self, i: usize, off: u64, need: usize) -> io::Result<()> {
        let last = i + 1 == self.segments.len();
        let seg = &self.segments[i];
        let end = seg.good_end.unwrap_or(seg.len);
        let want = (end - off).min(CHUNK.max(need) as u64) as usize;
        let number = seg.number;
        let r = &mut self.reader;
        r.chunk.resize(want, 0);
        let n = if last {
            read_full_at(&self.active, &mut r.chunk, off)?
        } else {
            if r.file.as_ref().is_none_or(|(n, _)| *n != number) {
                r.file = Some((number, File::open(segment_path(&self.dir, number))?));
            }
            let (_, f) = r.file.as_ref().expect("just opened");
            read_full_at(f, &mut r.chunk, off)?
        };
        r.chunk.truncate(n);
        r.segment = number;
        r.off = off;
        if n < want {
            // The file is shorter than we thought (changed behind our back): its end is
            // where reading stops.
            let seg = &mut self.segments[i];
            seg.good_end = Some(off + n as u64);
        }
        Ok(())
    }

    /// Marks the rest of segment `i` from the cursor as damaged and moves the cursor to
    /// the next segment (the active one is sealed first, so that there is one).
    fn damaged(&mut self, i: usize, why: &'static str) -> Damage {
        let (number, len) = (self.segments[i].number, self.segments[i].len);
        let off = self.cursor.offset.min(len);
        self.segments[i].good_end = Some(off);
        if i + 1 == self.segments.len() {
            // Only a file changed behind our back gets here: what is buffered goes to a
            // segment of its own, after the damage.
            let _ = self.rotate().and_then(|_| self.flush());
        }
        let next = self.segments.get(i + 1).map(Segment::start);
        let records = next.map_or(0, |n| n.seq.saturating_sub(self.cursor.seq));
        let was = self.cursor;
        if let Some(n) = next {
            self.cursor = n;
            // Nothing in flight before the damage: the head moves past it too.
            if self.head == was {
                self.head = n;
                self.normalize_head();
            }
        }
        Damage {
            path: segment_path(&self.dir, number),
            offset: off,
            bytes: len - off,
            records,
            why,
        }
    }

    /// Moves the cursor past the record [`Lane::peek`] returned, `len` its bytes on disk.
    pub(super) fn advance(&mut self, len: usize) {
        self.cursor.offset += len as u64;
        self.cursor.seq += 1;
    }

    /// The cursor: where the next record to send is.
    pub(super) fn cursor(&self) -> Position {
        self.cursor
    }

    /// Sends everything from the head again (what was sent is not known to be written).
    pub(super) fn rewind(&mut self) {
        self.cursor = self.head;
    }

    /// The records before `pos` are delivered: the head moves there (never back), and the
    /// segments before it are deleted.
    pub(super) fn delivered(&mut self, pos: Position) -> io::Result<()> {
        if pos.seq <= self.head.seq {
            return Ok(());
        }
        self.head = pos;
        self.normalize_head();
        self.delete_before_head()
    }

    /// A head at the end of a sealed segment moves to the next segment's start.
    fn normalize_head(&mut self) {
        while let Some(i) = self.index(self.head.segment) {
            let s = &self.segments[i];
            if i + 1 == self.segments.len() || self.head.offset < s.good_end.unwrap_or(s.len) {
                break;
            }
            self.head = self.segments[i + 1].start();
        }
        if self.cursor.seq < self.head.seq
            || (self.cursor.seq == self.head.seq && self.cursor.segment < self.head.segment)
        {
            self.cursor = self.head;
        }
    }

    fn delete_before_head(&mut self) -> io::Result<()> {
        while self
            .segments
            .front()
            .is_some_and(|s| s.number < self.head.segment)
        {
            let s = self.segments.pop_front().expect("checked");
            self.disk -= s.len;
            if self
                .reader
                .file
                .as_ref()
                .is_some_and(|(n, _)| *n == s.number)
            {
                self.reader.file = None;
            }
            std::fs::remove_file(segment_path(&self.dir, s.number))?;
        }
        Ok(())
    }

    /// Writes the head to the head file if it moved since the last save.
    pub(super) fn save_head(&mut self) -> io::Result<()> {
        if self.saved_head == Some(self.head) {
            return Ok(());
        }
        let generation = self.head_generation + 1;
        let slot = format::head_slot(generation, self.head);
        let at = (generation % 2) * format::HEAD_SLOT as u64;
        self.head_file.write_all_at(&slot, at)?;
        self.head_generation = generation;
        self.saved_head = Some(self.head);
        if let Some(s) = &self.sync {
            s.request(&self.head_file);
        }
        Ok(())
    }

    /// Drops the oldest segment to make room; how many records went that had not been
    /// sent, or `None` if there is nothing to drop (only an empty active segment).
    pub(super) fn drop_oldest(&mut self) -> io::Result<Option<u64>> {
        if self.segments.len() == 1 {
            if self.next_seq == self.segments[0].first_seq {
                return Ok(None);
            }
            self.flush()?;
            if self.segments.len() == 1 {
                self.rotate()?;
            }
        }
        let (first, next) = (&self.segments[0], self.segments[1].start());
        let unsent_from = if self.cursor.segment <= first.number {
            self.cursor.seq.max(first.first_seq)
        } else {
            next.seq
        };
        let dropped = next.seq.saturating_sub(unsent_from);
        let number = first.number;
        if self.cursor.segment <= number {
            self.cursor = next;
        }
        if self.head.segment <= number {
            self.head = next;
        }
        self.delete_before_head()?;
        Ok(Some(dropped))
    }

    /// Writes what is buffered and the head, and waits for the disk if `sync` (the end of
    /// the endpoint).
    pub(super) fn close(&mut self, sync: bool) -> io::Result<()> {
        self.flush()?;
        self.save_head()?;
        if sync {
            self.active.sync_data()?;
            self.head_file.sync_data()?;
        }
        Ok(())
    }
}

/// Creates segment `number` whose first record is `first_seq`, with its header written.
fn create_segment(dir: &Path, number: u64, first_seq: u64) -> io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(segment_path(dir, number))?;
    file.write_all_at(&format::segment_header(number, first_seq), 0)?;
    Ok(file)
}

/// Reads into `buf` at `off` until it is full or the file ends; how many bytes came.
fn read_full_at(file: &File, buf: &mut [u8], off: u64) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read_at(&mut buf[n..], off + n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
