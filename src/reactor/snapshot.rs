//! The snapshot of the reactor's counters (`Endpoint::metrics()`, the Prometheus
//! listener): its own, each connection's, each local subscriber's and the spool's.

use super::Reactor;
use crate::contract::command::Service;
use crate::contract::{
    EndpointMetrics, ListenerMetrics, Metrics, PeerMetrics, PeerStatus, SubscriberMetrics,
};
use std::time::Instant;

impl Reactor {
    pub(super) fn metrics(&self) -> Metrics {
        let now = Instant::now();
        let peers = self
            .conns
            .values()
            .filter(|c| c.linger.is_none())
            .map(|c| {
                let (id, status) = Self::peer_status(c);
                PeerMetrics {
                    id,
                    address: c.addr,
                    transport: c.stream.kind().name(),
                    outbound: c.outbound,
                    status,
                    frames_in: c.traffic.frames_in,
                    bytes_in: c.traffic.bytes_in,
                    frames_out: c.traffic.frames_out,
                    bytes_out: c.traffic.bytes_out,
                    queued_frames: c.queued_frames(),
                    queued_bytes: c.queued_bytes(),
                    dropped: c.dropped,
                    idle: now.saturating_duration_since(c.last_progress),
                }
            })
            .collect::<Vec<_>>();
        let subscribers = self
            .delivery
            .counts()
            .into_iter()
            .map(|s| SubscriberMetrics {
                id: s.id,
                topics: s.topics,
                queued: s.queued,
                delivered: s.delivered,
                dropped: s.dropped,
            })
            .collect();
        let spool = self.spool.as_ref().map(|s| s.stats()).unwrap_or_default();
        Metrics {
            endpoint: EndpointMetrics {
                turns: self.counters.turns,
                wakeups: self.counters.wakeups,
                busy_poll_hits: self.spin.hits,
                busy_poll_misses: self.spin.misses,
                published: self.intake.taken_frames,
                discarded: self.counters.discarded,
                processed: self.counters.processed,
                connections: peers.len(),
                peerings: peers
                    .iter()
                    .filter(|p| p.status == PeerStatus::Peered)
                    .count(),
                stores: self.stores.len(),
                spooled: spool.spooled,
                replayed: spool.replayed,
                spool_dropped: spool.dropped,
                spool_damaged: spool.damaged,
                spool_records: spool.records,
                spool_bytes: spool.bytes,
            },
            listeners: self
                .listeners
                .values()
                .map(|(l, service)| ListenerMetrics {
                    transport: l.kind().name(),
                    service: match service {
                        Service::Peering => "broker",
                        Service::Metrics => "metrics",
                    },
                    port: l.local_port().unwrap_or(0),
                })
                .collect(),
            peers,
            subscribers,
        }
    }
}
