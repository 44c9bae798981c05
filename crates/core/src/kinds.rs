//! The small closed vocabularies of SPEC: request states, settings, standings,
//! report reasons, notification kinds, moderation rules and decisions. Each is
//! spelt in lowercase exactly as SPEC writes it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A word outside a vocabulary: what was given and what was expected. It
/// becomes `Error::InvalidInput` with the same message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownWord(pub String);

impl fmt::Display for UnknownWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value, in SPEC order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The SPEC spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// Parses the SPEC spelling; anything else is an [`UnknownWord`]
            /// naming the choices (`InvalidInput` as an `Error`).
            pub fn parse(text: &str) -> Result<Self, UnknownWord> {
                match text {
                    $($text => Ok($name::$variant),)+
                    other => Err(UnknownWord(format!(
                        concat!($what, " must be one of {}, not {:?}"),
                        [$($text),+].join(", "),
                        other
                    ))),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary!(
    /// The state of a connection request (SPEC §2).
    RequestState, "state" {
        /// Sent, awaiting the recipient.
        Pending = "pending",
        /// Archived by the recipient; the sender still sees `pending`.
        Ignored = "ignored",
        /// Accepted: the two members are connected.
        Accepted = "accepted",
        /// Declined by the recipient.
        Declined = "declined",
        /// Withdrawn by the sender.
        Withdrawn = "withdrawn",
        /// Open longer than the policy's `pending_ttl`.
        Expired = "expired",
        /// Ended by a block from either side.
        Cancelled = "cancelled",
    }
);

impl RequestState {
    /// `pending` or `ignored`: the recipient can still accept it.
    pub fn is_open(self) -> bool {
        matches!(self, RequestState::Pending | RequestState::Ignored)
    }
}

#[allow(clippy::derivable_impls)] // the enum is declared by a macro shared with types that have no default
impl Default for InvitationSetting {
    fn default() -> Self {
        InvitationSetting::Everyone
    }
}

#[allow(clippy::derivable_impls)]
impl Default for Standing {
    fn default() -> Self {
        Standing::Good
    }
}

vocabulary!(
    /// Who may invite a member (SPEC §1).
    InvitationSetting, "invitation setting" {
        /// Anyone may invite (the default).
        Everyone = "everyone",
        /// The sender must know the member's email or be in their imported contacts.
        EmailOrContacts = "email_or_contacts",
        /// Only senders whose email is in the member's imported contacts.
        Contacts = "contacts",
        /// No one may invite.
        Nobody = "nobody",
        /// The sender must share a connection with the member or be in their imported contacts (SPEC §11).
        FriendsOfFriends = "friends_of_friends",
    }
);

vocabulary!(
    /// A member's moderation standing (SPEC §4).
    Standing, "standing" {
        /// Nothing open.
        Good = "good",
        /// An open flag awaits review; the member can still send.
        UnderReview = "under_review",
        /// The member cannot send invitations.
        Restricted = "restricted",
    }
);

vocabulary!(
    /// Why a member reported another.
    ReportReason, "reason" {
        /// Unwanted bulk invitations.
        Spam = "spam",
        /// Abusive behaviour.
        Harassment = "harassment",
        /// "I don't know this person": also ignores the request and stops further invitations.
        DontKnow = "dont_know",
    }
);

vocabulary!(
    /// What an in-app notification is about (SPEC §3).
    NotificationKind, "notification kind" {
        /// Someone invited the member.
        InvitationReceived = "invitation_received",
        /// The member's invitation was accepted.
        InvitationAccepted = "invitation_accepted",
        /// The member's invitation was declined.
        InvitationDeclined = "invitation_declined",
        /// An invitation to the member was withdrawn.
        InvitationWithdrawn = "invitation_withdrawn",
        /// The member's invitation expired.
        InvitationExpired = "invitation_expired",
    }
);

vocabulary!(
    /// What an email is (SPEC §10): the notification it carries, a reminder
    /// of an invitation still pending, or a member's daily digest.
    EmailKind, "email kind" {
        /// Carries an `invitation_received` notification.
        InvitationReceived = "invitation_received",
        /// Carries an `invitation_accepted` notification.
        InvitationAccepted = "invitation_accepted",
        /// Carries an `invitation_declined` notification.
        InvitationDeclined = "invitation_declined",
        /// Carries an `invitation_withdrawn` notification.
        InvitationWithdrawn = "invitation_withdrawn",
        /// Carries an `invitation_expired` notification (none are queued: SPEC §3).
        InvitationExpired = "invitation_expired",
        /// Reminds a recipient of an invitation still pending.
        InvitationReminder = "invitation_reminder",
        /// The day's unread notifications of a member who chose a daily digest.
        Digest = "digest",
    }
);

impl EmailKind {
    /// The email that carries a notification of `kind`.
    pub fn of(kind: NotificationKind) -> Self {
        match kind {
            NotificationKind::InvitationReceived => EmailKind::InvitationReceived,
            NotificationKind::InvitationAccepted => EmailKind::InvitationAccepted,
            NotificationKind::InvitationDeclined => EmailKind::InvitationDeclined,
            NotificationKind::InvitationWithdrawn => EmailKind::InvitationWithdrawn,
            NotificationKind::InvitationExpired => EmailKind::InvitationExpired,
        }
    }
}

vocabulary!(
    /// The kinds of email a member can switch on and off (SPEC §10), or all of them.
    PreferenceKind, "email preference kind" {
        /// Emails about invitations received.
        InvitationReceived = "invitation_received",
        /// Emails about invitations accepted.
        InvitationAccepted = "invitation_accepted",
        /// Emails about invitations declined.
        InvitationDeclined = "invitation_declined",
        /// Emails about invitations withdrawn.
        InvitationWithdrawn = "invitation_withdrawn",
        /// Reminders of invitations still pending.
        InvitationReminder = "invitation_reminder",
        /// Every kind above.
        All = "all",
    }
);

impl PreferenceKind {
    /// The kinds a member can switch, each on its own (all but `all`).
    pub const EACH: &'static [PreferenceKind] = &[
        PreferenceKind::InvitationReceived,
        PreferenceKind::InvitationAccepted,
        PreferenceKind::InvitationDeclined,
        PreferenceKind::InvitationWithdrawn,
        PreferenceKind::InvitationReminder,
    ];

    /// The preference that governs emails of `kind` (none for digests, which
    /// list notifications each governed by its own, and for expiries, which
    /// send no email).
    pub fn governing(kind: EmailKind) -> Option<Self> {
        match kind {
            EmailKind::InvitationReceived => Some(PreferenceKind::InvitationReceived),
            EmailKind::InvitationAccepted => Some(PreferenceKind::InvitationAccepted),
            EmailKind::InvitationDeclined => Some(PreferenceKind::InvitationDeclined),
            EmailKind::InvitationWithdrawn => Some(PreferenceKind::InvitationWithdrawn),
            EmailKind::InvitationReminder => Some(PreferenceKind::InvitationReminder),
            EmailKind::InvitationExpired | EmailKind::Digest => None,
        }
    }

    /// This kind's bit in a member's set of switched-off kinds (`all`: every bit).
    pub fn bits(self) -> u8 {
        match self {
            PreferenceKind::All => 0b1_1111,
            each => 1 << PreferenceKind::EACH.iter().position(|k| *k == each).unwrap_or(0),
        }
    }
}

vocabulary!(
    /// Where an email is (SPEC §10).
    EmailStatus, "email status" {
        /// Waiting for its due time and a dispatch.
        Queued = "queued",
        /// Handed to a mail server.
        Sent = "sent",
        /// Never to be sent; `SkipReason` says why.
        Skipped = "skipped",
    }
);

vocabulary!(
    /// Why an email was not sent (SPEC §10).
    SkipReason, "skip reason" {
        /// What it was about is over: its invitation was answered, withdrawn,
        /// expired or cancelled before it went out (or, for a digest, nothing
        /// in it is still unread).
        Stale = "stale",
        /// Its member blocked the member it is about.
        Blocked = "blocked",
        /// Its member switched its kind off.
        Preference = "preference",
        /// The mail server refused the address for good, or the member has none.
        InvalidAddress = "invalid_address",
    }
);

vocabulary!(
    /// How often a member gets email (SPEC §10).
    EmailFrequency, "email frequency" {
        /// One email per notification, `email_delay` after it (the default).
        Immediate = "immediate",
        /// One digest a day, at the policy's `digest_hour`.
        Daily = "daily",
    }
);

#[allow(clippy::derivable_impls)]
impl Default for EmailFrequency {
    fn default() -> Self {
        EmailFrequency::Immediate
    }
}

vocabulary!(
    /// The languages texts are written in (SPEC §10).
    Locale, "locale" {
        /// English (the default).
        En = "en",
        /// German.
        De = "de",
        /// French.
        Fr = "fr",
        /// Spanish.
        Es = "es",
    }
);

#[allow(clippy::derivable_impls)]
impl Default for Locale {
    fn default() -> Self {
        Locale::En
    }
}

vocabulary!(
    /// The moderation rule behind a flag (SPEC §4).
    FlagRule, "rule" {
        /// Withdrawals to the same member, again and again.
        RepeatedWithdrawals = "repeated_withdrawals",
        /// Reports from distinct members.
        Reported = "reported",
        /// Few of the member's recent invitations were accepted.
        LowAcceptance = "low_acceptance",
        /// Many sends within an hour.
        Burst = "burst",
        /// Sends to one member again after earlier requests to them ended
        /// declined, withdrawn or ignored (SPEC §15). Last: rules are stored
        /// by their position.
        RepeatedResends = "repeated_resends",
    }
);

vocabulary!(
    /// Where a flag is in review.
    FlagStatus, "flag status" {
        /// Awaiting a decision.
        Open = "open",
        /// Resolved: nothing wrong.
        Cleared = "cleared",
        /// Resolved: the member is restricted.
        Restricted = "restricted",
    }
);

vocabulary!(
    /// A moderator's decision on a flag.
    Decision, "decision" {
        /// Nothing wrong: the member goes back to good standing.
        Clear = "clear",
        /// The member may no longer send invitations.
        Restrict = "restrict",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip_and_unknowns_are_named() {
        for s in RequestState::ALL {
            assert_eq!(RequestState::parse(s.as_str()).unwrap(), *s);
        }
        for s in InvitationSetting::ALL {
            assert_eq!(InvitationSetting::parse(s.as_str()).unwrap(), *s);
        }
        let err = ReportReason::parse("rude").unwrap_err().to_string();
        assert!(err.contains("spam, harassment, dont_know") && err.contains("rude"), "{err}");
    }
}
