//! Phase-3 envelopes (spec §4): a 37-byte header, the topic, then a payload that runs to the
//! end of the frame.
//!
//! [`Envelope::parse`] borrows topic and payload from the frame, so the reactor can route
//! and forward a message without decoding its payload, and a subscriber's thread decodes it
//! later. Forwarding copies the frame and only rewrites sender and TTL ([`restamp`]).
//!
//! ```text
//! offset 0 sender (16) | 16 receiver (16) | 32 type (1) | 33 ttl (u16) | 35 topic_len (u16)
//!        37 topic (topic_len) | 37 + topic_len payload (the rest)
//! ```

use super::frame::append_frame;
use super::{DEFAULT_TTL, EndpointId, Filter, TOPIC_CONTROL};
use crate::data::{Data, bin};
use crate::error::{Error, ErrorKind, Result};

/// The size of the fixed header, and of the smallest envelope.
pub const HEADER_LEN: usize = 37;

/// What an envelope carries; the discriminant is the wire value.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EnvelopeType {
    /// One bin-v1 data value on a user topic.
    Data = 1,
    /// A store command on a store topic.
    Command = 2,
    /// The sender's complete filter, unicast to a direct peer.
    RoutingUpdate = 3,
    /// Opaque bytes the receiver echoes in a pong.
    Ping = 4,
    /// A ping's payload, echoed.
    Pong = 5,
}

impl EnvelopeType {
    /// The type with wire value `n`, if there is one.
    pub fn from_u8(n: u8) -> Option<EnvelopeType> {
        Some(match n {
            1 => EnvelopeType::Data,
            2 => EnvelopeType::Command,
            3 => EnvelopeType::RoutingUpdate,
            4 => EnvelopeType::Ping,
            5 => EnvelopeType::Pong,
            _ => return None,
        })
    }
}

/// One envelope, borrowing topic and payload from its frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// The node that sent this frame (the last hop, not the original publisher).
    pub sender: EndpointId,
    /// nil for a broadcast routed by topic, else the one direct peer it is for.
    pub receiver: EndpointId,
    pub kind: EnvelopeType,
    /// Carried, never enforced (spec §4.4).
    pub ttl: u16,
    pub topic: &'a [u8],
    /// Type-specific; for data, one bin-v1 value.
    pub payload: &'a [u8],
}

impl<'a> Envelope<'a> {
    /// Reads an envelope from a frame payload. Fails for fewer than 37 bytes, an unknown
    /// type or a topic that overruns the frame, which current Broker drops while keeping the
    /// connection. Empty topics and payloads are accepted, as current Broker accepts them.
    pub fn parse(frame_payload: &'a [u8]) -> Result<Envelope<'a>> {
        let Some((header, rest)) = frame_payload.split_first_chunk::<HEADER_LEN>() else {
            return Err(Error::decode(format!(
                "envelope: {} bytes, shorter than the {HEADER_LEN}-byte header",
                frame_payload.len()
            )));
        };
        let id = |at: usize| EndpointId(header[at..at + 16].try_into().unwrap_or_default());
        let Some(kind) = EnvelopeType::from_u8(header[32]) else {
            return Err(Error::decode(format!(
                "envelope: unknown type {} at offset 32",
                header[32]
            )));
        };
        let topic_len = u16::from_be_bytes([header[35], header[36]]) as usize;
        let Some((topic, payload)) = rest.split_at_checked(topic_len) else {
            return Err(Error::decode(format!(
                "envelope: topic of {topic_len} bytes at offset {HEADER_LEN} overruns the \
                 {}-byte frame",
                frame_payload.len()
            )));
        };
        Ok(Envelope {
            sender: id(0),
            receiver: id(16),
            kind,
            ttl: u16::from_be_bytes([header[33], header[34]]),
            topic,
            payload,
        })
    }

    /// A ping on the control topic with TTL 16.
    pub fn ping(sender: EndpointId, receiver: EndpointId, payload: &'a [u8]) -> Envelope<'a> {
        Envelope {
            sender,
            receiver,
            kind: EnvelopeType::Ping,
            ttl: DEFAULT_TTL,
            topic: TOPIC_CONTROL,
            payload,
        }
    }

    /// The pong that answers this ping (spec §8.1): from `own_id` back to the ping's sender,
    /// TTL 16, the ping's payload byte for byte.
    pub fn pong(&self, own_id: EndpointId) -> Envelope<'a> {
        Envelope {
            sender: own_id,
            receiver: self.sender,
            kind: EnvelopeType::Pong,
            ttl: DEFAULT_TTL,
            topic: TOPIC_CONTROL,
            payload: self.payload,
        }
    }

    /// Appends this envelope as a complete frame. Fails, leaving `out` unchanged, for an
    /// empty topic or payload (Broker 2.6/2.7 peers close the connection on those) and for
    /// a topic longer than 65 535 bytes.
    pub fn write_frame(&self, out: &mut Vec<u8>) -> Result<()> {
        if self.payload.is_empty() {
            return Err(Error::invalid("envelope with an empty payload"));
        }
        append_frame(out, |out| {
            write_header(
                out,
                self.sender,
                self.receiver,
                self.kind,
                self.ttl,
                self.topic,
            )?;
            out.extend_from_slice(self.payload);
            Ok(())
        })
    }
}

/// Appends a data envelope frame with TTL 16, encoding `value` as bin v1 straight into `out`
/// behind the header. Fails, leaving `out` unchanged, as [`Envelope::write_frame`] does or
/// when `value` cannot be encoded.
pub fn write_data(
    out: &mut Vec<u8>,
    sender: EndpointId,
    receiver: EndpointId,
    topic: &[u8],
    value: &Data,
) -> Result<()> {
    write_data_with(out, sender, receiver, topic, |out| {
        bin::encode_into(value, out)
    })
}

/// Like [`write_data`], with the bin-v1 payload written by `encode` (for values that can
/// encode themselves without first becoming a [`Data`], such as Zeek events).
pub fn write_data_with(
    out: &mut Vec<u8>,
    sender: EndpointId,
    receiver: EndpointId,
    topic: &[u8],
    encode: impl FnOnce(&mut Vec<u8>) -> Result<()>,
) -> Result<()> {
    append_frame(out, |out| {
        write_header(
            out,
            sender,
            receiver,
            EnvelopeType::Data,
            DEFAULT_TTL,
            topic,
        )?;
        encode(out)
    })
}

/// Appends a routing_update frame advertising `filter` to the direct peer `receiver`.
pub fn write_routing_update(
    out: &mut Vec<u8>,
    sender: EndpointId,
    receiver: EndpointId,
    filter: &Filter,
) -> Result<()> {
    append_frame(out, |out| {
        let kind = EnvelopeType::RoutingUpdate;
        write_header(out, sender, receiver, kind, DEFAULT_TTL, TOPIC_CONTROL)?;
        filter.encode_into(out)
    })
}

fn write_header(
    out: &mut Vec<u8>,
    sender: EndpointId,
    receiver: EndpointId,
    kind: EnvelopeType,
    ttl: u16,
    topic: &[u8],
) -> Result<()> {
    if topic.is_empty() {
        return Err(Error::invalid("envelope with an empty topic"));
    }
    let Ok(topic_len) = u16::try_from(topic.len()) else {
        return Err(Error::new(
            ErrorKind::Encode,
            format!("topic of {} bytes exceeds the limit of 65535", topic.len()),
        ));
    };
    out.reserve(HEADER_LEN + topic.len());
    out.extend_from_slice(&sender.0);
    out.extend_from_slice(&receiver.0);
    out.push(kind as u8);
    out.extend_from_slice(&ttl.to_be_bytes());
    out.extend_from_slice(&topic_len.to_be_bytes());
    out.extend_from_slice(topic);
    Ok(())
}

/// Rewrites sender and TTL of an envelope in place, as a node does when it forwards a
/// message (spec §4.6); topic and payload stay byte for byte. `frame_payload` is the frame
/// without its length prefix. Fails only when it is shorter than the header.
pub fn restamp(frame_payload: &mut [u8], sender: EndpointId, ttl: u16) -> Result<()> {
    let Some(header) = frame_payload.first_chunk_mut::<HEADER_LEN>() else {
        return Err(Error::invalid(format!(
            "restamp: {} bytes, shorter than the {HEADER_LEN}-byte header",
            frame_payload.len()
        )));
    };
    header[..16].copy_from_slice(&sender.0);
    header[33..35].copy_from_slice(&ttl.to_be_bytes());
    Ok(())
}
