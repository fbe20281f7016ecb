//! Zeek log records from C: `brook_log_stream` (a stream's fields, from its log create)
//! reads the record in a `brook_log_write` as a `brook_log_record`, whose fields the caller
//! iterates by index (name, Zeek type name, value as a `brook_data` or as the text Zeek's
//! ASCII writer would write), and builds log writes from data values, so that a C program
//! can also be a log source for a Zeek logger.

use std::ffi::c_char;

use super::data::brook_data;
use super::zeek::{brook_log_create, brook_log_write};
use super::{Failure, FfiResult, arg, brook_status, bytes_arg, guard, guard_or, out};
use crate::data::Data;
use crate::data::zeek_log::{LogRecord, Stream, ascii};

fn c_text(s: &str) -> Box<[u8]> {
    let mut v = Vec::with_capacity(s.len() + 1);
    v.extend_from_slice(s.as_bytes());
    v.push(0);
    v.into_boxed_slice()
}

/// A log stream: its id, writer and fields, as its log create announced them.
///
/// Use from one thread at a time. Free with brook_log_stream_free().
pub struct brook_log_stream {
    inner: Stream,
    names_c: Vec<Box<[u8]>>,
    types_c: Vec<Box<[u8]>>,
}

/// One log record: a log write's values decoded and checked against its stream's fields.
///
/// Use from one thread at a time. Free with brook_log_record_free().
pub struct brook_log_record {
    inner: LogRecord,
    data: Vec<Data>,
    text: Vec<Vec<u8>>,
    names_c: Vec<Box<[u8]>>,
    types_c: Vec<Box<[u8]>>,
}

/// Reads the stream that `log_create` announces: its fields (name, type, subtype,
/// optional), checked as Zeek checks them.
///
/// Caller owns the result; free it with brook_log_stream_free(). `log_create` is only read.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_TYPE_MISMATCH if
/// the field list is malformed (the message says where). Out-parameters are written only
/// when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_log_stream_from_create(
    log_create: *const brook_log_create,
    out_stream: *mut *mut brook_log_stream,
) -> brook_status {
    guard(|| {
        let create = &arg(log_create, "log_create")?.inner;
        let out_stream = out(out_stream, "out_stream")?;
        let inner = Stream::from_create(create)?;
        let names_c = inner.fields.iter().map(|f| c_text(&f.name)).collect();
        let types_c = inner
            .fields
            .iter()
            .map(|f| c_text(&f.type_name()))
            .collect();
        out_stream.write(Box::into_raw(Box::new(brook_log_stream {
            inner,
            names_c,
            types_c,
        })));
        Ok(())
    })
}

/// The number of fields of the stream (0 if `stream` is NULL).
#[unsafe(no_mangle)]
pub extern "C" fn brook_log_stream_field_count(stream: *const brook_log_stream) -> usize {
    guard_or(0, || {
        arg(stream, "stream").map_or(0, |s| s.inner.fields.len())
    })
}

/// The name and the Zeek type name (`count`, `set[string]`, `vector[addr]`) of the stream's
/// field `index`, both NUL-terminated; `out_type` may be NULL.
///
/// Borrowed: valid until `stream` is freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if `stream` or `out_name` is NULL,
/// BROOK_STATUS_INVALID_ARGUMENT if `index` is not below the field count. Out-parameters
/// are written only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_log_stream_field(
    stream: *const brook_log_stream,
    index: usize,
    out_name: *mut *const c_char,
    out_type: *mut *const c_char,
) -> brook_status {
    guard(|| {
        let s = arg(stream, "stream")?;
        let out_name = out(out_name, "out_name")?;
        let (name, ty) = field_at(&s.names_c, &s.types_c, index)?;
        out_name.write(name);
        if let Some(o) = super::optional_out(out_type) {
            o.write(ty);
        }
        Ok(())
    })
}

fn field_at(
    names: &[Box<[u8]>],
    types: &[Box<[u8]>],
    index: usize,
) -> FfiResult<(*const c_char, *const c_char)> {
    match (names.get(index), types.get(index)) {
        (Some(n), Some(t)) => Ok((n.as_ptr().cast(), t.as_ptr().cast())),
        _ => Err(Failure::invalid(format!(
            "field {index} of {}",
            names.len()
        ))),
    }
}

/// Decodes the record in `log_write` and checks it against the stream's fields (one value
/// per field, of the field's type). The write's serial data is untrusted input: anything
/// malformed is an error, never a crash.
///
/// Caller owns the result; free it with brook_log_record_free(). `stream` and `log_write`
/// are only read.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_DECODE_ERROR if the
/// serial data is malformed, BROOK_STATUS_TYPE_MISMATCH if it does not fit the fields (the
/// message says what and where). Out-parameters are written only when the call returns
/// BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_log_record_from_write(
    stream: *const brook_log_stream,
    log_write: *const brook_log_write,
    out_record: *mut *mut brook_log_record,
) -> brook_status {
    guard(|| {
        let s = arg(stream, "stream")?;
        let w = &arg(log_write, "log_write")?.inner;
        let out_record = out(out_record, "out_record")?;
        let inner = s.inner.record(w)?;
        let data = inner.values.iter().map(|v| v.to_data()).collect();
        let text = inner.values.iter().map(ascii::tsv_field).collect();
        out_record.write(Box::into_raw(Box::new(brook_log_record {
            inner,
            data,
            text,
            names_c: s.names_c.clone(),
            types_c: s.types_c.clone(),
        })));
        Ok(())
    })
}

/// The number of fields of the record (0 if `record` is NULL).
#[unsafe(no_mangle)]
pub extern "C" fn brook_log_record_field_count(record: *const brook_log_record) -> usize {
    guard_or(0, || {
        arg(record, "record").map_or(0, |r| r.inner.values.len())
    })
}

/// The record's path (such as `conn`), as a buffer and its length.
///
/// Borrowed: valid until `record` is freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_log_record_path(
    record: *const brook_log_record,
    out_buf: *mut *const u8,
    out_len: *mut usize,
) -> brook_status {
    guard(|| {
        let r = arg(record, "record")?;
        let (b, l) = (out(out_buf, "out_buf")?, out(out_len, "out_len")?);
        b.write(r.inner.path.as_ptr());
        l.write(r.inner.path.len());
        Ok(())
    })
}

/// Field `index` of the record: its name and Zeek type name (NUL-terminated; `out_type` may
/// be NULL), whether it is set (false for an unset `&optional` field; may be NULL), and its
/// value as a data value (nil when unset; time as a timestamp, interval as a timespan, a
/// set as a set; may be NULL).
///
/// Borrowed: valid until `record` is freed; the value is not to be freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if `record` or `out_name` is NULL,
/// BROOK_STATUS_INVALID_ARGUMENT if `index` is not below the field count. Out-parameters
/// are written only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_log_record_field(
    record: *const brook_log_record,
    index: usize,
    out_name: *mut *const c_char,
    out_type: *mut *const c_char,
    out_is_set: *mut bool,
    out_value: *mut *const brook_data,
) -> brook_status {
    guard(|| {
        let r = arg(record, "record")?;
        let out_name = out(out_name, "out_name")?;
        let (name, ty) = field_at(&r.names_c, &r.types_c, index)?;
        let value = r
            .data
            .get(index)
            .ok_or_else(|| Failure::invalid("field index"))?;
        out_name.write(name);
        if let Some(o) = super::optional_out(out_type) {
            o.write(ty);
        }
        if let Some(o) = super::optional_out(out_is_set) {
            o.write(!matches!(
                r.inner.values[index],
                crate::data::zeek_log::Value::Unset(..)
            ));
        }
        if let Some(o) = super::optional_out(out_value) {
            o.write(brook_data::borrowed(value));
        }
        Ok(())
    })
}

/// Field `index` of the record as the text Zeek's ASCII writer writes for it in a TSV log:
/// `-` when unset, `(empty)` for an empty string or container, set elements joined by `,`,
/// non-printable bytes as `\xNN`. Not NUL-terminated.
///
/// Borrowed: valid until `record` is freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_INVALID_ARGUMENT
/// if `index` is not below the field count. Out-parameters are written only when the call
/// returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_log_record_field_text(
    record: *const brook_log_record,
    index: usize,
    out_buf: *mut *const u8,
    out_len: *mut usize,
) -> brook_status {
    guard(|| {
        let r = arg(record, "record")?;
        let (b, l) = (out(out_buf, "out_buf")?, out(out_len, "out_len")?);
        let t = r
            .text
            .get(index)
            .ok_or_else(|| Failure::invalid(format!("field {index} of {}", r.text.len())))?;
        b.write(t.as_ptr());
        l.write(t.len());
        Ok(())
    })
}

/// Builds a log write on `stream` to `path` (`path_len` bytes, such as `conn`) from
/// `values`, a vector with one data value per field (nil for an unset field; a timestamp
/// or real for a time, a timespan or real for an interval, a set for a set). The values
/// are checked against the fields and encoded as Zeek encodes them.
///
/// Caller owns the result; free it with brook_log_write_free(). `stream` and `values` are
/// only read.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_TYPE_MISMATCH if
/// `values` is not a vector or a value does not fit its field. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_log_stream_write(
    stream: *const brook_log_stream,
    path: *const u8,
    path_len: usize,
    values: *const brook_data,
    out_log_write: *mut *mut brook_log_write,
) -> brook_status {
    guard(|| {
        let s = arg(stream, "stream")?;
        let path = bytes_arg(path, path_len, "path")?;
        let values = &arg(values, "values")?.inner;
        let out_log_write = out(out_log_write, "out_log_write")?;
        let Data::Vector(values) = values else {
            return Err(Failure::mismatch("the values of a log write are a vector"));
        };
        let w = s.inner.write_data(path, values)?;
        out_log_write.write(brook_log_write::into_raw(w));
        Ok(())
    })
}

/// Frees a stream. NULL does nothing.
///
/// Consumes `stream`: do not use or free it afterwards, nor anything borrowed from it.
#[unsafe(no_mangle)]
pub extern "C" fn brook_log_stream_free(stream: *mut brook_log_stream) {
    guard_or((), || {
        if !stream.is_null() {
            // SAFETY: `stream` came from `brook_log_stream_from_create`, by contract.
            drop(unsafe { Box::from_raw(stream) });
        }
    })
}

/// Frees a record. NULL does nothing.
///
/// Consumes `record`: do not use or free it afterwards, nor anything borrowed from it.
#[unsafe(no_mangle)]
pub extern "C" fn brook_log_record_free(record: *mut brook_log_record) {
    guard_or((), || {
        if !record.is_null() {
            // SAFETY: `record` came from `brook_log_record_from_write`, by contract.
            drop(unsafe { Box::from_raw(record) });
        }
    })
}
