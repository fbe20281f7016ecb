//! A store's master in another process, killed with SIGKILL and restarted on the same
//! SQLite file and port, while clones in this process write or read (issue 4 §6: "the
//! master killed mid-stream and restarted"). Every write a clone reported as done must be
//! in the restarted master and in the clone's replica; a write that failed must say why
//! (`request_timeout`, `no_such_master`) within its timeout; the clone converges.
//!
//! The master process is this test binary run again with [`CHILD`] set: the test
//! `master_process` then runs a master instead of returning at once. So nothing but this
//! file has to be built. Every wait has a deadline, and a master still running when its
//! test ends is killed.

use brook::data::{Table, text};
use brook::store::{CloneConfig, SqliteBackend, SqliteOptions};
use brook::wire::ErrorCode;
use brook::{Backend, Config, Data, Endpoint, ErrorKind, Store};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// Set (to the store's name) in the environment of a master process.
const CHILD: &str = "BROOK_STORE_CRASH_MASTER";
const DEADLINE: Duration = Duration::from_secs(15);
/// How long a write waits for its answer; it must be answered well before.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the clone retries its peering with the master.
const RETRY: Duration = Duration::from_millis(100);

// ---- the master process ----

/// In a master process (see the module doc): attaches the master of store `$CHILD` on the
/// SQLite file `$BROOK_STORE_CRASH_DB`, listens on `$BROOK_STORE_CRASH_PORT` (0: any),
/// prints `listening <port>`, then answers stdin lines: `put K V` and `await_idle` (`ok`),
/// `dump` (`dump <table of every entry>`), `quit`. Elsewhere: returns at once.
#[test]
fn master_process() {
    let Ok(name) = std::env::var(CHILD) else {
        return;
    };
    let db = std::env::var("BROOK_STORE_CRASH_DB").unwrap();
    let port: u16 = std::env::var("BROOK_STORE_CRASH_PORT")
        .unwrap()
        .parse()
        .unwrap();
    let ep = Endpoint::new(Config::default()).unwrap();
    let master = ep
        .attach_master(&name, Backend::Sqlite(SqliteOptions::new(db)))
        .unwrap();
    let port = ep.listen("127.0.0.1", port).unwrap();
    let mut out = std::io::stdout().lock();
    // After a newline: libtest has written "test master_process ... " without one.
    writeln!(out, "\nlistening {port}").unwrap();
    out.flush().unwrap();
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap();
        let mut words = line.splitn(3, ' ');
        let answer = match (words.next(), words.next(), words.next()) {
            (Some("put"), Some(k), Some(v)) => {
                let (k, v) = (text::parse(k).unwrap(), text::parse(v).unwrap());
                master.put(k, v, None).unwrap();
                "ok".to_string()
            }
            (Some("await_idle"), None, None) => {
                master.await_idle().unwrap();
                "ok".to_string()
            }
            (Some("dump"), None, None) => {
                let d = Data::Table(dump(&master).unwrap());
                format!("dump {}", String::from_utf8(text::render(&d)).unwrap())
            }
            (Some("quit"), None, None) => break,
            _ => panic!("bad command {line:?}"),
        };
        writeln!(out, "{answer}").unwrap();
        out.flush().unwrap();
    }
    drop(master);
    ep.shutdown();
}

/// Every entry of `store`.
fn dump(store: &Store) -> brook::Result<Table> {
    let Data::Set(keys) = store.keys()? else {
        panic!("keys() is not a set");
    };
    let mut t = Table::new();
    for k in keys {
        let v = store.get(k.clone())?;
        t.insert(k, v);
    }
    Ok(t)
}

/// A master process, seen from the test.
struct MasterProcess {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    port: u16,
}

impl MasterProcess {
    /// Starts a master of `name` on `db`, listening on `port` (0: any), and waits until it
    /// listens.
    fn start(name: &str, db: &Path, port: u16) -> MasterProcess {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "master_process",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, name)
            .env("BROOK_STORE_CRASH_DB", db)
            .env("BROOK_STORE_CRASH_PORT", port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the master process starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut m = MasterProcess {
            child,
            stdin,
            lines,
            port: 0,
        };
        // libtest's own lines come first.
        let first = m.answer("listening ");
        m.port = first.parse().unwrap();
        assert!(port == 0 || m.port == port, "listening on {first}");
        m
    }

    /// The rest of the next line starting with `prefix` (other lines are libtest's).
    fn answer(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix(prefix) {
                        return rest.to_string();
                    }
                }
                Err(e) => panic!("no {prefix:?} line from the master process: {e}"),
            }
        }
    }

    fn put(&mut self, key: &str, value: &Data) {
        let v = String::from_utf8(text::render(value)).unwrap();
        writeln!(self.stdin, "put {key:?} {v}").unwrap();
        assert_eq!(self.answer("ok"), "");
    }

    /// Waits until the master is idle: its file has every change so far.
    fn await_idle(&mut self) {
        writeln!(self.stdin, "await_idle").unwrap();
        assert_eq!(self.answer("ok"), "");
    }

    fn dump(&mut self) -> Table {
        writeln!(self.stdin, "dump").unwrap();
        match text::parse(&self.answer("dump ")).unwrap() {
            Data::Table(t) => t,
            d => panic!("dump answered {d}"),
        }
    }

    /// SIGKILL, and waits until the process is gone.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Asks the master to stop (it writes what is queued to its file) and waits.
    fn quit(mut self) {
        writeln!(self.stdin, "quit").unwrap();
        let deadline = Instant::now() + DEADLINE;
        while self.child.try_wait().unwrap().is_none() {
            assert!(
                Instant::now() < deadline,
                "the master process does not quit"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for MasterProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---- helpers ----

/// A fresh directory on the target's disk (not a tmpfs, so that commits take real time).
fn tempdir(what: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("store-crash-{what}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A clone of `name` on a new endpoint that peers with the master at `port`, retrying a
/// lost peering; returns once the clone has its snapshot.
fn clone_of(name: &str, port: u16, config: CloneConfig) -> (Endpoint, Store) {
    let ep = Endpoint::new(Config::default()).unwrap();
    ep.peer("127.0.0.1", port, RETRY).unwrap();
    let clone = ep.attach_clone_with(name, config).unwrap();
    clone.set_timeout(WRITE_TIMEOUT);
    eventually("the clone's snapshot", || clone.keys().is_ok());
    (ep, clone)
}

fn is_expected_write_error(e: &brook::Error) -> bool {
    matches!(
        e.kind,
        ErrorKind::Store(ErrorCode::RequestTimeout | ErrorCode::NoSuchMaster)
    )
}

/// What one writer thread saw.
#[derive(Default)]
struct Written {
    /// Puts reported done: key and value.
    puts: Table,
    /// Increments of the writer's counter reported done, and those that failed with
    /// `request_timeout` (they may or may not have been applied).
    increments: u64,
    maybe_increments: u64,
    failures: Vec<String>,
}

// ---- the tests ----

#[test]
fn a_master_killed_mid_stream_loses_no_acknowledged_write() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let name = "crash/writes";
    let dir = tempdir("writes");
    let db = dir.join("master.sqlite");
    let master = MasterProcess::start(name, &db, 0);
    let port = master.port;
    let config = CloneConfig {
        mutation_buffer_interval: Duration::from_secs(5),
        ..CloneConfig::default()
    };
    let (_ep, clone) = clone_of(name, port, config);

    const WRITERS: usize = 3;
    let acked = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let (written, mut master) = std::thread::scope(|s| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (clone, acked, stop) = (&clone, &acked, &stop);
                s.spawn(move || {
                    let mut seen = Written::default();
                    let counter = format!("n{w}");
                    let mut i = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        i += 1;
                        let key = format!("w{w}-{i:06}");
                        let started = Instant::now();
                        let increment = i.is_multiple_of(3);
                        let r = if increment {
                            clone.increment(counter.as_str(), 1u64, None)
                        } else {
                            clone.put(key.as_str(), i, None)
                        };
                        let took = started.elapsed();
                        assert!(
                            took < WRITE_TIMEOUT + Duration::from_secs(5),
                            "a write took {took:?}"
                        );
                        match r {
                            Ok(()) if increment => seen.increments += 1,
                            Ok(()) => {
                                seen.puts.insert(Data::from(key.as_str()), Data::Count(i));
                            }
                            Err(e) => {
                                assert!(is_expected_write_error(&e), "write {key}: {e}");
                                if increment
                                    && e.kind == ErrorKind::Store(ErrorCode::RequestTimeout)
                                {
                                    seen.maybe_increments += 1;
                                }
                                seen.failures.push(e.to_string());
                                continue;
                            }
                        }
                        acked.fetch_add(1, Ordering::Relaxed);
                    }
                    seen
                })
            })
            .collect();
        let wait_for = |n: u64, what: &str| {
            eventually(what, || {
                acked.load(Ordering::Relaxed) >= n || writers.iter().any(|w| w.is_finished())
            })
        };
        wait_for(300, "writes before the kill");
        master.kill();
        let at_kill = acked.load(Ordering::Relaxed);
        let restarted = MasterProcess::start(name, &db, port);
        wait_for(at_kill + 300, "writes after the restart");
        stop.store(true, Ordering::Relaxed);
        let written: Vec<Written> = writers
            .into_iter()
            .map(|w| w.join().expect("a writer panicked"))
            .collect();
        (written, restarted)
    });
    clone.await_idle().unwrap();
    let at_master = master.dump();
    for (w, seen) in written.iter().enumerate() {
        for (k, v) in &seen.puts {
            assert_eq!(
                at_master.get(k),
                Some(v),
                "the acknowledged put of {k} is not at the restarted master"
            );
        }
        let n = match at_master.get(&Data::from(format!("n{w}").as_str())) {
            Some(Data::Count(n)) => *n,
            None => 0,
            Some(d) => panic!("counter n{w} is {d}"),
        };
        assert!(
            n >= seen.increments && n <= seen.increments + seen.maybe_increments,
            "counter n{w} is {n} at the master; {} increments were acknowledged and {} \
             may have been applied",
            seen.increments,
            seen.maybe_increments
        );
    }
    eventually("the clone converging to the master", || {
        dump(&clone).ok().as_ref() == Some(&at_master)
    });
    let failures: usize = written.iter().map(|w| w.failures.len()).sum();
    let acked_puts: usize = written.iter().map(|w| w.puts.len()).sum();
    eprintln!(
        "{acked_puts} puts acknowledged, {failures} writes failed: {:?}",
        written
            .iter()
            .flat_map(|w| w.failures.iter())
            .take(3)
            .collect::<Vec<_>>()
    );
    // What the master wrote to its file is what it served.
    master.quit();
    let on_disk = SqliteBackend::open(&SqliteOptions::new(&db)).unwrap();
    let on_disk: Table = brook::store::Backend::snapshot(&on_disk)
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(on_disk, at_master);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn reading_clones_ride_out_a_master_restart_and_resync() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let name = "crash/reads";
    let dir = tempdir("reads");
    let db = dir.join("master.sqlite");
    let mut master = MasterProcess::start(name, &db, 0);
    let port = master.port;
    for i in 0..50u64 {
        master.put(&format!("k{i}"), &Data::Count(i));
    }
    master.put("epoch", &Data::Count(1));
    // A master answers its own writes before its file has them (the clones' writes only
    // after); idle, it has them.
    master.await_idle();
    let before = master.dump();
    // One clone answers from its replica however long the master is away, the other
    // only for a second.
    let patient = CloneConfig {
        stale_interval: None,
        ..CloneConfig::default()
    };
    let strict = CloneConfig {
        stale_interval: Some(Duration::from_secs(1)),
        ..CloneConfig::default()
    };
    let (_a, reader) = clone_of(name, port, patient);
    let (_b, strict_reader) = clone_of(name, port, strict);
    eventually("both replicas", || {
        dump(&reader).ok().as_ref() == Some(&before)
            && dump(&strict_reader).ok().as_ref() == Some(&before)
    });

    master.kill();
    // Reads go on from the replicas, until the strict clone's stale interval is over.
    eventually("stale_data from the strict clone", || {
        assert_eq!(dump(&reader).unwrap(), before);
        match strict_reader.get("epoch") {
            Ok(v) => {
                assert_eq!(v, Data::Count(1));
                false
            }
            Err(e) => {
                assert_eq!(e.kind, ErrorKind::Store(ErrorCode::StaleData), "{e}");
                true
            }
        }
    });
    assert_eq!(reader.get("epoch").unwrap(), Data::Count(1));

    // The master is back on its file, and changes it: both clones take its new state.
    let mut master = MasterProcess::start(name, &db, port);
    assert_eq!(master.dump(), before, "the restarted master lost data");
    master.put("epoch", &Data::Count(2));
    master.put("new", &Data::from("after the restart"));
    let after = master.dump();
    for clone in [&reader, &strict_reader] {
        eventually("a clone resynchronized", || {
            dump(clone).ok().as_ref() == Some(&after)
        });
    }
    master.quit();
    let _ = std::fs::remove_dir_all(&dir);
}
