//! What API threads ask of the reactor ([`Command`]), and where answers go.

use super::message::Message;
use super::metrics::Metrics;
use super::queue::Mailbox;
use super::status::{PeerInfo, StatusEvent};
use crate::data::Data;
use crate::error::Result;
use crate::store::actor::{Request as StoreReq, StoreActor};
use crate::wire::EndpointId;
use crossbeam_channel::Sender;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// What a listener serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Service {
    /// Broker's peering protocol.
    Peering,
    /// The counters, in Prometheus' text format over HTTP.
    Metrics,
}

/// What API threads ask of the reactor.
pub(crate) enum Command {
    Listen {
        addr: SocketAddr,
        service: Service,
        reply: Sender<Result<u16>>,
    },
    Peer {
        addr: SocketAddr,
        retry: Duration,
        reply: Option<Sender<Result<EndpointId>>>,
    },
    Unpeer {
        addr: SocketAddr,
        reply: Sender<Result<()>>,
    },
    Peers {
        reply: Sender<Vec<PeerInfo>>,
    },
    PeerSubscriptions {
        reply: Sender<Vec<Vec<u8>>>,
    },
    Subscribe {
        id: u64,
        topics: Vec<Vec<u8>>,
        mailbox: Arc<Mailbox<Message>>,
        reply: Sender<()>,
    },
    AddTopic {
        id: u64,
        topic: Vec<u8>,
        reply: Sender<()>,
    },
    RemoveTopic {
        id: u64,
        topic: Vec<u8>,
        reply: Sender<()>,
    },
    Unsubscribe {
        id: u64,
    },
    StatusSubscribe {
        id: u64,
        errors: bool,
        mailbox: Arc<Mailbox<StatusEvent>>,
        reply: Sender<()>,
    },
    Forward {
        topics: Vec<Vec<u8>>,
    },
    /// Answered once everything published so far has been written to the peers' sockets.
    AwaitSent {
        reply: Sender<Result<()>>,
    },
    /// A snapshot of the counters.
    Metrics {
        reply: Sender<Metrics>,
    },
    /// Attaches a store master or clone, built by the API thread. `listen` is the topic it
    /// receives commands on; `master` says which role it plays.
    AttachStore {
        actor: Box<dyn StoreActor>,
        listen: Vec<u8>,
        master: bool,
        reply: Sender<Result<u64>>,
    },
    /// A store handle's request; the answer goes to `reply`.
    StoreRequest {
        store: u64,
        req: StoreReq,
        reply: ReplyTo,
    },
    /// A master's backend made more changes durable (sent by the SQLite writer thread).
    StoreDurable {
        store: u64,
    },
    DetachStore {
        store: u64,
    },
    Shutdown,
}

/// Where a store's answer goes: a caller blocked on a channel, or a proxy's queue.
pub(crate) enum ReplyTo {
    Caller(Sender<Result<Data>>),
    Proxy(Arc<Mailbox<StoreResponse>>),
}

impl ReplyTo {
    pub(crate) fn answer(self, id: u64, result: Result<Data>) {
        match self {
            ReplyTo::Caller(tx) => {
                let _ = tx.send(result);
            }
            ReplyTo::Proxy(mailbox) => {
                mailbox.push(StoreResponse { id, result });
            }
        }
    }
}

/// The answer to one store proxy request.
#[derive(Clone, Debug, PartialEq)]
pub struct StoreResponse {
    pub id: u64,
    pub result: Result<Data>,
}
