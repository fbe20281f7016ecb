"""Status and error events, as Broker's StatusSubscriber gives them."""

import socket

import brook
from conftest import wait_until


def free_port():
    """A port nobody listens on (bound and released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_peering_statuses():
    with brook.Endpoint() as ep1, brook.Endpoint() as ep2, \
            ep1.make_status_subscriber(True) as es1, ep2.make_status_subscriber(True) as es2:
        port = ep1.listen("127.0.0.1", 0)
        assert ep2.peer("127.0.0.1", port, 1.0)
        assert ep1.await_peer(ep2.node_id(), 10) and ep2.await_peer(ep1.node_id(), 10)
        st1 = es1.get(2, 10.0)
        st2 = es2.get(2, 10.0)
        for st, other in ((st1, ep2), (st2, ep1)):
            assert [s.code() for s in st] == [brook.SC.EndpointDiscovered, brook.SC.PeerAdded]
            assert all(isinstance(s, brook.Status) for s in st)
            assert st[1].context().node_id() == other.node_id()
            assert st[1].name() == "peer_added" and st[1].message()
        assert st2[1].context().network.get().address == "127.0.0.1"
        assert st2[1].context().network.get().port == port
        # The other side goes away: peer_lost (or removed) on this one.
        ep2.close()
        lost = es1.get(10.0)
        assert lost.code() in (brook.SC.PeerLost, brook.SC.PeerRemoved)


def test_error_events_and_failed_peering():
    with brook.Endpoint() as ep1, ep1.make_status_subscriber() as es1:
        port = free_port()
        assert ep1.peer("127.0.0.1", port, 0.0) is False
        err = es1.get(10.0)
        assert isinstance(err, brook.Error)
        assert err.code() == brook.EC.PeerUnavailable and err.code() == 4
        assert err.name() == "peer_unavailable"
        # Async version.
        ep1.peer_nosync("127.0.0.1", port, 0.0)
        assert es1.get(10.0).code() == brook.EC.PeerUnavailable


def test_statuses_only_when_asked_for():
    with brook.Endpoint() as ep1, brook.Endpoint() as ep2, \
            ep1.make_status_subscriber() as errors_only:
        port = ep1.listen("127.0.0.1", 0)
        assert ep2.peer("127.0.0.1", port, 0)
        assert ep1.await_peer(ep2.node_id(), 10)
        assert errors_only.get(0.3) is None
        assert errors_only.poll() == []


def test_status_subscriber_fd_and_available():
    import select

    with brook.Endpoint() as ep, ep.make_status_subscriber(True) as es:
        assert es.available() == 0
        ep.peer_nosync("127.0.0.1", free_port(), 0)
        assert select.select([es.fd()], [], [], 10)[0] == [es.fd()]
        wait_until(lambda: es.available() >= 1)
        [ev] = es.poll()
        assert ev.code() == brook.EC.PeerUnavailable
