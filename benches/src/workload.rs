//! Workloads shared by the benchmarks: a preload data set and a mixed stream of
//! commands and queries, run the same way against the in-memory model, the
//! sled store and the SQLite peer.

use crate::sqlite_peer::SqlitePeer;
use connreq_core::{MemberId, Network, RequestId, Timestamp};
use std::collections::HashSet;

/// 2026-01-01T00:00:00Z: every workload starts here.
pub const START: i64 = 1_767_225_600_000;

/// A small, fast, seeded generator (SplitMix64): workloads must be identical
/// for every target, and a crate would be more than this.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// A member id in `1..=members`, heavy-tailed: low ids are far more
    /// active (density ∝ 1/√id; of 100,000 members the top 1% send 10%).
    pub fn active_member(&mut self, members: u64) -> u64 {
        let u = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        ((members as f64 * u * u) as u64).min(members - 1) + 1
    }
}

/// How a preloaded request ends up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Still pending.
    Pending,
    /// Ignored by the recipient.
    Ignored,
    /// Accepted: a connection.
    Accepted,
    /// Declined.
    Declined,
    /// Withdrawn by the sender.
    Withdrawn,
}

/// One preloaded request.
#[derive(Clone, Copy, Debug)]
pub struct Preload {
    /// Who sends it.
    pub sender: u64,
    /// Who receives it.
    pub recipient: u64,
    /// How it ends.
    pub fate: Fate,
}

/// `requests` requests among `members` members, each unordered pair at most
/// once, heavy-tailed senders, fates in realistic shares.
pub fn preload(members: u64, requests: u64, seed: u64) -> Vec<Preload> {
    let mut rng = Rng::new(seed);
    let mut pairs = HashSet::with_capacity(requests as usize);
    let mut out = Vec::with_capacity(requests as usize);
    while (out.len() as u64) < requests {
        let sender = rng.active_member(members);
        let recipient = rng.below(members) + 1;
        if sender == recipient || !pairs.insert((sender.min(recipient), sender.max(recipient))) {
            continue;
        }
        let fate = match rng.below(100) {
            0..40 => Fate::Accepted,
            40..65 => Fate::Pending,
            65..75 => Fate::Ignored,
            75..85 => Fate::Declined,
            _ => Fate::Withdrawn,
        };
        out.push(Preload { sender, recipient, fate });
    }
    out
}

/// What the mixed stream needs from a target.
pub trait Target {
    /// `register`, with an address.
    fn register(&mut self, member: u64, at: i64) -> bool;
    /// `send`; the new request's id.
    fn send(&mut self, sender: u64, recipient: u64, at: i64) -> Option<u64>;
    /// `accept`.
    fn accept(&mut self, recipient: u64, id: u64, at: i64) -> bool;
    /// `ignore`.
    fn ignore(&mut self, recipient: u64, id: u64, at: i64) -> bool;
    /// `decline`.
    fn decline(&mut self, recipient: u64, id: u64, at: i64) -> bool;
    /// `withdraw`.
    fn withdraw(&mut self, sender: u64, id: u64, at: i64) -> bool;
    /// `block`.
    fn block(&mut self, blocker: u64, blocked: u64, at: i64) -> bool;
    /// `sent(member)`: how many.
    fn sent(&mut self, member: u64) -> usize;
    /// `received(member)`: how many.
    fn received(&mut self, member: u64) -> usize;
    /// `connections(member)`: how many.
    fn connections(&mut self, member: u64) -> usize;
    /// The unread-notification badge: how many.
    fn unread(&mut self, member: u64) -> usize;
}

/// Any connreq network as a target.
pub struct Connreq<'a, N: Network>(pub &'a N);

impl<N: Network> Target for Connreq<'_, N> {
    fn register(&mut self, member: u64, at: i64) -> bool {
        let email = format!("m{member}@example.com");
        self.0.register(MemberId(member), Some(&email), None, Timestamp(at)).is_ok()
    }
    fn send(&mut self, sender: u64, recipient: u64, at: i64) -> Option<u64> {
        self.0.send(MemberId(sender), MemberId(recipient), None, None, Timestamp(at)).ok().map(|r| r.0)
    }
    fn accept(&mut self, recipient: u64, id: u64, at: i64) -> bool {
        self.0.accept(MemberId(recipient), RequestId(id), Timestamp(at)).is_ok()
    }
    fn ignore(&mut self, recipient: u64, id: u64, at: i64) -> bool {
        self.0.ignore(MemberId(recipient), RequestId(id), Timestamp(at)).is_ok()
    }
    fn decline(&mut self, recipient: u64, id: u64, at: i64) -> bool {
        self.0.decline(MemberId(recipient), RequestId(id), None, Timestamp(at)).is_ok()
    }
    fn withdraw(&mut self, sender: u64, id: u64, at: i64) -> bool {
        self.0.withdraw(MemberId(sender), RequestId(id), None, Timestamp(at)).is_ok()
    }
    fn block(&mut self, blocker: u64, blocked: u64, at: i64) -> bool {
        self.0.block(MemberId(blocker), MemberId(blocked), Timestamp(at)).is_ok()
    }
    fn sent(&mut self, member: u64) -> usize {
        self.0.sent(MemberId(member), None).map_or(0, |v| v.len())
    }
    fn received(&mut self, member: u64) -> usize {
        self.0.received(MemberId(member), None).map_or(0, |v| v.len())
    }
    fn connections(&mut self, member: u64) -> usize {
        self.0.connections(MemberId(member)).map_or(0, |v| v.len())
    }
    fn unread(&mut self, member: u64) -> usize {
        self.0.unread_count(MemberId(member)).map_or(0, |n| n as usize)
    }
}

impl Target for SqlitePeer {
    fn register(&mut self, member: u64, at: i64) -> bool {
        let email = format!("m{member}@example.com");
        SqlitePeer::register(self, member, Some(&email), None, at).is_ok()
    }
    fn send(&mut self, sender: u64, recipient: u64, at: i64) -> Option<u64> {
        SqlitePeer::send(self, sender, recipient, None, at).ok()
    }
    fn accept(&mut self, recipient: u64, id: u64, at: i64) -> bool {
        SqlitePeer::accept(self, recipient, id, at).is_ok()
    }
    fn ignore(&mut self, recipient: u64, id: u64, at: i64) -> bool {
        SqlitePeer::ignore(self, recipient, id, at).is_ok()
    }
    fn decline(&mut self, recipient: u64, id: u64, at: i64) -> bool {
        SqlitePeer::decline(self, recipient, id, None, at).is_ok()
    }
    fn withdraw(&mut self, sender: u64, id: u64, at: i64) -> bool {
        SqlitePeer::withdraw(self, sender, id, None, at).is_ok()
    }
    fn block(&mut self, blocker: u64, blocked: u64, at: i64) -> bool {
        SqlitePeer::block(self, blocker, blocked, at).is_ok()
    }
    fn sent(&mut self, member: u64) -> usize {
        SqlitePeer::sent(self, member).map_or(0, |v| v.len())
    }
    fn received(&mut self, member: u64) -> usize {
        SqlitePeer::received(self, member).map_or(0, |v| v.len())
    }
    fn connections(&mut self, member: u64) -> usize {
        SqlitePeer::connections(self, member).map_or(0, |v| v.len())
    }
    fn unread(&mut self, member: u64) -> usize {
        SqlitePeer::unread_notifications(self, member).unwrap_or(0)
    }
}

/// Registers members `1..=members` and plays `requests` through `target`'s
/// own commands. Returns the time after the last command.
pub fn load(target: &mut impl Target, members: u64, requests: &[Preload]) -> i64 {
    let mut at = START;
    for m in 1..=members {
        target.register(m, at);
    }
    for p in requests {
        at += 1;
        let Some(id) = target.send(p.sender, p.recipient, at) else { continue };
        match p.fate {
            Fate::Pending => true,
            Fate::Ignored => target.ignore(p.recipient, id, at),
            Fate::Accepted => target.accept(p.recipient, id, at),
            Fate::Declined => target.decline(p.recipient, id, at),
            Fate::Withdrawn => target.withdraw(p.sender, id, at),
        };
    }
    at
}

/// What kind of operation a step of the mixed stream was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    /// A command that changes the network.
    Command,
    /// A read-only query.
    Query,
}

/// The mixed stream: 30% send, 15% accept, 5% ignore, 5% decline, 7%
/// withdraw, 1% block (by heavy-tailed members), and 37% queries (sent,
/// received, connections, the unread-notification badge) by any member.
#[derive(Clone, Debug)]
pub struct Mixed {
    rng: Rng,
    members: u64,
    open: Vec<(u64, u64, u64)>,
    /// The time of the next step.
    pub at: i64,
}

impl Mixed {
    /// A stream over `members` members, starting at `at`.
    pub fn new(members: u64, seed: u64, at: i64) -> Self {
        Self { rng: Rng::new(seed), members, open: Vec::new(), at }
    }

    fn take_open(&mut self) -> Option<(u64, u64, u64)> {
        if self.open.is_empty() {
            return None;
        }
        let i = self.rng.below(self.open.len() as u64) as usize;
        Some(self.open.swap_remove(i))
    }

    /// Runs one step; returns its kind.
    pub fn step(&mut self, t: &mut impl Target) -> Op {
        self.at += 1;
        let at = self.at;
        let roll = self.rng.below(100);
        // Senders are heavy-tailed; viewers of queries are anyone.
        let member =
            if roll < 63 { self.rng.active_member(self.members) } else { self.rng.below(self.members) + 1 };
        match roll {
            0..30 => {
                let recipient = self.rng.below(self.members) + 1;
                if let Some(id) = t.send(member, recipient, at)
                    && self.open.len() < 100_000
                {
                    self.open.push((id, member, recipient));
                }
                Op::Command
            }
            30..45 => {
                if let Some((id, _, r)) = self.take_open() {
                    t.accept(r, id, at);
                }
                Op::Command
            }
            45..50 => {
                if let Some((id, s, r)) = self.take_open()
                    && t.ignore(r, id, at)
                {
                    self.open.push((id, s, r));
                }
                Op::Command
            }
            50..55 => {
                if let Some((id, _, r)) = self.take_open() {
                    t.decline(r, id, at);
                }
                Op::Command
            }
            55..62 => {
                if let Some((id, s, _)) = self.take_open() {
                    t.withdraw(s, id, at);
                }
                Op::Command
            }
            62..63 => {
                let other = self.rng.below(self.members) + 1;
                t.block(member, other, at);
                Op::Command
            }
            63..73 => {
                std::hint::black_box(t.sent(member));
                Op::Query
            }
            73..83 => {
                std::hint::black_box(t.received(member));
                Op::Query
            }
            83..93 => {
                std::hint::black_box(t.connections(member));
                Op::Query
            }
            _ => {
                std::hint::black_box(t.unread(member));
                Op::Query
            }
        }
    }
}
