//! brook's store layer against a real Broker: every store command Broker sent in the golden
//! captures decodes to the fields its description lists, is consumed exactly and re-encodes
//! byte for byte; the spec's worked examples reproduce; malformed commands give errors,
//! never panics.

mod common;
use brook::data::text;
use brook::store::{Command, CommandClass, EntityId, InternalCommand, clone_topic, master_topic};
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
        content: Command::Nack { seqs: vec![0] },
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
