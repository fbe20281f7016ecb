"""Python values to and from Broker's binary format v1, in Python.

Messages reach Python as the bytes that came off the wire (brook_message_payload), and go
out as bytes that brook_data_from_bytes validates. Converting here instead of walking a
brook_data through one ctypes call per node is what makes receiving fast: a small event
costs a few microseconds instead of tens.

Layout (the same as src/data/bin.rs): a type tag byte, then the body. Numbers are big
endian; strings, enum names and container sizes have a LEB128 length ("varbyte"); an
address is 16 bytes (IPv4 v4-mapped); a subnet is an address plus the raw prefix length
(IPv4 prefixes + 96); a port is a 16-bit number and a protocol byte. Reals use CAF's
pack754, which differs from IEEE only for NaN, the infinities and subnormals.
"""

import collections.abc
import datetime
import ipaddress
import math
import struct
import types

from . import _errors
from ._types import (
    Address,
    Count,
    Enum,
    Port,
    Set,
    Subnet,
    Table,
    Timespan,
    Timestamp,
    Vector,
    _count,
    datetime_ns,
    ns_datetime,
    ns_timedelta,
    timedelta_ns,
)

NONE, BOOLEAN, COUNT, INTEGER, REAL, STRING, ADDRESS, SUBNET, PORT = range(9)
TIMESTAMP, TIMESPAN, ENUM, SET, TABLE, VECTOR = range(9, 15)

MAX_DEPTH = 128  # brook's decoder rejects deeper nesting

_U64 = struct.Struct(">Q")
_I64 = struct.Struct(">q")
_U16 = struct.Struct(">H")
_F64 = struct.Struct(">d")
_V4_PREFIX = b"\0" * 10 + b"\xff\xff"


def _encode_error(message):
    return _errors.EncodeError(_errors.Status.ENCODE_ERROR, message)


def _type_error(value):
    return _errors.TypeMismatch(
        _errors.Status.TYPE_MISMATCH,
        f"unsupported data type: {type(value).__name__} ({value!r:.60})",
    )


def _invalid(message):
    return _errors.InvalidArgument(_errors.Status.INVALID_ARGUMENT, message)


# --- reals: CAF's pack754 / unpack754, bit for bit -------------------------------------


def pack754(f):
    if f == 0.0:
        return 1 << 63 if math.copysign(1.0, f) < 0 else 0
    if f != f:
        return (1 << 64) - 1
    if math.isinf(f):
        return 0xFFF0_0000_0000_0000 if f > 0 else 0x7FF0_0000_0000_0000
    bits = _U64.unpack(_F64.pack(f))[0]
    if (bits >> 52) & 0x7FF:
        return bits  # a normal number: plain IEEE
    # Subnormal: normalised by doubling, as CAF does, with the exponent wrapping.
    sign = 1 if f < 0 else 0
    fnorm = abs(f)
    shift = 0
    while fnorm >= 2.0:
        fnorm /= 2.0
        shift += 1
    while fnorm < 1.0:
        fnorm *= 2.0
        shift -= 1
    significand = int((fnorm - 1.0) * (float(1 << 52) + 0.5))
    exp = (shift + 1023) & ((1 << 64) - 1)
    return ((sign << 63) | (exp << 52) | significand) & ((1 << 64) - 1)


def unpack754(i):
    if i == 0:
        return 0.0
    if i == 0x8000_0000_0000_0000:
        return -0.0
    if i == 0xFFF0_0000_0000_0000:
        return math.inf
    if i == 0x7FF0_0000_0000_0000:
        return -math.inf
    if i == (1 << 64) - 1:
        return math.nan
    exp_field = (i >> 52) & 0x7FF
    if exp_field not in (0, 0x7FF):
        return _F64.unpack(_U64.pack(i))[0]
    result = (i & ((1 << 52) - 1)) / float(1 << 52) + 1.0
    shift = exp_field - 1023
    # Halving step by step rounds as CAF does (ldexp would round once).
    while shift > 0:
        result *= 2.0
        shift -= 1
    while shift < 0:
        result /= 2.0
        shift += 1
    return -result if i >> 63 else result


# --- encoding ----------------------------------------------------------------------------


def _varbyte(out, n):
    if n >= 1 << 32:
        raise _encode_error(f"length {n} exceeds the bin-v1 limit of 2^32 - 1")
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def _enc_str(out, s, tag=STRING):
    try:
        b = s.encode("utf-8")
    except UnicodeEncodeError as e:
        raise _invalid(f"string is not encodable as UTF-8: {e}") from None
    out.append(tag)
    _varbyte(out, len(b))
    out += b


def _enc_int(out, i):
    if not -(1 << 63) <= i < 1 << 63:
        raise _invalid(
            f"integer {i} does not fit in 64 bits (use brook.Count for counts up to 2**64 - 1)"
        )
    out.append(INTEGER)
    out += _I64.pack(i)


def _enc_address(out, ip):
    out.append(ADDRESS)
    out += _V4_PREFIX + ip.packed if ip.version == 4 else ip.packed


def _enc_network(out, net):
    out.append(SUBNET)
    if net.version == 4:
        out += _V4_PREFIX + net.network_address.packed
        out.append(net.prefixlen + 96)
    else:
        out += net.network_address.packed
        out.append(net.prefixlen)


def _enc_timestamp_ns(out, ns):
    if not -(1 << 63) <= ns < 1 << 63:
        raise _invalid(f"timestamp of {ns} ns does not fit in 64 bits")
    out.append(TIMESTAMP)
    out += _I64.pack(ns)


def _enc_timespan_ns(out, ns):
    if not -(1 << 63) <= ns < 1 << 63:
        raise _invalid(f"timespan of {ns} ns does not fit in 64 bits")
    out.append(TIMESPAN)
    out += _I64.pack(ns)


def _enc_seq(out, tag, items, depth):
    out.append(tag)
    _varbyte(out, len(items))
    for x in items:
        _encode(out, x, depth)


def _enc_map(out, m, depth):
    out.append(TABLE)
    _varbyte(out, len(m))
    for k, v in m.items():
        _encode(out, k, depth)
        _encode(out, v, depth)


def _encode(out, x, depth):
    """Appends the encoding of `x` to the bytearray `out`."""
    t = type(x)
    # The common types first, by exact type.
    if t is str:
        return _enc_str(out, x)
    if t is int:
        return _enc_int(out, x)
    if t is Count:
        out.append(COUNT)
        out += _U64.pack(x.value)
        return
    if t is bool:
        out.append(BOOLEAN)
        out.append(1 if x else 0)
        return
    if t is float:
        out.append(REAL)
        out += _U64.pack(pack754(x))
        return
    if x is None:
        out.append(NONE)
        return
    if t is tuple or t is list or t is Vector:
        if depth >= MAX_DEPTH:
            raise _encode_error(f"value nested deeper than {MAX_DEPTH}")
        return _enc_seq(out, VECTOR, x, depth + 1)
    if t is dict or t is Table:
        if depth >= MAX_DEPTH:
            raise _encode_error(f"value nested deeper than {MAX_DEPTH}")
        return _enc_map(out, x, depth + 1)
    if t is set or t is frozenset or t is Set:
        if depth >= MAX_DEPTH:
            raise _encode_error(f"value nested deeper than {MAX_DEPTH}")
        return _enc_seq(out, SET, x, depth + 1)
    return _encode_other(out, x, depth)


def _encode_other(out, x, depth):
    if isinstance(x, bool):
        out.append(BOOLEAN)
        out.append(1 if x else 0)
    elif isinstance(x, Count):
        out.append(COUNT)
        out += _U64.pack(x.value)
    elif isinstance(x, int):
        _enc_int(out, int(x))
    elif isinstance(x, float):
        out.append(REAL)
        out += _U64.pack(pack754(float(x)))
    elif isinstance(x, str):
        _enc_str(out, str(x))
    elif isinstance(x, (bytes, bytearray, memoryview)):
        b = bytes(x)
        out.append(STRING)
        _varbyte(out, len(b))
        out += b
    elif isinstance(x, Enum):
        _enc_str(out, x.name, ENUM)
    elif isinstance(x, Port):
        out.append(PORT)
        out += _U16.pack(x.number())
        out.append(int(x.get_type()))
    elif isinstance(x, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        _enc_address(out, x)
    elif isinstance(x, Address):
        _enc_address(out, x.to_ipaddress())
    elif isinstance(x, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        _enc_network(out, x)
    elif isinstance(x, Subnet):
        _enc_network(out, x.to_ipaddress())
    elif isinstance(x, datetime.datetime):
        _enc_timestamp_ns(out, datetime_ns(x))
    elif isinstance(x, Timestamp):
        _enc_timestamp_ns(out, x.time_since_epoch().count())
    elif isinstance(x, datetime.timedelta):
        _enc_timespan_ns(out, timedelta_ns(x))
    elif isinstance(x, Timespan):
        _enc_timespan_ns(out, x.count())
    elif hasattr(x, "_brook_bytes"):
        # brook.Data (already encoded) and Zeek messages (brook.zeek.Event, ...).
        b = x._brook_bytes()
        if depth + _depth_of(b) > MAX_DEPTH:
            raise _encode_error(f"value nested deeper than {MAX_DEPTH}")
        out += b
    elif depth >= MAX_DEPTH and isinstance(
        x, (list, tuple, set, frozenset, collections.abc.Mapping)
    ):
        raise _encode_error(f"value nested deeper than {MAX_DEPTH}")
    elif isinstance(x, (list, tuple)):
        _enc_seq(out, VECTOR, x, depth + 1)
    elif isinstance(x, (set, frozenset)):
        _enc_seq(out, SET, x, depth + 1)
    elif isinstance(x, (collections.abc.Mapping, types.MappingProxyType)):
        _enc_map(out, x, depth + 1)
    else:
        raise _type_error(x)


def _depth_of(b):
    """How deeply containers nest in an encoded value (0 for a scalar)."""
    return Decoder(b).depth()


def encode(x):
    """The bin-v1 bytes of a Python value. Raises TypeMismatch (a TypeError) for a type
    Broker has no equivalent for, InvalidArgument or EncodeError for values out of range."""
    out = bytearray()
    try:
        _encode(out, x, 0)
    except RecursionError:
        raise _encode_error(f"value nested deeper than {MAX_DEPTH} (or contains itself)") from None
    return bytes(out)


# --- decoding ----------------------------------------------------------------------------


class HashableDict(dict):
    """A read-only dict that can be a set element or a table key: what a Broker table
    becomes there (and everywhere, from ImmutableData)."""

    __slots__ = ()

    def __hash__(self):
        return hash(frozenset(self.items()))

    def _readonly(self, *args, **kwargs):
        raise TypeError("cannot modify this dict: it is immutable")

    __setitem__ = __delitem__ = pop = popitem = clear = update = setdefault = _readonly
    __ior__ = _readonly


def _utf8_or_bytes(b):
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return b


_PROTOCOLS = (Port.Unknown, Port.TCP, Port.UDP, Port.ICMP)


class Decoder:
    """Reads bin-v1 values from `buf`. Malformed input raises DecodeError."""

    __slots__ = ("buf", "pos", "exact")

    def __init__(self, buf, pos=0, exact=False):
        self.buf = buf
        self.pos = pos
        self.exact = exact  # timestamps and timespans as brook's classes, to the nanosecond

    def _fail(self, what):
        raise _errors.DecodeError(
            _errors.Status.DECODE_ERROR, f"bin v1: {what} at offset {self.pos}"
        )

    def _take(self, n, what):
        p = self.pos
        end = p + n
        if end > len(self.buf):
            self._fail(f"truncated {what}")
        self.pos = end
        return self.buf[p:end]

    def _varbyte(self):
        buf = self.buf
        p = self.pos
        try:
            b = buf[p]
        except IndexError:
            self._fail("truncated length")
        if b < 0x80:
            self.pos = p + 1
            return b
        value = 0
        shift = 0
        while True:
            try:
                b = buf[p]
            except IndexError:
                self._fail("truncated length")
            p += 1
            if shift < 32:
                value |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                self.pos = p
                return value & 0xFFFFFFFF

    def value(self, immutable=False, depth=0):
        """Decodes one value into its Python form. With `immutable`, containers become
        frozensets, read-only dicts and tuples throughout, which can always be hashed."""
        buf = self.buf
        p = self.pos
        try:
            tag = buf[p]
        except IndexError:
            self._fail("truncated type tag")
        self.pos = p + 1
        if tag == STRING:
            n = self._varbyte()
            return _utf8_or_bytes(self._take(n, "string"))
        if tag == COUNT:
            return _count(_U64.unpack(self._take(8, "count"))[0])
        if tag == INTEGER:
            return _I64.unpack(self._take(8, "integer"))[0]
        if tag == VECTOR:
            if depth >= MAX_DEPTH:
                self._fail(f"nesting deeper than {MAX_DEPTH}")
            n = self._count(1, "vector")
            d = depth + 1
            return tuple([self.value(immutable, d) for _ in range(n)])
        if tag == BOOLEAN:
            return self._take(1, "boolean")[0] != 0
        if tag == REAL:
            return unpack754(_U64.unpack(self._take(8, "real"))[0])
        if tag == NONE:
            return None
        if tag == TIMESTAMP:
            ns = _I64.unpack(self._take(8, "timestamp"))[0]
            return Timestamp.from_ns(ns) if self.exact else ns_datetime(ns)
        if tag == TIMESPAN:
            ns = _I64.unpack(self._take(8, "timespan"))[0]
            return Timespan(ns) if self.exact else ns_timedelta(ns)
        if tag == ADDRESS:
            return _address(self._take(16, "address"))
        if tag == SUBNET:
            raw = self._take(17, "subnet")
            return _subnet(raw[:16], raw[16])
        if tag == PORT:
            raw = self._take(3, "port")
            if raw[2] > 3:
                self.pos -= 1
                self._fail(f"invalid port protocol {raw[2]}")
            return Port(_U16.unpack(raw[:2])[0], _PROTOCOLS[raw[2]])
        if tag == ENUM:
            n = self._varbyte()
            return Enum(self._take(n, "enum value").decode("utf-8", "surrogateescape"))
        if tag == SET:
            if depth >= MAX_DEPTH:
                self._fail(f"nesting deeper than {MAX_DEPTH}")
            n = self._count(1, "set")
            items = [self.value(True, depth + 1) for _ in range(n)]
            return frozenset(items) if immutable else set(items)
        if tag == TABLE:
            if depth >= MAX_DEPTH:
                self._fail(f"nesting deeper than {MAX_DEPTH}")
            n = self._count(2, "table")
            d = depth + 1
            t = {}
            for _ in range(n):
                k = self.value(True, d)
                t[k] = self.value(immutable, d)
            return HashableDict(t) if immutable else t
        self.pos = p
        self._fail(f"invalid type tag {tag}")

    def _count(self, min_elem, what):
        n = self._varbyte()
        if n > (len(self.buf) - self.pos) // min_elem:
            self._fail(f"{what} claims {n} elements but only {len(self.buf) - self.pos} bytes follow")
        return n

    def skip(self, depth=0):
        """Steps over one value; returns (tag, start, end)."""
        start = self.pos
        buf = self.buf
        try:
            tag = buf[start]
        except IndexError:
            self._fail("truncated type tag")
        self.pos += 1
        if tag == NONE:
            pass
        elif tag == BOOLEAN:
            self._take(1, "boolean")
        elif tag in (COUNT, INTEGER, REAL, TIMESTAMP, TIMESPAN):
            self._take(8, "value")
        elif tag in (STRING, ENUM):
            self._take(self._varbyte(), "string")
        elif tag == ADDRESS:
            self._take(16, "address")
        elif tag == SUBNET:
            self._take(17, "subnet")
        elif tag == PORT:
            if self._take(3, "port")[2] > 3:
                self._fail("invalid port protocol")
        elif tag in (SET, TABLE, VECTOR):
            if depth >= MAX_DEPTH:
                self._fail(f"nesting deeper than {MAX_DEPTH}")
            per = 2 if tag == TABLE else 1
            n = self._count(per, "container")
            for _ in range(n * per):
                self.skip(depth + 1)
        else:
            self.pos = start
            self._fail(f"invalid type tag {tag}")
        return tag, start, self.pos

    def elements(self):
        """For a container: its tag and the byte ranges of its elements (key, value,
        key, ... for a table)."""
        tag = self.buf[self.pos]
        self.pos += 1
        per = 2 if tag == TABLE else 1
        n = self._count(per, "container")
        return tag, [self.skip(1)[1:] for _ in range(n * per)]

    def depth(self):
        """The nesting depth of the value at the current position."""
        buf = self.buf
        tag = buf[self.pos]
        if tag not in (SET, TABLE, VECTOR):
            self.skip()
            return 0
        _, ranges = self.elements()
        return 1 + max((Decoder(buf, a).depth() for a, _ in ranges), default=0)


def _address(raw):
    if raw[:12] == _V4_PREFIX:
        return ipaddress.IPv4Address(raw[12:])
    return ipaddress.IPv6Address(raw)


def _subnet(raw, raw_len):
    if raw[:12] == _V4_PREFIX and raw_len >= 96:
        return ipaddress.IPv4Network((raw[12:], raw_len - 96), strict=False)
    return ipaddress.IPv6Network((raw, min(raw_len, 128)), strict=False)


def decode(buf, immutable=False, exact=False):
    """The Python value of exactly one bin-v1 value; trailing bytes are an error. With
    `exact`, timestamps and timespans come as brook.Timestamp and brook.Timespan, which keep
    nanoseconds (datetime and timedelta stop at microseconds)."""
    d = Decoder(buf, 0, exact)
    try:
        v = d.value(immutable)
    except RecursionError:
        d._fail(f"nesting deeper than {MAX_DEPTH}")
    if d.pos != len(buf):
        d._fail(f"{len(buf) - d.pos} trailing bytes after the value")
    return v


def type_of(buf):
    """The type tag of an encoded value."""
    return buf[0]
