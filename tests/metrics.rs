//! An endpoint's counters: `Endpoint::metrics()` and the Prometheus listener, scraped over
//! loopback while two endpoints really exchange messages.

use brook::{Config, Data, Endpoint, ErrorKind, PeerStatus};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const N: u64 = 500;

fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A subscriber endpoint and a publisher peered with it, the publisher knowing the
/// subscription.
fn pair(sub_config: Config) -> (Endpoint, brook::Subscriber, Endpoint) {
    let a = Endpoint::new(sub_config).unwrap();
    let port = a.listen("127.0.0.1", 0).unwrap();
    let sub = a.subscribe(&["/m"]).unwrap();
    let b = Endpoint::new(Config::default()).unwrap();
    b.peer("127.0.0.1", port, Duration::ZERO).unwrap();
    eventually("the subscription", || {
        !b.peer_subscriptions().unwrap().is_empty()
    });
    (a, sub, b)
}

fn publish_and_receive(b: &Endpoint, sub: &brook::Subscriber) {
    for i in 0..N {
        b.publish("/m/x", &Data::Count(i)).unwrap();
    }
    b.flush().unwrap();
    for _ in 0..N {
        sub.get(Some(Duration::from_secs(5)))
            .unwrap()
            .expect("a message");
    }
}

#[test]
fn counters_move_as_messages_flow() {
    let (a, sub, b) = pair(Config::default());
    let before = a.metrics().unwrap();
    assert_eq!(before.subscribers.len(), 1);
    assert_eq!(before.subscribers[0].topics, [b"/m".to_vec()]);
    publish_and_receive(&b, &sub);
    let (ma, mb) = (a.metrics().unwrap(), b.metrics().unwrap());

    assert_eq!(
        ma.endpoint.processed.data - before.endpoint.processed.data,
        N
    );
    assert_eq!(
        ma.subscribers[0].delivered - before.subscribers[0].delivered,
        N
    );
    assert_eq!(
        (ma.subscribers[0].queued, ma.subscribers[0].dropped),
        (0, 0)
    );
    assert!(ma.endpoint.turns > before.endpoint.turns);
    assert_eq!((ma.endpoint.connections, ma.endpoint.peerings), (1, 1));
    assert_eq!(ma.listeners.len(), 1);
    assert_eq!(
        ma.listeners[0].transport, "tls",
        "TLS by default, as in Broker"
    );

    let (pa, pb) = (&ma.peers[0], &mb.peers[0]);
    assert_eq!(pa.status, PeerStatus::Peered);
    assert_eq!((pa.transport, pb.transport), ("tls", "tls"));
    assert_eq!((pa.id, pb.id), (Some(b.id()), Some(a.id())));
    assert_eq!((pa.outbound, pb.outbound), (false, true));
    assert!(pa.frames_in >= N, "{pa:?}");
    assert!(pb.frames_out >= N, "{pb:?}");
    // Every byte one side wrote, the other read (both are idle now).
    assert_eq!(pb.bytes_out, pa.bytes_in);
    assert_eq!(pa.bytes_out, pb.bytes_in);
    assert_eq!((pb.queued_frames, pb.queued_bytes, pb.dropped), (0, 0, 0));
    assert!(mb.endpoint.published >= N);
    assert!(mb.endpoint.wakeups > 0, "publishes wake the reactor");
}

fn scrape(port: u16, path: &str) -> (String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
    (head.to_string(), body.to_string())
}

/// The value of the sample `name` (with its labels) in an exposition.
fn sample(body: &str, name: &str) -> f64 {
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no sample {name} in\n{body}"))
}

#[test]
fn the_prometheus_listener_serves_counters_that_move() {
    let mut config = Config::default();
    config.set("broker.metrics.port", "0").unwrap();
    config.set("broker.metrics.address", "127.0.0.1").unwrap();
    let (a, sub, b) = pair(config);
    let port = a.metrics_port().expect("listening for metrics");
    assert_eq!(b.metrics_port(), None, "off by default");

    let (head, body) = scrape(port, "/metrics");
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert!(
        head.contains("Content-Type: text/plain; version=0.0.4"),
        "{head}"
    );
    let data = "broker_processed_messages_total{type=\"data\"}";
    let before = sample(&body, data);
    assert_eq!(sample(&body, "broker_connections"), 1.0);

    publish_and_receive(&b, &sub);
    let (_, after) = scrape(port, "/metrics");
    assert_eq!(sample(&after, data) - before, N as f64);
    let delivered = after
        .lines()
        .find(|l| l.starts_with("brook_subscriber_delivered_messages_total{"))
        .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .expect("the subscriber's sample");
    assert!(delivered >= N as f64);
    let peer_in = format!("brook_peer_received_frames_total{{peer=\"{}\",", b.id());
    assert!(after.contains(&peer_in), "{after}");

    let (head, _) = scrape(port, "/nothing");
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");

    // A client that stalls mid-request holds up nobody, and is dropped at its deadline.
    let mut stalled = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stalled.write_all(b"GET /metr").unwrap();
    let (head, _) = scrape(port, "/metrics");
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    stalled
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut rest = Vec::new();
    stalled
        .read_to_end(&mut rest)
        .expect("closed by the endpoint, not timed out here");
    assert!(rest.is_empty(), "no answer to half a request");
    let listeners = a.metrics().unwrap().listeners;
    let services: Vec<_> = listeners.iter().map(|l| (l.service, l.port)).collect();
    assert!(services.contains(&("metrics", port)), "{services:?}");

    // Shutting down closes the listener.
    a.shutdown();
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn a_metrics_port_that_cannot_be_bound_fails_the_endpoint() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let config = Config {
        metrics_port: Some(taken.local_addr().unwrap().port()),
        metrics_address: Some("127.0.0.1".parse().unwrap()),
        ..Config::default()
    };
    let err = Endpoint::new(config).err().expect("the port is taken");
    assert_eq!(err.kind, ErrorKind::Io);
    assert!(err.message.contains("cannot listen for metrics"), "{err}");
}
