//! The command line's side of "never lose an acknowledged write" (SPEC §17):
//! read-only commands leave every file as it was, a damaged database is
//! reported and repaired, `check --json` always prints JSON, `backup` makes a
//! copy that checks clean, and member text that could reorder a terminal is
//! shown escaped.

use assert_cmd::cargo::cargo_bin_cmd;
use connreq_core::{Event, EventBody, MemberId, Network, RequestId, Seq, Timestamp};
use connreq_store::{OpenOptions, Store};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn connreq(db: &Path, args: &[&str]) -> Run {
    let out = cargo_bin_cmd!("connreq").arg("--db").arg(db).args(args).output().expect("the binary runs");
    Run {
        code: out.status.code().expect("exited normally, not by a signal"),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    }
}

fn ok(db: &Path, args: &[&str]) -> String {
    let r = connreq(db, args);
    assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    r.stdout
}

/// Every file under `dir` but sled's `snap.*`, with its bytes.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            let name = entry.path().strip_prefix(dir).unwrap().to_owned();
            if entry.file_type().unwrap().is_dir() {
                stack.push(entry.path());
            } else if !name.to_string_lossy().starts_with("snap.") {
                out.insert(name, std::fs::read(entry.path()).unwrap());
            }
        }
    }
    out
}

/// A database with members, requests in every state, a block, a report and a flag.
fn populated() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("connreq.db");
    let script = "\
register 1 --name Ada --email ada@example.com --at 2026-01-01T00:00Z
register 2 --name Bob --email bob@example.com --at 2026-01-01T00:00Z
register 3 --name Cy --at 2026-01-01T00:00Z
register 4 --at 2026-01-01T00:00Z
send 1 2 --note 'We met at the conference' --at 2026-01-02T00:00Z
accept 2 1 --at 2026-01-03T00:00Z
send 3 1 --at 2026-01-04T00:00Z
send 4 1 --at 2026-01-04T00:00Z
decline 1 3 --message 'Sorry' --at 2026-01-05T00:00Z
report 1 4 spam --at 2026-01-06T00:00Z
report 2 4 spam --at 2026-01-06T00:00Z
report 3 4 spam --at 2026-01-06T00:00Z
block 2 4 --at 2026-01-07T00:00Z
";
    let r = cargo_bin_cmd!("connreq").arg("--db").arg(&db).arg("batch").write_stdin(script).output().unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    (dir, db)
}

#[test]
fn read_only_commands_leave_every_file_byte_for_byte_as_it_was() {
    let (dir, db) = populated();
    let before = files(&db);
    let reads: &[&[&str]] = &[
        &["stats"],
        &["--json", "stats"],
        &["check"],
        &["--json", "check"],
        &["sent", "1"],
        &["received", "1", "--state", "declined"],
        &["inbox", "2"],
        &["inbox", "2", "--unread"],
        &["connections", "1"],
        &["standing", "4"],
        &["review"],
        &["request", "1"],
        &["events"],
        &["events", "--format", "csv", "--since", "3", "--limit", "4"],
    ];
    for args in reads {
        let r = connreq(&db, args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        assert_eq!(r.stderr, "", "{args:?}");
        assert!(files(&db) == before, "`connreq {}` changed the database", args.join(" "));
    }
    // A backup reads the database only, too.
    let copy = dir.path().join("copy");
    ok(&db, &["backup", copy.to_str().unwrap()]);
    assert!(files(&db) == before, "`connreq backup` changed the database");
    // A policy given to a command that only reads is refused, and nothing changes.
    for args in [
        &["--policy", "linkedin", "stats"][..],
        &["--policy", "standard", "events"],
        &["--policy", "linkedin", "check"],
    ] {
        let r = connreq(&db, args);
        assert_eq!(r.code, 2, "{args:?}");
        assert!(
            r.stderr.contains("--policy cannot be given") && r.stderr.contains("only reads"),
            "{}",
            r.stderr
        );
    }
    assert!(files(&db) == before, "a refused --policy changed the database");
    let events = ok(&db, &["events"]);
    assert!(!events.contains("policy_changed"), "{events}");
    // Commands that write do change it (the comparison above can see a change).
    ok(&db, &["inbox", "2", "--mark-read"]);
    assert!(files(&db) != before);
}

#[test]
fn every_command_that_returns_is_on_disk() {
    // Each invocation is its own process: what it acknowledged is what the next one finds.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("connreq.db");
    for m in 1..=5 {
        ok(&db, &["register", &m.to_string()]);
    }
    for m in 2..=5 {
        ok(&db, &["send", "1", &m.to_string()]);
    }
    let stats: Value = serde_json::from_str(&ok(&db, &["--json", "stats"])).unwrap();
    assert_eq!(stats["requests"]["pending"], 4);
}

/// Closes a database after removing events `from..=to` from its log, as
/// damage behind its snapshot would leave it.
fn lose_events_behind_the_snapshot(db: &Path, from: u64, to: u64) {
    let options = OpenOptions { snapshot_after_events: 0, ..OpenOptions::default() };
    let store = Store::open_with(db, options).unwrap();
    // A command makes closing save a snapshot of everything.
    store.register(MemberId(50), None, None, Timestamp(1_800_000_000_000)).unwrap();
    store.close().unwrap();
    drop(store);
    let sled_db = sled::open(db).unwrap();
    for name in sled_db.tree_names() {
        if name.as_ref() == b"log" || name.starts_with(b"tail:") {
            let tree = sled_db.open_tree(&name).unwrap();
            let records: Vec<_> = tree.iter().map(Result::unwrap).collect();
            for (k, v) in records {
                let events: Vec<Event> = postcard::from_bytes(&v).unwrap();
                tree.remove(&k).unwrap();
                for e in events.into_iter().filter(|e| !(from..=to).contains(&e.seq.0)) {
                    tree.insert(e.seq.0.to_be_bytes(), postcard::to_allocvec(&vec![e]).unwrap()).unwrap();
                }
            }
        }
    }
    sled_db.flush().unwrap();
}

fn no_debug_output(text: &str) {
    for bad in ["Inline(", "backtrace", "Some(", "Corruption {"] {
        assert!(!text.contains(bad), "{text:?} holds {bad:?}");
    }
}

#[test]
fn a_damaged_database_warns_refuses_commands_checks_as_json_and_is_repaired() {
    let (_dir, db) = populated();
    let events = ok(&db, &["events"]).lines().count() + 1;
    lose_events_behind_the_snapshot(&db, 5, 7);
    let stats = connreq(&db, &["stats"]);
    assert_eq!(stats.code, 0, "{}", stats.stderr);
    assert!(stats.stderr.starts_with("warning: the database is damaged: events 5–7"), "{}", stats.stderr);
    assert!(stats.stderr.contains("connreq repair"), "{}", stats.stderr);
    assert!(
        stats.stdout.contains(&format!("events: {events}")),
        "the state is the snapshot's: {}",
        stats.stdout
    );
    let send = connreq(&db, &["send", "3", "2"]);
    assert_eq!(send.code, 1);
    assert!(send.stderr.contains("commands are refused until it is repaired"), "{}", send.stderr);
    let check = connreq(&db, &["--json", "check"]);
    assert_eq!(check.code, 1);
    let report: Value = serde_json::from_str(check.stdout.trim()).unwrap();
    assert_eq!(report["damaged"], true);
    assert_eq!(report["trusted_through"], events);
    assert!(report["problems"][0].as_str().unwrap().contains("events 5–7"), "{report}");
    let repair = connreq(&db, &["repair"]);
    assert_eq!(repair.code, 0, "{}", repair.stderr);
    assert!(
        repair.stdout.contains("Lost from the event log, their effect kept in the state: events 5–7"),
        "{}",
        repair.stdout
    );
    assert!(repair.stdout.contains("No command that the state had is lost"), "{}", repair.stdout);
    for r in [&stats, &send, &check, &repair] {
        no_debug_output(&r.stdout);
        no_debug_output(&r.stderr);
    }
    let check = connreq(&db, &["--json", "check"]);
    assert_eq!(check.code, 0, "{}", check.stderr);
    assert_eq!(
        serde_json::from_str::<Value>(check.stdout.trim()).unwrap(),
        serde_json::json!({"problems": []})
    );
    ok(&db, &["send", "3", "2", "--at", "2027-02-01T00:00Z"]);
    assert_eq!(connreq(&db, &["check"]).stdout, "the database is sound\n");
    assert!(db.with_file_name("connreq.db.damaged").exists());
}

#[test]
fn check_json_prints_json_for_an_unreadable_or_missing_database_and_repair_mends_what_it_can() {
    let (dir, db) = populated();
    let events = ok(&db, &["events"]).lines().count();
    // sled's configuration file overwritten: sled refuses to open.
    let mut conf = std::fs::read(db.join("conf")).unwrap();
    for b in conf.iter_mut().skip(5).take(8) {
        *b = b'#';
    }
    std::fs::write(db.join("conf"), conf).unwrap();
    let check = connreq(&db, &["--json", "check"]);
    assert_eq!(check.code, 1);
    let report: Value =
        serde_json::from_str(check.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", check.stdout));
    assert!(report["error"].as_str().unwrap().contains("damaged"), "{report}");
    assert_eq!(report["problems"][0], report["error"]);
    no_debug_output(&check.stdout);
    let stats = connreq(&db, &["stats"]);
    assert_eq!(stats.code, 1);
    assert!(stats.stderr.starts_with("error: storage error: cannot open"), "{}", stats.stderr);
    no_debug_output(&stats.stderr);
    let repair = connreq(&db, &["--json", "repair"]);
    assert_eq!(repair.code, 0, "{}", repair.stderr);
    let report: Value = serde_json::from_str(repair.stdout.trim()).unwrap();
    assert_eq!(report["repaired"], true);
    assert_eq!(report["commands_lost"], Value::Null);
    assert_eq!(ok(&db, &["check"]), "the database is sound\n");
    assert!(ok(&db, &["stats"]).contains(&format!("events: {events}")));
    // A missing database: still JSON.
    let missing = dir.path().join("missing");
    let check = connreq(&missing, &["--json", "check"]);
    assert_eq!(check.code, 1);
    let report: Value = serde_json::from_str(check.stdout.trim()).unwrap();
    assert!(report["error"].as_str().unwrap().contains("there is no database"), "{report}");
    assert!(!missing.exists());
}

#[test]
fn backup_writes_a_copy_that_opens_and_checks_clean_and_refuses_a_used_destination() {
    let (dir, db) = populated();
    let events = ok(&db, &["events"]).lines().count();
    let copy = dir.path().join("copy");
    let r = connreq(&db, &["--json", "backup", copy.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report: Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(report["through"], events);
    assert_eq!(ok(&copy, &["check"]), "the database is sound\n");
    assert_eq!(ok(&copy, &["events"]), ok(&db, &["events"]));
    let again = connreq(&db, &["backup", copy.to_str().unwrap()]);
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("already exists and is not empty"), "{}", again.stderr);
}

/// Appends `body` as the next event of the closed database at `db`, as a
/// connreq that did not refuse bidirectional controls would have stored it.
fn append_old_event(db: &Path, body: EventBody) {
    let last = Store::open_with(db, OpenOptions::read_only()).unwrap().stats().unwrap().events;
    let event = Event { seq: Seq(last + 1), at: Timestamp(1_800_000_000_000), body };
    let sled_db = sled::open(db).unwrap();
    let tail = sled_db.tree_names().into_iter().filter(|n| n.starts_with(b"tail:")).max();
    let tree = sled_db.open_tree(tail.unwrap_or_else(|| "log".into())).unwrap();
    tree.insert((last + 1).to_be_bytes(), postcard::to_allocvec(&vec![event]).unwrap()).unwrap();
    sled_db.flush().unwrap();
}

#[test]
fn text_stored_with_bidirectional_controls_is_shown_escaped_and_new_text_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("connreq.db");
    ok(&db, &["register", "1", "--name", "Ada"]);
    ok(&db, &["register", "3"]);
    for c in [
        '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}', '\u{2066}', '\u{2067}', '\u{2068}',
        '\u{2069}',
    ] {
        let text = format!("Eve{c}gpj.exe");
        for args in [vec!["register", "2", "--name", &text], vec!["send", "1", "3", "--note", &text]] {
            let r = connreq(&db, &args);
            assert_eq!(r.code, 1, "{args:?}");
            assert!(r.stderr.contains(&format!("U+{:04X}", u32::from(c))), "{}", r.stderr);
        }
    }
    // As an older version could have stored them.
    append_old_event(
        &db,
        EventBody::MemberRegistered {
            member: MemberId(2),
            email: None,
            name: Some("Eve\u{202e}gpj.exe".into()),
            locale: None,
        },
    );
    append_old_event(
        &db,
        EventBody::InvitationSent {
            request: RequestId(1),
            sender: MemberId(2),
            recipient: MemberId(1),
            note: Some("see \u{2067}attached\u{2069}".into()),
            notice: Default::default(),
            reminders: Vec::new(),
        },
    );
    let outputs = [
        ok(&db, &["sent", "2"]),
        ok(&db, &["inbox", "1"]),
        ok(&db, &["events", "--format", "csv"]),
        ok(&db, &["request", "1"]),
    ];
    for text in &outputs {
        assert!(!text.chars().any(connreq_core::text::is_bidi_control), "{text}");
    }
    assert!(outputs[0].contains("note: see \\u{2067}attached\\u{2069}"), "{}", outputs[0]);
    assert!(outputs[1].contains("Eve\\u{202e}gpj.exe wants to connect"), "{}", outputs[1]);
    for args in [&["--json", "sent", "2"][..], &["events"], &["--json", "inbox", "1"]] {
        let text = ok(&db, args);
        assert!(!text.chars().any(connreq_core::text::is_bidi_control), "{text}");
        assert!(text.contains("\\u202e") || text.contains("\\u2067"), "{args:?}: {text}");
        // The JSON still decodes to the text as stored.
        let decoded: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert!(
            decoded.iter().any(|v| v.to_string().chars().any(connreq_core::text::is_bidi_control)),
            "{args:?}"
        );
    }
}
