//! The moderators' review queue: each open flag, oldest first, with the
//! events behind it (`flag_events`) as a timeline (who did what to whom,
//! when, and the note, message or reason they gave, as text), and the
//! decision: clear or restrict with a note, under the moderator's own name
//! (through `POST /v1/flags/{id}/resolve`). Below it, the last decisions
//! (who, when, why), and lifting a restriction a moderator decided on
//! (`POST /v1/members/{m}/lift-restriction`).

use crate::web::format::{count, name, when, words};
use crate::web::lists::more_by;
use connreq_core::{Error, EventRecord, Flag, FlagStatus, Model, Network};
use maud::{Markup, html};

/// At most this many events of one flag's evidence are shown (the newest).
pub const TIMELINE_LIMIT: usize = 20;

/// How many open flags a page of the queue shows: each carries its
/// timeline, so fewer than a list's fifty keep the page under 100 KB.
pub const REVIEW_PAGE_SIZE: usize = 10;

/// What a rule means, for a moderator.
pub fn rule_words(rule: &str) -> &'static str {
    match rule {
        "repeated_withdrawals" => "Withdrew invitations to the same member again and again.",
        "reported" => "Reported by several members.",
        "low_acceptance" => "Few of their recent invitations were accepted.",
        "burst" => "Sent many invitations within an hour.",
        "repeated_resends" => "Invited the same member again after earlier requests ended.",
        _ => "A moderation rule flagged this member.",
    }
}

/// The texts an event's detail holds (note, message, reason, rule), as
/// label and value pairs; member text stays text.
pub fn detail_texts(detail: &str) -> Vec<(&'static str, String)> {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(detail) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, label) in [("reason", "reason"), ("note", "note"), ("message", "message"), ("rule", "rule")] {
        if let Some(serde_json::Value::String(s)) = map.get(key) {
            out.push((label, s.clone()));
        }
    }
    out
}

fn timeline(model: &Model, events: &[EventRecord], hidden: usize) -> Markup {
    html! {
        ol.timeline {
            @if hidden > 0 {
                li.hidden-events { (count(hidden, "earlier event", "earlier events")) " not shown" }
            }
            @for e in events {
                li data-seq=(e.seq.0) {
                    (when(e.at)) " "
                    strong { (words(e.kind)) }
                    @if let Some(a) = e.actor { " by " (name(model, a)) }
                    @if let Some(s) = e.subject { " · " (name(model, s)) }
                    @if let Some(r) = e.request_id { " · request " (r.0) }
                    @for (label, text) in detail_texts(&e.detail) {
                        " · " (label) ": " q { (text) }
                    }
                }
            }
        }
    }
}

fn flag_card(model: &Model, f: &Flag, events: &[EventRecord], hidden: usize) -> Markup {
    let who = name(model, f.member);
    let standing = model.standing(f.member).map(|s| words(s.as_str())).unwrap_or_default();
    html! {
        li.card.flag data-flag=(f.id.0) data-member=(f.member.0) data-name=(who) {
            div.card-main {
                h2.card-title { (who) " — " (words(f.rule.as_str())) }
                p { (rule_words(f.rule.as_str())) }
                p.meta { "Flag " (f.id.0) ", opened " (when(f.created_at)) " · member " (f.member.0) " is " (standing) }
                h3 { "Evidence" }
                (timeline(model, events, hidden))
            }
            div.card-actions {
                button type="button" data-act="clear" aria-label=(format!("Clear the flag on {who}")) { "Clear…" }
                button.danger type="button" data-act="restrict" aria-label=(format!("Restrict {who}")) { "Restrict…" }
            }
        }
    }
}

/// A decided flag: the decision, who took it, when and why (the note as
/// text), and "Lift restriction…" while a moderator's decision still
/// restricts the member (through `POST /v1/members/{m}/lift-restriction`).
fn decided_card(model: &Model, f: &Flag, lift: bool) -> Markup {
    let who = name(model, f.member);
    html! {
        li.card.decided data-flag=(f.id.0) data-member=(f.member.0) data-name=(who) data-status=(f.status.as_str()) {
            div.card-main {
                h3.card-title { (who) " — " (words(f.rule.as_str())) ": " (words(f.status.as_str())) }
                p.meta {
                    "Flag " (f.id.0) " · decided"
                    @if let Some(m) = f.resolved_by { " by " span.moderator-name { (name(model, m)) } }
                    @if let Some(t) = f.resolved_at { " " (when(t)) }
                }
                @if let Some(note) = &f.resolution_note { p.note { "Note: " q.resolution-note { (note) } } }
            }
            @if lift {
                div.card-actions {
                    button type="button" data-act="lift" aria-label=(format!("Lift the restriction on {who}")) { "Lift restriction…" }
                }
            }
        }
    }
}

/// The review queue from `offset`: the open flags and the events behind
/// each (`flag_events`, the newest [`TIMELINE_LIMIT`]); on the first page
/// also the last [`DECIDED_SHOWN`] decisions.
pub fn render<N: Network>(net: &N, offset: usize) -> Result<Markup, Error> {
    let queue = net.read(|m| m.review_queue())?;
    let total = queue.len();
    let shown: Vec<&Flag> = queue.iter().skip(offset).take(REVIEW_PAGE_SIZE).collect();
    let mut evidence = Vec::with_capacity(shown.len());
    for f in &shown {
        let mut events = net.flag_events(f.id)?;
        let hidden = events.len().saturating_sub(TIMELINE_LIMIT);
        events.drain(..hidden);
        evidence.push((events, hidden));
    }
    net.read(|model| {
        let decided = if offset == 0 { decided(model) } else { Vec::new() };
        html! {
            @if offset == 0 {
                p.summary { @if total == 0 { "No flags are waiting for review." } @else { (count(total, "flag", "flags")) " waiting for review, oldest first." } }
            }
            ul #items .cards {
                @for (f, (events, hidden)) in shown.iter().zip(&evidence) {
                    (flag_card(model, f, events, *hidden))
                }
            }
            (more_by(total, offset, REVIEW_PAGE_SIZE))
            @if !decided.is_empty() {
                section aria-labelledby="decided-heading" {
                    h2 #decided-heading { "Recently decided" }
                    ul #decided .cards {
                        @for (f, lift) in &decided { (decided_card(model, f, *lift)) }
                    }
                }
            }
        }
    })
}

/// How many decided flags the queue's first page shows.
pub const DECIDED_SHOWN: usize = 10;

/// The last decisions, newest first, each with whether its restriction can
/// be lifted (the member's newest restricting decision, while a moderator's
/// decision still restricts them).
fn decided(model: &Model) -> Vec<(Flag, bool)> {
    let mut all: Vec<Flag> = model.all_flags().into_iter().filter(|f| f.status != FlagStatus::Open).collect();
    all.sort_by_key(|f| std::cmp::Reverse((f.resolved_at, f.id)));
    let mut seen = std::collections::HashSet::new();
    all.into_iter()
        .take(DECIDED_SHOWN)
        .map(|f| {
            let lift = f.status == FlagStatus::Restricted
                && seen.insert(f.member)
                && model.restricted_by_decision(f.member).unwrap_or(false);
            (f, lift)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_events_detail_shows_its_texts_and_nothing_else() {
        let d = r#"{"note":"<b>hi</b>","reason":"spam","policy":{"x":1}}"#;
        assert_eq!(detail_texts(d), vec![("reason", "spam".to_owned()), ("note", "<b>hi</b>".to_owned())]);
        assert!(detail_texts("not json").is_empty());
    }

    #[test]
    fn the_queue_shows_the_evidence_and_the_decisions_with_who_and_why_as_text() {
        use connreq_core::{Decision, MemberId, MemoryNetwork, Timestamp};
        const EVIL: &str = "<img src=x onerror=alert(1)><script>alert(2)</script>";
        let net = MemoryNetwork::new(connreq_core::Policy::standard()).unwrap();
        let mut t = 1_790_000_000_000;
        let mut at = || {
            t += 60_000;
            Timestamp(t)
        };
        for (m, n) in [(1, "Ada"), (2, "Bob"), (9, EVIL)] {
            net.register(MemberId(m), None, Some(n), at()).unwrap();
        }
        for _ in 0..3 {
            let id = net.send(MemberId(1), MemberId(2), None, None, at()).unwrap();
            net.withdraw(MemberId(1), id, Some(EVIL), at()).unwrap();
        }
        let flag = net.review_queue().unwrap()[0].id;
        let open = render(&net, 0).unwrap().into_string();
        assert_eq!(open.matches("invitation withdrawn").count(), 3, "{open}");
        assert!(!open.contains("<img") && !open.contains("<script"), "{open}");
        assert!(!open.contains("Recently decided"));

        net.resolve_flag_by(flag, Decision::Restrict, Some(MemberId(9)), Some(EVIL), at()).unwrap();
        let decided = render(&net, 0).unwrap().into_string();
        assert!(!decided.contains("<img") && !decided.contains("<script"), "{decided}");
        assert!(decided.contains("&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(2)&lt;/script&gt;"));
        assert!(decided.contains(r#"data-act="lift""#), "{decided}");

        net.lift_restriction(MemberId(1), Some(MemberId(9)), None, at()).unwrap();
        let lifted = render(&net, 0).unwrap().into_string();
        assert!(lifted.contains("Recently decided") && !lifted.contains(r#"data-act="lift""#), "{lifted}");
    }
}
