//! Databases written by earlier versions: `fixtures/format2.db` was written by
//! connreq with format 2 (events without notices) and `fixtures/format2.expected`
//! holds what that version answered about it; `fixtures/format3.db` the same
//! commands by the version with format 3 (notices without digests, reminders
//! or locales), and `format3.expected` its answers. Opening one upgrades it to
//! the current format; every answer must stay what it was.
//!
//! The fixture: twelve members (some without an address, one with markup in
//! the name), accepted, declined, withdrawn, ignored, expired and cancelled
//! requests, a `dont_know` report, flags of four rules (one cleared, one that
//! restricted automatically), read marks, emails marked sent, a policy change
//! (silent withdrawals, a five-minute email delay), an unblock; the last
//! commands still in the log's tail, and a snapshot of the old layout.

mod common;

use common::storage_error;
use connreq_core::{FlagId, MemberId, Network, Policy, Seq, Timestamp};
use connreq_store::{FORMAT, OpenOptions, Store};
use serde_json::Value;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn fixture_of(format: u8) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/format{format}.db"))
}

fn fixture() -> PathBuf {
    fixture_of(2)
}

/// A copy of the fixture to open (opening upgrades it in place).
fn copy_of_fixture() -> tempfile::TempDir {
    copy_of(fixture())
}

fn copy_of(fixture: PathBuf) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("db");
    std::fs::create_dir(&to).unwrap();
    for entry in std::fs::read_dir(fixture).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
    dir
}

fn keep_policy() -> OpenOptions {
    OpenOptions { policy: None, ..OpenOptions::default() }
}

/// What the fixture's version answered, field by field (texts are rendering,
/// not stored facts, and are left out; so are email ids).
fn dump(net: &impl Network, members: impl IntoIterator<Item = u64>) -> Vec<String> {
    let mut o = String::new();
    let req = |r: &connreq_core::Request| {
        format!(
            "{} {}->{} {} note={:?} msg={:?} created={} updated={}",
            r.id.0, r.sender.0, r.recipient.0, r.state, r.note, r.message, r.created_at.0, r.updated_at.0
        )
    };
    for i in members {
        let m = MemberId(i);
        for r in net.sent(m, None).unwrap() {
            writeln!(o, "sent {i}: {}", req(&r)).unwrap();
        }
        for r in net.received(m, None).unwrap() {
            writeln!(o, "received {i}: {}", req(&r)).unwrap();
        }
        let connections: Vec<u64> = net.connections(m).unwrap().iter().map(|c| c.0).collect();
        writeln!(o, "connections {i}: {connections:?}").unwrap();
        for n in net.notifications(m, false).unwrap() {
            writeln!(
                o,
                "notification {i}: {} {} req={} actor={} at={} read={}",
                n.id.0, n.kind, n.request_id.0, n.actor.0, n.created_at.0, n.read
            )
            .unwrap();
        }
        writeln!(o, "standing {i}: {}", net.standing(m).unwrap()).unwrap();
    }
    for e in net.pending_emails(None).unwrap() {
        writeln!(o, "email: to={} addr={} due={}", e.member.0, e.address, e.due_at.0).unwrap();
    }
    for f in net.read(|m| m.all_flags()).unwrap() {
        let evidence: Vec<u64> = f.evidence.iter().map(|s| s.0).collect();
        writeln!(
            o,
            "flag: {} member={} rule={} status={} created={} evidence={evidence:?}",
            f.id.0, f.member.0, f.rule, f.status, f.created_at.0
        )
        .unwrap();
    }
    let s = net.stats().unwrap();
    writeln!(
        o,
        "stats: requests={:?} connections={} members={:?} open_flags={} unsent={} events={}",
        s.requests, s.connections, s.members, s.open_flags, s.unsent_emails, s.events
    )
    .unwrap();
    for e in net.events(Seq(0), None).unwrap() {
        writeln!(
            o,
            "event: {} at={} {} actor={:?} subject={:?} request={:?} detail={}",
            e.seq.0,
            e.at.0,
            e.kind,
            e.actor.map(|a| a.0),
            e.subject.map(|a| a.0),
            e.request_id.map(|a| a.0),
            e.detail
        )
        .unwrap();
    }
    o.lines().map(str::to_owned).collect()
}

/// Whether every field of `old` is in `new` with the same value (objects may gain fields).
fn within(old: &Value, new: &Value) -> bool {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => a.iter().all(|(k, v)| b.get(k).is_some_and(|w| within(v, w))),
        _ => old == new,
    }
}

/// What SPEC §18 changed since the fixture's version answered: a withdrawal
/// the recipient was not told of (the policy's `notify_on_withdraw` was off)
/// leaves the recipient's list.
const HIDDEN_SINCE: &[&str] = &[
    r#"received 3: 15 2->3 withdrawn note=Some("again") msg=Some("silent") created=1795929031061 updated=1795929031061"#,
];

/// Compares a dump with the expected one: equal line by line, except that an
/// event's `detail` may hold more fields than it did, and what SPEC §18 hides.
fn assert_reads_as_before(got: &[String]) {
    assert_reads_as(fixture(), HIDDEN_SINCE, got);
}

/// [`assert_reads_as_before`] for the fixture at `fixture`, with `hidden`
/// what the answers no longer show.
fn assert_reads_as(fixture: PathBuf, hidden: &[&str], got: &[String]) {
    let all = std::fs::read_to_string(fixture.with_extension("expected")).unwrap();
    for line in hidden {
        assert!(all.lines().any(|l| l == *line), "{line} is in the fixture's answers");
    }
    let expected: Vec<String> = all.lines().filter(|l| !hidden.contains(l)).map(str::to_owned).collect();
    assert_eq!(got.len(), expected.len(), "{got:#?}");
    for (g, e) in got.iter().zip(&expected) {
        match (g.split_once(" detail="), e.split_once(" detail=")) {
            (Some((g_head, g_detail)), Some((e_head, e_detail))) => {
                assert_eq!(g_head, e_head);
                let (g_json, e_json): (Value, Value) =
                    (serde_json::from_str(g_detail).unwrap(), serde_json::from_str(e_detail).unwrap());
                assert!(within(&e_json, &g_json), "{e_head}: {e_detail} is not within {g_detail}");
            }
            _ => assert_eq!(g, e),
        }
    }
}

/// The format record, read with sled itself (polling a moment for the lock a
/// store closed just now: sled releases it from its own threads).
fn format_of(path: &Path) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let db = loop {
        match sled::open(path) {
            Ok(db) => break db,
            Err(e) if std::time::Instant::now() < deadline => {
                assert!(e.to_string().contains("lock"), "{e}");
                std::thread::yield_now();
            }
            Err(e) => panic!("{e}"),
        }
    };
    String::from_utf8(db.get(b"format").unwrap().unwrap().to_vec()).unwrap()
}

#[test]
fn a_format_2_database_upgrades_and_answers_every_query_as_it_did() {
    let dir = copy_of_fixture();
    let path = dir.path().join("db");
    assert_eq!(format_of(&path), "connreq-store/2");
    let store = Store::open_with(&path, keep_policy()).unwrap();
    assert_reads_as_before(&dump(&store, 1..=12));
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
    store.close().unwrap();
    assert_eq!(format_of(&path), FORMAT);
    // Reopened (now from the new log and a new snapshot), and after compaction.
    let store = Store::open_with(&path, keep_policy()).unwrap();
    assert_reads_as_before(&dump(&store, 1..=12));
    store.compact().unwrap();
    assert_reads_as_before(&dump(&store, 1..=12));
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
}

#[test]
fn standing_changes_name_their_flags_after_the_upgrade() {
    let dir = copy_of_fixture();
    let store = Store::open_with(dir.path().join("db"), keep_policy()).unwrap();
    let flags: Vec<(u64, u64)> = store
        .events(Seq(0), None)
        .unwrap()
        .iter()
        .filter(|e| e.kind == "standing_changed")
        .map(|e| {
            let d: Value = serde_json::from_str(&e.detail).unwrap();
            (e.seq.0, d["flag"].as_u64().expect("the flag is named"))
        })
        .collect();
    // Withdrawals (flag 1) put member 1 under review; member 5's burst flag (2)
    // put them under review; the reported flag (4) restricted them; clearing
    // flag 1 brought member 1 back.
    assert_eq!(flags, vec![(24, 1), (31, 2), (44, 4), (46, 1)]);
    let restricted = store.read(|m| m.flag(FlagId(4))).unwrap().unwrap();
    assert_eq!(restricted.member, MemberId(5));
}

#[test]
fn the_upgraded_database_takes_new_commands_and_keeps_its_clock() {
    let dir = copy_of_fixture();
    let store = Store::open_with(dir.path().join("db"), keep_policy()).unwrap();
    let last = store.events(Seq(0), None).unwrap().last().unwrap().at;
    let err = store.register(MemberId(13), None, None, Timestamp(last.0 - 60_000)).unwrap_err();
    assert!(err.to_string().contains("before the last event"), "{err}");
    store.register(MemberId(13), Some("m13@example.com"), Some("Thirteen"), last).unwrap();
    let r = store.send(MemberId(13), MemberId(2), None, None, last).unwrap();
    store.accept(MemberId(2), r, last).unwrap();
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
    // The policy the fixture changed to is still in force: a withdrawal tells no one.
    let r = store.send(MemberId(13), MemberId(3), None, None, last).unwrap();
    let before = store.notifications(MemberId(3), false).unwrap().len();
    store.withdraw(MemberId(13), r, None, last).unwrap();
    assert_eq!(store.notifications(MemberId(3), false).unwrap().len(), before);
    assert_eq!(store.policy().unwrap().email_delay, std::time::Duration::from_secs(300));
    assert_ne!(store.policy().unwrap(), Policy::standard());
}

/// Format 1 is format 2 without a tail: every command a record of the log.
fn as_format_1(dir: &Path) {
    let db = sled::open(dir).unwrap();
    let log = db.open_tree("log").unwrap();
    for name in db.tree_names().into_iter().filter(|n| n.starts_with(b"tail:")) {
        for item in db.open_tree(&name).unwrap().iter() {
            let (k, v) = item.unwrap();
            log.insert(k, v).unwrap();
        }
        db.drop_tree(&name).unwrap();
    }
    db.insert(b"format", "connreq-store/1".as_bytes()).unwrap();
    db.flush().unwrap();
}

#[test]
fn a_format_1_database_opens_reads_back_and_is_marked_with_the_current_format() {
    let dir = copy_of_fixture();
    let path = dir.path().join("db");
    std::fs::remove_file(path.join("connreq.snapshot")).unwrap();
    as_format_1(&path);
    assert_eq!(format_of(&path), "connreq-store/1");
    let store = Store::open_with(&path, keep_policy()).unwrap();
    assert_reads_as_before(&dump(&store, 1..=12));
    let at = store.events(Seq(0), None).unwrap().last().unwrap().at;
    for m in 200..260u64 {
        store.register(MemberId(m), Some(&format!("m{m}@example.com")), None, at).unwrap();
        if m > 200 {
            let id = store.send(MemberId(m), MemberId(m - 1), Some("hello"), None, at).unwrap();
            if m % 2 == 0 {
                store.accept(MemberId(m - 1), id, at).unwrap();
            }
        }
    }
    let before = dump(&store, (1..=12).chain(200..260));
    store.compact().unwrap();
    assert_eq!(dump(&store, (1..=12).chain(200..260)), before);
    store.close().unwrap();
    assert_eq!(format_of(&path), FORMAT);
    let store = Store::open_with(&path, keep_policy()).unwrap();
    assert_eq!(dump(&store, (1..=12).chain(200..260)), before);
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
}

#[test]
fn an_upgrade_cut_short_before_it_took_effect_starts_over() {
    let dir = copy_of_fixture();
    let path = dir.path().join("db");
    {
        // What a crash while writing the converted log leaves: a partial tree.
        let db = sled::open(&path).unwrap();
        db.open_tree("upgrade:log").unwrap().insert(1u64.to_be_bytes(), b"half-written".as_slice()).unwrap();
        db.flush().unwrap();
    }
    let store = Store::open_with(&path, keep_policy()).unwrap();
    assert_reads_as_before(&dump(&store, 1..=12));
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
    store.close().unwrap();
    let db = sled::open(&path).unwrap();
    assert!(!db.tree_names().iter().any(|n| n.as_ref() == b"upgrade:log"));
}

#[test]
fn an_upgrade_cut_short_after_it_took_effect_is_finished_on_open() {
    let dir = copy_of_fixture();
    let path = dir.path().join("db");
    Store::open_with(&path, keep_policy()).unwrap().close().unwrap();
    {
        // What a crash after the switch leaves: the converted log beside the
        // old one (here: a copy of the new log under the upgrade's name, and
        // the log tree replaced by garbage that must not be read).
        let db = sled::open(&path).unwrap();
        let log = db.open_tree("log").unwrap();
        let staged = db.open_tree("upgrade:log").unwrap();
        for item in log.iter() {
            let (k, v) = item.unwrap();
            staged.insert(k, v).unwrap();
        }
        log.insert(1u64.to_be_bytes(), b"the old log".as_slice()).unwrap();
        db.insert(b"upgrading", b"1".as_slice()).unwrap();
        db.flush().unwrap();
    }
    // The upgrade's first open wrote no snapshot (too few events), so the log is what is read.
    assert!(!path.join("connreq.snapshot").exists());
    let store = Store::open_with(&path, keep_policy()).unwrap();
    assert_reads_as_before(&dump(&store, 1..=12));
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
}

#[test]
fn a_format_2_log_that_cannot_be_read_is_refused_and_left_as_it_was() {
    let dir = copy_of_fixture();
    let path = dir.path().join("db");
    {
        let db = sled::open(&path).unwrap();
        db.open_tree("log").unwrap().insert(500u64.to_be_bytes(), b"\xff\xff not events".as_slice()).unwrap();
        db.flush().unwrap();
    }
    let message = storage_error(Store::open_with(&path, keep_policy()));
    assert!(message.contains("damaged event record"), "{message}");
    assert_eq!(format_of(&path), "connreq-store/2");
}

#[test]
fn a_format_3_database_upgrades_and_answers_every_query_as_it_did() {
    let dir = copy_of(fixture_of(3));
    let path = dir.path().join("db");
    assert_eq!(format_of(&path), "connreq-store/3");
    let store = Store::open_with(&path, keep_policy()).unwrap();
    assert_reads_as(fixture_of(3), &[], &dump(&store, 1..=12));
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
    store.close().unwrap();
    assert_eq!(format_of(&path), FORMAT);
    let store = Store::open_with(&path, keep_policy()).unwrap();
    assert_reads_as(fixture_of(3), &[], &dump(&store, 1..=12));
    store.compact().unwrap();
    assert_reads_as(fixture_of(3), &[], &dump(&store, 1..=12));
    // And it takes what format 3 could not say: a daily digest, a language.
    let last = store.events(Seq(0), None).unwrap().last().unwrap().at;
    store.set_email_frequency(MemberId(2), connreq_core::EmailFrequency::Daily, last).unwrap();
    store.set_locale(MemberId(2), connreq_core::Locale::Fr, last).unwrap();
    store.send(MemberId(7), MemberId(2), None, None, last).unwrap();
    let digest = store.pending_emails(None).unwrap().into_iter().find(|e| e.member == MemberId(2)).unwrap();
    assert_eq!(digest.kind, connreq_core::EmailKind::Digest);
    assert_eq!(digest.subject, "1 nouvelle notification");
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
}

#[test]
fn a_format_3_database_read_only_says_to_open_it_for_writing_once() {
    let dir = copy_of(fixture_of(3));
    let path = dir.path().join("db");
    match Store::open_with(&path, OpenOptions::read_only()) {
        Err(connreq_core::Error::StorageError(m)) => {
            assert!(m.contains("connreq-store/3") && m.contains("upgrade"), "{m}")
        }
        other => panic!("{:?}", other.err()),
    }
    assert_eq!(format_of(&path), "connreq-store/3");
}
