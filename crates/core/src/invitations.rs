//! `invitations`: a member's open received invitations, each with the
//! connections its sender and the member have in common (SPEC §11).

use crate::error::Error;
use crate::ids::{MemberId, RequestId};
use crate::kinds::RequestState;
use crate::model::Model;
use crate::records::Party;
use crate::views::Request;

/// An open invitation as its recipient sees it, with the mutual connections.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    /// The request, as the recipient sees it.
    pub request: Request,
    /// How many connections the sender and the recipient have in common.
    pub mutual_count: u64,
    /// Up to three of them, the lowest ids, sorted.
    pub mutuals: Vec<MemberId>,
}

/// How many mutual connections an invitation names.
pub const MUTUALS_SHOWN: usize = 3;

/// The number of ids two sorted lists have in common, and the first `keep` of them.
pub(crate) fn common(a: &[MemberId], b: &[MemberId], keep: usize) -> (u64, Vec<MemberId>) {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let mut shown = Vec::new();
    let mut count = 0u64;
    // Each id of the shorter list sought in the longer one, from where the
    // last search ended (both are sorted): few steps when one list is short.
    let mut rest = long;
    for id in short {
        match rest.binary_search(id) {
            Ok(i) => {
                count += 1;
                if shown.len() < keep {
                    shown.push(*id);
                }
                rest = &rest[i + 1..];
            }
            Err(i) => rest = &rest[i..],
        }
        if rest.is_empty() {
            break;
        }
    }
    (count, shown)
}

impl Model {
    /// `invitations(member, include_ignored)`: the member's open received
    /// invitations, oldest first, as they see them (`pending`, and `ignored`
    /// when asked for), with the connections they share with each sender.
    pub fn invitations(&self, member: MemberId, include_ignored: bool) -> Result<Vec<Invitation>, Error> {
        let m = self.member(member)?;
        let state = self.state();
        let mut out = Vec::new();
        // Every request before the expiry scan's start is open nowhere.
        for (i, r) in state.requests_of(m, Party::Recipient).take_while(|(i, _)| *i >= state.oldest_open) {
            let id = RequestId(i as u64 + 1);
            let Some(request) = self.seen_request(id, r, Party::Recipient) else { continue };
            let wanted = match request.state {
                RequestState::Pending => true,
                RequestState::Ignored => include_ignored,
                _ => false,
            };
            if !wanted {
                continue;
            }
            let theirs = state.members.get(&r.sender).map(|s| s.connections.as_slice()).unwrap_or_default();
            let (mutual_count, mutuals) = common(&m.connections, theirs, MUTUALS_SHOWN);
            out.push(Invitation { request, mutual_count, mutuals });
        }
        out.reverse();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[u64]) -> Vec<MemberId> {
        v.iter().copied().map(MemberId).collect()
    }

    #[test]
    fn common_counts_every_shared_id_and_keeps_the_lowest() {
        assert_eq!(common(&ids(&[1, 3, 5, 7, 9]), &ids(&[2, 3, 4, 7, 9, 11]), 2), (3, ids(&[3, 7])));
        assert_eq!(common(&ids(&[]), &ids(&[1, 2]), 3), (0, vec![]));
        assert_eq!(common(&ids(&[5]), &ids(&[1, 2, 5]), 3), (1, ids(&[5])));
        let long: Vec<MemberId> = (0..1000).map(MemberId).collect();
        let short = ids(&[0, 500, 999, 1000]);
        assert_eq!(common(&long, &short, 3), (3, ids(&[0, 500, 999])));
    }
}
