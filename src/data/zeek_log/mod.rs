//! Zeek's log records: the values inside a [`LogWrite`](super::zeek::LogWrite), typed by the
//! field list of the stream's [`LogCreate`](super::zeek::LogCreate).
//!
//! A `LogWrite`'s `serial_data` is Zeek's `BinarySerializationFormat` of its
//! `threading::Value`s (zeek `src/threading/SerialTypes.cc`): an `int` field count, then per
//! value its type tag, subtype tag, a present flag and, when present, the value. This module
//! decodes and encodes it ([`decode_values`], [`encode_values`]), checks it against the
//! stream's fields ([`Stream::record`]), and renders records as Zeek's ASCII writer does
//! ([`ascii`]: TSV and JSON lines, header lines). No I/O: files are the caller's.
//!
//! ```
//! use brook::data::zeek_log::{Field, Stream, TypeTag, Value, ascii};
//!
//! let stream = Stream {
//!     stream_id: "Demo::LOG".into(),
//!     writer_id: "Log::WRITER_ASCII".into(),
//!     path: Some(b"demo".to_vec()),
//!     fields: vec![
//!         Field::new("n", TypeTag::Count, TypeTag::Void, false),
//!         Field::new("msg", TypeTag::String, TypeTag::Void, true),
//!     ],
//! };
//! let create = stream.to_create();                     // publish it first, then writes
//! let write = stream.write(b"demo", &[Value::Count(1), Value::String(b"hi\x01".to_vec())])?;
//! let record = Stream::from_create(&create)?.record(&write)?;   // what a receiver does
//! assert_eq!(record.values[0], Value::Count(1));
//! assert_eq!(ascii::tsv_line(&record.values), b"1\thi\\x01\n");
//! # Ok::<(), brook::Error>(())
//! ```
//!
//! Invariants: decoding untrusted bytes never panics and never allocates more than the
//! input could hold (every length and count is checked against the bytes left); containers
//! hold atomic values only, as Zeek logs them, so nesting is at most one level.

pub mod ascii;
mod codec;

pub use codec::{MAX_FIELDS, decode_values, encode_values};

use super::Data;
use super::zeek::{LogCreate, LogWrite};
use crate::error::{Error, Result};
use std::net::IpAddr;

/// Zeek's type tags (`zeek/src/Type.h` `TypeTag`), as they travel in log fields and values.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TypeTag {
    Void = 0,
    Bool = 1,
    Int = 2,
    Count = 3,
    Double = 4,
    Time = 5,
    Interval = 6,
    String = 7,
    Pattern = 8,
    Enum = 9,
    Port = 10,
    Addr = 11,
    Subnet = 12,
    Any = 13,
    Table = 14,
    Record = 15,
    List = 16,
    Func = 17,
    File = 18,
    Vector = 19,
    Opaque = 20,
    Type = 21,
    Error = 22,
}

impl TypeTag {
    /// The tag for a number, or `None` past `Error` (22).
    pub fn from_u64(n: u64) -> Option<TypeTag> {
        use TypeTag::*;
        const ALL: [TypeTag; 23] = [
            Void, Bool, Int, Count, Double, Time, Interval, String, Pattern, Enum, Port, Addr,
            Subnet, Any, Table, Record, List, Func, File, Vector, Opaque, Type, Error,
        ];
        ALL.get(usize::try_from(n).ok()?).copied()
    }

    /// Zeek's `type_name()`: `"count"`, `"addr"`, `"table"`, ...
    pub fn name(self) -> &'static str {
        use TypeTag::*;
        match self {
            Void => "void",
            Bool => "bool",
            Int => "int",
            Count => "count",
            Double => "double",
            Time => "time",
            Interval => "interval",
            String => "string",
            Pattern => "pattern",
            Enum => "enum",
            Port => "port",
            Addr => "addr",
            Subnet => "subnet",
            Any => "any",
            Table => "table",
            Record => "record",
            List => "list",
            Func => "func",
            File => "file",
            Vector => "vector",
            Opaque => "opaque",
            Type => "type",
            Error => "error",
        }
    }

    /// Whether Zeek's log serialization carries values of this type (its
    /// `Value::IsCompatibleType`, atomic part).
    pub fn is_atomic(self) -> bool {
        use TypeTag::*;
        matches!(
            self,
            Bool | Int
                | Count
                | Double
                | Time
                | Interval
                | String
                | Enum
                | Port
                | Addr
                | Subnet
                | Func
                | File
        )
    }
}

/// A transport protocol as Zeek serializes a port's (`TransportProto`).
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Proto {
    Unknown = 0,
    Tcp = 1,
    Udp = 2,
    Icmp = 3,
}

impl Proto {
    /// Zeek's rendering: `unknown`, `tcp`, `udp`, `icmp`.
    pub fn name(self) -> &'static str {
        match self {
            Proto::Unknown => "unknown",
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Icmp => "icmp",
        }
    }
}

/// One field of a log stream, from the `LogCreate` (Zeek's `threading::Field`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    /// Only the input framework sets it; log streams leave it `None`.
    pub secondary_name: Option<String>,
    pub ty: TypeTag,
    /// The element type of a set (`Table`) or vector; `Void` otherwise.
    pub subtype: TypeTag,
    pub optional: bool,
}

impl Field {
    /// A field without a secondary name.
    pub fn new(name: impl Into<String>, ty: TypeTag, subtype: TypeTag, optional: bool) -> Field {
        Field {
            name: name.into(),
            secondary_name: None,
            ty,
            subtype,
            optional,
        }
    }

    /// Zeek's `Field::TypeName()`: `count`, `set[string]`, `vector[addr]`.
    pub fn type_name(&self) -> String {
        match self.ty {
            TypeTag::Table => format!("set[{}]", self.subtype.name()),
            TypeTag::Vector => format!("vector[{}]", self.subtype.name()),
            t => t.name().to_string(),
        }
    }

    /// The field as a `LogCreate` carries it: `(name, secondary or nil, type, subtype, optional)`.
    pub fn to_data(&self) -> Data {
        Data::Vector(vec![
            Data::string(self.name.as_str()),
            self.secondary_name
                .as_deref()
                .map_or(Data::None, Data::string),
            Data::Count(self.ty as u64),
            Data::Count(self.subtype as u64),
            Data::Boolean(self.optional),
        ])
    }

    /// The inverse of [`Field::to_data`], with Zeek's checks (`data_to_threading_field`).
    pub fn from_data(d: &Data) -> Result<Field> {
        let Data::Vector(v) = d else {
            return Err(Error::mismatch("a log field is a vector"));
        };
        let (
            Some(Data::String(name)),
            Some(second),
            Some(Data::Count(t)),
            Some(Data::Count(st)),
            Some(Data::Boolean(opt)),
        ) = (v.first(), v.get(1), v.get(2), v.get(3), v.get(4))
        else {
            return Err(Error::mismatch(
                "a log field is (string name, secondary, count type, count subtype, bool optional)",
            ));
        };
        let text = |b: &[u8], what: &str| {
            String::from_utf8(b.to_vec())
                .map_err(|_| Error::mismatch(format!("a log field's {what} is not UTF-8")))
        };
        let secondary_name = match second {
            Data::None => None,
            Data::String(s) => Some(text(s, "secondary name")?),
            _ => {
                return Err(Error::mismatch(
                    "a log field's secondary name is a string or nil",
                ));
            }
        };
        let tag = |n: u64| {
            TypeTag::from_u64(n)
                .ok_or_else(|| Error::mismatch(format!("unknown Zeek type tag {n}")))
        };
        Ok(Field {
            name: text(name, "name")?,
            secondary_name,
            ty: tag(*t)?,
            subtype: tag(*st)?,
            optional: *opt,
        })
    }
}

/// A logged value (Zeek's `threading::Value`).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// An unset `&optional` field (`present` false), with the type and subtype it was sent with.
    Unset(TypeTag, TypeTag),
    Bool(bool),
    Int(i64),
    Count(u64),
    Double(f64),
    /// Seconds since the epoch.
    Time(f64),
    /// Seconds.
    Interval(f64),
    /// Any bytes.
    String(Vec<u8>),
    /// The enumerator's name, such as `Conn::LOG`.
    Enum(Vec<u8>),
    Port(u64, Proto),
    Addr(IpAddr),
    /// The prefix and its length as Zeek sends it: for IPv4, 96 plus the IPv4 length.
    Subnet(IpAddr, u8),
    File(Vec<u8>),
    Func(Vec<u8>),
    /// A set's elements (in the order sent) and their type.
    Set(TypeTag, Vec<Value>),
    Vector(TypeTag, Vec<Value>),
}

impl Value {
    /// The type tag this value travels with.
    pub fn type_tag(&self) -> TypeTag {
        use TypeTag as T;
        match self {
            Value::Unset(t, _) => *t,
            Value::Bool(_) => T::Bool,
            Value::Int(_) => T::Int,
            Value::Count(_) => T::Count,
            Value::Double(_) => T::Double,
            Value::Time(_) => T::Time,
            Value::Interval(_) => T::Interval,
            Value::String(_) => T::String,
            Value::Enum(_) => T::Enum,
            Value::Port(..) => T::Port,
            Value::Addr(_) => T::Addr,
            Value::Subnet(..) => T::Subnet,
            Value::File(_) => T::File,
            Value::Func(_) => T::Func,
            Value::Set(..) => T::Table,
            Value::Vector(..) => T::Vector,
        }
    }

    /// The subtype tag this value travels with (a container's element type, else `Void`).
    pub fn subtype_tag(&self) -> TypeTag {
        match self {
            Value::Unset(_, st) | Value::Set(st, _) | Value::Vector(st, _) => *st,
            _ => TypeTag::Void,
        }
    }

    /// A subnet from a prefix and its usual length (IPv4: 0-32), as Zeek sends it.
    pub fn subnet(prefix: IpAddr, len: u8) -> Value {
        match prefix {
            IpAddr::V4(_) => Value::Subnet(prefix, len.saturating_add(96)),
            IpAddr::V6(_) => Value::Subnet(prefix, len),
        }
    }

    /// The value as a Broker data value: unset is nil, time a timestamp, interval a
    /// timespan, a set a set, a vector a vector (what Zeek's `val_to_data` would give).
    pub fn to_data(&self) -> Data {
        use super::{Address, Port, Protocol, Subnet, Timespan, Timestamp};
        let nanos = |s: f64| (s * 1e9) as i64;
        match self {
            Value::Unset(..) => Data::None,
            Value::Bool(b) => Data::Boolean(*b),
            Value::Int(i) => Data::Integer(*i),
            Value::Count(c) => Data::Count(*c),
            Value::Double(d) => Data::Real(*d),
            Value::Time(t) => Data::Timestamp(Timestamp(nanos(*t))),
            Value::Interval(t) => Data::Timespan(Timespan(nanos(*t))),
            Value::String(s) | Value::File(s) | Value::Func(s) => Data::String(s.clone()),
            Value::Enum(s) => Data::Enum(s.clone()),
            Value::Port(p, proto) => {
                let protocol = match proto {
                    Proto::Unknown => Protocol::Unknown,
                    Proto::Tcp => Protocol::Tcp,
                    Proto::Udp => Protocol::Udp,
                    Proto::Icmp => Protocol::Icmp,
                };
                Data::Port(Port::new(*p as u16, protocol))
            }
            Value::Addr(a) => Data::Address(Address::from(*a)),
            Value::Subnet(a, len) => {
                let l = if a.is_ipv4() {
                    len.saturating_sub(96)
                } else {
                    *len
                };
                Data::Subnet(Subnet::new(Address::from(*a), l))
            }
            Value::Set(_, vs) => Data::Set(vs.iter().map(Value::to_data).collect()),
            Value::Vector(_, vs) => Data::Vector(vs.iter().map(Value::to_data).collect()),
        }
    }
}

impl Value {
    /// The value of a field of type `ty` (and `subtype`) from a Broker data value, the
    /// inverse of [`Value::to_data`]: nil is unset, a count is a count (or a port's number
    /// for a port field), a timestamp a time, a timespan an interval, a set or vector a
    /// container of `subtype`. A value that does not fit the field is an error.
    pub fn from_data(d: &Data, ty: TypeTag, subtype: TypeTag) -> Result<Value> {
        use TypeTag as T;
        let secs = |ns: i64| ns as f64 / 1e9;
        let v = match (ty, d) {
            (_, Data::None) => Value::Unset(ty, subtype),
            (T::Bool, Data::Boolean(b)) => Value::Bool(*b),
            (T::Int, Data::Integer(i)) => Value::Int(*i),
            (T::Count, Data::Count(c)) => Value::Count(*c),
            // Languages without a count type (Python) give integers.
            (T::Count, Data::Integer(i)) if *i >= 0 => Value::Count(*i as u64),
            (T::Int, Data::Count(c)) if *c <= i64::MAX as u64 => Value::Int(*c as i64),
            (T::Double, Data::Integer(i)) => Value::Double(*i as f64),
            (T::Double, Data::Real(r)) => Value::Double(*r),
            (T::Time, Data::Timestamp(t)) => Value::Time(secs(t.0)),
            (T::Time, Data::Real(r)) => Value::Time(*r),
            (T::Interval, Data::Timespan(t)) => Value::Interval(secs(t.0)),
            (T::Interval, Data::Real(r)) => Value::Interval(*r),
            (T::String, Data::String(s)) => Value::String(s.clone()),
            (T::File, Data::String(s)) => Value::File(s.clone()),
            (T::Func, Data::String(s)) => Value::Func(s.clone()),
            (T::Enum, Data::Enum(s) | Data::String(s)) => Value::Enum(s.clone()),
            (T::Port, Data::Port(p)) => {
                use super::Protocol;
                let proto = match p.protocol {
                    Protocol::Tcp => Proto::Tcp,
                    Protocol::Udp => Proto::Udp,
                    Protocol::Icmp => Proto::Icmp,
                    _ => Proto::Unknown,
                };
                Value::Port(u64::from(p.number), proto)
            }
            (T::Addr, Data::Address(a)) => Value::Addr(a.to_ip()),
            (T::Subnet, Data::Subnet(s)) => Value::subnet(s.network.to_ip(), s.prefix_len()),
            (T::Table, Data::Set(es)) => Value::Set(
                subtype,
                es.iter()
                    .map(|e| Value::from_data(e, subtype, T::Void))
                    .collect::<Result<_>>()?,
            ),
            (T::Vector, Data::Vector(es)) => Value::Vector(
                subtype,
                es.iter()
                    .map(|e| Value::from_data(e, subtype, T::Void))
                    .collect::<Result<_>>()?,
            ),
            _ => {
                return Err(Error::mismatch(format!(
                    "a {} value does not fit a {} field",
                    d.data_type().name(),
                    ty.name()
                )));
            }
        };
        if matches!(v, Value::Set(..) | Value::Vector(..)) && !subtype.is_atomic() {
            return Err(Error::mismatch("log containers hold atomic values only"));
        }
        Ok(v)
    }
}

/// A log stream as its `LogCreate` announced it: what the `LogWrite`s on it are checked
/// against.
#[derive(Clone, Debug, PartialEq)]
pub struct Stream {
    /// The stream's enum name, such as `Conn::LOG`.
    pub stream_id: String,
    pub writer_id: String,
    /// The path from the writer info (`conn`), if the create carried one.
    pub path: Option<Vec<u8>>,
    pub fields: Vec<Field>,
}

/// One log line: its stream, path, and a value per field of the stream.
#[derive(Clone, Debug, PartialEq)]
pub struct LogRecord {
    pub stream_id: String,
    pub writer_id: String,
    pub path: Vec<u8>,
    pub values: Vec<Value>,
}

impl Stream {
    /// The stream a `LogCreate` announces: its fields parsed and checked.
    pub fn from_create(create: &LogCreate) -> Result<Stream> {
        let Data::Vector(fields) = &create.fields else {
            return Err(Error::mismatch("a log create's fields are a vector"));
        };
        if fields.len() > MAX_FIELDS {
            return Err(Error::mismatch(format!(
                "a log create has {} fields, more than {MAX_FIELDS}",
                fields.len()
            )));
        }
        let fields = fields
            .iter()
            .enumerate()
            .map(|(i, f)| {
                Field::from_data(f)
                    .map_err(|e| Error::mismatch(format!("log field {i}: {}", e.message)))
            })
            .collect::<Result<Vec<_>>>()?;
        // Writer info: (path, (name -> value) config, ...) in Broker's layout.
        let path = match &create.writer_info {
            Data::Vector(v) => match v.first() {
                Some(Data::String(p)) => Some(p.clone()),
                _ => None,
            },
            _ => None,
        };
        Ok(Stream {
            stream_id: create.stream_id.clone(),
            writer_id: create.writer_id.clone(),
            path,
            fields,
        })
    }

    /// A `LogCreate` for this stream, as Zeek sends one. The writer info is Zeek's
    /// `WriterInfo` layout (`WriterBackend::WriterInfo::FromBroker`): path, rotation base,
    /// rotation interval, network time (all 0: the receiver's own settings apply), an empty
    /// config table and no post-processing function.
    pub fn to_create(&self) -> LogCreate {
        let path = self.path.clone().unwrap_or_default();
        LogCreate {
            stream_id: self.stream_id.clone(),
            writer_id: self.writer_id.clone(),
            writer_info: Data::Vector(vec![
                Data::String(path),
                Data::Real(0.0),
                Data::Real(0.0),
                Data::Real(0.0),
                Data::Table(Default::default()),
                Data::String(Vec::new()),
            ]),
            fields: Data::Vector(self.fields.iter().map(Field::to_data).collect()),
        }
    }

    /// Checks values against the fields: one value per field, each of the field's type (and
    /// a container's elements of its subtype).
    pub fn check(&self, values: &[Value]) -> Result<()> {
        if values.len() != self.fields.len() {
            return Err(Error::mismatch(format!(
                "stream {}: {} values for {} fields",
                self.stream_id,
                values.len(),
                self.fields.len()
            )));
        }
        for (f, v) in self.fields.iter().zip(values) {
            let bad = |what: String| {
                Error::mismatch(format!(
                    "stream {}: field {}: {what}",
                    self.stream_id, f.name
                ))
            };
            if v.type_tag() != f.ty {
                return Err(bad(format!(
                    "a {} value for a {} field",
                    v.type_tag().name(),
                    f.type_name()
                )));
            }
            if let Value::Set(_, es) | Value::Vector(_, es) = v {
                if let Some(e) = es.iter().find(|e| e.type_tag() != f.subtype) {
                    return Err(bad(format!(
                        "a {} element in a {} field",
                        e.type_tag().name(),
                        f.type_name()
                    )));
                }
            }
        }
        Ok(())
    }

    /// The record a `LogWrite` on this stream carries: its values decoded and checked.
    pub fn record(&self, write: &LogWrite) -> Result<LogRecord> {
        let values = decode_values(&write.serial_data)?;
        self.check(&values)?;
        Ok(LogRecord {
            stream_id: write.stream_id.clone(),
            writer_id: write.writer_id.clone(),
            path: write.path.clone(),
            values,
        })
    }

    /// A `LogWrite` of Broker data values (one per field, nil for unset), converted by the
    /// fields' types as [`Value::from_data`] does.
    pub fn write_data(&self, path: &[u8], values: &[Data]) -> Result<LogWrite> {
        if values.len() != self.fields.len() {
            return Err(Error::mismatch(format!(
                "stream {}: {} values for {} fields",
                self.stream_id,
                values.len(),
                self.fields.len()
            )));
        }
        let values = self
            .fields
            .iter()
            .zip(values)
            .map(|(f, d)| {
                Value::from_data(d, f.ty, f.subtype).map_err(|e| {
                    Error::mismatch(format!(
                        "stream {}: field {}: {}",
                        self.stream_id, f.name, e.message
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        self.write(path, &values)
    }

    /// A `LogWrite` of `values` to `path` on this stream, checked against the fields first.
    pub fn write(&self, path: &[u8], values: &[Value]) -> Result<LogWrite> {
        self.check(values)?;
        Ok(LogWrite {
            stream_id: self.stream_id.clone(),
            writer_id: self.writer_id.clone(),
            path: path.to_vec(),
            serial_data: encode_values(values)?,
        })
    }
}
