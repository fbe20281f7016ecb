"""Test setup: the brook package under test, and helpers shared by the tests.

`make test` runs these against the wheel installed in a scratch virtualenv. Run from a
source tree without installing, they fall back to python/brook with the library of
`cargo build --release` (or BROOK_LIBRARY).
"""

import contextlib
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

try:
    import brook  # noqa: F401
except ImportError:
    sys.path.insert(0, os.path.dirname(HERE))
    os.environ.setdefault("BROOK_LIBRARY", os.path.join(REPO, "target", "release", "libbrook.so"))
    import brook  # noqa: F401


def pytest_report_header(config):
    from brook import _ffi

    return [f"brook {brook.__version__} from {os.path.dirname(brook.__file__)}",
            f"libbrook: {_ffi.path}"]


@pytest.fixture
def pair():
    """Two endpoints, the second peered with the first over 127.0.0.1."""
    with brook.Endpoint() as a, brook.Endpoint() as b:
        port = a.listen("127.0.0.1", 0)
        assert b.peer("127.0.0.1", port, 0)
        assert a.await_peer(b.node_id(), 10)
        assert b.await_peer(a.node_id(), 10)
        yield a, b, port


def wait_until(predicate, timeout=10.0, step=0.01):
    """Polls `predicate` until it is true; fails the test after `timeout` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(step)


@contextlib.contextmanager
def publisher_for(ep, *topics, port=None):
    """A second endpoint peered with `ep` over 127.0.0.1 (on `port` if `ep` listens there
    already), given once it knows `ep`'s subscriptions to `topics`: what it publishes on
    them reaches `ep`'s subscribers. (As in Broker, an endpoint's own publications do not
    reach its own subscribers.)"""
    with brook.Endpoint() as pub:
        if port is None:
            port = ep.listen("127.0.0.1", 0)
        assert pub.peer("127.0.0.1", port, 0)
        wait_until(lambda: all(t in pub.peer_subscriptions() for t in topics))
        yield pub
