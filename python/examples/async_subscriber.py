#!/usr/bin/env python3
"""Receiving under asyncio: `async for` over a subscriber, whose file descriptor the event
loop watches (loop.add_reader), while other tasks run. A second endpoint, peered with the
first over 127.0.0.1, publishes a few values from another task and then "done", which ends
the loop. (As in Broker, an endpoint's own publications do not reach its own
subscribers: messages come from peers.)

    async_subscriber.py [--count N]
"""

import argparse
import asyncio

import brook


async def publish(ep, count):
    for i in range(count):
        ep.publish("/demo/numbers", brook.Count(i))
        await asyncio.sleep(0.01)
    ep.publish("/demo/numbers", "done")


async def main(count):
    with brook.Endpoint() as ep, ep.make_subscriber("/demo") as sub, \
            brook.Endpoint() as publisher:
        port = ep.listen("127.0.0.1", 0)
        if not publisher.peer("127.0.0.1", port, 0):
            raise SystemExit(f"could not peer with 127.0.0.1:{port}")
        # Publish once the publisher knows the subscription (it drops what no peer wants).
        async def subscribed():
            while "/demo" not in publisher.peer_subscriptions():
                await asyncio.sleep(0.01)
        await asyncio.wait_for(subscribed(), 10)
        producer = asyncio.create_task(publish(publisher, count))
        received = 0
        async for topic, value in sub:  # the loop runs other tasks while this waits
            print(topic, value, flush=True)
            if value == "done":
                break
            received += 1
        await producer
        # One message at a time, with a timeout:
        print("then:", await sub.aget(timeout=0.1), flush=True)
        print(f"received {received} numbers", flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=5)
    asyncio.run(main(ap.parse_args().count))
