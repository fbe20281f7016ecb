//! Store handles: [`Store`] answers each call before returning (with a timeout), and
//! [`StoreProxy`] sends requests and delivers their answers later on a queue with a readable
//! fd, like Broker's store proxy. Both talk to the store's master or clone in the reactor.

use super::OverflowPolicy;
use crate::contract::command::{Command, ReplyTo, StoreResponse};
use crate::contract::queue::Mailbox;
use crate::contract::shared::Shared;
use crate::data::{Data, Timespan};
use crate::error::{Error, Result};
use crate::store::EntityId;
use crate::store::actor::{Op, Request};
use std::os::fd::RawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

fn span(d: Option<Duration>) -> Option<Timespan> {
    d.map(Timespan::from)
}

/// A handle to a store attached to an endpoint (as master or clone). Safe to share between
/// threads. Dropping the last handle detaches the store from the endpoint.
pub struct Store {
    inner: Arc<StoreInner>,
}

pub(crate) struct StoreInner {
    shared: Arc<Shared>,
    slot: u64,
    name: Vec<u8>,
    /// This handle's entity: the publisher of its changes and the addressee of put_unique
    /// answers.
    who: EntityId,
    next_request: AtomicU64,
    timeout: RequestTimeout,
}

/// A request timeout that can be changed through a shared reference (milliseconds).
struct RequestTimeout(AtomicU64);

impl RequestTimeout {
    fn new(d: Duration) -> RequestTimeout {
        RequestTimeout(AtomicU64::new(d.as_millis().min(u64::MAX as u128) as u64))
    }

    fn get(&self) -> Duration {
        Duration::from_millis(self.0.load(Ordering::Relaxed))
    }

    fn set(&self, d: Duration) {
        let ms = d.as_millis().min(u64::MAX as u128) as u64;
        self.0.store(ms, Ordering::Relaxed);
    }
}

impl Drop for StoreInner {
    fn drop(&mut self) {
        let _ = self.shared.send(Command::DetachStore { store: self.slot });
    }
}

impl Store {
    pub(crate) fn new(shared: Arc<Shared>, slot: u64, name: Vec<u8>, who: EntityId) -> Store {
        Store {
            inner: Arc::new(StoreInner {
                shared,
                slot,
                name,
                who,
                next_request: AtomicU64::new(0),
                timeout: RequestTimeout::new(Duration::from_secs(10)),
            }),
        }
    }

    /// The store's name.
    pub fn name(&self) -> &[u8] {
        &self.inner.name
    }

    /// How long blocking calls wait for their answer (default 10 s); then they fail with
    /// [`crate::ErrorKind::Timeout`].
    pub fn set_timeout(&self, timeout: Duration) {
        self.inner.timeout.set(timeout);
    }

    fn ask(&self, op: Op) -> Result<Data> {
        let inner = &self.inner;
        op.check(&inner.name, inner.shared.config.max_frame_size)?;
        let id = inner.next_request.fetch_add(1, Ordering::Relaxed) + 1;
        let req = Request::new(id, inner.who, op);
        inner.shared.ask(
            |reply| Command::StoreRequest {
                store: inner.slot,
                req,
                reply: ReplyTo::Caller(reply),
            },
            inner.timeout.get(),
        )?
    }

    fn unit(&self, op: Op) -> Result<()> {
        self.ask(op).map(drop)
    }

    /// True if the store has `key`.
    pub fn exists(&self, key: impl Into<Data>) -> Result<bool> {
        Ok(matches!(
            self.ask(Op::exists(key.into()))?,
            Data::Boolean(true)
        ))
    }

    /// The value at `key`; a missing key is an error of kind `Store(no_such_key)`.
    pub fn get(&self, key: impl Into<Data>) -> Result<Data> {
        self.ask(Op::get(key.into()))
    }

    /// `value[index]` of the container value at `key` (Broker's `get_index_from_value`).
    pub fn get_index_from_value(
        &self,
        key: impl Into<Data>,
        index: impl Into<Data>,
    ) -> Result<Data> {
        self.ask(Op::get_index_from_value(key.into(), index.into()))
    }

    /// Every key, as a set.
    pub fn keys(&self) -> Result<Data> {
        self.ask(Op::keys())
    }

    /// Stores `value` at `key`, expiring after `expiry` if given.
    pub fn put(
        &self,
        key: impl Into<Data>,
        value: impl Into<Data>,
        expiry: Option<Duration>,
    ) -> Result<()> {
        self.unit(Op::put(key.into(), value.into(), span(expiry)))
    }

    /// Stores `value` at `key` only if the key is new; answers whether it was inserted.
    pub fn put_unique(
        &self,
        key: impl Into<Data>,
        value: impl Into<Data>,
        expiry: Option<Duration>,
    ) -> Result<bool> {
        Ok(matches!(
            self.ask(Op::put_unique(key.into(), value.into(), span(expiry)))?,
            Data::Boolean(true)
        ))
    }

    /// Removes `key`.
    pub fn erase(&self, key: impl Into<Data>) -> Result<()> {
        self.unit(Op::erase(key.into()))
    }

    /// Removes every key.
    pub fn clear(&self) -> Result<()> {
        self.unit(Op::clear())
    }

    /// Adds `amount` (count, integer, real or timespan) to the value at `key`, which is
    /// created as zero if missing.
    pub fn increment(
        &self,
        key: impl Into<Data>,
        amount: impl Into<Data>,
        expiry: Option<Duration>,
    ) -> Result<()> {
        self.unit(Op::increment(key.into(), amount.into(), span(expiry)))
    }

    /// Subtracts `amount` from the value at `key`.
    pub fn decrement(
        &self,
        key: impl Into<Data>,
        amount: impl Into<Data>,
        expiry: Option<Duration>,
    ) -> Result<()> {
        self.unit(Op::decrement(key.into(), amount.into(), span(expiry)))
    }

    /// Appends a string to the string at `key`.
    pub fn append(
        &self,
        key: impl Into<Data>,
        s: impl Into<Data>,
        expiry: Option<Duration>,
    ) -> Result<()> {
        self.unit(Op::append(key.into(), s.into(), span(expiry)))
    }

    /// Inserts `index` into the set at `key`, or `index -> value` into the table at `key`.
    pub fn insert_into(
        &self,
        key: impl Into<Data>,
        index: impl Into<Data>,
        value: Option<Data>,
        expiry: Option<Duration>,
    ) -> Result<()> {
        self.unit(Op::insert_into(
            key.into(),
            index.into(),
            value,
            span(expiry),
        ))
    }

    /// Removes `index` from the set or table at `key`.
    pub fn remove_from(
        &self,
        key: impl Into<Data>,
        index: impl Into<Data>,
        expiry: Option<Duration>,
    ) -> Result<()> {
        self.unit(Op::remove_from(key.into(), index.into(), span(expiry)))
    }

    /// Appends `value` to the vector at `key`.
    pub fn push(
        &self,
        key: impl Into<Data>,
        value: impl Into<Data>,
        expiry: Option<Duration>,
    ) -> Result<()> {
        self.unit(Op::push(key.into(), value.into(), span(expiry)))
    }

    /// Removes the last element of the vector at `key`.
    pub fn pop(&self, key: impl Into<Data>, expiry: Option<Duration>) -> Result<()> {
        self.unit(Op::pop(key.into(), span(expiry)))
    }

    /// Waits until every write issued so far has been applied (Broker's `await_idle`).
    pub fn await_idle(&self) -> Result<()> {
        self.unit(Op::await_idle())
    }

    /// An asynchronous handle to the same store.
    pub fn proxy(&self) -> Result<StoreProxy> {
        Ok(StoreProxy {
            store: self.inner.clone(),
            answers: Arc::new(Mailbox::new(4096, OverflowPolicy::DropOldest)?),
        })
    }
}

/// Sends store requests without waiting; each returns a request id, and the answers arrive
/// on [`StoreProxy::receive`], whose fd is readable while answers wait (like Broker's store
/// proxy). Use from one thread at a time.
pub struct StoreProxy {
    store: Arc<StoreInner>,
    answers: Arc<Mailbox<StoreResponse>>,
}

impl StoreProxy {
    /// Sends `op`; its request id.
    fn send(&self, op: Op) -> Result<u64> {
        let s = &self.store;
        op.check(&s.name, s.shared.config.max_frame_size)?;
        let id = s.next_request.fetch_add(1, Ordering::Relaxed) + 1;
        s.shared.send(Command::StoreRequest {
            store: s.slot,
            req: Request::new(id, s.who, op),
            reply: ReplyTo::Proxy(self.answers.clone()),
        })?;
        Ok(id)
    }

    /// Asks whether the store has `key`; answered with a boolean.
    pub fn exists(&self, key: impl Into<Data>) -> Result<u64> {
        self.send(Op::exists(key.into()))
    }

    /// Asks for the value at `key`.
    pub fn get(&self, key: impl Into<Data>) -> Result<u64> {
        self.send(Op::get(key.into()))
    }

    /// Asks for `value[index]` of the container value at `key`.
    pub fn get_index_from_value(
        &self,
        key: impl Into<Data>,
        index: impl Into<Data>,
    ) -> Result<u64> {
        self.send(Op::get_index_from_value(key.into(), index.into()))
    }

    /// Asks for the set of keys.
    pub fn keys(&self) -> Result<u64> {
        self.send(Op::keys())
    }

    /// [`Store::put`] without waiting; answered with none once applied.
    pub fn put(
        &self,
        key: impl Into<Data>,
        value: impl Into<Data>,
        expiry: Option<Duration>,
    ) -> Result<u64> {
        self.send(Op::put(key.into(), value.into(), span(expiry)))
    }

    /// [`Store::put_unique`] without waiting; answered with a boolean, true if inserted.
    pub fn put_unique(
        &self,
        key: impl Into<Data>,
        value: impl Into<Data>,
        expiry: Option<Duration>,
    ) -> Result<u64> {
        self.send(Op::put_unique(key.into(), value.into(), span(expiry)))
    }

    pub fn erase(&self, key: impl Into<Data>) -> Result<u64> {
        self.send(Op::erase(key.into()))
    }

    pub fn clear(&self) -> Result<u64> {
        self.send(Op::clear())
    }

    pub fn increment(
        &self,
        key: impl Into<Data>,
        amount: impl Into<Data>,
        expiry: Option<Duration>,
    ) -> Result<u64> {
        self.send(Op::increment(key.into(), amount.into(), span(expiry)))
    }

    pub fn decrement(
        &self,
        key: impl Into<Data>,
        amount: impl Into<Data>,
        expiry: Option<Duration>,
    ) -> Result<u64> {
        self.send(Op::decrement(key.into(), amount.into(), span(expiry)))
    }

    pub fn append(
        &self,
        key: impl Into<Data>,
        suffix: impl Into<Data>,
        expiry: Option<Duration>,
    ) -> Result<u64> {
        self.send(Op::append(key.into(), suffix.into(), span(expiry)))
    }

    pub fn insert_into(
        &self,
        key: impl Into<Data>,
        index: impl Into<Data>,
        value: Option<Data>,
        expiry: Option<Duration>,
    ) -> Result<u64> {
        self.send(Op::insert_into(
            key.into(),
            index.into(),
            value,
            span(expiry),
        ))
    }

    pub fn remove_from(
        &self,
        key: impl Into<Data>,
        index: impl Into<Data>,
        expiry: Option<Duration>,
    ) -> Result<u64> {
        self.send(Op::remove_from(key.into(), index.into(), span(expiry)))
    }

    pub fn push(
        &self,
        key: impl Into<Data>,
        value: impl Into<Data>,
        expiry: Option<Duration>,
    ) -> Result<u64> {
        self.send(Op::push(key.into(), value.into(), span(expiry)))
    }

    pub fn pop(&self, key: impl Into<Data>, expiry: Option<Duration>) -> Result<u64> {
        self.send(Op::pop(key.into(), span(expiry)))
    }

    /// Answered with none once every write so far has been applied ([`Store::await_idle`]).
    pub fn await_idle(&self) -> Result<u64> {
        self.send(Op::await_idle())
    }

    /// The next answer, waiting up to `timeout` (`None`: until one arrives).
    pub fn receive(&self, timeout: Option<Duration>) -> Result<Option<StoreResponse>> {
        match self.answers.pop(timeout) {
            Ok(r) => Ok(Some(r)),
            Err(false) => Ok(None),
            Err(true) => Err(Error::new(
                crate::ErrorKind::Closed,
                "the store is detached",
            )),
        }
    }

    /// Readable while answers wait. Borrowed: valid while the proxy lives.
    pub fn fd(&self) -> RawFd {
        self.answers.fd()
    }
}
