//! `make bench`: data stores. Puts per second at a master (blocking calls, and pipelined
//! through a proxy), puts written through a clone until visible at the master, gets at a
//! clone; memory, and SQLite with its defaults and with WAL.
//!
//! Master and clone live on two endpoints in one process, peered over loopback TCP.

use brook::data::Data;
use brook::store::sqlite::{JournalMode, SqliteOptions, Synchronous};
use brook::{Backend, Config, Endpoint, Store};
use std::time::{Duration, Instant};

const N: u64 = 200_000;
const WINDOW: u64 = 2_000;

fn rate(what: &str, n: u64, t: Duration) {
    println!(
        "{what:<48} {:>10.0} ops/s ({:.2} us/op)",
        n as f64 / t.as_secs_f64(),
        t.as_secs_f64() * 1e6 / n as f64
    );
}

/// Puts `n` keys through a proxy with up to WINDOW requests in flight.
fn pipelined_puts(store: &Store, n: u64) -> Duration {
    let proxy = store.proxy().unwrap();
    let start = Instant::now();
    let mut sent = 0;
    let mut answered = 0;
    while answered < n {
        while sent < n && sent - answered < WINDOW {
            proxy
                .put(Data::Count(sent), Data::Count(sent), None)
                .unwrap();
            sent += 1;
        }
        let r = proxy
            .receive(Some(Duration::from_secs(30)))
            .unwrap()
            .expect("an answer");
        r.result.unwrap();
        answered += 1;
    }
    start.elapsed()
}

fn master_benchmarks(label: &str, backend: Backend) {
    let ep = Endpoint::new(Config::default()).unwrap();
    let master = ep.attach_master(format!("bench/{label}"), backend).unwrap();
    let n = N / 10;
    let start = Instant::now();
    for i in 0..n {
        master.put(Data::Count(i), Data::Count(i), None).unwrap();
    }
    rate(
        &format!("master put, blocking ({label})"),
        n,
        start.elapsed(),
    );
    rate(
        &format!("master put, pipelined ({label})"),
        N,
        pipelined_puts(&master, N),
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    println!("brook store benchmark: {N} operations, master and clone over 127.0.0.1");
    master_benchmarks("memory", Backend::Memory);

    let dir = std::env::temp_dir().join(format!("brook-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    master_benchmarks(
        "SQLite defaults",
        Backend::Sqlite(SqliteOptions::new(dir.join("default.sqlite"))),
    );
    let mut wal = SqliteOptions::new(dir.join("wal.sqlite"));
    wal.journal_mode = Some(JournalMode::Wal);
    wal.synchronous = Some(Synchronous::Normal);
    master_benchmarks("SQLite WAL, synchronous normal", Backend::Sqlite(wal));
    let _ = std::fs::remove_dir_all(&dir);

    // Through a clone.
    let a = Endpoint::new(Config::default()).unwrap();
    let master = a.attach_master("bench/clone", Backend::Memory).unwrap();
    let port = a.listen("127.0.0.1", 0).unwrap();
    let b = Endpoint::new(Config::default()).unwrap();
    b.peer("127.0.0.1", port, Duration::ZERO).unwrap();
    let clone = b.attach_clone("bench/clone").unwrap();
    clone.set_timeout(Duration::from_secs(60));
    master.put("ready", true, None).unwrap();
    while clone.get("ready").is_err() {
        std::thread::sleep(Duration::from_millis(5));
    }
    let start = Instant::now();
    let t = pipelined_puts(&clone, N);
    clone.await_idle().unwrap();
    while master.get(Data::Count(N - 1)).is_err() {
        std::thread::sleep(Duration::from_millis(1));
    }
    let visible = start.elapsed();
    rate("clone put, pipelined, answered", N, t);
    rate("clone put, pipelined, visible at the master", N, visible);

    let n = N / 10;
    let start = Instant::now();
    for i in 0..n {
        clone.get(Data::Count(i % N)).unwrap();
    }
    rate("clone get, blocking", n, start.elapsed());
}
