"""The spool from Python: Configuration.spool_dir and friends, what is published while no
peer takes it delivered in order once one is there (also by a new endpoint on the same
directory), drop_oldest counted, bad settings refused, the counters."""

import pytest

import brook

N = 500


def _config(tmp_path, **spool):
    c = brook.Configuration(brook.BrokerOptions())
    c.options.disable_ssl = True
    c.spool_dir = str(tmp_path / "spool")
    for k, v in spool.items():
        setattr(c, "spool_" + k, v)
    return c


def _logger():
    c = brook.Configuration(brook.BrokerOptions())
    c.options.disable_ssl = True
    ep = brook.Endpoint(c)
    sub = ep.make_subscriber("/logs")
    port = ep.listen("127.0.0.1", 0)
    return ep, sub, port


def _take(sub, n):
    got = []
    while len(got) < n:
        msgs = sub.get(n - len(got), timeout=10.0)
        assert msgs, f"only {len(got)} of {n} arrived"
        got.extend(int(value) for _, value in msgs)
    return got


def test_what_nobody_took_waits_on_disk_and_arrives_in_order(tmp_path):
    with brook.Endpoint(_config(tmp_path)) as ep:
        for i in range(N):
            ep.publish("/logs/x", brook.Count(i))
        ep.flush()  # in the spool's file
        m = ep.metrics().endpoint
        assert m["spooled"] == N and m["spool_records"] == N and m["spool_bytes"] > 0
    # The process could have died here; a new endpoint finds the records.
    logger, sub, port = _logger()
    with logger, sub, brook.Endpoint(_config(tmp_path)) as ep:
        assert ep.metrics().endpoint["spool_records"] == N
        assert ep.peer("127.0.0.1", port, 0.1)
        assert _take(sub, N) == list(range(N))
        ep.publish("/logs/x", brook.Count(N))
        assert _take(sub, 1) == [N]
        m = ep.metrics()
        assert m.endpoint["replayed"] == N + 1
        assert "brook_spooled_messages_total 1" in m.text


def test_drop_oldest_keeps_the_newest_and_counts_the_rest(tmp_path):
    config = _config(tmp_path, max_size=64 * 1024, policy="drop_oldest", topics=["/logs/"])
    with brook.Endpoint(config) as ep:
        n = 10000
        for i in range(n):
            ep.publish("/logs/x", brook.Count(i))
        ep.publish("/other", brook.Count(0))  # not spooled: nobody takes it, it is gone
        ep.flush()
        m = ep.metrics().endpoint
        assert m["spool_dropped"] > 0
        assert m["spool_dropped"] + m["spool_records"] == n
        assert m["spooled"] == n
        logger, sub, port = _logger()
        with logger, sub:
            assert ep.peer("127.0.0.1", port, 0.1)
            kept = m["spool_records"]
            assert _take(sub, kept) == list(range(n - kept, n))


def test_bad_spool_settings_are_refused(tmp_path):
    with pytest.raises(brook.BrookError):
        brook.Endpoint(_config(tmp_path, max_size=1000))
    with pytest.raises(brook.BrookError):
        brook.Endpoint(_config(tmp_path, policy="drop_newest"))
    with pytest.raises(brook.BrookError):
        brook.Endpoint(_config(tmp_path, topics=[""]))
    with brook.Endpoint(_config(tmp_path)):
        # One endpoint at a time on a directory.
        with pytest.raises(brook.BrookError, match="in use"):
            brook.Endpoint(_config(tmp_path))
    assert brook.SpoolPolicy.DropOldest == 1
