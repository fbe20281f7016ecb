//! Masters and clones as pure state machines, driven through an in-memory network that
//! delivers each command envelope to the actors subscribed to its topic (honouring the
//! envelope receiver) and ticks them: replication of every operation, clone writes, their
//! answers and failures, put_unique, expiry, store events, late attach, a master that goes
//! away and comes back or is replaced, the SQLite backend across restarts and corruption,
//! and Broker's own sessions (golden captures) replayed into a brook master and clone.

mod common;
use brook::store::actor::{Op, Request, StoreActor, StoreOutput, TICK};
use brook::store::backend::{Backend, MemoryBackend};
use brook::store::clone::{Clone as StoreClone, CloneConfig};
use brook::store::master::{Master, MasterConfig};
use brook::store::ops;
use brook::store::sqlite::{FailureMode, JournalMode, SqliteBackend, SqliteOptions, Synchronous};
use brook::store::{Command, CommandClass, EntityId, InternalCommand, clone_topic, master_topic};
use brook::wire::envelope::Envelope;
use brook::wire::{EndpointId, ErrorCode};
use brook::{Data, Timespan, Timestamp};
use common::*;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

type Reply = Result<Data, (ErrorCode, String)>;

const NAME: &[u8] = b"test/store";

fn ep(n: u8) -> EndpointId {
    let mut b = [0u8; 16];
    b[0] = n;
    b[6] = 0x40;
    b[8] = 0x80;
    EndpointId(b)
}

fn s(x: &str) -> Data {
    Data::from(x)
}

fn secs(n: u64) -> Option<Timespan> {
    Some(Timespan::from(Duration::from_secs(n)))
}

enum Actor {
    M(Box<Master>),
    C(Box<StoreClone>),
}

impl Actor {
    fn get(&mut self) -> &mut dyn StoreActor {
        match self {
            Actor::M(m) => &mut **m,
            Actor::C(c) => &mut **c,
        }
    }
}

struct Node {
    actor: Actor,
    ep: EndpointId,
    alive: bool,
}

/// An in-memory network of store actors, one per endpoint.
struct Net {
    now: Timestamp,
    nodes: Vec<Node>,
    /// Links that are down, as (smaller, larger) endpoint pairs.
    cut: BTreeSet<(EndpointId, EndpointId)>,
    /// Directions that lose everything, as (from, to).
    oneway: BTreeSet<(EndpointId, EndpointId)>,
    queue: VecDeque<(usize, Vec<u8>, EndpointId, InternalCommand)>,
    replies: BTreeMap<u64, Reply>,
    events: Vec<(usize, Data)>,
    statuses: Vec<(usize, ErrorCode, String)>,
    /// Every command sent: (from node, envelope receiver, command).
    log: Vec<(usize, EndpointId, InternalCommand)>,
    /// Loses the next command sent that matches (given its sender's node), once.
    lose_next: Option<fn(usize, &Command) -> bool>,
    next_id: u64,
}

impl Net {
    fn new() -> Net {
        Net {
            now: Timestamp(1_700_000_000_000_000_000),
            nodes: Vec::new(),
            cut: BTreeSet::new(),
            oneway: BTreeSet::new(),
            queue: VecDeque::new(),
            replies: BTreeMap::new(),
            events: Vec::new(),
            statuses: Vec::new(),
            log: Vec::new(),
            lose_next: None,
            next_id: 1,
        }
    }

    fn add_master(&mut self, n: u8, backend: Box<dyn Backend>) -> usize {
        let m = Master::new(
            NAME,
            EntityId::new(ep(n), 7),
            backend,
            MasterConfig::default(),
        )
        .unwrap();
        self.add(Actor::M(Box::new(m)), ep(n))
    }

    fn add_clone(&mut self, n: u8, config: CloneConfig) -> usize {
        let c = StoreClone::new(NAME, EntityId::new(ep(n), 8), config);
        let i = self.add(Actor::C(Box::new(c)), ep(n));
        // The clone asks for its master with its first outputs.
        let outs = self.nodes[i].actor.get().tick(self.now);
        self.handle(i, outs);
        self.run();
        i
    }

    fn add(&mut self, actor: Actor, ep: EndpointId) -> usize {
        self.nodes.push(Node {
            actor,
            ep,
            alive: true,
        });
        self.nodes.len() - 1
    }

    fn master(&self, i: usize) -> &Master {
        match &self.nodes[i].actor {
            Actor::M(m) => m,
            Actor::C(_) => panic!("node {i} is a clone"),
        }
    }

    fn clone_of(&self, i: usize) -> &StoreClone {
        match &self.nodes[i].actor {
            Actor::C(c) => c,
            Actor::M(_) => panic!("node {i} is a master"),
        }
    }

    fn linked(&self, a: EndpointId, b: EndpointId) -> bool {
        !self.cut.contains(&(a.min(b), a.max(b)))
    }

    fn handle(&mut self, i: usize, outs: Vec<StoreOutput>) {
        for o in outs {
            match o {
                StoreOutput::Send { topic, to, cmd } => {
                    assert_eq!(cmd.sender, self.nodes[i].actor.get().entity());
                    self.log.push((i, to, cmd.clone()));
                    self.queue.push_back((i, topic, to, cmd));
                }
                StoreOutput::Reply { id, result } => {
                    let old = self.replies.insert(id, result);
                    assert!(old.is_none(), "request {id} answered twice");
                }
                StoreOutput::Event(e) => self.events.push((i, e)),
                StoreOutput::Status { code, message } => self.statuses.push((i, code, message)),
            }
        }
    }

    /// Waits (in real time, at most 10 s) until every master's backend has made its
    /// changes durable, as if disks took no time: an SQLite master acknowledges a clone's
    /// write only once its writer thread has committed it.
    fn settle_disks(&self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        for n in &self.nodes {
            if let (Actor::M(m), true) = (&n.actor, n.alive) {
                let b = m.backend();
                while b.durable() < b.written() {
                    assert!(std::time::Instant::now() < deadline, "the disk is stuck");
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
    }

    /// Delivers everything queued, and what that causes, in order.
    fn run(&mut self) {
        while let Some((from, topic, to, cmd)) = self.queue.pop_front() {
            if self.lose_next.is_some_and(|f| f(from, &cmd.content)) {
                self.lose_next = None;
                continue;
            }
            let from_ep = self.nodes[from].ep;
            for j in 0..self.nodes.len() {
                let n = &self.nodes[j];
                let subscribed = match n.actor {
                    Actor::M(_) => topic == master_topic(NAME),
                    Actor::C(_) => topic == clone_topic(NAME),
                };
                if j == from
                    || !n.alive
                    || !subscribed
                    || !self.linked(from_ep, n.ep)
                    || self.oneway.contains(&(from_ep, n.ep))
                    || !(to.is_nil() || to == n.ep)
                {
                    continue;
                }
                let now = self.now;
                let outs = self.nodes[j]
                    .actor
                    .get()
                    .on_command(now, from_ep, cmd.clone());
                self.handle(j, outs);
            }
        }
    }

    fn tick(&mut self, n: usize) {
        for _ in 0..n {
            self.settle_disks();
            self.now = Timestamp(self.now.0 + TICK.as_nanos() as i64);
            for i in 0..self.nodes.len() {
                if self.nodes[i].alive {
                    let outs = self.nodes[i].actor.get().tick(self.now);
                    self.handle(i, outs);
                }
            }
            self.run();
        }
    }

    fn request(&mut self, i: usize, op: Op) -> u64 {
        let id = self.request_held(i, op);
        self.run();
        id
    }

    /// Makes a request but delivers nothing yet.
    fn request_held(&mut self, i: usize, op: Op) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let who = EntityId::new(self.nodes[i].ep, 100 + i as u64);
        let outs = self.nodes[i]
            .actor
            .get()
            .on_request(self.now, Request::new(id, who, op));
        self.handle(i, outs);
        id
    }

    /// Asks and waits (ticking, at most 10 s) for the answer.
    fn call(&mut self, i: usize, op: Op) -> Reply {
        let id = self.request(i, op);
        self.wait(id)
    }

    fn wait(&mut self, id: u64) -> Reply {
        for _ in 0..100 {
            if let Some(r) = self.replies.remove(&id) {
                return r;
            }
            self.tick(1);
        }
        panic!("request {id} was never answered");
    }

    fn ok(&mut self, i: usize, op: Op) -> Data {
        let what = format!("{op:?}");
        self.call(i, op).unwrap_or_else(|e| panic!("{what}: {e:?}"))
    }

    fn code(&mut self, i: usize, op: Op) -> ErrorCode {
        let what = format!("{op:?}");
        match self.call(i, op) {
            Ok(d) => panic!("{what} succeeded with {d:?}"),
            Err((code, msg)) => {
                assert!(!msg.is_empty());
                code
            }
        }
    }

    fn cut(&mut self, a: usize, b: usize) {
        let (x, y) = (self.nodes[a].ep, self.nodes[b].ep);
        self.cut.insert((x.min(y), x.max(y)));
        for (i, peer) in [(a, y), (b, x)] {
            if self.nodes[i].alive {
                let now = self.now;
                let outs = self.nodes[i].actor.get().peer_lost(now, peer);
                self.handle(i, outs);
            }
        }
        self.run();
    }

    fn heal(&mut self, a: usize, b: usize) {
        let (x, y) = (self.nodes[a].ep, self.nodes[b].ep);
        self.cut.remove(&(x.min(y), x.max(y)));
    }

    /// The master's contents.
    fn master_state(&self, i: usize) -> BTreeMap<Data, Data> {
        self.master(i)
            .backend()
            .snapshot()
            .unwrap()
            .into_iter()
            .collect()
    }

    fn replica(&self, i: usize) -> BTreeMap<Data, Data> {
        self.clone_of(i).replica().clone()
    }

    fn events_of(&self, i: usize) -> Vec<Data> {
        self.events
            .iter()
            .filter(|(n, _)| *n == i)
            .map(|(_, e)| e.clone())
            .collect()
    }
}

fn memory() -> Box<dyn Backend> {
    Box::new(MemoryBackend::new())
}

/// A master (node 0) and `n` attached clones (nodes 1..=n).
fn network(n: u8) -> Net {
    let mut net = Net::new();
    net.add_master(1, memory());
    for i in 0..n {
        net.add_clone(10 + i, CloneConfig::default());
    }
    net.tick(3);
    for i in 1..=n as usize {
        assert!(net.clone_of(i).is_attached(), "clone {i}");
    }
    net
}

fn put(k: Data, v: Data) -> Op {
    Op::put(k, v, None)
}

// ---------------------------------------------------------------------------------------
// Operations and their semantics

#[test]
fn every_operation_follows_broker_semantics_at_the_master() {
    let mut net = network(0);
    let m = 0;
    assert_eq!(net.ok(m, put(s("a"), Data::Count(1))), Data::None);
    assert_eq!(net.ok(m, Op::get(s("a"))), Data::Count(1));
    assert_eq!(net.ok(m, Op::exists(s("a"))), Data::Boolean(true));
    assert_eq!(net.ok(m, Op::exists(s("b"))), Data::Boolean(false));
    assert_eq!(net.code(m, Op::get(s("b"))), ErrorCode::NoSuchKey);

    // increment: counts, integers, reals, timespans; a timespan creates a timestamp.
    net.ok(m, Op::increment(s("a"), Data::Count(4), None));
    assert_eq!(net.ok(m, Op::get(s("a"))), Data::Count(5));
    net.ok(m, Op::decrement(s("a"), Data::Count(2), None));
    assert_eq!(net.ok(m, Op::get(s("a"))), Data::Count(3));
    net.ok(m, Op::increment(s("i"), Data::Integer(-3), None));
    assert_eq!(net.ok(m, Op::get(s("i"))), Data::Integer(-3));
    net.ok(m, Op::increment(s("r"), Data::Real(0.5), None));
    net.ok(m, Op::increment(s("r"), Data::Real(0.25), None));
    assert_eq!(net.ok(m, Op::get(s("r"))), Data::Real(0.75));
    net.ok(m, Op::increment(s("t"), Data::Timespan(Timespan(7)), None));
    assert_eq!(net.ok(m, Op::get(s("t"))), Data::Timestamp(Timestamp(7)));
    net.ok(m, Op::decrement(s("t"), Data::Timespan(Timespan(2)), None));
    assert_eq!(net.ok(m, Op::get(s("t"))), Data::Timestamp(Timestamp(5)));
    // Unsigned arithmetic wraps, as in C++.
    net.ok(m, Op::decrement(s("a"), Data::Count(4), None));
    assert_eq!(net.ok(m, Op::get(s("a"))), Data::Count(u64::MAX));

    // Type clashes and missing keys.
    assert_eq!(
        net.code(m, Op::increment(s("a"), Data::Integer(1), None)),
        ErrorCode::TypeClash
    );
    assert_eq!(
        net.code(m, Op::increment(s("new"), s("x"), None)),
        ErrorCode::TypeClash
    );
    assert_eq!(
        net.code(m, Op::decrement(s("missing"), Data::Count(1), None)),
        ErrorCode::NoSuchKey
    );
    assert_eq!(
        net.code(m, Op::append(s("a"), s("x"), None)),
        ErrorCode::TypeClash
    );
    net.ok(m, put(s("b"), Data::Boolean(true)));
    assert_eq!(
        net.code(m, Op::increment(s("b"), Data::Count(1), None)),
        ErrorCode::TypeClash
    );
    assert_eq!(
        net.code(m, Op::decrement(s("b"), Data::Count(1), None)),
        ErrorCode::TypeClash
    );
    // A failed write changed nothing.
    assert_eq!(net.ok(m, Op::get(s("a"))), Data::Count(u64::MAX));
    assert_eq!(net.ok(m, Op::exists(s("new"))), Data::Boolean(false));

    // Strings, sets, tables, vectors.
    net.ok(m, Op::append(s("str"), s("ab"), None));
    net.ok(m, Op::append(s("str"), s("cd"), None));
    assert_eq!(net.ok(m, Op::get(s("str"))), s("abcd"));
    assert_eq!(
        net.code(m, Op::decrement(s("str"), s("cd"), None)),
        ErrorCode::TypeClash
    );
    net.ok(m, Op::insert_into(s("set"), Data::Count(1), None, None));
    net.ok(m, Op::insert_into(s("set"), Data::Count(2), None, None));
    net.ok(m, Op::insert_into(s("set"), Data::Count(1), None, None));
    assert_eq!(
        net.ok(m, Op::get(s("set"))),
        Data::Set([Data::Count(1), Data::Count(2)].into())
    );
    net.ok(m, Op::remove_from(s("set"), Data::Count(1), None));
    assert_eq!(
        net.ok(m, Op::get(s("set"))),
        Data::Set([Data::Count(2)].into())
    );
    assert_eq!(
        net.ok(m, Op::get_index_from_value(s("set"), Data::Count(2))),
        Data::Boolean(true)
    );
    assert_eq!(
        net.ok(m, Op::get_index_from_value(s("set"), Data::Count(3))),
        Data::Boolean(false)
    );
    net.ok(m, Op::insert_into(s("tab"), s("k"), Some(s("v")), None));
    net.ok(m, Op::insert_into(s("tab"), s("k2"), Some(s("v2")), None));
    assert_eq!(
        net.ok(m, Op::get_index_from_value(s("tab"), s("k2"))),
        s("v2")
    );
    assert_eq!(
        net.code(m, Op::get_index_from_value(s("tab"), s("k3"))),
        ErrorCode::NoSuchKey
    );
    net.ok(m, Op::remove_from(s("tab"), s("k"), None));
    assert_eq!(
        net.ok(m, Op::get(s("tab"))),
        Data::Table([(s("k2"), s("v2"))].into())
    );
    // A table only takes [key, value] pairs.
    net.ok(m, Op::push(s("vec"), s("x"), None));
    assert_eq!(
        net.code(
            m,
            Op::increment(s("tab"), Data::Vector(vec![s("only")]), None)
        ),
        ErrorCode::InvalidData
    );
    assert_eq!(
        net.code(m, Op::increment(s("tab"), s("k"), None)),
        ErrorCode::TypeClash
    );
    net.ok(m, Op::push(s("vec"), s("y"), None));
    assert_eq!(
        net.ok(m, Op::get_index_from_value(s("vec"), Data::Count(1))),
        s("y")
    );
    assert_eq!(
        net.ok(m, Op::get_index_from_value(s("vec"), Data::Integer(0))),
        s("x")
    );
    assert_eq!(
        net.code(m, Op::get_index_from_value(s("vec"), Data::Count(2))),
        ErrorCode::NoSuchKey
    );
    assert_eq!(
        net.code(m, Op::get_index_from_value(s("vec"), Data::Integer(-1))),
        ErrorCode::TypeClash
    );
    // Any other value is its own "index".
    assert_eq!(
        net.ok(m, Op::get_index_from_value(s("str"), Data::Count(9))),
        s("abcd")
    );
    assert_eq!(
        net.code(m, Op::get_index_from_value(s("nokey"), Data::Count(0))),
        ErrorCode::NoSuchKey
    );
    net.ok(m, Op::pop(s("vec"), None));
    assert_eq!(net.ok(m, Op::get(s("vec"))), Data::Vector(vec![s("x")]));
    net.ok(m, Op::pop(s("vec"), None));
    net.ok(m, Op::pop(s("vec"), None));
    assert_eq!(net.ok(m, Op::get(s("vec"))), Data::Vector(vec![]));

    // put_unique, erase, keys, clear.
    assert_eq!(
        net.ok(m, Op::put_unique(s("u"), Data::Count(1), None)),
        Data::Boolean(true)
    );
    assert_eq!(
        net.ok(m, Op::put_unique(s("u"), Data::Count(2), None)),
        Data::Boolean(false)
    );
    assert_eq!(net.ok(m, Op::get(s("u"))), Data::Count(1));
    assert_eq!(net.ok(m, Op::erase(s("u"))), Data::None);
    assert_eq!(net.ok(m, Op::erase(s("u"))), Data::None);
    let Data::Set(keys) = net.ok(m, Op::keys()) else {
        panic!()
    };
    assert_eq!(
        keys,
        ["a", "b", "i", "r", "set", "str", "t", "tab", "vec"]
            .map(s)
            .into()
    );
    net.ok(m, Op::clear());
    assert_eq!(net.ok(m, Op::keys()), Data::Set(Default::default()));
    assert_eq!(net.ok(m, Op::await_idle()), Data::None);
}

#[test]
fn default_values_for_every_init_type() {
    use brook::DataType as T;
    let cases = [
        (T::Count, Data::Count(0)),
        (T::Integer, Data::Integer(0)),
        (T::Real, Data::Real(0.0)),
        (T::String, s("")),
        (T::Timestamp, Data::Timestamp(Timestamp(0))),
        (T::Timespan, Data::Timespan(Timespan(0))),
        (T::Boolean, Data::Boolean(false)),
        (T::Set, Data::Set(Default::default())),
        (T::Table, Data::Table(Default::default())),
        (T::Vector, Data::Vector(vec![])),
        (T::Enum, Data::enum_value("")),
        (T::Address, "::".parse::<std::net::IpAddr>().unwrap().into()),
        (T::None, Data::None),
    ];
    for (t, v) in cases {
        assert_eq!(ops::default_value(t), v, "{t:?}");
    }
    let Data::Subnet(sn) = ops::default_value(T::Subnet) else {
        panic!()
    };
    assert_eq!(sn.to_string(), "::/0");
    let Data::Port(p) = ops::default_value(T::Port) else {
        panic!()
    };
    assert_eq!(p.to_string(), "0/?");
    assert_eq!(ops::increment_init_type(&Data::Count(1)), T::Count);
    assert_eq!(ops::increment_init_type(&Data::Integer(1)), T::Integer);
    assert_eq!(ops::increment_init_type(&Data::Real(1.0)), T::Real);
    assert_eq!(
        ops::increment_init_type(&Data::Timespan(Timespan(1))),
        T::Timestamp
    );
    assert_eq!(ops::increment_init_type(&s("x")), T::None);
}

// ---------------------------------------------------------------------------------------
// Replication

/// Runs a mixed workload from every node and checks that all replicas equal the master.
#[test]
fn every_operation_replicates_to_every_clone() {
    let mut net = network(2);
    let ops_from = |n: usize| {
        let p = |x: &str| s(&format!("{n}-{x}"));
        vec![
            put(p("put"), Data::Count(1)),
            Op::put(p("exp"), s("e"), secs(60)),
            Op::put_unique(p("uniq"), s("first"), None),
            Op::put_unique(p("uniq"), s("second"), None),
            put(p("gone"), s("x")),
            Op::erase(p("gone")),
            Op::increment(p("cnt"), Data::Count(5), None),
            Op::decrement(p("cnt"), Data::Count(2), None),
            Op::increment(p("int"), Data::Integer(-3), secs(30)),
            Op::append(p("str"), s("abc"), None),
            Op::insert_into(p("set"), Data::Count(1), None, None),
            Op::insert_into(p("set"), Data::Count(2), None, None),
            Op::remove_from(p("set"), Data::Count(1), None),
            Op::insert_into(p("tab"), s("k"), Some(s("v")), None),
            Op::push(p("vec"), s("e1"), None),
            Op::push(p("vec"), s("e2"), None),
            Op::pop(p("vec"), None),
        ]
    };
    let mut ids = Vec::new();
    for n in 0..3 {
        for op in ops_from(n) {
            ids.push((n, net.request(n, op)));
        }
    }
    let mut answers = Vec::new();
    for (n, id) in ids {
        answers.push((n, net.wait(id)));
    }
    // put_unique answered true, then false; everything else succeeded.
    for n in 0..3 {
        let mine: Vec<&Reply> = answers
            .iter()
            .filter(|(m, _)| *m == n)
            .map(|(_, r)| r)
            .collect();
        assert_eq!(mine[2], &Ok(Data::Boolean(true)), "node {n}");
        assert_eq!(mine[3], &Ok(Data::Boolean(false)), "node {n}");
        for (i, r) in mine.iter().enumerate() {
            if i != 2 && i != 3 {
                assert_eq!(*r, &Ok(Data::None), "node {n} op {i}");
            }
        }
    }
    net.tick(10);
    let master = net.master_state(0);
    assert_eq!(master.len(), 3 * 9);
    assert_eq!(master[&s("1-cnt")], Data::Count(3));
    assert_eq!(master[&s("2-uniq")], s("first"));
    assert_eq!(master[&s("2-vec")], Data::Vector(vec![s("e1")]));
    assert_eq!(master[&s("0-tab")], Data::Table([(s("k"), s("v"))].into()));
    assert_eq!(net.replica(1), master);
    assert_eq!(net.replica(2), master);
    // Expiry times live at the master only; add's expiry counts too.
    assert!(net.master(0).expiry(&s("1-exp")).is_some());
    assert!(net.master(0).expiry(&s("2-int")).is_some());
    assert!(net.master(0).expiry(&s("2-cnt")).is_none());

    // A clone's read answers from its replica, with no traffic.
    let before = net.log.len();
    assert_eq!(net.ok(1, Op::get(s("2-str"))), s("abc"));
    assert_eq!(
        net.ok(2, Op::get_index_from_value(s("0-vec"), Data::Count(0))),
        s("e1")
    );
    assert_eq!(net.ok(2, Op::exists(s("0-gone"))), Data::Boolean(false));
    assert_eq!(net.code(1, Op::get(s("nope"))), ErrorCode::NoSuchKey);
    let Data::Set(keys) = net.ok(1, Op::keys()) else {
        panic!()
    };
    assert_eq!(keys.len(), 27);
    assert!(
        net.log[before..]
            .iter()
            .all(|(_, _, c)| c.content.class() != CommandClass::Action)
    );

    // clear from a clone.
    net.ok(2, Op::clear());
    net.tick(5);
    assert!(net.master_state(0).is_empty());
    assert!(net.replica(1).is_empty());
    assert!(net.replica(2).is_empty());
    assert_eq!(net.ok(1, Op::await_idle()), Data::None);
    assert_eq!(net.ok(0, Op::await_idle()), Data::None);
    assert!(net.statuses.is_empty(), "{:?}", net.statuses);
}

#[test]
fn a_clone_write_is_answered_once_visible_in_its_replica() {
    let mut net = network(2);
    let id = net.request_held(1, put(s("k"), s("v")));
    // Not applied locally before the master's broadcast comes back.
    assert!(net.replica(1).is_empty());
    net.run();
    assert_eq!(net.replica(1)[&s("k")], s("v"));
    assert!(!net.replies.contains_key(&id));
    let mut ticks = 0;
    while !net.replies.contains_key(&id) {
        net.tick(1);
        ticks += 1;
    }
    assert!(ticks <= 2, "{ticks} ticks");
    assert_eq!(net.replies[&id], Ok(Data::None));
    assert_eq!(net.replica(1)[&s("k")], s("v"));
    assert_eq!(net.master_state(0)[&s("k")], s("v"));
    assert_eq!(net.replica(2)[&s("k")], s("v"));
    // A counter incremented from everywhere.
    for _ in 0..10 {
        for n in 0..3 {
            net.request(n, Op::increment(s("n"), Data::Count(1), None));
        }
    }
    for n in 0..3 {
        assert_eq!(net.ok(n, Op::await_idle()), Data::None);
    }
    net.tick(2);
    for n in 1..3 {
        assert_eq!(net.replica(n)[&s("n")], Data::Count(30));
    }
    assert_eq!(net.master_state(0)[&s("n")], Data::Count(30));
}

#[test]
fn a_clone_learns_which_of_its_writes_the_master_rejected() {
    let mut net = network(1);
    net.ok(0, put(s("str"), s("text")));
    net.tick(2);
    // Issued together, answered in order, each with its own outcome.
    let ids = [
        net.request(1, Op::increment(s("str"), Data::Count(1), None)),
        net.request(1, put(s("str"), s("other"))),
        net.request(1, Op::decrement(s("missing"), Data::Count(1), None)),
        net.request(1, Op::increment(s("c"), Data::Count(2), None)),
        net.request(1, Op::increment(s("c"), s("bad"), None)),
        net.request(1, Op::erase(s("missing"))),
        net.request(1, Op::insert_into(s("t"), s("k"), Some(s("v")), None)),
        net.request(1, Op::increment(s("t"), Data::Vector(vec![]), None)),
        net.request(1, Op::increment(s("c"), Data::Count(3), None)),
    ];
    let got: Vec<Result<Data, ErrorCode>> = ids
        .iter()
        .map(|id| net.wait(*id).map_err(|(c, _)| c))
        .collect();
    use ErrorCode::{InvalidData, NoSuchKey, TypeClash};
    assert_eq!(
        got,
        vec![
            Err(TypeClash),
            Ok(Data::None),
            Err(NoSuchKey),
            Ok(Data::None),
            Err(TypeClash),
            Ok(Data::None),
            Ok(Data::None),
            Err(InvalidData),
            Ok(Data::None),
        ]
    );
    assert_eq!(net.replica(1)[&s("c")], Data::Count(5));
    // Each failure is also a status at the clone (and one at the master).
    let at = |n: usize| {
        net.statuses
            .iter()
            .filter(|(i, _, _)| *i == n)
            .map(|(_, c, _)| *c)
            .collect::<Vec<_>>()
    };
    assert_eq!(at(1), vec![TypeClash, NoSuchKey, TypeClash, InvalidData]);
    assert_eq!(at(0), vec![TypeClash, NoSuchKey, TypeClash, InvalidData]);
    let first = net.statuses.iter().find(|(i, _, _)| *i == 1).unwrap();
    assert!(
        first.2.contains("add on str failed at the master"),
        "{first:?}"
    );
}

#[test]
fn put_unique_is_answered_to_the_right_handle() {
    let mut net = network(2);
    let a = net.request(1, Op::put_unique(s("u"), s("from 1"), None));
    let b = net.request(2, Op::put_unique(s("u"), s("from 2"), None));
    let c = net.request(0, Op::put_unique(s("u"), s("from master"), None));
    let (a, b, c) = (net.wait(a), net.wait(b), net.wait(c));
    // Clone 1's arrived first (this network delivers at once).
    assert_eq!(a, Ok(Data::Boolean(true)));
    assert_eq!(b, Ok(Data::Boolean(false)));
    assert_eq!(c, Ok(Data::Boolean(false)));
    let d = net.request(2, Op::put_unique(s("v"), s("from 2"), secs(10)));
    assert_eq!(net.wait(d), Ok(Data::Boolean(true)));
    net.tick(2);
    assert_eq!(net.replica(1)[&s("v")], s("from 2"));
    // Every clone saw both results on the wire; each answered only its own.
    let results = net
        .log
        .iter()
        .filter(|(_, _, c)| matches!(c.content, Command::PutUniqueResult { .. }))
        .count();
    assert_eq!(results, 4);
}

#[test]
fn a_lost_put_unique_result_is_retransmitted_not_answered_as_an_error() {
    let mut net = network(1);
    // The master broadcasts the result, then acks the write; the broadcast is lost, so
    // the ack arrives first and the gap shows only with the next keepalive.
    net.lose_next = Some(|_, c| matches!(c, Command::PutUniqueResult { .. }));
    let a = net.request(1, Op::put_unique(s("u"), s("x"), None));
    assert!(net.lose_next.is_none(), "the result was not lost");
    assert_eq!(net.wait(a), Ok(Data::Boolean(true)));
    // A write behind it is answered too, in order.
    net.lose_next = Some(|_, c| matches!(c, Command::PutUniqueResult { .. }));
    let b = net.request(1, Op::put_unique(s("u"), s("y"), None));
    let c = net.request(1, put(s("k"), s("v")));
    assert_eq!(net.wait(b), Ok(Data::Boolean(false)));
    assert_eq!(net.wait(c), Ok(Data::None));
    assert_eq!(net.replica(1)[&s("u")], s("x"));
    assert_eq!(net.replica(1)[&s("k")], s("v"));
    assert!(net.statuses.is_empty(), "{:?}", net.statuses);
}

#[test]
fn a_lost_broadcast_of_a_clones_own_write_is_retransmitted_not_answered_as_a_failure() {
    let mut net = network(1);
    // The master broadcasts the put, then acks it; the broadcast is lost, so the ack
    // arrives first and the gap shows only with the next keepalive.
    net.lose_next = Some(|from, c| from == 0 && matches!(c, Command::Put { .. }));
    let a = net.request(1, put(s("k"), s("v")));
    assert!(net.lose_next.is_none(), "the broadcast was not lost");
    assert_eq!(net.wait(a), Ok(Data::None));
    assert_eq!(net.replica(1)[&s("k")], s("v"));
    net.ok(1, put(s("n"), Data::Count(1)));
    net.lose_next = Some(|from, c| from == 0 && matches!(c, Command::Put { .. }));
    let b = net.request(1, Op::increment(s("n"), Data::Count(2), None));
    assert_eq!(net.wait(b), Ok(Data::None));
    net.lose_next = Some(|from, c| from == 0 && matches!(c, Command::Clear { .. }));
    let c = net.request(1, Op::clear());
    assert_eq!(net.wait(c), Ok(Data::None));
    assert!(net.statuses.is_empty(), "{:?}", net.statuses);
    // A real failure is still one, once the master's next keepalive shows no gap.
    net.ok(1, put(s("str"), s("text")));
    let d = net.request(1, Op::increment(s("str"), Data::Count(1), None));
    assert!(matches!(net.wait(d), Err((ErrorCode::TypeClash, _))));
}

#[test]
fn expiry_is_the_masters_and_reaches_clones_as_expire() {
    let mut net = network(1);
    let ms = |n| Some(Timespan::from(Duration::from_millis(n)));
    net.ok(0, Op::put(s("short"), s("x"), ms(300)));
    net.ok(1, Op::put(s("clone's"), s("y"), ms(500)));
    net.ok(0, Op::increment(s("cnt"), Data::Count(1), ms(200)));
    // A put without expiry clears it; one with expiry re-arms it.
    net.ok(0, Op::put(s("kept"), s("z"), ms(100)));
    net.ok(0, put(s("kept"), s("z2")));
    net.tick(1);
    assert!(net.replica(1).contains_key(&s("short")));
    net.tick(8);
    assert!(!net.master_state(0).contains_key(&s("short")));
    assert!(!net.master_state(0).contains_key(&s("cnt")));
    assert!(!net.master_state(0).contains_key(&s("clone's")));
    assert!(net.master_state(0).contains_key(&s("kept")));
    assert_eq!(net.replica(1), net.master_state(0));
    let expires: Vec<&InternalCommand> = net
        .log
        .iter()
        .filter(|(_, _, c)| matches!(c.content, Command::Expire { .. }))
        .map(|(_, _, c)| c)
        .collect();
    assert_eq!(expires.len(), 3);
    for e in expires {
        let Command::Expire { publisher, .. } = e.content else {
            unreachable!()
        };
        assert_eq!(publisher, net.master(0).entity());
    }
    // The clones applied them as expire events, with the master as publisher.
    let ex: Vec<Data> = net
        .events_of(1)
        .into_iter()
        .filter(|e| e.as_vector().unwrap()[0] == s("expire"))
        .collect();
    assert_eq!(ex.len(), 3);
}

#[test]
fn store_events_have_brokers_layout_at_master_and_clone() {
    let mut net = network(1);
    let m = net.master(0).entity();
    let c = net.clone_of(1).entity();
    let pubf = |e: EntityId| [s(&e.endpoint.to_string()), Data::Count(e.object)];
    net.events.clear();
    net.ok(0, Op::put(s("k"), Data::Count(1), secs(60)));
    net.ok(1, put(s("k"), Data::Count(2)));
    net.ok(0, Op::erase(s("k")));
    net.ok(1, Op::increment(s("n"), Data::Count(3), secs(5)));
    net.tick(2);
    let name = Data::from("test/store");
    let v = |xs: Vec<Data>| Data::Vector(xs);
    let expected = vec![
        v([
            vec![s("insert"), name.clone(), s("k"), Data::Count(1)],
            vec![Data::Timespan(Timespan(60_000_000_000))],
            pubf(m).to_vec(),
        ]
        .concat()),
        v([
            vec![
                s("update"),
                name.clone(),
                s("k"),
                Data::Count(1),
                Data::Count(2),
            ],
            vec![Data::None],
            pubf(c).to_vec(),
        ]
        .concat()),
        v([vec![s("erase"), name.clone(), s("k")], pubf(m).to_vec()].concat()),
        // add's event carries no expiry, as its broadcast.
        v([
            vec![
                s("insert"),
                name.clone(),
                s("n"),
                Data::Count(3),
                Data::None,
            ],
            pubf(c).to_vec(),
        ]
        .concat()),
    ];
    assert_eq!(net.events_of(0), expected);
    assert_eq!(net.events_of(1), expected);
    // clear: an erase per key, on both sides.
    net.ok(0, put(s("x"), Data::Count(1)));
    net.tick(1);
    net.events.clear();
    net.ok(0, Op::clear());
    net.tick(1);
    let erases = |i| {
        net.events_of(i)
            .iter()
            .map(|e| e.as_vector().unwrap()[..3].to_vec())
            .collect::<Vec<_>>()
    };
    let want = vec![
        vec![s("erase"), name.clone(), s("n")],
        vec![s("erase"), name.clone(), s("x")],
    ];
    assert_eq!(erases(0), want);
    assert_eq!(erases(1), want);
}

#[test]
fn a_late_clone_gets_a_snapshot_and_events_for_it() {
    let mut net = Net::new();
    net.add_master(1, memory());
    for i in 0..50u64 {
        net.ok(0, put(Data::Count(i), Data::Count(i * 2)));
    }
    // Writes before any clone use no sequence numbers.
    assert!(net.log.is_empty());
    let c = net.add_clone(10, CloneConfig::default());
    net.tick(1);
    assert_eq!(net.replica(c), net.master_state(0));
    assert_eq!(net.events_of(c).len(), 50);
    let ack_clone = net
        .log
        .iter()
        .find(|(_, _, cmd)| matches!(cmd.content, Command::AckClone { .. }))
        .unwrap();
    assert_eq!(ack_clone.1, ep(10));
    assert_eq!(ack_clone.2.seq, 1);
    assert_eq!(ack_clone.2.receiver, net.clone_of(c).entity());
    // Reads issued before the snapshot waited for it.
    let mut net = Net::new();
    net.add_master(1, memory());
    net.ok(0, put(s("k"), s("v")));
    net.cut.insert((ep(1), ep(10)));
    let c = net.add_clone(10, CloneConfig::default());
    let id = net.request(c, Op::get(s("k")));
    net.tick(5);
    assert!(!net.replies.contains_key(&id));
    net.cut.clear();
    net.tick(3);
    assert_eq!(net.replies[&id], Ok(s("v")));
    // Without a master for 5 s they fail with stale_data.
    let mut net = Net::new();
    let c = net.add_clone(10, CloneConfig::default());
    let id = net.request(c, Op::get(s("k")));
    let w = net.request(c, put(s("k"), s("v")));
    net.tick(49);
    assert!(!net.replies.contains_key(&id));
    net.tick(2);
    assert_eq!(
        net.replies[&id].clone().unwrap_err().0,
        ErrorCode::StaleData
    );
    assert!(!net.replies.contains_key(&w));
}

// ---------------------------------------------------------------------------------------
// A master that goes away

#[test]
fn a_clone_outlives_its_master_and_resumes_with_it() {
    let mut net = Net::new();
    net.add_master(1, memory());
    let config = CloneConfig {
        stale_interval: Some(Duration::from_secs(2)),
        mutation_buffer_interval: Duration::from_secs(4),
        ..CloneConfig::default()
    };
    net.add_clone(10, config);
    net.add_clone(11, CloneConfig::default());
    net.tick(3);
    net.ok(1, put(s("a"), Data::Count(1)));
    net.ok(0, Op::increment(s("n"), Data::Count(1), None));
    net.tick(2);

    // The link between the master and clone 1 breaks.
    net.cut(0, 1);
    assert!(!net.clone_of(1).is_attached());
    assert!(
        net.statuses
            .iter()
            .any(|(i, c, _)| *i == 1 && *c == ErrorCode::NoSuchMaster)
    );
    // Reads go on from the replica; writes wait.
    assert_eq!(net.ok(1, Op::get(s("a"))), Data::Count(1));
    let w1 = net.request(1, Op::increment(s("n"), Data::Count(10), None));
    let w2 = net.request(1, put(s("b"), s("while away")));
    // The master and the other clone go on.
    net.ok(0, Op::increment(s("n"), Data::Count(100), None));
    net.ok(2, put(s("c"), s("by 2")));
    net.tick(15);
    assert!(!net.replies.contains_key(&w1));
    assert_eq!(net.ok(1, Op::get(s("n"))), Data::Count(1));
    // After the stale interval, reads fail.
    net.tick(10);
    assert_eq!(net.code(1, Op::get(s("a"))), ErrorCode::StaleData);
    assert!(
        net.statuses
            .iter()
            .any(|(i, c, _)| *i == 1 && *c == ErrorCode::StaleData)
    );

    // The link comes back: the same master resumes both channels, nothing lost.
    net.heal(0, 1);
    net.tick(10);
    assert!(net.clone_of(1).is_attached());
    assert_eq!(net.wait(w1), Ok(Data::None));
    assert_eq!(net.wait(w2), Ok(Data::None));
    net.tick(5);
    let m = net.master_state(0);
    assert_eq!(m[&s("n")], Data::Count(111));
    assert_eq!(m[&s("b")], s("while away"));
    assert_eq!(net.replica(1), m);
    assert_eq!(net.replica(2), m);
    assert_eq!(net.ok(1, Op::get(s("c"))), s("by 2"));
    // No second snapshot was needed.
    let acks = net
        .log
        .iter()
        .filter(|(_, to, c)| *to == ep(10) && matches!(c.content, Command::AckClone { .. }))
        .map(|(_, _, c)| c.seq)
        .collect::<BTreeSet<_>>();
    assert_eq!(acks.len(), 1, "{acks:?}");

    // Writes wait no longer than the mutation buffer interval.
    net.cut(0, 1);
    let w3 = net.request(1, put(s("d"), s("too late")));
    net.tick(41);
    assert_eq!(
        net.replies[&w3].clone().unwrap_err().0,
        ErrorCode::NoSuchMaster
    );
    net.heal(0, 1);
    net.tick(10);
    assert!(!net.master_state(0).contains_key(&s("d")));
    assert_eq!(net.replica(1), net.master_state(0));
}

/// A master (node 0) and a clone (node 1) that buffers writes for [`BUFFER_TICKS`].
fn buffering_network() -> Net {
    let mut net = Net::new();
    net.add_master(1, memory());
    let config = CloneConfig {
        mutation_buffer_interval: TICK * BUFFER_TICKS as u32,
        ..CloneConfig::default()
    };
    net.add_clone(10, config);
    net.tick(3);
    net
}

const BUFFER_TICKS: usize = 20;

/// Ticks until every request in `ids` is answered (at most `limit` ticks), and returns
/// the answers with the number of ticks each took.
fn answers_within(net: &mut Net, ids: &[u64], limit: usize) -> Vec<(usize, Reply)> {
    let mut got: BTreeMap<u64, (usize, Reply)> = BTreeMap::new();
    for t in 0..=limit {
        for id in ids {
            if let Some(r) = net.replies.remove(id) {
                got.insert(*id, (t, r));
            }
        }
        if got.len() == ids.len() {
            break;
        }
        net.tick(1);
    }
    ids.iter()
        .map(|id| {
            got.remove(id)
                .unwrap_or_else(|| panic!("request {id} unanswered after {limit} ticks"))
        })
        .collect()
}

fn timed_out(r: &Reply) -> bool {
    let maybe = "may or may not have been applied";
    matches!(r, Err((ErrorCode::RequestTimeout, m)) if m.contains(maybe))
}

#[test]
fn writes_in_flight_when_the_master_goes_for_good_fail_after_the_mutation_buffer_interval() {
    let mut net = buffering_network();
    net.ok(1, put(s("a"), Data::Count(1)));
    // Writes that never reach the master: sent, then the link breaks.
    let lost = [
        net.request_held(1, put(s("b"), s("lost"))),
        net.request_held(1, Op::increment(s("a"), Data::Count(10), None)),
        net.request_held(1, Op::put_unique(s("u"), s("lost"), None)),
        net.request_held(1, Op::erase(s("a"))),
    ];
    net.cut(0, 1);
    assert!(!net.clone_of(1).is_attached());
    let idle = net.request(1, Op::await_idle());
    let got = answers_within(&mut net, &lost, BUFFER_TICKS + 2);
    for (ticks, r) in &got {
        assert!(timed_out(r), "{r:?}");
        // Not before the interval: a master back by then would still have taken them.
        assert!(*ticks >= BUFFER_TICKS, "answered after {ticks} ticks");
    }
    assert!(
        net.statuses
            .iter()
            .any(|(i, c, m)| *i == 1 && *c == ErrorCode::RequestTimeout && m.contains("4 writes"))
    );
    // The writer channel is unacknowledged until it times out (100 heartbeats); then the
    // clone is idle.
    let (ticks, r) = answers_within(&mut net, &[idle], 600).remove(0);
    assert_eq!(r, Ok(Data::None));
    assert!(ticks <= 500, "{ticks} ticks");
    // Writes issued meanwhile still fail with no_such_master; nothing is answered twice.
    let late = net.request(1, put(s("c"), s("late")));
    let (_, r) = answers_within(&mut net, &[late], BUFFER_TICKS + 2).remove(0);
    assert_eq!(r.unwrap_err().0, ErrorCode::NoSuchMaster);
    net.tick(50);
    assert!(net.replies.is_empty(), "{:?}", net.replies);

    // Long after, the master (which has dropped the clone by now) is back: a resync.
    net.heal(0, 1);
    net.tick(10);
    assert!(net.clone_of(1).is_attached());
    assert_eq!(net.ok(1, put(s("d"), s("after"))), Data::None);
    net.tick(2);
    let m = net.master_state(0);
    assert_eq!(m[&s("a")], Data::Count(1));
    assert!(!m.contains_key(&s("b")) && !m.contains_key(&s("u")));
    assert_eq!(net.replica(1), m);
    assert!(net.replies.is_empty(), "{:?}", net.replies);
}

#[test]
fn writes_in_flight_when_the_master_comes_back_in_time_apply_once() {
    let mut net = buffering_network();
    net.ok(1, Op::increment(s("n"), Data::Count(1), None));
    net.tick(2);
    // One write reaches the master (and its broadcast the clone) but the link breaks
    // before the master's ack; two never reach it.
    let applied = net.request(1, Op::increment(s("n"), Data::Count(10), None));
    assert_eq!(net.master_state(0)[&s("n")], Data::Count(11));
    let held = [
        net.request_held(1, Op::increment(s("n"), Data::Count(100), None)),
        net.request_held(1, put(s("k"), s("v"))),
    ];
    net.cut(0, 1);
    net.tick(BUFFER_TICKS - 5);
    assert!(net.replies.is_empty(), "{:?}", net.replies);
    net.heal(0, 1);
    let ids = [applied, held[0], held[1]];
    for (_, r) in answers_within(&mut net, &ids, 20) {
        assert_eq!(r, Ok(Data::None));
    }
    assert!(net.clone_of(1).is_attached());
    // Past the interval: nothing else comes.
    net.tick(BUFFER_TICKS);
    assert!(net.replies.is_empty(), "{:?}", net.replies);
    let m = net.master_state(0);
    assert_eq!(m[&s("n")], Data::Count(111));
    assert_eq!(m[&s("k")], s("v"));
    assert_eq!(net.replica(1), m);
    // The same channels resumed: no second snapshot.
    let acks = net
        .log
        .iter()
        .filter(|(_, to, c)| *to == ep(10) && matches!(c.content, Command::AckClone { .. }))
        .map(|(_, _, c)| c.seq)
        .collect::<BTreeSet<_>>();
    assert_eq!(acks.len(), 1, "{acks:?}");
    assert_eq!(net.ok(1, Op::await_idle()), Data::None);
}

#[test]
fn writes_answered_after_the_interval_still_apply_once_if_the_master_resumes_the_channel() {
    let mut net = buffering_network();
    net.ok(1, Op::increment(s("n"), Data::Count(1), None));
    let held = [
        net.request_held(1, put(s("k"), s("v"))),
        net.request_held(1, Op::increment(s("n"), Data::Count(10), None)),
    ];
    net.cut(0, 1);
    for (_, r) in answers_within(&mut net, &held, BUFFER_TICKS + 2) {
        assert!(timed_out(&r), "{r:?}");
    }
    // The caller writes again while the clone waits for the master; it returns on the
    // same channels (it has not dropped the clone) and takes the first writes too, once
    // each. The new writes' answers are not confused by the first ones' broadcasts.
    let again = [
        net.request(1, put(s("k"), s("w"))),
        net.request(1, Op::increment(s("n"), Data::Count(5), None)),
    ];
    net.heal(0, 1);
    for (_, r) in answers_within(&mut net, &again, 20) {
        assert_eq!(r, Ok(Data::None));
    }
    net.tick(BUFFER_TICKS);
    assert!(net.replies.is_empty(), "{:?}", net.replies);
    let m = net.master_state(0);
    assert_eq!(m[&s("n")], Data::Count(16));
    assert_eq!(m[&s("k")], s("w"));
    assert_eq!(net.replica(1), m);
    assert_eq!(net.ok(1, Op::await_idle()), Data::None);
    assert!(
        !net.statuses
            .iter()
            .any(|(i, c, _)| *i == 1 && *c == ErrorCode::BackendFailure),
        "{:?}",
        net.statuses
    );
}

/// A put_unique the master applied and acknowledged, whose result is lost, then the link
/// breaks; and one that never reaches the master.
fn put_unique_in_flight(net: &mut Net) -> [u64; 2] {
    net.lose_next = Some(|_, c| matches!(c, Command::PutUniqueResult { .. }));
    let acked = net.request(1, Op::put_unique(s("u"), s("x"), None));
    assert!(net.lose_next.is_none(), "the result was not lost");
    net.tick(1);
    assert_eq!(net.master_state(0)[&s("u")], s("x"));
    let held = net.request_held(1, Op::put_unique(s("v"), s("y"), None));
    net.cut(0, 1);
    [acked, held]
}

#[test]
fn a_put_unique_in_flight_is_answered_within_the_mutation_buffer_interval() {
    // The master comes back in time: both results arrive, each answered once.
    let mut net = buffering_network();
    let ids = put_unique_in_flight(&mut net);
    net.tick(BUFFER_TICKS - 5);
    assert!(net.replies.is_empty(), "{:?}", net.replies);
    net.heal(0, 1);
    let got: Vec<Reply> = answers_within(&mut net, &ids, 20)
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    assert_eq!(got, vec![Ok(Data::Boolean(true)), Ok(Data::Boolean(true))]);
    net.tick(BUFFER_TICKS);
    assert!(net.replies.is_empty(), "{:?}", net.replies);
    assert_eq!(net.replica(1), net.master_state(0));
    assert_eq!(net.replica(1)[&s("v")], s("y"));
    assert_eq!(net.ok(1, Op::await_idle()), Data::None);

    // The master stays away: both fail with request_timeout after the interval.
    let mut net = buffering_network();
    let ids = put_unique_in_flight(&mut net);
    for (ticks, r) in answers_within(&mut net, &ids, BUFFER_TICKS + 2) {
        assert!(timed_out(&r), "{r:?}");
        assert!(ticks >= BUFFER_TICKS, "answered after {ticks} ticks");
    }
    // The master comes back while it still knows the clone: the channels resume, the
    // held put_unique is applied once, its late result answers nothing.
    net.heal(0, 1);
    net.tick(20);
    assert!(net.clone_of(1).is_attached());
    assert!(net.replies.is_empty(), "{:?}", net.replies);
    let m = net.master_state(0);
    assert_eq!(m[&s("v")], s("y"));
    assert_eq!(net.replica(1), m);
    let again = net.request(1, Op::put_unique(s("v"), s("z"), None));
    assert_eq!(net.wait(again), Ok(Data::Boolean(false)));
    assert_eq!(net.ok(1, put(s("w"), s("after"))), Data::None);
    assert_eq!(net.ok(1, Op::await_idle()), Data::None);
}

#[test]
fn a_clone_forgotten_by_its_master_resyncs_from_a_new_snapshot() {
    let mut net = Net::new();
    net.add_master(1, memory());
    net.add_clone(10, CloneConfig::default());
    net.tick(3);
    net.ok(1, put(s("a"), Data::Count(1)));
    net.cut(0, 1);
    // Long enough for the master to drop the silent clone (5 × 100 ticks).
    net.ok(0, put(s("a"), Data::Count(2)));
    net.ok(0, put(s("z"), Data::Count(26)));
    net.tick(510);
    assert_eq!(net.master(0).clones().count(), 0);
    let w = net.request(1, put(s("w"), s("buffered")));
    net.heal(0, 1);
    net.tick(10);
    assert_eq!(net.wait(w), Ok(Data::None));
    assert!(net.clone_of(1).is_attached());
    net.tick(2);
    assert_eq!(net.replica(1), net.master_state(0));
    assert_eq!(net.replica(1)[&s("a")], Data::Count(2));
    assert!(
        net.statuses
            .iter()
            .any(|(i, _, m)| *i == 1 && m.contains("resynchronized"))
    );
}

#[test]
fn a_clone_whose_writes_stop_reaching_the_master_finds_out_and_resyncs() {
    let mut net = Net::new();
    net.add_master(1, memory());
    net.add_clone(10, CloneConfig::default());
    net.tick(3);
    net.ok(1, put(s("a"), Data::Count(1)));
    // Nothing from the clone reaches the master any more; the other way works, and no
    // peering ends.
    net.oneway.insert((ep(10), ep(1)));
    let lost = net.request(1, put(s("lost"), Data::Count(1)));
    net.ok(0, put(s("m"), Data::Count(2)));
    assert_eq!(net.replica(1)[&s("m")], Data::Count(2));
    // The master drops the silent clone (and its writer) after 500 ticks; the clone's
    // writer channel then hears nothing and times out 500 ticks later.
    net.tick(1005);
    assert_eq!(net.master(0).clones().count(), 0);
    assert!(!net.clone_of(1).is_attached());
    assert_eq!(net.ok(1, Op::get(s("m"))), Data::Count(2));
    let later = net.request(1, put(s("later"), Data::Count(3)));
    net.oneway.clear();
    net.tick(5);
    assert!(net.clone_of(1).is_attached());
    let e = net.wait(lost).unwrap_err();
    assert_eq!(e.0, ErrorCode::RequestTimeout);
    assert_eq!(net.wait(later), Ok(Data::None));
    net.tick(2);
    let m = net.master_state(0);
    assert!(!m.contains_key(&s("lost")));
    assert_eq!(m[&s("later")], Data::Count(3));
    assert_eq!(net.replica(1), m);
}

#[test]
fn a_clone_follows_a_restarted_master_and_stays_consistent() {
    let dir = tempdir("restart");
    let path = dir.join("store.sqlite");
    let mut net = Net::new();
    let open = || Box::new(SqliteBackend::open(&SqliteOptions::new(&path)).unwrap());
    net.add_master(1, open());
    net.add_clone(10, CloneConfig::default());
    net.add_clone(11, CloneConfig::default());
    net.tick(3);
    for i in 0..20u64 {
        net.request(
            1 + (i as usize % 2),
            Op::increment(s("n"), Data::Count(1), None),
        );
    }
    for n in 1..3 {
        assert_eq!(net.ok(n, Op::await_idle()), Data::None);
    }
    net.ok(0, Op::put(s("exp"), s("e"), secs(3)));
    net.tick(2);
    // The master's process dies: its endpoint is gone.
    net.nodes[0].alive = false;
    for n in 1..3 {
        let now = net.now;
        let outs = net.nodes[n].actor.get().peer_lost(now, ep(1));
        net.handle(n, outs);
    }
    net.run();
    net.nodes.remove(0);
    let (c1, c2) = (0, 1);
    net.tick(5);
    assert_eq!(net.ok(c1, Op::get(s("n"))), Data::Count(20));
    let pending = net.request(c2, Op::increment(s("n"), Data::Count(100), None));
    // A new master, on another endpoint, opens the same file.
    let m = net.add_master(2, open());
    net.tick(10);
    assert_eq!(net.wait(pending), Ok(Data::None));
    net.tick(2);
    let state = net.master_state(m);
    assert_eq!(state[&s("n")], Data::Count(120));
    assert_eq!(net.replica(c1), state);
    assert_eq!(net.replica(c2), state);
    assert_eq!(net.clone_of(c1).master(), Some(EntityId::new(ep(2), 7)));
    // The expiry survived the restart.
    assert!(net.master(m).expiry(&s("exp")).is_some());
    net.tick(30);
    assert!(!net.replica(c1).contains_key(&s("exp")));
}

// ---------------------------------------------------------------------------------------
// SQLite

fn tempdir(what: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "brook-store-actors-{what}-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn sqlite_keeps_data_and_expiries_across_reopen() {
    let dir = tempdir("reopen");
    // Directories are created.
    let path = dir.join("a").join("b").join("store.db");
    let mut o = SqliteOptions::new(&path);
    o.synchronous = Some(Synchronous::Normal);
    o.journal_mode = Some(JournalMode::Wal);
    o.integrity_check = true;
    let at = Timestamp(1_800_000_000_000_000_000);
    {
        let mut b = SqliteBackend::open(&o).unwrap();
        assert_eq!(b.put(s("k"), s("v"), None).unwrap(), None);
        assert_eq!(b.put(s("k"), s("v2"), Some(at)).unwrap(), Some(s("v")));
        b.put(Data::Count(1), Data::Set([s("x")].into()), None)
            .unwrap();
        b.put(s("gone"), s("x"), None).unwrap();
        assert_eq!(b.erase(&s("gone")).unwrap(), Some(s("x")));
        assert_eq!(b.erase(&s("never")).unwrap(), None);
        for i in 0..1000u64 {
            b.put(Data::Integer(i as i64), Data::Count(i), None)
                .unwrap();
        }
        assert_eq!(b.len().unwrap(), 1002);
        b.flush().unwrap();
    }
    let b = SqliteBackend::open(&o).unwrap();
    assert_eq!(b.get(&s("k")).unwrap(), Some(s("v2")));
    assert_eq!(
        b.get(&Data::Count(1)).unwrap(),
        Some(Data::Set([s("x")].into()))
    );
    assert_eq!(b.get(&s("gone")).unwrap(), None);
    assert_eq!(b.len().unwrap(), 1002);
    assert_eq!(b.expiries().unwrap(), vec![(s("k"), at)]);
    drop(b);

    // The file has Broker's schema and encoding.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: String = conn
        .query_row(
            "select value from meta where key = 'broker_version'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(version, brook::store::sqlite::SCHEMA_BROKER_VERSION);
    let (value, expiry): (Vec<u8>, Option<i64>) = conn
        .query_row(
            "select value, expiry from store where key = ?1",
            [brook::data::bin::encode(&s("k")).unwrap()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(hex(&value), "05027632");
    assert_eq!(expiry, Some(at.0));
    // A file as Broker writes it opens here.
    conn.execute(
        "replace into store(key, value, expiry) values(?1, ?2, NULL)",
        [
            unhex("0503666f6f"),                     // "foo"
            unhex("0e0202000000000000000305026869"), // (3, "hi")
        ],
    )
    .unwrap();
    drop(conn);
    let b = SqliteBackend::open(&o).unwrap();
    assert_eq!(
        b.get(&s("foo")).unwrap(),
        Some(Data::Vector(vec![Data::Count(3), s("hi")]))
    );
    drop(b);

    // clear reaches the file too.
    let mut b = SqliteBackend::open(&o).unwrap();
    b.clear().unwrap();
    drop(b);
    assert!(SqliteBackend::open(&o).unwrap().is_empty().unwrap());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_master_restarted_on_its_file_serves_the_same_data_and_expiries() {
    let dir = tempdir("master-restart");
    let o = SqliteOptions::new(dir.join("m.sqlite"));
    let mut net = Net::new();
    net.add_master(1, Box::new(SqliteBackend::open(&o).unwrap()));
    net.ok(0, put(s("a"), Data::Count(1)));
    net.ok(0, Op::increment(s("n"), Data::Count(5), secs(2)));
    net.ok(0, Op::put(s("e"), s("x"), secs(60)));
    let expiry = net.master(0).expiry(&s("e")).unwrap();
    net.nodes.clear();
    let mut net2 = Net::new();
    net2.now = net.now;
    net2.add_master(1, Box::new(SqliteBackend::open(&o).unwrap()));
    assert_eq!(net2.ok(0, Op::get(s("a"))), Data::Count(1));
    assert_eq!(net2.master(0).expiry(&s("e")), Some(expiry));
    net2.tick(21);
    assert_eq!(net2.code(0, Op::get(s("n"))), ErrorCode::NoSuchKey);
    assert_eq!(net2.ok(0, Op::get(s("e"))), s("x"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_corrupt_file_fails_or_is_replaced_as_the_failure_mode_says() {
    let dir = tempdir("corrupt");
    std::fs::create_dir_all(&dir).unwrap();
    let garbage = dir.join("garbage.sqlite");
    std::fs::write(&garbage, vec![0x5a; 8192]).unwrap();
    // Fail (Broker's default): the open fails and the file is left alone.
    let o = SqliteOptions::new(&garbage);
    assert_eq!(o.failure_mode, FailureMode::Fail);
    let e = SqliteBackend::open(&o).unwrap_err();
    assert_eq!(e.code(), ErrorCode::BackendFailure);
    assert!(e.message.contains("garbage.sqlite"), "{e}");
    assert_eq!(std::fs::read(&garbage).unwrap(), vec![0x5a; 8192]);
    // Delete: a new, empty store.
    let mut o = SqliteOptions::new(&garbage);
    o.failure_mode = FailureMode::Delete;
    let mut b = SqliteBackend::open(&o).unwrap();
    assert!(b.is_empty().unwrap());
    b.put(s("k"), s("v"), None).unwrap();
    drop(b);
    assert_eq!(
        SqliteBackend::open(&o).unwrap().get(&s("k")).unwrap(),
        Some(s("v"))
    );

    // A valid database with damaged pages: the integrity check finds it.
    let damaged = dir.join("damaged.sqlite");
    {
        let mut b = SqliteBackend::open(&SqliteOptions::new(&damaged)).unwrap();
        for i in 0..2000u64 {
            b.put(Data::Count(i), s(&"x".repeat(100)), None).unwrap();
        }
    }
    let mut bytes = std::fs::read(&damaged).unwrap();
    let len = bytes.len();
    for b in &mut bytes[len / 2..len / 2 + 4096] {
        *b = 0xa5;
    }
    std::fs::write(&damaged, &bytes).unwrap();
    let mut o = SqliteOptions::new(&damaged);
    o.integrity_check = true;
    assert!(SqliteBackend::open(&o).is_err());
    o.failure_mode = FailureMode::Delete;
    assert!(SqliteBackend::open(&o).unwrap().is_empty().unwrap());

    // An undecodable row is corruption too.
    let odd = dir.join("odd.sqlite");
    drop(SqliteBackend::open(&SqliteOptions::new(&odd)).unwrap());
    let conn = rusqlite::Connection::open(&odd).unwrap();
    conn.execute(
        "insert into store(key, value, expiry) values(x'ff', x'00', NULL)",
        [],
    )
    .unwrap();
    drop(conn);
    let e = SqliteBackend::open(&SqliteOptions::new(&odd)).unwrap_err();
    assert!(e.message.contains("undecodable key"), "{e}");

    // Broker's option table.
    let t: brook::data::Table = [
        (s("path"), s(dir.join("opts.db").to_str().unwrap())),
        (
            s("synchronous"),
            Data::enum_value("Broker::SQLITE_SYNCHRONOUS_FULL"),
        ),
        (
            s("journal_mode"),
            Data::enum_value("Broker::SQLITE_JOURNAL_MODE_WAL"),
        ),
        (
            s("failure_mode"),
            Data::enum_value("Broker::SQLITE_FAILURE_MODE_DELETE"),
        ),
        (s("integrity_check"), Data::Boolean(true)),
    ]
    .into();
    let o = SqliteOptions::from_broker_options(&t).unwrap();
    assert_eq!(o.synchronous, Some(Synchronous::Full));
    assert_eq!(o.journal_mode, Some(JournalMode::Wal));
    assert_eq!(o.failure_mode, FailureMode::Delete);
    assert!(o.integrity_check);
    let mut bad = t.clone();
    bad.insert(
        s("journal_mode"),
        Data::enum_value("Broker::SQLITE_JOURNAL_MODE_MEMORY"),
    );
    assert!(SqliteOptions::from_broker_options(&bad).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------
// Broker's sessions replayed

struct Frame {
    to_master: bool,
    receiver: EndpointId,
    cmd: InternalCommand,
}

fn capture(name: &str) -> Vec<Frame> {
    rows("envelopes.tsv")
        .into_iter()
        .filter(|r| r["kind"].starts_with("command/") && r["capture"] == name)
        .map(|r| {
            let frame = unhex(&r["frame_hex"]);
            let env = Envelope::parse(&frame[4..]).unwrap();
            Frame {
                to_master: r["dir"] == "C->S",
                receiver: env.receiver,
                cmd: InternalCommand::decode_exact(env.payload).unwrap(),
            }
        })
        .collect()
}

/// What the comparison looks at: everything but acks and keepalives, whose timing
/// depends on the clocks; ack_clone's snapshot sorted.
fn comparable(to: EndpointId, cmd: &InternalCommand) -> Option<(EndpointId, InternalCommand)> {
    match cmd.content {
        Command::CumulativeAck { .. } | Command::Keepalive { .. } => None,
        _ => {
            let mut c = cmd.clone();
            if let Command::AckClone { state, .. } = &mut c.content {
                state.sort();
            }
            Some((to, c))
        }
    }
}

/// The op a clone's write in a capture came from (spec §7.8).
fn op_of(cmd: &Command) -> (Op, Option<EntityId>) {
    match cmd.clone() {
        Command::Put {
            key, value, expiry, ..
        } => (Op::put(key, value, expiry), None),
        Command::PutUnique {
            key,
            value,
            expiry,
            who,
            ..
        } => (Op::put_unique(key, value, expiry), Some(who)),
        Command::Erase { key, .. } => (Op::erase(key), None),
        Command::Clear { .. } => (Op::clear(), None),
        Command::Add {
            key,
            value,
            init_type,
            expiry,
            ..
        } => (
            match init_type {
                5 => Op::append(key, value, expiry),
                12 => Op::insert_into(key, value, None, expiry),
                13 => {
                    let Data::Vector(kv) = value else { panic!() };
                    Op::insert_into(key, kv[0].clone(), Some(kv[1].clone()), expiry)
                }
                14 => Op::push(key, value, expiry),
                _ => Op::increment(key, value, expiry),
            },
            None,
        ),
        Command::Subtract {
            key, value, expiry, ..
        } => (
            if value == key {
                Op::pop(key, expiry)
            } else if matches!(value, Data::Count(_) | Data::Integer(_)) && key != s("k_set") {
                Op::decrement(key, value, expiry)
            } else {
                Op::remove_from(key, value, expiry)
            },
            None,
        ),
        other => panic!("not a write: {other:?}"),
    }
}

/// Feeds the clone's side of a capture into a brook master, performs the master's own
/// operations where the capture shows their broadcasts, and checks that the master sends
/// what Broker's did.
fn replay_master(name: &str, initial: &[(Data, Data)], local: Vec<Op>) -> Master {
    let frames = capture(name);
    let me = frames.iter().find(|f| !f.to_master).unwrap().cmd.sender;
    let mut backend = MemoryBackend::new();
    for (k, v) in initial {
        backend.put(k.clone(), v.clone(), None).unwrap();
    }
    let mut m = Master::new(
        "store",
        me,
        Box::new(backend),
        MasterConfig {
            eager_acks: false,
            ..MasterConfig::default()
        },
    )
    .unwrap();
    let mut now = Timestamp(1_700_000_000_000_000_000);
    let mut local = local.into_iter();
    let mut ours = Vec::new();
    let collect = |outs: Vec<StoreOutput>, ours: &mut Vec<_>| {
        for o in outs {
            match o {
                StoreOutput::Send { topic, to, cmd } => {
                    assert_eq!(topic, clone_topic(b"store"));
                    ours.extend(comparable(to, &cmd));
                }
                StoreOutput::Reply { result, .. } => assert!(result.is_ok(), "{result:?}"),
                StoreOutput::Status { code, message } => panic!("{code:?} {message}"),
                StoreOutput::Event(_) => {}
            }
        }
    };
    let master_publisher = |c: &Command| match c {
        Command::Put { publisher, .. } | Command::Erase { publisher, .. } => *publisher == me,
        _ => false,
    };
    for f in &frames {
        if f.to_master {
            let outs = m.on_command(now, f.cmd.sender.endpoint, f.cmd.clone());
            collect(outs, &mut ours);
        } else if master_publisher(&f.cmd.content) {
            let op = local.next().expect("a local operation for this broadcast");
            let outs = m.on_request(now, Request::new(1, me, op));
            collect(outs, &mut ours);
        } else if matches!(f.cmd.content, Command::Expire { .. }) {
            now = Timestamp(now.0 + 400_000_000);
            let outs = m.tick(now);
            collect(outs, &mut ours);
        }
        now = Timestamp(now.0 + 1_000_000);
    }
    assert!(local.next().is_none());
    let theirs: Vec<_> = frames
        .iter()
        .filter(|f| !f.to_master)
        .filter_map(|f| comparable(f.receiver, &f.cmd))
        .collect();
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(a, b, "{name}: command {i}");
    }
    assert_eq!(ours.len(), theirs.len(), "{name}");
    m
}

#[test]
fn a_brook_master_answers_brokers_clones_as_broker_did() {
    let m = replay_master(
        "store-master-clone.pcap",
        &[],
        vec![
            put(s("k_str"), s("value1")),
            put(s("k_cnt"), Data::Count(10)),
            put(s("k_int"), Data::Integer(5)),
            Op::increment(s("k_cnt"), Data::Count(5), None),
            put(s("k_tmp"), s("to-be-erased")),
            Op::erase(s("k_tmp")),
            put(
                s("k_set"),
                Data::Set([Data::Count(1), Data::Count(2)].into()),
            ),
            Op::insert_into(s("k_set"), Data::Count(3), None, None),
        ],
    );
    let keys: Vec<Data> = m.backend().keys().unwrap();
    assert_eq!(
        keys,
        ["k_cnt", "k_from_clone", "k_int", "k_set", "k_str"].map(s)
    );
    let m = replay_master(
        "store-all-commands.pcap",
        &[
            (s("pre"), s("existing before attach")),
            (s("pre2"), Data::Count(2)),
        ],
        vec![Op::put(
            s("k_short"),
            s("bye soon"),
            Some(Timespan(300_000_000)),
        )],
    );
    assert!(m.backend().is_empty().unwrap());
}

/// Feeds the master's side of a capture into a brook clone, issues the clone's writes
/// where the capture shows them, and checks that the clone sends what Broker's did.
fn replay_clone(name: &str) -> (StoreClone, Vec<Reply>) {
    let frames = capture(name);
    let me = frames.iter().find(|f| f.to_master).unwrap().cmd.sender;
    let mut c = StoreClone::new("store", me, CloneConfig::default());
    let now = Timestamp(1_700_000_000_000_000_000);
    let mut ours = Vec::new();
    let mut replies = BTreeMap::new();
    let mut collect = |outs: Vec<StoreOutput>, ours: &mut Vec<_>| {
        for o in outs {
            match o {
                StoreOutput::Send { topic, to, cmd } => {
                    assert_eq!(topic, master_topic(b"store"));
                    ours.extend(comparable(to, &cmd));
                }
                StoreOutput::Reply { id, result } => {
                    replies.insert(id, result);
                }
                StoreOutput::Status { code, message } => panic!("{code:?} {message}"),
                StoreOutput::Event(_) => {}
            }
        }
    };
    let mut id = 0;
    for f in &frames {
        if !f.to_master {
            collect(
                c.on_command(now, f.cmd.sender.endpoint, f.cmd.clone()),
                &mut ours,
            );
        } else if f.cmd.content.class() == CommandClass::Action {
            let (op, who) = op_of(&f.cmd.content);
            let req = match who {
                Some(who) => {
                    let id = match f.cmd.content {
                        Command::PutUnique { req_id, .. } => req_id,
                        _ => unreachable!(),
                    };
                    Request::new(id, who, op)
                }
                None => {
                    id += 100;
                    Request::new(id, me, op)
                }
            };
            collect(c.on_request(now, req), &mut ours);
        } else if matches!(f.cmd.content, Command::Nack { .. }) && ours.is_empty() {
            // The clone asks for its master with its first call.
            collect(c.tick(now), &mut ours);
        }
    }
    let theirs: Vec<_> = frames
        .iter()
        .filter(|f| f.to_master)
        .filter_map(|f| comparable(f.receiver, &f.cmd))
        .collect();
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(a, b, "{name}: command {i}");
    }
    assert_eq!(ours.len(), theirs.len(), "{name}");
    (c, replies.into_values().collect())
}

#[test]
fn a_brook_clone_talks_to_brokers_master_as_brokers_clone_did() {
    let (c, replies) = replay_clone("store-master-clone.pcap");
    let r = c.replica();
    assert_eq!(r[&s("k_cnt")], Data::Count(15));
    assert_eq!(r[&s("k_str")], s("value1"));
    assert_eq!(r[&s("k_from_clone")], s("hi"));
    assert_eq!(r.len(), 5);
    // The capture ends before the master acknowledged the clone's write.
    assert!(replies.is_empty());

    let (c, replies) = replay_clone("store-all-commands.pcap");
    assert!(c.replica().is_empty());
    // put_unique (ids 1, 2) answered true and false; every other write succeeded.
    assert_eq!(replies[0], Ok(Data::Boolean(true)));
    assert_eq!(replies[1], Ok(Data::Boolean(false)));
    assert!(
        replies[2..].iter().all(|r| *r == Ok(Data::None)),
        "{replies:?}"
    );
    assert_eq!(replies.len(), 2 + 13);
}
