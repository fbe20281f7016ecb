"""Data stores: Store (a master or clone, with Broker's blocking operations) and
StoreProxy (the same operations without waiting: request ids, answers on a queue with a
file descriptor, and asyncio awaits).

Store's blocking calls go through a proxy of the calling thread and wait for the answer in
slices, so Ctrl-C interrupts them and the GIL is free while they wait.
"""

import asyncio
import ctypes
import enum
import threading
import time
import weakref

from . import _codec, _errors, _ffi
from ._data import bytes_of, c_data_new, c_str, encode
from ._errors import Status as St
from ._errors import check
from ._handle import Handle, Owned, deadline_of, slice_ms

_lib = _ffi.lib
_byref = ctypes.byref
_P = ctypes.c_void_p

__all__ = [
    "Backend",
    "SQLiteSynchronous",
    "SQLiteJournalMode",
    "SQLiteFailureMode",
    "Store",
    "StoreProxy",
    "StoreResponse",
]


class Backend(enum.IntEnum):
    """Where a master keeps its data."""

    Memory = 0
    SQLite = 1


class SQLiteSynchronous(enum.IntEnum):
    Off = 0
    Normal = 1
    Full = 2
    Extra = 3


class SQLiteJournalMode(enum.IntEnum):
    Delete = 0
    WAL = 1


class SQLiteFailureMode(enum.IntEnum):
    Fail = 0
    Delete = 1


def _no_stores():
    return _errors.BrookError(St.INVALID_ARGUMENT, "this libbrook has no data stores")


def _enum_value(cls, v, what):
    if isinstance(v, str):
        name = v.rsplit("_", 1)[-1].lower()  # "Broker::SQLITE_SYNCHRONOUS_NORMAL" or "normal"
        for member in cls:
            if member.name.lower() == name:
                return member
        raise _errors.InvalidArgument(St.INVALID_ARGUMENT, f"unknown {what} {v!r}")
    return int(v)


def _sqlite_options(opts):
    known = {"path", "synchronous", "journal_mode", "failure_mode", "integrity_check"}
    unknown = set(opts) - known
    if unknown:
        raise _errors.InvalidArgument(
            St.INVALID_ARGUMENT, f"unknown SQLite options: {', '.join(sorted(unknown))}"
        )
    if "path" not in opts:
        raise _errors.InvalidArgument(St.INVALID_ARGUMENT, "an SQLite master needs opts['path']")
    o = _P()
    check(_lib.brook_sqlite_options_new(c_str(str(opts["path"]), "a path"), _byref(o)))
    try:
        if "synchronous" in opts:
            v = _enum_value(SQLiteSynchronous, opts["synchronous"], "synchronous mode")
            check(_lib.brook_sqlite_options_set_synchronous(o, v))
        if "journal_mode" in opts:
            v = _enum_value(SQLiteJournalMode, opts["journal_mode"], "journal mode")
            check(_lib.brook_sqlite_options_set_journal_mode(o, v))
        if "failure_mode" in opts:
            v = _enum_value(SQLiteFailureMode, opts["failure_mode"], "failure mode")
            check(_lib.brook_sqlite_options_set_failure_mode(o, v))
        if "integrity_check" in opts:
            check(_lib.brook_sqlite_options_set_integrity_check(o, bool(opts["integrity_check"])))
    except BaseException:
        _lib.brook_sqlite_options_free(o)
        raise
    return o


def attach_master(endpoint, name, backend=None, opts=None):
    if not _ffi.has_stores:
        raise _no_stores()
    backend = Backend.Memory if backend is None else Backend(backend)
    opts = dict(opts or {})
    options = _sqlite_options(opts) if backend == Backend.SQLite else None
    if backend == Backend.Memory and opts:
        raise _errors.InvalidArgument(St.INVALID_ARGUMENT, "a memory master takes no options")
    n = c_str(name, "a store name")
    ptr = _P()
    try:
        p = endpoint._h.acquire()
        try:
            check(_lib.brook_endpoint_attach_master(p, n, int(backend), options, _byref(ptr)))
        finally:
            endpoint._h.release()
    finally:
        _lib.brook_sqlite_options_free(options)
    return Store(ptr, endpoint)


_CLONE_OPTIONS = {
    "stale_interval": ("brook_clone_options_set_stale_interval_ms", True),
    "mutation_buffer_interval": ("brook_clone_options_set_mutation_buffer_interval_ms", False),
    "resync_interval": ("brook_clone_options_set_resync_interval_ms", False),
    "max_get_delay": ("brook_clone_options_set_max_get_delay_ms", False),
}


def attach_clone(endpoint, name, options):
    if not _ffi.has_stores:
        raise _no_stores()
    unknown = set(options) - set(_CLONE_OPTIONS)
    if unknown:
        raise _errors.InvalidArgument(
            St.INVALID_ARGUMENT, f"unknown clone options: {', '.join(sorted(unknown))}"
        )
    o = _P()
    check(_lib.brook_clone_options_new(_byref(o)))
    try:
        for key, value in options.items():
            setter, signed = _CLONE_OPTIONS[key]
            if hasattr(value, "total_seconds"):
                value = value.total_seconds()
            ms = -1 if (signed and value is None) else int(round(value * 1000))
            if ms < 0 and not signed:
                raise _errors.InvalidArgument(St.INVALID_ARGUMENT, f"{key} must be >= 0")
            try:
                check(getattr(_lib, setter)(o, ms))
            except ctypes.ArgumentError as e:
                raise _errors.InvalidArgument(St.INVALID_ARGUMENT, f"{key}: {e}") from None
        n = c_str(name, "a store name")
        ptr = _P()
        p = endpoint._h.acquire()
        try:
            check(_lib.brook_endpoint_attach_clone_with(p, n, o, _byref(ptr)))
        finally:
            endpoint._h.release()
    finally:
        _lib.brook_clone_options_free(o)
    return Store(ptr, endpoint)


def _expiry_ms(expiry):
    """Broker's expiry in seconds (a number or timedelta; None: never) as brook's ms."""
    if expiry is None:
        return -1
    if hasattr(expiry, "total_seconds"):
        expiry = expiry.total_seconds()
    if expiry < 0:
        raise _errors.InvalidArgument(St.INVALID_ARGUMENT, "an expiry is >= 0 seconds")
    return int(round(expiry * 1000))


class _Args:
    """The brook_data arguments of one request, freed together."""

    __slots__ = ("ptrs",)

    def __init__(self, *values):
        self.ptrs = []
        try:
            for v in values:
                self.ptrs.append(None if v is _ABSENT else c_data_new(encode(v)))
        except BaseException:
            self.free()
            raise

    def free(self):
        for d in self.ptrs:
            if d is not None:
                _lib.brook_data_free(d)
        self.ptrs = []


_ABSENT = object()


class StoreResponse:
    """The answer to one StoreProxy request: ``id``, ``status`` (a StatusCode), and either
    ``value`` or ``error`` (a BrookError). ``result()`` returns the value or raises."""

    __slots__ = ("id", "status", "value", "error")

    def __init__(self, id, status, value, error):
        self.id = id
        self.status = status
        self.value = value
        self.error = error

    def ok(self):
        return self.error is None

    def result(self):
        if self.error is not None:
            raise self.error
        return self.value

    def __repr__(self):
        if self.error is not None:
            return f"StoreResponse({self.id}, {self.error!r})"
        return f"StoreResponse({self.id}, {self.value!r})"


def _response(resp):
    """Reads and keeps a brook_store_response (the caller frees it)."""
    rid = ctypes.c_uint64()
    check(_lib.brook_store_response_id(resp, _byref(rid)))
    status = ctypes.c_int()
    check(_lib.brook_store_response_status(resp, _byref(status)))
    if status.value:
        msg = ctypes.c_char_p()
        check(_lib.brook_store_response_message(resp, _byref(msg)))
        text = (msg.value or b"").decode("utf-8", "replace") or None
        return StoreResponse(rid.value, St(status.value), None, _errors.error(status.value, text))
    value = _P()
    check(_lib.brook_store_response_value(resp, _byref(value)))
    return StoreResponse(rid.value, St.OK, _codec.decode(bytes_of(value)), None)


class StoreProxy(Owned):
    """Sends a store's requests without waiting, as Broker's store proxy does: each request
    method returns a request id at once; ``receive()`` takes the answers (StoreResponse) in
    the order the store gives them, and ``fd()`` is readable while answers wait. Under
    asyncio, ``await proxy.wait_for(request_id)`` (or ``await proxy.areceive()``). Use
    from one thread at a time."""

    def __init__(self, ptr, store):
        self._h = Handle(ptr, _lib.brook_store_proxy_free, "store proxy")
        self._parent = store
        self._finalizer = weakref.finalize(self, self._h.close)
        self._resp = _P()
        self._answers = {}  # answers taken while waiting for another one (asyncio)
        self._waiters = {}
        self._reading = False

    def _request(self, fn, *args):
        values = _Args(*args)
        rid = ctypes.c_uint64()
        try:
            p = self._h.acquire()
            try:
                check(fn(p, *values.ptrs, _byref(rid)))
            finally:
                self._h.release()
        finally:
            values.free()
        return rid.value

    def _request_expiry(self, fn, expiry, *args):
        values = _Args(*args)
        rid = ctypes.c_uint64()
        try:
            p = self._h.acquire()
            try:
                check(fn(p, *values.ptrs, _expiry_ms(expiry), _byref(rid)))
            finally:
                self._h.release()
        finally:
            values.free()
        return rid.value

    # Requests: each returns its id.
    def exists(self, key):
        return self._request(_lib.brook_store_proxy_exists, key)

    def get(self, key):
        return self._request(_lib.brook_store_proxy_get, key)

    def get_index_from_value(self, key, index):
        return self._request(_lib.brook_store_proxy_get_index_from_value, key, index)

    def keys(self):
        return self._request(_lib.brook_store_proxy_keys)

    def put(self, key, value, expiry=None):
        return self._request_expiry(_lib.brook_store_proxy_put, expiry, key, value)

    def put_unique(self, key, value, expiry=None):
        return self._request_expiry(_lib.brook_store_proxy_put_unique, expiry, key, value)

    def erase(self, key):
        return self._request(_lib.brook_store_proxy_erase, key)

    def clear(self):
        return self._request(_lib.brook_store_proxy_clear)

    def increment(self, key, amount, expiry=None):
        return self._request_expiry(_lib.brook_store_proxy_increment, expiry, key, amount)

    def decrement(self, key, amount, expiry=None):
        return self._request_expiry(_lib.brook_store_proxy_decrement, expiry, key, amount)

    def append(self, key, s, expiry=None):
        return self._request_expiry(_lib.brook_store_proxy_append, expiry, key, s)

    def insert_into(self, key, index, value=None, expiry=None):
        value = _ABSENT if value is None else value
        return self._request_expiry(_lib.brook_store_proxy_insert_into, expiry, key, index, value)

    def remove_from(self, key, index, expiry=None):
        return self._request_expiry(_lib.brook_store_proxy_remove_from, expiry, key, index)

    def push(self, key, value, expiry=None):
        return self._request_expiry(_lib.brook_store_proxy_push, expiry, key, value)

    def pop(self, key, expiry=None):
        return self._request_expiry(_lib.brook_store_proxy_pop, expiry, key)

    def await_idle(self):
        return self._request(_lib.brook_store_proxy_await_idle)

    # Answers.
    def _receive(self, timeout_ms):
        p = self._h.acquire()
        try:
            status = _lib.brook_store_proxy_receive(p, timeout_ms, _byref(self._resp))
            if status == St.TIMEOUT:
                return None
            check(status)
            resp = self._resp.value
        finally:
            self._h.release()
        try:
            return _response(resp)
        finally:
            _lib.brook_store_response_free(resp)

    def receive(self, timeout=None):
        """The next answer (a StoreResponse), waiting up to `timeout` seconds (None: until
        one arrives); None on timeout."""
        if self._answers:
            return self._answers.pop(next(iter(self._answers)))
        deadline = deadline_of(timeout)
        while True:
            r = self._receive(slice_ms(deadline))
            if r is not None or (deadline is not None and time.monotonic() >= deadline):
                return r

    def poll(self):
        """Every answer waiting now, without waiting."""
        out = list(self._answers.values())
        self._answers.clear()
        while True:
            r = self._receive(0)
            if r is None:
                return out
            out.append(r)

    def fd(self):
        """A file descriptor readable while answers wait (level-triggered)."""
        return self._h.get(_lib.brook_store_proxy_fd, ctypes.c_int)

    def _dispatch(self):
        """Takes every waiting answer to its waiter (asyncio)."""
        for r in self.poll():
            fut = self._waiters.pop(r.id, None)
            if fut is not None and not fut.done():
                fut.set_result(r)
            else:
                self._answers[r.id] = r

    async def wait_for(self, request_id, timeout=None):
        """The answer to `request_id`, awaited with the event loop."""
        if request_id in self._answers:
            return self._answers.pop(request_id)
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        self._waiters[request_id] = fut
        fd = self.fd()
        if not self._reading:
            loop.add_reader(fd, self._dispatch)
            self._reading = True
        try:
            self._dispatch()  # answers that came before the reader was set
            return await asyncio.wait_for(fut, timeout)
        finally:
            self._waiters.pop(request_id, None)
            if not self._waiters and self._reading:
                loop.remove_reader(fd)
                self._reading = False

    async def areceive(self, timeout=None):
        """The next answer, awaited with the event loop; None after `timeout` seconds."""
        loop = asyncio.get_running_loop()
        deadline = deadline_of(timeout)
        while True:
            r = self.receive(0)
            if r is not None:
                return r
            fut = loop.create_future()
            fd = self.fd()
            loop.add_reader(fd, lambda: fut.done() or fut.set_result(None))
            try:
                left = None if deadline is None else max(0, deadline - time.monotonic())
                await asyncio.wait_for(fut, left)
            except asyncio.TimeoutError:
                return None
            finally:
                loop.remove_reader(fd)


def _store_freer(proxies, lock):
    def free(ptr):
        with lock:
            taken = list(proxies)
            proxies.clear()
        for proxy in taken:
            _lib.brook_store_proxy_free(proxy)
        _lib.brook_store_free(ptr)

    return free


# Broker's default for await_idle (defaults::store::await_idle_timeout), in seconds.
AWAIT_IDLE_TIMEOUT = 15.0


class Store(Owned):
    """A data store attached to an endpoint, as its master or as a clone, with Broker's
    operations. Each call waits for its answer, at most ``timeout`` seconds (10 by default;
    then Timeout). ``get`` gives None for a missing key, as in Broker. Expiries are in
    seconds. Safe to share between threads; ``proxy()`` gives the non-blocking form."""

    def __init__(self, ptr, endpoint):
        # The proxies of the threads that made calls; freed with the store. (The free
        # function must not reference self, or the finalizer would keep self alive.)
        self._proxies = []
        self._proxies_lock = threading.Lock()
        self._h = Handle(ptr, _store_freer(self._proxies, self._proxies_lock), "store")
        # The parent: the garbage collector frees the store before its endpoint.
        self._parent = endpoint
        self._finalizer = weakref.finalize(self, self._h.close)
        self._local = threading.local()
        self.timeout = 10.0
        buf = ctypes.POINTER(ctypes.c_char)()
        n = ctypes.c_size_t()
        check(_lib.brook_store_name(ptr, _byref(buf), _byref(n)))
        self._name = buf[: n.value].decode("utf-8", "replace")

    def close(self):
        """Detaches this handle (the store goes once every handle and proxy is gone).
        Idempotent."""
        self._h.close()

    def __repr__(self):
        return f"Store({self._name!r})"

    def name(self):
        return self._name

    def set_timeout(self, seconds):
        """How long each call waits for its answer (seconds, > 0)."""
        if hasattr(seconds, "total_seconds"):
            seconds = seconds.total_seconds()
        if not seconds > 0:
            raise _errors.InvalidArgument(St.INVALID_ARGUMENT, "a store timeout is > 0 seconds")
        self.timeout = float(seconds)

    def proxy(self):
        """A StoreProxy for this store: the same operations without waiting."""
        ptr = _P()
        p = self._h.acquire()
        try:
            check(_lib.brook_store_proxy_new(p, _byref(ptr)))
        finally:
            self._h.release()
        return StoreProxy(ptr, self)

    def _proxy(self, store_ptr):
        proxy = getattr(self._local, "proxy", None)
        if proxy is None:
            ptr = _P()
            check(_lib.brook_store_proxy_new(store_ptr, _byref(ptr)))
            with self._proxies_lock:
                self._proxies.append(ptr)
            proxy = self._local.proxy = ptr
        return proxy

    def _ask(self, fn, values, expiry=_ABSENT, timeout=None):
        """Sends one request through this thread's proxy and waits for its answer in slices:
        returns the answer's value or raises its error."""
        args = _Args(*values)
        rid = ctypes.c_uint64()
        try:
            p = self._h.acquire()
            try:
                proxy = self._proxy(p)
                extra = () if expiry is _ABSENT else (_expiry_ms(expiry),)
                check(fn(proxy, *args.ptrs, *extra, _byref(rid)))
            finally:
                self._h.release()
        finally:
            args.free()
        limit = self.timeout if timeout is None else timeout
        deadline = deadline_of(limit)
        resp = _P()
        while True:
            ms = slice_ms(deadline)
            if ms == 0:
                raise _errors.Timeout(
                    St.TIMEOUT, f"store {self._name!r}: no answer within {limit} s"
                )
            p = self._h.acquire()
            try:
                status = _lib.brook_store_proxy_receive(proxy, ms, _byref(resp))
            finally:
                self._h.release()
            if status == St.TIMEOUT:
                continue
            check(status)
            try:
                r = _response(resp.value)
            finally:
                _lib.brook_store_response_free(resp.value)
            if r.id == rid.value:  # older ids are answers to calls that timed out
                return r.result()

    # Reads.
    def exists(self, key):
        return self._ask(_lib.brook_store_proxy_exists, (key,))

    def get(self, key):
        """The value at `key`, or None if there is none (as in Broker)."""
        try:
            return self._ask(_lib.brook_store_proxy_get, (key,))
        except _errors.NoSuchKey:
            return None

    def get_index_from_value(self, key, index):
        """An element of the container at `key`: a vector's element at `index`, a table's
        value at `index`, or whether a set holds `index`. None if there is none."""
        try:
            return self._ask(_lib.brook_store_proxy_get_index_from_value, (key, index))
        except _errors.NoSuchKey:
            return None

    def keys(self):
        return self._ask(_lib.brook_store_proxy_keys, ())

    # Writes: each returns once the write is applied (at a clone: seen from the master).
    def put(self, key, value, expiry=None):
        self._ask(_lib.brook_store_proxy_put, (key, value), expiry)

    def put_unique(self, key, value, expiry=None):
        """Stores `value` only if `key` is new; True if it did."""
        return self._ask(_lib.brook_store_proxy_put_unique, (key, value), expiry)

    def erase(self, key):
        self._ask(_lib.brook_store_proxy_erase, (key,))

    def clear(self):
        self._ask(_lib.brook_store_proxy_clear, ())

    def increment(self, key, amount, expiry=None):
        self._ask(_lib.brook_store_proxy_increment, (key, amount), expiry)

    def decrement(self, key, amount, expiry=None):
        self._ask(_lib.brook_store_proxy_decrement, (key, amount), expiry)

    def append(self, key, s, expiry=None):
        self._ask(_lib.brook_store_proxy_append, (key, s), expiry)

    def insert_into(self, key, index, value=None, expiry=None):
        """Inserts `index` into the set at `key`, or `index -> value` into its table (a
        `value` of None means no value, as in Broker's binding)."""
        value = _ABSENT if value is None else value
        self._ask(_lib.brook_store_proxy_insert_into, (key, index, value), expiry)

    def remove_from(self, key, index, expiry=None):
        self._ask(_lib.brook_store_proxy_remove_from, (key, index), expiry)

    def push(self, key, value, expiry=None):
        self._ask(_lib.brook_store_proxy_push, (key, value), expiry)

    def pop(self, key, expiry=None):
        self._ask(_lib.brook_store_proxy_pop, (key,), expiry)

    def await_idle(self, timeout=None):
        """Waits until every write made through this store has been applied. True once
        idle, False after `timeout` seconds (None: Broker's default of 15 s,
        AWAIT_IDLE_TIMEOUT)."""
        try:
            self._ask(
                _lib.brook_store_proxy_await_idle,
                (),
                timeout=AWAIT_IDLE_TIMEOUT if timeout is None else timeout,
            )
            return True
        except _errors.Timeout:
            return False
