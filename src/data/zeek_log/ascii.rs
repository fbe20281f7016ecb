//! Zeek's ASCII log writer, as text: the header lines and one line per record, in TSV
//! (the default) or JSON (`LogAscii::use_json`), byte for byte as Zeek's writer renders
//! them at its defaults (zeek `src/logging/writers/ascii/Ascii.cc`,
//! `src/threading/formatters/Ascii.cc`, `JSON.cc`, `src/Desc.cc`, `src/util.cc`).
//!
//! Defaults: separator `\t`, set separator `,`, empty field `(empty)`, unset field `-`,
//! meta prefix `#`, UTF-8 enabled (`LogAscii::enable_utf_8`), JSON timestamps as epoch
//! doubles and strings with the hex escape policy. The `#open` and `#close` stamps are the
//! caller's (local time, `%Y-%m-%d-%H-%M-%S`). Pure functions: no I/O here.

use super::{Field, Value};
use std::fmt::Write as _;
use std::net::IpAddr;

/// Zeek's default separators.
pub const SEPARATOR: &[u8] = b"\t";
pub const SET_SEPARATOR: &[u8] = b",";
pub const EMPTY_FIELD: &[u8] = b"(empty)";
pub const UNSET_FIELD: &[u8] = b"-";
pub const META_PREFIX: &[u8] = b"#";

fn hex(out: &mut Vec<u8>, b: u8) {
    const H: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(&[b'\\', b'x', H[(b >> 4) as usize], H[(b & 15) as usize]]);
}

/// `util::get_escaped_string(s, false)`: spaces, non-ASCII and unprintable bytes as `\xNN`,
/// a backslash as `\\`. Used for the header's values.
fn header_escape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for &c in s {
        if c.is_ascii_whitespace() || c == 0x0b || !c.is_ascii() || !(0x20..0x7f).contains(&c) {
            if c == b'\\' {
                out.extend_from_slice(b"\\\\");
            } else {
                hex(&mut out, c);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether `b` starts a UTF-8 character Zeek writes as is (its `check_ok_utf8`): a valid
/// sequence, not a control, private-use or specials character. Returns its length.
fn ok_utf8(b: &[u8]) -> Option<usize> {
    let n = match b[0] {
        0x00..=0xbf => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        0xf8..=0xfb => 5,
        _ => 6,
    };
    let s = std::str::from_utf8(b.get(..n)?).ok()?;
    let c = s.chars().next()? as u32;
    let bad = c <= 0x1f
        || c == 0x7f
        || (0x80..=0x9f).contains(&c)
        || (0xe000..=0xf8ff).contains(&c)
        || (0xfff0..=0xffff).contains(&c);
    (!bad).then_some(n)
}

/// `util::escape_utf8(s, flags)`: ASCII printables as is, controls escaped (all, or all but
/// `\b \f \n \r \t` when `keep_printable_controls`), valid UTF-8 as is, unless a bad
/// sequence occurs: then every non-ASCII byte of `s` is escaped.
fn escape_utf8(out: &mut Vec<u8>, s: &[u8], keep_printable_controls: bool) {
    let start = out.len();
    let mut i = 0;
    let mut bad = false;
    while i < s.len() {
        let c = s[i];
        let printable_control = matches!(c, 8 | 12 | b'\n' | b'\r' | b'\t');
        if (0x20..0x7f).contains(&c) || (keep_printable_controls && printable_control) {
            out.push(c);
            i += 1;
        } else if c < 0x80 {
            hex(out, c);
            i += 1;
        } else if let (false, Some(n)) = (bad, ok_utf8(&s[i..])) {
            out.extend_from_slice(&s[i..i + n]);
            i += n;
        } else {
            if !bad {
                // Redo what came before with every non-ASCII byte escaped.
                bad = true;
                let done = s[..i].to_vec();
                out.truncate(start);
                for &d in &done {
                    let pc = matches!(d, 8 | 12 | b'\n' | b'\r' | b'\t');
                    if (0x20..0x7f).contains(&d) || (keep_printable_controls && pc) {
                        out.push(d);
                    } else {
                        hex(out, d);
                    }
                }
            }
            hex(out, c);
            i += 1;
        }
    }
}

/// ODesc::AddBytes with escaping and UTF-8 on: a backslash and the escape sequences (the
/// separator, and inside containers the set separator) are escaped byte by byte, the
/// stretches between go through `escape_utf8`.
fn add_escaped(out: &mut Vec<u8>, s: &[u8], sequences: &[&[u8]]) {
    let mut from = 0;
    let mut i = 0;
    while i < s.len() {
        let esc_len = if s[i] == b'\\' {
            1
        } else {
            sequences
                .iter()
                .find(|q| !q.is_empty() && s[i..].starts_with(q))
                .map_or(0, |q| q.len())
        };
        if esc_len == 0 {
            i += 1;
            continue;
        }
        escape_utf8(out, &s[from..i], false);
        for &c in &s[i..i + esc_len] {
            if c == b'\\' {
                out.extend_from_slice(b"\\\\");
            } else {
                hex(out, c);
            }
        }
        i += esc_len;
        from = i;
    }
    escape_utf8(out, &s[from..], false);
}

/// Zeek's `double_to_str(d, 6, no_exp = true)` plus ODesc's `.0` for integral values: a
/// `double` field.
pub fn format_double(d: f64) -> String {
    if d.is_nan() {
        return "nan".into();
    }
    if d.is_infinite() {
        return if d < 0.0 { "-inf".into() } else { "inf".into() };
    }
    let mut s = format!("{:.6}", d.abs());
    while s.ends_with('0') {
        s.pop();
    }
    if s.ends_with('.') {
        s.pop();
    }
    if d < 0.0 {
        s.insert(0, '-');
    }
    if (d - d.round_ties_even()).abs() < 1e-9 {
        s.push_str(".0");
    }
    s
}

/// Zeek's `Formatter::Render(double)`: fixed with 6 decimals, for time and interval fields.
pub fn format_time(d: f64) -> String {
    if d.is_nan() {
        return if d.is_sign_negative() {
            "-nan".into()
        } else {
            "nan".into()
        };
    }
    format!("{d:.6}")
}

fn render_addr(a: &IpAddr) -> String {
    a.to_string()
}

fn render_subnet(a: &IpAddr, len: u8) -> String {
    match a {
        IpAddr::V4(_) => format!("{a}/{}", len as i32 - 96),
        IpAddr::V6(_) => format!("{a}/{len}"),
    }
}

/// The one-character escape of a string equal to a reserved word (`-`, `(empty)`).
fn reserved(out: &mut Vec<u8>, s: &[u8]) -> bool {
    if s == UNSET_FIELD || s == EMPTY_FIELD {
        hex(out, s[0]);
        out.extend_from_slice(&s[1..]);
        return true;
    }
    false
}

fn tsv_value(out: &mut Vec<u8>, v: &Value, seqs: &[&[u8]]) {
    let add = |out: &mut Vec<u8>, s: &str| add_escaped(out, s.as_bytes(), seqs);
    match v {
        Value::Unset(..) => add_escaped(out, UNSET_FIELD, seqs),
        Value::Bool(b) => add(out, if *b { "T" } else { "F" }),
        Value::Int(i) => add(out, &i.to_string()),
        Value::Count(c) => add(out, &c.to_string()),
        Value::Port(p, _) => add(out, &p.to_string()),
        Value::Addr(a) => add(out, &render_addr(a)),
        Value::Subnet(a, l) => add(out, &render_subnet(a, *l)),
        Value::Double(d) => add(out, &format_double(*d)),
        Value::Time(d) | Value::Interval(d) => add(out, &format_time(*d)),
        Value::String(s) | Value::Enum(s) | Value::File(s) | Value::Func(s) => {
            if s.is_empty() {
                add_escaped(out, EMPTY_FIELD, seqs);
            } else if !reserved(out, s) {
                add_escaped(out, s, seqs);
            }
        }
        Value::Set(_, es) | Value::Vector(_, es) => {
            if es.is_empty() {
                add_escaped(out, EMPTY_FIELD, seqs);
                return;
            }
            let inner: [&[u8]; 2] = [SEPARATOR, SET_SEPARATOR];
            for (j, e) in es.iter().enumerate() {
                if j > 0 {
                    out.extend_from_slice(SET_SEPARATOR);
                }
                tsv_value(out, e, &inner);
            }
        }
    }
}

/// One field's text as it appears in a TSV line (`-` for unset, `(empty)` for an empty
/// string or container, escaped as the writer escapes it).
pub fn tsv_field(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    tsv_value(&mut out, v, &[SEPARATOR]);
    out
}

/// One record as a TSV line, newline included (`Ascii::DoWrite`).
pub fn tsv_line(values: &[Value]) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 * values.len());
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(SEPARATOR);
        }
        tsv_value(&mut out, v, &[SEPARATOR]);
    }
    out.push(b'\n');
    if out.starts_with(META_PREFIX) {
        let first = out[0];
        let mut fixed = Vec::with_capacity(out.len() + 3);
        hex(&mut fixed, first);
        fixed.extend_from_slice(&out[1..]);
        return fixed;
    }
    out
}

fn header_field(out: &mut Vec<u8>, key: &str, val: &[u8]) {
    out.extend_from_slice(META_PREFIX);
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(SEPARATOR);
    out.extend_from_slice(val);
    out.push(b'\n');
}

/// The header of a TSV log file (`Ascii::WriteHeader`); `open` is the `#open` stamp.
pub fn tsv_header(path: &[u8], fields: &[Field], open: &str) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(META_PREFIX);
    out.extend_from_slice(b"separator ");
    out.extend_from_slice(&header_escape(SEPARATOR));
    out.push(b'\n');
    header_field(&mut out, "set_separator", &header_escape(SET_SEPARATOR));
    header_field(&mut out, "empty_field", &header_escape(EMPTY_FIELD));
    header_field(&mut out, "unset_field", &header_escape(UNSET_FIELD));
    header_field(&mut out, "path", &header_escape(path));
    header_field(&mut out, "open", open.as_bytes());
    let join = |f: &dyn Fn(&Field) -> String| {
        fields
            .iter()
            .map(f)
            .collect::<Vec<_>>()
            .join("\t")
            .into_bytes()
    };
    header_field(&mut out, "fields", &join(&|f| f.name.clone()));
    header_field(&mut out, "types", &join(&|f| f.type_name()));
    out
}

/// The last line of a TSV log file; `close` is the `#close` stamp.
pub fn tsv_footer(close: &str) -> Vec<u8> {
    let mut out = Vec::new();
    header_field(&mut out, "close", close.as_bytes());
    out
}

/// rapidjson's string writer: quotes, `\"`, `\\`, `\b \f \n \r \t`, other controls as
/// `\u00XX`, everything else as is.
fn json_string(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &c in s {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            8 => out.extend_from_slice(b"\\b"),
            12 => out.extend_from_slice(b"\\f"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            c if c < 0x20 => {
                let _ = write!(StrSink(out), "\\u{:04X}", c);
            }
            c => out.push(c),
        }
    }
    out.push(b'"');
}

struct StrSink<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for StrSink<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// rapidjson's `Writer::Double` as Zeek's `NullDoubleWriter` uses it: the shortest
/// round-trip digits laid out by rapidjson's `Prettify` (`1.0`, `0.000001`, `1e-7`,
/// `1e300`, `1.5e22`), and `null` for NaN and infinities.
pub fn json_double(d: f64) -> String {
    if !d.is_finite() {
        return "null".into();
    }
    // Rust's `{:e}` gives the same shortest digits (Grisu/Ryu agree on shortest).
    let sci = format!("{:e}", d.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let exp: i32 = exp.parse().unwrap_or(0);
    let length = digits.len() as i32;
    let kk = exp + 1; // where the decimal point goes
    let k = kk - length;
    let mut out = String::new();
    if d.is_sign_negative() {
        out.push('-');
    }
    if d == 0.0 {
        out.push_str("0.0");
    } else if 0 <= k && kk <= 21 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', k as usize));
        out.push_str(".0");
    } else if 0 < kk && kk <= 21 {
        out.push_str(&digits[..kk as usize]);
        out.push('.');
        out.push_str(&digits[kk as usize..]);
    } else if -6 < kk && kk <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-kk) as usize));
        out.push_str(&digits);
    } else if length == 1 {
        let _ = write!(out, "{digits}e{}", kk - 1);
    } else {
        let _ = write!(out, "{}.{}e{}", &digits[..1], &digits[1..], kk - 1);
    }
    out
}

fn json_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Unset(..) => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Count(c) | Value::Port(c, _) => out.extend_from_slice(c.to_string().as_bytes()),
        Value::Addr(a) => json_string(out, render_addr(a).as_bytes()),
        Value::Subnet(a, l) => json_string(out, render_subnet(a, *l).as_bytes()),
        Value::Double(d) | Value::Interval(d) | Value::Time(d) => {
            out.extend_from_slice(json_double(*d).as_bytes())
        }
        Value::String(s) | Value::Enum(s) | Value::File(s) | Value::Func(s) => {
            let mut esc = Vec::with_capacity(s.len());
            escape_utf8(&mut esc, s, true);
            json_string(out, &esc);
        }
        Value::Set(_, es) | Value::Vector(_, es) => {
            out.push(b'[');
            for (i, e) in es.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json_value(out, e);
            }
            out.push(b']');
        }
    }
}

/// One record as a JSON line, newline included; unset fields are left out, as at Zeek's
/// default `LogAscii::json_include_unset_fields = F`.
pub fn json_line(fields: &[Field], values: &[Value]) -> Vec<u8> {
    let mut out = Vec::with_capacity(48 * values.len());
    out.push(b'{');
    let mut first = true;
    for (f, v) in fields.iter().zip(values) {
        if let Value::Unset(..) = v {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        json_string(&mut out, f.name.as_bytes());
        out.push(b':');
        json_value(&mut out, v);
    }
    out.extend_from_slice(b"}\n");
    out
}
