//! What an endpoint counts about itself ([`Metrics`]): kept on the reactor thread, read as a
//! snapshot with `Endpoint::metrics()`.

use super::status::PeerStatus;
use crate::wire::EndpointId;
use std::net::SocketAddr;
use std::time::Duration;

/// A snapshot of an endpoint's counters. Counters only grow; gauges (queued, connections)
/// are the values at the moment of the snapshot. `Metrics::to_prometheus` (in
/// `prometheus.rs`) renders it as the metrics listener serves it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metrics {
    pub endpoint: EndpointMetrics,
    pub listeners: Vec<ListenerMetrics>,
    pub peers: Vec<PeerMetrics>,
    pub subscribers: Vec<SubscriberMetrics>,
}

/// One listening socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenerMetrics {
    /// The transport it accepts: `tls` or `tcp`.
    pub transport: &'static str,
    /// What it serves: `broker` (peerings) or `metrics` (Prometheus scrapes).
    pub service: &'static str,
    pub port: u16,
}

/// The reactor's own counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EndpointMetrics {
    /// Turns of the reactor loop (one poll each).
    pub turns: u64,
    /// Turns started by an API thread's wake-up.
    pub wakeups: u64,
    /// Busy-poll episodes that found new work within the window, and those that did not.
    pub busy_poll_hits: u64,
    pub busy_poll_misses: u64,
    /// Frames taken from the publish queue (local publications and store commands sent).
    pub published: u64,
    /// Messages queued for peers whose connections ended before they were written (a
    /// peer cut off by its overflow policy, a lost connection): each such loss is also an
    /// error event.
    pub discarded: u64,
    /// Messages received from peers, by envelope type (Broker's
    /// `broker_processed_messages_total`, which counts the same five types).
    pub processed: Processed,
    /// Connections open now, in or past their handshake; and peered ones.
    pub connections: usize,
    pub peerings: usize,
    /// Attached store masters and clones.
    pub stores: usize,
    /// With a spool (`Config::spool`): messages written to it, sent from it to peers
    /// (again, after a peer was lost before writing them), dropped from it (`drop_oldest`,
    /// or too large), and damaged parts of its files skipped (a torn tail after a crash).
    pub spooled: u64,
    pub replayed: u64,
    pub spool_dropped: u64,
    pub spool_damaged: u64,
    /// Messages in the spool not yet delivered, and the bytes its files take (gauges).
    pub spool_records: u64,
    pub spool_bytes: u64,
}

/// Messages received from peers, by envelope type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Processed {
    pub data: u64,
    pub command: u64,
    pub routing_update: u64,
    pub ping: u64,
    pub pong: u64,
}

/// One connection's counters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerMetrics {
    /// Known once the handshake has told us.
    pub id: Option<EndpointId>,
    pub address: SocketAddr,
    /// The transport: `tls` or `tcp`.
    pub transport: &'static str,
    pub outbound: bool,
    pub status: PeerStatus,
    /// Frames and bytes of Broker's protocol (before TLS, if any) received and sent.
    pub frames_in: u64,
    pub bytes_in: u64,
    pub frames_out: u64,
    pub bytes_out: u64,
    /// Frames and bytes in its send buffer, not yet written.
    pub queued_frames: usize,
    pub queued_bytes: usize,
    /// Messages for it that its overflow policy dropped.
    pub dropped: u64,
    /// Since the socket last took bytes (or the connection started).
    pub idle: Duration,
}

/// One local subscriber's counters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriberMetrics {
    /// Unique within the endpoint.
    pub id: u64,
    pub topics: Vec<Vec<u8>>,
    /// Messages waiting in its queue.
    pub queued: usize,
    /// Messages handed to its queue, in all (those its overflow policy dropped included).
    pub delivered: u64,
    /// Messages its overflow policy dropped.
    pub dropped: u64,
}
