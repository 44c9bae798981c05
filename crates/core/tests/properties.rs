//! Random command sequences on `MemoryNetwork`; after every command the
//! network's invariants hold and the log replays to the same model.

mod common;

use common::*;
use connreq_core::{
    Command, Decision, EmailFrequency, EmailId, EmailKind, EmailStatus, Error, FlagId, InvitationSetting,
    Locale, MemberId, MemoryNetwork, Model, Network, Notification, NotificationId, Policy, PreferenceKind,
    PublicProfile, ReportReason, Request, RequestId, RequestState, ReverseRequest, Seq, SkipReason, Standing,
    Timestamp,
};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const HOUR: i64 = 3_600_000;

#[derive(Clone, Debug)]
enum Op {
    Register { who: u8, email: u8, name: Option<String> },
    Setting { who: u8, setting: u8 },
    Contacts { who: u8, of: u8, form: u8 },
    Send { from: u8, to: u8, note: Option<String>, email: u8 },
    Resend { request: u8, note: Option<String> },
    Accept { request: u8, actor: Option<u8> },
    Ignore { request: u8, actor: Option<u8> },
    Decline { request: u8, actor: Option<u8>, message: Option<String> },
    Withdraw { request: u8, actor: Option<u8>, message: Option<String> },
    RemoveConnection { who: u8, other: u8 },
    Block { blocker: u8, blocked: u8 },
    Unblock { blocker: u8, blocked: u8 },
    ReportMember { reporter: u8, reported: u8, reason: u8 },
    ReportRequest { request: u8, reason: u8, swap: bool },
    MarkRead { who: u8, pick: u8 },
    MarkEmailsSent { pick: u8 },
    SetPreference { who: u8, kind: u8, enabled: bool },
    Frequency { who: u8, daily: bool },
    SetLocale { who: u8, locale: u8 },
    MarkUndeliverable { pick: u8 },
    Expire,
    ResolveFlag { pick: u8, restrict: bool, moderator: Option<u8>, note: Option<String> },
    LiftRestriction { who: u8, moderator: Option<u8> },
    ChangePolicy { policy: u8 },
    WithdrawAll { who: u8, older: u8, message: Option<String> },
    Update { who: u8, form: u8, name: Option<String> },
    Erase { who: u8 },
}

fn text() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        4 => Just(None),
        3 => "[a-zA-Z <>&\"' ]{0,24}".prop_map(Some),
        1 => Just(Some("é".repeat(300))),
        1 => Just(Some("x".repeat(301))),
        1 => Just(Some("line one\nline two".to_owned())),
        1 => Just(Some("carriage\rreturn".to_owned())),
        1 => any::<String>().prop_map(Some),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    (0u8..116, any::<u8>(), any::<u8>(), any::<u8>(), any::<bool>(), text()).prop_map(
        |(kind, a, b, c, flag, text)| {
            let actor = if c % 5 == 0 { Some(b) } else { None };
            match kind {
                0..=1 => Op::Register { who: a, email: b, name: text.filter(|_| flag) },
                2..=3 => Op::Setting { who: a, setting: b },
                4..=5 => Op::Contacts { who: a, of: b, form: c },
                6..=22 => Op::Send { from: a, to: b, note: text, email: c },
                23..=29 => Op::Resend { request: a, note: text },
                30..=40 => Op::Accept { request: a, actor },
                41..=47 => Op::Ignore { request: a, actor },
                48..=55 => Op::Decline { request: a, actor, message: text },
                56..=67 => Op::Withdraw { request: a, actor, message: text },
                68..=70 => Op::RemoveConnection { who: a, other: b },
                71..=74 => Op::Block { blocker: a, blocked: b },
                75..=78 => Op::Unblock { blocker: a, blocked: b },
                79..=83 => Op::ReportMember { reporter: a, reported: b, reason: c },
                84..=87 => Op::ReportRequest { request: a, reason: c, swap: flag && b % 4 == 0 },
                88..=89 => Op::MarkRead { who: a, pick: b },
                90..=91 => Op::MarkEmailsSent { pick: b },
                92..=94 => Op::Expire,
                95..=98 => {
                    Op::ResolveFlag { pick: b, restrict: flag && c % 3 == 0, moderator: actor, note: text }
                }
                99 if c % 4 == 0 => Op::ChangePolicy { policy: b },
                99 if c % 4 == 2 => Op::LiftRestriction { who: a, moderator: actor },
                99 => Op::Expire,
                100..=101 => Op::WithdrawAll { who: a, older: b, message: text },
                102..=104 => Op::Update { who: a, form: b, name: text.filter(|_| flag) },
                105 => Op::Erase { who: a },
                106..=108 => Op::SetPreference { who: a, kind: b, enabled: flag },
                109..=110 => Op::Frequency { who: a, daily: flag },
                111 => Op::SetLocale { who: a, locale: b },
                _ => Op::MarkUndeliverable { pick: b },
            }
        },
    )
}

fn step() -> impl Strategy<Value = i64> {
    prop_oneof![
        10 => 0i64..2_000,
        6 => 0i64..3 * HOUR,
        3 => 0i64..MS_PER_DAY,
        1 => 0i64..40 * MS_PER_DAY,
    ]
}

fn policies() -> Vec<Policy> {
    vec![
        Policy::standard(),
        Policy::linkedin(),
        Policy { reverse_request: ReverseRequest::Accept, ..Policy::standard() },
        Policy {
            max_note_chars: 20,
            notify_on_withdraw: false,
            notify_on_decline: false,
            email_delay: Duration::ZERO,
            date_context_after: days(1),
            reverse_request: ReverseRequest::Accept,
            weekly_invite_limit: Some(3),
            resend_cooldown: Some(days(2)),
            max_connections: 2,
            pending_ttl: Some(days(20)),
            review_withdrawals_same_person: Some(2),
            review_window: days(30),
            review_after_reports: Some(2),
            restrict_after_reports: Some(3),
            review_report_share: Some(0.4),
            review_resends_same_person: Some(2),
            review_resends_after_harassment: Some(1),
            low_acceptance_min_resolved: Some(3),
            low_acceptance_max_rate: Some(0.5),
            burst_per_hour: Some(3),
            max_outstanding: Some(3),
            digest_hour: 0,
            invitation_reminders: vec![Duration::from_secs(3_600), days(3)],
        },
        Policy {
            invitation_reminders: vec![Duration::from_secs(600), days(1), days(2)],
            digest_hour: 13,
            email_delay: Duration::from_secs(30),
            pending_ttl: Some(days(2)),
            ..Policy::linkedin()
        },
        Policy {
            weekly_invite_limit: Some(2),
            review_withdrawals_same_person: Some(1),
            review_after_reports: Some(1),
            restrict_after_reports: Some(2),
            review_report_share: None,
            review_resends_same_person: Some(1),
            burst_per_hour: Some(2),
            low_acceptance_min_resolved: Some(2),
            low_acceptance_max_rate: Some(0.6),
            ..Policy::standard()
        },
    ]
}

struct World {
    net: MemoryNetwork,
    policy: Policy,
    pool: Vec<MemberId>,
    now: Timestamp,
}

impl World {
    fn new(policy: Policy, members: u64) -> Self {
        let net = MemoryNetwork::new(policy.clone()).unwrap();
        for id in 1..=members {
            let email = (id % 3 != 0).then(|| address(id));
            net.register(m(id), email.as_deref(), Some(&name(id)), T0).unwrap();
        }
        let pool = (1..=members + 2).map(m).collect();
        World { net, policy, pool, now: T0 }
    }

    /// Mostly a registered member; one time in twenty, one of the ids that
    /// start unregistered.
    fn member(&self, i: u8) -> MemberId {
        let registered = self.registered();
        if i < 13 || registered.is_empty() {
            self.pool[self.pool.len() - 1 - (i as usize % 2)]
        } else {
            registered[i as usize % registered.len()]
        }
    }

    /// Mostly a registered member other than `not`.
    fn other_member(&self, i: u8, not: MemberId) -> MemberId {
        let others: Vec<MemberId> = self.registered().into_iter().filter(|x| *x != not).collect();
        if i < 13 || others.is_empty() { self.member(i) } else { others[i as usize % others.len()] }
    }

    fn registered(&self) -> Vec<MemberId> {
        self.pool.iter().copied().filter(|x| self.net.public_profile(*x).is_ok()).collect()
    }

    fn request_count(&self) -> u64 {
        self.net.stats().unwrap().requests.values().sum()
    }

    /// One of the requests so far, or (sometimes) an id that does not exist.
    fn request(&self, i: u8) -> RequestId {
        RequestId(i as u64 % (self.request_count() + 1) + 1)
    }

    /// Mostly an open request; otherwise any request id.
    fn open_request(&self, i: u8) -> RequestId {
        let open: Vec<RequestId> = (1..=self.request_count())
            .map(RequestId)
            .filter(|id| self.net.request(*id).is_ok_and(|r| r.state.is_open()))
            .collect();
        if open.is_empty() || i < 64 { self.request(i) } else { open[i as usize % open.len()] }
    }

    fn parties(&self, id: RequestId) -> Option<(MemberId, MemberId)> {
        self.net.request(id).ok().map(|r| (r.sender, r.recipient))
    }

    fn run(&self, op: &Op) -> Result<(), Error> {
        let (net, t) = (&self.net, self.now);
        match op {
            Op::Register { who, email, name } => {
                let id = self.member(*who);
                let email = match email % 4 {
                    0 => None,
                    1 => Some("not an address".to_owned()),
                    _ => Some(address(id.0)),
                };
                net.register(id, email.as_deref(), name.as_deref(), t)
            }
            Op::Setting { who, setting } => {
                let s = InvitationSetting::ALL.get(*setting as usize % 8).copied().unwrap_or_default();
                net.set_invitation_setting(self.member(*who), s, t)
            }
            Op::Contacts { who, of, form } => {
                let of = self.member(*of).0;
                let email = match form % 4 {
                    0 => "not an address".to_owned(),
                    1 => address(of).to_uppercase(),
                    _ => address(of),
                };
                net.import_contacts(self.member(*who), &[email.as_str()], t)
            }
            Op::Send { from, to, note, email } => {
                let from = self.member(*from);
                let to = self.other_member(*to, from);
                let email = match email % 4 {
                    0 | 1 => None,
                    2 => Some(address(to.0).to_uppercase()),
                    _ => Some(address(to.0 + 1)),
                };
                let standing = net.standing(from).ok();
                let sent = net.send(from, to, note.as_deref(), email.as_deref(), t);
                if sent.is_ok() {
                    assert_ne!(standing, Some(Standing::Restricted), "a restricted member sent");
                }
                sent.map(drop)
            }
            Op::Resend { request, note } => {
                let (from, to) = self.parties(self.request(*request)).unwrap_or((A, B));
                let standing = net.standing(from).ok();
                let sent = net.send(from, to, note.as_deref(), None, t);
                if sent.is_ok() {
                    assert_ne!(standing, Some(Standing::Restricted), "a restricted member sent");
                }
                sent.map(drop)
            }
            Op::Accept { request, actor } => {
                let id = self.open_request(*request);
                let who = actor.map_or_else(|| self.parties(id).map_or(A, |p| p.1), |a| self.member(a));
                net.accept(who, id, t)
            }
            Op::Ignore { request, actor } => {
                let id = self.open_request(*request);
                let who = actor.map_or_else(|| self.parties(id).map_or(A, |p| p.1), |a| self.member(a));
                let sender = self.parties(id).map_or(A, |p| p.0);
                self.unnoticed(sender, "an ignore", || net.ignore(who, id, t))
            }
            Op::Decline { request, actor, message } => {
                let id = self.open_request(*request);
                let who = actor.map_or_else(|| self.parties(id).map_or(A, |p| p.1), |a| self.member(a));
                net.decline(who, id, message.as_deref(), t)
            }
            Op::Withdraw { request, actor, message } => {
                let id = self.open_request(*request);
                let who = actor.map_or_else(|| self.parties(id).map_or(A, |p| p.0), |a| self.member(a));
                net.withdraw(who, id, message.as_deref(), t)
            }
            Op::RemoveConnection { who, other } => {
                let who = self.member(*who);
                let other = match net.connections(who) {
                    Ok(c) if !c.is_empty() && other % 4 != 0 => c[*other as usize % c.len()],
                    _ => self.member(*other),
                };
                net.remove_connection(who, other, t)
            }
            Op::Block { blocker, blocked } => {
                let blocker = self.member(*blocker);
                let blocked = self.other_member(*blocked, blocker);
                self.unnoticed(blocked, "a block", || net.block(blocker, blocked, t))
            }
            Op::Unblock { blocker, blocked } => {
                let members = self.registered();
                let blocks: Vec<(MemberId, MemberId)> = members
                    .iter()
                    .flat_map(|x| members.iter().map(move |y| (*x, *y)))
                    .filter(|(x, y)| x != y && net.is_blocked(*x, *y).unwrap())
                    .collect();
                let (x, y) = match blocks.len() {
                    0 => (self.member(*blocker), self.other_member(*blocked, self.member(*blocker))),
                    n if blocked % 4 != 0 => blocks[*blocker as usize % n],
                    _ => (self.member(*blocker), self.other_member(*blocked, self.member(*blocker))),
                };
                net.unblock(x, y, t)
            }
            Op::ReportMember { reporter, reported, reason } => {
                let reason = ReportReason::ALL[*reason as usize % 3];
                let reporter = self.member(*reporter);
                let reported = self.other_member(*reported, reporter);
                self.unnoticed(reported, "a report", || net.report(reporter, reported, reason, None, t))
            }
            Op::ReportRequest { request, reason, swap } => {
                let id = self.open_request(*request);
                let (s, r) = self.parties(id).unwrap_or((A, B));
                let (reporter, reported) = if *swap { (s, r) } else { (r, s) };
                let reason = ReportReason::ALL[*reason as usize % 3];
                self.unnoticed(reported, "a report", || net.report(reporter, reported, reason, Some(id), t))
            }
            Op::MarkRead { who, pick } => {
                let who = self.member(*who);
                let ids: Vec<NotificationId> = match net.notifications(who, true) {
                    Ok(n) if pick % 5 != 0 => n.iter().take(*pick as usize % 4 + 1).map(|n| n.id).collect(),
                    _ => vec![NotificationId(*pick as u64)],
                };
                net.mark_read(who, &ids, t)
            }
            Op::MarkEmailsSent { pick } => {
                let due = net.pending_emails(Some(t)).unwrap();
                let ids: Vec<EmailId> = if pick % 7 == 0 {
                    vec![EmailId(*pick as u64)]
                } else {
                    due.iter().take(*pick as usize % 5).map(|e| e.id).collect()
                };
                let unsent: BTreeSet<EmailId> = net.pending_emails(None)?.iter().map(|e| e.id).collect();
                let distinct: BTreeSet<EmailId> = ids.iter().copied().collect();
                let marked = net.mark_emails_sent(&ids, t)?;
                assert_eq!(marked as usize, distinct.intersection(&unsent).count(), "each unsent email once");
                assert_eq!(net.mark_emails_sent(&ids, t)?, 0, "a second marking marks nothing");
                Ok(())
            }
            Op::SetPreference { who, kind, enabled } => {
                let who = self.member(*who);
                let kind = PreferenceKind::ALL[*kind as usize % PreferenceKind::ALL.len()];
                net.set_email_preference(who, kind, *enabled, t)?;
                let prefs = net.email_preferences(who)?;
                assert!(
                    prefs
                        .iter()
                        .filter(|(k, _)| kind == PreferenceKind::All || *k == kind)
                        .all(|(_, on)| on == enabled)
                );
                Ok(())
            }
            Op::Frequency { who, daily } => {
                let who = self.member(*who);
                let frequency = if *daily { EmailFrequency::Daily } else { EmailFrequency::Immediate };
                net.set_email_frequency(who, frequency, t)?;
                assert_eq!(net.email_frequency(who)?, frequency);
                Ok(())
            }
            Op::SetLocale { who, locale } => {
                let who = self.member(*who);
                let locale = Locale::ALL[*locale as usize % Locale::ALL.len()];
                net.set_locale(who, locale, t)?;
                assert_eq!(net.locale(who)?, locale);
                Ok(())
            }
            Op::MarkUndeliverable { pick } => {
                let due = net.pending_emails(Some(t))?;
                let ids: Vec<EmailId> = due.iter().take(*pick as usize % 3).map(|e| e.id).collect();
                let skipped = net.mark_emails_undeliverable(&ids, t)?;
                assert_eq!(skipped as usize, ids.len());
                for id in &ids {
                    let e = net.email(*id)?;
                    assert_eq!(
                        (e.status, e.skip_reason),
                        (EmailStatus::Skipped, Some(SkipReason::InvalidAddress))
                    );
                }
                Ok(())
            }
            Op::Expire => net.expire(t).map(drop),
            Op::ResolveFlag { pick, restrict, moderator, note } => {
                let queue = net.review_queue().unwrap();
                let flag = if queue.is_empty() || pick % 6 == 0 {
                    FlagId(*pick as u64 % 4)
                } else {
                    queue[*pick as usize % queue.len()].id
                };
                let decision = if *restrict { Decision::Restrict } else { Decision::Clear };
                let moderator = moderator.map(|m| self.member(m));
                net.resolve_flag_by(flag, decision, moderator, note.as_deref(), t)
            }
            Op::LiftRestriction { who, moderator } => {
                let moderator = moderator.map(|m| self.member(m));
                net.lift_restriction(self.member(*who), moderator, Some("appeal upheld"), t)
            }
            Op::ChangePolicy { policy } => {
                let all = policies();
                let policy = all[*policy as usize % all.len()].clone();
                net.execute(Command::ChangePolicy { policy }, t).map(drop)
            }
            Op::WithdrawAll { who, older, message } => {
                let older = (older % 3 != 0).then(|| days(u64::from(older % 4)));
                net.withdraw_all(self.member(*who), older, message.as_deref(), t).map(drop)
            }
            Op::Update { who, form, name } => {
                let who = self.member(*who);
                let email = match form % 4 {
                    0 => None,
                    1 => Some(None),
                    2 => Some(Some(address(u64::from(*form)))),
                    _ => Some(Some("not an address".to_owned())),
                };
                let name = if form % 8 < 4 { Some(name.as_deref()) } else { None };
                net.update_member(who, email.as_ref().map(Option::as_deref), name, t)
            }
            Op::Erase { who } => {
                let who = self.member(*who);
                let erased = net.erase_member(who, t);
                if erased.is_ok() {
                    assert!(matches!(net.public_profile(who), Err(Error::UnknownMember(_))));
                }
                erased
            }
        }
    }

    /// What `who` can see of their own requests and inbox.
    fn own_view(&self, who: MemberId) -> Option<(Vec<Request>, Vec<Request>, Vec<Notification>)> {
        let net = &self.net;
        Some((net.sent(who, None).ok()?, net.received(who, None).ok()?, net.notifications(who, false).ok()?))
    }

    /// Runs `command`; when it succeeds, `who` sees nothing change.
    fn unnoticed(
        &self,
        who: MemberId,
        what: &str,
        command: impl FnOnce() -> Result<(), Error>,
    ) -> Result<(), Error> {
        let before = self.own_view(who);
        command()?;
        assert_eq!(self.own_view(who), before, "{what} changed what {who} sees");
        Ok(())
    }

    fn counts_and_profiles(&self) -> Vec<(u64, PublicProfile)> {
        self.registered()
            .into_iter()
            .map(|x| (self.net.connection_count(x).unwrap(), self.net.public_profile(x).unwrap()))
            .collect()
    }

    fn check_invariants(&self, after: &str) {
        let net = &self.net;
        let members = self.registered();
        let stats = net.stats().unwrap();

        let mut degree_sum = 0;
        for x in &members {
            let cs = net.connections(*x).unwrap();
            assert!(cs.windows(2).all(|w| w[0] < w[1]), "{after}: connections of {x} sorted and distinct");
            assert!(!cs.contains(x), "{after}: {x} is connected to themselves");
            assert_eq!(net.connection_count(*x).unwrap(), cs.len() as u64, "{after}");
            assert_eq!(net.public_profile(*x).unwrap().connection_count, cs.len() as u64, "{after}");
            for y in &cs {
                assert!(net.connections(*y).unwrap().contains(x), "{after}: {x}-{y} is one-sided");
                assert!(net.are_connected(*y, *x).unwrap(), "{after}");
            }
            degree_sum += cs.len() as u64;
            for r in net.sent(*x, None).unwrap() {
                assert_ne!(r.state, RequestState::Ignored, "{after}: the sender saw an ignore");
            }
        }
        assert_eq!(degree_sum, 2 * stats.connections, "{after}");

        let total = self.request_count();
        let mut open = BTreeSet::new();
        let mut by_state: BTreeMap<&str, u64> = BTreeMap::new();
        for id in 1..=total {
            let r = net.request(RequestId(id)).unwrap();
            *by_state.entry(r.state.as_str()).or_default() += 1;
            if r.state.is_open() {
                assert!(open.insert((r.sender, r.recipient)), "{after}: two open requests {r:?}");
                assert!(
                    !net.are_connected(r.sender, r.recipient).unwrap(),
                    "{after}: open between connected"
                );
                assert!(!net.is_blocked(r.sender, r.recipient).unwrap(), "{after}: open across a block");
                assert!(!net.is_blocked(r.recipient, r.sender).unwrap(), "{after}: open across a block");
            }
        }
        for s in RequestState::ALL {
            assert_eq!(stats.requests[s.as_str()], by_state.get(s.as_str()).copied().unwrap_or(0), "{after}");
        }
        assert!(net.request(RequestId(total + 1)).is_err());

        let events = net.events(Seq(0), None).unwrap();
        assert_eq!(events.len() as u64, stats.events, "{after}");
        for (i, e) in events.iter().enumerate() {
            assert_eq!(e.seq, Seq(i as u64 + 1), "{after}: gap in the log");
        }
        let pending = net.pending_emails(None).unwrap();
        assert_eq!(stats.unsent_emails, pending.len() as u64, "{after}");
        for e in &pending {
            // SPEC §10: nothing queued is stale, about a member its reader blocked, or of a kind switched off.
            assert_eq!((e.status, e.skip_reason), (EmailStatus::Queued, None), "{after}");
            let off = net
                .email_preferences(e.member)
                .unwrap()
                .into_iter()
                .find(|(k, _)| k.as_str() == e.kind.as_str());
            assert!(off.is_none_or(|(_, on)| on), "{after}: {e:?} is of a kind its member switched off");
            if let Some(id) = e.request_id {
                let r = net.request(id).unwrap();
                let other = if r.sender == e.member { r.recipient } else { r.sender };
                // (An erased member is unknown to every query: nobody blocks a tombstone.)
                assert!(
                    !net.is_blocked(e.member, other).unwrap_or(false),
                    "{after}: {e:?} is about a member its reader blocked"
                );
                match e.kind {
                    EmailKind::InvitationReceived => {
                        assert!(r.state.is_open(), "{after}: {e:?} is stale ({r:?})")
                    }
                    EmailKind::InvitationReminder => {
                        assert_eq!(r.state, RequestState::Pending, "{after}: {e:?} reminds of {r:?}")
                    }
                    _ => {}
                }
            } else {
                assert_eq!(e.kind, EmailKind::Digest, "{after}");
                assert!(e.body.contains("\n- "), "{after}: an empty digest is queued: {e:?}");
            }
        }
        assert_eq!(stats.open_flags, net.review_queue().unwrap().len() as u64, "{after}");
        // Every flag is explained by its evidence: events in the log, each
        // about the member flagged (they acted, or were acted on), in order.
        for flag in net.read(|model| model.all_flags()).unwrap() {
            let behind = net.flag_events(flag.id).unwrap();
            let mut evidence = flag.evidence.clone();
            evidence.sort_unstable();
            evidence.dedup();
            assert_eq!(behind.iter().map(|e| e.seq).collect::<Vec<_>>(), evidence, "{after}: {flag:?}");
            for e in &behind {
                assert!(
                    e.actor == Some(flag.member) || e.subject == Some(flag.member),
                    "{after}: {flag:?} holds {e:?}, which is not about the member"
                );
            }
            assert_eq!(flag.resolved_at.is_some(), flag.status != connreq_core::FlagStatus::Open, "{after}");
        }
        assert_eq!(stats.members.values().sum::<u64>(), members.len() as u64, "{after}");

        for x in &members {
            let unread = net.notifications(*x, true).unwrap().len() as u64;
            assert_eq!(net.unread_count(*x).unwrap(), unread, "{after}: the unread badge of {x}");
        }

        let live = net.read(|model| model.clone()).unwrap();
        let problems = live.invariant_violations();
        assert!(problems.is_empty(), "{after}: {problems:?}");
        let replayed = Model::replay(self.policy.clone(), &net.log());
        assert!(
            replayed == live,
            "{after}: the log does not replay to the live model: {:?}",
            replayed.differences(&live)
        );
        // Applying events decides nothing: replayed under another starting
        // policy, the same events give the same state (only the policy differs).
        let other = if self.policy == Policy::linkedin() { Policy::standard() } else { Policy::linkedin() };
        let differences = Model::replay(other, &net.log()).differences(&live);
        assert!(
            differences.iter().all(|d| d.starts_with("the policy ")),
            "{after}: the state depends on the policy it was replayed under: {differences:?}"
        );
    }
}

fn config() -> ProptestConfig {
    let default = ProptestConfig::default();
    let cases = if std::env::var_os("PROPTEST_CASES").is_some() { default.cases } else { 256 };
    ProptestConfig { cases, ..default }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_command_sequences_keep_every_invariant_and_replay_exactly(
        policy in 0usize..5,
        members in 2u64..=8,
        ops in prop::collection::vec((step(), op()), 1..200),
    ) {
        let mut world = World::new(policies()[policy].clone(), members);
        world.check_invariants("registration");
        for (i, (dt, op)) in ops.iter().enumerate() {
            world.now = Timestamp(world.now.0 + dt);
            let before = world.net.read(|model| model.clone()).unwrap();
            let profiles = world.counts_and_profiles();
            let result = world.run(op);
            let label = format!("op {i} {op:?} -> {result:?}");
            match &result {
                Err(Error::RateLimited { until, .. } | Error::CooldownActive { until, .. }) => {
                    prop_assert!(*until > world.now, "{}: the wait is already over", label);
                    let after = world.net.read(|model| model.clone()).unwrap();
                    prop_assert!(after == before, "{}: a refused command changed the network", label);
                }
                Err(Error::InvitationNotAllowed(_)) if matches!(op, Op::Send { .. }) => {
                    // A wrong address given is counted (SPEC §18): that event, and nothing else.
                    let after = world.net.read(|model| model.clone()).unwrap();
                    let added = &world.net.log()[before.last_seq().0 as usize..];
                    prop_assert!(
                        added.is_empty() || (added.len() == 1 && added[0].body.kind() == "wrong_address_given"),
                        "{}: a refused send recorded {:?}", label, added
                    );
                    prop_assert!(added.len() == 1 || after == before, "{}: a refused command changed the network", label);
                }
                Err(_) => {
                    let after = world.net.read(|model| model.clone()).unwrap();
                    prop_assert!(after == before, "{}: a refused command changed the network", label);
                }
                Ok(()) if matches!(op, Op::Withdraw { .. }) => {
                    prop_assert_eq!(world.counts_and_profiles(), profiles, "{}", label);
                }
                Ok(()) => {}
            }
            world.check_invariants(&label);
        }
    }
}
