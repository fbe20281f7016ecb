//! Byte buffers and strings that brook hands to C, and the calls that free them.
//!
//! Rust must free memory with the layout it allocated, so the length has to come back:
//! - byte buffers are a `Box<[u8]>`; C passes the length back to `brook_bytes_free`;
//! - strings are NUL-terminated for C, but may hold NUL bytes of their own (Broker strings
//!   are bytes), so `strlen` cannot recover their size. Each string is a `Box<[u8]>` whose
//!   first `HEADER` bytes hold the allocation's total length; C gets a pointer just past it.

use std::ffi::c_char;
use std::ptr;

use super::guard_or;

const HEADER: usize = size_of::<usize>();

/// Hands `bytes` to C as a pointer and a length, for `brook_bytes_free`.
pub(crate) fn bytes_into_raw(bytes: Vec<u8>) -> (*mut u8, usize) {
    let b = bytes.into_boxed_slice();
    let len = b.len();
    (Box::into_raw(b).cast::<u8>(), len)
}

/// Hands `s` plus a terminating NUL to C, for `brook_string_free`.
pub(crate) fn string_into_raw(s: &[u8]) -> *mut c_char {
    let total = HEADER + s.len() + 1;
    let mut v = Vec::with_capacity(total);
    v.extend_from_slice(&total.to_ne_bytes());
    v.extend_from_slice(s);
    v.push(0);
    let base = Box::into_raw(v.into_boxed_slice()).cast::<u8>();
    // SAFETY: the allocation is `total > HEADER` bytes long.
    unsafe { base.add(HEADER).cast::<c_char>() }
}

/// Frees a byte buffer that brook returned, such as the result of `brook_data_to_bytes`.
/// `len` must be the length brook returned with it. NULL does nothing.
///
/// Consumes `buf`: do not use or free it afterwards. Safe to call from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn brook_bytes_free(buf: *mut u8, len: usize) {
    guard_or((), || {
        if buf.is_null() {
            return;
        }
        // SAFETY: `buf` and `len` came from `bytes_into_raw`, by contract.
        drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(buf, len)) });
    })
}

/// Frees a string that brook returned, such as the result of `brook_data_to_json` or
/// `brook_data_to_string`, even one holding NUL bytes. NULL does nothing.
///
/// Consumes `s`: do not use or free it afterwards. Only for strings the caller owns:
/// never for `brook_last_error`, `brook_status_str`, `brook_version` or `brook_event_name`.
/// Safe to call from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn brook_string_free(s: *mut c_char) {
    guard_or((), || {
        if s.is_null() {
            return;
        }
        // SAFETY: `s` came from `string_into_raw`, by contract, so `HEADER` bytes before it
        // hold the total length of the allocation that starts there.
        unsafe {
            let base = s.cast::<u8>().sub(HEADER);
            let mut total = [0u8; HEADER];
            ptr::copy_nonoverlapping(base, total.as_mut_ptr(), HEADER);
            let total = usize::from_ne_bytes(total);
            drop(Box::from_raw(ptr::slice_from_raw_parts_mut(base, total)));
        }
    })
}

/// An address's IP as C text (IPv6 without brackets).
pub(crate) fn ip_text(a: &std::net::SocketAddr) -> std::ffi::CString {
    // An IP address never renders with a NUL byte.
    std::ffi::CString::new(a.ip().to_string()).unwrap_or_default()
}
