//! The spool's syncer: a thread that `fdatasync`s the files the reactor wrote, so that
//! with `brook.spool.fsync` on, records reach the disk without the reactor ever waiting
//! for it. The reactor asks (a short lock, deduplicated by file); the thread takes every
//! request at once and syncs each file, which covers everything written to it before.

use parking_lot::{Condvar, Mutex};
use std::fs::File;
use std::sync::Arc;
use std::thread::JoinHandle;

#[derive(Default)]
struct Queue {
    files: Vec<Arc<File>>,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
}

/// A handle on the syncer thread; clones share it.
#[derive(Clone)]
pub(super) struct Syncer {
    shared: Arc<Shared>,
}

impl Syncer {
    /// Starts the thread.
    pub(super) fn start() -> std::io::Result<(Syncer, JoinHandle<()>)> {
        let shared = Arc::new(Shared::default());
        let theirs = shared.clone();
        let thread = std::thread::Builder::new()
            .name("brook-spool-sync".into())
            .spawn(move || run(&theirs))?;
        Ok((Syncer { shared }, thread))
    }

    /// Asks for `file` to be synced (once, however often it is asked before the thread
    /// gets to it). Never waits for the disk.
    pub(super) fn request(&self, file: &Arc<File>) {
        let mut q = self.shared.queue.lock();
        if !q.files.iter().any(|f| Arc::ptr_eq(f, file)) {
            q.files.push(file.clone());
        }
        drop(q);
        self.shared.ready.notify_one();
    }

    /// Lets the thread finish what was asked and end.
    pub(super) fn close(&self) {
        self.shared.queue.lock().closed = true;
        self.shared.ready.notify_one();
    }
}

fn run(shared: &Shared) {
    loop {
        let files = {
            let mut q = shared.queue.lock();
            while q.files.is_empty() && !q.closed {
                shared.ready.wait(&mut q);
            }
            if q.files.is_empty() {
                return;
            }
            std::mem::take(&mut q.files)
        };
        for f in files {
            // A failure here leaves the data where write() put it (the kernel's cache):
            // it still survives the process, which is what the spool promises without
            // fsync.
            let _ = f.sync_data();
        }
    }
}
