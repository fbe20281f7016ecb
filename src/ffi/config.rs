//! `brook_config`: an endpoint's options, set one by one and checked before the endpoint
//! starts.

use std::ffi::c_char;

use super::{
    Failure, FfiResult, arg_mut, brook_status, enum_arg, guard, guard_or, optional, optional_out,
    out, str_arg,
};
use crate::endpoint::{Config, OverflowPolicy, SpoolPolicy};
use std::time::Duration;

// --- Config -----------------------------------------------------------------------------

/// Options for brook_endpoint_new(): buffer sizes, overflow policies, timeouts and
/// forwarding. A new config holds brook's defaults, which are Broker's where Broker has one.
///
/// Use from one thread at a time. Free with brook_config_free().
pub struct brook_config {
    pub(crate) inner: Config,
}

/// What a full queue does with one more message. Passed into brook as a `uint32_t`; unknown
/// numbers give BROOK_STATUS_INVALID_ARGUMENT.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum brook_overflow_policy {
    /// End the peering (a peer), or close the subscriber once it has taken what it holds.
    Disconnect = 0,
    /// Drop the message that does not fit, and count it.
    DropNewest = 1,
    /// Drop the oldest waiting message to make room, and count it.
    DropOldest = 2,
    /// Subscribers only: keep the message back until there is room, which holds up the
    /// publishers (remote ones through TCP). Nothing is lost.
    Block = 3,
}

/// The values of `brook_overflow_policy`.
const POLICIES: [(u32, OverflowPolicy); 4] = [
    (
        brook_overflow_policy::Disconnect as u32,
        OverflowPolicy::Disconnect,
    ),
    (
        brook_overflow_policy::DropNewest as u32,
        OverflowPolicy::DropNewest,
    ),
    (
        brook_overflow_policy::DropOldest as u32,
        OverflowPolicy::DropOldest,
    ),
    (brook_overflow_policy::Block as u32, OverflowPolicy::Block),
];

/// What a full spool does (brook_config_set_spool_policy()). Passed into brook as a
/// `uint32_t`; unknown numbers give BROOK_STATUS_INVALID_ARGUMENT.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum brook_spool_policy {
    /// Take no more publications until delivery makes room: publishers wait, and
    /// non-blocking ones get BROOK_STATUS_WOULD_BLOCK, as with a full publish queue.
    Block = 0,
    /// Drop the oldest messages (a segment file at a time) to make room, counted as
    /// BROOK_ENDPOINT_COUNTER_SPOOL_DROPPED and reported as an error event.
    DropOldest = 1,
}

const SPOOL_POLICIES: [(u32, SpoolPolicy); 2] = [
    (brook_spool_policy::Block as u32, SpoolPolicy::Block),
    (
        brook_spool_policy::DropOldest as u32,
        SpoolPolicy::DropOldest,
    ),
];

/// The largest queue brook allocates: queues take their whole capacity up front.
const MAX_QUEUE: usize = 1 << 24;

/// Makes a config holding the defaults.
///
/// Caller owns the result; free it with brook_config_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if `out_config` is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_config_new(out_config: *mut *mut brook_config) -> brook_status {
    guard(|| {
        let out_config = out(out_config, "out_config")?;
        out_config.write(Box::into_raw(Box::new(brook_config {
            inner: Config::default(),
        })));
        Ok(())
    })
}

/// Frees a config. NULL does nothing. Endpoints made from it keep their own copy.
///
/// Consumes `config`: do not use or free it afterwards.
#[unsafe(no_mangle)]
pub extern "C" fn brook_config_free(config: *mut brook_config) {
    guard_or((), || {
        if !config.is_null() {
            // SAFETY: `config` came from `brook_config_new`, by contract.
            drop(unsafe { Box::from_raw(config) });
        }
    })
}

/// Runs a setter on a config.
fn set(config: *mut brook_config, f: impl FnOnce(&mut Config) -> FfiResult) -> brook_status {
    guard(|| f(&mut arg_mut(config, "config")?.inner))
}

fn queue_size(size: usize, name: &str) -> FfiResult<usize> {
    if (1..=MAX_QUEUE).contains(&size) {
        Ok(size)
    } else {
        Err(Failure::invalid(format!(
            "{name} must be from 1 to {MAX_QUEUE}, not {size}"
        )))
    }
}

/// Sets how many messages a peer's send buffer holds before publishers wait (Broker's
/// `broker.peer-buffer-size`; default 2048), from 1 to 16777216.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `config` is NULL, BROOK_STATUS_INVALID_ARGUMENT if
/// `size` is out of range.
#[unsafe(no_mangle)]
pub extern "C" fn brook_config_set_peer_buffer_size(
    config: *mut brook_config,
    size: usize,
) -> brook_status {
    set(config, |c| {
        c.peer_buffer_size = queue_size(size, "the peer buffer size")?;
        Ok(())
    })
}

/// Sets what happens to a peer whose send buffer is full (Broker's
/// `broker.peer-overflow-policy`), a brook_overflow_policy. Default
/// BROOK_OVERFLOW_POLICY_BLOCK: publishers wait for as long as the peer is alive, however
/// long it does not read, and nothing is lost (a dead peer is found by the peer timeout,
/// brook_config_set_peer_timeout_ms()). BROOK_OVERFLOW_POLICY_DISCONNECT (Broker's default)
/// ends a peering that has taken nothing for the peer stall timeout; the drop policies drop
/// its messages then (counted per peer).
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `config` is NULL, BROOK_STATUS_INVALID_ARGUMENT if
/// `policy` is unknown.
#[unsafe(no_mangle)]
pub extern "C" fn brook_config_set_peer_overflow_policy(
    config: *mut brook_config,
    policy: u32,
) -> brook_status {
    set(config, |c| {
        c.peer_overflow_policy = enum_arg(policy, &POLICIES, "policy")?;
        Ok(())
    })
}

/// Sets how long (in milliseconds) a peer with a full send buffer may go without taking any
/// bytes before a disconnect or drop overflow policy applies (not used under block).
/// Default 10000.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `config` is NULL.
#[unsafe(no_mangle)]
pub extern "C" fn brook_config_set_peer_stall_timeout_ms(
    config: *mut brook_config,
    ms: u32,
) -> brook_status {
    set(config, |c| {
        c.peer_stall_timeout = Duration::from_millis(ms.into());
        Ok(())
    })
}

/// Sets the peer timeout in milliseconds: a peer whose host or connection is dead is
/// dropped within about this time, its queued messages counted as discarded. The kernel
/// gives up on sent data unacknowledged this long (TCP_USER_TIMEOUT) and probes idle
/// connections (TCP keepalive); a live peer that does not read still answers the probes
/// and keeps its peering. Works with every peer (Broker, Zeek, brook). Default 30000; 0
/// leaves the system's settings.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `config` is NULL; brook_endpoint_new() returns
/// BROOK_STATUS_INVALID_ARGUMENT for a value from 1 to 999 or over a day.
#[unsafe(no_mangle)]
pub extern "C" fn brook_config_set_peer_timeout_ms(
    config: *mut brook_config,
    ms: u32,
) -> brook_status {
    set(config, |c| {
        c.peer_timeout = Duration::from_millis(ms.into());
        Ok(())
    })
}

/// Sets how many messages a subscriber's queue holds (default 8192), from 1 to 16777216.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `config` is NULL, BROOK_STATUS_INVALID_ARGUMENT if
/// `size` is out of range.
#[unsafe(no_mangle)]
pub extern "C" fn brook_config_set_subscriber_queue_size(
    config: *mut brook_config,
    size: usize,
) -> brook_status {
    set(config, |c| {
        c.subscriber_queue_size = queue_size(size, "the subscriber queue size")?;
        Ok(())
    })
}

/// Sets what a full subscriber queue does with one more message: a brook_overflow_policy.
/// Default BROOK_OVERFLOW_POLICY_BLOCK. brook_subscriber_dropped() counts what the drop
/// policies drop.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `config` is NULL, BROOK_STATUS_INVALID_ARGUMENT if
/// `policy` is unknown.
#[unsafe(no_mangle)]
pub extern "C" fn brook_config_set_subscriber_overflow_policy(
    config: *mut brook_config,
    policy: u32,
) -> brook_status {
    set(config, |c| {
        c.subscriber_overflow_policy = enum_arg(policy, &POLICIES, "policy")?;
        Ok(())
    })
}

/// With `disable` true, the endpoint does not pass messages from one peer on to another
/// (Zeek's setting). Default false: it forwards, as Broker does.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `config` is NULL.
#[unsafe(no_mangle)]
pub extern "C" fn brook_config_set_disable_forwarding(
    config: *mut brook_config,
    disable: bool,
) -> brook_status {
    set(config, |c| {
        c.disable_forwarding = disable;
        Ok(())
    })
}

/// Sets the largest frame payload, in bytes, accepted from a peer (a longer one ends that
/// peering) and sent to one (a publish or store write that needs a longer one fails with
/// BROOK_STATUS_ENCODE_ERROR). From 1 to 2147483643; default 2147483643 (2^31 - 5), the
/// most Broker accepts. By name: `brook.max-frame-size`. A frame's buffer grows as its
/// bytes arrive, not from its length prefix.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `config` is NULL, BROOK_STATUS_INVALID_ARGUMENT if
/// `size` is out of range.
#[unsafe(no_mangle)]
pub extern "C" fn brook_config_set_max_frame_size(
    config: *mut brook_config,
    size: usize,
) -> brook_status {
    set(config, |c| {
        let max = crate::wire::frame::MAX_WIRE_PAYLOAD;
        if size == 0 || size > max {
            return Err(Failure::invalid(format!(
                "the maximum frame size must be from 1 to {max}, not {size}"
            )));
        }
        c.max_frame_size = size;
        Ok(())
    })
}

/// Sets the listen backlog of the endpoint's listeners: connections the kernel queues
/// before the endpoint accepts them. From 1 to 2147483647; default 4096 (`SOMAXCONN`, as
/// Broker listens with; Linux caps it at `net.core.somaxconn`). By name:
/// `brook.listen-backlog`.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `config` is NULL, BROOK_STATUS_INVALID_ARGUMENT if
/// `backlog` is out of range.
#[unsafe(no_mangle)]
pub extern "C" fn brook_config_set_listen_backlog(
    config: *mut brook_config,
    backlog: u32,
) -> brook_status {
    set(config, |c| {
        if backlog == 0 || backlog > i32::MAX as u32 {
            return Err(Failure::invalid(format!(
                "the listen backlog must be from 1 to {}, not {backlog}",
                i32::MAX
            )));
        }
        c.listen_backlog = backlog;
        Ok(())
    })
}

/// Sets how long (in microseconds, at most 1000000) the reactor keeps looking for work
/// without sleeping after it handled something. Default 50; 0 makes it always sleep when
/// idle. It busy-polls only while that pays (new work keeps turning up within the window,
/// as in request/response exchanges), yielding its core to other runnable threads between
/// looks; then a round trip skips the cost of waking it (about half as long on an idle
/// machine). Sparse or one-way traffic soon stops it, and then it tries once in a while.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `config` is NULL, BROOK_STATUS_INVALID_ARGUMENT if
/// `us` is over 1000000.
#[unsafe(no_mangle)]
pub extern "C" fn brook_config_set_busy_poll_us(
    config: *mut brook_config,
    us: u32,
) -> brook_status {
    set(config, |c| {
        if us > 1_000_000 {
            return Err(Failure::invalid(
                "busy_poll must be at most 1000000 us (a second)",
            ));
        }
        c.busy_poll = Duration::from_micros(us.into());
        Ok(())
    })
}

/// Sets how long (in milliseconds, at least 1) a new connection may take to complete
/// Broker's handshake before it is closed. Default 10000. brook_endpoint_peer() waits up to
/// this long plus 5 seconds.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `config` is NULL, BROOK_STATUS_INVALID_ARGUMENT if
/// `ms` is 0.
#[unsafe(no_mangle)]
pub extern "C" fn brook_config_set_handshake_timeout_ms(
    config: *mut brook_config,
    ms: u32,
) -> brook_status {
    set(config, |c| {
        if ms == 0 {
            return Err(Failure::invalid(
                "the handshake timeout must be at least 1 ms",
            ));
        }
        c.handshake_timeout = Duration::from_millis(ms.into());
        Ok(())
    })
}

/// Sets how long (in milliseconds) unpeering and shutdown wait for a peer to answer the
/// goodbye before closing the connection anyway. Default 3000.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `config` is NULL.
#[unsafe(no_mangle)]
pub extern "C" fn brook_config_set_unpeer_timeout_ms(
    config: *mut brook_config,
    ms: u32,
) -> brook_status {
    set(config, |c| {
        c.unpeer_timeout = Duration::from_millis(ms.into());
        Ok(())
    })
}

/// Sets after how many malformed messages in a row from one peer that peering is ended
/// (at least 1; default 100). Each malformed message is also reported as an error event.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `config` is NULL, BROOK_STATUS_INVALID_ARGUMENT if
/// `count` is 0.
#[unsafe(no_mangle)]
pub extern "C" fn brook_config_set_max_malformed_in_a_row(
    config: *mut brook_config,
    count: u32,
) -> brook_status {
    set(config, |c| {
        if count == 0 {
            return Err(Failure::invalid(
                "the malformed-message limit must be at least 1",
            ));
        }
        c.max_malformed_in_a_row = count;
        Ok(())
    })
}

/// Serves the endpoint's counters in Prometheus' text format on `http://ADDRESS:port/metrics`
/// (Broker's `broker.metrics.port`): `port` 0 takes any free port
/// (brook_endpoint_metrics_port() tells which), a negative `port` turns it off (the
/// default). `address` is the IP to bind, such as "127.0.0.1"; NULL binds every interface,
/// as Broker does. The environment variable BROKER_METRICS_PORT overrides the port.
///
/// `address` is only read; the caller still owns it.
/// Returns BROOK_STATUS_NULL_ARGUMENT if `config` is NULL, BROOK_STATUS_INVALID_ARGUMENT if
/// `port` is above 65535 or `address` is not an IP address.
#[unsafe(no_mangle)]
pub extern "C" fn brook_config_set_metrics_port(
    config: *mut brook_config,
    port: i32,
    address: *const c_char,
) -> brook_status {
    set(config, |c| {
        let address = match optional(address) {
            None => None,
            Some(_) => {
                let text = str_arg(address, "address")?;
                Some(text.parse().map_err(|_| {
                    Failure::invalid(format!("address: {text:?} is not an IP address"))
                })?)
            }
        };
        let port = match port {
            p if p < 0 => None,
            p => Some(
                u16::try_from(p)
                    .map_err(|_| Failure::invalid(format!("port: {p} is above 65535")))?,
            ),
        };
        c.metrics_port = port;
        c.metrics_address = address;
        Ok(())
    })
}

/// Peers over plain TCP instead of TLS (Broker's `broker.disable-ssl`, Zeek's
/// `Broker::disable_ssl`) when `disable` is true. TLS is on by default, as in Broker; both
/// peers must agree.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `config` is NULL.
#[unsafe(no_mangle)]
pub extern "C" fn brook_config_set_disable_ssl(
    config: *mut brook_config,
    disable: bool,
) -> brook_status {
    set(config, |c| {
        c.disable_ssl = disable;
        Ok(())
    })
}

/// Sets the credentials of authenticated TLS (Broker's `broker.ssl.*`): the certificate
/// chain and private key files (PEM), the key's passphrase, and the CA file or directory
/// that a peer's certificate must chain to. Each may be NULL (unset); with all of them
/// unset TLS is anonymous, as a default Broker's is. The files are read when the endpoint
/// starts: brook_endpoint_new() fails with BROOK_STATUS_INVALID_ARGUMENT, naming the file,
/// if one cannot be read or a key cannot be decrypted.
///
/// The strings are only read; the caller still owns them.
/// Returns BROOK_STATUS_NULL_ARGUMENT if `config` is NULL, BROOK_STATUS_INVALID_ARGUMENT if
/// a string is not UTF-8 or empty.
#[unsafe(no_mangle)]
pub extern "C" fn brook_config_set_ssl(
    config: *mut brook_config,
    certificate: *const c_char,
    key: *const c_char,
    passphrase: *const c_char,
    cafile: *const c_char,
    capath: *const c_char,
) -> brook_status {
    set(config, |c| {
        let text = |p: *const c_char, name: &str| -> FfiResult<Option<String>> {
            match optional(p) {
                None => Ok(None),
                Some(_) => {
                    let s = str_arg(p, name)?;
                    if s.is_empty() {
                        return Err(Failure::invalid(format!("{name} is empty")));
                    }
                    Ok(Some(s.to_string()))
                }
            }
        };
        let ssl = crate::endpoint::SslOptions {
            certificate: text(certificate, "certificate")?.map(Into::into),
            key: text(key, "key")?.map(Into::into),
            passphrase: text(passphrase, "passphrase")?,
            cafile: text(cafile, "cafile")?.map(Into::into),
            capath: text(capath, "capath")?.map(Into::into),
        };
        c.ssl = ssl;
        Ok(())
    })
}

/// Turns on a durable spool in the directory `dir` (made if missing; brook's
/// `brook.spool.dir`, Broker has no spool), or off with NULL (the default). Data messages
/// published on the spooled topics then go to disk first and leave it once a peer's
/// kernel has acknowledged them, so that what is published while no peer takes it is
/// delivered, in order, when one that wants it comes back: also by a new endpoint on the
/// same directory after this process died. One endpoint at a time may use a directory:
/// brook_endpoint_new() fails with BROOK_STATUS_INVALID_ARGUMENT for one in use.
///
/// `dir` is only read; the caller still owns it.
/// Returns BROOK_STATUS_NULL_ARGUMENT if `config` is NULL, BROOK_STATUS_INVALID_ARGUMENT
/// if `dir` is empty or not UTF-8.
#[unsafe(no_mangle)]
pub extern "C" fn brook_config_set_spool_dir(
    config: *mut brook_config,
    dir: *const c_char,
) -> brook_status {
    set(config, |c| {
        c.spool.dir = match optional(dir) {
            None => None,
            Some(_) => {
                let d = str_arg(dir, "dir")?;
                if d.is_empty() {
                    return Err(Failure::invalid("dir is empty"));
                }
                Some(d.into())
            }
        };
        Ok(())
    })
}

/// Sets the most bytes the spool's files may take (`brook.spool.max-size`): at least 65536;
/// default 1073741824 (1 GiB). What happens when it is reached is the spool policy.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `config` is NULL, BROOK_STATUS_INVALID_ARGUMENT if
/// `bytes` is below 65536.
#[unsafe(no_mangle)]
pub extern "C" fn brook_config_set_spool_max_size(
    config: *mut brook_config,
    bytes: u64,
) -> brook_status {
    set(config, |c| {
        let min = crate::endpoint::SpoolOptions::MIN_MAX_SIZE;
        if bytes < min {
            return Err(Failure::invalid(format!(
                "the spool's size must be at least {min} bytes, not {bytes}"
            )));
        }
        c.spool.max_size = bytes;
        Ok(())
    })
}

/// Sets what a full spool does (`brook.spool.policy`): a brook_spool_policy. Default
/// BROOK_SPOOL_POLICY_BLOCK.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `config` is NULL, BROOK_STATUS_INVALID_ARGUMENT if
/// `policy` is unknown.
#[unsafe(no_mangle)]
pub extern "C" fn brook_config_set_spool_policy(
    config: *mut brook_config,
    policy: u32,
) -> brook_status {
    set(config, |c| {
        c.spool.policy = enum_arg(policy, &SPOOL_POLICIES, "policy")?;
        Ok(())
    })
}

/// Sets the topic prefixes the spool takes (`brook.spool.topics`): `len` strings at
/// `topics`, each a queue of its own, delivered in order (a message no peer wants holds
/// back those behind it in its queue, not those of other prefixes). With `len` 0, the
/// default, every topic is spooled, in one queue. Publications on other topics go to the
/// peers directly, as without a spool.
///
/// The strings are only read; the caller still owns them.
/// Returns BROOK_STATUS_NULL_ARGUMENT if `config` is NULL, or `topics` or one of its
/// strings is NULL while `len` is not 0; BROOK_STATUS_INVALID_ARGUMENT if a topic is empty
/// or not UTF-8.
#[unsafe(no_mangle)]
pub extern "C" fn brook_config_set_spool_topics(
    config: *mut brook_config,
    topics: *const *const c_char,
    len: usize,
) -> brook_status {
    set(config, |c| {
        let mut out = Vec::with_capacity(len);
        if len > 0 {
            if topics.is_null() {
                return Err(Failure::new(
                    super::brook_status::NullArgument,
                    "topics is NULL",
                ));
            }
            // SAFETY: `topics` points to `len` pointers, by contract.
            let ptrs = unsafe { std::slice::from_raw_parts(topics, len) };
            for &t in ptrs {
                let t = str_arg(t, "topic")?;
                if t.is_empty() {
                    return Err(Failure::invalid("a topic is empty"));
                }
                out.push(t.as_bytes().to_vec());
            }
        }
        c.spool.topics = out;
        Ok(())
    })
}

/// With `fsync` true, a thread of the endpoint's `fdatasync`s the spool's files after each
/// turn of its reactor that wrote them (`brook.spool.fsync`), so that spooled messages
/// survive the machine crashing, not only the process dying; the reactor never waits for
/// the disk. Default false.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `config` is NULL.
#[unsafe(no_mangle)]
pub extern "C" fn brook_config_set_spool_fsync(
    config: *mut brook_config,
    fsync: bool,
) -> brook_status {
    set(config, |c| {
        c.spool.fsync = fsync;
        Ok(())
    })
}

/// Sets an option by its Broker name, such as `broker.ssl.cafile`, `broker.disable-ssl`
/// (`true`/`false`), `broker.peer-buffer-size` or `broker.metrics.port`, or by brook's own
/// for options Broker does not have (`brook.max-frame-size`, `brook.listen-backlog`); Rust's
/// `Config::set` lists them all.
///
/// The strings are only read; the caller still owns them.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_INVALID_ARGUMENT
/// for an unknown name or a value that does not parse (the message names the option).
#[unsafe(no_mangle)]
pub extern "C" fn brook_config_set(
    config: *mut brook_config,
    name: *const c_char,
    value: *const c_char,
) -> brook_status {
    set(config, |c| {
        let (name, value) = (str_arg(name, "name")?, str_arg(value, "value")?);
        Ok(c.set(name, value)?)
    })
}

/// Applies the settings of a configuration file in Broker's syntax (`broker.conf`: groups
/// in braces, `key = value`, `#` comments), each as brook_config_set() would. Keys brook does
/// not know are skipped: `*out_warnings` (which may be NULL if not wanted) receives one line
/// per skipped key, or NULL if there were none.
///
/// `path` is only read; the caller still owns it. Caller owns `*out_warnings`; free it
/// with brook_string_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if `config` or `path` is NULL,
/// BROOK_STATUS_INVALID_ARGUMENT if the file cannot be read, is not in this syntax, or has
/// a value that does not parse (the message names the file, the line and the key); the
/// config is then partly updated. Out-parameters are written only when the call returns
/// BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_config_read_file(
    config: *mut brook_config,
    path: *const c_char,
    out_warnings: *mut *mut c_char,
) -> brook_status {
    guard(|| {
        let c = arg_mut(config, "config")?;
        let path = str_arg(path, "path")?;
        let out_warnings = optional_out(out_warnings);
        let warnings = c.inner.read_file(path)?;
        if let Some(o) = out_warnings {
            o.write(if warnings.is_empty() {
                std::ptr::null_mut()
            } else {
                super::memory::string_into_raw(warnings.join("\n").as_bytes())
            });
        }
        Ok(())
    })
}

// --- Endpoint ---------------------------------------------------------------------------
