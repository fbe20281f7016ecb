//! Peering bookkeeping: the outgoing peerings this endpoint maintains (and retries), which
//! connection is peered with which remote, which handshakes claim a remote, and which
//! originators wait behind another handshake with the same remote (Broker's rule for
//! redundant connections, spec §2.4).
//!
//! No sockets: connections are tokens. Each method changes this state and returns what the
//! reactor must do next (connect, schedule a retry, fail other connections), and answers
//! the API callers blocked in `peer` itself.

use crate::error::{Error, ErrorKind, Result};
use crate::wire::handshake::RemoteStatus;
use crate::wire::{EndpointId, ErrorCode};
use crossbeam_channel::Sender;
use mio::Token;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

/// Why a connection ends, which decides the status events and whether to retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Close {
    /// The peer went away or the connection broke.
    Lost(String),
    /// We unpeered (BYE done or timed out).
    Removed,
    /// Handshake failure or protocol violation.
    Failed(ErrorCode, String),
    /// A duplicate of another connection with the same peer: no event, no retry.
    Redundant,
    /// The endpoint is shutting down.
    Shutdown,
    /// The connection reached this endpoint itself: our side reports what Broker does,
    /// [`UNABLE_TO_CONNECT`] (and retries if asked to, as Broker does), the accepting side
    /// nothing.
    ToSelf,
}

/// Broker's words when it cannot peer with an address, a connection to itself included.
pub(super) const UNABLE_TO_CONNECT: &str = "unable to connect to remote peer";

/// An outgoing peering that this endpoint maintains (and retries).
struct Request {
    retry: Duration,
    /// Callers of the blocking `peer`, answered by the first attempt's outcome.
    waiters: Vec<Sender<Result<EndpointId>>>,
    conn: Option<Token>,
}

/// What a `peer` command asks of the reactor.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Next {
    /// Open a connection to the address.
    Connect,
    /// A connection exists or is being made.
    Wait,
}

#[derive(Default)]
pub(super) struct Peers {
    requests: HashMap<SocketAddr, Request>,
    /// Peered remotes and their connection.
    peered: HashMap<EndpointId, Token>,
    /// Remotes claimed by a connection still in its handshake.
    claims: HashMap<EndpointId, Token>,
    /// Originator connections paused behind another handshake with the same remote.
    paused: HashMap<EndpointId, Vec<Token>>,
}

impl Peers {
    /// Starts (or refreshes) an outgoing peering with `addr`. `peered_as` tells whether a
    /// connection is peered and with whom; a caller whose peering already stands is
    /// answered at once.
    pub(super) fn request(
        &mut self,
        addr: SocketAddr,
        retry: Duration,
        reply: Option<Sender<Result<EndpointId>>>,
        peered_as: impl Fn(Token) -> Option<EndpointId>,
    ) -> Next {
        let req = self.requests.entry(addr).or_insert(Request {
            retry,
            waiters: Vec::new(),
            conn: None,
        });
        req.retry = retry;
        if let Some(r) = reply {
            match req.conn.and_then(peered_as) {
                Some(remote) => {
                    let _ = r.send(Ok(remote));
                }
                None => req.waiters.push(r),
            }
        }
        if req.conn.is_none() {
            Next::Connect
        } else {
            Next::Wait
        }
    }

    /// The connection now trying `addr`.
    pub(super) fn connecting(&mut self, addr: SocketAddr, token: Token) {
        if let Some(req) = self.requests.get_mut(&addr) {
            req.conn = Some(token);
        }
    }

    /// True if a retry of `addr` is still wanted (no connection is trying it).
    pub(super) fn retry_wanted(&self, addr: SocketAddr) -> bool {
        self.requests.get(&addr).is_some_and(|r| r.conn.is_none())
    }

    /// Stops maintaining the peering with `addr`; its connection, if any. Blocked callers
    /// learn that it was unpeered.
    pub(super) fn unpeer(&mut self, addr: SocketAddr) -> Option<Token> {
        let r = self.requests.remove(&addr)?;
        for w in r.waiters {
            let _ = w.send(Err(Error::new(ErrorKind::PeerUnavailable, "unpeered")));
        }
        r.conn
    }

    /// Addresses being retried, with no connection at the moment.
    pub(super) fn reconnecting(&self) -> impl Iterator<Item = SocketAddr> + '_ {
        self.requests
            .iter()
            .filter(|(_, r)| r.conn.is_none())
            .map(|(a, _)| *a)
    }

    /// Where a handshake with `remote` on `token` stands against the others.
    pub(super) fn remote_status(
        &self,
        remote: EndpointId,
        token: Token,
        shutting_down: bool,
    ) -> RemoteStatus {
        if shutting_down {
            RemoteStatus::ShuttingDown
        } else if self.peered.contains_key(&remote) {
            RemoteStatus::Peered
        } else if self.claims.get(&remote).is_some_and(|t| *t != token) {
            RemoteStatus::Handshaking
        } else {
            RemoteStatus::Free
        }
    }

    /// Records that `token`'s handshake claims `remote` if nobody else does; the status it
    /// found.
    pub(super) fn claim(
        &mut self,
        remote: EndpointId,
        token: Token,
        shutting_down: bool,
    ) -> RemoteStatus {
        let status = self.remote_status(remote, token, shutting_down);
        if status == RemoteStatus::Free {
            self.claims.insert(remote, token);
        }
        status
    }

    /// An originator waits for another handshake with `remote`.
    pub(super) fn pause(&mut self, remote: EndpointId, token: Token) {
        self.paused.entry(remote).or_default().push(token);
    }

    /// The connection peered with `remote`, or else the one whose handshake claims it.
    pub(super) fn holder(&self, remote: EndpointId) -> Option<Token> {
        self.peered
            .get(&remote)
            .or(self.claims.get(&remote))
            .copied()
    }

    pub(super) fn peered(&self) -> impl Iterator<Item = (EndpointId, Token)> + '_ {
        self.peered.iter().map(|(r, t)| (*r, *t))
    }

    /// `token` completed its handshake with `remote` (reached at `addr`, if it was ours):
    /// blocked callers learn the remote. Returns the originators paused behind it, which
    /// must now drop themselves as redundant.
    pub(super) fn established(
        &mut self,
        remote: EndpointId,
        token: Token,
        outbound_addr: Option<SocketAddr>,
    ) -> Vec<Token> {
        self.claims.remove(&remote);
        self.peered.insert(remote, token);
        if let Some(req) = outbound_addr.and_then(|a| self.requests.get_mut(&a)) {
            for w in req.waiters.drain(..) {
                let _ = w.send(Ok(remote));
            }
        }
        self.paused.remove(&remote).unwrap_or_default()
    }

    /// Forgets `token`, which talked to `remote`. Returns whether it was `remote`'s peered
    /// connection (the peering is lost), and the originators that were paused behind its
    /// handshake (they will not hear from it again and must fail).
    pub(super) fn forget(&mut self, token: Token, remote: EndpointId) -> (bool, Vec<Token>) {
        let lost = self.peered.get(&remote) == Some(&token);
        if lost {
            self.peered.remove(&remote);
        }
        let mut orphans = Vec::new();
        if self.claims.get(&remote) == Some(&token) {
            self.claims.remove(&remote);
            orphans = self.paused.remove(&remote).unwrap_or_default();
        }
        if let Some(list) = self.paused.get_mut(&remote) {
            list.retain(|t| *t != token);
        }
        (lost, orphans)
    }

    /// An outgoing connection to `addr` ended (`token`, which reached `remote` if known).
    /// Answers blocked callers; returns when to retry, if at all.
    pub(super) fn closed(
        &mut self,
        addr: SocketAddr,
        token: Token,
        why: &Close,
        remote: Option<EndpointId>,
        was_peered: bool,
        shutting_down: bool,
    ) -> Option<Duration> {
        let req = self.requests.get_mut(&addr)?;
        if req.conn != Some(token) {
            return None;
        }
        req.conn = None;
        match why {
            Close::Redundant => {
                for w in req.waiters.drain(..) {
                    let _ = w.send(remote.ok_or_else(|| {
                        Error::new(ErrorKind::PeerUnavailable, "redundant connection")
                    }));
                }
                self.requests.remove(&addr);
                None
            }
            Close::Lost(_) if was_peered => {
                if req.retry.is_zero() || shutting_down {
                    self.requests.remove(&addr);
                    None
                } else {
                    // Reconnect at once after losing an established peering.
                    Some(Duration::ZERO)
                }
            }
            Close::Removed | Close::Shutdown => {
                self.requests.remove(&addr);
                None
            }
            Close::Failed(_, msg) | Close::Lost(msg) => {
                let msg = msg.clone();
                self.attempt_failed(addr, &msg, shutting_down)
            }
            Close::ToSelf => self.attempt_failed(addr, UNABLE_TO_CONNECT, shutting_down),
        }
    }

    /// An attempt to reach `addr` failed before or during its handshake: blocked callers
    /// get the error; returns when to retry, if at all.
    pub(super) fn attempt_failed(
        &mut self,
        addr: SocketAddr,
        why: &str,
        shutting_down: bool,
    ) -> Option<Duration> {
        let req = self.requests.get_mut(&addr)?;
        req.conn = None;
        for w in req.waiters.drain(..) {
            let _ = w.send(Err(Error::new(ErrorKind::PeerUnavailable, why)));
        }
        if req.retry.is_zero() || shutting_down {
            self.requests.remove(&addr);
            None
        } else {
            Some(req.retry)
        }
    }

    /// Stops every outgoing peering (shutdown); callers still blocked get `why`.
    pub(super) fn clear(&mut self, why: Option<&str>) {
        for (_, req) in self.requests.drain() {
            if let Some(why) = why {
                for w in req.waiters {
                    let _ = w.send(Err(Error::new(ErrorKind::Closed, why)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossbeam_channel::bounded;

    fn id(n: u8) -> EndpointId {
        EndpointId([n; 16])
    }

    fn addr() -> SocketAddr {
        "127.0.0.1:9999".parse().unwrap()
    }

    #[test]
    fn a_second_handshake_with_a_claimed_remote_sees_it_handshaking() {
        let mut p = Peers::default();
        assert_eq!(p.claim(id(1), Token(10), false), RemoteStatus::Free);
        // The claimant itself still sees the remote free; another connection does not.
        assert_eq!(p.remote_status(id(1), Token(10), false), RemoteStatus::Free);
        assert_eq!(p.claim(id(1), Token(11), false), RemoteStatus::Handshaking);
        p.pause(id(1), Token(11));
        assert_eq!(p.holder(id(1)), Some(Token(10)));
        let paused = p.established(id(1), Token(10), None);
        assert_eq!(
            paused,
            [Token(11)],
            "the paused originator drops itself now"
        );
        assert_eq!(
            p.remote_status(id(1), Token(12), false),
            RemoteStatus::Peered
        );
        assert_eq!(
            p.remote_status(id(2), Token(12), true),
            RemoteStatus::ShuttingDown
        );
    }

    #[test]
    fn a_failed_claimant_releases_the_connections_paused_behind_it() {
        let mut p = Peers::default();
        p.claim(id(1), Token(10), false);
        p.claim(id(1), Token(11), false);
        p.pause(id(1), Token(11));
        let (lost, orphans) = p.forget(Token(10), id(1));
        assert!(!lost, "it never peered");
        assert_eq!(orphans, [Token(11)]);
        assert_eq!(p.claim(id(1), Token(12), false), RemoteStatus::Free);
    }

    #[test]
    fn losing_an_established_peering_retries_at_once_a_failed_attempt_after_the_interval() {
        let mut p = Peers::default();
        let retry = Duration::from_secs(5);
        let (tx, rx) = bounded(1);
        assert_eq!(p.request(addr(), retry, Some(tx), |_| None), Next::Connect);
        p.connecting(addr(), Token(3));
        assert_eq!(p.request(addr(), retry, None, |_| None), Next::Wait);
        assert!(!p.retry_wanted(addr()));
        let why = Close::Failed(ErrorCode::PeerIncompatible, "bad version".into());
        assert_eq!(
            p.closed(addr(), Token(3), &why, None, false, false),
            Some(retry)
        );
        let answer = rx.try_recv().unwrap().unwrap_err();
        assert_eq!(answer.kind, ErrorKind::PeerUnavailable);
        assert!(answer.message.contains("bad version"));
        assert!(p.retry_wanted(addr()));
        p.connecting(addr(), Token(4));
        p.established(id(1), Token(4), Some(addr()));
        let lost = Close::Lost("reset".into());
        assert_eq!(
            p.closed(addr(), Token(4), &lost, Some(id(1)), true, false),
            Some(Duration::ZERO)
        );
        // A connection that is not the request's own changes nothing.
        assert_eq!(p.closed(addr(), Token(99), &lost, None, true, false), None);
        assert_eq!(p.reconnecting().collect::<Vec<_>>(), [addr()]);
    }

    #[test]
    fn no_retry_without_an_interval_after_an_unpeer_or_during_shutdown() {
        let mut p = Peers::default();
        p.request(addr(), Duration::ZERO, None, |_| None);
        p.connecting(addr(), Token(3));
        assert_eq!(p.attempt_failed(addr(), "refused", false), None);
        assert!(!p.retry_wanted(addr()), "forgotten");
        p.request(addr(), Duration::from_secs(1), None, |_| None);
        assert_eq!(p.attempt_failed(addr(), "refused", true), None);
        p.request(addr(), Duration::from_secs(1), None, |_| None);
        p.connecting(addr(), Token(5));
        assert_eq!(p.unpeer(addr()), Some(Token(5)));
        assert_eq!(p.unpeer(addr()), None);
    }

    #[test]
    fn a_caller_of_an_established_peering_is_answered_at_once() {
        let mut p = Peers::default();
        p.request(addr(), Duration::ZERO, None, |_| None);
        p.connecting(addr(), Token(3));
        p.established(id(7), Token(3), Some(addr()));
        let (tx, rx) = bounded(1);
        let next = p.request(addr(), Duration::ZERO, Some(tx), |t| {
            (t == Token(3)).then_some(id(7))
        });
        assert_eq!(next, Next::Wait);
        assert_eq!(rx.try_recv().unwrap().unwrap(), id(7));
    }
}
