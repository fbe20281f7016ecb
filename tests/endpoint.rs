//! Endpoints really peering over loopback TCP: handshakes in both roles, pub/sub with
//! filters and routing updates, forwarding along a chain, unpeering, reconnects, status
//! events, and malformed input written to a socket.

use brook::data::zeek::Event;
use brook::wire::envelope::{self, Envelope, EnvelopeType};
use brook::wire::frame::FrameReader;
use brook::wire::handshake::Handshake;
use brook::wire::{EndpointId, ErrorCode, Filter};
use brook::{Config, Data, Endpoint, ErrorKind, PeerStatus, StatusCode, StatusKind};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const T: Option<Duration> = Some(Duration::from_secs(5));

fn endpoint() -> Endpoint {
    Endpoint::new(Config::default()).unwrap()
}

/// An endpoint without TLS, for the tests that write Broker's protocol to a raw socket.
fn plain_endpoint() -> Endpoint {
    Endpoint::new(Config {
        disable_ssl: true,
        ..Config::default()
    })
    .unwrap()
}

/// Waits until `f` holds, failing after five seconds.
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits until `ep` advertises... no: until `ep`'s peers have `topic` in their filters.
fn wait_peer_subscribed(ep: &Endpoint, topic: &[u8]) {
    eventually("the peer's subscription", || {
        ep.peer_subscriptions()
            .unwrap()
            .iter()
            .any(|t| topic.starts_with(t))
    });
}

/// Waits until `ep` has `n` completed peerings (the other side may finish its handshake
/// before this one does).
fn wait_peered(ep: &Endpoint, n: usize) {
    eventually("the peerings", || {
        ep.peers()
            .unwrap()
            .iter()
            .filter(|p| p.status == PeerStatus::Peered)
            .count()
            == n
    });
}

fn next_status(s: &brook::StatusSubscriber, want: StatusKind) -> brook::StatusEvent {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ev = s
            .get(Some(left))
            .unwrap()
            .unwrap_or_else(|| panic!("no {want:?} event"));
        if ev.kind == want {
            return ev;
        }
    }
}

#[test]
fn two_endpoints_exchange_events_both_ways() {
    let a = endpoint();
    let b = endpoint();
    let port = a.listen("127.0.0.1", 0).unwrap();
    let sub_a = a.subscribe(&["/to-a/"]).unwrap();
    let sub_b = b.subscribe(&["/to-b/"]).unwrap();
    let remote = b.peer("127.0.0.1", port, Duration::ZERO).unwrap();
    assert_eq!(remote, a.id());
    wait_peer_subscribed(&b, b"/to-a/x");
    wait_peer_subscribed(&a, b"/to-b/x");

    b.publish_event("/to-a/ping", Event::new("ping", vec![Data::Count(1)]))
        .unwrap();
    let m = sub_a.get(T).unwrap().expect("a message");
    assert_eq!(m.topic(), b"/to-a/ping");
    let e = m.event().unwrap();
    assert_eq!((e.name.as_str(), e.args), ("ping", vec![Data::Count(1)]));

    a.publish("/to-b/pong", &Data::from("hello")).unwrap();
    let m = sub_b.get(T).unwrap().expect("a message");
    assert_eq!(m.data().unwrap(), Data::from("hello"));

    // Topics nobody subscribed to do not travel; prefixes are byte prefixes.
    a.publish("/to-c/x", &Data::Count(0)).unwrap();
    a.publish("/to-bx", &Data::Count(0)).unwrap();
    a.publish("/to-b/last", &Data::Count(2)).unwrap();
    let m = sub_b.get(T).unwrap().unwrap();
    assert_eq!(m.topic(), b"/to-b/last");
    assert_eq!(sub_b.available(), 0);

    let peers = a.peers().unwrap();
    assert_eq!(peers.len(), 1);
    assert_eq!(peers[0].id, Some(b.id()));
    assert_eq!(peers[0].status, PeerStatus::Peered);
    assert!(!peers[0].outbound);
}

#[test]
fn the_subscriber_fd_is_level_triggered_and_own_publications_stay_away() {
    let a = endpoint();
    let sub = a.subscribe(&["/local"]).unwrap();
    let port = a.listen("127.0.0.1", 0).unwrap();
    let b = endpoint();
    b.peer("127.0.0.1", port, Duration::ZERO).unwrap();
    wait_peer_subscribed(&b, b"/local");
    let fd = sub.fd();
    let readable = |ms: i32| {
        let mut p = [brook_poll::PollFd {
            fd,
            events: brook_poll::POLLIN,
            revents: 0,
        }];
        brook_poll::poll(&mut p, ms) == 1
    };
    assert!(!readable(0));
    // As in Broker, an endpoint's own publications do not reach its own subscribers...
    a.publish("/local/own", &Data::Count(99)).unwrap();
    // ...unless addressed to itself.
    a.publish_to(a.id(), "/local/self", &Data::Count(100))
        .unwrap();
    for i in 0..3u64 {
        b.publish("/local/x", &Data::Count(i)).unwrap();
    }
    assert!(readable(5000));
    eventually("all four queued", || sub.available() == 4);
    let mut got = vec![sub.get(T).unwrap().unwrap()];
    // Still readable: three more wait.
    assert!(readable(0));
    got.extend(sub.poll(10));
    assert_eq!(got.len(), 4);
    assert!(!readable(0));
    // The self-addressed message and b's three, in b's order; nothing of a's broadcast.
    let from_b: Vec<Data> = got
        .iter()
        .filter(|m| m.topic() == b"/local/x")
        .map(|m| m.data().unwrap())
        .collect();
    assert_eq!(from_b, [Data::Count(0), Data::Count(1), Data::Count(2)]);
    assert_eq!(
        got.iter().filter(|m| m.topic() == b"/local/self").count(),
        1
    );
    assert_eq!(sub.get(Some(Duration::from_millis(50))).unwrap(), None);
}

#[test]
fn a_chain_of_three_forwards_and_never_sends_back() {
    // a - b - c: a publishes, c subscribes; b forwards because c's filter reaches b and b
    // advertises it by forwarding the topic.
    let a = endpoint();
    let b = endpoint();
    let c = endpoint();
    let pb = b.listen("127.0.0.1", 0).unwrap();
    let pc = c.listen("127.0.0.1", 0).unwrap();
    let sub_c = c.subscribe(&["/chain/"]).unwrap();
    let sub_a = a.subscribe(&["/chain/"]).unwrap();
    b.forward(&["/chain/"]).unwrap();
    a.peer("127.0.0.1", pb, Duration::ZERO).unwrap();
    b.peer("127.0.0.1", pc, Duration::ZERO).unwrap();
    wait_peer_subscribed(&a, b"/chain/x");
    wait_peer_subscribed(&b, b"/chain/x");
    for i in 0..10u64 {
        a.publish("/chain/n", &Data::Count(i)).unwrap();
    }
    for i in 0..10u64 {
        let m = sub_c.get(T).unwrap().expect("forwarded message");
        assert_eq!(m.data().unwrap(), Data::Count(i));
    }
    // Nothing came back to a: not through b, and not locally either (as in Broker).
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(sub_a.available(), 0);
}

#[test]
fn disable_forwarding_stops_the_chain() {
    let a = endpoint();
    let b = Endpoint::new(Config {
        disable_forwarding: true,
        ..Config::default()
    })
    .unwrap();
    let c = endpoint();
    let pb = b.listen("127.0.0.1", 0).unwrap();
    let pc = c.listen("127.0.0.1", 0).unwrap();
    let sub_c = c.subscribe(&["/chain/"]).unwrap();
    let sub_b = b.subscribe(&["/chain/"]).unwrap();
    a.peer("127.0.0.1", pb, Duration::ZERO).unwrap();
    b.peer("127.0.0.1", pc, Duration::ZERO).unwrap();
    wait_peer_subscribed(&a, b"/chain/x");
    a.publish("/chain/n", &Data::Count(7)).unwrap();
    assert_eq!(
        sub_b.get(T).unwrap().unwrap().data().unwrap(),
        Data::Count(7)
    );
    assert_eq!(sub_c.get(Some(Duration::from_millis(300))).unwrap(), None);
}

#[test]
fn unicast_reaches_only_its_receiver() {
    let a = endpoint();
    let b = endpoint();
    let c = endpoint();
    let pa = a.listen("127.0.0.1", 0).unwrap();
    let sub_b = b.subscribe(&["/u"]).unwrap();
    let sub_c = c.subscribe(&["/u"]).unwrap();
    b.peer("127.0.0.1", pa, Duration::ZERO).unwrap();
    c.peer("127.0.0.1", pa, Duration::ZERO).unwrap();
    wait_peered(&a, 2);
    wait_peer_subscribed(&a, b"/u");
    a.publish_to(c.id(), "/zzz", &Data::Count(3)).unwrap();
    a.publish_to(c.id(), "/u", &Data::Count(4)).unwrap();
    // Unicast ignores the receiver's filter on the wire; local delivery still needs a match.
    assert_eq!(
        sub_c.get(T).unwrap().unwrap().data().unwrap(),
        Data::Count(4)
    );
    assert_eq!(sub_b.get(Some(Duration::from_millis(200))).unwrap(), None);
}

#[test]
fn status_events_for_peer_added_removed_and_lost() {
    let a = endpoint();
    let st = a.status_subscriber(true).unwrap();
    let port = a.listen("127.0.0.1", 0).unwrap();
    let b = endpoint();
    b.peer("127.0.0.1", port, Duration::ZERO).unwrap();
    let ev = next_status(&st, StatusKind::Status(StatusCode::PeerAdded));
    assert_eq!(ev.endpoint, Some(b.id()));
    assert_eq!(ev.message, "handshake successful");
    // b unpeers: a sees the connection end (b sent BYE; a answers and sees EOF).
    b.unpeer("127.0.0.1", port).unwrap();
    let ev = next_status(&st, StatusKind::Status(StatusCode::PeerLost));
    assert_eq!(ev.endpoint, Some(b.id()));
    eventually("a has no peers", || a.peers().unwrap().is_empty());

    let st_b = b.status_subscriber(true).unwrap();
    b.peer("127.0.0.1", port, Duration::ZERO).unwrap();
    next_status(&st_b, StatusKind::Status(StatusCode::PeerAdded));
    b.unpeer("127.0.0.1", port).unwrap();
    let ev = next_status(&st_b, StatusKind::Status(StatusCode::PeerRemoved));
    assert_eq!(ev.endpoint, Some(a.id()));
}

#[test]
fn peering_with_nobody_fails_and_reports_peer_unavailable() {
    let a = endpoint();
    let st = a.status_subscriber(true).unwrap();
    // A port that was just free.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let e = a.peer("127.0.0.1", port, Duration::ZERO).unwrap_err();
    assert_eq!(e.kind, ErrorKind::PeerUnavailable, "{e}");
    let ev = next_status(&st, StatusKind::Error(ErrorCode::PeerUnavailable));
    assert!(ev.message.contains("cannot connect"), "{}", ev.message);
    assert!(a.peers().unwrap().is_empty());
}

#[test]
fn reconnects_after_the_peer_restarts() {
    let b = endpoint();
    let port = b.listen("127.0.0.1", 0).unwrap();
    let a = endpoint();
    let st = a.status_subscriber(false).unwrap();
    a.peer("127.0.0.1", port, Duration::from_millis(100))
        .unwrap();
    next_status(&st, StatusKind::Status(StatusCode::PeerAdded));
    drop(b);
    next_status(&st, StatusKind::Status(StatusCode::PeerLost));
    // A new endpoint on the same port: a reconnects by itself.
    let b2 = endpoint();
    let mut bound = None;
    eventually("the port to be free again", || {
        bound = b2.listen("127.0.0.1", port).ok();
        bound.is_some()
    });
    let ev = next_status(&st, StatusKind::Status(StatusCode::PeerAdded));
    assert_eq!(ev.endpoint, Some(b2.id()));
    let sub = b2.subscribe(&["/again"]).unwrap();
    wait_peer_subscribed(&a, b"/again");
    a.publish("/again", &Data::Count(9)).unwrap();
    assert_eq!(sub.get(T).unwrap().unwrap().data().unwrap(), Data::Count(9));
}

#[test]
fn shutdown_delivers_queued_messages_and_later_calls_are_closed() {
    let a = endpoint();
    let b = endpoint();
    let port = b.listen("127.0.0.1", 0).unwrap();
    let sub = b.subscribe(&["/bulk"]).unwrap();
    a.peer("127.0.0.1", port, Duration::ZERO).unwrap();
    wait_peer_subscribed(&a, b"/bulk");
    for i in 0..1000u64 {
        a.publish("/bulk", &Data::Count(i)).unwrap();
    }
    a.shutdown();
    for i in 0..1000u64 {
        let m = sub.get(T).unwrap().expect("every message before shutdown");
        assert_eq!(m.data().unwrap(), Data::Count(i));
    }
    let e = a.publish("/bulk", &Data::Count(0)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Closed);
    assert_eq!(a.peers().unwrap_err().kind, ErrorKind::Closed);
    // A subscriber of a shut-down endpoint reports Closed instead of waiting forever.
    let sub_a = {
        let c = endpoint();
        let s = c.subscribe(&["/x"]).unwrap();
        c.shutdown();
        s
    };
    assert_eq!(sub_a.get(T).unwrap_err().kind, ErrorKind::Closed);
}

#[test]
fn a_connection_to_itself_is_refused_in_brokers_words() {
    for ep in [endpoint(), plain_endpoint()] {
        let st = ep.status_subscriber(true).unwrap();
        let port = ep.listen("127.0.0.1", 0).unwrap();
        let e = ep.peer("127.0.0.1", port, Duration::ZERO).unwrap_err();
        assert_eq!(e.kind, ErrorKind::PeerUnavailable, "{e}");
        assert_eq!(e.message, "unable to connect to remote peer");
        // Broker reports one error, peer_unavailable with its words, the address and no
        // endpoint; the accepting end of the connection reports nothing.
        std::thread::sleep(Duration::from_millis(200));
        let events = st.poll(100);
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(
            events[0].kind,
            StatusKind::Error(ErrorCode::PeerUnavailable)
        );
        assert_eq!(events[0].message, "unable to connect to remote peer");
        assert_eq!(events[0].endpoint, None);
        assert_eq!(events[0].address.map(|a| a.port()), Some(port));
        assert!(ep.peers().unwrap().is_empty());
    }
}

/// A raw socket speaking the handshake as a Broker peer would, for malformed-input tests.
struct RawPeer {
    s: TcpStream,
    id: EndpointId,
    buf: Vec<u8>,
}

impl RawPeer {
    fn connect(port: u16, topics: &[&str]) -> (RawPeer, EndpointId) {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        // The largest possible ID: the endpoint is the originator.
        let id = EndpointId([0xff; 16]);
        let mut p = RawPeer {
            s,
            id,
            buf: Vec::new(),
        };
        p.send_handshake(&Handshake::hello(id));
        let mut remote = None;
        loop {
            match p.next_handshake() {
                Handshake::Probe => {}
                Handshake::VersionSelect { sender, .. } => remote = Some(sender),
                Handshake::OriginatorSyn(_) => {
                    let f: Filter = topics.iter().collect();
                    p.send_handshake(&Handshake::ResponderSynAck(f));
                }
                Handshake::OriginatorAck => break,
                other => panic!("unexpected {other:?}"),
            }
        }
        (p, remote.unwrap())
    }

    fn send_handshake(&mut self, m: &Handshake) {
        let mut out = Vec::new();
        m.encode_frame(&mut out).unwrap();
        self.s.write_all(&out).unwrap();
    }

    fn frame(&mut self) -> Vec<u8> {
        loop {
            if let (Some(p), n) = FrameReader::phase3().next_frame(&self.buf).unwrap() {
                let p = p.to_vec();
                self.buf.drain(..n);
                return p;
            }
            let mut chunk = [0u8; 4096];
            let n = self.s.read(&mut chunk).unwrap();
            assert!(n > 0, "connection closed");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    fn next_handshake(&mut self) -> Handshake {
        Handshake::decode(&self.frame()).unwrap()
    }

    fn send_raw(&mut self, bytes: &[u8]) {
        self.s.write_all(bytes).unwrap();
    }

    fn envelope(
        &self,
        to: EndpointId,
        kind: EnvelopeType,
        topic: &[u8],
        payload: &[u8],
    ) -> Vec<u8> {
        let mut out = Vec::new();
        Envelope {
            sender: self.id,
            receiver: to,
            kind,
            ttl: 16,
            topic,
            payload,
        }
        .write_frame(&mut out)
        .unwrap();
        out
    }
}

#[test]
fn empty_frames_after_the_handshake_are_skipped_as_broker_does() {
    let a = plain_endpoint();
    let port = a.listen("127.0.0.1", 0).unwrap();
    let st = a.status_subscriber(true).unwrap();
    let sub = a.subscribe(&["/raw"]).unwrap();
    let (mut raw, _) = RawPeer::connect(port, &[]);
    let mut msgs = Vec::new();
    for i in 0..3u64 {
        envelope::write_data(
            &mut msgs,
            raw.id,
            EndpointId::nil(),
            b"/raw/e",
            &Data::Count(i),
        )
        .unwrap();
        // Empty frames before, between and (for the last) after the messages, in one write.
        msgs.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
    }
    raw.send_raw(&[0, 0, 0, 0]);
    raw.send_raw(&msgs);
    for i in 0..3u64 {
        let m = sub.get(T).unwrap().expect("every message arrives");
        assert_eq!(m.data().unwrap(), Data::Count(i));
    }
    // Nothing was reported: no malformed message, no framing violation.
    assert!(
        st.poll(100)
            .iter()
            .all(|e| !matches!(e.kind, StatusKind::Error(_)))
    );
    assert_eq!(a.peers().unwrap()[0].status, PeerStatus::Peered);
}

#[test]
fn malformed_messages_are_dropped_and_reported_without_ending_the_peering() {
    let a = plain_endpoint();
    let port = a.listen("127.0.0.1", 0).unwrap();
    let st = a.status_subscriber(true).unwrap();
    let sub = a.subscribe(&["/raw"]).unwrap();
    let (mut raw, a_id) = RawPeer::connect(port, &[]);
    // A value with an invalid tag, a trailing byte, and a short envelope frame.
    let bad1 = raw.envelope(EndpointId::nil(), EnvelopeType::Data, b"/raw/x", &[0x0f]);
    let bad2 = raw.envelope(EndpointId::nil(), EnvelopeType::Data, b"/raw/x", &[0, 0]);
    raw.send_raw(&bad1);
    raw.send_raw(&bad2);
    raw.send_raw(&[0, 0, 0, 3, 1, 2, 3]);
    let mut good = Vec::new();
    envelope::write_data(
        &mut good,
        raw.id,
        EndpointId::nil(),
        b"/raw/ok",
        &Data::Count(5),
    )
    .unwrap();
    raw.send_raw(&good);
    assert_eq!(sub.get(T).unwrap().unwrap().data().unwrap(), Data::Count(5));
    for _ in 0..3 {
        let ev = next_status(&st, StatusKind::Error(ErrorCode::InvalidMessage));
        assert!(
            ev.message.starts_with("dropped a malformed message"),
            "{}",
            ev.message
        );
    }
    // The peering is alive: a ping is answered with a pong carrying the same payload.
    let ping = raw.envelope(a_id, EnvelopeType::Ping, b"<$>", b"still-there");
    raw.send_raw(&ping);
    loop {
        let f = raw.frame();
        let env = Envelope::parse(&f).unwrap();
        if env.kind == EnvelopeType::Pong {
            assert_eq!(env.payload, b"still-there");
            assert_eq!(env.sender, a_id);
            break;
        }
    }
}

#[test]
fn a_framing_violation_ends_only_that_peering() {
    let a = plain_endpoint();
    let port = a.listen("127.0.0.1", 0).unwrap();
    let st = a.status_subscriber(true).unwrap();
    let b = plain_endpoint();
    b.peer("127.0.0.1", port, Duration::ZERO).unwrap();
    let (mut raw, _) = RawPeer::connect(port, &[]);
    // A length far above the maximum frame size.
    raw.send_raw(&[0x7f, 0xff, 0xff, 0xff, 1, 2, 3]);
    let ev = next_status(&st, StatusKind::Error(ErrorCode::InvalidMessage));
    assert!(ev.message.contains("framing violation"), "{}", ev.message);
    let mut rest = Vec::new();
    let _ = raw.s.read_to_end(&mut rest); // closed by a
    // b's peering is unaffected.
    let sub = b.subscribe(&["/after"]).unwrap();
    wait_peer_subscribed(&a, b"/after");
    a.publish("/after", &Data::Count(1)).unwrap();
    assert_eq!(sub.get(T).unwrap().unwrap().data().unwrap(), Data::Count(1));
}

#[test]
fn garbage_before_the_handshake_and_silent_connections_are_closed() {
    let a = Endpoint::new(Config {
        handshake_timeout: Duration::from_millis(300),
        disable_ssl: true,
        ..Config::default()
    })
    .unwrap();
    let port = a.listen("127.0.0.1", 0).unwrap();
    // Garbage: a Phase-3 frame first gets drop_conn(invalid_message) and a close.
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(&[0, 0, 0, 5, 1, 2, 3, 4, 5]).unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    let mut frames = Vec::new();
    let mut rest = &got[..];
    while let (Some(p), n) = FrameReader::handshake().next_frame(rest).unwrap() {
        frames.push(Handshake::decode(p).unwrap());
        rest = &rest[n..];
    }
    assert_eq!(frames[0], Handshake::Probe);
    assert!(
        matches!(&frames[1], Handshake::DropConn { code: 20, .. }),
        "{frames:?}"
    );
    // Silence: closed after the handshake timeout.
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let started = Instant::now();
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    assert!(started.elapsed() < Duration::from_secs(4));
    assert!(a.peers().unwrap().is_empty());
}

/// A minimal poll(2) binding for the fd test, so that the test needs no extra crate.
mod brook_poll {
    #[repr(C)]
    pub struct PollFd {
        pub fd: i32,
        pub events: i16,
        pub revents: i16,
    }
    pub const POLLIN: i16 = 1;
    pub const POLLOUT: i16 = 4;
    unsafe extern "C" {
        #[link_name = "poll"]
        fn c_poll(fds: *mut PollFd, n: u64, timeout: i32) -> i32;
    }
    pub fn poll(fds: &mut [PollFd], timeout_ms: i32) -> i32 {
        // SAFETY: a valid slice of pollfd structs, as poll(2) expects.
        unsafe { c_poll(fds.as_mut_ptr(), fds.len() as u64, timeout_ms) }
    }
}

#[test]
fn a_slow_subscriber_pushes_back_to_a_remote_publisher_and_loses_nothing() {
    let small = Config {
        subscriber_queue_size: 16,
        peer_buffer_size: 32,
        ..Config::default()
    };
    let a = Endpoint::new(small.clone()).unwrap();
    let b = Endpoint::new(small).unwrap();
    let port = b.listen("127.0.0.1", 0).unwrap();
    let sub = b.subscribe(&["/flood"]).unwrap();
    let st = a.status_subscriber(true).unwrap();
    a.peer("127.0.0.1", port, Duration::ZERO).unwrap();
    wait_peer_subscribed(&a, b"/flood");
    const N: u64 = 20_000;
    let publisher = std::thread::spawn(move || {
        let payload = "x".repeat(200);
        for i in 0..N {
            a.publish(
                "/flood",
                &Data::Vector(vec![Data::Count(i), Data::from(payload.as_str())]),
            )
            .unwrap();
        }
        a
    });
    for i in 0..N {
        let m = sub.get(T).unwrap().expect("no message may be lost");
        let v = m.data().unwrap();
        assert_eq!(v.as_vector().unwrap()[0], Data::Count(i));
        if i % 1000 == 0 {
            std::thread::sleep(Duration::from_millis(20)); // a slow reader
        }
    }
    let a = publisher.join().unwrap();
    assert_eq!(sub.dropped(), 0);
    // Still peered, and no loss or error was reported.
    assert_eq!(a.peers().unwrap().len(), 1);
    assert!(
        st.poll(100)
            .iter()
            .all(|e| e.kind == StatusKind::Status(StatusCode::PeerAdded)
                || e.kind == StatusKind::Status(StatusCode::EndpointDiscovered))
    );
}

#[test]
fn a_slow_local_subscriber_pushes_back_on_messages_to_itself() {
    let a = Endpoint::new(Config {
        subscriber_queue_size: 8,
        ..Config::default()
    })
    .unwrap();
    let sub = a.subscribe(&["/local"]).unwrap();
    let me = a.id();
    let a = std::sync::Arc::new(a);
    let a2 = a.clone();
    let publisher = std::thread::spawn(move || {
        for i in 0..2000u64 {
            a2.publish_to(me, "/local", &Data::Count(i)).unwrap();
        }
    });
    for i in 0..2000u64 {
        assert_eq!(sub.get(T).unwrap().unwrap().data().unwrap(), Data::Count(i));
    }
    publisher.join().unwrap();
    // Nobody reads now: the subscriber fills, then the publish queue, and a non-blocking
    // publish reports WouldBlock rather than dropping anything.
    let a3 = a.clone();
    let filler = std::thread::spawn(move || {
        for i in 0..100_000u64 {
            if a3.publish_to(me, "/local", &Data::Count(i)).is_err() {
                break;
            }
        }
    });
    let mut would_block = false;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !would_block && Instant::now() < deadline {
        match a.try_publish("/elsewhere", &Data::Count(0)) {
            Ok(()) => std::thread::sleep(Duration::from_millis(1)),
            Err(e) => {
                assert_eq!(e.kind, ErrorKind::WouldBlock);
                would_block = true;
            }
        }
    }
    assert!(would_block);
    drop(sub); // room for everything: the filler finishes
    filler.join().unwrap();
}

#[test]
fn batches_arrive_whole_and_in_order_even_when_a_subscriber_is_slow() {
    let cfg = Config {
        subscriber_queue_size: 10,
        ..Config::default()
    };
    let a = Endpoint::new(cfg.clone()).unwrap();
    let b = Endpoint::new(cfg).unwrap();
    let port = b.listen("127.0.0.1", 0).unwrap();
    let sub_b = b.subscribe(&["/batch"]).unwrap();
    let sub_a = a.subscribe(&["/batch"]).unwrap();
    a.peer("127.0.0.1", port, Duration::ZERO).unwrap();
    wait_peer_subscribed(&a, b"/batch");
    let publisher = a.publisher("/batch/x").unwrap();
    let values: Vec<Data> = (0..500u64).map(Data::Count).collect();
    // 500 values in batches of 100 against a remote queue of 10: the peer stops reading, a's
    // buffer for it fills, and batches are held mid-way and resumed later.
    let t = std::thread::spawn(move || {
        for chunk in values.chunks(100) {
            publisher.publish_batch(chunk).unwrap();
        }
        publisher
    });
    for i in 0..500u64 {
        assert_eq!(
            sub_b.get(T).unwrap().unwrap().data().unwrap(),
            Data::Count(i)
        );
    }
    // The publishing endpoint's own subscriber sees none of it, as in Broker.
    assert_eq!(sub_a.available(), 0);
    let publisher = t.join().unwrap();
    assert_eq!(publisher.topic(), b"/batch/x");
    assert!(publisher.free_capacity() > 0);
    publisher.try_publish(&Data::Count(500)).unwrap();
    assert_eq!(
        sub_b.get(T).unwrap().unwrap().data().unwrap(),
        Data::Count(500)
    );
    assert!(a.publisher("").is_err());
}

#[test]
fn unusable_configurations_are_refused() {
    for (cfg, what) in [
        (
            Config {
                peer_buffer_size: 0,
                ..Config::default()
            },
            "peer_buffer_size",
        ),
        (
            Config {
                subscriber_queue_size: usize::MAX,
                ..Config::default()
            },
            "subscriber_queue_size",
        ),
        (
            Config {
                max_frame_size: usize::MAX,
                ..Config::default()
            },
            "max_frame_size",
        ),
        (
            Config {
                handshake_timeout: Duration::MAX,
                ..Config::default()
            },
            "handshake_timeout",
        ),
        (
            Config {
                peer_timeout: Duration::from_millis(500),
                ..Config::default()
            },
            "peer_timeout",
        ),
        (
            Config {
                busy_poll: Duration::from_secs(2),
                ..Config::default()
            },
            "busy_poll",
        ),
    ] {
        let e = Endpoint::new(cfg).err().expect("refused");
        assert_eq!(e.kind, ErrorKind::InvalidArgument);
        assert!(e.message.contains(what), "{e}");
    }
}

#[test]
fn the_publisher_fd_is_writable_exactly_while_the_queue_has_room() {
    let cfg = Config {
        subscriber_queue_size: 4,
        peer_buffer_size: 8,
        ..Config::default()
    };
    let a = Endpoint::new(cfg.clone()).unwrap();
    let b = Endpoint::new(cfg).unwrap();
    let sub = b.subscribe(&["/room"]).unwrap();
    let port = b.listen("127.0.0.1", 0).unwrap();
    a.peer("127.0.0.1", port, Duration::ZERO).unwrap();
    wait_peer_subscribed(&a, b"/room");
    let publisher = a.publisher("/room").unwrap();
    let writable = |ms: i32| {
        let mut p = [brook_poll::PollFd {
            fd: publisher.fd(),
            events: brook_poll::POLLOUT,
            revents: 0,
        }];
        brook_poll::poll(&mut p, ms) == 1 && p[0].revents & brook_poll::POLLOUT != 0
    };
    assert!(writable(0));
    // The remote subscriber reads nothing: its queue fills, then TCP, the peer buffer and
    // the publish queue.
    let mut sent = 0u64;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match publisher.try_publish(&Data::Count(sent)) {
            Ok(()) => sent += 1,
            Err(e) => {
                assert_eq!(e.kind, ErrorKind::WouldBlock);
                break;
            }
        }
        assert!(Instant::now() < deadline, "the queue never filled");
    }
    assert!(!writable(0), "full, yet writable");
    // Draining makes room; the fd turns writable again.
    for i in 0..sent {
        assert_eq!(sub.get(T).unwrap().unwrap().data().unwrap(), Data::Count(i));
        if writable(0) {
            break;
        }
    }
    assert!(writable(5000));
    publisher.try_publish(&Data::Count(0)).unwrap();
}

/// A peer that stops reading, under `policy`: after the stall timeout the publisher goes
/// on, the peer's messages are dropped, counted and reported, and what arrives once the
/// peer reads again is every message not dropped, in order. Returns the numbers received.
/// A peer that reads nothing for a while, over plain TCP or TLS. Over TLS the send buffer
/// is larger: what a blocked TLS write holds (up to 256 KiB) cannot be dropped any more.
fn a_stalled_peer_under(policy: brook::OverflowPolicy, tls: bool) -> (Vec<u64>, u64) {
    let a = Endpoint::new(Config {
        peer_buffer_size: if tls { 1024 } else { 64 },
        peer_overflow_policy: policy,
        peer_stall_timeout: Duration::from_millis(200),
        disable_ssl: !tls,
        ..Config::default()
    })
    .unwrap();
    // B reads nothing while its one small subscriber is full (policy Block), so TCP fills.
    let b = Endpoint::new(Config {
        subscriber_queue_size: 16,
        disable_ssl: !tls,
        ..Config::default()
    })
    .unwrap();
    let port = b.listen("127.0.0.1", 0).unwrap();
    let sub = b.subscribe(&["/stall"]).unwrap();
    let st = a.status_subscriber(true).unwrap();
    a.peer("127.0.0.1", port, Duration::ZERO).unwrap();
    wait_peer_subscribed(&a, b"/stall");
    const N: u64 = 30_000;
    let payload = Data::from("y".repeat(1000).as_str());
    for i in 0..N {
        a.publish(
            "/stall",
            &Data::Vector(vec![Data::Count(i), payload.clone()]),
        )
        .unwrap();
    }
    let start = next_status(&st, StatusKind::Error(ErrorCode::Unspecified));
    assert!(
        start.message.contains("not keeping up"),
        "{}",
        start.message
    );
    let mut got = Vec::new();
    let mut dropped = 0;
    eventually("the peer to have read what was kept", || {
        while let Some(m) = sub.get(Some(Duration::from_millis(50))).unwrap() {
            let v = m.data().unwrap();
            match v.as_vector().unwrap()[0] {
                Data::Count(i) => got.push(i),
                ref other => panic!("{other:?}"),
            }
        }
        dropped = a.peers().unwrap()[0].dropped;
        got.len() as u64 + dropped == N
    });
    assert!(dropped > 0);
    assert!(
        got.windows(2).all(|w| w[0] < w[1]),
        "in order, no duplicates"
    );
    // Each run of drops is reported when it starts and, with its count, when it ends.
    let (mut starts, mut ends, mut counted) = (1, 0, 0);
    eventually("every run of drops to be reported", || {
        for e in st.poll(1000) {
            if e.message.contains("not keeping up") {
                starts += 1;
            } else if let Some(rest) = e.message.split("keeping up again; ").nth(1) {
                ends += 1;
                counted += rest.split(' ').next().unwrap().parse::<u64>().unwrap();
            }
        }
        counted == dropped
    });
    assert_eq!(starts, ends);
    assert_eq!(a.peers().unwrap().len(), 1, "still peered");
    (got, dropped)
}

#[test]
fn disconnecting_a_stalled_peer_reports_what_was_discarded() {
    let a = Endpoint::new(Config {
        peer_buffer_size: 64,
        peer_overflow_policy: brook::OverflowPolicy::Disconnect,
        peer_stall_timeout: Duration::from_millis(200),
        ..Config::default()
    })
    .unwrap();
    let b = Endpoint::new(Config {
        subscriber_queue_size: 16,
        ..Config::default()
    })
    .unwrap();
    let port = b.listen("127.0.0.1", 0).unwrap();
    let _sub = b.subscribe(&["/stall"]).unwrap();
    let st = a.status_subscriber(true).unwrap();
    a.peer("127.0.0.1", port, Duration::ZERO).unwrap();
    wait_peer_subscribed(&a, b"/stall");
    let payload = Data::from("y".repeat(1000).as_str());
    for _ in 0..20_000 {
        a.publish("/stall", &payload).unwrap();
        if a.peers().unwrap().is_empty() {
            break;
        }
    }
    let ev = next_status(&st, StatusKind::Error(ErrorCode::Unspecified));
    assert!(
        ev.message.contains("were discarded (send buffer overflow)"),
        "{}",
        ev.message
    );
    let n: u64 = ev.message.split(' ').next().unwrap().parse().unwrap();
    assert!(n > 0);
    assert_eq!(a.metrics().unwrap().endpoint.discarded, n);
}

#[test]
fn drop_newest_keeps_a_stalled_peers_oldest_messages_and_reports_the_drops() {
    for tls in [false, true] {
        let (got, _) = a_stalled_peer_under(brook::OverflowPolicy::DropNewest, tls);
        assert_eq!(got[0], 0, "the first messages were kept");
        assert!(*got.last().unwrap() < 29_999, "the last ones were dropped");
    }
}

#[test]
fn drop_oldest_keeps_a_stalled_peers_newest_messages_and_reports_the_drops() {
    for tls in [false, true] {
        let (got, _) = a_stalled_peer_under(brook::OverflowPolicy::DropOldest, tls);
        assert_eq!(
            *got.last().unwrap(),
            29_999,
            "the last message was kept (tls {tls})"
        );
    }
}

#[test]
fn a_subscriber_can_have_its_own_queue_size() {
    let a = endpoint();
    let b = Endpoint::new(Config {
        subscriber_overflow_policy: brook::OverflowPolicy::DropNewest,
        ..Config::default()
    })
    .unwrap();
    assert!(matches!(
        b.subscribe_with(&["/q"], 0),
        Err(e) if e.kind == ErrorKind::InvalidArgument
    ));
    let small = b.subscribe_with(&["/q"], 4).unwrap();
    let large = b.subscribe(&["/q"]).unwrap();
    let port = b.listen("127.0.0.1", 0).unwrap();
    a.peer("127.0.0.1", port, Duration::ZERO).unwrap();
    wait_peer_subscribed(&a, b"/q");
    for i in 0..10u64 {
        a.publish("/q", &Data::Count(i)).unwrap();
    }
    eventually("all ten at the large subscriber", || {
        large.available() == 10
    });
    assert_eq!(small.available(), 4);
    assert_eq!(small.dropped(), 6);
    let kept: Vec<Data> = small.poll(10).iter().map(|m| m.data().unwrap()).collect();
    assert_eq!(kept, (0..4u64).map(Data::Count).collect::<Vec<_>>());
}

#[test]
fn busy_polling_endpoints_exchange_events_both_ways() {
    let cfg = Config {
        busy_poll: Duration::from_micros(200),
        ..Config::default()
    };
    let a = Endpoint::new(cfg.clone()).unwrap();
    let b = Endpoint::new(cfg).unwrap();
    let port = b.listen("127.0.0.1", 0).unwrap();
    let at_b = b.subscribe(&["/ping"]).unwrap();
    let at_a = a.subscribe(&["/pong"]).unwrap();
    a.peer("127.0.0.1", port, Duration::ZERO).unwrap();
    wait_peer_subscribed(&a, b"/ping");
    wait_peer_subscribed(&b, b"/pong");
    for i in 0..200u64 {
        a.publish("/ping", &Data::Count(i)).unwrap();
        let m = at_b.get(T).unwrap().expect("ping");
        b.publish("/pong", &m.data().unwrap()).unwrap();
        let back = at_a.get(T).unwrap().expect("pong");
        assert_eq!(back.data().unwrap(), Data::Count(i));
    }
}
