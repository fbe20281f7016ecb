//! The spool over loopback (issue 12 part 5): what a publisher publishes while no peer
//! takes it reaches a peer later, in order. A logger that is down at the start; a logger
//! (`brook pipe --mode subscribe`, a child process) killed with SIGKILL and restarted; a
//! publisher process killed and restarted on the same spool; a torn or corrupted segment
//! tail; a full spool under `block` and under `drop_oldest`.
//!
//! Publisher processes are this test binary run again with [`CHILD`] set (see
//! `publisher_process`). Every wait has a deadline, and children still running when a
//! test ends are killed. Messages are counts on `/logs/x`: their numbers tell order, gaps
//! and duplicates.

use brook::{Config, Data, Endpoint, ErrorKind, PeerStatus, SpoolPolicy, StatusKind, Subscriber};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(30);
const TOPIC: &str = "/logs/x";
/// Set (to the spool directory) in a publisher process's environment.
const CHILD: &str = "BROOK_SPOOL_TEST_PUBLISHER";
const RETRY: Duration = Duration::from_millis(100);

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("brook-spool-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn config() -> Config {
    Config {
        disable_ssl: true,
        ..Config::default()
    }
}

fn spooled(dir: &Path) -> Config {
    let mut c = config();
    c.spool.dir = Some(dir.to_path_buf());
    c
}

fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn peered(ep: &Endpoint) -> usize {
    let peers = ep.peers().unwrap();
    peers
        .iter()
        .filter(|p| p.status == PeerStatus::Peered)
        .count()
}

/// The number of a message.
fn number(m: &brook::Message) -> u64 {
    match m.data().unwrap() {
        Data::Count(n) => n,
        other => panic!("not a count: {other:?}"),
    }
}

/// Takes `n` messages from `sub`, failing after the deadline.
fn take(sub: &Subscriber, n: usize) -> Vec<u64> {
    let deadline = Instant::now() + DEADLINE;
    let mut got = Vec::new();
    while got.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        match sub.get(Some(left)).unwrap() {
            Some(m) => got.push(number(&m)),
            None => panic!(
                "got {} of {n} messages: {:?}...",
                got.len(),
                &got[..got.len().min(20)]
            ),
        }
    }
    got
}

/// A subscriber on `TOPIC` listening on `port` (0: any); its endpoint, port, subscriber.
fn logger(port: u16) -> (Endpoint, u16, Subscriber) {
    let ep = Endpoint::new(config()).unwrap();
    let sub = ep.subscribe(&[TOPIC]).unwrap();
    let port = ep.listen("127.0.0.1", port).unwrap();
    (ep, port, sub)
}

#[test]
fn a_logger_down_at_the_start_gets_everything_in_order_once_it_is_up() {
    let dir = scratch("down-at-start");
    let publisher = Endpoint::new(spooled(&dir)).unwrap();
    let n = 5000;
    for i in 0..n {
        publisher.publish(TOPIC, &Data::Count(i)).unwrap();
    }
    publisher.flush().unwrap();
    let m = publisher.metrics().unwrap().endpoint;
    assert_eq!((m.spooled, m.spool_records, m.replayed), (n, n, 0));
    let (_logger, port, sub) = logger(0);
    publisher.peer("127.0.0.1", port, RETRY).unwrap();
    assert_eq!(take(&sub, n as usize), (0..n).collect::<Vec<_>>());
    // Now the spool only passes messages through.
    publisher.publish(TOPIC, &Data::Count(n)).unwrap();
    assert_eq!(take(&sub, 1), [n]);
    eventually("the spool to empty", || {
        publisher.metrics().unwrap().endpoint.spool_records == 0
    });
    let m = publisher.metrics().unwrap().endpoint;
    assert_eq!((m.spooled, m.replayed, m.spool_dropped), (n + 1, n + 1, 0));
    assert!(
        sub.get(Some(Duration::from_millis(100))).unwrap().is_none(),
        "no duplicates"
    );
    drop(publisher);
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---- a logger process ----

/// `brook pipe --mode subscribe` on `port` (0: any), printing what it gets; lines are read
/// on a thread.
struct Pipe {
    child: Child,
    lines: Receiver<String>,
    port: u16,
}

impl Pipe {
    fn start(port: u16) -> Pipe {
        let mut child = Command::new(env!("CARGO_BIN_EXE_brook"))
            .args([
                "pipe",
                "-m",
                "subscribe",
                "-t",
                TOPIC,
                "--disable-ssl",
                "-l",
            ])
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("brook starts");
        let (tx, lines) = channel();
        let stderr = child.stderr.take().unwrap();
        let (ptx, prx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(p) = line.strip_prefix("*** listening on port ") {
                    let _ = ptx.send(p.parse::<u16>().unwrap());
                }
            }
        });
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let port = prx.recv_timeout(DEADLINE).expect("the pipe listens");
        Pipe { child, lines, port }
    }

    /// The numbers printed until `until` says stop, or the pipe ends.
    fn numbers(&self, mut until: impl FnMut(&[u64]) -> bool) -> Vec<u64> {
        let deadline = Instant::now() + DEADLINE;
        let mut got = Vec::new();
        while !until(&got) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let n = line
                        .strip_prefix(&format!("data({TOPIC}, "))
                        .and_then(|r| r.strip_suffix(')'))
                        .unwrap_or_else(|| panic!("unexpected line {line:?}"));
                    got.push(n.parse().unwrap());
                }
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => panic!("no output in time after {got:?}"),
            }
        }
        got
    }

    /// SIGKILL, and what it had printed that was not read yet.
    fn kill(mut self) -> Vec<u64> {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.numbers(|_| false)
    }
}

impl Drop for Pipe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `ep` has no peering left (it noticed the logger's death).
fn wait_unpeered(ep: &Endpoint) {
    eventually("the peering to end", || peered(ep) == 0);
}

#[test]
fn a_logger_killed_and_restarted_gets_what_was_published_meanwhile() {
    let dir = scratch("logger-killed");
    let logger = Pipe::start(0);
    let port = logger.port;
    let publisher = Endpoint::new(spooled(&dir)).unwrap();
    publisher.peer("127.0.0.1", port, RETRY).unwrap();
    eventually("the logger's subscription", || {
        !publisher.peer_subscriptions().unwrap().is_empty()
    });
    for i in 0..1000 {
        publisher.publish(TOPIC, &Data::Count(i)).unwrap();
    }
    let first = logger.numbers(|got| got.len() == 1000);
    assert_eq!(first, (0..1000).collect::<Vec<_>>());
    assert!(logger.kill().is_empty());
    wait_unpeered(&publisher);
    for i in 1000..3000 {
        publisher.publish(TOPIC, &Data::Count(i)).unwrap();
    }
    publisher.flush().unwrap();
    // Besides the 2000: those of the first 1000 whose acknowledgement the dead logger's
    // kernel had not sent yet (delayed ACKs), which go again.
    let m = publisher.metrics().unwrap().endpoint;
    assert!(m.spool_records >= 2000 && m.spool_records <= 3000, "{m:?}");
    let logger = Pipe::start(port);
    let second = logger.numbers(|got| got.last() == Some(&2999));
    let from = second[0];
    assert!(from <= 1000);
    assert_eq!(second, (from..3000).collect::<Vec<_>>());
    assert_eq!(second.len() as u64, m.spool_records);
    drop(publisher);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_logger_killed_while_messages_flow_loses_only_what_its_socket_held() {
    let dir = scratch("logger-killed-busy");
    let logger = Pipe::start(0);
    let port = logger.port;
    let publisher = Endpoint::new(spooled(&dir)).unwrap();
    publisher.peer("127.0.0.1", port, RETRY).unwrap();
    eventually("the logger's subscription", || {
        !publisher.peer_subscriptions().unwrap().is_empty()
    });
    let n = 20_000u64;
    let publisher = std::sync::Arc::new(publisher);
    let p = publisher.clone();
    let feeder = std::thread::spawn(move || {
        for i in 0..n {
            p.publish(TOPIC, &Data::Count(i)).unwrap();
            if i % 100 == 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    });
    let mut first = logger.numbers(|got| got.len() >= 2000);
    first.extend(logger.kill());
    let restarted = Pipe::start(port);
    feeder.join().unwrap();
    let last_first = *first.last().unwrap();
    let second = restarted.numbers(|got| got.last() == Some(&(n - 1)));
    // Each logger saw an unbroken run in order; between them lies only what the kernel
    // held for the dead one (lost) or what it had and the spool sent again (duplicates).
    assert_eq!(first, (0..=last_first).collect::<Vec<_>>());
    let from = second[0];
    assert_eq!(second, (from..n).collect::<Vec<_>>());
    let lost = from.saturating_sub(last_first + 1);
    let duplicated = (last_first + 1).saturating_sub(from);
    eprintln!("killed after {last_first}: {lost} lost in its socket, {duplicated} duplicated");
    drop(publisher);
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---- a publisher process ----

/// In a publisher process (see the module doc): an endpoint with the spool `$CHILD`,
/// peering with `$BROOK_SPOOL_TEST_PEER` if set; publishes the counts
/// `$BROOK_SPOOL_TEST_FROM..$BROOK_SPOOL_TEST_TO`, waits until they are delivered or
/// spooled, prints `published`, then waits for its stdin to close. Elsewhere: returns.
#[test]
fn publisher_process() {
    let Ok(dir) = std::env::var(CHILD) else {
        return;
    };
    let var = |name: &str| std::env::var(name).ok();
    let ep = Endpoint::new(spooled(Path::new(&dir))).unwrap();
    if let Some(port) = var("BROOK_SPOOL_TEST_PEER") {
        ep.peer("127.0.0.1", port.parse().unwrap(), RETRY).unwrap();
    }
    let from: u64 = var("BROOK_SPOOL_TEST_FROM").unwrap().parse().unwrap();
    let to: u64 = var("BROOK_SPOOL_TEST_TO").unwrap().parse().unwrap();
    let batch: Vec<Data> = (from..to).map(Data::Count).collect();
    for chunk in batch.chunks(1000) {
        ep.publish_batch(TOPIC, chunk).unwrap();
    }
    ep.flush().unwrap();
    let mut out = std::io::stdout().lock();
    writeln!(out, "\npublished").unwrap();
    out.flush().unwrap();
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
}

struct Publisher {
    child: Child,
    lines: Receiver<String>,
}

impl Publisher {
    fn start(dir: &Path, peer: Option<u16>, from: u64, to: u64) -> Publisher {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args([
            "publisher_process",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, dir)
        .env("BROOK_SPOOL_TEST_FROM", from.to_string())
        .env("BROOK_SPOOL_TEST_TO", to.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
        if let Some(p) = peer {
            cmd.env("BROOK_SPOOL_TEST_PEER", p.to_string());
        }
        let mut child = cmd.spawn().expect("the publisher starts");
        let (tx, lines) = channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Publisher { child, lines }
    }

    fn wait_published(&self) {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) if l == "published" => return,
                Ok(_) => {}
                Err(e) => panic!("the publisher did not publish: {e}"),
            }
        }
    }

    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_publisher_killed_with_records_spooled_delivers_them_when_restarted() {
    let dir = scratch("publisher-killed");
    // No logger yet: everything goes to the spool, then the process dies.
    let p = Publisher::start(&dir, None, 0, 3000);
    p.wait_published();
    p.kill();
    let (_logger, port, sub) = logger(0);
    let p = Publisher::start(&dir, Some(port), 3000, 4000);
    p.wait_published();
    assert_eq!(take(&sub, 4000), (0..4000).collect::<Vec<_>>());
    assert!(sub.get(Some(Duration::from_millis(100))).unwrap().is_none());
    p.kill();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_publisher_killed_while_delivering_duplicates_at_most_what_was_in_flight() {
    let dir = scratch("publisher-killed-busy");
    let n = 200_000u64;
    let p = Publisher::start(&dir, None, 0, n);
    p.wait_published();
    p.kill();
    // A slow logger (a small queue and a reader that sleeps) so that the kill lands
    // in the middle of delivery.
    let ep = Endpoint::new(config()).unwrap();
    let sub = ep.subscribe_with(&[TOPIC], 64).unwrap();
    let port = ep.listen("127.0.0.1", 0).unwrap();
    let p = Publisher::start(&dir, Some(port), n, n);
    let mut got = Vec::new();
    let deadline = Instant::now() + DEADLINE;
    while got.len() < 20_000 {
        let left = deadline.saturating_duration_since(Instant::now());
        let m = sub.get(Some(left)).unwrap().expect("delivery starts");
        got.push(number(&m));
    }
    p.kill();
    let killed_at = got.len();
    // The logger still reads what the dead publisher's connection brought (its kernel
    // had it), beside what the new one sends: every message must arrive.
    let p = Publisher::start(&dir, Some(port), n, n);
    let mut seen = vec![false; n as usize];
    for &x in &got {
        seen[x as usize] = true;
    }
    let mut missing = seen.iter().filter(|&&s| !s).count();
    let deadline = Instant::now() + DEADLINE;
    while missing > 0 {
        let left = deadline.saturating_duration_since(Instant::now());
        let Some(m) = sub.get(Some(left)).unwrap() else {
            panic!("{missing} messages never arrived")
        };
        let x = number(&m);
        got.push(x);
        if !std::mem::replace(&mut seen[x as usize], true) {
            missing -= 1;
        }
    }
    // What else comes are duplicates too.
    while let Some(m) = sub.get(Some(Duration::from_millis(200))).unwrap() {
        got.push(number(&m));
    }
    p.kill();
    let duplicates = got.len() - n as usize;
    eprintln!("killed after {killed_at} messages received: {duplicates} duplicates");
    // Sent and not known to be in the logger's kernel: what the dead publisher's socket
    // buffer held (at most tcp_wmem's maximum) and a turn's sending (frames of 57 bytes).
    let wmem: u64 = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
        .ok()
        .and_then(|s| s.split_whitespace().nth(2)?.parse().ok())
        .unwrap_or(4 << 20);
    let bound = (wmem + (4 << 20)) / 57 + 4096;
    assert!(
        (duplicates as u64) <= bound,
        "{duplicates} duplicates, more than {bound}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---- damage and limits ----

/// The segment of the lane `all` with the highest number that holds records.
fn last_full_segment(dir: &Path) -> PathBuf {
    let mut segs: Vec<PathBuf> = std::fs::read_dir(dir.join("all"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "seg"))
        .filter(|p| std::fs::metadata(p).unwrap().len() > 32)
        .collect();
    segs.sort();
    segs.pop().expect("a segment with records")
}

#[test]
fn a_torn_segment_tail_is_skipped_and_reported_and_the_records_before_it_delivered() {
    for damage in ["truncate", "corrupt"] {
        let dir = scratch(&format!("torn-{damage}"));
        let ep = Endpoint::new(spooled(&dir)).unwrap();
        for i in 0..100 {
            ep.publish(TOPIC, &Data::Count(i)).unwrap();
        }
        drop(ep);
        let seg = last_full_segment(&dir);
        let mut bytes = std::fs::read(&seg).unwrap();
        match damage {
            "truncate" => bytes.truncate(bytes.len() - 5),
            _ => *bytes.last_mut().unwrap() ^= 0x5a,
        }
        std::fs::write(&seg, &bytes).unwrap();
        let ep = Endpoint::new(spooled(&dir)).unwrap();
        let errors = ep.status_subscriber(true).unwrap();
        let (_logger, port, sub) = logger(0);
        ep.peer("127.0.0.1", port, RETRY).unwrap();
        assert_eq!(take(&sub, 99), (0..99).collect::<Vec<_>>(), "{damage}");
        ep.publish(TOPIC, &Data::Count(1000)).unwrap();
        assert_eq!(take(&sub, 1), [1000], "{damage}: never the damaged record");
        let deadline = Instant::now() + DEADLINE;
        let report = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let ev = errors
                .get(Some(left))
                .unwrap()
                .expect("the damage is reported");
            if ev.message.starts_with("spool: skipped") {
                break ev;
            }
        };
        assert!(matches!(report.kind, StatusKind::Error(_)));
        assert!(
            report.message.contains(seg.to_str().unwrap()),
            "{}",
            report.message
        );
        assert_eq!(ep.metrics().unwrap().endpoint.spool_damaged, 1);
        drop(ep);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// A spool of the smallest size, with `policy`.
fn small(dir: &Path, policy: SpoolPolicy) -> Config {
    let mut c = spooled(dir);
    c.spool.max_size = 64 << 10;
    c.spool.policy = policy;
    c
}

#[test]
fn a_full_spool_under_block_holds_publishers_back_and_loses_nothing() {
    let dir = scratch("full-block");
    let ep = std::sync::Arc::new(Endpoint::new(small(&dir, SpoolPolicy::Block)).unwrap());
    let publisher = ep.publisher(TOPIC).unwrap();
    let mut n = 0u64;
    let deadline = Instant::now() + DEADLINE;
    loop {
        match ep.try_publish(TOPIC, &Data::Count(n)) {
            Ok(()) => n += 1,
            Err(e) if e.kind == ErrorKind::WouldBlock => {
                // Full for good: the spool, what the reactor holds back for it, and the
                // publish queue in front (not just a queue the reactor has yet to take).
                let full = ep.metrics().unwrap().endpoint.spool_bytes >= 64 << 10;
                if full && publisher.free_capacity() == 0 {
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) => panic!("{e}"),
        }
        assert!(Instant::now() < deadline, "never full");
    }
    // A blocking publish waits...
    let (tx, done) = channel();
    let p = ep.clone();
    let blocked = std::thread::spawn(move || {
        p.publish(TOPIC, &Data::Count(n)).unwrap();
        let _ = tx.send(());
    });
    let waited = done.recv_timeout(Duration::from_millis(200)).is_err();
    assert!(
        waited,
        "it waits: {n} published, {:?}",
        ep.metrics().unwrap().endpoint
    );
    // ... until a logger takes what the spool holds.
    let (_logger, port, sub) = logger(0);
    ep.peer("127.0.0.1", port, RETRY).unwrap();
    done.recv_timeout(DEADLINE)
        .expect("the publish goes through");
    blocked.join().unwrap();
    let total = n + 1;
    assert_eq!(take(&sub, total as usize), (0..total).collect::<Vec<_>>());
    assert_eq!(ep.metrics().unwrap().endpoint.spool_dropped, 0);
    drop(ep);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_full_spool_under_drop_oldest_drops_and_counts_the_oldest() {
    let dir = scratch("full-drop-oldest");
    let ep = Endpoint::new(small(&dir, SpoolPolicy::DropOldest)).unwrap();
    let errors = ep.status_subscriber(true).unwrap();
    let n = 20_000u64;
    for i in 0..n {
        ep.publish(TOPIC, &Data::Count(i)).unwrap();
    }
    ep.flush().unwrap();
    let m = ep.metrics().unwrap().endpoint;
    assert!(m.spool_dropped > 0, "{m:?}");
    assert_eq!(m.spool_dropped + m.spool_records, n, "{m:?}");
    let ev = errors
        .get(Some(DEADLINE))
        .unwrap()
        .expect("drops are reported");
    assert!(ev.message.contains("drop_oldest"), "{}", ev.message);
    let (_logger, port, sub) = logger(0);
    ep.peer("127.0.0.1", port, RETRY).unwrap();
    let kept = m.spool_records;
    assert_eq!(
        take(&sub, kept as usize),
        (n - kept..n).collect::<Vec<_>>(),
        "the newest"
    );
    drop(ep);
    std::fs::remove_dir_all(&dir).unwrap();
}
