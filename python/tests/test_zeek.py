"""brook.zeek: every Zeek message type, against the golden vectors of a real Broker."""

import pytest

import brook
from brook import _codec
from brook.zeek import Batch, Event, IdentifierUpdate, LogCreate, LogWrite, Message, message
from test_data import golden_rows


def test_golden_zeek_messages_parse_validate_and_reencode_as_broker():
    rows = golden_rows("zeek-messages.tsv")
    assert {r["kind"] for r in rows} == {"Event", "LogCreate", "LogWrite",
                                         "IdentifierUpdate", "Batch"}
    for row in rows:
        raw = bytes.fromhex(row["bin_v1_hex"])
        m = message(_codec.decode(raw))
        assert type(m).__name__ == row["kind"], row["id"]
        assert isinstance(m, Message)
        assert m.valid() == (row["broker_valid"] == "true"), row["id"]
        if not m.valid():
            with pytest.raises(TypeError):
                m.as_data()
            continue
        assert _codec.encode(m) == raw, row["id"]
        assert m.as_data() == brook.Data.from_bytes(raw), row["id"]
        # Built again from its parts, it is the same value.
        if isinstance(m, Batch):
            again = Batch(*m.messages())
        elif isinstance(m, Event):
            again = Event(m.name(), *m.args(), metadata=m._metadata)  # keeps an empty metadata vector
        else:
            again = type(m)(*m._fields)
        assert _codec.encode(again) == raw, row["id"]


def test_the_parts_of_each_message():
    rows = {r["id"]: _codec.decode(bytes.fromhex(r["bin_v1_hex"]))
            for r in golden_rows("zeek-messages.tsv")}
    create = LogCreate(rows["log-create"])
    assert create.stream_id() == brook.Enum("Conn::LOG")
    assert create.writer_id() == brook.Enum("Log::WRITER_ASCII")
    assert create.writer_info()[0] == "conn"
    assert [f[0] for f in create.fields_data()] == ["ts", "uid", "id.orig_h"]
    write = LogWrite(rows["log-write"])
    assert (write.path(), write.serial_data()) == ("conn", b"\x00\x00\x00\x03\x01\x02\xff")
    update = IdentifierUpdate(rows["id-update-count"])
    assert (update.id_name(), update.id_value()) == ("Test::counter", brook.Count(17))
    nested = Batch(rows["batch-nested"]).messages()
    assert [type(m) for m in nested] == [Batch, IdentifierUpdate]
    assert nested[0].messages()[0].name() == "inner"
    assert Batch(rows["batch-empty"]).messages() == []


def test_building_and_checking():
    w = LogWrite("Conn::LOG", "Log::WRITER_ASCII", "conn", b"\x01")
    assert w.stream_id() == brook.Enum("Conn::LOG")  # a str becomes an enum value
    with pytest.raises(brook.TypeMismatch):
        LogWrite("Conn::LOG", 1, "conn", "x")
    with pytest.raises(brook.TypeMismatch):
        IdentifierUpdate(1, 2)
    with pytest.raises(TypeError):
        LogCreate("a", "b")
    with pytest.raises(brook.TypeMismatch):
        Batch(Event("e"), (1, 1, ("e", ())))  # a batch is built from Message objects
    with pytest.raises(brook.TypeMismatch):
        message((brook.Count(1), brook.Count(9), ()))
    with pytest.raises(brook.TypeMismatch):
        message("not a message")
    # A batch with one invalid message is invalid; so is a message of another type.
    bad = Batch((brook.Count(1), brook.Count(5), [(brook.Count(1), brook.Count(4), (1, 2))]))
    assert not bad.valid()
    with pytest.raises(brook.TypeMismatch):
        bad.messages()
    assert not IdentifierUpdate(_codec.decode(_codec.encode(Event("e")))).valid()
    assert not Event(_codec.decode(_codec.encode(IdentifierUpdate("x", 1)))).valid()


def test_zeek_messages_over_endpoints():
    with brook.Endpoint() as ep1, brook.Endpoint() as ep2, ep1.make_subscriber("/z") as sub:
        port = ep1.listen("127.0.0.1", 0)
        assert ep2.peer("127.0.0.1", port, 0)
        sent = [
            IdentifierUpdate("Test::counter", brook.Count(3)),
            Batch(Event("e1", 1), LogWrite("Conn::LOG", "Log::WRITER_ASCII", "conn", "data")),
            LogCreate("Conn::LOG", "Log::WRITER_ASCII", ("conn", 0.0), ()),
        ]
        for m in sent:
            ep2.publish("/z", m)
        got = [message(v) for _, v in sub.get(3, 10.0)]
        assert [type(m) for m in got] == [IdentifierUpdate, Batch, LogCreate]
        assert all(m.valid() for m in got)
        assert got[0].id_value() == brook.Count(3)
        e1, lw = got[1].messages()
        assert (e1.name(), e1.args(), lw.serial_data()) == ("e1", [1], "data")
        assert [_codec.encode(m) for m in got] == [_codec.encode(m) for m in sent]
