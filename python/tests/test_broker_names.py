"""Every public name of Broker's Python package exists in brook's, so a script written for
Broker runs after ``import brook as broker``.

The list is ours: the names that zeek/broker (7cc7a56) ``bindings/python/broker/__init__.py``
and ``zeek.py`` make public, and the attributes their classes carry (from the wrappers
there and the pybind11 definitions in ``bindings/python/*.cpp``). Behaviour is tested
elsewhere (test_broker_compat.py and the other files); this test catches a name that goes
missing.
"""

import inspect

import pytest

import brook
import brook.zeek

# name -> attributes it must have (classes), or () for plain names.
BROKER_NAMES = {
    "Version": ("MAJOR", "MINOR", "PATCH", "PROTOCOL", "compatible", "string"),
    "now": (),
    "utc": ("utcoffset", "tzname", "dst"),
    "APIFlags": ("Blocking", "NonBlocking"),
    "EC": (
        "Unspecified",
        "PeerIncompatible",
        "PeerInvalid",
        "PeerUnavailable",
        "PeerTimeout",
        "MasterExists",
        "NoSuchMaster",
        "NoSuchKey",
        "RequestTimeOut",
        "TypeClash",
        "InvalidData",
        "BackendFailure",
        "StaleData",
    ),
    "SC": (
        "Unspecified",
        "PeerAdded",
        "PeerRemoved",
        "PeerLost",
        "EndpointDiscovered",
        "EndpointUnreachable",
    ),
    "PeerStatus": (
        "Initialized",
        "Connecting",
        "Connected",
        "Peered",
        "Disconnected",
        "Reconnecting",
    ),
    "PeerFlags": ("Invalid", "Local", "Remote", "Outbound", "Inbound"),
    "Frontend": ("Master", "Clone"),
    "Backend": ("Memory", "SQLite"),
    "NetworkInfo": ("address", "port"),
    "EndpointInfo": ("network", "node_id"),
    "PeerInfo": ("peer", "flags", "status"),
    "Topic": ("string", "__truediv__", "__itruediv__"),
    "Status": ("code", "context"),
    "Error": ("code",),
    "Configuration": (
        "openssl_cafile",
        "openssl_capath",
        "openssl_certificate",
        "openssl_key",
        "openssl_passphrase",
        "max_threads",
    ),
    "BrokerOptions": ("disable_ssl", "disable_forwarding", "ignore_broker_conf", "use_real_time"),
    "Address": ("mask", "is_v4", "is_v6", "bytes", "Family", "ByteOrder"),
    "Count": ("value",),
    "Enum": ("name",),
    "Port": ("number", "get_type", "Protocol", "ICMP", "TCP", "UDP", "Unknown"),
    "Set": ("add", "remove", "clear"),
    "Subnet": ("contains", "network", "length"),
    "Table": ("keys", "values", "items"),
    "Timespan": ("count",),
    "Timestamp": ("time_since_epoch",),
    "Vector": ("append", "extend", "insert", "pop"),
    "Subscriber": ("get", "poll", "available", "fd", "add_topic", "remove_topic", "reset"),
    "SafeSubscriber": ("get", "poll", "available", "fd", "add_topic", "remove_topic", "reset"),
    "StatusSubscriber": ("get", "poll", "available", "fd", "reset"),
    "Publisher": (
        "demand",
        "buffered",
        "capacity",
        "free_capacity",
        "send_rate",
        "fd",
        "publish",
        "publish_batch",
        "reset",
    ),
    "Store": (
        "name",
        "exists",
        "get",
        "get_index_from_value",
        "keys",
        "put",
        "put_unique",
        "erase",
        "clear",
        "increment",
        "decrement",
        "append",
        "insert_into",
        "remove_from",
        "push",
        "pop",
        "await_idle",
    ),
    "Endpoint": (
        "make_subscriber",
        "make_safe_subscriber",
        "make_status_subscriber",
        "make_publisher",
        "forward",
        "publish",
        "publish_batch",
        "attach_master",
        "attach_clone",
        "await_peer",
        "node_id",
        "listen",
        "peer",
        "peer_nosync",
        "unpeer",
        "unpeer_nosync",
        "peers",
        "peer_subscriptions",
        "shutdown",
        "__enter__",
        "__exit__",
    ),
    "Message": ("to_broker",),
    "Data": (
        "Type",
        "from_py",
        "to_py",
        "get_type",
        "as_address",
        "as_boolean",
        "as_count",
        "as_enum_value",
        "as_integer",
        "as_none",
        "as_port",
        "as_real",
        "as_set",
        "as_string",
        "as_subnet",
        "as_table",
        "as_timespan",
        "as_timestamp",
        "as_vector",
    ),
    "ImmutableData": ("HashableReadOnlyDict", "to_py"),
    "zeek": ("Event", "SafeEvent", "MetadataType"),
}

DATA_TYPES = (
    "Nil",
    "Address",
    "Boolean",
    "Count",
    "EnumValue",
    "Integer",
    "None",
    "Port",
    "Real",
    "Set",
    "String",
    "Subnet",
    "Table",
    "Timespan",
    "Timestamp",
    "Vector",
)

ZEEK_NAMES = {
    "Event": ("valid", "name", "args", "metadata", "as_data"),
    "SafeEvent": ("valid", "name", "args", "metadata", "as_data"),
    "MetadataType": ("NetworkTimestamp", "UserMetadataStart"),
}


@pytest.mark.parametrize("name", sorted(BROKER_NAMES))
def test_broker_name_exists(name):
    assert hasattr(brook, name), f"brook lacks Broker's {name}"
    obj = getattr(brook, name)
    missing = [a for a in BROKER_NAMES[name] if not hasattr(obj, a)]
    assert not missing, f"brook.{name} lacks {missing}"


@pytest.mark.parametrize("name", sorted(ZEEK_NAMES))
def test_broker_zeek_name_exists(name):
    obj = getattr(brook.zeek, name)
    missing = [a for a in ZEEK_NAMES[name] if not hasattr(obj, a)]
    assert not missing, f"brook.zeek.{name} lacks {missing}"


def test_data_type_names():
    missing = [t for t in DATA_TYPES if not hasattr(brook.Data.Type, t)]
    assert not missing


def _defaults(fn):
    return {
        k: v.default
        for k, v in inspect.signature(fn).parameters.items()
        if v.default is not inspect.Parameter.empty
    }


def test_broker_defaults():
    # The defaults Broker's binding gives (timeouts and sizes included).
    assert _defaults(brook.Endpoint.peer)["retry"] == 10.0
    assert _defaults(brook.Endpoint.peer_nosync)["retry"] == 10.0
    assert _defaults(brook.Endpoint.make_subscriber)["qsize"] == 20
    assert _defaults(brook.Endpoint.make_safe_subscriber)["qsize"] == 20
    assert _defaults(brook.Endpoint.make_status_subscriber)["receive_statuses"] is False
    assert _defaults(brook.Endpoint.await_peer)["timeout"] is None
    assert _defaults(brook.Subscriber.add_topic)["block"] is False
    assert _defaults(brook.Subscriber.remove_topic)["block"] is False
    for op in ("put", "put_unique", "increment", "decrement", "append", "push", "pop"):
        assert _defaults(getattr(brook.Store, op))["expiry"] is None, op
    assert _defaults(brook.Store.insert_into) == {"value": None, "expiry": None}
    assert _defaults(brook.Store.await_idle)["timeout"] is None
    assert brook._store.AWAIT_IDLE_TIMEOUT == 15.0  # what None means, as in Broker
    assert _defaults(brook.zeek.Event.__init__)["metadata"] is None
