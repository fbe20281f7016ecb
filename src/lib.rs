//! brook: Zeek's Broker protocol, from Rust and from C.
//!
//! An endpoint peers with Zeek nodes and Broker endpoints over TCP, publishes and subscribes
//! on hierarchical topics, and exchanges Broker data values byte-for-byte as a real Broker
//! does. This crate is layered; dependencies point down only:
//!
//! - [`ffi`]: the C ABI (`include/brook.h`), a thin skin with a panic guard on every call.
//! - `spool` (inside): a durable spool of publications in segment files, so that what an
//!   endpoint publishes while no peer takes it reaches one later, across restarts
//!   ([`SpoolOptions`]). Its own file I/O; no sockets.
//! - [`store`]: Broker's data stores: the store commands, the channel protocol that
//!   replicates them, and the master and clone state machines with their memory and SQLite
//!   backends. No sockets; the SQLite backend writes on a thread of its own.
//! - [`wire`]: Broker's peer protocol on the wire: framing, the handshake and Phase-3
//!   envelopes. Bytes in, values out; no sockets.
//! - [`data`]: the data model ([`data::Data`]), Zeek messages ([`data::zeek`]) and the
//!   records inside Zeek's log writes ([`data::zeek_log`]), the three
//!   encodings: Broker's binary format v1 ([`data::bin`]), the JSON of Broker's WebSocket
//!   API v1 ([`data::json`]) and Broker's text rendering ([`data::text`]), and typed
//!   messages: Rust types to and from `Data` through serde ([`data::typed`]). No I/O.

mod contract;
pub mod data;
pub mod endpoint;
pub mod error;
pub mod ffi;
mod reactor;
mod spool;
pub mod store;
pub mod wire;

pub use data::{
    Address, Data, DataType, EnumValue, Port, Protocol, Subnet, Timespan, Timestamp, TypedError,
    from_data, to_data,
};
pub use endpoint::{
    Backend, Config, Endpoint, Message, Metrics, OverflowPolicy, PeerInfo, PeerStatus, Publisher,
    SpoolOptions, SpoolPolicy, SslOptions, StatusCode, StatusEvent, StatusKind, StatusSubscriber,
    Store, StoreProxy, StoreResponse, Subscriber,
};
pub use error::{Error, ErrorKind, Result};
