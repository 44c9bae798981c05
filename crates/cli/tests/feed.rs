//! The event feed against a real nats-server: every event arrives in the
//! stream once and in order while the connreq server and the NATS server
//! are each killed (SIGKILL) and restarted at random moments under load; a
//! primary stopped gracefully publishes what the stream lacks before it exits.

mod servers;

use async_nats::jetstream;
use futures_util::StreamExt as _;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use servers::{Nats, Serve, poll};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Kills in the run (each of a random side, at a random moment).
const KILLS: usize = 40;

fn events(primary: &Serve) -> u64 {
    primary.health()["events"].as_u64().unwrap_or(0)
}

/// Keeps sending commands to the server at `url` until `stop`: new members,
/// each inviting the one before, every third invitation accepted.
fn load(url: String, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let client = connreq_server::Client::new(&url, Some(servers::KEY), Duration::from_secs(5));
        let mut member = 1u64;
        let mut ok = 0;
        while !stop.load(Ordering::Relaxed) {
            let registered =
                client.call("POST", "/v1/members", Some(&json!({"member": member, "name": "M"})), None);
            match registered {
                Ok((201 | 409, _)) => {}
                _ => {
                    // The server is down: try again shortly.
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                }
            }
            if member > 1 {
                let body =
                    json!({"sender": member, "recipient": member - 1, "note": format!("hello {member}")});
                if let Ok((201, bytes)) = client.call("POST", "/v1/requests", Some(&body), None)
                    && member.is_multiple_of(3)
                {
                    let r: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                    if let Some(id) = r["id"].as_u64() {
                        let _ = client.call(
                            "POST",
                            &format!("/v1/requests/{id}/accept"),
                            Some(&json!({"recipient": member - 1})),
                            None,
                        );
                    }
                }
            }
            member += 1;
            ok += 1;
        }
        ok
    })
}

/// Every message of the network's stream, in stream order: (message id, body).
fn stream_messages(nats: &str, network: &str) -> Vec<(String, Value)> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    runtime.block_on(async {
        let client = async_nats::connect(nats).await.expect("NATS answers");
        let js = jetstream::new(client);
        let stream = js.get_stream(format!("CONNREQ_{network}")).await.expect("the stream exists");
        let info = stream.get_info().await.unwrap();
        assert_eq!(info.state.first_sequence, 1, "the stream starts at its first message");
        let total = info.state.messages;
        let consumer = stream
            .create_consumer(jetstream::consumer::pull::OrderedConfig::default())
            .await
            .expect("a consumer");
        let mut messages = consumer.messages().await.unwrap();
        let mut out = Vec::new();
        while (out.len() as u64) < total {
            let m = tokio::time::timeout(Duration::from_secs(30), messages.next())
                .await
                .expect("the stream delivers what it holds")
                .expect("more messages")
                .expect("a message");
            let id = m.headers.as_ref().and_then(|h| h.get("Nats-Msg-Id")).map(|v| v.as_str().to_owned());
            out.push((id.unwrap_or_default(), serde_json::from_slice(&m.payload).unwrap()));
        }
        out
    })
}

#[test]
fn every_event_reaches_the_stream_once_and_in_order_through_kills_of_either_side() {
    let dir = tempfile::tempdir().unwrap();
    let mut nats = Nats::start(&dir.path().join("nats"));
    let mut primary = Serve::primary(&dir.path().join("primary.db"), &nats.url());
    let network = primary.network();
    let stop = Arc::new(AtomicBool::new(false));
    let loader = load(primary.url(), stop.clone());
    let mut rng = ChaCha8Rng::seed_from_u64(16);
    let (mut primary_kills, mut nats_kills) = (0, 0);
    for _ in 0..KILLS {
        // A random moment: once the log has grown by a random number of events.
        let target = events(&primary) + rng.random_range(10..150);
        poll(Duration::from_secs(60), "the load to add events", || {
            (events(&primary) >= target).then_some(())
        });
        if rng.random_bool(0.5) {
            primary.kill();
            primary.restart();
            primary_kills += 1;
        } else {
            nats.kill();
            // Commands go on while NATS is down: the feed falls behind, nothing else.
            let target = events(&primary) + rng.random_range(5..100);
            poll(Duration::from_secs(60), "commands while NATS is down", || {
                (events(&primary) >= target).then_some(())
            });
            nats.restart();
            nats_kills += 1;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let commands = loader.join().unwrap();
    assert!(primary_kills >= 10 && nats_kills >= 10, "{primary_kills} and {nats_kills} kills");
    assert!(commands > 200, "the load ran ({commands} rounds)");
    // The feed catches up with the durable log.
    let last = events(&primary);
    poll(Duration::from_secs(120), "the feed to publish every event", || {
        (primary.health()["feed"]["published"].as_u64() == Some(last)).then_some(())
    });
    let messages = stream_messages(&nats.url(), &network);
    eprintln!(
        "{last} events, {commands} rounds of load, {primary_kills} kills of connreq, {nats_kills} of NATS"
    );
    let logged = primary.client().events(0, None).unwrap();
    assert_eq!(messages.len() as u64, last, "one message per event");
    assert_eq!(logged.len() as u64, last);
    for (i, ((id, body), e)) in messages.iter().zip(&logged).enumerate() {
        let seq = i as u64 + 1;
        assert_eq!(id, &format!("{network}:{seq}"), "message {seq} is event {seq}");
        assert_eq!(body, &serde_json::to_value(e).unwrap(), "event {seq} as GET /v1/events gives it");
    }
}

#[test]
fn a_stream_ahead_of_the_database_is_refused_and_commands_go_on() {
    // Another history of the network (a database restored from an old
    // backup): the feed publishes nothing rather than mix the two.
    let dir = tempfile::tempdir().unwrap();
    let nats = Nats::start(&dir.path().join("nats"));
    let db = dir.path().join("primary.db");
    let mut primary = Serve::primary(&db, &nats.url());
    let client = primary.client();
    for m in 1..=5 {
        client.register(m, None, None, None, None).unwrap();
    }
    poll(Duration::from_secs(30), "the feed", || (primary.health()["feed"]["published"] == 5).then_some(()));
    primary.kill();
    let backup = dir.path().join("older.db");
    // The same id and an older log: the database as it was after 2 events.
    let store = connreq_store::Store::open_with(&db, connreq_store::OpenOptions::default()).unwrap();
    let id = store.database_id().unwrap();
    let raw = store.raw_events(connreq_core::Seq(0), Some(2)).unwrap();
    let policy = store.creation_policy().unwrap();
    store.close().unwrap();
    let older = connreq_store::Store::open_with(
        &backup,
        connreq_store::OpenOptions { database_id: Some(id), policy: Some(policy), ..Default::default() },
    )
    .unwrap();
    older.replicate(&raw).unwrap();
    older.close().unwrap();
    let mut restored = Serve::primary(&backup, &nats.url());
    poll(Duration::from_secs(30), "the refusal to be logged", || {
        restored.log().contains("another history").then_some(())
    });
    assert_eq!(restored.health()["feed"]["published"], 0);
    restored.client().register(9, None, None, None, None).unwrap();
    restored.kill();
}

#[test]
fn a_primary_stopped_with_sigterm_publishes_what_the_stream_lacks_before_it_exits() {
    // What a promotion relies on: once the old primary has stopped, the
    // stream holds every command it acknowledged.
    let dir = tempfile::tempdir().unwrap();
    let mut nats = Nats::start(&dir.path().join("nats"));
    let db = dir.path().join("primary.db");
    let mut primary = Serve::primary(&db, &nats.url());
    let network = primary.network();
    let client = primary.client();
    for m in 1..=5 {
        client.register(m, None, None, None, None).unwrap();
    }
    poll(Duration::from_secs(30), "the feed", || (primary.health()["feed"]["published"] == 5).then_some(()));
    nats.kill();
    for m in 6..=40 {
        client.register(m, None, None, None, None).unwrap();
    }
    assert_eq!(primary.health()["feed"]["published"], 5, "NATS is down: the feed is behind");
    primary.terminate();
    nats.restart();
    let status = primary.wait();
    assert!(status.success(), "{status}: {}", primary.log());
    let store = connreq_store::Store::open_with(&db, connreq_store::OpenOptions::read_only()).unwrap();
    let last = store.last_seq().unwrap().0;
    store.close().unwrap();
    assert_eq!(last, 40);
    let messages = stream_messages(&nats.url(), &network);
    assert_eq!(messages.len() as u64, last, "the stream holds every acknowledged event");
    assert_eq!(messages.last().unwrap().0, format!("{network}:{last}"));
}
