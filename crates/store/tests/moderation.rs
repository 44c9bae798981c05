//! SPEC §15 through the store: who decided a flag and why, a lifted
//! restriction and the events behind a flag survive closing and reopening
//! (from the snapshot and from the log alone), and `check()` agrees.

use connreq_core::{Decision, FlagRule, MemberId, Network, Policy, ReportReason, Standing, Timestamp};
use connreq_store::{OpenOptions, Store};

const T: Timestamp = Timestamp(1_790_000_000_000);
const MINUTE: i64 = 60_000;

fn at(minutes: i64) -> Timestamp {
    Timestamp(T.0 + minutes * MINUTE)
}

#[test]
fn decisions_lifts_and_flag_events_are_kept_across_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let (a, b, moderator) = (MemberId(1), MemberId(2), MemberId(9));
    {
        let options =
            OpenOptions { snapshot_after_events: 1, ..OpenOptions::with_policy(Policy::standard()) };
        let store = Store::open_with(&path, options).unwrap();
        for m in [a, b, moderator] {
            store.register(m, None, None, T).unwrap();
        }
        let first = store.send(a, b, None, None, at(1)).unwrap();
        store.decline(b, first, None, at(2)).unwrap();
        let again = store.send(a, b, None, None, at(3)).unwrap();
        store.report(b, a, ReportReason::Harassment, Some(again), at(4)).unwrap();
        let flag = store.review_queue().unwrap()[0].id;
        store.resolve_flag_by(flag, Decision::Restrict, Some(moderator), Some("kept at it"), at(5)).unwrap();
        store.lift_restriction(a, Some(moderator), Some("appeal upheld"), at(6)).unwrap();
        store.close().unwrap();
    }
    assert!(path.join("connreq.snapshot").exists());
    for pass in ["snapshot", "log"] {
        if pass == "log" {
            std::fs::remove_file(path.join("connreq.snapshot")).unwrap();
        }
        let store = Store::open(&path, Policy::standard()).unwrap();
        assert!(store.check().unwrap().is_empty(), "{pass}");
        let flag = store.flag(connreq_core::FlagId(1)).unwrap();
        assert_eq!(flag.rule, FlagRule::RepeatedResends, "{pass}");
        assert_eq!(flag.resolved_by, Some(moderator), "{pass}");
        assert_eq!(flag.resolution_note.as_deref(), Some("kept at it"), "{pass}");
        assert_eq!(flag.resolved_at, Some(at(5)), "{pass}");
        assert_eq!(store.standing(a).unwrap(), Standing::Good, "{pass}: lifted");
        let kinds: Vec<&str> = store.flag_events(flag.id).unwrap().iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            ["invitation_sent", "invitation_declined", "invitation_sent", "member_reported"],
            "{pass}"
        );
        let lifted = store.events(connreq_core::Seq(0), None).unwrap();
        assert!(
            lifted.iter().any(|e| e.kind == "restriction_lifted" && e.actor == Some(moderator)),
            "{pass}"
        );
        store.close().unwrap();
    }
}
