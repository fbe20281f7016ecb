//! What the subcommands share: Broker-style option lists and peer addresses, listening and
//! peering with messages on stderr, waiting for a subscriber, pacing, and a SIGINT flag.

use brook::{Config, Endpoint, StatusEvent, StatusKind};
use std::error::Error;
use std::fmt::Display;
use std::io::Write;
use std::os::raw::c_int;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// The endpoint options every subcommand takes: TLS as Broker's tools do (on unless
/// `--disable-ssl`), a configuration file, and any Broker option in Broker's long form
/// (`--broker.ssl.cafile=PATH`, taken out of the command line by [`take_broker_options`]).
#[derive(clap::Args, Debug, Default)]
pub struct EndpointArgs {
    /// Read Broker's options from this file (Broker's broker.conf syntax); without it,
    /// ./broker.conf is read if there is one, as Broker's tools do. Options given on the
    /// command line win.
    #[arg(long = "config-file", value_name = "PATH")]
    config_file: Option<String>,
    /// Peer over plain TCP instead of TLS (Broker's broker.disable-ssl); both sides must
    /// agree.
    #[arg(long)]
    disable_ssl: bool,
}

/// Broker options given as `--broker.NAME=VALUE` or `--broker.NAME VALUE` (also `caf.`, and
/// brook's own `brook.`), in their order on the command line.
static BROKER_OPTIONS: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();

/// Takes Broker's long-form options out of `args` (which clap then parses) and keeps them
/// for [`EndpointArgs::config`]. A name without a value is an error.
pub fn take_broker_options(args: &mut Vec<std::ffi::OsString>) -> Result<()> {
    let mut options = Vec::new();
    let mut i = 1;
    while i < args.len() {
        let text = args[i].to_str().unwrap_or_default();
        if !["--broker.", "--caf.", "--brook."]
            .iter()
            .any(|p| text.starts_with(p))
        {
            i += 1;
            continue;
        }
        let arg = args.remove(i).to_string_lossy().into_owned();
        let (name, value) = match arg[2..].split_once('=') {
            Some((n, v)) => (n.to_string(), v.to_string()),
            None if i < args.len() => {
                let value = args.remove(i);
                let value = value
                    .to_str()
                    .ok_or_else(|| format!("the value of {arg} is not UTF-8"))?;
                (arg[2..].to_string(), value.to_string())
            }
            None => return Err(format!("{arg} needs a value").into()),
        };
        options.push((name, value));
    }
    let _ = BROKER_OPTIONS.set(options);
    Ok(())
}

impl EndpointArgs {
    /// The endpoint's configuration: the file, then `--disable-ssl` and the long-form
    /// options.
    pub fn config(&self) -> Result<Config> {
        let mut c = Config::default();
        let file = match &self.config_file {
            Some(path) => Some(path.as_str()),
            None => std::path::Path::new("broker.conf")
                .is_file()
                .then_some("broker.conf"),
        };
        if let Some(path) = file {
            for w in c.read_file(path)? {
                note(format_args!("{path}: {w}"));
            }
        }
        if self.disable_ssl {
            c.disable_ssl = true;
        }
        for (name, value) in BROKER_OPTIONS.get().into_iter().flatten() {
            c.set(name, value)?;
        }
        Ok(c)
    }
}

/// How long a peering lost after it was established waits between reconnects (Broker's
/// tools retry every second).
pub const RETRY: Duration = Duration::from_secs(1);

/// Flattens list options as CAF reads them: `a,b`, `[a, b]`, `["a","b"]`, or the option
/// given more than once.
pub fn split_list(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| {
            let v = v.trim();
            let v = v.strip_prefix('[').unwrap_or(v);
            let v = v.strip_suffix(']').unwrap_or(v);
            v.split(',')
                .map(|x| x.trim().trim_matches('"').to_string())
                .collect::<Vec<_>>()
        })
        .filter(|x| !x.is_empty())
        .collect()
}

/// Reads `host:port`, `[v6]:port`, `tcp://host:port` or `<tcp://host:port>` (broker-node's
/// URIs).
pub fn parse_peer(s: &str) -> Result<(String, u16)> {
    let t = s.trim().trim_start_matches('<').trim_end_matches('>');
    let t = t.strip_prefix("tcp://").unwrap_or(t).trim_end_matches('/');
    let (host, port) = t
        .rsplit_once(':')
        .ok_or_else(|| format!("invalid peer {s:?}: expected host:port"))?;
    let port = port
        .parse()
        .map_err(|_| format!("invalid port in peer {s:?}"))?;
    if host.is_empty() {
        return Err(format!("invalid peer {s:?}: no host").into());
    }
    Ok((host.to_string(), port))
}

/// Writes `*** <what>` to stderr in one piece, so that a line is never cut by another
/// thread's line or by the process exiting.
pub fn note(what: impl Display) {
    let line = format!("*** {what}\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// Listens on all interfaces (as Broker's tools do) or on `host`, and tells stderr the
/// bound port, so that a script that asked for port 0 learns it.
pub fn listen(ep: &Endpoint, host: &str, port: u16) -> Result<u16> {
    let host = if host.is_empty() { "0.0.0.0" } else { host };
    let bound = ep
        .listen(host, port)
        .map_err(|e| format!("cannot listen on {host}:{port}: {e}"))?;
    note(format_args!("listening on port {bound}"));
    Ok(bound)
}

/// Peers with each `host:port` in turn, waiting for each handshake. A peering lost later is
/// retried in the background.
pub fn peer_all(ep: &Endpoint, peers: &[String]) -> Result<()> {
    for p in peers {
        let (host, port) = parse_peer(p)?;
        ep.peer(&host, port, RETRY)
            .map_err(|e| format!("cannot peer with {host}:{port}: {e}"))?;
    }
    Ok(())
}

/// Waits until a peer has subscribed to a prefix of `topic`, so that what is published next
/// reaches it. Returns false if `timeout` passed first.
pub fn wait_for_subscriber(ep: &Endpoint, topic: &str, timeout: Duration) -> Result<bool> {
    let deadline = Instant::now() + timeout;
    loop {
        let filters = ep.peer_subscriptions()?;
        if filters.iter().any(|f| topic.as_bytes().starts_with(f)) {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Broker's status names, for `*** ` lines on stderr.
/// Waits until what was published has reached the peers' sockets (however long a slow
/// peer takes, as long as it is peered), then shuts the endpoint down and returns how many
/// messages never reached a peer: dropped by an overflow policy, discarded with a peering
/// that ended, or left over at shutdown. With a spool (`spooled`), what a peering
/// discarded or shutdown left is still in the spool: only drops count, and what waits in
/// the spool for a later run is said on stdout.
pub fn finish_publishing(ep: &Endpoint, spooled: bool) -> Result<u64> {
    loop {
        match ep.flush() {
            Ok(()) => break,
            Err(e) if e.kind == brook::ErrorKind::Timeout && !ep.peers()?.is_empty() => {}
            Err(e) => return Err(e.into()),
        }
    }
    let m = ep.metrics()?;
    let dropped: u64 = m.peers.iter().map(|p| p.dropped).sum();
    if spooled {
        ep.shutdown();
        let waiting = m.endpoint.spool_records;
        if waiting > 0 {
            println!("*** {waiting} messages wait in the spool");
        }
        return Ok(dropped + m.endpoint.spool_dropped);
    }
    Ok(m.endpoint.discarded + dropped + ep.shutdown())
}

/// The error for `n` messages that never reached a peer (none: Ok).
pub fn undelivered(n: u64) -> Result<()> {
    if n > 0 {
        return Err(
            format!("{n} messages could not be delivered to the peers that wanted them").into(),
        );
    }
    Ok(())
}

pub fn describe(ev: &StatusEvent) -> String {
    let what = match ev.kind {
        StatusKind::Status(c) => c.name().to_string(),
        StatusKind::Error(e) => format!("error {e:?}"),
    };
    match ev.address {
        Some(a) => format!("{what} ({a}): {}", ev.message),
        None => format!("{what}: {}", ev.message),
    }
}

/// Prints the endpoint's status and error events to stderr from a background thread, as
/// broker-pipe does. The thread ends when the endpoint shuts down.
pub fn print_status_events(ep: &Endpoint) -> Result<()> {
    let events = ep.status_subscriber(true)?;
    std::thread::spawn(move || {
        while let Ok(Some(ev)) = events.get(None) {
            note(describe(&ev));
        }
    });
    Ok(())
}

/// Spaces out sends to `rate` per second (0: no limit). It keeps a running schedule rather
/// than sleeping a fixed interval per send, so oversleeping is made up by the next sends and
/// rates above the sleep granularity still come out right on average.
pub struct Pacer {
    start: Instant,
    rate: f64,
    sent: u64,
}

impl Pacer {
    pub fn new(rate: f64) -> Pacer {
        Pacer {
            start: Instant::now(),
            rate,
            sent: 0,
        }
    }

    /// Waits until the next send is due. Returns false, early, once `give_up` says so; it is
    /// asked at least every 100 ms.
    pub fn wait(&mut self, give_up: impl Fn() -> bool) -> bool {
        if self.rate > 0.0 {
            // A schedule beyond what Instant can hold (absurdly low rates) waits for ever.
            let due = Duration::try_from_secs_f64(self.sent as f64 / self.rate)
                .ok()
                .and_then(|offset| self.start.checked_add(offset));
            loop {
                let left = due.map_or(Duration::MAX, |d| {
                    d.saturating_duration_since(Instant::now())
                });
                if left.is_zero() {
                    break;
                }
                if give_up() {
                    return false;
                }
                std::thread::sleep(left.min(Duration::from_millis(100)));
            }
        }
        self.sent += 1;
        true
    }
}

/// Parses a rate for clap: a finite number, at least 0.
pub fn rate(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r >= 0.0 => Ok(r),
        _ => Err(format!("not a rate: {s:?} (a number, at least 0)")),
    }
}

/// Parses seconds for clap: a non-negative number, fractions allowed.
pub fn seconds(s: &str) -> std::result::Result<Duration, String> {
    s.parse::<f64>()
        .ok()
        .and_then(|x| Duration::try_from_secs_f64(x).ok())
        .ok_or_else(|| format!("not a number of seconds: {s:?}"))
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

const SIGINT: c_int = 2;
const SIGTERM: c_int = 15;
const SIG_DFL: usize = 0;

unsafe extern "C" {
    // `sighandler_t signal(int, sighandler_t)`; a handler is a pointer, passed as usize so
    // that SIG_DFL (0) fits too.
    fn signal(signum: c_int, handler: usize) -> usize;
}

extern "C" fn on_signal(signum: c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
    // A second signal then terminates as usual. signal() is async-signal-safe.
    // SAFETY: restores the default disposition; no Rust state is touched.
    unsafe {
        signal(signum, SIG_DFL);
    }
}

/// Turns the first SIGINT or SIGTERM into a flag that [`interrupted`] reports, for loops
/// that want to finish cleanly; a second signal terminates the process.
pub fn catch_interrupts() {
    let handler = on_signal as extern "C" fn(c_int) as usize;
    // SAFETY: the handler only stores to an atomic and calls signal(), both
    // async-signal-safe.
    unsafe {
        signal(SIGINT, handler);
        signal(SIGTERM, handler);
    }
}

/// True once SIGINT or SIGTERM arrived after [`catch_interrupts`].
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_peers_read_like_caf() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(split_list(&v(&["a,b", "c"])), v(&["a", "b", "c"]));
        assert_eq!(split_list(&v(&["[\"a\", \"b\"]"])), v(&["a", "b"]));
        assert_eq!(parse_peer("h:1").unwrap(), ("h".into(), 1));
        assert_eq!(parse_peer("<tcp://h:2>").unwrap(), ("h".into(), 2));
        assert_eq!(parse_peer("[::1]:3").unwrap(), ("[::1]".into(), 3));
        assert!(parse_peer("h").is_err());
        assert!(parse_peer(":4").is_err());
    }
}
