//! Typed messages end to end: derived structs as Zeek events between two endpoints peering
//! over loopback, wrong-typed arguments reported as errors, and typed values encoded
//! byte-for-byte as a real Broker encodes the same event (the golden vectors).

mod common;

use brook::data::bin;
use brook::data::typed::AsSet;
use brook::data::zeek::{Event, TypedEvent};
use brook::{
    Address, Config, Data, Endpoint, EnumValue, ErrorKind, Port, Protocol, Subnet, Timespan,
    Timestamp,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

const T: Option<Duration> = Some(Duration::from_secs(5));

/// `event ping(n: count, text: string)`
#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Ping {
    n: u64,
    text: String,
}

impl TypedEvent for Ping {
    const NAME: &'static str = "ping";
}

/// `event pong(n: count, from: addr, took: interval)`
#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Pong {
    n: u64,
    from: Address,
    took: Timespan,
}

impl TypedEvent for Pong {
    const NAME: &'static str = "pong";
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
enum Action {
    #[serde(rename = "Notice::ACTION_LOG")]
    Log,
    #[serde(rename = "Notice::ACTION_DROP")]
    Drop,
}

/// The arguments of the golden `all_types` event: one of each Broker type.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct AllTypes {
    b: bool,
    i: i64,
    c: u64,
    r: f64,
    at: Timestamp,
    took: Timespan,
    s: String,
    host: Address,
    net: Subnet,
    port: Port,
    action: Action,
    ids: AsSet<BTreeSet<u64>>,
    table: BTreeMap<String, String>,
    pair: (u64, u64),
    nothing: Option<String>,
}

impl TypedEvent for AllTypes {
    const NAME: &'static str = "all_types";
}

fn all_types() -> AllTypes {
    AllTypes {
        b: true,
        i: -1,
        c: 2,
        r: 0.5,
        at: Timestamp(1_000_000_000),
        took: Timespan(1_500_000),
        s: "s".into(),
        host: "2001:db8::1".parse::<std::net::Ipv6Addr>().unwrap().into(),
        net: Subnet::new(std::net::Ipv4Addr::new(10, 0, 0, 0).into(), 8),
        port: Port::new(443, Protocol::Tcp),
        action: Action::Log,
        ids: AsSet(BTreeSet::from([1])),
        table: BTreeMap::from([("k".into(), "v".into())]),
        pair: (1, 2),
        nothing: None,
    }
}

fn golden_event(id: &str) -> Vec<u8> {
    let rows = common::rows("zeek-messages.tsv");
    let row = rows
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no golden event {id}"));
    common::unhex(&row["bin_v1_hex"])
}

fn encode(event: &Event) -> Vec<u8> {
    let mut out = Vec::new();
    event.encode_into(&mut out).unwrap();
    assert_eq!(out, bin::encode(&Data::from(event.clone())).unwrap());
    out
}

#[test]
fn typed_events_encode_as_broker_encodes_them() {
    // event_1(42, "test"), with 42 an integer.
    let e = Event::with_args("event_1", &(42i64, "test")).unwrap();
    assert_eq!(encode(&e), golden_event("event-event_1-42-test"));
    // my_event("arg1", 2, 1.2.3.4), from a struct.
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct MyEvent {
        s: String,
        n: u64,
        a: Address,
    }
    let mine = MyEvent {
        s: "arg1".into(),
        n: 2,
        a: std::net::Ipv4Addr::new(1, 2, 3, 4).into(),
    };
    let e = Event::with_args("my_event", &mine).unwrap();
    let golden = golden_event("event-my_event");
    assert_eq!(encode(&e), golden);
    assert_eq!(
        Event::from_bytes(&golden)
            .unwrap()
            .args_as::<MyEvent>()
            .unwrap(),
        mine
    );
    // Every Broker type at once.
    let golden = golden_event("event-all-types");
    assert_eq!(encode(&all_types().to_event().unwrap()), golden);
    let decoded = Event::from_bytes(&golden).unwrap();
    assert_eq!(AllTypes::from_event(&decoded).unwrap(), all_types());
    // A record argument is a vector in field order: its encoding is the hand-built Data's.
    let d = brook::to_data(&all_types()).unwrap();
    let Data::Vector(args) = &d else {
        panic!("a record is a vector, not {d:?}")
    };
    assert_eq!(args, &decoded.args);
}

fn endpoint() -> Endpoint {
    Endpoint::new(Config::default()).unwrap()
}

fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn wait_peer_subscribed(ep: &Endpoint, topic: &[u8]) {
    eventually("the peer's subscription", || {
        ep.peer_subscriptions()
            .unwrap()
            .iter()
            .any(|t| topic.starts_with(t))
    });
}

#[test]
fn two_endpoints_exchange_typed_events() {
    let zeek = endpoint();
    let port = zeek.listen("127.0.0.1", 0).unwrap();
    let pings = zeek.subscribe(&["/typed/ping"]).unwrap();
    let client = endpoint();
    let pongs = client.subscribe(&["/typed/pong"]).unwrap();
    client
        .peer("127.0.0.1", port, Duration::from_secs(1))
        .unwrap();
    wait_peer_subscribed(&client, b"/typed/ping");
    wait_peer_subscribed(&zeek, b"/typed/pong");

    // Out through a publisher and through the endpoint.
    let publisher = client.publisher("/typed/ping").unwrap();
    let first = Ping {
        n: 1,
        text: "one".into(),
    };
    publisher.publish_event(first.to_event().unwrap()).unwrap();
    let second = Ping {
        n: 2,
        text: "two".into(),
    };
    client
        .publish_event("/typed/ping", second.to_event().unwrap())
        .unwrap();

    let from: Address = std::net::Ipv4Addr::LOCALHOST.into();
    for want in [first, second] {
        let msg = pings.get(T).unwrap().expect("a ping");
        assert_eq!(msg.topic(), b"/typed/ping");
        let event = msg.event().unwrap();
        let got = Ping::from_event(&event).unwrap();
        assert_eq!(got, want);
        // The answer, the other way.
        let pong = Pong {
            n: got.n,
            from,
            took: Timespan(250_000),
        };
        zeek.publish_event("/typed/pong", pong.to_event().unwrap())
            .unwrap();
    }
    for n in [1, 2] {
        let event = pongs.get(T).unwrap().expect("a pong").event().unwrap();
        assert_eq!(event.name, "pong");
        assert_eq!(event.args[1], Data::Address(from));
        assert_eq!(
            event.args_as::<Pong>().unwrap(),
            Pong {
                n,
                from,
                took: Timespan(250_000)
            }
        );
    }

    // Every Broker type over the wire, byte-exact with Broker's encoding.
    publisher
        .publish_event(all_types().to_event().unwrap())
        .unwrap();
    let msg = pings.get(T).unwrap().expect("all_types");
    assert_eq!(msg.payload(), golden_event("event-all-types"));
    assert_eq!(
        AllTypes::from_event(&msg.event().unwrap()).unwrap(),
        all_types()
    );
}

#[test]
fn wrong_typed_arguments_are_reported_not_panicked() {
    let zeek = endpoint();
    let port = zeek.listen("127.0.0.1", 0).unwrap();
    let sub = zeek.subscribe(&["/typed/"]).unwrap();
    let client = endpoint();
    client
        .peer("127.0.0.1", port, Duration::from_secs(1))
        .unwrap();
    wait_peer_subscribed(&client, b"/typed/ping");

    // A sender that gets ping's signature wrong: text is a count, and one more argument.
    let bad = [
        Event::new("ping", vec![Data::Count(7), Data::Count(8)]),
        Event::new("ping", vec![Data::Integer(7), Data::string("x")]),
        Event::new(
            "ping",
            vec![Data::Count(7), Data::string("x"), Data::Boolean(true)],
        ),
        Event::new("ping", vec![Data::Count(7)]),
        Event::with_args("pong", &(7u64, "x")).unwrap(),
    ];
    for e in &bad {
        client.publish_event("/typed/ping", e).unwrap();
    }
    let want = [
        "event ping: at text: expected string, found count",
        "event ping: at n: expected count, found integer",
        "event ping: expected 2 arguments, found 3",
        "event ping: expected struct Ping with 2 elements, found 1 elements",
        "expected event ping, found event pong",
    ];
    for want in want {
        let event = sub.get(T).unwrap().expect("an event").event().unwrap();
        let err = Ping::from_event(&event).unwrap_err();
        assert_eq!(err.to_string(), want);
        // As brook's error, for functions that return brook::Result.
        let err = brook::Error::from(err);
        assert_eq!(err.kind, ErrorKind::TypeMismatch);
    }
    // The endpoint is unharmed: a good ping still goes through.
    let good = Ping {
        n: 9,
        text: "ok".into(),
    };
    client
        .publish_event("/typed/ping", good.to_event().unwrap())
        .unwrap();
    let event = sub.get(T).unwrap().expect("the good ping").event().unwrap();
    assert_eq!(event.args_as::<Ping>().unwrap(), good);
}

#[test]
fn typed_values_travel_as_plain_data_too() {
    // Any serializable value can be published as Data and read back typed.
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Inventory {
        hosts: BTreeMap<Address, EnumValue>,
        ports: AsSet<BTreeSet<Port>>,
    }
    let a = endpoint();
    let port = a.listen("127.0.0.1", 0).unwrap();
    let sub = a.subscribe(&["/typed/inventory"]).unwrap();
    let b = endpoint();
    b.peer("127.0.0.1", port, Duration::from_secs(1)).unwrap();
    wait_peer_subscribed(&b, b"/typed/inventory");
    let value = Inventory {
        hosts: BTreeMap::from([(
            std::net::Ipv4Addr::new(10, 0, 0, 1).into(),
            EnumValue::new("Site::LOCAL"),
        )]),
        ports: AsSet(BTreeSet::from([Port::new(22, Protocol::Tcp)])),
    };
    b.publish("/typed/inventory", &brook::to_data(&value).unwrap())
        .unwrap();
    let data = sub.get(T).unwrap().expect("the inventory").data().unwrap();
    assert_eq!(
        String::from_utf8(brook::data::text::render(&data)).unwrap(),
        "({10.0.0.1 -> Site::LOCAL}, {22/tcp})"
    );
    assert_eq!(brook::from_data::<Inventory>(&data).unwrap(), value);
}
