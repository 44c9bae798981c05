//! The memory bench's stream from a fixed start, outside criterion, for
//! profiling and for a per-operation breakdown (docs/PERFORMANCE.md).
//!
//!     cargo run --release -p connreq-benches --example stream -- [REPS] [--by-kind]
//!
//! Each repetition copies the warmed network (100,000 members, 300,000
//! requests, 20,000 warm-up steps) and times 10,000 steps of the stream on the
//! copy; it prints the median and the 10th-percentile rate. `--by-kind` times
//! every call instead and prints what each kind of operation costs.
//!
//! For `perf record` of the timed part only, start perf with control fifos
//! (`perf record -D -1 --control=fifo:CTL,ACK ...`) and name them in
//! `PERF_CTL` and `PERF_ACK`: each repetition enables recording around its
//! timed steps. For callgrind, the timed steps are `timed_run`
//! (`--collect-atstart=no --toggle-collect='*timed_run*'`).

use connreq_benches::workload::{Connreq, Mixed, Target, load, preload};
use connreq_core::{MemoryNetwork, Policy};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::time::Instant;

const MEMBERS: u64 = 100_000;
const PRELOAD: u64 = 300_000;
const WARM_UP_STEPS: u64 = 20_000;
const STEPS: u64 = 10_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let reps = args.iter().find_map(|a| a.parse().ok()).unwrap_or(50usize).max(1);
    let net = MemoryNetwork::new(Policy::standard()).expect("the standard policy is valid");
    let mut target = Connreq(&net);
    let at = load(&mut target, MEMBERS, &preload(MEMBERS, PRELOAD, 1));
    let mut stream = Mixed::new(MEMBERS, 2, at);
    for _ in 0..WARM_UP_STEPS {
        stream.step(&mut target);
    }
    if args.iter().any(|a| a == "--by-kind") {
        by_kind(&net, &stream, reps);
    } else {
        rates(&net, &stream, reps);
    }
}

/// The perf control fifos named in `PERF_CTL` and `PERF_ACK`, if any.
struct PerfControl(Option<(File, File)>);

impl PerfControl {
    fn from_env() -> Self {
        let open = |ctl: String, ack: String| {
            let ctl = OpenOptions::new().write(true).open(ctl).expect("PERF_CTL opens for writing");
            (ctl, File::open(ack).expect("PERF_ACK opens"))
        };
        Self(std::env::var("PERF_CTL").ok().zip(std::env::var("PERF_ACK").ok()).map(|(c, a)| open(c, a)))
    }

    /// Sends `enable` or `disable` and waits for perf's acknowledgement.
    fn send(&mut self, command: &str) {
        if let Some((ctl, ack)) = &mut self.0 {
            ctl.write_all(format!("{command}\n").as_bytes()).expect("perf control");
            let mut reply = [0u8; 5];
            ack.read_exact(&mut reply).expect("perf acknowledges");
        }
    }
}

fn rates(net: &MemoryNetwork, stream: &Mixed, reps: usize) {
    let mut perf = PerfControl::from_env();
    let mut times = Vec::with_capacity(reps);
    for _ in 0..reps {
        let (copy, mut s) = (net.clone(), stream.clone());
        let mut t = Connreq(&copy);
        perf.send("enable");
        let start = Instant::now();
        timed_run(&mut s, &mut t);
        times.push(start.elapsed().as_secs_f64());
        perf.send("disable");
    }
    times.sort_by(f64::total_cmp);
    let (median, p10) = (times[times.len() / 2], times[times.len() / 10]);
    println!(
        "median {:.0} ops/s ({:.1} ns/op), 10th percentile {:.0} ops/s, {reps} repetitions",
        STEPS as f64 / median,
        median * 1e9 / STEPS as f64,
        STEPS as f64 / p10
    );
}

/// The measured part, in a function of its own so a profiler can pick it out.
#[inline(never)]
fn timed_run(s: &mut Mixed, t: &mut impl Target) {
    for _ in 0..STEPS {
        s.step(t);
    }
}

const KINDS: [&str; 10] =
    ["send", "accept", "ignore", "decline", "withdraw", "block", "sent", "received", "connections", "unread"];

/// A target that times every call, by kind: (calls, seconds).
struct Timed<'a, T: Target>(T, &'a mut [(u64, f64); KINDS.len()]);

impl<T: Target> Timed<'_, T> {
    fn time<R>(&mut self, kind: usize, call: impl FnOnce(&mut T) -> R) -> R {
        let start = Instant::now();
        let result = call(&mut self.0);
        self.1[kind].0 += 1;
        self.1[kind].1 += start.elapsed().as_secs_f64();
        result
    }
}

impl<T: Target> Target for Timed<'_, T> {
    fn register(&mut self, member: u64, at: i64) -> bool {
        self.0.register(member, at)
    }
    fn send(&mut self, sender: u64, recipient: u64, at: i64) -> Option<u64> {
        self.time(0, |t| t.send(sender, recipient, at))
    }
    fn accept(&mut self, recipient: u64, id: u64, at: i64) -> bool {
        self.time(1, |t| t.accept(recipient, id, at))
    }
    fn ignore(&mut self, recipient: u64, id: u64, at: i64) -> bool {
        self.time(2, |t| t.ignore(recipient, id, at))
    }
    fn decline(&mut self, recipient: u64, id: u64, at: i64) -> bool {
        self.time(3, |t| t.decline(recipient, id, at))
    }
    fn withdraw(&mut self, sender: u64, id: u64, at: i64) -> bool {
        self.time(4, |t| t.withdraw(sender, id, at))
    }
    fn block(&mut self, blocker: u64, blocked: u64, at: i64) -> bool {
        self.time(5, |t| t.block(blocker, blocked, at))
    }
    fn sent(&mut self, member: u64) -> usize {
        self.time(6, |t| t.sent(member))
    }
    fn received(&mut self, member: u64) -> usize {
        self.time(7, |t| t.received(member))
    }
    fn connections(&mut self, member: u64) -> usize {
        self.time(8, |t| t.connections(member))
    }
    fn unread(&mut self, member: u64) -> usize {
        self.time(9, |t| t.unread(member))
    }
}

fn by_kind(net: &MemoryNetwork, stream: &Mixed, reps: usize) {
    let mut acc = [(0u64, 0f64); KINDS.len()];
    for _ in 0..reps {
        let (copy, mut s) = (net.clone(), stream.clone());
        let mut t = Timed(Connreq(&copy), &mut acc);
        for _ in 0..STEPS {
            s.step(&mut t);
        }
    }
    let total: f64 = acc.iter().map(|a| a.1).sum();
    let calls: u64 = acc.iter().map(|a| a.0).sum();
    for (kind, (n, secs)) in KINDS.iter().zip(acc) {
        println!(
            "{kind:12} {:5.1}% of calls {:6.0} ns each {:5.1}% of the time",
            100.0 * n as f64 / calls as f64,
            secs * 1e9 / n.max(1) as f64,
            100.0 * secs / total
        );
    }
    println!("all calls    {:.0} ns each (timing included)", total * 1e9 / calls as f64);
}
