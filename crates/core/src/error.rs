//! The errors of SPEC §8, one variant each, with messages a member could read.

use crate::ids::{MemberId, RequestId};
use crate::kinds::{RequestState, UnknownWord};
use crate::time::Timestamp;

/// Everything that can go wrong in a connreq command or query.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The id is not a registered member.
    #[error("{0} is not registered")]
    UnknownMember(MemberId),
    /// `register` was called twice for one member.
    #[error("{0} is already registered")]
    MemberExists(MemberId),
    /// A member tried to invite themselves.
    #[error("you cannot send a connection request to yourself")]
    SelfRequest,
    /// The two members are already connected.
    #[error("you are already connected with {0}")]
    AlreadyConnected(MemberId),
    /// The sender already has an open request to this member.
    #[error("you already have a pending invitation to {recipient} ({request})")]
    AlreadyPending {
        /// The member invited.
        recipient: MemberId,
        /// The open request.
        request: RequestId,
    },
    /// The recipient has an open request to the sender (policy `reverse_request = "error"`).
    #[error("{sender} has already invited you ({request}); accept that invitation instead")]
    ReversePending {
        /// Who sent the open request the other way.
        sender: MemberId,
        /// The open request.
        request: RequestId,
    },
    /// The recipient does not accept invitations from this sender. Deliberately
    /// silent about the reason: a blocked member must not learn of the block.
    #[error("{0} is not accepting invitations from you")]
    InvitationNotAllowed(MemberId),
    /// The actor may not act on this request.
    #[error("only the {role} of {request} can {action} it")]
    NotAuthorized {
        /// The request.
        request: RequestId,
        /// `"sender"` or `"recipient"`.
        role: &'static str,
        /// What was attempted.
        action: &'static str,
    },
    /// The request is not in a state this command applies to.
    #[error("{request} is {state}, so it cannot be {action}")]
    InvalidTransition {
        /// The request.
        request: RequestId,
        /// Its state as the actor sees it.
        state: RequestState,
        /// The past participle of the attempted action.
        action: &'static str,
    },
    /// Nothing has that id.
    #[error("{0} was not found")]
    NotFound(String),
    /// A note or message is longer than the policy allows.
    #[error("the text is {chars} characters long; at most {max} are allowed")]
    NoteTooLong {
        /// Its length in Unicode scalar values.
        chars: usize,
        /// The policy's limit.
        max: usize,
    },
    /// Input that can never be valid; the message names what was wrong.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The sender reached the weekly invitation limit.
    #[error("you have sent {limit} invitations in the last 7 days; you can send more after {until}")]
    RateLimited {
        /// The policy's limit.
        limit: u32,
        /// When enough sends have left the window for one more send.
        until: Timestamp,
    },
    /// The sender's last request to this member was withdrawn or declined too recently.
    #[error("you can invite {recipient} again after {until}")]
    CooldownActive {
        /// The member invited.
        recipient: MemberId,
        /// When the cooldown ends.
        until: Timestamp,
    },
    /// The sender's account is restricted by moderation.
    #[error("your account is restricted and cannot send invitations")]
    AccountRestricted,
    /// A member has reached `max_connections`.
    #[error("{member} has reached the limit of {max} connections")]
    ConnectionLimit {
        /// The member at the limit.
        member: MemberId,
        /// The policy's limit.
        max: u32,
    },
    /// The database could not be read or written; the message says what is wrong.
    #[error("storage error: {0}")]
    StorageError(String),
    /// The mail server could not be reached or refused an email; the email
    /// stays in the outbox for a later dispatch.
    #[error("mail error: {0}")]
    MailError(String),
    /// The sender has as many open invitations as the policy allows (`max_outstanding`).
    #[error("you have {max} invitations awaiting an answer; withdraw some before sending more")]
    OutstandingLimit {
        /// The policy's limit.
        max: u32,
    },
}

impl From<UnknownWord> for Error {
    fn from(word: UnknownWord) -> Self {
        Error::InvalidInput(word.0)
    }
}

impl Error {
    /// The SPEC name of the error, as the Python exception class is called.
    pub fn name(&self) -> &'static str {
        match self {
            Error::UnknownMember(_) => "UnknownMember",
            Error::MemberExists(_) => "MemberExists",
            Error::SelfRequest => "SelfRequest",
            Error::AlreadyConnected(_) => "AlreadyConnected",
            Error::AlreadyPending { .. } => "AlreadyPending",
            Error::ReversePending { .. } => "ReversePending",
            Error::InvitationNotAllowed(_) => "InvitationNotAllowed",
            Error::NotAuthorized { .. } => "NotAuthorized",
            Error::InvalidTransition { .. } => "InvalidTransition",
            Error::NotFound(_) => "NotFound",
            Error::NoteTooLong { .. } => "NoteTooLong",
            Error::InvalidInput(_) => "InvalidInput",
            Error::RateLimited { .. } => "RateLimited",
            Error::CooldownActive { .. } => "CooldownActive",
            Error::AccountRestricted => "AccountRestricted",
            Error::ConnectionLimit { .. } => "ConnectionLimit",
            Error::StorageError(_) => "StorageError",
            Error::MailError(_) => "MailError",
            Error::OutstandingLimit { .. } => "OutstandingLimit",
        }
    }
}
