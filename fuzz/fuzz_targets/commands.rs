//! Arbitrary command sequences run against the sled store and the in-memory
//! model side by side: every result must be identical, and afterwards the
//! store's `check()` and the model's invariants must find nothing.

#![no_main]

mod common;

use arbitrary::Arbitrary;
use common::{FuzzPolicy, START, Text};
use connreq_core::{
    Command, Decision, EmailId, FlagId, InvitationSetting, MemberId, MemoryNetwork, Network, NotificationId,
    ReportReason, RequestId, RequestState, Seq, Timestamp,
};
use connreq_store::Store;
use libfuzzer_sys::fuzz_target;

const MAX_STEPS: usize = 200;

#[derive(Arbitrary, Debug)]
struct Input {
    pool: u8,
    policy: u8,
    members: Vec<(Option<Text>, Option<Text>)>,
    steps: Vec<Step>,
}

#[derive(Arbitrary, Debug)]
enum Advance {
    None,
    Millis(u16),
    Minutes(u16),
    Hours(u8),
    Days(u8),
}

impl Advance {
    fn ms(&self) -> i64 {
        match *self {
            Advance::None => 0,
            Advance::Millis(n) => i64::from(n),
            Advance::Minutes(n) => i64::from(n) * 60_000,
            Advance::Hours(n) => i64::from(n) * 3_600_000,
            Advance::Days(n) => i64::from(n) * 86_400_000,
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Step {
    advance: Advance,
    op: Op,
}

/// A member: one of the pool, or an id nobody registered.
#[derive(Arbitrary, Debug, Clone, Copy)]
struct M(u8);

/// A request, notification, email or flag id: mostly small, sometimes absurd.
#[derive(Arbitrary, Debug, Clone, Copy)]
struct Id(u8);

impl Id {
    fn get(self) -> u64 {
        match self.0 {
            255 => u64::MAX,
            254 => 1 << 63,
            n => u64::from(n % 48),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Op {
    Register {
        m: M,
        email: Option<Text>,
        name: Option<Text>,
    },
    Setting {
        m: M,
        setting: u8,
    },
    Contacts {
        m: M,
        emails: Vec<Text>,
    },
    Send {
        s: M,
        r: M,
        note: Option<Text>,
        email: Option<Text>,
    },
    Send2 {
        s: M,
        r: M,
    },
    Accept {
        m: M,
        id: Id,
    },
    Ignore {
        m: M,
        id: Id,
    },
    Decline {
        m: M,
        id: Id,
        message: Option<Text>,
    },
    Withdraw {
        m: M,
        id: Id,
        message: Option<Text>,
    },
    RemoveConnection {
        a: M,
        b: M,
    },
    Block {
        a: M,
        b: M,
    },
    Unblock {
        a: M,
        b: M,
    },
    Report {
        a: M,
        b: M,
        reason: u8,
        id: Option<Id>,
    },
    MarkRead {
        m: M,
        ids: Vec<Id>,
    },
    MarkEmailsSent {
        ids: Vec<Id>,
    },
    Expire,
    ResolveFlag {
        id: Id,
        restrict: bool,
        moderator: Option<M>,
        note: Option<Text>,
    },
    ChangePolicy(FuzzPolicy),
    /// The store merges its log records (nothing for the in-memory model).
    Compact,
    Query(Query),
    LiftRestriction {
        m: M,
        moderator: Option<M>,
        note: Option<Text>,
    },
}

#[derive(Arbitrary, Debug)]
enum Query {
    Request(Id),
    Sent(M, Option<u8>),
    Received(M, Option<u8>),
    Connections(M),
    ConnectionCount(M),
    AreConnected(M, M),
    Mutual(M, M),
    IsBlocked(M, M),
    Notifications(M, bool),
    Unread(M),
    PendingEmails(Option<u32>),
    Standing(M),
    ReviewQueue,
    PublicProfile(M),
    Stats,
    Events(u8, Option<u8>),
    /// The store's columnar export against its own `events`.
    Columns(u8, u8),
}

struct Ctx {
    pool: u64,
}

impl Ctx {
    fn m(&self, m: M) -> MemberId {
        let k = u64::from(m.0) % (self.pool + 2);
        match k {
            k if k < self.pool => MemberId(k + 1),
            k if k == self.pool => MemberId(0),
            _ => MemberId(u64::MAX),
        }
    }
}

fn state(s: u8) -> RequestState {
    RequestState::ALL[usize::from(s) % RequestState::ALL.len()]
}

fn text(t: &Option<Text>) -> Option<String> {
    t.as_ref().map(|t| t.0.clone())
}

fn command(ctx: &Ctx, op: &Op) -> Option<Command> {
    Some(match op {
        Op::Register { m, email, name } => {
            Command::Register { member: ctx.m(*m), email: text(email), name: text(name), locale: None }
        }
        Op::Setting { m, setting } => Command::SetInvitationSetting {
            member: ctx.m(*m),
            setting: InvitationSetting::ALL[usize::from(*setting) % InvitationSetting::ALL.len()],
        },
        Op::Contacts { m, emails } => Command::ImportContacts {
            member: ctx.m(*m),
            emails: emails.iter().take(8).map(|e| e.0.clone()).collect(),
        },
        Op::Send { s, r, note, email } => {
            Command::Send { sender: ctx.m(*s), recipient: ctx.m(*r), note: text(note), email: text(email) }
        }
        Op::Send2 { s, r } => {
            Command::Send { sender: ctx.m(*s), recipient: ctx.m(*r), note: None, email: None }
        }
        Op::Accept { m, id } => Command::Accept { recipient: ctx.m(*m), request: RequestId(id.get()) },
        Op::Ignore { m, id } => Command::Ignore { recipient: ctx.m(*m), request: RequestId(id.get()) },
        Op::Decline { m, id, message } => {
            Command::Decline { recipient: ctx.m(*m), request: RequestId(id.get()), message: text(message) }
        }
        Op::Withdraw { m, id, message } => {
            Command::Withdraw { sender: ctx.m(*m), request: RequestId(id.get()), message: text(message) }
        }
        Op::RemoveConnection { a, b } => Command::RemoveConnection { member: ctx.m(*a), other: ctx.m(*b) },
        Op::Block { a, b } => Command::Block { blocker: ctx.m(*a), blocked: ctx.m(*b) },
        Op::Unblock { a, b } => Command::Unblock { blocker: ctx.m(*a), blocked: ctx.m(*b) },
        Op::Report { a, b, reason, id } => Command::Report {
            reporter: ctx.m(*a),
            reported: ctx.m(*b),
            reason: ReportReason::ALL[usize::from(*reason) % ReportReason::ALL.len()],
            request: id.map(|i| RequestId(i.get())),
        },
        Op::MarkRead { m, ids } => Command::MarkRead {
            member: ctx.m(*m),
            ids: ids.iter().take(8).map(|i| NotificationId(i.get())).collect(),
        },
        Op::MarkEmailsSent { ids } => {
            Command::MarkEmailsSent { ids: ids.iter().take(8).map(|i| EmailId(i.get())).collect() }
        }
        Op::Expire => Command::Expire,
        Op::ResolveFlag { id, restrict, moderator, note } => Command::ResolveFlag {
            flag: FlagId(id.get()),
            decision: if *restrict { Decision::Restrict } else { Decision::Clear },
            moderator: moderator.map(|m| ctx.m(m)),
            note: text(note),
        },
        Op::LiftRestriction { m, moderator, note } => Command::LiftRestriction {
            member: ctx.m(*m),
            moderator: moderator.map(|m| ctx.m(m)),
            note: text(note),
        },
        Op::ChangePolicy(p) => Command::ChangePolicy { policy: p.build() },
        Op::Query(_) | Op::Compact => return None,
    })
}

/// Runs a query on both backends and demands the same answer.
fn query(ctx: &Ctx, q: &Query, store: &Store, mem: &MemoryNetwork, at: Timestamp) {
    macro_rules! same {
        ($call:ident ( $($arg:expr),* )) => {{
            let a = store.$call($($arg),*);
            let b = mem.$call($($arg),*);
            assert_eq!(a, b, "{} differs", stringify!($call));
        }};
    }
    match q {
        Query::Request(id) => same!(request(RequestId(id.get()))),
        Query::Sent(m, s) => same!(sent(ctx.m(*m), s.map(state))),
        Query::Received(m, s) => same!(received(ctx.m(*m), s.map(state))),
        Query::Connections(m) => same!(connections(ctx.m(*m))),
        Query::ConnectionCount(m) => same!(connection_count(ctx.m(*m))),
        Query::AreConnected(a, b) => same!(are_connected(ctx.m(*a), ctx.m(*b))),
        Query::Mutual(a, b) => same!(mutual_connections(ctx.m(*a), ctx.m(*b))),
        Query::IsBlocked(a, b) => same!(is_blocked(ctx.m(*a), ctx.m(*b))),
        Query::Notifications(m, unread) => same!(notifications(ctx.m(*m), *unread)),
        Query::Unread(m) => same!(unread_count(ctx.m(*m))),
        Query::PendingEmails(due) => {
            same!(pending_emails(due.map(|d| Timestamp(at.0 + i64::from(d) * 1000))))
        }
        Query::Standing(m) => same!(standing(ctx.m(*m))),
        Query::ReviewQueue => same!(review_queue()),
        Query::PublicProfile(m) => same!(public_profile(ctx.m(*m))),
        Query::Stats => same!(stats()),
        Query::Events(since, limit) => same!(events(Seq(u64::from(*since)), limit.map(usize::from))),
        Query::Columns(since, limit) => {
            let (since, limit) = (Seq(u64::from(*since)), usize::from(*limit));
            let columns = store.event_columns(since, limit).expect("event_columns");
            let events = mem.events(since, Some(limit)).unwrap();
            assert_eq!(columns.len(), events.len(), "event_columns gives another number of events");
            assert_eq!(columns.detail_offsets.len(), events.len() + 1);
            for (i, e) in events.iter().enumerate() {
                assert_eq!(
                    (
                        columns.seq[i],
                        columns.at[i],
                        columns.kind(i),
                        columns.actor.get(i),
                        columns.subject.get(i)
                    ),
                    (e.seq.0, e.at.0, e.kind, e.actor.map(|m| m.0), e.subject.map(|m| m.0)),
                    "event_columns differs from events at {}",
                    e.seq
                );
                assert_eq!(columns.request_id.get(i), e.request_id.map(|r| r.0));
                assert_eq!(columns.detail(i), e.detail, "detail of {}", e.seq);
            }
        }
    }
}

fuzz_target!(|input: Input| {
    let pool = u64::from(input.pool % 8) + 1;
    let ctx = Ctx { pool };
    let policy = common::policy(input.policy);
    let store = Store::temporary(policy.clone()).expect("a temporary store opens");
    let mem = MemoryNetwork::new(policy).expect("the policy is valid");

    let mut at = START;
    for i in 0..pool {
        let (email, name) = match input.members.get(i as usize) {
            Some((e, n)) => (text(e), text(n)),
            None => (Some(format!("member{}@example.com", i + 1)), Some(format!("Member {}", i + 1))),
        };
        let c = Command::Register { member: MemberId(i + 1), email, name, locale: None };
        let a = store.execute(c.clone(), at);
        let b = mem.execute(c, at);
        assert_eq!(a, b, "registering member {}", i + 1);
    }

    for step in input.steps.iter().take(MAX_STEPS) {
        at = Timestamp(at.0 + step.advance.ms());
        match command(&ctx, &step.op) {
            Some(c) => {
                let a = store.execute(c.clone(), at);
                let b = mem.execute(c.clone(), at);
                assert_eq!(a, b, "the store and the model disagree on {c:?}");
            }
            None => match &step.op {
                Op::Query(q) => query(&ctx, q, &store, &mem, at),
                Op::Compact => store.compact().expect("compacting a sound log works"),
                _ => {}
            },
        }
    }

    // Every member's rendered inbox and the outbox agree, and the states are equal.
    for i in 0..=pool + 1 {
        let m = MemberId(i);
        assert_eq!(store.notifications(m, false), mem.notifications(m, false));
        assert_eq!(store.sent(m, None), mem.sent(m, None));
        assert_eq!(store.received(m, None), mem.received(m, None));
    }
    assert_eq!(store.pending_emails(None), mem.pending_emails(None));
    assert_eq!(store.stats(), mem.stats());
    assert_eq!(store.events(Seq(0), None), mem.events(Seq(0), None));
    let (ms, mm) = (store.read(Clone::clone).unwrap(), mem.read(Clone::clone).unwrap());
    assert!(ms == mm, "the store's model differs from the in-memory one");

    let problems = store.check().expect("check runs");
    assert!(problems.is_empty(), "store.check() found problems: {problems:?}");
    let violations = mm.invariant_violations();
    assert!(violations.is_empty(), "invariant violations: {violations:?}");
    let replayed = connreq_core::Model::replay(common::policy(input.policy), mem.log().iter());
    assert!(replayed == mm, "replaying the log does not give the live model");
});
