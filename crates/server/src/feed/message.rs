//! One event as a JetStream message.
//!
//! - subject `connreq.<network>.events.<kind>`;
//! - `Nats-Msg-Id: <network>:<seq>`, so JetStream drops a message published
//!   twice (after a restart) within its duplicate window;
//! - `Nats-Expected-Last-Sequence: <seq - 1>`, so JetStream refuses a
//!   message whose predecessor is not the stream's last: the stream never
//!   has a gap, whatever was lost in flight when a connection broke, and its
//!   own sequence numbers are the events'. (The stream's last sequence is
//!   part of its stored state; the last message id, which
//!   `Nats-Expected-Last-Msg-Id` compares with, is forgotten by a restarted
//!   server once it falls out of the duplicate window.)
//! - the body: the SPEC §5 record as JSON (the `GET /v1/events` line), for
//!   any consumer;
//! - `Connreq-Event`: the event itself, as the log stores it (postcard,
//!   base64), and `Connreq-Format` naming that format.
//!
//! Why the event travels beside its record: the record is what an analyst
//! reads, and it is lossy. It leaves out what was decided when the event was
//! written and what `evolve` applies without deciding again — each notice's
//! email plan (alone, in a digest, none), outcome windows, standing causes,
//! emails skipped and why, a policy change's whole policy. A replica built
//! from records would have to decide those again, under a policy that may
//! since have changed; built from the events, it applies the primary's own
//! decisions and holds exactly the primary's model.

use crate::wire::EventOut;
use async_nats::HeaderMap;
use async_nats::jetstream::message::PublishMessage;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use connreq_core::{Event, EventRecord};

/// The header carrying the event as the log stores it.
pub const EVENT_HEADER: &str = "Connreq-Event";
/// The header naming the encoding of [`EVENT_HEADER`].
pub const FORMAT_HEADER: &str = "Connreq-Format";
/// The encoding: the store's own (postcard, as in its log records).
pub const FORMAT: &str = connreq_store::FORMAT;
/// JetStream's message id header.
pub const MSG_ID_HEADER: &str = "Nats-Msg-Id";

/// The subject of an event of `kind`.
pub fn subject(network: &str, kind: &str) -> String {
    format!("connreq.{network}.events.{kind}")
}

/// The message id of event `seq`.
pub fn message_id(network: &str, seq: u64) -> String {
    format!("{network}:{seq}")
}

/// The event number a message id names, when it is this network's.
pub fn seq_of_message_id(network: &str, id: &str) -> Option<u64> {
    id.strip_prefix(network)?.strip_prefix(':')?.parse().ok()
}

/// The message for `event`, whose SPEC §5 record is `record`.
pub fn encode(
    network: &str,
    event: &Event,
    record: &EventRecord,
) -> Result<(String, PublishMessage), String> {
    let body = serde_json::to_vec(&EventOut::from(record)).map_err(|e| e.to_string())?;
    let bytes =
        postcard::to_allocvec(event).map_err(|e| format!("cannot encode event {}: {e}", event.seq.0))?;
    let seq = event.seq.0;
    let message = PublishMessage::build()
        .payload(body.into())
        .message_id(message_id(network, seq))
        .expected_last_sequence(seq - 1)
        .header(EVENT_HEADER, STANDARD.encode(bytes).as_str())
        .header(FORMAT_HEADER, FORMAT);
    Ok((subject(network, record.kind), message))
}

/// The event a message carries.
pub fn decode(headers: Option<&HeaderMap>) -> Result<Event, String> {
    let headers = headers.ok_or("a message without headers is not a connreq event")?;
    match headers.get(FORMAT_HEADER).map(|v| v.as_str()) {
        Some(FORMAT) => {}
        Some(other) => {
            return Err(format!(
                "the feed carries events in format {other:?}; this connreq reads {FORMAT:?}"
            ));
        }
        None => return Err("a message without Connreq-Format is not a connreq event".into()),
    }
    let text = headers.get(EVENT_HEADER).ok_or("a message without Connreq-Event")?.as_str();
    let bytes = STANDARD.decode(text).map_err(|e| format!("a damaged Connreq-Event header: {e}"))?;
    postcard::from_bytes(&bytes).map_err(|e| format!("a damaged Connreq-Event header: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use connreq_core::{EventBody, MemberId, Seq, Timestamp};

    #[test]
    fn an_event_reads_back_from_its_message() {
        let event = Event {
            seq: Seq(7),
            at: Timestamp(1_700_000_000_000),
            body: EventBody::MemberUnblocked { blocker: MemberId(1), blocked: MemberId(2) },
        };
        let record = event.record(|_| None);
        let (subject, message) = encode("ab", &event, &record).unwrap();
        assert_eq!(subject, "connreq.ab.events.member_unblocked");
        let outbound = message.outbound_message("x");
        assert_eq!(decode(outbound.headers.as_ref()).unwrap(), event);
        let body: serde_json::Value = serde_json::from_slice(&outbound.payload).unwrap();
        assert_eq!(body["seq"], 7);
        assert_eq!(body["kind"], "member_unblocked");
        let headers = outbound.headers.unwrap();
        assert_eq!(headers.get(MSG_ID_HEADER).unwrap().as_str(), "ab:7");
        assert_eq!(headers.get("Nats-Expected-Last-Sequence").unwrap().as_str(), "6");
        assert_eq!(seq_of_message_id("ab", "ab:7"), Some(7));
        assert_eq!(seq_of_message_id("ab", "cd:7"), None);
    }
}
