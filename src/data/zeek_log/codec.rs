//! Zeek's `BinarySerializationFormat` of log values (`threading::Value::Read`/`Write`):
//! big-endian `int` (4 bytes) type and subtype tags, a one-byte present flag, then the value:
//! bool and int as 8-byte integers, count as 8 bytes, double/time/interval as a big-endian
//! IEEE double, strings as a 4-byte length and the bytes, a port as an 8-byte number and a
//! 4-byte protocol, an address as a family byte (4 or 6) and 4 or 16 bytes, a subnet as a
//! length byte then an address, and sets and vectors as an 8-byte count then the elements.

use super::{Proto, TypeTag, Value};
use crate::error::{Error, Result};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The most fields (values) a record may have, here and in a `LogCreate`.
pub const MAX_FIELDS: usize = 10_000;
/// The fewest bytes a value takes (type, subtype, present), to bound counts by the input.
const MIN_VALUE: usize = 9;

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let left = self.bytes.len() - self.pos;
        if n > left {
            return Err(Error::decode(format!(
                "log record truncated at byte {}: {what} needs {n} bytes, {left} left",
                self.pos
            )));
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn left(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }

    fn i32(&mut self, what: &str) -> Result<i32> {
        let b = self.take(4, what)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self, what: &str) -> Result<u64> {
        let b = self.take(8, what)?;
        let mut a = [0; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    fn tag(&mut self, what: &str) -> Result<TypeTag> {
        let at = self.pos;
        let n = self.i32(what)?;
        u64::try_from(n)
            .ok()
            .and_then(TypeTag::from_u64)
            .ok_or_else(|| Error::decode(format!("log record: unknown {what} {n} at byte {at}")))
    }

    fn string(&mut self) -> Result<Vec<u8>> {
        let at = self.pos;
        let n = self.i32("a string length")?;
        let n = usize::try_from(n).map_err(|_| {
            Error::decode(format!(
                "log record: negative string length {n} at byte {at}"
            ))
        })?;
        Ok(self.take(n, "a string")?.to_vec())
    }

    fn addr(&mut self) -> Result<IpAddr> {
        let at = self.pos;
        match self.u8("an address family")? {
            4 => {
                let b = self.take(4, "an IPv4 address")?;
                Ok(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3])))
            }
            6 => {
                let mut a = [0; 16];
                a.copy_from_slice(self.take(16, "an IPv6 address")?);
                Ok(IpAddr::V6(Ipv6Addr::from(a)))
            }
            f => Err(Error::decode(format!(
                "log record: address family {f} at byte {at} (4 or 6)"
            ))),
        }
    }

    fn value(&mut self, nested: bool) -> Result<Value> {
        let at = self.pos;
        let ty = self.tag("type tag")?;
        let st = self.tag("subtype tag")?;
        // Zeek reads a bool as true only for byte 1.
        let present = self.u8("a present flag")? == 1;
        if !present {
            return Ok(Value::Unset(ty, st));
        }
        Ok(match ty {
            TypeTag::Bool => Value::Bool(self.u64("a bool")? != 0),
            TypeTag::Int => Value::Int(self.u64("an int")? as i64),
            TypeTag::Count => Value::Count(self.u64("a count")?),
            TypeTag::Double => Value::Double(f64::from_bits(self.u64("a double")?)),
            TypeTag::Time => Value::Time(f64::from_bits(self.u64("a time")?)),
            TypeTag::Interval => Value::Interval(f64::from_bits(self.u64("an interval")?)),
            TypeTag::String => Value::String(self.string()?),
            TypeTag::Enum => Value::Enum(self.string()?),
            TypeTag::File => Value::File(self.string()?),
            TypeTag::Func => Value::Func(self.string()?),
            TypeTag::Port => {
                let port = self.u64("a port")?;
                let proto = match self.i32("a protocol")? {
                    0 => Proto::Unknown,
                    1 => Proto::Tcp,
                    2 => Proto::Udp,
                    3 => Proto::Icmp,
                    p => {
                        return Err(Error::decode(format!(
                            "log record: port protocol {p} at byte {at}"
                        )));
                    }
                };
                Value::Port(port, proto)
            }
            TypeTag::Addr => Value::Addr(self.addr()?),
            TypeTag::Subnet => {
                let len = self.u8("a subnet length")?;
                Value::Subnet(self.addr()?, len)
            }
            TypeTag::Table | TypeTag::Vector => {
                if nested {
                    return Err(Error::decode(format!(
                        "log record: a container inside a container at byte {at} (Zeek logs atomic elements only)"
                    )));
                }
                let n = self.u64("a container size")?;
                if n > (self.left() / MIN_VALUE) as u64 {
                    return Err(Error::decode(format!(
                        "log record: a container of {n} elements at byte {at}, more than the {} bytes left can hold",
                        self.left()
                    )));
                }
                let elems = (0..n)
                    .map(|_| self.value(true))
                    .collect::<Result<Vec<_>>>()?;
                if ty == TypeTag::Table {
                    Value::Set(st, elems)
                } else {
                    Value::Vector(st, elems)
                }
            }
            other => {
                return Err(Error::decode(format!(
                    "log record: Zeek does not log {} values (byte {at})",
                    other.name()
                )));
            }
        })
    }
}

/// Decodes a `LogWrite`'s serial data into its values (not yet checked against fields).
pub fn decode_values(bytes: &[u8]) -> Result<Vec<Value>> {
    let mut r = Reader { bytes, pos: 0 };
    let n = r.i32("the field count")?;
    let n = usize::try_from(n)
        .ok()
        .filter(|&n| n <= MAX_FIELDS && n <= r.left() / MIN_VALUE)
        .ok_or_else(|| {
            Error::decode(format!(
                "log record: {n} fields do not fit (at most {MAX_FIELDS}, {} bytes left)",
                r.left()
            ))
        })?;
    let values = (0..n).map(|_| r.value(false)).collect::<Result<Vec<_>>>()?;
    if r.left() != 0 {
        return Err(Error::decode(format!(
            "log record: {} bytes after the last value",
            r.left()
        )));
    }
    Ok(values)
}

fn put_i32(out: &mut Vec<u8>, n: i32) {
    out.extend_from_slice(&n.to_be_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &[u8]) -> Result<()> {
    let n = i32::try_from(s.len()).map_err(|_| Error::invalid("a log string over 2 GiB"))?;
    put_i32(out, n);
    out.extend_from_slice(s);
    Ok(())
}

fn put_addr(out: &mut Vec<u8>, a: &IpAddr) {
    match a {
        IpAddr::V4(v4) => {
            out.push(4);
            out.extend_from_slice(&v4.octets());
        }
        IpAddr::V6(v6) => {
            out.push(6);
            out.extend_from_slice(&v6.octets());
        }
    }
}

fn put_value(out: &mut Vec<u8>, v: &Value, nested: bool) -> Result<()> {
    put_i32(out, v.type_tag() as i32);
    put_i32(out, v.subtype_tag() as i32);
    if let Value::Unset(..) = v {
        out.push(0);
        return Ok(());
    }
    out.push(1);
    match v {
        Value::Unset(..) => {}
        Value::Bool(b) => out.extend_from_slice(&(*b as u64).to_be_bytes()),
        Value::Int(i) => out.extend_from_slice(&i.to_be_bytes()),
        Value::Count(c) => out.extend_from_slice(&c.to_be_bytes()),
        Value::Double(d) | Value::Time(d) | Value::Interval(d) => {
            out.extend_from_slice(&d.to_bits().to_be_bytes())
        }
        Value::String(s) | Value::Enum(s) | Value::File(s) | Value::Func(s) => put_str(out, s)?,
        Value::Port(p, proto) => {
            out.extend_from_slice(&p.to_be_bytes());
            put_i32(out, *proto as i32);
        }
        Value::Addr(a) => put_addr(out, a),
        Value::Subnet(a, len) => {
            out.push(*len);
            put_addr(out, a);
        }
        Value::Set(_, es) | Value::Vector(_, es) => {
            if nested {
                return Err(Error::invalid("a log container holds atomic values only"));
            }
            out.extend_from_slice(&(es.len() as u64).to_be_bytes());
            for e in es {
                put_value(out, e, true)?;
            }
        }
    }
    Ok(())
}

/// Encodes values as a `LogWrite`'s serial data, byte for byte as Zeek does.
pub fn encode_values(values: &[Value]) -> Result<Vec<u8>> {
    if values.len() > MAX_FIELDS {
        return Err(Error::invalid(format!(
            "{} log values, more than {MAX_FIELDS}",
            values.len()
        )));
    }
    let mut out = Vec::with_capacity(16 * values.len() + 4);
    put_i32(&mut out, values.len() as i32);
    for v in values {
        put_value(&mut out, v, false)?;
    }
    Ok(out)
}
