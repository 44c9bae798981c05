//! Erasure in an append-only log (SPEC §11). `erase_member` is one event,
//! `member_erased`, whose application removes the member's texts from the
//! state (`State::remove_texts_of`); the events already in the log still
//! hold them, so whoever keeps the log rewrites it: every event passed through
//! [`Erasure::redact`] holds nothing the member wrote or gave. Replaying the
//! rewritten log gives the same state as the live one: no event's effect
//! depends on the content of a text, only on the facts decided when it was
//! written (who is told, whether an email is queued), which stay.

use crate::decide::members::scrub_contacts;
use crate::event::{Event, EventBody};
use crate::ids::{MemberId, RequestId};
use crate::model::Model;
use crate::text::EmailAddress;

/// What rewriting a log (or a saved state) for one erasure removes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Erasure {
    member: MemberId,
    /// The member's address's key, when it also leaves others' contacts.
    scrub: Option<String>,
}

impl Erasure {
    /// The erasure `events` record, read against the model *before* they
    /// were applied (its address is gone after); `None` when they erase nobody.
    pub fn of(before: &Model, events: &[Event]) -> Option<Erasure> {
        events.iter().find_map(|e| match &e.body {
            EventBody::MemberErased { member, scrub_contacts } => Some(Erasure {
                member: *member,
                scrub: scrub_contacts
                    .then(|| before.state().email_of(*member).map(EmailAddress::key))
                    .flatten(),
            }),
            _ => None,
        })
    }

    /// The erasure of `member` as it would be decided now.
    pub fn planned(model: &Model, member: MemberId) -> Erasure {
        let state = model.state();
        let scrub =
            scrub_contacts(state, member).then(|| state.email_of(member).map(EmailAddress::key)).flatten();
        Erasure { member, scrub }
    }

    /// The member erased.
    pub fn member(&self) -> MemberId {
        self.member
    }

    /// Removes from `event` everything the member wrote or gave: their
    /// address and name (registration, changes), their contacts, their notes,
    /// the messages they gave, and their address from others' contacts.
    /// `parties` gives a request's (sender, recipient). Returns whether the
    /// event changed.
    pub fn redact(
        &self,
        event: &mut Event,
        parties: impl Fn(RequestId) -> Option<(MemberId, MemberId)>,
    ) -> bool {
        let me = self.member;
        let sent_by_me = |r: &RequestId| parties(*r).is_some_and(|(s, _)| s == me);
        let received_by_me = |r: &RequestId| parties(*r).is_some_and(|(_, r)| r == me);
        let clear = |text: &mut Option<String>| text.take().is_some();
        match &mut event.body {
            EventBody::MemberRegistered { member, email, name, .. } if *member == me => {
                let changed = email.is_some() || name.is_some();
                *email = None;
                *name = None;
                changed
            }
            EventBody::MemberUpdated { member, email, name, .. } if *member == me => {
                let mut changed = false;
                for field in [email.as_mut().map(|e| e.take().is_some()), name.as_mut().map(clear)]
                    .into_iter()
                    .flatten()
                {
                    changed |= field;
                }
                changed
            }
            EventBody::ContactsImported { member, emails } if *member == me => {
                let changed = !emails.is_empty();
                emails.clear();
                changed
            }
            EventBody::ContactsImported { emails, .. } => match &self.scrub {
                Some(key) => {
                    let before = emails.len();
                    emails.retain(|e| e.key() != *key);
                    emails.len() != before
                }
                None => false,
            },
            EventBody::InvitationSent { sender, note, .. } if *sender == me => clear(note),
            EventBody::InvitationWithdrawn { request, message, .. } if sent_by_me(request) => clear(message),
            EventBody::InvitationDeclined { request, message, .. } if received_by_me(request) => {
                clear(message)
            }
            EventBody::ViewChanged { request, party, message, .. }
                if parties(*request).is_some_and(|(s, r)| {
                    me == match party {
                        crate::records::Party::Sender => s,
                        crate::records::Party::Recipient => r,
                    }
                }) =>
            {
                clear(message)
            }
            _ => false,
        }
    }

    /// Removes the same from a saved state that predates the erasure (the
    /// base a repaired database's log starts from).
    pub fn redact_model(&self, model: &mut Model) {
        model.state_mut().remove_texts_of(self.member, self.scrub.as_deref());
    }
}
