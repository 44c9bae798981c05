//! SPEC §11's queries on a large neighbourhood (issue targets: suggestions in
//! at most 5 ms, invitations with 50 open in at most 1 ms).
//!
//! cargo bench -p connreq-benches --bench members
//!
//! Member 1 has 1,000 connections; each of them has 1,000 connections (member
//! 1 and 999 others drawn at random from a pool of 100,000 members), so
//! suggestions walk a million list entries; 50 pool members have an open
//! invitation to member 1.

use connreq_core::{MemberId, MemoryNetwork, Network, Policy, Timestamp};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

const FRIENDS: u64 = 1_000;
const POOL: u64 = 100_000;
const OPEN: u64 = 50;
const T: Timestamp = Timestamp(1_790_000_000_000);

/// A small deterministic generator (xorshift), so every run builds the same network.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn network() -> MemoryNetwork {
    let net = MemoryNetwork::new(Policy::standard()).unwrap();
    let me = MemberId(1);
    let friend = |i: u64| MemberId(2 + i);
    let pool = |i: u64| MemberId(2 + FRIENDS + i);
    for id in 1..2 + FRIENDS + POOL {
        net.register(MemberId(id), None, None, T).unwrap();
    }
    let connect = |a: MemberId, b: MemberId| {
        if let Ok(r) = net.send(a, b, None, None, T) {
            net.accept(b, r, T).unwrap();
        }
    };
    for i in 0..FRIENDS {
        connect(me, friend(i));
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for i in 0..FRIENDS {
        while net.connection_count(friend(i)).unwrap() < FRIENDS {
            connect(friend(i), pool(rng.below(POOL)));
        }
    }
    // Open invitations from pool members not connected to member 1.
    let mut open = 0;
    let mut i = 0;
    while open < OPEN {
        if net.send(pool(i), me, None, None, T).is_ok() {
            open += 1;
        }
        i += 1;
    }
    net
}

fn members(c: &mut Criterion) {
    let net = network();
    let me = MemberId(1);
    assert_eq!(net.invitations(me, false).unwrap().len(), OPEN as usize);
    let mut group = c.benchmark_group("members");
    group.bench_function("suggestions_1000_connections_of_1000", |b| {
        b.iter(|| black_box(net.suggestions(black_box(me), 10, T).unwrap()))
    });
    group.bench_function("invitations_50_open_1000_connections", |b| {
        b.iter(|| black_box(net.invitations(black_box(me), false).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, members);
criterion_main!(benches);
