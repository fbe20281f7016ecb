#!/usr/bin/env python3
"""Interoperability checks between brook and a real Zeek Broker.

Uses Broker's Python bindings (``import broker``) as the Broker peer, and brook's
``brook`` CLI plus brook's C library (``libbrook.so``, through ctypes) as the brook
peer. Broker's SSL is disabled on the Broker side, since brook does not speak TLS.

Checks, in both roles (Broker listens and brook connects, then the reverse):
  * Broker publishes a value of every Broker type and a Zeek event; ``brook pipe -m
    subscribe`` must print ``data(<topic>, <value>)`` exactly as Broker renders the value,
    and brook's library must receive the payload byte for byte as brook encodes the value.
  * brook publishes the same values (parsed from brook's text form) and an event; Broker
    must receive values equal to its own, which it renders as brook renders them.
  * ``brook pipe -m publish`` lines arrive at Broker as strings.
  * Status: Broker reports peer_added / peer_lost when brook connects and leaves; brook's
    BYE is answered (brook reports peer_removed well before its unpeer timeout), and
    Broker's BYE is answered by brook (Broker reports a clean peer_removed, not a timeout);
    brook reports the end of a peering with Broker's status codes and messages.
Also: Zeek events with a network timestamp both ways, a 1 MiB string and a 20000-element
vector both ways, and forwarding through a middle node that `forward`s the topic, for
every mix of Broker and brook. If Broker's own tools are found (on $PATH or in
$BROKER_BIN_DIR): broker-pipe against brook pipe and brook's library, broker-node
against brook node (ping/pong both ways), broker-throughput against brook throughput.
Data stores, with examples/store_node.rs as brook's side (built with cargo; skipped if
that fails): Broker master with brook clone and the reverse (every value as key and
value, every write from the clone judged against a reference Broker master, expiry), late
attach, concurrent writes from a brook and a Broker clone, and lost commands (through
tests/interop/drop_proxy.py).

Usage: python3 tests/interop/broker_interop.py [-v] [--only WORD]
Environment: BROOK_BIN (default target/release/brook), BROOK_LIB (default
target/release/libbrook.so), BROKER_BIN_DIR (Broker's build/bin, optional),
BROOK_STORE_NODE (a prebuilt store_node instead of building it).
See tests/interop/README.md for building Broker and its Python bindings.
"""

import sys

try:
    import broker
    import broker.zeek
except ImportError as exc:
    print(f"skipped: Broker's Python bindings not found (import broker: {exc})")
    sys.exit(0)

import ctypes
import ipaddress
import os
import queue
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time

from certs import make_certs

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BROOK_BIN = os.environ.get("BROOK_BIN", os.path.join(REPO, "target", "release", "brook"))
BROOK_LIB = os.environ.get(
    "BROOK_LIB", os.path.join(REPO, "target", "release", "libbrook.so")
)
VERBOSE = "-v" in sys.argv[1:]
# --only WORD: run only the parts whose name contains WORD (e.g. --only stores, or one
# store part: --only "store loss").
ONLY = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv[1:-1] else None
HOST = "127.0.0.1"
# --plain: both sides with TLS disabled (Broker's disable_ssl, brook's --disable-ssl).
# Without it both sides run with their defaults: TLS.
PLAIN = "--plain" in sys.argv[1:]
PLAIN_FLAG = ["--disable-ssl"] if PLAIN else []

PASSED = 0
FAILED = 0
FAILURES = []


def check(name, ok, detail=""):
    global PASSED, FAILED
    if ok:
        PASSED += 1
        if VERBOSE:
            print(f"ok    {name}")
    else:
        FAILED += 1
        FAILURES.append(name)
        print(f"FAIL  {name}" + (f"\n      {detail}" if detail else ""))


def wait_until(pred, timeout=10.0, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# -- Broker side ---------------------------------------------------------------------


def broker_endpoint(plain=False):
    """A Broker endpoint; `plain` disables TLS whatever the mode (the drop proxy reads
    frames, so its peers speak plain TCP)."""
    opts = broker.BrokerOptions()
    opts.disable_ssl = PLAIN or plain
    opts.ignore_broker_conf = True
    return broker.Endpoint(broker.Configuration(opts))


def broker_get(sub, timeout):
    """Takes one message from a broker.Subscriber as (topic, raw broker Data) or None."""
    msg = sub._subscriber.get(float(timeout))
    if msg is None or not msg.is_set():
        return None
    topic, data = msg.get()
    return topic.string(), data


class StatusLog:
    """Collects a Broker status subscriber's events (as Broker's text) in `seen`.

    (Broker's endpoint.peer_subscriptions() aborts the process in Broker 2.8.0-dev: its
    core actor has no handler for the request, so readiness is taken from peer_added.)
    """

    def __init__(self, ep):
        self.sub = ep.make_status_subscriber(True)
        self.seen = []

    def mark(self):
        self.drain(0)
        return len(self.seen)

    def _poll(self):
        # poll(): get(timeout) cannot convert its result in these bindings (pybind11
        # "Unregistered type: std::optional<std::variant<broker::none, ...>>").
        got = self.sub.poll()
        self.seen.extend(repr(x) for x in got)
        return bool(got)

    def drain(self, timeout):
        end = time.monotonic() + timeout
        while True:
            if not self._poll() and time.monotonic() >= end:
                return
            time.sleep(0.02)

    def wait(self, prefix, timeout, since=0):
        end = time.monotonic() + timeout
        while True:
            self._poll()
            for s in self.seen[since:]:
                if s.startswith(prefix):
                    return s
            if time.monotonic() >= end:
                return None
            time.sleep(0.05)


def B(x):
    return broker.Data(x)


def bset(*xs):
    return broker.Set([B(x) for x in xs])


def btable(*kvs):
    t = broker.Table()
    for k, v in kvs:
        t[B(k)] = B(v)
    return t


def bvec(*xs):
    return broker.Vector([B(x) for x in xs])


C = broker.Count
P = broker.Port.Protocol

# (name, Broker value, the same value in brook's text form)
VALUES = [
    ("none", lambda: broker.Data(), "nil"),
    ("bool T", lambda: B(True), "T"),
    ("bool F", lambda: B(False), "F"),
    ("count 0", lambda: B(C(0)), "0"),
    ("count 42", lambda: B(C(42)), "42"),
    ("count max", lambda: B(C(2**64 - 1)), "18446744073709551615"),
    ("int -7", lambda: B(-7), "-7"),
    ("int +5", lambda: B(5), "+5"),
    ("int max", lambda: B(2**63 - 1), "+9223372036854775807"),
    ("int min", lambda: B(-(2**63)), "-9223372036854775808"),
    ("real 4.2", lambda: B(4.2), "4.2"),
    ("real -0.5", lambda: B(-0.5), "-0.5"),
    ("real 1e-9", lambda: B(1e-9), "0.000000001"),
    ("real 1e20", lambda: B(1e20), "100000000000000000000.0"),
    ("real inf", lambda: B(float("inf")), "inf"),
    ("string", lambda: B("hello world"), '"hello world"'),
    ("string empty", lambda: B(""), '""'),
    ("string punct", lambda: B("a, (b) {c} -> 'd'"), "\"a, (b) {c} -> 'd'\""),
    ("string utf8", lambda: B("grüße ✓"), '"grüße ✓"'),
    ("address v4", lambda: B(ipaddress.IPv4Address("10.0.0.1")), "10.0.0.1"),
    ("address v6", lambda: B(ipaddress.IPv6Address("2001:db8::1")), "2001:db8::1"),
    ("address ::1", lambda: B(ipaddress.IPv6Address("::1")), "::1"),
    ("subnet v4", lambda: B(ipaddress.IPv4Network("10.0.0.0/8")), "10.0.0.0/8"),
    ("subnet v6", lambda: B(ipaddress.IPv6Network("2001:db8::/32")), "2001:db8::/32"),
    ("subnet /0", lambda: B(ipaddress.IPv4Network("0.0.0.0/0")), "0.0.0.0/0"),
    ("port tcp", lambda: B(broker.Port(80, P.TCP)), "80/tcp"),
    ("port udp", lambda: B(broker.Port(53, P.UDP)), "53/udp"),
    ("port icmp", lambda: B(broker.Port(8, P.ICMP)), "8/icmp"),
    ("port unknown", lambda: B(broker.Port(0, P.Unknown)), "0/?"),
    (
        "timestamp",
        lambda: B(broker.Timestamp(broker.Timespan(1700000000123456789))),
        "@1700000000123456789ns",
    ),
    ("timestamp 0", lambda: B(broker.Timestamp(broker.Timespan(0))), "@0ns"),
    ("timespan 1.5s", lambda: B(broker.Timespan(1500000000)), "1500000000ns"),
    ("timespan -5ns", lambda: B(broker.Timespan(-5)), "-5ns"),
    ("timespan 0", lambda: B(broker.Timespan(0)), "0ns"),
    ("enum", lambda: B(broker.Enum("Conn::LOG")), "'Conn::LOG'"),
    ("set", lambda: B(bset(C(3), C(1), C(2))), "{3, 1, 2}"),
    ("set mixed", lambda: B(bset("b", C(1), -1, "a")), '{"b", 1, -1, "a"}'),
    ("table", lambda: B(btable((C(1), "a"), (C(2), "b"))), '{1 -> "a", 2 -> "b"}'),
    ("vector", lambda: B(bvec(C(1), -2, "abc", True)), '(1, -2, "abc", T)'),
    ("vector empty", lambda: B(broker.Vector()), "()"),
    (
        "nested",
        lambda: B(
            bvec(
                btable(("k", bvec(C(1), C(2)))),
                bset(
                    ipaddress.IPv4Address("10.0.0.1"),
                    ipaddress.IPv4Network("10.0.0.0/8"),
                ),
                broker.Vector(),
                bvec(broker.Data()),
            )
        ),
        '({"k" -> (1, 2)}, {10.0.0.1, 10.0.0.0/8}, (), (nil))',
    ),
]

EVENT_NAME = "interop_event"
# The event as the data value Zeek sends, in brook's text form.
EVENT_TEXT = '(1, 1, ("interop_event", (7, "txt", 192.168.1.1, 443/tcp)))'


def broker_event():
    ev = broker.zeek.Event(
        EVENT_NAME, C(7), "txt", ipaddress.IPv4Address("192.168.1.1"), broker.Port(443, P.TCP)
    )
    return broker.Data(ev)


# -- brook side: the C library through ctypes ----------------------------------------


class Brook:
    def __init__(self, path):
        L = ctypes.CDLL(path)
        self.L = L
        vp, pvp = ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)
        cs = ctypes.c_char_p
        sigs = {
            "brook_last_error": (cs, []),
            "brook_config_new": (ctypes.c_int, [pvp]),
            "brook_config_free": (None, [vp]),
            "brook_config_set_unpeer_timeout_ms": (ctypes.c_int, [vp, ctypes.c_uint32]),
            "brook_config_set_disable_ssl": (ctypes.c_int, [vp, ctypes.c_bool]),
            "brook_config_set_ssl": (ctypes.c_int, [vp] + [ctypes.c_char_p] * 5),
            "brook_endpoint_new": (ctypes.c_int, [vp, pvp]),
            "brook_endpoint_shutdown": (ctypes.c_int, [vp]),
            "brook_endpoint_free": (None, [vp]),
            "brook_endpoint_listen": (
                ctypes.c_int,
                [vp, cs, ctypes.c_uint16, ctypes.POINTER(ctypes.c_uint16)],
            ),
            "brook_endpoint_peer": (
                ctypes.c_int,
                [vp, cs, ctypes.c_uint16, ctypes.c_uint32, ctypes.c_void_p],
            ),
            "brook_endpoint_unpeer": (ctypes.c_int, [vp, cs, ctypes.c_uint16]),
            "brook_endpoint_publish": (ctypes.c_int, [vp, cs, vp]),
            "brook_endpoint_forward": (ctypes.c_int, [vp, cs]),
            "brook_endpoint_publish_event": (ctypes.c_int, [vp, cs, vp]),
            "brook_endpoint_flush": (ctypes.c_int, [vp]),
            "brook_endpoint_subscribe": (
                ctypes.c_int,
                [vp, ctypes.POINTER(cs), ctypes.c_size_t, pvp],
            ),
            "brook_endpoint_peer_subscriptions": (ctypes.c_int, [vp, pvp]),
            "brook_topic_list_len": (ctypes.c_int, [vp, ctypes.POINTER(ctypes.c_size_t)]),
            "brook_topic_list_get": (
                ctypes.c_int,
                [
                    vp,
                    ctypes.c_size_t,
                    ctypes.POINTER(ctypes.POINTER(ctypes.c_char)),
                    ctypes.POINTER(ctypes.c_size_t),
                ],
            ),
            "brook_topic_list_free": (None, [vp]),
            "brook_subscriber_next": (ctypes.c_int, [vp, ctypes.c_int64, pvp]),
            "brook_subscriber_free": (None, [vp]),
            "brook_message_data": (ctypes.c_int, [vp, pvp]),
            "brook_message_free": (None, [vp]),
            "brook_message_payload": (
                ctypes.c_int,
                [vp, ctypes.POINTER(ctypes.POINTER(ctypes.c_uint8)), ctypes.POINTER(ctypes.c_size_t)],
            ),
            "brook_data_to_bytes": (
                ctypes.c_int,
                [vp, ctypes.POINTER(ctypes.POINTER(ctypes.c_uint8)), ctypes.POINTER(ctypes.c_size_t)],
            ),
            "brook_bytes_free": (None, [ctypes.POINTER(ctypes.c_uint8), ctypes.c_size_t]),
            "brook_endpoint_status_subscriber": (ctypes.c_int, [vp, ctypes.c_bool, pvp]),
            "brook_status_subscriber_next": (ctypes.c_int, [vp, ctypes.c_int64, pvp]),
            "brook_status_subscriber_free": (None, [vp]),
            "brook_status_event_name": (ctypes.c_int, [vp, ctypes.POINTER(cs)]),
            "brook_status_event_message": (ctypes.c_int, [vp, ctypes.POINTER(cs)]),
            "brook_status_event_free": (None, [vp]),
            "brook_status_event_address": (
                ctypes.c_int,
                [vp, ctypes.POINTER(cs), ctypes.POINTER(ctypes.c_uint16)],
            ),
            "brook_data_from_text": (ctypes.c_int, [cs, pvp]),
            "brook_data_to_string": (
                ctypes.c_int,
                [vp, ctypes.POINTER(ctypes.POINTER(ctypes.c_char)), ctypes.POINTER(ctypes.c_size_t)],
            ),
            "brook_data_free": (None, [vp]),
            "brook_string_free": (None, [ctypes.POINTER(ctypes.c_char)]),
            "brook_event_new": (ctypes.c_int, [cs, pvp]),
            "brook_event_add_arg": (ctypes.c_int, [vp, vp]),
            "brook_event_free": (None, [vp]),
            "brook_event_set_network_timestamp": (ctypes.c_int, [vp, ctypes.c_int64]),
            "brook_event_network_timestamp": (
                ctypes.c_int,
                [vp, ctypes.POINTER(ctypes.c_int64), ctypes.POINTER(ctypes.c_bool)],
            ),
            "brook_message_event": (ctypes.c_int, [vp, pvp]),
            "brook_event_name": (ctypes.c_int, [vp, ctypes.POINTER(cs)]),
        }
        for name, (res, args) in sigs.items():
            f = getattr(L, name)
            f.restype = res
            f.argtypes = args

    def ok(self, rc, what):
        if rc != 0:
            err = self.L.brook_last_error()
            raise RuntimeError(f"{what}: status {rc}: {err.decode() if err else ''}")

    def data(self, text):
        out = ctypes.c_void_p()
        self.ok(self.L.brook_data_from_text(text.encode(), ctypes.byref(out)), f"parse {text!r}")
        return out

    def encode(self, d):
        buf = ctypes.POINTER(ctypes.c_uint8)()
        n = ctypes.c_size_t()
        self.ok(self.L.brook_data_to_bytes(d, ctypes.byref(buf), ctypes.byref(n)), "encode")
        out = ctypes.string_at(buf, n.value)
        self.L.brook_bytes_free(buf, n)
        return out

    def text_to_bytes(self, text):
        d = self.data(text)
        try:
            return self.encode(d)
        finally:
            self.L.brook_data_free(d)

    def render(self, d):
        s = ctypes.POINTER(ctypes.c_char)()
        n = ctypes.c_size_t()
        self.ok(self.L.brook_data_to_string(d, ctypes.byref(s), ctypes.byref(n)), "render")
        text = ctypes.string_at(s, n.value).decode("utf-8", "replace")
        self.L.brook_string_free(s)
        return text


class BrookEndpoint:
    def __init__(self, lib, unpeer_timeout_ms=10000, certs=None):
        self.lib, L = lib, lib.L
        cfg = ctypes.c_void_p()
        lib.ok(L.brook_config_new(ctypes.byref(cfg)), "config")
        lib.ok(L.brook_config_set_unpeer_timeout_ms(cfg, unpeer_timeout_ms), "config")
        lib.ok(L.brook_config_set_disable_ssl(cfg, PLAIN), "config")
        if certs:
            c = lambda k: certs[k].encode() if certs.get(k) else None  # noqa: E731
            lib.ok(L.brook_config_set_ssl(cfg, c("certificate"), c("key"), None, c("cafile"),
                                          None), "config ssl")
        self.ep = ctypes.c_void_p()
        lib.ok(L.brook_endpoint_new(cfg, ctypes.byref(self.ep)), "endpoint_new")
        L.brook_config_free(cfg)
        self.addresses = {}
        self.ssub = ctypes.c_void_p()
        lib.ok(L.brook_endpoint_status_subscriber(self.ep, True, ctypes.byref(self.ssub)), "status")

    def listen(self):
        port = ctypes.c_uint16()
        self.lib.ok(self.lib.L.brook_endpoint_listen(self.ep, HOST.encode(), 0, ctypes.byref(port)), "listen")
        return port.value

    def peer(self, port):
        self.lib.ok(self.lib.L.brook_endpoint_peer(self.ep, HOST.encode(), port, 0, None), "peer")

    def unpeer(self, port):
        self.lib.ok(self.lib.L.brook_endpoint_unpeer(self.ep, HOST.encode(), port), "unpeer")

    def publish_text(self, topic, text):
        d = self.lib.data(text)
        try:
            self.lib.ok(self.lib.L.brook_endpoint_publish(self.ep, topic.encode(), d), "publish")
        finally:
            self.lib.L.brook_data_free(d)

    def publish_event(self, topic, name, arg_texts, network_ts_ns=None):
        L = self.lib.L
        ev = ctypes.c_void_p()
        self.lib.ok(L.brook_event_new(name.encode(), ctypes.byref(ev)), "event_new")
        try:
            if network_ts_ns is not None:
                self.lib.ok(L.brook_event_set_network_timestamp(ev, network_ts_ns), "event_ts")
            for t in arg_texts:
                d = self.lib.data(t)
                self.lib.ok(L.brook_event_add_arg(ev, d), "event_add_arg")
                L.brook_data_free(d)
            self.lib.ok(L.brook_endpoint_publish_event(self.ep, topic.encode(), ev), "publish_event")
        finally:
            L.brook_event_free(ev)

    def flush(self):
        self.lib.ok(self.lib.L.brook_endpoint_flush(self.ep), "flush")

    def subscribe(self, topic):
        sub = ctypes.c_void_p()
        arr = (ctypes.c_char_p * 1)(topic.encode())
        self.lib.ok(self.lib.L.brook_endpoint_subscribe(self.ep, arr, 1, ctypes.byref(sub)), "subscribe")
        return sub

    def next_rendered(self, sub, timeout_ms):
        """(brook's rendering, the payload bytes as Broker sent them) or (None, None)."""
        L = self.lib.L
        msg = ctypes.c_void_p()
        if L.brook_subscriber_next(sub, timeout_ms, ctypes.byref(msg)) != 0:
            return None, None
        d = ctypes.c_void_p()
        try:
            buf = ctypes.POINTER(ctypes.c_uint8)()
            n = ctypes.c_size_t()
            self.lib.ok(L.brook_message_payload(msg, ctypes.byref(buf), ctypes.byref(n)), "payload")
            payload = ctypes.string_at(buf, n.value)
            self.lib.ok(L.brook_message_data(msg, ctypes.byref(d)), "message_data")
            text = self.lib.render(d)
            L.brook_data_free(d)
            return text, payload
        finally:
            L.brook_message_free(msg)

    def next_event(self, sub, timeout_ms):
        """(name, network timestamp in ns or None) of the next message read as a Zeek event."""
        L = self.lib.L
        msg = ctypes.c_void_p()
        if L.brook_subscriber_next(sub, timeout_ms, ctypes.byref(msg)) != 0:
            return None
        ev = ctypes.c_void_p()
        try:
            self.lib.ok(L.brook_message_event(msg, ctypes.byref(ev)), "message_event")
            name = ctypes.c_char_p()
            L.brook_event_name(ev, ctypes.byref(name))
            ns, present = ctypes.c_int64(), ctypes.c_bool()
            L.brook_event_network_timestamp(ev, ctypes.byref(ns), ctypes.byref(present))
            r = (name.value.decode(), ns.value if present.value else None)
            L.brook_event_free(ev)
            return r
        finally:
            L.brook_message_free(msg)

    def peer_subscriptions(self):
        L = self.lib.L
        lst = ctypes.c_void_p()
        if L.brook_endpoint_peer_subscriptions(self.ep, ctypes.byref(lst)) != 0:
            return []
        n = ctypes.c_size_t()
        L.brook_topic_list_len(lst, ctypes.byref(n))
        out = []
        for i in range(n.value):
            buf = ctypes.POINTER(ctypes.c_char)()
            ln = ctypes.c_size_t()
            L.brook_topic_list_get(lst, i, ctypes.byref(buf), ctypes.byref(ln))
            out.append(ctypes.string_at(buf, ln.value).decode())
        L.brook_topic_list_free(lst)
        return out

    def next_status(self, timeout_ms):
        """(name, message) of the next status or error event, or None. The address the
        event names, if any, is in self.addresses[(name, message)]."""
        L = self.lib.L
        ev = ctypes.c_void_p()
        if L.brook_status_subscriber_next(self.ssub, timeout_ms, ctypes.byref(ev)) != 0:
            return None
        name, msg = ctypes.c_char_p(), ctypes.c_char_p()
        L.brook_status_event_name(ev, ctypes.byref(name))
        L.brook_status_event_message(ev, ctypes.byref(msg))
        r = (name.value.decode(), (msg.value or b"").decode())
        ip, port = ctypes.c_char_p(), ctypes.c_uint16()
        L.brook_status_event_address(ev, ctypes.byref(ip), ctypes.byref(port))
        self.addresses[r] = f"{ip.value.decode()}:{port.value}" if ip.value else None
        L.brook_status_event_free(ev)
        return r

    def wait_status(self, name, timeout):
        end = time.monotonic() + timeout
        seen = []
        while time.monotonic() < end:
            s = self.next_status(100)
            if s is None:
                continue
            seen.append(s)
            if s[0] == name:
                return s, seen
        return None, seen

    def close(self):
        self.lib.L.brook_endpoint_shutdown(self.ep)
        self.lib.L.brook_status_subscriber_free(self.ssub)
        self.lib.L.brook_endpoint_free(self.ep)


# -- brook side: the CLI ---------------------------------------------------------------


class Proc:
    """A child process whose stdout and stderr are collected by threads."""

    def __init__(self, args, stdin_text=None, cwd=None, env=None):
        self.args = args
        self.p = subprocess.Popen(
            args,
            stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
        )
        self.out, self.err = [], []
        self.t1 = threading.Thread(target=self._read, args=(self.p.stdout, self.out), daemon=True)
        self.t2 = threading.Thread(target=self._read, args=(self.p.stderr, self.err), daemon=True)
        self.t1.start()
        self.t2.start()
        if stdin_text is not None:
            self.p.stdin.write(stdin_text.encode())
            self.p.stdin.close()

    @staticmethod
    def _read(f, sink):
        for line in iter(f.readline, b""):
            sink.append(line.decode("utf-8", "replace").rstrip("\n"))

    def listening_port(self, timeout=10):
        port = []

        def find():
            for l in self.err:
                m = re.search(r"listening on port (\d+)", l)
                if m:
                    port.append(int(m.group(1)))
                    return True
            return False

        wait_until(find, timeout)
        return port[0] if port else None

    def wait(self, timeout):
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = None
        self.t1.join(2)
        self.t2.join(2)
        return rc

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def brook_cli(*args, stdin_text=None):
    cmd, *rest = [str(a) for a in args]
    return Proc([BROOK_BIN, cmd, *PLAIN_FLAG, *rest], stdin_text=stdin_text)


# -- the checks ------------------------------------------------------------------------


def expected_line(topic, d):
    return f"data({topic}, {d})"


def check_broker_to_brook_pipe(role, bk, log, brook_args, topic):
    """Broker publishes every value and an event; brook pipe subscribe prints them."""
    values = [(n, mk()) for n, mk, _ in VALUES] + [("event", broker_event())]
    since = log.mark()
    pipe = brook_cli("pipe", "-m", "subscribe", "-t", topic, "-c", len(values), *brook_args)
    try:
        if "-l" in brook_args:
            port = pipe.listening_port()
            check(f"{role}: brook pipe reports its port", port is not None, "\n".join(pipe.err))
            if port is None:
                return
            check(f"{role}: Broker peers brook pipe", bk.peer(HOST, port, 0))
        added = log.wait("peer_added", 10, since)
        check(f"{role}: Broker status peer_added for brook pipe", added is not None,
              str(log.seen[since:]))
        time.sleep(0.5)  # brook subscribed before peering; this is slack for routing
        for _, d in values:
            bk.publish(topic, d)
        rc = pipe.wait(15)
        check(f"{role}: brook pipe subscribe exits 0 after -c {len(values)}", rc == 0,
              f"rc={rc} stderr={pipe.err}")
        for i, (name, d) in enumerate(values):
            want = expected_line(topic, str(d))
            got = pipe.out[i] if i < len(pipe.out) else None
            check(f"{role}: Broker -> brook pipe: {name}", got == want,
                  f"Broker renders {want!r}\n      brook prints  {got!r}")
        lost = log.wait("peer_lost", 5, since)
        check(f"{role}: Broker status peer_lost when brook pipe exits", lost is not None,
              str(log.seen[since:]))
    finally:
        pipe.kill()


def check_brook_to_broker(role, lib, bk, brook_publish, topic):
    """brook publishes every value (from its text form) and an event; Broker receives them."""
    sub = bk.make_subscriber(topic)
    brook_publish_ready = brook_publish["ready"]
    ok = wait_until(brook_publish_ready, 10)
    check(f"{role}: brook learns Broker's subscription", ok)
    for name, mk, text in VALUES:
        brook_publish["value"](topic, text)
    brook_publish["event"](topic, EVENT_NAME, ["7", '"txt"', "192.168.1.1", "443/tcp"])
    brook_publish["flush"]()
    for name, mk, text in VALUES:
        got = broker_get(sub, 5)
        want = mk()
        if got is None:
            check(f"{role}: brook -> Broker: {name}", False, "nothing arrived")
            continue
        d = lib.data(text)
        brook_text = lib.render(d)
        lib.L.brook_data_free(d)
        same = got[1] == want and got[1].get_type() == want.get_type()
        check(f"{role}: brook -> Broker: {name}",
              same and got[0] == topic,
              f"Broker got {str(got[1])!r} ({got[1].get_type()}), expected {str(want)!r} "
              f"({want.get_type()})")
        check(f"{role}: brook's text form = Broker's: {name}", brook_text == str(got[1]),
              f"brook renders {brook_text!r}, Broker {str(got[1])!r}")
    got = broker_get(sub, 5)
    if got is None:
        check(f"{role}: brook -> Broker: event", False, "nothing arrived")
    else:
        ev = broker.zeek.Event(got[1])
        want = broker_event()
        check(f"{role}: brook -> Broker: event",
              ev.valid() and ev.name() == EVENT_NAME and got[1] == want,
              f"got {str(got[1])!r} valid={ev.valid()}, Broker's own: {str(want)!r}")
    sub.reset()


def check_brook_pipe_publish(role, bk, log, brook_args, topic):
    lines = ["first line", "second, with (punctuation)", "", "42", "ünïcode"]
    sub = bk.make_subscriber(topic)
    since = log.mark()
    t0 = time.monotonic()
    pipe = brook_cli("pipe", "-m", "publish", "-t", topic, *brook_args,
                     stdin_text="\n".join(lines) + "\n")
    try:
        if "-l" in brook_args:
            port = pipe.listening_port()
            if port is None:
                check(f"{role}: brook pipe publish reports its port", False, str(pipe.err))
                return
            bk.peer(HOST, port, 0)
        got = []
        for _ in lines:
            m = broker_get(sub, 10)
            if m is None:
                break
            got.append(m)
        rc = pipe.wait(15)
        dt = time.monotonic() - t0
        check(f"{role}: brook pipe publish exits 0 ({dt:.2f}s)", rc == 0, f"rc={rc} stderr={pipe.err}")
        want = [(topic, broker.Data(l)) for l in lines]
        check(f"{role}: brook pipe publish -> Broker: {len(lines)} strings",
              [(t, d) for t, d in got] == want,
              f"got {[(t, str(d)) for t, d in got]}")
        if "-l" not in brook_args:
            lost = log.wait("peer_lost", 5, since)
            check(f"{role}: Broker status peer_lost when brook pipe publish exits",
                  lost is not None, str(log.seen[since:]))
    finally:
        pipe.kill()
        sub.reset()


def direction_broker_listens(lib):
    role = "Broker listens"
    bk = broker_endpoint()
    log = StatusLog(bk)
    port = bk.listen(HOST, 0)
    check(f"{role}: Broker listens", port > 0)
    try:
        check_broker_to_brook_pipe(role, bk, log, ["-p", f"{HOST}:{port}"], "/interop/a/b2k")
        check_brook_pipe_publish(role, bk, log, ["-p", f"{HOST}:{port}"], "/interop/a/pipe")

        # brook (library) connects, publishes every value, receives every value, unpeers.
        bep = BrookEndpoint(lib, unpeer_timeout_ms=10000)
        try:
            bsub = bep.subscribe("/interop/a/lib")  # before peering: in the handshake
            since = log.mark()
            bep.peer(port)
            st, _ = bep.wait_status("peer_added", 5)
            check(f"{role}: brook status peer_added", st is not None)
            check(f"{role}: Broker status peer_added for brook",
                  log.wait("peer_added", 5, since) is not None, str(log.seen[since:]))
            topic = "/interop/a/k2b"
            check_brook_to_broker(role, lib, bk, {
                "ready": lambda: topic in bep.peer_subscriptions(),
                "value": bep.publish_text,
                "event": bep.publish_event,
                "flush": bep.flush,
            }, topic)
            check_broker_to_brook_lib(role, bk, bep, bsub, "/interop/a/lib")
            since = log.mark()
            t0 = time.monotonic()
            bep.unpeer(port)
            st, bseen = bep.wait_status("peer_removed", 12)
            dt = time.monotonic() - t0
            check(f"{role}: brook unpeer: Broker answers brook's BYE (brook peer_removed in "
                  f"{dt:.2f}s, unpeer timeout 10s)", st is not None and dt < 5,
                  f"brook statuses: {bseen}")
            lost = log.wait("peer_lost", 5, since)
            check(f"{role}: Broker status peer_lost after brook's unpeer", lost is not None,
                  str(log.seen[since:]))
        finally:
            bep.close()
    finally:
        bk.shutdown()
    if VERBOSE:
        print("      Broker statuses:", *log.seen, sep="\n        ")


def check_broker_to_brook_lib(role, bk, bep, bsub, topic):
    for name, mk, _ in VALUES:
        bk.publish(topic, mk())
    bk.publish(topic, broker_event())
    for name, mk, text in VALUES + [("event", broker_event, EVENT_TEXT)]:
        got, payload = bep.next_rendered(bsub, 5000)
        want = str(mk())
        check(f"{role}: Broker -> brook library: {name}", got == want,
              f"Broker renders {want!r}, brook decoded and rendered {got!r}")
        mine = bep.lib.text_to_bytes(text)
        check(f"{role}: Broker's binary encoding = brook's: {name}", payload == mine,
              f"Broker sent {payload.hex() if payload else payload}, brook encodes {mine.hex()}")
    bep.lib.L.brook_subscriber_free(bsub)


def check_certificates(lib):
    """TLS with certificates from one CA on both sides, in both roles: every value Broker
    sends reaches brook's library as Broker encodes it; and a side without certificates is
    refused."""
    if PLAIN or shutil.which("openssl") is None:
        return
    tmp = tempfile.mkdtemp(prefix="interop-certs-")
    try:
        certs = make_certs(tmp)

        def broker_with_certs():
            opts = broker.BrokerOptions()
            opts.ignore_broker_conf = True
            cfg = broker.Configuration(opts)
            cfg.openssl_certificate = certs["certificate"]
            cfg.openssl_key = certs["key"]
            cfg.openssl_cafile = certs["cafile"]
            return broker.Endpoint(cfg)

        for broker_listens in (True, False):
            role = "certificates, " + ("Broker listens" if broker_listens else "brook listens")
            bk, bep = broker_with_certs(), BrookEndpoint(lib, certs=certs)
            try:
                log = StatusLog(bk)
                bsub = bep.subscribe("/interop/certs")
                if broker_listens:
                    port = bk.listen(HOST, 0)
                    bep.peer(port)
                else:
                    port = bep.listen()
                    check(f"{role}: Broker peers brook", bk.peer(HOST, port, 0))
                check(f"{role}: peered", log.wait("peer_added", 5) is not None,
                      str(log.seen))
                check_broker_to_brook_lib(role, bk, bep, bsub, "/interop/certs")
            finally:
                bep.close()
                bk.shutdown()
        # Broker with certificates, brook anonymous: refused.
        bk, bep = broker_with_certs(), BrookEndpoint(lib)
        try:
            port = bk.listen(HOST, 0)
            status = bep.lib.L.brook_endpoint_peer(bep.ep, HOST.encode(), port, 0, None)
            check("certificates: Broker refuses brook without one", status != 0,
                  f"brook_endpoint_peer returned {status}")
        finally:
            bep.close()
            bk.shutdown()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def direction_brook_listens(lib):
    role = "brook listens"
    bk = broker_endpoint()
    log = StatusLog(bk)
    try:
        check_broker_to_brook_pipe(role, bk, log, ["-l", "0"], "/interop/b/b2k")
        check_brook_pipe_publish(role, bk, log, ["-l", "0"], "/interop/b/pipe")
    finally:
        bk.shutdown()

    # brook (library) listens; Broker peers; values both ways; Broker unpeers.
    bk = broker_endpoint()
    log = StatusLog(bk)
    bep = BrookEndpoint(lib, unpeer_timeout_ms=10000)
    try:
        port = bep.listen()
        bsub = bep.subscribe("/interop/b/lib")
        since = log.mark()
        check(f"{role}: Broker peers brook", bk.peer(HOST, port, 0))
        check(f"{role}: Broker status peer_added for brook",
              log.wait("peer_added", 5, since) is not None, str(log.seen[since:]))
        st, seen0 = bep.wait_status("peer_added", 5)
        check(f"{role}: brook status peer_added", st is not None)
        # Broker: endpoint_discovered(<id>, "found a new peer in the network"), no address.
        disc = ("endpoint_discovered", "found a new peer in the network")
        check(f"{role}: brook's endpoint_discovered as Broker's, with no network address",
              disc in seen0 and bep.addresses.get(disc) is None,
              f"brook statuses {seen0}; endpoint_discovered carries {bep.addresses.get(disc)}")
        topic = "/interop/b/k2b"
        check_brook_to_broker(role, lib, bk, {
            "ready": lambda: topic in bep.peer_subscriptions(),
            "value": bep.publish_text,
            "event": bep.publish_event,
            "flush": bep.flush,
        }, topic)
        check_broker_to_brook_lib(role, bk, bep, bsub, "/interop/b/lib")
        # Broker unpeers: brook must answer Broker's BYE ping with its pong.
        since = log.mark()
        t0 = time.monotonic()
        bk.unpeer(HOST, port)
        st = log.wait("peer_removed", 6, since)
        dt = time.monotonic() - t0
        check(f"{role}: Broker unpeer: brook answers Broker's BYE (clean peer_removed in "
              f"{dt:.2f}s; Broker's BYE timeout is 3s)",
              st is not None and "timeout" not in st and dt < 2.5, f"Broker statuses: {log.seen[since:]}")
        bst, bseen = bep.wait_status("endpoint_unreachable", 5)
        # Broker, when its peer closes the connection after unpeering (see the
        # "Broker listens" part, where brook unpeers), reports:
        want = [("peer_lost", "lost connection to remote peer"),
                ("endpoint_unreachable", "lost the last path")]
        check(f"{role}: brook reports the end of the peering as Broker does {want}",
              bseen == want, f"brook statuses: {bseen}")
        addr = bep.addresses.get(bseen[-1]) if bseen else None
        check(f"{role}: brook's endpoint_unreachable names no network address, as Broker's",
              bseen and bseen[-1][0] == "endpoint_unreachable" and addr is None,
              f"brook's endpoint_unreachable carries {addr}; Broker's is "
              f"endpoint_unreachable(<id>, \"lost the last path\") without one")
        if VERBOSE:
            print(f"      brook statuses after Broker's unpeer: {bseen}")
    finally:
        bep.close()
        bk.shutdown()
    if VERBOSE:
        print("      Broker statuses:", *log.seen, sep="\n        ")


def check_event_metadata(lib):
    """Zeek events with a network timestamp (metadata entry 1), both ways."""
    role = "event metadata"
    ts_ns = 1700000000123456789
    bk = broker_endpoint()
    log = StatusLog(bk)
    bep = BrookEndpoint(lib)
    try:
        port = bep.listen()
        bsub = bep.subscribe("/interop/meta/b2k")
        ksub = bk.make_subscriber("/interop/meta/k2b")
        since = log.mark()
        bk.peer(HOST, port, 0)
        log.wait("peer_added", 5, since)
        wait_until(lambda: "/interop/meta/k2b" in bep.peer_subscriptions(), 10)
        ts = broker.Timestamp(broker.Timespan(ts_ns))
        want = broker.Data(broker.zeek.Event("meta_event", C(1), metadata={C(1): ts}))
        bep.publish_event("/interop/meta/k2b", "meta_event", ["1"], network_ts_ns=ts_ns)
        bep.flush()
        m = broker_get(ksub, 5)
        check(f"{role}: brook event with network timestamp -> Broker",
              m is not None and m[1] == want,
              f"got {None if m is None else str(m[1])!r}, Broker's own {str(want)!r}")
        bk.publish("/interop/meta/b2k", want)
        got = bep.next_event(bsub, 5000)
        check(f"{role}: Broker event with network timestamp -> brook", got == ("meta_event", ts_ns),
              f"brook read {got}")
        lib.L.brook_subscriber_free(bsub)
        ksub.reset()
    finally:
        bep.close()
        bk.shutdown()


def check_large_values(lib):
    """A 1 MiB string and a 20000-element vector, both ways."""
    role = "large values"
    big = "x" * (1 << 20)
    vec_n = 20000
    bk = broker_endpoint()
    log = StatusLog(bk)
    bep = BrookEndpoint(lib)
    try:
        port = bep.listen()
        bsub = bep.subscribe("/interop/big/b2k")
        ksub = bk.make_subscriber("/interop/big/k2b")
        since = log.mark()
        bk.peer(HOST, port, 0)
        log.wait("peer_added", 5, since)
        ok = wait_until(lambda: "/interop/big/k2b" in bep.peer_subscriptions(), 10)
        check(f"{role}: brook learns Broker's subscription", ok)
        bk.publish("/interop/big/b2k", big)
        bk.publish("/interop/big/b2k", broker.Vector([B(C(i)) for i in range(vec_n)]))
        got, payload = bep.next_rendered(bsub, 10000)
        check(f"{role}: Broker -> brook: 1 MiB string", got == big,
              f"got {None if got is None else len(got)} chars")
        got, payload = bep.next_rendered(bsub, 10000)
        want = "(" + ", ".join(str(i) for i in range(vec_n)) + ")"
        check(f"{role}: Broker -> brook: vector of {vec_n} counts", got == want,
              f"got {None if got is None else got[:80]}...")
        bep.publish_text("/interop/big/k2b", '"' + big + '"')
        bep.publish_text("/interop/big/k2b", want)
        bep.flush()
        m = broker_get(ksub, 10)
        check(f"{role}: brook -> Broker: 1 MiB string", m is not None and m[1] == B(big))
        m = broker_get(ksub, 10)
        check(f"{role}: brook -> Broker: vector of {vec_n} counts",
              m is not None and str(m[1]) == want)
        lib.L.brook_subscriber_free(bsub)
        ksub.reset()
    finally:
        bep.close()
        bk.shutdown()


def check_forwarding(lib):
    """A -> M -> B where M forwards the topic (Broker's `forward`; as in Broker, a node
    without a subscription or forward for a topic does not pull it from its peers)."""
    vals = [(n, mk, t) for n, mk, t in VALUES if n in ("count 42", "string", "nested", "set")]
    i = 0
    for ka in ("Broker", "brook"):
        for km in ("Broker", "brook"):
            for kb in ("Broker", "brook"):
                if ka == km == kb:
                    continue
                i += 1
                _forward_case(lib, ka, km, kb, f"/interop/fwd/{i}", vals)


def _forward_case(lib, ka, km, kb, topic, vals):
    role = f"forwarding {ka} -> {km} -> {kb}"

    def make(kind):
        return broker_endpoint() if kind == "Broker" else BrookEndpoint(lib)

    a, m, b = make(ka), make(km), make(kb)
    try:
        if km == "Broker":
            port = m.listen(HOST, 0)
            m.forward(topic)
        else:
            port = m.listen()
            lib.ok(lib.L.brook_endpoint_forward(m.ep, topic.encode()), "forward")
        sub = b.make_subscriber(topic) if kb == "Broker" else b.subscribe(topic)
        for e, k in ((a, ka), (b, kb)):
            if k == "Broker":
                check(f"{role}: Broker peers the middle", e.peer(HOST, port, 0))
            else:
                e.peer(port)
        if ka == "brook":
            ok = wait_until(lambda: topic in a.peer_subscriptions(), 10)
            check(f"{role}: brook learns the middle's forwarded topic", ok)
        else:
            time.sleep(1.0)
        for _, mk, text in vals:
            if ka == "Broker":
                a.publish(topic, mk())
            else:
                a.publish_text(topic, text)
        if ka == "brook":
            a.flush()
        for name, mk, _ in vals:
            if kb == "Broker":
                msg = broker_get(sub, 5)
                got = None if msg is None else str(msg[1])
            else:
                got, _ = b.next_rendered(sub, 5000)
            check(f"{role}: {name}", got == str(mk()), f"got {got!r}, want {str(mk())!r}")
        if kb == "Broker":
            sub.reset()
        else:
            lib.L.brook_subscriber_free(sub)
    finally:
        for e, k in ((a, ka), (m, km), (b, kb)):
            e.shutdown() if k == "Broker" else e.close()


def find_broker_tool(name):
    d = os.environ.get("BROKER_BIN_DIR")
    if d and os.path.exists(os.path.join(d, name)):
        return os.path.join(d, name)
    return shutil.which(name)


def broker_tool(path, *args, stdin_text=None, cwd=None):
    return Proc([path] + [str(a) for a in args], stdin_text=stdin_text, cwd=cwd)


def check_broker_tools(lib):
    bpipe = find_broker_tool("broker-pipe")
    bnode = find_broker_tool("broker-node")
    bthr = find_broker_tool("broker-throughput")
    if not (bpipe or bnode or bthr):
        print("note: broker-pipe, broker-node, broker-throughput not found (set BROKER_BIN_DIR); tool checks skipped")
        return
    tmp = tempfile.mkdtemp(prefix="brook-interop-")  # no broker.conf here
    try:
        if bpipe:
            _check_broker_pipe(bpipe, tmp)
            _check_broker_pipe_all_types(lib, bpipe, tmp)
        if bnode:
            _check_broker_node(bnode, tmp)
        if bthr:
            _check_broker_throughput(bthr, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _check_broker_pipe_all_types(lib, bpipe, tmp):
    """brook (library) publishes every value to broker-pipe, which prints Broker's text."""
    port = free_port()
    topic = "/interop/tools/types"
    n = len(VALUES)
    sub = broker_tool(bpipe, *PLAIN_FLAG, "-m", "subscribe", "-t", topic, "-l", port,
                      "-c", n, cwd=tmp)
    bep = BrookEndpoint(lib)
    try:
        if not wait_until(lambda: _try_peer(bep, port), 10):
            check("broker-pipe subscribe: brook peers it", False, str(sub.err))
            return
        ok = wait_until(lambda: topic in bep.peer_subscriptions(), 10)
        check("broker-pipe subscribe: brook learns its subscription", ok)
        want = []
        for name, _, text in VALUES:
            bep.publish_text(topic, text)
            d = lib.data(text)
            want.append((name, expected_line(topic, lib.render(d))))
            lib.L.brook_data_free(d)
        bep.flush()
        rc = sub.wait(15)
        for i, (name, line) in enumerate(want):
            got = sub.out[i] if i < len(sub.out) else None
            check(f"brook library -> broker-pipe subscribe: {name}", got == line,
                  f"broker-pipe prints {got!r}, brook renders {line!r} (rc={rc}, err={sub.err[-3:]})")
    finally:
        sub.kill()
        bep.close()


def _try_peer(bep, port):
    try:
        bep.peer(port)
        return True
    except RuntimeError:
        return False


def _check_broker_pipe(bpipe, tmp):
    lines = ["hello", "a, (b)", "3"]
    # broker-pipe subscribe listens; brook pipe publish peers.
    port = free_port()
    topic = "/interop/tools/k2b"
    sub = broker_tool(bpipe, *PLAIN_FLAG, "-m", "subscribe", "-t", topic, "-l", port,
                      "-c", len(lines), cwd=tmp)
    time.sleep(0.5)
    pub = brook_cli("pipe", "-m", "publish", "-t", topic, "-p", f"{HOST}:{port}",
                    stdin_text="\n".join(lines) + "\n")
    rc_pub = pub.wait(20)
    rc_sub = sub.wait(10)
    sub.kill()
    want = [expected_line(topic, l) for l in lines]
    check("broker-pipe subscribe <- brook pipe publish", rc_pub == 0 and sub.out[: len(lines)] == want,
          f"brook rc={rc_pub} stderr={pub.err}; broker-pipe rc={rc_sub} out={sub.out} err={sub.err}")
    # brook pipe subscribe listens; broker-pipe publish peers.
    topic = "/interop/tools/b2k"
    bsub = brook_cli("pipe", "-m", "subscribe", "-t", topic, "-l", "0", "-c", len(lines))
    port = bsub.listening_port()
    pub = broker_tool(bpipe, *PLAIN_FLAG, "-m", "publish", "-t", topic,
                      f'--peers=["{HOST}:{port}"]', stdin_text="\n".join(lines) + "\n", cwd=tmp)
    rc_pub = pub.wait(20)
    rc_sub = bsub.wait(10)
    bsub.kill()
    want = [expected_line(topic, l) for l in lines]
    check("brook pipe subscribe <- broker-pipe publish", rc_sub == 0 and bsub.out == want,
          f"broker-pipe rc={rc_pub} out={pub.out} err={pub.err}; brook rc={rc_sub} out={bsub.out} "
          f"err={bsub.err}")


def _rates(lines):
    return [int(m.group(1)) for l in lines for m in [re.match(r"rate: (\d+) events/s", l)] if m]


def _check_broker_throughput(bthr, tmp):
    # brook throughput client -> broker-throughput server (Broker counts messages).
    port = free_port()
    srv = broker_tool(bthr, *PLAIN_FLAG, "--verbose", "--server", f"{HOST}:{port}", cwd=tmp)
    time.sleep(0.7)
    cli = brook_cli("throughput", "-t", 2, "-r", 0, "--duration", 3, f"{HOST}:{port}")
    rc = cli.wait(15)
    time.sleep(1.2)
    srv.kill()
    srv.wait(2)
    sent = [l for l in cli.out + cli.err if l.startswith("sent:")]
    m = re.match(r"sent: (\d+) events", sent[0]) if sent else None
    total = sum(_rates(srv.out))
    check("brook throughput client -> broker-throughput server: every event counted",
          rc == 0 and m is not None and int(m.group(1)) == total and total > 0,
          f"brook: rc={rc} {sent}; Broker counted {total}: {srv.out[-6:]}")
    # broker-throughput client (batches of 10 events at 50/s: 50 messages/s) -> brook server.
    port = free_port()
    srv = brook_cli("throughput", "--server", f"{HOST}:{port}")
    time.sleep(0.7)
    cli = broker_tool(bthr, *PLAIN_FLAG, "-t", 3, "-r", 50, "-s", 10, f"{HOST}:{port}", cwd=tmp)
    time.sleep(3.5)
    cli.kill()
    time.sleep(1.2)
    srv.kill()
    srv.wait(2)
    rates = _rates(srv.out)
    check("broker-throughput client -> brook throughput server: about 50 messages/s",
          any(40 <= r <= 60 for r in rates), f"brook rates: {rates}; err={srv.err[-3:]}")


def _check_broker_node(bnode, tmp):
    n = 20
    for pinger, ponger in (("brook", "broker-node"), ("broker-node", "brook")):
        port = free_port()
        topic = "/interop/tools/ping"
        if ponger == "brook":
            pong = brook_cli("node", "-m", "pong", "-t", topic, "-p", port)
        else:
            pong = broker_tool(bnode, *PLAIN_FLAG, "-m", "pong", f'--topics=["{topic}"]', "-p", f"{port}/tcp",
                               cwd=tmp)
        time.sleep(0.7)
        if pinger == "brook":
            ping = brook_cli("node", "-m", "ping", "-t", topic, "--peers", f"{HOST}:{port}",
                             "-n", n, "-s", 100)
        else:
            ping = broker_tool(bnode, *PLAIN_FLAG, "-m", "ping", f'--topics=["{topic}"]',
                               f"--peers=[<tcp://{HOST}:{port}>]", "-n", n, "-s", 100, cwd=tmp)
        rc = ping.wait(30)
        pong.kill()
        nums = [l for l in ping.out if re.fullmatch(r"\d+", l.strip())]
        check(f"{pinger} node ping -> {ponger} pong: {n} round trips", rc == 0 and len(nums) == n,
              f"rc={rc} out={ping.out[:5]}... ({len(ping.out)} lines) err={ping.err[-5:]} "
              f"pong err={pong.err[-5:]}")


# -- data stores -------------------------------------------------------------------------
#
# brook's side is examples/store_node.rs, driven through stdin/stdout; Broker's side is the
# bindings' raw store handle (`broker.Store._store`), which takes and returns broker.Data,
# so that values keep their Broker type and rendering (the `broker.Store` wrapper converts
# to Python values). A separate Broker endpoint holds a "reference" master that is given
# the same operations: Broker's own semantics are the expected result.

STORE_NODE = os.environ.get(
    "BROOK_STORE_NODE", os.path.join(REPO, "target", "release", "examples", "store_node")
)

# Broker's type names (broker.Data.Type) as brook names them.
BROKER_TYPE_NAMES = {
    "Nil": "none", "None": "none", "Boolean": "boolean", "Count": "count",
    "Integer": "integer", "Real": "real", "String": "string", "Address": "address",
    "Subnet": "subnet", "Port": "port", "Timestamp": "timestamp", "Timespan": "timespan",
    "EnumValue": "enum-value", "Set": "set", "Table": "table", "Vector": "vector",
}


def build_store_node():
    """Builds examples/store_node.rs unless BROOK_STORE_NODE names a binary; the path, or
    None (with the reason printed) if there is none."""
    if "BROOK_STORE_NODE" not in os.environ:
        try:
            r = subprocess.run(["cargo", "build", "--release", "--example", "store_node"],
                               cwd=REPO, capture_output=True, text=True, timeout=1200)
        except (OSError, subprocess.TimeoutExpired) as exc:
            print(f"note: cannot build examples/store_node ({exc}); store checks skipped")
            return None
        if r.returncode != 0:
            print("note: `cargo build --release --example store_node` failed; store checks "
                  "skipped\n" + "\n".join(r.stderr.splitlines()[-8:]))
            return None
    if not os.access(STORE_NODE, os.X_OK):
        print(f"note: {STORE_NODE} missing; store checks skipped")
        return None
    return STORE_NODE


class StoreNode:
    """A running examples/store_node: one brook endpoint with a master or clone."""

    def __init__(self, role, name, listen=False, peers=(), sqlite=None, allow_error=False,
                 plain=False):
        args = [STORE_NODE, role, name, "--disable-ssl", "true" if PLAIN or plain else "false"]
        if sqlite:
            args += ["--sqlite", sqlite]
        if listen:
            args += ["--listen", "0"]
        for port in peers:
            args += ["--peer", f"{HOST}:{port}"]
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, bufsize=1)
        self.lines = queue.Queue()
        self.err = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=Proc._read, args=(self.p.stderr.buffer, self.err),
                         daemon=True).start()
        self.port = self.error = None
        while True:
            line = self._next(15)
            if line is None or (line.startswith("error ") and not allow_error):
                self.kill()
                raise RuntimeError(f"store_node {role} {name} did not start: {line} "
                                   f"{self.err[-5:]}")
            if line.startswith("listening "):
                self.port = int(line.split()[1])
            if line.startswith("error "):
                self.error = line
                break
            if line == "ready":
                break

    def _read(self):
        for line in iter(self.p.stdout.readline, ""):
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def _next(self, timeout):
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            return None

    def cmd(self, line, timeout=20):
        """Sends one command and returns its answer line (None: no answer in time)."""
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        return self._next(timeout)

    def value(self, line):
        """The text after `value ` of the answer, or None if the answer is not a value."""
        a = self.cmd(line)
        return a[6:] if a is not None and a.startswith("value ") else None

    def close(self):
        if self.p.poll() is None:
            try:
                self.p.stdin.write("quit\n")
                self.p.stdin.flush()
                self.p.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def _expiry(ttl):
    if ttl is None:
        return broker._broker.OptionalTimespan()
    return broker._broker.OptionalTimespan(broker.Timespan(float(ttl)))


def bget(st, key):
    """Broker's rendering of st.get(key), or None if the get fails."""
    r = st.get(key)
    return str(r.get()) if r.is_valid() else None


def btype(st, key):
    r = st.get(key)
    return _tname(r.get()) if r.is_valid() else None


def _tname(d):
    return BROKER_TYPE_NAMES.get(d.get_type().name, d.get_type().name)


def bdump(st):
    """Every entry of a Broker store, rendered by Broker as store_node's `dump` renders
    them: a table `{key -> (key type, value type, value)}`; None if keys() fails."""
    ks = st.keys()
    if not ks.is_valid():
        return None
    t = broker.Table()
    for k in ks.get().as_set():
        v = st.get(k)
        if v.is_valid():
            v = v.get()
            t[k] = B(broker.Vector([B(_tname(k)), B(_tname(v)), v]))
    return str(broker.Data(t))


# Operation arguments: (a factory of the Broker value, the same value in brook's text form).
def cv(n):
    return (lambda: B(C(n)), str(n))


def iv(n):
    return (lambda: B(n), f"{n:+d}")


def sv(x):
    return (lambda: B(x), '"' + x + '"')


def rv(x):
    return (lambda: B(x), repr(x))


def tv(ns):
    return (lambda: B(broker.Timespan(ns)), f"{ns}ns")


def value_arg(name):
    for n, mk, text in VALUES:
        if n == name:
            return (mk, text)
    raise KeyError(name)


# Clone writes, in order; each is (operation, arguments, expiry in seconds or None).
# Failing ones (type clash, missing key) are included: Broker's master ignores them.
STORE_OPS = [
    ("put", [sv("w:put"), cv(1)], None),
    ("put", [sv("w:put"), sv("two")], None),
    ("put", [sv("w:ttl"), sv("x")], 60),
    ("erase", [sv("w:put")], None),
    ("erase", [sv("w:absent")], None),
    ("increment", [sv("w:cnt"), cv(5)], None),
    ("increment", [sv("w:cnt"), cv(2)], None),
    ("increment", [sv("w:int"), iv(-3)], None),
    ("increment", [sv("w:real"), rv(1.5)], None),
    ("increment", [sv("w:span"), tv(10)], None),
    ("increment", [sv("w:span"), tv(5)], None),
    ("put", [sv("w:when"), value_arg("timestamp")], None),
    ("increment", [sv("w:when"), tv(1000)], None),
    ("decrement", [sv("w:when"), tv(1)], None),
    ("increment", [sv("w:cnt"), iv(1)], None),
    ("decrement", [sv("w:cnt"), cv(3)], None),
    ("decrement", [sv("w:int"), iv(4)], None),
    ("decrement", [sv("w:missing"), cv(1)], None),
    ("append", [sv("w:str"), sv("ab")], None),
    ("append", [sv("w:str"), sv("cd")], None),
    ("append", [sv("w:cnt"), sv("x")], None),
    ("insert_into", [sv("w:set"), cv(1)], None),
    ("insert_into", [sv("w:set"), sv("a")], None),
    ("insert_into", [sv("w:tbl"), sv("a"), cv(1)], None),
    ("insert_into", [sv("w:tbl"), sv("b"), value_arg("vector")], None),
    ("insert_into", [sv("w:set"), sv("b"), cv(1)], None),
    ("remove_from", [sv("w:set"), cv(1)], None),
    ("remove_from", [sv("w:tbl"), sv("a")], None),
    ("remove_from", [sv("w:tbl"), sv("zz")], None),
    ("push", [sv("w:vec"), cv(1)], None),
    ("push", [sv("w:vec"), sv("x")], None),
    ("push", [sv("w:vec"), value_arg("nested")], None),
    ("pop", [sv("w:vec")], None),
    ("pop", [sv("w:vec")], None),
    ("pop", [sv("w:vec")], None),
    ("pop", [sv("w:vec")], None),
    ("pop", [sv("w:cnt")], None),
    ("put_unique", [sv("w:u"), cv(1)], None),
    ("put_unique", [sv("w:u"), cv(2)], None),
    ("put_unique", [value_arg("subnet v6"), value_arg("table")], None),
    ("increment", [sv("w:cnt"), cv(1)], 60),
    ("put", [sv("w:put"), value_arg("set mixed")], None),
    # add and subtract on containers and strings, through increment and decrement
    ("increment", [sv("w:new"), sv("s")], None),
    ("increment", [sv("w:tbl"), (lambda: B(bvec("c", C(3))), '("c", 3)')], None),
    ("increment", [sv("w:tbl"), (lambda: B(bvec("d")), '("d")')], None),
    ("increment", [sv("w:set"), cv(5)], None),
    ("decrement", [sv("w:set"), sv("a")], None),
    ("increment", [sv("w:str"), sv("ef")], None),
    ("append", [sv("w:vec"), sv("y")], None),
    ("insert_into", [sv("w:vec"), cv(7)], None),
    ("remove_from", [sv("w:vec"), sv("ignored")], None),
    ("decrement", [sv("w:str"), sv("ef")], None),
    ("push", [sv("w:set"), cv(9)], None),
    ("pop", [sv("w:set")], None),
    ("increment", [sv("w:real"), cv(1)], None),
    ("increment", [sv("w:when"), value_arg("timestamp")], None),
    ("put", [sv("w:b"), value_arg("bool T")], None),
    ("increment", [sv("w:b"), value_arg("bool T")], None),
    # wrap-around at the limits of count and integer
    ("put", [sv("w:max"), value_arg("count max")], None),
    ("increment", [sv("w:max"), cv(1)], None),
    ("decrement", [sv("w:max"), cv(1)], None),
    ("put", [sv("w:imax"), value_arg("int max")], None),
    ("increment", [sv("w:imax"), iv(1)], None),
    ("decrement", [sv("w:imax"), iv(1)], None),
]


def op_text(op, args, ttl):
    return " ".join([op] + [t for _, t in args] + ([f"ttl={ttl}s"] if ttl else []))


def bop(st, op, args, ttl=None):
    """Runs one operation on a Broker store handle; "ok", or for put_unique its answer as
    store_node prints it ("value T" / "value F")."""
    d = [mk() for mk, _ in args]
    e = _expiry(ttl)
    if op == "put":
        st.put(d[0], d[1], e)
    elif op == "put_unique":
        r = st.put_unique(d[0], d[1], e)
        return f"value {r.get()}" if r.is_valid() else "error"
    elif op == "erase":
        st.erase(d[0])
    elif op == "clear":
        st.clear()
    elif op in ("increment", "decrement", "append", "push", "remove_from"):
        getattr(st, op)(d[0], d[1], e)
    elif op == "insert_into":
        st.insert_into(*d, e)
    elif op == "pop":
        st.pop(d[0], e)
    else:
        raise ValueError(op)
    return "ok"


class RefStore:
    """A Broker master on an endpoint of its own: Broker's semantics for the same
    operations."""

    def __init__(self):
        self.ep = broker_endpoint()
        self.store = self.ep.attach_master("interop/ref", broker.Backend.Memory)
        self.st = self.store._store

    def run(self, op, args, ttl=None):
        r = bop(self.st, op, args, ttl)
        self.st.await_idle()
        return r

    def dump(self):
        return bdump(self.st)

    def close(self):
        self.store._parent = None
        self.st.reset()
        self.ep.shutdown()


def broker_master(name, plain=False):
    bk = broker_endpoint(plain)
    store = bk.attach_master(name, broker.Backend.Memory)
    return bk, store


def broker_clone(name, port, plain=False):
    bk = broker_endpoint(plain)
    log = StatusLog(bk)
    bk.peer(HOST, port, 0)
    log.wait("peer_added", 5)
    store = bk.attach_clone(name)
    return bk, store


def close_broker(bk, store):
    if store is not None:
        store._parent = None
        store._store.reset()
    bk.shutdown()


def _value_puts():
    """Every value as a key (value "k:<name>") and as a value (key "v:<name>")."""
    for name, mk, text in VALUES:
        yield name, "key", (mk, text), sv("k:" + name)
        yield name, "value", sv("v:" + name), (mk, text)


def check_reads(role, reader, get, typ):
    """The reader sees every value as a key and as a value, with its Broker type."""
    for name, what, (kmk, ktext), (vmk, vtext) in _value_puts():
        want = str(vmk())
        got = get(kmk, ktext)
        detail = f"got {got!r}, want {want!r}"
        check(f"{role}: {reader} reads {what} {name}", got == want, detail)
        if what == "value":
            bt = _tname(vmk())
            got_t = typ(kmk, ktext)
            check(f"{role}: {reader} reads {what} {name} as a {bt}", got_t == bt,
                  f"got {got_t}")


def run_clone_writes(role, write, master_dump, clone_dump, ref):
    """Runs STORE_OPS through `write` (a clone) and after each compares the master's state
    with the reference master's and the clone's with the master's; the answers of
    put_unique are compared with Broker's."""
    for i, (op, args, ttl) in enumerate(STORE_OPS):
        text = op_text(op, args, ttl)
        want_answer = ref.run(op, args, ttl)
        answer = write(op, args, ttl)
        want = ref.dump()
        ok = wait_until(lambda: master_dump() == want, 5)
        check(f"{role}: clone write #{i} `{text}` reaches the master as Broker applies it",
              ok, f"master: {master_dump()}\n      Broker's: {want}")
        if op == "put_unique":
            check(f"{role}: clone `{text}` answers {want_answer}", answer == want_answer,
                  f"got {answer!r}")
        ok = wait_until(lambda: clone_dump() == want, 5)
        check(f"{role}: clone write #{i} `{text}`: the clone sees the master's result", ok,
              f"clone: {clone_dump()}\n      Broker's: {want}")


def check_store_broker_master(lib):
    """(a) A Broker master and a brook clone."""
    role = "store Broker master, brook clone"
    name = "interop/store/a"
    bk, store = broker_master(name)
    st = store._store
    ref = RefStore()
    node = None
    try:
        port = bk.listen(HOST, 0)
        node = StoreNode("clone", name, peers=[port])
        st.put(B("ready"), B(C(1)), _expiry(None))
        ok = wait_until(lambda: node.value("get ready") == "1", 10)
        check(f"{role}: the brook clone attaches", ok, f"stderr: {node.err[-5:]}")
        for _, _, (kmk, _), (vmk, _) in _value_puts():
            st.put(kmk(), vmk(), _expiry(None))
        st.await_idle()
        want = bdump(st)
        ok = wait_until(lambda: want is not None and node.value("dump") == want, 10)
        check(f"{role}: the brook clone replicates every put", ok,
              f"brook: {node.value('dump')}\n      Broker: {want}")
        check_reads(role, "brook clone", lambda mk, t: node.value(f"get {t}"),
                    lambda mk, t: (node.cmd(f"type {t}") or "")[5:] or None)
        got = node.value("keys")
        check(f"{role}: brook clone keys() as Broker's", got == str(st.keys().get()),
              f"brook {got}, Broker {st.keys().get()}")
        a = node.cmd("get missing")
        check(f"{role}: brook clone get of a missing key fails with no_such_key",
              a is not None and a.startswith("error no_such_key"), f"got {a!r}")
        # Start from an empty store, as the reference does.
        st.clear()
        st.await_idle()
        ok = wait_until(lambda: node.value("dump") == "{}", 5)
        check(f"{role}: Broker master's clear reaches the brook clone", ok,
              f"brook: {node.value('dump')}")
        answers = {}

        def write(op, args, ttl):
            a = node.cmd(op_text(op, args, ttl))
            answers.setdefault(op, set()).add(a)
            node.cmd("await_idle")
            return a

        run_clone_writes(role, write, lambda: bdump(st), lambda: node.value("dump"), ref)
        if VERBOSE:
            print(f"      brook clone's answers to writes: {answers}")
        # Every type as key and value, written by the clone.
        for _, _, (kmk, ktext), (vmk, vtext) in _value_puts():
            node.cmd(f"put {ktext} {vtext}")
            ref.run("put", [(kmk, ktext), (vmk, vtext)])
        node.cmd("await_idle")
        want = ref.dump()
        ok = wait_until(lambda: want is not None and bdump(st) == want, 5)
        check(f"{role}: brook clone puts every type as key and value at Broker's master", ok,
              f"Broker master: {bdump(st)}\n      want: {want}")
        for name_, what, (kmk, ktext), (vmk, vtext) in _value_puts():
            got = bget(st, kmk())
            check(f"{role}: Broker master reads {what} {name_} put by the brook clone",
                  got == str(vmk()), f"got {got!r}")
        a = node.cmd("clear")
        node.cmd("await_idle")
        ref.run("clear", [])
        ok = wait_until(lambda: bdump(st) == "{}", 5)
        check(f"{role}: brook clone's clear empties Broker's master", ok and a == "ok",
              f"answer {a!r}; master {bdump(st)}")
        # Expiry: a put with an expiry at Broker's master, and one from the clone.
        st.put(B("exp:m"), B(C(1)), _expiry(0.5))
        node.cmd('put "exp:c" 2 ttl=0.5s')
        node.cmd("await_idle")
        ok = wait_until(lambda: node.value('get "exp:m"') == "1", 5)
        check(f"{role}: the master's put with expiry reaches the clone", ok)
        ok = wait_until(lambda: node.cmd('exists "exp:m"') == "value F", 5)
        check(f"{role}: expiry at Broker's master reaches the brook clone", ok,
              "clone still has it: " + str(node.cmd('get "exp:m"')))
        ok = wait_until(lambda: bget(st, B("exp:c")) is None, 5)
        check(f"{role}: the clone's put with expiry expires at Broker's master", ok)
        ok = wait_until(lambda: node.cmd('exists "exp:c"') == "value F", 5)
        check(f"{role}: ... and the expiry reaches the brook clone", ok)
        node.cmd('increment "exp:i" 1 ttl=0.5s')
        node.cmd("await_idle")
        ok = wait_until(lambda: bget(st, B("exp:i")) == "1", 5)
        ok2 = ok and wait_until(lambda: bget(st, B("exp:i")) is None, 5)
        check(f"{role}: the clone's increment with expiry expires at Broker's master", ok2,
              f"seen at the master: {ok}")
    finally:
        if node:
            node.close()
        ref.close()
        close_broker(bk, store)


def check_store_brook_master(lib):
    """(b) A brook master and a Broker clone."""
    role = "store brook master, Broker clone"
    name = "interop/store/b"
    node = StoreNode("master", name, listen=True)
    ref = RefStore()
    bk = store = None
    try:
        node.cmd("put ready 1")
        bk, store = broker_clone(name, node.port)
        st = store._store
        ok = wait_until(lambda: bget(st, B("ready")) == "1", 15)
        check(f"{role}: the Broker clone attaches and reads", ok)
        for _, _, (_, ktext), (_, vtext) in _value_puts():
            node.cmd(f"put {ktext} {vtext}")
        want = node.value("dump")
        ok = wait_until(lambda: want is not None and bdump(st) == want, 10)
        check(f"{role}: the Broker clone replicates every put", ok,
              f"Broker: {bdump(st)}\n      brook: {want}")
        check_reads(role, "Broker clone", lambda mk, t: bget(st, mk()),
                    lambda mk, t: btype(st, mk()))
        ks = st.keys()
        got = str(ks.get()) if ks.is_valid() else None
        check(f"{role}: Broker clone keys() as brook's", got == node.value("keys"),
              f"Broker {got}, brook {node.value('keys')}")
        got = st.get_index_from_value(B("v:table"), B(C(2)))
        check(f"{role}: Broker clone get_index_from_value", got.is_valid() and
              str(got.get()) == "b" == node.value('get_index "v:table" 2'))
        check(f"{role}: Broker clone get of a missing key fails",
              not st.get(B("missing")).is_valid())
        node.cmd("clear")
        ok = wait_until(lambda: bdump(st) == "{}", 5)
        check(f"{role}: brook master's clear reaches the Broker clone", ok,
              f"Broker: {bdump(st)}")

        def write(op, args, ttl):
            a = bop(st, op, args, ttl)
            st.await_idle()
            return a

        run_clone_writes(role, write, lambda: node.value("dump"), lambda: bdump(st), ref)
        for _, _, (kmk, ktext), (vmk, vtext) in _value_puts():
            st.put(kmk(), vmk(), _expiry(None))
            ref.run("put", [(kmk, ktext), (vmk, vtext)])
        st.await_idle()
        want = ref.dump()
        ok = wait_until(lambda: want is not None and node.value("dump") == want, 5)
        check(f"{role}: Broker clone puts every type as key and value at brook's master", ok,
              f"brook master: {node.value('dump')}\n      want: {want}")
        for name_, what, (kmk, ktext), (vmk, vtext) in _value_puts():
            got = node.value(f"get {ktext}")
            check(f"{role}: brook master reads {what} {name_} put by the Broker clone",
                  got == str(vmk()), f"got {got!r}")
        st.clear()
        st.await_idle()
        ok = wait_until(lambda: node.value("dump") == "{}", 5)
        check(f"{role}: Broker clone's clear empties brook's master", ok)
        node.cmd('put "exp:m" 1 ttl=0.5s')
        st.put(B("exp:c"), B(C(2)), _expiry(0.5))
        st.await_idle()
        ok = wait_until(lambda: bget(st, B("exp:m")) == "1", 5)
        check(f"{role}: the master's put with expiry reaches the clone", ok)
        ok = wait_until(lambda: bget(st, B("exp:m")) is None, 5)
        check(f"{role}: expiry at brook's master reaches the Broker clone", ok)
        ok = wait_until(lambda: node.cmd('exists "exp:c"') == "value F", 5)
        check(f"{role}: the Broker clone's put with expiry expires at brook's master", ok)
        ok = wait_until(lambda: bget(st, B("exp:c")) is None, 5)
        check(f"{role}: ... and the expiry reaches the Broker clone", ok)
    finally:
        if bk:
            close_broker(bk, store)
        ref.close()
        node.close()


def check_store_late_attach(lib):
    """(c) A clone attached after the master has data gets the snapshot, both ways."""
    role = "store late attach, Broker master"
    name = "interop/store/c1"
    bk, store = broker_master(name)
    st = store._store
    node = None
    try:
        port = bk.listen(HOST, 0)
        for _, _, (kmk, _), (vmk, _) in _value_puts():
            st.put(kmk(), vmk(), _expiry(None))
        st.increment(B("n"), B(C(3)), _expiry(None))
        st.await_idle()
        want = bdump(st)
        node = StoreNode("clone", name, peers=[port])
        got = node.value("dump")  # reads wait for the snapshot
        check(f"{role}: the brook clone's first read has Broker's snapshot",
              want is not None and got == want,
              f"brook: {got}\n      Broker: {want}")
        st.put(B("after"), B("snapshot"), _expiry(None))
        ok = wait_until(lambda: node.value('get "after"') == "snapshot", 5)
        check(f"{role}: the brook clone follows after the snapshot", ok)
    finally:
        if node:
            node.close()
        close_broker(bk, store)
    role = "store late attach, brook master"
    name = "interop/store/c2"
    node = StoreNode("master", name, listen=True)
    bk = store = None
    try:
        for _, _, (_, ktext), (_, vtext) in _value_puts():
            node.cmd(f"put {ktext} {vtext}")
        node.cmd("increment n 3")
        want = node.value("dump")
        bk, store = broker_clone(name, node.port)
        st = store._store
        got = bdump(st)  # Broker's clone reads wait for the snapshot (up to 5 s)
        check(f"{role}: the Broker clone's first read has brook's snapshot",
              want is not None and got == want,
              f"Broker: {got}\n      brook: {want}")
        node.cmd('put "after" "snapshot"')
        ok = wait_until(lambda: bget(st, B("after")) == "snapshot", 5)
        check(f"{role}: the Broker clone follows after the snapshot", ok)
    finally:
        if bk:
            close_broker(bk, store)
        node.close()


def check_store_concurrent(lib):
    """(d) A brook clone and a Broker clone of one master (brook's, then Broker's)
    increment concurrently, and race put_unique on the same keys."""
    for master_kind in ("brook", "Broker"):
        _store_concurrent(master_kind)


def _store_concurrent(master_kind):
    role = f"store concurrent writes, {master_kind} master"
    name = f"interop/store/d/{master_kind}"
    n = 200
    node = mstore = bclone = None
    bk = store = None
    if master_kind == "brook":
        node = StoreNode("master", name, listen=True)
        port = node.port
        mcmd = node.cmd
        mget = lambda t, mk: node.value(f"get {t}")
        mdump = lambda: node.value("dump")
    else:
        mbk, mstore = broker_master(name)
        mst = mstore._store
        port = mbk.listen(HOST, 0)

        def mcmd(line):
            op, k, v = line.split()
            return bop(mst, op, [(lambda: B(k.strip('"')), k), cv(int(v))])

        mget = lambda t, mk: bget(mst, mk())
        mdump = lambda: bdump(mst)
    try:
        mcmd('put "ready" 1')
        bclone = StoreNode("clone", name, peers=[port])
        bk, store = broker_clone(name, port)
        st = store._store
        ok = wait_until(lambda: bget(st, B("ready")) == "1", 15) and \
            bclone.value('get "ready"') == "1"
        check(f"{role}: both clones attached", ok)
        errs = []

        def broker_side():
            try:
                for i in range(n):
                    st.increment(B("c"), B(C(1)), _expiry(None))
                    st.increment(B(f"b{i % 4}"), B(C(1)), _expiry(None))
                st.await_idle()
            except Exception as exc:  # noqa: BLE001
                errs.append(exc)

        t = threading.Thread(target=broker_side)
        t.start()
        answers = []
        for i in range(n):
            answers.append(bclone.cmd('increment "c" 1'))
            answers.append(bclone.cmd(f'increment "k{i % 4}" 1'))
            if i % 10 == 0:
                mcmd('increment "c" 1')
        answers.append(bclone.cmd("await_idle"))
        t.join(60)
        check(f"{role}: the brook clone's increments all answered ok",
              set(answers) == {"ok"}, f"{sorted(set(map(str, answers)))}")
        check(f"{role}: the Broker clone's increments ran", not errs and not t.is_alive(),
              str(errs))
        total = 2 * n + n // 10
        ok = wait_until(lambda: mget('"c"', lambda: B("c")) == str(total), 10)
        check(f"{role}: the master counts every increment ({total})", ok,
              "got " + str(mget('"c"', lambda: B("c"))))
        want = mdump()
        ok1 = wait_until(lambda: want is not None and bclone.value("dump") == want, 10)
        ok2 = wait_until(lambda: want is not None and bdump(st) == want, 10)
        check(f"{role}: the brook clone ends with the master's state", ok1,
              f"brook clone {bclone.value('dump')}\n      master {want}")
        check(f"{role}: the Broker clone ends with the master's state", ok2,
              f"Broker clone {bdump(st)}\n      master {want}")
        # put_unique races: exactly one of the two clones inserts each key.
        bad = []
        for i in range(30):
            key = f"u{i}"
            res = {}
            th = threading.Thread(target=lambda: res.update(
                Broker=str(st.put_unique(B(key), B("Broker"), _expiry(None)).get())))
            th.start()
            res["brook"] = bclone.cmd(f'put_unique "{key}" "brook"')
            th.join(20)
            winners = [w for w, a in res.items() if a in ("T", "value T")]
            at_master = mget(f'"{key}"', lambda: B(key))
            if len(winners) != 1 or at_master != winners[0]:
                bad.append((key, res, at_master))
        check(f"{role}: put_unique races between the clones have one winner, whose value "
              f"the master keeps", not bad, str(bad[:3]))
    finally:
        if bk:
            close_broker(bk, store)
        if bclone:
            bclone.close()
        if node:
            node.close()
        if mstore is not None:
            close_broker(mbk, mstore)


def check_store_reads_more(lib):
    """exists and get_index_from_value on a clone of the other implementation's master,
    compared with the master's own answers."""
    cases = [("v:vector", "0"), ("v:vector", "3"), ("v:vector", "9"), ("v:table", "1"),
             ("v:table", "7"), ("v:set", "2"), ("v:set", "5"), ("v:string", "0"),
             ("v:vector", '"x"')]
    texts = {"0": cv(0), "3": cv(3), "9": cv(9), "1": cv(1), "7": cv(7), "2": cv(2),
             "5": cv(5), '"x"': sv("x")}
    vals = {n: (mk, t) for n, mk, t in VALUES}
    # Broker master, brook clone
    name = "interop/store/reads1"
    bk, store = broker_master(name)
    st = store._store
    node = None
    try:
        port = bk.listen(HOST, 0)
        for n in ("vector", "table", "set", "string"):
            st.put(B("v:" + n), vals[n][0](), _expiry(None))
        st.await_idle()
        node = StoreNode("clone", name, peers=[port])
        for key, idx in cases:
            r = st.get_index_from_value(B(key), texts[idx][0]())
            want = f"value {r.get()}" if r.is_valid() else "error"
            got = node.cmd(f'get_index "{key}" {idx}')
            got_kind = got if got is None or got.startswith("value") else "error"
            check(f"store reads: brook clone get_index_from_value({key}, {idx}) as Broker's "
                  f"master", got_kind == want, f"brook {got!r}, Broker {want!r}")
        for key in ("v:set", "nope"):
            want = "value " + str(st.exists(B(key)).get())
            got = node.cmd(f'exists "{key}"')
            check(f"store reads: brook clone exists({key}) as Broker's master", got == want,
                  f"brook {got!r}, Broker {want!r}")
    finally:
        if node:
            node.close()
        close_broker(bk, store)
    # brook master, Broker clone
    name = "interop/store/reads2"
    node = StoreNode("master", name, listen=True)
    bk = store = None
    try:
        for n in ("vector", "table", "set", "string"):
            node.cmd(f'put "v:{n}" {vals[n][1]}')
        bk, store = broker_clone(name, node.port)
        st = store._store
        wait_until(lambda: bget(st, B("v:set")) is not None, 10)
        for key, idx in cases:
            r = st.get_index_from_value(B(key), texts[idx][0]())
            got = f"value {r.get()}" if r.is_valid() else "error"
            want = node.cmd(f'get_index "{key}" {idx}')
            want_kind = want if want is None or want.startswith("value") else "error"
            check(f"store reads: Broker clone get_index_from_value({key}, {idx}) as brook's "
                  f"master", got == want_kind, f"Broker {got!r}, brook {want!r}")
        for key in ("v:set", "nope"):
            got = "value " + str(st.exists(B(key)).get())
            want = node.cmd(f'exists "{key}"')
            check(f"store reads: Broker clone exists({key}) as brook's master", got == want,
                  f"Broker {got!r}, brook {want!r}")
    finally:
        if bk:
            close_broker(bk, store)
        node.close()


def check_store_expiry_rules(lib):
    """A put without expiry, and an add or subtract without one, clear an earlier expiry
    (Broker's master); with brook's master behind a Broker clone and Broker's behind a
    brook clone."""
    for master_kind in ("brook", "Broker"):
        role = f"store expiry rules, {master_kind} master"
        name = f"interop/store/exp/{master_kind}"
        node = mstore = bk = store = None
        try:
            if master_kind == "brook":
                node = StoreNode("master", name, listen=True)
                bk, store = broker_clone(name, node.port)
                st = store._store
                wait_until(lambda: st.keys().is_valid(), 10)

                def cput(k, v, ttl=None):
                    st.put(B(k), B(C(v)), _expiry(ttl))

                def cinc(k, ttl=None):
                    st.increment(B(k), B(C(1)), _expiry(ttl))

                def cidle():
                    st.await_idle()

                mhas = lambda k: node.cmd(f'exists "{k}"') == "value T"
                chas = lambda k: bget(st, B(k)) is not None
            else:
                mbk, mstore = broker_master(name)
                mst = mstore._store
                node = StoreNode("clone", name, peers=[mbk.listen(HOST, 0)])

                def cput(k, v, ttl=None):
                    node.cmd(f'put "{k}" {v}' + (f" ttl={ttl}s" if ttl else ""))

                def cinc(k, ttl=None):
                    node.cmd(f'increment "{k}" 1' + (f" ttl={ttl}s" if ttl else ""))

                def cidle():
                    node.cmd("await_idle")

                mhas = lambda k: bget(mst, B(k)) is not None
                chas = lambda k: node.cmd(f'exists "{k}"') == "value T"
            cput("x1", 1, 0.6)
            cput("x1", 2)            # put without expiry: no expiry
            cput("x2", 1, 0.6)
            cinc("x2")               # add without expiry: no expiry
            cput("x3", 1)
            cinc("x3", 0.6)          # add with expiry: expires
            cput("x4", 1, 30)
            cput("x4", 1, 0.6)       # a put re-arms the timer
            cidle()
            time.sleep(2.0)
            for k, gone in (("x1", False), ("x2", False), ("x3", True), ("x4", True)):
                ok = wait_until(lambda: mhas(k) != gone and chas(k) != gone, 3)
                check(f"{role}: {k} {'expired' if gone else 'kept'} at master and clone", ok,
                      f"master has it: {mhas(k)}, clone has it: {chas(k)}")
        finally:
            if bk:
                close_broker(bk, store)
            if node:
                node.close()
            if mstore is not None:
                close_broker(mbk, mstore)


def check_store_connect_directions(lib):
    """The clone's side listens and the master's side peers, both ways."""
    role = "store brook clone listens, Broker master peers"
    name = "interop/store/dir1"
    node = StoreNode("clone", name, listen=True)
    bk, store = broker_master(name)
    st = store._store
    try:
        st.put(B("x"), B(C(1)), _expiry(None))
        st.await_idle()
        log = StatusLog(bk)
        bk.peer(HOST, node.port, 0)
        ok = wait_until(lambda: node.value('get "x"') == "1", 15)
        check(f"{role}: the brook clone gets the snapshot", ok)
        a = node.cmd('put "y" 2')
        node.cmd("await_idle")
        ok = wait_until(lambda: bget(st, B("y")) == "2", 5)
        check(f"{role}: the brook clone writes through", ok and a == "ok", f"answer {a!r}")
        # The master goes away and another, with other contents, comes: the brook clone
        # follows the new master (a Broker clone keeps its first master and stays stale).
        close_broker(bk, store)
        bk = store = None
        time.sleep(0.5)
        a = node.cmd('get "x"')
        check(f"{role}: the brook clone answers reads from its replica without a master",
              a == "value 1", f"got {a!r}")
        bk, store = broker_master(name)
        st = store._store
        st.put(B("z"), B(C(3)), _expiry(None))
        st.await_idle()
        log = StatusLog(bk)
        bk.peer(HOST, node.port, 0)
        want = bdump(st)
        ok = wait_until(lambda: want is not None and node.value("dump") == want, 15)
        check(f"{role}: the brook clone resyncs with a new Broker master", ok,
              f"brook {node.value('dump')}, Broker {want}")
    finally:
        node.close()
        if bk:
            close_broker(bk, store)
    role = "store Broker clone listens, brook master peers"
    name = "interop/store/dir2"
    bk = broker_endpoint()
    node = store = None
    try:
        port = bk.listen(HOST, 0)
        store = bk.attach_clone(name)
        st = store._store
        node = StoreNode("master", name, peers=[port])
        node.cmd('put "x" 1')
        ok = wait_until(lambda: bget(st, B("x")) == "1", 12)
        check(f"{role}: the Broker clone attaches and reads", ok)
        st.put(B("y"), B(C(2)), _expiry(None))
        st.await_idle()
        ok = wait_until(lambda: node.value('get "y"') == "2", 5)
        check(f"{role}: the Broker clone writes through", ok)
    finally:
        if node:
            node.close()
        close_broker(bk, store)


def check_store_big_snapshot(lib):
    """A snapshot of 20000 entries, both ways."""
    n = 20000
    name = "interop/store/big1"
    bk, store = broker_master(name)
    st = store._store
    node = None
    try:
        port = bk.listen(HOST, 0)
        for i in range(n):
            st.put(B(C(i)), B("v" * 40 + str(i)), _expiry(None))
        st.await_idle()
        node = StoreNode("clone", name, peers=[port])
        got, want = node.value("dump"), bdump(st)
        check(f"store snapshot of {n} entries: Broker master -> brook clone",
              want is not None and got == want,
              f"brook has {None if got is None else got.count('(')} entries")
    finally:
        if node:
            node.close()
        close_broker(bk, store)
    name = "interop/store/big2"
    node = StoreNode("master", name, listen=True)
    bk = store = None
    try:
        node.p.stdin.write("".join(f'put {i} "{"v" * 40}{i}"\n' for i in range(n)))
        node.p.stdin.flush()
        answers = [node._next(30) for _ in range(n)]
        bk, store = broker_clone(name, node.port)
        st = store._store
        got, want = bdump(st), node.value("dump")
        check(f"store snapshot of {n} entries: brook master -> Broker clone",
              set(answers) == {"ok"} and want is not None and got == want,
              f"Broker has {None if got is None else got.count('(')} entries")
    finally:
        if bk:
            close_broker(bk, store)
        node.close()


def check_store_sqlite_file(lib):
    """Broker's and brook's SQLite backends open each other's files."""
    role = "store SQLite file"
    name = "interop/store/sqlite"
    tmp = tempfile.mkdtemp(prefix="brook-interop-")
    path = os.path.join(tmp, "store.sqlite")
    node = None
    try:
        bk = broker_endpoint()
        store = bk.attach_master(name, broker.Backend.SQLite, {"path": path})
        check(f"{role}: Broker attaches an SQLite master", store is not None)
        st = store._store
        for _, _, (kmk, _), (vmk, _) in _value_puts():
            st.put(kmk(), vmk(), _expiry(None))
        st.put(B("exp"), B(C(1)), _expiry(1.5))
        st.await_idle()
        want = bdump(st)
        close_broker(bk, store)
        node = StoreNode("master", name, sqlite=path)
        got = node.value("dump")
        check(f"{role}: brook's master reads Broker's file", want is not None and got == want,
              f"brook {str(got)[:300]}\n      Broker {want[:300]}")
        ok = wait_until(lambda: node.cmd('exists "exp"') == "value F", 5)
        check(f"{role}: brook's master expires an entry with the expiry from Broker's file", ok)
        node.cmd('put "from-brook" (1, "x")')
        node.cmd('increment "n" 5')
        node.cmd('put "exp2" 1 ttl=1.5s')
        want = node.value("dump")
        node.close()
        node = None
        bk = broker_endpoint()
        store = bk.attach_master(name, broker.Backend.SQLite, {"path": path})
        st = store._store
        got = bdump(st)
        check(f"{role}: Broker's master reads brook's file", want is not None and got == want,
              f"Broker {str(got)[:300]}\n      brook {want[:300]}")
        ok = wait_until(lambda: bget(st, B("exp2")) is None, 5)
        check(f"{role}: Broker's master expires an entry with the expiry from brook's file",
              ok)
        close_broker(bk, store)
    finally:
        if node:
            node.close()
        shutil.rmtree(tmp, ignore_errors=True)


def check_store_lost_unique_result(lib):
    """Broker's master answers a brook clone's put_unique with put_unique_result, an event
    of its channel to the clones; when that event is lost, the clone recovers it by nack
    (as the lost put above) and must then answer as the master decided (inserted)."""
    role = "store loss of put_unique_result, Broker master -> brook clone"
    name = "interop/store/loss/unique"
    bk, store = broker_master(name, plain=True)
    st = store._store
    px = node = None
    try:
        px = DropProxy(bk.listen(HOST, 0), "s2c", "#2")
        node = StoreNode("clone", name, peers=[px.port], plain=True)
        st.put(B("ready"), B(C(1)), _expiry(None))
        wait_until(lambda: node.value('get "ready"') == "1", 15)
        a = node.cmd('put_unique "u" 1')
        check(f"{role}: the proxy drops the result", len(px.dropped()) == 1,
              str(px.proc.err))
        check(f"{role}: the brook clone answers value T, as Broker's master decided",
              a == "value T" and bget(st, B("u")) == "1",
              f"brook answers {a!r}; Broker's master has u = {bget(st, B('u'))}")
        a = node.cmd('put_unique "u" 2')
        check(f"{role}: a second put_unique answers value F", a == "value F", f"got {a!r}")
    finally:
        if node:
            node.close()
        if px:
            px.close()
        close_broker(bk, store)


def check_store_master_exists(lib):
    """Neither side attaches a master when a direct peer has one of that name."""
    name = "interop/store/twomasters"
    node = StoreNode("master", name, listen=True)
    bk = broker_endpoint()
    try:
        log = StatusLog(bk)
        bk.peer(HOST, node.port, 0)
        log.wait("peer_added", 5)
        store = bk.attach_master(name, broker.Backend.Memory)
        check("store master_exists: Broker refuses a master that its brook peer has",
              store is None)
        if store is not None:
            store._parent = None
            store._store.reset()
    finally:
        bk.shutdown()
        node.close()
    bk, store = broker_master(name)
    node = None
    try:
        port = bk.listen(HOST, 0)
        node = StoreNode("master", name, peers=[port], allow_error=True)
        check("store master_exists: brook refuses a master that its Broker peer has",
              node.error is not None and node.error.startswith("error master_exists"),
              f"store_node says {node.error or 'ready'}")
    finally:
        if node:
            node.close()
        close_broker(bk, store)


class DropProxy:
    """tests/interop/drop_proxy.py in a process of its own: forwards to `upstream` and
    drops the first store command matching `what` (a put's string key, or `#<index>`)
    going in `direction`."""

    def __init__(self, upstream, direction, what):
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "drop_proxy.py")
        self.proc = Proc([sys.executable, script, str(upstream), direction, what])
        ok = wait_until(lambda: bool(self.proc.out), 10)
        self.port = int(self.proc.out[0]) if ok else None

    def dropped(self):
        return [l for l in self.proc.err if l.startswith("dropped")]

    def close(self):
        self.proc.kill()


def check_store_loss(lib):
    """A store command lost on the way (dropped by a proxy between the peers) is recovered
    through the channel's nack and retransmission, in each of the four channels. The proxy
    reads frames: its peers speak plain TCP in every mode."""
    key = "drop-me"
    # (which side listens, the proxy's direction of the drop, what is dropped)
    for case in ("Broker master -> brook clone", "brook master -> Broker clone",
                 "brook clone -> Broker master", "Broker clone -> brook master"):
        role = f"store loss {case}"
        name = "interop/store/loss/" + case.split()[0] + case.split()[3]
        node = px = mstore = bk = store = None
        try:
            brook_master = case.startswith("brook master") or case.endswith("brook master")
            if brook_master:
                node = StoreNode("master", name, listen=True, plain=True)
                upstream = node.port
            else:
                mbk, mstore = broker_master(name, plain=True)
                mst = mstore._store
                upstream = mbk.listen(HOST, 0)
            # The clone connects through the proxy: c2s is clone -> master.
            direction = "s2c" if "master ->" in case else "c2s"
            px = DropProxy(upstream, direction, key)
            if px.port is None:
                check(f"{role}: the proxy starts", False, str(px.proc.err))
                continue
            if brook_master:
                bk, store = broker_clone(name, px.port, plain=True)
                st = store._store
                node.cmd('put "ready" 1')
                ok = wait_until(lambda: bget(st, B("ready")) == "1", 15)
                at_master = lambda k: node.value(f'get "{k}"')
                at_clone = lambda k: bget(st, B(k))
            else:
                node = StoreNode("clone", name, peers=[px.port], plain=True)
                st = None
                mst.put(B("ready"), B(C(1)), _expiry(None))
                ok = wait_until(lambda: node.value('get "ready"') == "1", 15)
                at_master = lambda k: bget(mst, B(k))
                at_clone = lambda k: node.value(f'get "{k}"')
            check(f"{role}: the clone attaches through the proxy", ok)
            writer = "clone ->" in case
            if writer:  # the clone writes; its writer channel loses the put
                if st is not None:
                    st.put(B(key), B(C(1)), _expiry(None))
                else:
                    node.cmd(f'put "{key}" 1')
            elif brook_master:
                node.cmd(f'put "{key}" 1')
            else:
                mst.put(B(key), B(C(1)), _expiry(None))
            ok = wait_until(lambda: len(px.dropped()) == 1, 5)
            check(f"{role}: the proxy drops the put", ok, str(px.proc.err))
            receiver = at_master if writer else at_clone
            # Broker's clone ignores the master's keepalives (spec 7.12): it notices a lost
            # event only when a later one arrives. brook's master and clone notice a lost
            # trailing event from the keepalives (or a Broker master's, see above).
            if case != "brook master -> Broker clone":
                ok = wait_until(lambda: receiver(key) == "1", 5)
                check(f"{role}: the lost put is retransmitted without a later write", ok,
                      f"dropped: {px.dropped()}")
            if writer:
                if st is not None:
                    st.put(B("after"), B(C(2)), _expiry(None))
                else:
                    node.cmd('put "after" 2')
            elif brook_master:
                node.cmd('put "after" 2')
            else:
                mst.put(B("after"), B(C(2)), _expiry(None))
            ok = wait_until(lambda: receiver(key) == "1" and receiver("after") == "2", 10)
            check(f"{role}: after a later write, both arrive", ok,
                  f"{key}: {receiver(key)}, after: {receiver('after')}")
            ok = wait_until(lambda: at_clone(key) == "1" and at_clone("after") == "2", 10)
            check(f"{role}: the clone ends with both", ok)
        finally:
            if bk:
                close_broker(bk, store)
            if node:
                node.close()
            if mstore is not None:
                close_broker(mbk, mstore)
            if px:
                px.close()


def check_stores(lib):
    if build_store_node() is None:
        return
    for name, fn in (("store (a)", check_store_broker_master),
                     ("store (b)", check_store_brook_master),
                     ("store (c)", check_store_late_attach),
                     ("store (d)", check_store_concurrent),
                     ("store reads", check_store_reads_more),
                     ("store expiry rules", check_store_expiry_rules),
                     ("store connect directions", check_store_connect_directions),
                     ("store big snapshot", check_store_big_snapshot),
                     ("store SQLite file", check_store_sqlite_file),
                     ("store loss", check_store_loss),
                     ("store lost put_unique_result", check_store_lost_unique_result),
                     ("store master_exists", check_store_master_exists)):
        if ONLY and ONLY not in name and ONLY not in "stores":
            continue
        try:
            fn(lib)
        except Exception as exc:  # a crash in one part must not hide the others
            import traceback

            traceback.print_exc()
            check(f"{name}: ran to the end", False, repr(exc))


def main():
    print(f"Broker {broker.Version.string()} (Python bindings: {broker.__file__})")
    if not os.access(BROOK_BIN, os.X_OK) or not os.path.exists(BROOK_LIB):
        print(f"error: {BROOK_BIN} or {BROOK_LIB} missing; run `cargo build --release` first")
        sys.exit(2)
    lib = Brook(BROOK_LIB)
    for name, fn in (("Broker listens", direction_broker_listens),
                     ("brook listens", direction_brook_listens),
                     ("event metadata", check_event_metadata),
                     ("large values", check_large_values),
                     ("forwarding", check_forwarding),
                     ("certificates", check_certificates),
                     ("Broker's tools", check_broker_tools),
                     ("stores", check_stores)):
        if ONLY and ONLY not in name and not (name == "stores" and ONLY.startswith("store")):
            continue
        try:
            fn(lib)
        except Exception as exc:  # a crash in one part must not hide the others
            import traceback

            traceback.print_exc()
            check(f"{name}: ran to the end", False, repr(exc))
    print(f"{PASSED} passed, {FAILED} failed")
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
