//! The contract between API threads and the reactor: the commands they send it, the queues
//! they share with it (publish queue, subscriber mailboxes, readiness fds), the endpoint's
//! configuration, and the status, peer and message types both sides speak.
//!
//! Both [`crate::endpoint`] (the API side) and [`crate::reactor`] depend on this module;
//! it depends on neither. Nothing here runs on its own: it is data and the few primitives
//! that hand data between threads without blocking the reactor.

pub(crate) mod command;
mod conf;
mod config;
mod message;
mod metrics;
pub(crate) mod outbox;
mod prometheus;
pub(crate) mod queue;
pub(crate) mod room;
pub(crate) mod shared;
mod status;

pub use crate::spool::{SpoolOptions, SpoolPolicy};
pub use config::{Config, SslOptions, Verbosity};
pub use message::Message;
pub use metrics::{
    EndpointMetrics, ListenerMetrics, Metrics, PeerMetrics, Processed, SubscriberMetrics,
};
pub use queue::OverflowPolicy;
pub(crate) use status::push_status;
pub use status::{PeerInfo, PeerStatus, StatusCode, StatusEvent, StatusKind};
