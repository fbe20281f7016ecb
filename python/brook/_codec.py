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


_U64_AT = _U64.unpack_from
_I64_AT = _I64.unpack_from
_U16_AT = _U16.unpack_from


class _Truncated(Exception):
    pass


def _length(buf, p):
    """A varbyte at p: (value, position after it)."""
    b = buf[p]
    if b < 0x80:
        return b, p + 1
    value = 0
    shift = 0
    while True:
        b = buf[p]
        p += 1
        if shift < 32:
            value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value & 0xFFFFFFFF, p


def _value(buf, p, imm, depth, exact):
    """Decodes the value at p: (Python value, position after it). The hot path of every
    received message, so it is one function with the common types first; bounds are checked
    by struct and indexing (IndexError, struct.error), or explicitly for slices."""
    tag = buf[p]
    p += 1
    if tag == STRING:
        n, p = _length(buf, p)
        end = p + n
        if end > len(buf):
            raise _Truncated("string")
        b = buf[p:end]
        try:
            return b.decode(), end
        except UnicodeDecodeError:
            return b, end
    if tag == COUNT:
        c = object.__new__(Count)
        c.value = _U64_AT(buf, p)[0]
        return c, p + 8
    if tag == INTEGER:
        return _I64_AT(buf, p)[0], p + 8
    if tag == VECTOR:
        if depth >= MAX_DEPTH:
            raise _TooDeep()
        n, p = _length(buf, p)
        if n > len(buf) - p:
            raise _Truncated("vector")
        items = []
        append = items.append
        d = depth + 1
        for _ in range(n):
            v, p = _value(buf, p, imm, d, exact)
            append(v)
        return tuple(items), p
    if tag == BOOLEAN:
        return buf[p] != 0, p + 1
    if tag == REAL:
        bits = _U64_AT(buf, p)[0]
        if (bits >> 52) & 0x7FF not in (0, 0x7FF):
            return _F64.unpack_from(buf, p)[0], p + 8
        return unpack754(bits), p + 8
    if tag == NONE:
        return None, p
    if tag == TIMESTAMP:
        ns = _I64_AT(buf, p)[0]
        return (Timestamp.from_ns(ns) if exact else ns_datetime(ns)), p + 8
    if tag == TIMESPAN:
        ns = _I64_AT(buf, p)[0]
        return (Timespan(ns) if exact else ns_timedelta(ns)), p + 8
    if tag == ADDRESS:
        if p + 16 > len(buf):
            raise _Truncated("address")
        return _address(buf[p:p + 16]), p + 16
    if tag == SUBNET:
        if p + 17 > len(buf):
            raise _Truncated("subnet")
        return _subnet(buf[p:p + 16], buf[p + 16]), p + 17
    if tag == PORT:
        proto = buf[p + 2]
        if proto > 3:
            raise _BadByte(p + 2, f"invalid port protocol {proto}")
        return Port(_U16_AT(buf, p)[0], _PROTOCOLS[proto]), p + 3
    if tag == ENUM:
        n, p = _length(buf, p)
        end = p + n
        if end > len(buf):
            raise _Truncated("enum value")
        return Enum(buf[p:end].decode("utf-8", "surrogateescape")), end
    if tag == SET:
        if depth >= MAX_DEPTH:
            raise _TooDeep()
        n, p = _length(buf, p)
        if n > len(buf) - p:
            raise _Truncated("set")
        items = []
        d = depth + 1
        for _ in range(n):
            v, p = _value(buf, p, True, d, exact)
            items.append(v)
        return (frozenset(items) if imm else set(items)), p
    if tag == TABLE:
        if depth >= MAX_DEPTH:
            raise _TooDeep()
        n, p = _length(buf, p)
        if 2 * n > len(buf) - p:
            raise _Truncated("table")
        t = {}
        d = depth + 1
        for _ in range(n):
            k, p = _value(buf, p, True, d, exact)
            t[k], p = _value(buf, p, imm, d, exact)
        return (HashableDict(t) if imm else t), p
    raise _BadByte(p - 1, f"invalid type tag {tag}")


class _TooDeep(Exception):
    pass


class _BadByte(Exception):
    def __init__(self, pos, what):
        super().__init__(what)
        self.pos = pos
        self.what = what


# A Zeek event starts with (count 1, count 1, ...): skipping the two counts and the outer
# vector decodes the most common message a little faster.
_EVENT_HEAD = bytes([14, 3, 2, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 1])
_ONE = _count(1)


def _event(buf, imm, exact):
    """A Zeek event without metadata whose name and argument count are below 128: the
    message most often received, decoded inline. None for anything else."""
    n = len(buf)
    if n < 26 or buf[20] != VECTOR or buf[21] != 2 or buf[22] != STRING or buf[23] >= 0x80:
        return None
    p = 24 + buf[23]
    if p + 2 > n or buf[p] != VECTOR or buf[p + 1] >= 0x80:
        return None
    name = buf[24:p]
    try:
        name = name.decode()
    except UnicodeDecodeError:
        pass
    count = buf[p + 1]
    p += 2
    args = []
    append = append_arg = args.append
    for _ in range(count):
        tag = buf[p]
        if tag == COUNT:
            c = object.__new__(Count)
            c.value = _U64_AT(buf, p + 1)[0]
            append_arg(c)
            p += 9
        elif tag == INTEGER:
            append_arg(_I64_AT(buf, p + 1)[0])
            p += 9
        else:
            v, p = _value(buf, p, imm, 3, exact)
            append(v)
    if p != n:
        return None  # trailing bytes: the general path says what is wrong
    return (_ONE, _ONE, (name, tuple(args)))


_RECORD_HEAD = struct.Struct("<II").unpack_from


def _event_head(buf, q, r):
    """For a payload at buf[q:r] that starts like a Zeek event without metadata, whose
    name and argument count are below 128: (head, name, argument count), where head is the
    bytes before the first argument. None otherwise."""
    if r - q < 26 or buf[q + 20] != VECTOR or buf[q + 21] != 2 or buf[q + 22] != STRING:
        return None
    n = buf[q + 23]
    a = q + 24 + n
    if n >= 0x80 or a + 2 > r or buf[a] != VECTOR or buf[a + 1] >= 0x80:
        return None
    name = buf[q + 24:a]
    try:
        name = name.decode()
    except UnicodeDecodeError:
        pass
    return buf[q:a + 2], name, buf[a + 1]


def decode_messages(buf, immutable, topics):
    """The (topic, value) pairs in `buf`, as brook_subscriber_poll_into() writes them: one
    record a message, [u32 topic_len][u32 payload_len][topic][payload], the lengths
    little-endian. `topics` caches topic bytes to str (at most 4096 of them). Raises
    DecodeError for a malformed payload, as decode() does.

    The hot path of a Python subscriber, so one loop with a shortcut for what a stream
    mostly holds: the topic of the record before, a count, and a Zeek event without
    metadata whose head (everything before its first argument) is the head of the event
    before. Anything else, malformed input included, goes through decode(). The shortcut
    may read past the end `r` of a record only by moving `a` past `r`, which is checked
    before the value is used."""
    out = []
    append = out.append
    end = len(buf)
    p = 0
    last_t = None
    topic = None
    head = b"\xff"  # matches no payload: no value starts with the tag 255
    name = None
    nargs = 0
    new = object.__new__
    u64 = _U64_AT
    i64 = _I64_AT
    while p < end:
        tl, pl = _RECORD_HEAD(buf, p)
        q = p + 8 + tl
        r = q + pl
        if last_t is None or q - p - 8 != len(last_t) or not buf.startswith(last_t, p + 8):
            last_t = buf[p + 8:q]
            topic = topics.get(last_t)
            if topic is None:
                topic = last_t.decode("utf-8", "surrogateescape")
                if len(topics) < 4096:
                    topics[last_t] = topic
        p = r
        if not buf.startswith(head, q):
            if pl == 9 and buf[q] == COUNT:
                c = new(Count)
                c.value = u64(buf, q + 1)[0]
                append((topic, c))
                continue
            if not buf.startswith(_EVENT_HEAD, q):
                append((topic, decode(buf[q:r], immutable)))
                continue
            got = _event_head(buf, q, r)
            if got is None:
                append((topic, decode(buf[q:r], immutable)))
                continue
            head, name, nargs = got
        a = q + len(head)
        args = []
        try:
            for _ in range(nargs):
                tag = buf[a]
                if tag == COUNT:
                    c = new(Count)
                    c.value = u64(buf, a + 1)[0]
                    args.append(c)
                    a += 9
                elif tag == INTEGER:
                    args.append(i64(buf, a + 1)[0])
                    a += 9
                else:
                    v, a = _value(buf, a, immutable, 3, False)
                    args.append(v)
        except (IndexError, struct.error, _Truncated, _BadByte, _TooDeep, RecursionError):
            a = -1
        if a != r:
            append((topic, decode(buf[q:r], immutable)))  # says what is wrong
            continue
        append((topic, (_ONE, _ONE, (name, tuple(args)))))
    return out


def decode(buf, immutable=False, exact=False):
    """The Python value of exactly one bin-v1 value; trailing bytes are an error. With
    `exact`, timestamps and timespans come as brook.Timestamp and brook.Timespan, which keep
    nanoseconds (datetime and timedelta stop at microseconds)."""
    try:
        if buf.startswith(_EVENT_HEAD):
            v = _event(buf, immutable, exact)
            if v is not None:
                return v
            content, p = _value(buf, 20, immutable, 1, exact)
            v = (_ONE, _ONE, content)
        else:
            v, p = _value(buf, 0, immutable, 0, exact)
    except (IndexError, struct.error, _Truncated) as e:
        what = e.args[0] if isinstance(e, _Truncated) else "value"
        raise _errors.DecodeError(
            _errors.Status.DECODE_ERROR, f"bin v1: truncated {what} in {len(buf)} bytes"
        ) from None
    except _BadByte as e:
        raise _errors.DecodeError(
            _errors.Status.DECODE_ERROR, f"bin v1: {e.what} at offset {e.pos}"
        ) from None
    except (_TooDeep, RecursionError):
        raise _errors.DecodeError(
            _errors.Status.DECODE_ERROR, f"bin v1: nesting deeper than {MAX_DEPTH}"
        ) from None
    if p != len(buf):
        raise _errors.DecodeError(
            _errors.Status.DECODE_ERROR,
            f"bin v1: {len(buf) - p} trailing bytes after the value at offset {p}",
        )
    return v


def type_of(buf):
    """The type tag of an encoded value."""
    return buf[0]
