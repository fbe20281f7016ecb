//! Broker's binary data format v1 (spec §5): the bytes a current Broker puts on the wire.
//!
//! The decoder takes untrusted input. It never panics, never allocates more than the input
//! can justify (each element needs at least one byte, so a claimed count is capped by the
//! bytes left), caps nesting at [`MAX_DEPTH`], and rejects trailing bytes. Errors name the
//! offset. Where it differs from Broker:
//! - nesting deeper than [`MAX_DEPTH`] (128) is rejected; Broker has no limit (golden
//!   `vector-deep-500`). This bounds the stack that decoding, rendering and dropping use;
//! - everything else Broker accepts is accepted: booleans other than 0/1, unmasked subnets
//!   and odd raw lengths, unsorted sets and tables (sorted on decode), non-minimal and
//!   over-long varbytes (truncated to 32 bits as Broker does), and IEEE special patterns
//!   (read with CAF's `unpack754` arithmetic).

use super::{Address, Data, DataType, Port, Protocol, Set, Subnet, Table, Timespan, Timestamp};
use crate::error::{Error, ErrorKind, Result};

/// Containers nested deeper than this are rejected by the decoder.
pub const MAX_DEPTH: usize = 128;

/// Encodes `d` as bin v1, appending to `out`.
///
/// Fails only for strings or containers with 2^32 or more bytes or elements, which the
/// format cannot express.
pub fn encode_into(d: &Data, out: &mut Vec<u8>) -> Result<()> {
    out.push(d.data_type() as u8);
    match d {
        Data::None => {}
        Data::Boolean(b) => out.push(*b as u8),
        Data::Count(c) => out.extend_from_slice(&c.to_be_bytes()),
        Data::Integer(i) => out.extend_from_slice(&i.to_be_bytes()),
        Data::Real(r) => out.extend_from_slice(&pack754(*r).to_be_bytes()),
        Data::String(s) | Data::Enum(s) => {
            put_varbyte(out, s.len())?;
            out.extend_from_slice(s);
        }
        Data::Address(a) => out.extend_from_slice(&a.0),
        Data::Subnet(s) => {
            out.extend_from_slice(&s.network.0);
            out.push(s.raw_len);
        }
        Data::Port(p) => {
            out.extend_from_slice(&p.number.to_be_bytes());
            out.push(p.protocol as u8);
        }
        Data::Timestamp(t) => out.extend_from_slice(&t.0.to_be_bytes()),
        Data::Timespan(t) => out.extend_from_slice(&t.0.to_be_bytes()),
        Data::Set(s) => {
            put_varbyte(out, s.len())?;
            for x in s {
                encode_into(x, out)?;
            }
        }
        Data::Table(t) => {
            put_varbyte(out, t.len())?;
            for (k, v) in t {
                encode_into(k, out)?;
                encode_into(v, out)?;
            }
        }
        Data::Vector(v) => {
            put_varbyte(out, v.len())?;
            for x in v {
                encode_into(x, out)?;
            }
        }
    }
    Ok(())
}

/// Encodes `d` as bin v1 into a new buffer.
pub fn encode(d: &Data) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(encoded_len_hint(d));
    encode_into(d, &mut out)?;
    Ok(out)
}

/// A cheap upper-bound guess of the encoded size, to size buffers in one allocation.
fn encoded_len_hint(d: &Data) -> usize {
    match d {
        Data::String(s) | Data::Enum(s) => 6 + s.len(),
        Data::Vector(v) => 6 + v.iter().map(encoded_len_hint).sum::<usize>(),
        Data::Set(_) | Data::Table(_) => 64,
        _ => 18,
    }
}

/// Appends a varbyte (LEB128, 7 bits per byte) length.
pub fn put_varbyte(out: &mut Vec<u8>, n: usize) -> Result<()> {
    let Ok(mut x) = u32::try_from(n) else {
        return Err(Error::new(
            ErrorKind::Encode,
            format!("length {n} exceeds the bin-v1 limit of 2^32 - 1"),
        ));
    };
    while x >= 0x80 {
        out.push((x as u8) | 0x80);
        x >>= 7;
    }
    out.push(x as u8);
    Ok(())
}

/// CAF's `pack754` for doubles, bit for bit (spec §5.5): IEEE for normal numbers, special
/// patterns for zero, NaN and the infinities, and CAF's wrap-around for subnormals.
pub fn pack754(f: f64) -> u64 {
    if f == 0.0 {
        return if f.is_sign_negative() { 1 << 63 } else { 0 };
    }
    if f.is_nan() {
        return u64::MAX;
    }
    if f.is_infinite() {
        return if f > 0.0 {
            0xFFF0_0000_0000_0000
        } else {
            0x7FF0_0000_0000_0000
        };
    }
    if f.is_normal() {
        return f.to_bits();
    }
    // Subnormal: normalise by doubling, as CAF does, and let the exponent wrap.
    let sign = f.is_sign_negative() as u64;
    let mut fnorm = f.abs();
    let mut shift: i64 = 0;
    while fnorm >= 2.0 {
        fnorm /= 2.0;
        shift += 1;
    }
    while fnorm < 1.0 {
        fnorm *= 2.0;
        shift -= 1;
    }
    let significand = ((fnorm - 1.0) * ((1u64 << 52) as f64 + 0.5)) as u64;
    let exp = (shift + 1023) as u64;
    (sign << 63) | (exp << 52) | significand
}

/// CAF's `unpack754` for doubles, bit for bit (spec §5.5). There is no subnormal and no
/// NaN case: exponent 0 scales like any other, and 0x7FF overflows to an infinity.
pub fn unpack754(i: u64) -> f64 {
    match i {
        0 => return 0.0,
        0x8000_0000_0000_0000 => return -0.0,
        0xFFF0_0000_0000_0000 => return f64::INFINITY,
        0x7FF0_0000_0000_0000 => return f64::NEG_INFINITY,
        u64::MAX => return f64::NAN,
        _ => {}
    }
    let exp_field = (i >> 52) & 0x7FF;
    if exp_field != 0 && exp_field != 0x7FF {
        return f64::from_bits(i);
    }
    let mut result = (i & ((1u64 << 52) - 1)) as f64 / (1u64 << 52) as f64 + 1.0;
    let mut shift = exp_field as i64 - 1023;
    while shift > 0 {
        result *= 2.0;
        shift -= 1;
    }
    while shift < 0 {
        result /= 2.0;
        shift += 1;
    }
    if i >> 63 != 0 { -result } else { result }
}

/// Decodes exactly one bin-v1 value from `buf`; trailing bytes are an error.
pub fn decode(buf: &[u8]) -> Result<Data> {
    let mut r = Reader::new(buf);
    let d = r.data()?;
    if r.pos != buf.len() {
        return Err(r.err_at(
            r.pos,
            format!("{} trailing bytes after the value", buf.len() - r.pos),
        ));
    }
    Ok(d)
}

/// Decodes one bin-v1 value from the start of `buf` and returns it with the number of bytes
/// it used.
pub fn decode_prefix(buf: &[u8]) -> Result<(Data, usize)> {
    let mut r = Reader::new(buf);
    let d = r.data()?;
    Ok((d, r.pos))
}

/// A cursor over untrusted bytes. Every read checks the bounds.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    depth: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader {
            buf,
            pos: 0,
            depth: 0,
        }
    }

    /// The offset of the next unread byte.
    pub fn position(&self) -> usize {
        self.pos
    }

    fn err_at(&self, offset: usize, what: impl std::fmt::Display) -> Error {
        Error::decode(format!("bin v1: {what} at offset {offset}"))
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        if self.buf.len() - self.pos < n {
            return Err(self.err_at(
                self.pos,
                format!(
                    "truncated {what}: needs {n} bytes, {} left",
                    self.buf.len() - self.pos
                ),
            ));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N, what)?);
        Ok(a)
    }

    pub fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }

    pub fn u64(&mut self, what: &str) -> Result<u64> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }

    /// A varbyte length, read as Broker does: low 32 bits kept, any number of bytes.
    pub fn varbyte(&mut self) -> Result<usize> {
        let start = self.pos;
        let mut value: u32 = 0;
        let mut shift: u32 = 0;
        loop {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(self.err_at(start, "truncated length"));
            };
            self.pos += 1;
            if shift < 32 {
                value |= ((b & 0x7f) as u32) << shift;
            }
            shift = shift.saturating_add(7);
            if b & 0x80 == 0 {
                return Ok(value as usize);
            }
        }
    }

    /// A varbyte-prefixed byte string.
    pub fn bytes(&mut self, what: &str) -> Result<&'a [u8]> {
        let n = self.varbyte()?;
        self.take(n, what)
    }

    /// A container's element count, checked against the bytes left: each element needs at
    /// least `min_elem` bytes, so no count can make us allocate beyond the input's size.
    fn count(&mut self, min_elem: usize, what: &str) -> Result<usize> {
        let at = self.pos;
        let n = self.varbyte()?;
        let left = self.buf.len() - self.pos;
        if n > left / min_elem {
            return Err(self.err_at(
                at,
                format!("{what} claims {n} elements but only {left} bytes follow"),
            ));
        }
        Ok(n)
    }

    /// One data value.
    pub fn data(&mut self) -> Result<Data> {
        let at = self.pos;
        let tag = self.u8("type tag")?;
        let Some(ty) = DataType::from_tag(tag) else {
            return Err(self.err_at(at, format!("invalid type tag {tag}")));
        };
        Ok(match ty {
            DataType::None => Data::None,
            DataType::Boolean => Data::Boolean(self.u8("boolean")? != 0),
            DataType::Count => Data::Count(self.u64("count")?),
            DataType::Integer => Data::Integer(self.u64("integer")? as i64),
            DataType::Real => Data::Real(unpack754(self.u64("real")?)),
            DataType::String => Data::String(self.bytes("string")?.to_vec()),
            DataType::Enum => Data::Enum(self.bytes("enum value")?.to_vec()),
            DataType::Address => Data::Address(Address(self.array("address")?)),
            DataType::Subnet => Data::Subnet(Subnet {
                network: Address(self.array("subnet")?),
                raw_len: self.u8("subnet length")?,
            }),
            DataType::Port => {
                let number = u16::from_be_bytes(self.array("port")?);
                let p = self.u8("port protocol")?;
                let Some(protocol) = Protocol::from_u8(p) else {
                    return Err(self.err_at(self.pos - 1, format!("invalid port protocol {p}")));
                };
                Data::Port(Port { number, protocol })
            }
            DataType::Timestamp => Data::Timestamp(Timestamp(self.u64("timestamp")? as i64)),
            DataType::Timespan => Data::Timespan(Timespan(self.u64("timespan")? as i64)),
            DataType::Set | DataType::Table | DataType::Vector => self.container(ty, at)?,
        })
    }

    fn container(&mut self, ty: DataType, at: usize) -> Result<Data> {
        if self.depth >= MAX_DEPTH {
            return Err(self.err_at(at, format!("nesting deeper than {MAX_DEPTH}")));
        }
        self.depth += 1;
        let d = match ty {
            DataType::Vector => {
                let n = self.count(1, "vector")?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(self.data()?);
                }
                Data::Vector(v)
            }
            DataType::Set => {
                let n = self.count(1, "set")?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(self.data()?);
                }
                let before = v.len();
                v.sort_unstable();
                v.dedup();
                if v.len() != before {
                    return Err(self.err_at(at, "duplicate set element"));
                }
                Data::Set(v.into_iter().collect::<Set>())
            }
            _ => {
                let n = self.count(2, "table")?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    let k = self.data()?;
                    v.push((k, self.data()?));
                }
                let before = v.len();
                v.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                v.dedup_by(|a, b| a.0 == b.0);
                if v.len() != before {
                    return Err(self.err_at(at, "duplicate table key"));
                }
                Data::Table(v.into_iter().collect::<Table>())
            }
        };
        self.depth -= 1;
        Ok(d)
    }
}
