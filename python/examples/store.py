#!/usr/bin/env python3
"""A data store shared by two endpoints in one process: a master and a clone over
127.0.0.1. Both write, both read the same data, and the proxy asks without waiting.

    store.py [--sqlite PATH]

With --sqlite, the master keeps its data in an SQLite file with Broker's schema (Zeek
opens the same files), and a second run finds the counter where the first left it.
"""

import argparse

import brook as broker


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sqlite", metavar="PATH")
    args = ap.parse_args()
    backend, opts = broker.Backend.Memory, None
    if args.sqlite:
        backend, opts = broker.Backend.SQLite, {"path": args.sqlite}

    with broker.Endpoint() as ep0, broker.Endpoint() as ep1, \
            ep0.attach_master("demo", backend, opts) as master, \
            ep1.attach_clone("demo") as clone:
        port = ep0.listen("127.0.0.1", 0)
        ep1.peer("127.0.0.1", port)
        clone.await_idle()  # the clone has found its master

        master.put("greeting", "hello")
        clone.put("hosts", {"10.0.0.1", "10.0.0.2"}, expiry=60)  # seconds
        clone.increment("runs", broker.Count(1))
        master.insert_into("hosts", "10.0.0.3")
        clone.await_idle()

        print("keys:", sorted(clone.keys()))
        print("greeting at the clone:", clone.get("greeting"))
        print("hosts at the master:", sorted(master.get("hosts")))
        print("runs:", clone.get("runs"))
        print("missing:", master.get("nothing here"))

        try:
            master.increment("greeting", 1)
        except broker.TypeClash as e:
            print("increment a string:", e)

        # The asynchronous form: requests return ids, answers come later.
        with master.proxy() as proxy:
            ids = [proxy.get("greeting"), proxy.exists("hosts"), proxy.get("nothing")]
            answers = {}
            while len(answers) < len(ids):
                r = proxy.receive(10)
                answers[r.id] = r
            for i in ids:
                print("proxy answer:", answers[i])


if __name__ == "__main__":
    main()
