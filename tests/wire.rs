//! brook's wire layer against a real Broker: every handshake frame and envelope Broker sent
//! in the golden captures (`../shared/vectors/golden/`) decodes and re-encodes byte for
//! byte, the handshake scenarios replay through `Handshaker` with Broker's exact answers,
//! the spec's worked bytes reproduce, and malformed input yields errors, never panics.

mod common;
use brook::data::{bin, text};
use brook::wire::envelope::{self, Envelope, EnvelopeType, HEADER_LEN};
use brook::wire::frame::{FrameError, FrameReader, append_frame};
use brook::wire::handshake::{Handshake, Handshaker, Peering, RemoteStatus, Role, Status, Step};
use brook::wire::{EndpointId, ErrorCode, Filter};
use brook::{Data, Error};
use common::*;
use proptest::prelude::*;
use std::collections::HashMap;

const C: &str = "00000000-0000-4000-8000-000000000000";
const P: &str = "ffffffff-ffff-4fff-bfff-ffffffffffff";

fn id(s: &str) -> EndpointId {
    if s == "nil" {
        return EndpointId::nil();
    }
    s.parse().unwrap()
}

/// The payload of `frame`, which must be exactly one complete frame.
fn payload(frame: &[u8], reader: FrameReader) -> &[u8] {
    let (p, used) = reader.next_frame(frame).unwrap();
    assert_eq!(used, frame.len(), "{}", hex(frame));
    p.unwrap()
}

fn frame_of(msg: &Handshake) -> Vec<u8> {
    let mut out = Vec::new();
    msg.encode_frame(&mut out).unwrap();
    out
}

fn decode_frame(frame: &[u8]) -> Handshake {
    Handshake::decode(payload(frame, FrameReader::handshake())).unwrap()
}

fn filter(topics: &[&str]) -> Filter {
    topics.iter().collect()
}

// ---------------------------------------------------------------------------------------
// (a) handshake.tsv

#[test]
fn broker_handshake_frames_decode_and_reencode() {
    let mut n = 0;
    for r in rows("handshake.tsv") {
        if !r["from"].starts_with("broker") || r["frame_hex"].is_empty() {
            continue;
        }
        let frame = unhex(&r["frame_hex"]);
        let msg = decode_frame(&frame);
        let what = format!("{} step {}", r["scenario"], r["step"]);
        assert!(r["description"].starts_with(msg.name()), "{what}: {msg:?}");
        assert_eq!(hex(&frame_of(&msg)), r["frame_hex"], "{what}");
        n += 1;
    }
    assert_eq!(n, 47);
}

#[test]
fn broker_drop_conn_answers_what_our_decoder_reports() {
    let rows = rows("handshake.tsv");
    let cases = [
        ("drop-wrong-magic", 38),
        ("drop-unsupported-versions", 2),
        ("drop-phase3-frame-first", 20),
        ("drop-unknown-code-echo", 1),
    ];
    for (scenario, code) in cases {
        let frames: Vec<_> = rows
            .iter()
            .filter(|r| r["scenario"] == scenario && !r["frame_hex"].is_empty())
            .collect();
        let bad = frames.iter().find(|r| r["from"] == "raw-peer").unwrap();
        let answer = frames
            .iter()
            .find(|r| r["description"].starts_with("drop_conn") && r["from"] == "broker");
        let Handshake::DropConn {
            code: broker_code,
            description,
            sender,
        } = decode_frame(&unhex(&answer.unwrap()["frame_hex"]))
        else {
            panic!("{scenario}: Broker's answer is not a drop_conn");
        };
        let err = Handshake::decode(payload(&unhex(&bad["frame_hex"]), FrameReader::handshake()))
            .unwrap_err();
        assert_eq!(
            (err.code as u8, &err.description),
            (broker_code, &description),
            "{scenario}"
        );
        assert_eq!(broker_code, code, "{scenario}");
        assert_eq!(
            frame_of(&err.drop_conn(sender)),
            unhex(&answer.unwrap()["frame_hex"])
        );
    }
}

/// A reactor in miniature: the connections of one endpoint, its claims on remote IDs
/// (spec §3.6) and the frames it sent, per connection.
struct Replay {
    own: EndpointId,
    filter: Filter,
    role: Role,
    conns: HashMap<String, Conn>,
    /// Remote ID -> (connection holding it, peered).
    claims: HashMap<EndpointId, (String, bool)>,
    paused: Vec<String>,
}

struct Conn {
    hs: Handshaker,
    sent: Vec<String>,
    outcome: Option<String>,
}

impl Replay {
    fn conn(&mut self, name: &str) -> &mut Conn {
        let (own, filter, role) = (self.own, self.filter.clone(), self.role);
        self.conns.entry(name.to_string()).or_insert_with(|| {
            let hs = Handshaker::new(own, filter, role);
            let greeting = hex(&frame_of(&hs.greeting()));
            Conn {
                hs,
                sent: vec![greeting],
                outcome: None,
            }
        })
    }

    fn receive(&mut self, name: &str, frame: &[u8]) {
        let conn = self.conn(name);
        if conn.outcome.is_some() || self.paused.iter().any(|p| p == name) {
            return;
        }
        match FrameReader::handshake().next_frame(frame) {
            Ok((Some(p), used)) if used == frame.len() => {
                let step = self.conn(name).hs.on_frame(p);
                self.handle(name, step);
            }
            Err(FrameError::Empty) => self.conn(name).outcome = Some("frame-error".into()),
            other => panic!("{name}: not one frame: {other:?}"),
        }
    }

    fn handle(&mut self, name: &str, step: Step) {
        let conn = self.conn(name);
        conn.sent
            .extend(step.send.iter().map(|m| hex(&frame_of(m))));
        let outcome = match step.status {
            Status::Continue => return,
            Status::Claim { remote, .. } => {
                let status = match self.claims.get(&remote) {
                    None => {
                        self.claims.insert(remote, (name.to_string(), false));
                        RemoteStatus::Free
                    }
                    Some((_, true)) => RemoteStatus::Peered,
                    Some((_, false)) => RemoteStatus::Handshaking,
                };
                let step = self.conn(name).hs.claim(status);
                return self.handle(name, step);
            }
            Status::Paused => {
                self.paused.push(name.to_string());
                return;
            }
            Status::Done(Peering { remote, .. }) => {
                self.claims.insert(remote, (name.to_string(), true));
                for other in std::mem::take(&mut self.paused) {
                    let step = self.conn(&other).hs.drop_redundant();
                    self.handle(&other, step);
                }
                "done".to_string()
            }
            Status::Redundant { .. } => "redundant".into(),
            Status::DroppedAsRedundant { .. } => "dropped-as-redundant".into(),
            Status::Failed(f) => {
                self.claims.retain(|_, (holder, _)| holder != name);
                format!("failed:{}", f.code as u8)
            }
            Status::ToSelf => "to-self".into(),
        };
        self.conn(name).outcome = Some(outcome);
    }
}

/// Plays the side `side` (a `from` value) of a scenario against the other side's captured
/// frames; checks that it sends exactly the frames that side sent, per connection and in
/// order, and returns each connection's outcome.
fn replay(rows: &[&HashMap<String, String>], side: &str) -> Vec<(String, String)> {
    let ours: Vec<_> = rows.iter().filter(|r| r["from"] == side).collect();
    let role = match ours[0]["dir"].as_str() {
        "S->C" => Role::Accepting,
        _ => Role::Connecting,
    };
    let mut own = EndpointId::random();
    let mut own_filter = Filter::new();
    for r in ours.iter().filter(|r| !r["frame_hex"].is_empty()) {
        match decode_frame(&unhex(&r["frame_hex"])) {
            Handshake::Hello { sender, .. }
            | Handshake::VersionSelect { sender, .. }
            | Handshake::DropConn { sender, .. } => own = sender,
            Handshake::OriginatorSyn(f) | Handshake::ResponderSynAck(f) => own_filter = f,
            _ => {}
        }
    }
    let mut rp = Replay {
        own,
        filter: own_filter,
        role,
        conns: HashMap::new(),
        claims: HashMap::new(),
        paused: Vec::new(),
    };
    let mut expected: HashMap<String, Vec<String>> = HashMap::new();
    for r in rows.iter().filter(|r| !r["frame_hex"].is_empty()) {
        let conn = &r["conn"];
        rp.conn(conn);
        if r["from"] == side {
            expected
                .entry(conn.clone())
                .or_default()
                .push(r["frame_hex"].clone());
        } else {
            rp.receive(conn, &unhex(&r["frame_hex"]));
        }
    }
    let mut outcomes: Vec<_> = rp
        .conns
        .iter()
        .map(|(name, c)| {
            let want = expected.get(name).cloned().unwrap_or_default();
            assert_eq!(c.sent, want, "{side}, conn {name}: frames sent");
            (name.clone(), c.outcome.clone().unwrap_or("open".into()))
        })
        .collect();
    outcomes.sort();
    outcomes
}

#[test]
fn handshake_scenarios_replay_with_brokers_exact_frames() {
    let all = rows("handshake.tsv");
    let outcomes = |conns: &[&str]| -> Vec<(String, String)> {
        conns
            .iter()
            .enumerate()
            .map(|(i, o)| ((i + 1).to_string(), o.to_string()))
            .collect()
    };
    let cases: &[(&str, &str, &[&str])] = &[
        ("connecting-side-smaller-id", "broker-connecting", &["done"]),
        ("connecting-side-smaller-id", "broker-accepting", &["done"]),
        ("connecting-side-larger-id", "broker-connecting", &["done"]),
        ("connecting-side-larger-id", "broker-accepting", &["done"]),
        ("empty-filter", "broker-connecting", &["done"]),
        ("empty-filter", "broker-accepting", &["done"]),
        ("probe-before-hello", "broker", &["open"]),
        ("drop-wrong-magic", "broker", &["failed:38"]),
        ("drop-unsupported-versions", "broker", &["failed:2"]),
        ("drop-phase3-frame-first", "broker", &["failed:20"]),
        (
            "drop-redundant-connection",
            "broker",
            &["done", "redundant"],
        ),
        (
            "drop-redundant-at-responder",
            "broker",
            &["done", "failed:40"],
        ),
        ("drop-unknown-code-echo", "broker", &["failed:1"]),
        ("close-known-drop-conn", "broker", &["failed:28"]),
        ("hello-trailing-bytes-ignored", "broker", &["open"]),
        ("close-unexpected-message", "broker", &["failed:31"]),
        ("close-zero-length-frame", "broker", &["frame-error"]),
    ];
    let mut scenarios: Vec<&str> = all.iter().map(|r| r["scenario"].as_str()).collect();
    scenarios.dedup();
    assert_eq!(scenarios.len(), 14);
    for s in scenarios {
        assert!(
            cases.iter().any(|c| c.0 == s),
            "scenario {s} is not replayed"
        );
    }
    for (scenario, side, want) in cases {
        let rows: Vec<_> = all.iter().filter(|r| r["scenario"] == *scenario).collect();
        assert_eq!(replay(&rows, side), outcomes(want), "{scenario} as {side}");
    }
}

#[test]
fn role_scenarios_yield_each_others_filter_and_roles() {
    let all = rows("handshake.tsv");
    let rows: Vec<_> = all
        .iter()
        .filter(|r| r["scenario"] == "connecting-side-smaller-id" && !r["frame_hex"].is_empty())
        .collect();
    let conn_id = id("1154bebc-d309-51dc-809d-bd655b3d05e8");
    let acc_id = id("e089d0ea-edc5-528f-ae57-0d995be1371c");
    // The accepting side, fed the connecting side's frames.
    let mut hs = Handshaker::new(acc_id, filter(&["/roles/to-acc"]), Role::Accepting);
    let mut last = None;
    for r in rows.iter().filter(|r| r["from"] == "broker-connecting") {
        let mut step = hs.on_frame(payload(&unhex(&r["frame_hex"]), FrameReader::handshake()));
        if let Status::Claim { remote, originator } = step.status {
            assert_eq!((remote, originator), (conn_id, false));
            assert_eq!(hs.remote(), None);
            step = hs.claim(RemoteStatus::Free);
            assert_eq!(hs.remote(), Some(conn_id));
        }
        last = Some(step);
    }
    let want = Peering {
        remote: conn_id,
        filter: filter(&["/roles/to-conn"]),
        originator: false,
    };
    assert_eq!(last.unwrap().status, Status::Done(want));
}

// ---------------------------------------------------------------------------------------
// (b) envelopes.tsv

fn kind_of(column: &str) -> EnvelopeType {
    match column {
        "data" => EnvelopeType::Data,
        "routing_update" => EnvelopeType::RoutingUpdate,
        "ping" => EnvelopeType::Ping,
        "pong" => EnvelopeType::Pong,
        c if c.starts_with("command/") => EnvelopeType::Command,
        c => panic!("unknown kind {c}"),
    }
}

/// Python's repr of a list of str, as the `description` column writes filters.
fn python_list(f: &Filter) -> String {
    let items: Vec<String> = f
        .topics()
        .iter()
        .map(|t| format!("'{}'", String::from_utf8_lossy(t)))
        .collect();
    format!("[{}]", items.join(", "))
}

#[test]
fn broker_envelopes_parse_decode_and_rewrite_identically() {
    let rows = rows("envelopes.tsv");
    assert_eq!(rows.len(), 156);
    let mut counts: HashMap<EnvelopeType, usize> = HashMap::new();
    for r in &rows {
        let what = &r["id"];
        let frame = unhex(&r["frame_hex"]);
        let env = Envelope::parse(payload(&frame, FrameReader::phase3())).unwrap();
        assert_eq!(env.sender, id(&r["sender"]), "{what}");
        assert_eq!(env.receiver, id(&r["receiver"]), "{what}");
        assert_eq!(env.ttl.to_string(), r["ttl"], "{what}");
        assert_eq!(env.topic, unescape(&r["topic"]), "{what}");
        assert_eq!(env.kind, kind_of(&r["kind"]), "{what}");
        *counts.entry(env.kind).or_default() += 1;

        let mut out = vec![0xAA];
        env.write_frame(&mut out).unwrap();
        assert_eq!(hex(&out[1..]), r["frame_hex"], "{what}: write_frame");

        let description = unescape(&r["description"]);
        let mut direct = Vec::new();
        match env.kind {
            EnvelopeType::Data => {
                let value = bin::decode(env.payload).unwrap();
                let want = description.strip_prefix(b"value=").unwrap();
                assert_eq!(show(&text::render(&value)), show(want), "{what}");
                envelope::write_data(&mut direct, env.sender, env.receiver, env.topic, &value)
                    .unwrap();
            }
            EnvelopeType::RoutingUpdate => {
                let f = Filter::decode(env.payload).unwrap();
                assert_eq!(
                    format!("filter={}", python_list(&f)),
                    r["description"],
                    "{what}"
                );
                let mut encoded = Vec::new();
                f.encode_into(&mut encoded).unwrap();
                assert_eq!(encoded, env.payload, "{what}");
                envelope::write_routing_update(&mut direct, env.sender, env.receiver, &f).unwrap();
            }
            EnvelopeType::Ping | EnvelopeType::Pong => {
                let want = format!("payload={}", hex(env.payload));
                assert!(r["description"].starts_with(&want), "{what}");
                direct = frame.clone();
            }
            EnvelopeType::Command => direct = frame.clone(),
        }
        assert_eq!(hex(&direct), r["frame_hex"], "{what}: direct encoder");

        // Forwarding: sender and TTL change in place, the rest stays.
        let mut fwd = frame.clone();
        let me = EndpointId::random();
        envelope::restamp(&mut fwd[4..], me, 7).unwrap();
        let moved = Envelope::parse(&fwd[4..]).unwrap();
        let want = Envelope {
            sender: me,
            ttl: 7,
            ..env
        };
        assert_eq!(moved, want, "{what}: restamp");
    }
    let want = [
        (EnvelopeType::Data, 28),
        (EnvelopeType::Command, 112),
        (EnvelopeType::RoutingUpdate, 5),
        (EnvelopeType::Ping, 5),
        (EnvelopeType::Pong, 6),
    ];
    assert_eq!(counts, HashMap::from(want));
}

#[test]
fn broker_pongs_are_what_we_answer_to_its_pings() {
    let rows = rows("envelopes.tsv");
    let frames: Vec<_> = rows.iter().map(|r| unhex(&r["frame_hex"])).collect();
    let mut answered = 0;
    for (r, frame) in rows.iter().zip(&frames) {
        if r["kind"] != "ping" {
            continue;
        }
        let ping = Envelope::parse(&frame[4..]).unwrap();
        let mut pong = Vec::new();
        ping.pong(ping.receiver).write_frame(&mut pong).unwrap();
        let mut again = Vec::new();
        Envelope::ping(ping.sender, ping.receiver, ping.payload)
            .write_frame(&mut again)
            .unwrap();
        assert_eq!(&again, frame);
        answered += frames.contains(&pong) as usize;
    }
    // The fifth ping is the shutdown BYE to a raw peer that never answered.
    assert_eq!(answered, 4);
}

// ---------------------------------------------------------------------------------------
// (c) the spec's worked bytes (§3.9, §4.1, §4.10)

#[test]
fn spec_handshake_worked_bytes() {
    let (c, p) = (id(C), id(P));
    let cases = [
        (
            Handshake::hello(c),
            "00000017065a45454b00000000000040008000000000000000 0101",
        ),
        (Handshake::Probe, "00000005075a45454b"),
        (
            Handshake::version_select(c),
            "00000016085a45454b00000000000040008000000000000000 01",
        ),
        (
            Handshake::OriginatorSyn(filter(&["/test"])),
            "000000080a01052f74657374",
        ),
        (
            Handshake::ResponderSynAck(filter(&["/foo/bar"])),
            "0000000b0b01082f666f6f2f626172",
        ),
        (Handshake::OriginatorAck, "000000010c"),
        (
            Handshake::drop_conn(p, ErrorCode::RedundantConnection, "redundant connection"),
            "0000002b095a45454bffffffffffff4fffbfffffffffffffff27 \
             14726564756e64616e7420636f6e6e656374696f6e",
        ),
    ];
    for (msg, want) in cases {
        let want: String = want.split_whitespace().collect();
        assert_eq!(hex(&frame_of(&msg)), want, "{msg:?}");
        assert_eq!(decode_frame(&unhex(&want)), msg);
    }
}

#[test]
fn spec_envelope_worked_bytes() {
    // §4.1, from Broker's wire_format.test.cc.
    let sender = id("5746d8ee-3644-5bd2-9f54-d5a44c26c2a1");
    let receiver = id("c0551e8d-392b-509b-a47b-ae46f75befac");
    let mut out = Vec::new();
    envelope::write_data(
        &mut out,
        sender,
        receiver,
        b"foobar",
        &Data::string("hello world"),
    )
    .unwrap();
    let want = "00000038 5746d8ee36445bd29f54d5a44c26c2a1 c0551e8d392b509ba47bae46f75befac \
                01 0010 0006 666f6f626172 05 0b 68656c6c6f20776f726c64";
    assert_eq!(hex(&out), want.split_whitespace().collect::<String>());
    let env = Envelope::parse(&out[4..]).unwrap();
    assert_eq!(
        bin::decode(env.payload).unwrap(),
        Data::string("hello world")
    );

    // §4.10: ping "foo" and a routing update, from C to P.
    let (c, p) = (id(C), id(P));
    let mut out = Vec::new();
    Envelope::ping(c, p, b"foo").write_frame(&mut out).unwrap();
    let want = "0000002b 00000000000040008000000000000000 ffffffffffff4fffbfffffffffffffff \
                04 0010 0003 3c243e 666f6f";
    assert_eq!(hex(&out), want.split_whitespace().collect::<String>());
    let mut out = Vec::new();
    envelope::write_routing_update(&mut out, c, p, &filter(&["zeek/cluster/", "/test"])).unwrap();
    let want = "0000003d 00000000000040008000000000000000 ffffffffffff4fffbfffffffffffffff \
                03 0010 0003 3c243e 02 05 2f74657374 0d 7a65656b2f636c75737465722f";
    assert_eq!(hex(&out), want.split_whitespace().collect::<String>());
}

// ---------------------------------------------------------------------------------------
// Identifiers, error codes and filters

#[test]
fn endpoint_ids_print_parse_order_and_generate_as_broker_expects() {
    let x = id("5746D8EE-3644-5bd2-9F54-d5a44c26c2a1");
    assert_eq!(x.to_string(), "5746d8ee-3644-5bd2-9f54-d5a44c26c2a1");
    assert_eq!(
        format!("{x:?}"),
        "EndpointId(5746d8ee-3644-5bd2-9f54-d5a44c26c2a1)"
    );
    assert_eq!(x.to_string().parse::<EndpointId>().unwrap(), x);
    for bad in [
        "",
        "5746d8ee36445bd29f54d5a44c26c2a1",
        "5746d8ee-3644-5bd2-9f54-d5a44c26c2a",
        "5746d8ee-3644-5bd2-9f54-d5a44c26c2a1f",
        "5746d8ee-3644-5bd2-9f54+d5a44c26c2a1",
        "5746d8ee-3644-5bd2-9f54-d5a44c26c2ag",
        "5746d8ee-3644-5bd2-9f5é-d5a44c26c2a",
    ] {
        assert!(bad.parse::<EndpointId>().is_err(), "{bad}");
    }
    assert!(EndpointId::nil().is_nil() && !x.is_nil());
    assert_eq!(
        EndpointId::nil(),
        id("00000000-0000-0000-0000-000000000000")
    );
    assert!(id(C) < x && x < id(P));
    assert!(
        id("00000000-0000-0000-0000-0000000000ff") < id("00000000-0000-0000-0000-000000000100")
    );
    let (a, b) = (EndpointId::random(), EndpointId::random());
    assert_ne!(a, b);
    for r in [a, b] {
        assert_eq!(r.0[6] >> 4, 4, "{r}");
        assert_eq!(r.0[8] >> 6, 0b10, "{r}");
    }
}

#[test]
fn error_codes_have_brokers_values_and_names() {
    for n in 0..=41u8 {
        let code = ErrorCode::from_u8(n).unwrap();
        assert_eq!(code as u8, n);
        assert!(
            code.name()
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c == b'_')
        );
    }
    assert_eq!(ErrorCode::from_u8(42), None);
    assert_eq!(ErrorCode::from_u8(200), None);
    let named = [
        (0, "none"),
        (2, "peer_incompatible"),
        (20, "invalid_message"),
        (28, "shutting_down"),
        (38, "wrong_magic_number"),
        (39, "redundant_connection"),
        (40, "logic_error"),
        (41, "invalid_json"),
    ];
    for (n, name) in named {
        assert_eq!(ErrorCode::from_u8(n).unwrap().to_string(), name);
    }
}

#[test]
fn filters_normalise_as_broker_does() {
    let mut f = Filter::new();
    assert!(!f.matches(b"/a"));
    assert!(f.add("/raw/"));
    assert!(f.add("/late/"));
    assert_eq!(python_list(&f), "['/late/', '/raw/']");
    // An entry that is a prefix of the new topic: no change (spec §2.4, verified on capture).
    assert!(!f.add("/raw/late"));
    assert!(!f.add("/raw/"));
    assert!(!f.add("/raw/x/y"));
    // The new topic is a prefix of entries: they are replaced.
    assert!(f.add("/la"));
    assert_eq!(python_list(&f), "['/la', '/raw/']");
    assert!(f.matches(b"/raw/") && f.matches(b"/raw/x") && f.matches(b"/late"));
    assert!(!f.matches(b"/ra") && !f.matches(b"/l") && !f.matches(b""));
    assert!(f.add("/"));
    assert_eq!(f.topics(), &[b"/".to_vec()]);
    assert!(f.add(""));
    assert!(f.matches(b"") && f.matches(b"anything") && f.len() == 1);
    assert_eq!(
        filter(&["/b", "/a/x", "/a", "/b", "/c/"]),
        filter(&["/a", "/b", "/c/"])
    );
}

#[test]
fn filter_decoding_rejects_what_it_cannot_trust() {
    assert_eq!(Filter::decode(&[0]).unwrap(), Filter::new());
    assert_eq!(
        Filter::decode(&[2, 1, b'b', 1, b'a']).unwrap(),
        filter(&["a", "b"])
    );
    for bad in [
        &[][..],
        &[0x80],
        &[1],
        &[1, 2, b'a'],
        &[2, 1, b'a'],
        &[0, 0],
        &[0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0],
    ] {
        assert!(Filter::decode(bad).is_err(), "{bad:?}");
    }
    // More topics than the limit, each a valid empty string.
    let n = Filter::MAX_TOPICS + 1;
    let mut too_many = Vec::new();
    brook::data::bin::put_varbyte(&mut too_many, n).unwrap();
    too_many.resize(too_many.len() + n, 0);
    assert!(Filter::decode(&too_many).is_err());
    too_many.truncate(too_many.len() - 1);
    too_many[..3].copy_from_slice(&[0x80, 0x80, 0x04]);
    assert_eq!(Filter::decode(&too_many).unwrap(), filter(&[""]));
}

// ---------------------------------------------------------------------------------------
// Framing

#[test]
fn frames_split_without_copying_and_enforce_limits() {
    let hs = FrameReader::handshake();
    let p3 = FrameReader::phase3();
    let two = [0, 0, 0, 1, b'a', 0, 0, 0, 2, b'b', b'c'];
    assert_eq!(hs.next_frame(&two), Ok((Some(&b"a"[..]), 5)));
    assert_eq!(hs.next_frame(&two[5..]), Ok((Some(&b"bc"[..]), 6)));
    for cut in 0..5 {
        assert_eq!(hs.next_frame(&two[..cut]), Ok((None, 0)), "{cut}");
    }
    // Empty frames: fatal in the handshake, skipped (and counted) in Phase 3.
    let empties = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    assert_eq!(hs.next_frame(&empties), Err(FrameError::Empty));
    assert_eq!(p3.next_frame(&empties), Ok((None, 8)));
    assert_eq!(
        p3.next_frame(&[&empties[..8], &two[..]].concat()),
        Ok((Some(&b"a"[..]), 13))
    );
    // Oversize: reported from the prefix alone.
    let small = p3.with_max_payload(2);
    assert_eq!(small.max_payload(), 2);
    assert_eq!(small.next_frame(&two[5..]), Ok((Some(&b"bc"[..]), 6)));
    assert_eq!(
        small.next_frame(&[0, 0, 0, 3]),
        Err(FrameError::TooLong { len: 3, max: 2 })
    );
    assert!(hs.next_frame(&[0xff, 0xff, 0xff, 0xff]).is_err());
    assert!(Error::from(FrameError::Empty).message.contains("length 0"));
    // Broker's limits: Phase 3 takes up to 2^31 - 5 bytes (CAF's INT32_MAX - 4), the
    // handshake up to brook's 16 MiB (Broker has none there).
    assert_eq!(p3.max_payload(), (1 << 31) - 5);
    let at = |len: u32| len.to_be_bytes();
    assert_eq!(p3.next_frame(&at((1 << 31) - 5)), Ok((None, 0)));
    assert_eq!(
        p3.next_frame(&at((1 << 31) - 4)),
        Err(FrameError::TooLong {
            len: (1 << 31) - 4,
            max: (1 << 31) - 5
        })
    );
    assert_eq!(hs.max_payload(), 16 << 20);
    assert!(hs.next_frame(&at((16 << 20) + 1)).is_err());
}

#[test]
fn append_frame_leaves_the_buffer_alone_on_failure() {
    let mut out = b"keep".to_vec();
    append_frame(&mut out, |o| {
        o.extend_from_slice(b"xyz");
        Ok(())
    })
    .unwrap();
    assert_eq!(out, b"keep\0\0\0\x03xyz");
    let err = append_frame(&mut out, |o| {
        o.extend_from_slice(b"partial");
        Err(Error::invalid("no"))
    });
    assert!(err.is_err());
    assert_eq!(out, b"keep\0\0\0\x03xyz");
    assert!(append_frame(&mut out, |_| Ok(())).is_err());
    assert!(
        append_frame(&mut out, |o| {
            o.clear();
            Ok(())
        })
        .is_err()
    );
    assert!(out.is_empty());
}

// ---------------------------------------------------------------------------------------
// (d) malformed handshake messages and envelopes

#[test]
fn malformed_handshake_messages_get_brokers_drop_conn() {
    let err = |payload: &[u8]| {
        let e = Handshake::decode(payload).unwrap_err();
        (e.code as u8, String::from_utf8(e.description).unwrap())
    };
    let tag = (20, "invalid message type tag".to_string());
    assert_eq!(err(&[]), tag);
    for t in [0, 1, 2, 3, 4, 5, 13, 0xff] {
        assert_eq!(err(&[t, 0x5a, 0x45, 0x45, 0x4b]), tag, "type {t}");
    }
    let c = id(C);
    let messages = [
        (Handshake::hello(c), "hello_msg"),
        (Handshake::Probe, "probe_msg"),
        (Handshake::version_select(c), "version_select_msg"),
        (
            Handshake::drop_conn(c, ErrorCode::ShuttingDown, "bye"),
            "drop_conn_msg",
        ),
        (
            Handshake::OriginatorSyn(filter(&["/a", "/b"])),
            "v1::originator_syn_msg",
        ),
        (
            Handshake::ResponderSynAck(filter(&["/a"])),
            "v1::responder_syn_ack_msg",
        ),
    ];
    for (msg, name) in &messages {
        let frame = frame_of(msg);
        let body = &frame[4..];
        for cut in 1..body.len() {
            let want = (20, format!("failed to parse {name}"));
            assert_eq!(err(&body[..cut]), want, "{msg:?} cut at {cut}");
        }
        // Trailing bytes are ignored.
        assert_eq!(
            Handshake::decode(&[body, &b"xyz"[..]].concat()).unwrap(),
            *msg
        );
        if msg.name() != "originator_syn" && msg.name() != "responder_syn_ack" {
            let mut bad = body.to_vec();
            bad[4] ^= 1;
            assert_eq!(err(&bad), (38, "wrong magic number".into()), "{msg:?}");
        }
    }
    let versions = |min, max| Handshake::Hello {
        sender: c,
        min_version: min,
        max_version: max,
    };
    for (min, max) in [(0, 0), (2, 3), (2, 1)] {
        let frame = frame_of(&versions(min, max));
        assert_eq!(err(&frame[4..]), (2, "unsupported versions offered".into()));
    }
    assert!(Handshake::decode(&frame_of(&versions(0, 7))[4..]).is_ok());
    let vs = frame_of(&Handshake::VersionSelect {
        sender: c,
        version: 2,
    });
    assert_eq!(err(&vs[4..]), (2, "unsupported version selected".into()));
    // A drop_conn with an unknown code is answered with code 1 and the peer's bytes.
    let odd = frame_of(&Handshake::DropConn {
        sender: c,
        code: 42,
        description: vec![0xff, 0],
    });
    let e = Handshake::decode(&odd[4..]).unwrap_err();
    assert_eq!(
        (e.code, e.description),
        (ErrorCode::Unspecified, vec![0xff, 0])
    );
}

#[test]
fn malformed_envelopes_are_errors() {
    let mut good = Vec::new();
    Envelope::ping(id(C), id(P), b"foo")
        .write_frame(&mut good)
        .unwrap();
    let body = &good[4..];
    for cut in 0..HEADER_LEN {
        let e = Envelope::parse(&body[..cut]).unwrap_err();
        assert!(e.message.contains("shorter than the 37-byte header"), "{e}");
    }
    // Topic exactly filling the frame: an empty payload, which current Broker accepts.
    let env = Envelope::parse(&body[..HEADER_LEN + 3]).unwrap();
    assert_eq!((env.topic, env.payload), (&b"<$>"[..], &b""[..]));
    let e = Envelope::parse(&body[..HEADER_LEN + 2]).unwrap_err();
    assert!(e.message.contains("topic of 3 bytes"), "{e}");
    for t in [0, 6, 9, 0xff] {
        let mut bad = body.to_vec();
        bad[32] = t;
        let e = Envelope::parse(&bad).unwrap_err();
        assert!(e.message.contains(&format!("unknown type {t}")), "{e}");
    }
    assert!(envelope::restamp(&mut body[..36].to_vec(), id(C), 16).is_err());

    // What we refuse to send: empty topics and payloads, topics over 65 535 bytes.
    let (c, p) = (id(C), id(P));
    let mut out = b"x".to_vec();
    assert!(Envelope::ping(c, p, b"").write_frame(&mut out).is_err());
    let long = vec![b'a'; 65536];
    let value = Data::Count(1);
    assert!(envelope::write_data(&mut out, c, p, &long, &value).is_err());
    assert!(envelope::write_data(&mut out, c, p, b"", &value).is_err());
    assert_eq!(out, b"x");
    envelope::write_data(&mut out, c, p, &long[..65535], &value).unwrap();
    let env = Envelope::parse(payload(&out[1..], FrameReader::phase3())).unwrap();
    assert_eq!((env.topic.len(), env.kind), (65535, EnvelopeType::Data));
}

// ---------------------------------------------------------------------------------------
// The state machine on its own

/// Runs two handshakers against each other until both are done.
fn pair(a_id: EndpointId, b_id: EndpointId) -> (Peering, Peering) {
    let mut hs = [
        Handshaker::new(a_id, filter(&["/a"]), Role::Connecting),
        Handshaker::new(b_id, filter(&["/b"]), Role::Accepting),
    ];
    let mut inbox = [
        vec![frame_of(&hs[1].greeting())],
        vec![frame_of(&hs[0].greeting())],
    ];
    let mut done = [None, None];
    for _ in 0..10 {
        for (me, other) in [(0, 1), (1, 0)] {
            for frame in std::mem::take(&mut inbox[me]) {
                let mut step = hs[me].on_frame(&frame[4..]);
                if let Status::Claim { .. } = step.status {
                    assert!(step.send.is_empty());
                    step = hs[me].claim(RemoteStatus::Free);
                }
                inbox[other].extend(step.send.iter().map(frame_of));
                match step.status {
                    Status::Continue => {}
                    Status::Done(p) => done[me] = Some(p),
                    status => panic!("{status:?}"),
                }
            }
        }
    }
    let [a, b] = done;
    (a.unwrap(), b.unwrap())
}

#[test]
fn two_handshakers_peer_in_either_id_order() {
    let (small, large) = (id(C), id(P));
    for (a_id, b_id) in [(small, large), (large, small)] {
        let (a, b) = pair(a_id, b_id);
        assert_eq!(
            (a.remote, a.filter, a.originator),
            (b_id, filter(&["/b"]), a_id < b_id)
        );
        assert_eq!(
            (b.remote, b.filter, b.originator),
            (a_id, filter(&["/a"]), b_id < a_id)
        );
    }
}

fn start(own: &str, role: Role) -> Handshaker {
    Handshaker::new(id(own), filter(&["/x"]), role)
}

fn failed(step: &Step) -> (u8, Vec<&'static str>) {
    let Status::Failed(f) = &step.status else {
        panic!("not failed: {step:?}");
    };
    (
        f.code as u8,
        step.send.iter().map(Handshake::name).collect(),
    )
}

#[test]
fn handshaker_follows_brokers_acceptance_table() {
    let (c, p) = (id(C), id(P));
    // Self-connection, without drop_conn: the accepting side answers the hello with its
    // own, as Broker does, so that the connecting side, seeing its own ID, learns it too.
    let mut hs = start(P, Role::Accepting);
    let step = hs.on_message(Handshake::hello(p));
    assert_eq!(step.status, Status::ToSelf);
    assert_eq!(step.send, vec![Handshake::hello(p)]);
    let mut hs = start(P, Role::Connecting);
    assert_eq!(hs.on_message(Handshake::Probe).status, Status::Continue);
    let step = hs.on_message(Handshake::hello(p));
    assert_eq!((step.status, step.send), (Status::ToSelf, vec![]));
    let mut hs = start(C, Role::Connecting);
    let step = hs.on_message(Handshake::version_select(c));
    assert_eq!((step.status, step.send), (Status::ToSelf, vec![]));

    // Probe is ignored in Phase 1 only; unexpected messages close without drop_conn.
    let mut hs = start(P, Role::Connecting);
    assert_eq!(hs.on_message(Handshake::Probe).status, Status::Continue);
    assert!(matches!(
        hs.on_message(Handshake::version_select(c)).status,
        Status::Claim { .. }
    ));
    assert_eq!(hs.claim(RemoteStatus::Free).send, vec![]);
    assert_eq!(failed(&hs.on_message(Handshake::Probe)), (31, vec![]));
    let mut hs = start(C, Role::Accepting);
    assert_eq!(
        failed(&hs.on_message(Handshake::OriginatorAck)),
        (31, vec![])
    );

    // The connecting side does not send a second hello.
    let mut hs = start(P, Role::Connecting);
    assert_eq!(hs.on_message(Handshake::hello(c)).send, vec![]);
    let mut hs = start(P, Role::Accepting);
    assert_eq!(
        hs.on_message(Handshake::hello(c)).send,
        vec![Handshake::hello(p)]
    );
    assert_eq!(failed(&hs.on_message(Handshake::hello(c))), (31, vec![]));

    // drop_conn: accepted in Phase 1 only; 39 is for the reactor to judge.
    let mut hs = start(C, Role::Accepting);
    let drop39 = Handshake::drop_conn(p, ErrorCode::RedundantConnection, "redundant connection");
    let step = hs.on_message(drop39.clone());
    assert_eq!(step.status, Status::DroppedAsRedundant { remote: p });
    assert!(step.is_final() && step.send.is_empty());
    let mut hs = start(C, Role::Connecting);
    let step = hs.on_message(Handshake::drop_conn(p, ErrorCode::PeerInvalid, "no"));
    assert_eq!(failed(&step), (3, vec![]));
    let Status::Failed(f) = step.status else {
        unreachable!()
    };
    assert_eq!(f.description, "no");
    let mut hs = start(C, Role::Connecting);
    let odd = Handshake::DropConn {
        sender: p,
        code: 99,
        description: b"?".to_vec(),
    };
    assert_eq!(failed(&hs.on_message(odd)), (1, vec!["drop_conn"]));
    let mut hs = start(C, Role::Accepting);
    assert!(matches!(
        hs.on_message(Handshake::hello(p)).status,
        Status::Claim { .. }
    ));
    let step = hs.claim(RemoteStatus::Free);
    assert_eq!(
        step.send,
        vec![
            Handshake::version_select(c),
            Handshake::OriginatorSyn(filter(&["/x"]))
        ]
    );
    assert_eq!(failed(&hs.on_message(drop39)), (31, vec![]));

    // Versions that bypassed `decode` are still refused, as Broker's state machine does.
    let mut hs = start(C, Role::Accepting);
    let old = Handshake::Hello {
        sender: p,
        min_version: 2,
        max_version: 2,
    };
    assert_eq!(failed(&hs.on_message(old)), (2, vec!["drop_conn"]));
    let mut hs = start(P, Role::Connecting);
    let vs = Handshake::VersionSelect {
        sender: c,
        version: 0,
    };
    assert_eq!(failed(&hs.on_message(vs)), (2, vec!["drop_conn"]));
}

#[test]
fn handshaker_applies_the_redundancy_rules() {
    let (c, p) = (id(C), id(P));
    let originator = || {
        let mut hs = start(C, Role::Accepting);
        assert_eq!(
            hs.on_message(Handshake::hello(p)).status,
            Status::Claim {
                remote: p,
                originator: true
            }
        );
        hs
    };
    let responder = || {
        let mut hs = start(P, Role::Connecting);
        assert_eq!(
            hs.on_message(Handshake::version_select(c)).status,
            Status::Claim {
                remote: c,
                originator: false
            }
        );
        hs
    };
    // Originator, the peer already peered: drop_conn(39) at once, no error.
    let mut hs = originator();
    let step = hs.claim(RemoteStatus::Peered);
    assert_eq!(step.status, Status::Redundant { remote: p });
    assert_eq!(
        step.send,
        vec![Handshake::drop_conn(
            c,
            ErrorCode::RedundantConnection,
            "redundant connection"
        )]
    );
    // Originator, another handshake in progress: pause, ignore input, drop when told.
    let mut hs = originator();
    assert_eq!(hs.claim(RemoteStatus::Handshaking).status, Status::Paused);
    assert_eq!(
        hs.on_frame(b"\x0c"),
        Step {
            send: vec![],
            status: Status::Continue
        }
    );
    assert_eq!(hs.drop_redundant().status, Status::Redundant { remote: p });
    // Responder: any other connection or peering is a logic error.
    for status in [RemoteStatus::Handshaking, RemoteStatus::Peered] {
        let mut hs = responder();
        let step = hs.claim(status);
        assert_eq!(failed(&step), (40, vec!["drop_conn"]));
        let Handshake::DropConn { description, .. } = &step.send[0] else {
            unreachable!()
        };
        assert_eq!(
            description,
            b"detected redundant connection at the responder"
        );
    }
    // Shutting down, either role.
    assert_eq!(
        failed(&originator().claim(RemoteStatus::ShuttingDown)),
        (28, vec!["drop_conn"])
    );
    assert_eq!(
        failed(&responder().claim(RemoteStatus::ShuttingDown)),
        (28, vec!["drop_conn"])
    );
    // Calls out of turn are reported, not panicked on.
    let mut hs = responder();
    assert_eq!(
        failed(&hs.on_message(Handshake::OriginatorAck)),
        (32, vec![])
    );
    assert_eq!(
        failed(&start(C, Role::Accepting).claim(RemoteStatus::Free)),
        (32, vec![])
    );
    assert_eq!(
        failed(&start(C, Role::Accepting).drop_redundant()),
        (32, vec![])
    );
    let mut hs = start(C, Role::Accepting);
    let _ = hs.on_message(Handshake::OriginatorAck);
    assert_eq!(failed(&hs.on_frame(&[0xff])), (32, vec![]));
}

// ---------------------------------------------------------------------------------------
// Random input never panics

proptest! {
    #[test]
    fn random_bytes_never_panic_a_decoder(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        for reader in [FrameReader::handshake(), FrameReader::phase3().with_max_payload(64)] {
            if let Ok((Some(p), used)) = reader.next_frame(&bytes) {
                prop_assert!(used <= bytes.len() && p.len() < used);
            }
        }
        if let Ok(msg) = Handshake::decode(&bytes) {
            let again = Handshake::decode(&frame_of(&msg)[4..]);
            prop_assert_eq!(again, Ok(msg));
        }
        if let Ok(env) = Envelope::parse(&bytes) {
            let mut out = Vec::new();
            if env.write_frame(&mut out).is_ok() {
                prop_assert_eq!(Envelope::parse(&out[4..]).unwrap(), env);
            }
        }
        if let Ok(f) = Filter::decode(&bytes) {
            let mut out = Vec::new();
            f.encode_into(&mut out).unwrap();
            prop_assert_eq!(Filter::decode(&out).unwrap(), f);
        }
        let _ = String::from_utf8_lossy(&bytes).parse::<EndpointId>();
    }

    #[test]
    fn random_frames_never_panic_a_handshaker(
        frames in prop::collection::vec(
            prop_oneof![
                prop::collection::vec(any::<u8>(), 0..40),
                (6u8..=12, prop::collection::vec(any::<u8>(), 0..30))
                    .prop_map(|(t, rest)| [&[t, 0x5a, 0x45, 0x45, 0x4b][..], &rest].concat()),
            ],
            0..8,
        ),
        accepting in any::<bool>(),
        claim in 0u8..4,
    ) {
        let role = if accepting { Role::Accepting } else { Role::Connecting };
        let mut hs = Handshaker::new(EndpointId::random(), filter(&["/p"]), role);
        for frame in frames {
            let mut step = hs.on_frame(&frame);
            if let Status::Claim { .. } = step.status {
                step = hs.claim(match claim {
                    0 => RemoteStatus::Free,
                    1 => RemoteStatus::Handshaking,
                    2 => RemoteStatus::Peered,
                    _ => RemoteStatus::ShuttingDown,
                });
            }
            for m in &step.send {
                prop_assert!(Handshake::decode(&frame_of(m)[4..]).is_ok());
            }
            if step.is_final() {
                break;
            }
        }
    }

    #[test]
    fn filters_match_as_a_plain_prefix_list(
        topics in prop::collection::vec(prop::collection::vec(0x2fu8..0x32, 0..4), 0..12),
        probes in prop::collection::vec(prop::collection::vec(0x2fu8..0x32, 0..5), 0..12),
    ) {
        let built: Filter = topics.iter().collect();
        let mut added = Filter::new();
        for t in &topics {
            added.add(t);
        }
        prop_assert_eq!(&built, &added);
        let sorted = built.topics().windows(2).all(|w| w[0] < w[1] && !w[1].starts_with(&w[0]));
        prop_assert!(sorted);
        for p in probes.iter().chain(&topics) {
            let naive = topics.iter().any(|t| p.starts_with(t));
            prop_assert_eq!(built.matches(p), naive, "{:?}", p);
        }
    }
}
