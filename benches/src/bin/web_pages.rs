//! The web interface's pages (SPEC §14): the server time to render each
//! page's content, and each page's weight, for a member with 1,000
//! invitations waiting and 10,000 notifications.
//!
//! cargo run --release -p connreq-benches --bin web_pages -- [--runs 200]
//!
//! Builds one database (sled, as `connreq serve` has it) where member 1 has
//! 1,000 open invitations (each sender sharing 10 connections with them, a
//! note of the longest length allowed, 300 characters, on each), 1,000
//! invitations of their own waiting, 500 connections and 10,000
//! notifications; 100 members are flagged for repeated withdrawals (each
//! withdrawal with a 300-character message), and 10 of those flags are
//! decided with a note of the longest length allowed (2,000 characters), so
//! the review page shows its largest. Renders each page's content as
//! `GET /ui/part/{page}` does
//! (the review queue and dashboard as a moderator), `--runs` times, and
//! prints the median, 99th percentile and largest time, and the page's
//! weight: its shell, script, style sheet, icon and content.

use connreq_core::{Decision, MemberId, Network, NotificationId, Policy, RequestState, Timestamp};
use connreq_server::web::assets::{ICON, SCRIPT, STYLE};
use connreq_server::web::part::{PartQuery, Viewer, render};
use connreq_server::web::shell::{self, Page};
use connreq_store::{Durability, OpenOptions, Store};
use std::time::{Duration, Instant};

const ME: MemberId = MemberId(1);

/// A note (and a message) of the longest length allowed: 300 characters,
/// with markup to escape.
static NOTE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    "We met at the conference <b>last week</b> & talked. ".repeat(6).chars().take(300).collect()
});

fn runs() -> usize {
    let mut it = std::env::args().skip(1);
    let mut runs = 200;
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--runs" => runs = it.next().and_then(|v| v.parse().ok()).expect("--runs N"),
            other => panic!("unknown option {other}"),
        }
    }
    runs
}

/// The network described above.
fn network() -> Store {
    let options =
        OpenOptions { durability: Durability::Manual, ..OpenOptions::with_policy(Policy::standard()) };
    let net = Store::temporary_with(options).expect("a temporary database");
    let mut clock = 1_790_000_000_000i64;
    let mut at = || {
        clock += 1;
        Timestamp(clock)
    };
    let register = |m: u64, t| {
        net.register(
            MemberId(m),
            Some(&format!("m{m}@example.com")),
            Some(&format!("Member {m} <O'Neil & Co>")),
            t,
        )
        .unwrap()
    };
    // Member 1's 500 connections: 5502..=6001 (500 acceptances notify member 1).
    for m in 1..=7202 {
        register(m, at());
    }
    for c in 5502..=6001 {
        let id = net.send(ME, MemberId(c), None, None, at()).unwrap();
        net.accept(MemberId(c), id, at()).unwrap();
    }
    // 1,000 invitations waiting for member 1, each sender sharing 10 of its connections.
    for s in 2..=1001u64 {
        for k in 0..10 {
            let c = MemberId(5502 + (s * 7 + k * 50) % 500);
            let id = net.send(MemberId(s), c, None, None, at()).unwrap();
            net.accept(c, id, at()).unwrap();
        }
        net.send(MemberId(s), ME, Some(&NOTE), None, at()).unwrap();
    }
    // 4,250 invitations to member 1 withdrawn: 8,500 notifications.
    for s in 1002..=5251u64 {
        let id = net.send(MemberId(s), ME, None, None, at()).unwrap();
        net.withdraw(MemberId(s), id, Some("Sorry, wrong person"), at()).unwrap();
    }
    // 1,000 invitations of member 1's own, waiting.
    for r in 6002..=7001u64 {
        net.send(ME, MemberId(r), Some("Hello"), None, at()).unwrap();
    }
    // 100 members flagged for withdrawing three times to the same member.
    for s in 7002..=7101u64 {
        for _ in 0..3 {
            let id = net.send(MemberId(s), MemberId(7202), Some("again"), None, at()).unwrap();
            net.withdraw(MemberId(s), id, Some(&NOTE), at()).unwrap();
        }
    }
    // 10 of them decided, each with the longest note a moderator may write.
    let moderator_note = "Seen the evidence & the member's answer <ok>. ".repeat(50);
    let moderator_note: String = moderator_note.chars().take(2_000).collect();
    for flag in net.review_queue().unwrap().into_iter().take(10) {
        net.resolve_flag_by(flag.id, Decision::Clear, Some(MemberId(7201)), Some(&moderator_note), at())
            .unwrap();
    }
    net.flush().unwrap();
    net
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let runs = runs();
    let started = Instant::now();
    let net = network();
    let (invitations, notifications) = net
        .read(|m| {
            (
                m.invitations(ME, false).unwrap().len(),
                m.notifications_page(ME, None, NotificationId(0), usize::MAX).unwrap().len(),
            )
        })
        .unwrap();
    let sent = net.sent(ME, Some(RequestState::Pending)).unwrap().len();
    let flags = net.review_queue().unwrap().len();
    println!(
        "member 1: {invitations} invitations waiting, {notifications} notifications, {sent} sent waiting; {flags} open flags (built in {:.1} s)",
        started.elapsed().as_secs_f64()
    );
    println!(
        "{:<14} {:>10} {:>10} {:>10} {:>12} {:>12}",
        "page", "median", "p99", "max", "content", "page weight"
    );
    let member = Viewer { member: Some(ME), moderator: false };
    let moderator = Viewer { member: Some(ME), moderator: true };
    let fixed = SCRIPT.len() + STYLE.len() + ICON.len();
    for page in Page::ALL {
        let viewer = if page.for_moderators() { moderator } else { member };
        let mut times = Vec::with_capacity(runs);
        let mut size = 0;
        for _ in 0..runs {
            let t = Instant::now();
            let shell = shell::render(page, false).into_string();
            let html = render(&net, page, viewer, PartQuery::default(), NotificationId(0)).expect("renders");
            times.push(t.elapsed());
            size = html.len();
            std::hint::black_box((shell, html));
        }
        times.sort();
        let shell = shell::render(page, false).into_string().len();
        println!(
            "{:<14} {:>8.2}ms {:>8.2}ms {:>8.2}ms {:>10.1}KB {:>10.1}KB",
            page.name(),
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            percentile(&times, 0.99).as_secs_f64() * 1e3,
            times[times.len() - 1].as_secs_f64() * 1e3,
            size as f64 / 1024.0,
            (shell + fixed + size) as f64 / 1024.0,
        );
    }
    net.close().unwrap();
}
