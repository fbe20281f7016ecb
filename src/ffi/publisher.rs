//! `brook_publisher`: publishing on one topic, with backpressure that a C program can wait
//! for in its own poll() loop, and batches of values in one hand-over to the reactor.
//!
//! A publisher is shared between C threads: `Publisher`'s methods all take `&self`, so every
//! call reaches it through `arg`, never `arg_mut`. It holds the endpoint's shared state, not
//! the endpoint, so it may outlive the endpoint; the reactor's publish queue is then
//! disconnected and every publish returns `BROOK_STATUS_CLOSED`.

use std::ffi::{c_char, c_int};

use super::container::values_arg;
use super::data::brook_data;
use super::endpoint::{brook_endpoint, endpoint};
use super::{FfiResult, arg, brook_status, cstr_arg, guard, guard_or, out};
use crate::endpoint::Publisher;

/// Publishes on one topic, to the peers subscribed to it (as in Broker, not to the
/// endpoint's own subscribers). Like
/// brook_endpoint_publish(), it waits while the endpoint's publish queue is full;
/// brook_publisher_try_publish() and brook_publisher_fd() let a poll() loop publish
/// without ever waiting.
///
/// Safe to share between threads. Free with brook_publisher_free().
pub struct brook_publisher {
    inner: Publisher,
}

/// Makes a publisher for `topic`. The publisher keeps its own copy of the topic.
///
/// Caller owns the result; free it with brook_publisher_free(). It may outlive `endpoint`:
/// once the endpoint has shut down or been freed, its publishes return BROOK_STATUS_CLOSED.
/// That is also what a publisher made after shutdown does; making it succeeds.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_INVALID_ARGUMENT
/// if `topic` is empty. Out-parameters are written only when the call returns
/// BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_publisher(
    endpoint: *mut brook_endpoint,
    topic: *const c_char,
    out_publisher: *mut *mut brook_publisher,
) -> brook_status {
    guard(|| {
        let ep = self::endpoint(endpoint)?;
        let topic = cstr_arg(topic, "topic")?;
        let out_publisher = out(out_publisher, "out_publisher")?;
        let inner = ep.publisher(topic)?;
        out_publisher.write(Box::into_raw(Box::new(brook_publisher { inner })));
        Ok(())
    })
}

fn publisher<'a>(p: *const brook_publisher) -> FfiResult<&'a Publisher> {
    Ok(&arg(p, "publisher")?.inner)
}

/// Publishes a copy of `value` on the publisher's topic, waiting while the endpoint's
/// publish queue is full (backpressure from slow peers and blocking subscribers).
///
/// `value` is only read; the caller still owns it.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_ENCODE_ERROR if
/// `value` cannot be encoded for a peer (it nests more than 128 containers, or its frame
/// would exceed the maximum frame size), BROOK_STATUS_CLOSED if the endpoint is or gets
/// shut down.
#[unsafe(no_mangle)]
pub extern "C" fn brook_publisher_publish(
    publisher: *mut brook_publisher,
    value: *const brook_data,
) -> brook_status {
    guard(|| {
        let p = self::publisher(publisher)?;
        Ok(p.publish(&arg(value, "value")?.inner)?)
    })
}

/// Like brook_publisher_publish(), but returns BROOK_STATUS_WOULD_BLOCK instead of waiting
/// when the publish queue is full; the value is then not published. brook_publisher_fd()
/// tells when to try again.
#[unsafe(no_mangle)]
pub extern "C" fn brook_publisher_try_publish(
    publisher: *mut brook_publisher,
    value: *const brook_data,
) -> brook_status {
    guard(|| {
        let p = self::publisher(publisher)?;
        Ok(p.try_publish(&arg(value, "value")?.inner)?)
    })
}

/// Publishes copies of the `n` values `values[0]` to `values[n - 1]` on the publisher's
/// topic, in that order, handing them to the reactor at once: far cheaper per value than
/// one brook_publisher_publish() each. Waits while the publish queue is full. `values` may
/// be NULL when `n` is 0.
///
/// The values are only read; the caller still owns them. If the call fails, none of them
/// is published.
/// Returns BROOK_STATUS_NULL_ARGUMENT if `publisher`, `values` or one of its elements is
/// NULL (the message names the index), BROOK_STATUS_ENCODE_ERROR if a value cannot be
/// encoded for a peer (it nests more than 128 containers, or its frame would exceed the
/// maximum frame size; then none is published), BROOK_STATUS_CLOSED if the endpoint is or
/// gets shut down.
#[unsafe(no_mangle)]
pub extern "C" fn brook_publisher_publish_batch(
    publisher: *mut brook_publisher,
    values: *const *const brook_data,
    n: usize,
) -> brook_status {
    guard(|| {
        let p = self::publisher(publisher)?;
        let values = values_arg(values, n)?;
        Ok(p.publish_batch(&values)?)
    })
}

/// How many publishes would go through now without waiting: the free places in the
/// endpoint's publish queue, which all its publishers share. A batch takes one place.
/// Other threads may take them before this thread publishes.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_publisher_free_capacity(
    publisher: *const brook_publisher,
    out_n: *mut usize,
) -> brook_status {
    guard(|| {
        let n = self::publisher(publisher)?.free_capacity();
        out(out_n, "out_n")?.write(n);
        Ok(())
    })
}

/// How many publications the endpoint's publish queue holds at most (a batch counts as
/// one); all the endpoint's publishers share the queue. Broker's `publisher::capacity`.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_publisher_capacity(
    publisher: *const brook_publisher,
    out_n: *mut usize,
) -> brook_status {
    guard(|| {
        let n = self::publisher(publisher)?.capacity();
        out(out_n, "out_n")?.write(n);
        Ok(())
    })
}

/// How many publications are queued, from all the endpoint's publishers, and not yet
/// taken by the reactor. Broker's `publisher::buffered`.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_publisher_buffered(
    publisher: *const brook_publisher,
    out_n: *mut usize,
) -> brook_status {
    guard(|| {
        let n = self::publisher(publisher)?.buffered();
        out(out_n, "out_n")?.write(n);
        Ok(())
    })
}

/// The topic the publisher publishes on: `*out_buf` points at its `*out_len` bytes, which
/// are not NUL-terminated.
///
/// Borrowed: valid until `publisher` is freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_publisher_topic(
    publisher: *const brook_publisher,
    out_buf: *mut *const u8,
    out_len: *mut usize,
) -> brook_status {
    guard(|| {
        let topic = self::publisher(publisher)?.topic();
        let (out_buf, out_len) = (out(out_buf, "out_buf")?, out(out_len, "out_len")?);
        out_buf.write(topic.as_ptr());
        out_len.write(topic.len());
        Ok(())
    })
}

/// A file descriptor that polls writable (POLLOUT) while the endpoint's publish queue has
/// room (level-triggered, for poll(), select() or epoll). In a poll() loop, wait for it,
/// then call brook_publisher_try_publish() until it returns BROOK_STATUS_WOULD_BLOCK. Rarely
/// it polls writable while the queue is full; try_publish then says so. Once the endpoint
/// has shut down it polls writable, and try_publish returns BROOK_STATUS_CLOSED. Never
/// read, write or close the descriptor yourself.
///
/// One descriptor serves the endpoint: all its publishers return the same one, and
/// publishes from other threads (or brook_endpoint_publish()) use up the same room.
/// Borrowed: valid until the endpoint or `publisher` is freed, whichever comes first.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_publisher_fd(
    publisher: *const brook_publisher,
    out_fd: *mut c_int,
) -> brook_status {
    guard(|| {
        let fd = self::publisher(publisher)?.fd();
        out(out_fd, "out_fd")?.write(fd);
        Ok(())
    })
}

/// Frees a publisher. NULL does nothing. What it published stays published.
///
/// Consumes `publisher`: do not use or free it afterwards, nor the topic borrowed from it.
/// No other thread may be using it.
#[unsafe(no_mangle)]
pub extern "C" fn brook_publisher_free(publisher: *mut brook_publisher) {
    guard_or((), || {
        if !publisher.is_null() {
            // SAFETY: `publisher` came from `brook_endpoint_publisher`, by contract.
            drop(unsafe { Box::from_raw(publisher) });
        }
    })
}
