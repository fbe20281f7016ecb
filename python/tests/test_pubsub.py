"""Publish and subscribe between endpoints in one process, with Broker's API."""

import ipaddress
import select
import time

import pytest

import brook
from conftest import publisher_for, wait_until


@pytest.fixture
def peered():
    """Two endpoints with subscribers made before peering, so that each knows the other's
    topics once peered (as in Broker's tests)."""
    with brook.Endpoint() as ep1, brook.Endpoint() as ep2, \
            ep1.make_subscriber("/test") as s1, ep2.make_subscriber("/test") as s2:
        port = ep1.listen("127.0.0.1", 0)
        assert ep2.peer("127.0.0.1", port, 1.0)
        assert ep1.await_peer(ep2.node_id(), 10)
        assert ep2.await_peer(ep1.node_id(), 10)
        yield ep1, ep2, s1, s2


def test_ping_pong(peered):
    ep1, ep2, s1, s2 = peered
    ep2.publish("/test", ["ping"])
    t, d = s1.get()
    assert (t, d) == ("/test", ("ping",))
    assert isinstance(t, str)
    ep1.publish(t, ["pong"])
    # As in Broker, ep2's own "ping" does not reach s2: only ep1's "pong" does.
    deadline = time.monotonic() + 10
    while True:
        msgs = s2.poll()
        if msgs:
            break
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert msgs == [("/test", ("pong",))]
    assert s1.poll() == []  # nor does ep1's own "pong" reach s1


def test_get_forms(peered):
    ep1, ep2, s1, _ = peered
    assert s1.get(0.05) is None  # a float is a timeout
    assert s1.get(0, 0.05) == []
    assert s1.get(2, 0.05) == []
    ep2.publish("/test/a", 1)
    ep2.publish("/test/b", 2)
    ep2.publish("/test/c", 3)
    assert s1.get(2) == [("/test/a", 1), ("/test/b", 2)]  # an int is a count
    assert s1.get(5, 0.2) == [("/test/c", 3)]  # fewer than asked, after the timeout
    ep2.publish("/test/d", 4)
    assert s1.get(timeout=10) == ("/test/d", 4)
    assert s1.get(num=0) == []


def test_messages_and_batches(peered):
    ep1, ep2, s1, _ = peered
    msg0 = ("/test/1", ())
    ep2.publish(*msg0)
    msg1 = ("/test/2", (1, 2, 3))
    msg2 = ("/test/3", (42, "foo", {"a": "A", "b": ipaddress.IPv4Address("1.2.3.4")}))
    ep2.publish_batch(msg1, msg2, ("/test/3", "x"))
    msgs = s1.get(4)
    assert msgs == [msg0, msg1, msg2, ("/test/3", "x")]
    assert s1.available() == 0
    msgs[2][1][2]["c"] = "mutable"  # plain subscribers give plain dicts


def test_many_messages_arrive_in_order():
    # More than a subscriber queue holds (8192): the publisher waits for the reader. (No
    # subscriber on the publishing side here: one that nobody reads would hold it up.)
    with brook.Endpoint() as ep1, brook.Endpoint() as ep2, ep1.make_subscriber("/n") as s1:
        port = ep1.listen("127.0.0.1", 0)
        assert ep2.peer("127.0.0.1", port, 0)
        n = 20000
        ep2.publish_batch(*[("/n", brook.Count(i)) for i in range(n)])
        got = s1.get(n, 30.0)
        assert [v.value for _, v in got] == list(range(n))


def test_safe_subscriber():
    with brook.Endpoint() as ep1, brook.Endpoint() as ep2, \
            ep1.make_safe_subscriber("/test") as s1:
        port = ep1.listen("127.0.0.1", 0)
        assert ep2.peer("127.0.0.1", port, 1.0)
        ep2.publish("/test/1", ({"a": "A"}, {1, 2, 3}, ("a", "b", "c")))
        topic, (d, s, t) = s1.get(10.0)
        with pytest.raises(TypeError):
            d["b"] = "B"
        with pytest.raises(AttributeError):
            s.add(4)
        assert t == ("a", "b", "c")


def test_publisher(peered):
    ep1, ep2, s1, _ = peered
    with ep2.make_publisher("/test") as p2:
        assert p2.topic() == "/test"
        p2.publish([1, 2, 3])
        p2.publish_batch(["a", "b", "c"], [True, False])
        assert p2.try_publish("x")
        assert p2.free_capacity() > 0
        r, w, _ = select.select([], [p2.fd()], [], 5)
        assert w == [p2.fd()]
        msgs = s1.get(4)
    assert msgs == [("/test", (1, 2, 3)), ("/test", ("a", "b", "c")), ("/test", (True, False)),
                    ("/test", "x")]


def test_own_publications_stay_away_and_the_fd():
    # As in Broker, an endpoint's own publications do not reach its own subscribers (unless
    # addressed to itself); a peer's do.
    with brook.Endpoint() as ep, ep.make_subscriber(["/a", "/b"]) as sub, \
            publisher_for(ep, "/a", "/b") as peer:
        fd = sub.fd()
        assert select.select([fd], [], [], 0)[0] == []
        ep.publish("/a/own", 0)
        ep.publish("/b", "own")
        ep.publish(ep.node_id(), "/a/self", "to itself")
        assert select.select([fd], [], [], 5)[0] == [fd]
        # Had the two before it been delivered, they would have come first.
        assert sub.get(5.0) == ("/a/self", "to itself")
        assert sub.available() == 0
        assert select.select([fd], [], [], 0)[0] == []
        peer.publish("/a/1", 1)
        peer.publish("/c", 3)  # not subscribed
        peer.publish("/b", 2)
        assert select.select([fd], [], [], 5)[0] == [fd]
        wait_until(lambda: sub.available() == 2)
        assert sub.poll() == [("/a/1", 1), ("/b", 2)]
        assert select.select([fd], [], [], 0)[0] == []
        assert sub.dropped() == 0


def test_add_and_remove_topic():
    with brook.Endpoint() as ep, ep.make_subscriber("/a") as sub, \
            publisher_for(ep, "/a") as peer:
        sub.add_topic("/b")
        wait_until(lambda: "/b" in peer.peer_subscriptions())
        peer.publish("/b", 1)
        assert sub.get(5.0) == ("/b", 1)
        sub.remove_topic("/b")
        peer.publish("/b", 2)
        peer.publish("/a", 3)
        assert sub.get(5.0) == ("/a", 3)
        assert sub.get(0.1) is None


def test_events(peered):
    ep1, ep2, s1, _ = peered
    ts = brook.Timestamp.from_ns(1_600_000_000_123_456_000)
    ev = brook.zeek.Event("ping", "x", brook.Count(1), 2.5,
                          metadata=[(brook.zeek.MetadataType.NetworkTimestamp, ts), (200, "mine")])
    ep2.publish("/test/event", ev)
    ep2.publish("/test/event", brook.zeek.Event("no_args"))
    (t1, v1), (t2, v2) = s1.get(2)
    got = brook.zeek.Event(v1)
    assert got.valid() and got.name() == "ping"
    assert got.args() == ["x", brook.Count(1), 2.5]
    meta = dict(got.metadata())
    assert meta[brook.zeek.MetadataType.NetworkTimestamp] == ts.to_datetime()
    assert meta[brook.Count(200)] == "mine"
    assert got.network_timestamp() == ts.to_datetime()
    plain = brook.zeek.Event(v2)
    assert plain.name() == "no_args" and plain.args() == [] and plain.metadata() is None
    # An event re-published as received is the same value.
    assert brook.Data(got) == brook.Data(v1)
    bad = brook.zeek.Event((1, 2, 3))
    assert not bad.valid()
    with pytest.raises(TypeError):
        bad.name()


def test_peers_and_subscriptions(peered):
    ep1, ep2, _, _ = peered
    [p1] = ep1.peers()
    [p2] = ep2.peers()
    assert p1.peer.node_id() == ep2.node_id() and p2.peer.node_id() == ep1.node_id()
    assert p1.status == brook.PeerStatus.Peered
    assert p2.flags & brook.PeerFlags.Outbound and p1.flags & brook.PeerFlags.Inbound
    assert p1.peer.network.get().address == "127.0.0.1"
    assert "/test" in ep2.peer_subscriptions()
    assert ep2.peer_subscriptions()[0].string() == "/test"


def test_unicast(peered):
    ep1, ep2, s1, _ = peered
    with ep1.make_subscriber("/private") as private:
        ep2.publish(ep2.peers()[0].peer, "/private", "by EndpointInfo")
        ep2.publish(ep1.node_id(), "/private", "by id")
        assert private.get(2) == [("/private", "by EndpointInfo"), ("/private", "by id")]


def test_forwarding_through_a_middle_endpoint():
    with brook.Endpoint() as a, brook.Endpoint() as b, brook.Endpoint() as c, \
            c.make_subscriber("/fwd") as sub:
        b.forward("/fwd")
        pb = b.listen("127.0.0.1", 0)
        pc = c.listen("127.0.0.1", 0)
        assert b.peer("127.0.0.1", pc, 0)
        assert a.peer("127.0.0.1", pb, 0)
        wait_until(lambda: "/fwd" in a.peer_subscriptions())
        a.publish("/fwd/x", "through b")
        assert sub.get(10.0) == ("/fwd/x", "through b")


def test_unpeer(peered):
    ep1, ep2, _, _ = peered
    port = ep2.peers()[0].peer.network.port
    assert ep2.unpeer("127.0.0.1", port)
    wait_until(lambda: not ep1.peers())
    assert not ep2.unpeer("127.0.0.1", port)  # no such peering any more


def test_await_peer_times_out():
    with brook.Endpoint() as ep:
        t = time.monotonic()
        assert not ep.await_peer("01234567-89ab-cdef-0123-456789abcdef", 0.3)
        assert not ep.await_peer(None, 0.1)
        assert 0.3 <= time.monotonic() - t < 5


def test_shutdown_delivers_what_is_queued(peered):
    ep1, ep2, s1, _ = peered
    ep2.publish_batch(*[("/test", i) for i in range(100)])
    ep2.flush()
    ep2.shutdown()
    assert [v for _, v in s1.get(100, 10.0)] == list(range(100))


def test_qsize_sizes_the_subscribers_queue():
    with brook.Endpoint() as ep:
        with pytest.raises(brook.InvalidArgument, match="queue size"):
            ep.make_subscriber("/q", qsize=0)
    cfg = brook.Configuration()
    cfg.subscriber_overflow_policy = "drop_newest"
    with brook.Endpoint() as a, brook.Endpoint(cfg) as b, \
            b.make_subscriber("/q", qsize=3) as small, b.make_subscriber("/q") as large:
        port = b.listen("127.0.0.1", 0)
        assert a.peer("127.0.0.1", port, 1.0)
        wait_until(lambda: any(t.startswith("/q") for t in a.peer_subscriptions()))
        for i in range(10):
            a.publish("/q", brook.Count(i))
        wait_until(lambda: large.available() == 10)
        assert small.available() == 3
        assert [d for _, d in small.poll()] == [brook.Count(i) for i in range(3)]


def test_busy_polling_endpoints_exchange_messages():
    cfg = brook.Configuration()
    cfg.busy_poll = 0.0002
    with brook.Endpoint(cfg) as a, brook.Endpoint(cfg) as b, b.make_subscriber("/bp") as sub:
        port = b.listen("127.0.0.1", 0)
        assert a.peer("127.0.0.1", port, 1.0)
        wait_until(lambda: any(t.startswith("/bp") for t in a.peer_subscriptions()))
        for i in range(100):
            a.publish("/bp", brook.Count(i))
        got = sub.get(100, 10.0)
        assert [d for _, d in got] == [brook.Count(i) for i in range(100)]
