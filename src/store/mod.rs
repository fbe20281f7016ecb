//! Broker's data stores (spec §7): the store commands ([`command`]), the channel protocol
//! that replicates them reliably ([`channel`]), what each operation means ([`ops`]), and
//! the two actors the reactor runs behind [`actor::StoreActor`]: a store's [`master::Master`]
//! over a [`backend::Backend`] (in memory, or an SQLite file with Broker's schema,
//! [`sqlite`]) and its [`clone::Clone`]s. Pure state machines: commands, requests and ticks
//! in, commands, answers and events out; no sockets or clocks. The only thread is the
//! SQLite backend's writer, which keeps the disk off the caller's thread.
//!
//! A store named `N` has one master, subscribed to [`master_topic`], and any number of
//! clones, subscribed to [`clone_topic`]; every message between them is one
//! [`InternalCommand`] in a command envelope. Two kinds of channel carry them:
//!
//! - **master → clones**: the master owns one [`Producer`] whose consumers are the clone
//!   entities. A clone attaches by sending `nack [0]`, which adds it; the handshake goes out
//!   as ack_clone with a snapshot of the store. Actions the master applies (put,
//!   put_unique_result, erase, expire, clear) are produced on it.
//! - **clone → master** ("writer"): each clone owns one [`Producer`] (with
//!   [`Producer::with_repeated_handshakes`]) whose only consumer is the master; its
//!   handshake is attach_writer, its events the clone's writes. The master holds one
//!   [`Consumer`] per writer, created by attach_writer and keyed by the sender entity.
//!
//! So a master holds its backend, one producer and a map from writer entity to consumer; a
//! clone holds its replica, one consumer (created with [`LostPolicy::Reset`]) and, once
//! attached, one producer. Both call `tick` on all of them every tick interval, turn
//! incoming commands into channel messages with [`InternalCommand::into_channel_msg`] and
//! address what comes out as spec §7.4 tabulates.

pub mod actor;
pub mod backend;
pub mod channel;
pub mod clone;
pub mod command;
pub mod master;
pub mod ops;
pub mod sqlite;

pub use backend::{Backend, BackendError, MemoryBackend};
pub use channel::{
    ChannelConfig, Consumer, ConsumerMsg, ConsumerOutput, DropReason, LostPolicy, Path, Producer,
    ProducerMsg, ProducerOutput,
};
pub use clone::CloneConfig;
pub use command::{
    ChannelMsg, Command, CommandClass, EntityId, InternalCommand, clone_topic, master_topic,
};
pub use master::{Master, MasterConfig};
pub use sqlite::{SqliteBackend, SqliteOptions};
