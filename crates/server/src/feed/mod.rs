//! The event feed on NATS JetStream: a primary publishes its log
//! (`--publish`), read replicas rebuild the model from it (`--replica-of`).
//!
//! * [`message`]: one event as a JetStream message — subject, message id,
//!   the SPEC §5 record as the body, the event itself in a header.
//! * [`publish`]: the primary's publisher, a task that reads the durable log.
//! * [`follow`]: a replica's follower, which applies what the stream holds.
//! * [`status`]: what a replica knows of its lag, for `/healthz`.
//!
//! Everything a network's feed uses is named after the network id (the
//! database id in hex): the stream `CONNREQ_<id>` with the subjects
//! `connreq.<id>.events.<kind>`, and the stream `CONNREQ_<id>_META` keeping
//! the last message of each of its subjects: `connreq.<id>.meta.policy`,
//! what a replica needs before the first event (the creation policy), and
//! `connreq.<id>.meta.primary`, where commands go. (A stream rather than a
//! key-value bucket, which is the same thing underneath: the bucket API of
//! the client needs a newer server than Debian's.)

pub mod follow;
pub mod message;
pub mod publish;
pub mod status;

use std::time::Duration;

/// The network id of a database id: its 16 bytes in lowercase hex.
pub fn network_id(database_id: &[u8; 16]) -> String {
    database_id.iter().map(|b| format!("{b:02x}")).collect()
}

/// The database id a network id names, if it is 32 hex digits.
pub fn database_id(network: &str) -> Option<[u8; 16]> {
    if network.len() != 32 || !network.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut id = [0u8; 16];
    for (i, byte) in id.iter_mut().enumerate() {
        *byte = u8::from_str_radix(network.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(id)
}

/// The stream holding a network's events.
pub fn stream_name(network: &str) -> String {
    format!("CONNREQ_{network}")
}

/// The subjects of a network's events (`connreq.<id>.events.<kind>`).
pub fn subjects(network: &str) -> String {
    format!("connreq.{network}.events.>")
}

/// The stream of a network's metadata.
pub fn meta_stream(network: &str) -> String {
    format!("CONNREQ_{network}_META")
}

/// The subject of one piece of a network's metadata.
pub fn meta_subject(network: &str, key: &str) -> String {
    format!("connreq.{network}.meta.{key}")
}

/// The creation policy (JSON), in the metadata.
pub const POLICY_KEY: &str = "policy";
/// The primary's address (the URL commands go to), in the metadata.
pub const PRIMARY_KEY: &str = "primary";

/// How long JetStream remembers message ids to drop a duplicate.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// The first wait after a failure to reach NATS; it doubles up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_millis(50);
/// The longest wait between two attempts to reach NATS.
pub const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Connects to the NATS server at `url`, giving up on this attempt after a
/// short while (the caller retries with back-off).
pub async fn connect(url: &str) -> Result<async_nats::Client, String> {
    async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(2))
        .request_timeout(Some(Duration::from_secs(5)))
        .connect(url)
        .await
        .map_err(|e| format!("cannot reach NATS at {url}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_ids_read_back() {
        let id = [0xab; 16];
        let network = network_id(&id);
        assert_eq!(network.len(), 32);
        assert_eq!(database_id(&network), Some(id));
        assert_eq!(database_id("xyz"), None);
        assert_eq!(database_id(&"g".repeat(32)), None);
    }
}
