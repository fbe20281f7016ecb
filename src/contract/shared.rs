//! The state an endpoint's handles share with its reactor: the command channel and the
//! waker, the publish queue and its readiness fd, and why the reactor stopped if it died.

use super::command::Command;
use super::config::Config;
use super::outbox::{self, Outbox};
use super::room::RoomFd;
use crate::error::{Error, ErrorKind, Result};
use crate::wire::EndpointId;
use crossbeam_channel::{Sender, bounded};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// State shared by an endpoint's handles and its reactor.
pub(crate) struct Shared {
    pub(crate) id: EndpointId,
    pub(crate) config: Config,
    pub(crate) commands: Sender<Command>,
    /// Encoded frames for the reactor to route.
    pub(crate) outbox: Outbox,
    pub(crate) waker: mio::Waker,
    /// Writable while the publish queue has room.
    pub(crate) room: RoomFd,
    /// Why the reactor stopped, if it died.
    pub(crate) fatal: Mutex<Option<String>>,
    next_id: AtomicU64,
}

/// The publish queue's byte bound (besides its frame bound, the peer buffer size).
const OUTBOX_BYTES: usize = 16 << 20;

impl Shared {
    /// The state of a new endpoint whose reactor takes `commands` and is woken by `waker`.
    pub(crate) fn new(
        config: Config,
        id: EndpointId,
        commands: Sender<Command>,
        waker: mio::Waker,
        room: RoomFd,
    ) -> Shared {
        Shared {
            id,
            outbox: Outbox::new(config.peer_buffer_size, OUTBOX_BYTES),
            config,
            commands,
            waker,
            room,
            fatal: Mutex::new(None),
            next_id: AtomicU64::new(0),
        }
    }

    pub(crate) fn closed_error(&self) -> Error {
        let why = self.fatal.lock().ok().and_then(|f| f.clone());
        match why {
            Some(why) => Error::new(ErrorKind::Closed, format!("reactor stopped: {why}")),
            None => Error::new(ErrorKind::Closed, "the endpoint is shut down"),
        }
    }

    pub(crate) fn send(&self, cmd: Command) -> Result<()> {
        self.commands.send(cmd).map_err(|_| self.closed_error())?;
        let _ = self.waker.wake();
        Ok(())
    }

    /// Sends a command built around a reply channel and waits for the answer.
    pub(crate) fn ask<T>(
        &self,
        make: impl FnOnce(Sender<T>) -> Command,
        timeout: Duration,
    ) -> Result<T> {
        let (tx, rx) = bounded(1);
        self.send(make(tx))?;
        match rx.recv_timeout(timeout) {
            Ok(v) => Ok(v),
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => Err(Error::new(
                ErrorKind::Timeout,
                "the endpoint did not answer in time",
            )),
            Err(_) => Err(self.closed_error()),
        }
    }

    /// Queues the frames `write` appends (it returns how many), waiting for room if `block`.
    /// A frame larger than `max_frame_size` is refused ([`ErrorKind::Encode`]), and with it
    /// everything `write` appended.
    pub(crate) fn enqueue(
        &self,
        block: bool,
        write: impl FnOnce(&mut Vec<u8>) -> Result<usize>,
    ) -> Result<()> {
        let max = self.config.max_frame_size;
        let checked = |out: &mut Vec<u8>| {
            let start = out.len();
            let n = write(out)?;
            check_frames(&out[start..], max)?;
            Ok(n)
        };
        match self.outbox.push(block, checked) {
            Ok(wake) => {
                if wake {
                    let _ = self.waker.wake();
                }
                Ok(())
            }
            Err(outbox::Refused::Full) => {
                self.room.mark_full(|| self.outbox.is_full());
                // The reactor may be waiting for room to clear: let it look.
                let _ = self.waker.wake();
                Err(Error::new(
                    ErrorKind::WouldBlock,
                    "the publish queue is full",
                ))
            }
            Err(outbox::Refused::Closed) => Err(self.closed_error()),
            Err(outbox::Refused::Invalid(e)) => Err(e),
        }
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// Checks that the frames in `frames` (each a length prefix and its payload) carry at most
/// `max` bytes each.
fn check_frames(mut frames: &[u8], max: usize) -> Result<()> {
    while let Some(prefix) = frames.first_chunk::<4>() {
        let len = u32::from_be_bytes(*prefix) as usize;
        if len > max {
            return Err(frame_too_large(len, max));
        }
        frames = frames.get(4 + len..).unwrap_or_default();
    }
    Ok(())
}

/// The error for a message (or store write) that needs a frame of `len` bytes where peers
/// take at most `max`.
pub(crate) fn frame_too_large(len: usize, max: usize) -> Error {
    Error::new(
        ErrorKind::Encode,
        format!(
            "the message needs a frame of {len} bytes, more than max_frame_size ({max} bytes; \
             Broker takes at most {}): a peer would end the peering over it",
            crate::wire::frame::MAX_WIRE_PAYLOAD
        ),
    )
}
