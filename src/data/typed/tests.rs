//! Every mapping both ways, and every error with its path and text.

use super::{AsSet, EnumValue, TypedError, as_set, from_data, to_data};
use crate::data::{Address, Data, Port, Protocol, Subnet, Timespan, Timestamp};
use crate::error::ErrorKind;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Debug;
use std::net::Ipv4Addr;

fn s(text: &str) -> Data {
    Data::string(text)
}

fn vector(items: impl IntoIterator<Item = Data>) -> Data {
    Data::Vector(items.into_iter().collect())
}

fn addr(a: u8, b: u8, c: u8, d: u8) -> Address {
    Ipv4Addr::new(a, b, c, d).into()
}

/// `value` becomes `data`, and `data` reads back as `value`.
fn both_ways<T>(value: T, data: Data)
where
    T: Serialize + for<'de> Deserialize<'de> + PartialEq + Debug,
{
    assert_eq!(to_data(&value).unwrap(), data, "serializing {value:?}");
    assert_eq!(
        from_data::<T>(&data).unwrap(),
        value,
        "deserializing {data:?}"
    );
}

/// Reading `data` as a `T` fails with exactly `text`.
fn fails<T: for<'de> Deserialize<'de> + Debug>(data: Data, text: &str) -> TypedError {
    let e = from_data::<T>(&data).expect_err(text);
    assert_eq!(e.to_string(), text);
    e
}

#[test]
fn scalars_map_to_their_broker_types() {
    both_ways(true, Data::Boolean(true));
    both_ways(7u8, Data::Count(7));
    both_ways(7u16, Data::Count(7));
    both_ways(7u32, Data::Count(7));
    both_ways(u64::MAX, Data::Count(u64::MAX));
    both_ways(7usize, Data::Count(7));
    both_ways(u128::from(u64::MAX), Data::Count(u64::MAX));
    both_ways(-7i8, Data::Integer(-7));
    both_ways(-7i16, Data::Integer(-7));
    both_ways(-7i32, Data::Integer(-7));
    both_ways(i64::MIN, Data::Integer(i64::MIN));
    both_ways(-7isize, Data::Integer(-7));
    both_ways(i128::from(i64::MIN), Data::Integer(i64::MIN));
    both_ways(1.5f32, Data::Real(1.5));
    both_ways(-2.25f64, Data::Real(-2.25));
    both_ways('é', s("é"));
    both_ways("hello".to_string(), s("hello"));
    both_ways((), Data::None);
    both_ways(Some(3u64), Data::Count(3));
    both_ways(None::<u64>, Data::None);
}

#[test]
fn strings_borrow_from_the_data() {
    let d = s("borrowed");
    let text: &str = from_data(&d).unwrap();
    assert_eq!(text, "borrowed");
    assert_eq!(to_data("borrowed").unwrap(), d);
}

/// Bytes the way `serde_bytes` hands them over: `serialize_bytes`, `deserialize_bytes`.
#[derive(Debug, PartialEq)]
struct Bytes(Vec<u8>);

impl Serialize for Bytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Bytes;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E>(self, b: &[u8]) -> Result<Bytes, E> {
                Ok(Bytes(b.to_vec()))
            }
        }
        d.deserialize_bytes(V)
    }
}

#[test]
fn bytes_are_strings_of_any_bytes() {
    both_ways(
        Bytes(vec![0, 0xff, b'a']),
        Data::String(vec![0, 0xff, b'a']),
    );
    // A Vec<u8> without serde_bytes is a sequence of counts, as serde makes it.
    both_ways(vec![1u8, 2], vector([Data::Count(1), Data::Count(2)]));
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Inner {
    x: i32,
    label: String,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Outer {
    id: u64,
    inner: Inner,
    note: Option<String>,
    items: Vec<u16>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Pair(u64, String);

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Meters(f64);

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Marker;

#[test]
fn structs_are_records_in_field_order() {
    let value = Outer {
        id: 1,
        inner: Inner {
            x: -2,
            label: "l".into(),
        },
        note: None,
        items: vec![3, 4],
    };
    let data = vector([
        Data::Count(1),
        vector([Data::Integer(-2), s("l")]),
        Data::None,
        vector([Data::Count(3), Data::Count(4)]),
    ]);
    both_ways(value, data);
}

#[test]
fn tuples_newtypes_and_unit_structs() {
    both_ways(
        (1u64, -1i64, "x".to_string()),
        vector([Data::Count(1), Data::Integer(-1), s("x")]),
    );
    both_ways(Pair(5, "five".into()), vector([Data::Count(5), s("five")]));
    both_ways(Meters(2.5), Data::Real(2.5));
    both_ways(Marker, Data::None);
    both_ways([1u64, 2, 3], vector([1u64, 2, 3].map(Data::Count)));
}

#[test]
fn maps_are_tables() {
    let mut m = BTreeMap::new();
    m.insert("a".to_string(), 1i64);
    m.insert("b".to_string(), 2i64);
    let table = Data::Table(
        [(s("a"), Data::Integer(1)), (s("b"), Data::Integer(2))]
            .into_iter()
            .collect(),
    );
    both_ways(m, table.clone());
    let h: HashMap<String, i64> = from_data(&table).unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(to_data(&h).unwrap(), table);
    // Composite keys, as Zeek's multi-index tables have them.
    let mut by_conn = BTreeMap::new();
    by_conn.insert((addr(10, 0, 0, 1), Port::new(80, Protocol::Tcp)), 3u64);
    let d = Data::Table(
        [(
            vector([
                Data::Address(addr(10, 0, 0, 1)),
                Data::Port(Port::new(80, Protocol::Tcp)),
            ]),
            Data::Count(3),
        )]
        .into_iter()
        .collect(),
    );
    both_ways(by_conn, d);
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Hosts {
    #[serde(with = "as_set")]
    seen: HashSet<u64>,
    ordered: BTreeSet<u64>,
}

#[test]
fn sets_need_as_set_to_go_out_and_read_from_sets_or_vectors() {
    let set = Data::Set([Data::Count(1), Data::Count(2)].into_iter().collect());
    let vec = vector([Data::Count(1), Data::Count(2)]);
    both_ways(AsSet(BTreeSet::from([1u64, 2])), set.clone());
    assert_eq!(
        from_data::<AsSet<HashSet<u64>>>(&set).unwrap().0,
        HashSet::from([1, 2])
    );
    both_ways(
        Hosts {
            seen: HashSet::from([1, 2]),
            ordered: BTreeSet::from([1, 2]),
        },
        vector([set.clone(), vec.clone()]),
    );
    // Plain collections read a set or a vector, and go out as a vector.
    assert_eq!(
        from_data::<BTreeSet<u64>>(&set).unwrap(),
        BTreeSet::from([1, 2])
    );
    assert_eq!(from_data::<Vec<u64>>(&set).unwrap(), vec![1, 2]);
    assert_eq!(to_data(&BTreeSet::from([1u64, 2])).unwrap(), vec);
    // AsSet insists on a set.
    fails::<AsSet<Vec<u64>>>(vec, "expected set, found vector");
    // An AsSet's elements are checked like any others.
    fails::<AsSet<Vec<u64>>>(set_of([s("x")]), "at [0]: expected count, found string");
}

fn set_of(items: impl IntoIterator<Item = Data>) -> Data {
    Data::Set(items.into_iter().collect())
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
enum Action {
    Drop,
    #[serde(rename = "Notice::ACTION_LOG")]
    Log,
    Redirect(Address),
    Limit(u64, u64),
    Tag {
        name: String,
        level: i8,
    },
}

#[test]
fn enums_are_enum_values_or_a_label_with_its_payload() {
    both_ways(Action::Drop, Data::enum_value("Drop"));
    both_ways(Action::Log, Data::enum_value("Notice::ACTION_LOG"));
    let a = addr(192, 168, 0, 1);
    both_ways(
        Action::Redirect(a),
        vector([Data::enum_value("Redirect"), Data::Address(a)]),
    );
    both_ways(
        Action::Limit(1, 2),
        vector([
            Data::enum_value("Limit"),
            vector([Data::Count(1), Data::Count(2)]),
        ]),
    );
    both_ways(
        Action::Tag {
            name: "t".into(),
            level: -1,
        },
        vector([Data::enum_value("Tag"), vector([s("t"), Data::Integer(-1)])]),
    );
}

#[test]
fn enum_errors() {
    fails::<Action>(
        Data::enum_value("Explode"),
        "unknown variant `Explode`, expected one of `Drop`, `Notice::ACTION_LOG`, `Redirect`, \
         `Limit`, `Tag`",
    );
    fails::<Action>(
        s("Drop"),
        "expected enum-value (variant of Action), found string",
    );
    fails::<Action>(
        Data::enum_value("Redirect"),
        "variant Redirect carries a value: expected (enum-value, payload), found enum-value",
    );
    fails::<Action>(
        vector([Data::enum_value("Drop"), Data::None]),
        "variant Drop carries no value: expected enum-value, found a vector",
    );
    fails::<Action>(
        vector([Data::enum_value("Redirect"), Data::Count(1)]),
        "at Redirect: expected address, found count",
    );
    fails::<Action>(
        vector([
            Data::enum_value("Tag"),
            vector([s("t"), Data::Integer(300)]),
        ]),
        "at Tag.level: integer 300 does not fit in i8",
    );
    fails::<Action>(
        vector([Data::Count(1)]),
        "expected enum-value or (enum-value, payload) for Action, found a vector of 1 elements",
    );
}

#[test]
fn broker_types_round_trip_exactly() {
    both_ways(addr(10, 0, 0, 1), Data::Address(addr(10, 0, 0, 1)));
    let v6: Address = "2001:db8::1".parse::<std::net::Ipv6Addr>().unwrap().into();
    both_ways(v6, Data::Address(v6));
    let net = Subnet::new(addr(10, 1, 0, 0), 16);
    both_ways(net, Data::Subnet(net));
    // A subnet as an odd peer may send it, unmasked: still exact.
    let raw = Subnet {
        network: addr(10, 1, 2, 3),
        raw_len: 104,
    };
    both_ways(raw, Data::Subnet(raw));
    for p in [
        Port::new(80, Protocol::Tcp),
        Port::new(53, Protocol::Udp),
        Port::new(8, Protocol::Icmp),
        Port::new(0, Protocol::Unknown),
    ] {
        both_ways(p, Data::Port(p));
    }
    both_ways(Timestamp(-5), Data::Timestamp(Timestamp(-5)));
    both_ways(Timespan(1_500_000), Data::Timespan(Timespan(1_500_000)));
    both_ways(EnumValue::new("Conn::LOG"), Data::enum_value("Conn::LOG"));
}

#[test]
fn broker_types_are_checked() {
    fails::<Address>(s("10.0.0.1"), "expected address, found string");
    fails::<Subnet>(
        Data::Address(addr(1, 2, 3, 4)),
        "expected subnet, found address",
    );
    fails::<Port>(Data::Count(80), "expected port, found count");
    fails::<Timestamp>(
        Data::Timespan(Timespan(1)),
        "expected timestamp, found timespan",
    );
    fails::<Timespan>(Data::Integer(1), "expected timespan, found integer");
    fails::<EnumValue>(s("Conn::LOG"), "expected enum-value, found string");
    fails::<EnumValue>(Data::Enum(vec![0xff]), "the enum value's name is not UTF-8");
}

#[test]
fn numbers_are_strict_and_range_checked() {
    fails::<u64>(Data::Integer(1), "expected count, found integer");
    fails::<i64>(Data::Count(1), "expected integer, found count");
    fails::<f64>(Data::Count(1), "expected real, found count");
    fails::<bool>(Data::Count(1), "expected boolean, found count");
    fails::<u8>(Data::Count(256), "count 256 does not fit in u8");
    fails::<u32>(Data::Count(1 << 32), "count 4294967296 does not fit in u32");
    fails::<i16>(Data::Integer(-40000), "integer -40000 does not fit in i16");
    fails::<i8>(Data::Integer(128), "integer 128 does not fit in i8");
    assert_eq!(from_data::<i8>(&Data::Integer(-128)).unwrap(), -128);
    assert_eq!(from_data::<u16>(&Data::Count(65535)).unwrap(), 65535);
}

#[test]
fn values_broker_cannot_hold_fail_to_serialize() {
    let e = to_data(&(u128::from(u64::MAX) + 1)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "18446744073709551616 does not fit in a Broker count (64-bit unsigned)"
    );
    assert_eq!(crate::error::Error::from(e).kind, ErrorKind::Encode);
    let e = to_data(&vec![(0u8, i128::MIN)]).unwrap_err();
    assert_eq!(e.path(), "[0][1]");
    assert!(
        e.message().contains("does not fit in a Broker integer"),
        "{e}"
    );
}

#[test]
fn strings_and_chars_are_checked() {
    fails::<String>(
        Data::Enum(b"x".to_vec()),
        "expected string, found enum-value",
    );
    fails::<String>(Data::String(vec![0xff]), "the string is not UTF-8");
    fails::<char>(
        s("ab"),
        "expected a string of one character, found 2 characters",
    );
    fails::<char>(
        s(""),
        "expected a string of one character, found 0 characters",
    );
    fails::<()>(Data::Count(0), "expected none, found count");
}

#[test]
fn errors_name_the_path() {
    let good = to_data(&Outer {
        id: 1,
        inner: Inner {
            x: 2,
            label: "l".into(),
        },
        note: Some("n".into()),
        items: vec![1, 2, 3],
    })
    .unwrap();
    let Data::Vector(mut fields) = good.clone() else {
        unreachable!()
    };
    fields[1] = vector([Data::Integer(2), Data::Count(9)]);
    let e = fails::<Outer>(
        Data::Vector(fields.clone()),
        "at inner.label: expected string, found count",
    );
    assert_eq!(e.path(), "inner.label");
    assert_eq!(e.message(), "expected string, found count");
    assert_eq!(crate::error::Error::from(e).kind, ErrorKind::TypeMismatch);

    let Data::Vector(mut fields) = good else {
        unreachable!()
    };
    fields[3] = vector([Data::Count(1), Data::Count(1), s("3")]);
    fails::<Outer>(
        Data::Vector(fields),
        "at items[2]: expected count, found string",
    );

    let mut t = BTreeMap::new();
    t.insert(Data::Address(addr(10, 0, 0, 1)), s("x"));
    fails::<BTreeMap<Address, Vec<u64>>>(
        Data::Table(t.clone()),
        "at [10.0.0.1]: expected vector or set, found string",
    );
    fails::<BTreeMap<String, String>>(
        Data::Table(t),
        "at [10.0.0.1]: in the key: expected string, found address",
    );
}

#[test]
fn records_and_tuples_take_exactly_their_length() {
    fails::<Inner>(
        vector([Data::Integer(1)]),
        "expected struct Inner with 2 elements, found 1 elements",
    );
    fails::<Inner>(
        vector([Data::Integer(1), s("a"), s("b")]),
        "record Inner has 2 fields, found a vector of 3",
    );
    fails::<Inner>(
        Data::Count(1),
        "expected vector (record Inner), found count",
    );
    fails::<(u64, u64)>(
        vector([Data::Count(1)]),
        "expected a vector of 2 elements (tuple), found 1",
    );
    fails::<Pair>(
        vector([Data::Count(1), s("a"), s("b")]),
        "expected a vector of 2 elements (Pair), found 3",
    );
    fails::<Vec<u64>>(Data::Count(1), "expected vector or set, found count");
    fails::<BTreeMap<u64, u64>>(vector([]), "expected table, found vector");
}

#[derive(Deserialize, Debug, PartialEq)]
struct WithDefault {
    a: u64,
    #[serde(default)]
    b: Option<u64>,
}

#[test]
fn trailing_defaults_may_be_missing() {
    assert_eq!(
        from_data::<WithDefault>(&vector([Data::Count(1)])).unwrap(),
        WithDefault { a: 1, b: None }
    );
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(untagged)]
enum Loose {
    N(u64),
    S(String),
    Host(Address),
}

#[test]
fn self_describing_targets_see_every_value() {
    assert_eq!(from_data::<Loose>(&Data::Count(1)).unwrap(), Loose::N(1));
    assert_eq!(from_data::<Loose>(&s("x")).unwrap(), Loose::S("x".into()));
    // Without the marker an address is its text, so an untagged enum takes the first
    // variant that accepts a string.
    let a = Data::Address(addr(10, 0, 0, 1));
    assert_eq!(from_data::<Loose>(&a).unwrap(), Loose::S("10.0.0.1".into()));
    let json: serde_json::Value = from_data(&vector([
        Data::None,
        Data::Boolean(true),
        Data::Integer(-1),
        a,
        Data::Port(Port::new(80, Protocol::Tcp)),
        Data::Timespan(Timespan(5)),
        Data::enum_value("E"),
        set_of([Data::Count(1)]),
        Data::Table([(s("k"), Data::Real(0.5))].into_iter().collect()),
    ]))
    .unwrap();
    assert_eq!(
        json.to_string(),
        r#"[null,true,-1,"10.0.0.1","80/tcp",5,"E",[1],{"k":0.5}]"#
    );
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Everything {
    host: Address,
    net: Subnet,
    port: Port,
    at: Timestamp,
    took: Timespan,
    kind: EnumValue,
    tags: AsSet<BTreeSet<String>>,
}

#[test]
fn other_formats_get_text_and_numbers() {
    let value = Everything {
        host: addr(10, 0, 0, 1),
        net: Subnet::new(addr(10, 0, 0, 0), 8),
        port: Port::new(443, Protocol::Tcp),
        at: Timestamp(1_681_827_194_000_000_000),
        took: Timespan(-3),
        kind: EnumValue::new("Conn::LOG"),
        tags: AsSet(BTreeSet::from(["a".to_string()])),
    };
    let json = serde_json::to_string(&value).unwrap();
    assert_eq!(
        json,
        r#"{"host":"10.0.0.1","net":"10.0.0.0/8","port":"443/tcp","at":1681827194000000000,"took":-3,"kind":"Conn::LOG","tags":["a"]}"#
    );
    assert_eq!(serde_json::from_str::<Everything>(&json).unwrap(), value);
    assert!(serde_json::from_str::<Port>(r#""80/xyz""#).is_err());
    assert!(serde_json::from_str::<Address>(r#""10.0.0""#).is_err());
    // And the same value through Data, with every Broker type in place.
    let d = to_data(&value).unwrap();
    assert_eq!(
        crate::data::text::render(&d),
        b"(10.0.0.1, 10.0.0.0/8, 443/tcp, 1681827194000000000ns, -3ns, Conn::LOG, {a})"
    );
    assert_eq!(from_data::<Everything>(&d).unwrap(), value);
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct PartlyTyped {
    n: u64,
    any: Data,
    rest: Vec<Data>,
}

#[test]
fn data_fields_are_exact() {
    let nested = Data::Table(
        [(
            Data::Subnet(Subnet::new(addr(10, 0, 0, 0), 8)),
            set_of([Data::Timespan(Timespan(1)), Data::Real(f64::NAN)]),
        )]
        .into_iter()
        .collect(),
    );
    both_ways(
        PartlyTyped {
            n: 1,
            any: Data::Address(addr(10, 0, 0, 1)),
            rest: vec![Data::Count(2), Data::Integer(2), nested.clone(), Data::None],
        },
        vector([
            Data::Count(1),
            Data::Address(addr(10, 0, 0, 1)),
            vector([Data::Count(2), Data::Integer(2), nested.clone(), Data::None]),
        ]),
    );
    both_ways(nested.clone(), nested);
    both_ways(Data::String(vec![0xff]), Data::String(vec![0xff]));
}

#[test]
fn data_in_other_formats_is_its_closest_serde_value() {
    let d = vector([
        Data::Count(1),
        Data::Integer(-2),
        s("x"),
        Data::Address(addr(10, 0, 0, 1)),
        Data::Table([(s("k"), Data::Real(1.5))].into_iter().collect()),
        Data::None,
        Data::Boolean(true),
    ]);
    let json = serde_json::to_string(&d).unwrap();
    assert_eq!(json, r#"[1,-2,"x","10.0.0.1",{"k":1.5},null,true]"#);
    let back: Data = serde_json::from_str(&json).unwrap();
    assert_eq!(
        back,
        vector([
            Data::Count(1),
            Data::Integer(-2),
            s("x"),
            s("10.0.0.1"),
            Data::Table([(s("k"), Data::Real(1.5))].into_iter().collect()),
            Data::None,
            Data::Boolean(true),
        ])
    );
}
