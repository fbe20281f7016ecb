//! Sizes and limits as Broker has them (issue 12): frames up to Broker's 2^31 - 5 bytes
//! received intact (their buffer growing as the bytes come), a lower configured limit that
//! ends a peering with a status event, publications and store writes that no peer could
//! take refused at the call, a burst of connects all accepted, and peering with oneself
//! refused in Broker's words.

use brook::data::zeek::Event;
use brook::wire::ErrorCode;
use brook::{Config, Data, Endpoint, ErrorKind, PeerStatus, StatusCode, StatusKind};
use std::io::Read;
use std::net::TcpStream;
use std::time::{Duration, Instant};

const MIB: usize = 1 << 20;

fn plain(config: Config) -> Endpoint {
    Endpoint::new(Config {
        disable_ssl: true,
        ..config
    })
    .unwrap()
}

fn eventually(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_burst_of_a_thousand_connects_is_accepted_at_once() {
    const N: usize = 1000;
    let ep = plain(Config {
        handshake_timeout: Duration::from_secs(60),
        ..Config::default()
    });
    let port = ep.listen("127.0.0.1", 0).unwrap();
    let start = Instant::now();
    // Four threads connecting as fast as they can, none waiting for the endpoint.
    let threads: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                (0..N / 4)
                    .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut socks: Vec<TcpStream> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    // Every connection was queued by the kernel and accepted: each is greeted with
    // Broker's probe. A connection the kernel dropped from an overflowing queue would be
    // retried by TCP only after a second or more.
    for s in &mut socks {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut probe = [0u8; 4];
        s.read_exact(&mut probe).unwrap();
    }
    let took = start.elapsed();
    eprintln!("{N} connects accepted and greeted in {took:?}");
    assert!(took < Duration::from_millis(900), "{took:?}");
    eventually("the connections", 5, || {
        ep.metrics().unwrap().endpoint.connections == N
    });
    drop(socks);
}

/// The next status or error event of `kind`, within ten seconds.
fn next_event(st: &brook::StatusSubscriber, kind: StatusKind) -> brook::StatusEvent {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ev = st
            .get(Some(left))
            .unwrap()
            .unwrap_or_else(|| panic!("no {kind:?} event"));
        if ev.kind == kind {
            return ev;
        }
    }
}

/// Two endpoints (by default over Broker's default transport, anonymous TLS), `b` peered
/// with `a`, and a subscriber of `a` on `topic` that `b` knows of.
fn pair(
    a_config: Config,
    b_config: Config,
    topic: &str,
) -> (Endpoint, Endpoint, brook::Subscriber) {
    let a = Endpoint::new(a_config).unwrap();
    let sub = a.subscribe(&[topic]).unwrap();
    let port = a.listen("127.0.0.1", 0).unwrap();
    let b = Endpoint::new(b_config).unwrap();
    b.peer("127.0.0.1", port, Duration::ZERO).unwrap();
    eventually("the subscription", 10, || {
        b.peer_subscriptions()
            .unwrap()
            .iter()
            .any(|t| t == topic.as_bytes())
    });
    (a, b, sub)
}

#[test]
fn messages_up_to_brokers_frame_limit_arrive_intact() {
    let (a, b, sub) = pair(Config::default(), Config::default(), "/big");
    // Just over the 16 MiB brook took before, and one of 64 MiB.
    for size in [16 * MIB + 1024, 64 * MIB] {
        let value: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let start = Instant::now();
        b.publish("/big", &Data::String(value.clone())).unwrap();
        let msg = sub
            .get(Some(Duration::from_secs(60)))
            .unwrap()
            .expect("the message arrives");
        let took = start.elapsed();
        assert_eq!(
            msg.data().unwrap(),
            Data::String(value),
            "{size} bytes intact"
        );
        eprintln!("{size} bytes published and received over TLS in {took:?}");
    }
    // The peering carries on.
    b.publish("/big", &Data::Count(1)).unwrap();
    let msg = sub.get(Some(Duration::from_secs(10))).unwrap().unwrap();
    assert_eq!(msg.data().unwrap(), Data::Count(1));
    assert_eq!(a.peers().unwrap()[0].status, PeerStatus::Peered);
}

#[test]
fn a_frame_over_a_lower_limit_ends_the_peering_with_a_status_event() {
    let mut config = Config::default();
    config.set("brook.max-frame-size", "1048576").unwrap();
    let (a, b, sub) = pair(config, Config::default(), "/lim");
    let st = a.status_subscriber(true).unwrap();
    // b's limit is Broker's: it sends what a does not take.
    b.publish("/lim", &Data::String(vec![b'x'; 2 * MIB]))
        .unwrap();
    let ev = next_event(&st, StatusKind::Error(ErrorCode::InvalidMessage));
    assert!(
        ev.message.contains("framing violation") && ev.message.contains("1048576"),
        "{}",
        ev.message
    );
    // Then what Broker reports for a lost peering.
    next_event(&st, StatusKind::Status(StatusCode::PeerLost));
    next_event(&st, StatusKind::Status(StatusCode::EndpointUnreachable));
    assert!(sub.get(Some(Duration::from_millis(100))).unwrap().is_none());
}

/// A vector nested `depth` deep around a count.
fn nested(depth: usize) -> Data {
    (0..depth).fold(Data::Count(7), |d, _| Data::Vector(vec![d]))
}

#[test]
fn publishing_what_no_peer_would_take_is_refused() {
    let limited = Config {
        max_frame_size: MIB,
        ..Config::default()
    };
    let (a, b, sub) = pair(Config::default(), limited, "/refused");
    let big = Data::String(vec![b'x'; MIB]);
    let refused = |r: brook::Result<()>, what: &str| {
        let e = r.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Encode, "{what}: {e}");
        e.message
    };
    // Over the configured maximum: each way of publishing says so.
    let m = refused(b.publish("/refused", &big), "publish");
    assert!(m.contains("max_frame_size") && m.contains("1048576"), "{m}");
    refused(b.try_publish("/refused", &big), "try_publish");
    refused(b.publish_to(a.id(), "/refused", &big), "publish_to");
    refused(
        b.publish_batch("/refused", &[Data::Count(1), big.clone()]),
        "publish_batch",
    );
    refused(
        b.publish_event("/refused", Event::new("e", vec![big.clone()])),
        "publish_event",
    );
    let publisher = b.publisher("/refused").unwrap();
    refused(publisher.publish(&big), "Publisher::publish");
    // Nested deeper than brook's decoders take (128 containers): refused, where 128 goes.
    let m = refused(b.publish("/refused", &nested(129)), "too deep");
    assert!(m.contains("deeper than 128"), "{m}");
    // An event's arguments sit three containers deep.
    refused(
        b.publish_event("/refused", Event::new("e", vec![nested(126)])),
        "too deep event",
    );
    b.publish("/refused", &nested(128)).unwrap();
    b.publish_event("/refused", Event::new("e", vec![nested(125)]))
        .unwrap();
    // Nothing refused went out (the batch's first value neither), and the peering stands.
    let got = sub.get(Some(Duration::from_secs(10))).unwrap().unwrap();
    assert_eq!(got.data().unwrap(), nested(128));
    let got = sub.get(Some(Duration::from_secs(10))).unwrap().unwrap();
    assert_eq!(got.event().unwrap().args, vec![nested(125)]);
    assert!(sub.get(Some(Duration::from_millis(200))).unwrap().is_none());
    assert_eq!(b.peers().unwrap()[0].status, PeerStatus::Peered);

    // Store writes alike, blocking and through a proxy.
    let master = b
        .attach_master("limits/store", brook::Backend::Memory)
        .unwrap();
    let e = master.put("k", big.clone(), None).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Encode, "{e}");
    assert!(e.message.contains("max_frame_size"), "{e}");
    let e = master.put("k", nested(129), None).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Encode, "{e}");
    let e = master
        .insert_into("k", nested(129), None, None)
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Encode, "{e}");
    let proxy = master.proxy().unwrap();
    assert_eq!(
        proxy.put("k", big, None).unwrap_err().kind,
        ErrorKind::Encode
    );
    master.put("k", nested(128), None).unwrap();
    assert_eq!(master.get("k").unwrap(), nested(128));
}
