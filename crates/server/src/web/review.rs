//! The moderators' review queue: each open flag, oldest first, with the
//! events behind it as a timeline (who did what to whom, when, and the
//! note, message or reason they gave, as text), and the decision: clear or
//! restrict (through `POST /v1/flags/{id}/resolve`).

use crate::web::PAGE_SIZE;
use crate::web::format::{count, name, when, words};
use crate::web::lists::more;
use connreq_core::{Error, EventRecord, Flag, Model, Network, Seq};
use maud::{Markup, html};

/// At most this many events of one flag's evidence are shown (the newest).
pub const TIMELINE_LIMIT: usize = 50;

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

fn flag_card(model: &Model, f: &Flag, events: &[EventRecord]) -> Markup {
    let who = name(model, f.member);
    let standing = model.standing(f.member).map(|s| words(s.as_str())).unwrap_or_default();
    let hidden = f.evidence.len().saturating_sub(events.len());
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

/// The review queue from `offset`: the open flags and the events behind each.
pub fn render<N: Network>(net: &N, offset: usize) -> Result<Markup, Error> {
    let queue = net.read(|m| m.review_queue())?;
    let total = queue.len();
    let shown: Vec<&Flag> = queue.iter().skip(offset).take(PAGE_SIZE).collect();
    let mut evidence = Vec::with_capacity(shown.len());
    for f in &shown {
        let mut events = Vec::new();
        for seq in f.evidence.iter().rev().take(TIMELINE_LIMIT).rev() {
            events.extend(net.events(Seq(seq.0.saturating_sub(1)), Some(1))?);
        }
        evidence.push(events);
    }
    net.read(|model| {
        html! {
            @if offset == 0 {
                p.summary { @if total == 0 { "No flags are waiting for review." } @else { (count(total, "flag", "flags")) " waiting for review, oldest first." } }
            }
            ul #items .cards {
                @for (f, events) in shown.iter().zip(&evidence) {
                    (flag_card(model, f, events))
                }
            }
            (more(total, offset))
        }
    })
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
}
