//! What an endpoint tells about its peers: `brook_peer_list` (each connection's address,
//! id, direction, status and drops) and `brook_topic_list` (what the peers subscribed to).

use std::ffi::{CString, c_char};

use super::endpoint::{brook_endpoint, endpoint};
use super::memory::ip_text;
use super::{Failure, FfiResult, arg, brook_status, guard, guard_or, optional_out, out};
use crate::endpoint::{PeerInfo, PeerStatus};

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
