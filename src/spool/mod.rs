//! The spool: publications kept on disk until a peer's socket has taken them, so that
//! what an endpoint publishes while nobody takes it (the logger is down or restarting)
//! is delivered, in order, once a peer that wants it is back: also after the publishing
//! process itself restarted, by a new endpoint on the same directory.
//!
//! With a spool, every data message published on a spooled topic is appended to the spool
//! first and sent from it (a write-ahead log), and a record leaves the spool only once a
//! peer's socket has taken all its bytes. So delivery is at least once across crashes of
//! the publisher, and what is lost is only what a dying peer had not read from its
//! kernel's socket buffer (Broker's protocol has no acknowledgements).
//!
//! Layout: the directory holds a `lock` file (one endpoint at a time) and one lane per
//! topic prefix of [`SpoolOptions::topics`] (`all` when none is set, else
//! `topic-<hex of the prefix>`), each a first-in, first-out queue of segment files
//! (`lane.rs`, format in `format.rs`). A publication goes to the lane of the longest
//! prefix it matches; a lane's records are sent in order, and one that no peer wants holds
//! back those behind it.
//!
//! This module does its own file I/O and nothing else: no sockets, no envelopes. Appends
//! are buffered and written once per reactor turn; reads are bounded chunks; fsync, when
//! asked for, runs on a thread of its own (`sync.rs`). It depends on [`crate::error`] only.

mod format;
mod lane;
mod sync;
#[cfg(test)]
mod tests;

pub(crate) use format::Position;
pub(crate) use lane::Damage;

use crate::error::{Error, ErrorKind, Result};
use lane::Lane;
use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use sync::Syncer;

/// What a full spool does (`brook.spool.policy`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SpoolPolicy {
    /// Stop taking publications until delivery makes room: publishers wait, and
    /// non-blocking ones see would-block, as with a full publish queue. Nothing is lost.
    #[default]
    Block,
    /// Drop the oldest records (a segment at a time) to make room; they are counted
    /// (`EndpointMetrics::spool_dropped`) and reported as an error event.
    DropOldest,
}

impl SpoolPolicy {
    /// `block` or `drop_oldest`.
    pub fn from_name(s: &str) -> Option<SpoolPolicy> {
        match s {
            "block" => Some(SpoolPolicy::Block),
            "drop_oldest" => Some(SpoolPolicy::DropOldest),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SpoolPolicy::Block => "block",
            SpoolPolicy::DropOldest => "drop_oldest",
        }
    }
}

/// The spool's options (`brook.spool.*`; Broker has none of them). Off unless `dir` is
/// set.
///
/// ```
/// use brook::{Config, Data, Endpoint};
/// # let dir = std::env::temp_dir().join(format!("brook-spool-doc-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// let mut config = Config::default();
/// config.set("brook.spool.dir", dir.to_str().unwrap())?; // Config::spool.dir; made if missing
/// config.set("brook.spool.topics", "zeek/logs/")?;        // default: every topic
/// let worker = Endpoint::new(config.clone())?;
/// worker.publish("zeek/logs/conn", &Data::Count(1))?;     // no logger yet: it waits on disk
/// worker.flush()?;
/// assert_eq!(worker.metrics()?.endpoint.spool_records, 1);
/// drop(worker);                                           // or the process dies
/// let again = Endpoint::new(config)?;                     // finds it, sends it once a peer wants it
/// assert_eq!(again.metrics()?.endpoint.spool_records, 1);
/// # drop(again);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), brook::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpoolOptions {
    /// The directory of the spool (`brook.spool.dir`), made if missing. One endpoint at a
    /// time may use it; a new endpoint on the same directory delivers what an earlier one
    /// left.
    pub dir: Option<PathBuf>,
    /// The most bytes the spool's files may take (`brook.spool.max-size`, default 1 GiB,
    /// at least 64 KiB).
    pub max_size: u64,
    /// What a full spool does (`brook.spool.policy`).
    pub policy: SpoolPolicy,
    /// The topic prefixes that are spooled, each in a queue of its own
    /// (`brook.spool.topics`, comma-separated); empty, the default: every topic, in one
    /// queue.
    pub topics: Vec<Vec<u8>>,
    /// Have a thread `fdatasync` the files after each turn that wrote them
    /// (`brook.spool.fsync`, default false). Without it, records survive the process being
    /// killed (the kernel has them) but not the machine crashing.
    pub fsync: bool,
}

impl Default for SpoolOptions {
    fn default() -> SpoolOptions {
        SpoolOptions {
            dir: None,
            max_size: SpoolOptions::DEFAULT_MAX_SIZE,
            policy: SpoolPolicy::Block,
            topics: Vec::new(),
            fsync: false,
        }
    }
}

impl SpoolOptions {
    pub const DEFAULT_MAX_SIZE: u64 = 1 << 30;
    pub const MIN_MAX_SIZE: u64 = 64 << 10;

    /// Checks the values: a usable directory, a size of at least [`Self::MIN_MAX_SIZE`],
    /// non-empty topics.
    pub fn validate(&self) -> Result<()> {
        if self.dir.is_none() {
            return Ok(());
        }
        if self.dir.as_ref().is_some_and(|d| d.as_os_str().is_empty()) {
            return Err(Error::invalid("spool.dir is empty"));
        }
        if self.max_size < SpoolOptions::MIN_MAX_SIZE {
            return Err(Error::invalid(format!(
                "spool.max-size must be at least {} bytes, not {}",
                SpoolOptions::MIN_MAX_SIZE,
                self.max_size
            )));
        }
        if self.topics.iter().any(|t| t.is_empty()) {
            return Err(Error::invalid("spool.topics: a topic is empty"));
        }
        Ok(())
    }

    /// How long a segment grows before the next one starts: small enough that dropping or
    /// deleting one frees a sixteenth of the spool.
    fn segment_size(&self) -> u64 {
        (self.max_size / 16).clamp(4 << 10, 16 << 20)
    }
}

/// Reads a size: a number of bytes, or one with a suffix `k`, `M`, `G` (also `KiB`, `MiB`,
/// `GiB`; powers of 1024).
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(digits);
    let n: u64 = n.parse().ok()?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return None,
    };
    n.checked_mul(1 << shift)
}

/// Counters of a spool.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SpoolStats {
    /// Records appended.
    pub spooled: u64,
    /// Records sent from the spool to peers (again after a peer was lost before writing
    /// them).
    pub replayed: u64,
    /// Records dropped: by `drop_oldest`, or too large for the spool.
    pub dropped: u64,
    /// Damaged parts of segments skipped (torn tails after a crash, corruption).
    pub damaged: u64,
    /// Records not yet delivered, and bytes on disk (gauges).
    pub records: u64,
    pub bytes: u64,
}

/// Something to report as an error event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Note {
    Dropped { records: u64, why: String },
    Damaged(Damage),
    Failed(String),
    Recovered,
}

/// A record at a lane's cursor.
pub(crate) enum Next<'a> {
    Record {
        topic: &'a [u8],
        frame: &'a [u8],
        len: usize,
    },
    /// Nothing to read now.
    Empty,
}

pub(crate) struct Spool {
    lanes: Vec<Lane>,
    max_size: u64,
    policy: SpoolPolicy,
    fsync: bool,
    syncer: Option<(Syncer, JoinHandle<()>)>,
    stats: SpoolStats,
    notes: Vec<Note>,
    /// The last flush failed: the spool counts as full until one succeeds.
    failing: bool,
    _lock: File,
}

fn lane_dir(dir: &Path, prefix: &[u8]) -> PathBuf {
    if prefix.is_empty() {
        return dir.join("all");
    }
    let hex: String = prefix.iter().map(|b| format!("{b:02x}")).collect();
    dir.join(format!("topic-{hex}"))
}

/// The prefix of a lane directory's name, if it is one.
fn lane_prefix(name: &str) -> Option<Vec<u8>> {
    if name == "all" {
        return Some(Vec::new());
    }
    let hex = name.strip_prefix("topic-")?;
    if hex.is_empty() || hex.len() % 2 != 0 {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect()
}

impl Spool {
    /// Opens the spool that `opts` describes, or `None` if it has no directory: locks the
    /// directory, opens its lanes (those configured, and any an earlier configuration
    /// left), and starts the syncer if asked to.
    pub(crate) fn open(opts: &SpoolOptions) -> Result<Option<Spool>> {
        let Some(dir) = &opts.dir else {
            return Ok(None);
        };
        let io = |what: &str, e: std::io::Error| {
            Error::new(
                ErrorKind::Io,
                format!("spool {}: {what}: {e}", dir.display()),
            )
        };
        std::fs::create_dir_all(dir).map_err(|e| io("cannot make the directory", e))?;
        let lock = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join("lock"))
            .map_err(|e| io("cannot open its lock file", e))?;
        // SAFETY: a valid open fd; flock takes no pointers.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            return Err(Error::invalid(format!(
                "spool {} is in use by another endpoint",
                dir.display()
            )));
        }
        let syncer = if opts.fsync {
            Some(Syncer::start().map_err(|e| io("cannot start the syncer", e))?)
        } else {
            None
        };
        let mut prefixes: Vec<Option<Vec<u8>>> = if opts.topics.is_empty() {
            vec![Some(Vec::new())]
        } else {
            opts.topics.iter().cloned().map(Some).collect()
        };
        prefixes.dedup();
        let mut orphans = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| io("cannot list", e))? {
            let entry = entry.map_err(|e| io("cannot list", e))?;
            let name = entry.file_name();
            if let Some(p) = name.to_str().and_then(lane_prefix) {
                if !prefixes.contains(&Some(p.clone())) {
                    orphans.push(p);
                }
            }
        }
        orphans.sort();
        let mut damage = Vec::new();
        let mut lanes = Vec::new();
        let segment_size = opts.segment_size();
        for prefix in prefixes {
            let d = lane_dir(dir, prefix.as_deref().unwrap_or_default());
            let sync = syncer.as_ref().map(|(s, _)| s.clone());
            let lane = Lane::open(d, prefix, segment_size, sync, &mut damage)
                .map_err(|e| io("cannot open a lane", e))?;
            lanes.push(lane);
        }
        for p in orphans {
            let sync = syncer.as_ref().map(|(s, _)| s.clone());
            let d = lane_dir(dir, &p);
            let lane = Lane::open(d.clone(), None, segment_size, sync, &mut damage)
                .map_err(|e| io("cannot open a lane", e))?;
            if lane.pending() == 0 {
                // Delivered: it goes.
                drop(lane);
                std::fs::remove_dir_all(&d).map_err(|e| io("cannot remove an old lane", e))?;
                continue;
            }
            lanes.push(lane);
        }
        let mut spool = Spool {
            lanes,
            max_size: opts.max_size,
            policy: opts.policy,
            fsync: opts.fsync,
            syncer,
            stats: SpoolStats::default(),
            notes: Vec::new(),
            failing: false,
            _lock: lock,
        };
        for d in damage {
            spool.stats.damaged += 1;
            spool.notes.push(Note::Damaged(d));
        }
        Ok(Some(spool))
    }

    /// The lane a publication on `topic` goes to: the one of the longest prefix it
    /// matches, if any.
    pub(crate) fn lane_for(&self, topic: &[u8]) -> Option<usize> {
        self.lanes
            .iter()
            .enumerate()
            .filter_map(|(i, l)| Some((i, l.prefix.as_ref()?)))
            .filter(|(_, p)| p.is_empty() || topic.starts_with(p))
            .max_by_key(|(_, p)| p.len())
            .map(|(i, _)| i)
    }

    pub(crate) fn lanes(&self) -> usize {
        self.lanes.len()
    }

    pub(crate) fn policy(&self) -> SpoolPolicy {
        self.policy
    }

    /// Bytes on disk and waiting to be written.
    fn bytes(&self) -> u64 {
        self.lanes.iter().map(Lane::bytes).sum()
    }

    /// True while the spool takes nothing more under `block`: at its size, or unable to
    /// write.
    pub(crate) fn is_full(&self) -> bool {
        self.failing || self.bytes() >= self.max_size
    }

    /// Appends a publication to `lane` (written at the next [`Spool::flush`]). Under
    /// `drop_oldest` the oldest records make room first; a record larger than the whole
    /// spool is dropped.
    pub(crate) fn append(&mut self, lane: usize, topic: &[u8], frame: &[u8]) {
        let len = format::record_len(0, topic, frame) as u64 + 8;
        if len > self.max_size / 2 {
            self.stats.dropped += 1;
            self.notes.push(Note::Dropped {
                records: 1,
                why: format!("a message of {len} bytes is too large for the spool"),
            });
            return;
        }
        if self.policy == SpoolPolicy::DropOldest {
            self.make_room(lane, len);
        }
        self.lanes[lane].append(topic, frame);
        self.stats.spooled += 1;
    }

    /// Drops the oldest segments, of `lane` first, until `len` more bytes fit.
    fn make_room(&mut self, lane: usize, len: u64) {
        let mut dropped = 0;
        let order: Vec<usize> = std::iter::once(lane)
            .chain((0..self.lanes.len()).filter(|&i| i != lane))
            .collect();
        'room: while self.bytes() + len > self.max_size {
            for &i in &order {
                match self.lanes[i].drop_oldest() {
                    Ok(Some(n)) => {
                        dropped += n;
                        continue 'room;
                    }
                    Ok(None) => {}
                    Err(e) => {
                        self.write_failed(format!("cannot drop old records: {e}"));
                        break 'room;
                    }
                }
            }
            break;
        }
        if dropped > 0 {
            self.stats.dropped += dropped;
            self.notes.push(Note::Dropped {
                records: dropped,
                why: "the spool is full (drop_oldest)".into(),
            });
        }
    }

    fn write_failed(&mut self, why: String) {
        if !self.failing {
            self.failing = true;
            self.notes.push(Note::Failed(why));
        }
    }

    /// Writes every lane's appended records (once per reactor turn).
    pub(crate) fn flush(&mut self) {
        let mut failed = None;
        for l in &mut self.lanes {
            if let Err(e) = l.flush() {
                failed = Some(format!("cannot write to {}: {e}", l.dir().display()));
            }
        }
        match failed {
            Some(why) => self.write_failed(why),
            None if self.failing => {
                self.failing = false;
                self.notes.push(Note::Recovered);
            }
            None => {}
        }
    }

    /// True while appended records wait to be written.
    pub(crate) fn unflushed(&self) -> bool {
        self.lanes.iter().any(Lane::unflushed)
    }

    /// True while `lane` has records its cursor has not reached.
    pub(crate) fn has_unread(&self, lane: usize) -> bool {
        self.lanes[lane].has_unread()
    }

    /// The record at `lane`'s cursor. Damaged records are skipped (and reported); an I/O
    /// error is reported and reads as nothing for now.
    pub(crate) fn next(&mut self, lane: usize) -> Next<'_> {
        let mut damage = Vec::new();
        let l = &mut self.lanes[lane];
        let got = l.peek(&mut damage);
        for d in damage {
            self.stats.damaged += 1;
            self.notes.push(Note::Damaged(d));
        }
        match got {
            Ok(lane::Peek::Record { topic, frame, len }) => Next::Record { topic, frame, len },
            Ok(lane::Peek::Empty) => Next::Empty,
            Err(e) => {
                let why = format!("cannot read the spool: {e}");
                self.notes.push(Note::Failed(why));
                Next::Empty
            }
        }
    }

    /// Moves `lane`'s cursor past the record [`Spool::next`] gave (`len` its size).
    pub(crate) fn advance(&mut self, lane: usize, len: usize) {
        self.lanes[lane].advance(len);
        self.stats.replayed += 1;
    }

    /// Where `lane`'s cursor stands (after the records sent).
    pub(crate) fn cursor(&self, lane: usize) -> Position {
        self.lanes[lane].cursor()
    }

    /// Sends `lane`'s undelivered records again from its head.
    pub(crate) fn rewind(&mut self, lane: usize) {
        self.lanes[lane].rewind();
    }

    /// The records of `lane` before `pos` were written to a peer's socket.
    pub(crate) fn delivered(&mut self, lane: usize, pos: Position) {
        if let Err(e) = self.lanes[lane].delivered(pos) {
            let why = format!("cannot delete a delivered segment: {e}");
            self.notes.push(Note::Failed(why));
        }
    }

    /// Saves the lanes' heads that moved (once per turn).
    pub(crate) fn save(&mut self) {
        for i in 0..self.lanes.len() {
            if let Err(e) = self.lanes[i].save_head() {
                let why = format!("cannot save the head: {e}");
                self.write_failed(why);
            }
        }
    }

    /// What to report since the last call.
    pub(crate) fn take_notes(&mut self) -> Vec<Note> {
        std::mem::take(&mut self.notes)
    }

    pub(crate) fn has_notes(&self) -> bool {
        !self.notes.is_empty()
    }

    pub(crate) fn stats(&self) -> SpoolStats {
        SpoolStats {
            records: self.lanes.iter().map(Lane::pending).sum(),
            bytes: self.bytes(),
            ..self.stats
        }
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        for l in &mut self.lanes {
            let _ = l.close(self.fsync);
        }
        if let Some((s, thread)) = self.syncer.take() {
            s.close();
            let _ = thread.join();
        }
    }
}
