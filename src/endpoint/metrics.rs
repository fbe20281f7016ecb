//! An endpoint's counters in Prometheus' text format, and the opt-in HTTP listener that
//! serves them (`Config::metrics_port`, Broker's `broker.metrics.port`).
//!
//! Broker's own names are used where Broker has the metric: `broker_connections` and
//! `broker_processed_messages_total{type}`. Two differences: brook's `broker_connections`
//! is the number of connections open now (Broker's only ever grows), and its processed
//! messages are those received from peers (Broker also counts local publications, which
//! brook counts as `brook_published_messages_total`). Everything else Broker does not
//! measure, and is named `brook_*`.
//!
//! The listener is a thread of the API side, not of the reactor: it takes one connection at
//! a time, reads one request (at most 8 KiB, 2 s), asks the reactor for a snapshot as any
//! API call does, answers and closes. A client that stalls costs it two seconds, never the
//! reactor anything.

use super::Shared;
use crate::contract::Metrics;
use crate::contract::command::Command;
use crate::error::{Error, ErrorKind, Result};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long one request may take to arrive or its answer to leave.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(2);
/// The most a request may send before its blank line.
const MAX_REQUEST: usize = 8 * 1024;

/// Renders a snapshot in Prometheus' text exposition format (version 0.0.4).
pub fn prometheus_text(m: &Metrics) -> String {
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
    ] {
        family(&mut out, name, kind, help);
        let _ = writeln!(out, "{name} {v}");
    }
    type PeerValue = fn(&crate::contract::PeerMetrics) -> f64;
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
    type SubValue = fn(&crate::contract::SubscriberMetrics) -> u64;
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

/// The running metrics listener of an endpoint.
pub(crate) struct MetricsServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MetricsServer {
    /// Listens on `addr` (port 0: any free port) and serves `shared`'s snapshots.
    pub(crate) fn start(addr: SocketAddr, shared: Arc<Shared>) -> Result<MetricsServer> {
        let listener = TcpListener::bind(addr).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("cannot listen for metrics on {addr}: {e}"),
            )
        })?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::Builder::new()
            .name(format!("brook-metrics-{}", addr.port()))
            .spawn(move || {
                for conn in listener.incoming() {
                    if stopped.load(Ordering::Acquire) {
                        return;
                    }
                    if let Ok(conn) = conn {
                        let _ = serve(conn, &shared);
                    }
                }
            })?;
        Ok(MetricsServer {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    pub(crate) fn port(&self) -> u16 {
        self.addr.port()
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Wake the blocking accept with a connection of our own.
        let mut wake = self.addr;
        if wake.ip().is_unspecified() {
            wake.set_ip(match wake {
                SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        let _ = TcpStream::connect_timeout(&wake, CLIENT_TIMEOUT);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Answers one HTTP request: `GET /metrics` (or `/`) with the exposition, anything else
/// with 404 or 405.
fn serve(mut conn: TcpStream, shared: &Shared) -> std::io::Result<()> {
    conn.set_read_timeout(Some(CLIENT_TIMEOUT))?;
    conn.set_write_timeout(Some(CLIENT_TIMEOUT))?;
    let mut req = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = conn.read(&mut buf)?;
        if n == 0 || req.len() + n > MAX_REQUEST {
            break;
        }
        req.extend_from_slice(&buf[..n]);
    }
    let line = req.split(|&b| b == b'\r').next().unwrap_or_default();
    let mut parts = line.split(|&b| b == b' ');
    let (method, path) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let (status, body) = match (method, path) {
        (b"GET", b"/metrics" | b"/") => {
            match shared.ask(|reply| Command::Metrics { reply }, CLIENT_TIMEOUT) {
                Ok(m) => ("200 OK", prometheus_text(&m)),
                Err(e) => ("503 Service Unavailable", format!("{e}\n")),
            }
        }
        (b"GET", _) => ("404 Not Found", "the metrics are at /metrics\n".to_string()),
        _ => ("405 Method Not Allowed", "only GET\n".to_string()),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes())?;
    conn.write_all(body.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{EndpointMetrics, PeerMetrics, PeerStatus, SubscriberMetrics};

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
        let text = prometheus_text(&m);
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
