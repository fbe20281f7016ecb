//! The interface between the reactor and a store's master or clone: what goes in (commands
//! from peers, API requests, ticks) and what comes out (commands to send, answers, store
//! events). The master and clone themselves are pure state machines behind [`StoreActor`];
//! the reactor owns them, routes command envelopes to them by topic, ticks them every
//! [`TICK`], and carries out their [`StoreOutput`].
//!
//! Invariant: nothing here blocks or does I/O except through the backend, and a backend
//! that can stall (SQLite) is the store's own business (a worker thread), not the reactor's.

use super::command::{EntityId, InternalCommand};
use crate::data::{Data, Timespan, Timestamp};
use crate::wire::{EndpointId, ErrorCode};
use std::time::Duration;

/// The store clock's tick (Broker's `broker.store.tick-interval`).
pub const TICK: Duration = Duration::from_millis(100);

/// A request from a store handle (the API): request id `id`, echoed in the answer (and
/// sent as put_unique's `req_id`), from the handle's entity `who`, to which put_unique's
/// answer is addressed. Changes are published under the actor's own entity, as Broker's
/// store actors do.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub(crate) id: u64,
    pub(crate) who: EntityId,
    pub(crate) op: Op,
}

impl Request {
    pub fn new(id: u64, who: EntityId, op: Op) -> Request {
        Request { id, who, op }
    }

    /// The request id its answer carries.
    pub fn id(&self) -> u64 {
        self.id
    }
}

/// One store operation (issue 4 §3), made by its named constructor; what it holds is the
/// store layer's own business. Reads are answered locally (a clone answers from its
/// replica); writes go to the master. `expiry` is the entry's lifetime, if any.
#[derive(Clone, Debug, PartialEq)]
pub struct Op(pub(crate) Kind);

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Kind {
    Exists(Data),
    Get(Data),
    GetIndexFromValue(Data, Data),
    Keys,
    Put(Data, Data, Option<Timespan>),
    PutUnique(Data, Data, Option<Timespan>),
    Erase(Data),
    Clear,
    Increment(Data, Data, Option<Timespan>),
    Decrement(Data, Data, Option<Timespan>),
    Append(Data, Data, Option<Timespan>),
    InsertInto(Data, Data, Option<Data>, Option<Timespan>),
    RemoveFrom(Data, Data, Option<Timespan>),
    Push(Data, Data, Option<Timespan>),
    Pop(Data, Option<Timespan>),
    AwaitIdle,
}

impl Op {
    /// Answers `Data::Boolean`: whether `key` exists.
    pub fn exists(key: Data) -> Op {
        Op(Kind::Exists(key))
    }
    /// Answers the value at `key`, or `no_such_key`.
    pub fn get(key: Data) -> Op {
        Op(Kind::Get(key))
    }
    /// Broker's `get_index_from_value`: `value[index]` of a container value at `key`.
    pub fn get_index_from_value(key: Data, index: Data) -> Op {
        Op(Kind::GetIndexFromValue(key, index))
    }
    /// Answers the set of keys.
    pub fn keys() -> Op {
        Op(Kind::Keys)
    }
    pub fn put(key: Data, value: Data, expiry: Option<Timespan>) -> Op {
        Op(Kind::Put(key, value, expiry))
    }
    /// Answers `Data::Boolean(inserted)`.
    pub fn put_unique(key: Data, value: Data, expiry: Option<Timespan>) -> Op {
        Op(Kind::PutUnique(key, value, expiry))
    }
    pub fn erase(key: Data) -> Op {
        Op(Kind::Erase(key))
    }
    pub fn clear() -> Op {
        Op(Kind::Clear)
    }
    pub fn increment(key: Data, amount: Data, expiry: Option<Timespan>) -> Op {
        Op(Kind::Increment(key, amount, expiry))
    }
    pub fn decrement(key: Data, amount: Data, expiry: Option<Timespan>) -> Op {
        Op(Kind::Decrement(key, amount, expiry))
    }
    pub fn append(key: Data, suffix: Data, expiry: Option<Timespan>) -> Op {
        Op(Kind::Append(key, suffix, expiry))
    }
    /// Into a set (`value` none) or a table (`index` mapped to `value`).
    pub fn insert_into(
        key: Data,
        index: Data,
        value: Option<Data>,
        expiry: Option<Timespan>,
    ) -> Op {
        Op(Kind::InsertInto(key, index, value, expiry))
    }
    pub fn remove_from(key: Data, index: Data, expiry: Option<Timespan>) -> Op {
        Op(Kind::RemoveFrom(key, index, expiry))
    }
    pub fn push(key: Data, value: Data, expiry: Option<Timespan>) -> Op {
        Op(Kind::Push(key, value, expiry))
    }
    pub fn pop(key: Data, expiry: Option<Timespan>) -> Op {
        Op(Kind::Pop(key, expiry))
    }
    /// Answers once every write issued so far through this actor has been applied (and, on
    /// a clone, acknowledged by the master): Broker's `await_idle`.
    pub fn await_idle() -> Op {
        Op(Kind::AwaitIdle)
    }

    pub(crate) fn is_await_idle(&self) -> bool {
        self.0 == Kind::AwaitIdle
    }

    /// The values the operation carries.
    fn values(&self) -> impl Iterator<Item = &Data> {
        let (a, b, c) = match &self.0 {
            Kind::Keys | Kind::Clear | Kind::AwaitIdle => (None, None, None),
            Kind::Exists(k) | Kind::Get(k) | Kind::Erase(k) | Kind::Pop(k, _) => {
                (Some(k), None, None)
            }
            Kind::GetIndexFromValue(k, v)
            | Kind::Put(k, v, _)
            | Kind::PutUnique(k, v, _)
            | Kind::Increment(k, v, _)
            | Kind::Decrement(k, v, _)
            | Kind::Append(k, v, _)
            | Kind::RemoveFrom(k, v, _)
            | Kind::Push(k, v, _) => (Some(k), Some(v), None),
            Kind::InsertInto(k, i, v, _) => (Some(k), Some(i), v.as_ref()),
        };
        a.into_iter().chain(b).chain(c)
    }

    /// Checks, before the operation goes anywhere, that the command it becomes on store
    /// `name` can reach every peer: its values nest no deeper than bin v1's
    /// [`crate::data::bin::MAX_DEPTH`], and they fit a frame of `max_frame` bytes with
    /// [`Op::HEADROOM`] to spare for the envelope and the command around them. Fails with
    /// [`ErrorKind::Encode`](crate::ErrorKind::Encode).
    pub fn check(&self, name: &[u8], max_frame: usize) -> crate::error::Result<()> {
        let mut len = Op::HEADROOM + name.len();
        for v in self.values() {
            len += crate::data::bin::encoded_len(v)?;
        }
        if len > max_frame {
            return Err(crate::error::Error::new(
                crate::error::ErrorKind::Encode,
                format!(
                    "the store operation needs a frame of about {len} bytes, more than \
                     max_frame_size ({max_frame} bytes): a peer would end the peering over it"
                ),
            ));
        }
        Ok(())
    }

    /// What [`Op::check`] allows for everything of a command's frame but its values: the
    /// length prefix, the envelope's header and topic (the store's name and a suffix), and
    /// the command's entities, sequence number, tag and expiry.
    pub const HEADROOM: usize = 256;
}

/// What a store actor asks the reactor to do.
#[derive(Clone, Debug, PartialEq)]
pub enum StoreOutput {
    /// Send `cmd` in a command envelope on `topic` (the master or clone topic of the store),
    /// with envelope receiver `to` (nil: every peer whose filter matches the topic).
    Send {
        topic: Vec<u8>,
        to: EndpointId,
        cmd: InternalCommand,
    },
    /// The answer to request `id`: a value (reads; `Data::None` for writes that succeeded;
    /// `Boolean` for put_unique) or Broker's error code with a message.
    Reply {
        id: u64,
        result: Result<Data, (ErrorCode, String)>,
    },
    /// A store event (spec §7.11) for local subscribers of
    /// `<$>/local/data/store-events/<name>`.
    Event(Data),
    /// A status or error for the status subscribers (e.g. a clone's write that the master
    /// rejected, a master lost, resynchronized).
    Status { code: ErrorCode, message: String },
}

/// A master or a clone of one store.
pub trait StoreActor: Send {
    /// The store's name.
    fn name(&self) -> &[u8];

    /// This actor's entity (own endpoint, object number).
    fn entity(&self) -> EntityId;

    /// A command envelope arrived on this store's topic from the peer `from`.
    fn on_command(
        &mut self,
        now: Timestamp,
        from: EndpointId,
        cmd: InternalCommand,
    ) -> Vec<StoreOutput>;

    /// A store handle's request.
    fn on_request(&mut self, now: Timestamp, req: Request) -> Vec<StoreOutput>;

    /// Called every [`TICK`].
    fn tick(&mut self, now: Timestamp) -> Vec<StoreOutput>;

    /// The peering with `peer` ended (its consumers and writers are gone).
    fn peer_lost(&mut self, now: Timestamp, peer: EndpointId) -> Vec<StoreOutput>;

    /// The master's backend has made more changes durable, so the master may acknowledge
    /// the clones' writes they cover. The SQLite backend's writer thread reports each commit
    /// (see [`crate::store::sqlite::CommitHook`]).
    fn durable(&mut self, _now: Timestamp) -> Vec<StoreOutput> {
        Vec::new()
    }

    /// Called at the end of every reactor turn in which this actor received commands, so
    /// that it can answer a burst at once (a master acknowledges its writers here, instead
    /// of waiting for the next tick).
    fn flush(&mut self, _now: Timestamp) -> Vec<StoreOutput> {
        Vec::new()
    }
}
