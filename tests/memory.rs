//! What idle connections cost: 1,000 of them (half only TCP-connected, half through
//! Broker's handshake) against one endpoint, with the process's resident memory read from
//! `/proc/self/status` before, while they are open and after they closed.
//!
//! And a frame announced at Broker's largest size: its buffer grows with the bytes that
//! arrive, not with the length prefix.
//!
//! The tests of this binary take turns (`ONE_AT_A_TIME`), so that nothing else allocates
//! while one measures. The clients are plain sockets (they cost the process no user
//! memory) and the endpoint is plain TCP; TLS connections are measured the same way, with
//! the TLS clients in a child process (this binary run again with `BROOK_MEMORY_CLIENTS`
//! set).

use brook::wire::frame::FrameReader;
use brook::wire::handshake::Handshake;
use brook::wire::{EndpointId, Filter};
use brook::{Config, Endpoint, PeerStatus};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Held by each test while it runs.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

const CONNECTIONS: usize = 1000;
const MIB: usize = 1 << 20;
/// What 1,000 idle connections may cost in all (issue 12).
const BUDGET: usize = 64 * MIB;
/// How far above the starting point the process may stay once they closed.
const LEFT_AFTER: usize = 4 * MIB;

/// The process's resident set, in bytes.
fn vm_rss() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: usize = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

fn eventually(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn connections(ep: &Endpoint) -> (usize, usize) {
    let m = ep.metrics().unwrap();
    let peered = m
        .peers
        .iter()
        .filter(|p| p.status == PeerStatus::Peered)
        .count();
    (m.endpoint.connections, peered)
}

/// Broker's handshake as the connecting side with the larger ID (so the endpoint is the
/// originator), up to Phase 3, over a plain or TLS stream.
fn handshake(s: &mut (impl Read + Write), n: usize) {
    let mut id = [0xff; 16];
    id[14..].copy_from_slice(&(n as u16).to_be_bytes());
    let mut out = Vec::new();
    Handshake::hello(EndpointId(id))
        .encode_frame(&mut out)
        .unwrap();
    s.write_all(&out).unwrap();
    let mut buf = Vec::new();
    loop {
        let msg = loop {
            if let (Some(p), used) = FrameReader::handshake().next_frame(&buf).unwrap() {
                let msg = Handshake::decode(p).unwrap();
                buf.drain(..used);
                break msg;
            }
            let mut chunk = [0u8; 512];
            let got = s.read(&mut chunk).unwrap();
            assert!(got > 0, "closed during the handshake");
            buf.extend_from_slice(&chunk[..got]);
        };
        match msg {
            Handshake::OriginatorSyn(_) => {
                let mut out = Vec::new();
                Handshake::ResponderSynAck(Filter::new())
                    .encode_frame(&mut out)
                    .unwrap();
                s.write_all(&out).unwrap();
            }
            Handshake::OriginatorAck => return,
            _ => {}
        }
    }
}

/// Opens `CONNECTIONS` plain connections to `port`, the second half through the handshake.
fn open(port: u16) -> Vec<TcpStream> {
    (0..CONNECTIONS)
        .map(|n| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            if n >= CONNECTIONS / 2 {
                handshake(&mut s, n);
            }
            s
        })
        .collect()
}

/// One round: connections opened by `clients` (which returns what closes them when
/// dropped); the process's growth above `start` while they are open and after they closed.
fn round(
    ep: &Endpoint,
    port: u16,
    start: usize,
    clients: impl FnOnce(u16) -> Box<dyn std::any::Any>,
) -> (usize, usize) {
    let held = clients(port);
    eventually("the connections", 60, || {
        connections(ep) == (CONNECTIONS, CONNECTIONS / 2)
    });
    // Let every connection's greeting and the clients' last bytes be read.
    std::thread::sleep(Duration::from_millis(300));
    let with = vm_rss();
    drop(held);
    eventually("the connections to close", 30, || connections(ep) == (0, 0));
    // The reactor hands freed memory back within a second or two (its buffer sweep).
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut after = vm_rss();
    while after > start + LEFT_AFTER && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        after = vm_rss();
    }
    (with.saturating_sub(start), after.saturating_sub(start))
}

struct ChildClients(std::process::Child);
impl Drop for ChildClients {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn idle_connections_cost_little_and_give_their_memory_back() {
    if let Ok(port) = std::env::var("BROOK_MEMORY_CLIENTS") {
        return tls_clients(port.parse().unwrap());
    }
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let config = |tls: bool| Config {
        disable_ssl: !tls,
        handshake_timeout: Duration::from_secs(120),
        ..Config::default()
    };
    let report = |what: &str, (with, after): (usize, usize)| {
        eprintln!(
            "{what}: {CONNECTIONS} idle connections: +{:.1} MiB ({} bytes each), {:.1} MiB left after they closed",
            with as f64 / MIB as f64,
            with / CONNECTIONS,
            after as f64 / MIB as f64
        );
        assert!(
            with <= BUDGET,
            "{what}: {with} bytes for {CONNECTIONS} connections"
        );
        assert!(
            after <= LEFT_AFTER,
            "{what}: {after} bytes left after closing"
        );
    };

    // Twice each, to see that nothing ratchets up: the growth is measured from before the
    // first round.
    let plain = Endpoint::new(config(false)).unwrap();
    let port = plain.listen("127.0.0.1", 0).unwrap();
    let start = vm_rss();
    for n in 1..=2 {
        let growth = round(&plain, port, start, |p| Box::new(open(p)));
        report(&format!("plain TCP, round {n}"), growth);
    }
    drop(plain);

    let tls = Endpoint::new(config(true)).unwrap();
    let port = tls.listen("127.0.0.1", 0).unwrap();
    let spawn = |p: u16| -> Box<dyn std::any::Any> {
        let child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "idle_connections_cost_little_and_give_their_memory_back",
            ])
            .args(["--nocapture", "--test-threads", "1"])
            .env("BROOK_MEMORY_CLIENTS", p.to_string())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        Box::new(ChildClients(child))
    };
    let start = vm_rss();
    for n in 1..=2 {
        let growth = round(&tls, port, start, spawn);
        report(&format!("anonymous TLS, round {n}"), growth);
    }
}

/// The child: `CONNECTIONS` anonymous-TLS clients (Broker's default mode), the second half
/// through Broker's handshake, held until the parent kills it.
fn tls_clients(port: u16) {
    use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode};
    let mut b = SslConnector::builder(SslMethod::tls()).unwrap();
    b.set_verify(SslVerifyMode::NONE);
    b.set_groups_list("P-384").unwrap();
    b.set_cipher_list("AECDH-AES256-SHA@SECLEVEL=0").unwrap();
    let connector = b.build();
    let mut held = Vec::new();
    for n in 0..CONNECTIONS {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut cfg = connector.configure().unwrap();
        cfg.set_verify_hostname(false);
        let mut tls = cfg.connect("brook", s).unwrap();
        if n >= CONNECTIONS / 2 {
            handshake(&mut tls, n);
        }
        held.push(tls);
    }
    std::thread::sleep(Duration::from_secs(600));
}

#[test]
fn a_frame_is_not_allocated_before_its_bytes_arrive() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let ep = Endpoint::new(Config {
        disable_ssl: true,
        ..Config::default()
    })
    .unwrap();
    let port = ep.listen("127.0.0.1", 0).unwrap();
    let mut raw = TcpStream::connect(("127.0.0.1", port)).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    handshake(&mut raw, 1);
    eventually("the peering", 10, || connections(&ep) == (1, 1));
    let before = vm_rss();
    // Broker's largest frame announced, and its first 4 MiB sent.
    let max = brook::wire::frame::MAX_WIRE_PAYLOAD as u32;
    raw.write_all(&max.to_be_bytes()).unwrap();
    raw.write_all(&vec![0u8; 4 * MIB]).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let grew = vm_rss().saturating_sub(before);
    eprintln!("a frame announced at 2 GiB, 4 MiB of it sent: +{grew} bytes");
    // A buffer for the whole frame would be 2 GiB; the endpoint holds what arrived (in a
    // buffer at most about three times as large).
    assert!(grew < 16 * MIB, "{grew} bytes for an announced frame");
    assert_eq!(
        ep.peers().unwrap()[0].status,
        PeerStatus::Peered,
        "it waits for the rest"
    );
}
