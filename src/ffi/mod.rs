//! The C ABI (`include/brook.h`): opaque handles over the Rust API, one status code per call
//! with a per-thread message, and a panic guard around every body.
//!
//! Invariants:
//! - Every exported function is a literal `#[unsafe(no_mangle)] pub extern "C" fn`, so that
//!   cbindgen sees it, and its whole body runs inside [`guard`] or [`guard_or`].
//! - Pointers from C are checked for NULL before use. Everything else about them (alignment,
//!   liveness, buffer lengths) is the caller's side of the contract stated in the header.
//! - Out-parameters are written last, and only when the call returns `BROOK_STATUS_OK`.
//! - Enums only go out. A choice coming in is a `uint32_t` that is checked before use,
//!   because an out-of-range Rust enum is undefined behaviour.
//! - Memory brook hands out is freed by brook (`brook_*_free`), never by the caller's `free()`.
//!
//! FFI type names are unique crate-wide: cbindgen flattens modules.

// The exported functions take raw pointers yet are safe to call from Rust's point of view:
// a C caller cannot see `unsafe`, and every pointer is checked for NULL before it is read.
// What cannot be checked (a dangling pointer) is the contract written in the header.
#![allow(clippy::not_unsafe_ptr_arg_deref)]
// The C names (`brook_data`, `brook_status`) are the Rust names: no casts, no renaming.
#![allow(non_camel_case_types)]

// In header order (rustfmt keeps the order of declarations separated by blank lines).
pub mod data;

pub mod container;

pub mod event;

pub mod zeek;

pub mod zeek_log;

pub mod memory;

pub mod config;

pub mod endpoint;

pub mod peers;

pub mod metrics;

pub mod subscriber;

pub mod publisher;

pub mod store_options;

pub mod store;

pub mod store_proxy;

use std::any::Any;
use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;

use crate::error::{Error, ErrorKind};

/// Result of every fallible brook call. 0 is success; values never change meaning.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum brook_status {
    /// The call succeeded.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullArgument = 1,
    /// An argument was malformed or out of range (bad UTF-8, unknown enum value, ...).
    InvalidArgument = 2,
    /// A wait ended before anything arrived.
    Timeout = 3,
    /// The object was closed or its endpoint stopped.
    Closed = 4,
    /// Input bytes or text could not be decoded; the message names the offset.
    DecodeError = 5,
    /// A value has another type or shape than the call expects.
    TypeMismatch = 6,
    /// A value cannot be encoded (e.g. a string of 4 GiB or more).
    EncodeError = 7,
    /// An index lies beyond the end of a container.
    OutOfRange = 8,
    /// A peer could not be reached, or the handshake with it failed.
    PeerUnavailable = 9,
    /// A non-blocking call would have to wait (e.g. the publish queue is full).
    WouldBlock = 10,
    /// An operating-system call failed (socket, pipe, thread); the message says which.
    Io = 11,
    /// A store has no value for the key (Broker's no_such_key).
    NoSuchKey = 12,
    /// A store operation met a value of the wrong type (Broker's type_clash).
    TypeClash = 13,
    /// A clone's data is not known to be current (Broker's stale_data).
    StaleData = 14,
    /// A master for the store exists already (Broker's master_exists).
    MasterExists = 15,
    /// No master answered for the store (Broker's no_such_master).
    NoSuchMaster = 16,
    /// The store's backend failed (Broker's backend_failure).
    BackendFailure = 17,
    /// Another store error; the message names Broker's error code.
    StoreError = 18,
    /// brook panicked; the message holds the panic text. Please report it.
    Panic = 99,
}

impl brook_status {
    /// Every status, for [`brook_status_str`]'s checked conversion from C.
    const ALL: [brook_status; 20] = [
        brook_status::Ok,
        brook_status::NullArgument,
        brook_status::InvalidArgument,
        brook_status::Timeout,
        brook_status::Closed,
        brook_status::DecodeError,
        brook_status::TypeMismatch,
        brook_status::EncodeError,
        brook_status::OutOfRange,
        brook_status::PeerUnavailable,
        brook_status::WouldBlock,
        brook_status::Io,
        brook_status::NoSuchKey,
        brook_status::TypeClash,
        brook_status::StaleData,
        brook_status::MasterExists,
        brook_status::NoSuchMaster,
        brook_status::BackendFailure,
        brook_status::StoreError,
        brook_status::Panic,
    ];

    fn text(self) -> &'static CStr {
        match self {
            brook_status::Ok => c"ok",
            brook_status::NullArgument => c"null argument",
            brook_status::InvalidArgument => c"invalid argument",
            brook_status::Timeout => c"timeout",
            brook_status::Closed => c"closed",
            brook_status::DecodeError => c"decode error",
            brook_status::TypeMismatch => c"type mismatch",
            brook_status::EncodeError => c"encode error",
            brook_status::OutOfRange => c"out of range",
            brook_status::PeerUnavailable => c"peer unavailable",
            brook_status::WouldBlock => c"would block",
            brook_status::Io => c"I/O error",
            brook_status::NoSuchKey => c"no such key",
            brook_status::TypeClash => c"type clash",
            brook_status::StaleData => c"stale data",
            brook_status::MasterExists => c"master exists",
            brook_status::NoSuchMaster => c"no such master",
            brook_status::BackendFailure => c"backend failure",
            brook_status::StoreError => c"store error",
            brook_status::Panic => c"panic",
        }
    }
}

/// A status as it arrives from C. The header spells this type `brook_status` (see the
/// `[export.rename]` in cbindgen.toml), but Rust must not trust a C enum to be in range.
pub type brook_status_in = u32;

/// A failed call: the status C sees and the message `brook_last_error` returns.
#[derive(Debug)]
pub(crate) struct Failure {
    status: brook_status,
    message: String,
}

impl Failure {
    pub(crate) fn new(status: brook_status, message: impl Into<String>) -> Failure {
        Failure {
            status,
            message: message.into(),
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Failure {
        Failure::new(brook_status::InvalidArgument, message)
    }

    pub(crate) fn mismatch(message: impl Into<String>) -> Failure {
        Failure::new(brook_status::TypeMismatch, message)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        let status = match e.kind {
            ErrorKind::InvalidArgument => brook_status::InvalidArgument,
            ErrorKind::Decode => brook_status::DecodeError,
            ErrorKind::TypeMismatch => brook_status::TypeMismatch,
            ErrorKind::Encode => brook_status::EncodeError,
            ErrorKind::Timeout => brook_status::Timeout,
            ErrorKind::Closed => brook_status::Closed,
            ErrorKind::PeerUnavailable => brook_status::PeerUnavailable,
            ErrorKind::WouldBlock => brook_status::WouldBlock,
            ErrorKind::Io => brook_status::Io,
            ErrorKind::Store(code) => {
                use crate::wire::ErrorCode as Ec;
                match code {
                    Ec::NoSuchKey => brook_status::NoSuchKey,
                    Ec::TypeClash => brook_status::TypeClash,
                    Ec::StaleData => brook_status::StaleData,
                    Ec::MasterExists => brook_status::MasterExists,
                    Ec::NoSuchMaster => brook_status::NoSuchMaster,
                    Ec::BackendFailure => brook_status::BackendFailure,
                    Ec::RequestTimeout => brook_status::Timeout,
                    _ => brook_status::StoreError,
                }
            }
        };
        Failure::new(status, e.message)
    }
}

pub(crate) type FfiResult<T = ()> = Result<T, Failure>;

thread_local! {
    /// The message of this thread's last failed status-returning call.
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

fn set_last_error(message: Option<String>) {
    // A message may quote caller data; a NUL inside would cut it short in C.
    let c = message.map(|m| CString::new(m.replace('\0', "\\0")).unwrap_or_default());
    // `try_with` fails only while the thread is being torn down; then there is no reader.
    let _ = LAST_ERROR.try_with(|slot| *slot.borrow_mut() = c);
}

fn panic_text(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "(no message)"
    }
}

/// Runs the body of a status-returning call: clears the thread's last error, catches a
/// panic, and turns a failure into its status with the message recorded.
pub(crate) fn guard(body: impl FnOnce() -> FfiResult) -> brook_status {
    set_last_error(None);
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => brook_status::Ok,
        Ok(Err(f)) => {
            set_last_error(Some(f.message));
            f.status
        }
        Err(payload) => {
            set_last_error(Some(format!("panic: {}", panic_text(&*payload))));
            brook_status::Panic
        }
    }
}

/// Runs the body of a call that returns no status: a panic gives `default` and records the
/// panic text. The last error is otherwise left alone, so a message fetched with
/// `brook_last_error` stays valid across such calls.
pub(crate) fn guard_or<T>(default: T, body: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(v) => v,
        Err(payload) => {
            set_last_error(Some(format!("panic: {}", panic_text(&*payload))));
            default
        }
    }
}

// The helpers below turn pointers straight from a C caller into references. They are safe
// functions because each is only ever called on an argument of an exported function, whose
// header documents that it must be NULL or valid; NULL is checked here.

/// A required input pointer.
pub(crate) fn arg<'a, T>(p: *const T, name: &str) -> FfiResult<&'a T> {
    // SAFETY: non-NULL pointers from C are valid and aligned by contract.
    unsafe { p.as_ref() }.ok_or_else(|| null_arg(name))
}

/// An input pointer that may be NULL.
pub(crate) fn optional<'a, T>(p: *const T) -> Option<&'a T> {
    // SAFETY: as in `arg`.
    unsafe { p.as_ref() }
}

/// A required input pointer to an object the call modifies.
pub(crate) fn arg_mut<'a, T>(p: *mut T, name: &str) -> FfiResult<&'a mut T> {
    // SAFETY: as in `arg`; C promises no other thread uses the object meanwhile.
    unsafe { p.as_mut() }.ok_or_else(|| null_arg(name))
}

/// A buffer and its length. NULL with length 0 is the empty buffer.
pub(crate) fn bytes_arg<'a>(buf: *const u8, len: usize, name: &str) -> FfiResult<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if buf.is_null() {
        return Err(null_arg(name));
    }
    // SAFETY: C promises `len` readable bytes at `buf`.
    Ok(unsafe { std::slice::from_raw_parts(buf, len) })
}

/// A NUL-terminated string that must be UTF-8.
pub(crate) fn str_arg<'a>(p: *const c_char, name: &str) -> FfiResult<&'a str> {
    if p.is_null() {
        return Err(null_arg(name));
    }
    // SAFETY: C promises a NUL-terminated string.
    let c = unsafe { CStr::from_ptr(p) };
    c.to_str()
        .map_err(|e| Failure::invalid(format!("{name} is not UTF-8: {e}")))
}

/// A NUL-terminated string taken as bytes.
pub(crate) fn cstr_arg<'a>(p: *const c_char, name: &str) -> FfiResult<&'a [u8]> {
    if p.is_null() {
        return Err(null_arg(name));
    }
    // SAFETY: C promises a NUL-terminated string.
    Ok(unsafe { CStr::from_ptr(p) }.to_bytes())
}

fn null_arg(name: &str) -> Failure {
    Failure::new(brook_status::NullArgument, format!("{name} is NULL"))
}

/// An out-parameter, written at most once, by value, at the end of a successful call.
pub(crate) struct Out<T>(NonNull<T>);

impl<T> Out<T> {
    pub(crate) fn write(self, value: T) {
        // SAFETY: non-NULL by construction, writable and aligned by contract. `write` does
        // not drop the old contents, which C may have left uninitialized.
        unsafe { self.0.as_ptr().write(value) }
    }
}

/// A required out-parameter.
pub(crate) fn out<T>(p: *mut T, name: &str) -> FfiResult<Out<T>> {
    NonNull::new(p).map(Out).ok_or_else(|| null_arg(name))
}

/// An out-parameter the caller may pass as NULL when it does not want the value.
pub(crate) fn optional_out<T>(p: *mut T) -> Option<Out<T>> {
    NonNull::new(p).map(Out)
}

/// Checks a `uint32_t` from C against an enum's values.
pub(crate) fn enum_arg<E: Copy>(v: u32, all: &[(u32, E)], name: &str) -> FfiResult<E> {
    all.iter()
        .find(|(n, _)| *n == v)
        .map(|(_, e)| *e)
        .ok_or_else(|| Failure::invalid(format!("{name}: unknown value {v}")))
}

/// The message of the calling thread's last failed call, or NULL if the last
/// status-returning call succeeded.
///
/// Borrowed: valid until the next status-returning brook call on the same thread. Calls
/// that return no status (`brook_data_get_type`, `brook_*_free`, ...) leave it alone.
/// Safe to call from any thread; each thread has its own message.
#[unsafe(no_mangle)]
pub extern "C" fn brook_last_error() -> *const c_char {
    guard_or(std::ptr::null(), || {
        LAST_ERROR
            .try_with(|slot| {
                slot.borrow()
                    .as_ref()
                    .map_or(std::ptr::null(), |c| c.as_ptr())
            })
            .unwrap_or(std::ptr::null())
    })
}

/// A short static description of a status, such as "type mismatch". Never NULL: an unknown
/// value gives "unknown status".
///
/// The result is static; do not free it. Safe to call from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn brook_status_str(s: brook_status_in) -> *const c_char {
    guard_or(c"unknown status".as_ptr(), || {
        brook_status::ALL
            .iter()
            .find(|known| **known as u32 == s)
            .map_or(c"unknown status", |known| known.text())
            .as_ptr()
    })
}

const VERSION: &CStr =
    match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(v) => v,
        Err(_) => panic!("the crate version contains a NUL byte"),
    };

/// brook's version as "MAJOR.MINOR.PATCH", the same text as `BROOK_VERSION_STRING` in the
/// header this library was built with. Compare the two to detect a header/library mismatch.
///
/// The result is static; do not free it. Safe to call from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn brook_version() -> *const c_char {
    guard_or(VERSION.as_ptr(), || VERSION.as_ptr())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last_error() -> Option<String> {
        // SAFETY: brook_last_error returns NULL or a NUL-terminated string.
        let p = brook_last_error();
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    }

    // A panic cannot be provoked through the C API, so the guard's panic path is tested here.
    #[test]
    fn guard_turns_a_panic_into_a_status_and_a_message() {
        assert_eq!(guard(|| panic!("boom {}", 42)), brook_status::Panic);
        assert_eq!(last_error().as_deref(), Some("panic: boom 42"));
        assert_eq!(guard(|| Ok(())), brook_status::Ok);
        assert_eq!(last_error(), None);
        assert_eq!(guard_or(7, || panic!("static text")), 7);
        assert_eq!(last_error().as_deref(), Some("panic: static text"));
    }

    #[test]
    fn failures_keep_their_message_and_lose_inner_nuls() {
        let status = guard(|| Err(Failure::mismatch("a\0b")));
        assert_eq!(status, brook_status::TypeMismatch);
        assert_eq!(last_error().as_deref(), Some("a\\0b"));
        // Calls without a status leave the message alone.
        assert_eq!(guard_or(0, || 1), 1);
        assert_eq!(last_error().as_deref(), Some("a\\0b"));
    }
}
