//! Identifiers. Each is a distinct newtype so a member id can never be passed
//! where a request id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $label:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($label, " {}"), self.0)
            }
        }

        impl From<u64> for $name {
            fn from(value: u64) -> Self {
                Self(value)
            }
        }
    };
}

id_type!(
    /// A member of the network. Any `u64` the embedding service chooses.
    MemberId,
    "member"
);
id_type!(
    /// A connection request, numbered from 1 in the order they were sent.
    RequestId,
    "request"
);
id_type!(
    /// An in-app notification, numbered from 1.
    NotificationId,
    "notification"
);
id_type!(
    /// A queued email. Every email carries exactly one notification and has its number;
    /// notifications without an email (expiry, members without an address) leave gaps.
    EmailId,
    "email"
);
id_type!(
    /// A moderation flag, numbered from 1.
    FlagId,
    "flag"
);
id_type!(
    /// The sequence number of an event in the log: gapless, starting at 1.
    Seq,
    "event"
);
