//! Commands: everything that can change a network, as data.

use crate::ids::{EmailId, FlagId, MemberId, NotificationId, RequestId};
use crate::kinds::{Decision, EmailFrequency, InvitationSetting, Locale, PreferenceKind, ReportReason};
use crate::policy::Policy;
use std::time::Duration;

/// A request to change the network. Text fields are raw: `decide` validates
/// them in the order SPEC gives, so errors come out in that order.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// `register(member, email, name)`.
    Register {
        /// The new member.
        member: MemberId,
        /// Their email address, validated.
        email: Option<String>,
        /// Their display name, validated.
        name: Option<String>,
        /// The language of their texts (`None`: the default, `en`).
        locale: Option<Locale>,
    },
    /// `set_invitation_setting(member, setting)`.
    SetInvitationSetting {
        /// The member.
        member: MemberId,
        /// The new setting.
        setting: InvitationSetting,
    },
    /// `import_contacts(member, emails)`.
    ImportContacts {
        /// The member.
        member: MemberId,
        /// Addresses to add.
        emails: Vec<String>,
    },
    /// `send(sender, recipient, note, email)`.
    Send {
        /// Who invites.
        sender: MemberId,
        /// Who is invited.
        recipient: MemberId,
        /// An optional note.
        note: Option<String>,
        /// The recipient's email address, for recipients who ask for it.
        email: Option<String>,
    },
    /// `accept(recipient, id)`.
    Accept {
        /// Who acts: must be the recipient.
        recipient: MemberId,
        /// The request.
        request: RequestId,
    },
    /// `ignore(recipient, id)`.
    Ignore {
        /// Who acts: must be the recipient.
        recipient: MemberId,
        /// The request.
        request: RequestId,
    },
    /// `decline(recipient, id, message)`.
    Decline {
        /// Who acts: must be the recipient.
        recipient: MemberId,
        /// The request.
        request: RequestId,
        /// An optional message to the sender.
        message: Option<String>,
    },
    /// `withdraw(sender, id, message)`.
    Withdraw {
        /// Who acts: must be the sender.
        sender: MemberId,
        /// The request.
        request: RequestId,
        /// An optional message to the recipient.
        message: Option<String>,
    },
    /// `remove_connection(member, other)`.
    RemoveConnection {
        /// Who ends the connection.
        member: MemberId,
        /// The other member.
        other: MemberId,
    },
    /// `block(blocker, blocked)`.
    Block {
        /// Who blocks.
        blocker: MemberId,
        /// Who is blocked.
        blocked: MemberId,
    },
    /// `unblock(blocker, blocked)`.
    Unblock {
        /// Who had blocked.
        blocker: MemberId,
        /// Who was blocked.
        blocked: MemberId,
    },
    /// `report(reporter, reported, reason, request_id)`.
    Report {
        /// Who reports.
        reporter: MemberId,
        /// Who is reported.
        reported: MemberId,
        /// Why.
        reason: ReportReason,
        /// A request from the reported member to the reporter.
        request: Option<RequestId>,
    },
    /// `mark_read(member, ids)`.
    MarkRead {
        /// Whose notifications.
        member: MemberId,
        /// Which.
        ids: Vec<NotificationId>,
    },
    /// Records that these emails were handed to a mail server.
    MarkEmailsSent {
        /// Which.
        ids: Vec<EmailId>,
    },
    /// Records that these emails will never be sent: the mail server refused
    /// their address for good (`invalid_address`).
    MarkEmailsUndeliverable {
        /// Which.
        ids: Vec<EmailId>,
    },
    /// `set_email_preference(member, kind, enabled)`.
    SetEmailPreference {
        /// The member.
        member: MemberId,
        /// The kind of email, or all of them.
        kind: PreferenceKind,
        /// On or off.
        enabled: bool,
    },
    /// `set_email_frequency(member, frequency)`.
    SetEmailFrequency {
        /// The member.
        member: MemberId,
        /// How often.
        frequency: EmailFrequency,
    },
    /// `set_locale(member, locale)`.
    SetLocale {
        /// The member.
        member: MemberId,
        /// The language.
        locale: Locale,
    },
    /// `expire()`: ends every open request older than `pending_ttl`.
    Expire,
    /// `resolve_flag(flag_id, decision, moderator, note)`.
    ResolveFlag {
        /// The flag.
        flag: FlagId,
        /// The decision.
        decision: Decision,
        /// The moderator deciding (a registered member), when named.
        moderator: Option<MemberId>,
        /// Why, in the moderator's words.
        note: Option<String>,
    },
    /// `lift_restriction(member, moderator, note)`: a member restricted by a
    /// moderator's decision is restricted no longer.
    LiftRestriction {
        /// The member restricted.
        member: MemberId,
        /// The moderator lifting it (a registered member), when named.
        moderator: Option<MemberId>,
        /// Why, in the moderator's words.
        note: Option<String>,
    },
    /// Applies a new policy from now on (recorded as `policy_changed`).
    ChangePolicy {
        /// The new policy.
        policy: Policy,
    },
    /// `withdraw_all(sender, older_than, message)`: every open request the
    /// sender sent (at least `older_than` old, when given), each an ordinary withdrawal.
    WithdrawAll {
        /// Who withdraws.
        sender: MemberId,
        /// Only requests at least this old.
        older_than: Option<Duration>,
        /// An optional message to each recipient.
        message: Option<String>,
    },
    /// `update_member(member, email=..., name=...)`: `None` leaves a field as
    /// it is, `Some(None)` removes it.
    UpdateMember {
        /// The member.
        member: MemberId,
        /// The new address.
        email: Option<Option<String>>,
        /// The new name.
        name: Option<Option<String>>,
    },
    /// `erase_member(member)`: the member's personal data removed everywhere
    /// the network keeps it; the id stays as a tombstone.
    EraseMember {
        /// The member.
        member: MemberId,
    },
}

/// What a command returns besides its events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to return.
    Done,
    /// The request sent, or the reverse request accepted in its place.
    Request(RequestId),
    /// How many things the command changed (expired requests, emails marked).
    Count(u64),
}

impl Outcome {
    /// The request id, for `send`.
    pub fn request(self) -> Option<RequestId> {
        match self {
            Outcome::Request(r) => Some(r),
            _ => None,
        }
    }

    /// The count, for `expire` and friends.
    pub fn count(self) -> u64 {
        match self {
            Outcome::Count(n) => n,
            _ => 0,
        }
    }
}
