//! A model in independent parts, so that a store can save it part by part
//! and decode the parts side by side on reopening (each part is a separate
//! serde value; together they are the whole model).
//!
//! | part | holds |
//! |---|---|
//! | 0 | policy, clock, members, moderation memory, flags, blocks, "don't know" reports, counters |
//! | 1 | requests, the open-pair index, the views parties have of their own, the notes |
//! | 2 | notifications, the outbox (reminders, digests, due times) and email preferences |
//! | 3 | withdrawal and decline histories (how each ended), member profiles (address, name, contacts, locale), wrong addresses given, members by address, reports made |

use crate::chunked::Chunked;
use crate::collections::{Map, Set, sized_map};
use crate::error::Error;
use crate::ids::{FlagId, MemberId, RequestId, Seq};
use crate::kinds::ReportReason;
use crate::members::{MemberTable, Profile};
use crate::model::Model;
use crate::policy::Policy;
use crate::records::{
    FlagRecord, ModerationRecord, NotificationRecord, OpenRequest, PairHistory, PartyView, QueuedDigest,
    RequestRecord, RequestTexts, ScheduledEmail,
};
use crate::state::{LogClock, State};
use crate::time::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeSet;
use std::time::Duration;

/// How many parts a model is split into.
pub const PARTS: usize = 4;

/// A map decoded at its full size at once (see `collections::sized_map`).
struct Sized<K, V>(Map<K, V>);

impl<'de, K, V> Deserialize<'de> for Sized<K, V>
where
    K: Deserialize<'de> + Eq + std::hash::Hash,
    V: Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        sized_map(d).map(Sized)
    }
}

type CoreRef<'a> = (
    &'a Policy,
    Seq,
    LogClock,
    &'a MemberTable,
    &'a Map<MemberId, ModerationRecord>,
    &'a Vec<FlagRecord>,
    &'a BTreeSet<FlagId>,
    u64,
    [u64; 7],
    [u64; 3],
    &'a Set<(MemberId, MemberId)>,
    &'a Set<(MemberId, MemberId)>,
);
type CoreOwned = (
    Policy,
    Seq,
    LogClock,
    MemberTable,
    Sized<MemberId, ModerationRecord>,
    Vec<FlagRecord>,
    BTreeSet<FlagId>,
    u64,
    [u64; 7],
    [u64; 3],
    Set<(MemberId, MemberId)>,
    Set<(MemberId, MemberId)>,
);
type RequestsOwned = (
    Chunked<RequestRecord>,
    usize,
    Sized<(MemberId, MemberId), OpenRequest>,
    Sized<RequestId, PartyView>,
    Sized<(MemberId, MemberId), RequestId>,
    Sized<RequestId, RequestTexts>,
);
type NotificationsOwned = (
    Chunked<NotificationRecord>,
    Vec<(usize, Duration)>,
    usize,
    u64,
    Sized<usize, ScheduledEmail>,
    BTreeSet<(Timestamp, usize)>,
    Sized<MemberId, QueuedDigest>,
    Sized<MemberId, u8>,
);
type PairsOwned = (
    Sized<(MemberId, MemberId), PairHistory>,
    Sized<MemberId, Profile>,
    Sized<MemberId, Vec<Timestamp>>,
    Sized<u64, MemberId>,
    Sized<u64, Vec<MemberId>>,
    Sized<MemberId, Vec<(MemberId, ReportReason, Timestamp)>>,
);

/// One decoded part; [`join`] puts the four back together.
pub struct Part(PartBody);

enum PartBody {
    Core(Box<CoreOwned>),
    Requests(RequestsOwned),
    Notifications(NotificationsOwned),
    Pairs(PairsOwned),
}

/// Serializes part `index` (below [`PARTS`]) of `model`.
pub fn serialize_part<S: Serializer>(model: &Model, index: usize, s: S) -> Result<S::Ok, S::Error> {
    let st = model.state();
    match index {
        0 => {
            let core: CoreRef<'_> = (
                model.policy(),
                st.last_seq,
                st.last_at,
                &st.members,
                &st.moderation,
                &st.flags,
                &st.open_flags,
                st.connection_pairs,
                st.by_state,
                st.by_standing,
                &st.blocks,
                &st.dont_know,
            );
            core.serialize(s)
        }
        1 => {
            (&st.requests, st.oldest_open, &st.open_pairs, &st.views, &st.live_views, &st.texts).serialize(s)
        }
        2 => (
            &st.notifications,
            &st.email_delays,
            st.oldest_unsent,
            st.unsent,
            &st.scheduled,
            &st.due,
            &st.digests,
            &st.email_off,
        )
            .serialize(s),
        3 => {
            (&st.pairs, &st.profiles, &st.wrong_addresses, &st.by_email, &st.by_email_more, &st.reports_made)
                .serialize(s)
        }
        _ => Err(serde::ser::Error::custom(format!("a model has {PARTS} parts, not {}", index + 1))),
    }
}

/// Deserializes part `index` (below [`PARTS`]).
pub fn deserialize_part<'de, D: Deserializer<'de>>(index: usize, d: D) -> Result<Part, D::Error> {
    let body = match index {
        0 => PartBody::Core(Box::new(CoreOwned::deserialize(d)?)),
        1 => PartBody::Requests(RequestsOwned::deserialize(d)?),
        2 => PartBody::Notifications(NotificationsOwned::deserialize(d)?),
        3 => PartBody::Pairs(PairsOwned::deserialize(d)?),
        _ => return Err(serde::de::Error::custom(format!("a model has {PARTS} parts, not {}", index + 1))),
    };
    Ok(Part(body))
}

/// The model the parts make up: each part exactly once, in any order.
pub fn join(parts: impl IntoIterator<Item = Part>) -> Result<Model, Error> {
    let (mut core, mut requests, mut notifications, mut pairs) = (None, None, None, None);
    for Part(body) in parts {
        let slot_taken = match body {
            PartBody::Core(c) => core.replace(c).is_some(),
            PartBody::Requests(r) => requests.replace(r).is_some(),
            PartBody::Notifications(n) => notifications.replace(n).is_some(),
            PartBody::Pairs(p) => pairs.replace(p).is_some(),
        };
        if slot_taken {
            return Err(Error::StorageError("a part of the model is there twice".into()));
        }
    }
    let missing = || Error::StorageError("a part of the model is missing".into());
    let core = core.ok_or_else(missing)?;
    let (
        policy,
        last_seq,
        last_at,
        members,
        moderation,
        flags,
        open_flags,
        connection_pairs,
        by_state,
        by_standing,
        blocks,
        dont_know,
    ) = *core;
    let (requests, oldest_open, open_pairs, views, live_views, texts) = requests.ok_or_else(missing)?;
    let (notifications, email_delays, oldest_unsent, unsent, scheduled, due, digests, email_off) =
        notifications.ok_or_else(missing)?;
    let (pairs, profiles, wrong_addresses, by_email, by_email_more, reports_made) =
        pairs.ok_or_else(missing)?;
    let state = State {
        last_seq,
        last_at,
        members,
        requests,
        open_pairs: open_pairs.0,
        oldest_open,
        blocks,
        dont_know,
        pairs: pairs.0,
        profiles: profiles.0,
        wrong_addresses: wrong_addresses.0,
        notifications,
        email_delays,
        views: views.0,
        live_views: live_views.0,
        texts: texts.0,
        oldest_unsent,
        unsent,
        scheduled: scheduled.0,
        due,
        digests: digests.0,
        email_off: email_off.0,
        flags,
        open_flags,
        moderation: moderation.0,
        connection_pairs,
        by_state,
        by_standing,
        by_email: by_email.0,
        by_email_more: by_email_more.0,
        reports_made: reports_made.0,
    };
    Model::from_parts(policy, state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MemberId, Network};

    struct PartOf<'a>(&'a Model, usize);

    impl Serialize for PartOf<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            serialize_part(self.0, self.1, s)
        }
    }

    fn decode(bytes: &[u8], i: usize) -> Result<Part, postcard::Error> {
        let mut de = postcard::Deserializer::from_bytes(bytes);
        let part = deserialize_part(i, &mut de)?;
        assert!(de.finalize()?.is_empty(), "part {i} left bytes over");
        Ok(part)
    }

    fn roundtrip(model: &Model, order: &[usize]) -> Result<Model, Error> {
        let parts = order
            .iter()
            .map(|&i| decode(&postcard::to_allocvec(&PartOf(model, i)).unwrap(), i).unwrap())
            .collect::<Vec<_>>();
        join(parts)
    }

    fn sample() -> Model {
        let net = crate::MemoryNetwork::new(Policy::standard()).unwrap();
        let t = Timestamp(1_790_000_000_000);
        for m in 1..=4 {
            net.register(MemberId(m), Some(&format!("m{m}@example.com")), Some("M"), t).unwrap();
        }
        let a = net.send(MemberId(1), MemberId(2), Some("hi"), None, t).unwrap();
        net.accept(MemberId(2), a, t).unwrap();
        let b = net.send(MemberId(1), MemberId(3), None, None, t).unwrap();
        net.withdraw(MemberId(1), b, Some("oops"), t).unwrap();
        net.send(MemberId(4), MemberId(1), None, None, t).unwrap();
        net.block(MemberId(3), MemberId(4), t).unwrap();
        let model = Model::replay(Policy::standard(), &net.log());
        assert!(!model.state().pairs.is_empty() && model.state().notifications.len() > 0);
        model
    }

    #[test]
    fn the_parts_in_any_order_make_the_same_model() {
        let model = sample();
        assert_eq!(roundtrip(&model, &[0, 1, 2, 3]).unwrap(), model);
        assert_eq!(roundtrip(&model, &[3, 1, 0, 2]).unwrap(), model);
    }

    #[test]
    fn a_missing_or_doubled_part_is_an_error_not_a_model() {
        let model = sample();
        assert!(matches!(roundtrip(&model, &[0, 1, 2]), Err(Error::StorageError(_))));
        assert!(matches!(roundtrip(&model, &[0, 1, 2, 3, 3]), Err(Error::StorageError(_))));
    }

    #[test]
    fn there_is_no_fifth_part() {
        let model = sample();
        assert!(postcard::to_allocvec(&PartOf(&model, PARTS)).is_err());
        assert!(decode(&[0], PARTS).is_err());
    }
}
