//! Broker's data stores on the wire (spec §7). Pure: bytes in, values out; no sockets,
//! threads or clocks.
//!
//! A store named `N` has one master, subscribed to [`master_topic`], and any number of
//! clones, subscribed to [`clone_topic`]; every message between them is one
//! [`InternalCommand`] in a command envelope.

pub mod command;

pub use command::{Command, CommandClass, EntityId, InternalCommand, clone_topic, master_topic};
