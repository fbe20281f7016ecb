"""Python against the C examples, in separate processes, and the Python examples run."""

import os
import subprocess
import sys

import pytest

import brook

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("BROOK_EXAMPLES") or os.path.join(REPO, "build", "examples")
EXAMPLES = os.path.join(REPO, "python", "examples")


def c_example(name):
    path = os.path.join(BIN, name)
    if not os.path.exists(path):
        pytest.skip(f"{path} not built (make examples)")
    return path


def python_env():
    """The environment for a child Python: this process's brook, found the same way."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [os.path.dirname(os.path.dirname(brook.__file__))] + [p for p in sys.path if p])
    return env


def start_listening(cmd, **kw):
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, **kw)
    first = proc.stdout.readline()
    assert first.startswith("listening on "), first
    return proc, int(first.split()[-1])


def test_python_pings_c_pong():
    n = 20
    proc, port = start_listening([c_example("pong"), "--port", "0", "--count", str(n)])
    try:
        with brook.Endpoint() as ep, ep.make_subscriber("/brook/pong") as sub:
            assert ep.peer("127.0.0.1", port, 0)
            # Wait until pong's subscription has reached us.
            deadline = 50
            while "/brook/ping" not in ep.peer_subscriptions() and deadline:
                sub.get(0.1)
                deadline -= 1
            ep.publish_batch(*[("/brook/ping", brook.zeek.Event("ping", brook.Count(i)))
                               for i in range(1, n + 1)])
            pongs = sub.get(n, 20.0)
            events = [brook.zeek.Event(v) for _, v in pongs]
            assert [(e.name(), e.args()) for e in events] == \
                [("pong", [brook.Count(i)]) for i in range(1, n + 1)]
        out, _ = proc.communicate(timeout=20)
        assert f"answered {n} pings" in out
        assert proc.returncode == 0
    finally:
        proc.kill()


def test_c_ping_python_pong():
    proc, port = start_listening(
        [sys.executable, os.path.join(EXAMPLES, "pong.py"), "--port", "0", "--count", "5"],
        env=python_env())
    try:
        ping = subprocess.run([c_example("ping"), "--port", str(port), "--count", "5"],
                              capture_output=True, text=True, timeout=30)
        assert ping.returncode == 0, ping.stderr
        assert "5 pings, 5 pongs" in ping.stdout
        out, _ = proc.communicate(timeout=20)
        assert "answered 5 pings" in out
    finally:
        proc.kill()


def test_python_ping_python_pong():
    proc, port = start_listening(
        [sys.executable, os.path.join(EXAMPLES, "pong.py"), "--port", "0", "--count", "3"],
        env=python_env())
    try:
        ping = subprocess.run(
            [sys.executable, os.path.join(EXAMPLES, "ping.py"), "--port", str(port),
             "--count", "3"], capture_output=True, text=True, timeout=30, env=python_env())
        assert ping.returncode == 0, ping.stderr
        assert ping.stdout.count("-> pong(") == 3
    finally:
        proc.kill()


@pytest.mark.parametrize("example", ["store.py", "async_subscriber.py"])
def test_examples_run(example, tmp_path):
    r = subprocess.run([sys.executable, os.path.join(EXAMPLES, example)], capture_output=True,
                       text=True, timeout=60, env=python_env(), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout


def test_store_example_with_sqlite_keeps_counting(tmp_path):
    db = str(tmp_path / "demo.sqlite")
    for runs in (1, 2):
        r = subprocess.run([sys.executable, os.path.join(EXAMPLES, "store.py"), "--sqlite", db],
                           capture_output=True, text=True, timeout=60, env=python_env())
        assert r.returncode == 0, r.stderr
        assert f"runs: {runs}" in r.stdout
