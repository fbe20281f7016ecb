//! Zeek's log records (`brook::data::zeek_log`): the codec against LogWrites a real Zeek
//! 9.1 sent (captured by `brook logger --capture` from `tests/zeek/all_types.zeek`), the
//! TSV and JSON lines against the files Zeek's own writer wrote for the same records, a
//! round trip of generated records, and untrusted input.

use brook::data::zeek::{LogWrite, Message};
use brook::data::zeek_log::{
    Field, LogRecord, Proto, Stream, TypeTag, Value, ascii, decode_values, encode_values,
};
use brook::data::{Data, bin};
use proptest::prelude::*;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/zeek_logs");

/// The captured messages: 4-byte big-endian lengths, each followed by a bin-v1 payload.
fn captured() -> Vec<Message> {
    let bytes = std::fs::read(format!("{DATA}/all_types.bin")).unwrap();
    let mut out = Vec::new();
    let mut rest = &bytes[..];
    while rest.len() >= 4 {
        let n = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let d = bin::decode(&rest[4..4 + n]).unwrap();
        out.push(Message::try_from(d).unwrap());
        rest = &rest[4 + n..];
    }
    assert!(rest.is_empty());
    out
}

fn flatten(m: Message, creates: &mut Vec<Stream>, writes: &mut Vec<LogWrite>) {
    match m {
        Message::LogCreate(c) => creates.push(Stream::from_create(&c).unwrap()),
        Message::LogWrite(w) => writes.push(w),
        Message::Batch(ms) => ms.into_iter().for_each(|m| flatten(m, creates, writes)),
        _ => {}
    }
}

/// Every record Zeek sent, by path, in order.
fn records() -> (HashMap<String, Stream>, Vec<(LogWrite, LogRecord)>) {
    let (mut creates, mut writes) = (Vec::new(), Vec::new());
    for m in captured() {
        flatten(m, &mut creates, &mut writes);
    }
    let streams: HashMap<_, _> = creates
        .into_iter()
        .map(|s| (s.stream_id.clone(), s))
        .collect();
    let recs = writes
        .into_iter()
        .map(|w| {
            let r = streams[&w.stream_id].record(&w).unwrap();
            (w, r)
        })
        .collect();
    (streams, recs)
}

fn without_stamps(text: &[u8]) -> Vec<u8> {
    text.split_inclusive(|&b| b == b'\n')
        .filter(|l| !l.starts_with(b"#open") && !l.starts_with(b"#close"))
        .flatten()
        .copied()
        .collect()
}

#[test]
fn zeeks_fields_and_values_decode() {
    let (streams, recs) = records();
    let s = &streams["Test::LOG"];
    assert_eq!(s.writer_id, "Log::WRITER_ASCII");
    assert_eq!(s.path.as_deref(), Some(&b"brook_test"[..]));
    let names: Vec<_> = s.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names[..4], ["b", "i", "c", "d"]);
    assert_eq!(s.fields[11].type_name(), "set[string]");
    assert_eq!(
        s.fields[13],
        Field::new("va", TypeTag::Vector, TypeTag::Addr, false)
    );
    assert!(s.fields[15].optional);
    assert_eq!(
        recs.iter().filter(|(w, _)| w.path == b"brook_test").count(),
        6
    );
    let test: Vec<_> = recs
        .iter()
        .filter(|(w, _)| w.path == b"brook_test")
        .map(|(_, r)| r)
        .collect();
    let first = &test[0].values;
    assert_eq!(first[0], Value::Bool(true));
    assert_eq!(first[1], Value::Int(-42));
    assert_eq!(first[2], Value::Count(u64::MAX));
    assert_eq!(first[5], Value::Interval(1.5));
    assert_eq!(
        first[7],
        Value::Addr(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)))
    );
    assert_eq!(
        first[8],
        Value::subnet(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 0)), 8)
    );
    assert_eq!(first[9], Value::Port(80, Proto::Tcp));
    assert_eq!(first[10], Value::Enum(b"Test::RED".to_vec()));
    assert!(matches!(
        &test[1].values[15],
        Value::Unset(TypeTag::String, _)
    ));
    assert_eq!(test[0].stream_id, "Test::LOG");
    assert_eq!(first[8].to_data().to_string(), "10.0.0.0/8");
}

#[test]
fn encoding_is_zeeks_byte_for_byte() {
    for (w, r) in records().1 {
        assert_eq!(encode_values(&r.values).unwrap(), w.serial_data);
        assert_eq!(decode_values(&w.serial_data).unwrap(), r.values);
    }
}

fn file_for(path: &str, json: bool) -> Vec<u8> {
    let (streams, recs) = records();
    let mut out = Vec::new();
    let recs: Vec<_> = recs
        .into_iter()
        .filter(|(w, _)| w.path == path.as_bytes())
        .collect();
    let s = &streams[&recs[0].0.stream_id];
    if !json {
        out.extend(ascii::tsv_header(path.as_bytes(), &s.fields, "x"));
    }
    for (_, r) in &recs {
        out.extend(if json {
            ascii::json_line(&s.fields, &r.values)
        } else {
            ascii::tsv_line(&r.values)
        });
    }
    if !json {
        out.extend(ascii::tsv_footer("y"));
    }
    out
}

#[test]
fn tsv_matches_zeeks_ascii_writer() {
    for path in ["brook_test", "brook_small"] {
        let want = std::fs::read(format!("{DATA}/{path}.tsv")).unwrap();
        let got = without_stamps(&file_for(path, false));
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want),
            "{path}"
        );
        assert_eq!(got, want);
    }
}

#[test]
fn json_matches_zeeks_use_json() {
    for path in ["brook_test", "brook_small"] {
        let want = std::fs::read(format!("{DATA}/{path}.json")).unwrap();
        assert_eq!(file_for(path, true), want, "{path}");
    }
}

#[test]
fn doubles_format_as_zeek() {
    for (d, tsv, json) in [
        (3.0, "3.0", "3.0"),
        (0.1, "0.1", "0.1"),
        (-0.000001, "-0.000001", "-0.000001"),
        (2.5e-7, "0", "2.5e-7"),
        (1e21, "1000000000000000000000.0", "1e21"),
        (1.5e22, "15000000000000000000000.0", "1.5e22"),
        (
            123_456_789.123_456_79,
            "123456789.123457",
            "123456789.12345679",
        ),
        (f64::NAN, "nan", "null"),
        (f64::NEG_INFINITY, "-inf", "null"),
    ] {
        assert_eq!(ascii::format_double(d), tsv, "{d}");
        assert_eq!(ascii::json_double(d), json, "{d}");
    }
    assert_eq!(ascii::format_time(-1.5), "-1.500000");
}

#[test]
fn building_a_log_write() {
    let stream = Stream {
        stream_id: "Test::LOG".into(),
        writer_id: "Log::WRITER_ASCII".into(),
        path: Some(b"t".to_vec()),
        fields: vec![
            Field::new("n", TypeTag::Count, TypeTag::Void, false),
            Field::new("tags", TypeTag::Table, TypeTag::String, false),
            Field::new("o", TypeTag::Addr, TypeTag::Void, true),
        ],
    };
    let values = vec![
        Value::Count(1),
        Value::Set(TypeTag::String, vec![Value::String(b"a".to_vec())]),
        Value::Unset(TypeTag::Addr, TypeTag::Void),
    ];
    let w = stream.write(b"t", &values).unwrap();
    assert_eq!(stream.record(&w).unwrap().values, values);
    // Through Data and back, as it travels.
    let create = Stream::from_create(&stream.to_create()).unwrap();
    assert_eq!(create, stream);
    let m = Message::try_from(Data::from(Message::LogWrite(w.clone()))).unwrap();
    assert_eq!(m, Message::LogWrite(w));
    // Checked against the fields.
    let e = stream.write(b"t", &values[..2]).unwrap_err();
    assert_eq!(e.to_string(), "stream Test::LOG: 2 values for 3 fields");
    let bad = vec![Value::Int(1), values[1].clone(), values[2].clone()];
    let e = stream.write(b"t", &bad).unwrap_err();
    assert_eq!(
        e.to_string(),
        "stream Test::LOG: field n: a int value for a count field"
    );
    let bad = vec![
        values[0].clone(),
        Value::Set(TypeTag::String, vec![Value::Count(1)]),
        values[2].clone(),
    ];
    let e = stream.write(b"t", &bad).unwrap_err();
    assert_eq!(
        e.to_string(),
        "stream Test::LOG: field tags: a count element in a set[string] field"
    );
}

#[test]
fn untrusted_input_gives_clear_errors() {
    let err = |b: &[u8]| decode_values(b).unwrap_err().to_string();
    assert!(err(&[]).contains("truncated"), "{}", err(&[]));
    assert!(err(&[0xff, 0xff, 0xff, 0xff]).contains("fields do not fit"));
    assert!(err(&[0, 0, 0, 100]).contains("fields do not fit"));
    // One count value, cut short.
    let good = encode_values(&[Value::Count(7)]).unwrap();
    for cut in 0..good.len() {
        assert!(decode_values(&good[..cut]).is_err());
    }
    let mut extra = good.clone();
    extra.push(0);
    assert_eq!(err(&extra), "log record: 1 bytes after the last value");
    // A string length past the end, a negative one, and a huge container count.
    let mut s = encode_values(&[Value::String(b"abc".to_vec())]).unwrap();
    s[13..17].copy_from_slice(&1000i32.to_be_bytes());
    assert!(err(&s).contains("a string needs 1000 bytes"), "{}", err(&s));
    s[13..17].copy_from_slice(&(-1i32).to_be_bytes());
    assert!(err(&s).contains("negative string length"));
    let mut v = encode_values(&[Value::Vector(TypeTag::Count, vec![])]).unwrap();
    let n = v.len();
    v[n - 8..].copy_from_slice(&u64::MAX.to_be_bytes());
    assert!(
        err(&v).contains("more than the 0 bytes left can hold"),
        "{}",
        err(&v)
    );
    // Unknown tags, a type Zeek does not log, nesting, a bad family and protocol.
    let mut t = good.clone();
    t[4..8].copy_from_slice(&99i32.to_be_bytes());
    assert!(err(&t).contains("unknown type tag 99"));
    t[4..8].copy_from_slice(&(TypeTag::Record as i32).to_be_bytes());
    assert!(err(&t).contains("Zeek does not log record values"));
    let nested = Value::Vector(TypeTag::Vector, vec![Value::Vector(TypeTag::Count, vec![])]);
    assert!(encode_values(&[nested]).is_err());
    let mut nest = encode_values(&[Value::Vector(TypeTag::Vector, vec![Value::Count(1)])]).unwrap();
    let at = 4 + 9 + 8; // the element's type tag
    nest[at..at + 4].copy_from_slice(&(TypeTag::Vector as i32).to_be_bytes());
    nest.extend_from_slice(&[0; 8]);
    assert!(
        err(&nest).contains("a container inside a container"),
        "{}",
        err(&nest)
    );
    let mut a = encode_values(&[Value::Addr(IpAddr::V4(Ipv4Addr::LOCALHOST))]).unwrap();
    a[13] = 5;
    assert!(err(&a).contains("address family 5"));
    let mut p = encode_values(&[Value::Port(1, Proto::Udp)]).unwrap();
    let n = p.len();
    p[n - 4..].copy_from_slice(&9i32.to_be_bytes());
    assert!(err(&p).contains("port protocol 9"));
}

fn atomic() -> impl Strategy<Value = Value> {
    let bytes = || prop::collection::vec(any::<u8>(), 0..12);
    prop_oneof![
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        any::<u64>().prop_map(Value::Count),
        any::<f64>().prop_map(Value::Double),
        any::<f64>().prop_map(Value::Time),
        any::<f64>().prop_map(Value::Interval),
        bytes().prop_map(Value::String),
        bytes().prop_map(Value::Enum),
        (any::<u16>(), 0..4u8).prop_map(|(p, k)| Value::Port(
            p as u64,
            [Proto::Unknown, Proto::Tcp, Proto::Udp, Proto::Icmp][k as usize]
        )),
        any::<[u8; 4]>().prop_map(|a| Value::Addr(IpAddr::V4(Ipv4Addr::from(a)))),
        any::<[u8; 16]>().prop_map(|a| Value::Addr(IpAddr::V6(Ipv6Addr::from(a)))),
        (any::<[u8; 4]>(), 0..=32u8).prop_map(|(a, l)| Value::subnet(IpAddr::V4(a.into()), l)),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => atomic(),
        1 => prop::collection::vec(atomic(), 0..5).prop_map(|v| Value::Set(v.first().map_or(TypeTag::Void, Value::type_tag), v)),
        1 => prop::collection::vec(atomic(), 0..5).prop_map(|v| Value::Vector(v.first().map_or(TypeTag::Void, Value::type_tag), v)),
        1 => Just(Value::Unset(TypeTag::String, TypeTag::Void)),
    ]
}

/// Value's `PartialEq` compares doubles by value; compare NaNs by their bits.
fn same(a: &[Value], b: &[Value]) -> bool {
    encode_values(a).unwrap() == encode_values(b).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn log_values_round_trip(values in prop::collection::vec(value(), 0..12)) {
        let bytes = encode_values(&values).unwrap();
        let back = decode_values(&bytes).unwrap();
        prop_assert!(same(&back, &values));
        prop_assert_eq!(encode_values(&back).unwrap(), bytes);
        // Rendering never panics, and a TSV line is one line.
        let line = ascii::tsv_line(&back);
        prop_assert_eq!(line.iter().filter(|&&b| b == b'\n').count(), 1);
        let fields: Vec<_> = back.iter().enumerate()
            .map(|(i, v)| Field::new(format!("f{i}"), v.type_tag(), v.subtype_tag(), true)).collect();
        let _ = ascii::json_line(&fields, &back);
    }

    #[test]
    fn log_decoding_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode_values(&bytes);
    }
}

/// With BROOK_FUZZ_SEEDS=DIR, writes each captured record's serial data there (the seeds
/// of the zeek_log_decode fuzz target, in fuzz/seeds/).
#[test]
fn fuzz_seeds() {
    let Some(dir) = std::env::var_os("BROOK_FUZZ_SEEDS") else {
        return;
    };
    for (i, (w, _)) in records().1.iter().enumerate() {
        std::fs::write(
            std::path::Path::new(&dir).join(format!("zeek-{i}")),
            &w.serial_data,
        )
        .unwrap();
    }
}
