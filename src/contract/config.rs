//! An endpoint's options, checked before its reactor starts.

use super::queue::OverflowPolicy;
use crate::error::{Error, Result};
use crate::spool::{self, SpoolOptions, SpoolPolicy};
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Endpoint options. `Config::default()` matches Broker's defaults where Broker has one.
#[derive(Clone, Debug)]
pub struct Config {
    /// Messages a peer's send buffer holds before publishers wait (Broker's
    /// `broker.peer-buffer-size`, 2048).
    pub peer_buffer_size: usize,
    /// What happens to a peer whose buffer is full (Broker's
    /// `broker.peer-overflow-policy`). brook's default, `Block`, keeps waiting: a peer that
    /// reads slowly or not at all for a while (a paused process, a logger flushing to a slow
    /// disk) keeps its peering and loses nothing, however long it stalls, while publishers
    /// wait. A peer that is really gone is found by `peer_timeout` instead. Broker's own
    /// policies remain: `Disconnect` (Broker's default) cuts off a peer that has taken no
    /// byte for `peer_stall_timeout`, `DropNewest`/`DropOldest` then drop its messages
    /// (counted).
    pub peer_overflow_policy: OverflowPolicy,
    /// How long a full peer may go without progress before a `Disconnect` or drop policy
    /// applies (unused under `Block`).
    pub peer_stall_timeout: Duration,
    /// A peer whose host or connection is dead is dropped within about this time (its
    /// queued messages counted as discarded): the kernel gives up on data that stays
    /// unacknowledged this long (`TCP_USER_TIMEOUT`) and probes idle connections (TCP
    /// keepalive after a third of it, then every sixth, four probes). A live peer that just
    /// does not read still answers the kernel's probes, so it is not affected. This works
    /// with every peer (Broker, Zeek, brook). Default 30 s; zero leaves the system's
    /// settings (hours).
    pub peer_timeout: Duration,
    /// Messages a subscriber queue holds.
    pub subscriber_queue_size: usize,
    /// What a full subscriber queue does with one more message. The default, `Block`,
    /// pushes back to the publishers (through TCP for remote ones) so that nothing is lost.
    pub subscriber_overflow_policy: OverflowPolicy,
    /// Do not forward messages between peers (Zeek's default; Broker forwards).
    pub disable_forwarding: bool,
    /// Largest frame payload, in bytes, accepted from a peer (a larger length ends that
    /// peering) and sent to one (a publish or store write that would need a larger frame is
    /// refused with [`crate::ErrorKind::Encode`]). Default Broker's limit, 2^31 - 5 bytes
    /// ([`crate::wire::frame::MAX_WIRE_PAYLOAD`]); lower it to bound what one peer can make
    /// the endpoint buffer (`brook.max-frame-size`). A frame's buffer grows as its bytes
    /// arrive, not from its length prefix. Handshake frames are capped at 16 MiB whatever
    /// this says.
    pub max_frame_size: usize,
    /// The listen backlog: connections the kernel queues for a listener before the reactor
    /// accepts them (`brook.listen-backlog`). Default 4096, `SOMAXCONN`, which Broker (CAF)
    /// listens with; Linux caps it at `net.core.somaxconn`. With a small backlog a burst of
    /// connects overflows the queue and those connections stall or fail.
    pub listen_backlog: u32,
    /// A connection that has not completed its handshake within this time is closed.
    pub handshake_timeout: Duration,
    /// How long an unpeering waits for the peer's answer to its BYE ping.
    pub unpeer_timeout: Duration,
    /// Malformed messages in a row after which a peering is ended.
    pub max_malformed_in_a_row: u32,
    /// For latency: after handling something, the reactor keeps looking for more work
    /// without sleeping for up to this long (yielding its core to other runnable threads
    /// between looks), so that the next message or publish does not pay for waking it. It
    /// does so only while that pays: when new work keeps turning up within the window, as
    /// in request/response exchanges. Sparse or one-way traffic soon stops it, and then it
    /// only tries once in a while. Zero never busy-polls. Default 50 µs; at most one second.
    pub busy_poll: Duration,
    /// Serve the endpoint's counters in Prometheus' text format over HTTP on this port
    /// (Broker's `broker.metrics.port`; 0: any free port, see `Endpoint::metrics_port`).
    /// Off by default. The environment variable `BROKER_METRICS_PORT` overrides it, as in
    /// Broker.
    pub metrics_port: Option<u16>,
    /// The address the metrics listener binds (Broker's `broker.metrics.address`); `None`,
    /// the default, binds every interface, as Broker does.
    pub metrics_address: Option<IpAddr>,
    /// Peer over plain TCP instead of TLS (Broker's `broker.disable-ssl`, Zeek's
    /// `Broker::disable_ssl`). Off by default, as in Broker: both peers must agree.
    pub disable_ssl: bool,
    /// Certificates for authenticated TLS (Broker's `broker.ssl.*`). With none of them set,
    /// TLS is anonymous, as a default Broker's is.
    pub ssl: SslOptions,
    /// Which status and error events are also printed on stderr (Broker's
    /// `caf.logger.console.verbosity` and `BROKER_CONSOLE_VERBOSITY`): none by default.
    pub console_verbosity: Verbosity,
    /// A durable spool for what this endpoint publishes (brook's own `brook.spool.*`;
    /// Broker has none): off unless `spool.dir` is set. See [`SpoolOptions`].
    pub spool: SpoolOptions,
}

/// How much goes to the console: Broker's levels. brook prints its status events at `info`
/// and above, its error events at `error` and above.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    #[default]
    Quiet,
    Error,
    Warning,
    Info,
    Debug,
    Trace,
}

impl Verbosity {
    /// Broker's name for a level: `quiet`, `error`, `warning`, `info`, `debug`, `trace`.
    pub fn from_name(s: &str) -> Option<Verbosity> {
        Some(match s {
            "quiet" => Verbosity::Quiet,
            "error" => Verbosity::Error,
            "warning" => Verbosity::Warning,
            "info" => Verbosity::Info,
            "debug" => Verbosity::Debug,
            "trace" => Verbosity::Trace,
            _ => return None,
        })
    }
}

/// Broker's TLS credentials. Setting any of them switches TLS from anonymous to
/// authenticated: both sides present `certificate` (a PEM chain) with `key` (PEM, decrypted
/// with `passphrase` if it is encrypted), and accept only a peer whose certificate the CA
/// file or directory vouches for (no host-name check, as in Broker).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SslOptions {
    pub certificate: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub passphrase: Option<String>,
    pub cafile: Option<PathBuf>,
    pub capath: Option<PathBuf>,
}

impl SslOptions {
    /// True if any credential is set: TLS with certificates, not anonymous.
    pub fn authenticated(&self) -> bool {
        self.certificate.is_some()
            || self.key.is_some()
            || self.passphrase.is_some()
            || self.cafile.is_some()
            || self.capath.is_some()
    }
}

impl std::fmt::Debug for SslOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SslOptions")
            .field("certificate", &self.certificate)
            .field("key", &self.key)
            .field("passphrase", &self.passphrase.as_ref().map(|_| "(set)"))
            .field("cafile", &self.cafile)
            .field("capath", &self.capath)
            .finish()
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            peer_buffer_size: 2048,
            peer_overflow_policy: OverflowPolicy::Block,
            peer_stall_timeout: Duration::from_secs(10),
            peer_timeout: Duration::from_secs(30),
            subscriber_queue_size: 8192,
            subscriber_overflow_policy: OverflowPolicy::Block,
            disable_forwarding: false,
            max_frame_size: crate::wire::frame::DEFAULT_MAX_PAYLOAD,
            listen_backlog: Config::DEFAULT_LISTEN_BACKLOG,
            handshake_timeout: Duration::from_secs(10),
            unpeer_timeout: Duration::from_secs(3),
            max_malformed_in_a_row: 100,
            busy_poll: Duration::from_micros(50),
            metrics_port: None,
            metrics_address: None,
            disable_ssl: false,
            ssl: SslOptions::default(),
            console_verbosity: Verbosity::Quiet,
            spool: SpoolOptions::default(),
        }
    }
}

impl Config {
    /// Sets an option by its Broker name: `broker.disable-ssl`, `broker.ssl.certificate`,
    /// `broker.ssl.key`, `broker.ssl.passphrase`, `broker.ssl.cafile`, `broker.ssl.capath`,
    /// `broker.metrics.port`, `broker.metrics.address`, `broker.peer-buffer-size`,
    /// `broker.peer-overflow-policy` (`disconnect`, `drop_newest`, `drop_oldest`, and brook's
    /// `block`), `brook.peer-stall-timeout` and `brook.peer-timeout` (durations such as
    /// `30s`, `500ms` or a number of seconds),
    /// `broker.disable-forwarding`, `broker.forward` (booleans are `true`/`false`) or
    /// `broker.ttl` (checked, without effect: Broker enforces none either); brook's
    /// own spool (Broker has none): `brook.spool.dir`, `brook.spool.max-size` (bytes, or
    /// with `k`, `M`, `G`), `brook.spool.policy` (`block`, `drop_oldest`),
    /// `brook.spool.topics` (comma-separated prefixes) and `brook.spool.fsync`; and
    /// `brook.max-frame-size` (bytes) and `brook.listen-backlog`, which Broker does not have
    /// either. An unknown name or a value that does not parse is an
    /// [`crate::ErrorKind::InvalidArgument`] naming it.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        let bad = || Error::invalid(format!("invalid value for {key}: {value:?}"));
        let flag = || value.parse::<bool>().map_err(|_| bad());
        let path = || Some(PathBuf::from(value));
        match key {
            "broker.disable-ssl" => self.disable_ssl = flag()?,
            "broker.ssl.certificate" => self.ssl.certificate = path(),
            "broker.ssl.key" => self.ssl.key = path(),
            "broker.ssl.passphrase" => self.ssl.passphrase = Some(value.to_string()),
            "broker.ssl.cafile" => self.ssl.cafile = path(),
            "broker.ssl.capath" => self.ssl.capath = path(),
            "broker.disable-forwarding" => self.disable_forwarding = flag()?,
            "caf.logger.console.verbosity" => {
                self.console_verbosity = Verbosity::from_name(value).ok_or_else(bad)?
            }
            // Carried for Broker's files; like current Broker, brook writes 16 on every
            // envelope and enforces nothing (spec §4.4).
            "broker.ttl" => {
                value.parse::<u16>().map_err(|_| bad())?;
            }
            "broker.metrics.port" => self.metrics_port = Some(value.parse().map_err(|_| bad())?),
            "broker.metrics.address" => {
                self.metrics_address = Some(value.parse().map_err(|_| bad())?)
            }
            "broker.peer-buffer-size" => {
                self.peer_buffer_size = value.parse().map_err(|_| bad())?
            }
            "broker.peer-overflow-policy" => {
                self.peer_overflow_policy = OverflowPolicy::from_name(value).ok_or_else(bad)?
            }
            "brook.peer-stall-timeout" => {
                self.peer_stall_timeout = parse_duration(value).ok_or_else(bad)?
            }
            "brook.peer-timeout" => self.peer_timeout = parse_duration(value).ok_or_else(bad)?,
            "broker.forward" => {
                self.disable_forwarding = !value.parse::<bool>().map_err(|_| bad())?
            }
            // An empty directory turns the spool off.
            "brook.spool.dir" => self.spool.dir = path().filter(|p| !p.as_os_str().is_empty()),
            "brook.spool.max-size" => {
                self.spool.max_size = spool::parse_size(value).ok_or_else(bad)?
            }
            "brook.spool.policy" => {
                self.spool.policy = SpoolPolicy::from_name(value).ok_or_else(bad)?
            }
            "brook.spool.topics" => {
                self.spool.topics = value
                    .split(',')
                    .map(|t| t.trim().trim_matches('"'))
                    .filter(|t| !t.is_empty())
                    .map(|t| t.as_bytes().to_vec())
                    .collect()
            }
            "brook.spool.fsync" => self.spool.fsync = flag()?,
            "brook.max-frame-size" => self.max_frame_size = value.parse().map_err(|_| bad())?,
            "brook.listen-backlog" => self.listen_backlog = value.parse().map_err(|_| bad())?,
            _ => return Err(Error::invalid(format!("unknown option {key}"))),
        }
        Ok(())
    }

    /// Applies what the environment overrides, as Broker does (`env` looks a variable up):
    /// `BROKER_METRICS_PORT` must be a non-zero port, `BROKER_CONSOLE_VERBOSITY` one of
    /// Broker's levels.
    pub(crate) fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<()> {
        if let Some(v) = env("BROKER_METRICS_PORT") {
            match v.trim().parse::<u16>() {
                Ok(port) if port != 0 => self.metrics_port = Some(port),
                _ => {
                    return Err(Error::invalid(format!(
                        "invalid value for BROKER_METRICS_PORT: {v} (expected a non-zero port number)"
                    )));
                }
            }
        }
        if let Some(v) = env("BROKER_CONSOLE_VERBOSITY") {
            self.console_verbosity = Verbosity::from_name(v.trim()).ok_or_else(|| {
                Error::invalid(format!(
                    "illegal value for environment variable BROKER_CONSOLE_VERBOSITY: '{v}' \
                     (legal values: 'trace', 'debug', 'info', 'warning', 'error', 'quiet')"
                ))
            })?;
        }
        Ok(())
    }

    /// Queue sizes are allocated up front: this is the most any may ask for.
    pub const MAX_QUEUE: usize = 1 << 24;

    /// The default listen backlog: `SOMAXCONN` as current Linux and glibc define it, which
    /// CAF passes to `listen` for Broker.
    pub const DEFAULT_LISTEN_BACKLOG: u32 = 4096;

    /// Checks that every value is usable: queue sizes between 1 and [`Config::MAX_QUEUE`],
    /// a frame limit between 1 byte and the wire format's maximum, a listen backlog of at
    /// least 1, and timeouts of at most a day.
    pub fn validate(&self) -> Result<()> {
        let queue = |name: &str, n: usize| {
            if n == 0 || n > Config::MAX_QUEUE {
                return Err(Error::invalid(format!(
                    "{name} must be between 1 and {}, not {n}",
                    Config::MAX_QUEUE
                )));
            }
            Ok(())
        };
        queue("peer_buffer_size", self.peer_buffer_size)?;
        queue("subscriber_queue_size", self.subscriber_queue_size)?;
        let max_frame = crate::wire::frame::MAX_WIRE_PAYLOAD;
        if self.max_frame_size == 0 || self.max_frame_size > max_frame {
            return Err(Error::invalid(format!(
                "max_frame_size must be between 1 and {max_frame}, not {}",
                self.max_frame_size
            )));
        }
        if self.listen_backlog == 0 || self.listen_backlog > i32::MAX as u32 {
            return Err(Error::invalid(format!(
                "listen_backlog must be between 1 and {}, not {}",
                i32::MAX,
                self.listen_backlog
            )));
        }
        let day = Duration::from_secs(86_400);
        for (name, d) in [
            ("peer_stall_timeout", self.peer_stall_timeout),
            ("peer_timeout", self.peer_timeout),
            ("handshake_timeout", self.handshake_timeout),
            ("unpeer_timeout", self.unpeer_timeout),
        ] {
            if d > day {
                return Err(Error::invalid(format!("{name} must be at most a day")));
            }
        }
        if self.handshake_timeout.is_zero() {
            return Err(Error::invalid("handshake_timeout must not be zero"));
        }
        if !self.peer_timeout.is_zero() && self.peer_timeout < Duration::from_secs(1) {
            return Err(Error::invalid(
                "peer_timeout must be zero or at least a second",
            ));
        }
        if self.busy_poll > Duration::from_secs(1) {
            return Err(Error::invalid("busy_poll must be at most a second"));
        }
        if self.max_malformed_in_a_row == 0 {
            return Err(Error::invalid("max_malformed_in_a_row must be at least 1"));
        }
        let s = &self.ssl;
        for (name, p) in [
            ("certificate", &s.certificate),
            ("key", &s.key),
            ("cafile", &s.cafile),
            ("capath", &s.capath),
        ] {
            // OpenSSL takes C strings.
            if let Some(p) = p {
                if p.to_str().is_none_or(|t| t.is_empty() || t.contains('\0')) {
                    return Err(Error::invalid(format!(
                        "ssl.{name}: {} is not a usable path",
                        p.display()
                    )));
                }
            }
        }
        if s.passphrase.as_ref().is_some_and(|p| p.contains('\0')) {
            return Err(Error::invalid("ssl.passphrase must not contain a NUL byte"));
        }
        self.spool.validate()
    }
}

/// A duration as `30s`, `500ms`, `2m`, `1h` or a plain number of seconds (fractions too).
fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    let (num, unit) = match t.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let n: f64 = num.trim().parse().ok()?;
    let scale = match unit.trim() {
        "ms" => 1e-3,
        "s" => 1.0,
        "min" | "m" => 60.0,
        "h" => 3600.0,
        _ => return None,
    };
    let secs = n * scale;
    (0.0..=86_400.0 * 365.0)
        .contains(&secs)
        .then(|| Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brokers_option_names_set_the_fields_and_bad_values_are_errors() {
        let mut c = Config::default();
        c.set("broker.metrics.port", "9911").unwrap();
        c.set("broker.metrics.address", "127.0.0.1").unwrap();
        c.set("broker.peer-overflow-policy", "drop_oldest").unwrap();
        c.set("broker.forward", "false").unwrap();
        c.set("brook.max-frame-size", "1048576").unwrap();
        c.set("brook.listen-backlog", "64").unwrap();
        assert_eq!((c.max_frame_size, c.listen_backlog), (1 << 20, 64));
        assert!(c.set("brook.max-frame-size", "-1").is_err());
        assert_eq!(c.metrics_port, Some(9911));
        assert_eq!(c.metrics_address, Some("127.0.0.1".parse().unwrap()));
        assert_eq!(c.peer_overflow_policy, OverflowPolicy::DropOldest);
        c.set("brook.peer-timeout", "45s").unwrap();
        c.set("brook.peer-stall-timeout", "1.5").unwrap();
        assert_eq!(c.peer_timeout, Duration::from_secs(45));
        assert_eq!(c.peer_stall_timeout, Duration::from_millis(1500));
        c.set("brook.peer-timeout", "0").unwrap();
        assert!(c.peer_timeout.is_zero());
        assert!(c.set("brook.peer-timeout", "soon").is_err());
        assert!(c.set("brook.peer-timeout", "-1s").is_err());
        assert_eq!(
            Config::default().peer_overflow_policy,
            OverflowPolicy::Block
        );
        assert!(c.disable_forwarding);
        let e = c.set("broker.metrics.port", "x").unwrap_err();
        assert!(e.message.contains("broker.metrics.port"), "{e}");
        c.set("brook.spool.dir", "/var/spool/brook").unwrap();
        c.set("brook.spool.max-size", "64M").unwrap();
        c.set("brook.spool.policy", "drop_oldest").unwrap();
        c.set("brook.spool.topics", "zeek/logs/, zeek/cluster/")
            .unwrap();
        c.set("brook.spool.fsync", "true").unwrap();
        assert_eq!(c.spool.dir, Some(PathBuf::from("/var/spool/brook")));
        assert_eq!(c.spool.max_size, 64 << 20);
        assert_eq!(c.spool.policy, SpoolPolicy::DropOldest);
        assert_eq!(c.spool.topics, [&b"zeek/logs/"[..], b"zeek/cluster/"]);
        assert!(c.spool.fsync);
        c.validate().unwrap();
        for (k, v) in [
            ("brook.spool.max-size", "lots"),
            ("brook.spool.policy", "drop_newest"),
            ("brook.spool.fsync", "1"),
        ] {
            let e = c.clone().set(k, v).unwrap_err();
            assert!(e.message.contains(k), "{e}");
        }
        c.set("brook.spool.max-size", "1k").unwrap();
        assert!(c.validate().unwrap_err().message.contains("max-size"));
        c.set("brook.spool.dir", "").unwrap();
        assert_eq!(c.spool.dir, None);
        assert!(
            c.set("broker.nope", "1")
                .unwrap_err()
                .message
                .contains("unknown")
        );
    }

    #[test]
    fn brokers_environment_variables_override_and_are_checked() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let mut c = Config::default();
        c.apply_env(env(&[])).unwrap();
        assert_eq!(
            (c.metrics_port, c.console_verbosity),
            (None, Verbosity::Quiet)
        );
        c.apply_env(env(&[
            ("BROKER_METRICS_PORT", "9000"),
            ("BROKER_CONSOLE_VERBOSITY", "info"),
        ]))
        .unwrap();
        assert_eq!(
            (c.metrics_port, c.console_verbosity),
            (Some(9000), Verbosity::Info)
        );
        let e = c
            .apply_env(env(&[("BROKER_METRICS_PORT", "0")]))
            .unwrap_err();
        assert!(e.message.contains("non-zero port"), "{e}");
        assert!(
            c.apply_env(env(&[("BROKER_METRICS_PORT", "http")]))
                .is_err()
        );
        let e = c
            .apply_env(env(&[("BROKER_CONSOLE_VERBOSITY", "loud")]))
            .unwrap_err();
        assert!(e.message.contains("legal values"), "{e}");
    }
}
