//! Status and error events for the status subscribers (and, at the configured verbosity,
//! the console), with Broker's codes and texts.

use super::peers::{Close, UNABLE_TO_CONNECT};
use crate::contract::queue::Mailbox;
use crate::contract::{StatusCode, StatusEvent, StatusKind, Verbosity, push_status};
use crate::wire::{EndpointId, ErrorCode};
use crossbeam_channel::{Sender, TrySendError, bounded};
use std::net::SocketAddr;
use std::sync::Arc;

struct StatusSub {
    id: u64,
    errors: bool,
    mailbox: Arc<Mailbox<StatusEvent>>,
}

#[derive(Default)]
pub(super) struct StatusSubs {
    subs: Vec<StatusSub>,
    console: Option<Console>,
}

/// Lines for stderr, written by a thread of their own so that a stalled terminal or pipe
/// never stalls the reactor: a line that does not fit its queue is dropped and counted.
struct Console {
    verbosity: Verbosity,
    prefix: String,
    lines: Sender<String>,
    dropped: u64,
}

impl Console {
    fn start(verbosity: Verbosity, prefix: String) -> Option<Console> {
        let (lines, rx) = bounded::<String>(1024);
        std::thread::Builder::new()
            .name("brook-console".into())
            .spawn(move || {
                use std::io::Write;
                for line in rx {
                    let _ = writeln!(std::io::stderr(), "{line}");
                }
            })
            .ok()?;
        Some(Console {
            verbosity,
            prefix,
            lines,
            dropped: 0,
        })
    }

    fn print(&mut self, ev: &StatusEvent) {
        let (level, name) = match ev.kind {
            StatusKind::Error(code) => (Verbosity::Error, code.name()),
            StatusKind::Status(code) => (Verbosity::Info, code.name()),
        };
        if self.verbosity < level {
            return;
        }
        let who = ev.endpoint.map(|id| format!(" {id}")).unwrap_or_default();
        let at = ev.address.map(|a| format!(" at {a}")).unwrap_or_default();
        let mut line = format!("{} {name}{who}{at}: {}", self.prefix, ev.message);
        if self.dropped > 0 {
            line.push_str(&format!(" ({} earlier lines dropped)", self.dropped));
        }
        match self.lines.try_send(line) {
            Ok(()) => self.dropped = 0,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => self.dropped += 1,
        }
    }
}

impl StatusSubs {
    /// Status subscribers, and the console at `verbosity` (nothing for quiet), its lines
    /// starting with `prefix`.
    pub(super) fn new(verbosity: Verbosity, prefix: String) -> StatusSubs {
        StatusSubs {
            subs: Vec::new(),
            console: (verbosity > Verbosity::Quiet)
                .then(|| Console::start(verbosity, prefix))
                .flatten(),
        }
    }

    pub(super) fn add(&mut self, id: u64, errors: bool, mailbox: Arc<Mailbox<StatusEvent>>) {
        self.subs.push(StatusSub {
            id,
            errors,
            mailbox,
        });
    }

    pub(super) fn remove(&mut self, id: u64) {
        self.subs.retain(|s| s.id != id);
    }

    /// Hands `ev` to every subscriber that wants it (errors only to those that asked), and
    /// forgets subscribers that are gone.
    pub(super) fn emit(&mut self, ev: StatusEvent) {
        if let Some(c) = &mut self.console {
            c.print(&ev);
        }
        let is_error = matches!(ev.kind, StatusKind::Error(_));
        self.subs
            .retain(|s| (is_error && !s.errors) || push_status(&s.mailbox, ev.clone()));
    }

    pub(super) fn close_all(&mut self) {
        for s in self.subs.drain(..) {
            s.mailbox.close();
        }
    }
}

pub(super) fn event(
    kind: StatusKind,
    endpoint: Option<EndpointId>,
    address: Option<SocketAddr>,
    message: impl Into<String>,
) -> StatusEvent {
    StatusEvent {
        kind,
        endpoint,
        address,
        message: message.into(),
    }
}

pub(super) fn status(
    code: StatusCode,
    id: Option<EndpointId>,
    addr: Option<SocketAddr>,
    msg: &str,
) -> StatusEvent {
    event(StatusKind::Status(code), id, addr, msg)
}

pub(super) fn error(
    code: ErrorCode,
    id: Option<EndpointId>,
    addr: Option<SocketAddr>,
    msg: impl Into<String>,
) -> StatusEvent {
    event(StatusKind::Error(code), id, addr, msg)
}

/// What Broker reports when a connection ends: peer_lost or peer_removed and
/// endpoint_unreachable for a peering (Broker's texts, whatever the cause: after bad input
/// too, following brook's error event that says what was wrong), the error of a failed
/// handshake, the loss of an incoming connection during its handshake, or Broker's
/// peer_unavailable for our connection that reached this endpoint itself.
pub(super) fn closing(
    why: &Close,
    was_peered: bool,
    outbound: bool,
    remote: Option<EndpointId>,
    addr: SocketAddr,
) -> Vec<StatusEvent> {
    let lost = || {
        status(
            StatusCode::PeerLost,
            remote,
            Some(addr),
            "lost connection to remote peer",
        )
    };
    let unreachable = || {
        status(
            StatusCode::EndpointUnreachable,
            remote,
            None,
            "lost the last path",
        )
    };
    match why {
        Close::Lost(_) if was_peered => vec![lost(), unreachable()],
        Close::ToSelf if outbound => vec![error(
            ErrorCode::PeerUnavailable,
            None,
            Some(addr),
            UNABLE_TO_CONNECT,
        )],
        Close::Removed | Close::Shutdown if was_peered => vec![
            status(
                StatusCode::PeerRemoved,
                remote,
                Some(addr),
                "removed connection to remote peer",
            ),
            unreachable(),
        ],
        Close::Failed(code, msg) => {
            let mut out = vec![error(*code, remote, Some(addr), msg.clone())];
            if was_peered {
                out.extend([lost(), unreachable()]);
            }
            out
        }
        Close::Lost(msg) if !outbound => vec![error(
            ErrorCode::PeerDisconnectDuringHandshake,
            remote,
            Some(addr),
            msg.clone(),
        )],
        // Our attempt ended before the peering was made (as a failed connect does).
        Close::Lost(msg) => vec![error(
            ErrorCode::PeerUnavailable,
            remote,
            Some(addr),
            format!("cannot peer with {addr}: {msg}"),
        )],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(events: &[StatusEvent]) -> Vec<StatusKind> {
        events.iter().map(|e| e.kind).collect()
    }

    #[test]
    fn closing_reports_as_broker_does() {
        let a: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let r = Some(EndpointId([1; 16]));
        let lost = Close::Lost("reset".into());
        assert_eq!(
            kinds(&closing(&lost, true, true, r, a)),
            [
                StatusKind::Status(StatusCode::PeerLost),
                StatusKind::Status(StatusCode::EndpointUnreachable)
            ]
        );
        assert_eq!(
            kinds(&closing(&Close::Removed, true, false, r, a))[0],
            StatusKind::Status(StatusCode::PeerRemoved)
        );
        let failed = Close::Failed(ErrorCode::PeerIncompatible, "version 2".into());
        let ev = closing(&failed, false, true, None, a);
        assert_eq!(kinds(&ev), [StatusKind::Error(ErrorCode::PeerIncompatible)]);
        assert_eq!(ev[0].message, "version 2");
        // An outgoing attempt lost before peering is peer_unavailable, as a failed connect.
        let attempt = closing(&lost, false, true, None, a);
        assert_eq!(
            kinds(&attempt),
            [StatusKind::Error(ErrorCode::PeerUnavailable)]
        );
        assert!(attempt[0].message.contains("reset"));
        assert_eq!(
            kinds(&closing(&lost, false, false, None, a)),
            [StatusKind::Error(ErrorCode::PeerDisconnectDuringHandshake)]
        );
        assert!(closing(&Close::Redundant, false, true, r, a).is_empty());
        // A peering ended for bad input: brook's error, then what Broker reports for any
        // lost peering.
        let bad = Close::Failed(ErrorCode::InvalidMessage, "framing violation".into());
        assert_eq!(
            kinds(&closing(&bad, true, false, r, a)),
            [
                StatusKind::Error(ErrorCode::InvalidMessage),
                StatusKind::Status(StatusCode::PeerLost),
                StatusKind::Status(StatusCode::EndpointUnreachable)
            ]
        );
        // Our connection to ourselves: Broker's peer_unavailable, nothing for the other end.
        let ours = closing(&Close::ToSelf, false, true, None, a);
        assert_eq!(
            kinds(&ours),
            [StatusKind::Error(ErrorCode::PeerUnavailable)]
        );
        assert_eq!(ours[0].message, "unable to connect to remote peer");
        assert_eq!((ours[0].endpoint, ours[0].address), (None, Some(a)));
        assert!(closing(&Close::ToSelf, false, false, None, a).is_empty());
    }

    #[test]
    fn errors_reach_only_the_subscribers_that_asked_for_them() {
        let mut subs = StatusSubs::default();
        let quiet = Arc::new(Mailbox::new(8, crate::contract::OverflowPolicy::DropNewest).unwrap());
        let all = Arc::new(Mailbox::new(8, crate::contract::OverflowPolicy::DropNewest).unwrap());
        subs.add(1, false, quiet.clone());
        subs.add(2, true, all.clone());
        subs.emit(error(ErrorCode::Unspecified, None, None, "e"));
        subs.emit(status(StatusCode::PeerAdded, None, None, "s"));
        assert_eq!((quiet.len(), all.len()), (1, 2));
        subs.remove(2);
        subs.emit(status(StatusCode::PeerAdded, None, None, "s"));
        assert_eq!((quiet.len(), all.len()), (2, 2));
    }
}
