//! Alive-but-slow is not dead; dead is found in bounded time; shutdown counts what it could
//! not deliver (issue 12). Endpoints really peer over loopback (and, for a vanishing host,
//! over a veth pair into a network namespace).

use brook::{Config, Data, Endpoint, ErrorKind, StatusCode, StatusKind};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

fn eventually(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn wait_peer_subscribed(ep: &Endpoint, topic: &[u8]) {
    eventually("the peer's subscription", Duration::from_secs(10), || {
        ep.peer_subscriptions()
            .unwrap()
            .iter()
            .any(|t| topic.starts_with(t))
    });
}

/// A publisher and a peer whose only subscriber does not read for `stall`: its queue
/// fills, the peer stops reading its socket, TCP fills, and the publisher waits. Under the
/// default configuration the peering survives and every message arrives, in order.
fn stalled_reader(stall: Duration, tls: bool) {
    let cfg = Config {
        disable_ssl: !tls,
        ..Config::default()
    };
    let a = Endpoint::new(Config {
        peer_buffer_size: 64,
        ..cfg.clone()
    })
    .unwrap();
    let b = Endpoint::new(Config {
        subscriber_queue_size: 16,
        ..cfg
    })
    .unwrap();
    let port = b.listen("127.0.0.1", 0).unwrap();
    let sub = b.subscribe(&["/stall"]).unwrap();
    let status = a.status_subscriber(true).unwrap();
    a.peer("127.0.0.1", port, Duration::ZERO).unwrap();
    wait_peer_subscribed(&a, b"/stall");
    const N: u64 = 100_000;
    let a = Arc::new(a);
    let publisher = {
        let a = a.clone();
        std::thread::spawn(move || {
            let payload = Data::from("y".repeat(1000).as_str());
            for i in 0..N {
                a.publish(
                    "/stall",
                    &Data::Vector(vec![Data::Count(i), payload.clone()]),
                )
                .unwrap();
            }
        })
    };
    let t0 = Instant::now();
    while !publisher.is_finished() && t0.elapsed() < stall {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(stall.saturating_sub(t0.elapsed()));
    assert!(!publisher.is_finished(), "the publisher never had to wait");
    let mut next = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    while next < N {
        assert!(Instant::now() < deadline, "only {next} of {N} arrived");
        if let Some(m) = sub.get(Some(Duration::from_millis(100))).unwrap() {
            let v = m.data().unwrap();
            assert_eq!(v.as_vector().unwrap()[0], Data::Count(next), "in order");
            next += 1;
        }
    }
    publisher.join().unwrap();
    let m = a.metrics().unwrap();
    assert_eq!(m.endpoint.discarded, 0);
    assert_eq!(a.peers().unwrap().len(), 1, "still peered");
    assert_eq!(a.peers().unwrap()[0].dropped, 0);
    for ev in status.poll(1000) {
        assert!(
            !matches!(
                ev.kind,
                StatusKind::Status(StatusCode::PeerLost | StatusCode::PeerRemoved)
            ),
            "{}",
            ev.message
        );
    }
}

#[test]
fn stalled_readers_of_15_30_and_60_seconds_keep_their_peering_and_lose_nothing() {
    // Side by side, so the test takes a minute, not two.
    let runs: Vec<_> = [(15, false), (30, true), (60, false)]
        .into_iter()
        .map(|(secs, tls)| {
            std::thread::spawn(move || stalled_reader(Duration::from_secs(secs), tls))
        })
        .collect();
    for r in runs {
        r.join().unwrap();
    }
}

#[test]
fn shutdown_reports_what_a_peer_that_never_reads_did_not_take() {
    let a = Endpoint::new(Config {
        peer_buffer_size: 64,
        unpeer_timeout: Duration::from_millis(300),
        ..Config::default()
    })
    .unwrap();
    let b = Endpoint::new(Config {
        subscriber_queue_size: 16,
        ..Config::default()
    })
    .unwrap();
    let port = b.listen("127.0.0.1", 0).unwrap();
    let _sub = b.subscribe(&["/never"]).unwrap();
    let status = a.status_subscriber(true).unwrap();
    a.peer("127.0.0.1", port, Duration::ZERO).unwrap();
    wait_peer_subscribed(&a, b"/never");
    let payload = Data::from("z".repeat(1000).as_str());
    // Until the publisher has had to wait for a whole second and the peer buffer is full:
    // the peer's queue, its socket buffers and ours are full too.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut blocked_since = None;
    loop {
        match a.try_publish("/never", &payload) {
            Ok(()) => blocked_since = None,
            Err(e) if e.kind == ErrorKind::WouldBlock => {
                let since = *blocked_since.get_or_insert_with(Instant::now);
                let full = || {
                    a.metrics()
                        .unwrap()
                        .peers
                        .iter()
                        .any(|p| p.queued_frames >= 64)
                };
                if since.elapsed() > Duration::from_secs(1) && full() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("{e}"),
        }
        assert!(Instant::now() < deadline, "the peer never filled up");
    }
    let start = Instant::now();
    let undelivered = a.shutdown();
    assert!(undelivered > 0);
    assert!(start.elapsed() < Duration::from_secs(5), "waited too long");
    assert_eq!(a.shutdown(), 0, "a second shutdown has nothing left");
    let ev = status
        .poll(100)
        .into_iter()
        .find(|e| e.message.contains("were discarded"))
        .expect("an error event with the count");
    assert!(
        ev.message
            .starts_with(&format!("{undelivered} messages queued for peer")),
        "{}",
        ev.message
    );
    assert!(
        ev.message.contains("the endpoint shut down"),
        "{}",
        ev.message
    );
}

#[test]
fn a_shutdown_with_readers_that_keep_up_delivers_everything() {
    let a = Endpoint::new(Config::default()).unwrap();
    let b = Endpoint::new(Config::default()).unwrap();
    let port = b.listen("127.0.0.1", 0).unwrap();
    let sub = b.subscribe(&["/all"]).unwrap();
    a.peer("127.0.0.1", port, Duration::ZERO).unwrap();
    wait_peer_subscribed(&a, b"/all");
    for i in 0..5000u64 {
        a.publish("/all", &Data::Count(i)).unwrap();
    }
    assert_eq!(a.shutdown(), 0);
    for i in 0..5000u64 {
        let m = sub.get(Some(Duration::from_secs(10))).unwrap().unwrap();
        assert_eq!(m.data().unwrap(), Data::Count(i));
    }
}

/// A network namespace behind a veth pair: a host that can vanish (its link goes down)
/// while its process lives on. None where the test may not make one (not root, no `ip`).
struct Namespace {
    name: String,
    link: String,
    here: String,
    there: String,
}

impl Namespace {
    fn new() -> Option<Namespace> {
        let id = std::process::id() % 10_000;
        let ns = Namespace {
            name: format!("brooktest{id}"),
            link: format!("bkt{id}"),
            here: format!("10.213.{}.1", id % 250),
            there: format!("10.213.{}.2", id % 250),
        };
        let peer = format!("{}p", ns.link);
        let steps: Vec<Vec<String>> = vec![
            vec!["netns", "add", &ns.name],
            vec![
                "link", "add", &ns.link, "type", "veth", "peer", "name", &peer,
            ],
            vec!["link", "set", &peer, "netns", &ns.name],
            vec!["addr", "add", &format!("{}/30", ns.here), "dev", &ns.link],
            vec!["link", "set", &ns.link, "up"],
        ]
        .into_iter()
        .map(|v| v.into_iter().map(String::from).collect())
        .collect();
        let inside: Vec<Vec<String>> = vec![
            vec!["addr", "add", &format!("{}/30", ns.there), "dev", &peer],
            vec!["link", "set", &peer, "up"],
            vec!["link", "set", "lo", "up"],
        ]
        .into_iter()
        .map(|v| v.into_iter().map(String::from).collect())
        .collect();
        let ip = |args: &[String]| {
            Command::new("ip")
                .args(args)
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        for s in &steps {
            if !ip(s) {
                ns.cleanup();
                return None;
            }
        }
        for s in &inside {
            let mut args = vec!["netns".into(), "exec".into(), ns.name.clone(), "ip".into()];
            args.extend(s.iter().cloned());
            if !ip(&args) {
                ns.cleanup();
                return None;
            }
        }
        Some(ns)
    }

    /// Runs `program args` inside the namespace.
    fn spawn(&self, program: &str, args: &[&str]) -> Child {
        Command::new("ip")
            .args(["netns", "exec", &self.name, program])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    /// The host vanishes: its end of the link goes down (no packet passes either way).
    fn vanish(&self) {
        let peer = format!("{}p", self.link);
        let ok = Command::new("ip")
            .args([
                "netns", "exec", &self.name, "ip", "link", "set", &peer, "down",
            ])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }

    fn cleanup(&self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.link])
            .stderr(Stdio::null())
            .status();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        self.cleanup();
    }
}

fn peer_when_up(ep: &Endpoint, host: &str, port: u16) {
    eventually("the peer in the namespace", Duration::from_secs(15), || {
        ep.peer(host, port, Duration::ZERO).is_ok()
    });
}

fn lost_within(status: &brook::StatusSubscriber, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let left = limit.saturating_sub(start.elapsed());
        assert!(
            !left.is_zero(),
            "the vanished peer was not noticed in {limit:?}"
        );
        if let Some(ev) = status.get(Some(left)).unwrap() {
            if ev.kind == StatusKind::Status(StatusCode::PeerLost) {
                return start.elapsed();
            }
        }
    }
}

#[test]
fn a_peer_whose_host_vanishes_is_dropped_within_the_peer_timeout() {
    let Some(ns) = Namespace::new() else {
        eprintln!("skipped: cannot make a network namespace here (needs root and `ip`)");
        return;
    };
    let port = 47000 + (std::process::id() % 1000) as u16;
    let mut child = ns.spawn(
        env!("CARGO_BIN_EXE_brook"),
        &[
            "pipe",
            "--mode",
            "subscribe",
            "--topic",
            "/vanish",
            "--local-port",
            &port.to_string(),
        ],
    );
    let cfg = Config {
        peer_timeout: Duration::from_secs(3),
        ..Config::default()
    };
    // One peering that keeps sending (data goes unacknowledged) and one that is idle
    // (only keepalive probes can tell).
    let busy = Arc::new(Endpoint::new(cfg.clone()).unwrap());
    let idle = Endpoint::new(cfg).unwrap();
    let busy_status = busy.status_subscriber(true).unwrap();
    let idle_status = idle.status_subscriber(true).unwrap();
    peer_when_up(&busy, &ns.there, port);
    peer_when_up(&idle, &ns.there, port);
    wait_peer_subscribed(&busy, b"/vanish");
    let stop = Arc::new(AtomicBool::new(false));
    let sender = {
        let (busy, stop) = (busy.clone(), stop.clone());
        std::thread::spawn(move || {
            let payload = Data::from("v".repeat(1000).as_str());
            while !stop.load(Ordering::Relaxed) {
                if busy.try_publish("/vanish", &payload).is_err() {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        })
    };
    std::thread::sleep(Duration::from_millis(500));
    ns.vanish();
    // 3 s of unacknowledged data (TCP_USER_TIMEOUT), or about 1 s idle + 4 probes 1 s
    // apart; the limit leaves room for a loaded machine.
    let busy_after = lost_within(&busy_status, Duration::from_secs(15));
    let idle_after = lost_within(&idle_status, Duration::from_secs(15));
    stop.store(true, Ordering::Relaxed);
    sender.join().unwrap();
    eprintln!("lost after {busy_after:?} (busy) and {idle_after:?} (idle)");
    assert!(busy.peers().unwrap().is_empty() && idle.peers().unwrap().is_empty());
    // What was queued for the dead peer is counted and reported.
    let m = busy.metrics().unwrap();
    assert!(m.endpoint.discarded > 0, "nothing counted as discarded");
    let _ = child.kill();
    let _ = child.wait();
}
