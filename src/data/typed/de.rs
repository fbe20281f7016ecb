//! The serde `Deserializer` over a borrowed [`Data`], and the one over an event's argument
//! list.
//!
//! Invariant: nothing here panics or allocates more than the input holds, whatever the
//! [`Data`]; every mismatch is a [`TypedError`] that gains its path on the way out.

use super::{TypedError, marker};
use crate::data::Data;
use serde::de::{self, DeserializeSeed, Visitor};

/// Deserializes from one borrowed value.
#[derive(Clone, Copy)]
pub(crate) struct ValueDeserializer<'de>(pub &'de Data);

macro_rules! count_into {
    ($($method:ident => $t:ty, $visit:ident;)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
            match self.0 {
                Data::Count(c) => match <$t>::try_from(*c) {
                    Ok(v) => visitor.$visit(v),
                    Err(_) => Err(TypedError::de(format!(
                        "count {c} does not fit in {}", stringify!($t)
                    ))),
                },
                other => Err(TypedError::mismatch("count", other)),
            }
        })*
    };
}

macro_rules! integer_into {
    ($($method:ident => $t:ty, $visit:ident;)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
            match self.0 {
                Data::Integer(i) => match <$t>::try_from(*i) {
                    Ok(v) => visitor.$visit(v),
                    Err(_) => Err(TypedError::de(format!(
                        "integer {i} does not fit in {}", stringify!($t)
                    ))),
                },
                other => Err(TypedError::mismatch("integer", other)),
            }
        })*
    };
}

impl<'de> ValueDeserializer<'de> {
    fn str(self) -> Result<&'de str, TypedError> {
        match self.0 {
            Data::String(s) => {
                std::str::from_utf8(s).map_err(|_| TypedError::de("the string is not UTF-8"))
            }
            other => Err(TypedError::mismatch("string", other)),
        }
    }

    fn vector(self, expected: &str) -> Result<&'de [Data], TypedError> {
        match self.0 {
            Data::Vector(v) => Ok(v),
            other => Err(TypedError::mismatch(expected, other)),
        }
    }

    /// The value inside marker newtype `name`, handed to `visitor` in its compact form.
    fn marker<V: Visitor<'de>>(self, name: &str, visitor: V) -> Result<V::Value, TypedError> {
        match (name, self.0) {
            (marker::ADDRESS, Data::Address(a)) => visitor.visit_borrowed_bytes(&a.0),
            (marker::SUBNET, Data::Subnet(s)) => {
                let mut b = [0u8; 17];
                b[..16].copy_from_slice(&s.network.0);
                b[16] = s.raw_len;
                visitor.visit_bytes(&b)
            }
            (marker::PORT, Data::Port(p)) => {
                let [hi, lo] = p.number.to_be_bytes();
                visitor.visit_bytes(&[hi, lo, p.protocol as u8])
            }
            (marker::TIMESTAMP, Data::Timestamp(t)) => visitor.visit_i64(t.0),
            (marker::TIMESPAN, Data::Timespan(t)) => visitor.visit_i64(t.0),
            (marker::ENUM_VALUE, Data::Enum(e)) => match std::str::from_utf8(e) {
                Ok(s) => visitor.visit_borrowed_str(s),
                Err(_) => Err(TypedError::de("the enum value's name is not UTF-8")),
            },
            (marker::SET, Data::Set(_)) => visitor.visit_newtype_struct(self),
            (marker::DATA, d) => match crate::data::bin::encode(d) {
                Ok(bytes) => visitor.visit_byte_buf(bytes),
                Err(e) => Err(TypedError::de(e.message)),
            },
            (marker::ADDRESS, other) => Err(TypedError::mismatch("address", other)),
            (marker::SUBNET, other) => Err(TypedError::mismatch("subnet", other)),
            (marker::PORT, other) => Err(TypedError::mismatch("port", other)),
            (marker::TIMESTAMP, other) => Err(TypedError::mismatch("timestamp", other)),
            (marker::TIMESPAN, other) => Err(TypedError::mismatch("timespan", other)),
            (marker::ENUM_VALUE, other) => Err(TypedError::mismatch("enum-value", other)),
            (marker::SET, other) => Err(TypedError::mismatch("set", other)),
            (_, _) => visitor.visit_newtype_struct(self),
        }
    }
}

impl<'de> de::Deserializer<'de> for ValueDeserializer<'de> {
    type Error = TypedError;

    /// For self-describing targets (`#[serde(untagged)]` enums, `serde_json::Value`):
    /// every value as its closest serde type, the Broker types other than the numbers as
    /// their text.
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        match self.0 {
            Data::None => visitor.visit_unit(),
            Data::Boolean(b) => visitor.visit_bool(*b),
            Data::Count(c) => visitor.visit_u64(*c),
            Data::Integer(i) => visitor.visit_i64(*i),
            Data::Real(r) => visitor.visit_f64(*r),
            Data::String(s) => match std::str::from_utf8(s) {
                Ok(s) => visitor.visit_borrowed_str(s),
                Err(_) => visitor.visit_borrowed_bytes(s),
            },
            Data::Address(a) => visitor.visit_string(a.to_string()),
            Data::Subnet(s) => visitor.visit_string(s.to_string()),
            Data::Port(p) => visitor.visit_string(p.to_string()),
            Data::Timestamp(t) => visitor.visit_i64(t.0),
            Data::Timespan(t) => visitor.visit_i64(t.0),
            Data::Enum(e) => match std::str::from_utf8(e) {
                Ok(s) => visitor.visit_borrowed_str(s),
                Err(_) => visitor.visit_borrowed_bytes(e),
            },
            Data::Set(s) => visit_elements(s.iter(), None, visitor),
            Data::Table(t) => visitor.visit_map(TableAccess {
                entries: t.iter(),
                pending: None,
            }),
            Data::Vector(v) => visit_elements(v.iter(), None, visitor),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        match self.0 {
            Data::Boolean(b) => visitor.visit_bool(*b),
            other => Err(TypedError::mismatch("boolean", other)),
        }
    }

    count_into! {
        deserialize_u8 => u8, visit_u8;
        deserialize_u16 => u16, visit_u16;
        deserialize_u32 => u32, visit_u32;
        deserialize_u64 => u64, visit_u64;
        deserialize_u128 => u128, visit_u128;
    }

    integer_into! {
        deserialize_i8 => i8, visit_i8;
        deserialize_i16 => i16, visit_i16;
        deserialize_i32 => i32, visit_i32;
        deserialize_i64 => i64, visit_i64;
        deserialize_i128 => i128, visit_i128;
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        match self.0 {
            Data::Real(r) => visitor.visit_f32(*r as f32),
            other => Err(TypedError::mismatch("real", other)),
        }
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        match self.0 {
            Data::Real(r) => visitor.visit_f64(*r),
            other => Err(TypedError::mismatch("real", other)),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        let s = self.str()?;
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => visitor.visit_char(c),
            _ => Err(TypedError::de(format!(
                "expected a string of one character, found {} characters",
                s.chars().count()
            ))),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        visitor.visit_borrowed_str(self.str()?)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        match self.0 {
            Data::String(s) => visitor.visit_borrowed_bytes(s),
            other => Err(TypedError::mismatch("string", other)),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        match self.0 {
            Data::None => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        match self.0 {
            Data::None => visitor.visit_unit(),
            other => Err(TypedError::mismatch("none", other)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, TypedError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, TypedError> {
        self.marker(name, visitor)
    }

    /// A vector or a set: serde's sequences cover both `Vec` and `BTreeSet`.
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        match self.0 {
            Data::Vector(v) => visit_elements(v.iter(), None, visitor),
            Data::Set(s) => visit_elements(s.iter(), None, visitor),
            other => Err(TypedError::mismatch("vector or set", other)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, TypedError> {
        let v = self.vector(&format!("vector (a tuple of {len})"))?;
        visit_exactly(v, len, "tuple", visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, TypedError> {
        let v = self.vector(&format!("vector (record {name})"))?;
        visit_exactly(v, len, name, visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        match self.0 {
            Data::Table(t) => visitor.visit_map(TableAccess {
                entries: t.iter(),
                pending: None,
            }),
            other => Err(TypedError::mismatch("table", other)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TypedError> {
        let v = self.vector(&format!("vector (record {name})"))?;
        visit_record(v, name, fields, visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TypedError> {
        let (label, payload) = match self.0 {
            Data::Enum(e) => (e, None),
            Data::Vector(v) => match v.as_slice() {
                [Data::Enum(e), payload] => (e, Some(payload)),
                _ => {
                    return Err(TypedError::de(format!(
                        "expected enum-value or (enum-value, payload) for {name}, found a vector \
                         of {} elements",
                        v.len()
                    )));
                }
            },
            other => {
                return Err(TypedError::mismatch(
                    &format!("enum-value (variant of {name})"),
                    other,
                ));
            }
        };
        let label = std::str::from_utf8(label)
            .map_err(|_| TypedError::de("the enum value's name is not UTF-8"))?;
        visitor.visit_enum(EnumAccess { label, payload })
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        match self.0 {
            Data::Enum(_) | Data::String(_) => self.deserialize_any(visitor),
            Data::Count(c) => visitor.visit_u64(*c),
            other => Err(TypedError::mismatch("string or enum-value", other)),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        visitor.visit_unit()
    }
}

/// Hands `elements` to `visitor` as a sequence; an element's error gets its field name
/// (`names`) or its index. Elements the visitor leaves are an error: a record or tuple
/// takes exactly its length.
fn visit_elements<'de, I, V>(
    elements: I,
    names: Option<&'static [&'static str]>,
    visitor: V,
) -> Result<V::Value, TypedError>
where
    I: ExactSizeIterator<Item = &'de Data>,
    V: Visitor<'de>,
{
    let len = elements.len();
    let mut access = Elements {
        elements,
        names,
        index: 0,
    };
    let value = visitor.visit_seq(&mut access)?;
    if access.elements.len() > 0 {
        return Err(TypedError::de(format!(
            "expected {} elements, found {len}",
            access.index
        )));
    }
    Ok(value)
}

fn visit_exactly<'de, V: Visitor<'de>>(
    v: &'de [Data],
    len: usize,
    what: &str,
    visitor: V,
) -> Result<V::Value, TypedError> {
    if v.len() != len {
        return Err(TypedError::de(format!(
            "expected a vector of {len} elements ({what}), found {}",
            v.len()
        )));
    }
    visit_elements(v.iter(), None, visitor)
}

fn visit_record<'de, V: Visitor<'de>>(
    v: &'de [Data],
    name: &str,
    fields: &'static [&'static str],
    visitor: V,
) -> Result<V::Value, TypedError> {
    if v.len() > fields.len() {
        return Err(TypedError::de(format!(
            "record {name} has {} fields, found a vector of {}",
            fields.len(),
            v.len()
        )));
    }
    visit_elements(v.iter(), Some(fields), visitor)
}

struct Elements<I> {
    elements: I,
    names: Option<&'static [&'static str]>,
    index: usize,
}

impl<'de, I: ExactSizeIterator<Item = &'de Data>> de::SeqAccess<'de> for Elements<I> {
    type Error = TypedError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, TypedError> {
        let Some(d) = self.elements.next() else {
            return Ok(None);
        };
        let i = self.index;
        self.index += 1;
        seed.deserialize(ValueDeserializer(d))
            .map(Some)
            .map_err(|e| match self.names.and_then(|n| n.get(i)) {
                Some(name) => e.at_name(name),
                None => e.at_index(i),
            })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.elements.len())
    }
}

/// A table's entries; `pending` is the entry whose key was just read.
struct TableAccess<'de, I> {
    entries: I,
    pending: Option<(&'de Data, &'de Data)>,
}

impl<'de, I> de::MapAccess<'de> for TableAccess<'de, I>
where
    I: ExactSizeIterator<Item = (&'de Data, &'de Data)>,
{
    type Error = TypedError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, TypedError> {
        let Some((k, v)) = self.entries.next() else {
            return Ok(None);
        };
        self.pending = Some((k, v));
        seed.deserialize(ValueDeserializer(k))
            .map(Some)
            .map_err(|e| e.in_key().at_key(k))
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<T::Value, TypedError> {
        let (k, v) = self
            .pending
            .take()
            .ok_or_else(|| TypedError::de("a table value was asked for before its key"))?;
        seed.deserialize(ValueDeserializer(v))
            .map_err(|e| e.at_key(k))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// A unit variant, or one with its payload.
struct EnumAccess<'de> {
    label: &'de str,
    payload: Option<&'de Data>,
}

impl<'de> de::EnumAccess<'de> for EnumAccess<'de> {
    type Error = TypedError;
    type Variant = VariantAccess<'de>;

    fn variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<(T::Value, VariantAccess<'de>), TypedError> {
        let label = de::value::BorrowedStrDeserializer::<TypedError>::new(self.label);
        let v = seed.deserialize(label)?;
        Ok((
            v,
            VariantAccess {
                label: self.label,
                payload: self.payload,
            },
        ))
    }
}

struct VariantAccess<'de> {
    label: &'de str,
    payload: Option<&'de Data>,
}

impl<'de> VariantAccess<'de> {
    fn payload(&self) -> Result<ValueDeserializer<'de>, TypedError> {
        self.payload.map(ValueDeserializer).ok_or_else(|| {
            TypedError::de(format!(
                "variant {} carries a value: expected (enum-value, payload), found enum-value",
                self.label
            ))
        })
    }
}

impl<'de> de::VariantAccess<'de> for VariantAccess<'de> {
    type Error = TypedError;

    fn unit_variant(self) -> Result<(), TypedError> {
        match self.payload {
            None => Ok(()),
            Some(_) => Err(TypedError::de(format!(
                "variant {} carries no value: expected enum-value, found a vector",
                self.label
            ))),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, TypedError> {
        let d = self.payload()?;
        seed.deserialize(d).map_err(|e| e.at_name(self.label))
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, TypedError> {
        let d = self.payload()?;
        de::Deserializer::deserialize_tuple(d, len, visitor).map_err(|e| e.at_name(self.label))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TypedError> {
        let d = self.payload()?;
        de::Deserializer::deserialize_struct(d, "variant", fields, visitor)
            .map_err(|e| e.at_name(self.label))
    }
}

/// Deserializes an event's argument list: as a record (a struct's fields in order), a
/// tuple, a sequence, unit (no arguments) or a newtype struct (one argument).
#[derive(Clone, Copy)]
pub(crate) struct ArgsDeserializer<'de>(pub &'de [Data]);

impl<'de> de::Deserializer<'de> for ArgsDeserializer<'de> {
    type Error = TypedError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        visit_elements(self.0.iter(), None, visitor)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        match self.0.len() {
            0 => visitor.visit_unit(),
            n => Err(TypedError::de(format!("expected no arguments, found {n}"))),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, TypedError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, TypedError> {
        match self.0 {
            [arg] => ValueDeserializer(arg)
                .deserialize_newtype_struct(name, visitor)
                .map_err(|e| e.at_index(0)),
            args => Err(TypedError::de(format!(
                "expected 1 argument ({name}), found {}",
                args.len()
            ))),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, TypedError> {
        if self.0.len() != len {
            return Err(TypedError::de(format!(
                "expected {len} arguments, found {}",
                self.0.len()
            )));
        }
        visit_elements(self.0.iter(), None, visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, TypedError> {
        self.deserialize_tuple(len, visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TypedError> {
        if self.0.len() > fields.len() {
            return Err(TypedError::de(format!(
                "expected {} arguments, found {}",
                fields.len(),
                self.0.len()
            )));
        }
        visit_elements(self.0.iter(), Some(fields), visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option seq map enum identifier ignored_any
    }
}
