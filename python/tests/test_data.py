"""Every Broker type, Python to Broker and back, checked against brook's C side."""

import ctypes
import datetime
import ipaddress
import math
import os
import types

import pytest

import brook
from brook import _codec, _ffi
from brook._data import bytes_of, c_data

lib = _ffi.lib
utc = datetime.timezone.utc
T = brook.Data.Type


def c_text(x):
    """Broker's text form of a Python value, rendered by brook's C side."""
    return str(brook.Data(x))


def roundtrip(x, text=None, type_=None, back=None):
    """x -> Data -> Python; checks the type, the text and the value that comes back."""
    d = brook.Data(x)
    if type_ is not None:
        assert d.get_type() == type_
    if text is not None:
        assert str(d) == text
    y = brook.Data.to_py(d)
    expected = x if back is None else back
    assert type(y) is type(expected), (y, expected)
    assert y == expected
    return d


def test_none_and_bool():
    roundtrip(None, "nil", T.Nil)
    roundtrip(True, "T", T.Boolean)
    roundtrip(False, "F", T.Boolean)
    assert getattr(T, "None") == T.Nil


def test_integer():
    for i in (0, 42, -42, 5123123123, -(2**63), 2**63 - 1):
        roundtrip(i, str(i), T.Integer)
    with pytest.raises(brook.InvalidArgument):
        brook.Data(2**63)
    with pytest.raises(ValueError):
        brook.Data(-(2**63) - 1)


def test_count():
    for c in (0, 42, 5123123123, 2**64 - 1):
        roundtrip(brook.Count(c), str(c), T.Count)
    with pytest.raises(ValueError):
        brook.Count(-1)
    with pytest.raises(ValueError):
        brook.Count(2**64)
    with pytest.raises(TypeError):
        brook.Count("1")
    assert brook.Count(3) != 3 and brook.Count(3) == brook.Count(3)
    assert brook.Count(2) < brook.Count(3)
    assert int(brook.Count(7)) == 7 and repr(brook.Count(7)) == "Count(7)"
    assert len({brook.Count(1), 1}) == 2


def test_real():
    roundtrip(1e18, "1000000000000000000.000000", T.Real)
    roundtrip(4.2, "4.200000", T.Real)
    roundtrip(-4.2, "-4.200000", T.Real)
    roundtrip(float("inf"), "inf", T.Real)
    roundtrip(float("-inf"), "-inf", T.Real)
    nan = brook.Data.to_py(brook.Data(float("nan")))
    assert math.isnan(nan)
    neg0 = brook.Data.to_py(brook.Data(-0.0))
    assert neg0 == 0.0 and math.copysign(1.0, neg0) < 0


@pytest.mark.parametrize(
    "x", [0.0, -0.0, 1.5, -3.25e300, 5e-324, -5e-324, 2.2250738585072014e-308, 1e-310,
          float("inf"), float("-inf"), float("nan"), 1.7976931348623157e308],
)
def test_real_bits_match_brook(x):
    """pack754/unpack754 in Python agree with brook's bit for bit (CAF's special cases)."""
    d = ctypes.c_void_p()
    assert lib.brook_data_new_real(x, ctypes.byref(d)) == 0
    try:
        c_bytes = bytes_of(d)
    finally:
        lib.brook_data_free(d)
    assert _codec.encode(x) == c_bytes
    # Decoding agrees with brook's too (subnormals do not survive CAF's format).
    y = _codec.decode(c_bytes)
    out = ctypes.c_double()
    with c_data(c_bytes) as cd:
        assert lib.brook_data_get_real(cd, ctypes.byref(out)) == 0
    z = out.value
    assert (math.isnan(z) and math.isnan(y)) or (y == z and math.copysign(1, y) == math.copysign(1, z))
    if math.isfinite(x) and abs(x) >= 2.2250738585072014e-308 or x == 0 or math.isinf(x):
        assert y == x and math.copysign(1, y) == math.copysign(1, x)


def test_string():
    for s in ("", "foo", "\ttab", "new\n", "n\0ul", "ünïcödé ☃"):
        roundtrip(s, type_=T.String)
    assert str(brook.Data("foo")) == "foo"
    # Bytes that are not UTF-8 come back as bytes, others as str.
    roundtrip(b"\xff\x00", type_=T.String)
    roundtrip(b"abc", type_=T.String, back="abc")
    roundtrip(bytearray(b"x"), back="x")
    assert brook.Data("abc").as_string() == b"abc"
    with pytest.raises(ValueError):
        brook.Data("\ud800")  # a lone surrogate is no UTF-8


def test_address():
    for a in ("0.0.0.0", "1.2.3.4", "255.255.255.255"):
        roundtrip(ipaddress.IPv4Address(a), a, T.Address)
    for a in ("::", "::1", "1:2:3:4:5:6:7:8", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"):
        roundtrip(ipaddress.IPv6Address(a), a, T.Address)
    # Broker keeps IPv4 v4-mapped: the mapped form comes back as IPv4.
    roundtrip(ipaddress.IPv6Address("::ffff:10.0.0.1"), "10.0.0.1",
              back=ipaddress.IPv4Address("10.0.0.1"))
    roundtrip(brook.Address("10.1.2.3"), "10.1.2.3", back=ipaddress.IPv4Address("10.1.2.3"))
    a = brook.Address(bytes([1, 2, 3, 4]), 4)
    assert a.is_v4() and a.bytes()[-4:] == bytes([1, 2, 3, 4]) and str(a) == "1.2.3.4"
    assert brook.Data(ipaddress.ip_address("2001:db8::1")).as_address().is_v6()


def test_subnet():
    for s in ("1.2.3.4/32", "10.0.0.0/8", "0.0.0.0/0"):
        roundtrip(ipaddress.IPv4Network(s), s, T.Subnet)
    for s in ("::1/128", "fc00::/7", "::/0"):
        roundtrip(ipaddress.IPv6Network(s), s, T.Subnet)
    # Broker masks the address to the prefix.
    sn = brook.Subnet(brook.Address("10.1.2.3"), 8)
    roundtrip(sn, "10.0.0.0/8", back=ipaddress.IPv4Network("10.0.0.0/8"))
    assert sn.contains("10.9.9.9") and not sn.contains("11.0.0.1") and sn.length() == 8
    with pytest.raises(ValueError):
        brook.Subnet(brook.Address("10.0.0.0"), 33)


def test_port():
    for p, text in ((brook.Port(65535, brook.Port.TCP), "65535/tcp"),
                    (brook.Port(53, brook.Port.UDP), "53/udp"),
                    (brook.Port(8, brook.Port.ICMP), "8/icmp"),
                    (brook.Port(0, brook.Port.Unknown), "0/?")):
        roundtrip(p, text, T.Port)
        assert str(p) == text
    assert brook.Port(22, brook.Port.TCP).number() == 22
    assert brook.Port(22, brook.Port.TCP).get_type() == brook.Port.TCP
    with pytest.raises(ValueError):
        brook.Port(65536, brook.Port.TCP)
    with pytest.raises(ValueError):
        brook.Port(1, 9)


def test_timespan():
    for td, text in ((datetime.timedelta(microseconds=-1000), "-1000000ns"),
                     (datetime.timedelta(seconds=-42), "-42000000000ns"),
                     (datetime.timedelta(milliseconds=1, microseconds=2), "1002000ns"),
                     (datetime.timedelta(days=1, seconds=2, microseconds=3), "86402000003000ns")):
        roundtrip(td, text, T.Timespan)
    # Nanoseconds survive through brook.Timespan, and come back rounded to microseconds.
    roundtrip(brook.Timespan(1500), "1500ns", back=datetime.timedelta(microseconds=2))
    roundtrip(brook.Timespan(2.5), "2500000000ns", back=datetime.timedelta(seconds=2.5))
    assert brook.Timespan(1000) + brook.Timespan(1) == brook.Timespan(1001)
    assert brook.Timespan(datetime.timedelta(seconds=1)).count() == 10**9
    assert brook.Data(datetime.timedelta(seconds=1.5)).as_timespan() == 1.5


def test_timestamp():
    past = datetime.datetime(1970, 1, 31, tzinfo=utc)
    roundtrip(past, "2592000000000000ns", T.Timestamp)
    future = datetime.datetime(2040, 1, 31, 12, 30, 1, 123456, tzinfo=utc)
    roundtrip(future, type_=T.Timestamp)
    before = datetime.datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=utc)
    roundtrip(before, "-500000000ns")
    # A naive datetime is local time, as datetime.timestamp() takes it; it comes back in UTC.
    naive = datetime.datetime(2021, 6, 1, 12, 0, 0)
    back = brook.Data.to_py(brook.Data(naive))
    assert back.tzinfo == utc and back.timestamp() == naive.timestamp()
    # Other zones convert to the same instant.
    plus2 = datetime.datetime(2021, 6, 1, 14, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    assert brook.Data.to_py(brook.Data(plus2)) == datetime.datetime(2021, 6, 1, 12, 0, tzinfo=utc)
    roundtrip(brook.Timestamp.from_ns(1500), "1500ns",  # rounded to microseconds
              back=datetime.datetime(1970, 1, 1, 0, 0, 0, 2, tzinfo=utc))
    assert brook.Data.to_py(brook.Data(brook.Timestamp.from_ns(1500)), exact=True) == \
        brook.Timestamp.from_ns(1500)
    assert brook.Timestamp(1.5).time_since_epoch().count() == 1_500_000_000
    now = brook.now()
    assert brook.Data(now).get_type() == T.Timestamp
    assert brook.Data(past).as_timestamp() == 30 * 86400.0
    # The extremes of 64 bits of nanoseconds fit in datetime.
    for ns in (2**63 - 1, -(2**63)):
        assert brook.Data.to_py(brook.Data(brook.Timestamp.from_ns(ns))).year in (1677, 2262)


def test_enum():
    roundtrip(brook.Enum("Conn::LOG"), "Conn::LOG", T.EnumValue)
    assert brook.Enum("a") == brook.Enum("a") and brook.Enum("a") != "a"
    assert brook.Data(brook.Enum("x")).as_enum_value().name == "x"


@pytest.mark.parametrize("make,back", [(set, set), (frozenset, set), (brook.Set, set)])
def test_set(make, back):
    roundtrip(make(), "{}", T.Set, back())
    roundtrip(make([1, 2, 3]), "{1, 2, 3}", T.Set, back([1, 2, 3]))
    d = brook.Data(make(["foo", ipaddress.IPv6Address("::1"), None]))
    # Broker's order: by type first (none, ..., string, address).
    assert str(d) == "{nil, foo, ::1}"
    elements = d.as_set()
    # As in Broker: the elements are raw values (Broker's _broker.Data), not brook.Data,
    # in Broker's order, and Data() and Data.to_py() take them.
    assert len(elements) == 3
    assert all(isinstance(e, brook.RawData) and not isinstance(e, brook.Data) for e in elements)
    assert [brook.Data.to_py(e) for e in elements] == [None, "foo", ipaddress.IPv6Address("::1")]
    assert [str(brook.Data(e)) for e in elements] == ["nil", "foo", "::1"]


@pytest.mark.parametrize("make", [dict, types.MappingProxyType, brook.Table])
def test_table(make):
    roundtrip(make({}), "{}", T.Table, {})
    roundtrip(make({"a": 1, "b": 2, "c": 3}), "{a -> 1, b -> 2, c -> 3}", T.Table,
              {"a": 1, "b": 2, "c": 3})
    p = make({True: 42, brook.Port(22, brook.Port.TCP): False, (1, 2, 3): [4, 5, 6],
              brook.Count(13): "test"})
    d = brook.Data(p)
    assert str(d) == "{T -> 42, 13 -> test, 22/tcp -> F, (1, 2, 3) -> (4, 5, 6)}"
    t = d.as_table()
    assert brook.Data.to_py(t[brook.Data(True)]) == 42
    assert brook.Data.to_py(t[brook.Data((1, 2, 3))]) == (4, 5, 6)
    assert brook.Data.to_py(d) == {True: 42, brook.Port(22, brook.Port.TCP): False,
                                   (1, 2, 3): (4, 5, 6), brook.Count(13): "test"}


def test_vector():
    roundtrip((), "()", T.Vector)
    roundtrip((1, 2, 3), "(1, 2, 3)", T.Vector)
    roundtrip([1, 2, 3], "(1, 2, 3)", T.Vector, (1, 2, 3))
    roundtrip(brook.Vector([1]), "(1)", T.Vector, (1,))
    d = brook.Data(["foo", [[True]], ipaddress.IPv6Address("::1"), None])
    v = d.as_vector()
    assert str(v[1]) == "((T))" and brook.Data.to_py(v[1]) == ((True,),)
    assert v[3].get_type() == T.Nil


def test_containers_as_keys_come_back_hashable():
    """Sets of sets and tables keyed by tables have a Python form: frozensets, tuples and
    read-only dicts where Python needs something hashable."""
    value = {frozenset([1, 2]): {"k": {3}}, (1, (2,)): None}
    back = brook.Data.to_py(brook.Data(value))
    assert back == value
    key = next(k for k in back if isinstance(k, frozenset))
    assert isinstance(back[key]["k"], set)  # values stay mutable
    nested = brook.Data.from_text("{{a -> 1}, {b -> 2}}")  # a set of tables
    s = brook.Data.to_py(nested)
    assert any(x == {"a": brook.Count(1)} for x in s) and hash(next(iter(s))) is not None
    with pytest.raises(TypeError):
        next(iter(s))["a"] = 2


def test_immutable_data():
    v = brook.ImmutableData.to_py(brook.Data({"a": [1, {2}]}))
    assert v == {"a": (1, frozenset({2}))}
    with pytest.raises(TypeError):
        v["b"] = 1


def test_data_api():
    d = brook.Data(brook.Data(5))
    assert d == brook.Data(5) and d < brook.Data(6) and d != brook.Data(brook.Count(5))
    # Broker's order: by type first, so any count sorts before any integer.
    assert brook.Data(brook.Count(99)) < brook.Data(-1)
    assert brook.Data(0.0) == brook.Data(-0.0) and hash(brook.Data(0.0)) == hash(brook.Data(-0.0))
    assert {brook.Data("x"): 1}[brook.Data("x")] == 1
    assert brook.Data.to_py(5) == 5
    assert brook.Data.from_bytes(brook.Data((1, "a")).to_bytes()) == brook.Data((1, "a"))
    assert brook.Data.from_json('{"@data-type":"count","data":42}') == brook.Data(brook.Count(42))
    assert brook.Data("x").to_json() == '{"@data-type":"string","data":"x"}'
    assert brook.Data.from_text("(1, T, 80/tcp)") == brook.Data((brook.Count(1), True,
                                                                 brook.Port(80, brook.Port.TCP)))
    with pytest.raises(brook.TypeMismatch):
        brook.Data(1).as_string()
    with pytest.raises(brook.DecodeError):
        brook.Data.from_bytes(b"\x63")
    with pytest.raises(brook.DecodeError):
        brook.Data.from_json("{")


def test_unsupported_types_raise_type_error():
    for bad in (object(), 1j, datetime.date(2020, 1, 1), [object()], {1: object()}):
        with pytest.raises(TypeError) as e:
            brook.Data(bad)
        assert isinstance(e.value, brook.BrookError)


def test_too_deep_or_recursive_values_raise():
    deep = []
    for _ in range(200):
        deep = [deep]
    with pytest.raises(brook.EncodeError):
        brook.Data(deep)
    loop = []
    loop.append(loop)
    with pytest.raises(brook.EncodeError):
        brook.Data(loop)
    ok = []
    for _ in range(127):
        ok = [ok]
    assert brook.Data(ok).get_type() == T.Vector


def test_values_that_collide_in_broker_raise():
    # Two Python-distinct addresses that are the same Broker address: a duplicate element.
    with pytest.raises(brook.DecodeError):
        brook.Data({ipaddress.IPv4Address("1.2.3.4"), ipaddress.IPv6Address("::ffff:1.2.3.4")})


def test_malformed_bytes_raise_decode_error():
    for bad in (b"", b"\x02\x00", b"\x0e\x05\x00", b"\x63", b"\x08\x00\x50\x07", b"\x00\x00"):
        with pytest.raises(brook.DecodeError):
            _codec.decode(bad)


GOLDEN = os.environ.get("BROOK_VECTORS") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    "..", "shared", "vectors", "golden")


def golden_rows(name):
    path = os.path.join(GOLDEN, name)
    if not os.path.exists(path):
        pytest.skip(f"golden vectors not found at {path}")
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        return [dict(zip(header, line.rstrip("\n").split("\t"))) for line in f if line.strip()]


# Values Python cannot hold apart: in a Python set, True == 1 == 1.0 (as in Broker's own
# binding).
PYTHON_MERGES = {"set-mixed-types-order"}


def test_golden_values_decode_and_reencode_as_broker():
    """Every value of a real Broker: Python decodes its bytes, and Python's encoding of the
    result is the same value for brook (and the same text)."""
    rows = golden_rows("data-bin-v1.tsv")
    assert len(rows) > 300
    for row in rows:
        if row["id"] in PYTHON_MERGES:
            continue
        raw = bytes.fromhex(row["bin_v1_hex"])
        try:
            value = _codec.decode(raw, exact=True)
        except brook.DecodeError:
            # Only nesting beyond brook's limit may fail, and brook refuses it too.
            with pytest.raises(brook.DecodeError):
                brook.Data.from_bytes(raw)
            continue
        again = _codec.encode(value)
        with c_data(raw) as a, c_data(again) as b:
            assert lib.brook_data_equal(a, b), row["id"]
        assert str(brook.Data.from_bytes(again)) == str(brook.Data.from_bytes(raw)), row["id"]


def test_golden_non_canonical_inputs_decode_as_brook_does():
    for row in golden_rows("data-decode-v1.tsv"):
        raw = bytes.fromhex(row["input_hex"])
        if row["data_deserialize"] == "accept" and row["id"].startswith("subnet-"):
            # Broker keeps unmasked subnets and odd raw lengths; ipaddress cannot, so Python
            # gets the masked network.
            assert isinstance(_codec.decode(raw), (ipaddress.IPv4Network, ipaddress.IPv6Network))
        elif row["id"] == "vector-deep-500":
            with pytest.raises(brook.DecodeError):  # deeper than brook's limit, as in C
                _codec.decode(raw)
            with pytest.raises(brook.DecodeError):
                brook.Data.from_bytes(raw)
        elif row["data_deserialize"] == "accept":
            value = _codec.decode(raw)
            canonical = bytes.fromhex(row["reencoded_hex"]) if row.get("reencoded_hex") else raw
            with c_data(_codec.encode(value)) as a, c_data(canonical) as b:
                assert lib.brook_data_equal(a, b), row["id"]
        else:
            with pytest.raises(brook.DecodeError):
                brook.Data.from_bytes(raw)
