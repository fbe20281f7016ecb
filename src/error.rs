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
    Store(ErrorCode),
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

macro_rules! error_codes {
    ($($variant:ident = $n:literal => $name:literal,)*) => {
        /// Broker's error codes (`ec`, spec §3.5): the code of a drop_conn and of error
        /// events. The discriminant is the wire value.
        #[repr(u8)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $(#[doc = concat!("`", $name, "`")] $variant = $n,)*
        }

        impl ErrorCode {
            /// The code with wire value `n`, if Broker defines one.
            pub fn from_u8(n: u8) -> Option<ErrorCode> {
                match n {
                    $($n => Some(ErrorCode::$variant),)*
                    _ => None,
                }
            }

            /// The snake_case name Broker uses in JSON and status messages. Broker's own
            /// table has no name for 41; brook calls it `invalid_json`.
            pub fn name(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $name,)*
                }
            }
        }
    };
}

error_codes! {
    None = 0 => "none",
    Unspecified = 1 => "unspecified",
    PeerIncompatible = 2 => "peer_incompatible",
    PeerInvalid = 3 => "peer_invalid",
    PeerUnavailable = 4 => "peer_unavailable",
    PeerDisconnectDuringHandshake = 5 => "peer_disconnect_during_handshake",
    PeerTimeout = 6 => "peer_timeout",
    MasterExists = 7 => "master_exists",
    NoSuchMaster = 8 => "no_such_master",
    NoSuchKey = 9 => "no_such_key",
    RequestTimeout = 10 => "request_timeout",
    TypeClash = 11 => "type_clash",
    InvalidData = 12 => "invalid_data",
    BackendFailure = 13 => "backend_failure",
    StaleData = 14 => "stale_data",
    CannotOpenFile = 15 => "cannot_open_file",
    CannotWriteFile = 16 => "cannot_write_file",
    InvalidTopicKey = 17 => "invalid_topic_key",
    EndOfFile = 18 => "end_of_file",
    InvalidTag = 19 => "invalid_tag",
    InvalidMessage = 20 => "invalid_message",
    InvalidStatus = 21 => "invalid_status",
    ConversionFailed = 22 => "conversion_failed",
    ConsumerExists = 23 => "consumer_exists",
    ConnectionTimeout = 24 => "connection_timeout",
    BadMemberFunctionCall = 25 => "bad_member_function_call",
    RepeatedRequestId = 26 => "repeated_request_id",
    BrokenClone = 27 => "broken_clone",
    ShuttingDown = 28 => "shutting_down",
    InvalidPeeringRequest = 29 => "invalid_peering_request",
    RepeatedPeeringHandshakeRequest = 30 => "repeated_peering_handshake_request",
    UnexpectedHandshakeMessage = 31 => "unexpected_handshake_message",
    InvalidHandshakeState = 32 => "invalid_handshake_state",
    NoPathToPeer = 33 => "no_path_to_peer",
    NoConnectorAvailable = 34 => "no_connector_available",
    CannotOpenResource = 35 => "cannot_open_resource",
    SerializationFailed = 36 => "serialization_failed",
    DeserializationFailed = 37 => "deserialization_failed",
    WrongMagicNumber = 38 => "wrong_magic_number",
    RedundantConnection = 39 => "redundant_connection",
    LogicError = 40 => "logic_error",
    InvalidJson = 41 => "invalid_json",
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
