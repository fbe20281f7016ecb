//! The Zeek messages other than events (spec §6.3–§6.6): `brook_log_create`,
//! `brook_log_write`, `brook_identifier_update` and `brook_zeek_batch`, each built from its
//! parts or read from a data value, plus `brook_zeek_message_kind` to tell which message a
//! received value holds.
//!
//! Text parts follow the Rust types: a part that is a `String` in Rust (stream and writer
//! ids, identifier names) goes in and comes out as a NUL-terminated UTF-8 `char *`, like an
//! event's name; a part that is bytes (a log write's path and serial data) goes in and comes
//! out as a buffer and a length, like a data string.
//!
//! A batch keeps its elements as the data values they arrived as, checked once on the way
//! in, so that reading and re-encoding a batch gives back its exact bytes.

use std::ffi::c_char;

use super::data::brook_data;
use super::{
    Failure, FfiResult, arg, arg_mut, brook_status, bytes_arg, guard, guard_or, out, str_arg,
};
use crate::data::Data;
use crate::data::zeek::{
    FORMAT_VERSION, IdentifierUpdate, LogCreate, LogWrite, Message, MessageType,
};

/// Which Zeek message a data value holds. The numbers are the message types Zeek puts on
/// the wire, and never change.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum brook_zeek_kind {
    /// An event: read it with brook_event_from_data().
    Event = 1,
    /// A log create: read it with brook_log_create_from_data().
    LogCreate = 2,
    /// A log write: read it with brook_log_write_from_data().
    LogWrite = 3,
    /// An identifier update: read it with brook_identifier_update_from_data().
    IdentifierUpdate = 4,
    /// A batch of messages: read it with brook_zeek_batch_from_data().
    Batch = 5,
}

fn kind_of(m: &Message) -> brook_zeek_kind {
    match m {
        Message::Event(_) => brook_zeek_kind::Event,
        Message::LogCreate(_) => brook_zeek_kind::LogCreate,
        Message::LogWrite(_) => brook_zeek_kind::LogWrite,
        Message::IdentifierUpdate(_) => brook_zeek_kind::IdentifierUpdate,
        Message::Batch(_) => brook_zeek_kind::Batch,
    }
}

fn kind_name(k: brook_zeek_kind) -> &'static str {
    match k {
        brook_zeek_kind::Event => "an event",
        brook_zeek_kind::LogCreate => "a log create",
        brook_zeek_kind::LogWrite => "a log write",
        brook_zeek_kind::IdentifierUpdate => "an identifier update",
        brook_zeek_kind::Batch => "a batch",
    }
}

/// The valid Zeek message in `d`, which must be of kind `want`.
fn message_of(d: &Data, want: brook_zeek_kind) -> FfiResult<Message> {
    let m = Message::try_from(d.clone())?;
    let got = kind_of(&m);
    if got != want {
        return Err(Failure::mismatch(format!(
            "the Zeek message is {}, not {}",
            kind_name(got),
            kind_name(want)
        )));
    }
    Ok(m)
}

/// `s` with a terminating NUL, for C. A NUL inside (possible only in a name received from
/// the wire) cuts the C string short, as for `brook_event_name`.
fn c_name(s: &str) -> Box<[u8]> {
    let mut v = Vec::with_capacity(s.len() + 1);
    v.extend_from_slice(s.as_bytes());
    v.push(0);
    v.into_boxed_slice()
}

/// Writes a borrowed byte buffer to a pair of out-parameters.
fn bytes_out(bytes: &[u8], out_buf: *mut *const u8, out_len: *mut usize) -> FfiResult {
    let (out_buf, out_len) = (out(out_buf, "out_buf")?, out(out_len, "out_len")?);
    out_buf.write(bytes.as_ptr());
    out_len.write(bytes.len());
    Ok(())
}

/// Writes a borrowed NUL-terminated name to an out-parameter.
fn name_out(name: &[u8], out_name: *mut *const c_char, what: &str) -> FfiResult {
    out(out_name, what)?.write(name.as_ptr().cast());
    Ok(())
}

/// Tells which Zeek message `message` holds, after checking the whole message as Broker's
/// `valid()` does (every element of a batch included). On BROOK_STATUS_OK, the
/// `brook_*_from_data` call that `*out_kind` names succeeds on `message`.
///
/// `message` is only read.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_TYPE_MISMATCH if
/// `message` is not a valid Zeek message of a known type (the message says what is wrong).
/// Out-parameters are written only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_zeek_message_kind(
    message: *const brook_data,
    out_kind: *mut brook_zeek_kind,
) -> brook_status {
    guard(|| {
        let d = &arg(message, "message")?.inner;
        let out_kind = out(out_kind, "out_kind")?;
        let m = Message::try_from(d.clone())?;
        out_kind.write(kind_of(&m));
        Ok(())
    })
}

// --- Log create -------------------------------------------------------------------------

/// A Zeek log create: announces a log stream, with its writer, the writer's settings and
/// the descriptions of the log's columns.
///
/// Use from one thread at a time. Free with brook_log_create_free().
pub struct brook_log_create {
    pub(crate) inner: LogCreate,
    // The ids with a terminating NUL, for the accessors; they never change.
    stream_id_c: Box<[u8]>,
    writer_id_c: Box<[u8]>,
}

impl brook_log_create {
    fn into_raw(inner: LogCreate) -> *mut brook_log_create {
        Box::into_raw(Box::new(brook_log_create {
            stream_id_c: c_name(&inner.stream_id),
            writer_id_c: c_name(&inner.writer_id),
            inner,
        }))
    }
}

/// Makes a log create for the stream `stream_id` and the writer `writer_id`, both Zeek enum
/// names in UTF-8 (e.g. `"Conn::LOG"` and `"Log::WRITER_ASCII"`), with copies of
/// `writer_info` (Zeek's WriterInfo as a vector) and `fields_data` (the column
/// descriptions). brook checks only the ids, as Broker does.
///
/// Caller owns the result; free it with brook_log_create_free(). `writer_info` and
/// `fields_data` are only read; the caller still owns them.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_INVALID_ARGUMENT
/// if an id is not UTF-8. Out-parameters are written only when the call returns
/// BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_log_create_new(
    stream_id: *const c_char,
    writer_id: *const c_char,
    writer_info: *const brook_data,
    fields_data: *const brook_data,
    out_log_create: *mut *mut brook_log_create,
) -> brook_status {
    guard(|| {
        let stream_id = str_arg(stream_id, "stream_id")?;
        let writer_id = str_arg(writer_id, "writer_id")?;
        let writer_info = &arg(writer_info, "writer_info")?.inner;
        let fields = &arg(fields_data, "fields_data")?.inner;
        let out_log_create = out(out_log_create, "out_log_create")?;
        out_log_create.write(brook_log_create::into_raw(LogCreate {
            stream_id: stream_id.to_owned(),
            writer_id: writer_id.to_owned(),
            writer_info: writer_info.clone(),
            fields: fields.clone(),
        }));
        Ok(())
    })
}

/// The log create's stream id, a Zeek enum name such as `"Conn::LOG"`, NUL-terminated.
///
/// Borrowed: valid until `log_create` is freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_log_create_stream_id(
    log_create: *const brook_log_create,
    out_stream_id: *mut *const c_char,
) -> brook_status {
    guard(|| {
        let l = arg(log_create, "log_create")?;
        name_out(&l.stream_id_c, out_stream_id, "out_stream_id")
    })
}

/// The log create's writer id, a Zeek enum name such as `"Log::WRITER_ASCII"`,
/// NUL-terminated.
///
/// Borrowed: valid until `log_create` is freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_log_create_writer_id(
    log_create: *const brook_log_create,
    out_writer_id: *mut *const c_char,
) -> brook_status {
    guard(|| {
        let l = arg(log_create, "log_create")?;
        name_out(&l.writer_id_c, out_writer_id, "out_writer_id")
    })
}

/// The log create's writer info: Zeek sends a vector of the path, rotation settings,
/// network time, writer config table and post-processing function.
///
/// Borrowed: valid until `log_create` is freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_log_create_writer_info(
    log_create: *const brook_log_create,
    out_writer_info: *mut *const brook_data,
) -> brook_status {
    guard(|| {
        let l = arg(log_create, "log_create")?;
        out(out_writer_info, "out_writer_info")?.write(brook_data::borrowed(&l.inner.writer_info));
        Ok(())
    })
}

/// The log create's column descriptions: Zeek sends a vector with one
/// `(name, secondary name, type, subtype, optional)` vector per column.
///
/// Borrowed: valid until `log_create` is freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_log_create_fields_data(
    log_create: *const brook_log_create,
    out_fields_data: *mut *const brook_data,
) -> brook_status {
    guard(|| {
        let l = arg(log_create, "log_create")?;
        out(out_fields_data, "out_fields_data")?.write(brook_data::borrowed(&l.inner.fields));
        Ok(())
    })
}

/// Converts the log create into the data value Zeek sends,
/// `(1, 2, (stream_id, writer_id, writer_info, fields_data))`, the ids being enum values.
///
/// Caller owns the result; free it with brook_data_free(). `log_create` is unchanged.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_log_create_to_data(
    log_create: *const brook_log_create,
    out_data: *mut *mut brook_data,
) -> brook_status {
    guard(|| {
        let l = arg(log_create, "log_create")?;
        let out_data = out(out_data, "out_data")?;
        let d = Data::from(Message::LogCreate(l.inner.clone()));
        out_data.write(brook_data::into_raw(d));
        Ok(())
    })
}

/// Reads a log create from a data value received from Zeek, checking its shape as Broker's
/// `valid()` does: two enum ids and at least four content elements.
///
/// Caller owns the result; free it with brook_log_create_free(). `d` is only read.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_TYPE_MISMATCH if
/// `d` is not a valid log create (another Zeek message is a mismatch too; the message says
/// which). Out-parameters are written only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_log_create_from_data(
    d: *const brook_data,
    out_log_create: *mut *mut brook_log_create,
) -> brook_status {
    guard(|| {
        let d = &arg(d, "d")?.inner;
        let out_log_create = out(out_log_create, "out_log_create")?;
        let Message::LogCreate(l) = message_of(d, brook_zeek_kind::LogCreate)? else {
            return Err(Failure::mismatch("the Zeek message is not a log create"));
        };
        out_log_create.write(brook_log_create::into_raw(l));
        Ok(())
    })
}

/// Frees a log create with its writer info and fields data. NULL does nothing.
///
/// Consumes `log_create`: do not use or free it afterwards, nor anything borrowed from it.
#[unsafe(no_mangle)]
pub extern "C" fn brook_log_create_free(log_create: *mut brook_log_create) {
    guard_or((), || {
        if !log_create.is_null() {
            // SAFETY: `log_create` came from `brook_log_create::into_raw`, by contract.
            drop(unsafe { Box::from_raw(log_create) });
        }
    })
}

// --- Log write --------------------------------------------------------------------------

/// A Zeek log write: one log record, in Zeek's own serialization, for a stream and writer.
/// Zeek sends log writes inside batches.
///
/// Use from one thread at a time. Free with brook_log_write_free().
pub struct brook_log_write {
    pub(crate) inner: LogWrite,
    stream_id_c: Box<[u8]>,
    writer_id_c: Box<[u8]>,
}

impl brook_log_write {
    pub(crate) fn into_raw(inner: LogWrite) -> *mut brook_log_write {
        Box::into_raw(Box::new(brook_log_write {
            stream_id_c: c_name(&inner.stream_id),
            writer_id_c: c_name(&inner.writer_id),
            inner,
        }))
    }
}

/// Makes a log write for the stream `stream_id` and the writer `writer_id` (Zeek enum names
/// in UTF-8, as for brook_log_create_new()), with copies of the `path_len` bytes of the
/// log's path at `path` (e.g. `conn`) and of the `serial_data_len` bytes of the record at
/// `serial_data`. The serial data is Zeek's own format; brook passes it on unread. A buffer
/// may be NULL when its length is 0.
///
/// Caller owns the result; free it with brook_log_write_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if an id or `out_log_write` is NULL, or a buffer is
/// NULL with a length > 0, BROOK_STATUS_INVALID_ARGUMENT if an id is not UTF-8.
/// Out-parameters are written only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_log_write_new(
    stream_id: *const c_char,
    writer_id: *const c_char,
    path: *const u8,
    path_len: usize,
    serial_data: *const u8,
    serial_data_len: usize,
    out_log_write: *mut *mut brook_log_write,
) -> brook_status {
    guard(|| {
        let stream_id = str_arg(stream_id, "stream_id")?;
        let writer_id = str_arg(writer_id, "writer_id")?;
        let path = bytes_arg(path, path_len, "path")?;
        let serial_data = bytes_arg(serial_data, serial_data_len, "serial_data")?;
        let out_log_write = out(out_log_write, "out_log_write")?;
        out_log_write.write(brook_log_write::into_raw(LogWrite {
            stream_id: stream_id.to_owned(),
            writer_id: writer_id.to_owned(),
            path: path.to_vec(),
            serial_data: serial_data.to_vec(),
        }));
        Ok(())
    })
}

/// The log write's stream id, a Zeek enum name such as `"Conn::LOG"`, NUL-terminated.
///
/// Borrowed: valid until `log_write` is freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_log_write_stream_id(
    log_write: *const brook_log_write,
    out_stream_id: *mut *const c_char,
) -> brook_status {
    guard(|| {
        let l = arg(log_write, "log_write")?;
        name_out(&l.stream_id_c, out_stream_id, "out_stream_id")
    })
}

/// The log write's writer id, a Zeek enum name such as `"Log::WRITER_ASCII"`,
/// NUL-terminated.
///
/// Borrowed: valid until `log_write` is freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_log_write_writer_id(
    log_write: *const brook_log_write,
    out_writer_id: *mut *const c_char,
) -> brook_status {
    guard(|| {
        let l = arg(log_write, "log_write")?;
        name_out(&l.writer_id_c, out_writer_id, "out_writer_id")
    })
}

/// The log write's path: `*out_buf` points at its `*out_len` bytes, which are not
/// NUL-terminated.
///
/// Borrowed: valid until `log_write` is freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_log_write_path(
    log_write: *const brook_log_write,
    out_buf: *mut *const u8,
    out_len: *mut usize,
) -> brook_status {
    guard(|| {
        let l = arg(log_write, "log_write")?;
        bytes_out(&l.inner.path, out_buf, out_len)
    })
}

/// The log write's record in Zeek's serialization: `*out_buf` points at its `*out_len`
/// bytes, which may contain NUL.
///
/// Borrowed: valid until `log_write` is freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_log_write_serial_data(
    log_write: *const brook_log_write,
    out_buf: *mut *const u8,
    out_len: *mut usize,
) -> brook_status {
    guard(|| {
        let l = arg(log_write, "log_write")?;
        bytes_out(&l.inner.serial_data, out_buf, out_len)
    })
}

/// Converts the log write into the data value Zeek sends,
/// `(1, 3, (stream_id, writer_id, path, serial_data))`: the ids are enum values, the path
/// and the serial data strings. Add it to a brook_zeek_batch to send it as Zeek does.
///
/// Caller owns the result; free it with brook_data_free(). `log_write` is unchanged.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_log_write_to_data(
    log_write: *const brook_log_write,
    out_data: *mut *mut brook_data,
) -> brook_status {
    guard(|| {
        let l = arg(log_write, "log_write")?;
        let out_data = out(out_data, "out_data")?;
        let d = Data::from(Message::LogWrite(l.inner.clone()));
        out_data.write(brook_data::into_raw(d));
        Ok(())
    })
}

/// Reads a log write from a data value received from Zeek, checking its shape as Broker's
/// `valid()` does: two enum ids, then the path and the serial data as strings.
///
/// Caller owns the result; free it with brook_log_write_free(). `d` is only read.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_TYPE_MISMATCH if
/// `d` is not a valid log write (another Zeek message, such as the batch Zeek wraps log
/// writes in, is a mismatch too). Out-parameters are written only when the call returns
/// BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_log_write_from_data(
    d: *const brook_data,
    out_log_write: *mut *mut brook_log_write,
) -> brook_status {
    guard(|| {
        let d = &arg(d, "d")?.inner;
        let out_log_write = out(out_log_write, "out_log_write")?;
        let Message::LogWrite(l) = message_of(d, brook_zeek_kind::LogWrite)? else {
            return Err(Failure::mismatch("the Zeek message is not a log write"));
        };
        out_log_write.write(brook_log_write::into_raw(l));
        Ok(())
    })
}

/// Frees a log write. NULL does nothing.
///
/// Consumes `log_write`: do not use or free it afterwards, nor anything borrowed from it.
#[unsafe(no_mangle)]
pub extern "C" fn brook_log_write_free(log_write: *mut brook_log_write) {
    guard_or((), || {
        if !log_write.is_null() {
            // SAFETY: `log_write` came from `brook_log_write::into_raw`, by contract.
            drop(unsafe { Box::from_raw(log_write) });
        }
    })
}

// --- Identifier update ------------------------------------------------------------------

/// A Zeek identifier update: a new value for a global script identifier, as Zeek's
/// `Broker::publish_id` sends it.
///
/// Use from one thread at a time. Free with brook_identifier_update_free().
pub struct brook_identifier_update {
    inner: IdentifierUpdate,
    id_name_c: Box<[u8]>,
}

impl brook_identifier_update {
    fn into_raw(inner: IdentifierUpdate) -> *mut brook_identifier_update {
        Box::into_raw(Box::new(brook_identifier_update {
            id_name_c: c_name(&inner.id_name),
            inner,
        }))
    }
}

/// Makes an identifier update that sets the global `id_name` (UTF-8, e.g.
/// `"Site::local_nets"`) to a copy of `id_value`.
///
/// Caller owns the result; free it with brook_identifier_update_free(). `id_value` is only
/// read; the caller still owns it.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_INVALID_ARGUMENT
/// if `id_name` is not UTF-8. Out-parameters are written only when the call returns
/// BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_identifier_update_new(
    id_name: *const c_char,
    id_value: *const brook_data,
    out_update: *mut *mut brook_identifier_update,
) -> brook_status {
    guard(|| {
        let id_name = str_arg(id_name, "id_name")?;
        let value = &arg(id_value, "id_value")?.inner;
        let out_update = out(out_update, "out_update")?;
        out_update.write(brook_identifier_update::into_raw(IdentifierUpdate {
            id_name: id_name.to_owned(),
            value: value.clone(),
        }));
        Ok(())
    })
}

/// The name of the identifier the update sets, NUL-terminated.
///
/// Borrowed: valid until `update` is freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_identifier_update_id_name(
    update: *const brook_identifier_update,
    out_id_name: *mut *const c_char,
) -> brook_status {
    guard(|| {
        let u = arg(update, "update")?;
        name_out(&u.id_name_c, out_id_name, "out_id_name")
    })
}

/// The identifier's new value.
///
/// Borrowed: valid until `update` is freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_identifier_update_id_value(
    update: *const brook_identifier_update,
    out_id_value: *mut *const brook_data,
) -> brook_status {
    guard(|| {
        let u = arg(update, "update")?;
        out(out_id_value, "out_id_value")?.write(brook_data::borrowed(&u.inner.value));
        Ok(())
    })
}

/// Converts the update into the data value Zeek sends, `(1, 4, (id_name, id_value))`, the
/// name being a string.
///
/// Caller owns the result; free it with brook_data_free(). `update` is unchanged.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_identifier_update_to_data(
    update: *const brook_identifier_update,
    out_data: *mut *mut brook_data,
) -> brook_status {
    guard(|| {
        let u = arg(update, "update")?;
        let out_data = out(out_data, "out_data")?;
        let d = Data::from(Message::IdentifierUpdate(u.inner.clone()));
        out_data.write(brook_data::into_raw(d));
        Ok(())
    })
}

/// Reads an identifier update from a data value received from Zeek, checking its shape as
/// Broker's `valid()` does: a UTF-8 string name and a value.
///
/// Caller owns the result; free it with brook_identifier_update_free(). `d` is only read.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_TYPE_MISMATCH if
/// `d` is not a valid identifier update (another Zeek message is a mismatch too).
/// Out-parameters are written only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_identifier_update_from_data(
    d: *const brook_data,
    out_update: *mut *mut brook_identifier_update,
) -> brook_status {
    guard(|| {
        let d = &arg(d, "d")?.inner;
        let out_update = out(out_update, "out_update")?;
        let Message::IdentifierUpdate(u) = message_of(d, brook_zeek_kind::IdentifierUpdate)? else {
            return Err(Failure::mismatch(
                "the Zeek message is not an identifier update",
            ));
        };
        out_update.write(brook_identifier_update::into_raw(u));
        Ok(())
    })
}

/// Frees an identifier update with its value. NULL does nothing.
///
/// Consumes `update`: do not use or free it afterwards, nor anything borrowed from it.
#[unsafe(no_mangle)]
pub extern "C" fn brook_identifier_update_free(update: *mut brook_identifier_update) {
    guard_or((), || {
        if !update.is_null() {
            // SAFETY: `update` came from `brook_identifier_update::into_raw`, by contract.
            drop(unsafe { Box::from_raw(update) });
        }
    })
}

// --- Batch ------------------------------------------------------------------------------

/// A Zeek batch: Zeek messages (of any kind, batches included) that are sent as one and
/// dispatched in order. Each message is held as its data value; tell them apart with
/// brook_zeek_message_kind(). (Not to be confused with brook_endpoint_publish_batch(),
/// which publishes many values at once.)
///
/// Use from one thread at a time. Free with brook_zeek_batch_free().
pub struct brook_zeek_batch {
    /// Valid Zeek messages, exactly as they came in.
    messages: Vec<Data>,
}

impl brook_zeek_batch {
    fn into_raw(messages: Vec<Data>) -> *mut brook_zeek_batch {
        Box::into_raw(Box::new(brook_zeek_batch { messages }))
    }
}

/// Makes an empty batch. (Broker counts an empty batch as valid.)
///
/// Caller owns the result; free it with brook_zeek_batch_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if `out_batch` is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_zeek_batch_new(out_batch: *mut *mut brook_zeek_batch) -> brook_status {
    guard(|| {
        out(out_batch, "out_batch")?.write(brook_zeek_batch::into_raw(Vec::new()));
        Ok(())
    })
}

/// Appends a copy of `message`, a Zeek message as a data value (from brook_event_to_data(),
/// brook_log_write_to_data(), ...), to the batch. The message is checked first, as
/// brook_zeek_message_kind() does: a batch holds only valid messages.
///
/// `message` is only read; the caller still owns it. Invalidates pointers from
/// brook_zeek_batch_message().
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_TYPE_MISMATCH if
/// `message` is not a valid Zeek message (the batch is then unchanged).
#[unsafe(no_mangle)]
pub extern "C" fn brook_zeek_batch_add_message(
    batch: *mut brook_zeek_batch,
    message: *const brook_data,
) -> brook_status {
    guard(|| {
        // Copied and checked first: `message` may point into the batch itself.
        let m = arg(message, "message")?.inner.clone();
        Message::try_from(m.clone())?;
        arg_mut(batch, "batch")?.messages.push(m);
        Ok(())
    })
}

/// The number of messages in the batch (a nested batch counts as one).
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_zeek_batch_message_count(
    batch: *const brook_zeek_batch,
    out_count: *mut usize,
) -> brook_status {
    guard(|| {
        let b = arg(batch, "batch")?;
        out(out_count, "out_count")?.write(b.messages.len());
        Ok(())
    })
}

/// The message at `index` (0-based), as a data value: find its kind with
/// brook_zeek_message_kind(), then read it with the matching `brook_*_from_data` call.
///
/// Borrowed: valid until `batch` is modified or freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_OUT_OF_RANGE if
/// `index` is not below the message count. Out-parameters are written only when the call
/// returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_zeek_batch_message(
    batch: *const brook_zeek_batch,
    index: usize,
    out_message: *mut *const brook_data,
) -> brook_status {
    guard(|| {
        let messages = &arg(batch, "batch")?.messages;
        let out_message = out(out_message, "out_message")?;
        let m = messages.get(index).ok_or_else(|| {
            Failure::new(
                brook_status::OutOfRange,
                format!(
                    "index {index} is out of range for a batch of {} messages",
                    messages.len()
                ),
            )
        })?;
        out_message.write(brook_data::borrowed(m));
        Ok(())
    })
}

/// Converts the batch into the data value Zeek sends, `(1, 5, (message, ...))`.
///
/// Caller owns the result; free it with brook_data_free(). `batch` is unchanged.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_zeek_batch_to_data(
    batch: *const brook_zeek_batch,
    out_data: *mut *mut brook_data,
) -> brook_status {
    guard(|| {
        let b = arg(batch, "batch")?;
        let out_data = out(out_data, "out_data")?;
        let d = Data::Vector(vec![
            Data::Count(FORMAT_VERSION),
            Data::Count(MessageType::Batch as u64),
            Data::Vector(b.messages.clone()),
        ]);
        out_data.write(brook_data::into_raw(d));
        Ok(())
    })
}

/// Reads a batch from a data value received from Zeek, checking it as Broker's `valid()`
/// does: the batch is valid only if every message in it is, nested batches included.
///
/// Caller owns the result; free it with brook_zeek_batch_free(). `d` is only read.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_TYPE_MISMATCH if
/// `d` is not a valid batch (another Zeek message is a mismatch too).
/// Out-parameters are written only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_zeek_batch_from_data(
    d: *const brook_data,
    out_batch: *mut *mut brook_zeek_batch,
) -> brook_status {
    guard(|| {
        let d = &arg(d, "d")?.inner;
        let out_batch = out(out_batch, "out_batch")?;
        message_of(d, brook_zeek_kind::Batch)?;
        // Checked above: `d` is `(1, 5, (message, ...), ...)`. The elements are kept as
        // they are rather than rebuilt from `Message`, which would drop tolerated extras.
        let content = match d {
            Data::Vector(outer) => match outer.get(2) {
                Some(Data::Vector(content)) => content.clone(),
                _ => return Err(Failure::mismatch("the batch content must be a vector")),
            },
            _ => return Err(Failure::mismatch("a Zeek message is a vector")),
        };
        out_batch.write(brook_zeek_batch::into_raw(content));
        Ok(())
    })
}

/// Frees a batch with its messages. NULL does nothing.
///
/// Consumes `batch`: do not use or free it afterwards, nor any message borrowed from it.
#[unsafe(no_mangle)]
pub extern "C" fn brook_zeek_batch_free(batch: *mut brook_zeek_batch) {
    guard_or((), || {
        if !batch.is_null() {
            // SAFETY: `batch` came from `brook_zeek_batch::into_raw`, by contract.
            drop(unsafe { Box::from_raw(batch) });
        }
    })
}
