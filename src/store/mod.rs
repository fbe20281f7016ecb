//! Broker's data stores on the wire (spec §7): the store commands ([`command`]) and the
//! channel protocol that replicates them reliably ([`channel`]). Pure: bytes and ticks in,
//! messages and events out; no sockets, threads or clocks.
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
pub mod command;
pub mod master;
pub mod ops;
pub mod sqlite;

pub use channel::{
    ChannelConfig, Consumer, ConsumerMsg, ConsumerOutput, DropReason, LostPolicy, Path, Producer,
    ProducerMsg, ProducerOutput,
};
pub use command::{
    ChannelMsg, Command, CommandClass, EntityId, InternalCommand, clone_topic, master_topic,
};
