//! The `brook` binary run for real: pipe, throughput and node processes peering over
//! loopback. Every wait has a deadline, and a child still running when its test ends is
//! killed, so a hang fails the test instead of blocking the run.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(20);

/// A running `brook`, its stdout and stderr read line by line on threads.
struct Brook {
    child: Child,
    args: Vec<String>,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    /// Everything written to stderr so far, for failure messages.
    log: Arc<Mutex<String>>,
}

fn read_lines(
    from: impl Read + Send + 'static,
    log: Option<Arc<Mutex<String>>>,
) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            let Ok(line) = line else { break };
            if let Some(log) = &log {
                let mut log = log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl Brook {
    fn start(args: &[&str], stdin: Option<&[u8]>) -> Brook {
        Brook::start_env(args, stdin, &[])
    }

    /// Like `start`, with `env` added to the environment.
    fn start_env(args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Brook {
        Brook::spawn(Command::new(env!("CARGO_BIN_EXE_brook")), args, stdin, env)
    }

    /// Like `start`, allowed at most `nofile` open file descriptors (`ulimit -n`).
    fn start_limited(args: &[&str], nofile: u32) -> Brook {
        let mut sh = Command::new("sh");
        sh.arg("-c")
            .arg(format!("ulimit -n {nofile} && exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_brook"));
        Brook::spawn(sh, args, None, &[])
    }

    fn spawn(mut cmd: Command, args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Brook {
        let mut child = cmd
            .args(args)
            .envs(env.iter().copied())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("brook starts");
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().unwrap();
            // A child that fails at once (nobody to peer with) may be gone already.
            if let Err(e) = pipe.write_all(input) {
                assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
            }
            // Dropping the pipe closes it: EOF for the child.
        }
        let log = Arc::new(Mutex::new(String::new()));
        let stdout: ChildStdout = child.stdout.take().unwrap();
        Brook {
            stdout: read_lines(stdout, None),
            stderr: read_lines(child.stderr.take().unwrap(), Some(log.clone())),
            child,
            args: args.iter().map(|a| a.to_string()).collect(),
            log,
        }
    }

    fn context(&self) -> String {
        format!(
            "brook {}\nstderr:\n{}",
            self.args.join(" "),
            self.log.lock().unwrap()
        )
    }

    /// The port from the `*** listening on port N` line on stderr.
    fn port(&self) -> u16 {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) => {
                    if let Some(p) = line.strip_prefix("*** listening on port ") {
                        return p.parse().unwrap();
                    }
                }
                Err(_) => panic!("no listening port\n{}", self.context()),
            }
        }
    }

    /// The next stdout line, or None at EOF; fails after the deadline.
    fn line(&self, deadline: Instant) -> Option<String> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.stdout.recv_timeout(left) {
            Ok(line) => Some(line),
            Err(RecvTimeoutError::Disconnected) => None,
            Err(RecvTimeoutError::Timeout) => panic!("no output in time\n{}", self.context()),
        }
    }

    /// Waits for the exit and returns the status with all of stdout.
    fn finish(&mut self) -> (ExitStatus, Vec<String>) {
        let deadline = Instant::now() + DEADLINE;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "did not exit in time\n{}",
                self.context()
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        let mut out = Vec::new();
        while let Some(line) = self.line(deadline) {
            out.push(line);
        }
        // The log holds all of stderr once its reader has seen the end.
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(_) => {}
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => panic!("stderr open\n{}", self.context()),
            }
        }
        (status, out)
    }
}

impl Drop for Brook {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn pipe_carries_stdin_lines_to_a_subscriber() {
    let mut sub = Brook::start(
        &[
            "pipe",
            "-m",
            "subscribe",
            "-t",
            "/cli/pipe",
            "-l",
            "0",
            "-c",
            "3",
        ],
        None,
    );
    let peer = format!("127.0.0.1:{}", sub.port());
    let mut publisher = Brook::start(
        &[
            "pipe",
            "--mode",
            "publish",
            "--topic",
            "/cli/pipe/x",
            "--peers",
            &peer,
        ],
        Some(b"first\ntwo words\n\xc3\xa9t\xc3\xa9\n"),
    );
    let (status, out) = publisher.finish();
    assert!(status.success(), "{}", publisher.context());
    assert_eq!(out, ["*** published 3 messages"]);
    let (status, out) = sub.finish();
    assert!(status.success(), "{}", sub.context());
    assert_eq!(
        out,
        [
            "data(/cli/pipe/x, first)",
            "data(/cli/pipe/x, two words)",
            "data(/cli/pipe/x, été)",
        ]
    );
}

#[test]
fn pipe_takes_disable_ssl_and_a_config_file_and_says_when_they_do_not_match() {
    let dir = std::env::temp_dir().join(format!("brook-cli-conf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("plain.conf");
    std::fs::write(
        &conf,
        "broker {\n  disable-ssl = true\n  unheard-of = 1\n}\nbrook.max-frame-size = 1048576\n",
    )
    .unwrap();
    let conf_arg = format!("--config-file={}", conf.display());
    let mut sub = Brook::start(
        &[
            "pipe",
            "--disable-ssl",
            "--brook.listen-backlog=64",
            "-m",
            "subscribe",
            "-t",
            "/cli/plain",
            "-l",
            "0",
            "-c",
            "1",
        ],
        None,
    );
    let peer = format!("127.0.0.1:{}", sub.port());
    // Plain TCP from the file (and brook's own options, there and on the command line): the peering works, and the unknown key is reported.
    let mut publisher = Brook::start(
        &[
            "pipe",
            &conf_arg,
            "-m",
            "publish",
            "-t",
            "/cli/plain/x",
            "-p",
            &peer,
        ],
        Some(b"over plain TCP\n"),
    );
    let (status, _) = publisher.finish();
    assert!(status.success(), "{}", publisher.context());
    assert!(
        publisher
            .log
            .lock()
            .unwrap()
            .contains("unknown option broker.unheard-of"),
        "{}",
        publisher.context()
    );
    assert!(
        !publisher
            .log
            .lock()
            .unwrap()
            .contains("brook.max-frame-size"),
        "{}",
        publisher.context()
    );
    let (status, out) = sub.finish();
    assert!(status.success(), "{}", sub.context());
    assert_eq!(out, ["data(/cli/plain/x, over plain TCP)"]);
    // TLS (the default) against the plain listener: refused, naming disable_ssl.
    let sub = Brook::start(
        &[
            "pipe",
            "--disable-ssl",
            "-m",
            "subscribe",
            "-t",
            "/cli/plain",
            "-l",
            "0",
        ],
        None,
    );
    let peer = format!("127.0.0.1:{}", sub.port());
    let mut tls = Brook::start(
        &["pipe", "-m", "publish", "-t", "/cli/plain/x", "-p", &peer],
        Some(b"lost\n"),
    );
    let (status, _) = tls.finish();
    assert_eq!(status.code(), Some(1), "{}", tls.context());
    assert!(
        tls.log.lock().unwrap().contains("disable_ssl"),
        "{}",
        tls.context()
    );
    drop(sub);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_listener_out_of_file_descriptors_accepts_again_once_some_are_free() {
    let mut sub = Brook::start_limited(
        &[
            "pipe",
            "--disable-ssl",
            "-m",
            "subscribe",
            "-t",
            "/fd",
            "-l",
            "0",
            "-c",
            "1",
        ],
        40,
    );
    let port = sub.port();
    // More connections than the subscriber has descriptors left: it accepts until it has
    // none, and the rest wait in the listen queue.
    let storm: Vec<TcpStream> = (0..60)
        .filter_map(|_| TcpStream::connect(("127.0.0.1", port)).ok())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    drop(storm);
    // Their descriptors come back as the subscriber sees them close; then a real peer is
    // accepted (before the fix the listener stayed deaf).
    let peer = format!("127.0.0.1:{port}");
    let mut publisher = Brook::start(
        &[
            "pipe",
            "--disable-ssl",
            "-m",
            "publish",
            "-t",
            "/fd/x",
            "-p",
            &peer,
        ],
        Some(b"heard\n"),
    );
    let (status, _) = publisher.finish();
    assert!(status.success(), "{}", publisher.context());
    let (status, out) = sub.finish();
    assert!(status.success(), "{}", sub.context());
    assert_eq!(out, ["data(/fd/x, heard)"]);
    assert!(
        sub.log.lock().unwrap().contains("accept failed"),
        "the subscriber ran out of descriptors: {}",
        sub.context()
    );
}

#[test]
fn throughput_server_reports_the_clients_rate() {
    let server = Brook::start(&["throughput", "--server", "127.0.0.1:0"], None);
    let address = format!("127.0.0.1:{}", server.port());
    let mut client = Brook::start(
        &["throughput", "-r", "0", "--duration", "1", &address],
        None,
    );
    let (status, out) = client.finish();
    assert!(status.success(), "{}", client.context());
    let sent: u64 = out
        .iter()
        .find_map(|l| l.strip_prefix("sent: ")?.split(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no sent line in {out:?}"));
    assert!(sent > 0);
    let deadline = Instant::now() + DEADLINE;
    loop {
        let line = server.line(deadline).expect("the server keeps running");
        let rate: u64 = line
            .strip_prefix("rate: ")
            .and_then(|r| r.strip_suffix(" events/s"))
            .and_then(|r| r.parse().ok())
            .unwrap_or_else(|| panic!("not a rate line: {line:?}"));
        if rate > 0 {
            break;
        }
    }
}

#[test]
fn node_ping_prints_one_round_trip_per_pong() {
    let pong = Brook::start(
        &["node", "--mode", "pong", "--topics", "/cli/ping", "-p", "0"],
        None,
    );
    let peer = format!("127.0.0.1:{}", pong.port());
    for format in [None, Some("--zeek-events")] {
        let mut args = vec![
            "node",
            "-m",
            "ping",
            "-t",
            "/cli/ping",
            "--peers",
            &peer,
            "-n",
            "5",
            "-s",
            "100",
        ];
        args.extend(format);
        let mut ping = Brook::start(&args, None);
        let (status, out) = ping.finish();
        assert!(status.success(), "{}", ping.context());
        assert_eq!(out.len(), 5, "{out:?}");
        for line in &out {
            let ns: u64 = line
                .parse()
                .unwrap_or_else(|_| panic!("not a number: {line:?}"));
            assert!(ns > 0);
        }
    }
}

#[test]
fn failures_exit_with_1_and_a_message() {
    // Nothing listens on port 1 of loopback.
    let mut p = Brook::start(
        &["pipe", "-m", "publish", "-t", "/x", "-p", "127.0.0.1:1"],
        Some(b"lost\n"),
    );
    let (status, _) = p.finish();
    assert_eq!(status.code(), Some(1));
    assert!(
        p.log
            .lock()
            .unwrap()
            .contains("brook: cannot peer with 127.0.0.1:1"),
        "{}",
        p.context()
    );

    let mut p = Brook::start(&["pipe", "-m", "sideways", "-t", "/x"], None);
    assert_eq!(p.finish().0.code(), Some(1));
    let mut p = Brook::start(&["pipe", "--help"], None);
    let (status, out) = p.finish();
    assert!(status.success());
    assert!(out.iter().any(|l| l.contains("--message-cap")));
}
