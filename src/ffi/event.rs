//! `brook_event`: a Zeek event (a name, arguments, optional metadata) and its conversion to
//! and from the data value `(1, 1, (name, (args...), metadata))` that travels on the wire.

use std::ffi::c_char;

use super::data::brook_data;
use super::{Failure, arg, arg_mut, brook_status, guard, guard_or, optional_out, out, str_arg};
use crate::data::zeek::Event;
use crate::data::{Data, Timestamp};

/// A Zeek event: a name, its arguments, and optional metadata such as the network
/// timestamp.
///
/// Use from one thread at a time. Free with brook_event_free().
pub struct brook_event {
    pub(crate) inner: Event,
    /// The name with a terminating NUL, for `brook_event_name`; the name never changes.
    name_c: Box<[u8]>,
}

impl brook_event {
    /// Boxes `inner` for a caller who will free it with `brook_event_free`.
    pub(crate) fn into_raw(inner: Event) -> *mut brook_event {
        let mut name_c = Vec::with_capacity(inner.name.len() + 1);
        name_c.extend_from_slice(inner.name.as_bytes());
        name_c.push(0);
        Box::into_raw(Box::new(brook_event {
            inner,
            name_c: name_c.into_boxed_slice(),
        }))
    }
}

/// Makes an event named `name` (UTF-8, e.g. `"event_1"`) with no arguments and no metadata.
///
/// Caller owns the result; free it with brook_event_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_INVALID_ARGUMENT
/// if `name` is not UTF-8. Out-parameters are written only when the call returns
/// BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_event_new(
    name: *const c_char,
    out_event: *mut *mut brook_event,
) -> brook_status {
    guard(|| {
        let name = str_arg(name, "name")?;
        let out_event = out(out_event, "out_event")?;
        out_event.write(brook_event::into_raw(Event::new(name, Vec::new())));
        Ok(())
    })
}

/// Appends a copy of `arg` to the event's arguments.
///
/// `arg` is only read; the caller still owns it. Invalidates pointers from
/// brook_event_arg().
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL.
#[unsafe(no_mangle)]
pub extern "C" fn brook_event_add_arg(
    event: *mut brook_event,
    arg: *const brook_data,
) -> brook_status {
    guard(|| {
        // Copied first: `arg` may point into the event itself.
        let a = super::arg(arg, "arg")?.inner.clone();
        arg_mut(event, "event")?.inner.args.push(a);
        Ok(())
    })
}

/// The event's name, NUL-terminated. (A name received from the wire that contains a NUL
/// byte appears cut short.)
///
/// Borrowed: valid until `event` is freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_event_name(
    event: *const brook_event,
    out_name: *mut *const c_char,
) -> brook_status {
    guard(|| {
        let e = arg(event, "event")?;
        let out_name = out(out_name, "out_name")?;
        out_name.write(e.name_c.as_ptr().cast());
        Ok(())
    })
}

/// The number of arguments of the event.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_event_arg_count(
    event: *const brook_event,
    out_count: *mut usize,
) -> brook_status {
    guard(|| {
        let e = arg(event, "event")?;
        let out_count = out(out_count, "out_count")?;
        out_count.write(e.inner.args.len());
        Ok(())
    })
}

/// The argument at `index` (0-based).
///
/// Borrowed: valid until `event` is modified or freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_OUT_OF_RANGE if
/// `index` is not below the argument count. Out-parameters are written only when the call
/// returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_event_arg(
    event: *const brook_event,
    index: usize,
    out_arg: *mut *const brook_data,
) -> brook_status {
    guard(|| {
        let args = &arg(event, "event")?.inner.args;
        let out_arg = out(out_arg, "out_arg")?;
        let a = args.get(index).ok_or_else(|| {
            Failure::new(
                brook_status::OutOfRange,
                format!(
                    "index {index} is out of range for an event with {} arguments",
                    args.len()
                ),
            )
        })?;
        out_arg.write(brook_data::borrowed(a));
        Ok(())
    })
}

/// Sets (or replaces) the event's network timestamp, in nanoseconds since the Unix epoch:
/// the metadata entry with key 1 that Zeek reads as the event's network time.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `event` is NULL.
#[unsafe(no_mangle)]
pub extern "C" fn brook_event_set_network_timestamp(
    event: *mut brook_event,
    ns_since_epoch: i64,
) -> brook_status {
    guard(|| {
        let e = arg_mut(event, "event")?;
        e.inner.set_network_timestamp(Timestamp(ns_since_epoch));
        Ok(())
    })
}

/// Reads the event's network timestamp. `*out_present` tells whether the event has one;
/// if not, `*out_ns_since_epoch` is 0. `out_present` may be NULL if not wanted.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `event` or `out_ns_since_epoch` is NULL.
/// Out-parameters are written only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_event_network_timestamp(
    event: *const brook_event,
    out_ns_since_epoch: *mut i64,
    out_present: *mut bool,
) -> brook_status {
    guard(|| {
        let e = arg(event, "event")?;
        let out_ns = out(out_ns_since_epoch, "out_ns_since_epoch")?;
        let out_present = optional_out(out_present);
        let ts = e.inner.network_timestamp();
        out_ns.write(ts.map_or(0, |t| t.0));
        if let Some(o) = out_present {
            o.write(ts.is_some());
        }
        Ok(())
    })
}

/// Converts the event into the data value Zeek sends, `(1, 1, (name, (args...)))` plus the
/// metadata vector when there is metadata. Encode it with brook_data_to_bytes() to get the
/// bytes of a Broker data message.
///
/// Caller owns the result; free it with brook_data_free(). `event` is unchanged.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_event_to_data(
    event: *const brook_event,
    out_data: *mut *mut brook_data,
) -> brook_status {
    guard(|| {
        let e = arg(event, "event")?;
        let out_data = out(out_data, "out_data")?;
        out_data.write(brook_data::into_raw(Data::from(e.inner.clone())));
        Ok(())
    })
}

/// Reads an event from a data value received from Zeek, checking its shape as Broker's
/// `valid()` does.
///
/// Caller owns the result; free it with brook_event_free(). `d` is only read.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_TYPE_MISMATCH if
/// `d` is not a valid Zeek event (the message says what is wrong; another Zeek message such
/// as a log write is also a mismatch). Out-parameters are written only when the call
/// returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_event_from_data(
    d: *const brook_data,
    out_event: *mut *mut brook_event,
) -> brook_status {
    guard(|| {
        let d = &arg(d, "d")?.inner;
        let out_event = out(out_event, "out_event")?;
        let e = Event::try_from(d.clone())?;
        out_event.write(brook_event::into_raw(e));
        Ok(())
    })
}

/// Frees an event with its arguments. NULL does nothing.
///
/// Consumes `event`: do not use or free it afterwards.
#[unsafe(no_mangle)]
pub extern "C" fn brook_event_free(event: *mut brook_event) {
    guard_or((), || {
        if !event.is_null() {
            // SAFETY: `event` came from `brook_event::into_raw`, by contract.
            drop(unsafe { Box::from_raw(event) });
        }
    })
}
