"""Shutdown accounting and the peer policies of issue 12, from Python."""

import time

import brook

from conftest import wait_until


def test_shutdown_returns_what_a_peer_that_never_reads_did_not_take():
    cfg = brook.Configuration()
    cfg.peer_buffer_size = 64
    cfg.unpeer_timeout = 0.3
    slow = brook.Configuration()
    slow.subscriber_queue_size = 16
    a = brook.Endpoint(cfg)
    with brook.Endpoint(slow) as b, b.make_subscriber("/never", qsize=None):
        port = b.listen("127.0.0.1", 0)
        assert a.peer("127.0.0.1", port, 1.0)
        wait_until(lambda: any(t.startswith("/never") for t in a.peer_subscriptions()))
        pub = a.make_publisher("/never")
        payload = "z" * 1000
        blocked = None
        deadline = time.monotonic() + 30
        # Until the peer's buffer is full and publishers have had to wait for a second.
        def full():
            return any(p["queued_frames"] >= 64 for p in a.metrics().peers)

        while blocked is None or time.monotonic() - blocked < 1.0 or not full():
            if pub.try_publish(payload):
                blocked = None
            else:
                blocked = blocked or time.monotonic()
                time.sleep(0.005)
            assert time.monotonic() < deadline
        # Counted either by the shutdown or, should the peering have ended just before it
        # (a loaded machine), by the discarded counter: never lost silently.
        before = a.metrics().endpoint["discarded"]
        n = a.shutdown()
        assert n > 0 or before > 0
        assert a.shutdown() == 0
        a.close()


def test_shutdown_returns_zero_when_everything_arrived(pair):
    a, b, _ = pair
    with a.make_subscriber("/ok") as sub:
        wait_until(lambda: any(t.startswith("/ok") for t in b.peer_subscriptions()))
        for i in range(100):
            b.publish("/ok", i)
        assert b.shutdown() == 0
        assert [v for _, v in sub.get(100, 10.0)] == list(range(100))


def test_block_is_the_default_peer_policy_and_the_peer_timeout_is_set():
    cfg = brook.Configuration()
    cfg.peer_timeout = 5
    cfg.peer_overflow_policy = "disconnect"
    with brook.Endpoint(cfg):
        pass
    cfg.peer_overflow_policy = "block"
    with brook.Endpoint(cfg):
        pass
