//! Broker's data model: one value type, [`Data`], with every Broker type.
//!
//! Invariants:
//! - `Ord` is Broker's total order (spec §5.4): by type tag first, then by value. Sets and
//!   tables are `BTreeSet`/`BTreeMap`, so they iterate (and encode) in Broker's order.
//! - Reals compare by IEEE `<`, so `0.0 == -0.0` as in Broker's ordered containers. Broker
//!   has no consistent order for NaN; brook makes every NaN equal to every other NaN and
//!   greater than every number, so `Eq`, `Ord` and `Hash` stay lawful.
//! - Strings and enum names are byte strings: Broker never checks their encoding.
//!
//! No I/O happens here; codecs live in [`bin`], [`json`] and [`text`], and [`typed`]
//! converts between Rust types and `Data` through serde.

pub mod bin;
pub mod json;
pub mod text;
pub mod typed;
pub mod zeek;
pub mod zeek_log;

pub use typed::{EnumValue, TypedError, from_data, to_data};

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A set of data values, in Broker's order.
pub type Set = BTreeSet<Data>;
/// A table from data to data, in Broker's key order.
pub type Table = BTreeMap<Data, Data>;
/// A vector (Broker also calls it a list).
pub type Vector = Vec<Data>;

/// A Broker data value.
#[derive(Clone, Debug, Default)]
pub enum Data {
    /// `nil`.
    #[default]
    None,
    Boolean(bool),
    /// Unsigned 64-bit count.
    Count(u64),
    /// Signed 64-bit integer.
    Integer(i64),
    Real(f64),
    /// A byte string (not necessarily UTF-8).
    String(Vec<u8>),
    Address(Address),
    Subnet(Subnet),
    Port(Port),
    Timestamp(Timestamp),
    Timespan(Timespan),
    /// An enum value: only the enumerator's name travels.
    Enum(Vec<u8>),
    Set(Set),
    Table(Table),
    Vector(Vector),
}

/// The type of a [`Data`] value; the discriminant is the bin-v1 type tag.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DataType {
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

impl DataType {
    /// The type for a bin-v1 tag, or `None` for tags 15 and above.
    pub fn from_tag(tag: u8) -> Option<DataType> {
        use DataType::*;
        Some(match tag {
            0 => None,
            1 => Boolean,
            2 => Count,
            3 => Integer,
            4 => Real,
            5 => String,
            6 => Address,
            7 => Subnet,
            8 => Port,
            9 => Timestamp,
            10 => Timespan,
            11 => Enum,
            12 => Set,
            13 => Table,
            14 => Vector,
            _ => return Option::None,
        })
    }

    /// Broker's name for the type, as used in its JSON (`"enum-value"`, `"timespan"`, ...).
    pub fn name(self) -> &'static str {
        use DataType::*;
        match self {
            None => "none",
            Boolean => "boolean",
            Count => "count",
            Integer => "integer",
            Real => "real",
            String => "string",
            Address => "address",
            Subnet => "subnet",
            Port => "port",
            Timestamp => "timestamp",
            Timespan => "timespan",
            Enum => "enum-value",
            Set => "set",
            Table => "table",
            Vector => "vector",
        }
    }

    /// The inverse of [`DataType::name`].
    pub fn from_name(name: &[u8]) -> Option<DataType> {
        (0..15)
            .filter_map(DataType::from_tag)
            .find(|t| t.name().as_bytes() == name)
    }
}

impl Data {
    /// The value's type.
    pub fn data_type(&self) -> DataType {
        match self {
            Data::None => DataType::None,
            Data::Boolean(_) => DataType::Boolean,
            Data::Count(_) => DataType::Count,
            Data::Integer(_) => DataType::Integer,
            Data::Real(_) => DataType::Real,
            Data::String(_) => DataType::String,
            Data::Address(_) => DataType::Address,
            Data::Subnet(_) => DataType::Subnet,
            Data::Port(_) => DataType::Port,
            Data::Timestamp(_) => DataType::Timestamp,
            Data::Timespan(_) => DataType::Timespan,
            Data::Enum(_) => DataType::Enum,
            Data::Set(_) => DataType::Set,
            Data::Table(_) => DataType::Table,
            Data::Vector(_) => DataType::Vector,
        }
    }

    /// A string value from anything byte-like.
    pub fn string(s: impl Into<Vec<u8>>) -> Data {
        Data::String(s.into())
    }

    /// An enum value with the given name.
    pub fn enum_value(name: impl Into<Vec<u8>>) -> Data {
        Data::Enum(name.into())
    }

    /// The vector's elements, if this is a vector.
    pub fn as_vector(&self) -> Option<&Vector> {
        match self {
            Data::Vector(v) => Some(v),
            _ => None,
        }
    }

    /// The string's bytes, if this is a string.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Data::String(s) => Some(s),
            _ => None,
        }
    }
}

fn cmp_real(a: f64, b: f64) -> Ordering {
    match a.partial_cmp(&b) {
        Some(o) => o,
        None => a.is_nan().cmp(&b.is_nan()),
    }
}

impl Ord for Data {
    fn cmp(&self, other: &Data) -> Ordering {
        use Data::*;
        match (self, other) {
            (None, None) => Ordering::Equal,
            (Boolean(a), Boolean(b)) => a.cmp(b),
            (Count(a), Count(b)) => a.cmp(b),
            (Integer(a), Integer(b)) => a.cmp(b),
            (Real(a), Real(b)) => cmp_real(*a, *b),
            (String(a), String(b)) | (Enum(a), Enum(b)) => a.cmp(b),
            (Address(a), Address(b)) => a.cmp(b),
            (Subnet(a), Subnet(b)) => a.cmp(b),
            (Port(a), Port(b)) => a.cmp(b),
            (Timestamp(a), Timestamp(b)) => a.cmp(b),
            (Timespan(a), Timespan(b)) => a.cmp(b),
            (Set(a), Set(b)) => a.iter().cmp(b.iter()),
            (Table(a), Table(b)) => a.iter().cmp(b.iter()),
            (Vector(a), Vector(b)) => a.cmp(b),
            _ => self.data_type().cmp(&other.data_type()),
        }
    }
}

impl PartialOrd for Data {
    fn partial_cmp(&self, other: &Data) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Data {
    fn eq(&self, other: &Data) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Data {}

impl Hash for Data {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u8(self.data_type() as u8);
        match self {
            Data::None => {}
            Data::Boolean(b) => b.hash(state),
            Data::Count(c) => c.hash(state),
            Data::Integer(i) => i.hash(state),
            // Equal reals must hash alike: 0.0 == -0.0, and all NaNs are equal.
            Data::Real(r) => {
                let bits = if *r == 0.0 {
                    0
                } else if r.is_nan() {
                    u64::MAX
                } else {
                    r.to_bits()
                };
                bits.hash(state)
            }
            Data::String(s) | Data::Enum(s) => s.hash(state),
            Data::Address(a) => a.hash(state),
            Data::Subnet(s) => s.hash(state),
            Data::Port(p) => p.hash(state),
            Data::Timestamp(t) => t.hash(state),
            Data::Timespan(t) => t.hash(state),
            Data::Set(s) => {
                state.write_usize(s.len());
                s.iter().for_each(|d| d.hash(state))
            }
            Data::Table(t) => {
                state.write_usize(t.len());
                t.iter().for_each(|kv| kv.hash(state))
            }
            Data::Vector(v) => v.hash(state),
        }
    }
}

macro_rules! data_from {
    ($($t:ty => $v:expr),* $(,)?) => {
        $(impl From<$t> for Data {
            fn from(x: $t) -> Data {
                #[allow(clippy::redundant_closure_call)]
                ($v)(x)
            }
        })*
    };
}

data_from! {
    bool => Data::Boolean,
    u64 => Data::Count,
    i64 => Data::Integer,
    f64 => Data::Real,
    &str => |s: &str| Data::String(s.as_bytes().to_vec()),
    String => |s: String| Data::String(s.into_bytes()),
    Address => Data::Address,
    IpAddr => |a: IpAddr| Data::Address(a.into()),
    Ipv4Addr => |a: Ipv4Addr| Data::Address(a.into()),
    Ipv6Addr => |a: Ipv6Addr| Data::Address(a.into()),
    Subnet => Data::Subnet,
    Port => Data::Port,
    Timestamp => Data::Timestamp,
    Timespan => Data::Timespan,
    Set => Data::Set,
    Table => Data::Table,
    Vector => Data::Vector,
}

/// An IPv4 or IPv6 address, stored as 16 bytes in network order; IPv4 is v4-mapped IPv6.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Address(pub [u8; 16]);

const V4_MAPPED_PREFIX: [u8; 12] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

impl Address {
    /// True for v4-mapped addresses (`::ffff:a.b.c.d`), which Broker treats as IPv4.
    pub fn is_v4(&self) -> bool {
        self.0[..12] == V4_MAPPED_PREFIX
    }

    /// The standard-library form: `IpAddr::V4` for v4-mapped addresses.
    pub fn to_ip(&self) -> IpAddr {
        if self.is_v4() {
            IpAddr::V4(Ipv4Addr::new(
                self.0[12], self.0[13], self.0[14], self.0[15],
            ))
        } else {
            IpAddr::V6(Ipv6Addr::from(self.0))
        }
    }

    /// Keeps the first `bits` bits and zeroes the rest.
    pub fn masked(&self, bits: u32) -> Address {
        let mut out = self.0;
        for (i, byte) in out.iter_mut().enumerate() {
            let start = i as u32 * 8;
            if start >= bits {
                *byte = 0;
            } else if bits - start < 8 {
                *byte &= 0xffu8 << (8 - (bits - start));
            }
        }
        Address(out)
    }
}

impl From<Ipv4Addr> for Address {
    fn from(a: Ipv4Addr) -> Address {
        let mut b = [0u8; 16];
        b[..12].copy_from_slice(&V4_MAPPED_PREFIX);
        b[12..].copy_from_slice(&a.octets());
        Address(b)
    }
}

impl From<Ipv6Addr> for Address {
    fn from(a: Ipv6Addr) -> Address {
        Address(a.octets())
    }
}

impl From<IpAddr> for Address {
    fn from(a: IpAddr) -> Address {
        match a {
            IpAddr::V4(v4) => v4.into(),
            IpAddr::V6(v6) => v6.into(),
        }
    }
}

impl fmt::Display for Address {
    /// Broker's rendering: dotted quad for v4-mapped, otherwise RFC 5952 IPv6 text
    /// (the first longest run of two or more zero groups becomes `::`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_v4() {
            let o = &self.0[12..];
            return write!(f, "{}.{}.{}.{}", o[0], o[1], o[2], o[3]);
        }
        let groups: Vec<u16> = self
            .0
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        let (mut best, mut best_len, mut run, mut run_len) = (0, 0, 0, 0);
        for (i, g) in groups.iter().enumerate() {
            if *g == 0 {
                if run_len == 0 {
                    run = i;
                }
                run_len += 1;
                if run_len > best_len {
                    best = run;
                    best_len = run_len;
                }
            } else {
                run_len = 0;
            }
        }
        let write_groups = |f: &mut fmt::Formatter<'_>, gs: &[u16]| -> fmt::Result {
            for (i, g) in gs.iter().enumerate() {
                if i > 0 {
                    f.write_str(":")?;
                }
                write!(f, "{g:x}")?;
            }
            Ok(())
        };
        if best_len < 2 {
            return write_groups(f, &groups);
        }
        write_groups(f, &groups[..best])?;
        f.write_str("::")?;
        write_groups(f, &groups[best + best_len..])
    }
}

/// A subnet: a network address and Broker's raw prefix length (the IPv6-relative length:
/// prefix + 96 for IPv4).
///
/// [`Subnet::new`] masks and validates as Broker's constructor does; the fields are public
/// because a decoded subnet keeps whatever the sender wrote (Broker does not check).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Subnet {
    pub network: Address,
    pub raw_len: u8,
}

impl Subnet {
    /// Broker's constructor: masks the address to the prefix. A prefix beyond 32 (IPv4) or
    /// 128 (IPv6) gives `::/0`, as in Broker.
    pub fn new(addr: Address, prefix: u8) -> Subnet {
        let (max, offset) = if addr.is_v4() { (32, 96) } else { (128, 0) };
        if prefix > max {
            return Subnet::default();
        }
        let raw_len = prefix + offset;
        Subnet {
            network: addr.masked(raw_len as u32),
            raw_len,
        }
    }

    /// Like [`Subnet::new`], but an out-of-range prefix is an error instead of `::/0`.
    pub fn checked(addr: Address, prefix: u8) -> Option<Subnet> {
        let max = if addr.is_v4() { 32 } else { 128 };
        (prefix <= max).then(|| Subnet::new(addr, prefix))
    }

    /// The prefix length as written after the slash (IPv4 lengths without the +96).
    pub fn prefix_len(&self) -> u8 {
        if self.network.is_v4() {
            self.raw_len.wrapping_sub(96)
        } else {
            self.raw_len
        }
    }

    /// True if `addr` lies inside this subnet.
    pub fn contains(&self, addr: &Address) -> bool {
        addr.masked(self.raw_len as u32) == self.network.masked(self.raw_len as u32)
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix_len())
    }
}

/// A transport protocol of a [`Port`]; the discriminant is the wire value.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Protocol {
    #[default]
    Unknown = 0,
    Tcp = 1,
    Udp = 2,
    Icmp = 3,
}

impl Protocol {
    /// The protocol for a wire value; values above 3 are invalid.
    pub fn from_u8(v: u8) -> Option<Protocol> {
        Some(match v {
            0 => Protocol::Unknown,
            1 => Protocol::Tcp,
            2 => Protocol::Udp,
            3 => Protocol::Icmp,
            _ => return None,
        })
    }

    /// `tcp`, `udp`, `icmp` or `?`.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Unknown => "?",
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Icmp => "icmp",
        }
    }
}

/// A port number with its protocol, e.g. `80/tcp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Port {
    pub number: u16,
    pub protocol: Protocol,
}

impl Port {
    pub fn new(number: u16, protocol: Protocol) -> Port {
        Port { number, protocol }
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.number, self.protocol.name())
    }
}

/// A point in time: nanoseconds since the Unix epoch (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

/// A duration in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timespan(pub i64);

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ns", self.0)
    }
}

impl fmt::Display for Timespan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ns", self.0)
    }
}

impl Timestamp {
    /// The current wall-clock time.
    pub fn now() -> Timestamp {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
    }
}

impl From<std::time::Duration> for Timespan {
    fn from(d: std::time::Duration) -> Timespan {
        Timespan(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
    }
}
