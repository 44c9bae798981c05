//! Email rendering: how many emails a second one core renders in each locale
//! (subject, plain text and HTML, as a dispatch builds them), over 1,000,000
//! queued emails of every kind, with notes, messages and dates.
//!
//! cargo run --release -p connreq-benches --bin render -- [--emails 1000000] [--runs 3]
//!
//! Builds one network in memory whose outbox holds `--emails` emails
//! (invitations with notes, acceptances, declines with messages, withdrawals,
//! some about requests older than a week), then for each locale sets every
//! member's language to it and renders every email, single-threaded. Prints
//! each run and the median per locale.

use connreq_core::{Locale, MemberId, MemoryNetwork, Network, Policy, Timestamp};
use std::time::Instant;

const T: Timestamp = Timestamp(1_790_000_000_000);
const DAY: i64 = 86_400_000;

fn args() -> (u64, usize) {
    let (mut emails, mut runs) = (1_000_000u64, 3usize);
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--emails" => emails = value().parse().expect("--emails N"),
            "--runs" => runs = value().parse().expect("--runs N"),
            other => panic!("unknown option {other}"),
        }
    }
    (emails, runs)
}

/// A network whose outbox holds about `emails` emails: invitations (a third
/// with a note), then, nine days on (so their texts name the date), answers to
/// half of them: acceptances, declines and withdrawals with messages.
fn network(emails: u64) -> (MemoryNetwork, u64) {
    let net = MemoryNetwork::new(Policy::standard()).unwrap();
    let members = (emails / 3).max(20);
    for m in 1..=members {
        let name = format!("Member Nº{m} O'Neil & Co");
        net.register(MemberId(m), Some(&format!("m{m}@example.com")), Some(&name), T).unwrap();
    }
    // An answer skips its invitation email and queues one of its own: one queued email a send.
    let sends = emails;
    let mut requests = Vec::with_capacity(sends as usize);
    let mut t = T;
    for i in 0..sends {
        let sender = i % members + 1;
        let recipient = (sender + 1 + i / members) % members + 1;
        let note = (i % 3 == 0).then_some("We met at the \"Data & AI\" meetup — <hi>!");
        t = Timestamp(t.0 + 1);
        if let Ok(r) = net.send(MemberId(sender), MemberId(recipient), note, None, t) {
            requests.push((r, sender, recipient));
        }
    }
    t = Timestamp(t.0 + 9 * DAY);
    for (i, (r, sender, recipient)) in requests.iter().enumerate().filter(|(i, _)| i % 2 == 0) {
        let (s, r2) = (MemberId(*sender), MemberId(*recipient));
        let _ = match i % 3 {
            0 => net.accept(r2, *r, t),
            1 => net.decline(r2, *r, Some("Sorry, I don't connect with strangers"), t),
            _ => net.withdraw(s, *r, Some("Wrong person, apologies"), t),
        };
    }
    (net, members)
}

fn main() {
    let (emails, runs) = args();
    let started = Instant::now();
    let (net, members) = network(emails);
    let ids: Vec<_> = net.pending_emails(None).unwrap().into_iter().map(|e| e.id).collect();
    println!(
        "{} queued emails for {members} members, built in {:.1} s",
        ids.len(),
        started.elapsed().as_secs_f64()
    );
    let mut t = Timestamp(T.0 + 365 * DAY);
    for locale in Locale::ALL {
        for m in 1..=members {
            net.set_locale(MemberId(m), *locale, t).unwrap();
        }
        t = Timestamp(t.0 + 1);
        let mut rates = Vec::new();
        for run in 0..runs {
            let start = Instant::now();
            let bytes: usize = net
                .read(|model| {
                    ids.iter()
                        .map(|id| {
                            model.email(*id).map_or(0, |e| e.subject.len() + e.body.len() + e.html.len())
                        })
                        .sum()
                })
                .unwrap();
            let rate = ids.len() as f64 / start.elapsed().as_secs_f64();
            println!(
                "{locale} run {run}: {rate:.0} emails/s ({:.0} bytes each)",
                bytes as f64 / ids.len() as f64
            );
            rates.push(rate);
        }
        rates.sort_by(f64::total_cmp);
        println!("{locale} median: {:.0} emails/s on one core (target: 200,000)", rates[rates.len() / 2]);
    }
}
