"""brook.Data: one Broker value, kept in Broker's binary format, with Broker's Python API
(``Data(x)``, ``Data.to_py``, ``get_type``, ``as_*``, ``str``)."""

import contextlib
import ctypes
import enum
import functools

from . import _codec, _errors, _ffi
from ._errors import check
from ._types import Address, Set, Subnet, Table, Vector

_lib = _ffi.lib


class DataType(enum.IntEnum):
    """The type of a value, with Broker's numbers and the names of Broker's binding."""

    Nil = 0
    Boolean = 1
    Count = 2
    Integer = 3
    Real = 4
    String = 5
    Address = 6
    Subnet = 7
    Port = 8
    Timestamp = 9
    Timespan = 10
    EnumValue = 11
    Set = 12
    Table = 13
    Vector = 14


# Broker's binding also calls none `None`, which Python's syntax allows only through getattr.
setattr(DataType, "None", DataType.Nil)


@contextlib.contextmanager
def c_data(encoded):
    """A brook_data made from bin-v1 bytes (checked by brook), freed on leaving."""
    d = ctypes.c_void_p()
    check(_lib.brook_data_from_bytes(encoded, len(encoded), ctypes.byref(d)))
    try:
        yield d
    finally:
        _lib.brook_data_free(d)


def c_data_new(encoded):
    """A brook_data made from bin-v1 bytes; the caller frees it with brook_data_free."""
    d = ctypes.c_void_p()
    check(_lib.brook_data_from_bytes(encoded, len(encoded), ctypes.byref(d)))
    return d


def bytes_of(d):
    """The bin-v1 bytes of a brook_data (borrowed or owned; it is only read)."""
    buf = ctypes.c_void_p()
    n = ctypes.c_size_t()
    check(_lib.brook_data_to_bytes(d, ctypes.byref(buf), ctypes.byref(n)))
    try:
        return ctypes.string_at(buf, n.value)
    finally:
        _lib.brook_bytes_free(buf, n.value)


def _take_string(ptr, n=None):
    """Copies and frees a string brook allocated."""
    try:
        return ctypes.string_at(ptr, n) if n is not None else ctypes.string_at(ptr)
    finally:
        _lib.brook_string_free(ptr)


def encode(x):
    """The bin-v1 bytes of a Python value or Data."""
    if type(x) is Data or type(x) is RawData:
        return x._b
    return _codec.encode(x)


@functools.total_ordering
class RawData:
    """One Broker value as Broker's binding hands out container elements (its internal
    ``_broker.Data``): what ``as_set()``, ``as_table()`` and ``as_vector()`` hold. It has
    Data's accessors, ``str``, equality and ordering, and ``Data(x)`` and ``Data.to_py(x)``
    take it, but it is not a ``Data`` (Broker's own tests check that)."""

    __slots__ = ("_b",)

    Type = DataType

    @classmethod
    def _from_bytes_unchecked(cls, b):
        d = object.__new__(cls)
        d._b = b
        return d

    def to_bytes(self):
        """The value in Broker's binary format v1."""
        return self._b

    def _brook_bytes(self):
        return self._b

    def get_type(self):
        return DataType(self._b[0])

    def __str__(self):
        out = ctypes.c_void_p()
        n = ctypes.c_size_t()
        with c_data(self._b) as d:
            check(_lib.brook_data_to_string(d, ctypes.byref(out), ctypes.byref(n)))
        return _take_string(out, n.value).decode("utf-8", "replace")

    def __repr__(self):
        return f"Data({self.get_type().name}: {self})"

    def _compare(self, other):
        order = ctypes.c_int()
        with c_data(self._b) as a, c_data(other._b) as b:
            check(_lib.brook_data_compare(a, b, ctypes.byref(order)))
        return order.value

    def __eq__(self, other):
        if not isinstance(other, RawData):
            return NotImplemented
        return self._b == other._b or self._compare(other) == 0

    def __lt__(self, other):
        if not isinstance(other, RawData):
            return NotImplemented
        return self._compare(other) < 0

    def __hash__(self):
        # Equal values may differ in their bytes only where reals are (0.0 and -0.0, two
        # NaNs), never in their type and length; other scalars are equal iff their bytes are.
        t = self._b[0]
        if t == _codec.REAL or t >= _codec.SET:
            return hash((t, len(self._b)))
        return hash(self._b)

    def _expect(self, t):
        if self._b[0] != t:
            raise _errors.TypeMismatch(
                _errors.Status.TYPE_MISMATCH,
                f"{DataType(self._b[0]).name} is not {DataType(t).name}",
            )

    def _scalar(self, t):
        self._expect(t)
        return _codec.decode(self._b)

    # Broker's accessors.
    def as_none(self):
        return self._scalar(_codec.NONE)

    def as_boolean(self):
        return self._scalar(_codec.BOOLEAN)

    def as_count(self):
        return self._scalar(_codec.COUNT).value

    def as_integer(self):
        return self._scalar(_codec.INTEGER)

    def as_real(self):
        return self._scalar(_codec.REAL)

    def as_string(self):
        """The string's bytes, as Broker's binding gives them."""
        self._expect(_codec.STRING)
        dec = _codec.Decoder(self._b, 1)
        n = dec._varbyte()
        return dec._take(n, "string")

    def as_address(self):
        return Address(self._scalar(_codec.ADDRESS))

    def as_subnet(self):
        return Subnet(self._scalar(_codec.SUBNET))

    def as_port(self):
        return self._scalar(_codec.PORT)

    def as_timestamp(self):
        """Seconds since the epoch, as a float (as Broker's binding gives it)."""
        self._expect(_codec.TIMESTAMP)
        return _codec._I64.unpack_from(self._b, 1)[0] / 1e9

    def as_timespan(self):
        """Seconds, as a float (as Broker's binding gives it)."""
        self._expect(_codec.TIMESPAN)
        return _codec._I64.unpack_from(self._b, 1)[0] / 1e9

    def as_enum_value(self):
        return self._scalar(_codec.ENUM)

    def _elements(self, t):
        self._expect(t)
        _, ranges = _codec.Decoder(self._b).elements()
        return [RawData._from_bytes_unchecked(self._b[a:b]) for a, b in ranges]

    def as_set(self):
        return Set(self._elements(_codec.SET))

    def as_table(self):
        e = self._elements(_codec.TABLE)
        return Table(zip(e[0::2], e[1::2]))

    def as_vector(self):
        return Vector(self._elements(_codec.VECTOR))


class Data(RawData):
    """A Broker value. ``Data(x)`` converts a Python value as Broker's binding does:

    ====================================  =======================================
    Python                                Broker
    ====================================  =======================================
    None                                  none
    bool                                  boolean
    brook.Count                           count
    int                                   integer
    float                                 real
    str, bytes                            string (back: str if UTF-8, else bytes)
    ipaddress.IPv4Address/IPv6Address     address
    ipaddress.IPv4Network/IPv6Network     subnet
    brook.Port                            port
    datetime.datetime                     timestamp (back: aware, UTC)
    datetime.timedelta                    timespan
    brook.Enum                            enum value
    set, frozenset                        set
    dict, other mappings                  table
    tuple, list                           vector (back: tuple)
    ====================================  =======================================

    ``Data.to_py(d)`` converts back. Set elements and table keys come back hashable
    (frozenset, a read-only dict, tuple), so every Broker value has a Python form.
    """

    __slots__ = ()

    Type = DataType

    def __init__(self, x=None):
        if isinstance(x, RawData):
            self._b = x._b
            return
        b = _codec.encode(x)
        with c_data(b):  # brook checks what Python made: duplicates, depth
            pass
        self._b = b

    @staticmethod
    def from_py(x):
        return Data(x)

    @staticmethod
    def to_py(d, exact=False):
        """The Python value of a Data (a Python value passes through Data first). With
        `exact`, timestamps and timespans come as brook.Timestamp and brook.Timespan, which
        keep nanoseconds, instead of datetime and timedelta."""
        if not isinstance(d, RawData):
            d = Data(d)
        return _codec.decode(d._b, exact=exact)

    @classmethod
    def from_bytes(cls, b):
        """A value from its bytes in Broker's binary format v1."""
        b = bytes(b)
        with c_data(b) as d:
            return cls._from_bytes_unchecked(bytes_of(d))

    @classmethod
    def from_json(cls, text):
        """A value from the JSON of Broker's WebSocket API, ``{"@data-type": ..., "data": ...}``."""
        if isinstance(text, str):
            text = text.encode("utf-8")
        d = ctypes.c_void_p()
        check(_lib.brook_data_from_json(_c_text(text), ctypes.byref(d)))
        try:
            return cls._from_bytes_unchecked(bytes_of(d))
        finally:
            _lib.brook_data_free(d)

    def to_json(self):
        """The value as JSON of Broker's WebSocket API."""
        out = ctypes.c_void_p()
        with c_data(self._b) as d:
            check(_lib.brook_data_to_json(d, ctypes.byref(out)))
        return _take_string(out).decode("utf-8")

    @classmethod
    def from_text(cls, text):
        """A value from brook's reading of Broker's text form (``{1, 2}``, ``80/tcp``...)."""
        d = ctypes.c_void_p()
        check(_lib.brook_data_from_text(_c_text(text.encode("utf-8")), ctypes.byref(d)))
        try:
            return cls._from_bytes_unchecked(bytes_of(d))
        finally:
            _lib.brook_data_free(d)



class ImmutableData(Data):
    """Like Data, but ``to_py`` gives immutable containers throughout: frozensets,
    read-only hashable dicts and tuples."""

    __slots__ = ()

    # Broker's name for the read-only, hashable dict that tables come back as.
    HashableReadOnlyDict = _codec.HashableDict

    @staticmethod
    def to_py(d, exact=False):
        if not isinstance(d, RawData):
            d = Data(d)
        return _codec.decode(d._b, immutable=True, exact=exact)


def _c_text(b):
    """Text for a `const char *` argument: NUL-terminated, so no NUL inside."""
    if b"\0" in b:
        raise _errors.InvalidArgument(
            _errors.Status.INVALID_ARGUMENT, "text passed to brook must not contain NUL"
        )
    return b


def c_str(s, what="text"):
    """A str (or bytes) as NUL-free UTF-8 bytes for a `const char *` argument."""
    if isinstance(s, str):
        try:
            s = s.encode("utf-8")
        except UnicodeEncodeError as e:
            raise _errors.InvalidArgument(
                _errors.Status.INVALID_ARGUMENT, f"{what} is not encodable as UTF-8: {e}"
            ) from None
    elif not isinstance(s, (bytes, bytearray)):
        raise _errors.TypeMismatch(
            _errors.Status.TYPE_MISMATCH, f"{what} must be a str, not {type(s).__name__}"
        )
    s = bytes(s)
    if b"\0" in s:
        raise _errors.InvalidArgument(
            _errors.Status.INVALID_ARGUMENT, f"{what} must not contain NUL"
        )
    return s


__all__ = ["Data", "ImmutableData", "DataType", "c_data", "c_data_new", "bytes_of", "c_str"]
