"""Endpoints and what they hand out: Subscriber, StatusSubscriber, Publisher, with the
shape of Broker's Python binding."""

import asyncio
import ctypes
import os
import enum
import gc
import math
import select
import threading
import time
import uuid
import warnings as _warnings
import weakref

from . import _codec, _errors, _ffi
from ._data import c_data_new, c_str, encode
from ._errors import Status as St
from ._errors import check
from ._handle import Handle, Owned, deadline_of, run_interruptibly, slice_ms

_lib = _ffi.lib
_byref = ctypes.byref
_string_at = ctypes.string_at
_gc_isenabled, _gc_disable, _gc_enable = gc.isenabled, gc.disable, gc.enable
_P = ctypes.c_void_p

# Broker's default for await_peer (defaults::await_peer_timeout), in seconds.
AWAIT_PEER_TIMEOUT = 10.0

__all__ = [
    "Endpoint",
    "Metrics",
    "Subscriber",
    "SafeSubscriber",
    "StatusSubscriber",
    "Publisher",
    "Configuration",
    "BrokerOptions",
    "OverflowPolicy",
    "SpoolPolicy",
    "Topic",
    "EndpointInfo",
    "NetworkInfo",
    "PeerInfo",
    "PeerStatus",
    "PeerFlags",
    "SC",
    "EC",
    "Status",
    "Error",
]


# --- enums -------------------------------------------------------------------------------


class SC(enum.IntEnum):
    """Broker's status codes."""

    Unspecified = 0
    PeerAdded = 1
    PeerRemoved = 2
    PeerLost = 3
    EndpointDiscovered = 4
    EndpointUnreachable = 5


class EC(enum.IntEnum):
    """Broker's error codes (the names of Broker's binding where it has them)."""

    Unspecified = 1
    PeerIncompatible = 2
    PeerInvalid = 3
    PeerUnavailable = 4
    PeerDisconnectDuringHandshake = 5
    PeerTimeout = 6
    MasterExists = 7
    NoSuchMaster = 8
    NoSuchKey = 9
    RequestTimeOut = 10
    TypeClash = 11
    InvalidData = 12
    BackendFailure = 13
    StaleData = 14
    CannotOpenFile = 15
    CannotWriteFile = 16
    InvalidTopicKey = 17
    EndOfFile = 18
    InvalidTag = 19
    InvalidMessage = 20
    InvalidStatus = 21
    ConversionFailed = 22
    ConsumerExists = 23
    ConnectionTimeout = 24
    BadMemberFunctionCall = 25
    RepeatedRequestId = 26
    BrokenClone = 27
    ShuttingDown = 28
    InvalidPeeringRequest = 29
    RepeatedPeeringHandshakeRequest = 30
    UnexpectedHandshakeMessage = 31
    InvalidHandshakeState = 32
    NoPathToPeer = 33
    NoConnectorAvailable = 34
    CannotOpenResource = 35
    SerializationFailed = 36
    DeserializationFailed = 37
    WrongMagicNumber = 38
    RedundantConnection = 39
    LogicError = 40


class PeerStatus(enum.IntEnum):
    """How far a peering has come (Broker's numbers; brook reports Connecting, Peered and
    Reconnecting)."""

    Initialized = 0
    Connecting = 1
    Connected = 2
    Peered = 3
    Disconnected = 4
    Reconnecting = 5


_PEER_STATUS = {0: PeerStatus.Connecting, 1: PeerStatus.Peered, 2: PeerStatus.Reconnecting}


class PeerFlags(enum.IntFlag):
    Invalid = 0
    Local = 1
    Remote = 2
    Outbound = 4
    Inbound = 8


class APIFlags(enum.IntEnum):
    """Broker's API flags (kept for scripts that name them; brook's API is one)."""

    Blocking = 1
    NonBlocking = 2


class Frontend(enum.IntEnum):
    """Broker's store frontends."""

    Clone = 0
    Master = 1


class OverflowPolicy(enum.IntEnum):
    """What a full queue does with one more message (brook_overflow_policy)."""

    Disconnect = 0
    DropNewest = 1
    DropOldest = 2
    Block = 3


class SpoolPolicy(enum.IntEnum):
    """What a full spool does (brook_spool_policy): ``Block`` holds the publishers back,
    ``DropOldest`` drops the oldest spooled messages, counted in ``spool_dropped``."""

    Block = 0
    DropOldest = 1


# --- small value classes -----------------------------------------------------------------


class Topic(str):
    """A topic: a str, with Broker's ``string()``, and ``/`` to append a component with a
    separator as Broker's ``topic::operator/=`` does (``Topic("/a") / "b"`` is ``/a/b``; a
    trailing separator of the result is dropped)."""

    def string(self):
        return str(self)

    def __truediv__(self, other):
        lhs, rhs = str(self), str(other)
        if rhs and rhs[0] != "/" and lhs:
            lhs += "/"
        lhs += rhs
        if lhs.endswith("/"):
            lhs = lhs[:-1]
        return Topic(lhs)

    __itruediv__ = __truediv__


def _topics(topics):
    if isinstance(topics, (str, bytes)):
        topics = [topics]
    out = []
    for t in topics:
        if isinstance(t, bytes):
            t = t.decode("utf-8")
        out.append(c_str(t, "a topic"))
    return out


class NetworkInfo:
    """A peer's network address: ``address`` (text) and ``port``. For the scripts that
    unwrap Broker's optional, ``is_set()`` is True and ``get()`` returns itself."""

    __slots__ = ("address", "port")

    def __init__(self, address, port):
        self.address = address
        self.port = port

    def is_set(self):
        return True

    def get(self):
        return self

    def __eq__(self, other):
        return isinstance(other, NetworkInfo) and (self.address, self.port) == (
            other.address,
            other.port,
        )

    def __hash__(self):
        return hash((self.address, self.port))

    def __repr__(self):
        return f"{self.address}:{self.port}"


class _NoNetworkInfo:
    """Stands for an absent NetworkInfo: ``is_set()`` is False."""

    __slots__ = ()

    def is_set(self):
        return False

    def get(self):
        raise ValueError("no network information")

    def __bool__(self):
        return False

    def __repr__(self):
        return "nil"


_NO_NETWORK = _NoNetworkInfo()


def _id_string(id16):
    s = _P()
    check(_lib.brook_id_to_string(id16, _byref(s)))
    try:
        return ctypes.string_at(s).decode("ascii")
    finally:
        _lib.brook_string_free(s)


def _id_bytes(node):
    """16 ID bytes from an EndpointInfo, an Endpoint or an ID string."""
    if isinstance(node, EndpointInfo):
        return node._id
    if isinstance(node, Endpoint):
        return node._id
    if isinstance(node, str):
        try:
            return uuid.UUID(node).bytes
        except ValueError:
            raise _errors.InvalidArgument(
                St.INVALID_ARGUMENT, f"not an endpoint ID: {node!r}"
            ) from None
    raise _errors.TypeMismatch(
        St.TYPE_MISMATCH, f"not an endpoint: {type(node).__name__}"
    )


class EndpointInfo:
    """An endpoint as a status event or peer list names it: ``node_id()`` and ``network``
    (a NetworkInfo, or an unset one)."""

    __slots__ = ("_id", "network")

    def __init__(self, id16, network=None):
        self._id = bytes(id16)
        self.network = network if network is not None else _NO_NETWORK

    def node_id(self):
        return _id_string(self._id) if any(self._id) else None

    def __eq__(self, other):
        return isinstance(other, EndpointInfo) and self._id == other._id

    def __hash__(self):
        return hash(self._id)

    def __repr__(self):
        return str(self.node_id())


class PeerInfo:
    """One peering: ``peer`` (an EndpointInfo), ``flags`` and ``status``; brook adds
    ``dropped``, the messages for the peer its overflow policy dropped."""

    __slots__ = ("peer", "flags", "status", "dropped")

    def __init__(self, peer, flags, status, dropped=0):
        self.peer = peer
        self.flags = flags
        self.status = status
        self.dropped = dropped

    def __repr__(self):
        return f"PeerInfo({self.peer!r}, {self.peer.network!r}, {self.status.name})"


class _StatusBase:
    __slots__ = ("_code", "_context", "_message", "_name")

    def __init__(self, code, context, message, name):
        self._code = code
        self._context = context
        self._message = message
        self._name = name

    def code(self):
        return self._code

    def context(self):
        """The endpoint the event concerns (an EndpointInfo), or None."""
        return self._context

    def message(self):
        return self._message

    def name(self):
        """Broker's snake_case name of the code, such as ``peer_added``."""
        return self._name

    def __repr__(self):
        return f"{self._name}({self._context!r}, {self._message!r})"


class Status(_StatusBase):
    """A status event: ``code()`` is an SC."""

    __slots__ = ()


class Error(_StatusBase):
    """An error event: ``code()`` is an EC."""

    __slots__ = ()


# --- configuration -----------------------------------------------------------------------


class BrokerOptions:
    """Broker's options. brook uses ``disable_ssl`` (plain TCP instead of TLS; both peers
    must agree) and ``disable_forwarding``; ``ignore_broker_conf`` and ``use_real_time``
    have no meaning here."""

    disable_ssl = False
    disable_forwarding = False
    ignore_broker_conf = False
    use_real_time = True

    def __init__(self):
        self.disable_ssl = False
        self.disable_forwarding = False
        self.ignore_broker_conf = False
        self.use_real_time = True


def _policy(p):
    if isinstance(p, str):
        try:
            return OverflowPolicy[
                "".join(w.capitalize() for w in p.replace("-", "_").split("_"))
            ]
        except KeyError:
            raise _errors.InvalidArgument(
                St.INVALID_ARGUMENT, f"unknown overflow policy {p!r}"
            ) from None
    return int(p)


class Configuration:
    """What an Endpoint is made with: Broker's ``Configuration(BrokerOptions())``, plus
    brook's own settings (None keeps brook's default; times are in seconds):

    - ``peer_buffer_size``, ``peer_overflow_policy`` (default ``"block"``: publishers wait
      for a slow peer, nothing is lost; Broker's ``"disconnect"``, ``"drop_newest"`` and
      ``"drop_oldest"`` apply after ``peer_stall_timeout``), ``peer_stall_timeout``
    - ``peer_timeout``: a dead peer (host gone, path cut) is dropped within about this
      time, through TCP keepalive and ``TCP_USER_TIMEOUT`` (default 30; 0: the system's)
    - ``subscriber_queue_size``, ``subscriber_overflow_policy`` (an OverflowPolicy or its
      name, such as ``"drop_oldest"``)
    - ``max_frame_size`` (bytes; default Broker's limit, 2**31 - 5: larger frames from a
      peer end that peering, and publishing or storing what needs one raises EncodeError),
      ``listen_backlog`` (default 4096), ``handshake_timeout``, ``unpeer_timeout``,
      ``max_malformed_in_a_row``
    - ``busy_poll``: how long the reactor keeps looking for work before it sleeps, while
      that pays (request/response traffic); lower latency for some CPU; at most 1 s,
      default 50 µs, 0 turns it off
    - ``metrics_port`` (Broker's ``broker.metrics.port``; 0: any free port, see
      ``Endpoint.metrics_port()``) and ``metrics_address`` (default: every interface):
      serve ``Endpoint.metrics()`` in Prometheus' text format on ``/metrics``;
      ``BROKER_METRICS_PORT`` in the environment overrides the port, as in Broker
    - ``spool_dir``: a durable spool (brook's ``brook.spool.dir``; Broker has none): what
      is published while no peer takes it waits on disk and is delivered, in order, when
      one comes back, also by a new endpoint on the same directory; ``spool_max_size``
      (bytes, default 1 GiB), ``spool_policy`` (a SpoolPolicy or ``"block"``,
      ``"drop_oldest"``), ``spool_topics`` (prefixes, each a queue of its own; default
      every topic), ``spool_fsync``

    TLS is Broker's: anonymous by default, authenticated once any of
    ``openssl_certificate``, ``openssl_key``, ``openssl_passphrase``, ``openssl_cafile`` or
    ``openssl_capath`` is set; ``BrokerOptions.disable_ssl`` turns it off.
    """

    # Broker's fields, also readable on the class.
    openssl_cafile = ""
    openssl_capath = ""
    openssl_certificate = ""
    openssl_key = ""
    openssl_passphrase = ""
    max_threads = 0

    def __init__(self, options=None):
        self.options = options if options is not None else BrokerOptions()
        self.openssl_cafile = ""
        self.openssl_capath = ""
        self.openssl_certificate = ""
        self.openssl_key = ""
        self.openssl_passphrase = ""
        self.max_threads = 0
        self.peer_buffer_size = None
        self.peer_overflow_policy = None
        self.peer_stall_timeout = None
        self.peer_timeout = None
        self.subscriber_queue_size = None
        self.subscriber_overflow_policy = None
        self.max_frame_size = None
        self.listen_backlog = None
        self.handshake_timeout = None
        self.unpeer_timeout = None
        self.max_malformed_in_a_row = None
        self.busy_poll = None
        self.metrics_port = None
        self.metrics_address = None
        self.spool_dir = None
        self.spool_max_size = None
        self.spool_policy = None
        self.spool_topics = None
        self.spool_fsync = None

    def _make(self):
        """A new brook_config; the caller frees it."""
        cfg = _P()
        check(_lib.brook_config_new(_byref(cfg)))
        try:
            # Broker's order: the options, then ./broker.conf over them, then the settings.
            check(_lib.brook_config_set_disable_forwarding(cfg, bool(self.options.disable_forwarding)))
            check(_lib.brook_config_set_disable_ssl(cfg, bool(self.options.disable_ssl)))
            if not self.options.ignore_broker_conf and os.path.isfile("broker.conf"):
                warn = _P()
                check(_lib.brook_config_read_file(cfg, b"broker.conf", _byref(warn)))
                if warn.value:
                    text = ctypes.string_at(warn.value).decode()
                    _lib.brook_string_free(warn)
                    _warnings.warn(f"broker.conf: {text}", stacklevel=3)
            ms = lambda s: int(round(s * 1000))  # noqa: E731
            settings = [
                (self.peer_buffer_size, _lib.brook_config_set_peer_buffer_size, int),
                (self.peer_overflow_policy, _lib.brook_config_set_peer_overflow_policy, _policy),
                (self.peer_stall_timeout, _lib.brook_config_set_peer_stall_timeout_ms, ms),
                (self.peer_timeout, _lib.brook_config_set_peer_timeout_ms, ms),
                (self.subscriber_queue_size, _lib.brook_config_set_subscriber_queue_size, int),
                (
                    self.subscriber_overflow_policy,
                    _lib.brook_config_set_subscriber_overflow_policy,
                    _policy,
                ),
                (self.max_frame_size, _lib.brook_config_set_max_frame_size, int),
                (self.listen_backlog, _lib.brook_config_set_listen_backlog, int),
                (self.handshake_timeout, _lib.brook_config_set_handshake_timeout_ms, ms),
                (self.unpeer_timeout, _lib.brook_config_set_unpeer_timeout_ms, ms),
                (self.max_malformed_in_a_row, _lib.brook_config_set_max_malformed_in_a_row, int),
                (self.busy_poll, _lib.brook_config_set_busy_poll_us, lambda s: int(round(s * 1e6))),
            ]
            for value, setter, conv in settings:
                if value is not None:
                    _call_setter(setter, cfg, conv(value))
            if self.metrics_port is not None or self.metrics_address is not None:
                port = -1 if self.metrics_port is None else _port(self.metrics_port)
                addr = None if self.metrics_address is None else str(self.metrics_address).encode()
                check(_lib.brook_config_set_metrics_port(cfg, port, addr))
            creds = [
                str(v).encode() if v else None
                for v in (self.openssl_certificate, self.openssl_key, self.openssl_passphrase,
                          self.openssl_cafile, self.openssl_capath)
            ]
            if any(creds):
                check(_lib.brook_config_set_ssl(cfg, *creds))
            self._make_spool(cfg)
        except BaseException:
            _lib.brook_config_free(cfg)
            raise
        return cfg


    def _make_spool(self, cfg):
        if self.spool_dir is not None:
            check(_lib.brook_config_set_spool_dir(cfg, os.fsencode(self.spool_dir)))
        if self.spool_max_size is not None:
            _call_setter(_lib.brook_config_set_spool_max_size, cfg, int(self.spool_max_size))
        if self.spool_policy is not None:
            _call_setter(_lib.brook_config_set_spool_policy, cfg, _spool_policy(self.spool_policy))
        if self.spool_topics is not None:
            topics = [str(t).encode() for t in self.spool_topics]
            array = (ctypes.c_char_p * max(len(topics), 1))(*topics)
            check(_lib.brook_config_set_spool_topics(cfg, array, len(topics)))
        if self.spool_fsync is not None:
            check(_lib.brook_config_set_spool_fsync(cfg, bool(self.spool_fsync)))


def _spool_policy(p):
    if isinstance(p, str):
        try:
            return SpoolPolicy[
                "".join(w.capitalize() for w in p.replace("-", "_").split("_"))
            ]
        except KeyError:
            raise _errors.InvalidArgument(
                St.INVALID_ARGUMENT, f"unknown spool policy {p!r}"
            ) from None
    return int(p)


def _call_setter(setter, obj, value):
    try:
        status = setter(obj, value)
    except ctypes.ArgumentError as e:
        raise _errors.InvalidArgument(St.INVALID_ARGUMENT, f"bad setting: {e}") from None
    check(status)


# --- endpoint ----------------------------------------------------------------------------


def _seconds_ms(retry):
    if hasattr(retry, "total_seconds"):
        retry = retry.total_seconds()
    if retry is None or retry <= 0:
        return 0
    return min(int(round(retry * 1000)), 0xFFFFFFFF)


def _port(port):
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise _errors.InvalidArgument(
            St.INVALID_ARGUMENT, f"a port is an int from 0 to 65535, not {port!r}"
        )
    return port


class Metrics:
    """A snapshot of an endpoint's counters (``Endpoint.metrics()``): ``endpoint``, a dict
    of the reactor's counters (``turns``, ``wakeups``, ``busy_poll_hits``,
    ``busy_poll_misses``, ``published``, ``processed_data``, ``processed_command``,
    ``processed_routing_update``, ``processed_ping``, ``processed_pong``, ``connections``,
    ``peerings``, ``listeners``, ``stores``, ``discarded``, and the spool's ``spooled``,
    ``replayed``, ``spool_dropped``, ``spool_damaged``, ``spool_records``,
    ``spool_bytes``); ``peers``, one dict per connection (``ip``,
    ``port``, ``id`` as an EndpointInfo, ``status``, ``frames_in``, ``bytes_in``,
    ``frames_out``, ``bytes_out``, ``queued_frames``, ``queued_bytes``, ``dropped``,
    ``idle_ms``); ``subscribers``, one dict per local subscriber (``id``, ``queued``,
    ``delivered``, ``dropped``); and ``text``, all of it in Prometheus' text format."""

    _ENDPOINT = ("turns", "wakeups", "busy_poll_hits", "busy_poll_misses", "published",
                 "processed_data", "processed_command", "processed_routing_update",
                 "processed_ping", "processed_pong", "connections", "peerings", "listeners",
                 "stores", "discarded", "spooled", "replayed", "spool_dropped",
                 "spool_damaged", "spool_records", "spool_bytes")
    _PEER = ("frames_in", "bytes_in", "frames_out", "bytes_out", "queued_frames",
             "queued_bytes", "dropped", "idle_ms")
    _SUBSCRIBER = ("id", "queued", "delivered", "dropped")

    __slots__ = ("endpoint", "peers", "subscribers", "text")

    @classmethod
    def _read(cls, m):
        self = cls.__new__(cls)
        v = ctypes.c_uint64()
        n = ctypes.c_size_t()

        def counters(names, call, *where):
            out = {}
            for i, name in enumerate(names):
                check(call(m, *where, i, _byref(v)))
                out[name] = v.value
            return out

        self.endpoint = counters(cls._ENDPOINT, _lib.brook_metrics_endpoint)
        self.peers = []
        check(_lib.brook_metrics_peers_len(m, _byref(n)))
        for i in range(n.value):
            peer = counters(cls._PEER, _lib.brook_metrics_peer, i)
            ip, port = ctypes.c_char_p(), ctypes.c_uint16()
            id16, st = (ctypes.c_uint8 * 16)(), ctypes.c_int()
            check(_lib.brook_metrics_peer_address(m, i, _byref(ip), _byref(port), id16, _byref(st)))
            peer.update(ip=ip.value.decode(), port=port.value,
                        id=EndpointInfo(bytes(id16), NetworkInfo(ip.value.decode(), port.value)),
                        status=_PEER_STATUS[st.value])
            self.peers.append(peer)
        self.subscribers = []
        check(_lib.brook_metrics_subscribers_len(m, _byref(n)))
        for i in range(n.value):
            self.subscribers.append(counters(cls._SUBSCRIBER, _lib.brook_metrics_subscriber, i))
        text = ctypes.c_char_p()
        check(_lib.brook_metrics_text(m, _byref(text)))
        self.text = text.value.decode()
        return self

    def __repr__(self):
        return (f"Metrics(peers={len(self.peers)}, subscribers={len(self.subscribers)}, "
                f"processed_data={self.endpoint['processed_data']})")


class Endpoint(Owned):
    """A Broker endpoint: one reactor thread with its listeners, peers, subscribers and
    stores. ``Endpoint(Configuration(...))``; use it with ``with``, or call ``shutdown()``
    (Broker's name) or ``close()``. Safe to share between threads."""

    def __init__(self, config=None):
        cfg = (config if config is not None else Configuration())._make()
        ptr = _P()
        try:
            check(_lib.brook_endpoint_new(cfg, _byref(ptr)))
        finally:
            _lib.brook_config_free(cfg)
        self._h = Handle(ptr, _lib.brook_endpoint_free, "endpoint", _shutdown_report)
        self._finalizer = weakref.finalize(self, self._h.close)
        id16 = (ctypes.c_uint8 * 16)()
        check(_lib.brook_endpoint_id(ptr, id16))
        self._id = bytes(id16)
        self._node_id = _id_string(self._id)
        self._fd_publisher = None  # made on first need: its fd says when publishing can go on
        self._fd_lock = threading.Lock()

    # Lifetime.

    def shutdown(self):
        """Stops the endpoint: delivers what is queued, says goodbye to its peers and ends
        its thread, waiting up to the unpeer timeout (3 s) for peers to take what is
        queued. Returns how many messages it could not deliver (0 on a second call); they
        are also reported as an error status event. Later calls on the endpoint raise
        Closed; subscribers hand out what they hold."""

        return self._h.shutdown() or 0

    def close(self):
        """Shuts the endpoint down and frees it. Idempotent."""
        if self._fd_publisher is not None:
            self._fd_publisher.close()
        self._h.close()

    def __repr__(self):
        return self._node_id

    def node_id(self):
        """This endpoint's ID, as Broker writes it."""
        return self._node_id

    def info(self):
        return EndpointInfo(self._id)

    # Peering.

    def listen(self, address="", port=0):
        """Listens for peers on `address` ("" for every interface) and `port` (0: any free
        port); returns the port bound."""
        addr = c_str(address or "0.0.0.0", "an address")
        out = ctypes.c_uint16()
        p = self._h.acquire()
        try:
            check(_lib.brook_endpoint_listen(p, addr, _port(port), _byref(out)))
        finally:
            self._h.release()
        return out.value

    def peer(self, address, port, retry=10.0):
        """Peers with the endpoint at `address` and `port` and waits for the handshake.
        Returns True once peered, False if the peer is unavailable. With `retry` seconds
        > 0, brook keeps retrying a failed or lost peering in the background."""
        host = c_str(address, "an address")
        port = _port(port)
        retry_ms = _seconds_ms(retry)

        def call():
            p = self._h.acquire()
            try:
                return _lib.brook_endpoint_peer(p, host, port, retry_ms, None), _last_error()
            finally:
                self._h.release()

        status, message = run_interruptibly(call)
        if status in (St.PEER_UNAVAILABLE, St.TIMEOUT):
            return False
        if status:
            raise _errors.error(status, message)
        return True

    def peer_nosync(self, address, port, retry=10.0):
        """Like peer(), but returns at once; the outcome arrives as a status event."""
        host = c_str(address, "an address")
        p = self._h.acquire()
        try:
            check(_lib.brook_endpoint_peer_nosync(p, host, _port(port), _seconds_ms(retry)))
        finally:
            self._h.release()

    def unpeer(self, address, port):
        """Ends the peering with `address` and `port` (as given to peer()). False if there
        was no such peering."""
        host = c_str(address, "an address")
        p = self._h.acquire()
        try:
            status = _lib.brook_endpoint_unpeer(p, host, _port(port))
        finally:
            self._h.release()
        if status == St.INVALID_ARGUMENT:
            return False
        check(status)
        return True

    unpeer_nosync = unpeer

    def peers(self):
        """The peerings and peering attempts, as PeerInfo objects."""
        lst = _P()
        p = self._h.acquire()
        try:
            check(_lib.brook_endpoint_peers(p, _byref(lst)))
        finally:
            self._h.release()
        try:
            n = ctypes.c_size_t()
            check(_lib.brook_peer_list_len(lst, _byref(n)))
            out = []
            for i in range(n.value):
                id16 = (ctypes.c_uint8 * 16)()
                check(_lib.brook_peer_list_id(lst, i, id16, None))
                ip = ctypes.c_char_p()
                port = ctypes.c_uint16()
                check(_lib.brook_peer_list_address(lst, i, _byref(ip), _byref(port)))
                outbound = ctypes.c_bool()
                check(_lib.brook_peer_list_outbound(lst, i, _byref(outbound)))
                st = ctypes.c_int()
                check(_lib.brook_peer_list_status(lst, i, _byref(st)))
                dropped = ctypes.c_uint64()
                check(_lib.brook_peer_list_dropped(lst, i, _byref(dropped)))
                net = NetworkInfo(ip.value.decode(), port.value) if ip.value else None
                flags = PeerFlags.Remote | (
                    PeerFlags.Outbound if outbound.value else PeerFlags.Inbound
                )
                out.append(
                    PeerInfo(
                        EndpointInfo(bytes(id16), net),
                        flags,
                        _PEER_STATUS[st.value],
                        dropped.value,
                    )
                )
            return out
        finally:
            _lib.brook_peer_list_free(lst)

    def metrics(self):
        """A snapshot of the endpoint's counters, as a Metrics object."""
        m = _P()
        p = self._h.acquire()
        try:
            check(_lib.brook_endpoint_metrics(p, _byref(m)))
        finally:
            self._h.release()
        try:
            return Metrics._read(m)
        finally:
            _lib.brook_metrics_free(m)

    def metrics_port(self):
        """The port the Prometheus listener is bound to, or None when it does not run."""
        port = self._h.get(_lib.brook_endpoint_metrics_port, ctypes.c_int32)
        return None if port < 0 else port

    def peer_subscriptions(self):
        """The topic prefixes the peers subscribed to, sorted (a list of Topic)."""
        lst = _P()
        p = self._h.acquire()
        try:
            check(_lib.brook_endpoint_peer_subscriptions(p, _byref(lst)))
        finally:
            self._h.release()
        try:
            n = ctypes.c_size_t()
            check(_lib.brook_topic_list_len(lst, _byref(n)))
            out = []
            buf = ctypes.POINTER(ctypes.c_char)()
            ln = ctypes.c_size_t()
            for i in range(n.value):
                check(_lib.brook_topic_list_get(lst, i, _byref(buf), _byref(ln)))
                out.append(Topic(buf[: ln.value].decode("utf-8", "replace")))
            return out
        finally:
            _lib.brook_topic_list_free(lst)

    def await_peer(self, node=None, timeout=None):
        """Waits until `node` (an ID string, EndpointInfo or Endpoint; None: any endpoint)
        is a peer, or has been discovered while waiting. True if it came, False once
        `timeout` seconds have passed: None takes Broker's default of 10 s
        (AWAIT_PEER_TIMEOUT), ``math.inf`` waits without limit. As in current Broker, only
        direct peers are known: for an endpoint further away (reached through forwarding)
        this returns False after the timeout."""
        want = None if node is None else _id_bytes(node)
        if timeout is None:
            timeout = AWAIT_PEER_TIMEOUT
        elif hasattr(timeout, "total_seconds"):
            timeout = timeout.total_seconds()
        deadline = deadline_of(None if timeout == math.inf else timeout)
        with self.make_status_subscriber(receive_statuses=True) as events:
            while True:
                for info in self.peers():
                    if info.status == PeerStatus.Peered and want in (None, info.peer._id):
                        return True
                ms = slice_ms(deadline)
                if ms == 0:
                    return False
                ev = events._next(ms)
                if (
                    ev is not None
                    and isinstance(ev, Status)
                    and ev.code() in (SC.EndpointDiscovered, SC.PeerAdded)
                    and ev.context() is not None
                    and want in (None, ev.context()._id)
                ):
                    return True

    def forward(self, topics):
        """Subscribes on the peers to `topics` without a local subscriber, so this endpoint
        passes such messages on between its peers."""
        p = self._h.acquire()
        try:
            for t in _topics(topics):
                check(_lib.brook_endpoint_forward(p, t))
        finally:
            self._h.release()

    # Publishing.

    def _publish_fd(self):
        with self._fd_lock:
            if self._fd_publisher is None:
                self._fd_publisher = self.make_publisher("/brook/internal/fd")
            return self._fd_publisher.fd()

    def _wait_writable(self, deadline=None):
        """Waits (in slices) until the publish queue has room again."""
        fd = self._publish_fd()
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        while not poller.poll(slice_ms(deadline) or 0):
            if self._h.closed or (deadline is not None and time.monotonic() >= deadline):
                return

    def publish(self, *args):
        """``publish(topic, data)`` publishes to the peers subscribed to `topic`; as in
        Broker, this endpoint's own subscribers do not receive it. ``publish(endpoint,
        topic, data)`` sends to that direct peer only (an EndpointInfo or ID string); with
        this endpoint's own ID it reaches its own subscribers. Waits while the publish queue
        is full."""
        if len(args) == 2:
            topic, data = args
            dest = None
        elif len(args) == 3:
            dest, topic, data = args
            dest = (ctypes.c_uint8 * 16).from_buffer_copy(_id_bytes(dest))
        else:
            raise TypeError("publish(topic, data) or publish(endpoint, topic, data)")
        topic = c_str(topic, "a topic")
        d = c_data_new(encode(data))
        try:
            while True:
                p = self._h.acquire()
                try:
                    if dest is not None:
                        return check(_lib.brook_endpoint_publish_to(p, dest, topic, d))
                    status = _lib.brook_endpoint_try_publish(p, topic, d)
                finally:
                    self._h.release()
                if status != St.WOULD_BLOCK:
                    return check(status)
                self._wait_writable()
        finally:
            _lib.brook_data_free(d)

    def publish_batch(self, *batch):
        """Publishes several ``(topic, data)`` pairs in order, handing each run of one topic
        to the reactor at once (far cheaper per message than publish())."""
        runs = []
        for item in batch:
            try:
                topic, data = item
            except (TypeError, ValueError):
                raise _errors.TypeMismatch(
                    St.TYPE_MISMATCH, "publish_batch takes (topic, data) pairs"
                ) from None
            if runs and runs[-1][0] == topic:
                runs[-1][1].append(data)
            else:
                runs.append((topic, [data]))
        for topic, values in runs:
            t = c_str(topic, "a topic")
            _publish_values(
                self._h, values, lambda p, arr, n, t=t: _lib.brook_endpoint_publish_batch(p, t, arr, n),
                self._wait_writable,
            )

    def flush(self):
        """Waits until everything published so far has been handed to the peers' sockets."""

        def call():
            p = self._h.acquire()
            try:
                return _lib.brook_endpoint_flush(p), _last_error()
            finally:
                self._h.release()

        status, message = run_interruptibly(call)
        if status:
            raise _errors.error(status, message)

    # Making children.

    def make_subscriber(self, topics, qsize=20, subscriber_class=None):
        """A Subscriber for `topics` (a topic or a list of them; each a prefix). `qsize`
        is its queue's size in messages, 20 by default as in Broker's binding (a full queue
        holds back the senders); None takes the endpoint's
        Configuration.subscriber_queue_size (8192 unless set), for high rates."""
        cls = subscriber_class or Subscriber
        ts = _topics(topics)
        arr = (ctypes.c_char_p * max(1, len(ts)))(*ts)
        ptr = _P()
        p = self._h.acquire()
        try:
            if qsize is None:
                check(_lib.brook_endpoint_subscribe(p, arr, len(ts), _byref(ptr)))
            else:
                check(_lib.brook_endpoint_subscribe_sized(p, arr, len(ts), int(qsize), _byref(ptr)))
        finally:
            self._h.release()
        return cls(ptr, self)

    def make_safe_subscriber(self, topics, qsize=20):
        """A SafeSubscriber: values come back immutable and hashable throughout."""
        return self.make_subscriber(topics, qsize, SafeSubscriber)

    def make_status_subscriber(self, receive_statuses=False):
        """A StatusSubscriber for the error events, and the status events too with
        `receive_statuses`, as in Broker."""
        ptr = _P()
        p = self._h.acquire()
        try:
            check(_lib.brook_endpoint_status_subscriber(p, True, _byref(ptr)))
        finally:
            self._h.release()
        return StatusSubscriber(ptr, self, receive_statuses)

    def make_publisher(self, topic):
        """A Publisher for `topic`."""
        t = c_str(topic, "a topic")
        ptr = _P()
        p = self._h.acquire()
        try:
            check(_lib.brook_endpoint_publisher(p, t, _byref(ptr)))
        finally:
            self._h.release()
        return Publisher(ptr, self)

    def attach_master(self, name, type=None, opts=None):
        """The master of the store `name`, kept as `type` says (Backend.Memory, the default,
        or Backend.SQLite with ``opts={"path": ...}``). Raises MasterExists if a master or
        clone of `name` is here, or a peer has its master."""
        from ._store import attach_master

        return attach_master(self, name, type, opts)

    def attach_clone(self, name, **options):
        """A clone of the store `name`, which finds its master among the peers. Keyword
        options (seconds): stale_interval, mutation_buffer_interval, resync_interval,
        max_get_delay."""
        from ._store import attach_clone

        return attach_clone(self, name, options)


def _shutdown_report(ptr):
    """brook_endpoint_shutdown_report: the messages the shutdown could not deliver."""
    n = ctypes.c_uint64()
    check(_lib.brook_endpoint_shutdown_report(ptr, _byref(n)))
    return n.value


def _last_error():
    text = _lib.brook_last_error()
    return text.decode("utf-8", "replace") if text else None


def _publish_values(handle, values, call, wait_writable):
    """Publishes `values` with one batch `call(ptr, array, n)`."""
    ptrs = []
    try:
        for v in values:
            ptrs.append(c_data_new(encode(v)))
        arr = (_P * max(1, len(ptrs)))(*[d.value for d in ptrs])
        wait_writable()
        p = handle.acquire()
        try:
            check(call(p, arr, len(ptrs)))
        finally:
            handle.release()
    finally:
        for d in ptrs:
            _lib.brook_data_free(d)


# --- subscribers -------------------------------------------------------------------------

_BATCH = 1024
# The bytes a Subscriber receives into: room for a batch of small messages. A larger
# message comes through a buffer of its own size.
_RECV_BUFFER = 128 * 1024


def _get_args(a, b, num, timeout):
    """Broker's overloads: get(), get(timeout: float), get(num: int), get(num, timeout)."""
    if a is not None:
        if b is not None:
            num, timeout = a, b
        elif isinstance(a, float) or hasattr(a, "total_seconds"):
            timeout = a
        else:
            num = a
    if num is not None:
        if isinstance(num, bool) or not isinstance(num, int) or num < 0:
            raise _errors.InvalidArgument(
                St.INVALID_ARGUMENT, f"a message count is an int >= 0, not {num!r}"
            )
    return num, timeout


class _Receiver(Owned):
    """What Subscriber and StatusSubscriber share: a handle, its parent, the
    ``get``/``poll`` shapes, ``fd`` and asyncio waits."""

    def __init__(self, handle, parent):
        self._h = handle
        self._parent = parent  # keeps the endpoint alive while this lives
        self._finalizer = weakref.finalize(self, handle.close)
        self._fd_value = None
        self._waiters = []

    def close(self):
        """Unsubscribes and frees the subscriber. Idempotent."""
        self._h.close()

    def get(self, a=None, b=None, *, num=None, timeout=None):
        """Broker's forms: ``get()`` waits for one message; ``get(timeout)`` (a float, in
        seconds) returns one or None; ``get(n)`` waits for n and returns a list;
        ``get(n, timeout)`` returns a list of at most n. Waits can be interrupted with
        Ctrl-C."""
        num, timeout = _get_args(a, b, num, timeout)
        deadline = deadline_of(timeout)
        if num is None:
            while True:
                got = self._take(1)
                if got:
                    return got[0]
                x = self._next(slice_ms(deadline))
                if x is not None:
                    return x
                if deadline is not None and time.monotonic() >= deadline:
                    return None
        out = []
        while len(out) < num:
            out += self._take(num - len(out))
            if len(out) >= num:
                break
            x = self._next(slice_ms(deadline))
            if x is not None:
                out.append(x)
            elif deadline is not None and time.monotonic() >= deadline:
                break
        return out

    def poll(self):
        """The messages waiting now, without waiting (a list, maybe empty). Those arriving
        meanwhile wait for the next call, so one call never runs on."""
        out = self._take(_BATCH)
        if len(out) < _BATCH:
            return out
        left = self.available()
        while left > 0:
            got = self._take(min(left, _BATCH))
            if not got:
                break
            out += got
            left -= len(got)
        return out

    def fd(self):
        """A file descriptor that is readable while messages wait (level-triggered): for
        select(), poll() or an event loop. Never read or close it yourself."""
        if self._fd_value is None:
            fd = ctypes.c_int()
            p = self._h.acquire()
            try:
                check(self._fd_fn(p, _byref(fd)))
            finally:
                self._h.release()
            self._fd_value = fd.value
        return self._fd_value

    # asyncio.

    async def _wait_readable(self, timeout=None):
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        fd = self.fd()
        self._waiters.append(fut)
        if len(self._waiters) == 1:
            loop.add_reader(fd, self._wake)
        try:
            if timeout is None:
                await fut
            else:
                await asyncio.wait_for(fut, timeout)
        finally:
            if fut in self._waiters:
                self._waiters.remove(fut)
            if not self._waiters:
                loop.remove_reader(fd)

    def _wake(self):
        for fut in self._waiters:
            if not fut.done():
                fut.set_result(None)
        self._waiters.clear()
        asyncio.get_running_loop().remove_reader(self._fd_value)

    async def aget(self, timeout=None):
        """Like get() for one message, as a coroutine: waits on the file descriptor with the
        event loop. Returns None after `timeout` seconds."""
        deadline = deadline_of(timeout)
        while True:
            got = self._take(1)
            if got:
                return got[0]
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return None
            try:
                await self._wait_readable(left)
            except asyncio.TimeoutError:
                return None

    async def apoll(self):
        """Waits for at least one message, then returns every message waiting."""
        while True:
            got = self.poll()
            if got:
                return got
            await self._wait_readable()

    def __aiter__(self):
        return self._aiter()

    async def _aiter(self):
        while True:
            try:
                batch = await self.apoll()
            except _errors.Closed:
                return
            for x in batch:
                yield x


class Subscriber(_Receiver):
    """Receives ``(topic, value)`` pairs for its topics, as Broker's Subscriber does.
    ``get``/``poll``/``available``/``fd``, and ``aget``/``apoll``/``async for`` under
    asyncio. Values come as Python values (see brook.Data). Use from one thread at a
    time."""

    _immutable = False

    def __init__(self, ptr, parent):
        super().__init__(Handle(ptr, _lib.brook_subscriber_free, "subscriber"), parent)
        self._fd_fn = _lib.brook_subscriber_fd
        self._buf = ctypes.create_string_buffer(_RECV_BUFFER)
        self._n = ctypes.c_size_t()
        self._used = ctypes.c_size_t()
        self._needed = ctypes.c_size_t()
        self._refs = (_byref(self._n), _byref(self._used), _byref(self._needed))
        self._topics = {}

    def _take(self, max_n):
        """Up to `max_n` waiting messages, converted, without waiting."""
        return self._receive(max_n, 0)

    def _next(self, timeout_ms):
        """One message, waiting up to `timeout_ms`; None on timeout."""
        got = self._receive(1, timeout_ms)
        return got[0] if got else None

    def _receive(self, max_n, timeout_ms):
        """Up to `max_n` messages, converted, waiting up to `timeout_ms` for the first.

        The receive path: one call copies a batch of records into the buffer, and
        _codec.decode_messages converts them from one bytes object. A message that does not
        fit waits in brook, first in line; it comes with the next call, through a buffer of
        its own if it is larger than ours."""
        poll_into = _lib.brook_subscriber_poll_into
        nref, uref, dref = self._refs
        imm = self._immutable
        topics = self._topics
        out = []
        buf = self._buf
        p = self._h.acquire()
        try:
            while len(out) < max_n:
                want = min(max_n - len(out), _BATCH)
                check(poll_into(p, timeout_ms, want, buf, len(buf), nref, uref, dref))
                if self._n.value:
                    data = _string_at(buf, self._used.value)
                    # A batch is thousands of new tuples and Counts, none in a cycle. With
                    # the collector on, it walks them over and over while they are built
                    # (a third of the time for large batches); off, it walks them once,
                    # afterwards. The switch is process-wide: a thread that turns the
                    # collector off meanwhile finds it on again.
                    if _gc_isenabled():
                        _gc_disable()
                        try:
                            out += _codec.decode_messages(data, imm, topics)
                        finally:
                            _gc_enable()
                    else:
                        out += _codec.decode_messages(data, imm, topics)
                needed = self._needed.value
                if not needed:
                    break
                timeout_ms = 0
                buf = self._buf
                if needed > len(buf):
                    buf = ctypes.create_string_buffer(needed)
        finally:
            self._h.release()
        return out

    def available(self):
        """The number of messages waiting."""
        return self._h.get(_lib.brook_subscriber_available, ctypes.c_size_t)

    def dropped(self):
        """How many messages the queue's drop policy has dropped so far."""
        return self._h.get(_lib.brook_subscriber_dropped, ctypes.c_uint64)

    def add_topic(self, topic, block=False):
        """Adds a topic prefix (and advertises it to the peers)."""
        t = c_str(topic, "a topic")
        p = self._h.acquire()
        try:
            check(_lib.brook_subscriber_add_topic(p, t))
        finally:
            self._h.release()

    def remove_topic(self, topic, block=False):
        """Removes a topic prefix."""
        t = c_str(topic, "a topic")
        p = self._h.acquire()
        try:
            check(_lib.brook_subscriber_remove_topic(p, t))
        finally:
            self._h.release()


class SafeSubscriber(Subscriber):
    """A Subscriber whose values are immutable throughout: frozensets, read-only hashable
    dicts and tuples."""

    _immutable = True


class StatusSubscriber(_Receiver):
    """Receives the endpoint's error events (Error), and its status events (Status) if
    made with ``receive_statuses``, as Broker's StatusSubscriber does. Use from one thread
    at a time."""

    def __init__(self, ptr, parent, receive_statuses):
        super().__init__(Handle(ptr, _lib.brook_status_subscriber_free, "status subscriber"), parent)
        self._fd_fn = _lib.brook_status_subscriber_fd
        self._statuses = receive_statuses
        self._ev = _P()

    def _pull(self, timeout_ms):
        """One event from brook, or None on timeout (filtered or not)."""
        p = self._h.acquire()
        try:
            status = _lib.brook_status_subscriber_next(p, timeout_ms, _byref(self._ev))
            if status == St.TIMEOUT:
                return None
            check(status)
            ev = self._ev.value
        finally:
            self._h.release()
        try:
            return _status_event(ev)
        finally:
            _lib.brook_status_event_free(ev)

    def _wanted(self, ev):
        return ev is not None and (self._statuses or isinstance(ev, Error))

    def _take(self, max_n):
        out = []
        while len(out) < max_n:
            ev = self._pull(0)
            if ev is None:
                break
            if self._wanted(ev):
                out.append(ev)
        return out

    def _next(self, timeout_ms):
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            ev = self._pull(timeout_ms)
            if ev is None or self._wanted(ev):
                return ev
            timeout_ms = max(0, int((deadline - time.monotonic()) * 1000))

    def available(self):
        """The number of events waiting (status events included while they are filtered
        out, until get or poll passes them)."""
        return self._h.get(_lib.brook_status_subscriber_available, ctypes.c_size_t)


def _status_event(ev):
    kind = ctypes.c_int()
    check(_lib.brook_status_event_kind(ev, _byref(kind)))
    code = ctypes.c_uint32()
    check(_lib.brook_status_event_code(ev, _byref(code)))
    name = ctypes.c_char_p()
    check(_lib.brook_status_event_name(ev, _byref(name)))
    id16 = (ctypes.c_uint8 * 16)()
    known = ctypes.c_bool()
    check(_lib.brook_status_event_endpoint(ev, id16, _byref(known)))
    ip = ctypes.c_char_p()
    port = ctypes.c_uint16()
    check(_lib.brook_status_event_address(ev, _byref(ip), _byref(port)))
    msg = ctypes.c_char_p()
    check(_lib.brook_status_event_message(ev, _byref(msg)))
    net = NetworkInfo(ip.value.decode(), port.value) if ip.value else None
    context = EndpointInfo(bytes(id16), net) if known.value or net else None
    text = (msg.value or b"").decode("utf-8", "replace")
    name = (name.value or b"").decode()
    if kind.value == 0:
        try:
            c = SC(code.value)
        except ValueError:
            c = code.value
        return Status(c, context, text, name)
    try:
        c = EC(code.value)
    except ValueError:
        c = code.value
    return Error(c, context, text, name)


# --- publisher ---------------------------------------------------------------------------


class Publisher(Owned):
    """Publishes on one topic, as Broker's Publisher does: ``publish``, ``publish_batch``,
    ``fd`` (writable while the endpoint's publish queue has room), ``capacity``,
    ``buffered``, ``free_capacity``, ``demand`` and ``send_rate``. The queue is the
    endpoint's, shared by all its publishers. Safe to share between threads."""

    def __init__(self, ptr, parent):
        self._h = Handle(ptr, _lib.brook_publisher_free, "publisher")
        self._parent = parent
        self._published = 0
        self._since = time.monotonic()
        self._finalizer = weakref.finalize(self, self._h.close)

    def topic(self):
        buf = ctypes.POINTER(ctypes.c_char)()
        n = ctypes.c_size_t()
        p = self._h.acquire()
        try:
            check(_lib.brook_publisher_topic(p, _byref(buf), _byref(n)))
            return Topic(buf[: n.value].decode("utf-8", "replace"))
        finally:
            self._h.release()

    def fd(self):
        """A file descriptor that polls writable while the publish queue has room."""
        return self._h.get(_lib.brook_publisher_fd, ctypes.c_int)

    def free_capacity(self):
        """How many publishes would go through now without waiting."""
        return self._h.get(_lib.brook_publisher_free_capacity, ctypes.c_size_t)

    def capacity(self):
        """How many publications the publish queue holds at most (a batch counts as one)."""
        return self._h.get(_lib.brook_publisher_capacity, ctypes.c_size_t)

    def buffered(self):
        """Publications queued and not yet taken by the endpoint's reactor."""
        return self._h.get(_lib.brook_publisher_buffered, ctypes.c_size_t)

    def demand(self):
        """How many more publications the queue takes now: ``free_capacity()`` (Broker's
        binding lists demand(), which its C++ publisher no longer has)."""
        return self.free_capacity()

    def send_rate(self):
        """Values this publisher has published per second since it was made (Broker's
        binding lists send_rate(), which its C++ publisher no longer has)."""
        elapsed = time.monotonic() - self._since
        return self._published / elapsed if elapsed > 0 else 0.0

    def _wait_writable(self, deadline=None):
        poller = select.poll()
        poller.register(self.fd(), select.POLLOUT)
        while not poller.poll(slice_ms(deadline) or 0):
            if self._h.closed or (deadline is not None and time.monotonic() >= deadline):
                return

    def try_publish(self, data):
        """Publishes `data` if the queue has room; False (and nothing published) if not."""
        d = c_data_new(encode(data))
        try:
            p = self._h.acquire()
            try:
                status = _lib.brook_publisher_try_publish(p, d)
            finally:
                self._h.release()
            if status == St.WOULD_BLOCK:
                return False
            check(status)
            self._published += 1
            return True
        finally:
            _lib.brook_data_free(d)

    def publish(self, data):
        """Publishes `data`, waiting (interruptibly) while the publish queue is full."""
        d = c_data_new(encode(data))
        try:
            while True:
                p = self._h.acquire()
                try:
                    status = _lib.brook_publisher_try_publish(p, d)
                finally:
                    self._h.release()
                if status != St.WOULD_BLOCK:
                    check(status)
                    self._published += 1
                    return
                self._wait_writable()
        finally:
            _lib.brook_data_free(d)

    def publish_batch(self, *batch):
        """Publishes each argument in order, handed to the reactor at once."""
        _publish_values(self._h, batch, _lib.brook_publisher_publish_batch, self._wait_writable)
        self._published += len(batch)


