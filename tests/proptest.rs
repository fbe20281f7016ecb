//! Property tests: random nested values survive every codec, random bytes never make a
//! decoder panic, and random values never make a typed read panic.

use brook::data::typed::AsSet;
use brook::data::zeek::Event;
use brook::data::{Set, Table, bin, json, text};
use brook::{
    Address, Data, EnumValue, Port, Protocol, Subnet, Timespan, Timestamp, from_data, to_data,
};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};

/// Reals that survive Broker's float packing: everything but subnormals (which CAF's
/// `pack754` corrupts, see spec §5.5).
fn real() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("no subnormals", |r| !r.is_subnormal()),
        Just(0.0),
        Just(-0.0),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(f64::NAN),
        (-1e7f64..1e7).prop_map(|r| (r * 1000.0).round() / 1000.0),
    ]
}

fn scalar() -> impl Strategy<Value = Data> {
    prop_oneof![
        Just(Data::None),
        any::<bool>().prop_map(Data::Boolean),
        any::<u64>().prop_map(Data::Count),
        any::<i64>().prop_map(Data::Integer),
        real().prop_map(Data::Real),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(Data::String),
        any::<[u8; 16]>().prop_map(|a| Data::Address(Address(a))),
        any::<[u8; 4]>().prop_map(|a| Data::Address(std::net::Ipv4Addr::from(a).into())),
        (any::<[u8; 16]>(), 0u8..=128).prop_map(|(a, p)| Data::Subnet(Subnet::new(Address(a), p))),
        (any::<[u8; 4]>(), 0u8..=32).prop_map(|(a, p)| {
            Data::Subnet(Subnet::new(std::net::Ipv4Addr::from(a).into(), p))
        }),
        (any::<u16>(), 0u8..4)
            .prop_map(|(n, p)| { Data::Port(Port::new(n, Protocol::from_u8(p).unwrap())) }),
        any::<i64>().prop_map(|t| Data::Timestamp(Timestamp(t))),
        any::<i64>().prop_map(|t| Data::Timespan(Timespan(t))),
        "[A-Za-z:_]{0,20}".prop_map(|s| Data::Enum(s.into_bytes())),
    ]
}

fn data() -> impl Strategy<Value = Data> {
    scalar().prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Data::Vector),
            prop::collection::btree_set(inner.clone(), 0..8).prop_map(Data::Set),
            prop::collection::btree_map(inner.clone(), inner, 0..8).prop_map(Data::Table),
        ]
    })
}

fn hash_of(d: &Data) -> u64 {
    let mut h = DefaultHasher::new();
    d.hash(&mut h);
    h.finish()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn bin_round_trip(d in data()) {
        let bytes = bin::encode(&d).unwrap();
        let back = bin::decode(&bytes).unwrap();
        prop_assert_eq!(&back, &d);
        // The size computed without encoding is the size encoded.
        prop_assert_eq!(bin::encoded_len(&d).unwrap(), bytes.len());
        prop_assert_eq!(bin::encode(&back).unwrap(), bytes);
    }

    #[test]
    fn json_round_trip_is_exact(d in data()) {
        let js = json::encode(&d);
        let back = json::decode(&js).unwrap();
        prop_assert_eq!(bin::encode(&back).unwrap(), bin::encode(&d).unwrap());
    }

    #[test]
    fn data_message_round_trip(topic in prop::collection::vec(any::<u8>(), 0..30), d in data()) {
        let msg = json::encode_data_message(&topic, &d);
        let (t, back) = json::decode_data_message(&msg).unwrap();
        prop_assert_eq!(t, topic);
        prop_assert_eq!(back, d);
    }

    #[test]
    fn order_is_total_and_consistent_with_eq_and_hash(a in data(), b in data()) {
        prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
        prop_assert_eq!(a == b, a.cmp(&b) == std::cmp::Ordering::Equal);
        if a == b {
            prop_assert_eq!(hash_of(&a), hash_of(&b));
        }
        prop_assert_eq!(hash_of(&a), hash_of(&a.clone()));
    }

    #[test]
    fn decoders_never_panic_on_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = bin::decode(&bytes);
        let _ = json::decode(&bytes);
        let _ = json::decode_data_message(&bytes);
        let _ = text::parse(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn decoder_survives_corrupted_encodings(d in data(), flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..4)) {
        let mut bytes = bin::encode(&d).unwrap();
        for (i, x) in flips {
            let n = bytes.len();
            bytes[i % n] ^= x;
        }
        if let Ok(v) = bin::decode(&bytes) {
            // Whatever decodes re-encodes to something decodable (reals may change:
            // CAF packing of subnormals is not an identity, spec §5.5).
            let again = bin::encode(&v).unwrap();
            prop_assert!(bin::decode(&again).is_ok());
        }
    }
}

#[test]
fn sets_and_tables_keep_brokers_order_for_mixed_types() {
    let s: Set = [
        Data::Vector(vec![]),
        Data::Count(1),
        Data::None,
        Data::Real(1.0),
        Data::Integer(-1),
        Data::Boolean(true),
    ]
    .into_iter()
    .collect();
    assert_eq!(
        text::render(&Data::Set(s)),
        b"{nil, T, 1, -1, 1.000000, ()}"
    );
    let t: Table = [
        (Data::from("b"), Data::Count(1)),
        (Data::from("a"), Data::Count(2)),
    ]
    .into_iter()
    .collect();
    assert_eq!(text::render(&Data::Table(t)), b"{a -> 2, b -> 1}");
}

#[test]
fn reals_equal_as_in_broker_and_nan_is_ordered() {
    assert_eq!(Data::Real(0.0), Data::Real(-0.0));
    assert_eq!(Data::Real(f64::NAN), Data::Real(-f64::NAN));
    assert!(Data::Real(f64::NAN) > Data::Real(f64::INFINITY));
    assert_eq!(hash_of(&Data::Real(0.0)), hash_of(&Data::Real(-0.0)));
    // Broker rejects a set with both zeros as a duplicate; so does brook.
    let dup = [
        0x0c, 0x02, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0x04, 0x80, 0, 0, 0, 0, 0, 0, 0,
    ];
    assert!(bin::decode(&dup).unwrap_err().message.contains("duplicate"));
}

#[test]
fn hostile_counts_do_not_allocate() {
    // A vector claiming 2^32 - 1 elements in a few bytes is rejected before allocating.
    let e = bin::decode(&[0x0e, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]).unwrap_err();
    assert!(e.message.contains("claims 4294967295 elements"), "{e}");
    assert!(e.message.contains("offset 1"), "{e}");
    let e = bin::decode(&[0x05, 0xff, 0xff, 0xff, 0xff, 0x0f]).unwrap_err();
    assert!(e.message.contains("truncated string"), "{e}");
}

#[test]
fn json_extensions_and_strictness() {
    let real = |s: &str| json::decode(format!(r#"{{"@data-type":"real","data":{s}}}"#).as_bytes());
    assert_eq!(real("inf").unwrap(), Data::Real(f64::INFINITY));
    assert_eq!(real("-inf").unwrap(), Data::Real(f64::NEG_INFINITY));
    assert!(matches!(real("nan").unwrap(), Data::Real(r) if r.is_nan()));
    assert_eq!(real("1e300").unwrap(), Data::Real(1e300));
    assert!(real("1").unwrap_err().message.contains("no fraction"));
    let one =
        |t: &str, v: &str| json::decode(format!(r#"{{"@data-type":"{t}","data":{v}}}"#).as_bytes());
    // Where Broker silently changes the value, brook refuses it.
    assert!(one("subnet", r#""10.0.0.0/33""#).is_err());
    assert!(one("port", r#""70000/tcp""#).is_err());
    assert_eq!(
        one("port", r#""80""#).unwrap(),
        Data::Port(Port::new(80, Protocol::Tcp))
    );
    assert_eq!(
        one("timespan", r#""1.5s""#).unwrap(),
        Data::Timespan(Timespan(1_500_000_000))
    );
    assert!(one("timespan", r#""1d""#).is_err());
    assert_eq!(
        one("timestamp", r#""2024-01-02T03:04:05.123456789+01:00""#).unwrap(),
        Data::Timestamp(Timestamp(1_704_161_045_123_456_789))
    );
    assert_eq!(
        one("string", r#""\u00e9\n\u0000x""#).unwrap(),
        Data::from("é\n\0x")
    );
    assert!(one("count", "18446744073709551616").is_err());
    assert!(
        one(
            "set",
            r#"[{"@data-type":"count","data":1},{"@data-type":"count","data":1}]"#
        )
        .unwrap_err()
        .message
        .contains("duplicate")
    );
    // Sub-millisecond and pre-1970 timestamps keep every digit.
    for ns in [
        1,
        -1,
        -1_500_000_000,
        i64::MIN,
        i64::MAX,
        1_704_164_645_678_901_000,
    ] {
        let d = Data::Timestamp(Timestamp(ns));
        assert_eq!(json::decode(&json::encode(&d)).unwrap(), d, "{ns}");
    }
}

#[test]
fn text_parser_rules() {
    let p = |s: &str| text::parse(s).unwrap();
    assert_eq!(p("42"), Data::Count(42));
    assert_eq!(p("-42"), Data::Integer(-42));
    assert_eq!(p("+42"), Data::Integer(42));
    assert_eq!(p("4.2"), Data::Real(4.2));
    assert_eq!(p("10ns"), Data::Timespan(Timespan(10)));
    assert_eq!(p("@10ns"), Data::Timestamp(Timestamp(10)));
    assert_eq!(p("2min"), Data::Timespan(Timespan(120_000_000_000)));
    assert_eq!(p("hello world"), Data::from("hello world"));
    assert_eq!(p(r#""42""#), Data::from("42"));
    assert_eq!(p("'Conn::LOG'"), Data::enum_value("Conn::LOG"));
    assert_eq!(
        text::render(&p("{b -> (1, 10.0.0.0/8, 80/tcp), a -> {T, F}}")),
        b"{a -> {F, T}, b -> (1, 10.0.0.0/8, 80/tcp)}"
    );
    assert!(text::parse("{1, 1}").is_err());
    assert!(text::parse("(1, 2").is_err());
    assert!(text::parse("{a -> 1, b}").is_err());
}

// Typed reads (brook::from_data) of random values: never a panic, and whatever reads back
// serializes to the very value it came from (for types that have one Broker form).

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
enum Kind {
    #[serde(rename = "Conn::LOG")]
    Log,
    Note(String),
    Pair(u8, i8),
    Rec {
        n: u64,
        on: bool,
    },
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Record {
    n: u16,
    i: i32,
    text: String,
    maybe: Option<u64>,
    list: Vec<i16>,
    by_port: BTreeMap<Port, bool>,
    host: Address,
    net: Subnet,
    at: Timestamp,
    took: Timespan,
    name: EnumValue,
    ids: AsSet<BTreeSet<i64>>,
    kind: Kind,
    real: f64,
}

/// Vectors of a few scalars: the shape of records and argument lists, so that reads get
/// past the first check more often than with any value.
fn record_like() -> impl Strategy<Value = Data> {
    prop_oneof![
        data(),
        near_record(),
        prop::collection::vec(scalar(), 0..5).prop_map(Data::Vector),
        prop::collection::vec(data(), 0..16).prop_map(Data::Vector),
    ]
}

/// `d` with every set written as the vector of its elements (in order): a `Vec` field also
/// reads a set (documented), and writes it back as a vector.
fn sets_as_vectors(d: &Data) -> Data {
    match d {
        Data::Set(s) => Data::Vector(s.iter().map(sets_as_vectors).collect()),
        Data::Vector(v) => Data::Vector(v.iter().map(sets_as_vectors).collect()),
        Data::Table(t) => Data::Table(
            t.iter()
                .map(|(k, v)| (k.clone(), sets_as_vectors(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Reads `d` as a `T`; when that works, the value must serialize back to `d` exactly, but
/// for sets read into `Vec` fields (which come back as vectors), and read again.
fn read_exact<T: for<'de> Deserialize<'de> + Serialize>(d: &Data) -> Result<(), TestCaseError> {
    if let Ok(v) = from_data::<T>(d) {
        let back = to_data(&v).unwrap();
        if &back != d {
            prop_assert_eq!(sets_as_vectors(&back), sets_as_vectors(d));
        }
        prop_assert!(
            from_data::<T>(&back).is_ok(),
            "what was written reads again"
        );
    }
    Ok(())
}

/// A valid record with one field, or one element inside a field, swapped for the same
/// place of another record (often valid) or for any value (rarely valid).
fn near_record() -> impl Strategy<Value = Data> {
    (
        record(),
        record(),
        any::<usize>(),
        any::<usize>(),
        data(),
        any::<bool>(),
    )
        .prop_map(|(a, b, i, j, any, same_place)| {
            let (Ok(Data::Vector(mut fields)), Ok(Data::Vector(other))) =
                (to_data(&a), to_data(&b))
            else {
                unreachable!("records are vectors")
            };
            let i = i % fields.len();
            let replacement = if same_place { other[i].clone() } else { any };
            match &mut fields[i] {
                Data::Vector(inner) if !inner.is_empty() && !same_place => {
                    let j = j % inner.len();
                    inner[j] = replacement;
                }
                field => *field = replacement,
            }
            Data::Vector(fields)
        })
}

fn record() -> impl Strategy<Value = Record> {
    let kind = prop_oneof![
        Just(Kind::Log),
        ".{0,8}".prop_map(Kind::Note),
        (any::<u8>(), any::<i8>()).prop_map(|(a, b)| Kind::Pair(a, b)),
        (any::<u64>(), any::<bool>()).prop_map(|(n, on)| Kind::Rec { n, on }),
    ];
    let port =
        (any::<u16>(), 0u8..4).prop_map(|(n, p)| Port::new(n, Protocol::from_u8(p).unwrap()));
    (
        (
            any::<u16>(),
            any::<i32>(),
            ".{0,12}",
            any::<Option<u64>>(),
            prop::collection::vec(any::<i16>(), 0..6),
        ),
        (
            prop::collection::btree_map(port, any::<bool>(), 0..4),
            any::<[u8; 16]>(),
            any::<[u8; 16]>(),
            0u8..=128,
        ),
        (
            any::<i64>(),
            any::<i64>(),
            "[A-Za-z:_]{0,12}",
            prop::collection::btree_set(any::<i64>(), 0..5),
            kind,
            real(),
        ),
    )
        .prop_map(
            |(
                (n, i, text, maybe, list),
                (by_port, host, net, len),
                (at, took, name, ids, kind, real),
            )| Record {
                n,
                i,
                text,
                maybe,
                list,
                by_port,
                host: Address(host),
                net: Subnet::new(Address(net), len),
                at: Timestamp(at),
                took: Timespan(took),
                name: EnumValue(name),
                ids: AsSet(ids),
                kind,
                real,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn typed_reads_never_panic(d in record_like()) {
        prop_assert_eq!(&from_data::<Data>(&d).unwrap(), &d);
        prop_assert_eq!(&to_data(&d).unwrap(), &d);
        read_exact::<Record>(&d)?;
        read_exact::<Kind>(&d)?;
        read_exact::<(u64, String)>(&d)?;
        read_exact::<Option<Address>>(&d)?;
        read_exact::<BTreeMap<String, Timestamp>>(&d)?;
        read_exact::<AsSet<BTreeSet<i64>>>(&d)?;
        read_exact::<Vec<Port>>(&d).ok(); // a set reads as a Vec, so not always exact
        let _ = from_data::<Vec<Option<Vec<u8>>>>(&d);
        let _ = from_data::<BTreeSet<Subnet>>(&d);
        let _ = from_data::<(char, f32, i8, u128, i128)>(&d);
        let _ = from_data::<serde_json::Value>(&d);
        if let Data::Vector(args) = &d {
            let event = Event::new("e", args.clone());
            let _ = event.args_as::<Record>();
            let _ = event.args_as::<(u64, String)>();
            let _ = event.args_as::<()>();
        }
    }

    #[test]
    fn typed_values_round_trip_through_the_wire_format(r in record()) {
        // Compared as Data, where NaN equals NaN as in Broker (the derived == says no).
        let d = to_data(&r).unwrap();
        let back = bin::decode(&bin::encode(&d).unwrap()).unwrap();
        let read = from_data::<Record>(&back).unwrap();
        prop_assert_eq!(to_data(&read).unwrap(), d.clone());
        if !r.real.is_nan() {
            prop_assert_eq!(&read, &r);
        }
        let event = Event::with_args("record", &r).unwrap();
        prop_assert_eq!(Data::Vector(event.args.clone()), d);
        let event = Event::from_bytes(&bin::encode(&Data::from(event)).unwrap()).unwrap();
        prop_assert_eq!(to_data(&event.args_as::<Record>().unwrap()).unwrap(), to_data(&r).unwrap());
    }
}

#[test]
fn encoding_keeps_the_decoders_depth_limit() {
    let nested = |depth: usize| (0..depth).fold(Data::Count(1), |d, _| Data::Vector(vec![d]));
    let ok = bin::encode(&nested(bin::MAX_DEPTH)).unwrap();
    assert!(bin::validate(&ok).is_ok());
    assert_eq!(bin::encoded_len(&nested(bin::MAX_DEPTH)).unwrap(), ok.len());
    let e = bin::encode(&nested(bin::MAX_DEPTH + 1)).unwrap_err();
    assert_eq!(e.kind, brook::ErrorKind::Encode);
    assert!(e.message.contains("deeper than 128"), "{e}");
    let e = bin::encoded_len(&nested(bin::MAX_DEPTH + 1)).unwrap_err();
    assert_eq!(e.kind, brook::ErrorKind::Encode);
    // Lengths whose varbyte takes 1, 2 and 3 bytes.
    for n in [0, 127, 128, 16383, 16384] {
        let s = Data::String(vec![b'x'; n]);
        assert_eq!(
            bin::encoded_len(&s).unwrap(),
            bin::encode(&s).unwrap().len(),
            "{n}"
        );
    }
}
