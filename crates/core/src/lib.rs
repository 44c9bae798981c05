//! # connreq-core
//!
//! The pure model of connreq, the connection-request system of a professional
//! network: members invite each other, the invitee accepts, ignores or
//! declines, the inviter can withdraw, the other side is told in-app and by
//! email, members block and report each other, and moderation watches for abuse
//! such as withdrawing and re-sending to the same person again and again.
//!
//! This crate does no I/O and reads no clock: every command takes its time as
//! data. [`Model::decide`] checks a command against every rule and returns the
//! events it implies, including who is told and when their email is due;
//! [`Model::apply`] folds events into the state and decides nothing. The
//! [`Network`] trait is the whole API of SPEC §2–5; [`MemoryNetwork`]
//! implements it in memory, and `connreq-store` implements it on sled.
//!
//! ```
//! use connreq_core::{MemberId, MemoryNetwork, Network, Policy, RequestState, Timestamp};
//!
//! let net = MemoryNetwork::new(Policy::standard())?;
//! let (ada, bob) = (MemberId(1), MemberId(2));
//! let t = Timestamp(1_790_000_000_000);
//! net.register(ada, Some("ada@example.com"), Some("Ada"), t)?;
//! net.register(bob, Some("bob@example.com"), Some("Bob"), t)?;
//! let id = net.send(ada, bob, Some("We met at the conference"), None, t)?;
//! net.ignore(bob, id, t)?;
//! assert_eq!(net.sent(ada, None)?[0].state, RequestState::Pending); // never "ignored"
//! net.accept(bob, id, t)?;
//! assert_eq!(net.connections(ada)?, vec![bob]);
//! # Ok::<(), connreq_core::Error>(())
//! ```

// The vocabulary: public.
pub mod command;
pub mod erasure;
pub mod error;
pub mod event;
pub mod event_view;
pub mod ids;
pub mod kinds;
pub mod parts;
pub mod policy;
pub mod text;
pub mod time;

// The decider, the state and its layout: the crate's own.
mod chunked;
mod collections;
mod decide;
mod evolve;
mod export;
mod invariants;
mod invitations;
mod members;
mod memory;
mod model;
mod records;
mod render;
mod state;
mod suggestions;
mod texts;
mod thread;

// The API: the network trait, its in-memory implementation, the records it returns.
mod network;
#[cfg(feature = "testing")]
pub mod testing;
pub mod views;

pub use command::{Command, Outcome};
pub use decide::{CLOCK_TOLERANCE_MS, Decided};
pub use erasure::Erasure;
pub use error::Error;
pub use event::{EmailPlan, Event, EventBody, Notice, OutcomeWindow, StandingCause};
pub use event_view::{EventRecord, EventView};
pub use ids::{EmailId, FlagId, MemberId, NotificationId, RequestId, Seq};
pub use invitations::{Invitation, MUTUALS_SHOWN};
pub use kinds::{
    Decision, EmailFrequency, EmailKind, EmailStatus, FlagRule, FlagStatus, InvitationSetting, Locale,
    NotificationKind, PreferenceKind, ReportReason, RequestState, SkipReason, Standing,
};
pub use model::Model;
pub use network::{MemoryNetwork, Network};
pub use policy::{MAX_REMINDERS, Policy, ReverseRequest};
pub use records::Party;
pub use suggestions::{Suggestion, SuggestionReason};
pub use text::EmailAddress;
pub use thread::MAX_RECORDS;
pub use time::Timestamp;
pub use views::{Email, Flag, Notification, PublicProfile, Request, Stats};

/// The Rust example of README.md, compiled and run as a doc test so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
