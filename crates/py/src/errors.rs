//! The exception classes of SPEC §8 and the mapping from `connreq_core::Error`.

use connreq_core::Error;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(connreq, ConnreqError, PyException, "The base class of every error connreq raises.");

macro_rules! errors {
    ($($name:ident: $doc:literal),+ $(,)?) => {
        $(
            create_exception!(connreq, $name, ConnreqError, $doc);
        )+

        /// Adds every exception class to the module.
        pub fn add_all(m: &Bound<'_, PyModule>) -> PyResult<()> {
            let py = m.py();
            m.add("ConnreqError", py.get_type::<ConnreqError>())?;
            $(m.add(stringify!($name), py.get_type::<$name>())?;)+
            Ok(())
        }

        /// The Python exception of the class called `name` (a SPEC §8 name, as
        /// a server reports it), carrying `message`.
        pub fn by_name(name: &str, message: String) -> PyErr {
            match name {
                $(stringify!($name) => $name::new_err(message),)+
                _ => ConnreqError::new_err(message),
            }
        }

        /// The Python exception for a core error, carrying its message.
        pub fn to_pyerr(error: Error) -> PyErr {
            let message = error.to_string();
            match error.name() {
                $(stringify!($name) => $name::new_err(message),)+
                _ => ConnreqError::new_err(message),
            }
        }
    };
}

errors!(
    UnknownMember: "The id is not a registered member.",
    MemberExists: "`register` was called twice for one member.",
    SelfRequest: "A member tried to invite themselves.",
    AlreadyConnected: "The two members are already connected.",
    AlreadyPending: "The sender already has an open request to this member.",
    ReversePending: "The recipient already has an open request to the sender (policy `reverse_request=\"error\"`).",
    InvitationNotAllowed: "The recipient does not accept invitations from this sender (the reason is never told).",
    NotAuthorized: "The member may not act on this request.",
    InvalidTransition: "The request is not in a state this command applies to.",
    NotFound: "Nothing has that id.",
    NoteTooLong: "A note or message is longer than the policy allows.",
    InvalidInput: "Input that can never be valid; the message says what was wrong.",
    RateLimited: "The sender reached the weekly invitation limit.",
    CooldownActive: "The last request to this member was withdrawn or declined too recently.",
    AccountRestricted: "The sender's account is restricted by moderation.",
    ConnectionLimit: "A member has reached the policy's connection limit.",
    StorageError: "The database cannot be read or written (damaged, another format version, closed, in use).",
    MailError: "The mail server failed; the unsent emails stay in the outbox for a later dispatch.",
    OutstandingLimit: "The sender has as many open invitations as the policy allows (`max_outstanding`).",
);

/// `InvalidInput` with `message`.
pub fn invalid(message: impl Into<String>) -> PyErr {
    to_pyerr(Error::InvalidInput(message.into()))
}
