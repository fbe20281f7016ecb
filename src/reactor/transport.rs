//! The transport seam: the only module of the crate that names a socket type.
//!
//! A [`Listener`] accepts [`Stream`]s and [`Stream::connect`] opens one; both carry their
//! [`Kind`]. Everything above this module (connections, sessions, routing, delivery,
//! stores) sees a stream only as something that is established or not yet, reads and
//! writes bytes without blocking, and registers with the reactor's poll. A new kind of
//! transport (TLS, WebSocket) is a new [`Kind`] and new arms here: a stream whose own
//! handshake is still running reports "not yet established" from [`Stream::establish`],
//! and reads or writes that would block report `WouldBlock`, as plain TCP does.
//!
//! Invariant: every socket is non-blocking and registered edge-triggered for reading and
//! writing; callers read and write until `WouldBlock`.

use mio::net::{TcpListener, TcpStream};
use mio::{Interest, Registry, Token};
use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;

/// What carries a peering's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Plain TCP: Broker's protocol with TLS disabled.
    Tcp,
}

impl Kind {
    /// The name shown in metrics and peer lists.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Tcp => "tcp",
        }
    }
}

/// A listening socket of one kind.
pub(super) struct Listener {
    kind: Kind,
    socket: TcpListener,
}

impl Listener {
    /// Binds `addr` and registers the listener with `registry` under `token`.
    pub(super) fn bind(
        kind: Kind,
        addr: SocketAddr,
        registry: &Registry,
        token: Token,
    ) -> io::Result<Listener> {
        let mut socket = TcpListener::bind(addr)?;
        registry.register(&mut socket, token, Interest::READABLE)?;
        Ok(Listener { kind, socket })
    }

    pub(super) fn kind(&self) -> Kind {
        self.kind
    }

    pub(super) fn local_port(&self) -> io::Result<u16> {
        Ok(self.socket.local_addr()?.port())
    }

    /// Accepts one pending connection, registered under `token`. `Ok(None)` when none is
    /// pending (the listener is drained).
    pub(super) fn accept(
        &self,
        registry: &Registry,
        token: Token,
    ) -> io::Result<Option<(Stream, SocketAddr)>> {
        loop {
            match self.socket.accept() {
                Ok((mut socket, addr)) => {
                    let both = Interest::READABLE | Interest::WRITABLE;
                    if registry.register(&mut socket, token, both).is_err() {
                        continue; // dropped: the peer sees the connection closed
                    }
                    let _ = socket.set_nodelay(true);
                    let stream = Stream {
                        kind: self.kind,
                        socket,
                        connected: true,
                    };
                    return Ok(Some((stream, addr)));
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    pub(super) fn deregister(&mut self, registry: &Registry) {
        let _ = registry.deregister(&mut self.socket);
    }
}

/// One connection's byte stream.
pub(super) struct Stream {
    kind: Kind,
    socket: TcpStream,
    /// The transport's own setup (a TCP connect) has completed.
    connected: bool,
}

impl Stream {
    /// Starts a non-blocking connect to `addr`, registered under `token`.
    pub(super) fn connect(
        kind: Kind,
        addr: SocketAddr,
        registry: &Registry,
        token: Token,
    ) -> io::Result<Stream> {
        let mut socket = TcpStream::connect(addr)?;
        registry.register(&mut socket, token, Interest::READABLE | Interest::WRITABLE)?;
        Ok(Stream {
            kind,
            socket,
            connected: false,
        })
    }

    pub(super) fn kind(&self) -> Kind {
        self.kind
    }

    /// Moves the transport's own setup on: `None` while it is still running, then its
    /// outcome once. A stream is usable for the peer protocol after `Some(Ok(()))`.
    pub(super) fn establish(&mut self) -> Option<io::Result<()>> {
        if self.connected {
            return Some(Ok(()));
        }
        match self.socket.take_error() {
            Ok(Some(e)) | Err(e) => return Some(Err(e)),
            Ok(None) => {}
        }
        match self.socket.peer_addr() {
            Ok(_) => {
                self.connected = true;
                let _ = self.socket.set_nodelay(true);
                Some(Ok(()))
            }
            Err(e) if e.kind() == ErrorKind::NotConnected => None,
            Err(e) => Some(Err(e)),
        }
    }

    /// Reads what is available; `WouldBlock` when nothing is.
    pub(super) fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.socket.read(buf)
    }

    /// Writes what the transport takes now; `WouldBlock` when it takes nothing.
    pub(super) fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.socket.write(buf)
    }

    pub(super) fn deregister(&mut self, registry: &Registry) {
        let _ = registry.deregister(&mut self.socket);
    }
}
