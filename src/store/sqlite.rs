//! A [`Backend`] in an SQLite file with Broker's schema, so that a store file written by Zeek
//! opens here and one written here opens in Zeek:
//!
//! ```text
//! meta(key text primary key, value text)            -- the row ('broker_version', 'X.Y.Z')
//! store(key blob primary key, value blob, expiry integer)
//! ```
//!
//! Keys and values are bin-v1 encoded [`Data`]; `expiry` is the absolute expiry time in
//! nanoseconds since the Unix epoch, or NULL. The options are Broker's: the path (its
//! directories are created), `synchronous`, `journal_mode`, `failure_mode` and
//! `integrity_check`.
//!
//! Threads: [`SqliteBackend::open`] does its I/O on the calling thread (reading the whole
//! file), so call it off the reactor, e.g. on the API thread that attaches the master.
//! After that the backend never blocks its caller: it keeps every pair in memory (reads are
//! answered from there) and hands each write to its own worker thread, which applies the
//! queued writes in order, many to a transaction. The queue is unbounded, so a slow disk
//! costs memory, not latency. A write that fails on disk is reported by
//! [`Backend::take_failure`]; [`SqliteBackend::flush`] waits for the disk; dropping the
//! backend writes what is queued and closes the file. The worker counts what it has
//! committed ([`Backend::durable`]) and calls the [`CommitHook`] after each transaction, so
//! that the master acknowledges a clone's write only once the file has it.

use super::backend::{Backend, BackendError, BackendResult, MemoryBackend};
use crate::data::{Data, Table, Timestamp, bin};
use crossbeam_channel::{Receiver, Sender};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

/// The value brook writes to the `broker_version` row of `meta`: the Broker release whose
/// schema this is. Broker itself only writes the row (on every open) and never reads it.
pub const SCHEMA_BROKER_VERSION: &str = "2.7.0";

/// The most queued writes the worker puts in one transaction.
const MAX_BATCH: usize = 4096;

/// SQLite's `PRAGMA synchronous` (Broker's `Broker::SQLITE_SYNCHRONOUS_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Synchronous {
    Off,
    Normal,
    Full,
    Extra,
}

/// SQLite's `PRAGMA journal_mode` (Broker's `Broker::SQLITE_JOURNAL_MODE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JournalMode {
    Delete,
    Wal,
}

/// What to do with a file that cannot be opened as a store (Broker's
/// `Broker::SQLITE_FAILURE_MODE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum FailureMode {
    /// Fail the open (Broker's default).
    #[default]
    Fail,
    /// Delete the file and start an empty store.
    Delete,
}

/// How to open an SQLite store. Unset pragmas keep SQLite's defaults, as in Broker.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SqliteOptions {
    pub path: PathBuf,
    pub synchronous: Option<Synchronous>,
    pub journal_mode: Option<JournalMode>,
    pub failure_mode: FailureMode,
    /// Run `PRAGMA integrity_check` on open; a file that fails it counts as corrupt.
    pub integrity_check: bool,
}

impl SqliteOptions {
    pub fn new(path: impl Into<PathBuf>) -> SqliteOptions {
        SqliteOptions {
            path: path.into(),
            synchronous: None,
            journal_mode: None,
            failure_mode: FailureMode::Fail,
            integrity_check: false,
        }
    }

    /// Reads Broker's backend options: a table with `path` (string), and optionally
    /// `synchronous`, `journal_mode` and `failure_mode` (enum values such as
    /// `Broker::SQLITE_JOURNAL_MODE_WAL`) and `integrity_check` (boolean).
    pub fn from_broker_options(options: &Table) -> BackendResult<SqliteOptions> {
        let get = |name: &str| options.get(&Data::string(name));
        let path = match get("path") {
            Some(Data::String(p)) => String::from_utf8(p.clone())
                .map_err(|_| BackendError::new("SQLite option 'path' is not UTF-8"))?,
            Some(_) => return Err(BackendError::new("SQLite option 'path' is not a string")),
            None => return Err(BackendError::new("SQLite options lack the 'path' string")),
        };
        let mut o = SqliteOptions::new(path);
        o.synchronous = enum_option(
            get("synchronous"),
            "synchronous",
            "Broker::SQLITE_SYNCHRONOUS_",
            &[
                ("OFF", Synchronous::Off),
                ("NORMAL", Synchronous::Normal),
                ("FULL", Synchronous::Full),
                ("EXTRA", Synchronous::Extra),
            ],
        )?;
        o.journal_mode = enum_option(
            get("journal_mode"),
            "journal_mode",
            "Broker::SQLITE_JOURNAL_MODE_",
            &[("DELETE", JournalMode::Delete), ("WAL", JournalMode::Wal)],
        )?;
        o.failure_mode = enum_option(
            get("failure_mode"),
            "failure_mode",
            "Broker::SQLITE_FAILURE_MODE_",
            &[("DELETE", FailureMode::Delete), ("FAIL", FailureMode::Fail)],
        )?
        .unwrap_or_default();
        o.integrity_check = match get("integrity_check") {
            None => false,
            Some(Data::Boolean(b)) => *b,
            Some(_) => {
                return Err(BackendError::new(
                    "SQLite option 'integrity_check' is not a boolean",
                ));
            }
        };
        Ok(o)
    }
}

fn enum_option<T: Copy>(
    value: Option<&Data>,
    name: &str,
    prefix: &str,
    allowed: &[(&str, T)],
) -> BackendResult<Option<T>> {
    let Some(value) = value else {
        return Ok(None);
    };
    let Data::Enum(v) = value else {
        return Err(BackendError::new(format!(
            "SQLite option '{name}' is not an enum value"
        )));
    };
    let v = String::from_utf8_lossy(v);
    let Some(rest) = v.strip_prefix(prefix) else {
        return Err(BackendError::new(format!(
            "SQLite option '{name}' does not start with {prefix}"
        )));
    };
    match allowed.iter().find(|(n, _)| *n == rest) {
        Some((_, t)) => Ok(Some(*t)),
        None => Err(BackendError::new(format!(
            "SQLite option '{name}' has an invalid value {v}"
        ))),
    }
}

/// What the writer thread calls after each transaction that committed changes, once set.
/// The endpoint sets it to tell the master that [`Backend::durable`] grew
/// ([`crate::store::actor::StoreActor::durable`]), so that acknowledgements of the clones' writes
/// wait for the disk but not for the next tick.
pub type CommitHook = Arc<OnceLock<Box<dyn Fn() + Send + Sync>>>;

/// A write on its way to the disk.
enum Job {
    Put {
        key: Vec<u8>,
        value: Vec<u8>,
        expiry: Option<i64>,
    },
    Erase {
        key: Vec<u8>,
    },
    Clear,
    /// Answered once every earlier job is committed.
    Flush(Sender<()>),
}

/// A store in an SQLite file, served from memory and written behind (see the module doc).
pub struct SqliteBackend {
    cache: MemoryBackend,
    jobs: Option<Sender<Job>>,
    failures: Arc<Mutex<Vec<BackendError>>>,
    /// Changes handed to the worker, and those it has committed (or failed to: the
    /// failure is reported, and nobody should wait for them forever).
    written: u64,
    committed: Arc<AtomicU64>,
    hook: CommitHook,
    worker: Option<JoinHandle<()>>,
    path: PathBuf,
}

impl std::fmt::Debug for SqliteBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteBackend")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteBackend {
    /// Opens (or creates) the store file, checks it as the options say, reads it whole and
    /// starts the writer thread. A file that is not a store (not SQLite, a failed integrity
    /// check, undecodable rows) is an error under [`FailureMode::Fail`] and is deleted and
    /// created anew under [`FailureMode::Delete`].
    pub fn open(options: &SqliteOptions) -> BackendResult<SqliteBackend> {
        let path = &options.path;
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
            && !dir.is_dir()
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                BackendError::new(format!(
                    "cannot create the directory {} for the store: {e}",
                    dir.display()
                ))
            })?;
        }
        let (conn, cache) = match open_and_load(options) {
            Ok(x) => x,
            Err(e) if options.failure_mode == FailureMode::Delete && path.is_file() => {
                remove_database(path).map_err(|r| {
                    BackendError::new(format!(
                        "{e}; deleting the corrupt store {} failed: {r}",
                        path.display()
                    ))
                })?;
                open_and_load(options).map_err(|again| {
                    BackendError::new(format!(
                        "{e}; after deleting it the store still cannot be created: {again}"
                    ))
                })?
            }
            Err(e) => return Err(e),
        };
        let (tx, rx) = crossbeam_channel::unbounded();
        let failures = Arc::new(Mutex::new(Vec::new()));
        let reported = failures.clone();
        let committed = Arc::new(AtomicU64::new(0));
        let done = committed.clone();
        let hook = CommitHook::default();
        let call = hook.clone();
        let worker = std::thread::Builder::new()
            .name("brook-sqlite".into())
            .spawn(move || write_behind(conn, rx, reported, done, call))
            .map_err(|e| BackendError::new(format!("cannot start the SQLite writer: {e}")))?;
        Ok(SqliteBackend {
            cache,
            jobs: Some(tx),
            failures,
            written: 0,
            committed,
            hook,
            worker: Some(worker),
            path: path.clone(),
        })
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The hook the writer thread calls after each commit; set it once.
    pub fn commit_hook(&self) -> CommitHook {
        self.hook.clone()
    }

    /// Blocks until every write so far is committed to the file. Not for the reactor.
    pub fn flush(&self) -> BackendResult<()> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.send(Job::Flush(tx));
        rx.recv()
            .map_err(|_| BackendError::new("the SQLite writer has stopped"))?;
        match self.failures.lock().ok().and_then(|f| f.first().cloned()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn send(&self, job: Job) -> bool {
        let sent = self
            .jobs
            .as_ref()
            .is_some_and(|jobs| jobs.send(job).is_ok());
        if !sent && let Ok(mut f) = self.failures.lock() {
            f.push(BackendError::new("the SQLite writer has stopped"));
        }
        sent
    }

    /// Hands a change to the worker.
    fn change(&mut self, job: Job) {
        if self.send(job) {
            self.written += 1;
        }
    }
}

impl Drop for SqliteBackend {
    fn drop(&mut self) {
        // Closing the queue lets the worker commit what is left and exit.
        self.jobs = None;
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

fn encode(d: &Data) -> BackendResult<Vec<u8>> {
    bin::encode(d).map_err(|e| BackendError::new(format!("cannot encode for SQLite: {e}")))
}

impl Backend for SqliteBackend {
    fn get(&self, key: &Data) -> BackendResult<Option<Data>> {
        self.cache.get(key)
    }

    fn exists(&self, key: &Data) -> BackendResult<bool> {
        self.cache.exists(key)
    }

    fn put(
        &mut self,
        key: Data,
        value: Data,
        expiry: Option<Timestamp>,
    ) -> BackendResult<Option<Data>> {
        let job = Job::Put {
            key: encode(&key)?,
            value: encode(&value)?,
            expiry: expiry.map(|t| t.0),
        };
        self.change(job);
        self.cache.put(key, value, expiry)
    }

    fn erase(&mut self, key: &Data) -> BackendResult<Option<Data>> {
        let old = self.cache.erase(key)?;
        if old.is_some() {
            self.change(Job::Erase { key: encode(key)? });
        }
        Ok(old)
    }

    fn clear(&mut self) -> BackendResult<()> {
        self.change(Job::Clear);
        self.cache.clear()
    }

    fn keys(&self) -> BackendResult<Vec<Data>> {
        self.cache.keys()
    }

    fn len(&self) -> BackendResult<usize> {
        self.cache.len()
    }

    fn snapshot(&self) -> BackendResult<Vec<(Data, Data)>> {
        self.cache.snapshot()
    }

    fn expiries(&self) -> BackendResult<Vec<(Data, Timestamp)>> {
        self.cache.expiries()
    }

    fn written(&self) -> u64 {
        self.written
    }

    fn durable(&self) -> u64 {
        self.committed.load(Ordering::Acquire)
    }

    fn take_failure(&mut self) -> Option<BackendError> {
        let mut f = self.failures.lock().ok()?;
        if f.is_empty() {
            None
        } else {
            Some(f.remove(0))
        }
    }
}

fn sql_err(what: &str, path: &Path) -> impl Fn(rusqlite::Error) -> BackendError {
    let path = path.display().to_string();
    let what = what.to_string();
    move |e| BackendError::new(format!("SQLite store {path}: {what}: {e}"))
}

/// Opens the file, applies the pragmas, creates the tables, records the version, checks
/// integrity if asked and reads every row.
fn open_and_load(o: &SqliteOptions) -> BackendResult<(Connection, MemoryBackend)> {
    let path = &o.path;
    let conn = Connection::open(path).map_err(sql_err("cannot open", path))?;
    if let Some(s) = o.synchronous {
        let v = match s {
            Synchronous::Off => "OFF",
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
            Synchronous::Extra => "EXTRA",
        };
        conn.pragma_update(None, "synchronous", v)
            .map_err(sql_err("PRAGMA synchronous", path))?;
    }
    if let Some(j) = o.journal_mode {
        let v = match j {
            JournalMode::Delete => "DELETE",
            JournalMode::Wal => "WAL",
        };
        // journal_mode answers with the mode now in force.
        let _: String = conn
            .query_row(&format!("PRAGMA journal_mode={v}"), [], |r| r.get(0))
            .map_err(sql_err("PRAGMA journal_mode", path))?;
    }
    conn.execute_batch(
        "create table if not exists meta(key text primary key, value text);
         create table if not exists store(key blob primary key, value blob, expiry integer);",
    )
    .map_err(sql_err("cannot create the tables", path))?;
    conn.execute(
        "replace into meta(key, value) values('broker_version', ?1)",
        params![SCHEMA_BROKER_VERSION],
    )
    .map_err(sql_err("cannot record the version", path))?;
    if o.integrity_check {
        let mut stmt = conn
            .prepare("PRAGMA integrity_check")
            .map_err(sql_err("PRAGMA integrity_check", path))?;
        let msgs: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .and_then(|rows| rows.collect())
            .map_err(sql_err("PRAGMA integrity_check", path))?;
        if msgs != ["ok"] {
            return Err(BackendError::new(format!(
                "SQLite store {}: integrity check failed: {}",
                path.display(),
                msgs.join("; ")
            )));
        }
    }
    let mut cache = MemoryBackend::new();
    {
        let mut stmt = conn
            .prepare("select key, value, expiry from store")
            .map_err(sql_err("cannot read", path))?;
        let mut rows = stmt.query([]).map_err(sql_err("cannot read", path))?;
        while let Some(row) = rows.next().map_err(sql_err("cannot read", path))? {
            let decode = |i: usize, what: &str| -> BackendResult<Data> {
                let blob: Vec<u8> = row.get(i).map_err(sql_err(what, path))?;
                bin::decode(&blob).map_err(|e| {
                    BackendError::new(format!(
                        "SQLite store {}: undecodable {what}: {e}",
                        path.display()
                    ))
                })
            };
            let key = decode(0, "key")?;
            let value = decode(1, "value")?;
            let expiry: Option<i64> = row.get(2).map_err(sql_err("expiry", path))?;
            cache.put(key, value, expiry.map(Timestamp))?;
        }
    }
    // Reading the version back proves the meta table is usable too.
    let _: Option<String> = conn
        .query_row(
            "select value from meta where key = 'broker_version'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql_err("cannot read meta", path))?;
    Ok((conn, cache))
}

/// Removes a database file and the journal files SQLite keeps beside it.
fn remove_database(path: &Path) -> std::io::Result<()> {
    std::fs::remove_file(path)?;
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(side));
    }
    Ok(())
}

/// The worker: applies jobs in order, as many as are queued (up to [`MAX_BATCH`]) in one
/// transaction, and counts them in `committed` once the transaction is over, until the
/// queue closes.
fn write_behind(
    mut conn: Connection,
    rx: Receiver<Job>,
    failures: Arc<Mutex<Vec<BackendError>>>,
    committed: Arc<AtomicU64>,
    hook: CommitHook,
) {
    let fail = |e: String| {
        if let Ok(mut f) = failures.lock() {
            f.push(BackendError::new(e));
        }
    };
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        // Flushes wait for the commit of everything queued before them, which this batch
        // includes.
        let mut flushes = Vec::new();
        let writes: Vec<Job> = batch
            .into_iter()
            .filter_map(|j| match j {
                Job::Flush(done) => {
                    flushes.push(done);
                    None
                }
                j => Some(j),
            })
            .collect();
        let changes = writes.len() as u64;
        let result = (|| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            {
                let mut put =
                    tx.prepare("replace into store(key, value, expiry) values(?1, ?2, ?3)")?;
                let mut erase = tx.prepare("delete from store where key = ?1")?;
                for job in writes {
                    match job {
                        Job::Put { key, value, expiry } => {
                            put.execute(params![key, value, expiry])?;
                        }
                        Job::Erase { key } => {
                            erase.execute(params![key])?;
                        }
                        Job::Clear => {
                            tx.execute("delete from store", [])?;
                        }
                        Job::Flush(_) => {}
                    }
                }
            }
            tx.commit()
        })();
        if let Err(e) = result {
            fail(format!("SQLite write failed: {e}"));
        }
        committed.fetch_add(changes, Ordering::Release);
        if changes > 0
            && let Some(f) = hook.get()
        {
            f();
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}
