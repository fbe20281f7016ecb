"""The batched receive path: brook_subscriber_poll_into() and _codec.decode_messages()."""

import ipaddress
import select
import struct

import pytest

import brook
from brook import _codec, _endpoint
from brook.zeek import Event
from conftest import wait_until


@pytest.fixture
def peered():
    with brook.Endpoint() as ep1, brook.Endpoint() as ep2, \
            ep1.make_subscriber("/b") as s1, ep1.make_safe_subscriber("/safe") as safe:
        port = ep1.listen("127.0.0.1", 0)
        assert ep2.peer("127.0.0.1", port, 1.0)
        assert ep1.await_peer(ep2.node_id(), 10)
        assert ep2.await_peer(ep1.node_id(), 10)
        yield ep2, s1, safe


def records(*messages):
    """brook_subscriber_poll_into()'s layout for (topic, payload bytes) pairs."""
    out = bytearray()
    for topic, payload in messages:
        t = topic.encode()
        out += struct.pack("<II", len(t), len(payload)) + t + payload
    return bytes(out)


def ev(name, *args):
    return _codec.encode(Event(name, *args))


def test_a_message_larger_than_the_buffer_arrives_in_order(peered):
    ep2, s1, _ = peered
    big = "x" * (_endpoint._RECV_BUFFER + 1000)
    ep2.publish("/b/1", 1)
    ep2.publish("/b/2", big)
    ep2.publish("/b/3", 3)
    assert s1.get(3, 10.0) == [("/b/1", 1), ("/b/2", big), ("/b/3", 3)]
    # Through poll(), first in a batch and after a small message; nothing stays behind.
    ep2.publish_batch(("/b/4", big), ("/b/5", 5), ("/b/6", big + "y"))
    wait_until(lambda: s1.available() == 3)
    assert s1.poll() == [("/b/4", big), ("/b/5", 5), ("/b/6", big + "y")]
    assert s1.available() == 0
    assert select.select([s1.fd()], [], [], 0)[0] == []


def test_a_batch_larger_than_the_buffer(peered):
    ep2, s1, _ = peered
    values = [("/b/many", "v" * 100 + str(i)) for i in range(3000)]  # 330 KB in all
    ep2.publish_batch(*values)
    assert s1.get(3000, 30.0) == values


def test_a_batch_of_every_kind_decodes_as_one_message_does(peered):
    ep2, s1, _ = peered
    values = [
        Event("same_head", brook.Count(1)),
        Event("same_head", brook.Count(2)),
        Event("same_head", -3),  # the same head, another type of argument
        Event("same_head", {1, 2}),
        Event("same_head", {"a": [1, 2]}),
        Event("other", "text", 2.5, None, True, ipaddress.IPv4Address("10.0.0.1")),
        Event("with_metadata", 1, metadata=[(1, brook.Timestamp.from_ns(10**18))]),
        Event("ünïcode", brook.Port(80, brook.Port.TCP)),
        Event("n" * 200, 1),  # a name of 128 bytes or more
        Event("many", *range(130)),  # 128 arguments or more
        brook.Count(7),
        -7,
        "plain",
        None,
        (brook.Count(1), brook.Count(1)),  # starts like an event, but is not one
    ]
    ep2.publish_batch(*[("/b/k", v) for v in values])
    got = s1.get(len(values), 10.0)
    assert [t for t, _ in got] == ["/b/k"] * len(values)
    assert [v for _, v in got] == [_codec.decode(_codec.encode(v)) for v in values]
    assert [Event(v).args() for _, v in got[:4]] == [
        [brook.Count(1)], [brook.Count(2)], [-3], [{1, 2}]]


def test_a_safe_subscriber_gets_immutable_values_in_batches(peered):
    ep2, _, safe = peered
    ep2.publish_batch(("/safe", Event("s", {1, 2})), ("/safe", Event("s", {"a": 1})))
    (_, v1), (_, v2) = safe.get(2, 10.0)
    assert v1[2][1][0] == frozenset({1, 2})
    with pytest.raises(TypeError):
        v2[2][1][0]["b"] = 2


def test_decode_messages_matches_decode():
    payloads = [
        ev("a", brook.Count(1)),
        ev("a", brook.Count(2)),
        ev("a", "s"),
        ev("a"),
        ev("b", 1, 2),
        _codec.encode(brook.Count(5)),
        _codec.encode("count-sized"),  # 9 bytes, not a count
        _codec.encode([1, [2, 3]]),
        _codec.encode(None),
    ]
    topics = ["/t/x", "/t/y", "/t/y", "/u", "/t/x", "/t/x", "/t/xy", "/", "/t/x"]
    buf = records(*zip(topics, payloads))
    cache = {}
    want = [(t, _codec.decode(p)) for t, p in zip(topics, payloads)]
    assert _codec.decode_messages(buf, False, cache) == want
    assert _codec.decode_messages(buf, False, cache) == want  # with the topics cached
    assert _codec.decode_messages(b"", False, cache) == []


def test_decode_messages_rejects_malformed_payloads():
    good = ev("a", brook.Count(1))
    # The same head as the event before, then an argument cut short, which the next record
    # would otherwise complete.
    cut = good[:-4]
    with pytest.raises(brook.DecodeError):
        _codec.decode_messages(records(("/t", good), ("/t", cut), ("/t", b"\0\0\0\0")),
                               False, {})
    with pytest.raises(brook.DecodeError):
        _codec.decode_messages(records(("/t", good + b"\0")), False, {})
    with pytest.raises(brook.DecodeError):
        _codec.decode_messages(records(("/t", b"\x63")), False, {})
    with pytest.raises(brook.DecodeError):
        _codec.decode_messages(records(("/t", good[:10])), False, {})
