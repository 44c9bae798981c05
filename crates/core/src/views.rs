//! Queries: the records SPEC §8 returns, each shown as its viewer may see it.

use crate::error::Error;
use crate::ids::{EmailId, FlagId, MemberId, NotificationId, RequestId, Seq};
use crate::kinds::{
    EmailFrequency, EmailKind, EmailStatus, FlagRule, FlagStatus, InvitationSetting, Locale,
    NotificationKind, PreferenceKind, RequestState, SkipReason, Standing,
};
use crate::model::Model;
use crate::records::{Mail, NotificationRecord, Party, RequestRecord, RequestTexts, state_index};
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

/// An email: queued, sent, or skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    /// Its id: the id of the notification it carries, or of its own record.
    pub id: EmailId,
    /// To whom.
    pub member: MemberId,
    /// Their address (as it is now: an unsent email goes to a changed address).
    pub address: String,
    /// What it is: a notification kind, `invitation_reminder` or `digest`.
    pub kind: EmailKind,
    /// One line, member text as written.
    pub subject: String,
    /// The plain-text part, member text as written.
    pub body: String,
    /// The HTML part, member text escaped.
    pub html: String,
    /// When it is due.
    pub due_at: Timestamp,
    /// When it was handed to a mail server.
    pub sent_at: Option<Timestamp>,
    /// `queued`, `sent` or `skipped`.
    pub status: EmailStatus,
    /// Why it was skipped.
    pub skip_reason: Option<SkipReason>,
    /// The notification it carries (none for a reminder or a digest).
    pub notification: Option<NotificationId>,
    /// The request it is about (none for a digest).
    pub request_id: Option<RequestId>,
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
            let Some(v) = self.seen_request(id, r, party) else { continue };
            if filter.is_some_and(|f| f != v.state) {
                continue;
            }
            out.push(v);
        }
        out.reverse();
        Ok(out)
    }

    /// Request `id` (record `r`) as `party` sees it, if it is in their views.
    pub(crate) fn seen_request(&self, id: RequestId, r: &RequestRecord, party: Party) -> Option<Request> {
        let seen = self.state().seen_by(id, r, party)?;
        let mut v = view(id, r, self.state().texts_of(id, r), seen.state);
        v.updated_at = seen.since;
        if let Some(own) = seen.own_message {
            v.message = own.map(str::to_owned);
        }
        Some(v)
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
            .filter(|(_, n)| !unread_only || !n.read)
            .filter_map(|(i, n)| self.notification(i, n))
            .collect();
        out.reverse();
        Ok(out)
    }

    /// A page of a member's notifications, newest first: those with an id
    /// below `before` (all when `None`) and above `after`, at most `limit`.
    /// Only the page is rendered, so a screen showing the newest few of a
    /// long inbox, or a stream catching up after an id, costs what it shows.
    pub fn notifications_page(
        &self,
        member: MemberId,
        before: Option<NotificationId>,
        after: NotificationId,
        limit: usize,
    ) -> Result<Vec<Notification>, Error> {
        let m = self.member(member)?;
        let below = before.map_or(u64::MAX, |b| b.0);
        Ok(self
            .state()
            .inbox_of(m)
            .skip_while(|(i, _)| *i as u64 + 1 >= below)
            .take_while(|(i, _)| *i as u64 + 1 > after.0)
            .filter_map(|(i, n)| self.notification(i, n))
            .take(limit)
            .collect())
    }

    /// Notification record `i` (`n`) as its member sees it, its text rendered.
    fn notification(&self, i: usize, n: &NotificationRecord) -> Option<Notification> {
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
    }

    /// How many of a member's notifications are unread (the badge count).
    pub fn unread_count(&self, member: MemberId) -> Result<u64, Error> {
        Ok(u64::from(self.member(member)?.unread))
    }

    /// The email with this id, rendered.
    pub fn email(&self, id: EmailId) -> Result<Email, Error> {
        self.email_with_link(id, None)
    }

    /// The email with this id, rendered with `unsubscribe`, the link that
    /// switches its kind off, when the network has one.
    pub fn email_with_link(&self, id: EmailId, unsubscribe: Option<&str>) -> Result<Email, Error> {
        let state = self.state();
        let e = state.email(id).ok_or_else(|| Error::NotFound(id.to_string()))?;
        let index = id.0 as usize - 1;
        let address = state.email_of(e.member).map(|a| a.as_str().to_owned()).unwrap_or_default();
        let rendered = render::email(state, self.policy(), index, e.member, unsubscribe);
        let status = match (e.sent_at, e.skipped) {
            (Some(_), _) => EmailStatus::Sent,
            (None, Some(_)) => EmailStatus::Skipped,
            (None, None) => EmailStatus::Queued,
        };
        let record = state.notifications.get(index);
        let carries_notification = record.is_some_and(|n| n.is_notification());
        let request_id = record.map(|n| n.request).filter(|r| r.0 != 0);
        Ok(Email {
            id,
            member: e.member,
            address,
            kind: e.kind,
            subject: rendered.subject,
            body: rendered.text,
            html: rendered.html,
            due_at: e.due_at,
            sent_at: e.sent_at,
            status,
            skip_reason: e.skipped,
            notification: carries_notification.then_some(NotificationId(id.0)),
            request_id,
        })
    }

    /// Who gets email `id`, and what kind of email it is (without rendering it).
    pub fn email_recipient(&self, id: EmailId) -> Option<(MemberId, EmailKind)> {
        self.state().email(id).map(|e| (e.member, e.kind))
    }

    /// The ids of the unsent emails due at or before `due_before` (all unsent
    /// when `None`), by due time.
    pub fn due_emails(&self, due_before: Option<Timestamp>) -> Vec<EmailId> {
        let s = self.state();
        let from = s.oldest_unsent.min(s.notifications.len());
        let mut due: Vec<(Timestamp, EmailId)> = s
            .notifications
            .iter_from(from)
            .filter(|(_, n)| n.unsent() && n.is_notification())
            .filter_map(|(i, _)| s.email(EmailId(i as u64 + 1)))
            .filter(|e| due_before.is_none_or(|t| e.due_at <= t))
            .map(|e| (e.due_at, EmailId(e.notification.0)))
            .collect();
        let scheduled = s.due.iter().take_while(|(at, _)| due_before.is_none_or(|t| *at <= t));
        due.extend(scheduled.map(|(at, i)| (*at, EmailId(*i as u64 + 1))));
        // Ids follow creation time; a shorter email delay after a policy change,
        // and reminders and digests, are how due times fall out of id order.
        due.sort_unstable();
        due.into_iter().map(|(_, id)| id).collect()
    }

    /// `pending_emails(due_before)`: unsent emails due at or before the time
    /// (all unsent when `None`), by due time. A skipped email is never listed.
    pub fn pending_emails(&self, due_before: Option<Timestamp>) -> Vec<Email> {
        self.due_emails(due_before).into_iter().filter_map(|id| self.email(id).ok()).collect()
    }

    /// Every email of `member`'s, whatever its status, oldest first.
    pub fn emails_of(&self, member: MemberId) -> Result<Vec<Email>, Error> {
        let m = self.member(member)?;
        let s = self.state();
        let mut ids: Vec<usize> = s.inbox_of(m).map(|(i, _)| i).collect();
        ids.extend(s.scheduled.iter().filter(|(_, e)| e.member == member).map(|(i, _)| *i));
        ids.sort_unstable();
        Ok(ids.into_iter().filter_map(|i| self.email(EmailId(i as u64 + 1)).ok()).collect())
    }

    /// `email_preferences(member)`: each kind a member can switch, on or off.
    pub fn email_preferences(&self, member: MemberId) -> Result<Vec<(PreferenceKind, bool)>, Error> {
        let m = self.member(member)?;
        let off = self.state().email_off_of(member, m);
        Ok(PreferenceKind::EACH.iter().map(|k| (*k, off & k.bits() == 0)).collect())
    }

    /// `email_frequency(member)`.
    pub fn email_frequency(&self, member: MemberId) -> Result<EmailFrequency, Error> {
        let m = self.member(member)?;
        Ok(if m.mail.daily() { EmailFrequency::Daily } else { EmailFrequency::Immediate })
    }

    /// Who may invite the member (SPEC §1, §11).
    pub fn invitation_setting(&self, member: MemberId) -> Result<InvitationSetting, Error> {
        Ok(self.member(member)?.setting)
    }

    /// `locale(member)`: the language of the member's texts.
    pub fn locale(&self, member: MemberId) -> Result<Locale, Error> {
        self.member(member)?;
        Ok(self.state().locale_of(member))
    }

    /// `standing(member)`.
    pub fn standing(&self, member: MemberId) -> Result<Standing, Error> {
        Ok(self.member(member)?.standing)
    }

    /// Whether a moderator's decision restricts `member`: what
    /// `lift_restriction` undoes (an automatic restriction ends with its flag).
    pub fn restricted_by_decision(&self, member: MemberId) -> Result<bool, Error> {
        self.member(member)?;
        Ok(self.state().moderation.get(&member).is_some_and(|m| m.restricted_by_decision))
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
            if n.is_notification() {
                *by_kind.entry(n.kind).or_default() += 1;
            }
            emails += u64::from(!matches!(n.mail(), Mail::None | Mail::InDigest));
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

    /// The request as `viewer` sees it: their sent or received view. A member
    /// who is neither its sender nor its recipient gets `NotFound`, as for an
    /// unknown id (a server must not reveal that the request exists).
    pub fn request_seen_by(&self, viewer: MemberId, id: RequestId) -> Result<Request, Error> {
        let r = self.request_of(id)?;
        let party = match (r.sender == viewer, r.recipient == viewer) {
            (true, _) => Party::Sender,
            (_, true) => Party::Recipient,
            _ => return Err(Error::NotFound(id.to_string())),
        };
        // Not in their views at all (a withdrawal they were not told of): as unknown.
        let seen = self.state().seen_by(id, r, party).ok_or_else(|| Error::NotFound(id.to_string()))?;
        let mut v = view(id, r, self.state().texts_of(id, r), seen.state);
        v.updated_at = seen.since;
        if let Some(own) = seen.own_message {
            v.message = own.map(str::to_owned);
        }
        Ok(v)
    }

    /// The id of the newest notification of the whole network (0 before any):
    /// ids increase by one per notification, across members.
    pub fn last_notification_id(&self) -> NotificationId {
        NotificationId(self.state().notifications.len() as u64)
    }

    /// Every member's notifications with an id above `after`, oldest first, at
    /// most `limit` of them: what a live feed fans out after a write.
    pub fn notifications_after(&self, after: NotificationId, limit: usize) -> Vec<Notification> {
        let s = self.state();
        let from = usize::try_from(after.0).unwrap_or(usize::MAX).min(s.notifications.len());
        s.notifications
            .iter_from(from)
            .filter(|(_, n)| n.is_notification())
            .take(limit)
            .filter_map(|(i, n)| self.notification(i, n))
            .collect()
    }

    /// Unsent emails due at or before `before`, by due time, at most `limit`.
    pub fn emails_due(&self, before: Timestamp, limit: usize) -> Vec<Email> {
        self.due_emails(Some(before)).into_iter().take(limit).filter_map(|id| self.email(id).ok()).collect()
    }

    /// When the first unsent email is due, if there is one.
    pub fn next_email_due(&self) -> Option<Timestamp> {
        let s = self.state();
        let from = s.oldest_unsent.min(s.notifications.len());
        let immediate = s
            .notifications
            .iter_from(from)
            .filter(|(_, n)| n.unsent() && n.is_notification())
            .find_map(|(i, _)| s.email(EmailId(i as u64 + 1)))
            .map(|e| e.due_at);
        let scheduled = s.due.first().map(|(at, _)| *at);
        immediate.into_iter().chain(scheduled).min()
    }
}
