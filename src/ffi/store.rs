//! Data stores from C: `brook_store` (a master or clone attached to an endpoint, whose calls
//! wait for their answer), its options (`brook_sqlite_options`, `brook_clone_options`), and
//! `brook_store_proxy` with its `brook_store_response`s for a poll() loop.
//!
//! A store handle is shared between C threads: `Store`'s methods all take `&self`, so every
//! call reaches it through `arg`, never `arg_mut`. Like a publisher it holds the endpoint's
//! shared state, not the endpoint, so it may outlive the endpoint; its calls then return
//! `BROOK_STATUS_CLOSED`.
//!
//! A proxy answer is a result of its own (STYLE.md §6): a failed request does not fail
//! `brook_store_proxy_receive`, which must still hand out the request id. The response
//! carries the request's status and message, and `brook_store_response_value` returns them.

use std::ffi::{CString, c_char, c_int};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::time::Duration;

use super::data::brook_data;
use super::endpoint::{brook_endpoint, endpoint};
use super::{
    Failure, FfiResult, arg, arg_mut, brook_status, cstr_arg, enum_arg, guard, guard_or, optional,
    out,
};
use crate::data::Data;
use crate::endpoint::{Backend, Store, StoreProxy, StoreResponse};
use crate::store::CloneConfig;
use crate::store::sqlite::{FailureMode, JournalMode, SqliteOptions, Synchronous};

// --- Options ----------------------------------------------------------------------------

/// Where a store master keeps its data. Passed into brook as a `uint32_t`; unknown numbers
/// give BROOK_STATUS_INVALID_ARGUMENT.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum brook_backend {
    /// In memory: the data is gone when the master is.
    Memory = 0,
    /// An SQLite file with Broker's schema, which Zeek opens too (see brook_sqlite_options).
    Sqlite = 1,
}

/// SQLite's `PRAGMA synchronous`, as Broker's `Broker::SQLITE_SYNCHRONOUS_*`. Passed into
/// brook as a `uint32_t`; unknown numbers give BROOK_STATUS_INVALID_ARGUMENT.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum brook_sqlite_synchronous {
    Off = 0,
    Normal = 1,
    Full = 2,
    Extra = 3,
}

const SYNCHRONOUS: [(u32, Synchronous); 4] = [
    (brook_sqlite_synchronous::Off as u32, Synchronous::Off),
    (brook_sqlite_synchronous::Normal as u32, Synchronous::Normal),
    (brook_sqlite_synchronous::Full as u32, Synchronous::Full),
    (brook_sqlite_synchronous::Extra as u32, Synchronous::Extra),
];

/// SQLite's `PRAGMA journal_mode`, as Broker's `Broker::SQLITE_JOURNAL_MODE_*`. Passed into
/// brook as a `uint32_t`; unknown numbers give BROOK_STATUS_INVALID_ARGUMENT.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum brook_sqlite_journal_mode {
    Delete = 0,
    Wal = 1,
}

const JOURNAL_MODES: [(u32, JournalMode); 2] = [
    (
        brook_sqlite_journal_mode::Delete as u32,
        JournalMode::Delete,
    ),
    (brook_sqlite_journal_mode::Wal as u32, JournalMode::Wal),
];

/// What opening a file that is not a usable store does, as Broker's
/// `Broker::SQLITE_FAILURE_MODE_*`. Passed into brook as a `uint32_t`; unknown numbers give
/// BROOK_STATUS_INVALID_ARGUMENT.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum brook_sqlite_failure_mode {
    /// Fail the attach with BROOK_STATUS_BACKEND_FAILURE (the default).
    Fail = 0,
    /// Delete the file and start an empty store.
    Delete = 1,
}

const FAILURE_MODES: [(u32, FailureMode); 2] = [
    (brook_sqlite_failure_mode::Fail as u32, FailureMode::Fail),
    (
        brook_sqlite_failure_mode::Delete as u32,
        FailureMode::Delete,
    ),
];

/// How a master opens its SQLite file: the path and Broker's options. A new one leaves the
/// pragmas at SQLite's defaults, fails on a corrupt file and skips the integrity check, as
/// Broker does.
///
/// Use from one thread at a time. Free with brook_sqlite_options_free().
pub struct brook_sqlite_options {
    inner: SqliteOptions,
}

/// Makes SQLite options for the file at `path` (missing directories are created on attach).
///
/// Caller owns the result; free it with brook_sqlite_options_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_INVALID_ARGUMENT
/// if `path` is empty. Out-parameters are written only when the call returns
/// BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_sqlite_options_new(
    path: *const c_char,
    out_options: *mut *mut brook_sqlite_options,
) -> brook_status {
    guard(|| {
        // A path is bytes on Unix, not necessarily UTF-8.
        let path = cstr_arg(path, "path")?;
        let out_options = out(out_options, "out_options")?;
        if path.is_empty() {
            return Err(Failure::invalid("path is empty"));
        }
        let path = PathBuf::from(std::ffi::OsStr::from_bytes(path));
        out_options.write(Box::into_raw(Box::new(brook_sqlite_options {
            inner: SqliteOptions::new(path),
        })));
        Ok(())
    })
}

/// Frees SQLite options. NULL does nothing. Masters attached with them keep their own copy.
///
/// Consumes `options`: do not use or free it afterwards.
#[unsafe(no_mangle)]
pub extern "C" fn brook_sqlite_options_free(options: *mut brook_sqlite_options) {
    guard_or((), || {
        if !options.is_null() {
            // SAFETY: `options` came from `brook_sqlite_options_new`, by contract.
            drop(unsafe { Box::from_raw(options) });
        }
    })
}

fn set_sqlite(
    options: *mut brook_sqlite_options,
    f: impl FnOnce(&mut SqliteOptions) -> FfiResult,
) -> brook_status {
    guard(|| f(&mut arg_mut(options, "options")?.inner))
}

/// Sets `PRAGMA synchronous`: a brook_sqlite_synchronous.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `options` is NULL, BROOK_STATUS_INVALID_ARGUMENT
/// if `mode` is unknown.
#[unsafe(no_mangle)]
pub extern "C" fn brook_sqlite_options_set_synchronous(
    options: *mut brook_sqlite_options,
    mode: u32,
) -> brook_status {
    set_sqlite(options, |o| {
        o.synchronous = Some(enum_arg(mode, &SYNCHRONOUS, "mode")?);
        Ok(())
    })
}

/// Sets `PRAGMA journal_mode`: a brook_sqlite_journal_mode. BROOK_SQLITE_JOURNAL_MODE_WAL
/// makes writes much cheaper.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `options` is NULL, BROOK_STATUS_INVALID_ARGUMENT
/// if `mode` is unknown.
#[unsafe(no_mangle)]
pub extern "C" fn brook_sqlite_options_set_journal_mode(
    options: *mut brook_sqlite_options,
    mode: u32,
) -> brook_status {
    set_sqlite(options, |o| {
        o.journal_mode = Some(enum_arg(mode, &JOURNAL_MODES, "mode")?);
        Ok(())
    })
}

/// Sets what attaching does with a file that is not a usable store (not SQLite, failing
/// the integrity check, undecodable rows): a brook_sqlite_failure_mode. Default
/// BROOK_SQLITE_FAILURE_MODE_FAIL.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `options` is NULL, BROOK_STATUS_INVALID_ARGUMENT
/// if `mode` is unknown.
#[unsafe(no_mangle)]
pub extern "C" fn brook_sqlite_options_set_failure_mode(
    options: *mut brook_sqlite_options,
    mode: u32,
) -> brook_status {
    set_sqlite(options, |o| {
        o.failure_mode = enum_arg(mode, &FAILURE_MODES, "mode")?;
        Ok(())
    })
}

/// With `check` true, attaching runs `PRAGMA integrity_check` on the file, and a file that
/// fails it counts as corrupt (see brook_sqlite_options_set_failure_mode()). Default false.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `options` is NULL.
#[unsafe(no_mangle)]
pub extern "C" fn brook_sqlite_options_set_integrity_check(
    options: *mut brook_sqlite_options,
    check: bool,
) -> brook_status {
    set_sqlite(options, |o| {
        o.integrity_check = check;
        Ok(())
    })
}

/// How a clone behaves while it has no master: how long it answers reads, how long writes
/// wait for a master, how often it looks for one. A new one holds brook's defaults, which
/// are Zeek's for Broker 1.x clones.
///
/// Use from one thread at a time. Free with brook_clone_options_free().
pub struct brook_clone_options {
    inner: CloneConfig,
}

/// Makes clone options holding the defaults.
///
/// Caller owns the result; free it with brook_clone_options_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if `out_options` is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_clone_options_new(
    out_options: *mut *mut brook_clone_options,
) -> brook_status {
    guard(|| {
        let out_options = out(out_options, "out_options")?;
        out_options.write(Box::into_raw(Box::new(brook_clone_options {
            inner: CloneConfig::default(),
        })));
        Ok(())
    })
}

/// Frees clone options. NULL does nothing. Clones attached with them keep their own copy.
///
/// Consumes `options`: do not use or free it afterwards.
#[unsafe(no_mangle)]
pub extern "C" fn brook_clone_options_free(options: *mut brook_clone_options) {
    guard_or((), || {
        if !options.is_null() {
            // SAFETY: `options` came from `brook_clone_options_new`, by contract.
            drop(unsafe { Box::from_raw(options) });
        }
    })
}

fn set_clone(
    options: *mut brook_clone_options,
    f: impl FnOnce(&mut CloneConfig) -> FfiResult,
) -> brook_status {
    guard(|| f(&mut arg_mut(options, "options")?.inner))
}

/// Sets how long (in milliseconds) a clone that has lost its master keeps answering reads
/// from its copy of the data. After that, reads return BROOK_STATUS_STALE_DATA until the
/// master is back. 0: stale as soon as the master is lost; negative: never stale, reads
/// are always answered. Default 300000 (5 minutes).
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `options` is NULL.
#[unsafe(no_mangle)]
pub extern "C" fn brook_clone_options_set_stale_interval_ms(
    options: *mut brook_clone_options,
    ms: i64,
) -> brook_status {
    set_clone(options, |c| {
        c.stale_interval = u64::try_from(ms).ok().map(Duration::from_millis);
        Ok(())
    })
}

/// Sets how long (in milliseconds) a write made while the clone has no master waits for
/// one; then it fails with BROOK_STATUS_NO_SUCH_MASTER. 0: such writes fail at once.
/// Default 120000 (2 minutes).
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `options` is NULL.
#[unsafe(no_mangle)]
pub extern "C" fn brook_clone_options_set_mutation_buffer_interval_ms(
    options: *mut brook_clone_options,
    ms: u32,
) -> brook_status {
    set_clone(options, |c| {
        c.mutation_buffer_interval = Duration::from_millis(ms.into());
        Ok(())
    })
}

/// Sets how often (in milliseconds) a clone without a master asks for one. Clones act on
/// a 100 ms tick, so shorter intervals act as 100. Default 200.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `options` is NULL.
#[unsafe(no_mangle)]
pub extern "C" fn brook_clone_options_set_resync_interval_ms(
    options: *mut brook_clone_options,
    ms: u32,
) -> brook_status {
    set_clone(options, |c| {
        c.resync_interval = Duration::from_millis(ms.into());
        Ok(())
    })
}

/// Sets how long (in milliseconds) reads on a new clone wait for the master's first copy
/// of the data; then they fail with BROOK_STATUS_STALE_DATA (Broker's
/// `broker.store.max-get-delay`). Default 5000.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `options` is NULL.
#[unsafe(no_mangle)]
pub extern "C" fn brook_clone_options_set_max_get_delay_ms(
    options: *mut brook_clone_options,
    ms: u32,
) -> brook_status {
    set_clone(options, |c| {
        c.max_get_delay = Duration::from_millis(ms.into());
        Ok(())
    })
}

// --- Attaching --------------------------------------------------------------------------

/// A data store attached to an endpoint, as its master or as a clone: a key-value map of
/// brook_data that Broker and Zeek nodes share. Each call waits for its answer, at most
/// the store's timeout (brook_store_set_timeout_ms()).
///
/// Safe to share between threads. Free with brook_store_free().
pub struct brook_store {
    inner: Store,
}

const BACKENDS: [(u32, brook_backend); 2] = [
    (brook_backend::Memory as u32, brook_backend::Memory),
    (brook_backend::Sqlite as u32, brook_backend::Sqlite),
];

/// Attaches the master of the store `name` to the endpoint, keeping its data as `backend`
/// says: a brook_backend. `options` is NULL for BROOK_BACKEND_MEMORY and required for
/// BROOK_BACKEND_SQLITE; the master keeps its own copy. An SQLite file is read whole here,
/// on the calling thread; the master then writes to it on a thread of its own.
///
/// Caller owns the result; free it with brook_store_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if a required argument is NULL,
/// BROOK_STATUS_INVALID_ARGUMENT if `backend` is unknown or `options` is given for memory,
/// BROOK_STATUS_MASTER_EXISTS if this endpoint has a master or clone of `name` or a peer
/// has a master of it, BROOK_STATUS_BACKEND_FAILURE if the file cannot be opened (the
/// message says why), BROOK_STATUS_CLOSED after shutdown. Out-parameters are written only
/// when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_attach_master(
    endpoint: *mut brook_endpoint,
    name: *const c_char,
    backend: u32,
    options: *const brook_sqlite_options,
    out_store: *mut *mut brook_store,
) -> brook_status {
    guard(|| {
        let ep = self::endpoint(endpoint)?;
        let name = cstr_arg(name, "name")?;
        let backend = match enum_arg(backend, &BACKENDS, "backend")? {
            brook_backend::Memory => {
                if !options.is_null() {
                    return Err(Failure::invalid(
                        "options: SQLite options given for a memory backend",
                    ));
                }
                Backend::Memory
            }
            brook_backend::Sqlite => Backend::Sqlite(arg(options, "options")?.inner.clone()),
        };
        let out_store = out(out_store, "out_store")?;
        let inner = ep.attach_master(name, backend)?;
        out_store.write(Box::into_raw(Box::new(brook_store { inner })));
        Ok(())
    })
}

/// Attaches a clone of the store `name` to the endpoint. It finds the master among the
/// endpoint's peers, now or once they peer, and copies its data; reads are answered from
/// that copy, writes go to the master. Reads made before the copy arrives wait for it.
///
/// Caller owns the result; free it with brook_store_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_MASTER_EXISTS if
/// this endpoint already has a master or clone of `name`, BROOK_STATUS_CLOSED after
/// shutdown. Out-parameters are written only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_attach_clone(
    endpoint: *mut brook_endpoint,
    name: *const c_char,
    out_store: *mut *mut brook_store,
) -> brook_status {
    brook_endpoint_attach_clone_with(endpoint, name, std::ptr::null(), out_store)
}

/// Like brook_endpoint_attach_clone(), with the clone's intervals from `options` (NULL for
/// the defaults); the clone keeps its own copy.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_attach_clone_with(
    endpoint: *mut brook_endpoint,
    name: *const c_char,
    options: *const brook_clone_options,
    out_store: *mut *mut brook_store,
) -> brook_status {
    guard(|| {
        let ep = self::endpoint(endpoint)?;
        let name = cstr_arg(name, "name")?;
        let config = optional(options).map_or_else(CloneConfig::default, |o| o.inner);
        let out_store = out(out_store, "out_store")?;
        let inner = ep.attach_clone_with(name, config)?;
        out_store.write(Box::into_raw(Box::new(brook_store { inner })));
        Ok(())
    })
}

/// Frees a store handle. NULL does nothing. Once the handle and its proxies are all freed,
/// the store is detached from its endpoint: a master stops serving its clones (an SQLite
/// file keeps its data), a clone stops following its master.
///
/// Consumes `store`: do not use or free it afterwards, nor the name borrowed from it. No
/// other thread may be using it.
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_free(store: *mut brook_store) {
    guard_or((), || {
        if !store.is_null() {
            // SAFETY: `store` came from an attach call, by contract.
            drop(unsafe { Box::from_raw(store) });
        }
    })
}

fn store<'a>(st: *const brook_store) -> FfiResult<&'a Store> {
    Ok(&arg(st, "store")?.inner)
}

/// A copy of the value behind a `const brook_data *` argument.
fn data_arg(d: *const brook_data, name: &str) -> FfiResult<Data> {
    Ok(arg(d, name)?.inner.clone())
}

/// The `key` of an operation and its second value, such as put's `value` (named `name`).
fn key_and(
    key: *const brook_data,
    other: *const brook_data,
    name: &str,
) -> FfiResult<(Data, Data)> {
    Ok((data_arg(key, "key")?, data_arg(other, name)?))
}

/// An `expiry_ms` from C: negative is none.
fn expiry(ms: i64) -> Option<Duration> {
    u64::try_from(ms).ok().map(Duration::from_millis)
}

/// The store's name: `*out_buf` points at its `*out_len` bytes, which are not
/// NUL-terminated.
///
/// Borrowed: valid until `store` is freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_name(
    store: *const brook_store,
    out_buf: *mut *const u8,
    out_len: *mut usize,
) -> brook_status {
    guard(|| {
        let name = self::store(store)?.name();
        let (out_buf, out_len) = (out(out_buf, "out_buf")?, out(out_len, "out_len")?);
        out_buf.write(name.as_ptr());
        out_len.write(name.len());
        Ok(())
    })
}

/// Sets how long (in milliseconds, at least 1) each call on this store handle waits for
/// its answer before returning BROOK_STATUS_TIMEOUT. Default 10000. Other handles and
/// proxies of the store are unaffected.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `store` is NULL, BROOK_STATUS_INVALID_ARGUMENT if
/// `ms` is 0.
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_set_timeout_ms(store: *mut brook_store, ms: u32) -> brook_status {
    guard(|| {
        let s = self::store(store)?;
        if ms == 0 {
            return Err(Failure::invalid("the store timeout must be at least 1 ms"));
        }
        s.set_timeout(Duration::from_millis(ms.into()));
        Ok(())
    })
}

// --- Operations -------------------------------------------------------------------------

/// The body of every store operation, blocking or through a proxy. It checks the handle
/// (`handle`, named `name`), then the arguments (`args`), then the out-parameter if there
/// is one, in the order of their NULL messages, and only then reaches the store (`run`):
/// a call with a NULL argument has no effect. The answer is written last.
fn call<H, A, T>(
    (handle, name): (*const H, &str),
    args: impl FnOnce() -> FfiResult<A>,
    out_param: Option<(*mut T, &str)>,
    run: impl FnOnce(&H, A) -> crate::Result<T>,
) -> brook_status {
    guard(|| {
        let h = arg(handle, name)?;
        let args = args()?;
        let out_param = out_param.map(|(p, name)| out(p, name)).transpose()?;
        let answer = run(h, args)?;
        if let Some(o) = out_param {
            o.write(answer);
        }
        Ok(())
    })
}

/// A blocking operation that answers through `out_param`.
fn answer<A, T>(
    store: *const brook_store,
    args: impl FnOnce() -> FfiResult<A>,
    out_param: (*mut T, &str),
    run: impl FnOnce(&Store, A) -> crate::Result<T>,
) -> brook_status {
    call((store, "store"), args, Some(out_param), |s, a| {
        run(&s.inner, a)
    })
}

/// A blocking write, whose status is its only answer.
fn write<A>(
    store: *const brook_store,
    args: impl FnOnce() -> FfiResult<A>,
    run: impl FnOnce(&Store, A) -> crate::Result<()>,
) -> brook_status {
    call((store, "store"), args, None, |s, a| run(&s.inner, a))
}

/// A write such as put: `key`, a second value (`other`, named `name`) and an expiry.
fn keyed_write(
    store: *const brook_store,
    key: *const brook_data,
    (other, name): (*const brook_data, &str),
    expiry_ms: i64,
    run: fn(&Store, Data, Data, Option<Duration>) -> crate::Result<()>,
) -> brook_status {
    write(
        store,
        || key_and(key, other, name),
        |s, (key, other)| run(s, key, other, expiry(expiry_ms)),
    )
}

/// Tells whether the store has a value at `key`.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_STALE_DATA at a
/// clone without a current copy, BROOK_STATUS_TIMEOUT if the answer takes longer than the
/// store's timeout, BROOK_STATUS_CLOSED after shutdown. Out-parameters are written only
/// when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_exists(
    store: *const brook_store,
    key: *const brook_data,
    out_exists: *mut bool,
) -> brook_status {
    answer(
        store,
        || data_arg(key, "key"),
        (out_exists, "out_exists"),
        Store::exists,
    )
}

/// Copies the value at `key`.
///
/// Caller owns the result; free it with brook_data_free().
/// Returns BROOK_STATUS_NO_SUCH_KEY if the store has no value at `key`; otherwise as
/// brook_store_exists(). Out-parameters are written only when the call returns
/// BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_get(
    store: *const brook_store,
    key: *const brook_data,
    out_value: *mut *mut brook_data,
) -> brook_status {
    answer(
        store,
        || data_arg(key, "key"),
        (out_value, "out_value"),
        |s, key| s.get(key).map(brook_data::into_raw),
    )
}

/// Copies one element of the container at `key` (Broker's `get_index_from_value`): for a
/// vector, the element at `index` (a count); for a table, the value at `index`; for a set,
/// a boolean telling whether it holds `index`. Any other value comes whole.
///
/// Caller owns the result; free it with brook_data_free().
/// Returns BROOK_STATUS_NO_SUCH_KEY if the store has no value at `key` or a vector or
/// table has no element at `index`, BROOK_STATUS_TYPE_CLASH if a vector's `index` is not a
/// count; otherwise as brook_store_exists(). Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_get_index_from_value(
    store: *const brook_store,
    key: *const brook_data,
    index: *const brook_data,
    out_value: *mut *mut brook_data,
) -> brook_status {
    answer(
        store,
        || key_and(key, index, "index"),
        (out_value, "out_value"),
        |s, (key, index)| s.get_index_from_value(key, index).map(brook_data::into_raw),
    )
}

/// Copies every key of the store, as a set.
///
/// Caller owns the result; free it with brook_data_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_STALE_DATA at a
/// clone without a current copy, BROOK_STATUS_TIMEOUT if the answer takes longer than the
/// store's timeout, BROOK_STATUS_CLOSED after shutdown. Out-parameters are written only
/// when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_keys(
    store: *const brook_store,
    out_keys: *mut *mut brook_data,
) -> brook_status {
    answer(
        store,
        || Ok(()),
        (out_keys, "out_keys"),
        |s, ()| s.keys().map(brook_data::into_raw),
    )
}

/// Stores a copy of `value` at `key`, replacing any value there. With `expiry_ms` 0 or
/// more, the master removes the key that many milliseconds after applying the put;
/// negative: it never expires. Returns once the write is applied: at a clone, once the
/// master has taken it and the clone sees its result.
///
/// `key` and `value` are only read; the caller still owns them.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_BACKEND_FAILURE
/// if the master's backend fails, BROOK_STATUS_NO_SUCH_MASTER at a clone whose master stays
/// away, BROOK_STATUS_TIMEOUT if the answer takes longer than the store's timeout,
/// BROOK_STATUS_CLOSED after shutdown.
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_put(
    store: *mut brook_store,
    key: *const brook_data,
    value: *const brook_data,
    expiry_ms: i64,
) -> brook_status {
    keyed_write(store, key, (value, "value"), expiry_ms, Store::put)
}

/// Like brook_store_put(), but stores `value` only if the store has no value at `key`.
/// `*out_inserted` tells whether it did; the master decides, so two writers racing for a
/// key see exactly one true.
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_put_unique(
    store: *mut brook_store,
    key: *const brook_data,
    value: *const brook_data,
    expiry_ms: i64,
    out_inserted: *mut bool,
) -> brook_status {
    answer(
        store,
        || key_and(key, value, "value"),
        (out_inserted, "out_inserted"),
        |s, (key, value)| s.put_unique(key, value, expiry(expiry_ms)),
    )
}

/// Removes the value at `key`. A missing key is not an error.
///
/// Returns the statuses of brook_store_put().
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_erase(
    store: *mut brook_store,
    key: *const brook_data,
) -> brook_status {
    write(store, || data_arg(key, "key"), Store::erase)
}

/// Removes every key.
///
/// Returns the statuses of brook_store_put().
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_clear(store: *mut brook_store) -> brook_status {
    write(store, || Ok(()), |s, ()| s.clear())
}

/// Adds `amount` to the value at `key` by Broker's rules: a count, integer or real to one
/// of the same type, a timespan to a timespan or timestamp. A missing key starts from zero
/// of `amount`'s type (from the epoch for a timespan). `expiry_ms` as in
/// brook_store_put(), for the key's new value.
///
/// Returns BROOK_STATUS_TYPE_CLASH if the value at `key` cannot take `amount` (a count
/// plus an integer, say); otherwise the statuses of brook_store_put().
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_increment(
    store: *mut brook_store,
    key: *const brook_data,
    amount: *const brook_data,
    expiry_ms: i64,
) -> brook_status {
    keyed_write(store, key, (amount, "amount"), expiry_ms, Store::increment)
}

/// Like brook_store_increment(), but subtracts `amount`, and a missing key is an error:
/// BROOK_STATUS_NO_SUCH_KEY.
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_decrement(
    store: *mut brook_store,
    key: *const brook_data,
    amount: *const brook_data,
    expiry_ms: i64,
) -> brook_status {
    keyed_write(store, key, (amount, "amount"), expiry_ms, Store::decrement)
}

/// Appends the string `suffix` to the string at `key`; a missing key starts from the empty
/// string. `expiry_ms` as in brook_store_put().
///
/// Returns BROOK_STATUS_TYPE_CLASH if the value at `key` cannot take `suffix` (a string
/// and a number, say); otherwise the statuses of brook_store_put().
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_append(
    store: *mut brook_store,
    key: *const brook_data,
    suffix: *const brook_data,
    expiry_ms: i64,
) -> brook_status {
    keyed_write(store, key, (suffix, "suffix"), expiry_ms, Store::append)
}

/// Inserts `index` into the set at `key` (`value` NULL), or `index` mapped to `value` into
/// the table at `key`. A missing key starts from an empty set or table. `expiry_ms` as in
/// brook_store_put().
///
/// `index` and `value` are only read; the caller still owns them.
/// Returns BROOK_STATUS_NULL_ARGUMENT if `store`, `key` or `index` is NULL,
/// BROOK_STATUS_TYPE_CLASH if the value at `key` is not a container;
/// otherwise the statuses of brook_store_put().
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_insert_into(
    store: *mut brook_store,
    key: *const brook_data,
    index: *const brook_data,
    value: *const brook_data,
    expiry_ms: i64,
) -> brook_status {
    write(
        store,
        || key_and(key, index, "index"),
        |s, (key, index)| {
            let value = optional(value).map(|v| v.inner.clone());
            s.insert_into(key, index, value, expiry(expiry_ms))
        },
    )
}

/// Removes `index` from the set or table at `key`. From a vector it removes the last
/// element, whatever `index` is, as Broker does. `expiry_ms` as in brook_store_put().
///
/// Returns BROOK_STATUS_NO_SUCH_KEY if the store has no value at `key`,
/// BROOK_STATUS_TYPE_CLASH if it is not a container; otherwise the statuses of
/// brook_store_put().
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_remove_from(
    store: *mut brook_store,
    key: *const brook_data,
    index: *const brook_data,
    expiry_ms: i64,
) -> brook_status {
    keyed_write(store, key, (index, "index"), expiry_ms, Store::remove_from)
}

/// Appends a copy of `value` to the vector at `key`; a missing key starts from an empty
/// vector. `expiry_ms` as in brook_store_put().
///
/// Returns BROOK_STATUS_TYPE_CLASH if the value at `key` cannot take `value` (a string,
/// say); otherwise the statuses of brook_store_put().
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_push(
    store: *mut brook_store,
    key: *const brook_data,
    value: *const brook_data,
    expiry_ms: i64,
) -> brook_status {
    keyed_write(store, key, (value, "value"), expiry_ms, Store::push)
}

/// Removes the last element of the vector at `key` (an empty vector stays empty).
/// `expiry_ms` as in brook_store_put().
///
/// Returns BROOK_STATUS_NO_SUCH_KEY if the store has no value at `key`,
/// BROOK_STATUS_TYPE_CLASH if it is not a container; otherwise the statuses of
/// brook_store_put().
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_pop(
    store: *mut brook_store,
    key: *const brook_data,
    expiry_ms: i64,
) -> brook_status {
    write(
        store,
        || data_arg(key, "key"),
        |s, key| s.pop(key, expiry(expiry_ms)),
    )
}

/// Waits until every write made so far through this handle has been applied (at a clone:
/// acknowledged by the master), as Broker's `await_idle`.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `store` is NULL, BROOK_STATUS_TIMEOUT if that
/// takes longer than the store's timeout, BROOK_STATUS_CLOSED after shutdown.
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_await_idle(store: *mut brook_store) -> brook_status {
    write(store, || Ok(()), |s, ()| s.await_idle())
}

// --- Proxy ------------------------------------------------------------------------------

/// Sends store requests without waiting: each request call returns at once with a request
/// id, and the answers arrive as brook_store_response objects on
/// brook_store_proxy_receive(). Its file descriptor (brook_store_proxy_fd()) lets a poll()
/// loop wait for them. Like Broker's store proxy.
///
/// Use from one thread at a time. Free with brook_store_proxy_free().
pub struct brook_store_proxy {
    inner: StoreProxy,
}

/// Makes a proxy for `store`. It keeps the store attached while it lives, even once
/// `store` is freed.
///
/// Caller owns the result; free it with brook_store_proxy_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_IO if its file
/// descriptor cannot be made. Out-parameters are written only when the call returns
/// BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_proxy_new(
    store: *const brook_store,
    out_proxy: *mut *mut brook_store_proxy,
) -> brook_status {
    guard(|| {
        let s = self::store(store)?;
        let out_proxy = out(out_proxy, "out_proxy")?;
        let inner = s.proxy()?;
        out_proxy.write(Box::into_raw(Box::new(brook_store_proxy { inner })));
        Ok(())
    })
}

/// Frees a proxy with the answers it still holds. NULL does nothing. Answers to requests
/// still on their way are dropped.
///
/// Consumes `proxy`: do not use or free it afterwards, nor its file descriptor.
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_proxy_free(proxy: *mut brook_store_proxy) {
    guard_or((), || {
        if !proxy.is_null() {
            // SAFETY: `proxy` came from `brook_store_proxy_new`, by contract.
            drop(unsafe { Box::from_raw(proxy) });
        }
    })
}

/// Sends the request that `run` makes on the proxy from the checked arguments, and writes
/// its id.
fn request<A>(
    proxy: *mut brook_store_proxy,
    out_id: *mut u64,
    args: impl FnOnce() -> FfiResult<A>,
    run: impl FnOnce(&StoreProxy, A) -> crate::Result<u64>,
) -> brook_status {
    call((proxy, "proxy"), args, Some((out_id, "out_id")), |p, a| {
        run(&p.inner, a)
    })
}

/// A request such as put: `key`, a second value (`other`, named `name`) and an expiry.
fn keyed_request(
    proxy: *mut brook_store_proxy,
    key: *const brook_data,
    (other, name): (*const brook_data, &str),
    expiry_ms: i64,
    out_id: *mut u64,
    run: fn(&StoreProxy, Data, Data, Option<Duration>) -> crate::Result<u64>,
) -> brook_status {
    request(
        proxy,
        out_id,
        || key_and(key, other, name),
        |p, (key, other)| run(p, key, other, expiry(expiry_ms)),
    )
}

/// Asks whether the store has a value at `key`, as brook_store_exists() does, without
/// waiting: `*out_id` receives the request's id, and the answer (a boolean) arrives on
/// brook_store_proxy_receive().
///
/// `key` is only read; the caller still owns it.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_CLOSED after
/// shutdown. Out-parameters are written only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_proxy_exists(
    proxy: *mut brook_store_proxy,
    key: *const brook_data,
    out_id: *mut u64,
) -> brook_status {
    request(proxy, out_id, || data_arg(key, "key"), StoreProxy::exists)
}

/// Like brook_store_proxy_exists(), but asks for the value at `key`, as brook_store_get()
/// does.
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_proxy_get(
    proxy: *mut brook_store_proxy,
    key: *const brook_data,
    out_id: *mut u64,
) -> brook_status {
    request(proxy, out_id, || data_arg(key, "key"), StoreProxy::get)
}

/// Like brook_store_proxy_exists(), but asks for an element of the container at `key`, as
/// brook_store_get_index_from_value() does.
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_proxy_get_index_from_value(
    proxy: *mut brook_store_proxy,
    key: *const brook_data,
    index: *const brook_data,
    out_id: *mut u64,
) -> brook_status {
    request(
        proxy,
        out_id,
        || key_and(key, index, "index"),
        |p, (key, index)| p.get_index_from_value(key, index),
    )
}

/// Like brook_store_proxy_exists(), but asks for the set of every key, as
/// brook_store_keys() does.
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_proxy_keys(
    proxy: *mut brook_store_proxy,
    out_id: *mut u64,
) -> brook_status {
    request(proxy, out_id, || Ok(()), |p, ()| p.keys())
}

/// Sends brook_store_put()'s write without waiting: `*out_id` receives the request's id,
/// and the answer (none once applied, or the error) arrives on
/// brook_store_proxy_receive().
///
/// The values are only read; the caller still owns them.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_CLOSED after
/// shutdown. Out-parameters are written only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_proxy_put(
    proxy: *mut brook_store_proxy,
    key: *const brook_data,
    value: *const brook_data,
    expiry_ms: i64,
    out_id: *mut u64,
) -> brook_status {
    keyed_request(
        proxy,
        key,
        (value, "value"),
        expiry_ms,
        out_id,
        StoreProxy::put,
    )
}

/// Like brook_store_proxy_put(), for brook_store_put_unique(): the answer is a boolean,
/// true if the value was inserted.
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_proxy_put_unique(
    proxy: *mut brook_store_proxy,
    key: *const brook_data,
    value: *const brook_data,
    expiry_ms: i64,
    out_id: *mut u64,
) -> brook_status {
    keyed_request(
        proxy,
        key,
        (value, "value"),
        expiry_ms,
        out_id,
        StoreProxy::put_unique,
    )
}

/// Like brook_store_proxy_put(), for brook_store_erase().
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_proxy_erase(
    proxy: *mut brook_store_proxy,
    key: *const brook_data,
    out_id: *mut u64,
) -> brook_status {
    request(proxy, out_id, || data_arg(key, "key"), StoreProxy::erase)
}

/// Like brook_store_proxy_put(), for brook_store_clear().
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_proxy_clear(
    proxy: *mut brook_store_proxy,
    out_id: *mut u64,
) -> brook_status {
    request(proxy, out_id, || Ok(()), |p, ()| p.clear())
}

/// Like brook_store_proxy_put(), for brook_store_increment().
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_proxy_increment(
    proxy: *mut brook_store_proxy,
    key: *const brook_data,
    amount: *const brook_data,
    expiry_ms: i64,
    out_id: *mut u64,
) -> brook_status {
    keyed_request(
        proxy,
        key,
        (amount, "amount"),
        expiry_ms,
        out_id,
        StoreProxy::increment,
    )
}

/// Like brook_store_proxy_put(), for brook_store_decrement().
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_proxy_decrement(
    proxy: *mut brook_store_proxy,
    key: *const brook_data,
    amount: *const brook_data,
    expiry_ms: i64,
    out_id: *mut u64,
) -> brook_status {
    keyed_request(
        proxy,
        key,
        (amount, "amount"),
        expiry_ms,
        out_id,
        StoreProxy::decrement,
    )
}

/// Like brook_store_proxy_put(), for brook_store_append().
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_proxy_append(
    proxy: *mut brook_store_proxy,
    key: *const brook_data,
    suffix: *const brook_data,
    expiry_ms: i64,
    out_id: *mut u64,
) -> brook_status {
    keyed_request(
        proxy,
        key,
        (suffix, "suffix"),
        expiry_ms,
        out_id,
        StoreProxy::append,
    )
}

/// Like brook_store_proxy_put(), for brook_store_insert_into(); `value` may be NULL.
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_proxy_insert_into(
    proxy: *mut brook_store_proxy,
    key: *const brook_data,
    index: *const brook_data,
    value: *const brook_data,
    expiry_ms: i64,
    out_id: *mut u64,
) -> brook_status {
    request(
        proxy,
        out_id,
        || {
            let (key, index) = key_and(key, index, "index")?;
            Ok((key, index, optional(value).map(|v| v.inner.clone())))
        },
        |p, (key, index, value)| p.insert_into(key, index, value, expiry(expiry_ms)),
    )
}

/// Like brook_store_proxy_put(), for brook_store_remove_from().
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_proxy_remove_from(
    proxy: *mut brook_store_proxy,
    key: *const brook_data,
    index: *const brook_data,
    expiry_ms: i64,
    out_id: *mut u64,
) -> brook_status {
    keyed_request(
        proxy,
        key,
        (index, "index"),
        expiry_ms,
        out_id,
        StoreProxy::remove_from,
    )
}

/// Like brook_store_proxy_put(), for brook_store_push().
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_proxy_push(
    proxy: *mut brook_store_proxy,
    key: *const brook_data,
    value: *const brook_data,
    expiry_ms: i64,
    out_id: *mut u64,
) -> brook_status {
    keyed_request(
        proxy,
        key,
        (value, "value"),
        expiry_ms,
        out_id,
        StoreProxy::push,
    )
}

/// Like brook_store_proxy_put(), for brook_store_pop().
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_proxy_pop(
    proxy: *mut brook_store_proxy,
    key: *const brook_data,
    expiry_ms: i64,
    out_id: *mut u64,
) -> brook_status {
    request(
        proxy,
        out_id,
        || data_arg(key, "key"),
        |p, key| p.pop(key, expiry(expiry_ms)),
    )
}

/// Like brook_store_proxy_put(), for brook_store_await_idle(): answered (with none) once
/// every write made so far through this proxy's store has been applied.
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_proxy_await_idle(
    proxy: *mut brook_store_proxy,
    out_id: *mut u64,
) -> brook_status {
    request(proxy, out_id, || Ok(()), |p, ()| p.await_idle())
}

/// Takes the next answer, waiting up to `timeout_ms` milliseconds for one (0: do not wait;
/// negative: wait until one arrives). Answers come in the order the store gives them,
/// which need not be the order of the requests. A request that failed also gives a
/// response, holding its status and message: this call still returns BROOK_STATUS_OK.
///
/// When the endpoint shuts down, the requests it has not answered get a response with
/// BROOK_STATUS_CLOSED, and later requests fail with it.
///
/// Caller owns the result; free it with brook_store_response_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_TIMEOUT if no
/// answer came in time. Out-parameters are written only when the call returns
/// BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_proxy_receive(
    proxy: *mut brook_store_proxy,
    timeout_ms: i64,
    out_response: *mut *mut brook_store_response,
) -> brook_status {
    guard(|| {
        let p = &arg(proxy, "proxy")?.inner;
        let out_response = out(out_response, "out_response")?;
        let wait = u64::try_from(timeout_ms).ok().map(Duration::from_millis);
        let r = p.receive(wait)?.ok_or_else(|| {
            Failure::new(
                brook_status::Timeout,
                format!("no store answer within {timeout_ms} ms"),
            )
        })?;
        out_response.write(brook_store_response::into_raw(r));
        Ok(())
    })
}

/// A file descriptor that is readable while answers wait (level-triggered, for poll(),
/// select() or epoll). Take them with brook_store_proxy_receive(); never read, write or
/// close the descriptor yourself.
///
/// Borrowed: `*out_fd` is valid until `proxy` is freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_proxy_fd(
    proxy: *const brook_store_proxy,
    out_fd: *mut c_int,
) -> brook_status {
    guard(|| {
        let fd = arg(proxy, "proxy")?.inner.fd();
        out(out_fd, "out_fd")?.write(fd);
        Ok(())
    })
}

// --- Response ---------------------------------------------------------------------------

/// The answer to one proxy request: its id, and either its value or its failure (a status
/// and a message).
///
/// Use from one thread at a time. Free with brook_store_response_free().
pub struct brook_store_response {
    id: u64,
    /// The value, or the failure as `brook_last_error` would have told it.
    result: Result<Data, (brook_status, CString)>,
}

impl brook_store_response {
    fn into_raw(r: StoreResponse) -> *mut brook_store_response {
        let result = r.result.map_err(|e| {
            let f = Failure::from(e);
            // A message may hold NUL bytes; C would see it cut short.
            let text = CString::new(f.message.replace('\0', "\\0")).unwrap_or_default();
            (f.status, text)
        });
        Box::into_raw(Box::new(brook_store_response { id: r.id, result }))
    }
}

fn response<'a>(r: *const brook_store_response) -> FfiResult<&'a brook_store_response> {
    arg(r, "response")
}

/// The id of the request this answers, as its request call returned it.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_response_id(
    response: *const brook_store_response,
    out_id: *mut u64,
) -> brook_status {
    guard(|| {
        let id = self::response(response)?.id;
        out(out_id, "out_id")?.write(id);
        Ok(())
    })
}

/// The request's outcome: BROOK_STATUS_OK, or the status its blocking form would have
/// returned (BROOK_STATUS_NO_SUCH_KEY, BROOK_STATUS_TYPE_CLASH, ...).
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_response_status(
    response: *const brook_store_response,
    out_status: *mut brook_status,
) -> brook_status {
    guard(|| {
        let r = self::response(response)?;
        let status = r.result.as_ref().map_or_else(|e| e.0, |_| brook_status::Ok);
        out(out_status, "out_status")?.write(status);
        Ok(())
    })
}

/// The request's value: what the blocking form gives (a boolean for exists and
/// put_unique, the set of keys for keys) and none for the other writes. For a failed
/// request, this call returns the request's status, and brook_last_error() its message.
///
/// Borrowed: valid until `response` is freed; copy it with brook_data_clone() to keep it.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, or the request's status.
/// Out-parameters are written only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_response_value(
    response: *const brook_store_response,
    out_value: *mut *const brook_data,
) -> brook_status {
    guard(|| {
        let r = self::response(response)?;
        let out_value = out(out_value, "out_value")?;
        match &r.result {
            Ok(d) => {
                out_value.write(brook_data::borrowed(d));
                Ok(())
            }
            Err((status, message)) => Err(Failure::new(
                *status,
                message.to_string_lossy().into_owned(),
            )),
        }
    })
}

/// The failed request's message, such as the one brook_last_error() gives for the
/// blocking form; NULL if the request succeeded.
///
/// Borrowed: valid until `response` is freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_response_message(
    response: *const brook_store_response,
    out_message: *mut *const c_char,
) -> brook_status {
    guard(|| {
        let r = self::response(response)?;
        let message = r
            .result
            .as_ref()
            .map_or_else(|e| e.1.as_ptr(), |_| std::ptr::null());
        out(out_message, "out_message")?.write(message);
        Ok(())
    })
}

/// Frees a response. NULL does nothing.
///
/// Consumes `response`: do not use or free it afterwards, nor the value or message
/// borrowed from it.
#[unsafe(no_mangle)]
pub extern "C" fn brook_store_response_free(response: *mut brook_store_response) {
    guard_or((), || {
        if !response.is_null() {
            // SAFETY: `response` came from `brook_store_proxy_receive`, by contract.
            drop(unsafe { Box::from_raw(response) });
        }
    })
}
