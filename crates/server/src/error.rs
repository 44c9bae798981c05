//! Errors on the wire: `{"error": "<SPEC §8 class name>", "message": "..."}`
//! with the HTTP status SPEC §12 gives each class. Storage failures answer 503
//! with a message that holds no internals.

use crate::reply::Reply;
use connreq_core::{Error, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The body of every error answer.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// The SPEC §8 class name, as the Python exception is called (`NotFound`, `InvalidInput`, …).
    pub error: String,
    /// What was wrong, in words a member could read.
    pub message: String,
}

/// An error answer: status, class name, message and, for 429, `Retry-After` seconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// The SPEC §8 class name.
    pub name: &'static str,
    /// The message.
    pub message: String,
    /// Seconds to wait, for 429.
    pub retry_after: Option<u64>,
}

/// The HTTP status of a SPEC §8 error class (SPEC §12).
pub fn status_of(name: &str) -> u16 {
    match name {
        "NotAuthorized" | "InvitationNotAllowed" | "AccountRestricted" => 403,
        "UnknownMember" | "NotFound" => 404,
        "MemberExists" | "AlreadyConnected" | "AlreadyPending" | "ReversePending" | "InvalidTransition"
        | "ConnectionLimit" | "OutstandingLimit" => 409,
        "SelfRequest" | "NoteTooLong" | "InvalidInput" => 422,
        "RateLimited" | "CooldownActive" => 429,
        "MailError" => 502,
        _ => 503,
    }
}

/// Every class name an answer can carry.
const CLASSES: &[&str] = &[
    "UnknownMember",
    "MemberExists",
    "SelfRequest",
    "AlreadyConnected",
    "AlreadyPending",
    "ReversePending",
    "InvitationNotAllowed",
    "NotAuthorized",
    "InvalidTransition",
    "NotFound",
    "NoteTooLong",
    "InvalidInput",
    "RateLimited",
    "CooldownActive",
    "AccountRestricted",
    "ConnectionLimit",
    "OutstandingLimit",
    "StorageError",
    "MailError",
];

/// The class name in an error answer's body (`ConnreqError` when it names none known).
pub fn class_of(body: &[u8]) -> &'static str {
    #[derive(serde::Deserialize)]
    struct Named {
        error: String,
    }
    let name = serde_json::from_slice::<Named>(body).map(|n| n.error).unwrap_or_default();
    CLASSES.iter().find(|c| **c == name).copied().unwrap_or("ConnreqError")
}

impl ApiError {
    /// The answer for a core error of a command dated `at` (for `Retry-After`).
    pub fn from_core(e: &Error, at: Timestamp) -> Self {
        let name = e.name();
        let status = status_of(name);
        let retry_after = match e {
            Error::RateLimited { until, .. } | Error::CooldownActive { until, .. } => {
                Some(u64::try_from((until.0 - at.0 + 999) / 1000).unwrap_or(0).max(1))
            }
            _ => None,
        };
        let message = if status >= 500 {
            // A storage or mail failure is logged with its detail; the caller
            // learns only that the service could not do it.
            tracing::error!(error = %e, "a command failed in storage");
            "the service could not read or write its database; try again later".to_owned()
        } else {
            e.to_string()
        };
        Self { status, name, message, retry_after }
    }

    /// 400: a body or query that cannot be read.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self { status: 400, name: "InvalidInput", message: message.into(), retry_after: None }
    }

    /// 401: no credentials, or credentials that are not valid.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self { status: 401, name: "NotAuthorized", message: message.into(), retry_after: None }
    }

    /// 403: the credentials may not do this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self { status: 403, name: "NotAuthorized", message: message.into(), retry_after: None }
    }

    /// 404 `NotFound`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self { status: 404, name: "NotFound", message: message.into(), retry_after: None }
    }

    /// 413: the body is over the limit.
    pub fn too_large(limit: usize) -> Self {
        Self {
            status: 413,
            name: "InvalidInput",
            message: format!("the request body is larger than {} KiB", limit / 1024),
            retry_after: None,
        }
    }

    /// 422 `InvalidInput`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self { status: 422, name: "InvalidInput", message: message.into(), retry_after: None }
    }

    /// 503: the service is shutting down or its writer is gone.
    pub fn unavailable() -> Self {
        Self {
            status: 503,
            name: "StorageError",
            message: "the service is not taking commands now; try again later".into(),
            retry_after: None,
        }
    }

    /// 503 on a read replica: commands go to the primary, which this names.
    pub fn replica(primary: &str) -> Self {
        let primary = if primary.is_empty() { "its primary (not known yet)" } else { primary };
        Self {
            status: 503,
            name: "StorageError",
            message: format!(
                "this server is a read replica and takes no commands; send them to the primary at {primary}"
            ),
            retry_after: None,
        }
    }

    /// The answer to send.
    pub fn reply(&self) -> Reply {
        let body = ErrorBody { error: self.name.to_owned(), message: self.message.clone() };
        Reply::json(self.status, &body).with_retry_after(self.retry_after)
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError::from_core(&e, crate::time::now())
    }
}

impl axum::response::IntoResponse for ApiError {
    fn into_response(self) -> axum::response::Response {
        self.reply().into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use connreq_core::MemberId;

    #[test]
    fn statuses_follow_spec_section_12() {
        assert_eq!(ApiError::from(Error::UnknownMember(MemberId(1))).status, 404);
        assert_eq!(ApiError::from(Error::SelfRequest).status, 422);
        assert_eq!(ApiError::from(Error::AccountRestricted).status, 403);
        let e = Error::RateLimited { limit: 1, until: Timestamp(10_500) };
        let a = ApiError::from_core(&e, Timestamp(1_000));
        assert_eq!((a.status, a.retry_after), (429, Some(10)));
        let s = ApiError::from(Error::StorageError("sled: Io(/secret/path)".into()));
        assert_eq!(s.status, 503);
        assert!(!s.message.contains("secret"));
    }
}
