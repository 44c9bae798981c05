//! Random scenarios for property tests (feature `testing`): a policy and a
//! sequence of commands over a small pool of members, with time moving
//! forward. Shared by the core's, the store's and the fuzzers' tests so they
//! all explore the same space.

use crate::command::Command;
use crate::ids::{EmailId, FlagId, MemberId, NotificationId, RequestId};
use crate::kinds::{Decision, EmailFrequency, InvitationSetting, Locale, PreferenceKind, ReportReason};
use crate::policy::{Policy, ReverseRequest};
use crate::time::{DAY_MS, Timestamp};
use proptest::prelude::*;
use std::time::Duration;

/// The first time of every scenario: 2026-01-01T00:00:00Z.
pub const START: Timestamp = Timestamp(1_767_225_600_000);

/// One step: wait `advance_ms`, then run `command`.
#[derive(Clone, Debug)]
pub struct Step {
    /// Milliseconds since the previous step.
    pub advance_ms: i64,
    /// What to run.
    pub command: Command,
}

/// A policy and the steps to run under it. Members 1..=`members` are
/// registered by the first steps (most with an email address).
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The policy.
    pub policy: Policy,
    /// The steps, registrations first.
    pub steps: Vec<Step>,
}

fn member(pool: u64) -> impl Strategy<Value = MemberId> {
    prop_oneof![20 => (1..=pool).prop_map(MemberId), 1 => Just(MemberId(u64::MAX))]
}

fn request() -> impl Strategy<Value = RequestId> {
    (1u64..=24).prop_map(RequestId)
}

fn text() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        6 => Just(None),
        3 => "[a-zA-Z <>&é\n]{0,20}".prop_map(Some),
        1 => Just(Some("x".repeat(301))),
        1 => Just(Some("bad\u{7}text".to_owned())),
    ]
}

fn policy() -> impl Strategy<Value = Policy> {
    prop_oneof![
        Just(Policy::standard()),
        Just(Policy::linkedin()),
        Just(Policy {
            reverse_request: ReverseRequest::Accept,
            weekly_invite_limit: Some(3),
            resend_cooldown: Some(Duration::from_millis(2 * DAY_MS as u64)),
            max_connections: 3,
            pending_ttl: Some(Duration::from_millis(5 * DAY_MS as u64)),
            review_withdrawals_same_person: Some(2),
            review_window: Duration::from_millis(30 * DAY_MS as u64),
            review_after_reports: Some(2),
            restrict_after_reports: Some(3),
            review_report_share: Some(0.5),
            review_resends_same_person: Some(2),
            low_acceptance_min_resolved: Some(3),
            low_acceptance_max_rate: Some(0.5),
            burst_per_hour: Some(3),
            invitation_reminders: vec![
                Duration::from_millis(DAY_MS as u64),
                Duration::from_millis(3 * DAY_MS as u64)
            ],
            digest_hour: 6,
            max_outstanding: Some(2),
            ..Policy::standard()
        }),
    ]
}

/// Any command over members `1..=pool`.
pub fn command(pool: u64) -> impl Strategy<Value = Command> {
    let m = move || member(pool);
    prop_oneof![
        120 => (m(), m(), text(), prop::option::of(Just(()))).prop_map(move |(sender, recipient, note, with_email)| {
            Command::Send {
                sender,
                recipient,
                note,
                email: with_email.map(|_| format!("member{}@example.com", recipient.0)),
            }
        }),
        60 => (m(), request()).prop_map(|(recipient, request)| Command::Accept { recipient, request }),
        30 => (m(), request()).prop_map(|(recipient, request)| Command::Ignore { recipient, request }),
        30 => (m(), request(), text()).prop_map(|(recipient, request, message)| Command::Decline { recipient, request, message }),
        60 => (m(), request(), text()).prop_map(|(sender, request, message)| Command::Withdraw { sender, request, message }),
        10 => (m(), m()).prop_map(|(member, other)| Command::RemoveConnection { member, other }),
        10 => (m(), m()).prop_map(|(blocker, blocked)| Command::Block { blocker, blocked }),
        10 => (m(), m()).prop_map(|(blocker, blocked)| Command::Unblock { blocker, blocked }),
        20 => (m(), m(), prop::sample::select(ReportReason::ALL.to_vec()), prop::option::of(request()))
            .prop_map(|(reporter, reported, reason, request)| Command::Report { reporter, reported, reason, request }),
        10 => (m(), prop::sample::select(InvitationSetting::ALL.to_vec()))
            .prop_map(|(member, setting)| Command::SetInvitationSetting { member, setting }),
        10 => (m(), prop::collection::vec((1..=pool).prop_map(|i| format!("Member{i}@Example.com")), 0..3))
            .prop_map(|(member, emails)| Command::ImportContacts { member, emails }),
        10 => (m(), prop::collection::vec((1u64..30).prop_map(NotificationId), 0..3))
            .prop_map(|(member, ids)| Command::MarkRead { member, ids }),
        10 => prop::collection::vec((1u64..30).prop_map(EmailId), 0..3).prop_map(|ids| Command::MarkEmailsSent { ids }),
        10 => Just(Command::Expire),
        10 => ((1u64..5).prop_map(FlagId), prop::sample::select(Decision::ALL.to_vec()), prop::option::of(m()), text())
            .prop_map(|(flag, decision, moderator, note)| Command::ResolveFlag { flag, decision, moderator, note }),
        10 => (m(), prop::option::of(m()), text())
            .prop_map(|(member, moderator, note)| Command::LiftRestriction { member, moderator, note }),
        10 => (m(), prop::option::of("[a-z@. ]{0,12}"), prop::option::of("[A-Za-z ]{1,10}"))
            .prop_map(|(member, email, name)| Command::Register { member, email, name, locale: None }),
        10 => (m(), prop::option::of(prop::option::of((1..=pool).prop_map(|i| format!("member{i}@example.com")))),
              prop::option::of(prop::option::of("[A-Za-z ]{1,10}")))
            .prop_map(|(member, email, name)| Command::UpdateMember { member, email, name }),
        10 => (m(), prop::option::of(prop_oneof![Just(Duration::ZERO), Just(Duration::from_millis(DAY_MS as u64))]), text())
            .prop_map(|(sender, older_than, message)| Command::WithdrawAll { sender, older_than, message }),
        // Rare, and most name no member: a scenario erases one now and then, not its whole pool.
        1 => (1..=pool * 4).prop_map(|i| Command::EraseMember { member: MemberId(i) }),
        10 => (m(), prop::sample::select(PreferenceKind::ALL.to_vec()), any::<bool>())
            .prop_map(|(member, kind, enabled)| Command::SetEmailPreference { member, kind, enabled }),
        10 => (m(), prop::sample::select(EmailFrequency::ALL.to_vec()))
            .prop_map(|(member, frequency)| Command::SetEmailFrequency { member, frequency }),
        10 => (m(), prop::sample::select(Locale::ALL.to_vec())).prop_map(|(member, locale)| Command::SetLocale { member, locale }),
        10 => prop::collection::vec((1u64..30).prop_map(EmailId), 0..2).prop_map(|ids| Command::MarkEmailsUndeliverable { ids }),
    ]
}

fn advance() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => 0i64..60_000,
        3 => 0i64..DAY_MS,
        2 => 0i64..20 * DAY_MS,
        1 => -DAY_MS..0,
    ]
}

/// A scenario of up to `max_steps` commands over `2..=max_members` members.
pub fn scenario(max_members: u64, max_steps: usize) -> impl Strategy<Value = Scenario> {
    (policy(), 2..=max_members.max(2)).prop_flat_map(move |(policy, pool)| {
        let registers: Vec<Step> = (1..=pool)
            .map(|i| Step {
                advance_ms: 0,
                command: Command::Register {
                    member: MemberId(i),
                    email: (i % 4 != 0).then(|| format!("member{i}@example.com")),
                    name: (i % 3 != 0).then(|| format!("Member {i}")),
                    locale: Locale::ALL.get(i as usize % 5).copied(),
                },
            })
            .collect();
        prop::collection::vec((advance(), command(pool)), 1..=max_steps).prop_map(move |steps| Scenario {
            policy: policy.clone(),
            steps: registers
                .iter()
                .cloned()
                .chain(steps.into_iter().map(|(advance_ms, command)| Step { advance_ms, command }))
                .collect(),
        })
    })
}

impl Scenario {
    /// The time of each step, in order.
    pub fn times(&self) -> Vec<Timestamp> {
        let mut t = START.0;
        self.steps
            .iter()
            .map(|s| {
                t += s.advance_ms;
                Timestamp(t)
            })
            .collect()
    }
}
