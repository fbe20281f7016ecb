//! `make bench` (fan-in, issue 12 part 6): N worker processes publishing Zeek log writes
//! (`LogWrite` messages, 200 bytes of serialized record each, as a Zeek worker sends its
//! conn.log lines) to one logger process over 127.0.0.1, plain TCP.
//!
//! (e) Throughput: N = 2, 4, 8 workers publish as fast as they can, together
//!     `BROOK_FANIN_TOTAL` writes (default 3 M); the figure is writes per second at the
//!     logger, from its first to its last message. Once without a spool and once with one
//!     on each worker (every write then goes through the worker's disk).
//! (f) Outage: 4 workers with a spool each publish at a steady rate for a few seconds;
//!     the logger is killed with SIGKILL a second and a half in and restarted on the same
//!     port a second later. Each write carries its worker, number and send time, so the
//!     logger processes' output tells what was delivered (distinct), duplicated and lost,
//!     how long after the restart traffic resumed, and when the backlog was drained (the
//!     first batch whose newest write is under 100 ms old).
//!
//! The binary runs itself as the logger and the workers (`BROOK_FANIN_ROLE`).

use brook::data::zeek::{LogWrite, Message};
use brook::{Config, Data, Endpoint};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const TOPIC: &str = "zeek/logs/conn";
const SERIAL: usize = 200;
const BATCH: usize = 256;

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_default()
}

fn env_u64(name: &str) -> u64 {
    env(name).parse().unwrap_or(0)
}

fn config() -> Config {
    Config {
        disable_ssl: true,
        ..Config::default()
    }
}

/// A log write whose serialized record is `SERIAL` bytes.
fn log_write() -> Data {
    Message::LogWrite(LogWrite {
        stream_id: "Conn::LOG".into(),
        writer_id: "Log::WRITER_ASCII".into(),
        path: b"conn".to_vec(),
        serial_data: vec![b'x'; SERIAL],
    })
    .into()
}

/// The serialized record inside a log write made by [`log_write`].
fn serial_mut(d: &mut Data) -> &mut Vec<u8> {
    let Data::Vector(top) = d else { unreachable!() };
    let Data::Vector(content) = &mut top[2] else {
        unreachable!()
    };
    let Data::String(s) = &mut content[3] else {
        unreachable!()
    };
    s
}

fn word(bytes: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(bytes[8 * i..8 * i + 8].try_into().unwrap())
}

// ---- the logger ----

/// Subscribes to the logs, listens on `$PORT` (0: any) and prints the port. With
/// `$EXPECT` writes to wait for, prints `done <seconds from the first to the last>` and
/// ends; else prints, after each batch it takes, `b <ms since the epoch> <age in ms of its
/// newest write>` and `r <worker> <first> <last>` for each run of numbers in it.
fn logger() {
    let ep = Endpoint::new(config()).unwrap();
    let sub = ep.subscribe_with(&["zeek/logs/"], 1 << 16).unwrap();
    let port = ep.listen("127.0.0.1", env_u64("PORT") as u16).unwrap();
    let mut out = std::io::stdout().lock();
    writeln!(out, "{port}").unwrap();
    out.flush().unwrap();
    let expect = env_u64("EXPECT");
    let (mut got, mut first) = (0u64, None);
    let mut runs: Vec<(u64, u64, u64)> = Vec::new();
    loop {
        let Some(m) = sub.get(Some(Duration::from_secs(60))).unwrap() else {
            return;
        };
        first.get_or_insert_with(Instant::now);
        runs.clear();
        let mut newest = 0;
        for m in std::iter::once(m).chain(sub.poll(8192)) {
            got += 1;
            if expect > 0 {
                continue;
            }
            let p = m.payload();
            let s = &p[p.len() - SERIAL..];
            let (w, seq, sent) = (word(s, 0), word(s, 1), word(s, 2));
            newest = newest.max(sent);
            match runs.iter_mut().find(|r| r.0 == w && r.2 + 1 == seq) {
                Some(r) => r.2 = seq,
                None => runs.push((w, seq, seq)),
            }
        }
        if expect > 0 {
            if got >= expect {
                let secs = first.unwrap().elapsed().as_secs_f64();
                writeln!(out, "done {secs}").unwrap();
                return;
            }
            continue;
        }
        let now = now_ns();
        writeln!(
            out,
            "b {} {}",
            now / 1_000_000,
            now.saturating_sub(newest) / 1_000_000
        )
        .unwrap();
        for (w, lo, hi) in &runs {
            writeln!(out, "r {w} {lo} {hi}").unwrap();
        }
        out.flush().unwrap();
    }
}

// ---- a worker ----

/// Publishes `$COUNT` log writes as worker `$ID` to the logger on `$PORT`, at `$RATE`
/// per second (0: as fast as it can), through a spool in `$SPOOL` if set; waits until
/// they are delivered and prints `sent <count>`.
fn worker() {
    let (id, count, rate) = (env_u64("ID"), env_u64("COUNT"), env_u64("RATE"));
    let mut c = config();
    if !env("SPOOL").is_empty() {
        c.spool.dir = Some(env("SPOOL").into());
    }
    let ep = Endpoint::new(c).unwrap();
    let port = env_u64("PORT") as u16;
    ep.peer("127.0.0.1", port, Duration::from_millis(100))
        .unwrap();
    while ep.peer_subscriptions().unwrap().is_empty() {
        std::thread::sleep(Duration::from_millis(5));
    }
    let publisher = ep.publisher(TOPIC).unwrap();
    let mut batch: Vec<Data> = (0..BATCH).map(|_| log_write()).collect();
    let start = Instant::now();
    let mut seq = 0;
    while seq < count {
        let n = ((count - seq) as usize).min(BATCH);
        let sent = now_ns();
        for (i, d) in batch[..n].iter_mut().enumerate() {
            let s = serial_mut(d);
            s[..8].copy_from_slice(&id.to_le_bytes());
            s[8..16].copy_from_slice(&(seq + i as u64).to_le_bytes());
            s[16..24].copy_from_slice(&sent.to_le_bytes());
        }
        publisher.publish_batch(&batch[..n]).unwrap();
        seq += n as u64;
        if rate > 0 {
            let due = start + Duration::from_secs_f64(seq as f64 / rate as f64);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
    }
    // With a spool, this waits until a peer has taken the backlog.
    ep.flush().unwrap();
    let mut out = std::io::stdout().lock();
    writeln!(out, "sent {count}").unwrap();
    out.flush().unwrap();
}

// ---- the parent ----

struct Proc {
    child: Child,
    lines: Receiver<String>,
}

impl Proc {
    fn start(role: &str, vars: &[(&str, String)]) -> Proc {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env("BROOK_FANIN_ROLE", role)
            .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
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
        Proc { child, lines }
    }

    fn line(&self, within: Duration) -> Option<String> {
        self.lines.recv_timeout(within).ok()
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

fn logger_proc(port: u16, expect: u64) -> (Proc, u16) {
    let vars = [("PORT", port.to_string()), ("EXPECT", expect.to_string())];
    let p = Proc::start("logger", &vars);
    let port = p
        .line(Duration::from_secs(10))
        .expect("the logger's port")
        .parse()
        .unwrap();
    (p, port)
}

fn worker_proc(id: u64, port: u16, count: u64, rate: u64, spool: Option<&std::path::Path>) -> Proc {
    let spool = spool.map(|p| p.display().to_string()).unwrap_or_default();
    let vars = [
        ("ID", id.to_string()),
        ("PORT", port.to_string()),
        ("COUNT", count.to_string()),
        ("RATE", rate.to_string()),
        ("SPOOL", spool),
    ];
    Proc::start("worker", &vars)
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("brook-fanin-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// (e): writes per second at the logger with `n` workers.
fn throughput(n: u64, total: u64, spool: bool) -> f64 {
    let each = total / n;
    let (logger, port) = logger_proc(0, each * n);
    let dirs: Vec<_> = (0..n).map(|i| scratch(&format!("tp-{n}-{i}"))).collect();
    let workers: Vec<Proc> = (0..n)
        .map(|i| worker_proc(i, port, each, 0, spool.then(|| dirs[i as usize].as_path())))
        .collect();
    let line = logger
        .line(Duration::from_secs(120))
        .expect("the logger's result");
    let secs: f64 = line.strip_prefix("done ").unwrap().parse().unwrap();
    drop(workers);
    for d in dirs {
        let _ = std::fs::remove_dir_all(d);
    }
    (each * n) as f64 / secs
}

/// What the loggers of (f) saw.
#[derive(Default)]
struct Seen {
    /// Per worker, how often each number arrived.
    counts: HashMap<u64, Vec<u32>>,
    /// Batches: when (ms since the epoch) and the age of their newest write (ms).
    batches: Vec<(u64, u64)>,
}

impl Seen {
    fn take(&mut self, line: &str) {
        let mut w = line.split(' ');
        match w.next() {
            Some("b") => {
                let t = w.next().unwrap().parse().unwrap();
                let age = w.next().unwrap().parse().unwrap();
                self.batches.push((t, age));
            }
            Some("r") => {
                let v: Vec<u64> = w.map(|x| x.parse().unwrap()).collect();
                let c = self.counts.entry(v[0]).or_default();
                if c.len() <= v[2] as usize {
                    c.resize(v[2] as usize + 1, 0);
                }
                for x in v[1]..=v[2] {
                    c[x as usize] += 1;
                }
            }
            _ => {}
        }
    }

    fn delivered(&self) -> u64 {
        self.counts.values().flatten().filter(|&&c| c > 0).count() as u64
    }

    /// Runs of numbers that never arrived (for `each` writes per worker).
    fn gaps(&self, each: u64) -> usize {
        self.counts
            .values()
            .map(|c| {
                let missing = |i: u64| c.get(i as usize).is_none_or(|&n| n == 0);
                (0..each)
                    .filter(|&i| missing(i) && (i == 0 || !missing(i - 1)))
                    .count()
            })
            .sum()
    }

    fn arrivals(&self) -> u64 {
        self.counts.values().flatten().map(|&c| c as u64).sum()
    }
}

/// (f): the logger killed and restarted while spooling workers publish.
fn outage() {
    let (n, rate, secs) = (4u64, 25_000u64, 5u64);
    let each = rate * secs;
    let (mut first, port) = logger_proc(0, 0);
    let dirs: Vec<_> = (0..n).map(|i| scratch(&format!("outage-{i}"))).collect();
    let workers: Vec<Proc> = (0..n)
        .map(|i| worker_proc(i, port, each, rate, Some(&dirs[i as usize])))
        .collect();
    let mut seen = Seen::default();
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_millis(1500) {
        if let Some(l) = first.line(Duration::from_millis(10)) {
            seen.take(&l);
        }
    }
    first.kill();
    let killed = now_ns() / 1_000_000;
    while let Ok(l) = first.lines.recv_timeout(Duration::from_millis(100)) {
        seen.take(&l);
    }
    let before = seen.batches.len();
    std::thread::sleep(Duration::from_millis(1000).saturating_sub(Duration::from_millis(100)));
    let restarted = now_ns() / 1_000_000;
    let (second, _) = logger_proc(port, 0);
    // Until every worker reports its writes delivered (its spool drained), then a moment
    // for the last batches' lines.
    let mut sent = 0u64;
    let mut done = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    while done < n && Instant::now() < deadline {
        while let Ok(l) = second.lines.try_recv() {
            seen.take(&l);
        }
        for w in &workers {
            if let Ok(l) = w.lines.try_recv() {
                if let Some(c) = l.strip_prefix("sent ") {
                    sent += c.parse::<u64>().unwrap();
                    done += 1;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    while let Ok(l) = second.lines.recv_timeout(Duration::from_millis(300)) {
        seen.take(&l);
    }
    drop(workers);
    drop(second);
    for d in dirs {
        let _ = std::fs::remove_dir_all(d);
    }
    let after = &seen.batches[before..];
    let resumed = after.first().map(|b| b.0.saturating_sub(restarted));
    let drained = after
        .iter()
        .find(|b| b.1 < 100)
        .map(|b| b.0.saturating_sub(restarted));
    let delivered = seen.delivered();
    let duplicates = seen.arrivals() - delivered;
    let ms = |v: Option<u64>| v.map_or("never".to_string(), |v| format!("{v} ms"));
    println!(
        "(f) outage, {n} workers at {} k writes/s each with a spool, logger killed (SIGKILL) \
         {:.1} s in, restarted {} ms later:",
        rate / 1000,
        1.5,
        restarted - killed
    );
    println!(
        "    sent {sent}, delivered {delivered} ({} lost, in {} runs), {duplicates} duplicates; \
         traffic resumed {} after the restart, backlog drained {} after it",
        sent.saturating_sub(delivered),
        seen.gaps(each),
        ms(resumed),
        ms(drained)
    );
}

fn main() {
    match env("BROOK_FANIN_ROLE").as_str() {
        "logger" => return logger(),
        "worker" => return worker(),
        _ => {}
    }
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let total = std::env::var("BROOK_FANIN_TOTAL")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_000_000u64);
    println!(
        "brook fan-in benchmark: workers publishing Zeek log writes ({SERIAL}-byte records) \
         to one logger over 127.0.0.1, plain TCP"
    );
    // BROOK_FANIN_ONLY=e,f picks the parts; BROOK_FANIN_SPOOL=0 or 1 one half of (e).
    let only = std::env::var("BROOK_FANIN_ONLY").unwrap_or_else(|_| "ef".into());
    let halves: Vec<bool> = match env("BROOK_FANIN_SPOOL").as_str() {
        "0" => vec![false],
        "1" => vec![true],
        _ => vec![false, true],
    };
    for spool in halves.into_iter().filter(|_| only.contains('e')) {
        for n in [2, 4, 8] {
            let rate = throughput(n, total, spool);
            let how = if spool {
                "with a spool each"
            } else {
                "no spool"
            };
            println!(
                "(e) fan-in, {n} workers, {how}: {:.2} M writes/s at the logger",
                rate / 1e6
            );
        }
    }
    if only.contains('f') {
        outage();
    }
}
