//! The publishers' readiness fd: an eventfd that polls *writable* exactly while the
//! endpoint's publish queue has room, so that a C program can put publishing into its own
//! poll/epoll loop and never block in a publish.
//!
//! An eventfd is writable while its counter is below 2^64 - 2. When a non-blocking publish
//! finds the queue full, the publisher raises the counter to that maximum (the fd stops
//! being writable) and sets `full`; the reactor, having taken publications from the queue,
//! clears `full` and reads the counter to zero (writable again). Flag and counter change
//! together under one lock, taken only on these transitions. The publisher looks
//! at the queue once more after raising, so room that appeared in between is never missed;
//! the worst case is a spurious "writable", after which a publish reports would-block and
//! the fd follows the queue again.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::sync::Mutex;

unsafe extern "C" {
    fn eventfd(initval: u32, flags: i32) -> i32;
}

const EFD_CLOEXEC: i32 = 0o2000000;
const EFD_NONBLOCK: i32 = 0o4000;

pub(crate) struct RoomFd {
    fd: File,
    /// True while the counter is at its maximum (not writable). The lock makes "flag and
    /// counter change together": a reactor clearing between a publisher's flag and its
    /// write would otherwise leave the fd unwritable over an empty queue.
    full: Mutex<bool>,
}

impl RoomFd {
    pub(crate) fn new() -> std::io::Result<RoomFd> {
        // SAFETY: eventfd takes no pointers; a negative result is an error.
        let raw = unsafe { eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) };
        if raw < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh descriptor that nothing else owns.
        let fd = unsafe { File::from_raw_fd(raw) };
        Ok(RoomFd {
            fd,
            full: Mutex::new(false),
        })
    }

    pub(crate) fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Called by a publisher that found the queue full; `still_full` looks again.
    pub(crate) fn mark_full(&self, still_full: impl Fn() -> bool) {
        {
            let mut full = self.full.lock().unwrap_or_else(|e| e.into_inner());
            if *full {
                return;
            }
            let _ = (&self.fd).write(&(u64::MAX - 1).to_ne_bytes());
            *full = true;
        }
        if !still_full() {
            self.mark_room();
        }
    }

    /// Called once the queue has room again.
    pub(crate) fn mark_room(&self) {
        let mut full = self.full.lock().unwrap_or_else(|e| e.into_inner());
        if *full {
            let mut buf = [0u8; 8];
            let _ = (&self.fd).read(&mut buf);
            *full = false;
        }
    }

    pub(crate) fn is_marked_full(&self) -> bool {
        *self.full.lock().unwrap_or_else(|e| e.into_inner())
    }
}
