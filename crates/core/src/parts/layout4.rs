//! The model's parts as layout 4 laid them out, before SPEC §15: flags
//! without who resolved them, reports without their reason, pair histories
//! of withdrawals and the time of the last close, and a policy without the
//! §15 fields. A snapshot of that layout is only a cache and is not read; a
//! repaired database's base is no cache (the log starts after it), so it is
//! read with this and converted.
//!
//! What layout 4 did not keep is filled in as follows: a flag resolved
//! before has no moderator, note or time of resolution; a report's reason is
//! taken to be `spam` (the `repeated_resends` harassment combination never
//! counts it); a pair's withdrawals keep their events but not their
//! requests, and a decline after the last withdrawal becomes an ending at
//! that time with no event (it still closes the pair for the cooldown, and
//! counts towards no rule); the policy gains the §15 fields' defaults.

use super::{CoreOwned, PairsOwned, Part, PartBody, Sized};
use crate::collections::{Map, Set};
use crate::ids::{FlagId, MemberId, RequestId, Seq};
use crate::kinds::{FlagRule, FlagStatus, ReportReason};
use crate::members::{MemberTable, Profile};
use crate::policy::{Policy, ReverseRequest};
use crate::records::{Ended, Ending, FlagRecord, ModerationRecord, PairHistory};
use crate::state::LogClock;
use crate::time::Timestamp;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeSet;
use std::time::Duration;

#[derive(Deserialize)]
#[cfg_attr(any(test, feature = "testing"), derive(serde::Serialize))]
struct PolicyV4 {
    max_note_chars: u32,
    notify_on_withdraw: bool,
    notify_on_decline: bool,
    email_delay: Duration,
    date_context_after: Duration,
    reverse_request: ReverseRequest,
    weekly_invite_limit: Option<u32>,
    resend_cooldown: Option<Duration>,
    max_connections: u32,
    pending_ttl: Option<Duration>,
    review_withdrawals_same_person: u32,
    review_window: Duration,
    review_after_reports: u32,
    restrict_after_reports: u32,
    low_acceptance_min_resolved: Option<u32>,
    low_acceptance_max_rate: Option<f64>,
    burst_per_hour: Option<u32>,
}

impl From<PolicyV4> for Policy {
    fn from(p: PolicyV4) -> Self {
        Policy {
            max_note_chars: p.max_note_chars,
            notify_on_withdraw: p.notify_on_withdraw,
            notify_on_decline: p.notify_on_decline,
            email_delay: p.email_delay,
            date_context_after: p.date_context_after,
            reverse_request: p.reverse_request,
            weekly_invite_limit: p.weekly_invite_limit,
            resend_cooldown: p.resend_cooldown,
            max_connections: p.max_connections,
            pending_ttl: p.pending_ttl,
            review_withdrawals_same_person: Some(p.review_withdrawals_same_person),
            review_window: p.review_window,
            review_after_reports: Some(p.review_after_reports),
            restrict_after_reports: Some(p.restrict_after_reports),
            low_acceptance_min_resolved: p.low_acceptance_min_resolved,
            low_acceptance_max_rate: p.low_acceptance_max_rate,
            burst_per_hour: p.burst_per_hour,
            ..Policy::standard()
        }
    }
}

#[derive(Deserialize)]
#[cfg_attr(any(test, feature = "testing"), derive(serde::Serialize))]
struct ModerationRecordV4 {
    open: Vec<(FlagRule, FlagId)>,
    cleared_through: Vec<(FlagRule, Seq)>,
    restricted_by_decision: bool,
    reports: Vec<(MemberId, Timestamp, Seq)>,
    outcomes: Vec<(RequestId, bool, Seq)>,
}

impl From<ModerationRecordV4> for ModerationRecord {
    fn from(m: ModerationRecordV4) -> Self {
        ModerationRecord {
            open: m.open,
            cleared_through: m.cleared_through,
            restricted_by_decision: m.restricted_by_decision,
            reports: m.reports.into_iter().map(|(r, t, s)| (r, t, s, ReportReason::Spam)).collect(),
            outcomes: m.outcomes,
        }
    }
}

#[derive(Deserialize)]
#[cfg_attr(any(test, feature = "testing"), derive(serde::Serialize))]
struct FlagRecordV4 {
    member: MemberId,
    rule: FlagRule,
    evidence: Vec<Seq>,
    created_at: Timestamp,
    status: FlagStatus,
    automatic_restriction: bool,
}

impl From<FlagRecordV4> for FlagRecord {
    fn from(f: FlagRecordV4) -> Self {
        FlagRecord {
            member: f.member,
            rule: f.rule,
            evidence: f.evidence,
            created_at: f.created_at,
            status: f.status,
            automatic_restriction: f.automatic_restriction,
            resolved_by: None,
            resolution_note: None,
            resolved_at: None,
        }
    }
}

#[derive(Deserialize)]
#[cfg_attr(any(test, feature = "testing"), derive(serde::Serialize))]
struct PairHistoryV4 {
    withdrawals: Box<[(Timestamp, Seq)]>,
    last_closed: Timestamp,
}

impl From<PairHistoryV4> for PairHistory {
    fn from(p: PairHistoryV4) -> Self {
        let mut endings: Vec<Ending> = p
            .withdrawals
            .iter()
            .map(|(at, seq)| Ending { at: *at, seq: *seq, request: 0, how: Ended::Withdrawn })
            .collect();
        if endings.last().is_none_or(|e| e.at < p.last_closed) {
            endings.push(Ending { at: p.last_closed, seq: Seq(0), request: 0, how: Ended::Declined });
        }
        PairHistory { endings: endings.into_boxed_slice() }
    }
}

type CoreV4 = (
    PolicyV4,
    Seq,
    LogClock,
    MemberTable,
    Sized<MemberId, ModerationRecordV4>,
    Vec<FlagRecordV4>,
    BTreeSet<FlagId>,
    u64,
    [u64; 7],
    [u64; 3],
    Set<(MemberId, MemberId)>,
    Set<(MemberId, MemberId)>,
);
type PairsV4 =
    (Sized<(MemberId, MemberId), PairHistoryV4>, Sized<MemberId, Profile>, Sized<MemberId, Vec<Timestamp>>);

fn convert<K: Eq + std::hash::Hash, A, B: From<A>>(map: Sized<K, A>) -> Sized<K, B> {
    let mut out = Map::with_capacity_and_hasher(map.0.len(), Default::default());
    out.extend(map.0.into_iter().map(|(k, v)| (k, B::from(v))));
    Sized(out)
}

/// Deserializes part `index` as layout 4 wrote it, converted to this layout.
pub fn deserialize_part<'de, D: Deserializer<'de>>(index: usize, d: D) -> Result<Part, D::Error> {
    match index {
        0 => {
            let (
                policy,
                seq,
                clock,
                members,
                moderation,
                flags,
                open,
                pairs,
                by_state,
                by_standing,
                blocks,
                dk,
            ) = CoreV4::deserialize(d)?;
            let core: CoreOwned = (
                policy.into(),
                seq,
                clock,
                members,
                convert(moderation),
                flags.into_iter().map(FlagRecord::from).collect(),
                open,
                pairs,
                by_state,
                by_standing,
                blocks,
                dk,
            );
            Ok(Part(PartBody::Core(Box::new(core))))
        }
        3 => {
            let (pairs, profiles, wrong) = PairsV4::deserialize(d)?;
            let converted: PairsOwned = (convert(pairs), profiles, wrong);
            Ok(Part(PartBody::Pairs(converted)))
        }
        // Requests and notifications are laid out as before.
        _ => super::deserialize_part(index, d),
    }
}

/// Part `.1` (0 or 3) of model `.0` laid out as layout 4 wrote it, for tests
/// of reading old files: what layout 4 did not have is dropped.
#[cfg(any(test, feature = "testing"))]
pub struct Layout4Part<'a>(pub &'a crate::model::Model, pub usize);

#[cfg(any(test, feature = "testing"))]
impl serde::Serialize for Layout4Part<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use std::collections::BTreeMap;
        let (model, st) = (self.0, self.0.state());
        let p = model.policy();
        match self.1 {
            0 => {
                let policy = PolicyV4 {
                    max_note_chars: p.max_note_chars,
                    notify_on_withdraw: p.notify_on_withdraw,
                    notify_on_decline: p.notify_on_decline,
                    email_delay: p.email_delay,
                    date_context_after: p.date_context_after,
                    reverse_request: p.reverse_request,
                    weekly_invite_limit: p.weekly_invite_limit,
                    resend_cooldown: p.resend_cooldown,
                    max_connections: p.max_connections,
                    pending_ttl: p.pending_ttl,
                    review_withdrawals_same_person: p.review_withdrawals_same_person.unwrap_or(u32::MAX),
                    review_window: p.review_window,
                    review_after_reports: p.review_after_reports.unwrap_or(u32::MAX),
                    restrict_after_reports: p.restrict_after_reports.unwrap_or(u32::MAX),
                    low_acceptance_min_resolved: p.low_acceptance_min_resolved,
                    low_acceptance_max_rate: p.low_acceptance_max_rate,
                    burst_per_hour: p.burst_per_hour,
                };
                let moderation: BTreeMap<MemberId, ModerationRecordV4> = st
                    .moderation
                    .iter()
                    .map(|(k, m)| {
                        let v4 = ModerationRecordV4 {
                            open: m.open.clone(),
                            cleared_through: m.cleared_through.clone(),
                            restricted_by_decision: m.restricted_by_decision,
                            reports: m.reports.iter().map(|r| (r.0, r.1, r.2)).collect(),
                            outcomes: m.outcomes.clone(),
                        };
                        (*k, v4)
                    })
                    .collect();
                let flags: Vec<FlagRecordV4> = st
                    .flags
                    .iter()
                    .map(|f| FlagRecordV4 {
                        member: f.member,
                        rule: f.rule,
                        evidence: f.evidence.clone(),
                        created_at: f.created_at,
                        status: f.status,
                        automatic_restriction: f.automatic_restriction,
                    })
                    .collect();
                (
                    policy,
                    st.last_seq,
                    st.last_at,
                    &st.members,
                    moderation,
                    flags,
                    &st.open_flags,
                    st.connection_pairs,
                    st.by_state,
                    st.by_standing,
                    &st.blocks,
                    &st.dont_know,
                )
                    .serialize(s)
            }
            3 => {
                let pairs: BTreeMap<(MemberId, MemberId), PairHistoryV4> = st
                    .pairs
                    .iter()
                    .map(|(k, p)| {
                        let withdrawals: Box<[(Timestamp, Seq)]> = p.withdrawals().collect();
                        let last = p.endings.last().map_or(Timestamp(0), |e| e.at);
                        (*k, PairHistoryV4 { withdrawals, last_closed: p.last_closed().unwrap_or(last) })
                    })
                    .collect();
                (pairs, &st.profiles, &st.wrong_addresses).serialize(s)
            }
            i => super::serialize_part(model, i, s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;
    use crate::{Decision, MemoryNetwork, Network};
    use serde::Serialize;

    /// A model with a resolved flag, a harassment report and pair
    /// histories of withdrawals and of a decline.
    fn sample() -> Model {
        let net = MemoryNetwork::new(Policy::standard()).unwrap();
        let t = |m: i64| Timestamp(1_790_000_000_000 + m * 60_000);
        for m in 1..=5 {
            net.register(MemberId(m), None, None, t(0)).unwrap();
        }
        for k in 0..3 {
            let r = net.send(MemberId(1), MemberId(2), None, None, t(1 + 2 * k)).unwrap();
            net.withdraw(MemberId(1), r, None, t(2 + 2 * k)).unwrap();
        }
        let r = net.send(MemberId(3), MemberId(4), None, None, t(10)).unwrap();
        net.decline(MemberId(4), r, None, t(11)).unwrap();
        net.report(MemberId(5), MemberId(1), ReportReason::Harassment, None, t(12)).unwrap();
        let flag = net.review_queue().unwrap()[0].id;
        net.resolve_flag_by(flag, Decision::Clear, Some(MemberId(5)), Some("fine"), t(13)).unwrap();
        net.read(Model::clone).unwrap()
    }

    struct PartOf<'a>(&'a Model, usize);

    impl Serialize for PartOf<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            super::super::serialize_part(self.0, self.1, s)
        }
    }

    #[test]
    fn a_layout_4_model_reads_as_this_layout_with_what_it_lacked_filled_in() {
        let model = sample();
        let core = postcard::to_allocvec(&Layout4Part(&model, 0)).unwrap();
        let pairs = postcard::to_allocvec(&Layout4Part(&model, 3)).unwrap();
        let decode =
            |bytes: &[u8], i| deserialize_part(i, &mut postcard::Deserializer::from_bytes(bytes)).unwrap();
        let unchanged = |i| postcard::to_allocvec(&PartOf(&model, i)).unwrap();
        let read = super::super::join([
            decode(&core, 0),
            decode(&unchanged(1), 1),
            decode(&unchanged(2), 2),
            decode(&pairs, 3),
        ])
        .unwrap();
        assert_eq!(read.policy(), model.policy(), "the §15 fields take their defaults");
        let (was, now) = (model.state(), read.state());
        assert_eq!(now.flags[0].resolved_by, None, "layout 4 kept no moderator");
        assert_eq!(
            (now.flags[0].status, now.flags[0].evidence.clone()),
            (was.flags[0].status, was.flags[0].evidence.clone())
        );
        let reports = &now.moderation[&MemberId(1)].reports;
        assert_eq!(reports.len(), 1);
        assert_eq!(reports[0].3, ReportReason::Spam, "the reason was not kept");
        let withdrawn = &now.pairs[&(MemberId(1), MemberId(2))];
        assert_eq!(
            withdrawn.withdrawals().collect::<Vec<_>>(),
            was.pairs[&(MemberId(1), MemberId(2))].withdrawals().collect::<Vec<_>>()
        );
        let declined = &now.pairs[&(MemberId(3), MemberId(4))];
        assert_eq!(declined.last_closed(), was.pairs[&(MemberId(3), MemberId(4))].last_closed());
        assert_eq!(declined.endings[0].seq, Seq(0), "a decline with no event counts towards no rule");
        assert_eq!(now.members, was.members);
        assert_eq!(now.requests.len(), was.requests.len());
    }
}
