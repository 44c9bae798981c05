//! The in-memory model under a mixed command stream over 100,000 members
//! (issue target: at least 2,000,000 commands per second on one core).
//!
//! cargo bench -p connreq-benches --bench memory

use connreq_benches::workload::{Connreq, Mixed, load, preload};
use connreq_core::{MemoryNetwork, Policy};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const MEMBERS: u64 = 100_000;
const PRELOAD: u64 = 300_000;
const STEPS: u64 = 10_000;

fn mixed_stream(c: &mut Criterion) {
    let net = MemoryNetwork::new(Policy::standard()).unwrap();
    let mut target = Connreq(&net);
    let at = load(&mut target, MEMBERS, &preload(MEMBERS, PRELOAD, 1));
    let mut stream = Mixed::new(MEMBERS, 2, at);
    let mut group = c.benchmark_group("memory");
    group.throughput(Throughput::Elements(STEPS));
    group.bench_function("mixed_stream_100k_members", |b| {
        b.iter(|| {
            for _ in 0..STEPS {
                stream.step(&mut target);
            }
        })
    });
    group.finish();
}

criterion_group!(benches, mixed_stream);
criterion_main!(benches);
