//! What an endpoint reports about itself: Broker's status and error events, and the list
//! of its peers.

use super::queue::{Mailbox, Pushed};
use crate::error::ErrorCode;
use crate::wire::EndpointId;
use std::net::SocketAddr;

/// Broker's status codes (`broker::sc`).
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StatusCode {
    Unspecified = 0,
    PeerAdded = 1,
    PeerRemoved = 2,
    PeerLost = 3,
    EndpointDiscovered = 4,
    EndpointUnreachable = 5,
}

impl StatusCode {
    /// Broker's snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            StatusCode::Unspecified => "unspecified",
            StatusCode::PeerAdded => "peer_added",
            StatusCode::PeerRemoved => "peer_removed",
            StatusCode::PeerLost => "peer_lost",
            StatusCode::EndpointDiscovered => "endpoint_discovered",
            StatusCode::EndpointUnreachable => "endpoint_unreachable",
        }
    }
}

/// A status or error event, as Broker's status subscribers see them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusEvent {
    pub kind: StatusKind,
    /// The peer or endpoint concerned, if known.
    pub endpoint: Option<EndpointId>,
    /// Its network address, if known.
    pub address: Option<SocketAddr>,
    pub message: String,
}

/// A status event is either a status (peer added, lost, ...) or an error (Broker's `ec`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusKind {
    Status(StatusCode),
    Error(ErrorCode),
}

/// How far a peering has come.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerStatus {
    /// Connecting or in the handshake.
    Connecting,
    /// Handshake complete; messages flow.
    Peered,
    /// Lost or failed; a retry is scheduled.
    Reconnecting,
}

/// One entry of [`Endpoint::peers`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerInfo {
    /// Known once the handshake has told us.
    pub id: Option<EndpointId>,
    pub address: SocketAddr,
    /// True if this endpoint initiated the peering (and will reconnect after a loss).
    pub outbound: bool,
    pub status: PeerStatus,
    /// Messages for this peer that its overflow policy (drop_newest or drop_oldest)
    /// dropped because it did not keep up.
    pub dropped: u64,
}

/// Hands a status event to one status subscriber; false once that subscriber is gone.
pub(crate) fn push_status(mailbox: &Mailbox<StatusEvent>, ev: StatusEvent) -> bool {
    mailbox.push(ev) != Pushed::Closed
}
