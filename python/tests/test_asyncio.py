"""Receiving under asyncio: the subscriber's fd in the event loop."""

import asyncio

import pytest

import brook
from conftest import publisher_for, wait_until


def test_aget_apoll_and_async_for():
    async def main():
        # A peer publishes: as in Broker, the endpoint's own publications do not reach its
        # own subscribers.
        with brook.Endpoint() as ep, ep.make_subscriber("/a") as sub, \
                publisher_for(ep, "/a") as peer, ep.make_status_subscriber(True) as status:
            assert await sub.aget(0.05) is None

            async def later():
                await asyncio.sleep(0.1)
                peer.publish("/a", 1)

            task = asyncio.create_task(later())
            assert await sub.aget(10) == ("/a", 1)
            await task
            for i in range(5):
                peer.publish("/a", i)
            got = []
            while len(got) < 5:
                got += await sub.apoll()
            assert [v for _, v in got] == list(range(5))
            # Two coroutines waiting on one subscriber both get served.
            waiters = [asyncio.create_task(sub.aget(10)) for _ in range(2)]
            await asyncio.sleep(0.05)
            peer.publish("/a", "x")
            peer.publish("/a", "y")
            assert sorted(v for _, v in await asyncio.gather(*waiters)) == ["x", "y"]
            # async for ends when the endpoint shuts down and the queue is drained.
            peer.publish("/a", "last")
            wait_until(lambda: sub.available() == 1)
            ep.shutdown()
            seen = [v async for _, v in sub]
            assert seen == ["last"]
            # The status subscriber reports losing the peer, then is closed too.
            codes = []
            with pytest.raises(brook.Closed):
                while True:
                    codes.append((await status.aget(5)).code())
            assert codes == [brook.SC.PeerRemoved, brook.SC.EndpointUnreachable]

    asyncio.run(main())


def test_the_loop_keeps_running_while_waiting():
    async def main():
        with brook.Endpoint() as ep, ep.make_subscriber("/a") as sub:
            ticks = 0

            async def ticker():
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0.01)

            t = asyncio.create_task(ticker())
            assert await sub.aget(0.3) is None
            t.cancel()
            assert ticks > 10

    asyncio.run(main())
