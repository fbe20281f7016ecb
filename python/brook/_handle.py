"""Owning a brook object from Python: closing it once, after every call using it has
returned, and waiting in slices that Ctrl-C can interrupt."""

import ctypes
import threading
import time

from . import _errors

# How long one slice of a wait "forever" lasts. Python runs signal handlers (Ctrl-C) only
# between slices, since a thread inside a C call cannot be interrupted.
SLICE = 0.1


class Owned:
    """What every brook object in Python has: ``close()`` (idempotent; ``reset()`` too, as
    in Broker), ``closed``, and use as a context manager. The object keeps its Handle in
    ``_h``; a subclass that frees more overrides ``close``."""

    def close(self):
        """Frees the object. Idempotent."""
        self._h.close()

    def reset(self):
        self.close()

    @property
    def closed(self):
        return self._h.closed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Handle:
    """A pointer to a brook object, with the count of calls using it.

    ``acquire()`` returns the pointer and counts a user, or raises Closed after
    ``close()``; ``release()`` ends the use. ``close()`` runs `shutdown` (which makes
    waiting calls return), waits until no call uses the object, then frees it once.
    So a thread that closes an object while another one waits in it never frees memory
    under the other's feet.
    """

    __slots__ = ("ptr", "_lock", "_idle", "_users", "_closed", "_free", "_shutdown", "what")

    def __init__(self, ptr, free, what, shutdown=None):
        self.ptr = ptr
        self._free = free
        self._shutdown = shutdown
        self.what = what
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._users = 0
        self._closed = False

    @property
    def closed(self):
        return self._closed

    def acquire(self):
        with self._lock:
            if self._closed:
                raise _errors.closed(self.what)
            self._users += 1
            return self.ptr

    def release(self):
        with self._lock:
            self._users -= 1
            if self._closed and self._users == 0:
                self._idle.notify_all()

    def get(self, fn, ctype, *args):
        """Calls ``fn(ptr, *args, &out)`` while using the object, checks its status and
        returns ``out.value``, where ``out`` is a fresh ``ctype``."""
        out = ctype()
        p = self.acquire()
        try:
            _errors.check(fn(p, *args, ctypes.byref(out)))
        finally:
            self.release()
        return out.value

    def shutdown(self):
        """Runs the object's shutdown (if it has one) without freeing it; returns what the
        shutdown function returns (None when already closed)."""
        with self._lock:
            if self._closed:
                return None
            self._users += 1
        try:
            if self._shutdown is not None:
                return self._shutdown(self.ptr)
            return None
        finally:
            self.release()

    def close(self):
        """Frees the object once no call uses it. Idempotent; True on the first call."""
        with self._lock:
            if self._closed:
                return False
            self._closed = True
            busy = self._users > 0
        if busy and self._shutdown is not None:
            self._shutdown(self.ptr)  # releases the threads waiting in the object
        with self._lock:
            while self._users:
                self._idle.wait(SLICE)
            ptr, self.ptr = self.ptr, None
        self._free(ptr)
        return True


def deadline_of(timeout):
    """The monotonic time at which a wait of `timeout` seconds ends (None: never)."""
    if timeout is None:
        return None
    if hasattr(timeout, "total_seconds"):
        timeout = timeout.total_seconds()
    if timeout != timeout or timeout < 0:
        raise _errors.InvalidArgument(
            _errors.Status.INVALID_ARGUMENT, f"a timeout is a number of seconds >= 0, not {timeout}"
        )
    return time.monotonic() + timeout


def slice_ms(deadline):
    """Milliseconds to wait in the next slice before `deadline` (None: never), at most one
    SLICE; 0 once the deadline has passed."""
    if deadline is None:
        return int(SLICE * 1000)
    left = deadline - time.monotonic()
    if left <= 0:
        return 0
    return max(1, int(min(left, SLICE) * 1000 + 0.999))


def run_interruptibly(fn, *args):
    """Runs `fn(*args)` in a helper thread while this thread waits in slices, so that Ctrl-C
    (which Python delivers to the main thread, between bytecodes) interrupts the wait for a
    C call that has no timeout of its own. Off the main thread it just calls `fn`.

    If interrupted, the call goes on in its helper thread and its result is dropped; the
    objects it uses stay counted as in use (see Handle) until it returns.
    """
    if threading.current_thread() is not threading.main_thread():
        return fn(*args)
    box = {}
    done = threading.Event()

    def run():
        try:
            box["result"] = fn(*args)
        except BaseException as e:  # handed over to the waiting thread
            box["error"] = e
        finally:
            done.set()

    threading.Thread(target=run, name="brook-call", daemon=True).start()
    while not done.wait(SLICE):
        pass
    if "error" in box:
        raise box["error"]
    return box["result"]
