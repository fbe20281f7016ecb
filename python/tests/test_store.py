"""Data stores: a master and clones over 127.0.0.1, every operation, errors, the proxy."""

import asyncio
import os
import time

import pytest

import brook
from brook import _ffi

pytestmark = pytest.mark.skipif(not _ffi.has_stores, reason="libbrook without stores")


@pytest.fixture
def tri():
    """A master on ep0 and clones on ep1 and ep2, peered with ep0 and caught up."""
    with brook.Endpoint() as ep0, brook.Endpoint() as ep1, brook.Endpoint() as ep2, \
            ep0.attach_master("test", brook.Backend.Memory) as m, \
            ep1.attach_clone("test") as c1, ep2.attach_clone("test") as c2:
        port = ep0.listen("127.0.0.1", 0)
        assert ep1.peer("127.0.0.1", port) and ep2.peer("127.0.0.1", port)
        for a, b in ((ep0, ep1), (ep0, ep2), (ep1, ep0), (ep2, ep0)):
            assert a.await_peer(b.node_id(), 10)
        assert c1.await_idle() and c2.await_idle()
        yield m, c1, c2


def test_master_alone():
    with brook.Endpoint() as ep, ep.attach_master("test", brook.Backend.Memory) as m:
        m.put("key", "value")
        assert m.get("key") == "value"
        assert m.name() == "test"
        assert m.get("missing") is None
        assert m.exists("key") and not m.exists("missing")


def test_every_operation(tri):
    m, c1, c2 = tri
    v2, v3, v4 = {"A", "B", "C"}, {1: "A", 2: "B", 3: "C"}, ("A", "B", "C")
    m.put("a", "A")
    m.put("b", v2)
    m.put("c", v3)
    m.put("d", v4)
    assert c2.put_unique("e", "first") is True
    assert c2.put_unique("e", "second") is False
    for s in (c2, c1, m):
        assert s.await_idle()
    time.sleep(0.3)

    def check(x):
        assert x.get("a") == "A" and x.get("b") == v2 and x.get("c") == v3
        assert x.get("d") == v4 and x.get("e") == "first" and x.get("X") is None
        assert x.exists("d") and not x.exists("X")
        assert x.get_index_from_value("b", "A") is True
        assert x.get_index_from_value("b", "X") is False
        assert x.get_index_from_value("c", 1) == "A"
        assert x.get_index_from_value("c", 10) is None
        assert x.get_index_from_value("d", brook.Count(1)) == "B"
        assert x.get_index_from_value("d", brook.Count(10)) is None
        assert x.keys() == {"a", "b", "c", "d", "e"}

    for x in (m, c1, c2):
        check(x)

    m.put("e", 5)
    m.put("f", 5)
    m.put("g", 5, 0.1)
    m.put("h", 5, 20)
    m.put("str", "b")
    m.put("vec", (1, 2))
    m.put("set", {1, 2})
    m.put("table", {1: "A", "2": "C"})
    m.increment("e", 1)
    m.decrement("f", 1)
    m.append("str", "ar")
    m.insert_into("set", 3)
    m.remove_from("set", 1)
    m.insert_into("table", 3, "D")
    m.remove_from("table", 1)
    m.push("vec", 3)
    m.push("vec", 4)
    m.pop("vec")
    c1.increment("counter", brook.Count(2))
    with pytest.raises(brook.TypeClash):
        c1.increment("counter", 1)  # an integer to a count
    time.sleep(0.3)  # 'g' expires
    for s in (c2, c1, m):
        assert s.await_idle()

    def check_modified(x):
        assert x.get("e") == 6 and x.get("f") == 4
        assert x.get("g") is None and x.get("h") == 5
        assert x.get("str") == "bar" and x.get("set") == {2, 3}
        assert x.get("table") == {3: "D", "2": "C"} and x.get("vec") == (1, 2, 3)

    for x in (m, c1, c2):
        check_modified(x)

    m.erase("h")
    m.clear()
    for s in (c2, c1, m):
        assert s.await_idle()
    time.sleep(0.2)
    assert m.keys() == set() and c1.keys() == set() and c2.keys() == set()


def test_errors():
    with brook.Endpoint() as ep, ep.attach_master("s", brook.Backend.Memory) as m:
        m.put("n", 1)
        m.put("text", "x")
        with pytest.raises(brook.TypeClash) as e:
            m.increment("n", brook.Count(1))
        assert isinstance(e.value, TypeError) and isinstance(e.value, brook.StoreError)
        assert "integer" in e.value.message
        with pytest.raises(brook.TypeClash):
            m.append("n", "x")
        with pytest.raises(brook.NoSuchKey):
            m.decrement("missing", 1)
        with pytest.raises(brook.NoSuchKey):
            m.pop("missing")
        with pytest.raises(brook.MasterExists):
            ep.attach_master("s", brook.Backend.Memory)
        with pytest.raises(brook.MasterExists):
            ep.attach_clone("s")
        with pytest.raises(TypeError):
            m.put("k", object())
        with pytest.raises(brook.InvalidArgument):
            m.put("k", 1, -1)
        with pytest.raises(brook.InvalidArgument):
            ep.attach_master("t", brook.Backend.Memory, {"path": "x"})
        with pytest.raises(brook.InvalidArgument):
            ep.attach_master("t", brook.Backend.SQLite, {})
        with pytest.raises(brook.InvalidArgument):
            ep.attach_clone("t", no_such_option=1)
    with pytest.raises(brook.Closed):
        m.get("n")


def test_clone_without_master_is_stale_then_times_out():
    with brook.Endpoint() as ep:
        c = ep.attach_clone("nobody", max_get_delay=0.2, mutation_buffer_interval=0.2)
        with pytest.raises(brook.StaleData):
            c.get("k")
        with pytest.raises(brook.NoSuchMaster):
            c.put("k", 1)
        c.set_timeout(0.3)
        assert c.timeout == 0.3
        c.close()
        c.close()


def test_sqlite_master_keeps_its_data(tmp_path):
    path = str(tmp_path / "sub" / "store.sqlite")
    opts = {"path": path, "journal_mode": brook.SQLiteJournalMode.WAL,
            "synchronous": "Broker::SQLITE_SYNCHRONOUS_NORMAL"}
    with brook.Endpoint() as ep, ep.attach_master("s", brook.Backend.SQLite, opts) as m:
        m.put("k", {"nested": (1, 2.5)})
        assert m.await_idle()
    with brook.Endpoint() as ep, ep.attach_master("s", brook.Backend.SQLite, {"path": path}) as m:
        assert m.get("k") == {"nested": (1, 2.5)}
    with open(path, "wb") as f:
        f.write(b"not a database" * 100)
    with brook.Endpoint() as ep:
        with pytest.raises(brook.BackendFailure):
            ep.attach_master("s", brook.Backend.SQLite, {"path": path})
        with ep.attach_master("s", brook.Backend.SQLite,
                              {"path": path, "failure_mode": "delete"}) as m:
            assert m.keys() == set()
    assert os.path.exists(path)


def test_proxy_requests_and_answers():
    with brook.Endpoint() as ep, ep.attach_master("p", brook.Backend.Memory) as m, \
            m.proxy() as proxy:
        ids = [proxy.put("a", 1), proxy.put_unique("a", 2), proxy.get("a"),
               proxy.get("missing"), proxy.keys(), proxy.increment("a", 41),
               proxy.exists("a"), proxy.await_idle()]
        assert len(set(ids)) == len(ids)
        answers = {}
        while len(answers) < len(ids):
            r = proxy.receive(10)
            assert r is not None
            answers[r.id] = r
        assert answers[ids[0]].result() is None
        assert answers[ids[1]].result() is False
        assert answers[ids[2]].value == 1
        missing = answers[ids[3]]
        assert not missing.ok() and missing.status == brook.StatusCode.NO_SUCH_KEY
        with pytest.raises(brook.NoSuchKey):
            missing.result()
        assert answers[ids[4]].value == {"a"}
        assert answers[ids[6]].value is True
        assert proxy.receive(0.05) is None
        assert m.get("a") == 42
        proxy.get("a")
        import select
        assert select.select([proxy.fd()], [], [], 10)[0]
        assert [r.value for r in proxy.poll()] == [42]


def test_proxy_under_asyncio():
    async def main():
        with brook.Endpoint() as ep, ep.attach_master("p", brook.Backend.Memory) as m, \
                m.proxy() as proxy:
            put = proxy.put("k", "v")
            get = proxy.get("k")
            keys = proxy.keys()
            # Awaited in another order than sent.
            assert (await proxy.wait_for(keys, 10)).value == {"k"}
            assert (await proxy.wait_for(get, 10)).value == "v"
            assert (await proxy.wait_for(put, 10)).ok()
            proxy.exists("k")
            assert (await proxy.areceive(10)).value is True
            assert await proxy.areceive(0.05) is None

    asyncio.run(main())


def test_store_from_threads():
    import threading

    with brook.Endpoint() as ep, ep.attach_master("t", brook.Backend.Memory) as m:
        def work(i):
            for j in range(50):
                m.put((i, j), j)
                assert m.get((i, j)) == j

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(m.keys()) == 200
