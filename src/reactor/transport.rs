//! The transport seam: the only module of the crate that names a socket type, and the only
//! one that knows TLS.
//!
//! A [`Listener`] accepts [`Stream`]s and [`Stream::connect`] opens one; both carry their
//! [`Kind`]. Everything above this module (connections, sessions, routing, delivery,
//! stores) sees a stream only as something that is established or not yet, reads and
//! writes bytes without blocking, and registers with the reactor's poll. A stream whose
//! own setup is still running (a TCP connect, a TLS handshake) reports "not yet" from
//! [`Stream::establish`]; reads and writes that would block report `WouldBlock`.
//!
//! TLS is Broker's (spec §1.2), through OpenSSL: the connecting side is the TLS client,
//! the accepting side the server, and the Broker handshake starts once TLS is up. Without
//! credentials it is anonymous (TLS ≥ 1.2, `AECDH-AES256-SHA@SECLEVEL=0`, P-384 only, no
//! verification; encrypt-then-MAC declined, see [`tls_context`]), with any credential
//! authenticated (`HIGH:!aNULL:!MD5`, certificates on both sides, the peer's verified
//! against the CA file or directory, no host-name check).
//!
//! Invariant: every socket is non-blocking and registered edge-triggered for reading and
//! writing; callers read and write until `WouldBlock`.

use crate::contract::{Config, SslOptions};
use crate::error::{Error, Result};
use mio::net::{TcpListener, TcpStream};
use mio::{Interest, Registry, Token};
use openssl::pkey::PKey;
use openssl::ssl::{
    ErrorCode, HandshakeError, MidHandshakeSslStream, Ssl, SslContext, SslContextBuilder,
    SslMethod, SslMode, SslOptions as TlsOptions, SslStream, SslVerifyMode, SslVersion,
};
use openssl::x509::X509VerifyResult;
use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

/// OpenSSL 3's `SSL_OP_NO_ENCRYPT_THEN_MAC` (`SSL_OP_BIT(19)`), which the openssl crate does
/// not name.
const SSL_OP_NO_ENCRYPT_THEN_MAC: u64 = 1 << 19;

/// The most one write hands to OpenSSL: enough for its multi-record encryption and few
/// calls, little enough that the bytes a blocked write holds stay a small part of a full
/// send buffer.
const TLS_WRITE_MAX: usize = 256 * 1024;

/// What carries a peering's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Plain TCP: Broker's protocol with TLS disabled.
    Tcp,
    /// TLS over TCP, Broker's default.
    Tls,
}

impl Kind {
    /// The name shown in metrics and peer lists.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Tcp => "tcp",
            Kind::Tls => "tls",
        }
    }
}

/// How an endpoint's peerings are carried: plain TCP, or TLS with its context (built once,
/// when the endpoint starts, so that unusable credentials fail `Endpoint::new`, as they
/// fail a Broker endpoint's start).
pub(super) struct Security {
    tls: Option<SslContext>,
    /// Dead-peer detection for every connection (`Config::peer_timeout`).
    dead_after: Option<Duration>,
}

impl Security {
    pub(super) fn new(config: &Config) -> Result<Security> {
        let dead_after = (!config.peer_timeout.is_zero()).then_some(config.peer_timeout);
        if config.disable_ssl {
            return Ok(Security {
                tls: None,
                dead_after,
            });
        }
        let ctx = tls_context(&config.ssl).map_err(Error::invalid)?;
        Ok(Security {
            tls: Some(ctx),
            dead_after,
        })
    }

    /// Plain TCP, for listeners that do not speak Broker's protocol (metrics).
    pub(super) fn plain() -> Security {
        Security {
            tls: None,
            dead_after: None,
        }
    }

    /// Sets what every peer connection gets: TCP keepalive, so that the kernel probes an
    /// idle connection after a third of `dead_after`, then every sixth, and ends it with
    /// `ETIMEDOUT` after four unanswered probes. A live peer's kernel answers the probes
    /// even when the peer does not read. (A connection with data to send is watched by the
    /// reactor through [`Stream::acks`] instead: `TCP_USER_TIMEOUT` would also end a live
    /// peer that keeps its receive window closed for that long.) Best effort: an option the
    /// system refuses leaves its default.
    fn tune(&self, socket: &TcpStream) {
        let Some(d) = self.dead_after else {
            return;
        };
        let sock = socket2::SockRef::from(socket);
        let keepalive = socket2::TcpKeepalive::new()
            .with_time(d / 3)
            .with_interval((d / 6).max(Duration::from_secs(1)))
            .with_retries(4);
        let _ = sock.set_tcp_keepalive(&keepalive);
    }

    pub(super) fn kind(&self) -> Kind {
        if self.tls.is_some() {
            Kind::Tls
        } else {
            Kind::Tcp
        }
    }

    fn session(&self) -> io::Result<Option<Ssl>> {
        self.tls
            .as_ref()
            .map(|ctx| Ssl::new(ctx).map_err(io::Error::other))
            .transpose()
    }
}

/// Broker's TLS context for both roles.
fn tls_context(ssl: &SslOptions) -> std::result::Result<SslContext, String> {
    let fail = |what: &str, e: openssl::error::ErrorStack| format!("TLS: {what}: {e}");
    let mut b = SslContextBuilder::new(SslMethod::tls()).map_err(|e| fail("no context", e))?;
    // A write may take part of the buffer, and the rest may move before it is retried.
    b.set_mode(
        SslMode::ENABLE_PARTIAL_WRITE
            | SslMode::ACCEPT_MOVING_WRITE_BUFFER
            | SslMode::RELEASE_BUFFERS,
    );
    // Read as much as the socket has, not one record header and then its body: two read
    // calls per 16 KiB record otherwise.
    b.set_read_ahead(true);
    // A peer that closes without close_notify (as a crashed or killed one does) is an end
    // of stream, as over plain TCP, not a TLS error.
    b.set_options(TlsOptions::IGNORE_UNEXPECTED_EOF);
    if ssl.authenticated() {
        if let Some(cert) = &ssl.certificate {
            b.set_certificate_chain_file(cert).map_err(|e| {
                fail(
                    &format!("cannot load the certificate {}", cert.display()),
                    e,
                )
            })?;
        }
        if let Some(path) = &ssl.key {
            let pem = std::fs::read(path)
                .map_err(|e| format!("TLS: cannot read the private key {}: {e}", path.display()))?;
            let key = match &ssl.passphrase {
                Some(p) => PKey::private_key_from_pem_passphrase(&pem, p.as_bytes()),
                // Never let OpenSSL ask a terminal for a passphrase.
                None => PKey::private_key_from_pem_callback(&pem, |_| Ok(0)),
            }
            .map_err(|e| {
                let why = if ssl.passphrase.is_some() {
                    "cannot decrypt the private key (wrong passphrase?)"
                } else {
                    "cannot load the private key (encrypted without a passphrase?)"
                };
                fail(&format!("{why} {}", path.display()), e)
            })?;
            b.set_private_key(&key).map_err(|e| {
                fail(
                    "cannot use the private key (does it match the certificate?)",
                    e,
                )
            })?;
            if ssl.certificate.is_some() {
                b.check_private_key()
                    .map_err(|e| fail("the private key does not match the certificate", e))?;
            }
        }
        if ssl.cafile.is_some() || ssl.capath.is_some() {
            b.load_verify_locations(ssl.cafile.as_deref(), ssl.capath.as_deref())
                .map_err(|e| fail("cannot load the trusted CA certificates", e))?;
        }
        b.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
        b.set_cipher_list("HIGH:!aNULL:!MD5")
            .map_err(|e| fail("cipher list", e))?;
    } else {
        b.set_verify(SslVerifyMode::NONE);
        // Decline encrypt-then-MAC, which a default Broker negotiates and spec §1.2 lets a
        // peer decline: with MAC-then-encrypt, OpenSSL runs AES-CBC and HMAC-SHA1 stitched,
        // which moves 1 KiB messages about 1.3 times as fast (README, benchmarks). The mode
        // authenticates nobody, so ETM would not protect it from an active attacker anyway.
        b.set_options(TlsOptions::from_bits_retain(SSL_OP_NO_ENCRYPT_THEN_MAC));
        b.set_groups_list("P-384")
            .map_err(|e| fail("the P-384 group", e))?;
        b.set_cipher_list("AECDH-AES256-SHA@SECLEVEL=0")
            .map_err(|e| fail("the anonymous cipher", e))?;
    }
    b.set_min_proto_version(Some(SslVersion::TLS1_2))
        .map_err(|e| fail("minimum version", e))?;
    Ok(b.build())
}

/// A listening socket of one kind.
pub(super) struct Listener {
    kind: Kind,
    socket: TcpListener,
}

impl Listener {
    /// Binds `addr` with a listen backlog of `backlog` connections and registers the
    /// listener with `registry` under `token`.
    pub(super) fn bind(
        kind: Kind,
        addr: SocketAddr,
        backlog: u32,
        registry: &Registry,
        token: Token,
    ) -> io::Result<Listener> {
        let mut socket = TcpListener::bind(addr)?;
        set_backlog(&socket, backlog)?;
        registry.register(&mut socket, token, Interest::READABLE)?;
        Ok(Listener { kind, socket })
    }

    pub(super) fn kind(&self) -> Kind {
        self.kind
    }

    pub(super) fn local_port(&self) -> io::Result<u16> {
        Ok(self.socket.local_addr()?.port())
    }

    /// Accepts one pending connection, registered under `token`; its TLS (if `security`
    /// has it) is the server side. `Ok(None)` when none is pending (the listener is
    /// drained).
    pub(super) fn accept(
        &self,
        security: &Security,
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
                    security.tune(&socket);
                    let io = match security.session()? {
                        None => Io::Tcp(socket),
                        Some(ssl) => Io::TlsStart {
                            socket,
                            ssl,
                            client: false,
                        },
                    };
                    let stream = Stream {
                        kind: security.kind(),
                        io,
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

/// Sets a listening socket's backlog. mio (like std) listens with 128, which an unpaced
/// burst of connects overflows; calling `listen` again on a listening socket sets a new
/// backlog (Linux caps it at `net.core.somaxconn`).
fn set_backlog(socket: &TcpListener, backlog: u32) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let backlog = libc::c_int::try_from(backlog).unwrap_or(libc::c_int::MAX);
    // SAFETY: the descriptor is the listener's own, open for the duration of the call.
    if unsafe { libc::listen(socket.as_raw_fd(), backlog) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

enum Io {
    Tcp(TcpStream),
    /// TLS not started yet (the TCP connect may still be in flight).
    TlsStart {
        socket: TcpStream,
        ssl: Ssl,
        client: bool,
    },
    TlsHandshake(MidHandshakeSslStream<TcpStream>),
    Tls(Box<SslStream<TcpStream>>),
    /// The TLS handshake failed; the socket is gone.
    Broken,
}

/// A connection's acknowledgements, as the kernel sees them.
#[derive(Clone, Copy, Debug)]
pub(super) struct Acks {
    /// Data or a window probe is out that the peer has not acknowledged yet. A live peer
    /// that keeps its window closed acknowledges the probes; a dead host does not.
    pub awaited: bool,
    /// Since the last acknowledgement arrived.
    pub since_last: Duration,
}

/// One connection's byte stream.
pub(super) struct Stream {
    kind: Kind,
    io: Io,
    /// The TCP connect has completed.
    connected: bool,
}

impl Stream {
    /// Starts a non-blocking connect to `addr`, registered under `token`; its TLS (if
    /// `security` has it) is the client side.
    pub(super) fn connect(
        security: &Security,
        addr: SocketAddr,
        registry: &Registry,
        token: Token,
    ) -> io::Result<Stream> {
        let mut socket = TcpStream::connect(addr)?;
        security.tune(&socket);
        registry.register(&mut socket, token, Interest::READABLE | Interest::WRITABLE)?;
        let io = match security.session()? {
            None => Io::Tcp(socket),
            Some(ssl) => Io::TlsStart {
                socket,
                ssl,
                client: true,
            },
        };
        Ok(Stream {
            kind: security.kind(),
            io,
            connected: false,
        })
    }

    pub(super) fn kind(&self) -> Kind {
        self.kind
    }

    /// What the kernel knows of the peer's acknowledgements (`TCP_INFO`), or None where it
    /// cannot tell.
    pub(super) fn acks(&mut self) -> Option<Acks> {
        use std::os::fd::AsRawFd;
        let fd = self.socket()?.as_raw_fd();
        // SAFETY: tcp_info is plain old data; getsockopt writes at most `len` bytes of it.
        let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
        // SAFETY: `fd` is this stream's open socket; `info` and `len` are valid for writes.
        let rc = unsafe {
            libc::getsockopt(
                fd,
                libc::IPPROTO_TCP,
                libc::TCP_INFO,
                (&mut info as *mut libc::tcp_info).cast(),
                &mut len,
            )
        };
        if rc != 0 {
            return None;
        }
        Some(Acks {
            awaited: info.tcpi_unacked > 0 || info.tcpi_probes > 0,
            since_last: Duration::from_millis(info.tcpi_last_ack_recv.into()),
        })
    }

    fn socket(&mut self) -> Option<&mut TcpStream> {
        match &mut self.io {
            Io::Tcp(s) | Io::TlsStart { socket: s, .. } => Some(s),
            Io::TlsHandshake(m) => Some(m.get_mut()),
            Io::Tls(s) => Some(s.get_mut()),
            Io::Broken => None,
        }
    }

    /// Moves the transport's own setup on (the TCP connect, then the TLS handshake):
    /// `None` while it is still running, then its outcome. A stream is usable for the
    /// peer protocol after `Some(Ok(()))`.
    pub(super) fn establish(&mut self) -> Option<io::Result<()>> {
        if !self.connected {
            let s = self.socket()?;
            match s.take_error() {
                Ok(Some(e)) | Err(e) => return Some(Err(e)),
                Ok(None) => {}
            }
            match s.peer_addr() {
                Ok(_) => {
                    let _ = s.set_nodelay(true);
                    self.connected = true;
                }
                Err(e) if e.kind() == ErrorKind::NotConnected => return None,
                Err(e) => return Some(Err(e)),
            }
        }
        let step = match std::mem::replace(&mut self.io, Io::Broken) {
            io @ (Io::Tcp(_) | Io::Tls(_)) => {
                self.io = io;
                return Some(Ok(()));
            }
            Io::Broken => return Some(Err(io::Error::other("the TLS handshake failed"))),
            Io::TlsStart {
                socket,
                ssl,
                client: true,
            } => ssl.connect(socket),
            Io::TlsStart { socket, ssl, .. } => ssl.accept(socket),
            Io::TlsHandshake(mid) => mid.handshake(),
        };
        match step {
            Ok(s) => {
                self.io = Io::Tls(Box::new(s));
                Some(Ok(()))
            }
            Err(HandshakeError::WouldBlock(mid)) => {
                self.io = Io::TlsHandshake(mid);
                None
            }
            Err(HandshakeError::Failure(mid)) => Some(Err(handshake_failure(&mid))),
            Err(HandshakeError::SetupFailure(e)) => Some(Err(io::Error::other(e))),
        }
    }

    /// Reads what is available; `WouldBlock` when nothing is (or the transport's own setup
    /// is still running).
    pub(super) fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.io {
            Io::Tcp(s) => s.read(buf),
            Io::Tls(s) => tls_io(s.ssl_read(buf)),
            Io::Broken => Ok(0),
            _ => Err(ErrorKind::WouldBlock.into()),
        }
    }

    /// Writes what the transport takes now; `WouldBlock` when it takes nothing.
    pub(super) fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.io {
            Io::Tcp(s) => s.write(buf),
            // At most TLS_WRITE_MAX per call, which bounds what OpenSSL may hold for a
            // write that would block ([`Stream::in_flight`]).
            Io::Tls(s) => tls_io(s.ssl_write(&buf[..buf.len().min(TLS_WRITE_MAX)])),
            Io::Broken => Err(ErrorKind::BrokenPipe.into()),
            _ => Err(ErrorKind::WouldBlock.into()),
        }
    }

    /// How many of the `offered` bytes of a write that would block the stream may have
    /// taken all the same, so that the retry must offer them unchanged: none over TCP; over
    /// TLS, what OpenSSL may have encrypted for records it has not sent.
    pub(super) fn in_flight(&self, offered: usize) -> usize {
        match self.io {
            Io::Tcp(_) => 0,
            _ => offered.min(TLS_WRITE_MAX),
        }
    }

    /// Bytes written to the socket that the peer's kernel has not acknowledged yet
    /// (Linux's `SIOCOUTQ`: unsent and unacknowledged), `None` if that cannot be told.
    /// Over TLS they are TLS bytes, which only ever overstate the plaintext still out.
    /// The spool counts a record as delivered once the peer's kernel has it.
    pub(super) fn unacked(&self) -> Option<usize> {
        let s = match &self.io {
            Io::Tcp(s) | Io::TlsStart { socket: s, .. } => s,
            Io::TlsHandshake(m) => m.get_ref(),
            Io::Tls(s) => s.get_ref(),
            Io::Broken => return None,
        };
        let mut n: libc::c_int = 0;
        // SAFETY: a valid socket fd and a pointer to an int, as SIOCOUTQ takes.
        let r = unsafe { libc::ioctl(std::os::fd::AsRawFd::as_raw_fd(s), libc::TIOCOUTQ, &mut n) };
        (r == 0 && n >= 0).then_some(n as usize)
    }

    /// Ends the stream: TLS says close_notify if the socket takes it now (never waiting),
    /// and the socket leaves the poll.
    pub(super) fn close(&mut self, registry: &Registry) {
        if let Io::Tls(s) = &mut self.io {
            let _ = s.shutdown();
        }
        self.deregister(registry);
    }

    pub(super) fn deregister(&mut self, registry: &Registry) {
        if let Some(s) = self.socket() {
            let _ = registry.deregister(s);
        }
    }
}

/// A TLS read or write as `io`'s: `WouldBlock` when TLS waits for the socket, `Ok(0)` at
/// the peer's close_notify.
fn tls_io(r: std::result::Result<usize, openssl::ssl::Error>) -> io::Result<usize> {
    match r {
        Ok(n) => Ok(n),
        Err(e) => match e.code() {
            ErrorCode::WANT_READ | ErrorCode::WANT_WRITE => Err(ErrorKind::WouldBlock.into()),
            ErrorCode::ZERO_RETURN => Ok(0),
            _ => Err(e
                .into_io_error()
                .unwrap_or_else(|e| io::Error::other(format!("TLS: {e}")))),
        },
    }
}

/// Why a TLS handshake failed, in words: OpenSSL's reason and, if it was the peer's
/// certificate, the verification's.
fn handshake_failure(mid: &MidHandshakeSslStream<TcpStream>) -> io::Error {
    let mut why = format!("TLS handshake failed: {}", mid.error());
    let verify = mid.ssl().verify_result();
    if verify != X509VerifyResult::OK {
        why.push_str(&format!(" (peer certificate: {})", verify.error_string()));
    }
    // What OpenSSL says when the other side sent plain TCP (Broker's probe or hello).
    let plain = [
        "wrong version number",
        "packet length too long",
        "record layer failure",
    ];
    if plain.iter().any(|s| why.contains(s)) {
        why.push_str(
            " (the peer does not speak TLS: disable_ssl must be set on both sides or neither)",
        );
    }
    io::Error::new(ErrorKind::InvalidData, why)
}

/// True if `input` starts like a TLS record (handshake or alert, version 3.x): what a TLS
/// peer sends a plain-TCP one.
pub(super) fn looks_like_tls(input: &[u8]) -> bool {
    matches!(input, [0x15 | 0x16, 0x03, 0x00..=0x04, ..])
}
