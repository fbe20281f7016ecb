#!/usr/bin/env python3
"""Python subscriber throughput with batched receive, against a C publisher (issue 5 §5).

The C program python/bench/publisher.c publishes N values on /bench as fast as brook takes
them; this process peers with it, subscribes, and receives with the subscriber's fd in
select() and poll() for batches, which convert every message to (topic, Python value).
Prints one line per run: messages per second from the first message to the last.

    bench_subscriber.py --publisher build/python/publisher [--count N] [--runs R]
"""

import argparse
import select
import statistics
import subprocess
import sys
import time

import brook


def run(publisher, count, kind, events):
    proc = subprocess.Popen([publisher, "--count", str(count), "--kind", kind],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline().split()[-1])
        with brook.Endpoint() as ep, ep.make_subscriber("/bench", qsize=None) as sub:
            if not ep.peer("127.0.0.1", port, 0):
                sys.exit("bench: cannot peer with the publisher")
            fd = sub.fd()
            received = 0
            first = None
            check = 0
            while received < count:
                select.select([fd], [], [], 10)
                if first is None:
                    first = time.perf_counter()
                batch = sub.poll()
                if events:
                    for _, value in batch:
                        check += brook.zeek.Event(value).args()[0].value
                received += len(batch)
            elapsed = time.perf_counter() - first
        proc.stdin.close()
        proc.wait(10)
        if events and check != count * (count - 1) // 2:
            sys.exit("bench: wrong values received")
        return count / elapsed
    finally:
        proc.kill()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--publisher", required=True)
    ap.add_argument("--count", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    print(f"Python subscriber, batched receive (select + poll), {args.count} messages a run, "
          f"best and median of {args.runs}:")
    for kind, events, label in (("event", False, "small Zeek events, as (topic, value)"),
                                ("event", True, "small Zeek events, read with zeek.Event"),
                                ("count", False, "counts, as (topic, Count)")):
        rates = [run(args.publisher, args.count, kind, events) for _ in range(args.runs)]
        print(f"  {label:42s} {max(rates) / 1e3:7.0f} k msgs/s "
              f"(median {statistics.median(rates) / 1e3:.0f} k)", flush=True)


if __name__ == "__main__":
    main()
