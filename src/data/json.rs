//! The JSON of Broker's WebSocket API v1 (spec §9.5): every value is
//! `{"@data-type":T,"data":D}`, and a message is
//! `{"type":"data-message","topic":...,"@data-type":T,"data":D}`.
//!
//! Broker's JSON is not always JSON: strings carry raw control and non-UTF-8 bytes, and reals
//! print as `nan` or `inf`. A standard parser (serde_json included) rejects such input, so
//! this module has its own small parser, written for untrusted input: bounded nesting, no
//! panics, errors with offsets.
//!
//! Output is byte-identical to Broker's wherever Broker's own output reads back unchanged.
//! Where Broker's output loses information, brook writes a form that Broker's decoder
//! still accepts and that reads back exactly:
//! - reals that `%f` would round, or whose integer part Broker cannot read (|x| ≥ 2^64),
//!   are written in exponent form with the shortest exact digits (`1e-300`, `1e20`);
//! - timestamps keep their sub-millisecond digits (`.123456789`), and times before 1970 are
//!   written correctly (Broker truncates their seconds toward zero and drops the fraction);
//! - a NUL byte in a string is written `\u0000` (Broker writes it raw and then rejects it).
//!
//! One value cannot read back: a subnet that is not in canonical form (an unmasked address
//! or a length beyond the family's maximum). Only bin-v1 input carries such subnets (Broker
//! accepts them there too); they are written as Broker writes them.
//!
//! Input is as lenient as Broker's where that is harmless (raw bytes in strings, `\v`,
//! `nan`) and also takes `inf`, `-inf`, `-nan` and reals of any magnitude, so every value
//! brook writes reads back. It is stricter than Broker where Broker silently changes the
//! value: a subnet prefix beyond the family's maximum (Broker: `::/0`) and a port number above
//! 65535 (Broker: wraps) are errors.

use super::text::{format_real, parse_subnet, parse_timespan};
use super::{Address, Data, DataType, Port, Protocol, Set, Table, Timespan, Timestamp};
use crate::error::{Error, Result};
use std::borrow::Cow;
use std::io::Write;

/// Appends the value object `{"@data-type":T,"data":D}` for `d`.
pub fn encode_into(d: &Data, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{");
    encode_fields(d, out);
    out.push(b'}');
}

/// The value object for `d`.
pub fn encode(d: &Data) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(d, &mut out);
    out
}

/// A WebSocket data message: `{"type":"data-message","topic":...,"@data-type":...,"data":...}`.
pub fn encode_data_message(topic: &[u8], d: &Data) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"{\"type\":\"data-message\",\"topic\":");
    put_string(topic, &mut out);
    out.push(b',');
    encode_fields(d, &mut out);
    out.push(b'}');
    out
}

fn encode_fields(d: &Data, out: &mut Vec<u8>) {
    out.extend_from_slice(b"\"@data-type\":\"");
    out.extend_from_slice(d.data_type().name().as_bytes());
    out.extend_from_slice(b"\",\"data\":");
    // Writing into a Vec cannot fail.
    let _ = match d {
        Data::None => write!(out, "{{}}"),
        Data::Boolean(b) => write!(out, "{b}"),
        Data::Count(c) => write!(out, "{c}"),
        Data::Integer(i) => write!(out, "{i}"),
        Data::Real(r) => write!(out, "{}", real_text(*r)),
        Data::String(s) | Data::Enum(s) => {
            put_string(s, out);
            Ok(())
        }
        Data::Address(a) => write!(out, "\"{a}\""),
        Data::Subnet(s) => write!(out, "\"{s}\""),
        Data::Port(p) => write!(out, "\"{p}\""),
        Data::Timestamp(t) => write!(out, "\"{}\"", timestamp_text(*t)),
        Data::Timespan(t) => write!(out, "\"{}\"", timespan_text(*t)),
        Data::Set(s) => {
            put_array(s.iter(), out);
            Ok(())
        }
        Data::Vector(v) => {
            put_array(v.iter(), out);
            Ok(())
        }
        Data::Table(t) => {
            out.push(b'[');
            for (i, (k, v)) in t.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(b"{\"key\":");
                encode_into(k, out);
                out.extend_from_slice(b",\"value\":");
                encode_into(v, out);
                out.push(b'}');
            }
            out.push(b']');
            Ok(())
        }
    };
}

fn put_array<'a>(items: impl Iterator<Item = &'a Data>, out: &mut Vec<u8>) {
    out.push(b'[');
    for (i, x) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        encode_into(x, out);
    }
    out.push(b']');
}

/// Broker's string escaping: only `\\ \" \b \f \n \r \t \v`; other bytes go raw, except NUL,
/// which brook writes as `\u0000` so that Broker can read it back.
fn put_string(s: &[u8], out: &mut Vec<u8>) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let mut start = 0;
    for (i, &c) in s.iter().enumerate() {
        let esc: &[u8] = match c {
            b'\\' => b"\\\\",
            b'"' => b"\\\"",
            0x08 => b"\\b",
            0x0c => b"\\f",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x0b => b"\\v",
            0 => b"\\u0000",
            _ => continue,
        };
        out.extend_from_slice(&s[start..i]);
        out.extend_from_slice(esc);
        start = i + 1;
    }
    out.extend_from_slice(&s[start..]);
    out.push(b'"');
}

/// `%f` where it is exact and readable by Broker, else the shortest exponent form.
fn real_text(r: f64) -> String {
    let fixed = format_real(r);
    if !r.is_finite() || (r.abs() < 1.8e19 && fixed.parse::<f64>().ok() == Some(r)) {
        return fixed;
    }
    format!("{r:e}")
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y, m, d)
}

/// The inverse of [`civil_from_days`].
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DDThh:mm:ss.mmm` as Broker writes it, with more digits when the value has
/// sub-millisecond precision.
fn timestamp_text(t: Timestamp) -> String {
    let secs = t.0.div_euclid(1_000_000_000);
    let nanos = t.0.rem_euclid(1_000_000_000);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    let frac = if nanos % 1_000_000 == 0 {
        format!("{:03}", nanos / 1_000_000)
    } else if nanos % 1_000 == 0 {
        format!("{:06}", nanos / 1_000)
    } else {
        format!("{nanos:09}")
    };
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{frac}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// `0s`, or the integer count of the coarsest exact unit among ns, us, ms and s.
fn timespan_text(t: Timespan) -> String {
    let n = t.0;
    if n == 0 {
        return "0s".into();
    }
    for (div, unit) in [(1_000_000_000, "s"), (1_000_000, "ms"), (1_000, "us")] {
        if n % div == 0 {
            return format!("{}{unit}", n / div);
        }
    }
    format!("{n}ns")
}

/// Reads an ISO 8601 timestamp as Broker accepts it: `YYYY-MM-DDThh:mm:ss`, an optional
/// fraction of 1-9 digits, and an optional zone `Z`, `±hh`, `±hh:mm` or `±hhmm`.
pub fn parse_timestamp(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos: i64 = 0;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        let mut end = start;
        while b.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
        let digits = end - start;
        if digits == 0 || digits > 9 {
            return None;
        }
        nanos = num(start..end)? * 10i64.pow(9 - digits as u32);
        i = end;
    }
    let offset_secs: i64 = match b.get(i) {
        None => 0,
        Some(b'Z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let rest = &s[i + 1..];
            let (oh, om) = match rest.len() {
                2 => (num(i + 1..i + 3)?, 0),
                4 => (num(i + 1..i + 3)?, num(i + 3..i + 5)?),
                5 if rest.as_bytes()[2] == b':' => (num(i + 1..i + 3)?, num(i + 4..i + 6)?),
                _ => return None,
            };
            let off = oh * 3600 + om * 60;
            if sign == b'+' { off } else { -off }
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo as u32, d as u32);
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec - offset_secs;
    let ns = (secs as i128) * 1_000_000_000 + nanos as i128;
    i64::try_from(ns).ok().map(Timestamp)
}

/// Decodes a value object `{"@data-type":T,"data":D}`.
pub fn decode(input: &[u8]) -> Result<Data> {
    let v = parse_document(input)?;
    to_data(&v, 0)
}

/// Decodes a WebSocket data message into its topic and value. As in Broker, `"type"` is
/// not checked; unlike Broker's server, a missing topic is an error.
pub fn decode_data_message(input: &[u8]) -> Result<(Vec<u8>, Data)> {
    let v = parse_document(input)?;
    let Value::Object(fields) = &v else {
        return Err(Error::decode("json: a data message must be a JSON object"));
    };
    let topic = match field(fields, "topic") {
        Some(Value::String(t)) => t.to_vec(),
        Some(_) => return Err(Error::decode("json: the topic must be a string")),
        None => return Err(Error::decode("json: the data message has no topic")),
    };
    Ok((topic, to_data(&v, 0)?))
}

/// A parsed JSON value. Numbers keep their text: count, integer and real read it
/// differently.
/// Strings and numbers borrow from the input unless they hold escapes.
#[derive(Debug)]
enum Value<'a> {
    Null,
    Bool(bool),
    Number(&'a str),
    String(Cow<'a, [u8]>),
    Array(Vec<Value<'a>>),
    Object(Vec<(Cow<'a, [u8]>, Value<'a>)>),
}

fn field<'v, 'a>(fields: &'v [(Cow<'a, [u8]>, Value<'a>)], name: &str) -> Option<&'v Value<'a>> {
    fields
        .iter()
        .find(|(k, _)| k.as_ref() == name.as_bytes())
        .map(|(_, v)| v)
}

fn bad(ty: DataType, why: impl std::fmt::Display) -> Error {
    Error::decode(format!("json: invalid {}: {why}", ty.name()))
}

fn to_data<'v>(v: &'v Value, depth: usize) -> Result<Data> {
    if depth > super::bin::MAX_DEPTH {
        return Err(Error::decode(format!(
            "json: nesting deeper than {}",
            super::bin::MAX_DEPTH
        )));
    }
    let Value::Object(fields) = v else {
        return Err(Error::decode("json: a value must be an object"));
    };
    let ty = match field(fields, "@data-type") {
        Some(Value::String(t)) => DataType::from_name(t).ok_or_else(|| {
            Error::decode(format!(
                "json: unknown @data-type \"{}\"",
                String::from_utf8_lossy(t)
            ))
        })?,
        _ => return Err(Error::decode("json: missing or non-string \"@data-type\"")),
    };
    let Some(d) = field(fields, "data") else {
        return Err(Error::decode("json: missing \"data\""));
    };
    let text = |d: &'v Value| -> Result<&'v str> {
        match d {
            Value::String(s) => std::str::from_utf8(s).map_err(|_| bad(ty, "not UTF-8")),
            _ => Err(bad(ty, "expected a JSON string")),
        }
    };
    let items = |d: &Value| -> Result<Vec<Data>> {
        match d {
            Value::Array(a) => a.iter().map(|x| to_data(x, depth + 1)).collect(),
            _ => Err(bad(ty, "expected a JSON array")),
        }
    };
    Ok(match ty {
        DataType::None => Data::None,
        DataType::Boolean => match d {
            Value::Bool(b) => Data::Boolean(*b),
            _ => return Err(bad(ty, "expected true or false")),
        },
        DataType::Count | DataType::Integer => {
            let Value::Number(n) = d else {
                return Err(bad(ty, "expected a number"));
            };
            if n.contains(['.', 'e', 'E']) || n.contains("nan") || n.contains("inf") {
                return Err(bad(ty, format!("{n} is not an integer")));
            }
            if ty == DataType::Count {
                Data::Count(
                    n.parse()
                        .map_err(|_| bad(ty, format!("{n} out of range")))?,
                )
            } else {
                Data::Integer(
                    n.parse()
                        .map_err(|_| bad(ty, format!("{n} out of range")))?,
                )
            }
        }
        DataType::Real => {
            let Value::Number(n) = d else {
                return Err(bad(ty, "expected a number"));
            };
            Data::Real(match *n {
                "nan" => f64::NAN,
                "-nan" => -f64::NAN,
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                _ if !n.contains(['.', 'e', 'E']) => {
                    return Err(bad(ty, format!("{n} has no fraction or exponent")));
                }
                _ => n.parse().map_err(|_| bad(ty, format!("bad number {n}")))?,
            })
        }
        DataType::String | DataType::Enum => match d {
            Value::String(s) if ty == DataType::String => Data::String(s.to_vec()),
            Value::String(s) => Data::Enum(s.to_vec()),
            _ => return Err(bad(ty, "expected a JSON string")),
        },
        DataType::Address => {
            let t = text(d)?;
            let a: std::net::IpAddr = t.parse().map_err(|_| bad(ty, t))?;
            Data::Address(Address::from(a))
        }
        DataType::Subnet => {
            let t = text(d)?;
            Data::Subnet(parse_subnet(t).ok_or_else(|| bad(ty, t))?)
        }
        DataType::Port => {
            let t = text(d)?;
            let (n, proto) = t.split_once('/').unwrap_or((t, "tcp"));
            let protocol = match proto {
                "tcp" => Protocol::Tcp,
                "udp" => Protocol::Udp,
                "icmp" => Protocol::Icmp,
                _ => Protocol::Unknown,
            };
            let number = n.parse().map_err(|_| bad(ty, t))?;
            Data::Port(Port::new(number, protocol))
        }
        DataType::Timestamp => {
            let t = text(d)?;
            Data::Timestamp(parse_timestamp(t).ok_or_else(|| bad(ty, t))?)
        }
        DataType::Timespan => {
            let t = text(d)?;
            Data::Timespan(Timespan(parse_timespan(t).ok_or_else(|| bad(ty, t))?))
        }
        DataType::Vector => Data::Vector(items(d)?),
        DataType::Set => {
            let v = items(d)?;
            let n = v.len();
            let s: Set = v.into_iter().collect();
            if s.len() != n {
                return Err(bad(ty, "duplicate element"));
            }
            Data::Set(s)
        }
        DataType::Table => {
            let Value::Array(entries) = d else {
                return Err(bad(ty, "expected a JSON array"));
            };
            let mut t = Table::new();
            for e in entries {
                let Value::Object(kv) = e else {
                    return Err(bad(ty, "entries must be {\"key\":...,\"value\":...}"));
                };
                let (Some(k), Some(v)) = (field(kv, "key"), field(kv, "value")) else {
                    return Err(bad(ty, "entries must be {\"key\":...,\"value\":...}"));
                };
                if t.insert(to_data(k, depth + 1)?, to_data(v, depth + 1)?)
                    .is_some()
                {
                    return Err(bad(ty, "duplicate key"));
                }
            }
            Data::Table(t)
        }
    })
}

/// JSON nesting (objects and arrays) allowed by the parser: room for [`bin::MAX_DEPTH`]
/// data levels, each up to three JSON levels deep (a table: object, array, entry object).
///
/// [`bin::MAX_DEPTH`]: super::bin::MAX_DEPTH
const MAX_JSON_DEPTH: usize = 3 * super::bin::MAX_DEPTH + 8;

fn parse_document(input: &[u8]) -> Result<Value<'_>> {
    let mut p = JsonParser { s: input, pos: 0 };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    if p.pos != input.len() {
        return Err(p.err("unexpected text after the JSON value"));
    }
    Ok(v)
}

struct JsonParser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> JsonParser<'a> {
    fn err(&self, what: &str) -> Error {
        Error::decode(format!("json: {what} at offset {}", self.pos))
    }

    fn ws(&mut self) {
        while matches!(self.s.get(self.pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.pos) == Some(&c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn literal(&mut self, word: &[u8]) -> bool {
        if self.s[self.pos..].starts_with(word) {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value<'a>> {
        if depth > MAX_JSON_DEPTH {
            return Err(self.err("nesting too deep"));
        }
        self.ws();
        let Some(&c) = self.s.get(self.pos) else {
            return Err(self.err("unexpected end of input"));
        };
        match c {
            b'{' => {
                self.pos += 1;
                let mut fields = Vec::new();
                if self.eat(b'}') {
                    return Ok(Value::Object(fields));
                }
                loop {
                    self.ws();
                    if self.s.get(self.pos) != Some(&b'"') {
                        return Err(self.err("expected a string key"));
                    }
                    let k = self.string()?;
                    if !self.eat(b':') {
                        return Err(self.err("expected ':'"));
                    }
                    fields.push((k, self.value(depth + 1)?));
                    if self.eat(b',') {
                        continue;
                    }
                    if self.eat(b'}') {
                        return Ok(Value::Object(fields));
                    }
                    return Err(self.err("expected ',' or '}'"));
                }
            }
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                if self.eat(b']') {
                    return Ok(Value::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    if self.eat(b',') {
                        continue;
                    }
                    if self.eat(b']') {
                        return Ok(Value::Array(items));
                    }
                    return Err(self.err("expected ',' or ']'"));
                }
            }
            b'"' => Ok(Value::String(self.string()?)),
            _ if self.literal(b"true") => Ok(Value::Bool(true)),
            _ if self.literal(b"false") => Ok(Value::Bool(false)),
            _ if self.literal(b"null") => Ok(Value::Null),
            _ => self.number(),
        }
    }

    /// A number, kept as text; also Broker's `nan`, `-nan`, `inf` and `-inf`.
    fn number(&mut self) -> Result<Value<'a>> {
        for special in ["-nan", "nan", "-inf", "inf"] {
            if self.literal(special.as_bytes()) {
                return Ok(Value::Number(special));
            }
        }
        let start = self.pos;
        let s = self.s;
        let digits = |p: &mut usize| {
            let from = *p;
            while s.get(*p).is_some_and(u8::is_ascii_digit) {
                *p += 1;
            }
            *p > from
        };
        let mut p = self.pos;
        if s.get(p) == Some(&b'-') {
            p += 1;
        }
        if !digits(&mut p) {
            return Err(self.err("unexpected character"));
        }
        if s.get(p) == Some(&b'.') {
            p += 1;
            if !digits(&mut p) {
                self.pos = p;
                return Err(self.err("expected digits after '.'"));
            }
        }
        if matches!(s.get(p), Some(b'e' | b'E')) {
            p += 1;
            if matches!(s.get(p), Some(b'+' | b'-')) {
                p += 1;
            }
            if !digits(&mut p) {
                self.pos = p;
                return Err(self.err("expected exponent digits"));
            }
        }
        self.pos = p;
        // Only ASCII digits, signs, '.' and 'e' were consumed.
        std::str::from_utf8(&s[start..p])
            .map(Value::Number)
            .map_err(|_| self.err("bad number"))
    }

    fn hex4(&mut self) -> Result<u32> {
        let h = self
            .s
            .get(self.pos..self.pos + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .ok_or_else(|| self.err("bad \\u escape"))?;
        self.pos += 4;
        Ok(h)
    }

    /// A string: escapes decoded (`\uXXXX` to UTF-8, surrogate pairs joined), every other byte
    /// taken as it is, as Broker does.
    fn string(&mut self) -> Result<Cow<'a, [u8]>> {
        self.pos += 1;
        let s = self.s;
        let start = self.pos;
        // Fast path: no escapes, borrow the bytes.
        let run = s[start..]
            .iter()
            .position(|&c| c == b'"' || c == b'\\')
            .ok_or_else(|| self.err("unterminated string"))?;
        if s[start + run] == b'"' {
            self.pos = start + run + 1;
            return Ok(Cow::Borrowed(&s[start..start + run]));
        }
        let mut out = s[start..start + run].to_vec();
        self.pos = start + run;
        loop {
            let Some(&c) = self.s.get(self.pos) else {
                return Err(self.err("unterminated string"));
            };
            self.pos += 1;
            match c {
                b'"' => return Ok(Cow::Owned(out)),
                b'\\' => {
                    let Some(&e) = self.s.get(self.pos) else {
                        return Err(self.err("unterminated escape"));
                    };
                    self.pos += 1;
                    let byte = match e {
                        b'"' | b'\\' | b'/' => e,
                        b'b' => 0x08,
                        b'f' => 0x0c,
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'v' => 0x0b,
                        b'u' => {
                            let mut cp = self.hex4()?;
                            if (0xD800..0xDC00).contains(&cp) && self.literal(b"\\u") {
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.err("bad surrogate pair"));
                                }
                                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                            }
                            let ch = char::from_u32(cp)
                                .ok_or_else(|| self.err("lone surrogate in \\u escape"))?;
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                            continue;
                        }
                        _ => return Err(self.err("unknown escape")),
                    };
                    out.push(byte);
                }
                _ => out.push(c),
            }
        }
    }
}
