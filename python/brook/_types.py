"""Broker's value types that Python has no type for: Count, Enum, Port, Address, Subnet,
Timespan, Timestamp, and the container classes Set, Table and Vector.

Plain Python values map to Broker types as in Broker's bindings: int is an integer, float a
real, str a string, and so on (see brook.Data). These classes cover the rest.
"""

import datetime
import enum
import functools
import ipaddress
import time

from . import _errors

__all__ = [
    "Count",
    "Enum",
    "Port",
    "Address",
    "Subnet",
    "Timespan",
    "Timestamp",
    "Set",
    "Table",
    "Vector",
    "utc",
    "now",
]

utc = datetime.timezone.utc

_U64 = 1 << 64


def _invalid(message):
    return _errors.InvalidArgument(_errors.Status.INVALID_ARGUMENT, message)


@functools.total_ordering
class Count:
    """A Broker count: an unsigned 64-bit number (a Python int is an integer)."""

    __slots__ = ("value",)

    def __init__(self, value=0):
        if isinstance(value, Count):
            value = value.value
        if isinstance(value, bool) or not isinstance(value, int):
            try:
                value = value.__index__()
            except AttributeError:
                raise _errors.TypeMismatch(
                    _errors.Status.TYPE_MISMATCH,
                    f"a count is made from an int, not {type(value).__name__}",
                ) from None
        if not 0 <= value < _U64:
            raise _invalid(f"a count is between 0 and 2**64 - 1, not {value}")
        self.value = value

    def __eq__(self, other):
        if isinstance(other, Count):
            return self.value == other.value
        return NotImplemented

    def __lt__(self, other):
        if isinstance(other, Count):
            return self.value < other.value
        return NotImplemented

    def __hash__(self):
        return hash((Count, self.value))

    def __int__(self):
        return self.value

    __index__ = __int__

    def __str__(self):
        return str(self.value)

    def __repr__(self):
        return f"Count({self.value})"


def _count(value):
    """A Count from a value known to be in range, without the checks (for the decoder)."""
    c = object.__new__(Count)
    c.value = value
    return c


@functools.total_ordering
class Enum:
    """A Broker enum value, such as ``Enum("Conn::LOG")``: its name only."""

    __slots__ = ("name",)

    def __init__(self, name):
        if isinstance(name, Enum):
            name = name.name
        if not isinstance(name, str):
            raise _errors.TypeMismatch(
                _errors.Status.TYPE_MISMATCH, "an enum value's name is a str"
            )
        self.name = name

    def __eq__(self, other):
        if isinstance(other, Enum):
            return self.name == other.name
        return NotImplemented

    def __lt__(self, other):
        if isinstance(other, Enum):
            return self.name.encode() < other.name.encode()
        return NotImplemented

    def __hash__(self):
        return hash((Enum, self.name))

    def __str__(self):
        return self.name

    def __repr__(self):
        return f"Enum({self.name!r})"


class _Protocol(enum.IntEnum):
    """A port's transport protocol, with Broker's numbers."""

    Unknown = 0
    TCP = 1
    UDP = 2
    ICMP = 3


_PROTOCOL_TEXT = {0: "?", 1: "tcp", 2: "udp", 3: "icmp"}


@functools.total_ordering
class Port:
    """A transport-layer port such as ``Port(80, Port.TCP)``, shown as ``80/tcp``."""

    __slots__ = ("_number", "_protocol")

    Protocol = _Protocol
    Unknown = _Protocol.Unknown
    TCP = _Protocol.TCP
    UDP = _Protocol.UDP
    ICMP = _Protocol.ICMP

    def __init__(self, number=0, protocol=_Protocol.Unknown):
        if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= 65535:
            raise _invalid(f"a port number is an int from 0 to 65535, not {number!r}")
        try:
            protocol = _Protocol(protocol)
        except ValueError:
            raise _invalid(f"unknown port protocol {protocol!r}") from None
        self._number = number
        self._protocol = protocol

    def number(self):
        return self._number

    def get_type(self):
        return self._protocol

    def _key(self):
        return (self._number, int(self._protocol))

    def __eq__(self, other):
        if isinstance(other, Port):
            return self._key() == other._key()
        return NotImplemented

    def __lt__(self, other):
        if isinstance(other, Port):
            return self._key() < other._key()
        return NotImplemented

    def __hash__(self):
        return hash((Port, self._key()))

    def __str__(self):
        return f"{self._number}/{_PROTOCOL_TEXT[int(self._protocol)]}"

    def __repr__(self):
        return f"Port({self._number}, Port.{self._protocol.name})"


def _ip(value, family=None):
    """An ipaddress object from an Address, ipaddress object, text or packed bytes."""
    if isinstance(value, Address):
        return value._ip
    if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return value
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value)
        if family == 4 and len(value) == 16:
            value = value[-4:]
        if len(value) == 4:
            return ipaddress.IPv4Address(value)
        if len(value) == 16:
            ip = ipaddress.IPv6Address(value)
            return ip.ipv4_mapped or ip
        raise _invalid(f"an address has 4 or 16 bytes, not {len(value)}")
    if isinstance(value, str):
        try:
            ip = ipaddress.ip_address(value)
        except ValueError as e:
            raise _invalid(str(e)) from None
        return ip.ipv4_mapped or ip if ip.version == 6 else ip
    raise _errors.TypeMismatch(
        _errors.Status.TYPE_MISMATCH, f"not an address: {type(value).__name__}"
    )


@functools.total_ordering
class Address:
    """A Broker address. Broker keeps IPv4 addresses v4-mapped in IPv6, and so does brook:
    ``Address("::ffff:10.0.0.1")`` is the IPv4 address ``10.0.0.1``. Plain
    ``ipaddress.IPv4Address``/``IPv6Address`` values convert too, and come back as such.

    ``Address(packed_bytes, family)`` takes 4 or 16 bytes in network order, as Broker's
    binding does; text and ipaddress objects work too.
    """

    __slots__ = ("_ip",)

    class Family(enum.IntEnum):
        """Broker's address families (as its binding names them)."""

        IPv4 = 0
        IPv6 = 1

    class ByteOrder(enum.IntEnum):
        """Broker's byte orders (as its binding names them)."""

        Host = 0
        Network = 1

    def __init__(self, value="::", family=None):
        ip = _ip(value, family)
        if ip.version == 6 and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        self._ip = ip

    def is_v4(self):
        return self._ip.version == 4

    def is_v6(self):
        return self._ip.version == 6

    def bytes(self):
        """The 16 bytes of the address, IPv4 v4-mapped."""
        if self._ip.version == 4:
            return b"\0" * 10 + b"\xff\xff" + self._ip.packed
        return self._ip.packed

    def to_ipaddress(self):
        return self._ip

    def mask(self, top_bits_to_keep):
        """Keeps the top `top_bits_to_keep` bits of the 128-bit form (IPv4 v4-mapped) and
        clears the rest, as Broker's ``address::mask``; False (unchanged) above 128."""
        if isinstance(top_bits_to_keep, bool) or not isinstance(top_bits_to_keep, int):
            raise TypeError("mask() takes the number of bits to keep, an int")
        if not 0 <= top_bits_to_keep <= 128:
            return False
        bits = int.from_bytes(self.bytes(), "big")
        keep = ((1 << top_bits_to_keep) - 1) << (128 - top_bits_to_keep)
        ip = ipaddress.IPv6Address((bits & keep).to_bytes(16, "big"))
        self._ip = ip.ipv4_mapped or ip
        return True

    def __eq__(self, other):
        if isinstance(other, Address):
            return self.bytes() == other.bytes()
        return NotImplemented

    def __lt__(self, other):
        if isinstance(other, Address):
            return self.bytes() < other.bytes()
        return NotImplemented

    def __hash__(self):
        return hash((Address, self.bytes()))

    def __str__(self):
        return str(self._ip)

    def __repr__(self):
        return f"Address({str(self._ip)!r})"


@functools.total_ordering
class Subnet:
    """A Broker subnet: ``Subnet(Address("10.0.0.0"), 8)`` or ``Subnet("10.0.0.0/8")``. The
    address is masked to the prefix, as Broker does. ``ipaddress.IPv4Network`` and
    ``IPv6Network`` values convert too, and come back as such."""

    __slots__ = ("_net",)

    def __init__(self, address="::", length=None):
        if isinstance(address, Subnet):
            self._net = address._net
            return
        if isinstance(address, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
            net = address
        elif isinstance(address, str) and "/" in address:
            try:
                net = ipaddress.ip_network(address, strict=False)
            except ValueError as e:
                raise _invalid(str(e)) from None
        else:
            ip = _ip(address)
            if length is None:
                length = ip.max_prefixlen
            if isinstance(length, bool) or not isinstance(length, int):
                raise _invalid(f"a prefix length is an int, not {length!r}")
            if not 0 <= length <= ip.max_prefixlen:
                raise _invalid(
                    f"prefix length {length} is beyond {ip.max_prefixlen} for {ip}"
                )
            net = ipaddress.ip_network((ip, length), strict=False)
        if net.version == 6 and net.network_address.ipv4_mapped and net.prefixlen >= 96:
            net = ipaddress.IPv4Network(
                (net.network_address.ipv4_mapped, net.prefixlen - 96), strict=False
            )
        self._net = net

    def network(self):
        return Address(self._net.network_address)

    def length(self):
        return self._net.prefixlen

    def contains(self, addr):
        ip = _ip(addr)
        if ip.version != self._net.version:
            return False
        return ip in self._net

    def to_ipaddress(self):
        return self._net

    def _key(self):
        return (Address(self._net.network_address).bytes(), self._raw_len())

    def _raw_len(self):
        return self._net.prefixlen + (96 if self._net.version == 4 else 0)

    def __eq__(self, other):
        if isinstance(other, Subnet):
            return self._key() == other._key()
        return NotImplemented

    def __lt__(self, other):
        if isinstance(other, Subnet):
            return self._key() < other._key()
        return NotImplemented

    def __hash__(self):
        return hash((Subnet, self._key()))

    def __str__(self):
        return str(self._net)

    def __repr__(self):
        return f"Subnet({str(self._net)!r})"


_I64_MIN, _I64_MAX = -(1 << 63), (1 << 63) - 1


def _ns_from_seconds(secs):
    return int(round(secs * 1e9))


def _check_i64(ns, what):
    if not _I64_MIN <= ns <= _I64_MAX:
        raise _invalid(f"{what} of {ns} ns does not fit in 64 bits")
    return ns


def timedelta_ns(td):
    """A timedelta in nanoseconds, exactly."""
    return ((td.days * 86400 + td.seconds) * 1_000_000 + td.microseconds) * 1000


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=utc)


def datetime_ns(dt):
    """Nanoseconds since the epoch for a datetime; a naive one is local time, as in
    ``datetime.timestamp()``."""
    if dt.tzinfo is None:
        dt = dt.astimezone()  # local time, as datetime.timestamp() takes it
    return timedelta_ns(dt - _EPOCH)


def ns_timedelta(ns):
    """A timedelta from nanoseconds, rounded to microseconds (half to even)."""
    q, r = divmod(ns, 1000)
    if r > 500 or (r == 500 and q & 1):
        q += 1
    return datetime.timedelta(microseconds=q)


def ns_datetime(ns):
    """An aware UTC datetime from nanoseconds since the epoch, rounded to microseconds
    (half to even). Every 64-bit count of nanoseconds (years 1677 to 2262) fits."""
    return _EPOCH + ns_timedelta(ns)


@functools.total_ordering
class Timespan:
    """A Broker timespan in nanoseconds. ``Timespan(1500)`` is 1500 ns (an int counts
    nanoseconds), ``Timespan(1.5)`` is 1.5 s (a float counts seconds), and a
    ``datetime.timedelta`` converts exactly. Plain timedelta values convert too."""

    __slots__ = ("_ns",)

    def __init__(self, value=0):
        if isinstance(value, Timespan):
            ns = value._ns
        elif isinstance(value, datetime.timedelta):
            ns = timedelta_ns(value)
        elif isinstance(value, bool):
            raise _invalid("a timespan is not a bool")
        elif isinstance(value, int):
            ns = value
        elif isinstance(value, float):
            ns = _ns_from_seconds(value)
        else:
            raise _errors.TypeMismatch(
                _errors.Status.TYPE_MISMATCH,
                f"a timespan is made from an int (ns), float (s) or timedelta, not "
                f"{type(value).__name__}",
            )
        self._ns = _check_i64(ns, "a timespan")

    @classmethod
    def _from_ns(cls, ns):
        t = object.__new__(cls)
        t._ns = ns
        return t

    def count(self):
        """The timespan in nanoseconds."""
        return self._ns

    def total_seconds(self):
        return self._ns / 1e9

    def to_timedelta(self):
        return ns_timedelta(self._ns)

    def __add__(self, other):
        if isinstance(other, Timespan):
            return Timespan(self._ns + other._ns)
        return NotImplemented

    def __sub__(self, other):
        if isinstance(other, Timespan):
            return Timespan(self._ns - other._ns)
        return NotImplemented

    def __mul__(self, other):
        if isinstance(other, int) and not isinstance(other, bool):
            return Timespan(self._ns * other)
        return NotImplemented

    __rmul__ = __mul__

    def __truediv__(self, other):
        if isinstance(other, Timespan):
            return self._ns / other._ns
        if isinstance(other, int) and not isinstance(other, bool):
            return Timespan(int(self._ns / other))
        return NotImplemented

    def __mod__(self, other):
        if isinstance(other, Timespan):
            return Timespan(self._ns % other._ns)
        if isinstance(other, int) and not isinstance(other, bool):
            return Timespan(self._ns % other)
        return NotImplemented

    def __eq__(self, other):
        if isinstance(other, Timespan):
            return self._ns == other._ns
        return NotImplemented

    def __lt__(self, other):
        if isinstance(other, Timespan):
            return self._ns < other._ns
        return NotImplemented

    def __hash__(self):
        return hash((Timespan, self._ns))

    def __str__(self):
        return f"{self._ns}ns"

    def __repr__(self):
        return f"Timespan({self._ns})"


@functools.total_ordering
class Timestamp:
    """A Broker timestamp: nanoseconds since the Unix epoch. ``Timestamp(1.5)`` is 1.5 s
    after the epoch (a number counts seconds, as in Broker's binding),
    ``Timestamp(Timespan(n))`` is n ns after it, and a ``datetime`` converts (a naive one is
    local time). Plain datetime values convert too."""

    __slots__ = ("_ns",)

    def __init__(self, value=0.0):
        if isinstance(value, Timestamp):
            ns = value._ns
        elif isinstance(value, Timespan):
            ns = value._ns
        elif isinstance(value, datetime.datetime):
            ns = datetime_ns(value)
        elif isinstance(value, bool):
            raise _invalid("a timestamp is not a bool")
        elif isinstance(value, int):
            ns = value * 1_000_000_000
        elif isinstance(value, float):
            ns = _ns_from_seconds(value)
        else:
            raise _errors.TypeMismatch(
                _errors.Status.TYPE_MISMATCH,
                f"a timestamp is made from seconds, a Timespan or a datetime, not "
                f"{type(value).__name__}",
            )
        self._ns = _check_i64(ns, "a timestamp")

    @classmethod
    def from_ns(cls, ns):
        """The timestamp `ns` nanoseconds after the epoch."""
        return cls(Timespan(ns))

    def time_since_epoch(self):
        return Timespan._from_ns(self._ns)

    def to_datetime(self):
        return ns_datetime(self._ns)

    def __eq__(self, other):
        if isinstance(other, Timestamp):
            return self._ns == other._ns
        return NotImplemented

    def __lt__(self, other):
        if isinstance(other, Timestamp):
            return self._ns < other._ns
        return NotImplemented

    def __hash__(self):
        return hash((Timestamp, self._ns))

    def __str__(self):
        return f"{self._ns}ns"

    def __repr__(self):
        return f"Timestamp.from_ns({self._ns})"


def now():
    """The current wall-clock time as a Timestamp."""
    return Timestamp.from_ns(time.time_ns())


class Set(set):
    """A Broker set (a Python set or frozenset converts too). Iterates in Broker's order
    when its elements can be ordered (those of ``Data.as_set()`` always can), and prints as
    Broker's binding does: ``Set{1, 2, 3}``."""

    def __iter__(self):
        items = list(set.__iter__(self))
        try:
            items.sort()
        except TypeError:  # plain Python values of different types
            pass
        return iter(items)

    def __repr__(self):
        return "Set{" + ", ".join(str(x) for x in self) + "}"

    __str__ = __repr__


class Table(dict):
    """A Broker table (a Python dict or other mapping converts too); prints as Broker's
    binding does: ``Table{a: 1, b: 2}``."""

    def __repr__(self):
        return "Table{" + ", ".join(f"{k}: {v}" for k, v in self.items()) + "}"

    __str__ = __repr__


class Vector(list):
    """A Broker vector (a Python list or tuple converts too); prints as Broker's binding
    does: ``Vector[1, 2, 3]``."""

    def __repr__(self):
        return "Vector[" + ", ".join(str(x) for x in self) + "]"

    __str__ = __repr__
