//! The serde `Serializer` that builds a [`Data`], and the one that builds an event's
//! argument list.

use super::{TypedError, marker};
use crate::data::{Address, Data, Port, Protocol, Subnet, Table, Timespan, Timestamp};
use serde::Serialize;
use serde::ser::{self, Impossible};

/// Serializes one value into a [`Data`].
///
/// Human-readable, as serde means it, so that foreign types pick their text form; only the
/// value inside one of brook's marker newtypes is serialized compactly (`compact`), which
/// gives this serializer the exact bytes of an address, a subnet or a port.
#[derive(Clone, Copy, Default)]
pub(crate) struct ValueSerializer {
    compact: bool,
}

fn integer<T: TryInto<i64> + Copy + std::fmt::Display>(v: T) -> Result<Data, TypedError> {
    v.try_into().map(Data::Integer).map_err(|_| {
        TypedError::ser(format!(
            "{v} does not fit in a Broker integer (64-bit signed)"
        ))
    })
}

fn count<T: TryInto<u64> + Copy + std::fmt::Display>(v: T) -> Result<Data, TypedError> {
    v.try_into().map(Data::Count).map_err(|_| {
        TypedError::ser(format!(
            "{v} does not fit in a Broker count (64-bit unsigned)"
        ))
    })
}

/// The Broker value of marker newtype `name` from the compact form of its inner value.
fn from_marker(name: &str, inner: Data) -> Result<Data, TypedError> {
    let bad = |inner: &Data| {
        TypedError::ser(format!(
            "brook's {} carries an unexpected {}",
            name.trim_start_matches("$brook::"),
            inner.data_type().name()
        ))
    };
    Ok(match (name, inner) {
        (marker::ADDRESS, Data::String(b)) => match <[u8; 16]>::try_from(b.as_slice()) {
            Ok(a) => Data::Address(Address(a)),
            Err(_) => return Err(bad(&Data::String(b))),
        },
        (marker::SUBNET, Data::String(b)) if b.len() == 17 => {
            let mut network = [0u8; 16];
            network.copy_from_slice(&b[..16]);
            Data::Subnet(Subnet {
                network: Address(network),
                raw_len: b[16],
            })
        }
        (marker::PORT, Data::String(b)) if b.len() == 3 => match Protocol::from_u8(b[2]) {
            Some(p) => Data::Port(Port::new(u16::from_be_bytes([b[0], b[1]]), p)),
            None => return Err(bad(&Data::String(b))),
        },
        (marker::TIMESTAMP, Data::Integer(t)) => Data::Timestamp(Timestamp(t)),
        (marker::TIMESPAN, Data::Integer(t)) => Data::Timespan(Timespan(t)),
        (marker::ENUM_VALUE, Data::String(s)) => Data::Enum(s),
        (marker::SET, Data::Vector(v)) => Data::Set(v.into_iter().collect()),
        (marker::DATA, Data::String(b)) => {
            crate::data::bin::decode(&b).map_err(|e| TypedError::ser(e.message))?
        }
        (_, other) => return Err(bad(&other)),
    })
}

impl ser::Serializer for ValueSerializer {
    type Ok = Data;
    type Error = TypedError;
    type SerializeSeq = SeqSerializer;
    type SerializeTuple = SeqSerializer;
    type SerializeTupleStruct = SeqSerializer;
    type SerializeTupleVariant = VariantSerializer;
    type SerializeMap = MapSerializer;
    type SerializeStruct = SeqSerializer;
    type SerializeStructVariant = VariantSerializer;

    fn is_human_readable(&self) -> bool {
        !self.compact
    }

    fn serialize_bool(self, v: bool) -> Result<Data, TypedError> {
        Ok(Data::Boolean(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Data, TypedError> {
        integer(v)
    }
    fn serialize_i16(self, v: i16) -> Result<Data, TypedError> {
        integer(v)
    }
    fn serialize_i32(self, v: i32) -> Result<Data, TypedError> {
        integer(v)
    }
    fn serialize_i64(self, v: i64) -> Result<Data, TypedError> {
        integer(v)
    }
    fn serialize_i128(self, v: i128) -> Result<Data, TypedError> {
        integer(v)
    }
    fn serialize_u8(self, v: u8) -> Result<Data, TypedError> {
        count(v)
    }
    fn serialize_u16(self, v: u16) -> Result<Data, TypedError> {
        count(v)
    }
    fn serialize_u32(self, v: u32) -> Result<Data, TypedError> {
        count(v)
    }
    fn serialize_u64(self, v: u64) -> Result<Data, TypedError> {
        count(v)
    }
    fn serialize_u128(self, v: u128) -> Result<Data, TypedError> {
        count(v)
    }
    fn serialize_f32(self, v: f32) -> Result<Data, TypedError> {
        Ok(Data::Real(f64::from(v)))
    }
    fn serialize_f64(self, v: f64) -> Result<Data, TypedError> {
        Ok(Data::Real(v))
    }
    fn serialize_char(self, v: char) -> Result<Data, TypedError> {
        Ok(Data::String(v.to_string().into_bytes()))
    }
    fn serialize_str(self, v: &str) -> Result<Data, TypedError> {
        Ok(Data::String(v.as_bytes().to_vec()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Data, TypedError> {
        Ok(Data::String(v.to_vec()))
    }
    fn serialize_none(self) -> Result<Data, TypedError> {
        Ok(Data::None)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Data, TypedError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Data, TypedError> {
        Ok(Data::None)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Data, TypedError> {
        Ok(Data::None)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Data, TypedError> {
        Ok(Data::Enum(variant.as_bytes().to_vec()))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<Data, TypedError> {
        if name == marker::SET {
            return from_marker(name, value.serialize(ValueSerializer::default())?);
        }
        if name.starts_with("$brook::") {
            let inner = value.serialize(ValueSerializer { compact: true })?;
            return from_marker(name, inner);
        }
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Data, TypedError> {
        let payload = value
            .serialize(ValueSerializer::default())
            .map_err(|e| e.at_name(variant))?;
        Ok(Data::Vector(vec![
            Data::Enum(variant.as_bytes().to_vec()),
            payload,
        ]))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSerializer, TypedError> {
        Ok(SeqSerializer::new(len.unwrap_or(0)))
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqSerializer, TypedError> {
        Ok(SeqSerializer::new(len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<SeqSerializer, TypedError> {
        Ok(SeqSerializer::new(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantSerializer, TypedError> {
        Ok(VariantSerializer {
            variant,
            fields: SeqSerializer::new(len),
        })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<MapSerializer, TypedError> {
        Ok(MapSerializer {
            table: Table::new(),
            key: None,
        })
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<SeqSerializer, TypedError> {
        Ok(SeqSerializer::new(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantSerializer, TypedError> {
        Ok(VariantSerializer {
            variant,
            fields: SeqSerializer::new(len),
        })
    }
}

/// A vector in the making: a sequence, a tuple, or a struct's fields in order.
pub(crate) struct SeqSerializer {
    items: Vec<Data>,
}

impl SeqSerializer {
    fn new(len: usize) -> SeqSerializer {
        // A size hint from the value, not from untrusted input; still, cap it.
        SeqSerializer {
            items: Vec::with_capacity(len.min(4096)),
        }
    }

    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), TypedError> {
        let i = self.items.len();
        let d = value
            .serialize(ValueSerializer::default())
            .map_err(|e| e.at_index(i))?;
        self.items.push(d);
        Ok(())
    }

    fn push_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), TypedError> {
        let d = value
            .serialize(ValueSerializer::default())
            .map_err(|e| e.at_name(key))?;
        self.items.push(d);
        Ok(())
    }
}

impl ser::SerializeSeq for SeqSerializer {
    type Ok = Data;
    type Error = TypedError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), TypedError> {
        self.push(value)
    }
    fn end(self) -> Result<Data, TypedError> {
        Ok(Data::Vector(self.items))
    }
}

impl ser::SerializeTuple for SeqSerializer {
    type Ok = Data;
    type Error = TypedError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), TypedError> {
        self.push(value)
    }
    fn end(self) -> Result<Data, TypedError> {
        Ok(Data::Vector(self.items))
    }
}

impl ser::SerializeTupleStruct for SeqSerializer {
    type Ok = Data;
    type Error = TypedError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), TypedError> {
        self.push(value)
    }
    fn end(self) -> Result<Data, TypedError> {
        Ok(Data::Vector(self.items))
    }
}

impl ser::SerializeStruct for SeqSerializer {
    type Ok = Data;
    type Error = TypedError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), TypedError> {
        self.push_field(key, value)
    }
    fn end(self) -> Result<Data, TypedError> {
        Ok(Data::Vector(self.items))
    }
}

/// A tuple or struct variant: `(variant's enum value, (fields...))`.
pub(crate) struct VariantSerializer {
    variant: &'static str,
    fields: SeqSerializer,
}

impl VariantSerializer {
    fn end(self) -> Data {
        Data::Vector(vec![
            Data::Enum(self.variant.as_bytes().to_vec()),
            Data::Vector(self.fields.items),
        ])
    }
}

impl ser::SerializeTupleVariant for VariantSerializer {
    type Ok = Data;
    type Error = TypedError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), TypedError> {
        let variant = self.variant;
        self.fields.push(value).map_err(|e| e.at_name(variant))
    }
    fn end(self) -> Result<Data, TypedError> {
        Ok(VariantSerializer::end(self))
    }
}

impl ser::SerializeStructVariant for VariantSerializer {
    type Ok = Data;
    type Error = TypedError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), TypedError> {
        let variant = self.variant;
        self.fields
            .push_field(key, value)
            .map_err(|e| e.at_name(variant))
    }
    fn end(self) -> Result<Data, TypedError> {
        Ok(VariantSerializer::end(self))
    }
}

/// A table in the making.
pub(crate) struct MapSerializer {
    table: Table,
    key: Option<Data>,
}

impl ser::SerializeMap for MapSerializer {
    type Ok = Data;
    type Error = TypedError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), TypedError> {
        self.key = Some(key.serialize(ValueSerializer::default())?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), TypedError> {
        let key = self
            .key
            .take()
            .ok_or_else(|| TypedError::ser("a table value came without its key"))?;
        let value = value
            .serialize(ValueSerializer::default())
            .map_err(|e| e.at_key(&key))?;
        self.table.insert(key, value);
        Ok(())
    }
    fn end(self) -> Result<Data, TypedError> {
        Ok(Data::Table(self.table))
    }
}

/// Serializes an event's argument list: only what has fields or elements (a struct, a
/// tuple, a sequence), unit (no arguments) or a newtype struct (one argument) is one.
/// `Ok` is a vector of the arguments, or none for no arguments.
pub(crate) struct ArgsSerializer;

fn not_args(what: &str) -> TypedError {
    TypedError::ser(format!(
        "event arguments come from a struct, a tuple, a sequence or unit, not {what}"
    ))
}

macro_rules! reject {
    ($($method:ident($($arg:ty),*) => $what:literal;)*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<Data, TypedError> {
            Err(not_args($what))
        })*
    };
}

impl ser::Serializer for ArgsSerializer {
    type Ok = Data;
    type Error = TypedError;
    type SerializeSeq = SeqSerializer;
    type SerializeTuple = SeqSerializer;
    type SerializeTupleStruct = SeqSerializer;
    type SerializeTupleVariant = Impossible<Data, TypedError>;
    type SerializeMap = Impossible<Data, TypedError>;
    type SerializeStruct = SeqSerializer;
    type SerializeStructVariant = Impossible<Data, TypedError>;

    reject! {
        serialize_bool(bool) => "a bool";
        serialize_i8(i8) => "an integer";
        serialize_i16(i16) => "an integer";
        serialize_i32(i32) => "an integer";
        serialize_i64(i64) => "an integer";
        serialize_i128(i128) => "an integer";
        serialize_u8(u8) => "an integer";
        serialize_u16(u16) => "an integer";
        serialize_u32(u32) => "an integer";
        serialize_u64(u64) => "an integer";
        serialize_u128(u128) => "an integer";
        serialize_f32(f32) => "a float";
        serialize_f64(f64) => "a float";
        serialize_char(char) => "a char";
        serialize_str(&str) => "a string";
        serialize_bytes(&[u8]) => "bytes";
        serialize_none() => "an option";
        serialize_unit_variant(&'static str, u32, &'static str) => "an enum";
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<Data, TypedError> {
        Err(not_args("an option"))
    }
    fn serialize_unit(self) -> Result<Data, TypedError> {
        Ok(Data::None)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Data, TypedError> {
        Ok(Data::None)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<Data, TypedError> {
        let arg =
            ser::Serializer::serialize_newtype_struct(ValueSerializer::default(), name, value)
                .map_err(|e| e.at_index(0))?;
        Ok(Data::Vector(vec![arg]))
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<Data, TypedError> {
        Err(not_args("an enum"))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSerializer, TypedError> {
        ValueSerializer::default().serialize_seq(len)
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqSerializer, TypedError> {
        Ok(SeqSerializer::new(len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<SeqSerializer, TypedError> {
        Ok(SeqSerializer::new(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, TypedError> {
        Err(not_args("an enum"))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, TypedError> {
        Err(not_args("a map"))
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<SeqSerializer, TypedError> {
        Ok(SeqSerializer::new(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, TypedError> {
        Err(not_args("an enum"))
    }
}
