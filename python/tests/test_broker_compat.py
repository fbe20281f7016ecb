"""Behaviour that Broker's own Python suite (zeek/broker tests/python) checks, in our own
tests, so CI guards it without Broker: container elements, Set/Table/Vector, topics,
Zeek events and their metadata, blocking calls with Broker's timeouts, forwarding over
several hops, and Broker's names for publisher and address methods."""

import datetime
import ipaddress
import math
import time
import types

import pytest

import brook
import brook._endpoint
from brook.zeek import Event, MetadataType, SafeEvent

from conftest import wait_until

T = brook.Data.Type


def elements_are_raw(container):
    return all(isinstance(x, brook.RawData) and not isinstance(x, brook.Data) for x in container)


@pytest.mark.parametrize("make", [set, frozenset])
def test_set_elements_convert_like_brokers(make):
    d = brook.Data(make([1, 2, 3]))
    s = d.as_set()
    assert elements_are_raw(s)
    # Broker's order, each element a value of its own.
    for i, x in enumerate(s):
        assert str(brook.Data(x)) == str(i + 1)
        assert brook.Data(x).get_type() == T.Integer
        assert brook.Data.to_py(x) == i + 1 and type(brook.Data.to_py(x)) is int
    mixed = brook.Data(make(["foo", ipaddress.IPv6Address("::1"), None])).as_set()
    assert [brook.Data(x).get_type() for x in mixed] == [T.Nil, T.String, T.Address]
    # Broker's Set methods and its printed form.
    s = brook.Data(make([1, 2, 3])).as_set()
    assert str(s) == "Set{1, 2, 3}"
    s.remove(brook.Data(2))
    assert str(s) == "Set{1, 3}"
    s.clear()
    assert str(s) == "Set{}"


@pytest.mark.parametrize("make", [dict, types.MappingProxyType])
def test_table_elements_convert_like_brokers(make):
    t = brook.Data(make({"a": 1, "b": 2, "c": 3})).as_table()
    assert elements_are_raw(t.keys()) and elements_are_raw(t.values())
    for i, (k, v) in enumerate(t.items()):
        assert str(brook.Data(k)) == "abc"[i] and brook.Data.to_py(k) == "abc"[i]
        assert brook.Data(v).get_type() == T.Integer and brook.Data.to_py(v) == i + 1
    mixed = brook.Data(make({True: 42, brook.Port(22, brook.Port.TCP): False,
                             (1, 2, 3): [4, 5, 6], brook.Count(13): "test"})).as_table()
    # Indexed by Data, as in Broker.
    assert str(brook.Data(mixed[brook.Data(True)])) == "42"
    assert brook.Data.to_py(mixed[brook.Data(brook.Port(22, brook.Port.TCP))]) is False
    assert str(brook.Data(mixed[brook.Data((1, 2, 3))])) == "(4, 5, 6)"
    assert brook.Data.to_py(mixed[brook.Data([1, 2, 3])]) == (4, 5, 6)
    assert brook.Data.to_py(mixed[brook.Data(brook.Count(13))]) == "test"
    assert str(brook.Data({"a": 1}).as_table()) == "Table{a: 1}"


def test_vector_elements_convert_like_brokers():
    v = brook.Data(["foo", [[True]], ipaddress.IPv6Address("::1"), None]).as_vector()
    assert elements_are_raw(v)
    assert str(brook.Data(v[0])) == "foo" and brook.Data.to_py(v[0]) == "foo"
    v1 = v[1].as_vector()
    assert str(brook.Data(v1)) == "((T))" and brook.Data(v1).get_type() == T.Vector
    assert brook.Data.to_py(v[1]) == ((True,),)
    assert str(brook.Data(v1[0])) == "(T)" and brook.Data.to_py(v1[0]) == (True,)
    assert brook.Data.to_py(v[2]) == ipaddress.IPv6Address("::1")
    assert brook.Data(v[3]).get_type() == T.Nil
    assert str(brook.Data([1, 2]).as_vector()) == "Vector[1, 2]"


def test_raw_values_compare_with_data():
    raw = brook.Data({1, 2}).as_set()
    assert brook.Data(1) in raw and brook.Data(3) not in raw
    assert sorted(raw)[0] == brook.Data(1) and brook.Data(2) == sorted(raw)[1]


def test_topic_append_as_broker():
    t1, t2 = brook.Topic("/a/"), brook.Topic("/b/c")
    t3 = t1 / t2
    t2 /= t1
    assert isinstance(t3, brook.Topic) and t3.string() == "/a//b/c"
    assert t2.string() == "/b/c/a"
    assert (brook.Topic("zeek") / "event").string() == "zeek/event"
    assert (brook.Topic("") / "x").string() == "x"
    assert str(brook.Topic(brook.Topic("/x"))) == "/x"


DT = datetime.datetime(2023, 5, 3, 9, 27, 57, tzinfo=brook.utc)


def test_event_metadata_validity():
    assert Event("a", [42, "a"], metadata=[(MetadataType.NetworkTimestamp, DT)]).valid()
    assert Event("a", [42, "a"], metadata={1: DT}).valid()
    assert Event("a", [42, "a"], metadata={MetadataType.UserMetadataStart: "x"}).valid()
    assert not Event("a", [42, "a"], metadata=[(MetadataType.NetworkTimestamp, "invalid")]).valid()
    assert not Event("a", [42, "a"], metadata=[(MetadataType.NetworkTimestamp, 1.234)]).valid()
    bad = Event("a", 1, metadata={1: 1.5})
    with pytest.raises(brook.TypeMismatch, match="network timestamp"):
        bad.name()


def test_event_from_event_and_from_its_data():
    e = Event("ping", 1, "x", metadata={1: DT})
    for copy in (Event(e), Event(e.as_data()), Event(brook.Data(e)), SafeEvent(e)):
        assert copy.valid()
        assert copy.name() == "ping" and copy.args() == [1, "x"]
        assert copy.metadata() == [(brook.Count(1), DT)]
    # An element of a received container (a raw value) parses too.
    inner = brook.Data([e]).as_vector()[0]
    assert Event(inner).name() == "ping"


def test_names_broker_adds_behave():
    assert brook.Version.compatible(brook.Version.PROTOCOL)
    assert not brook.Version.compatible(brook.Version.PROTOCOL + 1)
    a = brook.Address("10.1.2.3")
    assert a.mask(112) and str(a) == "10.1.0.0"  # the v4-mapped prefix (96 bits) + 16
    a = brook.Address("2001:db8::1")
    assert a.mask(32) and str(a) == "2001:db8::"
    assert not a.mask(129)
    assert brook.Frontend.Master != brook.Frontend.Clone
    with pytest.raises(NotImplementedError):
        brook.Message().to_broker()
    with brook.Endpoint() as ep, ep.make_publisher("/p") as pub:
        assert pub.capacity() > 0 and pub.buffered() == 0
        assert pub.demand() == pub.free_capacity() <= pub.capacity()
        assert pub.send_rate() == 0
        pub.publish(1)
        assert pub.send_rate() > 0


def test_subscriber_queue_is_brokers_20_by_default():
    cfg = brook.Configuration()
    cfg.subscriber_overflow_policy = "drop_newest"
    with brook.Endpoint() as a, brook.Endpoint(cfg) as b, b.make_subscriber("/q") as sub:
        port = b.listen("127.0.0.1", 0)
        assert a.peer("127.0.0.1", port, 1.0)
        wait_until(lambda: any(t.startswith("/q") for t in a.peer_subscriptions()))
        for i in range(30):
            a.publish("/q", i)
        wait_until(lambda: sub.available() == 20)
        time.sleep(0.1)
        assert sub.available() == 20


def chain(n):
    """n endpoints peered in a line, each subscribed to /test/ (so each forwards it)."""
    eps = [brook.Endpoint() for _ in range(n)]
    subs = [ep.make_subscriber("/test/") for ep in eps]
    ports = [ep.listen("127.0.0.1", 0) for ep in eps]
    for i in range(n - 1):
        assert eps[i].peer("127.0.0.1", ports[i + 1], 1.0)
    return eps, subs


def test_forwarding_two_subscribed_hops_and_await_peer_beyond_the_peers(monkeypatch):
    eps, subs = chain(4)
    try:
        # As in Broker: an endpoint beyond the direct peers is not known, so await_peer
        # returns False once its timeout (Broker's default when None) has passed.
        monkeypatch.setattr(brook._endpoint, "AWAIT_PEER_TIMEOUT", 0.3)
        start = time.monotonic()
        assert eps[0].await_peer(eps[3].node_id()) is False
        assert 0.25 < time.monotonic() - start < 5
        assert eps[3].await_peer(eps[0].node_id(), 0.2) is False
        assert eps[0].await_peer(eps[1].node_id(), math.inf) is True
        wait_until(lambda: any(t.startswith("/test/") for t in eps[2].peer_subscriptions()))
        eps[0].publish("/test/foo", "Foo!")
        eps[3].publish("/test/bar", "Bar!")
        assert subs[3].get(10.0) == ("/test/foo", "Foo!")
        assert subs[0].get(10.0) == ("/test/bar", "Bar!")
    finally:
        for s in subs:
            s.reset()
        for ep in eps:
            ep.shutdown()


def test_await_peer_default_is_brokers():
    assert brook.AWAIT_PEER_TIMEOUT == 10.0
