//! The Rust API that API threads call: [`Endpoint`], [`Subscriber`], [`StatusSubscriber`].
//!
//! Invariants: API threads never touch a socket. They send [`Command`]s to the endpoint's
//! reactor thread over a crossbeam channel and wake it with its one `mio::Waker`; answers come
//! back on `bounded(1)` channels that the caller waits on with a timeout. Publishing encodes
//! the whole frame on the calling thread, straight into the bounded publish queue
//! (`contract/outbox.rs`) that the reactor takes whole: a full queue is the backpressure that makes a
//! blocking publish wait (it parks; nothing spins).
//!
//! A reactor that stops (shutdown or panic) drops its receivers and closes the publish
//! queue, so every later call returns [`ErrorKind::Closed`] instead of hanging.

pub mod store;

pub use crate::contract::command::StoreResponse;
use crate::contract::command::{Command, Service};
use crate::contract::queue::Mailbox;
use crate::contract::shared::Shared;
pub use crate::contract::{
    Config, EndpointMetrics, ListenerMetrics, Message, Metrics, OverflowPolicy, PeerInfo,
    PeerMetrics, PeerStatus, Processed, SpoolOptions, SpoolPolicy, SslOptions, StatusCode,
    StatusEvent, StatusKind, SubscriberMetrics, Verbosity,
};
use crate::data::Data;
use crate::data::zeek::Event;
use crate::error::{Error, ErrorKind, Result};
use crate::reactor;
use crate::wire::{EndpointId, envelope};
pub use store::{Store, StoreProxy};

/// Where a store master keeps its data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    /// In memory; gone with the endpoint.
    Memory,
    /// An SQLite file with Broker's schema, which Zeek can open too.
    Sqlite(crate::store::SqliteOptions),
}
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::RawFd;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long calls that the reactor answers at once may wait for it.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// An endpoint: one reactor thread with its listeners, peers and subscriptions.
/// Safe to share between threads. Dropping it shuts it down.
///
/// ```
/// use brook::{Config, Data, Endpoint};
/// use brook::data::zeek::Event;
/// use std::time::Duration;
///
/// let zeek_side = Endpoint::new(Config::default())?;
/// let port = zeek_side.listen("127.0.0.1", 0)?;              // 0: any free port
/// let sub = zeek_side.subscribe(&["/brook/ping"])?;
///
/// let me = Endpoint::new(Config::default())?;
/// me.peer("127.0.0.1", port, Duration::from_secs(10))?;      // blocks until peered; retries every 10 s after a loss
/// # while me.peer_subscriptions()?.is_empty() { std::thread::sleep(Duration::from_millis(5)); }
/// me.publish_event("/brook/ping", Event::new("ping", vec![Data::Count(1)]))?;
///
/// let msg = sub.get(Some(Duration::from_secs(5)))?.unwrap(); // or sub.poll(n), or poll(2) on sub.fd()
/// let event = msg.event()?;                                   // decoded on the subscriber's thread
/// assert_eq!(event.name, "ping");
/// # Ok::<(), brook::Error>(())
/// ```
pub struct Endpoint {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<u64>>>,
    /// The port of the reactor's Prometheus listener, when `Config::metrics_port` is set.
    metrics_port: Option<u16>,
}

fn resolve(host: &str, port: u16) -> Result<SocketAddr> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (host, port)
        .to_socket_addrs()
        .map_err(|e| Error::invalid(format!("cannot resolve {host}:{port}: {e}")))?
        .next()
        .ok_or_else(|| Error::invalid(format!("{host}:{port} resolves to no address")))
}

impl Endpoint {
    /// Starts an endpoint with a fresh random ID and its reactor thread. Fails with
    /// [`ErrorKind::InvalidArgument`] for a configuration that could not work (see
    /// [`Config::validate`]).
    ///
    /// With [`Config::metrics_port`] set (or `BROKER_METRICS_PORT` in the environment,
    /// which overrides it as in Broker), it also serves its counters over HTTP; failing to
    /// bind that port fails the call.
    pub fn new(mut config: Config) -> Result<Endpoint> {
        config.apply_env(|name| std::env::var(name).ok())?;
        config.validate()?;
        let metrics_at = config.metrics_port.map(|port| {
            let ip = config
                .metrics_address
                .unwrap_or(std::net::Ipv4Addr::UNSPECIFIED.into());
            SocketAddr::new(ip, port)
        });
        let (shared, thread) = reactor::start(config, EndpointId::random())?;
        let mut ep = Endpoint {
            shared,
            thread: Mutex::new(Some(thread)),
            metrics_port: None,
        };
        if let Some(addr) = metrics_at {
            let listen = |reply| Command::Listen {
                addr,
                service: Service::Metrics,
                reply,
            };
            ep.metrics_port = Some(ep.shared.ask(listen, ANSWER_TIMEOUT)??);
        }
        Ok(ep)
    }

    /// The port the endpoint serves its counters on, in Prometheus' text format at
    /// `/metrics`, if it does (see [`Config::metrics_port`]; useful when that was 0).
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
    }

    /// This endpoint's ID.
    pub fn id(&self) -> EndpointId {
        self.shared.id
    }

    /// Listens on `address:port` (port 0: any free port) and returns the bound port.
    pub fn listen(&self, address: &str, port: u16) -> Result<u16> {
        let addr = resolve(address, port)?;
        self.shared.ask(
            |reply| Command::Listen {
                addr,
                service: Service::Peering,
                reply,
            },
            ANSWER_TIMEOUT,
        )?
    }

    /// Peers with `host:port` and waits until the handshake succeeded or failed. With a
    /// non-zero `retry`, a failed or lost peering is retried at that interval in the
    /// background (this call still reports the first attempt's outcome).
    pub fn peer(&self, host: &str, port: u16, retry: Duration) -> Result<EndpointId> {
        let addr = resolve(host, port)?;
        let timeout = self.shared.config.handshake_timeout + Duration::from_secs(5);
        self.shared.ask(
            |reply| Command::Peer {
                addr,
                retry,
                reply: Some(reply),
            },
            timeout,
        )?
    }

    /// Like [`Endpoint::peer`], but returns at once; the outcome arrives as a status event.
    pub fn peer_nosync(&self, host: &str, port: u16, retry: Duration) -> Result<()> {
        let addr = resolve(host, port)?;
        self.shared.send(Command::Peer {
            addr,
            retry,
            reply: None,
        })
    }

    /// Ends the peering with `host:port` (and stops retrying it).
    pub fn unpeer(&self, host: &str, port: u16) -> Result<()> {
        let addr = resolve(host, port)?;
        self.shared
            .ask(|reply| Command::Unpeer { addr, reply }, ANSWER_TIMEOUT)?
    }

    /// Every peering and peering attempt.
    pub fn peers(&self) -> Result<Vec<PeerInfo>> {
        self.shared
            .ask(|reply| Command::Peers { reply }, ANSWER_TIMEOUT)
    }

    /// The topics the peers subscribed to (the union of their filters), sorted.
    pub fn peer_subscriptions(&self) -> Result<Vec<Vec<u8>>> {
        self.shared
            .ask(|reply| Command::PeerSubscriptions { reply }, ANSWER_TIMEOUT)
    }

    /// Subscribes to the topic prefixes `topics`, with a queue of
    /// [`Config::subscriber_queue_size`] messages.
    pub fn subscribe<T: AsRef<[u8]>>(&self, topics: &[T]) -> Result<Subscriber> {
        self.subscribe_with(topics, self.shared.config.subscriber_queue_size)
    }

    /// Subscribes to the topic prefixes `topics`, with a queue of `queue_size` messages
    /// (1 to [`Config::MAX_QUEUE`]; Broker's `qsize`).
    pub fn subscribe_with<T: AsRef<[u8]>>(
        &self,
        topics: &[T],
        queue_size: usize,
    ) -> Result<Subscriber> {
        if queue_size == 0 || queue_size > Config::MAX_QUEUE {
            return Err(Error::invalid(format!(
                "the queue size must be between 1 and {}, not {queue_size}",
                Config::MAX_QUEUE
            )));
        }
        let waker = self.shared.clone();
        let mailbox = Arc::new(
            Mailbox::new(queue_size, self.shared.config.subscriber_overflow_policy)?
                .with_room_notifier(move || {
                    let _ = waker.waker.wake();
                }),
        );
        let id = self.shared.next_id();
        let topics: Vec<Vec<u8>> = topics.iter().map(|t| t.as_ref().to_vec()).collect();
        self.shared.ask(
            |reply| Command::Subscribe {
                id,
                topics,
                mailbox: mailbox.clone(),
                reply,
            },
            ANSWER_TIMEOUT,
        )?;
        Ok(Subscriber {
            id,
            mailbox,
            shared: self.shared.clone(),
        })
    }

    /// A subscriber for status events; with `errors`, error events too.
    pub fn status_subscriber(&self, errors: bool) -> Result<StatusSubscriber> {
        let mailbox = Arc::new(Mailbox::new(1024, OverflowPolicy::DropOldest)?);
        let id = self.shared.next_id();
        self.shared.ask(
            |reply| Command::StatusSubscribe {
                id,
                errors,
                mailbox: mailbox.clone(),
                reply,
            },
            ANSWER_TIMEOUT,
        )?;
        Ok(StatusSubscriber {
            id,
            mailbox,
            shared: self.shared.clone(),
        })
    }

    /// Adds topics to what this endpoint advertises to its peers without a local subscriber,
    /// so that it receives (and forwards) them (Broker's `forward`).
    pub fn forward<T: AsRef<[u8]>>(&self, topics: &[T]) -> Result<()> {
        let topics = topics.iter().map(|t| t.as_ref().to_vec()).collect();
        self.shared.send(Command::Forward { topics })
    }

    /// Queues one data frame for `receiver` (nil: the subscribers of `topic`).
    fn publish_one(
        &self,
        receiver: EndpointId,
        topic: &[u8],
        data: &Data,
        block: bool,
    ) -> Result<()> {
        if topic.is_empty() {
            return Err(Error::invalid("the topic is empty"));
        }
        let id = self.shared.id;
        self.shared.enqueue(block, |out| {
            envelope::write_data(out, id, receiver, topic, data)?;
            Ok(1)
        })
    }

    /// Publishes `data` on `topic` to the peers subscribed to it. As in Broker, this
    /// endpoint's own subscribers do not receive it (use [`Endpoint::publish_to`] with
    /// [`Endpoint::id`] for that). Blocks while the publish queue is full (backpressure from
    /// slow peers).
    pub fn publish(&self, topic: impl AsRef<[u8]>, data: &Data) -> Result<()> {
        self.publish_one(EndpointId::nil(), topic.as_ref(), data, true)
    }

    /// Like [`Endpoint::publish`], but returns [`ErrorKind::WouldBlock`] instead of waiting.
    pub fn try_publish(&self, topic: impl AsRef<[u8]>, data: &Data) -> Result<()> {
        self.publish_one(EndpointId::nil(), topic.as_ref(), data, false)
    }

    /// Publishes a Zeek event (encoded straight from the event, without building its
    /// `Data` first).
    pub fn publish_event(
        &self,
        topic: impl AsRef<[u8]>,
        event: impl std::borrow::Borrow<Event>,
    ) -> Result<()> {
        let event = event.borrow();
        let topic = topic.as_ref();
        if topic.is_empty() {
            return Err(Error::invalid("the topic is empty"));
        }
        let id = self.shared.id;
        self.shared.enqueue(true, |out| {
            envelope::write_data_with(out, id, EndpointId::nil(), topic, |out| {
                event.encode_into(out)
            })?;
            Ok(1)
        })
    }

    /// Publishes several values on `topic` at once: their frames travel to the reactor in
    /// one buffer, which costs far less per message than single publishes. Blocks like
    /// [`Endpoint::publish`].
    pub fn publish_batch(&self, topic: impl AsRef<[u8]>, values: &[Data]) -> Result<()> {
        let topic = topic.as_ref();
        if topic.is_empty() {
            return Err(Error::invalid("the topic is empty"));
        }
        publish_batch(&self.shared, topic, values)
    }

    /// A publisher for one topic.
    pub fn publisher(&self, topic: impl AsRef<[u8]>) -> Result<Publisher> {
        let topic = topic.as_ref().to_vec();
        if topic.is_empty() {
            return Err(Error::invalid("the topic is empty"));
        }
        Ok(Publisher {
            shared: self.shared.clone(),
            topic,
        })
    }

    /// Sends `data` to the direct peer `receiver` only, whatever its subscriptions.
    pub fn publish_to(
        &self,
        receiver: EndpointId,
        topic: impl AsRef<[u8]>,
        data: &Data,
    ) -> Result<()> {
        self.publish_one(receiver, topic.as_ref(), data, true)
    }

    /// Attaches the master of store `name` with `backend`. Fails with
    /// `Store(master_exists)` if this endpoint or a direct peer already has a master (or this
    /// endpoint a clone) of that name, and `Store(backend_failure)` if the backend cannot
    /// be opened.
    ///
    /// ```
    /// use brook::{Backend, Config, Data, Endpoint};
    /// use std::time::Duration;
    ///
    /// let a = Endpoint::new(Config::default())?;
    /// let master = a.attach_master("zeek/known/hosts", Backend::Memory)?; // or Backend::Sqlite(options)
    /// let port = a.listen("127.0.0.1", 0)?;
    ///
    /// let b = Endpoint::new(Config::default())?;
    /// b.peer("127.0.0.1", port, Duration::ZERO)?;
    /// let clone = b.attach_clone("zeek/known/hosts")?;   // finds the master among its peers
    /// clone.increment("hits", 1u64, None)?;                // a clone's writes go through the master
    /// clone.await_idle()?;
    /// assert_eq!(master.get("hits")?, Data::Count(1));
    /// # Ok::<(), brook::Error>(())
    /// ```
    pub fn attach_master(&self, name: impl AsRef<[u8]>, backend: Backend) -> Result<Store> {
        let name = name.as_ref().to_vec();
        let me = self.entity();
        let mut hook = None;
        let opened: Box<dyn crate::store::Backend> = match backend {
            Backend::Memory => Box::new(crate::store::MemoryBackend::new()),
            Backend::Sqlite(options) => {
                let b = crate::store::SqliteBackend::open(&options)
                    .map_err(|e| Error::new(ErrorKind::Store(e.code()), e.message))?;
                hook = Some(b.commit_hook());
                Box::new(b)
            }
        };
        let actor = crate::store::Master::new(
            name.clone(),
            me,
            opened,
            crate::store::MasterConfig::default(),
        )
        .map_err(|(code, msg)| Error::new(ErrorKind::Store(code), msg))?;
        let slot = self.attach_slot(Box::new(actor), crate::store::master_topic(&name), true)?;
        if let Some(hook) = hook {
            // The master acknowledges a clone's write once the file has it: tell it at
            // each commit, from the writer thread.
            let shared = Arc::downgrade(&self.shared);
            let _ = hook.set(Box::new(move || {
                if let Some(shared) = shared.upgrade() {
                    let _ = shared.send(Command::StoreDurable { store: slot });
                }
            }));
        }
        Ok(Store::new(self.shared.clone(), slot, name, self.entity()))
    }

    /// Attaches a clone of store `name`, which finds its master among the direct peers.
    pub fn attach_clone(&self, name: impl AsRef<[u8]>) -> Result<Store> {
        self.attach_clone_with(name, crate::store::CloneConfig::default())
    }

    /// Like [`Endpoint::attach_clone`], with the clone's intervals (how long it answers
    /// from a replica without a master, how long writes wait for one, how often it asks).
    pub fn attach_clone_with(
        &self,
        name: impl AsRef<[u8]>,
        config: crate::store::CloneConfig,
    ) -> Result<Store> {
        let name = name.as_ref().to_vec();
        let actor = crate::store::clone::Clone::new(name.clone(), self.entity(), config);
        self.attach(
            Box::new(actor),
            crate::store::clone_topic(&name),
            false,
            name,
        )
    }

    /// A fresh entity of this endpoint (a store actor or a store handle).
    fn entity(&self) -> crate::store::EntityId {
        crate::store::EntityId {
            endpoint: self.shared.id,
            object: self.shared.next_id(),
        }
    }

    fn attach(
        &self,
        actor: Box<dyn crate::store::actor::StoreActor>,
        listen: Vec<u8>,
        master: bool,
        name: Vec<u8>,
    ) -> Result<Store> {
        let slot = self.attach_slot(actor, listen, master)?;
        Ok(Store::new(self.shared.clone(), slot, name, self.entity()))
    }

    /// Hands `actor` to the reactor; its slot number.
    fn attach_slot(
        &self,
        actor: Box<dyn crate::store::actor::StoreActor>,
        listen: Vec<u8>,
        master: bool,
    ) -> Result<u64> {
        self.shared.ask(
            |reply| Command::AttachStore {
                actor,
                listen,
                master,
                reply,
            },
            ANSWER_TIMEOUT,
        )?
    }

    /// A snapshot of the endpoint's counters: its own, each connection's and each local
    /// subscriber's (see [`Metrics`]).
    pub fn metrics(&self) -> Result<Metrics> {
        self.shared
            .ask(|reply| Command::Metrics { reply }, ANSWER_TIMEOUT)
    }

    /// Waits until everything published so far has been handed to the peers' sockets.
    pub fn flush(&self) -> Result<()> {
        self.shared
            .ask(|reply| Command::AwaitSent { reply }, ANSWER_TIMEOUT)?
    }

    /// Hands what is queued to the peers, unpeers from everyone, and stops the reactor. It
    /// waits up to [`Config::unpeer_timeout`] for the peers to take the queued messages and
    /// answer the BYE; returns how many messages it could not deliver (queued for a peer
    /// that did not take them in time; also counted in the endpoint's `discarded` metric
    /// and reported as an error status event). Idempotent: later calls return 0, and
    /// later calls on any handle return [`ErrorKind::Closed`].
    pub fn shutdown(&self) -> u64 {
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        let Some(thread) = thread else {
            return 0;
        };
        let _ = self.shared.send(Command::Shutdown);
        thread.join().unwrap_or(0)
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Publishes on one topic. Safe to share between threads.
///
/// Backpressure: [`Publisher::publish`] waits while the endpoint's publish queue is full
/// (slow peers); [`Publisher::try_publish`] reports
/// [`ErrorKind::WouldBlock`] instead, and [`Publisher::free_capacity`] says how many
/// publishes would go through without waiting.
pub struct Publisher {
    shared: Arc<Shared>,
    topic: Vec<u8>,
}

impl Publisher {
    fn publish_one(&self, data: &Data, block: bool) -> Result<()> {
        let (id, topic) = (self.shared.id, &self.topic);
        self.shared.enqueue(block, |out| {
            envelope::write_data(out, id, EndpointId::nil(), topic, data)?;
            Ok(1)
        })
    }

    /// Publishes one value, waiting while the queue is full.
    pub fn publish(&self, data: &Data) -> Result<()> {
        self.publish_one(data, true)
    }

    /// Publishes one value, or returns [`ErrorKind::WouldBlock`] if the queue is full.
    pub fn try_publish(&self, data: &Data) -> Result<()> {
        self.publish_one(data, false)
    }

    /// Publishes a Zeek event, encoded straight from the event as
    /// [`Endpoint::publish_event`] does, waiting while the queue is full.
    pub fn publish_event(&self, event: impl std::borrow::Borrow<Event>) -> Result<()> {
        let event = event.borrow();
        let (id, topic) = (self.shared.id, &self.topic);
        self.shared.enqueue(true, |out| {
            envelope::write_data_with(out, id, EndpointId::nil(), topic, |out| {
                event.encode_into(out)
            })?;
            Ok(1)
        })
    }

    /// Publishes several values in one hand-over (see [`Endpoint::publish_batch`]).
    pub fn publish_batch(&self, values: &[Data]) -> Result<()> {
        publish_batch(&self.shared, &self.topic, values)
    }

    /// Publishes that would currently go through without waiting.
    pub fn free_capacity(&self) -> usize {
        self.shared.outbox.free_frames()
    }

    /// How many publications (a batch counts as one) the endpoint's publish queue holds at
    /// most; all its publishers share it (Broker's `publisher::capacity`).
    pub fn capacity(&self) -> usize {
        self.shared.outbox.capacity()
    }

    /// Publications queued and not yet taken by the reactor (Broker's
    /// `publisher::buffered`), from all the endpoint's publishers.
    pub fn buffered(&self) -> usize {
        self.shared.outbox.len()
    }

    /// The topic it publishes on.
    pub fn topic(&self) -> &[u8] {
        &self.topic
    }

    /// A file descriptor that polls *writable* while the endpoint's publish queue has room
    /// (level-triggered), for programs that publish from their own poll loop with
    /// [`Publisher::try_publish`]. Shared by the endpoint's publishers. Borrowed: valid while
    /// the endpoint lives; never read or write it yourself.
    pub fn fd(&self) -> RawFd {
        self.shared.room.raw()
    }
}

/// Queues the frames of `values` on `topic` in one go (all or none), waiting for room.
fn publish_batch(shared: &Shared, topic: &[u8], values: &[Data]) -> Result<()> {
    if values.is_empty() {
        return Ok(());
    }
    let id = shared.id;
    shared.enqueue(true, |out| {
        for v in values {
            envelope::write_data(out, id, EndpointId::nil(), topic, v)?;
        }
        Ok(values.len())
    })
}

/// Receives the messages published on its topics.
/// Use from one thread at a time (it is `Send`).
pub struct Subscriber {
    id: u64,
    mailbox: Arc<Mailbox<Message>>,
    shared: Arc<Shared>,
}

impl Subscriber {
    /// The next message, waiting up to `timeout` (`None`: until one arrives). `Ok(None)`
    /// means the timeout passed.
    pub fn get(&self, timeout: Option<Duration>) -> Result<Option<Message>> {
        match self.mailbox.pop(timeout) {
            Ok(m) => Ok(Some(m)),
            Err(false) => Ok(None),
            Err(true) => Err(self.shared.closed_error()),
        }
    }

    /// Puts back a message just taken, to be taken first again (counted by
    /// [`Subscriber::available`], shown by the fd): for a consumer that took one more than
    /// it could handle. At most one message can be back at a time; a second is returned.
    pub fn put_back(&self, message: Message) -> std::result::Result<(), Message> {
        self.mailbox.put_back(message)
    }

    /// Calls `f` with the message put back, if any, leaving it there.
    pub(crate) fn with_put_back<R>(&self, f: impl FnOnce(Option<&Message>) -> R) -> R {
        self.mailbox.with_front(f)
    }

    /// Hands up to `max` messages that are already waiting to `f`, in order, without
    /// waiting or collecting them; a message `f` gives back (`Err`) stays first in line and
    /// ends the batch. Returns how many `f` took.
    pub fn poll_while(
        &self,
        max: usize,
        f: impl FnMut(Message) -> std::result::Result<(), Message>,
    ) -> usize {
        self.mailbox.drain_while(max, f)
    }

    /// Up to `max` messages that are already waiting; never blocks.
    pub fn poll(&self, max: usize) -> Vec<Message> {
        let mut out = Vec::new();
        self.mailbox.drain(max, &mut out);
        out
    }

    /// Messages waiting.
    pub fn available(&self) -> usize {
        self.mailbox.len()
    }

    /// Messages dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.mailbox.dropped()
    }

    /// A file descriptor that is readable while messages are waiting (level-triggered).
    /// Borrowed: valid while the subscriber lives. Never read it yourself.
    pub fn fd(&self) -> RawFd {
        self.mailbox.fd()
    }

    /// Adds a topic prefix.
    pub fn add_topic(&self, topic: impl AsRef<[u8]>) -> Result<()> {
        self.shared.ask(
            |reply| Command::AddTopic {
                id: self.id,
                topic: topic.as_ref().to_vec(),
                reply,
            },
            ANSWER_TIMEOUT,
        )
    }

    /// Removes a topic prefix. (What the endpoint advertises to peers never shrinks, as in
    /// Broker.)
    pub fn remove_topic(&self, topic: impl AsRef<[u8]>) -> Result<()> {
        self.shared.ask(
            |reply| Command::RemoveTopic {
                id: self.id,
                topic: topic.as_ref().to_vec(),
                reply,
            },
            ANSWER_TIMEOUT,
        )
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        let _ = self.shared.send(Command::Unsubscribe { id: self.id });
    }
}

/// Receives status and error events. Use from one thread at a time (it is `Send`).
pub struct StatusSubscriber {
    id: u64,
    mailbox: Arc<Mailbox<StatusEvent>>,
    shared: Arc<Shared>,
}

impl StatusSubscriber {
    /// The next event, waiting up to `timeout` (`None`: until one arrives).
    pub fn get(&self, timeout: Option<Duration>) -> Result<Option<StatusEvent>> {
        match self.mailbox.pop(timeout) {
            Ok(m) => Ok(Some(m)),
            Err(false) => Ok(None),
            Err(true) => Err(self.shared.closed_error()),
        }
    }

    /// Up to `max` events that are already waiting; never blocks.
    pub fn poll(&self, max: usize) -> Vec<StatusEvent> {
        let mut out = Vec::new();
        self.mailbox.drain(max, &mut out);
        out
    }

    /// Events waiting.
    pub fn available(&self) -> usize {
        self.mailbox.len()
    }

    /// Readable while events are waiting (level-triggered). Borrowed: valid while the
    /// subscriber lives.
    pub fn fd(&self) -> RawFd {
        self.mailbox.fd()
    }
}

impl Drop for StatusSubscriber {
    fn drop(&mut self) {
        let _ = self.shared.send(Command::Unsubscribe { id: self.id });
    }
}
