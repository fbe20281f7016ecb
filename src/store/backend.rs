//! Where a master keeps its data: the [`Backend`] trait and [`MemoryBackend`]. The SQLite
//! backend is in [`super::sqlite`].
//!
//! A backend stores key/value pairs with an optional absolute expiry time; it knows nothing
//! of Broker's operations (add, subtract, ...), which [`super::ops`] builds from `get` and
//! `put`. It only keeps expiry times so that a master restarted on the same data can arm
//! its timers again ([`Backend::expiries`]); the master decides when a key expires.
//!
//! Invariant: every method returns promptly. A backend whose storage can stall keeps the
//! slow part off the caller's thread (the SQLite backend writes behind, on a worker thread),
//! because the caller is the reactor.

use crate::data::{Data, Timestamp};
use crate::wire::ErrorCode;
use std::collections::BTreeMap;
use std::fmt;

/// A backend's failure (Broker's `backend_failure`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackendError {
    pub message: String,
}

impl BackendError {
    pub fn new(message: impl Into<String>) -> BackendError {
        BackendError {
            message: message.into(),
        }
    }

    /// The error code a request that failed on this answers with.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::BackendFailure
    }
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for BackendError {}

pub type BackendResult<T> = Result<T, BackendError>;

/// A master's storage.
pub trait Backend: Send {
    /// The value at `key`.
    fn get(&self, key: &Data) -> BackendResult<Option<Data>>;

    /// True if `key` has a value.
    fn exists(&self, key: &Data) -> BackendResult<bool> {
        Ok(self.get(key)?.is_some())
    }

    /// Stores `value` at `key` with an absolute expiry time (`None`: never; the master's
    /// timers decide), and returns the value it replaced.
    fn put(
        &mut self,
        key: Data,
        value: Data,
        expiry: Option<Timestamp>,
    ) -> BackendResult<Option<Data>>;

    /// Removes `key` and returns its value.
    fn erase(&mut self, key: &Data) -> BackendResult<Option<Data>>;

    /// Removes every key.
    fn clear(&mut self) -> BackendResult<()>;

    /// Every key, in Broker's order.
    fn keys(&self) -> BackendResult<Vec<Data>>;

    /// The number of keys.
    fn len(&self) -> BackendResult<usize>;

    /// True when there are no keys.
    fn is_empty(&self) -> BackendResult<bool> {
        Ok(self.len()? == 0)
    }

    /// Every pair, in Broker's key order: the state a clone's ack_clone carries.
    fn snapshot(&self) -> BackendResult<Vec<(Data, Data)>>;

    /// Every key that has an expiry time, with that time: what a master restarted on this
    /// backend arms its timers from.
    fn expiries(&self) -> BackendResult<Vec<(Data, Timestamp)>>;

    /// How many changes (puts, erases that removed a key, clears) this backend has taken
    /// since it was opened.
    fn written(&self) -> u64 {
        0
    }

    /// How many of the first [`Backend::written`] changes would survive the process being
    /// killed now. The master acknowledges a clone's write only once it is durable, so that
    /// a master restarted on the same storage has every write a clone was told is done. A
    /// backend that keeps nothing across restarts says all of them.
    fn durable(&self) -> u64 {
        self.written()
    }

    /// A failure that happened after the call that caused it had returned (a write-behind
    /// backend's disk error), if any; each is reported once. The master polls this every
    /// tick and reports it as a status.
    fn take_failure(&mut self) -> Option<BackendError> {
        None
    }
}

/// Keys and values in memory, in Broker's order. Never fails.
#[derive(Clone, Debug, Default)]
pub struct MemoryBackend {
    entries: BTreeMap<Data, (Data, Option<Timestamp>)>,
}

impl MemoryBackend {
    pub fn new() -> MemoryBackend {
        MemoryBackend::default()
    }
}

impl Backend for MemoryBackend {
    fn get(&self, key: &Data) -> BackendResult<Option<Data>> {
        Ok(self.entries.get(key).map(|(v, _)| v.clone()))
    }

    fn exists(&self, key: &Data) -> BackendResult<bool> {
        Ok(self.entries.contains_key(key))
    }

    fn put(
        &mut self,
        key: Data,
        value: Data,
        expiry: Option<Timestamp>,
    ) -> BackendResult<Option<Data>> {
        Ok(self.entries.insert(key, (value, expiry)).map(|(v, _)| v))
    }

    fn erase(&mut self, key: &Data) -> BackendResult<Option<Data>> {
        Ok(self.entries.remove(key).map(|(v, _)| v))
    }

    fn clear(&mut self) -> BackendResult<()> {
        self.entries.clear();
        Ok(())
    }

    fn keys(&self) -> BackendResult<Vec<Data>> {
        Ok(self.entries.keys().cloned().collect())
    }

    fn len(&self) -> BackendResult<usize> {
        Ok(self.entries.len())
    }

    fn snapshot(&self) -> BackendResult<Vec<(Data, Data)>> {
        Ok(self
            .entries
            .iter()
            .map(|(k, (v, _))| (k.clone(), v.clone()))
            .collect())
    }

    fn expiries(&self) -> BackendResult<Vec<(Data, Timestamp)>> {
        Ok(self
            .entries
            .iter()
            .filter_map(|(k, (_, e))| e.map(|e| (k.clone(), e)))
            .collect())
    }
}
