//! Zeek's message layer (spec §6): events, log creates and writes, identifier updates and
//! batches, all carried as one data value `(1, type, content)` in a data envelope.
//!
//! Conversion from data validates as Broker's `valid()` checks do and says what is wrong;
//! conversion to data produces Broker's exact layout.

use super::typed::{self, TypedError};
use super::{Data, Timestamp};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// The Zeek message format version (Broker calls it `ProtocolVersion`), the first element of
/// every message.
pub const FORMAT_VERSION: u64 = 1;
/// The metadata key of an event's network timestamp.
pub const METADATA_NETWORK_TIMESTAMP: u64 = 1;

/// The message type numbers of the second element.
#[repr(u64)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageType {
    Event = 1,
    LogCreate = 2,
    LogWrite = 3,
    IdentifierUpdate = 4,
    Batch = 5,
}

/// A Zeek event: a name, its arguments and optional metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub name: String,
    pub args: Vec<Data>,
    /// `None`: no metadata element at all; `Some(vec![])`: an empty metadata vector.
    /// Key 1 is the network timestamp; keys 200 and up are free for applications.
    pub metadata: Option<Vec<(u64, Data)>>,
}

/// Announces a log stream to a peer.
#[derive(Clone, Debug, PartialEq)]
pub struct LogCreate {
    /// The stream's enum name, e.g. `Conn::LOG`.
    pub stream_id: String,
    /// The writer's enum name, e.g. `Log::WRITER_ASCII`.
    pub writer_id: String,
    pub writer_info: Data,
    pub fields: Data,
}

/// One log line (Zeek sends these inside batches).
#[derive(Clone, Debug, PartialEq)]
pub struct LogWrite {
    pub stream_id: String,
    pub writer_id: String,
    pub path: Vec<u8>,
    /// Zeek's own serialization of the record: opaque to Broker and to brook.
    pub serial_data: Vec<u8>,
}

/// Sets a global script identifier on the receiving Zeek node.
#[derive(Clone, Debug, PartialEq)]
pub struct IdentifierUpdate {
    pub id_name: String,
    pub value: Data,
}

/// Any Zeek message.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    Event(Event),
    LogCreate(LogCreate),
    LogWrite(LogWrite),
    IdentifierUpdate(IdentifierUpdate),
    /// Messages dispatched in order; valid only if every element is.
    Batch(Vec<Message>),
}

impl Event {
    /// An event without metadata.
    pub fn new(name: impl Into<String>, args: Vec<Data>) -> Event {
        Event {
            name: name.into(),
            args,
            metadata: None,
        }
    }

    /// The network timestamp from the metadata, if present.
    pub fn network_timestamp(&self) -> Option<Timestamp> {
        self.metadata.as_ref()?.iter().find_map(|(k, v)| match v {
            Data::Timestamp(t) if *k == METADATA_NETWORK_TIMESTAMP => Some(*t),
            _ => None,
        })
    }

    /// An event without metadata whose arguments are `args`' fields in order (a tuple's or
    /// a sequence's elements; unit gives none, a newtype struct its one value), each
    /// converted as [`to_data`](super::to_data) does. The fields are the arguments: a
    /// struct does not become one record argument (wrap it in a 1-tuple for that).
    pub fn with_args<T: Serialize + ?Sized>(
        name: impl Into<String>,
        args: &T,
    ) -> Result<Event, TypedError> {
        let name = name.into();
        let args = typed::to_args(args).map_err(|e| e.with_context(format!("event {name}")))?;
        Ok(Event::new(name, args))
    }

    /// The arguments as a `T` whose fields (or tuple elements) they are, in order: the
    /// inverse of [`Event::with_args`]. A missing, extra or wrongly typed argument is an
    /// error naming the event and the field. The name is not checked (see
    /// [`TypedEvent::from_event`]).
    pub fn args_as<'a, T: Deserialize<'a>>(&'a self) -> Result<T, TypedError> {
        typed::from_args(&self.args).map_err(|e| e.with_context(format!("event {}", self.name)))
    }

    /// Sets (or replaces) the network timestamp metadata entry.
    pub fn set_network_timestamp(&mut self, ts: Timestamp) {
        let meta = self.metadata.get_or_insert_with(Vec::new);
        meta.retain(|(k, _)| *k != METADATA_NETWORK_TIMESTAMP);
        meta.insert(0, (METADATA_NETWORK_TIMESTAMP, Data::Timestamp(ts)));
    }
}

/// A Rust type that is the argument list of one Zeek event: its fields, in order, are the
/// event's arguments (see [`Event::with_args`]).
///
/// ```
/// use brook::data::zeek::{Event, TypedEvent};
/// use brook::{Address, Data};
///
/// #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
/// struct ConnSeen { host: Address, tries: u64 }  // event conn_seen(host: addr, tries: count)
///
/// impl TypedEvent for ConnSeen {
///     const NAME: &'static str = "conn_seen";
/// }
///
/// let host = Address::from(std::net::Ipv4Addr::new(10, 0, 0, 1));
/// let event = ConnSeen { host, tries: 3 }.to_event()?;
/// assert_eq!(event, Event::new("conn_seen", vec![Data::Address(host), Data::Count(3)]));
/// assert_eq!(ConnSeen::from_event(&event)?, ConnSeen { host, tries: 3 });
/// # Ok::<(), brook::TypedError>(())
/// ```
pub trait TypedEvent: Serialize {
    /// The event's name as Zeek declares it, such as `"ping"` or `"Cluster::hello"`.
    const NAME: &'static str;

    /// The event `NAME` with this value's fields as its arguments.
    fn to_event(&self) -> Result<Event, TypedError> {
        Event::with_args(Self::NAME, self)
    }

    /// The value from an event named `NAME`; another name is an error, as is any argument
    /// that does not fit.
    fn from_event<'a>(event: &'a Event) -> Result<Self, TypedError>
    where
        Self: Deserialize<'a>,
    {
        if event.name != Self::NAME {
            return Err(TypedError::de(format!(
                "expected event {}, found event {}",
                Self::NAME,
                event.name
            )));
        }
        event.args_as()
    }
}

fn wrap(ty: MessageType, content: Vec<Data>) -> Data {
    Data::Vector(vec![
        Data::Count(FORMAT_VERSION),
        Data::Count(ty as u64),
        Data::Vector(content),
    ])
}

impl From<Event> for Data {
    fn from(e: Event) -> Data {
        let mut content = vec![Data::String(e.name.into_bytes()), Data::Vector(e.args)];
        if let Some(meta) = e.metadata {
            content.push(Data::Vector(
                meta.into_iter()
                    .map(|(k, v)| Data::Vector(vec![Data::Count(k), v]))
                    .collect(),
            ));
        }
        wrap(MessageType::Event, content)
    }
}

impl From<Message> for Data {
    fn from(m: Message) -> Data {
        match m {
            Message::Event(e) => e.into(),
            Message::LogCreate(l) => wrap(
                MessageType::LogCreate,
                vec![
                    Data::Enum(l.stream_id.into_bytes()),
                    Data::Enum(l.writer_id.into_bytes()),
                    l.writer_info,
                    l.fields,
                ],
            ),
            Message::LogWrite(l) => wrap(
                MessageType::LogWrite,
                vec![
                    Data::Enum(l.stream_id.into_bytes()),
                    Data::Enum(l.writer_id.into_bytes()),
                    Data::String(l.path),
                    Data::String(l.serial_data),
                ],
            ),
            Message::IdentifierUpdate(u) => wrap(
                MessageType::IdentifierUpdate,
                vec![Data::String(u.id_name.into_bytes()), u.value],
            ),
            Message::Batch(ms) => {
                wrap(MessageType::Batch, ms.into_iter().map(Data::from).collect())
            }
        }
    }
}

fn name(d: Data, what: &str, want_enum: bool) -> Result<String> {
    let bytes = match (d, want_enum) {
        (Data::String(s), false) | (Data::Enum(s), true) => s,
        (other, _) => {
            let want = if want_enum {
                "an enum value"
            } else {
                "a string"
            };
            return Err(Error::mismatch(format!(
                "{what} must be {want}, not {}",
                other.data_type().name()
            )));
        }
    };
    String::from_utf8(bytes).map_err(|_| Error::mismatch(format!("{what} is not UTF-8")))
}

/// Splits `(1, type, content)` into the type number and the content elements.
fn unwrap_message(d: Data) -> Result<(u64, Vec<Data>)> {
    let Data::Vector(outer) = d else {
        return Err(Error::mismatch(format!(
            "a Zeek message is a vector, not {}",
            d.data_type().name()
        )));
    };
    if outer.len() < 3 {
        return Err(Error::mismatch(format!(
            "a Zeek message has 3 elements, not {}",
            outer.len()
        )));
    }
    let mut it = outer.into_iter();
    match it.next() {
        Some(Data::Count(FORMAT_VERSION)) => {}
        Some(other) => {
            return Err(Error::mismatch(format!(
                "unsupported Zeek message version {other} (expected count 1)"
            )));
        }
        None => unreachable!("length checked"),
    }
    let ty = match it.next() {
        Some(Data::Count(t)) => t,
        _ => return Err(Error::mismatch("the Zeek message type must be a count")),
    };
    match it.next() {
        Some(Data::Vector(content)) => Ok((ty, content)),
        _ => Err(Error::mismatch("the Zeek message content must be a vector")),
    }
}

fn need(content: &[Data], n: usize, what: &str) -> Result<()> {
    if content.len() < n {
        return Err(Error::mismatch(format!(
            "{what} needs {n} content elements, not {}",
            content.len()
        )));
    }
    Ok(())
}

/// Event metadata: a vector of `(count key, value)` pairs; key 1 must hold a timestamp.
fn metadata_from(m: Data) -> Result<Vec<(u64, Data)>> {
    let Data::Vector(entries) = m else {
        return Err(Error::mismatch("event metadata must be a vector"));
    };
    entries
        .into_iter()
        .map(|e| match e {
            Data::Vector(kv) if kv.len() == 2 => {
                let mut kv = kv.into_iter();
                match (kv.next().unwrap_or_default(), kv.next().unwrap_or_default()) {
                    (Data::Count(METADATA_NETWORK_TIMESTAMP), v @ Data::Timestamp(_)) => {
                        Ok((METADATA_NETWORK_TIMESTAMP, v))
                    }
                    (Data::Count(METADATA_NETWORK_TIMESTAMP), _) => Err(Error::mismatch(
                        "event metadata: the network timestamp must be a timestamp",
                    )),
                    (Data::Count(k), v) => Ok((k, v)),
                    _ => Err(Error::mismatch("event metadata keys must be counts")),
                }
            }
            _ => Err(Error::mismatch(
                "event metadata entries must be 2-element vectors",
            )),
        })
        .collect()
}

fn event_from_content(content: Vec<Data>) -> Result<Event> {
    need(&content, 2, "an event")?;
    let mut it = content.into_iter();
    let name = name(it.next().unwrap_or_default(), "the event name", false)?;
    let args = match it.next() {
        Some(Data::Vector(a)) => a,
        _ => return Err(Error::mismatch("the event arguments must be a vector")),
    };
    let metadata = match it.next() {
        None => None,
        Some(m) => Some(metadata_from(m)?),
    };
    Ok(Event {
        name,
        args,
        metadata,
    })
}

impl Event {
    /// Decodes an event straight from bin-v1 bytes, without building the enclosing
    /// vectors. Same result and errors as `Event::try_from(bin::decode(bytes)?)`, which it
    /// falls back to for anything but a well-formed event.
    pub fn from_bytes(bytes: &[u8]) -> Result<Event> {
        match Event::decode_fast(bytes) {
            Some(e) => Ok(e),
            None => Event::try_from(super::bin::decode(bytes)?),
        }
    }

    /// About the size of [`Event::encode_into`]'s output, to size a buffer once.
    pub fn encoded_len_hint(&self) -> usize {
        let args: usize = self.args.iter().map(super::bin::encoded_len_hint).sum();
        let meta = self.metadata.as_ref().map_or(0, |m| 8 + 32 * m.len());
        32 + self.name.len() + args + meta
    }

    /// Appends the event's bin-v1 encoding (exactly that of `Data::from(event)`) without
    /// building the intermediate value.
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<()> {
        use super::bin::{encode_nested, put_varbyte};
        out.extend_from_slice(&[14, 3, 2, 0, 0, 0, 0, 0, 0, 0, 1, 2]);
        out.extend_from_slice(&(MessageType::Event as u64).to_be_bytes());
        out.extend_from_slice(&[14, if self.metadata.is_some() { 3 } else { 2 }, 5]);
        put_varbyte(out, self.name.len())?;
        out.extend_from_slice(self.name.as_bytes());
        out.push(14);
        put_varbyte(out, self.args.len())?;
        // Inside the message's vector, the event's and the arguments'.
        for a in &self.args {
            encode_nested(a, out, 3)?;
        }
        if let Some(meta) = &self.metadata {
            out.push(14);
            put_varbyte(out, meta.len())?;
            for (k, v) in meta {
                out.extend_from_slice(&[14, 2, 2]);
                out.extend_from_slice(&k.to_be_bytes());
                encode_nested(v, out, 4)?;
            }
        }
        Ok(())
    }

    fn decode_fast(bytes: &[u8]) -> Option<Event> {
        // vector(3) [count 1, count 1 (event), vector(...)]
        const HEAD: [u8; 21] = [
            14, 3, 2, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 1, 14,
        ];
        let mut r = super::bin::Reader::new(bytes);
        if !r.expect(&HEAD) {
            return None;
        }
        let n = r.length()?;
        if n != 2 && n != 3 {
            return None;
        }
        let name = String::from_utf8(r.tagged_bytes(5)?.to_vec()).ok()?;
        let args = r.vector_elements()?;
        let metadata = if n == 3 {
            Some(metadata_from(r.data().ok()?).ok()?)
        } else {
            None
        };
        r.at_end().then_some(Event {
            name,
            args,
            metadata,
        })
    }
}

impl TryFrom<Data> for Message {
    type Error = Error;

    fn try_from(d: Data) -> Result<Message> {
        let (ty, content) = unwrap_message(d)?;
        Ok(match ty {
            1 => Message::Event(event_from_content(content)?),
            2 => {
                need(&content, 4, "a log create")?;
                let mut it = content.into_iter();
                Message::LogCreate(LogCreate {
                    stream_id: name(it.next().unwrap_or_default(), "the stream id", true)?,
                    writer_id: name(it.next().unwrap_or_default(), "the writer id", true)?,
                    writer_info: it.next().unwrap_or_default(),
                    fields: it.next().unwrap_or_default(),
                })
            }
            3 => {
                need(&content, 4, "a log write")?;
                let mut it = content.into_iter();
                let stream_id = name(it.next().unwrap_or_default(), "the stream id", true)?;
                let writer_id = name(it.next().unwrap_or_default(), "the writer id", true)?;
                let (Some(Data::String(path)), Some(Data::String(serial_data))) =
                    (it.next(), it.next())
                else {
                    return Err(Error::mismatch(
                        "a log write's path and serial data must be strings",
                    ));
                };
                Message::LogWrite(LogWrite {
                    stream_id,
                    writer_id,
                    path,
                    serial_data,
                })
            }
            4 => {
                need(&content, 2, "an identifier update")?;
                let mut it = content.into_iter();
                Message::IdentifierUpdate(IdentifierUpdate {
                    id_name: name(it.next().unwrap_or_default(), "the identifier name", false)?,
                    value: it.next().unwrap_or_default(),
                })
            }
            5 => Message::Batch(
                content
                    .into_iter()
                    .map(Message::try_from)
                    .collect::<Result<Vec<_>>>()?,
            ),
            other => {
                return Err(Error::mismatch(format!(
                    "unknown Zeek message type {other}"
                )));
            }
        })
    }
}

impl TryFrom<Data> for Event {
    type Error = Error;

    fn try_from(d: Data) -> Result<Event> {
        match Message::try_from(d)? {
            Message::Event(e) => Ok(e),
            _ => Err(Error::mismatch("the Zeek message is not an event")),
        }
    }
}

#[cfg(test)]
mod tests {
    //! Typed arguments: the mapping itself is tested in `data::typed`.

    use super::{Event, TypedEvent};
    use crate::data::Data;
    use serde::{Deserialize, Serialize};
    use std::collections::BTreeMap;

    fn s(text: &str) -> Data {
        Data::string(text)
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    enum Action {
        Drop,
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Ping {
        n: u64,
        text: String,
    }

    impl TypedEvent for Ping {
        const NAME: &'static str = "ping";
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Hello(Vec<u64>);

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct NoArgs;

    #[test]
    fn event_arguments_are_the_fields() {
        let e = Event::with_args(
            "ping",
            &Ping {
                n: 1,
                text: "a".into(),
            },
        )
        .unwrap();
        assert_eq!(e, Event::new("ping", vec![Data::Count(1), s("a")]));
        assert_eq!(
            e.args_as::<Ping>().unwrap(),
            Ping {
                n: 1,
                text: "a".into()
            }
        );
        assert_eq!(
            Ping {
                n: 1,
                text: "a".into()
            }
            .to_event()
            .unwrap(),
            e
        );
        assert_eq!(
            Ping::from_event(&e).unwrap(),
            Ping {
                n: 1,
                text: "a".into()
            }
        );
        // A tuple's elements, a sequence's, a newtype's one value, or none at all.
        let e = Event::with_args("t", &(1i64, "x")).unwrap();
        assert_eq!(e.args, vec![Data::Integer(1), s("x")]);
        let (n, x): (i64, &str) = e.args_as().unwrap();
        assert_eq!((n, x), (1, "x"));
        let e = Event::with_args("v", &[1u64, 2]).unwrap();
        assert_eq!(e.args_as::<Vec<u64>>().unwrap(), vec![1, 2]);
        let e = Event::with_args("h", &Hello(vec![7])).unwrap();
        assert_eq!(e.args, vec![Data::Vector(vec![Data::Count(7)])]);
        assert_eq!(e.args_as::<Hello>().unwrap(), Hello(vec![7]));
        let e = Event::with_args("none", &NoArgs).unwrap();
        assert!(e.args.is_empty());
        assert_eq!(e.args_as::<NoArgs>().unwrap(), NoArgs);
        assert_eq!(Event::with_args("unit", &()).unwrap().args, vec![]);
        // A struct as one record argument: a 1-tuple.
        let e = Event::with_args(
            "r",
            &(Ping {
                n: 2,
                text: "b".into(),
            },),
        )
        .unwrap();
        assert_eq!(e.args, vec![Data::Vector(vec![Data::Count(2), s("b")])]);
    }

    #[test]
    fn event_argument_errors() {
        let e = Event::with_args("x", &5u64).unwrap_err();
        assert_eq!(
            e.to_string(),
            "event x: event arguments come from a struct, a tuple, a sequence or unit, not an integer"
        );
        assert!(Event::with_args("x", &BTreeMap::from([(1u64, 2u64)])).is_err());
        assert!(Event::with_args("x", &Action::Drop).is_err());
        assert!(Event::with_args("x", &Some(1u64)).is_err());

        let ev = |args: Vec<Data>| Event::new("ping", args);
        let e = ev(vec![Data::Count(1), Data::Count(2)])
            .args_as::<Ping>()
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "event ping: at text: expected string, found count"
        );
        assert_eq!(e.path(), "text");
        let e = ev(vec![Data::Count(1)]).args_as::<Ping>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "event ping: expected struct Ping with 2 elements, found 1 elements"
        );
        let e = ev(vec![Data::Count(1), s("a"), s("b")])
            .args_as::<Ping>()
            .unwrap_err();
        assert_eq!(e.to_string(), "event ping: expected 2 arguments, found 3");
        let e = ev(vec![Data::Count(1)])
            .args_as::<(u64, u64)>()
            .unwrap_err();
        assert_eq!(e.to_string(), "event ping: expected 2 arguments, found 1");
        let e = ev(vec![Data::Count(1)]).args_as::<NoArgs>().unwrap_err();
        assert_eq!(e.to_string(), "event ping: expected no arguments, found 1");
        let e = ev(vec![]).args_as::<Hello>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "event ping: expected 1 argument (Hello), found 0"
        );
        let e = ev(vec![Data::Count(1)]).args_as::<Hello>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "event ping: at [0]: expected vector or set, found count"
        );
        let e = ev(vec![Data::Count(1)]).args_as::<u64>().unwrap_err();
        assert_eq!(e.to_string(), "event ping: expected u64, found sequence");
        let e = Ping::from_event(&Event::new("pong", vec![Data::Count(1), s("a")])).unwrap_err();
        assert_eq!(e.to_string(), "expected event ping, found event pong");
    }
}
