//! SPEC §10: notifications done right. No stale mail, none about a member one
//! blocked, preferences per kind, daily digests, reminders, and every text in
//! every locale.

mod common;

use common::*;
use connreq_core::{
    Email, EmailFrequency, EmailKind, EmailStatus, Error, Locale, MemberId, MemoryNetwork, Model, Network,
    NotificationKind, Policy, PreferenceKind, ReportReason, RequestId, SkipReason, Timestamp,
};
use std::time::Duration;

/// Every email of `member`'s, whatever its status, oldest first.
fn emails_of(net: &MemoryNetwork, member: MemberId) -> Vec<Email> {
    net.read(|m| m.emails_of(member)).unwrap().unwrap()
}

/// The email carrying `member`'s latest notification of `kind`.
fn email_for(net: &MemoryNetwork, member: MemberId, kind: EmailKind) -> Option<Email> {
    emails_of(net, member).into_iter().rev().find(|e| e.kind == kind)
}

fn status(e: &Email) -> (&'static str, Option<&'static str>) {
    (e.status.as_str(), e.skip_reason.map(SkipReason::as_str))
}

fn pending_kinds(net: &MemoryNetwork) -> Vec<(MemberId, EmailKind)> {
    net.pending_emails(None).unwrap().iter().map(|e| (e.member, e.kind)).collect()
}

// ------------------------------------------------------------ stale emails

type Ending = fn(&MemoryNetwork, RequestId);
/// (how it ends, policy, how, its invitation email's status, the emails it queues itself)
type EndingCase =
    (&'static str, Policy, Ending, (&'static str, Option<&'static str>), &'static [(MemberId, EmailKind)]);

#[test]
fn an_invitation_email_unsent_when_its_request_ends_is_skipped_with_the_reason() {
    use EmailKind::*;
    let cases: [EndingCase; 8] = [
        (
            "accept",
            Policy::standard(),
            |n, r| n.accept(B, r, minute(1)).unwrap(),
            ("skipped", Some("stale")),
            &[(A, InvitationAccepted)],
        ),
        (
            "decline",
            Policy::standard(),
            |n, r| n.decline(B, r, None, minute(1)).unwrap(),
            ("skipped", Some("stale")),
            &[(A, InvitationDeclined)],
        ),
        (
            "withdraw",
            Policy::standard(),
            |n, r| n.withdraw(A, r, None, minute(1)).unwrap(),
            ("skipped", Some("stale")),
            &[(B, InvitationWithdrawn)],
        ),
        (
            "silent withdrawal",
            Policy::linkedin(),
            |n, r| n.withdraw(A, r, None, minute(1)).unwrap(),
            ("skipped", Some("stale")),
            &[],
        ),
        (
            "expiry",
            Policy { pending_ttl: Some(Duration::from_secs(60)), ..Policy::standard() },
            |n, _| {
                n.expire(minute(2)).unwrap();
            },
            ("skipped", Some("stale")),
            &[],
        ),
        (
            "the recipient blocks",
            Policy::standard(),
            |n, _| n.block(B, A, minute(1)).unwrap(),
            ("skipped", Some("blocked")),
            &[],
        ),
        (
            "the sender blocks",
            Policy::standard(),
            |n, _| n.block(A, B, minute(1)).unwrap(),
            ("skipped", Some("stale")),
            &[],
        ),
        (
            "ignore",
            Policy::standard(),
            |n, r| n.ignore(B, r, minute(1)).unwrap(),
            ("queued", None),
            &[(B, InvitationReceived)],
        ),
    ];
    for (how, policy, end, expected, queued) in cases {
        let net = network(policy, &[1, 2]);
        let r = net.send(A, B, Some("hello"), None, T0).unwrap();
        let invitation = email_for(&net, B, InvitationReceived).unwrap();
        assert_eq!(status(&invitation), ("queued", None), "{how}");
        end(&net, r);
        let invitation = net.email(invitation.id).unwrap();
        assert_eq!(status(&invitation), expected, "{how}");
        assert_eq!(pending_kinds(&net), queued, "{how}: the emails SPEC §3 still sends");
        // The in-app notification stays where it was.
        assert_eq!(
            net.notifications(B, false).unwrap()[0].kind,
            NotificationKind::InvitationReceived,
            "{how}"
        );
    }
}

#[test]
fn a_sent_invitation_email_stays_sent_when_its_request_ends() {
    let net = network(Policy::standard(), &[1, 2]);
    let r = net.send(A, B, None, None, T0).unwrap();
    let e = email_for(&net, B, EmailKind::InvitationReceived).unwrap();
    assert_eq!(net.mark_emails_sent(&[e.id], minute(3)).unwrap(), 1);
    net.withdraw(A, r, None, minute(4)).unwrap();
    assert_eq!(status(&net.email(e.id).unwrap()), ("sent", None));
    assert_eq!(net.email(e.id).unwrap().sent_at, Some(minute(3)));
}

#[test]
fn a_blocker_gets_no_mail_about_the_member_blocked_and_the_other_side_keeps_theirs() {
    let net = network(Policy::standard(), &[1, 2, 3]);
    // B's invitation to A is accepted: B has an unsent "accepted" email about A.
    let r = net.send(B, A, None, None, T0).unwrap();
    net.accept(A, r, minute(1)).unwrap();
    // And one about C, which must go.
    let c = net.send(B, C, None, None, minute(1)).unwrap();
    net.accept(C, c, minute(2)).unwrap();
    // A withdraws nothing and is told nothing; A's own mail about B stays.
    let to_a = net.send(C, A, None, None, minute(2)).unwrap();
    net.block(B, A, minute(3)).unwrap();
    let about_a = emails_of(&net, B).into_iter().find(|e| e.request_id == Some(r)).unwrap();
    assert_eq!(status(&about_a), ("skipped", Some("blocked")));
    let about_c = emails_of(&net, B).into_iter().find(|e| e.request_id == Some(c)).unwrap();
    assert_eq!(status(&about_c), ("queued", None));
    let a_invited = emails_of(&net, A).into_iter().find(|e| e.request_id == Some(to_a)).unwrap();
    assert_eq!(status(&a_invited), ("queued", None), "the member blocked keeps their mail");
    assert!(net.pending_emails(None).unwrap().iter().all(|e| e.id != about_a.id));
}

#[test]
fn the_skips_are_events_and_replay_to_the_same_outbox() {
    let net = network(Policy::standard(), &[1, 2]);
    let r = net.send(A, B, None, None, T0).unwrap();
    net.accept(B, r, minute(1)).unwrap();
    let skipped: Vec<_> = net
        .events(connreq_core::Seq(0), None)
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "emails_skipped")
        .collect();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0].detail, r#"{"emails":[1],"reason":"stale"}"#);
    let live = net.read(|m| m.clone()).unwrap();
    assert!(Model::replay(Policy::standard(), &net.log()) == live);
}

// ------------------------------------------------------------ preferences

#[test]
fn every_kind_is_on_by_default_and_each_can_be_switched_alone_or_all_at_once() {
    let net = network(Policy::standard(), &[1, 2]);
    let prefs = net.email_preferences(A).unwrap();
    let kinds: Vec<&str> = prefs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "invitation_received",
            "invitation_accepted",
            "invitation_declined",
            "invitation_withdrawn",
            "invitation_reminder"
        ]
    );
    assert!(prefs.iter().all(|(_, on)| *on));
    net.set_email_preference(A, PreferenceKind::InvitationAccepted, false, T0).unwrap();
    let off: Vec<_> = net.email_preferences(A).unwrap().into_iter().filter(|(_, on)| !on).collect();
    assert_eq!(off, [(PreferenceKind::InvitationAccepted, false)]);
    net.set_email_preference(A, PreferenceKind::All, false, T0).unwrap();
    assert!(net.email_preferences(A).unwrap().iter().all(|(_, on)| !on));
    net.set_email_preference(A, PreferenceKind::InvitationReceived, true, T0).unwrap();
    let on: Vec<_> = net.email_preferences(A).unwrap().into_iter().filter(|(_, on)| *on).collect();
    assert_eq!(on, [(PreferenceKind::InvitationReceived, true)]);
    net.set_email_preference(A, PreferenceKind::All, true, T0).unwrap();
    assert!(net.email_preferences(A).unwrap().iter().all(|(_, on)| *on));
    assert!(matches!(
        net.set_email_preference(m(9), PreferenceKind::All, false, T0),
        Err(Error::UnknownMember(_))
    ));
    let err = PreferenceKind::parse("invitation_expired").unwrap_err().to_string();
    assert!(err.contains("invitation_received") && err.contains("all"), "{err}");
}

#[test]
fn a_kind_switched_off_is_still_notified_in_app_but_not_emailed() {
    let net = network(Policy::standard(), &[1, 2, 3]);
    net.set_email_preference(B, PreferenceKind::InvitationReceived, false, T0).unwrap();
    net.send(A, B, None, None, T0).unwrap();
    assert_eq!(net.notifications(B, false).unwrap().len(), 1);
    assert!(emails_of(&net, B).is_empty(), "not queued at all");
    // Other kinds still go.
    let r = net.send(B, C, None, None, T0).unwrap();
    net.accept(C, r, minute(1)).unwrap();
    assert_eq!(email_for(&net, B, EmailKind::InvitationAccepted).map(|e| status(&e)), Some(("queued", None)));
}

#[test]
fn switching_a_kind_off_skips_what_is_queued_of_it_and_switching_it_on_again_does_not_bring_it_back() {
    let net = network(Policy::standard(), &[1, 2, 3]);
    net.send(A, B, None, None, T0).unwrap();
    let r = net.send(B, C, None, None, T0).unwrap();
    net.accept(C, r, minute(1)).unwrap();
    net.set_email_preference(B, PreferenceKind::InvitationReceived, false, minute(1)).unwrap();
    let received = email_for(&net, B, EmailKind::InvitationReceived).unwrap();
    assert_eq!(status(&received), ("skipped", Some("preference")));
    let accepted = email_for(&net, B, EmailKind::InvitationAccepted).unwrap();
    assert_eq!(status(&accepted), ("queued", None));
    net.set_email_preference(B, PreferenceKind::All, false, minute(2)).unwrap();
    assert_eq!(status(&net.email(accepted.id).unwrap()), ("skipped", Some("preference")));
    net.set_email_preference(B, PreferenceKind::All, true, minute(3)).unwrap();
    assert_eq!(status(&net.email(accepted.id).unwrap()), ("skipped", Some("preference")));
    assert!(net.pending_emails(None).unwrap().iter().all(|e| e.member != B));
}

#[test]
fn setting_what_is_already_set_records_nothing() {
    let net = network(Policy::standard(), &[1]);
    let before = net.events(connreq_core::Seq(0), None).unwrap().len();
    net.set_email_preference(A, PreferenceKind::All, true, T0).unwrap();
    net.set_email_frequency(A, EmailFrequency::Immediate, T0).unwrap();
    net.set_locale(A, Locale::En, T0).unwrap();
    assert_eq!(net.events(connreq_core::Seq(0), None).unwrap().len(), before);
}

// ------------------------------------------------------------ digests

/// 2026-09-22T08:00:00Z: the digest hour of the day after `T0`.
const NEXT_8AM: Timestamp = Timestamp(1_790_064_000_000);

fn daily(ids: &[u64]) -> MemoryNetwork {
    let net = network(Policy::standard(), ids);
    net.set_email_frequency(B, EmailFrequency::Daily, T0).unwrap();
    net
}

#[test]
fn a_daily_member_with_nothing_new_gets_no_digest() {
    let net = daily(&[1, 2]);
    assert_eq!(net.email_frequency(B).unwrap(), EmailFrequency::Daily);
    assert!(net.pending_emails(None).unwrap().is_empty());
}

#[test]
fn a_daily_member_gets_one_digest_at_the_digest_hour_instead_of_an_email_each() {
    let net = daily(&[1, 2, 3, 4]);
    net.send(A, B, None, None, T0).unwrap();
    let digest = net.pending_emails(None).unwrap();
    assert_eq!(digest.len(), 1);
    assert_eq!((digest[0].member, digest[0].kind, digest[0].due_at), (B, EmailKind::Digest, NEXT_8AM));
    assert_eq!(digest[0].subject, "1 new notification");
    assert_eq!(digest[0].notification, None);
    net.send(C, B, Some("We met at the fair"), None, minute(5)).unwrap();
    net.send(D, B, None, None, minute(6)).unwrap();
    let digest = net.pending_emails(None).unwrap();
    assert_eq!(digest.len(), 1, "still one digest");
    assert_eq!(digest[0].subject, "3 new notifications");
    let body = &digest[0].body;
    assert!(body.starts_with("Hi Bob,\n\nHere is what happened since your last digest:\n\n"), "{body}");
    let items: Vec<&str> = body.lines().filter(|l| l.starts_with("- ")).collect();
    assert_eq!(
        items,
        [
            "- Ada wants to connect with you.",
            "- Cleo wants to connect with you.",
            "- Dev wants to connect with you."
        ]
    );
    assert!(body.contains("\n  Note: We met at the fair\n"), "{body}");
    assert!(
        digest[0].html.contains("<ul>") && digest[0].html.contains("<li>Cleo wants to connect with you.<br>")
    );
    assert!(net.pending_emails(Some(Timestamp(NEXT_8AM.0 - 1))).unwrap().is_empty(), "not due before 08:00");
}

#[test]
fn the_digest_lists_only_what_is_still_unread_and_nothing_when_all_was_read() {
    let net = daily(&[1, 2, 3]);
    net.send(A, B, None, None, T0).unwrap();
    net.send(C, B, None, None, minute(1)).unwrap();
    let first = net.notifications(B, false).unwrap()[0].id;
    net.mark_read(B, &[first], minute(2)).unwrap();
    let digest = net.pending_emails(None).unwrap().pop().unwrap();
    assert_eq!(digest.subject, "1 new notification");
    assert!(!digest.body.contains("Ada") && digest.body.contains("- Cleo wants to connect with you."));
    let second = net.notifications(B, false).unwrap()[1].id;
    net.mark_read(B, &[second], minute(3)).unwrap();
    assert!(net.pending_emails(None).unwrap().is_empty(), "nothing unread: no digest");
    assert_eq!(status(&net.email(digest.id).unwrap()), ("skipped", Some("stale")));
}

#[test]
fn the_next_digest_lists_what_came_since_the_previous_one() {
    let net = daily(&[1, 2, 3]);
    net.send(A, B, None, None, T0).unwrap();
    let first = net.pending_emails(None).unwrap().pop().unwrap();
    net.mark_emails_sent(&[first.id], NEXT_8AM).unwrap();
    net.send(C, B, None, None, Timestamp(NEXT_8AM.0 + 60_000)).unwrap();
    let second = net.pending_emails(None).unwrap().pop().unwrap();
    assert_eq!(second.due_at, Timestamp(NEXT_8AM.0 + 86_400_000), "one digest a day");
    assert!(second.body.contains("- Cleo") && !second.body.contains("Ada"), "{}", second.body);
}

#[test]
fn the_digest_hour_comes_from_the_policy_and_is_utc() {
    let net = network(Policy { digest_hour: 23, ..Policy::standard() }, &[1, 2]);
    net.set_email_frequency(B, EmailFrequency::Daily, T0).unwrap();
    net.send(A, B, None, None, T0).unwrap();
    // T0 is 14:13 UTC: the same day's 23:00.
    assert_eq!(net.pending_emails(None).unwrap()[0].due_at.to_string(), "2026-09-21T23:00:00.000Z");
}

#[test]
fn a_request_that_ends_leaves_the_digest_and_an_empty_digest_is_skipped() {
    let net = daily(&[1, 2]);
    let r = net.send(A, B, None, None, T0).unwrap();
    net.withdraw(A, r, None, minute(1)).unwrap();
    // The withdrawal itself is news, in the digest.
    let digest = net.pending_emails(None).unwrap().pop().unwrap();
    assert_eq!(digest.subject, "1 new notification");
    assert!(digest.body.contains("- Ada withdrew the connection request."), "{}", digest.body);
    // Blocking A leaves nothing in it.
    net.block(B, A, minute(2)).unwrap();
    assert!(net.pending_emails(None).unwrap().is_empty());
    assert_eq!(status(&net.email(digest.id).unwrap()), ("skipped", Some("stale")));
}

#[test]
fn back_to_immediate_a_queued_digest_still_goes_and_new_notifications_go_alone() {
    let net = daily(&[1, 2, 3]);
    net.send(A, B, None, None, T0).unwrap();
    net.set_email_frequency(B, EmailFrequency::Immediate, minute(1)).unwrap();
    net.send(C, B, None, None, minute(2)).unwrap();
    let kinds = pending_kinds(&net);
    assert_eq!(kinds, [(B, EmailKind::InvitationReceived), (B, EmailKind::Digest)]);
}

// ------------------------------------------------------------ reminders

fn with_reminders() -> MemoryNetwork {
    network(Policy { invitation_reminders: vec![days(3), days(7)], ..Policy::standard() }, &[1, 2, 3])
}

#[test]
fn a_pending_invitation_is_reminded_at_each_configured_time() {
    let net = with_reminders();
    let r = net.send(A, B, Some("hello"), None, T0).unwrap();
    let reminders: Vec<Email> = net
        .pending_emails(None)
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == EmailKind::InvitationReminder)
        .collect();
    assert_eq!(reminders.iter().map(|e| e.due_at).collect::<Vec<_>>(), [day(3), day(7)]);
    assert!(reminders.iter().all(|e| e.member == B && e.request_id == Some(r) && e.notification.is_none()));
    assert_eq!(reminders[0].subject, "Ada is waiting for your answer");
    assert!(
        reminders[0].body.contains(
            "Ada invited you to connect on 2026-09-21 and is still waiting for your answer.\n\nNote: hello"
        ),
        "{}",
        reminders[0].body
    );
    assert_eq!(net.pending_emails(Some(day(3))).unwrap().len(), 2, "the invitation and the first reminder");
    // None for a member without an address, or who switched reminders off.
    net.register(m(9), None, None, T0).unwrap();
    net.send(A, m(9), None, None, T0).unwrap();
    net.set_email_preference(C, PreferenceKind::InvitationReminder, false, T0).unwrap();
    net.send(A, C, None, None, T0).unwrap();
    assert_eq!(net.pending_emails(None).unwrap().len(), 4);
}

#[test]
fn no_reminder_after_any_action_or_an_ignore() {
    let endings: [(&str, Ending); 6] = [
        ("accept", |n, r| n.accept(B, r, day(1)).unwrap()),
        ("ignore", |n, r| n.ignore(B, r, day(1)).unwrap()),
        ("decline", |n, r| n.decline(B, r, None, day(1)).unwrap()),
        ("withdraw", |n, r| n.withdraw(A, r, None, day(1)).unwrap()),
        ("block", |n, _| n.block(B, A, day(1)).unwrap()),
        ("dont_know", |n, r| n.report(B, A, ReportReason::DontKnow, Some(r), day(1)).unwrap()),
    ];
    for (how, end) in endings {
        let net = with_reminders();
        let r = net.send(A, B, None, None, T0).unwrap();
        end(&net, r);
        let left: Vec<Email> =
            emails_of(&net, B).into_iter().filter(|e| e.kind == EmailKind::InvitationReminder).collect();
        assert_eq!(left.len(), 2, "{how}");
        assert!(left.iter().all(|e| e.skip_reason.is_some()), "{how}: {left:?}");
        assert!(
            net.pending_emails(None).unwrap().iter().all(|e| e.kind != EmailKind::InvitationReminder),
            "{how}"
        );
    }
}

#[test]
fn a_reminder_already_sent_stays_sent_and_the_later_one_is_skipped() {
    let net = with_reminders();
    let r = net.send(A, B, None, None, T0).unwrap();
    let due: Vec<_> = net.pending_emails(Some(day(3))).unwrap().iter().map(|e| e.id).collect();
    net.mark_emails_sent(&due, day(3)).unwrap();
    net.accept(B, r, day(4)).unwrap();
    let reminders: Vec<_> = emails_of(&net, B)
        .into_iter()
        .filter(|e| e.kind == EmailKind::InvitationReminder)
        .map(|e| status(&e))
        .collect();
    assert_eq!(reminders, [("sent", None), ("skipped", Some("stale"))]);
}

// ------------------------------------------------------------ locales

#[test]
fn members_choose_a_language_and_an_unknown_one_is_refused_by_name() {
    let net = network(Policy::standard(), &[1]);
    assert_eq!(net.locale(A).unwrap(), Locale::En);
    net.register_in(B, Some("b@example.com"), Some("Bea"), Some(Locale::De), T0).unwrap();
    assert_eq!(net.locale(B).unwrap(), Locale::De);
    net.set_locale(A, Locale::Fr, T0).unwrap();
    assert_eq!(net.locale(A).unwrap(), Locale::Fr);
    let names: Vec<&str> = Locale::ALL.iter().map(|l| l.as_str()).collect();
    assert_eq!(names, ["en", "de", "fr", "es"]);
    let err = Error::from(Locale::parse("tlh").unwrap_err());
    assert!(
        matches!(&err, Error::InvalidInput(m) if m.contains("tlh") && m.contains("en, de, fr, es")),
        "{err}"
    );
}

#[test]
fn texts_follow_the_readers_language_and_change_with_it() {
    let net = network(Policy::standard(), &[1]);
    net.register_in(B, Some("b@example.com"), Some("Bea"), Some(Locale::De), T0).unwrap();
    net.send(A, B, None, None, T0).unwrap();
    assert_eq!(net.notifications(B, false).unwrap()[0].text, "Ada möchte sich mit Ihnen vernetzen.");
    let e = net.pending_emails(None).unwrap().pop().unwrap();
    assert!(e.body.starts_with("Hallo Bea,\n\n"), "{}", e.body);
    assert!(e.html.contains("<html lang=\"de\">"));
    net.set_locale(B, Locale::Es, minute(1)).unwrap();
    assert_eq!(net.notifications(B, false).unwrap()[0].text, "Ada quiere conectar contigo.");
    assert_eq!(net.email(e.id).unwrap().subject, "Ada quiere conectar contigo");
}

#[test]
fn dates_are_written_the_locales_way() {
    for (locale, written) in [
        (Locale::En, "2026-09-21"),
        (Locale::De, "21.09.2026"),
        (Locale::Fr, "21/09/2026"),
        (Locale::Es, "21/09/2026"),
    ] {
        let net = network(Policy::standard(), &[1]);
        net.register_in(B, Some("b@example.com"), Some("Bea"), Some(locale), T0).unwrap();
        let r = net.send(B, A, None, None, T0).unwrap();
        net.accept(A, r, day(8)).unwrap();
        let text = &net.notifications(B, false).unwrap()[0].text;
        assert!(text.contains(written), "{locale}: {text}");
    }
}

/// Every kind of text in every locale, written to `tests/snapshots/texts.<locale>.txt`:
/// the files were read by eye once; a change to any text shows in review as a
/// change to them. `UPDATE_SNAPSHOTS=1` rewrites them.
#[test]
fn every_text_in_every_locale_matches_its_reviewed_snapshot() {
    for locale in Locale::ALL {
        let rendered = every_text(*locale);
        let path = format!("{}/tests/snapshots/texts.{locale}.txt", env!("CARGO_MANIFEST_DIR"));
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::write(&path, &rendered).unwrap();
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(rendered, expected, "{locale}: the texts differ from {path}");
    }
}

/// One network in which `reader` (member 2, in `locale`) gets one notification
/// of every kind, old and new, with notes and messages, a reminder and a
/// digest; every text and email rendered, one after another.
fn every_text(locale: Locale) -> String {
    let policy =
        Policy { pending_ttl: Some(days(30)), invitation_reminders: vec![days(3)], ..Policy::standard() };
    let net = network(policy, &[1, 3, 4, 5]);
    net.register_in(B, Some("reader@example.com"), Some("Rita O'Neil & Co"), Some(locale), T0).unwrap();
    net.register(m(9), None, None, T0).unwrap();
    net.send(A, B, Some("We met at the \"Data & AI\" meetup"), None, T0).unwrap();
    let r = net.send(B, C, None, None, T0).unwrap();
    net.accept(C, r, minute(1)).unwrap();
    let to_d = net.send(B, D, None, None, minute(1)).unwrap();
    let from_e = net.send(E, B, None, None, minute(1)).unwrap();
    net.send(B, m(9), None, None, day(1)).unwrap();
    net.decline(D, to_d, Some("Sorry, I don't connect with strangers"), day(9)).unwrap();
    net.withdraw(E, from_e, Some("Wrong person, apologies"), day(10)).unwrap();
    net.expire(day(32)).unwrap();
    let mut out = String::new();
    for n in net.notifications(B, false).unwrap() {
        out.push_str(&format!("== in-app {}\n{}\n\n", n.kind, n.text));
    }
    let mut emails = emails_of(&net, B);
    net.set_email_frequency(B, EmailFrequency::Daily, day(40)).unwrap();
    net.send(m(9), B, Some("Line one\nline two"), None, day(40)).unwrap();
    net.send(D, B, None, None, day(40)).unwrap();
    emails.extend(emails_of(&net, B).into_iter().filter(|e| e.kind == EmailKind::Digest));
    for e in emails {
        let e = net.read(|m| m.email_with_link(e.id, Some("https://net.example/u/TOKEN"))).unwrap().unwrap();
        out.push_str(&format!(
            "== email {} ({})\nSubject: {}\n\n{}\n-- html --\n{}\n",
            e.kind, e.status, e.subject, e.body, e.html
        ));
    }
    out
}

#[test]
fn a_member_without_a_name_is_called_by_number_in_their_readers_language() {
    let net = network(Policy::standard(), &[]);
    net.register(A, Some("a@example.com"), None, T0).unwrap();
    net.register_in(B, Some("b@example.com"), None, Some(Locale::Fr), T0).unwrap();
    net.send(A, B, None, None, T0).unwrap();
    assert_eq!(
        net.notifications(B, false).unwrap()[0].text,
        "Membre 1 souhaite entrer en relation avec vous."
    );
    assert!(net.pending_emails(None).unwrap()[0].body.starts_with("Bonjour Membre 2,"));
}

#[test]
fn undeliverable_emails_are_skipped_for_their_address() {
    let net = network(Policy::standard(), &[1, 2]);
    net.send(A, B, None, None, T0).unwrap();
    let e = net.pending_emails(None).unwrap().pop().unwrap();
    assert_eq!(net.mark_emails_undeliverable(&[e.id, e.id], minute(3)).unwrap(), 1);
    assert_eq!(status(&net.email(e.id).unwrap()), ("skipped", Some("invalid_address")));
    assert_eq!(net.mark_emails_sent(&[e.id], minute(4)).unwrap(), 0, "a skipped email is never marked sent");
    assert_eq!(net.mark_emails_undeliverable(&[e.id], minute(4)).unwrap(), 0);
    assert!(matches!(
        net.mark_emails_undeliverable(&[connreq_core::EmailId(99)], minute(4)),
        Err(Error::NotFound(_))
    ));
    assert_eq!(EmailStatus::parse("skipped").unwrap(), EmailStatus::Skipped);
}

// ------------------------------------------------------------ pages of an inbox

#[test]
fn a_page_of_notifications_is_the_inbox_newest_first_between_its_bounds() {
    let net = network(Policy::standard(), &[1, 2, 3, 4, 5, 6]);
    for (i, sender) in [2, 3, 4, 5, 6].into_iter().enumerate() {
        net.send(m(sender), A, None, None, minute(i as i64)).unwrap();
    }
    let all = net.notifications(A, false).unwrap();
    let newest_first: Vec<_> = all.iter().rev().cloned().collect();
    let page = |before: Option<u64>, after: u64, limit: usize| {
        net.read(|model| {
            model.notifications_page(
                A,
                before.map(connreq_core::NotificationId),
                connreq_core::NotificationId(after),
                limit,
            )
        })
        .unwrap()
        .unwrap()
    };
    assert_eq!(page(None, 0, 100), newest_first);
    assert_eq!(page(None, 0, 2), newest_first[..2]);
    let cursor = newest_first[1].id.0;
    assert_eq!(page(Some(cursor), 0, 2), newest_first[2..4]);
    assert_eq!(page(None, newest_first[2].id.0, 100), newest_first[..2]);
    assert_eq!(page(Some(cursor), newest_first[3].id.0, 100), newest_first[2..3]);
    assert!(page(None, 0, 0).is_empty());
    assert_eq!(
        net.read(|model| model.invitation_setting(A)).unwrap().unwrap(),
        connreq_core::InvitationSetting::Everyone
    );
    net.set_invitation_setting(A, connreq_core::InvitationSetting::Nobody, minute(9)).unwrap();
    assert_eq!(
        net.read(|model| model.invitation_setting(A)).unwrap().unwrap(),
        connreq_core::InvitationSetting::Nobody
    );
}
