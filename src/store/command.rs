//! Store commands (spec §7.2): the `internal_command` that every command envelope carries,
//! its fourteen alternatives, and the entity IDs that address them.
//!
//! ```text
//! u64 seq | entity_id sender (24) | entity_id receiver (24) | u8 index | fields of the index
//! entity_id = endpoint_id (16) + u64 object
//! ```
//!
//! Invariants:
//! - [`InternalCommand::decode`] takes untrusted input: it never panics, allocates no more
//!   than the input can justify (a claimed count cannot exceed the bytes left), and names
//!   the field and offset of what was wrong. Like Broker it ignores bytes after the command;
//!   [`InternalCommand::decode_exact`] rejects them.
//! - Encoders write exactly the fields, never trailing bytes, and leave the caller's buffer
//!   as it was when they fail.

use super::channel::{ConsumerMsg, ProducerMsg};
use crate::data::{Data, DataType, Timespan, bin};
use crate::error::{Error, Result};
use crate::wire::EndpointId;
use std::fmt;

/// The size of an encoded [`EntityId`].
pub const ENTITY_ID_LEN: usize = 24;

/// The size of the fixed header of an `internal_command`: seq, sender, receiver, index.
pub const COMMAND_HEADER_LEN: usize = 8 + 2 * ENTITY_ID_LEN + 1;

/// The suffix of the topic a master subscribes to.
pub const MASTER_SUFFIX: &[u8] = b"<$>/data/master";

/// The suffix of the topic every clone subscribes to.
pub const CLONE_SUFFIX: &[u8] = b"<$>/data/clone";

/// The master topic of store `name`: `name/<$>/data/master`.
pub fn master_topic(name: &[u8]) -> Vec<u8> {
    store_topic(name, MASTER_SUFFIX)
}

/// The clone topic of store `name`: `name/<$>/data/clone`.
pub fn clone_topic(name: &[u8]) -> Vec<u8> {
    store_topic(name, CLONE_SUFFIX)
}

/// Broker's `topic /= suffix`: a separator only between two non-empty parts.
fn store_topic(name: &[u8], suffix: &[u8]) -> Vec<u8> {
    let mut t = Vec::with_capacity(name.len() + 1 + suffix.len());
    t.extend_from_slice(name);
    if !name.is_empty() {
        t.push(b'/');
    }
    t.extend_from_slice(suffix);
    t
}

/// One actor of a store: the endpoint it lives on and a number unique within it.
///
/// Orders by endpoint, then object. The all-zero ID is nil, "nobody in particular" (the
/// receiver of a broadcast command).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EntityId {
    pub endpoint: EndpointId,
    pub object: u64,
}

impl EntityId {
    pub const fn new(endpoint: EndpointId, object: u64) -> EntityId {
        EntityId { endpoint, object }
    }

    /// The nil entity.
    pub const fn nil() -> EntityId {
        EntityId::new(EndpointId::nil(), 0)
    }

    /// True for the nil entity.
    pub fn is_nil(&self) -> bool {
        self.endpoint.is_nil() && self.object == 0
    }

    fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.endpoint.0);
        out.extend_from_slice(&self.object.to_be_bytes());
    }
}

/// `endpoint#object`, as the golden files write entities.
impl fmt::Display for EntityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.endpoint, self.object)
    }
}

/// What role a command plays in the channel protocol (spec §7.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CommandClass {
    /// A change to the store: a channel event carrying its sequence number.
    Action,
    /// Handshake, keepalive and retransmit_failed, from a producer to its consumers.
    ProducerControl,
    /// cumulative_ack and nack, from a consumer to its producer.
    ConsumerControl,
}

/// The content of an `internal_command`, one variant per wire index (0-13, in order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Put {
        key: Data,
        value: Data,
        expiry: Option<Timespan>,
        publisher: EntityId,
    },
    /// Put only if the key is absent; `who` and `req_id` route the answer back.
    PutUnique {
        key: Data,
        value: Data,
        expiry: Option<Timespan>,
        who: EntityId,
        req_id: u64,
        publisher: EntityId,
    },
    /// The master's answer to a put_unique, broadcast to every clone.
    PutUniqueResult {
        inserted: bool,
        who: EntityId,
        req_id: u64,
        publisher: EntityId,
    },
    Erase {
        key: Data,
        publisher: EntityId,
    },
    /// The master removed a key whose expiry passed.
    Expire {
        key: Data,
        publisher: EntityId,
    },
    /// `init_type` is the [`DataType`] tag to create when the key is missing (0: fail).
    Add {
        key: Data,
        value: Data,
        init_type: u8,
        expiry: Option<Timespan>,
        publisher: EntityId,
    },
    Subtract {
        key: Data,
        value: Data,
        expiry: Option<Timespan>,
        publisher: EntityId,
    },
    Clear {
        publisher: EntityId,
    },
    /// The writer channel's handshake, from a clone to the master.
    AttachWriter {
        offset: u64,
        heartbeat_interval: u16,
    },
    /// A producer's heartbeat, carrying its newest sequence number.
    Keepalive {
        seq: u64,
    },
    CumulativeAck {
        seq: u64,
    },
    /// Missing sequence numbers, ascending; `[0]` asks for the handshake.
    Nack {
        seqs: Vec<u64>,
    },
    /// The master's handshake to a clone, with a snapshot of the store. The pairs keep the
    /// order they had on the wire (Broker sends an unordered map).
    AckClone {
        offset: u64,
        heartbeat_interval: u16,
        state: Vec<(Data, Data)>,
    },
    RetransmitFailed {
        seq: u64,
    },
}

const NAMES: [&str; 14] = [
    "put",
    "put_unique",
    "put_unique_result",
    "erase",
    "expire",
    "add",
    "subtract",
    "clear",
    "attach_writer",
    "keepalive",
    "cumulative_ack",
    "nack",
    "ack_clone",
    "retransmit_failed",
];

impl Command {
    /// The wire index of this alternative.
    pub fn index(&self) -> u8 {
        match self {
            Command::Put { .. } => 0,
            Command::PutUnique { .. } => 1,
            Command::PutUniqueResult { .. } => 2,
            Command::Erase { .. } => 3,
            Command::Expire { .. } => 4,
            Command::Add { .. } => 5,
            Command::Subtract { .. } => 6,
            Command::Clear { .. } => 7,
            Command::AttachWriter { .. } => 8,
            Command::Keepalive { .. } => 9,
            Command::CumulativeAck { .. } => 10,
            Command::Nack { .. } => 11,
            Command::AckClone { .. } => 12,
            Command::RetransmitFailed { .. } => 13,
        }
    }

    /// The spec's snake_case name (`put`, `ack_clone`, ...).
    pub fn name(&self) -> &'static str {
        NAMES[self.index() as usize]
    }

    pub fn class(&self) -> CommandClass {
        match self.index() {
            0..=7 => CommandClass::Action,
            10 | 11 => CommandClass::ConsumerControl,
            _ => CommandClass::ProducerControl,
        }
    }

    fn encode_into(&self, out: &mut Vec<u8>) -> Result<()> {
        out.push(self.index());
        match self {
            Command::Put {
                key,
                value,
                expiry,
                publisher,
            }
            | Command::Subtract {
                key,
                value,
                expiry,
                publisher,
            } => {
                bin::encode_into(key, out)?;
                bin::encode_into(value, out)?;
                put_expiry(out, *expiry);
                publisher.encode_into(out);
            }
            Command::PutUnique {
                key,
                value,
                expiry,
                who,
                req_id,
                publisher,
            } => {
                bin::encode_into(key, out)?;
                bin::encode_into(value, out)?;
                put_expiry(out, *expiry);
                who.encode_into(out);
                out.extend_from_slice(&req_id.to_be_bytes());
                publisher.encode_into(out);
            }
            Command::PutUniqueResult {
                inserted,
                who,
                req_id,
                publisher,
            } => {
                out.push(*inserted as u8);
                who.encode_into(out);
                out.extend_from_slice(&req_id.to_be_bytes());
                publisher.encode_into(out);
            }
            Command::Erase { key, publisher } | Command::Expire { key, publisher } => {
                bin::encode_into(key, out)?;
                publisher.encode_into(out);
            }
            Command::Add {
                key,
                value,
                init_type,
                expiry,
                publisher,
            } => {
                bin::encode_into(key, out)?;
                bin::encode_into(value, out)?;
                out.push(*init_type);
                put_expiry(out, *expiry);
                publisher.encode_into(out);
            }
            Command::Clear { publisher } => publisher.encode_into(out),
            Command::AttachWriter {
                offset,
                heartbeat_interval,
            } => {
                out.extend_from_slice(&offset.to_be_bytes());
                out.extend_from_slice(&heartbeat_interval.to_be_bytes());
            }
            Command::Keepalive { seq }
            | Command::CumulativeAck { seq }
            | Command::RetransmitFailed { seq } => out.extend_from_slice(&seq.to_be_bytes()),
            Command::Nack { seqs } => {
                bin::put_varbyte(out, seqs.len())?;
                for s in seqs {
                    out.extend_from_slice(&s.to_be_bytes());
                }
            }
            Command::AckClone {
                offset,
                heartbeat_interval,
                state,
            } => {
                out.extend_from_slice(&offset.to_be_bytes());
                out.extend_from_slice(&heartbeat_interval.to_be_bytes());
                bin::put_varbyte(out, state.len())?;
                for (k, v) in state {
                    bin::encode_into(k, out)?;
                    bin::encode_into(v, out)?;
                }
            }
        }
        Ok(())
    }
}

fn put_expiry(out: &mut Vec<u8>, expiry: Option<Timespan>) {
    match expiry {
        None => out.push(0),
        Some(t) => {
            out.push(1);
            out.extend_from_slice(&t.0.to_be_bytes());
        }
    }
}

/// One store command as it travels in a command envelope's payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InternalCommand {
    /// The channel sequence number of an action; 0 for control messages except ack_clone,
    /// which repeats its offset (spec §7.3).
    pub seq: u64,
    pub sender: EntityId,
    /// nil when the command is for no entity in particular.
    pub receiver: EntityId,
    pub content: Command,
}

impl InternalCommand {
    /// Appends the command's bytes. Fails only for a key, value or list of 2^32 or more
    /// elements or bytes, which bin v1 cannot express; `out` is then unchanged.
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        out.reserve(COMMAND_HEADER_LEN + 32);
        out.extend_from_slice(&self.seq.to_be_bytes());
        self.sender.encode_into(out);
        self.receiver.encode_into(out);
        let r = self.content.encode_into(out);
        if r.is_err() {
            out.truncate(start);
        }
        r
    }

    /// The command's bytes in a new buffer.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.encode_into(&mut out)?;
        Ok(out)
    }

    /// Reads a command from a command envelope's payload, ignoring any bytes after it as
    /// Broker does. Errors name the field and its offset in `payload`.
    pub fn decode(payload: &[u8]) -> Result<InternalCommand> {
        Ok(InternalCommand::decode_prefix(payload)?.0)
    }

    /// Like [`InternalCommand::decode`], but bytes after the command are an error.
    pub fn decode_exact(payload: &[u8]) -> Result<InternalCommand> {
        let (cmd, used) = InternalCommand::decode_prefix(payload)?;
        if used != payload.len() {
            return Err(Error::decode(format!(
                "store command {}: {} trailing bytes at offset {used}",
                cmd.content.name(),
                payload.len() - used
            )));
        }
        Ok(cmd)
    }

    /// Reads a command from the start of `payload` and returns it with the number of bytes
    /// it used.
    pub fn decode_prefix(payload: &[u8]) -> Result<(InternalCommand, usize)> {
        let mut r = Reader {
            buf: payload,
            pos: 0,
            cmd: "",
        };
        let seq = r.u64("seq")?;
        let sender = r.entity("sender")?;
        let receiver = r.entity("receiver")?;
        let at = r.pos;
        let index = r.u8("command index")?;
        let Some(&name) = NAMES.get(index as usize) else {
            return Err(Error::decode(format!(
                "store command: unknown command index {index} at offset {at}"
            )));
        };
        r.cmd = name;
        let content = match index {
            0 => Command::Put {
                key: r.data("key")?,
                value: r.data("value")?,
                expiry: r.expiry()?,
                publisher: r.entity("publisher")?,
            },
            1 => Command::PutUnique {
                key: r.data("key")?,
                value: r.data("value")?,
                expiry: r.expiry()?,
                who: r.entity("who")?,
                req_id: r.u64("req_id")?,
                publisher: r.entity("publisher")?,
            },
            2 => Command::PutUniqueResult {
                // CAF reads a bool as "not zero".
                inserted: r.u8("inserted")? != 0,
                who: r.entity("who")?,
                req_id: r.u64("req_id")?,
                publisher: r.entity("publisher")?,
            },
            3 => Command::Erase {
                key: r.data("key")?,
                publisher: r.entity("publisher")?,
            },
            4 => Command::Expire {
                key: r.data("key")?,
                publisher: r.entity("publisher")?,
            },
            5 => Command::Add {
                key: r.data("key")?,
                value: r.data("value")?,
                init_type: r.init_type()?,
                expiry: r.expiry()?,
                publisher: r.entity("publisher")?,
            },
            6 => Command::Subtract {
                key: r.data("key")?,
                value: r.data("value")?,
                expiry: r.expiry()?,
                publisher: r.entity("publisher")?,
            },
            7 => Command::Clear {
                publisher: r.entity("publisher")?,
            },
            8 => Command::AttachWriter {
                offset: r.u64("offset")?,
                heartbeat_interval: r.u16("heartbeat_interval")?,
            },
            9 => Command::Keepalive { seq: r.u64("seq")? },
            10 => Command::CumulativeAck { seq: r.u64("seq")? },
            11 => {
                // Each seq is 8 bytes, so the count is checked against what is left.
                let n = r.count("seqs", 8)?;
                let mut seqs = Vec::with_capacity(n);
                for _ in 0..n {
                    seqs.push(r.u64("seq")?);
                }
                Command::Nack { seqs }
            }
            12 => {
                let offset = r.u64("offset")?;
                let heartbeat_interval = r.u16("heartbeat_interval")?;
                // A key and a value take at least one byte each.
                let n = r.count("state", 2)?;
                let mut state = Vec::with_capacity(n);
                for _ in 0..n {
                    state.push((r.data("state key")?, r.data("state value")?));
                }
                Command::AckClone {
                    offset,
                    heartbeat_interval,
                    state,
                }
            }
            _ => Command::RetransmitFailed { seq: r.u64("seq")? },
        };
        let cmd = InternalCommand {
            seq,
            sender,
            receiver,
            content,
        };
        Ok((cmd, r.pos))
    }

    /// What this command means to the channel layer: a message for a consumer (actions
    /// become events numbered by `seq`; attach_writer and ack_clone become the handshake,
    /// without ack_clone's snapshot, so take that first) or for a producer.
    pub fn into_channel_msg(self) -> ChannelMsg {
        use ProducerMsg as P;
        let to_consumer = ChannelMsg::ToConsumer;
        match self.content {
            Command::AttachWriter {
                offset,
                heartbeat_interval,
            }
            | Command::AckClone {
                offset,
                heartbeat_interval,
                ..
            } => to_consumer(P::Handshake {
                offset,
                heartbeat_interval,
            }),
            Command::Keepalive { seq } => to_consumer(P::Keepalive { seq }),
            Command::RetransmitFailed { seq } => to_consumer(P::RetransmitFailed { seq }),
            Command::CumulativeAck { seq } => {
                ChannelMsg::ToProducer(ConsumerMsg::CumulativeAck { seq })
            }
            Command::Nack { seqs } => ChannelMsg::ToProducer(ConsumerMsg::Nack { seqs }),
            content => to_consumer(P::Event {
                seq: self.seq,
                content,
            }),
        }
    }
}

/// A store command seen by the channel layer ([`InternalCommand::into_channel_msg`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChannelMsg {
    /// For the consumer of the sender's channel.
    ToConsumer(ProducerMsg<Command>),
    /// For the producer that the sender consumes from.
    ToProducer(ConsumerMsg),
}

impl ConsumerMsg {
    /// The command that carries this message (its `internal_command.seq` is 0).
    pub fn into_command(self) -> Command {
        match self {
            ConsumerMsg::CumulativeAck { seq } => Command::CumulativeAck { seq },
            ConsumerMsg::Nack { seqs } => Command::Nack { seqs },
        }
    }
}

impl ProducerMsg<Command> {
    /// The `internal_command.seq` and content that carry this message, or `None` for the
    /// handshake, which is attach_writer or ack_clone depending on the channel.
    pub fn into_command(self) -> Option<(u64, Command)> {
        match self {
            ProducerMsg::Handshake { .. } => None,
            ProducerMsg::Event { seq, content } => Some((seq, content)),
            ProducerMsg::Keepalive { seq } => Some((0, Command::Keepalive { seq })),
            ProducerMsg::RetransmitFailed { seq } => Some((0, Command::RetransmitFailed { seq })),
        }
    }
}

/// A bounds-checked cursor over an untrusted command. `cmd` names the alternative being
/// read, for errors.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    cmd: &'static str,
}

impl<'a> Reader<'a> {
    fn fail(&self, what: String) -> Error {
        let cmd = if self.cmd.is_empty() {
            String::new()
        } else {
            format!(" {}", self.cmd)
        };
        Error::decode(format!("store command{cmd}: {what}"))
    }

    fn left(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn array<const N: usize>(&mut self, field: &str) -> Result<[u8; N]> {
        match self.buf.get(self.pos..).and_then(|b| b.first_chunk::<N>()) {
            Some(a) => {
                self.pos += N;
                Ok(*a)
            }
            None => Err(self.fail(format!(
                "truncated {field} at offset {}: needs {N} bytes, {} left",
                self.pos,
                self.left()
            ))),
        }
    }

    fn u8(&mut self, field: &str) -> Result<u8> {
        Ok(self.array::<1>(field)?[0])
    }

    fn u16(&mut self, field: &str) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array(field)?))
    }

    fn u64(&mut self, field: &str) -> Result<u64> {
        Ok(u64::from_be_bytes(self.array(field)?))
    }

    fn entity(&mut self, field: &str) -> Result<EntityId> {
        let b: [u8; ENTITY_ID_LEN] = self.array(field)?;
        let (endpoint, object) = b.split_at(16);
        Ok(EntityId {
            endpoint: EndpointId(endpoint.try_into().unwrap_or_default()),
            object: u64::from_be_bytes(object.try_into().unwrap_or_default()),
        })
    }

    fn data(&mut self, field: &str) -> Result<Data> {
        let at = self.pos;
        let rest = self.buf.get(at..).unwrap_or_default();
        match bin::decode_prefix(rest) {
            Ok((d, used)) => {
                self.pos += used;
                Ok(d)
            }
            Err(e) => Err(self.fail(format!(
                "{field} at offset {at}: {} (relative to the {field})",
                e.message
            ))),
        }
    }

    /// `opt<timespan>`: a flag byte (CAF reads any non-zero as present), then an i64.
    fn expiry(&mut self) -> Result<Option<Timespan>> {
        if self.u8("expiry flag")? == 0 {
            return Ok(None);
        }
        Ok(Some(Timespan(self.u64("expiry")? as i64)))
    }

    fn init_type(&mut self) -> Result<u8> {
        let at = self.pos;
        let t = self.u8("init_type")?;
        if DataType::from_tag(t).is_none() {
            return Err(self.fail(format!(
                "init_type {t} at offset {at} is not a data type (0-14)"
            )));
        }
        Ok(t)
    }

    /// A varbyte count of elements that each take at least `min_size` bytes.
    fn count(&mut self, field: &str, min_size: usize) -> Result<usize> {
        let at = self.pos;
        let mut value: u32 = 0;
        let mut shift: u32 = 0;
        loop {
            let b = self.u8(field)?;
            // Broker reads any number of varbyte bytes and keeps the low 32 bits.
            if shift < 32 {
                value |= u32::from(b & 0x7F) << shift;
            }
            shift = shift.saturating_add(7);
            if b & 0x80 == 0 {
                break;
            }
        }
        let n = value as usize;
        if n.saturating_mul(min_size) > self.left() {
            return Err(self.fail(format!(
                "{field} at offset {at} claims {n} elements but only {} bytes follow",
                self.left()
            )));
        }
        Ok(n)
    }
}
