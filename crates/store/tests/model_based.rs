//! Model-based tests: random command sequences give the same result on the
//! store as on the in-memory reference model, command by command, and the
//! same views afterwards; the store's `check()` finds nothing wrong.
//!
//! CI runs `PROPTEST_CASES` (default 64) sequences; set `PROPTEST_CASES=10000`
//! for a long run.

mod common;

use common::{pool, views};
use connreq_core::testing::scenario;
use connreq_core::{MemoryNetwork, Network};
use connreq_store::Store;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn every_command_gives_the_same_result_on_the_store_as_on_the_model(sc in scenario(6, 120)) {
        let memory = MemoryNetwork::new(sc.policy.clone()).unwrap();
        let store = Store::temporary(sc.policy.clone()).unwrap();
        for (step, at) in sc.steps.iter().zip(sc.times()) {
            let expected = memory.execute(step.command.clone(), at);
            let got = store.execute(step.command.clone(), at);
            prop_assert_eq!(got, expected, "command {:?}", step.command);
        }
        prop_assert_eq!(views(&store, pool(&sc)), views(&memory, pool(&sc)));
        prop_assert_eq!(store.check().unwrap(), Vec::<String>::new());
    }

    #[test]
    fn a_reopened_database_reads_back_identically(sc in scenario(5, 60)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let before = {
            let store = Store::open(&path, sc.policy.clone()).unwrap();
            for (step, at) in sc.steps.iter().zip(sc.times()) {
                let _ = store.execute(step.command.clone(), at);
            }
            let v = views(&store, pool(&sc));
            store.close().unwrap();
            v
        };
        let store = Store::open(&path, sc.policy.clone()).unwrap();
        prop_assert_eq!(views(&store, pool(&sc)), before);
        prop_assert_eq!(store.check().unwrap(), Vec::<String>::new());
    }
}

/// The generator is only useful if its scenarios reach every request state,
/// flags and emails; this keeps it from silently degenerating into errors.
#[test]
fn the_generated_scenarios_reach_every_state_flags_and_emails() {
    use connreq_core::RequestState;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = scenario(6, 120);
    let mut by_state = std::collections::BTreeMap::new();
    let (mut flags, mut emails, mut ok, mut total) = (0u64, 0u64, 0u64, 0u64);
    for _ in 0..200 {
        let sc = strategy.new_tree(&mut runner).unwrap().current();
        let net = MemoryNetwork::new(sc.policy.clone()).unwrap();
        for (step, at) in sc.steps.iter().zip(sc.times()) {
            total += 1;
            ok += u64::from(net.execute(step.command.clone(), at).is_ok());
        }
        let stats = net.stats().unwrap();
        for (state, n) in stats.requests {
            *by_state.entry(state).or_insert(0u64) += n;
        }
        flags += net.read(|m| m.all_flags().len() as u64).unwrap();
        emails += net.read(|m| m.notification_counts().1).unwrap();
    }
    for state in RequestState::ALL {
        assert!(by_state[state.as_str()] > 0, "no request ever {state}: {by_state:?}");
    }
    assert!(flags > 0 && emails > 0, "flags {flags}, emails {emails}");
    assert!(ok * 5 > total, "only {ok} of {total} commands succeeded");
}
