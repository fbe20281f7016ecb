"""Zeek's messages over Broker: events, as in Broker's ``broker.zeek`` module.

A Zeek event travels as one value, ``(1, 1, (name, (args...), [metadata]))``.
``Event("ping", 1, "x")`` makes one to publish; ``Event(value)`` reads one from a received
message's value (its shape is checked when you ask for its parts, or by ``valid()``).
"""

from . import _codec, _errors
from ._data import Data, ImmutableData
from ._types import Count, Timestamp, ns_datetime

__all__ = ["Event", "SafeEvent", "MetadataType"]

_FORMAT_VERSION = Count(1)
_EVENT = Count(1)


class MetadataType:
    """Well-known keys of event metadata (Zeek's numbering)."""

    NetworkTimestamp = Count(1)
    UserMetadataStart = Count(200)


def _mismatch(message):
    return _errors.TypeMismatch(_errors.Status.TYPE_MISMATCH, message)


class Event:
    """A Zeek event: ``Event(name, *args, metadata=None)``, or ``Event(value)`` for the value
    of a received message. ``metadata`` is a list of ``(key, value)`` pairs or a dict; keys
    become counts, and key 1 (MetadataType.NetworkTimestamp) is the network time, a
    datetime or Timestamp."""

    __slots__ = ("_name", "_args", "_metadata", "_raw", "_error")

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

    def _parse(self, value):
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
        """The metadata as a list of ``(Count, value)`` pairs, or None if it has none."""
        self._check()
        return None if self._metadata is None else list(self._metadata)

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

    def as_data(self):
        """The event as the value Zeek sends."""
        return Data(self)

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
