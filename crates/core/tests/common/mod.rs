//! Helpers shared by the integration tests: times, members and requests in a
//! chosen state, all through the `Network` trait.
#![allow(dead_code)]

use connreq_core::{
    Error, EventRecord, MemberId, MemoryNetwork, Network, Policy, ReportReason, RequestId, RequestState, Seq,
    Timestamp,
};
use std::time::Duration;

/// 2026-09-21T14:13:20Z, a Monday afternoon.
pub const T0: Timestamp = Timestamp(1_790_000_000_000);
pub const MS_PER_DAY: i64 = 86_400_000;
pub const MS_PER_MINUTE: i64 = 60_000;

pub const A: MemberId = MemberId(1);
pub const B: MemberId = MemberId(2);
pub const C: MemberId = MemberId(3);
pub const D: MemberId = MemberId(4);
pub const E: MemberId = MemberId(5);

/// `n` days after `T0`.
pub fn day(n: i64) -> Timestamp {
    Timestamp(T0.0 + n * MS_PER_DAY)
}

/// `n` minutes after `T0`.
pub fn minute(n: i64) -> Timestamp {
    Timestamp(T0.0 + n * MS_PER_MINUTE)
}

/// `ms` milliseconds after `t`.
pub fn after(t: Timestamp, ms: i64) -> Timestamp {
    Timestamp(t.0 + ms)
}

pub fn days(n: u64) -> Duration {
    Duration::from_secs(n * 86_400)
}

pub fn m(id: u64) -> MemberId {
    MemberId(id)
}

pub fn address(id: u64) -> String {
    format!("member{id}@example.com")
}

pub fn name(id: u64) -> String {
    match id {
        1 => "Ada".into(),
        2 => "Bob".into(),
        3 => "Cleo".into(),
        4 => "Dev".into(),
        5 => "Eve".into(),
        n => format!("Person {n}"),
    }
}

/// A network under `policy` with `ids` registered at `T0`, each with an address and a name.
pub fn network(policy: Policy, ids: &[u64]) -> MemoryNetwork {
    let net = MemoryNetwork::new(policy).expect("the policy is valid");
    for id in ids {
        net.register(m(*id), Some(&address(*id)), Some(&name(*id)), T0).expect("registers");
    }
    net
}

/// The standard policy with members 1 to 5.
pub fn standard() -> MemoryNetwork {
    network(Policy::standard(), &[1, 2, 3, 4, 5])
}

/// The SPEC name of a result's error, or "ok".
pub fn outcome<T>(r: Result<T, Error>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(e) => e.name(),
    }
}

/// A new request from `s` to `r`, sent at `at` and brought into `state`.
/// Returns its id and the time of its last change. `Expired` needs a policy
/// with `pending_ttl`; `Cancelled` is a block by the recipient.
pub fn request_in(
    net: &MemoryNetwork,
    s: MemberId,
    r: MemberId,
    state: RequestState,
    at: Timestamp,
) -> (RequestId, Timestamp) {
    let id = net.send(s, r, None, None, at).expect("send");
    let later = after(at, 1000);
    match state {
        RequestState::Pending => return (id, at),
        RequestState::Ignored => net.ignore(r, id, later).expect("ignore"),
        RequestState::Accepted => net.accept(r, id, later).expect("accept"),
        RequestState::Declined => net.decline(r, id, None, later).expect("decline"),
        RequestState::Withdrawn => net.withdraw(s, id, None, later).expect("withdraw"),
        RequestState::Expired => {
            let ttl = net.policy().expect("policy").pending_ttl.expect("a pending_ttl");
            let when = at.plus(ttl).plus(Duration::from_millis(1));
            assert_eq!(net.expire(when).expect("expire"), 1);
            return (id, when);
        }
        RequestState::Cancelled => net.block(r, s, later).expect("block"),
    }
    assert_eq!(net.request(id).expect("request").state, state);
    (id, later)
}

/// Registers five fresh members (ids from `first`) who each report `member`
/// for spam at `at`: under the standard thresholds that restricts `member`.
pub fn restrict_by_reports(net: &MemoryNetwork, member: MemberId, first: u64, at: Timestamp) {
    for id in first..first + 5 {
        net.register(m(id), Some(&address(id)), Some(&name(id)), at).expect("register reporter");
        net.report(m(id), member, ReportReason::Spam, None, at).expect("report");
    }
}

/// Every event in the log.
pub fn all_events(net: &MemoryNetwork) -> Vec<EventRecord> {
    net.events(Seq(0), None).expect("events")
}

/// How many events the log holds.
pub fn event_count(net: &MemoryNetwork) -> usize {
    all_events(net).len()
}
