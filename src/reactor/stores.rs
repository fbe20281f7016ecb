//! The store masters and clones attached to this endpoint, and the API callers waiting for
//! their answers.
//!
//! Each call hands the actors what arrived (a command from a peer, a handle's request, a
//! tick, a lost peer) and returns what must go out as [`Effect`]s: command frames to route,
//! store events for local subscribers, errors for the status subscribers. Answers to the
//! API go straight to their [`ReplyTo`].

use crate::contract::command::{ReplyTo, StoreResponse};
use crate::contract::queue::Mailbox;
use crate::data::Timestamp;
use crate::error::{Error, ErrorKind, Result};
use crate::store::actor::{Request, StoreActor, StoreOutput};
use crate::store::{InternalCommand, master_topic};
use crate::wire::envelope::{self, Envelope, EnvelopeType};
use crate::wire::{EndpointId, ErrorCode};
use std::collections::HashMap;
use std::sync::{Arc, Weak};

/// What the stores ask of the reactor.
#[derive(Debug, PartialEq)]
pub(super) enum Effect {
    /// A command envelope (a whole frame) to route as a local publication.
    Route(Vec<u8>),
    /// A store event (a whole data frame addressed to this endpoint) for local subscribers.
    Deliver(Vec<u8>),
    /// An error for the status subscribers.
    Error(ErrorCode, String),
}

struct Slot {
    id: u64,
    actor: Box<dyn StoreActor>,
    /// The topic its commands arrive on.
    listen: Vec<u8>,
    waiting: HashMap<u64, ReplyTo>,
    /// Received commands this turn.
    busy: bool,
}

pub(super) struct Stores {
    me: EndpointId,
    slots: Vec<Slot>,
    next: u64,
    /// The answer queues of store proxies that made requests, closed at shutdown.
    proxies: Vec<Weak<Mailbox<StoreResponse>>>,
}

impl Stores {
    pub(super) fn new(me: EndpointId) -> Stores {
        Stores {
            me,
            slots: Vec::new(),
            next: 0,
            proxies: Vec::new(),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    pub(super) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Attaches `actor`, listening on `listen`. Broker refuses a second master or clone of
    /// one store on an endpoint, and a master where a direct peer has one
    /// (`master_elsewhere`). A clone starts attaching at once.
    pub(super) fn attach(
        &mut self,
        actor: Box<dyn StoreActor>,
        listen: Vec<u8>,
        master: bool,
        master_elsewhere: impl Fn(&[u8]) -> bool,
        out: &mut Vec<Effect>,
    ) -> Result<u64> {
        let name = actor.name().to_vec();
        let shown = String::from_utf8_lossy(&name).into_owned();
        if self.slots.iter().any(|s| s.actor.name() == name.as_slice()) {
            let what = if master { "master" } else { "clone" };
            return Err(Error::new(
                ErrorKind::Store(ErrorCode::MasterExists),
                format!("store {shown} already has a master or clone here; cannot attach a {what}"),
            ));
        }
        if master && master_elsewhere(&master_topic(&name)) {
            return Err(Error::new(
                ErrorKind::Store(ErrorCode::MasterExists),
                format!("a peer already has a master for store {shown}"),
            ));
        }
        self.next += 1;
        let id = self.next;
        self.slots.push(Slot {
            id,
            actor,
            listen,
            waiting: HashMap::new(),
            busy: false,
        });
        let i = self.slots.len() - 1;
        let outputs = self.slots[i].actor.tick(Timestamp::now());
        self.carry_out(i, outputs, out);
        Ok(id)
    }

    /// Detaches a store; callers still waiting learn that it is gone.
    pub(super) fn detach(&mut self, store: u64) {
        if let Some(i) = self.slots.iter().position(|s| s.id == store) {
            let slot = self.slots.remove(i);
            answer_all(slot.waiting, "the store was detached");
        }
    }

    /// A store handle's request; its answer goes to `reply`.
    pub(super) fn request(
        &mut self,
        store: u64,
        req: Request,
        reply: ReplyTo,
        out: &mut Vec<Effect>,
    ) {
        if let ReplyTo::Proxy(mailbox) = &reply {
            let weak = Arc::downgrade(mailbox);
            if !self.proxies.iter().any(|p| p.ptr_eq(&weak)) {
                self.proxies.retain(|p| p.strong_count() > 0);
                self.proxies.push(weak);
            }
        }
        let Some(i) = self.slots.iter().position(|s| s.id == store) else {
            let err = Error::new(ErrorKind::Closed, "the store is detached");
            reply.answer(req.id(), Err(err));
            return;
        };
        self.slots[i].waiting.insert(req.id(), reply);
        let outputs = self.slots[i].actor.on_request(Timestamp::now(), req);
        self.carry_out(i, outputs, out);
    }

    /// A master's backend made more of its changes durable.
    pub(super) fn durable(&mut self, store: u64, out: &mut Vec<Effect>) {
        if let Some(i) = self.slots.iter().position(|s| s.id == store) {
            let outputs = self.slots[i].actor.durable(Timestamp::now());
            self.carry_out(i, outputs, out);
        }
    }

    /// A command envelope from peer `from` on `topic`, for the stores listening there.
    pub(super) fn command(
        &mut self,
        from: EndpointId,
        topic: &[u8],
        cmd: InternalCommand,
        out: &mut Vec<Effect>,
    ) {
        let now = Timestamp::now();
        // Each listener but the last gets a copy (an ack_clone may carry a large snapshot).
        let mut cmd = Some(cmd);
        for i in 0..self.slots.len() {
            if self.slots[i].listen != topic {
                continue;
            }
            let more = self.slots[i + 1..].iter().any(|s| s.listen == topic);
            let Some(c) = (if more { cmd.clone() } else { cmd.take() }) else {
                break;
            };
            let outputs = self.slots[i].actor.on_command(now, from, c);
            self.slots[i].busy = true;
            self.carry_out(i, outputs, out);
        }
    }

    /// End of a turn: the stores that received commands answer the burst.
    pub(super) fn end_turn(&mut self, out: &mut Vec<Effect>) {
        let now = Timestamp::now();
        for i in 0..self.slots.len() {
            if std::mem::take(&mut self.slots[i].busy) {
                let outputs = self.slots[i].actor.flush(now);
                self.carry_out(i, outputs, out);
            }
        }
    }

    /// The store clock.
    pub(super) fn tick(&mut self, out: &mut Vec<Effect>) {
        let now = Timestamp::now();
        for i in 0..self.slots.len() {
            let outputs = self.slots[i].actor.tick(now);
            self.carry_out(i, outputs, out);
        }
    }

    /// The peering with `peer` ended.
    pub(super) fn peer_lost(&mut self, peer: EndpointId, out: &mut Vec<Effect>) {
        let now = Timestamp::now();
        for i in 0..self.slots.len() {
            let outputs = self.slots[i].actor.peer_lost(now, peer);
            self.carry_out(i, outputs, out);
        }
    }

    /// Turns what store `i` asked for into effects, and answers its callers.
    fn carry_out(&mut self, i: usize, outputs: Vec<StoreOutput>, out: &mut Vec<Effect>) {
        for output in outputs {
            match output {
                StoreOutput::Send { topic, to, cmd } => {
                    if let Some(frame) = command_frame(self.me, to, &topic, &cmd) {
                        out.push(Effect::Route(frame));
                    }
                }
                StoreOutput::Reply { id, result } => {
                    if let Some(w) = self.slots[i].waiting.remove(&id) {
                        let result =
                            result.map_err(|(code, msg)| Error::new(ErrorKind::Store(code), msg));
                        w.answer(id, result);
                    }
                }
                StoreOutput::Event(data) => {
                    let mut topic = b"<$>/local/data/store-events/".to_vec();
                    topic.extend_from_slice(self.slots[i].actor.name());
                    let mut frame = Vec::with_capacity(128);
                    if envelope::write_data(&mut frame, self.me, self.me, &topic, &data).is_ok() {
                        out.push(Effect::Deliver(frame));
                    }
                }
                StoreOutput::Status { code, message } => {
                    let name = String::from_utf8_lossy(self.slots[i].actor.name());
                    out.push(Effect::Error(code, format!("store {name}: {message}")));
                }
            }
        }
    }

    /// The endpoint stops: every waiting caller and proxy learns it.
    pub(super) fn shut_down(&mut self) {
        for slot in self.slots.drain(..) {
            answer_all(slot.waiting, "the endpoint shut down");
        }
        for p in self.proxies.drain(..) {
            if let Some(mailbox) = p.upgrade() {
                mailbox.close();
            }
        }
    }
}

fn answer_all(waiting: HashMap<u64, ReplyTo>, why: &str) {
    for (id, w) in waiting {
        w.answer(id, Err(Error::new(ErrorKind::Closed, why)));
    }
}

/// A command envelope from `me` to `to` (nil: whoever subscribed to `topic`).
fn command_frame(
    me: EndpointId,
    to: EndpointId,
    topic: &[u8],
    cmd: &InternalCommand,
) -> Option<Vec<u8>> {
    let mut payload = Vec::with_capacity(96);
    cmd.encode_into(&mut payload).ok()?;
    let mut frame = Vec::with_capacity(payload.len() + 48 + topic.len());
    let env = Envelope {
        sender: me,
        receiver: to,
        kind: EnvelopeType::Command,
        ttl: crate::wire::DEFAULT_TTL,
        topic,
        payload: &payload,
    };
    env.write_frame(&mut frame).ok()?;
    Some(frame)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Data;
    use crate::store::actor::Op;
    use crate::store::{EntityId, Master, MasterConfig, MemoryBackend, clone_topic};
    use crossbeam_channel::bounded;

    fn me() -> EndpointId {
        EndpointId([1; 16])
    }

    /// The entity of a store handle of endpoint `me`.
    fn handle(me: EndpointId) -> EntityId {
        EntityId {
            endpoint: me,
            object: 99,
        }
    }

    fn master(name: &str) -> Box<dyn StoreActor> {
        let entity = EntityId {
            endpoint: me(),
            object: 1,
        };
        let backend = Box::new(MemoryBackend::new());
        Box::new(
            Master::new(
                name.as_bytes().to_vec(),
                entity,
                backend,
                MasterConfig::default(),
            )
            .unwrap(),
        )
    }

    fn ask(stores: &mut Stores, slot: u64, id: u64, op: Op) -> Result<Data> {
        let (tx, rx) = bounded(1);
        let mut out = Vec::new();
        stores.request(
            slot,
            Request::new(id, handle(me()), op),
            ReplyTo::Caller(tx),
            &mut out,
        );
        rx.try_recv().expect("a master answers at once")
    }

    #[test]
    fn a_master_answers_its_handles_and_refuses_a_second_attach() {
        let mut s = Stores::new(me());
        let mut out = Vec::new();
        let topic = master_topic(b"kv");
        let slot = s
            .attach(master("kv"), topic.clone(), true, |_| false, &mut out)
            .unwrap();
        ask(&mut s, slot, 1, Op::put("k".into(), Data::Count(3), None)).unwrap();
        assert_eq!(
            ask(&mut s, slot, 2, Op::get("k".into())).unwrap(),
            Data::Count(3)
        );
        let again = s.attach(master("kv"), topic, true, |_| false, &mut out);
        assert_eq!(
            again.unwrap_err().kind,
            ErrorKind::Store(ErrorCode::MasterExists)
        );
        let elsewhere = s.attach(
            master("other"),
            master_topic(b"other"),
            true,
            |_| true,
            &mut out,
        );
        assert!(
            elsewhere
                .unwrap_err()
                .message
                .contains("a peer already has a master")
        );
        s.detach(slot);
        let gone = ask(&mut s, slot, 3, Op::get("k".into())).unwrap_err();
        assert_eq!(gone.kind, ErrorKind::Closed);
    }

    #[test]
    fn a_clone_asks_for_its_master_by_routing_a_command_frame() {
        let mut s = Stores::new(me());
        let mut out = Vec::new();
        let clone = crate::store::clone::Clone::new(
            b"kv".to_vec(),
            handle(me()),
            crate::store::CloneConfig::default(),
        );
        s.attach(
            Box::new(clone),
            clone_topic(b"kv"),
            false,
            |_| false,
            &mut out,
        )
        .unwrap();
        let Some(Effect::Route(frame)) = out.first() else {
            panic!("expected a command to route, got {out:?}");
        };
        let env = Envelope::parse(&frame[4..]).unwrap();
        assert_eq!(env.kind, EnvelopeType::Command);
        assert_eq!(env.topic, master_topic(b"kv"));
        assert_eq!(env.sender, me());
    }
}
