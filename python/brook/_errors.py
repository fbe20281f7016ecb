"""brook's statuses as Python exceptions.

Every call that returns a status other than BROOK_STATUS_OK raises at once, on the calling
thread, a BrookError subclass carrying the status and brook_last_error()'s message. Each
subclass also derives from the built-in exception that fits, so ``except TimeoutError`` and
``except brook.Timeout`` both work.
"""

import enum

from . import _ffi


class Status(enum.IntEnum):
    """brook_status: the result of every fallible brook call."""

    OK = 0
    NULL_ARGUMENT = 1
    INVALID_ARGUMENT = 2
    TIMEOUT = 3
    CLOSED = 4
    DECODE_ERROR = 5
    TYPE_MISMATCH = 6
    ENCODE_ERROR = 7
    OUT_OF_RANGE = 8
    PEER_UNAVAILABLE = 9
    WOULD_BLOCK = 10
    IO = 11
    NO_SUCH_KEY = 12
    TYPE_CLASH = 13
    STALE_DATA = 14
    MASTER_EXISTS = 15
    NO_SUCH_MASTER = 16
    BACKEND_FAILURE = 17
    STORE_ERROR = 18
    PANIC = 99


class BrookError(Exception):
    """A brook call failed: ``status`` says how (a Status), ``message`` says why."""

    status = None  # set on each subclass

    def __init__(self, status, message=None):
        try:
            status = Status(status)
        except ValueError:
            pass
        self.status = status
        if message is None:
            message = _status_str(status)
        self.message = message
        super().__init__(status, message)

    def __str__(self):
        return self.message

    def __repr__(self):
        return f"{type(self).__name__}({self.status!r}, {self.message!r})"


def _status_str(status):
    return _ffi.lib.brook_status_str(int(status)).decode("utf-8", "replace")


class NullArgument(BrookError, ValueError):
    """A required argument was missing."""


class InvalidArgument(BrookError, ValueError):
    """An argument was malformed or out of range."""


class Timeout(BrookError, TimeoutError):
    """A wait ended before anything arrived."""


class Closed(BrookError, ValueError):
    """The object was closed, or its endpoint shut down."""


class DecodeError(BrookError, ValueError):
    """Bytes or text could not be decoded."""


class TypeMismatch(BrookError, TypeError):
    """A value has another type or shape than expected."""


class EncodeError(BrookError, ValueError):
    """A value cannot be encoded."""


class OutOfRange(BrookError, IndexError):
    """An index lies beyond the end of a container."""


class PeerUnavailable(BrookError, ConnectionError):
    """A peer could not be reached, or the handshake with it failed."""


class WouldBlock(BrookError, BlockingIOError):
    """A non-blocking call would have to wait."""


class IOFailure(BrookError, OSError):
    """An operating-system call failed."""


class StoreError(BrookError):
    """A store operation failed."""


class NoSuchKey(StoreError, KeyError):
    """The store has no value for the key."""

    def __str__(self):  # KeyError would quote the message
        return self.message


class TypeClash(StoreError, TypeError):
    """A store operation met a value of the wrong type."""


class StaleData(StoreError):
    """A clone's data is not known to be current."""


class MasterExists(StoreError):
    """A master for the store exists already."""


class NoSuchMaster(StoreError):
    """No master answered for the store."""


class BackendFailure(StoreError):
    """The store's backend failed."""


class Panic(BrookError):
    """brook panicked (a bug in brook: please report it); the message holds the panic."""


_BY_STATUS = {
    Status.NULL_ARGUMENT: NullArgument,
    Status.INVALID_ARGUMENT: InvalidArgument,
    Status.TIMEOUT: Timeout,
    Status.CLOSED: Closed,
    Status.DECODE_ERROR: DecodeError,
    Status.TYPE_MISMATCH: TypeMismatch,
    Status.ENCODE_ERROR: EncodeError,
    Status.OUT_OF_RANGE: OutOfRange,
    Status.PEER_UNAVAILABLE: PeerUnavailable,
    Status.WOULD_BLOCK: WouldBlock,
    Status.IO: IOFailure,
    Status.NO_SUCH_KEY: NoSuchKey,
    Status.TYPE_CLASH: TypeClash,
    Status.STALE_DATA: StaleData,
    Status.MASTER_EXISTS: MasterExists,
    Status.NO_SUCH_MASTER: NoSuchMaster,
    Status.BACKEND_FAILURE: BackendFailure,
    Status.STORE_ERROR: StoreError,
    Status.PANIC: Panic,
}

for _status, _cls in _BY_STATUS.items():
    _cls.status = _status


def error(status, message=None):
    """The exception for a non-OK status, with `message` or brook_last_error()."""
    if message is None:
        text = _ffi.lib.brook_last_error()
        message = text.decode("utf-8", "replace") if text else None
    cls = _BY_STATUS.get(status, BrookError)
    return cls(status, message)


def check(status):
    """Raises the exception for `status` unless it is OK. Call it right after the call, on
    the same thread: brook_last_error() is per thread and valid until the next call."""
    if status:
        raise error(status)


def closed(what):
    """The exception for use after close()."""
    return Closed(Status.CLOSED, f"{what} is closed")
