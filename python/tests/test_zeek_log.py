"""Zeek log records from Python (brook.zeek.LogStream): the messages a real Zeek sent
(tests/data/zeek_logs/all_types.bin) read as records with typed fields and Zeek's TSV
text, and log writes built from Python values, read back."""

import datetime
import ipaddress
import os
import struct

import pytest

import brook
from brook import _codec
from brook.zeek import Batch, LogCreate, LogStream, LogWrite, message

CAPTURE = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "data", "zeek_logs",
                       "all_types.bin")


def captured():
    data = open(CAPTURE, "rb").read()
    out, i = [], 0
    while i < len(data):
        (n,) = struct.unpack(">I", data[i:i + 4])
        out.append(message(_codec.decode(data[i + 4:i + 4 + n])))
        i += 4 + n
    return out


def creates(msgs):
    for m in msgs:
        if isinstance(m, LogCreate):
            yield m
        elif isinstance(m, Batch):
            yield from creates(m.messages())


def test_records_of_every_type():
    msgs = captured()
    streams = {s.stream_id: s for s in map(LogStream, creates(msgs))}
    test = streams["Test::LOG"]
    assert test.fields[:3] == ["b", "i", "c"]
    assert test.types["ss"] == "set[string]"
    recs = [r for m in msgs for r in test.records(m)]
    assert len(recs) == 6
    r = recs[0]
    assert r.path == "brook_test"
    assert r["b"] is True and r["i"] == -42 and r["c"] == brook.Count(2**64 - 1)
    assert r["a"] == ipaddress.ip_address("10.0.0.1")
    assert r["sn"] == ipaddress.ip_network("10.0.0.0/8")
    assert r["ss"] == {"a", "b,c"}
    assert isinstance(r["t"], datetime.datetime)
    assert r.text["d"] == b"3.0" and r.text["ss"] == b"b\\x2cc,a"
    assert recs[1]["opt"] is None and recs[1].text["opt"] == b"-"
    small = [r for m in msgs for r in streams["Test::LOG2"].records(m)]
    assert [r["msg"] for r in small] == ["line 0", "line 1", "line 2"]


def test_building_a_log_write():
    msgs = captured()
    stream = next(s for s in map(LogStream, creates(msgs)) if s.stream_id == "Test::LOG2")
    w = stream.write("brook_small", {"n": 5, "msg": "from python"})
    assert isinstance(w, LogWrite) and w.path() == "brook_small"
    (r,) = stream.records(w)
    assert r.fields == {"n": brook.Count(5), "msg": "from python"}
    assert stream.records(stream.write("brook_small", [6, "x"]))[0]["n"] == brook.Count(6)
    with pytest.raises(brook.BrookError, match="field n"):
        stream.write("p", ["not a count", "x"])
    bad = LogWrite("Test::LOG2", "Log::WRITER_ASCII", "p", b"\0\0\0\2")
    with pytest.raises(brook.BrookError, match="fields do not fit"):
        stream.records(bad)
    stream.close()
    with pytest.raises(ValueError):
        stream.write("p", [1, "x"])
