//! `make bench`: brook between two processes over loopback, each figure next to a bare TCP
//! baseline measured in the same run:
//! (a) small Zeek event throughput, (b) round-trip time p50/p99, (c) 1 KiB string
//! throughput, (d) a publisher flooding a slow subscriber for `BROOK_BENCH_FLOOD_SECS`
//! (default 30): disconnects, losses and the subscriber's RSS.
//!
//! (a) to (c) run three times: over plain TCP, anonymous TLS (Broker's default) and TLS with
//! certificates (made here, in a scratch directory); `BROOK_BENCH_TLS=plain,anon,certs`
//! picks some. (d) runs with Broker's default, anonymous TLS.
//!
//! The binary runs itself as the second process (`BROOK_BENCH_CHILD` says which role,
//! `BROOK_BENCH_MODE` which transport).

use brook::data::zeek::Event;
use brook::data::{Data, bin};
use brook::wire::EndpointId;
use brook::wire::envelope;
use brook::{Config, Endpoint, StatusCode, StatusKind};
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const EVENTS: u64 = 2_000_000;
const STRINGS: u64 = 500_000;
const PINGS: usize = 20_000;

fn small_event(i: u64) -> Data {
    Event::new("bench_event", vec![Data::Count(i)]).into()
}

fn kib_string() -> Data {
    Data::String(vec![b'x'; 1024])
}

// ---- the transports ----

/// The transport of this run: `plain`, `anon` or `certs` (whose files are in
/// `BROOK_BENCH_CERTS`).
static MODE: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

fn mode() -> String {
    let m = MODE.lock().unwrap().clone();
    if m.is_empty() {
        std::env::var("BROOK_BENCH_MODE").unwrap_or_else(|_| "anon".into())
    } else {
        m
    }
}

/// The endpoints' configuration for the transport of this run.
fn config() -> Config {
    let mut c = Config::default();
    match mode().as_str() {
        "plain" => c.disable_ssl = true,
        "certs" => {
            let dir = std::path::PathBuf::from(std::env::var("BROOK_BENCH_CERTS").unwrap());
            c.ssl.certificate = Some(dir.join("cert.pem"));
            c.ssl.key = Some(dir.join("key.pem"));
            c.ssl.cafile = Some(dir.join("cert.pem"));
        }
        _ => {}
    }
    c
}

/// A self-signed certificate that trusts itself, for the `certs` runs; its directory.
fn make_certs() -> std::path::PathBuf {
    use openssl::{asn1::Asn1Time, hash::MessageDigest, pkey::PKey, rsa::Rsa, x509};
    let dir = std::env::temp_dir().join(format!("brook-bench-certs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let mut name = x509::X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "brook bench").unwrap();
    let name = name.build();
    let mut c = x509::X509::builder().unwrap();
    c.set_version(2).unwrap();
    c.set_subject_name(&name).unwrap();
    c.set_issuer_name(&name).unwrap();
    c.set_pubkey(&key).unwrap();
    c.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    c.set_not_after(&Asn1Time::days_from_now(1).unwrap())
        .unwrap();
    c.append_extension(
        x509::extension::BasicConstraints::new()
            .ca()
            .build()
            .unwrap(),
    )
    .unwrap();
    c.sign(&key, MessageDigest::sha256()).unwrap();
    std::fs::write(dir.join("cert.pem"), c.build().to_pem().unwrap()).unwrap();
    std::fs::write(dir.join("key.pem"), key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    dir
}

const MODES: [(&str, &str); 3] = [
    ("plain", "plain TCP"),
    ("anon", "anonymous TLS"),
    ("certs", "TLS with certificates"),
];

// ---- the child process ----

fn child(role: &str) {
    let out = std::io::stdout();
    let mut out = out.lock();
    match role {
        // Counts N messages, then prints the seconds from the first to the last.
        "brook-sink" => {
            let n: u64 = std::env::var("N").unwrap().parse().unwrap();
            let ep = Endpoint::new(config()).unwrap();
            let sub = ep.subscribe(&["/bench"]).unwrap();
            let port = ep.listen("127.0.0.1", 0).unwrap();
            writeln!(out, "{port}").unwrap();
            out.flush().unwrap();
            let mut got = 0u64;
            let mut start = None;
            let mut batch = Vec::new();
            while got < n {
                if let Some(m) = sub.get(Some(Duration::from_secs(30))).unwrap() {
                    start.get_or_insert_with(Instant::now);
                    batch.push(m);
                    batch.extend(sub.poll(4096));
                    got += batch.len() as u64;
                    batch.clear();
                } else {
                    panic!("sink: timed out after {got} messages");
                }
            }
            let secs = start.unwrap().elapsed().as_secs_f64();
            writeln!(out, "{secs} {}", cpu_secs()).unwrap();
        }
        "tcp-sink" => {
            let n: u64 = std::env::var("N").unwrap().parse().unwrap();
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            writeln!(out, "{}", l.local_addr().unwrap().port()).unwrap();
            out.flush().unwrap();
            let (s, _) = l.accept().unwrap();
            let mut r = BufReader::with_capacity(256 * 1024, s);
            let mut len = [0u8; 4];
            let mut body = vec![0u8; 1 << 16];
            r.read_exact(&mut len).unwrap();
            let start = Instant::now();
            for i in 0..n {
                if i > 0 {
                    r.read_exact(&mut len).unwrap();
                }
                let l = u32::from_be_bytes(len) as usize;
                r.read_exact(&mut body[..l]).unwrap();
            }
            writeln!(out, "{} {}", start.elapsed().as_secs_f64(), cpu_secs()).unwrap();
        }
        "brook-pong" => {
            let ep = Endpoint::new(rtt_config()).unwrap();
            let sub = ep.subscribe(&["/bench/ping"]).unwrap();
            let port = ep.listen("127.0.0.1", 0).unwrap();
            writeln!(out, "{port}").unwrap();
            out.flush().unwrap();
            while let Ok(Some(m)) = sub.get(Some(Duration::from_secs(10))) {
                ep.publish("/bench/pong", &m.data().unwrap()).unwrap();
            }
        }
        "tcp-pong" => {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            writeln!(out, "{}", l.local_addr().unwrap().port()).unwrap();
            out.flush().unwrap();
            let (mut s, _) = l.accept().unwrap();
            s.set_nodelay(true).unwrap();
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let mut len = [0u8; 4];
                if s.read_exact(&mut len).is_err() {
                    break;
                }
                let l = u32::from_be_bytes(len) as usize;
                s.read_exact(&mut buf[..l]).unwrap();
                let mut frame = len.to_vec();
                frame.extend_from_slice(&buf[..l]);
                s.write_all(&frame).unwrap();
            }
        }
        // A subscriber that reads slowly and reports its progress and RSS every second.
        "slow-sink" => {
            let ep = Endpoint::new(config()).unwrap();
            let sub = ep.subscribe(&["/bench"]).unwrap();
            let port = ep.listen("127.0.0.1", 0).unwrap();
            writeln!(out, "{port}").unwrap();
            out.flush().unwrap();
            let mut expect = 0u64;
            let mut last_report = Instant::now();
            while let Ok(Some(m)) = sub.get(Some(Duration::from_secs(5))) {
                let Data::Vector(v) = m.data().unwrap() else {
                    panic!("unexpected value");
                };
                let Data::Count(seq) = v[0] else { panic!() };
                if seq != expect {
                    writeln!(out, "GAP expected {expect} got {seq}").unwrap();
                    expect = seq;
                }
                expect += 1;
                if expect.is_multiple_of(64) {
                    std::thread::sleep(Duration::from_millis(1));
                }
                if last_report.elapsed() >= Duration::from_secs(1) {
                    writeln!(out, "{expect} {}", rss_kib()).unwrap();
                    out.flush().unwrap();
                    last_report = Instant::now();
                }
            }
            writeln!(out, "END {expect} {}", rss_kib()).unwrap();
        }
        other => panic!("unknown child role {other}"),
    }
}

/// CPU seconds (user + system) this process has used so far.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after ')'.
    (ticks(11) + ticks(12)) / 100.0
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

// ---- the parent ----

struct ChildProc {
    child: Child,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

impl ChildProc {
    fn start(role: &str, n: u64) -> (ChildProc, u16) {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env("BROOK_BENCH_CHILD", role)
            .env("BROOK_BENCH_MODE", mode())
            .env("N", n.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let port = lines.next().unwrap().unwrap().parse().unwrap();
        (ChildProc { child, lines }, port)
    }

    fn line(&mut self) -> Option<String> {
        self.lines.next().and_then(|l| l.ok())
    }

    /// A sink's closing line: wall seconds and its own CPU seconds.
    fn times(&mut self) -> (f64, f64) {
        let line = self.line().expect("the sink's result");
        let mut it = line.split(' ').map(|v| v.parse::<f64>().unwrap());
        (it.next().unwrap(), it.next().unwrap())
    }
}

impl Drop for ChildProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Publishes `n` values through brook to a sink process; returns messages per second and
/// the CPU time both processes spent per message.
fn brook_throughput(n: u64, mut publish: impl FnMut(&Endpoint, u64)) -> (f64, f64) {
    let (mut sink, port) = ChildProc::start("brook-sink", n);
    let ep = Endpoint::new(config()).unwrap();
    ep.peer("127.0.0.1", port, Duration::ZERO).unwrap();
    while !ep
        .peer_subscriptions()
        .unwrap()
        .iter()
        .any(|t| t.as_slice() == b"/bench")
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    let cpu0 = cpu_secs();
    for i in 0..n {
        publish(&ep, i);
    }
    let (secs, child_cpu) = sink.times();
    let cpu = cpu_secs() - cpu0 + child_cpu;
    (n as f64 / secs, cpu / n as f64 * 1e9)
}

/// The same frames written straight into a TCP socket; returns messages per second and CPU
/// time per message.
fn tcp_throughput(n: u64, value: impl Fn(u64) -> Data) -> (f64, f64) {
    let (mut sink, port) = ChildProc::start("tcp-sink", n);
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut w = BufWriter::with_capacity(256 * 1024, s);
    let id = EndpointId::random();
    let mut frame = Vec::new();
    let cpu0 = cpu_secs();
    for i in 0..n {
        frame.clear();
        envelope::write_data(&mut frame, id, EndpointId::nil(), b"/bench", &value(i)).unwrap();
        w.write_all(&frame).unwrap();
    }
    w.flush().unwrap();
    let (secs, child_cpu) = sink.times();
    let cpu = cpu_secs() - cpu0 + child_cpu;
    (n as f64 / secs, cpu / n as f64 * 1e9)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p) as usize]
}

/// The round-trip endpoints' configuration: brook's default, or `busy_poll` from
/// `BROOK_BENCH_BUSY_POLL_US` (0 turns it off).
fn rtt_config() -> Config {
    let mut config = config();
    if let Some(us) = std::env::var("BROOK_BENCH_BUSY_POLL_US")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        config.busy_poll = Duration::from_micros(us);
    }
    config
}

fn brook_rtt() -> (Duration, Duration) {
    let (_pong, port) = ChildProc::start("brook-pong", 0);
    let ep = Endpoint::new(rtt_config()).unwrap();
    let sub = ep.subscribe(&["/bench/pong"]).unwrap();
    ep.peer("127.0.0.1", port, Duration::ZERO).unwrap();
    while !ep
        .peer_subscriptions()
        .unwrap()
        .iter()
        .any(|t| t.as_slice() == b"/bench/ping")
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut rtts = Vec::with_capacity(PINGS);
    for i in 0..PINGS as u64 + 1000 {
        let t = Instant::now();
        ep.publish("/bench/ping", &small_event(i)).unwrap();
        sub.get(Some(Duration::from_secs(5)))
            .unwrap()
            .expect("pong");
        if i >= 1000 {
            rtts.push(t.elapsed()); // after a warm-up
        }
    }
    rtts.sort();
    (percentile(&rtts, 0.5), percentile(&rtts, 0.99))
}

fn tcp_rtt() -> (Duration, Duration) {
    let (_pong, port) = ChildProc::start("tcp-pong", 0);
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_nodelay(true).unwrap();
    let mut frame = Vec::new();
    envelope::write_data(
        &mut frame,
        EndpointId::random(),
        EndpointId::nil(),
        b"/bench/ping",
        &small_event(1),
    )
    .unwrap();
    let mut back = vec![0u8; frame.len()];
    let mut rtts = Vec::with_capacity(PINGS);
    for i in 0..PINGS + 1000 {
        let t = Instant::now();
        s.write_all(&frame).unwrap();
        s.read_exact(&mut back).unwrap();
        if i >= 1000 {
            rtts.push(t.elapsed());
        }
    }
    rtts.sort();
    (percentile(&rtts, 0.5), percentile(&rtts, 0.99))
}

fn flood(secs: u64) {
    let (mut sink, port) = ChildProc::start("slow-sink", 0);
    let ep = Endpoint::new(config()).unwrap();
    let st = ep.status_subscriber(true).unwrap();
    ep.peer("127.0.0.1", port, Duration::ZERO).unwrap();
    while !ep
        .peer_subscriptions()
        .unwrap()
        .iter()
        .any(|t| t.as_slice() == b"/bench")
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    let payload = Data::String(vec![b'p'; 100]);
    let start = Instant::now();
    let mut sent = 0u64;
    while start.elapsed() < Duration::from_secs(secs) {
        ep.publish(
            "/bench",
            &Data::Vector(vec![Data::Count(sent), payload.clone()]),
        )
        .unwrap();
        sent += 1;
    }
    ep.flush().unwrap();
    let lost_peer = st
        .poll(1000)
        .iter()
        .any(|e| e.kind == StatusKind::Status(StatusCode::PeerLost));
    drop(ep);
    let mut rss = Vec::new();
    let mut gaps = 0;
    let mut received = 0u64;
    while let Some(l) = sink.line() {
        if l.starts_with("GAP") {
            gaps += 1;
        } else if let Some(rest) = l.strip_prefix("END ") {
            let mut it = rest.split(' ');
            received = it.next().unwrap().parse().unwrap();
            rss.push(it.next().unwrap().parse::<u64>().unwrap());
            break;
        } else {
            let mut it = l.split(' ');
            it.next();
            rss.push(it.next().unwrap().parse::<u64>().unwrap());
        }
    }
    let max = rss.iter().max().copied().unwrap_or(0);
    let later = &rss[rss.len() / 3..];
    let (lo, hi) = (
        later.iter().min().copied().unwrap_or(0),
        later.iter().max().copied().unwrap_or(0),
    );
    println!(
        "(d) slow subscriber, {secs} s flood: sent {sent}, received {received}, gaps {gaps}, \
         peer lost: {lost_peer}; subscriber RSS max {:.1} MB, last two thirds {:.1}..{:.1} MB",
        max as f64 / 1024.0,
        lo as f64 / 1024.0,
        hi as f64 / 1024.0
    );
}

fn main() {
    if let Ok(role) = std::env::var("BROOK_BENCH_CHILD") {
        return child(&role);
    }
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let _ = bin::encode(&small_event(0));
    println!("brook network benchmark: two processes over 127.0.0.1");
    // BROOK_BENCH_ONLY=a,b,... runs a subset.
    let only = std::env::var("BROOK_BENCH_ONLY").unwrap_or_else(|_| "abcd".into());
    let run = |c: char| only.contains(c);

    let modes: Vec<(&str, &str)> = {
        let want = std::env::var("BROOK_BENCH_TLS").unwrap_or_else(|_| "plain,anon,certs".into());
        MODES
            .into_iter()
            .filter(|(m, _)| want.contains(m))
            .collect()
    };
    let certs = make_certs();
    // SAFETY: set before any other thread of this process runs.
    unsafe { std::env::set_var("BROOK_BENCH_CERTS", &certs) };
    let each_mode = |f: &mut dyn FnMut(&str)| {
        for (m, label) in &modes {
            *MODE.lock().unwrap() = m.to_string();
            f(label);
        }
    };

    if run('a') {
        let (t, tc) = tcp_throughput(EVENTS, small_event);
        println!(
            "(a) small events: bare TCP {:.2} M/s, CPU per event {tc:.0} ns",
            t / 1e6
        );
        each_mode(&mut |label| {
            // One event, its argument set for each publish (as a high-rate producer would
            // do): this measures brook, not the allocator.
            let mut ev = Event::new("bench_event", vec![Data::Count(0)]);
            let (b, bc) = brook_throughput(EVENTS, |ep, i| {
                ev.args[0] = Data::Count(i);
                ep.publish_event("/bench", &ev).unwrap()
            });
            println!(
                "    brook, {label}: {:.2} M/s (ratio {:.2}), CPU per event {bc:.0} ns",
                b / 1e6,
                b / t
            );
        });
    }

    if run('b') {
        let (t50, t99) = tcp_rtt();
        println!(
            "(b) round trip: bare TCP p50 {:.1} us p99 {:.1} us",
            t50.as_secs_f64() * 1e6,
            t99.as_secs_f64() * 1e6
        );
        each_mode(&mut |label| {
            let (p50, p99) = brook_rtt();
            println!(
                "    brook, {label}: p50 {:.1} us p99 {:.1} us (p50 ratio {:.2})",
                p50.as_secs_f64() * 1e6,
                p99.as_secs_f64() * 1e6,
                p50.as_secs_f64() / t50.as_secs_f64()
            );
        });
    }

    if run('c') {
        let s = kib_string();
        let (t, tc) = tcp_throughput(STRINGS, |_| s.clone());
        println!(
            "(c) 1 KiB strings: bare TCP {:.2} GB/s, CPU per message {tc:.0} ns",
            t * 1024.0 / 1e9
        );
        each_mode(&mut |label| {
            let (b, bc) = brook_throughput(STRINGS, |ep, _| ep.publish("/bench", &s).unwrap());
            println!(
                "    brook, {label}: {:.2} GB/s (ratio {:.2}), CPU per message {bc:.0} ns",
                b * 1024.0 / 1e9,
                b / t
            );
        });
    }
    *MODE.lock().unwrap() = "anon".into();
    let _ = std::fs::remove_dir_all(&certs);

    if !run('d') {
        return;
    }
    let secs = std::env::var("BROOK_BENCH_FLOOD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    flood(secs);
}
