//! What an endpoint hands to its consumers: `brook_subscriber` with its `brook_message`s, and
//! `brook_status_subscriber` with its `brook_status_event`s.
//!
//! A subscriber may outlive its endpoint. It shares its queue with the reactor, which closes
//! the queue when it stops; the consumer then takes what is left and gets
//! `BROOK_STATUS_CLOSED`. Waits are timed slices inside the Rust API, so a wait "forever"
//! also ends with `BROOK_STATUS_CLOSED` when the endpoint shuts down.

use std::ffi::{CString, c_char, c_int};
use std::time::Duration;

use super::data::brook_data;
use super::endpoint::{brook_endpoint, endpoint};
use super::event::brook_event;
use super::memory::ip_text;
use super::{Failure, FfiResult, arg, brook_status, cstr_arg, guard, guard_or, optional_out, out};
use crate::endpoint::{Message, StatusEvent, StatusKind, StatusSubscriber, Subscriber};
use crate::wire::EndpointId;

/// How long a `timeout_ms` from C says to wait: negative is forever.
fn wait_time(timeout_ms: i64) -> Option<Duration> {
    u64::try_from(timeout_ms).ok().map(Duration::from_millis)
}

fn timed_out(timeout_ms: i64, what: &str) -> Failure {
    Failure::new(
        brook_status::Timeout,
        format!("no {what} within {timeout_ms} ms"),
    )
}

// --- Subscriber -------------------------------------------------------------------------

/// Receives the messages published on its topics, locally or by peers, in the order they
/// arrived. Its file descriptor (brook_subscriber_fd()) lets a poll() loop wait for them.
///
/// Use from one thread at a time. Free with brook_subscriber_free().
pub struct brook_subscriber {
    inner: Subscriber,
}

/// Subscribes to the `n_topics` topic prefixes in `topics`: the subscriber receives every
/// message whose topic starts with one of them (`"/zeek/"` matches `"/zeek/event/x"`). The
/// endpoint's peers learn the topics and send matching messages. `topics` may be NULL when
/// `n_topics` is 0; add topics later with brook_subscriber_add_topic().
///
/// Caller owns the result; free it with brook_subscriber_free(). It may outlive `endpoint`.
/// Returns BROOK_STATUS_NULL_ARGUMENT if a pointer is NULL, BROOK_STATUS_IO if its file
/// descriptor cannot be made, BROOK_STATUS_CLOSED after shutdown. Out-parameters are
/// written only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_subscribe(
    endpoint: *mut brook_endpoint,
    topics: *const *const c_char,
    n_topics: usize,
    out_subscriber: *mut *mut brook_subscriber,
) -> brook_status {
    subscribe(endpoint, topics, n_topics, None, out_subscriber)
}

/// Like brook_endpoint_subscribe(), with a queue of `queue_size` messages instead of the
/// endpoint's configured size (Broker's `qsize`).
///
/// Caller owns the result; free it with brook_subscriber_free(). It may outlive `endpoint`.
/// Returns BROOK_STATUS_NULL_ARGUMENT if a pointer is NULL, BROOK_STATUS_INVALID_ARGUMENT
/// if `queue_size` is 0 or above 16777216, BROOK_STATUS_IO if its file descriptor cannot
/// be made, BROOK_STATUS_CLOSED after shutdown. Out-parameters are written only when the
/// call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_subscribe_sized(
    endpoint: *mut brook_endpoint,
    topics: *const *const c_char,
    n_topics: usize,
    queue_size: usize,
    out_subscriber: *mut *mut brook_subscriber,
) -> brook_status {
    subscribe(endpoint, topics, n_topics, Some(queue_size), out_subscriber)
}

/// Both subscribe calls: `queue_size` `None` takes the endpoint's.
fn subscribe(
    endpoint: *mut brook_endpoint,
    topics: *const *const c_char,
    n_topics: usize,
    queue_size: Option<usize>,
    out_subscriber: *mut *mut brook_subscriber,
) -> brook_status {
    guard(|| {
        let ep = self::endpoint(endpoint)?;
        let topics = topics_arg(topics, n_topics)?;
        let out_subscriber = out(out_subscriber, "out_subscriber")?;
        let inner = match queue_size {
            Some(n) => ep.subscribe_with(&topics, n)?,
            None => ep.subscribe(&topics)?,
        };
        out_subscriber.write(Box::into_raw(Box::new(brook_subscriber { inner })));
        Ok(())
    })
}

/// An array of `n` NUL-terminated topics.
fn topics_arg<'a>(topics: *const *const c_char, n: usize) -> FfiResult<Vec<&'a [u8]>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if topics.is_null() {
        return Err(Failure::new(brook_status::NullArgument, "topics is NULL"));
    }
    // SAFETY: C promises `n` readable pointers at `topics`.
    let ptrs = unsafe { std::slice::from_raw_parts(topics, n) };
    ptrs.iter()
        .enumerate()
        .map(|(i, p)| cstr_arg(*p, &format!("topics[{i}]")))
        .collect()
}

fn subscriber<'a>(sub: *const brook_subscriber) -> FfiResult<&'a brook_subscriber> {
    arg(sub, "subscriber")
}

/// Takes the next message, waiting up to `timeout_ms` milliseconds for one (0: do not wait;
/// negative: wait until one arrives or the endpoint shuts down).
///
/// Caller owns the result; free it with brook_message_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_TIMEOUT if no
/// message came in time, BROOK_STATUS_CLOSED once the endpoint has shut down and every
/// message it delivered has been taken. Out-parameters are written only when the call
/// returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_subscriber_next(
    subscriber: *mut brook_subscriber,
    timeout_ms: i64,
    out_message: *mut *mut brook_message,
) -> brook_status {
    guard(|| {
        let s = self::subscriber(subscriber)?;
        let out_message = out(out_message, "out_message")?;
        let m = s
            .inner
            .get(wait_time(timeout_ms))?
            .ok_or_else(|| timed_out(timeout_ms, "message"))?;
        out_message.write(brook_message::into_raw(m));
        Ok(())
    })
}

/// Takes up to `max` messages that are already waiting, without waiting: stores them in
/// `out_messages[0]` to `out_messages[*out_n - 1]` and their number in `*out_n`, which is 0
/// if none wait. `out_messages` may be NULL when `max` is 0.
///
/// Caller owns each message; free each with brook_message_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if a pointer is NULL, BROOK_STATUS_CLOSED instead of
/// 0 messages once the endpoint has shut down and every message has been taken (its file
/// descriptor then stays readable). Out-parameters are written only when the call returns
/// BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_subscriber_poll(
    subscriber: *mut brook_subscriber,
    out_messages: *mut *mut brook_message,
    max: usize,
    out_n: *mut usize,
) -> brook_status {
    guard(|| {
        let s = self::subscriber(subscriber)?;
        if max > 0 && out_messages.is_null() {
            return Err(Failure::new(
                brook_status::NullArgument,
                "out_messages is NULL",
            ));
        }
        let out_n = out(out_n, "out_n")?;
        let mut messages = s.inner.poll(max);
        if messages.is_empty() && max > 0 {
            // A zero wait tells an empty queue (None) from a closed one (Closed).
            messages.extend(s.inner.get(Some(Duration::ZERO))?);
        }
        let n = messages.len();
        for (i, m) in messages.into_iter().enumerate() {
            // SAFETY: C promises room for `max` pointers at `out_messages`, and `i < max`.
            unsafe { out_messages.add(i).write(brook_message::into_raw(m)) };
        }
        out_n.write(n);
        Ok(())
    })
}

/// Takes up to `max` messages and copies them into `buf`, which has room for `len` bytes,
/// waiting up to `timeout_ms` milliseconds for the first one (0: do not wait; negative: wait
/// until one arrives or the endpoint shuts down); after the first, only messages already
/// waiting are taken. One call a batch and no message objects: the receive path for
/// bindings.
///
/// The messages are written back to back, in the order they arrived, each as
/// `[u32 topic_len][u32 payload_len][topic][payload]`: the two lengths are little-endian
/// and unaligned (read them with memcpy), the topic is not NUL-terminated, and the payload
/// is the value in Broker's binary format v1, as from brook_message_payload(). `*out_n`
/// receives the number of messages written, `*out_used` the bytes written.
///
/// A message that does not fit in the room left is not lost: it stays with the subscriber,
/// ahead of the queue, and `*out_needed` receives the bytes it takes (8 + topic_len +
/// payload_len); `*out_needed` is 0 when no message is held back. So when `buf` is too
/// small for the next message, the call writes none and sets `*out_needed`: call again with
/// at least that many bytes. A held message comes first from every receive call, counts in
/// brook_subscriber_available() and keeps the file descriptor readable.
///
/// `buf` may be NULL when `len` is 0. With `max` 0 the call takes nothing, sets `*out_n` and
/// `*out_used` to 0 and `*out_needed` as above.
/// Returns BROOK_STATUS_NULL_ARGUMENT if a pointer is NULL, BROOK_STATUS_CLOSED instead of
/// 0 messages once the endpoint has shut down and every message has been taken. No message
/// within the timeout is BROOK_STATUS_OK with `*out_n` 0. Out-parameters are written only
/// when the call returns BROOK_STATUS_OK.
// A C signature: two inputs, a buffer with its length, and three results.
#[allow(clippy::too_many_arguments)]
#[unsafe(no_mangle)]
pub extern "C" fn brook_subscriber_poll_into(
    subscriber: *mut brook_subscriber,
    timeout_ms: i64,
    max: usize,
    buf: *mut u8,
    len: usize,
    out_n: *mut usize,
    out_used: *mut usize,
    out_needed: *mut usize,
) -> brook_status {
    guard(|| {
        let s = self::subscriber(subscriber)?;
        if len > 0 && buf.is_null() {
            return Err(Failure::new(brook_status::NullArgument, "buf is NULL"));
        }
        let out_n = out(out_n, "out_n")?;
        let out_used = out(out_used, "out_used")?;
        let out_needed = out(out_needed, "out_needed")?;
        let dst: &mut [u8] = if len == 0 {
            &mut []
        } else {
            // SAFETY: C promises `len` writable bytes at `buf`, not used elsewhere meanwhile.
            unsafe { std::slice::from_raw_parts_mut(buf, len) }
        };
        let (mut n, mut used, mut needed) = (0, 0, 0);
        // Only the first message is waited for; an error after it (the endpoint closed) is
        // reported by the next call, so that the messages taken are not lost.
        let first = if max > 0 {
            s.inner.get(wait_time(timeout_ms))?
        } else {
            None
        };
        let mut place = |m: Message| -> Result<(), Message> {
            let (topic, payload) = (m.topic(), m.payload());
            let size = 8 + topic.len() + payload.len();
            if size > dst.len() - used {
                needed = size;
                return Err(m);
            }
            write_record(&mut dst[used..used + size], topic, payload);
            used += size;
            n += 1;
            Ok(())
        };
        if let Some(m) = first {
            match place(m) {
                // The rest without waiting, the fd looked at once.
                Ok(()) => {
                    s.inner.poll_while(max - 1, &mut place);
                }
                // Just taken, so nothing else is back: put_back cannot refuse it.
                Err(m) => {
                    let _ = s.inner.put_back(m);
                }
            }
        }
        if max == 0 {
            needed = s
                .inner
                .with_put_back(|m| m.map_or(0, |m| 8 + m.topic().len() + m.payload().len()));
        }
        out_n.write(n);
        out_used.write(used);
        out_needed.write(needed);
        Ok(())
    })
}

/// One message in brook_subscriber_poll_into()'s layout; `dst` has exactly its size.
fn write_record(dst: &mut [u8], topic: &[u8], payload: &[u8]) {
    // Both fit in u32: a message's parts are u32 offsets into its frame.
    let (head, rest) = dst.split_at_mut(8);
    head[..4].copy_from_slice(&(topic.len() as u32).to_le_bytes());
    head[4..].copy_from_slice(&(payload.len() as u32).to_le_bytes());
    let (t, p) = rest.split_at_mut(topic.len());
    t.copy_from_slice(topic);
    p.copy_from_slice(payload);
}

/// The number of messages waiting to be taken.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_subscriber_available(
    subscriber: *const brook_subscriber,
    out_n: *mut usize,
) -> brook_status {
    guard(|| {
        let s = self::subscriber(subscriber)?;
        let n = s.inner.available();
        out(out_n, "out_n")?.write(n);
        Ok(())
    })
}

/// The number of messages the queue's overflow policy has dropped so far
/// (BROOK_OVERFLOW_POLICY_DROP_NEWEST or BROOK_OVERFLOW_POLICY_DROP_OLDEST).
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_subscriber_dropped(
    subscriber: *const brook_subscriber,
    out_n: *mut u64,
) -> brook_status {
    guard(|| {
        let n = self::subscriber(subscriber)?.inner.dropped();
        out(out_n, "out_n")?.write(n);
        Ok(())
    })
}

/// A file descriptor that is readable while messages wait, and once the endpoint has shut
/// down (level-triggered, for poll(), select() or epoll), including a message that
/// brook_subscriber_poll_into() held back. Take messages with brook_subscriber_next(),
/// brook_subscriber_poll() or brook_subscriber_poll_into(); never read, write or close the
/// descriptor yourself.
///
/// Borrowed: `*out_fd` is valid until `subscriber` is freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_subscriber_fd(
    subscriber: *const brook_subscriber,
    out_fd: *mut c_int,
) -> brook_status {
    guard(|| {
        let fd = self::subscriber(subscriber)?.inner.fd();
        out(out_fd, "out_fd")?.write(fd);
        Ok(())
    })
}

/// Adds the topic prefix `topic` to the subscriber's topics and advertises it to the peers.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_CLOSED after
/// shutdown.
#[unsafe(no_mangle)]
pub extern "C" fn brook_subscriber_add_topic(
    subscriber: *mut brook_subscriber,
    topic: *const c_char,
) -> brook_status {
    guard(|| {
        let s = self::subscriber(subscriber)?;
        Ok(s.inner.add_topic(cstr_arg(topic, "topic")?)?)
    })
}

/// Removes the topic prefix `topic` from the subscriber's topics. Messages on it no longer
/// arrive here, but as in Broker, the peers keep sending them to the endpoint.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_CLOSED after
/// shutdown.
#[unsafe(no_mangle)]
pub extern "C" fn brook_subscriber_remove_topic(
    subscriber: *mut brook_subscriber,
    topic: *const c_char,
) -> brook_status {
    guard(|| {
        let s = self::subscriber(subscriber)?;
        Ok(s.inner.remove_topic(cstr_arg(topic, "topic")?)?)
    })
}

/// Unsubscribes and frees the subscriber with the messages it still holds. NULL does
/// nothing. Messages already taken stay valid.
///
/// Consumes `subscriber`: do not use or free it afterwards, nor its file descriptor.
#[unsafe(no_mangle)]
pub extern "C" fn brook_subscriber_free(subscriber: *mut brook_subscriber) {
    guard_or((), || {
        if !subscriber.is_null() {
            // SAFETY: `subscriber` came from `brook_endpoint_subscribe`, by contract.
            drop(unsafe { Box::from_raw(subscriber) });
        }
    })
}

// --- Message ----------------------------------------------------------------------------

/// A message taken from a subscriber: its topic and its value, kept encoded in Broker's
/// binary format v1 until brook_message_data() or brook_message_event() decodes it.
///
/// Use from one thread at a time. Free with brook_message_free().
pub struct brook_message {
    inner: Message,
}

impl brook_message {
    fn into_raw(inner: Message) -> *mut brook_message {
        Box::into_raw(Box::new(brook_message { inner }))
    }
}

fn message<'a>(msg: *const brook_message) -> FfiResult<&'a Message> {
    Ok(&arg(msg, "message")?.inner)
}

/// Hands a borrowed byte range to C.
fn bytes_out(bytes: &[u8], out_buf: *mut *const u8, out_len: *mut usize) -> FfiResult {
    let (out_buf, out_len) = (out(out_buf, "out_buf")?, out(out_len, "out_len")?);
    out_buf.write(bytes.as_ptr());
    out_len.write(bytes.len());
    Ok(())
}

/// The topic the message was published on: `*out_buf` points at its `*out_len` bytes,
/// which are not NUL-terminated.
///
/// Borrowed: valid until `message` is freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_message_topic(
    message: *const brook_message,
    out_buf: *mut *const u8,
    out_len: *mut usize,
) -> brook_status {
    guard(|| bytes_out(self::message(message)?.topic(), out_buf, out_len))
}

/// The message's value as it came off the wire, in Broker's binary format v1:
/// `*out_buf` points at its `*out_len` bytes. brook_data_from_bytes() decodes them.
///
/// Borrowed: valid until `message` is freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_message_payload(
    message: *const brook_message,
    out_buf: *mut *const u8,
    out_len: *mut usize,
) -> brook_status {
    guard(|| bytes_out(self::message(message)?.payload(), out_buf, out_len))
}

/// Decodes the message's value.
///
/// Caller owns the result; free it with brook_data_free(). `message` is unchanged.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_DECODE_ERROR if
/// a peer sent a malformed value (the message names the byte offset). Out-parameters are
/// written only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_message_data(
    message: *const brook_message,
    out_data: *mut *mut brook_data,
) -> brook_status {
    guard(|| {
        let m = self::message(message)?;
        let out_data = out(out_data, "out_data")?;
        out_data.write(brook_data::into_raw(m.data()?));
        Ok(())
    })
}

/// Decodes the message's value as a Zeek event, checking its shape as Broker's `valid()`
/// does. Faster than brook_message_data() followed by brook_event_from_data().
///
/// Caller owns the result; free it with brook_event_free(). `message` is unchanged.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_DECODE_ERROR if
/// the value is malformed, BROOK_STATUS_TYPE_MISMATCH if it is not a Zeek event (a plain
/// value, or another Zeek message such as a log write). Out-parameters are written only
/// when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_message_event(
    message: *const brook_message,
    out_event: *mut *mut brook_event,
) -> brook_status {
    guard(|| {
        let m = self::message(message)?;
        let out_event = out(out_event, "out_event")?;
        out_event.write(brook_event::into_raw(m.event()?));
        Ok(())
    })
}

/// Frees a message. NULL does nothing.
///
/// Consumes `message`: do not use or free it afterwards, nor the bytes borrowed from it.
#[unsafe(no_mangle)]
pub extern "C" fn brook_message_free(message: *mut brook_message) {
    guard_or((), || {
        if !message.is_null() {
            // SAFETY: `message` came from `brook_message::into_raw`, by contract.
            drop(unsafe { Box::from_raw(message) });
        }
    })
}

// --- Status subscriber ------------------------------------------------------------------

/// Receives the endpoint's status events (peer added, lost, ...) and, if asked, its error
/// events (a peer unavailable, a malformed message, ...), as Broker's status subscribers do.
/// It holds the latest 1024; older ones are dropped.
///
/// Use from one thread at a time. Free with brook_status_subscriber_free().
pub struct brook_status_subscriber {
    inner: StatusSubscriber,
}

/// Makes a status subscriber. With `errors` false, it receives status events only.
///
/// Caller owns the result; free it with brook_status_subscriber_free(). It may outlive
/// `endpoint`.
/// Returns BROOK_STATUS_NULL_ARGUMENT if a pointer is NULL, BROOK_STATUS_IO if its file
/// descriptor cannot be made, BROOK_STATUS_CLOSED after shutdown. Out-parameters are
/// written only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_status_subscriber(
    endpoint: *mut brook_endpoint,
    errors: bool,
    out_subscriber: *mut *mut brook_status_subscriber,
) -> brook_status {
    guard(|| {
        let ep = self::endpoint(endpoint)?;
        let out_subscriber = out(out_subscriber, "out_subscriber")?;
        let inner = ep.status_subscriber(errors)?;
        out_subscriber.write(Box::into_raw(Box::new(brook_status_subscriber { inner })));
        Ok(())
    })
}

fn status_subscriber<'a>(sub: *const brook_status_subscriber) -> FfiResult<&'a StatusSubscriber> {
    Ok(&arg(sub, "subscriber")?.inner)
}

/// Takes the next status or error event, waiting up to `timeout_ms` milliseconds for one
/// (0: do not wait; negative: wait until one arrives or the endpoint shuts down).
///
/// Caller owns the result; free it with brook_status_event_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_TIMEOUT if no
/// event came in time, BROOK_STATUS_CLOSED once the endpoint has shut down and every event
/// has been taken. Out-parameters are written only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_status_subscriber_next(
    subscriber: *mut brook_status_subscriber,
    timeout_ms: i64,
    out_event: *mut *mut brook_status_event,
) -> brook_status {
    guard(|| {
        let s = self::status_subscriber(subscriber)?;
        let out_event = out(out_event, "out_event")?;
        let ev = s
            .get(wait_time(timeout_ms))?
            .ok_or_else(|| timed_out(timeout_ms, "status event"))?;
        out_event.write(brook_status_event::into_raw(ev));
        Ok(())
    })
}

/// The number of events waiting to be taken.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_status_subscriber_available(
    subscriber: *const brook_status_subscriber,
    out_n: *mut usize,
) -> brook_status {
    guard(|| {
        let n = self::status_subscriber(subscriber)?.available();
        out(out_n, "out_n")?.write(n);
        Ok(())
    })
}

/// Like brook_subscriber_fd(), but readable while status events wait.
#[unsafe(no_mangle)]
pub extern "C" fn brook_status_subscriber_fd(
    subscriber: *const brook_status_subscriber,
    out_fd: *mut c_int,
) -> brook_status {
    guard(|| {
        let fd = self::status_subscriber(subscriber)?.fd();
        out(out_fd, "out_fd")?.write(fd);
        Ok(())
    })
}

/// Frees a status subscriber with the events it still holds. NULL does nothing.
///
/// Consumes `subscriber`: do not use or free it afterwards, nor its file descriptor.
#[unsafe(no_mangle)]
pub extern "C" fn brook_status_subscriber_free(subscriber: *mut brook_status_subscriber) {
    guard_or((), || {
        if !subscriber.is_null() {
            // SAFETY: `subscriber` came from `brook_endpoint_status_subscriber`, by contract.
            drop(unsafe { Box::from_raw(subscriber) });
        }
    })
}

// --- Status event -----------------------------------------------------------------------

/// Whether a status event reports a status or an error.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum brook_status_kind {
    /// A status: its code is one of Broker's `sc` values (1 peer_added, 2 peer_removed,
    /// 3 peer_lost, 4 endpoint_discovered, 5 endpoint_unreachable).
    Status = 0,
    /// An error: its code is one of Broker's `ec` values (4 peer_unavailable, ...).
    Error = 1,
}

/// A status or error event from a status subscriber.
///
/// Use from one thread at a time. Free with brook_status_event_free().
pub struct brook_status_event {
    kind: brook_status_kind,
    code: u32,
    name: CString,
    endpoint: Option<EndpointId>,
    address: Option<(CString, u16)>,
    message: CString,
}

/// Text for C: Rust strings may hold NUL, which would cut them short.
fn c_text(s: &str) -> CString {
    CString::new(s.replace('\0', "\\0")).unwrap_or_default()
}

impl brook_status_event {
    fn into_raw(ev: StatusEvent) -> *mut brook_status_event {
        let (kind, code, name) = match ev.kind {
            StatusKind::Status(c) => (brook_status_kind::Status, c as u32, c.name()),
            StatusKind::Error(e) => (brook_status_kind::Error, e as u32, e.name()),
        };
        Box::into_raw(Box::new(brook_status_event {
            kind,
            code,
            name: c_text(name),
            endpoint: ev.endpoint,
            address: ev.address.map(|a| (ip_text(&a), a.port())),
            message: c_text(&ev.message),
        }))
    }
}

fn status_event<'a>(ev: *const brook_status_event) -> FfiResult<&'a brook_status_event> {
    arg(ev, "event")
}

/// Whether the event is a status or an error.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_status_event_kind(
    event: *const brook_status_event,
    out_kind: *mut brook_status_kind,
) -> brook_status {
    guard(|| {
        let kind = status_event(event)?.kind;
        out(out_kind, "out_kind")?.write(kind);
        Ok(())
    })
}

/// The event's code: Broker's number for the status or the error (see brook_status_kind).
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_status_event_code(
    event: *const brook_status_event,
    out_code: *mut u32,
) -> brook_status {
    guard(|| {
        let code = status_event(event)?.code;
        out(out_code, "out_code")?.write(code);
        Ok(())
    })
}

/// Broker's snake_case name of the event's code, such as `"peer_added"` or
/// `"peer_unavailable"`.
///
/// Borrowed: valid until `event` is freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_status_event_name(
    event: *const brook_status_event,
    out_name: *mut *const c_char,
) -> brook_status {
    guard(|| {
        let ev = status_event(event)?;
        out(out_name, "out_name")?.write(ev.name.as_ptr());
        Ok(())
    })
}

/// Copies the 16-byte ID of the peer or endpoint the event concerns to `out_id16`.
/// `*out_known` (which may be NULL if not wanted) tells whether the event names one; if
/// not, the ID is all zeros.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `event` or `out_id16` is NULL. Out-parameters are
/// written only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_status_event_endpoint(
    event: *const brook_status_event,
    out_id16: *mut u8,
    out_known: *mut bool,
) -> brook_status {
    guard(|| {
        let ev = status_event(event)?;
        let out_id = out(out_id16.cast::<[u8; 16]>(), "out_id16")?;
        let out_known = optional_out(out_known);
        out_id.write(ev.endpoint.unwrap_or_default().0);
        if let Some(o) = out_known {
            o.write(ev.endpoint.is_some());
        }
        Ok(())
    })
}

/// The network address of the peer the event concerns: its IP as text in `*out_ip` and its
/// TCP port in `*out_port` (which may be NULL if not wanted). When the event names no
/// address, `*out_ip` is NULL and `*out_port` 0.
///
/// Borrowed: `*out_ip` is valid until `event` is freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if `event` or `out_ip` is NULL. Out-parameters are
/// written only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_status_event_address(
    event: *const brook_status_event,
    out_ip: *mut *const c_char,
    out_port: *mut u16,
) -> brook_status {
    guard(|| {
        let ev = status_event(event)?;
        let out_ip = out(out_ip, "out_ip")?;
        let out_port = optional_out(out_port);
        let (ip, port) = ev
            .address
            .as_ref()
            .map_or((std::ptr::null(), 0), |(ip, port)| (ip.as_ptr(), *port));
        out_ip.write(ip);
        if let Some(o) = out_port {
            o.write(port);
        }
        Ok(())
    })
}

/// The event's message for people, such as `"handshake successful"`.
///
/// Borrowed: valid until `event` is freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_status_event_message(
    event: *const brook_status_event,
    out_message: *mut *const c_char,
) -> brook_status {
    guard(|| {
        let ev = status_event(event)?;
        out(out_message, "out_message")?.write(ev.message.as_ptr());
        Ok(())
    })
}

/// Frees a status event. NULL does nothing.
///
/// Consumes `event`: do not use or free it afterwards, nor the text borrowed from it.
#[unsafe(no_mangle)]
pub extern "C" fn brook_status_event_free(event: *mut brook_status_event) {
    guard_or((), || {
        if !event.is_null() {
            // SAFETY: `event` came from `brook_status_event::into_raw`, by contract.
            drop(unsafe { Box::from_raw(event) });
        }
    })
}
