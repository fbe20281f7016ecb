//! A data store's options from C: the backend (`brook_backend`), `brook_sqlite_options`
//! for an SQLite master and `brook_clone_options` for a clone.

use std::ffi::c_char;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::time::Duration;

use super::{Failure, FfiResult, arg_mut, brook_status, cstr_arg, enum_arg, guard, guard_or, out};
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
    pub(crate) inner: SqliteOptions,
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
    pub(crate) inner: CloneConfig,
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
