//! Rendering: the texts of notifications and emails, in the reader's
//! language (`texts`). Texts hold member text (names, notes, messages) as
//! written; only the HTML part of an email escapes it, and a subject is one
//! line, so no member text can add a header or markup. A notification about
//! a request older than `date_context_after` names the date it was sent.

use crate::ids::MemberId;
use crate::kinds::{Locale, NotificationKind};
use crate::policy::Policy;
use crate::records::{Carries, NotificationRecord, RequestRecord};
use crate::state::State;
use crate::text::escape;
use crate::texts::{Arg, Texts};
use crate::time::{DAY_MS, Timestamp, civil_from_days, duration_ms};

/// An email's subject and its two bodies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedEmail {
    /// One line, member text as written.
    pub subject: String,
    /// The plain-text part, member text as written.
    pub text: String,
    /// The HTML part, member text escaped.
    pub html: String,
}

/// How a member is called in texts, in `locale`: their name (one line, as
/// registration requires of names), "Member 42", or, once erased (SPEC §11),
/// "a former member".
pub fn display_name(state: &State, member: MemberId, locale: Locale) -> String {
    if state.members.get(&member).is_some_and(|m| m.erased) {
        return Texts::get().format(locale, "former-member", &[]);
    }
    match state.name_of(member) {
        Some(name) => one_line(name),
        None => Texts::get().format(locale, "member-fallback", &[("id", Arg::Text(&member.0.to_string()))]),
    }
}

/// `text` written as a sentence starts: "a former member ..." begins with a
/// capital (the names members give are left as they are).
fn sentence(text: String, actor: &str, state: &State, other: MemberId) -> String {
    let erased = state.members.get(&other).is_some_and(|m| m.erased);
    match text.strip_prefix(actor).and_then(|rest| Some((actor.chars().next()?, rest))) {
        Some((first, rest)) if erased => {
            let mut out: String = first.to_uppercase().collect();
            out.push_str(&actor[first.len_utf8()..]);
            out.push_str(rest);
            out
        }
        _ => text,
    }
}

/// A date written the way `locale` writes dates.
pub fn date(at: Timestamp, locale: Locale) -> String {
    let (y, m, d) = civil_from_days(at.0.div_euclid(DAY_MS));
    let (y, m, d) = (format!("{y:04}"), format!("{m:02}"), format!("{d:02}"));
    Texts::get().format(
        locale,
        "date",
        &[("year", Arg::Text(&y)), ("month", Arg::Text(&m)), ("day", Arg::Text(&d))],
    )
}

/// The in-app text of a notification, in its member's language.
pub fn notification_text(state: &State, policy: &Policy, n: &NotificationRecord) -> String {
    let Some(r) = state.request(n.request) else {
        return String::new();
    };
    let (member, other) = n.parties(r);
    let locale = state.locale_of(member);
    let texts = Texts::get();
    let actor = display_name(state, other, locale);
    let made = state.notified_at(n).unwrap_or(r.updated_at);
    let dated = made.millis().saturating_sub(r.created_at.millis()) > duration_ms(policy.date_context_after);
    let sent_on = date(r.created_at, locale);
    let id = match n.kind {
        NotificationKind::InvitationReceived => "notification-invitation-received",
        NotificationKind::InvitationAccepted => "notification-invitation-accepted",
        NotificationKind::InvitationDeclined => "notification-invitation-declined",
        NotificationKind::InvitationWithdrawn => "notification-invitation-withdrawn",
        NotificationKind::InvitationExpired => "notification-invitation-expired",
    };
    let args = [
        ("actor", Arg::Text(&actor)),
        ("dated", Arg::Text(if dated { "yes" } else { "no" })),
        ("date", Arg::Text(&sent_on)),
    ];
    let mut text = texts.format(locale, id, &args);
    let request_texts = state.texts_of(n.request, r);
    let extra = match n.kind {
        NotificationKind::InvitationReceived => {
            request_texts.and_then(|t| t.note.as_deref()).map(|note| ("label-note", note))
        }
        NotificationKind::InvitationDeclined | NotificationKind::InvitationWithdrawn => {
            request_texts.and_then(|t| t.message.as_deref()).map(|m| ("label-message", m))
        }
        _ => None,
    };
    if let Some((label, body)) = extra {
        text.push_str("\n\n");
        text.push_str(&texts.format(locale, label, &[]));
        text.push_str(": ");
        text.push_str(&lines(body));
    }
    sentence(text, &actor, state, other)
}

/// A note or a message as written, its lines kept, other control characters
/// (refused when it was given) shown as spaces.
fn lines(text: &str) -> String {
    text.chars().map(|c| if c.is_control() && c != '\n' { ' ' } else { c }).collect()
}

/// The email at record `index` (a notification's, a reminder, or a digest),
/// in its member's language; `unsubscribe` is the link that switches its kind
/// off, when the network has one.
pub fn email(
    state: &State,
    policy: &Policy,
    index: usize,
    member: MemberId,
    unsubscribe: Option<&str>,
) -> RenderedEmail {
    let Some(n) = state.notifications.get(index) else {
        return RenderedEmail { subject: String::new(), text: String::new(), html: String::new() };
    };
    let locale = state.locale_of(member);
    let texts = Texts::get();
    let (subject, paragraphs) = match n.carries {
        Carries::Notification => {
            let other = state.notified(n).map_or(MemberId(0), |(_, other)| other);
            let actor = display_name(state, other, locale);
            let subject = texts.format(locale, subject_id(n.kind), &[("actor", Arg::Text(&actor))]);
            (sentence(subject, &actor, state, other), vec![notification_text(state, policy, n)])
        }
        Carries::Reminder => match state.request(n.request) {
            Some(r) => (reminder_subject(state, r, locale), vec![reminder_text(state, n, r, locale)]),
            None => (String::new(), Vec::new()),
        },
        Carries::Digest => {
            let items = state.digest_items(member);
            let subject =
                texts.format(locale, "subject-digest", &[("count", Arg::Number(items.len() as u64))]);
            let mut paragraphs = vec![texts.format(locale, "digest-intro", &[])];
            // Oldest first, as an inbox is read.
            paragraphs.extend(items.iter().rev().map(|(_, item)| notification_text(state, policy, item)));
            (subject, paragraphs)
        }
    };
    let name = display_name(state, member, locale);
    let greeting = texts.format(locale, "email-greeting", &[("name", Arg::Text(&name))]);
    let footer = texts.format(locale, "email-footer", &[]);
    let is_digest = n.carries == Carries::Digest;
    let mut text = format!("{greeting}\n\n");
    for (i, p) in paragraphs.iter().enumerate() {
        if is_digest && i > 0 {
            // A digest's items as a list, each item's lines indented under its dash.
            for (j, line) in p.split('\n').enumerate() {
                let lead = match (j, line.is_empty()) {
                    (0, _) => "- ",
                    (_, true) => "\n",
                    (_, false) => "\n  ",
                };
                text.push_str(lead);
                text.push_str(line);
            }
        } else {
            text.push_str(p);
        }
        text.push_str("\n\n");
    }
    text.push_str(&footer);
    text.push('\n');
    if let Some(url) = unsubscribe {
        text.push_str("\n-- \n");
        text.push_str(&texts.format(locale, "email-unsubscribe", &[("url", Arg::Text(url))]));
        text.push('\n');
    }
    let html = html(locale, &subject, &greeting, &paragraphs, is_digest, &footer, unsubscribe);
    RenderedEmail { subject: one_line(&subject), text, html }
}

fn subject_id(kind: NotificationKind) -> &'static str {
    match kind {
        NotificationKind::InvitationReceived => "subject-invitation-received",
        NotificationKind::InvitationAccepted => "subject-invitation-accepted",
        NotificationKind::InvitationDeclined => "subject-invitation-declined",
        NotificationKind::InvitationWithdrawn => "subject-invitation-withdrawn",
        NotificationKind::InvitationExpired => "subject-invitation-expired",
    }
}

fn reminder_subject(state: &State, r: &RequestRecord, locale: Locale) -> String {
    let actor = display_name(state, r.sender, locale);
    let subject = Texts::get().format(locale, "subject-invitation-reminder", &[("actor", Arg::Text(&actor))]);
    sentence(subject, &actor, state, r.sender)
}

fn reminder_text(state: &State, n: &NotificationRecord, r: &RequestRecord, locale: Locale) -> String {
    let texts = Texts::get();
    let actor = display_name(state, r.sender, locale);
    let sent_on = date(r.created_at, locale);
    let text =
        texts.format(locale, "reminder-text", &[("actor", Arg::Text(&actor)), ("date", Arg::Text(&sent_on))]);
    let mut text = sentence(text, &actor, state, r.sender);
    if let Some(note) = state.texts_of(n.request, r).and_then(|t| t.note.as_deref()) {
        text.push_str("\n\n");
        text.push_str(&texts.format(locale, "label-note", &[]));
        text.push_str(": ");
        text.push_str(&lines(note));
    }
    text
}

/// A subject as one line: no member text can start a header of its own.
fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// The HTML part: the same words, every one of them escaped.
fn html(
    locale: Locale,
    subject: &str,
    greeting: &str,
    paragraphs: &[String],
    is_digest: bool,
    footer: &str,
    unsubscribe: Option<&str>,
) -> String {
    let para = |text: &str| format!("<p>{}</p>\n", escape(text).replace('\n', "<br>\n"));
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head><meta charset=\"utf-8\"><title>{}</title></head>\n<body>\n",
        locale.as_str(),
        escape(&one_line(subject))
    );
    out.push_str(&para(greeting));
    match (is_digest, paragraphs.split_first()) {
        (true, Some((intro, items))) => {
            out.push_str(&para(intro));
            out.push_str("<ul>\n");
            for item in items {
                out.push_str(&format!("<li>{}</li>\n", escape(item).replace('\n', "<br>\n")));
            }
            out.push_str("</ul>\n");
        }
        _ => paragraphs.iter().for_each(|p| out.push_str(&para(p))),
    }
    out.push_str(&para(footer));
    if let Some(url) = unsubscribe {
        let label = Texts::get().format(locale, "html-unsubscribe", &[]);
        out.push_str(&format!("<p><a href=\"{}\">{}</a></p>\n", escape(url), escape(&label)));
    }
    out.push_str("</body>\n</html>\n");
    out
}
