//! `brook_data`: one Broker value. Constructors, typed accessors, the three encodings
//! (binary v1, JSON v1, text), clone, order and free.
//!
//! A `brook_data *` handed to C is either a `Box` the caller owns, or a borrowed pointer to a
//! `Data` inside a container or an event. The second kind is why `brook_data` is
//! `repr(transparent)`: a `&Data` can then be cast to `*const brook_data`.

use std::cmp::Ordering;
use std::ffi::{c_char, c_int};
use std::net::IpAddr;

use super::memory::{bytes_into_raw, string_into_raw};
use super::{
    Failure, FfiResult, arg, brook_status, bytes_arg, cstr_arg, enum_arg, guard, guard_or,
    optional_out, out, str_arg,
};
use crate::data::{Address, Data, DataType, Port, Protocol, Subnet, Timespan, Timestamp};
use crate::data::{bin, json, text};

/// A Broker data value of any type: none, boolean, count, integer, real, string, address,
/// subnet, port, timestamp, timespan, enum value, set, table or vector.
///
/// Use from one thread at a time. Free with brook_data_free().
// `repr(transparent)` is written inside `cfg_attr` so that cbindgen, which does not read
// `cfg_attr`, emits an opaque `brook_data` instead of a typedef of the Rust `Data`.
#[cfg_attr(all(), repr(transparent))]
pub struct brook_data {
    pub(crate) inner: Data,
}

impl brook_data {
    /// Boxes `d` for a caller who will free it with `brook_data_free`.
    pub(crate) fn into_raw(d: Data) -> *mut brook_data {
        Box::into_raw(Box::new(brook_data { inner: d }))
    }

    /// A borrowed pointer to a value that lives inside another object.
    pub(crate) fn borrowed(d: &Data) -> *const brook_data {
        (d as *const Data).cast()
    }
}

/// The type of a value. The numbers are Broker's binary type tags and never change.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum brook_data_type {
    None = 0,
    Boolean = 1,
    Count = 2,
    Integer = 3,
    Real = 4,
    String = 5,
    Address = 6,
    Subnet = 7,
    Port = 8,
    Timestamp = 9,
    Timespan = 10,
    Enum = 11,
    Set = 12,
    Table = 13,
    Vector = 14,
}

impl From<DataType> for brook_data_type {
    fn from(t: DataType) -> brook_data_type {
        use brook_data_type as B;
        match t {
            DataType::None => B::None,
            DataType::Boolean => B::Boolean,
            DataType::Count => B::Count,
            DataType::Integer => B::Integer,
            DataType::Real => B::Real,
            DataType::String => B::String,
            DataType::Address => B::Address,
            DataType::Subnet => B::Subnet,
            DataType::Port => B::Port,
            DataType::Timestamp => B::Timestamp,
            DataType::Timespan => B::Timespan,
            DataType::Enum => B::Enum,
            DataType::Set => B::Set,
            DataType::Table => B::Table,
            DataType::Vector => B::Vector,
        }
    }
}

/// The transport protocol of a port. The numbers are Broker's wire values.
/// Passed into brook as a `uint32_t`; unknown numbers give BROOK_STATUS_INVALID_ARGUMENT.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum brook_protocol {
    /// Shown as `?` in text.
    Unknown = 0,
    Tcp = 1,
    Udp = 2,
    Icmp = 3,
}

impl From<Protocol> for brook_protocol {
    fn from(p: Protocol) -> brook_protocol {
        match p {
            Protocol::Unknown => brook_protocol::Unknown,
            Protocol::Tcp => brook_protocol::Tcp,
            Protocol::Udp => brook_protocol::Udp,
            Protocol::Icmp => brook_protocol::Icmp,
        }
    }
}

/// Stores a new value for the caller.
fn new_data(out_data: *mut *mut brook_data, d: impl FnOnce() -> FfiResult<Data>) -> brook_status {
    guard(|| {
        let out = out(out_data, "out_data")?;
        let d = d()?;
        out.write(brook_data::into_raw(d));
        Ok(())
    })
}

/// The message for a value of the wrong type.
pub(crate) fn mismatch(want: DataType, got: &Data) -> Failure {
    Failure::mismatch(format!(
        "expected a {}, got a {}",
        want.name(),
        got.data_type().name()
    ))
}

// --- Constructors -----------------------------------------------------------------------

/// Makes the value none (`nil` in text).
///
/// Caller owns the result; free it with brook_data_free().
/// Out-parameters are written only when the call returns BROOK_STATUS_OK.
/// Returns BROOK_STATUS_NULL_ARGUMENT if `out_data` is NULL.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_new_none(out_data: *mut *mut brook_data) -> brook_status {
    new_data(out_data, || Ok(Data::None))
}

/// Makes a boolean (`T` or `F` in text).
///
/// Caller owns the result; free it with brook_data_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if `out_data` is NULL.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_new_bool(value: bool, out_data: *mut *mut brook_data) -> brook_status {
    new_data(out_data, || Ok(Data::Boolean(value)))
}

/// Makes a count: an unsigned 64-bit number.
///
/// Caller owns the result; free it with brook_data_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if `out_data` is NULL.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_new_count(value: u64, out_data: *mut *mut brook_data) -> brook_status {
    new_data(out_data, || Ok(Data::Count(value)))
}

/// Makes an integer: a signed 64-bit number.
///
/// Caller owns the result; free it with brook_data_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if `out_data` is NULL.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_new_integer(
    value: i64,
    out_data: *mut *mut brook_data,
) -> brook_status {
    new_data(out_data, || Ok(Data::Integer(value)))
}

/// Makes a real (a double). NaN and the infinities are allowed.
///
/// Caller owns the result; free it with brook_data_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if `out_data` is NULL.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_new_real(value: f64, out_data: *mut *mut brook_data) -> brook_status {
    new_data(out_data, || Ok(Data::Real(value)))
}

/// Makes a string from `len` bytes at `buf`, copied. The bytes need not be UTF-8 and may
/// include NUL; `buf` may be NULL when `len` is 0.
///
/// Caller owns the result; free it with brook_data_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if `out_data` is NULL, or `buf` is NULL with `len` > 0.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_new_string(
    buf: *const u8,
    len: usize,
    out_data: *mut *mut brook_data,
) -> brook_status {
    new_data(out_data, || {
        Ok(Data::String(bytes_arg(buf, len, "buf")?.to_vec()))
    })
}

/// Makes an enum value from the `len` bytes of its name at `buf` (e.g. `Conn::LOG`), copied.
/// `buf` may be NULL when `len` is 0.
///
/// Caller owns the result; free it with brook_data_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if `out_data` is NULL, or `buf` is NULL with `len` > 0.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_new_enum(
    buf: *const u8,
    len: usize,
    out_data: *mut *mut brook_data,
) -> brook_status {
    new_data(out_data, || {
        Ok(Data::Enum(bytes_arg(buf, len, "buf")?.to_vec()))
    })
}

/// Makes an IPv4 address from its 4 bytes in network order (`{192, 168, 0, 1}`).
/// brook stores it as the v4-mapped IPv6 address `::ffff:192.168.0.1`, as Broker does.
///
/// Caller owns the result; free it with brook_data_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if `bytes4` or `out_data` is NULL.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_new_address_v4(
    bytes4: *const u8,
    out_data: *mut *mut brook_data,
) -> brook_status {
    new_data(out_data, || {
        let b: [u8; 4] = bytes_arg(bytes4, 4, "bytes4")?
            .try_into()
            .map_err(|_| Failure::invalid("bytes4 must hold 4 bytes"))?;
        Ok(Data::Address(std::net::Ipv4Addr::from(b).into()))
    })
}

/// Makes an address from its 16 bytes of IPv6 in network order. A v4-mapped address
/// (`::ffff:a.b.c.d`) is an IPv4 address.
///
/// Caller owns the result; free it with brook_data_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if `bytes16` or `out_data` is NULL.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_new_address_v6(
    bytes16: *const u8,
    out_data: *mut *mut brook_data,
) -> brook_status {
    new_data(out_data, || {
        let b: [u8; 16] = bytes_arg(bytes16, 16, "bytes16")?
            .try_into()
            .map_err(|_| Failure::invalid("bytes16 must hold 16 bytes"))?;
        Ok(Data::Address(Address(b)))
    })
}

/// Makes an address from its text: dotted IPv4 (`10.0.0.1`) or IPv6 (`2001:db8::1`).
///
/// Caller owns the result; free it with brook_data_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_INVALID_ARGUMENT
/// if `text` is not an address.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_new_address_from_string(
    text: *const c_char,
    out_data: *mut *mut brook_data,
) -> brook_status {
    new_data(out_data, || {
        let s = str_arg(text, "text")?;
        let ip: IpAddr = s
            .parse()
            .map_err(|_| Failure::invalid(format!("not an IPv4 or IPv6 address: {s:?}")))?;
        Ok(Data::Address(ip.into()))
    })
}

/// Makes a subnet from an address value and a prefix length, masking the address as Broker
/// does (`10.1.2.3` with 8 gives `10.0.0.0/8`). The prefix counts bits of the address's own
/// family: at most 32 for IPv4, 128 for IPv6.
///
/// Caller owns the result; free it with brook_data_free(). `address` is only read.
/// Returns BROOK_STATUS_NULL_ARGUMENT if a pointer is NULL, BROOK_STATUS_TYPE_MISMATCH if
/// `address` is not an address, BROOK_STATUS_INVALID_ARGUMENT if the prefix is too long.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_new_subnet(
    address: *const brook_data,
    prefix_len: u32,
    out_data: *mut *mut brook_data,
) -> brook_status {
    new_data(out_data, || {
        let a = match &arg(address, "address")?.inner {
            Data::Address(a) => *a,
            other => return Err(mismatch(DataType::Address, other)),
        };
        let max = if a.is_v4() { 32 } else { 128 };
        u8::try_from(prefix_len)
            .ok()
            .and_then(|p| Subnet::checked(a, p))
            .map(Data::Subnet)
            .ok_or_else(|| {
                Failure::invalid(format!("prefix length {prefix_len} exceeds {max} for {a}"))
            })
    })
}

/// Makes a subnet from its text, `address/prefix` (`10.0.0.0/8`, `2001:db8::/32`), masking
/// the address.
///
/// Caller owns the result; free it with brook_data_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_INVALID_ARGUMENT
/// if `text` is not a subnet or its prefix is too long.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_new_subnet_from_string(
    text: *const c_char,
    out_data: *mut *mut brook_data,
) -> brook_status {
    new_data(out_data, || {
        let s = str_arg(text, "text")?;
        text::parse_subnet(s)
            .map(Data::Subnet)
            .ok_or_else(|| Failure::invalid(format!("not a subnet: {s:?}")))
    })
}

/// Makes a port such as `80/tcp`. `protocol` is a brook_protocol value.
///
/// Caller owns the result; free it with brook_data_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if `out_data` is NULL, BROOK_STATUS_INVALID_ARGUMENT
/// if `protocol` is not a brook_protocol value.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_new_port(
    number: u16,
    protocol: u32,
    out_data: *mut *mut brook_data,
) -> brook_status {
    new_data(out_data, || {
        let all = [
            (0, Protocol::Unknown),
            (1, Protocol::Tcp),
            (2, Protocol::Udp),
            (3, Protocol::Icmp),
        ];
        let p = enum_arg(protocol, &all, "protocol")?;
        Ok(Data::Port(Port::new(number, p)))
    })
}

/// Makes a timestamp: nanoseconds since the Unix epoch (UTC), negative before 1970.
///
/// Caller owns the result; free it with brook_data_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if `out_data` is NULL.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_new_timestamp(
    ns_since_epoch: i64,
    out_data: *mut *mut brook_data,
) -> brook_status {
    new_data(out_data, || Ok(Data::Timestamp(Timestamp(ns_since_epoch))))
}

/// Makes a timespan: a signed duration in nanoseconds.
///
/// Caller owns the result; free it with brook_data_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if `out_data` is NULL.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_new_timespan(ns: i64, out_data: *mut *mut brook_data) -> brook_status {
    new_data(out_data, || Ok(Data::Timespan(Timespan(ns))))
}

/// Makes an empty set. Add elements with brook_data_set_insert().
///
/// Caller owns the result; free it with brook_data_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if `out_data` is NULL.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_new_set(out_data: *mut *mut brook_data) -> brook_status {
    new_data(out_data, || Ok(Data::Set(Default::default())))
}

/// Makes an empty table. Add entries with brook_data_table_insert().
///
/// Caller owns the result; free it with brook_data_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if `out_data` is NULL.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_new_table(out_data: *mut *mut brook_data) -> brook_status {
    new_data(out_data, || Ok(Data::Table(Default::default())))
}

/// Makes an empty vector. Append elements with brook_data_vector_push().
///
/// Caller owns the result; free it with brook_data_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if `out_data` is NULL.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_new_vector(out_data: *mut *mut brook_data) -> brook_status {
    new_data(out_data, || Ok(Data::Vector(Vec::new())))
}

/// Makes a deep copy of `d`.
///
/// Caller owns the result; free it with brook_data_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_clone(
    d: *const brook_data,
    out_data: *mut *mut brook_data,
) -> brook_status {
    new_data(out_data, || Ok(arg(d, "d")?.inner.clone()))
}

/// Frees a value the caller owns, with everything inside it. NULL does nothing.
///
/// Consumes `d`: do not use or free it afterwards. Never pass a borrowed pointer (from
/// brook_data_vector_get(), brook_iter_next(), brook_event_arg(), ...).
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_free(d: *mut brook_data) {
    guard_or((), || {
        if !d.is_null() {
            // SAFETY: `d` came from `brook_data::into_raw`, by contract.
            drop(unsafe { Box::from_raw(d) });
        }
    })
}

// --- Type and accessors -----------------------------------------------------------------

/// The type of `d`. Returns BROOK_DATA_TYPE_NONE if `d` is NULL.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_get_type(d: *const brook_data) -> brook_data_type {
    guard_or(brook_data_type::None, || {
        arg(d, "d").map_or(brook_data_type::None, |d| d.inner.data_type().into())
    })
}

/// Runs an accessor: `get` picks the field out of the right variant, or `None`.
fn get<T>(
    d: *const brook_data,
    want: DataType,
    (out_value, out_name): (*mut T, &str),
    get: impl FnOnce(&Data) -> Option<T>,
) -> brook_status {
    guard(|| {
        let d = &arg(d, "d")?.inner;
        let out = out(out_value, out_name)?;
        out.write(get(d).ok_or_else(|| mismatch(want, d))?);
        Ok(())
    })
}

/// Reads a boolean.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_TYPE_MISMATCH if
/// `d` is not a boolean. Out-parameters are written only when the call returns
/// BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_get_bool(d: *const brook_data, out_value: *mut bool) -> brook_status {
    get(
        d,
        DataType::Boolean,
        (out_value, "out_value"),
        |d| match d {
            Data::Boolean(b) => Some(*b),
            _ => None,
        },
    )
}

/// Reads a count. Like brook_data_get_bool(), but for counts.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_get_count(d: *const brook_data, out_value: *mut u64) -> brook_status {
    get(d, DataType::Count, (out_value, "out_value"), |d| match d {
        Data::Count(c) => Some(*c),
        _ => None,
    })
}

/// Reads an integer. Like brook_data_get_bool(), but for integers (a count is not
/// converted: it gives BROOK_STATUS_TYPE_MISMATCH).
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_get_integer(
    d: *const brook_data,
    out_value: *mut i64,
) -> brook_status {
    get(
        d,
        DataType::Integer,
        (out_value, "out_value"),
        |d| match d {
            Data::Integer(i) => Some(*i),
            _ => None,
        },
    )
}

/// Reads a real. Like brook_data_get_bool(), but for reals.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_get_real(d: *const brook_data, out_value: *mut f64) -> brook_status {
    get(d, DataType::Real, (out_value, "out_value"), |d| match d {
        Data::Real(r) => Some(*r),
        _ => None,
    })
}

/// Reads a timestamp in nanoseconds since the Unix epoch. Like brook_data_get_bool(), but
/// for timestamps.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_get_timestamp(
    d: *const brook_data,
    out_value: *mut i64,
) -> brook_status {
    get(
        d,
        DataType::Timestamp,
        (out_value, "out_value"),
        |d| match d {
            Data::Timestamp(t) => Some(t.0),
            _ => None,
        },
    )
}

/// Reads a timespan in nanoseconds. Like brook_data_get_bool(), but for timespans.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_get_timespan(
    d: *const brook_data,
    out_value: *mut i64,
) -> brook_status {
    get(
        d,
        DataType::Timespan,
        (out_value, "out_value"),
        |d| match d {
            Data::Timespan(t) => Some(t.0),
            _ => None,
        },
    )
}

/// Reads a byte string of one variant into a borrowed pointer and a length.
fn get_bytes(
    d: *const brook_data,
    want: DataType,
    out_buf: *mut *const u8,
    out_len: *mut usize,
) -> brook_status {
    guard(|| {
        let d = &arg(d, "d")?.inner;
        let (out_buf, out_len) = (out(out_buf, "out_buf")?, out(out_len, "out_len")?);
        let bytes = match (d, want) {
            (Data::String(s), DataType::String) | (Data::Enum(s), DataType::Enum) => s,
            _ => return Err(mismatch(want, d)),
        };
        out_buf.write(bytes.as_ptr());
        out_len.write(bytes.len());
        Ok(())
    })
}

/// Reads a string's bytes: `*out_buf` points at `*out_len` bytes, which are not
/// NUL-terminated and may contain NUL.
///
/// Borrowed: valid until `d` is modified or freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_TYPE_MISMATCH if
/// `d` is not a string. Out-parameters are written only when the call returns
/// BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_get_string(
    d: *const brook_data,
    out_buf: *mut *const u8,
    out_len: *mut usize,
) -> brook_status {
    get_bytes(d, DataType::String, out_buf, out_len)
}

/// Reads an enum value's name. Like brook_data_get_string(), but for enum values.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_get_enum(
    d: *const brook_data,
    out_buf: *mut *const u8,
    out_len: *mut usize,
) -> brook_status {
    get_bytes(d, DataType::Enum, out_buf, out_len)
}

/// Copies an address's 16 bytes (IPv6, network order) to `out_bytes16`. IPv4 addresses
/// come out v4-mapped: `::ffff:a.b.c.d`, the last 4 bytes being the IPv4 address.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_TYPE_MISMATCH if
/// `d` is not an address. Out-parameters are written only when the call returns
/// BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_get_address(
    d: *const brook_data,
    out_bytes16: *mut u8,
) -> brook_status {
    get(
        d,
        DataType::Address,
        (out_bytes16.cast(), "out_bytes16"),
        |d| match d {
            Data::Address(a) => Some(a.0),
            _ => None,
        },
    )
}

/// Reads a subnet: its network address (16 bytes, as brook_data_get_address() gives them)
/// and its prefix length as written after the slash (0-32 for IPv4, 0-128 for IPv6).
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_TYPE_MISMATCH if
/// `d` is not a subnet. Out-parameters are written only when the call returns
/// BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_get_subnet(
    d: *const brook_data,
    out_network16: *mut u8,
    out_prefix_len: *mut u8,
) -> brook_status {
    guard(|| {
        let d = &arg(d, "d")?.inner;
        let network = out(out_network16.cast::<[u8; 16]>(), "out_network16")?;
        let prefix = out(out_prefix_len, "out_prefix_len")?;
        let Data::Subnet(s) = d else {
            return Err(mismatch(DataType::Subnet, d));
        };
        network.write(s.network.0);
        prefix.write(s.prefix_len());
        Ok(())
    })
}

/// Reads a port's number and protocol.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_TYPE_MISMATCH if
/// `d` is not a port. Out-parameters are written only when the call returns
/// BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_get_port(
    d: *const brook_data,
    out_number: *mut u16,
    out_protocol: *mut brook_protocol,
) -> brook_status {
    guard(|| {
        let d = &arg(d, "d")?.inner;
        let (number, protocol) = (
            out(out_number, "out_number")?,
            out(out_protocol, "out_protocol")?,
        );
        let Data::Port(p) = d else {
            return Err(mismatch(DataType::Port, d));
        };
        number.write(p.number);
        protocol.write(p.protocol.into());
        Ok(())
    })
}

// --- Order ------------------------------------------------------------------------------

/// Compares two values in Broker's total order: by type first (in brook_data_type order),
/// then by value. `*out_order` is -1, 0 or 1 as `a` sorts before, equal to or after `b`.
/// NaN equals NaN and sorts after every other real.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_compare(
    a: *const brook_data,
    b: *const brook_data,
    out_order: *mut c_int,
) -> brook_status {
    guard(|| {
        let (a, b) = (&arg(a, "a")?.inner, &arg(b, "b")?.inner);
        let order = out(out_order, "out_order")?;
        order.write(match a.cmp(b) {
            Ordering::Less => -1,
            Ordering::Equal => 0,
            Ordering::Greater => 1,
        });
        Ok(())
    })
}

/// True if `a` and `b` are equal in Broker's order (brook_data_compare() gives 0). Two
/// NULLs are equal; NULL and a value are not.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_equal(a: *const brook_data, b: *const brook_data) -> bool {
    guard_or(false, || match (arg(a, "a"), arg(b, "b")) {
        (Ok(a), Ok(b)) => a.inner == b.inner,
        (Err(_), Err(_)) => true,
        _ => false,
    })
}

// --- Encodings --------------------------------------------------------------------------

/// Decodes one value in Broker's binary format v1 (what Broker puts on the wire) from the
/// `len` bytes at `buf`. Trailing bytes are an error.
///
/// Caller owns the result; free it with brook_data_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if `out` is NULL or `buf` is NULL with `len` > 0,
/// BROOK_STATUS_DECODE_ERROR for malformed input (the message names the byte offset).
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_from_bytes(
    buf: *const u8,
    len: usize,
    out: *mut *mut brook_data,
) -> brook_status {
    new_data(out, || Ok(bin::decode(bytes_arg(buf, len, "buf")?)?))
}

/// Encodes `d` in Broker's binary format v1.
///
/// Caller owns the result; free it with brook_bytes_free(*out_buf, *out_len).
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_ENCODE_ERROR if a
/// string or container inside has 2^32 or more bytes or elements. Out-parameters are
/// written only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_to_bytes(
    d: *const brook_data,
    out_buf: *mut *mut u8,
    out_len: *mut usize,
) -> brook_status {
    guard(|| {
        let d = &arg(d, "d")?.inner;
        let (out_buf, out_len) = (out(out_buf, "out_buf")?, out(out_len, "out_len")?);
        let (buf, len) = bytes_into_raw(bin::encode(d)?);
        out_buf.write(buf);
        out_len.write(len);
        Ok(())
    })
}

/// Decodes a JSON value object of Broker's WebSocket API v1,
/// `{"@data-type":"count","data":42}`.
///
/// Caller owns the result; free it with brook_data_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_DECODE_ERROR for
/// malformed input (the message names the byte offset).
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_from_json(
    json: *const c_char,
    out: *mut *mut brook_data,
) -> brook_status {
    new_data(out, || Ok(json::decode(cstr_arg(json, "json")?)?))
}

/// Encodes `d` as a JSON value object of Broker's WebSocket API v1, as Broker writes it. A
/// NUL byte in a string is written `\u0000`, so the result holds no NUL before its end.
///
/// Caller owns the result; free it with brook_string_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_to_json(
    d: *const brook_data,
    out_json: *mut *mut c_char,
) -> brook_status {
    guard(|| {
        let d = &arg(d, "d")?.inner;
        let out_json = out(out_json, "out_json")?;
        out_json.write(string_into_raw(&json::encode(d)));
        Ok(())
    })
}

/// Renders `d` in Broker's text form, byte for byte as `broker::to_string` does:
/// `(1, T, 4.200000, 10.0.0.0/8, {a, b}, {k -> v})`. Strings are copied raw, so the text
/// may contain NUL bytes: `*out_len` (which may be NULL if not wanted) gives its length
/// without the terminating NUL.
///
/// Caller owns the result; free it with brook_string_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if `d` or `out_str` is NULL. Out-parameters are
/// written only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_to_string(
    d: *const brook_data,
    out_str: *mut *mut c_char,
    out_len: *mut usize,
) -> brook_status {
    guard(|| {
        let d = &arg(d, "d")?.inner;
        let (out_str, out_len) = (out(out_str, "out_str")?, optional_out(out_len));
        let text = text::render(d);
        out_str.write(string_into_raw(&text));
        if let Some(out_len) = out_len {
            out_len.write(text.len());
        }
        Ok(())
    })
}

/// Parses brook's reading of the text form, for command lines and tests: `nil`, `T`, `42`
/// (count), `-1` or `+1` (integer), `1.5` (real), `80/tcp`, `10.0.0.1`, `10.0.0.0/8`,
/// `5ns` or `1.5s` (timespan), `@5ns` (timestamp), `"a\tb"` (string), `'Conn::LOG'` (enum),
/// `{1, 2}` (set), `{1 -> a}` (table), `(1, a)` (vector); any other bare word is a string.
///
/// Caller owns the result; free it with brook_data_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_INVALID_ARGUMENT
/// if `text` is not UTF-8, BROOK_STATUS_DECODE_ERROR if it does not parse (the message
/// names the offset).
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_from_text(
    text: *const c_char,
    out_data: *mut *mut brook_data,
) -> brook_status {
    new_data(out_data, || Ok(text::parse(str_arg(text, "text")?)?))
}
