//! Concurrency: `Store` is shared by threads; commands serialize correctly.

use connreq_core::{Error, MemberId, Network, Policy, RequestState, Seq, Timestamp};
use connreq_store::Store;
use std::sync::{Arc, Barrier};

const T: Timestamp = Timestamp(1_790_000_000_000);

#[test]
fn accept_racing_withdraw_has_exactly_one_winner_every_time() {
    let store = Arc::new(Store::temporary(Policy::standard()).unwrap());
    let (mut accepted, mut withdrawn) = (0, 0);
    for round in 0..200u64 {
        let (sender, recipient) = (MemberId(2 * round + 1), MemberId(2 * round + 2));
        store.register(sender, None, None, T).unwrap();
        store.register(recipient, None, None, T).unwrap();
        let id = store.send(sender, recipient, None, None, T).unwrap();
        let barrier = Arc::new(Barrier::new(2));
        let accept = {
            let (store, barrier) = (store.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                store.accept(recipient, id, T)
            })
        };
        let withdraw = {
            let (store, barrier) = (store.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                store.withdraw(sender, id, None, T)
            })
        };
        let (a, w) = (accept.join().unwrap(), withdraw.join().unwrap());
        let state = store.request(id).unwrap().state;
        match (a, w) {
            (Ok(()), Err(Error::InvalidTransition { .. })) => {
                accepted += 1;
                assert_eq!(state, RequestState::Accepted);
                assert!(store.are_connected(sender, recipient).unwrap());
            }
            (Err(Error::InvalidTransition { .. }), Ok(())) => {
                withdrawn += 1;
                assert_eq!(state, RequestState::Withdrawn);
                assert!(!store.are_connected(sender, recipient).unwrap());
            }
            other => panic!("round {round}: both or neither won: {other:?}"),
        }
    }
    assert_eq!(accepted + withdrawn, 200);
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
}

#[test]
fn many_threads_sending_lose_and_duplicate_no_event() {
    const THREADS: u64 = 8;
    const EACH: u64 = 150;
    let store = Arc::new(Store::temporary(Policy::standard()).unwrap());
    for m in 1..=THREADS * (EACH + 1) {
        store.register(MemberId(m), None, None, T).unwrap();
    }
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                let sender = MemberId(t + 1);
                let first_recipient = THREADS + 1 + t * EACH;
                (0..EACH)
                    .map(|i| {
                        let recipient = MemberId(first_recipient + i);
                        store.send(sender, recipient, None, None, T).unwrap()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut ids: Vec<u64> = handles.into_iter().flat_map(|h| h.join().unwrap()).map(|r| r.0).collect();
    ids.sort_unstable();
    assert_eq!(ids, (1..=THREADS * EACH).collect::<Vec<_>>(), "request ids are unique and gapless");
    let events = store.events(Seq(0), None).unwrap();
    let seqs: Vec<u64> = events.iter().map(|e| e.seq.0).collect();
    let registered = THREADS * (EACH + 1);
    assert_eq!(seqs, (1..=registered + THREADS * EACH).collect::<Vec<_>>());
    assert_eq!(store.stats().unwrap().requests["pending"], THREADS * EACH);
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
}

#[test]
fn readers_never_see_half_a_command() {
    let store = Arc::new(Store::temporary(Policy::standard()).unwrap());
    for m in 1..=300 {
        store.register(MemberId(m), None, None, T).unwrap();
    }
    let writer = {
        let store = store.clone();
        std::thread::spawn(move || {
            for m in 2..=300 {
                let id = store.send(MemberId(1), MemberId(m), None, None, T).unwrap();
                store.accept(MemberId(m), id, T).unwrap();
                if m % 3 == 0 {
                    store.block(MemberId(m), MemberId(1), T).unwrap();
                }
            }
        })
    };
    let mut checks = 0;
    while !writer.is_finished() || checks == 0 {
        let problems = store.read(|m| m.invariant_violations()).unwrap();
        assert_eq!(problems, Vec::<String>::new());
        checks += 1;
    }
    writer.join().unwrap();
    assert_eq!(store.connection_count(MemberId(1)).unwrap(), 299 - 100);
}

#[test]
fn explicit_flushes_beside_the_background_flush_all_succeed_and_lose_nothing() {
    use connreq_store::{Durability, OpenOptions};
    const THREADS: u64 = 4;
    const EACH: u64 = 100;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let options = || OpenOptions {
        policy: Some(Policy::standard()),
        durability: Durability::Background,
        flush_every_ms: 1,
        ..OpenOptions::default()
    };
    let store = Arc::new(Store::open_with(&path, options()).unwrap());
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let store = store.clone();
            s.spawn(move || {
                for i in 0..EACH {
                    store.register(MemberId(t * EACH + i + 1), None, None, T).unwrap();
                    store.flush().unwrap();
                }
            });
        }
    });
    store.close().unwrap();
    let reopened = Store::open_with(&path, options()).unwrap();
    for m in 1..=THREADS * EACH {
        assert!(reopened.public_profile(MemberId(m)).is_ok(), "member {m} lost");
    }
    assert_eq!(reopened.check().unwrap(), Vec::<String>::new());
}

#[test]
fn threads_under_command_durability_share_flushes_and_every_command_is_on_disk() {
    use connreq_store::{Durability, OpenOptions};
    const THREADS: u64 = 8;
    const EACH: u64 = 50;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let store = Arc::new(Store::open(&path, Policy::standard()).unwrap());
    assert_eq!(store.durability(), Durability::Command, "the default");
    for m in 1..=THREADS * (EACH + 1) {
        store.register(MemberId(m), None, None, T).unwrap();
    }
    let before = store.flushes().unwrap();
    let barrier = Arc::new(Barrier::new(THREADS as usize));
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (store, barrier) = (store.clone(), barrier.clone());
            s.spawn(move || {
                barrier.wait();
                let sender = MemberId(t + 1);
                for i in 0..EACH {
                    store.send(sender, MemberId(THREADS + 1 + t * EACH + i), None, None, T).unwrap();
                }
            });
        }
    });
    let flushes = store.flushes().unwrap() - before;
    let commands = THREADS * EACH;
    eprintln!("{commands} commands from {THREADS} threads took {flushes} flushes");
    assert!(flushes >= 1 && flushes < commands, "{flushes} flushes for {commands} commands");
    // Nothing closed: every command is on disk already. Read the files as a
    // crash would leave them: copied while the store is still open.
    let copy = dir.path().join("copy");
    std::fs::create_dir(&copy).unwrap();
    for entry in std::fs::read_dir(&path).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
        }
    }
    let reopened = Store::open_with(&copy, OpenOptions::default()).unwrap();
    assert_eq!(reopened.stats().unwrap().requests["pending"], commands);
    assert_eq!(reopened.check().unwrap(), Vec::<String>::new());
}
