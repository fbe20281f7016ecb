"""Errors and misuse: typed exceptions with brook's messages, close() and use after close,
waits that other threads and Ctrl-C can end, and nothing that crashes the interpreter."""

import gc
import os
import signal
import subprocess
import sys
import threading
import time
import weakref

import pytest

import brook
from conftest import publisher_for, wait_until


def test_exceptions_carry_status_and_message():
    with brook.Endpoint() as ep:
        with pytest.raises(brook.InvalidArgument) as e:
            ep.listen("no.such.host.invalid", 0)
        assert isinstance(e.value, brook.BrookError) and isinstance(e.value, ValueError)
        assert e.value.status == brook.StatusCode.INVALID_ARGUMENT
        assert e.value.message and str(e.value) == e.value.message
        port = ep.listen("127.0.0.1", 0)
        with pytest.raises(brook.IOFailure) as e:  # the port is taken
            ep.listen("127.0.0.1", port)
        assert isinstance(e.value, OSError) and e.value.message


def test_bad_arguments_raise_typed_exceptions():
    with brook.Endpoint() as ep:
        for bad in (-1, 65536, "80", 1.5, True):
            with pytest.raises(brook.InvalidArgument):
                ep.listen("127.0.0.1", bad)
        with pytest.raises(brook.InvalidArgument):
            ep.publish("/a\0b", 1)  # a NUL cannot pass through C
        with pytest.raises(brook.InvalidArgument):
            ep.publish("", 1)  # brook refuses an empty topic
        with pytest.raises(brook.TypeMismatch):
            ep.publish(5, 1)
        with pytest.raises(TypeError):
            ep.publish("/t", object())
        with pytest.raises(brook.TypeMismatch):
            ep.publish_batch(("/t", 1), "not a pair")
        with pytest.raises(brook.InvalidArgument):
            ep.publish("not-an-id", "/t", 1)
        with pytest.raises(brook.InvalidArgument):
            ep.make_subscriber("/t").get(-1)
        with pytest.raises(brook.InvalidArgument):
            brook.Endpoint(brook.Configuration()).make_subscriber("/t").get(1, -5.0)


def test_configuration():
    cfg = brook.Configuration(brook.BrokerOptions())
    cfg.options.disable_forwarding = True
    cfg.subscriber_queue_size = 4
    cfg.subscriber_overflow_policy = "drop_newest"
    cfg.handshake_timeout = 2.5
    with brook.Endpoint(cfg) as ep, ep.make_subscriber("/q", qsize=None) as sub, \
            publisher_for(ep, "/q") as peer:
        for i in range(10):
            peer.publish("/q", i)
        deadline = time.monotonic() + 10
        while sub.dropped() < 6 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [v for _, v in sub.poll()] == [0, 1, 2, 3] and sub.dropped() == 6
    for name, value in (("subscriber_queue_size", 0), ("subscriber_overflow_policy", "eat"),
                        ("peer_overflow_policy", "eat"), ("peer_timeout", 0.5),
                        ("max_frame_size", -1), ("busy_poll", 2.0)):
        cfg = brook.Configuration()
        setattr(cfg, name, value)
        with pytest.raises(brook.InvalidArgument):
            brook.Endpoint(cfg)
    cfg = brook.Configuration()
    cfg.openssl_certificate = "/etc/cert.pem"
    with pytest.raises(brook.InvalidArgument, match="TLS"):
        brook.Endpoint(cfg)


def test_close_is_idempotent_and_use_after_close_raises():
    ep = brook.Endpoint()
    sub = ep.make_subscriber("/t")
    status = ep.make_status_subscriber()
    pub = ep.make_publisher("/t")
    for obj in (sub, status, pub):
        obj.close()
        obj.close()
        assert obj.closed
    with pytest.raises(ValueError):
        sub.get(0.1)
    with pytest.raises(brook.Closed):
        sub.poll()
    with pytest.raises(brook.Closed):
        status.get()
    with pytest.raises(brook.Closed):
        pub.publish(1)
    ep.close()
    ep.close()
    for call in (lambda: ep.publish("/t", 1), lambda: ep.listen("127.0.0.1", 0),
                 lambda: ep.make_subscriber("/t"), ep.peers, lambda: ep.peer("127.0.0.1", 1)):
        with pytest.raises(brook.Closed):
            call()
    assert ep.node_id()  # still known


def test_calls_after_shutdown_raise_closed_and_subscribers_drain():
    with brook.Endpoint() as ep, ep.make_subscriber("/t") as sub, \
            publisher_for(ep, "/t") as peer:
        peer.publish("/t", 1)
        wait_until(lambda: sub.available() == 1)
        ep.shutdown()
        ep.shutdown()
        with pytest.raises(brook.Closed) as e:
            ep.publish("/t", 2)
        assert e.value.status == brook.StatusCode.CLOSED
        assert sub.get(5.0) == ("/t", 1)  # what was delivered is still there
        with pytest.raises(brook.Closed):
            sub.get(5.0)
        with pytest.raises(brook.Closed):
            ep.make_publisher("/t").publish(1)


def test_children_keep_their_endpoint_alive():
    ep = brook.Endpoint()
    ref = weakref.ref(ep)
    sub = ep.make_subscriber("/t")
    pub = ep.make_publisher("/t")
    with brook.Endpoint() as peer, peer.make_subscriber("/t") as peer_sub:
        assert peer.peer("127.0.0.1", ep.listen("127.0.0.1", 0), 0)
        wait_until(lambda: "/t" in peer.peer_subscriptions() and "/t" in ep.peer_subscriptions())
        del ep
        gc.collect()
        assert ref() is not None
        pub.publish("still here")
        assert peer_sub.get(5.0) == ("/t", "still here")
        peer.publish("/t", "and here")
        assert sub.get(5.0) == ("/t", "and here")
        del sub, pub
        gc.collect()
        assert ref() is None  # freed, with its children


def test_closing_from_another_thread_ends_a_wait():
    with brook.Endpoint() as ep:
        sub = ep.make_subscriber("/t")
        result = []

        def wait():
            try:
                sub.get()
            except brook.Closed as e:
                result.append(e)

        t = threading.Thread(target=wait)
        t.start()
        time.sleep(0.2)
        sub.close()
        t.join(5)
        assert not t.is_alive() and len(result) == 1


def test_shutdown_from_another_thread_ends_a_wait():
    ep = brook.Endpoint()
    sub = ep.make_subscriber("/t")
    done = []
    t = threading.Thread(target=lambda: done.append(pytest.raises(brook.Closed, sub.get)))
    t.start()
    time.sleep(0.2)
    ep.close()
    t.join(5)
    assert not t.is_alive() and done
    sub.close()


def test_blocking_calls_release_the_gil():
    """Other Python threads run while one waits in brook."""
    with brook.Endpoint() as ep, ep.make_subscriber("/t") as sub:
        ticks = []
        stop = threading.Event()

        def spin():
            while not stop.is_set():
                ticks.append(1)
                time.sleep(0.001)

        t = threading.Thread(target=spin)
        t.start()
        assert sub.get(0.5) is None
        stop.set()
        t.join()
        assert len(ticks) > 50


INTERRUPTED = r"""
import os, signal, sys, threading, time
sys.path[:0] = {path!r}
import brook
ep = brook.Endpoint()
{setup}
print("ready", flush=True)
try:
    {call}
except KeyboardInterrupt:
    print("interrupted", flush=True)
    ep.close()
    sys.exit(0)
print("returned", flush=True)
"""


@pytest.mark.parametrize(
    "setup,call",
    [("sub = ep.make_subscriber('/t')", "sub.get()"),
     ("sub = ep.make_subscriber('/t')", "sub.get(10)"),
     ("es = ep.make_status_subscriber(True)", "es.get()"),
     ("", "ep.await_peer()"),
     # A peering that never completes: a listener that accepts and never answers.
     ("import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen();"
      " port = s.getsockname()[1]", "ep.peer('127.0.0.1', port, 0)")],
)
def test_ctrl_c_interrupts_a_wait(setup, call):
    path = [p for p in sys.path if p]
    code = INTERRUPTED.format(path=path, setup=setup, call=call)
    env = dict(os.environ)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            env=env)
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.5)
        start = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=15)
        assert out.strip() == "interrupted"
        assert time.monotonic() - start < 8  # the endpoint's goodbye included
        assert proc.returncode == 0
    finally:
        proc.kill()


def test_no_crash_on_garbage_from_a_peer():
    """A peer sending garbage ends its peering; the interpreter and the endpoint go on."""
    import socket

    with brook.Endpoint() as ep, ep.make_subscriber("/t") as sub:
        port = ep.listen("127.0.0.1", 0)
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(b"\xff" * 4096)
            s.settimeout(10)
            try:
                while s.recv(4096):
                    pass
            except OSError:
                pass
        with publisher_for(ep, "/t", port=port) as peer:
            peer.publish("/t", "alive")
            assert sub.get(5.0) == ("/t", "alive")


def test_every_object_closes_through_the_shared_base():
    with brook.Endpoint() as ep:
        objs = [ep.make_subscriber("/t"), ep.make_status_subscriber(), ep.make_publisher("/t"),
                ep.attach_master("closing", brook.Backend.Memory)]
        objs.append(objs[-1].proxy())
        for obj in reversed(objs):
            with obj as same:
                assert same is obj and not obj.closed
            assert obj.closed
            obj.reset()  # Broker's name, idempotent like close()
            assert obj.closed
    assert ep.closed


def test_what_no_peer_would_take_is_refused():
    cfg = brook.Configuration()
    cfg.max_frame_size = 2048
    cfg.listen_backlog = 1024
    deep = 7
    for _ in range(129):
        deep = (deep,)
    with brook.Endpoint(cfg) as ep:
        # A frame over the configured maximum, as publish and as a store write.
        with pytest.raises(brook.EncodeError) as e:
            ep.publish("/t", "x" * 4096)
        assert "max_frame_size" in e.value.message
        assert e.value.status == brook.StatusCode.ENCODE_ERROR
        with pytest.raises(brook.EncodeError):
            ep.publish_batch(("/t", 1), ("/t", "x" * 4096))
        # Deeper than brook's decoders take (128 containers); 128 goes.
        with pytest.raises(brook.EncodeError) as e:
            ep.publish("/t", deep)
        assert "deeper than 128" in e.value.message
        ep.publish("/t", deep[0])
        store = ep.attach_master("refused")
        with pytest.raises(brook.EncodeError) as e:
            store.put("k", "x" * 4096)
        assert "max_frame_size" in e.value.message
        with pytest.raises(brook.EncodeError):
            store.put("k", deep)
        store.put("k", deep[0])
        assert store.get("k") == deep[0]
    for bad in (0, 2**31):
        cfg = brook.Configuration()
        cfg.listen_backlog = bad
        with pytest.raises(brook.InvalidArgument):
            brook.Endpoint(cfg)
