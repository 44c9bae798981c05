//! Queries: the records SPEC §8 returns, each shown as its viewer may see it.

use crate::error::Error;
use crate::ids::{EmailId, FlagId, MemberId, NotificationId, RequestId, Seq};
use crate::kinds::{FlagRule, FlagStatus, NotificationKind, RequestState, Standing};
use crate::model::Model;
use crate::records::{Mail, Party, RequestRecord, RequestTexts, state_index};
use crate::render;
use crate::time::Timestamp;
use std::collections::BTreeMap;

/// A connection request, as one viewer sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// Its id.
    pub id: RequestId,
    /// Who sent it.
    pub sender: MemberId,
    /// Who received it.
    pub recipient: MemberId,
    /// The optional note.
    pub note: Option<String>,
    /// Its state, as the viewer sees it.
    pub state: RequestState,
    /// When it was sent.
    pub created_at: Timestamp,
    /// When its state last changed (as the viewer sees it).
    pub updated_at: Timestamp,
    /// The withdraw or decline message.
    pub message: Option<String>,
}

/// An in-app notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    /// Its id.
    pub id: NotificationId,
    /// Whose inbox.
    pub member: MemberId,
    /// What about.
    pub kind: NotificationKind,
    /// The request concerned.
    pub request_id: RequestId,
    /// The other member.
    pub actor: MemberId,
    /// When.
    pub created_at: Timestamp,
    /// The text shown.
    pub text: String,
    /// Whether it was read.
    pub read: bool,
}

/// A queued or sent email.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    /// Its id: the id of the notification it carries.
    pub id: EmailId,
    /// To whom.
    pub member: MemberId,
    /// Their address.
    pub address: String,
    /// One line, escaped.
    pub subject: String,
    /// Plain text, member text escaped.
    pub body: String,
    /// When it is due.
    pub due_at: Timestamp,
    /// When it was handed to a mail server.
    pub sent_at: Option<Timestamp>,
}

/// A moderation flag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flag {
    /// Its id.
    pub id: FlagId,
    /// The member flagged.
    pub member: MemberId,
    /// The rule.
    pub rule: FlagRule,
    /// The events behind it, in order.
    pub evidence: Vec<Seq>,
    /// When it was opened.
    pub created_at: Timestamp,
    /// Where it is in review.
    pub status: FlagStatus,
    /// The moderator who resolved it, when one was named.
    pub resolved_by: Option<MemberId>,
    /// The moderator's reason, when given.
    pub resolution_note: Option<String>,
    /// When it was resolved (`None` while open).
    pub resolved_at: Option<Timestamp>,
}

/// What anyone may see of a member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicProfile {
    /// The member.
    pub member: MemberId,
    /// Their name.
    pub name: Option<String>,
    /// How many connections they have.
    pub connection_count: u64,
}

/// Counts for dashboards (SPEC §5 `stats()`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stats {
    /// Requests by true state (every state present).
    pub requests: BTreeMap<&'static str, u64>,
    /// Connections (each pair once).
    pub connections: u64,
    /// Members by standing (every standing present).
    pub members: BTreeMap<&'static str, u64>,
    /// Open moderation flags.
    pub open_flags: u64,
    /// Emails not yet sent.
    pub unsent_emails: u64,
    /// Events in the log.
    pub events: u64,
}

fn view(id: RequestId, r: &RequestRecord, texts: Option<&RequestTexts>, state: RequestState) -> Request {
    Request {
        id,
        sender: r.sender,
        recipient: r.recipient,
        note: texts.and_then(|t| t.note.as_deref()).map(str::to_owned),
        state,
        created_at: r.created_at,
        updated_at: r.updated_at,
        message: texts.and_then(|t| t.message.as_deref()).map(str::to_owned),
    }
}

impl Model {
    /// `request(id)`: the operator's view, the true state.
    pub fn request(&self, id: RequestId) -> Result<Request, Error> {
        let r = self.request_of(id)?;
        Ok(view(id, r, self.state().texts_of(id, r), r.state))
    }

    fn requests_seen(
        &self,
        member: MemberId,
        party: Party,
        filter: Option<RequestState>,
    ) -> Result<Vec<Request>, Error> {
        let m = self.member(member)?;
        let mut out = Vec::new();
        for (i, r) in self.state().requests_of(m, party) {
            let id = RequestId(i as u64 + 1);
            let Some(seen) = self.state().seen_by(id, r, party) else { continue };
            if filter.is_some_and(|f| f != seen.state) {
                continue;
            }
            let mut v = view(id, r, self.state().texts_of(id, r), seen.state);
            v.updated_at = seen.since;
            if let Some(own) = seen.own_message {
                v.message = own.map(str::to_owned);
            }
            out.push(v);
        }
        out.reverse();
        Ok(out)
    }

    /// `sent(member, state)`: the sender's view; `ignored` shows as `pending`.
    pub fn sent(&self, member: MemberId, state: Option<RequestState>) -> Result<Vec<Request>, Error> {
        self.requests_seen(member, Party::Sender, state)
    }

    /// `received(member, state)`: the recipient's view; `ignored` shows as `ignored`.
    pub fn received(&self, member: MemberId, state: Option<RequestState>) -> Result<Vec<Request>, Error> {
        self.requests_seen(member, Party::Recipient, state)
    }

    /// `connections(member)`, sorted by id.
    pub fn connections(&self, member: MemberId) -> Result<Vec<MemberId>, Error> {
        Ok(self.member(member)?.connections.clone())
    }

    /// `connection_count(member)`.
    pub fn connection_count(&self, member: MemberId) -> Result<u64, Error> {
        Ok(self.member(member)?.connections.len() as u64)
    }

    /// `are_connected(a, b)`.
    pub fn are_connected(&self, a: MemberId, b: MemberId) -> Result<bool, Error> {
        self.member(a)?;
        self.member(b)?;
        Ok(self.state().connected(a, b))
    }

    /// `mutual_connections(a, b)`, sorted by id.
    pub fn mutual_connections(&self, a: MemberId, b: MemberId) -> Result<Vec<MemberId>, Error> {
        let (x, y) = (&self.member(a)?.connections, &self.member(b)?.connections);
        let (mut i, mut j, mut out) = (0, 0, Vec::new());
        while i < x.len() && j < y.len() {
            match x[i].cmp(&y[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    out.push(x[i]);
                    i += 1;
                    j += 1;
                }
            }
        }
        Ok(out)
    }

    /// `is_blocked(blocker, blocked)`: directional.
    pub fn is_blocked(&self, blocker: MemberId, blocked: MemberId) -> Result<bool, Error> {
        self.member(blocker)?;
        self.member(blocked)?;
        Ok(self.state().blocks.contains(&(blocker, blocked)))
    }

    /// `notifications(member, unread_only)`, oldest first.
    pub fn notifications(&self, member: MemberId, unread_only: bool) -> Result<Vec<Notification>, Error> {
        let m = self.member(member)?;
        let mut out: Vec<Notification> = self
            .state()
            .inbox_of(m)
            .filter_map(|(i, n)| {
                if unread_only && n.read {
                    return None;
                }
                let r = self.state().request(n.request)?;
                let (member, actor) = n.parties(r);
                Some(Notification {
                    id: NotificationId(i as u64 + 1),
                    member,
                    kind: n.kind,
                    request_id: n.request,
                    actor,
                    created_at: self.state().notified_at(n)?,
                    text: render::notification_text(self.state(), self.policy(), n),
                    read: n.read,
                })
            })
            .collect();
        out.reverse();
        Ok(out)
    }

    /// How many of a member's notifications are unread (the badge count).
    pub fn unread_count(&self, member: MemberId) -> Result<u64, Error> {
        Ok(u64::from(self.member(member)?.unread))
    }

    /// The email with this id, rendered.
    pub fn email(&self, id: EmailId) -> Result<Email, Error> {
        let state = self.state();
        let e = state.email(id).ok_or_else(|| Error::NotFound(id.to_string()))?;
        let n =
            state.notification(e.notification).ok_or_else(|| Error::NotFound(e.notification.to_string()))?;
        let (member, _) = state.notified(n).ok_or_else(|| Error::NotFound(e.notification.to_string()))?;
        let address = state.email_of(member).map(|a| a.as_str().to_owned()).unwrap_or_default();
        Ok(Email {
            id,
            member,
            address,
            subject: render::email_subject(state, n),
            body: render::email_body(state, self.policy(), n),
            due_at: e.due_at,
            sent_at: e.sent_at,
        })
    }

    /// `pending_emails(due_before)`: unsent emails due at or before the time
    /// (all unsent when `None`), by due time.
    pub fn pending_emails(&self, due_before: Option<Timestamp>) -> Vec<Email> {
        let s = self.state();
        let from = s.oldest_unsent.min(s.notifications.len());
        let mut due: Vec<(Timestamp, EmailId)> = s
            .notifications
            .iter_from(from)
            .filter(|(_, n)| n.mail() == Mail::Unsent)
            .filter_map(|(i, _)| s.email(EmailId(i as u64 + 1)))
            .filter(|e| due_before.is_none_or(|t| e.due_at <= t))
            .map(|e| (e.due_at, EmailId(e.notification.0)))
            .collect();
        // Ids follow creation time; a shorter email delay after a policy change is
        // the only way due times can fall out of id order.
        due.sort_unstable();
        due.into_iter().filter_map(|(_, id)| self.email(id).ok()).collect()
    }

    /// `standing(member)`.
    pub fn standing(&self, member: MemberId) -> Result<Standing, Error> {
        Ok(self.member(member)?.standing)
    }

    /// The flag with this id.
    pub fn flag(&self, id: FlagId) -> Result<Flag, Error> {
        let f = self.state().flag(id).ok_or_else(|| Error::NotFound(id.to_string()))?;
        Ok(Flag {
            id,
            member: f.member,
            rule: f.rule,
            evidence: f.evidence.clone(),
            created_at: f.created_at,
            status: f.status,
            resolved_by: f.resolved_by,
            resolution_note: f.resolution_note.clone(),
            resolved_at: f.resolved_at,
        })
    }

    /// `review_queue()`: open flags, oldest first.
    pub fn review_queue(&self) -> Vec<Flag> {
        self.state().open_flags.iter().filter_map(|id| self.flag(*id).ok()).collect()
    }

    /// Every flag a member has had, oldest first (for moderators).
    pub fn flags_of(&self, member: MemberId) -> Vec<Flag> {
        self.all_flags().into_iter().filter(|f| f.member == member).collect()
    }

    /// Every flag ever opened, oldest first (for moderators and reports).
    pub fn all_flags(&self) -> Vec<Flag> {
        (1..=self.state().flags.len() as u64).map(FlagId).filter_map(|id| self.flag(id).ok()).collect()
    }

    /// The open request from `sender` to `recipient`, if there is one (the operator's view).
    pub fn open_request(&self, sender: MemberId, recipient: MemberId) -> Option<RequestId> {
        self.state().open_request(sender, recipient)
    }

    /// How many notifications of each kind were ever made (every kind present),
    /// and how many of them were carried by an email.
    pub fn notification_counts(&self) -> (BTreeMap<NotificationKind, u64>, u64) {
        let mut by_kind: BTreeMap<NotificationKind, u64> =
            NotificationKind::ALL.iter().map(|k| (*k, 0)).collect();
        let mut emails = 0;
        for n in self.state().notifications.iter() {
            *by_kind.entry(n.kind).or_default() += 1;
            emails += u64::from(n.mail() != Mail::None);
        }
        (by_kind, emails)
    }

    /// `public_profile(member)`: member, name, connection count, nothing else.
    pub fn public_profile(&self, member: MemberId) -> Result<PublicProfile, Error> {
        let m = self.member(member)?;
        Ok(PublicProfile {
            member,
            name: self.state().name_of(member).map(str::to_owned),
            connection_count: m.connections.len() as u64,
        })
    }

    /// `stats()`.
    pub fn stats(&self) -> Stats {
        let s = self.state();
        Stats {
            requests: RequestState::ALL
                .iter()
                .map(|st| (st.as_str(), s.by_state[state_index(*st)]))
                .collect(),
            connections: s.connection_pairs,
            members: Standing::ALL
                .iter()
                .enumerate()
                .map(|(i, st)| (st.as_str(), s.by_standing[i]))
                .collect(),
            open_flags: s.open_flags.len() as u64,
            unsent_emails: s.unsent,
            events: s.last_seq.0,
        }
    }
}
