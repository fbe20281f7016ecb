//! Broker's text rendering (`broker::to_string`, Python's `str(broker.Data(x))`), and a
//! parser for it, for command-line use.
//!
//! Rendering is byte-exact with Broker: `nil`, `T`/`F`, reals as C's `%f` (`4.200000`,
//! `nan`, `-inf`), strings and enum names copied raw (no quotes, no escapes), timestamps and
//! timespans as `<n>ns`, `{a, b}` for sets, `{k -> v}` for tables, `(a, b)` for vectors.
//!
//! The rendering is ambiguous (a string `1` looks like a count), so [`parse`] reads it with
//! these rules, which a command line can rely on:
//! - `nil`, `T`, `F`; a plain non-negative integer is a count, a negative one an integer,
//!   `+N` an integer; a number with `.` or an exponent, `nan`, `inf`, `-inf` is a real;
//! - `N/tcp`, `N/udp`, `N/icmp`, `N/?` is a port; an IPv4 or IPv6 address is an address, with
//!   `/N` a subnet;
//! - `Nns` is a timespan, `@Nns` a timestamp (brook's own marker; Broker prints both as
//!   `Nns`); `1.5s`, `10ms`, `2min` and the other units of the JSON format are timespans;
//! - `{...}` is a set, or a table if its first element has `->`; `(...)` is a vector;
//! - `"..."` is a string with C-style escapes (`\n`, `\t`, `\\`, `\"`, `\xHH`), `'...'` an enum
//!   value with the same escapes; any other bare word is a string.

use super::{Address, Data, Port, Protocol, Set, Subnet, Table, Timespan, Timestamp};
use crate::error::{Error, Result};
use std::io::Write;

/// Appends Broker's text rendering of `d` to `out`.
pub fn render_into(d: &Data, out: &mut Vec<u8>) {
    // Writing into a Vec cannot fail.
    let _ = match d {
        Data::None => write!(out, "nil"),
        Data::Boolean(b) => write!(out, "{}", if *b { "T" } else { "F" }),
        Data::Count(c) => write!(out, "{c}"),
        Data::Integer(i) => write!(out, "{i}"),
        Data::Real(r) => {
            out.extend_from_slice(format_real(*r).as_bytes());
            Ok(())
        }
        Data::String(s) | Data::Enum(s) => {
            out.extend_from_slice(s);
            Ok(())
        }
        Data::Address(a) => write!(out, "{a}"),
        Data::Subnet(s) => write!(out, "{s}"),
        Data::Port(p) => write!(out, "{p}"),
        Data::Timestamp(t) => write!(out, "{t}"),
        Data::Timespan(t) => write!(out, "{t}"),
        Data::Set(s) => {
            out.push(b'{');
            render_seq(s.iter(), out);
            out.push(b'}');
            Ok(())
        }
        Data::Table(t) => {
            out.push(b'{');
            for (i, (k, v)) in t.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                render_into(k, out);
                out.extend_from_slice(b" -> ");
                render_into(v, out);
            }
            out.push(b'}');
            Ok(())
        }
        Data::Vector(v) => {
            out.push(b'(');
            render_seq(v.iter(), out);
            out.push(b')');
            Ok(())
        }
    };
}

fn render_seq<'a>(items: impl Iterator<Item = &'a Data>, out: &mut Vec<u8>) {
    for (i, x) in items.enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        render_into(x, out);
    }
}

/// Broker's text rendering of `d`, as bytes (strings inside may be any bytes).
pub fn render(d: &Data) -> Vec<u8> {
    let mut out = Vec::new();
    render_into(d, &mut out);
    out
}

/// A real as C's `printf("%f")` prints it: six decimals, every integer digit, and `nan`,
/// `-nan`, `inf`, `-inf` for the special values.
pub fn format_real(r: f64) -> String {
    if r.is_nan() {
        return if r.is_sign_negative() { "-nan" } else { "nan" }.to_string();
    }
    if r.is_infinite() {
        return if r > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    // Rust prints the exact decimal expansion and rounds half to even, as glibc does.
    format!("{r:.6}")
}

impl std::fmt::Display for Data {
    /// Broker's rendering; bytes that are not UTF-8 show as U+FFFD.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&String::from_utf8_lossy(&render(self)))
    }
}

/// Parses the text form described in the module documentation.
pub fn parse(text: &str) -> Result<Data> {
    let mut p = Parser {
        s: text.as_bytes(),
        pos: 0,
        depth: 0,
    };
    p.skip_ws();
    let d = p.value()?;
    p.skip_ws();
    if p.pos != p.s.len() {
        return Err(p.err("unexpected text after the value"));
    }
    Ok(d)
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn err(&self, what: &str) -> Error {
        Error::decode(format!("text: {what} at offset {}", self.pos))
    }

    fn skip_ws(&mut self) {
        while self
            .s
            .get(self.pos)
            .is_some_and(|c| c.is_ascii_whitespace())
        {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn value(&mut self) -> Result<Data> {
        match self.peek() {
            None => Err(self.err("expected a value")),
            Some(b'{') | Some(b'(') => self.container(),
            Some(q @ (b'"' | b'\'')) => {
                let bytes = self.quoted(q)?;
                Ok(if q == b'"' {
                    Data::String(bytes)
                } else {
                    Data::Enum(bytes)
                })
            }
            Some(_) => {
                let start = self.pos;
                // A bare word runs to the next delimiter of the enclosing container.
                while let Some(c) = self.peek() {
                    if matches!(c, b',' | b')' | b'}') {
                        break;
                    }
                    if c == b'-' && self.s.get(self.pos + 1) == Some(&b'>') {
                        break;
                    }
                    self.pos += 1;
                }
                let word = std::str::from_utf8(&self.s[start..self.pos])
                    .map_err(|_| self.err("invalid UTF-8"))?
                    .trim_end();
                Ok(scalar(word))
            }
        }
    }

    fn quoted(&mut self, q: u8) -> Result<Vec<u8>> {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.err("unterminated quoted string"));
            };
            self.pos += 1;
            if c == q {
                return Ok(out);
            }
            if c != b'\\' {
                out.push(c);
                continue;
            }
            let Some(e) = self.peek() else {
                return Err(self.err("unterminated escape"));
            };
            self.pos += 1;
            out.push(match e {
                b'n' => b'\n',
                b't' => b'\t',
                b'r' => b'\r',
                b'0' => 0,
                b'x' => {
                    let hex = self.s.get(self.pos..self.pos + 2).unwrap_or_default();
                    let v = std::str::from_utf8(hex)
                        .ok()
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                        .ok_or_else(|| self.err("bad \\x escape"))?;
                    self.pos += 2;
                    v
                }
                other => other,
            });
        }
    }

    fn container(&mut self) -> Result<Data> {
        if self.depth >= super::bin::MAX_DEPTH {
            return Err(self.err("nesting too deep"));
        }
        self.depth += 1;
        let open = self.s[self.pos];
        let close = if open == b'{' { b'}' } else { b')' };
        self.pos += 1;
        let mut items = Vec::new();
        let mut values = Vec::new();
        let mut is_table = None;
        self.skip_ws();
        if self.peek() == Some(close) {
            self.pos += 1;
        } else {
            loop {
                self.skip_ws();
                let k = self.value()?;
                self.skip_ws();
                let arrow = self.s[self.pos..].starts_with(b"->");
                if open == b'(' && arrow {
                    return Err(self.err("'->' inside a vector"));
                }
                match is_table {
                    None => is_table = Some(arrow),
                    Some(t) if t != arrow => return Err(self.err("mixed set and table entries")),
                    _ => {}
                }
                if arrow {
                    self.pos += 2;
                    self.skip_ws();
                    values.push(self.value()?);
                    self.skip_ws();
                }
                items.push(k);
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(c) if c == close => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(self.err("expected ',' or a closing bracket")),
                }
            }
        }
        self.depth -= 1;
        if open == b'(' {
            return Ok(Data::Vector(items));
        }
        let n = items.len();
        if is_table == Some(true) {
            let t: Table = items.into_iter().zip(values).collect();
            if t.len() != n {
                return Err(self.err("duplicate table key"));
            }
            return Ok(Data::Table(t));
        }
        let s: Set = items.into_iter().collect();
        if s.len() != n {
            return Err(self.err("duplicate set element"));
        }
        Ok(Data::Set(s))
    }
}

fn scalar(word: &str) -> Data {
    match word {
        "nil" => return Data::None,
        "T" => return Data::Boolean(true),
        "F" => return Data::Boolean(false),
        "nan" => return Data::Real(f64::NAN),
        "-nan" => return Data::Real(-f64::NAN),
        "inf" => return Data::Real(f64::INFINITY),
        "-inf" => return Data::Real(f64::NEG_INFINITY),
        _ => {}
    }
    if let Some(n) = word.strip_prefix('@').and_then(|w| w.strip_suffix("ns")) {
        if let Ok(v) = n.parse::<i64>() {
            return Data::Timestamp(Timestamp(v));
        }
    }
    if let Some(d) = parse_number(word) {
        return d;
    }
    if let Some(ns) = parse_timespan(word) {
        return Data::Timespan(Timespan(ns));
    }
    if let Some(p) = parse_port(word) {
        return Data::Port(p);
    }
    if let Ok(a) = word.parse::<std::net::IpAddr>() {
        return Data::Address(a.into());
    }
    if let Some(s) = parse_subnet(word) {
        return Data::Subnet(s);
    }
    Data::String(word.as_bytes().to_vec())
}

fn parse_number(w: &str) -> Option<Data> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if digits(w) {
        return w.parse().ok().map(Data::Count);
    }
    if let Some(rest) = w.strip_prefix(['-', '+']) {
        if digits(rest) {
            return w.parse().ok().map(Data::Integer);
        }
    }
    let numeric = w
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'-' | b'+'));
    if numeric && w.bytes().any(|c| c.is_ascii_digit()) && w.contains(['.', 'e', 'E']) {
        return w.parse().ok().map(Data::Real);
    }
    None
}

/// A timespan with a unit, as in Broker's JSON: an optional sign, a number that may have a
/// fraction, and one of `ns`, `us`, `ms`, `s`, `min`, `h`. Returns nanoseconds.
pub fn parse_timespan(w: &str) -> Option<i64> {
    let split = w.find(|c: char| c.is_ascii_alphabetic())?;
    let (num, unit) = w.split_at(split);
    let scale: i128 = match unit {
        "ns" => 1,
        "us" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "min" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    };
    let (neg, body) = match num.as_bytes().first()? {
        b'-' => (true, &num[1..]),
        b'+' => (false, &num[1..]),
        _ => (false, num),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().chain(frac.bytes()).all(|c| c.is_ascii_digit()) || frac.len() > 18 {
        return None;
    }
    let int_v: i128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut total = int_v.checked_mul(scale)?;
    if !frac.is_empty() {
        let frac_v: i128 = frac.parse().ok()?;
        total += frac_v * scale / 10i128.pow(frac.len() as u32);
    }
    let total = if neg { -total } else { total };
    i64::try_from(total).ok()
}

/// `N/tcp`, `N/udp`, `N/icmp` or `N/?`.
pub fn parse_port(w: &str) -> Option<Port> {
    let (n, proto) = w.split_once('/')?;
    let protocol = match proto {
        "tcp" => Protocol::Tcp,
        "udp" => Protocol::Udp,
        "icmp" => Protocol::Icmp,
        "?" => Protocol::Unknown,
        _ => return None,
    };
    Some(Port::new(n.parse().ok()?, protocol))
}

/// `address/prefix`, masked; an out-of-range prefix is rejected rather than giving `::/0`.
pub fn parse_subnet(w: &str) -> Option<Subnet> {
    let (a, len) = w.split_once('/')?;
    let addr: Address = a.parse::<std::net::IpAddr>().ok()?.into();
    Subnet::checked(addr, len.parse().ok()?)
}
