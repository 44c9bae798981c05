//! Upgrading a database of an older format to this one, once, when it is opened.
//!
//! Format 3 wrote into each event what format 2 derived while applying it:
//! who is told and when their email is due, whether an outcome counts towards
//! the low-acceptance rule, which flag changed a standing. Format 4 says in
//! each notice how its email goes (on its own, in a digest, or not at all),
//! and gives members a locale and invitations their reminders. Upgrading
//! reads the old log in order, writes each event in today's shape (from
//! format 1 or 2, with the facts the policy in force at that point implied,
//! `Converter`; from format 3, field for field, `legacy3`) and swaps the new
//! log in:
//!
//! 1. the converted log is written to the tree `upgrade:log` and flushed
//!    (a crash here leaves the old database as it was; the next open starts over);
//! 2. one batch marks the database with this format and an `upgrading`
//!    record and is flushed: from here the converted log is the database's;
//! 3. the old log and tails are dropped, the converted records copied into
//!    `log`, flushed, and `upgrade:log` and the `upgrading` record removed.
//!    Opening a database that still has the `upgrading` record repeats this step.
//!
//! Sequence numbers, times and every other field stay as they were; the
//! snapshot, a cache of the old log, is removed. Emails queued before the
//! upgrade keep the rules they were queued under: nothing is skipped for
//! them retroactively.

use crate::codec::{self, COMPACTED_KEY, FORMAT, FORMAT_KEY, LOG_TREE};
use crate::errors::storage;
use crate::legacy::{self, Body};
use crate::legacy3;
use crate::log::{MERGED_BYTES, TAIL_EVENTS};
use crate::snapshot;
use connreq_core::{
    Error, Event, EventBody, FlagId, FlagRule, MemberId, Notice, NotificationKind, OutcomeWindow, Policy,
    Seq, StandingCause,
};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// The tree the converted log is written to before it replaces the old one.
const UPGRADE_TREE: &[u8] = b"upgrade:log";
/// Present while step 3 of an upgrade is unfinished.
pub(crate) const UPGRADING_KEY: &[u8] = b"upgrading";

/// The formats this version upgrades from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OldFormat {
    /// Formats 1 and 2: events without notices.
    One,
    /// Format 3: notices without digests.
    Three,
}

/// An event as read from an older log.
enum Old {
    One(legacy::Event),
    Three(Event),
}

/// Upgrades the database `db` (of format `from`, created under `initial`) to this format.
pub(crate) fn upgrade(
    db: &sled::Db,
    dir: Option<&Path>,
    initial: &Policy,
    from: OldFormat,
) -> Result<(), Error> {
    let ctx = "cannot upgrade the database to this version's format";
    db.drop_tree(UPGRADE_TREE).map_err(storage(ctx))?;
    let target = db.open_tree(UPGRADE_TREE).map_err(storage(ctx))?;
    let mut converter = Converter::new(initial.clone());
    let mut chunk: Vec<Event> = Vec::new();
    let mut bytes = 0usize;
    let mut expected = 1u64;
    for (key, value) in old_records(db)? {
        // Old events in order, each converted only once it is known to be the
        // next (the converter follows the log, and a duplicate would mislead it).
        let old: Vec<(Seq, Old)> = match from {
            OldFormat::One => {
                legacy::decode(&key, &value)?.into_iter().map(|e| (e.seq, Old::One(e))).collect()
            }
            OldFormat::Three => {
                legacy3::decode(&key, &value)?.into_iter().map(|e| (e.seq, Old::Three(e))).collect()
            }
        };
        for (seq, e) in old {
            if seq.0 < expected {
                // A tail merged just before a crash holds events the log holds too.
                continue;
            }
            if seq.0 != expected {
                return Err(Error::StorageError(format!(
                    "{ctx}: damaged event log: expected event {expected}, found {}",
                    seq.0
                )));
            }
            expected += 1;
            let event = match e {
                Old::One(e) => converter.convert(e)?,
                Old::Three(e) => e,
            };
            bytes += codec::encode(std::slice::from_ref(&event))?.len();
            chunk.push(event);
            if bytes >= MERGED_BYTES || chunk.len() >= TAIL_EVENTS {
                write_record(&target, &chunk, ctx)?;
                chunk.clear();
                bytes = 0;
            }
        }
    }
    if !chunk.is_empty() {
        write_record(&target, &chunk, ctx)?;
    }
    db.flush().map_err(storage(ctx))?;
    let mut flip = sled::Batch::default();
    flip.insert(FORMAT_KEY, FORMAT.as_bytes());
    flip.insert(UPGRADING_KEY, b"1".as_slice());
    db.apply_batch(flip).map_err(storage(ctx))?;
    db.flush().map_err(storage(ctx))?;
    if let Some(dir) = dir {
        snapshot::remove(dir);
    }
    finish(db)
}

/// Step 3: the converted log replaces the old log and tails.
pub(crate) fn finish(db: &sled::Db) -> Result<(), Error> {
    let ctx = "cannot finish upgrading the database to this version's format";
    for name in db.tree_names() {
        if name.as_ref() == LOG_TREE || codec::tail_first(&name).is_some() {
            db.drop_tree(&name).map_err(storage(ctx))?;
        }
    }
    let source = db.open_tree(UPGRADE_TREE).map_err(storage(ctx))?;
    let log = db.open_tree(LOG_TREE).map_err(storage(ctx))?;
    let mut last = Seq(0);
    for item in source.iter() {
        let (k, v) = item.map_err(storage(ctx))?;
        last = Seq(codec::seq_of(&k)?.0 + codec::count(&k, &v)? as u64 - 1);
        log.insert(k, v).map_err(storage(ctx))?;
    }
    db.flush().map_err(storage(ctx))?;
    drop(source);
    db.drop_tree(UPGRADE_TREE).map_err(storage(ctx))?;
    let mut done = sled::Batch::default();
    done.remove(UPGRADING_KEY);
    // Every record of the new log is merged already.
    done.insert(COMPACTED_KEY, &codec::key(last));
    db.apply_batch(done).map_err(storage(ctx))?;
    db.flush().map_err(storage(ctx))?;
    Ok(())
}

fn write_record(tree: &sled::Tree, events: &[Event], ctx: &str) -> Result<(), Error> {
    tree.insert(codec::key(events[0].seq), codec::encode(events)?).map_err(storage(ctx))?;
    Ok(())
}

/// The old log's records in order: the `log` tree, then the tails by first event.
fn old_records(db: &sled::Db) -> Result<Vec<(sled::IVec, sled::IVec)>, Error> {
    let ctx = "cannot read the event log to upgrade it";
    let mut records = Vec::new();
    let log = db.open_tree(LOG_TREE).map_err(storage(ctx))?;
    for item in log.iter() {
        records.push(item.map_err(storage(ctx))?);
    }
    let mut tails: Vec<(Seq, sled::IVec)> =
        db.tree_names().into_iter().filter_map(|n| codec::tail_first(&n).map(|first| (first, n))).collect();
    tails.sort();
    for (_, name) in tails {
        for item in db.open_tree(&name).map_err(storage(ctx))?.iter() {
            records.push(item.map_err(storage(ctx))?);
        }
    }
    Ok(records)
}

/// How a flag was last named for a member, for the standing change that follows it.
#[derive(Clone, Copy)]
enum Mention {
    Opened(FlagId),
    Resolved(FlagId),
}

/// Turns events of formats 1 and 2 into today's, following the policy in
/// force and which members have an address, as format 2's `apply` did.
struct Converter {
    policy: Policy,
    has_email: HashSet<MemberId>,
    /// (sender, recipient) of request `n` at index `n - 1`: request events
    /// name only the request, and its notice depends on the party told.
    requests: Vec<(MemberId, MemberId)>,
    open_reported: HashMap<MemberId, FlagId>,
    last_flag: HashMap<MemberId, Mention>,
}

impl Converter {
    fn new(policy: Policy) -> Self {
        Self {
            policy,
            has_email: HashSet::new(),
            requests: Vec::new(),
            open_reported: HashMap::new(),
            last_flag: HashMap::new(),
        }
    }

    /// (sender, recipient) of request `id`, as sent earlier in the log.
    fn parties(&self, id: u64, seq: Seq) -> Result<(MemberId, MemberId), Error> {
        usize::try_from(id)
            .ok()
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| self.requests.get(i))
            .copied()
            .ok_or_else(|| {
                Error::StorageError(format!(
                    "cannot upgrade the database: event {} names request {id}, which was never sent",
                    seq.0
                ))
            })
    }

    /// Format 2 told every notified member in-app, and by email (after the
    /// policy's delay) everyone with an address but for an expiry.
    fn notice(&self, member: MemberId, kind: NotificationKind) -> Notice {
        let emailed = self.has_email.contains(&member) && kind != NotificationKind::InvitationExpired;
        let delay = u64::try_from(self.policy.email_delay.as_millis()).unwrap_or(u64::MAX);
        if emailed { Notice::after_ms(delay) } else { Notice::default() }
    }

    fn window(&self) -> Option<OutcomeWindow> {
        self.policy.low_acceptance_min_resolved.map(|keep| OutcomeWindow { keep })
    }

    fn convert(&mut self, e: legacy::Event) -> Result<Event, Error> {
        let body = match e.body {
            Body::MemberRegistered { member, email, name } => {
                if email.is_some() {
                    self.has_email.insert(member);
                }
                EventBody::MemberRegistered { member, email, name, locale: None }
            }
            Body::InvitationSettingChanged { member, setting } => {
                EventBody::InvitationSettingChanged { member, setting }
            }
            Body::ContactsImported { member, emails } => EventBody::ContactsImported { member, emails },
            Body::InvitationSent { request, sender, recipient, note } => {
                if request.0 != self.requests.len() as u64 + 1 {
                    return Err(Error::StorageError(format!(
                        "cannot upgrade the database: event {} sends request {} out of order",
                        e.seq.0, request.0
                    )));
                }
                self.requests.push((sender, recipient));
                let notice = self.notice(recipient, NotificationKind::InvitationReceived);
                EventBody::InvitationSent { request, sender, recipient, note, notice, reminders: Vec::new() }
            }
            Body::InvitationAccepted { request } => {
                let (sender, _) = self.parties(request.0, e.seq)?;
                let notice = self.notice(sender, NotificationKind::InvitationAccepted);
                EventBody::InvitationAccepted { request, notice, window: self.window() }
            }
            Body::InvitationIgnored { request } => {
                EventBody::InvitationIgnored { request, window: self.window() }
            }
            Body::InvitationDeclined { request, message } => {
                let (sender, _) = self.parties(request.0, e.seq)?;
                let notice = self
                    .policy
                    .notify_on_decline
                    .then(|| self.notice(sender, NotificationKind::InvitationDeclined));
                EventBody::InvitationDeclined { request, message, notice, window: self.window() }
            }
            Body::InvitationWithdrawn { request, message } => {
                let (_, recipient) = self.parties(request.0, e.seq)?;
                let notice = self
                    .policy
                    .notify_on_withdraw
                    .then(|| self.notice(recipient, NotificationKind::InvitationWithdrawn));
                EventBody::InvitationWithdrawn { request, message, notice }
            }
            Body::InvitationExpired { request } => {
                let (sender, _) = self.parties(request.0, e.seq)?;
                let notice = self.notice(sender, NotificationKind::InvitationExpired);
                EventBody::InvitationExpired { request, notice, window: self.window() }
            }
            Body::InvitationCancelled { request, blocker } => {
                EventBody::InvitationCancelled { request, blocker }
            }
            Body::ConnectionRemoved { member, other } => EventBody::ConnectionRemoved { member, other },
            Body::MemberBlocked { blocker, blocked } => EventBody::MemberBlocked { blocker, blocked },
            Body::MemberUnblocked { blocker, blocked } => EventBody::MemberUnblocked { blocker, blocked },
            Body::MemberReported { reporter, reported, reason, request } => {
                EventBody::MemberReported { reporter, reported, reason, request }
            }
            Body::AccountFlagged { flag, member, rule, evidence } => {
                self.last_flag.insert(member, Mention::Opened(flag));
                if rule == FlagRule::Reported {
                    self.open_reported.insert(member, flag);
                }
                EventBody::AccountFlagged { flag, member, rule, evidence }
            }
            Body::FlagEvidenceAdded { flag, member, evidence } => {
                self.last_flag.insert(member, Mention::Opened(flag));
                EventBody::FlagEvidenceAdded { flag, member, evidence }
            }
            Body::FlagResolved { flag, member, decision } => {
                self.last_flag.insert(member, Mention::Resolved(flag));
                if self.open_reported.get(&member) == Some(&flag) {
                    self.open_reported.remove(&member);
                }
                EventBody::FlagResolved { flag, member, decision, moderator: None, note: None }
            }
            Body::StandingChanged { member, from, to, automatic } => {
                let cause = if automatic {
                    self.open_reported.get(&member).map(|f| StandingCause::AutomaticRestriction(*f))
                } else {
                    self.last_flag.get(&member).map(|m| match m {
                        Mention::Opened(f) => StandingCause::Flagged(*f),
                        Mention::Resolved(f) => StandingCause::Resolved(*f),
                    })
                };
                let cause = cause.ok_or_else(|| {
                    Error::StorageError(format!(
                        "cannot upgrade the database: the standing change at event {} follows no flag",
                        e.seq.0
                    ))
                })?;
                EventBody::StandingChanged { member, from, to, cause }
            }
            Body::NotificationsRead { member, ids } => EventBody::NotificationsRead { member, ids },
            Body::EmailSent { email, member } => EventBody::EmailSent { email, member },
            Body::PolicyChanged { policy } => {
                let policy: Policy = (*policy).into();
                self.policy = policy.clone();
                EventBody::PolicyChanged { policy: Box::new(policy) }
            }
        };
        Ok(Event { seq: e.seq, at: e.at, body })
    }
}
