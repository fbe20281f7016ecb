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

use super::{Address, Data, Port, Protocol, Set, Subnet, Table, Timespan, Timestamp};
use crate::error::{Error, ErrorKind, Result};

/// Containers nested deeper than this are rejected by the decoder.
pub const MAX_DEPTH: usize = 128;

/// Encodes `d` as bin v1, appending to `out`.
///
/// Fails for strings or containers with 2^32 or more bytes or elements, which the format
/// cannot express, and for containers nested deeper than [`MAX_DEPTH`], which brook's
/// decoder (so every brook peer) refuses: brook writes nothing it cannot read. On failure
/// `out` may hold part of the value; callers truncate it.
pub fn encode_into(d: &Data, out: &mut Vec<u8>) -> Result<()> {
    encode_nested(d, out, 0)
}

/// [`encode_into`] for a value that sits inside `depth` containers of the message being
/// encoded (a Zeek event's arguments are three deep), so that the message as a whole
/// respects [`MAX_DEPTH`].
pub(crate) fn encode_nested(d: &Data, out: &mut Vec<u8>, depth: usize) -> Result<()> {
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
            enter(depth)?;
            put_varbyte(out, s.len())?;
            for x in s {
                encode_nested(x, out, depth + 1)?;
            }
        }
        Data::Table(t) => {
            enter(depth)?;
            put_varbyte(out, t.len())?;
            for (k, v) in t {
                encode_nested(k, out, depth + 1)?;
                encode_nested(v, out, depth + 1)?;
            }
        }
        Data::Vector(v) => {
            enter(depth)?;
            put_varbyte(out, v.len())?;
            for x in v {
                encode_nested(x, out, depth + 1)?;
            }
        }
    }
    Ok(())
}

/// Checks that a container may open inside `depth` others.
#[inline]
fn enter(depth: usize) -> Result<()> {
    if depth >= MAX_DEPTH {
        return Err(too_deep());
    }
    Ok(())
}

#[cold]
fn too_deep() -> Error {
    Error::new(
        ErrorKind::Encode,
        format!(
            "the value nests containers deeper than {MAX_DEPTH}, which brook's decoder refuses \
             (a brook peer would drop it as malformed)"
        ),
    )
}

/// The exact size of `d`'s bin-v1 encoding, without encoding it; fails where
/// [`encode_into`] would (too deep, too long).
pub fn encoded_len(d: &Data) -> Result<usize> {
    fn len_at(d: &Data, depth: usize) -> Result<usize> {
        let varbyte = |n: usize| match u32::try_from(n) {
            Ok(x) => Ok(1 + (32 - (x | 1).leading_zeros() as usize - 1) / 7),
            Err(_) => Err(Error::new(
                ErrorKind::Encode,
                format!("length {n} exceeds the bin-v1 limit of 2^32 - 1"),
            )),
        };
        Ok(1 + match d {
            Data::None => 0,
            Data::Boolean(_) => 1,
            Data::Count(_)
            | Data::Integer(_)
            | Data::Real(_)
            | Data::Timestamp(_)
            | Data::Timespan(_) => 8,
            Data::String(s) | Data::Enum(s) => varbyte(s.len())? + s.len(),
            Data::Address(_) => 16,
            Data::Subnet(_) => 17,
            Data::Port(_) => 3,
            Data::Set(s) => {
                enter(depth)?;
                let mut n = varbyte(s.len())?;
                for x in s {
                    n += len_at(x, depth + 1)?;
                }
                n
            }
            Data::Table(t) => {
                enter(depth)?;
                let mut n = varbyte(t.len())?;
                for (k, v) in t {
                    n += len_at(k, depth + 1)? + len_at(v, depth + 1)?;
                }
                n
            }
            Data::Vector(v) => {
                enter(depth)?;
                let mut n = varbyte(v.len())?;
                for x in v {
                    n += len_at(x, depth + 1)?;
                }
                n
            }
        })
    }
    len_at(d, 0)
}

/// Encodes `d` as bin v1 into a new buffer.
pub fn encode(d: &Data) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(encoded_len_hint(d));
    encode_into(d, &mut out)?;
    Ok(out)
}

/// A cheap guess of the encoded size (exact for scalars, strings and vectors of them), to
/// size buffers in one allocation.
pub fn encoded_len_hint(d: &Data) -> usize {
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
    let d = r.data().map_err(Fault::into_error)?;
    if r.pos != buf.len() {
        return Err(Fault::at(r.pos, What::Trailing(buf.len() - r.pos)).into_error());
    }
    Ok(d)
}

/// Decodes one bin-v1 value from the start of `buf` and returns it with the number of bytes
/// it used.
pub fn decode_prefix(buf: &[u8]) -> Result<(Data, usize)> {
    let mut r = Reader::new(buf);
    let d = r.data().map_err(Fault::into_error)?;
    Ok((d, r.pos))
}

/// Checks that `buf` holds exactly one well-formed bin-v1 value, without building it (no
/// allocation). Everything [`decode`] rejects is rejected here too, except duplicate set
/// elements and table keys, which only a full decode can find.
pub fn validate(buf: &[u8]) -> Result<()> {
    if walk(buf) == Some(true) {
        return Ok(());
    }
    validate_slow(buf)
}

/// [`validate`] by recursive descent, which also says what is wrong. Public only so that
/// the fuzzer can hold the fast walk to it.
#[doc(hidden)]
pub fn validate_slow(buf: &[u8]) -> Result<()> {
    let mut r = Reader::new(buf);
    r.skip_value().map_err(Fault::into_error)?;
    if r.pos != buf.len() {
        return Err(Fault::at(r.pos, What::Trailing(buf.len() - r.pos)).into_error());
    }
    Ok(())
}

/// Nesting the fast walk follows; deeper values take the recursive path.
const WALK_DEPTH: usize = 16;

/// The checks of [`validate`] as one loop over the bytes, with a small stack of the values
/// left in each open container: `Some(valid)`, or `None` for nesting deeper than
/// [`WALK_DEPTH`]. Messages are validated on the reactor thread, so this is its hot path.
fn walk(buf: &[u8]) -> Option<bool> {
    /// A varbyte as Broker reads it (low 32 bits kept), and the position after it.
    #[inline(always)]
    fn varbyte(buf: &[u8], mut pos: usize) -> Option<(usize, usize)> {
        let mut value: u32 = 0;
        let mut shift: u32 = 0;
        loop {
            let b = *buf.get(pos)?;
            pos += 1;
            if shift < 32 {
                value |= ((b & 0x7f) as u32) << shift;
            }
            shift = shift.saturating_add(7);
            if b & 0x80 == 0 {
                return Some((value as usize, pos));
            }
        }
    }
    let mut stack = [0usize; WALK_DEPTH];
    let mut depth = 0;
    let mut remaining = 1usize;
    let mut pos = 0;
    loop {
        while remaining == 0 {
            if depth == 0 {
                return Some(pos == buf.len());
            }
            depth -= 1;
            remaining = stack[depth];
        }
        remaining -= 1;
        let Some(&tag) = buf.get(pos) else {
            return Some(false);
        };
        pos += 1;
        let body = match tag {
            0 => 0,
            1 => 1,
            2 | 3 | 4 | 9 | 10 => 8,
            6 => 16,
            7 => 17,
            8 => match buf.get(pos + 2) {
                Some(&p) if Protocol::from_u8(p).is_some() => 3,
                _ => return Some(false),
            },
            5 | 11 => match varbyte(buf, pos) {
                Some((n, next)) => {
                    pos = next;
                    n
                }
                None => return Some(false),
            },
            12..=14 => {
                if depth == WALK_DEPTH {
                    // Deeper than this loop goes (MAX_DEPTH is checked by the slow path).
                    return None;
                }
                let Some((n, next)) = varbyte(buf, pos) else {
                    return Some(false);
                };
                pos = next;
                let per = if tag == 13 { 2 } else { 1 };
                if n > (buf.len() - pos) / per {
                    return Some(false);
                }
                stack[depth] = remaining;
                depth += 1;
                remaining = n * per;
                continue;
            }
            _ => return Some(false),
        };
        if buf.len() - pos < body {
            return Some(false);
        }
        pos += body;
    }
}

/// What went wrong, kept small and `Copy` so that the hot path returns a compact `Result`;
/// the message is built only when an error leaves the module.
#[derive(Clone, Copy, Debug)]
enum What {
    Truncated(&'static str, usize),
    Tag(u8),
    Protocol(u8),
    Claims(&'static str, usize, usize),
    Depth,
    DuplicateElement,
    DuplicateKey,
    Trailing(usize),
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Fault {
    offset: usize,
    what: What,
}

impl Fault {
    #[cold]
    #[inline(never)]
    fn at(offset: usize, what: What) -> Fault {
        Fault { offset, what }
    }

    #[cold]
    fn into_error(self) -> Error {
        let what = match self.what {
            What::Truncated(what, need) => format!("truncated {what}: needs {need} more bytes"),
            What::Tag(t) => format!("invalid type tag {t}"),
            What::Protocol(p) => format!("invalid port protocol {p}"),
            What::Claims(what, n, left) => {
                format!("{what} claims {n} elements but only {left} bytes follow")
            }
            What::Depth => format!("nesting deeper than {MAX_DEPTH}"),
            What::DuplicateElement => "duplicate set element".into(),
            What::DuplicateKey => "duplicate table key".into(),
            What::Trailing(n) => format!("{n} trailing bytes after the value"),
        };
        Error::decode(format!("bin v1: {what} at offset {}", self.offset))
    }
}

pub(crate) type Step<T> = std::result::Result<T, Fault>;

/// A cursor over untrusted bytes. Every read checks the bounds.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    depth: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader {
            buf,
            pos: 0,
            depth: 0,
        }
    }

    #[inline(always)]
    fn take(&mut self, n: usize, what: &'static str) -> Step<&'a [u8]> {
        match self.buf.get(self.pos..).and_then(|rest| rest.get(..n)) {
            Some(s) => {
                self.pos += n;
                Ok(s)
            }
            None => Err(Fault::at(
                self.pos,
                What::Truncated(what, n - (self.buf.len() - self.pos)),
            )),
        }
    }

    #[inline(always)]
    fn array<const N: usize>(&mut self, what: &'static str) -> Step<[u8; N]> {
        match self.buf[self.pos..].first_chunk::<N>() {
            Some(a) => {
                self.pos += N;
                Ok(*a)
            }
            None => Err(Fault::at(
                self.pos,
                What::Truncated(what, N - (self.buf.len() - self.pos)),
            )),
        }
    }

    #[inline(always)]
    fn u8(&mut self, what: &'static str) -> Step<u8> {
        Ok(self.array::<1>(what)?[0])
    }

    #[inline(always)]
    fn u64(&mut self, what: &'static str) -> Step<u64> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }

    /// A varbyte length, read as Broker does: low 32 bits kept, any number of bytes.
    #[inline(always)]
    fn varbyte(&mut self) -> Step<usize> {
        // Fast path: one byte, as for every length below 128.
        if let Some(&b) = self.buf.get(self.pos) {
            if b & 0x80 == 0 {
                self.pos += 1;
                return Ok(b as usize);
            }
        }
        self.varbyte_slow()
    }

    fn varbyte_slow(&mut self) -> Step<usize> {
        let start = self.pos;
        let mut value: u32 = 0;
        let mut shift: u32 = 0;
        loop {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(Fault::at(start, What::Truncated("length", 1)));
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
    #[inline(always)]
    fn bytes(&mut self, what: &'static str) -> Step<&'a [u8]> {
        let n = self.varbyte()?;
        self.take(n, what)
    }

    /// A container's element count, checked against the bytes left: each element needs at
    /// least `min_elem` bytes, so no count can make us allocate beyond the input's size.
    #[inline(always)]
    fn count(&mut self, min_elem: usize, what: &'static str) -> Step<usize> {
        let at = self.pos;
        let n = self.varbyte()?;
        let left = self.buf.len() - self.pos;
        if n > left / min_elem {
            return Err(Fault::at(at, What::Claims(what, n, left)));
        }
        Ok(n)
    }

    /// True when every byte has been read.
    pub(crate) fn at_end(&self) -> bool {
        self.pos == self.buf.len()
    }

    /// Consumes `prefix` if the input continues with it.
    pub(crate) fn expect(&mut self, prefix: &[u8]) -> bool {
        let ok = self.buf[self.pos..].starts_with(prefix);
        if ok {
            self.pos += prefix.len();
        }
        ok
    }

    /// A value of type `tag` whose body is a varbyte-prefixed byte string.
    pub(crate) fn tagged_bytes(&mut self, tag: u8) -> Option<&'a [u8]> {
        if !self.expect(&[tag]) {
            return None;
        }
        self.bytes("string").ok()
    }

    /// A vector value, decoded element by element into a new `Vec`.
    pub(crate) fn vector_elements(&mut self) -> Option<Vec<Data>> {
        let at = self.pos;
        if !self.expect(&[14]) {
            return None;
        }
        match self.vector(at) {
            Ok(Data::Vector(v)) => Some(v),
            _ => None,
        }
    }

    /// A varbyte length.
    pub(crate) fn length(&mut self) -> Option<usize> {
        self.varbyte().ok()
    }

    /// One data value.
    pub(crate) fn data(&mut self) -> Step<Data> {
        self.value()
    }

    /// Decodes one value straight into `out`. Containers fill their elements this way: the
    /// value is built by the callee and stored once, instead of being returned through the
    /// stack and copied (which costs a store-forwarding stall per element).
    #[inline(never)]
    fn push_value(&mut self, out: &mut Vec<Data>) -> Step<()> {
        let d = self.value()?;
        out.push(d);
        Ok(())
    }

    #[inline(always)]
    fn value(&mut self) -> Step<Data> {
        let at = self.pos;
        let tag = self.u8("type tag")?;
        Ok(match tag {
            0 => Data::None,
            1 => Data::Boolean(self.u8("boolean")? != 0),
            2 => Data::Count(self.u64("count")?),
            3 => Data::Integer(self.u64("integer")? as i64),
            4 => Data::Real(unpack754(self.u64("real")?)),
            5 => Data::String(self.bytes("string")?.to_vec()),
            6 => Data::Address(Address(self.array("address")?)),
            7 => Data::Subnet(Subnet {
                network: Address(self.array("subnet")?),
                raw_len: self.u8("subnet length")?,
            }),
            8 => {
                let number = u16::from_be_bytes(self.array("port")?);
                let p = self.u8("port protocol")?;
                let Some(protocol) = Protocol::from_u8(p) else {
                    return Err(Fault::at(self.pos - 1, What::Protocol(p)));
                };
                Data::Port(Port { number, protocol })
            }
            9 => Data::Timestamp(Timestamp(self.u64("timestamp")? as i64)),
            10 => Data::Timespan(Timespan(self.u64("timespan")? as i64)),
            11 => Data::Enum(self.bytes("enum value")?.to_vec()),
            12 => self.set(at)?,
            13 => self.table(at)?,
            14 => self.vector(at)?,
            _ => return Err(Fault::at(at, What::Tag(tag))),
        })
    }

    /// Walks over one value with the checks of [`Reader::data`], building nothing.
    fn skip_value(&mut self) -> Step<()> {
        let at = self.pos;
        let tag = self.u8("type tag")?;
        match tag {
            0 => {}
            1 => drop(self.u8("boolean")?),
            2 | 3 | 4 | 9 | 10 => drop(self.u64("value")?),
            5 | 11 => drop(self.bytes("string")?),
            6 => drop(self.array::<16>("address")?),
            7 => drop(self.array::<17>("subnet")?),
            8 => {
                self.array::<2>("port")?;
                let p = self.u8("port protocol")?;
                if Protocol::from_u8(p).is_none() {
                    return Err(Fault::at(self.pos - 1, What::Protocol(p)));
                }
            }
            12..=14 => {
                self.enter(at)?;
                let (per, what) = if tag == 13 {
                    (2, "table")
                } else {
                    (1, "container")
                };
                let n = self.count(per, what)?;
                for _ in 0..n * per {
                    self.skip_value()?;
                }
                self.depth -= 1;
            }
            _ => return Err(Fault::at(at, What::Tag(tag))),
        }
        Ok(())
    }

    #[inline(always)]
    fn enter(&mut self, at: usize) -> Step<()> {
        if self.depth >= MAX_DEPTH {
            return Err(Fault::at(at, What::Depth));
        }
        self.depth += 1;
        Ok(())
    }

    fn vector(&mut self, at: usize) -> Step<Data> {
        self.enter(at)?;
        let n = self.count(1, "vector")?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            self.push_value(&mut v)?;
        }
        self.depth -= 1;
        Ok(Data::Vector(v))
    }

    fn set(&mut self, at: usize) -> Step<Data> {
        self.enter(at)?;
        let n = self.count(1, "set")?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            self.push_value(&mut v)?;
        }
        // Broker sends sets sorted; sorting sorted input is linear.
        v.sort_unstable();
        if v.windows(2).any(|w| w[0] == w[1]) {
            return Err(Fault::at(at, What::DuplicateElement));
        }
        self.depth -= 1;
        Ok(Data::Set(v.into_iter().collect::<Set>()))
    }

    fn table(&mut self, at: usize) -> Step<Data> {
        self.enter(at)?;
        let n = self.count(2, "table")?;
        let mut flat = Vec::with_capacity(2 * n);
        for _ in 0..2 * n {
            self.push_value(&mut flat)?;
        }
        let mut it = flat.into_iter();
        let mut v = Vec::with_capacity(n);
        while let (Some(k), Some(x)) = (it.next(), it.next()) {
            v.push((k, x));
        }
        v.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        if v.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(Fault::at(at, What::DuplicateKey));
        }
        self.depth -= 1;
        Ok(Data::Table(v.into_iter().collect::<Table>()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn value() -> impl Strategy<Value = Data> {
        let leaf = prop_oneof![
            Just(Data::None),
            any::<bool>().prop_map(Data::Boolean),
            any::<u64>().prop_map(Data::Count),
            any::<i64>().prop_map(Data::Integer),
            ".{0,20}".prop_map(|s| Data::from(s.as_str())),
            any::<u16>().prop_map(|n| Data::Port(Port {
                number: n,
                protocol: Protocol::Udp
            })),
        ];
        leaf.prop_recursive(20, 64, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Data::Vector),
                prop::collection::vec(inner.clone(), 0..4)
                    .prop_map(|v| Data::Set(v.into_iter().collect())),
                prop::collection::vec((inner.clone(), inner), 0..3)
                    .prop_map(|v| Data::Table(v.into_iter().collect())),
            ]
        })
    }

    /// The fast walk agrees with the recursive validator wherever it answers.
    fn agrees(buf: &[u8]) {
        let slow = validate_slow(buf).is_ok();
        if let Some(fast) = walk(buf) {
            assert_eq!(fast, slow, "{buf:?}");
        }
        assert_eq!(validate(buf).is_ok(), slow, "{buf:?}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn the_fast_walk_agrees_on_encodings_and_their_damage(
            d in value(),
            cut in any::<prop::sample::Index>(),
            flip in any::<prop::sample::Index>(),
            byte in any::<u8>(),
        ) {
            let buf = encode(&d).unwrap();
            agrees(&buf);
            agrees(&buf[..cut.index(buf.len() + 1)]);
            let mut bad = buf.clone();
            bad[flip.index(buf.len())] = byte;
            agrees(&bad);
            let mut longer = buf;
            longer.push(byte);
            agrees(&longer);
        }

        #[test]
        fn the_fast_walk_agrees_on_random_bytes(buf in prop::collection::vec(any::<u8>(), 0..64)) {
            agrees(&buf);
        }
    }

    #[test]
    fn deep_nesting_takes_the_slow_path_and_keeps_its_limit() {
        for depth in [
            WALK_DEPTH - 1,
            WALK_DEPTH,
            WALK_DEPTH + 1,
            MAX_DEPTH,
            MAX_DEPTH + 1,
        ] {
            let mut buf = Vec::new();
            // vector(1) of vector(1) of ... of count 1.
            for _ in 0..depth {
                buf.extend_from_slice(&[14, 1]);
            }
            buf.push(2);
            buf.extend_from_slice(&1u64.to_be_bytes());
            agrees(&buf);
            assert_eq!(validate(&buf).is_ok(), depth <= MAX_DEPTH, "depth {depth}");
        }
    }
}
