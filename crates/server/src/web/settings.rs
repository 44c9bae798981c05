//! A member's settings: who may invite them (SPEC §1, §11), which emails
//! they get and how often, and the language of their notifications and
//! emails (SPEC §10). Each control saves itself through the API when it
//! changes.

use connreq_core::{EmailFrequency, Error, InvitationSetting, Locale, MemberId, Model, PreferenceKind};
use maud::{Markup, html};

/// The settings from the most open to the most closed.
pub const SETTING_ORDER: [InvitationSetting; 5] = [
    InvitationSetting::Everyone,
    InvitationSetting::FriendsOfFriends,
    InvitationSetting::EmailOrContacts,
    InvitationSetting::Contacts,
    InvitationSetting::Nobody,
];

/// What each invitation setting means to a member.
pub fn setting_words(s: InvitationSetting) -> (&'static str, &'static str) {
    match s {
        InvitationSetting::Everyone => ("Everyone", "Anyone on the network may invite you."),
        InvitationSetting::EmailOrContacts => (
            "People who know my email address",
            "They must give your address, or be among the contacts you imported.",
        ),
        InvitationSetting::Contacts => {
            ("My imported contacts only", "Only people whose address you imported.")
        }
        InvitationSetting::FriendsOfFriends => {
            ("Friends of friends", "People who share a connection with you, or are among your contacts.")
        }
        InvitationSetting::Nobody => ("Nobody", "No one may invite you."),
    }
}

/// What each kind of email is, to a member.
pub fn email_words(k: PreferenceKind) -> &'static str {
    match k {
        PreferenceKind::InvitationReceived => "Someone invites me to connect",
        PreferenceKind::InvitationAccepted => "My invitation is accepted",
        PreferenceKind::InvitationDeclined => "My invitation is declined",
        PreferenceKind::InvitationWithdrawn => "An invitation to me is withdrawn",
        PreferenceKind::InvitationReminder => "Reminders of invitations waiting for me",
        PreferenceKind::All => "All email",
    }
}

/// The name of a language in itself.
pub fn language(l: Locale) -> &'static str {
    match l {
        Locale::En => "English",
        Locale::De => "Deutsch",
        Locale::Fr => "Français",
        Locale::Es => "Español",
    }
}

/// The settings form of `member`, showing what is set now.
pub fn render(model: &Model, member: MemberId) -> Result<Markup, Error> {
    let setting = model.invitation_setting(member)?;
    let preferences = model.email_preferences(member)?;
    let frequency = model.email_frequency(member)?;
    let locale = model.locale(member)?;
    Ok(html! {
        form.settings #settings {
            fieldset {
                legend { "Who may invite me" }
                @for s in &SETTING_ORDER {
                    @let (label, hint) = setting_words(*s);
                    @let id = format!("setting-{}", s.as_str());
                    div.choice {
                        input type="radio" name="invitation-setting" id=(id) value=(s.as_str())
                            data-setting="invitation" checked[*s == setting] aria-describedby=(format!("{id}-hint"));
                        label for=(id) { (label) }
                        span.hint id=(format!("{id}-hint")) { (hint) }
                    }
                }
            }
            fieldset {
                legend { "Email me when" }
                @for (kind, on) in &preferences {
                    @let id = format!("email-{}", kind.as_str());
                    div.choice {
                        input type="checkbox" id=(id) value=(kind.as_str()) data-setting="email" checked[*on];
                        label for=(id) { (email_words(*kind)) }
                    }
                }
            }
            fieldset {
                legend { "How often" }
                @for (f, label) in [(EmailFrequency::Immediate, "Each email as it happens"), (EmailFrequency::Daily, "One digest a day")] {
                    @let id = format!("frequency-{}", f.as_str());
                    div.choice {
                        input type="radio" name="frequency" id=(id) value=(f.as_str()) data-setting="frequency" checked[f == frequency];
                        label for=(id) { (label) }
                    }
                }
            }
            div.field {
                label for="locale" { "Language of my notifications and emails" }
                select #locale data-setting="locale" {
                    @for l in Locale::ALL {
                        option value=(l.as_str()) selected[*l == locale] { (language(*l)) }
                    }
                }
            }
        }
    })
}
