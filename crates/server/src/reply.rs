//! `Reply`: an answer as bytes (status, JSON body, `Retry-After`, whether it
//! is a replay), so the writer can store it for an idempotency key and send
//! it again unchanged.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An answer to one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// JSON body (empty for 204).
    pub body: Vec<u8>,
    /// `Retry-After` seconds (429).
    pub retry_after: Option<u64>,
    /// Whether this is the stored answer of an earlier request with the same key.
    pub replayed: bool,
}

impl Reply {
    /// `status` with `value` as its JSON body.
    pub fn json(status: u16, value: &impl Serialize) -> Self {
        // Serializing our own types cannot fail; an empty body would still be an answer.
        let body = serde_json::to_vec(value).unwrap_or_default();
        Self { status, body, retry_after: None, replayed: false }
    }

    /// 204 No Content.
    pub fn no_content() -> Self {
        Self { status: 204, body: Vec::new(), retry_after: None, replayed: false }
    }

    /// The same answer with `Retry-After`.
    pub fn with_retry_after(mut self, seconds: Option<u64>) -> Self {
        self.retry_after = seconds;
        self
    }

    /// Whether the answer is an error that a retry with the same key should
    /// get again (a 4xx; a 5xx is worth trying again).
    pub fn is_final(&self) -> bool {
        self.status < 500
    }

    /// The stored form: status, `Retry-After` (0 for none), body.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(10 + self.body.len());
        out.extend_from_slice(&self.status.to_be_bytes());
        out.extend_from_slice(&self.retry_after.unwrap_or(0).to_be_bytes());
        out.extend_from_slice(&self.body);
        out
    }

    /// Reads the stored form back.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let status = u16::from_be_bytes(bytes.get(..2)?.try_into().ok()?);
        let retry = u64::from_be_bytes(bytes.get(2..10)?.try_into().ok()?);
        Some(Self {
            status,
            body: bytes[10..].to_vec(),
            retry_after: (retry > 0).then_some(retry),
            replayed: false,
        })
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = if self.body.is_empty() {
            status.into_response()
        } else {
            let mut r = (status, self.body).into_response();
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            r
        };
        if let Some(s) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        if self.replayed {
            response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_reads_back_as_stored() {
        let r = Reply::json(429, &serde_json::json!({"a": 1})).with_retry_after(Some(7));
        assert_eq!(Reply::decode(&r.encode()), Some(r));
        let r = Reply::no_content();
        assert_eq!(Reply::decode(&r.encode()), Some(r));
        assert_eq!(Reply::decode(&[1]), None);
    }
}
