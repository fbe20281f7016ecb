"""Zeek's messages over Broker, as in Broker's ``broker.zeek`` module, plus the message
types that module leaves out.

Every Zeek message travels as one value, ``(1, type, content)``: an Event is
``(1, 1, (name, (args...), [metadata]))``. ``Event("ping", 1, "x")`` makes one to publish;
``Event(value)`` reads one from a received message's value (its shape is checked when you
ask for its parts, or by ``valid()``). LogCreate (2), LogWrite (3), IdentifierUpdate (4)
and Batch (5) work the same way, and ``message(value)`` picks the class from the type.
"""

import datetime

from . import _codec, _errors
from ._data import Data, DataType, ImmutableData, RawData
from ._types import Count, Enum, Timestamp, ns_datetime

__all__ = [
    "Message",
    "Event",
    "SafeEvent",
    "LogCreate",
    "LogWrite",
    "IdentifierUpdate",
    "Batch",
    "LogStream",
    "LogRecord",
    "MetadataType",
    "message",
]

_FORMAT_VERSION = Count(1)
_EVENT = Count(1)
_ONE = _codec._ONE  # what the decoder puts in the first two fields of an event


class MetadataType:
    """Well-known keys of event metadata (Zeek's numbering)."""

    NetworkTimestamp = Count(1)
    UserMetadataStart = Count(200)


def _is_timestamp(v):
    return isinstance(v, (datetime.datetime, Timestamp)) or (
        isinstance(v, RawData) and v.get_type() == DataType.Timestamp
    )


def _mismatch(message):
    return _errors.TypeMismatch(_errors.Status.TYPE_MISMATCH, message)


class Message:
    """What every Zeek message has, as Broker's ``broker.zeek.Message``: ``as_data()``,
    ``valid()``, and its type number in ``TYPE``."""

    __slots__ = ()
    TYPE = 0

    def valid(self):
        raise NotImplementedError

    def as_data(self):
        """The message as the value Zeek sends."""
        return Data(self)


class Event(Message):
    """A Zeek event: ``Event(name, *args, metadata=None)``, or ``Event(value)`` for the value
    of a received message. ``metadata`` is a list of ``(key, value)`` pairs or a dict; keys
    become counts, and key 1 (MetadataType.NetworkTimestamp) is the network time, a
    datetime or Timestamp."""

    __slots__ = ("_name", "_args", "_metadata", "_raw", "_error")
    TYPE = 1

    def __init__(self, *args, metadata=None):
        self._raw = None
        self._error = None
        if len(args) == 1 and not isinstance(args[0], str):
            self._parse(args[0])
            return
        if not args:
            raise TypeError("Event() needs a name, or a received value")
        name = args[0]
        if not isinstance(name, str):
            raise _mismatch("an event name is a str")
        self._name = name
        self._args = list(args[1:])
        self._metadata = None
        if metadata is not None:
            items = metadata.items() if hasattr(metadata, "items") else metadata
            meta = []
            for entry in items:
                k, v = entry
                meta.append((k if isinstance(k, Count) else Count(k), v))
            self._metadata = meta
            # Broker's valid(): the network timestamp, if present, must be a timestamp.
            for k, v in meta:
                if k == MetadataType.NetworkTimestamp and not _is_timestamp(v):
                    self._error = _mismatch("the network timestamp must be a timestamp")

    def _parse(self, value):
        if isinstance(value, Event):  # a copy, as Broker's Event(Event) makes
            self._raw, self._error = value._raw, value._error
            self._name, self._args = getattr(value, "_name", None), getattr(value, "_args", None)
            self._metadata = getattr(value, "_metadata", None)
            return
        if isinstance(value, Message) or (
            isinstance(value, RawData) and not isinstance(value, Data)
        ):
            value = Data(value)
        # What a subscriber hands out for an event without metadata, checked in a few steps.
        if type(value) is tuple and len(value) == 3 and value[0] is _ONE and value[1] is _ONE:
            content = value[2]
            if type(content) is tuple and len(content) == 2:
                name, args = content
                if type(name) is str and type(args) is tuple:
                    self._raw = value
                    self._name, self._args, self._metadata = name, list(args), None
                    return
        if isinstance(value, Data):
            value = Data.to_py(value)
        self._raw = value
        try:
            if not isinstance(value, (tuple, list)) or len(value) < 3:
                raise _mismatch("a Zeek message is a vector of 3 elements")
            version, kind, content = value[0], value[1], value[2]
            if version != _FORMAT_VERSION:
                raise _mismatch(f"unsupported Zeek message version {version!r}")
            if not isinstance(kind, Count):
                raise _mismatch("the Zeek message type must be a count")
            if kind != _EVENT:
                raise _mismatch(f"Zeek message of type {kind.value} is not an event")
            if not isinstance(content, (tuple, list)) or len(content) < 2:
                raise _mismatch("an event has a name and arguments")
            name, args = content[0], content[1]
            if not isinstance(name, str):
                raise _mismatch("the event name must be a UTF-8 string")
            if not isinstance(args, (tuple, list)):
                raise _mismatch("the event arguments must be a vector")
            meta = None
            if len(content) > 2:
                meta = []
                if not isinstance(content[2], (tuple, list)):
                    raise _mismatch("event metadata must be a vector")
                for entry in content[2]:
                    if not isinstance(entry, (tuple, list)) or len(entry) != 2:
                        raise _mismatch("event metadata entries must be 2-element vectors")
                    k, v = entry
                    if not isinstance(k, Count):
                        raise _mismatch("event metadata keys must be counts")
                    if k == MetadataType.NetworkTimestamp and not _is_timestamp(v):
                        raise _mismatch("the network timestamp must be a timestamp")
                    meta.append((k, v))
            self._name, self._args, self._metadata = name, list(args), meta
        except _errors.TypeMismatch as e:
            self._error = e

    def valid(self):
        """Whether the value is a well-formed Zeek event."""
        return self._error is None

    def _check(self):
        if self._error is not None:
            raise self._error

    def name(self):
        self._check()
        return self._name

    def args(self):
        """The arguments as Python values."""
        self._check()
        return list(self._args)

    def metadata(self):
        """The metadata as a list of ``(Count, value)`` pairs, or None if it has none (also
        when the event carries an empty metadata vector, as Broker's binding does)."""
        self._check()
        return list(self._metadata) if self._metadata else None

    def network_timestamp(self):
        """The network time from the metadata (a datetime), or None."""
        for k, v in self.metadata() or ():
            if k == MetadataType.NetworkTimestamp:
                if isinstance(v, Timestamp):
                    return ns_datetime(v.time_since_epoch().count())
                return v
        return None

    def _content(self):
        content = [self._name, self._args]
        if self._metadata is not None:
            content.append([list(kv) for kv in self._metadata])
        return (_FORMAT_VERSION, _EVENT, content)

    def _brook_bytes(self):
        self._check()
        if self._raw is not None:
            return _codec.encode(self._raw)
        return _codec.encode(self._content())

    def __eq__(self, other):
        if not isinstance(other, Event):
            return NotImplemented
        if not (self.valid() and other.valid()):
            return self._raw == other._raw
        return (self._name, self._args, self._metadata) == (
            other._name,
            other._args,
            other._metadata,
        )

    __hash__ = None

    def __repr__(self):
        if not self.valid():
            return f"Event(<invalid: {self._error.message}>)"
        args = ", ".join(repr(a) for a in self._args)
        meta = f", metadata={self._metadata!r}" if self._metadata is not None else ""
        return f"Event({self._name!r}{', ' if args else ''}{args}{meta})"


class SafeEvent(Event):
    """Like Event, but arguments come back immutable (frozenset, read-only dict, tuple),
    as from ImmutableData."""

    __slots__ = ()

    def args(self):
        return [ImmutableData.to_py(Data(a)) for a in super().args()]


# --- the other Zeek messages -------------------------------------------------------------


def _is_vector(x):
    return isinstance(x, (tuple, list))


def _outer(value, kind):
    """The content of a Zeek message of type `kind`, or raises TypeMismatch."""
    if isinstance(value, Data):
        value = Data.to_py(value)
    if not _is_vector(value) or len(value) < 3:
        raise _mismatch("a Zeek message is a vector of 3 elements")
    version, t, content = value[0], value[1], value[2]
    if version != _FORMAT_VERSION:
        raise _mismatch(f"unsupported Zeek message version {version!r}")
    if not isinstance(t, Count):
        raise _mismatch("the Zeek message type must be a count")
    if t.value != kind:
        raise _mismatch(f"Zeek message of type {t.value} is not of type {kind}")
    if not _is_vector(content):
        raise _mismatch("the content of a Zeek message must be a vector")
    return content


def _enum(x, what):
    if isinstance(x, Enum):
        return x
    if isinstance(x, str):
        return Enum(x)
    raise _mismatch(f"{what} is an enum value (brook.Enum or str)")


class _Parsed(Message):
    """A message of a fixed layout: built from its fields, or parsed from a received value
    (``Cls(value)``), with the fields checked as Broker's ``valid()`` does."""

    __slots__ = ("_fields", "_error")
    _ARITY = 0

    def __init__(self, *fields):
        self._error = None
        if len(fields) == 1 and self._ARITY != 1:
            try:
                content = _outer(fields[0], self.TYPE)
                if len(content) < self._ARITY:
                    raise _mismatch(
                        f"a {type(self).__name__} has {self._ARITY} fields, not {len(content)}"
                    )
                self._fields = self._check(list(content))
            except _errors.TypeMismatch as e:
                self._fields, self._error = list(fields), e
            return
        if len(fields) != self._ARITY:
            raise TypeError(f"{type(self).__name__}() takes {self._ARITY} fields or a value")
        self._fields = self._check(list(fields))

    def _check(self, fields):
        return fields

    def valid(self):
        """Whether the value is a well-formed message of this type."""
        return self._error is None

    def _get(self, i):
        if self._error is not None:
            raise self._error
        return self._fields[i]

    def _brook_bytes(self):
        if self._error is not None:
            raise self._error
        return _codec.encode((_FORMAT_VERSION, Count(self.TYPE), self._fields))

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return (self._fields, self._error is None) == (other._fields, other._error is None)

    __hash__ = None

    def __repr__(self):
        if self._error is not None:
            return f"{type(self).__name__}(<invalid: {self._error.message}>)"
        return f"{type(self).__name__}({', '.join(repr(f) for f in self._fields)})"


class LogCreate(_Parsed):
    """Zeek opening a log stream: ``LogCreate(stream_id, writer_id, writer_info,
    fields_data)`` or ``LogCreate(value)``. The IDs are enum values such as ``Conn::LOG``
    and ``Log::WRITER_ASCII``; Broker checks only those two."""

    __slots__ = ()
    TYPE = 2
    _ARITY = 4

    def _check(self, f):
        f[0], f[1] = _enum(f[0], "stream_id"), _enum(f[1], "writer_id")
        return f

    def stream_id(self):
        return self._get(0)

    def writer_id(self):
        return self._get(1)

    def writer_info(self):
        return self._get(2)

    def fields_data(self):
        return self._get(3)


class LogWrite(_Parsed):
    """One log write: ``LogWrite(stream_id, writer_id, path, serial_data)`` or
    ``LogWrite(value)``. ``serial_data`` is Zeek's own serialization of the record, opaque
    here (str, or bytes when it is not UTF-8)."""

    __slots__ = ()
    TYPE = 3
    _ARITY = 4

    def _check(self, f):
        f[0], f[1] = _enum(f[0], "stream_id"), _enum(f[1], "writer_id")
        if not isinstance(f[2], str):
            raise _mismatch("the path of a log write is a string")
        if not isinstance(f[3], (str, bytes)):
            raise _mismatch("the serial data of a log write is a string")
        return f

    def stream_id(self):
        return self._get(0)

    def writer_id(self):
        return self._get(1)

    def path(self):
        return self._get(2)

    def serial_data(self):
        return self._get(3)


class IdentifierUpdate(_Parsed):
    """A new value for a Zeek global (``Broker::publish_id``): ``IdentifierUpdate(id_name,
    id_value)`` or ``IdentifierUpdate(value)``."""

    __slots__ = ()
    TYPE = 4
    _ARITY = 2

    def _check(self, f):
        if not isinstance(f[0], str):
            raise _mismatch("the name of an identifier is a string")
        return f

    def id_name(self):
        return self._get(0)

    def id_value(self):
        return self._get(1)


class Batch(Message):
    """Zeek messages sent as one: ``Batch(msg, ...)`` of Message objects, or
    ``Batch(value)``. Valid only if every message in it is; ``messages()`` gives them as
    Message objects (nested batches included), in order."""

    __slots__ = ("_messages", "_raw", "_error")
    TYPE = 5

    def __init__(self, *messages):
        self._raw, self._error = None, None
        if len(messages) == 1 and not isinstance(messages[0], Message):
            self._raw = messages[0]
            try:
                content = _outer(messages[0], self.TYPE)
                self._messages = [message(m) for m in content]
                bad = next((m for m in self._messages if not m.valid()), None)
                if bad is not None:
                    raise _mismatch(f"a batch holds an invalid message: {bad!r}")
            except _errors.TypeMismatch as e:
                self._messages, self._error = [], e
            return
        for m in messages:
            if not isinstance(m, Message):
                raise _mismatch("a batch holds Zeek messages (brook.zeek.Message objects)")
        self._messages = list(messages)

    def valid(self):
        """Whether the value is a well-formed batch of well-formed messages."""
        return self._error is None

    def messages(self):
        if self._error is not None:
            raise self._error
        return list(self._messages)

    def _brook_bytes(self):
        if self._error is not None:
            raise self._error
        if self._raw is not None:
            return _codec.encode(self._raw)
        return _codec.encode((_FORMAT_VERSION, Count(self.TYPE), self._messages))

    def __eq__(self, other):
        if not isinstance(other, Batch):
            return NotImplemented
        return (self._messages, self._error is None) == (other._messages, other._error is None)

    __hash__ = None

    def __repr__(self):
        if self._error is not None:
            return f"Batch(<invalid: {self._error.message}>)"
        return f"Batch({', '.join(repr(m) for m in self._messages)})"


_TYPES = {1: Event, 2: LogCreate, 3: LogWrite, 4: IdentifierUpdate, 5: Batch}


def message(value):
    """The Zeek message in a received value, as an object of the class its type names
    (Event, LogCreate, LogWrite, IdentifierUpdate or Batch); check it with ``valid()``.
    Raises TypeMismatch (a TypeError) if the value is no Zeek message of a known type."""
    if isinstance(value, Message):
        return value
    if isinstance(value, Data):
        value = Data.to_py(value)
    t = value[1] if _is_vector(value) and len(value) >= 3 else None
    cls = _TYPES.get(t.value) if isinstance(t, Count) else None
    if cls is None:
        raise _mismatch(f"not a Zeek message of a known type: {value!r:.80}")
    return cls(value)


# --- Log records ------------------------------------------------------------------------


class LogRecord:
    """One log line: ``stream_id`` (the stream's enum name, a str), ``path``, ``fields`` (a dict from field name to value,
    in the stream's order: None for an unset ``&optional`` field, ``datetime`` for a time,
    ``timedelta`` for an interval, ``set`` for a set, ``tuple``/list for a vector), ``types``
    (field name to Zeek type name, such as ``set[string]``) and ``text`` (field name to the
    bytes Zeek's ASCII writer writes for it in a TSV log)."""

    __slots__ = ("stream_id", "path", "fields", "types", "text")

    def __init__(self, stream_id, path, fields, types, text):
        self.stream_id, self.path = stream_id, path
        self.fields, self.types, self.text = fields, types, text

    def __getitem__(self, name):
        return self.fields[name]

    def __repr__(self):
        return f"LogRecord({self.stream_id}, {self.path!r}, {self.fields!r})"


class LogStream:
    """A log stream as its :class:`LogCreate` announced it: ``LogStream(create)``.

    ``records(msg)`` reads the records in a :class:`LogWrite` or a :class:`Batch` (nested
    batches too; messages of other streams are skipped) and checks each against the fields;
    malformed serial data raises ``brook.DecodeError``, values that do not fit the fields
    ``brook.TypeMismatch``. ``write(path, values)`` builds a :class:`LogWrite` from one
    Python value per field (None for unset), encoded as Zeek encodes it, so that a Python
    program can be a log source for a Zeek logger."""

    __slots__ = ("_ptr", "stream_id", "fields", "types", "__weakref__")

    def __init__(self, create):
        from ._data import c_data
        from ._errors import check
        from ._ffi import lib
        import ctypes

        if not isinstance(create, LogCreate):
            create = LogCreate(create)
        self._ptr = None
        lc = ctypes.c_void_p()
        with c_data(create._brook_bytes()) as d:
            check(lib.brook_log_create_from_data(d, ctypes.byref(lc)))
        try:
            s = ctypes.c_void_p()
            check(lib.brook_log_stream_from_create(lc, ctypes.byref(s)))
        finally:
            lib.brook_log_create_free(lc)
        self._ptr = s
        sid = create.stream_id()
        self.stream_id = getattr(sid, "name", sid)  # the enum's name, as a str
        names, types = [], []
        for i in range(lib.brook_log_stream_field_count(s)):
            name, ty = ctypes.c_char_p(), ctypes.c_char_p()
            check(lib.brook_log_stream_field(s, i, ctypes.byref(name), ctypes.byref(ty)))
            names.append(name.value.decode())
            types.append(ty.value.decode())
        self.fields = names
        self.types = dict(zip(names, types))

    def __del__(self):
        try:
            self.close()
        except Exception:  # at interpreter exit the modules may be gone already
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Frees the stream; idempotent. Later calls raise ValueError."""
        if getattr(self, "_ptr", None):
            from ._ffi import lib

            lib.brook_log_stream_free(self._ptr)
            self._ptr = None

    def _live(self):
        if not self._ptr:
            raise ValueError("the log stream is closed")
        return self._ptr

    def records(self, msg):
        """The records in a LogWrite or Batch of this stream, in order."""
        if isinstance(msg, Batch):
            out = []
            for m in msg.messages():
                out.extend(self.records(m))
            return out
        if not isinstance(msg, LogWrite):
            if isinstance(msg, Message):
                return []
            return self.records(message(msg))
        sid = msg.stream_id()
        if getattr(sid, "name", sid) != self.stream_id:
            return []
        return [self._record(msg)]

    def _record(self, write):
        import ctypes

        from ._data import bytes_of, c_data
        from ._errors import check
        from ._ffi import lib

        s = self._live()
        w, r = ctypes.c_void_p(), ctypes.c_void_p()
        with c_data(write._brook_bytes()) as d:
            check(lib.brook_log_write_from_data(d, ctypes.byref(w)))
        try:
            check(lib.brook_log_record_from_write(s, w, ctypes.byref(r)))
        finally:
            lib.brook_log_write_free(w)
        try:
            fields, text = {}, {}
            for i in range(lib.brook_log_record_field_count(r)):
                name, value = ctypes.c_char_p(), ctypes.c_void_p()
                check(lib.brook_log_record_field(r, i, ctypes.byref(name), None, None,
                                                 ctypes.byref(value)))
                key = name.value.decode()
                fields[key] = _codec.decode(bytes_of(value))
                buf, n = ctypes.POINTER(ctypes.c_char)(), ctypes.c_size_t()
                check(lib.brook_log_record_field_text(r, i, ctypes.byref(buf), ctypes.byref(n)))
                text[key] = ctypes.string_at(buf, n.value)
            buf, n = ctypes.POINTER(ctypes.c_char)(), ctypes.c_size_t()
            check(lib.brook_log_record_path(r, ctypes.byref(buf), ctypes.byref(n)))
            path = ctypes.string_at(buf, n.value).decode("utf-8", "surrogateescape")
        finally:
            lib.brook_log_record_free(r)
        return LogRecord(self.stream_id, path, fields, self.types, text)

    def write(self, path, values):
        """A LogWrite of ``values`` (a sequence with one value per field, or a dict by
        field name; None or a missing name for unset) to ``path`` on this stream."""
        import ctypes

        from ._data import bytes_of, c_data
        from ._errors import check
        from ._ffi import lib

        s = self._live()
        if isinstance(values, dict):
            values = [values.get(name) for name in self.fields]
        pathb = path.encode() if isinstance(path, str) else bytes(path)
        w, d_out = ctypes.c_void_p(), ctypes.c_void_p()
        with c_data(_codec.encode(tuple(values))) as d:
            check(lib.brook_log_stream_write(s, pathb, len(pathb), d, ctypes.byref(w)))
        try:
            check(lib.brook_log_write_to_data(w, ctypes.byref(d_out)))
        finally:
            lib.brook_log_write_free(w)
        try:
            return LogWrite(_codec.decode(bytes_of(d_out)))
        finally:
            lib.brook_data_free(d_out)
