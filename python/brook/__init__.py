"""brook: Zeek's Broker protocol from Python, over libbrook's C ABI.

The API has the shape of Broker's Python binding, so ``import brook as broker`` runs
typical Broker scripts::

    import brook as broker

    with broker.Endpoint() as ep, ep.make_subscriber("/topic") as sub:
        port = ep.listen("127.0.0.1", 0)
        ...
        topic, value = sub.get()

Values are plain Python values (see ``Data`` for the mapping) plus the classes Count, Enum,
Port, Timespan, Timestamp, Address and Subnet. Failures raise ``BrookError`` subclasses
carrying brook's status and message. Blocking calls release the GIL, and Ctrl-C interrupts
them. Objects are context managers; ``close()`` is idempotent, and use after close raises
``Closed`` (a ValueError).
"""

from . import _ffi
from ._data import Data, DataType, ImmutableData, RawData
from ._endpoint import (
    AWAIT_PEER_TIMEOUT,
    EC,
    APIFlags,
    Frontend,
    SC,
    BrokerOptions,
    Configuration,
    Endpoint,
    EndpointInfo,
    Error,
    Metrics,
    NetworkInfo,
    OverflowPolicy,
    SpoolPolicy,
    PeerFlags,
    PeerInfo,
    PeerStatus,
    Publisher,
    SafeSubscriber,
    Status,
    StatusSubscriber,
    Subscriber,
    Topic,
)
from ._errors import (
    BackendFailure,
    BrookError,
    Closed,
    DecodeError,
    EncodeError,
    InvalidArgument,
    IOFailure,
    MasterExists,
    NoSuchKey,
    NoSuchMaster,
    NullArgument,
    OutOfRange,
    Panic,
    PeerUnavailable,
    StaleData,
    StoreError,
    Timeout,
    TypeClash,
    TypeMismatch,
    WouldBlock,
)
from ._errors import Status as StatusCode
from ._store import Backend, SQLiteFailureMode, SQLiteJournalMode, SQLiteSynchronous, Store
from ._store import StoreProxy, StoreResponse
from ._types import (
    Address,
    Count,
    Enum,
    Port,
    Set,
    Subnet,
    Table,
    Timespan,
    Timestamp,
    Vector,
    now,
    utc,
)
from . import zeek  # noqa: E402  (after Data, which it uses)

__version__ = _ffi.lib.brook_version().decode()


class Version:
    """brook's version, and the Broker protocol version it speaks (``PROTOCOL``), as in
    Broker's binding."""

    MAJOR, MINOR, PATCH = (int(x) for x in __version__.split("."))
    PROTOCOL = 2

    @staticmethod
    def string():
        return __version__

    @staticmethod
    def compatible(version):
        """True iff a peer speaking Broker protocol `version` can peer with brook."""
        return version == Version.PROTOCOL


class Message:
    """Broker's base class for messages that turn themselves into a value to publish;
    subclasses define ``to_broker()``. (brook.zeek.Message is the base of Zeek's messages.)"""

    def to_broker(self):
        raise NotImplementedError("Message.to_broker() is not overridden")


__all__ = [
    "APIFlags",
    "AWAIT_PEER_TIMEOUT",
    "Address",
    "Backend",
    "BackendFailure",
    "BrokerOptions",
    "BrookError",
    "Closed",
    "Configuration",
    "Count",
    "Data",
    "DataType",
    "DecodeError",
    "EC",
    "EncodeError",
    "Frontend",
    "Message",
    "Endpoint",
    "Metrics",
    "EndpointInfo",
    "Enum",
    "Error",
    "IOFailure",
    "ImmutableData",
    "InvalidArgument",
    "MasterExists",
    "NetworkInfo",
    "NoSuchKey",
    "NoSuchMaster",
    "NullArgument",
    "OutOfRange",
    "OverflowPolicy",
    "SpoolPolicy",
    "Panic",
    "PeerFlags",
    "PeerInfo",
    "PeerStatus",
    "PeerUnavailable",
    "Port",
    "RawData",
    "Publisher",
    "SC",
    "SQLiteFailureMode",
    "SQLiteJournalMode",
    "SQLiteSynchronous",
    "SafeSubscriber",
    "Set",
    "StaleData",
    "Status",
    "StatusCode",
    "StatusSubscriber",
    "Store",
    "StoreError",
    "StoreProxy",
    "StoreResponse",
    "Subnet",
    "Subscriber",
    "Table",
    "Timeout",
    "Timespan",
    "Timestamp",
    "Topic",
    "TypeClash",
    "TypeMismatch",
    "Vector",
    "Version",
    "WouldBlock",
    "now",
    "utc",
    "zeek",
]
