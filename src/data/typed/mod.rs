//! Typed messages: Rust types to and from [`Data`] through serde, so that the compiler
//! checks what a program sends and a receiver gets a Rust value or an error that says what
//! did not fit, and where.
//!
//! [`to_data`] serializes any `Serialize` type into a [`Data`], and [`from_data`]
//! deserializes a [`Data`] into any `Deserialize` type. A Zeek event's arguments are a
//! struct's fields in order: [`Event::with_args`](super::zeek::Event::with_args) builds
//! one, [`Event::args_as`](super::zeek::Event::args_as) reads one, and
//! [`TypedEvent`](super::zeek::TypedEvent) ties a struct to its event's name.
//!
//! ```
//! use brook::data::zeek::TypedEvent;
//! use brook::{Config, Endpoint};
//! use serde::{Deserialize, Serialize};
//! use std::time::Duration;
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! struct Ping {
//!     n: u64,       // a count
//!     text: String, // a string
//! }
//!
//! impl TypedEvent for Ping {
//!     const NAME: &'static str = "ping"; // Zeek: event ping(n: count, text: string)
//! }
//!
//! let zeek_side = Endpoint::new(Config::default())?;
//! let port = zeek_side.listen("127.0.0.1", 0)?;
//! let sub = zeek_side.subscribe(&["/brook/ping"])?;
//!
//! let me = Endpoint::new(Config::default())?;
//! me.peer("127.0.0.1", port, Duration::from_secs(10))?;
//! # while me.peer_subscriptions()?.is_empty() { std::thread::sleep(Duration::from_millis(5)); }
//! let ping = Ping { n: 1, text: "hello".into() };
//! me.publish_event("/brook/ping", ping.to_event()?)?;   // the event ping(1, "hello")
//!
//! let event = sub.get(Some(Duration::from_secs(5)))?.unwrap().event()?;
//! assert_eq!(event.name, "ping");
//! let got: Ping = event.args_as()?;                      // or Ping::from_event(&event)?
//! assert_eq!(got, ping);
//!
//! // Arguments of the wrong types are an error naming the argument, never a panic.
//! let wrong = brook::data::zeek::Event::new("ping", vec![1u64.into(), 2u64.into()]);
//! let err = wrong.args_as::<Ping>().unwrap_err();
//! assert_eq!(err.to_string(), "event ping: at text: expected string, found count");
//! # Ok::<(), brook::Error>(())
//! ```
//!
//! # The mapping
//!
//! | Rust (serde) | Broker |
//! | --- | --- |
//! | `bool` | boolean |
//! | `u8` to `u64`, `usize`, `u128` | count (a `u128` above `u64::MAX` is an error) |
//! | `i8` to `i64`, `isize`, `i128` | integer (an `i128` outside `i64` is an error) |
//! | `f32`, `f64` | real |
//! | `String`, `&str`, `char` | string (UTF-8 on the way in; a non-UTF-8 string is an error) |
//! | bytes (`serialize_bytes`, as `serde_bytes` makes them) | string, any bytes |
//! | `Option<T>` | none, or the value |
//! | `()`, unit structs | none |
//! | structs, tuples, tuple structs | a vector in field order, as Zeek sends a record |
//! | newtype structs | the value inside |
//! | `Vec<T>`, slices, arrays of serde sequences | vector |
//! | `HashMap`, `BTreeMap` | table |
//! | [`AsSet`], or a field with `#[serde(with = "brook::data::typed::as_set")]` | set |
//! | unit enum variants | an enum value whose name is the variant's (`#[serde(rename = "Conn::LOG")]` for Zeek's names) |
//! | other enum variants | a vector `(variant's enum value, payload)`: the payload is the value of a newtype variant, a vector of the fields of a tuple or struct variant |
//! | [`Address`], [`Subnet`], [`Port`], [`Timestamp`], [`Timespan`], [`EnumValue`] | address, subnet, port, timestamp, timespan, enum value |
//! | [`Data`] | itself, exactly: for a field whose type varies (Zeek's `any`) or stays untyped |
//!
//! A count needs no newtype: every unsigned integer is one.
//!
//! **Sets.** serde hands a `HashSet` or `BTreeSet` over as a plain sequence, so on their own
//! they become vectors. Wrap one in [`AsSet`], or mark the field
//! `#[serde(with = "brook::data::typed::as_set")]`, to send a Broker set; that round-trips.
//! On the way in, any sequence type (a `Vec`, a `BTreeSet`, ...) reads a vector or a set,
//! while [`AsSet`] and `as_set` insist on a set.
//!
//! **Strict types.** Reading checks Broker's type as Zeek would: a `u64` takes a count but
//! not an integer, an `i64` an integer but not a count, an `f64` only a real, a `String`
//! only a string, an enum only an enum value (or its vector form). Integers are checked
//! against the Rust type's range. A struct or tuple takes a vector of exactly its length:
//! fewer elements is an error unless the missing fields have `#[serde(default)]`, more is
//! always one. `#[serde(skip_serializing_if = ...)]` would shift the fields after it, so do
//! not use it on a record. `Option<()>` cannot tell `Some(())` from `None`: both are none.
//!
//! **Errors.** A [`TypedError`] names the path to the value that did not fit
//! (`hosts[2].port`: field names, `[index]` for vector elements, `[key]` for table values)
//! and says what was expected and what was found. Deserialization never panics, whatever the
//! [`Data`].
//!
//! **Other formats.** The Broker types serialize into other serde formats too: as text
//! (`"10.0.0.1"`, `"10.0.0.0/8"`, `"80/tcp"`) in human-readable ones such as JSON, as bytes in
//! compact ones; timestamps and timespans as nanoseconds, enum values as their names;
//! [`AsSet`] as a sequence; a [`Data`] as its closest serde value (a count as a number, a
//! vector as a sequence, a table as a map, ...) or, in compact formats, as Broker's binary
//! format.

mod de;
mod ser;
mod types;

use super::Data;
use crate::error::{Error, ErrorKind};
use serde::{Deserialize, Serialize};
use std::fmt;

pub use types::{AsSet, EnumValue, as_set};

/// Serializes `value` into a [`Data`]: a struct becomes a vector of its fields, and so on
/// (the [module docs](self) give the whole mapping). Fails for values Broker cannot hold,
/// such as a `u128` above `u64::MAX`.
///
/// ```
/// use brook::Data;
/// #[derive(serde::Serialize)]
/// struct Conn { orig_port: u64, service: Option<String> }
///
/// let d = brook::to_data(&Conn { orig_port: 80, service: None })?;
/// assert_eq!(d, Data::Vector(vec![Data::Count(80), Data::None]));
/// # Ok::<(), brook::TypedError>(())
/// ```
pub fn to_data<T: Serialize + ?Sized>(value: &T) -> Result<Data, TypedError> {
    value.serialize(ser::ValueSerializer::default())
}

/// Deserializes a `T` from `data`, checking every Broker type against what `T` expects.
/// Strings may be borrowed from `data` (`&'a str` fields).
///
/// ```
/// use brook::Data;
/// #[derive(serde::Deserialize, Debug)]
/// struct Conn { orig_port: u16, service: Option<String> }
///
/// let d = Data::Vector(vec![Data::Count(80), Data::None]);
/// let conn: Conn = brook::from_data(&d)?;
/// assert_eq!((conn.orig_port, conn.service), (80, None));
///
/// let err = brook::from_data::<Conn>(&Data::Vector(vec![Data::Count(70000), Data::None]));
/// assert_eq!(err.unwrap_err().to_string(), "at orig_port: count 70000 does not fit in u16");
/// # Ok::<(), brook::TypedError>(())
/// ```
pub fn from_data<'a, T: Deserialize<'a>>(data: &'a Data) -> Result<T, TypedError> {
    T::deserialize(de::ValueDeserializer(data))
}

/// The arguments of a Zeek event from `value`: a struct's fields, a tuple's or a
/// sequence's elements in order; unit gives none, and a newtype struct its one value.
pub(crate) fn to_args<T: Serialize + ?Sized>(value: &T) -> Result<Vec<Data>, TypedError> {
    match value.serialize(ser::ArgsSerializer)? {
        Data::Vector(args) => Ok(args),
        _ => Ok(Vec::new()),
    }
}

/// The inverse of [`to_args`].
pub(crate) fn from_args<'a, T: Deserialize<'a>>(args: &'a [Data]) -> Result<T, TypedError> {
    T::deserialize(de::ArgsDeserializer(args))
}

/// The names of the newtype structs through which brook's own types tell the [`Data`]
/// serializer and deserializer which Broker type they are. Other formats see an ordinary
/// newtype struct.
pub(crate) mod marker {
    pub const ADDRESS: &str = "$brook::Address";
    pub const SUBNET: &str = "$brook::Subnet";
    pub const PORT: &str = "$brook::Port";
    pub const TIMESTAMP: &str = "$brook::Timestamp";
    pub const TIMESPAN: &str = "$brook::Timespan";
    pub const ENUM_VALUE: &str = "$brook::EnumValue";
    pub const SET: &str = "$brook::Set";
    pub const DATA: &str = "$brook::Data";
}

/// One step of the path to a value inside a [`Data`].
#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    /// A struct field or an enum variant.
    Name(String),
    /// An element of a vector, a set or an argument list.
    Index(usize),
    /// The value at a table key, in Broker's text rendering.
    Key(String),
}

/// What did not fit between a Rust type and a [`Data`], and where.
///
/// Its text is `at PATH: MESSAGE` (just `MESSAGE` at the top), with `event NAME: ` in front
/// when it comes from an event's arguments; for example
/// `event ping: at text: expected string, found count`. Converts into an [`Error`] of kind
/// [`ErrorKind::TypeMismatch`] (deserializing) or [`ErrorKind::Encode`] (serializing), so `?`
/// works in functions that return brook's `Result`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypedError {
    /// Innermost step first: steps are added while the error travels outwards.
    path: Vec<Segment>,
    message: String,
    context: Option<String>,
    serializing: bool,
}

impl TypedError {
    fn new(message: impl Into<String>, serializing: bool) -> TypedError {
        TypedError {
            path: Vec::new(),
            message: message.into(),
            context: None,
            serializing,
        }
    }

    /// A deserialization error.
    pub(crate) fn de(message: impl Into<String>) -> TypedError {
        TypedError::new(message, false)
    }

    /// A serialization error.
    pub(crate) fn ser(message: impl Into<String>) -> TypedError {
        TypedError::new(message, true)
    }

    /// `expected WHAT, found TYPE` for a value of the wrong Broker type.
    pub(crate) fn mismatch(expected: &str, found: &Data) -> TypedError {
        TypedError::de(format!(
            "expected {expected}, found {}",
            found.data_type().name()
        ))
    }

    fn at(mut self, segment: Segment) -> TypedError {
        self.path.push(segment);
        self
    }

    pub(crate) fn at_name(self, name: &str) -> TypedError {
        self.at(Segment::Name(name.to_string()))
    }

    pub(crate) fn at_index(self, i: usize) -> TypedError {
        self.at(Segment::Index(i))
    }

    pub(crate) fn at_key(self, key: &Data) -> TypedError {
        let mut text = String::from_utf8_lossy(&super::text::render(key)).into_owned();
        if text.chars().count() > 40 {
            text = text.chars().take(37).chain("...".chars()).collect();
        }
        self.at(Segment::Key(text))
    }

    /// Says that the error is in a table's key rather than its value.
    pub(crate) fn in_key(mut self) -> TypedError {
        self.message = format!("in the key: {}", self.message);
        self
    }

    /// Puts `context` (such as `event ping`) in front of the message.
    pub(crate) fn with_context(mut self, context: impl Into<String>) -> TypedError {
        self.context = Some(context.into());
        self
    }

    /// The path to the value that did not fit: field names joined by `.`, `[i]` for an
    /// element, `[key]` for a table's value; empty for the value itself.
    pub fn path(&self) -> String {
        let mut out = String::new();
        for segment in self.path.iter().rev() {
            match segment {
                Segment::Name(n) if out.is_empty() => out.push_str(n),
                Segment::Name(n) => {
                    out.push('.');
                    out.push_str(n)
                }
                Segment::Index(i) => out.push_str(&format!("[{i}]")),
                Segment::Key(k) => out.push_str(&format!("[{k}]")),
            }
        }
        out
    }

    /// What was wrong, without the path.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for TypedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(c) = &self.context {
            write!(f, "{c}: ")?;
        }
        if !self.path.is_empty() {
            write!(f, "at {}: ", self.path())?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for TypedError {}

impl From<TypedError> for Error {
    fn from(e: TypedError) -> Error {
        let kind = if e.serializing {
            ErrorKind::Encode
        } else {
            ErrorKind::TypeMismatch
        };
        Error::new(kind, e.to_string())
    }
}

impl serde::ser::Error for TypedError {
    fn custom<T: fmt::Display>(msg: T) -> TypedError {
        TypedError::ser(msg.to_string())
    }
}

impl serde::de::Error for TypedError {
    fn custom<T: fmt::Display>(msg: T) -> TypedError {
        TypedError::de(msg.to_string())
    }

    fn invalid_type(unexp: serde::de::Unexpected, exp: &dyn serde::de::Expected) -> TypedError {
        TypedError::de(format!("expected {exp}, found {unexp}"))
    }

    fn invalid_length(len: usize, exp: &dyn serde::de::Expected) -> TypedError {
        TypedError::de(format!("expected {exp}, found {len} elements"))
    }
}

#[cfg(test)]
mod tests;
