//! `brook_metrics`: a snapshot of an endpoint's counters (its reactor's, each connection's
//! and each local subscriber's), read by index like `brook_peer_list`, and its Prometheus
//! text.

use std::ffi::{CString, c_char};

use super::endpoint::{brook_endpoint, endpoint};
use super::memory::ip_text;
use super::peers::brook_peer_status;
use super::{Failure, FfiResult, arg, brook_status, enum_arg, guard, guard_or, optional_out, out};
use crate::endpoint::{Metrics, PeerMetrics, SubscriberMetrics};

/// The endpoint-wide counters of a `brook_metrics`. Passed into brook as a `uint32_t`;
/// unknown numbers give BROOK_STATUS_INVALID_ARGUMENT.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum brook_endpoint_counter {
    /// Turns of the reactor loop (one poll each).
    Turns = 0,
    /// Turns started by an API thread waking the reactor.
    Wakeups = 1,
    /// Busy-poll episodes that found new work within the window.
    BusyPollHits = 2,
    /// Busy-poll episodes that did not.
    BusyPollMisses = 3,
    /// Frames taken from the publish queue (publications and store commands).
    Published = 4,
    /// Messages received from peers, by envelope type.
    ProcessedData = 5,
    ProcessedCommand = 6,
    ProcessedRoutingUpdate = 7,
    ProcessedPing = 8,
    ProcessedPong = 9,
    /// Connections open now (in or past their handshake).
    Connections = 10,
    /// Connections past their handshake.
    Peerings = 11,
    /// Listening sockets.
    Listeners = 12,
    /// Attached store masters and clones.
    Stores = 13,
    /// Messages queued for peers whose connections ended before they were written.
    Discarded = 14,
    /// With a spool (brook_config_set_spool_dir()): messages written to it.
    Spooled = 15,
    /// Messages sent from the spool to peers (again, after a peer was lost before its
    /// kernel acknowledged them).
    Replayed = 16,
    /// Messages dropped from the spool: by BROOK_SPOOL_POLICY_DROP_OLDEST, or too large.
    SpoolDropped = 17,
    /// Damaged parts of spool files skipped (a torn tail after a crash, corruption).
    SpoolDamaged = 18,
    /// Messages in the spool not yet delivered (a gauge).
    SpoolRecords = 19,
    /// Bytes the spool's files take (a gauge).
    SpoolBytes = 20,
}

const ENDPOINT_COUNTERS: [(u32, brook_endpoint_counter); 21] = {
    use brook_endpoint_counter::*;
    [
        (0, Turns),
        (1, Wakeups),
        (2, BusyPollHits),
        (3, BusyPollMisses),
        (4, Published),
        (5, ProcessedData),
        (6, ProcessedCommand),
        (7, ProcessedRoutingUpdate),
        (8, ProcessedPing),
        (9, ProcessedPong),
        (10, Connections),
        (11, Peerings),
        (12, Listeners),
        (13, Stores),
        (14, Discarded),
        (15, Spooled),
        (16, Replayed),
        (17, SpoolDropped),
        (18, SpoolDamaged),
        (19, SpoolRecords),
        (20, SpoolBytes),
    ]
};

/// The counters of one connection in a `brook_metrics`. Passed into brook as a `uint32_t`;
/// unknown numbers give BROOK_STATUS_INVALID_ARGUMENT.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum brook_peer_counter {
    FramesIn = 0,
    BytesIn = 1,
    FramesOut = 2,
    BytesOut = 3,
    /// Frames and bytes in its send buffer, not yet written.
    QueuedFrames = 4,
    QueuedBytes = 5,
    /// Messages for it that its overflow policy dropped.
    Dropped = 6,
    /// Milliseconds since its socket last took bytes.
    IdleMs = 7,
}

const PEER_COUNTERS: [(u32, brook_peer_counter); 8] = {
    use brook_peer_counter::*;
    [
        (0, FramesIn),
        (1, BytesIn),
        (2, FramesOut),
        (3, BytesOut),
        (4, QueuedFrames),
        (5, QueuedBytes),
        (6, Dropped),
        (7, IdleMs),
    ]
};

/// The counters of one local subscriber in a `brook_metrics`. Passed into brook as a
/// `uint32_t`; unknown numbers give BROOK_STATUS_INVALID_ARGUMENT.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum brook_subscriber_counter {
    /// Unique within the endpoint.
    Id = 0,
    /// Messages waiting in its queue.
    Queued = 1,
    /// Messages handed to its queue, in all.
    Delivered = 2,
    /// Messages its overflow policy dropped.
    Dropped = 3,
}

const SUBSCRIBER_COUNTERS: [(u32, brook_subscriber_counter); 4] = {
    use brook_subscriber_counter::*;
    [(0, Id), (1, Queued), (2, Delivered), (3, Dropped)]
};

/// A snapshot of an endpoint's counters, from brook_endpoint_metrics(). Counters only grow
/// between snapshots; gauges (queued, connections) are the values at the moment it was
/// taken. Peers and subscribers are read by index, from 0 to the length - 1.
///
/// Use from one thread at a time. Free with brook_metrics_free().
pub struct brook_metrics {
    inner: Metrics,
    ips: Vec<CString>,
    text: CString,
}

/// Takes a snapshot of the endpoint's counters.
///
/// Caller owns the result; free it with brook_metrics_free().
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_CLOSED after
/// shutdown. Out-parameters are written only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_metrics(
    endpoint: *const brook_endpoint,
    out_metrics: *mut *mut brook_metrics,
) -> brook_status {
    guard(|| {
        let ep = self::endpoint(endpoint)?;
        let out_metrics = out(out_metrics, "out_metrics")?;
        let inner = ep.metrics()?;
        let ips = inner.peers.iter().map(|p| ip_text(&p.address)).collect();
        let text = inner.to_prometheus();
        // The exposition is ASCII and label values are escaped: no NUL byte.
        let text = CString::new(text).unwrap_or_default();
        out_metrics.write(Box::into_raw(Box::new(brook_metrics { inner, ips, text })));
        Ok(())
    })
}

/// The port the endpoint serves its metrics on (see brook_config_set_metrics_port()), or
/// -1 in `*out_port` when it serves none.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_endpoint_metrics_port(
    endpoint: *const brook_endpoint,
    out_port: *mut i32,
) -> brook_status {
    guard(|| {
        let ep = self::endpoint(endpoint)?;
        let port = ep.metrics_port().map_or(-1, i32::from);
        out(out_port, "out_port")?.write(port);
        Ok(())
    })
}

/// One endpoint-wide counter (a `brook_endpoint_counter`).
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL,
/// BROOK_STATUS_INVALID_ARGUMENT for an unknown counter. Out-parameters are written only
/// when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_metrics_endpoint(
    metrics: *const brook_metrics,
    counter: u32,
    out_value: *mut u64,
) -> brook_status {
    use brook_endpoint_counter::*;
    guard(|| {
        let m = &arg(metrics, "metrics")?.inner;
        let e = &m.endpoint;
        let c = enum_arg(counter, &ENDPOINT_COUNTERS, "counter")?;
        let out_value = out(out_value, "out_value")?;
        let p = e.processed;
        out_value.write(match c {
            Turns => e.turns,
            Wakeups => e.wakeups,
            BusyPollHits => e.busy_poll_hits,
            BusyPollMisses => e.busy_poll_misses,
            Published => e.published,
            ProcessedData => p.data,
            ProcessedCommand => p.command,
            ProcessedRoutingUpdate => p.routing_update,
            ProcessedPing => p.ping,
            ProcessedPong => p.pong,
            Connections => e.connections as u64,
            Peerings => e.peerings as u64,
            Listeners => m.listeners.len() as u64,
            Stores => e.stores as u64,
            Discarded => e.discarded,
            Spooled => e.spooled,
            Replayed => e.replayed,
            SpoolDropped => e.spool_dropped,
            SpoolDamaged => e.spool_damaged,
            SpoolRecords => e.spool_records,
            SpoolBytes => e.spool_bytes,
        });
        Ok(())
    })
}

/// The number of connections in the snapshot.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_metrics_peers_len(
    metrics: *const brook_metrics,
    out_len: *mut usize,
) -> brook_status {
    guard(|| {
        let n = arg(metrics, "metrics")?.inner.peers.len();
        out(out_len, "out_len")?.write(n);
        Ok(())
    })
}

fn at<'a, T>(items: &'a [T], index: usize, what: &str) -> FfiResult<&'a T> {
    items.get(index).ok_or_else(|| {
        let n = items.len();
        Failure::new(
            brook_status::OutOfRange,
            format!("index {index} is out of range for {n} {what}"),
        )
    })
}

fn peer_at<'a>(metrics: *const brook_metrics, index: usize) -> FfiResult<&'a PeerMetrics> {
    at(&arg(metrics, "metrics")?.inner.peers, index, "peers")
}

/// One counter (a `brook_peer_counter`) of the connection at `index`.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_OUT_OF_RANGE if
/// `index` is not below brook_metrics_peers_len(), BROOK_STATUS_INVALID_ARGUMENT for an
/// unknown counter. Out-parameters are written only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_metrics_peer(
    metrics: *const brook_metrics,
    index: usize,
    counter: u32,
    out_value: *mut u64,
) -> brook_status {
    use brook_peer_counter::*;
    guard(|| {
        let p = peer_at(metrics, index)?;
        let c = enum_arg(counter, &PEER_COUNTERS, "counter")?;
        let out_value = out(out_value, "out_value")?;
        out_value.write(match c {
            FramesIn => p.frames_in,
            BytesIn => p.bytes_in,
            FramesOut => p.frames_out,
            BytesOut => p.bytes_out,
            QueuedFrames => p.queued_frames as u64,
            QueuedBytes => p.queued_bytes as u64,
            Dropped => p.dropped,
            IdleMs => p.idle.as_millis().min(u64::MAX as u128) as u64,
        });
        Ok(())
    })
}

/// Who the connection at `index` is: its IP as text in `*out_ip`, its TCP port in
/// `*out_port`, its 16-byte ID in `out_id16` (all zeros until its handshake told it) and its
/// status in `*out_status`. Every out-parameter but `out_ip` may be NULL if not wanted.
///
/// Borrowed: `*out_ip` is valid until `metrics` is freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if `metrics` or `out_ip` is NULL,
/// BROOK_STATUS_OUT_OF_RANGE if `index` is not below brook_metrics_peers_len().
/// Out-parameters are written only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_metrics_peer_address(
    metrics: *const brook_metrics,
    index: usize,
    out_ip: *mut *const c_char,
    out_port: *mut u16,
    out_id16: *mut u8,
    out_status: *mut brook_peer_status,
) -> brook_status {
    guard(|| {
        let p = peer_at(metrics, index)?;
        let ip = &arg(metrics, "metrics")?.ips[index];
        let out_ip = out(out_ip, "out_ip")?;
        let (out_port, out_status) = (optional_out(out_port), optional_out(out_status));
        let out_id = optional_out(out_id16.cast::<[u8; 16]>());
        out_ip.write(ip.as_ptr());
        if let Some(o) = out_port {
            o.write(p.address.port());
        }
        if let Some(o) = out_id {
            o.write(p.id.unwrap_or_default().0);
        }
        if let Some(o) = out_status {
            o.write(p.status.into());
        }
        Ok(())
    })
}

/// The number of local subscribers in the snapshot.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_metrics_subscribers_len(
    metrics: *const brook_metrics,
    out_len: *mut usize,
) -> brook_status {
    guard(|| {
        let n = arg(metrics, "metrics")?.inner.subscribers.len();
        out(out_len, "out_len")?.write(n);
        Ok(())
    })
}

fn subscriber_at<'a>(
    metrics: *const brook_metrics,
    index: usize,
) -> FfiResult<&'a SubscriberMetrics> {
    at(
        &arg(metrics, "metrics")?.inner.subscribers,
        index,
        "subscribers",
    )
}

/// One counter (a `brook_subscriber_counter`) of the local subscriber at `index`.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_OUT_OF_RANGE if
/// `index` is not below brook_metrics_subscribers_len(), BROOK_STATUS_INVALID_ARGUMENT for
/// an unknown counter. Out-parameters are written only when the call returns
/// BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_metrics_subscriber(
    metrics: *const brook_metrics,
    index: usize,
    counter: u32,
    out_value: *mut u64,
) -> brook_status {
    use brook_subscriber_counter::*;
    guard(|| {
        let s = subscriber_at(metrics, index)?;
        let c = enum_arg(counter, &SUBSCRIBER_COUNTERS, "counter")?;
        let out_value = out(out_value, "out_value")?;
        out_value.write(match c {
            Id => s.id,
            Queued => s.queued as u64,
            Delivered => s.delivered,
            Dropped => s.dropped,
        });
        Ok(())
    })
}

/// The snapshot in Prometheus' text format (version 0.0.4), as the metrics port serves it:
/// `*out_text` points at NUL-terminated text.
///
/// Borrowed: valid until `metrics` is freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL. Out-parameters are written
/// only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_metrics_text(
    metrics: *const brook_metrics,
    out_text: *mut *const c_char,
) -> brook_status {
    guard(|| {
        let m = arg(metrics, "metrics")?;
        out(out_text, "out_text")?.write(m.text.as_ptr());
        Ok(())
    })
}

/// Frees a snapshot. NULL does nothing.
///
/// Consumes `metrics`: do not use or free it afterwards.
#[unsafe(no_mangle)]
pub extern "C" fn brook_metrics_free(metrics: *mut brook_metrics) {
    guard_or((), || {
        if !metrics.is_null() {
            // SAFETY: `metrics` came from `brook_endpoint_metrics`, by contract.
            drop(unsafe { Box::from_raw(metrics) });
        }
    })
}
