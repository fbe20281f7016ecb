//! serde for Broker's own types: each goes through a marker newtype that the [`Data`]
//! serializer and deserializer recognise, and that other formats see as its text (in
//! human-readable formats) or its bytes (in compact ones).
//!
//! [`Data`]: crate::data::Data

use super::marker;
use crate::data::{Address, Data, Port, Protocol, Subnet, Timespan, Timestamp, text};
use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::marker::PhantomData;

/// A Broker enum value: the name of a Zeek enumerator, such as `Conn::LOG` or
/// `Notice::ACTION_LOG`. For a closed set of names, a Rust enum of unit variants
/// (`#[serde(rename = "Conn::LOG")]`) does the same with the compiler's checks.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EnumValue(pub String);

impl EnumValue {
    pub fn new(name: impl Into<String>) -> EnumValue {
        EnumValue(name.into())
    }
}

impl fmt::Display for EnumValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<EnumValue> for Data {
    fn from(e: EnumValue) -> Data {
        Data::Enum(e.0.into_bytes())
    }
}

/// A collection sent as a Broker set (serde alone makes every collection a vector): wrap a
/// `BTreeSet`, a `HashSet` or any collection, as in `AsSet(hosts)`. Reading one insists on a
/// Broker set. For a struct's field, `#[serde(with = "brook::data::typed::as_set")]` does
/// the same without the wrapper.
///
/// ```
/// use brook::data::typed::AsSet;
/// use brook::Data;
/// use std::collections::BTreeSet;
///
/// let ports = AsSet(BTreeSet::from([80u64, 443]));
/// let d = brook::to_data(&ports)?;
/// assert_eq!(d, Data::Set([Data::Count(80), Data::Count(443)].into()));
/// assert_eq!(brook::from_data::<AsSet<BTreeSet<u64>>>(&d)?, ports);
/// # Ok::<(), brook::TypedError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AsSet<C>(pub C);

/// Serializes and deserializes a collection field as a Broker set:
/// `#[serde(with = "brook::data::typed::as_set")]` on a `BTreeSet`, a `HashSet` or any
/// collection that iterates by reference and collects (see [`AsSet`]).
pub mod as_set {
    use super::*;

    pub fn serialize<'a, C, T, S>(collection: &'a C, serializer: S) -> Result<S::Ok, S::Error>
    where
        &'a C: IntoIterator<Item = &'a T>,
        T: Serialize + 'a,
        S: Serializer,
    {
        serializer.serialize_newtype_struct(marker::SET, &Elements(collection))
    }

    pub fn deserialize<'de, C, D>(deserializer: D) -> Result<C, D::Error>
    where
        C: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        deserializer.deserialize_newtype_struct(marker::SET, SetVisitor(PhantomData))
    }
}

/// A collection serialized as a sequence.
struct Elements<'a, C>(&'a C);

impl<'a, C, T> Serialize for Elements<'a, C>
where
    &'a C: IntoIterator<Item = &'a T>,
    T: Serialize + 'a,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0)
    }
}

struct SetVisitor<C>(PhantomData<C>);

impl<'de, C: Deserialize<'de>> Visitor<'de> for SetVisitor<C> {
    type Value = C;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a set")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<C, D::Error> {
        C::deserialize(d)
    }
}

impl<C, T> Serialize for AsSet<C>
where
    for<'a> &'a C: IntoIterator<Item = &'a T>,
    T: Serialize,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        as_set::serialize(&self.0, serializer)
    }
}

impl<'de, C: Deserialize<'de>> Deserialize<'de> for AsSet<C> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        as_set::deserialize(deserializer).map(AsSet)
    }
}

/// The types that are text in human-readable formats and bytes in compact ones (and in
/// the [`Data`] serializer, which takes them from the marker exactly).
trait TextOrBytes: Sized + fmt::Display {
    const MARKER: &'static str;
    const EXPECTING: &'static str;
    fn write_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R;
    fn from_bytes(b: &[u8]) -> Option<Self>;
    fn from_text(s: &str) -> Option<Self>;
}

impl TextOrBytes for Address {
    const MARKER: &'static str = marker::ADDRESS;
    const EXPECTING: &'static str = "an address";
    fn write_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        f(&self.0)
    }
    fn from_bytes(b: &[u8]) -> Option<Address> {
        match b.len() {
            4 => Some(std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).into()),
            _ => <[u8; 16]>::try_from(b).ok().map(Address),
        }
    }
    fn from_text(s: &str) -> Option<Address> {
        s.parse::<std::net::IpAddr>().ok().map(Address::from)
    }
}

impl TextOrBytes for Subnet {
    const MARKER: &'static str = marker::SUBNET;
    const EXPECTING: &'static str = "a subnet";
    /// The network's 16 bytes, then Broker's raw prefix length: exact, even for a subnet
    /// that a peer sent unmasked.
    fn write_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        let mut b = [0u8; 17];
        b[..16].copy_from_slice(&self.network.0);
        b[16] = self.raw_len;
        f(&b)
    }
    fn from_bytes(b: &[u8]) -> Option<Subnet> {
        let (network, raw_len) = b.split_first_chunk::<16>()?;
        match raw_len {
            [raw_len] => Some(Subnet {
                network: Address(*network),
                raw_len: *raw_len,
            }),
            _ => None,
        }
    }
    fn from_text(s: &str) -> Option<Subnet> {
        text::parse_subnet(s)
    }
}

impl TextOrBytes for Port {
    const MARKER: &'static str = marker::PORT;
    const EXPECTING: &'static str = "a port";
    /// The number (big-endian), then the protocol's wire value.
    fn write_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        let [hi, lo] = self.number.to_be_bytes();
        f(&[hi, lo, self.protocol as u8])
    }
    fn from_bytes(b: &[u8]) -> Option<Port> {
        match b {
            [hi, lo, p] => Some(Port::new(
                u16::from_be_bytes([*hi, *lo]),
                Protocol::from_u8(*p)?,
            )),
            _ => None,
        }
    }
    fn from_text(s: &str) -> Option<Port> {
        text::parse_port(s)
    }
}

/// The inside of a [`TextOrBytes`] marker.
struct Repr<'a, T>(&'a T);

impl<T: TextOrBytes> Serialize for Repr<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.collect_str(self.0)
        } else {
            self.0.write_bytes(|b| serializer.serialize_bytes(b))
        }
    }
}

struct TextOrBytesVisitor<T>(PhantomData<T>);

impl<'de, T: TextOrBytes> Visitor<'de> for TextOrBytesVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        if d.is_human_readable() {
            d.deserialize_str(self)
        } else {
            d.deserialize_bytes(self)
        }
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<T, E> {
        T::from_text(s).ok_or_else(|| E::invalid_value(de::Unexpected::Str(s), &self))
    }

    fn visit_bytes<E: de::Error>(self, b: &[u8]) -> Result<T, E> {
        T::from_bytes(b).ok_or_else(|| E::invalid_value(de::Unexpected::Bytes(b), &self))
    }
}

macro_rules! text_or_bytes {
    ($($t:ty),*) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_newtype_struct(<$t as TextOrBytes>::MARKER, &Repr(self))
            }
        }

        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_newtype_struct(
                    <$t as TextOrBytes>::MARKER,
                    TextOrBytesVisitor(PhantomData),
                )
            }
        }
    )*};
}

text_or_bytes!(Address, Subnet, Port);

/// Nanoseconds, as serde's `i64` everywhere; what they are comes from the marker.
struct NanosVisitor(&'static str);

impl<'de> Visitor<'de> for NanosVisitor {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} in nanoseconds", self.0)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<i64, D::Error> {
        d.deserialize_i64(self)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }
}

macro_rules! nanos {
    ($($t:ident => $marker:expr, $what:literal;)*) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_newtype_struct($marker, &self.0)
            }
        }

        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer
                    .deserialize_newtype_struct($marker, NanosVisitor($what))
                    .map($t)
            }
        }
    )*};
}

nanos! {
    Timestamp => marker::TIMESTAMP, "timestamp";
    Timespan => marker::TIMESPAN, "timespan";
}

impl Serialize for EnumValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_newtype_struct(marker::ENUM_VALUE, self.0.as_str())
    }
}

struct EnumValueVisitor;

impl<'de> Visitor<'de> for EnumValueVisitor {
    type Value = EnumValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an enum value's name")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<EnumValue, D::Error> {
        d.deserialize_string(self)
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<EnumValue, E> {
        Ok(EnumValue(s.to_string()))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<EnumValue, E> {
        Ok(EnumValue(s))
    }
}

impl<'de> Deserialize<'de> for EnumValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_newtype_struct(marker::ENUM_VALUE, EnumValueVisitor)
    }
}

/// Any value, for a field whose Broker type varies (Zeek's `any`) or that is left untyped:
/// exact through the [`Data`] serializer and deserializer (which pass it in Broker's
/// binary format under a marker), and in other formats its closest serde value: a count is
/// a `u64`, a string a `str`, a vector a sequence, a table a map, an address its text.
impl Serialize for Data {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_newtype_struct(marker::DATA, &Natural(self))
    }
}

/// The inside of a [`Data`]'s marker: Broker's binary format in compact formats, the
/// closest serde value in human-readable ones.
struct Natural<'a>(&'a Data);

impl Serialize for Natural<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if !serializer.is_human_readable() {
            let bytes = crate::data::bin::encode(self.0).map_err(serde::ser::Error::custom)?;
            return serializer.serialize_bytes(&bytes);
        }
        match self.0 {
            Data::None => serializer.serialize_unit(),
            Data::Boolean(b) => serializer.serialize_bool(*b),
            Data::Count(c) => serializer.serialize_u64(*c),
            Data::Integer(i) => serializer.serialize_i64(*i),
            Data::Real(r) => serializer.serialize_f64(*r),
            Data::String(s) => match std::str::from_utf8(s) {
                Ok(s) => serializer.serialize_str(s),
                Err(_) => serializer.serialize_bytes(s),
            },
            Data::Address(a) => a.serialize(serializer),
            Data::Subnet(s) => s.serialize(serializer),
            Data::Port(p) => p.serialize(serializer),
            Data::Timestamp(t) => t.serialize(serializer),
            Data::Timespan(t) => t.serialize(serializer),
            Data::Enum(e) => match std::str::from_utf8(e) {
                Ok(s) => serializer.serialize_str(s),
                Err(_) => serializer.serialize_bytes(e),
            },
            Data::Set(s) => serializer.collect_seq(s.iter().map(Natural)),
            Data::Table(t) => {
                serializer.collect_map(t.iter().map(|(k, v)| (Natural(k), Natural(v))))
            }
            Data::Vector(v) => serializer.collect_seq(v.iter().map(Natural)),
        }
    }
}

impl<'de> Deserialize<'de> for Data {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_newtype_struct(marker::DATA, DataVisitor)
    }
}

/// A [`Data`] under its marker: from Broker's binary format, which the [`Data`]
/// deserializer hands over as bytes, or from whatever another format has.
struct DataVisitor;

impl<'de> Visitor<'de> for DataVisitor {
    type Value = Data;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Broker value")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Data, D::Error> {
        if d.is_human_readable() {
            d.deserialize_any(NaturalVisitor)
        } else {
            d.deserialize_bytes(self)
        }
    }

    fn visit_bytes<E: de::Error>(self, b: &[u8]) -> Result<Data, E> {
        crate::data::bin::decode(b).map_err(E::custom)
    }
}

/// A [`Data`] from the closest serde value, as [`Natural`] writes it (the Broker types
/// other than counts, integers, reals, strings, vectors and tables come back as what
/// they were written as: text, nanoseconds).
struct NaturalVisitor;

impl<'de> Visitor<'de> for NaturalVisitor {
    type Value = Data;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Data, E> {
        Ok(Data::Boolean(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Data, E> {
        Ok(Data::Integer(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Data, E> {
        Ok(Data::Count(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Data, E> {
        Ok(Data::Real(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Data, E> {
        Ok(Data::string(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Data, E> {
        Ok(Data::String(v.to_vec()))
    }
    fn visit_unit<E>(self) -> Result<Data, E> {
        Ok(Data::None)
    }
    fn visit_none<E>(self) -> Result<Data, E> {
        Ok(Data::None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Data, D::Error> {
        Data::deserialize(d)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Data, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(d) = seq.next_element::<Data>()? {
            out.push(d);
        }
        Ok(Data::Vector(out))
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Data, A::Error> {
        let mut out = crate::data::Table::new();
        while let Some((k, v)) = map.next_entry::<Data, Data>()? {
            out.insert(k, v);
        }
        Ok(Data::Table(out))
    }
}
