//! The `connreq` binary, end to end: outputs, exit codes, batch scripts and
//! the simulation report.
//!
//! Every test uses its own temporary `--db`, so the tests hold for the
//! in-memory backend and for a persistent store alike. Commands that need
//! earlier commands' state run through `connreq batch`, which keeps one
//! database open for the whole script.

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;
use std::path::Path;
use tempfile::TempDir;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn connreq(db: &Path, args: &[&str], stdin: Option<&str>) -> Run {
    let mut cmd = cargo_bin_cmd!("connreq");
    cmd.arg("--db").arg(db).args(args);
    if let Some(input) = stdin {
        cmd.write_stdin(input.as_bytes().to_vec());
    }
    let out = cmd.output().expect("the binary runs");
    Run {
        code: out.status.code().expect("exited normally, not by a signal"),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    }
}

fn fresh() -> (TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("connreq.db");
    (dir, db)
}

fn run(args: &[&str]) -> Run {
    let (_dir, db) = fresh();
    connreq(&db, args, None)
}

fn batch(script: &str, args: &[&str]) -> Run {
    let (_dir, db) = fresh();
    let mut all = vec!["batch"];
    all.extend_from_slice(args);
    connreq(&db, &all, Some(script))
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

#[test]
fn register_prints_what_it_did() {
    let r = run(&["register", "1", "--email", "ada@example.com", "--name", "Ada"]);
    assert_eq!((r.code, r.stdout.as_str(), r.stderr.as_str()), (0, "registered member 1\n", ""));
    let r = run(&["register", "3", "--at", "-86400000"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "registered member 3\n"), "{}", r.stderr);
    let r = run(&["--json", "register", "2", "--at", "2026-01-01T00:00Z"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(json_lines(&r.stdout), [serde_json::json!({"member": 2, "registered": true})]);
}

#[test]
fn connreq_errors_exit_1_with_a_message() {
    let cases: &[&[&str]] = &[
        &["send", "1", "2"],
        &["accept", "2", "1"],
        &["ignore", "2", "1"],
        &["decline", "2", "1", "--message", "no"],
        &["withdraw", "1", "1"],
        &["block", "1", "2"],
        &["unblock", "1", "2"],
        &["report", "2", "1", "spam"],
        &["inbox", "1"],
        &["sent", "1"],
        &["received", "1", "--state", "ignored"],
        &["standing", "1"],
        &["connections", "1"],
        &["setting", "1", "nobody"],
        &["import-contacts", "1", "a@example.com"],
        &["request", "7"],
        &["resolve", "1", "clear"],
        &["register", "1", "--email", "not an address"],
    ];
    for args in cases {
        let r = run(args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
        assert!(r.stderr.starts_with("error: ") && r.stderr.ends_with('\n'), "{args:?}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{args:?}: {}", r.stderr);
    }
    let r = run(&["send", "1", "2"]);
    assert_eq!(r.stderr, "error: member 1 is not registered\n");
}

#[test]
fn bad_arguments_exit_2() {
    let cases: &[&[&str]] = &[
        &[],
        &["frobnicate"],
        &["send", "1"],
        &["send", "ada", "2"],
        &["send", "1", "-2"],
        &["register", "1", "--at", "yesterday"],
        &["register", "1", "--at", "2026-02-30T00:00Z"],
        &["register", "1", "--at", "9223372036854775807"],
        &["setting", "1", "sometimes"],
        &["report", "2", "1", "rude"],
        &["sent", "1", "--state", "lost"],
        &["resolve", "1", "maybe"],
        &["events", "--format", "xml"],
        &["--policy", "strict", "stats"],
        &["simulate", "--members", "1"],
        &["simulate", "--days", "0"],
        &["simulate", "--seed", "-1"],
        &["dispatch"],
    ];
    for args in cases {
        let r = run(args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}");
        assert!(r.stderr.starts_with("error: "), "{args:?}: {}", r.stderr);
    }
}

#[test]
fn help_and_version_go_to_stdout_and_exit_0() {
    let r = run(&["--help"]);
    assert_eq!(r.code, 0);
    for word in ["simulate", "send", "withdraw", "review", "batch", "--db", "--json"] {
        assert!(r.stdout.contains(word), "{word} missing from help");
    }
    let r = run(&["send", "--help"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("--note") && r.stdout.contains("--at"));
    let r = run(&["--version"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.starts_with("connreq "));
}

const SCRIPT: &str = r#"
# three members
register 1 --email ada@example.com --name Ada --at 2026-01-01T09:00Z
register 2 --email bob@example.com --name "Bob B" --at 2026-01-01T09:00Z
register 3 --at 1767258000000
send 1 2 --note "Hi Bob,\nwe met at the conference" --at 2026-01-01T10:00Z
ignore 2 1 --at 2026-01-01T11:00Z
sent 1
received 2 --state ignored
withdraw 1 1 --message sorry --at 2026-01-02T10:00Z
send 1 2 --at 2026-01-03T10:00Z
withdraw 1 2 --at 2026-01-04T10:00Z
send 1 2 --at 2026-01-05T10:00Z
withdraw 1 3 --at 2026-01-06T10:00Z
standing 1
review
inbox 2 --unread --mark-read --at 2026-01-07T00:00Z
inbox 2 --unread
send 3 1 --at 2026-01-08T00:00Z
accept 1 4 --at 2026-01-08T01:00Z
connections 1
send 2 3 --at 2026-01-08T02:00Z
decline 3 5 --message "no thanks" --at 2026-01-08T03:00Z
block 3 2 --at 2026-01-08T04:00Z
unblock 3 2 --at 2026-01-08T06:00Z
report 2 1 spam --at 2026-01-08T07:00Z
resolve 1 clear --at 2026-01-09T00:00Z
standing 1
request 3
setting 2 contacts --at 2026-01-09T01:00Z
import-contacts 2 ada@example.com --at 2026-01-09T02:00Z
expire --at 2026-12-01T00:00Z
"#;

#[test]
fn member_commands_in_a_batch_print_what_happened() {
    let r = batch(SCRIPT, &[]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    let expected = [
        "registered member 1",
        "registered member 2",
        "registered member 3",
        "request 1 sent from member 1 to member 2",
        "request 1 ignored (archived; member 1 is not told)",
        // The sender never sees "ignored".
        "request 1  member 1 -> member 2  pending  sent 2026-01-01T10:00:00.000Z",
        "    note: Hi Bob,",
        "          we met at the conference",
        "request 1  member 1 -> member 2  ignored  sent 2026-01-01T10:00:00.000Z  updated 2026-01-01T11:00:00.000Z",
        "    note: Hi Bob,",
        "          we met at the conference",
        "request 1 withdrawn",
        "request 2 sent from member 1 to member 2",
        "request 2 withdrawn",
        "request 3 sent from member 1 to member 2",
        "request 3 withdrawn",
        "member 1: under_review",
        "  flag 1  member 1  repeated_withdrawals  open  opened 2026-01-06T10:00:00.000Z  (evidence: events 6, 9, 12)",
        "flag 1  member 1  repeated_withdrawals  open  opened 2026-01-06T10:00:00.000Z  (evidence: events 6, 9, 12)",
    ];
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(&lines[..expected.len()], expected, "{}", r.stdout);
    let rest = lines[expected.len()..].join("\n");
    for want in [
        "notification 1  2026-01-01T10:00:00.000Z  invitation_received  from member 1  [unread]",
        "notification 6  2026-01-06T10:00:00.000Z  invitation_withdrawn  from member 1  [unread]",
        "marked 6 notification(s) read",
        "no unread notifications for member 2",
        "request 4 sent from member 3 to member 1",
        "request 4 accepted: member 3 and member 1 are connected",
        "member 1 has 1 connection(s): 3",
        "request 5 declined",
        "member 3 blocked member 2",
        "member 3 unblocked member 2",
        "member 2 reported member 1 (spam)",
        "flag 1 resolved (clear): member 1 is now good",
        "member 1: good",
        "  flag 1  member 1  repeated_withdrawals  cleared  opened 2026-01-06T10:00:00.000Z",
        "request 3  member 1 -> member 2  withdrawn  sent 2026-01-05T10:00:00.000Z  updated 2026-01-06T10:00:00.000Z",
        "member 2's invitation setting is now contacts",
        "imported 1 contact address(es) for member 2",
        "expired 0 request(s)",
    ] {
        assert!(rest.contains(want), "missing {want:?} in\n{rest}");
    }
}

#[test]
fn member_commands_in_a_batch_as_json() {
    let r = batch(SCRIPT, &["--json"]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    let out = json_lines(&r.stdout);
    assert_eq!(out[0], serde_json::json!({"member": 1, "registered": true}));
    let sent = &out[3];
    assert_eq!(sent["id"], 1);
    assert_eq!(sent["state"], "pending");
    assert_eq!(sent["note"], "Hi Bob,\nwe met at the conference");
    assert_eq!(sent["created_at"], "2026-01-01T10:00:00.000Z");
    assert_eq!(out[4]["state"], "ignored");
    assert_eq!(out[5][0]["state"], "pending", "the sender's view hides the ignore");
    assert_eq!(out[6][0]["state"], "ignored");
    assert_eq!(out[7]["state"], "withdrawn");
    assert_eq!(out[7]["message"], "sorry");
    let standing = &out[12];
    assert_eq!(standing["standing"], "under_review");
    assert_eq!(standing["flags"][0]["rule"], "repeated_withdrawals");
    // Each withdrawal is followed by the skip of its stale invitation email.
    assert_eq!(standing["flags"][0]["evidence"], serde_json::json!([6, 9, 12]));
    assert_eq!(out[13].as_array().unwrap().len(), 1, "review queue");
    let inbox = out[14].as_array().unwrap();
    assert_eq!(inbox.len(), 6);
    assert_eq!(inbox[0]["kind"], "invitation_received");
    assert_eq!(inbox[1]["kind"], "invitation_withdrawn");
    assert!(inbox[1]["text"].as_str().unwrap().contains("sorry"));
    assert_eq!(out[15], serde_json::json!([]));
    assert_eq!(out[17]["state"], "accepted");
    assert_eq!(out[18], serde_json::json!({"member": 1, "connections": [3]}));
    assert_eq!(out[20]["state"], "declined");
    assert_eq!(out[21], serde_json::json!({"blocker": 3, "blocked": 2, "blocking": true}));
    assert_eq!(out[23]["reason"], "spam");
    assert_eq!(out[24]["standing"], "good");
    assert_eq!(out[24]["flag"]["status"], "cleared");
    assert_eq!(out[26]["state"], "withdrawn");
    assert_eq!(out.last().unwrap(), &serde_json::json!({"expired": 0}));
}

#[test]
fn stats_and_events_read_the_log() {
    let script = "register 1 --at 2026-01-01T00:00Z\nregister 2 --at 1767225600000\n\
                  send 1 2 --note 'a, \"quoted\" note' --at 2026-01-01T01:00Z\nstats --json\n\
                  events\nevents --format csv --since 2\nevents --limit 1 --since 1";
    let r = batch(script, &[]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    let lines: Vec<&str> = r.stdout.lines().collect();
    let stats: Value = serde_json::from_str(lines[3]).unwrap();
    assert_eq!(stats["events"], 3);
    assert_eq!(stats["requests"]["pending"], 1);
    assert_eq!(stats["unsent_emails"], 0, "no member has an email address");
    let events = json_lines(&lines[4..7].join("\n"));
    assert_eq!(events[0]["seq"], 1);
    assert_eq!(events[0]["kind"], "member_registered");
    assert_eq!(events[1]["at"], "2026-01-01T00:00:00.000Z");
    assert_eq!(events[2]["kind"], "invitation_sent");
    assert_eq!((events[2]["actor"].clone(), events[2]["subject"].clone()), (1.into(), 2.into()));
    assert_eq!(events[2]["request_id"], 1);
    assert_eq!(events[2]["detail"]["note"], "a, \"quoted\" note");
    assert_eq!(lines[7], "seq,at,kind,actor,subject,request_id,detail");
    assert!(lines[8].starts_with("3,2026-01-01T01:00:00.000Z,invitation_sent,1,2,1,\"{"), "{}", lines[8]);
    assert!(lines[8].contains(r#"""note"":""a, \""quoted\"" note"""#), "{}", lines[8]);
    assert_eq!(json_lines(lines[9])[0]["seq"], 2);
    assert_eq!(lines.len(), 10);
}

#[test]
fn batch_stops_at_the_first_failure_unless_told_to_keep_going() {
    let script = "register 1\nsend 1 2\nregister 2\nbogus\nregister 3";
    let r = batch(script, &[]);
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "registered member 1\n");
    assert_eq!(r.stderr, "error: line 2: member 2 is not registered\n");

    let r = batch(script, &["--keep-going"]);
    assert_eq!(r.code, 2, "a line that does not parse is the worst failure");
    assert_eq!(r.stdout, "registered member 1\nregistered member 2\nregistered member 3\n");
    let errors: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(errors[0], "error: line 2: member 2 is not registered");
    assert!(errors[1].starts_with("error: line 4: ") && errors[1].contains("bogus"), "{}", errors[1]);

    for line in ["simulate", "batch", "--db x stats", "--policy linkedin stats", "send 1 \"2"] {
        let r = batch(line, &[]);
        assert_eq!(r.code, 2, "{line}: {}", r.stderr);
        assert!(r.stderr.starts_with("error: line 1: "), "{line}: {}", r.stderr);
    }
}

#[test]
fn invalid_text_is_refused_not_a_panic() {
    let long = "x".repeat(301);
    let script = format!(
        "register 1\nregister 2\nsend 1 2 --note \"bell\u{7}\"\nsend 1 2 --note {long}\nsend 1 1\nsend 1 2 --note 'été ✓'"
    );
    let r = batch(&script, &["--keep-going"]);
    assert_eq!(r.code, 1);
    let errors: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(errors.len(), 3, "{}", r.stderr);
    assert!(errors[0].starts_with("error: line 3: invalid input"), "{}", errors[0]);
    assert_eq!(errors[1], "error: line 4: the text is 301 characters long; at most 300 are allowed");
    assert_eq!(errors[2], "error: line 5: you cannot send a connection request to yourself");
    assert!(r.stdout.ends_with("request 1 sent from member 1 to member 2\n"));
}

#[test]
fn check_and_dispatch_succeed_or_fail_cleanly() {
    for args in [&["check"][..], &["dispatch", "--smtp", "smtp://127.0.0.1:9", "--at", "2026-01-01T00:00Z"]] {
        let r = run(args);
        assert!(r.code == 0 || r.code == 1, "{args:?}: {}", r.code);
        if r.code == 1 {
            assert!(r.stderr.starts_with("error: "), "{args:?}: {}", r.stderr);
        }
    }
}

fn simulate_json(seed: &str) -> Value {
    let r = run(&["simulate", "--members", "300", "--days", "20", "--seed", seed, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.is_empty(), "no progress bar with --json: {}", r.stderr);
    let mut lines = json_lines(&r.stdout);
    assert_eq!(lines.len(), 1, "one JSON object");
    lines.pop().unwrap()
}

#[test]
fn simulate_is_reproducible_and_reports_every_field() {
    let mut a = simulate_json("7");
    let mut b = simulate_json("7");
    for report in [&mut a, &mut b] {
        assert!(report["run_time_seconds"].as_f64().unwrap() >= 0.0);
        // The database is on disk; sled's files vary by a few bytes from run to run.
        assert!(report["db_bytes"].as_u64().unwrap() > 0);
        let fields = report.as_object_mut().unwrap();
        fields.remove("run_time_seconds");
        fields.remove("db_bytes");
    }
    assert_eq!(a, b, "the same seed gives the same report");

    assert_eq!(
        (a["members"].clone(), a["days"].clone(), a["seed"].clone()),
        (300.into(), 20.into(), 7.into())
    );
    assert_eq!(a["policy"], "standard");
    assert_eq!(a["start"], "2026-01-01T00:00:00.000Z");
    assert_eq!(a["scenario"], "mixed");
    assert_eq!(a["planted"]["high_volume"], 6, "2% of 300");
    assert_eq!(a["planted"]["cycler_fast"], 1);
    let states = a["requests"].as_object().unwrap();
    for s in ["pending", "ignored", "accepted", "declined", "withdrawn", "expired", "cancelled"] {
        assert!(states[s].is_u64(), "requests.{s}");
    }
    let sent = a["invitations_sent"].as_u64().unwrap();
    assert!(sent > 300, "a busy network: {sent}");
    assert_eq!(states.values().map(|v| v.as_u64().unwrap()).sum::<u64>(), sent);
    assert!(a["connections"].as_u64().unwrap() > 0);
    assert!(a["notifications"]["in_app"].as_u64().unwrap() >= sent);
    assert!(a["notifications"]["emails"].as_u64().unwrap() > 0);
    for rule in ["repeated_withdrawals", "reported", "low_acceptance", "burst", "repeated_resends"] {
        assert!(a["flags"]["by_rule"][rule].is_u64(), "flags.by_rule.{rule}");
    }
    let m = &a["moderation"];
    for field in ["precision", "recall"] {
        assert!(m[field].is_null() || (0.0..=1.0).contains(&m[field].as_f64().unwrap()), "{field}");
    }
    let kinds: Vec<&str> =
        m["kinds"].as_array().unwrap().iter().map(|k| k["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"normal") && kinds.contains(&"high_volume"), "{kinds:?}");
    let rules: Vec<&str> =
        m["rules"].as_array().unwrap().iter().map(|k| k["rule"].as_str().unwrap()).collect();
    assert_eq!(rules, ["repeated_withdrawals", "reported", "low_acceptance", "burst", "repeated_resends"]);
    assert!(m["normal_flagged_share"].is_f64());
    assert!(a["targets"]["precision"].is_boolean());
    assert!(a["events"].as_u64().unwrap() > sent);

    let c = simulate_json("8");
    assert_ne!(c["invitations_sent"], a["invitations_sent"], "another seed, another run");
}

#[test]
fn simulate_prints_a_report_for_people() {
    let r = run(&["simulate", "--members", "200", "--days", "10", "--policy", "linkedin"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for want in [
        "connreq simulation: 200 members, 10 days from 2026-01-01, seed 42, linkedin policy",
        "invitations",
        "connections",
        "notifications",
        "flags raised",
        "precision",
        "recall",
        "normal flagged",
        "database",
    ] {
        assert!(r.stdout.contains(want), "missing {want:?} in\n{}", r.stdout);
    }
}

#[test]
fn the_database_persists_between_invocations() {
    let (_dir, db) = fresh();
    assert_eq!(connreq(&db, &["register", "1", "--name", "Ada"], None).code, 0);
    assert_eq!(connreq(&db, &["register", "2", "--email", "bob@example.com"], None).code, 0);
    let sent = connreq(&db, &["send", "1", "2", "--note", "Hello", "--json"], None);
    assert_eq!(sent.code, 0, "{}", sent.stderr);
    let inbox = connreq(&db, &["inbox", "2"], None);
    assert_eq!(inbox.code, 0, "{}", inbox.stderr);
    assert!(inbox.stdout.contains("Ada wants to connect with you."), "{}", inbox.stdout);
    let check = connreq(&db, &["check"], None);
    assert_eq!((check.code, check.stdout.trim()), (0, "the database is sound"));
}

#[test]
fn read_only_commands_refuse_a_missing_database() {
    let (_dir, db) = fresh();
    for args in [&["check"][..], &["stats"], &["events"], &["inbox", "1"], &["review"]] {
        let r = connreq(&db, args, None);
        assert_eq!(r.code, 1, "{args:?}");
        assert!(r.stderr.contains("there is no database at"), "{args:?}: {}", r.stderr);
    }
    assert!(!db.exists(), "nothing was created");
}

#[test]
fn a_damaged_database_is_reported_not_opened() {
    let (_dir, db) = fresh();
    assert_eq!(connreq(&db, &["register", "1"], None).code, 0);
    let mut bytes = std::fs::read(db.join("db")).unwrap();
    for b in bytes.iter_mut().skip(3).step_by(7) {
        *b ^= 0x5a;
    }
    std::fs::write(db.join("db"), bytes).unwrap();
    let r = connreq(&db, &["check"], None);
    assert_eq!(r.code, 1);
    assert!(r.stderr.starts_with("error: storage error:"), "{}", r.stderr);
    let r = connreq(&db, &["stats"], None);
    assert_eq!(r.code, 1);
}

#[test]
fn a_path_that_is_a_file_is_refused() {
    let (dir, _) = fresh();
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "hello").unwrap();
    let r = connreq(&file, &["register", "1"], None);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("is a file"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "hello");
}

#[test]
fn simulate_refuses_a_used_database_unless_told_to_replace_it() {
    let (_dir, db) = fresh();
    let args = ["simulate", "--members", "50", "--days", "3", "--json"];
    assert_eq!(connreq(&db, &args, None).code, 0);
    let again = connreq(&db, &args, None);
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("--replace"), "{}", again.stderr);
    let mut replace = args.to_vec();
    replace.push("--replace");
    let r = connreq(&db, &replace, None);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn the_member_commands_of_spec_11_run_end_to_end() {
    let (_dir, db) = fresh();
    let at = "--at=1790000000000";
    for args in [
        vec!["register", "1", "--email", "ada@example.com", "--name", "Ada", at],
        vec!["register", "2", "--name", "Bob", at],
        vec!["register", "3", "--name", "Cleo", at],
        vec!["send", "3", "1", at],
        vec!["accept", "1", "1", at],
        vec!["send", "3", "2", at],
        vec!["accept", "2", "2", at],
        vec!["send", "2", "1", "--note", "hello", at],
    ] {
        let r = connreq(&db, &args, None);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    }
    let r = connreq(&db, &["--json", "invitations", "1"], None);
    let list: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(list[0]["mutual_count"], 1);
    assert_eq!(list[0]["mutuals"], serde_json::json!([3]));
    let r = connreq(&db, &["--json", "suggestions", "1", at], None);
    assert_eq!(
        serde_json::from_str::<Value>(&r.stdout).unwrap(),
        serde_json::json!([]),
        "2 has an open request"
    );
    let r = connreq(&db, &["update", "1", "--name", "Ada Lovelace", at], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = connreq(&db, &["--json", "withdraw-all", "2", at], None);
    assert_eq!(serde_json::from_str::<Value>(&r.stdout).unwrap()["withdrawn"], 1);
    let r = connreq(&db, &["export", "1"], None);
    let export: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(export["profile"]["name"], "Ada Lovelace");
    let r = connreq(&db, &["erase", "1", at], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = connreq(&db, &["export", "1"], None);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("not registered"), "{}", r.stderr);
}

const PESTERING: &str = r#"
register 1 --at 2026-01-01T09:00Z
register 2 --at 2026-01-01T09:00Z
register 9 --name Mo --at 2026-01-01T09:00Z
send 1 2 --at 2026-01-01T10:00Z
decline 2 1 --at 2026-01-01T11:00Z
send 1 2 --at 2026-01-02T10:00Z
report 2 1 harassment --request 2 --at 2026-01-02T11:00Z
review
resolve 1 restrict --moderator 9 --note "kept sending after a decline" --at 2026-01-03T00:00Z
standing 1
lift 1 --moderator 9 --note "appeal upheld" --at 2026-01-04T00:00Z
standing 1
lift 1 --at 2026-01-05T00:00Z
"#;

#[test]
fn review_shows_each_flags_events_and_resolve_and_lift_record_who_and_why() {
    let r = batch(PESTERING, &["--keep-going"]);
    assert_eq!(r.code, 1, "the second lift fails: {}", r.stderr);
    assert_eq!(
        r.stderr,
        "error: line 14: invalid input: member 1 is not restricted by a moderator's decision (an automatic restriction ends when its flag is cleared)\n"
    );
    for want in [
        "flag 1  member 1  repeated_resends  open  opened 2026-01-02T11:00:00.000Z  (evidence: events 4, 5, 6, 7)",
        "    event 4  2026-01-01T10:00:00.000Z  invitation_sent  by member 1  on member 2  request 1",
        "    event 5  2026-01-01T11:00:00.000Z  invitation_declined  by member 2  on member 1  request 1",
        "    event 6  2026-01-02T10:00:00.000Z  invitation_sent  by member 1  on member 2  request 2",
        r#"    event 7  2026-01-02T11:00:00.000Z  member_reported  by member 2  on member 1  request 2  {"reason":"harassment"}"#,
        "flag 1 resolved (restrict): member 1 is now restricted",
        "  flag 1  member 1  repeated_resends  restricted  opened 2026-01-02T11:00:00.000Z  (evidence: events 4, 5, 6, 7)",
        "    resolved 2026-01-03T00:00:00.000Z by member 9: kept sending after a decline",
        "member 1's restriction lifted: now good",
    ] {
        assert!(r.stdout.lines().any(|l| l == want), "missing {want:?} in\n{}", r.stdout);
    }

    let r = batch(PESTERING, &["--json", "--keep-going"]);
    let out = json_lines(&r.stdout);
    let review = out[7].as_array().unwrap();
    assert_eq!(review[0]["rule"], "repeated_resends");
    let kinds: Vec<&str> =
        review[0]["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["invitation_sent", "invitation_declined", "invitation_sent", "member_reported"]);
    let resolved = &out[8]["flag"];
    assert_eq!(
        (
            resolved["resolved_by"].clone(),
            resolved["resolution_note"].clone(),
            resolved["resolved_at"].clone()
        ),
        (9.into(), "kept sending after a decline".into(), "2026-01-03T00:00:00.000Z".into())
    );
    assert_eq!(out[9]["standing"], "restricted");
    assert_eq!(out[10], serde_json::json!({"member": 1, "standing": "good"}));
    assert_eq!(out[11]["flags"][0]["status"], "restricted", "lifting keeps the decision on record");
}

#[test]
fn simulate_takes_a_scenario_and_policy_fields_and_refuses_unknown_fields() {
    let r = run(&[
        "simulate",
        "--members",
        "300",
        "--days",
        "20",
        "--scenario",
        "pestering",
        "--in-memory",
        "--json",
        "--set",
        "review_report_share=0.1",
        "--set",
        "burst_per_hour=null",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report: Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(report["scenario"], "pestering");
    assert_eq!(report["policy_overrides"]["review_report_share"], "0.1");
    assert_eq!(report["db_bytes"], 0, "nothing written");
    let r = run(&["simulate", "--members", "300", "--days", "2", "--set", "no_such_field=1"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no field \"no_such_field\""), "{}", r.stderr);
}

#[test]
fn events_as_parquet_write_a_dataset_by_month_and_then_only_what_is_new() {
    let (dir, db) = fresh();
    let out = dir.path().join("events");
    let out_arg = out.to_str().unwrap();
    for (m, at) in [("1", "2026-01-31T23:00:00Z"), ("2", "2026-02-01T01:00:00Z")] {
        assert_eq!(connreq(&db, &["register", m, "--at", at], None).code, 0);
    }
    // The flags parquet needs, and those it refuses.
    let r = connreq(&db, &["events", "--format", "parquet"], None);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("--out DIR"), "{}", r.stderr);
    let r = connreq(&db, &["events", "--format", "parquet", "--out", out_arg, "--since", "1"], None);
    assert_eq!(r.code, 1);
    let r = connreq(&db, &["events", "--out", out_arg], None);
    assert_eq!(r.code, 1);
    assert!(!out.exists(), "nothing written by a refused command");

    let r = connreq(&db, &["--json", "events", "--format", "parquet", "--out", out_arg], None);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!((report["events"].as_u64(), report["last"].as_u64()), (Some(2), Some(2)));
    let mut months: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('_'))
        .collect();
    months.sort();
    assert_eq!(months, ["month=2026-01", "month=2026-02"]);

    assert_eq!(connreq(&db, &["register", "3", "--at", "2026-02-02T00:00:00Z"], None).code, 0);
    let r = connreq(&db, &["--json", "events", "--format", "parquet", "--out", out_arg], None);
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!((report["events"].as_u64(), report["last"].as_u64()), (Some(1), Some(3)));
    let files = report["files"].as_array().unwrap();
    assert_eq!(files.len(), 1);
    assert!(files[0].as_str().unwrap().contains("month=2026-02"), "{files:?}");
}
