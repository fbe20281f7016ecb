//! brook's store layer against a real Broker: every store command Broker sent in the golden
//! captures decodes to the fields its description lists, is consumed exactly and re-encodes
//! byte for byte; the spec's worked examples reproduce; malformed commands give errors,
//! never panics. The channel state machines deliver exactly once and in order over a lossy,
//! reordering link, and replaying the raw-clone capture's inputs makes them answer as the
//! real master did.

mod common;
use brook::data::text;
use brook::store::channel::{MAX_NACK_SEQS, MAX_OUT_OF_ORDER};
use brook::store::{
    ChannelConfig, ChannelMsg, Command, CommandClass, Consumer, ConsumerMsg, ConsumerOutput,
    DropReason, EntityId, InternalCommand, LostPolicy, Producer, ProducerMsg, ProducerOutput,
    clone_topic, master_topic,
};
use brook::wire::EndpointId;
use brook::wire::envelope::{Envelope, EnvelopeType};
use brook::{Data, ErrorKind, Timespan};
use common::*;
use proptest::prelude::*;
use std::collections::{BTreeMap, HashMap};

const C: &str = "00000000-0000-4000-8000-000000000000";
const P: &str = "ffffffff-ffff-4fff-bfff-ffffffffffff";

fn id(s: &str) -> EndpointId {
    if s == "nil" {
        return EndpointId::nil();
    }
    s.parse().unwrap()
}

/// `endpoint#object` or `nil`, as the golden descriptions write entities.
fn entity(s: &str) -> EntityId {
    match s.split_once('#') {
        Some((e, o)) => EntityId::new(id(e), o.parse().unwrap()),
        None => {
            assert_eq!(s, "nil");
            EntityId::nil()
        }
    }
}

/// One command frame of envelopes.tsv.
struct Golden {
    row: HashMap<String, String>,
    frame: Vec<u8>,
}

impl Golden {
    fn id(&self) -> &str {
        &self.row["id"]
    }

    fn envelope(&self) -> Envelope<'_> {
        let len = u32::from_be_bytes(self.frame[..4].try_into().unwrap()) as usize;
        assert_eq!(len + 4, self.frame.len(), "{}", self.id());
        Envelope::parse(&self.frame[4..]).unwrap()
    }

    fn payload(&self) -> &[u8] {
        self.envelope().payload
    }

    fn command(&self) -> InternalCommand {
        InternalCommand::decode_exact(self.payload())
            .unwrap_or_else(|e| panic!("{}: {e}", self.id()))
    }
}

fn golden_commands() -> Vec<Golden> {
    rows("envelopes.tsv")
        .into_iter()
        .filter(|r| r["kind"].starts_with("command/"))
        .map(|row| Golden {
            frame: unhex(&row["frame_hex"]),
            row,
        })
        .collect()
}

fn capture(name: &str) -> Vec<Golden> {
    golden_commands()
        .into_iter()
        .filter(|g| g.row["capture"] == name)
        .collect()
}

// ---------------------------------------------------------------------------------------
// The description column, parsed

/// Splits `name(seq=S sender=E receiver=E; fields)` into the name, the header fields and
/// the content's fields, keeping brackets and quotes together.
fn parse_description(d: &str) -> (String, HashMap<String, String>, Vec<(String, String)>) {
    let (name, rest) = d.split_once('(').unwrap();
    let rest = rest.strip_suffix(')').unwrap();
    let (head, body) = rest.split_once("; ").unwrap();
    let head = fields(head).into_iter().collect();
    (name.to_string(), head, fields(body))
}

/// `k=v k=v ...`, where a value may hold spaces inside quotes, (), [] or {}.
fn fields(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let eq = i + s[i..].find('=').unwrap();
        let key = s[i..eq].to_string();
        let (mut j, mut depth, mut quoted) = (eq + 1, 0i32, false);
        while j < b.len() {
            match b[j] {
                b'\'' => quoted = !quoted,
                b'(' | b'[' | b'{' if !quoted => depth += 1,
                b')' | b']' | b'}' if !quoted => depth -= 1,
                b' ' if !quoted && depth == 0 => break,
                _ => {}
            }
            j += 1;
        }
        out.push((key, s[eq + 1..j].to_string()));
        i = j + 1;
    }
    out
}

/// A value as the descriptions print it: strings quoted, vectors in (), sets and tables
/// in {}.
fn show_data(d: &Data) -> String {
    let list = |items: Vec<String>| items.join(", ");
    match d {
        Data::String(s) => format!("'{}'", String::from_utf8_lossy(s)),
        Data::Vector(v) => format!("({})", list(v.iter().map(show_data).collect())),
        Data::Set(s) => format!("{{{}}}", list(s.iter().map(show_data).collect())),
        Data::Table(t) => format!(
            "{{{}}}",
            list(
                t.iter()
                    .map(|(k, v)| format!("{} -> {}", show_data(k), show_data(v)))
                    .collect()
            )
        ),
        other => String::from_utf8(text::render(other)).unwrap(),
    }
}

fn show_expiry(e: Option<Timespan>) -> String {
    e.map_or("none".into(), |t| format!("{}ns", t.0))
}

fn show_entity(e: EntityId) -> String {
    if e.is_nil() {
        "nil".into()
    } else {
        e.to_string()
    }
}

/// The content's fields in the description's order and syntax.
fn content_fields(c: &Command) -> Vec<(&'static str, String)> {
    match c {
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
        } => vec![
            ("key", show_data(key)),
            ("value", show_data(value)),
            ("expiry", show_expiry(*expiry)),
            ("publisher", show_entity(*publisher)),
        ],
        Command::PutUnique {
            key,
            value,
            expiry,
            who,
            req_id,
            publisher,
        } => vec![
            ("key", show_data(key)),
            ("value", show_data(value)),
            ("expiry", show_expiry(*expiry)),
            ("who", show_entity(*who)),
            ("req_id", req_id.to_string()),
            ("publisher", show_entity(*publisher)),
        ],
        Command::PutUniqueResult {
            inserted,
            who,
            req_id,
            publisher,
        } => vec![
            ("inserted", (*inserted as u8).to_string()),
            ("who", show_entity(*who)),
            ("req_id", req_id.to_string()),
            ("publisher", show_entity(*publisher)),
        ],
        Command::Erase { key, publisher } | Command::Expire { key, publisher } => vec![
            ("key", show_data(key)),
            ("publisher", show_entity(*publisher)),
        ],
        Command::Add {
            key,
            value,
            init_type,
            expiry,
            publisher,
        } => {
            let t = brook::DataType::from_tag(*init_type).unwrap();
            vec![
                ("key", show_data(key)),
                ("value", show_data(value)),
                ("init_type", format!("{init_type}({})", t.name())),
                ("expiry", show_expiry(*expiry)),
                ("publisher", show_entity(*publisher)),
            ]
        }
        Command::Clear { publisher } => vec![("publisher", show_entity(*publisher))],
        Command::AttachWriter {
            offset,
            heartbeat_interval,
        } => vec![
            ("offset", offset.to_string()),
            ("heartbeat_interval", heartbeat_interval.to_string()),
        ],
        Command::Keepalive { seq }
        | Command::CumulativeAck { seq }
        | Command::RetransmitFailed { seq } => vec![("seq", seq.to_string())],
        Command::Nack { seqs } => {
            let s: Vec<String> = seqs.iter().map(u64::to_string).collect();
            vec![("seqs", format!("[{}]", s.join(", ")))]
        }
        Command::AckClone {
            offset,
            heartbeat_interval,
            state,
        } => {
            let pairs: Vec<String> = state
                .iter()
                .map(|(k, v)| format!("{} -> {}", show_data(k), show_data(v)))
                .collect();
            vec![
                ("offset", offset.to_string()),
                ("heartbeat_interval", heartbeat_interval.to_string()),
                ("state", format!("{{{}}}", pairs.join(", "))),
            ]
        }
    }
}

// ---------------------------------------------------------------------------------------
// Golden commands

#[test]
fn every_golden_command_decodes_to_its_description_and_reencodes() {
    let mut by_kind: BTreeMap<&'static str, usize> = BTreeMap::new();
    let all = golden_commands();
    for g in &all {
        let what = g.id();
        let env = g.envelope();
        assert_eq!(env.kind, EnvelopeType::Command, "{what}");
        assert_eq!(env.sender, id(&g.row["sender"]), "{what}");
        assert_eq!(env.receiver, id(&g.row["receiver"]), "{what}");
        let cmd = g.command();
        assert_eq!(
            format!("command/{}", cmd.content.name()),
            g.row["kind"],
            "{what}"
        );

        let (name, head, body) = parse_description(&g.row["description"]);
        assert_eq!(name, cmd.content.name(), "{what}");
        assert_eq!(head["seq"], cmd.seq.to_string(), "{what}");
        assert_eq!(entity(&head["sender"]), cmd.sender, "{what}");
        assert_eq!(entity(&head["receiver"]), cmd.receiver, "{what}");
        let expected: Vec<(String, String)> = content_fields(&cmd.content)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        assert_eq!(body, expected, "{what}");
        // The command's sender entity lives on the envelope's sending endpoint.
        assert_eq!(cmd.sender.endpoint, env.sender, "{what}");

        let again = cmd.encode().unwrap();
        assert_eq!(hex(&again), hex(env.payload), "{what}");
        let mut frame = Vec::new();
        Envelope {
            payload: &again,
            ..env
        }
        .write_frame(&mut frame)
        .unwrap();
        assert_eq!(hex(&frame), g.row["frame_hex"], "{what}");
        *by_kind.entry(cmd.content.name()).or_default() += 1;
    }
    assert_eq!(all.len(), 112);
    // All fourteen commands occur.
    assert_eq!(by_kind.len(), 14, "{by_kind:?}");
}

#[test]
fn golden_commands_travel_on_their_store_topics() {
    for g in golden_commands() {
        let cmd = g.command();
        let topic = g.envelope().topic.to_vec();
        let name = topic.split(|&b| b == b'/').next().unwrap();
        let to_master = g.row["dir"] == "C->S";
        let expected = if to_master {
            master_topic(name)
        } else {
            clone_topic(name)
        };
        assert_eq!(show(&topic), show(&expected), "{}", g.id());
        // Actions and control both ways: only a master sends ack_clone and
        // retransmit_failed here, only a clone attach_writer.
        match cmd.content {
            Command::AckClone { .. } => assert!(!to_master),
            Command::AttachWriter { .. } => assert!(to_master),
            _ => {}
        }
    }
    assert_eq!(master_topic(b"vecstore"), b"vecstore/<$>/data/master");
    assert_eq!(
        clone_topic(b"zeek/known/hosts"),
        b"zeek/known/hosts/<$>/data/clone"
    );
    assert_eq!(master_topic(b""), b"<$>/data/master");
}

#[test]
fn spec_worked_examples_reproduce() {
    // §7.2: master (C, 7) broadcasts put("foo" -> "bar"), publisher (C, 9), seq 2.
    let put = InternalCommand {
        seq: 2,
        sender: EntityId::new(id(C), 7),
        receiver: EntityId::nil(),
        content: Command::Put {
            key: Data::string("foo"),
            value: Data::string("bar"),
            expiry: None,
            publisher: EntityId::new(id(C), 9),
        },
    };
    let expected = concat!(
        "0000000000000002",
        "00000000000040008000000000000000",
        "0000000000000007",
        "00000000000000000000000000000000",
        "0000000000000000",
        "00",
        "0503666f6f",
        "0503626172",
        "00",
        "00000000000040008000000000000000",
        "0000000000000009",
    );
    assert_eq!(hex(&put.encode().unwrap()), expected);
    assert_eq!(
        InternalCommand::decode_exact(&unhex(expected)).unwrap(),
        put
    );

    // Clone (P, 3) asking to attach: nack [0], receiver nil.
    let nack = InternalCommand {
        seq: 0,
        sender: EntityId::new(id(P), 3),
        receiver: EntityId::nil(),
        content: ConsumerMsg::handshake_request().into_command(),
    };
    let expected = concat!(
        "0000000000000000",
        "ffffffffffff4fffbfffffffffffffff",
        "0000000000000003",
        "00000000000000000000000000000000",
        "0000000000000000",
        "0b",
        "01",
        "0000000000000000",
    );
    assert_eq!(hex(&nack.encode().unwrap()), expected);
    assert_eq!(
        InternalCommand::decode_exact(&unhex(expected)).unwrap(),
        nack
    );

    // §7.2: "an expiry of 60 s travels as 01 0000000df8475800".
    let mut with_expiry = put.clone();
    if let Command::Put { expiry, .. } = &mut with_expiry.content {
        *expiry = Some(Timespan::from(std::time::Duration::from_secs(60)));
    }
    assert!(hex(&with_expiry.encode().unwrap()).contains("0503626172010000000df8475800"));
}

#[test]
fn command_classes_follow_the_spec_table() {
    let classes: Vec<(String, CommandClass)> = golden_commands()
        .iter()
        .map(|g| {
            let c = g.command().content;
            (c.name().to_string(), c.class())
        })
        .collect();
    for (name, class) in classes {
        let expected = match name.as_str() {
            "cumulative_ack" | "nack" => CommandClass::ConsumerControl,
            "attach_writer" | "keepalive" | "ack_clone" | "retransmit_failed" => {
                CommandClass::ProducerControl
            }
            _ => CommandClass::Action,
        };
        assert_eq!(class, expected, "{name}");
    }
}

// ---------------------------------------------------------------------------------------
// Malformed commands

fn decode_err(bytes: &[u8]) -> String {
    match InternalCommand::decode(bytes) {
        Ok(c) => panic!("accepted {}: {c:?}", hex(bytes)),
        Err(e) => {
            assert_eq!(e.kind, ErrorKind::Decode);
            e.message
        }
    }
}

#[test]
fn every_truncation_of_every_golden_command_is_an_error() {
    for g in golden_commands() {
        let payload = g.payload();
        for n in 0..payload.len() {
            let msg = decode_err(&payload[..n]);
            assert!(
                msg.starts_with("store command") && msg.contains("offset"),
                "{msg}"
            );
        }
    }
    let msg = decode_err(&[]);
    assert_eq!(
        msg,
        "store command: truncated seq at offset 0: needs 8 bytes, 0 left"
    );
}

#[test]
fn bad_indices_and_fields_are_errors_naming_the_offset() {
    let golden = golden_commands();
    let put = golden
        .iter()
        .find(|g| g.row["kind"] == "command/put")
        .unwrap()
        .payload();
    for index in [14u8, 15, 127, 200, 255] {
        let mut bad = put.to_vec();
        bad[56] = index;
        assert_eq!(
            decode_err(&bad),
            format!("store command: unknown command index {index} at offset 56")
        );
    }
    // A key whose type tag is not a data type.
    let mut bad = put.to_vec();
    bad[57] = 15;
    let msg = decode_err(&bad);
    assert!(
        msg.starts_with("store command put: key at offset 57: bin v1: invalid type tag 15"),
        "{msg}"
    );

    let add = golden
        .iter()
        .find(|g| g.row["kind"] == "command/add")
        .unwrap()
        .command();
    let mut bytes = add.encode().unwrap();
    let Command::Add { key, value, .. } = &add.content else {
        unreachable!()
    };
    let at = 57
        + brook::data::bin::encode(key).unwrap().len()
        + brook::data::bin::encode(value).unwrap().len();
    bytes[at] = 15;
    assert_eq!(
        decode_err(&bytes),
        format!("store command add: init_type 15 at offset {at} is not a data type (0-14)")
    );
}

fn header(index: u8) -> Vec<u8> {
    let mut b = vec![0u8; 56];
    b.push(index);
    b
}

#[test]
fn huge_counts_are_refused_before_allocating() {
    // nack claiming 2^32 - 1 seqs, as a 5-byte varbyte, with one seq behind it.
    let mut b = header(11);
    b.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
    b.extend_from_slice(&[0; 8]);
    assert_eq!(
        decode_err(&b),
        "store command nack: seqs at offset 57 claims 4294967295 elements but only 8 bytes follow"
    );
    // Two seqs claimed, 15 bytes present.
    let mut b = header(11);
    b.push(2);
    b.extend_from_slice(&[0; 15]);
    assert!(decode_err(&b).contains("claims 2 elements but only 15 bytes follow"));
    // An endless varbyte.
    let mut b = header(11);
    b.extend_from_slice(&[0x80; 64]);
    assert!(decode_err(&b).contains("truncated seqs at offset 121"));
    // ack_clone claiming a million pairs in 10 bytes.
    let mut b = header(12);
    b.extend_from_slice(&[0; 10]);
    b.extend_from_slice(&[0xc0, 0x84, 0x3d]);
    b.extend_from_slice(&[0; 10]);
    assert_eq!(
        decode_err(&b),
        "store command ack_clone: state at offset 67 claims 1000000 elements but only 10 bytes \
         follow"
    );
    // A key string claiming 4 GiB.
    let mut b = header(3);
    b.extend_from_slice(&[0x05, 0xff, 0xff, 0xff, 0xff, 0x0f, b'x']);
    assert!(decode_err(&b).starts_with("store command erase: key at offset 57: bin v1:"));
}

#[test]
fn trailing_bytes_are_ignored_by_decode_and_refused_by_decode_exact() {
    for g in golden_commands() {
        let mut b = g.payload().to_vec();
        b.extend_from_slice(b"\x00junk");
        let cmd = InternalCommand::decode(&b).unwrap();
        assert_eq!(cmd, g.command());
        assert_eq!(InternalCommand::decode_prefix(&b).unwrap().1, b.len() - 5);
        let e = InternalCommand::decode_exact(&b).unwrap_err();
        assert_eq!(
            e.message,
            format!(
                "store command {}: 5 trailing bytes at offset {}",
                cmd.content.name(),
                b.len() - 5
            )
        );
    }
}

#[test]
fn flag_bytes_read_as_caf_reads_bools() {
    let golden = golden_commands();
    let g = golden
        .iter()
        .find(|g| g.row["id"] == "store-all-commands/019")
        .unwrap();
    let mut b = g.payload().to_vec();
    assert_eq!(b[57], 1);
    b[57] = 0x7f;
    let Command::PutUniqueResult { inserted, .. } =
        InternalCommand::decode_exact(&b).unwrap().content
    else {
        panic!()
    };
    assert!(inserted);
}

fn arb_data() -> impl Strategy<Value = Data> {
    prop_oneof![
        Just(Data::None),
        any::<u64>().prop_map(Data::Count),
        any::<i64>().prop_map(Data::Integer),
        prop::collection::vec(any::<u8>(), 0..12).prop_map(Data::String),
        prop::collection::vec(any::<u64>().prop_map(Data::Count), 0..4).prop_map(Data::Vector),
    ]
}

fn arb_entity() -> impl Strategy<Value = EntityId> {
    (any::<[u8; 16]>(), any::<u64>()).prop_map(|(e, o)| EntityId::new(EndpointId(e), o))
}

fn arb_command() -> impl Strategy<Value = Command> {
    let expiry = prop::option::of(any::<i64>().prop_map(Timespan));
    prop_oneof![
        (arb_data(), arb_data(), expiry.clone(), arb_entity()).prop_map(
            |(key, value, expiry, publisher)| {
                Command::Put {
                    key,
                    value,
                    expiry,
                    publisher,
                }
            }
        ),
        (
            arb_data(),
            arb_data(),
            expiry.clone(),
            arb_entity(),
            any::<u64>(),
            arb_entity()
        )
            .prop_map(
                |(key, value, expiry, who, req_id, publisher)| Command::PutUnique {
                    key,
                    value,
                    expiry,
                    who,
                    req_id,
                    publisher
                }
            ),
        (any::<bool>(), arb_entity(), any::<u64>(), arb_entity()).prop_map(
            |(inserted, who, req_id, publisher)| Command::PutUniqueResult {
                inserted,
                who,
                req_id,
                publisher
            }
        ),
        (arb_data(), arb_entity()).prop_map(|(key, publisher)| Command::Erase { key, publisher }),
        (arb_data(), arb_entity()).prop_map(|(key, publisher)| Command::Expire { key, publisher }),
        (
            arb_data(),
            arb_data(),
            0u8..15,
            expiry.clone(),
            arb_entity()
        )
            .prop_map(|(key, value, init_type, expiry, publisher)| Command::Add {
                key,
                value,
                init_type,
                expiry,
                publisher
            }),
        (arb_data(), arb_data(), expiry, arb_entity()).prop_map(
            |(key, value, expiry, publisher)| {
                Command::Subtract {
                    key,
                    value,
                    expiry,
                    publisher,
                }
            }
        ),
        arb_entity().prop_map(|publisher| Command::Clear { publisher }),
        (any::<u64>(), any::<u16>()).prop_map(|(offset, heartbeat_interval)| {
            Command::AttachWriter {
                offset,
                heartbeat_interval,
            }
        }),
        any::<u64>().prop_map(|seq| Command::Keepalive { seq }),
        any::<u64>().prop_map(|seq| Command::CumulativeAck { seq }),
        prop::collection::vec(any::<u64>(), 0..200).prop_map(|seqs| Command::Nack { seqs }),
        (
            any::<u64>(),
            any::<u16>(),
            prop::collection::vec((arb_data(), arb_data()), 0..5)
        )
            .prop_map(|(offset, heartbeat_interval, state)| Command::AckClone {
                offset,
                heartbeat_interval,
                state
            }),
        any::<u64>().prop_map(|seq| Command::RetransmitFailed { seq }),
    ]
}

proptest! {
    #[test]
    fn random_bytes_never_panic_the_decoder(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        if let Ok((cmd, used)) = InternalCommand::decode_prefix(&bytes) {
            prop_assert!(used <= bytes.len());
            // What was read re-encodes to a prefix that reads back the same.
            let again = cmd.encode().unwrap();
            prop_assert_eq!(InternalCommand::decode_exact(&again).unwrap(), cmd);
        }
    }

    #[test]
    fn random_bodies_behind_a_valid_header_never_panic(
        index in 0u8..16,
        body in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let mut bytes = header(index);
        bytes.extend_from_slice(&body);
        let _ = InternalCommand::decode(&bytes);
    }

    #[test]
    fn commands_roundtrip(
        seq in any::<u64>(),
        sender in arb_entity(),
        receiver in arb_entity(),
        content in arb_command(),
    ) {
        let cmd = InternalCommand { seq, sender, receiver, content };
        let bytes = cmd.encode().unwrap();
        prop_assert_eq!(InternalCommand::decode_exact(&bytes).unwrap(), cmd);
    }
}

// ---------------------------------------------------------------------------------------
// Channels: helpers

type Out = ProducerOutput<u32, u64>;
type In = ConsumerOutput<u64>;

fn delivered(outs: &[In]) -> Vec<(u64, u64)> {
    outs.iter()
        .filter_map(|o| match o {
            ConsumerOutput::Deliver { seq, content } => Some((*seq, *content)),
            _ => None,
        })
        .collect()
}

fn sends(outs: &[In]) -> Vec<ConsumerMsg> {
    outs.iter()
        .filter_map(|o| match o {
            ConsumerOutput::Send(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

fn ack(seq: u64) -> ConsumerMsg {
    ConsumerMsg::CumulativeAck { seq }
}

fn nack(seqs: &[u64]) -> ConsumerMsg {
    ConsumerMsg::Nack {
        seqs: seqs.to_vec(),
    }
}

/// A small deterministic PRNG (xorshift64*), so the lossy link is the same every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn percent(&mut self) -> u64 {
        self.next() % 100
    }
}

/// One direction of a simulated network path: drops, duplicates and delays (and so
/// reorders) messages.
struct Link<M> {
    queue: Vec<(u64, u64, M)>,
    drop_pct: u64,
    sent: u64,
    dropped: u64,
}

impl<M: Clone> Link<M> {
    fn new(drop_pct: u64) -> Link<M> {
        Link {
            queue: Vec::new(),
            drop_pct,
            sent: 0,
            dropped: 0,
        }
    }

    fn send(&mut self, rng: &mut Rng, now: u64, msg: M) {
        self.sent += 1;
        if rng.percent() < self.drop_pct {
            self.dropped += 1;
            return;
        }
        let copies = if rng.percent() < 5 { 2 } else { 1 };
        for _ in 0..copies {
            let delay = rng.next() % 4;
            let order = rng.next();
            self.queue.push((now + delay, order, msg.clone()));
        }
    }

    fn due(&mut self, now: u64) -> Vec<M> {
        let (mut due, rest): (Vec<_>, Vec<_>) =
            self.queue.drain(..).partition(|(at, _, _)| *at <= now);
        self.queue = rest;
        due.sort_by_key(|(at, order, _)| (*at, *order));
        due.into_iter().map(|(_, _, m)| m).collect()
    }
}

/// A producer and `n` consumers joined by lossy links, one pair per consumer.
struct Net {
    rng: Rng,
    now: u64,
    producer: Producer<u32, u64>,
    consumers: Vec<Consumer<u64>>,
    down: Vec<Link<ProducerMsg<u64>>>,
    up: Vec<Link<ConsumerMsg>>,
    got: Vec<Vec<(u64, u64)>>,
    events: Vec<Out>,
}

impl Net {
    fn new(n: usize, drop_pct: u64, seed: u64) -> Net {
        let cfg = ChannelConfig::default();
        let mut net = Net {
            rng: Rng(seed | 1),
            now: 0,
            producer: Producer::new(cfg),
            consumers: (0..n).map(|_| Consumer::new(cfg)).collect(),
            down: (0..n).map(|_| Link::new(drop_pct)).collect(),
            up: (0..n).map(|_| Link::new(drop_pct)).collect(),
            got: vec![Vec::new(); n],
            events: Vec::new(),
        };
        for i in 0..n {
            net.up[i].send(&mut net.rng, 0, ConsumerMsg::handshake_request());
        }
        net
    }

    fn producer_out(&mut self, outs: Vec<Out>) {
        for o in outs {
            match o {
                ProducerOutput::Broadcast(m) => {
                    for link in &mut self.down {
                        link.send(&mut self.rng, self.now, m.clone());
                    }
                }
                ProducerOutput::Send(to, m) => {
                    self.down[to as usize].send(&mut self.rng, self.now, m)
                }
                other => self.events.push(other),
            }
        }
    }

    fn consumer_out(&mut self, i: usize, outs: Vec<In>) {
        for o in outs {
            match o {
                ConsumerOutput::Send(m) => self.up[i].send(&mut self.rng, self.now, m),
                ConsumerOutput::Deliver { seq, content } => self.got[i].push((seq, content)),
                other => panic!("consumer {i}: {other:?}"),
            }
        }
    }

    /// Delivers what is due, then ticks everybody.
    fn step(&mut self) {
        self.now += 1;
        for i in 0..self.consumers.len() {
            for m in self.up[i].due(self.now) {
                let outs = self.producer.handle(&(i as u32), m);
                self.producer_out(outs);
            }
            for m in self.down[i].due(self.now) {
                let outs = self.consumers[i].handle(m);
                self.consumer_out(i, outs);
            }
        }
        let outs = self.producer.tick();
        self.producer_out(outs);
        for i in 0..self.consumers.len() {
            let outs = self.consumers[i].tick();
            self.consumer_out(i, outs);
        }
    }

    fn produce(&mut self, value: u64) {
        let outs = self.producer.produce(value);
        assert_eq!(outs.len(), 1);
        self.producer_out(outs);
    }
}

// ---------------------------------------------------------------------------------------
// Channels: behaviour

#[test]
fn lossy_reordering_link_delivers_every_event_once_in_order() {
    for (seed, drop_pct) in [(1, 0), (7, 10), (42, 20), (1234, 30), (99, 40)] {
        let mut net = Net::new(3, drop_pct, seed);
        while net.producer.paths().len() < 3 {
            net.step();
            assert!(net.now < 100, "seed {seed}: consumers never attached");
        }
        let n = 300u64;
        for v in 0..n {
            net.produce(1000 + v);
            if v % 3 == 0 {
                net.step();
            }
        }
        let expected: Vec<(u64, u64)> = (0..n).map(|v| (v + 2, 1000 + v)).collect();
        let done = |net: &Net| {
            net.got.iter().all(|g| g.len() == expected.len())
                && net.consumers.iter().all(Consumer::is_idle)
                && net.producer.buffered().next().is_none()
        };
        while !done(&net) {
            net.step();
            assert!(
                net.now < 5000,
                "seed {seed}: stuck; got {:?}",
                net.got.iter().map(Vec::len).collect::<Vec<_>>()
            );
        }
        for (i, got) in net.got.iter().enumerate() {
            assert_eq!(got, &expected, "seed {seed}, consumer {i}");
        }
        assert!(net.producer.is_idle());
        let completed = net
            .events
            .iter()
            .filter(|e| matches!(e, ProducerOutput::HandshakeCompleted(_)))
            .count();
        assert_eq!(completed, 3, "seed {seed}: {:?}", net.events);
        if drop_pct > 0 {
            assert!(net.down.iter().map(|l| l.dropped).sum::<u64>() > 0);
        }
    }
}

/// A producer with one consumer (handle 0) whose handshake is done, at tick 1.
fn attached() -> (Producer<u32, u64>, Consumer<u64>) {
    let mut p = Producer::new(ChannelConfig::default());
    let mut c = Consumer::new(ChannelConfig::default());
    let outs = p.handle(&0, ConsumerMsg::handshake_request());
    let [ProducerOutput::Send(0, hs)] = &outs[..] else {
        panic!("{outs:?}")
    };
    assert_eq!(
        hs,
        &ProducerMsg::Handshake {
            offset: 1,
            heartbeat_interval: 5
        }
    );
    let outs = c.handle(hs.clone());
    assert_eq!(outs, vec![ConsumerOutput::Send(ack(1))]);
    assert_eq!(
        p.handle(&0, ack(1)),
        vec![ProducerOutput::HandshakeCompleted(0)]
    );
    (p, c)
}

fn event_of(outs: &[Out]) -> ProducerMsg<u64> {
    match outs {
        [ProducerOutput::Broadcast(m)] => m.clone(),
        _ => panic!("{outs:?}"),
    }
}

#[test]
fn a_missed_event_is_nacked_after_the_nack_timeout_and_retransmitted() {
    let (mut p, mut c) = attached();
    let e2 = event_of(&p.produce(20));
    let _lost = event_of(&p.produce(30));
    let e4 = event_of(&p.produce(40));
    assert_eq!(delivered(&c.handle(e2)), vec![(2, 20)]);
    assert!(c.handle(e4).is_empty());
    assert_eq!(c.buffered().collect::<Vec<_>>(), vec![4]);
    // The first tick sees progress (event 2), then two idle ticks make the nack.
    assert!(sends(&c.tick()).is_empty());
    assert!(sends(&c.tick()).is_empty());
    let outs = c.tick();
    assert_eq!(sends(&outs), vec![nack(&[3])]);
    // The nack acknowledges 2 and brings back 3, unicast with its original number.
    let outs = p.handle(&0, nack(&[3]));
    assert_eq!(
        outs,
        vec![ProducerOutput::Send(
            0,
            ProducerMsg::Event {
                seq: 3,
                content: 30
            }
        )]
    );
    assert_eq!(p.buffered().collect::<Vec<_>>(), vec![3, 4]);
    let ProducerOutput::Send(_, e3) = &outs[0] else {
        unreachable!()
    };
    assert_eq!(delivered(&c.handle(e3.clone())), vec![(3, 30), (4, 40)]);
    assert!(c.is_idle());
    // A duplicate is ignored.
    assert!(c.handle(e3.clone()).is_empty());
}

#[test]
fn a_nack_for_a_trimmed_event_yields_retransmit_failed() {
    let (mut p, _) = attached();
    for v in [20, 30, 40] {
        p.produce(v);
    }
    assert!(p.handle(&0, ack(4)).is_empty());
    assert_eq!(p.buffered().count(), 0);
    // Broker's answers to [3] and to [2, 4, 4, 5]: lost, each once.
    assert_eq!(
        p.handle(&0, nack(&[3])),
        vec![ProducerOutput::Send(
            0,
            ProducerMsg::RetransmitFailed { seq: 3 }
        )]
    );
    p.produce(50);
    assert_eq!(
        p.handle(&0, nack(&[2, 4, 4, 5])),
        vec![
            ProducerOutput::Send(0, ProducerMsg::RetransmitFailed { seq: 2 }),
            ProducerOutput::Send(0, ProducerMsg::RetransmitFailed { seq: 4 }),
            ProducerOutput::Send(
                0,
                ProducerMsg::Event {
                    seq: 5,
                    content: 50
                }
            ),
        ]
    );
}

#[test]
fn retransmit_failed_is_skipped_or_resets_by_policy() {
    for policy in [LostPolicy::Skip, LostPolicy::Reset] {
        let mut c = Consumer::new(ChannelConfig::default()).with_lost_policy(policy);
        c.handle(ProducerMsg::Handshake {
            offset: 1,
            heartbeat_interval: 5,
        });
        assert!(
            c.handle(ProducerMsg::Event {
                seq: 3,
                content: 30
            })
            .is_empty()
        );
        let outs = c.handle(ProducerMsg::RetransmitFailed { seq: 2 });
        match policy {
            LostPolicy::Skip => {
                assert_eq!(
                    outs,
                    vec![
                        ConsumerOutput::Lost { seq: 2 },
                        ConsumerOutput::Deliver {
                            seq: 3,
                            content: 30
                        }
                    ]
                );
                assert!(c.is_idle());
            }
            LostPolicy::Reset => {
                assert_eq!(outs, vec![ConsumerOutput::Lost { seq: 2 }]);
                assert!(!c.is_initialized());
                assert_eq!(c.buffered().count(), 0);
                // It asks for a new handshake every nack timeout, and accepts one.
                assert!(c.tick().is_empty());
                assert_eq!(sends(&c.tick()), vec![ConsumerMsg::handshake_request()]);
                let outs = c.handle(ProducerMsg::Handshake {
                    offset: 7,
                    heartbeat_interval: 5,
                });
                assert_eq!(outs, vec![ConsumerOutput::Send(ack(7))]);
            }
        }
    }
    // A lost entry learnt ahead of time is reported when its turn comes.
    let mut c = Consumer::new(ChannelConfig::default());
    c.handle(ProducerMsg::Handshake {
        offset: 1,
        heartbeat_interval: 5,
    });
    assert!(
        c.handle(ProducerMsg::RetransmitFailed { seq: 3 })
            .is_empty()
    );
    assert_eq!(
        c.handle(ProducerMsg::Event {
            seq: 2,
            content: 20
        }),
        vec![
            ConsumerOutput::Deliver {
                seq: 2,
                content: 20
            },
            ConsumerOutput::Lost { seq: 3 }
        ]
    );
}

#[test]
fn heartbeats_keep_an_idle_channel_alive_and_silence_times_out() {
    let (mut p, mut c) = attached();
    let mut keepalive_ticks = Vec::new();
    let mut acks = 0;
    for _ in 0..2000 {
        for o in p.tick() {
            match o {
                ProducerOutput::Broadcast(m @ ProducerMsg::Keepalive { seq: 1 }) => {
                    keepalive_ticks.push(p.tick_count());
                    assert!(c.handle(m).is_empty());
                }
                other => panic!("{other:?}"),
            }
        }
        for o in c.tick() {
            let ConsumerOutput::Send(m @ ConsumerMsg::CumulativeAck { seq: 1 }) = o else {
                panic!("{o:?}")
            };
            acks += 1;
            assert!(p.handle(&0, m).is_empty());
        }
    }
    // Keepalives every 5 ticks from the first broadcast (tick 1), acks as often.
    assert_eq!(keepalive_ticks[..3], [6, 11, 16]);
    assert_eq!(keepalive_ticks.len(), 400);
    assert_eq!(acks, 400);
    assert_eq!(p.paths().len(), 1);

    // The consumer falls silent: dropped 5 × 100 ticks after its last ack.
    let last_seen = p.paths()[0].last_seen;
    let mut dropped_at = None;
    for _ in 0..600 {
        for o in p.tick() {
            if let ProducerOutput::Dropped(0, reason) = o {
                assert_eq!(reason, DropReason::Timeout);
                dropped_at = Some(p.tick_count());
            }
        }
    }
    assert_eq!(dropped_at, Some(last_seen + 500));
    assert!(p.paths().is_empty());

    // The producer falls silent: the consumer says so once, 500 ticks after the last word.
    let mut timeouts = Vec::new();
    for _ in 0..1200 {
        if c.tick().contains(&ConsumerOutput::ProducerTimeout) {
            timeouts.push(c.tick_count());
        }
    }
    assert_eq!(timeouts.len(), 1, "{timeouts:?}");
    // A keepalive ends the silence; the next one is reported again.
    c.handle(ProducerMsg::Keepalive { seq: 1 });
    let heard = c.tick_count();
    let mut again = None;
    for _ in 0..600 {
        if c.tick().contains(&ConsumerOutput::ProducerTimeout) {
            again = Some(c.tick_count());
        }
    }
    assert_eq!(again, Some(heard + 500));
}

#[test]
fn a_writer_resends_its_handshake_with_each_keepalive_until_acked() {
    let mut w: Producer<u32, u64> =
        Producer::new(ChannelConfig::default()).with_repeated_handshakes();
    let hs = ProducerMsg::Handshake {
        offset: 1,
        heartbeat_interval: 5,
    };
    assert_eq!(w.add(7), vec![ProducerOutput::Send(7, hs.clone())]);
    assert!(w.add(7).is_empty());
    let mut seen = Vec::new();
    for _ in 0..10 {
        seen.extend(w.tick().into_iter().map(|o| (w.tick_count(), o)));
    }
    let keepalive = ProducerOutput::Broadcast(ProducerMsg::Keepalive { seq: 1 });
    assert_eq!(
        seen,
        vec![
            (6, ProducerOutput::Send(7, hs.clone())),
            (6, keepalive.clone()),
            (11, ProducerOutput::Send(7, hs.clone())),
            (11, keepalive.clone()),
        ]
    );
    assert_eq!(
        w.handle(&7, ack(1)),
        vec![ProducerOutput::HandshakeCompleted(7)]
    );
    let seen: Vec<_> = (0..5).flat_map(|_| w.tick()).collect();
    assert_eq!(seen, vec![keepalive]);
    // Writes are numbered from 2, and the master's consumer takes them in order.
    let mut m = Consumer::new(ChannelConfig::default());
    assert_eq!(m.handle(hs), vec![ConsumerOutput::Send(ack(1))]);
    let e = event_of(&w.produce(5));
    assert_eq!(delivered(&m.handle(e)), vec![(2, 5)]);
}

#[test]
fn producer_edge_cases_follow_broker() {
    let mut p: Producer<u32, u64> = Producer::new(ChannelConfig::default());
    // Without consumers, events are dropped and use no number.
    assert!(p.produce(1).is_empty());
    assert_eq!(p.seq(), 1);
    // Nacks other than [0] from strangers, and empty nacks, are ignored.
    assert!(p.handle(&3, nack(&[5])).is_empty());
    assert!(p.handle(&3, nack(&[0, 0])).is_empty());
    assert!(p.handle(&3, ack(9)).is_empty());
    assert!(p.paths().is_empty());
    // nack [0] adds, at the current number.
    p.handle(&3, nack(&[0]));
    p.handle(&4, nack(&[0]));
    assert!(p.handle(&3, nack(&[])).is_empty());
    p.produce(20);
    p.produce(30);
    // A stale ack changes nothing, the buffer waits for the slowest consumer.
    assert_eq!(
        p.handle(&3, ack(3)),
        vec![ProducerOutput::HandshakeCompleted(3)]
    );
    assert!(p.handle(&3, ack(2)).is_empty());
    assert_eq!(p.buffered().collect::<Vec<_>>(), vec![2, 3]);
    p.handle(&4, ack(2));
    assert_eq!(p.buffered().collect::<Vec<_>>(), vec![3]);
    // An unsorted nack drops the consumer, which frees what only it held.
    assert_eq!(
        p.handle(&4, nack(&[3, 2])),
        vec![ProducerOutput::Dropped(4, DropReason::InvalidNack)]
    );
    assert_eq!(p.buffered().count(), 0);
    // A known consumer's nack [0] repeats its handshake with the original offset.
    assert_eq!(
        p.handle(&3, nack(&[0])),
        vec![ProducerOutput::Send(
            3,
            ProducerMsg::Handshake {
                offset: 1,
                heartbeat_interval: 5
            }
        )]
    );
    assert!(p.remove(&3));
    assert!(!p.remove(&3));
}

#[test]
fn consumer_edge_cases() {
    let cfg = ChannelConfig::default();
    // Events before the handshake wait; those at or below the offset are discarded, and
    // a gap among the rest is nacked without waiting for more traffic.
    let mut c = Consumer::new(cfg);
    for seq in [3, 4, 6, 0] {
        assert!(
            c.handle(ProducerMsg::Event {
                seq,
                content: seq * 10
            })
            .is_empty()
        );
    }
    assert!(
        c.handle(ProducerMsg::RetransmitFailed { seq: 3 })
            .is_empty()
    );
    assert!(c.handle(ProducerMsg::Keepalive { seq: 9 }).is_empty());
    let outs = c.handle(ProducerMsg::Handshake {
        offset: 3,
        heartbeat_interval: 5,
    });
    assert_eq!(
        outs,
        vec![
            ConsumerOutput::Deliver {
                seq: 4,
                content: 40
            },
            ConsumerOutput::Send(ack(4))
        ]
    );
    // A second handshake is ignored.
    assert!(
        c.handle(ProducerMsg::Handshake {
            offset: 1,
            heartbeat_interval: 5
        })
        .is_empty()
    );
    let mut nacks = Vec::new();
    for _ in 0..4 {
        nacks.extend(sends(&c.tick()));
    }
    assert_eq!(nacks, vec![nack(&[5])]);
    // A keepalive reveals a trailing gap.
    c.handle(ProducerMsg::Event {
        seq: 5,
        content: 50,
    });
    c.handle(ProducerMsg::Keepalive { seq: 8 });
    let mut nacks = Vec::new();
    for _ in 0..4 {
        nacks.extend(
            sends(&c.tick())
                .into_iter()
                .filter(|m| matches!(m, ConsumerMsg::Nack { .. })),
        );
    }
    assert_eq!(nacks, vec![nack(&[7, 8])]);

    // A keepalive claiming an absurd number makes a bounded nack.
    let mut c = Consumer::<u64>::new(cfg);
    c.handle(ProducerMsg::Handshake {
        offset: 1,
        heartbeat_interval: 5,
    });
    c.handle(ProducerMsg::Keepalive { seq: u64::MAX });
    let mut nacks = Vec::new();
    for _ in 0..4 {
        nacks.extend(sends(&c.tick()));
    }
    let [ConsumerMsg::Nack { seqs }] = &nacks[..] else {
        panic!("{nacks:?}")
    };
    assert_eq!(seqs.len(), MAX_NACK_SEQS);
    assert_eq!(seqs[0], 2);

    // The out-of-order buffer keeps the lowest numbers.
    let mut c = Consumer::<u64>::new(cfg);
    c.handle(ProducerMsg::Handshake {
        offset: 1,
        heartbeat_interval: 5,
    });
    for seq in (3..MAX_OUT_OF_ORDER as u64 + 100).rev() {
        c.handle(ProducerMsg::Event { seq, content: seq });
    }
    assert_eq!(c.buffered().count(), MAX_OUT_OF_ORDER);
    let outs = c.handle(ProducerMsg::Event { seq: 2, content: 2 });
    assert_eq!(delivered(&outs).len(), MAX_OUT_OF_ORDER + 1);
    assert_eq!(c.next_seq(), MAX_OUT_OF_ORDER as u64 + 3);
}

// ---------------------------------------------------------------------------------------
// Channels against the golden captures

/// A consumer fed everything one side sent on one channel, in capture order, delivers each
/// action once and in sequence, and never has to nack.
fn replay_consumer(frames: &[InternalCommand]) -> Vec<(u64, Command)> {
    let mut c = Consumer::new(ChannelConfig::default()).with_lost_policy(LostPolicy::Reset);
    let mut got = Vec::new();
    for cmd in frames {
        let ChannelMsg::ToConsumer(msg) = cmd.clone().into_channel_msg() else {
            continue;
        };
        for o in c.handle(msg) {
            match o {
                ConsumerOutput::Deliver { seq, content } => got.push((seq, content)),
                ConsumerOutput::Send(ConsumerMsg::CumulativeAck { .. }) => {}
                other => panic!("{other:?}"),
            }
        }
        for o in c.tick() {
            assert!(
                matches!(o, ConsumerOutput::Send(ConsumerMsg::CumulativeAck { .. })),
                "{o:?}"
            );
        }
    }
    assert!(c.is_idle());
    got
}

#[test]
fn golden_channels_replay_through_consumer_and_producer() {
    for name in ["store-master-clone.pcap", "store-all-commands.pcap"] {
        let cmds: Vec<(String, InternalCommand)> = capture(name)
            .iter()
            .map(|g| (g.row["dir"].clone(), g.command()))
            .collect();
        for dir in ["S->C", "C->S"] {
            let side: Vec<InternalCommand> = cmds
                .iter()
                .filter(|(d, _)| d == dir)
                .map(|(_, c)| c.clone())
                .collect();
            let actions: Vec<(u64, Command)> = side
                .iter()
                .filter(|c| c.content.class() == CommandClass::Action)
                .map(|c| (c.seq, c.content.clone()))
                .collect();
            assert!(!actions.is_empty());
            assert_eq!(replay_consumer(&side), actions, "{name} {dir}");

            // A producer with one consumer numbers the same actions as Broker did: from
            // 2, one by one.
            let mut p: Producer<EntityId, Command> = Producer::new(ChannelConfig::default());
            p.add(EntityId::nil());
            for (seq, content) in &actions {
                let outs = p.produce(content.clone());
                let [ProducerOutput::Broadcast(msg)] = &outs[..] else {
                    panic!()
                };
                assert_eq!(msg.clone().into_command(), Some((*seq, content.clone())));
            }
        }
    }
}

/// A master built from brook's parts, enough to replay store-raw-clone.pcap: it answers
/// with the addressing of spec §7.4 and re-broadcasts every put it applies.
struct Master {
    me: EntityId,
    output: Producer<EntityId, Command>,
    writers: BTreeMap<EntityId, Consumer<Command>>,
    state: BTreeMap<Data, Data>,
    /// (envelope receiver, command), in sending order.
    sent: Vec<(EndpointId, InternalCommand)>,
}

impl Master {
    fn send(&mut self, to: EndpointId, seq: u64, receiver: EntityId, content: Command) {
        let cmd = InternalCommand {
            seq,
            sender: self.me,
            receiver,
            content,
        };
        self.sent.push((to, cmd));
    }

    fn output(&mut self, outs: Vec<ProducerOutput<EntityId, Command>>) {
        for o in outs {
            match o {
                ProducerOutput::Broadcast(msg) => {
                    let (seq, content) = msg.into_command().unwrap();
                    self.send(EndpointId::nil(), seq, EntityId::nil(), content);
                }
                ProducerOutput::Send(
                    to,
                    ProducerMsg::Handshake {
                        offset,
                        heartbeat_interval,
                    },
                ) => {
                    let state = self
                        .state
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    let ack_clone = Command::AckClone {
                        offset,
                        heartbeat_interval,
                        state,
                    };
                    self.send(to.endpoint, offset, to, ack_clone);
                }
                ProducerOutput::Send(to, msg @ ProducerMsg::Event { .. }) => {
                    let (seq, content) = msg.into_command().unwrap();
                    self.send(to.endpoint, seq, EntityId::nil(), content);
                }
                ProducerOutput::Send(to, msg) => {
                    let (seq, content) = msg.into_command().unwrap();
                    self.send(to.endpoint, seq, to, content);
                }
                ProducerOutput::HandshakeCompleted(_) => {}
                ProducerOutput::Dropped(..) => panic!("{o:?}"),
            }
        }
    }

    fn input(&mut self, writer: EntityId, outs: Vec<ConsumerOutput<Command>>) {
        for o in outs {
            match o {
                ConsumerOutput::Send(msg) => {
                    self.send(writer.endpoint, 0, writer, msg.into_command())
                }
                ConsumerOutput::Deliver {
                    content:
                        Command::Put {
                            key,
                            value,
                            expiry,
                            publisher,
                        },
                    ..
                } => self.put(key, value, expiry, publisher),
                other => panic!("{other:?}"),
            }
        }
    }

    fn put(&mut self, key: Data, value: Data, expiry: Option<Timespan>, publisher: EntityId) {
        self.state.insert(key.clone(), value.clone());
        let outs = self.output.produce(Command::Put {
            key,
            value,
            expiry,
            publisher,
        });
        self.output(outs);
    }

    fn receive(&mut self, cmd: InternalCommand) {
        let sender = cmd.sender;
        let attach = matches!(cmd.content, Command::AttachWriter { .. });
        match cmd.into_channel_msg() {
            ChannelMsg::ToProducer(msg) => {
                let outs = self.output.handle(&sender, msg);
                self.output(outs);
            }
            ChannelMsg::ToConsumer(msg) => {
                if attach && !self.writers.contains_key(&sender) {
                    self.writers
                        .insert(sender, Consumer::new(ChannelConfig::default()));
                }
                if let Some(c) = self.writers.get_mut(&sender) {
                    let outs = c.handle(msg);
                    self.input(sender, outs);
                }
            }
        }
    }

    fn tick(&mut self, n: usize) {
        for _ in 0..n {
            let outs = self.output.tick();
            self.output(outs);
            let writers: Vec<EntityId> = self.writers.keys().copied().collect();
            for w in writers {
                let outs = self.writers.get_mut(&w).unwrap().tick();
                self.input(w, outs);
            }
        }
    }
}

#[test]
fn master_reacts_to_the_raw_clone_as_broker_did() {
    let golden: Vec<(EndpointId, InternalCommand)> = capture("store-raw-clone.pcap")
        .iter()
        .map(|g| (g.envelope().receiver, g.command()))
        .collect();
    let me = golden[0].1.sender;
    let clone = EntityId::new(id(C), 1);
    let mut m = Master {
        me,
        output: Producer::new(ChannelConfig::default()),
        writers: BTreeMap::new(),
        state: BTreeMap::from([(Data::string("init"), Data::string("snap"))]),
        sent: Vec::new(),
    };
    let from_clone = |seq, receiver, content| InternalCommand {
        seq,
        sender: clone,
        receiver,
        content,
    };
    let control = |content| from_clone(0, me, content);
    let write = |seq, key: &str, v| {
        from_clone(
            seq,
            me,
            Command::Put {
                key: Data::string(key),
                value: Data::Count(v),
                expiry: None,
                publisher: clone,
            },
        )
    };
    let local_put =
        |m: &mut Master, key: &str, v| m.put(Data::string(key), Data::Count(v), None, me);

    // The raw clone's frames from the capture (times in seconds), with the master's
    // 100 ms ticks placed between them as the timestamps of its keepalives, nacks and
    // acks show. Its store application put k1..k6 every 300 ms.
    m.tick(2);
    m.receive(from_clone(
        0,
        EntityId::nil(),
        Command::Nack { seqs: vec![0] },
    )); // 0.043
    m.tick(3); // keepalive at 0.297
    m.receive(control(Command::CumulativeAck { seq: 1 })); // 0.348
    for (i, key) in ["k1", "k2", "k3", "k4"].into_iter().enumerate() {
        local_put(&mut m, key, i as u64 + 1); // 0.398, 0.698, 0.998, 1.299
        m.tick(3);
    }
    m.receive(control(Command::Nack { seqs: vec![3] })); // 1.550
    local_put(&mut m, "k5", 5); // 1.599
    m.tick(3);
    m.receive(control(Command::CumulativeAck { seq: 8 })); // 1.850, beyond the newest
    local_put(&mut m, "k6", 6); // 1.899
    m.tick(3);
    m.receive(control(Command::Nack { seqs: vec![2] })); // 2.150
    m.tick(3); // keepalive at 2.300
    m.receive(control(Command::Nack { seqs: vec![0] })); // 2.401
    m.tick(3);
    m.receive(control(Command::AttachWriter {
        offset: 1,
        heartbeat_interval: 5,
    })); // 2.703
    m.tick(3); // keepalive at 2.801
    m.receive(write(2, "w2", 2)); // 3.002
    m.receive(write(4, "w4", 4)); // 3.003: 3 is missing
    m.tick(12); // acks and nacks [3] until 4.204
    m.receive(write(3, "w3", 3)); // 4.205
    m.tick(5); // 4.705

    let normalize = |v: &[(EndpointId, InternalCommand)]| -> Vec<(EndpointId, InternalCommand)> {
        v.iter()
            .map(|(to, c)| {
                let mut c = c.clone();
                if let Command::AckClone { state, .. } = &mut c.content {
                    state.sort();
                }
                (*to, c)
            })
            .collect()
    };
    let ours = normalize(&m.sent);
    let theirs = normalize(&golden);
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(a, b, "frame {} of the capture", i + 1);
    }
    assert_eq!(ours.len(), theirs.len());
}
