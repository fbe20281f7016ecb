"""An endpoint's counters from Python: Endpoint.metrics() and the Prometheus listener,
while two endpoints really exchange messages over loopback."""

import socket
import urllib.request

import pytest

import brook

N = 200


def _pair(config):
    ep1 = brook.Endpoint(config)
    ep2 = brook.Endpoint()
    sub = ep1.make_subscriber("/m")
    port = ep1.listen("127.0.0.1", 0)
    assert ep2.peer("127.0.0.1", port, 1.0)
    assert ep1.await_peer(ep2.node_id(), 10)
    assert ep2.await_peer(ep1.node_id(), 10)
    return ep1, ep2, sub


def _exchange(ep2, sub):
    for i in range(N):
        ep2.publish("/m/x", i)
    got = 0
    while got < N:
        msgs = sub.get(N - got, timeout=5.0)
        assert msgs, f"only {got} of {N} arrived"
        got += len(msgs)


def _sample(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split(" ")[-1])
    raise AssertionError(f"no sample {name} in:\n{text}")


def test_counters_move_as_messages_flow():
    ep1, ep2, sub = _pair(brook.Configuration())
    with ep1, ep2, sub:
        before = ep1.metrics()
        assert before.subscribers[0]["delivered"] == 0
        _exchange(ep2, sub)
        m = ep1.metrics()
        assert m.endpoint["processed_data"] - before.endpoint["processed_data"] == N
        assert m.endpoint["connections"] == 1 and m.endpoint["peerings"] == 1
        assert m.subscribers[0]["delivered"] == N
        (peer,) = m.peers
        assert peer["ip"] == "127.0.0.1" and peer["frames_in"] >= N
        assert str(peer["id"]) == ep2.node_id()
        assert peer["status"] == brook.PeerStatus.Peered
        sent = ep2.metrics().peers[0]
        assert sent["bytes_out"] == peer["bytes_in"]
        assert 'broker_processed_messages_total{type="data"}' in m.text
        assert ep1.metrics_port() is None


def test_the_prometheus_listener_is_scraped_over_http():
    cfg = brook.Configuration()
    cfg.metrics_port = 0
    cfg.metrics_address = "127.0.0.1"
    ep1, ep2, sub = _pair(cfg)
    with ep1, ep2, sub:
        port = ep1.metrics_port()
        assert port
        url = f"http://127.0.0.1:{port}/metrics"
        name = 'broker_processed_messages_total{type="data"}'
        before = _sample(urllib.request.urlopen(url, timeout=5).read().decode(), name)
        _exchange(ep2, sub)
        with urllib.request.urlopen(url, timeout=5) as r:
            assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            after = _sample(r.read().decode(), name)
        assert after - before == N


def test_bad_metrics_settings_are_invalid_arguments():
    cfg = brook.Configuration()
    cfg.metrics_address = "not an address"
    cfg.metrics_port = 0
    with pytest.raises(brook.InvalidArgument):
        brook.Endpoint(cfg)
    cfg = brook.Configuration()
    cfg.metrics_port = 70000
    with pytest.raises(brook.InvalidArgument):
        brook.Endpoint(cfg)
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    cfg = brook.Configuration()
    cfg.metrics_port = taken.getsockname()[1]
    cfg.metrics_address = "127.0.0.1"
    with pytest.raises(brook.BrookError):
        brook.Endpoint(cfg)
    taken.close()
