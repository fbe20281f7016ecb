//! An endpoint's counters in Prometheus' text exposition format (version 0.0.4).
//!
//! Broker's own names are used where Broker has the metric: `broker_connections` and
//! `broker_processed_messages_total{type}`. Two differences: brook's `broker_connections`
//! is the number of connections open now (Broker's only ever grows), and its processed
//! messages are those received from peers (Broker also counts local publications, which
//! brook counts as `brook_published_messages_total`). Everything else Broker does not
//! measure, and is named `brook_*` (the spool's as `brook_spool*`).

use super::metrics::{Metrics, PeerMetrics, SubscriberMetrics};
use std::fmt::Write as _;

/// Renders a snapshot in Prometheus' text exposition format (version 0.0.4).
impl Metrics {
    /// The snapshot in Prometheus' text exposition format (version 0.0.4).
    pub fn to_prometheus(&self) -> String {
        prometheus_text(self)
    }
}

fn prometheus_text(m: &Metrics) -> String {
    let mut out = String::with_capacity(4096);
    let e = &m.endpoint;
    family(
        &mut out,
        "broker_connections",
        "gauge",
        "Number of active network connections.",
    );
    let _ = writeln!(out, "broker_connections {}", e.connections);
    family(
        &mut out,
        "broker_processed_messages_total",
        "counter",
        "Total number of processed messages.",
    );
    let p = e.processed;
    for (kind, n) in [
        ("data", p.data),
        ("command", p.command),
        ("routing-update", p.routing_update),
        ("ping", p.ping),
        ("pong", p.pong),
    ] {
        let _ = writeln!(
            out,
            "broker_processed_messages_total{{type=\"{kind}\"}} {n}"
        );
    }
    for (name, kind, help, v) in [
        (
            "brook_published_messages_total",
            "counter",
            "Messages taken from the publish queue (publications and store commands).",
            e.published,
        ),
        (
            "brook_reactor_turns_total",
            "counter",
            "Turns of the reactor loop.",
            e.turns,
        ),
        (
            "brook_reactor_wakeups_total",
            "counter",
            "Reactor turns started by an API thread's wake-up.",
            e.wakeups,
        ),
        (
            "brook_busy_poll_hits_total",
            "counter",
            "Busy-poll episodes that found new work within the window.",
            e.busy_poll_hits,
        ),
        (
            "brook_busy_poll_misses_total",
            "counter",
            "Busy-poll episodes that found no work within the window.",
            e.busy_poll_misses,
        ),
        (
            "brook_peerings",
            "gauge",
            "Connections past their handshake.",
            e.peerings as u64,
        ),
        (
            "brook_listeners",
            "gauge",
            "Listening sockets.",
            m.listeners.len() as u64,
        ),
        (
            "brook_stores",
            "gauge",
            "Attached data store masters and clones.",
            e.stores as u64,
        ),
        (
            "brook_discarded_messages_total",
            "counter",
            "Messages queued for peers whose connections ended before they were written.",
            e.discarded,
        ),
        (
            "brook_spooled_messages_total",
            "counter",
            "Messages written to the spool.",
            e.spooled,
        ),
        (
            "brook_spool_replayed_messages_total",
            "counter",
            "Messages sent from the spool to peers.",
            e.replayed,
        ),
        (
            "brook_spool_dropped_messages_total",
            "counter",
            "Messages dropped from the spool (drop_oldest, or too large).",
            e.spool_dropped,
        ),
        (
            "brook_spool_damaged_total",
            "counter",
            "Damaged parts of spool files skipped (torn tails, corruption).",
            e.spool_damaged,
        ),
        (
            "brook_spool_messages",
            "gauge",
            "Messages in the spool not yet delivered.",
            e.spool_records,
        ),
        (
            "brook_spool_bytes",
            "gauge",
            "Bytes the spool's files take.",
            e.spool_bytes,
        ),
    ] {
        family(&mut out, name, kind, help);
        let _ = writeln!(out, "{name} {v}");
    }
    type PeerValue = fn(&PeerMetrics) -> f64;
    let peer: [(&str, &str, &str, PeerValue); 8] = [
        (
            "brook_peer_received_frames_total",
            "counter",
            "Frames received from the peer.",
            |p| p.frames_in as f64,
        ),
        (
            "brook_peer_received_bytes_total",
            "counter",
            "Bytes received from the peer.",
            |p| p.bytes_in as f64,
        ),
        (
            "brook_peer_sent_frames_total",
            "counter",
            "Frames queued for the peer.",
            |p| p.frames_out as f64,
        ),
        (
            "brook_peer_sent_bytes_total",
            "counter",
            "Bytes written to the peer.",
            |p| p.bytes_out as f64,
        ),
        (
            "brook_peer_queued_frames",
            "gauge",
            "Frames in the peer's send buffer.",
            |p| p.queued_frames as f64,
        ),
        (
            "brook_peer_queued_bytes",
            "gauge",
            "Bytes in the peer's send buffer.",
            |p| p.queued_bytes as f64,
        ),
        (
            "brook_peer_dropped_messages_total",
            "counter",
            "Messages for the peer that its overflow policy dropped.",
            |p| p.dropped as f64,
        ),
        (
            "brook_peer_idle_seconds",
            "gauge",
            "Seconds since the peer's socket last took bytes.",
            |p| p.idle.as_secs_f64(),
        ),
    ];
    for (name, kind, help, value) in peer {
        family(&mut out, name, kind, help);
        for p in &m.peers {
            let id = p.id.map(|id| id.to_string()).unwrap_or_default();
            let _ = writeln!(
                out,
                "{name}{{peer=\"{id}\",address=\"{}\",transport=\"{}\"}} {}",
                p.address,
                p.transport,
                value(p)
            );
        }
    }
    type SubValue = fn(&SubscriberMetrics) -> u64;
    let sub: [(&str, &str, &str, SubValue); 3] = [
        (
            "brook_subscriber_queued_messages",
            "gauge",
            "Messages waiting in the subscriber's queue.",
            |s| s.queued as u64,
        ),
        (
            "brook_subscriber_delivered_messages_total",
            "counter",
            "Messages handed to the subscriber's queue.",
            |s| s.delivered,
        ),
        (
            "brook_subscriber_dropped_messages_total",
            "counter",
            "Messages the subscriber's overflow policy dropped.",
            |s| s.dropped,
        ),
    ];
    for (name, kind, help, value) in sub {
        family(&mut out, name, kind, help);
        for s in &m.subscribers {
            let topics: Vec<String> = s
                .topics
                .iter()
                .map(|t| String::from_utf8_lossy(t).into_owned())
                .collect();
            let topics = escape(&topics.join(","));
            let _ = writeln!(
                out,
                "{name}{{subscriber=\"{}\",topics=\"{topics}\"}} {}",
                s.id,
                value(s)
            );
        }
    }
    out
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A label value as Prometheus reads it: backslash, quote and newline escaped.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{EndpointMetrics, PeerStatus};
    use std::time::Duration;

    #[test]
    fn the_exposition_uses_brokers_names_and_escapes_labels() {
        let m = Metrics {
            endpoint: EndpointMetrics {
                connections: 1,
                ..Default::default()
            },
            listeners: Vec::new(),
            peers: vec![PeerMetrics {
                id: None,
                address: "127.0.0.1:9".parse().unwrap(),
                transport: "tcp",
                outbound: true,
                status: PeerStatus::Peered,
                frames_in: 3,
                bytes_in: 0,
                frames_out: 0,
                bytes_out: 0,
                queued_frames: 0,
                queued_bytes: 0,
                dropped: 0,
                idle: Duration::ZERO,
            }],
            subscribers: vec![SubscriberMetrics {
                id: 7,
                topics: vec![b"/a\"b".to_vec(), b"/c".to_vec()],
                queued: 0,
                delivered: 2,
                dropped: 0,
            }],
        };
        let text = m.to_prometheus();
        assert!(text.contains("# TYPE broker_connections gauge\nbroker_connections 1\n"));
        assert!(text.contains("broker_processed_messages_total{type=\"routing-update\"} 0\n"));
        assert!(text.contains(
            "brook_peer_received_frames_total{peer=\"\",address=\"127.0.0.1:9\",transport=\"tcp\"} 3\n"
        ));
        assert!(text.contains(
            "brook_subscriber_delivered_messages_total{subscriber=\"7\",topics=\"/a\\\"b,/c\"} 2\n"
        ));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let value = line.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }
}
