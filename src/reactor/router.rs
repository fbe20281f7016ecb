//! Routing: what this endpoint advertises to its peers (its filter, which only grows), and
//! the one rule that picks the peers a message goes to, for local publications and for
//! forwarding alike.

use crate::wire::{EndpointId, Filter};
use mio::Token;

/// A peered connection as routing sees it.
pub(super) struct Route<'a> {
    pub remote: EndpointId,
    /// The topics the peer subscribed to.
    pub filter: &'a Filter,
    /// We unpeer from it (our BYE is out): it gets nothing more.
    pub leaving: bool,
}

/// Where a message came from: the connection and the peer that handed it to us. `None` for
/// messages published on this endpoint.
pub(super) type Source = Option<(Token, EndpointId)>;

/// Appends to `out` the peers that a message on `topic` for `receiver` goes to: the peer
/// `receiver` itself if it is set (unicast), else every peer whose filter matches. A
/// message never goes back to the connection it came on, nor to the peer that sent it
/// (spec §4.7).
pub(super) fn select<'a>(
    peers: impl Iterator<Item = (Token, Route<'a>)>,
    source: Source,
    receiver: EndpointId,
    topic: &[u8],
    out: &mut Vec<Token>,
) {
    out.extend(
        peers
            .filter(|(t, r)| {
                !r.leaving
                    && source.is_none_or(|(conn, from)| *t != conn && r.remote != from)
                    && if receiver.is_nil() {
                        r.filter.matches(topic)
                    } else {
                        r.remote == receiver
                    }
            })
            .map(|(t, _)| t),
    );
}

/// The filter this endpoint advertises: its local subscriptions, its stores' topics and
/// the topics it was asked to forward.
#[derive(Default)]
pub(super) struct Advertised {
    filter: Filter,
    /// Grows with the filter, so that a peer whose handshake carried an older filter is
    /// sent the new one once peered.
    generation: u64,
}

impl Advertised {
    /// Adds `topics`; true if the filter grew (peers must hear of it). Node-local topics
    /// (`<$>/local/...`) are never advertised.
    pub(super) fn add(&mut self, topics: &[Vec<u8>]) -> bool {
        let mut grew = false;
        for t in topics {
            if !t.starts_with(b"<$>/local/") {
                grew |= self.filter.add(t);
            }
        }
        if grew {
            self.generation += 1;
        }
        grew
    }

    pub(super) fn filter(&self) -> &Filter {
        &self.filter
    }

    pub(super) fn generation(&self) -> u64 {
        self.generation
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> EndpointId {
        EndpointId([n; 16])
    }

    /// Three peers: A and B want /zeek, C wants /other; B is leaving.
    fn pick(source: Source, receiver: EndpointId, topic: &[u8], b_leaving: bool) -> Vec<Token> {
        let zeek: Filter = [b"/zeek".to_vec()].iter().collect();
        let other: Filter = [b"/other".to_vec()].iter().collect();
        let peers = [
            (Token(1), id(1), &zeek, false),
            (Token(2), id(2), &zeek, b_leaving),
            (Token(3), id(3), &other, false),
        ];
        let mut out = Vec::new();
        let routes = peers.iter().map(|&(t, remote, filter, leaving)| {
            (
                t,
                Route {
                    remote,
                    filter,
                    leaving,
                },
            )
        });
        select(routes, source, receiver, topic, &mut out);
        out
    }

    #[test]
    fn a_publication_goes_to_every_peer_whose_filter_matches() {
        assert_eq!(
            pick(None, EndpointId::nil(), b"/zeek/x", false),
            [Token(1), Token(2)]
        );
        assert_eq!(pick(None, EndpointId::nil(), b"/other", false), [Token(3)]);
        assert!(pick(None, EndpointId::nil(), b"/none", false).is_empty());
    }

    #[test]
    fn forwarding_never_goes_back_to_the_sender() {
        // From peer 1 on its own connection.
        assert_eq!(
            pick(Some((Token(1), id(1))), EndpointId::nil(), b"/zeek", false),
            [Token(2)]
        );
        // From peer 1 while peer 2 is leaving: nobody.
        assert!(pick(Some((Token(1), id(1))), EndpointId::nil(), b"/zeek", true).is_empty());
        // From peer 2 arriving on another connection: not back to peer 2's either.
        assert_eq!(
            pick(
                Some((Token(9), id(2))),
                EndpointId::nil(),
                b"/zeek/a",
                false
            ),
            [Token(1)]
        );
    }

    #[test]
    fn unicast_goes_to_its_receiver_only_whatever_the_filters() {
        assert_eq!(pick(None, id(3), b"/zeek", false), [Token(3)]);
        assert!(pick(Some((Token(3), id(3))), id(3), b"/zeek", false).is_empty());
        assert!(pick(None, id(2), b"/zeek", true).is_empty(), "leaving");
        assert!(
            pick(None, id(4), b"/zeek", false).is_empty(),
            "no such peer"
        );
    }

    #[test]
    fn the_advertised_filter_grows_with_new_topics_only() {
        let mut a = Advertised::default();
        assert!(a.add(&[b"/a".to_vec()]));
        assert!(!a.add(&[b"/a/b".to_vec()]), "covered by /a");
        assert!(!a.add(&[b"<$>/local/data/x".to_vec()]));
        assert_eq!(a.generation(), 1);
        assert!(a.add(&[b"/b".to_vec()]));
        assert_eq!(a.generation(), 2);
        assert_eq!(a.filter().topics().len(), 2);
    }
}
