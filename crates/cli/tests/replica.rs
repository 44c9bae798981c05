//! A read replica against a real nats-server: after catching up it answers
//! every query exactly as its primary does (the differential of the two over
//! a random workload, an erasure and a restart of the replica included),
//! refuses commands naming the primary, and reports its lag; a new replica
//! started from a copy of another's database replays only what came after.

mod servers;

use connreq_server::Client;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use servers::{Nats, Serve, poll};
use std::time::Duration;

const MEMBERS: u64 = 30;

fn call(c: &Client, method: &str, path: &str, body: Value) -> Value {
    match c.call(method, path, Some(&body), None) {
        Ok((_, bytes)) => serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        Err(_) => Value::Null,
    }
}

/// `n` random commands of every kind, through the primary. Requests are
/// answered by their own recipients and withdrawn by their own senders, so
/// most commands change something.
fn workload(c: &Client, rng: &mut ChaCha8Rng, n: usize) {
    let mut requests: Vec<(u64, u64, u64)> = Vec::new();
    let mut blocks: Vec<(u64, u64)> = Vec::new();
    for _ in 0..n {
        let (a, b) = (rng.random_range(1..=MEMBERS), rng.random_range(1..=MEMBERS));
        let pick = rng.random_range(0..24);
        let (request, sender, recipient) =
            if requests.is_empty() { (1, a, b) } else { requests[rng.random_range(0..requests.len())] };
        match pick {
            0..=4 => {
                let r = call(
                    c,
                    "POST",
                    "/v1/requests",
                    json!({"sender": a, "recipient": b, "note": format!("hi {b}")}),
                );
                if let Some(id) = r["id"].as_u64() {
                    requests.push((id, a, b));
                }
            }
            5 | 6 => drop(call(
                c,
                "POST",
                &format!("/v1/requests/{request}/accept"),
                json!({"recipient": recipient}),
            )),
            7 => drop(call(
                c,
                "POST",
                &format!("/v1/requests/{request}/ignore"),
                json!({"recipient": recipient}),
            )),
            8 => drop(call(
                c,
                "POST",
                &format!("/v1/requests/{request}/decline"),
                json!({"recipient": recipient, "message": "no"}),
            )),
            9 => drop(call(
                c,
                "POST",
                &format!("/v1/requests/{request}/withdraw"),
                json!({"sender": sender, "message": "sorry"}),
            )),
            10 => {
                drop(call(c, "PUT", &format!("/v1/members/{a}/blocks/{b}"), json!({})));
                blocks.push((a, b));
            }
            11 | 22 => {
                // Unblocks one of the blocks made, when there is one.
                let (x, y) = blocks.pop().unwrap_or((a, b));
                drop(call(c, "DELETE", &format!("/v1/members/{x}/blocks/{y}"), json!({})))
            }
            12 => {
                drop(call(c, "POST", "/v1/reports", json!({"reporter": a, "reported": b, "reason": "spam"})))
            }
            13 | 23 => {
                // Removes one of a's connections, when there is one.
                let connections = call(c, "GET", &format!("/v1/members/{a}/connections"), Value::Null);
                let other = connections
                    .as_array()
                    .and_then(|v| v.first())
                    .and_then(|x| x["member"].as_u64().or_else(|| x.as_u64()));
                drop(call(
                    c,
                    "DELETE",
                    &format!("/v1/members/{a}/connections/{}", other.unwrap_or(b)),
                    json!({}),
                ))
            }
            14 => {
                let inbox = call(c, "GET", &format!("/v1/members/{a}/notifications"), Value::Null);
                let ids: Vec<u64> =
                    inbox.as_array().into_iter().flatten().filter_map(|n| n["id"].as_u64()).take(2).collect();
                drop(call(c, "POST", &format!("/v1/members/{a}/notifications/read"), json!({"ids": ids})));
            }
            16 => {
                // A moderator's decision, with a note (SPEC §15).
                let open = call(c, "GET", "/v1/flags?status=open", Value::Null);
                if let Some(flag) = open.as_array().and_then(|f| f.first()).and_then(|f| f["id"].as_u64()) {
                    let decision = if b % 2 == 0 { "clear" } else { "restrict" };
                    drop(call(
                        c,
                        "POST",
                        &format!("/v1/flags/{flag}/resolve"),
                        json!({"decision": decision, "moderator": a, "note": format!("seen {b}")}),
                    ));
                }
            }
            17 => {
                // Lifts a restriction a moderator decided on, when there is one.
                let restricted = call(c, "GET", "/v1/flags?status=restricted", Value::Null);
                let member = restricted.as_array().and_then(|f| f.first()).and_then(|f| f["member"].as_u64());
                drop(call(
                    c,
                    "POST",
                    &format!("/v1/members/{}/lift-restriction", member.unwrap_or(a)),
                    json!({"moderator": b, "note": "served"}),
                ))
            }
            18 => {
                drop(call(
                    c,
                    "PUT",
                    &format!("/v1/members/{a}/email-preferences/invitation_received"),
                    json!({"enabled": b % 2 == 0}),
                ));
                let frequency = if b % 2 == 0 { "daily" } else { "immediate" };
                drop(call(
                    c,
                    "PUT",
                    &format!("/v1/members/{a}/email-frequency"),
                    json!({"frequency": frequency}),
                ));
                let locale = ["en", "de", "fr", "es"][(b % 4) as usize];
                drop(call(c, "PUT", &format!("/v1/members/{a}/locale"), json!({"locale": locale})));
            }
            19 => drop(call(
                c,
                "POST",
                &format!("/v1/members/{a}/withdraw-all"),
                json!({"message": "moving on"}),
            )),
            20 => drop(call(c, "POST", "/v1/expire", json!({}))),
            21 => {
                // Emails handed to the mail server, as a host without --smtp records them.
                let pending =
                    call(c, "GET", "/v1/emails/pending?due_before=2100-01-01T00:00:00Z", Value::Null);
                let ids: Vec<u64> = pending
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e["id"].as_u64())
                    .take(3)
                    .collect();
                drop(call(c, "POST", "/v1/emails/sent", json!({"ids": ids})));
            }
            _ => {
                let setting =
                    ["everyone", "email_or_contacts", "contacts", "friends_of_friends"][(b % 4) as usize];
                drop(call(
                    c,
                    "PUT",
                    &format!("/v1/members/{a}/invitation-setting"),
                    json!({"setting": setting}),
                ));
                drop(call(
                    c,
                    "POST",
                    &format!("/v1/members/{a}/contacts"),
                    json!({"emails": [format!("m{b}@example.com")]}),
                ));
            }
        }
    }
}

/// Every query route, as (path, status, body), read from `c`.
fn answers(c: &Client, rng_seed: u64, events: u64) -> Vec<(String, u16, String)> {
    let mut paths = vec![
        "/v1/stats".to_owned(),
        format!("/v1/events?since=0&limit={events}"),
        "/v1/flags".to_owned(),
        "/v1/flags?status=open".to_owned(),
        "/v1/flags?status=restricted".to_owned(),
        "/v1/emails/pending?due_before=2100-01-01T00:00:00Z".to_owned(),
        "/v1/emails/pending".to_owned(),
    ];
    for m in 1..=MEMBERS + 1 {
        for view in [
            "sent",
            "received",
            "sent?state=pending",
            "received?state=ignored",
            "invitations",
            "invitations?include_ignored=true",
            "connections",
            "suggestions?limit=20&at=2100-01-01T00:00:00Z",
            "notifications",
            "notifications?unread_only=true",
            "profile",
            "email-preferences",
            "export",
            "standing",
        ] {
            paths.push(format!("/v1/members/{m}/{view}"));
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(rng_seed);
    for _ in 0..150 {
        let (a, b) = (rng.random_range(1..=MEMBERS), rng.random_range(1..=MEMBERS));
        paths.push(format!("/v1/members/{a}/mutual/{b}"));
        paths.push(format!("/v1/members/{a}/blocks/{b}"));
    }
    for id in 1..=20 {
        paths.push(format!("/v1/flags/{id}"));
        paths.push(format!("/v1/flags/{id}/events"));
    }
    for id in 1..=120 {
        paths.push(format!("/v1/requests/{id}"));
        paths.push(format!("/v1/emails/{id}"));
    }
    paths
        .into_iter()
        .map(|p| {
            let (status, body) = c.call("GET", &p, None, None).expect("the server answers");
            (p, status, String::from_utf8_lossy(&body).into_owned())
        })
        .collect()
}

fn events(s: &Serve) -> u64 {
    s.health()["events"].as_u64().unwrap_or(0)
}

fn caught_up(primary: &Serve, replica: &Serve) {
    let last = events(primary);
    let start = std::time::Instant::now();
    loop {
        let h = replica.health();
        if h["events"].as_u64() == Some(last) && h["replica"]["lag_events"] == 0 {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the replica did not reach event {last}: /healthz {h}; the primary's {}\n{}",
            primary.health(),
            replica.log()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn assert_same_answers(primary: &Serve, replica: &Serve, seed: u64) {
    let last = events(primary);
    let (p, r) = (answers(&primary.client(), seed, last), answers(&replica.client(), seed, last));
    assert_eq!(p.len(), r.len());
    let mut ok = 0;
    for (a, b) in p.iter().zip(&r) {
        assert_eq!(a, b, "the replica answers {} as the primary does", a.0);
        ok += usize::from(a.1 == 200);
    }
    assert!(ok > 400, "most queries found something ({ok})");
}

#[test]
fn a_replica_answers_every_query_as_the_primary_refuses_commands_and_reports_lag() {
    let dir = tempfile::tempdir().unwrap();
    let mut nats = Nats::start(&dir.path().join("nats"));
    let primary = Serve::primary(&dir.path().join("primary.db"), &nats.url());
    let c = primary.client();
    for m in 1..=MEMBERS {
        c.register(m, Some(&format!("m{m}@example.com")), Some(&format!("Member {m}")), None, None).unwrap();
    }
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    workload(&c, &mut rng, 300);
    // A replica started late replays the stream from its first event.
    let mut replica = Serve::replica(&dir.path().join("replica.db"), &nats.url(), &primary.network());
    caught_up(&primary, &replica);
    assert_same_answers(&primary, &replica, 1);

    // Killed mid-stream, it resumes from its own database.
    workload(&c, &mut rng, 150);
    replica.kill();
    workload(&c, &mut rng, 150);
    c.erase_member(3, None).unwrap();
    c.update_member(4, Some(Some("new4@example.com")), Some(Some("Renamed")), None).unwrap();
    replica.restart();
    caught_up(&primary, &replica);
    assert_same_answers(&primary, &replica, 2);
    let kinds: std::collections::BTreeSet<String> =
        c.events(0, None).unwrap().into_iter().map(|e| e.kind.to_string()).collect();
    for kind in [
        "invitation_ignored",
        "invitation_restored",
        "connection_removed",
        "member_unblocked",
        "flag_resolved",
        "restriction_lifted",
        "email_sent",
        "locale_changed",
        "member_erased",
    ] {
        assert!(kinds.contains(kind), "the workload made a {kind} event: {kinds:?}");
    }

    // Commands are refused, naming the primary.
    let (status, body) =
        replica.client().call("POST", "/v1/members", Some(&json!({"member": 99})), None).unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status, 503);
    assert_eq!(body["error"], "StorageError");
    assert!(body["message"].as_str().unwrap().contains(&primary.url()), "{body}");
    let (status, _) =
        replica.client().call("POST", "/v1/requests/1/accept", Some(&json!({"recipient": 2})), None).unwrap();
    assert_eq!(status, 503);
    assert!(replica.client().register(98, None, None, None, None).is_err());

    // Lag: with NATS down the replica says it cannot reach the stream and how long since it did.
    let health = replica.health();
    assert_eq!(health["replica"]["lag_events"], 0);
    assert_eq!(health["replica"]["lag_seconds"], 0.0);
    assert_eq!(health["replica"]["primary"], primary.url());
    nats.kill();
    workload(&c, &mut rng, 40);
    poll(Duration::from_secs(30), "the replica to report the stream unreachable", || {
        let h = replica.health();
        (h["replica"]["connected"] == false && h["replica"]["lag_seconds"].as_f64() >= Some(0.3))
            .then_some(())
    });
    nats.restart();
    caught_up(&primary, &replica);
    let health = replica.health();
    assert_eq!(health["replica"]["connected"], true);
    assert!(health["replica"]["applied_events"].as_u64().unwrap() > 0);
    assert_same_answers(&primary, &replica, 3);

    // A new replica from a copy of a stopped one's database starts from its
    // snapshot and replays only what the stream holds after it.
    let held = events(&primary);
    replica.terminate();
    assert!(replica.wait().success(), "{}", replica.log());
    let copy = dir.path().join("replica2.db");
    copy_dir(&dir.path().join("replica.db"), &copy);
    workload(&c, &mut rng, 100);
    let second = Serve::replica(&copy, &nats.url(), &primary.network());
    assert!(second.log().contains(&format!("events={held}")), "{}", second.log());
    caught_up(&primary, &second);
    assert_same_answers(&primary, &second, 4);
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
