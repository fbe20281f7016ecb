//! The handshake (spec §3): its seven messages, and [`Handshaker`], the state machine of
//! one connection from its first frame until Phase 3.
//!
//! # Driving a [`Handshaker`]
//!
//! The reactor owns one per connection and does all the I/O:
//!
//! 1. On connect or accept, create it with [`Handshaker::new`] and send
//!    [`Handshaker::greeting`] (hello from the connecting side, probe from the accepting
//!    side) without waiting for the peer.
//! 2. Split input with [`FrameReader::handshake`](super::frame::FrameReader::handshake) and
//!    pass each payload to [`Handshaker::on_frame`]. A [`FrameError`](super::frame::FrameError)
//!    closes the connection without drop_conn, as Broker does.
//! 3. Every call returns a [`Step`]: first send `step.send` in order, then act on
//!    `step.status` (see [`Status`]). On a final status, flush and close (or, for
//!    [`Status::Done`], switch to Phase 3: bytes already buffered behind the last handshake
//!    frame are envelopes).
//!
//! Redundant connections (spec §3.6) need what the whole endpoint knows, so the handshaker
//! asks: when it learns the remote ID (as originator from hello, as responder from
//! version_select) it returns [`Status::Claim`] and waits for [`Handshaker::claim`], which
//! the reactor calls at once with the [`RemoteStatus`] of that ID, before feeding further
//! frames. The handshaker then applies Broker's rules. On [`RemoteStatus::Free`] the
//! reactor records the ID as "handshaking" on this connection, and releases it again if the
//! handshake fails. An originator whose ID is already mid-handshake on another connection
//! pauses ([`Status::Paused`]); the reactor stops reading it and, when the other handshake
//! completes, calls [`Handshaker::drop_redundant`] to send drop_conn(39) and close it.

use super::frame::append_frame;
use super::{Cursor, EndpointId, ErrorCode, Filter, MAGIC, PROTOCOL_VERSION};
use crate::data::bin::put_varbyte;
use crate::error::Result;
use std::fmt;

const HELLO: u8 = 6;
const PROBE: u8 = 7;
const VERSION_SELECT: u8 = 8;
const DROP_CONN: u8 = 9;
const ORIGINATOR_SYN: u8 = 10;
const RESPONDER_SYN_ACK: u8 = 11;
const ORIGINATOR_ACK: u8 = 12;

/// One handshake message (spec §3.2). Magic numbers are checked on decode and written on
/// encode, so they do not appear here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Handshake {
    /// The versions a node speaks; either side's first word.
    Hello {
        sender: EndpointId,
        min_version: u8,
        max_version: u8,
    },
    /// Sent by the accepting side at once; receivers ignore it.
    Probe,
    /// The originator's choice of version.
    VersionSelect { sender: EndpointId, version: u8 },
    /// Refuses the connection; `code` is an [`ErrorCode`] value.
    DropConn {
        sender: EndpointId,
        code: u8,
        description: Vec<u8>,
    },
    /// The originator's filter.
    OriginatorSyn(Filter),
    /// The responder's filter.
    ResponderSynAck(Filter),
    /// The originator's last word; Phase 3 follows.
    OriginatorAck,
}

impl Handshake {
    /// A hello offering exactly [`PROTOCOL_VERSION`], as Broker sends it.
    pub fn hello(sender: EndpointId) -> Handshake {
        Handshake::Hello {
            sender,
            min_version: PROTOCOL_VERSION,
            max_version: PROTOCOL_VERSION,
        }
    }

    /// A version_select of [`PROTOCOL_VERSION`].
    pub fn version_select(sender: EndpointId) -> Handshake {
        Handshake::VersionSelect {
            sender,
            version: PROTOCOL_VERSION,
        }
    }

    /// A drop_conn with a known code.
    pub fn drop_conn(
        sender: EndpointId,
        code: ErrorCode,
        description: impl Into<Vec<u8>>,
    ) -> Handshake {
        Handshake::DropConn {
            sender,
            code: code as u8,
            description: description.into(),
        }
    }

    /// The message's name in the spec, for diagnostics.
    pub fn name(&self) -> &'static str {
        match self {
            Handshake::Hello { .. } => "hello",
            Handshake::Probe => "probe",
            Handshake::VersionSelect { .. } => "version_select",
            Handshake::DropConn { .. } => "drop_conn",
            Handshake::OriginatorSyn(_) => "originator_syn",
            Handshake::ResponderSynAck(_) => "responder_syn_ack",
            Handshake::OriginatorAck => "originator_ack",
        }
    }

    /// Appends the complete frame, length prefix included. Fails only for a description or
    /// topic of 4 GiB or more; `out` is then unchanged.
    pub fn encode_frame(&self, out: &mut Vec<u8>) -> Result<()> {
        append_frame(out, |out| {
            let magic = MAGIC.to_be_bytes();
            match self {
                Handshake::Hello {
                    sender,
                    min_version,
                    max_version,
                } => {
                    out.push(HELLO);
                    out.extend_from_slice(&magic);
                    out.extend_from_slice(&sender.0);
                    out.extend_from_slice(&[*min_version, *max_version]);
                }
                Handshake::Probe => {
                    out.push(PROBE);
                    out.extend_from_slice(&magic);
                }
                Handshake::VersionSelect { sender, version } => {
                    out.push(VERSION_SELECT);
                    out.extend_from_slice(&magic);
                    out.extend_from_slice(&sender.0);
                    out.push(*version);
                }
                Handshake::DropConn {
                    sender,
                    code,
                    description,
                } => {
                    out.push(DROP_CONN);
                    out.extend_from_slice(&magic);
                    out.extend_from_slice(&sender.0);
                    out.push(*code);
                    put_varbyte(out, description.len())?;
                    out.extend_from_slice(description);
                }
                Handshake::OriginatorSyn(filter) => {
                    out.push(ORIGINATOR_SYN);
                    filter.encode_into(out)?;
                }
                Handshake::ResponderSynAck(filter) => {
                    out.push(RESPONDER_SYN_ACK);
                    filter.encode_into(out)?;
                }
                Handshake::OriginatorAck => out.push(ORIGINATOR_ACK),
            }
            Ok(())
        })
    }

    /// Decodes a handshake frame's payload and validates it as Broker does before its state
    /// machine sees it. The error carries the drop_conn Broker would answer with. Bytes
    /// after the body are ignored, as Broker ignores them.
    pub fn decode(payload: &[u8]) -> Result<Handshake, HandshakeError> {
        let mut r = Cursor::new(payload);
        let tag = r.u8().ok_or_else(invalid_tag)?;
        if !(HELLO..=ORIGINATOR_ACK).contains(&tag) {
            return Err(invalid_tag());
        }
        // The body and its magic number (messages without one count as correct).
        let mut body = || -> Option<(u32, Handshake)> {
            Some(match tag {
                HELLO => {
                    let (magic, sender) = (r.u32()?, r.id()?);
                    let [min_version, max_version] = r.array()?;
                    let msg = Handshake::Hello {
                        sender,
                        min_version,
                        max_version,
                    };
                    (magic, msg)
                }
                PROBE => (r.u32()?, Handshake::Probe),
                VERSION_SELECT => {
                    let (magic, sender, version) = (r.u32()?, r.id()?, r.u8()?);
                    (magic, Handshake::VersionSelect { sender, version })
                }
                DROP_CONN => {
                    let (magic, sender, code) = (r.u32()?, r.id()?, r.u8()?);
                    let description = r.str()?.to_vec();
                    let msg = Handshake::DropConn {
                        sender,
                        code,
                        description,
                    };
                    (magic, msg)
                }
                ORIGINATOR_SYN => {
                    let (filter, _) = Filter::decode_prefix(&payload[1..]).ok()?;
                    (MAGIC, Handshake::OriginatorSyn(filter))
                }
                RESPONDER_SYN_ACK => {
                    let (filter, _) = Filter::decode_prefix(&payload[1..]).ok()?;
                    (MAGIC, Handshake::ResponderSynAck(filter))
                }
                _ => (MAGIC, Handshake::OriginatorAck),
            })
        };
        let (magic, msg) = body().ok_or_else(|| {
            HandshakeError::new(
                ErrorCode::InvalidMessage,
                format!("failed to parse {}", broker_type_name(tag)),
            )
        })?;
        if magic != MAGIC {
            return Err(HandshakeError::new(
                ErrorCode::WrongMagicNumber,
                "wrong magic number",
            ));
        }
        match &msg {
            Handshake::Hello {
                min_version,
                max_version,
                ..
            } if *min_version > PROTOCOL_VERSION || *max_version < PROTOCOL_VERSION => Err(
                HandshakeError::new(ErrorCode::PeerIncompatible, "unsupported versions offered"),
            ),
            Handshake::VersionSelect { version, .. } if *version != PROTOCOL_VERSION => Err(
                HandshakeError::new(ErrorCode::PeerIncompatible, "unsupported version selected"),
            ),
            // Broker answers an unknown code with its own drop_conn, echoing the text.
            Handshake::DropConn {
                code, description, ..
            } if ErrorCode::from_u8(*code).is_none() => Err(HandshakeError::new(
                ErrorCode::Unspecified,
                description.clone(),
            )),
            _ => Ok(msg),
        }
    }
}

fn invalid_tag() -> HandshakeError {
    HandshakeError::new(ErrorCode::InvalidMessage, "invalid message type tag")
}

/// The C++ type names that Broker puts in "failed to parse ..." descriptions.
fn broker_type_name(tag: u8) -> &'static str {
    match tag {
        HELLO => "hello_msg",
        PROBE => "probe_msg",
        VERSION_SELECT => "version_select_msg",
        DROP_CONN => "drop_conn_msg",
        ORIGINATOR_SYN => "v1::originator_syn_msg",
        RESPONDER_SYN_ACK => "v1::responder_syn_ack_msg",
        _ => "v1::originator_ack_msg",
    }
}

/// A handshake frame that fails Broker's checks, with the drop_conn code and description
/// that answer it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandshakeError {
    pub code: ErrorCode,
    /// Bytes, because an unknown code's description is the peer's, echoed verbatim.
    pub description: Vec<u8>,
}

impl HandshakeError {
    fn new(code: ErrorCode, description: impl Into<Vec<u8>>) -> HandshakeError {
        HandshakeError {
            code,
            description: description.into(),
        }
    }

    /// The drop_conn that answers this error.
    pub fn drop_conn(&self, own_id: EndpointId) -> Handshake {
        Handshake::drop_conn(own_id, self.code, self.description.clone())
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}",
            self.code,
            String::from_utf8_lossy(&self.description)
        )
    }
}

impl std::error::Error for HandshakeError {}

/// Which end of the TCP connection a node is. The other pair of roles, originator and
/// responder, is settled by the endpoint IDs during the handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Called `connect`; greets with hello.
    Connecting,
    /// Called `accept`; greets with probe.
    Accepting,
}

/// What the endpoint knows about a remote ID when a handshake claims it (Broker's peer
/// status, spec §3.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemoteStatus {
    /// No other connection or peering with it (Broker: none, initialized, disconnected).
    /// The handshake goes on; the reactor records the ID as handshaking.
    Free,
    /// Another connection's handshake with it is in progress (connecting, reconnecting).
    Handshaking,
    /// A peering with it exists (connected, peered).
    Peered,
    /// The endpoint is shutting down and takes no new peers.
    ShuttingDown,
}

/// A completed handshake: what Phase 3 needs to know about the peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peering {
    pub remote: EndpointId,
    /// The peer's filter from its originator_syn or responder_syn_ack.
    pub filter: Filter,
    /// True when this node is the originator (has the smaller ID).
    pub originator: bool,
}

/// Why a handshake failed, for the status event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub code: ErrorCode,
    pub description: String,
}

/// Where the handshake stands after a call, and what the reactor does about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Keep reading.
    Continue,
    /// The remote ID is known: call [`Handshaker::claim`] with its status before reading on.
    Claim {
        remote: EndpointId,
        originator: bool,
    },
    /// Another handshake with the same peer is in progress. Stop reading; when that one
    /// completes, call [`Handshaker::drop_redundant`]. If it fails instead, close this one
    /// too (Broker leaves it hanging); the peer retries.
    Paused,
    /// Final: Phase 3 begins. If the local filter grew since this handshaker was created,
    /// send the peer a routing_update.
    Done(Peering),
    /// Final: this connection duplicates another with `remote`. Flush `send` (a
    /// drop_conn(39)) and close, without an error and without retrying.
    Redundant { remote: EndpointId },
    /// Final: the peer sent drop_conn(39). This is benign only if the endpoint has another
    /// handshake or a peering with `remote`; otherwise it is a failure, as in Broker.
    DroppedAsRedundant { remote: EndpointId },
    /// Final: flush `send` (a drop_conn, if any) and close; report the failure, and retry
    /// if this side connected with a retry interval.
    Failed(Failure),
    /// Final: the peer is this endpoint (its hello or version_select carries our own ID):
    /// flush `send` and close. The accepting side answers a hello with its own, as Broker
    /// does, so that the connecting side learns it too; that side reports what Broker
    /// reports for a connection to itself (it cannot peer, peer_unavailable), the accepting
    /// side nothing.
    ToSelf,
}

/// The outcome of one call: messages to send now, in order, then the new status.
#[must_use]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub send: Vec<Handshake>,
    pub status: Status,
}

impl Step {
    fn wait() -> Step {
        Step {
            send: Vec::new(),
            status: Status::Continue,
        }
    }

    /// True when the handshake is over, by success or not: no more calls are expected.
    pub fn is_final(&self) -> bool {
        !matches!(
            self.status,
            Status::Continue | Status::Claim { .. } | Status::Paused
        )
    }
}

/// Broker's receiver states (spec §3.4), plus the wait for the reactor's claim answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    AwaitHelloOrVersionSelect,
    AwaitHello,
    AwaitVersionSelect,
    AwaitClaim {
        remote: EndpointId,
        originator: bool,
    },
    AwaitOrigSyn,
    AwaitRespSynAck,
    AwaitOrigAck,
    Paused,
    Finished,
}

impl State {
    fn awaits(self) -> &'static str {
        match self {
            State::AwaitHelloOrVersionSelect => "hello or version_select",
            State::AwaitHello => "hello",
            State::AwaitVersionSelect => "version_select",
            State::AwaitOrigSyn => "originator_syn",
            State::AwaitRespSynAck => "responder_syn_ack",
            State::AwaitOrigAck => "originator_ack",
            State::AwaitClaim { .. } => "the claim's answer",
            State::Paused | State::Finished => "nothing",
        }
    }
}

/// The handshake of one connection, as Broker's connector runs it, without the I/O. See the
/// module documentation for how a reactor drives it.
#[derive(Clone, Debug)]
pub struct Handshaker {
    own_id: EndpointId,
    own_filter: Filter,
    role: Role,
    state: State,
    remote: Option<EndpointId>,
    remote_filter: Filter,
}

impl Handshaker {
    /// A handshake for a new connection. `own_filter` is what originator_syn or
    /// responder_syn_ack will advertise.
    pub fn new(own_id: EndpointId, own_filter: Filter, role: Role) -> Handshaker {
        Handshaker {
            own_id,
            own_filter,
            role,
            state: match role {
                Role::Connecting => State::AwaitHelloOrVersionSelect,
                Role::Accepting => State::AwaitHello,
            },
            remote: None,
            remote_filter: Filter::new(),
        }
    }

    /// The first message, sent without waiting for the peer: hello when connecting, probe
    /// when accepting.
    pub fn greeting(&self) -> Handshake {
        match self.role {
            Role::Connecting => Handshake::hello(self.own_id),
            Role::Accepting => Handshake::Probe,
        }
    }

    /// The remote ID, once a claim has been answered (or a drop_conn named it).
    pub fn remote(&self) -> Option<EndpointId> {
        self.remote
    }

    /// Handles one frame payload. A payload that fails Broker's checks ends the handshake
    /// with the drop_conn Broker would send. While paused, frames are ignored.
    pub fn on_frame(&mut self, payload: &[u8]) -> Step {
        if self.state == State::Paused {
            return Step::wait();
        }
        match Handshake::decode(payload) {
            Ok(msg) => self.on_message(msg),
            Err(_) if self.state == State::Finished => self.misuse(),
            Err(e) => {
                let send = vec![e.drop_conn(self.own_id)];
                self.fail(send, e.code, String::from_utf8_lossy(&e.description))
            }
        }
    }

    /// Handles one decoded message (spec §3.3-§3.4). Anything a state does not accept ends
    /// the handshake without a drop_conn, as in Broker; probe and drop_conn are accepted
    /// only before Phase 2.
    pub fn on_message(&mut self, msg: Handshake) -> Step {
        use State::*;
        let phase1 = matches!(
            self.state,
            AwaitHelloOrVersionSelect | AwaitHello | AwaitVersionSelect
        );
        match (self.state, msg) {
            (Paused, _) => Step::wait(),
            (Finished | AwaitClaim { .. }, _) => self.misuse(),
            (_, Handshake::Probe) if phase1 => Step::wait(),
            (
                _,
                Handshake::DropConn {
                    sender,
                    code,
                    description,
                },
            ) if phase1 => self.dropped(sender, code, description),
            (
                AwaitHelloOrVersionSelect | AwaitHello,
                Handshake::Hello {
                    sender,
                    min_version,
                    max_version,
                },
            ) => self.on_hello(sender, min_version, max_version),
            (
                AwaitHelloOrVersionSelect | AwaitVersionSelect,
                Handshake::VersionSelect { sender, version },
            ) => self.on_version_select(sender, version),
            (AwaitOrigSyn, Handshake::OriginatorSyn(filter)) => {
                self.remote_filter = filter;
                self.state = AwaitOrigAck;
                Step {
                    send: vec![Handshake::ResponderSynAck(self.own_filter.clone())],
                    status: Status::Continue,
                }
            }
            (AwaitRespSynAck, Handshake::ResponderSynAck(filter)) => {
                self.remote_filter = filter;
                self.done(vec![Handshake::OriginatorAck], true)
            }
            (AwaitOrigAck, Handshake::OriginatorAck) => self.done(Vec::new(), false),
            (state, msg) => self.fail(
                Vec::new(),
                ErrorCode::UnexpectedHandshakeMessage,
                format!(
                    "unexpected {} while awaiting {}",
                    msg.name(),
                    state.awaits()
                ),
            ),
        }
    }

    /// Answers a [`Status::Claim`] with what the endpoint knows about the remote ID, and
    /// applies Broker's rules for redundant connections (spec §3.6).
    pub fn claim(&mut self, status: RemoteStatus) -> Step {
        let State::AwaitClaim { remote, originator } = self.state else {
            return self.misuse();
        };
        self.remote = Some(remote);
        match (status, originator) {
            (RemoteStatus::Free, true) => {
                self.state = State::AwaitRespSynAck;
                Step {
                    send: vec![
                        Handshake::version_select(self.own_id),
                        Handshake::OriginatorSyn(self.own_filter.clone()),
                    ],
                    status: Status::Continue,
                }
            }
            (RemoteStatus::Free, false) => {
                self.state = State::AwaitOrigSyn;
                Step::wait()
            }
            (RemoteStatus::Handshaking, true) => {
                self.state = State::Paused;
                Step {
                    send: Vec::new(),
                    status: Status::Paused,
                }
            }
            (RemoteStatus::Peered, true) => self.redundant(remote),
            (RemoteStatus::Handshaking | RemoteStatus::Peered, false) => self.refuse(
                ErrorCode::LogicError,
                "detected redundant connection at the responder",
            ),
            (RemoteStatus::ShuttingDown, _) => {
                self.refuse(ErrorCode::ShuttingDown, "shutting down")
            }
        }
    }

    /// Ends a paused handshake now that the other connection to the same peer completed:
    /// sends drop_conn(39) and reports [`Status::Redundant`].
    pub fn drop_redundant(&mut self) -> Step {
        let (State::Paused, Some(remote)) = (self.state, self.remote) else {
            return self.misuse();
        };
        self.redundant(remote)
    }

    fn redundant(&mut self, remote: EndpointId) -> Step {
        self.state = State::Finished;
        Step {
            send: vec![Handshake::drop_conn(
                self.own_id,
                ErrorCode::RedundantConnection,
                "redundant connection",
            )],
            status: Status::Redundant { remote },
        }
    }

    fn on_hello(&mut self, sender: EndpointId, min_version: u8, max_version: u8) -> Step {
        if min_version > PROTOCOL_VERSION || max_version < PROTOCOL_VERSION {
            return self.refuse(ErrorCode::PeerIncompatible, "version range not supported");
        }
        if sender == self.own_id {
            // As Broker, the accepting side answers with its hello; the connecting side,
            // receiving that, knows as well.
            let send = match self.state {
                State::AwaitHello => vec![Handshake::hello(self.own_id)],
                _ => Vec::new(),
            };
            return self.reached_self(send);
        }
        if self.own_id < sender {
            return self.await_claim(sender, true);
        }
        // The connecting side already sent its hello; a node sends at most one.
        let send = match self.state {
            State::AwaitHello => vec![Handshake::hello(self.own_id)],
            _ => Vec::new(),
        };
        self.state = State::AwaitVersionSelect;
        Step {
            send,
            status: Status::Continue,
        }
    }

    fn on_version_select(&mut self, sender: EndpointId, version: u8) -> Step {
        if version != PROTOCOL_VERSION {
            return self.refuse(
                ErrorCode::PeerIncompatible,
                "selected version not supported",
            );
        }
        if sender == self.own_id {
            return self.reached_self(Vec::new());
        }
        self.await_claim(sender, false)
    }

    fn await_claim(&mut self, remote: EndpointId, originator: bool) -> Step {
        self.state = State::AwaitClaim { remote, originator };
        Step {
            send: Vec::new(),
            status: Status::Claim { remote, originator },
        }
    }

    fn dropped(&mut self, sender: EndpointId, code: u8, description: Vec<u8>) -> Step {
        self.remote.get_or_insert(sender);
        let text = String::from_utf8_lossy(&description).into_owned();
        match ErrorCode::from_u8(code) {
            Some(ErrorCode::RedundantConnection) => {
                self.state = State::Finished;
                Step {
                    send: Vec::new(),
                    status: Status::DroppedAsRedundant { remote: sender },
                }
            }
            Some(code) => self.fail(Vec::new(), code, text),
            // Only reachable with a message that bypassed `decode`, which answers the same.
            None => {
                let send = vec![Handshake::drop_conn(
                    self.own_id,
                    ErrorCode::Unspecified,
                    description,
                )];
                self.fail(send, ErrorCode::Unspecified, text)
            }
        }
    }

    fn done(&mut self, send: Vec<Handshake>, originator: bool) -> Step {
        self.state = State::Finished;
        let Some(remote) = self.remote else {
            return self.misuse();
        };
        Step {
            send,
            status: Status::Done(Peering {
                remote,
                filter: std::mem::take(&mut self.remote_filter),
                originator,
            }),
        }
    }

    /// Fails with a drop_conn that tells the peer why.
    fn refuse(&mut self, code: ErrorCode, text: &str) -> Step {
        let send = vec![Handshake::drop_conn(self.own_id, code, text)];
        self.fail(send, code, text)
    }

    fn reached_self(&mut self, send: Vec<Handshake>) -> Step {
        self.state = State::Finished;
        Step {
            send,
            status: Status::ToSelf,
        }
    }

    fn fail(&mut self, send: Vec<Handshake>, code: ErrorCode, text: impl Into<String>) -> Step {
        self.state = State::Finished;
        Step {
            send,
            status: Status::Failed(Failure {
                code,
                description: text.into(),
            }),
        }
    }

    /// A call the current state does not expect: a reactor bug, reported rather than
    /// panicked on.
    fn misuse(&mut self) -> Step {
        let text = format!("handshake call while awaiting {}", self.state.awaits());
        self.fail(Vec::new(), ErrorCode::InvalidHandshakeState, text)
    }
}
