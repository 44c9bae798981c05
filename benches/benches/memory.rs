//! The in-memory model under a mixed command stream over 100,000 members
//! (issue target: at least 2,000,000 commands per second on one core).
//!
//! cargo bench -p connreq-benches --bench memory
//!
//! Two measures of the same stream:
//! - `mixed_stream_100k_members`: one network kept across iterations, so the
//!   state grows while it is measured (by 3,000 requests per iteration; how
//!   far depends on how many iterations criterion runs);
//! - `mixed_stream_100k_members_fixed_start`: every iteration starts from a
//!   copy of the same network (300,000 requests preloaded, then 20,000 steps
//!   of the stream so it has open requests to act on); the copy is made
//!   outside the timed part.

use connreq_benches::workload::{Connreq, Mixed, load, preload};
use connreq_core::{MemoryNetwork, Policy};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

const MEMBERS: u64 = 100_000;
const PRELOAD: u64 = 300_000;
const STEPS: u64 = 10_000;
const WARM_UP_STEPS: u64 = 20_000;

fn mixed_stream(c: &mut Criterion) {
    let net = MemoryNetwork::new(Policy::standard()).unwrap();
    let mut target = Connreq(&net);
    let at = load(&mut target, MEMBERS, &preload(MEMBERS, PRELOAD, 1));
    let mut stream = Mixed::new(MEMBERS, 2, at);
    for _ in 0..WARM_UP_STEPS {
        stream.step(&mut target);
    }
    let (start_net, start_stream) = (net.clone(), stream.clone());
    let mut group = c.benchmark_group("memory");
    group.throughput(Throughput::Elements(STEPS));
    group.bench_function("mixed_stream_100k_members_fixed_start", |b| {
        b.iter_batched(
            || (start_net.clone(), start_stream.clone()),
            |(net, mut stream)| {
                let mut target = Connreq(&net);
                for _ in 0..STEPS {
                    stream.step(&mut target);
                }
                net
            },
            BatchSize::PerIteration,
        )
    });
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
