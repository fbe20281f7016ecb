//! A peering session's Phase-3 frames (spec §4): what one frame received from a peer means
//! for this endpoint, decided from the frame alone.
//!
//! [`inbound`] reads a frame and says what to do with it ([`Inbound`]): stage it for local
//! subscribers, hand it to the stores, forward it, take a peer's new filter, answer a ping,
//! finish an unpeering, or report it as malformed. The reactor carries that out; nothing
//! here touches a connection. The Broker handshake (Phases 1 and 2) is
//! [`crate::wire::handshake::Handshaker`]'s, stepped by the reactor.

use crate::data::bin;
use crate::store::InternalCommand;
use crate::wire::envelope::{self, Envelope, EnvelopeType};
use crate::wire::{EndpointId, Filter};

/// Byte ranges in the frame (length prefix included).
pub(super) type Range = (usize, usize);

/// What one Phase-3 frame asks for.
#[derive(Debug, PartialEq)]
pub(super) enum Inbound {
    /// Dropped and reported.
    Malformed(String),
    /// A data message.
    Data {
        topic: Range,
        payload: Range,
        receiver: EndpointId,
        /// For local subscribers.
        local: bool,
        /// May wait for a full local subscriber (it came from elsewhere, so its sender can
        /// be pushed back on).
        may_wait: bool,
        /// To be forwarded to other peers.
        forward: bool,
    },
    /// A store command.
    Command {
        topic: Range,
        cmd: Option<InternalCommand>,
        receiver: EndpointId,
        forward: bool,
    },
    /// The peer's new filter.
    Filter(Filter),
    /// Answer with this pong frame.
    Ping(Vec<u8>),
    /// A pong carrying this payload (the end of an unpeering, if it is our BYE token).
    Pong(Range),
    /// Nothing to do (a routing update relayed from further away, a ping of our own).
    Ignore,
}

/// Decides what the frame `frame` (length prefix included) from peer `from` means for
/// endpoint `me`. `forwarding` is false when the endpoint forwards nothing.
pub(super) fn inbound(frame: &[u8], me: EndpointId, from: EndpointId, forwarding: bool) -> Inbound {
    let env = match Envelope::parse(&frame[4..]) {
        Ok(env) => env,
        Err(e) => return Inbound::Malformed(e.message),
    };
    let (sender, receiver) = (env.sender, env.receiver);
    let base = 4 + envelope::HEADER_LEN;
    let topic = (base, base + env.topic.len());
    let payload_at = frame.len() - env.payload.len();
    let payload = (payload_at, frame.len());
    let forward = forwarding && receiver != me;
    match env.kind {
        EnvelopeType::Data => {
            if let Err(e) = bin::validate(env.payload) {
                return Inbound::Malformed(e.message);
            }
            let locally_originated = sender.is_nil() || sender == me;
            Inbound::Data {
                topic,
                payload,
                receiver,
                local: receiver == me || (!locally_originated && receiver.is_nil()),
                may_wait: !locally_originated && (receiver.is_nil() || receiver == me),
                forward,
            }
        }
        EnvelopeType::Command => {
            let cmd = if receiver.is_nil() || receiver == me {
                match InternalCommand::decode(env.payload) {
                    Ok(cmd) => Some(cmd),
                    Err(e) => return Inbound::Malformed(e.message),
                }
            } else {
                None
            };
            Inbound::Command {
                topic,
                cmd,
                receiver,
                forward,
            }
        }
        EnvelopeType::RoutingUpdate => match Filter::decode(env.payload) {
            Ok(filter) if sender == from => Inbound::Filter(filter),
            Ok(_) => Inbound::Ignore,
            Err(e) => Inbound::Malformed(e.message),
        },
        EnvelopeType::Ping => {
            if sender == me || sender.is_nil() {
                return Inbound::Ignore;
            }
            let mut out = Vec::with_capacity(64);
            match env.pong(me).write_frame(&mut out) {
                Ok(()) => Inbound::Ping(out),
                Err(e) => Inbound::Malformed(e.message),
            }
        }
        EnvelopeType::Pong => Inbound::Pong(payload),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Data;

    fn id(n: u8) -> EndpointId {
        EndpointId([n; 16])
    }

    fn data_frame(sender: EndpointId, receiver: EndpointId) -> Vec<u8> {
        let mut f = Vec::new();
        envelope::write_data(&mut f, sender, receiver, b"/t", &Data::Count(1)).unwrap();
        f
    }

    #[test]
    fn a_broadcast_from_a_peer_is_delivered_and_forwarded() {
        let f = data_frame(id(2), EndpointId::nil());
        let Inbound::Data {
            topic,
            payload,
            local,
            may_wait,
            forward,
            ..
        } = inbound(&f, id(1), id(2), true)
        else {
            panic!("data");
        };
        assert_eq!(&f[topic.0..topic.1], b"/t");
        assert_eq!(
            bin::decode(&f[payload.0..payload.1]).unwrap(),
            Data::Count(1)
        );
        assert!(local && may_wait && forward);
        let Inbound::Data { forward, .. } = inbound(&f, id(1), id(2), false) else {
            panic!("data");
        };
        assert!(!forward, "forwarding disabled");
    }

    #[test]
    fn unicast_is_delivered_only_by_its_receiver_and_forwarded_by_the_others() {
        let to_me = data_frame(id(2), id(1));
        let to_other = data_frame(id(2), id(3));
        assert!(matches!(
            inbound(&to_me, id(1), id(2), true),
            Inbound::Data {
                local: true,
                forward: false,
                ..
            }
        ));
        assert!(matches!(
            inbound(&to_other, id(1), id(2), true),
            Inbound::Data {
                local: false,
                may_wait: false,
                forward: true,
                ..
            }
        ));
        // Our own broadcast coming back is not delivered again.
        let echo = data_frame(id(1), EndpointId::nil());
        assert!(matches!(
            inbound(&echo, id(1), id(2), true),
            Inbound::Data { local: false, .. }
        ));
    }

    #[test]
    fn malformed_payloads_are_reported_not_delivered() {
        let mut f = data_frame(id(2), EndpointId::nil());
        let payload_len = Envelope::parse(&f[4..]).unwrap().payload.len();
        let tag = f.len() - payload_len;
        f[tag] = 0xEE; // the value's type tag
        assert!(matches!(
            inbound(&f, id(1), id(2), true),
            Inbound::Malformed(_)
        ));
        assert!(matches!(
            inbound(&f[..10], id(1), id(2), true),
            Inbound::Malformed(_)
        ));
    }

    #[test]
    fn routing_updates_count_only_from_the_direct_peer_and_pings_are_answered() {
        let filter: Filter = [b"/a".to_vec()].iter().collect();
        let mut f = Vec::new();
        envelope::write_routing_update(&mut f, id(2), id(1), &filter).unwrap();
        assert_eq!(inbound(&f, id(1), id(2), true), Inbound::Filter(filter));
        assert_eq!(inbound(&f, id(1), id(3), true), Inbound::Ignore);
        let mut ping = Vec::new();
        Envelope::ping(id(2), id(1), b"BYE-token")
            .write_frame(&mut ping)
            .unwrap();
        let Inbound::Ping(pong) = inbound(&ping, id(1), id(2), true) else {
            panic!("ping");
        };
        let pong_env = Envelope::parse(&pong[4..]).unwrap();
        assert_eq!(pong_env.kind, EnvelopeType::Pong);
        assert_eq!(pong_env.payload, b"BYE-token");
        let Inbound::Pong(p) = inbound(&pong, id(2), id(1), true) else {
            panic!("pong");
        };
        assert_eq!(&pong[p.0..p.1], b"BYE-token");
    }
}
