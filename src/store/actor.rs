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

/// A request from a store handle (the API). `id` is the request id, echoed in the answer
/// (and sent as put_unique's `req_id`); `who` is the handle's entity, to which put_unique's
/// answer is addressed. Changes are published under the actor's own entity, as Broker's
/// store actors do.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub id: u64,
    pub who: EntityId,
    pub op: Op,
}

/// The store operations (issue 4 §3), as the API asks for them. Reads are answered locally
/// (a clone answers from its replica); writes go to the master.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    Exists(Data),
    Get(Data),
    /// Broker's `get_index_from_value`: `value[index]` of a container value at `key`.
    GetIndexFromValue(Data, Data),
    Keys,
    Put(Data, Data, Option<Timespan>),
    /// Answers `Data::Boolean(inserted)`.
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
    /// Answers once every write issued so far through this actor has been applied (and, on a
    /// clone, acknowledged by the master): Broker's `await_idle`.
    AwaitIdle,
    /// Not an operation: the master's backend has made more changes durable, so the master
    /// may acknowledge the clones' writes they cover. The SQLite backend's writer sends it
    /// after each commit (see [`crate::store::sqlite::CommitHook`]). Answered with nil.
    #[doc(hidden)]
    Durable,
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

    /// Called at the end of every reactor turn in which this actor received commands, so
    /// that it can answer a burst at once (a master acknowledges its writers here, instead
    /// of waiting for the next tick).
    fn flush(&mut self, _now: Timestamp) -> Vec<StoreOutput> {
        Vec::new()
    }
}
