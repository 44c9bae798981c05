//! The sled store, the SQLite peer and sled's raw sequential insert, measured
//! in one run on the same mixed stream (a small preload; the full-size
//! comparison is `src/bin/load.rs`).
//!
//! cargo bench -p connreq-benches --bench store

use connreq_benches::sqlite_peer::SqlitePeer;
use connreq_benches::workload::{Connreq, Mixed, load, preload};
use connreq_core::Policy;
use connreq_store::{Durability, OpenOptions, Store};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const MEMBERS: u64 = 20_000;
const PRELOAD: u64 = 60_000;
const STEPS: u64 = 1_000;

fn compare(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let data = preload(MEMBERS, PRELOAD, 1);
    let mut group = c.benchmark_group("store");
    group.throughput(Throughput::Elements(STEPS));
    group.sample_size(20);

    // Durable within 500 ms, as the figures of docs/PERFORMANCE.md were measured
    // (`--bin durable` measures commands each durable before they return).
    let options =
        OpenOptions { durability: Durability::Background, ..OpenOptions::with_policy(Policy::standard()) };
    let store = Store::open_with(dir.path().join("connreq"), options).unwrap();
    let mut target = Connreq(&store);
    let at = load(&mut target, MEMBERS, &data);
    let mut stream = Mixed::new(MEMBERS, 2, at);
    group.bench_function("connreq_sled_mixed", |b| {
        b.iter(|| {
            for _ in 0..STEPS {
                stream.step(&mut target);
            }
        })
    });

    let mut peer = SqlitePeer::open(&dir.path().join("peer.sqlite")).unwrap();
    let at = load(&mut peer, MEMBERS, &data);
    let mut stream = Mixed::new(MEMBERS, 2, at);
    group.bench_function("sqlite_peer_mixed", |b| {
        b.iter(|| {
            for _ in 0..STEPS {
                stream.step(&mut peer);
            }
        })
    });

    let raw = sled::Config::new().path(dir.path().join("raw")).open().unwrap();
    let tree = raw.open_tree("log").unwrap();
    let mut key = 0u64;
    let value = vec![7u8; 96];
    group.bench_function("sled_raw_sequential_insert", |b| {
        b.iter(|| {
            for _ in 0..STEPS {
                key += 1;
                tree.insert(key.to_be_bytes(), value.as_slice()).unwrap();
            }
        })
    });
    group.finish();
}

criterion_group!(benches, compare);
criterion_main!(benches);
