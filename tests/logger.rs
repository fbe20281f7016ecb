//! `brook logger` run for real. Against a real Zeek (ZEEK, default ../peers/zeek/bin/zeek;
//! skipped without it): `tests/zeek/all_types.zeek` writes records of every loggable type
//! both through Zeek's own ASCII writer and remotely to brook, and the files must be equal
//! apart from the `#open`/`#close` stamps, in TSV and in JSON. Without Zeek: a brook
//! program as the log source (building LogCreate and LogWrites), and a write failure
//! (a log file on /dev/full) that is reported, counted and fails the exit status.

use brook::data::zeek::Message;
use brook::data::zeek_log::{Field, Stream, TypeTag, Value};
use brook::{Config, Data, Endpoint};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(40);

fn zeek() -> Option<PathBuf> {
    let p = std::env::var_os("ZEEK")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../peers/zeek/bin/zeek"));
    p.is_file().then_some(p)
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("brook-logger-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

struct Logger {
    child: Child,
    stderr: Receiver<String>,
    port: u16,
}

impl Logger {
    fn start(dir: &Path, extra: &[&str]) -> Logger {
        let mut child = Command::new(env!("CARGO_BIN_EXE_brook"))
            .args(["logger", "--listen", "0", "--dir"])
            .arg(dir)
            .args(extra)
            .current_dir(dir)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(|l| l.ok()) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut l = Logger {
            child,
            stderr: rx,
            port: 0,
        };
        let line = l.wait_for("listening on port");
        l.port = line.rsplit(' ').next().unwrap().parse().unwrap();
        l
    }

    fn wait_for(&mut self, what: &str) -> String {
        let deadline = Instant::now() + DEADLINE;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.stderr.recv_timeout(left) {
                Ok(line) if line.contains(what) => return line,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        let _ = self.child.kill();
        panic!("brook logger never said {what:?}");
    }

    /// Waits for the exit and returns whether it succeeded and what stderr said.
    fn finish(mut self) -> (bool, String) {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let said: Vec<String> = self.stderr.try_iter().collect();
                return (status.success(), said.join("\n"));
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("brook logger did not exit");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn without_stamps(path: &Path) -> String {
    let text = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    String::from_utf8_lossy(&text)
        .split_inclusive('\n')
        .filter(|l| !l.starts_with("#open") && !l.starts_with("#close"))
        .collect()
}

fn against_zeek(json: bool) {
    let Some(zeek) = zeek() else {
        eprintln!("skipped: no Zeek (set ZEEK=...)");
        return;
    };
    let dir = tempdir(if json { "json" } else { "tsv" });
    let out = dir.join("brook");
    let local = dir.join("zeek");
    std::fs::create_dir_all(&local).unwrap();
    std::fs::create_dir_all(&out).unwrap();
    // 6 + 3 test records and broker.log's one.
    let mut args = vec!["-c", "10"];
    if json {
        args.push("--json");
    }
    let logger = Logger::start(&out, &args);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/zeek/all_types.zeek");
    let mut zeek_args = vec![script.to_string_lossy().into_owned()];
    if json {
        zeek_args.push("LogAscii::use_json=T".into());
    }
    let status = Command::new(zeek)
        .arg("-b")
        .args(&zeek_args)
        .env("BROOK_PORT", logger.port.to_string())
        .current_dir(&local)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let (ok, said) = logger.finish();
    assert!(ok, "brook logger failed: {said}");
    for path in ["brook_test.log", "brook_small.log"] {
        let want = without_stamps(&local.join(path));
        assert!(want.lines().count() >= 3, "{path}: {want}");
        assert_eq!(without_stamps(&out.join(path)), want, "{path}");
    }
    if !json {
        let text = std::fs::read_to_string(out.join("brook_test.log")).unwrap();
        assert!(text.lines().last().unwrap().starts_with("#close\t"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tsv_equals_zeeks_own_file() {
    against_zeek(false);
}

#[test]
fn json_equals_zeeks_own_file() {
    against_zeek(true);
}

fn stream() -> Stream {
    Stream {
        stream_id: "Demo::LOG".into(),
        writer_id: "Log::WRITER_ASCII".into(),
        path: Some(b"demo".to_vec()),
        fields: vec![
            Field::new("n", TypeTag::Count, TypeTag::Void, false),
            Field::new("msg", TypeTag::String, TypeTag::Void, false),
            Field::new("tags", TypeTag::Table, TypeTag::String, true),
        ],
    }
}

/// Publishes a LogCreate and `n` writes in one batch, as Zeek does, to a logger on `port`.
fn publish_logs(port: u16, n: u64) {
    let ep = Endpoint::new(Config::default()).unwrap();
    ep.peer("127.0.0.1", port, Duration::ZERO).unwrap();
    let deadline = Instant::now() + DEADLINE;
    while !ep
        .peer_subscriptions()
        .unwrap()
        .iter()
        .any(|f| b"zeek/logs/demo".starts_with(f))
    {
        assert!(Instant::now() < deadline, "the logger never subscribed");
        std::thread::sleep(Duration::from_millis(10));
    }
    let s = stream();
    ep.publish(
        "zeek/logs/demo",
        &Data::from(Message::LogCreate(s.to_create())),
    )
    .unwrap();
    let writes = (0..n)
        .map(|i| {
            let tags = if i % 2 == 0 {
                Value::Set(TypeTag::String, vec![Value::String(b"even".to_vec())])
            } else {
                Value::Unset(TypeTag::Table, TypeTag::String)
            };
            let values = [
                Value::Count(i),
                Value::String(format!("line {i}").into_bytes()),
                tags,
            ];
            Message::LogWrite(s.write(b"demo", &values).unwrap())
        })
        .collect();
    ep.publish("zeek/logs/demo", &Data::from(Message::Batch(writes)))
        .unwrap();
    ep.flush().unwrap();
    assert_eq!(ep.shutdown(), 0);
}

#[test]
fn a_brook_program_is_a_log_source() {
    let dir = tempdir("source");
    let logger = Logger::start(&dir, &["-c", "3"]);
    publish_logs(logger.port, 3);
    let (ok, said) = logger.finish();
    assert!(ok, "{said}");
    assert!(said.contains("wrote 3 records"), "{said}");
    let text = without_stamps(&dir.join("demo.log"));
    assert_eq!(
        text,
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdemo\n\
         #fields\tn\tmsg\ttags\n#types\tcount\tstring\tset[string]\n\
         0\tline 0\teven\n1\tline 1\t-\n2\tline 2\teven\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_failed_write_is_reported_and_counted() {
    if !Path::new("/dev/full").exists() {
        eprintln!("skipped: no /dev/full");
        return;
    }
    let dir = tempdir("full");
    std::os::unix::fs::symlink("/dev/full", dir.join("demo.log")).unwrap();
    let logger = Logger::start(&dir, &["-c", "3"]);
    publish_logs(logger.port, 3);
    let (ok, said) = logger.finish();
    assert!(!ok, "a logger that could not write succeeded: {said}");
    assert!(said.contains("error writing to"), "{said}");
    assert!(said.contains("No space left on device"), "{said}");
    assert!(said.contains("failed writes"), "{said}");
    assert!(!said.contains(" 0 failed writes"), "{said}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A free port on loopback (bound, then released for the peer to listen on).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn a_zeek_logger_writes_brooks_log_writes() {
    let Some(zeek) = zeek() else {
        eprintln!("skipped: no Zeek (set ZEEK=...)");
        return;
    };
    let dir = tempdir("zeek-node");
    let port = free_port();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/zeek/logger_node.zeek");
    let mut child = Command::new(zeek)
        .arg("-b")
        .arg(&script)
        .env("BROOK_ZEEK_PORT", port.to_string())
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("zeek.stderr")).unwrap())
        .spawn()
        .unwrap();
    // Zeek takes a moment to listen.
    let deadline = Instant::now() + DEADLINE;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "Zeek never listened");
        std::thread::sleep(Duration::from_millis(50));
    }
    publish_logs(port, 3);
    let deadline = Instant::now() + DEADLINE;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("Zeek did not exit");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let said = std::fs::read_to_string(dir.join("zeek.stderr")).unwrap_or_default();
    assert!(
        dir.join("demo.log").exists(),
        "Zeek wrote no demo.log: {said}"
    );
    let text = without_stamps(&dir.join("demo.log"));
    assert!(
        text.ends_with(
            "#fields\tn\tmsg\ttags\n#types\tcount\tstring\tset[string]\n\
             0\tline 0\teven\n1\tline 1\t-\n2\tline 2\teven\n"
        ),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
