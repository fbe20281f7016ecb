//! brook's error type: a kind that maps one-to-one onto a C status code, and a message for
//! people.

use std::fmt;

/// What went wrong, in the terms callers switch on. Each kind has a fixed C status code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// An argument was malformed or out of range.
    InvalidArgument,
    /// Input bytes or text could not be decoded.
    Decode,
    /// A value does not have the shape the operation expects (e.g. not a Zeek event).
    TypeMismatch,
    /// A value cannot be encoded (e.g. a string of 4 GiB or more).
    Encode,
    /// A wait ended before the answer arrived.
    Timeout,
    /// The endpoint (or the object) was shut down, or its reactor stopped.
    Closed,
    /// A peer could not be reached, or the handshake with it failed.
    PeerUnavailable,
    /// The call would have to wait (a full publish queue in a non-blocking call).
    WouldBlock,
    /// An operating-system call failed (socket, pipe, thread).
    Io,
    /// A data store operation failed with Broker's error code (no_such_key, type_clash,
    /// stale_data, master_exists, no_such_master, backend_failure, ...).
    Store(crate::wire::ErrorCode),
}

/// An error with a kind and a human-readable message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidArgument, message)
    }

    pub fn decode(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Decode, message)
    }

    pub fn mismatch(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::TypeMismatch, message)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        Error::new(ErrorKind::Io, e.to_string())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// brook's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
