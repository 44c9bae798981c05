//! Helpers shared by the store's integration tests.
#![allow(dead_code)]

use connreq_core::testing::Scenario;
use connreq_core::{Error, MemberId, Model, Network, Policy, Seq, Timestamp};
use connreq_store::Store;

const T: Timestamp = Timestamp(1_790_000_000_000);

/// Every query a member or operator can make, for every member of the pool,
/// rendered so two networks can be compared with `assert_eq!`.
pub fn views(net: &impl Network, pool: u64) -> Vec<String> {
    let mut out = Vec::new();
    for i in 1..=pool {
        let m = MemberId(i);
        out.push(format!("sent {i}: {:?}", net.sent(m, None)));
        out.push(format!("received {i}: {:?}", net.received(m, None)));
        out.push(format!("connections {i}: {:?}", net.connections(m)));
        out.push(format!("notifications {i}: {:?}", net.notifications(m, false)));
        out.push(format!("standing {i}: {:?}", net.standing(m)));
        out.push(format!("profile {i}: {:?}", net.public_profile(m)));
        out.push(format!("invitations {i}: {:?}", net.invitations(m, true)));
        out.push(format!("suggestions {i}: {:?}", net.suggestions(m, 10, last_time(net))));
        out.push(format!("export {i}: {:?}", net.export_member(m)));
        out.push(format!("email preferences {i}: {:?}", net.email_preferences(m)));
        out.push(format!("email frequency {i}: {:?}", net.email_frequency(m)));
        out.push(format!("locale {i}: {:?}", net.locale(m)));
        for j in 1..=pool {
            out.push(format!("mutual {i} {j}: {:?}", net.mutual_connections(m, MemberId(j))));
            out.push(format!("blocked {i} {j}: {:?}", net.is_blocked(m, MemberId(j))));
        }
    }
    out.push(format!("emails: {:?}", net.pending_emails(None)));
    out.push(format!("queue: {:?}", net.review_queue()));
    if let Ok(flags) = net.review_queue() {
        for f in flags {
            out.push(format!("flag {:?}: {:?} {:?}", f.id, net.flag(f.id), net.flag_events(f.id)));
        }
    }
    out.push(format!("stats: {:?}", net.stats()));
    out.push(format!("events: {:?}", net.events(Seq(0), None)));
    out
}

/// The time of the network's last event (suggestions are asked at it).
fn last_time(net: &impl Network) -> connreq_core::Timestamp {
    net.events(Seq(0), None).ok().and_then(|e| e.last().map(|e| e.at)).unwrap_or(connreq_core::Timestamp(0))
}

/// The largest member id a scenario registers.
pub fn pool(scenario: &Scenario) -> u64 {
    scenario.steps.iter().take_while(|s| matches!(s.command, connreq_core::Command::Register { .. })).count()
        as u64
}

/// The whole model of a network.
pub fn model(net: &impl Network) -> Model {
    net.read(Model::clone).expect("readable")
}

pub fn storage_error(result: Result<Store, Error>) -> String {
    match result {
        Err(Error::StorageError(message)) => message,
        Err(other) => panic!("expected StorageError, got {other:?}"),
        Ok(_) => panic!("expected StorageError, the database opened"),
    }
}

pub fn populated(path: &std::path::Path) {
    let store = Store::open(path, Policy::standard()).unwrap();
    store.register(MemberId(1), Some("a@example.com"), None, T).unwrap();
    store.register(MemberId(2), None, None, T).unwrap();
    store.send(MemberId(1), MemberId(2), Some("hi"), None, T).unwrap();
    store.close().unwrap();
}

/// Writes a raw record at the end of the log of a closed database: into its
/// tail (the tree named `tail:` and the tail's first event) when it has one.
pub fn put_raw(path: &std::path::Path, key: u64, value: &[u8]) {
    let db = sled::open(path).unwrap();
    let tree = db.tree_names().into_iter().filter(|n| n.starts_with(b"tail:")).max();
    db.open_tree(tree.unwrap_or_else(|| "log".into())).unwrap().insert(key.to_be_bytes(), value).unwrap();
    db.flush().unwrap();
}
