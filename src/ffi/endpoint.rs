//! `brook_config` and `brook_endpoint`: options, an endpoint's life (start, shutdown, free),
//! listening and peering, the peer and subscription lists, and publishing.
//!
//! An endpoint is shared between C threads, so every call reaches it through a shared
//! reference (`arg`, never `arg_mut`): `Endpoint`'s methods all take `&self`. Calls that wait
//! for the reactor (peer, publish, flush) return `BROOK_STATUS_CLOSED` when another thread
//! shuts the endpoint down meanwhile, because the reactor's channels then disconnect.

use std::ffi::{CString, c_char};
use std::net::SocketAddr;
use std::time::Duration;

use super::data::{brook_data, values_arg};
use super::event::brook_event;
use super::memory::string_into_raw;
use super::{
    Failure, FfiResult, arg, arg_mut, brook_status, bytes_arg, cstr_arg, enum_arg, guard, guard_or,
    optional, optional_out, out, str_arg,
};
use crate::endpoint::{Config, Endpoint, OverflowPolicy, PeerInfo, PeerStatus};
use crate::wire::EndpointId;

// --- Config -----------------------------------------------------------------------------

/// Options for brook_endpoint_new(): buffer sizes, overflow policies, timeouts and
/// forwarding. A new config holds brook's defaults, which are Broker's where Broker has one.
///
/// Use from one thread at a time. Free with brook_config_free().
pub struct brook_config {
    inner: Config,
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

/// Sets what happens to a peer whose send buffer is full and that has taken nothing for the
/// peer stall timeout (Broker's `broker.peer-overflow-policy`): a brook_overflow_policy
/// other than BROOK_OVERFLOW_POLICY_BLOCK. Default BROOK_OVERFLOW_POLICY_DISCONNECT.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `config` is NULL, BROOK_STATUS_INVALID_ARGUMENT if
/// `policy` is unknown or BROOK_OVERFLOW_POLICY_BLOCK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_config_set_peer_overflow_policy(
    config: *mut brook_config,
    policy: u32,
) -> brook_status {
    set(config, |c| {
        let p = enum_arg(policy, &POLICIES, "policy")?;
        // Blocking would hold up every publisher for one stuck peer; the stall timeout
        // exists to decide that peer's fate instead.
        if p == OverflowPolicy::Block {
            return Err(Failure::invalid(
                "policy: block applies to subscribers only, not to peers",
            ));
        }
        c.peer_overflow_policy = p;
        Ok(())
    })
}

/// Sets how long (in milliseconds) a peer with a full send buffer may go without taking any
/// bytes before its overflow policy applies. Default 10000.
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

/// Sets the largest frame, in bytes, accepted from a peer; a longer one ends that peering.
/// From 1 to 4294967295; default 16777216 (16 MiB).
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `config` is NULL, BROOK_STATUS_INVALID_ARGUMENT if
/// `size` is out of range.
#[unsafe(no_mangle)]
pub extern "C" fn brook_config_set_max_frame_size(
    config: *mut brook_config,
    size: usize,
) -> brook_status {
    set(config, |c| {
        // A frame's length travels as 32 bits.
        if size == 0 || u32::try_from(size).is_err() {
            return Err(Failure::invalid(format!(
                "the maximum frame size must be from 1 to {}, not {size}",
                u32::MAX
            )));
        }
        c.max_frame_size = size;
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

// --- Endpoint ---------------------------------------------------------------------------

/// An endpoint: one reactor thread with its listeners, peers and subscriptions.
///
/// Safe to share between threads. Free with brook_endpoint_free().
pub struct brook_endpoint {
    pub(crate) inner: Endpoint,
}

/// The endpoint behind a pointer from C.
pub(crate) fn endpoint<'a>(ep: *const brook_endpoint) -> FfiResult<&'a Endpoint> {
    Ok(&arg(ep, "endpoint")?.inner)
}

/// Starts an endpoint, with a fresh random ID, and its reactor thread. `config` may be NULL
/// for the defaults; the endpoint keeps a copy of it.
///
/// Caller owns the result; free it with brook_endpoint_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if `out_endpoint` is NULL, BROOK_STATUS_IO if the
/// thread or its poller cannot be made. Out-parameters are written only when the call
/// returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_new(
    config: *const brook_config,
    out_endpoint: *mut *mut brook_endpoint,
) -> brook_status {
    guard(|| {
        let out_endpoint = out(out_endpoint, "out_endpoint")?;
        let config = optional(config).map_or_else(Config::default, |c| c.inner.clone());
        let inner = Endpoint::new(config)?;
        out_endpoint.write(Box::into_raw(Box::new(brook_endpoint { inner })));
        Ok(())
    })
}

/// Stops the endpoint: says goodbye to every peer (waiting up to the unpeer timeout for
/// their answers), sends what is queued, and ends the reactor thread. Calling it again
/// does nothing.
///
/// Afterwards every call on the endpoint except brook_endpoint_id() returns
/// BROOK_STATUS_CLOSED, and so do calls that other threads are waiting in (peer, publish,
/// flush, brook_subscriber_next(), ...). Subscribers stay valid: they hand out what they
/// hold, then return BROOK_STATUS_CLOSED.
/// Returns BROOK_STATUS_NULL_ARGUMENT if `endpoint` is NULL.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_shutdown(endpoint: *mut brook_endpoint) -> brook_status {
    guard(|| {
        self::endpoint(endpoint)?.shutdown();
        Ok(())
    })
}

/// Shuts the endpoint down as brook_endpoint_shutdown() does, then frees it. NULL does
/// nothing. Its subscribers stay valid and must still be freed.
///
/// Consumes `endpoint`: do not use or free it afterwards. No other thread may be using it:
/// to release threads that wait in it, call brook_endpoint_shutdown() first and free it
/// once they have returned.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_free(endpoint: *mut brook_endpoint) {
    guard_or((), || {
        if !endpoint.is_null() {
            // SAFETY: `endpoint` came from `brook_endpoint_new`, by contract.
            drop(unsafe { Box::from_raw(endpoint) });
        }
    })
}

/// Copies the endpoint's ID, 16 bytes, to `out_id16`. Works after shutdown too.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_id(
    endpoint: *const brook_endpoint,
    out_id16: *mut u8,
) -> brook_status {
    guard(|| {
        let id = self::endpoint(endpoint)?.id();
        out(out_id16.cast::<[u8; 16]>(), "out_id16")?.write(id.0);
        Ok(())
    })
}

/// Renders a 16-byte endpoint ID (from brook_endpoint_id(), brook_endpoint_peer(), a peer
/// list or a status event) as Broker does: `8-4-4-4-12` lowercase hex digits, such as
/// `"0b1d5e6c-7a3f-4d2e-9c1b-2f3e4d5c6b7a"`.
///
/// Caller owns the result; free it with brook_string_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_id_to_string(id16: *const u8, out_str: *mut *mut c_char) -> brook_status {
    guard(|| {
        let id = id_arg(id16, "id16")?;
        let out_str = out(out_str, "out_str")?;
        out_str.write(string_into_raw(id.to_string().as_bytes()));
        Ok(())
    })
}

fn id_arg(id16: *const u8, name: &str) -> FfiResult<EndpointId> {
    let bytes = bytes_arg(id16, 16, name)?;
    let mut id = [0u8; 16];
    id.copy_from_slice(bytes);
    Ok(EndpointId(id))
}

/// Listens for peers on `address` (an IP address or a host name; `"0.0.0.0"` or `"::"` for
/// every interface) and `port`, 0 for any free port. `*out_port` (which may be NULL if not
/// wanted) receives the port bound.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `endpoint` or `address` is NULL,
/// BROOK_STATUS_INVALID_ARGUMENT if `address` does not resolve, BROOK_STATUS_IO if the port
/// cannot be bound, BROOK_STATUS_CLOSED after shutdown. Out-parameters are written only
/// when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_listen(
    endpoint: *mut brook_endpoint,
    address: *const c_char,
    port: u16,
    out_port: *mut u16,
) -> brook_status {
    guard(|| {
        let ep = self::endpoint(endpoint)?;
        let address = str_arg(address, "address")?;
        let out_port = optional_out(out_port);
        let bound = ep.listen(address, port)?;
        if let Some(o) = out_port {
            o.write(bound);
        }
        Ok(())
    })
}

/// Peers with the endpoint listening at `host` and `port`, and waits until the handshake
/// has succeeded or failed (at most the handshake timeout plus 5 seconds). With a non-zero
/// `retry_ms`, brook keeps retrying a failed or lost peering in the background at that
/// interval; this call still reports the first attempt. `out_peer_id16` (which may be NULL
/// if not wanted) receives the peer's 16-byte ID.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `endpoint` or `host` is NULL,
/// BROOK_STATUS_INVALID_ARGUMENT if `host` does not resolve, BROOK_STATUS_PEER_UNAVAILABLE
/// if nobody answers or the handshake fails, BROOK_STATUS_TIMEOUT if the wait ends first,
/// BROOK_STATUS_CLOSED if the endpoint is or gets shut down. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_peer(
    endpoint: *mut brook_endpoint,
    host: *const c_char,
    port: u16,
    retry_ms: u32,
    out_peer_id16: *mut u8,
) -> brook_status {
    guard(|| {
        let ep = self::endpoint(endpoint)?;
        let host = str_arg(host, "host")?;
        let out_id = optional_out(out_peer_id16.cast::<[u8; 16]>());
        let id = ep.peer(host, port, Duration::from_millis(retry_ms.into()))?;
        if let Some(o) = out_id {
            o.write(id.0);
        }
        Ok(())
    })
}

/// Like brook_endpoint_peer(), but returns at once. The outcome arrives as a status event:
/// peer_added, or the error peer_unavailable.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_INVALID_ARGUMENT
/// if `host` does not resolve, BROOK_STATUS_CLOSED after shutdown.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_peer_nosync(
    endpoint: *mut brook_endpoint,
    host: *const c_char,
    port: u16,
    retry_ms: u32,
) -> brook_status {
    guard(|| {
        let ep = self::endpoint(endpoint)?;
        let host = str_arg(host, "host")?;
        Ok(ep.peer_nosync(host, port, Duration::from_millis(retry_ms.into()))?)
    })
}

/// Ends the peering with `host` and `port`, as given to brook_endpoint_peer(), and stops
/// retrying it. Returns once the goodbye is on its way.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_INVALID_ARGUMENT
/// if `host` does not resolve or there is no such peering, BROOK_STATUS_CLOSED after
/// shutdown.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_unpeer(
    endpoint: *mut brook_endpoint,
    host: *const c_char,
    port: u16,
) -> brook_status {
    guard(|| {
        let ep = self::endpoint(endpoint)?;
        let host = str_arg(host, "host")?;
        Ok(ep.unpeer(host, port)?)
    })
}

// --- Peer list --------------------------------------------------------------------------

/// How far a peering has come.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum brook_peer_status {
    /// Connecting, or in the handshake.
    Connecting = 0,
    /// The handshake is complete; messages flow.
    Peered = 1,
    /// Lost or failed; a retry is scheduled.
    Reconnecting = 2,
}

impl From<PeerStatus> for brook_peer_status {
    fn from(s: PeerStatus) -> brook_peer_status {
        match s {
            PeerStatus::Connecting => brook_peer_status::Connecting,
            PeerStatus::Peered => brook_peer_status::Peered,
            PeerStatus::Reconnecting => brook_peer_status::Reconnecting,
        }
    }
}

/// One peer, with its address as C text.
struct Peer {
    info: PeerInfo,
    ip: CString,
}

/// A snapshot of an endpoint's peerings, from brook_endpoint_peers(). Read it by index,
/// from 0 to brook_peer_list_len() - 1.
///
/// Use from one thread at a time. Free with brook_peer_list_free().
pub struct brook_peer_list {
    peers: Vec<Peer>,
}

/// Lists the endpoint's peerings and peering attempts, in both directions.
///
/// Caller owns the result; free it with brook_peer_list_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_CLOSED after
/// shutdown. Out-parameters are written only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_peers(
    endpoint: *const brook_endpoint,
    out_list: *mut *mut brook_peer_list,
) -> brook_status {
    guard(|| {
        let ep = self::endpoint(endpoint)?;
        let out_list = out(out_list, "out_list")?;
        let peers = ep
            .peers()?
            .into_iter()
            .map(|info| Peer {
                ip: ip_text(&info.address),
                info,
            })
            .collect();
        out_list.write(Box::into_raw(Box::new(brook_peer_list { peers })));
        Ok(())
    })
}

/// An address's IP as C text (IPv6 without brackets).
pub(crate) fn ip_text(a: &SocketAddr) -> CString {
    // An IP address never renders with a NUL byte.
    CString::new(a.ip().to_string()).unwrap_or_default()
}

fn peer_at<'a>(list: *const brook_peer_list, index: usize) -> FfiResult<&'a Peer> {
    let peers = &arg(list, "list")?.peers;
    peers.get(index).ok_or_else(|| {
        Failure::new(
            brook_status::OutOfRange,
            format!(
                "index {index} is out of range for a list of {} peers",
                peers.len()
            ),
        )
    })
}

/// The number of peers in the list.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_peer_list_len(
    list: *const brook_peer_list,
    out_len: *mut usize,
) -> brook_status {
    guard(|| {
        let n = arg(list, "list")?.peers.len();
        out(out_len, "out_len")?.write(n);
        Ok(())
    })
}

/// Copies the 16-byte ID of the peer at `index` to `out_id16`. `*out_known` (which may be
/// NULL if not wanted) tells whether the ID is known yet: it is once a handshake has given
/// it. An unknown ID is all zeros.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `list` or `out_id16` is NULL,
/// BROOK_STATUS_OUT_OF_RANGE if `index` is not below the list's length. Out-parameters are
/// written only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_peer_list_id(
    list: *const brook_peer_list,
    index: usize,
    out_id16: *mut u8,
    out_known: *mut bool,
) -> brook_status {
    guard(|| {
        let p = peer_at(list, index)?;
        let out_id = out(out_id16.cast::<[u8; 16]>(), "out_id16")?;
        let out_known = optional_out(out_known);
        out_id.write(p.info.id.unwrap_or_default().0);
        if let Some(o) = out_known {
            o.write(p.info.id.is_some());
        }
        Ok(())
    })
}

/// The network address of the peer at `index`: its IP as text (such as `"127.0.0.1"` or
/// `"::1"`) in `*out_ip`, and its TCP port in `*out_port` (which may be NULL if not wanted).
/// For a peer that connected to us, the port is its side of the connection.
///
/// Borrowed: `*out_ip` is valid until `list` is freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if `list` or `out_ip` is NULL,
/// BROOK_STATUS_OUT_OF_RANGE if `index` is not below the list's length. Out-parameters are
/// written only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_peer_list_address(
    list: *const brook_peer_list,
    index: usize,
    out_ip: *mut *const c_char,
    out_port: *mut u16,
) -> brook_status {
    guard(|| {
        let p = peer_at(list, index)?;
        let out_ip = out(out_ip, "out_ip")?;
        let out_port = optional_out(out_port);
        out_ip.write(p.ip.as_ptr());
        if let Some(o) = out_port {
            o.write(p.info.address.port());
        }
        Ok(())
    })
}

/// Whether this endpoint made the peering at `index` (with brook_endpoint_peer()) rather
/// than accepted it. Only outbound peerings are retried.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_OUT_OF_RANGE if
/// `index` is not below the list's length. Out-parameters are written only when the call
/// returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_peer_list_outbound(
    list: *const brook_peer_list,
    index: usize,
    out_outbound: *mut bool,
) -> brook_status {
    guard(|| {
        let p = peer_at(list, index)?;
        out(out_outbound, "out_outbound")?.write(p.info.outbound);
        Ok(())
    })
}

/// How many messages for the peer at `index` its overflow policy (drop_newest or
/// drop_oldest) dropped because the peer did not keep up. Each run of drops is also
/// reported on the status subscribers, when it starts and when it ends.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_OUT_OF_RANGE if
/// `index` is not below the list's length. Out-parameters are written only when the call
/// returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_peer_list_dropped(
    list: *const brook_peer_list,
    index: usize,
    out_n: *mut u64,
) -> brook_status {
    guard(|| {
        let p = peer_at(list, index)?;
        out(out_n, "out_n")?.write(p.info.dropped);
        Ok(())
    })
}

/// How far the peering at `index` has come.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_OUT_OF_RANGE if
/// `index` is not below the list's length. Out-parameters are written only when the call
/// returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_peer_list_status(
    list: *const brook_peer_list,
    index: usize,
    out_status: *mut brook_peer_status,
) -> brook_status {
    guard(|| {
        let p = peer_at(list, index)?;
        out(out_status, "out_status")?.write(p.info.status.into());
        Ok(())
    })
}

/// Frees a peer list. NULL does nothing.
///
/// Consumes `list`: do not use or free it afterwards, nor the addresses borrowed from it.
#[unsafe(no_mangle)]
pub extern "C" fn brook_peer_list_free(list: *mut brook_peer_list) {
    guard_or((), || {
        if !list.is_null() {
            // SAFETY: `list` came from `brook_endpoint_peers`, by contract.
            drop(unsafe { Box::from_raw(list) });
        }
    })
}

// --- Topic list -------------------------------------------------------------------------

/// A sorted list of topics, from brook_endpoint_peer_subscriptions(). Read it by index,
/// from 0 to brook_topic_list_len() - 1.
///
/// Use from one thread at a time. Free with brook_topic_list_free().
pub struct brook_topic_list {
    topics: Vec<Vec<u8>>,
}

/// Lists the topic prefixes that the endpoint's peers subscribed to (the union of their
/// filters), sorted. A message published on a topic that starts with one of them goes out.
///
/// Caller owns the result; free it with brook_topic_list_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_CLOSED after
/// shutdown. Out-parameters are written only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_peer_subscriptions(
    endpoint: *const brook_endpoint,
    out_list: *mut *mut brook_topic_list,
) -> brook_status {
    guard(|| {
        let ep = self::endpoint(endpoint)?;
        let out_list = out(out_list, "out_list")?;
        let topics = ep.peer_subscriptions()?;
        out_list.write(Box::into_raw(Box::new(brook_topic_list { topics })));
        Ok(())
    })
}

/// The number of topics in the list.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_topic_list_len(
    list: *const brook_topic_list,
    out_len: *mut usize,
) -> brook_status {
    guard(|| {
        let n = arg(list, "list")?.topics.len();
        out(out_len, "out_len")?.write(n);
        Ok(())
    })
}

/// The topic at `index`: `*out_buf` points at its `*out_len` bytes, which are not
/// NUL-terminated.
///
/// Borrowed: valid until `list` is freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_OUT_OF_RANGE if
/// `index` is not below the list's length. Out-parameters are written only when the call
/// returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_topic_list_get(
    list: *const brook_topic_list,
    index: usize,
    out_buf: *mut *const u8,
    out_len: *mut usize,
) -> brook_status {
    guard(|| {
        let topics = &arg(list, "list")?.topics;
        let (out_buf, out_len) = (out(out_buf, "out_buf")?, out(out_len, "out_len")?);
        let t = topics.get(index).ok_or_else(|| {
            Failure::new(
                brook_status::OutOfRange,
                format!(
                    "index {index} is out of range for a list of {} topics",
                    topics.len()
                ),
            )
        })?;
        out_buf.write(t.as_ptr());
        out_len.write(t.len());
        Ok(())
    })
}

/// Frees a topic list. NULL does nothing.
///
/// Consumes `list`: do not use or free it afterwards, nor the topics borrowed from it.
#[unsafe(no_mangle)]
pub extern "C" fn brook_topic_list_free(list: *mut brook_topic_list) {
    guard_or((), || {
        if !list.is_null() {
            // SAFETY: `list` came from `brook_endpoint_peer_subscriptions`, by contract.
            drop(unsafe { Box::from_raw(list) });
        }
    })
}

// --- Publishing -------------------------------------------------------------------------

/// Adds `topic` to the topics the endpoint subscribes to on its peers without a local
/// subscriber, so that messages on it reach this endpoint and it forwards them to its other
/// peers (Broker's `forward`).
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_CLOSED after
/// shutdown.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_forward(
    endpoint: *mut brook_endpoint,
    topic: *const c_char,
) -> brook_status {
    guard(|| {
        let ep = self::endpoint(endpoint)?;
        let topic = cstr_arg(topic, "topic")?;
        Ok(ep.forward(&[topic])?)
    })
}

/// Runs a publish call once the endpoint and the topic are checked.
fn publish(
    endpoint: *mut brook_endpoint,
    topic: *const c_char,
    send: impl FnOnce(&Endpoint, &[u8]) -> crate::Result<()>,
) -> FfiResult {
    let ep = self::endpoint(endpoint)?;
    let topic = cstr_arg(topic, "topic")?;
    Ok(send(ep, topic)?)
}

/// Publishes a copy of `value` on `topic` to the peers subscribed to it. As in Broker, the
/// endpoint's own subscribers do not receive it (brook_endpoint_publish_to() with the
/// endpoint's own ID reaches them). Waits while the publish queue is full, which is how slow
/// peers and their subscribers hold publishers back.
///
/// `value` is only read; the caller still owns it. Safe to call from several threads at
/// once.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_INVALID_ARGUMENT
/// if `topic` is empty, BROOK_STATUS_ENCODE_ERROR if `value` cannot be encoded,
/// BROOK_STATUS_CLOSED if the endpoint is or gets shut down.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_publish(
    endpoint: *mut brook_endpoint,
    topic: *const c_char,
    value: *const brook_data,
) -> brook_status {
    guard(|| {
        let value = &arg(value, "value")?.inner;
        publish(endpoint, topic, |ep, t| ep.publish(t, value))
    })
}

/// Like brook_endpoint_publish(), but returns BROOK_STATUS_WOULD_BLOCK instead of waiting
/// when the publish queue is full. The value is then not published.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_try_publish(
    endpoint: *mut brook_endpoint,
    topic: *const c_char,
    value: *const brook_data,
) -> brook_status {
    guard(|| {
        let value = &arg(value, "value")?.inner;
        publish(endpoint, topic, |ep, t| ep.try_publish(t, value))
    })
}

/// Publishes copies of the `n` values `values[0]` to `values[n - 1]` on `topic`, in that
/// order, handing them to the reactor at once: far cheaper per value than one
/// brook_endpoint_publish() each. Waits while the publish queue is full. `values` may be
/// NULL when `n` is 0.
///
/// The values are only read; the caller still owns them. If the call fails, none of them
/// is published.
/// Returns BROOK_STATUS_NULL_ARGUMENT if `endpoint`, `topic`, `values` or one of its
/// elements is NULL (the message names the index), BROOK_STATUS_INVALID_ARGUMENT if `topic`
/// is empty, BROOK_STATUS_ENCODE_ERROR if a value cannot be encoded, BROOK_STATUS_CLOSED if
/// the endpoint is or gets shut down.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_publish_batch(
    endpoint: *mut brook_endpoint,
    topic: *const c_char,
    values: *const *const brook_data,
    n: usize,
) -> brook_status {
    guard(|| {
        let values = values_arg(values, n)?;
        publish(endpoint, topic, |ep, t| ep.publish_batch(t, &values))
    })
}

/// Publishes a Zeek event on `topic`, as brook_endpoint_publish() publishes a value (waiting
/// while the publish queue is full). A Zeek node subscribed to `topic` raises the event.
///
/// `event` is only read; the caller still owns it.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_INVALID_ARGUMENT
/// if `topic` is empty, BROOK_STATUS_ENCODE_ERROR if the event cannot be encoded,
/// BROOK_STATUS_CLOSED if the endpoint is or gets shut down.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_publish_event(
    endpoint: *mut brook_endpoint,
    topic: *const c_char,
    event: *const brook_event,
) -> brook_status {
    guard(|| {
        let event = &arg(event, "event")?.inner;
        publish(endpoint, topic, |ep, t| ep.publish_event(t, event))
    })
}

/// Sends a copy of `value` on `topic` to the directly connected peer whose 16-byte ID is
/// `receiver_id16` only, whatever it subscribed to. Waits while the publish queue is full.
/// A message for an endpoint that is not a peer is dropped.
///
/// `value` is only read; the caller still owns it.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_INVALID_ARGUMENT
/// if `topic` is empty, BROOK_STATUS_ENCODE_ERROR if `value` cannot be encoded,
/// BROOK_STATUS_CLOSED if the endpoint is or gets shut down.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_publish_to(
    endpoint: *mut brook_endpoint,
    receiver_id16: *const u8,
    topic: *const c_char,
    value: *const brook_data,
) -> brook_status {
    guard(|| {
        let receiver = id_arg(receiver_id16, "receiver_id16")?;
        let value = &arg(value, "value")?.inner;
        publish(endpoint, topic, |ep, t| ep.publish_to(receiver, t, value))
    })
}

/// Waits until everything published so far has been handed to the peers' sockets.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if `endpoint` is NULL, BROOK_STATUS_TIMEOUT if that
/// takes longer than 30 seconds, BROOK_STATUS_CLOSED if the endpoint is or gets shut down.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_flush(endpoint: *mut brook_endpoint) -> brook_status {
    guard(|| Ok(self::endpoint(endpoint)?.flush()?))
}
