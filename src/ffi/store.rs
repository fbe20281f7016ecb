//! Data stores from C: `brook_store` (a master or clone attached to an endpoint, whose calls
//! wait for their answer) and its options (`brook_sqlite_options`, `brook_clone_options`).
//! `store_proxy.rs` has `brook_store_proxy`, for a poll() loop.
//!
//! A store handle is shared between C threads: `Store`'s methods all take `&self`, so every
//! call reaches it through `arg`, never `arg_mut`. Like a publisher it holds the endpoint's
//! shared state, not the endpoint, so it may outlive the endpoint; its calls then return
//! `BROOK_STATUS_CLOSED`.

use std::ffi::c_char;
use std::time::Duration;

use super::data::brook_data;
use super::endpoint::{brook_endpoint, endpoint};
use super::store_options::{brook_backend, brook_clone_options, brook_sqlite_options};
use super::{
    Failure, FfiResult, arg, brook_status, cstr_arg, enum_arg, guard, guard_or, optional, out,
};
use crate::data::Data;
use crate::endpoint::{Backend, Store};
use crate::store::CloneConfig;

// --- Attaching --------------------------------------------------------------------------

/// A data store attached to an endpoint, as its master or as a clone: a key-value map of
/// brook_data that Broker and Zeek nodes share. Each call waits for its answer, at most
/// the store's timeout (brook_store_set_timeout_ms()). A call whose key or value nests more
/// than 128 containers, or whose command would need a frame larger than the endpoint's
/// maximum frame size (less 256 bytes for the rest of the command), fails at once with
/// BROOK_STATUS_ENCODE_ERROR: no peer could take it.
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

pub(super) fn store<'a>(st: *const brook_store) -> FfiResult<&'a Store> {
    Ok(&arg(st, "store")?.inner)
}

/// A copy of the value behind a `const brook_data *` argument.
pub(super) fn data_arg(d: *const brook_data, name: &str) -> FfiResult<Data> {
    Ok(arg(d, name)?.inner.clone())
}

/// The `key` of an operation and its second value, such as put's `value` (named `name`).
pub(super) fn key_and(
    key: *const brook_data,
    other: *const brook_data,
    name: &str,
) -> FfiResult<(Data, Data)> {
    Ok((data_arg(key, "key")?, data_arg(other, name)?))
}

/// An `expiry_ms` from C: negative is none.
pub(super) fn expiry(ms: i64) -> Option<Duration> {
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
pub(super) fn call<H, A, T>(
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
