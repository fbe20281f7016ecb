#!/usr/bin/env python3
"""The answering half of a ping-pong over Broker's protocol, in Python: listens for peers,
subscribes to /brook/ping and answers each Zeek event ping(n) with pong(n) on /brook/pong.
Its partner is ping.py, c-examples/ping.c, or Zeek itself.

    pong.py [--address ADDR] [--port PORT] [--count N]

With PORT 0 the system picks a free port; either way the first line printed is
"listening on <port>". Stops after N pings (0: never) or on Ctrl-C.
"""

import argparse

import brook as broker


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--address", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9999)
    ap.add_argument("--count", type=int, default=0)
    args = ap.parse_args()

    answered = 0
    # Subscribe first: peers then learn the topic in the handshake.
    with broker.Endpoint() as ep, ep.make_subscriber("/brook/ping") as sub:
        port = ep.listen(args.address, args.port)
        print(f"listening on {port}", flush=True)
        try:
            while args.count == 0 or answered < args.count:
                topic, value = sub.get()  # Ctrl-C interrupts the wait
                ev = broker.zeek.Event(value)
                if not ev.valid() or ev.name() != "ping" or len(ev.args()) != 1:
                    print(f"ignoring {value!r}", flush=True)
                    continue
                (n,) = ev.args()
                ep.publish("/brook/pong", broker.zeek.Event("pong", n))
                answered += 1
                print(f"ping({n}) -> pong({n})", flush=True)
        except KeyboardInterrupt:
            pass
        print(f"answered {answered} pings", flush=True)


if __name__ == "__main__":
    main()
