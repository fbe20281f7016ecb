#!/usr/bin/env python3
"""The asking half of a ping-pong over Broker's protocol, in Python: peers with pong.py,
c-examples/pong.c (or a Zeek node that answers ping(n) with pong(n)), sends the Zeek events
ping(1) to ping(N) on /brook/ping, waits for each pong on /brook/pong and prints its
round-trip time.

    ping.py [--host HOST] [--port PORT] [--count N]

Exits with status 1 if a pong is missing or wrong.
"""

import argparse
import sys
import time

import brook as broker


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9999)
    ap.add_argument("--count", type=int, default=5)
    args = ap.parse_args()

    with broker.Endpoint() as ep, ep.make_subscriber("/brook/pong") as sub:
        if not ep.peer(args.host, args.port, retry=0):
            sys.exit(f"ping: cannot peer with {args.host}:{args.port}")
        # Wait until the peer has subscribed to the pings, or they would go nowhere.
        deadline = time.monotonic() + 10
        while "/brook/ping" not in ep.peer_subscriptions():
            if time.monotonic() > deadline:
                sys.exit("ping: the peer does not subscribe to /brook/ping")
            time.sleep(0.01)
        for n in range(1, args.count + 1):
            start = time.perf_counter()
            ep.publish("/brook/ping", broker.zeek.Event("ping", broker.Count(n)))
            msg = sub.get(10.0)
            if msg is None:
                sys.exit(f"ping: no pong({n}) within 10 s")
            ev = broker.zeek.Event(msg[1])
            if not ev.valid() or ev.name() != "pong" or ev.args() != [broker.Count(n)]:
                sys.exit(f"ping: expected pong({n}), got {msg[1]!r}")
            rtt = (time.perf_counter() - start) * 1e6
            print(f"ping({n}) -> pong({n}) in {rtt:.0f} us", flush=True)


if __name__ == "__main__":
    main()
