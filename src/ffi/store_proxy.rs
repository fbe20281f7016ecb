//! `brook_store_proxy`: store requests that return at once with a request id, and their
//! answers as `brook_store_response`s on a queue with an fd, for a poll() loop.
//!
//! A proxy answer is a result of its own (STYLE.md §6): a failed request does not fail
//! `brook_store_proxy_receive`, which must still hand out the request id. The response
//! carries the request's status and message, and `brook_store_response_value` returns them.

use std::ffi::{CString, c_char, c_int};
use std::time::Duration;

use super::data::brook_data;
use super::store::{brook_store, call, data_arg, expiry, key_and, store};
use super::{Failure, FfiResult, arg, brook_status, guard, guard_or, optional, out};
use crate::data::Data;
use crate::endpoint::{StoreProxy, StoreResponse};

// --- Proxy ------------------------------------------------------------------------------

/// Sends store requests without waiting: each request call returns at once with a request
/// id, and the answers arrive as brook_store_response objects on
/// brook_store_proxy_receive(). Its file descriptor (brook_store_proxy_fd()) lets a poll()
/// loop wait for them. Like Broker's store proxy. A request that could reach no peer (see
/// brook_store) fails at once with BROOK_STATUS_ENCODE_ERROR instead of returning an id.
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
